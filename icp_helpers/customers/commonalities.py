"""What the best customers have in common: best vs the rest for every trait.

One row per trait (``docs/architecture.md`` trait ids):

- a level of a categorical column (``industry=wholesaler``) and a boolean
  flag (``case_study``): the share of best customers and of the rest that
  have it; the effect is the bias-corrected Cramér's V of *has the trait* ×
  *is best* (for a 2×2 table this is the absolute phi coefficient, with
  Bergsma's small-sample correction), signed by whether the trait is more
  (+) or less (-) common among the best. The whole column's bias-corrected
  Cramér's V (all levels × best) is kept as ``column_effect``.
- a numeric column (``avg_deal_price``): the median among best and rest;
  the effect is Hedges' g, the standardised mean difference (best minus
  rest, pooled SD, small-sample corrected).

V and g live on different scales, so the table is sorted by ``strength``,
both put on the scale of a correlation with *is best* (phi for a trait;
the point-biserial r implied by g for a number), most typical of the best
customers first. Columns that are inputs of the value rule (or restate one)
are marked ``defines_best``: they are over-represented among the best by
construction, so they describe the cohort rather than explain it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.frames import text_levels

__all__ = [
    "SKIP_COLUMNS",
    "cramers_v",
    "hedges_g",
    "best_vs_rest",
    "summary_text",
    "write_traits_document",
    "plot_best_vs_rest",
]

#: Identifier, free-text and bookkeeping columns that are never traits.
SKIP_COLUMNS = (
    "account_id",
    "name",
    "account_name",
    "email",
    "phone",
    "website",
    "referred_by",
    "group",
    "value_score",
    "value_rank",
    "is_best",
    "is_negative",
    "negative_reason",
)

TABLE_COLUMNS = (
    "trait",
    "kind",
    "best",
    "rest",
    "effect",
    "effect_measure",
    "strength",
    "direction",
    "defines_best",
    "column",
    "level",
    "column_effect",
    "n_best",
    "n_rest",
    "best_count",
    "rest_count",
    "lift",
    "mean_best",
    "mean_rest",
    "missing_best",
    "missing_rest",
)


def cramers_v(x, y=None, *, bias_correction: bool = True) -> float:
    """Cramér's V of two categorical variables, or of a contingency table.

    Parameters
    ----------
    x : array-like
        A contingency table (2-D counts) when ``y`` is None, else the first variable.
    y : array-like, optional
        The second variable, aligned with ``x``; pairs with a missing value are dropped.
    bias_correction : bool
        Apply Bergsma's (2013) correction, which removes the upward bias of
        V in small samples and with many levels (V of independent variables
        is then close to 0 instead of clearly positive).

    Returns
    -------
    float
        In 0-1; NaN when a variable has a single level (nothing to associate).
    """
    if y is None:
        table = np.asarray(x, dtype=float)
    else:
        frame = pd.DataFrame({"x": np.asarray(x, dtype=object), "y": np.asarray(y, dtype=object)})
        frame = frame[frame["x"].notna() & frame["y"].notna()]
        table = pd.crosstab(frame["x"], frame["y"]).to_numpy(dtype=float)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n = table.sum()
    r, k = table.shape
    if r < 2 or k < 2 or n < 2:
        return float("nan")
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    phi2 = chi2 / n
    if not bias_correction:
        return float(np.sqrt(phi2 / min(r - 1, k - 1)))
    if n < 3:
        return float("nan")
    phi2c = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    rc = r - (r - 1) ** 2 / (n - 1)
    kc = k - (k - 1) ** 2 / (n - 1)
    denom = min(kc - 1, rc - 1)
    return float(np.sqrt(phi2c / denom)) if denom > 0 else float("nan")


def hedges_g(a, b) -> float:
    """Hedges' g of ``a`` versus ``b``: (mean a - mean b) / pooled SD, small-sample corrected.

    Missing values are dropped; NaN when a side has fewer than two values;
    0 when both sides are constant and equal.
    """
    a = pd.to_numeric(pd.Series(a), errors="coerce").dropna().to_numpy(dtype=float)
    b = pd.to_numeric(pd.Series(b), errors="coerce").dropna().to_numpy(dtype=float)
    n1, n2 = len(a), len(b)
    if n1 < 2 or n2 < 2:
        return float("nan")
    pooled = np.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))
    diff = a.mean() - b.mean()
    if pooled == 0:
        return 0.0 if diff == 0 else float(np.sign(diff) * np.inf)
    correction = 1 - 3 / (4 * (n1 + n2) - 9)
    return float(diff / pooled * correction)


def _r_from_d(d: float, n1: int, n2: int) -> float:
    if not np.isfinite(d):
        return float(np.sign(d)) if not np.isnan(d) else float("nan")
    a = (n1 + n2) ** 2 / (n1 * n2)
    return float(d / np.sqrt(d * d + a))


def _level_text(level) -> str:
    if isinstance(level, float | np.floating) and float(level).is_integer():
        return str(int(level))
    return str(level)


def _is_flag(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series.dtype):
        return True
    if series.dtype == object:
        values = series.dropna()
        return len(values) > 0 and values.map(lambda v: isinstance(v, bool | np.bool_)).all()
    return False


def _best_mask(features: pd.DataFrame, best) -> np.ndarray:
    if isinstance(best, pd.DataFrame):
        flags = best.drop_duplicates("account_id").set_index("account_id")["is_best"]
        mask = features["account_id"].map(flags)
    elif isinstance(best, str):
        mask = features[best]
    else:
        mask = pd.Series(np.asarray(best), index=features.index)
    return mask.fillna(False).astype(bool).to_numpy()


def _level_row(column, level, has, valid, is_best, kind, n_best, n_rest) -> dict:
    best_count = int((has & is_best).sum())
    rest_count = int((has & ~is_best).sum())
    best_share = best_count / n_best if n_best else float("nan")
    rest_share = rest_count / n_rest if n_rest else float("nan")
    table = [[best_count, n_best - best_count], [rest_count, n_rest - rest_count]]
    v = cramers_v(table)
    sign = np.sign(best_share - rest_share) if np.isfinite(v) else np.nan
    effect = float(sign * v) if np.isfinite(v) else float("nan")
    trait = column if kind == "flag" else f"{column}={_level_text(level)}"
    return {
        "trait": trait,
        "kind": kind,
        "best": best_share,
        "rest": rest_share,
        "effect": effect,
        "effect_measure": "cramers_v",
        "strength": effect,
        "direction": "more common among best" if best_share > rest_share else (
            "less common among best" if best_share < rest_share else "same"
        ),
        "column": column,
        "level": _level_text(level),
        "n_best": n_best,
        "n_rest": n_rest,
        "best_count": best_count,
        "rest_count": rest_count,
        "lift": best_share / rest_share if rest_share > 0 else float("nan"),
        "missing_best": int((~valid & is_best).sum()),
        "missing_rest": int((~valid & ~is_best).sum()),
    }


def _numeric_row(column: str, series: pd.Series, is_best, n_best: int, n_rest: int) -> dict | None:
    """A numeric column's row: medians, Hedges' g and its r; ``None`` when the column is constant."""
    values = pd.to_numeric(series, errors="coerce").astype(float)
    if values.nunique(dropna=True) < 2:
        return None
    a, b = values[is_best], values[~is_best]
    g = hedges_g(a, b)
    na, nb = int(a.notna().sum()), int(b.notna().sum())
    r = _r_from_d(g, na, nb) if na and nb else float("nan")
    return {
        "trait": column,
        "kind": "numeric",
        "best": float(a.median()) if na else float("nan"),
        "rest": float(b.median()) if nb else float("nan"),
        "effect": g,
        "effect_measure": "hedges_g",
        "strength": r,
        "direction": "higher among best" if g > 0 else ("lower among best" if g < 0 else "same"),
        "column": column,
        "level": "",
        "column_effect": abs(g) if np.isfinite(g) else float("nan"),
        "n_best": na,
        "n_rest": nb,
        "mean_best": float(a.mean()) if na else float("nan"),
        "mean_rest": float(b.mean()) if nb else float("nan"),
        "missing_best": n_best - na,
        "missing_rest": n_rest - nb,
    }


def best_vs_rest(
    features: pd.DataFrame,
    best,
    *,
    defines_best: Iterable[str] = (),
    exclude: Iterable[str] = (),
    max_levels: int = 30,
    min_count: int = 5,
) -> pd.DataFrame:
    """Compare best customers with the rest on every trait column.

    Parameters
    ----------
    features : DataFrame
        One row per account (``features.parquet``).
    best : DataFrame, str or array-like of bool
        ``best_customers.parquet`` (joined on ``account_id``; only the
        accounts it marks ``in_comparison`` are compared), the name of a
        boolean column of ``features``, or flags aligned with its rows.
    defines_best : iterable of str
        Columns that are inputs of the value rule
        (:func:`icp_helpers.customers.best.rule_columns`); marked ``defines_best``.
    exclude : iterable of str
        Further columns to leave out (:data:`SKIP_COLUMNS` and date columns
        always are).
    max_levels : int
        Categorical columns with more levels than this (city names) are
        identifiers rather than traits and are skipped.
    min_count : int
        Levels held by fewer accounts are not listed (too rare to say
        anything), though they count in the column's Cramér's V.

    Returns
    -------
    DataFrame
        One row per trait with :data:`TABLE_COLUMNS`, sorted by ``strength``
        (most typical of the best first); see the module docstring.
    """
    if isinstance(best, pd.DataFrame) and "in_comparison" in best:
        # the comparison population of the value rule: active accounts unless configured otherwise
        compared = best.drop_duplicates("account_id").set_index("account_id")["in_comparison"]
        keep = features["account_id"].map(compared).fillna(False).astype(bool).to_numpy()
        features = features[keep].reset_index(drop=True)
    is_best = _best_mask(features, best)
    n_best, n_rest = int(is_best.sum()), int((~is_best).sum())
    skip = set(SKIP_COLUMNS) | set(exclude)
    circular = set(defines_best)
    rows: list[dict] = []
    for column in features.columns:
        if column in skip or column.startswith("_"):
            continue
        series = features[column]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            continue
        if _is_flag(series):
            has = series.fillna(False).astype(bool).to_numpy()
            valid = series.notna().to_numpy()
            if has.sum() < min_count:
                continue
            row = _level_row(column, True, has, valid, is_best, "flag", n_best, n_rest)
            row["column_effect"] = abs(row["effect"])
            rows.append(row)
        elif pd.api.types.is_numeric_dtype(series.dtype):
            row = _numeric_row(column, series, is_best, n_best, n_rest)
            if row is not None:
                rows.append(row)
        else:
            if isinstance(series.dtype, pd.StringDtype) and series.nunique() > max_levels:
                continue  # names, cities: told apart without turning a million cells into objects
            levels, codes = text_levels(series)
            if len(levels) < 2 or len(levels) > max_levels:
                continue
            valid = codes >= 0
            # the contingency table of levels x (rest, best), counted on the integer codes
            table = np.stack(
                [np.bincount(codes[valid & side], minlength=len(levels)) for side in (~is_best, is_best)],
                axis=1,
            )
            column_v = cramers_v(table)
            for position, level in enumerate(levels):
                if table[position].sum() < min_count:
                    continue
                has = codes == position
                row = _level_row(column, level, has, valid, is_best, "categorical", n_best, n_rest)
                row["column_effect"] = column_v
                rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c in TABLE_COLUMNS if c != "defines_best"])
    table.insert(TABLE_COLUMNS.index("defines_best"), "defines_best", table["column"].isin(circular))
    table = table.sort_values(
        ["strength", "trait"], ascending=[False, True], na_position="last", kind="mergesort"
    ).reset_index(drop=True)
    for column in ("n_best", "n_rest"):
        table[column] = table[column].astype("int64")
    for column in ("best_count", "rest_count", "missing_best", "missing_rest"):
        table[column] = table[column].astype("Int64")
    table.attrs.update(n_best=n_best, n_rest=n_rest)
    return table


def _value_text(value: float, kind: str) -> str:
    if pd.isna(value):
        return "n/a"
    if kind == "numeric":
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{value:.0%}"


def summary_text(table: pd.DataFrame, *, top: int = 6) -> str:
    """The strongest differences in Markdown bullets, value-rule columns left out."""
    data = table[~table["defines_best"]].dropna(subset=["strength"])
    lines = []
    for title, part in (
        ("More typical of best customers", data[data["strength"] > 0].head(top)),
        ("Less typical of best customers", data[data["strength"] < 0].sort_values("strength").head(top)),
    ):
        if part.empty:
            continue
        lines.append(f"**{title}:**")
        lines.append("")
        for row in part.itertuples():
            measure = "V" if row.effect_measure == "cramers_v" else "g"
            what = "share" if row.kind != "numeric" else "median"
            lines.append(
                f"- `{row.trait}`: {what} {_value_text(row.best, row.kind)} among best vs "
                f"{_value_text(row.rest, row.kind)} among the rest ({measure} = {row.effect:+.2f})"
            )
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- XLSX


_XLSX_COLUMNS = {
    "trait": ("Trait", 34, None),
    "kind": ("Kind", 12, None),
    "direction": ("Direction", 24, None),
    "best": ("Best customers", 15, None),
    "rest": ("Rest", 12, None),
    "effect": ("Effect", 10, "0.00"),
    "effect_measure": ("Effect measure", 15, None),
    "strength": ("Strength (r scale)", 18, "0.00"),
    "lift": ("Lift", 8, "0.00"),
    "defines_best": ("Defines best (circular)", 22, None),
    "column_effect": ("Column effect", 14, "0.00"),
    "best_count": ("Best with trait", 15, "0"),
    "rest_count": ("Rest with trait", 15, "0"),
    "n_best": ("Best accounts", 14, "0"),
    "n_rest": ("Rest accounts", 14, "0"),
    "missing_best": ("Best missing", 13, "0"),
    "missing_rest": ("Rest missing", 13, "0"),
}

_README_ROWS = (
    ("What this is", "Best customers compared with the rest of the accounts on every trait."),
    ("Trait", "column=level for a category, the column name for a number or a yes/no flag."),
    ("Best customers / Rest", "Share of accounts with the trait (category, flag) or median value (number)."),
    ("Effect", "Cramér's V (bias-corrected), signed + when more common among best, for categories "
     "and flags; Hedges' g (best minus rest, in pooled standard deviations) for numbers."),
    ("Strength (r scale)", "Both effects as a correlation with being a best customer; the sort order."),
    ("Lift", "Share among best divided by share among the rest."),
    ("Defines best (circular)", "Yes for inputs of the value rule and columns restating them: "
     "they are high among best customers by construction, not a finding."),
    ("Column effect", "Cramér's V of all levels of the column together with being a best customer."),
)


def write_traits_document(
    table: pd.DataFrame,
    path: str | Path,
    *,
    title: str = "Customer traits: best customers vs the rest",
    notes: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write the commonalities table as the "customer traits document" (XLSX).

    Sheet ``best vs rest``: one row per trait, readable headers, frozen
    header row, autofilter, column widths and number formats (shares as
    percentages). Sheet ``read me``: what every column means, plus ``notes``
    (e.g. the quarter and value rule) as (label, text) pairs.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from ..data.formulas import safe_cell

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [c for c in _XLSX_COLUMNS if c in table.columns]
    wb = Workbook()
    ws = wb.active
    ws.title = "best vs rest"
    header_fill = PatternFill("solid", fgColor="1F4E79")
    ws.append([_XLSX_COLUMNS[c][0] for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    circular_fill = PatternFill("solid", fgColor="EDEDED")
    for record in table[columns].itertuples(index=False):
        values = []
        for column, value in zip(columns, record, strict=True):
            if value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                value = None
            elif isinstance(value, np.generic):
                value = value.item()
            if column == "defines_best":
                value = "yes" if value else ""
            values.append(safe_cell(value))
        ws.append(values)
        row = ws.max_row
        shares = record[columns.index("kind")] != "numeric"
        for j, column in enumerate(columns, start=1):
            cell = ws.cell(row=row, column=j)
            fmt = _XLSX_COLUMNS[column][2]
            if column in ("best", "rest"):
                fmt = "0.0%" if shares else "#,##0.00"
            if fmt:
                cell.number_format = fmt
            if "defines_best" in columns and values[columns.index("defines_best")]:
                cell.fill = circular_fill
    for j, column in enumerate(columns, start=1):
        width = _XLSX_COLUMNS[column][1]
        if column == "trait" and len(table):
            width = min(60, max(width, int(table["trait"].astype(str).str.len().max()) + 2))
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions

    about = wb.create_sheet("read me")
    about.append([safe_cell(title)])
    about["A1"].font = Font(bold=True, size=14)
    about.append([])
    for label, text in [*notes, *_README_ROWS]:
        about.append([safe_cell(label), safe_cell(text)])
        about.cell(row=about.max_row, column=1).font = Font(bold=True)
        about.cell(row=about.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    about.column_dimensions["A"].width = 26
    about.column_dimensions["B"].width = 100
    wb.save(path)
    return path


# --------------------------------------------------------------------------- plot


def plot_best_vs_rest(table: pd.DataFrame, *, top: int = 15, include_circular: bool = False, fig=None):
    """Best-vs-rest chart: shares of the most distinctive traits, and effects of numbers.

    Left: for the ``top`` categorical levels and flags with the largest
    strength, the share of best customers (dark dot) and of the rest (light
    dot). Right: Hedges' g of the numeric columns, largest first. Columns
    that define "best" are left out unless ``include_circular``.

    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    data = table if include_circular else table[~table["defines_best"]]
    shares = data[data["kind"] != "numeric"].dropna(subset=["strength"])
    shares = shares.reindex(shares["strength"].abs().sort_values(ascending=False).index).head(top)
    shares = shares.sort_values("strength")
    numbers = data[data["kind"] == "numeric"].dropna(subset=["effect"])
    numbers = numbers[np.isfinite(numbers["effect"])]
    numbers = numbers.reindex(numbers["effect"].abs().sort_values(ascending=False).index).head(top)
    numbers = numbers.sort_values("effect")

    if fig is None:
        fig = plt.figure(figsize=(13, max(4.0, 0.34 * max(len(shares), len(numbers)) + 1.5)))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    y = np.arange(len(shares))
    left.hlines(y, shares["rest"], shares["best"], color="#bbbbbb", linewidth=2)
    left.scatter(shares["rest"], y, color="#b8c4d6", s=45, label="rest", zorder=3)
    left.scatter(shares["best"], y, color="#2a6f97", s=45, label="best customers", zorder=3)
    left.set_yticks(y, shares["trait"])
    left.set_xlabel("share of accounts with the trait")
    left.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    left.set_title("Traits: best customers vs the rest")
    left.legend(frameon=False, loc="lower right")

    y = np.arange(len(numbers))
    colors = np.where(numbers["effect"] > 0, "#2a6f97", "#c44e52")
    right.barh(y, numbers["effect"], color=colors)
    right.axvline(0, color="#555555", linewidth=0.8)
    right.set_yticks(y, numbers["trait"])
    right.set_xlabel("Hedges' g (best minus rest, in SDs)")
    right.set_title("Numbers: standardised difference")
    fig.tight_layout()
    return fig
