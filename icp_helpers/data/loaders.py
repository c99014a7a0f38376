"""Reading, mapping, validating and quarantining the input tables.

:func:`load_project` turns the files a project config names into the
canonical tables of ``docs/architecture.md``. For each table it

1. reads every file as text (CSV with detected encoding and delimiter,
   XLSX, YAML for the codebook) or typed (Parquet), remembering the row
   number a user sees in the file: the header is row 1, so the first data
   row is row 2 (the physical line a CSV record starts on, also after a
   cell that spans lines, see ``csv_records.py``; the sheet row of an XLSX;
   the record number of a Parquet file). A CSV whose stray quote would merge
   lines that look like records into one cell is refused, naming the lines;
   a carriage return inside a line stays in its cell;
2. maps the export's column names (``columns``, then the ``preset``, then
   headers that are a canonical name in other spelling, e.g. ``Close Date``);
3. parses each canonical column (``schema.py``), applies ``defaults``,
   ``derive``, ``aliases`` and merges values that differ only in case;
4. sets rows that break a row rule aside in a quarantine with a ``reason``
   (unparseable or negative values, empty required fields, unknown accounts
   via pandera, duplicate ids keeping the first), merges exact duplicates
   (``distinct``) or order lines (``lines``);
5. reconciles: every row read is either used or quarantined, checked here.

Structural problems (unreadable file, missing required column, a column of
which no value parses) raise :class:`LoadError` naming the file, the column,
what was expected and a few offending values with their row numbers.
"""

from __future__ import annotations

import shutil
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .config import TABLES, ConfigError, InputSpec, ProjectConfig, load_config
from .engine import as_table, connect, connect_duckdb
from .formulas import safe_frame
from .load_state import _Table
from .loading import _stage_from_flags, load_table, merge_case_variants, read_engine_table
from .mapping import _preset_section, column_mapping
from .quarters import Quarter, latest_complete_quarter
from .reading import (
    _STAGE_FLAGS,
    ENCODING_ORDER,
    LoadError,
    RawFile,
    _header_cells,
    _pandas_sep,
    _sniff_kind,
    detect_delimiter,
    detect_encoding,
    read_file,
)
from .schema import (
    TABLE_SPECS,
    normalise_stage,
    parse_datetimes,
)
from .spelling import spelling_warnings
from .table_cache import TableCache
from .tables import ENGINE_ORDER, LoadedTable

__all__ = [
    "LoadError",
    "RawFile",
    "LoadedTable",
    "Project",
    "ENCODING_ORDER",
    "detect_encoding",
    "detect_delimiter",
    "read_file",
    "column_mapping",
    "load_table",
    "load_project",
    "read_engine_table",
    "write_quarantine",
    "print_summary",
    "latest_quarter",
    "closed_deal_dates",
    "spelling_warnings",
    "merge_case_variants",
]


# --------------------------------------------------------------------------- project


