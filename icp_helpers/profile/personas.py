"""Personas: one per customer group (step 1) and one per main contact role.

A persona here is not invented prose: each field is a short list of
statements computed from the run folder (group membership, per-account
features, contacts) and the interview codes, each with the count behind it
and, for codes, a redacted quote. A field with nothing behind it says
``"no evidence"`` rather than being filled with a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.artifacts import read_json, read_table, write_json
from ..data.demographics import DEMOGRAPHIC_BANDS, describe_level
from ..data.frames import ColumnMap, isin
from ..data.wording import behaviour_label, infer_kind, words

__all__ = [
    "NO_EVIDENCE",
    "CODE_PREFIXES",
    "BEHAVIOUR_COLUMNS",
    "PERSONA_FIELDS",
    "persona_fields",
    "code_label",
    "code_mentions",
    "field",
    "format_value",
    "hour_text",
    "level_counts",
    "group_descriptions",
    "build_personas",
    "personas_from_run",
    "personas_frame",
    "write_personas",
]

#: What a card or persona says where the data has nothing to show.
NO_EVIDENCE = "no evidence"

#: Code-name prefix per codebook dimension (``docs/architecture.md``).
CODE_PREFIXES = {
    "discovery_channel": "channel:",
    "purchase_reason": "reason:",
    "pain_point": "pain:",
    "need_met": "need:",
    "opinion": "opinion:",
    "reason_to_stay": "stay:",
    "competitor": "competitor:",
}

#: The statement fields of every persona in the persona template's order,
#: with their headings (:func:`persona_fields` words them for the profile kind).
PERSONA_FIELDS = {
    "firmographics": "Personal information",
    "role": "Job or life stage",
    "goals": "Goals and motivations",
    "pains": "Pains and challenges",
    "buying_behaviour": "Buying behaviour",
    "needs": "Needs and preferences",
    "channels": "Channels (how they found us)",
    "examples": "Example customers",
    "touchpoints": "Touchpoints",
    "competitors": "Competitors mentioned",
}
_KIND_HEADINGS = {
    "b2b": {"firmographics": "Personal information (firmographics)", "role": "Job role and seniority"},
    "b2c": {"firmographics": "Personal information (demographics)", "role": "Life stage"},
}


def persona_fields(kind: str | None = "b2b") -> dict[str, str]:
    """:data:`PERSONA_FIELDS` with the headings of a profile kind (``b2b`` or ``b2c``)."""
    return {**PERSONA_FIELDS, **_KIND_HEADINGS.get(kind or "b2b", {})}

# Categorical columns that describe who an account is, in order of preference.
_FIRMOGRAPHIC_COLUMNS = (
    "industry",
    "business_type",
    "employees_band",
    "revenue_band",
    "country",
    "region",
    "city_size",
    *DEMOGRAPHIC_BANDS,
    "city",
)
#: What a consumer's stage of life is read from, in order.
_LIFE_STAGE_COLUMNS = ("age_band", "marital_status", "has_children", "senior", "has_partner", "has_dependents",
                       "children", "household_size", "occupation")

#: Per-account behaviour columns of ``features.parquet`` summarised by their
#: median: (column, label, format).
BEHAVIOUR_COLUMNS = (
    ("avg_deal_amount", "average deal value", "money"),
    ("avg_deal_size", "average deal size (units)", "number"),
    ("avg_deal_price", "average price per unit", "price"),
    ("deal_frequency", "won deals per quarter", "number"),
    ("spend_min", "smallest deal", "money"),
    ("spend_median", "median deal", "money"),
    ("spend_max", "largest deal", "money"),
    ("won_value", "won value in the window", "money"),
    ("multi_item_share", "share of multi-item orders", "share"),
)
_PREFERENCE_COLUMNS = (
    ("preferred_weekday", "orders mostly on"),
    ("preferred_hour", "orders mostly around"),
    ("preferred_daypart", "orders mostly in the"),
)

#: Behaviour shown on a persona (the card's buying section shows all of BEHAVIOUR_COLUMNS).
PERSONA_BEHAVIOUR = ("avg_deal_amount", "avg_deal_size", "avg_deal_price", "deal_frequency", "multi_item_share")
#: A firmographic level is a statement about a group only when this share of it has the level.
MIN_LEVEL_SHARE = 0.2

_QUOTE_MAX = 220


def code_label(code: str) -> str:
    """Plain-language name of an interview code: ``pain:reliable_delivery`` -> ``Reliable delivery``."""
    name = str(code).split(":", 1)[-1]
    words = re.sub(r"[_\-]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else str(code)


def _said(short: str, basis: str) -> dict:
    """A statement's words: ``short`` (the claim), ``basis`` (the count behind it) and both as ``text``."""
    return {"short": short, "basis": basis, "text": f"{short} ({basis})" if basis else short}


