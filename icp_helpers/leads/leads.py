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

import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ..data.folds import capped_training_rows
from ..data.frames import positions
from ..data.schema import map_distinct

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

#: The method's points per activity (per event, or per unit of a count).
#: Intent and buying signals earn most, passive reading least, opting out costs.
DEFAULT_POINTS: dict[str, float] = {
    "page_visit": 2,
    "email_open": 1,
    "email_click": 5,
    "newsletter_signup": 5,
    "video_view": 10,
    "key_page_visit": 15,  # pricing, terms, contact pages
    "download": 20,
    "webinar": 25,
    "form_submission": 30,
    "demo_request": 50,
    "unsubscribe": -50,
    "email_bounce": -10,
}

#: Extra points for a form submission by the level of the job title in the form:
#: decision makers above managers above staff above assistants and interns.
DEFAULT_TITLE_POINTS: dict[str, float] = {
    "executive": 40,
    "manager": 20,
    "staff": 5,
    "junior": 0,
}

#: Job-title levels as regular expressions (case-insensitive), checked in this
#: order; the first that matches wins, so "Assistant Director" is junior,
#: "Head of Purchasing" and "General Manager" executive and "Head Chef" manager.
#: Any other non-empty title is staff.
DEFAULT_TITLE_LEVELS: dict[str, str] = {
    "junior": r"\b(assistant|intern|trainee|apprentice|student|junior|jr)\b",
    "executive": (
        r"\b(ceo|cfo|coo|cto|cmo|cio|chief|owner|co-?owner|founder|co-?founder|president"
        r"|proprietor|partner|director|head of|vp|svp|evp|principal|managing|general manager)\b"
    ),
    "manager": r"\b(manager|mgr|supervisor|head|lead|buyer|purchasing|procurement)\b",
    "staff": r"\w",
}

#: Engagement thresholds: weak < medium <= score <= strong < strong.
DEFAULT_THRESHOLDS: dict[str, float] = {"medium": 100.0, "strong": 200.0}

#: Activities scored per detail (``download:price-list``) in an event log.
DEFAULT_BY_DETAIL: tuple[str, ...] = ("key_page_visit", "download")

#: Engagement tiers, strongest first, and their number in the A1-C3 matrix.
TIERS: tuple[str, ...] = ("strong", "medium", "weak")
ENGAGEMENT: dict[str, int] = {"strong": 1, "medium": 2, "weak": 3}

_TITLE_PREFIX = "title:"
_OTHER = "other"
#: The level of a categorical count column that was left empty (or holds a ``missing_values`` value).
NOT_FILLED = "(not filled in)"


class LeadScoringError(ValueError):
    """Lead data or lead-scoring settings that cannot be used; the message names what and where."""


# --------------------------------------------------------------------------- points


def _norm_activity(values: pd.Series) -> pd.Series:
    return map_distinct(
        values, lambda v: v.astype("string").str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    )


def title_level(title: Any, *, levels: Mapping[str, str] | None = None) -> str:
    """The level of one job title (``executive``, ``manager``, ``staff``, ``junior``).

    Parameters
    ----------
    title : str or None
        A free-text job title.
    levels : mapping, optional
        Level -> regular expression, checked in order; defaults to
        :data:`DEFAULT_TITLE_LEVELS`.

    Returns
    -------
    str
        The first level whose pattern matches, or ``"unknown"`` for an empty title.
    """
    if title is None or (isinstance(title, float) and math.isnan(title)) or title is pd.NA:
        return "unknown"
    text = str(title).strip().lower()
    if not text:
        return "unknown"
    for level, pattern in (levels or DEFAULT_TITLE_LEVELS).items():
        if re.search(pattern, text, flags=re.IGNORECASE):
            return level
    return "unknown"


def title_levels(titles: pd.Series, *, levels: Mapping[str, str] | None = None) -> pd.Series:
    """:func:`title_level` of every title in a Series (same index)."""
    # once per distinct title: a million forms repeat a few hundred titles
    codes, distinct = pd.factorize(titles.astype(object), use_na_sentinel=True)
    named = np.array([title_level(t, levels=levels) for t in distinct] + ["unknown"], dtype=object)
    return pd.Series(named[codes], index=titles.index, dtype=object)


