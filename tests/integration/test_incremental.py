"""A nightly refresh rebuilds only the participants with new rows, and gives the warehouse a full rebuild gives.

Night 1 loads a messy export; night 2 brings a participant who releases a held row, a participant who moves site
and enrolment day, a new endpoint for one participant and a conflicting copy of another's old administration.
The same night 2 is then refreshed again on a copy whose marts digest is cleared, which forces a full rebuild:
every mart and the quarantine must come out the same.
"""

import shutil
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import stages
from pipelines.flows import refresh
from pipelines.generate import SAMPLE_AS_OF, generate
from pipelines.stages import marts_digest
from pipelines.warehouse import PARTICIPANT_MARTS, WarehouseBuild
from securebase.settings import Settings
from tests.conftest import SAMPLE_DATA, one_participant
from transforms.windows import Windows

NIGHT_2 = SAMPLE_AS_OF + timedelta(days=1)
MARTS_AND_QUARANTINE = (
    *PARTICIPANT_MARTS,
    "marts.participant_outcomes",
    "marts.outcome_parameters",
    "marts.cohort_outcomes",
    "marts.talking_therapies",
    "marts.itt_outcomes",
    "marts.alerts",
    "marts.exercise_effects",
    "marts.dose_response",
    "marts.practice_weeks",
    "marts.score_weeks",
    "quality.quarantine",
)


def frame(warehouse, sql, parameters=None) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql, params=parameters).pl()


def night_2_files(inbox, warehouse) -> tuple[set[str], tuple[str, int]]:
    """Write night 2's files into the inbox; return the participants they name, and the file and row of the old
    administration that night 2 contradicts."""
    enrolled = dict(frame(warehouse, "SELECT participant_id, enrolled_date FROM marts.participants").iter_rows())
    pl.DataFrame(  # releases the held row of P99999 in questionnaires_corrections.csv
        {"participant_id": ["P99999"], "site_id": ["north"], "cohort_id": ["north-1"], "modality": ["cbt"]}
        | {"enrolled_date": ["2026-01-05"]}
    ).write_csv(inbox / "participants_night2.csv")
    pl.DataFrame(  # moves P00001 to another site, and their enrolment a week later: every week of theirs shifts
        {"participant_id": ["P00001"], "site_id": ["south"], "cohort_id": ["moved"], "modality": ["group"]}
        | {"enrolled_date": [(enrolled["P00001"] + timedelta(days=7)).isoformat()]}
    ).write_csv(inbox / "participants_night2b.csv")
    old = frame(
        warehouse,
        "SELECT source_file, source_row, completed_at, responses FROM staging.questionnaires "
        "WHERE participant_id = 'P00003' AND instrument = 'GAD-7' ORDER BY completed_at LIMIT 1",
    ).row(0, named=True)
    endpoint_day = enrolled["P00002"] + timedelta(days=70)
    pl.DataFrame(
        {
            "participant_id": ["P00002", "P00003"],
            "instrument": ["GAD-7", "GAD-7"],
            "completed_at": [f"{endpoint_day}T09:00:00Z", old["completed_at"].isoformat()],
            # P00002's new endpoint; P00003's copy of an old administration with different answers
            **{f"item_{i}": ["0", str(3 - old["responses"][i - 1])] for i in range(1, 8)},
        }
    ).write_csv(inbox / "questionnaires_night2.csv")
    practice_day = enrolled["P00004"] + timedelta(days=10)
    pl.DataFrame(  # a practice logged by P00004
        {"participant_id": ["P00004"], "started_at": [f"{practice_day}T19:30:00Z"], "exercise": ["breathing"]}
        | {"duration_minutes": ["12"], "distress_before": ["7"], "distress_after": ["4"], "is_completed": ["true"]}
    ).write_csv(inbox / "exercises_night2.csv")
    return {"P99999", "P00001", "P00002", "P00003", "P00004"}, (old["source_file"], old["source_row"])


