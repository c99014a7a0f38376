"""The parameters of ``icp run`` checked before any kernel starts: quarters, notebooks, folders.

:func:`check_run` collects every problem into one :class:`RunError`;
:func:`drift_pairs` says which quarters the drift notebook compares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..data.config import NOTEBOOK_ORDER, NOTEBOOKS_DIR, REPORTS_DIR

__all__ = [
    "DRIFT_NOTEBOOK",
    "RunError",
    "RunLocked",
    "RunPlan",
    "check_run",
    "drift_pairs",
]

#: The notebook that compares two quarters' run folders.
DRIFT_NOTEBOOK = "06_quarter_drift"
_DRIFT_CHOICES = ("pairs", "ends", "none")


class RunError(ValueError):
    """Run parameters that cannot work; raised before any kernel starts."""


class RunLocked(RunError):
    """Another process is running the same quarter into the same reports folder."""


@dataclass
class RunPlan:
    """Checked parameters of ``icp run``: what will run, where."""

    config_path: Path
    quarters: list[str]
    notebooks: tuple[str, ...]
    notebooks_dir: Path
    reports_dir: Path
    workers: int = 1
    drift: str = "pairs"
    incomplete: list[str] = field(default_factory=list)


def check_run(
    config_path: str | Path | None,
    *,
    quarters: list[str] | tuple[str, ...] | str | None = None,
    notebooks: tuple[str, ...] | list[str] = NOTEBOOK_ORDER,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    reports_dir: str | Path | None = None,
    workers: int = 1,
    drift: str = "pairs",
    allow_incomplete: bool = False,
    option: str = "--quarter",
) -> RunPlan:
    """Check every run parameter before any kernel starts.

    Parameters
    ----------
    config_path : str or Path, optional
        The project config; ``None`` means the sample's ``icp.yml``.
    quarters : str or list of str, optional
        Quarters (``2026Q3``) or inclusive ranges (``2025Q1:2026Q3``);
        ``None`` means the latest complete quarter in the deals.
    notebooks, notebooks_dir
        The notebooks of one quarter's run and their folder.
    reports_dir : str or Path, optional
        Where run folders go; defaults to the config's reports folder.
    workers : int
        Quarters run in parallel.
    drift : {"pairs", "ends", "none"}
        Drift between consecutive quarters, between the first and the last, or none.
    allow_incomplete : bool
        Accept the quarter of the last closed deal when the data does not reach
        its final month (the run is marked incomplete).
    option : str
        The command-line option the quarters came from, named in messages.

    Raises
    ------
    RunError
        One message listing every problem found.
    """
    from ..data.config import ConfigError, load_config, resolve_config_path

    problems: list[str] = []
    config_file = resolve_config_path(config_path)
    config = None
    if not config_file.is_file():
        problems.append(f"--config: config file not found: {config_file}")
    else:
        try:
            config = load_config(config_file)
        except ConfigError as exc:
            problems.append(f"--config: {exc}")

    from ..data.quarter_checks import check_quarters

    specs = [quarters] if isinstance(quarters, str) else list(quarters or [])
    checked = check_quarters(config, specs, option=option, allow_incomplete=allow_incomplete)
    problems += checked.problems
    resolved = checked.quarters

    folder = Path(notebooks_dir).expanduser().resolve()
    if not folder.is_dir():
        problems.append(f"--notebooks-dir: folder not found: {folder}")
    else:
        wanted = list(notebooks)
        if len(resolved) > 1 and drift != "none":
            wanted.append(DRIFT_NOTEBOOK)
        for name in wanted:
            if not (folder / f"{name}.ipynb").is_file():
                problems.append(f"notebook not found: {folder / f'{name}.ipynb'}")
    if drift not in _DRIFT_CHOICES:
        problems.append(f"--drift: {drift!r} is not one of {', '.join(_DRIFT_CHOICES)}")
    if workers < 1:
        problems.append(f"--workers: must be at least 1 (got {workers})")

    if reports_dir is not None:
        reports = Path(reports_dir).expanduser().resolve()
    elif config is not None:
        reports = config.reports_path
    else:
        reports = REPORTS_DIR
    if not reports.is_dir() and not reports.parent.is_dir():
        where = "--reports-dir" if reports_dir is not None else f"reports_dir in {config_file}"
        problems.append(f"{where}: parent folder not found: {reports.parent}")
    if problems:
        raise RunError("\n".join(problems))
    return RunPlan(
        config_path=config_file,
        quarters=resolved,
        notebooks=tuple(notebooks),
        notebooks_dir=folder,
        reports_dir=reports,
        workers=int(workers),
        drift=drift,
        incomplete=checked.incomplete,
    )


def drift_pairs(quarters: list[str], *, mode: str = "pairs") -> list[tuple[str, str]]:
    """Which quarters to compare: consecutive ``pairs``, the two ``ends``, or ``none``."""
    ordered = sorted(quarters)
    if mode == "none" or len(ordered) < 2:
        return []
    if mode == "ends":
        return [(ordered[0], ordered[-1])]
    if mode == "pairs":
        return list(zip(ordered[:-1], ordered[1:], strict=True))
    raise ValueError(f"drift mode {mode!r} is not one of {', '.join(_DRIFT_CHOICES)}")