#: Loaded tables whose Parquet files an engine table reads, kept alive by its backend.
_HELD_BY_BACKEND: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass
class Project:
    """Every configured table of a project, loaded and reconciled.

    One attribute per canonical table (``None`` when not configured or not
    requested), ``quarantine`` (table -> quarantined rows), ``summary`` (one
    row per table), ``warnings`` and the ``config``.
    """

    config: ProjectConfig
    tables: dict[str, LoadedTable] = field(default_factory=dict)
    accounts: pd.DataFrame | None = None
    contacts: pd.DataFrame | None = None
    interviews: pd.DataFrame | None = None
    codebook: pd.DataFrame | None = None
    manual_codes: pd.DataFrame | None = None
    activities: pd.DataFrame | None = None
    leads: pd.DataFrame | None = None
    prospects: pd.DataFrame | None = None
    _backend: Any = field(default=None, repr=False, compare=False)
    _deals_table: Any = field(default=None, repr=False, compare=False)
    _deals: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def deals(self) -> pd.DataFrame | None:
        """The validated deals as a pandas frame, read on first access.

        Deals validated on the engine (or taken from the table cache) live
        in a Parquet file that :meth:`deals_table` queries; this frame is
        read from it only when code asks for it. Prefer :meth:`deals_table`:
        the frame costs memory in proportion to the deals.
        """
        if self._deals is None and "deals" in self.tables:
            self._deals = self.tables["deals"].frame
        return self._deals

    @deals.setter
    def deals(self, frame: pd.DataFrame | None) -> None:
        self._deals = frame
        self._deals_table = None

    @property
    def backend(self):
        """The project's Ibis backend (its ``engine`` section), opened once per project.

        When the deals stay in the engine that validated them (an engine
        table on Spark or a database), it is that engine's connection, so that
        other tables handed to it join the deals where they are.
        """
        if self._backend is None:
            loaded = self.tables.get("deals")
            if loaded is not None and loaded.engine_table is not None:
                self._backend = loaded.engine_table.get_backend()
            else:
                self._backend = connect(self.config)
        return self._backend

    def deals_table(self):
        """The validated deals as an Ibis table on :attr:`backend`; None without deals.

        Steps that aggregate deals use this rather than ``deals``, so that
        the deals stay in the engine and never become a pandas frame: on
        DuckDB the table reads the validated deals' Parquet file (written by
        the engine validation or kept in the table cache); deals validated
        on another engine (an engine table on Spark or a database) are that
        engine's cached table of the clean rows; deals held only as a frame
        are handed to the engine. Other tables join it through
        :func:`icp_helpers.data.engine.as_table` on the same backend.
        """
        if self._deals_table is None:
            loaded = self.tables.get("deals")
            if self._deals is None and loaded is not None and loaded.engine_table is not None:
                self._deals_table = loaded.engine_table.drop(ENGINE_ORDER)
                return self._deals_table
            if self._deals is None and loaded is not None and loaded.parquet is not None:
                if getattr(self.backend, "name", "") == "duckdb":
                    # the engine reads the file at each query: nothing held in Python
                    self._deals_table = self.backend.read_parquet(loaded.parquet)
                    # the file lives as long as the table that reads it: the table holds
                    # the backend, the backend holds the loaded table (and its folder)
                    _HELD_BY_BACKEND.setdefault(self.backend, []).append(loaded)
                    return self._deals_table
            if self.deals is not None:
                self._deals_table = as_table(self.deals, self.backend)
        return self._deals_table

    @property
    def quarantine(self) -> dict[str, pd.DataFrame]:
        return {name: loaded.quarantine for name, loaded in self.tables.items()}

    @property
    def summary(self) -> pd.DataFrame:
        rows = [loaded.summary for loaded in self.tables.values()]
        columns = [
            "table",
            "files",
            "formats",
            "rows_read",
            "rows_used",
            "rows_quarantined",
            "rows_out",
            "reconciled",
            "filled_defaults",
            "reasons",
            "warnings",
        ]
        return pd.DataFrame(rows, columns=columns)

    @property
    def warnings(self) -> list[str]:
        return [w for loaded in self.tables.values() for w in loaded.summary["warnings"]]


