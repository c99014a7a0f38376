"""How well points rank leads: Wilson intervals, tier and decile tables, threshold sweeps, cross-validated points."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from ..data.folds import capped_training_rows
from .points import ENGAGEMENT, TIERS, LeadScoringError, resolve_thresholds
from .scorer import LeadScorer, assign_tier, score_points

__all__ = ["CV_MAX_TRAIN", "PointsEvaluation", "decile_table", "evaluate_points", "points_table", "threshold_sweep", "tier_table", "top_drivers", "wilson_interval"]


# --------------------------------------------------------------------------- evaluation


def wilson_interval(
    successes: Any, n: Any, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion (good at small n and near 0 or 1).

    Parameters
    ----------
    successes, n : int or array-like
        Converted leads and all leads per group (``n = 0`` gives NaN).
    confidence : float
        Two-sided level.

    Returns
    -------
    (low, high) : tuple of ndarray
    """
    k = np.asarray(successes, dtype=float)
    total = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + confidence / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / total
        denominator = 1.0 + z**2 / total
        centre = (p + z**2 / (2 * total)) / denominator
        half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denominator
        # the interval always holds the observed rate; rounding can put a bound a hair
        # past it at 0 or 1 (e.g. 5.6e-17 for 0 of 3), which a plot's error bar rejects
        low = np.where(np.isnan(p), np.nan, np.minimum(centre - half, p))
        high = np.where(np.isnan(p), np.nan, np.maximum(centre + half, p))
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def _rate_columns(frame: pd.DataFrame, *, k: str = "converted", n: str = "leads") -> pd.DataFrame:
    low, high = wilson_interval(frame[k], frame[n])
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["conversion_rate"] = frame[k] / frame[n].where(frame[n] > 0)
    frame["ci_low"], frame["ci_high"] = low, high
    return frame


