"""REDCap "CSV (raw data)" exports (ADAPTERS.md §2): the roster from the enrolment event, each form an instrument.

A longitudinal export has a row per record per event (and per instance of a repeating instrument); a classic one a
row per record. A form counts as an administration on a row when any of its items is answered and its
`<form>_complete` is 2 (Complete); answered but 0 (Incomplete) or 1 (Unverified) is quarantined `incomplete_form`;
with every item blank it is not an administration at all (REDCap writes every field of every row).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transforms.adapters import Part, SourceRejected, section_value
from transforms.datasets import DATASETS, Dataset
from transforms.instruments import Instrument
from transforms.pseudonyms import pseudonymised
from transforms.screening import rejection_reason

ROSTER_COLUMNS = tuple(c.name for c in DATASETS["participants"].columns if c.name != "participant_id")
REQUIRED_ROSTER = ("site_id", "cohort_id", "modality", "enrolled_date")
EVENT, REPEAT_INSTRUMENT = "redcap_event_name", "redcap_repeat_instrument"
NOT_COMPLETED = "[not completed]"  # REDCap's survey timestamp of a survey never submitted
COMPLETE = "2"
STATUS_NAMES = {"0": "Incomplete (0)", "1": "Unverified (1)"}


@dataclass(frozen=True)
class Form:
    name: str  # the REDCap form (instrument) name, as in `<form>_complete`
    instrument: str
    items: tuple[str, ...]  # REDCap field names in the instrument's canonical item order
    completed_at: str
    offset: int = 0  # subtracted from each answer's raw code

    @property
    def status_field(self) -> str:
        return f"{self.name}_complete"


@dataclass(frozen=True)
class RedcapConfig:
    record_id: str
    enrolment_event: str | None
    roster: dict[str, str]  # securebase participants column -> REDCap field
    choices: dict[str, dict[str, str]]  # securebase column or REDCap field -> {raw code: value}
    forms: tuple[Form, ...]

    def fields(self) -> dict[str, str]:
        """Every field the export must have, with the config key that names it."""
        named = {self.record_id: "redcap.record_id"}
        named |= {f: f"redcap.roster.{c}" for c, f in self.roster.items()}
        for form in self.forms:
            key = f"redcap.forms.{form.name}"
            named |= {f: f"{key}.items" for f in form.items}
            named |= {form.completed_at: f"{key}.completed_at", form.status_field: key}
        if self.enrolment_event:
            named[EVENT] = "redcap.enrolment_event"
        return named


def _form(name: str, table, instruments: dict[str, Instrument]) -> Form:
    path = f"redcap.forms.{name}"
    if not isinstance(table, dict):
        raise SourceRejected(f"config key {path} must be a table [{path}]")
    instrument = section_value(table, path, "instrument")
    if instrument not in instruments or instruments[instrument].kind != "items":
        raise SourceRejected(f"config key {path}.instrument names no instrument scored from items")
    items = section_value(table, path, "items", list)
    if len(items) != instruments[instrument].item_count or not all(isinstance(i, str) for i in items):
        raise SourceRejected(f"config key {path}.items must list the {instruments[instrument].item_count} item fields")
    offset = table.get("offset", 0)
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise SourceRejected(f"config key {path}.offset must be a whole number")
    completed_at = section_value(table, path, "completed_at").lower()
    return Form(name.lower(), instrument, tuple(i.lower() for i in items), completed_at, offset)


def redcap_config(section: dict | None, instruments: dict[str, Instrument]) -> RedcapConfig:
    """The `[redcap]` config section checked; SourceRejected names the first missing or mistyped key."""
    section = section or {}
    record_id = section_value(section, "redcap", "record_id").lower()
    event = section.get("enrolment_event")
    if event is not None and not isinstance(event, str):
        raise SourceRejected("config key redcap.enrolment_event must be an event name in quotes")
    roster = section_value(section, "redcap", "roster", dict)
    for column in REQUIRED_ROSTER:
        section_value(roster, "redcap.roster", column)
    unknown = sorted(set(roster) - set(ROSTER_COLUMNS))
    if unknown:
        raise SourceRejected(f"config key redcap.roster.{unknown[0]} is not a participants column")
    choices = section.get("choices", {})
    if not isinstance(choices, dict) or not all(isinstance(c, dict) for c in choices.values()):
        raise SourceRejected("config key redcap.choices must hold tables [redcap.choices.<field>]")
    forms = section.get("forms", {})
    if not isinstance(forms, dict):
        raise SourceRejected("config key redcap.forms must hold tables [redcap.forms.<form>]")
    return RedcapConfig(
        record_id=record_id,
        enrolment_event=event,
        roster={column: str(field).lower() for column, field in roster.items()},
        choices={name.lower(): {str(k): str(v) for k, v in table.items()} for name, table in choices.items()},
        forms=tuple(_form(name, table, instruments) for name, table in forms.items()),
    )


def export_rejection(export: pl.DataFrame, config: RedcapConfig) -> str | None:
    """Why the whole export is refused, or None: a field the config names is missing, or a column is named like a
    direct identifier or free text, or holds an email address or phone number (CONTRACT §4). The record id is not
    screened: it is pseudonymised before anything is stored, and it may well be a medical record number."""
    columns = [c for c in export.columns if c != "source_row"]
    missing = next(((f, key) for f, key in config.fields().items() if f not in columns), None)
    if missing:
        return f"column {missing[0]!r} named by config key {missing[1]} is missing"
    # The record id keeps its place, so that a reason tells each column by its position in the export (never by its
    # header), but goes by a name no REDCap field can have and holds nothing: neither is screened.
    screened = export.select(
        pl.lit(None, pl.String).alias("record id") if c == config.record_id else pl.col(c) for c in columns
    )
    reason = rejection_reason(screened, Dataset("redcap export", ()))
    return reason and reason.replace("column ", "REDCap column ", 1)


def _coded(field: str, column: str, config: RedcapConfig) -> pl.Expr:
    """A roster field's values, with its raw codes mapped when `[redcap.choices]` lists them (by column or field)."""
    choices = config.choices.get(column) or config.choices.get(field)
    values = pl.col(field)
    return (values.replace(choices) if choices else values).alias(column)


