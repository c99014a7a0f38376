"""Rendered reports and indexes open in headless Chromium with the network off.

Each page must load without failed (i.e. remote) requests, console errors or
script errors, and a report whose notebook drew figures must show them.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from icp_helpers.data.config import NOTEBOOK_ORDER
from icp_helpers.reports.browser import check_page, require_chromium
from icp_helpers.reports.runner import render_html, run_quarter, write_batch_index

pytestmark = pytest.mark.browser


def _figures_in(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        1
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {}) or "image/svg+xml" in output.get("data", {})
    )


def _assert_clean(report) -> None:
    assert report.failed_requests == []
    assert report.console_errors == []
    assert report.page_errors == []
    assert report.dialogs == []


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def tiny_quarter(tmp_path_factory):
    """One quarter of a one-notebook project with a figure, its index and the batch index."""
    root = tmp_path_factory.mktemp("browser")
    (root / "accounts.csv").write_text("account_id,industry,employees,country\nA1,retail,10,Italy\n")
    (root / "deals.csv").write_text("deal_id,account_id,close_date,amount\nD1,A1,2026-01-15,100\n")
    config = root / "icp.yml"
    config.write_text("reports_dir: reports\ninputs:\n  accounts: {path: accounts.csv}\n  deals: {path: deals.csv}\n")
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Figures\n\n## 1. Parameters"),
            new_code_cell('config_path: str = ""\nquarter: str = ""\nrun_dir: str = ""',
                          metadata={"tags": ["parameters"]}),
            new_markdown_cell("## 2. A figure and a table\n\nThe $\\alpha$ here needs no MathJax to open."),
            new_code_cell("import matplotlib.pyplot as plt\nimport pandas as pd\n"
                          "plt.plot([3, 1, 2])\nplt.show()\npd.DataFrame({'tier': ['A', 'B']})"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    (root / "notebooks").mkdir()
    nbformat.write(nb, root / "notebooks" / "01_figures.ipynb")
    result = run_quarter(config, "2026Q1", notebooks=["01_figures"], notebooks_dir=root / "notebooks")
    assert result.ok, result.error
    write_batch_index(root / "reports")
    return root / "reports"


def test_notebook_report_opens_offline_with_its_figure(chromium, tiny_quarter):
    report = check_page(tiny_quarter / "2026Q1" / "01_figures.html")
    _assert_clean(report)
    assert report.n_images >= 1
    assert "A figure and a table" in report.text
    assert "plt.plot" not in report.text


def test_quarter_and_batch_indexes_open_offline(chromium, tiny_quarter):
    quarter = check_page(tiny_quarter / "2026Q1" / "index.html")
    _assert_clean(quarter)
    assert "ICP report 2026Q1" in quarter.text and "01_figures" in quarter.text
    batch = check_page(tiny_quarter / "index.html")
    _assert_clean(batch)
    assert "2026Q1" in batch.text


def test_the_check_can_fail(chromium, tmp_path):
    """A page that fetches from the network is caught: the checks above are not vacuous."""
    page = tmp_path / "remote.html"
    page.write_text('<!DOCTYPE html><html><head><script src="https://cdn.example.org/x.js"></script>'
                    "</head><body><p>remote</p></body></html>")
    report = check_page(page)
    assert any("cdn.example.org" in r for r in report.failed_requests)


@pytest.mark.slow
def test_sample_reports_open_offline_with_figures(chromium, sample_run, tmp_path):
    """Every notebook of the sample run, rendered as ``icp run`` does, opens cleanly in Chromium."""
    for name in NOTEBOOK_ORDER:
        executed = sample_run / f"{name}.ipynb"
        page = render_html(executed, html_path=tmp_path / f"{name}.html")
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"""<(?:script|link|img)\b[^>]*(?:src|href)=["']?(?:https?:)?//""", html)
        report = check_page(page)
        _assert_clean(report)
        figures = _figures_in(executed)
        assert report.n_images >= figures, f"{name}: {report.n_images} images shown, {figures} drawn"
        if figures:
            assert report.n_images > 0
