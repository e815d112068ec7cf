"""FHIR R4 Bulk Data NDJSON (ADAPTERS.md §3): EpisodeOfCare → participants, QuestionnaireResponse → questionnaires.

Each line is parsed and checked by the FHIR R4B models of `fhir.resources`; a line that is not JSON, not a FHIR
resource or not a valid resource of its type is quarantined with its line number, and nothing of it is kept. Every
other resource type is ignored and counted. Patient references are pseudonymised before a row exists. Items repeat
across responses (the same linkId and answer), so each distinct item is validated once per file and the rest of each
response on its own, which accepts and refuses exactly what validating the response whole does (`validated`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl
from pydantic import ValidationError

from transforms.adapters import Part, SourceRejected, failures_frame
from transforms.datasets import DATASETS, ID_PATTERN
from transforms.instruments import Instrument
from transforms.pseudonyms import pseudonym

if TYPE_CHECKING:
    from fhir.resources.R4B.episodeofcare import EpisodeOfCare
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
LOINC_ANSWERS = {"LA6568-5": 0, "LA6569-3": 1, "LA6570-1": 2, "LA6571-9": 3}  # Not at all … Nearly every day
BUILT_IN_QUESTIONNAIRES = {
    "http://loinc.org/q/44249-1": (
        "PHQ-9",
        ("44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"),
    ),
    "http://loinc.org/q/69737-5": (
        "GAD-7",
        ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"),
    ),
}
COUNTED_STATUSES = ("completed", "amended")
INCOMPLETE_STATUSES = ("in-progress", "stopped")
DATASET_OF = {"EpisodeOfCare": "participants", "QuestionnaireResponse": "questionnaires"}
KNOWN_ELEMENTS_LIMIT = 100_000  # distinct elements of a field kept validated; past it the memo starts again


@dataclass(frozen=True)
class FhirConfig:
    sites: dict[str, str]  # Organization reference -> site_id
    modalities: dict[str, str]  # EpisodeOfCare type code -> modality
    questionnaires: dict[str, tuple[str, tuple[str, ...]]]  # canonical URL -> (instrument, linkIds in item order)


def fhir_config(section: dict | None, instruments: dict[str, Instrument]) -> FhirConfig:
    """The `[fhir]` section checked (it is optional: PHQ-9 and GAD-7 are built in); SourceRejected names the key."""
    section = section or {}
    tables = {}
    for key in ("sites", "modalities", "questionnaires"):
        tables[key] = section.get(key, {})
        if not isinstance(tables[key], dict):
            raise SourceRejected(f"config key fhir.{key} must be a table")
    for reference, site_id in tables["sites"].items():
        if not ID_PATTERN.fullmatch(str(site_id)):
            raise SourceRejected(
                f'config key fhir.sites."{reference}" must be a site code: 1 to 64 letters, digits, "_" or "-"'
            )
    questionnaires = dict(BUILT_IN_QUESTIONNAIRES)
    for url, table in tables["questionnaires"].items():
        path = f'fhir.questionnaires."{url}"'
        instrument = table.get("instrument") if isinstance(table, dict) else None
        if instrument not in instruments or instruments[instrument].kind != "items":
            raise SourceRejected(f"config key {path}.instrument names no instrument scored from items")
        link_ids = table.get("link_ids")
        if not isinstance(link_ids, list) or len(link_ids) != instruments[instrument].item_count:
            count = instruments[instrument].item_count
            raise SourceRejected(f"config key {path}.link_ids must list the {count} linkIds")
        questionnaires[url.split("|")[0]] = (instrument, tuple(str(link) for link in link_ids))
    return FhirConfig(
        {str(k): str(v) for k, v in tables["sites"].items()},
        {str(k): str(v) for k, v in tables["modalities"].items()},
        questionnaires,
    )


@cache
def models() -> dict:
    """The R4B models of the resources read, imported on first use (about 0.7 s)."""
    from fhir.resources.R4B.episodeofcare import EpisodeOfCare
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    return {"EpisodeOfCare": EpisodeOfCare, "QuestionnaireResponse": QuestionnaireResponse}


@cache
def element_models() -> dict:
    """The R4B models of the QuestionnaireResponse elements that repeat across responses, by field name."""
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponseItem
    from fhir.resources.R4B.reference import Reference

    return {"item": QuestionnaireResponseItem, "subject": Reference}


def _known(field: str, element, known: dict):
    """An element of a QuestionnaireResponse field validated by its model once per distinct value.

    `known` holds, by field, the models validated so far by the element's repr, which tells apart every value
    `json.loads` gives (1, 1.0 and True; key order too). Raises ValidationError when the element fails its model.
    A group's child items are looked up the same way first.
    """
    seen, text = known.setdefault(field, {}), repr(element)
    if text not in seen:
        children = element.get("item") if field == "item" else None
        if isinstance(children, list) and all(isinstance(child, dict) for child in children):
            element = element | {"item": [_known("item", child, known) for child in children]}
        if len(seen) >= KNOWN_ELEMENTS_LIMIT:
            seen.clear()
        seen[text] = element_models()[field].model_validate(element)
    return seen[text]


def validated(kind: str, resource: dict, known: dict) -> tuple:
    """(the resource as its R4B model, its `item` elements as models), or the error of validating it whole.

    It accepts and refuses exactly what `models()[kind].model_validate(resource)` does. A QuestionnaireResponse's
    items are validated one by one, each distinct one once (`_known`), its subject likewise, and the rest of it,
    `item` left out, with the resource model. That is the check whole validation makes: fhir_core validates each
    element of a field by calling its model's own `model_validate` and takes an element already of that model as
    it is (`FhirBase.fhir_model_validator` in fhir_core/types.py), its resource-level validators look at one field
    at a time (`reject_null_complex_elements`, `validate_after_model_construction` in fhir_core/fhirabstractmodel.py)
    and the R4B QuestionnaireResponse adds none. Any failure is validated again whole, so the error and the field
    it names are the library's own; bench/README.md, "Adapters", has the timings.
    """
    model = models()[kind]
    items, subject = resource.get("item"), resource.get("subject")
    if kind == "QuestionnaireResponse" and isinstance(items, list) and all(isinstance(i, dict) for i in items):
        try:
            seen = known.setdefault("item", {})  # a model is never falsy: `or` only where the item is new
            elements = [seen.get(repr(item)) or _known("item", item, known) for item in items]
            shell = {field: value for field, value in resource.items() if field != "item"}
            if isinstance(subject, dict):
                shell["subject"] = _known("subject", subject, known)
            return model.model_validate(shell), elements
        except ValidationError:
            pass  # validated whole below, for the library's own error
    whole = model.model_validate(resource)
    return whole, getattr(whole, "item", None)


def _id_part(reference: str | None) -> str | None:
    return reference.rsplit("/", 1)[-1] if reference else None


def _day(value: date | datetime | None, timezone: str) -> str | None:
    """A FHIR date or dateTime as the calendar day in the program time zone."""
    if isinstance(value, datetime):
        return (value.astimezone(ZoneInfo(timezone)) if value.tzinfo else value).date().isoformat()
    return value.isoformat() if isinstance(value, date) else None


def episode_row(episode: EpisodeOfCare, config: FhirConfig, key: bytes, timezone: str) -> dict:
    """A roster row from an EpisodeOfCare (ADAPTERS §3's table); a field it lacks stays blank for validation."""
    patient = episode.patient.reference if episode.patient else None
    organisation = episode.managingOrganization.reference if episode.managingOrganization else None
    code = episode.type[0].coding[0].code if episode.type and episode.type[0].coding else None
    period = episode.period
    return {
        "participant_id": pseudonym(key, "fhir", patient) if patient else None,
        "site_id": config.sites.get(organisation, _id_part(organisation)) if organisation else None,
        "cohort_id": _id_part(episode.team[0].reference) if episode.team else None,
        "modality": config.modalities.get(code, code) if code else None,
        "enrolled_date": _day(period.start, timezone) if period else None,
        "ended_date": _day(period.end, timezone) if period else None,
    }


def _answer_number(answer) -> int | float | None:
    """An answer's number: an integer, a decimal, or a coding's ordinalValue, else its LOINC answer code's."""
    if answer.valueInteger is not None:
        return answer.valueInteger
    if answer.valueDecimal is not None:
        number = float(answer.valueDecimal)
        return int(number) if number.is_integer() else number
    coding = answer.valueCoding
    if coding is None:
        return None
    for extension in coding.extension or []:
        if extension.url == ORDINAL_VALUE:
            value = extension.valueDecimal if extension.valueDecimal is not None else extension.valueInteger
            if value is not None:
                return int(value) if float(value).is_integer() else float(value)
    return LOINC_ANSWERS.get(coding.code)


def _answered_items(items) -> dict[str, list]:
    """Every item's answers by linkId, through nested groups and items nested under answers."""
    found = {}
    for item in items or ():
        found[item.linkId] = item.answer or []
        if item.item:
            found |= _answered_items(item.item)
        for answer in item.answer or ():
            if answer.item:
                found |= _answered_items(answer.item)
    return found


@cache
def _item_columns(count: int) -> tuple[str, ...]:
    """The names item_1 … item_<count>."""
    return tuple(f"item_{number}" for number in range(1, count + 1))


def response_row(
    response: QuestionnaireResponse, items: list | None, config: FhirConfig, key: bytes
) -> tuple[dict | None, list]:
    """(a questionnaires row, or None) and the failures that quarantine it: [(rule, column, detail)]."""
    if response.status == "entered-in-error":
        return None, [("entered_in_error", "status", "the EHR marked this response entered in error")]
    if response.status in INCOMPLETE_STATUSES:
        return None, [("incomplete_form", "status", f"status {response.status}: only completed or amended count")]
    if response.status not in COUNTED_STATUSES:
        return None, [("unparseable", "status", "not a QuestionnaireResponse status")]
    url = (response.questionnaire or "").split("|")[0]
    if url not in config.questionnaires:
        return None, [("unknown_instrument", "questionnaire", "not built in, nor in [fhir.questionnaires]")]
    instrument, link_ids = config.questionnaires[url]
    answered, failures = _answered_items(items), []
    row = {"instrument": instrument, "completed_at": response.authored and response.authored.isoformat()}
    for column, link_id in zip(_item_columns(len(link_ids)), link_ids, strict=True):
        answers = answered.get(link_id)
        value = _answer_number(answers[0]) if answers else None
        if answers and value is None:
            failures.append(("unparseable", link_id, "an answer with no number, ordinalValue or LOINC answer code"))
        row[column] = None if value is None else str(value)
    subject = response.subject.reference if response.subject else None
    row["participant_id"] = pseudonym(key, "fhir", subject) if subject else None
    return (None if failures else row), failures


def resource_row(
    model: EpisodeOfCare | QuestionnaireResponse, items: list | None, config: FhirConfig, key: bytes, timezone: str
) -> tuple[dict | None, list]:
    """(the row of a resource that passed its model, or None) and the failures that quarantine it."""
    if model.get_resource_type() == "QuestionnaireResponse":
        return response_row(model, items, config, key)
    if model.status == "entered-in-error":
        return None, [("entered_in_error", "status", "the EHR marked this episode entered in error")]
    return episode_row(model, config, key, timezone), []


def model_failure(kind: str, error: ValidationError) -> tuple[str, str, str]:
    """Where a resource fails its model, by field path only (pydantic's message can quote the value)."""
    first = error.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "resourceType"
    return ("unparseable", where.split(".")[0], f"not a valid FHIR R4B {kind} (at {where})")


def parsed(text: str) -> tuple[dict | None, str | None]:
    """A line's JSON object and its resourceType; (None, None) when the line is no FHIR resource as JSON."""
    try:
        resource = json.loads(text)
    except ValueError:
        return None, None
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    return (resource, kind) if isinstance(kind, str) else (None, None)


def adapt_fhir(
    lines: list[tuple[int, str]], config: FhirConfig, key: bytes, timezone: str
) -> tuple[list[Part], str | None]:
    """The participants and questionnaires parts of one NDJSON file, and a note of the resource types ignored.
    Raises SourceRejected when no line is a FHIR resource."""
    rows = {"participants": [], "questionnaires": []}
    failures = {"participants": [], "questionnaires": []}
    ignored, resources, known = Counter(), 0, {}
    for number, text in lines:
        resource, kind = parsed(text)
        if kind is None:
            failures["questionnaires"].append((number, "unparseable", "resourceType", "not a FHIR resource as JSON"))
            continue
        resources += 1
        if kind not in DATASET_OF:
            ignored[kind] += 1
            continue
        dataset = DATASET_OF[kind]
        try:
            model, items = validated(kind, resource, known)
        except ValidationError as error:
            failures[dataset].append((number, *model_failure(kind, error)))
            continue
        row, problems = resource_row(model, items, config, key, timezone)
        failures[dataset] += [(number, *problem) for problem in problems]
        if row is not None:
            rows[dataset].append({"source_row": number, **row})
    if not resources:
        raise SourceRejected("no line is a FHIR resource (ADAPTERS §3: one resource per line)")
    note = ", ".join(f"{n} {kind}" for kind, n in sorted(ignored.items()))
    parts = [
        Part(dataset, f"fhir {kind}", _frame(dataset, rows[dataset]), failures_frame(failures[dataset]))
        for kind, dataset in DATASET_OF.items()
        if rows[dataset] or failures[dataset]
    ]
    return parts, (f"ignored: {note}" if note else None)


def _frame(dataset: str, rows: list[dict]) -> pl.DataFrame:
    """Rows as text columns (items as many as the widest instrument), `source_row` a whole number."""
    required = ["source_row", *DATASETS[dataset].required]
    names = list(dict.fromkeys(required + [name for row in rows for name in row]))
    schema = {name: pl.Int64 if name == "source_row" else pl.String for name in names}
    return pl.DataFrame(rows, schema=schema)
