"""The ICP card: escaping of hostile data, traceability to the run folder, "no evidence", templates."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from icp_helpers.data.artifacts import write_json, write_table
from icp_helpers.data.config import load_config
from icp_helpers.profile.card import (
    build_card_context,
    card_iframe,
    escape_markdown,
    render_card,
    selected_traits,
    template_for,
    tier_guide,
    write_card,
)
from icp_helpers.profile.personas import NO_EVIDENCE, build_personas

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
PAYLOADS = (SCRIPT, IMG)


def write_fixture_run(folder: Path, *, interviews: bool = True, negative: bool = True, seed: int = 3) -> dict:
    """A small run folder shaped like the output of notebooks 01-03, with hostile text in it.

    Returns the tables the card also needs from outside the run folder
    (accounts with names, scored accounts) and the selection written.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n = 40
    ids = [f"A{i:03d}" for i in range(n)]
    industries = np.array(["wholesaler", "restaurant", "hotel", IMG])[rng.integers(0, 4, n)]
    features = pd.DataFrame(
        {
            "account_id": ids,
            "industry": industries,
            "country": rng.choice(["Germany", "Italy", SCRIPT], n),
            "employees_band": rng.choice(["10-49", "50-249"], n),
            "avg_deal_amount": rng.gamma(3, 900, n).round(2),
            "avg_deal_size": rng.integers(1, 40, n).astype(float),
            "deal_frequency": rng.gamma(2, 1.5, n).round(2),
            "multi_item_share": rng.uniform(0, 1, n).round(3),
            "preferred_weekday": rng.choice(["Tuesday", "Thursday"], n),
            "preferred_hour": rng.choice([9, 10, 14], n),
        }
    )
    value = rng.uniform(0, 1, n)
    best = pd.DataFrame(
        {
            "account_id": ids,
            "value_score": value,
            "value_rank": pd.Series(value).rank(ascending=False).astype(int),
            "is_best": pd.Series(value).rank(ascending=False) <= 8,
            "is_negative": pd.Series(value).rank() <= 5,
            "negative_reason": "",
        }
    )
    write_table(features, folder, "features.parquet")
    write_table(best, folder, "best_customers.parquet")
    groups = pd.DataFrame({"account_id": ids, "group": [i % 3 for i in range(n)]})
    write_table(groups, folder, "groups.parquet")
    write_json(
        [{"group": g, "size": int((groups["group"] == g).sum()), "description": f"group {g} {IMG}"} for g in range(3)],
        folder,
        "groups.json",
    )
    best_ids = sorted(best.loc[best["is_best"], "account_id"])
    if interviews:
        rows = []
        codes = [
            ("pains_needs", "pain:reliable_delivery", f"Deliveries were late all the time {SCRIPT} and we lost sales."),
            ("pains_needs", f"pain:{SCRIPT}", f"Honestly the worst part was {IMG} invoices that never matched."),
            ("need_met", "need:large_shipments", "We need pallets, not boxes, every single week of the season."),
            ("how_found", "channel:trade_show", f"We met your team at the Anuga trade show {IMG} in Cologne."),
            ("why_first_buy", "reason:quality", "The oil tasted better than anything else our chefs tried."),
            ("opinion", "competitor:olio_rossi", "We used Olio Rossi before, but their deliveries were patchy."),
        ]
        for k, account in enumerate(best_ids[:6] + ids[:2]):
            for j, (question, code, answer) in enumerate(codes):
                if (k + j) % 4 == 3:
                    continue
                rows.append(
                    {
                        "interview_id": f"I{k:02d}",
                        "account_id": account,
                        "question": question,
                        "code": code,
                        "source": "rule",
                        "answer": answer,
                    }
                )
        write_table(pd.DataFrame(rows), folder, "coded_answers.parquet")
    def evidence(lift, low, high, coverage, q, population="all"):
        return {"lift": lift, "lift_low": low, "lift_high": high, "coverage": coverage, "q_value": q,
                "stability": 0.9, "population": population}

    selection = {
        "quarter": "2026Q3",
        "selected": [
            {"id": "industry=wholesaler", "label": "Wholesalers", "kind": "firmographic", "rank": 1,
             "points": 30, "evidence": evidence(2.71, 1.52, 4.36, 0.625, 0.0004)},
            {"id": "employees_band=50-249", "label": f"Mid-sized firms {SCRIPT}", "kind": "firmographic",
             "rank": 2, "points": 20, "evidence": evidence(1.83, 1.11, 2.94, 0.5, 0.021)},
        ],
        "why_traits": [
            {"id": "pain:reliable_delivery", "label": "Needs reliable delivery", "kind": "code", "rank": 3,
             "points": None, "evidence": evidence(3.4, 1.9, 6.2, 0.75, 0.003, "interviewed")},
        ],
        "buying_behaviour": [{"id": "multi_item_buyer", "label": "multi-item buyer", "lift": 1.9, "coverage": 0.8}],
        "insufficient_evidence": [{"id": "country=Italy", "label": "Based in Italy", "kind": "firmographic",
                                   "reason": "q too high"}],
        "tier_cutoffs": {"A": 50, "B": 25},
    }
    write_json(selection, folder, "selection.json")
    if negative:
        write_table(
            pd.DataFrame(
                {
                    "trait": ["industry=hotel", "country=Germany"],
                    "label": [f"Hotels {IMG}", "In Germany"],
                    "lift": [2.2, 1.3],
                    "lift_low": [1.4, 0.9],
                    "lift_high": [3.5, 1.8],
                    "coverage": [0.4, 0.3],
                    "q_value": [0.01, 0.3],
                    "rank": pd.array([1, pd.NA], dtype="Int64"),
                    "disqualifier": [True, False],
                }
            ),
            folder,
            "negative_icp.parquet",
        )
    write_json({"quarter": "2026Q3"}, folder, "step1.json")
    (folder / "quarantine").mkdir()
    pd.DataFrame(
        {
            "table": ["accounts", "deals"],
            "files": ["data/accounts.csv", "data/deals_2025.csv | data/deals_2026.csv"],
            "rows_read": [n + 1, 503],
            "rows_used": [n, 500],
            "rows_quarantined": [1, 3],
        }
    ).to_csv(folder / "quarantine" / "summary.csv", index=False)
    accounts = pd.DataFrame(
        {"account_id": ids, "name": [f"Acme {i} {SCRIPT if i % 2 else IMG}" for i in range(n)]}
    )
    scored = pd.DataFrame(
        {
            "account_id": ids,
            "fit_score": rng.integers(0, 66, n).astype(float),
            "tier": rng.choice(["A", "B", "C"], n),
            "matched_traits": [["industry=wholesaler"]] * n,
            "industry": industries,
            "country": features["country"],
        }
    )
    return {"accounts": accounts, "scored": scored, "selection": selection, "features": features,
            "best": best, "groups": groups}


