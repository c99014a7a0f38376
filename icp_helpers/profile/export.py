"""Score every account and prospect and export the result for the sales team.

Each row gets the ICP fit score, its A/B/C tier and the selected traits it
matches and misses (:func:`score_table`, through the
:class:`~icp_helpers.traits.fitscore.FitScorer` saved in ``selection.json``), so a
seller sees why an account is an A. The tables are
written as CSV and XLSX. Spreadsheets execute cells that start like a
formula, and names, industries or job titles come from a CRM export that
anyone could have typed into, so every header and text cell goes through the
formula guard of :mod:`icp_helpers.data.formulas` (OWASP "CSV injection");
numbers stay numbers.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..data.artifacts import read_json, read_table
from ..data.formulas import _FORMULA_PATTERN, FORMULA_PREFIXES, safe_cell
from ..traits.fitscore import FitScorer, rows_as_lists

__all__ = [
    "FORMULA_PREFIXES",
    "LIST_SEPARATOR",
    "TIERS",
    "safe_cell",
    "safe_frame",
    "write_scored",
    "XLSX_MAX_ROWS",
    "tier_summary",
    "plot_tiers",
    "DESCRIPTIVE_COLUMNS",
    "load_scorer",
    "score_table",
    "score_accounts",
    "score_prospects",
]

#: Tier labels, best first.
TIERS = ("A", "B", "C")

#: How list cells (matched / missing traits) are joined into one text cell.
LIST_SEPARATOR = "; "

_MAX_WIDTH = 60
_WIDTH_SAMPLE_ROWS = 500


def _flatten(value: Any) -> Any:
    """Join list-like cells into text so both formats show the same thing."""
    if isinstance(value, list | tuple | set | np.ndarray):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with list cells joined and every text cell passed through :func:`safe_cell`.

    Column names are guarded too, since trait ids and mapped export columns
    become headers. Numeric, boolean and date columns are left as they are.
    """
    return _guarded(frame, text_as_objects=True)


def _guarded(frame: pd.DataFrame, *, text_as_objects: bool) -> pd.DataFrame:
    """:func:`safe_frame`; without ``text_as_objects``, text columns keep their text dtype.

    Arrow writes text columns as they are, where Python objects would be
    made for a million cells per column first.
    """
    out = frame.copy()
    out.columns = [safe_cell(str(c)) for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype) and _is_text(dtype.categories.dtype):
            column, dtype = column.astype("str"), pd.StringDtype(na_value=np.nan)
        if pd.api.types.is_object_dtype(dtype):
            at_once = pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")
        else:
            at_once = _is_text(dtype)
        if at_once:
            # a text column at once instead of cell by cell; only lists need the cells
            danger = _formula_cells(column)
            values = column.copy()
            if danger.any():
                values[danger] = "'" + column[danger]
            if text_as_objects:
                values = values.astype(object)
        elif pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            values = column.astype(object).map(_guard_memo()).astype(object)
        else:
            continue
        out[out.columns[position]] = values
    return out


def _formula_cells(column: pd.Series) -> np.ndarray:
    """Which cells of a text column the formula guard changes (the guard's pattern, cell by cell).

    The pattern's ``\\s`` is Unicode whitespace, which Arrow's RE2 does not
    match as Python does, so pandas tries it cell by cell in Python (6 s on the
    million scored accounts). Only a cell whose first character is a formula
    prefix or whitespace can match: the first characters are told apart once
    per distinct character, and the pattern runs on those cells alone.
    """
    text = column.astype(pd.StringDtype("pyarrow", na_value=np.nan))
    first = pc.utf8_slice_codeunits(pa.chunked_array(text.array._pa_array), 0, 1)
    suspicious = [
        c for c in pc.unique(first).to_pylist()
        if c and (c in FORMULA_PREFIXES or re.match(r"\s", c))
    ]
    danger = np.zeros(len(column), dtype=bool)
    if suspicious:
        rows = np.flatnonzero(pc.is_in(first, value_set=pa.array(suspicious)).to_numpy(zero_copy_only=False)
                              .astype(bool, copy=False))
        part = text.iloc[rows]
        danger[rows] = part.str.contains(_FORMULA_PATTERN, regex=True).fillna(False).astype(bool).to_numpy()
    return danger


