"""Loading one canonical table: parsing, derived columns, defaults, pandera checks, quarantine with reasons (``load_table``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .config import TABLES, InputSpec, ProjectConfig, load_config
from .expressions import ExpressionError, evaluate
from .frames import duplicated as repeats
from .limits import long_cells
from .load_state import _empty_firmographics, _Table
from .mapping import _missing_message, _preset_section, _secondary, _snake, column_mapping
from .reading import (
    _EXPECTED,
    _MAX_SPELLING_VALUES,
    _STAGE_FLAGS,
    LoadError,
    RawFile,
    _cell_text,
    _finish_raw,
    read_file,
)
from .regexes import PatternError, compile_pattern
from .schema import (
    TABLE_SPECS,
    TEXT_DTYPE,
    ColumnSpec,
    Parsed,
    accounts_spec,
    apply_aliases,
    as_text,
    clean_text,
    failure_reason,
    normalise_stage,
    parse_booleans,
    parse_column,
    parse_datetimes,
    table_schema,
)
from .spelling import _preferred_spellings, _rows, spelling_warnings
from .tables import LoadedTable, _display

__all__ = ["load_table", "merge_case_variants", "read_engine_table"]


# --------------------------------------------------------------------------- loading


def read_engine_table(config: ProjectConfig, name: str) -> RawFile:
    """A table of the configured engine (``schema.name``) as read, rows numbered from 1.

    Typed columns keep their types, as from Parquet; the engine's row order
    numbers the rows (what the quarantine's ``source_row`` refers to).
    """
    from .engine import connect

    database, _, table_name = name.rpartition(".")
    con = connect(config)
    try:
        frame = con.table(table_name, database=database or None).to_pandas()
    except Exception as exc:  # each backend raises its own error for a missing table
        raise LoadError(
            f"engine table {name!r} cannot be read ({type(exc).__name__}: {exc}); "
            f"engine: {config.engine.backend}"
        ) from None
    finally:
        if con.name == "duckdb":
            con.disconnect()  # a database file is free again for other processes (kernels)
    for column in frame.columns:
        if frame[column].dtype == object and frame[column].map(
            lambda v: v is None or isinstance(v, str)
        ).all():
            frame[column] = frame[column].astype(TEXT_DTYPE)
    frame.columns = [str(c).strip() for c in frame.columns]
    return _finish_raw(
        frame.reset_index(drop=True), np.arange(1, len(frame) + 1), Path(name), "table",
        "engine table", [],
    )


def _read_parts(config: ProjectConfig, table: str, spec: InputSpec, work: _Table) -> None:
    preset = _preset_section(config, spec, table)
    provided = set(spec.derive) | set(spec.defaults)
    if table == "deals":
        provided |= {"stage"}
    sources = [spec.table] if spec.table else config.input_paths(table)
    for path in sources:
        if spec.table:
            raw = read_engine_table(config, spec.table)
            name = spec.table
        else:
            raw = read_file(
                path,
                encoding=spec.encoding,
                delimiter=spec.delimiter,
                sheet=spec.sheet,
                max_columns=config.limits.max_columns,
                max_aliases=config.limits.yaml_max_aliases,
            )
            name = _display(config, path)
        for column, positions in long_cells(raw.frame, max_chars=config.limits.max_cell_chars):
            shown = ", ".join(f"{raw.unit} {raw.rows[p]:,}" for p in positions[:5])
            more = f" and {len(positions) - 5:,} more" if len(positions) > 5 else ""
            work.warnings.append(
                f"{name}: column {column!r} has cells longer than {config.limits.max_cell_chars:,} "
                f"characters (limits.max_cell_chars) at {shown}{more}; kept whole (an XLSX export "
                "cuts such a cell at 32,767 characters and says so)"
            )
        work.files.append(name)
        work.formats.append(f"{name} ({raw.detail})")
        work.warnings.extend(raw.warnings)
        mapping, unmatched = column_mapping(
            list(raw.frame.columns), table=table, columns=spec.columns, preset=preset, source=name
        )
        if table == "accounts":
            mapping = _consumer_mapping(config, spec, work, list(raw.frame.columns), mapping, provided)
        frame = raw.frame.rename(columns=mapping)
        if spec.distinct:
            keep = set(mapping.values()) | set(work.spec.names) | set(spec.columns.values())
            frame = frame[[c for c in frame.columns if c in keep]]
        for header, target in mapping.items():
            work.back.setdefault(target, header)
        missing = [c for c in work.spec.required if c not in frame.columns and c not in provided]
        if missing:
            raise LoadError(
                _missing_message(name, table, missing, raw.frame.columns, spec, unmatched)
            )
        if unmatched:
            work.warnings.append(
                f"{name}: inputs.{table}.columns names {', '.join(map(repr, unmatched))}, "
                "not in the file"
            )
        for column in preset.get("first_of_list", []) or []:
            if column in frame.columns:
                text = clean_text(frame[column])
                several = text.str.contains(";", regex=False, na=False)
                if several.any():
                    frame[column] = text.str.split(";").str[0].str.strip()
                    work.warnings.append(
                        f"{name}: {int(several.sum()):,} rows list several {column} values; "
                        "the first is used"
                    )
        work.units[name] = raw.unit
        work.parts.append(frame)
        work.origins.append(
            pd.DataFrame({"source_file": name, "source_row": raw.rows}, index=frame.index)
        )


def _consumer_mapping(
    config: ProjectConfig, spec: InputSpec, work: _Table, headers: list[str], mapping: dict, provided: set
) -> dict:
    """Decide the accounts' profile kind and, for consumers, map demographic headers.

    ``profile.kind`` decides; without it, accounts with neither ``industry``
    nor ``employees`` (after mapping, ``derive`` and ``defaults``) are
    consumers. Consumers need only ``account_id``; headers that spell a
    demographic column (``Year_Birth`` -> ``birth_year``, ``Sex`` ->
    ``gender``, see :data:`icp_helpers.data.demographics.HEADER_SYNONYMS`) are
    mapped unless the config maps them otherwise.
    """
    from .demographics import HEADER_SYNONYMS
    from .wording import infer_kind

    names = {mapping.get(h, h) for h in headers} | provided
    kind = config.profile.kind or infer_kind(names)
    work.kind = kind
    if kind != "b2c":
        return mapping
    work.spec = accounts_spec("b2c")
    out = dict(mapping)
    taken = set(out.values()) | {h for h in headers if h not in out}
    canonical = set(work.spec.names)
    for header in headers:
        if header in out or header in canonical:
            continue
        snake = _snake(header)
        target = snake if snake in canonical else next(
            (c for c, words in HEADER_SYNONYMS.items() if snake in words), None
        )
        if target and target not in taken and target not in provided:
            out[header] = target
            taken.add(target)
            work.guessed[target] = header
    return out


def _apply_defaults(frame: pd.DataFrame, spec: InputSpec, work: _Table) -> pd.DataFrame:
    for column, value in spec.defaults.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if column not in frame.columns:
            frame[column] = pd.Series(text, index=frame.index, dtype=TEXT_DTYPE)
            work.filled[column] = len(frame)
            continue
        empty = _blank(frame[column])
        if empty.any():
            filled = as_text(frame[column]).astype(object)
            filled[empty] = text
            frame[column] = filled.astype(TEXT_DTYPE)
            work.filled[column] = int(empty.sum())
    return frame


def _blank(series: pd.Series) -> pd.Series:
    if series.dtype == object and not series.map(lambda v: isinstance(v, str | None)).all():
        return series.isna()
    return clean_text(series).isna()


def _parse_canonical(
    frame: pd.DataFrame,
    column: ColumnSpec,
    *,
    config: ProjectConfig,
    spec: InputSpec,
    work: _Table,
    origin: pd.DataFrame,
) -> None:
    raw = frame[column.name]
    limits = config.limits
    parsed: Parsed = parse_column(
        raw,
        column,
        aliases=config.aliases.get(column.name),
        dayfirst=spec.dayfirst,
        date_format=spec.date_format,
        decimal=spec.decimal_separator,
        max_number=limits.max_number,
        earliest=limits.date_min,
        latest=limits.latest_date(),
    )
    bad = parsed.bad
    if bad.any():
        usable = int(parsed.values.notna().sum())
        if usable == 0 and column.name in work.guessed:
            # a header that only looked like a demographic column (Kids: yes/no): keep it as it is
            header = work.guessed.pop(column.name)
            frame[header] = frame.pop(column.name)
            work.warnings.append(
                f"{work.table}.{header}: read as {column.name} by its name, but no value is "
                f"{_EXPECTED.get(column.kind, column.kind).format(table=work.table)}; kept as {header!r}"
            )
            return
        if usable == 0 and not _implausible_only(parsed):
            origin_name = work.back.get(column.name)
            source = f" (from {origin_name!r})" if origin_name else ""
            files = sorted(set(origin.loc[bad[bad].index, "source_file"]))
            expected = _EXPECTED.get(column.kind, column.kind).format(table=work.table)
            raise LoadError(
                f"{', '.join(files)}: column {column.name!r}{source} cannot be read: none of its "
                f"{int(bad.sum()):,} values parses. Expected {expected}. Offending values: "
                f"{work.where(bad[bad].index, origin, raw)}."
            )
        share = bad.sum() / max(int(bad.sum()) + usable, 1)
        if share > 0.5:
            work.warnings.append(
                f"{work.table}.{column.name}: {share:.0%} of the values could not be read; "
                "check the column mapping or the date/number format"
            )
    if _secondary(work.table, column):
        # a bad optional field is left empty: the row (an account with its deals) stays
        for reason, mask in parsed.problems.items():
            if mask.any():
                index = mask[mask].index
                work.warnings.append(
                    f"{work.table}.{column.name}: {_rows(len(index))} left empty ({reason}; the "
                    f"rows are kept): {work.where(index, origin, raw)}"
                )
    else:
        for reason, mask in parsed.problems.items():
            work.problem(reason, mask)
    if parsed.note:
        work.warnings.append(f"{work.table}.{column.name}: {parsed.note}")
    frame[column.name] = parsed.values


def _implausible_only(parsed: Parsed) -> bool:
    """Every bad value parsed but lies outside the plausible range (set aside, not a format error)."""
    return all(
        not mask.any() for reason, mask in parsed.problems.items() if not reason.startswith("implausib")
    )


def _derive(
    frame: pd.DataFrame, spec: InputSpec, work: _Table, raw: pd.DataFrame | None = None
) -> None:
    """Columns computed by ``derive`` expressions (:mod:`icp_helpers.data.expressions`: data, not code)."""
    for target, expression in spec.derive.items():
        try:
            result = evaluate(expression, frame, raw=raw, on_problem=work.problem)
        except ExpressionError as exc:
            raise LoadError(
                f"inputs.{work.table}.derive.{target}: cannot evaluate {exc}. Expressions may use "
                "column names, "
                "literals, arithmetic, comparisons and the documented functions (README, derive)"
            ) from None
        except Exception as exc:  # a value the expression cannot handle (e.g. text / text)
            raise LoadError(
                f"inputs.{work.table}.derive.{target}: cannot evaluate {expression!r} "
                f"({type(exc).__name__}: {exc}). Columns available: "
                f"{', '.join(map(str, frame.columns))}"
            ) from None
        frame[target] = result


def _expected_close_dates(frame: pd.DataFrame, raw: pd.DataFrame, work: _Table, spec: InputSpec) -> None:
    """An open deal's close date is an expectation: a date past the plausible range stays.

    Only won and lost deals need a close date that has happened; an open
    deal expected to close in two years is not a typo.
    """
    reason = next((r for r, _ in work.problems if r.startswith("implausible close_date")), None)
    if reason is None:
        return
    rows = np.concatenate([idx for r, idx in work.problems if r == reason])
    open_rows = rows[(frame.loc[rows, "stage"] == "open").to_numpy()]
    if not len(open_rows):
        return
    if "close_date" not in raw.columns:
        return
    again = parse_datetimes(
        raw.loc[open_rows, "close_date"],
        column="close_date",
        dayfirst=spec.dayfirst,
        date_format=spec.date_format,
    ).values
    future = again.notna() & (again > pd.Timestamp.now())
    keep = again.index[future.to_numpy()]
    if not len(keep):
        return
    frame.loc[keep, "close_date"] = again[keep]
    work.problems = [
        (r, idx if r != reason else np.setdiff1d(idx, keep.to_numpy())) for r, idx in work.problems
    ]


def _stage_from_flags(frame: pd.DataFrame, work: _Table) -> None:
    """Salesforce's Won/Closed checkboxes decide the stage when the export has them."""
    flags = {}
    for name in _STAGE_FLAGS:
        if name in frame.columns:
            parsed = parse_booleans(frame[name], column=name)
            for reason, mask in parsed.problems.items():
                work.problem(reason, mask)
            flags[name] = parsed.values
            frame[name] = parsed.values
    if not flags:
        return
    won = flags.get("is_won", pd.Series(pd.NA, index=frame.index, dtype="boolean"))
    closed = flags.get("is_closed", pd.Series(pd.NA, index=frame.index, dtype="boolean"))
    stage = pd.Series(pd.NA, index=frame.index, dtype=object)
    stage[closed.eq(False).fillna(False)] = "open"
    stage[closed.eq(True).fillna(False)] = "lost"
    stage[won.eq(True).fillna(False)] = "won"
    if "stage" in frame.columns:
        stage = stage.where(stage.notna(), frame["stage"])
    else:  # only a Won flag: not won counts as lost
        stage[(won.eq(False) & closed.isna()).fillna(False)] = "lost"
    frame["stage"] = normalise_stage(stage.fillna("won").astype(TEXT_DTYPE))


def merge_case_variants(series: pd.Series, *, prefer=()) -> tuple[pd.Series, list[str]]:
    """Merge values that differ only in case into one spelling.

    Exports mix ``Wholesaler``, ``wholesaler`` and ``WHOLESALER`` for one
    level; as separate levels they would split a trait. The spelling kept is
    the first of ``prefer`` (the config's alias targets, then the reference
    vocabulary) with the same letters, else the most frequent one. Returns
    the series and a description of each merge for the load summary.
    """
    counts = {str(v): int(n) for v, n in series.value_counts().items()}
    groups: dict[str, list[str]] = {}
    for value in counts:
        groups.setdefault(value.casefold(), []).append(value)
    if all(len(members) == 1 for members in groups.values()):
        return series, []
    preferred: dict[str, str] = {}
    for spelling in prefer:
        preferred.setdefault(str(spelling).casefold(), str(spelling))
    mapping, merges = {}, []
    for key, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        keep = preferred.get(key, members[0])  # value_counts order: most frequent first
        others = [v for v in members if v != keep]
        mapping.update(dict.fromkeys(others, keep))
        merges.append(f"{keep!r} (+{', '.join(repr(v) for v in others)})")
    return series.replace(mapping).astype(series.dtype), merges


def _clean_extras(frame: pd.DataFrame, config: ProjectConfig, work: _Table, skip: set[str]) -> None:
    for column in frame.columns:
        if column in skip:
            continue
        values = frame[column]
        if values.dtype != object and values.dtype != TEXT_DTYPE:
            continue  # typed (Parquet) columns stay as they are
        if values.dtype == object and values.map(lambda v: isinstance(v, list)).any():
            continue
        text = apply_aliases(clean_text(values), config.aliases.get(column))
        # numbers in text when every distinct value reads as one, without a leading zero
        # (codes such as 0123); the distinct values are tested, not 20 million cells
        distinct = pd.Series(text.dropna().unique())
        if (
            len(distinct)
            and pd.to_numeric(distinct, errors="coerce").notna().all()
            and not distinct.str.match(r"^0\d", na=False).any()
        ):
            frame[column] = pd.to_numeric(text, errors="coerce").astype("float64")
            continue
        if len(distinct) <= _MAX_SPELLING_VALUES:
            text, merges = merge_case_variants(text, prefer=_preferred_spellings(config, column))
            if merges:
                work.warnings.append(
                    f"{work.table}.{column}: case variants merged: {'; '.join(merges)}"
                )
        frame[column] = text


def _compiles(pattern: str) -> bool:
    """Whether a codebook pattern compiles for the linear-time engine the coder uses."""
    try:
        compile_pattern(pattern)
    except PatternError:
        return False
    return True


def _reasons(work: _Table, index: pd.Index) -> pd.Series:
    """One reason text per quarantined row (several reasons joined by '; ')."""
    if not work.problems:
        return pd.Series([], index=index[:0], dtype=object)
    reasons = np.array([r for r, _ in work.problems], dtype=object)
    pairs = pd.DataFrame(
        {
            "row": np.concatenate([idx for _, idx in work.problems]),
            "reason": np.repeat(reasons, [len(idx) for _, idx in work.problems]),
        }
    ).drop_duplicates()
    several = pairs["row"].duplicated(keep=False).to_numpy()
    single = pairs.loc[~several].set_index("row")["reason"]
    if several.any():  # join only where a row has more than one reason
        joined = pairs.loc[several].groupby("row", sort=False)["reason"].agg("; ".join)
        single = pd.concat([single, joined])
    return single.sort_index()


def _pandera_problems(frame: pd.DataFrame, work: _Table, account_ids) -> None:
    schema = table_schema(
        work.table, columns=list(frame.columns), account_ids=account_ids, unique=False,
        spec=work.spec,
    )
    try:
        # inplace: nothing is coerced, so pandera's defensive copy of the frame is pure cost
        schema.validate(frame, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        structural = cases[cases["index"].isna()]
        if len(structural):
            first = structural.iloc[0]
            raise LoadError(
                f"{work.table}: column {first['column']!r} fails {first['check']!r} "
                f"(got {first['failure_case']!r})"
            ) from None
        cases = cases.assign(
            reason=[
                failure_reason(c, k) for c, k in zip(cases["column"], cases["check"], strict=True)
            ]
        )
        for reason, rows in cases.groupby("reason")["index"]:
            work.problem(reason, pd.Index(rows.astype(np.int64).unique()))


def _deals_on_engine(config: ProjectConfig, spec: InputSpec) -> bool:
    """``engine.validation``: the deals on the engine, or in pandas.

    ``auto`` takes the engine for an engine table and for files of at least
    ``engine.engine_min_mb`` megabytes together: past that size the engine
    is faster and the deals need not fit in memory, below it starting the
    engine costs more than pandas takes.
    """
    mode = config.engine.validation
    if mode != "auto":
        return mode == "engine"
    if spec.table is not None:
        return True
    size = sum(p.stat().st_size for p in config.input_paths("deals") if p.is_file())
    return size >= config.engine.engine_min_mb * 1e6


def load_table(
    config: ProjectConfig | str | Path,
    table: str,
    *,
    accounts_ids=None,
    rows_dir: str | Path | None = None,
) -> LoadedTable:
    """Load, map, parse and validate one canonical table.

    Parameters
    ----------
    config : ProjectConfig or path
        The project config (a path is loaded with :func:`load_config`).
    table : str
        One of the canonical tables named under ``inputs``.
    accounts_ids : collection, optional
        Known account ids; rows of tables that reference an account must
        name one of them (else quarantined as ``unknown account_id``).
    rows_dir : path, optional
        Deals validated on the engine are written there as ``deals.parquet``
        (default: a temporary folder removed with the returned table) and
        read into pandas only when ``frame`` is accessed.

    Raises
    ------
    LoadError
        On structural problems (see the module docstring).
    """
    if not isinstance(config, ProjectConfig):
        config = load_config(config)
    if table not in TABLE_SPECS:
        raise LoadError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
    spec = config.inputs.get(table)
    if spec is None:
        raise LoadError(f"{table}: not configured (add inputs.{table} to {config.source})")
    if table == "deals" and _deals_on_engine(config, spec):
        from . import engine_load

        try:
            return engine_load.load_deals(config, accounts_ids=accounts_ids, rows_dir=rows_dir)
        except engine_load.Fallback as exc:
            engine_load.logger.info("deals validated in pandas, not on the engine: %s", exc)
    work = _Table(table)
    _read_parts(config, table, spec, work)
    if table == "interviews":
        _add_transcripts(config, work)
    if not work.parts:
        raise LoadError(f"inputs.{table}: no files to read (set path or table)")
    frame = pd.concat(work.parts, ignore_index=True) if len(work.parts) > 1 else work.parts[0]
    origin = pd.concat(work.origins, ignore_index=True)
    frame.index = origin.index = pd.RangeIndex(len(frame))
    origin["source_file"] = origin["source_file"].astype("category")
    raw = frame.copy(deep=False)  # copy-on-write: shares the data until the frame changes it
    rows_read = len(frame)

    frame = _parse_table(frame, raw, origin, config=config, spec=spec, work=work, table=table)
    survivors, reasons, status = _row_rules(
        frame, spec=spec, work=work, accounts_ids=accounts_ids, table=table, rows_read=rows_read
    )
    return _loaded_table(
        survivors, reasons, status, raw, origin, spec=spec, work=work, table=table, rows_read=rows_read
    )


def _parse_table(frame, raw, origin, *, config, spec, work, table) -> pd.DataFrame:
    """Defaults, canonical columns parsed, ``derive``, stages, case variants and extra columns."""
    frame = _apply_defaults(frame, spec, work)
    canonical = [
        c for c in work.spec.columns if c.name in frame.columns and c.name not in spec.derive
    ]
    for column in canonical:
        _parse_canonical(frame, column, config=config, spec=spec, work=work, origin=origin)
    parsed = {c.name for c in canonical}
    if spec.derive:
        _derive(frame, spec, work, raw)
        for name in spec.derive:
            column = work.spec.column(name)
            if column is not None:
                _parse_canonical(frame, column, config=config, spec=spec, work=work, origin=origin)
                parsed.add(name)
    if table == "deals":
        _stage_from_flags(frame, work)
        if "stage" not in frame.columns:  # exports of completed orders have no stage
            frame["stage"] = pd.Series("won", index=frame.index, dtype=TEXT_DTYPE)
        if "close_date" in frame.columns and "close_date" not in spec.derive:
            _expected_close_dates(frame, raw, work, spec)
        parsed |= {"stage", *(f for f in _STAGE_FLAGS if f in frame.columns)}
    for column in work.spec.columns:
        if column.kind == "category" and column.name in frame.columns:
            frame[column.name], merges = merge_case_variants(
                frame[column.name], prefer=_preferred_spellings(config, column.name)
            )
            if merges:
                work.warnings.append(
                    f"{table}.{column.name}: case variants merged: {'; '.join(merges)}"
                )
    if work.spec.extras:
        _clean_extras(frame, config, work, skip=parsed)
    if table == "codebook" and "patterns" in frame.columns:
        work.problem(
            "invalid regular expression in patterns",
            frame["patterns"].map(lambda items: not all(map(_compiles, items))),
        )
    return frame


def _row_rules(frame, *, spec, work, accounts_ids, table, rows_read):
    """Parse problems, pandera, ``distinct`` and duplicate keys: the survivors, reasons and row status."""
    # row rules: parse problems first, pandera on the rest, then duplicates
    status = np.zeros(rows_read, dtype=np.int8)  # 0 unassigned, 1 used, 2 quarantined
    reasons = _reasons(work, frame.index)
    candidates = frame.drop(index=reasons.index) if len(reasons) else frame
    _pandera_problems(candidates, work, accounts_ids)
    reasons = _reasons(work, frame.index)
    survivors = frame.drop(index=reasons.index) if len(reasons) else frame
    group_of = None
    if spec.distinct and len(survivors):
        lists = {c.name for c in work.spec.columns if c.kind == "list"}
        data = [c for c in survivors.columns if c not in lists]
        gid = survivors.groupby(data, dropna=False, sort=False).ngroup()
        group_of = (
            pd.Series(survivors.index, index=survivors.index)
            .groupby(gid.to_numpy())
            .transform("first")
        )
        survivors = survivors.loc[~gid.duplicated().to_numpy()]
    key = list(work.spec.key)
    if key and not spec.lines and len(survivors):
        if len(key) == 1:
            duplicated = repeats(survivors[key[0]])
        else:
            duplicated = survivors.duplicated(subset=key, keep="first")
        if duplicated.any():
            work.problem("duplicate " + "+".join(key), duplicated)
            survivors = survivors.loc[~duplicated]
    reasons = _reasons(work, frame.index)
    if group_of is not None and len(reasons):
        # a merged row shares the fate of the row it was merged into
        hit = group_of[group_of.isin(reasons.index)]
        extra = hit.index.difference(reasons.index)
        if len(extra):
            reasons = pd.concat(
                [reasons, pd.Series(reasons.loc[hit[extra].to_numpy()].to_numpy(), index=extra)]
            )
            reasons = reasons.sort_index()
    used = survivors.index.to_numpy()
    if group_of is not None:
        used = group_of.index[group_of.isin(survivors.index)].to_numpy()
    status[reasons.index.to_numpy()] = 2
    if (status[used] != 0).any():
        raise AssertionError(f"{table}: rows counted as both used and quarantined")
    status[used] = 1
    unassigned = int((status == 0).sum())
    if unassigned:
        raise AssertionError(f"{table}: {unassigned} rows neither used nor quarantined")
    return survivors, reasons, status


def _loaded_table(survivors, reasons, status, raw, origin, *, spec, work, table, rows_read) -> LoadedTable:
    """Lines merged, the quarantine, the reconciliation, warnings and the summary."""
    out = survivors
    merged = bool(spec.lines and len(out))
    if merged:
        out = _merge_lines(out)
    out = out.reset_index(drop=True)
    if merged:
        # merged lines are new rows: the contract of the table (dtypes, non-null and
        # value checks) again. Other survivors passed it above, unchanged; keys and
        # account ids were enforced above and are not hashed a second time.
        table_schema(table, columns=list(out.columns), unique=False).validate(out, inplace=True)

    quarantine = _quarantine_frame(raw, origin, reasons, work)
    rows_used = int((status == 1).sum())
    rows_quarantined = len(quarantine)
    if rows_used + rows_quarantined != rows_read:
        raise AssertionError(
            f"{table}: {rows_read} read != {rows_used} used + {rows_quarantined} quarantined"
        )
    work.warnings.extend(_empty_firmographics(out, work))
    spelling_columns = [c for c in work.spec.spelling if c in out.columns]
    extras = [c for c in out.columns if work.spec.column(c) is None and out[c].dtype == TEXT_DTYPE]
    work.warnings.extend(spelling_warnings(out, table=table, columns=spelling_columns + extras))
    if rows_read and not len(out):
        work.warnings.append(f"{table}: no usable rows; every row was quarantined")
    counts = Counter(r for text in quarantine["reason"] for r in text.split("; "))
    summary = {
        "table": table,
        "files": list(work.files),
        "formats": list(work.formats),
        "rows_read": rows_read,
        "rows_used": rows_used,
        "rows_quarantined": rows_quarantined,
        "rows_out": len(out),
        "reconciled": rows_used + rows_quarantined == rows_read,
        "filled_defaults": dict(work.filled),
        "reasons": dict(counts.most_common()),
        "warnings": list(work.warnings),
    }
    if work.kind:
        summary["profile_kind"] = work.kind
    return LoadedTable(frame=out, quarantine=quarantine, summary=summary)


def _merge_lines(frame: pd.DataFrame) -> pd.DataFrame:
    """Order lines -> deals: amount and quantity summed, ``items`` = line count."""
    grouped = frame.groupby("deal_id", sort=False)
    sums = {c: grouped[c].sum(min_count=1) for c in ("amount", "quantity") if c in frame.columns}
    rest = [c for c in frame.columns if c != "deal_id" and c not in sums]
    out = grouped[rest].first() if rest else pd.DataFrame(index=grouped.size().index)
    for column, values in sums.items():
        out[column] = values
    out["items"] = grouped.size().astype("Int64")
    out = out.reset_index()
    return out[["deal_id", *[c for c in frame.columns if c not in ("deal_id", "items")], "items"]]


def _add_transcripts(config: ProjectConfig, work: _Table) -> None:
    folder = config.transcripts_path()
    if folder is None:
        return
    from .transcripts import read_transcripts

    try:
        frame = read_transcripts(folder)
    except ValueError as exc:  # TranscriptError names the file and line
        raise LoadError(str(exc)) from None
    files = frame["source_file"].map(lambda p: _display(config, Path(str(p))))
    rows = frame["source_row"].astype(np.int64).to_numpy()
    data = frame.drop(columns=["source_file", "source_row"])
    data = data.astype(object).where(data.notna(), None).map(_cell_text).astype(TEXT_DTYPE)
    name = _display(config, folder)
    work.files.append(name + "/")
    work.formats.append(f"{name}/ ({len(set(files)):,} transcripts)")
    for file in set(files):
        work.units[file] = "line"
    work.parts.append(data.reset_index(drop=True))
    work.origins.append(pd.DataFrame({"source_file": files.to_numpy(), "source_row": rows}))


def _quarantine_frame(raw: pd.DataFrame, origin: pd.DataFrame, reasons: pd.Series, work: _Table):
    rows = raw.loc[reasons.index]
    rows = rows.rename(
        columns={k: v for k, v in work.back.items() if k in rows.columns and v not in rows.columns}
    )
    for column in rows.columns:
        if rows[column].dtype == object:
            rows[column] = rows[column].map(
                lambda v: "; ".join(map(str, v)) if isinstance(v, list) else v, na_action="ignore"
            )
    head = pd.DataFrame(
        {
            "source_file": origin.loc[reasons.index, "source_file"].astype(str),
            "source_row": origin.loc[reasons.index, "source_row"].astype(np.int64),
            "reason": reasons.astype(str),
        },
        index=reasons.index,
    )
    taken = [c for c in rows.columns if c in head.columns]
    rows = rows.rename(columns={c: f"{c} (raw)" for c in taken})
    return pd.concat([head, rows], axis=1).reset_index(drop=True)
