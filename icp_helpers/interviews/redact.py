"""Redaction of personal data in interview quotes: emails, phone numbers, contact names.

Quotes travel into reports that sales and marketing read, so anything that
identifies a person is replaced by a placeholder before an answer leaves
step 2 (``interviews.redact``, on by default): email addresses, phone
numbers in international and local formats (any script's digits), and the
names in the contacts table, matched case-insensitively as whole words in
any script, whether the table has a ``name`` column or first and last names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .coding import _W, normalize_text

__all__ = ["Redactor", "redact_text", "redact_frame", "EMAIL_RE", "PHONE_RE"]

_D = r"[0-9\u0660-\u0669\u06f0-\u06f9]"  # ASCII, Arabic-Indic and Persian digits

#: An email address (Unicode letters allowed in the local part and domain).
EMAIL_RE = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")

#: A phone number candidate: an optional ``+``/``00`` prefix and digit groups
#: separated by single spaces, dots, dashes or brackets; :func:`_is_phone` decides.
PHONE_RE = re.compile(
    rf"(?<![\w+])(?:\+|00)?\(?{_D}{{1,5}}\)?(?:[ .\-/]?\(?{_D}{{1,6}}\)?){{1,6}}(?!\w)"
)
_DATE_RE = re.compile(rf"^(?:{_D}{{4}}[-./]{_D}{{1,2}}[-./]{_D}{{1,2}}|{_D}{{1,2}}[-./]{_D}{{1,2}}[-./]{_D}{{2,4}})$")
_DIGIT_RE = re.compile(_D)

# A word of a name: letters and marks of any script, inner hyphens and apostrophes (Jean-Luc, O'Neil).
_NAME_WORD_RE = re.compile(rf"{_W}+(?:['\u2019-]{_W}+)*")
_NAME_GAP_RE = re.compile(r"[\s\u200c]+")


def _is_phone(candidate: str) -> bool:
    """Whether a digit run is a phone number rather than a date, year or amount."""
    digits = len(_DIGIT_RE.findall(candidate))
    if _DATE_RE.match(candidate) or digits > 15:
        return False
    if candidate.startswith(("+", "00")) or "(" in candidate:
        return digits >= 7
    ascii_digits = re.sub(_D, "0", candidate)
    if re.fullmatch(r"0{1,3}(?:[ .]000)+", ascii_digits):  # 12 000 000, 1.250.000: an amount
        return False
    separated = re.search(r"0[ .\-/]0", ascii_digits) is not None
    return digits >= 9 or (digits >= 7 and separated)


class Redactor:
    """Replaces emails, phone numbers and known names with placeholders.

    Parameters
    ----------
    names : iterable of str
        Full names to remove (e.g. the contacts table's names). Matching is
        whole words, ignoring case, accents and Arabic/Persian letter variants.
    name_parts : bool
        Also remove each word of a name on its own (a first name or a surname
        said alone), for words of at least ``min_part_length`` letters. This
        can blank a common word that is also a name; privacy comes first.
    min_part_length : int
    emails, phones : bool
        Which patterns to apply.
    """

    def __init__(
        self,
        names: Iterable[str] = (),
        *,
        name_parts: bool = True,
        min_part_length: int = 3,
        emails: bool = True,
        phones: bool = True,
        extra_phones: Iterable[str] = (),
    ) -> None:
        self.names = sorted({str(n).strip() for n in names if n is not None and str(n).strip()})
        self.name_parts = name_parts
        self.min_part_length = min_part_length
        self.emails = emails
        self.phones = phones
        self.extra_phones = [str(p) for p in extra_phones if p is not None and str(p).strip()]
        # names as tuples of normalised words, indexed by their first word
        self._names: dict[str, set[tuple[str, ...]]] = {}
        for name in self.names:
            words = tuple(normalize_text(w) for w in _NAME_WORD_RE.findall(name))
            terms = {words} if words else set()
            if name_parts:
                terms |= {(w,) for w in words if len(w) >= min_part_length}
            for term in terms:
                self._names.setdefault(term[0], set()).add(term)
        self._known_phones = self._phone_digits(self.extra_phones)

    @classmethod
    def _phone_digits(cls, phones: list[str]) -> set[str]:
        """The digits of each phone number with six or more, as a set.

        ASCII numbers (nearly all of a CRM's) go through one vectorised
        replace; the rest, which may use other scripts' digits, one by one.
        """
        if not phones:
            return set()
        text = pd.Series(phones, dtype="str")
        other = text.str.contains(r"[^\x00-\x7f]", regex=True)
        digits = text.str.replace(r"[^0-9]", "", regex=True)
        if other.any():
            digits[other] = [cls._digits(p) for p in text[other]]
        return set(digits[digits.str.len() >= 6])

    @staticmethod
    def _digits(text: str) -> str:
        return "".join(str(int(d)) for d in _DIGIT_RE.findall(text))

    @classmethod
    def from_contacts(cls, contacts: pd.DataFrame | None, **kwargs) -> Redactor:
        """A redactor for the names (``name``, or ``first_name`` + ``last_name``) and
        phones of a contacts table; ``None`` gives one for emails and phones only."""
        if contacts is None or contacts.empty:
            return cls(**kwargs)
        names: list[str] = []
        if "name" in contacts:
            names += contacts["name"].dropna().astype(str).tolist()
        first = next((c for c in ("first_name", "firstname", "given_name") if c in contacts), None)
        last = next((c for c in ("last_name", "lastname", "surname", "family_name") if c in contacts), None)
        if first and last:
            full = contacts[first].fillna("").astype(str) + " " + contacts[last].fillna("").astype(str)
            names += full.str.strip().tolist()
        for column in (first, last):
            if column:
                names += contacts[column].dropna().astype(str).tolist()
        phones = contacts["phone"].dropna().astype(str).tolist() if "phone" in contacts else []
        return cls(names, extra_phones=phones, **kwargs)

    def _phone(self, match: re.Match) -> str:
        text = match.group(0)
        if _is_phone(text):
            return "[phone]"
        digits = self._digits(text)
        if len(digits) >= 7 and any(k.endswith(digits) or digits.endswith(k) for k in self._known_phones):
            return "[phone]"
        return text

    def redact(self, text: object) -> object:
        """``text`` with emails, phones and names replaced by ``[email]``, ``[phone]``, ``[name]``.

        Non-text values (``None``, NaN) are returned unchanged.
        """
        if not isinstance(text, str):
            return text
        if self.emails:
            text = EMAIL_RE.sub("[email]", text)
        if self.phones:
            text = PHONE_RE.sub(self._phone, text)
        if self._names:
            text = self._redact_names(text)
        return text

    def _redact_names(self, text: str) -> str:
        """Replace the longest known name starting at each word, whole words only."""
        words = list(_NAME_WORD_RE.finditer(text))
        keys = [normalize_text(w.group(0)) for w in words]
        out, last, i = [], 0, 0
        while i < len(words):
            found = 0
            for term in self._names.get(keys[i], ()):
                n = len(term)
                if n > found and tuple(keys[i : i + n]) == term and all(
                    _NAME_GAP_RE.fullmatch(text, words[k].end(), words[k + 1].start()) for k in range(i, i + n - 1)
                ):
                    found = n
            if found:
                out += [text[last : words[i].start()], "[name]"]
                last = words[i + found - 1].end()
                i += found
            else:
                i += 1
        return "".join(out) + text[last:]


def redact_text(text: str, *, names: Iterable[str] = (), **kwargs) -> str:
    """One-off redaction of a text (see :class:`Redactor` for the options)."""
    return Redactor(names, **kwargs).redact(text)


def redact_frame(
    frame: pd.DataFrame, columns: Iterable[str], *, redactor: Redactor | None = None, enabled: bool = True
) -> pd.DataFrame:
    """A copy of ``frame`` with the text ``columns`` redacted (unchanged when not ``enabled``)."""
    out = frame.copy()
    if not enabled:
        return out
    redactor = redactor or Redactor()
    for column in columns:
        values = out[column].to_numpy(dtype=object)
        out[column] = pd.Series(np.array([redactor.redact(v) for v in values], dtype=object), index=out.index)
    return out
