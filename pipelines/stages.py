"""The stages of a refresh, as plain functions over a `WarehouseBuild` (flows.py wraps them in Prefect tasks).

Each stage moves data between the warehouse and the pure transforms; none holds business logic of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.inbox import InboxFile, UnreadableFile, read_table, sha256_of
from pipelines.settings import Settings
from pipelines.validation import MART_SUITES, RunParameters, SuiteResult, row_failures, validate_mart
from pipelines.warehouse import WarehouseBuild
from transforms.alerts import program_alerts
from transforms.datasets import DATASETS
from transforms.engagement import dose_response, exercise_effects
from transforms.outcomes import cohort_outcomes, intent_to_treat, participant_outcomes
from transforms.scoring import assessments
from transforms.screening import rejection_reason
from transforms.talking_therapies import talking_therapies

HEADLINE_INSTRUMENT, HEADLINE_SUBSCALE = "ECR-R", "anxiety"  # the program's headline outcome (OUTCOMES.md §1)


@dataclass(frozen=True)
class FileToLoad:
    inbox_file: InboxFile
    sha256: str
    duplicate_of: str | None  # the file name already holding these bytes


@dataclass(frozen=True)
class FileResult:
    file_name: str
    status: str  # loaded | rejected | duplicate
    reason: str | None = None
    rows_read: int = 0
    rows_quarantined: int = 0
    validation_seconds: float = 0.0

    def progress_line(self) -> str:
        if self.status != "loaded":
            return f"{self.file_name}: {self.status} ({self.reason})"
        return f"{self.file_name}: {self.rows_read:,} rows, {self.rows_quarantined:,} quarantined"


def new_files(build: WarehouseBuild, inbox_files: list[InboxFile]) -> list[FileToLoad]:
    """Files not seen before under this name with these bytes; same bytes under a new name are duplicates."""
    seen = build.seen_files()
    seen_pairs = set(zip(seen["file_name"], seen["sha256"], strict=True))
    name_of_hash = dict(zip(seen["sha256"], seen["file_name"], strict=True))
    planned = []
    for inbox_file in inbox_files:
        digest = sha256_of(inbox_file.path)
        if (inbox_file.file_name, digest) in seen_pairs:
            continue
        planned.append(FileToLoad(inbox_file, digest, name_of_hash.get(digest)))
        name_of_hash.setdefault(digest, inbox_file.file_name)
    return planned


def ingest_file(build: WarehouseBuild, planned: FileToLoad, run: RunParameters) -> FileResult:
    """Load one new file into raw and staging, quarantining the rows that fail a single-row rule.

    A file is rejected whole (nothing of it loaded) when it is unreadable, of unknown kind, lacks a required
    column, or carries a direct identifier; the reason names the column, never a value.
    """
    inbox_file = planned.inbox_file
    record = {"file_name": inbox_file.file_name, "sha256": planned.sha256, "dataset": inbox_file.dataset}
    if planned.duplicate_of is not None:
        reason = f"same bytes as {planned.duplicate_of}"
        build.record_file(**record, status="duplicate", reason=reason, rows_read=0, rows_loaded=0, rows_quarantined=0)
        return FileResult(inbox_file.file_name, "duplicate", reason)

    def reject(reason: str, rows_read: int = 0) -> FileResult:
        build.record_file(
            **record, status="rejected", reason=reason, rows_read=rows_read, rows_loaded=0, rows_quarantined=0
        )
        return FileResult(inbox_file.file_name, "rejected", reason, rows_read)

    if inbox_file.dataset is None:
        return reject("unknown dataset: the name must start with participants, questionnaires, scores or exercises")
    if inbox_file.format is None:
        return reject("unknown extension (expected .csv, .jsonl or .parquet, optionally .gz)")
    try:
        rows = read_table(inbox_file)
    except UnreadableFile as error:
        return reject(str(error))
    reason = rejection_reason(rows.drop("source_row"), DATASETS[inbox_file.dataset])
    if reason:
        return reject(reason, rows.height)

    file_number = build.record_file(**record, status="loaded", rows_read=rows.height)
    staged = build.load_raw(inbox_file.dataset, file_number, inbox_file.file_name, rows)
    started = time.perf_counter()
    failures, suite_results = row_failures(inbox_file.dataset, inbox_file.file_name, staged, run)
    validation_seconds = time.perf_counter() - started
    for result in suite_results:
        build.record_validation(result)
    build.quarantine_rows(
        failures.with_columns(
            file_number=pl.lit(file_number, pl.Int32),
            source_file=pl.lit(inbox_file.file_name),
            dataset=pl.lit(inbox_file.dataset),
        )
    )
    return FileResult(
        inbox_file.file_name, "loaded", None, rows.height, failures["source_row"].n_unique(), validation_seconds
    )


def build_marts(build: WarehouseBuild, settings: Settings, as_of: date) -> int:
    """Roster and valid rows by SQL, then scoring and outcome statistics by the polars transforms.

    Returns how many held rows were released (their participant arrived).
    """
    build.run_model("marts.participants")
    _new, released = build.reconcile_relational_failures()
    build.run_model("marts.administrations")
    build.run_model("marts.scored_results")
    build.run_model("marts.practices")
    build.run_model("marts.exercise_engagement")

    participants = build.frame("SELECT * FROM marts.participants")
    administrations = build.frame("SELECT * FROM marts.administrations")
    scored_results = build.frame("SELECT * FROM marts.scored_results")
    scored = assessments(administrations, scored_results, participants, settings.instruments)
    outcomes, parameters = participant_outcomes(
        participants, scored, administrations, settings.instruments, settings.windows, settings.outcomes, as_of
    )
    build.write_table("marts.assessments", scored.drop("administration_id"))
    build.write_table("marts.outcome_parameters", parameters)
    build.write_table("marts.participant_outcomes", outcomes)
    build.write_table("marts.cohort_outcomes", cohort_outcomes(outcomes))
    build.write_table("marts.talking_therapies", talking_therapies(outcomes))

    headline = (HEADLINE_INSTRUMENT, HEADLINE_SUBSCALE)
    build.write_table("marts.itt_outcomes", intent_to_treat(scored, participants, *headline, settings.windows))
    build.write_table("marts.alerts", program_alerts(scored, outcomes, parameters, *headline))

    practices = build.frame("SELECT * FROM marts.practices")
    build.write_table("marts.exercise_effects", exercise_effects(practices))
    engagement = build.frame("SELECT * FROM marts.exercise_engagement")
    build.write_table("marts.dose_response", dose_response(engagement, outcomes))
    return released


def validate_marts(build: WarehouseBuild) -> list[SuiteResult]:
    """Every published mart against its suite; the results are recorded whether they pass or not."""
    results = []
    for table in MART_SUITES:
        result = validate_mart(table, build.frame(f"SELECT * FROM marts.{table}"))
        build.record_validation(result)
        results.append(result)
    return results
