"""The nightly refresh: ingest → validate → build staging → build marts → publish.

The flow body is the table of contents; the work is in stages.py (I/O glue) and transforms/ (logic).
Tasks retry only where I/O can fail: reading an inbox file.
"""

import atexit
import gc
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from pipelines import stages
from pipelines.inbox import list_inbox
from pipelines.notify import failure_kind, failure_reason, notify
from pipelines.report import write_report
from pipelines.sources import source_settings
from pipelines.validation import RunParameters
from pipelines.warehouse import MartCheckFailed, WarehouseBuild, refresh_lock
from securebase.attempts import record_failure
from securebase.settings import Settings, SettingsError, load_settings

# A refresh process (the command line's, or the one a served run spawns) ends soon after its flow. Freezing the heap
# at exit spares the interpreter's final garbage collection over everything Prefect, Great Expectations and the
# transforms loaded: about 0.9 s of every refresh (bench/probes/refresh_timeline.py). It skips only that collection:
# exit handlers still run, and objects are still freed as their last reference goes.
atexit.register(gc.freeze)


@dataclass(frozen=True)
class RefreshSummary:
    refresh_id: int
    as_of_date: date
    files_loaded: int
    files_rejected: int
    files_duplicate: int
    rows_loaded: int
    rows_quarantined: int
    rows_released: int

    def one_line(self) -> str:
        return (
            f"refresh {self.refresh_id} as of {self.as_of_date}: files loaded {self.files_loaded}, "
            f"rejected {self.files_rejected}, duplicate {self.files_duplicate}; rows loaded {self.rows_loaded}, "
            f"quarantined {self.rows_quarantined}, released {self.rows_released}"
        )

    def markdown(self) -> str:
        rows = "\n".join(f"| {name.replace('_', ' ')} | {value} |" for name, value in asdict(self).items())
        return f"# securebase refresh\n\n| | |\n|---|---|\n{rows}\n"


find_new_files = task(stages.new_files, name="find new files", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
examine_file = task(stages.examine_file, name="examine file", cache_policy=NO_CACHE)
store_file = task(stages.store_file, name="store file", cache_policy=NO_CACHE)
build_marts = task(stages.build_marts, name="build marts", cache_policy=NO_CACHE)
check_marts = task(stages.validate_marts, name="check marts", cache_policy=NO_CACHE)


class Stopwatch:
    """Seconds spent in each named stage, recorded in ops.refreshes for operators and the benchmark."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start


def today_in(timezone_name: str) -> date:
    return datetime.now(ZoneInfo(timezone_name)).date()


@flow(name="securebase-refresh", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=1))
def refresh(
    inbox: Path, warehouse: Path, config: Path | None = None, as_of: date | None = None, files_at_once: int = 1
) -> RefreshSummary:
    """One nightly refresh of `warehouse` from the files of `inbox` (CONTRACT.md §1).

    New files are examined (read, screened, typed, validated) by the flow's task runner, up to `files_at_once` of
    them at a time (each holds its rows in memory until stored): by default one thread of this process, so one
    file at a time, or the workers of a cluster with `refresh.with_options(task_runner=DaskTaskRunner(...))`.
    Only this process writes the warehouse, one file at a time in inbox order. The `[notify] webhook` hears of a
    failure, and of a publish when asked (pipelines/notify.py)."""
    if files_at_once < 1:
        raise ValueError(f"files_at_once must be at least 1, got {files_at_once}")
    warehouse = Path(warehouse).resolve()  # one lock and one rename target, whatever name the file is reached by
    try:
        settings = load_settings(config)
    except SettingsError as error:
        record_attempt(warehouse, error, as_of)
        raise
    as_of = as_of or today_in(settings.timezone)
    try:
        summary = publish_refresh(Path(inbox), warehouse, settings, as_of, files_at_once)
    except Exception as error:
        record_attempt(warehouse, error, as_of)
        tell_a_person(settings, warehouse, error=error)
        raise
    create_markdown_artifact(key="refresh-summary", markdown=summary.markdown(), description=summary.one_line())
    tell_a_person(settings, warehouse, summary=summary)
    return summary


def record_attempt(warehouse: Path, error: BaseException, as_of: date | None) -> None:
    """A refresh that published nothing, beside the warehouse for the dashboard (securebase/attempts.py); a record
    that cannot be written is logged, and the refresh's own failure is raised all the same."""
    try:
        record_failure(warehouse, failure_kind(error), failure_reason(error), as_of)
    except OSError as problem:
        get_run_logger().warning(f"could not record the failed refresh beside the warehouse: {problem}")


def tell_a_person(settings: Settings, warehouse: Path, **outcome) -> None:
    """The webhook's message; a webhook that cannot be reached is logged (and recorded by `notify`), nothing more."""
    problem = notify(settings, warehouse, **outcome)
    if problem:
        get_run_logger().warning(problem)


def publish_refresh(
    inbox: Path, warehouse: Path, settings: Settings, as_of: date, files_at_once: int
) -> RefreshSummary:
    """The refresh itself, in the flow's run: ingest, build, check, and publish under the warehouse's lock."""
    run = RunParameters(as_of, settings.timezone, settings.instruments)
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox {inbox} is not a folder")
    started_at, clock = datetime.now(UTC), Stopwatch()
    inbox_files = list_inbox(Path(inbox))
    sources = source_settings(settings, inbox_files)  # a source file needs the pseudonymisation key: checked first

    with refresh_lock(warehouse):
        with clock("open"):
            build = WarehouseBuild(warehouse, settings.timezone, settings.memory_limit, settings.temp_directory)
        try:
            print(build.memory_note())
            with clock("ingest"):
                planned = find_new_files(build, inbox_files)
                # examined side by side by the flow's task runner; stored one by one, in inbox order
                waiting = iter(planned)
                examining = deque(examine_file.submit(file, run, sources) for file in islice(waiting, files_at_once))
                results = []
                while examining:
                    results.append(store_file(build, examining.popleft().result()))
                    print(f"[{len(results)}/{len(planned)}] {results[-1].progress_line()}")
                    examining.extend(examine_file.submit(file, run, sources) for file in islice(waiting, 1))
            with clock("marts"):
                rebuilt, released = build_marts(build, settings, as_of)
            counts = build.settle_file_counts()
            with clock("mart checks"):
                failing_marts = [r for r in check_marts(build) if r.failed]
            summary = RefreshSummary(
                refresh_id=build.refresh_id,
                as_of_date=as_of,
                files_loaded=sum(r.status == "loaded" for r in results),
                files_rejected=sum(r.status == "rejected" for r in results),
                files_duplicate=sum(r.status == "duplicate" for r in results),
                rows_loaded=counts["rows_loaded"],
                rows_quarantined=counts["rows_quarantined"],
                rows_released=released,
            )
            build.record_refresh(
                started_at=started_at,
                finished_at=datetime.now(UTC),
                timezone=settings.timezone,
                status="blocked" if failing_marts else "published",
                open_seconds=clock.seconds["open"],
                ingest_seconds=clock.seconds["ingest"],
                validation_seconds=sum(r.validation_seconds for r in results),
                mart_check_seconds=clock.seconds["mart checks"],
                marts_seconds=clock.seconds["marts"],
                participants_rebuilt=rebuilt,
                **{k: v for k, v in asdict(summary).items() if k != "refresh_id"},
            )
            report = write_report(build, warehouse)
            if failing_marts:
                raise MartCheckFailed(f"{failing_marts[0].describe_first_failure()}; report: {report}")
            build.publish()
        except BaseException:
            build.discard()
            raise
    return summary
