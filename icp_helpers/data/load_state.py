"""The working state of one table while it loads, shared by the pandas and the engine paths.

:class:`_Table` holds what ``loading.load_table`` gathers about a table
(files, units, problems, warnings); :func:`_empty_firmographics` words the
warning about expected columns left empty. Kept apart from ``loading.py``
so that ``engine_load.py`` uses them without importing the pandas path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import TABLE_SPECS
from .spelling import _rows

__all__: list[str] = []


class _Table:
    """Working state of one table while it loads (rows keep their read index)."""

    def __init__(self, table: str):
        self.table = table
        self.spec = TABLE_SPECS[table]
        self.kind: str | None = None
        self.guessed: dict[str, str] = {}  # demographic column -> the header its name suggested
        self.parts: list[pd.DataFrame] = []
        self.origins: list[pd.DataFrame] = []
        self.units: dict[str, str] = {}
        self.back: dict[str, str] = {}
        self.files: list[str] = []
        self.formats: list[str] = []
        self.warnings: list[str] = []
        self.problems: list[tuple[str, np.ndarray]] = []
        self.filled: dict[str, int] = {}

    def problem(self, reason: str, where) -> None:
        index = where[where].index if isinstance(where, pd.Series) else pd.Index(where)
        if len(index):
            self.problems.append((reason, index.to_numpy()))

    def where(
        self, index, origin: pd.DataFrame, values: pd.Series | None = None, n: int = 5
    ) -> str:
        shown = []
        for i in list(index)[:n]:
            file, row = origin.at[i, "source_file"], origin.at[i, "source_row"]
            text = f"{file} {self.units.get(file, 'row')} {row}"
            if values is not None:
                text += f": {values.at[i]!r}"
            shown.append(text)
        more = f" and {len(index) - n:,} more" if len(index) > n else ""
        return "; ".join(shown) + more


def _empty_firmographics(frame: pd.DataFrame, work: _Table) -> list[str]:
    out = []
    for column in work.spec.columns:
        if column.required and not column.not_null and column.name in frame.columns:
            empty = int(frame[column.name].isna().sum())
            if empty and not (work.table == "deals" and column.name in ("close_date", "amount")):
                out.append(
                    f"{work.table}.{column.name}: {_rows(empty)} without a value (kept; "
                    f"they match no {column.name} trait)"
                )
    return out


