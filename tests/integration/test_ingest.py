"""Ingesting one file at a time (the stage functions, without Prefect): every dataset in every format loads
exactly; every row rule of CONTRACT §4 quarantines the right row and column; rejected files load nothing."""

import gzip
import io
import json
from datetime import date

import polars as pl
import pytest

from pipelines.inbox import list_inbox
from pipelines.stages import examine_file, new_files, store_file
from pipelines.validation import RunParameters
from pipelines.warehouse import WarehouseBuild
from transforms.instruments import registry

INSTRUMENTS = registry([{"id": "BDI-II", "kind": "scored", "subscales": ["total"], "min": 0, "max": 63}])
RUN = RunParameters(date(2026, 3, 31), "UTC", INSTRUMENTS)

VALID = {
    "participants": {
        "participant_id": "P0001",
        "site_id": "north",
        "cohort_id": "n-1",
        "modality": "cbt",
        "therapist_id": "T-0001",
        "enrolled_date": "2026-03-01",
        "ended_date": "2026-03-20",
        "age_band": "25-34",
        "gender": "woman",
    },
    "questionnaires": {
        "participant_id": "P0001",
        "instrument": "GAD-7",
        "completed_at": "2026-03-02T09:00:00Z",
        **{f"item_{i}": str(i % 4) for i in range(1, 8)},
    },
    "scores": {
        "participant_id": "P0001",
        "instrument": "BDI-II",
        "subscale": "total",
        "completed_at": "2026-03-02",
        "score": "21",
    },
    "exercises": {
        "participant_id": "P0001",
        "started_at": "2026-03-03T19:30:00+01:00",
        "exercise": "breathing",
        "duration_minutes": "12.5",
        "distress_before": "6",
        "distress_after": "4",
        "is_completed": "true",
    },
}


def file_bytes(dataset: str, rows: list[dict], fmt: str) -> bytes:
    frame = pl.DataFrame(rows)
    if fmt.startswith(".csv"):
        data = frame.write_csv().encode()
    elif fmt.startswith(".jsonl"):
        lines = []
        for row in rows:
            items = {k.removeprefix("item_"): int(v) for k, v in row.items() if k.startswith("item_") and v}
            plain = {k: v for k, v in row.items() if not k.startswith("item_")}
            lines.append(json.dumps({**plain, "responses": items} if dataset == "questionnaires" else plain))
        data = "\n".join(lines).encode()
    else:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return buffer.getvalue()
    return gzip.compress(data) if fmt.endswith(".gz") else data


@pytest.fixture
def warehouse(tmp_path):
    build = WarehouseBuild(tmp_path / "warehouse.duckdb", "UTC")
    build.inbox = tmp_path / "inbox"
    build.inbox.mkdir()
    yield build
    build.discard()


def ingest(build: WarehouseBuild, name: str, data: bytes):
    (build.inbox / name).write_bytes(data)
    [planned] = new_files(build, list_inbox(build.inbox))
    return store_file(build, examine_file(planned, RUN))


def quarantined(build: WarehouseBuild, name: str) -> list[tuple]:
    return build.frame(
        "SELECT source_row, rule, column_name FROM quality.quarantine WHERE source_file = ? ORDER BY ALL", [name]
    ).rows()


@pytest.mark.parametrize("fmt", [".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet"])
@pytest.mark.parametrize("dataset", list(VALID))
def test_a_valid_file_loads_exactly_in_every_format(warehouse, dataset, fmt):
    rows = [VALID[dataset], {**VALID[dataset], "participant_id": "P0002"}]
    result = ingest(warehouse, f"{dataset}_export{fmt}", file_bytes(dataset, rows, fmt))
    assert (result.status, result.rows_read, result.rows_quarantined) == ("loaded", 2, 0)
    staged = warehouse.frame(f"SELECT * FROM staging.{dataset} ORDER BY source_row")
    assert staged["participant_id"].to_list() == ["P0001", "P0002"]
    assert staged["source_row"].to_list() == [1, 2]
    if dataset == "questionnaires":
        assert staged["responses"][0].to_list() == [1, 2, 3, 0, 1, 2, 3]
    if dataset == "exercises":
        assert staged.row(0, named=True)["started_at"].isoformat() == "2026-03-03T18:30:00+00:00"
        assert staged["duration_minutes"][0] == 12.5 and staged["is_completed"][0] is True


