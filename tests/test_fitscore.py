"""Fit score: points, tiers, explanations and the round trip through JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from icp_helpers.traits.fitscore import FitScorer, assign_tiers, rows_as_lists, tier_cutoffs
from icp_helpers.traits.traits import TraitDef, scored_kinds

WHOLESALER = TraitDef(id="industry=wholesaler", label="industry: wholesaler", kind="firmographic",
                      column="industry", op="eq", value="wholesaler")
MID_SIZE = TraitDef(id="employees_band=10-49", label="employees 10-49", kind="firmographic",
                    column="employees", op="range", value="10-49", lower=10, upper=50,
                    band_column="employees_band")
BUYER = TraitDef(id="job_role=purchasing", label="job role: purchasing", kind="contact",
                 column="job_role", op="eq", value="purchasing")


@pytest.fixture()
def accounts():
    rng = np.random.default_rng(0)
    n = 900
    frame = pd.DataFrame(
        {
            "industry": rng.choice(["wholesaler", "hotel", "deli"], size=n, p=[0.3, 0.3, 0.4]),
            "employees": rng.choice([5.0, 20.0, 80.0, np.nan], size=n, p=[0.3, 0.35, 0.3, 0.05]),
            "job_role": rng.choice(["purchasing", "owner"], size=n),
        }
    )
    logit = -2.0 + 1.5 * (frame["industry"] == "wholesaler") + 0.8 * (frame["employees"] == 20.0)
    best = rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))
    return frame, best


def test_odds_points_by_hand(accounts):
    frame, best = accounts
    scorer = FitScorer(traits=[WHOLESALER, MID_SIZE]).fit(frame, best)
    has = (frame["industry"] == "wholesaler").to_numpy()
    a, b = (has & best).sum(), (~has & best).sum()
    c, d = (has & ~best).sum(), (~has & ~best).sum()
    assert scorer.points_["industry=wholesaler"] == round(10 * math.log(a * d / (b * c)))
    assert scorer.points_["employees_band=10-49"] > 0
    assert all(isinstance(p, int) for p in scorer.points_.values())
    scores = scorer.transform(frame)
    expected = has * scorer.points_["industry=wholesaler"] + (
        frame["employees"].eq(20.0).to_numpy() * scorer.points_["employees_band=10-49"]
    )
    np.testing.assert_array_equal(scores.to_numpy(), expected)
    assert scorer.max_score_ == sum(scorer.points_.values())


def test_logistic_points_are_whole_and_non_negative(accounts):
    frame, best = accounts
    scorer = FitScorer(traits=[WHOLESALER, MID_SIZE, BUYER], method="logistic").fit(frame, best)
    assert all(isinstance(p, int) and p >= 0 for p in scorer.points_.values())
    assert scorer.points_["industry=wholesaler"] > scorer.points_["job_role=purchasing"]
    assert clone(scorer).get_params()["method"] == "logistic"


def test_tier_cutoffs_bound_the_shares_and_never_put_zero_in_a():
    rng = np.random.default_rng(1)
    scores = rng.choice([0, 0, 0, 5, 12, 17, 29], size=1000)
    cut = tier_cutoffs(scores)
    tiers = assign_tiers(scores, cut)
    assert cut["A"] > cut["B"] > 0
    assert (tiers == "A").mean() <= 1 / 3 + 1e-9
    assert np.isin(tiers, ["A", "B"]).mean() <= 2 / 3 + 1e-9
    assert (tiers[scores == 0] == "C").all()
    # monotone: a higher score never gets a lower tier
    order = np.argsort(scores)
    rank = pd.Series(tiers[order]).map({"C": 0, "B": 1, "A": 2}).to_numpy()
    assert (np.diff(rank) >= 0).all()


def test_explain_lists_matched_and_missing_traits(accounts):
    frame, best = accounts
    scorer = FitScorer(traits=[WHOLESALER, MID_SIZE]).fit(frame, best)
    explained = scorer.explain(frame)
    assert list(explained.columns) == ["fit_score", "tier", "matched", "missing", "reason"]
    for row in explained.head(50).itertuples():
        assert set(row.matched) | set(row.missing) == {WHOLESALER.id, MID_SIZE.id}
        assert not set(row.matched) & set(row.missing)
        assert row.fit_score == sum(scorer.points_[t] for t in row.matched)
    assert (explained.loc[explained["matched"].str.len() == 0, "reason"] == "no ICP trait").all()
    assert (explained["tier"] == scorer.tier(frame)).all()
    without = scorer.explain(frame, missing=False)
    assert list(without.columns) == ["fit_score", "tier", "matched", "reason"]
    pd.testing.assert_frame_equal(without, explained.drop(columns=["missing"]))


def test_refuses_traits_prospects_cannot_have(accounts):
    frame, best = accounts
    code = TraitDef(id="need:x", label="need x", kind="code", column="need:x", op="flag")
    with pytest.raises(ValueError, match="only firmographic and contact"):
        FitScorer(traits=[WHOLESALER, code]).fit(frame, best)
    with pytest.raises(ValueError, match=r"only firmographic, contact and behaviour .*need:x"):
        FitScorer(traits=[code], kinds=(*scored_kinds(True), "code")).fit(frame, best)


def test_behaviour_traits_score_only_when_asked(accounts):
    frame, best = accounts
    frame = frame.assign(busy=best | (np.arange(len(frame)) % 7 == 0))
    busy = TraitDef(id="busy", label="orders often", kind="behaviour", column="busy", op="flag")
    with pytest.raises(ValueError, match="only firmographic and contact.*busy"):
        FitScorer(traits=[WHOLESALER, busy]).fit(frame, best)
    scorer = FitScorer(traits=[WHOLESALER, busy], kinds=scored_kinds(True)).fit(frame, best)
    assert scorer.points_["busy"] > 0
    again = FitScorer.from_dict(scorer.to_dict())
    assert again.kinds == scored_kinds(True)
    assert (again.transform(frame) == scorer.transform(frame)).all()
    # a prospect has no purchases: the behaviour column is absent and earns nothing
    prospects = frame.drop(columns="busy")
    assert (again.transform(prospects) <= again.points_[WHOLESALER.id]).all()


def test_round_trip_scores_new_data_identically(accounts):
    frame, best = accounts
    scorer = FitScorer(traits=[WHOLESALER, MID_SIZE, BUYER]).fit(frame, best)
    text = json.dumps(scorer.to_dict())
    again = FitScorer.from_dict(json.loads(text))
    # prospects with only the band column, not the raw number
    prospects = pd.DataFrame(
        {
            "industry": ["wholesaler", "deli", "wholesaler"],
            "employees_band": ["10-49", "10-49", None],
            "job_role": ["purchasing", "owner", None],
        }
    )
    pd.testing.assert_series_equal(again.transform(prospects), scorer.transform(prospects))
    pd.testing.assert_frame_equal(again.explain(prospects), scorer.explain(prospects))
    assert again.cutoffs_ == scorer.cutoffs_
    assert again.transform(prospects).iloc[0] == scorer.max_score_


def test_no_trait_means_everyone_is_c(accounts):
    frame, best = accounts
    scorer = FitScorer(traits=[]).fit(frame, best)
    assert scorer.max_score_ == 0
    assert (scorer.tier(frame) == "C").all()
    assert (tier_cutoffs(np.zeros(10)) == {"A": 1.0, "B": 1.0})


def test_rows_as_lists_equals_a_loop_over_cells():
    mask = np.random.default_rng(2).random((500, 4)) < 0.4
    ids = ["a", "b", "c", "d"]
    lists, pattern, patterns = rows_as_lists(mask, ids)
    assert lists == [[ids[j] for j in np.flatnonzero(row)] for row in mask]
    assert [patterns[p] for p in pattern] == lists
    assert len(patterns) <= 16
    first, second = np.flatnonzero(pattern == pattern[0])[:2]  # two rows of one pattern
    lists[first].append("x")  # each row owns its list
    assert "x" not in lists[second] and "x" not in patterns[pattern[0]]
    assert rows_as_lists(np.zeros((3, 0), dtype=bool), [])[0] == [[], [], []]


def test_equal_cut_offs_collapse_to_two_tiers(accounts):
    frame, best = accounts
    # one trait: every account scores 0 or its points, so A and B would start at the same score
    scorer = FitScorer(traits=[WHOLESALER]).fit(frame, best)
    assert scorer.cutoffs_["A"] == scorer.cutoffs_["B"]
    assert scorer.n_tiers_ == 2
    text = scorer.to_dict()["how"]
    assert "2 tiers" in text and "B if" not in text
    from icp_helpers.traits.fitscore import tier_table

    assert list(tier_table(scorer, frame, best)["tier"]) == ["A", "C"]
    three = FitScorer(traits=[WHOLESALER, MID_SIZE]).fit(frame, best)
    assert three.n_tiers_ == 3 and "3 tiers" in three.to_dict()["how"]
    none = FitScorer(traits=[]).fit(frame, best)
    assert none.n_tiers_ == 1 and "1 tier" in none.to_dict()["how"]


def test_an_account_with_a_disqualifier_is_never_tier_a(accounts):
    frame, best = accounts
    frame = frame.assign(business_type=np.where(np.arange(len(frame)) % 4 == 0, "chain", "independent"))
    chain = TraitDef(id="business_type=chain", label="business type: chain", kind="firmographic",
                     column="business_type", op="eq", value="chain")
    plain = FitScorer(traits=[WHOLESALER, MID_SIZE]).fit(frame, best)
    assert ((plain.tier(frame) == "A") & (frame["business_type"] == "chain")).any()
    scorer = FitScorer(traits=[WHOLESALER, MID_SIZE], disqualifiers=[chain]).fit(frame, best)
    tiers = scorer.tier(frame)
    assert not ((tiers == "A") & (frame["business_type"] == "chain")).any()
    demoted = (plain.tier(frame) == "A") & (frame["business_type"] == "chain")
    assert (tiers[demoted] == "B").all()
    explained = scorer.explain(frame)
    assert explained.loc[demoted, "reason"].str.contains("disqualifier: business type: chain").all()
    again = FitScorer.from_dict(json.loads(json.dumps(scorer.to_dict())))
    assert (again.tier(frame) == tiers).all()


def test_weaker_fit_penalties_cost_points(accounts):
    frame, best = accounts
    deli = TraitDef(id="industry=deli", label="industry: deli", kind="firmographic",
                    column="industry", op="eq", value="deli")
    scorer = FitScorer(traits=[WHOLESALER], penalties=[deli]).fit(frame, best)
    assert scorer.points_["industry=deli"] < 0 < scorer.points_["industry=wholesaler"]
    items = {t["id"]: t for t in scorer.to_dict()["traits"]}
    assert items["industry=deli"].get("penalty") is True
    # a penalty the data does not support (more common among the best) costs nothing: left out
    kept = FitScorer(traits=[MID_SIZE], penalties=[WHOLESALER]).fit(frame, best)
    assert "industry=wholesaler" not in kept.points_
