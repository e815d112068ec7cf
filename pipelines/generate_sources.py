"""The synthetic program (pipelines/generate.py) written as a REDCap export or an EHR's FHIR Bulk Data export.

`securebase generate --format redcap|fhir` writes these instead of the native questionnaire and roster files (the
exercise log stays a native file, its ids pseudonymised: neither system logs practices), and a config that maps
them, with a fresh pseudonymisation key, in the export folder's hidden `.securebase/` (a refresh never reads hidden
files).
The REDCap project is longitudinal: the roster on `enrolment_arm_1`, every questionnaire a repeating instrument on
`sessions_arm_1`, one instance per administration; the record id is the native participant id.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import polars as pl

from pipelines.generate import Program, _csv, _gzip
from transforms.adapters.fhir import BUILT_IN_QUESTIONNAIRES
from transforms.pseudonyms import pseudonym

MODALITY_CODES = {"cbt": "1", "group": "2", "ipt": "3", "eft": "4", "schema": "5", "other": "6"}
FORM_OF = {"ECR-R": "ecrr", "GAD-7": "gad7", "PHQ-9": "phq9", "RSES": "rses"}
OTHER_QUESTIONNAIRES = {
    "ECR-R": "http://securebase.example/fhir/Questionnaire/ecr-r",
    "RSES": "http://securebase.example/fhir/Questionnaire/rses",
}
ROSTER_FIELDS = {"site_id": "site", "cohort_id": "group_code", "modality": "modality", "therapist_id": "therapist"}
ROSTER_FIELDS |= {"enrolled_date": "enrol_date", "age_band": "age_band", "gender": "gender"}


def _items(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("item_")]


def redcap_export(program: Program) -> tuple[bytes, str]:
    """The REDCap raw-data CSV and the [redcap] config that maps it."""
    roster = program.participants.select(
        pl.col("participant_id").alias("record_id"),
        pl.lit("enrolment_arm_1").alias("redcap_event_name"),
        *[pl.col(column).alias(field) for column, field in ROSTER_FIELDS.items()],
    ).with_columns(pl.col("modality").replace_strict(MODALITY_CODES))
    forms, config = [], []
    for instrument, frame in program.questionnaires.items():
        form = FORM_OF[instrument]
        items = _items(frame)
        forms.append(
            frame.sort("participant_id", "completed_at").select(
                pl.col("participant_id").alias("record_id"),
                pl.lit("sessions_arm_1").alias("redcap_event_name"),
                pl.lit(form).alias("redcap_repeat_instrument"),
                (pl.int_range(pl.len()).over("participant_id") + 1).cast(pl.String).alias("redcap_repeat_instance"),
                pl.col("completed_at").str.replace("T", " ").str.strip_suffix("Z").alias(f"{form}_timestamp"),
                *[pl.col(item).cast(pl.String).alias(f"{form}_{item.removeprefix('item_')}") for item in items],
                pl.lit("2").alias(f"{form}_complete"),
            )
        )
        fields = ", ".join(f'"{form}_{item.removeprefix("item_")}"' for item in items)
        config.append(
            f'[redcap.forms.{form}]\ninstrument = "{instrument}"\nitems = [{fields}]\n'
            f'completed_at = "{form}_timestamp"\n'
        )
    export = pl.concat([roster, *forms], how="diagonal").sort("record_id", "redcap_event_name", maintain_order=True)
    roster_config = "\n".join(f'{column} = "{field}"' for column, field in ROSTER_FIELDS.items())
    choices = "\n".join(f'"{code}" = "{name}"' for name, code in MODALITY_CODES.items())
    text = (
        '[redcap]\nrecord_id = "record_id"\nenrolment_event = "enrolment_arm_1"\n\n'
        f"[redcap.roster]\n{roster_config}\n\n[redcap.choices.modality]\n{choices}\n\n" + "\n".join(config)
    )
    return _csv(export), text


def _response(row: dict, instrument: str, items: list[str]) -> dict:
    url, link_ids = next(
        ((u, links) for u, (i, links) in BUILT_IN_QUESTIONNAIRES.items() if i == instrument),
        (OTHER_QUESTIONNAIRES.get(instrument), [item.removeprefix("item_") for item in items]),
    )
    answers = [
        {"linkId": link, "answer": [{"valueInteger": row[item]}]}
        for link, item in zip(link_ids, items, strict=True)
        if row[item] is not None
    ]
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": url,
        "status": "completed",
        "subject": {"reference": f"Patient/{row['participant_id']}"},
        "authored": row["completed_at"],
        "item": answers,
    }


def fhir_export(program: Program) -> tuple[dict[str, bytes], str]:
    """The Bulk Data files (EpisodeOfCare, QuestionnaireResponse) and the [fhir] config that maps them."""
    episodes = [
        {
            "resourceType": "EpisodeOfCare",
            "status": "active",
            "type": [{"coding": [{"code": row["modality"]}]}],
            "patient": {"reference": f"Patient/{row['participant_id']}"},
            "managingOrganization": {"reference": f"Organization/{row['site_id']}"},
            "period": {"start": row["enrolled_date"]},
            "team": [{"reference": f"CareTeam/{row['cohort_id']}"}],
        }
        for row in program.participants.iter_rows(named=True)
    ]
    responses = [
        _response(row, instrument, _items(frame))
        for instrument, frame in program.questionnaires.items()
        for row in frame.iter_rows(named=True)
    ]
    lines = {
        name: "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in resources)
        for name, resources in (("EpisodeOfCare.ndjson", episodes), ("QuestionnaireResponse.ndjson", responses))
    }
    config = ["[fhir]"]
    for instrument, url in OTHER_QUESTIONNAIRES.items():
        count = len(_items(program.questionnaires[instrument]))
        links = ", ".join(f'"{n}"' for n in range(1, count + 1))
        config.append(f'[fhir.questionnaires."{url}"]\ninstrument = "{instrument}"\nlink_ids = [{links}]\n')
    return {name: text.encode("utf-8") for name, text in lines.items()}, "\n".join(config)


def write_source_export(out: Path, program: Program, source: str) -> Path:
    """Write the program as `source` (redcap or fhir) into `out`, and its config and a new key (kept if one is
    there) into `out/.securebase/`; return the config's path. The exercise log, which neither system keeps, is
    written as a native file whose participant ids are already pseudonyms under that key, as a practice app that
    joins such a program would have to write them."""
    private = out / ".securebase"
    private.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_file = private / "pseudonymisation.key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_hex(32) + "\n")
    key = key_file.read_bytes().rstrip(b"\r\n")
    if source == "redcap":
        export, config = redcap_export(program)
        files = {"redcap_export.csv": export}
    else:
        files, config = fhir_export(program)
    source_id = "{}" if source == "redcap" else "Patient/{}"
    exercises = program.exercises.with_columns(
        pl.col("participant_id").map_elements(lambda i: pseudonym(key, source, source_id.format(i)), pl.String)
    )
    files["exercises.csv.gz"] = _gzip(_csv(exercises))
    for name, data in files.items():
        (out / name).write_bytes(data)
    config_file = private / "config.toml"
    config_file.write_text(f'[pseudonymisation]\nkey_file = "{key_file.resolve()}"\n\n{config}')
    return config_file
