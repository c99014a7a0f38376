"""Candidate traits: ids, kinds, bands, codes, missing values and serialisation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from icp_helpers.traits.traits import (
    TraitDef,
    candidate_traits,
    missing_counts,
    trait_matrix,
    traits_from_dicts,
    traits_to_dicts,
    value_rule_columns,
    with_codes,
)


@pytest.fixture()
def features() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 200
    employees = rng.choice([5, 20, 120, 600, 2000], size=n).astype(float)
    employees[:7] = np.nan
    return pd.DataFrame(
        {
            "account_id": [f"A{i:04d}" for i in range(n)],
            "name": [f"Company {i}" for i in range(n)],
            "industry": rng.choice(["wholesaler", "restaurant", "hotel"], size=n),
            "employees": employees,
            "city_size": rng.choice(["large", "small", None], size=n, p=[0.5, 0.4, 0.1]),
            "job_role": rng.choice(["owner", "chef"], size=n),
            "avg_deal_size": rng.gamma(2.0, 10.0, size=n),
            "multi_item_buyer": rng.random(n) < 0.4,
            "won_value": rng.gamma(2.0, 1000.0, size=n),
            "deal_frequency": rng.gamma(2.0, 1.0, size=n),
            "case_study": rng.random(n) < 0.1,
            "rare": ["x"] * 3 + ["y"] * 40 + ["z"] * (n - 43),
        }
    )


def test_candidate_ids_follow_the_architecture(features):
    traits = candidate_traits(features)
    ids = {t.id for t in traits}
    assert {"industry=wholesaler", "industry=hotel", "city_size=large"} <= ids
    assert {"employees_band=1-9", "employees_band=10-49", "employees_band=1000+"} <= ids
    assert {f"avg_deal_size_band=Q{i}" for i in range(1, 5)} <= ids
    assert "multi_item_buyer" in ids
    # value-rule inputs and identifiers are never candidates
    for column in ("won_value", "deal_frequency", "case_study", "account_id", "name"):
        assert not any(t.column == column for t in traits), column
    # a level held by fewer than min_count accounts is left out
    assert "rare=x" not in ids and "rare=y" in ids


def test_kinds_are_inferred_and_scorability_follows(features):
    kinds = {t.id: t for t in candidate_traits(features)}
    assert kinds["industry=wholesaler"].kind == "firmographic"
    assert kinds["job_role=owner"].kind == "contact"
    assert kinds["avg_deal_size_band=Q4"].kind == "behaviour"
    assert kinds["multi_item_buyer"].kind == "behaviour"
    assert kinds["industry=wholesaler"].scorable and kinds["job_role=owner"].scorable
    assert not kinds["avg_deal_size_band=Q4"].scorable


def test_kind_override(features):
    traits = candidate_traits(features, kinds={"city_size": "contact"})
    assert {t.kind for t in traits if t.column == "city_size"} == {"contact"}


def test_standard_bands_match_raw_and_band_columns(features):
    traits = [t for t in candidate_traits(features) if t.id.startswith("employees_band=")]
    raw = trait_matrix(features, traits)
    labels = pd.cut(
        features["employees"], [0, 10, 50, 250, 1000, np.inf], right=False,
        labels=["1-9", "10-49", "50-249", "250-999", "1000+"],
    ).astype("object")
    banded = features.drop(columns="employees").assign(employees_band=labels)
    via_band = trait_matrix(banded, traits)
    pd.testing.assert_frame_equal(raw, via_band)
    # each account with a known size is in exactly one band
    known = features["employees"].notna().to_numpy()
    assert (raw.to_numpy()[known].sum(axis=1) == 1).all()
    assert (raw.to_numpy()[~known].sum(axis=1) == 0).all()


def test_quantile_bands_partition_and_keep_their_edges(features):
    traits = [t for t in candidate_traits(features) if t.column == "avg_deal_size"]
    quarters = [t for t in traits if t.value.startswith("Q")]
    halves = [t for t in traits if t.value.endswith("half")]
    assert len(quarters) == 4 and len(halves) == 2
    for part, share in ((quarters, (0.2, 0.3)), (halves, (0.45, 0.55))):
        matrix = trait_matrix(features, part)
        assert (matrix.sum(axis=1) == 1).all()
        assert matrix.mean().between(*share).all()
    # edges are stored: new data is banded on the old scale
    new = pd.DataFrame({"avg_deal_size": [-1.0, 1e9]})
    applied = trait_matrix(new, traits)
    assert applied.loc[0, "avg_deal_size_band=Q1"] and applied.loc[1, "avg_deal_size_band=Q4"]


def test_missing_values_are_false_and_recorded(features):
    traits = [t for t in candidate_traits(features) if t.column in ("city_size", "employees")]
    matrix = trait_matrix(features, traits)
    n_missing_city = int(features["city_size"].isna().sum())
    assert matrix.attrs["missing"]["city_size=large"] == n_missing_city
    assert not matrix.loc[features["city_size"].isna(), "city_size=large"].any()
    counts = missing_counts(features, traits)
    assert counts["employees_band=10-49"] == int(features["employees"].isna().sum())
    # a column the frame lacks counts as missing everywhere
    absent = trait_matrix(features.drop(columns="city_size"), traits)
    assert absent.attrs["missing"]["city_size=large"] == len(features)
    assert not absent["city_size=large"].any()


def test_codes_become_code_traits_judged_on_interviewed_accounts(features):
    codes = pd.DataFrame(
        {
            "account_id": ["A0001", "A0002", "A0003"],
            "need:reliable_delivery": [True, False, True],
            "channel:trade_show": [False, False, True],
        }
    )
    traits = candidate_traits(features, code_traits=codes)
    code_defs = [t for t in traits if t.kind == "code"]
    assert [t.id for t in code_defs] == ["need:reliable_delivery", "channel:trade_show"]
    assert all(t.evidence_type == "why" and not t.scorable for t in code_defs)
    joined = with_codes(features, codes)
    assert joined["interviewed"].sum() == 3
    assert joined.loc[~joined["interviewed"], "need:reliable_delivery"].isna().all()
    matrix = trait_matrix(joined, code_defs)
    assert matrix["need:reliable_delivery"].sum() == 2
    assert matrix.attrs["missing"]["need:reliable_delivery"] == len(features) - 3


def test_serialisation_round_trip(features):
    traits = candidate_traits(features)
    text = json.dumps(traits_to_dicts(traits))
    again = traits_from_dicts(json.loads(text))
    assert again == traits
    pd.testing.assert_frame_equal(trait_matrix(features, again), trait_matrix(features, traits))


def test_bad_definitions_are_refused():
    with pytest.raises(ValueError, match="kind"):
        TraitDef(id="x", label="x", kind="colour", column="x", op="flag")
    with pytest.raises(ValueError, match="op"):
        TraitDef(id="x", label="x", kind="firmographic", column="x", op="like")


def test_value_rule_columns_include_the_rule_and_its_restatements():
    from icp_helpers.data.config import BestCustomerRule

    rule = BestCustomerRule(weights={"won_value": 1.0, "loyalty_points": 0.5})
    columns = value_rule_columns(rule)
    assert {"won_value", "spend_max", "avg_deal_amount", "loyalty_points"} <= set(columns)


def test_candidates_summary_says_how_each_kind_is_used():
    from icp_helpers.traits.traits import candidates_summary, scored_kinds

    frame = pd.DataFrame({"industry": ["deli", "hotel", None], "big": [True, False, True],
                          "pain:x": [True, False, False]})
    defs = [
        TraitDef(id="industry=deli", label="deli", kind="firmographic", column="industry", op="eq", value="deli"),
        TraitDef(id="big", label="big orders", kind="behaviour", column="big", op="flag"),
        TraitDef(id="pain:x", label="pain x", kind="code", column="pain:x", op="flag"),
    ]
    matrix = trait_matrix(frame, defs)
    use = candidates_summary(defs, matrix).set_index("kind")["use"]
    assert use.to_dict() == {"firmographic": "selectable, scored", "behaviour": "evidence only",
                             "code": "why (not scored)"}
    use = candidates_summary(defs, matrix, scored=scored_kinds(True)).set_index("kind")["use"]
    assert use["behaviour"] == "selectable, scored"
    summary = candidates_summary(defs, matrix, interviewed=[True, True, False]).set_index("kind")
    assert summary.loc["firmographic", "missing_values"] == 1


def test_no_band_or_level_holds_everyone(features):
    # 797 of 842 values are 0: quarter bands collapse into one band that holds every account
    n = 842
    frame = features.head(0).reindex(range(n)).assign(
        account_id=[f"B{i:04d}" for i in range(n)],
        returns=[0.0] * 797 + [float(i % 7 + 1) for i in range(45)],
        everyone=["yes"] * 830 + ["no"] * 12,
    )[["account_id", "returns", "everyone"]]
    traits = candidate_traits(frame, roles={"returns": "who", "everyone": "who"})
    for trait in traits:
        held = int(trait.evaluate(frame)[0].sum())
        assert 5 <= held < 0.95 * n, (trait.id, held)
    ids = {t.id for t in traits}
    assert "returns_band=above 0" in ids  # the one split that tells accounts apart
    assert "everyone=yes" not in ids
