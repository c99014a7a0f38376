"""Reading interview transcripts (Markdown with front matter, plain text with Q:/A:)."""

from __future__ import annotations

import pandas as pd
import pytest

from icp_helpers.data.transcripts import (
    INTERVIEW_COLUMNS,
    QUESTION_KEYS,
    TranscriptError,
    parse_transcript,
    question_key,
    read_transcripts,
)

MARKDOWN = """---
interview_id: I0061
account_id: A00123
interviewee_role: owner
date: 2026-08-14
---
## how_found
We met you at the trade fair.

## why_first_buy
The taste.
It was simply better.

## pains_needs

## opinion
روغن شما عالی است.
"""

PLAIN = """interview_id: I0070
account_id: A00200
Q: How did you find us?
A: A colleague recommended you.
Q: why_stay
A: You are dependable.
And the people are nice.
"""


def test_markdown_transcript_gives_one_row_per_question_with_its_line(tmp_path):
    path = tmp_path / "I0061.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    rows = parse_transcript(MARKDOWN, source=path)
    assert list(rows.columns) == list(INTERVIEW_COLUMNS)
    assert rows["question"].tolist() == ["how_found", "why_first_buy", "pains_needs", "opinion"]
    assert set(rows["interview_id"]) == {"I0061"} and set(rows["account_id"]) == {"A00123"}
    assert rows.loc[1, "answer"] == "The taste.\nIt was simply better."
    assert rows.loc[2, "answer"] == ""  # an empty answer stays a row
    assert rows.loc[3, "answer"] == "روغن شما عالی است."
    assert rows["date"].iloc[0] == "2026-08-14"
    lines = MARKDOWN.splitlines()
    for row in rows.itertuples():
        assert lines[row.source_row - 1] == f"## {row.question}"


def test_plain_text_with_question_wording_and_header_lines():
    rows = parse_transcript(PLAIN, source="x/I0070.txt")
    assert rows["question"].tolist() == ["how_found", "why_stay"]
    assert rows["interview_id"].iloc[0] == "I0070"
    assert rows["answer"].tolist() == ["A colleague recommended you.", "You are dependable.\nAnd the people are nice."]
    assert rows["source_row"].tolist() == [3, 5]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("how_found", "how_found"),
        ("How did you hear about us?", "how_found"),
        ("Why did you first buy from us?", "why_first_buy"),
        ("What need do we meet?", "need_met"),
        ("What are your main pains and needs?", "pains_needs"),
        ("What is your opinion of the product?", "opinion"),
        ("Why do you stay with us?", "why_stay"),
        ("What is the weather like?", None),
    ],
)
def test_question_key(text, key):
    assert question_key(text) == key


def test_unknown_question_names_file_and_line():
    with pytest.raises(TranscriptError, match=r"I9\.md, line 6: question 'weather'"):
        parse_transcript("---\naccount_id: A1\n---\n## how_found\nx\n## weather\n", source="I9.md")


def test_missing_account_and_repeated_question_are_reported():
    with pytest.raises(TranscriptError, match="account_id"):
        parse_transcript("## how_found\nx\n", source="a.md")
    with pytest.raises(TranscriptError, match="appears twice"):
        parse_transcript("---\naccount_id: A1\n---\n## opinion\nx\n## opinion\ny\n", source="a.md")


def test_read_folder_reads_md_and_txt_and_rejects_duplicate_ids(tmp_path):
    (tmp_path / "I0061.md").write_text(MARKDOWN, encoding="utf-8")
    (tmp_path / "I0070.txt").write_text(PLAIN, encoding="utf-8-sig")  # a BOM is fine
    (tmp_path / "notes.csv").write_text("ignored", encoding="utf-8")
    table = read_transcripts(tmp_path)
    assert sorted(table["interview_id"].unique()) == ["I0061", "I0070"]
    assert len(table) == 6
    assert set(table["question"]) <= set(QUESTION_KEYS)
    assert table["source_file"].map(lambda p: p.endswith((".md", ".txt"))).all()

    (tmp_path / "copy.md").write_text(MARKDOWN, encoding="utf-8")
    with pytest.raises(TranscriptError, match="I0061"):
        read_transcripts(tmp_path)


def test_empty_folder_gives_empty_table_and_missing_folder_a_message(tmp_path):
    table = read_transcripts(tmp_path)
    assert table.empty and list(table.columns) == list(INTERVIEW_COLUMNS)
    with pytest.raises(TranscriptError, match="not found"):
        read_transcripts(tmp_path / "nope")


def test_non_utf8_file_is_named(tmp_path):
    (tmp_path / "I1.md").write_bytes("---\naccount_id: A1\n---\n## opinion\nCafé\n".encode("cp1252"))
    with pytest.raises(TranscriptError, match=r"I1\.md: not UTF-8"):
        read_transcripts(tmp_path)


def test_rows_concatenate_with_csv_interviews(tmp_path):
    (tmp_path / "I0061.md").write_text(MARKDOWN, encoding="utf-8")
    csv = pd.DataFrame([{"interview_id": "I1", "account_id": "A1", "question": "opinion", "answer": "ok"}])
    both = pd.concat([csv, read_transcripts(tmp_path)], ignore_index=True)
    assert both["interview_id"].nunique() == 2
