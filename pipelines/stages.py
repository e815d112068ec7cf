"""The stages of a refresh, as plain functions over a `WarehouseBuild` (flows.py wraps them in Prefect tasks).

Each stage moves data between the warehouse and the pure transforms; none holds business logic of its own.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from importlib.metadata import version

import polars as pl

from pipelines.inbox import InboxFile, UnreadableFile, read_table
from pipelines.sources import SourceSettings, adapt_file
from pipelines.validation import (
    MART_SUITES,
    RunParameters,
    SuiteResult,
    in_future_limits,
    merged_result,
    row_failures,
    validate_mart,
    without_rejected_values,
)
from pipelines.warehouse import IN_REBUILD, PARTICIPANT_MARTS, WarehouseBuild, sql_model, stage_rows
from securebase.settings import Settings
from transforms.adapters import SOURCES, Part, SourceRejected
from transforms.alerts import headline_scores, min_reliable_change, not_on_track_alerts, trajectory_history
from transforms.datasets import DATASETS
from transforms.engagement import dose_response_of, exercise_effects, practice_and_change
from transforms.mixed_models import (
    fit_expected_trajectory,
    fit_variance_components,
    person_sums,
    sampled_participants,
)
from transforms.outcomes import (
    GROUP_COLUMNS,
    HEADLINE,
    classified_outcomes,
    cohort_parts,
    complete_baseline_sums,
    itt_outcomes,
    itt_scores,
    measures_in_use,
    outcome_rows,
    pooled_cohort_outcomes,
    program_parameters,
)
from transforms.reliable_change import added
from transforms.scoring import assessments
from transforms.screening import rejection_reason
from transforms.talking_therapies import therapy_counts, therapy_rates
from transforms.windows import select_baseline_and_endpoint

# What the marts are built by, besides the settings (`marts_digest`): package and file pattern
MART_SOURCES = (
    ("transforms", "**/*.py"),
    ("transforms", "**/*.sql"),
    ("expectations", "marts/*.json"),
    ("pipelines", "stages.py"),
    ("pipelines", "warehouse.py"),
)
MART_LIBRARIES = ("duckdb", "polars", "numpy", "scipy", "statsmodels")
BETWEEN = "WHERE participant_id BETWEEN ? AND ?"  # a batch of participants (`WarehouseBuild.rebuild_batches`)
# Participants whose marts are built and checked at a time: at 100,000 participants about 0.6 million assessment
# rows (bench/README.md)
PARTICIPANTS_PER_BATCH = 20_000


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
    """Files not seen before under this name with these bytes; the same bytes as a file an earlier night loaded,
    under a new name, are a duplicate (a rejected file renamed as its reason asked is not: it is examined again).
    Twins within one night are told apart when they are stored (`store_file`), once it is known which one loads."""
    seen = build.seen_files()
    seen_pairs = set(zip(seen["file_name"], seen["sha256"], strict=True))
    loaded = seen.filter(pl.col("status") == "loaded")
    name_of_hash = dict(zip(loaded["sha256"], loaded["file_name"], strict=True))
    planned = []
    for inbox_file in inbox_files:
        digest = inbox_file.digest()
        if (inbox_file.file_name, digest) in seen_pairs:
            continue
        planned.append(FileToLoad(inbox_file, digest, name_of_hash.get(digest)))
    return planned


@dataclass
class ExaminedFile:
    """A new file read, screened, typed and validated: everything `store_file` writes to the warehouse."""

    planned: FileToLoad
    status: str = "loaded"  # loaded | rejected | duplicate
    reason: str | None = None  # why it is rejected or a duplicate; it names a column or a file, never a value
    rows_read: int = 0
    rows: pl.DataFrame | None = None  # as read: text, with source_row; values a rule rejected are null
    staged: pl.DataFrame | None = None  # typed by the staging model
    failures: pl.DataFrame | None = None  # single-row rule failures
    suite_results: tuple[SuiteResult, ...] = ()
    validation_seconds: float = 0.0
    parts: tuple[ExaminedFile, ...] = ()  # a source file (ADAPTERS.md): one examined part per dataset it gives
    adapted_as: str | None = None  # a part's label in ops.files

    def release_rows(self) -> None:
        """Let the rows go once stored: Prefect's records of the task runs that passed this object along may keep
        it alive until the flow ends, which would hold every file of the inbox in memory at once."""
        self.rows = self.staged = self.failures = None
        for part in self.parts:
            part.release_rows()


def examine_file(planned: FileToLoad, run: RunParameters, sources: SourceSettings | None = None) -> ExaminedFile:
    """All the work on one new file that needs only the file: read it, screen it, type it and validate its rows.

    It touches no warehouse, so files can be examined side by side by any Prefect task runner. A file is refused
    whole when it is unreadable, of unknown kind, lacks a required column, or carries a direct identifier (in its
    name too).
    """
    inbox_file = planned.inbox_file
    if planned.duplicate_of is not None:
        return ExaminedFile(planned, "duplicate", f"same bytes as {planned.duplicate_of}")
    if inbox_file.leaves_inbox:
        return ExaminedFile(planned, "rejected", "a symbolic link to a file outside the inbox: copy the file in")
    if inbox_file.is_name_withheld:
        return ExaminedFile(
            planned, "rejected", "its name looks like it holds an email address or phone number: rename the file"
        )
    if inbox_file.dataset is None:
        return ExaminedFile(
            planned,
            "rejected",
            "unknown dataset: the name must start with participants, questionnaires, scores, exercises or redcap, "
            "or end in .ndjson",
        )
    if inbox_file.format is None:
        return ExaminedFile(
            planned, "rejected", "unknown extension (expected .csv, .jsonl or .parquet, optionally .gz)"
        )
    if inbox_file.dataset in SOURCES:
        return examine_source(planned, run, sources)
    try:
        rows = read_table(inbox_file)
    except UnreadableFile as error:
        return ExaminedFile(planned, "rejected", str(error))
    reason = rejection_reason(rows.drop("source_row"), DATASETS[inbox_file.dataset])
    if reason:
        return ExaminedFile(planned, "rejected", reason, rows.height)
    staged = stage_rows(inbox_file.dataset, rows, run.timezone)
    started = time.perf_counter()
    failures, suite_results = row_failures(inbox_file.dataset, inbox_file.file_name, staged, run)
    return ExaminedFile(
        planned,
        rows_read=rows.height,
        rows=without_rejected_values(rows, failures),
        staged=without_rejected_values(staged, failures),
        failures=failures,
        suite_results=tuple(suite_results),
        validation_seconds=time.perf_counter() - started,
    )


def examine_source(planned: FileToLoad, run: RunParameters, sources: SourceSettings) -> ExaminedFile:
    """A REDCap export or FHIR NDJSON file adapted into dataset parts, each screened, typed and validated as a
    native file of its dataset would be; the rows the adapter itself quarantined join each part's failures."""
    try:
        parts, note = adapt_file(planned.inbox_file, sources)
    except (UnreadableFile, SourceRejected) as error:
        return ExaminedFile(planned, "rejected", str(error))
    examined = []
    for part in parts:
        reason = rejection_reason(part.rows.drop("source_row"), DATASETS[part.dataset])
        if reason:
            return ExaminedFile(planned, "rejected", f"{part.label}: {reason}", sum(p.rows_read for p in parts))
        examined.append(_examine_part(planned, part, run))
    if note and examined:
        examined[0].adapted_as += f"; {note}"
    return ExaminedFile(planned, rows_read=sum(p.rows_read for p in parts), parts=tuple(examined), adapted_as=note)


