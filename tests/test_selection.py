"""Trait selection: estimator contract, screen, pruning, limit, noise and the negative ICP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from icp_helpers.traits.evidence import _weighted_phi, conditional_lift, redundancy
from icp_helpers.traits.selection import TraitSelector, negative_icp, selection_record
from icp_helpers.traits.traits import TraitDef


def _flag(tid: str, kind: str = "firmographic") -> TraitDef:
    return TraitDef(id=tid, label=tid.replace("_", " "), kind=kind, column=tid, op="flag")


def planted(n: int = 1500, *, seed: int = 0, n_noise: int = 8):
    """Two real traits, noise traits, a noisy copy of the first and a behaviour trait."""
    rng = np.random.default_rng(seed)
    strong = rng.random(n) < 0.35
    second = rng.random(n) < 0.4
    logit = -2.2 + 1.6 * strong + 1.1 * second
    best = rng.random(n) < 1 / (1 + np.exp(-logit))
    columns = {"strong": strong, "second": second}
    flip = rng.random(n) < 0.03
    columns["strong_copy"] = np.where(flip, ~strong, strong)
    for i in range(n_noise):
        columns[f"noise_{i}"] = rng.random(n) < 0.3
    columns["big_orders"] = rng.random(n) < np.where(best, 0.7, 0.2)
    X = pd.DataFrame(columns)
    traits = [_flag(c) for c in X.columns if c != "big_orders"] + [_flag("big_orders", "behaviour")]
    return X, best, traits


def test_estimator_contract():
    X, y, traits = planted()
    selector = TraitSelector(traits=traits, n_bootstrap=40, random_state=1)
    params = selector.get_params()
    assert params["max_traits"] == 10 and params["random_state"] == 1
    assert not hasattr(selector, "selected_")
    assert selector.fit(X, y) is selector
    for attr in ("evidence_", "selected_", "rejected_", "insufficient_", "support_", "traits_"):
        assert hasattr(selector, attr)
    assert selector.n_features_in_ == X.shape[1]
    assert list(selector.transform(X).columns) == list(selector.selected_["trait"])
    assert selector.get_support().sum() == len(selector.selected_)
    copy = clone(selector).fit(X, y)
    pd.testing.assert_frame_equal(copy.evidence_, selector.evidence_)
    assert set(selector.rejected_["trait"]) | set(selector.selected_["trait"]) == set(X.columns)


def test_recovers_planted_traits_prunes_the_copy_and_skips_behaviour():
    X, y, traits = planted()
    selector = TraitSelector(traits=traits, n_bootstrap=60, random_state=0).fit(X, y)
    assert list(selector.selected_["trait"]) == ["strong", "second"]
    rejected = selector.rejected_.set_index("trait")
    assert rejected.loc["strong_copy", "status"] == "redundant"
    assert "strong" in rejected.loc["strong_copy", "reason"]
    assert rejected.loc["big_orders", "status"] == "evidence only"
    assert (selector.selected_["q_value"] <= 0.05).all()
    assert (selector.selected_["stability"] >= 0.6).all()
    assert selector.selected_["rank"].tolist() == [1, 2]


def test_confounded_trait_is_redundant_given_the_kept_one():
    rng = np.random.default_rng(5)
    n = 3000
    industry = rng.random(n) < 0.3
    best = rng.random(n) < np.where(industry, 0.5, 0.1)
    # a job role common in that industry, with no effect of its own
    role = rng.random(n) < np.where(industry, 0.6, 0.2)
    X = pd.DataFrame({"industry": industry, "role": role})
    marginal = (role & best).sum() / best.sum() / ((role & ~best).sum() / (~best).sum())
    assert marginal > 1.3  # it looks like a trait on its own
    lift, low, high = conditional_lift(role, industry, best)
    assert low < 1 < high
    selector = TraitSelector(n_bootstrap=40, random_state=0).fit(X, best)
    assert list(selector.selected_["trait"]) == ["industry"]
    row = selector.rejected_.set_index("trait").loc["role"]
    assert row["status"] == "redundant" and "industry" in row["reason"]


def test_phi_and_redundancy_helpers():
    x = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    phi = _weighted_phi(x, np.column_stack([x, ~x, np.ones(6, dtype=bool)]), np.ones(6))
    np.testing.assert_allclose(phi, [1, -1, 0])
    # weights count rows: doubling a row is the same as weight 2
    w = np.array([2, 1, 1, 1, 1, 1.0])
    g = np.array([1, 0, 0, 1, 1, 0], dtype=bool)
    doubled = np.corrcoef(np.r_[x[:1], x].astype(float), np.r_[g[:1], g].astype(float))[0, 1]
    np.testing.assert_allclose(_weighted_phi(x, g[:, None], w), [doubled])
    y = np.array([1, 0, 1, 0, 1, 0], dtype=bool)
    assert redundancy(x, x[:, None], y)["why"] == "phi"
    assert redundancy(x, np.zeros((6, 0), dtype=bool), y) is None


def test_conditional_lift_without_confounding_equals_the_crude_lift():
    rng = np.random.default_rng(2)
    n = 20000
    x = rng.random(n) < 0.4
    g = rng.random(n) < 0.5
    y = rng.random(n) < np.where(x, 0.3, 0.15)
    crude = ((x & y).sum() / y.sum()) / ((x & ~y).sum() / (~y).sum())
    adjusted, low, high = conditional_lift(x, g, y)
    assert adjusted == pytest.approx(crude, rel=0.03)
    assert low < adjusted < high
    # weights equal to repeating rows
    w = rng.integers(1, 4, n)
    rep = np.repeat(np.arange(n), w)
    weighted = conditional_lift(x, g, y, weights=w)[0]
    assert weighted == pytest.approx(conditional_lift(x[rep], g[rep], y[rep])[0])


def test_max_traits_is_respected():
    rng = np.random.default_rng(3)
    n = 2000
    X = pd.DataFrame({f"t{i}": rng.random(n) < 0.3 for i in range(6)})
    logit = -2.5 + X.to_numpy(dtype=float) @ np.full(6, 0.9)
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    selector = TraitSelector(max_traits=3, n_bootstrap=40, random_state=0).fit(X, y)
    assert len(selector.selected_) == 3
    assert (selector.rejected_["status"] == "beyond limit").sum() == 3


def test_small_lifts_are_insufficient_evidence_even_when_significant():
    rng = np.random.default_rng(4)
    n = 60000
    x = rng.random(n) < 0.5
    y = rng.random(n) < np.where(x, 0.21, 0.19)  # lift about 1.1, significant at this n
    selector = TraitSelector(n_bootstrap=20, random_state=0).fit(pd.DataFrame({"x": x}), y)
    assert selector.selected_.empty
    row = selector.insufficient_.set_index("trait").loc["x"]
    assert "does not rule out a lift below 1.2" in row["reason"]


def test_noise_selects_nothing_in_at_least_95_percent_of_runs():
    runs, clean = 40, 0
    for seed in range(runs):
        rng = np.random.default_rng(1000 + seed)
        n = 600
        X = pd.DataFrame({f"t{i}": rng.random(n) < rng.uniform(0.1, 0.6) for i in range(25)})
        y = rng.random(n) < 0.2
        selector = TraitSelector(n_bootstrap=30, random_state=seed).fit(X, y)
        clean += selector.selected_.empty
        # whatever is not selected is rejected with a reason
        assert (selector.rejected_["reason"].str.len() > 0).all()
    assert clean / runs >= 0.95


def test_codes_are_judged_on_interviewed_accounts_and_not_pruned_against_who_traits():
    rng = np.random.default_rng(6)
    n = 1200
    industry = rng.random(n) < 0.3
    best = rng.random(n) < np.where(industry, 0.45, 0.12)
    asked = np.zeros(n, dtype=bool)
    asked[np.flatnonzero(best)[:40]] = True
    asked[np.flatnonzero(~best)[:40]] = True
    code = asked & (rng.random(n) < np.where(best, 0.8, 0.15))
    X = pd.DataFrame({"industry": industry, "need:x": code})
    traits = [_flag("industry"), _flag("need:x", "code")]
    selector = TraitSelector(traits=traits, n_bootstrap=60, random_state=0).fit(
        X, best, interviewed=asked
    )
    assert set(selector.selected_["trait"]) == {"industry", "need:x"}
    row = selector.evidence_.set_index("trait").loc["need:x"]
    assert row["n_best"] == 40 and row["n_rest"] == 40 and row["population"] == "interviewed"
    record = selection_record(selector, quarter="2026Q3")
    assert [t["id"] for t in record["why_traits"]] == ["need:x"]
    assert [t["id"] for t in record["selected"]] == ["industry"]


def test_negative_icp_finds_the_disqualifier():
    rng = np.random.default_rng(7)
    n = 1500
    chain = rng.random(n) < 0.25
    negative = rng.random(n) < np.where(chain, 0.35, 0.1)
    X = pd.DataFrame({"chain": chain, "noise": rng.random(n) < 0.4,
                      "lost_share_high": negative | (rng.random(n) < 0.1)})
    traits = [_flag("chain"), _flag("noise"), _flag("lost_share_high", "behaviour")]
    table = negative_icp(X, negative, traits=traits, n_bootstrap=40)
    assert table.loc[table["disqualifier"], "trait"].tolist() == ["chain"]
    assert "lost_share_high" not in set(table["trait"])  # behaviour restates the cohort


def test_selector_params_are_the_configured_rule():
    from icp_helpers.data.config import load_config
    from icp_helpers.traits.selection import selector_params

    settings = load_config().traits
    params = TraitSelector(**selector_params(settings)).get_params()
    assert params["max_traits"] == settings.max_traits == 10
    assert params["bootstrap_max_accounts"] == settings.bootstrap_max_accounts
    assert params["n_bootstrap"] == settings.n_bootstrap



def _with_trait(X, best, column, values):
    return X.assign(**{column: values}), best


def test_a_near_perfect_separator_is_possible_leakage_unless_confirmed():
    X, y, traits = planted()
    rng = np.random.default_rng(3)
    # an outcome left among the columns: held by 97% of the best customers and 1% of the rest
    leak = np.where(y, rng.random(len(y)) < 0.97, rng.random(len(y)) < 0.01)
    X = X.assign(answered_yes=leak)
    traits = [*traits, _flag("answered_yes")]
    selector = TraitSelector(traits=traits, n_bootstrap=30, random_state=0).fit(X, y)
    row = selector.evidence_.set_index("trait").loc["answered_yes"]
    assert row["status"] == "possible leakage"
    assert "AUC 0.9" in row["reason"] and "traits.confirm_leakage" in row["reason"]
    assert "answered_yes" not in set(selector.selected_["trait"])
    assert set(selector.selected_["trait"]) == {"strong", "second"}
    record = selection_record(selector)
    assert [item["id"] for item in record["possible_leakage"]] == ["answered_yes"]
    assert record["possible_leakage"][0]["best_with"] > 0
    confirmed = TraitSelector(traits=traits, n_bootstrap=30, random_state=0,
                              confirmed_leakage=["answered_yes"]).fit(X, y)
    assert "answered_yes" in set(confirmed.selected_["trait"])


def test_a_trait_rarer_among_the_best_is_weaker_fit():
    X, y, traits = planted()
    rng = np.random.default_rng(5)
    # held by 8% of the best customers and 30% of the rest: lift about 0.27
    rare = np.where(y, rng.random(len(y)) < 0.08, rng.random(len(y)) < 0.30)
    X = X.assign(reseller=rare)
    traits = [*traits, _flag("reseller")]
    selector = TraitSelector(traits=traits, n_bootstrap=30, random_state=0).fit(X, y)
    table = selector.evidence_.set_index("trait")
    assert table.loc["reseller", "status"] == "weaker fit"
    assert table.loc["reseller", "lift_high"] <= 1 / 1.2
    assert table.loc["noise_0", "status"] != "weaker fit"
    record = selection_record(selector)
    assert [item["id"] for item in record["weaker_fit"]] == ["reseller"]


def test_min_lift_is_configurable():
    X, y, traits = planted()
    loose = TraitSelector(traits=traits, n_bootstrap=20, random_state=0, min_lift=1.05).fit(X, y)
    strict = TraitSelector(traits=traits, n_bootstrap=20, random_state=0, min_lift=3.5).fit(X, y)
    assert len(strict.selected_) < len(loose.selected_)
    from icp_helpers.data.config import TraitSelectionConfig
    from icp_helpers.traits.selection import selector_params

    assert selector_params(TraitSelectionConfig(min_lift=1.1))["min_lift"] == 1.1


def test_two_bands_of_one_number_are_one_threshold():
    rng = np.random.default_rng(2)
    n = 1500
    size = rng.gamma(2.0, 10.0, n)
    edges = np.quantile(size, [0.25, 0.5, 0.75])
    best = rng.random(n) < np.where(size >= edges[1], 0.4, 0.08)
    bands = [
        TraitDef(id=f"size_band=Q{i + 1}", label=f"size Q{i + 1}", kind="firmographic", column="size",
                 op="range", lower=lo, upper=hi, value=f"Q{i + 1}")
        for i, (lo, hi) in enumerate(zip([None, *edges], [*edges, None], strict=True))
    ]
    half = TraitDef(id="size_band=top half", label="size top half", kind="firmographic", column="size",
                    op="range", lower=float(edges[1]), value="top half")
    traits = [*bands, half]
    frame = pd.DataFrame({"size": size})
    from icp_helpers.traits.traits import trait_matrix

    X = trait_matrix(frame, traits)
    selector = TraitSelector(traits=traits, n_bootstrap=20, random_state=0).fit(X, best)
    chosen = list(selector.selected_["trait"])
    assert chosen == ["size_band=top half"]
    table = selector.evidence_.set_index("trait")
    assert "one threshold per number" in table.loc["size_band=Q4", "reason"]


def test_a_trait_is_never_priority_and_disqualifier():
    rng = np.random.default_rng(4)
    n = 2000
    chain = rng.random(n) < 0.3
    best = rng.random(n) < np.where(chain, 0.35, 0.15)  # chains are more often best customers...
    negative = rng.random(n) < np.where(chain, 0.30, 0.08)  # ...and also churn more
    X = pd.DataFrame({"chain": chain, "noise": rng.random(n) < 0.4})
    traits = [_flag("chain"), _flag("noise")]
    selector = TraitSelector(traits=traits, n_bootstrap=30, random_state=0).fit(X, best)
    assert "chain" in set(selector.selected_["trait"])
    alone = negative_icp(X, negative, traits=traits, n_bootstrap=30)
    assert alone.set_index("trait").loc["chain", "disqualifier"]  # today's card shows it twice
    table = negative_icp(X, negative, traits=traits, n_bootstrap=30, best_evidence=selector.evidence_)
    row = table.set_index("trait").loc["chain"]
    assert not row["disqualifier"] and row["status"] == "both sides"
    assert "a priority trait" in row["reason"] and "not a disqualifier" in row["reason"]
    record = selection_record(selector, negative=table)
    assert record["negative_icp"] == []
