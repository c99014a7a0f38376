"""The facts the sales cuts need from the won deals, aggregated on the engine.

The deals of a large project stay in the Ibis backend (DuckDB by default,
Spark or a database); the sales cuts bring back only what they report: the
window's customers, their won value, whether close dates carry a time of
day, the spend per group of customers, the weekday x hour counts and the
sums behind the rank test of best customers' deal amounts against the
others'. Each result is per account or smaller, so the memory of the
notebook does not grow with the deals. The functions of :mod:`.cuts` call
these when they are given an Ibis table, and compute the same numbers as
their pandas versions (tested for equality).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import special, stats

from ..data.engine import _table_backend, as_table, connect

__all__ = [
    "held_won_deals",
    "table_won_deals",
    "table_customers",
    "table_won_value",
    "table_has_time",
    "table_spend_thresholds",
    "table_rank_test",
    "table_weekday_hour",
]

#: The deal columns the cuts read.
_DEAL_COLUMNS = ("account_id", "close_date", "amount", "stage")
#: Below this many deals on either side scipy may pick its exact test: the amounts are fetched.
_EXACT_MAX = 8


def _backend(table: ir.Table, backend=None):
    return backend or _table_backend(table) or connect()


def _frame(expr: ir.Table, backend) -> pd.DataFrame:
    """Run ``expr`` on ``backend`` and return a pandas frame (Arrow first where the backend can)."""
    if getattr(backend, "name", "") == "pyspark":
        return backend.execute(expr)
    return backend.to_pyarrow(expr).to_pandas()


def table_won_deals(deals: ir.Table, *, window: tuple[Any, Any] | None = None) -> ir.Table:
    """Won deals (``stage`` won, or every deal without a stage) closed inside ``[start, end)``.

    The engine counterpart of :func:`icp_helpers.leads.cuts.won_deals`: an
    Ibis expression (nothing runs yet) with ``account_id``, ``close_date``
    as a timestamp, ``amount`` as a float and ``stage`` when present.
    """
    won = deals.select(*[c for c in _DEAL_COLUMNS if c in deals.columns])
    close = won.close_date
    if close.type().is_string():
        close = close.try_cast("timestamp")
    elif not close.type().is_timestamp():
        close = close.cast("timestamp")
    won = won.mutate(close_date=close, amount=won.amount.try_cast("float64"))
    if window is not None:
        start, end = (pd.Timestamp(v).to_pydatetime() for v in window)
        won = won.filter(won.close_date >= start, won.close_date < end)
    if "stage" in won.columns:
        won = won.filter(won.stage.cast("string").lower() == "won")
    return won


@contextmanager
def held_won_deals(
    deals: ir.Table, *, window: tuple[Any, Any] | None = None, backend=None
) -> Iterator[tuple[ir.Table, Any]]:
    """The window's won deals, and the backend they run on, for the length of a ``with`` block.

    On DuckDB they are written once to a temporary table (three or four
    columns of the window's won deals, which DuckDB can spill to disk), so
    that the cuts' several queries do not each read and filter every deal
    again; the table is dropped when the block ends. Other engines get the
    expression itself.
    """
    backend = _backend(deals, backend)
    won = table_won_deals(deals, window=window)
    if getattr(backend, "name", "") != "duckdb":
        yield won, backend
        return
    name = f"icp_won_deals_{uuid.uuid4().hex}"
    held = backend.create_table(name, won, temp=True)
    try:
        yield held, backend
    finally:
        # raw SQL: this ibis' drop_table renders the statement without the table's name
        backend.raw_sql(f'DROP TABLE IF EXISTS "{name}"')


def table_customers(won: ir.Table, *, backend=None) -> pd.Series:
    """The distinct accounts of the won deals (in no particular order)."""
    backend = _backend(won, backend)
    return _frame(won.select("account_id").distinct(), backend)["account_id"]


def table_won_value(won: ir.Table, *, backend=None) -> pd.Series:
    """Won value per account (index ``account_id``)."""
    backend = _backend(won, backend)
    frame = _frame(won.group_by("account_id").aggregate(amount=won.amount.sum()), backend)
    return frame.set_index("account_id")["amount"]


def table_has_time(won: ir.Table, *, backend=None) -> bool:
    """Whether any close date carries an hour or minute other than midnight."""
    backend = _backend(won, backend)
    timed = (won.close_date.hour() != 0) | (won.close_date.minute() != 0)
    value = _frame(won.aggregate(timed=timed.any()), backend)["timed"].iloc[0]
    return bool(value) if not pd.isna(value) else False


def table_spend_thresholds(
    won: ir.Table, *, by: pd.Series | None = None, label: str = "group", backend=None
) -> pd.DataFrame:
    """:func:`icp_helpers.leads.cuts.spend_thresholds` of won deals held by the engine.

    The group of each account (``by``, index ``account_id``) is joined to
    the deals in the engine; deals of accounts outside ``by``, and accounts
    whose group is missing, fall in ``(none)``.
    """
    backend = _backend(won, backend)
    deals = won
    if by is None:
        deals = won.mutate(group=ibis.literal("all"))
    else:
        by = by[~by.index.duplicated()]
        labels = by.astype(object).where(by.notna(), "(none)").astype(str)
        groups = as_table(
            pd.DataFrame(
                {"account_id": by.index.to_numpy(), "group": labels.to_numpy(dtype=object)}
            ),
            backend,
        )
        if groups.account_id.type() != won.account_id.type():
            groups = groups.mutate(account_id=groups.account_id.cast(won.account_id.type()))
        joined = won.left_join(groups, "account_id")
        deals = joined.select(
            "account_id", "amount", group=joined.group.fill_null(ibis.literal("(none)"))
        )
    expr = deals.group_by("group").aggregate(
        accounts=deals.account_id.nunique(),
        deals=deals.count(),
        spend_min=deals.amount.min(),
        spend_median=deals.amount.median(),
        spend_max=deals.amount.max(),
        won_value=deals.amount.sum(),
    )
    frame = _frame(expr, backend)
    table = pd.DataFrame(
        {
            "accounts": frame["accounts"].to_numpy(dtype=np.int64),
            "deals": frame["deals"].to_numpy(dtype=np.int64),
            "spend_min": frame["spend_min"].to_numpy(dtype=float),
            "spend_median": frame["spend_median"].to_numpy(dtype=float),
            "spend_max": frame["spend_max"].to_numpy(dtype=float),
            # pandas sums a group of missing amounts to 0
            "won_value": frame["won_value"].astype(float).fillna(0.0).to_numpy(),
        },
        index=pd.Index(frame["group"].astype(object).to_numpy(), name=label),
    )
    return table.sort_index().sort_values("spend_median", ascending=False).reset_index()


def table_rank_test(won: ir.Table, outcome: pd.Series, *, backend=None) -> float:
    """Two-sided Mann-Whitney U p-value of best customers' deal amounts against the others'.

    The same test as ``scipy.stats.mannwhitneyu(best, rest)`` (average ranks
    for ties, tie-corrected normal approximation with continuity
    correction), from sums the engine computes over the distinct amounts:
    each amount's deals, best customers' deals and average rank. When either
    side holds at most eight deals scipy may choose its exact test, so the
    amounts themselves are fetched and handed to scipy. A deal of an
    account outside ``outcome`` counts with the rest; NaN when a side has no deal.
    """
    backend = _backend(won, backend)
    best_ids = outcome.index[outcome.fillna(False).astype(bool).to_numpy()]
    best = as_table(
        pd.DataFrame({"account_id": pd.unique(best_ids.to_numpy()), "is_best": 1}), backend
    )
    if best.account_id.type() != won.account_id.type():
        best = best.mutate(account_id=best.account_id.cast(won.account_id.type()))
    amounts = won.filter(won.amount.notnull())
    joined = amounts.left_join(best, "account_id")
    flagged = joined.select("amount", is_best=joined.is_best.fill_null(0).cast("int64"))
    per_amount = flagged.group_by("amount").aggregate(
        n=flagged.count(), n_best=flagged.is_best.sum()
    )
    ranked = per_amount.mutate(
        # average rank of an amount's deals: the ranks it spans, first + last over 2
        rank=per_amount.n.sum().over(ibis.window(order_by="amount", rows=(None, 0))).cast("float64")
        - (per_amount.n.cast("float64") - 1.0) / 2.0
    )
    n = ranked.n.cast("float64")
    sums = _frame(
        ranked.aggregate(
            n_all=ranked.n.sum(),
            n_best=ranked.n_best.sum(),
            rank_best=(ranked.n_best.cast("float64") * ranked.rank).sum(),
            ties=(n * n * n - n).sum(),
        ),
        backend,
    ).iloc[0]
    n_all = 0 if pd.isna(sums["n_all"]) else int(sums["n_all"])
    n1 = 0 if pd.isna(sums["n_best"]) else int(sums["n_best"])
    n2 = n_all - n1
    if not n1 or not n2:
        return float("nan")
    if n1 <= _EXACT_MAX or n2 <= _EXACT_MAX:
        values = _frame(flagged, backend)
        is_best = values["is_best"].to_numpy(dtype=bool)
        amount = values["amount"].to_numpy(dtype=float)
        return float(
            stats.mannwhitneyu(amount[is_best], amount[~is_best], alternative="two-sided").pvalue
        )
    # scipy's asymptotic branch (scipy.stats._mannwhitneyu), term by term
    u1 = float(sums["rank_best"]) - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    total = n1 + n2
    spread = np.sqrt(n1 * n2 / 12 * ((total + 1) - float(sums["ties"]) / (total * (total - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (u - n1 * n2 / 2 - 0.5) / spread
    return float(np.clip(special.ndtr(-z) * 2, 0.0, 1.0))


def table_weekday_hour(won: ir.Table, *, backend=None) -> np.ndarray:
    """Won deals per weekday (Monday 0) x hour of close, as a 7 x 24 array of counts."""
    backend = _backend(won, backend)
    dated = won.filter(won.close_date.notnull())
    expr = dated.group_by(
        weekday=dated.close_date.day_of_week.index(), hour=dated.close_date.hour()
    ).aggregate(n=dated.count())
    frame = _frame(expr, backend)
    cells = np.zeros(7 * 24, dtype=np.int64)
    cells[
        frame["weekday"].to_numpy(dtype=np.int64) * 24 + frame["hour"].to_numpy(dtype=np.int64)
    ] = frame["n"].to_numpy(dtype=np.int64)
    return cells.reshape(7, 24)
