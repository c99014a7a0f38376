"""Step-1 per-account features: the Ibis build against hand-written SQL and pandas.

Three implementations compute the same per-account table
(:func:`icp_helpers.customers.features.account_features`, every column) from the same
Parquet files:

``ibis``
    ``account_features`` on Ibis tables from ``read_parquet`` on in-process
    DuckDB: the package's path when the data stays where it is.
``sql``
    One hand-written DuckDB query over ``read_parquet`` (conditional
    aggregates with ``FILTER``, one grouped pass over the deals for both
    modes): the near-limit reference for the same engine.
``pandas``
    What an analyst writes: ``read_parquet``, filters, ``groupby().agg``,
    ``join``.
``ibis_pandas``
    ``account_features`` on pandas frames read with ``pd.read_parquet``:
    what a notebook pays when the tables are loaded first (reported, not a
    target).
``spark``
    ``account_features`` on Ibis tables read by pyspark in local mode: the
    same expressions on another engine, checked equal (the session
    start-up is timed apart).

Each run executes in a fresh Python process (no warm caches between
implementations, and the peak RSS is the implementation's own); runs are
interleaved so that ratios compare runs made under the same machine load.
The time of a run is its first call, as a notebook makes it once per
quarter; Ibis, SQL and Spark are also timed on a second call in the same
process, without one-off costs (Ibis' first compile, the JVM's warm-up).
The first run of each implementation writes its table, and the tables are
compared: same columns in the same order, same rows, floats within a
relative 1e-9.

Run from the repository root::

    .venv/bin/python -m bench.features_bench --data bench/data/100k_accounts_2M_deals
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from icp_helpers.customers.features import (
    DAYPARTS,
    EMPLOYEE_BANDS,
    REVENUE_BANDS,
    WEEKDAYS,
    feature_window,
)
from icp_helpers.data.quarters import Quarter

__all__ = [
    "IMPLEMENTATIONS",
    "Dataset",
    "ibis_features",
    "sql_features",
    "reference_sql",
    "pandas_features",
    "ibis_pandas_features",
    "spark_session",
    "spark_features",
    "compare",
    "run_isolated",
    "bench_features",
    "main",
]

IMPLEMENTATIONS = ("ibis", "sql", "pandas", "ibis_pandas", "spark")
REPO = Path(__file__).resolve().parents[1]

_INT_COLUMNS = ("won_deals", "lost_deals", "n_quarters_existed", "n_quarters_with_purchase", "referrals", "n_contacts")
_FLOAT_COLUMNS = (
    "lost_share", "won_value", "avg_deal_amount", "n_units", "avg_deal_size", "avg_deal_price",
    "spend_min", "spend_median", "spend_max", "multi_item_share", "deal_frequency",
    "recency_days", "tenure_days",
)


@dataclass(frozen=True)
class Dataset:
    """The canonical Parquet files of one dataset (contacts optional)."""

    deals: Path
    accounts: Path
    contacts: Path | None = None

    @classmethod
    def from_dir(cls, folder: str | Path) -> Dataset:
        folder = Path(folder)
        contacts = folder / "contacts.parquet"
        return cls(folder / "deals.parquet", folder / "accounts.parquet", contacts if contacts.is_file() else None)

    def columns(self, table: str) -> list[str]:
        path = getattr(self, table)
        return [] if path is None else list(pq.read_schema(path).names)

    def to_json(self) -> dict[str, str | None]:
        return {k: None if v is None else str(v) for k, v in self.__dict__.items()}


def _window(quarter: str, lookback: int):
    start, end = feature_window(quarter, lookback_quarters=lookback)
    last_q = Quarter.parse(quarter)
    first_q = last_q - (lookback - 1)
    return start, end, first_q.year * 4 + first_q.q - 1, last_q.year * 4 + last_q.q - 1


def _feature_order(account_columns: list[str], data: Dataset) -> list[str]:
    """The column order of ``account_features`` for these inputs."""
    derived = [
        "won_deals", "lost_deals", "lost_share", "won_value", "avg_deal_amount", "n_units",
        "avg_deal_size", "avg_deal_price", "spend_min", "spend_median", "spend_max",
        "multi_item_share", "multi_item_buyer", "n_quarters_existed", "n_quarters_with_purchase",
        "deal_frequency",
        "first_deal", "last_deal", "recency_days", "tenure_days", "preferred_weekday",
        "preferred_hour", "preferred_daypart",
    ]
    if "referred_by" in account_columns:
        derived += ["referrals", "was_referred"]
    if "employees" in account_columns:
        derived.append("employees_band")
    if "annual_revenue" in account_columns:
        derived.append("revenue_band")
    if data.contacts is not None:
        derived.append("n_contacts")
        derived += _contact_names(account_columns, data).keys()
    return [c for c in account_columns if c not in derived] + derived


def _contact_names(account_columns: list[str], data: Dataset) -> dict[str, str]:
    """Output name -> contacts column of the dominant job role and seniority."""
    present = data.columns("contacts")
    return {
        (f"contact_{c}" if c in account_columns else c): c
        for c in ("job_role", "seniority")
        if c in present
    }


# --------------------------------------------------------------------------- ibis


def ibis_features(data: Dataset, *, quarter: str, lookback: int = 4, backend=None) -> pd.DataFrame:
    """``account_features`` on Ibis tables that read the Parquet files where they are."""
    import ibis

    from icp_helpers.customers.features import account_features

    con = backend or ibis.duckdb.connect()
    tables = [con.read_parquet(p) if p is not None else None for p in (data.deals, data.accounts, data.contacts)]
    return account_features(*tables, quarter=quarter, lookback_quarters=lookback, backend=con)


def ibis_pandas_features(data: Dataset, *, quarter: str, lookback: int = 4) -> tuple[pd.DataFrame, float]:
    """``account_features`` on pandas frames; returns the table and the seconds spent reading."""
    from icp_helpers.customers.features import account_features

    t0 = time.perf_counter()
    frames = [pd.read_parquet(p) if p is not None else None for p in (data.deals, data.accounts, data.contacts)]
    read_s = time.perf_counter() - t0
    return account_features(*frames, quarter=quarter, lookback_quarters=lookback), read_s


def spark_session(memory: str = "4g"):
    """A local Spark session for the benchmark (two cores, UTC, no UI)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("icp-bench")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", memory)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_features(data: Dataset, *, quarter: str, lookback: int = 4, session=None) -> pd.DataFrame:
    """``account_features`` on pyspark (local mode) through Ibis, reading the same Parquet files."""
    import ibis

    con = ibis.pyspark.connect(session or spark_session())
    return ibis_features(data, quarter=quarter, lookback=lookback, backend=con)


