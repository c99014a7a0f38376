"""``icp validate``: a reconciled summary on good data, one clear message (exit 2) on bad."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from icp_helpers.cli import app
from icp_helpers.data.config import DEFAULT_CONFIG, PROJECT_ROOT, SAMPLE_DIR
from icp_helpers.data.loaders import LoadError, load_project

MAVEN_CONFIG = PROJECT_ROOT / "examples" / "maven_crm.yml"
MAVEN_DATA = PROJECT_ROOT.parent / "shared" / "datasets" / "maven_crm"


def _flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


def _project(tmp_path: Path, deals: str) -> Path:
    (tmp_path / "accounts.csv").write_text(
        "account_id,industry,employees,country\nA1,deli,3,Italy\n", encoding="utf-8"
    )
    (tmp_path / "deals.csv").write_text(deals, encoding="utf-8")
    config = tmp_path / "icp.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": ".",
                "inputs": {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.csv"}},
            }
        ),
        encoding="utf-8",
    )
    return config


def test_validate_bad_file_exits_2_with_one_clear_message(tmp_path):
    config = _project(tmp_path, "deal_id,account_id,amount\nD1,A1,5\n")
    result = CliRunner().invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 2
    output = _flat(result.output)
    assert "error:" in output
    assert "deals.csv: required column 'close_date' missing" in output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, LoadError)  # handled, not raised


def test_validate_debug_shows_the_exception(tmp_path):
    config = _project(tmp_path, "deal_id,account_id,close_date,amount\nD1,A1,soon,5\n")
    result = CliRunner().invoke(app, ["--debug", "validate", "--config", str(config)])
    assert isinstance(result.exception, LoadError)
    assert "cannot be read" in str(result.exception)


def test_validate_prints_reconciled_summary_with_quarantine_reasons(tmp_path):
    deals = "deal_id,account_id,close_date,amount\nD1,A1,2024-01-05,5\nD2,A9,2024-01-06,5\n"
    result = CliRunner().invoke(app, ["validate", "--config", str(_project(tmp_path, deals))])
    assert result.exit_code == 0, result.output
    output = _flat(result.output)
    assert "rows quarantined │ 1" in output
    assert "quarantined: unknown account_id │ 1" in output
    assert "2 tables loaded, 1 rows quarantined, every table reconciled." in output


def test_validate_on_the_sample_quarantines_exactly_the_planted_rows():
    result = CliRunner().invoke(app, ["validate", "--config", str(DEFAULT_CONFIG)])
    assert result.exit_code == 0, result.output
    assert "every table reconciled" in _flat(result.output)
    project = load_project(DEFAULT_CONFIG, tables=["deals"])
    quarantine = project.quarantine["deals"]
    truth = yaml.safe_load((SAMPLE_DIR / "truth.yml").read_text(encoding="utf-8"))
    planted = {(b["deal_id"], b["reason"]) for b in truth["bad_rows"]["deals"]}
    assert set(zip(quarantine["deal_id"], quarantine["reason"], strict=True)) == planted
    # source_row is the line of the file the row is on (header = line 1)
    lines = (SAMPLE_DIR / "deals.csv").read_text(encoding="utf-8").splitlines()
    for row, deal_id in zip(quarantine["source_row"], quarantine["deal_id"], strict=True):
        assert lines[row - 1].startswith(deal_id + ",")
    assert project.summary["reconciled"].all()


@pytest.mark.skipif(not MAVEN_DATA.is_dir(), reason="shared Maven CRM dataset not available")
def test_validate_maven_example_names_the_real_problems():
    result = CliRunner().invoke(app, ["validate", "--config", str(MAVEN_CONFIG)])
    assert result.exit_code == 0, result.output
    output = _flat(result.output)
    assert "rows read │ 8,800" in output
    assert "quarantined: empty required field account_id │ 1,425" in output
    assert "'technolgy' (12 rows) looks like a misspelling of 'technology'" in output
    assert "'Philipines' (1 row) looks like a misspelling of 'Philippines'" in output
    assert "'GTXPro' (1,258 rows) looks like 'GTX Pro' with the spaces missing" in output
    assert "every table reconciled" in output


def test_validate_prints_each_column_role_with_its_reason(tmp_path):
    config = _project(tmp_path, "deal_id,account_id,close_date,amount\nD1,A1,2026-01-05,100\n")
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["inputs"]["accounts"]["roles"] = {"country": "ignore", "contry": "who"}
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "accounts: column roles" in out
    assert "account_id" in out and "country" in out
    assert re.search(r"country │ ignore \(config\) │ set in the config", out)
    assert "roles set for contry, not a column of accounts" in out


def test_validate_says_whom_the_profile_describes(tmp_path):
    (tmp_path / "people.csv").write_text("id,Sex,Year_Birth\n1,F,1980\n2,M,1990\n", encoding="utf-8")
    config = tmp_path / "icp.yml"
    config.write_text(
        yaml.safe_dump({"inputs": {"accounts": {"path": "people.csv", "columns": {"id": "account_id"}}}}),
        encoding="utf-8",
    )
    outcome = CliRunner().invoke(app, ["validate", "--config", str(config)])
    assert outcome.exit_code == 0, outcome.output
    assert "profile: consumers (b2c): customers and demographics (inferred from the columns)" in _flat(
        outcome.output
    )
