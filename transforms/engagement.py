"""Exercise engagement statistics (OUTCOMES.md §7): distress drop per exercise type, and dose–response."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats

from transforms.effect_sizes import t_interval
from transforms.outcomes import HEADLINE


def exercise_drops(practices: pl.DataFrame) -> pl.DataFrame:
    """What `exercise_effects` reads of practices already in memory (one viewer's own, say), as
    transforms/sql/marts/exercise_drops.sql gives it of every practice in the warehouse."""
    drop = pl.col("distress_before").cast(pl.Int64) - pl.col("distress_after").cast(pl.Int64)
    return (
        practices.drop_nulls(["distress_before", "distress_after"])
        .group_by("exercise")
        .agg(
            practices=pl.len().cast(pl.Int64),
            participants=pl.col("participant_id").n_unique().cast(pl.Int64),
            total=drop.sum(),
            squares=(drop * drop).sum(),
        )
    )


def exercise_effects(drops: pl.DataFrame) -> pl.DataFrame:
    """`marts.exercise_effects`: per exercise type, practices with distress logged before and after, and the
    mean distress drop (before − after) with a t-based 95% CI (NULL for fewer than three).

    `drops` (transforms/sql/marts/exercise_drops.sql): per exercise, its `practices`, their `participants`, and the
    `total` of their drops and of the drops' `squares`: whole numbers, so the mean and the SD are exact sums
    divided once, in whatever order the practices come."""
    n, total = pl.col("practices").cast(pl.Int128), pl.col("total").cast(pl.Int128)
    spread = (n * pl.col("squares") - total * total).cast(pl.Float64) / (n * (n - 1)).cast(pl.Float64)
    summary = drops.sort("exercise").select(
        "exercise",
        practices=pl.col("practices").cast(pl.UInt32),
        participants=pl.col("participants").cast(pl.UInt32),
        mean_distress_drop=total.cast(pl.Float64) / n.cast(pl.Float64),
        sd=pl.when(n > 1).then(spread.sqrt()),
    )
    low, high = t_interval(
        summary["mean_distress_drop"].to_numpy(), summary["sd"].to_numpy(), summary["practices"].to_numpy()
    )
    enough = pl.col("practices") >= 3
    return (
        summary.with_columns(
            pl.when(enough).then(pl.Series(low)).alias("mean_distress_drop_ci_low"),
            pl.when(enough).then(pl.Series(high)).alias("mean_distress_drop_ci_high"),
        )
        .drop("sd")
        .fill_nan(None)
    )


def spearman_with_interval(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Spearman's rho with a 95% CI from Fisher's z, using the Fieller, Hartley & Pearson (1957) standard
    error 1.03 / sqrt(n − 3); None when rho is undefined (everyone practised the same, or changed the same)."""
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None, None, None
    rho = float(stats.spearmanr(x, y).statistic)
    half_width = 1.96 * 1.03 / math.sqrt(len(x) - 3)
    z = math.atanh(max(min(rho, 0.999999), -0.999999))
    return rho, math.tanh(z - half_width), math.tanh(z + half_width)


def practice_and_change(
    minutes: pl.DataFrame, outcomes: pl.DataFrame, last_week: int = 10, measure: tuple[str, str] = HEADLINE
) -> pl.DataFrame:
    """Each completer's change in `measure` (instrument, subscale) and practice minutes in weeks 0 to `last_week`
    (0 if none logged)."""
    practice = (
        minutes.filter(pl.col("week").is_between(0, last_week))
        .group_by("participant_id")
        .agg(practice_minutes=pl.col("minutes").sum())
    )
    return (
        outcomes.filter(
            (pl.col("instrument") == measure[0])
            & (pl.col("subscale") == measure[1])
            & (pl.col("outcome_status") == "complete")
        )
        .select("participant_id", "change_score")
        .join(practice, on="participant_id", how="left")
        .with_columns(pl.col("practice_minutes").fill_null(0.0))
        .sort("practice_minutes", "participant_id")
    )


def dose_response(
    minutes: pl.DataFrame, outcomes: pl.DataFrame, last_week: int = 10, measure: tuple[str, str] = HEADLINE
) -> pl.DataFrame:
    """`marts.dose_response` (of ECR-R anxiety): the 10-week change in `measure` against practice minutes in weeks
    0–10, by tertile of minutes (n, minutes range, mean change with CI) and overall (Spearman's rho with CI).

    `minutes`: marts.exercise_engagement; `outcomes`: marts.participant_outcomes."""
    return dose_response_of(practice_and_change(minutes, outcomes, last_week, measure))


def dose_response_of(changes: pl.DataFrame) -> pl.DataFrame:
    """`dose_response` from everyone's `practice_and_change`: each completer's row depends only on their own, so
    the rows of batches of participants, in any order, will do."""
    changes = changes.sort("practice_minutes", "participant_id").rechunk()
    if changes.height < 6:
        return pl.DataFrame(schema=DOSE_SCHEMA)
    # by rank, ties sharing the lowest: equal minutes are always in the same tertile, whoever they are (so with
    # many who never practised, the first tertile is larger, and one may be empty)
    tertiles = changes.with_columns(
        tertile=pl.format("tertile {}", (pl.col("practice_minutes").rank("min") - 1) * 3 // pl.len() + 1)
    )
    rows = (
        tertiles.group_by("tertile")
        .agg(
            n=pl.len(),
            minutes_min=pl.col("practice_minutes").min(),
            minutes_max=pl.col("practice_minutes").max(),
            mean_change=pl.col("change_score").mean(),
            sd=pl.col("change_score").std(),
        )
        .sort("tertile")
    )
    low, high = t_interval(rows["mean_change"].to_numpy(), rows["sd"].to_numpy(), rows["n"].to_numpy())
    rho, rho_low, rho_high = spearman_with_interval(
        changes["practice_minutes"].to_numpy(), changes["change_score"].to_numpy()
    )
    overall = pl.DataFrame(
        {
            "practice_group": ["all"],
            "n": [changes.height],
            "minutes_min": [changes["practice_minutes"].min()],
            "minutes_max": [changes["practice_minutes"].max()],
            "mean_change": [changes["change_score"].mean()],
            "spearman_rho": [rho],
            "spearman_rho_ci_low": [rho_low],
            "spearman_rho_ci_high": [rho_high],
        }
    )
    by_tertile = (
        rows.rename({"tertile": "practice_group"})
        .drop("sd")
        .with_columns(pl.Series("mean_change_ci_low", low), pl.Series("mean_change_ci_high", high))
    )
    return pl.concat([by_tertile, overall], how="diagonal_relaxed").cast(DOSE_SCHEMA).select(list(DOSE_SCHEMA))


DOSE_SCHEMA = {
    "practice_group": pl.String,
    "n": pl.Int64,
    "minutes_min": pl.Float64,
    "minutes_max": pl.Float64,
    "mean_change": pl.Float64,
    "mean_change_ci_low": pl.Float64,
    "mean_change_ci_high": pl.Float64,
    "spearman_rho": pl.Float64,
    "spearman_rho_ci_low": pl.Float64,
    "spearman_rho_ci_high": pl.Float64,
}
