"""Baseline and endpoint windows, and each participant's outcome status (OUTCOMES.md §3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

KEYS = ["participant_id", "instrument", "subscale"]


@dataclass(frozen=True)
class Windows:
    """Days relative to enrolled_date, inclusive (CONTRACT.md §3 `[windows]`)."""

    baseline: tuple[int, int] = (-14, 7)
    baseline_target: int = 0
    endpoint: tuple[int, int] = (56, 84)
    endpoint_target: int = 70


def _closest_in_window(scored: pl.DataFrame, window: tuple[int, int], target: int) -> pl.DataFrame:
    """Per key, the administration with day in the window closest to target; a tie goes to the earlier."""
    return (
        scored.filter(pl.col("days_since_enrolment").is_between(*window))
        .sort(
            (pl.col("days_since_enrolment") - target).abs(),
            "days_since_enrolment",
            "completed_at",
        )
        .group_by(KEYS, maintain_order=True)
        .first()
    )


def select_baseline_and_endpoint(assessments: pl.DataFrame, windows: Windows) -> pl.DataFrame:
    """One row per participant × instrument × subscale with a baseline or an endpoint.

    Input: `marts.assessments` rows with `completed_at` (for ordering within a day). Only scored
    administrations count. The endpoint must come after the baseline.
    """
    scored = assessments.filter(pl.col("score").is_not_null())
    picked = ["days_since_enrolment", "completed_at", "completed_date", "score"]
    baseline = _closest_in_window(scored, windows.baseline, windows.baseline_target).select(
        *KEYS,
        pl.col("administration_id").alias("baseline_administration_id"),
        pl.col("completed_at").alias("baseline_completed_at"),
        pl.col("completed_date").alias("baseline_date"),
        pl.col("score").alias("baseline_score"),
    )
    after_baseline = scored.join(baseline.select(*KEYS, "baseline_completed_at"), on=KEYS, how="left").filter(
        pl.col("baseline_completed_at").is_null() | (pl.col("completed_at") > pl.col("baseline_completed_at"))
    )
    endpoint = _closest_in_window(
        after_baseline.select(*KEYS, *picked), windows.endpoint, windows.endpoint_target
    ).select(
        *KEYS,
        pl.col("completed_date").alias("endpoint_date"),
        pl.col("score").alias("endpoint_score"),
    )
    return baseline.drop("baseline_completed_at").join(endpoint, on=KEYS, how="full", coalesce=True)


def outcome_status(
    has_baseline: pl.Expr, has_endpoint: pl.Expr, enrolled_date: pl.Expr, as_of: date, windows: Windows
) -> pl.Expr:
    """`complete`, `no_baseline`, else `not_yet_due` while as-of < enrolled + last endpoint day, else `no_endpoint`."""
    last_endpoint_day = timedelta(days=windows.endpoint[1])
    return (
        pl.when(has_baseline & has_endpoint)
        .then(pl.lit("complete"))
        .when(~has_baseline)
        .then(pl.lit("no_baseline"))
        .when(pl.lit(as_of) < enrolled_date + last_endpoint_day)
        .then(pl.lit("not_yet_due"))
        .otherwise(pl.lit("no_endpoint"))
    )
