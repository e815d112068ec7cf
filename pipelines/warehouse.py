"""The only module that writes DuckDB.

A refresh never writes the published warehouse in place: it copies it to `<warehouse>.next`, loads and
builds there, and publishes with one `os.replace`. A reader sees the old file or the new one, never a half-built
one; a refresh that dies leaves the published file as it was, and the next refresh starts a fresh copy.
Two refreshes cannot build at once: the second fails on the lock with a clear message.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from securebase.layout import SCHEMA_VERSION
from securebase.settings import DEFAULT_MEMORY_LIMIT
from transforms.datasets import DATASETS, ITEM_COLUMN

SQL_DIR = resources.files("transforms") / "sql"  # package data: wherever securebase is installed


SCHEMA = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS quality;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.files (
    file_number INTEGER PRIMARY KEY, file_name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, dataset VARCHAR,
    status VARCHAR NOT NULL, reason VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
    received_at TIMESTAMPTZ NOT NULL, refresh_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.refreshes (
    refresh_id INTEGER PRIMARY KEY, started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ, as_of_date DATE NOT NULL,
    timezone VARCHAR NOT NULL, status VARCHAR NOT NULL, files_loaded INTEGER, files_rejected INTEGER,
    files_duplicate INTEGER, rows_loaded BIGINT, rows_quarantined BIGINT, rows_released BIGINT,
    open_seconds DOUBLE, ingest_seconds DOUBLE, validation_seconds DOUBLE, marts_seconds DOUBLE,
    mart_check_seconds DOUBLE
);
ALTER TABLE ops.refreshes ADD COLUMN IF NOT EXISTS marts_digest VARCHAR;
ALTER TABLE ops.files ADD COLUMN IF NOT EXISTS adapted_as VARCHAR;
ALTER TABLE ops.refreshes ADD COLUMN IF NOT EXISTS participants_rebuilt BIGINT;
ALTER TABLE ops.refreshes ADD COLUMN IF NOT EXISTS schema_version INTEGER;
CREATE TABLE IF NOT EXISTS ops.alerts_seen (  -- when each alert of marts.alerts first appeared
    participant_id VARCHAR NOT NULL, completed_date DATE NOT NULL, rule VARCHAR NOT NULL,
    first_refresh_id INTEGER NOT NULL, PRIMARY KEY (participant_id, completed_date, rule)
);
CREATE TABLE IF NOT EXISTS quality.quarantine (
    file_number INTEGER NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT NOT NULL, dataset VARCHAR NOT NULL,
    rule VARCHAR NOT NULL, column_name VARCHAR, detail VARCHAR, first_seen_at TIMESTAMPTZ NOT NULL,
    is_resolved BOOLEAN NOT NULL, resolved_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS quality.validation_runs (
    refresh_id INTEGER NOT NULL, suite VARCHAR NOT NULL, batch VARCHAR NOT NULL, expectations_evaluated INTEGER,
    expectations_failed INTEGER, rows_failed BIGINT, failed_rules VARCHAR[], validated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS raw.participants (
    file_number INTEGER, source_file VARCHAR, source_row BIGINT, participant_id VARCHAR, site_id VARCHAR,
    cohort_id VARCHAR, modality VARCHAR, therapist_id VARCHAR, enrolled_date VARCHAR, ended_date VARCHAR,
    age_band VARCHAR, gender VARCHAR
);
CREATE TABLE IF NOT EXISTS raw.questionnaires (
    file_number INTEGER, source_file VARCHAR, source_row BIGINT, participant_id VARCHAR, instrument VARCHAR,
    completed_at VARCHAR, responses VARCHAR[]
);
CREATE TABLE IF NOT EXISTS raw.scores (
    file_number INTEGER, source_file VARCHAR, source_row BIGINT, participant_id VARCHAR, instrument VARCHAR,
    subscale VARCHAR, completed_at VARCHAR, score VARCHAR
);
CREATE TABLE IF NOT EXISTS raw.exercises (
    file_number INTEGER, source_file VARCHAR, source_row BIGINT, participant_id VARCHAR, started_at VARCHAR,
    exercise VARCHAR, duration_minutes VARCHAR, distress_before VARCHAR, distress_after VARCHAR, is_completed VARCHAR
);
"""

