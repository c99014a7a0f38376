"""Column operations that pandas runs slowly on Arrow-backed strings.

pandas 3 keeps text as Arrow strings. Its ``Series.isin`` on such a column
turns every value to look for into an Arrow scalar in Python first: 2
million contacts against 200,000 account ids took 1.5 s, against 0.4 s in
Arrow's own hash table, where membership tests against the accounts of a
large project (personas, lead scoring, sales cuts) are therefore done.
Finding repeated ids among 20 million deals took pandas 15.5 s on one core,
and DuckDB 3 to 6 s on two.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["isin", "positions", "duplicated", "DUPLICATED_MIN_ROWS"]

#: Text columns at least this long are checked for repeats through DuckDB.
DUPLICATED_MIN_ROWS = 1_000_000


def _arrow_strings(values) -> pa.ChunkedArray | pa.Array | None:
    """``values`` as an Arrow string array, or None when they are not all text."""
    array = getattr(values, "array", None)
    data = getattr(array, "_pa_array", None)
    if data is not None:
        return data if pa.types.is_string(data.type) or pa.types.is_large_string(data.type) else None
    items = values if isinstance(values, list | tuple | np.ndarray) else list(values)
    try:
        return pa.array(items, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None


def isin(column: pd.Series, values: Iterable) -> pd.Series:
    """``column.isin(values)``, through Arrow's hash table when both are text.

    Parameters
    ----------
    column : Series
        The values to test.
    values : iterable
        The values to look for (a set, list, Series or Index).

    Returns
    -------
    Series of bool
        Indexed like ``column``; missing values are never found.
    """
    data = getattr(column.array, "_pa_array", None)
    if data is not None and (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
        wanted = _arrow_strings(values)
        if wanted is not None:
            if isinstance(wanted, pa.ChunkedArray):
                wanted = wanted.combine_chunks()
            found = pc.is_in(data, value_set=wanted.cast(data.type), skip_nulls=True)
            return pd.Series(
                found.to_numpy(zero_copy_only=False).astype(bool, copy=False), index=column.index
            )
    if not isinstance(values, set | list | tuple | np.ndarray | pd.Series | pd.Index):
        values = list(values)
    return column.isin(values)


def positions(column: pd.Series, index: pd.Index | pd.Series) -> np.ndarray:
    """Where each cell of ``column`` is in ``index`` (``-1`` when absent): ``index.get_indexer``.

    The lookup of millions of deals' account ids among a million accounts
    runs in Arrow's hash table when both hold text.
    """
    data = getattr(column.array, "_pa_array", None)
    keys = _arrow_strings(index)
    if data is not None and keys is not None and (pa.types.is_large_string(data.type) or pa.types.is_string(data.type)):
        if isinstance(keys, pa.ChunkedArray):
            keys = keys.combine_chunks()
        found = pc.index_in(data, value_set=keys.cast(data.type))
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return pd.Index(index).get_indexer(column)


def duplicated(column: pd.Series) -> pd.Series:
    """``column.duplicated(keep="first")``: every repeat of a value after its first row.

    Missing values count as one value, as in pandas. Long Arrow text columns
    (:data:`DUPLICATED_MIN_ROWS`) are grouped by DuckDB first, and pandas
    marks the repeats among the rows of a repeated value only; ids repeat
    rarely, and when they do often, pandas does the whole column.
    """
    data = getattr(column.array, "_pa_array", None)
    if data is None or len(column) < DUPLICATED_MIN_ROWS:
        return column.duplicated(keep="first")
    import duckdb

    with duckdb.connect() as con:
        con.register("keys", pa.table({"key": data}))
        repeated = con.sql(
            "select key from keys where key is not null group by key having count(*) > 1"
        ).to_arrow_table()
    if repeated.num_rows * 100 > len(column):
        return column.duplicated(keep="first")  # repeats everywhere: pandas' own pass is quicker
    out = pd.Series(False, index=column.index)
    if repeated.num_rows:
        rows = isin(column, repeated.column("key"))
        out[rows] = column[rows].duplicated(keep="first")
    missing = column.isna()
    if missing.sum() > 1:
        out[missing] = missing[missing].duplicated(keep="first")
    return out