def resolve_thresholds(thresholds: Mapping[str, float] | None = None) -> dict[str, float]:
    """The ``medium`` and ``strong`` thresholds, defaults filled in and checked."""
    merged = {**DEFAULT_THRESHOLDS, **(dict(thresholds) if thresholds else {})}
    unknown = sorted(set(merged) - set(DEFAULT_THRESHOLDS))
    if unknown:
        raise LeadScoringError(
            f"lead_scoring.thresholds: unknown key(s) {unknown}; allowed: medium, strong"
        )
    medium, strong = float(merged["medium"]), float(merged["strong"])
    if not medium <= strong:
        raise LeadScoringError(
            f"lead_scoring.thresholds: medium ({medium:g}) must not exceed strong ({strong:g})"
        )
    return {"medium": medium, "strong": strong}


def _spec_get(spec: Any, key: str, default: Any = None) -> Any:
    if spec is None:
        return default
    if isinstance(spec, Mapping):
        return spec.get(key, default)
    return getattr(spec, key, default)


def resolve_points(
    features: Iterable[str],
    *,
    points: Mapping[str, float] | None = None,
    title_points: Mapping[str, float] | None = None,
    counts: Mapping[str, Any] | None = None,
    categorical: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, float]:
    """Points per unit of every feature, from the config with the method's defaults.

    Lookup per feature: ``title:<level>`` in the title points; a count column
    in ``counts`` (its ``points``, else its ``activity``'s points); a
    categorical level ``<column>=<level>`` in ``categorical`` (a number, or an
    activity whose points it earns; unlisted levels earn 0); otherwise the
    feature's own key in ``points``, then for ``activity:detail`` the
    activity's key. ``points`` and ``title_points`` override
    :data:`DEFAULT_POINTS` and :data:`DEFAULT_TITLE_POINTS` key by key.

    Parameters
    ----------
    features : iterable of str
        Feature names, e.g. the columns of :func:`activity_matrix`.
    points, title_points, counts, categorical : mapping, optional
        The ``lead_scoring`` settings of the same names.

    Returns
    -------
    dict
        Feature -> points per unit (0 for anything unknown).
    """
    table = {**DEFAULT_POINTS, **(dict(points) if points else {})}
    titles = {**DEFAULT_TITLE_POINTS, **(dict(title_points) if title_points else {})}
    counts = counts or {}
    categorical = categorical or {}

    def activity_points(name: Any) -> float:
        if isinstance(name, int | float) and not isinstance(name, bool):
            return float(name)
        key = str(name)
        if key in table:
            return float(table[key])
        return float(table.get(key.split(":", 1)[0], 0.0))

    out: dict[str, float] = {}
    for feature in features:
        name = str(feature)
        if name.startswith(_TITLE_PREFIX):
            out[name] = float(titles.get(name[len(_TITLE_PREFIX) :], 0.0))
        elif name in counts:
            spec = counts[name]
            given = _spec_get(spec, "points")
            activity = _spec_get(spec, "activity")
            if given is not None:
                out[name] = float(given)
            elif activity is not None:
                out[name] = activity_points(activity)
            else:
                out[name] = float(table.get(name, 0.0))
        elif "=" in name and name.split("=", 1)[0] in categorical:
            column, level = name.split("=", 1)
            value = categorical[column].get(level)
            out[name] = 0.0 if value is None else activity_points(value)
        else:
            out[name] = activity_points(name)
    return out


# --------------------------------------------------------------------------- inputs


