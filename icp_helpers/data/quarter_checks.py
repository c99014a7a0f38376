"""Quarters checked against the data before anything runs.

``icp run`` used to accept any well-formed quarter and find out in step 5, or
never: a quarter after the data ran "ok" on an empty window and became the
newest report on the index. Here a quarter (or a range's two ends, before the
range is expanded, so ``0001Q1:9999Q4`` is refused at once) is compared with
the closed deals' dates, read cheaply (two columns):

- after the quarter of the last closed deal: refused, there is no data in it;
- the quarter of the last closed deal but not complete (the data does not
  reach its final month): refused unless ``allow_incomplete``, then marked
  incomplete;
- before the first won deal, or with no won deal in its analysis window:
  refused with the data's date range.

Messages name the option the user typed and suggest the right syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from .config import ProjectConfig
from .quarters import Quarter, QuarterError

__all__ = [
    "DealDates",
    "QuarterPlan",
    "deal_dates",
    "parse_quarter_spec",
    "check_quarters",
]

_QUARTER_TEXT = r"\d{1,4}\s*-?\s*[qQ]\s*\d"
# Range separators people type instead of ':' ("2025Q3-2026Q3", "2025Q3..2026Q3", "2025Q3 to 2026Q3").
_WRONG_RANGE_RE = re.compile(
    rf"^\s*(?P<lo>{_QUARTER_TEXT})\s*(?:-|–|—|\.\.\.?|/|,|\bto\b|\s)\s*(?P<hi>{_QUARTER_TEXT})\s*$",
    re.IGNORECASE,
)
_LOOSE_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*-?\s*[qQ]\s*([1-4])\s*$")


@dataclass(frozen=True)
class DealDates:
    """What the closed deals say about which quarters can be analysed.

    Attributes
    ----------
    won : pandas.Series
        Won deals per quarter of their close date (index :class:`Quarter`,
        sorted; quarters without a won deal left out).
    first_won, last_won, last_closed : pandas.Timestamp
        The data's range (closed = won or lost).
    latest_complete : Quarter
        The last quarter the data covers to its final month.
    """

    won: pd.Series
    first_won: pd.Timestamp
    last_won: pd.Timestamp
    last_closed: pd.Timestamp
    latest_complete: Quarter

    def describe(self) -> str:
        """``won deals close from 2024-01-03 to 2026-09-30 (latest complete quarter 2026Q3)``."""
        return (
            f"won deals close from {self.first_won:%Y-%m-%d} to {self.last_won:%Y-%m-%d} "
            f"(latest complete quarter {self.latest_complete})"
        )


@dataclass
class QuarterPlan:
    """Checked quarters: what runs, which of them are incomplete, what was refused."""

    quarters: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def deal_dates(config: ProjectConfig) -> DealDates:
    """The closed deals' dates of ``config`` (reading only two columns where it can).

    Raises
    ------
    ValueError
        No closed deal with a readable ``close_date``, or none won; the message
        names the files.
    """
    from .loaders import closed_deal_dates, latest_complete_quarter

    closed = closed_deal_dates(config)
    files = ", ".join(str(p) for p in config.input_paths("deals")) or "inputs.deals"
    if closed.empty:
        raise ValueError(
            f"deals ({files}): no won or lost deal has a readable close_date, so there is no "
            "quarter to analyse; `icp validate` lists the rows and why they were set aside"
        )
    won = closed[closed["stage"] == "won"]
    if won.empty:
        raise ValueError(
            f"deals ({files}): no deal is won (closed deals run from "
            f"{closed['first_close'].min():%Y-%m-%d} to {closed['last_close'].max():%Y-%m-%d}), "
            "so there are no customers to learn from"
        )
    last_closed = closed["last_close"].max()
    return DealDates(
        won=pd.Series(won["deals"].to_numpy(), index=pd.Index(won["quarter"], name="quarter"), name="won"),
        first_won=won["first_close"].min(),
        last_won=won["last_close"].max(),
        last_closed=last_closed,
        latest_complete=latest_complete_quarter([last_closed]),
    )


def parse_quarter_spec(spec: str, *, option: str = "--quarter") -> tuple[Quarter, Quarter]:
    """The two ends of ``2025Q1:2026Q3`` (or a single quarter twice), without expanding it.

    Raises
    ------
    QuarterError
        Naming ``option`` and, for a range written with ``-``, ``..`` or ``to``,
        the same range written with ``:``.
    """
    text = str(spec).strip()
    if ":" not in text:
        wrong = _WRONG_RANGE_RE.match(text)
        if wrong and not _LOOSE_QUARTER_RE.match(text):
            lo, hi = (_tidy(wrong.group(k)) for k in ("lo", "hi"))
            raise QuarterError(
                f"{option}: {text!r} is not a quarter or a range; a range is written with a "
                f"colon: --quarters {lo}:{hi}"
            )
    first, _, last = text.partition(":")
    ends = []
    for part in (first, last) if last or text.endswith(":") else (first,):
        try:
            ends.append(Quarter.parse(part))
        except QuarterError:
            loose = _LOOSE_QUARTER_RE.match(part)
            hint = f" (did you mean {loose.group(1)}Q{loose.group(2)}?)" if loose else ""
            raise QuarterError(
                f"{option}: {part.strip()!r} is not of the form YYYYQn, e.g. 2026Q3{hint}"
                + ("" if ":" in text or option == "--quarters" else "; a range is --quarters 2025Q1:2026Q3")
            ) from None
    lo, hi = ends[0], ends[-1]
    if hi < lo:
        raise QuarterError(f"{option}: quarter range {text!r} ends before it starts; try {hi}:{lo}")
    return lo, hi


def _tidy(text: str) -> str:
    loose = _LOOSE_QUARTER_RE.match(text)
    return f"{loose.group(1)}Q{loose.group(2)}" if loose else text.strip()


def check_quarters(
    config: ProjectConfig | None,
    specs: list[str],
    *,
    option: str = "--quarter",
    allow_incomplete: bool = False,
) -> QuarterPlan:
    """Resolve quarters and ranges against the data; every refusal becomes one problem line.

    Parameters
    ----------
    config : ProjectConfig or None
        The project (``None`` when the config itself failed: only the syntax is checked).
    specs : list of str
        Quarters or ranges as typed; empty means the latest complete quarter.
    option : str
        The command-line option the quarters came from, named in messages.
    allow_incomplete : bool
        Run the quarter of the last closed deal although the data does not
        reach its final month (listed in ``QuarterPlan.incomplete``).
    """
    plan = QuarterPlan()
    ends: list[tuple[str, Quarter, Quarter]] = []
    for spec in specs:
        try:
            lo, hi = parse_quarter_spec(spec, option=option)
        except QuarterError as exc:
            plan.problems.append(str(exc))
            continue
        ends.append((str(spec).strip(), lo, hi))
    if config is None or plan.problems:
        return plan
    if "deals" not in config.inputs:
        # Leads-only projects and snapshots: no deal dates to check against, only plausibility.
        this_year = pd.Timestamp.now().year
        for text, lo, hi in ends:
            if lo.year < 1900 or hi.year > this_year + 1:
                plan.problems.append(f"{option}: {text} is outside 1900 to {this_year + 1}")
            else:
                plan.quarters += [str(q) for q in _expand(lo, hi)]
        if not specs and config.is_snapshot:
            # a snapshot of per-customer totals is one quarter: the one it was taken in
            try:
                from .loaders import latest_quarter

                plan.quarters.append(str(latest_quarter(config)))
            except Exception as exc:  # a load problem names the file and column
                plan.problems.append(f"{option}: {exc}")
        elif not specs:
            plan.problems.append(
                f"{option}: this config names no deals to find the latest complete quarter from; "
                "give the quarter, e.g. --quarter 2026Q3"
            )
        plan.quarters = sorted(set(plan.quarters))
        return plan

    try:
        data = deal_dates(config)
    except Exception as exc:  # a load problem names the file and column
        quarters = " ".join(text for text, _, _ in ends)
        prefix = f"{option} {quarters}: " if quarters else f"{option}: "
        plan.problems.append(prefix + str(exc))
        return plan
    if not specs:
        ends = [(str(data.latest_complete), data.latest_complete, data.latest_complete)]

    last_data_quarter = Quarter.of(data.last_closed)
    first_quarter = Quarter.of(data.first_won)
    last_allowed = last_data_quarter if allow_incomplete else data.latest_complete
    lookback = config.analysis.lookback_quarters
    for _text, lo, hi in ends:
        if hi > last_data_quarter:
            plan.problems.append(
                f"{option}: {hi} is after the data: {data.describe()}; "
                + _suggest(lo, hi, first_quarter, data.latest_complete, option)
            )
            continue
        if hi > last_allowed:
            plan.problems.append(
                f"{option}: {hi} is not complete in the data (closed deals end "
                f"{data.last_closed:%Y-%m-%d}, before the quarter's last month); "
                f"use {data.latest_complete}, or add --allow-incomplete to run {hi} marked incomplete"
            )
            continue
        if lo < first_quarter:
            plan.problems.append(
                f"{option}: {lo} is before the data: {data.describe()}; "
                + _suggest(lo, hi, first_quarter, data.latest_complete, option)
            )
            continue
        for quarter in _expand(lo, hi):
            start, end = quarter.window(lookback)
            in_window = data.won[[quarter - lookback < q <= quarter for q in data.won.index]].sum()
            if not in_window:
                plan.problems.append(
                    f"{option}: {quarter} has no won deal in its analysis window "
                    f"{start:%Y-%m-%d} to {end:%Y-%m-%d} ({lookback} quarters); {data.describe()}"
                )
                continue
            plan.quarters.append(str(quarter))
            if quarter > data.latest_complete:
                plan.incomplete.append(str(quarter))
    plan.quarters = sorted(set(plan.quarters))
    plan.incomplete = sorted(set(plan.incomplete))
    return plan


def _expand(lo: Quarter, hi: Quarter) -> list[Quarter]:
    out, quarter = [], lo
    while quarter <= hi:
        out.append(quarter)
        quarter = quarter + 1
    return out


def _suggest(lo: Quarter, hi: Quarter, first: Quarter, last: Quarter, option: str) -> str:
    """The nearest quarter (or range) the data covers."""
    if lo == hi:
        nearest = last if hi > last else first
        return f"try --quarter {nearest}"
    return f"try --quarters {max(lo, first)}:{min(hi, last)}" if max(lo, first) <= min(hi, last) else (
        f"try --quarters {first}:{last}"
    )
