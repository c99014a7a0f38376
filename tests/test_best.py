"""The value rule, the negative cohort and the interview shortlist."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from icp_helpers.customers import best  # noqa: E402
from icp_helpers.data.config import BestCustomerRule  # noqa: E402


def _features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["A", "B", "C", "D"],
            "name": ["Alpha", "Beta", "Gamma", "Delta"],
            "won_value": [100.0, 200.0, 300.0, 400.0],
            "deal_frequency": [1.0, 1.0, 2.0, 4.0],
            "referrals": [0, 0, 0, 1],
            "case_study": [False, False, True, False],
            "won_deals": [2, 2, 4, 8],
            "lost_deals": [0, 3, 0, 0],
            "lost_share": [0.0, 0.6, 0.0, 0.0],
            "churned_date": pd.to_datetime([None, None, None, None]),
        }
    )


# Percentile ranks (ties share the average rank), by hand:
#   won_value       .25  .50  .75  1.0
#   deal_frequency  .375 .375 .75  1.0
#   referrals       .50  .50  .50  1.0
#   case_study      .50  .50  1.0  .50
EXPECTED = {
    "A": 0.5 * 0.25 + 0.3 * 0.375 + 0.1 * 0.5 + 0.1 * 0.5,
    "B": 0.5 * 0.50 + 0.3 * 0.375 + 0.1 * 0.5 + 0.1 * 0.5,
    "C": 0.5 * 0.75 + 0.3 * 0.75 + 0.1 * 0.5 + 0.1 * 1.0,
    "D": 0.5 * 1.00 + 0.3 * 1.0 + 0.1 * 1.0 + 0.1 * 0.5,
}


def test_value_score_is_the_weighted_percentile_rank():
    scores = best.value_scores(_features(), rule=BestCustomerRule(share=0.5))
    assert scores["value_score"].tolist() == pytest.approx([EXPECTED[a] for a in "ABCD"])
    assert scores["value_rank"].tolist() == [4, 3, 2, 1]
    assert scores.loc[scores["is_best"], "account_id"].tolist() == ["C", "D"]
    assert scores.attrs["weights"] == pytest.approx(
        {"won_value": 0.5, "deal_frequency": 0.3, "referrals": 0.1, "case_study": 0.1}
    )


def test_count_overrides_share():
    scores = best.value_scores(_features(), rule={"count": 1, "share": 0.5})
    assert scores.loc[scores["is_best"], "account_id"].tolist() == ["D"]


def test_churned_and_inactive_accounts_are_not_eligible():
    features = _features()
    features.loc[3, "churned_date"] = pd.Timestamp("2026-01-01")
    features.loc[2, "won_deals"] = 0
    scores = best.value_scores(features, rule=BestCustomerRule(share=0.5, min_deals=1))
    # D and C score highest but are not eligible; the next two are
    assert scores.loc[scores["is_best"], "account_id"].tolist() == ["A", "B"]
    assert scores.set_index("account_id").loc["D", "value_rank"] == 1


def test_missing_component_is_reweighted():
    features = _features().drop(columns=["case_study"])
    scores = best.value_scores(features, rule=BestCustomerRule())
    assert scores.attrs["dropped"] == ["case_study"]
    assert sum(scores.attrs["weights"].values()) == pytest.approx(1.0)
    expected_d = (0.5 * 1.0 + 0.3 * 1.0 + 0.1 * 1.0) / 0.9
    assert scores.set_index("account_id").loc["D", "value_score"] == pytest.approx(expected_d)
    with pytest.raises(KeyError, match="none of the value-rule components"):
        best.value_scores(features[["account_id"]], rule=BestCustomerRule())


def test_score_ties_are_broken_by_won_value_then_account_id():
    rule = {"weights": {"deal_frequency": 1.0}, "count": 1}
    features = _features().assign(deal_frequency=1.0)
    scores = best.value_scores(features, rule=rule)
    assert scores["value_score"].nunique() == 1
    assert scores.loc[scores["is_best"], "account_id"].tolist() == ["D"]  # highest won value
    scores = best.value_scores(features.assign(won_value=5.0), rule=rule)
    assert scores.loc[scores["is_best"], "account_id"].tolist() == ["A"]
    assert scores["value_rank"].tolist() == [1, 2, 3, 4]


def test_negative_cohort_reasons():
    features = _features()
    features.loc[0, "churned_date"] = pd.Timestamp("2026-02-03")
    negative = best.negative_cohort(features).set_index("account_id")
    assert negative["is_negative"].tolist() == [True, True, False, False]
    assert negative.loc["A", "negative_reason"] == "churned 2026-02-03"
    assert negative.loc["B", "negative_reason"] == "lost 3 of 5 deals in the window"
    assert negative.loc["C", "negative_reason"] == ""


def test_best_customers_table_has_the_contract_columns():
    table = best.best_customers(_features(), rule=BestCustomerRule(share=0.5))
    assert list(table.columns) == [
        "account_id", "value_score", "value_rank", "is_best", "is_negative", "negative_reason",
        "is_active", "in_comparison",
    ]
    summary = best.rule_summary(table, rule=BestCustomerRule(share=0.5))
    assert summary["n_best"] == 2 and summary["n_negative"] == 1
    assert summary["cut_score"] == pytest.approx(EXPECTED["C"])


def test_rule_columns_flag_the_rule_and_its_restatements():
    columns = best.rule_columns(BestCustomerRule())
    for column in ("won_value", "deal_frequency", "referrals", "case_study", "spend_median", "won_deals"):
        assert column in columns
    assert "industry" not in columns
    assert "referrals" not in best.rule_columns({"weights": {"won_value": 1.0, "referrals": 0.0}})


def _many(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(n)],
            "won_value": rng.gamma(2, 1000, n).round(2),
            "deal_frequency": rng.gamma(2, 1, n).round(2),
            "referrals": rng.poisson(0.5, n),
            "case_study": rng.random(n) < 0.15,
            "won_deals": rng.integers(1, 20, n),
        }
    )


def test_shortlist_reasons_and_groups():
    features = _many()
    scores = best.value_scores(features, rule=BestCustomerRule(share=0.5))
    best_ids = scores.loc[scores["is_best"], "account_id"]
    groups = pd.DataFrame({"account_id": features["account_id"], "group": np.arange(len(features)) % 3 + 1})
    short = best.interview_shortlist(features, scores, size=7, groups=groups)
    assert len(short) == 7
    assert short["account_id"].is_unique
    assert short["account_id"].isin(best_ids).all()
    assert short["reason"].str.len().gt(0).all()
    top = scores.sort_values("value_rank").iloc[0]["account_id"]
    assert short.iloc[0]["account_id"] == top
    assert "highest value score" in short.iloc[0]["reason"]
    assert "value rank" not in short.iloc[0]["reason"]  # a filler reason is not added to a pick
    best_groups = groups[groups["account_id"].isin(best_ids)]["group"].unique()
    assert set(short["group"]) == set(best_groups)  # every group with a best customer is heard
    most_referrals = features[features["account_id"].isin(best_ids)]["referrals"].max()
    if most_referrals > 0:
        assert short["reason"].str.contains("most referrals").any()


def test_shortlist_size_is_clipped():
    features = _many(60)
    scores = best.value_scores(features, rule=BestCustomerRule(share=0.5))
    assert len(best.interview_shortlist(features, scores, size=3)) == 5
    assert len(best.interview_shortlist(features, scores, size=25)) == 10
    few = best.value_scores(features, rule={"count": 4})
    assert len(best.interview_shortlist(features, few, size=8)) == 4


def test_value_plot_marks_the_cut():
    scores = best.value_scores(_many(), rule=BestCustomerRule(share=0.3))
    ax = best.plot_value_distribution(scores)
    cut = scores.loc[scores["is_best"], "value_score"].min()
    assert any(np.allclose(line.get_xdata(), cut) for line in ax.get_lines())
    plt.close(ax.figure)


def test_step1_record_counts():
    features = _features()
    table = best.best_customers(features, rule=BestCustomerRule(share=0.5))
    window = (pd.Timestamp("2025-10-01"), pd.Timestamp("2026-10-01"))
    record = best.step1_record(quarter="2026Q3", window=window, features=features, scores=table)
    assert record["counts"]["best"] == 2
    assert record["counts"]["won_deals_in_window"] == 16
    assert record["window"]["start"] == "2025-10-01T00:00:00"
    assert "2 of 4 accounts" in best.cohort_text(features, table).replace("*", "")


def test_repeated_account_ids_are_named_with_their_rows():
    features = pd.DataFrame(
        {"account_id": ["A1", "A2", "A1", "A3", "A2"], "won_value": [5.0, 4.0, 3.0, 2.0, 1.0],
         "won_deals": [2, 2, 1, 1, 1]}
    )
    with pytest.raises(ValueError, match=r"not unique \(2 repeated rows, e\.g\. rows 2, 4: A1, A2\)"):
        best.best_customers(features)


def _inactive_majority() -> pd.DataFrame:
    """Ten buyers and thirty accounts without a won deal in the window."""
    n_active, n_inactive = 10, 30
    ids = [f"A{i:02d}" for i in range(n_active + n_inactive)]
    won = [float(100 * (i + 1)) for i in range(n_active)] + [0.0] * n_inactive
    return pd.DataFrame(
        {
            "account_id": ids,
            "won_value": won,
            "deal_frequency": [1.0] * n_active + [0.0] * n_inactive,
            "won_deals": [1] * n_active + [0] * n_inactive,
            "churned_date": pd.to_datetime([None] * (n_active + n_inactive)),
        }
    )


def test_best_share_is_of_active_accounts_compared_with_other_active_ones():
    features = _inactive_majority()
    scores = best.best_customers(features, rule=BestCustomerRule(share=0.2))
    # 20% of the 10 active accounts, not of all 40 (which would be 8 of the 10 buyers)
    assert int(scores["is_best"].sum()) == 2
    assert scores["is_active"].sum() == 10
    assert scores.loc[~scores["is_active"], "in_comparison"].sum() == 0
    assert scores["in_comparison"].sum() == 10
    text = best.cohort_text(features, scores)
    assert "2 of 10 active accounts" in text and "30 accounts without a won deal" in text
    record = best.rule_summary(scores)
    assert (record["n_active"], record["n_compared"], record["n_best"]) == (10, 10, 2)


def test_inactive_accounts_are_compared_when_the_config_asks():
    features = _inactive_majority()
    scores = best.best_customers(features, rule=BestCustomerRule(share=0.2, include_inactive=True))
    assert int(scores["is_best"].sum()) == 8
    assert scores["in_comparison"].all()
    # 8 of the 10 buyers: the best cohort is most of the active accounts, said prominently
    warnings = best.cohort_warnings(scores)
    assert warnings and "8 of the 10 accounts that bought" in warnings[0]
    assert best.cohort_text(features, scores).startswith("**Warning:**")


def test_commonalities_compare_only_the_comparison_population():
    from icp_helpers.customers.commonalities import best_vs_rest

    features = _inactive_majority().assign(flag=[True] * 10 + [False] * 30)
    scores = best.best_customers(features, rule=BestCustomerRule(share=0.2))
    table = best_vs_rest(features, scores, min_count=1).set_index("trait")
    # every buyer has the flag: among the compared accounts it does not separate best from rest
    assert table.loc["flag", "rest"] == 1.0
    assert table.loc["flag", "n_rest"] == 8
