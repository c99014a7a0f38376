"""Backtest: quarters, metrics and a run on a small synthetic CRM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from icp_helpers.data.config import ProjectConfig
from icp_helpers.data.quarters import Quarter, QuarterError
from icp_helpers.traits.validation import (
    auc,
    backtest_quarters,
    black_box_scores,
    cannot_validate_reason,
    lift_curve,
    plot_lift_chart,
    read_held_out,
    run_backtest,
    top_share_lift,
    validation_markdown,
    validation_warnings,
    write_held_out,
)


def test_auc_matches_sklearn_and_handles_one_class():
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.3
    s = rng.integers(0, 5, 300) + y
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert np.isnan(auc(np.ones(5, dtype=bool), np.arange(5)))


def test_top_share_lift_by_hand():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 10, dtype=bool)  # base rate 0.2
    perfect = y.astype(float)
    assert top_share_lift(y, perfect, share=0.1) == pytest.approx(1 / 0.2)
    assert top_share_lift(y, np.zeros(100), share=0.1) == pytest.approx(1.0)  # all tied: random
    # ties at the cut are split in proportion: top 10 = 5 sure hits + 5 of a 20-row tie with 4 hits
    score = np.concatenate([np.full(5, 3.0), np.full(20, 2.0), np.zeros(75)])
    labels = np.zeros(100, dtype=bool)
    labels[:5] = True
    labels[5:9] = True
    expected_hits = 5 + 4 * 5 / 20
    assert top_share_lift(labels, score, share=0.1) == pytest.approx(
        (expected_hits / 10) / labels.mean()
    )


def _deals(rng, accounts, quarters, rate) -> pd.DataFrame:
    rows = []
    for q in quarters:
        start = Quarter.parse(q).start
        counts = rng.poisson(rate)
        for account, k, r in zip(accounts["account_id"], counts, rate, strict=True):
            for _ in range(k):
                rows.append(
                    {
                        "account_id": account,
                        "close_date": start + pd.Timedelta(days=int(rng.integers(0, 85)),
                                                           hours=int(rng.integers(8, 18))),
                        "amount": float(rng.lognormal(6 + r / 2, 0.4)),
                        "quantity": int(rng.integers(1, 20)),
                        "stage": "won",
                    }
                )
    deals = pd.DataFrame(rows)
    deals["deal_id"] = [f"D{i:06d}" for i in range(len(deals))]
    return deals


@pytest.fixture(scope="module")
def synthetic_crm():
    rng = np.random.default_rng(11)
    n = 500
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:04d}" for i in range(n)],
            "industry": rng.choice(["wholesaler", "deli", "hotel"], size=n, p=[0.3, 0.4, 0.3]),
            "employees": rng.choice([5, 25, 120], size=n).astype(float),
            "country": rng.choice(["Italy", "Spain"], size=n),
            "created_date": pd.Timestamp("2022-01-01"),
        }
    )
    # buying rate driven by industry and size, with an account-level wobble
    rate = (
        0.4
        * np.where(accounts["industry"] == "wholesaler", 4.0, 1.0)
        * np.where(accounts["employees"] == 25, 2.0, 1.0)
        * rng.lognormal(0, 0.3, n)
    )
    quarters = [str(Quarter.parse("2024Q1") + i) for i in range(8)]
    deals = _deals(rng, accounts, quarters, rate)
    config = ProjectConfig.model_validate(
        {
            "inputs": {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.csv"}},
            "analysis": {"lookback_quarters": 4, "validation_quarters": 1},
            "traits": {"n_bootstrap": 30},
        }
    )
    return {"accounts": accounts, "deals": deals, "contacts": None}, config


def test_backtest_quarters():
    deals = pd.DataFrame({"close_date": pd.to_datetime(["2025-01-05", "2025-12-20"])})
    s, tests, note = backtest_quarters(deals, quarter="2025Q4", horizon=2)
    assert s == Quarter.parse("2025Q2") and tests == [Quarter.parse("2025Q3"), Quarter.parse("2025Q4")]
    assert "latest" in note
    s, tests, _ = backtest_quarters(deals, quarter="2025Q2", horizon=1)
    assert s == Quarter.parse("2025Q2") and tests == [Quarter.parse("2025Q3")]


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_backtest_quarters_read_only_closed_deals(unit):
    """Open deals and missing dates do not move the data's end, in any date unit or as text."""
    dates = pd.to_datetime(["2025-01-05", "2025-09-30", None, "2026-02-10"]).astype(f"datetime64[{unit}]")
    deals = pd.DataFrame({"close_date": dates, "stage": ["won", "lost", "won", "open"]})
    as_text = deals.assign(close_date=["2025-01-05", "2025-09-30", None, "2026-02-10"])
    for table in (deals, as_text):
        s, tests, note = backtest_quarters(table, quarter="2025Q3", horizon=1)
        assert (s, tests) == (Quarter.parse("2025Q2"), [Quarter.parse("2025Q3")])
        assert "2025Q3 is the latest complete quarter" in note
    with pytest.raises(QuarterError, match="no dates"):
        backtest_quarters(deals.assign(stage="open"), quarter="2025Q3", horizon=1)


