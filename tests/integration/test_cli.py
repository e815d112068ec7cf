"""`securebase refresh` as a user runs it: the run's log on stdout; a failure exits non-zero with a one-line reason on
stderr (CONTRACT.md §1)."""

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.generate import SAMPLE_AS_OF
from securebase.attempts import failed_attempts

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


def test_a_failed_refresh_leaves_the_warehouse_byte_for_byte_and_records_its_kind_and_reason(
    prefect_server, sample_warehouse, tmp_path
):
    from prefect.settings import PREFECT_API_URL

    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, warehouse)
    before = warehouse.read_bytes()
    (tmp_path / "bad.toml").write_text('[program]\ntimezone = "Mars/Olympus_Mons"\n')
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    common = ("--inbox", SAMPLE_DATA, "--warehouse", warehouse, "--as-of", str(SAMPLE_AS_OF))
    config_error = securebase_refresh(*common, "--config", tmp_path / "bad.toml", env=env)
    with (tmp_path / "w.duckdb.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another refresh is running
        lock_held = securebase_refresh(*common, env=env)

    assert (config_error.returncode, lock_held.returncode) == (1, 1)
    assert warehouse.read_bytes() == before
    timezone = "program.timezone 'Mars/Olympus_Mons' is not a known time zone"
    lock = f"another refresh of {warehouse} is running (lock held on {warehouse}.lock); try again when it ends"
    assert [(a.kind, a.reason, a.as_of_date) for a in failed_attempts(warehouse)] == [
        ("config_error", timezone, None),  # refused before the day was worked out
        ("lock_held", lock, SAMPLE_AS_OF),
    ]
    assert config_error.stderr == f"securebase: {timezone}\n"  # the reason recorded is the one printed
    assert lock_held.stderr == f"securebase: refresh failed, the published warehouse is unchanged: {lock}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "bad.toml",
        "w.duckdb",
        "w.duckdb.attempts.jsonl",
        "w.duckdb.lock",
    ]


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


def test_free_text_in_an_id_or_a_rejected_header_is_stored_printed_and_logged_nowhere(tmp_path):
    inbox, warehouse, prefect_home = tmp_path / "inbox", tmp_path / "w.duckdb", tmp_path / "prefect"
    inbox.mkdir()
    site_note, cohort_note = "my therapist is Dr Smith", "Dr Smith's Tuesday group"
    roster = "participant_id,site_id,cohort_id,modality,enrolled_date\n"
    (inbox / "participants.csv").write_text(
        roster + "P0001,north,cohort-kept-7q,cbt,2026-02-02\n"
        f"P0002,{site_note},c1,cbt,2026-02-02\n"
        f'P0003,north,"{cohort_note}",cbt,2026-02-02\n'
    )
    (inbox / "participants_dob.csv").write_text(
        roster.strip() + ",jane_doe_dob_1990\nP0004,north,c1,cbt,2026-02-02,x\n"
    )
    (inbox / "exercises_notes.csv").write_text("participant_id,Jane Doe notes\nP0001,x\n")
    # Its own Prefect home and temporary server, so that every log line the run leaves is in files read below.
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"} | {
        "PREFECT_HOME": str(prefect_home)
    }
    result = securebase_refresh("--inbox", inbox, "--warehouse", warehouse, "--as-of", "2026-03-01", env=env)
    assert result.returncode == 0, result.stderr

    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantine = con.execute("SELECT source_row, rule, column_name FROM quality.quarantine ORDER BY 1").fetchall()
        reasons = dict(con.execute("SELECT file_name, reason FROM ops.files WHERE status = 'rejected'").fetchall())
        roster_ids = con.execute("SELECT participant_id, cohort_id FROM marts.participants").fetchall()
    assert quarantine == [(2, "invalid_id", "site_id"), (3, "invalid_id", "cohort_id")]
    assert roster_ids == [("P0001", "cohort-kept-7q")]
    assert reasons == {
        "participants_dob.csv": "column 6 is named like a direct identifier or free text (date of birth)",
        "exercises_notes.csv": "column 2 is named like a direct identifier or free text (a note or other free text)",
    }
    stored = [path.read_bytes() for path in [warehouse, *sorted(tmp_path.glob("w-reports/*"))]]
    logged = [path.read_bytes() for path in prefect_home.rglob("*") if path.is_file()]
    printed = (result.stdout + result.stderr).encode()
    # The search can find text: the kept cohort id is in the warehouse, and the run's file names in Prefect's logs.
    assert any(b"cohort-kept-7q" in data for data in stored)
    assert any(b"participants_dob.csv" in data for data in logged) and b"participants_dob.csv" in printed
    for text in (site_note, cohort_note, "Dr Smith", "jane_doe", "Jane Doe", "dob_1990"):
        assert not any(text.encode() in data for data in [*stored, *logged, printed]), text


def test_a_refresh_holds_duckdb_to_the_configured_memory_and_spills_into_the_configured_folder(
    prefect_server, tmp_path
):
    from prefect.settings import PREFECT_API_URL

    warehouse, spill = tmp_path / "w.duckdb", tmp_path / "spill"
    (tmp_path / "limits.toml").write_text(f'[refresh]\nmemory_limit = "300MB"\ntemp_directory = "{spill}"\n')
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    result = securebase_refresh(
        "--inbox", SAMPLE_DATA, "--warehouse", warehouse, "--as-of", str(SAMPLE_AS_OF),
        "--config", tmp_path / "limits.toml", env=env,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    # the run's log quotes DuckDB's own reading of its settings (300 MB is 286.1 MiB)
    assert f"DuckDB holds at most 286.1 MiB in memory and spills to {spill}\n" in result.stdout
    assert spill.is_dir() and list(spill.iterdir()) == [] and spill.stat().st_mode & 0o007 == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT status FROM ops.refreshes").fetchall() == [("published",)]
