"""File-level screening (CONTRACT.md §4): reasons to reject a whole file before any row of it is loaded.

Reasons name the column, never a value: a rejected file may hold personal data. A column's name can carry personal
data too (`jane_doe_dob_1990`), so a reason names a column by its position (`column_label`), never by its header.
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

from transforms.datasets import Dataset, is_contract_column

# Column names that mark a direct identifier or free text. A name is read as words: lower case, split at anything
# but a letter or digit, between the words of a camelCase name (`PhoneNumber` is `phone number`) and between letters
# and digits (`address1` is `address 1`), with the numbers dropped. A pattern matches a run of consecutive words
# joined by `_`, anywhere in the name (`patient_date_of_birth` holds `date_of_birth`), or the whole name written
# as one word (`iPAddress`, read as `i paddress`, is `ipaddress`).
IDENTIFIER_NAME_PATTERNS = {
    # A person's name is `name` with a word that says whose (`client_name`, `next_of_kin_name`, `fname`), so that a
    # `site_name` or `instrument_name` is not mistaken for one.
    "a person's name": r"(first|last|full|given|family|middle|maiden|preferred|nick|user|f|l|patient|client|participant"
    r"|person|contact|kin|guardian|parent|carer|spouse|mother|father|therapist|clinician|doctor|gp)_?name|surname|forename",
    "an email address": r"e?mails?|email_?address",
    "a phone number": r"(tele|mobile_?|cell_?)?phones?|mobile|tel|fax"
    r"|(tele_?phone|phone|mobile|cell|contact)_?(number|no|num)",
    "an address": r"(street|home|postal|mailing)?_?address(_?line)?|street|addr(_?line)?",
    "a postcode": r"post_?code|zip(_?code)?|postal(_?code)?",
    "date of birth": r"d_?o_?b|(birth|born)_?(date|dt|day)|(date|dt)_?of_?birth|birthday",
    "a health, insurance or national number": r"nhs(_?(number|no))?|mrn|medical_?record(_?number)?|ssn"
    r"|social_?security(_?number)?|insurance(_?(number|no|id))?|national_?insurance(_?number)?|ni_?number"
    r"|medicare(_?(number|no))?|(hospital|patient|chi|passport)_?(number|no|num)",
    "an IP address": r"ipv?|ip_?address",
    "a device id": r"device(_?id)?|u?did|imei|mac_?address",
    "a link": r"urls?|website|web_?site",
    "a note or other free text": r"notes?|comments?|journal(_?entry)?|diary(_?entry)?|diaries|free_?text"
    r"|description|narrative|remarks?",
}
_IDENTIFIER_NAMES = {kind: re.compile(pattern) for kind, pattern in IDENTIFIER_NAME_PATTERNS.items()}
LONGEST_PATTERN = 3  # words (`date_of_birth`): longer runs of a long name are not tried
# Words that mark an identifier only as the whole name: a column `Name` or `Cell`, but not `site_name` or `cell_id`
# (a person's name is found by the words that say whose, a cell phone by its own).
WHOLE_NAME_ONLY = {"name": "a person's name", "cell": "a phone number"}
# Words that mark free text or a link as the last word of a name (`Text`, `response_text`, `log_entry`,
# `profile_link`), but not as the first (`text_size`, `entry_date`, `link_id`).
LAST_WORD_ONLY = {"text": "a note or other free text", "entry": "a note or other free text", "link": "a link"}

# Values are matched as a reader sees them: `_comparable` puts compatibility forms in their plain form (`＠` is `@`,
# `０` is `0`) and drops invisible format characters (a zero-width space inside an address).
EMAIL_VALUE = r"[\w.%+'-]+\s*@\s*[\w-]+(\.[\w-]+)*\.\p{L}{2,}"
# A run of digits with phone punctuation, anywhere in the value but not inside a code such as `P-0001-2026-03`,
# `SITE_2024_0001_17` or `P12345678901`: it starts the value or follows a character that cannot be part of one (the
# match keeps that character), or it follows a word that names a phone, at a word's start, and starts as a phone
# number does, with 0 or + (`tel07700900123`, `Mob: 07700 900123`, but not the pseudonym `CELL1234567890`).
PHONE_RUN = (
    r"(?:^|[^A-Za-z0-9_-])(?:\+|00)?\d[\d\s()./_-]{8,}\d"
    r"|(?:^|[^A-Za-z])(?i:tel|phone|mob|mobile|fax|cell)[.:]?\s*(?:\+|0)\d[\d\s()./-]{7,}\d"
)
PHONE_DIGITS = 10  # the fewest a phone number has, with its area code
# Dates inside a run of digits, which do not count towards a phone number (`2026-03-02 07700 900123` has eleven).
DATE_IN_RUN = r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
SHORTEST_SUSPECT = 6  # characters: `a@b.co`; a phone number has at least ten digits
# Whole values that hold no phone number, whatever their digits: a date or timestamp, a decimal number
# (`33.333333333333336`).
DATE_OR_TIMESTAMP = r"(?i)^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
DECIMAL_NUMBER = r"^[+-]?\d+\.\d+([eE][+-]?\d+)?$"


def _name_words(column: str) -> list[str]:
    """The words of a column name, as the identifier patterns read it (see IDENTIFIER_NAME_PATTERNS)."""
    visible = "".join(c for c in unicodedata.normalize("NFKC", column) if unicodedata.category(c) != "Cf")
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", visible).lower()
    return [word for word in re.split(r"[\W_]+", spaced) if word and not word.isdigit()]


def identifier_kind(column: str) -> str | None:
    """What a column name such as `email`, `Client Name`, `nhs_number`, `journal_entry` or `address1` marks (`an
    email address`, `a person's name`, ...), or None for a name that marks no direct identifier or free text."""
    words = _name_words(column)
    as_one_word = "".join(words)
    if as_one_word in WHOLE_NAME_ONLY:
        return WHOLE_NAME_ONLY[as_one_word]
    if words and words[-1] in LAST_WORD_ONLY:
        return LAST_WORD_ONLY[words[-1]]
    runs = {
        "_".join(words[start:end])
        for start in range(len(words))
        for end in range(start + 1, min(start + LONGEST_PATTERN, len(words)) + 1)
    } | {as_one_word}
    return next((kind for kind, names in _IDENTIFIER_NAMES.items() if any(names.fullmatch(run) for run in runs)), None)


def column_label(name: str, position: int) -> str:
    """How a reason names a column: by its 1-based position, never by its header, since a header can itself be
    personal data (`jane_doe_dob_1990`); a column the contract names is followed by that name (`column 3
    (cohort_id)`), which is the contract's word, not the file's."""
    return f"column {position} ({name})" if is_contract_column(name) else f"column {position}"


def _comparable(values: pl.Expr) -> pl.Expr:
    """The values in NFKC form without format characters (Unicode category Cf, such as a zero-width space)."""
    return values.str.normalize("NFKC").str.replace_all(r"\p{Cf}", "")


def _has_email(values: pl.Expr) -> pl.Expr:
    """Some value looks like an email address (only values with an `@` are matched against the pattern)."""
    return values.filter(values.str.contains("@", literal=True)).str.contains(EMAIL_VALUE).any()


def _looks_like_phone(values: pl.Expr) -> pl.Expr:
    """Some run of at least ten digits with phone punctuation, not counting the digits of a date in it, in a value
    that is not a date, timestamp or decimal number alone."""
    candidates = values.filter(values.str.contains(PHONE_RUN))
    candidates = candidates.filter(~candidates.str.contains(f"{DATE_OR_TIMESTAMP}|{DECIMAL_NUMBER}"))
    digits = pl.element().str.replace_all(DATE_IN_RUN, "").str.count_matches(r"\d")
    return candidates.str.extract_all(PHONE_RUN).list.eval(digits >= PHONE_DIGITS).list.any()


def rejection_reason(frame: pl.DataFrame, dataset: Dataset) -> str | None:
    """Why the whole file must be rejected, or None. `frame` has the file's text columns, lower-cased, in the
    file's order (a withheld name is told by its position)."""
    positions = {column: position for position, column in enumerate(frame.columns, 1)}
    for column in frame.columns:
        kind = identifier_kind(column)
        if kind:
            return f"{column_label(column, positions[column])} is named like a direct identifier or free text ({kind})"
    missing = [c for c in dataset.required if c not in frame.columns]
    if missing:
        return f"required column {missing[0]!r} is missing"
    # Every column, since a number or an answer column can hold contact details too; the patterns run only on
    # columns with a value long enough to be one (answers and numbers rarely are), and a column's values are put in
    # comparable form only when it has a non-ASCII character (only those can change, and a file has millions).
    if not frame.height:
        return None
    longest = frame.select(pl.all().str.len_chars().max()).row(0)
    non_ascii = frame.select((pl.all().str.len_bytes() != pl.all().str.len_chars()).any()).row(0)
    values = {
        column: _comparable(pl.col(column)) if other else pl.col(column)
        for column, length, other in zip(frame.columns, longest, non_ascii, strict=True)
        if (length or 0) >= SHORTEST_SUSPECT
    }
    if values:
        flags = frame.select(
            *[_has_email(v).alias(f"{positions[c]} email") for c, v in values.items()],
            *[_looks_like_phone(v).any().alias(f"{positions[c]} phone") for c, v in values.items()],
        ).row(0, named=True)
        for key, found in flags.items():
            if found:
                position, kind = key.split()
                noun = "an email address" if kind == "email" else "a phone number"
                column = frame.columns[int(position) - 1]
                return f"{column_label(column, int(position))} holds a value that looks like {noun}"
    return None


def name_holds_contact_details(file_name: str) -> bool:
    """True when a file's name (its path in the inbox) looks like it holds an email address, or has a part between
    `_`, `/`, `.` and `-` that looks like a phone number as a value would (`Jane_07700 900123/…`, `tel07700900123`). A
    part of digits alone counts only when it starts as a phone number does, with 0 or +: a name's digits are more
    often a date and time (`20260301093000`), an epoch second or a batch number."""
    name = pl.DataFrame({"name": [file_name]}).select(_comparable(pl.col("name")))
    if name.select(_has_email(pl.col("name"))).item():
        return True
    parts = name.select(pl.col("name").str.split(by="_").explode())
    for separator in "/.-":
        parts = parts.select(pl.col("name").str.split(by=separator).explode())
    bare_number = pl.col("name").str.contains(r"^[1-9]\d*$")
    return bool(parts.filter(~bare_number).select(_looks_like_phone(pl.col("name")).any()).item())