# Helpers the SQL models use: the name of a column whose text did not parse, and a whole number from text
# (DuckDB's own cast would round "5.5" to 6).
MACROS = """
CREATE OR REPLACE TEMP MACRO unparsed(text, value, column_name) AS
    CASE WHEN text IS NOT NULL AND value IS NULL THEN column_name END;
CREATE OR REPLACE TEMP MACRO whole_number(text) AS
    CASE WHEN TRY_CAST(text AS DOUBLE) = round(TRY_CAST(text AS DOUBLE))
         THEN TRY_CAST(TRY_CAST(text AS DOUBLE) AS INTEGER) END;
"""


# The marts of one row per participant or finer, in build order: a refresh rebuilds only the rows of the participants
# in the temporary table `rebuild` (WarehouseBuild.choose_rebuild). The first five are SQL models
# (transforms/sql/marts/), which select those participants' rows themselves; the last two come from the polars
# transforms.
PARTICIPANT_MARTS = (
    "marts.participants",
    "marts.administrations",
    "marts.scored_results",
    "marts.practices",
    "marts.exercise_engagement",
    "marts.assessments",
    "marts.baselines_endpoints",
)
IN_REBUILD = "participant_id IN (SELECT participant_id FROM rebuild)"

# Rules that relate a row to other rows, recomputed for the participants each refresh rebuilds
# (transforms/sql/quality/relational_failures.sql).
RELATIONAL_RULES = ("unknown_participant", "before_enrolment", "conflicting_duplicate")


def _raw_columns(dataset: str, columns: list[str]) -> str:
    """The SELECT list giving a file's text columns the shape of raw.<dataset>: a column the file lacks is null,
    and questionnaire items item_1 … item_N are packed into one list, `responses`, position i holding item i + 1
    (a gap in the file's numbering is a blank)."""
    select = [c if c in columns else f"NULL::VARCHAR AS {c}" for c in (c.name for c in DATASETS[dataset].columns)]
    if DATASETS[dataset].has_items:
        numbers = {int(match.group(1)) for c in columns if (match := ITEM_COLUMN.match(c))}
        items = [f"item_{i}" if i in numbers else "NULL" for i in range(1, max(numbers, default=0) + 1)]
        select.append(f"CAST([{', '.join(items)}] AS VARCHAR[]) AS responses")
    return ", ".join(select)


def stage_rows(dataset: str, rows: pl.DataFrame, timezone_name: str) -> pl.DataFrame:
    """A file's rows (text, with `source_row`) typed by its staging model (transforms/sql/staging/), in a private
    in-memory DuckDB: it needs no warehouse, so any worker can stage a file. `file_number` and `source_file` are
    filled in when the file is stored."""
    with duckdb.connect() as con:
        con.execute(f"SET TimeZone = '{timezone_name}'")
        con.execute(MACROS)
        con.execute("CREATE SCHEMA raw")
        con.register("batch", rows)
        con.execute(
            f"CREATE VIEW raw.{dataset} AS SELECT 0 AS file_number, NULL::VARCHAR AS source_file, source_row, "
            f"{_raw_columns(dataset, rows.columns)} FROM batch"
        )
        return con.sql(sql_model(f"staging/{dataset}")).pl()


class WarehouseLocked(RuntimeError):
    """Another refresh holds the warehouse's lock."""


class MartCheckFailed(RuntimeError):
    """A mart failed its suite: nothing is published and the previous warehouse stays."""


