"""The pure adapters (transforms/adapters/) and pseudonyms on tiny hand-made exports."""

import json
from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from transforms.adapters import SourceRejected, classify_source
from transforms.adapters.fhir import (
    DATASET_OF,
    adapt_fhir,
    fhir_config,
    model_failure,
    models,
    parsed,
    resource_row,
    validated,
)
from transforms.adapters.redcap import adapt_redcap, export_rejection, redcap_config
from transforms.instruments import registry
from transforms.pseudonyms import pseudonym

KEY = b"0123456789abcdef0123456789abcdef"
FHIR_FIXTURES = Path(__file__).parents[1] / "fixtures" / "adapters" / "fhir"
GAD_LINKS = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
SECTION = {
    "record_id": "record_id",
    "enrolment_event": "enrolment_arm_1",
    "roster": {"site_id": "site", "cohort_id": "grp", "modality": "mod", "enrolled_date": "enrol"},
    "choices": {"modality": {"1": "cbt", "2": "group"}},
    "forms": {"gad7": {"instrument": "GAD-7", "items": [f"g{i}" for i in range(1, 8)], "completed_at": "gad7_ts"}},
}


def test_pseudonym_is_the_keyed_hash_of_source_and_id():
    # printf 'redcap|MRN4471902' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
    assert pseudonym(KEY, "redcap", "MRN4471902") == "pa20dcab82731876bface"
    assert pseudonym(KEY, "fhir", "MRN4471902") != pseudonym(KEY, "redcap", "MRN4471902")
    assert pseudonym(KEY[::-1], "redcap", "MRN4471902") != pseudonym(KEY, "redcap", "MRN4471902")


def test_source_files_are_told_by_name():
    assert classify_source("REDCap_Export_2026-04-30.csv.gz") == ("redcap", ".csv.gz")
    assert classify_source("bulk/QuestionnaireResponse.ndjson") == ("fhir", ".ndjson")
    assert classify_source("questionnaires.csv") is None
    assert classify_source("redcap.jsonl") is None


@pytest.mark.parametrize(
    ("section", "reason"),
    [
        (None, "config key redcap.record_id is missing"),
        ({"record_id": "record_id"}, "config key redcap.roster is missing"),
        ({**SECTION, "roster": {"site_id": "site"}}, "config key redcap.roster.cohort_id is missing"),
        ({**SECTION, "roster": {**SECTION["roster"], "email": "e"}}, "redcap.roster.email is not a participants"),
        ({**SECTION, "forms": {"x": {"instrument": "BDI", "items": [], "completed_at": "t"}}}, "names no instrument"),
        ({**SECTION, "forms": {"x": {"instrument": "GAD-7", "items": ["a"], "completed_at": "t"}}}, "the 7 item"),
        ({**SECTION, "forms": {"x": {"instrument": "GAD-7", "items": list("abcdefg")}}}, "forms.x.completed_at is"),
    ],
)
def test_redcap_config_names_the_missing_or_wrong_key(section, reason):
    with pytest.raises(SourceRejected, match=reason.replace(".", r"\.")):
        redcap_config(section, registry())


def export(**columns) -> pl.DataFrame:
    frame = pl.DataFrame(columns, schema={name: pl.String for name in columns})
    return frame.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))


def gad_rows(rows: list[tuple]) -> pl.DataFrame:
    """Rows of (record, event, status, timestamp, first answer); the other six answers are 1 when the first is set."""
    return export(
        record_id=[r[0] for r in rows],
        redcap_event_name=[r[1] for r in rows],
        site=["north" if r[1] == "enrolment_arm_1" else None for r in rows],
        grp=["g1" if r[1] == "enrolment_arm_1" else None for r in rows],
        mod=["2" if r[1] == "enrolment_arm_1" else None for r in rows],
        enrol=["2026-01-05" if r[1] == "enrolment_arm_1" else None for r in rows],
        gad7_ts=[r[3] for r in rows],
        gad7_complete=[r[2] for r in rows],
        **{f"g{i}": [r[4] if i == 1 else (r[4] and "1") for r in rows] for i in range(1, 8)},
    )


