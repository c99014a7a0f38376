"""Notebook 03 on the bundled sample: the selection must recover what the generator planted."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from icp_helpers.data.loaders import load_project
from icp_helpers.traits.fitscore import FitScorer

pytestmark = pytest.mark.slow

ARTIFACTS = ("evidence.parquet", "negative_icp.parquet", "validation.parquet", "selection.json",
             "held_out_tiers.parquet", "held_out_tiers.json")


@pytest.fixture(scope="module")
def truth(sample_dir) -> dict:
    return yaml.safe_load((sample_dir / "truth.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def selection(sample_run) -> dict:
    return json.loads((sample_run / "selection.json").read_text(encoding="utf-8"))


def test_every_artifact_is_written(sample_run):
    assert not [name for name in ARTIFACTS if not (sample_run / name).is_file()]


def test_selected_traits_recover_the_planted_icp(selection, truth):
    chosen = {t["id"] for t in selection["selected"]} | {t["id"] for t in selection["why_traits"]}
    planted = set(truth["icp_traits"]) | set(truth["why_traits"])
    hits = len(chosen & planted)
    assert chosen, "nothing selected"
    assert hits / len(chosen) >= 0.9, f"precision: chose {sorted(chosen)}"
    assert hits / len(planted) >= 0.9, f"recall: missed {sorted(planted - chosen)}"
    decoys = {d["trait"] for d in truth["decoy_traits"]}
    assert not chosen & decoys
    assert len(chosen) <= 10
    assert {t["kind"] for t in selection["why_traits"]} <= {"code"}
    assert {t["kind"] for t in selection["selected"]} <= {"firmographic", "contact"}


def test_selected_traits_carry_their_evidence(selection, sample_run):
    evidence = pd.read_parquet(sample_run / "evidence.parquet").set_index("trait")
    for item in selection["selected"] + selection["why_traits"]:
        row = evidence.loc[item["id"]]
        assert row["status"] == "selected"
        assert row["q_value"] <= selection["rule"]["q_threshold"]
        assert row["stability"] >= selection["rule"]["min_stability"]
        assert item["evidence"]["lift"] == pytest.approx(row["lift"])
    for item in selection["selected"]:
        assert isinstance(item["points"], int) and item["points"] > 0
    # the redundant copy of the employee band is explained, not silently dropped
    decoy = evidence.loc["revenue_band=1M-10M"]
    assert decoy["status"] in ("redundant", "insufficient evidence") and decoy["reason"]


def test_negative_icp_names_the_planted_disqualifier(sample_run, truth):
    negative = pd.read_parquet(sample_run / "negative_icp.parquet")
    flagged = set(negative.loc[negative["disqualifier"], "trait"])
    assert {t["trait"] for t in truth["negative_traits"]} <= flagged


def test_score_definition_round_trips_and_scores_prospects(selection, sample_config_path):
    scorer = FitScorer.from_dict(selection["score"])
    assert scorer.points_ == {t["id"]: t["points"] for t in selection["selected"]}
    assert scorer.cutoffs_ == selection["tier_cutoffs"]
    prospects = load_project(sample_config_path, tables=["prospects"]).prospects
    scores = scorer.transform(prospects)
    assert scores.between(0, scorer.max_score_).all() and scores.nunique() > 1


def test_fit_score_validates_on_the_later_quarter(sample_run):
    metrics = pd.read_parquet(sample_run / "validation.parquet").set_index("model")
    fit, ceiling, floor = metrics.loc["fit score"], metrics.loc["black box"], metrics.loc["past spend"]
    assert (metrics["test_quarters"] == "2026Q3").all()
    assert (metrics["selection_quarter"] == "2026Q2").all()
    assert fit["auc"] >= 0.95 * ceiling["auc"]
    assert fit["auc"] > floor["auc"]
    assert fit["top_decile_lift"] > 1
