"""Codebook patterns compiled with a linear-time engine (RE2).

A pattern from a codebook is run against every interview answer. Python's
backtracking engine can take exponential time on a pattern such as
``^(\\w|\\w)+$`` and text that almost matches, and no syntax check catches
them all, so codebook patterns are compiled with RE2 (``google-re2``), whose
matching time grows linearly with the text whatever the pattern.

RE2 has no lookaround and no backreferences: a pattern that uses them is
refused with a :class:`PatternError` that says so. Python's Unicode classes
are kept: ``\\w`` and ``\\W`` cover letters, digits and combining marks of every
script, ``\\d`` every decimal digit; ``\\b`` at the start or the end of a pattern
checks the word boundary the same way. Inside a pattern, ``\\b`` is RE2's, which
knows ASCII letters only (answers are compared without Latin accents, so
``\\bdeliver`` works in any Latin-script language).
"""

from __future__ import annotations

from dataclasses import dataclass

import re2

__all__ = ["PatternError", "SafePattern", "compile_pattern"]

_WORD = r"\p{L}\p{N}\p{M}_"


class PatternError(ValueError):
    """A pattern the linear-time engine cannot run; the message says which part."""


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_" or (0x300 <= ord(char) <= 0x36F)


@dataclass(frozen=True)
class _Match:
    text: str
    start_: int
    end_: int

    def start(self) -> int:
        return self.start_

    def end(self) -> int:
        return self.end_

    def span(self) -> tuple[int, int]:
        return self.start_, self.end_

    def group(self, index: int = 0) -> str:
        if index != 0:
            raise IndexError("only the whole match (group 0) is kept")
        return self.text[self.start_ : self.end_]


class SafePattern:
    """A compiled pattern with the ``search``/``finditer``/``match`` calls the coder uses."""

    def __init__(self, source: str, compiled, *, word_start: bool, word_end: bool):
        self.pattern = source
        self._compiled = compiled
        self._word_start = word_start
        self._word_end = word_end

    def _bounded(self, text: str, start: int, end: int) -> bool:
        if self._word_start:
            before = text[start - 1] if start > 0 else ""
            first = text[start] if start < len(text) else ""
            if (before != "" and _is_word(before)) == (first != "" and _is_word(first)):
                return False
        if self._word_end:
            last = text[end - 1] if end > 0 else ""
            after = text[end] if end < len(text) else ""
            if (last != "" and _is_word(last)) == (after != "" and _is_word(after)):
                return False
        return True

    def finditer(self, text: str):
        for m in self._compiled.finditer(text):
            start, end = m.span()
            if self._bounded(text, start, end):
                yield _Match(text, start, end)

    def search(self, text: str) -> _Match | None:
        return next(self.finditer(text), None)

    def match(self, text: str) -> _Match | None:
        m = self.search(text)
        return m if m is not None and m.start() == 0 else None


def _top_level_alternation(pattern: str) -> bool:
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        i += 1
    return False


def _translate(pattern: str) -> tuple[str, bool, bool]:
    """Python's Unicode classes in RE2 syntax; ``\\b`` at either end is checked after matching."""
    whole = not _top_level_alternation(pattern)
    word_start = whole and pattern.startswith(r"\b")
    word_end = whole and pattern.endswith(r"\b") and not pattern.endswith(r"\\b")
    body = pattern[2 if word_start else 0 : len(pattern) - 2 if word_end else None]
    out, i, in_class = [], 0, False
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "w":
                out.append(_WORD if in_class else f"[{_WORD}]")
            elif nxt == "W":
                if in_class:
                    raise PatternError(r"\W inside [...] is not supported; write [^...] instead")
                out.append(f"[^{_WORD}]")
            elif nxt == "d":
                out.append(r"\p{Nd}")
            else:
                out.append(body[i : i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            if body[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if body[i + 1 : i + 2] == "]":
                out.append("\\]")
                i += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        else:
            out.append(char)
        i += 1
    return "".join(out), word_start, word_end


def compile_pattern(pattern: str, *, ignore_case: bool = True) -> SafePattern:
    """Compile a codebook pattern for RE2.

    Raises
    ------
    PatternError
        When the pattern is not valid, or uses syntax RE2 cannot run in
        linear time (lookahead/lookbehind, backreferences, possessive
        quantifiers); the message names the construct.
    """
    source, word_start, word_end = _translate(pattern)
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False
    try:
        compiled = re2.compile(source, options)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = ""
        if any(token in pattern for token in ("(?=", "(?!", "(?<=", "(?<!")):
            hint = "; lookahead and lookbehind are not supported"
        elif any(f"\\{n}" in pattern for n in range(1, 10)):
            hint = "; backreferences (\\1) are not supported"
        raise PatternError(f"{detail}{hint}") from None
    return SafePattern(pattern, compiled, word_start=word_start, word_end=word_end)
