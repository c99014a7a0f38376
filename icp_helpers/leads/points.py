"""Lead points: the default points, title levels, tier thresholds and the points each activity earns."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..data.schema import map_distinct

__all__ = ["DEFAULT_BY_DETAIL", "DEFAULT_POINTS", "DEFAULT_THRESHOLDS", "DEFAULT_TITLE_LEVELS", "DEFAULT_TITLE_POINTS", "ENGAGEMENT", "LeadScoringError", "NOT_FILLED", "TIERS", "resolve_points", "resolve_thresholds", "title_level", "title_levels"]


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


