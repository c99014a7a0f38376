import pandas as pd
import pytest

from icp_helpers.data.quarters import Quarter, QuarterError, latest_complete_quarter, quarter_range


def test_parse_and_format_round_trip():
    assert str(Quarter.parse("2026q3")) == "2026Q3"
    assert Quarter.parse(" 2026Q1 ") == Quarter(2026, 1)


@pytest.mark.parametrize("bad", ["2026Q5", "2026-Q3", "26Q1", "Q3 2026", "", "2026Q0"])
def test_bad_quarters_are_rejected_with_the_expected_form(bad):
    with pytest.raises(QuarterError, match="YYYYQn"):
        Quarter.parse(bad)


def test_arithmetic_crosses_year_boundaries():
    assert Quarter(2026, 1) - 1 == Quarter(2025, 4)
    assert Quarter(2025, 4) + 2 == Quarter(2026, 2)


def test_window_is_half_open_and_ends_with_the_quarter():
    start, end = Quarter(2026, 3).window(4)
    assert start == pd.Timestamp("2025-10-01")
    assert end == pd.Timestamp("2026-10-01")
    with pytest.raises(QuarterError):
        Quarter(2026, 3).window(0)


def test_range_is_inclusive_and_ordered():
    assert [str(q) for q in quarter_range("2025Q3:2026Q1")] == ["2025Q3", "2025Q4", "2026Q1"]
    assert quarter_range("2025Q3") == [Quarter(2025, 3)]
    with pytest.raises(QuarterError, match="ends before"):
        quarter_range("2026Q1:2025Q3")


def test_latest_complete_quarter_needs_the_last_month():
    assert latest_complete_quarter(["2026-01-05", "2026-09-30"]) == Quarter(2026, 3)
    assert latest_complete_quarter(["2026-01-05", "2026-08-31"]) == Quarter(2026, 2)
    with pytest.raises(QuarterError):
        latest_complete_quarter(pd.Series([], dtype="datetime64[ns]"))
