"""Codebook compilation: dimensions and negation cues, text normalisation (scripts, accents, Persian/Arabic letters), keyword patterns and CodeRule."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.regexes import PatternError, SafePattern, compile_pattern
from ..data.transcripts import QUESTION_KEYS

__all__ = ["CodeRule", "CodebookError", "DIMENSION_QUESTIONS", "NEGATION_CUES", "RuleMatch", "compile_codebook", "has_text", "keyword_regex", "normalize_text"]


#: Questions whose answers each dimension's codes describe; rule coding looks for a
#: code only in these answers (``competitor`` codes anywhere). A codebook may
#: override it per code with a ``questions`` column.
DIMENSION_QUESTIONS: dict[str, tuple[str, ...]] = {
    "discovery_channel": ("how_found",),
    "purchase_reason": ("why_first_buy",),
    "pain_point": ("pains_needs",),
    "need_met": ("need_met", "why_stay", "pains_needs"),
    "opinion": ("opinion",),
    "reason_to_stay": ("why_stay",),
}

#: Words that negate a nearby match. ``word*`` is a prefix (Persian negative verbs
#: such as ``نمی‌خواهیم``, ``نداریم``), ``*n't`` a suffix. Matched after normalisation.
NEGATION_CUES: tuple[str, ...] = (
    # English
    "not", "no", "never", "without", "hardly", "barely", "nothing", "none", "neither",
    "nor", "cannot", "nobody", "*n't", "dont", "doesnt", "didnt", "isnt", "wasnt",
    "werent", "arent", "havent", "hasnt", "hadnt", "wont", "cant", "couldnt", "wouldnt",
    # Persian (after normalisation: ی/ک forms, zero-width non-joiner as a space)
    "نه", "هیچ", "هرگز", "بدون", "بی", "نمی*", "ندار*", "نداشت*", "نبود*", "نیست*",
    "نشد*", "نکرد*", "نخواه*", "نتوان*",
    # Arabic, German, French
    "لا", "لم", "لن", "لیس", "غیر", "nicht", "kein*", "nie", "pas", "jamais", "sans",
)

# Words that end a clause for negation scope, besides punctuation.
_CLAUSE_WORDS = (
    "and", "but", "however", "although", "though", "because", "whereas", "while", "yet",
    "so", "which", "that", "except",
    "و", "اما", "ولی", "ولیکن", "لیکن", "بلکه", "چون", "چونکه", "زیرا", "که", "هرچند",
)
# A negation cue right after one of these governs the noun after it ("quality with no
# delays"), not the match before it.
_PREPOSITIONS = frozenset(
    "with for of to at in on by from as about".split() + ["با", "به", "از", "در", "برای"]
)
# Cues that only negate what follows them: "large shipments without a fuss",
# "محموله‌های بزرگ را بدون دردسر" still carry the code.
_FORWARD_ONLY = frozenset(["without", "بدون", "بی", "sans", "غیر"])

# Sentences longer than this are cut at a space, bounding the work a pattern does.
_MAX_SEGMENT = 1000


class CodebookError(ValueError):
    """A codebook that cannot be compiled; the message names each code and entry at fault."""


# --------------------------------------------------------------------------------------------
# normalisation


def _build_tables() -> tuple[dict[int, str], str]:
    """Translation table (digits, letter variants, invisible marks) and the mark class."""
    table: dict[int, str | None] = {}
    marks = []
    for cp in range(0x10000):
        ch = chr(cp)
        category = unicodedata.category(ch)
        if category == "Nd" and not ("0" <= ch <= "9"):
            table[cp] = str(unicodedata.digit(ch))
        elif category.startswith("M"):
            marks.append(cp)
    table.update(
        {
            ord("ي"): "ی", ord("ى"): "ی", ord("ئ"): "ی", ord("ك"): "ک", ord("ة"): "ه",
            ord("ۀ"): "ه", ord("ھ"): "ه", ord("أ"): "ا", ord("إ"): "ا", ord("آ"): "ا",
            ord("ٱ"): "ا", ord("ؤ"): "و",
            ord("\u0640"): "",  # tatweel
            ord("\u200c"): " ", ord("\u200d"): " ", ord("\u200b"): " ",  # ZWNJ, ZWJ, ZWSP
            ord("\u200e"): "", ord("\u200f"): "", ord("\ufeff"): "", ord("\u00ad"): "",
            ord("،"): ",", ord("؛"): ";", ord("؟"): "?", ord("٪"): "%", ord("٫"): ".",
            ord("\u2019"): "'", ord("\u2018"): "'", ord("\u02bc"): "'", ord("`"): "'",
            ord("\u201c"): '"', ord("\u201d"): '"', ord("ø"): "o", ord("ł"): "l", ord("đ"): "d",
            ord("æ"): "ae", ord("œ"): "oe",
        }
    )
    # contiguous runs of combining marks as a character class body
    ranges, start = [], None
    for a, b in zip(marks, marks[1:] + [None], strict=True):
        start = a if start is None else start
        if b != a + 1:
            ranges.append(f"\\u{start:04x}" if start == a else f"\\u{start:04x}-\\u{a:04x}")
            start = None
    return table, "".join(ranges)


_TRANSLATE, _MARK_CLASS = _build_tables()
#: A character that belongs to a word in any script (letters, digits, combining marks).
_W = rf"[\w{_MARK_CLASS}]"
_TOKEN_RE = re.compile(rf"{_W}+(?:'{_W}+)*")
_LATIN_ACCENT_RE = re.compile(r"(?<=[A-Za-z\u00c0-\u02af\u1e00-\u1eff])[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff]+")
_ARABIC_MARK_RE = re.compile(r"[\u064b-\u065f\u0670\u06d6-\u06ed]")
_HSPACE_RE = re.compile(r"[^\S\n]+")
_NEWLINES_RE = re.compile(r" ?\n[\s]*")


def normalize_text(text: object) -> str:
    """Text in the one form keywords and answers are compared in.

    NFKC, case folding, Latin accents and Arabic diacritics removed, Arabic
    letter forms mapped to the Persian ones (``ي``→``ی``, ``ك``→``ک``,
    ``ة``/``ۀ``→``ه``, ``أ``/``إ``/``آ``→``ا``), tatweel removed, zero-width
    non-joiner, joiner and space turned into a space (so ``می‌خواهم`` and
    ``می خواهم`` agree), every decimal digit (Persian ``۰-۹``, Arabic
    ``٠-٩``, ...) as ASCII, typographic quotes as ASCII, runs of spaces as one.

    Parameters
    ----------
    text : object
        Anything; ``None`` and NaN give ``""``.

    Returns
    -------
    str
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    out = unicodedata.normalize("NFKC", str(text)).casefold()
    out = unicodedata.normalize("NFD", out)
    out = _ARABIC_MARK_RE.sub("", _LATIN_ACCENT_RE.sub("", out))
    out = unicodedata.normalize("NFC", out).translate(_TRANSLATE)
    out = _HSPACE_RE.sub(" ", out)
    return _NEWLINES_RE.sub("\n", out).strip()


