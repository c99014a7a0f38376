"""Notebooks run by hand (JupyterLab, or papermill without ``run_dir``) never touch a published run."""

from __future__ import annotations

import hashlib

import papermill as pm
import pytest

from icp_helpers.data.config import DEFAULT_CONFIG, NOTEBOOKS_DIR, SAMPLE_DIR
from icp_helpers.reports.runner import KERNEL_NAME, _kernel_manager_class


def _digest(folder) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_a_lab_run_with_default_parameters_leaves_the_published_run_untouched(tmp_path):
    config = tmp_path / "icp.yml"
    text = DEFAULT_CONFIG.read_text(encoding="utf-8").replace("data_dir: data/sample", f"data_dir: {SAMPLE_DIR}")
    config.write_text(text + "reports_dir: reports\n", encoding="utf-8")
    published = tmp_path / "reports" / "2026Q3"
    published.mkdir(parents=True)
    (published / "index.html").write_text("<html>the published report</html>", encoding="utf-8")
    (published / "step1.json").write_text('{"quarter": "2026Q3", "published": true}', encoding="utf-8")
    before = _digest(published)

    # what JupyterLab does: the notebook's own defaults (quarter and run_dir empty)
    output = tmp_path / "executed.ipynb"
    pm.execute_notebook(
        str(NOTEBOOKS_DIR / "01_best_customers.ipynb"),
        str(output),
        parameters={"config_path": str(config)},
        kernel_name=KERNEL_NAME,
        kernel_manager_class=_kernel_manager_class(),
        cwd=str(NOTEBOOKS_DIR),
        progress_bar=False,
    )

    assert _digest(published) == before
    lab = tmp_path / "reports" / "lab" / "2026Q3"
    assert (lab / "step1.json").is_file() and (lab / "features.parquet").is_file()
    first = output.read_text(encoding="utf-8")
    assert "reports/lab/2026Q3/" in first and "is not touched" in first
