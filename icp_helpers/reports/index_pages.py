"""The HTML index pages: a quarter's ``index.html`` and the batch index over every run folder.

Both are rendered from ``templates/index.html.j2`` with what the run folders
hold (``run.json``, headline artifacts, quarantine summaries, step warnings),
so an index stays right when folders are rerun separately.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = [
    "EXPORTS",
    "write_quarter_index",
    "write_batch_index",
]

#: Files a quarter's index links to when they exist, with what they are.
EXPORTS = (
    ("icp_card.html", "ICP card"),
    ("icp_card.md", "ICP card (Markdown)"),
    ("card.png", "ICP card (image)"),
    ("scored_accounts.xlsx", "Scored accounts (Excel)"),
    ("scored_accounts.csv", "Scored accounts (CSV)"),
    ("scored_prospects.xlsx", "Scored prospects (Excel)"),
    ("scored_prospects.csv", "Scored prospects (CSV)"),
    ("scored_leads.xlsx", "Scored leads (Excel)"),
    ("scored_leads.csv", "Scored leads (CSV)"),
    ("commonalities.xlsx", "Best customers vs the rest (Excel)"),
    ("run.json", "Run provenance (JSON)"),
)


_QUARTER_DIR_RE = re.compile(r"^\d{4}Q[1-4]$")


def _jinja_env():
    import jinja2

    from ..data.config import TEMPLATES_DIR

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _read_json_or_none(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _first_number(data: Any, *paths: tuple[str, ...]) -> int | None:
    for keys in paths:
        value = data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            return int(value)
    return None


def _selection_traits(selection: dict[str, Any]) -> list:
    """The ICP's traits in ``selection.json``: ``selected`` (or ``traits``) then ``why_traits``."""
    return list(selection.get("selected") or selection.get("traits") or []) + list(
        selection.get("why_traits") or []
    )


def _headline(run_dir: Path) -> dict[str, Any]:
    """Headline results from the run folder's artifacts, each ``None`` when not there."""
    import pandas as pd

    out: dict[str, Any] = {"best": None, "accounts": None, "traits": None, "tiers": None}
    step1 = _read_json_or_none(run_dir / "step1.json")
    if isinstance(step1, dict):
        out["best"] = _first_number(
            step1,
            ("counts", "best"),
            ("counts", "best_customers"),
            ("counts", "n_best"),
            ("n_best",),
            ("best_customers",),
        )
        out["accounts"] = _first_number(
            step1, ("counts", "accounts"), ("counts", "n_accounts"), ("n_accounts",), ("accounts",)
        )
        columns = step1.get("feature_columns")
        if isinstance(columns, list):
            from ..data.wording import infer_kind, words

            out["noun"] = words(infer_kind(columns))["accounts"]  # customers, for consumers
    selection = _read_json_or_none(run_dir / "selection.json")
    if isinstance(selection, dict):
        selected = _selection_traits(selection)
        out["traits"] = [
            {
                "id": str(t.get("id", t.get("trait", ""))),
                "label": str(t.get("label") or t.get("id") or t.get("trait") or ""),
                "points": t.get("points"),
            }
            if isinstance(t, dict)
            else {"id": str(t), "label": str(t), "points": None}
            for t in selected
        ]
    scored = run_dir / "scored_accounts.csv"
    if scored.is_file():
        try:
            tiers = pd.read_csv(scored, usecols=["tier"])["tier"]
            out["tiers"] = {str(k): int(v) for k, v in tiers.value_counts().sort_index().items()}
        except (ValueError, OSError):
            out["tiers"] = None
    return out


