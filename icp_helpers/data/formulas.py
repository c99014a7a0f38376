"""One formula guard for every spreadsheet and CSV the project writes.

Spreadsheet programs run a cell that starts like a formula, and the cells
the project writes come from exports anyone could have typed into: account
names, job titles, extra column names (which become headers and trait ids),
the raw values of quarantined rows. A text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return, also after leading spaces,
gets a leading apostrophe (OWASP "CSV injection"); numbers, booleans and
dates are left as they are. Every CSV and XLSX writer of the package
(scored exports, ``commonalities.xlsx``, ``quarantine/*.csv``) goes through
:func:`safe_cell` or :func:`safe_frame`.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "is_formula", "safe_cell", "safe_text", "safe_frame"]

#: Leading characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: A formula prefix at the start, or after leading whitespace (``" =1+1"``).
_FORMULA_RE = re.compile(r"^[\t\r]|^\s*[=+\-@]")
_FORMULA_PATTERN = _FORMULA_RE.pattern


def is_formula(text: str) -> bool:
    """Whether ``text`` would be run as a formula by a spreadsheet."""
    return bool(_FORMULA_RE.match(text))


def safe_cell(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet would run as a formula.

    Text that begins with one of :data:`FORMULA_PREFIXES` (after optional
    whitespace) gets a leading apostrophe; every other value, including
    numbers (negative ones too), booleans, dates and missing values, is
    returned unchanged.
    """
    if isinstance(value, str) and _FORMULA_RE.match(value):
        return "'" + value
    return value


def safe_text(series: pd.Series) -> pd.Series:
    """:func:`safe_cell` over a text column at once (no Python call per cell)."""
    text = series.astype("string") if not pd.api.types.is_string_dtype(series.dtype) else series
    danger = text.str.contains(_FORMULA_PATTERN, regex=True).fillna(False).to_numpy(dtype=bool)
    if not danger.any():
        return series
    out = series.astype(object).copy()
    out[danger] = "'" + text[danger].astype(str)
    return out


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with headers and text cells guarded; other columns unchanged."""
    out = frame.copy()
    out.columns = [safe_cell(str(c)) for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            column = column.astype(object)
        elif not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue
        if pd.api.types.is_object_dtype(column.dtype) and pd.api.types.infer_dtype(
            column, skipna=True
        ) not in ("string", "empty"):
            guarded = column.map(safe_cell, na_action="ignore")
        else:
            guarded = safe_text(column)
        out.isetitem(position, guarded)
    return out
