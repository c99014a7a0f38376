"""Batch reruns: parallel quarters, drift, failure isolation, atomic replacement, reproducibility.

A tiny one-notebook "quarter" stands in for the real notebooks (it writes the
artifacts drift reads, seeded by the quarter), so the batch machinery runs in
seconds per quarter; the real notebooks run end to end in the slow tests.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from rich.console import Console
from typer.testing import CliRunner

from icp_helpers.cli import app
from icp_helpers.data import config as settings
from icp_helpers.data.config import DEFAULT_CONFIG, NOTEBOOKS_DIR
from icp_helpers.reports.reader import scan_html
from icp_helpers.reports.runner import VOLATILE_RUN_KEYS, run_batch, run_quarter

QUARTER_SOURCE = """\
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

if Path(config_path).with_name(f"fail_{quarter}").exists():
    raise RuntimeError(f"injected failure for {quarter}")
out = Path(run_dir)
rng = np.random.default_rng(int(quarter[:4]) * 10 + int(quarter[-1]))
ids = [f"A{i}" for i in range(12)]
traits = {"2026Q1": ["industry=wholesaler", "case_study"]}.get(quarter, ["industry=wholesaler", "country=Italy"])
(out / "selection.json").write_text(json.dumps({"traits": [{"id": t, "label": t} for t in traits]}))
pd.DataFrame({"trait": ["industry=wholesaler", "case_study", "country=Italy"],
              "lift": rng.uniform(1, 3, 3), "q_value": rng.uniform(0, 0.05, 3)}).to_parquet(out / "evidence.parquet")
pd.DataFrame({"account_id": ids, "tier": rng.choice(list("ABC"), 12),
              "fit_score": rng.integers(0, 10, 12)}).to_csv(out / "scored_accounts.csv", index=False)
pd.DataFrame({"account_id": ids, "group": rng.integers(0, 3, 12)}).to_parquet(out / "groups.parquet")
(out / "personas.json").write_text(json.dumps([{"id": "role-buyer", "label": "Buyer", "description": quarter}]))
(out / "step1.json").write_text(json.dumps({"counts": {"best": 3, "accounts": 12}, "quarter": quarter}))
fig, ax = plt.subplots()
ax.bar(ids, rng.uniform(size=12))
plt.show()
"""


def make_quarter_notebook(folder: Path, name: str = "01_tiny") -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Tiny quarter\n\n## 1. Parameters"),
            new_code_cell('config_path: str = ""\nquarter: str = ""\nrun_dir: str = ""',
                          metadata={"tags": ["parameters"]}),
            new_markdown_cell("## 2. Artifacts"),
            new_code_cell(QUARTER_SOURCE),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


def make_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "accounts.csv").write_text("account_id,industry,employees,country\nA1,retail,10,Italy\n")
    (folder / "deals.csv").write_text(
        "deal_id,account_id,close_date,amount\nD1,A1,2026-01-15,100\nD2,A1,2026-06-20,90\n"
    )
    config = folder / "icp.yml"
    config.write_text("name: tiny\nreports_dir: reports\ninputs:\n"
                      "  accounts: {path: accounts.csv}\n  deals: {path: deals.csv}\n")
    return config


def snapshot(folder: Path) -> dict[str, object]:
    """Comparable content of a run folder: Parquet as frames, JSON as data, minus clocks."""
    out: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".parquet":
            out[rel] = pd.read_parquet(path)
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            if path.name == "run.json":
                data = _strip_volatile(data)
            out[rel] = data
        elif path.suffix == ".csv":
            out[rel] = path.read_text()
        elif path.is_file():
            out[rel] = None  # present; content carries timestamps (notebooks, HTML)
    return out


def _strip_volatile(value):
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items() if k not in VOLATILE_RUN_KEYS}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, b[key], obj=key)
        else:
            assert value == b[key], key


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Two quarters run in two worker processes, then drift between them."""
    root = tmp_path_factory.mktemp("batch")
    config = make_project(root / "project")
    notebooks = root / "notebooks"
    make_quarter_notebook(notebooks)
    shutil.copy(NOTEBOOKS_DIR / "06_quarter_drift.ipynb", notebooks / "06_quarter_drift.ipynb")
    stream = io.StringIO()
    result = run_batch(
        config, "2026Q1:2026Q2", workers=2, notebooks=["01_tiny"], notebooks_dir=notebooks,
        console=Console(file=stream, width=120),
    )
    reports = config.parent / "reports"
    return {
        "config": config, "notebooks": notebooks, "reports": reports, "result": result,
        "progress": stream.getvalue(),
        "snapshots": {q: snapshot(reports / q) for q in ("2026Q1", "2026Q2")},
        "result_json": {q: (reports / q / "selection.json").read_bytes() for q in ("2026Q1", "2026Q2")},
    }


