"""The ICP fit score: whole points per selected who-trait, A/B/C tiers, explanations.

Points
------
Only who-traits (firmographic, contact) are scored: they are known for a
prospect before any deal. Each selected trait earns whole points, and an
account's fit score is the sum of the points of the traits it has, so a
salesperson can add it up by hand.

``method="odds"`` (default)
    ``points = round(scale * ln(odds ratio))`` of the trait between best
    customers and the rest (0.5 added to every cell when one is zero).
    This is exactly what a naive-Bayes score adds for *having* a trait
    rather than lacking it, so the sum ranks accounts as naive Bayes would.
    With ``scale=10``, 7 points roughly double the odds of being a best
    customer.
``method="logistic"``
    ``points = round(scale * coefficient)`` of an L2 logistic regression
    on the selected traits together, which discounts traits that overlap.

Points below zero (possible for an overlapping trait under ``logistic``)
are set to zero: a profile trait never costs points. Penalties are the
exception (``penalties``: weaker-fit traits and disqualifiers, when
``traits.weaker_fit_points`` asks): they earn the same ``scale * ln(odds
ratio)``, kept only when below zero, so an account that has one loses points.

Tiers
-----
Cut-offs are learned on the fitted accounts' scores and saved, so that
prospects and later quarters are tiered on the same scale:

* ``A``: score >= ``cutoffs["A"]``, the lowest score at which at most
  ``tier_shares[0]`` (a third) of the fitted accounts are A;
* ``B``: score >= ``cutoffs["B"]``, the lowest score at which at most
  ``tier_shares[1]`` (two thirds) are A or B;
* ``C``: the rest.

Because scores are whole numbers with ties, the shares are upper bounds; an
account with no trait (score 0) is never A, and when no account has any
trait every account is C. Equal cut-offs collapse: ``A >= 10, B >= 10``
leaves B empty, and the tiers are A and C (:func:`n_tiers`).

An account that holds a disqualifier (``disqualifiers``: who-traits of the
churned or mostly-lost accounts, see :func:`icp_helpers.traits.selection.negative_icp`)
is never tier A: it drops to B (to C when there is no B), and its reason
names the disqualifier. A card that lists a disqualifier must not recommend
the accounts that hold it as its best fits.

The score definition round-trips through :meth:`FitScorer.to_dict` /
:meth:`FitScorer.from_dict` (the ``score`` entry of ``selection.json``), so
step 4 scores prospects without refitting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from .traits import WHO_KINDS, TraitDef, trait_matrix

__all__ = ["FitScorer", "tier_cutoffs", "n_tiers", "tier_rule", "assign_tiers", "rows_as_lists",
           "points_table", "tier_table"]

TIERS = ("A", "B", "C")


def tier_cutoffs(scores, *, shares: Sequence[float] = (1 / 3, 2 / 3)) -> dict[str, float]:
    """Tier cut-offs from a set of scores (see the module docstring).

    Parameters
    ----------
    scores : array-like of numbers
    shares : (float, float)
        Largest share of accounts in A, and in A or B together.

    Returns
    -------
    dict
        ``{"A": cut_a, "B": cut_b}`` with ``cut_a > cut_b`` unless every
        score is the same.
    """
    x = np.asarray(scores, dtype=float)
    if len(x) == 0 or x.max() <= 0:
        # no account has a trait: nobody is A or B (a score of 0 is never A)
        return {"A": 1.0, "B": 1.0}
    values = np.unique(x)[::-1]  # descending
    at_least = np.array([(x >= v).mean() for v in values])

    def cut(share: float) -> float:
        ok = values[at_least <= share + 1e-12]
        return float(ok.min()) if len(ok) else float(values[0])

    cut_a = cut(shares[0])
    if cut_a <= 0 and values[0] > 0:
        cut_a = float(values[values > 0].min())
    cut_b = cut(shares[1])
    if cut_b >= cut_a:
        lower = values[values < cut_a]
        cut_b = float(lower.max()) if len(lower) else cut_a
    if cut_b <= 0 < cut_a:
        # accounts without any trait are C; B then starts at the smallest positive score
        positive = values[(values > 0) & (values < cut_a)]
        cut_b = float(positive.min()) if len(positive) else cut_a
    return {"A": cut_a, "B": cut_b}


def n_tiers(cutoffs: Mapping[str, float], max_score: float | None = None) -> int:
    """How many tiers the cut-offs leave.

    3; 2 when A and B start at the same score (B holds nobody); 1 when no
    score reaches A (``max_score``, the most points an account can have,
    below its cut-off: every account is C).
    """
    if not np.isfinite(cutoffs["A"]) or (max_score is not None and max_score < cutoffs["A"]):
        return 1
    return 2 if cutoffs["B"] >= cutoffs["A"] else 3


def tier_rule(cutoffs: Mapping[str, float], max_score: float | None = None) -> str:
    """The tiers in words, naming only the tiers that exist."""
    k = n_tiers(cutoffs, max_score)
    if k == 3:
        return f"tier A if score >= {cutoffs['A']:g}, B if >= {cutoffs['B']:g}, else C (3 tiers)"
    if k == 2:
        return f"tier A if score >= {cutoffs['A']:g}, else C (2 tiers: equal cut-offs leave B empty)"
    return "every account is tier C (1 tier: no trait earns points)"


def rows_as_lists(mask: np.ndarray, ids: Sequence[str]) -> tuple[list[list[str]], np.ndarray, list[list[str]]]:
    """Per row of a boolean matrix, the ids of its True columns.

    Rows share a few patterns (at most 2 ** 10 for ten traits), so each
    pattern's list is built once and copied per row, instead of a Python
    loop over every cell.

    Returns
    -------
    (list of list, ndarray, list of list)
        The list per row, each row's pattern number, and the list per pattern.
    """
    if len(ids) > 62:
        raise ValueError("rows_as_lists takes at most 62 columns (the traits of a score are at most 10)")
    mask = np.asarray(mask, dtype=bool).reshape(len(mask), len(ids))
    codes = mask.astype(np.int64) @ (np.int64(1) << np.arange(len(ids), dtype=np.int64))
    patterns, pattern = np.unique(codes, return_inverse=True)
    lists = [[ids[j] for j in range(len(ids)) if code >> j & 1] for code in patterns.tolist()]
    return [list(lists[i]) for i in pattern.tolist()], pattern, lists


def assign_tiers(scores, cutoffs: Mapping[str, float]) -> np.ndarray:
    """``A``/``B``/``C`` for each score, given :func:`tier_cutoffs`."""
    x = np.asarray(scores, dtype=float)
    return np.where(x >= cutoffs["A"], "A", np.where(x >= cutoffs["B"], "B", "C")).astype(object)


class FitScorer(BaseEstimator):
    """Points per selected who-trait, a summed fit score and A/B/C tiers.

    Parameters
    ----------
    traits : sequence of TraitDef or dict
        The selected traits of the kinds in ``kinds``
        (``TraitSelector.traits_`` filtered to them).
    kinds : tuple of str
        Trait kinds that may be scored: who-traits by default, since
        prospects have no deals or interviews; behaviour too with
        ``traits.score_behaviour`` (:func:`icp_helpers.traits.traits.scored_kinds`).
        Interview codes are always refused.
    method : {"odds", "logistic"}
        How points are derived (module docstring).
    scale : float
        Points per unit of log-odds.
    tier_shares : (float, float)
        Largest share of fitted accounts in A, and in A or B.
    C : float
        Inverse regularisation strength for ``method="logistic"``.

    Attributes
    ----------
    traits_ : list of TraitDef
    points_ : dict
        Trait id -> whole points.
    weights_ : dict
        Trait id -> the unrounded log-odds weight behind the points.
    cutoffs_ : dict
        ``{"A": ..., "B": ...}``.
    tier_shares_ : dict
        Share of fitted accounts per tier.
    max_score_ : int
    n_fitted_ : int
    """

    def __init__(
        self,
        *,
        traits: Sequence[TraitDef | Mapping[str, Any]] = (),
        kinds: tuple[str, ...] = WHO_KINDS,
        method: str = "odds",
        scale: float = 10.0,
        tier_shares: tuple[float, float] = (1 / 3, 2 / 3),
        C: float = 1.0,
        penalties: Sequence[TraitDef | Mapping[str, Any]] = (),
        disqualifiers: Sequence[TraitDef | Mapping[str, Any]] = (),
    ):
        self.traits = traits
        self.penalties = penalties
        self.disqualifiers = disqualifiers
        self.kinds = kinds
        self.method = method
        self.scale = scale
        self.tier_shares = tier_shares
        self.C = C

    def _resolve_traits(self) -> list[TraitDef]:
        named = {t.id if isinstance(t, TraitDef) else t["id"] for t in self.traits}
        penalties = [t for t in self.penalties or () if (t.id if isinstance(t, TraitDef) else t["id"]) not in named]
        traits = [t if isinstance(t, TraitDef) else TraitDef.from_dict(t) for t in [*self.traits, *penalties]]
        allowed = [k for k in self.kinds if k != "code"]
        bad = [t.id for t in traits if t.kind not in allowed]
        if bad:
            named = " and ".join([", ".join(allowed[:-1]), allowed[-1]] if len(allowed) > 1 else allowed)
            raise ValueError(
                f"only {named} traits can be scored here (prospects have no "
                f"interviews, nor deals unless traits.score_behaviour is set); got {bad}"
            )
        return traits

    def fit(self, features: pd.DataFrame, is_best) -> FitScorer:
        """Learn points and tier cut-offs on accounts and their best-customer flag."""
        if self.method not in ("odds", "logistic"):
            raise ValueError(f"method must be 'odds' or 'logistic', not {self.method!r}")
        traits = self._resolve_traits()
        named = {t.id if isinstance(t, TraitDef) else t["id"] for t in self.traits}
        self.penalty_ids_ = {
            (t.id if isinstance(t, TraitDef) else t["id"]) for t in self.penalties or ()
        } - named
        y = np.asarray(is_best, dtype=bool)
        if len(y) != len(features):
            raise ValueError(f"is_best has {len(y)} rows but features has {len(features)}")
        X = trait_matrix(features, traits).to_numpy(dtype=bool)
        if not traits:
            weights = np.zeros(0)
        elif self.method == "odds":
            a = (X & y[:, None]).sum(axis=0).astype(float)
            b = y.sum() - a
            c = (X & ~y[:, None]).sum(axis=0).astype(float)
            d = (~y).sum() - c
            k = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
            weights = np.log((a + k) * (d + k) / ((b + k) * (c + k)))
        else:
            model = LogisticRegression(C=self.C, max_iter=1000)
            model.fit(X.astype(float), y)
            weights = model.coef_[0]
        penalised = np.array([t.id in self.penalty_ids_ for t in traits], dtype=bool)
        raw = np.rint(self.scale * weights) if len(traits) else np.zeros(0)
        points = np.where(penalised, np.minimum(raw, 0), np.maximum(raw, 0)).astype(int)
        if penalised.any():  # a penalty the data does not support costs nothing: left out
            keep = ~penalised | (points < 0)
            traits = [t for t, k in zip(traits, keep, strict=True) if k]
            weights, points, X = weights[keep], points[keep], X[:, keep]
        self.traits_ = traits
        self.weights_ = {t.id: float(w) for t, w in zip(traits, weights, strict=True)}
        self.points_ = {t.id: int(p) for t, p in zip(traits, points, strict=True)}
        self.max_score_ = int(points.sum())
        scores = X.astype(int) @ points if traits else np.zeros(len(y), dtype=int)
        self.disqualifiers_ = [
            t if isinstance(t, TraitDef) else TraitDef.from_dict(t) for t in self.disqualifiers or ()
        ]
        self.cutoffs_ = tier_cutoffs(scores, shares=self.tier_shares)
        tiers = self._tiers(scores, features)
        self.tier_shares_ = {t: float((tiers == t).mean()) if len(tiers) else 0.0 for t in TIERS}
        self.n_fitted_ = len(y)
        return self

    @property
    def n_tiers_(self) -> int:
        """Tiers that can hold an account: equal cut-offs collapse (``A >= 10, B >= 10`` is A and C)."""
        return n_tiers(self.cutoffs_, self.reachable_score_)

    @property
    def reachable_score_(self) -> int:
        """The most points an account can have (the positive points added up)."""
        return int(sum(p for p in self.points_.values() if p > 0))

    def _disqualified(self, features: pd.DataFrame) -> np.ndarray:
        """Per row, the disqualifiers it holds (empty lists when none)."""
        dis = list(getattr(self, "disqualifiers_", ()))
        if not dis:
            return np.empty((len(features), 0), dtype=bool)
        return trait_matrix(features, dis).to_numpy(dtype=bool)

    def _tiers(self, scores, features: pd.DataFrame, held: np.ndarray | None = None) -> np.ndarray:
        """Tiers by the cut-offs; an account holding a disqualifier is never A."""
        tiers = assign_tiers(scores, self.cutoffs_)
        held = self._disqualified(features) if held is None else held
        if held.shape[1]:
            demote = (tiers == "A") & held.any(axis=1)
            tiers[demote] = "B" if n_tiers(self.cutoffs_) == 3 else "C"
        return tiers

    def _matrix(self, features: pd.DataFrame) -> np.ndarray:
        return trait_matrix(features, self.traits_).to_numpy(dtype=bool)

    def transform(self, features: pd.DataFrame) -> pd.Series:
        """Fit score per row (sum of the points of the traits the row has)."""
        return self._scores(self._matrix(features), features.index)

    def _scores(self, X: np.ndarray, index: pd.Index) -> pd.Series:
        points = np.array([self.points_[t.id] for t in self.traits_], dtype=int)
        scores = X.astype(int) @ points if len(points) else np.zeros(len(index), dtype=int)
        return pd.Series(scores, index=index, name="fit_score", dtype="int64")

    def tier(self, features: pd.DataFrame) -> pd.Series:
        """A/B/C tier per row."""
        return pd.Series(
            self._tiers(self.transform(features), features), index=features.index, name="tier"
        )

    def explain(self, features: pd.DataFrame, *, missing: bool = True) -> pd.DataFrame:
        """Score, tier, and the matched and missing traits of every row.

        Parameters
        ----------
        features : DataFrame
            The rows to score.
        missing : bool
            List the traits each row lacks; False leaves the column out (a
            caller that tells missing from unknown values lists them itself).

        Returns
        -------
        DataFrame
            ``fit_score``, ``tier``, ``matched`` and ``missing`` (lists of
            trait ids), ``reason`` (the matched traits with their points, in
            words, e.g. ``industry: wholesaler (+22)``), indexed like ``features``.
        """
        X = self._matrix(features)
        scores = self._scores(X, features.index)  # the traits are evaluated once
        ids = [t.id for t in self.traits_]
        labels = {t.id: t.label for t in self.traits_}
        matched, pattern, patterns = rows_as_lists(X, ids)
        reasons = np.array(
            ["; ".join(f"{labels[t]} (+{self.points_[t]})" for t in m) if m else "no ICP trait" for m in patterns],
            dtype=object,
        )
        held = self._disqualified(features)
        columns = {"fit_score": scores, "tier": self._tiers(scores, features, held), "matched": matched}
        if missing:
            columns["missing"] = rows_as_lists(~X, ids)[0]
        columns["reason"] = reasons[pattern]
        if held.shape[1] and held.any():
            labels = [t.label for t in self.disqualifiers_]
            rows = np.flatnonzero(held.any(axis=1))
            extra = ["; disqualifier: " + ", ".join(label for label, h in zip(labels, held[i], strict=True) if h)
                     + " (never tier A)" for i in rows]
            reason = columns["reason"].astype(object).copy()
            reason[rows] = reason[rows] + np.asarray(extra, dtype=object)
            columns["reason"] = reason
        return pd.DataFrame(columns, index=features.index)

    def to_dict(self) -> dict:
        """The score definition, JSON-ready (``selection.json``'s ``score``)."""
        return {
            "method": self.method,
            "kinds": list(self.kinds),
            "scale": self.scale,
            "tier_shares": list(self.tier_shares),
            "traits": [
                {
                    **t.to_dict(),
                    "points": self.points_[t.id],
                    "weight": self.weights_[t.id],
                    **({"penalty": True} if t.id in getattr(self, "penalty_ids_", ()) else {}),
                }
                for t in self.traits_
            ],
            "n_tiers": self.n_tiers_,
            "disqualifiers": [t.to_dict() for t in getattr(self, "disqualifiers_", ())],
            "cutoffs": dict(self.cutoffs_),
            "fitted_tier_shares": dict(self.tier_shares_),
            "max_score": self.max_score_,
            "n_fitted": self.n_fitted_,
            "how": (
                "fit score = sum of the points of the ICP traits an account has"
                + ("; weaker-fit traits cost points" if getattr(self, "penalty_ids_", None) else "")
                + "; " + tier_rule(self.cutoffs_, self.reachable_score_)
                + ("; an account with a disqualifier is never A" if getattr(self, "disqualifiers_", None) else "")
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitScorer:
        """A fitted scorer from :meth:`to_dict` output, without refitting."""
        items = list(data["traits"])
        scorer = cls(
            traits=[TraitDef.from_dict(item) for item in items],
            kinds=tuple(data.get("kinds", WHO_KINDS)),
            method=data.get("method", "odds"),
            scale=data.get("scale", 10.0),
            tier_shares=tuple(data.get("tier_shares", (1 / 3, 2 / 3))),
        )
        scorer.traits_ = scorer._resolve_traits()
        scorer.penalty_ids_ = {item["id"] for item in items if item.get("penalty")}
        scorer.disqualifiers_ = [TraitDef.from_dict(item) for item in data.get("disqualifiers") or ()]
        scorer.points_ = {item["id"]: int(item["points"]) for item in items}
        scorer.weights_ = {item["id"]: float(item.get("weight", np.nan)) for item in items}
        cutoffs = data["cutoffs"]
        scorer.cutoffs_ = {k: float(v) if v is not None else float("inf") for k, v in cutoffs.items()}
        scorer.tier_shares_ = dict(data.get("fitted_tier_shares", {}))
        scorer.max_score_ = int(data.get("max_score", sum(scorer.points_.values())))
        scorer.n_fitted_ = int(data.get("n_fitted", 0))
        return scorer


def points_table(scorer: FitScorer) -> pd.DataFrame:
    """Points per trait, strongest first: what a salesperson adds up."""
    rows = [
        {"trait": t.id, "label": t.label, "kind": t.kind, "points": scorer.points_[t.id],
         "log_odds_weight": round(scorer.weights_[t.id], 3)}
        for t in scorer.traits_
    ]
    columns = ["trait", "label", "kind", "points", "log_odds_weight"]
    return pd.DataFrame(rows, columns=columns).sort_values(
        "points", ascending=False, kind="stable"
    ).reset_index(drop=True)


def tier_table(scorer: FitScorer, features: pd.DataFrame, is_best) -> pd.DataFrame:
    """Accounts, score range and share of best customers per tier."""
    scores = scorer.transform(features)
    tiers = pd.Series(scorer._tiers(scores, features), index=features.index)
    best = pd.Series(np.asarray(is_best, dtype=bool), index=features.index)
    rows = []
    for tier in TIERS:
        if tier == "B" and scorer.n_tiers_ < 3:
            continue  # equal cut-offs: B holds nobody, and is not shown as a tier
        mask = tiers == tier
        rows.append(
            {
                "tier": tier,
                "from_score": scorer.cutoffs_.get(tier, 0.0) if tier != "C" else 0.0,
                "accounts": int(mask.sum()),
                "share_of_accounts": float(mask.mean()) if len(mask) else 0.0,
                "best_customers": int(best[mask].sum()),
                "best_rate": float(best[mask].mean()) if mask.any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)