def tier_table(
    score: pd.Series, converted: pd.Series, *, thresholds: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Leads and conversion rate (Wilson 95% interval) per engagement tier.

    Returns
    -------
    DataFrame
        One row per tier, strongest first: ``tier``, ``engagement``,
        ``leads``, ``share``, ``converted``, ``conversion_rate``, ``ci_low``,
        ``ci_high``, ``score_min``, ``score_max``.
    """
    frame = pd.DataFrame(
        {"score": np.asarray(score, dtype=float), "y": np.asarray(converted, dtype=float)}
    )
    frame["tier"] = assign_tier(frame["score"], thresholds=thresholds)
    grouped = frame.groupby("tier")
    table = pd.DataFrame(
        {
            "leads": grouped.size(),
            "converted": grouped["y"].sum(),
            "score_min": grouped["score"].min(),
            "score_max": grouped["score"].max(),
        }
    ).reindex(list(TIERS))
    table["leads"] = table["leads"].fillna(0).astype(int)
    table["converted"] = table["converted"].fillna(0).astype(int)
    table = _rate_columns(table)
    table["share"] = table["leads"] / max(len(frame), 1)
    table.index.name = "tier"
    table = table.reset_index()
    table.insert(1, "engagement", table["tier"].map(ENGAGEMENT))
    return table[
        [
            "tier",
            "engagement",
            "leads",
            "share",
            "converted",
            "conversion_rate",
            "ci_low",
            "ci_high",
            "score_min",
            "score_max",
        ]
    ]


def decile_table(score: pd.Series, converted: pd.Series, *, bins: int = 10) -> pd.DataFrame:
    """Calibration table: conversion rate per score decile (ties kept together).

    Leads with equal scores stay in one bin, so a score with many ties (many
    leads at 0) yields fewer than ``bins`` rows.
    """
    frame = pd.DataFrame(
        {"score": np.asarray(score, dtype=float), "y": np.asarray(converted, dtype=float)}
    )
    if frame["score"].nunique() > 1:
        frame["bin"] = pd.qcut(frame["score"], q=bins, labels=False, duplicates="drop")
    else:
        frame["bin"] = 0  # one score for every lead: one group
    grouped = frame.groupby("bin")
    table = pd.DataFrame(
        {
            "score_min": grouped["score"].min(),
            "score_max": grouped["score"].max(),
            "leads": grouped.size(),
            "converted": grouped["y"].sum().astype(int),
        }
    )
    table = _rate_columns(table)
    table.index = pd.RangeIndex(1, len(table) + 1, name="decile")
    return table.reset_index()


def threshold_sweep(
    score: pd.Series, converted: pd.Series, *, grid: Iterable[float] | None = None
) -> pd.DataFrame:
    """How volume and conversion move with a threshold: leads scoring above each value.

    "Above" is ``score > threshold``, the rule of the strong tier.

    Returns
    -------
    DataFrame
        ``threshold``, ``leads_above``, ``share_of_leads``,
        ``conversion_rate`` (of the leads above), ``share_of_converters``
        (recall), ``conversion_rate_below``.
    """
    values = np.asarray(score, dtype=float)
    y = np.asarray(converted, dtype=float)
    if grid is None:
        grid = np.arange(0.0, 401.0, 25.0)
    rows = []
    total_converted = y.sum()
    for threshold in grid:
        above = values > threshold
        n_above, n_below = int(above.sum()), int((~above).sum())
        rows.append(
            {
                "threshold": float(threshold),
                "leads_above": n_above,
                "share_of_leads": n_above / max(len(values), 1),
                "conversion_rate": y[above].mean() if n_above else np.nan,
                "share_of_converters": y[above].sum() / total_converted
                if total_converted
                else np.nan,
                "conversion_rate_below": y[~above].mean() if n_below else np.nan,
            }
        )
    return pd.DataFrame(rows)


@dataclass
class PointsEvaluation:
    """Default vs calibrated points vs a plain logistic model, on held-out leads.

    Attributes
    ----------
    scores : DataFrame
        Per lead: ``converted``, ``fold``, ``default`` (score with the
        reference points), ``calibrated`` (score with points learned without
        the lead's fold) and ``logistic`` (held-out probability).
    auc : DataFrame
        ROC AUC per fold and their mean, columns ``default``,
        ``calibrated``, ``logistic``.
    thresholds : dict
    """

    scores: pd.DataFrame
    auc: pd.DataFrame
    thresholds: dict[str, float]

    @property
    def mean_auc(self) -> dict[str, float]:
        """Mean held-out AUC per model."""
        return {k: float(v) for k, v in self.auc.loc["mean"].items()}

    def tiers(self) -> pd.DataFrame:
        """:func:`tier_table` of default and calibrated points, side by side (long)."""
        parts = [
            tier_table(
                self.scores[name], self.scores["converted"], thresholds=self.thresholds
            ).assign(points=name)
            for name in ("default", "calibrated")
        ]
        return pd.concat(parts, ignore_index=True).set_index(["points", "tier"]).reset_index()

    def deciles(self) -> pd.DataFrame:
        """:func:`decile_table` of all three models (long)."""
        parts = [
            decile_table(self.scores[name], self.scores["converted"]).assign(points=name)
            for name in ("default", "calibrated", "logistic")
        ]
        table = pd.concat(parts, ignore_index=True)
        return table[["points", *[c for c in table.columns if c != "points"]]]

    def sweep(self, *, grid: Iterable[float] | None = None) -> pd.DataFrame:
        """:func:`threshold_sweep` of default and calibrated points (long)."""
        if grid is None:
            # steps of 25 from 0 to just past the highest score (at least past the strong threshold)
            highest = float(self.scores[["default", "calibrated"]].max().max())
            top = max(self.thresholds["strong"] + 25.0, 25.0 * math.ceil(highest / 25.0))
            grid = sorted({*np.arange(0.0, top + 1, 25.0), *self.thresholds.values()})
        parts = [
            threshold_sweep(self.scores[name], self.scores["converted"], grid=grid).assign(
                points=name
            )
            for name in ("default", "calibrated")
        ]
        table = pd.concat(parts, ignore_index=True)
        return table[["points", *[c for c in table.columns if c != "points"]]]


def _plain_logistic(units: np.ndarray, target: np.ndarray, *, random_state: Any) -> Any:
    scaler = StandardScaler().fit(units)
    model = LogisticRegression(C=np.inf, max_iter=5000, random_state=random_state)
    with warnings.catch_warnings():
        # an unpenalised fit on separable data stops at max_iter; its ranking is still usable
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(scaler.transform(units), target)
    return lambda x: model.predict_proba(scaler.transform(x))[:, 1]


#: Training leads per fold of the held-out comparison at most: a stated
#: sample for a comparison, not the scoring model (fitted on every lead);
#: the folds' fits on 800,000 leads each took most of lead scoring's time at
#: a million leads.
CV_MAX_TRAIN = 200_000


def evaluate_points(
    matrix: pd.DataFrame,
    converted: pd.Series,
    *,
    reference_points: Mapping[str, float],
    thresholds: Mapping[str, float] | None = None,
    C: float = 1.0,
    n_splits: int = 5,
    random_state: int = 0,
    max_train: int | None = CV_MAX_TRAIN,
) -> PointsEvaluation:
    """Compare default and calibrated points with a plain logistic model on held-out leads.

    Stratified ``n_splits``-fold cross-validation (shuffled with
    ``random_state``): in each fold the points are calibrated and the
    logistic model (no penalty, standardised inputs, the same features) is
    fitted on the other folds and applied to the held-out fold. Reference
    points need no fitting and are scored on every lead. Each fold learns
    from at most ``max_train`` of the other folds' leads (a stratified
    sample; all when None), and every held-out lead is scored.

    Parameters
    ----------
    matrix : DataFrame
        Lead x feature units, index ``lead_id``.
    converted : Series
        0/1 per lead (leads with a missing outcome are left out).
    reference_points : mapping
        The default points (feature -> points).
    thresholds : mapping, optional
    C : float
        Penalty of the calibration model.
    n_splits : int
        Folds; reduced when there are fewer converters (or non-converters).
    random_state : int
    max_train : int, optional
        Training leads per fold at most.

    Returns
    -------
    PointsEvaluation
    """
    y = converted.reindex(matrix.index)
    known = y.notna().to_numpy()
    units_frame = matrix.loc[known]
    target = y[known].to_numpy(dtype=float)
    minority = int(min(target.sum(), len(target) - target.sum()))
    if minority < 2:
        raise LeadScoringError("evaluation needs at least two converted and two unconverted leads")
    splits = min(n_splits, minority)
    folds = StratifiedKFold(n_splits=splits, shuffle=True, random_state=random_state)
    units = units_frame.to_numpy(dtype=float)
    out = pd.DataFrame(index=units_frame.index)
    out["converted"] = target.astype(int)
    out["fold"] = -1
    out["default"] = score_points(units_frame, reference_points).to_numpy()
    out["calibrated"] = np.nan
    out["logistic"] = np.nan
    rows = []
    for fold, (train, test) in enumerate(folds.split(units, target)):
        train = capped_training_rows(train, target, max_train=max_train, random_state=random_state)
        scorer = LeadScorer(
            thresholds=thresholds, reference_points=reference_points, C=C, random_state=random_state
        )
        scorer.fit(units_frame.iloc[train], target[train])
        out.iloc[test, out.columns.get_loc("calibrated")] = scorer.transform(
            units_frame.iloc[test]
        )["score"].to_numpy()
        predict = _plain_logistic(units[train], target[train], random_state=random_state)
        out.iloc[test, out.columns.get_loc("logistic")] = predict(units[test])
        out.iloc[test, out.columns.get_loc("fold")] = fold
        held = out.iloc[test]
        # arrays, not Series: sklearn's attribute probes would search the million-lead index
        rows.append(
            {
                "fold": str(fold + 1),
                **{
                    name: roc_auc_score(held["converted"].to_numpy(), held[name].to_numpy())
                    for name in ("default", "calibrated", "logistic")
                },
            }
        )
    auc = pd.DataFrame(rows).set_index("fold")
    auc.loc["mean"] = auc.mean()
    return PointsEvaluation(scores=out, auc=auc, thresholds=resolve_thresholds(thresholds))


def points_table(
    reference: Mapping[str, float], calibrated: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Default and calibrated points per feature, largest calibrated first."""
    features = list(dict.fromkeys([*reference, *(calibrated or {})]))
    table = pd.DataFrame(
        {
            "feature": features,
            "default": [float(reference.get(f, 0.0)) for f in features],
        }
    )
    if calibrated is not None:
        table["calibrated"] = [float(calibrated.get(f, 0.0)) for f in features]
        table = table.sort_values(["calibrated", "default"], ascending=False)
    else:
        table = table.sort_values("default", ascending=False)
    return table.reset_index(drop=True)


def top_drivers(points: Mapping[str, float], *, n: int = 5) -> list[str]:
    """The ``n`` features with the most points (ties broken by name)."""
    ranked = sorted(points.items(), key=lambda item: (-float(item[1]), str(item[0])))
    return [name for name, _ in ranked[:n]]


