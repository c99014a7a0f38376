"""Theme suggestions for answers no code covers: TF-IDF and non-negative matrix factorisation.

Answers that neither an analyst nor a rule could code may hold a topic the
codebook lacks. NMF splits their TF-IDF matrix into a few themes, each
described by its heaviest terms and the answers that load most on it, so an
analyst can decide whether a theme deserves a new code.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.utils import check_random_state

from .coding import has_text, normalize_text

__all__ = ["STOP_WORDS", "ThemeModel", "suggest_themes", "themes_table"]

#: English and Persian function words, and the fillers of spoken answers ("honestly",
#: "basically"), left out of theme terms (normalised forms).
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | frozenset(
    "honestly really basically actually just say said think guess like yes yeah ok okay "
    "lot bit things thing maybe sure know mean kind sort pretty quite".split()
) | frozenset(
    normalize_text(w)
    for w in (
        "و در به از که این آن را با است برای یک خود تا ما هم بود شد می نمی ها های ای "
        "هر اما ولی یا اگر چون همه بسیار خیلی کنیم کرد کردیم کنند دارد داریم داشتیم "
        "شده شود باشد بودند هست هستند نیز بر پس چه چرا کی چطور وقتی همین آنها ما را "
        "ایشان او من تو شما بین روی زیر بعد قبل دیگر فقط هنوز"
    ).split()
)


class ThemeModel(BaseEstimator):
    """TF-IDF + NMF themes of a set of texts.

    Parameters
    ----------
    n_themes : int
        Themes wanted; fewer are fitted when there are fewer texts or terms.
    max_df : float
        Terms in a larger share of the texts are too common to describe a theme.
    random_state : int, RandomState or None
        Seeds NMF's initialisation.

    Attributes
    ----------
    n_themes_ : int
        Themes fitted (0 for no usable text).
    terms_ : ndarray of str
    components_ : ndarray (n_themes_, n_terms)
        Term weights per theme.
    weights_ : ndarray (n_texts, n_themes_)
        Theme weights per training text.
    """

    def __init__(self, *, n_themes: int = 5, max_df: float = 0.9, random_state=None) -> None:
        self.n_themes = n_themes
        self.max_df = max_df
        self.random_state = random_state

    def fit(self, X: Iterable[str], y=None) -> ThemeModel:
        """Learn the themes of ``X`` (``y`` is ignored)."""
        texts = [normalize_text(t) for t in X]
        rng = check_random_state(self.random_state)
        self.n_themes_ = 0
        self.terms_ = np.array([], dtype=object)
        self.components_ = np.zeros((0, 0))
        self.weights_ = np.zeros((len(texts), 0))
        self.vectorizer_ = None
        usable = [t for t in texts if t.strip()]
        if not usable:
            return self
        vectorizer = TfidfVectorizer(
            token_pattern=r"(?u)\b\w\w+\b",
            stop_words=sorted(STOP_WORDS),
            max_df=self.max_df if len(usable) > 2 else 1.0,
            sublinear_tf=True,
        )
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError:  # nothing but stop words
            return self
        n_themes = min(self.n_themes, len(usable), matrix.shape[1])
        model = NMF(n_components=n_themes, init="nndsvda", random_state=rng.randint(2**31 - 1), max_iter=1000)
        self.weights_ = model.fit_transform(matrix)
        self.components_ = model.components_
        self.terms_ = vectorizer.get_feature_names_out()
        self.vectorizer_ = vectorizer
        self.n_themes_ = n_themes
        return self

    def top_terms(self, n: int = 8) -> list[list[str]]:
        """The ``n`` heaviest terms of each theme."""
        return [
            [str(self.terms_[i]) for i in np.argsort(-row, kind="stable")[:n] if row[i] > 0]
            for row in self.components_
        ]


def suggest_themes(
    answers: pd.DataFrame,
    *,
    n_themes: int = 5,
    n_terms: int = 8,
    n_examples: int = 3,
    max_chars: int = 240,
    redactor=None,
    random_state: int | None = 0,
) -> list[dict]:
    """Themes of a set of answers with their top terms and example quotes.

    Parameters
    ----------
    answers : DataFrame
        ``interview_id``, ``question``, ``answer`` (typically the answers no code covers).
    n_themes, n_terms, n_examples : int
        Themes, terms per theme and quotes per theme.
    max_chars : int
        Quotes are cut at a word boundary beyond this.
    redactor : object with ``redact(text)``, optional
        Applied to every quote.
    random_state : int or None
        Seeds NMF.

    Returns
    -------
    list of dict
        One dict per theme, largest first: ``theme`` (1-based), ``label`` (top
        three terms), ``terms``, ``n_answers`` (answers whose strongest theme
        it is), ``examples`` (``interview_id``, ``question``, ``quote``). Empty
        when there is no text to model.
    """
    answers = answers.loc[answers["answer"].map(has_text).astype(bool)].reset_index(drop=True)
    model = ThemeModel(n_themes=n_themes, random_state=random_state).fit(answers["answer"])
    if model.n_themes_ == 0:
        return []
    terms = model.top_terms(n_terms)
    strongest = model.weights_.argmax(axis=1)
    loaded = model.weights_.max(axis=1) > 0

    def quote(text: str) -> str:
        text = redactor.redact(text) if redactor is not None else text
        text = " ".join(str(text).split())
        return text if len(text) <= max_chars else text[:max_chars].rsplit(" ", 1)[0] + " …"

    themes = []
    for k in range(model.n_themes_):
        members = np.flatnonzero((strongest == k) & loaded)
        order = members[np.argsort(-model.weights_[members, k], kind="stable")][:n_examples]
        themes.append(
            {
                "label": " / ".join(terms[k][:3]),
                "terms": terms[k],
                "n_answers": int(len(members)),
                "examples": [
                    {
                        "interview_id": str(answers.at[i, "interview_id"]),
                        "question": str(answers.at[i, "question"]),
                        "quote": quote(answers.at[i, "answer"]),
                    }
                    for i in order
                ],
            }
        )
    themes.sort(key=lambda t: -t["n_answers"])
    return [{"theme": i + 1, **t} for i, t in enumerate(themes)]


def themes_table(themes: list[dict]) -> pd.DataFrame:
    """:func:`suggest_themes` output as a table: one row per theme with its first quote."""
    return pd.DataFrame(
        [
            {
                "theme": t["theme"],
                "terms": ", ".join(t["terms"]),
                "answers": t["n_answers"],
                "example": t["examples"][0]["quote"] if t["examples"] else "",
            }
            for t in themes
        ],
        columns=["theme", "terms", "answers", "example"],
    )
