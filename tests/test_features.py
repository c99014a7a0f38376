"""Per-account features: every number checked by hand on tiny tables, and no leakage."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from icp_helpers.customers.features import account_features, connect, feature_window
from icp_helpers.data.config import EngineConfig

# Window of 2026Q1 with two quarters: [2025-10-01, 2026-04-01).
QUARTER, LOOKBACK = "2026Q1", 2
END = pd.Timestamp("2026-04-01")


def _deals() -> pd.DataFrame:
    rows = [
        # account a: three won deals in the window, one lost, one open, one won before the window
        ("d1", "a", "2025-11-03 09:15", 100.0, "won", 1),  # Monday 9h
        ("d2", "a", "2025-11-04 14:00", 300.0, "won", 4),  # Tuesday 14h
        ("d3", "a", "2026-02-02 09:45", 200.0, "won", 5),  # Monday 9h
        ("d4", "a", "2026-03-10 10:00", 999.0, "lost", 2),
        ("d5", "a", "2026-03-20 10:00", 777.0, "open", 3),
        ("d6", "a", "2025-06-15 08:00", 50.0, "won", 1),  # before the window
        # account b: one won, three lost in the window
        ("d7", "b", "2026-01-08 16:30", 80.0, "won", 1),  # Thursday 16h
        ("d8", "b", "2026-01-09 11:00", 10.0, "lost", 1),
        ("d9", "b", "2026-02-09 11:00", 10.0, "lost", 1),
        ("d10", "b", "2026-03-09 11:00", 10.0, "lost", 1),
        # account c: only a deal before the window
        ("d11", "c", "2024-12-31 23:00", 60.0, "won", 2),
    ]
    frame = pd.DataFrame(rows, columns=["deal_id", "account_id", "close_date", "amount", "stage", "quantity"])
    frame["close_date"] = pd.to_datetime(frame["close_date"])
    frame["quantity"] = frame["quantity"].astype(float)
    return frame


def _accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "industry": ["wholesaler", "restaurant", "deli", "hotel"],
            "employees": [9, 10, 250, 1000],
            "annual_revenue": [999_999.0, 1_000_000.0, 50_000_000.0, np.nan],
            "country": ["Italy", "Spain", "Italy", "France"],
            "city_size": ["large", "small", "large", "medium"],
            "created_date": pd.to_datetime(["2025-01-10", "2025-12-01", "2020-05-05", None]),
            "referred_by": [None, "a", "a", "b"],
            "case_study": [True, False, False, False],
            "churned_date": pd.to_datetime([None, None, "2025-12-15", None]),
        }
    )


def _contacts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "contact_id": ["c1", "c2", "c3", "c4", "c5"],
            "account_id": ["a", "a", "a", "b", "b"],
            "job_role": ["purchasing", "owner", "owner", "chef", "owner"],
            "seniority": ["manager", "c-level", "c-level", "staff", None],
        }
    )


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    out = account_features(_deals(), _accounts(), _contacts(), quarter=QUARTER, lookback_quarters=LOOKBACK)
    return out.set_index("account_id")


def test_window_is_half_open_and_ends_with_the_quarter():
    assert feature_window("2026Q1", lookback_quarters=2) == (pd.Timestamp("2025-10-01"), END)


def test_every_account_is_kept_once(table):
    assert list(table.index) == ["a", "b", "c", "d"]


def test_deal_counts_and_value(table):
    a, b, c = table.loc["a"], table.loc["b"], table.loc["c"]
    assert (a.won_deals, a.lost_deals) == (3, 1)  # the open deal and the pre-window deal do not count
    assert a.won_value == 600.0
    assert a.avg_deal_amount == 200.0
    assert a.lost_share == pytest.approx(1 / 4)
    assert (b.won_deals, b.lost_deals) == (1, 3)
    assert b.lost_share == pytest.approx(3 / 4)
    assert (c.won_deals, c.lost_deals, c.won_value) == (0, 0, 0.0)
    assert np.isnan(c.avg_deal_amount) and np.isnan(c.lost_share)


def test_units_size_and_price(table):
    a = table.loc["a"]
    assert a.n_units == 10.0  # 1 + 4 + 5
    assert a.avg_deal_size == pytest.approx(10 / 3)
    assert a.avg_deal_price == pytest.approx(600 / 10)  # sum amount / sum quantity
    assert table.loc["b", "avg_deal_price"] == 80.0


def test_spend_thresholds(table):
    a = table.loc["a"]
    assert (a.spend_min, a.spend_median, a.spend_max) == (100.0, 200.0, 300.0)
    assert np.isnan(table.loc["c", "spend_median"])


def test_multi_item_share(table):
    # a: quantities 1, 4, 5 -> two of three won deals are multi-item
    assert table.loc["a", "multi_item_share"] == pytest.approx(2 / 3)
    assert bool(table.loc["a", "multi_item_buyer"]) is True
    assert table.loc["b", "multi_item_share"] == 0.0
    assert bool(table.loc["b", "multi_item_buyer"]) is False


def test_frequency_uses_active_quarters(table):
    # a existed for both quarters of the window; b was created in 2025Q4 (first window quarter)
    assert table.loc["a", "n_quarters_existed"] == 2
    assert table.loc["a", "deal_frequency"] == pytest.approx(1.5)
    assert table.loc["b", "deal_frequency"] == pytest.approx(0.5)


def test_frequency_of_an_account_created_in_the_last_quarter():
    accounts = _accounts().assign(created_date=pd.to_datetime(["2026-02-01", None, None, None]))
    out = account_features(
        _deals(), accounts, quarter=QUARTER, lookback_quarters=LOOKBACK
    ).set_index("account_id")
    # first deal (2025-06-15) is earlier than created_date: customer since 2025Q2, capped at 2
    assert out.loc["a", "n_quarters_existed"] == 2
    deals = _deals()
    deals = deals[deals["deal_id"].isin(["d3"])]
    out = account_features(deals, accounts, quarter=QUARTER, lookback_quarters=LOOKBACK).set_index("account_id")
    assert out.loc["a", "n_quarters_existed"] == 1  # created and first deal in 2026Q1
    assert out.loc["a", "deal_frequency"] == 1.0


def test_recency_and_tenure_at_the_window_end(table):
    # last won deal of a: 2026-02-02 09:45 -> 57 days 14h15m before 2026-04-01
    assert table.loc["a", "recency_days"] == pytest.approx(57 + 14.25 / 24)
    assert table.loc["a", "last_deal"] == pd.Timestamp("2026-02-02 09:45")
    # customer since the earlier of created_date (2025-01-10) and the first deal (2025-06-15)
    assert table.loc["a", "tenure_days"] == (END - pd.Timestamp("2025-01-10")).days
    assert table.loc["a", "first_deal"] == pd.Timestamp("2025-06-15 08:00")
    # c: its only deal lies before the window; recency still counts it
    assert table.loc["c", "recency_days"] == pytest.approx((END - pd.Timestamp("2024-12-31 23:00")).total_seconds() / 86400)
    assert table.loc["c", "tenure_days"] == (END - pd.Timestamp("2020-05-05")).days
    assert np.isnan(table.loc["d", "recency_days"]) and np.isnan(table.loc["d", "tenure_days"])


def test_preferred_weekday_hour_and_daypart(table):
    assert table.loc["a", "preferred_weekday"] == "Monday"  # two Mondays, one Tuesday
    assert table.loc["a", "preferred_hour"] == 9
    assert table.loc["a", "preferred_daypart"] == "morning"
    assert table.loc["b", "preferred_weekday"] == "Thursday"
    assert table.loc["b", "preferred_hour"] == 16
    assert table.loc["b", "preferred_daypart"] == "afternoon"
    assert pd.isna(table.loc["c", "preferred_weekday"]) and pd.isna(table.loc["c", "preferred_hour"])


def test_mode_ties_go_to_the_earliest_weekday_and_hour():
    deals = pd.DataFrame(
        {
            "deal_id": ["x1", "x2", "x3", "x4"],
            "account_id": ["a"] * 4,
            # Friday 17h, Wednesday 8h, Friday 8h, Wednesday 17h: two each, two hours each
            "close_date": pd.to_datetime(
                ["2026-01-09 17:00", "2026-01-07 08:00", "2026-01-16 08:30", "2026-01-14 17:10"]
            ),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    out = account_features(deals, _accounts(), quarter=QUARTER, lookback_quarters=LOOKBACK)
    row = out.set_index("account_id").loc["a"]
    assert row.preferred_weekday == "Wednesday"
    assert row.preferred_hour == 8
    assert row.won_deals == 4  # no stage column: every deal is won


def test_dates_without_time_of_day_have_no_preferred_hour():
    deals = _deals().assign(close_date=lambda d: d["close_date"].dt.normalize())
    out = account_features(deals, _accounts(), quarter=QUARTER, lookback_quarters=LOOKBACK).set_index("account_id")
    assert out["preferred_hour"].isna().all() and out["preferred_daypart"].isna().all()
    assert out.loc["a", "preferred_weekday"] == "Monday"


def test_no_referral_column_without_referred_by():
    out = account_features(_deals(), _accounts().drop(columns=["referred_by"]), quarter=QUARTER)
    assert "referrals" not in out and "was_referred" not in out


def test_referrals_case_study_and_bands(table):
    assert table.loc["a", "referrals"] == 2  # b and c name a
    assert table.loc["b", "referrals"] == 1
    assert bool(table.loc["b", "was_referred"]) and not bool(table.loc["a", "was_referred"])
    assert table["case_study"].tolist() == [True, False, False, False]
    assert table["employees_band"].tolist() == ["1-9", "10-49", "250-999", "1000+"]
    assert table["revenue_band"].tolist()[:3] == ["<1M", "1M-10M", "50M-250M"]
    assert pd.isna(table.loc["d", "revenue_band"])


def test_contacts_dominant_role_and_seniority(table):
    assert table.loc["a", "n_contacts"] == 3
    assert table.loc["a", "job_role"] == "owner"
    assert table.loc["a", "seniority"] == "c-level"
    # b: chef and owner once each -> alphabetical tie-break; missing seniority is ignored
    assert table.loc["b", "job_role"] == "chef"
    assert table.loc["b", "seniority"] == "staff"
    assert table.loc["c", "n_contacts"] == 0 and pd.isna(table.loc["c", "job_role"])


def test_contact_columns_do_not_overwrite_account_columns():
    accounts = _accounts().assign(job_role="account level")
    out = account_features(_deals(), accounts, _contacts(), quarter=QUARTER, lookback_quarters=LOOKBACK)
    assert (out["job_role"] == "account level").all()
    assert out.set_index("account_id").loc["a", "contact_job_role"] == "owner"


def test_extra_account_columns_pass_through(table):
    assert table["city_size"].tolist() == ["large", "small", "large", "medium"]
    assert table["industry"].tolist() == ["wholesaler", "restaurant", "deli", "hotel"]


def test_churn_before_the_end_is_kept(table):
    assert table.loc["c", "churned_date"] == pd.Timestamp("2025-12-15")
    assert table["churned_date"].notna().sum() == 1


def test_nothing_after_the_window_end_leaks_in(table):
    deals = _deals()
    later = pd.DataFrame(
        {
            "deal_id": ["z1", "z2", "z3", "z4"],
            "account_id": ["a", "b", "c", "e"],
            "close_date": pd.to_datetime(
                ["2026-04-01 00:00", "2026-05-02 10:00", "2027-01-01 12:00", "2026-04-03 09:00"]
            ),
            "amount": [10_000.0, 5.0, 7.0, 9.0],
            "stage": ["won", "lost", "won", "won"],
            "quantity": [50.0, 1.0, 1.0, 1.0],
        }
    )
    accounts = _accounts()
    accounts.loc[accounts["account_id"] == "a", "churned_date"] = pd.Timestamp("2026-06-01")
    newcomer = pd.DataFrame(
        {
            "account_id": ["e"],
            "industry": ["deli"],
            "employees": [3],
            "annual_revenue": [1.0],
            "country": ["Italy"],
            "city_size": ["small"],
            "created_date": pd.to_datetime(["2026-04-02"]),
            "referred_by": ["a"],
            "case_study": [False],
            "churned_date": pd.to_datetime([None]),
        }
    )
    contacts = pd.concat(
        [_contacts(), pd.DataFrame({"contact_id": ["c9"], "account_id": ["e"], "job_role": ["owner"], "seniority": ["staff"]})]
    )
    with_future = account_features(
        pd.concat([deals, later], ignore_index=True),
        pd.concat([accounts, newcomer], ignore_index=True),
        contacts,
        quarter=QUARTER,
        lookback_quarters=LOOKBACK,
    )
    pd.testing.assert_frame_equal(with_future.set_index("account_id"), table)


def test_items_column_defines_multi_item_without_quantity():
    deals = _deals().drop(columns=["quantity"]).assign(items=[1, 3, 1, 1, 1, 1, 2, 1, 1, 1, 1])
    out = account_features(deals, _accounts(), quarter=QUARTER, lookback_quarters=LOOKBACK).set_index("account_id")
    assert out.loc["a", "multi_item_share"] == pytest.approx(1 / 3)
    assert out.loc["b", "multi_item_share"] == 1.0
    assert out.loc["a", "avg_deal_size"] == pytest.approx(5 / 3)  # items stand in for units


def test_without_units_price_size_and_multi_item_are_missing():
    deals = _deals().drop(columns=["quantity"])
    out = account_features(deals, _accounts(), quarter=QUARTER, lookback_quarters=LOOKBACK)
    assert out[["n_units", "avg_deal_size", "avg_deal_price", "multi_item_share"]].isna().all().all()
    assert not out["multi_item_buyer"].any()
    assert out["won_value"].tolist() == [600.0, 80.0, 0.0, 0.0]


def test_ibis_tables_give_the_same_result(table, tmp_path):
    con = ibis.duckdb.connect()
    tables = {}
    for name, frame in (("deals", _deals()), ("accounts", _accounts()), ("contacts", _contacts())):
        frame.to_parquet(tmp_path / f"{name}.parquet")
        tables[name] = con.read_parquet(tmp_path / f"{name}.parquet", table_name=name)
    deals, accounts, contacts = tables["deals"], tables["accounts"], tables["contacts"]
    out = account_features(deals, accounts, contacts, quarter=QUARTER, lookback_quarters=LOOKBACK)
    pd.testing.assert_frame_equal(out.set_index("account_id"), table)


@pytest.mark.parametrize(
    "columns",
    [
        ["won_value", "deal_frequency", "referrals", "case_study", "won_deals", "churned_date"],
        ["preferred_hour"],
        ["preferred_daypart", "n_contacts"],
        ["seniority", "industry", "tenure_days"],
        ["contact_job_role", "job_role"],
        [],
    ],
)
def test_chosen_columns_equal_the_whole_table(columns):
    accounts = _accounts().assign(job_role="account level") if "contact_job_role" in columns else _accounts()
    whole = account_features(_deals(), accounts, _contacts(), quarter=QUARTER, lookback_quarters=LOOKBACK)
    some = account_features(
        _deals(), accounts, _contacts(), quarter=QUARTER, lookback_quarters=LOOKBACK, columns=columns
    )
    expected = ["account_id", *(c for c in whole.columns if c in columns)]
    assert sorted(some.columns) == sorted(expected)
    pd.testing.assert_frame_equal(some[expected], whole[expected])


def test_chosen_columns_without_time_of_day_or_referrals():
    deals = _deals().assign(close_date=lambda d: d["close_date"].dt.normalize())
    accounts = _accounts().drop(columns=["referred_by"])
    columns = ["preferred_hour", "preferred_daypart", "referrals", "not_a_column"]
    some = account_features(deals, accounts, quarter=QUARTER, lookback_quarters=LOOKBACK, columns=columns)
    whole = account_features(deals, accounts, quarter=QUARTER, lookback_quarters=LOOKBACK)
    assert list(some.columns) == ["account_id", "preferred_hour", "preferred_daypart"]
    pd.testing.assert_frame_equal(some, whole[list(some.columns)])
    assert some["preferred_hour"].isna().all()


def test_numeric_account_ids_give_the_text_id_table(table):
    """Ids exported as numbers are matched as text, in every part of the build."""
    number = {"a": 11, "b": 12, "c": 13, "d": 14}
    deals = _deals().assign(account_id=lambda d: d["account_id"].map(number))
    accounts = _accounts().assign(
        account_id=lambda a: a["account_id"].map(number),
        referred_by=lambda a: a["referred_by"].map(number).astype("Int64"),
    )
    contacts = _contacts().assign(account_id=lambda c: c["account_id"].map(number))
    out = account_features(deals, accounts, contacts, quarter=QUARTER, lookback_quarters=LOOKBACK)
    assert out["account_id"].tolist() == ["11", "12", "13", "14"]
    expected = table.rename(index={k: str(v) for k, v in number.items()}).drop(columns=["referred_by"])
    pd.testing.assert_frame_equal(out.set_index("account_id").drop(columns=["referred_by"]), expected,
                                  check_index_type=False)


def test_missing_required_column_is_named():
    with pytest.raises(KeyError, match="close_date"):
        account_features(_deals().drop(columns=["close_date"]), _accounts(), quarter=QUARTER)


def test_matches_a_pandas_reference_on_random_deals():
    rng = np.random.default_rng(3)
    n = 3000
    accounts = pd.DataFrame(
        {"account_id": [f"A{i:03d}" for i in range(120)], "industry": "x", "employees": 5, "country": "IT"}
    )
    deals = pd.DataFrame(
        {
            "deal_id": np.arange(n).astype(str),
            "account_id": rng.choice(accounts["account_id"], n),
            "close_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 600 * 24, n), unit="h"),
            "amount": rng.gamma(2.0, 100.0, n).round(2),
            "stage": rng.choice(["won", "lost", "open"], n, p=[0.7, 0.2, 0.1]),
            "quantity": rng.integers(1, 6, n).astype(float),
        }
    )
    out = account_features(deals, accounts, quarter="2026Q1", lookback_quarters=4).set_index("account_id")
    start, end = feature_window("2026Q1", lookback_quarters=4)
    won = deals[(deals["stage"] == "won") & (deals["close_date"] >= start) & (deals["close_date"] < end)]
    grouped = won.groupby("account_id")
    expected_value = grouped["amount"].sum().reindex(out.index, fill_value=0.0)
    np.testing.assert_allclose(out["won_value"], expected_value, rtol=1e-12)
    np.testing.assert_array_equal(out["won_deals"], grouped.size().reindex(out.index, fill_value=0))
    np.testing.assert_allclose(out["spend_median"], grouped["amount"].median().reindex(out.index), rtol=1e-12)

    def mode(values: pd.Series) -> int:
        counts = values.value_counts()
        return int(min(counts.index[counts == counts.max()]))

    weekday = grouped["close_date"].apply(lambda s: mode(s.dt.dayofweek)).reindex(out.index)
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert out["preferred_weekday"].tolist() == [names[int(d)] for d in weekday]
    hours = grouped["close_date"].apply(lambda s: mode(s.dt.hour)).reindex(out.index)
    assert out["preferred_hour"].astype(int).tolist() == hours.astype(int).tolist()


def test_connect_resolves_engines(tmp_path):
    assert connect().name == "duckdb"
    assert connect("duckdb").name == "duckdb"
    db = tmp_path / "x.duckdb"
    assert connect(EngineConfig(backend="duckdb", database=str(db))).name == "duckdb"
    assert connect({"backend": "url", "url": "duckdb://"}).name == "duckdb"
    assert connect("sqlite://").name == "sqlite"
    with pytest.raises(ValueError, match="engine.url"):
        connect(EngineConfig(backend="url"))


def test_quarters_existed_and_quarters_with_purchase_are_apart(table):
    # a won in both quarters; b in one; c only before the window; d has no deal at all
    assert table.loc["a", "n_quarters_with_purchase"] == 2
    assert table.loc["b", "n_quarters_with_purchase"] == 1
    assert table.loc["c", "n_quarters_with_purchase"] == 0
    # an account without any deal existed in every quarter but bought in none
    assert table.loc["d", "n_quarters_existed"] == LOOKBACK
    assert table.loc["d", "n_quarters_with_purchase"] == 0


def _many_small_accounts(seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accounts with 1 to 8 won deals of full-precision amounts (medians of even counts interpolate)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, 400)
    ids = np.repeat([f"A{i:04d}" for i in range(len(sizes))], sizes)
    deals = pd.DataFrame(
        {
            "deal_id": np.arange(len(ids)).astype(str),
            "account_id": ids,
            "close_date": pd.Timestamp("2025-10-01") + pd.to_timedelta(rng.integers(0, 180 * 24, len(ids)), unit="h"),
            "amount": rng.lognormal(6.0, 2.0, len(ids)),
            "stage": "won",
        }
    )
    accounts = pd.DataFrame({"account_id": [f"A{i:04d}" for i in range(len(sizes))]})
    return deals, accounts



def test_median_and_purchase_quarters_can_spill_and_stay_exact(monkeypatch):
    # DuckDB's median/quantile and distinct counts hold a whole group in memory and never
    # spill: at 100 million deals they failed under a 2 GB memory_limit. Sorts and group-bys
    # spill; the median through a sort must still be quantile_cont's, bit for bit.
    import duckdb

    deals, accounts = _many_small_accounts()
    con = ibis.duckdb.connect()
    queries: list[str] = []
    run = con.to_pyarrow

    def capture(expr, *args, **kwargs):
        queries.append(ibis.to_sql(expr, dialect="duckdb").lower())
        return run(expr, *args, **kwargs)

    monkeypatch.setattr(con, "to_pyarrow", capture)
    out = account_features(deals, accounts, quarter=QUARTER, lookback_quarters=LOOKBACK, backend=con)
    (sql,) = queries
    for holistic in ("median(", "quantile", "count(distinct", "mode("):
        assert holistic not in sql, holistic

    out = out.set_index("account_id")
    expected = duckdb.connect().sql(
        "SELECT account_id, quantile_cont(amount, 0.5) AS m, "
        "count(DISTINCT year(close_date) * 4 + quarter(close_date)) AS q FROM deals GROUP BY account_id"
    ).df().set_index("account_id").reindex(out.index)
    assert (deals.groupby("account_id").size() % 2 == 0).sum() > 100  # many interpolated medians
    np.testing.assert_array_equal(out["spend_median"].to_numpy(), expected["m"].to_numpy())
    np.testing.assert_array_equal(out["n_quarters_with_purchase"].to_numpy(), expected["q"].to_numpy())


def test_sums_of_amounts_are_exact_so_the_engines_threads_cannot_change_them():
    """A float sum depends on the order the engine's threads add in; an exact one does not.

    Ten deals of 0.1 add up to 0.9999999999999999 in floats whatever the
    order here, so only a sum in exact decimals gives 1.0 (``math.fsum``).
    """
    import math

    deals = pd.DataFrame(
        {
            "deal_id": [f"x{i}" for i in range(10)],
            "account_id": "a",
            "close_date": pd.to_datetime("2026-02-02 10:00"),
            "amount": 0.1,
            "stage": "won",
            "quantity": 0.1,
        }
    )
    accounts = _accounts()
    out = account_features(deals, accounts, quarter=QUARTER, lookback_quarters=LOOKBACK)
    a = out.set_index("account_id").loc["a"]
    assert sum([0.1] * 10) != 1.0 and math.fsum([0.1] * 10) == 1.0
    assert a.won_value == 1.0 and a.n_units == 1.0
    assert a.avg_deal_amount == 0.1 and a.avg_deal_price == 1.0
