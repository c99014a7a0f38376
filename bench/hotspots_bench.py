"""The steps that grow worst with the data, measured on their own, with prototype fixes.

The end-to-end quarters (:mod:`bench.e2e_bench`) show where the time goes;
the cells that grow fastest with accounts and leads are measured here at
sizes that finish in seconds, so their growth can be extrapolated, together
with a prototype of each fix. Prototypes of fixes not yet in the package live here:

``xlsx``
    ``icp_helpers.profile.export.write_scored`` streams the XLSX in openpyxl's
    write-only mode. Measured against the ordinary workbook it used before
    (kept here as ``write_xlsx_ordinary``), which holds one Python object
    per cell until it is saved: time and memory grew with rows x columns.
``redactor``
    ``icp_helpers.interviews.redact.Redactor.from_contacts`` indexes the names and
    phone numbers of every contact; phone digits are extracted one phone at
    a time in Python. Prototype: a redactor built from the contacts of the
    interviewed accounts only, the ones whose names can appear in their
    answers.
``bootstrap``
    ``icp_helpers.traits.selection.TraitSelector`` re-selects traits in every
    bootstrap resample; with a hundred traits nearly every account is its
    own pattern, so each resample's redundancy pruning passes over all
    accounts. Measured: seconds per resample against accounts.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["write_xlsx_ordinary", "bench_xlsx", "bench_redactor", "bench_bootstrap", "main"]


def _scored_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A table shaped like ``scored_leads`` / ``scored_accounts``: ids, texts, numbers, dates."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:07d}" for i in range(n)],
            "account_id": [f"A{i:06d}" for i in rng.integers(0, n, n)],
            "job_title": rng.choice(["Owner", "Head Chef", "Buyer", "Purchasing Manager"], n),
            "source": rng.choice(["web", "trade_show", "referral"], n),
            "created": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 600, n), unit="D"),
            "points": rng.gamma(2.0, 50.0, n).round(1),
            "tier": rng.choice(["weak", "medium", "strong"], n),
            "fit_tier": rng.choice(["A", "B", "C"], n),
            "converted": rng.random(n) < 0.1,
            "reasons": rng.choice(["form_submission; key_page_visit", "page_visit", "download:price-list"], n),
        }
    )


def write_xlsx_ordinary(frame: pd.DataFrame, path: Path, *, sheet: str) -> None:
    """The XLSX as ``icp_helpers.profile.export`` wrote it before: an ordinary openpyxl workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from icp_helpers.profile.export import (
        _MAX_WIDTH,
        _WIDTH_SAMPLE_ROWS,
        _display_width,
        _excel_value,
    )

    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet[:31] or "Sheet1"
    headers = [_excel_value(str(c)) for c in frame.columns]
    worksheet.append(headers)
    for cell in worksheet[1]:
        cell.font = Font(bold=True)
    widths = [_display_width(h) for h in headers]
    for index, row in enumerate(frame.itertuples(index=False, name=None)):
        values = [_excel_value(v) for v in row]
        worksheet.append(values)
        if index < _WIDTH_SAMPLE_ROWS:
            widths = [max(w, _display_width(v)) for w, v in zip(widths, values, strict=True)]
    for position, width in enumerate(widths, start=1):
        worksheet.column_dimensions[get_column_letter(position)].width = min(width + 2, _MAX_WIDTH)
    worksheet.freeze_panes = "A2"
    if headers:
        worksheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(frame) + 1}"
    workbook.save(path)


def _seconds(function, *args, **kwargs) -> float:
    t0 = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - t0


def _peak_mb(function, *args, **kwargs) -> float:
    """Peak Python memory (MB) allocated during one call (traced, so run apart from the timing)."""
    tracemalloc.start()
    function(*args, **kwargs)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def bench_xlsx(rows: list[int], work: Path, log=print) -> dict:
    """The package's write-only XLSX writer against the ordinary workbook; seconds and peak memory."""
    from openpyxl import load_workbook

    from icp_helpers.profile.export import _write_xlsx

    work.mkdir(parents=True, exist_ok=True)
    out = {"rows": rows, "ordinary_s": [], "streaming_s": []}
    for n in rows:
        frame = _scored_frame(n)
        out["ordinary_s"].append(_seconds(write_xlsx_ordinary, frame, work / "ordinary.xlsx", sheet="scored"))
        out["streaming_s"].append(_seconds(_write_xlsx, frame, work / "streaming.xlsx", sheet="scored"))
        log(f"  xlsx {n:>9,} rows: ordinary workbook {out['ordinary_s'][-1]:.1f} s, "
            f"write-only (package) {out['streaming_s'][-1]:.1f} s")
    frame = _scored_frame(rows[0])
    out["memory_rows"] = rows[0]
    out["ordinary_mb"] = _peak_mb(write_xlsx_ordinary, frame, work / "ordinary.xlsx", sheet="scored")
    out["streaming_mb"] = _peak_mb(_write_xlsx, frame, work / "streaming.xlsx", sheet="scored")
    log(f"  xlsx {rows[0]:,} rows, peak Python memory: ordinary {out['ordinary_mb']:.0f} MB, "
        f"write-only {out['streaming_mb']:.0f} MB")
    sheet = load_workbook(work / "streaming.xlsx", read_only=True).active
    out["streaming_rows_read_back"] = sum(1 for _ in sheet.iter_rows()) - 1
    return out


