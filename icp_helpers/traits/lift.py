"""Lift and its interval, 2x2 tests, q-values, impact, and the lift given other traits.

The statistics behind the evidence table (:mod:`icp_helpers.traits.evidence`):
Katz's interval for the prevalence ratio, Fisher's or Pearson's test of a
2x2 table, Benjamini-Hochberg q-values, a trait's impact, and the
Mantel-Haenszel lift of a trait stratified by the traits kept before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

__all__ = [
    "MAX_ADJUSTED",
    "lift_ci",
    "two_by_two_p",
    "bh_qvalues",
    "impact",
    "conditional_lift",
]

_Z95 = float(stats.norm.ppf(0.975))


def lift_ci(
    a: np.ndarray, n1: np.ndarray, c: np.ndarray, n0: np.ndarray, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prevalence ratio ``(a/n1) / (c/n0)`` with Katz's log-method CI.

    Parameters
    ----------
    a, n1 : array-like
        Cohort members with the trait, cohort size.
    c, n0 : array-like
        Rest with the trait, size of the rest.
    level : float
        Confidence level.

    Returns
    -------
    lift, low, high, zero_cell : ndarray
        ``zero_cell`` marks rows where a zero cell triggered the 0.5
        correction of all four cells.
    """
    a, n1, c, n0 = (np.asarray(v, dtype=float) for v in (a, n1, c, n0))
    b, d = n1 - a, n0 - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    k = np.where(zero, 0.5, 0.0)
    a_, b_, c_, d_ = a + k, b + k, c + k, d + k
    n1_, n0_ = a_ + b_, c_ + d_
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = (a_ / n1_) / (c_ / n0_)
        se = np.sqrt(1 / a_ - 1 / n1_ + 1 / c_ - 1 / n0_)
    z = stats.norm.ppf(0.5 + level / 2)
    low = np.exp(np.log(lift) - z * se)
    high = np.exp(np.log(lift) + z * se)
    # Nobody (or everybody) has the trait, or one side is empty: no ratio to report.
    undefined = (a + c == 0) | (b + d == 0) | (n1 == 0) | (n0 == 0)
    lift, low, high = (np.where(undefined, np.nan, v) for v in (lift, low, high))
    return lift, low, high, zero & ~undefined


