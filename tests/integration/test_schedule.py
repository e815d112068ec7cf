"""The nightly deployment on a real Prefect server: served by `securebase serve`, triggered, completed."""

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from pipelines.generate import generate
from pipelines.prefect_api import standing_server

BIN = Path(sys.executable).parent


def wait_until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise TimeoutError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    """`prefect server start` on 127.0.0.1 with its own home; stopped afterwards."""
    environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    with standing_server(tmp_path_factory.mktemp("prefect-server"), environment) as url:
        yield url


def test_serve_registers_a_nightly_schedule_and_a_triggered_run_publishes(prefect_api, tmp_path):
    inbox, warehouse, config = tmp_path / "inbox", tmp_path / "warehouse.duckdb", tmp_path / "program.toml"
    generate(inbox, participants=20, seed=3)
    config.write_text('[program]\ntimezone = "Europe/London"\n')
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PREFECT_HOME": str(tmp_path / "prefect-client")}
    serving = subprocess.Popen(
        [BIN / "securebase", "serve", "--inbox", inbox, "--warehouse", warehouse, "--config", config],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(base_url=prefect_api, timeout=10)
    try:

        def deployment():
            response = client.get("/deployments/name/securebase-refresh/nightly")
            return response.json() if response.status_code == 200 else None

        found = wait_until(deployment, 60, "the deployment")
        [schedule] = found["schedules"]
        assert schedule["schedule"]["cron"] == "0 2 * * *"
        assert schedule["schedule"]["timezone"] == "Europe/London"
        assert found["parameters"]["inbox"] == str(inbox.resolve())

        def create_run():  # a server still starting its services answers 503, as Prefect's client knows
            response = client.post(f"/deployments/{found['id']}/create_flow_run", json={})
            return response.json() if response.status_code == 201 else None

        run = wait_until(create_run, 60, "the server to accept a flow run")

        def finished():
            response = client.get(f"/flow_runs/{run['id']}")
            state = response.json().get("state") if response.status_code == 200 else None
            return state if state and state["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

        state = wait_until(finished, 120, "the triggered run")
        assert state["type"] == "COMPLETED", state.get("message")
        artifacts = client.post("/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}})
        assert any(a["key"] == "refresh-summary" for a in artifacts.json())
    finally:
        serving.terminate()
        serving.wait(timeout=30)
        client.close()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT status, timezone FROM ops.refreshes").fetchall() == [("published", "Europe/London")]
        assert con.execute("SELECT count(*) FROM marts.participants").fetchall() == [(20,)]
