"""`securebase refresh` without PREFECT_API_URL: a temporary Prefect server on loopback records the run, and stops."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def refresh_without_api(tmp_path: Path) -> tuple[list, dict]:
    """The command and environment of a refresh with no Prefect API configured and its own Prefect home."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    command = [Path(sys.executable).with_name("securebase"), "refresh", "--inbox", SAMPLE_DATA]
    command += ["--warehouse", tmp_path / "w.duckdb", "--as-of", str(SAMPLE_AS_OF)]
    return command, env


def test_a_refresh_without_an_api_runs_against_a_temporary_server_that_records_it_and_stops(tmp_path):
    prefect_home = tmp_path / "prefect-home"
    command, env = refresh_without_api(tmp_path)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert "files loaded 5" in result.stdout
    assert "Error logging to API" not in result.stderr and "Traceback" not in result.stderr
    with sqlite3.connect(prefect_home / "prefect.db") as db:
        [(flow, state)] = db.execute("SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id")
        [(logs,)] = db.execute("SELECT count(*) FROM log")
        [(heartbeats,)] = db.execute("SELECT count(*) FROM events WHERE event = 'prefect.flow-run.heartbeat'")
    assert (flow, state) == ("securebase-refresh", "COMPLETED")
    assert logs > 0  # the run's logs reached the server before it stopped
    assert heartbeats == 0  # nothing outlives a temporary server to watch for them
    assert processes_with_home(prefect_home) == []


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_refresh_stopped_or_killed_stops_its_server_and_publishes_nothing(tmp_path, stop):
    command, env = refresh_without_api(tmp_path)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    building = tmp_path / "w.duckdb.next"  # the flow has started and the server is up
    deadline = time.monotonic() + 120
    while not building.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert building.exists(), "the refresh never started building"
    process.send_signal(stop)
    assert process.wait(timeout=60) != 0
    assert not (tmp_path / "w.duckdb").exists()  # a leftover .next is removed by the next refresh (test_kill)
    deadline = time.monotonic() + 20  # SIGKILL: the kernel sends the orphaned server SIGTERM, and it shuts down
    while processes_with_home(tmp_path / "prefect-home") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with_home(tmp_path / "prefect-home") == []


def test_an_api_named_only_by_the_prefect_profile_is_used_and_no_server_is_left_running(tmp_path):
    prefect_home = tmp_path / "prefect-home"
    prefect_home.mkdir()
    (prefect_home / "profiles.toml").write_text(
        'active = "network"\n\n[profiles.network]\nPREFECT_API_URL = "http://127.0.0.1:9/api"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(prefect_home)}
    code = "from pipelines.prefect_api import prefect_api\nwith prefect_api() as api:\n    print(api.url, api.process)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["http://127.0.0.1:9/api", "None"]
    assert processes_with_home(prefect_home) == []
