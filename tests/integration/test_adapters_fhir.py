"""An EHR's FHIR R4 Bulk Data export refreshed for real: EpisodeOfCare and QuestionnaireResponse adapted, every
other resource ignored and counted, bad lines quarantined by line, and the same outcomes as the native CSVs."""

import shutil
from datetime import date

import pytest

from pipelines.flows import refresh
from tests.integration.test_adapters_redcap import FIXTURES, assert_same_outcomes_as_native, frame, key_file
from transforms.pseudonyms import pseudonym

AS_OF = date(2026, 4, 30)
PATIENTS = {  # the native CSVs' ids and the EHR's Patient references of the same people
    "MRN4471902": "Patient/ehr-58812",
    "MRN4471915": "Patient/ehr-58840",
    "MRN4471933": "Patient/ehr-59017",
    "MRN4471948": "Patient/ehr-59123",
    "MRN4471950": "Patient/ehr-59288",
}
FHIR_CONFIG = """
[program]
timezone = "Europe/London"

[pseudonymisation]
key_file = "{key_file}"

[fhir]
sites = {{ "Organization/org-north" = "north", "Organization/org-south" = "south" }}
modalities = {{ "cbt" = "cbt", "group-therapy" = "group", "ipt" = "ipt" }}
"""


@pytest.fixture(scope="module")
def fhir_refresh(prefect_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fhir")
    inbox = folder / "inbox" / "bulk-export-2026-04-30"
    shutil.copytree(FIXTURES / "fhir", inbox, ignore=shutil.ignore_patterns("*.md"))
    key = key_file(folder)
    config = folder / "program.toml"
    config.write_text(FHIR_CONFIG.format(key_file=key))
    warehouse = folder / "warehouse.duckdb"
    summary = refresh(inbox=inbox.parent, warehouse=warehouse, config=config, as_of=AS_OF)
    ids = {native: pseudonym(key.read_bytes().strip(), "fhir", ref) for native, ref in PATIENTS.items()}
    return {"warehouse": warehouse, "ids": ids, "summary": summary}


def test_resources_become_parts_and_other_types_are_counted(fhir_refresh):
    files = frame(
        fhir_refresh["warehouse"],
        "SELECT file_name, dataset, adapted_as, rows_read, rows_loaded, rows_quarantined FROM ops.files "
        "ORDER BY file_number",
    )
    folder = "bulk-export-2026-04-30/"
    assert files.rows() == [
        (folder + "EpisodeOfCare.ndjson", "participants", "fhir EpisodeOfCare", 5, 5, 0),
        (folder + "Organization.ndjson", "fhir", "ignored: 2 Organization", 0, 0, 0),
        (folder + "Patient.ndjson", "fhir", "ignored: 5 Patient", 0, 0, 0),
        # 26 lines: the program's 20 responses load, 6 are quarantined
        (folder + "QuestionnaireResponse.ndjson", "questionnaires", "fhir QuestionnaireResponse", 26, 20, 6),
    ]


def test_bad_lines_are_quarantined_by_line_and_rule(fhir_refresh):
    quarantine = frame(
        fhir_refresh["warehouse"],
        "SELECT source_row, rule, column_name FROM quality.quarantine ORDER BY source_row",
    )
    assert quarantine.rows() == [
        (4, "entered_in_error", "status"),
        (11, "incomplete_form", "status"),  # in-progress
        (15, "unknown_instrument", "questionnaire"),
        (18, "unparseable", "44251-7"),  # a SNOMED coding: no ordinalValue, no LOINC answer code
        (20, "unparseable", "authored"),  # fails the R4B model
        (22, "unparseable", "resourceType"),  # a line cut short: not JSON
    ]
    details = frame(fhir_refresh["warehouse"], "SELECT detail FROM quality.quarantine WHERE source_row = 20")
    assert details.item() == "not a valid FHIR R4B QuestionnaireResponse (at authored)"


def test_outcomes_equal_the_native_delivery(fhir_refresh, tmp_path):
    assert_same_outcomes_as_native(fhir_refresh["warehouse"], fhir_refresh["ids"], tmp_path)
