"""Inputs that live in an engine (``inputs.<table>.table``): the same quarter as from the files.

The sample's CSV files are loaded into a DuckDB database file with DuckDB's
own type detection (numbers, dates and booleans become typed columns, as in
a warehouse) and the quarter is run from those tables; Spark (local mode)
validates the deals from its own tables.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from icp_helpers.customers import features
from icp_helpers.data.config import DEFAULT_CONFIG, SAMPLE_DIR, ConfigError, load_config
from icp_helpers.data.loaders import LoadError, load_project
from icp_helpers.data.tables import LoadedTable

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


def _steps_1_to_4_equal_the_csv_run(path: Path, tmp_path: Path, sample_run: Path) -> Path:
    """Notebooks 01-04 from ``path``; their selection and scored exports equal the CSV run's."""
    from icp_helpers.reports.runner import execute_notebook

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
    return run_dir


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


def test_deals_kept_in_a_sql_engine_are_its_temporary_table(tmp_path):
    """The path of a database (``backend: url``), DuckDB standing in for the warehouse.

    Asked to keep the deals rather than write them as Parquet, the engine
    holds them as a temporary table, and they are the deals the Parquet path
    gives, with the same quarantine and warnings.
    """
    from icp_helpers.data import engine, engine_load

    path = _config_with_tables(
        tmp_path, {"database": str(_duckdb_file(tmp_path))}, tables=("accounts", "deals")
    )
    config = load_config(path)
    written = load_project(config, tables=["accounts", "deals"], cache=False)
    con = engine.connect(config)
    kept = engine_load._load_deals(
        config, accounts_ids=written.accounts["account_id"], con=con, rows_dir=None
    )
    assert kept.parquet is None and not kept.materialised
    assert kept.engine_table.get_backend() is con
    temporary = con.raw_sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    assert any(name.startswith("icp_deals_") for (name,) in temporary)
    reference = written.tables["deals"]
    assert kept.summary == reference.summary and reference.summary["rows_quarantined"] > 0
    pd.testing.assert_frame_equal(kept.quarantine, reference.quarantine)
    pd.testing.assert_frame_equal(kept.frame, reference.frame)


def test_the_quarter_check_counts_table_deals_where_they_live(tmp_path, monkeypatch):
    """``icp run``'s quarter check on ``table:`` deals never fetches them into pandas.

    The counts per stage and quarter from the engine's Parquet file and from
    deals kept as an engine table equal those of the same validated deals
    counted in pandas (a table has no raw file to read columns from).
    """
    from icp_helpers.data import engine, engine_load, loaders

    path = _config_with_tables(
        tmp_path, {"database": str(_duckdb_file(tmp_path))}, tables=("accounts", "deals")
    )
    config = load_config(path)

    def counted_in_pandas(deals):
        closed = deals[deals["stage"].isin(["won", "lost"])]
        return loaders._count_closed(closed["close_date"], closed["stage"])

    expected = counted_in_pandas(loaders.load_table(config, "deals").frame)
    assert set(expected["stage"]) == {"won", "lost"} and expected["deals"].sum() > 100

    accounts_ids = load_project(config, tables=["accounts"], cache=False).accounts["account_id"]
    kept = engine_load._load_deals(
        config, accounts_ids=accounts_ids, con=engine.connect(config), rows_dir=None
    )
    assert kept.engine_table is not None and not kept.materialised
    frame_of = LoadedTable.frame.fget

    def deals_never_fetched(self):
        if (self.summary or {}).get("table") == "deals":
            raise AssertionError("the deals were fetched into pandas")
        return frame_of(self)

    with monkeypatch.context() as patch:
        patch.setattr(LoadedTable, "frame", property(deals_never_fetched))
        counted = loaders.closed_deal_dates(config)
        from_engine_table = loaders._count_validated(kept)
    pd.testing.assert_frame_equal(counted, expected)
    kept_expected = counted_in_pandas(kept.frame)
    pd.testing.assert_frame_equal(from_engine_table, kept_expected)
    in_pandas = loaders._count_validated(LoadedTable(frame=kept.frame, quarantine=kept.quarantine))
    pd.testing.assert_frame_equal(in_pandas, kept_expected)
    assert len(kept_expected) > 10 and kept_expected["deals"].sum() > 1000