def field(items: list[dict], *, source: str) -> dict:
    """A persona or card field: its statements, where they come from, and the no-evidence mark."""
    return {
        "status": "evidence" if items else NO_EVIDENCE,
        "source": source,
        "items": items,
    }


def _quote(text: Any) -> str:
    words = " ".join(str(text).split())
    if len(words) <= _QUOTE_MAX:
        return words
    return words[: _QUOTE_MAX - 1].rsplit(" ", 1)[0] + "…"


def _mostly_latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return not letters or sum(ord(c) < 0x250 for c in letters) >= 0.5 * len(letters)


def _pick_quote(rows: pd.DataFrame, preferred: pd.Series) -> pd.Series | None:
    """The quote to show for a code, by a fixed order of preference.

    Answers in Latin script first (the card's language; answers in other
    scripts stay in the run folder), then answers from preferred (best)
    accounts, then full sentences over fragments, then the most concise;
    ties go to the lowest interview id, so the choice is stable.
    ``preferred`` says, per row of ``rows``, whether it is a preferred account's.
    """
    answers = rows[rows["answer"].notna() & (rows["answer"].astype(str).str.strip() != "")]
    if answers.empty:
        return None
    text = answers["answer"].astype(str)
    lengths = text.str.len()
    order = pd.DataFrame(
        {
            "foreign": ~text.map(_mostly_latin),
            "preferred": preferred.loc[answers.index],
            "too_short": lengths < 40,
            "length": lengths,
            "interview": answers["interview_id"].astype(str) if "interview_id" in answers else "",
        },
        index=answers.index,
    ).sort_values(
        ["foreign", "preferred", "too_short", "length", "interview"],
        ascending=[True, False, True, True, True],
    )
    return answers.loc[order.index[0]]


def code_mentions(
    coded: pd.DataFrame | None,
    *,
    prefix: str | Iterable[str],
    accounts: Iterable | None = None,
    preferred: Iterable | None = None,
    limit: int = 3,
    noun: str = "accounts",
) -> list[dict]:
    """The most mentioned codes of a dimension among some accounts, each with a quote.

    Parameters
    ----------
    coded : DataFrame or None
        ``coded_answers.parquet``: ``interview_id``, ``account_id``, ``question``,
        ``code``, ``answer`` (already redacted).
    prefix : str or iterable of str
        Code prefixes to keep, e.g. ``"pain:"``.
    accounts : iterable, optional
        Restrict to these accounts (default: every interviewed account).
    preferred : iterable, optional
        Accounts whose answers are quoted first (the best customers).
    limit : int
        Codes to return.
    noun : str
        What the counts are of, in the statement's basis (``customers`` for consumers).

    Returns
    -------
    list of dict
        ``code``, ``label``, ``accounts`` (accounts that mentioned it),
        ``interviewed`` (accounts interviewed in scope), ``share``, ``quote``,
        ``quote_account``, ``quote_interview``, ``text``; most mentioned first.
    """
    if coded is None or coded.empty:
        return []
    prefixes = (prefix,) if isinstance(prefix, str) else tuple(prefix)
    scope = coded if accounts is None else coded[isin(coded["account_id"], accounts)]
    interviewed = scope["account_id"].nunique()
    hits = scope[scope["code"].astype(str).str.startswith(prefixes)]
    if hits.empty or interviewed == 0:
        return []
    counts = hits.groupby("code")["account_id"].nunique()
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:limit]
    is_preferred = (
        isin(hits["account_id"], preferred) if preferred is not None else pd.Series(False, index=hits.index)
    )
    out = []
    for code, n in ranked:
        of_code = hits["code"] == code
        row = _pick_quote(hits[of_code], is_preferred[of_code])
        label = code_label(code)
        out.append(
            {
                "code": str(code),
                "label": label,
                "accounts": int(n),
                "interviewed": int(interviewed),
                "share": float(n / interviewed),
                "quote": None if row is None else _quote(row["answer"]),
                "quote_account": None if row is None else str(row["account_id"]),
                "quote_interview": None if row is None else str(row.get("interview_id", "")),
                **_said(label, f"{n} of {interviewed} interviewed {noun}"),
            }
        )
    return out


