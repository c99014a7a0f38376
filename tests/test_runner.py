"""The render path: papermill execution, parameters, offline HTML, run.json provenance.

These tests use a tiny throwaway notebook and a two-table project in a temporary
folder, so they exercise the runner without depending on the real notebooks.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from icp_helpers.data.config import NOTEBOOK_ORDER, NOTEBOOKS_DIR, load_config
from icp_helpers.reports.runner import (
    DRIFT_NOTEBOOK,
    EXPECTED_ARTIFACTS,
    KERNEL_NAME,
    NotebookError,
    NotebookResult,
    execute_notebook,
    external_urls,
    input_hashes,
    render_html,
    run_quarter,
    verify_run_dir,
    write_quarter_index,
)

# A string that appears only in code cells: it must never reach the HTML.
CODE_ONLY_MARKER = "code_only_marker_7f3a"

TINY_SOURCE = f"""\
import json, sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

{CODE_ONLY_MARKER} = Path(config_path).with_name(f"fail_{{quarter}}")
if {CODE_ONLY_MARKER}.exists():
    raise ValueError(f"injected failure for {{quarter}}")
out = Path(run_dir)
rng = np.random.default_rng(int(quarter[:4]) * 10 + int(quarter[-1]))
table = pd.DataFrame({{"account_id": [f"A{{i}}" for i in range(20)], "value": rng.normal(size=20)}})
table.to_parquet(out / "table.parquet", index=False)
(out / "result.json").write_text(json.dumps({{
    "config_path": config_path, "quarter": quarter, "run_dir": run_dir,
    "extra": extra, "executable": sys.executable, "total": round(float(table.value.sum()), 9),
}}, sort_keys=True))
print("rows written:", len(table))
"""


def write_tiny_notebook(folder: Path, name: str = "01_tiny") -> Path:
    """A notebook in the project's shape: title, parameters cell, one call, one figure."""
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Tiny report\n\n## 1. Parameters"),
            new_code_cell(
                'config_path: str = ""\nquarter: str = ""\nrun_dir: str = ""\nextra: int = 0',
                metadata={"tags": ["parameters"]},
            ),
            new_markdown_cell("## 2. Table"),
            new_code_cell(TINY_SOURCE),
            new_markdown_cell("## 3. Figure"),
            new_code_cell("fig, ax = plt.subplots()\nax.plot(table.value)\nplt.show()"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def write_tiny_project(folder: Path) -> Path:
    """A config with the two required tables and reports inside ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "accounts.csv").write_text("account_id,industry,employees,country\nA1,retail,10,Italy\n")
    (folder / "deals.csv").write_text("deal_id,account_id,close_date,amount\nD1,A1,2026-01-15,100\n")
    config = folder / "icp.yml"
    config.write_text(
        "name: tiny\nreports_dir: reports\ninputs:\n"
        "  accounts: {path: accounts.csv}\n  deals: {path: deals.csv}\n"
    )
    return config


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One executed tiny notebook (with HTML) shared by the tests below.

    A user-level ``python3`` kernelspec pointing at another interpreter is put
    on the Jupyter path first: the runner must not use it.
    """
    root = tmp_path_factory.mktemp("tiny")
    config = write_tiny_project(root / "project")
    notebooks = root / "notebooks"
    write_tiny_notebook(notebooks)
    decoy = root / "jupyter" / "kernels" / "python3"
    decoy.mkdir(parents=True)
    (decoy / "kernel.json").write_text(json.dumps({
        "argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "elsewhere", "language": "python",
    }))
    run_dir = root / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(root / "jupyter"))
        patch.setenv("JUPYTER_DATA_DIR", str(root / "jupyter"))
        result = execute_notebook(
            "01_tiny",
            config_path=str(config),
            quarter="2026Q1",
            run_dir=str(run_dir),
            parameters={"extra": 42},
            notebooks_dir=notebooks,
        )
    return {"config": config, "notebooks": notebooks, "run_dir": run_dir, "result": result}


