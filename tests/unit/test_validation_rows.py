"""A rejected value is never stored: `without_rejected_values` (pipelines/validation.py)."""

import polars as pl

from pipelines.validation import without_rejected_values


def test_only_the_cells_a_rule_rejected_are_emptied_and_rows_held_for_their_day_keep_theirs():
    rows = pl.DataFrame(
        {
            "source_row": [1, 2, 3],
            "started_at": ["2026-03-01T09:00:00Z", "met her at the cafe", "2026-03-09T09:00:00Z"],
            "exercise": ["breathing", "journaling", "told me about her ex"],
        }
    )
    failures = pl.DataFrame(
        {
            "source_row": [2, 3, 3],
            "rule": ["unparseable", "not_in_set", "in_future"],
            "column_name": ["started_at", "exercise", "started_at"],
            "detail": [None, None, None],
        },
        schema={"source_row": pl.Int64, "rule": pl.String, "column_name": pl.String, "detail": pl.String},
    )
    kept = without_rejected_values(rows, failures)
    assert kept.rows() == [
        (1, "2026-03-01T09:00:00Z", "breathing"),
        (2, None, "journaling"),
        (3, "2026-03-09T09:00:00Z", None),  # held until its day: its instant stays, its free text goes
    ]
