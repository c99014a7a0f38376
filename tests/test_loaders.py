"""Loading, mapping, validating and quarantining the input tables."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.console import Console

from icp_helpers.data.loaders import (
    LoadError,
    column_mapping,
    detect_delimiter,
    detect_encoding,
    latest_quarter,
    load_project,
    load_table,
    print_summary,
    read_file,
    spelling_warnings,
    write_quarantine,
)
from icp_helpers.data.quarters import Quarter
from icp_helpers.data.schema import TEXT_DTYPE, parse_datetimes, parse_numbers

ACCOUNTS = """account_id,name,industry,employees,country,city_size
A1,Café Müller,wholesaler,12,Italy,large
A2,Bäckerei Groß,deli,250,Germany,small
A3,Olives & Co,restaurant,40,Spain,large
"""
DEALS = """deal_id,account_id,close_date,amount,stage
D1,A1,2024-01-05 10:30,100.5,won
D2,A2,2024-02-10,200,Closed Won
D3,A3,2024-03-15,300,lost
D4,A1,,,Prospecting
"""


def make_project(tmp_path: Path, files: dict, inputs: dict, **extra) -> Path:
    """Write ``files`` (text, bytes or DataFrames) and an ``icp.yml`` naming ``inputs``."""
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, pd.DataFrame):
            content.to_parquet(path, index=False)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    config = {"data_dir": ".", "inputs": inputs, **extra}
    path = tmp_path / "icp.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def basic(tmp_path: Path, *, accounts: str = ACCOUNTS, deals: str = DEALS, **extra) -> Path:
    return make_project(
        tmp_path,
        {"accounts.csv": accounts, "deals.csv": deals},
        {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.csv"}},
        **extra,
    )


def test_extra_columns_are_numbers_only_when_every_value_is_one(tmp_path):
    accounts = (
        "account_id,name,industry,employees,country,rating,postcode,mixed,blank\n"
        "A1,Alpha,wholesaler,12,Italy, 4.5 ,0123,7,\n"
        "A2,Beta,deli,250,Germany,3,4567,seven,\n"
        "A3,Gamma,restaurant,40,Spain,,8910,7,\n"
    )
    loaded = load_project(basic(tmp_path, accounts=accounts)).accounts
    assert loaded["rating"].dtype == "float64" and loaded["rating"].tolist()[:2] == [4.5, 3.0]
    assert pd.isna(loaded["rating"].iloc[2])
    assert loaded["postcode"].tolist() == ["0123", "4567", "8910"]  # a leading zero keeps it text
    assert loaded["mixed"].tolist() == ["7", "seven", "7"]
    assert loaded["blank"].isna().all()


def assert_reconciled(summary: dict) -> None:
    assert summary["rows_read"] == summary["rows_used"] + summary["rows_quarantined"]
    assert summary["reconciled"] is True


# --------------------------------------------------------------------------- the happy path


def test_clean_project_loads_typed_tables(tmp_path):
    project = load_project(basic(tmp_path))
    accounts, deals = project.accounts, project.deals
    assert list(accounts["account_id"]) == ["A1", "A2", "A3"]
    assert accounts["employees"].dtype == "Int64"
    assert accounts["city_size"].tolist() == ["large", "small", "large"]  # extras kept
    assert deals["close_date"].dtype == "datetime64[ns]"
    assert deals.loc[0, "close_date"] == pd.Timestamp("2024-01-05 10:30")  # the hour is kept
    assert deals["stage"].tolist() == ["won", "won", "lost", "open"]
    assert pd.isna(deals.loc[3, "amount"])  # open deals may lack amount and date
    assert deals["deal_id"].dtype == TEXT_DTYPE
    for table in ("accounts", "deals"):
        assert project.quarantine[table].empty
    summary = project.summary.set_index("table")
    assert summary.loc["deals", "rows_read"] == 4
    assert summary["reconciled"].all()
    assert project.contacts is None and project.warnings == []


def test_missing_stage_means_won_and_stage_vocabulary(tmp_path):
    deals = "deal_id,account_id,close_date,amount\nD1,A1,2024-01-05,1\n"
    assert load_project(basic(tmp_path, deals=deals)).deals["stage"].tolist() == ["won"]
    stages = [
        "Closed Won",
        "closedwon",
        "Won",
        "Closed Lost",
        "Lost",
        "Engaging",
        "Prospecting",
        "",
    ]
    rows = "".join(f"D{i},A1,2024-01-05,1,{s}\n" for i, s in enumerate(stages))
    deals = "deal_id,account_id,close_date,amount,stage\n" + rows
    got = load_project(basic(tmp_path, deals=deals)).deals["stage"].tolist()
    assert got == ["won", "won", "won", "lost", "lost", "open", "open", "won"]


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ",", "utf-8-sig"),
        ("cp1252", ";", "cp1252"),
        ("utf-16", "\t", "utf-16"),
        ("utf-16-le", "\t", "utf-16-le"),
    ],
)
def test_encodings_and_delimiters_are_detected(tmp_path, encoding, delimiter, expected):
    text = ACCOUNTS.replace(",", delimiter).replace("Olives & Co", "Olives & Co €")
    if encoding == "cp1252":
        text = text.replace("Groß", "Groß œ")  # bytes UTF-8 cannot decode
    path = tmp_path / "accounts.csv"
    path.write_bytes(text.encode(encoding))
    assert detect_encoding(path) == expected
    raw = read_file(path)
    assert list(raw.frame.columns)[:2] == ["account_id", "name"]  # no BOM left in the header
    names = raw.frame["name"].tolist()
    assert names[0] == "Café Müller"
    assert names[2] == "Olives & Co €"
    assert raw.rows.tolist() == [2, 3, 4]


def test_encoding_override_and_latin1_fallback(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("id,name\n1,caf\xe9 \x81\n".encode("latin-1"))  # 0x81 is undefined in cp1252
    assert detect_encoding(path) == "latin-1"
    project = make_project(
        tmp_path,
        {"accounts.csv": ACCOUNTS.encode("cp1252")},
        {"accounts": {"path": "accounts.csv", "encoding": "utf-8"}},
    )
    with pytest.raises(LoadError, match=r"accounts.csv: cannot be decoded as utf-8 \(byte \d+\)"):
        load_project(project)


def test_delimiter_detection():
    assert detect_delimiter("a;b;c\n1;2,5;3\n") == ";"
    assert detect_delimiter("a\tb\n1\t2\n") == "\t"
    assert detect_delimiter("a|b\n1|2\n") == "|"
    assert detect_delimiter('a,b\n"x;y",2\n') == ","
    assert detect_delimiter("single\n1\n") == ","


# --------------------------------------------------------------------------- XLSX and Parquet


def test_xlsx_is_read_with_sheet_rows(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Deals"
    sheet.append(["deal_id", "account_id", "close_date", "amount"])
    sheet.append(["D1", "A1", pd.Timestamp("2024-01-05 09:15").to_pydatetime(), 10])
    sheet.append([None, None, None, None])  # a blank row keeps the numbering
    sheet.append(["D2", "A2", "not a date", 12.5])
    sheet.append(["D3", "A3", "2024-02-01", -4])
    book.save(tmp_path / "deals.xlsx")
    config = make_project(
        tmp_path,
        {"accounts.csv": ACCOUNTS},
        {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.xlsx", "sheet": "Deals"}},
    )
    project = load_project(config)
    deals = project.deals
    assert deals["deal_id"].tolist() == ["D1"]
    assert deals.loc[0, "close_date"] == pd.Timestamp("2024-01-05 09:15")
    quarantine = project.quarantine["deals"]
    assert quarantine[["source_row", "reason"]].values.tolist() == [
        [4, "unparseable close_date"],
        [5, "negative amount"],
    ]
    assert quarantine["source_file"].unique().tolist() == ["deals.xlsx"]
    assert_reconciled(project.tables["deals"].summary)


def test_xlsx_missing_sheet_is_named(tmp_path):
    from openpyxl import Workbook

    Workbook().save(tmp_path / "deals.xlsx")
    with pytest.raises(LoadError, match=r"deals.xlsx: no sheet 'Deals'; the workbook has Sheet"):
        read_file(tmp_path / "deals.xlsx", sheet="Deals")


def test_parquet_keeps_types_and_row_numbers(tmp_path):
    deals = pd.DataFrame(
        {
            "deal_id": [101, 102, 103],
            "account_id": ["A1", "A2", "A3"],
            "close_date": pd.to_datetime(
                ["2024-01-05 08:00", "2024-02-01", "2024-03-01"], format="ISO8601"
            ),
            "amount": [10.0, -1.0, 3.5],
            "quantity": [1, 2, 3],
        }
    )
    config = make_project(
        tmp_path,
        {"accounts.csv": ACCOUNTS, "deals.parquet": deals},
        {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.parquet"}},
    )
    project = load_project(config)
    assert project.deals["deal_id"].tolist() == ["101", "103"]  # ids become text
    assert project.deals.loc[0, "close_date"] == pd.Timestamp("2024-01-05 08:00")
    assert project.deals["quantity"].tolist() == [1.0, 3.0]
    row = project.quarantine["deals"].iloc[0]
    assert (row["source_row"], row["reason"]) == (2, "negative amount")


# --------------------------------------------------------------------------- presets


def test_hubspot_preset_maps_company_and_deal_exports(tmp_path):
    companies = (
        "Record ID,Company name,Industry,Number of Employees,Country/Region,Annual Revenue,Lifecycle Stage\n"
        "9001,Acme,COMPUTER_SOFTWARE,120,Germany,5000000,customer\n"
        "9002,Beta,RETAIL,8,France,,lead\n"
    )
    deals = (
        "Record ID,Deal Name,Close Date,Amount,Deal Stage,Associated Company IDs\n"
        "1,Acme renewal,2024-03-01 14:00,1200,closedwon,9001\n"
        "2,Beta pilot,2024-03-05,300,Closed Lost,9002;9001\n"
        "3,Acme upsell,,,appointmentscheduled,9001\n"
    )
    config = make_project(
        tmp_path,
        {"companies.csv": companies, "deals.csv": deals},
        {
            "accounts": {"path": "companies.csv", "preset": "hubspot"},
            "deals": {"path": "deals.csv", "preset": "hubspot"},
        },
    )
    project = load_project(config)
    accounts = project.accounts
    assert accounts["account_id"].tolist() == ["9001", "9002"]
    assert accounts["name"].tolist() == ["Acme", "Beta"]
    assert accounts["employees"].tolist() == [120, 8]
    assert accounts["annual_revenue"].iloc[0] == 5_000_000
    assert "lifecycle_stage" in accounts.columns
    deals = project.deals
    assert deals["account_id"].tolist() == ["9001", "9002", "9001"]  # first of the list
    assert deals["stage"].tolist() == ["won", "lost", "open"]
    assert deals["deal_name"].iloc[0] == "Acme renewal"
    assert any("several account_id values" in w for w in project.warnings)


def test_salesforce_preset_reads_won_and_closed_flags(tmp_path):
    accounts = (
        "Account ID,Account Name,Industry,Employees,Billing Country\n"
        "001A,Acme,Technology,50,United States\n"
    )
    opportunities = (
        "Opportunity ID,Opportunity Name,Account ID,Close Date,Amount,Stage,Won,Closed\n"
        '006A,Big,001A,3/31/2024,"1,500.00",Signed,1,1\n'
        "006B,Lost one,001A,4/15/2024,200.00,No decision,0,1\n"
        "006C,Pending,001A,5/15/2024,100.00,Negotiation,0,0\n"
    )
    config = make_project(
        tmp_path,
        {"accounts.csv": accounts, "opps.csv": opportunities},
        {
            "accounts": {"path": "accounts.csv", "preset": "salesforce"},
            "deals": {"path": "opps.csv", "preset": "salesforce"},
        },
    )
    project = load_project(config)
    assert project.accounts[["account_id", "country"]].values.tolist() == [
        ["001A", "United States"]
    ]
    deals = project.deals
    assert deals["stage"].tolist() == ["won", "lost", "open"]
    assert deals["amount"].tolist() == [1500.0, 200.0, 100.0]
    assert deals["close_date"].tolist() == list(
        pd.to_datetime(["2024-03-31", "2024-04-15", "2024-05-15"])
    )


def test_a_won_flag_alone_decides_won_or_lost(tmp_path):
    deals = "Opportunity ID,Account ID,Close Date,Amount,Won\nO1,A1,2024-01-01,5,true\nO2,A1,2024-01-02,5,false\n"
    config = make_project(
        tmp_path, {"opps.csv": deals}, {"deals": {"path": "opps.csv", "preset": "salesforce"}}
    )
    assert load_table(config, "deals").frame["stage"].tolist() == ["won", "lost"]


def test_columns_mapping_wins_over_the_preset_and_name_variants_map():
    mapping, unmatched = column_mapping(
        ["Record ID", "Company name", "Close Date", "Sector", "Gone"],
        table="accounts",
        columns={"Sector": "industry", "Missing": "country"},
        preset={"columns": {"account_id": ["Record ID"], "industry": ["Industry"]}},
    )
    assert mapping == {"Sector": "industry", "Record ID": "account_id"}
    assert unmatched == ["Missing"]
    mapping, _ = column_mapping(["Deal ID", "Close Date", "AMOUNT"], table="deals")
    assert mapping == {"Deal ID": "deal_id", "Close Date": "close_date", "AMOUNT": "amount"}
    with pytest.raises(LoadError, match="x.csv: columns 'a', 'b' would all become 'amount'"):
        column_mapping(
            ["a", "b"], table="deals", columns={"a": "amount", "b": "amount"}, source="x.csv"
        )
    with pytest.raises(LoadError, match="already has a column 'amount'"):
        column_mapping(["value", "amount"], table="deals", columns={"value": "amount"})


# --------------------------------------------------------------------------- structural errors


def test_missing_required_column_names_file_column_and_close_header(tmp_path):
    deals = "deal_id,account_id,Closing date,amount\nD1,A1,2024-01-05,1\n"
    with pytest.raises(LoadError) as info:
        load_project(basic(tmp_path, deals=deals))
    message = str(info.value)
    assert message.startswith("deals.csv: required column 'close_date' missing")
    assert "deals need deal_id, account_id, close_date, amount" in message
    assert "The file's columns are: deal_id, account_id, Closing date, amount" in message
    assert "'Closing date' looks close to close_date" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02\x03binary\x00\xff\xfe\x00\x00\x10" * 20, "not a text file"),
        (b"PK\x03\x04 not really a workbook", "cannot be opened as an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", "old Excel .xls workbook"),
        (b'deal_id,account_id,close_date,amount\nD1,A1,"2024-01-05,1\n', "line 2 opens a quoted cell"),
    ],
)
def test_unreadable_file_names_the_file(tmp_path, content, expected):
    config = make_project(
        tmp_path,
        {"accounts.csv": ACCOUNTS, "deals.csv": content},
        {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.csv"}},
    )
    with pytest.raises(LoadError) as info:
        load_project(config)
    assert str(info.value).startswith(str(tmp_path / "deals.csv"))
    assert expected in str(info.value)


def test_column_that_cannot_be_parsed_at_all(tmp_path):
    deals = "deal_id,account_id,Closed,amount\nD1,A1,soon,1\nD2,A2,later,2\nD3,A3,never,3\n"
    config = make_project(
        tmp_path,
        {"accounts.csv": ACCOUNTS, "deals.csv": deals},
        {
            "accounts": {"path": "accounts.csv"},
            "deals": {"path": "deals.csv", "columns": {"Closed": "close_date"}},
        },
    )
    with pytest.raises(LoadError) as info:
        load_project(config)
    message = str(info.value)
    assert message.startswith("deals.csv: column 'close_date' (from 'Closed') cannot be read")
    assert "none of its 3 values parses" in message
    assert "Expected dates such as 2024-03-31" in message
    assert (
        "deals.csv line 2: 'soon'; deals.csv line 3: 'later'; deals.csv line 4: 'never'" in message
    )


def test_unknown_table_is_rejected(tmp_path):
    with pytest.raises(LoadError, match="unknown table"):
        load_project(basic(tmp_path), tables=["orders"])
    with pytest.raises(LoadError, match="contacts: not configured"):
        load_table(basic(tmp_path), "contacts")


# --------------------------------------------------------------------------- row rules


def _quarantined(tmp_path, deals: str, **extra):
    project = load_project(basic(tmp_path, deals=deals, **extra))
    summary = project.tables["deals"].summary
    assert_reconciled(summary)
    return project, project.quarantine["deals"], summary


def test_bad_date_is_quarantined_with_line_number(tmp_path):
    deals = DEALS + "D5,A2,2024-02-30,10,won\n"
    project, quarantine, summary = _quarantined(tmp_path, deals)
    assert quarantine[["source_file", "source_row", "reason", "close_date"]].values.tolist() == [
        ["deals.csv", 6, "unparseable close_date", "2024-02-30"]
    ]
    assert summary["rows_read"] == 5 and summary["rows_used"] == 4
    assert summary["reasons"] == {"unparseable close_date": 1}


def test_negative_amount_and_non_numeric_amount(tmp_path):
    deals = DEALS + "D5,A2,2024-02-01,-10,won\nD6,A2,2024-02-01,ten,won\n"
    _, quarantine, summary = _quarantined(tmp_path, deals)
    assert quarantine[["source_row", "reason", "amount"]].values.tolist() == [
        [6, "negative amount", "-10"],
        [7, "non-numeric amount", "ten"],
    ]
    assert summary["rows_used"] == 4


def test_unknown_account_only_when_accounts_are_loaded(tmp_path):
    deals = DEALS + "D5,A404,2024-02-01,10,won\n"
    _, quarantine, _ = _quarantined(tmp_path, deals)
    assert quarantine[["source_row", "reason", "account_id"]].values.tolist() == [
        [6, "unknown account_id", "A404"]
    ]
    alone = load_table(basic(tmp_path, deals=deals), "deals")
    assert alone.quarantine.empty and len(alone.frame) == 5


def test_duplicate_id_keeps_the_first(tmp_path):
    deals = DEALS + "D2,A3,2024-05-01,99,won\n"
    project, quarantine, _ = _quarantined(tmp_path, deals)
    assert quarantine[["source_row", "reason", "amount"]].values.tolist() == [
        [6, "duplicate deal_id", "99"]
    ]
    assert project.deals.set_index("deal_id").loc["D2", "amount"] == 200


def test_duplicate_of_a_quarantined_row_is_kept(tmp_path):
    deals = DEALS + "D5,A3,bad date,1,won\nD5,A3,2024-05-01,2,won\n"
    project, quarantine, _ = _quarantined(tmp_path, deals)
    assert quarantine["reason"].tolist() == ["unparseable close_date"]
    assert project.deals.set_index("deal_id").loc["D5", "amount"] == 2


def test_empty_required_fields(tmp_path):
    deals = (
        DEALS + ",A1,2024-01-01,1,won\nD6,,2024-01-01,1,won\nD7,A1,,5,won\nD8,A1,2024-01-01,,lost\n"
    )
    _, quarantine, _ = _quarantined(tmp_path, deals)
    assert quarantine[["source_row", "reason"]].values.tolist() == [
        [6, "empty required field deal_id"],
        [7, "empty required field account_id"],
        [8, "empty required field close_date (won/lost deal)"],
        [9, "empty required field amount (won/lost deal)"],
    ]


def test_several_reasons_for_one_row_are_joined(tmp_path):
    deals = DEALS + "D5,A1,someday,lots,won\n"
    _, quarantine, summary = _quarantined(tmp_path, deals)
    assert quarantine["reason"].tolist() == ["unparseable close_date; non-numeric amount"]
    assert summary["reasons"] == {"non-numeric amount": 1, "unparseable close_date": 1}


def test_accounts_may_lack_firmographics_but_not_ids(tmp_path):
    accounts = ACCOUNTS + "A4,,,,\n,X,deli,3,Italy,small\n"
    project = load_project(basic(tmp_path, accounts=accounts))
    assert project.accounts["account_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert project.quarantine["accounts"]["reason"].tolist() == ["empty required field account_id"]
    assert any("accounts.industry: 1 row without a value" in w for w in project.warnings)


# --------------------------------------------------------------------------- mapping features


def test_derive_defaults_and_aliases(tmp_path):
    accounts = "account,sector,revenue_m,staff,office\nAcme,Technology ,1.5,10,UK\nBeta,  retail,x,5,u.k.\n"
    config = make_project(
        tmp_path,
        {
            "accounts.csv": accounts,
            "deals.csv": DEALS.replace("A1", "Acme").replace("A2", "Beta").replace("A3", "Acme"),
        },
        {
            "accounts": {
                "path": "accounts.csv",
                "columns": {
                    "account": "account_id",
                    "sector": "industry",
                    "staff": "employees",
                    "office": "country",
                },
                "derive": {"name": "account_id", "annual_revenue": "revenue_m * 1000000"},
                "defaults": {"business_type": "independent"},
            },
            "deals": {"path": "deals.csv"},
        },
        aliases={"country": {"uk": "United Kingdom", "U.K.": "United Kingdom"}},
    )
    project = load_project(config)
    accounts = project.accounts
    assert accounts["name"].tolist() == ["Acme"]
    assert accounts["annual_revenue"].tolist() == [1_500_000.0]
    assert accounts["industry"].tolist() == ["Technology"]  # trimmed
    assert accounts["country"].tolist() == ["United Kingdom"]
    assert accounts["business_type"].tolist() == ["independent"]
    assert project.quarantine["accounts"]["reason"].tolist() == ["non-numeric revenue_m"]
    assert project.tables["accounts"].summary["filled_defaults"] == {"business_type": 2}


def test_derive_errors_name_the_key(tmp_path):
    config = make_project(
        tmp_path,
        {"accounts.csv": ACCOUNTS},
        {"accounts": {"path": "accounts.csv", "derive": {"annual_revenue": "turnover * 2"}}},
    )
    with pytest.raises(
        LoadError, match=r"inputs.accounts.derive.annual_revenue: cannot evaluate 'turnover \* 2'"
    ):
        load_project(config)


def test_distinct_accounts_from_order_lines_and_lines_into_deals(tmp_path):
    lines = (
        "invoice,customer,country,date,qty,price\n"
        "I1,C1,Italy,2024-01-05 10:00,2,5\n"
        "I1,C1,Italy,2024-01-05 10:00,1,10\n"
        "I2,C2,Spain,2024-01-06 11:00,4,2.5\n"
        "I3,C1,France,2024-01-07 12:00,-1,5\n"
        "I4,,Italy,2024-01-08 12:00,1,5\n"
    )
    config = make_project(
        tmp_path,
        {"lines.csv": lines},
        {
            "accounts": {
                "path": "lines.csv",
                "columns": {"customer": "account_id", "country": "country"},
                "defaults": {"industry": "retail", "employees": 1},
                "distinct": True,
            },
            "deals": {
                "path": "lines.csv",
                "columns": {
                    "invoice": "deal_id",
                    "customer": "account_id",
                    "date": "close_date",
                    "qty": "quantity",
                },
                "derive": {"amount": "quantity * price"},
                "lines": True,
            },
        },
    )
    project = load_project(config)
    accounts = project.tables["accounts"]
    # only mapped columns are kept for distinct rows: line-level columns would make all distinct
    assert set(accounts.frame.columns) == {"account_id", "country", "industry", "employees"}
    assert accounts.frame[["account_id", "country"]].values.tolist() == [
        ["C1", "Italy"],
        ["C2", "Spain"],
    ]
    assert accounts.quarantine[["source_row", "reason"]].values.tolist() == [
        [5, "duplicate account_id"],
        [6, "empty required field account_id"],
    ]
    assert accounts.summary["rows_used"] == 3 and accounts.summary["rows_out"] == 2
    assert_reconciled(accounts.summary)
    deals = project.tables["deals"]
    assert_reconciled(deals.summary)
    assert deals.frame["deal_id"].tolist() == ["I1", "I2"]
    assert deals.frame["amount"].tolist() == [20.0, 10.0]
    assert deals.frame["quantity"].tolist() == [3.0, 4.0]
    assert deals.frame["items"].tolist() == [2, 1]
    assert deals.summary["rows_used"] == 3 and deals.summary["rows_out"] == 2
    assert deals.quarantine[["source_row", "reason"]].values.tolist() == [
        [5, "negative amount; negative quantity"],
        [6, "empty required field account_id"],
    ]


def test_distinct_merges_exact_duplicates_and_counts_them_as_used(tmp_path):
    lines = "customer,country,note\nC1,Italy,a\nC1,Italy,a\nC1,Italy,a\nC2,Spain,b\nC2,France,b\nC2,France,b\n"
    config = make_project(
        tmp_path,
        {"lines.csv": lines},
        {
            "accounts": {
                "path": "lines.csv",
                "columns": {"customer": "account_id"},
                "defaults": {"industry": "retail", "employees": 1},
                "distinct": True,
            }
        },
    )
    loaded = load_table(config, "accounts")
    assert loaded.frame[["account_id", "country"]].values.tolist() == [
        ["C1", "Italy"],
        ["C2", "Spain"],
    ]
    # both France lines merged into one row that duplicates C2: both are quarantined
    assert loaded.quarantine["source_row"].tolist() == [6, 7]
    assert set(loaded.quarantine["reason"]) == {"duplicate account_id"}
    assert loaded.summary["rows_used"] == 4 and loaded.summary["rows_out"] == 2
    assert_reconciled(loaded.summary)


def test_case_variants_merge_and_misspellings_are_reported_not_changed(tmp_path):
    accounts = (
        "account_id,industry,employees,country\n"
        "A1,technolgy,1,Italy\nA2,Retail,1,ITALY\nA3,retail,1,Philipines\nA4,retail,1,Italy\n"
    )
    deals = "deal_id,account_id,close_date,amount,product\n" + "".join(
        f"D{i},A1,2024-01-0{i},1,{p}\n"
        for i, p in enumerate(
            ["GTX Basic", "GTX Plus Pro", "GTXPro", "EVOO 500ml case", "EVOO 750ml case"], 1
        )
    )
    project = load_project(basic(tmp_path, accounts=accounts, deals=deals))
    assert sorted(project.accounts["industry"].unique()) == ["retail", "technolgy"]
    assert sorted(project.accounts["country"].unique()) == ["Italy", "Philipines"]
    text = "\n".join(project.warnings)
    assert "accounts.industry: case variants merged: 'retail' (+'Retail')" in text
    assert "'technolgy' (1 row) looks like a misspelling of 'technology'" in text
    assert "'Philipines' (1 row) looks like a misspelling of 'Philippines'" in text
    assert "'GTXPro' (1 row) looks like 'GTX Pro' with the spaces missing" in text
    assert "500ml" not in text  # sizes differ in their numbers: not a misspelling
    assert "GTXPro" in project.deals["product"].tolist()


def test_spelling_warnings_between_values():
    frame = pd.DataFrame(
        {
            "sector": pd.Series(["finance"] * 5 + ["finanse", "retail"], dtype=TEXT_DTYPE),
            "country": pd.Series(["Austria"] * 3 + ["Australia"] * 4, dtype=TEXT_DTYPE),
        }
    )
    warnings = spelling_warnings(frame, table="accounts", columns=["sector", "country"])
    assert warnings == [
        "accounts.sector: 'finanse' (1 row) looks like a misspelling of 'finance' (5 rows); "
        "map it under aliases.sector if so"
    ]


# --------------------------------------------------------------------------- dates and numbers


def test_date_strategy():
    values = pd.Series(
        [
            "2024-01-05",
            "2024-01-05T10:30:00+02:00",
            "13/04/2024",
            "03/04/2024 5:30 PM",
            "5 Jan 2024",
            "31-Mar-24",
        ],
        dtype=TEXT_DTYPE,
    )
    parsed = parse_datetimes(values)
    assert parsed.values.tolist() == list(
        pd.to_datetime(
            [
                "2024-01-05",
                "2024-01-05 08:30",
                "2024-04-13",
                "2024-04-03 17:30",
                "2024-01-05",
                "2024-03-31",
            ],
            format="ISO8601",
        )
    )
    assert parsed.note is None  # 13/04 decides day-first for the whole column
    ambiguous = parse_datetimes(pd.Series(["03/04/2024", "05/06/2024"], dtype=TEXT_DTYPE))
    assert ambiguous.values.tolist() == list(pd.to_datetime(["2024-03-04", "2024-05-06"]))
    assert "ambiguous; read as month/day/year" in ambiguous.note
    dayfirst = parse_datetimes(pd.Series(["03/04/2024"], dtype=TEXT_DTYPE), dayfirst=True)
    assert dayfirst.values.tolist() == [pd.Timestamp("2024-04-03")]
    dotted = parse_datetimes(pd.Series(["03.04.2024"], dtype=TEXT_DTYPE))
    assert dotted.values.tolist() == [pd.Timestamp("2024-04-03")]
    fmt = parse_datetimes(pd.Series(["2024|04|03", "x"], dtype=TEXT_DTYPE), date_format="%Y|%m|%d")
    assert fmt.values.iloc[0] == pd.Timestamp("2024-04-03") and fmt.bad.tolist() == [False, True]
    out_of_range = parse_datetimes(pd.Series(["0024-01-01"], dtype=TEXT_DTYPE))
    assert out_of_range.bad.tolist() == [True]


def test_ambiguous_dates_are_reported_in_the_summary(tmp_path):
    deals = "deal_id,account_id,close_date,amount\nD1,A1,03/04/2024,1\nD2,A2,05/06/2024,1\n"
    project = load_project(basic(tmp_path, deals=deals))
    assert project.deals["close_date"].dt.month.tolist() == [3, 5]
    assert any(
        "deals.close_date: 2 dates such as '03/04/2024' are ambiguous" in w
        for w in project.warnings
    )


def test_number_formats():
    values = pd.Series(
        ["1,234.50", "$1 234", "(12)", "1.234,50", "1,5", "abc", "", "n/a", "inf"], dtype=TEXT_DTYPE
    )
    parsed = parse_numbers(values, column="amount")
    expected = [1234.5, 1234.0, -12.0, 1234.5, 1.5, np.nan, np.nan, np.nan, np.nan]
    np.testing.assert_array_equal(parsed.values.to_numpy(), np.array(expected))
    assert parsed.bad.tolist() == [False, False, False, False, False, True, False, False, True]


# --------------------------------------------------------------------------- interviews, codebook


def test_interviews_from_table_and_transcripts(tmp_path):
    interviews = (
        "interview_id,account_id,question,answer\n"
        "I1,A1,how_found,A trade fair.\n"
        "I1,A1,opinion,Great oil.\n"
        "I3,A1,favourite_colour,Green.\n"
    )
    transcript = "---\ninterview_id: I1\naccount_id: A1\n---\n## how_found\nOnline search.\n"
    transcript2 = (
        "---\ninterview_id: I2\naccount_id: A2\ndate: 2024-05-01\n---\n## why_stay\nReliable.\n"
    )
    config = make_project(
        tmp_path,
        {
            "accounts.csv": ACCOUNTS,
            "interviews.csv": interviews,
            "talks/I1.md": transcript,
            "talks/I2.md": transcript2,
        },
        {
            "accounts": {"path": "accounts.csv"},
            "interviews": {"path": "interviews.csv", "transcripts": "talks"},
        },
    )
    project = load_project(config, tables=["interviews"])
    frame = project.interviews
    assert frame[["interview_id", "question"]].values.tolist() == [
        ["I1", "how_found"],
        ["I1", "opinion"],
        ["I2", "why_stay"],
    ]
    assert frame.loc[2, "date"] == pd.Timestamp("2024-05-01")
    quarantine = project.quarantine["interviews"]
    assert quarantine[["source_file", "reason"]].values.tolist() == [
        ["interviews.csv", "question not one of the six method questions"],
        ["talks/I1.md", "duplicate interview_id+question"],
    ]
    assert quarantine["source_row"].iloc[0] == 4
    assert_reconciled(project.tables["interviews"].summary)


def test_codebook_yaml_and_csv_lists(tmp_path):
    codebook_yaml = (
        "codes:\n"
        "  - code: pain:reliable_delivery\n    dimension: pain_point\n    description: Late deliveries\n"
        "    keywords: [late, delay]\n    patterns: ['deliver\\w* late']\n"
        "  - code: pain:reliable_delivery\n    dimension: pain_point\n    description: again\n"
    )
    codebook_csv = (
        "code,dimension,description,keywords,examples,patterns\n"
        "reason:quality,purchase_reason,Quality,taste; quality ;,,\n"
        "reason:price,purchase_reason,Price,cheap,,(unclosed\n"
    )
    config = make_project(
        tmp_path,
        {"codebook.yml": codebook_yaml, "codebook.csv": codebook_csv},
        {"codebook": {"path": ["codebook.yml", "codebook.csv"]}},
    )
    loaded = load_table(config, "codebook")
    frame = loaded.frame
    assert frame["code"].tolist() == ["pain:reliable_delivery", "reason:quality"]
    assert frame["keywords"].tolist() == [["late", "delay"], ["taste", "quality"]]
    assert frame["patterns"].tolist() == [["deliver\\w* late"], []]
    assert frame["examples"].tolist() == [[], []]
    assert loaded.quarantine[["source_file", "source_row", "reason"]].values.tolist() == [
        ["codebook.yml", 7, "duplicate code"],
        ["codebook.csv", 3, "invalid regular expression in patterns"],
    ]


def test_manual_codes_from_several_files(tmp_path):
    a = "interview_id,question,code,coder\nI1,how_found,channel:web,coder_a\n"
    b = "interview_id,question,code,coder\nI1,how_found,channel:web,coder_b\nI1,how_found,channel:web,coder_b\n"
    config = make_project(
        tmp_path,
        {"a.csv": a, "b.csv": b},
        {"manual_codes": {"path": ["a.csv", "b.csv"]}},
    )
    loaded = load_table(config, "manual_codes")
    assert loaded.frame["coder"].tolist() == ["coder_a", "coder_b"]
    assert loaded.quarantine[["source_file", "source_row"]].values.tolist() == [["b.csv", 3]]
    assert loaded.summary["files"] == ["a.csv", "b.csv"]


# --------------------------------------------------------------------------- outputs


def test_write_quarantine_writes_every_table_and_the_summary(tmp_path):
    project = load_project(basic(tmp_path, deals=DEALS + "D5,A9,2024-01-01,1,won\n"))
    written = write_quarantine(project, tmp_path / "run")
    names = sorted(p.name for p in written)
    assert names == ["accounts.csv", "deals.csv", "summary.csv"]
    accounts = pd.read_csv(tmp_path / "run" / "quarantine" / "accounts.csv")
    assert accounts.empty and list(accounts.columns)[:3] == ["source_file", "source_row", "reason"]
    deals = pd.read_csv(tmp_path / "run" / "quarantine" / "deals.csv")
    assert deals[["source_row", "reason", "deal_id"]].values.tolist() == [
        [6, "unknown account_id", "D5"]
    ]
    summary = pd.read_csv(tmp_path / "run" / "quarantine" / "summary.csv").set_index("table")
    assert summary.loc["deals", "rows_quarantined"] == 1
    assert summary.loc["deals", "reasons"] == "unknown account_id: 1"


def test_print_summary_shows_counts_reasons_and_warnings(tmp_path):
    deals = DEALS + "D5,A9,2024-01-01,1,won\nD6,A1,03/04/2024,1,won\n"
    project = load_project(basic(tmp_path, deals=deals))
    console = Console(record=True, width=200)
    print_summary(project, console=console)
    text = console.export_text()
    assert re.search(r"rows read\s+│\s+6", text)
    assert re.search(r"rows quarantined\s+│\s+1", text)
    assert re.search(r"reconciled \(read = used \+ quarantined\)\s+│\s+✓", text)
    assert "quarantined: unknown account_id" in text
    assert "warning: deals.close_date: 1 dates such as '03/04/2024' are ambiguous" in text
    assert "2 tables loaded, 1 rows quarantined, every table reconciled." in text


def test_latest_quarter_reads_closed_deals_only(tmp_path):
    deals = (
        "deal_id,account_id,close_date,amount,stage\n"
        "D1,A1,2024-03-05,1,won\nD2,A1,2024-06-20,1,lost\nD3,A1,2024-09-30,1,open\nD4,A1,bad,1,won\n"
    )
    assert latest_quarter(basic(tmp_path, deals=deals)) == Quarter(2024, 2)
    frame = pd.DataFrame(
        {
            "deal_id": ["1"],
            "account_id": ["A1"],
            "close_date": [pd.Timestamp("2024-12-31")],
            "amount": [1.0],
        }
    )
    config = make_project(tmp_path, {"deals.parquet": frame}, {"deals": {"path": "deals.parquet"}})
    assert latest_quarter(config) == Quarter(2024, 4)


def test_write_quarantine_keeps_the_summary_rows_of_tables_loaded_elsewhere(tmp_path):
    config = basic(tmp_path, deals=DEALS + "D9,A1,not a date,10\n")
    run_dir = tmp_path / "run"
    write_quarantine(load_project(config, tables=["accounts", "deals"]), run_dir)
    write_quarantine(load_project(config, tables=["accounts"]), run_dir)
    summary = pd.read_csv(run_dir / "quarantine" / "summary.csv")
    assert summary["table"].tolist() == ["accounts", "deals"]
    deals_row = summary.set_index("table").loc["deals"]
    assert deals_row["rows_quarantined"] == 1
    assert (run_dir / "quarantine" / "deals.csv").read_text().count("not a date") == 1


@pytest.mark.parametrize("dtype", ["str", object])
def test_categories_and_stages_cleaned_per_distinct_value_equal_cell_by_cell(dtype):
    from icp_helpers.data.schema import apply_aliases, clean_text, map_distinct, normalise_stage

    cells = np.random.default_rng(0).choice([" Won", "closed lost", None, "Prospecting", "  Closed  Won"], 200_000)
    series = pd.Series(cells, dtype=dtype, name="stage")
    for transform in (
        lambda c: normalise_stage(apply_aliases(clean_text(c), {"prospecting": "lost"})),
        lambda c: apply_aliases(clean_text(c), {"won": "WON"}),
    ):
        pd.testing.assert_series_equal(map_distinct(series, transform), transform(series))


def test_project_deals_table_is_the_deals_on_the_projects_engine(sample_config_path):
    project = load_project(sample_config_path, tables=["accounts", "deals"], cache=False)
    table = project.deals_table()
    assert table is project.deals_table()  # one table per project, not a copy per call
    counted = project.backend.to_pyarrow(table.group_by("stage").aggregate(n=table.count())).to_pandas()
    assert dict(zip(counted["stage"], counted["n"], strict=True)) == project.deals["stage"].value_counts().to_dict()
    assert load_project(sample_config_path, tables=["accounts"], cache=False).deals_table() is None
