"""pyproject.toml and environment.yml must agree about every dependency."""

from __future__ import annotations

import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10, which the package supports
    import tomli as tomllib
import yaml

from icp_helpers.data.config import PROJECT_ROOT

# conda-forge names that differ from the PyPI names in pyproject.toml
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def _name(requirement: str) -> str:
    name = re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]
    return CONDA_TO_PYPI.get(name.lower(), name.lower()).replace("_", "-")


def _pyproject_names() -> set[str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        names |= {_name(r) for r in extra}
    return names


def _environment_names() -> tuple[set[str], list[str]]:
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    names, pip_lines = set(), []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_lines = list(dep.get("pip", []))
            names |= {_name(r) for r in pip_lines if not r.startswith("-")}
        else:
            names.add(_name(dep))
    return names - {"python", "pip"}, pip_lines


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    env_names, _ = _environment_names()
    pyproject_names = _pyproject_names()
    assert env_names - pyproject_names == set(), "only in environment.yml"
    assert pyproject_names - env_names == set(), "only in pyproject.toml"


def test_environment_yml_installs_the_package_itself_editable():
    _, pip_lines = _environment_names()
    assert any(line.startswith("-e .") for line in pip_lines)


def test_name_normalisation_catches_a_difference():
    # the comparison above must be able to fail: a renamed package is a difference
    assert _name("ibis-framework[duckdb]>=9") == "ibis-framework"
    assert _name("python-duckdb") == "duckdb"
    assert _name("scikit_learn >=1.3") != _name("sklearn")
