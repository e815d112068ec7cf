"""A --messy export: every planted fault is quarantined or rejected where planted, nothing valid is lost."""

import shutil
from datetime import date

import duckdb
import polars as pl
import pytest

from pipelines.flows import refresh
from pipelines.generate import SAMPLE_AS_OF, generate
from tests.conftest import one_participant

AS_OF = SAMPLE_AS_OF


def rows(warehouse, sql, parameters=None):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, parameters or []).fetchall()


@pytest.fixture(scope="module")
def messy(prefect_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    faults = generate(root / "inbox", participants=60, seed=5, messy=True)
    clean = root / "clean"
    generate(clean, participants=60, seed=5)
    refresh(inbox=clean, warehouse=root / "clean.duckdb", as_of=AS_OF)
    refresh(inbox=root / "inbox", warehouse=root / "warehouse.duckdb", as_of=AS_OF)
    return root, faults


def test_the_inbox_is_only_read(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    generate(inbox, participants=20, seed=2, messy=True)

    def snapshot():
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in inbox.iterdir()}

    before = snapshot()
    refresh(inbox=inbox, warehouse=tmp_path / "warehouse.duckdb", as_of=AS_OF)
    refresh(inbox=inbox, warehouse=tmp_path / "warehouse.duckdb", as_of=AS_OF)
    assert snapshot() == before


def test_quarantine_matches_the_planted_row_faults_row_for_row(messy):
    root, faults = messy
    planted = sorted((f.file_name, f.source_row, f.rule, f.column_name) for f in faults if f.source_row)
    found = rows(
        root / "warehouse.duckdb",
        "SELECT source_file, source_row, rule, column_name FROM quality.quarantine ORDER BY ALL",
    )
    assert found == planted


def test_files_with_identifiers_or_unreadable_are_rejected_whole(messy):
    root, faults = messy
    planted = sorted(f.file_name for f in faults if f.source_row is None)
    rejected = rows(
        root / "warehouse.duckdb",
        "SELECT file_name, rows_loaded, reason FROM ops.files WHERE status = 'rejected' ORDER BY 1",
    )
    assert [r[0] for r in rejected] == planted
    assert all(loaded == 0 for _, loaded, _ in rejected)
    reasons = {name: reason for name, _, reason in rejected}
    assert reasons["participants_with_contacts.csv"] == (
        "column 9 is named like a direct identifier or free text (an email address)"
    )
    assert reasons["exercises_phone.csv"] == "column 3 (exercise) holds a value that looks like a phone number"


def test_no_raw_value_of_a_rejected_file_is_stored(messy):
    root, _ = messy
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        tables = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()
        for (table,) in tables:
            text = con.execute(f"SELECT CAST(list(t) AS VARCHAR) FROM {table} AS t").fetchall()[0][0] or ""
            assert "@example.org" not in text, table
            assert "7946 0958" not in text, table


def test_valid_rows_are_never_lost_and_an_exact_duplicate_loads_once(messy):
    root, _ = messy
    count = "SELECT count(*) FROM marts.administrations"
    assert rows(root / "warehouse.duckdb", count) == rows(root / "clean.duckdb", count)
    outcomes = "SELECT * FROM marts.participant_outcomes ORDER BY ALL"
    assert rows(root / "warehouse.duckdb", outcomes) == rows(root / "clean.duckdb", outcomes)


def test_a_held_row_is_released_when_its_participant_arrives(messy, tmp_path):
    root, _ = messy
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse.duckdb"
    shutil.copytree(root / "inbox", inbox)
    shutil.copy(root / "warehouse.duckdb", warehouse)
    held = "SELECT is_resolved FROM quality.quarantine WHERE rule = 'unknown_participant'"
    assert rows(warehouse, held) == [(False,)]
    pl.DataFrame(
        {
            "participant_id": ["P99999"],
            "site_id": ["north"],
            "cohort_id": ["north-2026-01"],
            "modality": ["cbt"],
            "enrolled_date": ["2026-01-05"],
        }
    ).write_csv(inbox / "participants_next.csv")

    summary = refresh(inbox=inbox, warehouse=warehouse, as_of=AS_OF)

    assert summary.files_loaded == 1 and summary.rows_released == 1
    assert rows(warehouse, held) == [(True,)]
    assert rows(warehouse, "SELECT count(*) FROM marts.administrations WHERE participant_id = 'P99999'") == [(1,)]
    # rows 1–9 of the corrections file carry one fault each; row 6 (the held one) is now loaded beside row 10
    assert rows(
        warehouse,
        "SELECT rows_loaded, rows_quarantined FROM ops.files WHERE file_name = 'questionnaires_corrections.csv'",
    ) == [(2, 8)]


def test_a_rerun_changes_nothing_and_a_copy_under_another_name_is_a_duplicate(messy, tmp_path):
    root, _ = messy
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse.duckdb"
    shutil.copytree(root / "inbox", inbox)
    shutil.copy(root / "warehouse.duckdb", warehouse)
    snapshot = "SELECT * FROM marts.participant_outcomes ORDER BY ALL"
    before = rows(warehouse, snapshot)

    again = refresh(inbox=inbox, warehouse=warehouse, as_of=AS_OF)
    assert (again.files_loaded, again.files_rejected, again.files_duplicate, again.rows_loaded) == (0, 0, 0, 0)
    assert rows(warehouse, snapshot) == before

    shutil.copy(inbox / "participants.csv", inbox / "participants_copy.csv")
    copied = refresh(inbox=inbox, warehouse=warehouse, as_of=AS_OF)
    assert copied.files_duplicate == 1 and copied.rows_loaded == 0
    assert rows(warehouse, "SELECT status, reason FROM ops.files WHERE file_name = 'participants_copy.csv'") == [
        ("duplicate", "same bytes as participants.csv")
    ]
    assert rows(warehouse, snapshot) == before


def test_a_later_participants_row_replaces_the_earlier(messy, tmp_path):
    root, _ = messy
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse.duckdb"
    shutil.copytree(root / "inbox", inbox)
    shutil.copy(root / "warehouse.duckdb", warehouse)
    pl.DataFrame(
        {
            "participant_id": ["P00001"],
            "site_id": ["south"],
            "cohort_id": ["moved"],
            "modality": ["group"],
            "enrolled_date": [
                rows(warehouse, "SELECT enrolled_date FROM marts.participants WHERE participant_id = 'P00001'")[0][
                    0
                ].isoformat()
            ],
        }
    ).write_csv(inbox / "participants_update.csv")
    refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 7, 20))
    assert rows(warehouse, "SELECT site_id, cohort_id FROM marts.participants WHERE participant_id = 'P00001'") == [
        ("south", "moved")
    ]


