"""Unit tests of lead scoring: points, tiers, decay, both input shapes, calibration."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from icp_helpers.data.config import LeadScoringConfig
from icp_helpers.leads.leads import (
    DEFAULT_POINTS,
    DEFAULT_TITLE_POINTS,
    ENGAGEMENT,
    NOT_FILLED,
    LeadInputs,
    LeadScorer,
    LeadScoringError,
    activity_matrix,
    assign_tier,
    count_matrix,
    decile_table,
    evaluate_points,
    fit_engagement,
    lead_inputs,
    resolve_points,
    resolve_thresholds,
    score_leads,
    score_points,
    scored_leads,
    threshold_sweep,
    tier_table,
    title_level,
    title_reference,
    top_drivers,
    wilson_interval,
)

T0 = pd.Timestamp("2026-03-01")


def _events(rows):
    return pd.DataFrame(rows, columns=["lead_id", "timestamp", "activity", "detail", "job_title"])


def _synthetic(seed: int = 0, n: int = 1500):
    """Event log whose conversions are driven by two planted activities."""
    rng = np.random.default_rng(seed)
    kinds = ["page_visit", "key_page_visit", "download", "video_view", "email_click"]
    details = {"key_page_visit": ["pricing", "contact"], "download": ["price-list", "recipe-ebook"]}
    rows, converted = [], []
    for i in range(n):
        lead = f"L{i:05d}"
        logit = -2.0
        for _ in range(rng.poisson(4)):
            kind = kinds[rng.integers(len(kinds))]
            detail = None
            if kind in details:
                detail = details[kind][rng.integers(2)]
                logit += {"pricing": 1.4, "price-list": 1.8}.get(detail, 0.0)
            rows.append(
                (lead, T0 + pd.Timedelta(days=int(rng.integers(0, 90))), kind, detail, None)
            )
        converted.append(int(rng.random() < 1 / (1 + np.exp(-logit))))
    leads = pd.DataFrame({"lead_id": [f"L{i:05d}" for i in range(n)], "converted": converted})
    return _events(rows), leads


# --------------------------------------------------------------------------- points


def test_event_points_add_up_per_activity_detail_and_title():
    events = _events(
        [
            ("a", T0, "page_visit", "/home", None),
            ("a", T0, "Page Visit", "/about", None),  # spelling normalised
            ("a", T0, "download", "price-list", None),
            ("a", T0, "form_submission", "quote", "CEO"),
            ("b", T0, "key_page_visit", "pricing", None),
            ("b", T0, "unsubscribe", None, None),
            ("b", T0, "form_submission", "quote", "Marketing Assistant"),
        ]
    )
    matrix = activity_matrix(events)
    assert matrix.loc["a", "page_visit"] == 2
    assert "download:price-list" in matrix.columns and "page_visit:/home" not in matrix.columns
    assert matrix.loc["a", "title:executive"] == 1
    assert "title:junior" not in matrix.columns  # the baseline level earns the form's points alone
    score = score_points(matrix, resolve_points(matrix.columns))
    expected_a = (
        2 * DEFAULT_POINTS["page_visit"]
        + DEFAULT_POINTS["download"]
        + DEFAULT_POINTS["form_submission"]
        + DEFAULT_TITLE_POINTS["executive"]
    )
    expected_b = (
        DEFAULT_POINTS["key_page_visit"]
        + DEFAULT_POINTS["unsubscribe"]
        + DEFAULT_POINTS["form_submission"]
    )
    assert score["a"] == pytest.approx(expected_a)
    assert score["b"] == pytest.approx(expected_b)


def test_config_points_override_single_defaults_and_details():
    features = ["download:price-list", "download:catalogue", "page_visit", "title:manager"]
    points = resolve_points(
        features, points={"download:price-list": 55, "page_visit": 0}, title_points={"manager": 7}
    )
    assert points["download:price-list"] == 55
    assert points["download:catalogue"] == DEFAULT_POINTS["download"]  # falls back to the activity
    assert points["page_visit"] == 0
    assert points["title:manager"] == 7


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("CEO", "executive"),
        ("Owner", "executive"),
        ("Co-Founder", "executive"),
        ("Head of Purchasing", "executive"),
        ("General Manager", "executive"),
        ("Head Chef", "manager"),
        ("VP Sales", "executive"),
        ("Purchasing Manager", "manager"),
        ("Assistant Director", "junior"),
        ("Intern", "junior"),
        ("Chef", "staff"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_title_levels(title, level):
    assert title_level(title) == level


def test_form_without_title_uses_the_leads_job_title():
    events = _events([("a", T0, "form_submission", None, None)])
    leads = pd.DataFrame({"lead_id": ["a", "b"], "job_title": ["Owner", None]})
    matrix = activity_matrix(events, leads=leads)
    assert matrix.loc["a", "title:executive"] == 1
    assert matrix.loc["b"].sum() == 0  # a lead without events is kept with zeros


# --------------------------------------------------------------------------- tiers


def test_threshold_boundaries():
    tiers = assign_tier(np.array([99, 100, 200, 201]))
    assert list(tiers) == ["weak", "medium", "medium", "strong"]
    assert assign_tier(99.999) == "weak"
    assert assign_tier(200.0) == "medium"


def test_thresholds_are_configurable_and_checked():
    assert list(assign_tier([49, 50, 80, 81], thresholds={"medium": 50, "strong": 80})) == [
        "weak",
        "medium",
        "medium",
        "strong",
    ]
    assert resolve_thresholds({"strong": 300}) == {"medium": 100.0, "strong": 300.0}
    with pytest.raises(LeadScoringError, match="must not exceed"):
        resolve_thresholds({"medium": 300, "strong": 200})
    with pytest.raises(LeadScoringError, match="unknown key"):
        resolve_thresholds({"hot": 10})


def test_tier_series_keeps_index_and_engagement_numbers():
    score = pd.Series([250.0, 150.0, 10.0], index=["x", "y", "z"])
    tiers = assign_tier(score)
    assert tiers.to_dict() == {"x": "strong", "y": "medium", "z": "weak"}
    assert [ENGAGEMENT[t] for t in tiers] == [1, 2, 3]


# --------------------------------------------------------------------------- decay and cut-offs


def test_decay_halves_points_per_half_life():
    as_of = pd.Timestamp("2026-06-30")
    events = _events(
        [
            ("a", as_of - pd.Timedelta(days=30), "download", None, None),
            ("a", as_of - pd.Timedelta(days=60), "download", None, None),
            ("a", as_of, "download", None, None),  # on the as-of date: not counted
            ("a", as_of - pd.Timedelta(days=0.5), "video_view", None, None),
        ]
    )
    matrix = activity_matrix(events, as_of=as_of, half_life_days=30)
    assert matrix.loc["a", "download"] == pytest.approx(0.5 + 0.25)
    assert matrix.loc["a", "video_view"] == pytest.approx(0.5 ** (0.5 / 30))
    undecayed = activity_matrix(events, as_of=as_of)
    assert undecayed.loc["a", "download"] == 2


def test_events_after_conversion_are_left_out():
    events = _events(
        [
            ("a", T0, "download", None, None),
            ("a", T0 + pd.Timedelta(days=10), "download", None, None),
        ]
    )
    leads = pd.DataFrame(
        {"lead_id": ["a"], "converted": [True], "converted_date": [T0 + pd.Timedelta(days=5)]}
    )
    assert activity_matrix(events, leads=leads).loc["a", "download"] == 1


def _pivot_reference(events, leads):
    """The matrix as a pandas pivot table, for comparison: the events a lead has before converting."""
    events = events.assign(activity=events["activity"].str.strip().str.lower())
    events = events.merge(leads[["lead_id", "converted_date", "job_title"]], on="lead_id", how="inner")
    events = events[events["converted_date"].isna() | (events["timestamp"] < events["converted_date"])]
    feature = events["activity"].where(
        ~(events["activity"].isin(["download", "key_page_visit"]) & events["detail"].notna()),
        events["activity"] + ":" + events["detail"].fillna(""),
    )
    long = [pd.DataFrame({"lead_id": events["lead_id"], "feature": feature})]
    forms = events[events["activity"] == "form_submission"]
    title = forms["job_title_x"].where(forms["job_title_x"].notna(), forms["job_title_y"])
    level = title.map(title_level)
    keep = ~level.isin(["unknown", "junior"])
    long.append(pd.DataFrame({"lead_id": forms["lead_id"][keep], "feature": "title:" + level[keep]}))
    long = pd.concat(long).assign(w=1.0)
    table = long.pivot_table(index="lead_id", columns="feature", values="w", aggfunc="sum", fill_value=0.0)
    table = table.reindex(index=leads["lead_id"], columns=sorted(table.columns), fill_value=0.0)
    table.columns.name = None
    return table.astype(float)


def test_event_matrix_equals_a_pivot_table_of_the_same_events():
    rng = np.random.default_rng(3)
    n = 400
    kinds = ["page_visit", "Download", "key_page_visit ", "form_submission", "email_click"]
    rows = []
    for _ in range(3000):
        kind = kinds[rng.integers(len(kinds))]
        rows.append(
            (
                f"L{rng.integers(n + 40):04d}",  # some events name leads that do not exist
                T0 + pd.Timedelta(hours=int(rng.integers(0, 2000))),
                kind,
                ["pricing", "price-list", None][rng.integers(3)],
                ["Head Chef", "owner", None, "intern", ""][rng.integers(5)],
            )
        )
    events = _events(rows)
    events["job_title"] = events["job_title"].replace("", None)
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in range(n)],
            "converted_date": [
                T0 + pd.Timedelta(days=int(d)) if d < 60 else pd.NaT for d in rng.integers(0, 120, n)
            ],
            "job_title": ["Purchasing Manager", None, "CEO", "assistant"] * (n // 4),
        }
    )
    matrix = activity_matrix(events, leads=leads)
    expected = _pivot_reference(events, leads)
    pd.testing.assert_frame_equal(matrix, expected, check_names=False, check_index_type=False)
    assert (matrix.sum(axis=1) == 0).any()  # leads without events keep their zero row
    assert matrix.index.name == "lead_id"


def test_scorer_builds_the_matrix_from_an_event_log_with_decay():
    as_of = pd.Timestamp("2026-06-30")
    events = _events([("a", as_of - pd.Timedelta(days=14), "form_submission", None, None)])
    scorer = LeadScorer(points={"form_submission": 40}, decay_half_life_days=14, as_of=as_of).fit(
        events
    )
    assert scorer.transform(events).loc["a", "score"] == pytest.approx(20)


# --------------------------------------------------------------------------- counts input


def _count_leads():
    return pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d"],
            "visits": ["3", "Select", None, "10"],
            "seconds": [120, 0, 600, 30],
            "last": ["Form Submitted", "Email Opened", "Select", "Email Opened"],
        }
    )


def test_count_matrix_units_per_cap_and_missing_values():
    settings = LeadScoringConfig(
        counts_input=True,
        counts={
            "visits": {"activity": "page_visit", "cap": 5},
            "seconds": {"points": 3, "per": 60},
        },
        categorical={"last": {"Form Submitted": "form_submission", "Email Opened": 1}},
        missing_values=["Select"],
    )
    matrix = count_matrix(
        _count_leads(),
        counts=settings.counts,
        categorical=settings.categorical,
        missing_values=settings.missing_values,
        min_level_count=1,
    )
    assert matrix["visits"].tolist() == [3, 0, 0, 5]
    assert matrix["seconds"].tolist() == [2, 0, 10, 0.5]
    # the most frequent level is the baseline without a column; "Select" means not filled in
    assert matrix.attrs["baselines"] == {"last": "Email Opened"}
    assert sorted(c for c in matrix.columns if c.startswith("last=")) == [
        f"last={NOT_FILLED}",
        "last=Form Submitted",
    ]
    assert matrix["last=Form Submitted"].tolist() == [1, 0, 0, 0]
    assert matrix[f"last={NOT_FILLED}"].tolist() == [0, 0, 1, 0]
    points = resolve_points(
        matrix.columns, counts=settings.counts, categorical=settings.categorical
    )
    assert points["visits"] == DEFAULT_POINTS["page_visit"]
    assert points["seconds"] == 3
    assert points["last=Form Submitted"] == DEFAULT_POINTS["form_submission"]
    score = score_points(matrix, points)
    assert score["a"] == pytest.approx(
        3 * DEFAULT_POINTS["page_visit"] + 2 * 3 + DEFAULT_POINTS["form_submission"]
    )


def test_rare_categorical_levels_are_pooled():
    leads = pd.DataFrame({"lead_id": list("abcdefg"), "src": ["x", "x", "x", "y", "z", "w", "x"]})
    matrix = count_matrix(leads, counts={}, categorical={"src": {}}, min_level_count=2)
    assert list(matrix.columns) == ["src=other"]  # x is the baseline
    assert matrix["src=other"].tolist() == [0, 0, 0, 1, 1, 1, 0]
    listed = count_matrix(leads, counts={}, categorical={"src": {"w": 5}}, min_level_count=2)
    assert sorted(listed.columns) == [
        "src=other",
        "src=w",
    ]  # a level the config names keeps its column
    assert listed["src=other"].sum() == 2
    # a pooled level still rarer than the minimum joins the baseline
    few = pd.DataFrame({"lead_id": list("abcdef"), "src": ["x", "x", "x", "x", "y", "z"]})
    assert (
        list(count_matrix(few, counts={}, categorical={"src": {}}, min_level_count=3).columns) == []
    )
    assert list(
        count_matrix(few, counts={}, categorical={"src": {}}, min_level_count=2).columns
    ) == ["src=other"]


def test_count_column_must_be_numeric_and_the_error_names_file_and_column():
    leads = pd.DataFrame({"lead_id": ["a", "b"], "visits": ["3", "lots"]})
    with pytest.raises(
        LeadScoringError, match=r"Leads\.csv: count column 'visits' must be numeric.*'lots'"
    ):
        count_matrix(leads, counts={"visits": {}}, source="Leads.csv")


def test_count_column_must_not_be_negative_or_missing():
    with pytest.raises(LeadScoringError, match="negative"):
        count_matrix(pd.DataFrame({"lead_id": ["a"], "visits": [-1]}), counts={"visits": {}})
    with pytest.raises(LeadScoringError, match=r"column\(s\) \['pages'\] missing"):
        count_matrix(pd.DataFrame({"lead_id": ["a"], "visits": [1]}), counts={"pages": {}})
    with pytest.raises(LeadScoringError, match="counts_input is true"):
        count_matrix(pd.DataFrame({"lead_id": ["a"]}), counts={})


# --------------------------------------------------------------------------- calibration


def test_scorer_follows_the_sklearn_contract():
    scorer = LeadScorer(thresholds={"medium": 50, "strong": 90}, C=0.5, random_state=3)
    assert scorer.get_params()["C"] == 0.5
    copy = clone(scorer)
    assert copy.get_params() == scorer.get_params()
    with pytest.raises(NotFittedError):
        scorer.transform(pd.DataFrame({"page_visit": [1.0]}))
    events, leads = _synthetic()
    matrix = activity_matrix(events, leads=leads)
    y = leads.set_index("lead_id")["converted"]
    assert scorer.fit(matrix, y) is scorer
    assert not hasattr(copy, "points_")
    assert scorer.calibrated_ and scorer.thresholds_ == {"medium": 50.0, "strong": 90.0}
    assert all(float(v).is_integer() for v in scorer.points_.values())
    out = scorer.transform(matrix)
    assert list(out.columns) == ["score", "tier", "engagement"]
    assert out.index.equals(matrix.index)
    assert 0.5 < scorer.score(matrix, y) <= 1


def test_without_conversions_the_scorer_uses_the_reference_points():
    matrix = pd.DataFrame({"download": [1.0, 0.0]}, index=["a", "b"])
    scorer = LeadScorer().fit(matrix)
    assert not scorer.calibrated_
    assert scorer.points_ == {"download": DEFAULT_POINTS["download"]}


def test_calibration_gives_the_planted_drivers_the_most_points():
    events, leads = _synthetic(seed=1)
    matrix = activity_matrix(events, leads=leads)
    y = leads.set_index("lead_id")["converted"]
    scorer = LeadScorer(random_state=0).fit(matrix, y)
    assert set(top_drivers(scorer.points_, n=2)) == {
        "download:price-list",
        "key_page_visit:pricing",
    }
    # the scale keeps the thresholds' meaning: conversion odds at each threshold as under the defaults
    assert scorer.scale_method_ == "default_odds"
    for name in ("medium", "strong"):
        odds = scorer.threshold_odds_[name]
        assert odds["calibrated"] == pytest.approx(odds["reference"], abs=0.1)


def test_calibration_rejects_one_class_and_shape_mismatch():
    matrix = pd.DataFrame({"download": [1.0, 0.0, 2.0]})
    with pytest.raises(LeadScoringError, match="one class"):
        LeadScorer().fit(matrix, np.array([1, 1, 1]))
    with pytest.raises(LeadScoringError, match="rows"):
        LeadScorer().fit(matrix, np.array([1, 0]))


def test_calibrated_points_rank_like_the_logistic_model_on_held_out_leads():
    events, leads = _synthetic(seed=2)
    matrix = activity_matrix(events, leads=leads)
    y = leads.set_index("lead_id")["converted"]
    evaluation = evaluate_points(
        matrix, y, reference_points=resolve_points(matrix.columns), random_state=0
    )
    auc = evaluation.mean_auc
    assert abs(auc["calibrated"] - auc["logistic"]) <= 0.03
    assert auc["calibrated"] > auc["default"]
    assert evaluation.scores["fold"].between(0, 4).all()
    assert evaluation.scores["calibrated"].notna().all()
    tiers = evaluation.tiers()
    assert set(tiers["points"]) == {"default", "calibrated"}
    assert tiers.groupby("points")["leads"].sum().eq(len(matrix)).all()


def test_held_out_comparison_learns_from_a_stated_sample_and_scores_every_lead():
    events, leads = _synthetic(seed=2)
    matrix = activity_matrix(events, leads=leads)
    y = leads.set_index("lead_id")["converted"]
    kwargs = dict(reference_points=resolve_points(matrix.columns), random_state=0)
    full = evaluate_points(matrix, y, max_train=None, **kwargs)
    sampled = evaluate_points(matrix, y, max_train=len(matrix) // 4, **kwargs)
    assert sampled.scores[["calibrated", "logistic"]].notna().all().all()
    assert not sampled.scores["logistic"].equals(full.scores["logistic"])  # it learned from fewer
    for name in ("calibrated", "logistic"):
        assert sampled.mean_auc[name] == pytest.approx(full.mean_auc[name], abs=0.03)


# --------------------------------------------------------------------------- tables


def test_the_wilson_interval_always_holds_the_observed_rate():
    for n in (1, 3, 7, 10, 13, 100, 1000):
        converted = np.arange(n + 1)
        low, high = wilson_interval(converted, np.full(n + 1, n))
        rate = converted / n
        assert (low <= rate).all() and (high >= rate).all(), n
    low, high = wilson_interval([0], [0])
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_wilson_interval_matches_scipy():
    low, high = wilson_interval([3, 0, 50], [10, 8, 50])
    for i, (k, n) in enumerate([(3, 10), (0, 8), (50, 50)]):
        ci = stats.binomtest(k, n).proportion_ci(method="wilson")
        assert low[i] == pytest.approx(ci.low, abs=1e-9)
        assert high[i] == pytest.approx(ci.high, abs=1e-9)
    assert np.isnan(wilson_interval(0, 0)[0])


def test_tier_decile_and_sweep_tables_count_every_lead():
    rng = np.random.default_rng(5)
    score = pd.Series(rng.integers(-20, 320, 400).astype(float))
    y = pd.Series((rng.random(400) < score.clip(0, 300) / 300).astype(int))
    tiers = tier_table(score, y)
    assert tiers["leads"].sum() == 400
    strong = tiers.set_index("tier").loc["strong"]
    assert strong["leads"] == (score > 200).sum()
    assert strong["converted"] == y[score > 200].sum()
    assert strong["ci_low"] <= strong["conversion_rate"] <= strong["ci_high"]
    deciles = decile_table(score, y)
    assert deciles["leads"].sum() == 400 and deciles["score_min"].is_monotonic_increasing
    sweep = threshold_sweep(score, y, grid=[0, 100, 200, 300])
    assert sweep["leads_above"].is_monotonic_decreasing
    assert sweep.set_index("threshold").loc[200, "leads_above"] == (score > 200).sum()
    assert sweep["share_of_converters"].iloc[0] == pytest.approx(y[score > 0].sum() / y.sum())


def test_fit_engagement_matrix_counts_and_rates():
    leads = pd.DataFrame(
        {
            "lead_id": list("abcdefg"),
            "account_id": ["x", "x", "y", "z", None, "w", "y"],
            "engagement": [1, 1, 3, 2, 1, 1, 3],
            "converted": [1, 0, 0, 1, 1, 1, 1],
        }
    )
    accounts = pd.DataFrame({"account_id": ["x", "y", "z"], "tier": ["A", "C", "B"]})
    table = fit_engagement(leads, accounts).set_index("cell")
    assert len(table) == 9 and table["leads"].sum() == 5  # no account / unscored account left out
    assert table.loc["A1", "leads"] == 2 and table.loc["A1", "conversion_rate"] == 0.5
    assert table.loc["C3", "leads"] == 2 and table.loc["C3", "converted"] == 1
    assert table.loc["B2", "conversion_rate"] == 1.0 and table.loc["A2", "leads"] == 0


def test_scored_leads_table():
    events = _events(
        [("a", T0, "download", "price-list", None), ("b", T0, "page_visit", None, None)]
    )
    leads = pd.DataFrame(
        {"lead_id": ["a", "b", "c"], "account_id": ["x", None, "y"], "converted": [1, 0, 0]}
    )
    matrix = activity_matrix(events, leads=leads)
    inputs = LeadInputs(matrix=matrix, leads=leads, converted=None, shape="events", as_of=None)
    default = resolve_points(matrix.columns)
    table = scored_leads(
        inputs,
        default_points=default,
        points={**default, "download:price-list": 250},
        accounts=pd.DataFrame({"account_id": ["x", "y"], "tier": ["A", "B"]}),
    ).set_index("lead_id")
    assert table.loc["a", "tier"] == "strong" and table.loc["a", "cell"] == "A1"
    assert table.loc["a", "default_tier"] == "weak"
    assert table.loc["c", "cell"] == "B3" and pd.isna(table.loc["b", "cell"])
    assert "download:price-list (+250)" in table.loc["a", "top_activities"]
    assert table["score"].is_monotonic_decreasing


def test_top_activities_match_a_lead_by_lead_reference():
    from icp_helpers.leads.engagement import _reasons

    rng = np.random.default_rng(11)
    columns = ["demo", "page_visit", "webinar", "unsubscribe", "download:price-list"]
    matrix = pd.DataFrame(
        rng.poisson([0.3, 2.0, 0.5, 0.2, 0.4], (400, len(columns))).astype(float),
        columns=columns,
        index=pd.Index([f"L{i}" for i in range(400)], name="lead_id"),
    )
    points = {"demo": 40.0, "page_visit": 2.5, "webinar": 15.0, "unsubscribe": -10.0, "download:price-list": 0.0}

    def by_hand(row: pd.Series, n: int) -> str:
        earned = sorted(((row[c] * points[c], i) for i, c in enumerate(columns)), key=lambda e: (-e[0], e[1]))
        return "; ".join(f"{columns[i]} (+{int(np.round(value))})" for value, i in earned[:n] if value > 0)

    for n in (1, 3, 10):
        got = _reasons(matrix, points, n=n)
        assert got.index.equals(matrix.index) and got.name == "top_activities"
        assert got.tolist() == [by_hand(row, n) for _, row in matrix.iterrows()]
    assert (_reasons(matrix, points) == "").any()  # leads with nothing earned get empty text
    assert _reasons(matrix.iloc[:0], points).empty


# --------------------------------------------------------------------------- one run


def _config(**lead_scoring):
    from icp_helpers.data.config import ProjectConfig

    return ProjectConfig.model_validate(
        {"inputs": {"leads": {"path": "Leads.csv"}}, "lead_scoring": lead_scoring}
    )


def test_lead_inputs_from_counts_and_score_leads_without_conversions():
    config = _config(
        counts_input=True,
        counts={"visits": {"activity": "page_visit"}},
        categorical={"last": {"Unsubscribed": "unsubscribe"}},
        min_level_count=1,
    )
    leads = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c"],
            "visits": [60.0, 3.0, 0.0],
            "last": ["Opened", "Opened", "Unsubscribed"],
        }
    )
    inputs = lead_inputs(SimpleNamespace(leads=leads, activities=None), config=config)
    assert inputs.shape == "counts" and inputs.converted is None
    assert any("baseline level 'Opened'" in note for note in inputs.notes)
    scoring = score_leads(inputs, settings=config.lead_scoring)
    assert scoring.scorer is None and scoring.points_used == "default"
    assert scoring.auc().empty and scoring.deciles().empty
    table = scoring.scored().set_index("lead_id")
    assert table.loc["a", "score"] == 60 * DEFAULT_POINTS["page_visit"]
    assert table.loc["c", "score"] == DEFAULT_POINTS["unsubscribe"]
    assert table.loc["a", "tier"] == "medium" and table.loc["c", "tier"] == "weak"
    assert scoring.tiers()["leads"].sum() == 3


def test_lead_inputs_errors_name_the_missing_piece():
    leads = pd.DataFrame({"lead_id": ["a"], "visits": ["many"]})
    with pytest.raises(LeadScoringError, match="inputs.activities is not configured"):
        lead_inputs(SimpleNamespace(leads=leads, activities=None), config=_config())
    with pytest.raises(
        LeadScoringError, match=r"Leads\.csv: count column 'visits' must be numeric"
    ):
        lead_inputs(
            SimpleNamespace(leads=leads, activities=None),
            config=_config(counts_input=True, counts={"visits": {}}),
        )


def test_title_reference_is_the_level_with_fewest_points():
    assert title_reference(LeadScoringConfig()) == "junior"
    assert title_reference(LeadScoringConfig(title_points={"staff": -5})) == "staff"


def test_score_leads_calibrates_and_records_everything():
    events, leads = _synthetic(seed=3, n=800)
    inputs = LeadInputs(
        matrix=activity_matrix(events, leads=leads),
        leads=leads,
        converted=leads.set_index("lead_id")["converted"],
        shape="events",
        as_of=None,
    )
    config = _config(cv_folds=3)
    scoring = score_leads(inputs, settings=config.lead_scoring)
    assert scoring.points_used == "calibrated" and scoring.points == scoring.scorer.points_
    record = scoring.record()
    assert record["cv_folds"] == 3 and set(record["auc"]) == {"default", "calibrated", "logistic"}
    assert record["top_drivers"][0] == top_drivers(scoring.scorer.points_)[0]
    points = scoring.points_record(config.lead_scoring)
    assert points["calibrated"] == scoring.scorer.points_ and points["title_reference"] == "junior"
    assert set(scoring.sweep()["points"]) == {"default", "calibrated"}


def test_plots_draw_results_and_placeholders():
    from matplotlib.figure import Figure

    from icp_helpers.leads.leads import (
        fit_engagement_view,
        plot_calibration,
        plot_fit_engagement,
        plot_points,
        plot_threshold_sweep,
        plot_tier_conversion,
    )

    events, leads = _synthetic(seed=4, n=600)
    inputs = LeadInputs(
        matrix=activity_matrix(events, leads=leads),
        leads=leads,
        converted=leads.set_index("lead_id")["converted"],
        shape="events",
        as_of=None,
    )
    scoring = score_leads(inputs, settings=_config(cv_folds=3).lead_scoring)
    scored = scoring.scored()
    figures = [
        plot_points(scoring.points_table()),
        plot_tier_conversion(scoring.tiers()),
        plot_calibration(scoring.deciles()),
        plot_threshold_sweep(scoring.sweep()),
        plot_fit_engagement(None, scored=scored),
        plot_calibration(pd.DataFrame()),
        plot_threshold_sweep(pd.DataFrame()),
    ]
    assert all(isinstance(fig, Figure) and fig.axes for fig in figures)
    view = fit_engagement_view(None, scored)
    assert view["leads"].sum() == len(scored)


def test_leakage_and_timing_in_lead_scoring_are_flagged():
    from icp_helpers.leads.leads import lead_warnings, timing_features

    rng = np.random.default_rng(4)
    n = 600
    converted = pd.Series((rng.random(n) < 0.3).astype(int), index=[f"L{i}" for i in range(n)])
    # a tag filled in by sales after the outcome: every level converts at 0% or 100%
    tag = np.where(converted == 1, rng.choice(["closed", "will enroll"], n), rng.choice(["ringing", "lost"], n))
    month = rng.choice(["may", "jun", "jul"], n)
    matrix = pd.DataFrame(
        {
            **{f"tag={t}": (tag == t).astype(float) for t in ("closed", "will enroll", "ringing", "lost")},
            **{f"month={m}": (month == m).astype(float) for m in ("may", "jun", "jul")},
            "visits": rng.poisson(3, n).astype(float),
        },
        index=converted.index,
    )
    inputs = LeadInputs(matrix=matrix, leads=pd.DataFrame({"lead_id": matrix.index}), converted=converted,
                        shape="counts", as_of=None)
    # only converted leads carry an account id: every cell of the matrix converts at 100%
    linked = pd.DataFrame({"lead_id": matrix.index, "account_id": np.where(converted == 1, "acc", None),
                           "engagement": rng.choice([1, 2, 3], n), "converted": converted.to_numpy()})
    accounts = pd.DataFrame({"account_id": ["acc"], "tier": ["A"]})
    table = fit_engagement(linked, accounts)
    warnings = lead_warnings(inputs, points={"month=may": 12.0, "visits": 3.0}, fit_engagement=table)
    text = " ".join(warnings)
    assert "fit x engagement matrix" in text and "100%" in text
    assert "lead field 'tag'" in text
    assert "lead field 'month'" not in text and "Timing, not profile: month" in text
    assert timing_features(["month=may", "day_of_week=mon", "visits", "lead_source=web"]) == [
        "month=may", "day_of_week=mon"]
    # honest data: a field that only shifts conversion, and a matrix with mixed rates
    calm = inputs.matrix.drop(columns=[c for c in matrix if c.startswith("tag=")])
    fair = LeadInputs(matrix=calm, leads=inputs.leads, converted=converted, shape="counts", as_of=None)
    mixed = fit_engagement(linked.assign(account_id="acc"), accounts)
    assert lead_warnings(fair, points={"visits": 3.0}, fit_engagement=mixed) == []


def test_calibration_fits_on_one_blas_thread(monkeypatch):
    # BLAS threads waiting for a busy core spin: the logistic fits of a million leads took
    # twice as long with them, and the points now do not depend on the machine's cores
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_info, threadpool_limits

    import icp_helpers.leads.evaluation as evaluation_module
    import icp_helpers.leads.scorer as scorer_module

    seen = []

    class Watched(LogisticRegression):
        def fit(self, X, y, **kwargs):
            seen.extend(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
            return super().fit(X, y, **kwargs)

    monkeypatch.setattr(scorer_module, "LogisticRegression", Watched)
    monkeypatch.setattr(evaluation_module, "LogisticRegression", Watched)
    events, leads = _synthetic(seed=3, n=600)
    config = _config(min_level_count=1)
    inputs = lead_inputs(SimpleNamespace(leads=leads, activities=events), config=config)
    with threadpool_limits(limits=2, user_api="blas"):
        scoring = score_leads(inputs, settings=config.lead_scoring)
    assert scoring.scorer is not None and scoring.points_used == "calibrated"
    assert seen and set(seen) == {1}
