"""Arrow-backed column operations agree with pandas' own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from icp_helpers.data import frames


@pytest.fixture
def ids() -> pd.Series:
    rng = np.random.default_rng(3)
    values = [f"D{i}" for i in range(5_000)]
    for i in rng.integers(0, 5_000, 20):  # a few ids repeated further down
        values.append(f"D{i}")
    values[100] = values[2_000] = values[4_000] = None
    return pd.Series(values, dtype="str").sample(frac=1, random_state=1).reset_index(drop=True)


@pytest.mark.parametrize("through_duckdb", [True, False])
def test_duplicated_equals_pandas(ids, monkeypatch, through_duckdb):
    monkeypatch.setattr(frames, "DUPLICATED_MIN_ROWS", 0 if through_duckdb else 10**9)
    expected = ids.duplicated(keep="first")
    got = frames.duplicated(ids)
    assert got.equals(expected)
    assert 20 <= got.sum() <= 22  # the repeats, and the second and third missing value


def test_duplicated_of_mostly_repeated_values_equals_pandas(monkeypatch):
    monkeypatch.setattr(frames, "DUPLICATED_MIN_ROWS", 0)
    column = pd.Series(np.random.default_rng(0).integers(0, 50, 2_000).astype(str), dtype="str")
    assert frames.duplicated(column).equals(column.duplicated(keep="first"))


@pytest.fixture(params=["arrow", "duckdb"])
def lookups_through(request, monkeypatch) -> str:
    """Run a lookup test through Arrow's hash table and through the DuckDB join."""
    if request.param == "duckdb":
        monkeypatch.setattr(frames, "JOIN_MIN_ROWS", 0)
        monkeypatch.setattr(frames, "JOIN_MIN_VALUES", 0)
    return request.param


@pytest.mark.parametrize(
    "values",
    [{"D1", "D7", "nope"}, ["D1", "D7"], pd.Series(["D3", None], dtype="str"), pd.Index(["D9"]), set(), ["D1", 7]],
)
def test_isin_equals_pandas(ids, values, lookups_through):
    expected = ids.isin(list(values)) & ids.notna()
    got = frames.isin(ids, values)
    assert got.index.equals(ids.index)
    assert got.dtype == bool
    assert got.equals(expected)


def test_isin_of_numbers_falls_back_to_pandas():
    column = pd.Series([1, 2, 3, 2])
    assert frames.isin(column, {2, 5}).tolist() == [False, True, False, True]


@pytest.mark.parametrize("index", [pd.Index(["D7", "D1", "D3"]), pd.Index(["D7", "D1"], dtype=object), pd.Index([])])
def test_positions_equal_get_indexer(ids, index, lookups_through):
    np.testing.assert_array_equal(frames.positions(ids, index), pd.Index(index).get_indexer(ids))


def test_positions_of_repeated_and_missing_keys_find_the_first(ids, lookups_through):
    keys = pd.Series(["D5", "D9", "D5", None, "D1", None], dtype="str")
    first = {"D5": 0, "D9": 1, "D1": 4}
    expected = [3 if pd.isna(v) else first.get(v, -1) for v in ids]
    np.testing.assert_array_equal(frames.positions(ids, keys), expected)


def test_positions_of_numbers_fall_back_to_get_indexer():
    np.testing.assert_array_equal(frames.positions(pd.Series([3, 1, 9]), pd.Index([1, 3])), [1, 0, -1])


def test_column_map_looks_up_like_a_dict_of_the_two_columns():
    keys = pd.Series(["a", "b", "c", "b", None], dtype="str", index=[5, 6, 7, 8, 9])
    values = pd.Series(["Alpha", "Beta", None, "Beta 2", "Nobody"], index=[0, 1, 2, 3, 4])
    lookup = frames.ColumnMap(keys, values)
    plain = dict(zip(keys, values, strict=True))
    assert lookup.get("a") == "Alpha"
    assert lookup.get("b") == plain["b"] == "Beta 2"  # a repeated key: its last value
    assert pd.isna(lookup.get("c")) and pd.isna(plain["c"]) and "c" in lookup
    assert lookup.get("zz", "missing") == "missing" and "zz" not in lookup
    assert lookup.subset(["a", "zz", "b"]) == {"a": "Alpha", "b": "Beta 2"}
    with pytest.raises(KeyError):
        lookup["zz"]
    with pytest.raises(ValueError, match="rows"):
        frames.ColumnMap(keys, values.head(2))


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["b", None, "a", "b", "ä"], dtype="str"),
        pd.Series(["x", 1, 1.0, "1", None, True], dtype=object),
        pd.Series(pd.Categorical(["lo", "hi", None, "lo"])),
        pd.Series([3, 1, 3], dtype="Int64"),
        pd.Series([], dtype="str"),
    ],
)
def test_text_levels_are_the_text_of_each_cell(values):
    levels, codes = frames.text_levels(values)
    text = [None if pd.isna(v) else str(v) for v in values.astype(object)]
    assert list(levels) == sorted({t for t in text if t is not None})
    assert [None if c < 0 else levels[c] for c in codes] == text
