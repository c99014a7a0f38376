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
from collections.abc import Iterable, Mapping

import pandas as pd
from sklearn.base import BaseEstimator

from ..data.transcripts import QUESTION_KEYS
from .codebook import (
    _CLAUSE_WORDS,
    _FORWARD_ONLY,
    _MAX_SEGMENT,
    _PREPOSITIONS,
    _TOKEN_RE,
    _W,
    DIMENSION_QUESTIONS,
    NEGATION_CUES,
    CodebookError,
    CodeRule,
    RuleMatch,
    _as_list,
    _require,
    compile_codebook,
    has_text,
    keyword_regex,
    normalize_text,
)
from .hand_codes import (
    coded_answers_table,
    coded_units,
    disagreements,
    hand_codes,
    indicator_matrix,
    manual_code_rows,
    merge_codes,
    rule_vs_manual,
    score_codes,
)
from .summaries import (
    answers_not_in,
    code_frequency,
    code_group_share,
    code_traits,
    interviews_until,
    plot_code_frequency,
    plot_code_groups,
    representative_quotes,
    step2_record,
)

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


