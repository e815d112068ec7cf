"""Publishing: a lock against two refreshes, readers that survive a publish, nothing half-built."""

import shutil

import duckdb
import pytest

from pipelines import stages
from pipelines.flows import refresh
from pipelines.generate import SAMPLE_AS_OF, generate
from pipelines.warehouse import WarehouseLocked, refresh_lock
from securebase.attempts import failed_attempts


def test_a_second_refresh_is_refused_while_one_holds_the_lock(prefect_server, sample_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_warehouse, warehouse)
    before = warehouse.read_bytes()
    with refresh_lock(warehouse), pytest.raises(WarehouseLocked, match="another refresh .* is running"):
        refresh(inbox=tmp_path, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    assert warehouse.read_bytes() == before
    assert not warehouse.with_name("warehouse.duckdb.next").exists()


def test_a_reader_keeps_its_snapshot_while_a_refresh_publishes(prefect_server, sample_warehouse, tmp_path):
    warehouse, inbox = tmp_path / "warehouse.duckdb", tmp_path / "inbox"
    shutil.copy(sample_warehouse, warehouse)
    generate(inbox, participants=10, seed=99, start_date=SAMPLE_AS_OF.replace(month=2))
    (inbox / "participants.csv").rename(inbox / "participants_new_site.csv")
    reader = duckdb.connect(str(warehouse), read_only=True)
    old = reader.execute("SELECT count(*) FROM ops.files").fetchall()
    try:
        refresh(inbox=inbox, warehouse=warehouse, as_of=SAMPLE_AS_OF)
        assert reader.execute("SELECT count(*) FROM ops.files").fetchall() == old
    finally:
        reader.close()
    with duckdb.connect(str(warehouse), read_only=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM ops.files").fetchall()[0][0] == old[0][0] + 5


def test_a_refresh_that_fails_leaves_the_published_warehouse_untouched(
    prefect_server, sample_warehouse, tmp_path, monkeypatch
):
    warehouse, inbox = tmp_path / "warehouse.duckdb", tmp_path / "inbox"
    shutil.copy(sample_warehouse, warehouse)
    before = warehouse.read_bytes()
    generate(inbox, participants=30, seed=11)

    def fails(_outcomes):  # a fault while building the marts, after the night's files were stored
        raise OSError("No space left on device")

    monkeypatch.setattr(stages, "cohort_outcomes", fails)
    with pytest.raises(OSError, match="No space left"):
        refresh(inbox=inbox, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    assert warehouse.read_bytes() == before
    assert not warehouse.with_name("warehouse.duckdb.next").exists()
    [attempt] = failed_attempts(warehouse)  # an unforeseen failure is named by its kind only
    assert (attempt.kind, attempt.reason, attempt.as_of_date) == (
        "crash",
        "unexpected OSError: see the run's log",
        SAMPLE_AS_OF,
    )