def has_text(value: object) -> bool:
    """Whether an answer holds any non-blank text (``None``, NaN and spaces do not)."""
    return isinstance(value, str) and value.strip() != ""


def _script_suffix(last: str) -> str:
    """Optional inflection after a keyword: English plural, Persian plural/indefinite."""
    if "\u0600" <= last <= "\u06ff":
        return "(?:ها|های|ی|ای|یی)?"
    if last.isascii() and last.isalpha():
        return "(?:s|es|'s)?"
    return ""


def keyword_regex(keyword: str) -> str | None:
    """Regex source for one keyword, matched on normalised text as whole words.

    Words of a multi-word keyword may be separated by any spaces, a hyphen or
    nothing (``trade show``, ``trade-show``, ``tradeshow``). A trailing ``*``
    matches any word ending (``deliver*``), a leading ``*`` any beginning.
    Without a star, an English plural (``s``, ``es``, ``y``→``ies``) or a Persian plural or
    indefinite ending (``ها``, ``های``, ``ی``) may follow. Returns ``None``
    for a keyword that is empty after normalisation.
    """
    text = normalize_text(keyword)
    prefix, suffix = text.startswith("*"), text.endswith("*")
    words = text.strip("*").split()
    if not words:
        return None
    body = r"[\s\-]*".join(re.escape(w) for w in words)
    last = words[-1]
    head = f"{_W}*" if prefix else f"(?<!{_W})"
    if suffix:
        tail = f"{_W}*"
    elif re.fullmatch(r"[a-z]*[^aeiou\W]y", last):  # delivery -> deliveries
        body, tail = body[:-1], f"(?:y|ies|y's)(?!{_W})"
    else:
        tail = _script_suffix(last[-1]) + f"(?!{_W})"
    return head + body + tail


# --------------------------------------------------------------------------------------------
# codebook


@dataclass(frozen=True)
class CodeRule:
    """One compiled codebook entry."""

    code: str
    dimension: str
    keywords: re.Pattern | None
    patterns: tuple[SafePattern, ...] = ()
    questions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RuleMatch:
    """One keyword or pattern hit in an answer, negated or not."""

    code: str
    matched_text: str
    start: int
    end: int
    negated: bool
    cue: str | None = field(default=None)


