"""Rule coding: normalisation, keyword and pattern matching, negation, merging with hand codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from icp_helpers.interviews.coding import (
    CodebookError,
    RuleCoder,
    answers_not_in,
    code_frequency,
    code_group_share,
    code_traits,
    coded_units,
    disagreements,
    indicator_matrix,
    merge_codes,
    normalize_text,
    representative_quotes,
    score_codes,
)
from icp_helpers.interviews.redact import Redactor


def _codebook(rows):
    return pd.DataFrame(
        [{"code": c, "dimension": d, "description": "", "keywords": k, "patterns": p} for c, d, k, p in rows]
    )


CODEBOOK = _codebook(
    [
        ("pain:late_delivery", "pain_point", ["late deliveries", "delays", "تأخیر", "دیر تحویل"], [r"\blate\b.{0,20}\bdeliver"]),
        ("channel:trade_show", "discovery_channel", ["trade show", "exhibition", "نمایشگاه"], []),
        ("reason:quality", "purchase_reason", ["quality", "taste", "کیفیت"], []),
        ("need:large_shipments", "need_met", ["large orders", "سفارش‌های بزرگ", "محموله‌های بزرگ"], []),
        ("stay:range", "reason_to_stay", ["range"], []),
        ("competitor:goldpress", "competitor", ["GoldPress"], []),
    ]
)


@pytest.fixture(scope="module")
def coder():
    return RuleCoder(CODEBOOK).fit()


# ------------------------------------------------------------------ normalisation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("كيفية", "کیفیه"),  # Arabic kaf, yeh, teh marbuta
        ("أحمد إسلام آب", "احمد اسلام اب"),  # hamza and madda forms of alef
        ("مؤسسه", "موسسه"),
        ("می\u200cخواهم", "می خواهم"),  # zero-width non-joiner becomes a space
        ("می\u200dخواهم", "می خواهم"),  # as does the joiner
        ("ســـلام", "سلام"),  # tatweel removed
        ("۱۴۰۱ و ٢٠٢٦", "1401 و 2026"),  # Persian and Arabic-Indic digits
        ("Café NAÏVE Straße", "cafe naive strasse"),  # accents, case folding
        ("ＦＵＬＬ　ｗｉｄｔｈ", "full width"),  # NFKC
        ("It’s   fine", "it's fine"),
        ("e\u0301te\u0301", "ete"),  # decomposed accents
        ("مَدرِسه", "مدرسه"),  # Arabic diacritics
        (None, ""),
        (float("nan"), ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_normalisation_keeps_other_scripts_words_whole():
    hindi = "नमस्ते दुनिया"
    assert normalize_text(hindi) == hindi
    rows = _codebook([("x:hello", "other", ["नमस्ते"], [])])
    assert RuleCoder(rows).fit().code_text(f"{hindi}!") == {"x:hello": "नमस्ते"}


# ------------------------------------------------------------------ matching


@pytest.mark.parametrize(
    "text",
    [
        "We met at a trade show in Cologne.",
        "We met at a trade-show.",
        "A TRADESHOW, years ago.",
        "در نمايشگاه آشنا شديم",  # Arabic yeh in Persian text
        "در نمایشگاه‌ها",  # plural after a zero-width non-joiner
    ],
)
def test_keywords_match_variants(coder, text):
    assert "channel:trade_show" in coder.code_text(text, question="how_found")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Oranges are great", "stay:range"),  # no match inside a longer word
        ("The arrangement works", "stay:range"),
        ("نمایشگاهی", None),
    ],
)
def test_keywords_need_word_boundaries(coder, text, code):
    found = coder.code_text(text, question="why_stay")
    assert (code or "stay:range") not in found


def test_persian_keyword_with_dropped_or_spaced_zwnj(coder):
    for text in ("سفارشهای بزرگ را می‌فرستید", "سفارش های بزرگ را می‌فرستید", "سفارش‌های بزرگ"):
        assert "need:large_shipments" in coder.code_text(text, question="need_met"), text


def test_patterns_are_applied(coder):
    assert coder.code_text("They were late with every delivery.", question="pains_needs") == {
        "pain:late_delivery": "late with every deliver"
    }


def test_codes_are_looked_for_in_their_dimensions_questions(coder):
    assert "reason:quality" in coder.code_text("great quality", question="why_first_buy")
    assert "reason:quality" not in coder.code_text("great quality", question="opinion")
    # competitor codes belong to no question
    assert "competitor:goldpress" in coder.code_text("we left GoldPress", question="opinion")
    everywhere = RuleCoder(CODEBOOK, dimension_questions={}).fit()
    assert "reason:quality" in everywhere.code_text("great quality", question="opinion")


# ------------------------------------------------------------------ negation


@pytest.mark.parametrize(
    "text",
    [
        "Delays were never a problem for us.",
        "We never had late deliveries, to be fair.",
        "Honestly, delays were not an issue.",
        "There weren't any delays.",
        "We had no delays at all.",
        "Delays were hardly ever an issue.",
        "هیچ‌وقت تأخیر نداشتیم.",
        "تأخیر نبود.",
        "تاخير در ارسال نمي‌بينيم",
        "ما هیچ تاخیری نداشتیم",
    ],
)
def test_negated_mentions_are_not_coded(coder, text):
    assert "pain:late_delivery" not in coder.code_text(text, question="pains_needs")
    hits = coder.matches(text, question="pains_needs")
    assert hits and all(h.negated for h in hits)


@pytest.mark.parametrize(
    "text",
    [
        "Our old supplier had constant delays.",
        "Delays, not price, were the problem.",  # the cue is in another clause
        "We had delays but no price problems.",
        "The price was fine and the delays were terrible.",
        "تأمین‌کننده قبلی همیشه دیر تحویل می‌داد.",
        "تأخیر در ارسال بزرگ‌ترین مشکل ما بود.",
        "قیمت مشکلی نبود اما تأخیر زیاد بود.",
    ],
)
def test_mentions_outside_a_negation_are_coded(coder, text):
    assert "pain:late_delivery" in coder.code_text(text, question="pains_needs")


def test_without_governs_what_follows(coder):
    assert "need:large_shipments" in coder.code_text("Large orders without a fuss.", question="need_met")
    assert "need:large_shipments" in coder.code_text("محموله‌های بزرگ را بدون دردسر می‌فرستید", question="need_met")
    assert "need:large_shipments" not in coder.code_text("We manage without large orders.", question="need_met")


def test_negation_can_be_switched_off():
    plain = RuleCoder(CODEBOOK, negation=False).fit()
    assert "pain:late_delivery" in plain.code_text("Delays were never a problem.", question="pains_needs")


def test_custom_negation_cues():
    coder = RuleCoder(CODEBOOK, negation_cues=["nie"]).fit()
    assert coder.code_text("delays nie", question="pains_needs") == {}
    assert coder.code_text("no delays", question="pains_needs") == {"pain:late_delivery": "delays"}


# ------------------------------------------------------------------ answers


def test_code_answers_handles_empty_and_missing_answers(coder):
    answers = pd.DataFrame(
        {
            "interview_id": ["I1", "I1", "I2", "I3"],
            "question": ["pains_needs", "how_found", "pains_needs", "pains_needs"],
            "answer": ["Constant delays.", "", None, "   "],
        }
    )
    coded = coder.code_answers(answers)
    assert coded.to_dict("records") == [
        {"interview_id": "I1", "question": "pains_needs", "code": "pain:late_delivery", "matched_text": "delays"}
    ]
    empty = coder.code_answers(answers.iloc[1:])
    assert empty.empty and list(empty.columns) == ["interview_id", "question", "code", "matched_text"]
    matrix = coder.transform(answers)
    assert matrix.shape == (4, len(CODEBOOK)) and matrix.to_numpy().sum() == 1


def test_long_answer_is_coded_correctly(coder):
    rng = np.random.default_rng(0)
    words = np.array(["the", "oil", "is", "fine", "we", "order", "tins", "every", "week", "and"])
    filler = " ".join(rng.choice(words, size=20_000))
    text = (filler[:49_000] + " We had no delays, ever. " + filler[:10_000] + ". Large orders work. " + filler)[:100_000]
    assert len(text) == 100_000
    pains = coder.code_text(text, question="pains_needs")
    needs = coder.code_text(text, question="need_met")
    assert "pain:late_delivery" not in pains and needs == {"need:large_shipments": "large orders"}


def test_long_answer_with_a_backtracking_prone_pattern_finishes():
    """Seconds are for the benchmarks; this checks the result on such an answer."""
    book = _codebook([("pain:x", "pain_point", [], [r"a.*b.*c"])])
    coder = RuleCoder(book).fit()
    text = "a " * 50_000  # no b anywhere: the pattern must fail everywhere, not hang
    assert coder.code_text(text) == {}
    assert set(coder.code_text(text[:20_000] + "then b and c")) == {"pain:x"}


# ------------------------------------------------------------------ codebook errors


def test_broken_regex_is_reported_at_fit_with_code_and_pattern():
    book = _codebook(
        [
            ("pain:ok", "pain_point", ["fine"], []),
            ("pain:broken", "pain_point", [], [r"(late|slow"]),
            ("pain:slow", "pain_point", [], [r"(a+)+b"]),
        ]
    )
    coder = RuleCoder(book)  # constructing does not compile
    with pytest.raises(CodebookError) as info:
        coder.fit()
    message = str(info.value)
    assert "'pain:broken'" in message and "(late|slow" in message and "not a valid regular expression" in message
    assert "pain:ok" not in message
    assert "pain:slow" not in message  # nested repeats run in linear time with RE2


def test_codebook_shape_problems_are_named():
    with pytest.raises(CodebookError, match="dimension"):
        RuleCoder(pd.DataFrame({"code": ["a:b"]})).fit()
    with pytest.raises(CodebookError, match="listed twice: a:b"):
        RuleCoder(_codebook([("a:b", "x", ["k"], []), ("a:b", "x", ["k"], [])])).fit()
    with pytest.raises(CodebookError, match="<prefix>:<name>"):
        RuleCoder(_codebook([("nocolon", "x", ["k"], [])])).fit()
    with pytest.raises(CodebookError, match="empty text"):
        RuleCoder(_codebook([("a:b", "x", [], [r"x*"])])).fit()


def test_keywords_may_be_semicolon_text_as_in_csv_codebooks():
    book = pd.DataFrame([{"code": "channel:fair", "dimension": "discovery_channel", "keywords": "trade fair; expo", "patterns": None}])
    assert RuleCoder(book).fit().code_text("At the expo.") == {"channel:fair": "expo"}


def test_unmatched_examples_lists_examples_the_rules_miss():
    book = _codebook([("reason:quality", "purchase_reason", ["taste"], [])]).assign(
        examples=[["The taste won us over.", "Best oil around."]]
    )
    missed = RuleCoder(book).fit().unmatched_examples()
    assert missed.to_dict("records") == [{"code": "reason:quality", "example": "Best oil around."}]


# ------------------------------------------------------------------ merging with hand codes

ANSWERS = pd.DataFrame(
    {
        "interview_id": ["I1", "I1", "I2", "I2", "I3"],
        "account_id": ["A1", "A1", "A2", "A2", "A3"],
        "question": ["how_found", "opinion", "how_found", "opinion", "how_found"],
        "answer": ["trade show", "great", "friend told us", "fine", "exhibition"],
    }
)
RULES = pd.DataFrame(
    {
        "interview_id": ["I1", "I1", "I2", "I3"],
        "question": ["how_found", "opinion", "opinion", "how_found"],
        "code": ["channel:trade_show", "opinion:positive", "opinion:positive", "channel:trade_show"],
        "matched_text": ["trade show", "great", "fine", "exhibition"],
    }
)
MANUAL = pd.DataFrame(
    {
        "interview_id": ["I1", "I1", "I1", "I2", "I2"],
        "question": ["how_found", "how_found", "how_found", "how_found", "how_found"],
        "code": ["channel:trade_show", "channel:referral", "channel:trade_show", "channel:referral", "channel:referral"],
        "coder": ["coder_a", "coder_b", "coder_b", "coder_a", "adjudicated"],
    }
)


def test_coded_units_extend_to_the_whole_interview():
    units = coded_units(MANUAL, answers=ANSWERS)
    assert set(map(tuple, units[units["coder"] == "coder_a"][["interview_id", "question"]].to_numpy())) == {
        ("I1", "how_found"), ("I1", "opinion"), ("I2", "how_found"), ("I2", "opinion")
    }
    by_answer = coded_units(MANUAL, unit="answer")
    assert len(by_answer[by_answer["coder"] == "coder_a"]) == 2


def test_manual_codes_win_over_rules():
    merged = merge_codes(RULES, MANUAL, answers=ANSWERS)
    by_answer = merged.groupby(["interview_id", "question"])
    # I1: coder_a (first in sorted order) wins; coder_b's extra code is not pooled in
    assert set(by_answer.get_group(("I1", "how_found"))["code"]) == {"channel:trade_show"}
    assert set(by_answer.get_group(("I1", "how_found"))["coder"]) == {"coder_a"}
    # I1 opinion: coded by hand (whole interview) with no code, so the rule code is dropped
    assert ("I1", "opinion") not in by_answer.groups
    # I2: the adjudicated coder wins over coder_a
    assert set(by_answer.get_group(("I2", "how_found"))["coder"]) == {"adjudicated"}
    assert ("I2", "opinion") not in by_answer.groups
    # I3 nobody coded: rules
    i3 = by_answer.get_group(("I3", "how_found"))
    assert i3["source"].tolist() == ["rule"] and i3["matched_text"].tolist() == ["exhibition"]
    assert set(merged["source"]) == {"manual", "rule"}


def test_merge_by_answer_keeps_rules_for_answers_without_rows():
    merged = merge_codes(RULES, MANUAL, unit="answer")
    assert ("I1", "opinion", "rule") in set(map(tuple, merged[["interview_id", "question", "source"]].to_numpy()))


def test_coder_order_picks_the_coder():
    merged = merge_codes(RULES, MANUAL[MANUAL["coder"] != "adjudicated"], answers=ANSWERS, coder_order=["coder_b", "coder_a"])
    i1 = merged[(merged["interview_id"] == "I1") & (merged["question"] == "how_found")]
    assert set(i1["code"]) == {"channel:trade_show", "channel:referral"} and set(i1["coder"]) == {"coder_b"}


def test_disagreements_side_by_side():
    table = disagreements(RULES, MANUAL, answers=ANSWERS)
    rows = {(r.interview_id, r.question): r for r in table.itertuples()}
    assert ("I1", "how_found") not in rows  # same codes
    assert rows[("I1", "opinion")].only_rule == "opinion:positive" and rows[("I1", "opinion")].manual == ""
    assert rows[("I2", "how_found")].only_manual == "channel:referral"
    assert rows[("I2", "how_found")].answer == "friend told us"


# ------------------------------------------------------------------ matrices, scores, traits


def test_indicator_matrix_and_scores_match_sklearn():
    rng = np.random.default_rng(3)
    answers = pd.DataFrame({"interview_id": [f"I{i}" for i in range(40)], "question": "opinion"})
    codes = ["a:x", "a:y", "a:z"]
    truth = rng.random((40, 3)) < 0.4
    pred = truth ^ (rng.random((40, 3)) < 0.2)

    def long(m):
        r, c = np.nonzero(m)
        return pd.DataFrame({"interview_id": answers["interview_id"].to_numpy()[r], "question": "opinion", "code": np.array(codes)[c]})

    assert (indicator_matrix(long(truth), answers=answers, codes=codes).to_numpy() == truth).all()
    scores = score_codes(long(pred), long(truth), answers=answers, codes=codes).set_index("code")
    assert scores.loc["(micro)", "f1"] == pytest.approx(f1_score(truth, pred, average="micro"))
    assert scores.loc["(macro)", "f1"] == pytest.approx(f1_score(truth, pred, average="macro"))
    assert scores.loc["a:y", "f1"] == pytest.approx(f1_score(truth[:, 1], pred[:, 1]))


def test_code_traits_cover_interviewed_accounts_only():
    coded = pd.DataFrame(
        {
            "account_id": ["A1", "A1", "A2", "A9"],
            "code": ["channel:trade_show", "pain:late", "pain:late", "pain:late"],
        }
    )
    traits = code_traits(coded, accounts=["A2", "A1", "A3"], codes=["pain:late", "channel:trade_show", "stay:never_used"])
    assert traits["account_id"].tolist() == ["A1", "A2", "A3"]
    assert list(traits.columns) == ["account_id", "pain:late", "channel:trade_show", "stay:never_used"]
    assert traits.drop(columns="account_id").dtypes.eq(bool).all()
    assert traits.set_index("account_id").to_dict("index") == {
        "A1": {"pain:late": True, "channel:trade_show": True, "stay:never_used": False},
        "A2": {"pain:late": True, "channel:trade_show": False, "stay:never_used": False},
        "A3": {"pain:late": False, "channel:trade_show": False, "stay:never_used": False},
    }


def test_frequency_group_share_and_quotes():
    merged = merge_codes(RULES, MANUAL, answers=ANSWERS)
    freq = code_frequency(merged)
    assert freq.loc["channel:trade_show", "how_found"] == 2
    assert freq.to_numpy().sum() == len(merged)

    coded = merged.merge(ANSWERS[["interview_id", "account_id"]].drop_duplicates(), on="interview_id")
    traits = code_traits(coded, accounts=ANSWERS["account_id"])
    share = code_group_share(traits, pd.DataFrame({"account_id": ["A1", "A2", "A3"], "group": ["g1", "g1", "g2"]}))
    assert share.loc["channel:trade_show", "g1"] == 0.5 and share.loc["channel:trade_show", "g2"] == 1.0
    assert share.loc["n"].tolist() == [2, 1]

    answers = ANSWERS.assign(answer=ANSWERS["answer"].where(ANSWERS["interview_id"] != "I3", "exhibition, ask Anna Berg"))
    quotes = representative_quotes(merged, answers, n=1, redactor=Redactor(["Anna Berg"]))
    assert quotes.groupby("code").size().max() == 1
    assert quotes.set_index("code").loc["channel:trade_show", "interview_id"] == "I1"  # hand-coded first
    assert not quotes["quote"].str.contains("Anna").any()


def test_answers_not_in():
    rest = answers_not_in(ANSWERS, RULES)
    assert list(map(tuple, rest[["interview_id", "question"]].to_numpy())) == [("I2", "how_found")]
    assert len(answers_not_in(ANSWERS, RULES.iloc[:0])) == len(ANSWERS)
