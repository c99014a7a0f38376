"""The one-page ICP card: priority traits with evidence, pains, behaviour, personas.

:func:`build_card_context` gathers everything the card says from the run
folder, so each statement carries the number or coded quote behind it and the
artifact it came from; a section with nothing behind it says "no evidence".
:func:`render_card` (``card_render.py``) fills a Jinja2 template, the shipped
one in ``icp_helpers/templates/`` or the user's own named in the config
(``templates.card_html``, ``templates.card_markdown``), escaping every value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.artifacts import read_json, read_table
from ..data.config import ProjectConfig
from ..data.frames import ColumnMap, isin
from ..data.wording import behaviour_label, profile_kind
from ..data.wording import words as kind_words
from .card_render import (
    DEFAULT_TEMPLATES,
    SURENESS,
    TIER_MEANINGS,
    TemplateSecurityError,
    _is_missing,
    card_iframe,
    escape_markdown,
    render_card,
    template_for,
    tier_guide,
    write_card,
)
from .personas import (
    BEHAVIOUR_COLUMNS,
    CODE_PREFIXES,
    NO_EVIDENCE,
    code_label,
    code_mentions,
    field,
    format_value,
    hour_text,
    level_counts,
    persona_fields,
)

__all__ = [
    "TemplateSecurityError",
    "DEFAULT_TEMPLATES",
    "SURENESS",
    "TIER_MEANINGS",
    "build_card_context",
    "card_iframe",
    "escape_markdown",
    "render_card",
    "selected_traits",
    "template_for",
    "tier_guide",
    "write_card",
    "step4_record",
]


# -- the context ---------------------------------------------------------------

# Card name -> the evidence-table column it shows (icp_helpers.traits.evidence.EVIDENCE_COLUMNS).
_TRAIT_NUMBERS = {
    "lift": "lift",
    "lift_low": "lift_low",
    "lift_high": "lift_high",
    "coverage": "coverage",
    "best_share": "prevalence_best",
    "rest_share": "prevalence_rest",
    "q": "q_value",
    "stability": "stability",
}


def _trait_entry(trait: Mapping[str, Any]) -> dict:
    """A trait of ``selection.json`` with its evidence numbers (nested under ``evidence`` or flat)."""
    evidence = {**trait, **dict(trait.get("evidence") or {})}
    entry = {
        "id": str(trait["id"]),
        "label": str(trait.get("label") or trait["id"]),
        "kind": trait.get("kind"),
        "points": trait.get("points"),
        "population": evidence.get("population"),
        "reason": trait.get("reason"),
    }
    for name, column in _TRAIT_NUMBERS.items():
        value = evidence.get(column)
        entry[name] = None if _is_missing(value) else float(value)
    return entry


def selected_traits(selection: Mapping[str, Any]) -> list[dict]:
    """The priority traits of ``selection.json`` with normalised evidence numbers.

    The selected who-traits (``selected``) come first, then the selected
    interview codes (``why_traits``); together they are at most ten, as the
    selection rule allows. Each entry carries ``evidence_type`` (``who`` or
    ``why``) and ``scored`` (only who-traits earn points).
    """
    who = selection.get("selected") or selection.get("traits") or []
    why = selection.get("why_traits") or []
    out = []
    for item in [*who, *why]:
        entry = _trait_entry(item)
        entry["evidence_type"] = {"code": "why", "behaviour": "behaviour"}.get(entry["kind"], "who")
        entry["scored"] = entry["evidence_type"] != "why" and entry["points"] is not None
        out.append(entry)
    return out[:10]


def _optional_table(run_dir: Path, name: str) -> pd.DataFrame | None:
    path = run_dir / name
    return pd.read_parquet(path) if path.is_file() else None


def _optional_json(run_dir: Path, name: str) -> Any:
    return read_json(run_dir, name) if (run_dir / name).is_file() else None


def _names(accounts: pd.DataFrame | None) -> Mapping:
    if accounts is None or "name" not in accounts:
        return {}
    return ColumnMap(accounts["account_id"], accounts["name"])


# Shown on screen, left out of the printed page to keep it to one sheet.
_MINOR_BEHAVIOUR = {"spend_min", "spend_max", "won_value", "preferred_hour"}


def _buying(features: pd.DataFrame, best_ids: set, profile: str = "b2b") -> list[dict]:
    """Best customers' median behaviour next to the rest's, from ``features.parquet``."""
    is_best = isin(features["account_id"], best_ids)
    items = []
    for column, label, kind in BEHAVIOUR_COLUMNS:
        if column not in features:
            continue
        values = pd.to_numeric(features[column], errors="coerce")
        best_values, rest_values = values[is_best].dropna(), values[~is_best].dropna()
        if best_values.empty:
            continue
        best_median = float(best_values.median())
        rest_median = float(rest_values.median()) if len(rest_values) else None
        items.append(
            {
                "attribute": column,
                "label": behaviour_label(column, label, profile),
                "minor": column in _MINOR_BEHAVIOUR,
                "best": best_median,
                "rest": rest_median,
                "best_text": format_value(best_median, kind),
                "rest_text": NO_EVIDENCE if rest_median is None else format_value(rest_median, kind),
                "n_best": int(len(best_values)),
            }
        )
    preferences = (
        ("preferred_weekday", "preferred weekday"),
        ("preferred_hour", "preferred hour"),
        ("preferred_daypart", "preferred part of day"),
    )
    for column, label in preferences:
        if column not in features:
            continue
        counts = level_counts(features.loc[is_best, column])
        if counts.empty:
            continue
        rest = level_counts(features.loc[~is_best, column])
        rest_top = str(rest.index[0]) if len(rest) else None
        shown = hour_text if column == "preferred_hour" else str
        items.append(
            {
                "attribute": column,
                "label": behaviour_label(column, label, profile),
                "minor": column in _MINOR_BEHAVIOUR,
                "best": str(counts.index[0]),
                "rest": rest_top,
                "best_text": f"{shown(counts.index[0])} ({int(counts.iloc[0])} of {int(counts.sum())})",
                "rest_text": shown(rest_top) if rest_top is not None else NO_EVIDENCE,
                "n_best": int(counts.sum()),
            }
        )
    return items


def _disqualifiers(negative: pd.DataFrame | None, selection: Mapping, limit: int = 5) -> list[dict]:
    """The negative ICP: traits selected for the churned / mostly-lost cohort, strongest first.

    ``negative_icp.parquet`` holds the whole evidence table of the negative
    cohort; its ``disqualifier`` column marks the selected ones. Without the
    table, the list in ``selection.json`` (``negative_icp``) is used.
    """
    if negative is not None and not negative.empty:
        rows = negative
        if "disqualifier" in rows:
            rows = rows[rows["disqualifier"].fillna(False).astype(bool)]
        order = "rank" if "rank" in rows else "lift"
        rows = rows.sort_values(order, ascending=order == "rank")
        records = rows.to_dict(orient="records")
    else:
        records = list(selection.get("negative_icp") or [])
    items = []
    for row in records[:limit]:
        key = row.get("trait", row.get("id"))
        label = row.get("label")
        entry = {"id": str(key), "label": str(key if _is_missing(label) else label)}
        for column in ("lift", "lift_low", "lift_high", "coverage", "q_value", "reason"):
            value = row.get(column)
            if value is not None and not _is_missing(value):
                entry[column] = value if isinstance(value, str) else float(value)
        items.append(entry)
    return items


def _weaker_fit(selection: Mapping, limit: int, *, listed: Iterable[str] = ()) -> list[dict]:
    """Who-traits clearly rarer among the best customers than among the rest, strongest first.

    Traits already on the card as warning signs (``listed``) are not repeated.
    """
    items = []
    listed = set(listed)
    rows = sorted(
        (r for r in selection.get("weaker_fit") or [] if str(r["id"]) not in listed),
        key=lambda r: r.get("lift", 1.0),
    )
    for row in rows[:limit]:
        entry = {"id": str(row["id"]), "label": str(row.get("label") or row["id"])}
        for column in ("lift", "lift_low", "lift_high", "q_value", "points", "reason"):
            value = row.get(column)
            if value is not None and not _is_missing(value):
                entry[column] = value if isinstance(value, str) else float(value)
        items.append(entry)
    return items


def _behaviour_traits(selection: Mapping, limit: int) -> list[dict]:
    """Buying-behaviour traits that mark the best customers (shown, never scored).

    Those selected and scored (``traits.score_behaviour``) are among the
    priority traits already, and are not repeated here as "not scored".
    """
    items = []
    scored = {str(t.get("id")) for t in selection.get("selected") or []}
    rows = [r for r in selection.get("buying_behaviour") or [] if str(r.get("id")) not in scored]
    for row in rows[:limit]:
        items.append(
            {
                "id": str(row.get("id")),
                "label": str(row.get("label") or row.get("id")),
                "lift": None if _is_missing(row.get("lift")) else float(row["lift"]),
                "coverage": None if _is_missing(row.get("coverage")) else float(row["coverage"]),
            }
        )
    return items


#: Characters of a name shown on the card; a name pasted with a whole document must not break the page.
_MAX_NAME = 120


def _short(value: Any, limit: int = _MAX_NAME) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


#: Who-columns shown beside an example customer, in order of preference, per profile kind.
_EXAMPLE_COLUMNS = {
    "b2b": (("industry", "Industry"), ("country", "Country")),
    "b2c": (("age_band", "Age"), ("gender", "Gender"), ("income_band", "Income"),
            ("marital_status", "Marital status"), ("country", "Country"), ("city", "City")),
}


def _example_columns(features: pd.DataFrame, kind: str) -> list[dict]:
    """The two or three who-columns the example customers table shows."""
    if kind != "b2c":
        return [{"key": k, "heading": h} for k, h in _EXAMPLE_COLUMNS["b2b"]]
    present = [(k, h) for k, h in _EXAMPLE_COLUMNS["b2c"] if k in features and features[k].notna().any()]
    return [{"key": k, "heading": h} for k, h in present[:3]]


def _examples(scored: pd.DataFrame | None, best_ids: set, names: Mapping, limit: int,
              *, features: pd.DataFrame | None = None, columns: list[dict] | None = None) -> list[dict]:
    if scored is None or scored.empty or "fit_score" not in scored:
        return []
    pool = scored[isin(scored["account_id"], best_ids)] if best_ids else scored
    # an account with no ICP trait matches nothing: it is no example of the profile
    pool = pool[pd.to_numeric(pool["fit_score"], errors="coerce") > 0]
    pool = pool.sort_values(["fit_score", "account_id"], ascending=[False, True])
    items, seen = [], set()
    for _, row in pool.iterrows():
        if len(items) >= limit:
            break
        # two accounts of one name (branches, a re-created record) are one example to a reader
        shown = names.get(row["account_id"])
        key = str(shown).strip().casefold() if shown is not None and not _is_missing(shown) else row["account_id"]
        if key in seen:
            continue
        seen.add(key)
        matched = row.get("matched_traits")
        if isinstance(matched, str):
            matched = [m for m in matched.split("; ") if m]
        name = names.get(row["account_id"])
        items.append(
            {
                "account_id": str(row["account_id"]),
                "name": _short(name) if name is not None and not _is_missing(name) else str(row["account_id"]),
                "industry": None if _is_missing(row.get("industry")) else str(row.get("industry")),
                "country": None if _is_missing(row.get("country")) else str(row.get("country")),
                "fit_score": float(row["fit_score"]),
                "tier": str(row.get("tier", "")),
                "matched": [str(m) for m in (matched if matched is not None else [])],
            }
        )
    if features is not None and columns and items:
        extra = [c["key"] for c in columns if c["key"] in features and c["key"] not in ("industry", "country")]
        if extra:
            lookup = features.set_index("account_id")[extra]
            for item in items:
                if item["account_id"] in lookup.index:
                    row = lookup.loc[item["account_id"]]
                    for key in extra:
                        item[key] = None if _is_missing(row[key]) else str(row[key])
    return items


def _distinct_items(persona: Mapping[str, Any]) -> dict:
    """A persona whose lists name each entry once (two accounts of one name are one example)."""
    out = dict(persona)
    for key, value in persona.items():
        if isinstance(value, Mapping) and isinstance(value.get("items"), list):
            seen, items = set(), []
            for item in value["items"]:
                text = item.get("short") if isinstance(item, Mapping) else item
                marker = str(text).strip().casefold()
                if marker not in seen:
                    seen.add(marker)
                    items.append(item)
            out[key] = {**value, "items": items}
    return out


def _input_rows(run_dir: Path) -> dict[str, dict]:
    """Per input table: files and reconciled row counts from ``quarantine/summary.csv``."""
    path = run_dir / "quarantine" / "summary.csv"
    if not path.is_file():
        return {}
    summary = pd.read_csv(path, dtype={"table": str, "files": str})
    out = {}
    for _, row in summary.iterrows():
        counts = {}
        for column in ("rows_read", "rows_used", "rows_quarantined"):
            if column in row and not _is_missing(row[column]):
                counts[column] = int(row[column])
        files = [] if _is_missing(row.get("files")) else [f.strip() for f in str(row["files"]).split("|")]
        out[str(row["table"])] = {"files": [Path(f).name for f in files if f], **counts}
    return out


def _provenance(
    run_dir: Path, config: ProjectConfig, quarter: str, artifacts: dict[str, int], today: dt.date
) -> dict:
    loaded = _input_rows(run_dir)
    inputs = []
    for table in config.inputs:
        entry = loaded.get(table, {})
        inputs.append(
            {
                "table": table,
                "files": entry.get("files") or [p.name for p in config.input_paths(table)],
                "rows": entry.get("rows_used"),
                "rows_read": entry.get("rows_read"),
                "rows_quarantined": entry.get("rows_quarantined"),
            }
        )
    if loaded:
        artifacts = {**artifacts, "quarantine/summary.csv": len(loaded)}
    return {
        "project": config.name,
        "quarter": quarter,
        "generated": today.isoformat(),
        "run_folder": run_dir.name,
        "artifacts": [{"name": k, "rows": v} for k, v in artifacts.items()],
        "inputs": inputs,
    }


def _why_traits(selection: Mapping, coded: pd.DataFrame | None, best_ids: set) -> list[dict]:
    """The selected interview codes, each with a quote of a best customer when there is one."""
    why = []
    for item in selection.get("why_traits") or []:
        code = str(item["id"])
        said = None if coded is None else coded[coded["code"] == code]
        quote = code_mentions(said, prefix=code, preferred=best_ids, limit=1)
        why.append(
            {
                **_trait_entry(item),
                "label": str(item.get("label") or code_label(code)),
                "quote": quote[0]["quote"] if quote else None,
                "quote_account": quote[0]["quote_account"] if quote else None,
            }
        )
    return why


def build_card_context(
    run_dir: str | Path,
    config: ProjectConfig,
    *,
    scored_accounts: pd.DataFrame | None = None,
    personas: list[dict] | None = None,
    accounts: pd.DataFrame | None = None,
    max_items: int = 5,
    today: dt.date | None = None,
) -> dict:
    """Gather what the ICP card says from the run folder.

    Parameters
    ----------
    run_dir : str or Path
        The run folder with the artifacts of steps 1-3.
    config : ProjectConfig
        The project config (name, input files for provenance).
    scored_accounts : DataFrame, optional
        ``account_id``, ``fit_score``, ``tier``, ``matched_traits`` for the
        example customers; without it the card says "no evidence" there.
    personas : list of dict, optional
        From :func:`icp_helpers.profile.personas.build_personas`, shown on the card.
    accounts : DataFrame, optional
        The accounts table, for account names (default: the ``name`` column
        of ``features.parquet`` when there is one).
    max_items : int
        Entries per list section.
    today : date, optional
        The date printed in the provenance (default: today).

    Returns
    -------
    dict
        Template variables. Each section is ``{"status", "source", "items"}``
        with ``status == "no evidence"`` when empty; trait entries carry the
        numbers of ``selection.json`` unchanged.
    """
    folder = Path(run_dir)
    selection = read_json(folder, "selection.json", made_by="03_select_traits")
    features = read_table(folder, "features.parquet", made_by="01_best_customers")
    best = read_table(folder, "best_customers.parquet", made_by="01_best_customers")
    coded = _optional_table(folder, "coded_answers.parquet")
    negative = _optional_table(folder, "negative_icp.parquet")
    step1 = _optional_json(folder, "step1.json")

    best_ids = set(best.loc[best["is_best"].fillna(False).astype(bool), "account_id"])
    names = _names(accounts if accounts is not None else features)
    kind = profile_kind(config, columns=features.columns)
    example_columns = _example_columns(features, kind)
    artifacts = {
        "selection.json": len(selected_traits(selection)),
        "features.parquet": len(features),
        "best_customers.parquet": len(best),
    }
    if coded is not None:
        artifacts["coded_answers.parquet"] = len(coded)
    if negative is not None:
        artifacts["negative_icp.parquet"] = len(negative)

    def mentions(prefix: str) -> list[dict]:
        return code_mentions(coded, prefix=prefix, preferred=best_ids, limit=max_items,
                             noun=kind_words(kind)["accounts"])

    why = _why_traits(selection, coded, best_ids)
    insufficient = [
        {"id": str(item["id"]), "label": str(item.get("label") or item["id"])}
        for item in selection.get("insufficient_evidence") or []
    ]
    step1_quarter = step1.get("quarter") if isinstance(step1, Mapping) else None
    quarter = str(selection.get("quarter") or step1_quarter or folder.name)
    # without a selected trait every account scores 0: there are no tiers to explain
    tiers = dict((selection.get("tier_cutoffs") or {}) if selection.get("selected") else {})
    if "A" in tiers and "B" in tiers and tiers["B"] >= tiers["A"]:
        tiers.pop("B")  # equal cut-offs: B would hold nobody, so the card shows A and C
    traits = selected_traits(selection)
    # penalties (negative points) lower a score but never raise the top of the scale
    points_max = sum(max(float(t["points"]), 0.0) for t in traits if t["scored"]) if tiers else None
    disqualifiers = _disqualifiers(negative, selection, max_items)
    return {
        "points_max": points_max,
        "tier_guide": tier_guide(tiers, points_max),
        "title": "Ideal Customer Profile",
        "project": config.name,
        "quarter": quarter,
        "no_evidence": NO_EVIDENCE,
        "n_accounts": int(len(features)),
        "n_best": int(len(best_ids)),
        "tiers": dict(tiers),
        "n_tiers": len(tiers) + 1 if tiers else 1,
        "traits": field(traits, source="selection.json"),
        "why": field(why, source="selection.json, coded_answers.parquet"),
        "insufficient": field(insufficient, source="selection.json"),
        "pains": field(mentions(CODE_PREFIXES["pain_point"]), source="coded_answers.parquet"),
        "needs": field(mentions(CODE_PREFIXES["need_met"]), source="coded_answers.parquet"),
        "buying": field(_buying(features, best_ids, kind), source="features.parquet, best_customers.parquet"),
        "behaviour_traits": field(_behaviour_traits(selection, max_items), source="selection.json"),
        "channels": field(mentions(CODE_PREFIXES["discovery_channel"]), source="coded_answers.parquet"),
        "examples": field(
            _examples(scored_accounts, best_ids, names, max_items, features=features,
                      columns=example_columns),
            source="scored_accounts.csv",
        ),
        "disqualifiers": field(disqualifiers, source="negative_icp.parquet"),
        "weaker_fit": field(
            _weaker_fit(selection, max_items, listed=(d["id"] for d in disqualifiers)),
            source="selection.json",
        ),
        "personas": [_distinct_items(p) for p in personas or []],
        "persona_fields": persona_fields(kind),
        "profile_kind": kind,
        "words": kind_words(kind),
        "example_columns": example_columns,
        "provenance": _provenance(folder, config, quarter, artifacts, today or dt.date.today()),
    }


def _tier_rows(summary: pd.DataFrame) -> list[dict]:
    return [{"tier": tier, **row} for tier, row in summary.to_dict(orient="index").items()]


def step4_record(
    context: Mapping[str, Any],
    *,
    scored_accounts: pd.DataFrame,
    scored_prospects: pd.DataFrame,
    in_sample: pd.DataFrame,
    held_out: pd.DataFrame | None = None,
    held_out_info: Mapping[str, Any] | None = None,
    page: Any = None,
    files: Mapping[str, Path] | None = None,
) -> dict:
    """The content of ``step4.json``: what the card shows and how the tiers did.

    Parameters
    ----------
    context : mapping
        The card context.
    scored_accounts, scored_prospects : DataFrame
        The exports.
    in_sample : DataFrame
        :func:`icp_helpers.profile.export.tier_summary` against this quarter's best customers.
    held_out : DataFrame, optional
        The same against the best customers of the quarters after the
        selection quarter (:func:`icp_helpers.traits.validation.read_held_out`).
    held_out_info : mapping, optional
        The held-out run's ``attrs`` (selection and test quarters, traits, cut-offs).
    page : PageReport, optional
        The browser check of the card.
    files : mapping, optional
        Name -> path of the files written (stored by file name).
    """
    record = {
        "quarter": context["quarter"],
        "tier_cutoffs": dict(context.get("tiers") or {}),
        "card_traits": [t["id"] for t in context["traits"]["items"]],
        "no_evidence_sections": sorted(
            k for k, v in context.items() if isinstance(v, Mapping) and v.get("status") == NO_EVIDENCE
        ),
        "personas": [p["id"] for p in context.get("personas") or []],
        "accounts": int(len(scored_accounts)),
        "prospects": int(len(scored_prospects)),
        "account_tiers": scored_accounts["tier"].value_counts().to_dict(),
        "prospect_tiers": scored_prospects["tier"].value_counts().to_dict() if len(scored_prospects) else {},
        "in_sample": _tier_rows(in_sample),
        "files": sorted(Path(p).name for p in (files or {}).values()),
    }
    if held_out is not None:
        record["held_out"] = {**dict(held_out_info or {}), "tiers": _tier_rows(held_out)}
    if page is not None:
        record["browser"] = {
            "ok": bool(page.ok),
            "console_errors": list(page.console_errors),
            "page_errors": list(page.page_errors),
            "failed_requests": list(page.failed_requests),
            "dialogs": list(page.dialogs),
            "screenshot": page.screenshot.name if page.screenshot else None,
        }
    return record
