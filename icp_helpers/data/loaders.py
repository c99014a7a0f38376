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

import codecs
import csv
import datetime as dt
import difflib
import functools
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml

from .config import PRESETS_DIR, TABLES, ConfigError, InputSpec, ProjectConfig, load_config
from .csv_records import count_lines, line_stats, record_starts, swallowed_records
from .expressions import ExpressionError, evaluate
from .formulas import safe_frame
from .frames import duplicated as repeats
from .limits import DEFAULT_MAX_ALIASES, YamlError, load_yaml, long_cells
from .quarters import Quarter, latest_complete_quarter
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
from .table_cache import TableCache
from .tables import LoadedTable, _display, _preset

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


class LoadError(ValueError):
    """An input that cannot be loaded; the message names file, column, expectation and rows."""


#: Encodings tried, in order, for a CSV without a byte-order mark (each must
#: decode the whole file strictly); latin-1 decodes anything and comes last.
ENCODING_ORDER = ("utf-8", "cp1252")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DELIMITERS = (",", ";", "\t", "|", "~", "^")
#: The ``delimiter`` that means "runs of spaces or tabs" (columns aligned with spaces).
WHITESPACE = "whitespace"
_EXPECTED = {
    "number": "numbers such as 1234.5, 1,234.50 or $1 234",
    "int": "whole numbers such as 250",
    "datetime": "dates such as 2024-03-31, 2024-03-31 14:05, 31/03/2024 or 31 Mar 2024 "
    "(set inputs.{table}.date_format for another format)",
    "bool": "yes/no values (true/false, yes/no, 1/0)",
}
#: Deal columns the Salesforce preset reads from its Won/Closed checkboxes.
_STAGE_FLAGS = ("is_won", "is_closed")
_MAX_SPELLING_VALUES = 300


# --------------------------------------------------------------------------- reading


@dataclass
class RawFile:
    """One input file as read: original headers, text cells, row numbers."""

    frame: pd.DataFrame
    rows: np.ndarray
    path: Path
    kind: str
    detail: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def unit(self) -> str:
        """How a position in this file is called in messages."""
        return "line" if self.kind in ("csv", "yaml") else "row"


def _decodes(path: Path, encoding: str, chunk: int = 1 << 22) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as fh:
            while block := fh.read(chunk):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: str | Path) -> str:
    """The encoding of a text file, without the user naming it.

    Order: a byte-order mark decides (UTF-8-BOM, UTF-16 such as Excel's
    "Unicode text", UTF-32); NUL bytes on every other position mean UTF-16
    without a mark; otherwise the first of :data:`ENCODING_ORDER` that decodes
    the whole file strictly (UTF-8, then Windows cp1252); latin-1 last.

    Raises
    ------
    LoadError
        When the file is empty or is binary (not text at all).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip():
        raise LoadError(f"{path}: the file is empty (expected a header row and data rows)")
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        sample = head[: len(head) // 2 * 2]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = max(len(sample) // 2, 1)
        for share, encoding in ((odd / half, "utf-16-le"), (even / half, "utf-16-be")):
            if share > 0.3 and _decodes(path, encoding):
                return encoding
        raise LoadError(
            f"{path}: not a text file (it holds binary data); expected CSV, XLSX or Parquet"
        )
    for encoding in ENCODING_ORDER:
        if _decodes(path, encoding):
            return encoding
    return "latin-1"


def _looks_binary(text: str) -> bool:
    """Text with many control characters (other than tabs and line breaks) is not a CSV."""
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return "\x00" in text or controls > max(len(text) // 100, 0)


def detect_delimiter(text: str) -> str:
    """The field separator of CSV text: the candidate (``, ; TAB | ~ ^``) that splits
    the header into most columns while keeping the row widths consistent; else
    ``"whitespace"`` when runs of spaces split every line into the same number
    of columns (an aligned text export), else ``,``."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_score = ",", (0.0, 1)
    for delimiter in _DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        if not widths or widths[0] < 2:
            continue
        score = (sum(w == widths[0] for w in widths) / len(widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    if best_score[1] < 2 and lines:
        widths = [len(line.split()) for line in lines]
        if widths[0] >= 2 and all(w == widths[0] for w in widths):
            return WHITESPACE
    return best


def _pandas_sep(delimiter: str) -> str:
    return r"\s+" if delimiter == WHITESPACE else delimiter


def _header_cells(line: str, delimiter: str) -> list[str]:
    if delimiter == WHITESPACE:
        return line.split()
    return next(csv.reader([line], delimiter=delimiter), [])


def _sniff_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"PK\x03\x04"):
        return "xlsx"
    if magic.startswith(b"PAR1"):
        return "parquet"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoadError(
            f"{path}: an old Excel .xls workbook; save it as .xlsx or CSV (File > Save As)"
        )
    if suffix in (".yml", ".yaml"):
        return "yaml"
    if suffix in (".xlsx", ".xlsm", ".parquet", ".pq"):
        raise LoadError(f"{path}: not a valid {suffix} file (its content does not match)")
    return "csv"


def read_file(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    max_columns: int | None = None,
    max_aliases: int | None = DEFAULT_MAX_ALIASES,
) -> RawFile:
    """Read one input file as text cells with their row numbers.

    CSV and XLSX cells stay text (``dtype=str``; only empty cells are
    missing), so row numbers and raw values survive for the quarantine;
    Parquet keeps its types (parsing 20M typed rows back from text would
    waste time). Completely empty rows are skipped and not counted.

    Parameters
    ----------
    path : str or Path
        CSV/TSV/TXT, XLSX, Parquet, or YAML (codebook).
    encoding, delimiter : str, optional
        Override the detection for CSV.
    sheet : str, optional
        XLSX sheet (default: the first).
    max_columns : int, optional
        Refuse a CSV or XLSX with more columns (``limits.max_columns``),
        before any work per column.
    max_aliases : int, optional
        YAML aliases allowed in a YAML codebook (``limits.yaml_max_aliases``).
    """
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"{path}: file not found")
    kind = _sniff_kind(path)
    if kind == "xlsx":
        raw = _read_xlsx(path, sheet=sheet)
    elif kind == "parquet":
        raw = _read_parquet(path)
    elif kind == "yaml":
        return _read_yaml(path, max_aliases=max_aliases)
    else:
        raw = _read_csv(path, encoding=encoding, delimiter=delimiter, max_columns=max_columns)
    if max_columns is not None and raw.frame.shape[1] > max_columns:
        raise LoadError(_too_wide(path, raw.frame.shape[1], max_columns))
    return raw