@pytest.fixture()
def fixture_run(tmp_path):
    run_dir = tmp_path / "2026Q3"
    tables = write_fixture_run(run_dir)
    return run_dir, tables


@pytest.fixture()
def config(tmp_path):
    path = tmp_path / "icp.yml"
    path.write_text(
        yaml.safe_dump(
            {"name": f"Sample {SCRIPT}", "inputs": {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.csv"}}}
        )
    )
    return load_config(path, check_files=False)


def _context(run_dir, tables, config, **kwargs):
    personas = build_personas(
        pd.read_parquet(run_dir / "groups.parquet"),
        features=tables["features"],
        best=tables["best"],
        coded=pd.read_parquet(run_dir / "coded_answers.parquet") if (run_dir / "coded_answers.parquet").exists() else None,
        group_info=json.loads((run_dir / "groups.json").read_text()),
        names=dict(zip(tables["accounts"]["account_id"], tables["accounts"]["name"], strict=True)),
    )
    return build_card_context(
        run_dir, config, scored_accounts=tables["scored"], personas=personas, accounts=tables["accounts"], **kwargs
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(name for name, _ in attrs)


def test_payloads_show_as_text_never_as_tags_in_html(fixture_run, config):
    run_dir, tables = fixture_run
    context = _context(run_dir, tables, config)
    page = render_card(context, fmt="html")
    for payload in PAYLOADS:
        assert payload not in page
        assert html.escape(payload) in page
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert not [a for a in parser.attrs if a.startswith("on")]
    # the payload sits in every kind of data-derived place on the card
    escaped = html.escape(SCRIPT)
    names = [e["name"] for e in context["examples"]["items"]]
    assert names and all(html.escape(name) in page for name in names)  # account names
    assert any(SCRIPT in name for name in names) or any(IMG in name for name in names)
    assert f"Mid-sized firms {escaped}" in page  # trait label
    assert f"Deliveries were late all the time {escaped}" in page  # quote
    assert f"Hotels {html.escape(IMG)}" in page  # disqualifier label
    assert html.escape(IMG) in page.split("Example customers")[1]  # industry column


def test_payloads_show_as_text_never_as_tags_in_markdown(fixture_run, config):
    run_dir, tables = fixture_run
    context = _context(run_dir, tables, config)
    text = render_card(context, fmt="markdown")
    for payload in PAYLOADS:
        assert payload not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<script" not in text and "<img" not in text
    first = context["examples"]["items"][0]["name"]
    assert escape_markdown(first) in text and "&lt;" in escape_markdown(first)
    assert "Deliveries were late all the time &lt;script&gt;" in text


def test_escape_markdown_blocks_links_markup_and_blocks():
    out = escape_markdown("[click](javascript:alert(1)) ![x](y) <b>hi</b> a|b *e* `c`\n# title")
    assert "[" not in out.replace("\\[", "") and "]" not in out.replace("\\]", "")
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert "\n" not in out
    assert "\\|" in out and "\\*e\\*" in out and "\\`c\\`" in out
    assert "http\\://" in escape_markdown("see http://evil.example")
    assert escape_markdown(None) == ""


def test_every_trait_on_the_card_is_in_selection_with_the_same_numbers(fixture_run, config):
    run_dir, tables = fixture_run
    context = _context(run_dir, tables, config)
    saved = json.loads((run_dir / "selection.json").read_text())
    on_disk = {t["id"]: t for t in saved["selected"] + saved["why_traits"]}
    card_traits = context["traits"]["items"]
    assert [t["id"] for t in card_traits] == list(on_disk)
    assert [t["evidence_type"] for t in card_traits] == ["who", "who", "why"]
    page = render_card(context)
    rows = re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
    for trait in card_traits:
        evidence = on_disk[trait["id"]]["evidence"]
        for name in ("lift", "lift_low", "lift_high", "coverage"):
            assert trait[name] == pytest.approx(evidence[name])
        assert trait["q"] == pytest.approx(evidence["q_value"])
        assert trait["points"] == on_disk[trait["id"]]["points"]
        row = next(r for r in rows if html.escape(trait["id"]) in r)
        assert html.escape(trait["label"]) in row
        # plain words: "2.7×" with its range, and how sure the q-value lets us be
        lift, low, high = (f"{evidence[k]:.1f}×".replace(".0×", "×") for k in ("lift", "lift_low", "lift_high"))
        assert f'{lift}<span class="range">{low} to {high}</span>' in row
        q = evidence["q_value"]
        sure = "very sure" if q < 0.001 else "sure" if q < 0.01 else "fairly sure" if q < 0.05 else "not sure"
        assert f'<td class="sure">{sure}</td>' in row
        assert f"{evidence['coverage']:.0%}" in row
        assert (f">{trait['points']}<" if trait["points"] is not None else ">not scored<") in row


def test_quotes_and_counts_come_from_the_coded_answers(fixture_run, config):
    run_dir, tables = fixture_run
    coded = pd.read_parquet(run_dir / "coded_answers.parquet")
    context = _context(run_dir, tables, config)
    for section, prefix in (("pains", "pain:"), ("needs", "need:"), ("channels", "channel:")):
        items = context[section]["items"]
        assert items, section
        for item in items:
            assert item["code"].startswith(prefix)
            rows = coded[coded["code"] == item["code"]]
            assert item["accounts"] == rows["account_id"].nunique()
            assert item["interviewed"] == coded["account_id"].nunique()
            assert item["quote"] in set(rows["answer"])
            assert item["quote_account"] in set(rows["account_id"])


def test_sections_without_data_say_no_evidence(tmp_path, config):
    run_dir = tmp_path / "bare"
    tables = write_fixture_run(run_dir, interviews=False, negative=False)
    context = build_card_context(run_dir, config)
    for section in ("pains", "needs", "channels", "examples", "disqualifiers"):
        assert context[section]["status"] == NO_EVIDENCE
        assert context[section]["items"] == []
    assert context["traits"]["status"] == "evidence"
    assert context["buying"]["status"] == "evidence"
    page = render_card(context)
    for heading in ("Pains", "Needs", "How they found us", "Example customers", "Warning signs"):
        after = page.split(f"<h2>{heading}</h2>", 1)[1][:200]
        assert NO_EVIDENCE in after, heading
    assert tables["selection"]["selected"][0]["label"] in page


def test_buying_behaviour_compares_best_with_the_rest(fixture_run, config):
    run_dir, tables = fixture_run
    items = {b["attribute"]: b for b in _context(run_dir, tables, config)["buying"]["items"]}
    features, best = tables["features"], tables["best"]
    is_best = features["account_id"].isin(best.loc[best["is_best"], "account_id"])
    assert items["avg_deal_amount"]["best"] == pytest.approx(features.loc[is_best, "avg_deal_amount"].median())
    assert items["avg_deal_amount"]["rest"] == pytest.approx(features.loc[~is_best, "avg_deal_amount"].median())
    assert items["preferred_weekday"]["best"] == features.loc[is_best, "preferred_weekday"].mode().iloc[0]


def test_examples_are_best_customers_with_the_highest_scores(fixture_run, config):
    run_dir, tables = fixture_run
    examples = _context(run_dir, tables, config)["examples"]["items"]
    best_ids = set(tables["best"].loc[tables["best"]["is_best"], "account_id"])
    scores = tables["scored"].set_index("account_id")["fit_score"]
    assert {e["account_id"] for e in examples} <= best_ids
    listed = [e["fit_score"] for e in examples]
    assert listed == sorted(listed, reverse=True)
    assert listed[0] == scores[list(best_ids)].max()


def test_html_card_is_self_contained(fixture_run, config):
    run_dir, tables = fixture_run
    page = render_card(_context(run_dir, tables, config))
    assert "<style>" in page
    for forbidden in ("<script", "<link", "@import", "http://", "https://", "url("):
        assert forbidden not in page


def test_template_override_through_config(fixture_run, tmp_path):
    run_dir, tables = fixture_run
    (tmp_path / "mine.html.j2").write_text("<p>custom {{ traits['items'] | length }} {{ project }}</p>")
    (tmp_path / "mine.md.j2").write_text("custom md {{ project }}\n")
    path = tmp_path / "custom.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": f"Shop {IMG}",
                "inputs": {"accounts": {"path": "a.csv"}, "deals": {"path": "d.csv"}},
                "templates": {"card_html": "mine.html.j2", "card_markdown": "mine.md.j2"},
            }
        )
    )
    config = load_config(path, check_files=False)
    assert template_for(config, "html") == (tmp_path / "mine.html.j2").resolve()
    written = write_card(build_card_context(run_dir, config), run_dir, config=config)
    # the user's template is used, and values are still escaped in it
    assert written["html"].read_text() == f"<p>custom 3 Shop {html.escape(IMG)}</p>"
    assert written["markdown"].read_text() == "custom md Shop &lt;img src=x onerror=alert(1)&gt;\n"


