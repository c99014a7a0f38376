"""One quarter's run: its notebooks into a temporary folder, provenance, then publish.

:func:`run_quarter` holds the quarter's lock, runs the notebooks that apply to
the config's inputs, writes ``run.json`` (parameters, input hashes, package
versions, timings) and the quarter's index, and moves the folder into place
only when :func:`verify_run_dir` finds it complete.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.config import NOTEBOOK_ORDER, NOTEBOOKS_DIR
from ..data.table_cache import file_sha256
from .execution import KERNEL_NAME, NotebookResult, _now, execute_notebook
from .index_pages import write_quarter_index
from .publish import _claim, _replace_dir, quarter_lock, restore_published, verify_run_dir
from .run_plan import RunError, RunLocked

__all__ = [
    "RECORDED_PACKAGES",
    "VOLATILE_RUN_KEYS",
    "QuarterResult",
    "input_hashes",
    "package_versions",
    "run_quarter",
]

#: Packages whose versions ``run.json`` records.
RECORDED_PACKAGES = (
    "icp-helpers",
    "pandas",
    "numpy",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "ibis-framework",
    "duckdb",
    "pyarrow",
    "pandera",
    "pydantic",
    "kmodes",
    "openpyxl",
    "jinja2",
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "jupyter_client",
)


#: ``run.json`` keys (top level and per notebook) that change from run to run
#: with the same inputs: clocks and durations.
VOLATILE_RUN_KEYS = frozenset(
    {
        "started_at",
        "finished_at",
        "duration_s",
        "kernel_start_s",
        "execution_s",
        "render_s",
    }
)


@dataclass
class QuarterResult:
    """The outcome of one quarter: where its folder ended up and how each notebook went."""

    quarter: str
    status: str
    run_dir: Path
    notebooks: list[NotebookResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0
    not_applicable: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe_failure(self) -> str:
        """One line naming the quarter, the failing notebook and its error."""
        failed = [nb for nb in self.notebooks if not nb.ok]
        where = f"{failed[0].name}: {failed[0].error}" if failed else (self.error or "failed")
        return f"{self.quarter}: {where} (output kept in {self.run_dir})"


def input_hashes(config) -> dict[str, dict[str, str]]:
    """SHA-256 of every input a run reads: the config, each table's files, transcripts, templates.

    Returns ``{group: {path relative to the config's folder: digest}}``;
    equal hashes mean a rerun read the same bytes.
    """
    base = config.base_dir

    def rel(path: Path) -> str:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            return path.resolve().as_posix()

    def files(path: Path) -> list[Path]:
        if path.is_dir():
            return sorted(p for p in path.rglob("*") if p.is_file())
        return [path] if path.is_file() else []

    out: dict[str, dict[str, str]] = {}
    if config.source:
        out["config"] = {rel(Path(config.source)): file_sha256(config.source)}
    for table in sorted(config.inputs):
        digests = {rel(f): file_sha256(f) for p in config.input_paths(table) for f in files(p)}
        if digests:
            out[table] = digests
    transcripts = config.transcripts_path()
    if transcripts is not None:
        out["transcripts"] = {rel(f): file_sha256(f) for f in files(transcripts)}
    templates = {}
    for kind in ("card_html", "card_markdown"):
        template = config.template_path(kind)
        if template is not None and template.is_file():
            templates[rel(template)] = file_sha256(template)
    if templates:
        out["templates"] = templates
    return out


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` for a package that is not installed)."""
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _environment() -> dict[str, Any]:
    import platform

    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "kernel": KERNEL_NAME,
        "packages": package_versions(),
    }


def run_quarter(
    config_path: str | Path,
    quarter: str,
    *,
    notebooks: tuple[str, ...] | list[str] = NOTEBOOK_ORDER,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    reports_dir: str | Path | None = None,
    expected: dict[str, tuple[str, ...]] | None = None,
    html: bool = True,
    timeout: float | None = None,
    on_event: Callable[..., None] | None = None,
    incomplete: bool = False,
) -> QuarterResult:
    """Run one quarter's notebooks into a temporary folder and move it into place.

    The notebooks write into ``<reports>/.<quarter>.partial/``. Only when every
    notebook finished and :func:`verify_run_dir` finds nothing missing does the
    folder replace ``<reports>/<quarter>/``; otherwise it becomes
    ``<reports>/<quarter>.failed/`` and the previous good report stays as it was.
    Either way the folder holds ``run.json`` and ``index.html``.

    Parameters
    ----------
    config_path : str or Path
        The project config.
    quarter : str
        ``YYYYQn``.
    notebooks, notebooks_dir
        Notebook names in run order and their folder; a failing notebook stops
        the quarter (later ones would read its missing artifacts).
    reports_dir : str or Path, optional
        Defaults to the config's reports folder.
    expected : dict, optional
        Artifacts per notebook; defaults to :data:`EXPECTED_ARTIFACTS`.
    html : bool
        Render each executed notebook to HTML.
    timeout : float, optional
        Seconds one cell may run; default ``limits.cell_timeout_s`` of the config.
    on_event : callable, optional
        Called as ``on_event(event, quarter, notebook, status)`` with ``event``
        ``"start"`` or ``"end"``, for progress displays.
    incomplete : bool
        The data does not cover the quarter to its end (``--allow-incomplete``):
        recorded in ``run.json`` and shown on the indexes.
    """
    from ..data.config import load_config
    from ..data.quarters import Quarter

    quarter = str(Quarter.parse(quarter))
    config = load_config(config_path)
    if timeout is None:
        timeout = config.limits.cell_timeout_s
    reports = Path(reports_dir).resolve() if reports_dir else config.reports_path
    target = reports / quarter
    partial = reports / f".{quarter}.partial"
    failed_dir = reports / f"{quarter}.failed"
    try:
        reports.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"{reports}: the reports folder cannot be created ({exc.strerror})") from None
    if not os.access(reports, os.W_OK | os.X_OK):
        raise RunError(
            f"{reports}: the reports folder is not writable; choose another with reports_dir "
            "in the config or --reports-dir"
        )
    lock = quarter_lock(reports, quarter)
    from filelock import Timeout

    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunLocked(
            f"{quarter} is being run by another process into {reports} (lock {lock.lock_file}); "
            "wait for it to finish, then run again"
        ) from None
    try:
        return _run_quarter_locked(
            config,
            quarter,
            notebooks=notebooks,
            notebooks_dir=notebooks_dir,
            reports=reports,
            target=target,
            partial=partial,
            failed_dir=failed_dir,
            expected=expected,
            html=html,
            timeout=timeout,
            incomplete=incomplete,
            on_event=on_event,
        )
    finally:
        lock.release()


