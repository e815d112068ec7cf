"""`securebase refresh` without PREFECT_API_URL: a temporary Prefect server on loopback records the run, and stops."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from pipelines.generate import SAMPLE_AS_OF

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def processes_with_home(prefect_home: Path) -> list[int]:
    """Processes still running with this PREFECT_HOME in their environment."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if f"PREFECT_HOME={prefect_home}".encode() in environment:
            found.append(int(entry.name))
    return found


def test_a_refresh_without_an_api_runs_against_a_temporary_server_that_records_it_and_stops(tmp_path):
    prefect_home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(prefect_home)}
    command = [Path(sys.executable).with_name("securebase"), "refresh", "--inbox", SAMPLE_DATA]
    command += ["--warehouse", tmp_path / "w.duckdb", "--as-of", str(SAMPLE_AS_OF)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert "files loaded 5" in result.stdout
    assert "Error logging to API" not in result.stderr and "Traceback" not in result.stderr
    with sqlite3.connect(prefect_home / "prefect.db") as db:
        [(flow, state)] = db.execute("SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id")
        [(logs,)] = db.execute("SELECT count(*) FROM log")
    assert (flow, state) == ("securebase-refresh", "COMPLETED")
    assert logs > 0  # the run's logs reached the server before it stopped
    assert processes_with_home(prefect_home) == []