def test_default_templates_without_override(fixture_run, config):
    run_dir, tables = fixture_run
    assert template_for(config, "html").name == "icp_card.html.j2"
    assert template_for(None, "markdown").name == "icp_card.md.j2"
    written = write_card(_context(run_dir, tables, config), run_dir, config=config)
    assert written["html"].name == "icp_card.html" and written["markdown"].name == "icp_card.md"
    assert "Who our best customers are" in written["html"].read_text()
    with pytest.raises(ValueError, match="allowed: html, markdown"):
        render_card({}, fmt="pdf")


def test_selected_traits_accepts_flat_evidence_and_keeps_at_most_ten():
    flat = selected_traits({"selected": [{"id": "x", "lift": 2.0, "lift_low": 1.2, "q_value": 0.01}]})
    assert flat[0]["lift_low"] == 1.2 and flat[0]["q"] == 0.01 and flat[0]["label"] == "x"
    assert flat[0]["lift_high"] is None  # not in the selection: not invented
    assert flat[0]["scored"] is False  # no points: not part of the score
    many = selected_traits(
        {"selected": [{"id": str(i), "points": 1} for i in range(8)], "why_traits": [{"id": f"c{i}", "kind": "code"} for i in range(4)]}
    )
    assert len(many) == 10 and [t["evidence_type"] for t in many[-2:]] == ["why", "why"]