def group_descriptions(info: Any) -> dict[str, dict]:
    """Normalise ``groups.json`` into ``{group id as text: description dict}``.

    Accepts a list of group dicts (each with ``group``), ``{"groups": [...]}``
    or a mapping keyed by group id.
    """
    if info is None:
        return {}
    if isinstance(info, Mapping) and "groups" in info:
        info = info["groups"]
    if isinstance(info, Mapping):
        return {str(k): dict(v) if isinstance(v, Mapping) else {"description": v} for k, v in info.items()}
    out = {}
    for position, item in enumerate(info):
        key = item.get("group", item.get("id", position))
        out[str(key)] = dict(item)
    return out


def level_counts(values: pd.Series) -> pd.Series:
    """Counts per level, most frequent first, ties broken by the level's text (stable output)."""
    counts = values.dropna().astype(str).value_counts()
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.Series(dict(order), dtype="int64")


def _share_text(counts: pd.Series, total: int, limit: int) -> list[dict]:
    items = []
    for level, n in counts.head(limit).items():
        items.append({"value": str(level), "count": int(n), "share": float(n / total)})
    return items


def _firmographics(features: pd.DataFrame, contacts: pd.DataFrame | None, noun: str = "accounts") -> list[dict]:
    items = []
    n = len(features)
    for column in _FIRMOGRAPHIC_COLUMNS:
        if column not in features or n == 0:
            continue
        counts = level_counts(features[column])
        if counts.empty:
            continue
        top = _share_text(counts, n, 1)[0]
        if top["share"] < MIN_LEVEL_SHARE:
            continue
        if column in _LIFE_STAGE_COLUMNS[1:6]:
            continue  # told under the life stage
        nice = column.replace("_band", "").replace("_", " ")
        items.append(
            {**top, "attribute": column, **_said(f"{nice}: {top['value']}", f"{top['count']} of {n} {noun}")}
        )
    if contacts is not None and not contacts.empty:
        if "age" in contacts:
            ages = pd.to_numeric(contacts["age"], errors="coerce").dropna()
            if len(ages):
                items.append(
                    {
                        "attribute": "age",
                        "value": float(ages.median()),
                        "count": int(len(ages)),
                        **_said(f"median contact age {ages.median():.0f}", f"{len(ages)} contacts"),
                    }
                )
        if "gender" in contacts:
            counts = level_counts(contacts["gender"])
            if len(counts):
                top = _share_text(counts, int(counts.sum()), 1)[0]
                items.append(
                    {
                        **top,
                        "attribute": "gender",
                        **_said(f"gender: {top['value']}", f"{top['count']} of {int(counts.sum())} contacts"),
                    }
                )
    return items


def _life_stage(features: pd.DataFrame) -> list[dict]:
    """A consumer's stage of life: the group's usual age band, partner and children."""
    items = []
    n = len(features)
    for column in _LIFE_STAGE_COLUMNS:
        if column not in features or n == 0:
            continue
        counts = level_counts(features[column].astype("object").map(str, na_action="ignore"))
        if counts.empty:
            continue
        top = _share_text(counts, n, 1)[0]
        if top["share"] < MIN_LEVEL_SHARE:
            continue
        phrase = describe_level(column, top["value"])
        items.append({**top, "attribute": column, **_said(phrase, f"{top['count']} of {n} customers")})
    return items