def test_zero_padded_item_columns_load_like_plain_ones_and_odd_files_are_rejected_not_fatal(prefect_server, tmp_path):
    export, plain, padded = tmp_path / "export", tmp_path / "plain", tmp_path / "padded"
    generate(export, participants=20, seed=3)
    ecr = pl.read_csv(export / "questionnaires_ecr-r.csv.gz", infer_schema=False)
    for inbox in (plain, padded):
        inbox.mkdir()
        shutil.copy(export / "participants.csv", inbox)
    ecr.write_csv(plain / "questionnaires_ecr-r.csv")
    items = {c: f"item_{int(c.removeprefix('item_')):02d}" for c in ecr.columns if c.startswith("item_")}
    ecr.rename(items).write_csv(padded / "questionnaires_ecr-r.csv")
    # files that once stopped the whole refresh, or let contact details through to raw
    (padded / "participants_lists.jsonl").write_text(
        '{"participant_id": "P77777", "site_id": "north", "cohort_id": "c", "modality": "cbt", '
        '"enrolled_date": "2026-01-05", "gender": ["woman"]}\n'
    )
    ecr.head(3).with_columns(item_3=pl.lit("jo@clinic.example")).write_csv(padded / "questionnaires_contact.csv")
    ecr.head(3).with_columns(item_02=pl.col("item_2")).write_csv(padded / "questionnaires_twice.csv")

    refresh(inbox=plain, warehouse=tmp_path / "plain.duckdb", as_of=AS_OF)
    summary = refresh(inbox=padded, warehouse=tmp_path / "padded.duckdb", as_of=AS_OF)

    assert (summary.files_loaded, summary.files_rejected) == (2, 3)
    scores = "SELECT * EXCLUDE (administration_id) FROM marts.assessments ORDER BY ALL"
    assert rows(tmp_path / "padded.duckdb", scores) == rows(tmp_path / "plain.duckdb", scores) != []
    assert dict(
        rows(tmp_path / "padded.duckdb", "SELECT file_name, reason FROM ops.files WHERE status = 'rejected'")
    ) == {
        "participants_lists.jsonl": "column 6 (gender) holds lists or objects, not single values",
        "questionnaires_contact.csv": "column 6 (item_3) holds a value that looks like an email address",
        "questionnaires_twice.csv": "column 40 (item_2) appears more than once (names are case-insensitive)",
    }
    with duckdb.connect(str(tmp_path / "padded.duckdb"), read_only=True) as con:
        for (table,) in con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall():
            text = con.execute(f"SELECT CAST(list(t) AS VARCHAR) FROM {table} AS t").fetchall()[0][0] or ""
            assert "clinic.example" not in text, table


