"""`securebase serve`: the nightly deployment, served by Prefect's runner in a child process this one supervises.

Prefect's runner takes SIGTERM for itself, and when its API server has gone its graceful shutdown retries API calls
(to pause the deployment) for minutes. So the runner runs in a process group of its own: on SIGTERM or SIGINT the
supervisor passes SIGTERM on, gives the runner STOP_SECONDS to stop gracefully, then kills its group, runner and
flow runs alike. A refresh ended that way leaves the warehouse published or untouched (tests/integration/test_kill.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress

from pipelines.prefect_api import die_with_parent

STOP_SECONDS = 6.0  # well within the 10 s a service manager or an operator waits


def serve_nightly(parameters: dict) -> None:
    """In the child: register the nightly deployment with the Prefect server at PREFECT_API_URL and run it when due."""
    from prefect.schedules import Cron

    from pipelines.flows import refresh

    refresh.serve(
        name="nightly",
        schedules=[Cron(parameters.pop("cron"), timezone=parameters.pop("timezone"))],
        parameters=parameters,
        limit=1,  # never two refreshes at once from this server (the warehouse lock guards the rest)
        description="Ingest new inbox files, validate, build the marts and publish the warehouse.",
    )


def supervise(parameters: dict) -> int:
    """Start the runner and wait for it; a stop signal ends it within STOP_SECONDS. The runner's exit code; 0 when it
    stopped as asked, 143 (128 + SIGTERM) when it had to be killed."""
    runner = subprocess.Popen(
        [sys.executable, "-m", "pipelines.serving", json.dumps(parameters)],
        start_new_session=True,  # Ctrl-C reaches the supervisor only, which decides how the runner stops
        preexec_fn=die_with_parent,
    )
    stop_asked_at: list[float] = []

    def stop(signum: int, _frame) -> None:
        if not stop_asked_at:
            stop_asked_at.append(time.monotonic())
            with suppress(ProcessLookupError):
                runner.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    while True:
        try:
            code = runner.wait(timeout=0.2)
            return 0 if stop_asked_at else code
        except subprocess.TimeoutExpired:
            if stop_asked_at and time.monotonic() - stop_asked_at[0] > STOP_SECONDS:
                with suppress(ProcessLookupError):
                    os.killpg(runner.pid, signal.SIGKILL)
                runner.wait()
                return 128 + signal.SIGTERM


if __name__ == "__main__":
    serve_nightly(json.loads(sys.argv[1]))
