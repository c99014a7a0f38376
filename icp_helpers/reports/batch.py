"""Many quarters in one ``icp run``: each on its own, then drift between them, then the index.

Quarters run one after another or in worker processes; a failing quarter does
not stop the others.

:func:`run_drift` runs the drift notebook for two published quarters and
publishes its folder like a quarter's.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.config import NOTEBOOK_ORDER, NOTEBOOKS_DIR
from .execution import _execute
from .index_pages import write_batch_index
from .progress import _Progress
from .publish import _claim, _replace_dir, verify_run_dir
from .quarter_run import QuarterResult, run_quarter
from .run_plan import DRIFT_NOTEBOOK, check_run, drift_pairs

__all__ = [
    "DriftResult",
    "BatchResult",
    "published_drift_pairs",
    "run_drift",
    "run_batch",
]

@dataclass
class DriftResult:
    """The outcome of one drift comparison between two quarters."""

    from_quarter: str
    to_quarter: str
    status: str
    out_dir: Path
    html_path: Path | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class BatchResult:
    """Every quarter and drift comparison of one ``icp run``, and the batch index."""

    quarters: list[QuarterResult]
    drift: list[DriftResult]
    index_path: Path

    @property
    def ok(self) -> bool:
        return all(q.ok for q in self.quarters) and all(d.ok for d in self.drift)

    def failures(self) -> list[str]:
        """One line per failed quarter or drift comparison."""
        lines = [q.describe_failure() for q in self.quarters if not q.ok]
        lines += [
            f"drift {d.from_quarter}->{d.to_quarter}: {d.error} (output kept in {d.out_dir})"
            for d in self.drift
            if not d.ok
        ]
        return lines


_DRIFT_DIR_RE = re.compile(r"^(\d{4}Q[1-4])_(\d{4}Q[1-4])$")


def published_drift_pairs(reports_dir: str | Path) -> list[tuple[str, str]]:
    """The quarter pairs of the drift reports published under ``<reports>/drift/``."""
    root = Path(reports_dir) / "drift"
    pairs = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        match = _DRIFT_DIR_RE.match(folder.name)
        if folder.is_dir() and match:
            pairs.append((match.group(1), match.group(2)))
    return pairs


def run_drift(
    config_path: str | Path,
    from_quarter: str,
    to_quarter: str,
    *,
    reports_dir: str | Path | None = None,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    notebook: str = DRIFT_NOTEBOOK,
    html: bool = True,
    timeout: float | None = None,
) -> DriftResult:
    """Run the drift notebook for two quarters into ``<reports>/drift/<from>_<to>/``.

    Like :func:`run_quarter`, output is written beside the target and moved into
    place when the notebook finished, or kept as ``<from>_<to>.failed/``.
    """
    from ..data.config import load_config

    config = load_config(config_path)
    if timeout is None:
        timeout = config.limits.cell_timeout_s
    reports = Path(reports_dir).resolve() if reports_dir else config.reports_path
    name = f"{from_quarter}_{to_quarter}"
    target = reports / "drift" / name
    partial = target.with_name(f".{name}.partial")
    failed_dir = target.with_name(f"{name}.failed")
    partial.parent.mkdir(parents=True, exist_ok=True)
    _claim(partial)
    params = {
        "config_path": str(config.source),
        "from_quarter": from_quarter,
        "to_quarter": to_quarter,
        "reports_dir": str(reports),
        "out_dir": str(partial),
    }
    source = Path(notebooks_dir) / f"{notebook}.ipynb"
    try:
        result = _execute(
            source,
            partial / f"{notebook}.ipynb",
            params,
            html=html,
            raise_on_error=False,
            timeout=timeout,
        )
        problems = verify_run_dir(partial, [result], expected={}, html=html)
    except Exception as exc:
        result, problems = None, [f"{type(exc).__name__}: {exc}"]
    final = failed_dir if problems else target
    _replace_dir(partial, final)
    if not problems and failed_dir.exists():
        shutil.rmtree(failed_dir)
    html_path = final / f"{notebook}.html" if result is not None and html else None
    return DriftResult(
        from_quarter=from_quarter,
        to_quarter=to_quarter,
        status="failed" if problems else "ok",
        out_dir=final,
        html_path=html_path if html_path is not None and html_path.is_file() else None,
        error="; ".join(problems) or None,
    )


def _quarter_job(kwargs: dict[str, Any], queue) -> QuarterResult:
    """Worker-process entry: run one quarter, reporting progress through ``queue``."""

    def on_event(*event) -> None:
        queue.put(event)

    return run_quarter(**kwargs, on_event=on_event)


def run_batch(
    config_path: str | Path | None,
    quarters: list[str] | tuple[str, ...] | str | None = None,
    *,
    workers: int = 1,
    notebooks: tuple[str, ...] | list[str] = NOTEBOOK_ORDER,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    reports_dir: str | Path | None = None,
    expected: dict[str, tuple[str, ...]] | None = None,
    drift: str = "pairs",
    html: bool = True,
    timeout: float | None = None,
    console=None,
    allow_incomplete: bool = False,
    option: str = "--quarter",
) -> BatchResult:
    """Run every quarter independently, then drift between them, then the batch index.

    Parameters are checked first (:func:`check_run` raises :class:`RunError`
    before any kernel starts). Quarters run one after another, or with
    ``workers > 1`` in that many processes; a failing quarter does not stop the
    others. Drift runs for the quarter pairs chosen by ``drift``
    (:func:`drift_pairs`) whose quarters both succeeded, and the drift reports
    already published that involve a quarter just rerun are run again, so they
    never compare against a replaced report.

    Parameters
    ----------
    config_path : str or Path, optional
        The project config (``None``: the sample's ``icp.yml``).
    quarters : str or list of str, optional
        Quarters or ranges (``2025Q1:2026Q3``); ``None``: the latest complete quarter.
    workers : int
        Processes running quarters in parallel.
    notebooks, notebooks_dir, reports_dir, expected, html, timeout
        As for :func:`run_quarter`.
    drift : {"pairs", "ends", "none"}
        Which quarters to compare when more than one ran.
    console : rich.console.Console, optional
        Where to show progress; ``None`` shows none.
    allow_incomplete, option
        As for :func:`check_run`.

    Returns
    -------
    BatchResult
    """
    plan = check_run(
        config_path,
        quarters=quarters,
        notebooks=notebooks,
        notebooks_dir=notebooks_dir,
        reports_dir=reports_dir,
        workers=workers,
        drift=drift,
        allow_incomplete=allow_incomplete,
        option=option,
    )
    jobs = {
        q: dict(
            config_path=str(plan.config_path),
            quarter=q,
            notebooks=plan.notebooks,
            notebooks_dir=str(plan.notebooks_dir),
            reports_dir=str(plan.reports_dir),
            expected=expected,
            html=html,
            timeout=timeout,
            incomplete=q in plan.incomplete,
        )
        for q in plan.quarters
    }
    with _Progress(console, plan) as progress:
        if plan.workers == 1 or len(jobs) == 1:
            results = [run_quarter(**kw, on_event=progress.event) for kw in jobs.values()]
        else:
            results = _run_parallel(jobs, plan.workers, progress)
        ok = [r.quarter for r in results if r.ok]
        drifts = []

        def drift(a: str, b: str):
            return run_drift(
                plan.config_path, a, b, reports_dir=plan.reports_dir,
                notebooks_dir=plan.notebooks_dir, html=html, timeout=timeout,
            )

        for a, b in drift_pairs(plan.quarters, mode=plan.drift):
            if a in ok and b in ok:
                progress.event("start", "drift", f"{a}->{b}", None)
                drifts.append(drift(a, b))
                progress.event("end", "drift", f"{a}->{b}", drifts[-1].status)
        # a rerun quarter makes the published drift reports that involve it stale
        done = {(d.from_quarter, d.to_quarter) for d in drifts}
        for a, b in published_drift_pairs(plan.reports_dir):
            fresh = a in ok or b in ok
            both = (plan.reports_dir / a).is_dir() and (plan.reports_dir / b).is_dir()
            drift_notebook = plan.notebooks_dir / f"{DRIFT_NOTEBOOK}.ipynb"
            if (a, b) in done or not fresh or not both or not drift_notebook.is_file():
                continue
            drifts.append(drift(a, b))
    index = write_batch_index(plan.reports_dir)
    return BatchResult(quarters=results, drift=drifts, index_path=index)


def _run_parallel(jobs: dict[str, dict], workers: int, progress: _Progress) -> list[QuarterResult]:
    """Quarters in worker processes (spawned: no forked kernels or locks)."""
    import multiprocessing
    import queue as queue_module
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    results: dict[str, QuarterResult] = {}
    with context.Manager() as manager:
        events = manager.Queue()
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            pending = {pool.submit(_quarter_job, kw, events): q for q, kw in jobs.items()}
            while pending:
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                while True:
                    try:
                        progress.event(*events.get_nowait())
                    except queue_module.Empty:
                        break
                for future in done:
                    quarter = pending.pop(future)
                    try:
                        results[quarter] = future.result()
                    except Exception as exc:  # the worker itself broke
                        results[quarter] = QuarterResult(
                            quarter=quarter,
                            status="failed",
                            run_dir=Path(jobs[quarter]["reports_dir"]) / f"{quarter}.failed",
                            error=f"{type(exc).__name__}: {exc}",
                        )
    return [results[q] for q in jobs]
