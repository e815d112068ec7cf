"""A REDCap longitudinal export refreshed for real: pseudonymised at the door, forms mapped, incomplete forms kept
out, a form held until its roster row arrives, and the same outcomes as the program's native CSVs.

Fixtures: tests/fixtures/adapters/ (README there). The key is made in the test's own folder.
"""

import secrets
import shutil
from datetime import date

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.flows import refresh
from tests.conftest import ROOT
from transforms.pseudonyms import pseudonym

FIXTURES = ROOT / "tests" / "fixtures" / "adapters"
AS_OF = date(2026, 4, 30)
RECORDS = ("MRN4471902", "MRN4471915", "MRN4471933", "MRN4471948", "MRN4471950")
REDCAP_CONFIG = """
[program]
timezone = "Europe/London"

[pseudonymisation]
key_file = "{key_file}"

[redcap]
record_id = "record_id"
enrolment_event = "enrolment_arm_1"

[redcap.roster]
site_id = "site"
cohort_id = "group_code"
modality = "modality"
enrolled_date = "enrol_date"
ended_date = "end_date"

[redcap.choices.modality]
"1" = "cbt"
"2" = "group"
"3" = "ipt"

[redcap.forms.phq9]
instrument = "PHQ-9"
items = ["phq9_1", "phq9_2", "phq9_3", "phq9_4", "phq9_5", "phq9_6", "phq9_7", "phq9_8", "phq9_9"]
completed_at = "phq9_timestamp"

[redcap.forms.gad7]
instrument = "GAD-7"
items = ["gad7_1", "gad7_2", "gad7_3", "gad7_4", "gad7_5", "gad7_6", "gad7_7"]
completed_at = "gad7_timestamp"
offset = 1
"""
COMPARED = {  # mart: columns that name a file's lineage, which differ between deliveries
    "marts.participants": (),
    "marts.assessments": ("administration_id",),
    "marts.participant_outcomes": (),
    "marts.cohort_outcomes": (),
    "marts.outcome_parameters": (),
}


def key_file(folder):
    path = folder / "pseudonymisation.key"
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o600)
    return path


def config_file(folder, key, template=REDCAP_CONFIG):
    path = folder / "program.toml"
    path.write_text(template.format(key_file=key))
    return path


def frame(warehouse, sql) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def comparable(warehouse, table, drop, rename=None) -> pl.DataFrame:
    """A mart in a stable order, lineage columns dropped, ids renamed."""
    mart = frame(warehouse, f"SELECT * FROM {table}").drop(drop)
    if rename and "participant_id" in mart.columns:
        mart = mart.with_columns(pl.col("participant_id").replace_strict(rename))
    return mart.sort(mart.columns, nulls_last=True)


@pytest.fixture(scope="module")
def redcap_nights(prefect_server, tmp_path_factory):
    """Night 1 (MRN4471950's enrolment row missing), then night 2's full export beside it."""
    folder = tmp_path_factory.mktemp("redcap")
    inbox = folder / "inbox"
    inbox.mkdir()
    key = key_file(folder)
    config = config_file(folder, key)
    warehouse = folder / "warehouse.duckdb"
    shutil.copy(FIXTURES / "redcap" / "redcap_export_night1.csv", inbox)
    first = refresh(inbox=inbox, warehouse=warehouse, config=config, as_of=AS_OF)
    night_1 = folder / "night1.duckdb"
    shutil.copy(warehouse, night_1)
    shutil.copy(FIXTURES / "redcap" / "redcap_export_night2.csv", inbox)
    second = refresh(inbox=inbox, warehouse=warehouse, config=config, as_of=AS_OF)
    ids = {record: pseudonym(key.read_bytes().strip(), "redcap", record) for record in RECORDS}
    return {"night_1": night_1, "warehouse": warehouse, "ids": ids, "first": first, "second": second, "dir": folder}


def test_night_one_maps_forms_and_quarantines_what_is_not_an_administration(redcap_nights):
    files = frame(
        redcap_nights["night_1"],
        "SELECT dataset, adapted_as, rows_read, rows_loaded, rows_quarantined FROM ops.files ORDER BY file_number",
    )
    assert files.rows() == [
        ("participants", "redcap roster from enrolment_arm_1", 4, 4, 0),
        # 11 answered PHQ-9s: MRN4471950's is held, MRN4471933's week 10 has no completion time; the rows with
        # `[not completed]` and no answer are not administrations at all
        ("questionnaires", "redcap form phq9 as PHQ-9", 11, 9, 2),
        # 11 answered GAD-7 rows (a repeating instrument, two instances once): the Incomplete one is quarantined
        ("questionnaires", "redcap form gad7 as GAD-7", 11, 10, 1),
    ]
    quarantine = frame(
        redcap_nights["night_1"],
        "SELECT source_file, source_row, rule, column_name FROM quality.quarantine ORDER BY source_row, rule",
    )
    assert quarantine.rows() == [  # 1-based data rows: the header is not counted
        ("redcap_export_night1.csv", 11, "incomplete_form", "gad7_complete"),
        ("redcap_export_night1.csv", 16, "missing_value", "phq9_timestamp"),
        ("redcap_export_night1.csv", 24, "unknown_participant", "participant_id"),
    ]
    assert redcap_nights["first"].rows_released == 0


