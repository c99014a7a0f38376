"""The run folder: resolving a notebook's parameters and reading/writing artifacts.

Notebooks hand results to each other only through files in the run folder
(``docs/architecture.md`` lists them), so each notebook can be rerun alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import ProjectConfig, load_config
from .quarters import Quarter

__all__ = [
    "LAB_DIR",
    "Run",
    "lab_dir_for",
    "MissingArtifactError",
    "resolve_run",
    "write_table",
    "read_table",
    "write_json",
    "read_json",
]


class MissingArtifactError(FileNotFoundError):
    """An artifact a notebook needs has not been written by the step that makes it."""


@dataclass(frozen=True)
class Run:
    """What one notebook run works on: the config, the quarter and the run folder."""

    config: ProjectConfig
    quarter: Quarter
    run_dir: Path

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Half-open analysis window ending with the quarter."""
        return self.quarter.window(self.config.analysis.lookback_quarters)


def resolve_run(
    config_path: str = "", quarter: str = "", run_dir: str = "", *, notebook: str | None = None
) -> Run:
    """Turn a notebook's literal parameters into a :class:`Run`.

    Parameters
    ----------
    config_path : str
        Project config; ``""`` means the sample's ``icp.yml``.
    quarter : str
        ``YYYYQn``; ``""`` means the latest complete quarter in the deals.
    run_dir : str
        Output folder; ``""`` (a notebook opened in JupyterLab, or papermill
        without ``run_dir``) means the lab folder ``<reports>/lab/<quarter>/``,
        so exploring never overwrites the published ``<reports>/<quarter>/``
        that ``icp run`` writes (it always passes ``run_dir``).
    notebook : str, optional
        The calling notebook: a config without the input tables it needs
        (:data:`icp_helpers.data.config.NOTEBOOK_INPUTS`) stops here, with the
        tables named, before anything is read.
    """
    config = load_config(config_path or None)
    if notebook:
        config.require(notebook)
    if quarter:
        resolved = Quarter.parse(quarter)
    else:
        from .loaders import latest_quarter  # local import: loaders is heavy

        resolved = latest_quarter(config)
    folder = Path(run_dir).resolve() if run_dir else lab_dir_for(config, str(resolved))
    folder.mkdir(parents=True, exist_ok=True)
    return Run(config=config, quarter=resolved, run_dir=folder)


#: Sub-folder of the reports folder where runs from JupyterLab go.
LAB_DIR = "lab"


def lab_dir_for(config: ProjectConfig, quarter: str) -> Path:
    """``<reports>/lab/<quarter>/``: the scratch run folder of notebooks run by hand."""
    return config.reports_path / LAB_DIR / str(quarter)


def _path(run_dir: str | Path, name: str) -> Path:
    return Path(run_dir) / name


def write_table(frame: pd.DataFrame, run_dir: str | Path, name: str) -> Path:
    """Write ``frame`` as ``<run_dir>/<name>`` (Parquet) and return the path."""
    path = _path(run_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


def read_table(run_dir: str | Path, name: str, *, made_by: str = "an earlier notebook") -> pd.DataFrame:
    """Read a Parquet artifact, naming the notebook to run first when it is missing."""
    path = _path(run_dir, name)
    if not path.is_file():
        raise MissingArtifactError(f"{path} not found: run {made_by} for this quarter first")
    return pd.read_parquet(path)


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path | Quarter):
        return str(value)
    return value


def write_json(data: Any, run_dir: str | Path, name: str) -> Path:
    """Write ``data`` as stable, sorted JSON (NumPy scalars and NaN handled)."""
    path = _path(run_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(_to_jsonable(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return path


def read_json(run_dir: str | Path, name: str, *, made_by: str = "an earlier notebook") -> Any:
    """Read a JSON artifact, naming the notebook to run first when it is missing."""
    path = _path(run_dir, name)
    if not path.is_file():
        raise MissingArtifactError(f"{path} not found: run {made_by} for this quarter first")
    return json.loads(path.read_text(encoding="utf-8"))
