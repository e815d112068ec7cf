"""Profile one refresh's stages in-process (no Prefect), file by file, with cProfile.

    .venv/bin/python bench/profile_stages.py bench/results/100000/inbox    # after a benchmark run

Prints each file's ingest and validation seconds, the marts and mart-check seconds, the peak memory, and the
35 most expensive calls by cumulative time. The warehouse is built in a temporary folder and discarded.
"""

import cProfile
import pstats
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pipelines import stages
from pipelines.inbox import list_inbox
from pipelines.validation import RunParameters
from pipelines.warehouse import WarehouseBuild
from securebase.settings import load_settings


def peak_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main(inbox: Path, as_of: date = date(2026, 7, 20)) -> None:
    settings = load_settings(None)
    run = RunParameters(as_of, settings.timezone, settings.instruments)
    with tempfile.TemporaryDirectory() as folder:
        build = WarehouseBuild(Path(folder) / "warehouse.duckdb", settings.timezone)
        profile = cProfile.Profile()
        profile.enable()
        for planned in stages.new_files(build, list_inbox(inbox)):
            started = time.perf_counter()
            result = stages.store_file(build, stages.examine_file(planned, run))
            print(
                f"{planned.inbox_file.file_name}: {time.perf_counter() - started:.2f} s "
                f"(validation {result.validation_seconds:.2f} s), peak so far {peak_mib()} MiB"
            )
        for name, stage in (
            ("marts", lambda: stages.build_marts(build, settings, as_of)),
            ("mart checks", lambda: stages.validate_marts(build)),
        ):
            started = time.perf_counter()
            stage()
            print(f"{name}: {time.perf_counter() - started:.2f} s, peak so far {peak_mib()} MiB")
        profile.disable()
        build.discard()
    print(f"peak memory: {peak_mib()} MiB")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
