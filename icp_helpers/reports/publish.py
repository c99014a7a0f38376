"""Atomic publishing of a run folder: written beside its target, checked, then moved into place.

A run writes into ``.<name>.partial/`` (claimed with the writing process's
id), :func:`verify_run_dir` lists what is missing or unreadable, and
:func:`_replace_dir` swaps the folder in while the previous one stays as
``.<name>.previous`` until the move succeeded. :func:`quarter_lock` keeps two
runs of one quarter apart; :func:`restore_published` finishes a publish that a
killed process left halfway.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .execution import NotebookResult
from .run_plan import RunError

__all__ = [
    "EXPECTED_ARTIFACTS",
    "verify_run_dir",
    "quarter_lock",
    "restore_published",
]

#: What each notebook must leave in the run folder before a quarter counts as
#: complete (``docs/architecture.md``); the executed ``.ipynb`` and ``.html``
#: are checked for every notebook besides these.
EXPECTED_ARTIFACTS: dict[str, tuple[str, ...]] = {
    "01_best_customers": (
        "features.parquet",
        "best_customers.parquet",
        "shortlist.parquet",
        "groups.parquet",
        "step1.json",
    ),
    "02_interview_coding": ("step2.json",),
    "03_select_traits": ("evidence.parquet", "selection.json", "held_out_tiers.parquet"),
    "04_icp_template": ("icp_card.html", "personas.json", "scored_accounts.csv"),
    "05_lead_scoring": ("step5.json",),
}


def verify_run_dir(
    run_dir: str | Path,
    results: list[NotebookResult],
    *,
    expected: dict[str, tuple[str, ...]] | None = None,
    html: bool = True,
) -> list[str]:
    """Problems that make a run folder incomplete; empty when it is complete.

    Checks that every notebook finished ok and left its executed copy, its HTML
    and its expected artifacts (non-empty), and that every Parquet and JSON file
    in the folder reads back, so no truncated output is reported as success.
    """
    import json

    import pyarrow.parquet as pq

    folder = Path(run_dir)
    expected = EXPECTED_ARTIFACTS if expected is None else expected
    problems = [f"{r.name} did not finish: {r.error}" for r in results if not r.ok]
    for result in results:
        needed = [f"{result.name}.ipynb", *([f"{result.name}.html"] if html else [])]
        needed += list(expected.get(result.name, ()))
        for name in needed:
            path = folder / name
            if not path.is_file() or path.stat().st_size == 0:
                problems.append(f"{result.name} did not write {name}")
    for path in sorted(folder.rglob("*.parquet")):
        try:
            pq.read_metadata(path)
        except Exception as exc:
            problems.append(f"{path.relative_to(folder)} is not readable Parquet: {exc}")
    for path in sorted(folder.rglob("*.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{path.relative_to(folder)} is not readable JSON: {exc}")
    return problems


def _claim(partial: Path) -> None:
    """Start a fresh temporary folder, refusing one that a live process is writing."""
    marker = partial / ".pid"
    if partial.exists():
        try:
            pid = int(marker.read_text().strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and pid != os.getpid() and _alive(pid):
            raise RunError(f"{partial} is being written by process {pid}; wait for it to finish")
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    marker.write_text(str(os.getpid()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def quarter_lock(reports: Path, quarter: str):
    """The lock one run of ``quarter`` holds while it writes and publishes (``.<quarter>.lock``)."""
    from filelock import FileLock

    return FileLock(str(Path(reports) / f".{quarter}.lock"))


def restore_published(reports_dir: str | Path, quarters: list[str] | None = None) -> list[str]:
    """Finish publishes that a killed process left halfway.

    Publishing moves ``<quarter>`` aside to ``.<quarter>.previous`` and the new
    folder into place. Killed between the two moves, only the ``.previous``
    copy is left: it is moved back (the last good report). Killed after both,
    a stale ``.previous`` is removed. Each quarter is touched only under its
    lock, never while a live run of it publishes.

    Returns
    -------
    list of str
        What was done, one line per quarter.
    """
    reports = Path(reports_dir)
    done = []
    if not reports.is_dir():
        return done
    for previous in sorted(reports.glob(".*.previous")):
        quarter = previous.name[1:].removesuffix(".previous")
        if quarters is not None and quarter not in quarters:
            continue
        lock = quarter_lock(reports, quarter)
        try:
            lock.acquire(timeout=0)
        except Exception:  # filelock.Timeout: a run of this quarter is publishing now
            continue
        try:
            target = reports / quarter
            if not previous.exists():
                continue
            if target.exists():
                shutil.rmtree(previous, ignore_errors=True)
                done.append(f"{quarter}: removed a stale .{quarter}.previous")
            else:
                os.replace(previous, target)
                done.append(f"{quarter}: restored the last published report (a publish was interrupted)")
        finally:
            lock.release()
    return done


def _replace_dir(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, keeping the old ``target`` until the move succeeded."""
    (source / ".pid").unlink(missing_ok=True)
    previous = target.with_name(f".{target.name}.previous")
    if previous.exists():
        shutil.rmtree(previous)
    if target.exists():
        os.replace(target, previous)
    try:
        os.replace(source, target)
    except OSError:
        if previous.exists() and not target.exists():
            os.replace(previous, target)
        raise
    shutil.rmtree(previous, ignore_errors=True)
