"""Deals validated on the engine agree with the pandas path row for row.

Each case loads the same deals twice, with ``engine.validation: engine`` and
``pandas``, and compares the clean table, the quarantine (as written to
``quarantine/deals.csv``) and the reconciliation.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
import yaml

from icp_helpers.data import engine_load
from icp_helpers.data.config import PROJECT_ROOT, load_config
from icp_helpers.data.formulas import safe_frame
from icp_helpers.data.loaders import load_table

DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"

ACCOUNTS = "account_id,industry,employees,country\n" + "".join(
    f"A{i},retail,{10 + i},Italy\n" for i in range(1, 21)
)

HOSTILE_DEALS = [
    "deal_id,account_id,close_date,amount,stage,quantity,product,created_date,sales_rep,region_code",
    "D1,A1,2025-01-15,100.5,Closed Won,3,Widget,2024-12-01,Ann,10",
    ' D2 ,A2,2025-01-16 14:05,"1,234.50",won,2,widget,2024-12-02,ann,11',
    "D3,A3,31/03/2025,€12,lost,x,WIDGET,not a date,Bob,12",
    "D4,A4,2025-02-30,(5),open,1,Gadget,2024-12-03,Bob,13",
    "D5,A5,1900-01-01,inf,won,1,Gadget,,Cy,14",
    "D6,A6,2031-01-01,12,open,1,Gadget,,Cy,15",
    "D7,A7,2031-01-01,12,won,1,Gadget,,Cy,16",
    "D8,A99,2025-03-01,50,won,1,Gadget,,Cy,17",
    ",A8,2025-03-01,50,won,1,Gadget,,Cy,18",
    "D9,A9,2025-03-01,-3,won,1,Gadget,,Cy,19",
    "D1,A10,2025-03-01,7,won,1,Gadget,,Cy,20",
    "D10,A10,n/a,1e400,won,1,Gadget,,Cy,21",
    "D11,A11,2025-03-02,9e20,won,-2,Gadget,,Cy,22",
    "D12,A12,,,open,1,Gadget,,Cy,23",
    "D13,A13,,,won,1,Gadget,,Cy,24",
    "D14,A14,12/04/2025,1.5,Prospecting,1,Gadget,,Cy,25",
    "D15,A15,2025-04-01,NaN,won,1,gadget,2025-13-01,Cy,26",
    "D16, A16,2025-04-01,7.25,won,1,Gadget,,Cy,27",
    "D17,A17,2025-04-01,  8 ,won,1,Gadget,,Cy,28",
    "D4,A4,2025-02-03,4,won,1,Gadget,,Cy,30",
]


def _project(
    tmp_path: Path, deals: str | None = None, *, deals_spec=None, files=None, **extra
) -> Path:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    if deals is not None:
        (tmp_path / "deals.csv").write_text(deals, encoding="utf-8", newline="")
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content, encoding="utf-8", newline="")
    config = {
        "data_dir": ".",
        "cache_tables": False,
        "inputs": {
            "accounts": {"path": "accounts.csv"},
            "deals": deals_spec or {"path": "deals.csv"},
        },
        "engine": {"validation": "engine"},  # the default is pandas
        **extra,
    }
    path = tmp_path / "icp.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _both(config_path: Path):
    config = load_config(config_path)
    accounts = load_table(config, "accounts")
    ids = accounts.frame["account_id"]
    engine = engine_load.load_deals(config, accounts_ids=ids)
    config.engine.validation = "pandas"
    pandas = load_table(config, "deals", accounts_ids=ids)
    return engine, pandas


def _csv(frame: pd.DataFrame) -> str:
    return safe_frame(frame).to_csv(index=False)


def assert_same(engine, pandas) -> None:
    assert _csv(engine.quarantine) == _csv(pandas.quarantine)
    pd.testing.assert_frame_equal(engine.quarantine, pandas.quarantine, check_dtype=False)
    pd.testing.assert_frame_equal(engine.frame, pandas.frame)
    for key, value in pandas.summary.items():
        assert engine.summary[key] == value, key


def test_sample_deals_validated_on_the_engine_equal_the_pandas_path(sample_config_path):
    engine, pandas = _both(sample_config_path)
    assert engine.summary["engine"] == "duckdb"
    assert pandas.summary["rows_quarantined"] > 0
    assert_same(engine, pandas)


def test_hostile_deals_get_the_same_quarantine_and_warnings_on_the_engine(tmp_path):
    engine, pandas = _both(_project(tmp_path, "\n".join(HOSTILE_DEALS) + "\n"))
    reasons = pandas.summary["reasons"]
    for reason in (
        "duplicate deal_id",
        "unknown account_id",
        "negative amount",
        "non-numeric amount",
        "implausibly large amount",
        "unparseable close_date",
        "empty required field deal_id",
    ):
        assert reason in reasons, reason
    assert any("left empty" in w for w in pandas.summary["warnings"])
    assert any("case variants merged" in w for w in pandas.summary["warnings"])
    assert_same(engine, pandas)
    # an open deal expected in 2031 stays; a won deal dated 2031 does not
    kept = set(engine.frame["deal_id"])
    assert "D6" in kept and "D7" not in kept
    # the repeat of a quarantined deal id is the one kept
    assert "D4" in kept


@pytest.mark.parametrize(
    "options", [{"decimal_separator": ","}, {"dayfirst": False}, {"date_format": "%Y-%m-%d"}]
)
def test_column_wide_decisions_follow_the_options_on_the_engine(tmp_path, options):
    lines = [*HOSTILE_DEALS, 'D18,A18,1/2/2025,"1.234",won,1,Gadget,,Cy,29']
    engine, pandas = _both(
        _project(tmp_path, "\n".join(lines) + "\n", deals_spec={"path": "deals.csv", **options})
    )
    assert_same(engine, pandas)


def test_parquet_deals_keep_their_record_numbers_on_the_engine(tmp_path):
    frame = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D2", "D3", None],
            "account_id": [1, 2, 3, 99, 4],
            "close_date": pd.to_datetime(
                ["2025-01-01", "2025-01-02", "1800-01-01", "2025-01-03", "2025-01-04"]
            ),
            "amount": [1.0, float("inf"), 3.0, -1.0, float("nan")],
        }
    )
    frame.to_parquet(tmp_path / "deals.parquet")
    accounts = "account_id,industry,employees,country\n1,a,1,X\n2,a,1,X\n3,a,1,X\n4,a,1,X\n"
    path = _project(tmp_path, deals_spec={"path": "deals.parquet"})
    (tmp_path / "accounts.csv").write_text(accounts, encoding="utf-8")
    engine, pandas = _both(path)
    assert list(pandas.quarantine["source_row"]) == [2, 3, 4, 5]
    assert_same(engine, pandas)


def test_rules_the_engine_cannot_apply_fall_back_to_pandas_with_a_log_line(tmp_path, caplog):
    text = "\n".join(HOSTILE_DEALS[:3]) + '\n"D30",A1,2025-01-01,5,won,1,"two\nlines",,Cy,1\n'
    path = _project(tmp_path, text)
    config = load_config(path)
    ids = load_table(config, "accounts").frame["account_id"]
    with pytest.raises(engine_load.Fallback, match="deals.csv"):
        engine_load.load_deals(config, accounts_ids=ids)
    with caplog.at_level(logging.INFO, logger="icp_helpers.data.engine_load"):
        loaded = load_table(config, "deals", accounts_ids=ids)
    assert "validated in pandas" in caplog.text
    assert loaded.quarantine["source_row"].tolist() == []
    assert "engine" not in loaded.summary


def test_maven_crm_deals_validated_on_the_engine_equal_the_pandas_path():
    if not (DATASETS / "maven_crm").is_dir():
        pytest.skip("public dataset not present")
    engine, pandas = _both(PROJECT_ROOT / "examples" / "maven_crm.yml")
    assert pandas.summary["rows_quarantined"] > 0
    assert_same(engine, pandas)


def test_deals_in_parquet_parts_are_read_in_one_scan_numbered_per_part(tmp_path):
    frame = pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(8)] + ["D1"],
            "account_id": [f"A{1 + i}" for i in range(8)] + ["A2"],
            "close_date": ["2025-01-01"] * 7 + ["31/12/2025", "2025-02-01"],
            "amount": ["1", "2", "-3", "4", "x", "6", "7", "8", "9"],
        }
    )
    frame.iloc[:4].to_parquet(tmp_path / "part-0.parquet")
    frame.iloc[4:].to_parquet(tmp_path / "part-1.parquet")
    path = _project(tmp_path, deals_spec={"path": ["part-0.parquet", "part-1.parquet"]})
    engine, pandas = _both(path)
    assert pandas.quarantine[["source_file", "source_row"]].values.tolist() == [
        ["part-0.parquet", 3],
        ["part-1.parquet", 1],
        ["part-1.parquet", 5],
    ]
    assert_same(engine, pandas)


def test_deals_files_are_validated_in_process_without_opening_the_configured_database(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    path = _project(tmp_path, "\n".join(HOSTILE_DEALS) + "\n", engine={"database": str(database), "validation": "engine"})
    config = load_config(path)
    ids = load_table(config, "accounts").frame["account_id"]
    loaded = load_table(config, "deals", accounts_ids=ids)
    assert loaded.summary["engine"] == "duckdb" and loaded.summary["rows_quarantined"] > 0
    assert not database.exists()  # a parallel quarter could not open a locked file


def test_order_lines_are_summed_per_deal_on_the_engine(tmp_path):
    lines = [
        "InvoiceNo,CustomerID,InvoiceDate,amount,quantity,product,region",
        "I1,A1,2025-01-15 10:00,10.5,1,,north",
        "I1,A1,2025-01-15 10:00,4.5,2,Widget,south",
        "I2,A2,2025-01-16 11:00,-3,1,Gadget,north",
        "I2,A2,2025-01-16 11:00,7,,Gadget,north",
        "I3,A99,2025-01-17 12:00,1,1,Gadget,east",
        "I4,A4,2025-01-18 13:00,,,,",
        "I4,A4,2025-01-18 13:00,2.25,3,gadget,West",
        "I0,A3,2025-01-14 09:00,5,1,Widget,north",
    ]
    spec = {
        "path": "deals.csv",
        "lines": True,
        "columns": {
            "InvoiceNo": "deal_id",
            "CustomerID": "account_id",
            "InvoiceDate": "close_date",
        },
    }
    engine, pandas = _both(_project(tmp_path, "\n".join(lines) + "\n", deals_spec=spec))
    assert pandas.summary["rows_out"] == 4 and pandas.summary["rows_used"] == 5
    assert list(pandas.frame["items"]) == [2, 1, 1, 1]
    assert_same(engine, pandas)


def test_the_rows_are_flagged_in_one_pass_without_a_window_over_every_row(tmp_path, monkeypatch):
    """The row rules run once over the source (not once for the quarantine and again for the
    clean rows), and repeated ids are found by grouping, not by numbering every row per id."""
    import ibis
    from ibis.backends.sql import SQLBackend

    queries: list[str] = []
    known: list[str] = []  # the engine's name of the known accounts' table
    compile_sql, memtable = SQLBackend.compile, ibis.memtable

    def spy(self, *args, **kwargs):
        sql = compile_sql(self, *args, **kwargs)
        queries.append(str(sql))
        return sql

    def spy_memtable(data, *args, **kwargs):
        table = memtable(data, *args, **kwargs)
        if "__icp_known" in table.columns:
            known.append(table.op().name)
        return table

    config = load_config(_project(tmp_path, "\n".join(HOSTILE_DEALS) + "\n"))
    ids = load_table(config, "accounts").frame["account_id"]
    monkeypatch.setattr(SQLBackend, "compile", spy)
    monkeypatch.setattr(ibis, "memtable", spy_memtable)
    engine = engine_load.load_deals(config, accounts_ids=ids)
    monkeypatch.undo()
    # the known accounts are part of the row rules: a query that reads them evaluates the rules
    assert len(known) == 1
    assert len([q for q in queries if known[0] in q]) == 1
    assert not [q for q in queries if "PARTITION BY" in q.upper()]
    config.engine.validation = "pandas"
    assert_same(engine, load_table(config, "deals", accounts_ids=ids))


def test_repeated_ids_across_parquet_parts_are_quarantined_as_in_pandas(tmp_path):
    """Repeats within a part and across parts, and a repeat of a quarantined row, as pandas."""
    part_a = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D2", "D5"],
            "account_id": ["A1", "A2", "A99", "A3", "A5"],
            "amount": [1.0, 2.0, 3.0, 4.0, -5.0],
            "stage": ["won", "won", "won", "lost", "won"],
            "close_date": pd.to_datetime(["2025-01-01"] * 5),
        }
    )
    part_b = part_a.assign(
        deal_id=["D3", "D1", "D6", "D5", "D2"],
        amount=[6.0, 7.0, 8.0, 9.0, 10.0],
        account_id=["A6", "A7", "A8", "A9", "A10"],
    )
    part_a.to_parquet(tmp_path / "a.parquet")
    part_b.to_parquet(tmp_path / "b.parquet")
    engine, pandas = _both(_project(tmp_path, deals_spec={"path": ["a.parquet", "b.parquet"]}))
    assert pandas.summary["reasons"]["duplicate deal_id"] == 3
    assert_same(engine, pandas)


@pytest.mark.parametrize(
    ("engine_section", "expected"),
    [
        ({}, "1.4 GiB"),  # validation_memory_limit's default, 1536MB
        ({"memory_limit": "512MB"}, "488.2 MiB"),  # the engine's own limit wins
        ({"validation_memory_limit": "1GB"}, "953.6 MiB"),
    ],
)
def test_validating_deals_bounds_the_engine_memory(tmp_path, monkeypatch, engine_section, expected):
    from ibis.backends.duckdb import Backend

    seen = []
    disconnect = Backend.disconnect

    def spy(self):
        seen.append(self.raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0])
        disconnect(self)

    path = _project(
        tmp_path, "\n".join(HOSTILE_DEALS) + "\n", engine={"validation": "engine", **engine_section}
    )
    config = load_config(path)
    ids = load_table(config, "accounts").frame["account_id"]
    monkeypatch.setattr(Backend, "disconnect", spy)
    engine_load.load_deals(config, accounts_ids=ids)
    assert seen == [expected]


def test_the_spill_folder_size_comes_from_the_config(tmp_path):
    from icp_helpers.data import engine

    config = load_config(
        _project(
            tmp_path,
            "\n".join(HOSTILE_DEALS) + "\n",
            engine={"max_temp_directory_size": "3GB", "temp_directory": str(tmp_path)},
        )
    )
    con = engine.connect(config)
    size = con.raw_sql("SELECT current_setting('max_temp_directory_size')").fetchall()[0][0]
    assert size == "2.7 GiB"