def test_conflicting_pre_scored_results_are_all_quarantined_and_exact_copies_load_once(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = tmp_path / "program.toml"
    config.write_text('[[instruments]]\nid = "BDI-II"\nkind = "scored"\nmin = 0\nmax = 63\n')
    pl.DataFrame(
        {
            "participant_id": ["P0001", "P0002", "P0003"],
            "site_id": ["north"] * 3,
            "cohort_id": ["c1"] * 3,
            "modality": ["cbt"] * 3,
            "enrolled_date": ["2026-01-05"] * 3,
        }
    ).write_csv(inbox / "participants.csv")
    pl.DataFrame(
        {
            "participant_id": ["P0001", "P0001", "P0002", "P0002", "P0003", "P0003"],
            "instrument": ["BDI-II"] * 6,
            "subscale": [None, "total", "total", "total", "total", "total"],
            "completed_at": ["2026-01-06T10:00:00Z"] * 4 + ["2026-01-06T10:00:00Z", "2026-01-07T10:00:00Z"],
            "score": ["20", "20", "20", "31", "12", "14"],
        }
    ).write_csv(inbox / "scores_bdi.csv")

    refresh(inbox=inbox, warehouse=tmp_path / "w.duckdb", config=config, as_of=AS_OF)

    assert rows(
        tmp_path / "w.duckdb", "SELECT source_row, rule, column_name FROM quality.quarantine ORDER BY source_row"
    ) == [(3, "conflicting_duplicate", "score"), (4, "conflicting_duplicate", "score")]
    assert rows(
        tmp_path / "w.duckdb", "SELECT participant_id, completed_date, score FROM marts.assessments ORDER BY ALL"
    ) == [("P0001", date(2026, 1, 6), 20.0), ("P0003", date(2026, 1, 6), 12.0), ("P0003", date(2026, 1, 7), 14.0)]


def test_rows_dated_in_the_future_load_once_their_day_has_come(prefect_server, tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    pl.DataFrame(
        {
            "participant_id": ["P0001", "P0002"],  # P0002 is registered for next week's group
            "site_id": ["north"] * 2,
            "cohort_id": ["c1", "c2"],
            "modality": ["group"] * 2,
            "enrolled_date": ["2026-02-02", "2026-03-09"],
        }
    ).write_csv(inbox / "participants.csv")
    pl.DataFrame(
        {
            "participant_id": ["P0001", "P0001", "P0002", "P0003"],  # P0003 is not in the roster
            "instrument": ["GAD-7"] * 4,
            "completed_at": [
                "2026-03-02T09:00:00Z",
                "2026-03-05T09:00:00Z",
                "2026-03-10T09:00:00Z",
                "2026-03-10T09:00:00Z",
            ],
        }
        | {f"item_{i}": ["1", "2", "3", "3"] for i in range(1, 8)}
    ).write_csv(inbox / "questionnaires_gad.csv")
    open_future = "SELECT source_file, source_row FROM quality.quarantine WHERE rule = 'in_future' AND NOT is_resolved"
    scored = "SELECT participant_id, completed_date FROM marts.assessments ORDER BY ALL"

    first = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 1))
    assert sorted(rows(warehouse, open_future)) == [
        ("participants.csv", 2),
        ("questionnaires_gad.csv", 2),
        ("questionnaires_gad.csv", 3),
        ("questionnaires_gad.csv", 4),
    ]
    assert rows(warehouse, scored) == [("P0001", date(2026, 3, 2))]  # the day after the as-of day is allowed
    assert first.rows_released == 0

    between = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 4))  # nothing new, one row now due
    assert (between.files_loaded, between.rows_released) == (0, 1)
    assert rows(warehouse, scored) == [("P0001", date(2026, 3, 2)), ("P0001", date(2026, 3, 5))]

    later = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 12))
    assert later.rows_released == 3
    assert rows(warehouse, open_future) == []
    # released from the future, P0003's form still faces the rules relating it to other rows: it is held
    held = "SELECT source_row FROM quality.quarantine WHERE rule = 'unknown_participant' AND NOT is_resolved"
    assert rows(warehouse, held) == [(4,)]
    assert rows(warehouse, "SELECT participant_id, cohort_id FROM marts.participants ORDER BY 1") == [
        ("P0001", "c1"),
        ("P0002", "c2"),
    ]
    assert rows(warehouse, scored)[-1] == ("P0002", date(2026, 3, 10))
    assert rows(warehouse, "SELECT rows_loaded, rows_quarantined FROM ops.files ORDER BY file_name") == [(2, 0), (3, 1)]