def hour_text(hour: Any) -> str:
    """An hour of the day as ``07:00`` (text that is not a whole hour is returned as it is)."""
    try:
        return f"{int(float(hour)):02d}:00"
    except (TypeError, ValueError):
        return str(hour)


def format_value(value: float, kind: str) -> str:
    """Format a behaviour number for reading: money with separators, shares as percent."""
    if kind == "share":
        return f"{value:.0%}"
    if kind == "money":
        return f"{value:,.0f}"
    if kind == "price":
        return f"{value:,.2f}"
    return f"{value:,.1f}"


def _behaviour(features: pd.DataFrame, profile: str = "b2b") -> list[dict]:
    items = []
    noun = words(profile)["accounts"]
    for column, label, kind in BEHAVIOUR_COLUMNS:
        label = behaviour_label(column, label, profile)
        if column not in features or column not in PERSONA_BEHAVIOUR:
            continue
        values = pd.to_numeric(features[column], errors="coerce").dropna()
        if values.empty:
            continue
        median = float(values.median())
        items.append(
            {
                "attribute": column,
                "value": median,
                "count": int(len(values)),
                **_said(f"{label}: {format_value(median, kind)}", f"median of {len(values)} {noun}"),
            }
        )
    return items


def _preferences(features: pd.DataFrame, noun: str = "accounts") -> list[dict]:
    items = []
    for column, label in _PREFERENCE_COLUMNS:
        if column not in features:
            continue
        counts = level_counts(features[column])
        if counts.empty:
            continue
        top = _share_text(counts, int(counts.sum()), 1)[0]
        shown = hour_text(top["value"]) if column == "preferred_hour" else top["value"]
        items.append(
            {
                **top,
                "attribute": column,
                **_said(f"{label} {shown}", f"{top['count']} of {int(counts.sum())} {noun}"),
            }
        )
    return items


def _role(contacts: pd.DataFrame | None, n_limit: int) -> list[dict]:
    if contacts is None or contacts.empty:
        return []
    items = []
    for column, nice in (("job_role", "role"), ("seniority", "seniority")):
        if column not in contacts:
            continue
        counts = level_counts(contacts[column])
        if counts.empty:
            continue
        total = int(counts.sum())
        for entry in _share_text(counts, total, 1 if column == "seniority" else n_limit):
            items.append(
                {
                    **entry,
                    "attribute": column,
                    **_said(f"{nice}: {entry['value']}", f"{entry['count']} of {total} contacts"),
                }
            )
    return items


def _touchpoints(
    accounts: pd.Series, leads: pd.DataFrame | None, activities: pd.DataFrame | None, limit: int
) -> list[dict]:
    if leads is None or activities is None or "account_id" not in leads or activities.empty:
        return []
    lead_ids = leads.loc[isin(leads["account_id"], accounts), "lead_id"]
    events = activities[isin(activities["lead_id"], lead_ids)]
    if events.empty:
        return []
    counts = level_counts(events["activity"])
    total = int(counts.sum())
    return [
        {
            **entry,
            **_said(entry["value"].replace("_", " "), f"{entry['count']} of {total} recorded activities"),
        }
        for entry in _share_text(counts, total, limit)
    ]


def _examples(members: pd.DataFrame, names: Mapping | None, limit: int) -> list[dict]:
    if members.empty:
        return []
    order = members
    if "value_score" in members:
        scores = members["value_score"].to_numpy(dtype=float, na_value=np.nan)
        known = ~np.isnan(scores)
        if known.sum() > limit:
            # only the accounts that can be among the first: in the 1M benchmark a group holds 492,000
            cut = np.partition(scores[known], -limit)[-limit]
            order = members[known & (scores >= cut)]
        order = order.sort_values(["value_score", "account_id"], ascending=[False, True])
    items = []
    for account_id in order["account_id"].head(limit):
        name = None if names is None else names.get(account_id)
        label = str(name) if name is not None and not pd.isna(name) else str(account_id)
        items.append({"account_id": str(account_id), "value": label, **_said(label, "")})
    return items


