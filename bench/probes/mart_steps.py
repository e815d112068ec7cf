"""Seconds of each step of the marts stage, as a night's refresh runs it (bench/HISTORY.md, "Session 3").

    .venv/bin/python bench/probes/mart_steps.py [bench/results/100000/warehouse.duckdb] [--full]

Works on a temporary copy of a benchmark warehouse after its increment: the files of the last refresh are handed
to a new one, so the marts stage rebuilds the participants they name, as that night did (with --full, everyone, as
after a change of settings or code). Prints each SQL model, transform, read and write, then the mart checks.
"""

import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from pipelines import stages
from pipelines.warehouse import WarehouseBuild
from securebase.settings import load_settings

arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
published = Path(arguments[0] if arguments else "bench/results/100000/warehouse.duckdb")
settings = load_settings(None)


def timed(owner, name: str, label) -> None:
    """Replace `owner.name` by a version that prints its seconds."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        result = original(*args, **kwargs)
        print(f"  {label(args)}: {time.perf_counter() - started:.2f} s")
        return result

    setattr(owner, name, wrapper)


for transform in ("assessments", "select_baseline_and_endpoint", "participant_outcomes", "cohort_outcomes"):
    timed(stages, transform, lambda _args, t=transform: t)
for transform in ("talking_therapies", "intent_to_treat", "program_alerts", "exercise_effects", "dose_response"):
    timed(stages, transform, lambda _args, t=transform: t)
timed(WarehouseBuild, "_rebuild_rows", lambda args: f"rebuild {args[1]}")
timed(WarehouseBuild, "write_table", lambda args: f"write {args[1]}")
timed(WarehouseBuild, "frame", lambda args: f"read {' '.join(args[1].split())[:60]}")
timed(WarehouseBuild, "reconcile_relational_failures", lambda _args: "relational rules")

with tempfile.TemporaryDirectory() as folder:
    copy = Path(folder) / "warehouse.duckdb"
    shutil.copy(published, copy)
    with duckdb.connect(str(copy)) as con:
        last = con.execute("SELECT max(refresh_id) FROM ops.refreshes").fetchall()[0][0]
        con.execute("UPDATE ops.files SET refresh_id = ? WHERE refresh_id = ?", [last + 1, last])
        digest = None if "--full" in sys.argv else stages.marts_digest(settings)
        con.execute("UPDATE ops.refreshes SET marts_digest = ?", [digest])
    build = WarehouseBuild(copy, settings.timezone)
    try:
        started = time.perf_counter()
        rebuilt, _released = stages.build_marts(build, settings, date(2026, 7, 20))
        print(f"marts: {time.perf_counter() - started:.2f} s for {rebuilt:,} participants rebuilt")
        stages.validate_marts(build)  # once, to start Great Expectations
        started = time.perf_counter()
        stages.validate_marts(build)
        print(f"mart checks: {time.perf_counter() - started:.2f} s")
    finally:
        build.discard()
