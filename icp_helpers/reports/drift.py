"""Quarter-over-quarter drift: how the ICP and its scores moved between two runs.

Two quarters' run folders are compared artifact by artifact: the traits that
entered or left the ICP and how their lifts moved (``selection.json``,
``evidence.parquet``), the accounts that changed tier (``scored_accounts.csv``),
how much customer-group membership shifted (adjusted Rand index on the accounts
both quarters grouped, ``groups.parquet``) and which persona statements changed
(``personas.json``). A missing artifact does not stop the comparison: that part
is skipped with a message naming the file and the notebook that writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.artifacts import LAB_DIR, resolve_run, write_json, write_table
from ..data.quarters import Quarter

__all__ = [
    "TIER_ORDER",
    "DriftPaths",
    "QuarterArtifacts",
    "DriftReport",
    "resolve_drift",
    "load_quarter",
    "selected_ids",
    "trait_changes",
    "tier_changes",
    "tier_transitions",
    "group_shift",
    "persona_changes",
    "quarter_drift",
    "write_drift",
    "plot_trait_lifts",
]

#: Tiers from best to worst; a move to the left is an upgrade.
TIER_ORDER = ("A", "B", "C")

# Which notebook writes each artifact, for the missing-artifact messages.
_MADE_BY = {
    "selection.json": "03_select_traits",
    "evidence.parquet": "03_select_traits",
    "scored_accounts.csv": "04_icp_template",
    "groups.parquet": "01_best_customers",
    "personas.json": "04_icp_template",
}
_SCORE_COLUMNS = ("fit_score", "icp_score", "score")
_ABSENT = "absent"


@dataclass(frozen=True)
class DriftPaths:
    """The two run folders to compare and where the comparison goes."""

    config_path: str
    from_quarter: str
    to_quarter: str
    from_dir: Path
    to_dir: Path
    out_dir: Path


def resolve_drift(
    config_path: str = "",
    from_quarter: str = "",
    to_quarter: str = "",
    reports_dir: str = "",
    out_dir: str = "",
) -> DriftPaths:
    """Turn the drift notebook's literal parameters into folders.

    Parameters
    ----------
    config_path : str
        Project config; ``""`` means the sample's ``icp.yml``.
    from_quarter, to_quarter : str
        ``YYYYQn``; ``""`` for ``to_quarter`` means the latest complete quarter,
        and ``""`` for ``from_quarter`` the quarter before ``to_quarter``.
    reports_dir : str
        Folder holding the quarters' run folders; ``""`` means the config's.
    out_dir : str
        Where the drift files go; ``""`` (a run from JupyterLab) means
        ``<reports>/lab/drift/<from>_<to>/``, beside the published drift
        reports that ``icp run`` writes, never over them.
    """
    from ..data.config import load_config

    config = load_config(config_path or None)
    if to_quarter:
        to_q = Quarter.parse(to_quarter)
    else:
        from ..data.loaders import latest_quarter  # heavy import, only when needed

        to_q = latest_quarter(config)
    from_q = Quarter.parse(from_quarter) if from_quarter else to_q - 1
    if from_q >= to_q:
        raise ValueError(f"from_quarter {from_q} must come before to_quarter {to_q}")
    reports = Path(reports_dir).resolve() if reports_dir else config.reports_path
    target = Path(out_dir).resolve() if out_dir else reports / LAB_DIR / "drift" / f"{from_q}_{to_q}"
    run = resolve_run(str(config.source), str(to_q), str(target))  # creates the output folder
    return DriftPaths(
        config_path=str(run.config.source),
        from_quarter=str(from_q),
        to_quarter=str(to_q),
        from_dir=reports / str(from_q),
        to_dir=reports / str(to_q),
        out_dir=run.run_dir,
    )


@dataclass
class QuarterArtifacts:
    """The artifacts of one run folder that drift compares; ``None`` where missing."""

    quarter: str
    run_dir: Path
    selection: dict | None = None
    evidence: pd.DataFrame | None = None
    scored: pd.DataFrame | None = None
    groups: pd.DataFrame | None = None
    personas: list[dict] | None = None
    missing: list[str] = field(default_factory=list)


def load_quarter(run_dir: str | Path, *, quarter: str) -> QuarterArtifacts:
    """Read what drift needs from a run folder, noting each missing file.

    A missing file is not an error here: it becomes a message in ``missing``
    naming the file, the folder and the notebook that writes it.
    """
    folder = Path(run_dir)
    out = QuarterArtifacts(quarter=str(quarter), run_dir=folder)
    if not folder.is_dir():
        out.missing.append(
            f"{quarter}: no run folder at {folder}; run `icp run --quarter {quarter}` first"
        )
        return out
    readers = {
        "selection.json": lambda p: json.loads(p.read_text(encoding="utf-8")),
        "evidence.parquet": pd.read_parquet,
        "scored_accounts.csv": lambda p: pd.read_csv(p, dtype={"account_id": str}),
        "groups.parquet": pd.read_parquet,
        "personas.json": lambda p: _persona_list(json.loads(p.read_text(encoding="utf-8"))),
    }
    attributes = {
        "selection.json": "selection",
        "evidence.parquet": "evidence",
        "scored_accounts.csv": "scored",
        "groups.parquet": "groups",
        "personas.json": "personas",
    }
    for name, read in readers.items():
        path = folder / name
        if path.is_file():
            setattr(out, attributes[name], read(path))
        else:
            out.missing.append(
                f"{quarter}: {name} not found in {folder} (written by {_MADE_BY[name]})"
            )
    return out


def _persona_list(data: Any) -> list[dict]:
    if isinstance(data, dict):
        data = data.get("personas", [])
    return [p for p in data if isinstance(p, dict)]


def selected_ids(selection: dict | None) -> dict[str, str]:
    """Trait id -> label of the ICP, in selection order.

    The ``selected`` (or ``traits``) list, then ``why_traits``: interview codes
    chosen to explain the profile are part of it too.
    """
    if not selection:
        return {}
    traits = list(selection.get("selected") or selection.get("traits") or [])
    traits += list(selection.get("why_traits") or [])
    out = {}
    for trait in traits:
        if isinstance(trait, dict):
            tid = str(trait.get("id") or trait.get("trait"))
            out[tid] = str(trait.get("label") or tid)
        else:
            out[str(trait)] = str(trait)
    return out


def _evidence_by_trait(evidence: pd.DataFrame | None) -> pd.DataFrame:
    columns = ["lift", "lift_low", "lift_high", "q_value"]
    if evidence is None or "trait" not in evidence:
        return pd.DataFrame(columns=columns)
    keep = [c for c in columns if c in evidence]
    return evidence.drop_duplicates("trait").set_index("trait")[keep].reindex(columns=columns)


def trait_changes(
    from_selection: dict | None,
    to_selection: dict | None,
    *,
    from_evidence: pd.DataFrame | None = None,
    to_evidence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Traits that entered, left or stayed in the ICP, with their lifts in both quarters.

    Parameters
    ----------
    from_selection, to_selection : dict
        ``selection.json`` of the earlier and the later quarter.
    from_evidence, to_evidence : DataFrame, optional
        ``evidence.parquet`` of each quarter; lifts are looked up by ``trait``
        for every trait, selected or not, so a trait that left still shows
        how its evidence moved.

    Returns
    -------
    DataFrame
        ``trait``, ``label``, ``status`` (``entered``/``left``/``kept``),
        ``lift_from``, ``lift_to``, ``lift_change``, ``q_from``, ``q_to``;
        kept traits first, in the later selection's order.
    """
    before, after = selected_ids(from_selection), selected_ids(to_selection)
    rows = [(t, after[t], "kept") for t in after if t in before]
    rows += [(t, after[t], "entered") for t in after if t not in before]
    rows += [(t, before[t], "left") for t in before if t not in after]
    table = pd.DataFrame(rows, columns=["trait", "label", "status"])
    ev_from, ev_to = _evidence_by_trait(from_evidence), _evidence_by_trait(to_evidence)
    table["lift_from"] = table["trait"].map(ev_from["lift"]).astype(float)
    table["lift_to"] = table["trait"].map(ev_to["lift"]).astype(float)
    table["lift_change"] = table["lift_to"] - table["lift_from"]
    table["q_from"] = table["trait"].map(ev_from["q_value"]).astype(float)
    table["q_to"] = table["trait"].map(ev_to["q_value"]).astype(float)
    return table


