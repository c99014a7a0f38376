"""The same Ibis feature expressions give the same table on DuckDB and on Spark (local mode)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from icp_helpers.customers.features import account_features

pytestmark = pytest.mark.spark

FLOAT_COLUMNS = (
    "lost_share",
    "won_value",
    "avg_deal_amount",
    "n_units",
    "avg_deal_size",
    "avg_deal_price",
    "spend_min",
    "spend_median",
    "spend_max",
    "multi_item_share",
    "deal_frequency",
    "recency_days",
    "tenure_days",
    "annual_revenue",
)


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark cannot start")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("icp-features-test")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _synthetic(seed: int = 11, n_accounts: int = 300, n_deals: int = 6000):
    rng = np.random.default_rng(seed)
    ids = [f"A{i:04d}" for i in range(n_accounts)]
    created = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 1400, n_accounts), unit="D")
    churned = pd.Series(pd.NaT, index=range(n_accounts), dtype="datetime64[us]")
    leaving = rng.random(n_accounts) < 0.1
    churned[leaving] = created[leaving] + pd.to_timedelta(rng.integers(30, 500, leaving.sum()), unit="D")
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "industry": rng.choice(["wholesaler", "restaurant", "deli", None], n_accounts),
            "employees": rng.integers(1, 3000, n_accounts),
            "annual_revenue": np.where(rng.random(n_accounts) < 0.1, np.nan, rng.gamma(2, 4e6, n_accounts)),
            "country": rng.choice(["Italy", "Spain"], n_accounts),
            "city_size": rng.choice(["large", "medium", "small"], n_accounts),
            "created_date": created.astype("datetime64[us]"),
            "referred_by": [ids[j] if rng.random() < 0.2 else None for j in rng.integers(0, n_accounts, n_accounts)],
            "case_study": rng.random(n_accounts) < 0.05,
            "churned_date": churned,
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i:06d}" for i in range(n_deals)],
            "account_id": rng.choice(ids[:-20], n_deals),  # the last 20 accounts never buy
            "close_date": (
                pd.Timestamp("2024-01-01")
                + pd.to_timedelta(rng.integers(0, 1100 * 24 * 60, n_deals), unit="min")
            ).astype("datetime64[us]"),
            "amount": rng.gamma(2.0, 300.0, n_deals).round(2),
            "stage": rng.choice(["won", "lost", "open"], n_deals, p=[0.7, 0.2, 0.1]),
            "quantity": rng.integers(1, 30, n_deals).astype(float),
        }
    )
    contacts = pd.DataFrame(
        {
            "contact_id": [f"C{i:05d}" for i in range(700)],
            "account_id": rng.choice(ids, 700),
            "job_role": rng.choice(["owner", "purchasing", "chef", None], 700),
            "seniority": rng.choice(["c-level", "manager", "staff"], 700),
        }
    )
    return deals, accounts, contacts


def test_duckdb_and_spark_give_the_same_features(spark):
    import ibis

    deals, accounts, contacts = _synthetic()
    kwargs = {"quarter": "2026Q2", "lookback_quarters": 4}
    on_duckdb = account_features(deals, accounts, contacts, backend=ibis.duckdb.connect(), **kwargs)
    on_spark = account_features(deals, accounts, contacts, backend=ibis.pyspark.connect(spark), **kwargs)

    assert list(on_spark.columns) == list(on_duckdb.columns)
    assert len(on_duckdb) == len(accounts[accounts["created_date"] < pd.Timestamp("2026-07-01")])
    assert on_duckdb["won_deals"].sum() > 1000  # a real comparison, not of empty tables
    for column in on_duckdb.columns:
        left, right = on_duckdb[column], on_spark[column]
        if column in FLOAT_COLUMNS:
            np.testing.assert_allclose(
                left.to_numpy(dtype=float), right.to_numpy(dtype=float), rtol=1e-9, atol=1e-9,
                equal_nan=True, err_msg=column,
            )
        elif pd.api.types.is_datetime64_any_dtype(left.dtype):
            pd.testing.assert_series_equal(
                left.astype("datetime64[us]"), right.astype("datetime64[us]"), check_names=False
            )
        else:
            assert left.astype(object).where(left.notna(), None).tolist() == right.astype(object).where(
                right.notna(), None
            ).tolist(), column