def _persona(
    *,
    key: str,
    kind: str,
    label: str,
    description: str | None,
    members: pd.DataFrame,
    contacts: pd.DataFrame | None,
    coded: pd.DataFrame | None,
    coded_accounts: Iterable | None,
    best_ids: pd.Series,
    leads: pd.DataFrame | None,
    activities: pd.DataFrame | None,
    names: Mapping | None,
    limit: int,
    profile: str = "b2b",
) -> dict:
    ids = members["account_id"]
    preferred = best_ids
    if coded is not None and not coded.empty:
        # narrowed to the persona's answers once, not again for every field
        coded = coded[isin(coded["account_id"], ids if coded_accounts is None else coded_accounts)]
        preferred = coded["account_id"][isin(coded["account_id"], best_ids)]

    def codes(*prefixes: str) -> list[dict]:
        return code_mentions(coded, prefix=prefixes, preferred=preferred, limit=limit,
                             noun=words(profile)["accounts"])

    prefix = CODE_PREFIXES
    needs = codes(prefix["need_met"]) + _preferences(members, words(profile)["accounts"])
    best_share = float(isin(members["account_id"], best_ids).mean()) if len(members) else 0.0
    return {
        "id": key,
        "kind": kind,
        "label": label,
        "description": description or NO_EVIDENCE,
        "size": int(len(members)),
        "best_share": best_share,
        "role": (
            field(_role(contacts, limit), source="contacts")
            if contacts is not None and not contacts.empty or not _is_consumer(members)
            else field(_life_stage(members), source="features.parquet")
        ),
        "firmographics": field(
            _firmographics(members, contacts, words(profile)["accounts"]), source="features.parquet"
        ),
        "goals": field(codes(prefix["purchase_reason"], prefix["reason_to_stay"]), source="coded_answers.parquet"),
        "pains": field(codes(prefix["pain_point"]), source="coded_answers.parquet"),
        "buying_behaviour": field(_behaviour(members, profile), source="features.parquet"),
        "needs": field(needs, source="coded_answers.parquet, features.parquet"),
        "channels": field(codes(prefix["discovery_channel"]), source="coded_answers.parquet"),
        "touchpoints": field(_touchpoints(ids, leads, activities, limit), source="leads, activities"),
        "competitors": field(codes(prefix["competitor"]), source="coded_answers.parquet"),
        "examples": field(_examples(members, names, limit), source="best_customers.parquet"),
    }


def _is_consumer(members: pd.DataFrame) -> bool:
    return bool(set(members.columns) & set(_LIFE_STAGE_COLUMNS)) and "industry" not in members


