"""Validating the deals where they live: the row rules as Ibis expressions.

:func:`icp_helpers.data.loaders.load_table` reads every file into pandas, which
makes the notebook's memory grow with the deals. :func:`load_deals` applies
the same rules (``schema.py`` and ``loaders.py``) as Ibis expressions where
the deals are: an in-process DuckDB over the files (local files, whatever
the engine), or the configured engine for a table named by
``inputs.deals.table``: parsing and types, required fields,
dates and their plausible range, finite, plausible and non-negative amounts,
known accounts, duplicate ids, stage mapping and aliases. Only small things
come back to Python: the counts that reconcile, the quarantined rows, and
the few cells that need the full parser.

How the parsing agrees with the pandas path cell for cell: a cell that has
an unambiguous form (``1234.5``, ``2024-03-31 14:05:00``, an id without
surrounding space) is cast on the engine; every other cell ("hard": spaces,
currency signs, thousands separators, ``31/03/2024``, null words) goes
through the very parser of ``schema.py``, once per distinct value for
cell-by-cell rules (ids, stages, categories) and with its row count for the
columns whose reading the whole column decides (decimal separator, day or
month first). Values of categories are merged across case with their counts
as ``loaders.merge_case_variants`` does.

What does not run here falls back to the pandas path with a log line
(:data:`logger`, ``icp_helpers.data.engine_load``) saying why: ``derive``,
``defaults``, ``distinct``, stage checkboxes, XLSX, a CSV whose records do
not sit one per line or that is not UTF-8, more hard cells than
:data:`HARD_ROWS_LIMIT`, a column of which no value parses (the pandas
path raises the error that names it), and the like.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from collections import Counter
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from .config import ProjectConfig
from .engine_parse import (
    _FILE,
    _LINE,
    _ROW,
    HARD_ROWS_LIMIT,
    MAX_DISTINCT,
    Fallback,
    _clean_extra,
    _is_text,
    _merge_case,
    _parse_datetime,
    _parse_number,
    _parse_text,
    _scalar,
    _settle,
    _Work,
)
from .schema import (
    TABLE_SPECS,
    TEXT_DTYPE,
    table_schema,
)
from .tables import ENGINE_ORDER, typed_frame

__all__ = ["HARD_ROWS_LIMIT", "MAX_DISTINCT", "Fallback", "load_deals", "logger"]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- sources


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _file_source(con, path: Path, spec, config, name: str, index: int):
    """One input file as an engine table with its row and line numbers, and its format text."""
    from . import reading
    from .csv_records import count_lines

    kind = reading._sniff_kind(path)
    if kind == "parquet":
        sql = (
            f"SELECT * EXCLUDE (file_row_number), file_row_number AS {_ROW} FROM "
            f"read_parquet({_sql_text(path)}, file_row_number = true)"
        )
        table = _view(con, sql, index)
        table = table.mutate(**{_LINE: (table[_ROW] + 1).cast("int64"), _FILE: ibis.literal(index)})
        return table, "parquet", "row", []
    if kind != "csv":
        raise Fallback(f"{name}: {kind} files are read by the pandas path")
    encoding = spec.encoding or reading.detect_encoding(path)
    if codecs_name(encoding) not in ("utf-8", "utf-8-sig"):
        raise Fallback(f"{name}: encoding {encoding} is read by the pandas path")
    with open(path, encoding=encoding, newline="") as fh:
        head = fh.read(1 << 16)
    delimiter = spec.delimiter or reading.detect_delimiter(head.lstrip("\ufeff"))
    if delimiter == reading.WHITESPACE:
        raise Fallback(f"{name}: columns aligned with spaces are read by the pandas path")
    counts = count_lines(path, encoding=encoding)
    if counts.bare_cr or counts.cr_only or '"' in head.splitlines()[0]:
        raise Fallback(f"{name}: carriage returns or quoted headers are read by the pandas path")
    header = reading._header_cells(head.lstrip("\ufeff").splitlines()[0], delimiter)
    names = [str(c).strip().lstrip("\ufeff").strip() for c in header]
    if len(set(names)) != len(names) or any(not n for n in names):
        raise Fallback(f"{name}: repeated or empty headers are read by the pandas path")
    columns = "{" + ", ".join(f"{_sql_text(f'c{i}')}: 'VARCHAR'" for i in range(len(names))) + "}"
    sql = (
        f"SELECT *, (row_number() OVER () - 1)::BIGINT AS {_ROW} FROM read_csv({_sql_text(path)}, delim = {_sql_text(delimiter)}, "
        f"quote = '\"', escape = '\"', header = true, columns = {columns}, "
        "auto_detect = false, null_padding = true, allow_quoted_nulls = true)"
    )
    try:
        table = _view(con, sql, index)
        rows = int(_scalar(table.count()))
    except Exception as exc:  # DuckDB refuses what pandas may read: let pandas decide
        raise Fallback(
            f"{name}: the engine's CSV reader refused it ({type(exc).__name__})"
        ) from None
    if rows + 1 != counts.lines:
        # a cell spans lines (or blank lines): the physical line numbers need the pandas reader
        raise Fallback(f"{name}: records do not sit one per line")
    table = table.rename({n: f"c{i}" for i, n in enumerate(names)})
    blank = ibis.and_(*[table[n].isnull() for n in names])
    if int(_scalar(table.filter(blank).count())):
        raise Fallback(f"{name}: empty rows are skipped by the pandas path")
    table = table.mutate(**{_LINE: (table[_ROW] + 2).cast("int64"), _FILE: ibis.literal(index)})
    shown = "TAB" if delimiter == "\t" else delimiter
    return table, f"{encoding}, '{shown}'", "line", []


def _view(con, sql: str, index: int):
    """A temporary view of the engine over ``sql`` (DuckDB reads the file when queried)."""
    import uuid

    name = f"icp_deals_{index}_{uuid.uuid4().hex[:8]}"
    con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
    return con.table(name)


def codecs_name(encoding: str) -> str:
    import codecs

    name = codecs.lookup(encoding).name
    return {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig"}.get(name, name)


def _engine_table_source(con, name: str, index: int):
    """``inputs.<table>.table: schema.name``: a table of the engine, rows numbered by its order."""
    database, _, table_name = name.rpartition(".")
    try:
        table = con.table(table_name, database=database or None)
    except Exception as exc:  # the backend names the problem
        from .reading import LoadError

        raise LoadError(
            f"engine table {name!r} cannot be read ({type(exc).__name__}: {exc})"
        ) from None
    table = table.mutate(**{_ROW: (ibis.row_number()).cast("int64")})
    table = table.mutate(**{_LINE: (table[_ROW] + 1).cast("int64"), _FILE: ibis.literal(index)})
    return table, "engine table", "row", []


# --------------------------------------------------------------------------- loading


def load_deals(config: ProjectConfig, *, accounts_ids=None, con=None, rows_dir=None):
    """The deals validated on the engine (see :func:`_load_deals`).

    Files are validated by an in-process DuckDB whatever the engine (they
    are local files, and a configured database file stays unlocked for
    parallel quarters); ``inputs.deals.table`` on the configured engine.

    On DuckDB the clean deals are written by the engine as
    ``deals.parquet`` in ``rows_dir`` (a temporary folder, removed with the
    returned table, when None) and never pass through pandas: the
    returned table's ``frame`` reads them on first access. Other engines
    keep them as a table of the engine (``engine_table``: on Spark a cached
    temporary view, on a database a temporary table), fetched into pandas
    only when ``frame`` is asked for. Order lines (``lines: true``) give the
    frame directly.
    """
    from . import engine

    own = con is None
    if own:
        con = engine.connect(config) if config.inputs["deals"].table else engine.connect_duckdb(config.engine)
        limit = config.engine.validation_memory_limit
        if con.name == "duckdb" and config.engine.memory_limit is None and limit:
            # the sort of the clean deals would hold them all: it spills past this instead
            con.raw_sql(f"SET memory_limit = '{limit.replace(chr(39), chr(39) * 2)}'")
    scratch = None
    if rows_dir is None and con.name == "duckdb":
        rows_dir = scratch = tempfile.mkdtemp(prefix="icp-deals-", dir=config.engine.temp_directory)
    try:
        loaded = _load_deals(
            config, accounts_ids=accounts_ids, con=con,
            rows_dir=rows_dir if con.name == "duckdb" else None,
        )
    except BaseException:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    finally:
        if own and con.name == "duckdb":
            con.disconnect()  # a database file is free again for other processes (kernels)
    if scratch:
        weakref.finalize(loaded, shutil.rmtree, scratch, True)
    return loaded


def _load_deals(config: ProjectConfig, *, accounts_ids, con, rows_dir=None):
    """The deals validated on the engine, as :class:`icp_helpers.data.loaders.LoadedTable`.

    Raises
    ------
    Fallback
        When a rule of the pandas path cannot be applied exactly here; the
        caller loads the table with pandas.
    LoadError
        On the structural problems the pandas path also refuses (missing
        required columns).
    """
    spec = config.inputs["deals"]
    for what, present in (
        ("derive", spec.derive),
        ("defaults", spec.defaults),
        ("distinct", spec.distinct),
        ("a preset", spec.preset),
        ("sheet", spec.sheet),
    ):
        if present:
            raise Fallback(f"inputs.deals.{what.split()[-1]}: applied by the pandas path")
    t, columns, files, formats, units, back, warnings = _source_table(config, spec, con)
    work, canonical = _parse_columns(config, spec, con, t, columns, files, units, warnings)
    if rows_dir is not None and not spec.lines:
        return _one_pass(
            con, work, spec, canonical, accounts_ids, columns,
            rows_dir=Path(rows_dir), back=back, files=files, formats=formats,
        )
    t, reasons = _flag_rules(work, spec, canonical, accounts_ids)
    if rows_dir is None and not spec.lines:
        # another engine keeps the clean deals: the flagged rows are computed once there
        # (their raw and parsed cells), and the quarantine and the clean rows both read them
        t = _cached(_flagged_cells(t, reasons, columns))
    # the rows stay an expression over the files: each query below reads them again, so
    # nothing that grows with the deals is held (only the counts and the quarantine come back)

    rows_read = int(_scalar(work.source.count()))  # Parquet: from the files' metadata
    quarantine = _quarantine_rows(t, reasons, columns, back, files)
    return _clean_rows(
        con, t, work, spec, columns, rows_dir=rows_dir, rows_read=rows_read,
        quarantine=quarantine, files=files, formats=formats,
    )


def _source_table(config: ProjectConfig, spec, con):
    """The deals' files (or engine table) as one engine table, columns mapped to canonical names."""
    from . import reading
    from .mapping import _missing_message, column_mapping
    from .tables import _display

    sources = []
    if getattr(spec, "table", None):
        sources.append((spec.table, *_engine_table_source(con, spec.table, 0)))
    elif con.name != "duckdb":
        raise Fallback(f"deals files are read by DuckDB, not {con.name}")
    else:
        for index, path in enumerate(config.input_paths("deals")):
            if not path.is_file():
                raise Fallback(f"{path}: not found (the pandas path names it)")
            name = _display(config, path)
            sources.append((name, *_file_source(con, path, spec, config, name, index)))
    if not sources:
        raise Fallback("inputs.deals: no files")
    work_spec = TABLE_SPECS["deals"]
    headers = None
    tables, files, formats, units, back = [], [], [], {}, {}
    warnings: list[str] = []
    for name, table, detail, unit, notes in sources:
        own = [c for c in table.columns if not c.startswith("__icp_")]
        if headers is not None and own != headers:
            raise Fallback("deals: files with different columns are joined by the pandas path")
        headers = own
        mapping, unmatched = column_mapping(
            own, table="deals", columns=spec.columns, preset=None, source=name
        )
        renamed = [mapping.get(c, c) for c in own]
        missing = [c for c in work_spec.required if c not in renamed and c != "stage"]
        if missing:
            raise reading.LoadError(
                _missing_message(name, "deals", missing, own, spec, unmatched)
            )
        if unmatched:
            warnings.append(
                f"{name}: inputs.deals.columns names {', '.join(map(repr, unmatched))}, not in the file"
            )
        if any(f in renamed for f in reading._STAGE_FLAGS):
            raise Fallback("deals: stage checkboxes are read by the pandas path")
        for header, target in mapping.items():
            back.setdefault(target, header)
        tables.append(table.rename({new: old for old, new in mapping.items()}))
        files.append(name)
        formats.append(f"{name} ({detail})")
        units[name] = unit
        warnings.extend(notes)
    columns = [c for c in tables[0].columns if not c.startswith("__icp_")]
    t = tables[0]
    paths = config.input_paths("deals") if not getattr(spec, "table", None) else []
    if len(tables) > 1 and all(f.endswith("(parquet)") for f in formats):
        # parts of one export: one scan over all of them, numbered per file
        listed = "[" + ", ".join(_sql_text(p) for p in paths) + "]"
        sql = (
            f"SELECT * EXCLUDE (file_row_number, filename), file_row_number AS {_ROW}, "
            f"(list_position({listed}, filename) - 1)::BIGINT AS {_FILE} FROM "
            f"read_parquet({listed}, file_row_number = true, filename = true)"
        )
        try:
            t = _view(con, sql, len(paths))
        except Exception as exc:  # parts that do not share one schema
            raise Fallback(
                f"deals: the parts cannot be read as one ({type(exc).__name__})"
            ) from None
        t = t.mutate(**{_LINE: (t[_ROW] + 1).cast("int64")})
        t = t.rename({new: old for old, new in mapping.items()})
    else:
        for extra in tables[1:]:
            t = t.union(extra)
    limit = config.limits.max_cell_chars
    text_columns = [c for c in columns if _is_text(t.schema()[c])]
    if limit and text_columns:
        too_long = _scalar(
            ibis.or_(*[t[c].length() > limit for c in text_columns])
            .fill_null(False)
            .cast("int64")
            .sum()
        )
        if too_long:
            raise Fallback("deals: over-long cells are reported by the pandas path")

    return t, columns, files, formats, units, back, warnings