def _require(frame: pd.DataFrame, columns: Iterable[str], *, source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LeadScoringError(
            f"{source}: column(s) {missing} missing; lead scoring needs them "
            f"(columns present: {', '.join(map(str, frame.columns))})"
        )


def activity_matrix(
    activities: pd.DataFrame,
    *,
    leads: pd.DataFrame | None = None,
    as_of: Any = None,
    half_life_days: float | None = None,
    by_detail: Iterable[str] = DEFAULT_BY_DETAIL,
    levels: Mapping[str, str] | None = None,
    title_reference: str | None = "junior",
    source: str = "activities",
) -> pd.DataFrame:
    """Per-lead units of every activity from an event log.

    Parameters
    ----------
    activities : DataFrame
        ``lead_id``, ``activity`` and, for ``as_of`` or decay, ``timestamp``;
        optional ``detail`` and ``job_title``.
    leads : DataFrame, optional
        The leads table: its ``lead_id`` fixes the rows (leads without events
        get zeros, events of unknown leads are dropped), its
        ``converted_date`` cuts events after conversion, its ``job_title``
        stands in for a form without one.
    as_of : date-like, optional
        Events on or after it are ignored; ages for decay count back from it
        (default: the last event).
    half_life_days : float, optional
        Exponential decay: an event ``a`` days old counts ``0.5 ** (a / half_life_days)``.
    by_detail : iterable of str
        Activities scored per detail (``download:price-list``).
    levels : mapping, optional
        Job-title levels (:data:`DEFAULT_TITLE_LEVELS`).
    title_reference : str, optional
        The baseline level: its forms earn the form's points alone and get
        no ``title:`` column. Without a baseline every form would count once
        in ``form_submission`` and once in a title column, and calibration
        could not tell the form's value from the titles' extras.
    source : str
        Name used in error messages (the file the events came from).

    Returns
    -------
    DataFrame
        Index ``lead_id``; one float column per activity feature plus
        ``title:<level>`` columns counting form submissions by title level
        (all levels but the reference).
    """
    _require(activities, ["lead_id", "activity"], source=source)
    events = activities.copy()
    events["activity"] = _norm_activity(events["activity"])
    events = events[events["activity"].notna() & (events["activity"] != "")]
    needs_time = as_of is not None or half_life_days is not None
    if needs_time or (leads is not None and "converted_date" in leads.columns):
        _require(events, ["timestamp"], source=source)
        events["timestamp"] = pd.to_datetime(events["timestamp"], errors="coerce")
    if as_of is not None:
        events = events[events["timestamp"] < pd.Timestamp(as_of)]

    lead_of_event = None  # each event's row in ``leads``, looked up once
    if leads is not None:
        _require(leads, ["lead_id"], source="leads")
        lead_of_event = positions(events["lead_id"], leads["lead_id"])
        known_lead = lead_of_event >= 0
        events, lead_of_event = events[known_lead], lead_of_event[known_lead]
        if "converted_date" in leads.columns:
            cut = pd.to_datetime(leads["converted_date"]).to_numpy()[lead_of_event]
            before = pd.isna(cut) | (events["timestamp"].to_numpy() < cut)
            events, lead_of_event = events[before], lead_of_event[before]

    weight = pd.Series(1.0, index=events.index)
    if half_life_days is not None:
        reference = pd.Timestamp(as_of) if as_of is not None else events["timestamp"].max()
        age = (reference - events["timestamp"]).dt.total_seconds() / 86400.0
        weight = np.power(0.5, age.clip(lower=0) / float(half_life_days)).fillna(0.0)

    feature = events["activity"].astype(object)
    if "detail" in events.columns:
        detail = events["detail"].astype("string").str.strip().str.lower()
        split = events["activity"].isin(list(by_detail)) & detail.notna() & (detail != "")
        feature = feature.where(
            ~split, events["activity"].astype(object) + ":" + detail.astype(object)
        )
    parts = [pd.DataFrame({"lead_id": events["lead_id"], "feature": feature, "w": weight})]

    forms = events["activity"] == "form_submission"
    if forms.any():
        titles = (
            events.loc[forms, "job_title"]
            if "job_title" in events.columns
            else pd.Series(pd.NA, index=events.index[forms])
        ).astype(object)
        if lead_of_event is not None and "job_title" in leads.columns:
            fallback = pd.Series(
                leads["job_title"].astype(object).to_numpy()[lead_of_event[forms.to_numpy()]],
                index=titles.index,
            )
            empty = titles.isna() | (titles.astype(str).str.strip() == "")
            titles = titles.where(~empty, fallback)
        level = title_levels(titles, levels=levels)
        known = (level != "unknown") & (level != title_reference)
        parts.append(
            pd.DataFrame(
                {
                    "lead_id": events.loc[forms, "lead_id"][known],
                    "feature": _TITLE_PREFIX + level[known],
                    "w": weight[forms][known],
                }
            )
        )
    long = pd.concat(parts, ignore_index=True)
    # the weights summed per (lead, feature) cell on integer codes: a pivot
    # table of a million leads spends its time sorting and aligning text
    if leads is not None:
        rows = pd.Index(leads["lead_id"].unique())
        row = positions(long["lead_id"], rows)
    else:
        row, rows = pd.factorize(long["lead_id"], sort=True)
    column, columns = pd.factorize(long["feature"].astype(object), sort=True)
    present = (row >= 0) & (column >= 0)
    cells = np.bincount(
        row[present] * len(columns) + column[present],
        weights=long["w"].to_numpy(dtype=float)[present],
        minlength=len(rows) * len(columns),
    )
    matrix = pd.DataFrame(
        cells.reshape(len(rows), len(columns)), index=pd.Index(rows, name="lead_id"),
        columns=[str(c) for c in columns],
    )
    if leads is None:  # a row per lead with a counted event, as a pivot table of the events has
        matrix = matrix[np.bincount(row[present], minlength=len(rows)) > 0]
    return matrix


def count_matrix(
    leads: pd.DataFrame,
    *,
    counts: Mapping[str, Any],
    categorical: Mapping[str, Mapping[str, Any]] | None = None,
    missing_values: Iterable[str] = (),
    min_level_count: int = 10,
    source: str = "leads",
) -> pd.DataFrame:
    """Per-lead units of every count column and categorical level.

    Parameters
    ----------
    leads : DataFrame
        ``lead_id`` and the columns named in ``counts`` and ``categorical``.
    counts : mapping
        Column -> spec with optional ``activity``, ``points``, ``per`` (units
        are ``value / per``; default 1) and ``cap`` (units above it count as
        ``cap``).
    categorical : mapping, optional
        Column -> {level: points or activity}; every level but the
        column's most frequent one (the baseline, 0 points, so that points
        read as "compared with the usual value") becomes an indicator
        column ``<column>=<level>``.
    missing_values : iterable of str
        Export values that mean "not filled in" (e.g. ``Select``).
    min_level_count : int
        Levels held by fewer leads (and not listed in the config) are pooled
        as ``<column>=other``; when the pooled level is itself that rare,
        its leads join the baseline. Rare indicators would otherwise get
        unstable calibrated points.
    source : str
        The file the leads came from, named in error messages.

    Returns
    -------
    DataFrame
        Index ``lead_id``, float columns; ``attrs["baselines"]`` names the
        baseline level of every categorical column.

    Raises
    ------
    LeadScoringError
        A named column is missing, not numeric or negative.
    """
    if not counts and not categorical:
        raise LeadScoringError(
            "lead_scoring.counts_input is true but lead_scoring.counts and "
            "lead_scoring.categorical are empty: map at least one leads column to points"
        )
    categorical = categorical or {}
    _require(leads, ["lead_id", *counts, *categorical], source=source)
    missing = {str(v).strip() for v in missing_values}
    out = pd.DataFrame(index=pd.Index(leads["lead_id"], name="lead_id"))

    for column, spec in counts.items():
        raw = leads[column]
        if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):
            text = raw.astype("string").str.strip()
            text = text.mask(text.isin(missing) | (text == ""))
            values = pd.to_numeric(text, errors="coerce")
            bad = text.notna() & values.isna()
            if bad.any():
                examples = ", ".join(repr(v) for v in text[bad].unique()[:5])
                raise LeadScoringError(
                    f"{source}: count column {column!r} must be numeric; {int(bad.sum())} row(s) "
                    f"hold text such as {examples} (add values meaning 'not filled in' to "
                    "lead_scoring.missing_values, or map the column under lead_scoring.categorical)"
                )
        elif pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
            values = raw.astype(float)
        else:
            raise LeadScoringError(
                f"{source}: count column {column!r} must be numeric, got {raw.dtype} values"
            )
        negative = values < 0
        if negative.any():
            raise LeadScoringError(
                f"{source}: count column {column!r} has {int(negative.sum())} negative value(s) "
                f"(e.g. {values[negative].iloc[0]:g}); counts cannot be negative"
            )
        per = float(_spec_get(spec, "per", 1.0) or 1.0)
        units = values.fillna(0.0) / per
        cap = _spec_get(spec, "cap")
        if cap is not None:
            units = units.clip(upper=float(cap))
        out[str(column)] = units.to_numpy(dtype=float)

    baselines: dict[str, str] = {}
    for column, mapping in categorical.items():
        text = leads[column].astype("string").str.strip()
        # an empty field is a state of its own (often telling), not a missing row
        text = text.mask(text.isin(missing) | (text == "") | text.isna(), NOT_FILLED)
        listed = set(map(str, mapping))
        frequency = text.value_counts()
        if frequency.empty:
            continue
        keep = {str(level) for level, n in frequency.items() if n >= min_level_count} | listed
        pooled = text.where(text.isin(keep) | text.isna(), _OTHER)
        counts = pooled.value_counts()
        baselines[column] = baseline = str(counts.index[0])
        for level in sorted(counts.index):
            if level == baseline or (level == _OTHER and counts[level] < min_level_count):
                continue  # the baseline, and a pooled level still too rare to estimate, get no column
            out[f"{column}={level}"] = (pooled == level).fillna(False).to_numpy(dtype=float)
    out = out.astype(float)
    out.attrs["baselines"] = baselines
    return out


