"""Physical lines and records of a CSV file, counted without a Python loop per row.

A CSV parser counts *records*; a user looks at *lines* in an editor. The two
differ when a quoted cell spans lines, and they differ silently when a quote
is broken: one stray opening quote on line 10 and a closing one on line 20
merge ten records into one cell, and the file still "reconciles". This module
scans the bytes of a file in blocks with NumPy (line breaks, quotes and
separators per line) so that the reader can

* give every record the physical line it starts on (quarantine row numbers
  are the line numbers an editor shows, also after multi-line cells);
* refuse a file in which a quoted cell swallows lines that look like whole
  records, naming the lines where the quote opens and closes;
* find carriage returns inside a line (a bare CR, typed in a cell on a Mac),
  which a parser would otherwise take for the end of a record.

Lines are counted by line feeds (``LF`` or ``CRLF``), or by carriage returns in
a file that has no line feed at all (classic Mac line ends).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "LineCounts",
    "LineStats",
    "count_lines",
    "line_stats",
    "record_starts",
    "swallowed_records",
]

_BLOCK = 1 << 26
_LF, _CR, _QUOTE = 10, 13, 34


def _wide(encoding: str) -> bool:
    """Encodings whose line breaks and quotes are not single ASCII bytes."""
    name = codecs.lookup(encoding).name
    return name.startswith(("utf-16", "utf-32"))


def _raw_blocks(path: Path, encoding: str):
    """The file's bytes in blocks (re-encoded as UTF-8 for UTF-16/32 files)."""
    if _wide(encoding):
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        with open(path, "rb") as fh:
            while block := fh.read(_BLOCK):
                yield decoder.decode(block).encode("utf-8")
            yield decoder.decode(b"", final=True).encode("utf-8")
        return
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            yield block


def _blocks(path: Path, encoding: str):
    """:func:`_raw_blocks` as uint8 arrays."""
    for block in _raw_blocks(path, encoding):
        if block:
            yield np.frombuffer(block, dtype=np.uint8)


@dataclass(frozen=True)
class LineCounts:
    """Line breaks of a file: ``lines`` physical lines (a last line without a break counts)."""

    lines: int
    crlf: int
    bare_cr: int
    cr_only: bool


def count_lines(path: str | Path, *, encoding: str) -> LineCounts:
    """Count physical lines, CRLF line ends and bare carriage returns, block by block.

    ``bytes.count`` scans at memory speed, so this adds little to a parse.
    """
    lf = cr = crlf = 0
    previous_cr = False
    last = b""
    for block in _raw_blocks(Path(path), encoding):
        if not block:
            continue
        lf += block.count(b"\n")
        n_cr = block.count(b"\r")
        if n_cr:
            cr += n_cr
            crlf += block.count(b"\r\n")
        if previous_cr and block[:1] == b"\n":
            crlf += 1
        previous_cr = block[-1:] == b"\r"
        last = block[-1:]
    if not last:
        return LineCounts(0, 0, 0, False)
    cr_only = lf == 0 and cr > 0
    lines = (cr if cr_only else lf) + (0 if last == (b"\r" if cr_only else b"\n") else 1)
    bare = 0 if cr_only else cr - crlf - (last == b"\r")  # a last CR ends the last line
    return LineCounts(lines, crlf, max(bare, 0), cr_only)


@dataclass(frozen=True)
class LineStats:
    """Per physical line: quotes (odd or even), separators and bare carriage returns."""

    odd_quotes: np.ndarray
    separators: np.ndarray
    bare_cr: np.ndarray


def line_stats(
    path: str | Path, *, encoding: str, delimiter: str, cr_only: bool = False
) -> LineStats:
    """Quote parity, separator count and bare-CR count of every physical line.

    Blocks are cut after their last line break, so every line is scanned in
    one piece; sums per line are ``np.add.reduceat`` over the line starts.
    """
    brk = _CR if cr_only else _LF
    sep = ord(delimiter) if len(delimiter) == 1 and ord(delimiter) < 128 else None
    odd, seps, bare = [], [], []
    carry = np.zeros(0, dtype=np.uint8)

    def scan(data: np.ndarray) -> None:
        if not len(data):
            return
        ends = np.flatnonzero(data == brk)
        starts = np.concatenate(([0], ends + 1))
        starts = starts[starts < len(data)]
        quotes = (data == _QUOTE).view(np.uint8)
        odd.append(np.bitwise_xor.reduceat(quotes, starts).astype(bool))
        if sep is not None:
            seps.append(np.add.reduceat((data == sep).view(np.uint8), starts, dtype=np.int64))
        else:
            seps.append(np.zeros(len(starts), dtype=np.int64))
        if cr_only:
            bare.append(np.zeros(len(starts), dtype=np.int64))
        else:
            is_cr = data == _CR
            next_lf = np.zeros(len(data), dtype=bool)
            next_lf[:-1] = data[1:] == _LF
            lone = (is_cr & ~next_lf).view(np.uint8)
            if len(data) and data[-1] == _CR:
                lone = lone.copy()
                lone[-1] = 0  # the file's last byte: a line end, not a cell's
            bare.append(np.add.reduceat(lone, starts, dtype=np.int64))

    for block in _blocks(Path(path), encoding):
        data = np.concatenate((carry, block)) if len(carry) else block
        cut = np.flatnonzero(data == brk)
        if not len(cut):
            carry = data
            continue
        scan(data[: cut[-1] + 1])
        carry = data[cut[-1] + 1 :]
    scan(carry)
    empty = np.zeros(0, dtype=np.int64)
    return LineStats(
        np.concatenate(odd) if odd else empty.astype(bool),
        np.concatenate(seps) if seps else empty,
        np.concatenate(bare) if bare else empty,
    )


def record_starts(stats: LineStats) -> np.ndarray:
    """The 1-based physical line each record starts on, from the quote parity of the lines.

    A line starts a record when the lines before it hold an even number of
    quote characters (a doubled ``""`` inside a cell counts twice).
    """
    inside_after = np.cumsum(stats.odd_quotes, dtype=np.int64) % 2
    inside_before = np.concatenate(([0], inside_after[:-1])) if len(inside_after) else inside_after
    return np.flatnonzero(inside_before == 0) + 1


def swallowed_records(stats: LineStats, starts: np.ndarray, *, width: int) -> list[tuple[int, int]]:
    """Records whose quoted cell spans lines that look like whole records.

    A line inside a quoted cell that holds as many separators as the header
    (``width - 1``) is most likely a record a stray quote swallowed; an
    address or a note across lines holds few. Returns ``(first line, last
    line)`` of each such record (only for three columns or more, where the
    signal is clear).
    """
    n = len(stats.odd_quotes)
    if width < 3 or not n:
        return []
    is_start = np.zeros(n, dtype=bool)
    starts = starts[(starts >= 1) & (starts <= n)]
    is_start[starts - 1] = True
    suspicious = ~is_start & (stats.separators >= width - 1)
    if not suspicious.any():
        return []
    record = np.cumsum(is_start) - 1
    hit = np.unique(record[suspicious])
    ends = np.concatenate((starts[1:] - 1, [n]))
    return [(int(starts[i]), int(ends[i])) for i in hit]
