"""The input datasets of CONTRACT.md §2: file naming, columns and their types.

Types here are the single statement of how a text value is parsed; value rules (sets, ranges, patterns) live
in the Great Expectations suites of `expectations/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["string", "integer", "number", "date", "timestamp", "boolean"]
FORMATS = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet")
ITEM_COLUMN = re.compile(r"^item_(\d+)$")
# A site, cohort or therapist id: a code of letters, digits, `_` and `-` that cannot carry free text (CONTRACT §2).
# expectations/participants.json states it for the rows (rule `invalid_id`); the settings check [sites] keys by it.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    has_items: bool = False  # questionnaires carry item_1 … item_N beside the named columns

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "participants",
            (
                Column("participant_id", "string", True),
                Column("site_id", "string", True),
                Column("cohort_id", "string", True),
                Column("modality", "string", True),
                Column("therapist_id", "string"),
                Column("enrolled_date", "date", True),
                Column("ended_date", "date"),
                Column("age_band", "string"),
                Column("gender", "string"),
            ),
        ),
        Dataset(
            "questionnaires",
            (
                Column("participant_id", "string", True),
                Column("instrument", "string", True),
                Column("completed_at", "timestamp", True),
            ),
            has_items=True,
        ),
        Dataset(
            "scores",
            (
                Column("participant_id", "string", True),
                Column("instrument", "string", True),
                Column("subscale", "string"),
                Column("completed_at", "timestamp", True),
                Column("score", "number", True),
            ),
        ),
        Dataset(
            "exercises",
            (
                Column("participant_id", "string", True),
                Column("started_at", "timestamp", True),
                Column("exercise", "string", True),
                Column("duration_minutes", "number", True),
                Column("distress_before", "integer"),
                Column("distress_after", "integer"),
                Column("is_completed", "boolean"),
            ),
        ),
    )
}


COLUMN_NAMES = {c.name for dataset in DATASETS.values() for c in dataset.columns}


def is_contract_column(name: str) -> bool:
    """True for a column name of CONTRACT §2 (`cohort_id`, `item_12`), as a file's header is read (lower case)."""
    return name in COLUMN_NAMES or ITEM_COLUMN.match(name) is not None


def classify_file_name(file_name: str) -> tuple[str | None, str | None]:
    """(dataset, format) from a file name such as `questionnaires_2026-03.jsonl.gz`; None where unknown."""
    lower = file_name.lower()
    dataset = next((name for name in DATASETS if lower.startswith(name)), None)
    file_format = next((ext for ext in sorted(FORMATS, key=len, reverse=True) if lower.endswith(ext)), None)
    return dataset, file_format