def _narrow(frame: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame | None:
    """``frame`` with only those of ``columns`` it has (None stays None)."""
    return None if frame is None else frame[[c for c in columns if c in frame.columns]]


def _auto_label(members: pd.DataFrame, fallback: str) -> str:
    parts = []
    for column in ("industry", "employees_band", "country"):
        if column in members and members[column].notna().any():
            parts.append(str(level_counts(members[column]).index[0]))
    return " · ".join(parts) if parts else fallback


def _main_roles(contacts: pd.DataFrame, accounts: pd.Series, *, min_share: float, limit: int) -> list[str]:
    if "job_role" not in contacts:
        return []
    roles = contacts.loc[isin(contacts["account_id"], accounts), "job_role"].dropna().astype(str)
    if roles.empty:
        return []
    shares = level_counts(roles) / len(roles)
    return [str(r) for r, s in shares.items() if s >= min_share][:limit]


def _role_personas(
    table: pd.DataFrame,
    *,
    contacts: pd.DataFrame,
    best_ids: pd.Series,
    coded: pd.DataFrame | None,
    interviews: pd.DataFrame | None,
    leads: pd.DataFrame | None,
    activities: pd.DataFrame | None,
    names: Mapping | None,
    limit: int,
    role_min_share: float,
    max_roles: int,
    profile: str,
) -> list[dict]:
    """The role personas of :func:`build_personas`: one per main contact role of the best customers."""
    personas = []
    anchor = best_ids if len(best_ids) else table["account_id"]
    for role in _main_roles(contacts, anchor, min_share=role_min_share, limit=max_roles):
        role_contacts = contacts[
            isin(contacts["account_id"], anchor) & (contacts["job_role"].astype(str) == role)
        ]
        members = table[isin(table["account_id"], role_contacts["account_id"])]
        coded_accounts = None
        role_coded = coded
        if (
            coded is not None
            and interviews is not None
            and "interviewee_role" in interviews
            and "interview_id" in coded
        ):
            said = interviews.loc[
                interviews["interviewee_role"].astype(str).str.casefold() == role.casefold(),
                "interview_id",
            ]
            if len(said):
                role_coded = coded[isin(coded["interview_id"], said)]
                coded_accounts = role_coded["account_id"]
        personas.append(
            _persona(
                key=f"role-{re.sub(r'[^a-z0-9]+', '-', role.casefold()).strip('-')}",
                kind="role",
                label=f"Role: {role}",
                description=(
                    f"contacts with the role {role} at {members['account_id'].nunique()} "
                    f"{'best-customer ' if len(best_ids) else ''}accounts"
                ),
                members=members,
                contacts=role_contacts,
                coded=role_coded,
                coded_accounts=coded_accounts,
                best_ids=best_ids,
                leads=leads,
                activities=activities,
                names=names,
                limit=limit,
                profile=profile,
            )
        )
    return personas


def build_personas(
    groups: pd.DataFrame,
    *,
    features: pd.DataFrame,
    best: pd.DataFrame | None = None,
    coded: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
    interviews: pd.DataFrame | None = None,
    leads: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
    group_info: Any = None,
    names: Mapping | None = None,
    limit: int = 3,
    role_min_share: float = 0.15,
    max_roles: int = 3,
    kind: str | None = None,
) -> list[dict]:
    """One persona per customer group and one per main contact role of the best customers.

    Parameters
    ----------
    groups : DataFrame
        ``groups.parquet``: ``account_id``, ``group``.
    features : DataFrame
        ``features.parquet``: one row per account with firmographic and behaviour columns.
    best : DataFrame, optional
        ``best_customers.parquet`` (``account_id``, ``value_score``, ``is_best``);
        orders example customers and picks quotes from best customers first.
    coded : DataFrame, optional
        ``coded_answers.parquet`` (redacted answers with codes).
    contacts : DataFrame, optional
        Contacts (``account_id``, ``job_role``, ``seniority``, ``age``, ``gender``).
    interviews : DataFrame, optional
        Interviews with ``interviewee_role``: a role persona quotes the
        interviews with people in that role when there are any.
    leads, activities : DataFrame, optional
        Leads with ``account_id`` and their activity log, for touchpoints.
    group_info : list or dict, optional
        ``groups.json``: per group a description (and name/label) from step 1.
    names : mapping, optional
        ``account_id`` -> account name for example customers.
    limit : int
        Statements per field.
    role_min_share, max_roles : float, int
        A contact role gets its own persona when at least this share of the
        best customers' contacts hold it (at most ``max_roles`` roles).
    kind : str, optional
        The profile kind (``b2b`` or ``b2c``) the wording follows; inferred
        from the feature columns when omitted.

    Returns
    -------
    list of dict
        Group personas (``kind="group"``) ordered by best-customer share,
        then role personas (``kind="role"``). Every field in
        :data:`PERSONA_FIELDS` is ``{"status", "source", "items"}`` with
        ``status == "no evidence"`` when it has no items.
    """
    # only the columns a persona reads: every group and role subset then takes a few
    # columns, not the whole feature table (a million accounts, forty-odd columns)
    read = {
        "account_id", *_FIRMOGRAPHIC_COLUMNS, *PERSONA_BEHAVIOUR, *(c for c, _ in _PREFERENCE_COLUMNS),
        *_LIFE_STAGE_COLUMNS,
    }
    profile = kind or infer_kind(features.columns)
    table = features[[c for c in features.columns if c in read]]
    contacts = _narrow(contacts, ("account_id", "job_role", "seniority", "age", "gender"))
    leads = _narrow(leads, ("lead_id", "account_id"))
    activities = _narrow(activities, ("lead_id", "activity"))
    if best is not None and not best.empty:
        keep = [c for c in ("account_id", "value_score", "is_best") if c in best]
        table = table.drop(columns=[c for c in keep if c != "account_id" and c in table])
        table = table.merge(best[keep], on="account_id", how="left")
    best_ids = table["account_id"].iloc[:0]
    if "is_best" in table:
        best_ids = table.loc[table["is_best"].fillna(False).astype(bool), "account_id"]
    membership = groups[["account_id", "group"]].drop_duplicates("account_id")
    table = table.merge(membership, on="account_id", how="inner")
    info = group_descriptions(group_info)

    personas = []
    for group_id, members in table.groupby("group", sort=True):
        meta = info.get(str(group_id), {})
        member_contacts = None if contacts is None else contacts[isin(contacts["account_id"], members["account_id"])]
        fallback = f"Group {group_id}"
        name = meta.get("name") or meta.get("label") or _auto_label(members, fallback)
        label = name if str(name).lower().startswith("group") else f"{fallback}: {name}"
        personas.append(
            _persona(
                key=f"group-{group_id}",
                kind="group",
                label=str(label),
                description=meta.get("description"),
                members=members,
                contacts=member_contacts,
                coded=coded,
                coded_accounts=None,
                best_ids=best_ids,
                leads=leads,
                activities=activities,
                names=names,
                limit=limit,
                profile=profile,
            )
        )
    personas.sort(key=lambda p: (-p["best_share"], p["id"]))

    if contacts is not None and not contacts.empty:
        personas += _role_personas(
            table, contacts=contacts, best_ids=best_ids, coded=coded, interviews=interviews, leads=leads,
            activities=activities, names=names, limit=limit, role_min_share=role_min_share,
            max_roles=max_roles, profile=profile,
        )
    return personas


def personas_from_run(
    run_dir: str | Path,
    *,
    accounts: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
    interviews: pd.DataFrame | None = None,
    leads: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
    limit: int = 3,
    kind: str | None = None,
) -> list[dict]:
    """:func:`build_personas` on the artifacts of a run folder (steps 1 and 2).

    ``groups.parquet``, ``features.parquet`` and ``best_customers.parquet``
    are required; ``coded_answers.parquet`` and ``groups.json`` are used when
    present. The input tables (accounts for names, contacts, interviews,
    leads, activities) come from :func:`icp_helpers.data.loaders.load_project`.
    """
    folder = Path(run_dir)
    coded_path = folder / "coded_answers.parquet"
    info_path = folder / "groups.json"
    features = read_table(folder, "features.parquet", made_by="01_best_customers")
    source = accounts if accounts is not None and "name" in accounts else features
    names = ColumnMap(source["account_id"], source["name"]) if "name" in source else None
    return build_personas(
        read_table(folder, "groups.parquet", made_by="01_best_customers"),
        features=features,
        best=read_table(folder, "best_customers.parquet", made_by="01_best_customers"),
        coded=pd.read_parquet(coded_path) if coded_path.is_file() else None,
        contacts=contacts,
        interviews=interviews,
        leads=leads,
        activities=activities,
        group_info=read_json(folder, "groups.json") if info_path.is_file() else None,
        names=names,
        limit=limit,
        kind=kind,
    )


def write_personas(personas: list[dict], run_dir: str | Path) -> Path:
    """Write the personas as ``<run_dir>/personas.json``."""
    return write_json(personas, run_dir, "personas.json")


def personas_frame(personas: list[dict], *, per_field: int = 2) -> pd.DataFrame:
    """The personas side by side for reading in a notebook: one row per field, one column per persona."""
    columns = {}
    for persona in personas:
        cells = {"accounts": f"{persona['size']:,} ({persona['best_share']:.0%} best customers)"}
        for key, heading in PERSONA_FIELDS.items():
            items = persona[key]["items"][:per_field]
            cells[heading] = "; ".join(item["text"] for item in items) if items else NO_EVIDENCE
        columns[persona["label"]] = cells
    return pd.DataFrame(columns)