ROW_FAULTS = [
    ("participants", {"site_id": None}, "missing_value", "site_id"),
    ("participants", {"participant_id": "ab"}, "invalid_pseudonym", "participant_id"),
    ("participants", {"therapist_id": "Dr Who"}, "invalid_id", "therapist_id"),
    ("participants", {"site_id": "my therapist is Dr Smith"}, "invalid_id", "site_id"),
    ("participants", {"cohort_id": "Dr Smith's Tuesday group"}, "invalid_id", "cohort_id"),
    ("participants", {"modality": "hypnosis"}, "not_in_set", "modality"),
    ("participants", {"age_band": "17"}, "not_in_set", "age_band"),
    ("participants", {"gender": "female"}, "not_in_set", "gender"),
    ("participants", {"enrolled_date": "01/03/2026"}, "unparseable", "enrolled_date"),
    ("participants", {"enrolled_date": "2026-04-01", "ended_date": None}, "in_future", "enrolled_date"),
    ("participants", {"ended_date": "2026-02-01"}, "ended_before_enrolled", "ended_date"),
    ("questionnaires", {"participant_id": None}, "missing_value", "participant_id"),
    ("questionnaires", {"instrument": "GAD-8"}, "unknown_instrument", "instrument"),
    ("questionnaires", {"instrument": "BDI-II"}, "unknown_instrument", "instrument"),
    ("questionnaires", {"completed_at": "soon"}, "unparseable", "completed_at"),
    ("questionnaires", {"completed_at": "2026-04-02T00:00:00Z"}, "in_future", "completed_at"),
    ("questionnaires", {"item_2": "4"}, "out_of_range", "item_2"),
    ("questionnaires", {"item_2": "2.5"}, "unparseable", "item_2"),
    ("questionnaires", {"item_8": "1"}, "item_beyond_instrument", "item_8"),
    ("scores", {"instrument": "GAD-7"}, "unknown_instrument", "instrument"),
    ("scores", {"score": "64"}, "out_of_range", "score"),
    ("scores", {"score": "high"}, "unparseable", "score"),
    ("scores", {"score": None}, "missing_value", "score"),
    ("scores", {"subscale": "cognitive"}, "not_in_set", "subscale"),
    ("exercises", {"exercise": "yoga"}, "not_in_set", "exercise"),
    ("exercises", {"duration_minutes": "0"}, "out_of_range", "duration_minutes"),
    ("exercises", {"duration_minutes": "241"}, "out_of_range", "duration_minutes"),
    ("exercises", {"distress_before": "11"}, "out_of_range", "distress_before"),
    ("exercises", {"distress_after": "3.5"}, "unparseable", "distress_after"),
    ("exercises", {"is_completed": "maybe"}, "unparseable", "is_completed"),
]


@pytest.mark.parametrize(("dataset", "change", "rule", "column"), ROW_FAULTS)
def test_each_row_rule_quarantines_its_row_and_the_rest_loads(warehouse, dataset, change, rule, column):
    faulty = {**VALID[dataset], **change}
    valid = {column: VALID[dataset].get(column) for column in faulty}  # the same columns, valid values
    name = f"{dataset}_faulty.csv"
    result = ingest(warehouse, name, file_bytes(dataset, [valid, faulty], ".csv"))
    assert (result.status, result.rows_read, result.rows_quarantined) == ("loaded", 2, 1)
    assert quarantined(warehouse, name) == [(2, rule, column)]


FILE_FAULTS = [
    (
        "participants.csv",
        b"participant_id,site_id,cohort_id,enrolled_date\nP0001,n,c,2026-03-01\n",
        "required column 'modality' is missing",
    ),
    (
        "participants.csv",
        b"participant_id,site_id,cohort_id,modality,enrolled_date,Postcode\nP0001,n,c,cbt,2026-03-01,AB1\n",
        "column 6 is named like a direct identifier or free text (a postcode)",
    ),
    (
        "exercises.csv",
        b"participant_id,started_at,exercise,duration_minutes,journal_entry\nP0001,2026-03-01,other,5,x\n",
        "column 5 is named like a direct identifier or free text (a note or other free text)",
    ),
    (
        "participants.csv",
        b"participant_id,site_id,cohort_id,modality,enrolled_date\nP0001,n,c,cbt,2026-03-01\n"
        b"P0002,n,call 07700 900123,cbt,2026-03-01\n",
        "column 3 (cohort_id) holds a value that looks like a phone number",
    ),
    (
        "summary.csv",
        b"a\n1\n",
        "unknown dataset: the name must start with participants, questionnaires, scores, exercises or redcap, "
        "or end in .ndjson",
    ),
    ("participants.xlsx", b"PK\x03\x04", "unknown extension (expected .csv, .jsonl or .parquet, optionally .gz)"),
    ("participants.parquet", b"not parquet", "cannot be parsed as parquet"),
]


@pytest.mark.parametrize(("name", "data", "reason"), FILE_FAULTS)
def test_a_rejected_file_loads_nothing_and_says_why(warehouse, name, data, reason):
    result = ingest(warehouse, name, data)
    assert result.status == "rejected" and result.reason.startswith(reason)
    assert warehouse.frame("SELECT count(*) AS n FROM raw.participants")["n"][0] == 0
    assert warehouse.frame("SELECT status, rows_loaded FROM ops.files").rows() == [("rejected", 0)]
    assert "07700" not in result.reason
