"""The `[notify] webhook` hears of a failed refresh, and of a published one when asked, from a real local receiver;
a webhook that times out changes nothing but is logged and recorded."""

import fcntl
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipelines.flows import refresh
from pipelines.generate import SAMPLE_AS_OF, generate
from pipelines.notify import failure_reason
from pipelines.sources import KeyFileError
from pipelines.warehouse import WarehouseLocked
from securebase.settings import SettingsError, load_settings

MESSAGE_KEYS = {"source", "outcome", "reason", "warehouse", "host", "refresh_id", "as_of_date", "counts", "sent_at"}


class Receiver(ThreadingHTTPServer):
    """An HTTP receiver on 127.0.0.1 that keeps every JSON body posted to it, after `delay` seconds."""

    def __init__(self, delay: float = 0.0):
        self.bodies: list[dict] = []
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                time.sleep(receiver.delay)
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *arguments):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("notify") / "inbox"
    generate(folder, participants=12, seed=5)
    return folder


def config(tmp_path: Path, receiver: Receiver, extra: str = "") -> Path:
    path = tmp_path / "program.toml"
    path.write_text(f'[notify]\nwebhook = "{receiver.url}"\n{extra}')
    return path


def test_a_failed_refresh_is_posted_with_its_reason_and_no_data(prefect_server, inbox, tmp_path):
    receiver = Receiver()
    warehouse = tmp_path / "w.duckdb"
    with (tmp_path / "w.duckdb.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(WarehouseLocked):
            refresh(inbox=inbox, warehouse=warehouse, config=config(tmp_path, receiver), as_of=SAMPLE_AS_OF)
    receiver.shutdown()
    [body] = receiver.bodies
    assert set(body) == MESSAGE_KEYS | {"text"}
    assert (body["outcome"], body["counts"], body["refresh_id"]) == ("failed", {}, None)
    assert (
        body["reason"]
        == f"another refresh of {warehouse} is running (lock held on {warehouse}.lock); try again when it ends"
    )
    assert body["text"].startswith("securebase refresh failed on ")


def test_a_published_refresh_is_posted_only_when_asked(prefect_server, inbox, tmp_path):
    quiet, asking = Receiver(), Receiver()
    refresh(inbox=inbox, warehouse=tmp_path / "quiet.duckdb", config=config(tmp_path, quiet), as_of=SAMPLE_AS_OF)
    asked = config(tmp_path, asking, "on_success = true\n")
    summary = refresh(inbox=inbox, warehouse=tmp_path / "w.duckdb", config=asked, as_of=SAMPLE_AS_OF)
    quiet.shutdown(), asking.shutdown()
    assert quiet.bodies == []
    [body] = asking.bodies
    assert (body["outcome"], body["reason"], body["refresh_id"]) == ("published", None, 1)
    assert body["as_of_date"] == str(SAMPLE_AS_OF)
    assert body["counts"] == {
        "files_loaded": summary.files_loaded,
        "files_rejected": 0,
        "files_duplicate": 0,
        "rows_loaded": summary.rows_loaded,
        "rows_quarantined": summary.rows_quarantined,
        "rows_released": 0,
    }
    assert summary.files_loaded == 5 and summary.rows_loaded > 0


def test_a_webhook_that_times_out_does_not_stop_the_publish(prefect_server, inbox, tmp_path):
    slow = Receiver(delay=3)
    warehouse = tmp_path / "w.duckdb"
    settings = config(tmp_path, slow, "on_success = true\ntimeout_seconds = 0.5\n")
    started = time.monotonic()
    summary = refresh(inbox=inbox, warehouse=warehouse, config=settings, as_of=SAMPLE_AS_OF)
    assert summary.files_loaded == 5 and warehouse.exists()
    assert time.monotonic() - started < 60
    [entry] = [json.loads(line) for line in (tmp_path / "w-reports" / "notifications.jsonl").read_text().splitlines()]
    assert entry["outcome"] == "published"
    assert entry["problem"].startswith(f"could not notify {slow.url} of the published refresh: ")
    assert "timed out" in entry["problem"]
    slow.shutdown()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('webhook = "ftp://x"', "notify.webhook must be an http:// or https:// URL"),
        ("on_success = 1", "notify.on_success must be true or false"),
        ("timeout_seconds = 0", "notify.timeout_seconds must be a number of seconds in (0, 120]"),
        ("retries = 3", "notify.retries: unknown key"),
    ],
)
def test_a_notify_slip_is_a_settings_error(tmp_path, section, message):
    (tmp_path / "program.toml").write_text(f"[notify]\n{section}\n")
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace("]", r"\]")):
        load_settings(tmp_path / "program.toml")


def test_an_unusable_pseudonymisation_key_is_named_in_the_reason():
    error = KeyFileError("pseudonymisation.key_file /etc/securebase/key is readable by other users: chmod 600 it")
    assert failure_reason(error) == str(error)
    assert failure_reason(ValueError("P0001 scored 9")) == "unexpected ValueError: see the run's log"
