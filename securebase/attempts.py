"""Refresh attempts that did not publish, one JSON line each in `<warehouse>.attempts.jsonl` beside the warehouse.

A refresh that publishes is recorded inside the warehouse (ops.refreshes); one that does not leaves the published
file as it was, so it is recorded here, for the dashboard's "The last refresh failed at …: reason". A line holds
`failed_at` (UTC, ISO 8601), `as_of_date` (when known), `kind` (one of KINDS) and `reason`: the one line securebase
gives for the failure, which names a rule, a column, a key or a path, never a value from the data (pipelines/notify.py
`failure_reason`). The file keeps the last KEEP lines. Standard library only: the refresh and the dashboard both
import this module.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

KINDS = ("config_error", "lock_held", "mart_check_failed", "crash")
KEEP = 100


@dataclass(frozen=True)
class FailedAttempt:
    """One refresh attempt that published nothing."""

    failed_at: datetime  # in UTC
    kind: str
    reason: str
    as_of_date: date | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}: one of {', '.join(KINDS)}")

    def line(self) -> str:
        return json.dumps(
            {
                "failed_at": self.failed_at.astimezone(UTC).isoformat(timespec="seconds"),
                "as_of_date": self.as_of_date.isoformat() if self.as_of_date else None,
                "kind": self.kind,
                "reason": self.reason,
            }
        )

    @classmethod
    def from_line(cls, line: str) -> FailedAttempt | None:
        """The attempt a line records, or None for a line that is not one (cut short, or written by hand)."""
        try:
            entry = json.loads(line)
            as_of = entry.get("as_of_date")
            return cls(
                datetime.fromisoformat(entry["failed_at"]).astimezone(UTC),
                entry["kind"],
                str(entry["reason"]),
                date.fromisoformat(as_of) if as_of else None,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def attempts_file(warehouse: Path | str) -> Path:
    """`<warehouse>.attempts.jsonl`, beside the file the warehouse's path resolves to (as its lock is)."""
    published = Path(warehouse).resolve()
    return published.with_name(published.name + ".attempts.jsonl")


def record_failure(
    warehouse: Path | str, kind: str, reason: str, as_of_date: date | None = None
) -> FailedAttempt | None:
    """Add a failed attempt, now, to the warehouse's attempts file, keeping the last KEEP. Nothing is recorded when
    the warehouse's folder does not exist (a mistyped path is not created; nothing there is read). Raises OSError if
    the file cannot be written: the caller reports the failure itself all the same."""
    first_line = (str(reason).strip().splitlines() or ["unknown error"])[0]
    attempt = FailedAttempt(datetime.now(UTC), kind, first_line, as_of_date)
    path = attempts_file(warehouse)
    if not path.parent.is_dir():
        return None
    with _locked(path) as handle:
        lines = [line for line in handle.read().splitlines() if line.strip()]
        _replace(path, "".join(f"{line}\n" for line in [*lines, attempt.line()][-KEEP:]))
    return attempt


def failed_attempts(warehouse: Path | str) -> list[FailedAttempt]:
    """The recorded attempts, oldest first; none when the file does not exist."""
    try:
        text = attempts_file(warehouse).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [attempt for line in text.splitlines() if (attempt := FailedAttempt.from_line(line))]


def _locked(path: Path):
    """The attempts file open for reading under an exclusive lock. Writers replace the file, so a writer that waited
    on a file since replaced opens the new one and waits again: two failing refreshes never lose a line."""
    while True:
        handle = open(os.open(path, os.O_RDWR | os.O_CREAT, 0o660), encoding="utf-8")  # noqa: SIM115
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                return handle  # closing it releases the lock
        except FileNotFoundError:
            pass
        handle.close()


def _replace(path: Path, text: str) -> None:
    """Write `text` beside `path`, make it durable, and rename it over `path`: a reader sees the old or the new file.
    Mode 660 at most, whatever the umask allows (pipelines/settings.py `keep_files_private`)."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o660)
    with open(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
