"""Publishing: a lock against two refreshes, readers that survive a publish, nothing half-built."""

import shutil

import duckdb
import pytest

from pipelines import stages
from pipelines.flows import refresh
from pipelines.generate import SAMPLE_AS_OF, generate
from pipelines.warehouse import WarehouseBuild, WarehouseLocked, refresh_lock
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

    def fails(_parts):  # a fault while building the marts, after the night's files were stored
        raise OSError("No space left on device")

    monkeypatch.setattr(stages, "pooled_cohort_outcomes", fails)
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


def test_a_build_spills_into_a_private_folder_beside_the_warehouse_and_removes_it(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    spill = tmp_path / "warehouse.duckdb.tmp"
    spill.mkdir(mode=0o777)
    spill.chmod(0o777)
    (spill / "duckdb_temp_storage_S32K-0.tmp").write_bytes(b"rows of a refresh that died")
    (spill / "notes.txt").write_text("not DuckDB's")

    build = WarehouseBuild(warehouse, "UTC", "512MiB")
    settings = build.con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory')")
    assert settings.fetchall() == [("512.0 MiB", str(spill))]
    assert spill.stat().st_mode & 0o777 == 0o770  # closed to other users
    assert [path.name for path in spill.iterdir()] == ["notes.txt"]  # the spill of the refresh that died is gone
    build.discard()
    assert not spill.exists() and not warehouse.exists()


def test_a_build_leaves_a_configured_spill_folder_in_place_without_duckdbs_files(tmp_path):
    spill = tmp_path / "spill"
    build = WarehouseBuild(tmp_path / "warehouse.duckdb", "UTC", "1GB", spill)
    assert build.memory_note() == f"DuckDB holds at most 953.6 MiB in memory and spills to {spill}"
    (spill / "duckdb_temp_block-7.block").write_bytes(b"a spilled block")  # as if DuckDB had left one
    build.publish()
    assert spill.is_dir() and list(spill.iterdir()) == []
    assert (tmp_path / "warehouse.duckdb").exists()