def _parse_columns(config: ProjectConfig, spec, con, t, columns, files, units, warnings):
    """Every column parsed on the engine, parse problems counted (:func:`_settle`), values merged."""
    work_spec = TABLE_SPECS["deals"]
    work = _Work(con, t, columns, config, spec)
    work.source = t
    work.warnings = warnings
    work.files, work.units = files, units
    limits = config.limits
    options = {
        "decimal": spec.decimal_separator,
        "max_number": limits.max_number,
        "earliest": limits.date_min,
        "latest": limits.latest_date(),
        "dayfirst": spec.dayfirst,
        "date_format": spec.date_format,
    }
    canonical = [c for c in work_spec.columns if c.name in columns]
    for column in canonical:
        opts = {**options, "aliases": config.aliases.get(column.name)}
        if column.kind == "number":
            _parse_number(work, column, opts)
        elif column.kind == "datetime":
            _parse_datetime(work, column, opts)
        elif column.kind in ("id", "stage", "category", "text"):
            _parse_text(work, column, opts)
        else:
            raise Fallback(
                f"deals.{column.name}: {column.kind} columns are read by the pandas path"
            )
    _settle(work)
    t = work.t
    if "stage" not in columns:
        t = t.mutate(__icp_x_stage=ibis.literal("won"))
    # an open deal's expected close date past the plausible range stays (loading._expected_close_dates)
    problems = list(work.problems)
    if "close_date" in columns:
        for reason, flag in problems:
            if reason.startswith("implausible close_date"):
                now = pd.Timestamp.now().to_pydatetime()
                future = (t["__icp_x_stage"] == "open") & (t["__icp_u_close_date"] > now)
                keep = t[flag] & future.fill_null(False)
                t = t.mutate(
                    **{
                        flag: t[flag] & ~keep,
                        "__icp_x_close_date": ibis.cases(
                            (keep, t["__icp_u_close_date"]), else_=t["__icp_x_close_date"]
                        ),
                    }
                )
    extras = [c for c in columns if work_spec.column(c) is None]
    work.t = t
    for column in canonical:
        if column.kind == "category":
            _merge_case(work, column.name, work.counts.get(column.name))
    for name in extras:
        _clean_extra(work, name)
    t = work.t
    return work, canonical