def _score_column(scored: pd.DataFrame) -> str | None:
    return next((c for c in _SCORE_COLUMNS if c in scored), None)


def tier_changes(from_scored: pd.DataFrame, to_scored: pd.DataFrame) -> pd.DataFrame:
    """Accounts scored in both quarters whose tier changed.

    Returns
    -------
    DataFrame
        ``account_id``, ``name`` (when exported), ``tier_from``, ``tier_to``,
        ``direction`` (``up`` towards A, ``down`` towards C), and ``score_from``,
        ``score_to`` when the exports carry a fit score; upgrades first.
    """
    for label, frame in (("earlier", from_scored), ("later", to_scored)):
        missing = {"account_id", "tier"} - set(frame.columns)
        if missing:
            raise KeyError(f"scored_accounts.csv of the {label} quarter lacks {sorted(missing)}")
    keep = ["account_id", "tier"]
    score = _score_column(from_scored), _score_column(to_scored)
    left = from_scored[keep + ([score[0]] if score[0] else [])].rename(
        columns={"tier": "tier_from", **({score[0]: "score_from"} if score[0] else {})}
    )
    right_cols = keep + (["name"] if "name" in to_scored else []) + ([score[1]] if score[1] else [])
    right = to_scored[right_cols].rename(
        columns={"tier": "tier_to", **({score[1]: "score_to"} if score[1] else {})}
    )
    both = left.astype({"account_id": str}).merge(right.astype({"account_id": str}), on="account_id")
    changed = both[both["tier_from"].astype(str) != both["tier_to"].astype(str)].copy()
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    before = changed["tier_from"].astype(str).map(rank)
    after = changed["tier_to"].astype(str).map(rank)
    changed["direction"] = np.where(after < before, "up", "down")
    order = ["account_id", "name", "tier_from", "tier_to", "direction", "score_from", "score_to"]
    changed = changed[[c for c in order if c in changed]]
    return changed.sort_values(["direction", "tier_to", "account_id"], ascending=[False, True, True],
                               kind="stable").reset_index(drop=True)


