"""Snapshot exports: one row per customer with totals, and no deal history.

Many consumer exports (subscriptions, loyalty programmes, marketing lists)
are a snapshot: each customer's tenure or join date, total spend, number of
purchases, days since the last purchase and a churn flag, with no
transactions. The ``snapshot:`` section of the config names those columns
of the customers table; :func:`snapshot_features` turns them into the
per-account columns the method reads from deals elsewhere:

=================  ==========================================================
``won_value``      the ``value`` column (0 when empty)
``won_deals``      the ``purchases`` column (1 when only a value is given)
``deal_frequency`` purchases per quarter of tenure (at least one quarter)
                   when tenure is known, else purchases
``avg_deal_amount`` value / purchases
``recency_days``   the ``recency`` column
``tenure_days``    ``tenure`` in its unit, else ``as_of`` - ``joined``
``churned_date``   ``as_of`` for customers whose churn expression holds
=================  ==========================================================

The churn flag is a small comparison language, parsed with :mod:`ast` and
evaluated on the columns (never with ``eval``): a column name, a text or
number literal, ``== != < <= > >=``, ``in [..]`` / ``not in [..]``, and
``and``, ``or``, ``not`` and parentheses, e.g. ``Churn == "Yes"`` or
``Response in [1, "yes"] and not Complain``. Text comparisons ignore case
and surrounding spaces; a missing cell never matches a comparison.

With no time axis, the fit score cannot be validated on a later quarter:
:func:`icp_helpers.traits.validation.run_cross_validation` validates it by
repeated stratified cross-validation instead, and the reports say which.
"""

from __future__ import annotations

import ast
import operator

import numpy as np
import pandas as pd

from .config import ConfigError, SnapshotConfig
from .demographics import add_demographics
from .quarters import Quarter

__all__ = ["flag_expression", "snapshot_as_of", "snapshot_quarter", "snapshot_features", "snapshot_roles"]

_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_DAYS_PER = {"days": 1.0, "months": 365.25 / 12, "years": 365.25}


def _literal(node: ast.AST, expression: str):
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value
    raise ConfigError(f"snapshot.churned: {expression!r}: expected a text or number literal")


def _operand(frame: pd.DataFrame, node: ast.AST, expression: str):
    if isinstance(node, ast.Name):
        if node.id not in frame.columns:
            raise ConfigError(
                f"snapshot.churned: {expression!r}: no column {node.id!r}; columns: "
                + ", ".join(map(str, frame.columns))
            )
        return frame[node.id]
    return _literal(node, expression)


def _compare(left, op, right):
    if isinstance(left, pd.Series) and isinstance(right, str):
        text = left.astype("object").map(lambda v: str(v).strip().casefold(), na_action="ignore")
        result = _COMPARE[type(op)](text, right.strip().casefold())
        return result.where(left.notna(), False).astype(bool)
    if isinstance(left, pd.Series) and isinstance(right, int | float) and not isinstance(right, bool):
        numbers = pd.to_numeric(left, errors="coerce")
        return _COMPARE[type(op)](numbers, right).fillna(False).astype(bool)
    return pd.Series(_COMPARE[type(op)](left, right)).fillna(False).astype(bool)


def _member(left: pd.Series, options: list) -> pd.Series:
    texts = {str(o).strip().casefold() for o in options if isinstance(o, str)}
    numbers = {float(o) for o in options if isinstance(o, int | float) and not isinstance(o, bool)}
    text = left.astype("object").map(lambda v: str(v).strip().casefold(), na_action="ignore")
    hit = text.isin(texts)
    if numbers:
        hit |= pd.to_numeric(left, errors="coerce").isin(numbers)
    return hit.fillna(False).astype(bool)


def _as_flag(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).astype(bool)
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().any():
        return (numbers.fillna(0) != 0).astype(bool)
    text = values.astype("object").map(lambda v: str(v).strip().casefold(), na_action="ignore")
    return text.isin({"true", "yes", "y", "1", "t"}).astype(bool)


def _evaluate(frame: pd.DataFrame, node: ast.AST, expression: str) -> pd.Series:
    if isinstance(node, ast.BoolOp):
        parts = [_evaluate(frame, value, expression) for value in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = parts[0]
        for part in parts[1:]:
            out = pd.Series(combine(out, part), index=frame.index)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_evaluate(frame, node.operand, expression)
    if isinstance(node, ast.Name):
        return _as_flag(_operand(frame, node, expression))
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        op, right_node = node.ops[0], node.comparators[0]
        left = _operand(frame, node.left, expression)
        if not isinstance(left, pd.Series):
            raise ConfigError(f"snapshot.churned: {expression!r}: put the column on the left")
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right_node, ast.List | ast.Tuple):
                raise ConfigError(f"snapshot.churned: {expression!r}: `in` needs a list, e.g. in [1, \"yes\"]")
            hit = _member(left, [_literal(e, expression) for e in right_node.elts])
            return ~hit if isinstance(op, ast.NotIn) else hit
        if type(op) in _COMPARE:
            return _compare(left, op, _operand(frame, right_node, expression))
    raise ConfigError(
        f"snapshot.churned: {expression!r}: only a column, comparisons (== != < <= > >=), "
        "in [...], and/or/not and parentheses are allowed"
    )


def _names(expression: str | None) -> list[str]:
    if not expression:
        return []
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return []
    return [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]


