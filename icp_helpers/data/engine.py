"""The Ibis backend the project runs on: in-process DuckDB, Spark or a database URL.

Shared by the loaders (engine tables) and the account features.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from .config import EngineConfig, ProjectConfig

__all__ = ["as_table", "connect", "connect_duckdb"]


def _spark_session(master: str | None = None):
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return (
        SparkSession.builder.master(master or "local[*]")
        .appName("icp_helpers")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


def connect(config_or_engine: ProjectConfig | EngineConfig | Mapping | str | None = None):
    """Open the Ibis backend the features run on.

    Parameters
    ----------
    config_or_engine : ProjectConfig, EngineConfig, mapping, str or None
        A project config (its ``engine`` section is used), an engine section
        or a mapping of one (``{"backend": "pyspark"}``), a backend name
        (``"duckdb"``, ``"pyspark"``) or an Ibis URL (``"postgres://..."``).
        ``None`` gives in-memory DuckDB.

    Returns
    -------
    ibis backend
        DuckDB in-process (a database file when ``engine.database`` is set);
        for ``pyspark`` the active SparkSession, else a new local one with a
        UTC session time zone; for ``url``, ``ibis.connect(engine.url)``.
    """
    engine = config_or_engine
    if isinstance(engine, ProjectConfig):
        engine = engine.engine
    elif isinstance(engine, str):
        engine = (
            EngineConfig(backend=engine)
            if engine in ("duckdb", "pyspark")
            else EngineConfig(backend="url", url=engine)
        )
    elif isinstance(engine, Mapping):
        engine = EngineConfig.model_validate(dict(engine))
    elif engine is None:
        engine = EngineConfig()
    if engine.backend == "duckdb":
        return connect_duckdb(engine, database=engine.database)
    if engine.backend == "pyspark":
        return ibis.pyspark.connect(_spark_session(engine.master))
    if not engine.url:
        raise ValueError("engine.backend is 'url' but engine.url is not set")
    return ibis.connect(engine.url)


def connect_duckdb(engine: EngineConfig | None = None, *, database: str | None = None):
    """An in-process DuckDB with the engine section's ``memory_limit``, ``threads``, ``temp_directory``
    and ``max_temp_directory_size``.

    ``database`` is a DuckDB file (default in-memory). The memory limit
    bounds what DuckDB holds (hash tables, sorts); past it, DuckDB spills to
    the temporary directory instead of growing the process.
    """
    engine = engine or EngineConfig()
    con = ibis.duckdb.connect(database or ":memory:")
    settings = {
        "memory_limit": engine.memory_limit,
        "threads": engine.threads,
        "temp_directory": engine.temp_directory,
        "max_temp_directory_size": engine.max_temp_directory_size,
    }
    for name, value in settings.items():
        if value is not None:
            text = str(value).replace("'", "''")
            con.raw_sql(f"SET {name} = '{text}'")
    return con


def as_table(data: Any, backend=None) -> ir.Table | None:
    """An Ibis table for ``data``; pandas frames are handed to the backend as Arrow.

    Features of several windows built from one such table share one copy of
    the data in the engine (each pandas frame passed in is copied anew).

    On Spark a pandas frame is converted through Arrow and registered as a
    temporary view: much faster than row-by-row conversion, and missing
    strings stay NULL instead of becoming the text ``'NaN'``.
    """
    if data is None:
        return None
    if isinstance(data, ir.Table):
        return data
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame or an ibis Table, got {type(data).__name__}")
    if backend is not None and getattr(backend, "name", "") == "pyspark":
        import pyarrow as pa

        name = f"icp_input_{uuid.uuid4().hex}"
        arrow = pa.Table.from_pandas(data, preserve_index=False)
        backend._session.createDataFrame(arrow).createOrReplaceTempView(name)
        return backend.table(name)
    return ibis.memtable(data)


def _table_backend(*tables: ir.Table | None):
    for table in tables:
        if table is None:
            continue
        try:
            return table.get_backend()
        except Exception:  # noqa: BLE001 - memtables are bound to no backend
            continue
    return None