def test_redcap_forms_count_only_when_complete_and_answered():
    config = redcap_config(SECTION, registry())
    rows = gad_rows(
        [
            ("R1", "enrolment_arm_1", "2", "2026-01-05 09:00:00", "3"),  # an administration
            ("R1", "week_5_arm_1", "0", "[not completed]", None),  # empty: not an administration, not quarantined
            ("R1", "week_10_arm_1", "1", "2026-03-16 09:00:00", "2"),  # Unverified
            ("R2", "week_5_arm_1", "2", "[not completed]", "0"),  # Complete, never submitted
            ("R2", "week_10_arm_1", None, None, "1"),  # answered, no status
            ("R2", "week_10_arm_1", "7", "2026-03-16 09:00:00", "1"),  # not a status
        ]
    )
    assert export_rejection(rows, config) is None
    roster, form = adapt_redcap(rows, config, KEY)
    assert roster.rows.rows() == [(1, pseudonym(KEY, "redcap", "R1"), "north", "g1", "group", "2026-01-05")]
    assert form.rows.select("source_row", "completed_at", "item_1", "item_7").rows() == [
        (1, "2026-01-05 09:00:00", "3", "1")
    ]
    assert form.failures.select("source_row", "rule", "column_name").rows() == [
        (3, "incomplete_form", "gad7_complete"),
        (4, "missing_value", "gad7_ts"),
        (5, "incomplete_form", "gad7_complete"),
        (6, "unparseable", "gad7_complete"),
    ]
    assert form.rows_read == 5  # the empty week-5 form was not read as a form
    assert "R1" not in str(form.rows) + str(roster.rows) + str(form.failures)


def test_redcap_export_refused_for_a_missing_field_or_an_identifier_column():
    config = redcap_config(SECTION, registry())
    rows = gad_rows([("R1", "enrolment_arm_1", "2", "2026-01-05 09:00:00", "3")])
    assert (
        export_rejection(rows.drop("g4"), config)
        == "column 'g4' named by config key redcap.forms.gad7.items is missing"
    )
    # a column is told by its position in the export, never by its header (the 15 columns above, then this one)
    assert export_rejection(rows.with_columns(email=pl.lit("x")), config) == (
        "REDCap column 16 is named like a direct identifier or free text (an email address)"
    )
    with_phone = rows.with_columns(contact=pl.lit("07700 900123"))
    assert export_rejection(with_phone, config) == "REDCap column 16 holds a value that looks like a phone number"
    in_the_middle = rows.select("record_id", pl.lit("07700 900123").alias("contact"), pl.exclude("record_id"))
    assert export_rejection(in_the_middle, config) == "REDCap column 2 holds a value that looks like a phone number"
    # the record id itself is pseudonymised, so a number that looks like a phone number there is fine
    assert export_rejection(rows.with_columns(record_id=pl.lit("4471902123")), config) is None


def response(status="completed", answers=None, url="http://loinc.org/q/69737-5|2.73", **extra) -> str:
    items = (
        answers if answers is not None else [{"linkId": link, "answer": [{"valueInteger": 1}]} for link in GAD_LINKS]
    )
    resource = {"resourceType": "QuestionnaireResponse", "status": status, "questionnaire": url}
    resource |= {"subject": {"reference": "Patient/123"}, "authored": "2026-03-01T09:00:00+01:00", "item": items}
    return json.dumps(resource | extra)


def coded(code, ordinal=None):
    coding = {"system": "http://loinc.org", "code": code}
    if ordinal is not None:
        coding["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": ordinal}]
    return [{"valueCoding": coding}]


def test_fhir_answers_from_integers_decimals_ordinals_and_loinc_codes_in_nested_groups():
    answers = [
        {"linkId": "group-1", "item": [{"linkId": "69725-0", "answer": coded("LA6571-9")}]},  # nested: 3
        {"linkId": "68509-9", "answer": coded("other-code", ordinal=2)},  # ordinalValue first: 2
        {"linkId": "69733-4", "answer": [{"valueDecimal": 1.0}]},
        {"linkId": "69734-2", "answer": [{"valueInteger": 0}]},
        {"linkId": "70274-6", "answer": [{"valueInteger": 21}]},  # the total score: ignored
    ]
    parts, note = adapt_fhir([(1, response(answers=answers))], fhir_config(None, registry()), KEY, "UTC")
    (part,) = parts
    row = part.rows.row(0, named=True)
    assert [row[f"item_{i}"] for i in range(1, 8)] == ["3", "2", "1", "0", None, None, None]
    assert (row["instrument"], row["completed_at"]) == ("GAD-7", "2026-03-01T09:00:00+01:00")
    assert row["participant_id"] == pseudonym(KEY, "fhir", "Patient/123") and note is None


