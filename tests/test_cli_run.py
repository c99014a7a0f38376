"""``icp run`` checks its parameters before any kernel starts: one clear message, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from icp_helpers.cli import app
from icp_helpers.reports import runner


@pytest.fixture()
def project(tmp_path) -> Path:
    (tmp_path / "accounts.csv").write_text("account_id,industry,employees,country\nA1,retail,10,Italy\n")
    (tmp_path / "deals.csv").write_text(
        "deal_id,account_id,close_date,amount\nD0,A1,2025-10-15,90\nD1,A1,2026-01-15,100\nD2,A1,2026-06-20,80\n"
    )
    config = tmp_path / "icp.yml"
    config.write_text("reports_dir: reports\ninputs:\n  accounts: {path: accounts.csv}\n  deals: {path: deals.csv}\n")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in runner.NOTEBOOK_ORDER:
        (notebooks / f"{name}.ipynb").write_text("{}")
    return config


@pytest.fixture()
def no_kernels(monkeypatch):
    """Fail the test if anything tries to execute a notebook."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("a notebook was executed although the parameters are bad")

    monkeypatch.setattr("icp_helpers.reports.execution._execute", refuse)
    monkeypatch.setattr("icp_helpers.reports.batch.run_quarter", refuse)
    return calls


def invoke(*args: str):
    return CliRunner().invoke(app, ["run", *args])


def _notebooks(project: Path) -> list[str]:
    return ["--notebooks-dir", str(project.parent / "notebooks")]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--quarter", "2026-Q3"], "'2026-Q3' is not of the form YYYYQn"),
        (["--quarter", "2026Q5"], "is not of the form YYYYQn"),
        (["--quarters", "2026Q3:2025Q1"], "ends before it starts"),
        (["--quarters", "2026Q1:soon"], "'soon' is not of the form YYYYQn"),
        (["--quarter", "2026Q1", "--quarters", "2026Q1:2026Q2"], "either --quarter or --quarters"),
        (["--quarter", "2026Q1", "--workers", "0"], "--workers: must be at least 1"),
        (["--quarter", "2026Q1", "--drift", "sideways"], "--drift: 'sideways' is not one of"),
    ],
)
def test_bad_quarter_options(project, no_kernels, options, message):
    result = invoke("--config", str(project), *_notebooks(project), *options)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert no_kernels == []


def test_missing_config(tmp_path, no_kernels):
    result = invoke("--config", str(tmp_path / "nope.yml"), "--quarter", "2026Q1")
    assert result.exit_code == 2
    assert "config file not found" in result.output and "nope.yml" in result.output
    assert no_kernels == []


def test_config_that_does_not_validate(project, no_kernels):
    project.write_text(project.read_text() + "best_customers: {share: 3, colour: red}\n")
    result = invoke("--config", str(project), *_notebooks(project), "--quarter", "2026Q1")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "best_customers.share" in text and "best_customers.colour: unknown key" in text
    assert no_kernels == []


def test_config_naming_a_missing_input(project, no_kernels):
    (project.parent / "deals.csv").unlink()
    result = invoke("--config", str(project), *_notebooks(project), "--quarter", "2026Q1")
    assert result.exit_code == 2
    assert "inputs.deals.path: file not found" in result.output
    assert no_kernels == []


def test_missing_notebooks_folder_and_notebook(project, no_kernels, tmp_path):
    result = invoke("--config", str(project), "--notebooks-dir", str(tmp_path / "gone"), "--quarter", "2026Q1")
    assert result.exit_code == 2 and "--notebooks-dir: folder not found" in result.output
    (project.parent / "notebooks" / "03_select_traits.ipynb").unlink()
    result = invoke("--config", str(project), *_notebooks(project), "--quarter", "2026Q1")
    assert result.exit_code == 2
    assert "notebook not found" in result.output and "03_select_traits.ipynb" in result.output
    assert no_kernels == []


def test_range_needs_the_drift_notebook_unless_drift_is_off(project, no_kernels):
    result = invoke("--config", str(project), *_notebooks(project), "--quarters", "2026Q1:2026Q2")
    assert result.exit_code == 2 and "06_quarter_drift.ipynb" in result.output
    assert no_kernels == []


def test_all_problems_in_one_message(tmp_path, no_kernels):
    result = invoke("--config", str(tmp_path / "nope.yml"), "--quarter", "26Q1",
                    "--notebooks-dir", str(tmp_path / "gone"))
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "config file not found" in text and "YYYYQn" in text and "folder not found" in text
    assert no_kernels == []


def test_check_run_resolves_a_range(project):
    plan = runner.check_run(project, quarters="2025Q4:2026Q2", notebooks_dir=project.parent / "notebooks",
                            drift="none")
    assert plan.quarters == ["2025Q4", "2026Q1", "2026Q2"]
    assert plan.reports_dir == project.parent / "reports"
    assert runner.drift_pairs(plan.quarters) == [("2025Q4", "2026Q1"), ("2026Q1", "2026Q2")]
    assert runner.drift_pairs(plan.quarters, mode="ends") == [("2025Q4", "2026Q2")]
    assert runner.drift_pairs(plan.quarters, mode="none") == []
