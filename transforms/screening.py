"""File-level screening (CONTRACT.md §4): reasons to reject a whole file before any row of it is loaded.

Reasons name the column, never a value: a rejected file may hold personal data.
"""

from __future__ import annotations

import re

import polars as pl

from transforms.datasets import Dataset

# Column names that mark a direct identifier or free text, matched on the lower-cased name split at _ - . space
# and between the words of a camelCase name (`PhoneNumber` is `phone_number`).
# A person's name is matched on the whole name or a pair of words (`client_name`, `Name`), so that a
# `site_name` or `instrument_name` is not mistaken for one; the other patterns also match a single word.
PERSON_NAME_PATTERN = re.compile(
    r"(first|last|full|given|family|middle|user|maiden|patient|client|participant|person|preferred)?_?name"
    r"|surname|forename"
)
IDENTIFIER_NAME_PATTERNS = [
    r"e?mail|email_?address",
    r"(tele|mobile_?|cell_?)?phone|mobile|tel|cell|fax|(tele_?phone|phone|mobile|cell|contact)_?(number|no)",
    r"(street|home|postal|mailing)?_?address|street|addr",
    r"post_?code|zip(_?code)?|postal(_?code)?",
    r"d_?o_?b|birth_?date|date_?of_?birth|birthday",
    r"nhs(_?(number|no))?|mrn|medical_?record(_?number)?|ssn|social_?security(_?number)?"
    r"|insurance(_?(number|no|id))?|national_?insurance(_?number)?|ni_?number|medicare(_?(number|no))?",
    r"ip|ip_?address",
    r"device(_?id)?|u?did|imei|mac_?address",
    r"url|website|link",
    r"notes?|comments?|journal(_?entry)?|entry|free_?text|text|description|narrative|remarks?",
]
_IDENTIFIER_NAME = re.compile("|".join(f"(?:{p})" for p in IDENTIFIER_NAME_PATTERNS))
EMAIL_VALUE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# A run of digits with phone punctuation, anywhere in the value but not inside a code such as `P-0001-2026-03`:
# it starts the value or follows a character that cannot be part of one (the match keeps that character).
PHONE_RUN = r"(?:^|[^A-Za-z0-9_-])(?:\+|00)?\d[\d\s().-]{8,}\d"
SHORTEST_SUSPECT = 6  # characters: `a@b.co`; a phone number has at least ten digits
DATE_OR_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"


def is_identifier_name(column: str) -> bool:
    """True for a column name such as `email`, `Client Name`, `nhs_number`, `journal_entry`."""
    lowered = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", column.strip()).lower()
    normalised = re.sub(r"[\s.\-]+", "_", lowered)
    tokens = normalised.split("_")
    pairs = {normalised, *("_".join(tokens[i : i + 2]) for i in range(len(tokens) - 1))}
    if any(PERSON_NAME_PATTERN.fullmatch(p) for p in pairs) or "surname" in tokens or "forename" in tokens:
        return True
    return any(_IDENTIFIER_NAME.fullmatch(c) for c in pairs | set(tokens) if c)


def _looks_like_phone(values: pl.Expr) -> pl.Expr:
    """Some run of at least ten digits with phone punctuation that is not a date or timestamp."""
    runs = (
        values.filter(values.str.contains(PHONE_RUN))
        .str.extract_all(PHONE_RUN)
        .list.eval(
            pl.element().filter(
                (pl.element().str.count_matches(r"\d") >= 10) & ~pl.element().str.contains(r"^\D?\d{4}-\d{2}-\d{2}")
            )
        )
    )
    return runs.list.len() > 0


def _suspects(column: str) -> pl.Expr:
    """The column's values that could hold an email address or a phone number: long enough, and not a date or
    timestamp alone."""
    values = pl.col(column)
    return values.filter((values.str.len_chars() >= SHORTEST_SUSPECT) & ~values.str.contains(DATE_OR_TIMESTAMP))


def rejection_reason(frame: pl.DataFrame, dataset: Dataset) -> str | None:
    """Why the whole file must be rejected, or None. `frame` has the file's text columns, lower-cased."""
    identifiers = [c for c in frame.columns if is_identifier_name(c)]
    if identifiers:
        return f"column {identifiers[0]!r} looks like a direct identifier or free text"
    missing = [c for c in dataset.required if c not in frame.columns]
    if missing:
        return f"required column {missing[0]!r} is missing"
    # Every column, since a number or an answer column can hold contact details too; the patterns run only on
    # columns with a value long enough to be one (answers and numbers rarely are).
    longest = frame.select(pl.all().str.len_chars().max()).row(0, named=True) if frame.height else {}
    suspect = [column for column, length in longest.items() if (length or 0) >= SHORTEST_SUSPECT]
    if suspect:
        flags = frame.select(
            *[_suspects(c).str.contains(EMAIL_VALUE).any().alias(f"{c}\x00email") for c in suspect],
            *[_looks_like_phone(_suspects(c)).any().alias(f"{c}\x00phone") for c in suspect],
        ).row(0, named=True)
        for key, found in flags.items():
            if found:
                column, kind = key.split("\x00")
                noun = "an email address" if kind == "email" else "a phone number"
                return f"column {column!r} holds a value that looks like {noun}"
    return None