def load_project(
    config_or_path: ProjectConfig | str | Path | None = None,
    *,
    tables: list[str] | tuple[str, ...] | None = None,
    cache: bool = True,
) -> Project:
    """Load every configured table (or the ones in ``tables``).

    Accounts load first so that deals, contacts, interviews and leads can be
    checked against the account ids; accounts are therefore also loaded (and
    returned) whenever a requested table refers to accounts.

    Validated tables are reused from the project's table cache while their
    files and config are unchanged (:mod:`icp_helpers.data.table_cache`; off with
    ``cache_tables: false`` in the config or ``cache=False`` here), so each
    step of a run does not validate the same export again.

    Raises
    ------
    ConfigError
        When the config is invalid.
    LoadError
        On the first structural problem of any table.
    """
    config = (
        config_or_path if isinstance(config_or_path, ProjectConfig) else load_config(config_or_path)
    )
    if tables is not None:
        unknown = sorted(set(tables) - set(TABLES))
        if unknown:
            raise LoadError(f"unknown table(s) {', '.join(unknown)}; tables: {', '.join(TABLES)}")
    wanted = [t for t in TABLES if t in config.inputs and (tables is None or t in tables)]
    if "accounts" in config.inputs and any(TABLE_SPECS[t].account_fk for t in wanted):
        wanted = ["accounts", *[t for t in wanted if t != "accounts"]]
    project = Project(config=config)
    store = TableCache.for_config(config) if cache else None
    ids = accounts_key = None
    for table in wanted:
        checked = TABLE_SPECS[table].account_fk
        # rows checked against accounts that have no key (a folder of files) are not cached
        unkeyed = checked and ids is not None and accounts_key is None
        key = store.key(config, table, accounts_key=accounts_key if checked else None) if store and not unkeyed else None
        loaded = store.get(key) if store else None
        if loaded is None:
            scratch = store.scratch() if store and key and table == "deals" else None
            loaded = load_table(config, table, accounts_ids=ids if checked else None, rows_dir=scratch)
            if store:
                store.put(key, loaded)  # moves the deals' Parquet file into the entry
            if scratch is not None:
                _release(scratch, loaded)
        project.tables[table] = loaded
        if table != "deals":  # the deals stay in their file until asked for (Project.deals)
            setattr(project, table, loaded.frame)
        if table == "accounts":
            ids, accounts_key = loaded.frame["account_id"], key
    return project


def _release(scratch: Path, loaded: LoadedTable) -> None:
    """Remove a scratch folder now, or with the table whose Parquet file it still holds."""
    if loaded.parquet is not None and scratch in loaded.parquet.parents:
        weakref.finalize(loaded, shutil.rmtree, scratch, True)
    else:
        shutil.rmtree(scratch, ignore_errors=True)


