"""The value rule: who the best customers are, who the negative cohort is, whom to interview.

The value rule (config section ``best_customers``)
--------------------------------------------------
1. Every component named in ``weights`` (by default ``won_value``,
   ``deal_frequency``, ``referrals``, ``case_study``: biggest and most
   frequent buyers, who recommend us and let us tell their story) is a
   column of the feature table. Each is turned into its percentile rank over
   all accounts (``rank(pct=True)``, ties share the average rank), so money,
   counts and flags weigh in on the same 0-1 scale and one huge account
   cannot dominate.
2. ``value_score`` is the weighted sum of the ranks, divided by the sum of
   the weights used (so it stays in 0-1). A component whose column is absent
   is left out and the others are reweighted; the rule summary says so.
3. An account is *eligible* when it won at least ``min_deals`` deals in
   the window and had not churned by the window end (a best customer is
   one who stays).
4. The cohort size is ``count`` if set, else ``round(share * active
   accounts)``; the top eligible accounts by score (ties: higher won value,
   then account id) are ``is_best``. ``value_rank`` orders every account
   (1 = highest score).

Who they are compared with
--------------------------
An account is *active* when it won at least one deal in the window
(``is_active``). The best customers are compared with the other active
accounts (``in_comparison``): accounts that bought nothing in the window
would make almost anything look like a trait of buyers ("best vs rest"
becomes "bought vs did not"). Inactive accounts are counted and shown
apart; ``include_inactive: true`` puts them back into the comparison (and
into the base of ``share``).

The negative cohort
-------------------
``is_negative`` marks accounts that tell what the ICP is *not*: churned
by the window end (``churned_date`` before it, which the feature table
already guarantees) or lost the majority of the deals they closed in the
window (``lost_share > 0.5``). ``negative_reason`` says which, in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..data.config import BestCustomerRule
from ..data.frames import duplicated

__all__ = [
    "VALUE_RELATED",
    "rule_columns",
    "value_columns",
    "resolve_rule",
    "value_scores",
    "negative_cohort",
    "best_customers",
    "rule_summary",
    "cohort_text",
    "cohort_warnings",
    "step1_record",
    "interview_shortlist",
    "plot_value_distribution",
]

#: Feature columns that restate a value-rule component (sums, ranks, thresholds of it).
VALUE_RELATED = {
    "won_value": (
        "won_value", "avg_deal_amount", "n_units", "spend_min", "spend_median", "spend_max"
    ),
    "deal_frequency": ("deal_frequency", "won_deals", "n_quarters_with_purchase"),
    "referrals": ("referrals",),
    "case_study": ("case_study",),
}
_SCORE_COLUMNS = ("value_score", "value_rank", "is_best", "is_negative", "negative_reason",
                  "is_active", "in_comparison")
#: Share of the active accounts from which the best cohort is "most of them".
MOST_OF_ACTIVE = 0.5


def resolve_rule(rule: BestCustomerRule | Mapping[str, Any] | None) -> BestCustomerRule:
    """A :class:`~icp_helpers.data.config.BestCustomerRule` from a config section, a dict or None."""
    if rule is None:
        return BestCustomerRule()
    if isinstance(rule, BestCustomerRule):
        return rule
    return BestCustomerRule.model_validate(dict(rule))


def rule_columns(rule: BestCustomerRule | Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """Feature columns that define "best" under ``rule``: its components and their restatements.

    Finding these over-represented among the best customers is circular,
    so :mod:`icp_helpers.customers.commonalities` marks them ``defines_best``.
    """
    rule = resolve_rule(rule)
    out: list[str] = []
    for component, weight in rule.weights.items():
        if weight:
            out.extend(VALUE_RELATED.get(component, (component,)))
    return tuple(dict.fromkeys([*out, *_SCORE_COLUMNS]))


def value_columns(rule: BestCustomerRule | Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The feature columns :func:`value_scores` reads under ``rule``.

    Its weighted components, the tie-break (``won_value``) and eligibility
    (``won_deals``, ``churned_date``): a feature build asked for these alone
    (``account_features(columns=...)``) gives the same best customers.
    """
    rule = resolve_rule(rule)
    used = [column for column, weight in rule.weights.items() if weight]
    return tuple(dict.fromkeys(["account_id", *used, "won_value", "won_deals", "churned_date"]))


