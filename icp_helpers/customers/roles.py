"""Column roles: what each column of an account table may be used for, and why.

Every column of the per-account table (the accounts' own columns and the
features computed from the deals) gets exactly one role:

``who``
    A fact about the company or person (industry, size, city, age band...):
    known before a first purchase, so it may become a selectable, scored trait.
``behaviour``
    How the account buys: computed from its deals, or a column of the export
    that restates its spend (rank correlation with won value of at least
    :data:`SPEND_RESTATEMENT`). Evidence only, unless the config scores
    behaviour.
``outcome``
    A result rather than a profile (churn, converted, response, status...):
    never a trait, since it restates what is being predicted.
``id``
    An identifier (name pattern, or text that is unique or nearly so per row).
``date``
    Dates and timestamps: used for tenure and windows, never as a level.
``ignore``
    Constant or near-constant columns, and free text.

Roles are inferred from the values, never from a prefix such as ``tenure``
(an export's ``tenure`` column is who the customer is unless it restates
spend), and every inferred role carries the reason in words. The config sets
any role by hand under each input, with the column as mapped::

    inputs:
      accounts:
        roles: {rep_id: ignore, churn: outcome, tenure: who}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..data.frames import isin

__all__ = [
    "ROLES",
    "TRAIT_ROLES",
    "SPEND_RESTATEMENT",
    "OUTCOME_WORDS",
    "config_roles",
    "infer_roles",
    "role_map",
    "non_trait_columns",
    "trait_columns",
    "roles_markdown",
    "project_roles",
]

ROLES = ("who", "behaviour", "outcome", "id", "date", "ignore")
#: Roles whose columns become candidate traits.
TRAIT_ROLES = ("who", "behaviour")
#: Spearman correlation with won value at or above which a number restates spend.
SPEND_RESTATEMENT = 0.9
#: Share of rows one value may hold at most before a column counts as near-constant.
NEAR_CONSTANT = 0.99
#: Share of distinct values among the non-missing ones from which text is an identifier.
NEAR_UNIQUE = 0.9

#: Words (whole name parts) that name an outcome rather than a profile.
OUTCOME_WORDS = frozenset({
    "churn", "churned", "churns", "attrition", "exited", "cancelled", "canceled",
    "converted", "conversion", "won", "lost", "response", "responded", "outcome", "target",
    "renewed", "retained", "accepted", "subscribed",
})
#: Whole column names of outcome columns ("marital_status" stays who).
OUTCOME_NAMES = frozenset({
    "status", "stage", "y", "deal_stage", "lead_stage", "lead_status", "deal_status",
    "account_status", "customer_status", "opportunity_status", "result",
})
_ID_NAME = re.compile(
    r"(^|_)(id|ids|uuid|guid|pk|number|no|nr|email|e_mail|phone|telephone|mobile|"
    r"website|url|domain)$"
)
_PERSON_NAMES = frozenset({"name", "account_name", "company_name", "customer_name", "full_name",
                           "first_name", "last_name", "surname", "contact_name"})
_DATE_NAME = re.compile(r"(^|_)(date|datetime|timestamp|time|at|on|dt)$")
_DATE_TEXT = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}.*)?\s*$"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

#: Per-account columns computed from the deals (and referrals): buying behaviour.
_FROM_DEALS = frozenset({
    "won_deals", "lost_deals", "lost_share", "won_value", "avg_deal_amount", "n_units",
    "avg_deal_size", "avg_deal_price", "spend_min", "spend_median", "spend_max",
    "multi_item_share", "multi_item_buyer", "n_quarters_existed", "n_quarters_with_purchase",
    "deal_frequency", "recency_days", "tenure_days", "preferred_weekday", "preferred_hour",
    "preferred_daypart", "referrals",
})
_FROM_DEALS_DATES = frozenset({"first_deal", "last_deal"})
#: Per-account columns computed from the contacts or standard bands: who.
_DERIVED_WHO = frozenset({
    "n_contacts", "job_role", "seniority", "contact_job_role", "contact_seniority",
    "employees_band", "revenue_band", "was_referred",
})
_SCORE_COLUMNS = frozenset({"value_score", "value_rank", "is_best", "is_negative",
                            "negative_reason", "interviewed", "group"})


def _words(column: str) -> list[str]:
    spaced = _CAMEL.sub("_", str(column))
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def _name(column: str) -> str:
    return "_".join(_words(column))


def config_roles(config: Any, table: str = "accounts") -> dict[str, str]:
    """The ``roles:`` set under ``inputs.<table>`` of a project config (empty when none).

    A snapshot's columns (``snapshot:``) take the roles they imply
    (:func:`icp_helpers.data.snapshot.snapshot_roles`) unless ``roles:`` says otherwise.
    """
    if config is None:
        return {}
    inputs = getattr(config, "inputs", None) or {}
    spec = inputs.get(table)
    given = dict(getattr(spec, "roles", None) or {}) if spec is not None else {}
    if table == "accounts" and getattr(config, "is_snapshot", False):
        from ..data.snapshot import snapshot_roles  # the totals standing in for deals are never who

        given = {**snapshot_roles(config.snapshot), **given}
    return given


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype | pd.CategoricalDtype)


def _parses_as_dates(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(200)
    if sample.empty:
        return False
    return bool(sample.str.match(_DATE_TEXT).mean() >= 0.9)


def _is_binary(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    return values.dropna().nunique() == 2


def _as_binary(values: pd.Series) -> np.ndarray | None:
    known = values.dropna()
    levels = sorted(known.astype(str).unique())
    if len(levels) != 2:
        return None
    truthy = {"1", "true", "yes", "y", "t", "1.0"}
    top = next((lvl for lvl in levels if lvl.strip().lower() in truthy), levels[-1])
    return (values.astype(str) == top).to_numpy() & values.notna().to_numpy()


def _restates(x: np.ndarray, y: np.ndarray) -> float:
    """|phi| between two boolean arrays (1: the same split of the accounts)."""
    a, b = x.astype(float), y.astype(float)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(abs(np.corrcoef(a, b)[0, 1]))


def _spend_correlation(values: pd.Series, won_value: pd.Series | None) -> float:
    if won_value is None:
        return float("nan")
    x = pd.to_numeric(values, errors="coerce")
    both = x.notna() & won_value.notna()
    if both.sum() < 10 or x[both].nunique() < 3 or won_value[both].nunique() < 3:
        return float("nan")
    return float(x[both].rank().corr(won_value[both].rank()))


def _spend_explained(values: pd.Series, won_value: pd.Series | None) -> float:
    """Share of the rank variance of won value its levels explain (epsilon squared; NaN if unknown)."""
    if won_value is None:
        return float("nan")
    both = values.notna() & won_value.notna()
    if both.sum() < 10 or values[both].nunique() < 2:
        return float("nan")
    ranks = won_value[both].rank()
    means = ranks.groupby(values[both].astype(str)).transform("mean")
    total = float(((ranks - ranks.mean()) ** 2).sum())
    return float(((means - ranks.mean()) ** 2).sum() / total) if total > 0 else float("nan")


def _infer_one(
    column: str, series: pd.Series, *, won_value: pd.Series | None, target: np.ndarray | None,
    account_ids: pd.Index | None = None,
) -> tuple[str, str]:
    name = _name(column)
    words = set(_words(column))
    if column in _SCORE_COLUMNS or column == "account_id":
        return "id", "the account key or a result of the value rule"
    if column in _FROM_DEALS_DATES:
        return "date", "date of a deal"
    if column == "n_quarters_existed":
        return "behaviour", "quarters of the window the account existed in (from its dates and deals)"
    if column in _FROM_DEALS:
        return "behaviour", "computed from the account's deals"
    if column in _DERIVED_WHO:
        return "who", "computed from the contacts or a standard size band"
    values = series.dropna()
    n = len(values)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date", "holds dates"
    if n == 0:
        return "ignore", "empty: no value in any row"
    text = _is_text(series)
    if text and _parses_as_dates(values):
        return "date", "its values parse as dates"
    if name in OUTCOME_NAMES or words & OUTCOME_WORDS:
        hit = sorted(words & OUTCOME_WORDS) or [name]
        return "outcome", f"named like an outcome ({', '.join(hit)}): a result, not a profile"
    if _ID_NAME.search(name) or name in _PERSON_NAMES:
        return "id", "named like an identifier, a name or a contact detail"
    if _DATE_NAME.search(name) and text:
        return "date", "named like a date"
    n_distinct = values.nunique()
    if n_distinct <= 1:
        return "ignore", "constant: one value in every row"
    top_share = float(values.value_counts(normalize=True).iloc[0])
    if top_share >= NEAR_CONSTANT:
        return "ignore", f"near-constant: one value in {top_share:.1%} of rows"
    if text and account_ids is not None and isin(values.astype(str), account_ids).mean() >= 0.9:
        return "id", "holds account ids (a reference to another account)"
    if text:
        shown = values.astype(str)
        lengths = shown.str.len()
        if n_distinct > 20 and lengths.mean() > 40 and shown.str.contains(" ").mean() > 0.5:
            return "ignore", f"free text (mean {lengths.mean():.0f} characters)"
    if text and n >= 20 and n_distinct >= NEAR_UNIQUE * n:
        return "id", f"{n_distinct:,} distinct values in {n:,} rows: an identifier"
    if target is not None and _is_binary(series):
        flags = _as_binary(series)
        if flags is not None and len(flags) == len(target):
            phi = _restates(flags, target)
            if phi >= 0.9:
                return "outcome", f"a yes/no that restates the best-customer label (phi {phi:.2f})"
    numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    if numeric:
        rho = _spend_correlation(series, won_value)
        if rho >= SPEND_RESTATEMENT:
            return "behaviour", f"restates spend: rank correlation {rho:.2f} with won value"
        return "who", f"number ({n_distinct:,} distinct values)"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "who", "yes/no account attribute"
    share = _spend_explained(series, won_value)
    if share >= SPEND_RESTATEMENT**2:
        return "behaviour", (f"restates spend: its levels explain {share:.0%} of the rank "
                             "variance of won value (a band of spend)")
    return "who", f"category with {n_distinct:,} levels"


def infer_roles(
    frame: pd.DataFrame,
    *,
    overrides: Mapping[str, str] | None = None,
    exclude: Iterable[str] = (),
    target=None,
) -> pd.DataFrame:
    """One role per column of ``frame``, with the reason and where it came from.

    Parameters
    ----------
    frame : DataFrame
        A per-account table (``features.parquet``) or an input table.
    overrides : mapping, optional
        ``column -> role`` from the config (:func:`config_roles`); they win.
    exclude : iterable of str
        Columns the value rule uses (their role is ``behaviour``, "defines
        best"): never candidates, whatever the data says.
    target : array of bool, optional
        The best-customer flag, row for row: a yes/no column that restates it
        (phi >= 0.9) is an ``outcome``.

    Returns
    -------
    DataFrame
        ``column``, ``role``, ``reason``, ``source`` (``inferred`` or ``config``),
        in the column order of ``frame``.
    """
    overrides = dict(overrides or {})
    bad = {c: r for c, r in overrides.items() if r not in ROLES}
    if bad:
        raise ValueError(
            "roles: " + ", ".join(f"{c}: {r!r}" for c, r in bad.items())
            + f" is not a role; allowed: {', '.join(ROLES)}"
        )
    excluded = set(exclude)
    won_value = None
    if "won_value" in frame.columns:
        won_value = pd.to_numeric(frame["won_value"], errors="coerce")
        if won_value.fillna(0).eq(0).all():
            won_value = None
    flags = None if target is None else np.asarray(target, dtype=bool)
    account_ids = pd.Index(frame["account_id"].dropna().astype(str)) if "account_id" in frame else None
    rows = []
    for column in frame.columns:
        if column in overrides:
            rows.append((column, overrides[column], "set in the config", "config"))
            continue
        if column in excluded and column not in ("account_id",):
            rows.append((column, "behaviour", "an input of the value rule (defines best)", "inferred"))
            continue
        role, reason = _infer_one(column, frame[column], won_value=won_value, target=flags,
                                  account_ids=account_ids)
        rows.append((column, role, reason, "inferred"))
    return pd.DataFrame(rows, columns=["column", "role", "reason", "source"])


def role_map(roles: pd.DataFrame | Mapping[str, str]) -> dict[str, str]:
    """``column -> role`` of an :func:`infer_roles` table (or a mapping, returned as a dict)."""
    if isinstance(roles, pd.DataFrame):
        return dict(zip(roles["column"], roles["role"], strict=True))
    return dict(roles)


def non_trait_columns(roles: pd.DataFrame) -> list[str]:
    """Columns whose role keeps them out of every trait and comparison (id, date, outcome, ignore)."""
    return list(roles.loc[~roles["role"].isin(TRAIT_ROLES), "column"])


def trait_columns(roles: pd.DataFrame, *, exclude: Iterable[str] = ()) -> list[str]:
    """Columns whose role lets them become traits (who, behaviour), less ``exclude``."""
    skip = set(exclude) | {"account_id"}
    return [c for c in roles.loc[roles["role"].isin(TRAIT_ROLES), "column"] if c not in skip]


def roles_markdown(roles: pd.DataFrame) -> str:
    """The role table as Markdown: what becomes a trait, what does not, and why."""
    lines = ["| column | role | reason |", "|---|---|---|"]
    for row in roles.itertuples(index=False):
        how = " (config)" if row.source == "config" else ""
        lines.append(f"| `{row.column}` | {row.role}{how} | {row.reason} |")
    counts = roles["role"].value_counts()
    summary = ", ".join(f"{counts.get(r, 0)} {r}" for r in ROLES if counts.get(r, 0))
    return (
        f"Column roles ({summary}). Only **who** columns become selectable traits and "
        "**behaviour** columns evidence of how the best customers buy; id, date, outcome and "
        "ignored columns never become traits. Set a role under the input in the config "
        "(`roles: {column: role}`).\n\n" + "\n".join(lines)
    )


def project_roles(project: Any) -> dict[str, pd.DataFrame]:
    """The role table of each loaded accounts, prospects and leads table (for ``icp validate``).

    For the accounts, spend restatement is judged against each account's won
    value over every deal loaded (the per-window features judge it again
    on the window).
    """
    out: dict[str, pd.DataFrame] = {}
    config = getattr(project, "config", None)
    for table in ("accounts", "prospects", "leads"):
        frame = getattr(project, table, None)
        if frame is None:
            continue
        if table == "accounts" and getattr(project, "deals", None) is not None and "account_id" in frame:
            deals = project.deals
            won = deals if "stage" not in deals else deals[deals["stage"] == "won"]
            value = pd.to_numeric(won["amount"], errors="coerce").groupby(won["account_id"].astype(str)).sum()
            frame = frame.assign(won_value=frame["account_id"].astype(str).map(value).fillna(0.0).to_numpy())
            roles = infer_roles(frame, overrides=config_roles(config, table))
            roles = roles[roles["column"] != "won_value"].reset_index(drop=True)
        else:
            roles = infer_roles(frame, overrides=config_roles(config, table))
        out[table] = roles
    return out
