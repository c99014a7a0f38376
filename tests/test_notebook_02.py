"""Notebook 02 on the sample: recorded codes against the sample's true codes, agreement, redaction."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import cohen_kappa_score, f1_score

from icp_helpers.data.config import load_config

pytestmark = pytest.mark.slow

NOTEBOOK = "02_interview_coding"
KEY = ["interview_id", "question"]


@pytest.fixture(scope="module")
def sample_inputs(sample_config_path):
    from icp_helpers.data.loaders import load_project

    project = load_project(sample_config_path, tables=["interviews", "manual_codes", "contacts"])
    return project


@pytest.fixture(scope="module")
def coded(sample_run):
    return pd.read_parquet(sample_run / "coded_answers.parquet")


@pytest.fixture(scope="module")
def step2(sample_run):
    return json.loads((sample_run / "step2.json").read_text(encoding="utf-8"))


def _matrix(frame: pd.DataFrame, rows: pd.DataFrame, codes: list[str]) -> np.ndarray:
    index = pd.MultiIndex.from_frame(rows[KEY].astype(str))
    keys = pd.MultiIndex.from_frame(frame[KEY].astype(str))
    out = np.zeros((len(index), len(codes)), dtype=bool)
    r, c = index.get_indexer(keys), pd.Index(codes).get_indexer(frame["code"])
    ok = (r >= 0) & (c >= 0)
    out[r[ok], c[ok]] = True
    return out


def _f1(predicted: pd.DataFrame, truth: pd.DataFrame, rows: pd.DataFrame) -> tuple[float, float]:
    codes = sorted(truth["code"].unique())
    y_true, y_pred = _matrix(truth, rows, codes), _matrix(predicted, rows, codes)
    return (
        f1_score(y_true, y_pred, average="micro", zero_division=0),
        f1_score(y_true, y_pred, average="macro", zero_division=0),
    )


def test_rule_codes_reach_the_true_codes(sample_run, sample_dir, sample_inputs, coded):
    """Answers nobody coded by hand carry rule codes; against the sample's truth they score F1 >= 0.8."""
    answers = sample_inputs.interviews
    hand = set(sample_inputs.manual_codes["interview_id"])
    rule_rows = answers[~answers["interview_id"].isin(hand)][KEY].drop_duplicates()
    assert len(rule_rows) >= 60
    rule_codes = coded[coded["source"] == "rule"]
    assert set(rule_codes["interview_id"]) <= set(rule_rows["interview_id"])  # manual codes win

    truth = pd.read_csv(sample_dir / "truth_codes.csv", dtype=str)
    truth = truth.merge(rule_rows, on=KEY)
    micro, macro = _f1(rule_codes, truth, rule_rows)
    assert macro >= 0.8, f"macro F1 {macro:.3f}"
    assert micro >= 0.8, f"micro F1 {micro:.3f}"

    roster = pd.read_csv(sample_dir / "truth_interviews.csv", dtype=str)
    persian = rule_rows[rule_rows["interview_id"].isin(roster.loc[roster["language"] == "fa", "interview_id"])]
    assert len(persian) >= 6, "the sample's rule-coded answers include Persian interviews"
    p_micro, p_macro = _f1(rule_codes, truth.merge(persian, on=KEY), persian)
    assert p_micro >= 0.8 and p_macro >= 0.7, f"Persian micro {p_micro:.3f}, macro {p_macro:.3f}"


def test_hand_codes_win_for_hand_coded_interviews(sample_inputs, coded):
    manual = sample_inputs.manual_codes
    first = sorted(manual["coder"].unique())[0]
    mine = manual[manual["coder"] == first]
    hand_rows = coded[coded["interview_id"].isin(set(manual["interview_id"]))]
    assert (hand_rows["source"] == "manual").all()
    expected = set(map(tuple, mine[[*KEY, "code"]].astype(str).to_numpy()))
    assert set(map(tuple, hand_rows[[*KEY, "code"]].astype(str).to_numpy())) == expected


def test_recorded_rule_versus_hand_scores(step2):
    scores = step2["rule_vs_manual"]
    assert 0.7 <= scores["macro_f1"] <= 1 and 0.7 <= scores["micro_f1"] <= 1
    assert step2["hand_coded_answers"] == 6 * step2["hand_coded_interviews"] > 0
    assert step2["coders"] == ["coder_a", "coder_b"]


