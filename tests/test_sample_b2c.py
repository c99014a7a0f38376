"""The consumer sample: written by ``icp sample --kind b2c``, and the method recovers what it planted."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from icp_helpers.cli import app
from icp_helpers.customers import best, features, groups
from icp_helpers.data import loaders
from icp_helpers.data.config import load_config
from icp_helpers.traits import validation


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("b2c")
    outcome = CliRunner().invoke(app, ["sample", "--kind", "b2c", "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    return out


@pytest.fixture(scope="module")
def truth(folder) -> dict:
    return yaml.safe_load((folder / "truth.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def step1(folder):
    config = load_config(folder / "icp.yml")
    project = loaders.load_project(config, tables=["accounts", "deals"], cache=False)
    quarter = loaders.latest_quarter(config)
    table = features.project_features(project, quarter=quarter, config=config)
    scores = best.best_customers(table, rule=config.best_customers)
    return config, project, quarter, table, scores


def test_the_sample_comes_with_a_ready_config_whose_paths_are_relative(folder):
    text = (folder / "icp.yml").read_text(encoding="utf-8")
    assert str(folder) not in text
    config = load_config(folder / "icp.yml")  # every named file exists beside it
    assert config.profile.kind == "b2c" and set(config.inputs) >= {"accounts", "deals", "interviews"}


def test_b2c_needs_an_output_folder():
    outcome = CliRunner().invoke(app, ["sample", "--kind", "b2c"])
    assert outcome.exit_code == 2 and "--out" in outcome.output


def test_consumers_load_with_no_company_columns_and_orders_carry_hour_and_baskets(step1):
    config, project, quarter, table, _ = step1
    assert str(quarter) == "2026Q3"
    assert project.tables["accounts"].summary["profile_kind"] == "b2c"
    assert not {"industry", "employees"} & set(project.accounts.columns)
    assert {"age", "age_band", "income_band", "has_children", "gender"} <= set(table.columns)
    assert table["preferred_hour"].notna().all()
    assert set(table["multi_item_buyer"]) == {True, False}


def _hits(chosen: set[str], planted: list[str], equivalent: dict) -> tuple[float, float]:
    accepted = {p: {p, *equivalent.get(p, [])} for p in planted}
    found = {p for p, ids in accepted.items() if ids & chosen}
    right = {c for c in chosen if any(c in ids for ids in accepted.values())}
    return len(right) / max(len(chosen), 1), len(found) / len(planted)


def test_the_selection_recovers_the_planted_demographic_and_behaviour_traits(step1, truth):
    config, _, _, table, scores = step1
    selector, _ = validation.select_and_score(table, scores["is_best"].to_numpy(), config=config)
    chosen = {t.id for t in selector.traits_}
    precision, recall = _hits(chosen, truth["icp_traits"] + truth["behaviour_traits"], truth["equivalent"])
    assert precision >= 0.9, f"precision: chose {sorted(chosen)}"
    assert recall >= 0.9, f"recall: chose {sorted(chosen)}"
    assert not chosen & set(truth["decoy_traits"])
    who = {t.id for t in selector.traits_ if t.kind == "firmographic"}
    assert who == set(truth["icp_traits"])


def test_groups_recover_the_planted_segments_with_titles_that_differ(step1, truth, folder):
    _, _, _, table, scores = step1
    model = groups.CustomerGroups(k_min=2, k_max=6).fit(table, scores["is_best"])
    segments = pd.read_csv(folder / truth["segments"]["file"]).set_index("customer_id")
    planted = segments.reindex(table["account_id"])[truth["segments"]["column"]]
    assert adjusted_rand_score(planted, model.labels_) >= 0.6
    titles = list(model.labels_text_.values())
    assert len(set(titles)) == len(titles)
    assert all(title not in ("customers", "accounts") for title in titles)
    assert " | ".join(titles).count("aged") >= 3  # each names the age that sets it apart
