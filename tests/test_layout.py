"""The package reads as the method: steps import only earlier steps, and no module imports itself back.

The import graph is read from the source (every ``import``, also those inside
functions, which run later but still tie the modules together), so a lazy
import cannot hide a circle.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import icp_helpers

PACKAGE = Path(icp_helpers.__file__).parent

#: The steps in the order data takes through them; each may import only itself and earlier ones.
STEPS = ("data", "customers", "interviews", "traits", "profile", "leads", "reports")

#: Packages on top of the steps, which may import any of them.
ON_TOP = ("sample", "cli")

#: Module circles known and still to be broken up (each a set of module names).
KNOWN_CIRCLES: list[set[str]] = []


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("icp_helpers", *path.relative_to(PACKAGE).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package modules one import statement of ``module`` reads."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        if node.level:
            package = module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        # ``from . import x`` names the module x; ``from .x import y`` the module .x
        targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    out = []
    for target in targets:
        if not target.startswith("icp_helpers"):
            continue
        while target not in MODULES:
            target = target.rsplit(".", 1)[0]
        if target != module:
            out.append(target)
    return out


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[module] = {
            target
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for target in _imported(module, node)
        }
    return graph


def _package(module: str) -> str:
    """``data`` for ``icp_helpers.data.schema``, ``cli`` for ``icp_helpers.cli``, ``""`` for the root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(component)
    return circles


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports(module):
    importlib.import_module(module)


def test_every_module_belongs_to_a_step_or_sits_on_top():
    packages = {_package(m) for m in MODULES} - {""}
    assert packages == set(STEPS) | set(ON_TOP)


def test_no_step_imports_a_later_step():
    later = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if _package(module) in STEPS
        and (
            _package(target) in ON_TOP
            or (_package(target) in STEPS and STEPS.index(_package(target)) > STEPS.index(_package(module)))
        )
    ]
    assert later == []


def test_no_import_circle():
    circles = [sorted(c) for c in _circles(_graph()) if c not in KNOWN_CIRCLES]
    assert circles == []


def test_the_circle_check_finds_a_circle_through_a_lazy_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [{"a", "b", "c"}]
    lazy = ast.parse("def f():\n    from .loading import load_table\n")
    assert _imported("icp_helpers.data.engine_load", lazy.body[0].body[0]) == ["icp_helpers.data.loading"]
