"""Baseline and endpoint choice, ties, windows and statuses (OUTCOMES.md §3)."""

from datetime import UTC, date, datetime, timedelta

import polars as pl

from transforms.windows import Windows, outcome_status, select_baseline_and_endpoint

ENROLLED = date(2026, 3, 2)


def assessments(days: list[int], scores: list[float | None] | None = None) -> pl.DataFrame:
    scores = scores or [float(d) for d in days]
    completed = [datetime(2026, 3, 2, 10, tzinfo=UTC) + timedelta(days=d) for d in days]
    return pl.DataFrame(
        {
            "administration_id": list(range(1, len(days) + 1)),
            "participant_id": ["P001"] * len(days),
            "instrument": ["ECR-R"] * len(days),
            "subscale": ["anxiety"] * len(days),
            "completed_at": completed,
            "completed_date": [c.date() for c in completed],
            "days_since_enrolment": days,
            "score": scores,
        }
    )


DEFAULT = Windows()


def chosen(days, scores=None, windows=DEFAULT):
    frame = select_baseline_and_endpoint(assessments(days, scores), windows)
    return frame.row(0, named=True) if frame.height else None


def test_baseline_closest_to_day_0_and_endpoint_closest_to_day_70():
    row = chosen([-10, -2, 3, 60, 68, 84])
    assert row["baseline_score"] == -2 and row["endpoint_score"] == 68


def test_ties_go_to_the_earlier_administration():
    row = chosen([-3, 3, 63, 77])
    assert row["baseline_score"] == -3 and row["endpoint_score"] == 63


def test_windows_are_inclusive_and_nothing_outside_counts():
    row = chosen([-14, 84])
    assert row["baseline_score"] == -14 and row["endpoint_score"] == 84
    row = chosen([-15, 8, 55, 85])
    assert row is None


def test_unscored_administrations_do_not_count():
    row = chosen([0, 2, 70], scores=[None, 2.0, 70.0])
    assert row["baseline_score"] == 2.0 and row["endpoint_score"] == 70.0


def test_endpoint_must_come_after_the_baseline():
    overlapping = Windows(baseline=(-14, 60), endpoint=(56, 84), endpoint_target=58)
    row = chosen([58, 80], windows=overlapping)
    # day 58 is the baseline (closest to 0 in its window) so it cannot also be the endpoint
    assert row["baseline_score"] == 58 and row["endpoint_score"] == 80


def status(has_baseline: bool, has_endpoint: bool, as_of: date) -> str:
    frame = pl.DataFrame({"b": [has_baseline], "e": [has_endpoint], "enrolled": [ENROLLED]})
    return frame.select(outcome_status(pl.col("b"), pl.col("e"), pl.col("enrolled"), as_of, Windows())).item()


def test_outcome_status():
    last_day = ENROLLED + timedelta(days=84)
    assert status(True, True, ENROLLED) == "complete"
    assert status(False, True, last_day) == "no_baseline"
    assert status(True, False, last_day - timedelta(days=1)) == "not_yet_due"
    assert status(True, False, last_day) == "no_endpoint"