def tier_transitions(from_scored: pd.DataFrame, to_scored: pd.DataFrame) -> pd.DataFrame:
    """Accounts per (earlier tier, later tier); ``absent`` for accounts scored in one quarter only."""
    before = from_scored.astype({"account_id": str}).set_index("account_id")["tier"].astype(str)
    after = to_scored.astype({"account_id": str}).set_index("account_id")["tier"].astype(str)
    accounts = before.index.union(after.index)
    frame = pd.DataFrame(
        {
            "tier_from": before.reindex(accounts).fillna(_ABSENT),
            "tier_to": after.reindex(accounts).fillna(_ABSENT),
        }
    )
    levels = [t for t in TIER_ORDER if t in set(frame.stack())]
    levels += sorted(set(frame.stack()) - set(levels) - {_ABSENT}) + [_ABSENT]
    table = pd.crosstab(frame["tier_from"], frame["tier_to"])
    return table.reindex(index=levels, columns=levels, fill_value=0).rename_axis(
        index="tier_from", columns="tier_to"
    )


def group_shift(from_groups: pd.DataFrame, to_groups: pd.DataFrame) -> dict[str, Any]:
    """How much customer-group membership moved between two quarters.

    Group numbers are arbitrary per run, so membership is compared with the
    adjusted Rand index on the accounts both quarters grouped (1 = the same
    partition, about 0 = no more alike than chance), and each earlier group is
    matched to the later group it shares most accounts with (Hungarian
    assignment on the overlap table).

    Returns
    -------
    dict
        ``n_common``, ``ari`` (None with fewer than two common accounts),
        ``n_groups_from``, ``n_groups_to``, ``matching`` {earlier group: later
        group}, ``crosstab`` (DataFrame of common accounts per pair of groups).
    """
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import adjusted_rand_score

    a = from_groups.astype({"account_id": str}).drop_duplicates("account_id").set_index("account_id")["group"]
    b = to_groups.astype({"account_id": str}).drop_duplicates("account_id").set_index("account_id")["group"]
    common = a.index.intersection(b.index)
    a, b = a.loc[common].astype(str), b.loc[common].astype(str)
    crosstab = pd.crosstab(a.rename("group_from"), b.rename("group_to"))
    matching: dict[str, str] = {}
    if crosstab.size:
        rows, cols = linear_sum_assignment(-crosstab.to_numpy())
        matching = {str(crosstab.index[r]): str(crosstab.columns[c]) for r, c in zip(rows, cols, strict=True)}
    return {
        "n_common": int(len(common)),
        "ari": float(adjusted_rand_score(a, b)) if len(common) >= 2 else None,
        "n_groups_from": int(from_groups["group"].nunique()),
        "n_groups_to": int(to_groups["group"].nunique()),
        "matching": matching,
        "crosstab": crosstab,
    }


