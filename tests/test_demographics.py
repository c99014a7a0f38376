"""Consumers as customers: profile kind, demographic vocabulary and bands, wording."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from icp_helpers.data import demographics as dm
from icp_helpers.data.config import load_config
from icp_helpers.data.loaders import LoadError, load_table
from icp_helpers.data.wording import behaviour_label, infer_kind, profile_kind, words
from icp_helpers.traits.traits import candidate_traits


def _project(tmp_path, csv: str, extra: str = "", table: str = "customers"):
    (tmp_path / "people.csv").write_text(textwrap.dedent(csv).lstrip(), encoding="utf-8")
    (tmp_path / "icp.yml").write_text(
        f"name: t\ninputs:\n  {table}:\n    path: people.csv\n    columns: {{id: account_id}}\n{extra}",
        encoding="utf-8",
    )
    return load_config(tmp_path / "icp.yml")


CONSUMERS = """
    id,Year_Birth,Sex,Income,Marital_Status,Kids,City
    1,1980,F,"50,000",Married,2,Rome
    2,1990,M,30000,Single,0,Milan
    3,1975,F,80000,Together,1,Rome
"""


def test_a_consumer_export_needs_only_the_customer_id_and_invents_no_company_columns(tmp_path):
    config = _project(tmp_path, CONSUMERS)
    assert config.profile.kind == "b2c"  # inputs.customers means consumers
    loaded = load_table(config, "accounts")
    frame = loaded.frame
    assert loaded.summary["profile_kind"] == "b2c" and loaded.summary["filled_defaults"] == {}
    assert not {"industry", "employees"} & set(frame.columns)
    # demographic headers recognised by the vocabulary and parsed by kind
    assert frame["birth_year"].tolist() == [1980, 1990, 1975]
    assert frame["gender"].tolist() == ["F", "M", "F"]
    assert frame["income"].tolist() == [50000.0, 30000.0, 80000.0]
    assert frame["children"].tolist() == [2, 0, 1]


def test_the_kind_is_inferred_from_the_columns_and_b2b_still_requires_industry(tmp_path):
    config = _project(tmp_path, CONSUMERS, table="accounts")
    assert config.profile.kind is None
    assert load_table(config, "accounts").summary["profile_kind"] == "b2c"
    b2b = _project(tmp_path, CONSUMERS, extra="profile: {kind: b2b}\n", table="accounts")
    with pytest.raises(LoadError, match="required column 'industry'"):
        load_table(b2b, "accounts")
    assert infer_kind(["account_id", "industry"]) == "b2b" and infer_kind(["account_id", "age"]) == "b2c"
    assert profile_kind(None, columns=["account_id", "employees"]) == "b2b"


def test_demographic_bands_from_birth_year_income_and_children():
    frame = pd.DataFrame(
        {
            "account_id": list("abcdef"),
            "birth_year": [1990, 1980, 1950, 2020, 1899, None],
            "income": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
            "children": [0, 1, 2, 0, None, 3],
            "marital_status": ["Married", "Alone", "YOLO", "together", None, "Widow"],
        }
    )
    out = dm.add_demographics(frame, as_of=pd.Timestamp("2024-06-30"))
    assert "birth_year" not in out  # restated by age
    assert out["age"].tolist()[:3] == [34, 44, 74]
    assert out["age"].isna().tolist()[3:5] == [True, True]  # age 4 and 125 are typos
    assert out["age_band"].tolist()[:3] == ["25-34", "35-44", "65+"]
    assert out["income_band"].tolist() == ["low", "low", "mid", "mid", "high", "high"]
    assert out["has_children"].tolist() == [False, True, True, False, False, True]
    assert out["marital_status"].tolist()[:4] == ["couple", "single", "YOLO", "couple"]


def test_demographics_are_who_traits_with_standard_age_bands_and_readable_labels():
    rng = np.random.default_rng(0)
    n = 200
    features = pd.DataFrame(
        {
            "account_id": [f"c{i}" for i in range(n)],
            "age": rng.integers(18, 80, n),
            "gender": rng.choice(["F", "M"], n),
            "children": rng.choice([0, 1, 2], n),
            "income": rng.normal(50_000, 10_000, n),
            "avg_deal_size": rng.random(n),
        }
    )
    traits = {t.id: t for t in candidate_traits(features)}
    assert traits["age_band=35-44"].kind == "firmographic" and traits["age_band=35-44"].label == "aged 35-44"
    assert traits["gender=F"].kind == "firmographic"
    assert traits["children=0"].label == "no children"
    assert traits["income_band=Q4"].kind == "firmographic"
    assert traits["avg_deal_size_band=Q4"].kind == "behaviour"


def test_wording_follows_the_kind():
    assert words("b2c")["accounts"] == "customers" and words("b2c")["who"] == "demographic"
    assert words("b2b")["accounts"] == "accounts" and words("b2b")["who"] == "firmographic"
    assert behaviour_label("won_value", "won value in the window", "b2c") == "total spend"
    assert behaviour_label("won_value", "won value in the window", "b2b") == "won value in the window"


def test_a_header_that_only_looks_demographic_is_kept_as_it_is(tmp_path):
    config = _project(tmp_path, """
        id,Kids,Gender
        1,yes,F
        2,no,M
    """)
    loaded = load_table(config, "accounts")
    assert "children" not in loaded.frame and loaded.frame["Kids"].tolist() == ["yes", "no"]
    assert any("Kids: read as children by its name" in w for w in loaded.summary["warnings"])
    assert loaded.summary["rows_quarantined"] == 0


def test_partner_dependents_and_senior_flags_are_demographics(tmp_path):
    config = _project(tmp_path, """
        id,gender,SeniorCitizen,Partner,Dependents,tenure
        1,Female,0,Yes,No,12
        2,Male,1,No,No,30
        3,Female,0,Yes,Yes,2
    """)
    frame = load_table(config, "accounts").frame
    assert frame["senior"].tolist() == [False, True, False]
    assert frame["has_partner"].tolist() == [True, False, True]
    assert frame["has_dependents"].tolist() == [False, False, True]
    features = pd.concat([frame] * 5, ignore_index=True).assign(account_id=lambda f: [f"c{i}" for i in range(15)])
    traits = {t.id: t for t in candidate_traits(features, min_count=3)}
    assert traits["has_partner"].label == "with a partner" and traits["has_partner"].kind == "firmographic"
    assert traits["senior"].label == "seniors" and traits["has_dependents"].kind == "firmographic"
