"""Quarters are checked against the data before any kernel starts.

A quarter after the data, an incomplete one, one without won deals and a
range typed with the wrong separator are each refused with one clear message
that names the option the user typed; nothing is executed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from icp_helpers.cli import app
from icp_helpers.data.config import load_config
from icp_helpers.data.quarter_checks import check_quarters, parse_quarter_spec
from icp_helpers.data.quarters import Quarter, QuarterError
from icp_helpers.reports import runner

DEALS = (
    "deal_id,account_id,close_date,amount,stage\n"
    "D1,A1,2025-02-10,100,won\n"
    "D2,A1,2025-11-20,120,won\n"
    "D3,A1,2026-04-02,50,lost\n"
    "D4,A1,{last},80,won\n"
)


def _project(root: Path, *, last: str = "2026-09-30", deals: str | None = None) -> Path:
    (root / "accounts.csv").write_text("account_id,industry,employees,country\nA1,retail,10,Italy\n")
    (root / "deals.csv").write_text(DEALS.format(last=last) if deals is None else deals)
    config = root / "icp.yml"
    config.write_text("reports_dir: reports\ninputs:\n  accounts: {path: accounts.csv}\n  deals: {path: deals.csv}\n")
    notebooks = root / "notebooks"
    notebooks.mkdir(exist_ok=True)
    for name in (*runner.NOTEBOOK_ORDER, runner.DRIFT_NOTEBOOK):
        (notebooks / f"{name}.ipynb").write_text("{}")
    return config


@pytest.fixture()
def no_kernels(monkeypatch):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("a notebook was executed although the quarter is refused")

    monkeypatch.setattr("icp_helpers.reports.execution._execute", refuse)
    monkeypatch.setattr("icp_helpers.reports.batch.run_quarter", refuse)
    return calls


def _run(config: Path, *options: str):
    result = CliRunner().invoke(
        app, ["run", "--config", str(config), "--notebooks-dir", str(config.parent / "notebooks"), *options]
    )
    return result, " ".join(result.output.split())


def test_a_quarter_after_the_data_is_refused_with_the_latest_complete_one(tmp_path, no_kernels):
    result, text = _run(_project(tmp_path), "--quarter", "2026Q4")
    assert result.exit_code == 2, text
    assert "2026Q4 is after the data" in text
    assert "2025-02-10 to 2026-09-30" in text and "try --quarter 2026Q3" in text
    assert "Traceback" not in result.output and no_kernels == []


def test_an_incomplete_quarter_needs_the_flag_and_is_marked(tmp_path, no_kernels):
    config = _project(tmp_path, last="2026-08-14")
    result, text = _run(config, "--quarter", "2026Q3")
    assert result.exit_code == 2, text
    assert "2026Q3 is not complete" in text and "--allow-incomplete" in text and "use 2026Q2" in text
    assert no_kernels == []
    plan = runner.check_run(config, quarters="2026Q3", notebooks_dir=tmp_path / "notebooks",
                            allow_incomplete=True)
    assert plan.quarters == ["2026Q3"] and plan.incomplete == ["2026Q3"]
    plan = runner.check_run(config, quarters="2026Q1:2026Q2", notebooks_dir=tmp_path / "notebooks")
    assert plan.quarters == ["2026Q1", "2026Q2"] and plan.incomplete == []


@pytest.mark.parametrize("quarter", ["2019Q1", "1600Q1"])
def test_a_quarter_before_the_data_is_refused_with_its_date_range(tmp_path, no_kernels, quarter):
    result, text = _run(_project(tmp_path), "--quarter", quarter)
    assert result.exit_code == 2, text
    assert f"{quarter} is before the data" in text and "won deals close from 2025-02-10" in text
    assert "Traceback" not in result.output and "TypeError" not in text and no_kernels == []


def test_a_quarter_without_won_deals_in_its_window_is_refused(tmp_path, no_kernels):
    deals = (
        "deal_id,account_id,close_date,amount,stage\n"
        "D1,A1,2023-02-10,100,won\n"
        "D2,A1,2026-09-30,80,won\n"
    )
    config = _project(tmp_path, deals=deals)
    result, text = _run(config, "--quarter", "2025Q1")
    assert result.exit_code == 2, text
    assert "2025Q1 has no won deal in its analysis window 2024-04-01 to 2025-04-01" in text
    assert no_kernels == []


def test_an_endless_range_is_refused_before_it_is_expanded(tmp_path, no_kernels):
    result, text = _run(_project(tmp_path), "--quarters", "0001Q1:9999Q4")
    assert result.exit_code == 2, text
    assert "9999Q4 is after the data" in text and "try --quarters 2025Q1:2026Q3" in text
    assert no_kernels == []


@pytest.mark.parametrize("spec", ["2025Q3-2026Q3", "2025Q3..2026Q3", "2025Q3 to 2026Q3", "2025q3 - 2026q3"])
def test_a_range_with_the_wrong_separator_suggests_the_colon(tmp_path, no_kernels, spec):
    result, text = _run(_project(tmp_path), "--quarters", spec)
    assert result.exit_code == 2, text
    assert "--quarters:" in text and "--quarter:" not in text
    assert "--quarters 2025Q3:2026Q3" in text
    assert no_kernels == []


def test_a_single_quarter_typed_loosely_gets_a_hint():
    with pytest.raises(QuarterError, match=r"--quarter: '2026-Q3' is not of the form YYYYQn.*did you mean 2026Q3"):
        parse_quarter_spec("2026-Q3")
    assert parse_quarter_spec("2025Q1:2026Q3", option="--quarters") == (Quarter(2025, 1), Quarter(2026, 3))


@pytest.mark.parametrize(
    "deals",
    [
        "deal_id,account_id,close_date,amount\n",
        "deal_id,account_id,close_date,amount\nD1,A1,soon,10\nD2,A1,never,20\n",
    ],
    ids=["header-only", "all-bad-dates"],
)
def test_deals_without_a_readable_date_say_so_with_the_quarter_given(tmp_path, no_kernels, deals):
    result, text = _run(_project(tmp_path, deals=deals), "--quarter", "2026Q3")
    assert result.exit_code == 2, text
    assert "no won or lost deal has a readable close_date" in text and "deals.csv" in text
    assert "latest complete quarter from" not in text and "Traceback" not in result.output
    assert no_kernels == []


def test_no_won_deal_at_all_is_named(tmp_path):
    deals = "deal_id,account_id,close_date,amount,stage\nD1,A1,2026-09-30,10,lost\n"
    plan = check_quarters(load_config(_project(tmp_path, deals=deals)), [])
    assert len(plan.problems) == 1 and "no deal is won" in plan.problems[0]


def test_a_missing_reports_parent_from_the_yaml_names_the_config_key(tmp_path, no_kernels):
    config = _project(tmp_path)
    config.write_text(config.read_text().replace("reports_dir: reports", "reports_dir: gone/deeper/reports"))
    result, text = _run(config, "--quarter", "2026Q3")
    assert result.exit_code == 2, text
    assert "reports_dir in" in text and "icp.yml" in text and "--reports-dir" not in text
    result, text = _run(config, "--quarter", "2026Q3", "--reports-dir", str(tmp_path / "x" / "y"))
    assert "--reports-dir: parent folder not found" in text


def _fake_run(reports: Path, folder: str, *, status: str, incomplete: bool = False, problems=()) -> None:
    path = reports / folder
    path.mkdir(parents=True)
    record = {"quarter": folder[:6], "status": status, "incomplete": incomplete,
              "problems": list(problems), "finished_at": "2026-10-01T00:00:00+00:00"}
    (path / "run.json").write_text(json.dumps(record))
    (path / "index.html").write_text("<html></html>")


def test_the_index_lists_failed_runs_apart_and_marks_incomplete_ones(tmp_path):
    reports = tmp_path / "reports"
    _fake_run(reports, "2026Q2", status="ok")
    _fake_run(reports, "2026Q3", status="ok", incomplete=True)
    _fake_run(reports, "2019Q1.failed", status="failed", problems=["05_lead_scoring did not finish"])
    html = runner.write_batch_index(reports).read_text(encoding="utf-8")
    published, _, failed = html.partition("Failed attempts")
    assert "2026Q2" in published and "2026Q3" in published and "2019Q1" not in published
    assert "2019Q1" in failed and "05_lead_scoring did not finish" in failed and "2026Q2" not in failed
    row = published[published.index(">2026Q3<"):]
    assert "incomplete" in row[: row.index("</tr>")]


def test_parquet_deals_are_counted_on_the_engine_as_the_csv_path_counts_them(tmp_path, monkeypatch):
    # A pre-check over 100 million deals must not bring them into pandas: DuckDB counts
    # the Parquet file per stage and quarter, with the stage names and the plausible-date
    # range applied exactly as when the same deals are read from CSV.
    import pandas as pd

    from icp_helpers.data import loaders

    deals = pd.DataFrame(
        {
            "Deal": [f"D{i}" for i in range(9)],
            "account_id": "A1",
            "Closed": pd.to_datetime(
                ["2025-02-10 09:30", "2025-03-31 23:59:59", "2025-11-20", "2026-04-02", "2026-09-30 17:00",
                 "1850-01-01", "2026-08-01", "2026-09-02", "2026-09-29"], format="ISO8601"
            ),
            "amount": 1.0,
            "Stage": ["Closed Won", "won", None, "Closed Lost", "Won", "won", "Prospecting", "lost", "LOST"],
        }
    )
    inputs = {"deals": {"columns": {"Deal": "deal_id", "Closed": "close_date", "Stage": "stage"}}}
    for kind in ("csv", "parquet"):
        folder = tmp_path / kind
        folder.mkdir()
        if kind == "csv":
            deals.to_csv(folder / "deals.csv", index=False)
        else:
            deals.to_parquet(folder / "deals.parquet", index=False)
        (folder / "icp.yml").write_text(
            f"inputs:\n  deals: {{path: deals.{kind}, columns: {inputs['deals']['columns']}}}\n"
        )
    from_csv = loaders.closed_deal_dates(load_config(tmp_path / "csv" / "icp.yml"))

    def no_pandas_read(*args, **kwargs):
        raise AssertionError("the deals were read into pandas")

    monkeypatch.setattr(loaders, "_read_columns", no_pandas_read)
    from_parquet = loaders.closed_deal_dates(load_config(tmp_path / "parquet" / "icp.yml"))

    pd.testing.assert_frame_equal(from_parquet, from_csv)
    assert list(from_parquet.columns) == ["stage", "quarter", "deals", "first_close", "last_close"]
    won = from_parquet[from_parquet["stage"] == "won"].set_index("quarter")
    assert won["deals"].to_dict() == {Quarter(2025, 1): 2, Quarter(2025, 4): 1, Quarter(2026, 3): 1}
    assert won.loc[Quarter(2025, 1), "last_close"] == pd.Timestamp("2025-03-31 23:59:59")
    lost = from_parquet[from_parquet["stage"] == "lost"]
    assert lost["deals"].sum() == 3 and lost["last_close"].max() == pd.Timestamp("2026-09-29")
    plan = check_quarters(load_config(tmp_path / "parquet" / "icp.yml"), ["2026Q3", "2025Q1"])
    assert plan.quarters == ["2025Q1", "2026Q3"] and not plan.problems