@pytest.mark.slow
def test_the_quarter_from_a_duckdb_file_equals_the_quarter_from_the_csv_files(tmp_path, sample_run):
    database = _duckdb_file(tmp_path)
    path = _config_with_tables(tmp_path, {"backend": "duckdb", "database": str(database)})
    typed = load_project(load_config(path), tables=["deals"], cache=False)
    assert typed.tables["deals"].summary["files"] == ["deals"]
    assert str(typed.tables["deals"].summary.get("engine")) == "duckdb"
    run_dir = _steps_1_to_4_equal_the_csv_run(path, tmp_path, sample_run)
    quarantine = pd.read_csv(run_dir / "quarantine" / "deals.csv")
    reference = pd.read_csv(sample_run / "quarantine" / "deals.csv")
    assert (
        quarantine["reason"].value_counts().to_dict()
        == reference["reason"].value_counts().to_dict()
    )


@pytest.fixture(scope="module")
def spark_config(tmp_path_factory):
    """A config whose accounts and deals are Spark tables (local[1]), the session it starts."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark cannot start")
    tmp_path = tmp_path_factory.mktemp("spark_tables")
    path = _config_with_tables(
        tmp_path, {"backend": "pyspark", "master": "local[1]"}, tables=("accounts", "deals")
    )
    config = load_config(path)
    session = features.connect(config)._session
    session.conf.set("spark.sql.shuffle.partitions", "2")  # tiny data: few tasks
    for table in ("accounts", "deals"):
        # every column as text, as a CSV export published into the catalog
        session.read.csv(str(SAMPLE_DIR / f"{table}.csv"), header=True).createOrReplaceTempView(
            table
        )
    # validated once for the tests below: the plan of the validation is what Spark takes long on
    on_spark = load_project(config, tables=["accounts", "deals", "contacts"], cache=False)
    yield config, session, on_spark
    session.stop()


def _in_nanoseconds(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates in one unit: an engine table's accounts come back in ns, the CSV files' in us."""
    dates = [c for c in frame.columns if pd.api.types.is_datetime64_dtype(frame[c])]
    return frame.astype({c: "datetime64[ns]" for c in dates})


@pytest.mark.spark
def test_spark_from_the_config_validates_the_deals_of_its_tables(spark_config):
    config, session, on_spark = spark_config
    assert session.sparkContext.master == "local[1]"
    from_files = load_project(DEFAULT_CONFIG, tables=["deals"], cache=False)
    summary, reference = on_spark.tables["deals"].summary, from_files.tables["deals"].summary
    assert summary.get("engine") == "pyspark"
    assert summary["reasons"] == reference["reasons"] and reference["rows_quarantined"] > 0
    for key in ("rows_read", "rows_used", "rows_quarantined", "rows_out"):
        assert summary[key] == reference[key], key
    assert summary["warnings"] == reference["warnings"]
    # the frame, fetched from Spark on first access, is the deals of the files row for row
    # (through a table of its own: the project's deals stay unread for the test below)
    kept = on_spark.tables["deals"]
    fetched = LoadedTable(summary=kept.summary, engine_table=kept.engine_table).frame
    pd.testing.assert_frame_equal(fetched, from_files.deals)


