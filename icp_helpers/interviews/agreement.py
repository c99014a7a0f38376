"""Agreement between two coders: Cohen's kappa per code, overall, with bootstrap intervals.

Each code is a yes/no decision per answer, so agreement is measured per
code on the answers both coders coded: Cohen's kappa on the two presence
vectors. Codes the coders apply inconsistently (kappa below
``interviews.kappa_threshold``) are flagged and kept out of the trait table
unless ``interviews.keep_low_agreement`` is set: a trait nobody can code
reliably would only add noise to the evidence in step 3.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .coding import coded_units, indicator_matrix, manual_code_rows

__all__ = [
    "AGREEMENT_COLUMNS",
    "cohen_kappa",
    "coder_matrices",
    "agreement_table",
    "low_agreement_codes",
    "kept_codes",
    "plot_kappa",
]

#: Columns of :func:`agreement_table` (and ``agreement.parquet``).
AGREEMENT_COLUMNS = [
    "code", "scope", "n_answers", "coder_a", "coder_b", "observed", "kappa", "ci_low", "ci_high",
    "below_threshold",
]

_KEY = ["interview_id", "question"]


def _kappa(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Binary Cohen's kappa down axis -2 of boolean arrays (…, n_answers, n_codes).

    ``NaN`` where chance agreement is 1 (both coders gave the same single
    answer to every item), as kappa is then undefined.
    """
    a = a.astype(float)
    b = b.astype(float)
    observed = (a == b).mean(axis=-2)
    pa, pb = a.mean(axis=-2), b.mean(axis=-2)
    expected = pa * pb + (1 - pa) * (1 - pb)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = (observed - expected) / (1 - expected)
    return np.where(np.isclose(expected, 1.0), np.nan, kappa)


def cohen_kappa(a: Iterable[bool], b: Iterable[bool]) -> float:
    """Cohen's kappa of two binary vectors (``NaN`` when undefined).

    Equal to :func:`sklearn.metrics.cohen_kappa_score` on the same vectors.
    """
    a = np.asarray(list(a), dtype=bool)[:, None]
    b = np.asarray(list(b), dtype=bool)[:, None]
    if a.shape != b.shape:
        raise ValueError(f"vectors of different length: {len(a)} and {len(b)}")
    if len(a) == 0:
        return float("nan")
    return float(_kappa(a, b)[0])


