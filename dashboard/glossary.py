"""The words for every figure the dashboard shows: column headers, units, precision and coded values, in one place.

Pages show tables through `for_screen` (human headers, figures as text at their precision, a withheld figure as
"<5" or "withheld"); downloads through `for_download` (the stable machine column names METHODS.md documents,
with withheld figures labelled the same way). The program report uses the same labels and words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl


@dataclass(frozen=True)
class Term:
    """A column's header and how its values read: `kind` is one of KINDS."""

    label: str
    kind: str


# text: shown as it is; coded: a code shown in words (WORDS); count, number: whole numbers; score: 2 decimals;
# change: 2 decimals, signed; rate: a whole percent; date: YYYY-MM-DD; time: YYYY-MM-DD HH:MM.
KINDS = ("text", "coded", "count", "number", "score", "change", "rate", "date", "time")

TERMS = {
    # who and which group
    "grouping": Term("Grouping", "coded"),
    "group_id": Term("Group", "text"),
    "participant_id": Term("Participant", "text"),
    "site_id": Term("Site", "text"),
    "cohort_id": Term("Cohort", "text"),
    "modality": Term("Modality", "coded"),
    "intake_month": Term("Intake month", "text"),
    "stage": Term("Stage", "text"),
    "participants": Term("Participants", "count"),
    # the flow of a group's people
    "n_enrolled": Term("Enrolled", "count"),
    "n_complete": Term("Completers", "count"),
    "n_no_baseline": Term("Without a baseline", "count"),
    "n_no_endpoint": Term("No endpoint", "count"),
    "n_not_yet_due": Term("Not yet due", "count"),
    "n_improved": Term("Reliably improved", "count"),
    "n_unchanged": Term("No reliable change", "count"),
    "n_deteriorated": Term("Reliably deteriorated", "count"),
    "n_recovered": Term("Recovered", "count"),
    "n_harmed": Term("Harmed", "count"),
    # a group's scores
    "mean_baseline": Term("Mean at baseline", "score"),
    "mean_endpoint": Term("Mean at endpoint", "score"),
    "mean_change": Term("Mean change", "change"),
    "mean_change_ci_low": Term("95% CI from", "change"),
    "mean_change_ci_high": Term("95% CI to", "change"),
    "hedges_g": Term("Effect size (Hedges' g)", "change"),
    "itt_change": Term("Change, everyone enrolled (ITT)", "change"),
    "itt_ci_low": Term("ITT 95% CI from", "change"),
    "itt_ci_high": Term("ITT 95% CI to", "change"),
    "improved_rate": Term("Reliably improved (%)", "rate"),
    # NHS Talking Therapies indicators
    "n_with_both": Term("With PHQ-9 and GAD-7 at both ends", "count"),
    "n_cases": Term("Cases at baseline", "count"),
    "n_reliably_improved": Term("Reliably improved", "count"),
    "n_reliably_recovered": Term("Reliably recovered", "count"),
    "recovery_rate": Term("Recovery (%)", "rate"),
    "reliable_improvement_rate": Term("Reliable improvement (%)", "rate"),
    "reliable_recovery_rate": Term("Reliable recovery (%)", "rate"),
    # one participant
    "baseline_date": Term("Baseline on", "date"),
    "baseline_score": Term("Baseline score", "score"),
    "endpoint_date": Term("Endpoint on", "date"),
    "endpoint_score": Term("Endpoint score", "score"),
    "change_score": Term("Change", "change"),
    "rci": Term("Reliable change index", "change"),
    "reliable_change": Term("Reliable change", "coded"),
    "jt_category": Term("Category (Jacobson–Truax)", "coded"),
    "outcome_status": Term("Status", "coded"),
    # alerts
    "is_new": Term("New", "text"),
    "rules": Term("Why", "coded"),
    "week_of": Term("Week of", "date"),
    "instrument": Term("Questionnaire", "text"),
    "subscale": Term("Scale", "text"),
    "min_reliable_change": Term("Reliable change from", "score"),
    "cutoff": Term("Cutoff", "score"),
    "minutes": Term("Minutes", "number"),
    "week": Term("Week", "number"),
    "completed_date": Term("Completed on", "date"),
    "rule": Term("Rule", "coded"),
    "observed_score": Term("Score", "score"),
    "expected_score": Term("Expected score", "score"),
    "threshold": Term("Alert above", "score"),
    # exercises
    "exercise": Term("Exercise", "coded"),
    "practices": Term("Practices", "count"),
    "mean_distress_drop": Term("Mean drop in distress (SUDS)", "change"),
    "mean_distress_drop_ci_low": Term("95% CI from", "change"),
    "mean_distress_drop_ci_high": Term("95% CI to", "change"),
    # refreshes, files and validations (Data quality)
    "refresh_id": Term("Refresh", "number"),
    "as_of_date": Term("As of", "date"),
    "status": Term("Status", "coded"),
    "started_at": Term("Started", "time"),
    "finished_at": Term("Finished", "time"),
    "refreshed_at": Term("Refreshed", "time"),
    "files_loaded": Term("Files loaded", "count"),
    "files_rejected": Term("Files rejected", "count"),
    "rows_loaded": Term("Rows loaded", "count"),
    "rows_quarantined": Term("Rows quarantined", "count"),
    "file_name": Term("File", "text"),
    "dataset": Term("Dataset", "text"),
    "reason": Term("Reason", "text"),
    "rows_read": Term("Rows read", "count"),
    "column_name": Term("Column", "text"),
    "rows": Term("Rows", "count"),
    "files": Term("Files", "count"),
    "suite": Term("Checks of", "text"),
    "batch": Term("File checked", "text"),
    "expectations_evaluated": Term("Checks run", "count"),
    "expectations_failed": Term("Checks failed", "count"),
    "rows_failed": Term("Rows failed", "count"),
    "failed_rules": Term("Failed rules", "coded"),
}

