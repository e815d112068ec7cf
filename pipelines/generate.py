"""`securebase generate`: a synthetic, anonymised program export in the input formats of CONTRACT.md §2.

Participants enrol over about six months into site cohorts and complete ECR-R weekly, GAD-7 and PHQ-9 every
two weeks and RSES at weeks 0 and 10, while logging exercises. ECR-R anxiety starts near 4.8 ± 1.0 and falls
about 0.4 over ten weeks, with person-to-person variation; some drop out, some skip items, and the latest
enrolments are not yet due. The same seed gives the same bytes. With `messy`, the faults of CONTRACT.md §4 are
planted, and returned as `PlantedFault`s so that tests can check the quarantine row for row.

A program of more than `PARTICIPANTS_PER_PART` participants is simulated and written a part at a time, each part a
set of files of its own (as a national network's regions would each export theirs), so that memory stays that of one
part: the first part is the program of that size with the same seed, and the others continue its ids.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from transforms.instruments import ECR_R, GAD_7, PHQ_9, RSES, Instrument

SITES = ("north", "south", "east", "west")
MODALITY_OF_SITE = {"north": "cbt", "south": "group", "east": "ipt", "west": "cbt"}
EXERCISES = (
    "thought_record",
    "grounding_54321",
    "journaling",
    "boundary_practice",
    "meditation",
    "breathing",
    "body_scan",
    "self_compassion",
)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("woman", "man", "non-binary", "other", "not-stated")
ENROLMENT_SPAN_DAYS = 182
DEFAULT_START = date(2026, 1, 5)
EXPORT_DAY = 196  # data run until this many days after the start date: late enrolments are not yet due
WEEKS = 10
SAMPLE_AS_OF = DEFAULT_START + timedelta(days=EXPORT_DAY)  # the as-of day of `sample_data/`
PARTICIPANTS_PER_PART = 100_000  # about 1.3 GiB to simulate (bench/README.md, "Memory")


@dataclass(frozen=True)
class PlantedFault:
    file_name: str
    source_row: int | None  # None: the whole file is rejected
    rule: str
    column_name: str | None


@dataclass
class Program:
    """Frames of one synthetic export, before they are written as files."""

    participants: pl.DataFrame
    questionnaires: dict[str, pl.DataFrame]  # instrument id → wide frame with item_1 … item_N
    exercises: pl.DataFrame
    export_date: date


def _item_responses(rng: np.random.Generator, instrument: Instrument, severity: np.ndarray) -> np.ndarray:
    """Integer responses (n × items) around each person's severity on the instrument's scale, keyed as asked."""
    n = severity.shape[0]
    matrix = np.empty((n, instrument.item_count))
    for subscale in instrument.subscales:
        for item in subscale.items:
            value = severity[:, subscale_index(instrument, subscale.name)] + rng.normal(0, 0.8, n)
            if item in subscale.reverse_items:
                value = instrument.min + instrument.max - value
            matrix[:, item - 1] = value
    return np.clip(np.rint(matrix), instrument.min, instrument.max)


def subscale_index(instrument: Instrument, name: str) -> int:
    return [s.name for s in instrument.subscales].index(name)


def _timestamps(enrolled: np.ndarray, day: np.ndarray, minute: np.ndarray) -> pl.Series:
    """RFC 3339 UTC timestamps, `day` days after enrolment at `minute` past midnight."""
    instants = enrolled.astype("datetime64[m]") + day.astype("timedelta64[D]") + minute.astype("timedelta64[m]")
    instants = instants.astype("datetime64[ms]")
    return pl.Series(instants).dt.to_string("%Y-%m-%dT%H:%M:%SZ")


def _with_skips(responses: np.ndarray, rng: np.random.Generator, share: float) -> dict[str, pl.Series]:
    """Item columns with about `share` of the answers left blank."""
    blank = rng.random(responses.shape) < share
    masked = np.where(blank, np.nan, responses)
    return {f"item_{i + 1}": pl.Series(masked[:, i]).fill_nan(None).cast(pl.Int64) for i in range(responses.shape[1])}


def simulate(participants: int, seed: int, start_date: date, part: int = 0, first_id: int = 1) -> Program:
    """The program of `participants` people with ids from `first_id`; a later `part` of it draws from its own
    stream of the seed."""
    rng = np.random.default_rng(seed if part == 0 else [seed, part])
    n = participants
    ids = pl.Series([f"P{i:05d}" for i in range(first_id, first_id + n)])
    site = rng.choice(SITES, n)
    enrolled = np.datetime64(start_date) + np.sort(rng.integers(0, ENROLMENT_SPAN_DAYS, n)).astype("timedelta64[D]")
    enrolled_text = pl.Series(enrolled).dt.to_string("%Y-%m-%d")
    roster = pl.DataFrame(
        {
            "participant_id": ids,
            "site_id": site,
            "cohort_id": pl.Series(site) + "-" + enrolled_text.str.slice(0, 7),
            "modality": pl.Series(site).replace_strict(MODALITY_OF_SITE),
            "therapist_id": "T-" + pl.Series(site) + "-" + pl.Series(rng.integers(1, 4, n)).cast(pl.String),
            "enrolled_date": enrolled_text,
            "age_band": rng.choice(AGE_BANDS, n, p=[0.15, 0.3, 0.25, 0.15, 0.1, 0.05]),
            "gender": rng.choice(GENDERS, n, p=[0.6, 0.3, 0.05, 0.02, 0.03]),
        }
    )

    anxiety0 = np.clip(rng.normal(4.8, 1.0, n), 1.5, 6.8)
    anxiety_change = rng.normal(-0.4, 0.5, n)
    avoidance0 = np.clip(rng.normal(3.6, 1.0, n), 1.2, 6.5)
    avoidance_change = rng.normal(-0.2, 0.4, n)
    dropout_week = np.where(rng.random(n) < 0.15, rng.integers(2, WEEKS, n), WEEKS + 1)
    export_date = start_date + timedelta(days=EXPORT_DAY)
    last_day = (np.datetime64(export_date) - enrolled).astype(int)  # days from enrolment to the export

    schedule = {
        ECR_R: range(0, WEEKS + 1),
        GAD_7: range(0, WEEKS + 1, 2),
        PHQ_9: range(0, WEEKS + 1, 2),
        RSES: (0, WEEKS),
    }
    questionnaires: dict[str, list[pl.DataFrame]] = {i.id: [] for i in schedule}
    for week in range(0, WEEKS + 1):
        progress = week / WEEKS
        anxiety = anxiety0 + anxiety_change * progress + rng.normal(0, 0.25, n)
        avoidance = avoidance0 + avoidance_change * progress + rng.normal(0, 0.25, n)
        day = 7 * week + rng.integers(-2, 3, n) if week else rng.integers(-3, 2, n)
        completed = _timestamps(enrolled, day, rng.integers(8 * 60, 21 * 60, n))
        present = pl.Series((week < dropout_week) & (day <= last_day))
        # Severity on each instrument's own scale, from the attachment anxiety trajectory.
        severities = {
            ECR_R: np.column_stack([anxiety, avoidance]),
            GAD_7: np.clip((anxiety - 2.0) / 1.6 + rng.normal(0, 0.3, n), 0, 3)[:, None],
            PHQ_9: np.clip((anxiety - 2.3) / 1.8 + rng.normal(0, 0.3, n), 0, 3)[:, None],
            RSES: np.clip(4.6 - anxiety / 2.2 + rng.normal(0, 0.3, n), 1, 4)[:, None],
        }
        for instrument, weeks in schedule.items():
            if week not in weeks:
                continue
            responses = _item_responses(rng, instrument, severities[instrument])
            frame = pl.DataFrame(
                {
                    "participant_id": ids,
                    "instrument": pl.repeat(instrument.id, n, eager=True),
                    "completed_at": completed,
                    **_with_skips(responses, rng, 0.02),
                }
            )
            questionnaires[instrument.id].append(frame.filter(present))

    return Program(
        participants=roster,
        questionnaires={k: pl.concat(v).sort("completed_at", "participant_id") for k, v in questionnaires.items()},
        exercises=_exercise_log(rng, ids, enrolled, dropout_week, last_day),
        export_date=export_date,
    )


def _exercise_log(rng, ids: pl.Series, enrolled: np.ndarray, dropout_week: np.ndarray, last_day: np.ndarray):
    """About 2.5 practices a week per participant until they drop out or the export is taken."""
    counts = rng.poisson(2.5, (len(ids), WEEKS + 1))
    counts[np.arange(WEEKS + 1)[None, :] >= dropout_week[:, None]] = 0
    person, week = np.nonzero(counts)
    person, week = np.repeat(person, counts[person, week]), np.repeat(week, counts[person, week])
    day = 7 * week + rng.integers(0, 7, person.size)
    keep = day <= last_day[person]
    person, day = person[keep], day[keep]
    m = person.size
    before = np.clip(rng.normal(6, 2, m), 0, 10).astype(int)
    return pl.DataFrame(
        {
            "participant_id": ids.gather(person),
            "started_at": _timestamps(enrolled[person], day, rng.integers(7 * 60, 22 * 60, m)),
            "exercise": rng.choice(EXERCISES, m),
            "duration_minutes": np.round(np.clip(rng.lognormal(2.3, 0.5, m), 1, 120), 1),
            "distress_before": before,
            "distress_after": np.clip(before - rng.normal(1.5, 1.2, m), 0, 10).astype(int),
            "is_completed": rng.random(m) < 0.9,
        }
    ).sort("started_at", "participant_id")


# -- writing -------------------------------------------------------------------------------------------------


def _csv(frame: pl.DataFrame) -> bytes:
    return frame.write_csv().encode("utf-8")


def _jsonl_with_responses(frame: pl.DataFrame) -> bytes:
    """Questionnaire rows as JSON lines, answered items as a `responses` object (CONTRACT.md §2)."""
    answered = [
        pl.when(pl.col(c).is_not_null()).then(pl.format('"{}":{}', pl.lit(c.removeprefix("item_")), pl.col(c)))
        for c in frame.columns
        if c.startswith("item_")
    ]
    record = pl.struct("participant_id", "instrument", "completed_at").struct.json_encode()
    line = pl.concat_str(
        record.str.strip_suffix("}"),
        pl.lit(',"responses":{'),
        pl.concat_list(answered).list.drop_nulls().list.join(","),
        pl.lit("}}"),
    )
    return (frame.select(line).to_series().str.join("\n").item() + "\n").encode("utf-8")


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=False)
    return buffer.getvalue()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)  # mtime 0: same seed, same bytes


def export_files(program: Program) -> dict[str, bytes]:
    """The export as file name → bytes, using every input format."""
    q = program.questionnaires
    return {
        "participants.csv": _csv(program.participants),
        "questionnaires_ecr-r.csv.gz": _gzip(_csv(q["ECR-R"])),
        "questionnaires_mood.jsonl": _jsonl_with_responses(
            pl.concat([q["GAD-7"], q["PHQ-9"]], how="diagonal").sort("completed_at", "participant_id")
        ),
        "questionnaires_rses.parquet": _parquet(q["RSES"]),
        "exercises.csv.gz": _gzip(_csv(program.exercises)),
    }


def plant_faults(files: dict[str, bytes], program: Program) -> list[PlantedFault]:
    """Add the faults of CONTRACT.md §4 to the export; return what was planted where."""
    faults: list[PlantedFault] = []
    some = program.participants.head(3)
    anchor = program.questionnaires["ECR-R"].head(1).row(0, named=True)

    # Whole files rejected: identifier column, identifier-like value, unreadable, unknown kind.
    with_contact = some.with_columns(
        email=pl.format("{}@example.org", "participant_id"), client_name=pl.lit("Jane Doe")
    )
    files["participants_with_contacts.csv"] = _csv(with_contact)
    faults.append(PlantedFault("participants_with_contacts.csv", None, "rejected_file", "email"))
    files["exercises_phone.csv"] = _csv(program.exercises.head(3).with_columns(exercise=pl.lit("+44 20 7946 0958")))
    faults.append(PlantedFault("exercises_phone.csv", None, "rejected_file", "exercise"))
    files["questionnaires_broken.csv.gz"] = b"this is not gzip"
    faults.append(PlantedFault("questionnaires_broken.csv.gz", None, "rejected_file", None))
    files["session_notes.txt"] = b"free text never loads"
    faults.append(PlantedFault("session_notes.txt", None, "rejected_file", None))

    # Row faults in a late participants file: each row has exactly one fault.
    late = program.participants.tail(4).with_columns(participant_id=pl.format("{}X", "participant_id"))
    bad_participants = pl.concat(
        [
            late[0].with_columns(modality=pl.lit("hypnosis")),
            late[1].with_columns(enrolled_date=pl.lit("2026-02-30")),
            late[2].with_columns(participant_id=pl.lit("x!")),
            late[3].with_columns(site_id=pl.lit(None, pl.String)),
        ]
    )
    files["participants_late.csv"] = _csv(bad_participants)
    for row, (rule, column) in enumerate(
        [
            ("not_in_set", "modality"),
            ("unparseable", "enrolled_date"),
            ("invalid_pseudonym", "participant_id"),
            ("missing_value", "site_id"),
        ],
        start=1,
    ):
        faults.append(PlantedFault("participants_late.csv", row, rule, column))

    # Row faults among questionnaires, one per row, and an exact copy of an exported administration that
    # loads once.
    enrolled = program.participants.row(0, named=True)["enrolled_date"]
    base = pl.DataFrame([anchor]).cast({f"item_{i}": pl.Int64 for i in range(1, 37)})
    far_past = (date.fromisoformat(enrolled) - timedelta(days=400)).isoformat()
    rows = [
        (base.with_columns(item_3=pl.lit(9)), "out_of_range", "item_3"),
        (base.with_columns(item_37=pl.lit(4)), "item_beyond_instrument", "item_37"),
        (base.with_columns(completed_at=pl.lit("yesterday")), "unparseable", "completed_at"),
        (base.with_columns(completed_at=pl.lit("2099-01-01T09:00:00Z")), "in_future", "completed_at"),
        (base.with_columns(completed_at=pl.lit(far_past)), "before_enrolment", "completed_at"),
        (base.with_columns(participant_id=pl.lit("P99999")), "unknown_participant", "participant_id"),
        (base.with_columns(instrument=pl.lit("ECR-Z")), "unknown_instrument", "instrument"),
        (
            base.with_columns(completed_at=pl.lit("2026-01-01T10:00:00Z"), item_1=pl.lit(1)),
            "conflicting_duplicate",
            "responses",
        ),
        (
            base.with_columns(completed_at=pl.lit("2026-01-01T10:00:00Z"), item_1=pl.lit(2)),
            "conflicting_duplicate",
            "responses",
        ),
        (base, None, None),
    ]
    files["questionnaires_corrections.csv"] = _csv(pl.concat([r for r, _, _ in rows], how="diagonal_relaxed"))
    for row, (_, rule, column) in enumerate(rows, start=1):
        if rule:
            faults.append(PlantedFault("questionnaires_corrections.csv", row, rule, column))

    # Exercise rows out of range.
    bad_exercises = program.exercises.head(2).with_columns(
        duration_minutes=pl.Series([0.0, 300.0]),
    )
    files["exercises_corrections.csv"] = _csv(bad_exercises)
    faults += [
        PlantedFault("exercises_corrections.csv", 1, "out_of_range", "duration_minutes"),
        PlantedFault("exercises_corrections.csv", 2, "out_of_range", "duration_minutes"),
    ]
    return faults


def generate(
    out: Path,
    participants: int = 300,
    seed: int = 7,
    start_date: date = DEFAULT_START,
    messy: bool = False,
    per_part: int = PARTICIPANTS_PER_PART,
) -> list[PlantedFault]:
    """Write the export into `out` (created if needed), a part of at most `per_part` participants at a time; return
    the planted faults (none unless messy), which are all in the first part."""
    out.mkdir(parents=True, exist_ok=True)
    sizes = [min(per_part, participants - first) for first in range(0, participants, per_part)]
    faults: list[PlantedFault] = []
    for part, size in enumerate(sizes):
        program = simulate(size, seed, start_date, part, first_id=part * per_part + 1)
        suffix = f"_part{part + 1:0{max(2, len(str(len(sizes))))}d}" if len(sizes) > 1 else ""
        files = {name.replace(".", f"{suffix}.", 1): data for name, data in export_files(program).items()}
        if messy and part == 0:
            faults = plant_faults(files, program)  # files of their own, named as the faults say
        for name, data in files.items():
            (out / name).write_bytes(data)
        del program, files
    return faults
