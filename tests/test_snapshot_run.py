"""A consumer snapshot export runs end to end through ``icp run``: no deals, no invented columns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from icp_helpers.cli import app

pytestmark = pytest.mark.slow


def _telco(folder, n: int = 400, seed: int = 2):
    """Shaped like a subscription export: one row per customer, totals, a Yes/No churn flag."""
    rng = np.random.default_rng(seed)
    partner = rng.random(n) < 0.5
    senior = rng.random(n) < 0.2
    tenure = rng.integers(1, 72, n)
    monthly = np.where(partner, 80.0, 40.0) * np.exp(rng.normal(0, 0.2, n))
    total = (monthly * tenure).round(2).astype(object)
    total[:3] = " "  # the blanks such exports carry for brand-new customers
    churn = np.where(rng.random(n) < np.where(senior, 0.5, 0.15), "Yes", "No")
    frame = pd.DataFrame(
        {
            "customerID": [f"{i:04d}-XYZ" for i in range(n)],
            "gender": rng.choice(["Female", "Male"], n),
            "SeniorCitizen": senior.astype(int),
            "Partner": np.where(partner, "Yes", "No"),
            "Dependents": rng.choice(["Yes", "No"], n),
            "tenure": tenure,
            "TotalCharges": total,
            "Churn": churn,
        }
    )
    frame.to_csv(folder / "telco.csv", index=False)
    config = {
        "name": "Subscription snapshot",
        "inputs": {"customers": {"path": "telco.csv", "columns": {"customerID": "account_id"}}},
        "snapshot": {"value": "TotalCharges", "tenure": "tenure", "tenure_unit": "months",
                     "churned": 'Churn == "Yes"', "as_of": "2024-06-30"},
        "best_customers": {"weights": {"won_value": 1.0}},
        "traits": {"n_bootstrap": 50},
    }
    (folder / "icp.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder / "icp.yml"


def test_a_snapshot_export_runs_steps_1_3_and_4_with_no_deals(tmp_path):
    config = _telco(tmp_path)
    reports = tmp_path / "reports"
    outcome = CliRunner().invoke(app, ["run", "--config", str(config), "--reports-dir", str(reports)])
    assert outcome.exit_code == 0, outcome.output
    folder = reports / "2024Q2"
    record = json.loads((folder / "run.json").read_text())
    assert [nb["name"] for nb in record["notebooks"]] == [
        "01_best_customers", "03_select_traits", "04_icp_template",
    ]
    features = pd.read_parquet(folder / "features.parquet")
    assert not {"industry", "employees", "Churn", "TotalCharges", "tenure"} & set(features.columns)
    assert features["churned_date"].notna().sum() > 0
    best = pd.read_parquet(folder / "best_customers.parquet")
    # churned customers are never best, and make the negative cohort
    churned = set(features.loc[features["churned_date"].notna(), "account_id"])
    assert not churned & set(best.loc[best["is_best"], "account_id"])
    assert churned <= set(best.loc[best["is_negative"], "account_id"])
    selection = json.loads((folder / "selection.json").read_text())
    assert "has_partner" in {t["id"] for t in selection["selected"]}
    fit = {m["model"]: m for m in selection["validation"]}["fit score"]
    assert fit["test_quarters"] == "3x5-fold cross-validation" and fit["auc"] > 0.6
    negative = pd.read_parquet(folder / "negative_icp.parquet")
    assert "senior" in set(negative["trait"])
    card = (folder / "icp_card.html").read_text(encoding="utf-8")
    assert "consumer profile" in card and "with a partner" in card
