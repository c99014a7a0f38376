"""Parsing the deals' columns on the engine: the pandas parser's rules as Ibis expressions.

Used by :mod:`icp_helpers.data.engine_load`: each canonical column is cast on
the engine where its cells have one unambiguous form, and the "hard" cells
go through the very parser of ``schema.py`` (once per distinct value, or
with their row counts where the whole column decides). Problems become
boolean columns that :func:`_settle` counts in one query.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from .schema import (
    _DATE_MAX,
    _DATE_MIN,
    TEXT_DTYPE,
    parse_column,
)

__all__ = ["HARD_ROWS_LIMIT", "MAX_DISTINCT", "Fallback"]

#: Hard cells of one column passed to the pandas parser, at most (else the pandas path).
HARD_ROWS_LIMIT = 2_000_000
#: Distinct values of one text column mapped through the pandas parser, at most.
MAX_DISTINCT = 1_000_000

_ROW, _FILE, _LINE = "__icp_row", "__icp_file", "__icp_line"
_WS = "".join(f"\\x{{{ord(ch):04x}}}" for ch in map(chr, range(0x3001)) if ch.isspace())
#: Text with whitespace at either end, or empty: the pandas cleaner decides.
_EDGES = f"^[{_WS}]|[{_WS}]$|^$"
_PLAIN_NUMBER = r"^[+-]?([0-9]{1,20}(\.[0-9]{0,12})?|\.[0-9]{1,12})$"
_AMBIGUOUS = r"^[+-]?[0-9]{1,3}[.,][0-9]{3}$"
_ISO = r"^(1[7-9][0-9]{2}|2[0-1][0-9]{2}|22[0-5][0-9])-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$"
_ISO_TIME_FREE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class Fallback(Exception):  # noqa: N818 - a signal, not an error
    """The engine path cannot apply a rule exactly; the pandas path loads the table."""


def _is_text(dtype) -> bool:
    return dtype.is_string()


# --------------------------------------------------------------------------- parsing


class _Work:
    def __init__(self, con, table, names, config, spec):
        self.con = con
        self.t = table
        self.names = names
        self.config = config
        self.spec = spec
        self.problems: list[tuple[str, str]] = []  # (reason, boolean column name)
        self.warnings: list[str] = []
        self.files: list[str] = []
        self.units: dict[str, str] = {}
        self.source = table  # the files as read, before any parsed column
        self.counts: dict[str, pd.DataFrame] = {}  # column -> value, rows, first row
        self.pending: list = []  # (column, reason -> mask column, note) awaiting _settle

    def flag(self, reason: str, expr) -> None:
        name = f"__icp_p{len(self.problems)}"
        self.t = self.t.mutate(**{name: expr.fill_null(False)})
        self.problems.append((reason, name))


def _scalar(expr):
    """One value computed on the engine."""
    return (
        expr.as_scalar().to_pyarrow().as_py()
        if hasattr(expr, "as_scalar")
        else expr.to_pyarrow().as_py()
    )


def _hard_values(work: _Work, column: str, rule, *, repeat: bool, as_text: bool = False):
    """The raw cells of ``column`` where ``rule(cells)``: distinct values, or every row (``repeat``).

    Queried on the files as read (not on the growing expression of the parsed
    columns), so each column costs one scan.
    """
    s = work.source
    cells = s[column].cast("string") if as_text else s[column]
    rows = s.mutate(__icp_cell=cells, __icp_hard=rule(cells)).filter(lambda r: r["__icp_hard"])
    grouped = (
        rows.group_by(value=rows["__icp_cell"])
        .aggregate(n=rows.count(), first=rows[_ROW].min())
        .order_by("first")
    )
    frame = grouped.to_pandas()
    if repeat and int(frame["n"].sum()) > HARD_ROWS_LIMIT:
        raise Fallback(f"deals.{column}: more than {HARD_ROWS_LIMIT:,} cells need the full parser")
    if len(frame) > MAX_DISTINCT:
        raise Fallback(
            f"deals.{column}: more than {MAX_DISTINCT:,} distinct values need the full parser"
        )
    values = frame["value"].astype(object)
    if repeat:
        values = pd.Series(np.repeat(values.to_numpy(), frame["n"].to_numpy()), dtype=object)
    return values.astype(TEXT_DTYPE), frame


def _lookup(work: _Work, column: str, table: pd.DataFrame, *, kinds: dict) -> None:
    """Join ``table`` (``value`` -> result columns) onto the rows by the raw ``column``."""
    memory = ibis.memtable(table, schema=ibis.schema({"value": "string", **kinds}))
    memory = memory.rename({f"__icp_v_{column}": "value"})
    work.t = work.t.left_join(memory, work.t[column] == memory[f"__icp_v_{column}"]).drop(
        f"__icp_v_{column}"
    )


def _parse_number(work: _Work, column, options) -> None:
    t = work.t
    name = column.name
    dtype = t.schema()[name]
    big_reason = f"implausibly large {name}"
    bad_reason = f"non-numeric {name}"
    max_number = options["max_number"]
    if dtype.is_numeric():
        value = t[name].cast("float64")
        if not dtype.is_integer():  # a NaN stored as a number is a missing value, as in pandas
            value = ibis.cases((value.isnan(), ibis.null("float64")), else_=value)
        inf = value.isinf() if not dtype.is_integer() else ibis.literal(False)
        value = ibis.cases((inf, ibis.null("float64")), else_=value)
        big = value.abs() > max_number if max_number is not None else ibis.literal(False)
        work.t = t.mutate(
            **{f"__icp_x_{name}": ibis.cases((big, ibis.null("float64")), else_=value)}
        )
        _record(work, column, {bad_reason: inf, big_reason: big}, note=None)
        return
    if not _is_text(dtype):
        raise Fallback(f"deals.{name}: {dtype} values are read by the pandas path")
    raw = t[name]

    def plain(cells):
        return cells.notnull() & cells.re_search(_PLAIN_NUMBER) & ~cells.re_search(_AMBIGUOUS)

    easy = plain(raw)
    hard = raw.notnull() & ~easy
    values, distinct = _hard_values(work, name, lambda c: c.notnull() & ~plain(c), repeat=True)
    cells = work.source[name]
    witness = _scalar(work.source.filter(plain(cells) & cells.contains(".")).count()) > 0
    series = pd.concat(
        [values, pd.Series(["0.5"] if witness else [], dtype=TEXT_DTYPE)], ignore_index=True
    )
    parsed = parse_column(series, column, decimal=options["decimal"], max_number=max_number)
    starts = np.cumsum(distinct["n"].to_numpy(dtype=np.int64)) - distinct["n"].to_numpy(
        dtype=np.int64
    )
    result = pd.DataFrame({"value": distinct["value"].astype(object)})
    result["num"] = parsed.values.iloc[starts].to_numpy(dtype="float64", na_value=np.nan)
    for i, mask in enumerate(parsed.problems.values()):
        result[f"p{i}"] = mask.iloc[starts].to_numpy(bool)
    kinds = {"num": "float64", **{f"p{i}": "boolean" for i in range(len(parsed.problems))}}
    _lookup(
        work,
        name,
        result.rename(columns=lambda c: c if c == "value" else f"__icp_h_{name}_{c}"),
        kinds={f"__icp_h_{name}_{k}": v for k, v in kinds.items()},
    )
    t = work.t
    cast = raw.try_cast("float64")
    big_easy = (cast.abs() > max_number) if max_number is not None else ibis.literal(False)
    from_parser = t[f"__icp_h_{name}_num"]
    from_parser = ibis.cases((from_parser.isnan(), ibis.null("float64")), else_=from_parser)
    value = ibis.cases(
        (easy & ~big_easy, cast),
        (hard, from_parser),
        else_=ibis.null("float64"),
    )
    work.t = t.mutate(**{f"__icp_x_{name}": value})
    masks = {}
    for i, reason in enumerate(parsed.problems):
        masks[reason] = hard & t[f"__icp_h_{name}_p{i}"].fill_null(False)
    masks[big_reason] = masks.get(big_reason, ibis.literal(False)) | (easy & big_easy)
    _record(work, column, masks, note=parsed.note)


def _parse_datetime(work: _Work, column, options) -> None:
    t = work.t
    name = column.name
    dtype = t.schema()[name]
    unparseable = f"unparseable {name}"
    low = pd.Timestamp(options["earliest"]) if options["earliest"] is not None else _DATE_MIN
    high = (
        pd.Timestamp(options["latest"]) + pd.Timedelta(days=1)
        if options["latest"] is not None
        else _DATE_MAX
    )
    shown_high = (
        pd.Timestamp(options["latest"]).date() if options["latest"] is not None else high.date()
    )
    implausible = f"implausible {name} (before {low.date()} or after {shown_high})"
    note = None
    if dtype.is_timestamp() or dtype.is_date():
        if dtype.is_timestamp() and dtype.timezone is not None:
            raise Fallback(f"deals.{name}: time-zone aware values are read by the pandas path")
        value = t[name].cast("timestamp")
        out_of_range = value.notnull() & ((value < _DATE_MIN) | (value > _DATE_MAX))
        value = ibis.cases((out_of_range, ibis.null("timestamp")), else_=value)
        masks = {unparseable: out_of_range}
    elif _is_text(dtype):
        raw = t[name]

        def iso(cells):
            if options["date_format"]:
                return cells.isnull() & cells.notnull()  # the format decides every cell
            return cells.notnull() & cells.re_search(_ISO) & cells.try_cast("timestamp").notnull()

        easy = iso(raw)
        hard = raw.notnull() & ~easy
        values, distinct = _hard_values(work, name, lambda c: c.notnull() & ~iso(c), repeat=True)
        parsed = parse_column(
            values, column, dayfirst=options["dayfirst"], date_format=options["date_format"]
        )
        note = parsed.note
        starts = np.cumsum(distinct["n"].to_numpy(dtype=np.int64)) - distinct["n"].to_numpy(
            dtype=np.int64
        )
        result = pd.DataFrame({"value": distinct["value"].astype(object)})
        result[f"__icp_h_{name}_ts"] = parsed.values.iloc[starts].to_numpy(dtype="datetime64[ns]")
        result[f"__icp_h_{name}_bad"] = parsed.bad.iloc[starts].to_numpy(bool)
        _lookup(
            work,
            name,
            result,
            kinds={f"__icp_h_{name}_ts": "timestamp", f"__icp_h_{name}_bad": "boolean"},
        )
        t = work.t
        value = ibis.cases(
            (easy, raw.try_cast("timestamp")),
            (hard, t[f"__icp_h_{name}_ts"]),
            else_=ibis.null("timestamp"),
        )
        masks = {unparseable: hard & t[f"__icp_h_{name}_bad"].fill_null(False)}
    else:
        raise Fallback(f"deals.{name}: {dtype} values are read by the pandas path")
    outside = value.notnull() & ((value < low.to_pydatetime()) | (value >= high.to_pydatetime()))
    work.t = t.mutate(
        **{
            f"__icp_x_{name}": ibis.cases((outside, ibis.null("timestamp")), else_=value),
            f"__icp_u_{name}": value,  # before the plausible range: open deals' expected dates
        }
    )
    masks[implausible] = outside
    _record(work, column, masks, note=note)


def _parse_text(work: _Work, column, options) -> None:
    """ids, stages and categories: a cell-by-cell rule, run on each distinct hard value."""
    t = work.t
    name = column.name
    dtype = t.schema()[name]
    aliases = options["aliases"]
    key = name
    if dtype.is_integer() and column.kind == "id":
        key = f"__icp_t_{name}"  # the raw value stays as it is, for the quarantine
        work.t = t.mutate(**{key: t[name].cast("string")})
        t = work.t
    elif not _is_text(dtype):
        raise Fallback(f"deals.{name}: {dtype} values are read by the pandas path")
    raw = t[key]

    def hard_cells(cells):
        if column.kind == "id" and not aliases:
            return cells.notnull() & cells.re_search(_EDGES)
        return cells.notnull()  # stages and categories: few distinct values, each cleaned in pandas

    hard = hard_cells(raw)
    easy = raw.notnull() & ~hard
    values, distinct = _hard_values(work, name, hard_cells, repeat=False, as_text=key != name)
    if column.kind == "stage":
        values = pd.concat([values, pd.Series([None], dtype=object)], ignore_index=True).astype(
            TEXT_DTYPE
        )
    parsed = parse_column(values, column, aliases=aliases)
    mapped = parsed.values.astype(object).where(parsed.values.notna(), None)
    result = pd.DataFrame({"value": values.astype(object), f"__icp_h_{name}": mapped})
    missing = None
    if column.kind == "stage":
        missing, result = result[f"__icp_h_{name}"].iloc[-1], result.iloc[:-1]
    _lookup(work, key, result, kinds={f"__icp_h_{name}": "string"})
    if column.kind == "category":  # every cell was mapped: the counts of the values are known
        work.counts[name] = pd.DataFrame(
            {
                "v": mapped.iloc[: len(distinct)].to_numpy(),
                "n": distinct["n"].to_numpy(),
                "first": distinct["first"].to_numpy(),
            }
        )
    t = work.t
    value = ibis.cases(
        (easy, raw), (hard, t[f"__icp_h_{name}"]), else_=ibis.literal(missing, "string")
    )
    work.t = t.mutate(**{f"__icp_x_{name}": value})


def _record(work: _Work, column, masks: dict, *, note) -> None:
    """Keep a parsed column's problems as columns; :func:`_settle` counts them all at once."""
    t = work.t
    never = t[_ROW] < 0  # a column of False, where a rule cannot fail (integers are finite)
    named = {}
    for reason, mask in masks.items():
        mask = never if isinstance(mask, ibis.expr.types.Scalar) else mask
        key = f"__icp_c{len(work.pending)}_{len(named)}"
        t = t.mutate(**{key: mask.fill_null(False)})
        named[reason] = key
    work.t = t
    work.pending.append((column, named, note))


