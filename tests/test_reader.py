"""Reader-mode output: tables, facts and folders as the reports' readers see them."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from icp_helpers.reports import reader


def test_tidy_names_rounds_and_formats_q_values():
    frame = pd.DataFrame(
        {
            "trait": ["a", "b"],
            "q_value": [1.19e-57, 0.0423456],
            "accounts": [2000.0, 15.0],
            "won_value": [16763293.219999999, 2725.995],
            "lift": [2.54421, 0.5],
            "share": [0.528958, 0.1],
            "reconciled": [True, False],
            "reasons": [{"unparseable close_date": 5}, {}],
        }
    )
    out = reader.tidy(frame)
    assert list(out.columns) == [
        "Trait", "q-value", "Accounts", "Won value", "Lift", "Share", "Reconciled", "Reasons",
    ]
    assert list(out["q-value"]) == ["< 0.001", "0.0423"]
    assert str(out["Accounts"].dtype) == "Int64" and list(out["Accounts"]) == [2000, 15]
    assert list(out["Won value"]) == [16763293, 2726]
    assert list(out["Lift"]) == [2.54, 0.5] and list(out["Share"]) == [0.529, 0.1]
    assert list(out["Reconciled"]) == ["yes", "no"]
    assert out["Reasons"].iloc[0] == "unparseable close_date: 5"


def test_numbers_in_object_columns_are_rounded_too():
    mixed = pd.DataFrame({"a": pd.array([1, 2], dtype="Int64"), "b": [0.5, 5.638252827]}).describe().T
    assert mixed["std"].dtype == object  # what describe() of mixed dtypes gives
    out = reader.tidy(mixed)
    assert list(out.columns)[:3] == ["", "Count", "Mean"]
    assert list(out["Count"]) == [2, 2] and list(out["Std"]) == [0.71, 3.63]


def test_a_meaningful_index_becomes_a_column():
    frame = pd.DataFrame({"accounts": [518, 700]}, index=pd.Index(["A", "B"], name="tier"))
    assert list(reader.tidy(frame).columns) == ["Tier", "Accounts"]


def test_show_keeps_small_tables_static_and_every_row_of_large_ones():
    small = reader.show(pd.DataFrame({"x": [1.123456, 2.0]})).data
    assert "<table" in small and "<td>1.12</td>" in small and "1.123" not in small
    big = pd.DataFrame({"name": [f"row {i}" for i in range(400)], "p_value": np.linspace(0, 0.5, 400)})
    html = reader.show(big).data
    # every row is in the page (no "…" row, no downsampling), in a sortable table
    assert "row 399" in html and "…" not in html.split("<script")[0]
    assert "DataTable" in html or "ITable" in html or "itables" in html


def test_missing_values_show_as_blank_cells():
    html = reader.show(pd.DataFrame({"n": [1.0, np.nan], "q_value": [0.2, np.nan], "when": [pd.NaT, pd.NaT]})).data
    assert "NA" not in html and "nan" not in html.lower() and "NaT" not in html and "<td>1</td>" in html


def test_facts_and_files_read_as_tables_not_reprs():
    html = reader.facts({"counts": {"best": 400, "accounts": 2000}, "pooled_kappa": np.float64(0.8739485541),
                         "kappa_low": float("nan"), "redacted": True}).data
    assert "Counts: best" in html and "2,000" in html and "0.874" in html and "<td>yes</td>" in html
    assert "{" not in html and "np.float64" not in html
    written = reader.files_written({"csv": Path("/tmp/x/.2026Q3.partial/scored_leads.csv")}).data
    assert "scored_leads.csv" in written and "partial" not in written and "PosixPath" not in written


def test_folder_label_names_the_published_folder_not_the_staging_one(tmp_path):
    assert reader.folder_label(tmp_path / "reports" / ".2026Q3.partial") == "`reports/2026Q3/`"
    lab = reader.folder_label(tmp_path / "reports" / "lab" / "2026Q3")
    assert lab.startswith("`reports/lab/2026Q3/`") and "`reports/2026Q3/` is not touched" in lab


def test_charts_get_alt_text_from_their_section_and_pages_a_title():
    nb = new_notebook(cells=[
        new_markdown_cell("# Step 1: Who are our best customers?"),
        new_markdown_cell("## 3. The value rule\n\nEach component is ranked. More text."),
        new_code_cell("plot()", outputs=[new_output("display_data", data={"image/png": "iVBOR"})]),
    ])
    assert reader.chart_alt_texts(nb) == 1
    alt = nb.cells[2].outputs[0].metadata["image/png"]["alt"]
    assert alt == "Chart: 3. The value rule. Each component is ranked."
    assert reader.page_title(nb, fallback="01_best_customers") == "Step 1: Who are our best customers?"


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ("<p>results in /tmp/r/.2026Q3.partial.</p>", "a staging folder"),
        ("<pre>[PosixPath('/x/scored.csv')]</pre>", "a PosixPath repr"),
        ("<pre>{'accounts': 2000,\n 'best': 400}</pre>", "a raw dict repr"),
        ("<td>16763293.219999999</td>", "a float with many decimals"),
        ("<table><tr><td>...</td></tr></table>", "a table cut with an ellipsis"),
        ("<table><tr><td>&lt;NA&gt;</td></tr></table>", "a missing value printed as"),
        ('<img alt="No description has been provided for this image">', "chart without alt text"),
        ("<p><code>run_dir</code>: where results go</p>", "parameter text"),
    ],
)
def test_scan_finds_what_a_reader_must_not_see(snippet, what):
    page = f"<html><head><title>Step 1 · 2026Q3</title></head><body>{snippet}</body></html>"
    found = reader.scan_html(page, name="p")
    assert len(found) == 1 and what in found[0]


def test_scan_passes_a_clean_page_and_flags_a_file_name_title():
    clean = "<html><head><title>Step 1 · 2026Q3</title></head><body><td>2.54</td><p>reports/2026Q3/</p></body></html>"
    assert reader.scan_html(clean) == []
    assert "file name" in reader.scan_html(clean.replace("Step 1 · 2026Q3", "01_best_customers"))[0]


def test_rendered_report_has_a_title_and_alt_text(tmp_path):
    from icp_helpers.reports.runner import render_html

    nb = new_notebook(
        cells=[
            new_markdown_cell("# Quarter drift\n\n## 2. Traits\n\nWhich traits moved."),
            new_markdown_cell("`from_quarter`, `out_dir`: for JupyterLab users", metadata={"tags": ["lab-only"]}),
            new_code_cell("x", outputs=[new_output("display_data", data={"image/png": "iVBORw0KGgo="})]),
        ],
        metadata={"papermill": {"parameters": {"from_quarter": "2026Q2", "to_quarter": "2026Q3"}}},
    )
    path = tmp_path / "06_quarter_drift.ipynb"
    nbformat.write(nb, path)
    html = render_html(path).read_text(encoding="utf-8")
    assert "<title>Quarter drift · 2026Q2 to 2026Q3</title>" in html
    assert 'alt="Chart: 2. Traits. Which traits moved."' in html
    assert "for JupyterLab users" not in html
    assert reader.scan_html(html) == []