@pytest.fixture(scope="module")
def two_nights(prefect_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    inbox, incremental, full = root / "inbox", root / "incremental.duckdb", root / "full.duckdb"
    generate(inbox, participants=60, seed=5, messy=True)
    first = refresh(inbox=inbox, warehouse=incremental, as_of=SAMPLE_AS_OF)
    shutil.copy(incremental, full)
    with duckdb.connect(str(full)) as con:
        con.execute("UPDATE ops.refreshes SET marts_digest = NULL")  # as if the transforms had changed
    changed, contradicted = night_2_files(inbox, incremental)
    refresh(inbox=inbox, warehouse=incremental, as_of=NIGHT_2)
    refresh(inbox=inbox, warehouse=full, as_of=NIGHT_2)
    return first, changed, contradicted, incremental, full


def test_the_first_refresh_builds_everyone_and_a_night_only_the_participants_with_new_rows(two_nights):
    first, changed, _contradicted, incremental, full = two_nights
    datasets = ("participants", "questionnaires", "scores", "exercises")
    named = " UNION ".join(f"SELECT participant_id FROM staging.{dataset}" for dataset in datasets)
    everyone = frame(incremental, f"SELECT count(DISTINCT participant_id) FROM ({named})").item()
    assert frame(incremental, "SELECT participants_rebuilt FROM ops.refreshes ORDER BY refresh_id")[
        "participants_rebuilt"
    ].to_list() == [everyone, len(changed)]  # night 1 already names P99999, in its held row
    assert frame(full, "SELECT participants_rebuilt FROM ops.refreshes WHERE refresh_id = 2").item() == everyone
    assert first.files_loaded > 0


@pytest.mark.parametrize("table", MARTS_AND_QUARANTINE)
def test_a_nightly_rebuild_equals_a_full_rebuild(two_nights, table):
    *_, incremental, full = two_nights
    timestamps = " EXCLUDE (first_seen_at, resolved_at)" if table == "quality.quarantine" else ""
    sql = f"SELECT *{timestamps} FROM {table} ORDER BY ALL"
    assert_frame_equal(frame(incremental, sql), frame(full, sql), check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def test_the_nights_changes_reach_the_marts(two_nights):
    _first, _changed, contradicted, incremental, _full = two_nights
    moved = frame(
        incremental, "SELECT site_id, cohort_id FROM marts.participant_outcomes WHERE participant_id = 'P00001'"
    )
    assert set(moved.iter_rows()) == {("south", "moved")}
    assert frame(incremental, "SELECT count(*) FROM marts.administrations WHERE participant_id = 'P99999'").item() == 1
    conflicting = frame(
        incremental,
        "SELECT source_file, source_row FROM quality.quarantine WHERE rule = 'conflicting_duplicate' "
        "AND NOT is_resolved AND (source_file = 'questionnaires_night2.csv' OR (source_file, source_row) = (?, ?))",
        list(contradicted),
    )
    assert sorted(conflicting.iter_rows()) == sorted([contradicted, ("questionnaires_night2.csv", 2)])
    endpoint = frame(
        incremental,
        "SELECT endpoint_score FROM marts.participant_outcomes "
        "WHERE participant_id = 'P00002' AND instrument = 'GAD-7' AND subscale = 'total'",
    ).item()
    assert endpoint == 0.0
    logged = frame(
        incremental,
        "SELECT count(*) FROM marts.practices WHERE participant_id = 'P00004' AND exercise = 'breathing' "
        "AND duration_minutes = 12 AND distress_before = 7 AND distress_after = 4",
    )
    assert logged.item() == 1


def test_the_digest_follows_the_settings_the_marts_are_built_by():
    assert marts_digest(Settings()) == marts_digest(Settings())
    assert marts_digest(Settings()) != marts_digest(Settings(windows=Windows(endpoint=(49, 84))))
    assert marts_digest(Settings()) == marts_digest(Settings(min_cell=10))  # a dashboard setting: no rebuild
    assert marts_digest(Settings()) != marts_digest(Settings(timezone="Pacific/Auckland"))


def test_a_new_time_zone_dates_every_row_anew_as_a_first_build_would(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    one_participant("2026-02-01").write_csv(inbox / "participants.csv")
    # 12:30 on 2 February in Auckland is 23:30 on 1 February in London; a bare date is midnight where the program is
    pl.DataFrame(
        {"participant_id": ["P0001"] * 2, "instrument": ["GAD-7"] * 2}
        | {"completed_at": ["2026-02-01T23:30:00Z", "2026-02-10"]}
        | {f"item_{i}": ["1", "2"] for i in range(1, 8)}
    ).write_csv(inbox / "questionnaires.csv")
    pl.DataFrame(
        {"participant_id": ["P0001"], "started_at": ["2026-02-01T23:30:00Z"], "exercise": ["breathing"]}
        | {"duration_minutes": ["5"]}
    ).write_csv(inbox / "exercises.csv")
    auckland, london = tmp_path / "auckland.toml", tmp_path / "london.toml"
    auckland.write_text('[program]\ntimezone = "Pacific/Auckland"\n')
    london.write_text('[program]\ntimezone = "Europe/London"\n')
    dates = (
        "SELECT a.completed_date, a.days_since_enrolment, x.started_date "
        "FROM marts.assessments AS a, marts.practices AS x ORDER BY ALL"
    )
    moved, fresh = tmp_path / "moved.duckdb", tmp_path / "fresh.duckdb"
    refresh(inbox=inbox, warehouse=moved, config=auckland, as_of=SAMPLE_AS_OF)
    assert frame(moved, dates).rows() == [
        (date(2026, 2, 2), 1, date(2026, 2, 2)),
        (date(2026, 2, 10), 9, date(2026, 2, 2)),
    ]
    refresh(inbox=inbox, warehouse=moved, config=london, as_of=SAMPLE_AS_OF)
    refresh(inbox=inbox, warehouse=fresh, config=london, as_of=SAMPLE_AS_OF)
    expected = [(date(2026, 2, 1), 0, date(2026, 2, 1)), (date(2026, 2, 10), 9, date(2026, 2, 1))]
    assert frame(moved, dates).rows() == frame(fresh, dates).rows() == expected
    instants = "SELECT completed_at FROM staging.questionnaires ORDER BY ALL"
    assert frame(moved, instants).equals(frame(fresh, instants))  # the bare date is midnight in London now


def test_marts_first_built_from_an_empty_inbox_take_the_next_nights_rows(sample_warehouse, tmp_path):
    # the participant marts are created by the first refresh, here with no rows: their types must still fit
    empty, warehouse = tmp_path / "empty", tmp_path / "warehouse.duckdb"
    empty.mkdir()
    refresh(inbox=empty, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    refresh(inbox=SAMPLE_DATA, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    for table in ("marts.assessments", "marts.baselines_endpoints", "marts.participant_outcomes"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert_frame_equal(frame(warehouse, sql), frame(sample_warehouse, sql))


@pytest.mark.parametrize("participants_per_batch", [7, 1])
def test_building_and_checking_a_batch_of_participants_at_a_time_gives_the_marts_of_one_pass(
    prefect_server, sample_warehouse, tmp_path, monkeypatch, participants_per_batch
):
    """The participant marts are scored, the outcomes classified, the headline's alerts, sums and practice gathered
    and the marts checked a batch of participants at a time (pipelines/stages.py, PARTICIPANTS_PER_BATCH): small
    batches give the rows one batch of everyone gave (the pooled statistics to the last digits), and the same
    check results."""
    warehouse, empty_inbox = tmp_path / "warehouse.duckdb", tmp_path / "inbox"
    empty_inbox.mkdir()
    shutil.copy(sample_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE ops.refreshes SET marts_digest = NULL")  # as if the transforms had changed: everyone
    monkeypatch.setattr(stages, "PARTICIPANTS_PER_BATCH", participants_per_batch)
    refresh(inbox=empty_inbox, warehouse=warehouse, as_of=SAMPLE_AS_OF)

    everyone = frame(sample_warehouse, "SELECT count(*) FROM marts.participants").item()
    rebuilt = frame(warehouse, "SELECT participants_rebuilt FROM ops.refreshes ORDER BY refresh_id DESC LIMIT 1")
    assert rebuilt.item() == everyone > 3 * participants_per_batch
    for table in MARTS_AND_QUARANTINE[:-1]:
        in_order = f"SELECT * FROM {table} ORDER BY ALL"
        assert_frame_equal(
            frame(warehouse, in_order), frame(sample_warehouse, in_order), check_exact=False, rel_tol=1e-12
        )
    checks = (
        "SELECT suite, batch, expectations_evaluated, expectations_failed, rows_failed, failed_rules "
        "FROM quality.validation_runs WHERE batch LIKE 'marts.%' AND refresh_id = ? ORDER BY ALL"
    )
    assert frame(warehouse, checks, [2]).equals(frame(sample_warehouse, checks, [1]))


def test_the_participants_rebuilt_come_in_batches_of_consecutive_ids(sample_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_warehouse, warehouse)
    build = WarehouseBuild(warehouse, "UTC")
    try:
        build.choose_rebuild("another digest")  # everyone
        ids = sorted(build.frame("SELECT participant_id FROM rebuild")["participant_id"])
        batches = build.rebuild_batches(40)
        assert batches == [(ids[start], ids[min(start + 39, len(ids) - 1)]) for start in range(0, len(ids), 40)]
        build.con.execute("DELETE FROM rebuild")
        assert build.rebuild_batches(40) == [(None, None)]  # one batch of no one: the marts are still made
    finally:
        build.discard()