def two_by_two_p(
    a: np.ndarray, n1: np.ndarray, c: np.ndarray, n0: np.ndarray, *, exact_max_n: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided p-values of 2x2 tables: Fisher's exact, or chi-square when large.

    Returns
    -------
    p, test : ndarray
        ``test`` is ``"fisher"`` or ``"chi2"`` per row.
    """
    a, n1, c, n0 = (np.asarray(v, dtype=np.int64) for v in (a, n1, c, n0))
    p = np.ones(len(a))
    test = np.empty(len(a), dtype=object)
    for i in range(len(a)):
        b, d = n1[i] - a[i], n0[i] - c[i]
        table = [[a[i], b], [c[i], d]]
        if n1[i] == 0 or n0[i] == 0 or a[i] + c[i] in (0, n1[i] + n0[i]):
            p[i], test[i] = 1.0, "none"
        elif n1[i] + n0[i] <= exact_max_n:
            p[i], test[i] = stats.fisher_exact(table).pvalue, "fisher"
        else:
            p[i] = stats.chi2_contingency(table, correction=False).pvalue
            test[i] = "chi2"
    return p, test


def bh_qvalues(p: Sequence[float] | np.ndarray, *, axis: int = -1) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) along ``axis``.

    ``q_(i) = min_{j >= i} min(1, m * p_(j) / j)`` over the p-values sorted
    ascending; NaN p-values are left out of ``m`` and stay NaN.
    """
    p = np.asarray(p, dtype=float)
    p = np.moveaxis(p, axis, -1)
    q = np.full(p.shape, np.nan)
    flat_p = p.reshape(-1, p.shape[-1])
    flat_q = q.reshape(-1, p.shape[-1])
    for row in range(flat_p.shape[0]):
        values = flat_p[row]
        ok = ~np.isnan(values)
        m = int(ok.sum())
        if m == 0:
            continue
        order = np.argsort(values[ok])
        ranked = values[ok][order] * m / np.arange(1, m + 1)
        ranked = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
        out = np.empty(m)
        out[order] = ranked
        flat_q[row, ok] = out
    return np.moveaxis(flat_q.reshape(p.shape), -1, axis)


def impact(coverage: np.ndarray, lift: np.ndarray) -> np.ndarray:
    """Impact of a trait: ``coverage * ln(lift)``, zero when lift <= 1.

    This is the trait's term in the Kullback-Leibler divergence between best
    customers and the rest, ``P(t|best) * ln(P(t|best) / P(t|rest))``: the
    information the trait carries about "best", weighted by how many best
    customers it describes. A strong but rare trait and a common but weak one
    both rank below a trait that is common *and* strong.
    """
    coverage = np.asarray(coverage, dtype=float)
    lift = np.asarray(lift, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = coverage * np.log(lift)
    return np.where(lift > 1, value, 0.0)


def _upper_tail_p(a, n1, c, n0) -> np.ndarray:
    """Twice the upper tail of Fisher's test (hypergeometric), capped at 1, vectorised."""
    total = n1 + n0
    with_trait = a + c
    p = 2 * stats.hypergeom.sf(a - 1, total, with_trait, n1)
    degenerate = (n1 == 0) | (n0 == 0) | (with_trait == 0) | (with_trait == total)
    return np.where(degenerate, 1.0, np.minimum(p, 1.0))


#: Traits a stratum code holds at most: one bit each in a 64-bit integer.
MAX_ADJUSTED = 62


def conditional_lift(
    trait: np.ndarray,
    given: np.ndarray,
    cohort: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Lift of ``trait`` (cohort vs rest) adjusted for other traits: Mantel-Haenszel.

    Parameters
    ----------
    trait : array of bool, shape (n,)
    given : array of bool, shape (n,) or (n, k)
        The traits to adjust for; rows are stratified by their combination
        (up to ``2**k`` strata; strata holding only cohort or only rest rows
        carry no information and drop out).
    cohort : array of bool, shape (n,)
    weights : array, shape (n,), optional
        Row counts (bootstrap weights or pattern counts); 1 per row if omitted.

    Returns
    -------
    lift, low, high : float
        The Mantel-Haenszel prevalence ratio with the Greenland-Robins CI;
        NaN when undefined.
    """
    x = np.asarray(trait, dtype=bool)
    y = np.asarray(cohort, dtype=bool)
    g = np.asarray(given, dtype=bool).reshape(len(x), -1)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    if g.shape[1] > MAX_ADJUSTED:
        raise ValueError(f"conditional_lift adjusts for at most {MAX_ADJUSTED} traits")
    strata = g.astype(np.int64) @ (np.int64(1) << np.arange(g.shape[1], dtype=np.int64))
    return _mantel_haenszel(x, strata, y, w, renumber=g.shape[1] > 16, level=level)


def _mantel_haenszel(
    x: np.ndarray, strata: np.ndarray, y: np.ndarray, w: np.ndarray, *, renumber: bool, level: float = 0.95
) -> tuple[float, float, float]:
    """:func:`conditional_lift` from each row's stratum code (the bits of the traits adjusted for)."""
    if renumber:  # keep the cell table small: number the strata that occur
        strata = np.unique(strata, return_inverse=True)[1].ravel()
    # one bincount over (stratum, trait, cohort) cells
    cell = np.bincount(strata * 4 + x * 2 + y, weights=w, minlength=4 * (strata.max() + 1))
    cell = cell.reshape(-1, 4)  # columns: (no trait, rest), (no, best), (trait, rest), (trait, best)
    a, c = cell[:, 3], cell[:, 2]
    n1, n0 = cell[:, 1] + a, cell[:, 0] + c
    total = n1 + n0
    ok = total > 0
    a, c, n1, n0, total = a[ok], c[ok], n1[ok], n0[ok], total[ok]
    num = float((a * n0 / total).sum())
    den = float((c * n1 / total).sum())
    var_num = float(((n1 * n0 * (a + c) - a * c * total) / total**2).sum())
    if num <= 0 or den <= 0:
        return float("nan"), float("nan"), float("nan")
    lift = num / den
    se = np.sqrt(max(var_num, 0.0) / (num * den))
    z = _Z95 if level == 0.95 else stats.norm.ppf(0.5 + level / 2)
    return lift, float(np.exp(np.log(lift) - z * se)), float(np.exp(np.log(lift) + z * se))