def _flag_rules(work, spec, canonical, accounts_ids, *, duplicates: bool = True):
    """The contract's row rules and duplicate ids as flags; the table with ``__icp_q`` and the reasons.

    ``duplicates=False`` leaves the repeated ids out (:func:`_one_pass` finds
    them afterwards, without a window over every row).
    """
    work_spec = TABLE_SPECS["deals"]
    t = work.t
    # row rules of the contract (schema.table_schema) on the rows that parsed
    parse_flags = [flag for _, flag in work.problems]
    parsed_bad = ibis.or_(*[t[f] for f in parse_flags]) if parse_flags else ibis.literal(False)
    contract = []
    x = {c.name: t[f"__icp_x_{c.name}"] for c in canonical}
    x["stage"] = t["__icp_x_stage"]
    for column in work_spec.columns:
        if column.name not in x:
            continue
        if column.not_null:
            contract.append((f"empty required field {column.name}", x[column.name].isnull()))
        if column.min_value is not None:
            contract.append((f"negative {column.name}", x[column.name] < column.min_value))
    if accounts_ids is not None:
        ids = pd.DataFrame({"__icp_known": pd.Series(accounts_ids).dropna().astype(str).unique()})
        known = ibis.memtable(ids, schema=ibis.schema({"__icp_known": "string"}))
        contract.append(
            (
                "unknown account_id",
                x["account_id"].notnull() & ~x["account_id"].isin(known["__icp_known"]),
            )
        )
    closed = x["stage"].isin(["won", "lost"])
    for name in ("close_date", "amount"):
        if name in x:
            contract.append(
                (f"empty required field {name} (won/lost deal)", closed & x[name].isnull())
            )
    for reason, expr in sorted(contract, key=lambda item: item[0]):
        work.flag(reason, ~parsed_bad & expr.fill_null(False))
    t = work.t
    any_reason = (
        ibis.or_(*[t[f] for _, f in work.problems]) if work.problems else ibis.literal(False)
    )
    t = t.mutate(__icp_any=any_reason)
    if not duplicates:
        work.t = t
        reasons = list(work.problems)
        return t.mutate(__icp_q=t["__icp_any"]), reasons
    # repeats among the rows that passed every other rule: the first one is kept
    order = ibis.row_number().over(
        group_by=[t["__icp_x_deal_id"], t["__icp_any"]], order_by=[t[_FILE], t[_ROW]]
    )
    t = t.mutate(__icp_dup=(~t["__icp_any"] & (order > 0)).fill_null(False))
    work.t = t
    if not spec.lines:  # order lines share their deal's id: summed below, not duplicates
        work.flag("duplicate deal_id", t["__icp_dup"])
    t = work.t
    reasons = [(reason, flag) for reason, flag in work.problems]
    quarantined = ibis.or_(*[t[f] for _, f in reasons])
    t = t.mutate(__icp_q=quarantined)
    return t, reasons