def test_fhir_lines_quarantined_with_their_number_and_rule():
    lines = [
        (1, response(status="entered-in-error")),
        (2, response(status="stopped")),
        (3, response(url="http://example.org/Questionnaire/other")),
        (4, response(answers=[{"linkId": "69725-0", "answer": [{"valueString": "a lot"}]}])),
        (5, "{not json"),
        (6, json.dumps({"id": "x"})),
        (7, response(authored="soon")),
        (9, json.dumps({"resourceType": "Patient", "id": "123", "name": [{"family": "Okafor"}]})),
    ]
    parts, note = adapt_fhir(lines, fhir_config(None, registry()), KEY, "UTC")
    (part,) = parts
    assert part.rows.height == 0 and note == "ignored: 1 Patient"
    assert part.failures.select("source_row", "rule", "column_name").rows() == [
        (1, "entered_in_error", "status"),
        (2, "incomplete_form", "status"),
        (3, "unknown_instrument", "questionnaire"),
        (4, "unparseable", "69725-0"),
        (5, "unparseable", "resourceType"),
        (6, "unparseable", "resourceType"),
        (7, "unparseable", "authored"),
    ]
    assert "a lot" not in str(part.failures) and "soon" not in str(part.failures)


def test_a_file_with_no_fhir_resource_is_refused_and_episodes_map_to_the_roster():
    with pytest.raises(SourceRejected, match="no line is a FHIR resource"):
        adapt_fhir([(1, "hello"), (2, "[1, 2]")], fhir_config(None, registry()), KEY, "UTC")
    episode = {
        "resourceType": "EpisodeOfCare",
        "status": "active",
        "patient": {"reference": "Patient/123"},
        "managingOrganization": {"reference": "Organization/org-7"},
        "type": [{"coding": [{"code": "group-therapy"}]}],
        "team": [{"reference": "CareTeam/tuesday-group"}],
        "period": {"start": "2026-03-01T23:30:00+00:00"},
    }
    config = fhir_config({"modalities": {"group-therapy": "group"}}, registry())
    (part,), _ = adapt_fhir([(1, json.dumps(episode))], config, KEY, "Europe/London")
    assert part.rows.drop("source_row", "participant_id").row(0) == (
        "org-7",
        "tuesday-group",
        "group",
        "2026-03-01",
        None,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[redcap]\nrecord_id = "record_id"\n[redcap.roster]\nsite_id = "site"\n',
            "redcap.roster.cohort_id is missing",
        ),
        ('[fhir.questionnaires."http://x.org/q"]\ninstrument = "ECR-R"\nlink_ids = ["1"]\n', "the 36 linkIds"),
        ('[pseudonymisation]\nkey_fil = "k"\n', "pseudonymisation.key_fil: unknown key"),
        ("[pseudonymisation]\nkey_file = 7\n", "pseudonymisation.key_file must be a path in quotes"),
    ],
)
def test_source_sections_are_checked_when_the_settings_load(tmp_path, text, message):
    from securebase.settings import SettingsError, load_settings

    config = tmp_path / "program.toml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=message.replace(".", r"\.")):
        load_settings(config)


@pytest.mark.parametrize("site_id", ["North clinic", "north.1", "", "x" * 65])
def test_a_fhir_site_mapped_to_anything_but_a_code_is_refused_when_the_config_is_read(site_id):
    with pytest.raises(SourceRejected, match=r'fhir\.sites\."Organization/org-7" must be a site code'):
        fhir_config({"sites": {"Organization/org-7": site_id}}, registry())
    assert fhir_config({"sites": {"Organization/org-7": "north_1"}}, registry()).sites == {
        "Organization/org-7": "north_1"
    }


def adapted_whole(lines: list[tuple[int, str]], config, timezone: str) -> tuple[list[dict], list[tuple]]:
    """The reference: the rows (blanks left out) and quarantine of `adapt_fhir` had it validated each line whole
    with its R4B model, as it did before items were validated once each."""
    rows, quarantine = [], []
    for number, text in lines:
        resource, kind = parsed(text)
        if kind is None:
            quarantine.append((number, "unparseable", "resourceType", "not a FHIR resource as JSON"))
        elif kind in DATASET_OF:
            try:
                model = models()[kind].model_validate(resource)
            except ValidationError as error:
                quarantine.append((number, *model_failure(kind, error)))
                continue
            row, problems = resource_row(model, getattr(model, "item", None), config, KEY, timezone)
            quarantine += [(number, *problem) for problem in problems]
            rows += [{"source_row": number} | {k: v for k, v in row.items() if v is not None}] if row else []
    return rows, sorted(quarantine)