def test_disqualifiers_are_the_selected_negative_traits(fixture_run, config):
    run_dir, tables = fixture_run
    context = _context(run_dir, tables, config)
    items = context["disqualifiers"]["items"]
    assert [d["id"] for d in items] == ["industry=hotel"]  # country=Germany is not a disqualifier
    assert items[0]["lift"] == 2.2 and items[0]["coverage"] == 0.4
    assert context["behaviour_traits"]["items"][0]["label"] == "multi-item buyer"
    assert context["tiers"] == {"A": 50, "B": 25}


def test_card_iframe_keeps_the_card_out_of_the_page():
    frame = card_iframe(f"<p>{html.escape(SCRIPT)}</p>")
    assert frame.count("<") == 4  # only the wrapper's and the iframe's own tags
    assert 'sandbox=""' in frame


def test_provenance_names_files_row_counts_and_quarter(fixture_run, config):
    run_dir, tables = fixture_run
    context = _context(run_dir, tables, config)
    provenance = context["provenance"]
    assert provenance["quarter"] == "2026Q3" == context["quarter"]
    inputs = {i["table"]: i for i in provenance["inputs"]}
    assert inputs["deals"]["files"] == ["deals_2025.csv", "deals_2026.csv"]
    assert (inputs["deals"]["rows_read"], inputs["deals"]["rows"], inputs["deals"]["rows_quarantined"]) == (503, 500, 3)
    artifacts = {a["name"]: a["rows"] for a in provenance["artifacts"]}
    assert artifacts["features.parquet"] == len(tables["features"])
    assert artifacts["coded_answers.parquet"] == len(pd.read_parquet(run_dir / "coded_answers.parquet"))
    page = render_card(context)
    assert "deals (deals_2025.csv, deals_2026.csv: 500 rows used, 3 set aside)" in page
    assert f"on {provenance['generated']}" in page