def _settle(work: _Work) -> None:
    """Problems of the parsed columns: quarantine reasons, or blanks with a warning (optional fields).

    One query counts every column's problems (and usable values), in the
    order and with the messages of ``loaders._parse_canonical``.
    """
    from .mapping import _secondary
    from .spelling import _rows

    t = work.t
    sums = {}
    for i, (column, named, _) in enumerate(work.pending):
        sums[f"usable{i}"] = t[f"__icp_x_{column.name}"].notnull().cast("int64").sum()
        for key in named.values():
            sums[key] = t[key].cast("int64").sum()
    counts = t.aggregate(**sums).to_pandas().iloc[0] if sums else {}
    for i, (column, named, note) in enumerate(work.pending):
        name = column.name
        found = {reason: int(counts[key] or 0) for reason, key in named.items()}
        usable = int(counts[f"usable{i}"] or 0)
        n_bad = sum(found.values())  # a column's reasons never share a cell
        if n_bad:
            only_implausible = all(
                not n for reason, n in found.items() if not reason.startswith("implausib")
            )
            if usable == 0 and not only_implausible:
                raise Fallback(f"deals.{name}: no value parses (the pandas path names the rows)")
            share = n_bad / max(n_bad + usable, 1)
            if share > 0.5:
                work.warnings.append(
                    f"deals.{name}: {share:.0%} of the values could not be read; "
                    "check the column mapping or the date/number format"
                )
        for reason, key in named.items():
            n = found[reason]
            if not n:
                continue
            if _secondary("deals", column):
                # a bad optional field is left empty, the row stays (loading._parse_canonical)
                shown = (
                    t.filter(t[key])
                    .order_by([_FILE, _ROW])
                    .select(_FILE, _LINE, name)
                    .limit(5)
                    .to_pandas()
                )
                where = "; ".join(
                    f"{work.files[int(f)]} {work.units[work.files[int(f)]]} {int(r)}: {v!r}"
                    for f, r, v in zip(shown[_FILE], shown[_LINE], shown[name], strict=True)
                )
                more = f" and {n - 5:,} more" if n > 5 else ""
                work.warnings.append(
                    f"deals.{name}: {_rows(n)} left empty ({reason}; the rows are kept): "
                    f"{where}{more}"
                )
            else:
                work.flag(reason, work.t[key])
        if note:
            work.warnings.append(f"deals.{name}: {note}")
    work.pending = []


