"""Calendar quarters: parsing ``2026Q3``, analysis windows and ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

__all__ = ["Quarter", "QuarterError", "quarter_range", "latest_complete_quarter"]

_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


class QuarterError(ValueError):
    """A quarter string that is not ``YYYYQn``."""


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter such as ``2026Q3``.

    Parameters
    ----------
    year : int
    q : int
        1 to 4.
    """

    year: int
    q: int

    @classmethod
    def parse(cls, text: str | Quarter) -> Quarter:
        """Parse ``YYYYQn`` (case-insensitive), raising :class:`QuarterError` otherwise."""
        if isinstance(text, Quarter):
            return text
        match = _QUARTER_RE.match(str(text).strip().upper())
        if not match:
            raise QuarterError(f"quarter {text!r} is not of the form YYYYQn, e.g. 2026Q3")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, timestamp) -> Quarter:
        """The quarter a date or timestamp falls in."""
        ts = pd.Timestamp(timestamp)
        return cls(ts.year, (ts.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    def __add__(self, n: int) -> Quarter:
        index = self.year * 4 + (self.q - 1) + int(n)
        return Quarter(index // 4, index % 4 + 1)

    def __sub__(self, n: int) -> Quarter:
        return self + (-int(n))

    @property
    def start(self) -> pd.Timestamp:
        """First instant of the quarter."""
        return pd.Timestamp(year=self.year, month=3 * (self.q - 1) + 1, day=1)

    @property
    def end(self) -> pd.Timestamp:
        """First instant *after* the quarter (windows are half-open ``[start, end)``)."""
        return (self + 1).start

    def window(self, n_quarters: int) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Half-open ``[start, end)`` of the ``n_quarters`` quarters ending with this one."""
        if n_quarters < 1:
            raise QuarterError("a window needs at least one quarter")
        return (self - (n_quarters - 1)).start, self.end


def quarter_range(spec: str) -> list[Quarter]:
    """Expand ``2025Q1:2026Q3`` (inclusive) or a single quarter into a list."""
    first, _, last = str(spec).partition(":")
    lo = Quarter.parse(first)
    hi = Quarter.parse(last) if last else lo
    if hi < lo:
        raise QuarterError(f"quarter range {spec!r} ends before it starts")
    out, q = [], lo
    while q <= hi:
        out.append(q)
        q = q + 1
    return out


def latest_complete_quarter(dates) -> Quarter:
    """The last quarter fully covered by ``dates``.

    A quarter counts as complete when the data reaches into its final month;
    if the last date is early in a quarter, the previous quarter is the latest
    complete one.
    """
    last = pd.Timestamp(pd.Series(dates).max())
    if pd.isna(last):
        raise QuarterError("no dates to find the latest complete quarter from")
    quarter = Quarter.of(last)
    if last.month != 3 * quarter.q:
        quarter = quarter - 1
    return quarter
