"""Mart suites gate publishing; results and reports carry rules, columns and rows, never values."""

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import stages
from pipelines.flows import MartCheckFailed, refresh
from pipelines.generate import SAMPLE_AS_OF, generate
from pipelines.validation import MART_SUITES, validate_mart
from pipelines.warehouse import WarehouseBuild
from securebase.attempts import failed_attempts
from securebase.layout import reports_folder

PLANTED = ["@example.org", "Jane Doe", "7946 0958"]


def test_every_mart_suite_passes_on_the_sample(sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        runs = con.execute(
            "SELECT batch, expectations_evaluated, expectations_failed FROM quality.validation_runs "
            "WHERE batch LIKE 'marts.%' ORDER BY 1"
        ).fetchall()
    assert [batch for batch, _, _ in runs] == sorted(f"marts.{t}" for t in MART_SUITES)
    assert all(evaluated > 0 and failed == 0 for _, evaluated, failed in runs)


VIOLATIONS = [
    (
        "participant_outcomes",
        "UPDATE marts.participant_outcomes SET outcome_status = 'lost' WHERE rowid = 0",
        "not_in_set",
        "outcome_status",
    ),
    (
        "participant_outcomes",
        "INSERT INTO marts.participant_outcomes SELECT * FROM marts.participant_outcomes LIMIT 1",
        "key_not_unique",
        "participant_id, instrument, subscale",
    ),
    (
        "participant_outcomes",
        "UPDATE marts.participant_outcomes SET endpoint_date = baseline_date - 1 "
        "WHERE outcome_status = 'complete' AND rowid = (SELECT min(rowid) FROM marts.participant_outcomes "
        "WHERE outcome_status = 'complete')",
        "dates_out_of_order",
        "endpoint_date",
    ),
    (
        "cohort_outcomes",
        "UPDATE marts.cohort_outcomes SET n_complete = n_enrolled + 1 WHERE grouping = 'program'",
        "count_inconsistent",
        "n_enrolled",
    ),
    (
        "cohort_outcomes",
        "UPDATE marts.cohort_outcomes SET mean_change = mean_change_ci_high + 1 WHERE grouping = 'program'",
        "interval_out_of_order",
        "mean_change_ci_high",
    ),
    (
        "outcome_parameters",
        "UPDATE marts.outcome_parameters SET reliability = 1.5 WHERE rowid = 0",
        "out_of_range",
        "reliability",
    ),
    (
        "assessments",
        "UPDATE marts.assessments SET items_answered = 99 WHERE rowid = 0",
        "count_inconsistent",
        "items_total",
    ),
    (
        "exercise_engagement",
        "UPDATE marts.exercise_engagement SET completed_share = 2 WHERE rowid = 0",
        "out_of_range",
        "completed_share",
    ),
]


@pytest.mark.parametrize(("table", "plant", "rule", "column"), VIOLATIONS)
def test_each_mart_suite_fires_on_a_planted_violation(sample_warehouse, tmp_path, table, plant, rule, column):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_warehouse, warehouse)
    build = WarehouseBuild(warehouse, "UTC")
    try:
        build.con.execute(plant)
        result = validate_mart(table, build.frame(f"SELECT * FROM marts.{table}"))
    finally:
        build.discard()
    assert (rule, column) in {(f.rule, f.column) for f in result.failed}


def test_a_mart_failing_its_suite_blocks_publishing(prefect_server, sample_warehouse, tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_warehouse, warehouse)
    before = warehouse.read_bytes()
    computed = stages.pooled_cohort_outcomes

    def intervals_swapped(parts):  # a slip in a transform that only the mart suite can catch
        return computed(parts).with_columns(
            mean_change_ci_low=pl.col("mean_change_ci_high"), mean_change_ci_high=pl.col("mean_change_ci_low")
        )

    monkeypatch.setattr(stages, "pooled_cohort_outcomes", intervals_swapped)
    with pytest.raises(MartCheckFailed, match=r"marts.cohort_outcomes failed interval_out_of_order"):
        refresh(inbox=tmp_path, warehouse=warehouse, as_of=SAMPLE_AS_OF)

    assert warehouse.read_bytes() == before
    [report] = reports_folder(warehouse).iterdir()
    assert "Not published" in report.read_text()
    [attempt] = failed_attempts(warehouse)
    assert attempt.kind == "mart_check_failed"
    assert attempt.reason.startswith("marts.cohort_outcomes failed interval_out_of_order")
    assert attempt.reason.endswith(f"report: {report}")