def _clean_extra(work: _Work, name: str) -> None:
    """A column beyond the contract: cleaned text, numbers when every value is one, case merged."""
    from .reading import _MAX_SPELLING_VALUES
    from .schema import apply_aliases, clean_text

    t = work.t
    if not _is_text(t.schema()[name]):
        return  # typed (Parquet) columns stay as they are
    values, seen = _hard_values(work, name, lambda c: c.notnull(), repeat=False)
    cleaned = apply_aliases(clean_text(values), work.config.aliases.get(name))
    distinct = pd.Series(cleaned.dropna().unique())
    if (
        len(distinct)
        and pd.to_numeric(distinct, errors="coerce").notna().all()
        and not distinct.str.match(r"^0\d", na=False).any()
    ):
        numbers = pd.to_numeric(cleaned, errors="coerce").astype("float64")
        result = pd.DataFrame({"value": values.astype(object), f"__icp_x_{name}": numbers})
        _lookup(work, name, result, kinds={f"__icp_x_{name}": "float64"})
        return
    result = pd.DataFrame(
        {
            "value": values.astype(object),
            f"__icp_x_{name}": cleaned.astype(object).where(cleaned.notna(), None),
        }
    )
    _lookup(work, name, result, kinds={f"__icp_x_{name}": "string"})
    if len(distinct) <= _MAX_SPELLING_VALUES:
        counts = pd.DataFrame(
            {
                "v": cleaned.astype(object).where(cleaned.notna(), None).to_numpy(),
                "n": seen["n"].to_numpy(),
                "first": seen["first"].to_numpy(),
            }
        )
        _merge_case(work, name, counts)


