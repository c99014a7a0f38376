"""Rule-based coding of interview answers against a codebook, and the merge with hand codes.

The codebook lists codes (``<prefix>:<name>``, e.g. ``pain:reliable_delivery``)
with ``keywords`` and regular-expression ``patterns``. :class:`RuleCoder`
assigns a code to an answer when one of its keywords or patterns occurs and
is not negated ("delivery was never a problem" is not a delivery pain).
Matching works on :func:`normalize_text` output, so the same keyword finds
its word in any script and spelling variant (Arabic and Persian letter
forms, zero-width joiners, Persian digits, Latin accents).

Hand codes win: :func:`merge_codes` keeps the analysts' codes for every
answer someone coded by hand and the rule codes for the rest, and
:func:`disagreements` puts the two side by side where they differ.
:func:`code_traits` turns the merged codes into one boolean trait column per
code for each interviewed account.
"""

from __future__ import annotations

import bisect
import re
import textwrap
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..data.regexes import PatternError, SafePattern, compile_pattern
from ..data.transcripts import QUESTION_KEYS

__all__ = [
    "DIMENSION_QUESTIONS",
    "NEGATION_CUES",
    "CodebookError",
    "CodeRule",
    "RuleMatch",
    "normalize_text",
    "has_text",
    "keyword_regex",
    "compile_codebook",
    "RuleCoder",
    "indicator_matrix",
    "manual_code_rows",
    "coded_units",
    "hand_codes",
    "merge_codes",
    "rule_vs_manual",
    "coded_answers_table",
    "disagreements",
    "score_codes",
    "interviews_until",
    "answers_not_in",
    "code_traits",
    "step2_record",
    "code_frequency",
    "code_group_share",
    "representative_quotes",
    "plot_code_frequency",
    "plot_code_groups",
]

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


# --------------------------------------------------------------------------------------------
# rule coding


def _cue_matcher(cues: Iterable[str]):
    words, prefixes, suffixes = set(), [], []
    for cue in cues:
        norm = normalize_text(cue)
        if norm.startswith("*"):
            suffixes.append(norm[1:])
        elif norm.endswith("*"):
            prefixes.append(norm[:-1])
        else:
            words.add(norm)
    prefixes_t, suffixes_t = tuple(prefixes), tuple(suffixes)

    def is_cue(token: str) -> bool:
        return token in words or token.startswith(prefixes_t) or token.endswith(suffixes_t)

    return is_cue


_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE_RE = re.compile(
    r"[,;:!?.()\[\]\"«»]|\s[-–—]\s|"
    + rf"(?<!{_W})(?:"
    + "|".join(re.escape(w) for w in _CLAUSE_WORDS)
    + rf")(?!{_W})"
)


def _segments(text: str) -> Iterable[tuple[int, str]]:
    """Sentences of normalised text with their offsets; long ones cut at spaces."""
    start = 0
    for match in [*_SENTENCE_RE.finditer(text), None]:
        end = match.start() if match else len(text)
        while end - start > _MAX_SEGMENT:
            cut = text.rfind(" ", start + 1, start + _MAX_SEGMENT)
            cut = cut if cut > start else start + _MAX_SEGMENT
            yield start, text[start:cut]
            start = cut
        if end > start:
            yield start, text[start:end]
        start = match.end() if match else len(text)


_WORD_CHAR_RE = re.compile(_W)


