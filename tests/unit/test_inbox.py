"""Reading inbox files of every format into text rows with lineage; malformed files give a clear reason."""

import gzip
import json

import polars as pl
import pytest

from pipelines.inbox import InboxFile, UnreadableFile, list_inbox, read_table, sha256_of
from transforms.datasets import DATASETS, classify_file_name
from transforms.screening import rejection_reason


def inbox_file(tmp_path, name: str, data: bytes) -> InboxFile:
    path = tmp_path / name
    path.write_bytes(data)
    return InboxFile(path, name, *classify_file_name(name))


CSV = b"Participant_ID,INSTRUMENT,completed_at,item_1,item_2\nP0001,GAD-7,2026-03-01T09:12:00+01:00,1,\n"


def test_csv_columns_are_lower_cased_blanks_are_null_and_rows_numbered(tmp_path):
    rows = read_table(inbox_file(tmp_path, "questionnaires.csv", CSV))
    assert rows.columns == ["source_row", "participant_id", "instrument", "completed_at", "item_1", "item_2"]
    assert rows.row(0) == (1, "P0001", "GAD-7", "2026-03-01T09:12:00+01:00", "1", None)


def test_gzip_csv_reads_the_same(tmp_path):
    plain = read_table(inbox_file(tmp_path, "questionnaires.csv", CSV))
    assert read_table(inbox_file(tmp_path, "questionnaires.csv.gz", gzip.compress(CSV))).equals(plain)


