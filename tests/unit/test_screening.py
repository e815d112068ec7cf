"""File-level rejection: identifiers, identifier-like values, missing columns (CONTRACT.md §4)."""

import polars as pl
import pytest

from transforms.datasets import DATASETS, classify_file_name
from transforms.screening import column_label, identifier_kind, name_holds_contact_details, rejection_reason

PARTICIPANT = {
    "participant_id": ["P0001"],
    "site_id": ["north"],
    "cohort_id": ["c1"],
    "modality": ["cbt"],
    "enrolled_date": ["2026-03-01"],
}


@pytest.mark.parametrize(
    "name",
    [
        "name",
        "Client Name",
        "first_name",
        "surname",
        "email",
        "E-mail",
        "phone",
        "mobile",
        "address",
        "address_2",
        "postcode",
        "zip",
        "date_of_birth",
        "DOB",
        "nhs_number",
        "MRN",
        "ssn",
        "insurance_number",
        "ip_address",
        "device_id",
        "url",
        "notes",
        "journal_entry",
        "free_text",
        "note_text",
        "Text",
        "link_url",
        "cell_phone",
        "cell_number",
        "PhoneNumber",
        "phonenumber",
        "MobileNumber",
        "contact_number",
        "EmailAddress",
        "DateOfBirth",
        "d_o_b",
        "udid",
        "medicare_number",
    ],
)
def test_identifier_and_free_text_column_names(name):
    assert identifier_kind(name) is not None


@pytest.mark.parametrize(
    "name",
    [
        "participant_id",
        "site_id",
        "cohort_id",
        "therapist_id",
        "site_name",
        "instrument",
        "completed_at",
        "started_at",
        "exercise",
        "duration_minutes",
        "distress_before",
        "is_completed",
        "item_12",
        "subscale",
        "participantId",
        "siteName",
        "durationMinutes",
    ],
)
def test_contract_columns_are_not_identifiers(name):
    assert identifier_kind(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "patient_date_of_birth",
        "birth_dt",
        "address1",
        "contact_name",
        "next_of_kin_name",
        "guardian_name",
        "fname",
        "LName",
        "name_2",
        "hospital_number",
        "diary",
        "iPAddress",
    ],
)
def test_identifier_words_are_found_anywhere_in_a_name_and_beside_digits(name):
    kind = identifier_kind(name)
    assert kind is not None
    frame = pl.DataFrame({**PARTICIPANT, name: ["x"]})
    reason = rejection_reason(frame, DATASETS["participants"])
    assert reason == f"column 6 is named like a direct identifier or free text ({kind})"


@pytest.mark.parametrize(
    "name", ["thought_record_text", "other_text", "response_text", "log_entry", "practice_entry", "profile_link"]
)
def test_free_text_and_links_are_found_by_the_last_word_of_a_name(name):
    assert identifier_kind(name) is not None


@pytest.mark.parametrize("name", ["entry_date", "text_size", "link_id", "cell_id", "entryDate"])
def test_words_that_mean_free_text_or_a_phone_only_on_their_own_do_not_mark_other_names(name):
    assert identifier_kind(name) is None


@pytest.mark.parametrize(
    "name", sorted({c.name for d in DATASETS.values() for c in d.columns} | {"responses", "item_1", "item_10"})
)
def test_the_datasets_own_columns_are_never_identifiers(name):
    assert identifier_kind(name) is None


def test_identifier_column_rejects_the_file_naming_the_column():
    frame = pl.DataFrame({**PARTICIPANT, "email": ["someone@example.org"]})
    assert (
        rejection_reason(frame, DATASETS["participants"])
        == "column 6 is named like a direct identifier or free text (an email address)"
    )


