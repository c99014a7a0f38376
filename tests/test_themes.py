"""Theme suggestions: TF-IDF + NMF, seeded, robust to small inputs."""

from __future__ import annotations

import pandas as pd

from icp_helpers.interviews.redact import Redactor
from icp_helpers.interviews.themes import ThemeModel, suggest_themes

SHIPPING = ["the pallet arrived damaged by the courier", "courier left the pallet in the rain",
            "damaged pallet again from the courier", "the courier broke two pallets"]
WEBSHOP = ["your webshop login never works", "the webshop checkout keeps failing",
           "webshop password reset is broken", "checkout on the webshop is slow"]


def _answers(texts):
    return pd.DataFrame({"interview_id": [f"I{i}" for i in range(len(texts))], "question": "pains_needs", "answer": texts})


def test_two_clear_themes_are_separated_with_terms_and_examples():
    themes = suggest_themes(_answers(SHIPPING + WEBSHOP), n_themes=2, random_state=0)
    assert [t["theme"] for t in themes] == [1, 2]
    tops = [set(t["terms"][:3]) for t in themes]
    assert any({"courier", "pallet"} & top for top in tops) and any("webshop" in top for top in tops)
    for theme in themes:
        assert 2 <= len(theme["examples"]) <= 3
        words = " ".join(e["quote"] for e in theme["examples"])
        assert ("webshop" in words) != ("courier" in words)  # each theme's quotes tell one story
        assert theme["label"] == " / ".join(theme["terms"][:3])
    assert sum(t["n_answers"] for t in themes) == 8


def test_fewer_answers_than_themes():
    themes = suggest_themes(_answers(SHIPPING[:2]), n_themes=5, random_state=0)
    assert 1 <= len(themes) <= 2


def test_no_usable_text_gives_no_themes():
    assert suggest_themes(_answers([]), n_themes=3) == []
    assert suggest_themes(_answers(["", None, "  "]), n_themes=3) == []
    assert suggest_themes(_answers(["the and of", "و در به"]), n_themes=3) == []


def test_seeded_and_reproducible():
    answers = _answers(SHIPPING + WEBSHOP)
    assert suggest_themes(answers, n_themes=3, random_state=4) == suggest_themes(answers, n_themes=3, random_state=4)


def test_persian_stop_words_are_not_theme_terms():
    persian = ["بسته‌بندی روغن در راه خراب شد", "بسته‌بندی ها در انبار خراب شد", "و در به از قیمت بالا", "قیمت ها و تخفیف بالا"]
    themes = suggest_themes(_answers(persian), n_themes=2, random_state=0)
    terms = {term for theme in themes for term in theme["terms"]}
    assert {"خراب", "قیمت"} <= terms
    assert not {"و", "در", "به", "از", "ها", "شد"} & terms


def test_quotes_are_redacted():
    texts = [f"{t}, call Maria Rossi at +39 06 1234 5678" for t in SHIPPING]
    themes = suggest_themes(_answers(texts), n_themes=1, redactor=Redactor(["Maria Rossi"]), random_state=0)
    quotes = " ".join(e["quote"] for e in themes[0]["examples"])
    assert "Rossi" not in quotes and "1234" not in quotes and "[name]" in quotes


def test_theme_model_contract():
    model = ThemeModel(n_themes=2, random_state=0)
    assert model.fit(SHIPPING + WEBSHOP) is model
    assert model.components_.shape[0] == model.n_themes_ == 2
    assert model.weights_.shape == (8, 2)
