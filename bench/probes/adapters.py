"""Adapting a REDCap or FHIR export against reading the same program's native files (bench/README.md, "Adapters").

    .venv/bin/python bench/probes/adapters.py [participants, default 2000]

Simulates the benchmark's program at that size (seed 7), writes it three ways into a temporary folder (native
roster and questionnaire files; a REDCap export; EpisodeOfCare and QuestionnaireResponse NDJSON) and times, for each,
reading the files and typing them with the staging models (`read_table` or `adapt_file`, then `stage_rows`): the
goal is adapting at most 2 × the native read + stage time for the same administrations at 100,000 participants.
"""

import sys
import tempfile
import time
from pathlib import Path

from pipelines.generate import DEFAULT_START, export_files, simulate
from pipelines.generate_sources import write_source_export
from pipelines.inbox import list_inbox, read_table
from pipelines.sources import adapt_file, source_settings
from pipelines.warehouse import stage_rows
from securebase.settings import load_settings

participants = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
settings = load_settings(None)
program = simulate(participants, 7, DEFAULT_START)
administrations = sum(frame.height for frame in program.questionnaires.values())


def native_seconds(inbox: Path) -> float:
    started = time.perf_counter()
    for inbox_file in list_inbox(inbox):
        if inbox_file.dataset in ("participants", "questionnaires"):
            stage_rows(inbox_file.dataset, read_table(inbox_file), settings.timezone)
    return time.perf_counter() - started


def adapted_seconds(inbox: Path, config: Path) -> float:
    run_settings = load_settings(config)
    files = [f for f in list_inbox(inbox) if f.dataset in ("redcap", "fhir")]
    sources = source_settings(run_settings, files)
    started = time.perf_counter()
    for inbox_file in files:
        parts, _note = adapt_file(inbox_file, sources)
        for part in parts:
            stage_rows(part.dataset, part.rows, settings.timezone)
    return time.perf_counter() - started


with tempfile.TemporaryDirectory() as folder:
    native = Path(folder) / "native"
    native.mkdir()
    for name, data in export_files(program).items():
        (native / name).write_bytes(data)
    baseline = native_seconds(native)
    print(f"{participants:,} participants, {administrations:,} administrations")
    print(f"native  read + stage {baseline:7.2f} s")
    for source in ("redcap", "fhir"):
        inbox = Path(folder) / source
        config = write_source_export(inbox, program, source)
        seconds = adapted_seconds(inbox, config)
        print(f"{source:<7} read + adapt + stage {seconds:7.2f} s  ({seconds / baseline:.2f} × native; goal ≤ 2)")