def _run_quarter_locked(
    config,
    quarter: str,
    *,
    notebooks,
    notebooks_dir,
    reports: Path,
    target: Path,
    partial: Path,
    failed_dir: Path,
    expected,
    html: bool,
    timeout: float | None,
    incomplete: bool,
    on_event,
) -> QuarterResult:
    """:func:`run_quarter` once the quarter's lock is held."""
    recovered = restore_published(reports, [quarter])
    _claim(partial)

    started_at = _now()
    t0 = time.perf_counter()
    not_applicable = {
        name: missing for name in notebooks if (missing := config.describe_missing(name))
    }
    requested = list(notebooks)
    notebooks = tuple(n for n in notebooks if n not in not_applicable)
    results: list[NotebookResult] = []
    skipped: list[str] = []
    error: str | None = None
    if not notebooks:
        error = "no notebook applies to this config's inputs: " + "; ".join(
            f"{n} {why}" for n, why in not_applicable.items()
        )
    for position, name in enumerate(notebooks):
        if on_event:
            on_event("start", quarter, name, None)
        try:
            result = execute_notebook(
                name,
                config_path=str(config.source),
                quarter=quarter,
                run_dir=str(partial),
                html=html,
                notebooks_dir=notebooks_dir,
                raise_on_error=False,
                timeout=timeout,
            )
        except Exception as exc:  # the kernel could not start, or no notebook was saved
            error = f"{name}: {type(exc).__name__}: {exc}"
            skipped = list(notebooks[position + 1 :])
            if on_event:
                on_event("end", quarter, name, "failed")
            break
        results.append(result)
        if on_event:
            on_event("end", quarter, name, result.status)
        if not result.ok:
            skipped = list(notebooks[position + 1 :])
            break

    problems = verify_run_dir(partial, results, expected=expected, html=html)
    if error:
        problems.insert(0, error)
    status = "ok" if not problems and not skipped and len(results) == len(notebooks) else "failed"
    final = target if status == "ok" else failed_dir
    record = {
        "quarter": quarter,
        "status": status,
        "incomplete": bool(incomplete),
        "problems": problems,
        "parameters": {
            "config_path": str(config.source),
            "quarter": quarter,
            "run_dir": str(target),
            "notebooks_dir": str(Path(notebooks_dir).resolve()),
            "notebooks": requested,
        },
        "output_dir": str(final),
        "inputs": input_hashes(config),
        "environment": _environment(),
        "notebooks": [_notebook_record(r) for r in results],
        "skipped": skipped,
        "not_applicable": not_applicable,
        "recovered": recovered,
        "started_at": started_at,
        "finished_at": _now(),
        "duration_s": round(time.perf_counter() - t0, 3),
    }
    from ..data.artifacts import write_json

    write_json(record, partial, "run.json")
    write_quarter_index(partial, record)

    if status == "ok":
        _replace_dir(partial, target)
        if failed_dir.exists():
            shutil.rmtree(failed_dir)  # a stale failure of an older attempt
    else:
        _replace_dir(partial, failed_dir)
    return QuarterResult(
        quarter=quarter,
        status=status,
        run_dir=final,
        notebooks=[_relocated(r, partial, final) for r in results],
        skipped=skipped,
        error="; ".join(problems) or None,
        duration_s=record["duration_s"],
        not_applicable=not_applicable,
    )


def _notebook_record(result: NotebookResult) -> dict[str, Any]:
    """A notebook's entry in ``run.json``: file names, not temporary paths."""
    data = result.to_dict()
    data["notebook"] = Path(result.notebook_path).name
    data["html"] = Path(result.html_path).name if result.html_path else None
    for key in ("notebook_path", "html_path", "parameters"):
        data.pop(key, None)
    return data


def _relocated(result: NotebookResult, old: Path, new: Path) -> NotebookResult:
    """The result with paths pointing into the folder's final place."""

    def move(path: Path | None) -> Path | None:
        if path is None:
            return None
        try:
            return new / Path(path).relative_to(old)
        except ValueError:
            return Path(path)

    result.notebook_path = move(result.notebook_path)
    result.html_path = move(result.html_path)
    return result