# --------------------------------------------------------------------------- SQL


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _bands(column: str, bands) -> str:
    cases = []
    for label, lower, upper in bands:
        cond = " AND ".join(
            [f"{column} >= {lower}"] * (lower is not None) + [f"{column} < {upper}"] * (upper is not None)
        )
        cases.append(f"WHEN {cond} THEN '{label}'")
    return f"CASE {' '.join(cases)} END"


def reference_sql(data: Dataset, *, quarter: str, lookback: int = 4) -> str:
    """The hand-written DuckDB query of the per-account features (see the module docstring)."""
    start, end, first_qi, last_qi = _window(quarter, lookback)
    t_start, t_end = f"TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}'", f"TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'"
    acols, dcols = data.columns("accounts"), data.columns("deals")
    has_qty, has_items = "quantity" in dcols, "items" in dcols
    won_any = "stage = 'won'" if "stage" in dcols else "TRUE"
    lost = "stage = 'lost'" if "stage" in dcols else "FALSE"
    units = "quantity::DOUBLE" if has_qty else "items::DOUBLE" if has_items else "NULL::DOUBLE"
    multi = " OR ".join(
        [f"coalesce({c}::DOUBLE > 1, FALSE)" for c in ("quantity", "items") if c in dcols]
    ) or "FALSE"

    replace = ["account_id::VARCHAR AS account_id"]
    if "case_study" in acols:
        replace.append("coalesce(case_study::BOOLEAN, FALSE) AS case_study")
    if "churned_date" in acols:
        replace.append(f"CASE WHEN churned_date::TIMESTAMP < {t_end} THEN churned_date END AS churned_date")
    created = f"WHERE created_date IS NULL OR created_date::TIMESTAMP < {t_end}" if "created_date" in acols else ""

    ctes = [
        f"acc AS (SELECT * REPLACE ({', '.join(replace)}) FROM read_parquet({_q(data.accounts)}) {created})",
        f"""d AS (
          SELECT account_id::VARCHAR AS account_id, close_date::TIMESTAMP AS close_date,
                 amount::DOUBLE AS amount, {units} AS units, {multi} AS multi,
                 {won_any} AS won_any, {won_any} AND close_date >= {t_start} AS won,
                 {lost} AND close_date >= {t_start} AS lost
          FROM read_parquet({_q(data.deals)})
          WHERE account_id IS NOT NULL AND close_date < {t_end})""",
        """agg AS (
          SELECT account_id,
                 count(*) FILTER (WHERE won) AS won_deals,
                 count(*) FILTER (WHERE lost) AS lost_deals,
                 sum(amount) FILTER (WHERE won) AS won_value,
                 sum(units) FILTER (WHERE won) AS n_units,
                 sum(amount) FILTER (WHERE won AND units IS NOT NULL) AS priced_amount,
                 count(units) FILTER (WHERE won) AS priced_deals,
                 min(amount) FILTER (WHERE won) AS spend_min,
                 quantile_cont(amount, 0.5) FILTER (WHERE won) AS spend_median,
                 max(amount) FILTER (WHERE won) AS spend_max,
                 count(*) FILTER (WHERE won AND multi) AS multi,
                 min(close_date) AS first_deal,
                 max(close_date) FILTER (WHERE won_any) AS last_deal,
                 count(DISTINCT year(close_date) * 4 + quarter(close_date)) FILTER (WHERE won)
                     AS purchase_quarters
          FROM d GROUP BY account_id)""",
        # one pass over the won deals for both modes: (account, weekday, hour) cells
        """cells AS (
          SELECT account_id, isodow(close_date) - 1 AS wd, hour(close_date) AS hr, count(*) AS n
          FROM d WHERE won GROUP BY ALL)""",
        """wd AS (
          SELECT account_id, arg_max(wd, n * 7 + 6 - wd) AS wd
          FROM (SELECT account_id, wd, sum(n) AS n FROM cells GROUP BY ALL) GROUP BY account_id)""",
        """hr AS (
          SELECT account_id, arg_max(hr, n * 24 + 23 - hr) AS hr
          FROM (SELECT account_id, hr, sum(n) AS n FROM cells GROUP BY ALL) GROUP BY account_id)""",
    ]
    joins = ["agg USING (account_id)", "wd USING (account_id)", "hr USING (account_id)"]
    if "referred_by" in acols:
        ctes.append(
            "ref AS (SELECT referred_by::VARCHAR AS account_id, count(*) AS referrals "
            "FROM acc WHERE referred_by IS NOT NULL GROUP BY 1)"
        )
        joins.append("ref USING (account_id)")
    contact_names = _contact_names(acols, data) if data.contacts is not None else {}
    if data.contacts is not None:
        ctes.append(
            f"con AS (SELECT * REPLACE (account_id::VARCHAR AS account_id) FROM read_parquet({_q(data.contacts)}) "
            "WHERE account_id IS NOT NULL)"
        )
        ctes.append("nc AS (SELECT account_id, count(*) AS n_contacts FROM con GROUP BY 1)")
        joins.append("nc USING (account_id)")
        for k, (name, column) in enumerate(contact_names.items()):
            ctes.append(
                f"dom{k} AS (SELECT account_id, arg_min({column}, (-n, {column})) AS {name} FROM "
                f"(SELECT account_id, {column}, count(*) AS n FROM con WHERE {column} IS NOT NULL GROUP BY ALL) "
                "GROUP BY account_id)"
            )
            joins.append(f"dom{k} USING (account_id)")

    since = "least(created_date::TIMESTAMP, first_deal)" if "created_date" in acols else "first_deal"
    end_us = f"epoch_us({t_end})"
    weekday = "CASE wd " + " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(WEEKDAYS)) + " END"
    daypart = "CASE " + " ".join(f"WHEN hr BETWEEN {lo} AND {hi} THEN '{n}'" for n, lo, hi in DAYPARTS) + " END"
    won_n, lost_n = "coalesce(won_deals, 0)", "coalesce(lost_deals, 0)"
    derived = {
        "won_deals": won_n,
        "lost_deals": lost_n,
        "lost_share": f"CASE WHEN {won_n} + {lost_n} > 0 THEN {lost_n} / ({won_n} + {lost_n}) END",
        "won_value": "coalesce(won_value, 0)::DOUBLE",
        "avg_deal_amount": f"CASE WHEN {won_n} > 0 THEN won_value / {won_n} END",
        "n_units": "n_units" if (has_qty or has_items) else "NULL::DOUBLE",
        "avg_deal_size": "CASE WHEN priced_deals > 0 THEN n_units / priced_deals END",
        "avg_deal_price": "CASE WHEN n_units > 0 THEN priced_amount / n_units END",
        "spend_min": "spend_min",
        "spend_median": "spend_median",
        "spend_max": "spend_max",
        "multi_item_share": f"CASE WHEN {won_n} > 0 THEN multi / {won_n} END",
        "multi_item_buyer": f"coalesce(CASE WHEN {won_n} > 0 THEN multi / {won_n} END >= 0.5, FALSE)",
        "n_quarters_existed": "active",
        "n_quarters_with_purchase": "coalesce(purchase_quarters, 0)",
        "deal_frequency": f"{won_n} / active",
        "first_deal": "first_deal",
        "last_deal": "last_deal",
        "recency_days": f"({end_us} - epoch_us(last_deal)) / 86400e6",
        "tenure_days": f"({end_us} - epoch_us(since)) / 86400e6",
        "preferred_weekday": weekday,
        "preferred_hour": "hr",
        "preferred_daypart": daypart,
    }
    if "referred_by" in acols:
        derived["referrals"] = "coalesce(referrals, 0)"
        derived["was_referred"] = "referred_by IS NOT NULL"
    if "employees" in acols:
        derived["employees_band"] = _bands("employees", EMPLOYEE_BANDS)
    if "annual_revenue" in acols:
        derived["revenue_band"] = _bands("annual_revenue", REVENUE_BANDS)
    if data.contacts is not None:
        derived["n_contacts"] = "coalesce(n_contacts, 0)"
        for name in contact_names:
            derived[name] = name
    order = _feature_order(acols, data)
    select = ", ".join(f"{derived[c]} AS {c}" if c in derived else c for c in order)
    active = (
        f"greatest(least(CASE WHEN {since} IS NULL THEN {lookback} ELSE "
        f"{last_qi} - greatest(year({since}) * 4 + quarter({since}) - 1, {first_qi}) + 1 END, "
        f"{lookback}), 1)"
    )
    return (
        "WITH " + ",\n".join(ctes) + ",\n"
        f"joined AS (SELECT *, {since} AS since FROM acc LEFT JOIN {' LEFT JOIN '.join(joins)}),\n"
        f"final AS (SELECT *, {active} AS active FROM joined)\n"
        f"SELECT {select} FROM final ORDER BY account_id"
    )


