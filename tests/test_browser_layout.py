"""Every page a reader opens works on a laptop and a phone, and the card prints on one A4 page.

At 1400 px and at 390 px (a phone) no page may be wider than the window (a
wide table scrolls inside its own box); the ICP card printed to A4 is one
page that still shows every selected trait.
"""

from __future__ import annotations

import json
import shutil

import pytest
from test_card import _context, write_fixture_run

from icp_helpers.data.config import DEFAULT_CONFIG, NOTEBOOK_ORDER, load_config
from icp_helpers.profile.card import render_card
from icp_helpers.reports.browser import check_page, require_chromium
from icp_helpers.reports.reader import scan_html
from icp_helpers.reports.runner import render_html, write_batch_index, write_quarter_index

pytestmark = pytest.mark.browser
WIDTHS = (1400, 390)


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


def _assert_fits(page, *, name: str) -> None:
    for width in WIDTHS:
        report = check_page(page, width=width)
        assert report.ok, (name, width, report.console_errors, report.page_errors, report.failed_requests)
        assert report.overflow_px == 0, f"{name} is {report.overflow_px} px wider than a {width} px window"


def test_card_fits_a_phone_and_prints_on_one_page_with_every_trait(chromium, tmp_path):
    run_dir = tmp_path / "2026Q3"
    tables = write_fixture_run(run_dir)
    config = tmp_path / "icp.yml"
    config.write_text("name: Layout\ninputs:\n  accounts: {path: accounts.csv}\n  deals: {path: deals.csv}\n")
    context = _context(run_dir, tables, load_config(config, check_files=False))
    page = tmp_path / "icp_card.html"
    page.write_text(render_card(context), encoding="utf-8")
    _assert_fits(page, name="card")
    printed = check_page(page, pdf=tmp_path / "card.pdf")
    assert printed.pdf_pages == 1 and printed.print_clipped == []
    for trait in context["traits"]["items"]:
        assert trait["label"] in printed.print_text, trait["label"]


@pytest.mark.slow
def test_sample_index_card_and_reports_fit_laptop_and_phone(chromium, sample_run, tmp_path):
    """The sample quarter as a reader gets it: indexes, card, every report; printed card one page."""
    folder = tmp_path / "reports" / "2026Q3"
    shutil.copytree(sample_run, folder)
    pages = [render_html(folder / f"{name}.ipynb") for name in NOTEBOOK_ORDER]
    record = {
        "quarter": "2026Q3", "status": "ok", "problems": [], "finished_at": "", "started_at": "",
        "duration_s": 1.0, "inputs": {}, "skipped": [], "not_applicable": {},
        "notebooks": [{"name": p.stem, "status": "ok", "html": p.name, "notebook": f"{p.stem}.ipynb",
                       "duration_s": 1.0} for p in pages],
        "parameters": {"config_path": str(DEFAULT_CONFIG), "notebooks_dir": "notebooks",
                       "notebooks": list(NOTEBOOK_ORDER)},
        "environment": {"python": "3", "executable": "python"},
    }
    (folder / "run.json").write_text(json.dumps(record))
    pages += [write_quarter_index(folder, record), write_batch_index(folder.parent), folder / "icp_card.html"]
    for page in pages:
        assert scan_html(page.read_text(encoding="utf-8"), name=page.name) == []
        _assert_fits(page, name=page.name)
        printed = check_page(page, pdf=tmp_path / f"{page.stem}.pdf")
        assert printed.print_clipped == [], (page.name, printed.print_clipped)
    printed = check_page(folder / "icp_card.html", pdf=tmp_path / "card.pdf")
    selection = json.loads((folder / "selection.json").read_text())
    assert printed.pdf_pages == 1
    for trait in selection["selected"] + selection["why_traits"]:
        assert trait["label"] in printed.print_text, trait["label"]
