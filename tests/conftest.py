"""Shared fixtures: the sample config, and one run of the whole sample quarter.

Notebook tests assert on the artifacts of a single session-wide run of the
notebooks on the bundled sample, so each notebook executes once per test run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from icp_helpers.data.config import DEFAULT_CONFIG, NOTEBOOK_ORDER, SAMPLE_DIR

SAMPLE_QUARTER = "2026Q3"


@pytest.fixture(scope="session")
def sample_config_path() -> Path:
    return DEFAULT_CONFIG


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> Path:
    """Run every notebook of the sample's latest quarter once; return the run folder."""
    from icp_helpers.reports.runner import execute_notebook

    run_dir = tmp_path_factory.mktemp("sample_run") / SAMPLE_QUARTER
    run_dir.mkdir()
    for name in NOTEBOOK_ORDER:
        execute_notebook(
            name,
            config_path=str(DEFAULT_CONFIG),
            quarter=SAMPLE_QUARTER,
            run_dir=str(run_dir),
            html=False,
        )
    return run_dir
