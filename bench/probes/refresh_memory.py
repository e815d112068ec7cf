"""Where a refresh's resident memory goes, step by step (bench/README.md, "One million participants (issue #19)").

    PYTHONPATH=. .venv/bin/python bench/probes/refresh_memory.py INBOX [WAREHOUSE] [--config FILE]

Refreshes INBOX into WAREHOUSE (default: a new one in a temporary folder) as of 2026-07-20, in this process, by the
real flow against Prefect's temporary server, as `securebase refresh` does. A thread reads the process's resident
memory (VmRSS) every 50 ms, and each stage and each step of the marts stage notes when it starts and ends. Printed:
each step's seconds, its resident memory at its start and end and the highest seen during it (a step inside
another is indented), then the process's peak (`ru_maxrss`, which no sampling can miss).
"""

import functools
import resource
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from securebase.settings import offline_environment

offline_environment()
from pipelines import stages  # noqa: E402
from pipelines.warehouse import WarehouseBuild  # noqa: E402

PAGE = "VmRSS:"
samples: list[tuple[float, int]] = []  # (seconds, resident KiB)
steps: list[list] = []  # [label, depth, started, ended, resident KiB at start, at end]
depth = threading.local()


def resident_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(PAGE))


def sample(stop: threading.Event) -> None:
    while not stop.is_set():
        samples.append((time.perf_counter(), resident_kib()))
        stop.wait(0.05)


def noted(owner, name: str, label) -> None:
    """Replace `owner.name` by a version that notes when it starts and ends (before the flow wraps it in a task)."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        level = getattr(depth, "level", 0)
        step = [label(args), level, time.perf_counter(), None, resident_kib(), None]
        steps.append(step)
        depth.level = level + 1
        try:
            return original(*args, **kwargs)
        finally:
            depth.level = level
            step[3], step[5] = time.perf_counter(), resident_kib()

    setattr(owner, name, wrapper)


def file_name(args) -> str:
    return args[0].inbox_file.file_name if hasattr(args[0], "inbox_file") else args[1].planned.inbox_file.file_name


noted(stages, "examine_file", lambda args: f"examine {file_name(args)}")
noted(stages, "store_file", lambda args: f"store {file_name(args)}")
for name in ("read_table", "stage_rows", "row_failures"):
    noted(stages, name, lambda _args, n=name: n)
noted(stages, "build_marts", lambda _args: "build marts")
noted(stages, "validate_marts", lambda _args: "check marts")
for name in (
    "assessments",
    "select_baseline_and_endpoint",
    "outcomes_in_batches",
    "outcome_rows",
    "complete_baseline_sums",
    "program_parameters",
    "classified_outcomes",
    "cohort_parts",
    "pooled_cohort_outcomes",
    "therapy_counts",
    "therapy_rates",
    "headline_in_batches",
    "itt_scores",
    "person_sums",
    "fit_variance_components",
    "itt_outcomes",
    "fit_expected_trajectory",
    "not_on_track_alerts",
    "practice_and_change",
    "dose_response_of",
    "exercise_effects",
    "validate_mart",
):
    noted(stages, name, lambda args, n=name: n if n != "validate_mart" else f"check {args[0]}")
noted(WarehouseBuild, "frame", lambda args: f"read {' '.join(args[1].split())[:70]}")
noted(WarehouseBuild, "_rebuild_rows", lambda args: f"rebuild {args[1]}")
noted(WarehouseBuild, "write_table", lambda args: f"write {args[1]}")
for name in ("reconcile_relational_failures", "release_rows_now_due", "choose_rebuild", "publish"):
    noted(WarehouseBuild, name, lambda _args, n=name: n.replace("_", " "))


def report(started: float) -> None:
    """Each step: seconds, resident MiB at start → end, and the highest sample during it."""
    for label, level, begun, ended, start, end in steps:
        during = [start, end] + [kib for moment, kib in samples if begun <= moment <= ended]
        print(
            f"{begun - started:7.2f} s {ended - begun:6.2f} s {start / 1024:6.0f} → {end / 1024:6.0f} MiB, "
            f"highest {max(during) / 1024:6.0f} MiB  {'  ' * level}{label}"
        )
    print(f"peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def main() -> None:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    config = Path(sys.argv[sys.argv.index("--config") + 1]) if "--config" in sys.argv else None
    arguments = [a for a in arguments if config is None or a != str(config)]
    from pipelines.prefect_api import prefect_api

    stop = threading.Event()
    threading.Thread(target=sample, args=(stop,), daemon=True).start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, prefect_api() as api:
        from pipelines.flows import refresh
        from pipelines.validation import batch_definition

        batch_definition()
        api.ready()
        warehouse = Path(arguments[1]) if len(arguments) > 1 else Path(folder) / "warehouse.duckdb"
        refresh(inbox=Path(arguments[0]), warehouse=warehouse, config=config, as_of=date(2026, 7, 20))
    stop.set()
    report(started)


if __name__ == "__main__":
    main()
