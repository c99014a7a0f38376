"""Unit tests of the sales cuts: statistics against scipy, outcome rules, tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from icp_helpers.leads.cuts import (
    account_cuts,
    best_outcome,
    cut_levels,
    cut_summary,
    cut_test,
    sales_cuts,
    spend_thresholds,
    weekday_hour,
    won_deals,
)


def _customers(seed: int = 0, n: int = 300):
    """Per-account features where region is tied to being best and country is noise."""
    rng = np.random.default_rng(seed)
    best = rng.random(n) < 0.25
    region = np.where(
        best,
        rng.choice(["north", "south"], n, p=[0.8, 0.2]),
        rng.choice(["north", "south"], n, p=[0.3, 0.7]),
    )
    features = pd.DataFrame(
        {
            "account_id": [f"A{i:04d}" for i in range(n)],
            "region": region,
            "country": rng.choice(["IT", "ES", "DE"], n),
            "preferred_weekday": rng.choice(["Monday", "Friday"], n),
            "preferred_hour": rng.integers(6, 20, n),
            "multi_item_share": rng.random(n),
            "won_value": np.where(best, 5000.0, 1000.0) + rng.normal(0, 100, n),
        }
    )
    features["multi_item_buyer"] = features["multi_item_share"] >= 0.5
    outcome = pd.Series(best, index=features["account_id"], name="best")
    return features, outcome


@pytest.mark.parametrize("shape", [(2, 2), (3, 2), (5, 2)])
def test_cut_test_matches_scipy(shape):
    rng = np.random.default_rng(sum(shape))
    n = 400
    levels = pd.Series(rng.integers(0, shape[0], n).astype(str))
    outcome = pd.Series(rng.random(n) < 0.3 + 0.1 * levels.astype(int))
    result = cut_test(levels, outcome)
    table = pd.crosstab(levels, outcome).to_numpy()
    chi2, p_value, dof, expected = stats.chi2_contingency(table, correction=False)
    assert result["chi2"] == pytest.approx(chi2)
    assert result["p_value"] == pytest.approx(p_value)
    assert result["dof"] == dof == shape[0] - 1
    assert result["cramers_v"] == pytest.approx(np.sqrt(chi2 / n))
    assert result["min_expected"] == pytest.approx(expected.min())
    assert result["n"] == n and result["levels"] == shape[0]


def test_cramers_v_is_one_for_a_perfect_cut_and_nan_for_one_level():
    levels = pd.Series(["a"] * 20 + ["b"] * 30)
    outcome = pd.Series([True] * 20 + [False] * 30)
    assert cut_test(levels, outcome)["cramers_v"] == pytest.approx(1.0)
    single = cut_test(pd.Series(["a"] * 10), pd.Series([True, False] * 5))
    assert np.isnan(single["cramers_v"]) and single["levels"] == 1


def test_missing_levels_are_left_out_of_the_test():
    levels = pd.Series(["a", "b", None, "a", "b", None] * 10)
    outcome = pd.Series([True, False, True, False, False, True] * 10)
    assert cut_test(levels, outcome)["n"] == 40


def test_summary_puts_the_planted_cut_first_and_is_sorted_by_v():
    features, outcome = _customers()
    cuts = account_cuts(features)
    assert {"region", "country", "weekday", "daypart", "order_type"} <= set(cuts.columns)
    summary = cut_summary(cuts, outcome)
    assert summary.loc[0, "cut"] == "region"
    assert summary["cramers_v"].is_monotonic_decreasing
    assert summary.set_index("cut").loc["region", "p_value"] < 1e-6


def test_rare_levels_are_pooled_as_other():
    levels = pd.Series(["x"] * 40 + ["y"] * 40 + ["r1", "r2", "r3"])
    outcome = pd.Series([True, False] * 40 + [True, True, False])
    cuts = pd.DataFrame({"cut": levels})
    summary = cut_summary(cuts, outcome, min_count=5)
    assert summary.loc[0, "levels"] == 3  # x, y, other
    table = cut_levels(cuts, outcome, "cut", min_count=5).set_index("cut")
    assert table.loc["other", "accounts"] == 3 and table.loc["other", "best"] == 2
    assert table["accounts"].sum() == len(levels)
    assert table.loc["other", "lift"] == pytest.approx((2 / 3) / outcome.mean())


def test_outcome_from_best_customers_or_above_median_spend():
    features, truth = _customers()
    flags, rule = best_outcome(features)
    median = features["won_value"].median()
    assert (flags == (features.set_index("account_id")["won_value"] > median)).all()
    assert "median" in rule
    best = pd.DataFrame({"account_id": truth.index, "is_best": truth.to_numpy()})
    flags, rule = best_outcome(features, best=best)
    assert flags.equals(truth.rename("best")) and "best_customers" in rule


def test_contacts_give_age_band_and_gender():
    features = pd.DataFrame({"account_id": ["a", "b", "c"], "won_value": [1.0, 2.0, 3.0]})
    contacts = pd.DataFrame(
        {
            "account_id": ["a", "b", "b", "c"],
            "age": [23, 40, 50, 70],
            "gender": ["f", "m", "m", None],
        }
    )
    cuts = account_cuts(features, contacts=contacts)
    assert cuts["age_band"].to_dict() == {"a": "18-24", "b": "45-54", "c": "65+"}
    assert cuts.loc["b", "gender"] == "m" and cuts.loc["c", "gender"] is None


def _deals():
    return pd.DataFrame(
        {
            "deal_id": ["d1", "d2", "d3", "d4", "d5"],
            "account_id": ["a", "a", "b", "b", "c"],
            "close_date": pd.to_datetime(
                [
                    "2026-01-05 09:30",
                    "2026-02-06 14:00",
                    "2026-03-02 09:10",
                    "2025-06-01 10:00",
                    "2026-02-10 18:00",
                ]
            ),
            "amount": [100.0, 300.0, 50.0, 999.0, 700.0],
            "stage": ["won", "won", "won", "won", "lost"],
        }
    )


def test_won_deals_keep_the_window_and_won_stage():
    won = won_deals(_deals(), window=(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-04-01")))
    assert won["deal_id"].tolist() == ["d1", "d2", "d3"]


def test_spend_thresholds_per_group():
    won = won_deals(_deals(), window=(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-04-01")))
    table = spend_thresholds(won, by=pd.Series({"a": "g1", "b": "g2"})).set_index("group")
    assert table.loc["g1", ["spend_min", "spend_median", "spend_max"]].tolist() == [
        100.0,
        200.0,
        300.0,
    ]
    assert table.loc["g2", "deals"] == 1 and table.loc["g1", "accounts"] == 1
    assert spend_thresholds(won).loc[0, "spend_median"] == won["amount"].median()


def test_weekday_hour_heatmap_counts_each_deal_once():
    won = won_deals(_deals())
    heatmap = weekday_hour(won)
    assert heatmap.shape == (7, 24) and heatmap.to_numpy().sum() == len(won)
    first = won.loc[0, "close_date"]
    assert heatmap.loc[first.day_name(), first.hour] >= 1


def test_sales_cuts_reports_the_rule_and_skips_daypart_without_times():
    features, truth = _customers(n=60)
    dates = pd.to_datetime("2026-01-01") + pd.to_timedelta(np.arange(60) % 80, unit="D")
    deals = pd.DataFrame(
        {
            "deal_id": range(60),
            "account_id": features["account_id"],
            "close_date": dates,
            "amount": features["won_value"],
        }
    )
    result = sales_cuts(
        features, deals, window=(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-04-01"))
    )
    assert not result.has_time and "daypart" not in result.cuts.columns
    assert "median" in result.outcome_rule and any("time of day" in n for n in result.notes)
    assert set(result.spend["customers"]) == {"best", "other"}
    record = result.record()
    assert record["customers"] == 60 and record["cuts"][0]["cut"] == result.summary.loc[0, "cut"]


def test_plots_draw_results_and_placeholders():
    from matplotlib.figure import Figure

    from icp_helpers.leads.cuts import (
        SalesCuts,
        plot_cut_summary,
        plot_spend_thresholds,
        plot_weekday_hour,
    )

    features, _ = _customers(n=80)
    deals = pd.DataFrame(
        {
            "deal_id": range(80),
            "account_id": features["account_id"],
            "close_date": pd.Timestamp("2026-02-02 09:00")
            + pd.to_timedelta(np.arange(80), unit="h"),
            "amount": features["won_value"],
        }
    )
    result = sales_cuts(features, deals)
    empty = SalesCuts.empty("no deals")
    for fig in (
        plot_cut_summary(result.summary),
        plot_spend_thresholds(result.spend),
        plot_weekday_hour(result.heatmap),
        plot_cut_summary(empty.summary),
        plot_spend_thresholds(empty.spend),
        plot_weekday_hour(empty.heatmap),
    ):
        assert isinstance(fig, Figure) and fig.axes
    assert empty.levels().empty and empty.notes == ["no deals"]
    assert not result.levels().empty


def _shop(seed: int = 5, n: int = 240):
    """A consumer shop: best customers are mostly women aged 35-44 who buy several items at noon."""
    rng = np.random.default_rng(seed)
    best = rng.random(n) < 0.3
    ids = [f"C{i:04d}" for i in range(n)]
    features = pd.DataFrame(
        {
            "account_id": ids,
            "age_band": np.where(best, rng.choice(["35-44", "25-34"], n, p=[0.8, 0.2]),
                                 rng.choice(["35-44", "25-34", "55-64"], n)),
            "gender": np.where(best, rng.choice(["F", "M"], n, p=[0.85, 0.15]), rng.choice(["F", "M"], n)),
            "income_band": rng.choice(["low", "mid", "high"], n),
            "country": rng.choice(["IT", "ES"], n),
            "preferred_weekday": np.where(best, "Saturday", rng.choice(["Monday", "Tuesday"], n)),
            "preferred_hour": np.where(best, 12, 20),
            "multi_item_share": np.where(best, 0.9, 0.1),
        }
    )
    features["multi_item_buyer"] = features["multi_item_share"] >= 0.5
    deals = []
    for i, account in enumerate(ids):
        for j in range(3):
            amount = (80.0 if best[i] else 20.0) * (1 + j)
            hour = 12 if best[i] else 20
            deals.append({"account_id": account, "close_date": pd.Timestamp(2024, 3, 2 + j, hour),
                          "amount": amount, "stage": "won"})
    best_table = pd.DataFrame({"account_id": ids, "is_best": best})
    return features, pd.DataFrame(deals), best_table


def test_consumer_shop_cuts_read_the_customers_own_demographics():
    features, deals, best_table = _shop()
    contacts = pd.DataFrame({"account_id": features["account_id"], "age": 70, "gender": "X"})
    result = sales_cuts(features, deals, contacts=contacts, best=best_table)
    summary = result.summary.set_index("cut")
    # the customer's own age and gender, not their contacts' (all 70 and "X" here)
    assert set(result.cuts["age_band"].dropna()) == {"35-44", "25-34", "55-64"}
    assert set(result.cuts["gender"].dropna()) == {"F", "M"}
    for cut in ("age_band", "gender", "weekday", "daypart", "order_type"):
        assert summary.loc[cut, "p_value"] < 0.01, cut
    assert summary.loc["income_band", "p_value"] > 0.01 and summary.loc["country", "p_value"] > 0.01
    assert set(result.cuts["order_type"]) == {"multi-item", "single-item"}


def test_spend_of_best_customers_vs_the_rest_with_its_test():
    features, deals, best_table = _shop()
    result = sales_cuts(features, deals, best=best_table)
    spend = result.spend_best.set_index("customers")
    assert list(spend.index) == ["best", "rest"]
    assert spend.loc["best", "spend_min"] == 80 and spend.loc["best", "spend_median"] == 160
    assert spend.loc["best", "spend_max"] == 240
    assert spend.loc["rest", "spend_min"] == 20 and spend.loc["rest", "spend_max"] == 60
    assert spend.loc["best", "p_value"] < 1e-6
    heat = result.heatmap
    assert heat.loc["Saturday", 12] + heat.loc["Sunday", 12] + heat.loc["Monday", 12] == 3 * best_table["is_best"].sum()


def _assert_same_cuts(engine, frame):
    """Two SalesCuts equal: every table and flag, p-values to rounding."""
    pd.testing.assert_frame_equal(engine.cuts, frame.cuts)
    pd.testing.assert_series_equal(engine.outcome, frame.outcome)
    assert engine.outcome_rule == frame.outcome_rule and engine.notes == frame.notes
    assert engine.has_time == frame.has_time
    pd.testing.assert_frame_equal(engine.summary, frame.summary)
    pd.testing.assert_frame_equal(engine.spend, frame.spend)
    pd.testing.assert_frame_equal(engine.spend_best, frame.spend_best, rtol=1e-12)
    pd.testing.assert_frame_equal(engine.heatmap, frame.heatmap)


def test_sample_cuts_from_the_engine_table_equal_the_pandas_computation(sample_config_path):
    import ibis

    from icp_helpers.customers.features import account_features, feature_window
    from icp_helpers.data.loaders import load_project
    from icp_helpers.data.quarters import Quarter

    project = load_project(sample_config_path, tables=["accounts", "deals", "contacts"], cache=False)
    quarter = Quarter.parse("2026Q3")
    window = feature_window(quarter, lookback_quarters=4)
    features = account_features(project.deals, project.accounts, project.contacts, quarter=quarter)
    customers = features[features["won_value"] > 0]
    # groups that leave some customers out and give one a missing group: both fall in "(none)"
    groups = pd.DataFrame({"account_id": customers["account_id"].iloc[5:], "group": 0})
    groups["group"] = np.arange(len(groups)) % 3
    groups.loc[groups.index[0], "group"] = None
    top = customers["won_value"] > customers["won_value"].quantile(0.8)
    best = pd.DataFrame({"account_id": customers["account_id"], "is_best": top})
    table = project.deals_table()
    assert isinstance(table, ibis.expr.types.Table)
    for kwargs in ({}, {"groups": groups, "best": best}):
        frame = sales_cuts(features, project.deals, window=window, contacts=project.contacts, **kwargs)
        engine = sales_cuts(
            features, table, window=window, contacts=project.contacts, backend=project.backend, **kwargs
        )
        _assert_same_cuts(engine, frame)
        assert engine.spend["deals"].sum() == len(won_deals(project.deals, window=window))


@pytest.mark.parametrize("best_count", [2, 40])
def test_engine_rank_test_equals_scipy_with_ties_and_few_best(best_count):
    """Tied amounts (average ranks, tie correction) and a side small enough for scipy's exact test."""
    import ibis

    from icp_helpers.data.engine import connect

    features, deals, best_table = _shop()
    best_table["is_best"] = best_table.index < best_count
    deals["amount"] = np.round(deals["amount"] / 40) * 40  # many ties across both sides
    deals.loc[0, "account_id"] = "unknown"  # a deal of an account outside the outcome: rest
    backend = connect()
    frame = sales_cuts(features, deals, best=best_table)
    engine = sales_cuts(features, ibis.memtable(deals), best=best_table, backend=backend)
    _assert_same_cuts(engine, frame)
    assert 0 < engine.spend_best.loc[0, "p_value"] < 1


def test_engine_cuts_without_time_of_day_or_stage():
    import ibis

    features, truth = _customers(n=60)
    deals = pd.DataFrame(
        {
            "account_id": features["account_id"],
            "close_date": pd.to_datetime("2026-01-01") + pd.to_timedelta(np.arange(60) % 80, unit="D"),
            "amount": features["won_value"],
        }
    )
    window = (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-15"))
    frame = sales_cuts(features, deals, window=window)
    engine = sales_cuts(features, ibis.memtable(deals), window=window)
    assert not engine.has_time
    _assert_same_cuts(engine, frame)