def test_jsonl_responses_object_becomes_item_columns(tmp_path):
    lines = [
        {"participant_id": "P0001", "instrument": "GAD-7", "completed_at": "2026-03-01", "responses": {"1": 2, "3": 0}},
        {"participant_id": "P0002", "instrument": "GAD-7", "completed_at": "2026-03-02", "responses": {"2": 1}},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    rows = read_table(inbox_file(tmp_path, "questionnaires.jsonl.gz", gzip.compress(data)))
    assert rows.select("source_row", "item_1", "item_2", "item_3").rows() == [(1, "2", None, "0"), (2, None, "1", None)]


def test_camel_case_column_names_are_read_as_words_so_the_screen_sees_them(tmp_path):
    csv = b"ParticipantID,SiteId,NextOfKinPhone\nP0001,north,x\n"
    rows = read_table(inbox_file(tmp_path, "participants.csv", csv))
    assert rows.columns == ["source_row", "participant_id", "site_id", "next_of_kin_phone"]
    reason = rejection_reason(rows.drop("source_row"), DATASETS["participants"])
    assert reason == "column 3 is named like a direct identifier or free text (a phone number)"


def test_known_column_names_are_read_in_any_case(tmp_path):
    header = b"pArticipant_iD,SITE_ID,siteName,cOhort_iD,MoDaLiTy,enrolledDate,iTem_01\n"
    csv = header + b"P0001,north,N,c1,cbt,2026-03-01,1\n"
    rows = read_table(inbox_file(tmp_path, "participants.csv", csv))
    assert rows.columns == [
        "source_row",
        "participant_id",
        "site_id",
        "site_name",
        "cohort_id",
        "modality",
        "enrolled_date",
        "item_1",
    ]
    assert rejection_reason(rows.drop("source_row"), DATASETS["participants"]) is None


def test_a_spreadsheets_words_apart_are_the_columns_words(tmp_path):
    csv = b"Participant ID,Site ID,cohort-id,Modality,Enrolled Date,Age Band\nP0001,north,c1,cbt,2026-03-01,25-34\n"
    rows = read_table(inbox_file(tmp_path, "participants.csv", csv))
    assert rows.columns[1:] == ["participant_id", "site_id", "cohort_id", "modality", "enrolled_date", "age_band"]
    assert rejection_reason(rows.drop("source_row"), DATASETS["participants"]) is None


def test_item_numbers_lose_their_leading_zeros_in_csv_and_json(tmp_path):
    csv = b"participant_id,instrument,completed_at,ITEM_01,item_002,item_10\nP0001,GAD-7,2026-03-01,1,2,3\n"
    rows = read_table(inbox_file(tmp_path, "questionnaires.csv", csv))
    assert rows.select("item_1", "item_2", "item_10").row(0) == ("1", "2", "3")
    line = b'{"participant_id": "P0001", "responses": {"01": 4, "7": 5}}\n'
    rows = read_table(inbox_file(tmp_path, "questionnaires.jsonl", line))
    assert rows.columns == ["source_row", "participant_id", "item_1", "item_7"]
    assert rows.row(0) == (1, "P0001", "4", "5")


def test_parquet_types_become_text_with_rfc3339_timestamps(tmp_path):
    frame = pl.DataFrame(
        {
            "participant_id": ["P0001"],
            "started_at": ["2026-03-01T09:12:00+01:00"],
            "duration_minutes": [12.5],
            "is_completed": [True],
        }
    )
    frame = frame.with_columns(pl.col("started_at").str.to_datetime(time_zone="UTC"))
    path = tmp_path / "exercises.parquet"
    frame.write_parquet(path)
    rows = read_table(InboxFile(path, path.name, *classify_file_name(path.name)))
    assert rows.row(0, named=True) == {
        "source_row": 1,
        "participant_id": "P0001",
        "started_at": "2026-03-01T08:12:00+00:00",
        "duration_minutes": "12.5",
        "is_completed": "true",
    }


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("participants.csv.gz", b"not gzip at all", "not a readable gzip file"),
        ("participants.csv", "participant_id\nP\u00e9\n".encode("latin-1"), "not UTF-8 text"),
        ("participants.csv", b"a,b\n1,2,3,4\n", "cannot be parsed as csv"),
        ("participants.csv", b"Site_ID,site_id\n1,2\n", "column 2 (site_id) appears more than once"),
        ("participants.csv", b"site_id,SiteId\n1,2\n", "column 2 (site_id) appears more than once"),
        ("participants.csv", b"site_id,site_id\n1,2\n", "column 2 (site_id) appears more than once"),
        (
            "participants.csv",
            b"Jane Smith 07700 900123,jane smith 07700 900123\n1,2\n",
            "column 2 appears more than once",
        ),
        (
            "participants.csv",
            b"participant_id,source_row\nP0001,7\n",
            "column 2 is named 'source_row', which is reserved",
        ),
        (
            "participants.csv",
            b"participant_id,SOURCE_ROW\nP0001,7\n",
            "column 2 is named 'source_row', which is reserved",
        ),
        (
            "participants.jsonl",
            b'{"participant_id": "P0001", "SourceRow": 7}\n',
            "column 2 is named 'source_row', which is reserved",
        ),
        (
            "questionnaires.jsonl",
            b'{"participant_id": "P0001", "responses": [1, 2]}\n',
            "`responses` must be an object",
        ),
        ("questionnaires.jsonl", b'{"participant_id": "jane@example.org" oops\n', "cannot be parsed as jsonl"),
        (
            "questionnaires.csv",
            b"participant_id,item_01,item_1\nP0001,1,2\n",
            "column 3 (item_1) appears more than once",
        ),
        (
            "questionnaires.jsonl",
            b'{"participant_id": "P0001", "item_2": 1, "responses": {"2": 3}}\n',
            "column 3 (item_2) appears more than once",
        ),
        ("participants.jsonl", b'{"participant_id": "P0001", "gender": ["jane"]}\n', "column 2 (gender) holds lists"),
        (
            "participants.jsonl",
            b'{"participant_id": "P0001", "jane@example.org": ["x"]}\n',
            "column 2 holds lists",
        ),
        (
            "questionnaires.jsonl",
            b'{"participant_id": "P0001", "responses": {"1": [1, "jane"]}}\n',
            "column 2 (item_1) holds lists",
        ),
        (
            "questionnaires.jsonl",
            b'{"participant_id": "P0001", "1": "jane", "responses": {"1": 2}}\n',
            "cannot be read as a table of single values (DuplicateError)",
        ),
    ],
)
def test_malformed_files_say_why_without_quoting_content(tmp_path, name, data, reason):
    with pytest.raises(UnreadableFile) as error:
        read_table(inbox_file(tmp_path, name, data))
    assert str(error.value).startswith(reason)
    assert "jane" not in str(error.value)


def test_listing_skips_hidden_files_and_names_files_relative_to_the_inbox(tmp_path):
    (tmp_path / "site-a").mkdir()
    (tmp_path / "site-a" / "participants.csv").write_text("x")
    (tmp_path / ".partial.csv").write_text("x")
    assert [f.file_name for f in list_inbox(tmp_path)] == ["site-a/participants.csv"]


def test_a_link_leaving_the_inbox_is_listed_as_such_and_a_linked_folder_is_not_entered(tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir(), outside.mkdir()
    (outside / "participants.csv").write_text("secret")
    (inbox / "participants.csv").write_text("x")
    (inbox / "participants_link.csv").symlink_to(outside / "participants.csv")
    (inbox / "participants_same.csv").symlink_to(inbox / "participants.csv")
    (inbox / "elsewhere").symlink_to(outside, target_is_directory=True)
    listed = {f.file_name: f.leaves_inbox for f in list_inbox(inbox)}
    assert listed == {"participants.csv": False, "participants_link.csv": True, "participants_same.csv": False}
    [link] = [f for f in list_inbox(inbox) if f.leaves_inbox]
    assert link.digest() == link.digest() != sha256_of(outside / "participants.csv")  # the target is never read