def _as_list(value) -> list[str]:
    """Keywords/patterns from a list, an array, or a ``;``-separated string (CSV codebooks)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    if isinstance(value, Iterable):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def _compile_pattern(code: str, pattern: str, problems: list[str]) -> SafePattern | None:
    """A codebook pattern compiled for RE2: matching time is linear whatever the pattern."""
    source = pattern.translate(_TRANSLATE)
    try:
        compiled = compile_pattern(source)
    except PatternError as exc:
        problems.append(
            f"code {code!r}: pattern {pattern!r} is not a valid regular expression for the "
            f"linear-time engine (RE2): {exc}"
        )
        return None
    if compiled.match("") is not None:
        problems.append(f"code {code!r}: pattern {pattern!r} matches empty text, so it codes every answer")
        return None
    return compiled


def _alternation(sources: list[str]) -> re.Pattern | None:
    """One regex for a code's keywords, with the word-boundary checks factored out.

    The boundary class is large (every script's combining marks), so testing
    it once per position instead of once per keyword keeps compiling and
    matching a long keyword list fast.
    """
    if not sources:
        return None
    head, tail = f"(?<!{_W})", f"(?!{_W})"
    groups: dict[tuple[bool, bool], list[str]] = {}
    for source in sources:
        starts, ends = source.startswith(head), source.endswith(tail)
        body = source[len(head) if starts else 0 : -len(tail) if ends else None]
        groups.setdefault((starts, ends), []).append(body)
    parts = []
    for (starts, ends), bodies in sorted(groups.items(), reverse=True):
        # longest first, so a multi-word keyword wins over its first word
        bodies.sort(key=len, reverse=True)
        parts.append((head if starts else "") + f"(?:{'|'.join(bodies)})" + (tail if ends else ""))
    return re.compile("|".join(parts))


def compile_codebook(
    codebook: pd.DataFrame, *, dimension_questions: Mapping[str, Iterable[str]] | None = None
) -> list[CodeRule]:
    """Check a codebook and compile its keywords and patterns.

    All problems are collected and raised together, before any answer is
    coded, so a broken pattern stops the run at once with a message naming
    the code and the pattern instead of failing midway.

    Parameters
    ----------
    codebook : DataFrame
        ``code``, ``dimension`` and optionally ``keywords``, ``patterns``
        (lists, or ``;``-separated strings) and ``questions``.
    dimension_questions : mapping, optional
        Questions each dimension's codes are looked for in; defaults to
        :data:`DIMENSION_QUESTIONS`. Pass ``{}`` to look everywhere.

    Raises
    ------
    CodebookError
    """
    if dimension_questions is None:
        dimension_questions = DIMENSION_QUESTIONS
    missing = [c for c in ("code", "dimension") if c not in codebook.columns]
    if missing:
        raise CodebookError(
            f"codebook: column(s) {', '.join(missing)} missing; expected code, dimension, "
            "description, keywords, patterns, examples"
        )
    problems: list[str] = []
    codes = codebook["code"].astype("string").str.strip()
    duplicated = sorted(set(codes[codes.duplicated()].dropna()))
    if duplicated:
        problems.append(f"code(s) listed twice: {', '.join(duplicated)}")
    rules = []
    for row, code in zip(codebook.to_dict("records"), codes, strict=True):
        if pd.isna(code) or not re.fullmatch(r"[^\s:]+:\S+", code):
            problems.append(f"code {row.get('code')!r}: codes are named <prefix>:<name>, e.g. pain:late_delivery")
            continue
        sources = [s for s in map(keyword_regex, _as_list(row.get("keywords"))) if s]
        keywords = _alternation(sources)
        patterns = tuple(
            p for p in (_compile_pattern(code, p, problems) for p in _as_list(row.get("patterns"))) if p
        )
        questions = _as_list(row.get("questions")) or dimension_questions.get(str(row["dimension"]))
        unknown = sorted(set(questions or ()) - set(QUESTION_KEYS))
        if unknown:
            problems.append(f"code {code!r}: unknown question(s) {', '.join(unknown)}")
        rules.append(
            CodeRule(
                code=code,
                dimension=str(row["dimension"]),
                keywords=keywords,
                patterns=patterns,
                questions=tuple(questions) if questions else None,
            )
        )
    if problems:
        raise CodebookError("codebook:\n  - " + "\n  - ".join(problems))
    return rules


def _require(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: column(s) {', '.join(missing)} missing")