def flag_expression(frame: pd.DataFrame, expression: str) -> pd.Series:
    """Evaluate a churn-flag expression on ``frame`` (see the module docstring).

    Raises
    ------
    ConfigError
        On syntax outside the language or an unknown column, naming both.
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"snapshot.churned: {expression!r} is not a comparison ({exc.msg})") from None
    out = _evaluate(frame, tree.body, expression)
    return pd.Series(np.asarray(out, dtype=bool), index=frame.index)


def snapshot_roles(snapshot: SnapshotConfig) -> dict[str, str]:
    """The column roles a snapshot's mapping implies (``roles.py``).

    The totals (value, purchases, recency, tenure) are how a customer buys,
    the join date a date, and every column of the churn expression an
    outcome; none of them is who a customer is.
    """
    out = {}
    for key in ("value", "purchases", "recency", "tenure"):
        if getattr(snapshot, key):
            out[getattr(snapshot, key)] = "behaviour"
    if snapshot.joined:
        out[snapshot.joined] = "date"
    for name in _names(snapshot.churned):
        out[name] = "outcome"
    return out


def snapshot_as_of(accounts: pd.DataFrame, snapshot: SnapshotConfig) -> pd.Timestamp:
    """The snapshot's date: ``as_of`` when set, else the latest join date."""
    if snapshot.as_of:
        return pd.Timestamp(snapshot.as_of)
    if snapshot.joined and snapshot.joined in accounts:
        latest = pd.to_datetime(accounts[snapshot.joined], errors="coerce").max()
        if pd.notna(latest):
            return pd.Timestamp(latest).normalize() + pd.Timedelta(days=1)
    raise ConfigError(
        "snapshot: the date of the snapshot is unknown; set snapshot.as_of (e.g. 2024-06-30) "
        "or snapshot.joined (a join-date column)"
    )


def snapshot_quarter(accounts: pd.DataFrame, snapshot: SnapshotConfig) -> Quarter:
    """The quarter the snapshot was taken in: it names the run folder."""
    return Quarter.of(snapshot_as_of(accounts, snapshot) - pd.Timedelta(days=1))


def _column(accounts: pd.DataFrame, key: str, name: str | None) -> pd.Series | None:
    if not name:
        return None
    if name not in accounts:
        raise ConfigError(
            f"snapshot.{key}: no column {name!r} in the customers table; columns: "
            + ", ".join(map(str, accounts.columns))
        )
    return pd.to_numeric(accounts[name], errors="coerce").astype(float)


def snapshot_features(
    accounts: pd.DataFrame, *, snapshot: SnapshotConfig, quarter: str | Quarter | None = None
) -> pd.DataFrame:
    """The per-account table of a snapshot export (see the module docstring).

    Parameters
    ----------
    accounts : DataFrame
        The canonical customers (accounts) table.
    snapshot : SnapshotConfig
        Which columns hold the totals.
    quarter : str or Quarter, optional
        Unused for the totals (a snapshot has no window); kept so the call
        matches :func:`icp_helpers.customers.features.account_features`.

    Returns
    -------
    DataFrame
        The customers' own columns with the mapped totals renamed to the
        method's names (the source columns are dropped, so a total never
        becomes a trait under its own name), sorted by ``account_id``, and
        the demographic bands of :func:`icp_helpers.data.demographics.add_demographics`.
    """
    as_of = snapshot_as_of(accounts, snapshot)
    frame = accounts.copy()
    value = _column(frame, "value", snapshot.value)
    purchases = _column(frame, "purchases", snapshot.purchases)
    recency = _column(frame, "recency", snapshot.recency)
    tenure = _column(frame, "tenure", snapshot.tenure)
    if tenure is not None:
        tenure = tenure * _DAYS_PER[snapshot.tenure_unit]
    elif snapshot.joined:
        if snapshot.joined not in frame:
            raise ConfigError(f"snapshot.joined: no column {snapshot.joined!r} in the customers table")
        joined = pd.to_datetime(frame[snapshot.joined], errors="coerce")
        tenure = (as_of - joined).dt.total_seconds() / 86400.0
    churned = flag_expression(frame, snapshot.churned) if snapshot.churned else None
    used = [
        snapshot.value, snapshot.purchases, snapshot.recency, snapshot.tenure, snapshot.joined,
        *_names(snapshot.churned),  # the churn flag's columns are the outcome, never a trait
    ]
    frame = frame.drop(columns=[c for c in dict.fromkeys(used) if c and c in frame])
    if value is None and purchases is None:
        raise ConfigError("snapshot: name at least value or purchases (what makes a best customer)")
    won_value = (value if value is not None else pd.Series(0.0, index=frame.index)).fillna(0.0)
    won_deals = purchases.fillna(0.0) if purchases is not None else (won_value > 0).astype(float)
    frame["won_value"] = won_value
    frame["won_deals"] = won_deals.round().astype("int64")
    # per quarter of tenure (at least one), as deal_frequency is per active quarter elsewhere
    quarters = None if tenure is None else (tenure / (365.25 / 4)).clip(lower=1.0)
    frame["deal_frequency"] = won_deals / quarters if quarters is not None else won_deals
    frame["avg_deal_amount"] = (won_value / won_deals.where(won_deals > 0)).astype(float)
    if recency is not None:
        frame["recency_days"] = recency
    if tenure is not None:
        frame["tenure_days"] = tenure
    if churned is not None:
        frame["churned_date"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        frame.loc[churned.to_numpy(), "churned_date"] = as_of
    frame = frame.sort_values("account_id", kind="stable").reset_index(drop=True)
    return add_demographics(frame, as_of=as_of)
