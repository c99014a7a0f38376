"""Per-account features, computed where the data lives through Ibis.

The deals table is the big one (millions of rows in a real CRM); everything
per account is small. So the features are built as Ibis expressions and run
on a backend: DuckDB in-process by default, Spark for data that has outgrown
one machine, or any Ibis backend named by URL (``engine`` in the config).
Only the per-account table comes back, as a pandas DataFrame.

Window and leakage
------------------
The analysis window is half-open: from the start of the first of
``lookback_quarters`` quarters to the end of ``quarter``
(:meth:`icp_helpers.data.quarters.Quarter.window`). Nothing dated at or after the
window end is read: deals closed later, accounts created later (left out
altogether, they did not exist yet), churn dates later (masked to missing),
referrals by accounts created later. Recency and tenure are measured at the
window end, so a rerun after more data arrives gives the same table.

Features (one row per account)
------------------------------
Counts use deals closed inside the window unless stated otherwise.

``won_deals``, ``lost_deals``
    Won and lost deals in the window. Open deals are not counted.
``lost_share``
    ``lost / (won + lost)``; missing when the account closed nothing.
``won_value``
    Sum of won amounts (0 without won deals).
``avg_deal_amount``
    ``won_value / won_deals``.
``n_units``, ``avg_deal_size``
    Units bought (sum of ``quantity``, else of ``items``) and units per won
    deal. Missing when the deals carry neither column.
``avg_deal_price``
    Price per unit: won amount over units, over the won deals that state units.
``spend_min``, ``spend_median``, ``spend_max``
    Smallest, median and largest won deal. The median is exact and linearly
    interpolated (the mean of the two middle amounts of an even count), the
    value of DuckDB's ``quantile_cont`` and Spark's ``percentile``.
``multi_item_share``, ``multi_item_buyer``
    Share of won deals that are multi-item, i.e. more than one line item
    (``items > 1``) or more than one unit (``quantity > 1``), whichever the
    deals have; ``multi_item_buyer`` is ``multi_item_share >= 0.5``.
``n_quarters_existed``, ``deal_frequency``
    Quarters of the window the account existed in (from the quarter of
    its ``customer since`` date, see tenure, to the last quarter; all of them
    when unknown), and won deals per such quarter. Dividing by the quarters
    it existed keeps new customers comparable with old ones. An account
    without any deal existed in every quarter of the window: this counts
    existence, not activity.
``n_quarters_with_purchase``
    Quarters of the window in which the account won at least one deal
    (0 for an account without deals): activity.
``first_deal``, ``last_deal``
    First deal of any stage and last won deal before the window end (they
    may lie before the window start).
``recency_days``
    Days from ``last_deal`` to the window end (fractional; missing when the
    account never won a deal).
``tenure_days``
    Days from the earlier of ``created_date`` and ``first_deal`` to the window end.
``preferred_weekday``, ``preferred_hour``, ``preferred_daypart``
    The most frequent weekday (``Monday`` ...), hour (0-23) and part of day
    (``night`` 0-5, ``morning`` 6-11, ``afternoon`` 12-17, ``evening`` 18-23)
    of the won deals' close times. Ties go to the earliest weekday/hour.
    When the close dates carry no time of day (every account's preferred
    hour comes out as midnight), hour and part of day are left missing.
``referrals``, ``was_referred``
    Accounts (created before the window end) whose ``referred_by`` is this
    account; whether this account itself came by referral. Only when the
    accounts have a ``referred_by`` column (absent, not zero, otherwise).
``case_study``
    Passed through from the accounts table (missing -> False).
``employees_band``, ``revenue_band``
    The standard bands of ``docs/architecture.md``.
``n_contacts``, ``job_role``, ``seniority``
    Contacts of the account and their most frequent job role and seniority
    (ties to the alphabetically first level). Named ``contact_job_role`` /
    ``contact_seniority`` when the accounts table has such a column itself.

Every column of the accounts table is passed through as well (``churned_date``
masked as above).

Performance
-----------
All deal features come from one grouped aggregation over the deals closed
before the window end (conditional counts and sums instead of one query per
feature), except two whose aggregate functions would hold every deal of an
account in memory at once: the median (a window sort that ranks each
account's won amounts and keeps the middle one or two) and the quarters with
a purchase (the distinct account-quarter pairs, then counted). Sorts and group-bys
spill to the engine's ``temp_directory`` past its ``memory_limit``;
``median()`` and distinct counts do not, which made 100 million deals fail
with DuckDB's out-of-memory error under a 2 GB limit. The two modes (weekday, hour) are each one small group-by over the
won deals of the window followed by a ``max`` over a packed key ``count *
base + (base - 1 - level)``, which yields the most frequent level with the
deterministic tie-break and avoids ``mode()`` (random on ties) and window
functions over the deals (only the small contacts table is ranked with
``row_number``). The per-account pieces are grouped under their own key
columns and joined onto the accounts in one chain of left joins. The
expression is compiled without Ibis' select fusing, so that the filtered
deals and contacts stay common table expressions that DuckDB reads once.
The whole expression avoids backend-specific functions and runs unchanged on
DuckDB and Spark; on DuckDB the result comes back through Arrow. Measured
against the equivalent hand-written DuckDB SQL (``bench/RESULTS.md``): 1.22
times its time on 2M deals, where building and compiling the expression
(about a quarter of a second on a first call) is most of the difference, and
1.10 times on 20M.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ..data.config import ProjectConfig
from ..data.demographics import add_demographics
from ..data.engine import _table_backend, as_table, connect
from ..data.quarters import Quarter

__all__ = [
    "WEEKDAYS",
    "DAYPARTS",
    "EMPLOYEE_BANDS",
    "REVENUE_BANDS",
    "DEAL_FEATURES",
    "connect",
    "as_table",
    "feature_window",
    "account_features",
    "project_features",
    "band_employees",
    "band_revenue",
]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: Parts of the day: (label, first hour, last hour inclusive).
DAYPARTS = (("night", 0, 5), ("morning", 6, 11), ("afternoon", 12, 17), ("evening", 18, 23))
#: Standard bands: (label, lower bound inclusive, upper bound exclusive).
EMPLOYEE_BANDS = (
    ("1-9", None, 10),
    ("10-49", 10, 50),
    ("50-249", 50, 250),
    ("250-999", 250, 1000),
    ("1000+", 1000, None),
)
REVENUE_BANDS = (
    ("<1M", None, 1e6),
    ("1M-10M", 1e6, 1e7),
    ("10M-50M", 1e7, 5e7),
    ("50M-250M", 5e7, 2.5e8),
    ("250M+", 2.5e8, None),
)

#: The columns computed from deals (see the module docstring).
DEAL_FEATURES = (
    "won_deals",
    "lost_deals",
    "lost_share",
    "won_value",
    "avg_deal_amount",
    "n_units",
    "avg_deal_size",
    "avg_deal_price",
    "spend_min",
    "spend_median",
    "spend_max",
    "multi_item_share",
    "multi_item_buyer",
    "n_quarters_existed",
    "n_quarters_with_purchase",
    "deal_frequency",
    "first_deal",
    "last_deal",
    "recency_days",
    "tenure_days",
    "preferred_weekday",
    "preferred_hour",
    "preferred_daypart",
)

_MODE_FEATURES = ("preferred_weekday", "preferred_hour", "preferred_daypart")
_CONTACT_FEATURES = ("job_role", "seniority", "contact_job_role", "contact_seniority")

_SECONDS_PER_DAY = 86400.0
_DEMOGRAPHIC_RAW = {"age", "birth_year", "income", "children", "marital_status"}


def feature_window(quarter: str | Quarter, *, lookback_quarters: int = 4) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Half-open ``[start, end)`` of the analysis window ending with ``quarter``."""
    return Quarter.parse(quarter).window(lookback_quarters)


