"""Telling a person how a refresh ended: a JSON POST to the `[notify] webhook` (a chat channel, an alerting service).

It is sent when a refresh fails and, with `on_success = true`, when it publishes. It carries the outcome, a reason and
the refresh's counts, never a value from the data: the reason of a failure securebase foresaw (a held lock, a mart
that failed its checks, a missing inbox, an unusable config or pseudonymisation key) names a rule, a column, a key or
a path, and any other failure is named by its kind only (its details are in the run's log). A webhook that fails or
times out never changes the refresh: the failure is returned to be logged, and recorded in
`<warehouse>-reports/notifications.jsonl`.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from pipelines.warehouse import MartCheckFailed, WarehouseLocked
from securebase.layout import reports_folder
from securebase.settings import Settings, SettingsError

# Failures whose messages name no data value (a lock, a mart check, a path, a config key, the pseudonymisation key's
# file), and the kind of failed attempt each is (securebase/attempts.py): a missing inbox is a slip in the settings.
FORESEEN_FAILURES = {
    WarehouseLocked: "lock_held",
    MartCheckFailed: "mart_check_failed",
    FileNotFoundError: "config_error",
    SettingsError: "config_error",  # KeyFileError among them
}


def failure_reason(error: BaseException) -> str:
    """The first line of a foreseen failure's message; for any other, only its kind."""
    if isinstance(error, tuple(FORESEEN_FAILURES)):
        return (str(error).strip().splitlines() or [type(error).__name__])[0]
    return f"unexpected {type(error).__name__}: see the run's log"


def failure_kind(error: BaseException) -> str:
    """`lock_held`, `mart_check_failed`, `config_error`, or `crash` for a failure securebase did not foresee."""
    return next((kind for foreseen, kind in FORESEEN_FAILURES.items() if isinstance(error, foreseen)), "crash")


def message(warehouse: Path, summary=None, error: BaseException | None = None) -> dict:
    """The JSON body: outcome, reason and counts. `text` is the one line a chat channel shows."""
    outcome = "failed" if error is not None else "published"
    reason = failure_reason(error) if error is not None else None
    counts = {k: v for k, v in asdict(summary).items() if k not in ("refresh_id", "as_of_date")} if summary else {}
    host = socket.gethostname()
    text = f"securebase refresh {outcome} on {host}: " + (reason or summary.one_line())
    return {
        "source": "securebase",
        "outcome": outcome,
        "reason": reason,
        "warehouse": str(warehouse),
        "host": host,
        "refresh_id": summary.refresh_id if summary else None,
        "as_of_date": summary.as_of_date.isoformat() if summary else None,
        "counts": counts,
        "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "text": text,
    }


def notify(settings: Settings, warehouse: Path, summary=None, error: BaseException | None = None) -> str | None:
    """POST the outcome to the webhook when settings ask for it; why it could not be sent, or None."""
    if settings.notify_webhook is None or (error is None and not settings.notify_on_success):
        return None
    body = message(warehouse, summary, error)
    request = urllib.request.Request(
        settings.notify_webhook,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "securebase"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.notify_timeout_seconds) as response:
            response.read()
        return None
    except (urllib.error.URLError, OSError, ValueError) as failure:
        problem = f"could not notify {settings.notify_webhook} of the {body['outcome']} refresh: {failure}"
    _record(warehouse, body, problem)
    return problem


def _record(warehouse: Path, body: dict, problem: str) -> None:
    """One JSON line beside the refresh reports, for whoever checks why nobody was told."""
    folder = reports_folder(warehouse)
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "outcome": body["outcome"], "problem": problem}
    with (folder / "notifications.jsonl").open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
