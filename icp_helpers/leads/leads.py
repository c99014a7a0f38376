"""Lead scoring: points per web activity, weak / medium / strong tiers, calibration.

The method gives every lead points for what it did (pages, downloads, forms,
email) and sorts leads into three engagement tiers by their total:

* **weak**: score below the ``medium`` threshold (default 100);
* **medium**: ``medium <= score <= strong`` (default 100 to 200, both included);
* **strong**: score above the ``strong`` threshold (default 200).

So with the defaults 99 is weak, 100 and 200 are medium and 201 is strong.
The engagement number used in the fit x engagement matrix is 1 for strong,
2 for medium and 3 for weak (``A1`` is a best-fit account's strong lead).

Two input shapes
----------------
**Event log** (``lead_scoring.counts_input: false``, the default): the
``activities`` table, one row per event with ``lead_id``, ``timestamp``,
``activity`` and optionally ``detail`` and ``job_title``. Each event earns
the points of its activity. Activities listed in ``lead_scoring.by_detail``
(default ``key_page_visit`` and ``download``) are scored per detail, e.g.
``download:price-list``, so that a price list can count for more than a
recipe e-book; ``points`` may name ``activity:detail`` keys, and a detail
without its own key earns the activity's points. A form submission also earns
``title_points`` for the level of the job title typed into the form (or the
lead's own job title when the form has none); levels come from regular
expressions in :data:`DEFAULT_TITLE_LEVELS` (``lead_scoring.title_levels``
replaces them). The level with the fewest title points (``junior`` by
default) is the baseline whose forms earn the form's points alone. With
``decay_half_life_days`` set, an event's points halve for every half-life of
age, counted back from the as-of date.

**Per-lead counts** (``lead_scoring.counts_input: true``): many CRMs export only
totals per lead (visits, time on site, page views per visit, last activity).
The leads table then carries those columns (map the export's names onto short
ones under ``inputs.leads.columns``) and ``lead_scoring`` says how each earns
points::

    lead_scoring:
      counts_input: true
      missing_values: [Select]          # export values that mean "not filled in"
      counts:                           # numeric column -> points per unit
        visits: {activity: page_visit}  # a visit earns a page visit's points
        time_on_site: {points: 3, per: 60, cap: 60}   # 3 points a minute (seconds / 60), at most 60 minutes
        page_views_per_visit: {points: 5}
      categorical:                      # column -> {level: points or an activity}
        last_activity:
          Form Submitted on Website: form_submission
          Unsubscribed: unsubscribe
          Email Link Clicked: email_click

A count column must be numeric and not negative (missing counts as 0); the
load stops with a message naming the file, the column and example values
otherwise. A categorical column becomes one indicator per level except its
most frequent level, the baseline that earns no points (levels rarer than
``min_level_count`` leads are pooled as ``<column>=other``; an empty field or
a ``missing_values`` value is the level ``(not filled in)``, since leaving a
field empty often says something); a level earns the points given for it, or
none, until calibration learns them.

Default points (the method's, used when ``lead_scoring.points`` is empty;
keys given in the config override single defaults, 0 switches one off):
see :data:`DEFAULT_POINTS` and :data:`DEFAULT_TITLE_POINTS`.

Calibration from real conversions
---------------------------------
When leads carry ``converted``, :class:`LeadScorer` learns points from the
data: a logistic regression with an L2 penalty on standardised inputs (so the
penalty treats a visit count and an e-book download alike) gives a log-odds
effect per unit of every input. Points are those effects times one scale
``k`` (points per unit of log-odds), rounded to integers, so that the score
stays a plain sum of points and the calibrated model reads
``logit P(convert) = intercept + score / k``. ``k`` is chosen so that the
thresholds keep their meaning: a one-feature logistic fit of conversion on the
*default* score gives the conversion log-odds that the default points attach
to a score of ``medium`` and of ``strong``; ``k`` is the least-squares choice
that makes the calibrated score reach the same log-odds at the same two
thresholds. When the default points do not rank the leads (their fit has no
positive slope, e.g. count columns without default points), ``k`` instead
puts the strong threshold at the 90th percentile of the calibrated model's
lead scores. The choice made is recorded as ``scale_method_``.

Activities after a lead converted are left out (they follow the decision and
would flatter the points), and activities after the as-of date do not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from .engagement import fit_engagement, fit_engagement_pivots, fit_engagement_view, scored_leads
from .evaluation import (
    PointsEvaluation,
    decile_table,
    evaluate_points,
    points_table,
    threshold_sweep,
    tier_table,
    top_drivers,
    wilson_interval,
)
from .inputs import (
    LeadInputs,
    _require,
    activity_matrix,
    count_matrix,
    lead_inputs,
    title_reference,
)
from .plots import (
    plot_calibration,
    plot_fit_engagement,
    plot_points,
    plot_threshold_sweep,
    plot_tier_conversion,
)
from .points import (
    DEFAULT_BY_DETAIL,
    DEFAULT_POINTS,
    DEFAULT_THRESHOLDS,
    DEFAULT_TITLE_LEVELS,
    DEFAULT_TITLE_POINTS,
    ENGAGEMENT,
    NOT_FILLED,
    TIERS,
    LeadScoringError,
    resolve_points,
    resolve_thresholds,
    title_level,
    title_levels,
)
from .scorer import LeadScorer, assign_tier, score_points

__all__ = [
    "DEFAULT_POINTS",
    "DEFAULT_TITLE_POINTS",
    "DEFAULT_TITLE_LEVELS",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_BY_DETAIL",
    "ENGAGEMENT",
    "TIERS",
    "NOT_FILLED",
    "LeadScoringError",
    "LeadInputs",
    "LeadScorer",
    "PointsEvaluation",
    "title_level",
    "title_levels",
    "title_reference",
    "resolve_thresholds",
    "resolve_points",
    "activity_matrix",
    "count_matrix",
    "lead_inputs",
    "score_points",
    "assign_tier",
    "wilson_interval",
    "tier_table",
    "decile_table",
    "threshold_sweep",
    "evaluate_points",
    "points_table",
    "top_drivers",
    "fit_engagement",
    "fit_engagement_pivots",
    "scored_leads",
    "config_points",
    "LeadScoring",
    "score_leads",
    "read_scored_accounts",
    "fit_engagement_for",
    "lead_warnings",
    "timing_features",
    "fit_engagement_view",
    "plot_points",
    "plot_tier_conversion",
    "plot_calibration",
    "plot_threshold_sweep",
    "plot_fit_engagement",
]

# --------------------------------------------------------------------------- one run


def config_points(features: Iterable[str], settings: Any) -> dict[str, float]:
    """:func:`resolve_points` with a ``lead_scoring`` config section."""
    return resolve_points(
        features,
        points=settings.points,
        title_points=settings.title_points,
        counts=settings.counts,
        categorical=settings.categorical,
    )


@dataclass
class LeadScoring:
    """Lead scoring of one run: default points, calibrated points and their comparison.

    Attributes
    ----------
    inputs : LeadInputs
    thresholds : dict
    default_points : dict
        The method's defaults with the config's overrides, per feature.
    scorer : LeadScorer or None
        Calibrated on every lead with an outcome (None without conversions).
    evaluation : PointsEvaluation or None
        Held-out comparison of default, calibrated and logistic.
    use_calibrated : bool
        Whether the exported score uses the calibrated points.
    notes : list of str
    """

    inputs: LeadInputs
    thresholds: dict[str, float]
    default_points: dict[str, float]
    scorer: LeadScorer | None
    evaluation: PointsEvaluation | None
    use_calibrated: bool
    notes: list[str] = field(default_factory=list)

    @property
    def points(self) -> dict[str, float]:
        """The points in use: calibrated when available and asked for, else the defaults."""
        return (
            dict(self.scorer.points_)
            if self.use_calibrated and self.scorer is not None
            else dict(self.default_points)
        )

    @property
    def points_used(self) -> str:
        return "calibrated" if self.use_calibrated and self.scorer is not None else "default"

    def points_table(self) -> pd.DataFrame:
        """Default and calibrated points per feature (:func:`points_table`); calendar fields marked ``timing``."""
        table = points_table(
            self.default_points, None if self.scorer is None else self.scorer.points_
        )
        timing = set(timing_features(table["feature"]))
        table["kind"] = ["timing" if f in timing else "profile or activity" for f in table["feature"]]
        return table

    def tiers(self) -> pd.DataFrame:
        """Leads per tier; with conversions, held-out conversion per tier for both point sets."""
        if self.evaluation is not None:
            return self.evaluation.tiers()
        score = score_points(self.inputs.matrix, self.default_points)
        tiers = assign_tier(score, thresholds=self.thresholds)
        counts = tiers.value_counts().reindex(list(TIERS), fill_value=0)
        return pd.DataFrame(
            {
                "points": "default",
                "tier": list(TIERS),
                "engagement": [ENGAGEMENT[t] for t in TIERS],
                "leads": counts.to_numpy(),
            }
        )

    def auc(self) -> pd.DataFrame:
        """Held-out ROC AUC per fold and mean (empty without conversions)."""
        if self.evaluation is None:
            return pd.DataFrame(columns=["default", "calibrated", "logistic"])
        return self.evaluation.auc

    def deciles(self) -> pd.DataFrame:
        """Calibration table per model (empty without conversions)."""
        if self.evaluation is None:
            return pd.DataFrame(
                columns=["points", "decile", "conversion_rate", "ci_low", "ci_high"]
            )
        return self.evaluation.deciles()

    def sweep(self) -> pd.DataFrame:
        """Threshold sweep per point set (empty without conversions)."""
        if self.evaluation is None:
            return pd.DataFrame(
                columns=[
                    "points",
                    "threshold",
                    "conversion_rate",
                    "share_of_leads",
                    "share_of_converters",
                ]
            )
        return self.evaluation.sweep()

    def scored(self, *, accounts: pd.DataFrame | None = None) -> pd.DataFrame:
        """:func:`scored_leads` with the points in use."""
        return scored_leads(
            self.inputs,
            default_points=self.default_points,
            points=self.points,
            thresholds=self.thresholds,
            accounts=accounts,
        )

    def points_record(self, settings: Any = None) -> dict[str, Any]:
        """JSON-ready points for ``lead_points.json``."""
        record: dict[str, Any] = {
            "thresholds": self.thresholds,
            "input": self.inputs.shape,
            "points_used": self.points_used,
            "default": self.default_points,
            "calibrated": None if self.scorer is None else self.scorer.points_,
        }
        if self.scorer is not None:
            record["calibration"] = {
                "model": "logistic regression, L2 penalty, standardised inputs",
                "C": self.scorer.C,
                "points_per_log_odds": self.scorer.scale_,
                "scale_method": self.scorer.scale_method_,
                "intercept_log_odds": self.scorer.intercept_,
                "log_odds_per_unit": self.scorer.coef_.to_dict(),
                "threshold_probability": self.scorer.threshold_odds_,
            }
        if settings is not None:
            record["settings"] = settings.model_dump(mode="json")
            record["title_levels"] = dict(settings.title_levels or DEFAULT_TITLE_LEVELS)
            record["title_reference"] = title_reference(settings)
        return record

    def record(self) -> dict[str, Any]:
        """JSON-ready summary for ``step5.json``."""
        y = self.inputs.converted
        out: dict[str, Any] = {
            "input": self.inputs.shape,
            "as_of": self.inputs.as_of,
            "leads": int(len(self.inputs.matrix)),
            "features": int(self.inputs.matrix.shape[1]),
            "converted": None if y is None else int(y.sum()),
            "conversion_rate": None if y is None else float(y.mean()),
            "thresholds": self.thresholds,
            "points_used": self.points_used,
            "notes": list(self.inputs.notes) + list(self.notes),
        }
        if self.evaluation is not None:
            auc = self.evaluation.mean_auc
            out["auc"] = auc
            out["auc_gap_calibrated_vs_logistic"] = auc["calibrated"] - auc["logistic"]
            out["auc_folds"] = self.evaluation.auc.drop(index="mean").to_dict(orient="list")
            out["cv_folds"] = int(len(self.evaluation.auc) - 1)
            tiers = self.evaluation.tiers()
            out["tiers"] = {
                name: part.set_index("tier")[
                    ["leads", "converted", "conversion_rate", "ci_low", "ci_high"]
                ].to_dict(orient="index")
                for name, part in tiers.groupby("points")
            }
        if self.scorer is not None:
            out["top_drivers"] = top_drivers(self.scorer.points_, n=10)
            out["scale_method"] = self.scorer.scale_method_
        return out

    def step_record(
        self,
        run: Any,
        *,
        scored: pd.DataFrame,
        fit_engagement: pd.DataFrame | None = None,
        fit_note: str = "",
        sales: Any = None,
        warnings: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Everything ``step5.json`` holds.

        The run (quarter, window), :meth:`record`, the tiers of the exported
        scores, the fit x engagement cells and the sales cuts.
        """
        start, end = run.window
        out = {
            "quarter": str(run.quarter),
            "window_start": start,
            "window_end": end,
            **self.record(),
            "exported_tiers": scored["tier"]
            .value_counts()
            .reindex(list(TIERS), fill_value=0)
            .to_dict(),
            "fit_engagement": {
                "available": fit_engagement is not None,
                "note": fit_note,
                "cells": None
                if fit_engagement is None
                else fit_engagement.set_index("cell")
                .drop(columns=["fit_tier", "engagement"])
                .to_dict(orient="index"),
            },
            "sales_cuts": None if sales is None else sales.record(),
            "warnings": list(warnings),
        }
        return out