@dataclass
class LeadInputs:
    """The lead-scoring inputs of one run.

    Attributes
    ----------
    matrix : DataFrame
        Index ``lead_id``, one column of units per feature.
    leads : DataFrame
        The leads scored (one row per ``lead_id``, same order as ``matrix``).
    converted : Series or None
        0/1 per lead when the leads carry ``converted``.
    shape : str
        ``"events"`` or ``"counts"``.
    as_of : Timestamp or None
        Events on or after it do not count.
    notes : list of str
        What was set aside and why.
    """

    matrix: pd.DataFrame
    leads: pd.DataFrame
    converted: pd.Series | None
    shape: str
    as_of: pd.Timestamp | None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """One-row overview: leads, features, converters and the input shape."""
        y = self.converted
        return pd.DataFrame(
            {
                "input": [self.shape],
                "leads": [len(self.matrix)],
                "features": [self.matrix.shape[1]],
                "leads with activity": [int((self.matrix.abs().sum(axis=1) > 0).sum())],
                "converted": [None if y is None else int(y.sum())],
                "conversion rate": [None if y is None else float(y.mean())],
                "as of": [self.as_of],
            }
        )


def _converted_flags(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    mapping = {
        "1": 1,
        "0": 0,
        "true": 1,
        "false": 0,
        "yes": 1,
        "no": 0,
        "1.0": 1,
        "0.0": 0,
        "won": 1,
        "lost": 0,
    }
    flags = text.map(mapping)
    bad = text.notna() & flags.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in text[bad].unique()[:5])
        raise LeadScoringError(f"leads: column 'converted' must be 0/1 or yes/no; got {examples}")
    return flags