def _quarantine_rows(t, reasons, columns, back, files) -> pd.DataFrame:
    """The quarantined rows with ``source_file``, ``source_row``, ``reason`` and their raw cells."""
    flags = [f for _, f in reasons]
    q = t.filter(t["__icp_q"]).order_by([_FILE, _ROW])
    q = q.select(_FILE, _LINE, *flags, *columns).to_pandas()
    return _quarantine_frame(q, reasons, columns, back, files)


def _quarantine_frame(q: pd.DataFrame, reasons, columns, back, files) -> pd.DataFrame:
    """The quarantine file's frame from the flagged rows (``_FILE``, ``_LINE``, flags, raw cells)."""
    flags = [f for _, f in reasons]
    reason_text = [
        "; ".join(r for (r, f) in reasons if row[f]) for row in q[flags].to_dict("records")
    ]
    raw = q[columns].rename(
        columns={k: v for k, v in back.items() if k in columns and v not in columns}
    )
    head = pd.DataFrame(
        {
            "source_file": [files[int(i)] for i in q[_FILE]],
            "source_row": q[_LINE].astype(np.int64).to_numpy(),
            "reason": pd.Series(reason_text, dtype=object).astype(str),
        }
    )
    taken = [c for c in raw.columns if c in head.columns]
    raw = raw.rename(columns={c: f"{c} (raw)" for c in taken})
    for c in raw.columns:
        if raw[c].dtype == object:
            raw[c] = raw[c].astype(TEXT_DTYPE)
    quarantine = pd.concat([head, raw.reset_index(drop=True)], axis=1)
    return quarantine