# --------------------------------------------------------------------------- helpers


def _bands(value: ir.NumericValue, bands) -> ir.StringValue:
    cases = []
    for label, lower, upper in bands:
        cond = ibis.literal(True)
        if lower is not None:
            cond = cond & (value >= lower)
        if upper is not None:
            cond = cond & (value < upper)
        cases.append((cond, label))
    return ibis.cases(*cases, else_=ibis.null("string"))


def band_employees(employees: ir.NumericValue) -> ir.StringValue:
    """Standard employee band (``1-9`` ... ``1000+``) of a numeric Ibis column."""
    return _bands(employees, EMPLOYEE_BANDS)


def band_revenue(revenue: ir.NumericValue) -> ir.StringValue:
    """Standard annual-revenue band (``<1M`` ... ``250M+``) of a numeric Ibis column."""
    return _bands(revenue, REVENUE_BANDS)


def _float(value) -> ir.FloatingValue:
    return value.cast("float64")


#: Sums of amounts run in exact decimals (amounts rounded to 1e-10): a float sum on
#: several threads adds in whatever order the threads finish, so two runs on the same
#: export could differ in the last bits and move accounts across a cut-off.
_EXACT_SUM = "decimal(38, 10)"


def _exact_sum(value) -> ir.FloatingValue:
    """Sum of ``value`` that does not depend on the engine's threads (see ``_EXACT_SUM``)."""
    return value.cast(_EXACT_SUM).sum().cast("float64")