def sql_features(data: Dataset, *, quarter: str, lookback: int = 4, con=None) -> pd.DataFrame:
    """Run :func:`reference_sql` on in-process DuckDB; the result as a pandas frame."""
    import duckdb

    con = con or duckdb.connect()
    return _no_midnight(con.sql(reference_sql(data, quarter=quarter, lookback=lookback)).to_arrow_table().to_pandas())


def _no_midnight(frame: pd.DataFrame) -> pd.DataFrame:
    """As ``account_features``: when every close time is midnight the dates carry no hour."""
    hours = frame["preferred_hour"].dropna()
    if len(hours) and (hours == 0).all():
        frame["preferred_hour"] = pd.array([pd.NA] * len(frame), dtype="Int64")
        frame["preferred_daypart"] = None
    return frame


# --------------------------------------------------------------------------- pandas


def _mode(frame: pd.DataFrame, level: pd.Series, name: str) -> pd.Series:
    """Most frequent level per account, ties to the smallest (sort, keep the first)."""
    counts = frame.groupby(["account_id", level.rename("level")]).size().rename("n").reset_index()
    counts = counts.sort_values(["account_id", "n", "level"], ascending=[True, False, True])
    return counts.drop_duplicates("account_id").set_index("account_id")["level"].rename(name)