def _warnings(run_dir: Path, record: dict[str, Any]) -> list[str]:
    """What a reader should know: problems, quarantined rows, warnings the steps recorded.

    Quarantine counts and load warnings come from ``quarantine/summary.csv``
    when the loader wrote one, else from counting each quarantine file's rows.
    """
    import csv

    found = list(record.get("problems", []))
    quarantine = run_dir / "quarantine"
    summary = quarantine / "summary.csv"
    if summary.is_file():
        with open(summary, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                table = row.get("table", "?")
                try:
                    set_aside = int(float(row.get("rows_quarantined") or 0))
                except ValueError:
                    set_aside = 0
                if set_aside:
                    reasons = f" ({row['reasons']})" if row.get("reasons") else ""
                    found.append(
                        f"{table}: {set_aside} of {row.get('rows_read', '?')} rows set aside"
                        f"{reasons}, see quarantine/{table}.csv"
                    )
                for warning in (row.get("warnings") or "").split(" | "):
                    warning = warning.strip()
                    if warning:
                        known = warning.startswith(f"{table}.")
                        found.append(warning if known else f"{table}: {warning}")
    elif quarantine.is_dir():
        for path in sorted(quarantine.glob("*.csv")):
            with open(path, encoding="utf-8", newline="") as handle:
                rows = max(sum(1 for _ in csv.reader(handle)) - 1, 0)
            if rows:
                found.append(f"{path.stem}: {rows} rows set aside, see quarantine/{path.name}")
    for path in sorted(run_dir.glob("*.json")):
        if path.name == "run.json":
            continue
        data = _read_json_or_none(path)
        if isinstance(data, dict) and isinstance(data.get("warnings"), list):
            found += [f"{path.stem}: {w}" for w in data["warnings"]]
    return found


def write_quarter_index(run_dir: str | Path, record: dict[str, Any]) -> Path:
    """Write ``<run_dir>/index.html``: what ran, links to reports and exports, headline results.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (links are relative, so the folder can move).
    record : dict
        The ``run.json`` content.
    """
    folder = Path(run_dir)
    notebooks = [
        {
            "name": nb["name"],
            "status": nb["status"],
            "error": nb.get("error"),
            "html": nb.get("html") if nb.get("html") and (folder / nb["html"]).is_file() else None,
            "notebook": nb.get("notebook"),
            "duration_s": nb.get("duration_s"),
        }
        for nb in record.get("notebooks", [])
    ]
    notebooks += [
        {"name": n, "status": "skipped", "error": None, "html": None, "notebook": None, "duration_s": None}
        for n in record.get("skipped", [])
    ]
    notebooks += [
        {"name": n, "status": "not applicable", "error": why, "html": None, "notebook": None,
         "duration_s": None}
        for n, why in record.get("not_applicable", {}).items()
    ]
    order = {name: i for i, name in enumerate(record.get("parameters", {}).get("notebooks", []))}
    notebooks.sort(key=lambda nb: order.get(nb["name"], len(order)))
    exports = [
        {"file": name, "label": label} for name, label in EXPORTS if (folder / name).is_file()
    ]
    html = _jinja_env().get_template("index.html.j2").render(
        page="quarter",
        title=f"ICP report {record['quarter']}" + (" (incomplete quarter)" if record.get("incomplete") else ""),
        record=record,
        notebooks=notebooks,
        exports=exports,
        headline=_headline(folder),
        warnings=_warnings(folder, record),
        quarters=[],
        failed=[],
        drift=[],
    )
    path = folder / "index.html"
    path.write_text(html, encoding="utf-8")
    return path


def write_batch_index(reports_dir: str | Path) -> Path:
    """Write ``<reports>/index.html`` listing every quarter folder and drift report found.

    Built from the folders on disk (``run.json`` of each), so it stays complete
    across separate runs and shows failed attempts kept for inspection.
    """
    reports = Path(reports_dir)
    quarters = []
    for folder in sorted(reports.iterdir()) if reports.is_dir() else []:
        name = folder.name.removesuffix(".failed")
        if not folder.is_dir() or not _QUARTER_DIR_RE.match(name):
            continue
        record = _read_json_or_none(folder / "run.json") or {}
        headline = _headline(folder)
        quarters.append(
            {
                "quarter": name,
                "folder": folder.name,
                "status": record.get("status", "unknown") if not folder.name.endswith(".failed") else "failed",
                "incomplete": bool(record.get("incomplete")),
                "problems": list(record.get("problems") or []),
                "finished_at": record.get("finished_at"),
                "best": headline["best"],
                "n_traits": None if headline["traits"] is None else len(headline["traits"]),
                "index": f"{folder.name}/index.html" if (folder / "index.html").is_file() else None,
            }
        )
    drift = []
    drift_root = reports / "drift"
    for folder in sorted(drift_root.iterdir()) if drift_root.is_dir() else []:
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        pages = sorted(folder.glob("*.html"))
        drift.append(
            {
                "name": folder.name.removesuffix(".failed").replace("_", " → "),
                "status": "failed" if folder.name.endswith(".failed") else "ok",
                "link": f"drift/{folder.name}/{pages[0].name}" if pages else None,
            }
        )
    html = _jinja_env().get_template("index.html.j2").render(
        page="batch",
        title="ICP reports",
        record={},
        notebooks=[],
        exports=[],
        headline={},
        warnings=[],
        quarters=[q for q in quarters if q["status"] == "ok"],
        failed=[q for q in quarters if q["status"] != "ok"],
        drift=drift,
    )
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