def test_email_and_phone_values_reject_the_file_without_quoting_them():
    email = pl.DataFrame({**PARTICIPANT, "therapist_id": ["jo.smith@clinic.example"]})
    reason = rejection_reason(email, DATASETS["participants"])
    assert reason == "column 6 (therapist_id) holds a value that looks like an email address"
    phone = pl.DataFrame({**PARTICIPANT, "cohort_id": ["+44 (0)20 7946 0958"]})
    reason = rejection_reason(phone, DATASETS["participants"])
    assert reason == "column 3 (cohort_id) holds a value that looks like a phone number"
    assert "7946" not in reason


def test_a_phone_number_inside_other_text_is_found():
    frame = pl.DataFrame({**PARTICIPANT, "site_id": ["ring 07700 900123 first"]})
    assert "phone number" in rejection_reason(frame, DATASETS["participants"])


def test_dates_timestamps_and_short_numbers_are_not_phone_numbers():
    frame = pl.DataFrame(
        {**PARTICIPANT, "cohort_id": ["2026-03-01 09:12:00"], "site_id": ["12345"], "therapist_id": ["T-2026-01"]}
    )
    assert rejection_reason(frame, DATASETS["participants"]) is None


def test_codes_with_letters_are_not_phone_numbers_but_bare_long_numbers_are():
    codes = pl.DataFrame({**PARTICIPANT, "participant_id": ["P-0001-2026-03"], "cohort_id": ["SITE_2024_0001_17"]})
    assert rejection_reason(codes, DATASETS["participants"]) is None
    bare = pl.DataFrame({**PARTICIPANT, "participant_id": ["07700900123"]})
    assert "phone number" in rejection_reason(bare, DATASETS["participants"])
    called = pl.DataFrame({**PARTICIPANT, "site_id": ["tel:07700-900-123"]})
    assert "phone number" in rejection_reason(called, DATASETS["participants"])


def test_contact_details_in_answer_and_number_columns_reject_the_file():
    answers = pl.DataFrame(
        {"participant_id": ["P0001"] * 2, "instrument": ["GAD-7"] * 2, "completed_at": ["2026-03-01"] * 2}
        | {"item_1": ["1", "2"], "item_2": ["3", "jo@clinic.example"]}
    )
    reason = rejection_reason(answers, DATASETS["questionnaires"])
    assert reason == "column 5 (item_2) holds a value that looks like an email address"
    scores = pl.DataFrame(
        {"participant_id": ["P0001"], "instrument": ["BDI-II"], "completed_at": ["2026-03-01"]}
        | {"score": ["+44 20 7946 0958"]}
    )
    assert (
        rejection_reason(scores, DATASETS["scores"]) == "column 4 (score) holds a value that looks like a phone number"
    )