def test_backtest_on_synthetic_crm(synthetic_crm):
    tables, config = synthetic_crm
    result = run_backtest(tables, quarter="2025Q4", config=config)
    metrics = result.metrics.set_index("model")
    assert list(metrics.index) == ["fit score", "black box", "past spend"]
    assert result.selection_quarter == Quarter.parse("2025Q3")
    assert (metrics["test_quarters"] == "2025Q4").all()
    assert "industry=wholesaler" in metrics.loc["fit score", "traits"]
    assert metrics.loc["fit score", "auc"] > 0.7
    assert metrics.loc["black box", "auc_vs_ceiling"] == pytest.approx(1.0)
    assert metrics.loc["fit score", "auc_vs_ceiling"] == pytest.approx(
        metrics.loc["fit score", "auc"] / metrics.loc["black box", "auc"]
    )
    assert metrics["top_decile_lift"].gt(1).all()
    scores = result.scores
    assert scores["is_best_later"].sum() == metrics.loc["fit score", "n_best_later"]
    # only data up to the selection quarter was used for the selection
    assert result.selector.evidence_["n_best"].max() < len(scores)
    curve = lift_curve(scores)
    assert set(curve["model"]) == {"fit score", "black box", "past spend"}
    assert curve.loc[curve["top_share"] == 1.0, "lift"].round(9).eq(1.0).all()
    ax = plot_lift_chart(result)
    assert len(ax.get_lines()) == 4
    import matplotlib.pyplot as plt

    plt.close("all")


def test_held_out_tiers_are_the_backtest_score_and_round_trip(synthetic_crm, tmp_path):
    tables, config = synthetic_crm
    result = run_backtest(tables, quarter="2025Q4", config=config)
    held = result.held_out
    assert list(held.columns) == ["account_id", "fit_score", "tier", "is_best_later"]
    assert (held["fit_score"].to_numpy() == result.scores["fit score"].to_numpy()).all()
    assert (held["is_best_later"] == result.scores["is_best_later"]).all()
    cut = result.scorer.cutoffs_
    expected = np.where(held["fit_score"] >= cut["A"], "A", np.where(held["fit_score"] >= cut["B"], "B", "C"))
    assert (held["tier"].to_numpy() == expected).all()
    write_held_out(result, tmp_path)
    back = read_held_out(tmp_path)
    pd.testing.assert_frame_equal(back, held)
    assert back.attrs["selection_quarter"] == "2025Q3" and back.attrs["test_quarters"] == ["2025Q4"]
    assert back.attrs["traits"] == [t.id for t in result.selector.traits_]
    with pytest.raises(FileNotFoundError, match="03_select_traits"):
        read_held_out(tmp_path / "empty")


def test_expected_hits_split_ties_evenly():
    from icp_helpers.traits.validation import _expected_hits_top

    y = np.array([1, 0, 1, 1, 0, 0], dtype=bool)
    score = np.array([5, 5, 3, 3, 3, 1], dtype=float)
    assert _expected_hits_top(y, score, 1) == pytest.approx(0.5)  # half of the 5s group
    assert _expected_hits_top(y, score, 2) == pytest.approx(1.0)
    assert _expected_hits_top(y, score, 3.5) == pytest.approx(1 + 2 * 1.5 / 3)
    assert _expected_hits_top(y, score, 6) == pytest.approx(3.0)
    assert _expected_hits_top(y, score, 0) == 0.0


