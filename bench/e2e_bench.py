"""End to end: one quarter's notebooks and HTML reports through ``icp_helpers.reports.runner``.

A run is :func:`icp_helpers.reports.runner.run_quarter` in a fresh Python process
(the notebooks' kernels are its children), exactly what ``icp run`` does for
one quarter. While it runs, the parent polls the whole process tree with
psutil and records the peak of the summed resident memory (runner plus
kernels; shared pages are counted once per process, so the figure errs
high). Afterwards the run folder's ``run.json`` says where the time went per
notebook (kernel start-up, cell execution, HTML rendering), and the executed
notebooks' papermill metadata give the slowest cells.

Notebooks of :data:`icp_helpers.data.config.NOTEBOOK_ORDER` that do not exist
yet are left out of the run and listed in the result.

Run from the repository root::

    .venv/bin/python -m bench.e2e_bench --config icp.yml --quarter 2026Q3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil

from icp_helpers.data.config import NOTEBOOK_ORDER, NOTEBOOKS_DIR, load_config
from icp_helpers.data.table_cache import TableCache
from icp_helpers.reports.runner import EXPECTED_ARTIFACTS

__all__ = ["available_notebooks", "tree_rss", "clear_table_cache", "run_e2e", "bench_e2e", "slowest_cells", "imports_seconds", "main"]

REPO = Path(__file__).resolve().parents[1]


def available_notebooks(notebooks_dir: Path = NOTEBOOKS_DIR) -> tuple[list[str], list[str]]:
    """The quarter's notebooks that exist, and the ones that do not."""
    present = [n for n in NOTEBOOK_ORDER if (Path(notebooks_dir) / f"{n}.ipynb").is_file()]
    return present, [n for n in NOTEBOOK_ORDER if n not in present]


def tree_rss(process: psutil.Process) -> tuple[int, int]:
    """Summed RSS (bytes) of ``process`` and all its descendants, and the largest single one."""
    total, largest = 0, 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            rss = proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += rss
        largest = max(largest, rss)
    return total, largest


def _cells(notebook: Path) -> list[dict]:
    """Every executed code cell: index, papermill duration and a label (``[imports]`` marks the set-up cell)."""
    nb = nbformat.read(notebook, as_version=4)
    cells = []
    for index, cell in enumerate(nb.cells):
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell.get("cell_type") == "code" and duration is not None:
            lines = [line for line in cell.source.splitlines() if line.strip() and not line.startswith(("%", "#"))]
            label = next(iter(lines), "")
            if any(line.startswith(("import ", "from ")) for line in lines):
                label = "[imports] " + next((x for x in lines if not x.startswith(("import ", "from "))), label)
            cells.append({"cell": index, "seconds": round(float(duration), 2), "code": label[:90]})
    return cells


def slowest_cells(notebook: Path, n: int = 3) -> list[dict]:
    """The ``n`` slowest cells of an executed notebook (papermill durations), with their first line."""
    return sorted(_cells(notebook), key=lambda c: -c["seconds"])[:n]


def imports_seconds(notebook: Path) -> float:
    """Seconds of the notebook's set-up cells (imports, plotting back end): start-up, not work."""
    return sum(c["seconds"] for c in _cells(notebook) if c["code"].startswith("[imports]"))


def _worker(config: str, quarter: str, reports_dir: str, notebooks: list[str], result_path: str) -> None:
    from icp_helpers.reports.runner import run_quarter

    expected = {k: v for k, v in EXPECTED_ARTIFACTS.items() if k in notebooks}
    t0 = time.perf_counter()
    result = run_quarter(config, quarter, notebooks=tuple(notebooks), reports_dir=reports_dir, expected=expected)
    record = {
        "status": result.status,
        "run_dir": str(result.run_dir),
        "error": result.error,
        "wall_s": time.perf_counter() - t0,
    }
    Path(result_path).write_text(json.dumps(record))


