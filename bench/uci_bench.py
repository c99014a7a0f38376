"""Real data: UCI Online Retail (541,909 invoice lines of a UK gift wholesaler).

The export is read in place from ``../shared/datasets/uci_online_retail/``
through a project config: ``examples/uci_online_retail.yml`` when the
project has it, else a minimal config written to ``bench/data/`` (invoice
lines summed into deals by ``InvoiceNo``, customers as accounts).

Two measurements, timed like the generated data:

- the feature build: the loaders turn the export into canonical tables
  (timed: the same loading a notebook does), which are written as Parquet
  to ``bench/data/uci_online_retail/``; then the Ibis build, the DuckDB SQL
  reference and pandas run on them and are checked equal
  (:func:`bench.features_bench.bench_features`);
- a whole quarter through the runner (:func:`bench.e2e_bench.bench_e2e`),
  for the latest complete quarter of the export.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.generate import BENCH_DATA
from icp_helpers.data.config import PROJECT_ROOT

__all__ = ["DATASET", "EXAMPLE_CONFIG", "uci_config", "canonical_tables"]

DATASET = PROJECT_ROOT.parent / "shared" / "datasets" / "uci_online_retail" / "online_retail.parquet"
EXAMPLE_CONFIG = PROJECT_ROOT / "examples" / "uci_online_retail.yml"
WORK = BENCH_DATA / "uci_online_retail"

_FALLBACK = """\
# Written by bench/uci_bench.py because examples/uci_online_retail.yml is missing:
# UCI Online Retail read in place; invoice lines become deals, customers accounts.
name: UCI Online Retail (benchmark)
data_dir: {data_dir}
reports_dir: {reports_dir}
inputs:
  accounts:
    path: online_retail.parquet
    columns: {{CustomerID: account_id, Country: country}}
    defaults: {{industry: gift retail, employees: ""}}
    distinct: true
  deals:
    path: online_retail.parquet
    columns: {{InvoiceNo: deal_id, CustomerID: account_id, InvoiceDate: close_date, Quantity: quantity}}
    derive: {{amount: Quantity * UnitPrice}}
    date_format: "%m/%d/%Y %H:%M"
    lines: true
analysis:
  lookback_quarters: 4
"""


def uci_config() -> Path:
    """The config to use: the project's example when present, else the fallback in ``bench/data``."""
    if EXAMPLE_CONFIG.is_file():
        return EXAMPLE_CONFIG
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "icp.yml"
    path.write_text(
        _FALLBACK.format(data_dir=DATASET.parent, reports_dir=WORK / "reports"), encoding="utf-8"
    )
    return path


def canonical_tables(config: Path, out_dir: Path = WORK) -> dict:
    """Load accounts and deals through the loaders, write them as Parquet; timings and counts.

    Returns
    -------
    dict
        ``load_s`` (loading, mapping, validation, quarantine), ``rows_read``
        and ``rows_out`` per table, ``quarter`` (latest complete) and
        ``lookback`` of the config, and ``dir`` holding ``deals.parquet``
        and ``accounts.parquet``.
    """
    from icp_helpers.data.config import load_config
    from icp_helpers.data.loaders import latest_quarter, load_project

    cfg = load_config(config)
    t0 = time.perf_counter()
    project = load_project(cfg, tables=["accounts", "deals"])
    load_s = time.perf_counter() - t0
    out_dir.mkdir(parents=True, exist_ok=True)
    project.deals.to_parquet(out_dir / "deals.parquet", index=False)
    project.accounts.to_parquet(out_dir / "accounts.parquet", index=False)
    contacts = out_dir / "contacts.parquet"
    contacts.unlink(missing_ok=True)  # the export has no contacts
    return {
        "config": str(config),
        "load_s": load_s,
        "rows_read": {t: s["rows_read"] for t, s in ((t, v.summary) for t, v in project.tables.items())},
        "rows_out": {t: s["rows_out"] for t, s in ((t, v.summary) for t, v in project.tables.items())},
        "quarter": str(latest_quarter(cfg)),
        "lookback": cfg.analysis.lookback_quarters,
        "dir": str(out_dir),
    }
