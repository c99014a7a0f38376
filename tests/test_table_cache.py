"""The cache of validated tables: same result as validating, invalidated by any change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from icp_helpers.data import loaders
from icp_helpers.data.config import SAMPLE_DIR, load_config
from icp_helpers.data.loaders import load_project
from icp_helpers.data.table_cache import CACHED_TABLES, KEEP_PER_TABLE, TableCache


def sample_copy(tmp_path: Path, **extra) -> Path:
    """The bundled sample in ``tmp_path/data`` with a config whose reports go to ``tmp_path/reports``."""
    shutil.copytree(SAMPLE_DIR, tmp_path / "data")
    config = yaml.safe_load((Path(__file__).parents[1] / "icp.yml").read_text(encoding="utf-8"))
    config.update(data_dir="data", reports_dir="reports", **extra)
    path = tmp_path / "icp.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def entries(tmp_path: Path) -> dict[str, list[str]]:
    folder = tmp_path / "reports" / ".cache" / "tables"
    out: dict[str, list[str]] = {}
    for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
        out.setdefault(entry.name.split("-")[0], []).append(entry.name)
    return out


def assert_same(a, b) -> None:
    assert list(a.tables) == list(b.tables)
    for table in a.tables:
        pd.testing.assert_frame_equal(a.tables[table].frame, b.tables[table].frame)
        pd.testing.assert_frame_equal(a.tables[table].quarantine, b.tables[table].quarantine)
        assert a.tables[table].summary == b.tables[table].summary


def test_a_cached_load_equals_a_fresh_validation_and_skips_it(tmp_path, monkeypatch):
    config = sample_copy(tmp_path)
    fresh = load_project(config, cache=False)
    assert entries(tmp_path) == {}, "cache=False neither reads nor writes"
    stored = load_project(config)
    assert sorted(entries(tmp_path)) == sorted(CACHED_TABLES)
    calls = []
    original = loaders.load_table
    monkeypatch.setattr(loaders, "load_table", lambda *a, **k: calls.append(a[1]) or original(*a, **k))
    cached = load_project(config)
    # interviews, codebook and manual codes hold lists: validated every time, never cached
    assert sorted(calls) == ["codebook", "interviews", "manual_codes"]
    assert_same(fresh, stored)
    assert_same(fresh, cached)
    assert cached.summary.equals(fresh.summary)


def test_changed_bytes_of_a_file_are_a_miss(tmp_path):
    config = sample_copy(tmp_path)
    before = load_project(config, tables=["accounts", "deals"])
    deals = tmp_path / "data" / "deals.csv"
    lines = deals.read_text(encoding="utf-8").splitlines(keepends=True)
    deals.write_text("".join(lines[:-1]), encoding="utf-8")  # the last deal removed
    after = load_project(config, tables=["accounts", "deals"])
    assert after.tables["deals"].summary["rows_read"] == before.tables["deals"].summary["rows_read"] - 1
    assert len(entries(tmp_path)["deals"]) == 2
    assert len(entries(tmp_path)["accounts"]) == 1


def test_deals_are_revalidated_when_the_accounts_change(tmp_path):
    config = sample_copy(tmp_path)
    before = load_project(config, tables=["accounts", "deals"])
    accounts = pd.read_csv(tmp_path / "data" / "accounts.csv", dtype=str, keep_default_na=False)
    gone = before.deals["account_id"].iloc[0]
    accounts[accounts["account_id"] != gone].to_csv(tmp_path / "data" / "accounts.csv", index=False)
    after = load_project(config, tables=["accounts", "deals"])
    # the deals file is unchanged, yet its rows of the removed account are now unknown
    assert "unknown account_id" in after.tables["deals"].summary["reasons"]
    assert gone not in set(after.deals["account_id"])
    assert len(entries(tmp_path)["deals"]) == 2


def test_config_changes_that_alter_loading_are_a_miss(tmp_path):
    config = sample_copy(tmp_path)
    first = load_project(config, tables=["accounts"])
    text = yaml.safe_load(config.read_text(encoding="utf-8"))
    text["aliases"]["industry"]["deli"] = "delicatessen shop"
    config.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    second = load_project(config, tables=["accounts"])
    assert "delicatessen shop" in set(second.accounts["industry"])
    assert "delicatessen shop" not in set(first.accounts["industry"])


def test_an_unreadable_entry_is_a_miss_and_is_replaced(tmp_path):
    config = sample_copy(tmp_path)
    fresh = load_project(config, tables=["accounts", "deals"])
    (entry,) = entries(tmp_path)["deals"]
    (frame,) = (tmp_path / "reports" / ".cache" / "tables" / entry).glob("frame.*")  # deals: Parquet
    frame.write_bytes(b"not an Arrow file")
    again = load_project(config, tables=["accounts", "deals"])
    assert_same(fresh, again)
    # the broken entry made way for a good one
    assert TableCache.for_config(load_config(config)).get(entry) is not None


def test_cache_tables_false_turns_it_off(tmp_path):
    config = sample_copy(tmp_path, cache_tables=False)
    load_project(config, tables=["accounts", "deals"])
    assert not (tmp_path / "reports" / ".cache").exists()
    assert TableCache.for_config(load_config(config)) is None


def test_each_table_keeps_its_latest_entries(tmp_path):
    config = sample_copy(tmp_path)
    accounts = tmp_path / "data" / "accounts.csv"
    original = accounts.read_text(encoding="utf-8")
    for n in range(KEEP_PER_TABLE + 2):
        accounts.write_text(original + "\n" * n, encoding="utf-8")  # new bytes, same rows
        load_project(config, tables=["accounts"])
    assert len(entries(tmp_path)["accounts"]) == KEEP_PER_TABLE


@pytest.mark.parametrize("table", ["interviews", "codebook", "manual_codes"])
def test_tables_holding_lists_have_no_key(tmp_path, table):
    config = load_config(sample_copy(tmp_path))
    assert TableCache.for_config(config).key(config, table) is None


def _relative_imports(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
            found.update(f"{name}.py" for name in names if (path.parent / f"{name}.py").is_file())
    return found


def test_the_cache_key_covers_every_module_the_loaders_import():
    """A change to any loading code (even one imported inside a function) is a miss."""
    from icp_helpers.data import table_cache

    here = Path(table_cache.__file__).parent
    seen, todo = set(), ["loaders.py"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_relative_imports(here / name))
    assert {"loading.py", "reading.py", "mapping.py", "engine.py", "snapshot.py"} <= seen
    assert sorted(seen - set(table_cache._CODE_FILES)) == []
