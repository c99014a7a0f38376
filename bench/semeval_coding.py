"""Interview coding against human coders: SemEval-2014 restaurant reviews (aspect categories).

The SemEval-2014 task 4 restaurant sentences carry human-assigned aspect
categories (food, service, price, ambience, anecdotes/miscellaneous), a
voice-of-customer text with human codes much like interview answers. The
benchmark measures the two automatic coders of step 2 against those codes:

- **Rule coding** (:class:`icp_helpers.interviews.coding.RuleCoder`) with a codebook
  written from the *training* sentences only. For every category, word
  unigrams and bigrams of the training sentences (normalised, stop words
  dropped) are ranked by how reliably they signal it: a term becomes a
  keyword when at least ``min_count`` training sentences with the term carry
  the category and at least ``min_precision`` of the sentences with the term
  do, keeping the ``top`` most frequent. ``min_precision`` and ``top`` are
  chosen on a validation fifth of the training sentences, then the codebook
  is rebuilt from all of them. Negation is off: an aspect category says what
  a sentence is about, not whether it praises it ("the food was not good" is
  about food). A sentence no keyword codes gets the catch-all
  ``anecdotes/miscellaneous``, as the annotation guidelines define it.
- **Assisted coding** (:class:`icp_helpers.interviews.assist.AssistedCoder`), trained on
  the training sentences' categories.

Both are scored on the test sentences with micro- and macro-averaged F1 over
the five categories (one row per sentence, multi-label).

Run from the repository root: ``.venv/bin/python -m bench.semeval_coding``.
The data are read in place from ``../shared/datasets/`` next to the repository.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.metrics import f1_score

from icp_helpers.interviews.assist import AssistedCoder
from icp_helpers.interviews.coding import RuleCoder, normalize_text

__all__ = ["load_split", "build_codebook", "rule_predictions", "main"]

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "datasets" / "semeval2014_restaurant_reviews"
TRAIN = "restaurants_train_aspect_categories.csv"
TEST = "restaurants_test_phaseB_aspect_categories.csv"
CATEGORIES = ("food", "service", "price", "ambience", "anecdotes/miscellaneous")
FALLBACK = "anecdotes/miscellaneous"
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def code_name(category: str) -> str:
    """``aspect:<category>`` in the workbench's ``<prefix>:<name>`` form."""
    return "aspect:" + re.sub(r"\W+", "_", category).strip("_")


CODES = [code_name(c) for c in CATEGORIES]


