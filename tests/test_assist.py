"""Assisted coding: the scikit-learn contract, skipped codes, cross-validated report, suggestions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from icp_helpers.interviews.assist import AssistedCoder, training_set

DELIVERY = ["deliveries always on time", "the truck comes when you say", "punctual delivery every week",
            "ارسال‌ها همیشه سر وقت می‌رسد", "you deliver on time", "on-time delivery matters to us"]
QUALITY = ["the taste is wonderful", "best flavour we tried", "quality of the oil is superb",
           "کیفیت روغن عالی است", "the oil tastes fresh", "our chef loves the flavour"]
OTHER = ["we are a small deli", "the weather was bad", "our menu changes every season",
         "it was a long time ago", "nothing to add really", "we have forty seats"]


def _data(seed: int = 0, repeats: int = 3):
    rng = np.random.default_rng(seed)
    texts, rows = [], []
    for _ in range(repeats):
        for group, label in ((DELIVERY, "need:delivery"), (QUALITY, "reason:quality"), (OTHER, None)):
            for text in group:
                texts.append(f"{text} {rng.choice(OTHER)}")
                rows.append({"need:delivery": label == "need:delivery", "reason:quality": label == "reason:quality",
                             "stay:rare": False})
    y = pd.DataFrame(rows)
    y.loc[0, "stay:rare"] = True  # one positive only: skipped
    return texts, y


def test_init_stores_params_and_fit_returns_self():
    coder = AssistedCoder(min_positives=4, cv=3, random_state=0)
    assert coder.get_params()["min_positives"] == 4
    assert not hasattr(coder, "codes_")
    texts, y = _data()
    assert coder.fit(texts, y) is coder
    assert set(coder.codes_) == {"need:delivery", "reason:quality"}
    assert "stay:rare" in coder.skipped_ and "needs 4" in coder.skipped_["stay:rare"]
    clone(coder)  # params round-trip


def test_unfitted_raises():
    with pytest.raises(NotFittedError):
        AssistedCoder().predict_proba(["x"])


def test_cv_report_and_predictions_are_sensible():
    texts, y = _data()
    coder = AssistedCoder(min_positives=4, cv=3, random_state=0).fit(texts, y)
    report = coder.cv_report_.set_index("code")
    assert list(report.columns) == ["positives", "precision", "recall", "f1", "folds"]
    assert report.loc["need:delivery", "positives"] == len(DELIVERY) * 3
    assert (report[["precision", "recall"]] > 0.7).all().all()
    proba = coder.predict_proba(["your deliveries arrive on time", "the flavour is superb", "we have forty seats"])
    assert list(proba.columns) == coder.codes_
    assert proba.loc[0, "need:delivery"] > 0.5 > proba.loc[0, "reason:quality"]
    assert proba.loc[1, "reason:quality"] > 0.5 > proba.loc[1, "need:delivery"]
    assert proba.loc[2].max() < 0.5
    assert coder.predict(["your deliveries arrive on time"]).loc[0, "need:delivery"]


def test_char_ngrams_generalise_to_persian_spelling_variants():
    texts, y = _data()
    coder = AssistedCoder(min_positives=4, cv=3, word_ngrams=None, random_state=0).fit(texts, y)
    # Arabic yeh/kaf and a dropped zero-width non-joiner, unseen in training
    proba = coder.predict_proba(["كيفيت روغن عالي است"])
    assert proba.loc[0, "reason:quality"] > proba.loc[0, "need:delivery"]


def test_seeded_fit_is_reproducible():
    texts, y = _data()
    a = AssistedCoder(min_positives=4, cv=3, random_state=3).fit(texts, y)
    b = AssistedCoder(min_positives=4, cv=3, random_state=3).fit(texts, y)
    pd.testing.assert_frame_equal(a.cv_report_, b.cv_report_)


def test_suggest_returns_long_table_sorted_by_confidence():
    texts, y = _data()
    coder = AssistedCoder(min_positives=4, cv=3, random_state=0).fit(texts, y)
    uncoded = pd.DataFrame(
        {
            "interview_id": ["I1", "I2", "I3", "I4"],
            "question": ["need_met", "why_first_buy", "opinion", "opinion"],
            "answer": ["deliveries on time, always", "the flavour won us", "", None],
        }
    )
    suggestions = coder.suggest(uncoded)
    assert list(suggestions.columns) == ["interview_id", "question", "code", "confidence"]
    assert suggestions["confidence"].is_monotonic_decreasing
    assert (suggestions["confidence"] >= coder.threshold).all()
    pairs = set(map(tuple, suggestions[["interview_id", "code"]].to_numpy()))
    assert ("I1", "need:delivery") in pairs and ("I2", "reason:quality") in pairs
    assert not suggestions["interview_id"].isin(["I3", "I4"]).any()
    assert coder.suggest(uncoded.iloc[2:]).empty


def test_training_set_uses_hand_coded_answers_only():
    answers = pd.DataFrame(
        {"interview_id": ["I1", "I1", "I2"], "question": ["opinion", "how_found", "opinion"], "answer": ["good", "fair", "ok"]}
    )
    codes = pd.DataFrame({"interview_id": ["I1"], "question": ["opinion"], "code": ["opinion:positive"]})
    texts, y = training_set(answers, codes)
    assert texts.tolist() == ["good"] and y.columns.tolist() == ["opinion:positive"] and y.iloc[0, 0]


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="rows"):
        AssistedCoder().fit(["a", "b"], pd.DataFrame({"c:x": [True]}))
