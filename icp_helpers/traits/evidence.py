"""Evidence per candidate trait: prevalence, lift with a CI, tests, q-values, stability.

For each trait and a cohort (the best customers, or the negative cohort) the
evidence compares the cohort with the rest of the accounts:

prevalence
    Share of the cohort (``prevalence_best``) and of the rest
    (``prevalence_rest``) who have the trait. ``coverage`` is the share of
    the cohort who have it: a trait few best customers have is a niche, not a
    profile, however strong its lift.
lift
    The prevalence ratio ``P(trait | best) / P(trait | rest)``. It reads as
    "best customers are 2.3 times as likely as the rest to be wholesalers",
    does not depend on how large the best cohort was chosen to be relative to
    the rest in the way ``P(best | trait) / P(best)`` does (that ratio is
    capped at ``1 / P(best)``), and it is the likelihood ratio a score adds up.
    The 95% CI is Katz's log method:
    ``exp(log(lift) +- 1.96 * sqrt(1/a - 1/n1 + 1/c - 1/n0))``. When a cell
    is zero, 0.5 is added to every cell (Haldane-Anscombe) so lift and CI stay
    finite; ``zero_cell`` marks those rows.
test
    Two-sided Fisher's exact test on the 2x2 table; above ``exact_max_n``
    accounts Pearson's chi-square (no continuity correction), which is
    accurate there and far cheaper. The ``test`` column says which.
q-value
    Benjamini-Hochberg adjusted p-values across all candidates evaluated
    together (one family), so "q < 0.05" bounds the expected share of false
    discoveries among the traits called significant.
stability
    The share of bootstrap resamples of the accounts in which the trait is
    found again: over-represented with a BH q-value below the threshold,
    recomputed within the resample, and not redundant given the stronger
    traits of its evidence type that pass in the same resample
    (:func:`redundancy`). It measures whether the finding reproduces (a
    trait found on the full data but not in most resamples rests on a few
    accounts; one found only when a stronger trait happens to be weak in
    the resample is a stand-in); whether the lift is large enough to matter
    is judged on the full data (:mod:`icp_helpers.traits.selection`).

Interview codes are "why" evidence: they are judged within the interviewed
accounts only (both the cohort and the rest are interviewed accounts), since
an account that was not interviewed has no codes rather than "no". When the
interviewed set is small or mostly best customers, the comparison is weak;
:func:`interview_skew_warning` says so.

The bootstrap is vectorised: accounts are first aggregated to their unique
patterns of (traits, cohort, population), multinomial resample counts are
drawn per pattern, and every resample's 2x2 counts come from one sparse
matrix product; the redundancy checks of a resample work on the weighted
patterns too. The cost of a resample grows with the accounts it draws,
which ``traits.bootstrap_max_accounts`` caps: measured at 120 traits, 0.09 s
per resample on 100,000 accounts and 0.40 s on a million with the default
cap of 50,000, against 4.7 s drawing every account (``bench/RESULTS.md``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from scipy import sparse, stats
from threadpoolctl import threadpool_limits

from .lift import (
    MAX_ADJUSTED,
    _mantel_haenszel,
    _upper_tail_p,
    bh_qvalues,
    conditional_lift,
    impact,
    lift_ci,
    two_by_two_p,
)
from .traits import TraitDef

#: Distinct account patterns from which bootstrap resamples are pruned in threads.
PARALLEL_MIN_PATTERNS = 20_000

__all__ = [
    "EVIDENCE_COLUMNS",
    "MAX_ADJUSTED",
    "lift_ci",
    "two_by_two_p",
    "bh_qvalues",
    "impact",
    "conditional_lift",
    "redundancy",
    "bootstrap_stability",
    "trait_evidence",
    "interview_skew_warning",
    "column_tests",
    "column_tests_markdown",
]

EVIDENCE_COLUMNS = [
    "trait",
    "label",
    "kind",
    "evidence",
    "scorable",
    "population",
    "n_best",
    "n_rest",
    "best_with",
    "rest_with",
    "prevalence_best",
    "prevalence_rest",
    "coverage",
    "lift",
    "lift_low",
    "lift_high",
    "zero_cell",
    "p_value",
    "test",
    "q_value",
    "impact",
    "stability",
    "missing",
    "auc",
]


def _unique_rows(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique rows of a boolean matrix: (first index, inverse, counts), exact and O(n log n).

    Rows are packed into 64-bit words and sorted with ``lexsort``, which is far
    faster than ``np.unique(axis=0)`` on wide rows.
    """
    packed = np.packbits(bits, axis=1)
    width = -(-packed.shape[1] // 8) * 8
    padded = np.zeros((len(bits), width), dtype=np.uint8)
    padded[:, : packed.shape[1]] = packed
    words = padded.view(np.uint64)
    order = np.lexsort(words.T[::-1])
    ordered = words[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group = np.cumsum(starts) - 1
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = group
    first = order[starts]
    counts = np.bincount(group)
    return first, inverse, counts


def _weighted_phi(x: np.ndarray, G: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Phi (the correlation of 0/1 columns) between ``x`` and each column of ``G``, rows weighted by ``w``.

    A constant column has phi 0 with everything.
    """
    total = w.sum()
    if total <= 0:
        return np.zeros(G.shape[1])
    px = (w * x).sum() / total
    pg = (w[:, None] * G).sum(axis=0) / total
    pxg = (w[:, None] * (G & x[:, None])).sum(axis=0) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = (pxg - px * pg) / np.sqrt(px * (1 - px) * pg * (1 - pg))
    return np.nan_to_num(phi)


def _phi_from_counts(counts: np.ndarray, total: float) -> np.ndarray:
    """Phi of every pair of 0/1 columns from their weighted co-occurrence counts (as :func:`_weighted_phi`)."""
    if total <= 0:
        return np.zeros(counts.shape)
    p = np.diag(counts) / total
    spread = p * (1 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = (counts / total - p[:, None] * p[None, :]) / np.sqrt(spread[:, None] * spread[None, :])
    return np.nan_to_num(phi)


def redundancy(
    trait: np.ndarray,
    kept: np.ndarray,
    cohort: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    max_phi: float = 0.7,
    min_lift: float = 1.2,
    phis: np.ndarray | None = None,
) -> dict | None:
    """Whether a trait is redundant given traits already kept; None when it adds evidence.

    Redundant means either strongly associated with one kept trait (phi >=
    ``max_phi``: the two mark the same accounts) or without evidence left
    once the kept traits are accounted for (the Mantel-Haenszel lift given
    their combinations has a 95% CI reaching below ``min_lift``).

    ``phis``, when given, are the trait's phi with each kept trait, already
    computed (the bootstrap takes them from one matrix product per resample).

    Returns
    -------
    dict or None
        ``{"why": "phi", "phi": ..., "index": j}`` or ``{"why": "conditional",
        "lift": ..., "low": ..., "high": ...}``.
    """
    x = np.asarray(trait, dtype=bool)
    G = np.asarray(kept, dtype=bool).reshape(len(x), -1)
    if G.shape[1] == 0:
        return None
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    phis = _weighted_phi(x, G, w) if phis is None else np.asarray(phis, dtype=float)
    if phis.max() >= max_phi:
        return {"why": "phi", "phi": float(phis.max()), "index": int(np.argmax(phis))}
    lift, low, high = conditional_lift(x, G, cohort, weights=w)
    if np.isnan(lift) or low < min_lift:
        return {"why": "conditional", "lift": lift, "low": low, "high": high}
    return None


def _resample_selection(order, groups, x_patterns, y_patterns, pops, pop_of_trait, drawn, *,
                        max_phi, min_lift) -> list[int]:
    """Greedy redundancy pruning of one resample's passing traits (in impact order).

    ``drawn`` is the resample: the patterns drawn (ascending) and how often each.
    """
    drawn_rows, drawn_weights = drawn
    kept: list[int] = []
    subsets: dict[int, tuple] = {}
    # per (group, population): the stratum code of each row, one bit per peer kept so far,
    # extended as peers are kept instead of packed again for every candidate
    strata: dict[tuple, list] = {}
    for j in order:
        peers = [k for k in kept if groups[k] == groups[j] and pop_of_trait[k] == pop_of_trait[j]]
        if peers:
            pop = pop_of_trait[j]
            if pop not in subsets:
                inside = pops[drawn_rows, pop]
                rows = drawn_rows[inside]
                xs, ys = x_patterns[rows][:, order], y_patterns[rows]
                # The pruning reads the candidates and the cohort only: rows equal
                # in those are merged, their weights added (counts are sums).
                first, inverse, _ = _unique_rows(np.concatenate([xs, ys[:, None]], axis=1))
                ws = np.bincount(inverse, weights=drawn_weights[inside], minlength=len(first))
                xs, ys = xs[first], ys[first]
                # phi of every pair of this resample's candidates from one product
                candidates = xs.astype(float)
                phi = _phi_from_counts(candidates.T @ (ws[:, None] * candidates), ws.sum())
                subsets[pop] = (xs, ys, ws, phi, {c: i for i, c in enumerate(order)})
            xs, ys, ws, phi, at = subsets[pop]
            # as redundancy(): a kept trait marks the same accounts (phi), or no evidence is left
            if phi[at[j], [at[k] for k in peers]].max() >= max_phi:
                continue
            if len(peers) > MAX_ADJUSTED:
                raise ValueError(f"conditional_lift adjusts for at most {MAX_ADJUSTED} traits")
            codes = strata.setdefault((groups[j], pop), [np.zeros(len(ys), dtype=np.int64), 0])
            for bit in range(codes[1], len(peers)):
                codes[0] = codes[0] + (xs[:, at[peers[bit]]].astype(np.int64) << bit)
            codes[1] = len(peers)
            lift, low, _ = _mantel_haenszel(xs[:, at[j]], codes[0], ys, ws, renumber=len(peers) > 16)
            if np.isnan(lift) or low < min_lift:
                continue
        kept.append(j)
    return kept


def _dense(values) -> np.ndarray:
    """A product's result as an ndarray, whether it came out sparse or dense."""
    return values.toarray() if sparse.issparse(values) else np.asarray(values)


def _population_masks(population: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct population masks (usually two: everyone, interviewed accounts) and each trait's."""
    seen: dict[bytes, int] = {}
    pop_of_trait = np.array(
        [seen.setdefault(np.packbits(population[:, j]).tobytes(), len(seen)) for j in range(population.shape[1])]
    )
    pops = population[:, [list(pop_of_trait).index(k) for k in range(len(seen))]]
    return pop_of_trait, pops


def _pattern_products(Xp, yp, pp):
    """Traits x patterns, split by cohort, so each resample needs one product per side."""
    best_p, rest_p = np.flatnonzero(yp), np.flatnonzero(~yp)
    # built column-wise from the row-major patterns and transposed: no dense float copy
    Xb_t = sparse.csc_matrix(Xp[best_p], dtype=np.float32).T
    Xr_t = sparse.csc_matrix(Xp[rest_p], dtype=np.float32).T
    N1_in = (pp & yp[:, None]).astype(np.float32)
    N0_in = (pp & ~yp[:, None]).astype(np.float32)
    return best_p, rest_p, Xb_t, Xr_t, N1_in, N0_in


def _weighted_counts(W, products, pop_of_trait):
    """The 2x2 counts ``a, c, n1, n0`` of resamples given as pattern counts ``W`` (one row each)."""
    best_p, rest_p, Xb_t, Xr_t, N1_in, N0_in = products
    a, c = (
        np.rint(_dense(side @ W[:, pick].T).T).astype(np.int64)
        for side, pick in ((Xb_t, best_p), (Xr_t, rest_p))
    )
    n1 = np.rint(_dense(W @ N1_in)).astype(np.int64)[:, pop_of_trait]
    n0 = np.rint(_dense(W @ N0_in)).astype(np.int64)[:, pop_of_trait]
    return a, c, n1, n0


def _sparse_draw_counts(rng, size, inverse, n, m, yp, traits_and_pops, t, pop_of_trait):
    """``size`` resamples of ``m`` of the ``n`` accounts, counted on the patterns each drew.

    Returns the 2x2 counts ``a, c, n1, n0`` per resample and trait, and per
    resample the patterns drawn (ascending) with how often each.
    """
    drawn = [np.unique(inverse[rng.integers(0, n, m)], return_counts=True) for _ in range(size)]
    cells = np.empty((size, 2, traits_and_pops.shape[1]), dtype=np.int64)
    for b, (rows, k) in enumerate(drawn):
        best = yp[rows]
        by_side = np.stack([np.where(best, k, 0), np.where(best, 0, k)]).astype(np.float32)
        # integer counts below 2 ** 24: exact in float32, in any order of addition
        cells[b] = np.rint(by_side @ traits_and_pops[rows].astype(np.float32))
    a, c = cells[:, 0, :t], cells[:, 1, :t]
    n1, n0 = cells[:, 0, t:][:, pop_of_trait], cells[:, 1, t:][:, pop_of_trait]
    return a, c, n1, n0, [(rows, k.astype(float)) for rows, k in drawn]


def _resample_screen(a, n1, c, n0, *, min_lift, q_threshold):
    """The evidence screen in every resample: which traits pass, their coverage and lift."""
    p = _upper_tail_p(a, n1, c, n0)
    lift, low, _, _ = lift_ci(a, n1, c, n0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(n1 > 0, a / np.maximum(n1, 1), 0.0)
    lift, low = np.nan_to_num(lift), np.nan_to_num(low)
    q = bh_qvalues(p, axis=1)
    return (low >= min_lift) & (q < q_threshold), cover, lift


def _impact_orders(ok, strength) -> list:
    """Per resample, the traits that passed, strongest first (stable on ties)."""
    orders = []
    for b in range(len(ok)):
        candidates = np.flatnonzero(ok[b])
        orders.append(candidates[np.argsort(-strength[b, candidates], kind="stable")])
    return orders


def bootstrap_stability(
    matrix: pd.DataFrame | np.ndarray,
    cohort: np.ndarray,
    *,
    population: np.ndarray | None = None,
    groups: Sequence[str] | None = None,
    prune: bool = True,
    max_phi: float = 0.7,
    n_bootstrap: int = 200,
    random_state: int | np.random.Generator | None = 0,
    q_threshold: float = 0.05,
    min_lift: float = 1.0,
    chunk: int = 25,
    max_resample: int | None = None,
) -> np.ndarray:
    """Share of bootstrap resamples in which each trait is selected again.

    In every resample the selection is redone: the evidence screen (the
    lower end of the lift's 95% CI at least ``min_lift`` and a BH q-value
    over all traits below ``q_threshold``, with the p-value from the doubled
    upper tail of Fisher's test, vectorised) and, with ``prune``, the greedy redundancy
    pruning in impact order within each group (:func:`redundancy`). Only the
    cap on the number of traits is left out: it is a presentation limit,
    not evidence.

    Parameters
    ----------
    matrix : DataFrame or ndarray of bool, shape (n_accounts, n_traits)
    cohort : array of bool, shape (n_accounts,)
        The cohort (best customers, or the negative cohort).
    population : array of bool, shape (n_accounts, n_traits), optional
        Which accounts each trait is judged on (interview codes: interviewed
        accounts only); all accounts when omitted.
    groups : sequence of str, optional
        Traits are pruned only against traits of the same group (who,
        behaviour, why); one group when omitted.
    prune : bool
        Redo the redundancy pruning in each resample.
    max_phi : float
        See :func:`redundancy`.
    n_bootstrap : int
    random_state : int, Generator or None
    chunk : int
        Resamples drawn per matrix product (bounds memory for large tables).
    max_resample : int, optional
        Above this many accounts each resample draws this many, not all of
        them (an m-out-of-n bootstrap), so the cost of a resample stops
        growing with the accounts. The screen then has the power of a sample
        of that size: a trait near the threshold is found again less often,
        a clear one as often, so stability errs low for weak traits. The
        share itself, over ``n_bootstrap`` resamples, carries a standard
        error of at most ``0.5 / sqrt(n_bootstrap)`` (0.035 for 200).

    Returns
    -------
    ndarray of float, shape (n_traits,)
    """
    X = np.asarray(matrix, dtype=bool)
    y = np.asarray(cohort, dtype=bool)
    n, t = X.shape
    if n == 0 or t == 0:
        return np.zeros(t)
    rng = np.random.default_rng(random_state)
    m = n if max_resample is None else min(n, int(max_resample))
    if population is None:
        population = np.ones((n, t), dtype=bool)
    population = np.asarray(population, dtype=bool)
    groups = np.asarray(["all"] * t if groups is None else list(groups), dtype=object)
    pop_of_trait, pops = _population_masks(population)
    X = X & population
    # Aggregate accounts to unique (traits, cohort, populations) patterns.
    first, inverse, counts = _unique_rows(np.concatenate([X, y[:, None], pops], axis=1))
    yp, Xp, pp = y[first], X[first], pops[first]
    # Multinomial over patterns is cheap when patterns are few; otherwise
    # resample account indices directly and count them per pattern.
    by_pattern = len(counts) * 4 < n
    # A resample of far fewer accounts than patterns touches few of them
    # (a million patterns, 50,000 draws): its counts come from the rows it drew.
    sparse_draws = not by_pattern and m * 4 < len(counts)
    if sparse_draws:
        traits_and_pops = np.concatenate([Xp, pp], axis=1)
    else:
        products = _pattern_products(Xp, yp, pp)
    probs = counts / n
    passed = np.zeros(t)
    # Resamples are pruned independently, in threads, while the next chunk's
    # screen is computed: numpy and scipy release the GIL on long arrays.
    # Few patterns are quicker on one thread.
    threads = min(4, os.cpu_count() or 1) if len(counts) >= PARALLEL_MIN_PATTERNS else 1
    # One BLAS thread: the products here are small (two rows by the traits, or
    # the traits squared), and BLAS threads that wait for a core spin on it;
    # beside the pruning threads they took six times longer than one thread.
    # The counts are sums of integers, exact in any order, so the result is the same.
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=threads) as pool:
        done = 0
        pending: list = []
        while done < n_bootstrap:
            size = min(chunk, n_bootstrap - done)
            if sparse_draws:  # the same draws as below, counted on the patterns drawn
                a, c, n1, n0, drawn = _sparse_draw_counts(rng, size, inverse, n, m, yp, traits_and_pops,
                                                          t, pop_of_trait)
            else:
                if by_pattern:
                    W = rng.multinomial(m, probs, size=size).astype(np.float32)
                else:
                    W = np.empty((size, len(counts)), dtype=np.float32)
                    for b in range(size):
                        W[b] = np.bincount(inverse[rng.integers(0, n, m)], minlength=len(counts))
                a, c, n1, n0 = _weighted_counts(W, products, pop_of_trait)
            ok, cover, lift = _resample_screen(a, n1, c, n0, min_lift=min_lift, q_threshold=q_threshold)
            if not prune:
                passed += ok.sum(axis=0)
            else:
                if not sparse_draws:  # the patterns each resample drew, for its pruning
                    drawn = [(np.flatnonzero(row), row[row > 0].astype(float)) for row in W]
                orders = _impact_orders(ok, impact(cover, lift))
                for kept in pending:  # the previous chunk's, pruned meanwhile
                    passed[kept.result()] += 1
                pending = [
                    pool.submit(
                        _resample_selection, order, groups, Xp, yp, pp, pop_of_trait, drawn[b],
                        max_phi=max_phi, min_lift=min_lift,
                    )
                    for b, order in enumerate(orders)
                ]
            done += size
        for kept in pending:
            passed[kept.result()] += 1
    return passed / n_bootstrap


def _two_by_two_counts(X: np.ndarray, y: np.ndarray, defs: Sequence[TraitDef], interviewed):
    """Each trait's population (codes: the interviewed accounts) and its 2x2 counts ``a, n1, c, n0``."""
    n = len(y)
    asked = (
        np.ones(n, dtype=bool) if interviewed is None else np.asarray(interviewed, dtype=bool)
    )
    population = np.ones_like(X)
    for j, trait in enumerate(defs):
        if trait.kind == "code":
            population[:, j] = asked
    Xm = X & population
    n1 = (population & y[:, None]).sum(axis=0)
    n0 = (population & ~y[:, None]).sum(axis=0)
    a = (Xm & y[:, None]).sum(axis=0)
    c = (Xm & ~y[:, None]).sum(axis=0)
    return population, a, n1, c, n0


def trait_evidence(
    matrix: pd.DataFrame,
    cohort: pd.Series | np.ndarray,
    *,
    traits: Sequence[TraitDef] | None = None,
    interviewed: pd.Series | np.ndarray | None = None,
    n_bootstrap: int = 200,
    random_state: int | None = 0,
    q_threshold: float = 0.05,
    min_lift: float = 1.0,
    prune: bool = True,
    max_phi: float = 0.7,
    exact_max_n: int = 100_000,
    max_resample: int | None = None,
) -> pd.DataFrame:
    """The evidence table: one row per candidate trait (see the module docstring).

    Parameters
    ----------
    matrix : DataFrame of bool
        Accounts x trait ids (:func:`icp_helpers.traits.traits.trait_matrix`).
    cohort : array of bool
        Best customers (or the negative cohort), aligned with ``matrix`` rows.
    traits : sequence of TraitDef, optional
        Definitions of the columns (label, kind); ids not found default to a
        firmographic trait labelled by its id.
    interviewed : array of bool, optional
        Interviewed accounts; ``code`` traits are judged on these only. When
        omitted, codes are judged on all accounts.
    n_bootstrap : int
        Resamples for ``stability``; 0 skips it (NaN).
    random_state : int or None
    q_threshold, min_lift : float
        The screen used inside each resample (see :func:`bootstrap_stability`).
    prune, max_phi :
        Redo the redundancy pruning in each resample, within each evidence
        type (see :func:`bootstrap_stability`).
    exact_max_n : int
        Above this many accounts, chi-square replaces Fisher's exact test.
    max_resample : int, optional
        Accounts drawn per bootstrap resample at most (see :func:`bootstrap_stability`).

    Returns
    -------
    DataFrame
        Columns :data:`EVIDENCE_COLUMNS`, sorted by impact (descending).
    """
    X = matrix.to_numpy(dtype=bool)
    y = np.asarray(cohort, dtype=bool)
    if len(y) != len(X):
        raise ValueError(f"cohort has {len(y)} rows but the trait matrix has {len(X)}")
    by_id = {t.id: t for t in traits or ()}
    defs = [
        by_id.get(tid) or TraitDef(id=tid, label=tid, kind="firmographic", column=tid, op="flag")
        for tid in matrix.columns
    ]
    population, a, n1, c, n0 = _two_by_two_counts(X, y, defs, interviewed)
    lift, low, high, zero = lift_ci(a, n1, c, n0)
    p, test = two_by_two_p(a, n1, c, n0, exact_max_n=exact_max_n)
    with np.errstate(divide="ignore", invalid="ignore"):
        prev_best = np.where(n1 > 0, a / np.maximum(n1, 1), np.nan)
        prev_rest = np.where(n0 > 0, c / np.maximum(n0, 1), np.nan)
    if n_bootstrap > 0:
        stability = bootstrap_stability(
            X,
            y,
            population=population,
            groups=[t.evidence_type for t in defs],
            prune=prune,
            max_phi=max_phi,
            n_bootstrap=n_bootstrap,
            random_state=random_state,
            q_threshold=q_threshold,
            min_lift=min_lift,
            max_resample=max_resample,
        )
    else:
        stability = np.full(len(defs), np.nan)
    missing = matrix.attrs.get("missing", {})
    table = pd.DataFrame(
        {
            "trait": [t.id for t in defs],
            "label": [t.label for t in defs],
            "kind": [t.kind for t in defs],
            "evidence": [t.evidence_type for t in defs],
            "scorable": [t.scorable for t in defs],
            "population": ["interviewed" if t.kind == "code" and interviewed is not None
                           else "all" for t in defs],
            "n_best": n1.astype("int64"),
            "n_rest": n0.astype("int64"),
            "best_with": a.astype("int64"),
            "rest_with": c.astype("int64"),
            "prevalence_best": prev_best,
            "prevalence_rest": prev_rest,
            "coverage": prev_best,
            "lift": lift,
            "lift_low": low,
            "lift_high": high,
            "zero_cell": zero,
            "p_value": p,
            "test": test.astype(str),
            "q_value": bh_qvalues(p),
            "impact": impact(prev_best, lift),
            "stability": stability,
            "missing": [int(missing.get(t.id, 0)) for t in defs],
            # the trait alone as a yes/no ranker of the cohort: (sensitivity + specificity) / 2
            "auc": (prev_best + 1 - prev_rest) / 2,
        }
    )
    return table.sort_values(["impact", "lift"], ascending=False, kind="stable").reset_index(
        drop=True
    )


def interview_skew_warning(
    cohort: pd.Series | np.ndarray,
    interviewed: pd.Series | np.ndarray,
    *,
    max_cohort_share: float = 0.75,
    min_accounts: int = 20,
    min_rest: int = 5,
) -> str | None:
    """A warning when interview codes cannot be compared fairly, else None.

    Codes are compared between interviewed best customers and interviewed
    others. With fewer than ``min_accounts`` interviews, with more than
    ``max_cohort_share`` of them best customers, or with fewer than
    ``min_rest`` other accounts, a code's lift says little.
    """
    y = np.asarray(cohort, dtype=bool)
    asked = np.asarray(interviewed, dtype=bool)
    n = int(asked.sum())
    if n == 0:
        return "No accounts were interviewed: there is no 'why' evidence for this quarter."
    n_best = int((y & asked).sum())
    share = n_best / n
    problems = []
    if n < min_accounts:
        problems.append(f"only {n} accounts were interviewed (fewer than {min_accounts})")
    if share > max_cohort_share:
        problems.append(
            f"{share:.0%} of the interviewed accounts are best customers "
            f"(more than {max_cohort_share:.0%})"
        )
    if n - n_best < min_rest:
        problems.append(f"only {n - n_best} interviewed accounts are not best customers")
    if not problems:
        return None
    return (
        "Interview evidence is skewed: "
        + "; ".join(problems)
        + ". Treat code lifts as indicative; interview more of the other customers."
    )


# --------------------------------------------------------------------------- variables


def _aligned_best(frame: pd.DataFrame, best) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` restricted to the compared accounts, and the best flag row for row."""
    if isinstance(best, pd.DataFrame):
        table = best.drop_duplicates("account_id").set_index("account_id")
        if "in_comparison" in table:
            keep = frame["account_id"].map(table["in_comparison"]).fillna(False).astype(bool).to_numpy()
            frame = frame[keep]
        flags = frame["account_id"].map(table["is_best"]).fillna(False).astype(bool).to_numpy()
        return frame.reset_index(drop=True), flags
    return frame.reset_index(drop=True), np.asarray(best, dtype=bool)


def column_tests(
    frame: pd.DataFrame, best, *, columns: Sequence[str], max_levels: int = 30, min_count: int = 5,
) -> pd.DataFrame:
    """One omnibus test per column: does the column as a whole differ between best and rest?

    A level-by-level screen can miss a column that matters as a whole (each
    level a little different, none enough alone). So each candidate column
    gets one test, corrected across columns (Benjamini-Hochberg) like the
    levels are:

    * categories and flags: chi-square test of independence of the levels
      (levels rarer than ``min_count`` pooled as ``other``) and the best flag;
      effect Cramér's V (bias-corrected);
    * numbers (more than four distinct values): Mann-Whitney U test of best
      against the rest; effect the rank-biserial correlation ``2 * AUC - 1``
      (positive: higher among the best customers).

    Parameters
    ----------
    frame : DataFrame
        One row per account.
    best : DataFrame or array of bool
        ``best_customers.parquet`` (joined on ``account_id``; only the accounts
        it marks ``in_comparison``), or flags aligned with ``frame``.
    columns : sequence of str
        The columns to test (the candidate columns: who and behaviour roles).

    Returns
    -------
    DataFrame
        ``column``, ``test``, ``statistic``, ``p_value``, ``q_value``,
        ``effect``, ``effect_measure``, ``n``, ``levels``, sorted by q-value.
    """
    from ..customers.commonalities import cramers_v  # local: commonalities is a step-1 module

    frame, y = _aligned_best(frame, best)
    rows = []
    for column in columns:
        if column not in frame:
            continue
        values = frame[column]
        known = values.notna().to_numpy()
        if known.sum() < 2 * min_count or y[known].all() or not y[known].any():
            continue
        numeric = (
            pd.api.types.is_numeric_dtype(values.dtype)
            and not pd.api.types.is_bool_dtype(values.dtype)
            and values.nunique() > 4
        )
        if numeric:
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(x)
            a, b = x[ok & y], x[ok & ~y]
            if len(a) == 0 or len(b) == 0:
                continue
            u, p = stats.mannwhitneyu(a, b, alternative="two-sided")
            effect = 2 * u / (len(a) * len(b)) - 1
            rows.append({"column": column, "test": "Mann-Whitney U", "statistic": float(u),
                         "p_value": float(p), "effect": float(effect),
                         "effect_measure": "rank-biserial r", "n": int(ok.sum()), "levels": None})
            continue
        text = values[known].astype(str)
        counts = text.value_counts()
        if len(counts) > max_levels:
            continue
        rare = counts.index[counts < min_count]
        text = text.where(~text.isin(rare), "other")
        table = pd.crosstab(text.to_numpy(), y[known]).to_numpy(dtype=float)
        if table.shape[0] < 2 or table.shape[1] < 2:
            continue
        chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
        rows.append({"column": column, "test": "chi-square", "statistic": float(chi2),
                     "p_value": float(p), "effect": float(cramers_v(table)),
                     "effect_measure": "Cramér's V", "n": int(known.sum()), "levels": int(table.shape[0])})
    out = pd.DataFrame(rows, columns=["column", "test", "statistic", "p_value", "effect",
                                      "effect_measure", "n", "levels"])
    out.insert(4, "q_value", bh_qvalues(out["p_value"].to_numpy(dtype=float)) if len(out) else [])
    return out.sort_values(["q_value", "column"], kind="stable").reset_index(drop=True)


def column_tests_markdown(tests: pd.DataFrame, *, q_threshold: float = 0.05, top: int = 10) -> str:
    """The columns that differ as a whole between best customers and the rest, in one paragraph."""
    hits = tests[tests["q_value"] <= q_threshold]
    if hits.empty:
        return (f"No column differs as a whole between the best customers and the rest "
                f"(q <= {q_threshold}, {len(tests)} columns tested).")
    items = "; ".join(
        f"**{r.column}** ({r.effect_measure} {r.effect:.2f}, "
        f"{'q < 0.001' if r.q_value < 0.001 else f'q = {r.q_value:.3f}'})"
        for r in hits.head(top).itertuples()
    )
    return (f"{len(hits)} of {len(tests)} columns differ as a whole between the best customers "
            f"and the rest (one test per column, corrected across columns): {items}.")
