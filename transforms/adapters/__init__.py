"""Source adapters (ADAPTERS.md): a REDCap export or a FHIR Bulk Data file turned into CONTRACT §2 datasets.

An adapter is pure: it takes the file's rows or lines and the config section, and returns the rows each dataset
would have had as a native file (text values, `source_row` the file's own 1-based row or line), identifiers already
pseudonymised, plus the rows it quarantines itself (an incomplete form, a line that is not a FHIR resource). The
rest of the refresh treats each part as a native file of its dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from transforms.instrument_rules import FAILURE_SCHEMA

SOURCES = ("redcap", "fhir")


class SourceRejected(ValueError):
    """The whole file is refused; the message (a config key or a column, never a value) is its recorded reason."""


@dataclass(frozen=True)
class Part:
    """What one source file gives one dataset: the rows that enter raw, and the rows the adapter quarantined."""

    dataset: str  # participants | questionnaires
    label: str  # how ops.files tells the parts apart, e.g. `redcap form gad7 as GAD-7`
    rows: pl.DataFrame  # native column names, text values, `source_row`
    failures: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FAILURE_SCHEMA))

    @property
    def rows_read(self) -> int:
        return self.rows.height + self.failures["source_row"].n_unique()


def classify_source(file_name: str) -> tuple[str, str] | None:
    """(source, format) for a source file's name (ADAPTERS §1), else None: `redcap*.csv[.gz]`, `*.ndjson[.gz]`."""
    lower = file_name.lower()
    if lower.endswith((".ndjson", ".ndjson.gz")):
        return "fhir", ".ndjson.gz" if lower.endswith(".gz") else ".ndjson"
    if lower.startswith("redcap") and lower.endswith((".csv", ".csv.gz")):
        return "redcap", ".csv.gz" if lower.endswith(".gz") else ".csv"
    return None


def failures_frame(rows: list[tuple[int, str, str | None, str]]) -> pl.DataFrame:
    """(source_row, rule, column_name, detail) tuples as a quarantine frame."""
    return pl.DataFrame(rows, schema=FAILURE_SCHEMA, orient="row")


def section_value(section: dict, path: str, key: str, kind: type | tuple[type, ...] = str):
    """`section[key]`, which the config must give as `kind`; the reason names the key in full (`redcap.record_id`)."""
    if key not in section:
        raise SourceRejected(f"config key {path}.{key} is missing")
    value = section[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise SourceRejected(f"config key {path}.{key} has the wrong type ({type(value).__name__})")
    return value
