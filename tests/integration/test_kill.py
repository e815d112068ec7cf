"""A refresh killed with SIGKILL at any moment leaves the published warehouse as it was, and the next completes."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.flows import refresh
from pipelines.generate import SAMPLE_AS_OF, generate

SECUREBASE = Path(sys.executable).with_name("securebase")


def outcomes(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT * FROM marts.participant_outcomes ORDER BY ALL").fetchall()


@pytest.fixture
def half_published(prefect_server, tmp_path):
    """A warehouse published from part of an export; the rest of the export is waiting in the inbox."""
    export, inbox = tmp_path / "export", tmp_path / "inbox"
    generate(export, participants=1500, seed=8)
    inbox.mkdir()
    for name in ("participants.csv", "questionnaires_rses.parquet"):
        shutil.copy(export / name, inbox / name)
    warehouse = tmp_path / "warehouse.duckdb"
    refresh(inbox=inbox, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    for path in export.iterdir():
        shutil.copy(path, inbox / path.name)
    return inbox, warehouse


@pytest.mark.parametrize("seconds_after_build_starts", [0.0, 0.3, 1.0, 2.0, 3.5])
def test_sigkill_leaves_the_old_warehouse_or_the_complete_new_one(half_published, seconds_after_build_starts, tmp_path):
    from prefect.settings import PREFECT_API_URL

    inbox, warehouse = half_published
    before = warehouse.read_bytes()
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    command = [SECUREBASE, "refresh", "--inbox", inbox, "--warehouse", warehouse, "--as-of", str(SAMPLE_AS_OF)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    next_file = warehouse.with_name(warehouse.name + ".next")
    deadline = time.monotonic() + 60
    while not next_file.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(seconds_after_build_starts)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode in (-signal.SIGKILL, 0)  # a late kill may find the refresh already finished

    with duckdb.connect(str(warehouse), read_only=True) as con:
        files, refreshes = con.execute(
            "SELECT (SELECT count(*) FROM ops.files), (SELECT count(*) FROM ops.refreshes WHERE status = 'published')"
        ).fetchall()[0]
    if warehouse.read_bytes() == before:
        assert (files, refreshes) == (2, 1)  # killed while building: the old warehouse, byte for byte
    else:
        assert (files, refreshes) == (5, 2)  # killed after the rename: the complete new warehouse

    summary = refresh(inbox=inbox, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    assert summary.files_loaded == 5 - files
    clean = tmp_path / "clean.duckdb"
    refresh(inbox=inbox, warehouse=clean, as_of=SAMPLE_AS_OF)
    assert outcomes(warehouse) == outcomes(clean)
