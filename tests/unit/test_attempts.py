"""The attempts file beside the warehouse: one JSON line per refresh that published nothing, bounded, never torn."""

import json
import stat
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from securebase.attempts import KEEP, FailedAttempt, attempts_file, failed_attempts, record_failure


def test_a_failure_is_one_json_line_beside_the_warehouse(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    before = datetime.now(UTC)
    record_failure(warehouse, "lock_held", "another refresh is running\nsecond line", date(2026, 3, 1))

    path = tmp_path / "w.duckdb.attempts.jsonl"
    assert attempts_file(warehouse) == path
    [line] = path.read_text().splitlines()
    entry = json.loads(line)
    assert set(entry) == {"failed_at", "as_of_date", "kind", "reason"}
    assert (entry["as_of_date"], entry["kind"], entry["reason"]) == (
        "2026-03-01",
        "lock_held",
        "another refresh is running",
    )
    failed_at = datetime.fromisoformat(entry["failed_at"])
    assert failed_at.utcoffset() == timedelta(0) and before - timedelta(seconds=1) <= failed_at <= datetime.now(UTC)
    assert stat.S_IMODE(path.stat().st_mode) & 0o007 == 0  # other users get nothing, whatever the umask
    assert not warehouse.exists()  # the warehouse itself is never touched


def test_the_file_keeps_the_last_attempts_only_and_reads_back_in_order(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    for number in range(KEEP + 5):
        record_failure(warehouse, "crash", f"attempt {number}")
    attempts = failed_attempts(warehouse)
    assert [a.reason for a in attempts] == [f"attempt {n}" for n in range(5, KEEP + 5)]
    assert len(attempts_file(warehouse).read_text().splitlines()) == KEEP


def test_two_processes_failing_at_once_lose_no_line(tmp_path):
    warehouse = tmp_path / "w.duckdb"

    def fail_many(name):  # each thread opens the file for itself, as two processes would
        for number in range(40):
            record_failure(warehouse, "lock_held", f"{name} {number}")

    threads = [threading.Thread(target=fail_many, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reasons = [a.reason for a in failed_attempts(warehouse)]
    assert sorted(reasons) == sorted(f"{name} {n}" for name in ("first", "second") for n in range(40))


def test_a_line_that_is_not_an_attempt_is_skipped_and_no_folder_is_created(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    record_failure(warehouse, "config_error", "program.timezone 'Mars' is not a known time zone")
    with attempts_file(warehouse).open("a") as handle:
        handle.write('{"failed_at": "yesterday"}\nnot json\n')
    assert [a.kind for a in failed_attempts(warehouse)] == ["config_error"]
    assert failed_attempts(tmp_path / "other.duckdb") == []

    assert record_failure(tmp_path / "mistyped" / "w.duckdb", "config_error", "no such folder") is None
    assert not (tmp_path / "mistyped").exists()


def test_only_the_known_kinds_are_recorded(tmp_path):
    with pytest.raises(ValueError, match="unknown kind 'oops'"):
        record_failure(tmp_path / "w.duckdb", "oops", "reason")
    assert FailedAttempt.from_line('{"failed_at": "2026-03-01T02:00:00+00:00", "kind": "oops", "reason": "r"}') is None
