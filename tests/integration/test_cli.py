"""`securebase refresh` as a user runs it: the run's log on stdout; a failure exits non-zero with a one-line reason on
stderr (CONTRACT.md §1)."""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from pipelines.generate import SAMPLE_AS_OF

SECUREBASE = Path(sys.executable).with_name("securebase")
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def securebase_refresh(*arguments, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SECUREBASE, "refresh", *arguments], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_a_refresh_that_cannot_publish_says_why_in_one_line_on_stderr(prefect_server, tmp_path):
    from prefect.settings import PREFECT_API_URL

    warehouse = tmp_path / "w.duckdb"
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    with (tmp_path / "w.duckdb.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another refresh is running
        result = securebase_refresh(
            "--inbox", SAMPLE_DATA, "--warehouse", warehouse, "--as-of", str(SAMPLE_AS_OF), env=env
        )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"securebase: refresh failed, the published warehouse is unchanged: another refresh of {warehouse} is running "
        f"(lock held on {warehouse}.lock); try again when it ends"
    ]
    assert "Traceback" in result.stdout  # the run's log, for whoever investigates
    assert not warehouse.exists()


def test_arguments_that_cannot_work_are_refused_in_one_line_before_anything_runs(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    warehouse = tmp_path / "w.duckdb"
    (tmp_path / "bad.toml").write_text('[program]\ntimezone = "Mars/Olympus_Mons"\n')
    cases = [
        (("--inbox", tmp_path / "missing"), f"securebase: inbox {tmp_path / 'missing'} is not a folder"),
        (("--inbox", inbox, "--as-of", "20 July"), "securebase: --as-of must be a date YYYY-MM-DD, got '20 July'"),
        (
            ("--inbox", inbox, "--config", tmp_path / "bad.toml"),
            "securebase: program.timezone 'Mars/Olympus_Mons' is not a known time zone",
        ),
    ]
    for arguments, reason in cases:
        result = securebase_refresh(*arguments, "--warehouse", warehouse)
        assert (result.returncode, result.stderr.splitlines(), result.stdout) == (1, [reason], "")
    assert not warehouse.exists()