def adapted(lines: list[tuple[int, str]], config, timezone: str) -> tuple[list[dict], list[tuple]]:
    """`adapt_fhir`'s rows (blanks left out) and quarantine, in the reference's shape."""
    parts, _ = adapt_fhir(lines, config, KEY, timezone)
    rows = [{k: v for k, v in row.items() if v is not None} for part in parts for row in part.rows.to_dicts()]
    quarantine = [row for part in parts for row in part.failures.rows()]
    return sorted(rows, key=lambda row: row["source_row"]), sorted(quarantine)


def ndjson_lines(path: Path) -> list[tuple[int, str]]:
    return [(number, line) for number, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]


@pytest.mark.parametrize("name", ["EpisodeOfCare", "QuestionnaireResponse", "Patient"])
def test_fhir_fixtures_adapt_as_when_each_line_is_validated_whole(name):
    config = fhir_config({"sites": {"Organization/org-north": "north"}, "modalities": {"cbt": "cbt"}}, registry())
    lines = ndjson_lines(FHIR_FIXTURES / f"{name}.ndjson")
    rows, quarantine = adapted(lines, config, "Europe/London")
    assert (rows, quarantine) == adapted_whole(lines, config, "Europe/London")
    if name == "QuestionnaireResponse":  # the fixture's 20 good responses and 6 quarantined lines
        assert len(rows) == 20 and [row[0] for row in quarantine] == [4, 11, 15, 18, 20, 22]


def test_each_distinct_item_is_validated_once_and_the_response_is_the_whole_model():
    known, whole = {}, models()["QuestionnaireResponse"].model_validate(json.loads(response()))
    _first, first_items = validated("QuestionnaireResponse", json.loads(response()), known)
    second, second_items = validated("QuestionnaireResponse", json.loads(response()), known)
    assert {field: len(models) for field, models in known.items()} == {"item": 7, "subject": 1}
    assert all(a is b for a, b in zip(first_items, second_items, strict=True))
    assert second.model_copy(update={"item": second_items}).model_dump() == whole.model_dump()


def test_a_bad_item_among_repeated_ones_is_still_quarantined_with_its_line():
    def answered(value: dict, link: str = "69734-2") -> list[dict]:
        return [{"linkId": x, "answer": [value if x == link else {"valueInteger": 1}]} for x in GAD_LINKS]

    group = [{"linkId": "g", "item": answered({"valueInteger": 2})}]
    bad_group = [{"linkId": "g", "item": answered({"valueInteger": "two"}, link="69735-9")}]
    lines = [
        (1, response()),  # every item valid: validated once, then known
        (2, response()),
        (3, response(answers=group)),
        (4, response(answers=answered({"valueInteger": 1, "valueDecimal": 1.0}))),  # two value[x]
        (5, response(answers=answered({"valueInteger": "two"}))),
        (6, response(answers=answered({"valueInteger": 1.5}))),
        (7, response(authored="2026-13-01T09:00:00Z")),  # the items known, the dateTime not a date
        (8, response(answers=bad_group)),  # a bad item inside a group of known ones
        (9, response(answers=[*answered({"valueInteger": 1}), None])),
        (10, response(answers=[*answered({"valueInteger": 1}), {"linkId": "x", "colour": "red"}])),
        (11, response(answers=group)),
        (12, response(subject={"reference": "Patient/123", "colour": "red"})),
    ]
    config = fhir_config(None, registry())
    rows, quarantine = adapted(lines, config, "UTC")
    assert (rows, quarantine) == adapted_whole(lines, config, "UTC")
    assert [row["source_row"] for row in rows] == [1, 2, 3, 11]
    at = "not a valid FHIR R4B QuestionnaireResponse (at {})"
    assert [(row, column, detail) for row, _rule, column, detail in quarantine] == [
        (4, "item", at.format("item.3.answer.0")),
        (5, "item", at.format("item.3.answer.0.valueInteger")),
        (6, "item", at.format("item.3.answer.0.valueInteger")),
        (7, "authored", at.format("authored")),
        (8, "item", at.format("item.0.item.4.answer.0.valueInteger")),
        (9, "item", at.format("item")),
        (10, "item", at.format("item.7.colour")),
        (12, "subject", at.format("subject.colour")),
    ]
    assert {rule for _row, rule, _column, _detail in quarantine} == {"unparseable"}
    assert "two" not in str(quarantine) and "2026-13" not in str(quarantine)
