"""05_lead_scoring on the sample: recorded values against the sample's planted truth."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from icp_helpers.leads.leads import assign_tier, title_level

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def step5(sample_run):
    return json.loads((sample_run / "step5.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lead_points(sample_run):
    return json.loads((sample_run / "lead_points.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def drivers(sample_dir):
    truth = yaml.safe_load((sample_dir / "truth.yml").read_text(encoding="utf-8"))
    return truth["conversion_drivers"]


@pytest.fixture(scope="module")
def scored(sample_run):
    return pd.read_csv(
        sample_run / "scored_leads.csv", encoding="utf-8-sig", dtype={"lead_id": str}
    )


def test_outputs_are_written(sample_run, step5, scored):
    for name in ("scored_leads.csv", "scored_leads.xlsx", "lead_points.json", "step5.json"):
        assert (sample_run / name).is_file(), name
    assert len(scored) == step5["leads"] and scored["lead_id"].is_unique
    assert step5["input"] == "events" and step5["points_used"] == "calibrated"


def test_exported_tiers_follow_the_thresholds(scored, step5):
    expected = assign_tier(scored["score"], thresholds=step5["thresholds"])
    assert (scored["tier"] == expected).all()
    assert scored["tier"].value_counts().to_dict() == {
        k: v for k, v in step5["exported_tiers"].items() if v
    }


def test_calibrated_points_rank_converters_like_the_logistic_model(step5):
    auc = step5["auc"]
    assert step5["cv_folds"] >= 3
    assert abs(auc["calibrated"] - auc["logistic"]) <= 0.03
    assert auc["calibrated"] > 0.6


def test_the_planted_drivers_get_the_largest_points(lead_points, drivers):
    points = lead_points["calibrated"]
    positive, details = set(drivers["positive"]), set(drivers["download_details"])

    def is_driver(feature: str) -> bool:
        if feature.startswith("title:"):
            return feature == "title:executive"
        activity, _, detail = feature.partition(":")
        if activity == "download":
            return detail in details
        return activity in positive

    driven = {f: v for f, v in points.items() if is_driver(f)}
    rest = {f: v for f, v in points.items() if not is_driver(f)}
    assert {"form_submission", "title:executive"} <= set(driven)
    assert any(f.startswith("key_page_visit") for f in driven)
    assert min(driven.values()) > max(rest.values()), (driven, rest)
    assert points["unsubscribe"] == min(points.values())


def test_the_senior_titles_of_the_sample_are_executives(drivers):
    assert {title_level(t) for t in drivers["senior_titles"]} == {"executive"}


def test_stronger_tiers_convert_more(step5):
    tiers = step5["tiers"]["calibrated"]
    assert (
        tiers["strong"]["conversion_rate"]
        > tiers["medium"]["conversion_rate"]
        > tiers["weak"]["conversion_rate"]
    )
    assert tiers["medium"]["ci_low"] > tiers["weak"]["ci_high"]


def test_fit_engagement_matrix(sample_run, step5, scored):
    record = step5["fit_engagement"]
    if not (sample_run / "scored_accounts.csv").is_file():
        assert not record["available"] and "scored_accounts.csv" in record["note"]
        return
    assert record["available"]
    cells = record["cells"]
    assert sorted(cells) == [f"{t}{e}" for t in "ABC" for e in (1, 2, 3)]
    assert sum(c["leads"] for c in cells.values()) == scored["cell"].notna().sum()
    for cell, values in cells.items():
        assert values["leads"] == (scored["cell"] == cell).sum()


def test_sales_cuts_are_sorted_by_cramers_v(sample_run, step5):
    sales = step5["sales_cuts"]
    values = [c["cramers_v"] for c in sales["cuts"] if c["cramers_v"] is not None]
    assert len(values) >= 4 and values == sorted(values, reverse=True)
    assert all(0 <= v <= 1 for v in values)
    if (sample_run / "best_customers.parquet").is_file():
        assert "best_customers" in sales["outcome_rule"]
