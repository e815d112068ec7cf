"""`securebase serve` stops on SIGTERM or SIGINT within 10 seconds, whether its Prefect server is up or gone."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pipelines.generate import generate
from pipelines.prefect_api import standing_server
from tests.integration.test_prefect_api import processes_with_home

BIN = Path(sys.executable).parent


def serve_until_registered(url: str, tmp_path: Path) -> subprocess.Popen:
    """`securebase serve` against the server at `url`, once its deployment is registered there."""
    generate(tmp_path / "inbox", participants=10, seed=3)
    env = {**os.environ, "PREFECT_API_URL": url, "PREFECT_HOME": str(tmp_path / "client")}
    command = [BIN / "securebase", "serve", "--inbox", tmp_path / "inbox", "--warehouse", tmp_path / "w.duckdb"]
    serving = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        response = httpx.get(f"{url}/deployments/name/securebase-refresh/nightly", timeout=5)
        if response.status_code == 200:
            return serving
        time.sleep(0.5)
    serving.kill()
    raise TimeoutError("the deployment was never registered")


def seconds_to_stop(serving: subprocess.Popen, signum: int) -> tuple[float, int]:
    assert serving.poll() is None, f"serve ended by itself with code {serving.returncode}"
    started = time.monotonic()
    serving.send_signal(signum)
    code = serving.wait(timeout=30)
    return time.monotonic() - started, code


@pytest.mark.parametrize(
    ("server", "signum"), [("up", signal.SIGTERM), ("gone", signal.SIGTERM), ("gone", signal.SIGINT)]
)
def test_serve_stops_within_ten_seconds(tmp_path, server, signum):
    environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    with standing_server(tmp_path / "server", environment) as url:
        serving = serve_until_registered(url, tmp_path)
        if server == "up":
            seconds, code = seconds_to_stop(serving, signum)
    if server == "gone":  # the server has stopped under it: Prefect's own shutdown would retry for minutes
        time.sleep(1)
        seconds, code = seconds_to_stop(serving, signum)
    assert seconds < 10, (seconds, code)
    assert code in ((0,) if server == "up" else (0, 128 + signal.SIGTERM))
    assert processes_with_home(tmp_path / "client") == [], code  # the runner and any flow run are gone too
