"""How the feature build's time grows with the number of deals.

Datasets of 1M to 20M deals are generated with 20 deals per account (the
sample's ratio), so accounts grow with deals as they do in a growing CRM.
Each size is timed with the Ibis build on Parquet (and the hand-written
DuckDB query for comparison), each run in a fresh process
(:func:`bench.features_bench.run_isolated`), and the exponent ``b`` of
``time = a * deals ** b`` is fitted by least squares on the logarithms of
the median times. ``b`` near 1 means linear; the target is ``b <= 1.1``.
Fixed costs (Ibis' first compile) flatten the curve of first calls, so the
exponent is also fitted on second calls in the same process, and the
larger of the two is the one held to the target.

Run from the repository root::

    .venv/bin/python -m bench.scaling_bench --deals 1e6,2e6,5e6,10e6,20e6
"""

from __future__ import annotations

import argparse
import json
import statistics

import numpy as np

from bench.features_bench import Dataset, run_isolated
from bench.generate import BENCH_DATA, QUARTER, dataset_dir, generate

__all__ = ["DEALS_PER_ACCOUNT", "fit_exponent", "ensure_dataset", "bench_scaling", "main"]

DEALS_PER_ACCOUNT = 20


def fit_exponent(sizes, seconds) -> tuple[float, float]:
    """Least-squares fit of ``log t = log a + b log n``; returns ``(b, r2)``."""
    x, y = np.log(np.asarray(sizes, float)), np.log(np.asarray(seconds, float))
    b, log_a = np.polyfit(x, y, 1)
    residual = y - (log_a + b * x)
    total = ((y - y.mean()) ** 2).sum()
    return float(b), float(1 - (residual**2).sum() / total) if total > 0 else 1.0


def ensure_dataset(deals: int, *, leads: int = 0, root=BENCH_DATA, log=print) -> Dataset:
    """The generated dataset of ``deals`` deals (``deals / 20`` accounts), generating it if missing."""
    accounts = max(1, deals // DEALS_PER_ACCOUNT)
    folder = dataset_dir(accounts, deals, root)
    if not (folder / "deals.parquet").is_file() or not (folder / "contacts.parquet").is_file():
        log(f"  generating {accounts:,} accounts / {deals:,} deals in {folder}")
        generate(folder, accounts=accounts, deals=deals, leads=leads)
    return Dataset.from_dir(folder)


def bench_scaling(
    sizes: list[int],
    *,
    repeats: int = 3,
    impls: tuple[str, ...] = ("ibis", "sql"),
    quarter: str = QUARTER,
    log=print,
) -> dict:
    """Median seconds per size and implementation, and the fitted exponents.

    Returns
    -------
    dict
        ``sizes``; ``median_s`` (first calls), ``warm_s`` (second calls in
        the same process) and ``peak_rss_mb`` (impl -> list per size);
        ``exponent`` and ``r2`` fitted on the first calls, ``exponent_warm``
        and ``r2_warm`` on the second calls, which carry no one-off costs
        and so show the growth itself (impl -> value).
    """
    median: dict[str, list[float]] = {i: [] for i in impls}
    warm: dict[str, list[float]] = {i: [] for i in impls}
    peak: dict[str, list[float]] = {i: [] for i in impls}
    for n in sizes:
        data = ensure_dataset(n, log=log)
        times: dict[str, list[float]] = {i: [] for i in impls}
        warm_times: dict[str, list[float]] = {i: [] for i in impls}
        rss: dict[str, float] = dict.fromkeys(impls, 0.0)
        for _ in range(repeats):
            for impl in impls:
                record = run_isolated(impl, data, quarter=quarter)
                times[impl].append(record["seconds"])
                warm_times[impl].append(record.get("warm_s", record["seconds"]))
                rss[impl] = max(rss[impl], record["peak_rss_mb"])
        for impl in impls:
            median[impl].append(statistics.median(times[impl]))
            warm[impl].append(statistics.median(warm_times[impl]))
            peak[impl].append(rss[impl])
        log("  " + f"{n:>12,} deals: " + ", ".join(
            f"{i} {median[i][-1]:.2f} s (second call {warm[i][-1]:.2f} s)" for i in impls))
    fits = {i: fit_exponent(sizes, median[i]) for i in impls}
    warm_fits = {i: fit_exponent(sizes, warm[i]) for i in impls}
    return {
        "sizes": list(sizes),
        "median_s": median,
        "warm_s": warm,
        "peak_rss_mb": peak,
        "exponent": {i: fits[i][0] for i in impls},
        "r2": {i: fits[i][1] for i in impls},
        "exponent_warm": {i: warm_fits[i][0] for i in impls},
        "r2_warm": {i: warm_fits[i][1] for i in impls},
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", default="1e6,2e6,5e6,10e6,20e6", help="comma-separated deal counts")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.deals.split(",")]
    result = bench_scaling(sizes, repeats=args.repeats)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