def coder_matrices(
    manual_codes: pd.DataFrame,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    coders: tuple[str, str] | None = None,
    codes: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Boolean answer × code matrices of two coders on the answers both coded.

    Parameters
    ----------
    manual_codes : DataFrame
        ``interview_id``, ``question``, ``code``, ``coder``.
    answers : DataFrame, optional
        The answers of each interview; with ``unit="interview"`` an answer of an
        interview a coder coded, but with no row, counts as coded with no code.
    unit : {"interview", "answer"}
        See :func:`icp_helpers.interviews.coding.coded_units`.
    coders : (str, str), optional
        The pair to compare; default the first two coder names in sorted order.
    codes : iterable of str, optional
        Columns; default every code either coder used, sorted.

    Raises
    ------
    ValueError
        With fewer than two coders, or a coder not in the table.
    """
    units = coded_units(manual_codes, answers=answers, unit=unit)
    real = manual_code_rows(manual_codes)
    names = sorted(units["coder"].dropna().unique())
    if coders is None:
        if len(names) < 2:
            raise ValueError(f"agreement needs two coders; the manual codes have {names or 'none'}")
        coders = (names[0], names[1])
    missing = [c for c in coders if c not in names]
    if missing:
        raise ValueError(f"coder(s) {', '.join(missing)} not in the manual codes (coders: {', '.join(names)})")
    first, second = (units.loc[units["coder"] == c, _KEY] for c in coders)
    shared = first.merge(second, on=_KEY).sort_values(_KEY, ignore_index=True)
    used = real[real["coder"].isin(coders)]
    columns = list(codes) if codes is not None else sorted(used["code"].unique())
    a = indicator_matrix(used[used["coder"] == coders[0]], answers=shared, codes=columns)
    b = indicator_matrix(used[used["coder"] == coders[1]], answers=shared, codes=columns)
    return a, b


def agreement_table(
    manual_codes: pd.DataFrame | None,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    coders: tuple[str, str] | None = None,
    codes: Iterable[str] | None = None,
    threshold: float = 0.6,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int | np.random.RandomState | None = 0,
) -> pd.DataFrame:
    """Cohen's kappa per code and overall, with percentile bootstrap intervals.

    Agreement is computed on the answers both coders coded. The interval
    resamples those answers with replacement (the same resample for every
    code), so it reflects how much the kappa would move with another set of
    interviews. Two overall rows follow the codes: ``(mean)``, the mean of
    the defined per-code kappas, and ``(pooled)``, one kappa over every
    answer × code cell.

    Parameters
    ----------
    manual_codes : DataFrame or None
        ``interview_id``, ``question``, ``code``, ``coder``. With no table or
        fewer than two coders nothing can be measured: the result is empty
        and no code is flagged.
    answers, unit, coders, codes
        See :func:`coder_matrices`.
    threshold : float
        Codes with a kappa below this are flagged (``interviews.kappa_threshold``).
    n_bootstrap : int
        Resamples for the interval; 0 skips it.
    confidence : float
        Interval coverage.
    random_state : int, RandomState or None
        Seed of the resampling.

    Returns
    -------
    DataFrame
        ``code``, ``scope`` (``code``/``overall``), ``n_answers``, ``coder_a``,
        ``coder_b`` (answers each coder gave the code), ``observed`` (share of
        answers where they agree), ``kappa``, ``ci_low``, ``ci_high``,
        ``below_threshold``. A code whose kappa is undefined (both coders
        never or always used it) has ``NaN`` and is not flagged.
    """
    if coders is None and (manual_codes is None or manual_codes["coder"].dropna().nunique() < 2):
        return pd.DataFrame({c: pd.Series(dtype=float) for c in AGREEMENT_COLUMNS}).astype(
            {"code": "string", "scope": "string", "below_threshold": bool}
        )
    a, b = coder_matrices(manual_codes, answers=answers, unit=unit, coders=coders, codes=codes)
    A, B = a.to_numpy(), b.to_numpy()
    n, k = A.shape
    per_code = _kappa(A, B) if n else np.full(k, np.nan)
    pooled = cohen_kappa(A.ravel(), B.ravel()) if A.size else np.nan
    mean = float(np.nanmean(per_code)) if np.isfinite(per_code).any() else np.nan

    low = np.full(k + 2, np.nan)
    high = np.full(k + 2, np.nan)
    if n_bootstrap and n > 1:
        rng = check_random_state(random_state)
        idx = rng.randint(0, n, size=(n_bootstrap, n))
        boot = _kappa(A[idx], B[idx])  # (n_bootstrap, k)
        boot_pooled = _kappa(A[idx].reshape(n_bootstrap, -1, 1), B[idx].reshape(n_bootstrap, -1, 1))[:, 0]
        with np.errstate(all="ignore"):
            defined = np.isfinite(boot)
            boot_mean = np.where(
                defined.any(axis=1), np.where(defined, boot, 0).sum(axis=1) / np.maximum(defined.sum(axis=1), 1), np.nan
            )
        alpha = (1 - confidence) / 2
        samples = np.column_stack([boot, boot_mean, boot_pooled])
        for j in range(samples.shape[1]):
            column = samples[:, j][np.isfinite(samples[:, j])]
            if len(column):
                low[j], high[j] = np.quantile(column, [alpha, 1 - alpha])

    rows = pd.DataFrame(
        {
            "code": list(a.columns),
            "scope": "code",
            "n_answers": n,
            "coder_a": A.sum(axis=0),
            "coder_b": B.sum(axis=0),
            "observed": (A == B).mean(axis=0) if n else np.full(k, np.nan),
            "kappa": per_code,
        }
    )
    overall = pd.DataFrame(
        {
            "code": ["(mean)", "(pooled)"],
            "scope": "overall",
            "n_answers": n,
            "coder_a": A.sum(),
            "coder_b": B.sum(),
            "observed": (A == B).mean() if A.size else np.nan,
            "kappa": [mean, pooled],
        }
    )
    table = pd.concat([rows, overall], ignore_index=True)
    table["ci_low"], table["ci_high"] = low, high
    table["below_threshold"] = table["kappa"].lt(threshold) & table["scope"].eq("code")
    return table.astype({"n_answers": int, "coder_a": int, "coder_b": int})


def low_agreement_codes(table: pd.DataFrame) -> list[str]:
    """Codes :func:`agreement_table` flagged below the threshold."""
    return table.loc[table["below_threshold"] & table["scope"].eq("code"), "code"].tolist()


def kept_codes(codes: Iterable[str], table: pd.DataFrame, *, keep_low_agreement: bool = False) -> list[str]:
    """The codes that become traits: all of ``codes`` except those flagged for low agreement.

    Parameters
    ----------
    codes : iterable of str
        Candidate codes (e.g. the codebook's and any used by hand).
    table : DataFrame
        :func:`agreement_table` output.
    keep_low_agreement : bool
        Keep flagged codes too (``interviews.keep_low_agreement``).
    """
    flagged = set() if keep_low_agreement else set(low_agreement_codes(table))
    return [c for c in dict.fromkeys(codes) if c not in flagged]


def plot_kappa(table: pd.DataFrame, *, threshold: float = 0.6, ax=None):
    """Kappa per code with its bootstrap interval; flagged codes in red. Returns the Axes."""
    import matplotlib.pyplot as plt

    rows = table[table["scope"].eq("code") | table["code"].eq("(pooled)")].dropna(subset=["kappa"])
    rows = rows.iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.3 * max(len(rows), 4) + 1.2))
    y = np.arange(len(rows))
    colours = np.where(rows["below_threshold"], "tab:red", np.where(rows["scope"].eq("overall"), "black", "tab:blue"))
    low = (rows["kappa"] - rows["ci_low"]).clip(lower=0).fillna(0)
    high = (rows["ci_high"] - rows["kappa"]).clip(lower=0).fillna(0)
    for yi, k, lo, hi, colour in zip(y, rows["kappa"], low, high, colours, strict=True):
        ax.errorbar(k, yi, xerr=[[lo], [hi]], fmt="o", color=colour, capsize=3)
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, rows["code"])
    ax.set_xlim(min(-0.2, float(rows["ci_low"].min(skipna=True) if rows["ci_low"].notna().any() else 0)), 1.05)
    ax.set_xlabel("Cohen's kappa (95% bootstrap interval); dashed: threshold")
    ax.set_title("Agreement between the two coders")
    return ax