def title_reference(settings: Any) -> str:
    """The baseline job-title level: the one with the fewest title points (first on ties)."""
    levels = list(settings.title_levels or DEFAULT_TITLE_LEVELS)
    points = {**DEFAULT_TITLE_POINTS, **settings.title_points}
    return min(levels, key=lambda level: (float(points.get(level, 0.0)), levels.index(level)))


def lead_inputs(project: Any, *, config: Any, as_of: Any = None) -> LeadInputs:
    """Build the lead matrix of a loaded project, in the shape the config asks for.

    Parameters
    ----------
    project : Project
        From :func:`icp_helpers.data.loaders.load_project`; uses ``.leads`` and,
        for an event log, ``.activities``.
    config : ProjectConfig
        The project config (``lead_scoring`` and the leads file name are used).
    as_of : date-like, optional
        Leads created and events on or after it are left out (the run's
        window end).

    Returns
    -------
    LeadInputs
    """
    settings = config.lead_scoring
    leads_file = ", ".join(str(p) for p in config.input_paths("leads")) or "leads"
    leads = getattr(project, "leads", None)
    activities = getattr(project, "activities", None)
    notes: list[str] = []
    if leads is None and activities is None:
        raise LeadScoringError("lead scoring needs inputs.leads or inputs.activities in the config")
    if leads is None:
        leads = pd.DataFrame({"lead_id": pd.unique(activities["lead_id"])})
        notes.append("no leads table: leads are the lead ids of the activity log")
    leads = leads.drop_duplicates("lead_id").reset_index(drop=True)
    as_of = pd.Timestamp(as_of) if as_of is not None else None
    if as_of is not None and "created" in leads.columns:
        created = pd.to_datetime(leads["created"], errors="coerce")
        later = created >= as_of
        if later.any():
            notes.append(f"{int(later.sum())} lead(s) created on or after {as_of.date()} left out")
        leads = leads[~later].reset_index(drop=True)

    if settings.counts_input:
        matrix = count_matrix(
            leads,
            counts=settings.counts,
            categorical=settings.categorical,
            missing_values=settings.missing_values,
            min_level_count=settings.min_level_count,
            source=leads_file,
        )
        for column, level in matrix.attrs.get("baselines", {}).items():
            given = settings.categorical.get(column, {}).get(level)
            extra = f"; its configured points ({given}) do not apply" if given is not None else ""
            notes.append(
                f"{column}: baseline level {level!r} (the most frequent) earns no points{extra}"
            )
        shape = "counts"
    else:
        if activities is None:
            raise LeadScoringError(
                "lead_scoring.counts_input is false but inputs.activities is not configured; "
                "name the event log, or set counts_input: true and map the leads' count columns"
            )
        events_file = ", ".join(str(p) for p in config.input_paths("activities")) or "activities"
        matrix = activity_matrix(
            activities,
            leads=leads,
            as_of=as_of,
            half_life_days=settings.decay_half_life_days,
            by_detail=settings.by_detail,
            levels=settings.title_levels or None,
            title_reference=title_reference(settings),
            source=events_file,
        )
        shape = "events"
    converted = None
    if "converted" in leads.columns:
        flags = _converted_flags(leads["converted"])
        unknown = flags.isna()
        if unknown.any():
            notes.append(
                f"{int(unknown.sum())} lead(s) without a conversion outcome are scored, not used to calibrate"
            )
        converted = pd.Series(
            flags.to_numpy(), index=pd.Index(leads["lead_id"], name="lead_id"), name="converted"
        )
    return LeadInputs(
        matrix=matrix, leads=leads, converted=converted, shape=shape, as_of=as_of, notes=notes
    )


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
    low, high = centre - half, centre + half
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


