"""Inputs that live in an engine (``inputs.<table>.table``): the same quarter as from the files.

The sample's CSV files are loaded into a DuckDB database file with DuckDB's
own type detection (numbers, dates and booleans become typed columns, as in
a warehouse) and the quarter is run from those tables; Spark (local mode)
validates the deals from its own tables.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from icp_helpers.customers import features
from icp_helpers.data.config import DEFAULT_CONFIG, SAMPLE_DIR, ConfigError, load_config
from icp_helpers.data.loaders import LoadError, load_project

ENGINE_TABLES = ("accounts", "deals", "contacts", "prospects", "activities", "leads")


def _config_with_tables(tmp_path: Path, engine: dict, tables=ENGINE_TABLES) -> Path:
    config = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    config["data_dir"] = str(SAMPLE_DIR)
    config["reports_dir"] = str(tmp_path / "reports")
    config["engine"] = engine
    for table in tables:
        spec = {k: v for k, v in config["inputs"][table].items() if k != "path"}
        config["inputs"][table] = {**spec, "table": table}
    path = tmp_path / "icp.yml"
    path.write_text(
        yaml.safe_dump(config, sort_keys=False), encoding="utf-8"
    )  # key order kept: the value rule sums its weights in order
    return path


def _duckdb_file(tmp_path: Path) -> Path:
    import duckdb

    database = tmp_path / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        for table in ENGINE_TABLES:
            source = str(SAMPLE_DIR / f"{table}.csv").replace("'", "''")
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{source}')")
    return database


def test_a_table_input_with_a_path_too_is_refused(tmp_path):
    path = tmp_path / "icp.yml"
    path.write_text(
        yaml.safe_dump({"inputs": {"deals": {"path": "deals.csv", "table": "deals"}}}),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="either path"):
        load_config(path)


def test_a_missing_engine_table_is_named(tmp_path):
    path = _config_with_tables(
        tmp_path, {"database": str(_duckdb_file(tmp_path))}, tables=("accounts",)
    )
    config = load_config(path)
    config.inputs["accounts"].table = "main.no_such_table"
    with pytest.raises(LoadError, match="no_such_table"):
        load_project(config, tables=["accounts"], cache=False)


@pytest.mark.slow
def test_the_quarter_from_a_duckdb_file_equals_the_quarter_from_the_csv_files(tmp_path, sample_run):
    from icp_helpers.reports.runner import execute_notebook

    database = _duckdb_file(tmp_path)
    path = _config_with_tables(tmp_path, {"backend": "duckdb", "database": str(database)})
    typed = load_project(load_config(path), tables=["deals"], cache=False)
    assert typed.tables["deals"].summary["files"] == ["deals"]
    assert str(typed.tables["deals"].summary.get("engine")) == "duckdb"
    run_dir = tmp_path / "2026Q3"
    run_dir.mkdir()
    for name in ("01_best_customers", "02_interview_coding", "03_select_traits", "04_icp_template"):
        execute_notebook(
            name, config_path=str(path), quarter="2026Q3", run_dir=str(run_dir), html=False
        )
    selection = json.loads((run_dir / "selection.json").read_text(encoding="utf-8"))
    expected = json.loads((sample_run / "selection.json").read_text(encoding="utf-8"))
    assert selection["selected"] and selection == expected
    for name in ("scored_accounts.csv", "scored_prospects.csv"):
        assert (run_dir / name).read_bytes() == (sample_run / name).read_bytes(), name
    quarantine = pd.read_csv(run_dir / "quarantine" / "deals.csv")
    reference = pd.read_csv(sample_run / "quarantine" / "deals.csv")
    assert (
        quarantine["reason"].value_counts().to_dict()
        == reference["reason"].value_counts().to_dict()
    )


@pytest.mark.spark
def test_spark_from_the_config_validates_the_deals_of_its_tables(tmp_path):
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark cannot start")
    path = _config_with_tables(
        tmp_path, {"backend": "pyspark", "master": "local[1]"}, tables=("accounts", "deals")
    )
    config = load_config(path)
    con = features.connect(config)
    session = con._session
    assert session.sparkContext.master == "local[1]"
    for table in ("accounts", "deals"):
        session.read.csv(str(SAMPLE_DIR / f"{table}.csv"), header=True).createOrReplaceTempView(
            table
        )
    on_spark = load_project(config, tables=["deals"], cache=False)
    from_files = load_project(DEFAULT_CONFIG, tables=["deals"], cache=False)
    summary, reference = on_spark.tables["deals"].summary, from_files.tables["deals"].summary
    assert summary.get("engine") == "pyspark"
    assert summary["reasons"] == reference["reasons"] and reference["rows_quarantined"] > 0
    for key in ("rows_read", "rows_used", "rows_quarantined", "rows_out"):
        assert summary[key] == reference[key], key
    pd.testing.assert_frame_equal(
        on_spark.deals.sort_values("deal_id").reset_index(drop=True),
        from_files.deals.sort_values("deal_id").reset_index(drop=True),
    )
