"""Reading one input file into raw rows: encodings, delimiters, CSV records by physical line, XLSX, Parquet and YAML, with clear errors."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .csv_records import count_lines, line_stats, record_starts, swallowed_records
from .limits import DEFAULT_MAX_ALIASES, YamlError, load_yaml
from .schema import TEXT_DTYPE

__all__ = ["ENCODING_ORDER", "LoadError", "RawFile", "WHITESPACE", "detect_delimiter", "detect_encoding", "read_file"]


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