def pandas_features(data: Dataset, *, quarter: str, lookback: int = 4) -> pd.DataFrame:
    """The per-account features as an analyst writes them in pandas."""
    start, end, first_qi, last_qi = _window(quarter, lookback)
    deals = pd.read_parquet(data.deals)
    accounts = pd.read_parquet(data.accounts)

    if "created_date" in accounts:
        accounts = accounts[accounts["created_date"].isna() | (accounts["created_date"] < end)]
    accounts = accounts.copy()
    if "churned_date" in accounts:
        accounts["churned_date"] = accounts["churned_date"].where(accounts["churned_date"] < end)
    if "case_study" in accounts:
        accounts["case_study"] = accounts["case_study"].fillna(False).astype(bool)

    deals = deals[deals["account_id"].notna() & (deals["close_date"] < end)]
    stage = deals["stage"] if "stage" in deals else pd.Series("won", index=deals.index)
    won_any = stage.eq("won")
    won = won_any & (deals["close_date"] >= start)
    lost = stage.eq("lost") & (deals["close_date"] >= start)
    unit_column = "quantity" if "quantity" in deals else "items" if "items" in deals else None
    multi = pd.Series(False, index=deals.index)
    for column in ("quantity", "items"):
        if column in deals:
            multi |= deals[column].gt(1).fillna(False).astype(bool)

    w = deals[won].assign(multi=multi[won])
    per_won = w.groupby("account_id").agg(
        won_deals=("amount", "size"),
        won_value=("amount", "sum"),
        spend_min=("amount", "min"),
        spend_median=("amount", "median"),
        spend_max=("amount", "max"),
        multi=("multi", "sum"),
    )
    if unit_column:
        priced = w[w[unit_column].notna()]
        per_won = per_won.join(
            priced.groupby("account_id").agg(
                n_units=(unit_column, "sum"), priced_amount=("amount", "sum"), priced_deals=("amount", "size")
            )
        )
    out = (
        accounts.set_index("account_id")
        .join(per_won)
        .join(deals[lost].groupby("account_id").size().rename("lost_deals"))
        .join(deals.groupby("account_id")["close_date"].min().rename("first_deal"))
        .join(deals[won_any].groupby("account_id")["close_date"].max().rename("last_deal"))
        .join(w.groupby("account_id")["close_date"].agg(
            lambda d: (d.dt.year * 4 + d.dt.quarter).nunique()).rename("purchase_quarters"))
        .join(_mode(w, w["close_date"].dt.weekday, "hour_or_day"))
        .rename(columns={"hour_or_day": "weekday"})
        .join(_mode(w, w["close_date"].dt.hour, "hour"))
    )
    if "referred_by" in accounts:
        out = out.join(accounts["referred_by"].value_counts().rename("referrals"))
    contact_names = {}
    if data.contacts is not None:
        contacts = pd.read_parquet(data.contacts)
        contacts = contacts[contacts["account_id"].notna()]
        out = out.join(contacts.groupby("account_id").size().rename("n_contacts"))
        contact_names = _contact_names(list(accounts.columns), data)
        for name, column in contact_names.items():
            known = contacts[contacts[column].notna()]
            out = out.join(_mode(known, known[column], name))
    out = out.reset_index()

    won_n = out["won_deals"].fillna(0).astype("int64")
    lost_n = out["lost_deals"].fillna(0).astype("int64")
    closed = won_n + lost_n
    since = out[["created_date", "first_deal"]].min(axis=1) if "created_date" in out else out["first_deal"]
    since_q = since.dt.year * 4 + since.dt.quarter - 1
    active = (last_qi - np.maximum(since_q, first_qi) + 1).fillna(lookback).clip(1, lookback).astype("int64")
    share = (out["multi"].astype("float64") / won_n).where(won_n > 0)
    n_units = out["n_units"] if unit_column else np.nan
    derived = {
        "won_deals": won_n,
        "lost_deals": lost_n,
        "lost_share": (lost_n / closed).where(closed > 0),
        "won_value": out["won_value"].fillna(0.0),
        "avg_deal_amount": (out["won_value"] / won_n).where(won_n > 0),
        "n_units": n_units,
        "avg_deal_size": (out["n_units"] / out["priced_deals"]).where(out["priced_deals"] > 0) if unit_column else np.nan,
        "avg_deal_price": (out["priced_amount"] / out["n_units"]).where(out["n_units"] > 0) if unit_column else np.nan,
        "spend_min": out["spend_min"],
        "spend_median": out["spend_median"],
        "spend_max": out["spend_max"],
        "multi_item_share": share,
        "multi_item_buyer": share.ge(0.5).fillna(False).astype(bool),
        "n_quarters_existed": active,
        "n_quarters_with_purchase": out["purchase_quarters"].fillna(0).astype("int64"),
        "deal_frequency": won_n / active,
        "first_deal": out["first_deal"],
        "last_deal": out["last_deal"],
        "recency_days": (end - out["last_deal"]).dt.total_seconds() / 86400,
        "tenure_days": (end - since).dt.total_seconds() / 86400,
        "preferred_weekday": out["weekday"].map(dict(enumerate(WEEKDAYS))),
        "preferred_hour": out["hour"].astype("Int64"),
        "preferred_daypart": pd.cut(
            out["hour"], [lo - 0.5 for _, lo, _ in DAYPARTS] + [24], labels=[n for n, _, _ in DAYPARTS]
        ).astype(object),
    }
    if "referred_by" in out:
        derived["referrals"] = out["referrals"].fillna(0).astype("int64")
        derived["was_referred"] = out["referred_by"].notna()
    if "employees" in out:
        derived["employees_band"] = pd.cut(
            out["employees"], [-np.inf, 10, 50, 250, 1000, np.inf], right=False, labels=[b[0] for b in EMPLOYEE_BANDS]
        ).astype(object)
    if "annual_revenue" in out:
        derived["revenue_band"] = pd.cut(
            out["annual_revenue"], [-np.inf, 1e6, 1e7, 5e7, 2.5e8, np.inf], right=False, labels=[b[0] for b in REVENUE_BANDS]
        ).astype(object)
    if data.contacts is not None:
        derived["n_contacts"] = out["n_contacts"].fillna(0).astype("int64")
        for name in contact_names:
            derived[name] = out[name]
    out = out.assign(**derived)
    out = out[_feature_order(list(accounts.columns), data)].sort_values("account_id", ignore_index=True)
    return _no_midnight(out)