def test_without_a_selected_trait_there_are_no_examples_or_tiers(fixture_run, config):
    """A quarter where nothing passes the evidence screen: every account scores 0, so no
    account is an example of the profile and the tier cut-offs mean nothing."""
    run_dir, tables = fixture_run
    selection = json.loads((run_dir / "selection.json").read_text())
    write_json({**selection, "selected": []}, run_dir, "selection.json")
    scored = tables["scored"].assign(fit_score=0, tier="C", matched_traits="")
    context = _context(run_dir, {**tables, "scored": scored}, config)
    assert context["examples"]["status"] == NO_EVIDENCE and context["examples"]["items"] == []
    assert context["tiers"] == {}
    page = render_card(context)
    assert "tiers:" not in page


def test_weaker_fit_beside_the_disqualifiers_and_the_number_of_tiers(fixture_run, config):
    run_dir, tables = fixture_run
    selection = json.loads((run_dir / "selection.json").read_text())
    selection["weaker_fit"] = [{"id": "industry=deli", "label": "Delis", "kind": "firmographic",
                                "lift": 0.33, "lift_low": 0.2, "lift_high": 0.55, "q_value": 0.002}]
    selection["tier_cutoffs"] = {"A": 10.0, "B": 10.0}
    (run_dir / "selection.json").write_text(json.dumps(selection))
    context = _context(run_dir, tables, config)
    assert [d["id"] for d in context["weaker_fit"]["items"]] == ["industry=deli"]
    # equal cut-offs: B would hold nobody, so the card shows two tiers, A and C
    assert context["tiers"] == {"A": 10.0} and context["n_tiers"] == 2
    for fmt in ("markdown", "html"):
        page = render_card(context, fmt=fmt)
        assert "Weaker fit" in page and "Delis" in page
        assert "2 tiers" in page and "B ≥" not in page
    # the lowest tier keeps its name when B collapses
    assert [g["tier"] for g in context["tier_guide"]] == ["A", "C"]


