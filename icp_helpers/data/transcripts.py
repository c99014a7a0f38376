"""Interview transcripts: one text or Markdown file per interview, read into answer rows.

A transcript holds one interview. Markdown files start with YAML front
matter naming the interview and the account, then one ``## <question>``
heading per question with the answer below it::

    ---
    interview_id: I0061
    account_id: A00123
    interviewee_role: owner
    date: 2026-08-14
    ---
    ## how_found
    We met you at the trade fair in Cologne.

Plain-text files may use the same front matter (or ``key: value`` lines
before the first question) and mark questions and answers with ``Q:`` and
``A:`` lines. A question may be written as its key (``how_found``) or as
the question itself ("How did you find us?"); :func:`question_key` maps the
usual wordings onto the six keys of the method.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pandas as pd

from .limits import YamlError, load_yaml

__all__ = [
    "QUESTION_KEYS",
    "INTERVIEW_COLUMNS",
    "TranscriptError",
    "question_key",
    "parse_transcript",
    "read_transcripts",
]

#: The six interview questions of the method, in interview order.
QUESTION_KEYS = ("how_found", "why_first_buy", "pains_needs", "need_met", "opinion", "why_stay")

#: Canonical interview columns, followed by where each row was read from.
INTERVIEW_COLUMNS = (
    "interview_id",
    "account_id",
    "question",
    "answer",
    "interviewee_role",
    "date",
    "source_file",
    "source_row",
)

# Wordings of each question (English and Persian), matched as substrings of the
# case-folded heading; the first key whose phrase occurs wins, so the more
# specific phrases of need_met come before the generic "need" of pains_needs.
_QUESTION_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("how_found", ("find us", "found us", "hear about", "heard about", "discover", "آشنا", "پیدا")),
    ("why_first_buy", ("first buy", "first bought", "first purchase", "first order", "اولین خرید", "اول خرید")),
    ("need_met", ("need do we meet", "needs do we meet", "need we meet", "need met", "نیازی را", "برطرف")),
    ("pains_needs", ("pain", "need", "challenge", "problem", "مشکل", "نیاز", "دغدغه")),
    ("opinion", ("opinion", "think of", "think about", "نظر")),
    ("why_stay", ("stay", "keep buying", "still buy", "remain", "ماندن", "می‌مانید", "ادامه")),
)

_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING_RE = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$")
_QA_RE = re.compile(r"^(Q|A)[ \t]*[:：][ \t]?(.*)$", re.IGNORECASE)
_HEADER_LINE_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:[ \t]*(.*)$")


class TranscriptError(ValueError):
    """A transcript that cannot be read; the message names the file and line."""


def question_key(text: str) -> str | None:
    """The question key a heading stands for, or ``None`` when it matches none.

    Parameters
    ----------
    text : str
        A question key (``how_found``) or the question as asked.
    """
    folded = unicodedata.normalize("NFKC", str(text)).casefold().strip().strip("?؟:").strip()
    key = folded.replace(" ", "_").replace("-", "_")
    if key in QUESTION_KEYS:
        return key
    for candidate, phrases in _QUESTION_PHRASES:
        if any(phrase in folded for phrase in phrases):
            return candidate
    return None


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the transcript as UTF-8"
        ) from None


def _front_matter(text: str, path: Path) -> tuple[dict, str, int]:
    """Header fields, the body after them and the body's first line number."""
    match = _FRONT_MATTER_RE.match(text)
    if not match:
        return {}, text, 1
    try:
        header = load_yaml(match.group(1), source=f"{path} (front matter)") or {}
    except YamlError as exc:
        raise TranscriptError(str(exc)) from None
    if not isinstance(header, dict):
        raise TranscriptError(f"{path}: the front matter must be `key: value` lines")
    return header, text[match.end() :], text[: match.end()].count("\n") + 1


