"""Personas: filled from the data and codes, "no evidence" where nothing backs a field."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from icp_helpers.profile.personas import (
    NO_EVIDENCE,
    PERSONA_FIELDS,
    build_personas,
    code_label,
    code_mentions,
    personas_frame,
    personas_from_run,
    write_personas,
)


@pytest.fixture()
def data():
    rng = np.random.default_rng(11)
    n = 30
    ids = [f"A{i:02d}" for i in range(n)]
    features = pd.DataFrame(
        {
            "account_id": ids,
            "industry": ["wholesaler"] * 10 + ["restaurant"] * 10 + ["hotel"] * 10,
            "country": rng.choice(["Italy", "Germany"], n),
            "employees_band": ["10-49"] * 15 + ["50-249"] * 15,
            "avg_deal_amount": np.arange(n, dtype=float) * 100,
            "deal_frequency": rng.uniform(0.5, 3, n),
            "preferred_weekday": ["Tuesday"] * 20 + ["Friday"] * 10,
        }
    )
    groups = pd.DataFrame({"account_id": ids, "group": [i // 10 for i in range(n)]})
    best = pd.DataFrame(
        {"account_id": ids, "value_score": np.linspace(1, 0, n), "is_best": [i < 6 for i in range(n)]}
    )
    coded = pd.DataFrame(
        [
            ("I1", "A00", "pains_needs", "pain:late_delivery", "Late pallets cost us a whole weekend of sales."),
            ("I1", "A00", "how_found", "channel:trade_show", "We found you at a trade show in Milan last spring."),
            ("I2", "A01", "pains_needs", "pain:late_delivery", "Our old supplier delivered late again and again."),
            ("I2", "A01", "why_first_buy", "reason:quality", "Quality of the oil was the reason, plain and simple."),
            ("I3", "A12", "opinion", "competitor:olio_rossi", "We compared you with Olio Rossi before buying."),
            ("I3", "A12", "need_met", "need:large_shipments", "We need full pallets every week, not boxes."),
        ],
        columns=["interview_id", "account_id", "question", "code", "answer"],
    )
    contacts = pd.DataFrame(
        {
            "contact_id": [f"C{i}" for i in range(12)],
            "account_id": ["A00", "A01", "A02", "A03", "A04", "A05", "A00", "A12", "A13", "A25", "A26", "A01"],
            "job_role": ["buyer"] * 5 + ["owner"] * 3 + ["chef"] * 4,
            "seniority": ["manager"] * 6 + ["owner"] * 6,
        }
    )
    interviews = pd.DataFrame(
        {"interview_id": ["I1", "I2", "I3"], "account_id": ["A00", "A01", "A12"], "interviewee_role": ["buyer", "owner", "chef"]}
    )
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "account_id": ["A00", "A02", "A15"]})
    activities = pd.DataFrame(
        {"lead_id": ["L1", "L1", "L2", "L3"], "activity": ["webinar", "webinar", "pricing_page", "email_open"]}
    )
    info = [{"group": 0, "name": "Wholesale buyers", "description": "large wholesalers"}]
    return dict(
        features=features, groups=groups, best=best, coded=coded, contacts=contacts,
        interviews=interviews, leads=leads, activities=activities, info=info,
    )


def _by_id(personas):
    return {p["id"]: p for p in personas}


def test_one_persona_per_group_with_every_field(data):
    personas = build_personas(data["groups"], features=data["features"], best=data["best"], coded=data["coded"])
    assert [p["kind"] for p in personas] == ["group"] * 3
    assert {p["id"] for p in personas} == {"group-0", "group-1", "group-2"}
    for persona in personas:
        assert set(PERSONA_FIELDS) <= set(persona)
        for key in PERSONA_FIELDS:
            assert persona[key]["status"] in ("evidence", NO_EVIDENCE)
            assert (persona[key]["status"] == NO_EVIDENCE) == (persona[key]["items"] == [])
    # ordered by best-customer share: all six best customers are in group 0
    assert personas[0]["id"] == "group-0" and personas[0]["best_share"] == pytest.approx(0.6)


def test_fields_without_data_are_marked_no_evidence(data):
    features = data["features"].drop(columns=["preferred_weekday"])
    personas = build_personas(data["groups"], features=features)
    for persona in personas:
        for key in ("role", "goals", "pains", "needs", "channels", "touchpoints", "competitors"):
            assert persona[key]["status"] == NO_EVIDENCE, key
            assert persona[key]["items"] == []
        assert persona["firmographics"]["status"] == "evidence"
        assert persona["buying_behaviour"]["status"] == "evidence"
        assert persona["description"] == NO_EVIDENCE or persona["description"]


def test_group_fields_count_only_the_group_members(data):
    personas = _by_id(
        build_personas(
            data["groups"], features=data["features"], best=data["best"], coded=data["coded"],
            contacts=data["contacts"], leads=data["leads"], activities=data["activities"], group_info=data["info"],
        )
    )
    group0, group1 = personas["group-0"], personas["group-1"]
    assert group0["label"] == "Group 0: Wholesale buyers"
    assert group0["description"] == "large wholesalers"
    pains = group0["pains"]["items"]
    assert pains[0]["code"] == "pain:late_delivery" and pains[0]["accounts"] == 2 and pains[0]["interviewed"] == 2
    assert pains[0]["quote"] in set(data["coded"]["answer"])
    assert group0["competitors"]["status"] == NO_EVIDENCE  # only A12 (group 1) named one
    assert group1["competitors"]["items"][0]["label"] == "Olio rossi"
    assert group1["pains"]["status"] == NO_EVIDENCE
    firmo = {i["attribute"]: i for i in group0["firmographics"]["items"]}
    assert firmo["industry"]["value"] == "wholesaler" and firmo["industry"]["count"] == 10
    behaviour = {i["attribute"]: i for i in group0["buying_behaviour"]["items"]}
    assert behaviour["avg_deal_amount"]["value"] == pytest.approx(450.0)
    roles = [i for i in group0["role"]["items"] if i["attribute"] == "job_role"]
    assert [(r["value"], r["count"]) for r in roles] == [("buyer", 5), ("owner", 2), ("chef", 1)]
    touch = group0["touchpoints"]["items"]
    assert touch[0]["value"] == "webinar" and touch[0]["count"] == 2
    # examples: highest value score first, names when given
    assert group0["examples"]["items"][0]["account_id"] == "A00"


def test_main_contact_roles_get_their_own_persona(data):
    personas = _by_id(
        build_personas(
            data["groups"], features=data["features"], best=data["best"], coded=data["coded"],
            contacts=data["contacts"], interviews=data["interviews"],
        )
    )
    # contacts of the six best customers: buyer 5, owner 2 -> both >= 15%; chef none
    assert {"role-buyer", "role-owner"} <= set(personas)
    assert "role-chef" not in personas
    buyer = personas["role-buyer"]
    assert buyer["kind"] == "role" and buyer["size"] == 5
    # a role persona quotes only interviews with people in that role (I1 was the buyer)
    quoted = {item["quote_interview"] for key in ("pains", "channels") for item in buyer[key]["items"]}
    assert quoted == {"I1"}
    assert buyer["goals"]["status"] == NO_EVIDENCE  # the quality reason came from the owner
    assert personas["role-owner"]["goals"]["items"][0]["code"] == "reason:quality"


def test_code_mentions_and_labels(data):
    items = code_mentions(data["coded"], prefix="pain:", preferred={"A01"})
    assert items[0]["quote_account"] == "A01"  # best customers are quoted first
    assert items[0]["share"] == pytest.approx(2 / 3)
    assert code_mentions(None, prefix="pain:") == []
    assert code_label("pain:reliable_delivery") == "Reliable delivery"


def test_personas_round_trip_through_the_run_folder(tmp_path, data):
    data["features"].to_parquet(tmp_path / "features.parquet")
    data["best"].to_parquet(tmp_path / "best_customers.parquet")
    data["groups"].to_parquet(tmp_path / "groups.parquet")
    (tmp_path / "groups.json").write_text(json.dumps(data["info"]))
    accounts = pd.DataFrame({"account_id": data["features"]["account_id"], "name": "Shop " + data["features"]["account_id"]})
    personas = personas_from_run(tmp_path, accounts=accounts)
    assert _by_id(personas)["group-0"]["examples"]["items"][0]["value"] == "Shop A00"
    assert _by_id(personas)["group-0"]["pains"]["status"] == NO_EVIDENCE  # no coded answers yet
    path = write_personas(personas, tmp_path)
    assert path.name == "personas.json"
    assert json.loads(path.read_text())[0]["id"] == personas[0]["id"]


def test_personas_frame_puts_fields_in_rows_and_marks_no_evidence(data):
    personas = build_personas(data["groups"], features=data["features"], best=data["best"], coded=data["coded"])
    table = personas_frame(personas)
    assert list(table.columns) == [p["label"] for p in personas]
    assert list(table.index) == ["accounts", *PERSONA_FIELDS.values()]
    group0 = next(p for p in personas if p["id"] == "group-0")
    assert table.loc["Pains and challenges", group0["label"]].startswith("Late delivery (2 of 2")
    assert table.loc["Touchpoints", group0["label"]] == NO_EVIDENCE


def test_examples_are_the_top_value_scores_with_ties_broken_by_account_id():
    from icp_helpers.profile.personas import _examples

    rng = np.random.default_rng(6)
    members = pd.DataFrame(
        {
            "account_id": [f"A{i:04d}" for i in rng.permutation(500)],
            "value_score": np.where(rng.random(500) < 0.1, np.nan, rng.integers(0, 20, 500) / 20),
        }
    )
    expected = members.sort_values(["value_score", "account_id"], ascending=[False, True])
    for limit in (1, 3, 7):
        got = [item["account_id"] for item in _examples(members, None, limit)]
        assert got == expected["account_id"].head(limit).tolist()
    few = members.head(4).assign(value_score=[np.nan, 0.5, np.nan, 0.5])
    assert [i["account_id"] for i in _examples(few, None, 3)] == (
        few.sort_values(["value_score", "account_id"], ascending=[False, True])["account_id"].head(3).tolist()
    )


def test_consumer_personas_follow_the_persona_template_with_a_life_stage():
    from icp_helpers.profile.personas import persona_fields

    n = 20
    ids = [f"C{i:02d}" for i in range(n)]
    features = pd.DataFrame(
        {
            "account_id": ids,
            "age_band": ["35-44"] * 10 + ["18-24"] * 10,
            "marital_status": ["couple"] * 10 + ["single"] * 10,
            "has_children": [True] * 10 + [False] * 10,
            "income_band": ["high"] * 10 + ["low"] * 10,
            "won_value": np.arange(n, dtype=float),
            "deal_frequency": np.ones(n),
            "preferred_weekday": ["Saturday"] * n,
        }
    )
    groups = pd.DataFrame({"account_id": ids, "group": [1] * 10 + [2] * 10})
    info = [{"group": 1, "label": "aged 35-44, with children"}, {"group": 2, "label": "aged 18-24, singles"}]
    people = build_personas(groups, features=features, group_info=info)
    assert [p["label"] for p in people] == ["Group 1: aged 35-44, with children", "Group 2: aged 18-24, singles"]
    family = people[0]
    assert [i["text"] for i in family["role"]["items"]][:3] == [
        "aged 35-44 (10 of 10 customers)", "couples (10 of 10 customers)", "with children (10 of 10 customers)",
    ]
    assert any("income: high" in i["text"] for i in family["firmographics"]["items"])
    assert any(i["text"].startswith("orders per quarter") for i in family["buying_behaviour"]["items"])
    assert "orders mostly on Saturday (10 of 10 customers)" in [i["text"] for i in family["needs"]["items"]]
    assert all("accounts" not in i["text"] for key in persona_fields("b2c") for i in family[key]["items"])
    headings = list(persona_fields("b2c").values())
    assert headings[:2] == ["Personal information (demographics)", "Life stage"]
    assert list(persona_fields("b2c")) == [
        "firmographics", "role", "goals", "pains", "buying_behaviour", "needs", "channels",
        "examples", "touchpoints", "competitors",
    ]
    assert persona_fields("b2b")["role"] == "Job role and seniority"
