"""Snapshot exports: per-customer totals in place of deals, churn as an expression, CV validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from icp_helpers.data.config import ConfigError, ProjectConfig, SnapshotConfig
from icp_helpers.data.snapshot import flag_expression, snapshot_features, snapshot_quarter
from icp_helpers.traits.validation import run_cross_validation, validation_markdown

FRAME = pd.DataFrame(
    {
        "account_id": ["a", "b", "c", "d"],
        "Churn": ["Yes", "no", " YES ", None],
        "Response": [1, 0, 0, 1],
        "charges": [100.0, 200.0, None, 50.0],
        "months": [12, 24, 3, 6],
        "Complain": ["0", "1", "0", "0"],
    }
)


def test_churn_flag_expressions_compare_text_numbers_and_lists():
    assert flag_expression(FRAME, 'Churn == "Yes"').tolist() == [True, False, True, False]
    # a missing cell never matches, whatever the comparison
    assert flag_expression(FRAME, 'Churn != "yes"').tolist() == [False, True, False, False]
    assert flag_expression(FRAME, "Response in [1]").tolist() == [True, False, False, True]
    assert flag_expression(FRAME, "charges >= 100").tolist() == [True, True, False, False]
    both = flag_expression(FRAME, '(Churn == "Yes" or Response == 1) and not Complain')
    assert both.tolist() == [True, False, True, True]


@pytest.mark.parametrize(
    "expression",
    ['__import__("os").system("true")', "Churn.upper() == 'YES'", "Churn == Response.x", "lambda: 1"],
)
def test_churn_expressions_outside_the_language_are_refused(expression):
    with pytest.raises(ConfigError, match="snapshot.churned"):
        flag_expression(FRAME, expression)


def test_an_unknown_column_is_named():
    with pytest.raises(ConfigError, match="no column 'churn'.*Churn"):
        flag_expression(FRAME, 'churn == "Yes"')


def test_snapshot_features_stand_in_for_the_deal_history():
    snap = SnapshotConfig(value="charges", tenure="months", churned='Churn == "Yes"', as_of="2024-06-30")
    out = snapshot_features(FRAME, snapshot=snap)
    assert out["won_value"].tolist() == [100.0, 200.0, 0.0, 50.0]
    assert out["won_deals"].tolist() == [1, 1, 0, 1]
    assert out["tenure_days"].round(1).tolist() == [365.2, 730.5, 91.3, 182.6]
    assert out["churned_date"].notna().tolist() == [True, False, True, False]
    # the totals and the outcome's columns never stay behind to become traits
    assert not {"charges", "months", "Churn"} & set(out.columns)
    assert snapshot_quarter(FRAME, snap).__str__() == "2024Q2"


def test_a_snapshot_config_needs_no_deals():
    config = ProjectConfig.model_validate(
        {"inputs": {"customers": {"path": "c.csv"}}, "snapshot": {"value": "total"}}
    )
    assert config.is_snapshot and config.profile.kind == "b2c"
    assert config.missing_inputs("01_best_customers") == []
    assert config.missing_inputs("03_select_traits") == []
    plain = ProjectConfig.model_validate({"inputs": {"accounts": {"path": "c.csv"}}})
    assert plain.missing_inputs("01_best_customers") == ["deals"]


def test_without_a_time_axis_the_score_is_validated_by_repeated_cross_validation():
    rng = np.random.default_rng(1)
    n = 600
    segment = rng.random(n) < 0.3
    features = pd.DataFrame(
        {
            "account_id": [f"c{i:03d}" for i in range(n)],
            "gender": np.where(segment, "F", rng.choice(["F", "M"], n, p=[0.2, 0.8])),
            "education": rng.choice(["basic", "master"], n),
            "won_value": np.where(segment, 500, 100) * np.exp(rng.normal(0, 0.3, n)),
            "won_deals": rng.integers(1, 5, n),
            "deal_frequency": rng.random(n),
        }
    )
    config = ProjectConfig.model_validate(
        {"inputs": {"customers": {"path": "c.csv"}}, "snapshot": {"value": "x"},
         "best_customers": {"weights": {"won_value": 1.0}}, "traits": {"n_bootstrap": 20}}
    )
    result = run_cross_validation(features, config=config, n_splits=3, n_repeats=2)
    metrics = result.metrics.set_index("model")
    assert set(metrics["validated_by"]) == {"repeated cross-validation"}
    assert metrics.loc["fit score", "auc"] > 0.7 and "gender=F" in metrics.loc["fit score", "traits"]
    assert result.held_out.attrs["validated_by"] == "repeated cross-validation"
    assert set(result.held_out["tier"]) <= {"A", "B", "C"}
    assert "repeated stratified cross-validation" in validation_markdown(result)


def test_a_snapshots_columns_take_the_roles_they_imply_unless_the_config_says_otherwise():
    from icp_helpers.customers.roles import config_roles

    config = ProjectConfig.model_validate(
        {
            "inputs": {"customers": {"path": "c.csv", "roles": {"months": "who"}}},
            "snapshot": {"value": "charges", "tenure": "months", "joined": "since",
                         "churned": 'Churn == "Yes" or Response in [1]'},
        }
    )
    assert config_roles(config) == {
        "charges": "behaviour", "months": "who", "since": "date", "Churn": "outcome", "Response": "outcome",
    }
