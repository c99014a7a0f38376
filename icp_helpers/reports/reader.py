"""Reports for their readers: tables, facts and file lists as people read them.

The HTML reports go to sales, marketing and product, not to whoever ran the
notebooks. A DataFrame's repr shows ``q_value`` as ``1.19e-57``, counts as
``2000.000000``, six decimals of a median, and cuts long tables with "…";
a dict or a ``PosixPath`` prints as code. :func:`show` gives every table
friendly column names and rounded numbers and shows large tables whole, as
sortable and filterable tables that work offline (itables, with its
JavaScript embedded in the page); :func:`facts` and :func:`files_written`
replace the raw dict reprs at the end of a notebook; :func:`folder_label`
names the run folder the reader will find, never a staging folder.

:func:`chart_alt_texts` and :func:`page_title` are used by the renderer
(``runner.render_html``); :func:`scan_html` lists what must not reach a
reader (tests run it over every rendered page).
"""

from __future__ import annotations

import html as html_module
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd

from ..data.artifacts import LAB_DIR

__all__ = [
    "STATIC_ROWS",
    "friendly_name",
    "format_q",
    "tidy",
    "show",
    "facts",
    "files_written",
    "folder_label",
    "chart_alt_texts",
    "page_title",
    "scan_html",
]

#: Tables up to this many rows are shown as plain HTML; longer ones as
#: sortable, filterable, paged tables.
STATIC_ROWS = 15

# Column names a reader would not guess; anything else becomes "Words like this".
_NAMES = {
    "q_value": "q-value",
    "p_value": "p-value",
    "q": "q-value",
    "p": "p-value",
    "auc": "AUC",
    "f1": "F1",
    "chi2": "Chi²",
    "dof": "Degrees of freedom",
    "cramers_v": "Cramér's V",
    "kappa": "Cohen's kappa",
    "n": "Accounts",
    "id": "ID",
    "account_id": "Account",
    "prospect_id": "Prospect",
    "lead_id": "Lead",
    "interview_id": "Interview",
    "prevalence_best": "Share of best customers",
    "prevalence_rest": "Share of the rest",
    "best": "Best customers",
    "rest": "The rest",
    "best_rate": "Share best",
    "best_share": "Share best",
    "lift_low": "Lift, low (95%)",
    "lift_high": "Lift, high (95%)",
    "rows_read": "Rows read",
    "rows_used": "Rows used",
    "rows_quarantined": "Rows set aside",
    "top_decile_lift": "Top-10% lift",
    "fit_score": "Fit score",
    "from_score": "From score",
    "effect_measure": "Effect measure",
    "value_rank": "Value rank",
    "value_score": "Value score",
    "won_value": "Won value",
}
_P_COLUMNS = re.compile(r"(^|_)(q|p)(_value|value)?($|_)", re.IGNORECASE)
_SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9%]+)*$")


def friendly_name(column: Any) -> str:
    """``q_value`` -> ``q-value``, ``rows_read`` -> ``Rows read``; other names unchanged."""
    text = str(column)
    if text in _NAMES:
        return _NAMES[text]
    if not _SNAKE.match(text):  # already written for people ("Group 3: ...", "Lift")
        return text
    words = text.replace("_", " ")
    return words[:1].upper() + words[1:]