def _clean_rows(con, t, work, spec, columns, *, rows_dir, rows_read, quarantine, files, formats):
    """The clean deals (a Parquet file written by the engine, or a frame), their warnings and summary."""
    from .load_state import _empty_firmographics, _Table
    from .spelling import spelling_warnings

    work_spec = TABLE_SPECS["deals"]
    clean = t.filter(~t["__icp_q"])
    out_columns = list(columns) + (["stage"] if "stage" not in columns else [])
    clean = clean.select(
        _FILE,
        _ROW,
        **{c: (t[f"__icp_x_{c}"] if f"__icp_x_{c}" in t.columns else t[c]) for c in out_columns},
    )
    out_warnings = list(work.warnings)
    frame = parquet = engine_table = None
    if rows_dir is None and not spec.lines:
        # other engines keep the clean deals: cached there, fetched only when asked for
        engine_table = _kept_in_engine(clean)
        rows_out = int(_scalar(engine_table.count()))
        out_warnings.extend(_table_facts(engine_table, work_spec))
    elif spec.lines:
        clean = _merge_lines(clean, out_columns)
        arrow = clean.to_pyarrow()
        # the Arrow buffers are released while pandas takes them over: one copy at a time
        frame = arrow.to_pandas(self_destruct=True, split_blocks=True)
        del arrow
        frame = typed_frame(frame, "deals")
        if spec.lines and len(frame):
            # merged lines are new rows: the contract again, as loading.load_table does
            table_schema("deals", columns=list(frame.columns), unique=False).validate(
                frame, inplace=True
            )
        rows_out = len(frame)
        fake = _Table("deals")
        out_warnings.extend(_empty_firmographics(frame, fake))
        spelling = [c for c in work_spec.spelling if c in frame.columns]
        extra_text = [
            c for c in frame.columns if work_spec.column(c) is None and frame[c].dtype == TEXT_DTYPE
        ]
        out_warnings.extend(
            spelling_warnings(frame, table="deals", columns=spelling + extra_text)
        )
    else:
        # the clean deals never come to Python: the engine writes them as Parquet
        parquet = Path(rows_dir) / "deals.parquet"
        con.to_parquet(clean.order_by([_FILE, _ROW]).drop(_FILE, _ROW), parquet)
        rows_out, written = _written_facts(con, parquet, work_spec)
        out_warnings.extend(written)
    return _loaded(
        con, spec, rows_read=rows_read, rows_out=rows_out, quarantine=quarantine,
        warnings=out_warnings, files=files, formats=formats, frame=frame, parquet=parquet,
        engine_table=engine_table,
    )


