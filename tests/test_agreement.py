"""Coder agreement: Cohen's kappa per code and overall, bootstrap intervals, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from icp_helpers.interviews.agreement import (
    AGREEMENT_COLUMNS,
    agreement_table,
    coder_matrices,
    cohen_kappa,
    kept_codes,
    low_agreement_codes,
)

CODES = ["c:clear", "c:vague", "c:rare"]


def _manual(seed: int = 0, n_interviews: int = 30):
    """Two coders over the same interviews: one clear code, one vague, one rare."""
    rng = np.random.default_rng(seed)
    rows = []
    truth = {}
    for i in range(n_interviews):
        for q in ("how_found", "opinion"):
            truth[(f"I{i:03d}", q)] = {
                "c:clear": rng.random() < 0.5,
                "c:vague": rng.random() < 0.4,
                "c:rare": rng.random() < 0.05,
            }
    for coder, noise in (("coder_a", {"c:clear": 0.02, "c:vague": 0.35, "c:rare": 0.0}), ("coder_b", {"c:clear": 0.02, "c:vague": 0.35, "c:rare": 0.0})):
        for (iid, q), codes in truth.items():
            for code, present in codes.items():
                if present != (rng.random() < noise[code]):
                    rows.append({"interview_id": iid, "question": q, "code": code, "coder": coder})
    answers = pd.DataFrame(list(truth), columns=["interview_id", "question"]).assign(answer="x")
    return pd.DataFrame(rows), answers


def test_per_code_kappa_equals_sklearn_on_the_same_vectors():
    manual, answers = _manual()
    a, b = coder_matrices(manual, answers=answers)
    table = agreement_table(manual, answers=answers, n_bootstrap=0).set_index("code")
    # every answer of an interview both coders coded counts, with or without codes
    both = set(manual.loc[manual["coder"] == "coder_a", "interview_id"]) & set(
        manual.loc[manual["coder"] == "coder_b", "interview_id"]
    )
    assert len(a) == answers["interview_id"].isin(both).sum() > 40
    for code in a.columns:
        expected = cohen_kappa_score(a[code], b[code])
        assert table.loc[code, "kappa"] == pytest.approx(expected)
    pooled = cohen_kappa_score(a.to_numpy().ravel(), b.to_numpy().ravel())
    assert table.loc["(pooled)", "kappa"] == pytest.approx(pooled)
    assert table.loc["(mean)", "kappa"] == pytest.approx(table.loc[list(a.columns), "kappa"].mean())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=60))
def test_cohen_kappa_matches_sklearn_whenever_defined(pairs):
    a, b = zip(*pairs, strict=True)
    ours = cohen_kappa(a, b)
    if len(set(a) | set(b)) == 1:
        assert np.isnan(ours)  # one category only: undefined
    else:
        assert ours == pytest.approx(cohen_kappa_score(a, b))


def test_vague_code_is_flagged_and_clear_code_kept():
    manual, answers = _manual()
    table = agreement_table(manual, answers=answers, threshold=0.6, n_bootstrap=300, random_state=1)
    rows = table.set_index("code")
    assert rows.loc["c:clear", "kappa"] > 0.8
    assert rows.loc["c:vague", "kappa"] < 0.6
    assert low_agreement_codes(table) == ["c:vague"]
    assert kept_codes(CODES, table) == ["c:clear", "c:rare"]
    assert kept_codes(CODES, table, keep_low_agreement=True) == CODES
    assert not rows.loc[["(mean)", "(pooled)"], "below_threshold"].any()
    assert set(rows["scope"]) == {"code", "overall"}


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    manual, answers = _manual()
    first = agreement_table(manual, answers=answers, n_bootstrap=400, random_state=7)
    again = agreement_table(manual, answers=answers, n_bootstrap=400, random_state=7)
    other = agreement_table(manual, answers=answers, n_bootstrap=400, random_state=8)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["ci_low"].fillna(0), other["ci_low"].fillna(0))
    defined = first.dropna(subset=["kappa", "ci_low"])
    assert (defined["ci_low"] <= defined["kappa"] + 1e-9).all()
    assert (defined["kappa"] <= defined["ci_high"] + 1e-9).all()
    assert (defined["ci_high"] - defined["ci_low"] > 0).any()


def test_more_answers_narrow_the_interval():
    manual, answers = _manual(n_interviews=15)
    small = agreement_table(manual, answers=answers, n_bootstrap=500, random_state=0).set_index("code")
    manual, answers = _manual(n_interviews=200)
    large = agreement_table(manual, answers=answers, n_bootstrap=500, random_state=0).set_index("code")
    width = lambda t: t.loc["(pooled)", "ci_high"] - t.loc["(pooled)", "ci_low"]  # noqa: E731
    assert width(large) < width(small)


def test_only_answers_both_coders_coded_count():
    manual = pd.DataFrame(
        {
            "interview_id": ["I1", "I1", "I2", "I3"],
            "question": ["opinion"] * 4,
            "code": ["c:x", "c:x", "c:x", "c:y"],
            "coder": ["a", "b", "a", "b"],
        }
    )
    a, b = coder_matrices(manual, unit="answer")
    assert a.index.tolist() == [("I1", "opinion")]
    table = agreement_table(manual, unit="answer", n_bootstrap=0)
    assert (table["n_answers"] == 1).all()
    assert np.isnan(table.set_index("code").loc["c:x", "kappa"])  # one answer: undefined, not flagged
    assert not table["below_threshold"].any()


def test_needs_two_coders_and_known_pair():
    manual = pd.DataFrame({"interview_id": ["I1"], "question": ["opinion"], "code": ["c:x"], "coder": ["a"]})
    with pytest.raises(ValueError, match="two coders"):
        coder_matrices(manual)
    for nothing in (agreement_table(manual), agreement_table(None)):
        assert nothing.empty and list(nothing.columns) == AGREEMENT_COLUMNS
        assert low_agreement_codes(nothing) == []
    manual2 = pd.concat([manual, manual.assign(coder="b")])
    with pytest.raises(ValueError, match="zed"):
        agreement_table(manual2, coders=("a", "zed"))
