"""Spelling: case variants merged, preferred spellings, and warnings about near-identical values."""

from __future__ import annotations

import difflib
import functools
import re

import pandas as pd
import yaml

from .config import PRESETS_DIR, ProjectConfig
from .reading import _MAX_SPELLING_VALUES
from .schema import TEXT_DTYPE

__all__ = ["spelling_warnings", "spelling_warnings_from_counts"]


def _preferred_spellings(config: ProjectConfig, column: str) -> list[str]:
    return [*(config.aliases.get(column) or {}).values(), *_vocabulary_for(column).values()]


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
    counts = {
        column: frame[column].value_counts()
        for column in columns
        if column in frame.columns and frame[column].dtype in (TEXT_DTYPE, object)
    }
    return spelling_warnings_from_counts(counts, table=table)


def spelling_warnings_from_counts(value_counts: dict[str, pd.Series], *, table: str) -> list[str]:
    """:func:`spelling_warnings` from each column's value counts (``Series.value_counts()``).

    For tables that stay in an engine: the counts are computed there, and
    only the distinct values come to Python.
    """
    out = []
    for column, counts in value_counts.items():
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