def _examine_part(planned: FileToLoad, part: Part, run: RunParameters) -> ExaminedFile:
    """One part typed and validated; rows the adapter quarantined are not in its rows, only in its failures."""
    as_dataset = FileToLoad(replace(planned.inbox_file, dataset=part.dataset), planned.sha256, None)
    staged = stage_rows(part.dataset, part.rows, run.timezone)
    started = time.perf_counter()
    failures, suite_results = row_failures(part.dataset, planned.inbox_file.file_name, staged, run)
    failures = pl.concat([part.failures, failures]).sort("source_row", maintain_order=True)
    return ExaminedFile(
        as_dataset,
        rows_read=part.rows_read,
        rows=without_rejected_values(part.rows, failures),
        staged=without_rejected_values(staged, failures),
        failures=failures,
        suite_results=tuple(suite_results),
        validation_seconds=time.perf_counter() - started,
        adapted_as=part.label,
    )


def store_file(build: WarehouseBuild, examined: ExaminedFile) -> FileResult:
    """Write an examined file to the warehouse: its manifest entry, its rows in raw and staging, its validation
    results, and the rows it quarantines. A refused or duplicate file is recorded with its reason only."""
    inbox_file = examined.planned.inbox_file
    record = {"file_name": inbox_file.file_name, "sha256": examined.planned.sha256, "dataset": inbox_file.dataset}
    twin = build.loaded_file_with(examined.planned.sha256) if examined.status == "loaded" else None
    if twin is not None:  # the same bytes loaded earlier tonight: recorded as a duplicate is from an earlier night
        examined.release_rows()
        examined = ExaminedFile(examined.planned, "duplicate", f"same bytes as {twin}")
    if examined.status != "loaded":
        build.record_file(
            **record,
            status=examined.status,
            reason=examined.reason,
            rows_read=examined.rows_read,
            rows_loaded=0,
            rows_quarantined=0,
        )
        return FileResult(inbox_file.file_name, examined.status, examined.reason, examined.rows_read)

    if examined.planned.inbox_file.dataset in SOURCES:
        return _store_parts(build, examined)
    return _store_rows(build, examined)