@pytest.mark.spark
def test_deals_of_a_spark_table_stay_in_spark_through_every_deal_step(spark_config, tmp_path):
    from icp_helpers.customers import best, roles
    from icp_helpers.data.artifacts import resolve_run
    from icp_helpers.data.quarters import Quarter
    from icp_helpers.leads.cuts import run_sales_cuts
    from icp_helpers.traits.validation import run_backtest

    config, _, on_spark = spark_config
    quarter = Quarter.parse("2026Q3")
    from_files = load_project(DEFAULT_CONFIG, tables=["accounts", "deals", "contacts"], cache=False)
    loaded = on_spark.tables["deals"]
    assert on_spark.deals_table().get_backend().name == "pyspark"
    assert on_spark.backend is on_spark.deals_table().get_backend()

    results = {}
    for name, project in (("spark", on_spark), ("files", from_files)):
        run_dir = tmp_path / name
        run_dir.mkdir()
        run = resolve_run(str(project.config.source), str(quarter), str(run_dir))
        table = features.project_features(project, quarter=quarter, config=project.config)
        scores = best.best_customers(table, rule=project.config.best_customers)
        table.to_parquet(run_dir / "features.parquet")
        scores.to_parquet(run_dir / "best_customers.parquet")
        record = best.step1_record(
            quarter=quarter,
            window=run.window,
            features=table,
            scores=scores,
            rule=project.config.best_customers,
            deals=project.deals_table(),
        )
        backtest = run_backtest(project, quarter=quarter, config=project.config)
        results[name] = (
            table,
            scores,
            record,
            roles.project_roles(project)["accounts"],
            backtest.metrics,
            backtest.held_out,
            run_sales_cuts(project, run),
        )

    # not one deal of the Spark tables became a pandas frame
    assert not loaded.materialised and on_spark._deals is None
    spark, files = results["spark"], results["files"]
    pd.testing.assert_frame_equal(
        _in_nanoseconds(spark[0]), _in_nanoseconds(files[0]), check_exact=False, rtol=1e-9
    )
    pd.testing.assert_frame_equal(spark[1], files[1])
    assert spark[2]["counts"] == files[2]["counts"] and spark[2]["counts"]["deals_loaded"] > 0
    pd.testing.assert_frame_equal(spark[3], files[3])
    pd.testing.assert_frame_equal(spark[4], files[4], check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(spark[5], files[5], check_exact=False, rtol=1e-9)
    spark_cuts, file_cuts = spark[6], files[6]
    assert len(file_cuts.summary) > 0
    pd.testing.assert_frame_equal(
        spark_cuts.summary, file_cuts.summary, check_exact=False, rtol=1e-9
    )
    pd.testing.assert_frame_equal(
        spark_cuts.spend_best, file_cuts.spend_best, check_exact=False, rtol=1e-9
    )
    pd.testing.assert_frame_equal(spark_cuts.heatmap, file_cuts.heatmap)


#: Creates the sample's accounts and deals as catalog tables (every column text, as published).
_CREATE_TABLES = r"""
import sys
from icp_helpers.data.engine import connect
session = connect({"backend": "pyspark", "master": "local[1]"})._session
for table in ("accounts", "deals"):
    path = f"{sys.argv[1]}/{table}.csv".replace("'", "\\'")
    session.sql(f"CREATE TABLE {table} USING csv OPTIONS (path '{path}', header 'true')")
session.stop()
"""


@pytest.mark.slow
@pytest.mark.spark
def test_the_quarter_from_spark_tables_equals_the_quarter_from_the_csv_files(
    tmp_path, sample_run, monkeypatch
):
    """``icp run``'s way: each notebook's kernel starts its own local Spark session.

    The tables live in a Hive metastore that every session reads through
    ``spark-defaults.conf`` in ``$SPARK_CONF_DIR``, as on a cluster's catalog.
    """
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark cannot start")
    conf = tmp_path / "spark-conf"
    conf.mkdir()
    settings = {
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": tmp_path / "warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={tmp_path / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.stream.error.file={tmp_path / 'derby.log'}",
        "spark.sql.shuffle.partitions": 2,
    }
    (conf / "spark-defaults.conf").write_text(
        "".join(f"{key} {value}\n" for key, value in settings.items()), encoding="utf-8"
    )
    monkeypatch.setenv("SPARK_CONF_DIR", str(conf))
    # a process of its own: the embedded metastore admits one Spark driver at a time
    subprocess.run(
        [sys.executable, "-c", _CREATE_TABLES, str(SAMPLE_DIR)],
        check=True,
        cwd=tmp_path,
        env=os.environ.copy(),
    )
    path = _config_with_tables(
        tmp_path, {"backend": "pyspark", "master": "local[1]"}, tables=("accounts", "deals")
    )
    run_dir = _steps_1_to_4_equal_the_csv_run(path, tmp_path, sample_run)
    step1 = json.loads((run_dir / "step1.json").read_text(encoding="utf-8"))
    assert (
        step1["counts"]
        == json.loads((sample_run / "step1.json").read_text(encoding="utf-8"))["counts"]
    )
