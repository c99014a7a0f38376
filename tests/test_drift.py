"""Quarter-over-quarter drift on two hand-made run folders with known changes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_helpers.reports import drift


def _field(*texts: str) -> dict:
    return {"status": "evidence" if texts else "no evidence", "source": "x", "items": [{"text": t} for t in texts]}


def _persona(pid: str, label: str, pains: tuple[str, ...]) -> dict:
    return {"id": pid, "kind": pid.split("-")[0], "label": label, "description": label,
            "pains": _field(*pains), "channels": _field("trade show")}


def write_run(folder: Path, *, traits, lifts, tiers, groups, personas) -> Path:
    """A run folder holding just the artifacts drift reads."""
    folder.mkdir(parents=True)
    selection = {"traits": [{"id": t, "label": t.replace("=", " "), "points": 1} for t in traits]}
    (folder / "selection.json").write_text(json.dumps(selection))
    pd.DataFrame(
        {"trait": list(lifts), "lift": list(lifts.values()), "q_value": [0.01] * len(lifts)}
    ).to_parquet(folder / "evidence.parquet")
    pd.DataFrame(
        {"account_id": list(tiers), "tier": list(tiers.values()), "fit_score": range(len(tiers))}
    ).to_csv(folder / "scored_accounts.csv", index=False)
    pd.DataFrame({"account_id": list(groups), "group": list(groups.values())}).to_parquet(
        folder / "groups.parquet"
    )
    (folder / "personas.json").write_text(json.dumps(personas))
    return folder


@pytest.fixture()
def two_runs(tmp_path):
    accounts = [f"A{i}" for i in range(8)]
    before = write_run(
        tmp_path / "2026Q1",
        traits=["industry=wholesaler", "employees_band=10-49", "case_study"],
        lifts={"industry=wholesaler": 2.5, "employees_band=10-49": 1.8, "case_study": 1.6, "country=Italy": 1.1},
        tiers=dict(zip(accounts, "AABBBCCC", strict=True)),
        groups=dict(zip(accounts, [0, 0, 0, 0, 1, 1, 1, 1], strict=True)),
        personas=[_persona("group-0", "Wholesalers", ("late deliveries",)),
                  _persona("role-buyer", "Buyer", ("price",))],
    )
    # Same partition with group numbers swapped, plus a new account A8; A7 gone.
    after_accounts = accounts[:7] + ["A8"]
    after = write_run(
        tmp_path / "2026Q2",
        traits=["industry=wholesaler", "case_study", "country=Italy"],
        lifts={"industry=wholesaler": 3.0, "employees_band=10-49": 1.2, "case_study": 1.6, "country=Italy": 2.0},
        tiers=dict(zip(after_accounts, "ABABBCAC", strict=True)),
        groups=dict(zip(after_accounts, [1, 1, 1, 1, 0, 0, 0, 0], strict=True)),
        personas=[_persona("group-1", "Wholesalers", ("late deliveries", "storage")),
                  _persona("role-buyer", "Buyer", ("price",))],
    )
    return before, after


def test_trait_changes(two_runs):
    report = drift.quarter_drift(*two_runs, from_quarter="2026Q1", to_quarter="2026Q2")
    traits = report.traits.set_index("trait")
    assert traits["status"].to_dict() == {
        "industry=wholesaler": "kept", "case_study": "kept",
        "country=Italy": "entered", "employees_band=10-49": "left",
    }
    assert traits.loc["employees_band=10-49", "lift_change"] == pytest.approx(1.2 - 1.8)
    assert traits.loc["country=Italy", "lift_from"] == pytest.approx(1.1)
    assert report.missing == []
    assert report.explain().count(": compared") == 4


def test_tier_changes_and_transitions(two_runs):
    report = drift.quarter_drift(*two_runs, from_quarter="2026Q1", to_quarter="2026Q2")
    moved = report.tiers.set_index("account_id")
    # before AABBBCCC (A0..A7), after ABABBCA + A8
    assert moved["tier_from"].to_dict() == {"A1": "A", "A2": "B", "A6": "C"}
    assert moved["tier_to"].to_dict() == {"A1": "B", "A2": "A", "A6": "A"}
    assert moved["direction"].to_dict() == {"A1": "down", "A2": "up", "A6": "up"}
    assert list(report.tiers["direction"]) == ["up", "up", "down"]
    grid = report.transitions
    assert grid.loc["A", "A"] == 1 and grid.loc["C", "A"] == 1
    assert grid.loc["absent", "C"] == 1 and grid.loc["C", "absent"] == 1
    assert grid.to_numpy().sum() == 9  # 7 common + 1 new + 1 gone


def test_relabelled_groups_are_the_same_partition(two_runs):
    report = drift.quarter_drift(*two_runs, from_quarter="2026Q1", to_quarter="2026Q2")
    assert report.groups["n_common"] == 7
    assert report.groups["ari"] == pytest.approx(1.0)
    assert report.groups["matching"] == {"0": "1", "1": "0"}
    overlap = report.group_overlap()
    assert overlap.loc["0", "1"] == 4 and overlap.loc["1", "0"] == 3 and overlap.loc["0", "0"] == 0


def test_persona_changes_follow_the_group_matching(two_runs):
    report = drift.quarter_drift(*two_runs, from_quarter="2026Q1", to_quarter="2026Q2")
    changes = report.personas
    # group-0 became group-1: only the pains field changed; the buyer persona did not change
    assert changes[["persona", "field", "change"]].values.tolist() == [["group-1", "pains", "changed"]]
    assert changes.iloc[0]["after"] == "late deliveries; storage"


def test_missing_artifacts_are_named(two_runs, tmp_path):
    before, after = two_runs
    (before / "selection.json").unlink()
    report = drift.quarter_drift(before, tmp_path / "nowhere", from_quarter="2026Q1", to_quarter="2026Q3")
    assert report.traits is None and report.tiers is None and report.groups is None
    assert any("selection.json not found" in m and "03_select_traits" in m for m in report.missing)
    assert any("icp run --quarter 2026Q3" in m for m in report.missing)
    text = report.explain()
    assert "- traits: skipped" in text and "- groups: skipped" in text
    assert "selection.json not found" in text and "compared" not in text


def test_write_drift(two_runs, tmp_path):
    report = drift.quarter_drift(*two_runs, from_quarter="2026Q1", to_quarter="2026Q2")
    names = {p.name for p in drift.write_drift(report, tmp_path / "out")}
    assert names == {"drift.json", "trait_changes.parquet", "tier_changes.parquet",
                     "tier_transitions.parquet", "persona_changes.parquet", "group_crosstab.parquet"}
    summary = json.loads((tmp_path / "out" / "drift.json").read_text())
    assert summary["traits_entered"] == ["country=Italy"]
    assert summary["traits_left"] == ["employees_band=10-49"]
    assert summary["accounts_up"] == 2 and summary["groups"]["ari"] == pytest.approx(1.0)
    assert pd.read_parquet(tmp_path / "out" / "tier_transitions.parquet")["tier_from"].tolist()[-1] == "absent"


def test_resolve_drift_defaults_to_the_previous_quarter(tmp_path):
    (tmp_path / "a.csv").write_text("account_id,industry,employees,country\n")
    (tmp_path / "d.csv").write_text("deal_id,account_id,close_date,amount\n")
    config = tmp_path / "icp.yml"
    config.write_text("inputs:\n  accounts: {path: a.csv}\n  deals: {path: d.csv}\n")
    paths = drift.resolve_drift(str(config), "", "2026Q3", str(tmp_path), "")
    assert (paths.from_quarter, paths.to_quarter) == ("2026Q2", "2026Q3")
    # by hand (no out_dir): the lab folder, never over the drift report icp run published
    assert paths.out_dir == tmp_path / "lab" / "drift" / "2026Q2_2026Q3" and paths.out_dir.is_dir()
    assert paths.from_dir == tmp_path / "2026Q2"
    with pytest.raises(ValueError, match="must come before"):
        drift.resolve_drift(str(config), "2026Q3", "2026Q3", str(tmp_path), "")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=2, max_size=30), st.permutations([0, 1, 2, 3]))
def test_relabelling_never_changes_the_ari(labels, perm):
    """Renumbering groups is not drift: the ARI is 1 and the matching undoes the renumbering."""
    ids = [f"A{i}" for i in range(len(labels))]
    before = pd.DataFrame({"account_id": ids, "group": labels})
    after = pd.DataFrame({"account_id": ids, "group": [perm[g] for g in labels]})
    shift = drift.group_shift(before, after)
    if len(set(labels)) > 1:
        assert shift["ari"] == pytest.approx(1.0)
    assert all(shift["matching"][str(g)] == str(perm[g]) for g in set(labels))
    assert np.trace(shift["crosstab"].to_numpy()) <= len(ids)


def test_selected_ids_include_interview_traits():
    selection = {"selected": [{"id": "industry=hotel", "label": "Hotels"}],
                 "why_traits": [{"id": "pain:reliable_delivery", "label": "Reliable delivery"}]}
    assert drift.selected_ids(selection) == {"industry=hotel": "Hotels",
                                             "pain:reliable_delivery": "Reliable delivery"}
    assert drift.selected_ids(None) == {} and drift.selected_ids({"traits": ["a"]}) == {"a": "a"}