def _loaded(
    con, spec, *, rows_read, rows_out, quarantine, warnings, files, formats, frame, parquet,
    engine_table=None,
):
    """The :class:`~icp_helpers.data.tables.LoadedTable`: rows reconciled, reasons counted."""
    from .tables import LoadedTable

    rows_quarantined = len(quarantine)
    rows_used = rows_read - rows_quarantined
    out_warnings = list(warnings)
    if not spec.lines and rows_out != rows_used:
        raise AssertionError(
            f"deals: {rows_read} read != {rows_out} used + {rows_quarantined} quarantined"
        )
    if rows_read and not rows_out:
        out_warnings.append("deals: no usable rows; every row was quarantined")
    counted = Counter(r for text in quarantine["reason"] for r in text.split("; "))
    summary = {
        "table": "deals",
        "files": files,
        "formats": formats,
        "rows_read": rows_read,
        "rows_used": rows_used,
        "rows_quarantined": rows_quarantined,
        "rows_out": rows_out,
        "reconciled": True,
        "filled_defaults": {},
        "reasons": dict(counted.most_common()),
        "warnings": out_warnings,
        "engine": con.name,
    }
    return LoadedTable(
        frame=frame, quarantine=quarantine, summary=summary, parquet=parquet, engine_table=engine_table
    )


def _kept_in_engine(clean):
    """The clean deals as a table of their engine, with their source order in ``ENGINE_ORDER``.

    A view of the flagged rows that :func:`_load_deals` cached there, so the
    steps that aggregate the deals read the validated rows rather than
    validating the source again.
    """
    kept = clean.mutate(**{ENGINE_ORDER: clean[_FILE].cast("int64") * (1 << 40) + clean[_ROW]})
    kept = kept.drop(_FILE, _ROW)
    return kept


def _flagged_cells(t, reasons, columns):
    """The columns of the flagged rows that the quarantine and the clean rows read."""
    out = [f"__icp_x_{c}" if f"__icp_x_{c}" in t.columns else c for c in [*columns, "stage"]]
    keep = [_FILE, _ROW, _LINE, "__icp_q", *(f for _, f in reasons), *columns, *out]
    return t.select(*dict.fromkeys(c for c in keep if c in t.columns))


def _cached(table):
    """``table`` computed once by its engine (Spark: a persisted view; SQL: a temporary table).

    A backend that can do neither gives ``table`` itself (each query evaluates it again).
    """
    import uuid

    import ibis.common.exceptions as com

    backend = table.get_backend()
    # Ibis registers the in-memory tables a query joins (the known accounts, parsed values)
    # when it executes one, not when its pyspark backend caches one: register them first
    register = getattr(backend, "_run_pre_execute_hooks", None)
    if register is not None:
        register(table)
    try:
        if backend.name == "pyspark":
            return table.cache()  # unpersisted with the last expression that reads it
        # a temporary table lives as long as the connection (Table.cache() is not used: the
        # DROP it issues on release comes out without the table's name with sqlglot 30)
        return backend.create_table(f"icp_deals_{uuid.uuid4().hex}", table, temp=True)
    except (NotImplementedError, com.IbisError):
        return table


