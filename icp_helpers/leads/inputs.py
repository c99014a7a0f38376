"""Lead-scoring inputs: the activity and count matrices and the leads of a project."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..data.frames import positions
from .points import (
    _OTHER,
    _TITLE_PREFIX,
    DEFAULT_BY_DETAIL,
    DEFAULT_TITLE_LEVELS,
    DEFAULT_TITLE_POINTS,
    NOT_FILLED,
    LeadScoringError,
    _norm_activity,
    _spec_get,
    title_levels,
)

__all__ = ["LeadInputs", "activity_matrix", "count_matrix", "lead_inputs", "title_reference"]


# --------------------------------------------------------------------------- inputs


def _require(frame: pd.DataFrame, columns: Iterable[str], *, source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LeadScoringError(
            f"{source}: column(s) {missing} missing; lead scoring needs them "
            f"(columns present: {', '.join(map(str, frame.columns))})"
        )


def _form_title_levels(
    events: pd.DataFrame,
    forms: pd.Series,
    *,
    leads: pd.DataFrame | None,
    lead_of_event: np.ndarray | None,
    levels: Mapping[str, str] | None,
) -> pd.Series:
    """The title level of every form submission; the lead's ``job_title`` stands in for a form without one."""
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
    return title_levels(titles, levels=levels)


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
    events = activities.copy(deep=False)
    events["activity"] = _norm_activity(events["activity"])
    # one mask for every rule, one selection of the (millions of) events at the end
    keep = (events["activity"].notna() & (events["activity"] != "")).to_numpy(dtype=bool)
    needs_time = as_of is not None or half_life_days is not None
    if needs_time or (leads is not None and "converted_date" in leads.columns):
        _require(events, ["timestamp"], source=source)
        events["timestamp"] = pd.to_datetime(events["timestamp"], errors="coerce")
    if as_of is not None:
        keep &= (events["timestamp"] < pd.Timestamp(as_of)).to_numpy(dtype=bool)

    lead_of_event = None  # each event's row in ``leads``, looked up once
    if leads is not None:
        _require(leads, ["lead_id"], source="leads")
        lead_of_event = positions(events["lead_id"], leads["lead_id"])
        keep &= lead_of_event >= 0
        if "converted_date" in leads.columns:
            cut = pd.to_datetime(leads["converted_date"]).to_numpy()[lead_of_event]
            keep &= pd.isna(cut) | (events["timestamp"].to_numpy() < cut)
        lead_of_event = lead_of_event[keep]
    events = events[keep]

    weight = pd.Series(1.0, index=events.index)
    if half_life_days is not None:
        reference = pd.Timestamp(as_of) if as_of is not None else events["timestamp"].max()
        age = (reference - events["timestamp"]).dt.total_seconds() / 86400.0
        weight = np.power(0.5, age.clip(lower=0) / float(half_life_days)).fillna(0.0)

    # text stays Arrow-backed: Python strings for millions of events cost more than the rest
    feature = events["activity"]
    if "detail" in events.columns:
        detail = events["detail"].astype("string").str.strip().str.lower()
        split = events["activity"].isin(list(by_detail)) & detail.notna() & (detail != "")
        feature = feature.where(~split, events["activity"] + ":" + detail)
    features, lead_ids, weights = [feature], [events["lead_id"]], [weight]

    forms = events["activity"] == "form_submission"
    if forms.any():
        level = _form_title_levels(
            events, forms, leads=leads, lead_of_event=lead_of_event, levels=levels
        )
        known = (level != "unknown") & (level != title_reference)
        features.append((_TITLE_PREFIX + level[known]).astype(feature.dtype))
        lead_ids.append(events.loc[forms, "lead_id"][known])
        weights.append(weight[forms][known])
    # the weights summed per (lead, feature) cell on integer codes: a pivot
    # table of a million leads spends its time sorting and aligning text
    if leads is not None:
        # each event's lead is known: its row is the code of that lead in ``leads``
        lead_codes, rows = pd.factorize(leads["lead_id"], use_na_sentinel=False)
        row = lead_codes[lead_of_event]
        if len(features) > 1:
            row = np.concatenate([row, row[forms.to_numpy()][known.to_numpy(dtype=bool)]])
    else:
        row, rows = pd.factorize(pd.concat(lead_ids, ignore_index=True), sort=True)
    column, columns = pd.factorize(pd.concat(features, ignore_index=True), sort=True)
    w = np.concatenate([part.to_numpy(dtype=float) for part in weights])
    present = (row >= 0) & (column >= 0)
    cells = np.bincount(
        row[present] * len(columns) + column[present],
        weights=w[present],
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


