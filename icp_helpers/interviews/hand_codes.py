"""Hand codes and rule codes together: manual codes per answer, adjudication, merging, disagreements, the coded-answers table."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..data.transcripts import QUESTION_KEYS
from .codebook import _require

__all__ = ["coded_answers_table", "coded_units", "disagreements", "hand_codes", "indicator_matrix", "manual_code_rows", "merge_codes", "rule_vs_manual", "score_codes"]


# --------------------------------------------------------------------------------------------
# hand codes and rule codes

_KEY = ["interview_id", "question"]
# Manual rows with one of these codes mark an answer as coded with no code applying.
_NO_CODE = {"", "none", "-", "n/a", "na"}
_PREFER = ("adjudicated", "consensus", "final")
_EMPTY_MANUAL = pd.DataFrame(columns=[*_KEY, "code", "coder"], dtype="string")


def manual_code_rows(manual_codes: pd.DataFrame) -> pd.DataFrame:
    """Rows of a manual-codes table that carry a real code (codes and coders stripped).

    Rows whose code is empty or ``none`` only record that the coder read the answer.
    """
    _require(manual_codes, (*_KEY, "code", "coder"), "manual codes")
    manual = manual_codes.assign(
        code=manual_codes["code"].astype("string").str.strip(),
        coder=manual_codes["coder"].astype("string").str.strip(),
    )
    return manual[manual["code"].notna() & ~manual["code"].str.lower().isin(_NO_CODE)].reset_index(drop=True)


def coded_units(
    manual_codes: pd.DataFrame | None, *, answers: pd.DataFrame | None = None, unit: str = "interview"
) -> pd.DataFrame:
    """The answers each coder coded by hand: ``interview_id``, ``question``, ``coder``.

    Coders read whole interviews, and a spreadsheet of codes has no row for
    an answer in which they found nothing. With ``unit="interview"`` a coder
    who coded any answer of an interview is taken to have coded all of its
    answers (those in ``answers``, or the six method questions when
    ``answers`` is not given). With ``unit="answer"`` only the answers with a
    row count (write a row with an empty or ``none`` code for an answer read
    and found to have no code).
    """
    manual_codes = _EMPTY_MANUAL if manual_codes is None else manual_codes
    _require(manual_codes, (*_KEY, "code", "coder"), "manual codes")
    manual = manual_codes.assign(
        interview_id=manual_codes["interview_id"].astype("string"),
        question=manual_codes["question"].astype("string"),
        coder=manual_codes["coder"].astype("string").str.strip(),
    ).dropna(subset=["coder"])
    if unit == "answer":
        return manual[[*_KEY, "coder"]].drop_duplicates().reset_index(drop=True)
    if unit != "interview":
        raise ValueError(f"unit must be 'interview' or 'answer', not {unit!r}")
    interviews = manual[["interview_id", "coder"]].drop_duplicates()
    if answers is None:
        questions = pd.DataFrame({"question": list(QUESTION_KEYS)}, dtype="string")
        units = interviews.merge(questions, how="cross")
    else:
        listed = answers[_KEY].astype("string").drop_duplicates()
        units = interviews.merge(listed, on="interview_id")
    # answers coded but missing from ``answers`` still count
    units = pd.concat([units, manual[[*_KEY, "coder"]]]).drop_duplicates()
    return units[[*_KEY, "coder"]].sort_values([*_KEY, "coder"], ignore_index=True)


def _chosen_coder(units: pd.DataFrame, prefer: Iterable[str], coder_order: Iterable[str] | None) -> pd.DataFrame:
    """The coder whose codes count for each hand-coded answer."""
    coders = list(coder_order) if coder_order is not None else sorted(units["coder"].dropna().unique())
    rank = {c: i for i, c in enumerate(prefer)}
    rank.update({c: len(rank) + i for i, c in enumerate(coders) if c not in rank})
    ranked = units.assign(_rank=units["coder"].map(rank).astype(float).fillna(len(rank)))
    return ranked.sort_values(["_rank", "coder"], kind="stable").drop_duplicates(_KEY)[[*_KEY, "coder"]]


def hand_codes(
    manual_codes: pd.DataFrame | None,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    prefer: Iterable[str] = _PREFER,
    coder_order: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hand codes that count: one coder's codes per hand-coded answer.

    The coder is an adjudicated one (a ``coder`` named in ``prefer``) if the
    answer has one, else the first coder in ``coder_order`` (default: coder
    names in sorted order) who coded it. Two coders' codes are not pooled,
    so each answer keeps one analyst's reading.

    Parameters
    ----------
    manual_codes : DataFrame or None
        ``interview_id``, ``question``, ``code``, ``coder``; ``None`` for a project without hand codes.
    answers, unit
        See :func:`coded_units`.

    Returns
    -------
    (DataFrame, DataFrame)
        The hand-coded answers with their chosen ``coder`` (``interview_id``,
        ``question``, ``coder``), and that coder's codes (``interview_id``,
        ``question``, ``code``, ``coder``).
    """
    chosen = _chosen_coder(coded_units(manual_codes, answers=answers, unit=unit), prefer, coder_order)
    manual_codes = _EMPTY_MANUAL if manual_codes is None else manual_codes
    real = manual_code_rows(manual_codes).astype({"interview_id": "string", "question": "string"})
    hand = real.merge(chosen, on=[*_KEY, "coder"])[[*_KEY, "code", "coder"]].drop_duplicates()
    return chosen.reset_index(drop=True), hand.reset_index(drop=True)


