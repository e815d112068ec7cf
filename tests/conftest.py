"""Shared fixtures: an offline, isolated environment, one Prefect test server, one sample refresh."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports prefect: a private PREFECT_HOME, no external API, telemetry off.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="securebase-prefect-")
os.environ.pop("PREFECT_API_URL", None)
from securebase.settings import offline_environment  # noqa: E402

offline_environment()

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = ROOT / "sample_data"
# The commands the tests start (the `securebase` script, `python -m ...`) import this checkout's code, as this process
# does, even when the environment's editable install points at another checkout of the repository (a git worktree).
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def one_participant(enrolled_date: str = "2026-02-02"):
    """A roster of one participant, P0001 at north in cohort c1 (cbt), for tests that need a participant to exist."""
    import polars as pl

    return pl.DataFrame(
        {"participant_id": ["P0001"], "site_id": ["north"], "cohort_id": ["c1"], "modality": ["cbt"]}
        | {"enrolled_date": [enrolled_date]}
    )


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server (SQLite) for the whole session; flows run against it for real."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(scope="session")
def sample_warehouse(prefect_server, tmp_path_factory) -> Path:
    """`sample_data/` refreshed once into a temporary warehouse by the real flow, as of the sample's export day."""
    from pipelines.flows import refresh
    from pipelines.generate import SAMPLE_AS_OF

    warehouse = tmp_path_factory.mktemp("sample") / "warehouse.duckdb"
    refresh(inbox=SAMPLE_DATA, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    return warehouse