def bench_redactor(contacts_path: Path, interviews_path: Path, log=print) -> dict:
    """``Redactor.from_contacts`` on every contact against the interviewed accounts' contacts."""
    from icp_helpers.interviews.redact import Redactor

    contacts = pd.read_parquet(contacts_path)
    interviewed = pd.read_csv(interviews_path, usecols=["account_id"])["account_id"].unique()
    t0 = time.perf_counter()
    Redactor.from_contacts(contacts)
    every = time.perf_counter() - t0
    own = contacts[contacts["account_id"].isin(interviewed)]
    t0 = time.perf_counter()
    Redactor.from_contacts(own)
    only = time.perf_counter() - t0
    log(f"  redactor: {len(contacts):,} contacts {every:.1f} s; the {len(own):,} contacts of the "
        f"interviewed accounts {only:.3f} s")
    return {"contacts": len(contacts), "all_s": every, "interviewed_contacts": len(own), "interviewed_s": only}


def bench_bootstrap(features_dir: Path, config: Path, accounts: list[int], resamples: int = 20, log=print) -> dict:
    """Seconds per bootstrap resample of ``TraitSelector`` against accounts, with and without the cap.

    A resample's cost is ``(fit with R resamples - fit without any) / R``;
    "capped" draws at most ``traits.bootstrap_max_accounts`` (the config's,
    50,000 by default) accounts per resample, "every account" draws them all.
    """
    from icp_helpers.data.config import load_config
    from icp_helpers.traits import selection, traits

    cap = load_config(config).traits.bootstrap_max_accounts
    inputs = traits.load_trait_inputs(features_dir)
    candidates = traits.candidate_traits(
        inputs.features, code_traits=inputs.codes,
        exclude=traits.value_rule_columns(load_config(config).best_customers),
    )
    matrix = traits.trait_matrix(inputs.frame, candidates)
    y, interviewed = np.asarray(inputs.is_best), np.asarray(inputs.interviewed)
    out = {"accounts": [], "traits": matrix.shape[1], "cap": cap, "resamples": resamples,
           "capped_s": [], "uncapped_s": [], "without_bootstrap_s": []}

    def fit(m, yy, ii, n_bootstrap, max_accounts):
        t0 = time.perf_counter()
        selection.TraitSelector(traits=candidates, n_bootstrap=n_bootstrap, random_state=0,
                                bootstrap_max_accounts=max_accounts).fit(m, yy, interviewed=ii)
        return time.perf_counter() - t0

    for n in accounts:
        n = min(n, len(matrix))
        idx = np.random.default_rng(0).choice(len(matrix), n, replace=False)
        m, yy, ii = matrix.iloc[idx], y[idx], interviewed[idx]
        base = fit(m, yy, ii, 0, None)
        capped = (fit(m, yy, ii, resamples, cap) - base) / resamples
        uncapped = (fit(m, yy, ii, resamples, None) - base) / resamples
        out["accounts"].append(n)
        out["without_bootstrap_s"].append(base)
        out["capped_s"].append(capped)
        out["uncapped_s"].append(uncapped)
        log(f"  bootstrap: {n:>9,} accounts x {matrix.shape[1]} traits: {capped:.3f} s per resample "
            f"capped at {cap:,}, {uncapped:.3f} s drawing every account (selection without it {base:.1f} s)")
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="10000,50000")
    parser.add_argument("--contacts", type=Path, help="contacts.parquet of a generated dataset")
    parser.add_argument("--run-dir", type=Path, help="a run folder with features/best customers/code traits")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--accounts", default="25000,100000")
    args = parser.parse_args(argv)
    from bench.generate import BENCH_DATA
    from icp_helpers.data.config import SAMPLE_DIR

    result = {"xlsx": bench_xlsx([int(r) for r in args.rows.split(",")], BENCH_DATA / "hotspots")}
    if args.contacts:
        result["redactor"] = bench_redactor(args.contacts, SAMPLE_DIR / "interviews.csv")
    if args.run_dir and args.config:
        result["bootstrap"] = bench_bootstrap(args.run_dir, args.config, [int(a) for a in args.accounts.split(",")])
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
