"""Column roles: ids, dates, outcomes and spend restatements never become who-traits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from icp_helpers.customers.roles import config_roles, infer_roles, role_map
from icp_helpers.data.config import ConfigError, load_config
from icp_helpers.traits.traits import candidate_traits


def _features(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    won_value = rng.gamma(2.0, 500.0, n)
    return pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n)],
            "industry": rng.choice(["deli", "hotel", "bar"], n),
            "rep_id": rng.choice([f"4ef15afb{i}" for i in range(8)], n),
            "seller_code": [f"x{i:05d}z" for i in range(n)],
            "signup": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "churn": rng.choice(["yes", "no"], n),
            "total_charges_band": np.round(won_value * 1.5 + 3, 0),
            "tenure": rng.integers(1, 72, n),
            "charges_band": pd.cut(won_value, [0, 300, 700, 1200, np.inf], labels=["low", "mid", "high", "top"]).astype(str),
            "notes": [f"customer number {i} said many different things about the product" for i in range(n)],
            "region": ["north"] * n,
            "won_deals": rng.integers(0, 5, n),
            "won_value": won_value,
        }
    )


def test_roles_are_inferred_with_reasons():
    roles = infer_roles(_features(), exclude=["won_value", "won_deals"])
    role = role_map(roles)
    assert role["rep_id"] == "id"
    assert role["seller_code"] == "id"  # near-unique text
    assert role["signup"] == "date"
    assert role["churn"] == "outcome"
    assert role["total_charges_band"] == "behaviour"  # restates won value
    assert role["charges_band"] == "behaviour"  # a band of spend, as text
    assert role["tenure"] == "who"  # a prefix does not make a column behaviour
    assert role["notes"] == "ignore"
    assert role["region"] == "ignore"  # constant
    assert role["industry"] == "who"
    reasons = roles.set_index("column")["reason"]
    assert "rank correlation" in reasons["total_charges_band"]
    assert (roles["reason"].str.len() > 0).all()


def test_only_who_and_behaviour_columns_give_candidates():
    traits = candidate_traits(_features(), min_count=2)
    columns = {t.column for t in traits}
    assert columns.isdisjoint({"rep_id", "seller_code", "signup", "churn", "notes", "region"})
    kinds = {t.column: t.kind for t in traits}
    assert kinds["total_charges_band"] == "behaviour"
    assert kinds["tenure"] == "firmographic"
    assert kinds["industry"] == "firmographic"


def test_a_binary_that_restates_the_best_label_is_an_outcome():
    frame = _features()
    target = frame["won_value"] > frame["won_value"].median()
    frame["flag_x"] = np.where(target, "Y", "N")
    roles = role_map(infer_roles(frame, target=target))
    assert roles["flag_x"] == "outcome"


def test_config_roles_override_inference():
    frame = _features()
    traits = candidate_traits(frame, roles={"churn": "who", "tenure": "ignore"}, min_count=2)
    columns = {t.column for t in traits}
    assert "churn" in columns
    assert "tenure" not in columns


def _config(tmp_path, roles) -> str:
    path = tmp_path / "icp.yml"
    path.write_text(yaml.safe_dump({"inputs": {"accounts": {"path": "a.csv", "roles": roles}}}))
    return str(path)


def test_config_roles_key(tmp_path):
    config = load_config(_config(tmp_path, {"rep_id": "ignore", "tenure": "who"}), check_files=False)
    assert config_roles(config) == {"rep_id": "ignore", "tenure": "who"}
    assert config_roles(config, "leads") == {}


def test_unknown_role_is_rejected_with_the_allowed_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"inputs\.accounts\.roles.*unknown role.*'trait'.*allowed: who"):
        load_config(_config(tmp_path, {"rep_id": "trait"}), check_files=False)


def test_profile_columns_that_sound_like_outcomes_stay_who():
    rng = np.random.default_rng(1)
    n = 50
    frame = pd.DataFrame({
        "account_id": [f"A{i}" for i in range(n)],
        "marital_status": rng.choice(["single", "married"], n),
        "default": rng.choice(["no", "yes"], n),  # a bank's "has credit in default": a fact, not the outcome
        "country_code": rng.choice(["IT", "ES", "FR"], n),
        "AcceptedCmp3": rng.choice([0, 1], n),  # an earlier campaign's response, camel-cased
        "Response": rng.choice([0, 1], n),
    })
    role = role_map(infer_roles(frame))
    assert role["marital_status"] == role["default"] == role["country_code"] == "who"
    assert role["AcceptedCmp3"] == role["Response"] == "outcome"