def test_parameters_reach_the_notebook(tiny):
    written = json.loads((tiny["run_dir"] / "result.json").read_text())
    assert written["quarter"] == "2026Q1"
    assert written["extra"] == 42
    assert Path(written["config_path"]) == tiny["config"].resolve()
    assert Path(written["run_dir"]) == tiny["run_dir"].resolve()
    executed = nbformat.read(tiny["result"].notebook_path, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "extra = 42" in injected[0].source


def test_kernel_runs_the_runner_interpreter(tiny):
    """The kernel is ``sys.executable`` even with a foreign ``python3`` kernelspec on the path."""
    written = json.loads((tiny["run_dir"] / "result.json").read_text())
    assert written["executable"] == sys.executable
    assert tiny["result"].ok


def test_html_hides_code_and_embeds_the_figure(tiny):
    html = tiny["result"].html_path.read_text(encoding="utf-8")
    assert CODE_ONLY_MARKER not in html
    assert "jp-CodeMirrorEditor" not in html.split("</style>")[-1]
    assert 'class="jp-InputPrompt' not in html and "plt.subplots" not in html
    assert "rows written: 20" in html
    assert "Tiny report" in html
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html)


def test_html_loads_nothing_from_the_network(tiny):
    html = tiny["result"].html_path.read_text(encoding="utf-8")
    assert external_urls(html) == []
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.IGNORECASE)
    assert "require.min.js" not in html and "MathJax" not in html


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ('<script src="https://cdn.example/x.js"></script>', ["https://cdn.example/x.js"]),
        ("<link rel='stylesheet' href=//fonts.example/a.css>", ["//fonts.example/a.css"]),
        ("<style>@import url(http://x.example/s.css);</style>", ["http://x.example/s.css"]),
        ('<a href="report.html">r</a><img src="data:image/png;base64,AAA">', []),
    ],
)
def test_external_urls_finds_remote_resources(snippet, found):
    assert external_urls(snippet) == found


def test_failure_keeps_the_error_visible(tmp_path, tiny):
    (tiny["config"].with_name("fail_2025Q4")).touch()
    try:
        with pytest.raises(NotebookError, match="injected failure for 2025Q4") as info:
            execute_notebook(
                "01_tiny", config_path=str(tiny["config"]), quarter="2025Q4",
                run_dir=str(tmp_path), notebooks_dir=tiny["notebooks"],
            )
    finally:
        tiny["config"].with_name("fail_2025Q4").unlink()
    result = info.value.result
    assert result.status == "failed" and "ValueError" in result.error
    executed = nbformat.read(result.notebook_path, as_version=4)
    assert "An Exception was encountered" in executed.cells[0].source  # papermill's banner
    html = result.html_path.read_text(encoding="utf-8")
    assert "injected failure for 2025Q4" in html


def test_render_html_default_path(tiny, tmp_path):
    copy = tmp_path / "copy.ipynb"
    copy.write_bytes(tiny["result"].notebook_path.read_bytes())
    assert render_html(copy) == tmp_path / "copy.html"
    assert (tmp_path / "copy.html").stat().st_size > 0


def test_run_quarter_writes_provenance(tiny):
    result = run_quarter(
        tiny["config"], "2026Q1", notebooks=["01_tiny"], notebooks_dir=tiny["notebooks"],
        expected={"01_tiny": ("table.parquet", "result.json")},
    )
    assert result.ok, result.error
    folder = tiny["config"].parent / "reports" / "2026Q1"
    assert result.run_dir == folder and result.notebooks[0].html_path == folder / "01_tiny.html"
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "ok" and record["quarter"] == "2026Q1"
    assert record["parameters"]["run_dir"] == str(folder)
    accounts = tiny["config"].parent / "accounts.csv"
    assert record["inputs"]["accounts"] == {
        "accounts.csv": hashlib.sha256(accounts.read_bytes()).hexdigest()
    }
    assert set(record["inputs"]) == {"config", "accounts", "deals"}
    assert record["environment"]["executable"] == sys.executable
    assert record["environment"]["packages"]["papermill"]
    (entry,) = record["notebooks"]
    assert entry["name"] == "01_tiny" and entry["status"] == "ok"
    assert entry["html"] == "01_tiny.html"
    for key in ("kernel_start_s", "execution_s", "render_s", "duration_s"):
        assert entry[key] is not None and entry[key] >= 0
    assert entry["kernel_start_s"] + entry["execution_s"] <= entry["duration_s"]
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert 'href="01_tiny.html"' in index and 'href="run.json"' in index
    assert not list(folder.parent.glob(".*partial"))
    assert input_hashes(load_config(tiny["config"])) == record["inputs"]