def test_hits_at_many_cuts_equal_one_cut_at_a_time():
    from icp_helpers.traits.validation import _expected_hits_top, top_share_lifts

    rng = np.random.default_rng(8)
    y = rng.random(500) < 0.25
    score = rng.integers(0, 6, 500).astype(float)  # many ties
    ks = np.array([0, 0.5, 1, 37.5, 250, 499, 500, 600])
    np.testing.assert_allclose(_expected_hits_top(y, score, ks), [_expected_hits_top(y, score, k) for k in ks])
    shares = np.arange(1, 11) / 10
    with_missing = np.where(rng.random(500) < 0.2, np.nan, score)
    np.testing.assert_allclose(
        top_share_lifts(y, with_missing, shares=shares),
        [top_share_lift(y, with_missing, share=share) for share in shares],
    )
    assert np.isnan(top_share_lifts(np.zeros(5, dtype=bool), np.arange(5), shares=[0.5])).all()


def test_outcome_from_the_value_columns_alone_equals_the_whole_table(synthetic_crm):
    from icp_helpers.customers.best import value_columns, value_scores
    from icp_helpers.customers.features import account_features

    tables, config = synthetic_crm
    rule = config.best_customers
    whole = account_features(tables["deals"], tables["accounts"], quarter="2025Q4", lookback_quarters=1)
    narrow = account_features(
        tables["deals"], tables["accounts"], quarter="2025Q4", lookback_quarters=1, columns=value_columns(rule)
    )
    assert set(narrow.columns) < set(whole.columns)
    pd.testing.assert_frame_equal(value_scores(narrow, rule=rule), value_scores(whole, rule=rule))


def test_black_box_learns_from_a_stated_sample_and_scores_every_account():
    rng = np.random.default_rng(5)
    n = 4_000
    features = pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(n)],
            "signal": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "industry": pd.Categorical(rng.choice(["a", "b", "c"], size=n)),
        }
    )
    y = features["signal"].to_numpy() + rng.normal(scale=0.5, size=n) > 0.8
    full = black_box_scores(features, y, random_state=1, max_train=None)
    sampled = black_box_scores(features, y, random_state=1, max_train=500)
    again = black_box_scores(features, y, random_state=1, max_train=500)
    assert np.isfinite(sampled).all() and len(sampled) == n
    np.testing.assert_array_equal(sampled, again)  # seeded: the same sample each time
    assert not np.allclose(sampled, full)  # it did learn from fewer accounts
    # 500 training accounts per fold still find the signal nearly as well as 3,200
    assert auc(y, sampled) > 0.85
    assert auc(y, sampled) > auc(y, full) - 0.05


def test_black_box_of_many_accounts_fits_on_one_openmp_thread(monkeypatch):
    # each fold learns from a capped sample: threads cost more than they save, and threads
    # waiting for a busy core spin (sklearn's boosting gives the same model on any threads)
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_info, threadpool_limits

    import icp_helpers.traits.validation as validation_module

    seen = []

    class Watched(HistGradientBoostingClassifier):
        def fit(self, X, y, **kwargs):
            seen.extend(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "openmp")
            return super().fit(X, y, **kwargs)

    monkeypatch.setattr(validation_module, "HistGradientBoostingClassifier", Watched)
    rng = np.random.default_rng(6)
    n = 100_000  # from here the scores were computed on every core
    features = pd.DataFrame({"account_id": np.arange(n), "signal": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = features["signal"].to_numpy() + rng.normal(scale=0.5, size=n) > 0.8
    with threadpool_limits(limits=2, user_api="openmp"):
        scores = black_box_scores(features, y, random_state=1, max_train=2_000)
    assert seen and set(seen) == {1}
    assert np.isfinite(scores).all() and auc(y, scores) > 0.85


def test_black_box_codes_text_once_as_the_models_own_categories_would():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    from icp_helpers.traits import validation

    rng = np.random.default_rng(8)
    n = 3_000
    industry = rng.choice(["bakery", "cafe", "hotel", None], size=n)
    city = np.array([f"city {i}" for i in rng.integers(0, 400, n)], dtype=object)  # > 250 levels
    features = pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(n)],
            "industry": pd.Series(industry, dtype="str"),
            "city": pd.Series(city, dtype="str"),
            "spend": rng.gamma(2.0, size=n),
        }
    )
    y = (features["industry"] == "hotel").to_numpy() | (rng.random(n) < 0.1)
    frame, categorical = validation._model_frame(features)
    assert list(frame.columns) == ["industry", "city", "spend"]
    assert categorical.tolist() == [True, True, False]
    assert frame["city"].nunique() == validation.MAX_CATEGORIES + 1  # the rest pooled as "other"
    assert frame["industry"].isna().sum() == (industry == None).sum()  # noqa: E711

    # the reference: pandas categories, encoded by the model in every fold
    top = features["city"].value_counts().index[: validation.MAX_CATEGORIES]
    reference = pd.DataFrame(
        {
            "industry": pd.Categorical(features["industry"].astype(object)),
            "city": pd.Categorical(features["city"].where(features["city"].isin(top), "other").astype(object)),
            "spend": features["spend"],
        }
    )
    expected = np.full(n, np.nan)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=2).split(reference, y):
        model = HistGradientBoostingClassifier(
            categorical_features="from_dtype", random_state=2, max_iter=100, learning_rate=0.1,
            max_leaf_nodes=15, early_stopping=False,
        ).fit(reference.iloc[train], y[train])
        expected[test] = model.predict_proba(reference.iloc[test])[:, 1]
    np.testing.assert_allclose(black_box_scores(features, y, random_state=2), expected)