def _kill_tree(process: psutil.Process) -> None:
    """End ``process`` and its descendants (the runner and its kernels), children first."""
    for proc in [*process.children(recursive=True), process]:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def _partial_notebooks(folder: Path, notebooks: list[str]) -> dict:
    """Timings of the notebooks a stopped run got through: finished cells, and the cell it was in."""
    out = {}
    for name in notebooks:
        executed = folder / f"{name}.ipynb"
        if not executed.is_file():
            continue
        nb = nbformat.read(executed, as_version=4)
        states = [c.get("metadata", {}).get("papermill", {}).get("status") for c in nb.cells]
        running = [i for i, st in enumerate(states) if st == "running"]
        cells = _cells(executed)
        out[name] = {
            "status": "stopped" if running else "ok",
            "execution_s": sum(c["seconds"] for c in cells),
            "imports_s": imports_seconds(executed),
            "slowest_cells": sorted(cells, key=lambda c: -c["seconds"])[:3],
            "error": (
                f"stopped in cell {running[0]}: "
                + next((line for line in nb.cells[running[0]].source.splitlines() if line.strip()), "")[:90]
            ) if running else None,
        }
    return out


def clear_table_cache(config: str | Path) -> None:
    """Empty the project's table cache, so that a run validates its export as a new quarter's would."""
    store = TableCache.for_config(load_config(config))
    if store is not None:
        shutil.rmtree(store.folder, ignore_errors=True)


def run_e2e(
    config: str | Path,
    *,
    quarter: str,
    reports_dir: str | Path,
    notebooks: list[str] | None = None,
    poll_s: float = 0.2,
    timeout: float = 7200,
) -> dict:
    """Run one quarter in a fresh process; wall time, peak tree RSS and per-notebook timings.

    The table cache is emptied first: every run validates its inputs once,
    as the first run on a new export does.

    A run still going after ``timeout`` seconds is stopped (runner and
    kernels) and reported with status ``timeout`` and the timings of the
    cells it finished, read from the executed notebooks in the partial run
    folder.

    Returns
    -------
    dict
        ``status``, ``wall_s`` (whole process, interpreter start included),
        ``peak_rss_mb`` (process tree), ``peak_single_rss_mb`` (largest single
        process), ``notebooks`` (name -> ``kernel_start_s``, ``imports_s``,
        ``execution_s``, ``render_s``, ``duration_s``, ``status``,
        ``slowest_cells``), ``error`` and ``run_dir``.
    """
    notebooks = notebooks or available_notebooks()[0]
    clear_table_cache(config)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_path = Path(handle.name)
    with tempfile.NamedTemporaryFile(suffix=".log", delete=False) as handle:
        log_path = Path(handle.name)
    spec = json.dumps([str(config), quarter, str(reports_dir), notebooks, str(result_path)])
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    with open(log_path, "w") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.e2e_bench", "--worker", spec],
            cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
        )
    watched = psutil.Process(proc.pid)
    peak, peak_single = 0, 0
    stopped = False
    try:
        while proc.poll() is None:
            total, largest = tree_rss(watched)
            peak, peak_single = max(peak, total), max(peak_single, largest)
            if time.perf_counter() - t0 > timeout:
                _kill_tree(watched)
                proc.wait()
                stopped = True
                break
            time.sleep(poll_s)
        wall = time.perf_counter() - t0
        text = log_path.read_text(errors="replace")
        if stopped:
            partial = Path(reports_dir) / f".{quarter}.partial"
            return {
                "status": "timeout", "wall_s": wall, "peak_rss_mb": peak / 2**20,
                "peak_single_rss_mb": peak_single / 2**20, "run_dir": str(partial),
                "error": f"stopped after {timeout:.0f} s", "notebooks": _partial_notebooks(partial, notebooks),
            }
        if proc.returncode != 0 or not result_path.is_file() or not result_path.read_text():
            return {"status": "crashed", "wall_s": wall, "peak_rss_mb": peak / 2**20, "error": text[-3000:], "notebooks": {}}
        record = json.loads(result_path.read_text())
    finally:
        result_path.unlink(missing_ok=True)
        log_path.unlink(missing_ok=True)
    record.update(wall_s=wall, peak_rss_mb=peak / 2**20, peak_single_rss_mb=peak_single / 2**20)
    run_dir = Path(record["run_dir"])
    per_notebook = {}
    run_json = run_dir / "run.json"
    if run_json.is_file():
        for item in json.loads(run_json.read_text())["notebooks"]:
            executed = run_dir / item["notebook"]
            per_notebook[item["name"]] = {
                **{k: item.get(k) for k in ("status", "kernel_start_s", "execution_s", "render_s", "duration_s", "error")},
                "imports_s": imports_seconds(executed) if executed.is_file() else None,
                "slowest_cells": slowest_cells(executed) if executed.is_file() else [],
            }
    record["notebooks"] = per_notebook
    return record