def test_a_bare_date_two_days_ahead_stays_held_until_its_day_is_allowed(prefect_server, tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    one_participant().write_csv(inbox / "participants.csv")
    # a bare date is midnight of its day: 2026-03-03 is the first instant after "the as-of day + 1"
    pl.DataFrame(
        {"participant_id": ["P0001"], "instrument": ["GAD-7"], "completed_at": ["2026-03-03"]}
        | {f"item_{i}": ["1"] for i in range(1, 8)}
    ).write_csv(inbox / "questionnaires.csv")
    scored = "SELECT completed_date FROM marts.assessments"

    held = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 1))
    assert (held.rows_quarantined, held.rows_released) == (1, 0)
    assert rows(warehouse, scored) == []
    allowed = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 2))
    assert allowed.rows_released == 1
    assert rows(warehouse, scored) == [(date(2026, 3, 3),)]


def test_a_rejected_value_is_stored_nowhere(prefect_server, tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    note = "told me her partner hits her"  # free text where a value belongs: the row is quarantined, its text dropped
    pl.DataFrame(
        {
            "participant_id": ["P0001", "P0002"],
            "site_id": ["north"] * 2,
            "cohort_id": ["c1"] * 2,
            "modality": ["cbt", "cbt"],
            "enrolled_date": ["2026-02-02"] * 2,
            "gender": ["woman", note],
        }
    ).write_csv(inbox / "participants.csv")
    pl.DataFrame(
        {"participant_id": ["P0001"] * 2, "instrument": ["GAD-7"] * 2}
        | {"completed_at": ["2026-02-03T09:00:00Z", "2026-02-04T09:00:00Z"]}
        | {f"item_{i}": ["1", note if i == 3 else "2"] for i in range(1, 8)}
    ).write_csv(inbox / "questionnaires.csv")
    practices = [("2026-02-05T09:00:00Z" if i else note, note if i == 1 else "journaling") for i in range(3)]
    pl.DataFrame(
        {"participant_id": ["P0001"] * 3, "duration_minutes": [10, 5, 5]}
        | {"started_at": [at for at, _ in practices], "exercise": [exercise for _, exercise in practices]}
    ).write_ndjson(inbox / "exercises.jsonl")
    summary = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 1))
    assert (summary.files_loaded, summary.rows_quarantined) == (3, 4)
    quarantined = "SELECT source_file, source_row, rule, column_name FROM quality.quarantine ORDER BY ALL"
    assert rows(warehouse, quarantined) == [
        ("exercises.jsonl", 1, "unparseable", "started_at"),
        ("exercises.jsonl", 2, "not_in_set", "exercise"),
        ("participants.csv", 2, "not_in_set", "gender"),
        ("questionnaires.csv", 2, "unparseable", "item_3"),
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()
        holding = [
            f"{schema}.{table}"
            for schema, table in tables
            if con.execute(
                f"SELECT count(*) FROM {schema}.{table} AS t WHERE t::VARCHAR LIKE ?", [f"%{note}%"]
            ).fetchone()[0]
        ]
        valid = con.execute("SELECT count(*) FROM marts.practices").fetchone()[0]
    assert holding == []
    assert valid == 1  # the valid row is there


def test_a_file_whose_name_holds_contact_details_is_rejected_under_a_stand_in(prefect_server, tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "w.duckdb"
    (inbox / "Jane Smith 07700 900123").mkdir(parents=True)
    roster = one_participant()
    roster.write_csv(inbox / "Jane Smith 07700 900123" / "participants.csv")
    roster.with_columns(participant_id=pl.lit("P0002")).write_csv(inbox / "participants_jane@example.org.csv")
    first = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 1))
    assert (first.files_loaded, first.files_rejected) == (0, 2)
    files = rows(warehouse, "SELECT file_name, status, reason FROM ops.files ORDER BY file_name")
    assert [(status, reason) for _, status, reason in files] == [
        ("rejected", "its name looks like it holds an email address or phone number: rename the file")
    ] * 2
    assert all(name.startswith("withheld name ") for name, _, _ in files)
    second = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 2))  # seen already: not again
    assert (second.files_loaded, second.files_rejected, second.files_duplicate) == (0, 0, 0)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, table in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall():
            for part in ("Jane", "07700 900123", "07700900123", "example.org"):  # not "07700": a timing may hold it
                found = con.execute(
                    f"SELECT count(*) FROM {schema}.{table} AS t WHERE t::VARCHAR LIKE ?", [f"%{part}%"]
                )
                assert found.fetchone()[0] == 0, (schema, table, part)
    reports = sorted((tmp_path / "w-reports").glob("*.html"))
    assert len(reports) == 2 and not any("07700" in r.read_text() or "Jane" in r.read_text() for r in reports)
    # renamed as the reason asks, the same bytes load: they are not a duplicate of a file that was refused
    (inbox / "participants_jane@example.org.csv").rename(inbox / "participants_2.csv")
    renamed = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 3))
    assert (renamed.files_loaded, renamed.files_duplicate, renamed.rows_loaded) == (1, 0, 1)