def _merge_case(work: _Work, name: str, counts: pd.DataFrame | None = None) -> None:
    """``loaders.merge_case_variants`` from the counts of the values (``v``, ``n``, ``first``)."""
    from .spelling import _preferred_spellings

    t = work.t
    value = t[f"__icp_x_{name}"]
    if counts is None:
        rows = t.filter(value.notnull())
        counts = (
            rows.group_by(v=rows[f"__icp_x_{name}"])
            .aggregate(n=rows.count(), first=rows[_ROW].min())
            .to_pandas()
        )
    else:  # from the distinct raw values: several may map to one value
        counts = (
            counts[counts["v"].notna()]
            .groupby("v", as_index=False)
            .agg(n=("n", "sum"), first=("first", "min"))
        )
    counts = counts.sort_values(["n", "first"], ascending=[False, True], kind="stable")
    groups: dict[str, list[str]] = {}
    for v in counts["v"]:
        groups.setdefault(str(v).casefold(), []).append(str(v))
    if all(len(m) == 1 for m in groups.values()):
        return
    preferred: dict[str, str] = {}
    for spelling in _preferred_spellings(work.config, name):
        preferred.setdefault(str(spelling).casefold(), str(spelling))
    mapping, merges = {}, []
    for key, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        keep = preferred.get(key, members[0])
        others = [v for v in members if v != keep]
        mapping.update(dict.fromkeys(others, keep))
        merges.append(f"{keep!r} (+{', '.join(repr(v) for v in others)})")
    table = pd.DataFrame({"value": list(mapping), f"__icp_m_{name}": list(mapping.values())})
    memory = ibis.memtable(
        table, schema=ibis.schema({"value": "string", f"__icp_m_{name}": "string"})
    )
    memory = memory.rename({f"__icp_k_{name}": "value"})
    t = t.left_join(memory, value == memory[f"__icp_k_{name}"]).drop(f"__icp_k_{name}")
    t = t.mutate(**{f"__icp_x_{name}": t[f"__icp_m_{name}"].fill_null(t[f"__icp_x_{name}"])})
    work.t = t.drop(f"__icp_m_{name}")
    work.warnings.append(f"deals.{name}: case variants merged: {'; '.join(merges)}")