def load_split(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sentences (``interview_id``, ``question``, ``answer``) and their human codes."""
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = rows[rows["category"].isin(CATEGORIES)]
    answers = rows.drop_duplicates("sentence_id")[["sentence_id", "text"]]
    answers = answers.rename(columns={"sentence_id": "interview_id", "text": "answer"}).assign(question="review")
    codes = rows[["sentence_id", "category"]].drop_duplicates()
    codes = pd.DataFrame(
        {"interview_id": codes["sentence_id"], "question": "review", "code": codes["category"].map(code_name)}
    )
    return answers[["interview_id", "question", "answer"]].reset_index(drop=True), codes.reset_index(drop=True)


def _terms(text: str) -> set[str]:
    words = [w for w in _TOKEN.findall(normalize_text(text)) if len(w) > 1]
    unigrams = {w for w in words if w not in ENGLISH_STOP_WORDS}
    bigrams = {
        f"{a} {b}" for a, b in zip(words, words[1:], strict=False)
        if not (a in ENGLISH_STOP_WORDS and b in ENGLISH_STOP_WORDS)
    }
    return unigrams | bigrams


def build_codebook(
    answers: pd.DataFrame, codes: pd.DataFrame, *, min_precision: float = 0.6, min_count: int = 3, top: int = 60
) -> pd.DataFrame:
    """A codebook whose keywords are each category's most reliable training terms.

    Parameters
    ----------
    answers, codes
        Training sentences and their categories (:func:`load_split`).
    min_precision : float
        Share of the sentences containing a term that must carry the category.
    min_count : int
        Sentences with the term and the category, at least.
    top : int
        Keywords kept per category, most frequent first.
    """
    labels = codes.groupby("interview_id")["code"].agg(lambda s: set(s)).to_dict()
    with_term: Counter = Counter()
    with_term_and_code: Counter = Counter()
    for iid, text in zip(answers["interview_id"], answers["answer"], strict=True):
        for term in _terms(text):
            with_term[term] += 1
            for code in labels.get(iid, ()):
                with_term_and_code[term, code] += 1
    rows = []
    for code in CODES:
        if code == code_name(FALLBACK):
            continue  # the catch-all is assigned when nothing else matches
        candidates = [
            (n, term)
            for (term, c), n in with_term_and_code.items()
            if c == code and n >= min_count and n / with_term[term] >= min_precision
        ]
        keywords = [term for _, term in sorted(candidates, key=lambda x: (-x[0], x[1]))[:top]]
        rows.append(
            {"code": code, "dimension": "aspect", "description": f"sentence about {code.split(':')[1]}",
             "keywords": keywords, "patterns": [], "examples": []}
        )
    rows.append(
        {"code": code_name(FALLBACK), "dimension": "aspect", "description": "none of the aspects (catch-all)",
         "keywords": [], "patterns": [], "examples": []}
    )
    return pd.DataFrame(rows)


def rule_predictions(codebook: pd.DataFrame, answers: pd.DataFrame, *, negation: bool = False) -> pd.DataFrame:
    """Rule codes of the sentences, with the catch-all for sentences no keyword codes."""
    coded = RuleCoder(codebook, negation=negation).fit().code_answers(answers)
    missing = answers[~answers["interview_id"].isin(coded["interview_id"])]
    fallback = missing[["interview_id", "question"]].assign(code=code_name(FALLBACK))
    return pd.concat([coded[["interview_id", "question", "code"]], fallback], ignore_index=True)


def _matrix(codes: pd.DataFrame, answers: pd.DataFrame) -> np.ndarray:
    index = pd.Index(answers["interview_id"])
    out = np.zeros((len(answers), len(CODES)), dtype=bool)
    rows, cols = index.get_indexer(codes["interview_id"]), pd.Index(CODES).get_indexer(codes["code"])
    keep = (rows >= 0) & (cols >= 0)
    out[rows[keep], cols[keep]] = True
    return out


def scores(predicted: pd.DataFrame, truth: pd.DataFrame, answers: pd.DataFrame) -> dict[str, float]:
    """Micro and macro F1 plus F1 per category."""
    y_true, y_pred = _matrix(truth, answers), _matrix(predicted, answers)
    per_code = f1_score(y_true, y_pred, average=None, zero_division=0)
    return {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        **{code: float(f) for code, f in zip(CODES, per_code, strict=True)},
    }


def _tune(answers: pd.DataFrame, codes: pd.DataFrame, *, seed: int) -> dict:
    """``min_precision`` and ``top`` with the best micro F1 on a validation fifth of training."""
    rng = np.random.default_rng(seed)
    ids = answers["interview_id"].to_numpy()
    held = set(rng.choice(ids, size=len(ids) // 5, replace=False))
    fit_a, val_a = answers[~answers["interview_id"].isin(held)], answers[answers["interview_id"].isin(held)]
    fit_c, val_c = codes[~codes["interview_id"].isin(held)], codes[codes["interview_id"].isin(held)]
    best = None
    for min_precision in (0.5, 0.6, 0.7, 0.8, 0.9):
        for top in (40, 80, 160, 320, 640):
            book = build_codebook(fit_a, fit_c, min_precision=min_precision, top=top)
            micro = scores(rule_predictions(book, val_a), val_c, val_a)["micro_f1"]
            if best is None or micro > best[0]:
                best = (micro, {"min_precision": min_precision, "top": top})
    return best[1]


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Build the codebook, code the test sentences both ways, print and return the scores."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the SemEval-2014 restaurant CSVs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.data / TRAIN).is_file():
        raise SystemExit(f"{args.data / TRAIN} not found; pass --data <folder of the SemEval-2014 CSVs>")

    train_a, train_c = load_split(args.data / TRAIN)
    test_a, test_c = load_split(args.data / TEST)
    print(f"training sentences: {len(train_a)}, test sentences: {len(test_a)}")

    started = time.perf_counter()
    settings = _tune(train_a, train_c, seed=args.seed)
    codebook = build_codebook(train_a, train_c, **settings)
    rules = rule_predictions(codebook, test_a)
    rules_negation = rule_predictions(codebook, test_a, negation=True)
    rule_s = time.perf_counter() - started
    sizes = ", ".join(f"{c.split(':')[1]} {len(k)}" for c, k in zip(codebook["code"], codebook["keywords"], strict=True))
    print(f"codebook: min_precision {settings['min_precision']}, top {settings['top']}; keywords per code: {sizes}")

    started = time.perf_counter()
    y = pd.DataFrame(_matrix(train_c, train_a), columns=CODES)
    model = AssistedCoder(random_state=args.seed).fit(train_a["answer"], y)
    proba = model.predict_proba(test_a["answer"])
    assisted = proba.ge(model.threshold).to_numpy()
    top = proba.to_numpy().argmax(axis=1)
    assisted_top = assisted.copy()
    assisted_top[np.arange(len(top)), top] = True  # at least one category per sentence
    assist_s = time.perf_counter() - started

    def long(matrix: np.ndarray) -> pd.DataFrame:
        r, c = np.nonzero(matrix)
        return pd.DataFrame({"interview_id": test_a["interview_id"].to_numpy()[r], "code": np.array(model.codes_)[c]})

    results = {
        "rules": scores(rules, test_c, test_a),
        "rules, negation on": scores(rules_negation, test_c, test_a),
        "assisted": scores(long(assisted), test_c, test_a),
        "assisted, top-1 added": scores(long(assisted_top), test_c, test_a),
    }
    table = pd.DataFrame(results).T
    table.columns = [c.removeprefix("aspect:") for c in table.columns]
    print(table.round(3).to_string())
    print(f"seconds: rules {rule_s:.1f} (tuning included), assisted {assist_s:.1f} (5-fold CV included)")
    print("assisted coder, cross-validated on training:")
    print(model.cv_report_.round(3).to_string(index=False))
    return results


if __name__ == "__main__":
    main()
