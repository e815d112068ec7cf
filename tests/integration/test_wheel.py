"""The installable package: `uv build` gives a wheel that works from a fresh virtual environment outside the
checkout (generate → refresh → quality → dashboard), every data file read from the package itself."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from pipelines.generate import SAMPLE_AS_OF
from tests.dashboard.test_browser import free_port

ROOT = Path(__file__).resolve().parents[2]
UV = [shutil.which("python3") or sys.executable, "-m", "uv"]  # as .ci/setup installs it


def run(command: list, cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict]:
    """The wheel built from the checkout, installed with the locked dependencies (offline, from uv's cache) into a
    new virtual environment in a temporary folder; its `bin` and an environment that knows nothing of the checkout."""
    folder = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PREFECT_API_URL", "VIRTUAL_ENV"))}
    env |= {"PREFECT_HOME": str(folder / "prefect-home"), "UV_PYTHON_DOWNLOADS": "never"}
    run([*UV, "build", "--wheel", "--offline", "--quiet", "--out-dir", folder / "dist", ROOT], folder, env)
    [wheel] = (folder / "dist").glob("securebase-*.whl")
    venv = folder / "venv"
    locked = [*UV, "sync", "--frozen", "--no-dev", "--no-install-project", "--offline", "--quiet", "--project", ROOT]
    run([*locked, "--python", "3.11"], folder, env | {"UV_PROJECT_ENVIRONMENT": str(venv)})
    run(
        [*UV, "pip", "install", "--offline", "--no-deps", "--quiet", "--python", venv / "bin/python", wheel],
        folder,
        env,
    )
    return wheel, venv / "bin", env


def test_the_wheel_carries_every_data_file(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in (
        "expectations/participants.json",
        "expectations/marts/cohort_outcomes.json",
        "transforms/sql/staging/questionnaires.sql",
        "sample_data/participants.csv",
        "dashboard/app.py",
        "dashboard/views/methods.py",
        "dashboard/assets/overview.png",
        "securebase-0.1.0.dist-info/licenses/LICENSE",
    ):
        assert data in names, data
    methods = zipfile.ZipFile(wheel).read("dashboard/METHODS.md").decode()
    assert methods == (ROOT / "METHODS.md").read_text(encoding="utf-8")  # the file itself, not a link


def test_the_installed_package_refreshes_and_serves_outside_the_checkout(installed, tmp_path):
    _, bin_dir, env = installed
    where = run(
        [bin_dir / "python", "-c", "import sys, pipelines; print(pipelines.__file__); print(sys.path)"], tmp_path, env
    )
    assert str(bin_dir.parent) in where.stdout.splitlines()[0] and str(ROOT) not in where.stdout

    run([bin_dir / "securebase", "generate", "--out", "inbox", "--participants", "60"], tmp_path, env)
    refreshed = run(
        [
            bin_dir / "securebase",
            "refresh",
            "--inbox",
            "inbox",
            "--warehouse",
            "w.duckdb",
            "--as-of",
            str(SAMPLE_AS_OF),
        ],
        tmp_path,
        env,
    )
    assert "refresh 1 as of" in refreshed.stdout and "files loaded 5, rejected 0" in refreshed.stdout
    quality = run([bin_dir / "securebase", "quality", "--warehouse", "w.duckdb"], tmp_path, env)
    assert quality.stdout.startswith("refresh 1 (published)")

    port = free_port()
    command = [bin_dir / "securebase", "dashboard", "--warehouse", "w.duckdb", "--port", str(port), "--demo"]
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, health = time.monotonic() + 120, None
        while health is None and time.monotonic() < deadline and server.poll() is None:
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
            except OSError:
                time.sleep(0.5)
        assert health == b"ok"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_installed_package_adapts_a_fhir_export(installed, tmp_path):
    """The adapters and their dependency (fhir.resources, through the lock) come with the wheel."""
    _, bin_dir, env = installed
    generate = [bin_dir / "securebase", "generate", "--out", "inbox", "--participants", "30", "--format", "fhir"]
    run(generate, tmp_path, env)
    config = tmp_path / "inbox" / ".securebase" / "config.toml"
    refresh = [bin_dir / "securebase", "refresh", "--inbox", "inbox", "--warehouse", "w.duckdb", "--config", config]
    refreshed = run([*refresh, "--as-of", str(SAMPLE_AS_OF)], tmp_path, env)
    assert "files loaded 3, rejected 0" in refreshed.stdout and "quarantined 0" in refreshed.stdout
