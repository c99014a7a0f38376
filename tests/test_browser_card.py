"""The ICP card in headless Chromium: hostile data stays text, nothing runs, nothing is fetched."""

from __future__ import annotations

import asyncio
import json

import pandas as pd
import pytest
import yaml
from test_card import IMG, PAYLOADS, SCRIPT, write_fixture_run

from icp_helpers.data.config import load_config
from icp_helpers.profile.card import build_card_context, write_card
from icp_helpers.profile.personas import build_personas
from icp_helpers.reports import browser
from icp_helpers.reports.browser import check_page, chromium_path, require_chromium


@pytest.fixture()
def card_page(tmp_path):
    run_dir = tmp_path / "2026Q3"
    tables = write_fixture_run(run_dir)
    config_path = tmp_path / "icp.yml"
    config_path.write_text(
        yaml.safe_dump({"name": f"Shop {SCRIPT}", "inputs": {"accounts": {"path": "a.csv"}, "deals": {"path": "d.csv"}}})
    )
    config = load_config(config_path, check_files=False)
    personas = build_personas(
        pd.read_parquet(run_dir / "groups.parquet"),
        features=tables["features"],
        best=tables["best"],
        coded=pd.read_parquet(run_dir / "coded_answers.parquet"),
        group_info=json.loads((run_dir / "groups.json").read_text()),
    )
    context = build_card_context(
        run_dir, config, scored_accounts=tables["scored"], personas=personas, accounts=tables["accounts"]
    )
    return write_card(context, run_dir, config=config)["html"], context


@pytest.mark.browser
def test_hostile_card_runs_no_script_and_shows_the_payload_as_text(card_page, tmp_path):
    require_chromium()
    page, context = card_page
    shot = tmp_path / "card.png"
    report = check_page(page, screenshot=shot, pdf=tmp_path / "card.pdf")
    assert report.dialogs == [], "a data value was executed as script"
    assert report.page_errors == [] and report.console_errors == []
    assert report.failed_requests == [], "the card must not fetch anything"
    assert report.n_images == 0  # the <img> payload did not become an image
    for payload in PAYLOADS:
        assert payload in report.text
    for trait in context["traits"]["items"]:
        assert trait["label"] in report.text
    assert report.title.startswith("Ideal Customer Profile")
    assert report.ok
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.pdf.read_bytes()[:5] == b"%PDF-" and report.pdf_pages >= 1


@pytest.mark.browser
def test_check_page_sees_dialogs_errors_images_and_blocked_requests(tmp_path):
    """The detector itself: the same payloads unescaped do fire, remote requests are blocked."""
    require_chromium()
    page = tmp_path / "bad.html"
    page.write_text(
        "<!doctype html><title>bad</title><body><p>hello</p>"
        f"{IMG}<img src='https://example.invalid/pixel.png'><svg width='4' height='4'></svg>"
        f"{SCRIPT}<script>console.error('broken'); throw new Error('boom')</script></body>"
    )
    report = check_page(page)
    assert "alert: 1" in report.dialogs
    assert any("boom" in e for e in report.page_errors)
    assert "broken" in report.console_errors
    assert any("example.invalid" in r for r in report.failed_requests)
    assert report.n_images == 3
    assert "hello" in report.text
    assert not report.ok


@pytest.mark.browser
def test_check_page_works_inside_a_running_event_loop(tmp_path):
    """A Jupyter kernel runs cells inside an asyncio loop; the check must still work there."""
    require_chromium()
    page = tmp_path / "ok.html"
    page.write_text("<!doctype html><title>ok</title><p>fine</p>")

    async def inside_a_loop():
        return check_page(page)

    report = asyncio.run(inside_a_loop())
    assert report.ok and report.text == "fine" and report.title == "ok"


def test_chromium_path_honours_the_environment(monkeypatch, tmp_path):
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("ICP_CHROMIUM", str(fake))
    assert chromium_path() == str(fake)
    monkeypatch.setenv("ICP_CHROMIUM", str(tmp_path / "missing"))
    assert chromium_path() is None


def test_require_chromium_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(browser, "chromium_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium not found"):
        require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require_chromium()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_chromium()


def test_check_page_refuses_a_missing_page(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such page"):
        check_page(tmp_path / "nope.html")
