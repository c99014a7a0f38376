"""ICP fit x engagement: the A1-C3 matrix of leads and the reasons behind each lead's score."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..data.frames import positions
from .evaluation import _rate_columns
from .inputs import LeadInputs, _require
from .points import ENGAGEMENT, TIERS, resolve_thresholds
from .scorer import assign_tier, score_points

__all__ = ["fit_engagement", "fit_engagement_pivots", "fit_engagement_view", "scored_leads"]


# --------------------------------------------------------------------------- fit x engagement


def fit_engagement(leads: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Leads and conversion per cell of the ICP fit (A/B/C) x engagement (1/2/3) matrix.

    Parameters
    ----------
    leads : DataFrame
        ``lead_id``, ``account_id``, ``engagement`` (1 strong, 2 medium,
        3 weak) and optionally ``converted``.
    accounts : DataFrame
        ``account_id`` and ``tier`` (A/B/C), e.g. ``scored_accounts.csv``.

    Returns
    -------
    DataFrame
        One row per cell ``A1`` .. ``C3`` (all nine, empty ones with 0 leads):
        ``fit_tier``, ``engagement``, ``cell``, ``leads``, ``converted``,
        ``conversion_rate``, ``ci_low``, ``ci_high``. Leads without an
        account or with an unscored account are not in the matrix.
    """
    _require(leads, ["lead_id", "account_id", "engagement"], source="scored leads")
    _require(accounts, ["account_id", "tier"], source="scored accounts")
    tiers = accounts.drop_duplicates("account_id").set_index("account_id")["tier"].astype(str)
    frame = leads.loc[leads["account_id"].notna()].copy()
    frame["fit_tier"] = frame["account_id"].map(tiers)
    frame = frame[frame["fit_tier"].notna()]
    y = (
        frame["converted"].astype(float)
        if "converted" in frame.columns
        else pd.Series(np.nan, index=frame.index)
    )
    frame = frame.assign(y=y)
    grid = pd.MultiIndex.from_product(
        [["A", "B", "C"], [1, 2, 3]], names=["fit_tier", "engagement"]
    )
    grouped = frame.groupby(["fit_tier", "engagement"])
    table = pd.DataFrame(
        {"leads": grouped.size(), "converted": grouped["y"].sum(min_count=1)}
    ).reindex(grid)
    table["leads"] = table["leads"].fillna(0).astype(int)
    table = table.reset_index()
    table.insert(2, "cell", table["fit_tier"] + table["engagement"].astype(str))
    if "converted" in leads.columns:
        table["converted"] = table["converted"].fillna(0).astype(int)
        table = _rate_columns(table)
    return table


