"""Not-on-track alerts on the headline outcome, ECR-R attachment anxiety (`marts.alerts`).

A participant is flagged at a week when their score, after baseline,
- shows reliable deterioration from their baseline (a rise beyond the minimum reliable change), or
- sits above the program's expected trajectory for their intake severity by more than 1.645 prediction SDs.
"""

from __future__ import annotations

import polars as pl

from transforms.mixed_models import Z_ALERT, ExpectedTrajectory, fit_expected_trajectory

ALERT_SCHEMA = {
    "participant_id": pl.String,
    "site_id": pl.String,
    "cohort_id": pl.String,
    "instrument": pl.String,
    "subscale": pl.String,
    "week": pl.Int32,
    "completed_date": pl.Date,
    "rule": pl.String,
    "observed_score": pl.Float64,
    "expected_score": pl.Float64,
    "threshold": pl.Float64,
    "is_latest": pl.Boolean,  # the participant's latest administration of the measure: where a worklist looks
}
COPIED = list(ALERT_SCHEMA)[: list(ALERT_SCHEMA).index("rule")]  # taken as they are from the scores


def headline_scores(assessments: pl.DataFrame, outcomes: pl.DataFrame, instrument: str, subscale: str) -> pl.DataFrame:
    """Scores of the headline subscale with each participant's baseline (their intake severity)."""
    baselines = outcomes.filter(
        (pl.col("instrument") == instrument) & (pl.col("subscale") == subscale) & pl.col("baseline_score").is_not_null()
    ).select("participant_id", "site_id", "cohort_id", "baseline_date", intake="baseline_score")
    return (
        assessments.filter((pl.col("instrument") == instrument) & (pl.col("subscale") == subscale))
        .drop_nulls("score")
        .join(baselines, on="participant_id")
        .with_columns(week_exact=pl.col("days_since_enrolment") / 7)
    )


def _alert_rows(flagged: pl.DataFrame, rule: str, expected: str, threshold: str) -> pl.DataFrame:
    return flagged.select(
        *COPIED,
        pl.lit(rule).alias("rule"),
        pl.col("score").alias("observed_score"),
        pl.col(expected).alias("expected_score"),
        pl.col(threshold).alias("threshold"),
        "is_latest",
    )


def not_on_track_alerts(
    scores: pl.DataFrame, trajectory: ExpectedTrajectory | None, min_reliable_change: float | None
) -> pl.DataFrame:
    """One row per participant × administration × rule that fires (lower scores are better), each marked if it is
    of the participant's latest administration, judged on all of `scores`, which holds every score of theirs."""
    latest = pl.col("completed_date") == pl.col("completed_date").max().over("participant_id")
    after_baseline = scores.with_columns(is_latest=latest).filter(pl.col("completed_date") > pl.col("baseline_date"))
    parts = []
    if min_reliable_change is not None:
        worse = after_baseline.with_columns(limit=pl.col("intake") + min_reliable_change)
        parts.append(
            _alert_rows(worse.filter(pl.col("score") > pl.col("limit")), "reliable_deterioration", "intake", "limit")
        )
    if trajectory is not None:
        expected = trajectory.expected(pl.col("week_exact"), pl.col("intake"))
        above = after_baseline.with_columns(expected=expected, limit=expected + Z_ALERT * trajectory.prediction_sd)
        parts.append(
            _alert_rows(
                above.filter(pl.col("score") > pl.col("limit")), "above_expected_trajectory", "expected", "limit"
            )
        )
    if not parts:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    return pl.concat(parts).sort("participant_id", "completed_date", "rule")


def program_alerts(
    assessments: pl.DataFrame, outcomes: pl.DataFrame, parameters: pl.DataFrame, instrument: str, subscale: str
) -> pl.DataFrame:
    """`marts.alerts`: the expected trajectory fitted on the program's history, then both rules applied."""
    history = headline_scores(assessments, outcomes, instrument, subscale)
    trajectory = fit_expected_trajectory(trajectory_history(history))
    return not_on_track_alerts(history, trajectory, min_reliable_change(parameters, instrument, subscale))


def trajectory_history(history: pl.DataFrame) -> pl.DataFrame:
    """What `fit_expected_trajectory` reads of `headline_scores`; its sample is of the participants with a score
    at week 0 or later (`transforms.mixed_models.sampled_participants`)."""
    return history.select("participant_id", "score", "intake", week="week_exact")


def min_reliable_change(parameters: pl.DataFrame, instrument: str, subscale: str) -> float | None:
    """The measure's minimum reliable change, where it is judged by Jacobson and Truax."""
    min_change = parameters.filter(
        (pl.col("instrument") == instrument)
        & (pl.col("subscale") == subscale)
        & (pl.col("reliable_change_method") == "jacobson_truax")
    )["min_reliable_change"]
    return min_change.item() if len(min_change) else None
