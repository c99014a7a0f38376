"""Sales cuts of the deal history: which simple splits of the customers carry signal.

Each cut sorts the customers of the analysis window (accounts with at least
one won deal in it) into levels, and is tested against being a best customer:

``group``
    Customer group from step 1 (``groups.parquet``), when present.
``job_role``, ``seniority``
    The most frequent job role / seniority among the account's contacts
    (ties to the alphabetically first level), as in ``features.py``.
``region``, ``country``
    From the accounts table.
``age_band``, ``gender``, ``income_band``, ``marital_status``
    B2C exports: the customer's own demographics when the customers table
    has them (``demographics.py``); else the median age of the account's
    contacts in the bands ``18-24`` .. ``65+`` and their most frequent
    gender, when the contacts carry them.
``weekday``, ``daypart``
    The weekday and part of day (night, morning, afternoon, evening) on
    which the account's won deals most often closed. ``daypart`` is left
    out when the close dates carry no time of day.
``order_type``
    ``multi-item`` when at least half of the account's won deals had more
    than one line item or unit, else ``single-item`` (``multi_item_buyer``).

Levels held by fewer than ``min_count`` accounts (default 5) are pooled as
``other`` so that the chi-square approximation holds; missing levels are
left out of the test of that cut.

Outcome. A customer is a *best customer* as step 1 decided
(``best_customers.parquet``, column ``is_best``). Without that file the
outcome is spending above the median: won value in the window above the
median won value of the window's customers. The rule used is reported with
the results.

Statistics. For each cut a chi-square test of independence of the level x
outcome table (``scipy.stats.chi2_contingency`` without Yates' continuity
correction, so that the statistic is the plain Pearson chi-square behind
Cramér's V) and Cramér's V, ``sqrt(chi2 / (n * (min(rows, columns) - 1)))``,
which is 0 for no association and 1 for a cut that separates best customers
perfectly. The summary is sorted by V, strongest first. The p-values are not
corrected for testing several cuts; step 3 does the corrected trait tests.

Spend thresholds: the smallest, median and largest won deal of the window
per customer group (per best / other customer when there are no groups),
and always per best customer vs the rest (``spend_best``), with a rank test
(Mann-Whitney U) of the best customers' deal amounts against the others'.
The weekday x hour heatmap counts won deals by the weekday and hour they closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.figure import Figure
from scipy import stats

from ..data.demographics import band_values
from ..data.frames import isin, positions
from . import deal_facts

__all__ = [
    "AGE_BANDS",
    "WEEKDAYS",
    "SalesCuts",
    "won_deals",
    "best_outcome",
    "account_cuts",
    "cut_test",
    "cut_summary",
    "cut_levels",
    "spend_thresholds",
    "best_spend",
    "weekday_hour",
    "sales_cuts",
    "run_sales_cuts",
    "plot_cut_summary",
    "plot_weekday_hour",
    "plot_spend_thresholds",
]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: Age bands: (label, lower bound inclusive, upper bound exclusive).
AGE_BANDS = (
    ("<18", None, 18),
    ("18-24", 18, 25),
    ("25-34", 25, 35),
    ("35-44", 35, 45),
    ("45-54", 45, 55),
    ("55-64", 55, 65),
    ("65+", 65, None),
)
_OTHER = "other"
_DAYPARTS = (("night", 0, 5), ("morning", 6, 11), ("afternoon", 12, 17), ("evening", 18, 23))


_DEAL_COLUMNS = ("account_id", "close_date", "amount", "stage")
#: The per-account feature columns the cuts read (:func:`account_cuts`, :func:`best_outcome`);
#: a new cut's column must be added here, or :func:`sales_cuts` will not pass it on.
_FEATURE_COLUMNS = (
    "account_id", "won_value", "job_role", "contact_job_role", "seniority", "contact_seniority",
    "region", "country", "preferred_weekday", "preferred_hour", "multi_item_buyer", "multi_item_share",
    "age_band", "gender", "income_band", "marital_status",
)
#: The customer's own demographics, used as cuts when the customers table has them.
_DEMOGRAPHIC_CUTS = ("age_band", "gender", "income_band", "marital_status")


def won_deals(
    deals: pd.DataFrame | ir.Table, *, window: tuple[Any, Any] | None = None
) -> pd.DataFrame | ir.Table:
    """Won deals (``stage`` won, or every deal without a stage) closed inside ``[start, end)``.

    An Ibis table gives an Ibis expression of the same deals, left in the engine
    (:func:`icp_helpers.leads.deal_facts.table_won_deals`).
    """
    if isinstance(deals, ir.Table):
        return deal_facts.table_won_deals(deals, window=window)
    close = pd.to_datetime(deals["close_date"], errors="coerce")
    keep = pd.Series(True, index=deals.index)
    if window is not None:
        start, end = (pd.Timestamp(v) for v in window)
        keep = (close >= start) & (close < end)
    if "stage" in deals.columns:
        # the window first: the stage text is then read for its deals only
        keep[keep] = deals.loc[keep, "stage"].astype("string").str.lower().eq("won").fillna(False)
    return deals.loc[keep].assign(close_date=close[keep]).reset_index(drop=True)


def best_outcome(
    features: pd.DataFrame, *, best: pd.DataFrame | None = None
) -> tuple[pd.Series, str]:
    """Whether each customer is a best customer, and the rule that said so.

    Parameters
    ----------
    features : DataFrame
        Per-account features with ``account_id`` and ``won_value`` (the
        customers to test).
    best : DataFrame, optional
        ``best_customers.parquet`` (``account_id``, ``is_best``).

    Returns
    -------
    (Series of bool indexed by account_id, str)
    """
    accounts = features.set_index("account_id")
    if best is not None and {"account_id", "is_best"} <= set(best.columns):
        flags = best.drop_duplicates("account_id").set_index("account_id")["is_best"]
        outcome = flags.reindex(accounts.index).fillna(False).astype(bool)
        return outcome.rename("best"), "best customer (step 1 value rule, best_customers.parquet)"
    value = accounts["won_value"].astype(float)
    median = float(value.median())
    return (value > median).rename(
        "best"
    ), f"won value in the window above the median ({median:,.0f})"


def _dominant(contacts: pd.DataFrame, column: str) -> pd.Series:
    known = contacts.dropna(subset=[column])
    if known.empty:
        return pd.Series(dtype=object)
    counted = known.groupby(["account_id", column]).size().rename("n").reset_index()
    counted = counted.sort_values(
        ["account_id", "n", column], ascending=[True, False, True], kind="stable"
    )
    return counted.drop_duplicates("account_id").set_index("account_id")[column].astype(str)


def _daypart(hour: pd.Series) -> pd.Series:
    return band_values(pd.to_numeric(hour, errors="coerce"), [(n, lo, hi + 1) for n, lo, hi in _DAYPARTS])


def account_cuts(
    features: pd.DataFrame,
    *,
    contacts: pd.DataFrame | None = None,
    groups: pd.DataFrame | None = None,
    has_time: bool = True,
) -> pd.DataFrame:
    """One row per customer, one column per cut (text levels, missing when unknown).

    Parameters
    ----------
    features : DataFrame
        Per-account features (``features.parquet`` or
        :func:`icp_helpers.customers.features.account_features`) of the customers.
    contacts : DataFrame, optional
        Canonical contacts, for ``age_band`` and ``gender``.
    groups : DataFrame, optional
        ``account_id``, ``group`` (``groups.parquet``).
    has_time : bool
        Whether close dates carry a time of day (else no ``daypart`` cut).

    Returns
    -------
    DataFrame
        Index ``account_id``; the cuts of the module docstring that the data supports.
    """
    accounts = features.set_index("account_id")
    out = pd.DataFrame(index=accounts.index)
    if groups is not None and {"account_id", "group"} <= set(groups.columns):
        out["group"] = (
            groups.drop_duplicates("account_id").set_index("account_id")["group"].astype(str)
        )
    for cut, columns in (
        ("job_role", ("job_role", "contact_job_role")),
        ("seniority", ("seniority", "contact_seniority")),
        ("region", ("region",)),
        ("country", ("country",)),
    ):
        column = next((c for c in columns if c in accounts.columns), None)
        if column is not None and accounts[column].notna().any():
            out[cut] = accounts[column].astype(object).where(accounts[column].notna())
    for cut in _DEMOGRAPHIC_CUTS:
        if cut in accounts.columns and accounts[cut].notna().any():
            out[cut] = accounts[cut].astype(object).where(accounts[cut].notna())
    if contacts is not None and "account_id" in contacts.columns and "age_band" not in out:
        if "age" in contacts.columns and contacts["age"].notna().any():
            age = (
                pd.to_numeric(contacts["age"], errors="coerce")
                .groupby(contacts["account_id"])
                .median()
            )
            out["age_band"] = band_values(age, AGE_BANDS).reindex(out.index)
        if "gender" in contacts.columns and contacts["gender"].notna().any() and "gender" not in out:
            out["gender"] = _dominant(contacts, "gender").reindex(out.index)
    if "preferred_weekday" in accounts.columns:
        out["weekday"] = accounts["preferred_weekday"].astype(object)
    if has_time and "preferred_hour" in accounts.columns:
        out["daypart"] = _daypart(accounts["preferred_hour"].astype("Float64"))
    if (
        "multi_item_buyer" in accounts.columns
        and accounts.get("multi_item_share", pd.Series(dtype=float)).notna().any()
    ):
        out["order_type"] = np.where(
            accounts["multi_item_buyer"].astype(bool), "multi-item", "single-item"
        )
    for column in out.columns:
        values = out[column].astype(object)
        out[column] = values.where(values.notna(), None)
    return out


def _pool(levels: pd.Series, *, min_count: int, max_levels: int) -> pd.Series:
    known = levels.dropna().astype(str)
    counts = known.value_counts()
    frequent = counts[counts >= min_count]
    if len(frequent) < len(counts) or len(frequent) > max_levels:
        frequent = frequent.iloc[: max_levels - 1]  # one level is left for "other"
    pooled = known.where(known.isin(frequent.index), _OTHER)
    return pooled.reindex(levels.index)


def cut_test(levels: pd.Series, outcome: pd.Series) -> dict[str, Any]:
    """Chi-square test of a cut against a binary outcome, with Cramér's V.

    Parameters
    ----------
    levels : Series
        Level per account (missing values are left out).
    outcome : Series of bool
        Same index.

    Returns
    -------
    dict
        ``levels``, ``n``, ``chi2``, ``dof``, ``p_value``, ``cramers_v``,
        ``min_expected`` and ``valid`` (at most 20% of expected counts below
        5 and none below 1, Cochran's rule). The statistics are NaN when the
        table has fewer than two levels or one outcome only.
    """
    frame = pd.DataFrame({"level": levels, "y": outcome.reindex(levels.index)}).dropna()
    table = pd.crosstab(frame["level"], frame["y"].astype(bool))
    n = int(table.to_numpy().sum())
    result: dict[str, Any] = {
        "levels": int(table.shape[0]),
        "n": n,
        "chi2": np.nan,
        "dof": 0,
        "p_value": np.nan,
        "cramers_v": np.nan,
        "min_expected": np.nan,
        "valid": False,
    }
    if table.shape[0] < 2 or table.shape[1] < 2:
        return result
    chi2, p_value, dof, expected = stats.chi2_contingency(table.to_numpy(), correction=False)
    k = min(table.shape) - 1
    result.update(
        chi2=float(chi2),
        dof=int(dof),
        p_value=float(p_value),
        cramers_v=float(np.sqrt(chi2 / (n * k))) if n and k else np.nan,
        min_expected=float(expected.min()),
        valid=bool((expected >= 1).all() and (expected < 5).mean() <= 0.2),
    )
    return result


def cut_summary(
    cuts: pd.DataFrame, outcome: pd.Series, *, min_count: int = 5, max_levels: int = 12
) -> pd.DataFrame:
    """One row per cut: chi-square test and Cramér's V, strongest association first.

    Levels rarer than ``min_count`` accounts are pooled as ``other`` and at
    most ``max_levels`` levels are kept (the rest pooled too).
    """
    rows = []
    for cut in cuts.columns:
        pooled = _pool(cuts[cut], min_count=min_count, max_levels=max_levels)
        rows.append({"cut": cut, **cut_test(pooled, outcome)})
    columns = ["cut", "levels", "n", "chi2", "dof", "p_value", "cramers_v", "min_expected", "valid"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(
        "cramers_v", ascending=False, na_position="last", kind="stable"
    ).reset_index(drop=True)


def cut_levels(
    cuts: pd.DataFrame, outcome: pd.Series, cut: str, *, min_count: int = 5, max_levels: int = 12
) -> pd.DataFrame:
    """Accounts, best customers, best share and lift (share / overall share) per level of one cut."""
    pooled = _pool(cuts[cut], min_count=min_count, max_levels=max_levels)
    frame = pd.DataFrame(
        {"level": pooled, "y": outcome.reindex(pooled.index).astype(float)}
    ).dropna()
    grouped = frame.groupby("level")["y"]
    table = pd.DataFrame({"accounts": grouped.size(), "best": grouped.sum().astype(int)})
    table["best_share"] = table["best"] / table["accounts"]
    overall = frame["y"].mean() if len(frame) else np.nan
    table["lift"] = table["best_share"] / overall if overall else np.nan
    table.index.name = cut
    return table.sort_values(["best_share", "accounts"], ascending=False).reset_index()


def spend_thresholds(
    deals: pd.DataFrame | ir.Table,
    *,
    by: pd.Series | None = None,
    label: str = "group",
    backend=None,
) -> pd.DataFrame:
    """Smallest, median and largest won deal per group (one row ``all`` without groups).

    Parameters
    ----------
    deals : DataFrame or ibis Table
        Won deals of the window (:func:`won_deals`): ``account_id``, ``amount``.
        An Ibis table is aggregated by its engine.
    by : Series, optional
        Group per account (index ``account_id``).
    label : str
        Name of the group column.
    backend : ibis backend, optional
        Where an Ibis table runs (default: its own backend, else in-memory DuckDB).
    """
    if isinstance(deals, ir.Table):
        return deal_facts.table_spend_thresholds(deals, by=by, label=label, backend=backend)
    # grouped on integer codes: millions of deals, few groups
    if by is None:
        group, names = np.zeros(len(deals), dtype=np.int64), np.array(["all"], dtype=object)
        accounts = np.array([deals["account_id"].nunique()])
    else:
        labels = by.astype(object).where(by.notna(), "(none)").astype(str).to_numpy(dtype=object)
        codes, names = pd.factorize(np.append(labels, "(none)"))
        names = np.asarray(names, dtype=object)
        at = positions(deals["account_id"], by.index)
        group = codes[at]  # -1 (not in ``by``) picks the last code, "(none)"
        # a group's accounts: the distinct accounts of ``by`` among its deals, and the unknown ones
        seen = np.flatnonzero(np.bincount(at[at >= 0], minlength=len(by)))
        accounts = np.bincount(codes[seen], minlength=len(names))
        accounts[codes[-1]] += deals["account_id"][at < 0].nunique()
    frame = pd.DataFrame(
        {"group": group, "amount": pd.to_numeric(deals["amount"], errors="coerce").to_numpy(dtype=float)}
    )
    grouped = frame.groupby("group")
    table = pd.DataFrame(
        {
            "accounts": accounts[grouped.size().index.to_numpy()],
            "deals": grouped.size(),
            "spend_min": grouped["amount"].min(),
            "spend_median": grouped["amount"].median(),
            "spend_max": grouped["amount"].max(),
            "won_value": grouped["amount"].sum(),
        }
    )
    table.index = pd.Index(names[table.index.to_numpy()], name=label)
    return table.sort_index().sort_values("spend_median", ascending=False).reset_index()


def best_spend(deals: pd.DataFrame | ir.Table, outcome: pd.Series, *, backend=None) -> pd.DataFrame:
    """Smallest, median and largest won deal of the best customers and of the rest, with a test.

    Parameters
    ----------
    deals : DataFrame or ibis Table
        Won deals of the window (:func:`won_deals`): ``account_id``, ``amount``.
        An Ibis table is aggregated by its engine.
    outcome : Series of bool
        Best customer or not, indexed by ``account_id``.
    backend : ibis backend, optional
        Where an Ibis table runs.

    Returns
    -------
    DataFrame
        Rows ``best`` and ``rest`` with the columns of :func:`spend_thresholds`,
        plus ``p_value``: a two-sided Mann-Whitney U test of the best
        customers' deal amounts against the others' (the same on both rows;
        missing when either side has no deal).
    """
    table = spend_thresholds(
        deals, by=outcome.map({True: "best", False: "rest"}), label="customers", backend=backend
    )
    table = table[table["customers"].isin(["best", "rest"])]
    order = {"best": 0, "rest": 1}
    table = table.sort_values("customers", key=lambda c: c.map(order)).reset_index(drop=True)
    if isinstance(deals, ir.Table):
        table["p_value"] = deal_facts.table_rank_test(deals, outcome, backend=backend)
        return table
    flags = outcome.reindex(deals["account_id"].to_numpy()).fillna(False).to_numpy(dtype=bool)
    amounts = pd.to_numeric(deals["amount"], errors="coerce").to_numpy(dtype=float)
    best_amounts, rest_amounts = amounts[flags & ~np.isnan(amounts)], amounts[~flags & ~np.isnan(amounts)]
    p_value = float("nan")
    if len(best_amounts) and len(rest_amounts):
        p_value = float(stats.mannwhitneyu(best_amounts, rest_amounts, alternative="two-sided").pvalue)
    table["p_value"] = p_value
    return table


def weekday_hour(deals: pd.DataFrame | ir.Table, *, backend=None) -> pd.DataFrame:
    """Won deals per weekday (rows, Monday first) and hour of close (columns 0-23).

    An Ibis table of deals is counted by its engine (``backend``: where it runs).
    """
    if isinstance(deals, ir.Table):
        cells = deal_facts.table_weekday_hour(deals, backend=backend)
    else:
        close = pd.to_datetime(deals["close_date"], errors="coerce").dropna()
        cells = np.bincount(
            close.dt.dayofweek.to_numpy(dtype=np.int64) * 24 + close.dt.hour.to_numpy(dtype=np.int64),
            minlength=7 * 24,
        )
    return pd.DataFrame(
        cells.reshape(7, 24),
        index=pd.Index(list(WEEKDAYS), name="weekday"),
        columns=pd.RangeIndex(24, name="hour"),
    )


@dataclass
class SalesCuts:
    """All sales cuts of one window.

    Attributes
    ----------
    cuts : DataFrame
        Level per customer and cut (index ``account_id``).
    outcome : Series of bool
        Best customer or not, per customer.
    outcome_rule : str
        How the outcome was decided (see the module docstring).
    summary : DataFrame
        :func:`cut_summary`, sorted by Cramér's V.
    spend : DataFrame
        :func:`spend_thresholds` per customer group.
    heatmap : DataFrame
        :func:`weekday_hour` of the won deals.
    has_time : bool
        Whether the close dates carry a time of day.
    notes : list of str
    spend_best : DataFrame
        :func:`best_spend`: the spend thresholds of the best customers vs the rest.
    """

    cuts: pd.DataFrame
    outcome: pd.Series
    outcome_rule: str
    summary: pd.DataFrame
    spend: pd.DataFrame
    heatmap: pd.DataFrame
    has_time: bool
    notes: list[str] = field(default_factory=list)
    spend_best: pd.DataFrame | None = None

    @classmethod
    def empty(cls, note: str) -> SalesCuts:
        """No cuts, with the reason (e.g. no deals configured)."""
        return cls(
            cuts=pd.DataFrame(),
            outcome=pd.Series(dtype=bool),
            outcome_rule="",
            summary=pd.DataFrame(
                columns=[
                    "cut",
                    "levels",
                    "n",
                    "chi2",
                    "dof",
                    "p_value",
                    "cramers_v",
                    "min_expected",
                    "valid",
                ]
            ),
            spend=pd.DataFrame(
                columns=[
                    "group",
                    "accounts",
                    "deals",
                    "spend_min",
                    "spend_median",
                    "spend_max",
                    "won_value",
                ]
            ),
            heatmap=pd.DataFrame(0, index=list(WEEKDAYS), columns=range(24)),
            has_time=False,
            notes=[note],
        )

    def levels(self, cut: str | None = None) -> pd.DataFrame:
        """:func:`cut_levels` of one cut (default: the one with the largest Cramér's V)."""
        ranked = self.summary.dropna(subset=["cramers_v"])
        if cut is None:
            if ranked.empty:
                return pd.DataFrame(columns=["level", "accounts", "best", "best_share", "lift"])
            cut = str(ranked.iloc[0]["cut"])
        return cut_levels(self.cuts, self.outcome, cut)

    def record(self) -> dict[str, Any]:
        """JSON-ready summary for ``step5.json``."""
        return {
            "customers": int(len(self.cuts)),
            "best": int(self.outcome.sum()),
            "outcome_rule": self.outcome_rule,
            "has_time_of_day": self.has_time,
            "cuts": self.summary.to_dict(orient="records"),
            "notes": list(self.notes),
        }


def sales_cuts(
    features: pd.DataFrame,
    deals: pd.DataFrame | ir.Table,
    *,
    window: tuple[Any, Any] | None = None,
    contacts: pd.DataFrame | None = None,
    groups: pd.DataFrame | None = None,
    best: pd.DataFrame | None = None,
    backend=None,
) -> SalesCuts:
    """Every cut of the window's customers, its test, the spend thresholds and the heatmap.

    Parameters
    ----------
    features : DataFrame
        Per-account features of the window (``features.parquet``).
    deals : DataFrame or ibis Table
        Canonical deals; won deals inside ``window`` are used. An Ibis table
        (``Project.deals_table()``) stays in its engine, which returns only
        per-account and smaller results (:mod:`icp_helpers.leads.deal_facts`).
    window : (start, end), optional
        Half-open analysis window.
    contacts, groups, best : DataFrame, optional
        Canonical contacts, ``groups.parquet``, ``best_customers.parquet``.
    backend : ibis backend, optional
        Where an Ibis table of deals runs (default: its own backend).

    Returns
    -------
    SalesCuts
    """
    parts = {"contacts": contacts, "groups": groups, "best": best}
    if isinstance(deals, ir.Table):
        with deal_facts.held_won_deals(deals, window=window, backend=backend) as (won, engine):
            return _cuts_of_won(features, won, backend=engine, **parts)
    # the columns used only: the won deals are millions of rows, the customers a million
    won = won_deals(deals[[c for c in _DEAL_COLUMNS if c in deals.columns]], window=window)
    return _cuts_of_won(features, won, **parts)


def _cuts_of_won(
    features: pd.DataFrame,
    won: pd.DataFrame | ir.Table,
    *,
    contacts: pd.DataFrame | None,
    groups: pd.DataFrame | None,
    best: pd.DataFrame | None,
    backend=None,
) -> SalesCuts:
    """:func:`sales_cuts` of the window's won deals (a frame, or a table of the engine)."""
    notes: list[str] = []
    on_engine = isinstance(won, ir.Table)
    if on_engine:
        won_accounts = deal_facts.table_customers(won, backend=backend)
    else:
        won_accounts = won["account_id"].unique()
    features = features[[c for c in _FEATURE_COLUMNS if c in features.columns]]
    customers = features[isin(features["account_id"], won_accounts)]
    if customers.empty:
        raise ValueError("no won deals in the analysis window: nothing to cut")
    if "won_value" not in customers.columns:
        if on_engine:
            value = deal_facts.table_won_value(won, backend=backend)
        else:
            value = won.groupby("account_id")["amount"].sum()
        customers = customers.assign(won_value=customers["account_id"].map(value))
    if on_engine:
        has_time = deal_facts.table_has_time(won, backend=backend)
    else:
        has_time = bool(
            (won["close_date"].dt.hour != 0).any() or (won["close_date"].dt.minute != 0).any()
        )
    if not has_time:
        notes.append(
            "close dates carry no time of day: no daypart cut, the heatmap shows weekdays only"
        )
    outcome, rule = best_outcome(customers, best=best)
    if best is None:
        notes.append("best_customers.parquet not found: the outcome is above-median won value")
    if groups is None:
        notes.append("groups.parquet not found: spend thresholds per best / other customer")
    cuts = account_cuts(customers, contacts=contacts, groups=groups, has_time=has_time)
    if groups is not None and {"account_id", "group"} <= set(groups.columns):
        by, label = groups.drop_duplicates("account_id").set_index("account_id")["group"], "group"
    else:
        by, label = outcome.map({True: "best", False: "other"}), "customers"
    return SalesCuts(
        cuts=cuts,
        outcome=outcome,
        outcome_rule=rule,
        summary=cut_summary(cuts, outcome),
        spend=spend_thresholds(won, by=by, label=label, backend=backend),
        spend_best=best_spend(won, outcome, backend=backend),
        heatmap=weekday_hour(won, backend=backend),
        has_time=has_time,
        notes=notes,
    )


def run_sales_cuts(project: Any, run: Any) -> SalesCuts:
    """:func:`sales_cuts` of a run: reads step 1's artifacts when present.

    Uses ``features.parquet``, ``best_customers.parquet`` and
    ``groups.parquet`` from the run folder; computes the features with
    :func:`icp_helpers.customers.features.account_features` when step 1 has not run.
    The deals are the project's engine table (``Project.deals_table()``):
    they are aggregated where they live, never read into pandas.
    Without deals or accounts in the project the result is empty, with a note.
    """
    deals = project.deals_table()
    if deals is None or getattr(project, "accounts", None) is None:
        return SalesCuts.empty("the project has no deals or accounts table: no sales cuts")
    folder = run.run_dir

    def optional(name: str, columns: Sequence[str] | None = None) -> pd.DataFrame | None:
        path = folder / name
        if not path.is_file():
            return None
        if columns is not None:
            present = set(pq.read_schema(path).names)
            columns = [c for c in columns if c in present]
        return pd.read_parquet(path, columns=columns)

    features = optional("features.parquet", _FEATURE_COLUMNS)
    notes = []
    if features is None:
        from ..customers.features import account_features

        features = account_features(
            deals,
            project.accounts,
            getattr(project, "contacts", None),
            quarter=run.quarter,
            lookback_quarters=run.config.analysis.lookback_quarters,
            backend=project.backend,
        )
        notes.append("features.parquet not found: per-account features computed here")
    result = sales_cuts(
        features,
        deals,
        window=run.window,
        contacts=getattr(project, "contacts", None),
        groups=optional("groups.parquet"),
        best=optional("best_customers.parquet"),
        backend=project.backend,
    )
    result.notes[:0] = notes
    return result


# --------------------------------------------------------------------------- plots


def _placeholder(text: str, *, title: str) -> Figure:
    fig = Figure(figsize=(6, 1.6), layout="constrained")
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.set_title(title)
    return fig


def plot_cut_summary(summary: pd.DataFrame) -> Figure:
    """Cramér's V per cut (bars), labelled with the p-value; hatched when the test is unreliable."""
    shown = summary.dropna(subset=["cramers_v"]).iloc[::-1]
    if shown.empty:
        return _placeholder("no cut could be tested", title="Sales cuts")
    fig = Figure(figsize=(7, 0.4 * max(len(shown), 1) + 1.2), layout="constrained")
    ax = fig.subplots()
    bars = ax.barh(shown["cut"], shown["cramers_v"], color="tab:blue")
    for bar, (_, row) in zip(bars, shown.iterrows(), strict=True):
        if not row["valid"]:
            bar.set_hatch("//")
            bar.set_alpha(0.6)
        ax.annotate(
            f"p={row['p_value']:.3g}",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_xlabel("Cramér's V with being a best customer")
    ax.set_xlim(0, max(0.1, float(shown["cramers_v"].max()) * 1.3 if len(shown) else 0.1))
    ax.set_title("Which sales cuts carry signal (hatched: small expected counts)")
    return fig


def plot_weekday_hour(heatmap: pd.DataFrame) -> Figure:
    """Heatmap of won deals by weekday and hour of close."""
    if not heatmap.to_numpy().sum():
        return _placeholder("no won deals in the window", title="When won deals close")
    data = heatmap.loc[:, heatmap.sum(axis=0) > 0] if heatmap.to_numpy().sum() else heatmap
    fig = Figure(figsize=(max(4, 0.45 * data.shape[1] + 2), 3.6), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(data.to_numpy(dtype=float), aspect="auto", cmap="YlOrRd")
    fig.colorbar(image, ax=ax, label="won deals")
    ax.set_yticks(range(len(data.index)), list(data.index))
    ax.set_xticks(range(data.shape[1]), [str(c) for c in data.columns])
    ax.set_xlabel("hour of close")
    ax.set_title("When won deals close")
    return fig


def plot_spend_thresholds(spend: pd.DataFrame, *, label: str | None = None) -> Figure:
    """Min / median / max won deal per group on a log scale."""
    if spend.empty:
        return _placeholder("no won deals in the window", title="Spend thresholds")
    label = label or spend.columns[0]
    fig = Figure(figsize=(8, max(2.6, 0.45 * len(spend) + 1.4)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(spend))
    ax.hlines(y, spend["spend_min"], spend["spend_max"], color="grey")
    ax.scatter(spend["spend_min"], y, marker="|", s=120, color="black", label="min / max")
    ax.scatter(spend["spend_max"], y, marker="|", s=120, color="black")
    ax.scatter(spend["spend_median"], y, marker="o", color="tab:red", label="median", zorder=3)
    ax.set_yticks(y, spend[label].astype(str))
    if (spend["spend_min"] > 0).all():
        ax.set_xscale("log")
    ax.set_xlabel("won deal amount")
    ax.set_ylabel(label)
    ax.set_ylim(-0.6, len(spend) - 0.4)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Smallest, median and largest won deal")
    return fig