def format_q(value: Any) -> str:
    """A p- or q-value as a reader takes it in: ``< 0.001`` or three significant figures."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return ""
    value = float(value)
    if value < 0.001:
        return "< 0.001"
    return f"{value:.3g}"


def _decimals(values: pd.Series) -> int:
    """Decimals worth showing for a numeric column: fewer as the numbers grow."""
    finite = values[np.isfinite(values)]
    if finite.empty:
        return 2
    largest = float(finite.abs().max())
    if largest >= 1000:
        return 0
    if largest >= 100:
        return 1
    if largest >= 1:
        return 2
    return 3


def _cell_text(value: Any) -> Any:
    """Lists, sets, dicts and paths inside a cell as plain text."""
    if isinstance(value, PurePath):
        return value.name
    if isinstance(value, Mapping):
        return "; ".join(f"{friendly_name(k)}: {_cell_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | np.ndarray):
        return ", ".join(str(_cell_text(v)) for v in value)
    return value


def _all_numbers(values: pd.Series) -> bool:
    present = values.dropna()
    return not present.empty and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        for v in present
    )


def tidy(frame: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """A copy of ``frame`` for reading: friendly names, rounded numbers, whole counts.

    - a meaningful index (not 0..n-1) becomes the first column;
    - p- and q-value columns read ``< 0.001`` or three significant figures;
    - float columns holding whole numbers become integers; other floats are
      rounded (0 decimals from 1,000, 1 from 100, 2 from 1, else 3);
    - dates without a time of day lose the ``00:00:00``; booleans read yes/no;
    - lists, dicts and paths in cells become plain text.
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    out = frame.copy()
    if not isinstance(out.index, pd.RangeIndex) or out.index.name is not None:
        out = out.reset_index()
        if "index" in out.columns and frame.index.name is None:
            out = out.rename(columns={"index": ""})  # row labels need no heading
    out.columns = [
        " · ".join(str(c) for c in col if str(c)) if isinstance(col, tuple) else col
        for col in out.columns
    ]
    for column in list(out.columns):
        values = out[column]
        if isinstance(values, pd.DataFrame):  # duplicated column names: leave as they are
            continue
        if values.dtype == object and _all_numbers(values):
            values = pd.to_numeric(values, errors="coerce")  # e.g. describe().T of mixed dtypes
        if pd.api.types.is_bool_dtype(values):
            out[column] = values.map({True: "yes", False: "no"})
        elif pd.api.types.is_numeric_dtype(values):
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
            if _P_COLUMNS.search(str(column)):
                out[column] = numbers.map(format_q)
                continue
            finite = numbers[np.isfinite(numbers)]
            if finite.empty or (finite == finite.round()).all():
                out[column] = numbers.round().astype("Int64")
            elif (decimals := _decimals(numbers)) == 0:
                out[column] = numbers.round().astype("Int64")
            else:
                out[column] = numbers.round(decimals)
        elif pd.api.types.is_datetime64_any_dtype(values):
            stamps = pd.to_datetime(values)
            timeless = (stamps.dropna() == stamps.dropna().dt.normalize()).all()
            out[column] = stamps.dt.strftime("%Y-%m-%d" if timeless else "%Y-%m-%d %H:%M")
        elif values.dtype == object:
            out[column] = values.map(_cell_text)
    out.columns = [friendly_name(c) for c in out.columns]
    return out


def _static_html(frame: pd.DataFrame, caption: str | None) -> str:
    table = frame.to_html(index=False, na_rep="", border=0, classes="icp-table", escape=True)
    if caption:
        table = table.replace(
            "<thead>", f"<caption>{html_module.escape(caption)}</caption><thead>", 1
        )
    return f'<div class="icp-table-wrap">{table}</div>'


_ITABLES_READY = False


def show(frame: pd.DataFrame | pd.Series | Any, *, caption: str | None = None, rows: int = STATIC_ROWS):
    """Display a table for readers (see :func:`tidy`), whole, never cut with "…".

    Parameters
    ----------
    frame : DataFrame or Series
        Anything else (a pandas ``Styler``, a figure) is returned unchanged.
    caption : str, optional
        Shown above the table.
    rows : int
        Longer tables are shown as sortable, filterable, paged tables whose
        JavaScript is embedded in the page, so they work offline.

    Returns
    -------
    IPython.display.HTML
    """
    from IPython.display import HTML

    if not isinstance(frame, pd.DataFrame | pd.Series):
        return frame
    table = tidy(frame)
    for column in table.columns[table.isna().any().to_numpy()]:
        # a blank cell, not "<NA>" or "nan", for a missing value
        table[column] = table[column].astype(object).where(table[column].notna(), "")
    if len(table) <= rows:
        return HTML(_static_html(table, caption))
    import itables

    global _ITABLES_READY
    if not _ITABLES_READY:
        # embeds the DataTables bundle in this output once per kernel: no network needed
        itables.init_notebook_mode(all_interactive=False, connected=False)
        _ITABLES_READY = True
    return HTML(
        itables.to_html_datatable(
            table,
            caption=caption,
            connected=False,
            maxBytes=0,  # never downsample: every row is in the page
            lengthMenu=[10, 25, 100, -1],
            showIndex=False,
            classes="display compact",
        )
    )