def _store_parts(build: WarehouseBuild, examined: ExaminedFile) -> FileResult:
    """A source file's parts, each recorded in ops.files as a file of its dataset (same name and digest, the part
    in `adapted_as`), so that its rows' lineage (file_number, source_row) is unique as a native file's is."""
    results = [_store_rows(build, part) for part in examined.parts]
    if not results:  # a file with no row for any dataset: recorded, so that it is not examined again
        inbox_file = examined.planned.inbox_file
        build.record_file(
            file_name=inbox_file.file_name,
            sha256=examined.planned.sha256,
            dataset=inbox_file.dataset,
            status="loaded",
            rows_read=0,
            adapted_as=examined.adapted_as,
        )
    return FileResult(
        examined.planned.inbox_file.file_name,
        "loaded",
        None,
        sum(r.rows_read for r in results),
        sum(r.rows_quarantined for r in results),
        sum(r.validation_seconds for r in results),
    )


def _store_rows(build: WarehouseBuild, examined: ExaminedFile) -> FileResult:
    """A loaded file's (or part's) manifest entry, rows, validation results and quarantined rows."""
    inbox_file = examined.planned.inbox_file
    record = {"file_name": inbox_file.file_name, "sha256": examined.planned.sha256, "dataset": inbox_file.dataset}
    if examined.adapted_as:
        record["adapted_as"] = examined.adapted_as
    file_number = build.record_file(**record, status="loaded", rows_read=examined.rows_read)
    build.store_rows(inbox_file.dataset, file_number, inbox_file.file_name, examined.rows, examined.staged)
    for result in examined.suite_results:
        build.record_validation(result)
    build.quarantine_rows(
        examined.failures.with_columns(
            file_number=pl.lit(file_number, pl.Int32),
            source_file=pl.lit(inbox_file.file_name),
            dataset=pl.lit(inbox_file.dataset),
        )
    )
    result = FileResult(
        inbox_file.file_name,
        "loaded",
        None,
        examined.rows_read,
        examined.failures["source_row"].n_unique(),
        examined.validation_seconds,
    )
    examined.release_rows()
    return result


def marts_digest(settings: Settings) -> str:
    """What the marts are built by: the settings they read (the time zone, which dates every row, among them), the
    code that builds and checks them, and the versions of the libraries that compute them. When it changes, the next
    refresh rebuilds every participant's marts instead of only those with new rows."""
    digest = hashlib.sha256(
        repr((settings.windows, settings.instruments, settings.outcomes, settings.timezone)).encode()
    )
    digest.update(repr([(name, version(name)) for name in MART_LIBRARIES]).encode())
    for package, pattern in MART_SOURCES:
        folder = resources.files(package)  # a folder on disk: securebase is a regular package, unpacked
        for source in sorted(folder.glob(pattern)):
            digest.update(f"{package}/{source.relative_to(folder).as_posix()}".encode() + source.read_bytes())
    return digest.hexdigest()


def build_marts(build: WarehouseBuild, settings: Settings, as_of: date) -> tuple[int, int]:
    """The participant marts, rebuilt for the participants with new rows (SQL models, then scoring and the choice
    of baseline and endpoint); then the program-wide marts, from the compact participant marts.

    Returns (participants rebuilt, quarantined rows released: their participant arrived, or their day came).
    """
    run = RunParameters(as_of, settings.timezone, settings.instruments)
    now_due, their_participants = build.release_rows_now_due(in_future_limits(run))
    rebuilt = build.choose_rebuild(marts_digest(settings), also=their_participants)
    build.rebuild_model("marts.participants")
    _new, released = build.reconcile_relational_failures()
    for table in ("marts.administrations", "marts.scored_results", "marts.practices", "marts.exercise_engagement"):
        build.rebuild_model(table)
    score_in_batches(build, settings)

    everyone = build.rebuild_batches(PARTICIPANTS_PER_BATCH, among="marts.participants")
    parameters = outcomes_in_batches(build, settings, as_of, everyone)
    headline_in_batches(build, settings, parameters, everyone)
    build.note_alerts_seen()
    build.write_table("marts.exercise_effects", exercise_effects(build.frame(sql_model("marts/exercise_drops"))))
    for table in ("marts.practice_weeks", "marts.score_weeks"):
        build.write_table(table, build.frame(sql_model(table.replace(".", "/"))))
    return rebuilt, released + now_due


