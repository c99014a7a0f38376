"""A loaded table and what both the loaders and the table cache need to name one.

:class:`LoadedTable` is what :func:`~icp_helpers.data.loaders.load_table`
returns and the table cache stores; presets and display paths enter each cache
key. Kept apart from the loaders so the cache does not import them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import PRESETS_DIR, ConfigError, ProjectConfig
from .limits import YamlError, load_yaml

__all__ = ["LoadedTable"]


@functools.cache
def _preset(name_or_path: str) -> dict:
    path = Path(name_or_path)
    if path.suffix.lower() not in (".yml", ".yaml"):
        path = PRESETS_DIR / f"{name_or_path}.yml"
    if not path.is_file():
        raise ConfigError(f"preset {name_or_path!r}: file not found ({path})")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), source=f"preset {path}") or {}
    except YamlError as exc:
        raise ConfigError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"preset {path}: cannot be read ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict):
        raise ConfigError(f"preset {path}: expected `tables:` with a section per table")
    return data


@dataclass
class LoadedTable:
    """One canonical table after loading.

    Attributes
    ----------
    frame : DataFrame
        The usable rows, canonical columns parsed, extra columns kept.
    quarantine : DataFrame
        Rows set aside: ``source_file``, ``source_row``, ``reason`` and the
        raw values under the file's own column names.
    summary : dict
        ``table``, ``files``, ``formats``, ``rows_read``, ``rows_used``,
        ``rows_quarantined``, ``rows_out`` (rows in ``frame``; fewer than
        ``rows_used`` when ``distinct`` or ``lines`` merge rows),
        ``reconciled``, ``filled_defaults`` (column -> rows filled),
        ``reasons`` (reason -> rows) and ``warnings``.
    """

    frame: pd.DataFrame
    quarantine: pd.DataFrame
    summary: dict


def _display(config: ProjectConfig, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(config.data_path))
    except ValueError:
        return str(path)