def _component(features: pd.DataFrame, column: str) -> pd.Series:
    values = features[column]
    if pd.api.types.is_bool_dtype(values.dtype) or values.dtype == object:
        values = values.astype("boolean").astype("Float64")
    return pd.to_numeric(values, errors="coerce").astype(float).fillna(0.0)


def _cohort_size(rule: BestCustomerRule, n_accounts: int) -> int:
    if rule.count is not None:
        return int(rule.count)
    share = rule.share if rule.share is not None else 0.2
    return max(1, int(round(share * n_accounts))) if n_accounts else 0


def value_scores(features: pd.DataFrame, *, rule: BestCustomerRule | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Score every account by the value rule and mark the best customers.

    Parameters
    ----------
    features : DataFrame
        The per-account table of :func:`icp_helpers.customers.features.account_features`.
    rule : BestCustomerRule or mapping, optional
        The ``best_customers`` config section (default weights if None).

    Returns
    -------
    DataFrame
        ``account_id``, ``value_score`` (0-1), ``value_rank`` (1 = best),
        ``is_best``, in the row order of ``features``. The weights actually
        used are in ``result.attrs["weights"]``.
    """
    rule = resolve_rule(rule)
    used = {c: float(w) for c, w in rule.weights.items() if w and c in features.columns}
    if not used:
        raise KeyError(
            f"none of the value-rule components {sorted(rule.weights)} is a column of the "
            "feature table"
        )
    total = sum(used.values())
    score = sum(w * _component(features, c).rank(pct=True, method="average") for c, w in used.items())
    score = (score / total).astype(float)

    won_value = _component(features, "won_value") if "won_value" in features else pd.Series(0.0, index=features.index)
    ids = features["account_id"].astype(str)
    if ids.is_monotonic_increasing:
        # rows already in id order (the feature table's): the row breaks the last
        # ties as the id would, and three numeric keys sort faster than text
        positions = np.lexsort((
            np.arange(len(features)),
            -won_value.to_numpy(dtype=float),
            -score.to_numpy(dtype=float),
        ))
        order = features.iloc[positions, :0]
    else:
        order = pd.DataFrame({"score": score, "won_value": won_value, "account_id": ids}).sort_values(
            ["score", "won_value", "account_id"], ascending=[False, False, True], kind="mergesort"
        )
    rank = pd.Series(np.arange(1, len(order) + 1), index=order.index)

    eligible = _eligible(features, rule)
    active = _active(features)
    compared = np.ones(len(features), dtype=bool) if rule.include_inactive else active
    n_best = min(_cohort_size(rule, int(compared.sum())), int(eligible.sum()))
    best_index = order.index[eligible.reindex(order.index).to_numpy(dtype=bool)][:n_best]
    out = pd.DataFrame(
        {
            "account_id": features["account_id"].to_numpy(),
            "value_score": score.to_numpy(),
            "value_rank": rank.reindex(features.index).to_numpy().astype("int64"),
            "is_best": features.index.isin(best_index),
            "is_active": active,
            "in_comparison": compared | features.index.isin(best_index),
        }
    )
    out.attrs["weights"] = {c: w / total for c, w in used.items()}
    out.attrs["include_inactive"] = bool(rule.include_inactive)
    out.attrs["dropped"] = sorted(c for c, w in rule.weights.items() if w and c not in used)
    return out


def _active(features: pd.DataFrame) -> np.ndarray:
    """Accounts with at least one won deal in the window (every account without a deals count)."""
    if "won_deals" not in features:
        return np.ones(len(features), dtype=bool)
    return (pd.to_numeric(features["won_deals"], errors="coerce").fillna(0) > 0).to_numpy()


def _eligible(features: pd.DataFrame, rule: BestCustomerRule) -> pd.Series:
    ok = pd.Series(True, index=features.index)
    if "won_deals" in features:
        ok &= features["won_deals"].fillna(0) >= rule.min_deals
    if "churned_date" in features:
        ok &= features["churned_date"].isna()
    return ok


def negative_cohort(features: pd.DataFrame, *, max_lost_share: float = 0.5) -> pd.DataFrame:
    """Accounts that churned by the window end or lost most of their closed deals.

    Parameters
    ----------
    features : DataFrame
        The per-account table (``churned_date`` already masked to the window).
    max_lost_share : float
        Losing more than this share of the deals closed in the window
        (won + lost) makes an account negative.

    Returns
    -------
    DataFrame
        ``account_id``, ``is_negative``, ``negative_reason`` (empty when not negative).
    """
    n = len(features)
    # text is written for the accounts that have a reason only, not for every account
    churned = np.full(n, None, dtype=object)
    if "churned_date" in features:
        when = pd.to_datetime(features["churned_date"])
        hit = when.notna().to_numpy()
        churned[hit] = [f"churned {day:%Y-%m-%d}" for day in when[hit]]
    lost_most = np.full(n, None, dtype=object)
    if "lost_share" in features:
        won = features.get("won_deals", pd.Series(0, index=features.index)).fillna(0).to_numpy()
        lost = features.get("lost_deals", pd.Series(0, index=features.index)).fillna(0).to_numpy()
        share = features["lost_share"].to_numpy(dtype=float, na_value=np.nan)
        hit = np.flatnonzero(share > max_lost_share)
        lost_most[hit] = [f"lost {int(lost[i])} of {int(won[i] + lost[i])} deals in the window" for i in hit]
    has_churned, has_lost = pd.notna(churned), pd.notna(lost_most)
    reason = np.full(n, "", dtype=object)
    reason[has_churned] = churned[has_churned]
    reason[has_lost & ~has_churned] = lost_most[has_lost & ~has_churned]
    both = has_churned & has_lost
    reason[both] = churned[both] + "; " + lost_most[both]
    return pd.DataFrame(
        {
            "account_id": features["account_id"].to_numpy(),
            "is_negative": has_churned | has_lost,
            "negative_reason": reason,
        }
    )


def best_customers(features: pd.DataFrame, *, rule: BestCustomerRule | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The ``best_customers.parquet`` table: value scores plus the negative cohort.

    Columns ``account_id``, ``value_score``, ``value_rank``, ``is_best``,
    ``is_negative``, ``negative_reason``; ``attrs`` as :func:`value_scores`.
    """
    scores = value_scores(features, rule=rule)
    if not scores["account_id"].is_unique:
        repeated = duplicated(scores["account_id"]).to_numpy()
        rows = np.flatnonzero(repeated)
        raise ValueError(
            f"features: account_id is not unique ({len(rows):,} repeated rows, e.g. rows "
            f"{', '.join(map(str, rows[:5]))}: {', '.join(map(str, scores['account_id'].iloc[rows[:5]]))}); "
            "one row per account is expected"
        )
    # both tables are in the row order of features: side by side, no join needed
    negative = negative_cohort(features)
    out = scores.assign(
        is_negative=negative["is_negative"].to_numpy(), negative_reason=negative["negative_reason"].array
    )
    # the columns step 3 reads for the comparison come last, as they always did for the cohorts
    out = out[[c for c in out.columns if c not in ("is_active", "in_comparison")] + ["is_active", "in_comparison"]]
    out.attrs.update(scores.attrs)
    return out


def rule_summary(scores: pd.DataFrame, *, rule: BestCustomerRule | Mapping[str, Any] | None = None) -> dict:
    """The value rule as applied, for ``step1.json`` and the report text."""
    rule = resolve_rule(rule)
    best = scores.loc[scores["is_best"], "value_score"]
    return {
        "weights_configured": dict(rule.weights),
        "weights_used": scores.attrs.get("weights", {}),
        "components_missing": scores.attrs.get("dropped", []),
        "share": None if rule.count is not None else rule.share,
        "count": rule.count,
        "min_deals": rule.min_deals,
        "eligibility": f"at least {rule.min_deals} won deal(s) in the window and not churned",
        "n_accounts": int(len(scores)),
        "n_active": int(scores["is_active"].sum()) if "is_active" in scores else None,
        "n_compared": int(scores["in_comparison"].sum()) if "in_comparison" in scores else None,
        "include_inactive": scores.attrs.get("include_inactive", rule.include_inactive),
        "n_best": int(scores["is_best"].sum()),
        "n_negative": int(scores["is_negative"].sum()) if "is_negative" in scores else None,
        "cut_score": float(best.min()) if len(best) else None,
    }


def cohort_warnings(scores: pd.DataFrame) -> list[str]:
    """Warnings about the comparison population, for the reports (empty when none).

    The best cohort being most of the accounts it is compared with leaves
    little to compare: "best" then means "bought anything".
    """
    if "in_comparison" not in scores:
        return []
    n_best = int(scores["is_best"].sum())
    n_active = int(scores["is_active"].sum())
    out = []
    if n_active and n_best >= MOST_OF_ACTIVE * n_active:
        out.append(
            f"The best customers are {n_best:,} of the {n_active:,} accounts that bought in the "
            f"window ({n_best / n_active:.0%}): most of the buyers. Comparing them with the rest "
            "says little more than who bought; lower best_customers.share or set a count."
        )
    return out


def cohort_text(features: pd.DataFrame, scores: pd.DataFrame) -> str:
    """The best and negative cohorts in a few Markdown sentences, for the report."""
    summary = scores.attrs.get("weights", {})
    weights = ", ".join(f"{c.replace('_', ' ')} {w:.0%}" for c, w in summary.items())
    table = scores.merge(features, on="account_id", how="left", suffixes=("", "_feature"))
    best = table[table["is_best"]]
    n, n_best = len(table), len(best)
    lines = [f"**Warning:** {w}" for w in cohort_warnings(scores)]
    if "in_comparison" in table:
        n_active = int(table["is_active"].sum())
        n_compared = int(table["in_comparison"].sum())
        n_inactive = n - n_active
        if n_compared < n:
            lines.append(
                f"**{n_best:,} of {n_active:,} active accounts** (at least one won deal in the "
                f"window; {n:,} accounts in all) are best customers by the value rule (weighted "
                f"percentile ranks: {weights}). They are compared with the other "
                f"{n_compared - n_best:,} active accounts; the {n_inactive:,} accounts without a "
                "won deal in the window are counted apart, not compared."
            )
        else:
            lines.append(
                f"**{n_best:,} of {n:,} accounts** are best customers by the value rule "
                f"(weighted percentile ranks: {weights}), compared with all {n - n_best:,} others "
                f"({n_active:,} active, {n_inactive:,} without a won deal in the window)."
            )
    else:
        lines.append(
            f"**{n_best:,} of {n:,} accounts** are best customers by the value rule "
            f"(weighted percentile ranks: {weights})."
        )
    if "won_value" in table and table["won_value"].sum() > 0:
        share = best["won_value"].sum() / table["won_value"].sum()
        lines.append(f"Together they won **{share:.0%} of all won value** in the window.")
    if "deal_frequency" in table and n_best:
        lines.append(
            f"A best customer closes a median {best['deal_frequency'].median():.1f} deals a quarter, "
            f"the rest {table.loc[~table['is_best'], 'deal_frequency'].median():.1f}."
        )
    if "is_negative" in table:
        negative = table[table["is_negative"]]
        churned = negative["negative_reason"].str.contains("churned").sum()
        lost = negative["negative_reason"].str.contains("lost").sum()
        lines.append(
            f"The negative cohort holds **{len(negative):,} accounts**: {churned:,} churned by the "
            f"window end and {lost:,} lost most of the deals they closed in the window."
        )
    return " ".join(lines)


def _deal_counts(deals: Any, *, start: pd.Timestamp, end: pd.Timestamp) -> dict[str, int]:
    """Deals loaded, closed in ``[start, end)`` and closed from ``end`` on; one query on an engine table."""
    if isinstance(deals, pd.DataFrame):
        close = pd.to_datetime(deals["close_date"])
        return {
            "deals_loaded": int(len(deals)),
            "deals_in_window": int(((close >= start) & (close < end)).sum()),
            "deals_after_window": int((close >= end).sum()),
        }
    import ibis

    close = deals.close_date.cast("timestamp")
    t_start, t_end = ibis.timestamp(start.to_pydatetime()), ibis.timestamp(end.to_pydatetime())
    row = deals.aggregate(
        deals_loaded=deals.count(),
        deals_in_window=deals.count(where=(close >= t_start) & (close < t_end)),
        deals_after_window=deals.count(where=close >= t_end),
    ).to_pyarrow().to_pylist()[0]
    return {name: int(value or 0) for name, value in row.items()}


def step1_record(
    *,
    quarter,
    window: tuple[pd.Timestamp, pd.Timestamp],
    features: pd.DataFrame,
    scores: pd.DataFrame,
    rule: BestCustomerRule | Mapping[str, Any] | None = None,
    deals: Any = None,
    n_groups: int | None = None,
    shortlist: pd.DataFrame | None = None,
    backend: str | None = None,
) -> dict:
    """The ``step1.json`` record: quarter, window, counts and the value rule used.

    ``deals`` (the validated deals, best ``project.deals_table()``: an Ibis
    table counted on the engine; a pandas frame also works) adds the deals
    loaded, in the window and after it.
    """
    start, end = window
    counts: dict[str, Any] = {
        "accounts": int(len(features)),
        "accounts_with_won_deals": int((features.get("won_deals", pd.Series(dtype=int)) > 0).sum()),
        "best": int(scores["is_best"].sum()),
        "compared": int(scores["in_comparison"].sum()) if "in_comparison" in scores else None,
        "inactive": int((~scores["is_active"]).sum()) if "is_active" in scores else None,
        "negative": int(scores["is_negative"].sum()) if "is_negative" in scores else None,
        "won_deals_in_window": int(features["won_deals"].sum()) if "won_deals" in features else None,
        "lost_deals_in_window": int(features["lost_deals"].sum()) if "lost_deals" in features else None,
        "won_value_in_window": float(features["won_value"].sum()) if "won_value" in features else None,
    }
    if deals is not None:
        counts.update(_deal_counts(deals, start=start, end=end))
    if n_groups is not None:
        counts["groups"] = int(n_groups)
    if shortlist is not None:
        counts["shortlist"] = int(len(shortlist))
    return {
        "quarter": str(quarter),
        "window": {"start": start.isoformat(), "end": end.isoformat(), "end_exclusive": True},
        "counts": counts,
        "value_rule": rule_summary(scores, rule=rule),
        "warnings": cohort_warnings(scores),
        "feature_columns": list(features.columns),
        "backend": backend,
    }


# --------------------------------------------------------------------------- shortlist


def _fmt_money(value: float) -> str:
    return f"{value:,.0f}"


def interview_shortlist(
    features: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    size: int = 8,
    groups: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """5-10 best customers to interview, each with the reason it was picked.

    Picks, in order, distinct best accounts: the highest value score, the
    highest won value, the most frequent buyer, the most referrals, a case
    study, then the top-scoring account of every customer group not yet
    represented (when ``groups`` is given), then the next by value rank. An
    account that qualifies twice keeps both reasons.

    Parameters
    ----------
    features : DataFrame
        The per-account table.
    scores : DataFrame
        :func:`value_scores` / :func:`best_customers` output.
    size : int
        Accounts on the list; clipped to 5-10 and to the number of best customers.
    groups : DataFrame, optional
        ``account_id``, ``group`` (``groups.parquet``).

    Returns
    -------
    DataFrame
        ``account_id``, ``name`` (when known), ``value_rank``, ``value_score``,
        ``won_value``, ``deal_frequency``, ``referrals``, ``case_study``,
        ``group`` (when given) and ``reason``, in pick order.
    """
    size = int(min(max(size, 5), 10))
    n_accounts = len(scores)
    # the best customers only, with the few columns the picks and reasons read
    shown = [c for c in ("name", "won_value", "deal_frequency", "referrals", "case_study") if c in features]
    table = scores.loc[
        scores["is_best"].to_numpy(dtype=bool), ["account_id", "value_score", "value_rank", "is_best"]
    ].merge(features[["account_id", *shown]], on="account_id", how="left", suffixes=("", "_feature"))
    if groups is not None:
        table = table.merge(groups[["account_id", "group"]], on="account_id", how="left")
    best = table.sort_values("value_rank", kind="mergesort")
    size = min(size, len(best))
    picked: dict[Any, list[str]] = {}

    def take(account_id, reason: str, *, force: bool = False) -> None:
        if account_id in picked:
            picked[account_id].append(reason)
        elif len(picked) < size or force:
            picked[account_id] = [reason]

    def top(column: str, *, ascending: bool = False):
        if column not in best or best.empty:
            return None
        values = pd.to_numeric(best[column], errors="coerce")
        if values.isna().all() or values.max() <= 0:
            return None
        order = best.assign(_v=values).sort_values(["_v", "value_rank"], ascending=[ascending, True])
        return order.iloc[0]

    if best.empty:
        return pd.DataFrame(columns=["account_id", "value_rank", "value_score", "reason"])
    first = best.iloc[0]
    take(first["account_id"], f"highest value score ({first['value_score']:.2f})")
    row = top("won_value")
    if row is not None:
        take(row["account_id"], f"highest won value ({_fmt_money(row['won_value'])})")
    row = top("deal_frequency")
    if row is not None:
        take(row["account_id"], f"most frequent buyer ({row['deal_frequency']:.1f} deals a quarter)")
    row = top("referrals")
    if row is not None:
        take(row["account_id"], f"most referrals ({int(row['referrals'])} accounts referred)")
    if "case_study" in best:
        cases = best[best["case_study"].fillna(False).astype(bool)]
        if len(cases):
            take(cases.iloc[0]["account_id"], "case study customer")
    if "group" in best:
        for group, members in best.dropna(subset=["group"]).groupby("group", sort=True):
            if members["account_id"].isin(picked).any():
                continue
            take(members.iloc[0]["account_id"], f"top best customer of group {group}")
    for _, row in best.iterrows():
        if len(picked) >= size:
            break
        if row["account_id"] in picked:
            continue
        detail = [f"value rank {int(row['value_rank'])} of {n_accounts:,}"]
        if "won_value" in row and pd.notna(row["won_value"]):
            detail.append(f"won value {_fmt_money(row['won_value'])}")
        if "deal_frequency" in row and pd.notna(row["deal_frequency"]):
            detail.append(f"{row['deal_frequency']:.1f} deals a quarter")
        take(row["account_id"], ", ".join(detail))

    keep = [c for c in ("account_id", "name", "value_rank", "value_score", "won_value",
                        "deal_frequency", "referrals", "case_study", "group") if c in best]
    out = best.set_index("account_id", drop=False).loc[list(picked), keep].reset_index(drop=True)
    out["reason"] = ["; ".join(picked[a]) for a in out["account_id"]]
    return out


# --------------------------------------------------------------------------- plot


def plot_value_distribution(scores: pd.DataFrame, *, ax=None, bins: int = 40):
    """Histogram of value scores, best customers highlighted, with the cut marked.

    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    values = scores["value_score"].astype(float)
    edges = np.linspace(0, 1, bins + 1) if values.max() <= 1 else bins
    best = scores["is_best"].astype(bool)
    ax.hist(
        [values[~best], values[best]],
        bins=edges,
        stacked=True,
        color=["#b8c4d6", "#2a6f97"],
        label=[f"rest ({int((~best).sum())})", f"best customers ({int(best.sum())})"],
    )
    if best.any():
        cut = float(values[best].min())
        ax.axvline(cut, color="#c44e52", linestyle="--", linewidth=1.5)
        ax.annotate(
            f"cut {cut:.2f}",
            xy=(cut, ax.get_ylim()[1] * 0.92),
            xytext=(4, 0),
            textcoords="offset points",
            color="#c44e52",
        )
    ax.set_xlabel("value score (weighted percentile ranks, 0-1)")
    ax.set_ylabel("accounts")
    ax.set_title("Value score of every account and the best-customer cut")
    ax.legend(frameon=False)
    return ax