def _safe_div(num, den) -> ir.FloatingValue:
    return ibis.ifelse(den > 0, _float(num) / _float(den), ibis.null("float64"))


def _text(column: ir.Column) -> ir.StringValue:
    return column if column.type().is_string() else column.cast("string")


def _mode(deals: ir.Table, level: ir.IntegerValue, base: int, *, key: str, name: str) -> ir.Table:
    """Most frequent integer ``level`` (0 <= level < base) per account, packed; ties to the smallest.

    One row per account (``key``) with ``name``: ``count * base +
    (base - 1 - level)`` of the greatest count, which :func:`_unpack_mode`
    reads back.
    """
    counted = deals.group_by("account_id", _level=level.cast("int64")).aggregate(_n=ibis._.count())
    return counted.group_by(**{key: counted.account_id}).aggregate(
        **{name: (counted._n * base + (base - 1 - counted._level)).max()}
    )


def _unpack_mode(packed: ir.IntegerValue, base: int) -> ir.IntegerValue:
    return (base - 1 - packed % base).cast("int64")


def _dominant(contacts: ir.Table, column: str, *, key: str, name: str) -> ir.Table:
    """Most frequent non-missing level of a contact column per account (``key``); ties alphabetical."""
    known = contacts.filter(contacts[column].notnull())
    counted = known.group_by(["account_id", column]).aggregate(_n=ibis._.count())
    ranked = counted.mutate(
        _rank=ibis.row_number().over(
            group_by=counted.account_id, order_by=[ibis.desc(counted._n), counted[column]]
        )
    )
    first = ranked.filter(ranked._rank == 0)
    return first.select(**{key: first.account_id, name: _text(first[column])})


@contextlib.contextmanager
def _unfused_selects():
    """Compile without Ibis' fusing of consecutive selects (``ibis.options.sql.fuse_selects``).

    Unfused, a filtered table used by several parts (the deals, the won
    deals, the contacts) stays one common table expression, which DuckDB
    reads once; fused, each part scans the file again. Side by side in one
    process, the query took 0.95 and 1.02 times the reference SQL's time
    instead of 1.12 and 1.11 at 2M deals (two runs), and 0.87 instead of
    1.02 times at 20M.
    """
    previous = ibis.options.sql.fuse_selects
    ibis.options.sql.fuse_selects = False
    try:
        yield
    finally:
        ibis.options.sql.fuse_selects = previous


def _timestamp(column) -> ir.TimestampValue:
    return column if column.type().is_timestamp() else column.cast("timestamp")


# --------------------------------------------------------------------------- features


