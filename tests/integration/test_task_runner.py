"""The per-file work of a refresh runs on any Prefect task runner: on a local Dask cluster it gives the same
warehouse as in-process, with both workers doing part of it."""

import sys
import types

import duckdb

from pipelines.flows import refresh
from pipelines.generate import SAMPLE_AS_OF, generate

# everything a refresh stores about its inputs, less the clock
STORED = {
    "ops.files": "file_number, file_name, sha256, dataset, status, reason, rows_read, rows_loaded, rows_quarantined",
    "quality.quarantine": "file_number, source_file, source_row, dataset, rule, column_name, detail, is_resolved",
    "quality.validation_runs": "suite, batch, expectations_evaluated, expectations_failed, rows_failed, failed_rules",
    "raw.questionnaires": "*",
    "staging.questionnaires": "*",
    "staging.exercises": "*",
    "marts.participant_outcomes": "*",
}


def stored(warehouse) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            table: con.sql(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
            for table, columns in STORED.items()
        }


def test_a_dask_cluster_examines_the_files_and_the_warehouse_is_the_same(prefect_server, tmp_path, monkeypatch):
    import distributed

    # Worker processes are spawned, and a spawned child re-runs the parent's __main__ file: after Streamlit's
    # AppTest has run in this session, that is dashboard/app.py. A main module without a file is not re-run.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    from prefect_dask import DaskTaskRunner

    inbox = tmp_path / "inbox"
    generate(inbox, participants=200, seed=5, messy=True)  # rejected files and quarantined rows included
    in_process = refresh(inbox=inbox, warehouse=tmp_path / "local.duckdb", as_of=SAMPLE_AS_OF)

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        on_dask = refresh.with_options(task_runner=DaskTaskRunner(address=cluster.scheduler_address))(
            inbox=inbox, warehouse=tmp_path / "dask.duckdb", as_of=SAMPLE_AS_OF, files_at_once=2
        )
        with distributed.Client(cluster) as client:
            tasks_per_worker = client.run(lambda dask_worker: dask_worker.state.transition_counter)

    assert on_dask == in_process
    assert in_process.files_rejected > 0 and in_process.rows_quarantined > 0
    assert stored(tmp_path / "dask.duckdb") == stored(tmp_path / "local.duckdb")
    assert len(tasks_per_worker) == 2 and all(count > 0 for count in tasks_per_worker.values())