def test_a_copy_refused_for_its_kind_hides_no_copy_of_it_that_night(prefect_server, tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    roster = one_participant()
    roster.write_csv(inbox / "exercises_roster.csv")  # listed first, and refused: no started_at
    roster.write_csv(inbox / "participants.csv")
    roster.write_csv(inbox / "participants_copy.csv")  # a true twin of a file that loads
    summary = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 1))
    assert (summary.files_loaded, summary.files_rejected, summary.files_duplicate) == (1, 1, 1)
    files = rows(warehouse, "SELECT file_name, status, reason FROM ops.files ORDER BY file_number")
    assert [(name, status) for name, status, _ in files] == [
        ("exercises_roster.csv", "rejected"),
        ("participants.csv", "loaded"),
        ("participants_copy.csv", "duplicate"),
    ]
    assert files[2][2] == "same bytes as participants.csv"


def test_a_file_refused_for_its_name_hides_no_copy_of_it_that_night(prefect_server, tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "w.duckdb"
    (inbox / "Jane Smith 07700 900123").mkdir(parents=True)
    roster = one_participant()
    roster.write_csv(inbox / "Jane Smith 07700 900123" / "participants.csv")  # listed first
    roster.write_csv(inbox / "participants.csv")
    summary = refresh(inbox=inbox, warehouse=warehouse, as_of=date(2026, 3, 1))
    assert (summary.files_loaded, summary.files_rejected, summary.files_duplicate) == (1, 1, 0)