def test_pseudonyms_replace_record_ids_and_codes_are_mapped(redcap_nights):
    ids = redcap_nights["ids"]
    roster = frame(
        redcap_nights["warehouse"], "SELECT participant_id, site_id, cohort_id, modality FROM marts.participants"
    )
    assert sorted(roster.rows()) == sorted(
        [
            (ids["MRN4471902"], "north", "grp-a", "cbt"),
            (ids["MRN4471915"], "north", "grp-a", "cbt"),
            (ids["MRN4471933"], "south", "grp-b", "group"),
            (ids["MRN4471948"], "south", "grp-b", "group"),
            (ids["MRN4471950"], "north", "grp-c", "ipt"),
        ]
    )
    assert all(len(i) == 21 and i.startswith("p") for i in ids.values())


def test_night_two_releases_the_held_form_and_loads_repeats_once(redcap_nights):
    assert redcap_nights["second"].rows_released == 1
    warehouse, ids = redcap_nights["warehouse"], redcap_nights["ids"]
    open_rules = frame(warehouse, "SELECT source_file, rule FROM quality.quarantine WHERE NOT is_resolved")
    assert sorted(open_rules.rows()) == [
        ("redcap_export_night1.csv", "incomplete_form"),
        ("redcap_export_night1.csv", "missing_value"),
        ("redcap_export_night2.csv", "incomplete_form"),
        ("redcap_export_night2.csv", "missing_value"),
    ]
    counts = frame(warehouse, "SELECT instrument, count(*) AS n FROM marts.administrations GROUP BY ALL ORDER BY 1")
    assert counts.rows() == [("GAD-7", 10), ("PHQ-9", 10)]  # night 2's copies of night 1's forms load once
    outcome = frame(
        warehouse,
        "SELECT instrument, baseline_score, endpoint_score, change_score FROM marts.participant_outcomes "
        f"WHERE participant_id = '{ids['MRN4471902']}' ORDER BY instrument",
    )
    # PHQ-9 2+3+2+2+1+2+1+1+0 = 14 → 0+1+1+1+0+1+0+0+0 = 4; GAD-7 (codes 1–4, offset 1) 15 → 4
    assert outcome.rows() == [("GAD-7", 15.0, 4.0, -11.0), ("PHQ-9", 14.0, 4.0, -10.0)]
    late = frame(
        warehouse,
        "SELECT completed_date, days_since_enrolment FROM marts.assessments "
        f"WHERE participant_id = '{ids['MRN4471948']}' AND instrument = 'PHQ-9' ORDER BY completed_date DESC LIMIT 1",
    )
    # 2026-04-06 23:30 in London (BST) is 22:30 UTC: the day stays the 6th, day 70 after 2026-01-26
    assert late.rows() == [(date(2026, 4, 6), 70)]


def assert_same_outcomes_as_native(adapted_warehouse, ids: dict[str, str], folder) -> None:
    """The program's native CSVs refreshed into `folder`: every compared mart equals the adapted warehouse's, the
    native ids mapped to their pseudonyms by `ids`, to floating-point rounding."""
    inbox = folder / "inbox"
    inbox.mkdir()
    for name in ("participants.csv", "questionnaires.csv"):
        shutil.copy(FIXTURES / "native" / name, inbox)
    warehouse = folder / "native.duckdb"
    config = folder / "native.toml"
    config.write_text('[program]\ntimezone = "Europe/London"\n')
    refresh(inbox=inbox, warehouse=warehouse, config=config, as_of=AS_OF)
    for table, lineage in COMPARED.items():
        native = comparable(warehouse, table, lineage, ids)
        adapted = comparable(adapted_warehouse, table, lineage)
        assert_frame_equal(adapted, native, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def test_outcomes_equal_the_native_delivery(redcap_nights, tmp_path):
    assert_same_outcomes_as_native(redcap_nights["warehouse"], redcap_nights["ids"], tmp_path)


def test_an_export_its_config_does_not_describe_is_rejected_naming_the_key(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(FIXTURES / "redcap" / "redcap_export_night1.csv", inbox)
    config = tmp_path / "program.toml"
    config.write_text(f'[pseudonymisation]\nkey_file = "{key_file(tmp_path)}"\n')
    warehouse = tmp_path / "warehouse.duckdb"
    summary = refresh(inbox=inbox, warehouse=warehouse, config=config, as_of=AS_OF)
    assert summary.files_rejected == 1
    files = frame(warehouse, "SELECT file_name, dataset, status, reason FROM ops.files")
    assert files.rows() == [
        ("redcap_export_night1.csv", "redcap", "rejected", "config key redcap.record_id is missing")
    ]
    assert frame(warehouse, "SELECT count(*) FROM raw.questionnaires").item() == 0


def test_the_worked_config_matches_the_projects_data_dictionary():
    """Every field the config maps is in the project's data dictionary, on the form it is mapped from, and the
    modality codes are the dictionary's choices (what a data manager checks when writing the config)."""
    import tomllib

    config = tomllib.loads(REDCAP_CONFIG.format(key_file="k"))["redcap"]
    dictionary = pl.read_csv(FIXTURES / "redcap" / "data_dictionary.csv", infer_schema=False)
    form_of = dict(zip(dictionary["Variable / Field Name"], dictionary["Form Name"], strict=True))
    assert {form_of[field] for field in config["roster"].values()} == {"enrolment"}
    for form, table in config["forms"].items():
        assert {form_of[item] for item in table["items"]} == {form}
    choices = dictionary.filter(pl.col("Variable / Field Name") == "modality")[
        "Choices, Calculations, OR Slider Labels"
    ]
    codes = [choice.split(",")[0].strip() for choice in choices.item().split("|")]
    assert codes == list(config["choices"]["modality"]) == ["1", "2", "3"]
