"""Run every benchmark and write ``bench/RESULTS.md`` (``make bench``).

Sections, in order (``--only`` picks some; results of the others are kept
from the previous run's ``bench/data/results.json``):

``generate``
    Generate the datasets (timed, with the generator's peak memory).
``features``
    The step-1 feature build: Ibis on Parquet against hand-written DuckDB
    SQL and pandas (and Ibis on pandas frames), checked equal
    (:mod:`bench.features_bench`).
``spark``
    The same Ibis build on pyspark local mode, checked equal to DuckDB.
``scaling``
    Feature-build time against deals, with the fitted exponent
    (:mod:`bench.scaling_bench`).
``e2e``
    Whole quarters through the runner: the sample and generated data
    (:mod:`bench.e2e_bench`).
``uci``
    UCI Online Retail: loading, the feature build and a whole quarter
    (:mod:`bench.uci_bench`).

``--quick`` runs every section at small sizes (seconds to minutes) and
writes ``bench/data/RESULTS-quick.md`` instead, leaving the committed
results alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import psutil

from bench.generate import BENCH_DATA, QUARTER, dataset_dir

__all__ = ["SIZES", "TARGETS", "machine_info", "run", "render", "main"]

REPO = Path(__file__).resolve().parents[1]
RESULTS_MD = REPO / "bench" / "RESULTS.md"

#: Sizes per mode: (accounts, deals) of the feature/e2e datasets, scaling deal counts, repeats.
SIZES = {
    "full": {
        "datasets": {"2M": (100_000, 2_000_000), "20M": (1_000_000, 20_000_000)},
        # whole quarters only (no feature-build comparison against pandas at this size)
        "parts_datasets": {"100M": (1_000_000, 100_000_000, 5_000_000)},
        "e2e": {"sample": 3, "2M": 2, "20M": 1, "100M": 1},
        "e2e_timeout_s": 3600,
        "hotspots": {"rows": [10_000, 50_000], "contacts": "20M", "run": "20M", "accounts": [100_000, 1_000_000]},
        "features_repeats": 3,
        "spark": "2M",
        "scaling": [1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000],
        "scaling_repeats": 3,
        "uci_e2e": 3,
    },
    "quick": {
        "datasets": {"20k": (2_000, 20_000), "200k": (10_000, 200_000)},
        "parts_datasets": {"100k": (5_000, 100_000, 20_000)},
        "e2e": {"sample": 1, "200k": 1, "100k": 1},
        "e2e_timeout_s": 1800,
        "hotspots": {"rows": [2_000, 5_000], "contacts": "200k", "run": "200k", "accounts": [2_500, 10_000]},
        "features_repeats": 2,
        "spark": "20k",
        "scaling": [100_000, 200_000, 500_000],
        "scaling_repeats": 2,
        "uci_e2e": 1,
    },
}

#: Targets on a 2-core / 24 GiB machine.
TARGETS = {
    "ibis_vs_sql": 1.3,  # feature build at most this many times the hand-written DuckDB SQL
    "pandas_vs_ibis": 5.0,  # feature build at least this many times faster than pandas
    "sample_quarter_s": 60.0,
    "large_quarter_s": 150.0,  # 1M accounts / 20M deals
    "large_quarter_rss_mb": 4096.0,
    "huge_quarter_s": 600.0,  # 1M accounts / 100M deals
    "huge_quarter_rss_mb": 6144.0,
    "scaling_exponent": 1.1,
    "generate_20M_s": 120.0,
}


# --------------------------------------------------------------------------- machine


def _versions() -> dict[str, str | None]:
    names = (
        "pandas", "numpy", "pyarrow", "duckdb", "ibis-framework", "pyspark", "scikit-learn",
        "scipy", "papermill", "nbconvert", "ipykernel", "openpyxl", "psutil",
    )
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _java() -> str | None:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out.stderr or out.stdout).splitlines()[0] if (out.stderr or out.stdout) else None


def machine_info() -> dict:
    """CPU, cores, memory, OS, Python and library versions, and the load average now."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "java": _java(),
        "versions": _versions(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --------------------------------------------------------------------------- sections


def _generate(label: str, accounts: int, deals: int, log, part_rows: int | None = None) -> dict:
    """Generate one dataset in a child process; wall time and the child's peak RSS."""
    folder = dataset_dir(accounts, deals)
    t0 = time.perf_counter()
    parts = ["--part-rows", str(part_rows)] if part_rows else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.generate", "--accounts", str(accounts), "--deals", str(deals), "--out", str(folder), *parts],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"generating {label} failed:\n{output[-2000:]}")
    log(f"  {label}: {accounts:,} accounts / {deals:,} deals in {wall:.1f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MB")
    return {"accounts": accounts, "deals": deals, "dir": str(folder), "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024,
            "part_rows": part_rows}


def section_generate(mode: dict, log) -> dict:
    out = {label: _generate(label, a, d, log) for label, (a, d) in mode["datasets"].items()}
    for label, (a, d, part_rows) in mode.get("parts_datasets", {}).items():
        out[label] = _generate(label, a, d, log, part_rows=part_rows)
    return out


def _sizes(mode: dict, label: str) -> tuple[int, int]:
    if label in mode["datasets"]:
        return mode["datasets"][label]
    return mode["parts_datasets"][label][:2]


def _dataset(mode: dict, label: str):
    from bench.features_bench import Dataset

    accounts, deals = mode["datasets"][label]
    folder = dataset_dir(accounts, deals)
    if not (folder / "deals.parquet").is_file():
        raise FileNotFoundError(f"{folder}: not generated; run the generate section first")
    return Dataset.from_dir(folder)


def section_features(mode: dict, log) -> dict:
    from bench.features_bench import bench_features

    out = {}
    for label in mode["datasets"]:
        log(f"  feature build on {label} deals")
        out[label] = bench_features(
            _dataset(mode, label), quarter=QUARTER, repeats=mode["features_repeats"],
            work_dir=BENCH_DATA / "features" / label, log=log,
        )
        out[label]["load_avg"] = _load()
    return out


def section_spark(mode: dict, log) -> dict:
    from bench.features_bench import bench_features

    label = mode["spark"]
    log(f"  Spark (local mode) against DuckDB on {label} deals")
    result = bench_features(
        _dataset(mode, label), quarter=QUARTER, repeats=1, impls=("ibis", "spark"),
        work_dir=BENCH_DATA / "features" / f"spark_{label}", log=log,
    )
    result["dataset"] = label
    result["load_avg"] = _load()
    return result


def section_scaling(mode: dict, log) -> dict:
    from bench.scaling_bench import bench_scaling

    result = bench_scaling(mode["scaling"], repeats=mode["scaling_repeats"], log=log)
    result["load_avg"] = _load()
    return result


def section_e2e(mode: dict, log) -> dict:
    from bench.e2e_bench import bench_e2e

    out = {}
    for label, repeats in mode["e2e"].items():
        config = REPO / "icp.yml" if label == "sample" else dataset_dir(*_sizes(mode, label)) / "icp.yml"
        log(f"  quarter {QUARTER} on {label} ({config})")
        out[label] = bench_e2e(
            config, quarter=QUARTER, reports_dir=BENCH_DATA / "reports" / label, repeats=repeats,
            timeout=mode["e2e_timeout_s"], log=log,
        )
        out[label]["load_avg"] = _load()
        if label != "sample":
            out[label]["accounts"], out[label]["deals"] = _sizes(mode, label)
    return out


def section_uci(mode: dict, log) -> dict:
    from bench.e2e_bench import bench_e2e
    from bench.features_bench import Dataset, bench_features
    from bench.uci_bench import DATASET, canonical_tables, uci_config
    from icp_helpers.data.config import load_config

    if not DATASET.is_file():
        log(f"  skipped: {DATASET} not found")
        return {"skipped": f"{DATASET} not found"}
    config = uci_config()
    log(f"  loading {DATASET.name} through {config}")
    tables = canonical_tables(config)
    log(f"  loaded in {tables['load_s']:.1f} s: {tables['rows_out']}")
    features = bench_features(
        Dataset.from_dir(tables["dir"]), quarter=tables["quarter"], lookback=tables["lookback"],
        repeats=mode["features_repeats"], work_dir=BENCH_DATA / "features" / "uci", log=log,
    )
    log(f"  quarter {tables['quarter']} through the runner")
    reports = BENCH_DATA / "reports" / "uci"
    e2e = bench_e2e(config, quarter=tables["quarter"], reports_dir=reports, repeats=mode["uci_e2e"], log=log)
    out = {"tables": tables, "features": features, "e2e": e2e, "load_avg": _load()}
    failed = [n for n, nb in e2e["notebooks"].items() if nb.get("status") != "ok"]
    inputs = load_config(config).inputs
    lacking = [
        name for name, needs in (("02_interview_coding", {"interviews"}), ("05_lead_scoring", {"leads", "activities"}))
        if not needs & set(inputs)
    ]
    if failed and failed[0] in lacking:
        # the export has no interviews (or leads): time the notebooks that have their inputs
        rest = [n for n in e2e["ran"] if n not in lacking]
        log(f"  {failed[0]} failed; again without {', '.join(lacking)} (their inputs are not in the export)")
        out["e2e_without_interviews"] = bench_e2e(
            config, quarter=tables["quarter"], reports_dir=reports, repeats=mode["uci_e2e"], notebooks=rest, log=log,
        )
    return out


def section_hotspots(mode: dict, log) -> dict:
    from bench.hotspots_bench import bench_bootstrap, bench_redactor, bench_xlsx
    from icp_helpers.data.config import SAMPLE_DIR

    spec = mode["hotspots"]
    out = {"xlsx": bench_xlsx(spec["rows"], BENCH_DATA / "hotspots", log=log)}
    contacts = dataset_dir(*mode["datasets"][spec["contacts"]]) / "contacts.parquet"
    out["redactor"] = bench_redactor(contacts, SAMPLE_DIR / "interviews.csv", log=log)
    reports = BENCH_DATA / "reports" / spec["run"]
    run_dir = next(
        (d for d in (reports / QUARTER, reports / f"{QUARTER}.failed", reports / f".{QUARTER}.partial")
         if (d / "features.parquet").is_file() and (d / "code_traits.parquet").is_file()),
        None,
    )
    if run_dir is None:
        log(f"  bootstrap skipped: no run folder with step 1 and 2 results under {reports}")
    else:
        config = dataset_dir(*mode["datasets"][spec["run"]]) / "icp.yml"
        out["bootstrap"] = bench_bootstrap(run_dir, config, spec["accounts"], log=log)
    out["load_avg"] = _load()
    return out


SECTIONS = {
    "generate": section_generate,
    "features": section_features,
    "spark": section_spark,
    "scaling": section_scaling,
    "e2e": section_e2e,
    "uci": section_uci,
    "hotspots": section_hotspots,
}


def run(*, quick: bool = False, only: list[str] | None = None, log=print) -> dict:
    """Run the sections (all, or ``only``) and return the results, merged with the previous ones."""
    mode_name = "quick" if quick else "full"
    mode = SIZES[mode_name]
    path = BENCH_DATA / f"results-{mode_name}.json"
    results = json.loads(path.read_text()) if only and path.is_file() else {}
    results["mode"] = mode_name
    results.setdefault("sections", {})
    results["machine"] = machine_info()
    for name, function in SECTIONS.items():
        if only and name not in only:
            continue
        log(f"[{name}] load average {_load()}")
        started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        t0 = time.perf_counter()
        try:
            data = function(mode, log)
            error = None
        except Exception as exc:  # a failing section is reported, the others still run
            data, error = {}, f"{type(exc).__name__}: {exc}"
            log(f"  FAILED: {error}")
        results["sections"][name] = {
            "started": started,
            "seconds": time.perf_counter() - t0,
            "load_before": results["machine"]["load_avg"] if not only else None,
            "error": error,
            "data": data,
        }
        BENCH_DATA.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=1, default=str))
    results["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    results["load_after"] = _load()
    path.write_text(json.dumps(results, indent=1, default=str))
    return results


# --------------------------------------------------------------------------- RESULTS.md


def _f(value, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}{unit}"
    return str(value)


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def _section(results: dict, name: str) -> dict:
    return (results.get("sections", {}).get(name) or {}).get("data") or {}


def _targets(results: dict) -> list[tuple[str, str, bool | None]]:
    rows = []
    gen = _section(results, "generate")
    big = "20M" if results.get("mode") == "full" else "200k"
    if big in gen:
        rows.append((f"generate {gen[big]['deals']:,} deals within {TARGETS['generate_20M_s']:.0f} s",
                     f"{gen[big]['wall_s']:.1f} s, peak {gen[big]['peak_rss_mb']:,.0f} MB",
                     gen[big]["wall_s"] <= TARGETS["generate_20M_s"] if results.get("mode") == "full" else None))
    for label, res in _section(results, "features").items():
        r = res["ratios"]
        rows.append((f"feature build ({label} deals) at most {TARGETS['ibis_vs_sql']}x the DuckDB SQL",
                     f"{_f(r['ibis/sql'])}x first call, {_f(r.get('ibis/sql warm'))}x second call",
                     r["ibis/sql"] is not None and r["ibis/sql"] <= TARGETS["ibis_vs_sql"]))
        rows.append((f"feature build ({label} deals) at least {TARGETS['pandas_vs_ibis']:.0f}x faster than pandas",
                     f"{_f(r['pandas/ibis'])}x", r["pandas/ibis"] is not None and r["pandas/ibis"] >= TARGETS["pandas_vs_ibis"]))
        diffs = {k: v for k, v in res["equal"].items() if v}
        rows.append((f"Ibis, SQL and pandas give the same table ({label} deals)",
                     "equal" if not diffs else "; ".join(f"{k}: {v[0]}" for k, v in diffs.items()), not diffs))
    spark = _section(results, "spark")
    if spark:
        diffs = spark["equal"].get("spark", ["not compared"])
        rows.append((f"Spark (local mode) gives the DuckDB table ({spark['dataset']} deals)",
                     "equal" if not diffs else diffs[0], not diffs))
    scaling = _section(results, "scaling")
    if scaling:
        b, bw = scaling["exponent"].get("ibis"), scaling.get("exponent_warm", {}).get("ibis")
        worst = max(x for x in (b, bw) if x is not None) if (b is not None or bw is not None) else None
        rows.append((f"scaling exponent of the feature build at most {TARGETS['scaling_exponent']}",
                     f"{_f(b, 3)} first calls (R² {_f(scaling['r2'].get('ibis'), 3)}), "
                     f"{_f(bw, 3)} second calls (R² {_f(scaling.get('r2_warm', {}).get('ibis'), 3)})",
                     worst is not None and worst <= TARGETS["scaling_exponent"]))
    e2e = _section(results, "e2e")
    if "sample" in e2e:
        s = e2e["sample"]
        rows.append((f"sample quarter within {TARGETS['sample_quarter_s']:.0f} s",
                     f"{_f(s['median_s'], 1)} s ({s['status']})", s["status"] == "ok" and s["median_s"] <= TARGETS["sample_quarter_s"]))
    if "20M" in e2e:
        s = e2e["20M"]
        rows.append((f"1M accounts / 20M deals quarter within {TARGETS['large_quarter_s']:.0f} s",
                     f"{_f(s['median_s'], 1)} s ({s['status']})", s["status"] == "ok" and s["median_s"] <= TARGETS["large_quarter_s"]))
        rows.append((f"1M accounts / 20M deals quarter peak RSS at most {TARGETS['large_quarter_rss_mb'] / 1024:.0f} GB",
                     f"{s['peak_rss_mb'] / 1024:.2f} GB", s["peak_rss_mb"] <= TARGETS["large_quarter_rss_mb"]))
    if "100M" in e2e:
        s = e2e["100M"]
        rows.append((f"1M accounts / 100M deals quarter within {TARGETS['huge_quarter_s']:.0f} s",
                     f"{_f(s['median_s'], 1)} s ({s['status']})", s["status"] == "ok" and s["median_s"] <= TARGETS["huge_quarter_s"]))
        rows.append((f"1M accounts / 100M deals quarter peak RSS at most {TARGETS['huge_quarter_rss_mb'] / 1024:.0f} GB",
                     f"{s['peak_rss_mb'] / 1024:.2f} GB", s["peak_rss_mb"] <= TARGETS["huge_quarter_rss_mb"]))
    uci = _section(results, "uci")
    if uci.get("features"):
        diffs = {k: v for k, v in uci["features"]["equal"].items() if v}
        rows.append(("UCI Online Retail: Ibis, SQL and pandas give the same table",
                     "equal" if not diffs else "; ".join(f"{k}: {v[0]}" for k, v in diffs.items()), not diffs))
    return rows


def _features_table(res: dict) -> list[str]:
    names = {
        "ibis": "Ibis on Parquet (`account_features`)",
        "sql": "hand-written DuckDB SQL",
        "pandas": "pandas (groupby/agg)",
        "ibis_pandas": "Ibis on pandas frames (read first)",
        "spark": "Ibis on pyspark, local[2]",
    }
    lines = [
        "| implementation | median s (first call) | runs s | second call s | peak RSS MB | vs Ibis |",
        "|---|---:|---|---:|---:|---:|",
    ]
    base = res["median_s"].get("ibis")
    for impl, median in res["median_s"].items():
        runs = ", ".join(f"{r['seconds']:.2f}" for r in res["runs"][impl])
        first = res["runs"][impl][0]
        if "read_s" in first:
            runs += f" (of which reading {first['read_s']:.2f})"
        if "startup_s" in first:
            runs += f" (plus session start {first['startup_s']:.1f})"
        if first.get("jvm_peak_rss_mb"):
            runs += f" (JVM peak RSS {first['jvm_peak_rss_mb']:,.0f} MB, not in the RSS column)"
        lines.append(
            f"| {names.get(impl, impl)} | {median:.2f} | {runs} | {_f(res.get('warm_s', {}).get(impl))} | "
            f"{res['peak_rss_mb'][impl]:,.0f} | {_f(median / base if base else None)}x |"
        )
    return lines


def _memory_table(e2e: dict) -> list[str]:
    """Peak memory of the quarters side by side: does it grow with the deals?"""
    sized = [(label, res) for label, res in e2e.items() if res.get("deals")]
    if len(sized) < 2:
        return []
    lines = [
        "Peak memory against the number of deals (one account count per row; the notebook "
        "process should not grow with the deals):",
        "",
        "| quarter | accounts | deals | status | wall s | peak RSS, process tree MB | largest single process MB |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for label, res in sized:
        lines.append(
            f"| {label} | {res['accounts']:,} | {res['deals']:,} | {res['status']} | {_f(res.get('median_s'), 1)} | "
            f"{res['peak_rss_mb']:,.0f} | {_f(res.get('peak_single_rss_mb'), 0)} |"
        )
    return [*lines, ""]


def _e2e_table(res: dict) -> list[str]:
    lines = [
        "| notebook | total s | kernel start s | imports s | work s | HTML s | slowest cells |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, nb in res["notebooks"].items():
        work = None
        if nb.get("execution_s") is not None:
            work = nb["execution_s"] - (nb.get("imports_s") or 0)
        cells = "; ".join(f"`{c['code']}` {c['seconds']:.1f} s" for c in nb.get("slowest_cells", [])[:2])
        status = "" if nb.get("status") == "ok" else f" ({nb.get('status')}: {nb.get('error')})"
        lines.append(
            f"| {name}{status} | {_f(nb.get('duration_s'), 1)} | {_f(nb.get('kernel_start_s'), 1)} | "
            f"{_f(nb.get('imports_s'), 1)} | {_f(work, 1)} | {_f(nb.get('render_s'), 1)} | {cells} |"
        )
    return lines


def render(results: dict) -> str:
    """``RESULTS.md`` from the results dictionary."""
    m = results["machine"]
    v = m["versions"]
    out = [
        "# Benchmark results",
        "",
        f"Written by `{'python -m bench.run_all --quick' if results['mode'] == 'quick' else 'make bench'}` "
        f"(`bench/run_all.py`); finished {results.get('finished', 'n/a')}. Times are wall-clock "
        "seconds, medians of the runs listed; each feature-build run is a fresh process and "
        "implementations are interleaved, so every ratio compares runs made under the same load. "
        "See `bench/README.md` for what each benchmark does.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cores_logical']} cores |",
        f"| memory | {m['ram_gib']} GiB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| Java (Spark) | {m.get('java') or 'n/a'} |",
        "| libraries | " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + " |",
        f"| load average (1, 5, 15 min) | at start of the last section run {m['load_avg']}, at the end {results.get('load_after', 'n/a')} |",
        "",
        "The machine was shared with other work while these ran; the load average is given per "
        "section below. Absolute times on a quiet machine are lower; the ratios, measured in the "
        "same run, are the figures to compare.",
        "",
        "## Targets",
        "",
        "| target | measured | status |",
        "|---|---|---|",
    ]
    out += [f"| {t} | {value} | {_mark(ok)} |" for t, value, ok in _targets(results)]
    sections = results.get("sections", {})
    for name, sec in sections.items():
        if sec.get("error"):
            out += ["", f"Section `{name}` failed: `{sec['error']}`"]

    gen = _section(results, "generate")
    if gen:
        out += ["", "## Data generation (`bench/generate.py`)", "",
                "| dataset | accounts | deals | seconds | peak RSS MB |", "|---|---:|---:|---:|---:|"]
        out += [f"| {k} | {g['accounts']:,} | {g['deals']:,} | {g['wall_s']:.1f} | {g['peak_rss_mb']:,.0f} |" for k, g in gen.items()]

    feats = _section(results, "features")
    if feats:
        out += ["", "## Feature build (`bench/features_bench.py`)", ""]
        for label, res in feats.items():
            out += [f"### {label} deals ({res['rows']:,} accounts; load average after {res.get('load_avg')})", ""]
            out += _features_table(res)
            r = res["ratios"]
            out += ["", f"Ratios (median of per-round ratios): Ibis / SQL {_f(r['ibis/sql'])} "
                    f"(second calls {_f(r.get('ibis/sql warm'))}), "
                    f"pandas / Ibis {_f(r['pandas/ibis'])}, Ibis on pandas frames / Ibis on Parquet "
                    f"{_f(r['ibis_pandas/ibis'])}. Equality against Ibis: "
                    + ", ".join(f"{k} {'equal' if not d else d}" for k, d in res["equal"].items()) + ".", ""]

    spark = _section(results, "spark")
    if spark:
        out += ["## Spark (`--impls ibis,spark`)", ""]
        out += _features_table(spark)
        out += ["", f"Spark table equal to DuckDB's: {not spark['equal'].get('spark', ['n/a'])} "
                f"{spark['equal'].get('spark') or ''}", ""]

    scaling = _section(results, "scaling")
    if scaling:
        impls = list(scaling["median_s"])
        warm = scaling.get("warm_s", {})
        out += ["## Scaling (`bench/scaling_bench.py`)", "",
                "| deals | accounts | " + " | ".join(f"{i} s (second call s)" for i in impls) + " |",
                "|---:|---:|" + "---:|" * len(impls)]
        for k, n in enumerate(scaling["sizes"]):
            out.append(f"| {n:,} | {n // 20:,} | " + " | ".join(
                f"{scaling['median_s'][i][k]:.2f} ({_f(warm.get(i, [None] * (k + 1))[k])})" for i in impls) + " |")
        out += ["", "Fitted exponent b of time = a * deals^b: " + ", ".join(
            f"{i} {scaling['exponent'][i]:.3f} (R² {scaling['r2'][i]:.3f}); second calls "
            f"{_f(scaling.get('exponent_warm', {}).get(i), 3)}" for i in impls) + ".", ""]

    e2e = _section(results, "e2e")
    if e2e:
        out += ["## End to end (`bench/e2e_bench.py`)", ""]
        out += _memory_table(e2e)
        for label, res in e2e.items():
            size = "bundled sample" if label == "sample" else f"{res.get('accounts', 0):,} accounts / {res.get('deals', 0):,} deals"
            out += [f"### {label}: {size}", "",
                    f"Status {res['status']}; wall {', '.join(f'{w:.1f}' for w in res['wall_s'])} s (median "
                    f"{res['median_s']:.1f} s, interpreter start included); peak RSS of the process tree "
                    f"{res['peak_rss_mb']:,.0f} MB; load average after {res.get('load_avg')}."
                    + (f" Notebooks not in the project yet: {', '.join(res['missing'])}." if res.get("missing") else ""), ""]
            out += _e2e_table(res) + [""]

    uci = _section(results, "uci")
    if uci and not uci.get("skipped"):
        t = uci["tables"]
        out += ["## Real data: UCI Online Retail (`bench/uci_bench.py`)", "",
                f"Config `{Path(t['config']).relative_to(REPO) if t['config'].startswith(str(REPO)) else t['config']}`, quarter "
                f"{t['quarter']}. Loading (read, map, validate, quarantine) accounts and deals: "
                f"{t['load_s']:.1f} s; rows read {t['rows_read']}, rows out {t['rows_out']}.", ""]
        out += _features_table(uci["features"]) + [""]
        for key, title in (("e2e", "Whole quarter"), ("e2e_without_interviews", "Only the notebooks whose inputs the export has")):
            res = uci.get(key)
            if not res:
                continue
            out += [f"{title} ({', '.join(res['ran'])}): status {res['status']}, wall "
                    f"{', '.join(f'{w:.1f}' for w in res['wall_s'])} s (median {res['median_s']:.1f} s), "
                    f"peak RSS {res['peak_rss_mb']:,.0f} MB.", ""]
            out += _e2e_table(res) + [""]

    hot = _section(results, "hotspots")
    if hot:
        out += ["## Hot spots (`bench/hotspots_bench.py`)", ""]
        x = hot.get("xlsx") or {}
        if "ordinary_s" in x:
            out += ["| XLSX rows | ordinary workbook s | write-only (package) s |", "|---:|---:|---:|"]
            out += [f"| {n:,} | {a:.1f} | {b:.1f} |" for n, a, b in zip(x["rows"], x["ordinary_s"], x["streaming_s"], strict=True)]
            out += ["", f"Peak Python memory at {x['memory_rows']:,} rows: ordinary {x['ordinary_mb']:.0f} MB, "
                    f"write-only {x['streaming_mb']:.0f} MB; rows read back {x['streaming_rows_read_back']:,}.", ""]
        r = hot.get("redactor")
        if r:
            out += [f"Redactor from every contact ({r['contacts']:,}): {r['all_s']:.1f} s; from the "
                    f"{r['interviewed_contacts']:,} contacts of the interviewed accounts: {r['interviewed_s']:.3f} s.", ""]
        b = hot.get("bootstrap")
        if b and "capped_s" in b:
            out += [f"| accounts | traits | s per resample, at most {b['cap']:,} drawn | s per resample, every account drawn | selection without bootstrap s |",
                    "|---:|---:|---:|---:|---:|"]
            out += [f"| {n:,} | {b['traits']} | {c:.3f} | {u:.3f} | {w:.1f} |" for n, c, u, w in
                    zip(b["accounts"], b["capped_s"], b["uncapped_s"], b["without_bootstrap_s"], strict=True)]
            out += ["", f"({b['resamples']} resamples per measurement; step 3 draws 200.)", ""]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; writes bench/data/RESULTS-quick.md")
    parser.add_argument("--only", default=None, help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--render", action="store_true", help="only rewrite the Markdown from the last results")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    if args.render:
        results = json.loads((BENCH_DATA / f"results-{mode}.json").read_text())
    else:
        only = args.only.split(",") if args.only else None
        unknown = set(only or []) - set(SECTIONS)
        if unknown:
            parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
        results = run(quick=args.quick, only=only)
    target = BENCH_DATA / "RESULTS-quick.md" if args.quick else RESULTS_MD
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(results), encoding="utf-8")
    print(f"wrote {target}")
    return results


if __name__ == "__main__":
    main()
