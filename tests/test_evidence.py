"""Evidence arithmetic: lift and its CI, tests, BH q-values, stability, skew warning."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from icp_helpers.traits.evidence import (
    _unique_rows,
    bh_qvalues,
    bootstrap_stability,
    impact,
    interview_skew_warning,
    lift_ci,
    trait_evidence,
    two_by_two_p,
)
from icp_helpers.traits.traits import TraitDef


def test_lift_and_katz_ci_by_hand():
    a, n1, c, n0 = 30, 100, 20, 200
    lift, low, high, zero = lift_ci([a], [n1], [c], [n0])
    expected = (a / n1) / (c / n0)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    assert lift[0] == pytest.approx(expected)
    assert low[0] == pytest.approx(expected * math.exp(-1.959964 * se), rel=1e-6)
    assert high[0] == pytest.approx(expected * math.exp(1.959964 * se), rel=1e-6)
    assert not zero[0]


def test_zero_cell_gets_haldane_correction_and_empty_trait_no_lift():
    lift, low, high, zero = lift_ci([5, 0], [50, 50], [0, 0], [100, 100])
    assert zero[0] and np.isfinite(lift[0]) and low[0] > 1
    assert lift[0] == pytest.approx((5.5 / 51) / (0.5 / 101))
    assert np.isnan(lift[1]) and not zero[1]  # nobody has the trait: no ratio


def test_fisher_matches_scipy_and_chi2_above_the_limit():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 30, 20)
    n1 = a + rng.integers(1, 40, 20)
    c = rng.integers(0, 60, 20)
    n0 = c + rng.integers(1, 90, 20)
    p, test = two_by_two_p(a, n1, c, n0)
    for i in range(20):
        table = [[a[i], n1[i] - a[i]], [c[i], n0[i] - c[i]]]
        assert p[i] == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-9)
    assert set(test) == {"fisher"}
    p2, test2 = two_by_two_p(a, n1, c, n0, exact_max_n=10)
    table = [[a[0], n1[0] - a[0]], [c[0], n0[0] - c[0]]]
    assert test2[0] == "chi2"
    assert p2[0] == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue)


def test_bh_against_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 -> m p / rank = 0.02, 0.02, 0.04, 0.04
    np.testing.assert_allclose(bh_qvalues(p), [0.02, 0.04, 0.04, 0.02])


def test_bh_matches_its_definition_on_random_p():
    rng = np.random.default_rng(1)
    p = rng.random(50) ** 3
    m = len(p)
    order = np.argsort(p)
    rank = np.empty(m, dtype=int)
    rank[order] = np.arange(1, m + 1)
    expected = [min(1.0, min(m * p[j] / rank[j] for j in range(m) if p[j] >= p[i])) for i in range(m)]
    np.testing.assert_allclose(bh_qvalues(p), expected)
    # row-wise along an axis, NaN left out of m
    twice = bh_qvalues(np.vstack([p, p]), axis=1)
    np.testing.assert_allclose(twice[1], expected)
    with_nan = bh_qvalues(np.append(p, np.nan))
    assert np.isnan(with_nan[-1])
    np.testing.assert_allclose(with_nan[:-1], expected)


def test_impact_is_zero_unless_enriched():
    np.testing.assert_allclose(impact([0.5, 0.5, 0.2], [2.0, 0.5, 1.0]), [0.5 * math.log(2), 0, 0])


def test_unique_rows_reconstructs_the_rows():
    rng = np.random.default_rng(2)
    bits = rng.random((500, 70)) < 0.05
    bits[100:200] = bits[0]
    first, inverse, counts = _unique_rows(bits)
    np.testing.assert_array_equal(bits[first][inverse], bits)
    assert counts.sum() == 500 and len(first) == len(np.unique(bits, axis=0))


def _planted(n: int = 2000, n_traits: int = 100, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_traits)) < 0.3
    y = rng.random(n) < np.where(X[:, 0], 0.4, 0.15)
    return X, y


def test_stability_separates_signal_from_noise_and_is_seeded():
    X, y = _planted(n_traits=20)
    s1 = bootstrap_stability(X, y, n_bootstrap=100, random_state=5)
    s2 = bootstrap_stability(X, y, n_bootstrap=100, random_state=5)
    np.testing.assert_array_equal(s1, s2)
    assert s1[0] > 0.95
    assert np.median(s1[1:]) < 0.1


def test_resampling_fewer_accounts_keeps_a_clear_trait_and_no_noise():
    X, y = _planted(n=20_000, n_traits=20, seed=1)
    full = bootstrap_stability(X, y, n_bootstrap=60, random_state=5)
    capped = bootstrap_stability(X, y, n_bootstrap=60, random_state=5, max_resample=4_000)
    # a cap at or above the accounts changes nothing, draw for draw
    same = bootstrap_stability(X, y, n_bootstrap=60, random_state=5, max_resample=20_000)
    np.testing.assert_array_equal(same, full)
    assert full[0] == capped[0] == 1.0
    assert np.median(capped[1:]) <= max(np.median(full[1:]), 0.1)
    # a weak trait is found again less often in smaller resamples, not more
    weak_X = np.column_stack([X[:, 1:], (np.random.default_rng(3).random(len(y)) < np.where(y, 0.36, 0.3))])
    weak_full = bootstrap_stability(weak_X, y, n_bootstrap=60, random_state=5, prune=False)[-1]
    weak_capped = bootstrap_stability(weak_X, y, n_bootstrap=60, random_state=5, prune=False,
                                      max_resample=4_000)[-1]
    assert weak_capped < weak_full


def test_resample_counts_run_on_one_blas_thread(monkeypatch):
    # BLAS threads spin while they wait for a core: beside the pruning threads the small
    # count products took six times longer, so the bootstrap holds BLAS to one thread
    from threadpoolctl import threadpool_info, threadpool_limits

    import icp_helpers.traits.evidence as evidence_module

    seen = []
    draw_counts = evidence_module._sparse_draw_counts

    def watched(*args, **kwargs):
        seen.extend(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
        return draw_counts(*args, **kwargs)

    monkeypatch.setattr(evidence_module, "_sparse_draw_counts", watched)
    X, y = _planted(n=20_000, n_traits=20, seed=1)
    with threadpool_limits(limits=2, user_api="blas"):
        stability = bootstrap_stability(X, y, n_bootstrap=30, random_state=5, max_resample=1_000)
        assert {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"} == {2}
    assert seen and set(seen) == {1}
    # integer counts: the same stability whatever the BLAS threads
    monkeypatch.setattr(evidence_module, "threadpool_limits", lambda **_: threadpool_limits(limits=2, user_api="blas"))
    np.testing.assert_array_equal(
        bootstrap_stability(X, y, n_bootstrap=30, random_state=5, max_resample=1_000), stability
    )


def test_evidence_table_numbers_and_code_population():
    rng = np.random.default_rng(4)
    n = 400
    y = rng.random(n) < 0.25
    asked = rng.random(n) < 0.2
    industry = rng.random(n) < np.where(y, 0.6, 0.2)
    code = np.where(asked, rng.random(n) < np.where(y, 0.8, 0.2), False)
    matrix = pd.DataFrame({"industry=wholesaler": industry, "need:x": code})
    traits = [
        TraitDef(id="industry=wholesaler", label="wholesaler", kind="firmographic",
                 column="industry", op="eq", value="wholesaler"),
        TraitDef(id="need:x", label="need x", kind="code", column="need:x", op="flag"),
    ]
    table = trait_evidence(matrix, y, traits=traits, interviewed=asked, n_bootstrap=50).set_index("trait")
    row = table.loc["industry=wholesaler"]
    assert row["n_best"] == y.sum() and row["best_with"] == (industry & y).sum()
    assert row["prevalence_best"] == pytest.approx((industry & y).sum() / y.sum())
    assert row["coverage"] == row["prevalence_best"]
    assert row["evidence"] == "who" and row["population"] == "all"
    code_row = table.loc["need:x"]
    assert code_row["n_best"] == (y & asked).sum() and code_row["n_rest"] == (~y & asked).sum()
    assert code_row["evidence"] == "why" and code_row["population"] == "interviewed"
    assert not code_row["scorable"]
    q = bh_qvalues(table["p_value"].to_numpy())
    np.testing.assert_allclose(table["q_value"], q)
    assert table["stability"].between(0, 1).all()


def test_skew_warning():
    y = np.array([True] * 18 + [False] * 2 + [False] * 100)
    asked = np.array([True] * 20 + [False] * 100)
    text = interview_skew_warning(y, asked)
    assert text is not None and "90%" in text
    balanced = np.array([True] * 40 + [False] * 80)
    y2 = np.array([True] * 20 + [False] * 100)
    assert interview_skew_warning(y2, balanced) is None
    few = np.array([True] * 10 + [False] * 110)
    y3 = np.array([True] * 3 + [False] * 117)
    assert "only 10 accounts" in interview_skew_warning(y3, few)
    assert "No accounts" in interview_skew_warning(y3, np.zeros(120, dtype=bool))


def test_phi_from_counts_equals_weighted_phi_pair_by_pair():
    from icp_helpers.traits.evidence import _phi_from_counts, _weighted_phi

    rng = np.random.default_rng(4)
    X = rng.random((400, 6)) < [0.1, 0.5, 0.5, 0.9, 0.0, 1.0]  # the last two are constant
    X[:, 2] = X[:, 1] ^ (rng.random(400) < 0.1)
    w = rng.integers(0, 4, 400).astype(float)
    counts = X.T.astype(float) @ (w[:, None] * X)
    phi = _phi_from_counts(counts, w.sum())
    for j in range(6):
        np.testing.assert_allclose(phi[j], _weighted_phi(X[:, j], X, w), atol=1e-12)
    assert (_phi_from_counts(counts * 0, 0.0) == 0).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_resample_pruning_equals_redundancy_trait_by_trait(seed):
    from icp_helpers.traits.evidence import _resample_selection, redundancy

    rng = np.random.default_rng(seed)
    n_patterns, n_traits = 3_000, 24
    base = rng.random((n_patterns, 1)) < 0.4
    # correlated traits, so that some are pruned by phi and some by the adjusted lift
    X = (rng.random((n_patterns, n_traits)) < 0.15) | (base & (rng.random((n_patterns, n_traits)) < 0.5))
    y = (X[:, :3].sum(axis=1) + rng.random(n_patterns) * 2) > 1.5
    pops = np.column_stack([np.ones(n_patterns, dtype=bool), rng.random(n_patterns) < 0.3])
    pop_of_trait = np.array([0] * 18 + [1] * 6)
    X = X & pops[:, pop_of_trait]
    groups = np.array(["who"] * 12 + ["behaviour"] * 6 + ["why"] * 6, dtype=object)
    rows = np.sort(rng.choice(n_patterns, 1_800, replace=False))
    weights = rng.integers(1, 4, len(rows)).astype(float)
    order = rng.permutation(n_traits)

    kept = []
    for j in order:
        peers = [k for k in kept if groups[k] == groups[j] and pop_of_trait[k] == pop_of_trait[j]]
        inside = pops[rows, pop_of_trait[j]]
        r, w = rows[inside], weights[inside]
        if peers and redundancy(X[r, j], X[r][:, peers], y[r], weights=w, max_phi=0.5, min_lift=1.1):
            continue
        kept.append(j)
    got = _resample_selection(
        order, groups, X, y, pops, pop_of_trait, (rows, weights), max_phi=0.5, min_lift=1.1
    )
    assert got == kept
    assert 0 < len(kept) < n_traits  # the case prunes some traits and keeps others


def test_a_column_whose_strongest_level_alone_is_weak_is_found_as_a_whole():
    from icp_helpers.traits.evidence import column_tests, column_tests_markdown
    from icp_helpers.traits.selection import TraitSelector
    from icp_helpers.traits.traits import candidate_traits, trait_matrix

    rng = np.random.default_rng(12)
    n = 4000
    levels = np.array(["a", "b", "c", "d", "e", "f"])
    lead_type = rng.choice(levels, n)
    rate = dict(zip(levels, [0.14, 0.16, 0.18, 0.20, 0.22, 0.24], strict=True))
    best = rng.random(n) < np.vectorize(rate.get)(lead_type)
    frame = pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "lead_type": lead_type,
                          "visits": rng.poisson(np.where(best, 5.5, 5.0)).astype(float) + rng.random(n),
                          "noise": rng.choice(["x", "y"], n)})
    candidates = candidate_traits(frame, roles={"visits": "who"})
    selector = TraitSelector(traits=candidates, n_bootstrap=20, random_state=0).fit(
        trait_matrix(frame, candidates), best
    )
    # level by level, no trait of the column is chosen...
    assert not [t for t in selector.selected_["trait"] if t.startswith("lead_type=")]
    # ...but the column as a whole clearly differs
    tests = column_tests(frame, best, columns=["lead_type", "visits", "noise"]).set_index("column")
    assert tests.loc["lead_type", "test"] == "chi-square" and tests.loc["lead_type", "q_value"] < 0.001
    assert 0.05 < tests.loc["lead_type", "effect"] < 0.2  # Cramér's V
    assert tests.loc["visits", "test"] == "Mann-Whitney U" and tests.loc["visits", "effect"] > 0
    assert tests.loc["noise", "q_value"] > 0.05
    assert "lead_type" in column_tests_markdown(tests.reset_index())