BASELINE_FORMS = (  # a batch's administrations chosen as baselines, for Cronbach's alpha
    f"SELECT administration_id, responses FROM marts.administrations {BETWEEN} AND administration_id IN "
    f"(SELECT baseline_administration_id FROM marts.baselines_endpoints {BETWEEN})"
)


def outcomes_in_batches(build: WarehouseBuild, settings: Settings, as_of: date, batches: list) -> pl.DataFrame:
    """marts.outcome_parameters from the program's complete pairs, then marts.participant_outcomes,
    marts.cohort_outcomes and marts.talking_therapies a batch of participants at a time (`batches` of everyone);
    returns the parameters.

    Each participant's outcome rows depend only on their own rows and the program's parameters, so the batches
    give the rows of one pass over everyone; the parameters need every complete pair's baseline score, gathered
    alone, and sums of its baseline's items for Cronbach's alpha, which the batches add up (bench/README.md,
    "One million participants")."""
    in_use = measures_in_use(
        build.frame("SELECT DISTINCT instrument, subscale FROM marts.assessments WHERE score IS NOT NULL"),
        settings.instruments,
    )

    def rows(first: str | None, last: str | None) -> pl.DataFrame:
        return outcome_rows(
            build.frame(f"SELECT * FROM marts.participants {BETWEEN} ORDER BY participant_id", [first, last]),
            build.frame(f"SELECT * FROM marts.baselines_endpoints {BETWEEN}", [first, last]),
            in_use,
            settings.windows,
            as_of,
        )

    baselines, item_sums = [], {}
    for batch in batches:
        complete = rows(*batch).filter(pl.col("outcome_status") == "complete")
        forms = build.frame(BASELINE_FORMS, [*batch, *batch])
        item_sums = added(item_sums, complete_baseline_sums(complete, forms, settings.instruments))
        baselines.append(complete.select("instrument", "subscale", "baseline_score"))
    parameters = program_parameters(in_use, pl.concat(baselines), item_sums, settings.instruments, settings.outcomes)
    del baselines
    build.write_table("marts.outcome_parameters", parameters)
    cohorts, therapies = [], []
    for position, batch in enumerate(batches):
        outcomes = classified_outcomes(rows(*batch), parameters)
        build.write_table("marts.participant_outcomes", outcomes, first_batch=position == 0)
        cohorts.append(cohort_parts(outcomes))
        therapies.append(therapy_counts(outcomes))
    build.write_table("marts.cohort_outcomes", pooled_cohort_outcomes(pl.concat(cohorts)))
    build.write_table("marts.talking_therapies", therapy_rates(pl.concat(therapies)))
    return parameters


def headline_in_batches(build: WarehouseBuild, settings: Settings, parameters: pl.DataFrame, batches: list) -> None:
    """marts.itt_outcomes, marts.alerts and marts.dose_response, from the headline measure's scores and the
    weekly practice a batch of participants at a time (`batches` of everyone).

    The two models are fitted on a seeded sample of participants (transforms/mixed_models.py), drawn from the
    participants each reads, so the sample's rows alone give the fit all rows give. Everything else is per
    participant: each one's sums for the intent-to-treat estimate, their practice and change for dose–response
    (one row each, kept until the end), their alerts (written batch by batch)."""
    itt_people, sums, trajectory_people, changes = [], [], [], []
    for batch in batches:
        scores, participants, outcomes = _headline_rows(build, BETWEEN, list(batch))
        itt = itt_scores(scores, participants, *HEADLINE, settings.windows).drop_nulls("score")
        itt_people.append(itt.select("participant_id").unique())
        sums.append(person_sums(itt, by=GROUP_COLUMNS))
        history = trajectory_history(headline_scores(scores, outcomes, *HEADLINE)).filter(pl.col("week") >= 0)
        trajectory_people.append(history.select("participant_id").unique())
        engagement = build.frame(
            f"SELECT * FROM marts.exercise_engagement {BETWEEN} ORDER BY participant_id, week", list(batch)
        )
        changes.append(practice_and_change(engagement, outcomes))
    in_sample = "WHERE participant_id IN (SELECT unnest(?::VARCHAR[]))"
    sample = sampled_participants(pl.concat(itt_people))["participant_id"].to_list()
    scores, participants, _outcomes = _headline_rows(build, in_sample, [sample])
    components = fit_variance_components(itt_scores(scores, participants, *HEADLINE, settings.windows))
    build.write_table("marts.itt_outcomes", itt_outcomes(components, pl.concat(sums), *HEADLINE, settings.windows))
    del itt_people, sums  # everyone's rows, not needed again: room for the trajectory's sample
    sample = sampled_participants(pl.concat(trajectory_people))["participant_id"].to_list()
    scores, _participants, outcomes = _headline_rows(build, in_sample, [sample])
    trajectory = fit_expected_trajectory(trajectory_history(headline_scores(scores, outcomes, *HEADLINE)))
    min_change = min_reliable_change(parameters, *HEADLINE)
    for position, batch in enumerate(batches):
        scores, _participants, outcomes = _headline_rows(build, BETWEEN, list(batch))
        alerts = not_on_track_alerts(headline_scores(scores, outcomes, *HEADLINE), trajectory, min_change)
        build.write_table("marts.alerts", alerts, first_batch=position == 0)
    build.write_table("marts.dose_response", dose_response_of(pl.concat(changes)))