def _statements(value: Any) -> str:
    """A persona field as comparable text: its items' texts joined, or the value itself."""
    if isinstance(value, dict) and "items" in value:
        items = value.get("items") or []
        texts = [str(i.get("text") or i.get("value") or i) if isinstance(i, dict) else str(i) for i in items]
        return "; ".join(texts) if texts else str(value.get("status") or "")
    if isinstance(value, list):
        return "; ".join(_statements(v) for v in value)
    return "" if value is None else str(value)


def persona_changes(
    from_personas: list[dict],
    to_personas: list[dict],
    *,
    group_matching: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Persona fields whose statements differ between two quarters.

    Personas are matched by ``id``; a group persona (``group-<n>``) of the
    earlier quarter is matched to the later group it shares most accounts with
    when ``group_matching`` (from :func:`group_shift`) is given, because group
    numbers are not stable between runs.

    Returns
    -------
    DataFrame
        ``persona``, ``label``, ``field``, ``change`` (``changed``/``added``/
        ``removed``), ``before``, ``after``.
    """
    from ..profile.personas import PERSONA_FIELDS

    fields = ["label", "description", *PERSONA_FIELDS]

    def key(persona: dict, *, earlier: bool) -> str:
        pid = str(persona.get("id") or persona.get("label"))
        if earlier and group_matching and pid.startswith("group-"):
            mapped = group_matching.get(pid.removeprefix("group-"))
            return f"group-{mapped}" if mapped is not None else f"{pid} (unmatched)"
        return pid

    before = {key(p, earlier=True): p for p in from_personas}
    after = {key(p, earlier=False): p for p in to_personas}
    rows = []
    for pid in list(after) + [p for p in before if p not in after]:
        old, new = before.get(pid), after.get(pid)
        label = str((new or old).get("label", pid))
        if old is None or new is None:
            rows.append((pid, label, "(persona)", "added" if old is None else "removed",
                         "" if old is None else label, "" if new is None else label))
            continue
        for name in fields:
            was, now = _statements(old.get(name)), _statements(new.get(name))
            if was != now:
                rows.append((pid, label, name, "changed", was, now))
    return pd.DataFrame(rows, columns=["persona", "label", "field", "change", "before", "after"])


@dataclass
class DriftReport:
    """Everything :func:`quarter_drift` found; a part is ``None`` when its inputs are missing."""

    from_quarter: str
    to_quarter: str
    traits: pd.DataFrame | None = None
    tiers: pd.DataFrame | None = None
    transitions: pd.DataFrame | None = None
    groups: dict[str, Any] | None = None
    personas: pd.DataFrame | None = None
    missing: list[str] = field(default_factory=list)

    def explain(self) -> str:
        """Which parts were compared and, for each skipped part, which input is missing."""
        parts = {
            "traits": (self.traits, ("selection.json", "evidence.parquet")),
            "tiers": (self.tiers, ("scored_accounts.csv",)),
            "groups": (self.groups, ("groups.parquet",)),
            "personas": (self.personas, ("personas.json",)),
        }
        lines = [f"Comparing {self.from_quarter} with {self.to_quarter}."]
        for part, (value, files) in parts.items():
            if value is not None:
                lines.append(f"- {part}: compared")
                continue
            why = [m for m in self.missing if any(f in m for f in files) or "no run folder" in m]
            lines.append(f"- {part}: skipped")
            lines += [f"    {m}" for m in why]
        return "\n".join(lines)

    def group_summary(self) -> pd.DataFrame | None:
        """Adjusted Rand index and group counts as a two-column table."""
        if self.groups is None:
            return None
        keys = ("n_common", "ari", "n_groups_from", "n_groups_to")
        labels = (
            "accounts grouped in both quarters",
            "adjusted Rand index (1 = same groups)",
            f"groups in {self.from_quarter}",
            f"groups in {self.to_quarter}",
        )
        return pd.DataFrame({"measure": labels, "value": [self.groups[k] for k in keys]})

    def group_overlap(self) -> pd.DataFrame | None:
        """Accounts per (earlier group, later group) among the accounts grouped in both."""
        return None if self.groups is None else self.groups["crosstab"]

    def summary(self) -> dict[str, Any]:
        """Headline counts for ``drift.json`` and the report text."""
        out: dict[str, Any] = {"from_quarter": self.from_quarter, "to_quarter": self.to_quarter}
        if self.traits is not None:
            for status in ("entered", "left", "kept"):
                out[f"traits_{status}"] = self.traits.loc[self.traits["status"] == status, "trait"].tolist()
        if self.tiers is not None:
            out["accounts_changed_tier"] = int(len(self.tiers))
            out["accounts_up"] = int((self.tiers["direction"] == "up").sum())
            out["accounts_down"] = int((self.tiers["direction"] == "down").sum())
        if self.groups is not None:
            out["groups"] = {k: v for k, v in self.groups.items() if k != "crosstab"}
        if self.personas is not None:
            out["persona_fields_changed"] = int(len(self.personas))
        out["missing"] = list(self.missing)
        return out


def quarter_drift(
    from_dir: str | Path,
    to_dir: str | Path,
    *,
    from_quarter: str,
    to_quarter: str,
) -> DriftReport:
    """Compare two quarters' run folders; each part runs when both quarters have its inputs."""
    before = load_quarter(from_dir, quarter=from_quarter)
    after = load_quarter(to_dir, quarter=to_quarter)
    report = DriftReport(str(from_quarter), str(to_quarter), missing=before.missing + after.missing)
    if before.selection is not None and after.selection is not None:
        report.traits = trait_changes(
            before.selection, after.selection, from_evidence=before.evidence, to_evidence=after.evidence
        )
    if before.scored is not None and after.scored is not None:
        report.tiers = tier_changes(before.scored, after.scored)
        report.transitions = tier_transitions(before.scored, after.scored)
    if before.groups is not None and after.groups is not None:
        report.groups = group_shift(before.groups, after.groups)
    if before.personas is not None and after.personas is not None:
        matching = report.groups["matching"] if report.groups else None
        report.personas = persona_changes(before.personas, after.personas, group_matching=matching)
    return report


def write_drift(report: DriftReport, out_dir: str | Path) -> list[Path]:
    """Write the drift tables (Parquet) and ``drift.json`` into ``out_dir``."""
    out = Path(out_dir)
    written = [write_json(report.summary(), out, "drift.json")]
    tables = {
        "trait_changes.parquet": report.traits,
        "tier_changes.parquet": report.tiers,
        "tier_transitions.parquet": None if report.transitions is None else report.transitions.reset_index(),
        "persona_changes.parquet": report.personas,
        "group_crosstab.parquet": None
        if report.groups is None
        else report.groups["crosstab"].reset_index().rename(columns=str),
    }
    for name, table in tables.items():
        if table is not None:
            table = table.copy()
            table.columns = [str(c) for c in table.columns]
            written.append(write_table(table, out, name))
    return written


def plot_trait_lifts(traits: pd.DataFrame | None):
    """Lift of each trait in both quarters, one line per trait, coloured by status.

    Returns ``None`` when there is nothing to plot (no selection to compare).
    """
    import matplotlib.pyplot as plt

    if traits is None or traits[["lift_from", "lift_to"]].isna().all(axis=None):
        return None
    shown = traits.dropna(subset=["lift_from", "lift_to"], how="all").iloc[::-1]
    colours = {"kept": "#4c72b0", "entered": "#55a868", "left": "#c44e52"}
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(shown), 2) + 1.2))
    for y, row in enumerate(shown.itertuples()):
        colour = colours.get(row.status, "grey")
        ax.plot([row.lift_from, row.lift_to], [y, y], color=colour, alpha=0.6)
        ax.scatter([row.lift_from], [y], color="white", edgecolor=colour, zorder=3)
        ax.scatter([row.lift_to], [y], color=colour, zorder=3)
    ax.set_yticks(range(len(shown)), [f"{r.label} ({r.status})" for r in shown.itertuples()])
    ax.axvline(1, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("lift among best customers (open dot: earlier quarter, filled: later)")
    ax.set_title("How the traits' lifts moved")
    fig.tight_layout()
    return fig