def _clean_value(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return None if value is None else str(value).strip()


def parse_transcript(text: str, *, source: str | Path = "<text>") -> pd.DataFrame:
    """Answer rows of one transcript (Markdown headings or ``Q:``/``A:`` lines).

    Parameters
    ----------
    text : str
        The transcript.
    source : str or Path
        Its path, used in messages and as the ``source_file`` column; the
        file stem is the interview id when the header has none.

    Returns
    -------
    DataFrame
        :data:`INTERVIEW_COLUMNS`; ``source_row`` is the 1-based line of the question.

    Raises
    ------
    TranscriptError
        For a missing ``account_id``, a question that matches no key, an answer
        before any question or a question asked twice.
    """
    source = Path(source)
    header, body, first_line = _front_matter(text, source)
    lines = body.splitlines()
    answers: list[dict] = []
    current: dict | None = None
    in_header = not header  # plain-text headers: key: value lines before the first question

    def start(question_text: str, line_no: int) -> dict:
        key = question_key(question_text)
        if key is None:
            raise TranscriptError(
                f"{source}, line {line_no}: question {question_text.strip()!r} is not one of "
                f"{', '.join(QUESTION_KEYS)}; write the key as the heading"
            )
        if any(a["question"] == key for a in answers):
            raise TranscriptError(f"{source}, line {line_no}: question {key!r} appears twice")
        row = {"question": key, "lines": [], "source_row": line_no}
        answers.append(row)
        return row

    for offset, line in enumerate(lines):
        line_no = first_line + offset
        stripped = line.strip()
        heading = _HEADING_RE.match(stripped)
        qa = _QA_RE.match(stripped)
        if heading:
            current, in_header = start(heading.group(1), line_no), False
        elif qa and qa.group(1).upper() == "Q":
            current, in_header = start(qa.group(2), line_no), False
        elif qa:  # an "A:" line
            if current is None:
                raise TranscriptError(f"{source}, line {line_no}: an answer before any question")
            current["lines"].append(qa.group(2))
        elif in_header and (field := _HEADER_LINE_RE.match(stripped)):
            header.setdefault(field.group(1), field.group(2))
        elif current is not None:
            current["lines"].append(line)
        elif stripped and not in_header:
            raise TranscriptError(f"{source}, line {line_no}: text before the first question")

    interview_id = _clean_value(header.get("interview_id")) or source.stem
    account_id = _clean_value(header.get("account_id"))
    if not account_id:
        raise TranscriptError(f"{source}: the header has no account_id (expected `account_id: A00123`)")
    rows = [
        {
            "interview_id": interview_id,
            "account_id": account_id,
            "question": a["question"],
            "answer": "\n".join(a["lines"]).strip(),
            "interviewee_role": _clean_value(header.get("interviewee_role")),
            "date": _clean_value(header.get("date")),
            "source_file": str(source),
            "source_row": a["source_row"],
        }
        for a in answers
    ]
    return pd.DataFrame(rows, columns=list(INTERVIEW_COLUMNS))


def read_transcripts(folder: Path) -> pd.DataFrame:
    """Read every ``.md`` and ``.txt`` transcript in a folder into interview rows.

    Files are read in name order; the result has the canonical interview
    columns plus ``source_file`` and ``source_row`` so a bad answer can be
    traced to its line. ``date`` stays text (``YYYY-MM-DD``) for the loader to
    parse with the other tables.

    Parameters
    ----------
    folder : Path
        The transcripts folder.

    Raises
    ------
    TranscriptError
        When the folder is missing, a file is unreadable, or two files claim the
        same interview id.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise TranscriptError(f"{folder}: transcripts folder not found")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in {".md", ".txt"})
    frames = [parse_transcript(_read_text(p), source=p) for p in files]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(INTERVIEW_COLUMNS))
    table = pd.concat(frames, ignore_index=True)
    owners = table.groupby("interview_id")["source_file"].unique()
    clashes = owners[owners.map(len) > 1]
    if len(clashes):
        iid, names = next(iter(clashes.items()))
        raise TranscriptError(f"{folder}: interview id {iid!r} appears in {', '.join(sorted(names))}")
    return table
