"""A loaded table and what both the loaders and the table cache need to name one.

:class:`LoadedTable` is what :func:`~icp_helpers.data.loaders.load_table`
returns and the table cache stores; presets and display paths enter each cache
key. Kept apart from the loaders so the cache does not import them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from .config import PRESETS_DIR, ConfigError, ProjectConfig
from .limits import YamlError, load_yaml

__all__ = ["ENGINE_ORDER", "LoadedTable", "read_rows", "typed_frame", "write_rows"]

#: The column of :attr:`LoadedTable.engine_table` that keeps the rows' order in their source.
ENGINE_ORDER = "__icp_order"


@functools.cache
def _preset(name_or_path: str) -> dict:
    path = Path(name_or_path)
    if path.suffix.lower() not in (".yml", ".yaml"):
        path = PRESETS_DIR / f"{name_or_path}.yml"
    if not path.is_file():
        raise ConfigError(f"preset {name_or_path!r}: file not found ({path})")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), source=f"preset {path}") or {}
    except YamlError as exc:
        raise ConfigError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"preset {path}: cannot be read ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict):
        raise ConfigError(f"preset {path}: expected `tables:` with a section per table")
    return data


class LoadedTable:
    """One canonical table after loading.

    Attributes
    ----------
    frame : DataFrame
        The usable rows, canonical columns parsed, extra columns kept. When
        the rows live in a Parquet file (:attr:`parquet`: deals validated on
        the engine, or deals from the table cache) the frame is read from it
        on first access only, so steps that query the file with the engine
        never hold the rows in pandas.
    quarantine : DataFrame
        Rows set aside: ``source_file``, ``source_row``, ``reason`` and the
        raw values under the file's own column names.
    summary : dict
        ``table``, ``files``, ``formats``, ``rows_read``, ``rows_used``,
        ``rows_quarantined``, ``rows_out`` (rows in ``frame``; fewer than
        ``rows_used`` when ``distinct`` or ``lines`` merge rows),
        ``reconciled``, ``filled_defaults`` (column -> rows filled),
        ``reasons`` (reason -> rows) and ``warnings``.
    parquet : Path or None
        The usable rows as a Parquet file, in :attr:`frame`'s order, or None.
    engine_table : ibis Table or None
        The usable rows kept in the engine that validated them (deals of an
        engine table on Spark or a database: a cached view or temporary
        table), with their source order in :data:`ENGINE_ORDER`; :attr:`frame`
        is fetched from it on first access only.
    """

    def __init__(
        self,
        frame: pd.DataFrame | None = None,
        quarantine: pd.DataFrame | None = None,
        summary: dict | None = None,
        *,
        parquet: str | Path | None = None,
        engine_table=None,
    ):
        if frame is None and parquet is None and engine_table is None:
            raise ValueError("a loaded table needs its frame, its Parquet file or its engine table")
        self._frame = frame
        self.quarantine = quarantine
        self.summary = summary
        self.parquet = Path(parquet) if parquet is not None else None
        self.engine_table = engine_table

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None and self.parquet is not None:
            self._frame = read_rows(self.parquet, self.summary["table"])
        elif self._frame is None:
            rows = self.engine_table.order_by(ENGINE_ORDER).drop(ENGINE_ORDER)
            self._frame = _arrow_rows(rows.to_pyarrow(), self.summary["table"])
        return self._frame

    @frame.setter
    def frame(self, value: pd.DataFrame) -> None:
        self._frame = value

    @property
    def materialised(self) -> bool:
        """True when the rows are held as a pandas frame (read, or never written out)."""
        return self._frame is not None

    def __repr__(self) -> str:
        if self.materialised:
            where = f"rows={len(self._frame)}"
        elif self.parquet is not None:
            where = f"parquet={str(self.parquet)!r}"
        else:
            where = "engine table"
        return f"LoadedTable(table={(self.summary or {}).get('table')!r}, {where})"


def typed_frame(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """The pandas dtypes of the loaded ``table`` for columns read back from Arrow or an engine.

    Text columns as the text dtype, numbers as float64, dates as
    ``datetime64[ns]``, integers as nullable Int64; columns beyond the
    contract keep their type (text as the text dtype).
    """
    from .schema import TABLE_SPECS, TEXT_DTYPE

    spec = TABLE_SPECS[table]
    for column in frame.columns:
        c = spec.column(column)
        if c is None:
            if frame[column].dtype == object:
                frame[column] = frame[column].astype(TEXT_DTYPE)
            continue
        if c.kind in ("id", "stage", "category", "text"):
            frame[column] = frame[column].astype(TEXT_DTYPE)
        elif c.kind == "number":
            frame[column] = frame[column].astype("float64")
        elif c.kind == "datetime":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        elif c.kind == "int":
            frame[column] = frame[column].astype("Int64")
    return frame


def read_rows(path: str | Path, table: str) -> pd.DataFrame:
    """The rows of a loaded ``table`` from its Parquet file, with the loaders' dtypes."""
    import pyarrow.parquet as pq

    return _arrow_rows(pq.read_table(path), table)


def _arrow_rows(arrow, table: str) -> pd.DataFrame:
    # the Arrow buffers are released while pandas takes them over: one copy at a time
    frame = arrow.to_pandas(self_destruct=True, split_blocks=True)
    del arrow
    return typed_frame(frame, table)


def write_rows(frame: pd.DataFrame, path: str | Path) -> None:
    """Write the rows of a loaded table as Parquet (what :func:`read_rows` reads)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=1 << 20)


def _display(config: ProjectConfig, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(config.data_path))
    except ValueError:
        return str(path)