def _guard_memo():
    """:func:`safe_cell` of :func:`_flatten` for one column; list cells are joined once per distinct list.

    The trait lists of a scored table repeat a few patterns over a million rows.
    """
    joined: dict[tuple, Any] = {}

    def guard(value: Any) -> Any:
        if isinstance(value, list | tuple):
            key = tuple(value)
            try:
                if key not in joined:
                    joined[key] = safe_cell(_flatten(value))
                return joined[key]
            except TypeError:  # unhashable items: joined every time
                pass
        return safe_cell(_flatten(value))

    return guard


def _is_text(dtype) -> bool:
    return isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype)


def _excel_value(value: Any) -> Any:
    """A Python value openpyxl writes as the right cell type (no formulas)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, int):
        return value
    if isinstance(value, pd.Timestamp):
        value = value.tz_localize(None) if value.tzinfo else value
        return value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.date):
        return value
    text = safe_cell(ILLEGAL_CHARACTERS_RE.sub("", str(_flatten(value))))
    if len(text) > XLSX_MAX_CELL:
        # Excel refuses longer cells: cut, and say so in the cell itself
        note = f" [cut: {len(text):,} characters in all; the CSV holds the whole text]"
        text = text[: XLSX_MAX_CELL - len(note)] + note
    return text


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    return len(str(value))


#: Characters per cell that Excel accepts.
XLSX_MAX_CELL = 32_767

#: Data rows per worksheet: Excel's limit of 1,048,576 rows, less the header.
XLSX_MAX_ROWS = 1_048_575


def _write_xlsx(
    frame: pd.DataFrame, path: Path, *, sheet: str, max_rows: int = XLSX_MAX_ROWS, about: str | None = None
) -> None:
    """Write ``frame`` in openpyxl's write-only mode: rows stream to the file.

    An ordinary workbook keeps one Python object per cell until it is saved,
    so time and memory grow with rows x columns (a million scored accounts
    would not finish in minutes); streamed, they grow with the rows only.
    Each sheet has the bold header row frozen, an autofilter and column
    widths fitted to the first rows. A table longer than Excel's row limit
    continues on further sheets (``<sheet> 2``, ...) with the same header.
    ``about``, when given, goes on a last sheet named ``About``.
    """
    workbook = Workbook(write_only=True)
    headers = [_excel_value(str(c)) for c in frame.columns]
    widths = [_display_width(h) for h in headers]
    for row in frame.head(_WIDTH_SAMPLE_ROWS).itertuples(index=False, name=None):
        widths = [max(w, _display_width(_excel_value(v))) for w, v in zip(widths, row, strict=True)]
    bold = Font(bold=True)
    title = sheet[:31] or "Sheet1"
    starts = range(0, max(len(frame), 1), max_rows)
    for number, start in enumerate(starts, start=1):
        part = frame.iloc[start : start + max_rows]
        name = title if number == 1 else f"{title[:27]} {number}"
        worksheet = workbook.create_sheet(name)
        # write-only sheets take widths, panes and filter before the first row
        for position, width in enumerate(widths, start=1):
            worksheet.column_dimensions[get_column_letter(position)].width = min(width + 2, _MAX_WIDTH)
        worksheet.freeze_panes = "A2"
        if headers:
            worksheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(part) + 1}"
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(worksheet, value=header)
            cell.font = bold
            header_cells.append(cell)
        worksheet.append(header_cells)
        for row in part.itertuples(index=False, name=None):
            worksheet.append([_excel_value(v) for v in row])
    if about:
        workbook.create_sheet("About").append([about])
    workbook.save(path)


def write_scored(
    frame: pd.DataFrame,
    run_dir: str | Path,
    stem: str,
    *,
    formats: Iterable[str] = ("csv", "xlsx"),
    xlsx_max_rows: int | None = None,
) -> dict[str, Path]:
    """Write a scored table as ``<run_dir>/<stem>.csv`` and ``.xlsx`` with the formula guard.

    The CSV is UTF-8 with a byte-order mark so that spreadsheet programs read
    accents correctly, with CRLF line ends (RFC 4180), and holds every row.
    The XLSX has a bold, frozen header row, an autofilter and column widths
    fitted to the content; with ``xlsx_max_rows`` it holds the first rows
    only (the tables come best first) and an ``About`` sheet says how many
    of how many, and that the CSV has them all.

    Parameters
    ----------
    frame : DataFrame
        The table; list cells (matched/missing traits) are joined with ``"; "``.
    run_dir : str or Path
        The run folder.
    stem : str
        File name without extension, e.g. ``scored_accounts``.
    formats : iterable of {"csv", "xlsx"}
        Which files to write.
    xlsx_max_rows : int, optional
        Rows of the XLSX at most (``exports.xlsx_max_rows``); all when None.

    Returns
    -------
    dict
        Format -> path written.
    """
    unknown = set(formats) - {"csv", "xlsx"}
    if unknown:
        raise ValueError(f"unknown export format(s) {sorted(unknown)}; allowed: csv, xlsx")
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "csv" in formats:
        written["csv"] = folder / f"{stem}.csv"
        _write_csv(_guarded(frame, text_as_objects=False), written["csv"])
    if "xlsx" in formats:
        written["xlsx"] = folder / f"{stem}.xlsx"
        shown = frame if xlsx_max_rows is None else frame.head(xlsx_max_rows)
        about = None
        if len(shown) < len(frame):
            about = (
                f"This workbook holds the first {len(shown):,} of {len(frame):,} rows, best first "
                f"(exports.xlsx_max_rows in the project config); {stem}.csv beside it holds every row."
            )
        _write_xlsx(shown, written["xlsx"], sheet=stem, about=about)
    return written


def _write_csv(guarded: pd.DataFrame, path: Path) -> None:
    """UTF-8 with a byte-order mark, CRLF rows (RFC 4180), every text cell quoted.

    Arrow's writer, in C++, took 2.9 s for the million scored accounts of the
    benchmark where pandas' took 14 s. It writes numbers in their shortest
    exact form (``12`` for 12.0, ``1e-05`` as ``0.00001``) and booleans as
    ``true``/``false``; readers get the same values. A column Arrow cannot
    type (text and numbers mixed in one object column) leaves the table to
    pandas' writer.
    """
    try:
        table = pa.Table.from_pandas(guarded, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # quoting every text cell too, as the Arrow writer does
        guarded.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
        return
    columns = [_csv_column(column) for column in table.columns]
    table = pa.Table.from_arrays(columns, names=table.column_names)
    with open(path, "wb") as handle:
        handle.write(codecs.BOM_UTF8)
        pa_csv.write_csv(table, handle, pa_csv.WriteOptions(eol=b"\r\n"))


def _csv_column(column):
    """Dates as pandas writes them: no time when every time is midnight, no fractions of a second unless any."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return column.cast(kind.value_type)
    if not pa.types.is_timestamp(kind) or kind.tz is not None or kind.unit == "s":
        return column
    ticks = column.cast(pa.int64())
    per_second = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[kind.unit]
    if pc.any(pc.not_equal(pc.remainder(ticks, per_second * 86_400), 0)).as_py():
        if pc.any(pc.not_equal(pc.remainder(ticks, per_second), 0)).as_py():
            return column
        return column.cast(pa.timestamp("s"))
    return column.cast(pa.timestamp("s")).cast(pa.date32())


