"""`securebase generate --format redcap|fhir`: the same synthetic program as a REDCap or FHIR export, which a real
refresh turns into the marts the native export gives (ids mapped to their pseudonyms)."""

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.flows import refresh
from pipelines.generate import SAMPLE_AS_OF
from securebase.settings import load_settings
from tests.integration.test_adapters_redcap import comparable, frame
from tests.unit.test_adapters import adapted, adapted_whole, ndjson_lines
from transforms.adapters.fhir import fhir_config
from transforms.pseudonyms import pseudonym

PARTICIPANTS = "40"
MARTS = {
    "marts.participants": ("therapist_id", "age_band", "gender"),  # the FHIR roster carries none of these
    "marts.assessments": ("administration_id",),
    "marts.participant_outcomes": (),
    "marts.cohort_outcomes": (),
    "marts.exercise_engagement": (),
}


def generated(folder: Path, source: str) -> tuple[Path, Path | None]:
    """An export written by the command line; its config (None for the native format)."""
    result = CliRunner().invoke(
        app, ["generate", "--out", str(folder), "--participants", PARTICIPANTS, "--format", source]
    )
    assert result.exit_code == 0, result.output
    config = folder / ".securebase" / "config.toml"
    return folder, (config if source != "native" else None)


@pytest.fixture(scope="module")
def native(prefect_server, tmp_path_factory):
    inbox, _ = generated(tmp_path_factory.mktemp("native") / "inbox", "native")
    warehouse = inbox.parent / "warehouse.duckdb"
    refresh(inbox=inbox, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    return warehouse


@pytest.mark.parametrize("source", ["redcap", "fhir"])
def test_a_generated_source_export_gives_the_native_marts(native, tmp_path, source):
    inbox, config = generated(tmp_path / "inbox", source)
    warehouse = tmp_path / "warehouse.duckdb"
    summary = refresh(inbox=inbox, warehouse=warehouse, config=config, as_of=SAMPLE_AS_OF)
    assert summary.files_rejected == 0 and summary.rows_quarantined == 0
    key = (inbox / ".securebase" / "pseudonymisation.key").read_bytes().strip()
    natives = frame(native, "SELECT participant_id FROM marts.participants")["participant_id"].to_list()
    source_id = "{}" if source == "redcap" else "Patient/{}"
    ids = {native_id: pseudonym(key, source, source_id.format(native_id)) for native_id in natives}
    for table, dropped in MARTS.items():
        drop = dropped if source == "fhir" or table != "marts.participants" else ()
        adapted, expected = comparable(warehouse, table, drop), comparable(native, table, drop, ids)
        assert_frame_equal(adapted, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)  # sums in other orders


def test_a_generated_fhir_export_adapts_as_when_each_line_is_validated_whole(tmp_path):
    inbox, config = generated(tmp_path / "inbox", "fhir")
    settings = load_settings(config)
    fhir = fhir_config(settings.sources.get("fhir"), settings.instruments)
    for name in ("EpisodeOfCare.ndjson", "QuestionnaireResponse.ndjson"):
        lines = ndjson_lines(inbox / name)
        rows, quarantine = adapted(lines, fhir, settings.timezone)
        assert len(rows) == len(lines) and quarantine == []
        assert (rows, quarantine) == adapted_whole(lines, fhir, settings.timezone)


def test_messy_is_for_native_files_only(tmp_path):
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--format", "fhir", "--messy"])
    assert result.exit_code == 1


def test_a_source_export_larger_than_one_part_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["generate", "--out", str(out), "--participants", "100001", "--format", "redcap"])
    assert result.exit_code == 1
    assert "writes at most 100,000 participants" in result.output
    assert not out.exists()