@pytest.fixture(scope="module")
def messy_run(prefect_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    generate(root / "inbox", participants=30, seed=9, messy=True)
    refresh(inbox=root / "inbox", warehouse=root / "warehouse.duckdb", as_of=SAMPLE_AS_OF)
    return root / "warehouse.duckdb"


def test_no_planted_identifier_reaches_a_stored_result_or_report(messy_run):
    with duckdb.connect(str(messy_run), read_only=True) as con:
        for (table,) in con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall():
            text = con.execute(f"SELECT CAST(list(t) AS VARCHAR) FROM {table} AS t").fetchall()[0][0] or ""
            assert not [value for value in PLANTED if value in text], table
    reports = list(reports_folder(messy_run).iterdir())
    assert reports and all(not [v for v in PLANTED if v in r.read_text()] for r in reports)


def test_the_report_opens_offline_and_asks_no_other_host(messy_run):
    from playwright.sync_api import sync_playwright

    [report] = reports_folder(messy_run).iterdir()
    requested = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.goto(report.as_uri())
        text = page.inner_text("body")
        browser.close()
    assert "Quarantine, by rule and column" in text and "unknown_participant" in text
    assert all(url.startswith("file://") for url in requested)


def test_the_quality_command_summarises_the_last_refresh(messy_run):
    output = subprocess.run(
        [Path(sys.executable).with_name("securebase"), "quality", "--warehouse", messy_run],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "files rejected in this refresh: 4" in output
    assert "participants_with_contacts.csv: column 9 is named like a direct identifier" in output
    assert "unknown_participant" in output and "questionnaires.participant_id" in output
    assert "held rows waiting for their participant (released when they arrive): 1" in output
    assert "rows dated after the as-of day (released when their day comes): 1" in output
    assert not [value for value in PLANTED if value in output]


def test_the_mart_checks_in_batches_of_participants_count_the_failures_of_every_batch(
    sample_warehouse, tmp_path, monkeypatch
):
    """validate_marts checks the participant marts a batch of participants at a time and records one result per
    mart: the same expectations, failing on as many rows as one check of the whole mart."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_warehouse, warehouse)
    build = WarehouseBuild(warehouse, "UTC")
    try:
        build.con.execute("CREATE TEMP TABLE rebuild AS SELECT participant_id FROM marts.participants")
        first_and_last = "SELECT min(participant_id) FROM marts.participants UNION SELECT max(participant_id) FROM "
        build.con.execute(
            f"UPDATE marts.assessments SET items_answered = 99 WHERE participant_id IN ({first_and_last} "
            "marts.participants)"
        )
        build.con.execute(
            f"UPDATE marts.participant_outcomes SET outcome_status = 'lost' WHERE participant_id IN ({first_and_last} "
            "marts.participants)"
        )
        whole = {f"marts.{t}": validate_mart(t, build.frame(f"SELECT * FROM marts.{t}")) for t in MART_SUITES}
        monkeypatch.setattr(stages, "PARTICIPANTS_PER_BATCH", 3)
        batched = {result.batch: result for result in stages.validate_marts(build)}
    finally:
        build.discard()
    assert whole["marts.assessments"].failed and whole["marts.participant_outcomes"].failed
    for table, result in whole.items():
        assert batched[table].expectations_evaluated == result.expectations_evaluated
        assert set(batched[table].failed) == set(result.failed)