# --------------------------------------------------------------------------- plots


def _placeholder(text: str, *, title: str) -> Figure:
    """A small figure that says why there is nothing to plot."""
    fig = Figure(figsize=(6, 1.6), layout="constrained")
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    ax.set_title(title)
    return fig


def plot_points(table: pd.DataFrame, *, top: int = 20) -> Figure:
    """Horizontal bars of default and calibrated points per feature (:func:`points_table`)."""
    if table.empty:
        return _placeholder("no activity features", title="Points per activity")
    shown = table.head(top).iloc[::-1]
    columns = [c for c in ("default", "calibrated") if c in shown.columns]
    fig = Figure(figsize=(8, 0.35 * len(shown) + 1.2), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(shown))
    height = 0.8 / len(columns)
    for i, column in enumerate(columns):
        ax.barh(
            y + i * height - 0.4 + height / 2,
            shown[column],
            height=height,
            label=f"{column} points",
        )
    ax.set_yticks(y, shown["feature"])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("points per activity (per unit for counts)")
    ax.legend(loc="lower right")
    ax.set_title("Points per activity")
    return fig


def plot_tier_conversion(tiers: pd.DataFrame) -> Figure:
    """Conversion rate per tier with Wilson intervals, one bar group per point set.

    Without conversions (no ``conversion_rate`` column) the bars show leads per tier.
    """
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    has_rate = "conversion_rate" in tiers.columns
    sets = list(dict.fromkeys(tiers["points"])) if "points" in tiers.columns else [None]
    width = 0.8 / len(sets)
    x = np.arange(len(TIERS))
    for i, name in enumerate(sets):
        part = tiers if name is None else tiers[tiers["points"] == name]
        part = part.set_index("tier").reindex(list(TIERS))
        leads = part["leads"].fillna(0).astype(int)
        position = x + i * width - 0.4 + width / 2
        if not has_rate:
            ax.bar(position, leads, width=width, label=name)
            continue
        rate = part["conversion_rate"].to_numpy(dtype=float)
        err = np.vstack(
            [
                np.nan_to_num(rate - part["ci_low"].to_numpy(dtype=float)),
                np.nan_to_num(part["ci_high"].to_numpy(dtype=float) - rate),
            ]
        )
        bars = ax.bar(position, np.nan_to_num(rate), width=width, yerr=err, capsize=3, label=name)
        for bar, n in zip(bars, leads, strict=True):
            ax.annotate(
                f"n={n}",
                (bar.get_x() + bar.get_width() / 2, 0),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_xticks(x, [f"{t} ({ENGAGEMENT[t]})" for t in TIERS])
    if has_rate:
        ax.set_ylabel("conversion rate (95% Wilson interval)")
        ax.set_ylim(0, 1)
        ax.set_title("Conversion by engagement tier (held-out leads)")
    else:
        ax.set_ylabel("leads")
        ax.set_title("Leads by engagement tier")
    if sets != [None]:
        ax.legend(title="points")
    return fig


def plot_calibration(deciles: pd.DataFrame) -> Figure:
    """Conversion rate per score decile, one line per model (:meth:`PointsEvaluation.deciles`)."""
    if deciles.empty:
        return _placeholder(
            "no conversions in the leads: nothing to calibrate against", title="Calibration"
        )
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    for name, part in deciles.groupby("points", sort=False):
        ax.plot(part["decile"], part["conversion_rate"], marker="o", label=name)
        ax.fill_between(part["decile"], part["ci_low"], part["ci_high"], alpha=0.15)
    ax.set_xlabel("score decile (ties kept together)")
    ax.set_ylabel("conversion rate")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Calibration: conversion by score decile (held-out leads)")
    return fig


def plot_threshold_sweep(
    sweep: pd.DataFrame, *, thresholds: Mapping[str, float] | None = None
) -> Figure:
    """Conversion rate and share of leads above each threshold, per point set."""
    if sweep.empty:
        return _placeholder(
            "no conversions in the leads: nothing to sweep", title="Moving the thresholds"
        )
    limits = resolve_thresholds(thresholds)
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, sharex=True)
    for name, part in sweep.groupby("points", sort=False):
        left.plot(part["threshold"], part["conversion_rate"], marker=".", label=name)
        right.plot(part["threshold"], part["share_of_leads"], marker=".", label=f"{name}: leads")
        right.plot(
            part["threshold"],
            part["share_of_converters"],
            linestyle="--",
            label=f"{name}: converters",
        )
    for ax in (left, right):
        for value in limits.values():
            ax.axvline(value, color="grey", linewidth=0.8, linestyle=":")
        ax.set_xlabel("threshold (score above)")
        ax.set_ylim(0, 1.02)
    left.set_ylabel("conversion rate above")
    right.set_ylabel("share above")
    left.legend(title="points")
    right.legend(fontsize=8)
    fig.suptitle("Moving the thresholds")
    return fig


