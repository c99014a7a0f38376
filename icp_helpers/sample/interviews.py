"""The sample's interviews: planted codes per account, answers in English and Persian, manual codes and the codebook table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .phrases import (
    AMBIGUOUS_CODES,
    CODEBOOK,
    COMPETITOR_NAMES,
    DIMENSIONS,
    EMPTY_ANSWERS,
    FAIRS,
    FILLERS,
    NEGATION_QUESTIONS,
    NEGATIONS,
    PERSIAN_EMPTY,
    PERSIAN_FILLERS,
    PERSIAN_NEGATIONS,
    PERSIAN_PHRASES,
    PHRASES,
)
from .world import (
    N_BEST_INTERVIEWS,
    N_REST_INTERVIEWS,
    QUESTIONS,
    WHY_SHARE,
    WHY_TRAITS,
    _choice,
    _date_str,
)

__all__ = []


# --------------------------------------------------------------------------
# interviews
# --------------------------------------------------------------------------


def _interview_codes(
    rng: np.random.Generator, *, has_rd: bool, has_ls: bool, group: str
) -> dict[str, list[str]]:
    """The true codes of each of the six answers of one interview.

    ``has_rd`` and ``has_ls`` say whether the interviewee mentions the two
    planted why-codes (reliable delivery, large shipments) somewhere.
    """
    codes: dict[str, list[str]] = {q: [] for q in QUESTIONS}

    channels = {
        "channel:trade_show": 0.42,
        "channel:referral": 0.2,
        "channel:web_search": 0.15,
        "channel:sales_rep": 0.13,
        "channel:social_media": 0.1,
    }
    if rng.random() > 0.07:
        first = _choice(rng, channels)
        codes["how_found"].append(first)
        if rng.random() < 0.15:
            second = _choice(rng, {k: v for k, v in channels.items() if k != first})
            codes["how_found"].append(second)

    reasons = {
        "reason:quality": 0.5,
        "reason:price": 0.2,
        "reason:organic": 0.15,
        "reason:tasting_samples": 0.15,
    }
    if rng.random() > 0.05:
        first = _choice(rng, reasons)
        codes["why_first_buy"].append(first)
        if rng.random() < 0.3:
            codes["why_first_buy"].append(
                _choice(rng, {k: v for k, v in reasons.items() if k != first})
            )
    if rng.random() < 0.25:
        codes["why_first_buy"].append(_choice(rng, {c: 1.0 for c in COMPETITOR_NAMES}))

    pains = {
        "pain:reliable_delivery": 0.45 if has_rd else 0.15,
        "pain:inconsistent_quality": 0.3,
        "pain:price_volatility": 0.3,
        "pain:storage_space": 0.08 if group == "urban_wholesale" else 0.25,
    }
    codes["pains_needs"] = [c for c, p in pains.items() if rng.random() < p]
    if rng.random() < 0.08:
        codes["pains_needs"].append(_choice(rng, {c: 1.0 for c in COMPETITOR_NAMES}))

    stay_extra = []
    if has_rd:
        (codes["need_met"] if rng.random() < 0.85 else stay_extra).append("need:reliable_delivery")
    if has_ls:
        (codes["need_met"] if rng.random() < 0.85 else stay_extra).append("need:large_shipments")
    for code, p in (
        ("need:consistent_quality", 0.3),
        ("need:flexible_terms", 0.15),
        ("need:traceability", 0.15),
    ):
        if rng.random() < p:
            codes["need_met"].append(code)

    if rng.random() < 0.85:
        codes["opinion"].append("opinion:positive")
    if rng.random() < 0.2:
        codes["opinion"].append("opinion:price_concern")
    if rng.random() < 0.1:
        codes["opinion"].append("opinion:packaging_issue")

    stays = {
        "stay:reliability": 0.55 if has_rd else 0.35,
        "stay:relationship": 0.35,
        "stay:pricing": 0.2,
        "stay:product_range": 0.2,
    }
    codes["why_stay"] = [c for c, p in stays.items() if rng.random() < p]
    for code in stay_extra:
        codes["why_stay"].append(code)
    if has_rd and "need:reliable_delivery" not in stay_extra and rng.random() < 0.2:
        codes["why_stay"].append("need:reliable_delivery")
    if not codes["why_stay"] and rng.random() < 0.7:
        codes["why_stay"].append(_choice(rng, stays))
    return codes


def _fill(text: str, rng: np.random.Generator) -> str:
    return text.format(fair=FAIRS[rng.integers(len(FAIRS))], year=int(rng.integers(2012, 2023)))


def _english_answer(
    rng: np.random.Generator, question: str, codes: list[str], *, extra: str = ""
) -> str:
    sentences = [_fill(PHRASES[c][rng.integers(len(PHRASES[c]))], rng) for c in codes]
    negatable = [c for c in NEGATIONS if c not in codes and question in NEGATION_QUESTIONS[c]]
    if negatable and rng.random() < 0.3:
        negs = NEGATIONS[negatable[rng.integers(len(negatable))]]
        sentences.append(negs[rng.integers(len(negs))])
    if rng.random() < 0.3:
        sentences.append(_fill(FILLERS[question][rng.integers(len(FILLERS[question]))], rng))
    if extra:
        sentences.append(extra)
    if not sentences:
        return EMPTY_ANSWERS[question]
    rng.shuffle(sentences)
    opener = ["", "", "", "Honestly, ", "Well, ", "I'd say "][rng.integers(6)]
    text = " ".join(sentences)
    if opener:
        text = (
            opener + text[0].lower() + text[1:]
            if not text.startswith(("I ", "I'", "GoldPress", "Oliveto"))
            else opener + text
        )
    return text


_AR_MAP = str.maketrans({"ی": "ي", "ک": "ك"})


def _persianize(text: str, rng: np.random.Generator) -> str:
    """Mix Arabic-letter variants into Persian text and drop some zero-width non-joiners."""
    words = text.split(" ")
    out = []
    for w in words:
        if rng.random() < 0.35:
            w = w.translate(_AR_MAP)
        if "\u200c" in w and rng.random() < 0.3:
            w = w.replace("\u200c", "" if rng.random() < 0.15 else " ")
        out.append(w)
    return " ".join(out)


def _persian_codes(codes: dict[str, list[str]]) -> dict[str, list[str]]:
    """Keep only the codes the Persian phrase bank can express."""
    return {q: [c for c in cs if c in PERSIAN_PHRASES] for q, cs in codes.items()}


def _persian_answer(rng: np.random.Generator, question: str, codes: list[str]) -> str:
    sentences = [PERSIAN_PHRASES[c][rng.integers(len(PERSIAN_PHRASES[c]))] for c in codes]
    negatable = [
        c for c in PERSIAN_NEGATIONS if c not in codes and question in NEGATION_QUESTIONS[c]
    ]
    if negatable and rng.random() < 0.4:
        sentences.append(PERSIAN_NEGATIONS[negatable[rng.integers(len(negatable))]][0])
    if rng.random() < 0.3:
        sentences.append(PERSIAN_FILLERS[rng.integers(len(PERSIAN_FILLERS))])
    if not sentences:
        return PERSIAN_EMPTY
    rng.shuffle(sentences)
    return _persianize(" ".join(sentences), rng)


def _interviews(
    rng: np.random.Generator, hidden: pd.DataFrame, best: pd.DataFrame, contacts: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame, pd.DataFrame, list[dict]]:
    """Interviews of best and other customers: CSV rows, transcripts, truth codes, interviewees, PII."""
    info = hidden.set_index("account_id")
    active = best[best["won_value"] > 0].merge(hidden[["account_id", "churned"]], on="account_id")
    active = active[active["churned"].isna()]
    best_ids = sorted(
        rng.choice(
            active.loc[active["is_best"], "account_id"], size=N_BEST_INTERVIEWS, replace=False
        )
    )
    rest_ids = sorted(
        rng.choice(
            active.loc[~active["is_best"], "account_id"], size=N_REST_INTERVIEWS, replace=False
        )
    )
    people = [(a, True) for a in best_ids] + [(a, False) for a in rest_ids]
    # exact shares of interviewees who mention the why-codes: WHY_SHARE of best, a few others
    why = {}
    for ids, share in ((best_ids, WHY_SHARE["best"]), (rest_ids, WHY_SHARE["rest"])):
        for code in WHY_TRAITS:
            chosen = set(rng.choice(ids, size=int(round(share * len(ids))), replace=False).tolist())
            why.update({(a, code): a in chosen for a in ids})
    order = rng.permutation(len(people))
    people = [people[i] for i in order]
    persian = set(rng.choice(len(people), size=5, replace=False).tolist())
    english_transcripts = set(
        rng.choice(
            [i for i in range(len(people)) if i not in persian], size=3, replace=False
        ).tolist()
    )
    pii_interviews = set(
        rng.choice(
            [i for i in range(len(people)) if i not in persian], size=6, replace=False
        ).tolist()
    )

    csv_rows, transcripts, truth_rows, roster, pii = [], {}, [], [], []
    chosen = contacts[contacts["account_id"].isin([a for a, _ in people])]
    by_account = {a: c for a, c in chosen.groupby("account_id")}
    for k, (account_id, is_best) in enumerate(people):
        interview_id = f"I{k + 1:04d}"
        group = info.loc[account_id, "group"]
        codes = _interview_codes(
            rng,
            has_rd=why[(account_id, WHY_TRAITS[0])],
            has_ls=why[(account_id, WHY_TRAITS[1])],
            group=group,
        )
        date = pd.Timestamp("2026-07-01") + pd.Timedelta(days=int(rng.integers(0, 85)))
        acct_contacts = by_account.get(account_id)
        contact = acct_contacts.iloc[int(rng.integers(len(acct_contacts)))]
        role = contact["job_role"]
        language = "fa" if k in persian else "en"
        if language == "fa":
            codes = _persian_codes(codes)
            answers = {q: _persian_answer(rng, q, codes[q]) for q in QUESTIONS}
        else:
            extras = {q: "" for q in QUESTIONS}
            if k in pii_interviews:
                kind = ["email", "phone", "name"][k % 3]
                question = ("why_stay", "need_met", "opinion")[k % 3]
                value = contact[kind]
                extras[question] = {
                    "email": f"If anything changes, write to me at {value}.",
                    "phone": f"You can always reach our kitchen on {value}.",
                    "name": f"{value} handles all our orders now.",
                }[kind]
                pii.append(
                    {
                        "interview_id": interview_id,
                        "question": question,
                        "kind": kind,
                        "value": value,
                        "contact_id": contact["contact_id"],
                    }
                )
            answers = {q: _english_answer(rng, q, codes[q], extra=extras[q]) for q in QUESTIONS}
        for q in QUESTIONS:
            for code in dict.fromkeys(codes[q]):
                truth_rows.append({"interview_id": interview_id, "question": q, "code": code})
        source = "transcript" if (k in persian or k in english_transcripts) else "csv"
        roster.append(
            {
                "interview_id": interview_id,
                "account_id": account_id,
                "is_best": is_best,
                "language": language,
                "source": source,
            }
        )
        if source == "transcript":
            body = [
                "---",
                f"interview_id: {interview_id}",
                f"account_id: {account_id}",
                f"interviewee_role: {role}",
                f"date: {_date_str(date)}",
                "---",
            ]
            for q in QUESTIONS:
                body += [f"## {q}", answers[q], ""]
            transcripts[interview_id] = "\n".join(body)
        else:
            for q in QUESTIONS:
                csv_rows.append(
                    {
                        "interview_id": interview_id,
                        "account_id": account_id,
                        "question": q,
                        "answer": answers[q],
                        "interviewee_role": role,
                        "date": _date_str(date),
                    }
                )
    return pd.DataFrame(csv_rows), transcripts, pd.DataFrame(truth_rows), pd.DataFrame(roster), pii


def _manual_codes(
    rng: np.random.Generator, truth: pd.DataFrame, roster: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two coders hand-code the same half of the interviews with realistic disagreement.

    Both coders start from the true codes. Per code, a share of its units is
    coded by only one of the two (a miss by the other), and a few units of the
    same question get the code from one coder only; the vaguer codes
    (``AMBIGUOUS_CODES``) get far more of both, so their kappa falls below 0.6.
    """
    # half the interviews, two of them Persian, so the other Persian ones are left to rule coding
    persian = roster.loc[roster["language"].eq("fa"), "interview_id"].to_numpy()
    english = roster.loc[roster["language"].ne("fa"), "interview_id"].to_numpy()
    n_persian = min(2, len(persian))
    ids = sorted(
        [
            *rng.choice(persian, size=n_persian, replace=False),
            *rng.choice(english, size=len(roster) // 2 - n_persian, replace=False),
        ]
    )
    units = [(i, q) for i in ids for q in QUESTIONS]
    true = set(truth.loc[truth["interview_id"].isin(ids)].itertuples(index=False, name=None))
    coded = {"coder_a": set(true), "coder_b": set(true)}
    coders = list(coded)
    for code in CODEBOOK:
        positives = sorted(u for u in true if u[2] == code)
        if not positives:
            continue
        ambiguous = code in AMBIGUOUS_CODES
        miss_share = rng.uniform(0.5, 0.6) if ambiguous else rng.uniform(0.05, 0.3)
        n_miss = int(round(miss_share * len(positives)))
        for k in rng.choice(len(positives), size=n_miss, replace=False):
            coded[coders[rng.integers(2)]].discard(positives[k])
        dimension = DIMENSIONS[code.split(":")[0]]
        negatives = [
            (i, q, code)
            for i, q in units
            if _QUESTION_DIMENSION[q] == dimension and (i, q, code) not in true
        ]
        n_add = int(round((0.4 if ambiguous else rng.uniform(0.0, 0.1)) * len(positives)))
        for k in rng.choice(len(negatives), size=min(n_add, len(negatives)), replace=False):
            coded[coders[rng.integers(2)]].add(negatives[k])
    out = []
    for coder in coders:
        rows = sorted(coded[coder], key=lambda u: (u[0], QUESTIONS.index(u[1]), u[2]))
        frame = pd.DataFrame(rows, columns=["interview_id", "question", "code"]).assign(coder=coder)
        out.append(frame)
    return out[0], out[1]


_QUESTION_DIMENSION = {
    "how_found": "discovery_channel",
    "why_first_buy": "purchase_reason",
    "pains_needs": "pain_point",
    "need_met": "need_met",
    "opinion": "opinion",
    "why_stay": "reason_to_stay",
}


def _codebook() -> dict:
    codes = []
    for code, (description, keywords, patterns) in CODEBOOK.items():
        examples = [_fill(PHRASES[code][0], np.random.default_rng(0))]
        if code in PERSIAN_PHRASES:
            examples.append(PERSIAN_PHRASES[code][0])
        codes.append(
            {
                "code": code,
                "dimension": DIMENSIONS[code.split(":")[0]],
                "description": description,
                "keywords": list(keywords),
                "patterns": list(patterns),
                "examples": examples,
            }
        )
    return {"codes": codes}