# --------------------------------------------------------------------------- comparison


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values("account_id", kind="stable").reset_index(drop=True)
    for column in frame.columns:
        values = frame[column]
        if column in _INT_COLUMNS or column in _FLOAT_COLUMNS or pd.api.types.is_numeric_dtype(values.dtype):
            if not pd.api.types.is_bool_dtype(values.dtype):
                frame[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(values.dtype):
            frame[column] = values.astype("datetime64[us]")
    return frame


def compare(left: pd.DataFrame, right: pd.DataFrame, *, rtol: float = 1e-9) -> list[str]:
    """Differences between two feature tables (empty when equal).

    Same columns in the same order, same accounts, floats within ``rtol``
    (and an absolute 1e-9), everything else exactly equal, missing equal to
    missing.
    """
    if list(left.columns) != list(right.columns):
        missing, extra = sorted(set(left) - set(right)), sorted(set(right) - set(left))
        if missing or extra:
            return [f"columns differ: missing {missing}, extra {extra}"]
        return [f"column order differs: {list(right.columns)}"]
    if len(left) != len(right):
        return [f"row counts differ: {len(left)} != {len(right)}"]
    a, b = _normalise(left), _normalise(right)
    problems = []
    if not a["account_id"].astype(str).equals(b["account_id"].astype(str)):
        return ["account ids differ"]
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype == "float64" and y.dtype == "float64":
            ok = np.isclose(x.to_numpy(), y.to_numpy(), rtol=rtol, atol=1e-9, equal_nan=True)
        else:
            xs, ys = x.astype(object), y.astype(object)
            both_missing = (x.isna() & y.isna()).to_numpy()
            ok = both_missing | (xs == ys).fillna(False).to_numpy(dtype=bool)
        if not ok.all():
            first = int(np.flatnonzero(~ok)[0])
            problems.append(
                f"{column}: {int((~ok).sum()):,} rows differ, e.g. {a.at[first, 'account_id']}: "
                f"{x.iloc[first]!r} != {y.iloc[first]!r}"
            )
    return problems


# --------------------------------------------------------------------------- timing


def _peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process (MB; this one by default).

    ``VmHWM`` belongs to the process image, unlike ``ru_maxrss``, which Linux
    carries over from the parent through fork and exec.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else 0.0


def _children_peak_rss_mb() -> float:
    """Summed peak RSS of this process's children (the JVM of a Spark session)."""
    import psutil

    return sum(_peak_rss_mb(child.pid) for child in psutil.Process().children(recursive=True))


#: Implementations also timed a second time in the same process (fixed costs such as
#: Ibis' first compile, or Spark's JVM warm-up, are paid by the first call only).
WARM = ("ibis", "sql", "spark")


def _call(impl: str, data: Dataset, quarter: str, lookback: int, session, record: dict) -> pd.DataFrame:
    if impl == "ibis":
        return ibis_features(data, quarter=quarter, lookback=lookback)
    if impl == "sql":
        return sql_features(data, quarter=quarter, lookback=lookback)
    if impl == "pandas":
        return pandas_features(data, quarter=quarter, lookback=lookback)
    if impl == "ibis_pandas":
        table, record["read_s"] = ibis_pandas_features(data, quarter=quarter, lookback=lookback)
        return table
    if impl == "spark":
        return spark_features(data, quarter=quarter, lookback=lookback, session=session)
    raise ValueError(f"unknown implementation {impl!r}; one of {IMPLEMENTATIONS}")


def _worker(impl: str, data: Dataset, quarter: str, lookback: int, out: Path | None) -> dict:
    """One timed run in this process (called in a fresh interpreter by :func:`run_isolated`).

    ``seconds`` is the first call (what a notebook pays, once per quarter);
    for :data:`WARM` implementations ``warm_s`` is a second call.
    """
    import duckdb  # noqa: F401  - imports are not part of any implementation's time
    import ibis
    import pyarrow.parquet  # noqa: F401

    ibis.duckdb.connect().disconnect()
    record: dict = {"impl": impl}
    session = None
    if impl == "spark":
        t0 = time.perf_counter()
        session = spark_session()
        record["startup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = _call(impl, data, quarter, lookback, session, record)
    record["seconds"] = time.perf_counter() - t0
    record["peak_rss_mb"] = _peak_rss_mb()
    record["rows"] = len(table)
    if out is not None:
        table.to_parquet(out, index=False)
    if impl in WARM:
        del table
        t0 = time.perf_counter()
        _call(impl, data, quarter, lookback, session, record)
        record["warm_s"] = time.perf_counter() - t0
    if session is not None:
        record["jvm_peak_rss_mb"] = _children_peak_rss_mb()
        session.stop()
    return record


def run_isolated(impl: str, data: Dataset, *, quarter: str, lookback: int = 4, out: Path | None = None, timeout: float = 3600) -> dict:
    """Run one implementation in a fresh interpreter; its timing record (``seconds``, ``peak_rss_mb`` ...)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result = Path(handle.name)
    args = {
        "impl": impl, "data": data.to_json(), "quarter": quarter, "lookback": lookback,
        "out": None if out is None else str(out), "result": str(result),
    }
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.features_bench", "--worker", json.dumps(args)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{impl} failed:\n{proc.stderr[-3000:]}")
        return json.loads(result.read_text())
    finally:
        result.unlink(missing_ok=True)


def bench_features(
    data: Dataset,
    *,
    quarter: str,
    lookback: int = 4,
    repeats: int = 3,
    impls: tuple[str, ...] = ("ibis", "sql", "pandas", "ibis_pandas"),
    work_dir: Path | None = None,
    check: bool = True,
    log=print,
) -> dict:
    """Time ``impls`` on ``data`` (interleaved, each run in a fresh process) and check their tables equal.

    Returns
    -------
    dict
        ``runs`` (impl -> list of records), ``median_s``, ``warm_s`` and
        ``peak_rss_mb`` (impl -> value), ``ratios`` (``ibis/sql``,
        ``ibis/sql warm``, ``pandas/ibis``, ``ibis_pandas/ibis``,
        ``spark/ibis warm``: medians of the per-round ratios), ``equal``
        (impl -> list of differences against ``ibis``; empty = equal),
        ``rows``.
    """
    work = Path(work_dir or tempfile.mkdtemp(prefix="features_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict]] = {i: [] for i in impls}
    outputs = {i: work / f"{i}.parquet" for i in impls}
    for rep in range(repeats):
        for impl in impls:
            record = run_isolated(impl, data, quarter=quarter, lookback=lookback, out=outputs[impl] if rep == 0 and check else None)
            runs[impl].append(record)
            warm = f" (second call {record['warm_s']:.2f} s)" if "warm_s" in record else ""
            log(f"  {impl:<12} run {rep + 1}/{repeats}: {record['seconds']:7.2f} s{warm}  peak RSS {record['peak_rss_mb']:7.0f} MB")
    median = {i: statistics.median(r["seconds"] for r in runs[i]) for i in impls}

    def ratio(num: str, den: str, key: str = "seconds") -> float | None:
        if num not in runs or den not in runs or key not in runs[num][0] or key not in runs[den][0]:
            return None
        return statistics.median(a[key] / b[key] for a, b in zip(runs[num], runs[den], strict=True))

    result = {
        "runs": runs,
        "median_s": median,
        "peak_rss_mb": {i: max(r["peak_rss_mb"] for r in runs[i]) for i in impls},
        "warm_s": {i: statistics.median(r["warm_s"] for r in runs[i]) for i in impls if "warm_s" in runs[i][0]},
        "ratios": {
            "ibis/sql": ratio("ibis", "sql"),
            "ibis/sql warm": ratio("ibis", "sql", "warm_s"),
            "spark/ibis warm": ratio("spark", "ibis", "warm_s"),
            "pandas/ibis": ratio("pandas", "ibis"),
            "ibis_pandas/ibis": ratio("ibis_pandas", "ibis"),
        },
        "rows": runs[impls[0]][0]["rows"],
        "equal": {},
    }
    if check and "ibis" in impls:
        reference = pd.read_parquet(outputs["ibis"])
        for impl in impls:
            if impl != "ibis":
                result["equal"][impl] = compare(reference, pd.read_parquet(outputs[impl]))
    return result


def main(argv: list[str] | None = None) -> dict | None:
    """Command line; ``--worker`` is the internal entry of one isolated run."""
    parser = argparse.ArgumentParser(prog="python -m bench.features_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="a folder with deals/accounts/contacts.parquet")
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--lookback", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--impls", default="ibis,sql,pandas,ibis_pandas")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        data = Dataset(**{k: None if v is None else Path(v) for k, v in spec["data"].items()})
        out = Path(spec["out"]) if spec["out"] else None
        record = _worker(spec["impl"], data, spec["quarter"], spec["lookback"], out)
        Path(spec["result"]).write_text(json.dumps(record))
        return None
    if args.data is None:
        parser.error("--data is required")
    result = bench_features(
        Dataset.from_dir(args.data), quarter=args.quarter, lookback=args.lookback,
        repeats=args.repeats, impls=tuple(args.impls.split(",")),
    )
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2, default=str))
    return result


if __name__ == "__main__":
    main()