@pytest.mark.parametrize(
    ("value", "noun"),
    [
        ("jane.smith\uff20example.org", "an email address"),  # a fullwidth @
        ("jane@ex\u00e4mple.de", "an email address"),
        ("j\u00f6rg@example.org", "an email address"),
        ("jane\u200b@example.org", "an email address"),  # a zero-width space
        ("jane @ example.org", "an email address"),
        ("jane\n@example.org", "an email address"),
        ("07700/900/123", "a phone number"),
        ("07700_900_123", "a phone number"),
        ("tel07700900123", "a phone number"),
        ("Mob: 07700 900123", "a phone number"),
        ("tel07700-900-123", "a phone number"),
        ("tel:07700900123", "a phone number"),
        ("2026-03-02 07700 900123", "a phone number"),
        ("\uff10\uff17\uff17\uff10\uff10 900123", "a phone number"),  # fullwidth digits
    ],
)
def test_disguised_email_addresses_and_phone_numbers_are_found(value, noun):
    frame = pl.DataFrame({**PARTICIPANT, "cohort_id": [value]})
    reason = rejection_reason(frame, DATASETS["participants"])
    assert reason == f"column 3 (cohort_id) holds a value that looks like {noun}"


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-01T09:12:00+01:00",
        "2026-03-01T09:12:00.123456Z",
        "2026-03-01 to 2026-03-07",
        "02/03/2026 09:12",
        "12.5",
        "33.333333333333336",
        "1.2345678901e-05",
        "P00091",
        "P2024_0001_17",
        "P-0001-2026-03",
        "SITE_2024_0001_17",
        "P12345678901",  # pseudonyms the contract allows: letters, then ten or more digits
        "PH12345678901",
        "CELL1234567890",
        "MOB2026030101",
        "SB0000012345",
        "C2026030101",
        "5f3c1234567890ab",
        "2026-03-01t09:12:00.123456789z",  # RFC 3339 in lower case
    ],
)
def test_dates_decimal_numbers_and_pseudonyms_are_not_contact_details(value):
    frame = pl.DataFrame({**PARTICIPANT, "cohort_id": [value]})
    assert rejection_reason(frame, DATASETS["participants"]) is None


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("jane_doe_dob_1990", "date of birth"),
        ("Jane Doe notes", "a note or other free text"),
        ("mobile 07700 900123 jane smith", "a phone number"),
        ("next_of_kin_phone", "a phone number"),
    ],
)
def test_a_rejected_column_is_named_by_its_position_and_what_its_name_marks_never_by_its_header(header, kind):
    frame = pl.DataFrame({**PARTICIPANT, header: ["x"]})
    reason = rejection_reason(frame, DATASETS["participants"])
    assert reason == f"column 6 is named like a direct identifier or free text ({kind})"
    assert header.lower() not in reason.lower() and "jane" not in reason.lower() and "0" not in reason


def test_a_column_with_contact_details_is_named_by_its_position_and_only_a_contract_name_is_added():
    addressed = pl.DataFrame({**PARTICIPANT, "jane.smith@example.org": ["jo@clinic.example"]})
    reason = rejection_reason(addressed, DATASETS["participants"])
    assert reason == "column 6 holds a value that looks like an email address"
    assert column_label("cohort_id", 3) == "column 3 (cohort_id)"
    assert column_label("item_12", 9) == "column 9 (item_12)"
    assert column_label("jane_doe_1990", 2) == "column 2"
    assert column_label("responses", 4) == "column 4"


def test_a_missing_required_column_rejects_the_file():
    frame = pl.DataFrame({k: v for k, v in PARTICIPANT.items() if k != "modality"})
    assert rejection_reason(frame, DATASETS["participants"]) == "required column 'modality' is missing"


@pytest.mark.parametrize(
    ("name", "dataset", "fmt"),
    [
        ("participants.csv", "participants", ".csv"),
        ("Questionnaires_2026-03.JSONL.gz", "questionnaires", ".jsonl.gz"),
        ("scores_bdi.parquet", "scores", ".parquet"),
        ("exercises.csv.gz", "exercises", ".csv.gz"),
        ("session_notes.txt", None, None),
        ("participants.xlsx", "participants", None),
    ],
)
def test_dataset_and_format_come_from_the_file_name(name, dataset, fmt):
    assert classify_file_name(name) == (dataset, fmt)


@pytest.mark.parametrize(
    ("name", "holds"),
    [
        ("questionnaires_Jane_Smith_jane@example.org.csv", True),
        ("questionnaires_Jane_Smith_07700900123.csv", True),
        ("Jane Smith NHS 485 777 3456/questionnaires.csv", True),
        ("tel.07700900123.csv", True),
        ("Jane-Smith-07700900123/participants.csv", True),
        ("participants_jane＠example.org.csv", True),
        ("questionnaires_ecr-r.csv.gz", False),
        ("exercises_2026-03-01.csv", False),
        ("exercises_20260301093000.csv", False),  # a compact date and time
        ("exercises_1709280000.csv", False),  # an epoch second
        ("scores_5f3c1234567890ab.csv", False),
        ("north/2026/participants_zz_moves.csv", False),
        ("scores_site-0001-2026-03.parquet", False),
    ],
)
def test_a_file_name_holding_contact_details_is_recognised(name, holds):
    assert name_holds_contact_details(name) is holds
