"""Site, cohort and therapist ids are codes that cannot carry text (CONTRACT §2, rule `invalid_id`)."""

import json

import pytest

from pipelines.validation import EXPECTATIONS_DIR
from transforms.datasets import ID_PATTERN


@pytest.mark.parametrize("value", ["c1", "A", "north", "T-west-1", "west-2026-01", "site_2", "x" * 64])
def test_short_codes_of_letters_digits_underscores_and_hyphens_are_ids(value):
    assert ID_PATTERN.fullmatch(value)


@pytest.mark.parametrize(
    "value",
    [
        "my therapist is Dr Smith",
        "Dr Smith's Tuesday group",
        "north clinic",
        "-north",
        "_north",
        "north.clinic",
        "nörth",
        "north\nclinic",
        "jo@clinic.example",
        "x" * 65,
        "",
    ],
)
def test_spaces_punctuation_other_letters_and_long_values_are_not_ids(value):
    assert not ID_PATTERN.fullmatch(value)


def test_the_participants_suite_quarantines_each_id_column_by_the_same_pattern():
    suite = json.loads((EXPECTATIONS_DIR / "participants.json").read_text(encoding="utf-8"))
    id_rules = {
        e["kwargs"]["column"]: e["kwargs"]["regex"] for e in suite["expectations"] if e["meta"]["rule"] == "invalid_id"
    }
    assert id_rules == dict.fromkeys(["site_id", "cohort_id", "therapist_id"], ID_PATTERN.pattern)
