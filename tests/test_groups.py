"""Customer groups: Gower distances, the choice of k, profiles and plain-words descriptions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

from icp_helpers.customers import groups as gr  # noqa: E402

SEGMENTS = {
    # industry, employees band, city size, weekday, daypart, frequency, amount, multi-item share
    "wholesale": ("wholesaler", "10-49", "large", "Monday", "morning", 4.0, 1500.0, 0.95),
    "restaurants": ("restaurant", "10-49", "medium", "Thursday", "morning", 1.5, 450.0, 0.7),
    "delis": ("deli", "1-9", "small", "Wednesday", "afternoon", 0.7, 300.0, 0.3),
}


def _accounts(n: int = 360, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = list(SEGMENTS)
    truth = rng.choice(len(names), size=n, p=[0.25, 0.45, 0.30])
    rows = []
    for i, k in enumerate(truth):
        industry, band, city, day, part, freq, amount, multi = SEGMENTS[names[k]]
        noisy = rng.random(5) < 0.1  # each trait is off one time in ten
        rows.append(
            {
                "account_id": f"A{i:04d}",
                "industry": rng.choice(["hotel", "caterer"]) if noisy[0] else industry,
                "employees_band": "50-249" if noisy[1] else band,
                "city_size": rng.choice(["large", "medium", "small"]) if noisy[2] else city,
                "preferred_weekday": rng.choice(["Tuesday", "Friday"]) if noisy[3] else day,
                "preferred_daypart": "evening" if noisy[4] else part,
                "deal_frequency": freq * np.exp(rng.normal(0, 0.25)),
                "avg_deal_amount": amount * np.exp(rng.normal(0, 0.25)),
                "multi_item_share": float(np.clip(multi + rng.normal(0, 0.08), 0, 1)),
                "won_deals": 4,
            }
        )
    return pd.DataFrame(rows), truth


@pytest.fixture(scope="module")
def fitted():
    features, truth = _accounts()
    is_best = features["industry"].eq("wholesaler").to_numpy() & (np.arange(len(features)) % 2 == 0)
    model = gr.CustomerGroups(k_min=2, k_max=6, random_state=0).fit(features, is_best)
    return model, features, truth, is_best


def test_gower_distance_by_hand():
    cats = np.array([["a", "x"], ["a", "y"], ["(missing)", "y"]], dtype=object)
    nums = np.array([[0.0], [0.5], [np.nan]])
    d = gr.gower_distances(cats, nums)
    assert d[0, 1] == pytest.approx((0 + 1 + 0.5) / 3)
    assert d[1, 2] == pytest.approx(0.0)  # only the second category is known for both
    assert d[0, 2] == pytest.approx(1.0)
    np.testing.assert_allclose(d, d.T)
    assert np.allclose(np.diag(d), 0)


def test_recovers_planted_segments_and_chooses_k_by_silhouette(fitted):
    model, features, truth, _ = fitted
    assert model.n_groups_ == 3
    assert adjusted_rand_score(truth, model.labels_) > 0.9
    crit = model.criterion_.set_index("k")
    assert list(crit.index) == [2, 3, 4, 5, 6]
    eligible = crit[crit["eligible"]]
    assert eligible["silhouette"].idxmax() == model.n_groups_


def test_groups_are_numbered_by_size(fitted):
    model, *_ = fitted
    sizes = np.bincount(model.labels_)[1:]
    assert list(sizes) == sorted(sizes, reverse=True)
    assert model.profiles_["size"].tolist() == list(sizes)
    assert model.profiles_["share"].sum() == pytest.approx(1.0)


def test_profiles_and_best_share(fitted):
    model, features, _, is_best = fitted
    wholesale = model.profiles_[model.profiles_["industry"] == "wholesaler"].iloc[0]
    members = model.labels_ == wholesale.name
    assert wholesale["best_share"] == pytest.approx(is_best[members].mean())
    assert wholesale["deal_frequency"] == pytest.approx(features.loc[members, "deal_frequency"].median())
    assert wholesale["industry_share"] > 0.8


def test_descriptions_are_plain_words(fitted):
    model, *_ = fitted
    texts = model.descriptions_
    wholesale = next(g for g, t in texts.items() if "wholesalers" in t)
    assert "Small wholesalers in large cities" in texts[wholesale]
    assert "orders a quarter" in texts[wholesale]
    assert "mostly on Monday mornings" in texts[wholesale]
    assert "are best customers" in texts[wholesale]
    delis = next(g for g, t in texts.items() if "delis" in t.lower())
    assert texts[delis].startswith("Micro delis")
    assert "afternoon" in texts[delis]
    assert set(texts) == set(model.labels_text_) == set(range(1, model.n_groups_ + 1))


def test_fixed_number_of_groups_and_determinism():
    features, _ = _accounts(seed=1)
    a = gr.CustomerGroups(n_groups=4).fit(features)
    b = gr.CustomerGroups(n_groups=4).fit(features)
    assert a.n_groups_ == 4 and len(np.unique(a.labels_)) == 4
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert "best_share" not in a.profiles_


def test_subsample_for_large_tables():
    features, truth = _accounts(n=900, seed=2)
    model = gr.CustomerGroups(k_min=2, k_max=5, max_accounts=300, random_state=3).fit(features)
    assert model.n_fit_accounts_ == 300
    assert len(model.labels_) == 900
    assert 0.0 <= model.assignment_error_ < 0.2
    assert adjusted_rand_score(truth, model.labels_) > 0.8
    # new accounts join the group of their nearest medoid
    assert (model.predict(features.iloc[:50]) >= 1).all()
    assert "subsample" in gr.groups_text(model)


def test_predict_agrees_with_the_fitted_labels(fitted):
    model, features, *_ = fitted
    assert np.mean(model.predict(features) == model.labels_) > 0.95


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="grouping columns"):
        gr.CustomerGroups().fit(pd.DataFrame({"account_id": ["a", "b"], "x": [1, 2]}))


def test_artifacts_and_plots(fitted):
    model, features, *_ = fitted
    table = gr.groups_table(model, features)
    assert list(table.columns) == ["account_id", "group", "group_label"]
    summary = gr.groups_summary(model)
    assert summary["n_groups"] == model.n_groups_
    assert [g["group"] for g in summary["groups"]] == list(range(1, model.n_groups_ + 1))
    assert all(g["description"] for g in summary["groups"])
    ax = gr.plot_criterion(model)
    assert len(ax.get_xticks()) == len(model.criterion_)
    plt.close(ax.figure)
    ax = gr.plot_profiles(model, features)
    assert len(ax.get_yticklabels()) == model.n_groups_
    plt.close(ax.figure)


def test_gower_distances_of_integer_codes_equal_those_of_text():
    rng = np.random.default_rng(0)
    a = rng.choice(["x", "y", "z", gr._MISSING], (300, 3)).astype(object)
    b = rng.choice(["x", "y", "w", gr._MISSING], (7, 3)).astype(object)
    nums_a, nums_b = rng.random((300, 2)), rng.random((7, 2))
    nums_a[rng.random((300, 2)) < 0.1] = np.nan
    codes_a, codes_b = gr._category_codes(a, b)
    assert (codes_a[a == gr._MISSING] == -1).all()
    np.testing.assert_array_equal(
        gr.gower_distances(codes_a, nums_a, codes_b, nums_b), gr.gower_distances(a, nums_a, b, nums_b)
    )


CONSUMER_SEGMENTS = {
    # age band, income band, children, marital status, orders a quarter, order value
    "young singles": ("18-24", "low", False, "single", 1.0, 20.0),
    "families": ("35-44", "mid", True, "couple", 3.0, 80.0),
    "affluent seniors": ("65+", "high", False, "couple", 2.0, 200.0),
}


def _consumers(n: int = 300, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = list(CONSUMER_SEGMENTS)
    truth = rng.choice(len(names), size=n, p=[0.3, 0.4, 0.3])
    rows = []
    for i, k in enumerate(truth):
        age, income, kids, marital, freq, amount = CONSUMER_SEGMENTS[names[k]]
        noisy = rng.random(4) < 0.1
        rows.append(
            {
                "account_id": f"C{i:04d}",
                "age_band": "45-54" if noisy[0] else age,
                "income_band": "mid" if noisy[1] and income != "mid" else income,
                "has_children": (not kids) if noisy[2] else kids,
                "marital_status": "divorced" if noisy[3] else marital,
                "deal_frequency": freq * np.exp(rng.normal(0, 0.2)),
                "avg_deal_amount": amount * np.exp(rng.normal(0, 0.2)),
                "won_deals": 3,
            }
        )
    return pd.DataFrame(rows), truth


def test_consumer_groups_form_on_demographics_and_are_titled_by_what_sets_them_apart():
    features, truth = _consumers()
    model = gr.CustomerGroups(k_min=2, k_max=6).fit(features)
    assert {"age_band", "income_band", "has_children", "marital_status"} <= set(model.categorical_)
    assert adjusted_rand_score(truth, model.labels_) >= 0.6
    labels = list(model.labels_text_.values())
    assert len(set(labels)) == len(labels)  # every title differs
    assert all(label.strip() not in ("customers", "accounts") for label in labels)
    joined = " | ".join(labels)
    assert "aged 65+" in joined and "with children" in joined and "aged 18-24" in joined
    for text in model.descriptions_.values():
        assert text.startswith("Customers (") and "customers, " in text


def test_titles_that_coincide_take_what_sets_each_group_apart():
    labels = {1: "small restaurants", 2: "small restaurants", 3: "accounts"}
    apart = {1: ["Monday buyers", "big orders"], 2: ["Friday buyers"], 3: ["delis", "occasional buyers"]}
    out = gr._distinct_labels(labels, apart, noun="accounts")
    assert out == {1: "small restaurants, Monday buyers", 2: "small restaurants, Friday buyers",
                   3: "delis, occasional buyers"}
    same = gr._distinct_labels({1: "accounts", 2: "accounts"}, {}, noun="accounts")
    assert same == {1: "accounts (group 1)", 2: "accounts (group 2)"}