def test_a_warning_sign_is_not_repeated_as_weaker_fit(fixture_run, config):
    run_dir, tables = fixture_run
    warning = _context(run_dir, tables, config)["disqualifiers"]["items"][0]
    selection = json.loads((run_dir / "selection.json").read_text())
    selection["weaker_fit"] = [
        {"id": warning["id"], "label": warning["label"], "lift": 0.4, "q_value": 0.01},
        {"id": "industry=deli", "label": "Delis", "lift": 0.33, "q_value": 0.002},
    ]
    (run_dir / "selection.json").write_text(json.dumps(selection))
    context = _context(run_dir, tables, config)
    assert [d["id"] for d in context["weaker_fit"]["items"]] == ["industry=deli"]
    assert render_card(context).count(f"<strong>{html.escape(warning['label'], quote=False)}</strong>") == 1


def test_tier_guide_states_each_tiers_points_and_meaning():
    guide = tier_guide({"A": 33.0, "B": 16.0}, 61.0)
    assert [(g["tier"], g["points"]) for g in guide] == [("A", "33–61"), ("B", "16–32"), ("C", "0–15")]
    assert guide[0]["meaning"].startswith("strong match") and guide[2]["meaning"].startswith("weak match")
    fractional = tier_guide({"A": 2.5, "B": 1.2}, 4.7)
    assert [g["points"] for g in fractional] == ["2.5 to 4.7", "1.2 to under 2.5", "0 to under 1.2"]
    assert tier_guide({}, None) == []


def test_card_states_the_points_scale_and_its_tiers(fixture_run, config):
    run_dir, tables = fixture_run
    context = _context(run_dir, tables, config)
    scored = [t for t in context["traits"]["items"] if t["scored"]]
    assert context["points_max"] == pytest.approx(sum(t["points"] for t in scored))
    page = render_card(context)
    assert f"from 0 to {context['points_max']:.0f}" in page
    for g in context["tier_guide"]:
        assert f'<span class="tier">{g["tier"]}</span> {g["points"]} points' in page


def test_warning_signs_are_not_called_disqualifiers_and_say_they_keep_an_account_out_of_tier_a(
    fixture_run, config
):
    run_dir, tables = fixture_run
    page = render_card(_context(run_dir, tables, config))
    assert "Disqualifier" not in page and "<h2>Warning signs</h2>" in page
    assert "never tier A" in page
    markdown = render_card(_context(run_dir, tables, config), fmt="markdown")
    assert "## Warning signs" in markdown and "Disqualifier" not in markdown