def _too_wide(path: Path, columns: int, max_columns: int) -> str:
    return (
        f"{path}: {columns:,} columns, more than the limit of {max_columns:,} "
        "(limits.max_columns in the config); the file was not read. Export only the columns "
        "the analysis needs, or raise the limit"
    )


def _read_csv(
    path: Path, *, encoding: str | None, delimiter: str | None, max_columns: int | None = None
) -> RawFile:
    notes = []
    if encoding is None:
        encoding = detect_encoding(path)
        if encoding == "latin-1":
            notes.append(
                f"{path.name}: neither UTF-8 nor Windows-1252; read as latin-1 (set encoding "
                "in the input's config if accents look wrong)"
            )
    try:
        with open(path, encoding=encoding, errors="strict", newline="") as fh:
            head = fh.read(1 << 16)
    except LookupError:
        raise LoadError(f"{path}: unknown encoding {encoding!r} in the config") from None
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"{path}: cannot be decoded as {encoding} (byte {exc.start}); remove `encoding` "
            "from the config to detect it"
        ) from None
    if not head.strip():
        raise LoadError(f"{path}: the file is empty (expected a header row and data rows)")
    if _looks_binary(head):
        raise LoadError(
            f"{path}: not a text file (it holds binary data); expected CSV, XLSX or Parquet"
        )
    if delimiter is None:
        delimiter = detect_delimiter(head.lstrip("\ufeff"))
    header = _header_cells(head.lstrip("\ufeff").splitlines()[0], delimiter)
    if max_columns is not None and len(header) > max_columns:
        raise LoadError(_too_wide(path, len(header), max_columns))
    twice = sorted(name for name, n in Counter(h.strip() for h in header).items() if n > 1 and name)
    if twice:
        notes.append(
            f"{path.name}: column(s) {', '.join(map(repr, twice))} appear more than once; "
            "later copies are read as '<name>.1'"
        )
    counts = count_lines(path, encoding=encoding)
    stats = None
    if counts.bare_cr:
        # a carriage return inside a line is a line break typed in a cell: kept in the cell
        # (records end at line feeds only), never read as the end of a record
        stats = line_stats(path, encoding=encoding, delimiter=delimiter)
        lines = np.flatnonzero(stats.bare_cr) + 1
        notes.append(
            f"{path.name}: {_places(lines, 'line')} {'holds' if len(lines) == 1 else 'hold'} a "
            "carriage return inside a cell; it is kept in the cell, not read as a new row"
        )
    try:
        frame = pd.read_csv(
            path,
            sep=_pandas_sep(delimiter),
            encoding=encoding,
            encoding_errors="strict",
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            index_col=False,
            **({"lineterminator": "\n"} if counts.bare_cr else {}),
        )
    except pd.errors.EmptyDataError:
        raise LoadError(
            f"{path}: the file is empty (expected a header row and data rows)"
        ) from None
    except pd.errors.ParserError as exc:
        stats = stats or line_stats(path, encoding=encoding, delimiter=delimiter, cr_only=counts.cr_only)
        raise LoadError(_parser_message(path, exc, stats, encoding, delimiter)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        shown = "TAB" if delimiter == "\t" else repr(delimiter)
        raise LoadError(
            f"{path}: cannot be read as CSV ({encoding}, separator {shown}): {exc}".strip()
        ) from None
    if counts.bare_cr and frame.shape[1]:
        # records end at LF: the CR of a CRLF line end stays on the last cell of each line
        last, first = frame.columns[-1], frame.columns[0]
        frame[last] = frame[last].str.removesuffix("\r").replace("", np.nan)
        frame[first] = frame[first].replace("\r", np.nan)
    frame.columns = [str(c).strip().lstrip("\ufeff").strip() for c in frame.columns]
    if counts.lines == len(frame) + 1:
        rows = np.arange(2, len(frame) + 2)
    else:  # a cell spans lines: number every record by the line it starts on
        stats = stats or line_stats(path, encoding=encoding, delimiter=delimiter, cr_only=counts.cr_only)
        rows = _record_lines(path, frame, stats, encoding=encoding, delimiter=delimiter, notes=notes)
    shown = "TAB" if delimiter == "\t" else delimiter
    if len(frame.columns) == 1 and delimiter != WHITESPACE:
        guess = _separator_guess(str(frame.columns[0]))
        if guess:
            notes.append(
                f"{path.name}: the header reads as one column ({str(frame.columns[0])[:80]!r}); "
                f"the columns look separated by {guess}: set delimiter for this input"
            )
    return _finish_raw(frame, rows, path, "csv", f"{encoding}, '{shown}'", notes)


def _places(lines, unit: str, n: int = 5) -> str:
    """``line 4``, ``lines 4, 9 and 12`` or ``lines 4, 9, ... (120 in all)``."""
    lines = [int(x) for x in lines]
    if len(lines) == 1:
        return f"{unit} {lines[0]:,}"
    shown = ", ".join(f"{x:,}" for x in lines[:n])
    more = f", ... ({len(lines):,} in all)" if len(lines) > n else ""
    return f"{unit}s {shown}{more}"


def _swallowed_message(path: Path, spans: list[tuple[int, int]]) -> str:
    shown = "; ".join(f"a quote opened on line {a:,} closes only on line {b:,}" for a, b in spans[:3])
    more = f" ({len(spans):,} such places)" if len(spans) > 3 else ""
    return (
        f"{path}: unbalanced quotes: {shown}{more}. The lines in between look like rows of their "
        "own and would be merged into one cell, so the file was not read. Remove the stray quote "
        'character or double it ("") inside a quoted cell, then load it again.'
    )


def _parser_message(path: Path, exc: Exception, stats, encoding: str, delimiter: str) -> str:
    """The parser's complaint in physical lines (it counts records, which differ after a multi-line cell)."""
    starts = record_starts(stats)
    text = str(exc)
    shown = "TAB" if delimiter == "\t" else repr(delimiter)
    eof = re.search(r"EOF inside string starting at row (\d+)", text)
    if eof:
        record = int(eof.group(1))
        line = int(starts[min(record, len(starts) - 1)]) if len(starts) else record + 1
        return (
            f"{path}: line {line:,} opens a quoted cell (a \" character) that is never closed, so "
            "every line after it would be read into one cell; the file was not read. Remove the "
            'stray quote or close it, and double any quote inside a quoted cell ("").'
        )
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if fields:
        expected, record, seen = (int(g) for g in fields.groups())
        width = expected
        spans = swallowed_records(stats, starts, width=width)
        if spans:
            return _swallowed_message(path, spans)
        line = int(starts[record - 1]) if 0 < record <= len(starts) else record
        return (
            f"{path}: line {line:,} has {seen} fields where the header has {expected} (separator "
            f"{shown}); a separator inside an unquoted value, or a stray quote on or before that "
            "line. Quote the value or fix the line."
        )
    return f"{path}: cannot be read as CSV ({encoding}, separator {shown}): {text}".strip()


def _record_lines(path: Path, frame: pd.DataFrame, stats, *, encoding: str, delimiter: str, notes) -> np.ndarray:
    """The physical line of every data record; refuses records that swallow whole rows."""
    starts = record_starts(stats)
    if len(starts) != len(frame) + 1:
        # quotes inside unquoted values (12" pipe) mislead the parity: ask the csv module
        starts = _csv_record_starts(path, encoding=encoding, delimiter=delimiter)
    spans = swallowed_records(stats, starts, width=frame.shape[1])
    if spans and len(starts) == len(frame) + 1:
        spans = _holding_records(frame, starts, spans, delimiter=delimiter)
    if spans:
        raise LoadError(_swallowed_message(path, spans))
    if len(starts) != len(frame) + 1:
        notes.append(
            f"{path.name}: the records could not be matched to lines; row numbers in messages "
            "count records, not lines"
        )
        return np.arange(2, len(frame) + 2)
    return np.asarray(starts[1:], dtype=np.int64)


def _shape(text: str) -> str:
    """``A123`` -> ``a9``: the look of an id, to recognise one at the start of a swallowed line."""
    return re.sub(r"\d+", "9", re.sub(r"[^\W\d_]+", "a", text.strip()))


def _holding_records(frame: pd.DataFrame, starts: np.ndarray, spans, *, delimiter: str) -> list:
    """The spans whose multi-line cell holds lines that look like the file's own records.

    A note or an interview answer across lines may hold commas; a record a
    stray quote swallowed also starts with a value shaped like the first
    column of the other records (``A123``), and has the header's width.
    """
    if not len(frame) or frame.shape[1] < 2:
        return spans
    sample = frame.iloc[:1000, 0].dropna().astype(str)
    shapes = Counter(_shape(v) for v in sample)
    common = {s for s, n in shapes.items() if n >= 0.2 * max(len(sample), 1)}
    width = frame.shape[1]
    kept = []
    for first, last in spans:
        record = int(np.searchsorted(starts, first))
        if record == 0 or record - 1 >= len(frame):
            kept.append((first, last))
            continue
        inner = [
            line
            for value in frame.iloc[record - 1]
            if isinstance(value, str) and "\n" in value
            for line in value.replace("\r\n", "\n").split("\n")[1:]
        ]
        if any(
            line.count(delimiter) >= width - 1 and _shape(line.split(delimiter)[0]) in common
            for line in inner
        ):
            kept.append((first, last))
    return kept


def _separator_guess(header: str) -> str | None:
    """The character that most likely separates the columns of a header read as one column."""
    counts = Counter(ch for ch in header if not (ch.isalnum() or ch in "_-.'\"()"))
    if not counts:
        return None
    char, n = counts.most_common(1)[0]
    if char == " " and n < 2:
        return None  # one space is a two-word name, not a separator
    if char == " ":
        return "spaces (delimiter: whitespace)"
    return f"{char!r} (delimiter: {char!r})"


def _csv_record_starts(path: Path, *, encoding: str, delimiter: str) -> np.ndarray:
    """Record start lines as the csv module reads them (rare files with stray literal quotes)."""
    starts, line = [], 1
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        if delimiter == WHITESPACE:
            return np.arange(1, sum(1 for _ in fh) + 1)
        reader = csv.reader(fh, delimiter=delimiter)
        for _record in reader:
            starts.append(line)
            line = reader.line_num + 1
    return np.asarray(starts, dtype=np.int64)


def _finish_raw(frame, rows, path, kind, detail, notes) -> RawFile:
    """Drop empty rows and unnamed empty columns; keep row numbers aligned."""
    unnamed = [c for c in frame.columns if not c or str(c).startswith("Unnamed: ")]
    for column in unnamed:
        if frame[column].isna().all():
            frame = frame.drop(columns=column)
        else:
            notes.append(f"{path.name}: a column without a header holds data (read as {column!r})")
    empty = frame.isna().all(axis=1).to_numpy() if frame.shape[1] else np.ones(len(frame), bool)
    if empty.any():
        frame = frame.loc[~empty]
        rows = rows[~empty]
    frame = frame.reset_index(drop=True)
    return RawFile(frame, np.asarray(rows, dtype=np.int64), path, kind, detail, notes)


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if np.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, *, sheet: str | None) -> RawFile:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not need
            book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise LoadError(
            f"{path}: cannot be opened as an Excel workbook ({type(exc).__name__}: {exc})"
        ) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise LoadError(
                f"{path}: no sheet {sheet!r}; the workbook has {', '.join(book.sheetnames)}"
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        name = ws.title
        header, records, rows = None, [], []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if not any(c is not None and str(c).strip() for c in cells):
                continue
            if header is None:
                header = [str(c).strip() if c is not None else "" for c in cells]
                continue
            records.append(cells)
            rows.append(number)
    finally:
        book.close()
    if header is None:
        raise LoadError(f"{path}: sheet {name!r} is empty (expected a header row and data rows)")
    width = max([len(header), *(len(r) for r in records)])
    header = header + [""] * (width - len(header))
    header = [h or f"Unnamed: {i}" for i, h in enumerate(header)]
    records = [r + [None] * (width - len(r)) for r in records]
    frame = pd.DataFrame(records, columns=header, dtype=object)
    frame = frame.astype(TEXT_DTYPE)
    return _finish_raw(frame, np.array(rows, dtype=np.int64), path, "xlsx", f"sheet {name!r}", [])


def _read_parquet(path: Path) -> RawFile:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several error types for a broken file
        raise LoadError(
            f"{path}: cannot be read as Parquet ({type(exc).__name__}: {exc})"
        ) from None
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    return _finish_raw(frame, np.arange(1, len(frame) + 1), path, "parquet", "parquet", [])


def _read_yaml(path: Path, *, max_aliases: int | None = DEFAULT_MAX_ALIASES) -> RawFile:
    """A codebook in YAML: ``codes:`` (or a top-level list) of mappings."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = load_yaml(text, source=str(path), max_aliases=max_aliases)
        node = yaml.compose(text)
    except YamlError as exc:
        raise LoadError(str(exc)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LoadError(f"{path}: not valid YAML: {exc}") from None
    seq = node
    if isinstance(data, dict):
        if "codes" not in data:
            raise LoadError(f"{path}: expected a `codes:` list of mappings (code, dimension, ...)")
        data = data["codes"]
        seq = next(v for k, v in node.value if k.value == "codes")
    if not isinstance(data, list):
        raise LoadError(f"{path}: expected a `codes:` list of mappings (code, dimension, ...)")
    lines = [item.start_mark.line + 1 for item in seq.value]
    records = []
    for item, line in zip(data, lines, strict=True):
        if not isinstance(item, dict):
            raise LoadError(f"{path}, line {line}: each code must be a mapping, got {item!r}")
        records.append(
            {str(k).strip(): v if isinstance(v, list) else _cell_text(v) for k, v in item.items()}
        )
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    frame = frame.astype(object)
    return _finish_raw(frame, np.array(lines, dtype=np.int64), path, "yaml", "yaml", [])


# --------------------------------------------------------------------------- mapping


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", str(name)).strip().casefold()


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).casefold()).strip("_")


def _preset_section(config: ProjectConfig | None, spec: InputSpec, table: str) -> dict:
    if not spec.preset:
        return {}
    name = spec.preset
    if name.lower().endswith((".yml", ".yaml")) and config is not None:
        name = str((config.base_dir / name).resolve())
    section = _preset(name)["tables"].get(table)
    if section is None:
        raise ConfigError(
            f"inputs.{table}.preset: preset {spec.preset!r} has no section for {table} "
            f"(it covers {', '.join(_preset(name)['tables'])})"
        )
    return section


def column_mapping(
    headers: list[str],
    *,
    table: str,
    columns: dict[str, str] | None = None,
    preset: dict | None = None,
    source: str = "",
) -> tuple[dict[str, str], list[str]]:
    """Map a file's headers onto canonical names.

    In order of precedence: the config's ``columns`` (export name ->
    canonical name), the preset (canonical name -> candidate headers, the
    first present wins), then headers that spell a canonical name of the
    table differently (``Close Date`` -> ``close_date``). Headers match
    ignoring case and repeated spaces.

    Returns
    -------
    mapping : dict
        Header -> new name, only for headers that are renamed.
    unmatched : list of str
        Names under ``columns`` that the file does not have.
    """
    headers = list(headers)
    present = set(headers)
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(_norm(header), header)
    mapping: dict[str, str] = {}
    unmatched = []
    for export, target in (columns or {}).items():
        header = export if export in present else by_norm.get(_norm(export))
        if header is None:
            unmatched.append(export)
            continue
        mapping[header] = target
    for target, candidates in ((preset or {}).get("columns") or {}).items():
        if target in mapping.values() or target in present:
            continue
        for candidate in [candidates] if isinstance(candidates, str) else candidates:
            header = by_norm.get(_norm(candidate))
            if header is not None and header not in mapping:
                mapping[header] = target
                break
    canonical = set(TABLE_SPECS[table].names)
    for header in headers:
        snake = _snake(header)
        if (
            header not in mapping
            and header not in canonical
            and snake in canonical
            and snake not in present
            and snake not in mapping.values()
        ):
            mapping[header] = snake
    mapping = {h: t for h, t in mapping.items() if h != t}
    targets = Counter(mapping.values())
    for target, n in targets.items():
        sources = [h for h, t in mapping.items() if t == target]
        if n > 1:
            raise LoadError(
                f"{source}: columns {', '.join(map(repr, sources))} would all become {target!r}; "
                f"map only one of them to {target} under inputs.{table}.columns"
            )
        if target in present and target not in mapping:
            raise LoadError(
                f"{source}: {sources[0]!r} is mapped to {target!r} but the file already has a "
                f"column {target!r}; map one of them to another name under inputs.{table}.columns"
            )
    return mapping, unmatched


# --------------------------------------------------------------------------- loading


class _Table:
    """Working state of one table while it loads (rows keep their read index)."""

    def __init__(self, table: str):
        self.table = table
        self.spec = TABLE_SPECS[table]
        self.kind: str | None = None
        self.guessed: dict[str, str] = {}  # demographic column -> the header its name suggested
        self.parts: list[pd.DataFrame] = []
        self.origins: list[pd.DataFrame] = []
        self.units: dict[str, str] = {}
        self.back: dict[str, str] = {}
        self.files: list[str] = []
        self.formats: list[str] = []
        self.warnings: list[str] = []
        self.problems: list[tuple[str, np.ndarray]] = []
        self.filled: dict[str, int] = {}

    def problem(self, reason: str, where) -> None:
        index = where[where].index if isinstance(where, pd.Series) else pd.Index(where)
        if len(index):
            self.problems.append((reason, index.to_numpy()))

    def where(
        self, index, origin: pd.DataFrame, values: pd.Series | None = None, n: int = 5
    ) -> str:
        shown = []
        for i in list(index)[:n]:
            file, row = origin.at[i, "source_file"], origin.at[i, "source_row"]
            text = f"{file} {self.units.get(file, 'row')} {row}"
            if values is not None:
                text += f": {values.at[i]!r}"
            shown.append(text)
        more = f" and {len(index) - n:,} more" if len(index) > n else ""
        return "; ".join(shown) + more


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


def _missing_message(name, table, missing, headers, spec: InputSpec, unmatched) -> str:
    needs = ", ".join(TABLE_SPECS[table].required)
    headers = [str(h) for h in headers]
    lines = [
        f"{name}: required column {', '.join(map(repr, missing))} missing "
        f"({table} need {needs}, after inputs.{table}.columns and preset mapping)."
    ]
    lines.append(f"The file's columns are: {', '.join(headers) if headers else '(none)'}.")
    if len(headers) == 1 and (guess := _separator_guess(headers[0])):
        lines.append(
            f"The header reads as one column, so the separator was not recognised: the columns "
            f"look separated by {guess}; set inputs.{table}.delimiter."
        )
    for column in missing:
        close = difflib.get_close_matches(
            column, headers, n=1, cutoff=0.5
        ) or difflib.get_close_matches(
            column.replace("_", " "), [h.lower() for h in headers], n=1, cutoff=0.5
        )
        if close:
            lines.append(
                f"{close[0]!r} looks close to {column}: map it with "
                f"inputs.{table}.columns: {{{close[0]!r}: {column}}}."
            )
    mapped_away = [k for k, v in spec.columns.items() if v in missing and k in unmatched]
    if mapped_away:
        lines.append(
            f"inputs.{table}.columns maps {', '.join(map(repr, mapped_away))}, which the file "
            "does not have."
        )
    lines.append("Map a column, derive it (derive:) or give a constant (defaults:).")
    return " ".join(lines)


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


def _secondary(table: str, column: ColumnSpec) -> bool:
    """An optional field (or a firmographic an account may lack): a bad value blanks the cell.

    Setting the row aside would lose more than the field: an account with an
    impossible ``churned_date`` would take its deals with it.
    """
    if column.not_null:
        return False
    return not column.required or table in ("accounts", "prospects", "customers")


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


def _preferred_spellings(config: ProjectConfig, column: str) -> list[str]:
    return [*(config.aliases.get(column) or {}).values(), *_vocabulary_for(column).values()]


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


def load_table(
    config: ProjectConfig | str | Path,
    table: str,
    *,
    accounts_ids=None,
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
    on_engine = config.engine.validation == "engine" or (
        config.engine.validation == "auto" and spec.table is not None
    )
    if table == "deals" and on_engine:
        from . import engine_load

        try:
            return engine_load.load_deals(config, accounts_ids=accounts_ids)
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


def _empty_firmographics(frame: pd.DataFrame, work: _Table) -> list[str]:
    out = []
    for column in work.spec.columns:
        if column.required and not column.not_null and column.name in frame.columns:
            empty = int(frame[column.name].isna().sum())
            if empty and not (work.table == "deals" and column.name in ("close_date", "amount")):
                out.append(
                    f"{work.table}.{column.name}: {_rows(empty)} without a value (kept; "
                    f"they match no {column.name} trait)"
                )
    return out


# --------------------------------------------------------------------------- spelling


@functools.cache
def _vocabulary() -> dict[str, dict[str, str]]:
    data = yaml.safe_load((PRESETS_DIR / "vocabulary.yml").read_text(encoding="utf-8")) or {}
    return {kind: {str(v).casefold(): str(v) for v in values} for kind, values in data.items()}


def _vocabulary_for(column: str) -> dict[str, str]:
    name = column.casefold()
    if name in ("industry", "business_type") or any(
        w in name for w in ("industry", "sector", "vertical")
    ):
        return _vocabulary().get("industry", {})
    if "country" in name:
        return _vocabulary().get("country", {})
    return {}


def _word_break(text: str, words: dict[str, str]) -> list[str] | None:
    """Split ``text`` into known words (longest first), or None."""
    best: list[list[str] | None] = [None] * (len(text) + 1)
    best[0] = []
    for end in range(1, len(text) + 1):
        for start in range(end):
            piece = text[start:end]
            if best[start] is not None and piece in words:
                candidate = [*best[start], words[piece]]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[-1]


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def _same_numbers(a: str, b: str) -> bool:
    return re.findall(r"\d+", a) == re.findall(r"\d+", b)


def spelling_warnings(frame: pd.DataFrame, *, table: str, columns: list[str]) -> list[str]:
    """Likely misspellings among the values of categorical columns.

    Reported (never changed): values that differ only in spaces or
    punctuation (``GTX Pro`` / ``GTXPro``), values very close to a more
    frequent value (difflib ratio >= 0.85) or to a reference spelling of
    industries and countries (``technolgy`` -> ``technology``), and values
    that are other values' words run together (``GTXPro`` next to ``GTX
    Basic`` and ``GTX Plus Pro``). Columns with more than 300 distinct values
    are skipped (they are names, not categories).
    """
    out = []
    for column in columns:
        if column not in frame.columns or frame[column].dtype not in (TEXT_DTYPE, object):
            continue
        counts = frame[column].value_counts()
        counts = {str(v): int(n) for v, n in counts.items() if isinstance(v, str)}
        if len(counts) < 1 or len(counts) > _MAX_SPELLING_VALUES:
            continue
        values = list(counts)
        vocab = _vocabulary_for(column)
        label = f"{table}.{column}"

        def shown(v: str, counts: dict = counts) -> str:
            return f"{v!r} ({_rows(counts[v])})"

        flagged: set[str] = set()
        squeezed: dict[str, list[str]] = {}
        for v in values:
            squeezed.setdefault(re.sub(r"[\W_]+", "", v.casefold()), []).append(v)
        for group in squeezed.values():
            if len(group) > 1:
                flagged.update(group)
                out.append(
                    f"{label}: {', '.join(shown(v) for v in group)} differ only in spaces or "
                    f"punctuation; merge them under aliases.{column}"
                )
        for v in sorted(values, key=lambda x: (counts[x], x)):
            if v in flagged or len(v) < 4:
                continue
            others = [w for w in values if w != v and counts[w] >= counts[v] and w not in flagged]
            if vocab and v.casefold() in vocab:
                others = [w for w in others if w.casefold() not in vocab]
            folded = {w.casefold(): w for w in others}
            match = difflib.get_close_matches(v.casefold(), list(folded), n=1, cutoff=0.85)
            if match and _same_numbers(v, folded[match[0]]):
                w = folded[match[0]]
                flagged.update({v, w})
                out.append(
                    f"{label}: {shown(v)} looks like a misspelling of {shown(w)}; "
                    f"map it under aliases.{column} if so"
                )
        present = {v.casefold() for v in values}
        for v in values:
            if v in flagged or not vocab or v.casefold() in vocab or len(v) < 4:
                continue
            match = difflib.get_close_matches(v.casefold(), list(vocab), n=1, cutoff=0.85)
            if match and match[0] not in present:
                flagged.add(v)
                out.append(
                    f"{label}: {shown(v)} looks like a misspelling of {vocab[match[0]]!r}; "
                    f"map it under aliases.{column} if so"
                )
        words: dict[str, str] = {}
        for v in values:
            for word in re.findall(r"[^\W_]+", v):
                if len(word) >= 2:
                    words.setdefault(word.casefold(), word)
        for v in values:
            if v in flagged or len(v) < 4 or re.search(r"[\W_]", v) or v.casefold() in vocab:
                continue
            own = {k: w for k, w in words.items() if k != v.casefold()}
            parts = _word_break(v.casefold(), own)
            if parts and len(parts) > 1:
                out.append(
                    f"{label}: {shown(v)} looks like {' '.join(parts)!r} with the spaces missing "
                    f"(other values use the words {', '.join(parts)})"
                )
    return out


# --------------------------------------------------------------------------- project


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
    deals: pd.DataFrame | None = None
    contacts: pd.DataFrame | None = None
    interviews: pd.DataFrame | None = None
    codebook: pd.DataFrame | None = None
    manual_codes: pd.DataFrame | None = None
    activities: pd.DataFrame | None = None
    leads: pd.DataFrame | None = None
    prospects: pd.DataFrame | None = None

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
            loaded = load_table(config, table, accounts_ids=ids if checked else None)
            if store:
                store.put(key, loaded)
        project.tables[table] = loaded
        setattr(project, table, loaded.frame)
        if table == "accounts":
            ids, accounts_key = loaded.frame["account_id"], key
    return project


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
    dates = closed_deal_dates(config)
    if dates.empty:
        raise LoadError("deals: no won or lost deal has a readable close_date")
    return latest_complete_quarter(dates["close_date"])


def closed_deal_dates(config: ProjectConfig | str | Path | None = None) -> pd.DataFrame:
    """``close_date`` and ``stage`` (``won``/``lost``) of every closed deal with a readable date.

    Reads only those columns of the deals files when it can, so checking a
    quarter against the data costs a fraction of a full load.
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
        deals = load_table(config, "deals").frame
        closed = deals[deals["stage"].isin(["won", "lost"])]
        closed = closed[["close_date", "stage"]].dropna(subset=["close_date"])
        return closed.reset_index(drop=True)
    dates = []
    preset = _preset_section(config, spec, "deals")
    for path in config.input_paths("deals"):
        headers = _headers(path, spec)
        mapping, _ = column_mapping(
            headers, table="deals", columns=spec.columns, preset=preset, source=str(path)
        )
        keep = {h: mapping.get(h, h) for h in headers if mapping.get(h, h) in wanted}
        if "close_date" not in keep.values():
            raise LoadError(f"{path}: required column 'close_date' missing (deals need it)")
        frame = _read_columns(path, spec, list(keep)).rename(columns=keep)
        parsed = parse_datetimes(
            frame["close_date"],
            column="close_date",
            dayfirst=spec.dayfirst,
            date_format=spec.date_format,
            earliest=config.limits.date_min,
            latest=config.limits.latest_date(),
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
        dates.append(
            pd.DataFrame(
                {"close_date": parsed.values[closed], "stage": stage.to_numpy()[closed]}
            )
        )
    if not dates:
        return pd.DataFrame({"close_date": pd.Series([], dtype="datetime64[ns]"), "stage": []})
    return pd.concat(dates, ignore_index=True).dropna(subset=["close_date"])


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