def score_leads(inputs: LeadInputs, *, settings: Any) -> LeadScoring:
    """Default points, and with conversions the calibrated points and their held-out comparison.

    Parameters
    ----------
    inputs : LeadInputs
        From :func:`lead_inputs`.
    settings : LeadScoringConfig
        The config's ``lead_scoring`` section (points, thresholds,
        ``calibrate``, ``regularization``, ``cv_folds``, ``random_state``).

    Returns
    -------
    LeadScoring
    """
    thresholds = resolve_thresholds(settings.thresholds)
    default_points = config_points(inputs.matrix.columns, settings)
    scorer = evaluation = None
    notes: list[str] = []
    y = inputs.converted
    if y is None:
        notes.append("the leads carry no 'converted' column: default points only, no calibration")
    else:
        known = y.dropna()
        if known.nunique() < 2:
            notes.append("every lead has the same outcome: default points only, no calibration")
        else:
            matrix = inputs.matrix.loc[known.index]
            # One BLAS thread for the logistic fits: their products (a million leads by a few
            # features) gain little from threads, and threads waiting for a busy core spin
            # (twice the time on two shared cores); the points no longer depend on the cores.
            with threadpool_limits(limits=1, user_api="blas"):
                scorer = LeadScorer(
                    thresholds=thresholds,
                    reference_points=default_points,
                    C=settings.regularization,
                    random_state=settings.random_state,
                ).fit(matrix, known.astype(int))
                evaluation = evaluate_points(
                    matrix,
                    known.astype(int),
                    reference_points=default_points,
                    thresholds=thresholds,
                    C=settings.regularization,
                    n_splits=settings.cv_folds,
                    random_state=settings.random_state,
                )
    return LeadScoring(
        inputs=inputs,
        thresholds=thresholds,
        default_points=default_points,
        scorer=scorer,
        evaluation=evaluation,
        use_calibrated=bool(settings.calibrate),
        notes=notes,
    )