def merge_codes(
    rule_codes: pd.DataFrame,
    manual_codes: pd.DataFrame | None,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    prefer: Iterable[str] = _PREFER,
    coder_order: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Hand codes where an analyst coded the answer, rule codes elsewhere.

    For each answer a coder coded by hand (see :func:`coded_units`), the
    codes of one coder are used (see :func:`hand_codes`: an adjudicated coder
    if there is one, else the first coder in sorted order); the coders'
    agreement is measured separately (``icp_helpers.interviews.agreement``). A
    hand-coded answer in which the coder found no code gets no code, even
    if a rule would have matched.

    Parameters
    ----------
    rule_codes : DataFrame
        ``interview_id``, ``question``, ``code`` (``matched_text`` optional), from
        :meth:`RuleCoder.code_answers`.
    manual_codes : DataFrame or None
        ``interview_id``, ``question``, ``code``, ``coder``; ``None``: rule codes only.
    answers : DataFrame, optional
        ``interview_id``, ``question``: the answers of each interview, for ``unit="interview"``.
    unit : {"interview", "answer"}
        What a coder's row says was coded (see :func:`coded_units`).

    Returns
    -------
    DataFrame
        ``interview_id``, ``question``, ``code``, ``source`` (``manual``/``rule``),
        ``coder`` (missing for rules), ``matched_text`` (missing for hand codes).
    """
    _require(rule_codes, (*_KEY, "code"), "rule codes")
    chosen, hand = hand_codes(manual_codes, answers=answers, unit=unit, prefer=prefer, coder_order=coder_order)
    hand = hand.assign(source="manual", matched_text=pd.NA)
    rules = rule_codes.astype({"interview_id": "string", "question": "string"})
    rules = rules.merge(chosen[_KEY], on=_KEY, how="left", indicator=True)
    rules = rules[rules["_merge"] == "left_only"]
    rules = rules.assign(
        source="rule", coder=pd.NA, matched_text=rules["matched_text"] if "matched_text" in rules else pd.NA
    )
    columns = [*_KEY, "code", "source", "coder", "matched_text"]
    merged = pd.concat([hand[columns], rules[columns]], ignore_index=True)
    merged = merged.astype({c: "string" for c in columns})
    return merged.sort_values([*_KEY, "code"], kind="stable", ignore_index=True)


def disagreements(
    rule_codes: pd.DataFrame,
    manual_codes: pd.DataFrame | None,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    prefer: Iterable[str] = _PREFER,
    coder_order: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Hand-coded answers where the rules would have coded differently, side by side.

    The hand codes are those :func:`merge_codes` keeps. Useful for tuning the
    codebook: ``only_manual`` are codes the keywords miss, ``only_rule`` codes
    they assign wrongly (or that the coder overlooked).

    Returns
    -------
    DataFrame
        ``interview_id``, ``question``, ``coder``, ``manual``, ``rule``,
        ``only_manual``, ``only_rule`` (codes as ``", "``-joined text) and
        ``answer`` when ``answers`` has an ``answer`` column.
    """
    chosen, hand = hand_codes(manual_codes, answers=answers, unit=unit, prefer=prefer, coder_order=coder_order)
    hand_sets = {key: set(group) for key, group in hand.groupby(_KEY)["code"]}
    rules = rule_codes.astype({"interview_id": "string", "question": "string"})
    rule_sets = {key: set(group) for key, group in rules.groupby(_KEY)["code"]}
    rows = []
    for iid, q, coder in chosen.itertuples(index=False):
        m, r = hand_sets.get((iid, q), set()), rule_sets.get((iid, q), set())
        if m != r:
            rows.append(
                {
                    "interview_id": iid,
                    "question": q,
                    "coder": coder,
                    "manual": ", ".join(sorted(m)),
                    "rule": ", ".join(sorted(r)),
                    "only_manual": ", ".join(sorted(m - r)),
                    "only_rule": ", ".join(sorted(r - m)),
                }
            )
    columns = [*_KEY, "coder", "manual", "rule", "only_manual", "only_rule"]
    table = pd.DataFrame(rows, columns=columns).astype({"interview_id": "string", "question": "string"})
    if answers is not None and "answer" in answers:
        text = answers[[*_KEY, "answer"]].astype({"interview_id": "string", "question": "string"})
        table = table.merge(text.drop_duplicates(_KEY), on=_KEY, how="left")
    return table.sort_values(_KEY, ignore_index=True)


def rule_vs_manual(
    rule_codes: pd.DataFrame,
    manual_codes: pd.DataFrame | None,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    codes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """How well the rules reproduce the hand codes, on the hand-coded answers.

    :func:`score_codes` of the rule codes against the hand codes
    :func:`merge_codes` keeps; empty when nothing was coded by hand.
    """
    chosen, hand = hand_codes(manual_codes, answers=answers, unit=unit)
    rules = rule_codes.astype({"interview_id": "string", "question": "string"}).merge(chosen[_KEY], on=_KEY)
    return score_codes(rules, hand, answers=chosen, codes=codes)


def coded_answers_table(
    merged: pd.DataFrame, answers: pd.DataFrame, *, redactor=None
) -> pd.DataFrame:
    """The ``coded_answers.parquet`` table: one row per answer and code, the answer redacted.

    Parameters
    ----------
    merged : DataFrame
        :func:`merge_codes` output.
    answers : DataFrame
        ``interview_id``, ``account_id``, ``question``, ``answer``.
    redactor : object with ``redact(text)``, optional
        Applied to the answer text (``None`` keeps it as it is).

    Returns
    -------
    DataFrame
        ``interview_id``, ``account_id``, ``question``, ``code``, ``source``, ``answer``.
    """
    text = answers[["interview_id", "account_id", "question", "answer"]].astype(
        {"interview_id": "string", "question": "string"}
    ).drop_duplicates(_KEY)
    table = merged[[*_KEY, "code", "source"]].merge(text, on=_KEY, how="left")
    if redactor is not None:
        table["answer"] = [redactor.redact(t) for t in table["answer"].astype(object)]
    columns = ["interview_id", "account_id", "question", "code", "source", "answer"]
    return table[columns].astype("string").reset_index(drop=True)


def indicator_matrix(
    coded: pd.DataFrame, *, answers: pd.DataFrame | None = None, codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """Boolean answer × code matrix from long codes.

    Parameters
    ----------
    coded : DataFrame
        ``interview_id``, ``question``, ``code``.
    answers : DataFrame, optional
        Rows to include (answers with no code become all-False rows); default
        the answers in ``coded``.
    codes : iterable of str, optional
        Columns, in order; default the codes present, sorted.
    """
    columns = list(codes) if codes is not None else sorted(coded["code"].dropna().unique())
    rows = (answers if answers is not None else coded)[_KEY].drop_duplicates()
    index = pd.MultiIndex.from_frame(rows.astype("string"))
    present = coded[coded["code"].isin(columns)]
    keys = pd.MultiIndex.from_frame(present[_KEY].astype("string"))
    matrix = np.zeros((len(index), len(columns)), dtype=bool)
    row_pos = index.get_indexer(keys)
    col_pos = pd.Index(columns).get_indexer(present["code"])
    keep = row_pos >= 0
    matrix[row_pos[keep], col_pos[keep]] = True
    return pd.DataFrame(matrix, index=index, columns=pd.Index(columns, name="code"))


def score_codes(
    predicted: pd.DataFrame, reference: pd.DataFrame, *, answers: pd.DataFrame, codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """Precision, recall and F1 of predicted codes against reference codes per code.

    Both are long tables (``interview_id``, ``question``, ``code``); every
    answer in ``answers`` counts (a missed code and a wrong code both count
    against). The last two rows, ``(micro)`` and ``(macro)``, pool the cells
    and average the codes with at least one reference answer.

    Returns
    -------
    DataFrame
        ``code``, ``support``, ``predicted``, ``precision``, ``recall``, ``f1``.
    """
    codes = list(codes) if codes is not None else sorted(set(reference["code"]) | set(predicted["code"]))
    y_true = indicator_matrix(reference, answers=answers, codes=codes).to_numpy()
    y_pred = indicator_matrix(predicted, answers=answers, codes=codes).to_numpy()
    tp = (y_true & y_pred).sum(axis=0)
    n_true, n_pred = y_true.sum(axis=0), y_pred.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_pred > 0, tp / n_pred, np.nan)
        recall = np.where(n_true > 0, tp / n_true, np.nan)
        f1 = np.where(n_true + n_pred > 0, 2 * tp / (n_true + n_pred), np.nan)
    table = pd.DataFrame(
        {"code": codes, "support": n_true, "predicted": n_pred, "precision": precision, "recall": recall, "f1": f1}
    )
    TP, T, P = tp.sum(), n_true.sum(), n_pred.sum()
    scored = table[table["support"] > 0]
    summary = pd.DataFrame(
        [
            {
                "code": "(micro)", "support": T, "predicted": P,
                "precision": TP / P if P else np.nan, "recall": TP / T if T else np.nan,
                "f1": 2 * TP / (T + P) if T + P else np.nan,
            },
            {
                "code": "(macro)", "support": T, "predicted": P,
                "precision": scored["precision"].fillna(0).mean(), "recall": scored["recall"].mean(),
                "f1": scored["f1"].mean(),
            },
        ]
    )
    return pd.concat([table, summary], ignore_index=True)