def test_examples_and_persona_lists_name_each_customer_once(fixture_run, config):
    run_dir, tables = fixture_run
    before = [e["account_id"] for e in _context(run_dir, tables, config)["examples"]["items"]]
    assert len(before) >= 3
    accounts = tables["accounts"].copy()
    accounts.loc[accounts["account_id"].isin(before[:2]), "name"] = "Rossi Catering"  # two accounts, one name
    context = _context(run_dir, {**tables, "accounts": accounts}, config)
    names = [e["name"] for e in context["examples"]["items"]]
    assert names.count("Rossi Catering") == 1 and len(names) == len(set(names))
    persona = {"label": "Group 1", "examples": {"items": [{"short": "Rossi Catering"}, {"short": "rossi catering "},
                                                         {"short": "Bianchi"}]}}
    from icp_helpers.profile.card import _distinct_items

    assert [i["short"] for i in _distinct_items(persona)["examples"]["items"]] == ["Rossi Catering", "Bianchi"]




def test_a_consumer_card_speaks_of_customers_and_their_demographics(fixture_run, tmp_path, config):
    run_dir, tables = fixture_run
    path = tmp_path / "b2c.yml"
    path.write_text(yaml.safe_dump({"name": "Shop", "profile": {"kind": "b2c"},
                                    "inputs": {"customers": {"path": "c.csv"}, "deals": {"path": "d.csv"}}}))
    consumer = load_config(path, check_files=False)
    features = pd.read_parquet(run_dir / "features.parquet")
    features["age_band"] = np.where(np.arange(len(features)) % 2, "35-44", "18-24")
    features.to_parquet(run_dir / "features.parquet")
    context = _context(run_dir, tables, consumer)
    assert context["words"]["accounts"] == "customers" and context["profile_kind"] == "b2c"
    assert context["persona_fields"]["role"] == "Life stage"
    buying = {b["attribute"]: b["label"] for b in context["buying"]["items"]}
    assert buying["avg_deal_amount"] == "average order value"
    assert [c["key"] for c in context["example_columns"]][0] == "age_band"
    assert all(e.get("age_band") in ("35-44", "18-24") for e in context["examples"]["items"])
    page = render_card(context, fmt="html")
    assert "consumer profile" in page and f"among {len(features)} customers" in page
    assert "<th>Age</th>" in page and "<th>Industry</th>" not in page
    assert "customers that buy the most" in page and "a customer's fit score" in page
    company = _context(run_dir, tables, config)
    assert company["words"]["accounts"] == "accounts"
    company_page = render_card(company, fmt="html")
    assert "<th>Industry</th>" in company_page and "accounts that buy the most" in company_page


def test_scored_behaviour_traits_are_not_listed_again_as_not_scored(fixture_run, config):
    run_dir, tables = fixture_run
    selection = json.loads((run_dir / "selection.json").read_text())
    behaviour = {"id": "multi_item_share_band=Q4", "label": "multi item share: top quarter", "kind": "behaviour",
                 "points": 9, "lift": 2.0, "coverage": 0.5}
    selection["selected"].append(behaviour)
    selection["buying_behaviour"] = [behaviour, {"id": "preferred_hour=9", "label": "hour 9", "lift": 1.5,
                                                 "coverage": 0.4}]
    (run_dir / "selection.json").write_text(json.dumps(selection))
    context = _context(run_dir, tables, config)
    shown = {t["id"]: t for t in context["traits"]["items"]}
    assert shown["multi_item_share_band=Q4"]["evidence_type"] == "behaviour"
    assert shown["multi_item_share_band=Q4"]["scored"] is True
    assert [b["id"] for b in context["behaviour_traits"]["items"]] == ["preferred_hour=9"]