def roster_part(export: pl.DataFrame, config: RedcapConfig, key: bytes) -> Part:
    """The participants: one row per record's enrolment event row (a classic project's non-repeating row)."""
    is_roster_row = pl.lit(True)
    if config.enrolment_event:
        is_roster_row = pl.col(EVENT) == config.enrolment_event
    if REPEAT_INSTRUMENT in export.columns:
        is_roster_row = is_roster_row & pl.col(REPEAT_INSTRUMENT).is_null()
    rows = export.filter(is_roster_row & pl.col(config.record_id).is_not_null())
    roster = rows.select(
        "source_row",
        pseudonymised(rows[config.record_id], key, "redcap").alias("participant_id"),
        *[_coded(field, column, config) for column, field in config.roster.items()],
    )
    return Part("participants", f"redcap roster from {config.enrolment_event or 'the record rows'}", roster)


def _answers(form: Form) -> list[pl.Expr]:
    """The form's items as item_1 … item_N, each raw code less the offset (a value that is not a whole number is
    left as it is, for staging to quarantine as unparseable)."""
    answers = []
    for number, field in enumerate(form.items, 1):
        value = pl.col(field)
        if form.offset:
            code = value.cast(pl.Int64, strict=False)
            value = pl.when(code.is_not_null()).then((code - form.offset).cast(pl.String)).otherwise(value)
        answers.append(value.alias(f"item_{number}"))
    return answers


def form_part(export: pl.DataFrame, form: Form, config: RedcapConfig, key: bytes) -> Part:
    """One form's administrations: rows where it is answered and Complete; the answered rest quarantined."""
    answered = export.filter(pl.any_horizontal(pl.col(f).is_not_null() for f in form.items))
    status, stamp = pl.col(form.status_field), pl.col(form.completed_at)
    is_complete = status == COMPLETE
    has_time = stamp.is_not_null() & (stamp != NOT_COMPLETED)
    marked = status.replace_strict(STATUS_NAMES, default="blank")
    rule = (
        pl.when(status.is_not_null() & ~status.is_in([COMPLETE, *STATUS_NAMES]))
        .then(pl.lit("unparseable"))
        .when(~is_complete.fill_null(False))
        .then(pl.lit("incomplete_form"))
        .when(~has_time)
        .then(pl.lit("missing_value"))
    )
    failures = answered.select(
        "source_row",
        rule.alias("rule"),
        pl.when(rule == "missing_value")
        .then(pl.lit(form.completed_at))
        .otherwise(pl.lit(form.status_field))
        .alias("column_name"),
        pl.when(rule == "unparseable")
        .then(pl.lit("not a REDCap form status (0, 1 or 2)"))
        .when(rule == "incomplete_form")
        .then(pl.lit("form marked ") + marked + pl.lit(" in REDCap; only Complete (2) forms are administrations"))
        .otherwise(pl.lit("a Complete form without its completion time"))
        .alias("detail"),
    ).filter(pl.col("rule").is_not_null())
    complete = answered.filter(is_complete & has_time)
    rows = complete.select(
        "source_row",
        pseudonymised(complete[config.record_id], key, "redcap").alias("participant_id"),
        pl.lit(form.instrument).alias("instrument"),
        stamp.alias("completed_at"),
        *_answers(form),
    )
    return Part("questionnaires", f"redcap form {form.name} as {form.instrument}", rows, failures)


def adapt_redcap(export: pl.DataFrame, config: RedcapConfig, key: bytes) -> list[Part]:
    """The roster and one part per configured form. `export`: the file's columns as text, lower-case names, and
    `source_row`; it must have passed `export_rejection`."""
    export = export.filter(pl.col(config.record_id).is_not_null())
    return [roster_part(export, config, key)] + [form_part(export, form, config, key) for form in config.forms]