def fit_engagement_pivots(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The A1-C3 matrix as two 3 x 3 tables: ``leads`` and ``conversion_rate``."""
    out = {"leads": table.pivot(index="fit_tier", columns="engagement", values="leads")}
    if "conversion_rate" in table.columns:
        out["conversion_rate"] = table.pivot(
            index="fit_tier", columns="engagement", values="conversion_rate"
        )
    return out


def fit_engagement_view(table: pd.DataFrame | None, scored: pd.DataFrame) -> pd.DataFrame:
    """The A1-C3 matrix as "leads (conversion rate)" cells, or the engagement tiers alone."""
    if table is None:
        counts = scored["tier"].value_counts().reindex(list(TIERS), fill_value=0)
        view = pd.DataFrame(
            {"engagement": [ENGAGEMENT[t] for t in TIERS], "leads": counts.to_numpy()},
            index=list(TIERS),
        )
        if "converted" in scored.columns:
            view["conversion_rate"] = (
                scored.groupby("tier")["converted"].mean().reindex(list(TIERS)).to_numpy()
            )
        return view.rename_axis("tier")
    pivots = fit_engagement_pivots(table)
    cells = pivots["leads"].astype(int).astype(str)
    if "conversion_rate" in pivots:
        rates = pivots["conversion_rate"].map(lambda v: "" if pd.isna(v) else f" ({v:.0%})")
        cells = cells + rates
    return cells.rename(columns=lambda e: f"{e} ({TIERS[e - 1]})")


def _reasons(matrix: pd.DataFrame, points: Mapping[str, float], *, n: int = 3) -> pd.Series:
    """The ``n`` activities that earned a lead the most points, as text (``"demo (+40); ..."``)."""
    weights = np.array([float(points.get(c, 0.0)) for c in matrix.columns])
    earned = matrix.to_numpy(dtype=float) * weights
    names = [str(c) for c in matrix.columns]
    order = np.argsort(-earned, axis=1, kind="stable")[:, :n]
    shown = np.take_along_axis(earned, order, axis=1) > 0
    rounded = np.round(np.take_along_axis(earned, order, axis=1)).astype(np.int64)
    # each distinct (activity, points) list is written once: a million leads of the benchmark share 2,479
    key_codes = np.zeros(len(matrix), dtype=np.int64)
    for r in range(order.shape[1]):
        for part in (np.where(shown[:, r], order[:, r], -1), np.where(shown[:, r], rounded[:, r], 0)):
            codes, levels = pd.factorize(part)
            # numbered again after each part, so the combined key cannot overflow
            key_codes = pd.factorize(key_codes * len(levels) + codes)[0]
    first = np.unique(key_codes, return_index=True)[1]
    texts = np.empty(len(first), dtype=object)
    for i, row in enumerate(first):
        texts[i] = "; ".join(
            f"{names[order[row, r]]} (+{rounded[row, r]})" for r in range(order.shape[1]) if shown[row, r]
        )
    return pd.Series(texts[key_codes] if len(matrix) else [], index=matrix.index, dtype=object, name="top_activities")


def scored_leads(
    inputs: LeadInputs,
    *,
    default_points: Mapping[str, float],
    points: Mapping[str, float],
    thresholds: Mapping[str, float] | None = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per lead for the sales team: score, tier and why.

    Parameters
    ----------
    inputs : LeadInputs
    default_points : mapping
        The method's (or configured) points; scored as ``default_score``.
    points : mapping
        The points in use (calibrated when available); scored as ``score``.
    thresholds : mapping, optional
    accounts : DataFrame, optional
        ``account_id`` and ``tier`` from step 4 for the ``fit_tier`` and
        ``cell`` (``A1`` .. ``C3``) columns.

    Returns
    -------
    DataFrame
        Lead columns (``lead_id``, ``account_id``, ``job_title``, ``source``,
        ``created``, ``converted`` where present), ``default_score``,
        ``default_tier``, ``score``, ``tier``, ``engagement``, ``fit_tier``,
        ``cell`` and ``top_activities``, sorted by score.
    """
    limits = resolve_thresholds(thresholds)
    matrix = inputs.matrix
    keep = [
        c
        for c in ("lead_id", "account_id", "job_title", "source", "created", "converted")
        if c in inputs.leads.columns
    ]
    out = inputs.leads[keep].set_index("lead_id").reindex(matrix.index)
    out["default_score"] = score_points(matrix, default_points).round(1)
    out["default_tier"] = assign_tier(out["default_score"], thresholds=limits)
    out["score"] = score_points(matrix, points).round(1)
    out["tier"] = assign_tier(out["score"], thresholds=limits)
    out["engagement"] = out["tier"].map(ENGAGEMENT)
    if accounts is not None and "account_id" in out.columns:
        tiers = accounts.drop_duplicates("account_id")
        # looked up as positions (a DuckDB join for a million leads), not by Series.map
        at = positions(out["account_id"], tiers["account_id"])
        fit_tier = pd.Series(
            np.where(at >= 0, tiers["tier"].astype(str).to_numpy(dtype=object)[np.maximum(at, 0)], np.nan),
            index=out.index, dtype="str",
        )
        out["fit_tier"] = fit_tier
        out["cell"] = fit_tier + out["engagement"].astype(str)
        out.loc[fit_tier.isna(), "cell"] = np.nan
    out["top_activities"] = _reasons(matrix, points)
    out = out.reset_index().sort_values(
        ["score", "lead_id"], ascending=[False, True], kind="stable"
    )
    return out.reset_index(drop=True)


