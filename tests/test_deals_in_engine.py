"""The validated deals stay in the engine: a Parquet file the steps query, a frame only when asked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

from icp_helpers.customers import best, features, roles
from icp_helpers.data import engine
from icp_helpers.data.config import SAMPLE_DIR, load_config
from icp_helpers.data.loaders import load_project

QUARTER = "2026Q3"


def sample_copy(tmp_path: Path, **extra) -> Path:
    """The bundled sample with a config whose reports (and table cache) go to ``tmp_path/reports``."""
    shutil.copytree(SAMPLE_DIR, tmp_path / "data")
    config = yaml.safe_load((Path(__file__).parents[1] / "icp.yml").read_text(encoding="utf-8"))
    config.update(data_dir="data", reports_dir="reports", **extra)
    path = tmp_path / "icp.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _project(path: Path, **options):
    return load_project(path, tables=["accounts", "deals", "contacts"], **options)


def test_step_one_reads_the_deals_from_their_parquet_file_and_never_as_a_frame(tmp_path):
    path = sample_copy(tmp_path, engine={"validation": "engine"})
    config = load_config(path)
    project = _project(path)
    loaded = project.tables["deals"]
    assert loaded.parquet is not None and loaded.parquet.is_file()
    assert loaded.parquet.parent.parent == config.reports_path / ".cache" / "tables"
    table = features.project_features(project, quarter=QUARTER, config=config)
    roles.project_roles(project)
    scores = best.best_customers(table, rule=config.best_customers)
    window = (pd.Timestamp("2025-10-01"), pd.Timestamp("2026-10-01"))
    record = best.step1_record(
        quarter=QUARTER, window=window, features=table, scores=scores, deals=project.deals_table()
    )
    assert not loaded.materialised, "a step of notebook 01 made the deals a pandas frame"
    # an engine table over the file, not a memtable of a frame
    assert project.deals_table().op().name.startswith("ibis_read_parquet")
    # the same results as from the deals as a frame (read on access)
    frame = project.deals
    assert loaded.materialised and len(frame) == record["counts"]["deals_loaded"]
    close = frame["close_date"]
    assert record["counts"]["deals_in_window"] == int(((close >= window[0]) & (close < window[1])).sum())
    assert record["counts"]["deals_after_window"] == int((close >= window[1]).sum())
    from_frame = features.account_features(
        frame, project.accounts, project.contacts, quarter=QUARTER,
        lookback_quarters=config.analysis.lookback_quarters,
    )
    pd.testing.assert_frame_equal(table, from_frame)


def test_project_roles_from_the_engine_equal_the_roles_from_the_frame(tmp_path):
    path = sample_copy(tmp_path, engine={"validation": "engine"})
    project = _project(path)
    on_engine = roles.project_roles(project)
    assert not project.tables["deals"].materialised
    deals = project.deals
    won = deals[deals["stage"] == "won"]
    value = won["amount"].groupby(won["account_id"].astype(str)).sum()
    accounts = project.accounts.assign(
        won_value=project.accounts["account_id"].astype(str).map(value).fillna(0.0).to_numpy()
    )
    expected = roles.infer_roles(accounts, overrides=roles.config_roles(project.config, "accounts"))
    expected = expected[expected["column"] != "won_value"].reset_index(drop=True)
    pd.testing.assert_frame_equal(on_engine["accounts"], expected)


def test_cached_deals_are_parquet_and_come_back_unread(tmp_path):
    path = sample_copy(tmp_path)  # pandas validation (small files): the frame is written as Parquet
    fresh = _project(path)
    entry = fresh.tables["deals"].parquet
    assert entry is not None and entry.name == "frame.parquet"
    again = _project(path)
    loaded = again.tables["deals"]
    assert loaded.parquet == entry and not loaded.materialised
    pd.testing.assert_frame_equal(again.deals, fresh.deals)
    # no scratch folder is left beside the entries
    folder = entry.parent.parent
    assert not [p for p in folder.iterdir() if p.name.startswith(".rows-")]


def test_auto_validates_big_deals_files_on_the_engine_and_small_ones_in_pandas(tmp_path):
    small = _project(sample_copy(tmp_path / "small", cache_tables=False))
    assert "engine" not in small.tables["deals"].summary
    size_mb = (tmp_path / "small" / "data" / "deals.csv").stat().st_size / 1e6
    big = _project(
        sample_copy(tmp_path / "big", cache_tables=False, engine={"engine_min_mb": size_mb / 2})
    )
    assert big.tables["deals"].summary["engine"] == "duckdb"
    assert not big.tables["deals"].materialised
    pd.testing.assert_frame_equal(big.deals, small.deals)
    pd.testing.assert_frame_equal(big.tables["deals"].quarantine, small.tables["deals"].quarantine)


def test_without_the_cache_the_engine_writes_the_deals_in_a_temporary_folder_removed_with_them(tmp_path):
    path = sample_copy(
        tmp_path, cache_tables=False,
        engine={"validation": "engine", "temp_directory": str(tmp_path / "spill")},
    )
    (tmp_path / "spill").mkdir()
    project = _project(path)
    parquet = project.tables["deals"].parquet
    assert parquet.is_file() and parquet.parent.parent == tmp_path / "spill"
    assert not (tmp_path / "reports" / ".cache").exists()
    del project
    import gc

    gc.collect()
    assert not parquet.parent.exists()


def test_duckdb_memory_threads_and_spill_folder_come_from_the_config(tmp_path):
    config = load_config(
        sample_copy(
            tmp_path,
            engine={"memory_limit": "512MB", "threads": 1, "temp_directory": str(tmp_path / "spill")},
        )
    )
    con = engine.connect(config)

    def setting(name):
        return con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0]

    assert setting("threads") == 1
    assert setting("temp_directory") == str(tmp_path / "spill")
    assert setting("memory_limit") == "488.2 MiB"


def test_the_deals_table_outlives_its_project_and_takes_the_folder_with_it(tmp_path):
    """A step may keep only the engine table: its Parquet file stays until the table goes."""
    import gc

    path = sample_copy(
        tmp_path, cache_tables=False,
        engine={"validation": "engine", "temp_directory": str(tmp_path / "spill")},
    )
    (tmp_path / "spill").mkdir()
    project = _project(path)
    parquet, expected = project.tables["deals"].parquet, project.tables["deals"].summary["rows_out"]
    table = project.deals_table()
    del project
    gc.collect()
    assert int(table.count().execute()) == expected
    del table
    gc.collect()
    assert not parquet.parent.exists()