def test_parallel_batch_writes_every_quarter_and_drift(batch):
    result, reports = batch["result"], batch["reports"]
    assert result.ok, result.failures()
    assert [q.quarter for q in result.quarters] == ["2026Q1", "2026Q2"]
    for q in ("2026Q1", "2026Q2"):
        assert (reports / q / "index.html").is_file() and (reports / q / "01_tiny.html").is_file()
        assert json.loads((reports / q / "run.json").read_text())["status"] == "ok"
    assert "2026Q1" in batch["progress"] and "01_tiny" in batch["progress"]
    (d,) = result.drift
    assert (d.from_quarter, d.to_quarter, d.status) == ("2026Q1", "2026Q2", "ok"), d.error
    summary = json.loads((reports / "drift" / "2026Q1_2026Q2" / "drift.json").read_text())
    assert summary["traits_entered"] == ["country=Italy"] and summary["traits_left"] == ["case_study"]
    assert summary["missing"] == []
    assert d.html_path == reports / "drift" / "2026Q1_2026Q2" / "06_quarter_drift.html"
    index = result.index_path.read_text(encoding="utf-8")
    assert result.index_path == reports / "index.html"
    assert 'href="2026Q1/index.html"' in index and 'href="2026Q2/index.html"' in index
    assert 'href="drift/2026Q1_2026Q2/06_quarter_drift.html"' in index
    assert not [p for p in reports.rglob(".*") if p.name.endswith(".partial")]


def test_quarter_index_reads_headline_artifacts(batch):
    index = (batch["reports"] / "2026Q1" / "index.html").read_text(encoding="utf-8")
    assert ">3</div>best customers of 12 accounts" in index
    assert "industry=wholesaler" in index and 'href="scored_accounts.csv"' in index
    tiers = pd.read_csv(batch["reports"] / "2026Q1" / "scored_accounts.csv")["tier"].value_counts()
    for tier, count in tiers.items():
        assert f">{count}</div>accounts in tier {tier}" in index


def test_failed_quarter_keeps_the_previous_report(batch, monkeypatch):
    config, reports = batch["config"], batch["reports"]
    marker = config.with_name("fail_2026Q2")
    marker.touch()
    monkeypatch.setattr(settings, "NOTEBOOK_ORDER", ("01_tiny",))
    try:
        outcome = CliRunner().invoke(
            app,
            ["run", "--config", str(config), "--quarters", "2026Q1:2026Q2",
             "--notebooks-dir", str(batch["notebooks"])],
        )
    finally:
        marker.unlink()
    assert outcome.exit_code == 1, outcome.output
    assert "2026Q2" in outcome.output and "injected failure for 2026Q2" in outcome.output
    # the good quarter was rerun and replaced, the failed one kept its previous report
    assert json.loads((reports / "2026Q1" / "run.json").read_text())["status"] == "ok"
    assert (reports / "2026Q2" / "selection.json").read_bytes() == batch["result_json"]["2026Q2"]
    assert json.loads((reports / "2026Q2" / "run.json").read_text())["status"] == "ok"
    failed = reports / "2026Q2.failed"
    record = json.loads((failed / "run.json").read_text())
    assert record["status"] == "failed" and record["notebooks"][0]["status"] == "failed"
    assert "injected failure for 2026Q2" in (failed / "01_tiny.html").read_text(encoding="utf-8")
    executed = nbformat.read(failed / "01_tiny.ipynb", as_version=4)
    assert "An Exception was encountered" in executed.cells[0].source
    assert "did not complete" in (failed / "index.html").read_text(encoding="utf-8")
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "2026Q2.failed/" in index
    assert not [p for p in reports.glob(".*") if p.is_dir()]


