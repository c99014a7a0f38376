"""Scoring leads: points per lead, tiers, and LeadScorer (points calibrated from conversions)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from .inputs import activity_matrix
from .points import (
    DEFAULT_BY_DETAIL,
    ENGAGEMENT,
    LeadScoringError,
    resolve_points,
    resolve_thresholds,
)

__all__ = ["LeadScorer", "assign_tier", "score_points"]


# --------------------------------------------------------------------------- scoring


def score_points(matrix: pd.DataFrame, points: Mapping[str, float]) -> pd.Series:
    """Score = sum over features of units x points (features without points earn 0)."""
    weights = pd.Series({c: float(points.get(c, 0.0)) for c in matrix.columns}, dtype=float)
    score = (
        matrix.to_numpy(dtype=float) @ weights.to_numpy() if len(weights) else np.zeros(len(matrix))
    )
    return pd.Series(score, index=matrix.index, name="score")


def assign_tier(score: Any, *, thresholds: Mapping[str, float] | None = None) -> Any:
    """Engagement tier of scores: weak < medium <= medium <= strong < strong.

    Parameters
    ----------
    score : float, array-like or Series
    thresholds : mapping, optional
        ``medium`` and ``strong`` (default 100 and 200).

    Returns
    -------
    str, ndarray or Series
        ``"weak"``, ``"medium"`` or ``"strong"``, shaped like ``score``.
    """
    limits = resolve_thresholds(thresholds)
    values = np.asarray(score, dtype=float)
    tiers = np.where(
        values > limits["strong"], "strong", np.where(values >= limits["medium"], "medium", "weak")
    )
    tiers = tiers.astype(object)
    if isinstance(score, pd.Series):
        return pd.Series(tiers, index=score.index, name="tier")
    if np.ndim(score) == 0:
        return str(tiers)
    return tiers


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X, dtype=float)
    if array.ndim != 2:
        raise LeadScoringError("X must be a 2-D lead x feature matrix or an event log")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


class LeadScorer(TransformerMixin, BaseEstimator):
    """Points per activity and engagement tiers; learns the points from conversions.

    Parameters
    ----------
    points : mapping, optional
        Feature -> points per unit. ``None`` learns them in :meth:`fit` when
        conversions are given, else uses ``reference_points``.
    thresholds : mapping, optional
        ``medium`` and ``strong`` (default 100 and 200).
    reference_points : mapping, optional
        Points the calibrated scale is anchored to (the module docstring says
        how); default: :func:`resolve_points` of the features (the method's
        defaults).
    decay_half_life_days : float, optional
        Decay of events with age, when ``X`` is an event log.
    as_of : date-like, optional
        Cut-off and decay reference date, when ``X`` is an event log.
    by_detail : iterable of str, optional
        Activities scored per detail, when ``X`` is an event log.
    C : float
        Inverse L2 penalty strength of the calibration model.
    random_state : int, RandomState or None
        Seed of the solver.

    Attributes
    ----------
    points_ : dict
        Feature -> points per unit (integers when calibrated).
    thresholds_ : dict
    feature_names_in_ : ndarray
    calibrated_ : bool
    coef_ : Series
        Calibrated log-odds per unit of each feature (calibrated only).
    intercept_ : float
        Log-odds of conversion for a lead with no activity (calibrated only).
    scale_ : float
        Points per unit of log-odds (calibrated only).
    scale_method_ : str
        ``"default_odds"`` or ``"top_decile"`` (calibrated only).
    threshold_odds_ : dict
        Threshold -> conversion probability it stands for under the
        reference points and the calibrated points (calibrated only).
    """

    def __init__(
        self,
        points: Mapping[str, float] | None = None,
        *,
        thresholds: Mapping[str, float] | None = None,
        reference_points: Mapping[str, float] | None = None,
        decay_half_life_days: float | None = None,
        as_of: Any = None,
        by_detail: Iterable[str] | None = None,
        C: float = 1.0,
        random_state: Any = None,
    ) -> None:
        self.points = points
        self.thresholds = thresholds
        self.reference_points = reference_points
        self.decay_half_life_days = decay_half_life_days
        self.as_of = as_of
        self.by_detail = by_detail
        self.C = C
        self.random_state = random_state

    def _matrix(self, X: Any) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame) and {"lead_id", "activity"} <= set(X.columns):
            return activity_matrix(
                X,
                as_of=self.as_of,
                half_life_days=self.decay_half_life_days,
                by_detail=DEFAULT_BY_DETAIL if self.by_detail is None else self.by_detail,
            )
        return _as_frame(X)

    def fit(self, X: Any, y: Any = None) -> LeadScorer:
        """Fix the points: learn them from ``y`` (0/1 converted) when ``points`` is None.

        Parameters
        ----------
        X : DataFrame or array
            Lead x feature units (:func:`activity_matrix`, :func:`count_matrix`)
            or an event log with ``lead_id`` and ``activity``.
        y : array-like or Series, optional
            1 for converted leads. A Series indexed by ``lead_id`` aligns the
            rows; leads without events get zero units.

        Returns
        -------
        self
        """
        matrix = self._matrix(X)
        if isinstance(y, pd.Series) and not matrix.index.equals(y.index):
            matrix = matrix.reindex(y.index, fill_value=0.0)
        self.thresholds_ = resolve_thresholds(self.thresholds)
        self.feature_names_in_ = np.asarray(matrix.columns, dtype=object)
        self.n_features_in_ = matrix.shape[1]
        features = list(map(str, matrix.columns))
        reference = (
            resolve_points(features)
            if self.reference_points is None
            else {f: float(self.reference_points.get(f, 0.0)) for f in features}
        )
        self.calibrated_ = self.points is None and y is not None
        if not self.calibrated_:
            source = reference if self.points is None else self.points
            self.points_ = {f: float(source.get(f, 0.0)) for f in features}
            return self
        target = np.asarray(y, dtype=float)
        if target.shape[0] != matrix.shape[0]:
            raise LeadScoringError(f"y has {target.shape[0]} rows, X has {matrix.shape[0]}")
        if np.isnan(target).any() or not set(np.unique(target)) <= {0.0, 1.0}:
            raise LeadScoringError("y must be 0/1 conversions without missing values")
        if len(np.unique(target)) < 2:
            raise LeadScoringError(
                "calibration needs converted and unconverted leads; y has one class"
            )
        units = matrix.to_numpy(dtype=float)
        scaler = StandardScaler().fit(units)
        model = LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state)
        model.fit(scaler.transform(units), target)
        per_unit = model.coef_[0] / scaler.scale_
        self.coef_ = pd.Series(per_unit, index=features, name="log_odds_per_unit")
        self.intercept_ = float(model.intercept_[0] - np.sum(per_unit * scaler.mean_))
        contribution = units @ per_unit
        default_score = units @ np.array([reference[f] for f in features])
        self.scale_, self.scale_method_, anchors = self._scale(default_score, contribution, target)
        self.points_ = {
            f: float(round(self.scale_ * b)) for f, b in zip(features, per_unit, strict=True)
        }
        self.threshold_odds_ = {
            name: {
                "reference": None if anchors is None else float(_expit(anchors[name])),
                "calibrated": float(_expit(self.intercept_ + value / self.scale_)),
            }
            for name, value in self.thresholds_.items()
        }
        return self

    def _scale(
        self, default_score: np.ndarray, contribution: np.ndarray, target: np.ndarray
    ) -> tuple[float, str, dict[str, float] | None]:
        """Points per unit of log-odds (see the module docstring)."""
        limits = np.array([self.thresholds_["medium"], self.thresholds_["strong"]])
        if np.std(default_score) > 0:
            spread = np.std(default_score)
            one = LogisticRegression(C=np.inf, max_iter=2000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                one.fit((default_score / spread).reshape(-1, 1), target)
            slope = float(one.coef_[0, 0]) / spread
            if slope > 0:
                anchor = float(one.intercept_[0]) + slope * limits
                denominator = float(np.sum(limits**2))
                inverse = (
                    float(np.sum(limits * (anchor - self.intercept_))) / denominator
                    if denominator
                    else 0.0
                )
                if inverse > 0 and np.isfinite(inverse):
                    return (
                        1.0 / inverse,
                        "default_odds",
                        dict(zip(("medium", "strong"), anchor, strict=True)),
                    )
        top = float(np.quantile(contribution, 0.9))
        if top <= 0:
            top = float(np.max(contribution)) if np.max(contribution) > 0 else 1.0
        return self.thresholds_["strong"] / top, "top_decile", None

    def score(self, X: Any, y: Any = None) -> float:
        """ROC AUC of the scores against ``y`` (how well the points rank converters)."""
        scores = self.transform(X)["score"]
        if isinstance(y, pd.Series):
            scores = scores.reindex(y.index, fill_value=0.0)
        return float(roc_auc_score(np.asarray(y, dtype=float), scores.to_numpy()))

    def transform(self, X: Any) -> pd.DataFrame:
        """Score and tier of every lead.

        Returns
        -------
        DataFrame
            Index as ``X`` (``lead_id``): ``score`` (float), ``tier``
            (weak/medium/strong) and ``engagement`` (1 strong, 2 medium, 3 weak).
        """
        check_is_fitted(self, "points_")
        matrix = self._matrix(X)
        unknown = [c for c in matrix.columns if str(c) not in self.points_]
        if unknown:
            warnings.warn(
                f"features not seen in fit earn no points: {unknown[:5]}", UserWarning, stacklevel=2
            )
        score = score_points(matrix, self.points_)
        tier = assign_tier(score, thresholds=self.thresholds_)
        return pd.DataFrame({"score": score, "tier": tier, "engagement": tier.map(ENGAGEMENT)})

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(["score", "tier", "engagement"], dtype=object)


def _expit(value: float) -> float:
    return float(1.0 / (1.0 + math.exp(-value)))