def read_scored_accounts(run_dir: Any) -> pd.DataFrame | None:
    """``scored_accounts.csv`` of step 4 (``account_id``, ``tier``), or None when not written yet."""
    path = Path(run_dir) / "scored_accounts.csv"
    if not path.is_file():
        return None
    # only the two columns used are parsed, not the 25 of a scored account
    frame = pd.read_csv(
        path, dtype={"account_id": str}, encoding="utf-8-sig", usecols=lambda c: c in ("account_id", "tier")
    )
    _require(frame, ["account_id", "tier"], source=str(path))
    return frame


def fit_engagement_for(
    scored: pd.DataFrame, accounts: pd.DataFrame | None
) -> tuple[pd.DataFrame | None, str]:
    """The A1-C3 table of scored leads when the accounts' fit tiers exist, with a note saying why not."""
    if accounts is None:
        return None, (
            "scored_accounts.csv is not in the run folder (step 4, 04_icp_template, writes it): "
            "the engagement tiers are shown alone"
        )
    if "account_id" not in scored.columns or scored["account_id"].isna().all():
        return None, "no lead is tied to an account: the engagement tiers are shown alone"
    table = fit_engagement(scored, accounts)
    linked = int(table["leads"].sum())
    return table, f"{linked} of {len(scored)} leads belong to a scored account"