def test_agreement_equals_sklearn_on_the_sample(sample_run, sample_inputs, sample_config_path):
    table = pd.read_parquet(sample_run / "agreement.parquet").set_index("code")
    manual, answers = sample_inputs.manual_codes, sample_inputs.interviews
    both = set(manual.loc[manual["coder"] == "coder_a", "interview_id"]) & set(
        manual.loc[manual["coder"] == "coder_b", "interview_id"]
    )
    rows = answers[answers["interview_id"].isin(both)][KEY].drop_duplicates()
    codes = sorted(manual["code"].unique())
    a = _matrix(manual[manual["coder"] == "coder_a"], rows, codes)
    b = _matrix(manual[manual["coder"] == "coder_b"], rows, codes)
    for j, code in enumerate(codes):
        if a[:, j].any() or b[:, j].any():
            assert table.loc[code, "kappa"] == pytest.approx(cohen_kappa_score(a[:, j], b[:, j])), code
    assert (table.loc[codes, "n_answers"] == len(rows)).all()
    threshold = load_config(sample_config_path).interviews.kappa_threshold
    flagged = table.index[table["below_threshold"]]
    assert (table.loc[flagged, "kappa"] < threshold).all()
    assert table.loc[["(mean)", "(pooled)"], "ci_low"].notna().all()


def test_code_traits_are_the_interviewed_accounts_and_kept_codes(sample_run, sample_inputs, step2):
    traits = pd.read_parquet(sample_run / "code_traits.parquet")
    interviewed = set(sample_inputs.interviews["account_id"])
    assert set(traits["account_id"]) == interviewed
    assert step2["interviewed_accounts"] == len(traits) == len(interviewed)
    codes = [c for c in traits.columns if c != "account_id"]
    assert codes == step2["codes_kept"]
    assert not set(step2["codes_flagged"]) & set(codes)
    assert all(re.fullmatch(r"[a-z_]+:[a-z_]+", c) for c in codes)
    assert traits[codes].dtypes.eq(bool).all()
    # a trait is true exactly when one of the account's answers carries the code
    coded = pd.read_parquet(sample_run / "coded_answers.parquet")
    mentioned = {account: set(group) for account, group in coded.groupby("account_id")["code"]}
    for row in traits.head(20).itertuples(index=False):
        assert {c for c, v in zip(codes, row[1:], strict=True) if v} == mentioned.get(row.account_id, set()) & set(codes)


def test_suggestions_and_themes(sample_run, sample_inputs):
    suggested = pd.read_parquet(sample_run / "suggested_codes.parquet")
    assert list(suggested.columns) == ["interview_id", "question", "code", "confidence"]
    assert suggested["confidence"].between(0.5, 1).all()
    assert not suggested["interview_id"].isin(set(sample_inputs.manual_codes["interview_id"])).any()
    themes = json.loads((sample_run / "themes.json").read_text(encoding="utf-8"))
    assert themes["answers_without_code"] > 0
    assert 1 <= len(themes["themes"]) <= load_config().interviews.n_themes
    assert all(t["terms"] and 1 <= len(t["examples"]) <= 3 for t in themes["themes"])


def _personal_data(sample_dir, sample_inputs) -> tuple[list[str], list[str]]:
    """Emails and phones that appear in the sample's raw answers, plus every contact's."""
    contacts = sample_inputs.contacts
    truth = yaml.safe_load((sample_dir / "truth.yml").read_text(encoding="utf-8"))
    mentions = [m["value"] for m in truth.get("pii_mentions", []) if m["kind"] in ("email", "phone")]
    raw = " ".join(sample_inputs.interviews["answer"].dropna())
    assert mentions and all(m in raw for m in mentions), "the sample's answers carry personal data"
    emails = contacts["email"].dropna().tolist() + re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", raw)
    phones = contacts["phone"].dropna().tolist() + [m for m in mentions if "@" not in m]
    return sorted(set(emails)), sorted(set(phones))


def test_no_email_or_phone_in_the_report_or_coded_answers(sample_run, sample_dir, sample_inputs, coded, tmp_path):
    from icp_helpers.reports.runner import render_html

    html = render_html(sample_run / f"{NOTEBOOK}.ipynb", html_path=tmp_path / f"{NOTEBOOK}.html").read_text(encoding="utf-8")
    assert "What customers say, in their words" in html and html.count("Honestly") >= 3  # quotes are shown
    emails, phones = _personal_data(sample_dir, sample_inputs)
    text = " ".join(coded["answer"].dropna())
    for value in emails + phones:
        assert value not in html, value
        assert value not in text, value
    assert "[email]" in text or "[phone]" in text
    names = [m["value"] for m in yaml.safe_load((sample_dir / "truth.yml").read_text())["pii_mentions"] if m["kind"] == "name"]
    for name in names:
        assert name not in html and name not in text, name


def test_without_step_1_the_notebook_says_to_run_it_first(sample_config_path, tmp_path):
    from icp_helpers.reports.runner import execute_notebook

    result = execute_notebook(
        NOTEBOOK, config_path=str(sample_config_path), quarter="2026Q3", run_dir=str(tmp_path),
        html=False, raise_on_error=False,
    )
    assert not result.ok
    assert "MissingArtifactError" in result.error and "01_best_customers" in result.error
    assert not (tmp_path / "coded_answers.parquet").exists()