def test_rerun_with_same_inputs_gives_the_same_artifacts(batch):
    result = run_quarter(batch["config"], "2026Q1", notebooks=["01_tiny"],
                         notebooks_dir=batch["notebooks"])
    assert result.ok, result.error
    assert_same(snapshot(batch["reports"] / "2026Q1"), batch["snapshots"]["2026Q1"])
    assert not (batch["reports"] / "2026Q1.failed").exists()


def test_rerunning_a_quarter_refreshes_the_drift_reports_that_involve_it(batch):
    drift_dir = batch["reports"] / "drift" / "2026Q1_2026Q2"
    before = nbformat.read(drift_dir / "06_quarter_drift.ipynb", as_version=4).metadata.papermill.start_time
    result = run_batch(batch["config"], "2026Q2", notebooks=["01_tiny"], notebooks_dir=batch["notebooks"])
    assert result.ok, result.failures()
    assert [(d.from_quarter, d.to_quarter) for d in result.drift] == [("2026Q1", "2026Q2")]
    after = nbformat.read(drift_dir / "06_quarter_drift.ipynb", as_version=4).metadata.papermill.start_time
    assert after > before


# ---------------------------------------------------------------- real notebooks

@pytest.mark.slow
def test_end_to_end_two_sample_quarters(sample_run, tmp_path):
    """``icp run --quarters`` on the sample: two reports in parallel, drift, and a rerun that
    reproduces the session's run of the same quarter."""
    reports = tmp_path / "reports"
    outcome = CliRunner().invoke(
        app,
        ["run", "--config", str(DEFAULT_CONFIG), "--quarters", "2026Q2:2026Q3", "--workers", "2",
         "--reports-dir", str(reports)],
    )
    assert outcome.exit_code == 0, outcome.output
    for quarter in ("2026Q2", "2026Q3"):
        record = json.loads((reports / quarter / "run.json").read_text())
        assert record["status"] == "ok"
        assert [nb["name"] for nb in record["notebooks"]] == list(settings.NOTEBOOK_ORDER)
        index = (reports / quarter / "index.html").read_text(encoding="utf-8")
        for name in settings.NOTEBOOK_ORDER:
            assert f'href="{name}.html"' in index and (reports / quarter / f"{name}.html").is_file()
        assert 'href="icp_card.html"' in index
    drift_dir = reports / "drift" / "2026Q2_2026Q3"
    summary = json.loads((drift_dir / "drift.json").read_text())
    assert summary["missing"] == [] and summary["groups"]["n_common"] > 0
    assert (drift_dir / "06_quarter_drift.html").is_file()
    batch_index = (reports / "index.html").read_text(encoding="utf-8")
    assert 'href="drift/2026Q2_2026Q3/06_quarter_drift.html"' in batch_index
    # reader mode: no staging path, repr, long float or cut table in any page a reader opens
    pages = sorted(reports.rglob("*.html"))
    assert len(pages) >= 2 * (len(settings.NOTEBOOK_ORDER) + 2) + 2
    found = [line for page in pages for line in scan_html(page.read_text(encoding="utf-8"), name=page.name)]
    assert found == []
    # same quarter, same inputs, another run: the same artifacts
    fresh = {k: v for k, v in snapshot(reports / "2026Q3").items() if v is not None}
    before = {k: v for k, v in snapshot(sample_run).items() if v is not None}
    common = sorted(fresh.keys() & before.keys() - {"run.json"})
    assert len(common) >= 10, common
    assert_same({k: fresh[k] for k in common}, {k: before[k] for k in common})
