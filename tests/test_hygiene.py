"""Repository conventions: notebooks committed without outputs, ruff clean on code and notebooks."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from icp_helpers.data.config import NOTEBOOKS_DIR, PROJECT_ROOT

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    with_output = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.outputs]
    counted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count]
    assert with_output == [] and counted == [], f"{path.name}: run nbstripout on it"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"


def test_ruff_is_clean_on_code_and_notebooks():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "icp_helpers", "tests", "bench", "notebooks"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("preset, title", [("hubspot", "HubSpot"), ("salesforce", "Salesforce")])
def test_readme_documents_every_header_each_preset_expects(preset, title):
    import yaml

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Presets", 1)[1].split("\n## ", 1)[0]
    table_text = section.split(f"| {title} export |", 1)[1].split("\n\n", 1)[0]
    spec = yaml.safe_load((PROJECT_ROOT / "icp_helpers" / "presets" / f"{preset}.yml").read_text())
    for table, mapping in spec["tables"].items():
        rows = [line for line in table_text.splitlines() if f"(`{table}`)" in line]
        assert len(rows) == 1, f"README needs one {title} row for {table}"
        for column, headers in mapping["columns"].items():
            expected = f"`{column}` ← " + " / ".join(headers)
            assert expected in rows[0], f"{title} {table}: {expected}"