# The values of `coded` columns, in words; a value not listed is shown as it is.
WORDS = {
    "program": "Program",
    "site": "Site",
    "cohort": "Cohort",
    "modality": "Modality",
    # modalities
    "cbt": "CBT",
    "ipt": "Interpersonal therapy",
    "group": "Group therapy",
    # outcome status
    "complete": "Complete",
    "no_baseline": "No baseline",
    "no_endpoint": "No endpoint",
    "not_yet_due": "Not yet due",
    # reliable change and Jacobson–Truax categories
    "recovered": "Recovered",
    "improved": "Reliably improved",
    "unchanged": "No reliable change",
    "deteriorated": "Reliably deteriorated",
    "harmed": "Harmed",
    # refreshes and files
    "published": "Published",
    "loaded": "Loaded",
    "rejected": "Rejected",
    "duplicate": "Duplicate, loaded once",
    # alert rules
    "reliable_deterioration": "Reliably worse than at baseline",
    "above_expected_trajectory": "Above the expected trajectory",
    # practice tertiles (dose–response)
    "tertile 1": "Least practice (tertile 1)",
    "tertile 2": "Middle tertile",
    "tertile 3": "Most practice (tertile 3)",
    # exercises
    "thought_record": "Thought record",
    "grounding_54321": "5-4-3-2-1 grounding",
    "journaling": "Journaling",
    "boundary_practice": "Boundary practice",
    "meditation": "Meditation",
    "breathing": "Breathing",
    "body_scan": "Body scan",
    "self_compassion": "Self-compassion",
}


def term(column: str) -> Term:
    """A column's term; an unknown column is an error, so that no machine name reaches a page."""
    try:
        return TERMS[column]
    except KeyError:
        raise KeyError(f"no term for column {column!r}: add it to dashboard/glossary.py") from None


def label(column: str) -> str:
    """The header of a column."""
    return term(column).label


def words(value: str) -> str:
    """A coded value in words (`grounding_54321` → `5-4-3-2-1 grounding`); any other value as it is."""
    return WORDS.get(value, value)


def reads(value: object, kind: str) -> str:
    """One value as a page shows it: a score to 2 decimals, a change signed, a rate as a whole percent."""
    if isinstance(value, float) and value != value:  # NaN: not computed
        return "—"
    if kind == "count" or kind == "number":
        return f"{value:,}" if isinstance(value, int) else f"{value:g}"
    if kind == "score":
        return f"{value:.2f}"
    if kind == "change":
        return f"{value:+.2f}"
    if kind == "rate":
        return f"{value:.0%}"
    if kind in ("date", "time") and isinstance(value, date):  # a datetime's day, or its day and time
        return f"{value:%Y-%m-%d %H:%M}" if kind == "time" else f"{value:%Y-%m-%d}"
    if isinstance(value, list):  # a list of codes
        return ", ".join(words(str(v)) for v in value) or "none"
    return words(str(value)) if kind == "coded" else str(value)


def _as_rows(table: pl.DataFrame, min_cell: int, missing: str) -> list[tuple[dict, dict]]:
    """Each row's values, and the text for each of its missing figures: "<5" for a count withheld for being
    small (the row's `small_counts`), "not classified" for a count of categories the program cannot classify
    (`unclassified_counts`), else `missing`."""
    notes = {"small_counts": f"<{min_cell}", "unclassified_counts": "not classified"}
    listed = [c for c in notes if c in table.columns]
    plain = table.drop(listed)
    lists_of_rows = table.select(listed).to_dicts() if listed else [{}] * table.height
    rows = []
    for row, lists in zip(plain.to_dicts(), lists_of_rows, strict=True):
        text = {c: missing for c, v in row.items() if v is None}
        for column in listed:
            text.update({c: notes[column] for c in lists[column] or []})
        rows.append((row, text))
    return rows


def for_screen(table: pl.DataFrame, min_cell: int, missing: str = "withheld") -> pl.DataFrame:
    """A table as a page shows it: human headers, every value as text at its precision, and a missing figure as
    "<5", "not classified" or `missing` ("withheld" in a release's tables; "—", explained beside the table, where
    a participant has no such figure)."""
    rows = _as_rows(table, min_cell, missing)
    columns = [c for c in table.columns if c not in ("small_counts", "unclassified_counts")]
    terms = {column: term(column) for column in columns}
    shown = [
        {terms[c].label: text[c] if value is None else reads(value, terms[c].kind) for c, value in row.items()}
        for row, text in rows
    ]
    return pl.DataFrame(shown, schema={terms[c].label: pl.String for c in columns})


def for_download(table: pl.DataFrame, min_cell: int, missing: str = "withheld") -> pl.DataFrame:
    """A table as a CSV download carries it: machine column names (METHODS.md, "Downloads"), values as the release
    holds them, and a missing figure as `for_screen` words it (`missing`: "" where a participant has none)."""
    rows = _as_rows(table, min_cell, missing)
    columns = [c for c in table.columns if c not in ("small_counts", "unclassified_counts")]
    shown = [{c: text[c] if value is None else str(value) for c, value in row.items()} for row, text in rows]
    return pl.DataFrame(shown, schema={c: pl.String for c in columns})
