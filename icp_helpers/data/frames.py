"""Column operations that pandas runs slowly on Arrow-backed strings.

pandas 3 keeps text as Arrow strings. Its ``Series.isin`` on such a column
turns every value to look for into an Arrow scalar in Python first: 2
million contacts against 200,000 account ids took 1.5 s, against 0.4 s in
Arrow's own hash table, where membership tests against the accounts of a
large project (personas, lead scoring, sales cuts) are therefore done.
Finding repeated ids among 20 million deals took pandas 15.5 s on one core,
and DuckDB 3 to 6 s on two; millions of ids are looked up among a million
accounts by a DuckDB join as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["isin", "positions", "duplicated", "text_levels", "ColumnMap", "DUPLICATED_MIN_ROWS", "JOIN_MIN_ROWS", "JOIN_MIN_VALUES"]

#: Text columns at least this long are checked for repeats through DuckDB.
DUPLICATED_MIN_ROWS = 1_000_000

#: Lookups of at least this many cells among at least ``JOIN_MIN_VALUES``
#: values run as a DuckDB join on both cores: checking 20 million deals'
#: account ids against a million accounts took Arrow's hash table 5.9 s,
#: the join 2.6 s.
JOIN_MIN_ROWS = 1_000_000
JOIN_MIN_VALUES = 100_000


def _join(cells, keys, *, positions: bool) -> np.ndarray:
    """By a DuckDB join: whether each cell equals a key, or the position of the first such key (-1: none).

    Missing cells match nothing.
    """
    import duckdb

    with duckdb.connect() as con:
        con.register("cells", pa.table({"k": cells, "i": np.arange(len(cells), dtype=np.int64)}))
        con.register("keys", pa.table({"k": keys, "j": np.arange(len(keys), dtype=np.int64)}))
        if not positions:
            hit = con.sql("select i from cells semi join keys using (k)").to_arrow_table()
            found = np.zeros(len(cells), dtype=bool)
            found[hit.column("i").to_numpy()] = True
            return found
        pairs = con.sql(
            "select i, j from cells join (select k, min(j) as j from keys group by k) using (k)"
        ).to_arrow_table()
    out = np.full(len(cells), -1, dtype=np.int64)
    out[pairs.column("i").to_numpy()] = pairs.column("j").to_numpy()
    return out


def _large(data, wanted) -> bool:
    return len(data) >= JOIN_MIN_ROWS and len(wanted) >= JOIN_MIN_VALUES


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
            if _large(data, wanted):
                return pd.Series(_join(data, wanted, positions=False), index=column.index)
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
        if _large(data, keys):
            found = _join(data, keys, positions=True)
            if keys.null_count:  # as in get_indexer, a missing cell finds the first missing key
                found[pc.is_null(data).to_numpy(zero_copy_only=False)] = int(
                    np.flatnonzero(pc.is_null(keys).to_numpy(zero_copy_only=False))[0]
                )
            return found
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


class ColumnMap(Mapping):
    """A read-only ``key -> value`` mapping over two aligned columns, looked up on demand.

    Reports name a handful of accounts; ``dict(zip(keys, values))`` over a
    million of them spends seconds making Python objects. Each lookup here
    is one :func:`isin` pass over the keys. As with that dict, a repeated key
    maps to its last value.

    Parameters
    ----------
    keys, values : Series
        Aligned row for row (their index is ignored).
    """

    def __init__(self, keys: pd.Series, values: pd.Series):
        if len(keys) != len(values):
            raise ValueError(f"keys has {len(keys)} rows but values has {len(values)}")
        self._keys = keys.reset_index(drop=True)
        self._values = values.reset_index(drop=True)

    def subset(self, wanted: Iterable) -> dict:
        """The entries of the ``wanted`` keys that exist, in one pass."""
        hit = isin(self._keys, list(wanted))
        return dict(zip(self._keys[hit], self._values[hit], strict=True))

    def __getitem__(self, key):
        found = self.subset([key])
        if key not in found:
            raise KeyError(key)
        return found[key]

    def __iter__(self) -> Iterator:
        return iter(self._keys.drop_duplicates())

    def __len__(self) -> int:
        return int(self._keys.nunique(dropna=False))


def text_levels(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``series`` as sorted text, and each row's position among them (-1: missing).

    What ``series.astype(str)`` cell by cell would give, without making a
    Python string of every cell of a million-row column.

    Text and categories are numbered where they live (Arrow, the
    categories) and only the distinct values are turned into text; mixed
    objects are turned into text first, so that ``1`` and ``1.0`` stay apart.
    """
    if series.dtype == object:
        series = pd.Series(np.where(series.notna(), series.astype(str), None), index=series.index, dtype=object)
    codes, uniques = pd.factorize(series)
    text = np.array([str(value) for value in uniques], dtype=object)
    levels, at = np.unique(text, return_inverse=True)
    return levels, np.where(codes >= 0, at.ravel()[np.maximum(codes, 0)] if len(at) else 0, -1)