def sql_model(name: str) -> str:
    """The SELECT of a model such as `staging/participants`, one per file under transforms/sql/."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@contextmanager
def refresh_lock(warehouse: Path) -> Iterator[None]:
    """An exclusive lock beside the warehouse; the OS releases it if the process dies. Give the warehouse's resolved
    path, so that every name of one file (a symlink, a relative path) takes the same lock."""
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        os.fchmod(handle.fileno(), stat.S_IMODE(os.fstat(handle.fileno()).st_mode) & ~0o007)  # made before umask 007
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise WarehouseLocked(
                f"another refresh of {warehouse} is running (lock held on {lock_path}); try again when it ends"
            ) from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


SPILL_FILES = "duckdb_temp_"  # how DuckDB names the files it spills


def open_spill_folder(folder: Path) -> None:
    """The folder DuckDB spills into once it reaches its memory limit, made if missing and closed to other users
    (the rows it spills are the program's data), without the spill files of a refresh that died."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o007:
        folder.chmod(mode & ~0o007)
    remove_spill_files(folder)


def remove_spill_files(folder: Path) -> None:
    for leftover in folder.glob(f"{SPILL_FILES}*"):
        leftover.unlink(missing_ok=True)


class WarehouseBuild:
    """The next warehouse, built beside the published one and renamed into place by `publish`.

    DuckDB holds at most `memory_limit` in memory and spills the rest to `temp_directory`; by default a folder
    `<warehouse>.tmp` beside the warehouse, removed again when the build is published or discarded (a folder given
    in the config stays, emptied of DuckDB's files).
    """

    def __init__(
        self,
        published: Path,
        timezone_name: str,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        temp_directory: Path | None = None,
    ):
        self.published = published
        self.next_path = published.with_name(published.name + ".next")
        for leftover in (self.next_path, self.next_path.with_name(self.next_path.name + ".wal")):
            leftover.unlink(missing_ok=True)  # a refresh that died before publishing
        if published.exists():
            shutil.copyfile(published, self.next_path)
        self.spill_folder = temp_directory or published.with_name(published.name + ".tmp")
        self.owns_spill_folder = temp_directory is None
        open_spill_folder(self.spill_folder)
        self.con = duckdb.connect(
            str(self.next_path), config={"memory_limit": memory_limit, "temp_directory": str(self.spill_folder)}
        )
        self.con.execute(f"SET TimeZone = '{timezone_name}'")
        self.con.execute(SCHEMA)
        self.con.execute(MACROS)
        self.con.execute("SET VARIABLE relational_rules = ?", [list(RELATIONAL_RULES)])
        for dataset in DATASETS:
            model = sql_model(f"staging/{dataset}")
            self.con.execute(f"CREATE TABLE IF NOT EXISTS staging.{dataset} AS SELECT * FROM ({model}) LIMIT 0")
        self.refresh_id = self.scalar("SELECT coalesce(max(refresh_id), 0) + 1 FROM ops.refreshes")
        self.marts_digest: str | None = None
        last_zone = self.scalar("SELECT (SELECT timezone FROM ops.refreshes ORDER BY refresh_id DESC LIMIT 1)")
        if last_zone not in (None, timezone_name):
            self.restage_from_raw()

    def restage_from_raw(self) -> None:
        """Every staged row typed anew from raw, in this build's time zone: the program's time zone changed since
        the rows were staged, and a bare date or a time without an offset is an instant only in a time zone (the
        change also changes the marts' digest, so every participant is rebuilt)."""
        for dataset in DATASETS:
            self.con.execute(f"CREATE OR REPLACE TABLE staging.{dataset} AS {sql_model(f'staging/{dataset}')}")

    def memory_note(self) -> str:
        """What DuckDB may hold in memory and where it spills beyond that, as DuckDB itself reads its settings."""
        limit, folder = self.con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchall()[0]
        return f"DuckDB holds at most {limit} in memory and spills to {folder}"

    # -- reading -----------------------------------------------------------------------------------------
    def scalar(self, sql: str, parameters: list | None = None):
        return self.con.execute(sql, parameters or []).fetchall()[0][0]

    def frame(self, sql: str, parameters: list | None = None) -> pl.DataFrame:
        return self.con.sql(sql, params=parameters).pl()

    def seen_files(self) -> pl.DataFrame:
        return self.frame("SELECT file_name, sha256, status FROM ops.files")

    def loaded_file_with(self, sha256: str) -> str | None:
        """The name of a loaded file with these bytes, if any."""
        return self.scalar(
            "SELECT (SELECT file_name FROM ops.files WHERE sha256 = ? AND status = 'loaded' ORDER BY file_number "
            "LIMIT 1)",
            [sha256],
        )

    # -- loading -----------------------------------------------------------------------------------------
    def record_file(self, **row) -> int:
        """Add a row to ops.files and return its file_number."""
        file_number = self.scalar("SELECT coalesce(max(file_number), 0) + 1 FROM ops.files")
        row = {"file_number": file_number, "refresh_id": self.refresh_id, "received_at": datetime.now(UTC), **row}
        columns = ", ".join(row)
        self.con.execute(
            f"INSERT INTO ops.files ({columns}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
        )
        return file_number

    def store_rows(
        self, dataset: str, file_number: int, file_name: str, rows: pl.DataFrame, staged: pl.DataFrame
    ) -> None:
        """Append a file's rows as read (text, with lineage; rejected values already made null) to raw, and as typed
        by `stage_rows` to staging."""
        try:
            self.con.register("batch", rows)
            self.con.register("staged", staged)
            self.con.execute(
                f"INSERT INTO raw.{dataset} BY NAME SELECT ? AS file_number, ? AS source_file, source_row, "
                f"{_raw_columns(dataset, rows.columns)} FROM batch",
                [file_number, file_name],
            )
            self.con.execute(
                f"INSERT INTO staging.{dataset} BY NAME "
                f"SELECT * REPLACE (?::INTEGER AS file_number, ?::VARCHAR AS source_file) FROM staged",
                [file_number, file_name],
            )
        finally:
            for name in ("batch", "staged"):
                self.con.unregister(name)  # a no-op for a name that was never registered

    def quarantine_rows(self, failures: pl.DataFrame) -> None:
        """Append row failures (file_number, source_file, source_row, dataset, rule, column_name, detail)."""
        if failures.is_empty():
            return
        batch = failures.with_columns(  # noqa: F841
            first_seen_at=pl.lit(datetime.now(UTC)), is_resolved=pl.lit(False)
        )
        self.con.execute("INSERT INTO quality.quarantine BY NAME SELECT * FROM batch")

    def record_validation(self, result) -> None:
        """A suite run (pipelines.validation.SuiteResult) in quality.validation_runs: counts and rules only."""
        self.con.execute(
            "INSERT INTO quality.validation_runs VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [
                self.refresh_id,
                result.suite,
                result.batch,
                result.expectations_evaluated,
                len(result.failed),
                sum(f.rows_failed for f in result.failed),
                sorted({f"{f.rule} ({f.column})" for f in result.failed}),
            ],
        )

    def reconcile_relational_failures(self) -> tuple[int, int]:
        """Recompute the held and cross-row failures of the rows of the participants in `rebuild`; return (new,
        released).

        An entry that no longer fails (its participant arrived, its conflicting copy was quarantined for
        another reason) is marked resolved; a new failure is added once.
        """
        self.con.register("current", self.frame(sql_model("quality/relational_failures")))
        rebuilt_rows = " UNION ALL ".join(
            f"SELECT file_number, source_row FROM staging.{dataset} WHERE {IN_REBUILD}"
            for dataset in ("questionnaires", "scores", "exercises")
        )
        open_entries = f"""
            FROM quality.quarantine AS q
            WHERE NOT q.is_resolved AND list_contains(getvariable('relational_rules'), q.rule)
              AND EXISTS (SELECT 1 FROM ({rebuilt_rows}) AS r
                          WHERE r.file_number = q.file_number AND r.source_row = q.source_row)
              AND NOT EXISTS (SELECT 1 FROM current AS c WHERE c.file_number = q.file_number
                              AND c.source_row = q.source_row AND c.rule = q.rule)
        """
        released = self.scalar(f"SELECT count(*) {open_entries}")
        self.con.execute(
            f"UPDATE quality.quarantine SET is_resolved = true, resolved_at = now() "
            f"WHERE rowid IN (SELECT q.rowid {open_entries})"
        )
        new = self.frame(
            """
            SELECT c.* FROM current AS c
            WHERE NOT EXISTS (SELECT 1 FROM quality.quarantine AS q WHERE NOT q.is_resolved
                              AND q.file_number = c.file_number AND q.source_row = c.source_row AND q.rule = c.rule)
            """
        )
        self.con.unregister("current")
        self.quarantine_rows(new)
        return new.height, released

    def settle_file_counts(self) -> dict[str, int]:
        """Set each loaded file's rows_loaded and rows_quarantined from the open quarantine (held rows that
        were released count as loaded); return this refresh's totals."""
        self.con.execute(
            """
            UPDATE ops.files AS f SET rows_quarantined = coalesce(q.n, 0), rows_loaded = f.rows_read - coalesce(q.n, 0)
            FROM (SELECT file_number, count(DISTINCT source_row) AS n FROM quality.quarantine
                  WHERE NOT is_resolved GROUP BY file_number) AS q
            WHERE f.status = 'loaded' AND f.file_number = q.file_number
            """
        )
        self.con.execute(
            """
            UPDATE ops.files SET rows_quarantined = 0, rows_loaded = rows_read
            WHERE status = 'loaded' AND file_number NOT IN
                (SELECT file_number FROM quality.quarantine WHERE NOT is_resolved)
            """
        )
        loaded, quarantined = self.con.execute(
            "SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) FROM ops.files "
            "WHERE refresh_id = ?",
            [self.refresh_id],
        ).fetchall()[0]
        return {"rows_loaded": int(loaded), "rows_quarantined": int(quarantined)}

    # -- building ----------------------------------------------------------------------------------------
    def release_rows_now_due(self, limits: dict[str, tuple[str, str]]) -> tuple[int, list[str]]:
        """Rows an earlier refresh quarantined as `in_future` that this refresh's limits allow (`limits`: per dataset,
        the dated column and the condition its value must meet, pipelines/validation.py `in_future_limits`):
        their entry is resolved, and each loads unless another rule still holds it. Returns (rows released, their
        participants), whose marts this refresh must rebuild."""
        as_number = "floor(epoch({0}) / CASE typeof({0}) WHEN 'DATE' THEN 86400 ELSE 1 END)"  # days, or seconds
        now_due = " UNION ALL ".join(
            f"SELECT file_number, source_row, participant_id FROM staging.{dataset} "
            f"WHERE {as_number.format(column)} {allowed}"
            for dataset, (column, allowed) in limits.items()
        )
        due = f"""
            FROM quality.quarantine AS q JOIN ({now_due}) AS r USING (file_number, source_row)
            WHERE q.rule = 'in_future' AND NOT q.is_resolved
        """
        released = self.con.execute(f"SELECT q.rowid, r.participant_id {due}").fetchall()
        self.con.execute(
            "UPDATE quality.quarantine SET is_resolved = true, resolved_at = now() WHERE list_contains($rows, rowid)",
            {"rows": [row for row, _ in released]},
        )
        return len(released), sorted({participant for _, participant in released if participant is not None})

    def choose_rebuild(self, marts_digest: str, also: list[str] = ()) -> int:
        """Fill the temporary table `rebuild` with the participants whose rows of the participant marts this refresh
        rebuilds, and return how many they are.

        Every participant mart row depends only on its participant's own rows, so only the participants with a row
        in this refresh's files need rebuilding, and those named in `also` (whose rows were released), unless the
        marts were last built by other settings, code or library versions (`marts_digest` differs,
        pipelines/stages.py): then the participant marts are dropped and everyone is rebuilt.
        """
        last_digest = self.scalar("SELECT (SELECT marts_digest FROM ops.refreshes ORDER BY refresh_id DESC LIMIT 1)")
        everyone = last_digest != marts_digest
        self.marts_digest = marts_digest  # recorded with the refresh
        if everyone:
            for table in PARTICIPANT_MARTS:
                self.con.execute(f"DROP TABLE IF EXISTS {table}")
        new_rows = "" if everyone else "AND file_number IN (SELECT file_number FROM ops.files WHERE refresh_id = $id)"
        ids = " UNION ".join(
            f"SELECT participant_id FROM staging.{dataset} WHERE participant_id IS NOT NULL {new_rows}"
            for dataset in DATASETS
        )
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE rebuild AS {ids} UNION SELECT unnest($also::VARCHAR[])",
            {"also": list(also)} | ({} if everyone else {"id": self.refresh_id}),
        )
        return self.scalar("SELECT count(*) FROM rebuild")

    def rebuild_model(self, table: str) -> None:
        """Rebuild the rows of the participants in `rebuild` in `schema.table`, from its SQL model file."""
        schema, name = table.split(".")
        self._rebuild_rows(table, sql_model(f"{schema}/{name}"))

    def rebuild_rows(self, table: str, frame: pl.DataFrame, first_batch: bool = True) -> None:
        """Replace the rows of the participants in `rebuild` in `table` by those of `frame` (computed for them); the
        rows of a later batch of them (`first_batch` false, `rebuild_batches`) join those of the earlier ones."""
        self.con.register("computed", frame)
        try:
            self._rebuild_rows(table, "SELECT * FROM computed", first_batch)
        finally:
            self.con.unregister("computed")

    def _rebuild_rows(self, table: str, select: str, first_batch: bool = True) -> None:
        # the INSERT's own filter guarantees that no other participant's rows are written twice
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM ({select}) LIMIT 0")
        if first_batch:
            self.con.execute(f"DELETE FROM {table} WHERE {IN_REBUILD}")
        self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM ({select}) WHERE {IN_REBUILD}")

    def rebuild_batches(
        self, participants_per_batch: int, among: str = "rebuild"
    ) -> list[tuple[str | None, str | None]]:
        """The participants in `rebuild` (or in the table `among`) in batches of at most `participants_per_batch`
        consecutive ids, in id order, each as its first and last id; one batch of no one, (None, None), when there
        is no one."""
        bounds = self.con.execute(
            "SELECT min(participant_id), max(participant_id) FROM (SELECT participant_id, "
            f"(row_number() OVER (ORDER BY participant_id) - 1) // ? AS batch FROM (SELECT DISTINCT participant_id "
            f"FROM {among} WHERE participant_id IS NOT NULL)) GROUP BY batch ORDER BY batch",
            [participants_per_batch],
        ).fetchall()
        return bounds or [(None, None)]

    def write_table(self, table: str, frame: pl.DataFrame, first_batch: bool = True) -> None:
        """Materialise `schema.table` from a frame computed by a transform; the rows of a later batch of
        participants (`first_batch` false) join those of the earlier ones."""
        if first_batch:
            self.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM frame")
        else:
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")

    def note_alerts_seen(self) -> None:
        """Record the refresh in which each alert of marts.alerts first appeared (an alert seen before keeps its
        first refresh), so that readers can tell the alerts that are new since the last refresh."""
        self.con.execute(
            "INSERT INTO ops.alerts_seen SELECT DISTINCT participant_id, completed_date, rule, ? FROM marts.alerts "
            "ON CONFLICT DO NOTHING",
            [self.refresh_id],
        )

    def record_refresh(self, **row) -> None:
        row = {
            "refresh_id": self.refresh_id,
            "marts_digest": self.marts_digest,
            "schema_version": SCHEMA_VERSION,
            **row,
        }
        self.con.execute(
            f"INSERT OR REPLACE INTO ops.refreshes ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            list(row.values()),
        )

    # -- finishing ---------------------------------------------------------------------------------------
    def publish(self) -> None:
        """Checkpoint, close, make the new file durable, and rename it over the published one."""
        self.con.execute("CHECKPOINT")
        self.close()
        with self.next_path.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.next_path, self.published)
        directory = os.open(self.published.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def discard(self) -> None:
        """Drop the unfinished build; the published warehouse is untouched."""
        try:
            self.close()
        finally:
            self.next_path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the connection, and leave no spill file behind (nor the default spill folder)."""
        try:
            self.con.close()
        finally:
            if self.owns_spill_folder:
                shutil.rmtree(self.spill_folder, ignore_errors=True)
            else:
                remove_spill_files(self.spill_folder)
