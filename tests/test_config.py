"""The project config: validation messages, path resolution, input options."""

from __future__ import annotations

from pathlib import Path

import pytest

from icp_helpers.data.config import (
    DEFAULT_CONFIG,
    ConfigError,
    InputSpec,
    ProjectConfig,
    load_config,
    resolve_config_path,
    run_dir_for,
)


def _write(tmp_path: Path, text: str, files: tuple[str, ...] = ("a.csv", "d.csv")) -> Path:
    for name in files:
        (tmp_path / name).write_text("x\n1\n", encoding="utf-8")
    path = tmp_path / "icp.yml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """
data_dir: .
inputs:
  accounts: {path: a.csv}
  deals: {path: d.csv}
"""


def test_valid_config_resolves_paths_relative_to_the_file(tmp_path, monkeypatch):
    path = _write(tmp_path, BASE)
    monkeypatch.chdir("/")
    config = load_config(path)
    assert config.input_paths("deals") == [tmp_path / "d.csv"]
    assert config.data_path == tmp_path.resolve()
    assert run_dir_for(config, "2026Q3") == config.reports_path / "2026Q3"
    assert run_dir_for(config, "2026Q3", tmp_path / "x") == (tmp_path / "x").resolve()


def test_unknown_top_level_key_names_key_and_allowed_keys(tmp_path):
    path = _write(tmp_path, BASE + "anlysis: {lookback_quarters: 4}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "anlysis: unknown key" in message
    assert "did you mean 'analysis'" in message
    assert "allowed here:" in message and "inputs" in message and "best_customers" in message


def test_unknown_key_inside_an_input_lists_the_input_options(tmp_path):
    path = _write(tmp_path, BASE.replace("{path: a.csv}", "{path: a.csv, colums: {x: y}}"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "inputs.accounts.colums: unknown key" in message
    assert "did you mean 'columns'" in message
    for option in ("columns", "derive", "defaults", "preset", "encoding", "dayfirst"):
        assert option in message


def test_wrong_type_names_key_and_value(tmp_path):
    path = _write(tmp_path, BASE + "analysis: {lookback_quarters: four}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "analysis.lookback_quarters" in message
    assert "'four'" in message


def test_unknown_table_and_empty_inputs(tmp_path):
    path = _write(tmp_path, BASE + "  orders: {path: d.csv}\n")
    with pytest.raises(ConfigError, match=r"unknown table\(s\) \['orders'\]; allowed: accounts"):
        load_config(path)
    path = _write(tmp_path, "inputs: {}\n")
    with pytest.raises(ConfigError, match="inputs: .*at least one input table"):
        load_config(path)


def test_missing_input_file_is_named(tmp_path):
    path = _write(tmp_path, BASE.replace("d.csv", "deals_2026.csv"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "inputs.deals.path: file not found" in str(info.value)
    assert "deals_2026.csv" in str(info.value)
    assert load_config(path, check_files=False).inputs["deals"].paths() == ["deals_2026.csv"]


def test_missing_transcripts_folder_is_named(tmp_path):
    path = _write(tmp_path, BASE + "  interviews: {transcripts: talks}\n")
    with pytest.raises(ConfigError, match="inputs.interviews.transcripts: folder not found"):
        load_config(path)


def test_missing_and_invalid_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("inputs: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping of keys at the top level"):
        load_config(bad)


def test_unknown_preset_lists_the_presets(tmp_path):
    path = _write(tmp_path, BASE.replace("{path: a.csv}", "{path: a.csv, preset: pipedrive}"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "unknown preset 'pipedrive'" in str(info.value)
    assert "hubspot" in str(info.value) and "salesforce" in str(info.value)
    assert InputSpec(preset="my_crm.yml").preset == "my_crm.yml"


def test_delimiter_accepts_an_escaped_tab_and_rejects_words():
    assert InputSpec(delimiter="\\t").delimiter == "\t"
    assert InputSpec(delimiter=";").delimiter == ";"
    with pytest.raises(ValueError, match="one character"):
        InputSpec(delimiter="comma")


def test_default_config_path_and_groups_range():
    assert resolve_config_path(None) == DEFAULT_CONFIG
    with pytest.raises(ValueError, match="k_max must be at least"):
        ProjectConfig.model_validate(
            {"inputs": {"accounts": {}}, "groups": {"k_min": 5, "k_max": 3}}
        )


def test_a_notebook_whose_inputs_are_missing_stops_with_the_tables_named(tmp_path):
    from icp_helpers.data.artifacts import resolve_run
    from icp_helpers.data.config import ConfigError, load_config

    (tmp_path / "leads.csv").write_text("lead_id\nL1\n", encoding="utf-8")
    config = tmp_path / "leads_only.yml"
    config.write_text("data_dir: .\ninputs:\n  leads:\n    path: leads.csv\n", encoding="utf-8")
    loaded = load_config(config)
    assert loaded.missing_inputs("02_interview_coding") == ["interviews", "codebook"]
    # leads without an event log or count columns: nothing to score them on
    assert loaded.missing_inputs("05_lead_scoring") == ["activities"]
    with pytest.raises(ConfigError, match=r"05_lead_scoring needs inputs\.activities \(or lead_scoring\.counts_input"):
        resolve_run(str(config), "2026Q3", str(tmp_path / "run"), notebook="05_lead_scoring")
    config.write_text(config.read_text() + "lead_scoring: {counts_input: true}\n", encoding="utf-8")
    loaded = load_config(config)
    assert loaded.missing_inputs("05_lead_scoring") == []
    with pytest.raises(ConfigError, match=r"02_interview_coding needs inputs\.interviews, inputs\.codebook"):
        resolve_run(str(config), "2026Q3", str(tmp_path / "run"), notebook="02_interview_coding")
    run = resolve_run(str(config), "2026Q3", str(tmp_path / "run"), notebook="05_lead_scoring")
    assert str(run.quarter) == "2026Q3"
