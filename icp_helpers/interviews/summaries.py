"""Interview codes as account traits, the step-2 record, code frequencies, group shares, quotes and charts."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import pandas as pd

from ..data.transcripts import QUESTION_KEYS
from .codebook import _require, has_text
from .hand_codes import _KEY

__all__ = ["answers_not_in", "code_frequency", "code_group_share", "code_traits", "interviews_until", "plot_code_frequency", "plot_code_groups", "representative_quotes", "step2_record"]


# --------------------------------------------------------------------------------------------
# traits and summaries


def code_traits(
    coded: pd.DataFrame, *, accounts: Iterable[str] | pd.Series | pd.DataFrame, codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """One row per interviewed account, one boolean column per code.

    A code is true for an account when it was assigned to any answer of any
    of the account's interviews. Only interviewed accounts appear: a code
    says nothing about accounts nobody asked, so later steps judge interview
    traits within the interviewed set.

    Parameters
    ----------
    coded : DataFrame
        ``account_id`` and ``code`` (e.g. merged codes joined to the interviews).
    accounts : iterable of str, Series or DataFrame with ``account_id``
        The interviewed accounts (including those with no code at all).
    codes : iterable of str, optional
        The code columns, in order (e.g. the codes kept after the agreement
        check); default every code in ``coded``, sorted. Codes outside this
        list are dropped.

    Returns
    -------
    DataFrame
        ``account_id`` + one bool column per code, sorted by account.
    """
    _require(coded, ("account_id", "code"), "coded answers")
    if isinstance(accounts, pd.DataFrame):
        accounts = accounts["account_id"]
    ids = pd.Index(pd.Series(list(accounts), dtype="string").dropna().unique()).sort_values()
    columns = list(codes) if codes is not None else sorted(coded["code"].dropna().unique())
    present = coded[coded["code"].isin(columns) & coded["account_id"].isin(ids)]
    wide = pd.crosstab(present["account_id"].astype("string"), present["code"]) > 0
    wide = wide.reindex(index=ids, columns=columns, fill_value=False).astype(bool)
    wide.index.name, wide.columns.name = "account_id", None
    return wide.reset_index()


def interviews_until(interviews: pd.DataFrame, end) -> tuple[pd.DataFrame, int]:
    """Interview answers dated before ``end`` (undated ones kept), and how many were later.

    A run for a past quarter must not read interviews held after it, so a
    rerun of that quarter gives the same answer later on.
    """
    if "date" not in interviews:
        return interviews.reset_index(drop=True), 0
    dates = pd.to_datetime(interviews["date"], errors="coerce")
    keep = dates.isna() | (dates < pd.Timestamp(end))
    return interviews[keep].reset_index(drop=True), int((~keep).sum())


def answers_not_in(answers: pd.DataFrame, coded: pd.DataFrame) -> pd.DataFrame:
    """The answers whose ``interview_id`` and ``question`` do not occur in ``coded``.

    E.g. the answers nobody coded by hand (``coded`` = :func:`coded_units`) or
    those without any code (``coded`` = :func:`merge_codes`).
    """
    keys = pd.MultiIndex.from_frame(coded[_KEY].astype("string"))
    mine = pd.MultiIndex.from_frame(answers[_KEY].astype("string"))
    return answers[~mine.isin(keys)].reset_index(drop=True)


def step2_record(
    *,
    quarter,
    answers: pd.DataFrame,
    merged: pd.DataFrame,
    traits: pd.DataFrame,
    agreement: pd.DataFrame,
    flagged: Iterable[str],
    settings,
    hand_coded: pd.DataFrame | None = None,
    rule_scores: pd.DataFrame | None = None,
    suggestions: pd.DataFrame | None = None,
    themes: list | None = None,
    later_answers: int = 0,
    inputs: pd.DataFrame | None = None,
) -> dict:
    """The ``step2.json`` record: what was coded, how, and what became a trait.

    ``interviewed_accounts`` is the denominator for interview traits in the
    later steps: a code's prevalence is judged among the accounts that were
    asked, never among all accounts. ``hand_coded`` is :func:`coded_units`
    (every coder's coded answers); ``rule_scores`` is :func:`rule_vs_manual`;
    ``settings`` the config's ``interviews`` section.
    """
    answered = answers["answer"].map(has_text).astype(bool)
    pooled = agreement.set_index("code")["kappa"].get("(pooled)") if len(agreement) else None
    summary = {}
    if rule_scores is not None and len(rule_scores):
        scores = rule_scores.set_index("code")
        summary = {f"{k}_{m}": scores.loc[f"({k})", m] for k in ("micro", "macro") for m in ("precision", "recall", "f1")}
    hand_coded = hand_coded if hand_coded is not None else pd.DataFrame(columns=[*_KEY, "coder"])
    return {
        "quarter": str(quarter),
        "interviewed_accounts": int(answers["account_id"].nunique()),
        "interviewed_account_ids": sorted(answers["account_id"].dropna().astype(str).unique()),
        "interviews": int(answers["interview_id"].nunique()),
        "answers": int(len(answers)),
        "empty_answers": int((~answered).sum()),
        "answers_after_window": int(later_answers),
        "answers_with_code": int(merged[_KEY].drop_duplicates().shape[0]),
        "hand_coded_answers": int(len(hand_coded[_KEY].drop_duplicates())),
        "hand_coded_interviews": int(hand_coded["interview_id"].nunique()),
        "coders": sorted(hand_coded["coder"].dropna().astype(str).unique()),
        "code_rows": {k: int(v) for k, v in merged["source"].value_counts().items()},
        "codes_kept": [c for c in traits.columns if c != "account_id"],
        "codes_flagged": sorted(flagged),
        "kappa_threshold": settings.kappa_threshold,
        "keep_low_agreement": settings.keep_low_agreement,
        "pooled_kappa": pooled,
        "redacted": settings.redact,
        "rule_vs_manual": summary,
        "suggested_codes": 0 if suggestions is None else int(len(suggestions)),
        "themes": 0 if themes is None else len(themes),
        "inputs": [] if inputs is None else inputs.to_dict("records"),
    }


def code_frequency(coded: pd.DataFrame, *, answers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Answers per code and question (code × question counts, codes by total)."""
    _require(coded, (*_KEY, "code"), "coded answers")
    questions = [q for q in QUESTION_KEYS if q in set(coded["question"])]
    questions += sorted(set(coded["question"]) - set(questions))
    table = pd.crosstab(coded["code"], coded["question"]).reindex(columns=questions, fill_value=0)
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    table.columns.name, table.index.name = None, "code"
    return table


def code_group_share(traits: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Share of each customer group's interviewed accounts that mention each code.

    Parameters
    ----------
    traits : DataFrame
        :func:`code_traits` output.
    groups : DataFrame
        ``account_id``, ``group`` and optionally ``group_label`` (step 1's ``groups.parquet``).

    Returns
    -------
    DataFrame
        Codes × groups, values in [0, 1]; a ``n`` row gives interviewed accounts per group.
    """
    _require(groups, ("account_id", "group"), "groups")
    names = groups["group"].astype("string")
    if "group_label" in groups:
        names = names + ". " + groups["group_label"].astype("string").fillna("")
    labelled = pd.DataFrame({"account_id": groups["account_id"].astype("string"), "group": names})
    joined = traits.merge(labelled, on="account_id", how="left")
    joined["group"] = joined["group"].fillna("(no group)")
    codes = [c for c in traits.columns if c != "account_id"]
    share = joined.groupby("group")[codes].mean().T
    share.loc["n"] = joined.groupby("group").size()
    share.columns.name, share.index.name = "group", "code"
    return share


def representative_quotes(
    coded: pd.DataFrame,
    answers: pd.DataFrame,
    *,
    n: int = 2,
    max_chars: int = 300,
    redactor=None,
) -> pd.DataFrame:
    """Up to ``n`` quotes per code, hand-coded answers first, then the shortest.

    Parameters
    ----------
    coded : DataFrame
        ``interview_id``, ``question``, ``code``, optionally ``source``.
    answers : DataFrame
        ``interview_id``, ``question``, ``answer``.
    n : int
        Quotes per code.
    max_chars : int
        Longer answers are cut at a word boundary with an ellipsis.
    redactor : object with ``redact(text)``, optional
        Applied to every quote (see ``icp_helpers.interviews.redact``).

    Returns
    -------
    DataFrame
        ``code``, ``interview_id``, ``question``, ``quote``.
    """
    joined = coded.merge(answers[[*_KEY, "answer"]].drop_duplicates(_KEY), on=_KEY, how="inner")
    joined = joined.loc[joined["answer"].map(has_text).astype(bool)]
    joined = joined.assign(
        _manual=(joined["source"] == "manual") if "source" in joined else False,
        _len=joined["answer"].str.len(),
    ).sort_values(["code", "_manual", "_len"], ascending=[True, False, True], kind="stable")
    picked = joined.groupby("code", sort=True).head(n)

    def quote(text: str) -> str:
        text = redactor.redact(text) if redactor is not None else text
        text = " ".join(text.split())
        if len(text) <= max_chars:
            return text
        return text[:max_chars].rsplit(" ", 1)[0] + " …"

    return pd.DataFrame(
        {
            "code": picked["code"].to_numpy(),
            "interview_id": picked["interview_id"].to_numpy(),
            "question": picked["question"].to_numpy(),
            "quote": [quote(t) for t in picked["answer"]],
        }
    )


def plot_code_frequency(frequency: pd.DataFrame, *, ax=None, max_codes: int = 30):
    """Heatmap of answers per code (rows) and question (columns); returns the Axes."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = frequency.head(max_codes)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * max(len(data.columns), 3) + 3, 0.32 * max(len(data), 3) + 1.5))
    sns.heatmap(data, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax, linewidths=0.5)
    ax.set_xlabel("question")
    ax.set_ylabel("")
    ax.set_title("Answers per code and question")
    return ax


def plot_code_groups(share: pd.DataFrame, *, ax=None):
    """Heatmap of the share of each group's interviewed accounts mentioning each code."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    counts = share.loc["n"] if "n" in share.index else None
    data = share.drop(index="n", errors="ignore").astype(float)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * max(len(data.columns), 3) + 3, 0.32 * max(len(data), 3) + 1.5))
    sns.heatmap(data, annot=True, fmt=".0%", cmap="Greens", vmin=0, vmax=1, cbar=False, ax=ax, linewidths=0.5)
    if counts is not None:
        labels = [textwrap.fill(str(g), 18) + f"\n(n={int(counts[g])})" for g in data.columns]
        ax.set_xticklabels(labels, rotation=0, fontsize="small")
    ax.set_xlabel("customer group (interviewed accounts)")
    ax.set_ylabel("")
    ax.set_title("Share of each group's interviewed accounts mentioning a code")
    return ax