def test_held_out_step_names_the_real_reason_without_deals_before_the_test_quarter(synthetic_crm):
    tables, config = synthetic_crm
    deals = tables["deals"]
    late = deals[pd.to_datetime(deals["close_date"]) >= Quarter.parse("2025Q4").start]
    result = run_backtest({**tables, "deals": late}, quarter="2025Q4", config=config)
    text = validation_markdown(result)
    assert "cannot be validated" in text and "no deals before the test quarter" in text
    assert "how they buy" not in text


def test_held_out_step_names_too_few_best_customers():
    metrics = pd.DataFrame(
        {"model": ["fit score", "black box", "past spend"], "n_traits": 0, "n_best_later": 5,
         "n_bought_later": 50, "n_best_past": 3, "n_with_deals_past": 15, "n_close_dates": 40}
    )
    assert "only 3 best customers" in cannot_validate_reason(metrics)
    assert cannot_validate_reason(metrics.assign(n_close_dates=1)).startswith("every deal carries the same")


def test_best_later_that_is_mostly_any_buyer_is_said():
    metrics = pd.DataFrame(
        {"model": ["fit score", "black box", "past spend"], "n_best_later": 44, "n_bought_later": 50}
    )
    assert "mostly \"bought anything\"" in validation_warnings(metrics)[0]
    assert validation_warnings(metrics.assign(n_best_later=10)) == []


def test_backtest_quarters_on_an_engine_table_equal_the_frame(tmp_path):
    """The engine finds the same end of the data: open deals and missing dates left out."""
    import ibis

    deals = pd.DataFrame(
        {
            "close_date": pd.to_datetime(["2025-01-05", "2025-09-30", None, "2026-02-10"]),
            "stage": ["won", "lost", "won", "open"],
        }
    )
    deals.to_parquet(tmp_path / "deals.parquet")
    table = ibis.duckdb.connect().read_parquet(tmp_path / "deals.parquet")
    for horizon in (1, 2):
        assert backtest_quarters(table, quarter="2025Q3", horizon=horizon) == backtest_quarters(
            deals, quarter="2025Q3", horizon=horizon
        )
    with pytest.raises(QuarterError, match="no dates"):
        backtest_quarters(table.mutate(stage=ibis.literal("open")), quarter="2025Q3", horizon=1)


class _EngineProject:
    """A project whose deals exist only as an engine table: reading ``deals`` fails."""

    def __init__(self, tables, path):
        import ibis

        self.backend = ibis.duckdb.connect()
        tables["deals"].to_parquet(path)
        self._deals = self.backend.read_parquet(path)
        self.accounts, self.contacts = tables["accounts"], tables["contacts"]

    def deals_table(self):
        return self._deals

    @property
    def deals(self):
        raise AssertionError("the backtest read the deals as a pandas frame")


def test_backtest_reads_a_projects_deals_on_the_engine_only(synthetic_crm, tmp_path):
    tables, config = synthetic_crm
    on_engine = run_backtest(_EngineProject(tables, tmp_path / "deals.parquet"), quarter="2025Q4", config=config)
    from_frames = run_backtest(tables, quarter="2025Q4", config=config)
    pd.testing.assert_frame_equal(on_engine.metrics, from_frames.metrics)
    pd.testing.assert_frame_equal(on_engine.scores, from_frames.scores)
    pd.testing.assert_frame_equal(on_engine.held_out, from_frames.held_out)
    assert on_engine.metrics["n_close_dates"].iloc[0] == pd.to_datetime(
        tables["deals"]["close_date"]).dt.normalize().nunique()