def _table_facts(table, spec, *, order: str = ENGINE_ORDER) -> list[str]:
    """The clean deals' warnings (empty required columns, spellings), counted by their engine.

    ``order`` is the column that keeps the rows' source order (the first
    spelling seen decides ties).
    """
    from .reading import _MAX_SPELLING_VALUES
    from .spelling import _rows, spelling_warnings_from_counts

    schema = table.schema()
    warnings = []
    for column in spec.columns:
        if column.required and not column.not_null and column.name in schema:
            if column.name in ("close_date", "amount"):
                continue  # open deals have none yet (loading._empty_firmographics)
            empty = int(_scalar(table[column.name].isnull().sum()))
            if empty:
                warnings.append(
                    f"deals.{column.name}: {_rows(empty)} without a value (kept; "
                    f"they match no {column.name} trait)"
                )
    texts = [
        c
        for c in schema
        if c != order
        and schema[c].is_string()
        and (c in spec.spelling or spec.column(c) is None)
    ]
    counts = {}
    for c in texts:
        present = table.filter(table[c].notnull())
        grouped = (
            present.group_by(value=present[c])
            .aggregate(n=present.count(), first=present[order].min())
            .limit(_MAX_SPELLING_VALUES + 1)
            .to_pandas()
        )
        if len(grouped) > _MAX_SPELLING_VALUES:
            continue
        grouped = grouped.sort_values("first")
        values = pd.Series(grouped["n"].to_numpy(), index=grouped["value"].astype(object))
        counts[c] = values.sort_values(ascending=False)
    ordered = [c for c in spec.spelling if c in counts] + [c for c in texts if c not in spec.spelling]
    warnings.extend(
        spelling_warnings_from_counts({c: counts[c] for c in ordered if c in counts}, table="deals")
    )
    return warnings


def _one_pass(con, work, spec, canonical, accounts_ids, columns, *, rows_dir: Path, back, files, formats):
    """The deals flagged in one pass over the source, then split into clean rows and quarantine.

    The flagged rows (parsed values, the reasons as the bits of one number,
    and the raw cells of the rows a rule quarantines) are written once by
    the engine to a scratch Parquet file in ``rows_dir``, without keeping
    their order (so the engine streams them in bounded memory). Repeated
    ids are found by grouping that file (no window over every row), the
    quarantine is read from it, and the clean deals are written from it in
    the order of the source (the one sort, which spills past
    ``memory_limit``): the rules run once over the source, however large.
    The scratch file is removed before returning.
    """
    import pyarrow.parquet as pq

    work_spec = TABLE_SPECS["deals"]
    t, reasons = _flag_rules(work, spec, canonical, accounts_ids, duplicates=False)
    out_columns = list(columns) + (["stage"] if "stage" not in columns else [])
    flags = [f for _, f in reasons]
    if len(flags) > 62:
        raise Fallback("deals: more reasons than one number's bits hold")
    flagged = t["__icp_q"]
    scratch = rows_dir / ".flagged.parquet"
    raw = {f"__icp_r{i}": t[c] for i, c in enumerate(columns)}
    # the reasons as the bits of one number: a column per reason would be written for every row
    bits = ibis.literal(0, "int64")
    for i, f in enumerate(flags):
        bit = ibis.literal(1 << i, "int64")
        bits = bits + ibis.cases((t[f], bit), else_=ibis.literal(0, "int64"))
    row = t.select(
        _FILE,
        _ROW,
        _LINE,
        __icp_bits=bits,
        **{
            f"__icp_o{i}": t[f"__icp_x_{c}"] if f"__icp_x_{c}" in t.columns else t[c]
            for i, c in enumerate(out_columns)
        },
        # raw cells only where a rule quarantines the row: the clean rows need none
        **{k: ibis.cases((flagged, v), else_=ibis.null(v.type())) for k, v in raw.items()},
    )
    keep_order = _setting(con, "preserve_insertion_order")
    try:
        # written as it streams (nothing buffered to keep the order: the clean rows are sorted)
        con.raw_sql("SET preserve_insertion_order = false")
        try:
            con.to_parquet(row, scratch)
        finally:
            con.raw_sql(f"SET preserve_insertion_order = {keep_order}")
        rows_read = pq.read_metadata(scratch).num_rows
        s = con.read_parquet(scratch)
        s = s.mutate(__icp_q=s["__icp_bits"] != 0)
        deal_id = f"__icp_o{out_columns.index('deal_id')}"
        repeats = _repeated_rows(s, deal_id)
        q = s.filter(s["__icp_q"]).select(
            _FILE, _LINE, "__icp_bits", **{c: s[f"__icp_r{i}"] for i, c in enumerate(columns)}
        )
        q = q.to_pandas()
        packed = q.pop("__icp_bits").to_numpy(dtype=np.int64)
        for i, f in enumerate(flags):
            q[f] = (packed >> i) & 1 == 1
        reasons = list(reasons)
        if len(repeats):
            # repeats passed every other rule: their raw cells come from the source, by row
            keys = ibis.memtable(repeats[[_FILE, _ROW]].rename(columns=lambda c: c + "_k"))
            src = work.source
            found = src.inner_join(
                keys, [src[_FILE] == keys[_FILE + "_k"], src[_ROW] == keys[_ROW + "_k"]]
            ).select(_FILE, _LINE, *columns).to_pandas()
            for f in flags:
                found[f] = False
            found["__icp_dup"] = True
            q["__icp_dup"] = False
            q = pd.concat([q, found[q.columns]], ignore_index=True)
            reasons.append(("duplicate deal_id", "__icp_dup"))
        q = q.sort_values([_FILE, _LINE], kind="stable").reset_index(drop=True)
        quarantine = _quarantine_frame(q, reasons, columns, back, files)
        clean = s.filter(~s["__icp_q"])
        if len(repeats):
            drop = repeats[[_FILE, _ROW]].rename(columns=lambda c: c + "_k")
            drop = ibis.memtable(drop.assign(__icp_k=True))
            clean = clean.left_join(
                drop, [clean[_FILE] == drop[_FILE + "_k"], clean[_ROW] == drop[_ROW + "_k"]]
            )
            clean = clean.filter(clean["__icp_k"].isnull())
        clean = clean.order_by([_FILE, _ROW]).select(
            **{c: clean[f"__icp_o{i}"] for i, c in enumerate(out_columns)}
        )
        parquet = rows_dir / "deals.parquet"
        con.to_parquet(clean, parquet)
    finally:
        scratch.unlink(missing_ok=True)
    rows_out, written = _written_facts(con, parquet, work_spec)
    return _loaded(
        con, spec, rows_read=rows_read, rows_out=rows_out, quarantine=quarantine,
        warnings=[*work.warnings, *written], files=files, formats=formats, frame=None,
        parquet=parquet,
    )


