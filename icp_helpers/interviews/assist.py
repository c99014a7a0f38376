"""Assisted coding: a classifier trained on hand-coded answers proposes codes for the rest.

For each code, a TF-IDF representation of the answer (word uni- and bigrams
plus character n-grams within words, which cope with Persian affixes and
spelling variants) feeds a logistic regression, one code against the rest.
The proposals are suggestions for an analyst to review: they are written to
``suggested_codes.parquet`` and never merged with the human or rule codes.
Cross-validated precision and recall per code (``cv_report_``) tell the
analyst which codes' proposals are worth reading.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import KFold
from sklearn.pipeline import FeatureUnion
from sklearn.utils import check_random_state

from .coding import has_text, indicator_matrix, normalize_text

__all__ = ["AssistedCoder", "training_set"]

_KEY = ["interview_id", "question"]


def training_set(
    answers: pd.DataFrame, codes: pd.DataFrame, *, coded: pd.DataFrame | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """Texts and a boolean code matrix of the answers coded by hand.

    Parameters
    ----------
    answers : DataFrame
        ``interview_id``, ``question``, ``answer``.
    codes : DataFrame
        ``interview_id``, ``question``, ``code``: the hand codes (e.g. the
        second table of :func:`icp_helpers.interviews.coding.hand_codes`).
    coded : DataFrame, optional
        ``interview_id``, ``question`` of every hand-coded answer, including
        those in which the coder found no code (they are the negatives);
        default the answers in ``codes``.
    """
    coded = (coded if coded is not None else codes)[_KEY].astype("string").drop_duplicates()
    text = answers[[*_KEY, "answer"]].astype({"interview_id": "string", "question": "string"})
    rows = text.merge(coded, on=_KEY, how="inner").drop_duplicates(_KEY)
    y = indicator_matrix(codes, answers=rows)
    return pd.Series(rows["answer"].astype(object).fillna("").to_numpy(), index=y.index, name="answer"), y


class AssistedCoder(BaseEstimator):
    """Per-code TF-IDF + logistic regression trained on hand-coded answers.

    Parameters
    ----------
    min_positives : int
        Codes with fewer hand-coded answers than this are skipped (noted in
        ``skipped_``): a classifier learnt from two examples only echoes them.
    cv : int
        Folds of the cross-validation behind ``cv_report_`` (fewer with fewer answers).
    threshold : float
        Probability from which :meth:`predict` and :meth:`suggest` propose a code.
    C : float
        Inverse regularisation strength of the logistic regressions.
    char_ngrams : tuple of int
        Character n-gram range (within words); ``None`` to use words only.
    word_ngrams : tuple of int
        Word n-gram range; ``None`` to use characters only.
    random_state : int, RandomState or None
        Seeds the folds and the solvers.

    Attributes
    ----------
    codes_ : list of str
        Codes with a trained classifier.
    skipped_ : dict
        Code → why it was not trained.
    cv_report_ : DataFrame
        ``code``, ``positives``, ``precision``, ``recall``, ``f1``, ``folds``:
        cross-validated on the training answers, for every trained code.
    vectorizer_ : FeatureUnion
        TF-IDF of words and characters, fitted on all training answers.
    estimators_ : dict
        Code → fitted logistic regression.
    """

    def __init__(
        self,
        *,
        min_positives: int = 5,
        cv: int = 5,
        threshold: float = 0.5,
        C: float = 4.0,
        char_ngrams: tuple[int, int] | None = (2, 5),
        word_ngrams: tuple[int, int] | None = (1, 2),
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.min_positives = min_positives
        self.cv = cv
        self.threshold = threshold
        self.C = C
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.random_state = random_state

    def _vectorizer(self) -> FeatureUnion:
        parts = []
        if self.word_ngrams:
            parts.append(("words", TfidfVectorizer(ngram_range=self.word_ngrams, sublinear_tf=True)))
        if self.char_ngrams:
            parts.append(("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True)))
        if not parts:
            raise ValueError("AssistedCoder needs word_ngrams or char_ngrams")
        return FeatureUnion(parts)

    def _classifier(self, seed: int) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear", random_state=seed)

    def fit(self, X: Iterable[str], y: pd.DataFrame) -> AssistedCoder:
        """Train one classifier per code with enough positives and cross-validate it.

        The cross-validation refits the TF-IDF vocabulary inside every fold, so
        the reported precision and recall are those of answers the model has
        not seen; the folds are shared by all codes.

        Parameters
        ----------
        X : iterable of str
            Answer texts.
        y : DataFrame
            Boolean matrix, one column per code, one row per text (see :func:`training_set`).
        """
        if not isinstance(y, pd.DataFrame):
            raise TypeError("y must be a DataFrame with one boolean column per code")
        texts = np.array([normalize_text(t) for t in X], dtype=object)
        if len(texts) != len(y):
            raise ValueError(f"X has {len(texts)} texts but y has {len(y)} rows")
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        labels = y.to_numpy(dtype=bool)
        positives = labels.sum(axis=0)
        negatives = len(labels) - positives
        self.skipped_: dict[str, str] = {}
        trained = []
        for j, code in enumerate(y.columns):
            if positives[j] < self.min_positives:
                self.skipped_[code] = f"{positives[j]} hand-coded answer(s); needs {self.min_positives}"
            elif negatives[j] < 2:
                self.skipped_[code] = f"only {negatives[j]} answer(s) without the code; nothing to contrast"
            else:
                trained.append(j)

        folds = min(self.cv, len(texts))
        predicted = np.zeros((len(texts), len(trained)), dtype=bool)
        if trained and folds >= 2:
            for train, test in KFold(n_splits=folds, shuffle=True, random_state=seed).split(texts):
                vectorizer = self._vectorizer().fit(texts[train])
                train_matrix, test_matrix = vectorizer.transform(texts[train]), vectorizer.transform(texts[test])
                for k, j in enumerate(trained):
                    target = labels[train, j]
                    if target.all() or not target.any():  # one class in this fold: predict it
                        predicted[test, k] = target[0]
                        continue
                    model = self._classifier(seed).fit(train_matrix, target)
                    predicted[test, k] = model.predict_proba(test_matrix)[:, 1] >= self.threshold

        self.vectorizer_ = self._vectorizer().fit(texts) if trained else None
        matrix = self.vectorizer_.transform(texts) if trained else None
        self.estimators_ = {y.columns[j]: self._classifier(seed).fit(matrix, labels[:, j]) for j in trained}
        report = []
        for k, j in enumerate(trained):
            scores = (np.nan, np.nan, np.nan)
            if folds >= 2:
                scores = precision_recall_fscore_support(
                    labels[:, j], predicted[:, k], average="binary", zero_division=0
                )[:3]
            report.append(
                {"code": y.columns[j], "positives": int(positives[j]), "precision": scores[0],
                 "recall": scores[1], "f1": scores[2], "folds": folds}
            )
        self.codes_ = list(self.estimators_)
        self.cv_report_ = pd.DataFrame(report, columns=["code", "positives", "precision", "recall", "f1", "folds"])
        self.n_training_answers_ = len(texts)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimators_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("call AssistedCoder().fit(texts, codes) first")

    def predict_proba(self, X: Iterable[str]) -> pd.DataFrame:
        """Probability of each trained code for each text (rows in input order, columns ``codes_``)."""
        self._check_fitted()
        texts = [normalize_text(t) for t in X]
        if not texts or not self.codes_:
            return pd.DataFrame({code: pd.Series(dtype=float) for code in self.codes_}, index=range(len(texts)))
        matrix = self.vectorizer_.transform(texts)
        return pd.DataFrame({code: est.predict_proba(matrix)[:, 1] for code, est in self.estimators_.items()})

    def predict(self, X: Iterable[str]) -> pd.DataFrame:
        """Boolean matrix: probability at least ``threshold``."""
        return self.predict_proba(X) >= self.threshold

    def suggest(
        self, answers: pd.DataFrame, *, threshold: float | None = None, exclude: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Proposed codes for answers, most confident first.

        Parameters
        ----------
        answers : DataFrame
            ``interview_id``, ``question``, ``answer`` (typically those nobody coded by hand).
        threshold : float, optional
            Overrides ``self.threshold``.
        exclude : DataFrame, optional
            ``interview_id``, ``question``, ``code`` already assigned (e.g. by the
            rules); they are not proposed again.

        Returns
        -------
        DataFrame
            ``interview_id``, ``question``, ``code``, ``confidence`` (the classifier's probability).
        """
        threshold = self.threshold if threshold is None else threshold
        columns = ["interview_id", "question", "code", "confidence"]
        answers = answers.loc[answers["answer"].map(has_text).astype(bool)]
        if answers.empty or not self.codes_:
            self._check_fitted()
            return pd.DataFrame(columns=columns)
        proba = self.predict_proba(answers["answer"])
        proba.index = pd.MultiIndex.from_frame(answers[_KEY])
        long = proba.stack().rename("confidence").reset_index()
        long.columns = columns
        long = long[long["confidence"] >= threshold]
        if exclude is not None and len(long):
            keys = ["interview_id", "question", "code"]
            done = exclude[keys].astype("string").drop_duplicates()
            long = long.astype({k: "string" for k in keys}).merge(done, on=keys, how="left", indicator=True)
            long = long[long["_merge"] == "left_only"].drop(columns="_merge")
        return long.sort_values(["confidence", "interview_id"], ascending=[False, True], ignore_index=True)
