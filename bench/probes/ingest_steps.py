"""Seconds of each step of ingesting an inbox, file by file, without Prefect (bench/README.md, "Where the
refresh's goals are still missed").

    .venv/bin/python bench/probes/ingest_steps.py [bench/results/100000/inbox]

Reads, screens, stages, validates and stores every file of the inbox (its `*_increment*` files left out, so the
figures are the full refresh's) into a temporary warehouse, and prints each step's seconds per file.
"""

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pipelines import stages
from pipelines.inbox import list_inbox
from pipelines.validation import RunParameters, batch_definition
from pipelines.warehouse import WarehouseBuild
from securebase.settings import load_settings

STEPS = {
    "read": (stages, "read_table"),
    "screen": (stages, "rejection_reason"),
    "stage": (stages, "stage_rows"),
    "validate": (stages, "row_failures"),
    "store": (WarehouseBuild, "store_rows"),
}
seconds: dict[str, float] = {}


def timed(step: str, function):
    def wrapper(*arguments, **keywords):
        started = time.perf_counter()
        try:
            return function(*arguments, **keywords)
        finally:
            seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - started

    return wrapper


for step, (owner, name) in STEPS.items():
    setattr(owner, name, timed(step, getattr(owner, name)))

inbox = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/100000/inbox")
settings = load_settings(None)
run = RunParameters(date(2026, 7, 20), settings.timezone, settings.instruments)
batch_definition()  # Great Expectations' start-up, outside the figures
with tempfile.TemporaryDirectory() as folder:
    build = WarehouseBuild(Path(folder) / "warehouse.duckdb", settings.timezone)
    files = [f for f in list_inbox(inbox) if "_increment" not in f.file_name]
    for planned in stages.new_files(build, files):
        seconds.clear()
        examined = stages.examine_file(planned, run)
        stages.store_file(build, examined)
        steps = ", ".join(f"{step} {seconds.get(step, 0.0):.2f} s" for step in STEPS)
        print(f"{planned.inbox_file.file_name}: {examined.rows_read:,} rows; {steps}")
    build.discard()