def facts(data: Mapping[str, Any], *, caption: str | None = None):
    """A mapping (counts, a step's record) as a two-column table, nested keys flattened.

    ``{"counts": {"best": 400}}`` reads as a row "Counts: best | 400".
    """
    rows: list[tuple[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for key, inner in value.items():
                name = friendly_name(key)
                walk(f"{prefix}: {name.lower()}" if prefix else name, inner)
        else:
            text = _cell_text(value)
            if isinstance(text, bool | np.bool_):
                text = "yes" if text else "no"
            elif isinstance(text, float | np.floating):
                if not math.isfinite(text):
                    text = "" if math.isnan(text) else str(text)
                elif text == round(text) and abs(text) >= 1:
                    text = f"{text:,.0f}"
                else:
                    text = f"{text:.3g}"
            elif isinstance(text, int | np.integer):
                text = f"{text:,}"
            rows.append((prefix, "" if text is None else text))

    walk("", data)
    return show(pd.DataFrame(rows, columns=["What", "Value"]), caption=caption, rows=len(rows) + 1)


def files_written(files: Mapping[str, Any] | Sequence[Any], *, caption: str | None = "Files written") -> Any:
    """The files a step wrote, by name (what they are when given as a mapping), no paths."""
    if isinstance(files, Mapping):
        rows = [(Path(str(v)).name, friendly_name(k)) for k, v in files.items()]
    else:
        rows = [(Path(str(v)).name, "") for v in files]
    frame = pd.DataFrame(rows, columns=["File", "What"])
    if not frame["What"].astype(bool).any():
        frame = frame[["File"]]
    return show(frame, caption=caption, rows=len(frame) + 1)


_STAGING = re.compile(r"^\.(?P<name>.+)\.(?:partial|previous)$")


def folder_label(run_dir: str | Path) -> str:
    """The run folder as the reader will find it, as Markdown: ``reports/2026Q3/``.

    A batch run writes into ``.2026Q3.partial`` and moves it into place when
    complete; the report names the place, not the staging folder. A lab run
    (``<reports>/lab/<quarter>/``) says that the published report is untouched.
    """
    folder = Path(run_dir)
    staged = _STAGING.match(folder.name)
    name = staged.group("name") if staged else folder.name
    parent = folder.parent
    if parent.name == LAB_DIR:
        reports = parent.parent.name
        return (
            f"`{reports}/{LAB_DIR}/{name}/` (the lab folder of notebooks run by hand; "
            f"the report published by `icp run` in `{reports}/{name}/` is not touched)"
        )
    return f"`{parent.name}/{name}/`" if parent.name else f"`{name}/`"


# ------------------------------------------------------------------ renderer

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.+?)\s*#*\s*$", re.MULTILINE)
_MARKUP = re.compile(r"[*_`]|\[([^\]]*)\]\([^)]*\)")


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", _MARKUP.sub(lambda m: m.group(1) or "", text)).strip()


def _first_sentence(markdown: str) -> str:
    body = _HEADING.sub("", markdown).strip()
    text = _plain(body.split("\n\n")[0]) if body else ""
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= 240 else sentence[:237].rsplit(" ", 1)[0] + "..."


def chart_alt_texts(nb, *, skip_tags: Sequence[str] = ("lab-only",)) -> int:
    """Give every chart in an executed notebook alt text from the section that shows it.

    The alt text is the heading above the chart and the first sentence of the
    narrative just before it ("Chart: 2. Best customers vs the rest. Share of
    ..."); an alt text already set (``metadata["image/png"]["alt"]``) is kept.
    Markdown cells tagged with one of ``skip_tags`` (left out of the report)
    are not used. Returns the number of charts given one.
    """
    heading, sentence, given = "", "", 0
    for cell in nb.cells:
        if set(cell.get("metadata", {}).get("tags", [])) & set(skip_tags):
            continue
        if cell.get("cell_type") == "markdown":
            found = _HEADING.findall(cell.source)
            if found:
                heading = _plain(found[-1])
            sentence = _first_sentence(cell.source) or sentence
            continue
        for output in cell.get("outputs", []):
            for kind in ("image/png", "image/jpeg", "image/svg+xml"):
                if kind not in output.get("data", {}):
                    continue
                meta = output.setdefault("metadata", {}).setdefault(kind, {})
                if not meta.get("alt"):
                    parts = [p for p in (heading, sentence) if p]
                    meta["alt"] = "Chart: " + (". ".join(parts) if parts else "figure of this report")
                    given += 1
    return given


def page_title(nb, *, fallback: str) -> str:
    """The page title: the notebook's ``title`` metadata, else its first heading, else ``fallback``."""
    title = nb.metadata.get("title")
    if title:
        return str(title)
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            found = _HEADING.search(cell.source)
            if found:
                return _plain(found.group("text"))
    return fallback


# ---------------------------------------------------------------- the check

_CHECKS = (
    ("a staging folder", re.compile(r"\.\d{4}Q[1-4]\.(?:partial|previous)|\.partial\b")),
    ("a PosixPath repr", re.compile(r"(?:Posix|Windows)Path\(")),
    ("a raw dict repr", re.compile(r"\{\s*'[^'\n]{1,60}'\s*:\s")),
    ("chart without alt text", re.compile(r"No description has been provided")),
    ("parameter text", re.compile(r"\b(?:config_path|run_dir|reports_dir|out_dir)\b")),
    ("a float with many decimals", re.compile(r"(?<![\w.])-?\d+\.\d{6,}(?![\w.])")),
)
_CELL = re.compile(r"<t[dh]\b[^>]*>(?P<text>.*?)</t[dh]>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"<title>(?P<text>.*?)</title>", re.DOTALL | re.IGNORECASE)


def scan_html(page: str, *, name: str = "") -> list[str]:
    """What a reader should never see in a rendered page, one line per finding.

    Looks at the visible text (scripts and styles left out) for staging folders
    (``.2026Q3.partial``), ``PosixPath(``, raw dict reprs, charts without alt
    text and floats printed with six or more decimals; at table cells cut with
    "…" or "..."; and at a page title that is only a file name.
    """
    found = []
    visible = html_module.unescape(_SCRIPT.sub(" ", page))
    text = _TAG.sub(" ", visible)
    for what, pattern in _CHECKS:
        source = visible if what == "chart without alt text" else text
        match = pattern.search(source)
        if match:
            start = max(match.start() - 40, 0)
            found.append(f"{name}: {what}: ...{source[start:match.end() + 40]!r}...")
    for cell in _CELL.finditer(_SCRIPT.sub(" ", page)):
        content = html_module.unescape(_TAG.sub("", cell.group("text"))).strip()
        if content in ("…", "...") or content.endswith("…"):
            found.append(f"{name}: a table cut with an ellipsis: {cell.group(0)[:80]!r}")
            break
        if content in ("<NA>", "NaN", "nan", "NaT", "None"):
            found.append(f"{name}: a missing value printed as {content!r}: {cell.group(0)[:80]!r}")
            break
    title = _TITLE.search(page)
    if title is None or re.fullmatch(r"[\w.-]+", html_module.unescape(title.group("text")).strip()):
        found.append(f"{name}: the page title is a file name: {title.group('text') if title else None!r}")
    return found