def tier_summary(
    scored: pd.DataFrame,
    *,
    outcome: str | pd.Series = "is_best",
    tiers: tuple[str, ...] = TIERS,
) -> pd.DataFrame:
    """Accounts and best-customer rate per tier, and each tier's rate relative to the lowest.

    Parameters
    ----------
    scored : DataFrame
        ``account_id`` and ``tier`` (and the outcome column).
    outcome : str or Series of bool
        The column (or a boolean Series aligned with ``scored``) saying who
        is a best customer: the quarter's own best customers, or those of a
        later quarter when checking the score on data it did not see.
    tiers : tuple of str
        Tier labels, best first.

    Returns
    -------
    DataFrame
        Index ``tier``; ``accounts``, ``share``, ``best``, ``best_rate`` and
        ``rate_vs_lowest`` (``best_rate`` over the lowest tier's rate; NaN when
        that rate is zero).
    """
    hit = scored[outcome] if isinstance(outcome, str) else pd.Series(outcome, index=scored.index)
    frame = pd.DataFrame({"tier": scored["tier"].astype(str), "best": hit.fillna(False).astype(bool)})
    grouped = frame.groupby("tier")["best"].agg(accounts="size", best="sum").reindex(list(tiers), fill_value=0)
    grouped["share"] = grouped["accounts"] / max(len(frame), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        grouped["best_rate"] = grouped["best"] / grouped["accounts"].replace(0, np.nan)
    lowest = grouped["best_rate"].iloc[-1]
    grouped["rate_vs_lowest"] = grouped["best_rate"] / lowest if lowest and lowest > 0 else np.nan
    grouped.index.name = "tier"
    return grouped[["accounts", "share", "best", "best_rate", "rate_vs_lowest"]].astype(
        {"accounts": int, "best": int}
    )


def plot_tiers(
    scored_accounts: pd.DataFrame,
    scored_prospects: pd.DataFrame | None = None,
    *,
    ax=None,
    tiers: tuple[str, ...] = TIERS,
):
    """Bar chart of the share of accounts (and prospects) in each tier, with counts on the bars."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.2))
    frames = {"accounts": scored_accounts}
    if scored_prospects is not None and len(scored_prospects):
        frames["prospects"] = scored_prospects
    width = 0.8 / len(frames)
    x = np.arange(len(tiers))
    for position, (label, frame) in enumerate(frames.items()):
        counts = frame["tier"].astype(str).value_counts().reindex(list(tiers), fill_value=0)
        shares = counts / max(int(counts.sum()), 1)
        bars = ax.bar(x + (position - (len(frames) - 1) / 2) * width, shares, width, label=label)
        ax.bar_label(bars, labels=[f"{n:,}" for n in counts], fontsize=8, padding=2)
    ax.set_xticks(x, [f"tier {t}" for t in tiers])
    ax.set_ylabel("share")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_title("Fit-score tiers")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


# -- scoring -------------------------------------------------------------------

#: Descriptive columns carried into the exports when the table has them.
DESCRIPTIVE_COLUMNS = (
    "name",
    "industry",
    "business_type",
    "employees",
    "employees_band",
    "revenue_band",
    "country",
    "region",
    "city",
    "city_size",
    "job_role",
    "seniority",
)


def load_scorer(selection: Mapping[str, Any] | str | Path) -> FitScorer:
    """The fitted :class:`~icp_helpers.traits.fitscore.FitScorer` of ``selection.json``.

    Parameters
    ----------
    selection : mapping, or str/Path of a run folder or of ``selection.json``
    """
    data = selection
    if not isinstance(selection, Mapping):
        path = Path(selection)
        folder, name = (path.parent, path.name) if path.suffix == ".json" else (path, "selection.json")
        data = read_json(folder, name, made_by="03_select_traits")
    if "score" not in data:
        raise KeyError("selection.json has no 'score' definition: rerun 03_select_traits")
    return FitScorer.from_dict(data["score"])


def score_table(
    frame: pd.DataFrame,
    scorer: FitScorer,
    *,
    id_column: str = "account_id",
    keep: Iterable[str] = DESCRIPTIVE_COLUMNS,
) -> pd.DataFrame:
    """Fit score, tier, and matched / missing / unknown traits for every row.

    A trait is *missing* when the row's value is known and does not match,
    and *unknown* when the value (or the whole column, e.g. contact roles of
    a prospect) is missing: a seller should ask rather than rule it out.
    Unknown traits earn no points, as in the fitted score.

    Parameters
    ----------
    frame : DataFrame
        Accounts (``features.parquet``) or prospects, with the trait columns.
    scorer : FitScorer
        From :func:`load_scorer`.
    id_column : str
        The row id column, kept first.
    keep : iterable of str
        Descriptive columns copied when present; the columns the selected
        traits read are always copied.

    Returns
    -------
    DataFrame
        ``id_column``, the kept columns, ``fit_score``, ``tier``,
        ``n_matched``, ``matched_traits``, ``missing_traits``,
        ``unknown_traits`` (lists of trait ids) and ``reason`` (the matched
        traits with their points, in words, e.g. ``industry: wholesaler (+22)``);
        highest score first.
    """
    if id_column not in frame:
        raise KeyError(f"the table to score has no {id_column!r} column")
    explained = scorer.explain(frame, missing=False)  # missing vs unknown is told apart below
    ids = [t.id for t in scorer.traits_]
    evaluated = [t.evaluate(frame) for t in scorer.traits_]
    hit = np.column_stack([h for h, _ in evaluated]) if evaluated else np.zeros((len(frame), 0), bool)
    unknown = np.column_stack([u for _, u in evaluated]) if evaluated else hit
    # the columns the selected traits read come along, so each match can be checked
    read = [c for t in scorer.traits_ for c in (t.column, t.band_column) if c]
    columns = list(dict.fromkeys(c for c in [id_column, *keep, *read] if c in frame))
    out = frame[columns].copy()
    out["fit_score"] = explained["fit_score"].to_numpy()
    out["tier"] = explained["tier"].astype(str).to_numpy()
    out["n_matched"] = hit.sum(axis=1).astype("int64")
    out["matched_traits"] = list(explained["matched"])
    out["missing_traits"] = rows_as_lists(~hit & ~unknown, ids)[0]
    out["unknown_traits"] = rows_as_lists(unknown, ids)[0]
    out["reason"] = explained["reason"].to_numpy()
    if out[id_column].is_monotonic_increasing:
        # rows already in id order (features.parquet): a stable sort by score alone breaks ties by id
        return out.take(np.argsort(-out["fit_score"].to_numpy(), kind="stable")).reset_index(drop=True)
    return out.sort_values(["fit_score", id_column], ascending=[False, True], kind="mergesort").reset_index(
        drop=True
    )


def score_accounts(run_dir: str | Path, *, scorer: FitScorer | None = None) -> pd.DataFrame:
    """Score every account of the run (``features.parquet``) and add its best-customer flags.

    Returns :func:`score_table` output plus ``value_score``, ``value_rank``,
    ``is_best`` and ``is_negative`` from ``best_customers.parquet``.
    """
    folder = Path(run_dir)
    scorer = scorer if scorer is not None else load_scorer(folder)
    features = read_table(folder, "features.parquet", made_by="01_best_customers")
    best = read_table(folder, "best_customers.parquet", made_by="01_best_customers")
    scored = score_table(features, scorer, id_column="account_id")
    flags = [c for c in ("value_score", "value_rank", "is_best", "is_negative") if c in best]
    return scored.merge(best[["account_id", *flags]], on="account_id", how="left")


def score_prospects(prospects: pd.DataFrame | None, *, scorer: FitScorer) -> pd.DataFrame:
    """Score prospects (``prospect_id`` plus the account trait columns) on the accounts' scale.

    Without a prospects table (none configured) the result is empty, with the columns.
    """
    if prospects is None:
        prospects = pd.DataFrame({"prospect_id": pd.Series([], dtype=str)})
    return score_table(prospects, scorer, id_column="prospect_id")
