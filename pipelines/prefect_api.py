"""A Prefect API for a refresh run from the command line: the configured one, or a temporary server on loopback.

Without PREFECT_API_URL, Prefect itself starts a temporary server at the first flow run: its client first imports
the whole server application (about 3 s here) only to launch it in a new process, then waits for that process to
boot (about 3 s more), before any work starts. Launching the same server process before the pipeline is imported
lets it boot on the other core meanwhile, and spares this process the import.

A temporary server lives only as long as this process, so nothing can watch for a missing flow-run heartbeat:
heartbeats are off for it (Prefect stops its heartbeat thread at a 1-second tick, which held every such run up to
1 s). With a configured server they stay as Prefect sets them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


class PrefectApi:
    """The API flow runs report to, and the server process behind it when this program started one; `ready()`
    waits until that server answers."""

    def __init__(self, url: str, process: subprocess.Popen | None = None) -> None:
        self.url = url
        self.process = process

    def ready(self, timeout: float = 60.0) -> None:
        if self.process is None:
            return
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Prefect server exited with code {self.process.returncode}")
            try:
                with direct.open(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the Prefect server did not answer within {timeout:.0f} s")


def _exit_on_sigterm(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _drain_workers() -> None:
    """Flow runs send their logs and events from background workers: let them deliver before the server stops,
    as `prefect_test_harness` does."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with suppress(RuntimeError):  # never started
            worker.drain_all(timeout=10)


PR_SET_PDEATHSIG = 1  # prctl(2): the signal the kernel sends a child when the thread that started it ends


def die_with_parent() -> None:
    """In the server's process, before it runs: SIGTERM it when the refresh that launched it dies, even by SIGKILL,
    which no handler of the refresh's could see."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _launch_temporary_server() -> tuple[subprocess.Popen, str]:
    """Prefect's temporary server, with the command its own uses, on a free loopback port; it reads Prefect's
    settings from the same environment and profile as this process, and dies with the thread that launched it
    (the command line's main thread)."""
    port = free_loopback_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"]
        + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
        env={**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"},
        preexec_fn=die_with_parent,
    )
    return server, f"http://127.0.0.1:{port}/api"


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextmanager
def prefect_api() -> Iterator[PrefectApi]:
    """The configured API (PREFECT_API_URL, or a test harness's), else a temporary server that stops on exit.

    Prefect takes about 0.9 s to import before its settings can be read, so when the environment names no API the
    server is launched first; should Prefect's profile name one after all, that server is stopped unused."""
    if os.environ.get("PREFECT_API_URL"):
        yield PrefectApi(os.environ["PREFECT_API_URL"])
        return
    # A refresh stopped with SIGTERM (a timeout, a service manager) unwinds like an error, so the server stops too.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm) if in_main_thread else None
    server, url = _launch_temporary_server()
    try:
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
            get_current_settings,
            temporary_settings,
        )

        configured = get_current_settings().api.url
        if configured:
            _stop(server)
            server = None
            yield PrefectApi(configured)
        else:
            with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                yield PrefectApi(url, server)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        if server is not None:
            _drain_workers()
            _stop(server)


@contextmanager
def standing_server(home: Path, environment: dict[str, str]) -> Iterator[str]:
    """`prefect server start` on 127.0.0.1 with its own home, as a deployed machine runs it for `securebase serve`
    (README); its API URL once it answers, and stopped on exit. For the benchmark and the schedule test."""
    port = free_loopback_port()
    server = subprocess.Popen(
        [Path(sys.executable).with_name("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        + ["--analytics-off"],
        env={**environment, "PREFECT_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = PrefectApi(f"http://127.0.0.1:{port}/api", server)
    try:
        api.ready(timeout=90)
        yield api.url
    finally:
        _stop(server)