def account_features(
    deals,
    accounts,
    contacts=None,
    *,
    quarter: str | Quarter,
    lookback_quarters: int = 4,
    backend=None,
    columns: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Per-account feature table for the window ending with ``quarter``.

    Parameters
    ----------
    deals, accounts : DataFrame or ibis Table
        Canonical tables (``docs/architecture.md``). ``deals`` needs
        ``account_id``, ``close_date``, ``amount``; ``stage`` (default won),
        ``quantity`` and ``items`` are used when present.
    contacts : DataFrame or ibis Table, optional
        Canonical contacts; adds ``n_contacts`` and the dominant ``job_role``
        and ``seniority``.
    quarter : str or Quarter
        Last quarter of the window (``2026Q3``).
    lookback_quarters : int
        Quarters in the window.
    backend : ibis backend, optional
        Where to run; default the backend of an Ibis table passed in, else
        in-memory DuckDB (see :func:`connect`).
    columns : iterable of str, optional
        Only these columns (and ``account_id``), each computed exactly as in
        the whole table; the engine skips the parts nothing asks for (the
        modes, referrals, contacts). A name the data cannot give is absent,
        as it is from the whole table (a value rule may name such columns).
        Default: every column.

    Returns
    -------
    DataFrame
        One row per account that existed before the window end, sorted by
        ``account_id``: the account columns, the band columns and the
        features described in the module docstring. Accounts without deals
        are kept with zero counts and missing averages.

    Raises
    ------
    KeyError
        A required input column is missing.
    """
    start, end = feature_window(quarter, lookback_quarters=lookback_quarters)
    last_q = Quarter.parse(quarter)
    first_q = last_q - (lookback_quarters - 1)
    if backend is None:
        backend = _table_backend(*(t for t in (deals, accounts, contacts) if isinstance(t, ir.Table)))
        backend = backend or connect()
    d, a, c = (as_table(t, backend) for t in (deals, accounts, contacts))
    for name, table, required in (
        ("deals", d, ("account_id", "close_date", "amount")),
        ("accounts", a, ("account_id",)),
        ("contacts", c, ("account_id",)),
    ):
        if table is None:
            continue
        missing = [col for col in required if col not in table.columns]
        if missing:
            raise KeyError(f"{name}: missing column(s) {missing}; expected {list(required)}")
    wanted = None if columns is None else frozenset(columns) | {"account_id"}

    expr = _feature_expr(d, a, c, start=start, end=end, first_q=first_q, last_q=last_q,
                         lookback_quarters=lookback_quarters, wanted=wanted)
    # sorted by the engine, in parallel, rather than by pandas afterwards
    expr = expr.order_by("account_id")
    with _unfused_selects():
        if getattr(backend, "name", "") == "pyspark":
            frame = backend.execute(expr)
        else:
            # Arrow straight to pandas: ibis' execute() turns every column holding a
            # NULL into Python objects, which costs more than the query on big tables.
            frame = backend.to_pyarrow(expr).to_pandas()
    frame = _tidy(frame, has_units=("quantity" in d.columns or "items" in d.columns))
    if set(frame.columns) & _DEMOGRAPHIC_RAW:
        frame = add_demographics(frame, as_of=end)
    return frame


def project_features(project, *, quarter: str | Quarter, config: ProjectConfig) -> pd.DataFrame:
    """The per-account table of a loaded project: from its deals, or from its snapshot totals.

    With a deals table this is :func:`account_features` over the analysis
    window ending with ``quarter``; a customers table with per-customer
    totals (``snapshot:`` in the config, no deals) gives
    :func:`icp_helpers.data.snapshot.snapshot_features` instead.
    """
    deals = None if config.is_snapshot else project.deals_table()
    if deals is None:
        from ..data.snapshot import snapshot_features

        return snapshot_features(project.accounts, snapshot=config.snapshot, quarter=quarter)
    return account_features(
        deals, project.accounts, project.contacts, quarter=quarter,
        lookback_quarters=config.analysis.lookback_quarters, backend=project.backend,
    )


def _feature_expr(d, a, c, *, start, end, first_q, last_q, lookback_quarters, wanted=None) -> ir.Table:
    def needed(*names: str) -> bool:
        return wanted is None or any(name in wanted for name in names)

    t_start, t_end = ibis.timestamp(start), ibis.timestamp(end)
    end_epoch = _float(t_end.epoch_seconds())

    a = _existing_accounts(a, t_end)
    d, won, per_account, has_qty, has_items = _deal_aggregates(d, t_start, t_end)
    parts, with_modes, count_contacts, contact_columns = _per_account_parts(
        d, a, c, won, per_account, needed
    )

    # one chain of left joins (cheaper to build and compile than nested ones)
    out = a
    for key, part in parts.items():
        out = out.left_join(part, a.account_id == part[key])

    return _derived_columns(
        out, a, has_qty=has_qty, has_items=has_items, with_modes=with_modes,
        count_contacts=count_contacts, contact_columns=contact_columns, end_epoch=end_epoch,
        first_q=first_q, last_q=last_q, lookback_quarters=lookback_quarters, needed=needed,
        wanted=wanted,
    )


def _existing_accounts(a: ir.Table, t_end) -> ir.Table:
    """Accounts created before the window end, churn dates after it cleared, ids as text."""
    # Accounts that existed before the window end; churn after it is not known yet.
    if "created_date" in a.columns:
        a = a.filter(a.created_date.isnull() | (_timestamp(a.created_date) < t_end))
    account_fixes = {}
    if "churned_date" in a.columns:
        churned = _timestamp(a.churned_date)
        account_fixes["churned_date"] = ibis.ifelse(churned < t_end, churned, ibis.null("timestamp"))
    if "case_study" in a.columns:
        account_fixes["case_study"] = a.case_study.cast("boolean").fill_null(False)
    if not a.account_id.type().is_string():
        account_fixes["account_id"] = _text(a.account_id)
    if account_fixes:  # one projection: each one more costs Ibis' compiler more than the engine
        a = a.mutate(**account_fixes)
    return a


def _deal_aggregates(d: ir.Table, t_start, t_end):
    """The deals closed before the window end and their one grouped aggregation per account."""
    # ---- one grouped aggregation over the deals closed before the window end
    d = d.filter(d.account_id.notnull() & (_timestamp(d.close_date) < t_end))
    if not d.account_id.type().is_string():
        d = d.mutate(account_id=_text(d.account_id))
    close = _timestamp(d.close_date)
    won_any = d.stage == "won" if "stage" in d.columns else ibis.literal(True)
    in_window = close >= t_start
    won = won_any & in_window
    lost = (d.stage == "lost") if "stage" in d.columns else ibis.literal(False)
    lost = in_window & lost
    amount = _float(d.amount)
    has_qty, has_items = "quantity" in d.columns, "items" in d.columns
    null_f = ibis.null("float64")
    units = _float(d.quantity) if has_qty else _float(d.items) if has_items else null_f
    multi = ibis.literal(False)
    for column in ("quantity", "items"):
        if column in d.columns:
            more = (_float(d[column]) > 1).fill_null(False)
            multi = multi | more
    won_amount = ibis.ifelse(won, amount, null_f)
    won_units = ibis.ifelse(won, units, null_f)
    # Each part has one row per account, under its own key column (``parts``: key ->
    # table): the keys are named where the parts are grouped, so the joins need
    # no renaming projections.
    per_account = d.group_by(_deals_key=d.account_id).aggregate(
        # counts, not sums of 0/1: a sum of BIGINT accumulates in 128 bits on DuckDB
        won_deals=d.account_id.count(where=won),
        lost_deals=d.account_id.count(where=lost),
        won_value=_exact_sum(won_amount),
        n_units=_exact_sum(won_units),
        _priced_amount=_exact_sum(ibis.ifelse(won & units.notnull(), amount, null_f)),
        _priced_deals=won_units.count(),
        spend_min=won_amount.min(),
        spend_max=won_amount.max(),
        _multi=d.account_id.count(where=won & multi),
        first_deal=close.min(),
        last_deal=ibis.ifelse(won_any, close, ibis.null("timestamp")).max(),
    )
    return d, won, per_account, has_qty, has_items


def _median_won(won_deals: ir.Table, *, key: str) -> ir.Table:
    """Exact median of the won amounts per account (``key``, ``spend_median``), through a sort.

    The middle one or two amounts of each account are picked by their rank
    (``row_number`` and the count over the account) and interpolated as
    DuckDB's ``quantile_cont`` and Spark's ``percentile`` do (``lo * 0.5 + hi *
    0.5``: bit for bit the same as DuckDB's). Unlike ``median()``, which
    holds every amount of a group in memory and cannot spill, a window sort
    runs within the engine's ``memory_limit`` (it spills to
    ``temp_directory``).
    """
    amounts = won_deals.filter(won_deals.amount.notnull())
    amounts = amounts.select(account_id=amounts.account_id, _amount=_float(amounts.amount))
    by_account = ibis.window(group_by=amounts.account_id, order_by=amounts._amount)
    ranked = amounts.mutate(
        _rank=ibis.row_number().over(by_account),
        _n=amounts._amount.count().over(ibis.window(group_by=amounts.account_id)),
    )
    middle = ranked.filter((ranked._rank == (ranked._n - 1) // 2) | (ranked._rank == ranked._n // 2))
    pair = middle.group_by(**{key: middle.account_id}).aggregate(
        _lo=middle._amount.min(), _hi=middle._amount.max()
    )
    return pair.select(pair[key], spend_median=pair._lo * 0.5 + pair._hi * 0.5)


def _purchase_quarters(won_deals: ir.Table, *, key: str) -> ir.Table:
    """Quarters with a won deal per account (``key``, ``_purchase_quarters``).

    Two group-bys (the distinct account-quarter pairs, then their count)
    instead of a distinct count, which DuckDB cannot spill.
    """
    close = _timestamp(won_deals.close_date)
    pairs = won_deals.select(account_id=won_deals.account_id, _quarter=close.year() * 4 + close.quarter()).distinct()
    return pairs.group_by(**{key: pairs.account_id}).aggregate(_purchase_quarters=ibis._.count())


def _per_account_parts(d, a, c, won, per_account, needed):
    """Per-account tables to join (key column -> table): deals, modes, referrals, contacts."""
    parts = {"_deals_key": per_account}
    won_deals = d.filter(won)
    # ---- median and purchase quarters: sorts and group-bys that spill, not holistic aggregates
    if needed("spend_median"):
        parts["_median_key"] = _median_won(won_deals, key="_median_key")
    if needed("n_quarters_with_purchase"):
        parts["_quarters_key"] = _purchase_quarters(won_deals, key="_quarters_key")
    # ---- modes of weekday and hour over the won deals of the window
    with_modes = needed(*_MODE_FEATURES)
    if with_modes:
        won_close = _timestamp(won_deals.close_date)
        won_weekday, won_hour = won_close.day_of_week.index(), won_close.hour()
        parts["_weekday_key"] = _mode(won_deals, won_weekday, 7, key="_weekday_key", name="_weekday")
        parts["_hour_key"] = _mode(won_deals, won_hour, 24, key="_hour_key", name="_hour")

    # ---- referrals made, by accounts that existed before the window end
    if "referred_by" in a.columns and needed("referrals"):
        referred = a.filter(a.referred_by.notnull())
        parts["_referrals_key"] = referred.group_by(_referrals_key=_text(referred.referred_by)).aggregate(
            referrals=ibis._.count()
        )
    contact_columns: dict[str, str] = {}
    count_contacts = c is not None and needed("n_contacts")
    if c is not None:
        c = c.filter(c.account_id.notnull())
        if not c.account_id.type().is_string():
            c = c.mutate(account_id=_text(c.account_id))
        if count_contacts:
            parts["_contacts_key"] = c.group_by(_contacts_key=c.account_id).aggregate(n_contacts=ibis._.count())
        for column in ("job_role", "seniority"):
            name = f"contact_{column}" if column in a.columns else column
            if column in c.columns and needed(name):
                contact_columns[name] = column
                parts[f"_{column}_key"] = _dominant(c, column, key=f"_{column}_key", name=name)
    return parts, with_modes, count_contacts, contact_columns


def _derived_columns(
    out, a, *, has_qty, has_items, with_modes, count_contacts, contact_columns, end_epoch,
    first_q, last_q, lookback_quarters, needed, wanted,
) -> ir.Table:
    """The features computed on the joined per-account table, in the order of the output."""
    null_f = ibis.null("float64")
    # ---- derived columns on the small per-account table
    won_deals_n = out.won_deals.fill_null(0)
    lost_deals_n = out.lost_deals.fill_null(0)
    created = _timestamp(out.created_date) if "created_date" in a.columns else ibis.null("timestamp")
    since = ibis.least(created, out.first_deal) if "created_date" in a.columns else out.first_deal
    since_q = since.year() * 4 + since.quarter() - 1
    first_qi, last_qi = first_q.year * 4 + first_q.q - 1, last_q.year * 4 + last_q.q - 1
    active = ibis.ifelse(
        since.isnull(),
        lookback_quarters,
        last_qi - ibis.greatest(since_q, ibis.literal(first_qi)) + 1,
    )
    active = ibis.greatest(ibis.least(active, lookback_quarters), 1).cast("int64")
    multi_share = _safe_div(out._multi, won_deals_n)
    derived: dict[str, Any] = {
        "won_deals": won_deals_n.cast("int64"),
        "lost_deals": lost_deals_n.cast("int64"),
        "lost_share": _safe_div(lost_deals_n, won_deals_n + lost_deals_n),
        "won_value": _float(out.won_value.fill_null(0)),
        "avg_deal_amount": _safe_div(out.won_value, won_deals_n),
        "n_units": _float(out.n_units) if (has_qty or has_items) else null_f,
        "avg_deal_size": _safe_div(out.n_units, out._priced_deals),
        "avg_deal_price": _safe_div(out._priced_amount, out.n_units),
        "spend_min": _float(out.spend_min),
        "spend_median": _float(out.spend_median) if "spend_median" in out.columns else null_f,
        "spend_max": _float(out.spend_max),
        "multi_item_share": multi_share,
        "multi_item_buyer": (multi_share >= 0.5).fill_null(False),
        "n_quarters_existed": active,
        "n_quarters_with_purchase": (
            out._purchase_quarters.fill_null(0).cast("int64") if "_purchase_quarters" in out.columns
            else ibis.literal(0, "int64")
        ),
        "deal_frequency": _float(won_deals_n) / _float(active),
        "first_deal": out.first_deal,
        "last_deal": out.last_deal,
        "recency_days": (end_epoch - _float(out.last_deal.epoch_seconds())) / _SECONDS_PER_DAY,
        "tenure_days": (end_epoch - _float(since.epoch_seconds())) / _SECONDS_PER_DAY,
    }
    if with_modes:
        weekday = _unpack_mode(out._weekday, 7)
        hour_value = _unpack_mode(out._hour, 24)
        derived["preferred_weekday"] = ibis.cases(
            *[(weekday == i, name) for i, name in enumerate(WEEKDAYS)], else_=ibis.null("string")
        )
        derived["preferred_hour"] = hour_value
        derived["preferred_daypart"] = ibis.cases(
            *[((hour_value >= lo) & (hour_value <= hi), label) for label, lo, hi in DAYPARTS],
            else_=ibis.null("string"),
        )
    if "referred_by" in a.columns:
        if needed("referrals"):
            derived["referrals"] = out.referrals.fill_null(0).cast("int64")
        derived["was_referred"] = out.referred_by.notnull()
    if "employees" in a.columns:
        derived["employees_band"] = band_employees(out.employees)
    if "annual_revenue" in a.columns:
        derived["revenue_band"] = band_revenue(out.annual_revenue)
    if count_contacts:
        derived["n_contacts"] = out.n_contacts.fill_null(0).cast("int64")
    for name in contact_columns:
        derived[name] = out[name]

    account_columns = [col for col in a.columns if col not in derived]
    if wanted is not None:
        account_columns = [col for col in account_columns if col in wanted]
        derived = {name: value for name, value in derived.items() if name in wanted}
    return out.select(*account_columns, **derived)


def _tidy(frame: pd.DataFrame, *, has_units: bool) -> pd.DataFrame:
    """Stable dtypes and order, whatever the backend returned.

    Columns already of their dtype are left as they are (each conversion
    copies the column).
    """
    if not frame["account_id"].is_monotonic_increasing:  # an engine that sorts text otherwise
        frame = frame.sort_values("account_id", kind="stable")
    frame = frame.reset_index(drop=True)

    def convert(columns, dtype, to) -> None:
        for column in columns:
            if column in frame and frame[column].dtype != dtype:
                frame[column] = to(frame[column])

    convert(("won_deals", "lost_deals", "n_quarters_existed", "n_quarters_with_purchase", "referrals",
             "n_contacts"), "int64",
            lambda values: values.astype("int64"))
    floats = (
        "lost_share", "won_value", "avg_deal_amount", "n_units", "avg_deal_size",
        "avg_deal_price", "spend_min", "spend_median", "spend_max", "multi_item_share",
        "deal_frequency", "recency_days", "tenure_days",
    )
    convert(floats, "float64", lambda values: pd.to_numeric(values, errors="coerce").astype("float64"))
    if "preferred_hour" in frame:
        frame["preferred_hour"] = pd.to_numeric(frame["preferred_hour"]).astype("Int64")
        if frame["preferred_hour"].notna().any() and (frame["preferred_hour"].dropna() == 0).all():
            # dates without a time of day: "midnight" would be an artefact, not a preference
            frame["preferred_hour"] = pd.array([pd.NA] * len(frame), dtype="Int64")
            if "preferred_daypart" in frame:
                frame["preferred_daypart"] = pd.Series([None] * len(frame), dtype=frame["preferred_daypart"].dtype)
    convert(("multi_item_buyer", "was_referred", "case_study"), "bool", lambda values: values.fillna(False).astype(bool))
    for column in ("first_deal", "last_deal", "created_date", "churned_date"):
        if column in frame and not pd.api.types.is_datetime64_any_dtype(frame[column].dtype):
            frame[column] = pd.to_datetime(frame[column])
    if not has_units:
        for column in ("n_units", "avg_deal_size", "avg_deal_price", "multi_item_share"):
            if column in frame:
                frame[column] = float("nan")
        if "multi_item_buyer" in frame:
            frame["multi_item_buyer"] = False
    return frame
