"""A step whose inputs the config lacks is listed as not applicable, never failed."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from icp_helpers.reports.runner import run_quarter


def test_lead_scoring_without_activities_or_counts_is_not_applicable(tmp_path):
    (tmp_path / "accounts.csv").write_text("account_id,industry,employees,country\nA1,retail,10,Italy\n")
    (tmp_path / "deals.csv").write_text("deal_id,account_id,close_date,amount\nD1,A1,2026-03-15,100\n")
    (tmp_path / "leads.csv").write_text("lead_id,created\nL1,2026-01-02\n")
    config = tmp_path / "icp.yml"
    config.write_text(
        "reports_dir: reports\ninputs:\n  accounts: {path: accounts.csv}\n  deals: {path: deals.csv}\n"
        "  leads: {path: leads.csv}\n"
    )
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = new_notebook(
        cells=[
            new_code_cell('config_path: str = ""\nquarter: str = ""\nrun_dir: str = ""',
                          metadata={"tags": ["parameters"]}),
            new_code_cell("print('step one ran')"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, notebooks / "01_tiny.ipynb")
    # a lead-scoring notebook that would fail as the old runner executed it
    failing = new_notebook(cells=[new_code_cell("raise RuntimeError('counts_input is false')")],
                           metadata=nb.metadata)
    nbformat.write(failing, notebooks / "05_lead_scoring.ipynb")

    result = run_quarter(config, "2026Q1", notebooks=["01_tiny", "05_lead_scoring"], notebooks_dir=notebooks)

    assert result.ok, result.error
    assert set(result.not_applicable) == {"05_lead_scoring"}
    why = result.not_applicable["05_lead_scoring"]
    assert "inputs.activities" in why and "lead_scoring.counts_input" in why
    record = json.loads((result.run_dir / "run.json").read_text())
    assert record["status"] == "ok" and [nb["name"] for nb in record["notebooks"]] == ["01_tiny"]
    index = (result.run_dir / "index.html").read_text(encoding="utf-8")
    assert ">not applicable<" in index and "inputs.activities" in index
    assert not (result.run_dir / "05_lead_scoring.html").exists()