def _setting(con, name: str) -> str:
    return str(con.raw_sql(f"SELECT current_setting('{name}')").fetchall()[0][0]).lower()


def _repeated_rows(s, deal_id: str) -> pd.DataFrame:
    """Rows whose id an earlier row that passed every rule already has (``_FILE``, ``_ROW``).

    Two groupings of the flagged file instead of a window over every row:
    the ids kept by more than one row with their first row, then the later
    rows of those ids.
    """
    kept = s.filter(~s["__icp_q"])
    kept = kept.mutate(
        __icp_key=kept[_FILE] * (1 << 40) + kept[_ROW], __icp_h=kept[deal_id].hash()
    )
    # ids are grouped by their 64-bit hash first (a small key, whatever the ids' length);
    # only the rows of hashes seen twice are grouped by the id itself
    twice = (
        kept.group_by("__icp_h").aggregate(__icp_n=kept.count()).filter(lambda g: g["__icp_n"] > 1)
    )
    kept = kept.filter(kept["__icp_h"].isin(twice["__icp_h"]))
    ids = (
        kept.group_by(__icp_id=kept[deal_id])
        .aggregate(__icp_first=kept["__icp_key"].min(), __icp_n=kept.count())
        .filter(lambda g: g["__icp_n"] > 1)
    )
    later = kept.inner_join(ids, kept[deal_id] == ids["__icp_id"])
    later = later.filter(later["__icp_key"] > later["__icp_first"])
    return later.select(_FILE, _ROW).to_pandas()


def _written_facts(con, parquet: Path, spec) -> tuple[int, list[str]]:
    """Rows of the written deals and the warnings ``loading.load_table`` derives from its frame.

    Counted by the engine over the file: empty values of optional-but-expected
    columns and the value counts the spelling check needs (at most
    ``_MAX_SPELLING_VALUES + 1`` distinct values per column come back, in the
    order of their first row, as ``Series.value_counts`` sees them).
    """
    import pyarrow.parquet as pq

    rows = pq.read_metadata(parquet).num_rows
    table = con.read_parquet(parquet, file_row_number=True)
    return rows, _table_facts(table, spec, order="file_row_number")


def _merge_lines(clean, columns: list[str]):
    """Order lines -> deals on the engine, as ``loaders._merge_lines``.

    ``amount`` and ``quantity`` summed (empty when every line is), the other
    columns the first non-empty value in line order, ``items`` the number of
    lines; deals in the order of their first line.
    """
    if "items" in columns:
        raise Fallback("deals: an items column with lines: true is merged by the pandas path")
    key = clean[_FILE] * (1 << 40) + clean[_ROW]
    metrics = {}
    for column in columns:
        if column == "deal_id":
            continue
        value = clean[column]
        if column in ("amount", "quantity"):
            metrics[column] = value.sum()
        else:
            metrics[column] = value.argmin(
                ibis.cases((value.notnull(), key), else_=ibis.null("int64"))
            )
    metrics["items"] = clean.count()
    metrics["__icp_first"] = key.min()
    merged = clean.group_by("deal_id").aggregate(**metrics).order_by("__icp_first")
    return merged.select("deal_id", *[c for c in columns if c != "deal_id"], "items")
