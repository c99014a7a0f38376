"""Notebook 01 on the bundled sample: what it records must match what the generator planted."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from sklearn.metrics import adjusted_rand_score

from icp_helpers.data.artifacts import read_json, read_table

pytestmark = pytest.mark.slow

ARTIFACTS = (
    "features.parquet",
    "best_customers.parquet",
    "shortlist.parquet",
    "commonalities.parquet",
    "commonalities.xlsx",
    "groups.parquet",
    "groups.json",
    "step1.json",
)


@pytest.fixture(scope="module")
def truth(sample_dir) -> dict:
    return yaml.safe_load((sample_dir / "truth.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def truth_accounts(sample_dir) -> pd.DataFrame:
    return pd.read_csv(sample_dir / "truth_accounts.csv")


def test_every_artifact_is_written(sample_run):
    missing = [name for name in ARTIFACTS if not (sample_run / name).is_file()]
    assert not missing
    assert (sample_run / "quarantine" / "deals.csv").is_file()


def test_planted_traits_rank_above_every_decoy(sample_run, truth):
    table = read_table(sample_run, "commonalities.parquet")
    position = {trait: i for i, trait in enumerate(table["trait"])}
    planted = truth["icp_traits"]
    decoys = [d["trait"] for d in truth["decoy_traits"] if d["trait"] in position]
    assert all(t in position for t in planted), [t for t in planted if t not in position]
    assert len(decoys) >= 3  # the firmographic decoys; interview-code decoys belong to step 2
    worst_planted = max(position[t] for t in planted)
    best_decoy = min(position[t] for t in decoys)
    assert worst_planted < best_decoy, table.loc[:best_decoy, ["trait", "effect", "strength"]]
    rows = table.set_index("trait")
    for trait in planted:
        assert rows.loc[trait, "best"] > rows.loc[trait, "rest"]
        assert not rows.loc[trait, "defines_best"]


def test_groups_match_the_planted_segments(sample_run, truth, truth_accounts):
    groups = read_table(sample_run, "groups.parquet")
    merged = groups.merge(truth_accounts[["account_id", "group"]], on="account_id", suffixes=("", "_truth"))
    assert len(merged) == len(groups) == len(truth_accounts)
    assert adjusted_rand_score(merged["group_truth"], merged["group"]) >= 0.6
    summary = read_json(sample_run, "groups.json")
    assert summary["n_groups"] == groups["group"].nunique()
    assert summary["k_range"] == [2, 8]
    assert all(g["description"] for g in summary["groups"])


def test_best_customers_follow_the_sample_rule(sample_run, truth, truth_accounts):
    scores = read_table(sample_run, "best_customers.parquet")
    assert list(scores.columns) == [
        "account_id", "value_score", "value_rank", "is_best", "is_negative", "negative_reason",
        "is_active", "in_comparison",
    ]
    # the sample config compares with every account, as its generator does; the inactive ones are counted
    assert scores["in_comparison"].all() and 0 < (~scores["is_active"]).sum() < len(scores)
    assert scores["is_best"].sum() == round(0.2 * len(scores))
    column = truth["best_customers"]["column"]
    ours = set(scores.loc[scores["is_best"], "account_id"])
    theirs = set(truth_accounts.loc[truth_accounts[column].astype(bool), "account_id"])
    assert len(ours & theirs) / len(ours | theirs) >= 0.9
    churned = scores["negative_reason"].str.contains("churned")
    assert churned.sum() > 0 and not (scores["is_best"] & churned).any()


def test_shortlist_and_record(sample_run):
    shortlist = read_table(sample_run, "shortlist.parquet")
    scores = read_table(sample_run, "best_customers.parquet").set_index("account_id")
    assert 5 <= len(shortlist) <= 10
    assert scores.loc[shortlist["account_id"], "is_best"].all()
    assert shortlist["reason"].str.len().gt(0).all()
    record = read_json(sample_run, "step1.json")
    assert record["quarter"] == "2026Q3"
    assert record["window"]["start"].startswith("2025-10-01")
    assert record["window"]["end"].startswith("2026-10-01")
    assert record["counts"]["best"] == int(scores["is_best"].sum())
    assert record["counts"]["shortlist"] == len(shortlist)
    features = read_table(sample_run, "features.parquet")
    assert record["counts"]["accounts"] == len(features) == features["account_id"].nunique()


def test_traits_document_opens(sample_run):
    wb = load_workbook(sample_run / "commonalities.xlsx", read_only=False)
    ws = wb["best vs rest"]
    assert ws.freeze_panes == "B2"
    assert ws.max_row == len(read_table(sample_run, "commonalities.parquet")) + 1
