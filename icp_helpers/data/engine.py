"""The Ibis backend the project runs on: in-process DuckDB, Spark or a database URL.

Shared by the loaders (engine tables) and the account features.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis

from .config import EngineConfig, ProjectConfig

__all__ = ["connect"]


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
        return ibis.duckdb.connect(engine.database or ":memory:")
    if engine.backend == "pyspark":
        return ibis.pyspark.connect(_spark_session(engine.master))
    if not engine.url:
        raise ValueError("engine.backend is 'url' but engine.url is not set")
    return ibis.connect(engine.url)