def _headline_rows(
    build: WarehouseBuild, where: str, parameters: list
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Some participants' scores of the headline measure in time order, their roster rows and outcome rows."""
    scores = build.frame(
        f"SELECT * FROM marts.assessments {where} AND instrument = ? AND subscale = ? "
        "ORDER BY participant_id, completed_at, score",
        [*parameters, *HEADLINE],
    )
    participants = build.frame(f"SELECT * FROM marts.participants {where} ORDER BY participant_id", parameters)
    outcomes = build.frame(f"SELECT * FROM marts.participant_outcomes {where}", parameters)
    return scores, participants, outcomes


def score_in_batches(build: WarehouseBuild, settings: Settings) -> None:
    """Build marts.assessments and marts.baselines_endpoints a batch of participants at a time.

    The participants in `rebuild` come in ranges of consecutive ids, so that only one batch's administrations and
    scores are in memory (bench/README.md, "One million participants (issue #19)"). Each participant's rows depend
    only on their own, so the batches give the rows one pass over everyone would."""
    in_batch = f"{BETWEEN} AND {IN_REBUILD}"
    for position, (first, last) in enumerate(build.rebuild_batches(PARTICIPANTS_PER_BATCH)):
        scored = assessments(
            build.frame(f"SELECT * FROM marts.administrations {in_batch}", [first, last]),
            build.frame(f"SELECT * FROM marts.scored_results {in_batch}", [first, last]),
            build.frame(f"SELECT * FROM marts.participants {in_batch}", [first, last]),
            settings.instruments,
        )
        build.rebuild_rows("marts.assessments", scored, first_batch=position == 0)
        chosen = select_baseline_and_endpoint(scored, settings.windows)
        build.rebuild_rows("marts.baselines_endpoints", chosen, first_batch=position == 0)


def validate_marts(build: WarehouseBuild) -> list[SuiteResult]:
    """Every mart against its suite; the results are recorded whether they pass or not. A participant mart is
    checked on the rows this refresh rebuilt, and participant_outcomes on everyone's, a batch of participants at a
    time: their rules relate a row only to rows of the same participant. One result is recorded per mart."""
    results = []
    for table in MART_SUITES:
        result = merged_result([validate_mart(table, batch) for batch in _mart_batches(build, table)])
        build.record_validation(result)
        results.append(result)
    return results


def _mart_batches(build: WarehouseBuild, table: str) -> Iterator[pl.DataFrame]:
    """The rows of a mart its suite checks, a batch of participants at a time (a program-wide mart whole); rows
    without a participant come with the first batch."""
    if f"marts.{table}" in PARTICIPANT_MARTS:
        batches, rebuilt_only = build.rebuild_batches(PARTICIPANTS_PER_BATCH), f" AND {IN_REBUILD}"
    elif "participant_id" in build.frame(f"SELECT * FROM marts.{table} LIMIT 0").columns:
        batches, rebuilt_only = build.rebuild_batches(PARTICIPANTS_PER_BATCH, among=f"marts.{table}"), ""
    else:
        yield build.frame(f"SELECT * FROM marts.{table}")
        return
    for position, (first, last) in enumerate(batches):
        yield build.frame(
            f"SELECT * FROM marts.{table} WHERE (participant_id BETWEEN ? AND ? OR (participant_id IS NULL AND ?))"
            f"{rebuilt_only}",
            [first, last, position == 0],
        )