def bench_e2e(
    config: str | Path,
    *,
    quarter: str,
    reports_dir: str | Path,
    repeats: int = 1,
    timeout: float = 7200,
    notebooks: list[str] | None = None,
    log=print,
) -> dict:
    """Run a quarter ``repeats`` times; medians of wall time and of each notebook's timings.

    ``notebooks`` defaults to every notebook of the quarter that exists.
    """
    present, missing = available_notebooks()
    present = notebooks or present
    runs = []
    for rep in range(repeats):
        record = run_e2e(config, quarter=quarter, reports_dir=reports_dir, notebooks=present, timeout=timeout)
        runs.append(record)
        log(
            f"  run {rep + 1}/{repeats}: {record['status']} in {record['wall_s']:.1f} s, "
            f"peak RSS (process tree) {record['peak_rss_mb']:.0f} MB"
        )
        if record["status"] != "ok":
            log(f"    {str(record.get('error'))[:500]}")
            break
    ok = [r for r in runs if r["status"] == "ok"]
    use = ok or runs
    per_notebook = {}
    for name in present:
        entries = [r["notebooks"][name] for r in use if name in r.get("notebooks", {})]
        if not entries:
            continue
        per_notebook[name] = {
            key: statistics.median(e[key] for e in entries if e.get(key) is not None)
            if any(e.get(key) is not None for e in entries) else None
            for key in ("kernel_start_s", "imports_s", "execution_s", "render_s", "duration_s")
        }
        per_notebook[name]["status"] = entries[-1]["status"]
        per_notebook[name]["slowest_cells"] = entries[-1]["slowest_cells"]
        per_notebook[name]["error"] = entries[-1].get("error")
    return {
        "status": "ok" if len(ok) == len(runs) else runs[-1]["status"],
        "runs": len(runs),
        "median_s": statistics.median(r["wall_s"] for r in use),
        "wall_s": [r["wall_s"] for r in runs],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "peak_single_rss_mb": max((r.get("peak_single_rss_mb") or 0) for r in runs) or None,
        "notebooks": per_notebook,
        "ran": present,
        "missing": missing,
        "run_dir": runs[-1].get("run_dir"),
        "error": None if ok and len(ok) == len(runs) else runs[-1].get("error"),
    }


def main(argv: list[str] | None = None) -> dict | None:
    """Command line; ``--worker`` is the internal entry of one isolated run."""
    parser = argparse.ArgumentParser(prog="python -m bench.e2e_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "icp.yml")
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--reports-dir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(*json.loads(args.worker))
        return None
    reports = args.reports_dir or Path(tempfile.mkdtemp(prefix="e2e_bench_"))
    result = bench_e2e(args.config.resolve(), quarter=args.quarter, reports_dir=reports, repeats=args.repeats)
    print(json.dumps(result, indent=2, default=str))
    return result


if __name__ == "__main__":
    main()