def test_verify_flags_missing_and_truncated_artifacts(tiny, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(tiny["run_dir"], folder)
    result = tiny["result"]
    assert verify_run_dir(folder, [result], expected={"01_tiny": ("table.parquet",)}) == []
    problems = verify_run_dir(folder, [result], expected={"01_tiny": ("table.parquet", "never.parquet")})
    assert problems == ["01_tiny did not write never.parquet"]
    data = (folder / "table.parquet").read_bytes()
    (folder / "table.parquet").write_bytes(data[: len(data) // 2])
    (folder / "result.json").write_text('{"cut": ')
    (folder / "01_tiny.html").write_text("")
    problems = " | ".join(verify_run_dir(folder, [result], expected={}))
    assert "table.parquet is not readable Parquet" in problems
    assert "result.json is not readable JSON" in problems
    assert "01_tiny did not write 01_tiny.html" in problems
    failed = NotebookResult(**{**vars(result), "status": "failed", "error": "cell 3: boom"})
    assert "01_tiny did not finish: cell 3: boom" in verify_run_dir(tiny["run_dir"], [failed], expected={})


def test_expected_artifacts_cover_every_notebook():
    assert set(EXPECTED_ARTIFACTS) == set(NOTEBOOK_ORDER)


def test_index_escapes_artifact_text(tmp_path):
    """Headline text read from artifacts is escaped (Jinja2 autoescape)."""

    (tmp_path / "selection.json").write_text(
        json.dumps({"selected": [{"id": "x", "label": "<script>alert(1)</script>", "points": 2}]})
    )
    pd.DataFrame({"account_id": ["a", "b", "c"], "tier": ["A", "B", "B"]}).to_csv(
        tmp_path / "scored_accounts.csv", index=False
    )
    record = {
        "quarter": "2026Q1", "status": "ok", "problems": [], "finished_at": "", "started_at": "",
        "duration_s": 1.0, "inputs": {}, "notebooks": [], "skipped": [],
        "parameters": {"config_path": "icp.yml", "notebooks_dir": "notebooks"},
        "environment": {"python": "3", "executable": sys.executable},
    }
    html = write_quarter_index(tmp_path, record).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert re.search(r">2</div>accounts in tier B", html)


NOTEBOOK_PARAMETERS = {name: {"config_path", "quarter", "run_dir"} for name in NOTEBOOK_ORDER}
NOTEBOOK_PARAMETERS[DRIFT_NOTEBOOK] = {"config_path", "from_quarter", "to_quarter", "reports_dir", "out_dir"}


@pytest.mark.parametrize("name", sorted(NOTEBOOK_PARAMETERS))
def test_notebook_parameters_are_readable_by_papermill(name, caplog):
    """Each notebook's parameters cell parses (a comment with '=' breaks papermill's parser)."""
    import papermill

    path = NOTEBOOKS_DIR / f"{name}.ipynb"
    with caplog.at_level("WARNING", logger="papermill"):
        found = papermill.inspect_notebook(str(path))
    assert [r.getMessage() for r in caplog.records] == []
    assert set(found) == NOTEBOOK_PARAMETERS[name]
    assert all(p["inferred_type_name"] == "str" for p in found.values())
    assert nbformat.read(path, as_version=4).metadata["kernelspec"]["name"] == KERNEL_NAME


def test_the_index_counts_customers_for_a_consumer_profile(tiny, tmp_path):
    result = run_quarter(
        tiny["config"], "2026Q2", notebooks=["01_tiny"], notebooks_dir=tiny["notebooks"],
        expected={"01_tiny": ("table.parquet", "result.json")},
    )
    record = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    for folder, columns, noun in ((tmp_path / "b2c", ["account_id", "age_band", "won_value"], "customers"),
                                  (tmp_path / "b2b", ["account_id", "industry", "won_value"], "accounts")):
        folder.mkdir()
        (folder / "step1.json").write_text(
            json.dumps({"counts": {"accounts": 120, "best": 24}, "feature_columns": columns}), encoding="utf-8"
        )
        page = write_quarter_index(folder, record).read_text(encoding="utf-8")
        assert " ".join(page.split()).count(f"of 120 {noun}") == 1