def _word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A match widened to whole words, so a pattern ending mid-word ("chang") does not
    leave the rest of the word ("es") to be read as the next word."""
    while start > 0 and _WORD_CHAR_RE.match(text, start - 1):
        start -= 1
    while end < len(text) and _WORD_CHAR_RE.match(text, end):
        end += 1
    return start, end


class RuleCoder(BaseEstimator):
    """Codes answers with the codebook's keywords and patterns, skipping negated hits.

    A hit is negated when a negation cue (:data:`NEGATION_CUES`) occurs in
    the same clause within ``negation_before`` words before it ("no
    complaints about the packaging"), or within ``negation_after`` words
    after it ("delivery was never a problem", Persian "تأخیر نداشتیم"); the
    five-word windows follow NegEx (Chapman et al., 2001). Clauses end at
    punctuation and at conjunctions such as "but", "and", "because", "اما",
    "و", "که". After a hit, "without"/"بدون" and cues right after a
    preposition ("quality with no delays") govern what follows them, not the
    hit. A code is assigned when at least one of its hits is not negated.

    Codes are looked for only in the answers to their dimension's questions
    (:data:`DIMENSION_QUESTIONS`), so "quality" codes a purchase reason in
    ``why_first_buy`` but not in ``opinion``.

    Parameters
    ----------
    codebook : DataFrame
        ``code``, ``dimension``, ``keywords``, ``patterns`` (see :func:`compile_codebook`).
    negation : bool
        Apply the negation rule.
    negation_cues : iterable of str, optional
        Replaces :data:`NEGATION_CUES`.
    negation_before, negation_after : int
        Words before / after a hit searched for a cue.
    dimension_questions : mapping, optional
        Questions each dimension is coded in (:data:`DIMENSION_QUESTIONS`);
        ``{}`` codes every answer against every code.

    Attributes
    ----------
    rules_ : list of CodeRule
    codes_ : list of str
        Codebook codes in codebook order.
    """

    def __init__(
        self,
        codebook: pd.DataFrame | None = None,
        *,
        negation: bool = True,
        negation_cues: Iterable[str] | None = None,
        negation_before: int = 5,
        negation_after: int = 5,
        dimension_questions: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.codebook = codebook
        self.negation = negation
        self.negation_cues = negation_cues
        self.negation_before = negation_before
        self.negation_after = negation_after
        self.dimension_questions = dimension_questions

    def fit(self, X=None, y=None) -> RuleCoder:
        """Compile the codebook (``X`` and ``y`` are ignored); raises :class:`CodebookError`."""
        if self.codebook is None:
            raise CodebookError("RuleCoder needs a codebook")
        self.rules_ = compile_codebook(self.codebook, dimension_questions=self.dimension_questions)
        self.codes_ = [r.code for r in self.rules_]
        self._is_cue = _cue_matcher(NEGATION_CUES if self.negation_cues is None else self.negation_cues)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "rules_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("call RuleCoder(codebook).fit() first")

    def _negation(self, segment: str, clauses: list[tuple[int, int]], start: int, end: int) -> str | None:
        """The cue that negates ``segment[start:end]``, if any."""
        ends = [e for _, e in clauses]
        i = bisect.bisect_right(ends, start)
        left = ends[i - 1] if i else 0
        j = bisect.bisect_left([s for s, _ in clauses], end)
        right = clauses[j][0] if j < len(clauses) else len(segment)
        before = _TOKEN_RE.findall(segment, left, start)[-self.negation_before :] if self.negation_before else []
        for token in before:
            if self._is_cue(token):
                return token
        after = _TOKEN_RE.findall(segment, end, right)[: self.negation_after]
        for k, token in enumerate(after):
            if token in _FORWARD_ONLY or (k and after[k - 1] in _PREPOSITIONS):
                continue
            if self._is_cue(token):
                return token
        return None

    def matches(self, text: object, *, question: str | None = None) -> list[RuleMatch]:
        """Every keyword/pattern hit in one answer, with its negation, for inspection.

        Parameters
        ----------
        text : object
            The answer (normalised here).
        question : str, optional
            The question key; codes of other questions' dimensions are skipped.
        """
        self._check_fitted()
        norm = normalize_text(text)
        rules = [
            r
            for r in self.rules_
            if r.questions is None or question is None or question not in QUESTION_KEYS or question in r.questions
        ]
        found: list[RuleMatch] = []
        for offset, segment in _segments(norm):
            clauses = [m.span() for m in _CLAUSE_RE.finditer(segment)] if self.negation else []
            for rule in rules:
                regexes = ([rule.keywords] if rule.keywords is not None else []) + list(rule.patterns)
                for regex in regexes:
                    for m in regex.finditer(segment):
                        if m.end() == m.start():
                            continue
                        cue = self._negation(segment, clauses, *_word_span(segment, *m.span())) if self.negation else None
                        found.append(
                            RuleMatch(rule.code, m.group(0), offset + m.start(), offset + m.end(), cue is not None, cue)
                        )
        return found

    def code_text(self, text: object, *, question: str | None = None) -> dict[str, str]:
        """Codes of one answer: ``{code: first matched text that is not negated}``."""
        codes: dict[str, str] = {}
        for m in sorted(self.matches(text, question=question), key=lambda m: m.start):
            if not m.negated:
                codes.setdefault(m.code, m.matched_text)
        return {c: codes[c] for c in self.codes_ if c in codes}

    def code_answers(self, answers: pd.DataFrame) -> pd.DataFrame:
        """Code every answer.

        Parameters
        ----------
        answers : DataFrame
            ``interview_id``, ``question``, ``answer``; empty and missing answers get no code.

        Returns
        -------
        DataFrame
            ``interview_id``, ``question``, ``code``, ``matched_text``: one row per
            answer and code, in answer then codebook order.
        """
        self._check_fitted()
        _require(answers, ("interview_id", "question", "answer"), "answers")
        rows = [
            {"interview_id": iid, "question": q, "code": code, "matched_text": hit}
            for iid, q, text in zip(answers["interview_id"], answers["question"], answers["answer"], strict=True)
            for code, hit in self.code_text(text, question=q).items()
        ]
        return pd.DataFrame(rows, columns=["interview_id", "question", "code", "matched_text"])

    def transform(self, answers: pd.DataFrame) -> pd.DataFrame:
        """Boolean answer × code matrix (index ``interview_id``, ``question``; columns ``codes_``)."""
        return indicator_matrix(self.code_answers(answers), answers=answers, codes=self.codes_)

    def unmatched_examples(self) -> pd.DataFrame:
        """Codebook examples their own code's rules do not find, to tune the keywords."""
        self._check_fitted()
        rows = []
        if "examples" in self.codebook.columns:
            questions = {r.code: (r.questions or (None,))[0] for r in self.rules_}
            for code, examples in zip(self.codebook["code"], self.codebook["examples"], strict=True):
                code = str(code).strip()
                for example in _as_list(examples):
                    if code not in self.code_text(example, question=questions.get(code)):
                        rows.append({"code": code, "example": example})
        return pd.DataFrame(rows, columns=["code", "example"])


def _require(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: column(s) {', '.join(missing)} missing")


# --------------------------------------------------------------------------------------------
# hand codes and rule codes

_KEY = ["interview_id", "question"]
# Manual rows with one of these codes mark an answer as coded with no code applying.
_NO_CODE = {"", "none", "-", "n/a", "na"}
_PREFER = ("adjudicated", "consensus", "final")
_EMPTY_MANUAL = pd.DataFrame(columns=[*_KEY, "code", "coder"], dtype="string")


def manual_code_rows(manual_codes: pd.DataFrame) -> pd.DataFrame:
    """Rows of a manual-codes table that carry a real code (codes and coders stripped).

    Rows whose code is empty or ``none`` only record that the coder read the answer.
    """
    _require(manual_codes, (*_KEY, "code", "coder"), "manual codes")
    manual = manual_codes.assign(
        code=manual_codes["code"].astype("string").str.strip(),
        coder=manual_codes["coder"].astype("string").str.strip(),
    )
    return manual[manual["code"].notna() & ~manual["code"].str.lower().isin(_NO_CODE)].reset_index(drop=True)


def coded_units(
    manual_codes: pd.DataFrame | None, *, answers: pd.DataFrame | None = None, unit: str = "interview"
) -> pd.DataFrame:
    """The answers each coder coded by hand: ``interview_id``, ``question``, ``coder``.

    Coders read whole interviews, and a spreadsheet of codes has no row for
    an answer in which they found nothing. With ``unit="interview"`` a coder
    who coded any answer of an interview is taken to have coded all of its
    answers (those in ``answers``, or the six method questions when
    ``answers`` is not given). With ``unit="answer"`` only the answers with a
    row count (write a row with an empty or ``none`` code for an answer read
    and found to have no code).
    """
    manual_codes = _EMPTY_MANUAL if manual_codes is None else manual_codes
    _require(manual_codes, (*_KEY, "code", "coder"), "manual codes")
    manual = manual_codes.assign(
        interview_id=manual_codes["interview_id"].astype("string"),
        question=manual_codes["question"].astype("string"),
        coder=manual_codes["coder"].astype("string").str.strip(),
    ).dropna(subset=["coder"])
    if unit == "answer":
        return manual[[*_KEY, "coder"]].drop_duplicates().reset_index(drop=True)
    if unit != "interview":
        raise ValueError(f"unit must be 'interview' or 'answer', not {unit!r}")
    interviews = manual[["interview_id", "coder"]].drop_duplicates()
    if answers is None:
        questions = pd.DataFrame({"question": list(QUESTION_KEYS)}, dtype="string")
        units = interviews.merge(questions, how="cross")
    else:
        listed = answers[_KEY].astype("string").drop_duplicates()
        units = interviews.merge(listed, on="interview_id")
    # answers coded but missing from ``answers`` still count
    units = pd.concat([units, manual[[*_KEY, "coder"]]]).drop_duplicates()
    return units[[*_KEY, "coder"]].sort_values([*_KEY, "coder"], ignore_index=True)


def _chosen_coder(units: pd.DataFrame, prefer: Iterable[str], coder_order: Iterable[str] | None) -> pd.DataFrame:
    """The coder whose codes count for each hand-coded answer."""
    coders = list(coder_order) if coder_order is not None else sorted(units["coder"].dropna().unique())
    rank = {c: i for i, c in enumerate(prefer)}
    rank.update({c: len(rank) + i for i, c in enumerate(coders) if c not in rank})
    ranked = units.assign(_rank=units["coder"].map(rank).astype(float).fillna(len(rank)))
    return ranked.sort_values(["_rank", "coder"], kind="stable").drop_duplicates(_KEY)[[*_KEY, "coder"]]


def hand_codes(
    manual_codes: pd.DataFrame | None,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    prefer: Iterable[str] = _PREFER,
    coder_order: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hand codes that count: one coder's codes per hand-coded answer.

    The coder is an adjudicated one (a ``coder`` named in ``prefer``) if the
    answer has one, else the first coder in ``coder_order`` (default: coder
    names in sorted order) who coded it. Two coders' codes are not pooled,
    so each answer keeps one analyst's reading.

    Parameters
    ----------
    manual_codes : DataFrame or None
        ``interview_id``, ``question``, ``code``, ``coder``; ``None`` for a project without hand codes.
    answers, unit
        See :func:`coded_units`.

    Returns
    -------
    (DataFrame, DataFrame)
        The hand-coded answers with their chosen ``coder`` (``interview_id``,
        ``question``, ``coder``), and that coder's codes (``interview_id``,
        ``question``, ``code``, ``coder``).
    """
    chosen = _chosen_coder(coded_units(manual_codes, answers=answers, unit=unit), prefer, coder_order)
    manual_codes = _EMPTY_MANUAL if manual_codes is None else manual_codes
    real = manual_code_rows(manual_codes).astype({"interview_id": "string", "question": "string"})
    hand = real.merge(chosen, on=[*_KEY, "coder"])[[*_KEY, "code", "coder"]].drop_duplicates()
    return chosen.reset_index(drop=True), hand.reset_index(drop=True)


def merge_codes(
    rule_codes: pd.DataFrame,
    manual_codes: pd.DataFrame | None,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    prefer: Iterable[str] = _PREFER,
    coder_order: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Hand codes where an analyst coded the answer, rule codes elsewhere.

    For each answer a coder coded by hand (see :func:`coded_units`), the
    codes of one coder are used (see :func:`hand_codes`: an adjudicated coder
    if there is one, else the first coder in sorted order); the coders'
    agreement is measured separately (``icp_helpers.interviews.agreement``). A
    hand-coded answer in which the coder found no code gets no code, even
    if a rule would have matched.

    Parameters
    ----------
    rule_codes : DataFrame
        ``interview_id``, ``question``, ``code`` (``matched_text`` optional), from
        :meth:`RuleCoder.code_answers`.
    manual_codes : DataFrame or None
        ``interview_id``, ``question``, ``code``, ``coder``; ``None``: rule codes only.
    answers : DataFrame, optional
        ``interview_id``, ``question``: the answers of each interview, for ``unit="interview"``.
    unit : {"interview", "answer"}
        What a coder's row says was coded (see :func:`coded_units`).

    Returns
    -------
    DataFrame
        ``interview_id``, ``question``, ``code``, ``source`` (``manual``/``rule``),
        ``coder`` (missing for rules), ``matched_text`` (missing for hand codes).
    """
    _require(rule_codes, (*_KEY, "code"), "rule codes")
    chosen, hand = hand_codes(manual_codes, answers=answers, unit=unit, prefer=prefer, coder_order=coder_order)
    hand = hand.assign(source="manual", matched_text=pd.NA)
    rules = rule_codes.astype({"interview_id": "string", "question": "string"})
    rules = rules.merge(chosen[_KEY], on=_KEY, how="left", indicator=True)
    rules = rules[rules["_merge"] == "left_only"]
    rules = rules.assign(
        source="rule", coder=pd.NA, matched_text=rules["matched_text"] if "matched_text" in rules else pd.NA
    )
    columns = [*_KEY, "code", "source", "coder", "matched_text"]
    merged = pd.concat([hand[columns], rules[columns]], ignore_index=True)
    merged = merged.astype({c: "string" for c in columns})
    return merged.sort_values([*_KEY, "code"], kind="stable", ignore_index=True)


def disagreements(
    rule_codes: pd.DataFrame,
    manual_codes: pd.DataFrame | None,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    prefer: Iterable[str] = _PREFER,
    coder_order: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Hand-coded answers where the rules would have coded differently, side by side.

    The hand codes are those :func:`merge_codes` keeps. Useful for tuning the
    codebook: ``only_manual`` are codes the keywords miss, ``only_rule`` codes
    they assign wrongly (or that the coder overlooked).

    Returns
    -------
    DataFrame
        ``interview_id``, ``question``, ``coder``, ``manual``, ``rule``,
        ``only_manual``, ``only_rule`` (codes as ``", "``-joined text) and
        ``answer`` when ``answers`` has an ``answer`` column.
    """
    chosen, hand = hand_codes(manual_codes, answers=answers, unit=unit, prefer=prefer, coder_order=coder_order)
    hand_sets = {key: set(group) for key, group in hand.groupby(_KEY)["code"]}
    rules = rule_codes.astype({"interview_id": "string", "question": "string"})
    rule_sets = {key: set(group) for key, group in rules.groupby(_KEY)["code"]}
    rows = []
    for iid, q, coder in chosen.itertuples(index=False):
        m, r = hand_sets.get((iid, q), set()), rule_sets.get((iid, q), set())
        if m != r:
            rows.append(
                {
                    "interview_id": iid,
                    "question": q,
                    "coder": coder,
                    "manual": ", ".join(sorted(m)),
                    "rule": ", ".join(sorted(r)),
                    "only_manual": ", ".join(sorted(m - r)),
                    "only_rule": ", ".join(sorted(r - m)),
                }
            )
    columns = [*_KEY, "coder", "manual", "rule", "only_manual", "only_rule"]
    table = pd.DataFrame(rows, columns=columns).astype({"interview_id": "string", "question": "string"})
    if answers is not None and "answer" in answers:
        text = answers[[*_KEY, "answer"]].astype({"interview_id": "string", "question": "string"})
        table = table.merge(text.drop_duplicates(_KEY), on=_KEY, how="left")
    return table.sort_values(_KEY, ignore_index=True)


def rule_vs_manual(
    rule_codes: pd.DataFrame,
    manual_codes: pd.DataFrame | None,
    *,
    answers: pd.DataFrame | None = None,
    unit: str = "interview",
    codes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """How well the rules reproduce the hand codes, on the hand-coded answers.

    :func:`score_codes` of the rule codes against the hand codes
    :func:`merge_codes` keeps; empty when nothing was coded by hand.
    """
    chosen, hand = hand_codes(manual_codes, answers=answers, unit=unit)
    rules = rule_codes.astype({"interview_id": "string", "question": "string"}).merge(chosen[_KEY], on=_KEY)
    return score_codes(rules, hand, answers=chosen, codes=codes)


def coded_answers_table(
    merged: pd.DataFrame, answers: pd.DataFrame, *, redactor=None
) -> pd.DataFrame:
    """The ``coded_answers.parquet`` table: one row per answer and code, the answer redacted.

    Parameters
    ----------
    merged : DataFrame
        :func:`merge_codes` output.
    answers : DataFrame
        ``interview_id``, ``account_id``, ``question``, ``answer``.
    redactor : object with ``redact(text)``, optional
        Applied to the answer text (``None`` keeps it as it is).

    Returns
    -------
    DataFrame
        ``interview_id``, ``account_id``, ``question``, ``code``, ``source``, ``answer``.
    """
    text = answers[["interview_id", "account_id", "question", "answer"]].astype(
        {"interview_id": "string", "question": "string"}
    ).drop_duplicates(_KEY)
    table = merged[[*_KEY, "code", "source"]].merge(text, on=_KEY, how="left")
    if redactor is not None:
        table["answer"] = [redactor.redact(t) for t in table["answer"].astype(object)]
    columns = ["interview_id", "account_id", "question", "code", "source", "answer"]
    return table[columns].astype("string").reset_index(drop=True)


def indicator_matrix(
    coded: pd.DataFrame, *, answers: pd.DataFrame | None = None, codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """Boolean answer × code matrix from long codes.

    Parameters
    ----------
    coded : DataFrame
        ``interview_id``, ``question``, ``code``.
    answers : DataFrame, optional
        Rows to include (answers with no code become all-False rows); default
        the answers in ``coded``.
    codes : iterable of str, optional
        Columns, in order; default the codes present, sorted.
    """
    columns = list(codes) if codes is not None else sorted(coded["code"].dropna().unique())
    rows = (answers if answers is not None else coded)[_KEY].drop_duplicates()
    index = pd.MultiIndex.from_frame(rows.astype("string"))
    present = coded[coded["code"].isin(columns)]
    keys = pd.MultiIndex.from_frame(present[_KEY].astype("string"))
    matrix = np.zeros((len(index), len(columns)), dtype=bool)
    row_pos = index.get_indexer(keys)
    col_pos = pd.Index(columns).get_indexer(present["code"])
    keep = row_pos >= 0
    matrix[row_pos[keep], col_pos[keep]] = True
    return pd.DataFrame(matrix, index=index, columns=pd.Index(columns, name="code"))


def score_codes(
    predicted: pd.DataFrame, reference: pd.DataFrame, *, answers: pd.DataFrame, codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """Precision, recall and F1 of predicted codes against reference codes per code.

    Both are long tables (``interview_id``, ``question``, ``code``); every
    answer in ``answers`` counts (a missed code and a wrong code both count
    against). The last two rows, ``(micro)`` and ``(macro)``, pool the cells
    and average the codes with at least one reference answer.

    Returns
    -------
    DataFrame
        ``code``, ``support``, ``predicted``, ``precision``, ``recall``, ``f1``.
    """
    codes = list(codes) if codes is not None else sorted(set(reference["code"]) | set(predicted["code"]))
    y_true = indicator_matrix(reference, answers=answers, codes=codes).to_numpy()
    y_pred = indicator_matrix(predicted, answers=answers, codes=codes).to_numpy()
    tp = (y_true & y_pred).sum(axis=0)
    n_true, n_pred = y_true.sum(axis=0), y_pred.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_pred > 0, tp / n_pred, np.nan)
        recall = np.where(n_true > 0, tp / n_true, np.nan)
        f1 = np.where(n_true + n_pred > 0, 2 * tp / (n_true + n_pred), np.nan)
    table = pd.DataFrame(
        {"code": codes, "support": n_true, "predicted": n_pred, "precision": precision, "recall": recall, "f1": f1}
    )
    TP, T, P = tp.sum(), n_true.sum(), n_pred.sum()
    scored = table[table["support"] > 0]
    summary = pd.DataFrame(
        [
            {
                "code": "(micro)", "support": T, "predicted": P,
                "precision": TP / P if P else np.nan, "recall": TP / T if T else np.nan,
                "f1": 2 * TP / (T + P) if T + P else np.nan,
            },
            {
                "code": "(macro)", "support": T, "predicted": P,
                "precision": scored["precision"].fillna(0).mean(), "recall": scored["recall"].mean(),
                "f1": scored["f1"].mean(),
            },
        ]
    )
    return pd.concat([table, summary], ignore_index=True)


# --------------------------------------------------------------------------------------------
# traits and summaries


def code_traits(
    coded: pd.DataFrame, *, accounts: Iterable[str] | pd.Series | pd.DataFrame, codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """One row per interviewed account, one boolean column per code.

    A code is true for an account when it was assigned to any answer of any
    of the account's interviews. Only interviewed accounts appear: a code
    says nothing about accounts nobody asked, so later steps judge interview
    traits within the interviewed set.

    Parameters
    ----------
    coded : DataFrame
        ``account_id`` and ``code`` (e.g. merged codes joined to the interviews).
    accounts : iterable of str, Series or DataFrame with ``account_id``
        The interviewed accounts (including those with no code at all).
    codes : iterable of str, optional
        The code columns, in order (e.g. the codes kept after the agreement
        check); default every code in ``coded``, sorted. Codes outside this
        list are dropped.

    Returns
    -------
    DataFrame
        ``account_id`` + one bool column per code, sorted by account.
    """
    _require(coded, ("account_id", "code"), "coded answers")
    if isinstance(accounts, pd.DataFrame):
        accounts = accounts["account_id"]
    ids = pd.Index(pd.Series(list(accounts), dtype="string").dropna().unique()).sort_values()
    columns = list(codes) if codes is not None else sorted(coded["code"].dropna().unique())
    present = coded[coded["code"].isin(columns) & coded["account_id"].isin(ids)]
    wide = pd.crosstab(present["account_id"].astype("string"), present["code"]) > 0
    wide = wide.reindex(index=ids, columns=columns, fill_value=False).astype(bool)
    wide.index.name, wide.columns.name = "account_id", None
    return wide.reset_index()


def interviews_until(interviews: pd.DataFrame, end) -> tuple[pd.DataFrame, int]:
    """Interview answers dated before ``end`` (undated ones kept), and how many were later.

    A run for a past quarter must not read interviews held after it, so a
    rerun of that quarter gives the same answer later on.
    """
    if "date" not in interviews:
        return interviews.reset_index(drop=True), 0
    dates = pd.to_datetime(interviews["date"], errors="coerce")
    keep = dates.isna() | (dates < pd.Timestamp(end))
    return interviews[keep].reset_index(drop=True), int((~keep).sum())


def answers_not_in(answers: pd.DataFrame, coded: pd.DataFrame) -> pd.DataFrame:
    """The answers whose ``interview_id`` and ``question`` do not occur in ``coded``.

    E.g. the answers nobody coded by hand (``coded`` = :func:`coded_units`) or
    those without any code (``coded`` = :func:`merge_codes`).
    """
    keys = pd.MultiIndex.from_frame(coded[_KEY].astype("string"))
    mine = pd.MultiIndex.from_frame(answers[_KEY].astype("string"))
    return answers[~mine.isin(keys)].reset_index(drop=True)


def step2_record(
    *,
    quarter,
    answers: pd.DataFrame,
    merged: pd.DataFrame,
    traits: pd.DataFrame,
    agreement: pd.DataFrame,
    flagged: Iterable[str],
    settings,
    hand_coded: pd.DataFrame | None = None,
    rule_scores: pd.DataFrame | None = None,
    suggestions: pd.DataFrame | None = None,
    themes: list | None = None,
    later_answers: int = 0,
    inputs: pd.DataFrame | None = None,
) -> dict:
    """The ``step2.json`` record: what was coded, how, and what became a trait.

    ``interviewed_accounts`` is the denominator for interview traits in the
    later steps: a code's prevalence is judged among the accounts that were
    asked, never among all accounts. ``hand_coded`` is :func:`coded_units`
    (every coder's coded answers); ``rule_scores`` is :func:`rule_vs_manual`;
    ``settings`` the config's ``interviews`` section.
    """
    answered = answers["answer"].map(has_text).astype(bool)
    pooled = agreement.set_index("code")["kappa"].get("(pooled)") if len(agreement) else None
    summary = {}
    if rule_scores is not None and len(rule_scores):
        scores = rule_scores.set_index("code")
        summary = {f"{k}_{m}": scores.loc[f"({k})", m] for k in ("micro", "macro") for m in ("precision", "recall", "f1")}
    hand_coded = hand_coded if hand_coded is not None else pd.DataFrame(columns=[*_KEY, "coder"])
    return {
        "quarter": str(quarter),
        "interviewed_accounts": int(answers["account_id"].nunique()),
        "interviewed_account_ids": sorted(answers["account_id"].dropna().astype(str).unique()),
        "interviews": int(answers["interview_id"].nunique()),
        "answers": int(len(answers)),
        "empty_answers": int((~answered).sum()),
        "answers_after_window": int(later_answers),
        "answers_with_code": int(merged[_KEY].drop_duplicates().shape[0]),
        "hand_coded_answers": int(len(hand_coded[_KEY].drop_duplicates())),
        "hand_coded_interviews": int(hand_coded["interview_id"].nunique()),
        "coders": sorted(hand_coded["coder"].dropna().astype(str).unique()),
        "code_rows": {k: int(v) for k, v in merged["source"].value_counts().items()},
        "codes_kept": [c for c in traits.columns if c != "account_id"],
        "codes_flagged": sorted(flagged),
        "kappa_threshold": settings.kappa_threshold,
        "keep_low_agreement": settings.keep_low_agreement,
        "pooled_kappa": pooled,
        "redacted": settings.redact,
        "rule_vs_manual": summary,
        "suggested_codes": 0 if suggestions is None else int(len(suggestions)),
        "themes": 0 if themes is None else len(themes),
        "inputs": [] if inputs is None else inputs.to_dict("records"),
    }


def code_frequency(coded: pd.DataFrame, *, answers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Answers per code and question (code × question counts, codes by total)."""
    _require(coded, (*_KEY, "code"), "coded answers")
    questions = [q for q in QUESTION_KEYS if q in set(coded["question"])]
    questions += sorted(set(coded["question"]) - set(questions))
    table = pd.crosstab(coded["code"], coded["question"]).reindex(columns=questions, fill_value=0)
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    table.columns.name, table.index.name = None, "code"
    return table


def code_group_share(traits: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Share of each customer group's interviewed accounts that mention each code.

    Parameters
    ----------
    traits : DataFrame
        :func:`code_traits` output.
    groups : DataFrame
        ``account_id``, ``group`` and optionally ``group_label`` (step 1's ``groups.parquet``).

    Returns
    -------
    DataFrame
        Codes × groups, values in [0, 1]; a ``n`` row gives interviewed accounts per group.
    """
    _require(groups, ("account_id", "group"), "groups")
    names = groups["group"].astype("string")
    if "group_label" in groups:
        names = names + ". " + groups["group_label"].astype("string").fillna("")
    labelled = pd.DataFrame({"account_id": groups["account_id"].astype("string"), "group": names})
    joined = traits.merge(labelled, on="account_id", how="left")
    joined["group"] = joined["group"].fillna("(no group)")
    codes = [c for c in traits.columns if c != "account_id"]
    share = joined.groupby("group")[codes].mean().T
    share.loc["n"] = joined.groupby("group").size()
    share.columns.name, share.index.name = "group", "code"
    return share


def representative_quotes(
    coded: pd.DataFrame,
    answers: pd.DataFrame,
    *,
    n: int = 2,
    max_chars: int = 300,
    redactor=None,
) -> pd.DataFrame:
    """Up to ``n`` quotes per code, hand-coded answers first, then the shortest.

    Parameters
    ----------
    coded : DataFrame
        ``interview_id``, ``question``, ``code``, optionally ``source``.
    answers : DataFrame
        ``interview_id``, ``question``, ``answer``.
    n : int
        Quotes per code.
    max_chars : int
        Longer answers are cut at a word boundary with an ellipsis.
    redactor : object with ``redact(text)``, optional
        Applied to every quote (see ``icp_helpers.interviews.redact``).

    Returns
    -------
    DataFrame
        ``code``, ``interview_id``, ``question``, ``quote``.
    """
    joined = coded.merge(answers[[*_KEY, "answer"]].drop_duplicates(_KEY), on=_KEY, how="inner")
    joined = joined.loc[joined["answer"].map(has_text).astype(bool)]
    joined = joined.assign(
        _manual=(joined["source"] == "manual") if "source" in joined else False,
        _len=joined["answer"].str.len(),
    ).sort_values(["code", "_manual", "_len"], ascending=[True, False, True], kind="stable")
    picked = joined.groupby("code", sort=True).head(n)

    def quote(text: str) -> str:
        text = redactor.redact(text) if redactor is not None else text
        text = " ".join(text.split())
        if len(text) <= max_chars:
            return text
        return text[:max_chars].rsplit(" ", 1)[0] + " …"

    return pd.DataFrame(
        {
            "code": picked["code"].to_numpy(),
            "interview_id": picked["interview_id"].to_numpy(),
            "question": picked["question"].to_numpy(),
            "quote": [quote(t) for t in picked["answer"]],
        }
    )


def plot_code_frequency(frequency: pd.DataFrame, *, ax=None, max_codes: int = 30):
    """Heatmap of answers per code (rows) and question (columns); returns the Axes."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = frequency.head(max_codes)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * max(len(data.columns), 3) + 3, 0.32 * max(len(data), 3) + 1.5))
    sns.heatmap(data, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax, linewidths=0.5)
    ax.set_xlabel("question")
    ax.set_ylabel("")
    ax.set_title("Answers per code and question")
    return ax


def plot_code_groups(share: pd.DataFrame, *, ax=None):
    """Heatmap of the share of each group's interviewed accounts mentioning each code."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    counts = share.loc["n"] if "n" in share.index else None
    data = share.drop(index="n", errors="ignore").astype(float)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * max(len(data.columns), 3) + 3, 0.32 * max(len(data), 3) + 1.5))
    sns.heatmap(data, annot=True, fmt=".0%", cmap="Greens", vmin=0, vmax=1, cbar=False, ax=ax, linewidths=0.5)
    if counts is not None:
        labels = [textwrap.fill(str(g), 18) + f"\n(n={int(counts[g])})" for g in data.columns]
        ax.set_xticklabels(labels, rotation=0, fontsize="small")
    ax.set_xlabel("customer group (interviewed accounts)")
    ax.set_ylabel("")
    ax.set_title("Share of each group's interviewed accounts mentioning a code")
    return ax