def write_quarantine(project: Project, run_dir: str | Path) -> list[Path]:
    """Write ``quarantine/<table>.csv`` for every loaded table and ``quarantine/summary.csv``.

    Headers and cells go through the formula guard (:mod:`icp_helpers.data.formulas`):
    quarantined cells are exactly the raw values nobody checked.

    A table without quarantined rows still gets its (header-only) file, so a
    missing file always means the table was not loaded.
    """
    folder = Path(run_dir) / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table, frame in project.quarantine.items():
        path = folder / f"{table}.csv"
        safe_frame(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        written.append(path)
    summary = project.summary.copy()
    for column in ("files", "formats", "warnings"):
        summary[column] = summary[column].map(" | ".join)
    for column in ("filled_defaults", "reasons"):
        summary[column] = summary[column].map(
            lambda d: "; ".join(f"{k}: {v}" for k, v in d.items())
        )
    path = folder / "summary.csv"
    if path.is_file():
        # Each notebook loads only the tables it needs: keep the other tables' rows.
        earlier = pd.read_csv(path, dtype=str, keep_default_na=False)
        earlier = earlier[~earlier["table"].isin(summary["table"])]
        summary = pd.concat([earlier, summary.astype(str)], ignore_index=True)
    order = {table: i for i, table in enumerate(TABLES)}
    summary = summary.sort_values("table", key=lambda col: col.map(order)).reset_index(drop=True)
    safe_frame(summary).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    written.append(path)
    return written


def print_summary(project: Project, *, console) -> None:
    """Print the reconciled load summary: one Rich table per canonical table."""
    from rich.markup import escape
    from rich.table import Table

    for table, loaded in project.tables.items():
        s = loaded.summary
        mark = "[green]✓[/]" if s["reconciled"] else "[bold red]✗[/]"
        grid = Table(
            title=escape(f"{table}: {', '.join(s['formats'])}"),
            title_justify="left",
            show_header=True,
            header_style="bold",
        )
        grid.add_column("check")
        grid.add_column("rows", justify="right")
        grid.add_row("rows read", f"{s['rows_read']:,}")
        grid.add_row("rows used", f"{s['rows_used']:,}")
        grid.add_row("rows quarantined", f"{s['rows_quarantined']:,}")
        if s["rows_out"] != s["rows_used"]:
            grid.add_row(f"rows in the {table} table (merged)", f"{s['rows_out']:,}")
        grid.add_row("reconciled (read = used + quarantined)", mark)
        for reason, n in s["reasons"].items():
            grid.add_row(escape(f"  quarantined: {reason}"), f"{n:,}")
        spec = project.config.inputs[table]
        for column, n in s["filled_defaults"].items():
            grid.add_row(escape(f"  default {column} = {spec.defaults.get(column)!r}"), f"{n:,}")
        console.print(grid)
        if s.get("profile_kind"):
            kind = s["profile_kind"]
            how = "profile.kind" if project.config.profile.kind else "inferred from the columns"
            console.print(
                f"  profile: {'consumers (b2c): customers and demographics' if kind == 'b2c' else 'companies (b2b): accounts and firmographics'} ({how})",
                highlight=False,
            )
        for warning in s["warnings"]:
            console.print(f"  [yellow]warning:[/] {escape(warning)}", highlight=False)
    total = sum(t.summary["rows_quarantined"] for t in project.tables.values())
    all_ok = all(t.summary["reconciled"] for t in project.tables.values())
    console.print(
        f"{len(project.tables)} tables loaded, {total:,} rows quarantined, "
        + ("every table reconciled." if all_ok else "[bold red]NOT reconciled[/]."),
        highlight=False,
    )


# --------------------------------------------------------------------------- quarters


def latest_quarter(config: ProjectConfig | str | Path | None = None) -> Quarter:
    """The latest complete quarter of the won and lost deals' ``close_date``.

    Reads only the close date and stage columns of the deals files when it
    can; open deals are ignored because their close date is an expectation.
    A snapshot (``snapshot:``, no deals) is of the quarter it was taken in.
    """
    if not isinstance(config, ProjectConfig):
        config = load_config(config)
    if config.is_snapshot:
        from .snapshot import snapshot_quarter

        return snapshot_quarter(load_table(config, "accounts").frame, config.snapshot)
    closed = closed_deal_dates(config)
    if closed.empty:
        raise LoadError("deals: no won or lost deal has a readable close_date")
    return latest_complete_quarter(closed["last_close"])


def closed_deal_dates(config: ProjectConfig | str | Path | None = None) -> pd.DataFrame:
    """Won and lost deals with a readable ``close_date``, counted per stage and quarter.

    One row per stage (``won``/``lost``) and quarter of the close date, in
    that order: ``stage``, ``quarter`` (:class:`~icp_helpers.data.quarters.Quarter`),
    ``deals`` (how many), ``first_close`` and ``last_close`` (the earliest and
    latest close date). This is all that finding and checking a quarter
    needs, so it never holds the deals: Parquet files whose close date is
    stored as a date are counted by DuckDB reading two columns (100 million
    deals come back as a few dozen rows); other files are read column by
    column (close date, stage, won/closed flags) and counted in pandas.
    """
    if not isinstance(config, ProjectConfig):
        config = load_config(config)
    spec = config.inputs.get("deals")
    if spec is None:
        raise ConfigError(
            f"{config.source}: finding the latest quarter needs inputs.deals, which this config "
            "does not name; pass the quarter explicitly"
        )
    wanted = {"close_date", "stage", *_STAGE_FLAGS}
    if spec.table or spec.derive.keys() & wanted or spec.defaults.keys() & wanted:
        return _count_validated(load_table(config, "deals"))
    counts = []
    preset = _preset_section(config, spec, "deals")
    earliest, latest = config.limits.date_min, config.limits.latest_date()
    for path in config.input_paths("deals"):
        headers = _headers(path, spec)
        mapping, _ = column_mapping(
            headers, table="deals", columns=spec.columns, preset=preset, source=str(path)
        )
        keep = {h: mapping.get(h, h) for h in headers if mapping.get(h, h) in wanted}
        if "close_date" not in keep.values():
            raise LoadError(f"{path}: required column 'close_date' missing (deals need it)")
        frame = _closed_groups_on_engine(path, keep, earliest=earliest, latest=latest)
        if frame is None:  # every deal, its close date parsed as a full load parses it
            frame = _read_columns(path, spec, list(keep)).rename(columns=keep)
            frame["_first"] = frame.pop("close_date")
            frame["_deals"] = 1
        first, last = (
            None if column not in frame else parse_datetimes(
                frame[column], column="close_date", dayfirst=spec.dayfirst,
                date_format=spec.date_format, earliest=earliest, latest=latest,
            ).values
            for column in ("_first", "_last")
        )
        stage = (
            normalise_stage(frame["stage"])
            if "stage" in frame
            else pd.Series("won", index=frame.index)
        )
        if "is_won" in frame or "is_closed" in frame:
            _stage_from_flags(frame, _Table("deals"))
            stage = frame["stage"]
        closed = stage.isin(["won", "lost"]).to_numpy()
        counts.append(
            _count_closed(
                first[closed], stage[closed], deals=frame["_deals"][closed],
                last=None if last is None else last[closed],
            )
        )
    counts = [frame for frame in counts if not frame.empty]
    if not counts:
        return _count_closed(pd.Series([], dtype="datetime64[ns]"), pd.Series([], dtype=object))
    both = pd.concat(counts, ignore_index=True)
    return _count_closed(both["first_close"], both["stage"], last=both["last_close"], deals=both["deals"])


def _count_validated(loaded) -> pd.DataFrame:
    """:func:`closed_deal_dates` of validated deals, counted where they live.

    Deals kept in an engine (``table:`` inputs on Spark or a database) or
    written as Parquet by the engine validation are grouped there; only
    deals validated into a frame are counted in pandas.
    """
    if loaded.materialised or (loaded.engine_table is None and loaded.parquet is None):
        deals = loaded.frame
        closed = deals[deals["stage"].isin(["won", "lost"])]
        return _count_closed(closed["close_date"], closed["stage"])
    if loaded.engine_table is not None:
        deals = loaded.engine_table
    else:
        deals = connect_duckdb().read_parquet(loaded.parquet)
    close = deals.close_date.cast("timestamp")
    closed = deals.filter(deals.stage.isin(["won", "lost"]) & close.notnull())
    close = closed.close_date.cast("timestamp")
    groups = closed.group_by(
        stage=closed.stage, _quarter=close.year() * 4 + close.quarter()
    ).aggregate(_deals=closed.count(), _first=close.min(), _last=close.max())
    frame = groups.to_pandas()
    return _count_closed(frame["_first"], frame["stage"], last=frame["_last"], deals=frame["_deals"])


def _count_closed(first, stage, *, last=None, deals=None) -> pd.DataFrame:
    """Per stage and quarter: ``deals``, ``first_close``, ``last_close``.

    Each row stands for ``deals`` deals (default one) of one quarter closed
    from ``first`` to ``last`` (default ``first``); rows without a date are
    left out.
    """
    first = pd.Series(pd.to_datetime(first), dtype="datetime64[ns]").reset_index(drop=True)
    last = first if last is None else pd.Series(pd.to_datetime(last), dtype="datetime64[ns]").reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "stage": pd.Series(stage, dtype=object).reset_index(drop=True),
            "first_close": first,
            "last_close": last,
            "deals": 1 if deals is None else pd.Series(deals).to_numpy(dtype="int64"),
        }
    ).dropna(subset=["first_close"])
    frame["_quarter"] = frame["first_close"].dt.year * 4 + frame["first_close"].dt.quarter - 1
    out = frame.groupby(["stage", "_quarter"]).agg(
        deals=("deals", "sum"), first_close=("first_close", "min"), last_close=("last_close", "max")
    ).reset_index()
    out["quarter"] = [Quarter(int(key) // 4, int(key) % 4 + 1) for key in out["_quarter"]]
    out["_won_first"] = out["stage"] != "won"
    out = out.sort_values(["_won_first", "_quarter"]).reset_index(drop=True)
    return out[["stage", "quarter", "deals", "first_close", "last_close"]]


def _closed_groups_on_engine(path: Path, keep: dict[str, str], *, earliest, latest) -> pd.DataFrame | None:
    """Deals of a Parquet file grouped by their stage columns and close quarter, counted by DuckDB.

    ``None`` when DuckDB cannot give the pandas path's answer exactly: not
    Parquet, or a close date that is text or carries a time zone (parsed in
    pandas). The plausible-date range (``limits``) is applied in the query,
    so each group's first and last close date are those pandas would keep.
    """
    if _sniff_kind(path) != "parquet":
        return None
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    close = next(h for h, name in keep.items() if name == "close_date")
    close_type = pq.read_schema(path).field(close).type
    if not (pa.types.is_date(close_type) or (pa.types.is_timestamp(close_type) and close_type.tz is None)):
        return None
    from .parsing import _DATE_MAX, _DATE_MIN

    low = max(pd.Timestamp(earliest) if earliest is not None else _DATE_MIN, _DATE_MIN)
    high = pd.Timestamp(latest) + pd.Timedelta(days=1) if latest is not None else _DATE_MAX
    def quoted(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    when = quoted(close)
    keys = [f"{quoted(h)} AS {quoted(name)}" for h, name in keep.items() if name != "close_date"]
    query = f"""
        SELECT {", ".join(keys + [""])}
               year({when}) * 4 + quarter({when}) AS _quarter,
               count(*) AS _deals, min({when}) AS _first, max({when}) AS _last
        FROM read_parquet(?)
        WHERE {when} >= ? AND {when} < ? AND {when} <= ?
        GROUP BY ALL
    """
    con = duckdb.connect()
    try:
        frame = con.execute(
            query, [str(path), low.to_pydatetime(), high.to_pydatetime(), _DATE_MAX.to_pydatetime()]
        ).df()
    finally:
        con.close()
    return frame.drop(columns="_quarter")


def _headers(path: Path, spec: InputSpec) -> list[str]:
    kind = _sniff_kind(path)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return [str(n).strip() for n in pq.read_schema(path).names]
    if kind == "csv":
        encoding = spec.encoding or detect_encoding(path)
        with open(path, encoding=encoding, newline="") as fh:
            head = fh.read(1 << 16).lstrip("\ufeff")
        delimiter = spec.delimiter or detect_delimiter(head)
        row = _header_cells(head.splitlines()[0], delimiter) if head.strip() else []
        return [h.strip() for h in row]
    return list(read_file(path, sheet=spec.sheet).frame.columns)


def _read_columns(path: Path, spec: InputSpec, columns: list[str]) -> pd.DataFrame:
    kind = _sniff_kind(path)
    if kind == "parquet":
        return pd.read_parquet(path, columns=columns)
    if kind == "csv":
        encoding = spec.encoding or detect_encoding(path)
        with open(path, encoding=encoding, newline="") as fh:
            head = fh.read(1 << 16).lstrip("\ufeff")
        delimiter = spec.delimiter or detect_delimiter(head)
        frame = pd.read_csv(
            path,
            sep=_pandas_sep(delimiter),
            encoding=encoding,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            usecols=lambda c: str(c).strip().lstrip("\ufeff").strip() in columns,
        )
        frame.columns = [str(c).strip().lstrip("\ufeff").strip() for c in frame.columns]
        return frame
    return read_file(path, sheet=spec.sheet).frame[columns]