def plot_fit_engagement(
    table: pd.DataFrame | None, *, scored: pd.DataFrame | None = None
) -> Figure:
    """The A1-C3 matrix: leads per cell, annotated with conversion rates.

    Without the fit tiers (``table`` None) the engagement tiers of ``scored`` are shown alone.
    """
    if table is None:
        if scored is None:
            return _placeholder("no fit tiers and no scored leads", title="Fit x engagement")
        view = fit_engagement_view(None, scored)
        fig = Figure(figsize=(6, 3.2), layout="constrained")
        ax = fig.subplots()
        ax.bar(
            [f"{t} ({e})" for t, e in zip(view.index, view["engagement"], strict=True)],
            view["leads"],
        )
        ax.set_ylabel("leads")
        ax.set_title("Engagement tiers alone (no ICP fit tiers for these leads)")
        return fig
    pivots = fit_engagement_pivots(table)
    counts = pivots["leads"]
    rates = pivots.get("conversion_rate")
    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(counts.to_numpy(dtype=float), cmap="Blues")
    fig.colorbar(image, ax=ax, label="leads")
    peak = float(np.nanmax(counts.to_numpy(dtype=float))) if counts.size else 0.0
    for i, fit in enumerate(counts.index):
        for j, engagement in enumerate(counts.columns):
            n = int(counts.iloc[i, j])
            text = f"{fit}{engagement}\n{n}"
            if rates is not None and not np.isnan(rates.iloc[i, j]):
                text += f"\n{rates.iloc[i, j]:.0%}"
            colour = "white" if peak and n > 0.6 * peak else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color=colour)
    ax.set_xticks(
        range(len(counts.columns)), [f"{e} ({TIERS[int(e) - 1]})" for e in counts.columns]
    )
    ax.set_yticks(range(len(counts.index)), list(counts.index))
    ax.set_xlabel("engagement (1 strong, 2 medium, 3 weak)")
    ax.set_ylabel("ICP fit tier")
    ax.set_title("Fit x engagement: leads (conversion rate)")
    return fig