# --------------------------------------------------------------------------- leakage and timing

#: Conversion at or beyond these bounds (either way) counts as "near 0% or 100%".
NEAR_CERTAIN = 0.05
#: Lead fields named like a calendar position: when, not who.
_CALENDAR = re.compile(
    r"(^|_)(month|months|mon|weekday|day_of_week|dow|day|hour|week|quarter|season|year|date)(_|$)"
)


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC (0.5 when one class is missing)."""
    y = np.asarray(y, dtype=bool)
    return 0.5 if y.all() or not y.any() else float(roc_auc_score(y, score))


def _field_of(feature: str) -> str:
    """The lead field a feature comes from (``month=may`` -> ``month``)."""
    return feature.split("=", 1)[0]


def timing_features(features: Iterable[str]) -> list[str]:
    """Features from calendar fields (month, weekday or hour of contact): timing, not profile."""
    return [f for f in features if _CALENDAR.search(_field_of(str(f)).lower().replace(" ", "_"))]


def lead_warnings(
    inputs: LeadInputs,
    *,
    points: Mapping[str, float] | None = None,
    fit_engagement: pd.DataFrame | None = None,
    min_leads: int = 10,
    share: float = 0.5,
    max_auc: float = 0.9,
) -> list[str]:
    """What may be leakage or timing rather than profile, in words (empty when nothing).

    * a fit x engagement matrix whose cells (with ``min_leads`` leads or more)
      all convert at near 0% or near 100%: typically only converted leads
      carry an account id, so the matrix shows how the data was recorded;
    * a lead field whose levels convert at near 0% or 100% for at least
      ``share`` of the leads, or that ranks converters almost perfectly on
      its own (each lead scored by its level's conversion rate: AUC of at
      least ``max_auc``): a field filled in after the outcome (a status, a
      tag set by sales), not a signal before it. On the X Education export,
      its sales tags reach 0.92 (60% of the leads in near-certain levels);
      every field known before contact stays at or below 0.80;
    * calendar fields (month, weekday, hour of contact) that earn points: a
      timing effect (campaign months, busy days), not who the lead is.
    """
    out: list[str] = []
    if fit_engagement is not None and "conversion_rate" in fit_engagement:
        cells = fit_engagement[fit_engagement["leads"] >= min_leads]
        rates = cells["conversion_rate"].dropna()
        if len(rates) >= 2 and ((rates >= 1 - NEAR_CERTAIN).all() or (rates <= NEAR_CERTAIN).all()):
            out.append(
                f"Possible leakage: every cell of the fit x engagement matrix with {min_leads} "
                f"leads or more converts at {rates.min():.0%}-{rates.max():.0%}. Leads tied to an "
                "account may be the ones that converted (an account id filled in at conversion), "
                "so the matrix shows how the data was recorded, not fit."
            )
    y = inputs.converted
    if y is not None and len(y) and 0 < float(y.mean()) < 1:
        converted = pd.Series(np.asarray(y, dtype=float), index=inputs.matrix.index)
        fields: dict[str, list[str]] = {}
        for feature in inputs.matrix.columns:
            if "=" in str(feature):
                fields.setdefault(_field_of(str(feature)), []).append(feature)
        for name, features in fields.items():
            held = inputs.matrix[features].to_numpy(dtype=float) > 0
            n = held.sum(axis=0)
            rates = np.divide(held.T.astype(float) @ converted.to_numpy(), n,
                              out=np.full(len(n), np.nan), where=n > 0)
            certain = (n >= min_leads) & ((rates <= NEAR_CERTAIN) | (rates >= 1 - NEAR_CERTAIN))
            covered = float(n[certain].sum()) / max(len(converted), 1)
            # each lead scored by its level's rate (rare levels and no level pooled): the field alone
            level = np.where(held.any(axis=1), held.argmax(axis=1), -1)
            level = np.where((level >= 0) & (n[np.maximum(level, 0)] >= min_leads), level, -1)
            pooled = pd.Series(converted.to_numpy()).groupby(level).transform("mean").to_numpy()
            auc = _auc(converted.to_numpy(), pooled)
            if covered >= share or auc >= max_auc:
                out.append(
                    f"Possible leakage: lead field {name!r} splits conversion almost perfectly "
                    f"(alone it ranks converters with AUC {auc:.2f}; {covered:.0%} of the leads are "
                    "in levels converting at near 0% or 100%); it is likely filled in after the "
                    "outcome, not known before it."
                )
    timing = [f for f in timing_features((points or {}).keys()) if (points or {}).get(f)]
    if timing:
        fields_named = sorted({_field_of(f) for f in timing})
        out.append(
            f"Timing, not profile: {', '.join(fields_named)} earn points ({', '.join(timing[:5])}"
            f"{'...' if len(timing) > 5 else ''}). They say when leads were contacted (campaign "
            "months, busy days), not who converts; read their points as timing."
        )
    return out


