"""Redaction of emails, phone numbers and contact names in quotes."""

from __future__ import annotations

import pandas as pd
import pytest

from icp_helpers.interviews.redact import Redactor, redact_frame, redact_text

CONTACTS = pd.DataFrame(
    {
        "contact_id": ["C1", "C2", "C3"],
        "account_id": ["A1", "A1", "A2"],
        "name": ["Anna Schmidt", "علی رضایی", None],
        "first_name": [None, None, "Jean-Luc"],
        "last_name": [None, None, "Moreau"],
        "email": ["anna@example.de", "ali@example.ir", "jl@example.fr"],
        "phone": ["+49 30 1234567", "۰۹۱۲ ۳۴۵ ۶۷۸۹", "01 42 68 53 00"],
    }
)


@pytest.fixture(scope="module")
def redactor():
    return Redactor.from_contacts(CONTACTS)


@pytest.mark.parametrize(
    "email",
    ["anna.schmidt@example.de", "first.last+tag@sub.example.co.uk", "ALI@EXAMPLE.IR", "علی@مثال.ایران"],
)
def test_emails(redactor, email):
    out = redactor.redact(f"write to {email}, thanks")
    assert email not in out and out == "write to [email], thanks"


@pytest.mark.parametrize(
    "phone",
    [
        "+49 30 1234567",
        "+1 (202) 555-0143",
        "+1-202-555-0143",
        "0044 20 7946 0958",
        "+39 81 2323 9847",
        "(555) 123-4567",
        "555-123-4567",
        "030 12345678",
        "+98 912 345 6789",
        "۰۹۱۲ ۳۴۵ ۶۷۸۹",
        "+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹",
        "01 42 68 53 00",
    ],
)
def test_phone_numbers(redactor, phone):
    out = redactor.redact(f"call {phone} today")
    assert out == "call [phone] today"


@pytest.mark.parametrize(
    "text",
    [
        "we ordered 300 tins on 2026-08-14",
        "since 14.08.2026",
        "12 000 000 units",
        "1.250.000 EUR",
        "account A00123 and interview I0061",
        "sales grew 25% in 2019",
        "سال ۱۴۰۱ شروع کردیم",
    ],
)
def test_numbers_that_are_not_phones_stay(redactor, text):
    assert redactor.redact(text) == text


def test_names_whole_words_case_insensitive_and_parts(redactor):
    assert redactor.redact("ANNA SCHMIDT handles orders") == "[name] handles orders"
    assert redactor.redact("ask anna, or Mrs Schmidt") == "ask [name], or Mrs [name]"
    assert redactor.redact("Annabel and Schmidtke are someone else") == "Annabel and Schmidtke are someone else"
    # first name + last name columns, and a hyphenated first name
    assert redactor.redact("Jean-Luc Moreau called") == "[name] called"
    assert redactor.redact("moreau called") == "[name] called"


def test_persian_names_with_letter_variants(redactor):
    assert redactor.redact("علي رضايي گفت") == "[name] گفت"  # Arabic yeh
    assert redactor.redact("با رضایی\u200cها") == "با [name]\u200cها"


def test_full_name_is_one_placeholder_and_parts_can_be_kept():
    strict = Redactor(["Anna Schmidt"], name_parts=False)
    assert strict.redact("Anna Schmidt and Anna") == "[name] and Anna"


def test_non_text_values_pass_through(redactor):
    assert redactor.redact(None) is None
    assert redact_text("mail x@y.org", names=[]) == "mail [email]"


def test_redact_frame(redactor):
    frame = pd.DataFrame({"answer": ["Anna Schmidt: anna@example.de", None], "n": [1, 2]})
    out = redact_frame(frame, ["answer"], redactor=redactor)
    assert out["answer"].iloc[0] == "[name]: [email]" and pd.isna(out["answer"].iloc[1])
    assert frame["answer"].iloc[0].startswith("Anna")  # the input is untouched
    assert redact_frame(frame, ["answer"], redactor=redactor, enabled=False).equals(frame)


def test_known_contact_phone_in_another_format():
    redactor = Redactor(extra_phones=["+39 06 1234 567"])
    assert redactor.redact("ring 06 1234 567") == "ring [phone]"
