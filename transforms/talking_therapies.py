"""NHS Talking Therapies style indicators from PHQ-9 with GAD-7 (OUTCOMES.md §6).

Among participants with a baseline and an endpoint on both measures:
- a case at baseline scores PHQ-9 ≥ 10 or GAD-7 ≥ 8;
- recovery: a case at baseline, below caseness on both at the endpoint;
- reliable improvement: a fall of at least 6 (PHQ-9) or 4 (GAD-7) on either, with no reliable deterioration
  (a rise of at least as much) on the other;
- reliable recovery: both recovery and reliable improvement.
Recovery rates are of cases at baseline; the reliable improvement rate is of everyone with both measures.
"""

from __future__ import annotations

import polars as pl

from transforms.outcomes import GROUPINGS

PHQ_CASENESS, GAD_CASENESS = 10, 8
PHQ_RELIABLE, GAD_RELIABLE = 6, 4


def talking_therapies(outcomes: pl.DataFrame) -> pl.DataFrame:
    """`marts.talking_therapies`: one row per grouping × group."""
    return therapy_rates(therapy_counts(outcomes))


def therapy_counts(outcomes: pl.DataFrame) -> pl.DataFrame:
    """The counts of `talking_therapies` among some participants' outcome rows (a batch of them, or everyone): each
    participant's indicators depend only on their own rows, so the counts of batches add up to everyone's."""
    pairs = (
        outcomes.filter(pl.col("outcome_status") == "complete")
        .filter(pl.col("instrument").is_in(["PHQ-9", "GAD-7"]))
        .pivot(
            on="instrument",
            index=["participant_id", "site_id", "cohort_id", "modality"],
            values=["baseline_score", "endpoint_score"],
        )
        .drop_nulls()
    )
    if pairs.is_empty() or "baseline_score_PHQ-9" not in pairs.columns or "baseline_score_GAD-7" not in pairs.columns:
        return pl.DataFrame(schema=COUNTS)
    phq_change = pl.col("endpoint_score_PHQ-9") - pl.col("baseline_score_PHQ-9")
    gad_change = pl.col("endpoint_score_GAD-7") - pl.col("baseline_score_GAD-7")
    is_case = (pl.col("baseline_score_PHQ-9") >= PHQ_CASENESS) | (pl.col("baseline_score_GAD-7") >= GAD_CASENESS)
    is_below_at_end = (pl.col("endpoint_score_PHQ-9") < PHQ_CASENESS) & (pl.col("endpoint_score_GAD-7") < GAD_CASENESS)
    is_reliably_improved = ((phq_change <= -PHQ_RELIABLE) | (gad_change <= -GAD_RELIABLE)) & ~(
        (phq_change >= PHQ_RELIABLE) | (gad_change >= GAD_RELIABLE)
    )
    flagged = pairs.with_columns(
        is_case=is_case,
        is_recovered=is_case & is_below_at_end,
        is_reliably_improved=is_reliably_improved,
    ).with_columns(is_reliably_recovered=pl.col("is_recovered") & pl.col("is_reliably_improved"))
    parts = []
    for grouping, column in GROUPINGS.items():
        parts.append(
            flagged.with_columns(
                grouping=pl.lit(grouping), group_id=pl.lit("all") if column is None else pl.col(column)
            )
            .group_by("grouping", "group_id")
            .agg(
                n_with_both=pl.len(),
                n_cases=pl.col("is_case").sum(),
                n_recovered=pl.col("is_recovered").sum(),
                n_reliably_improved=pl.col("is_reliably_improved").sum(),
                n_reliably_recovered=pl.col("is_reliably_recovered").sum(),
            )
        )
    return pl.concat(parts).cast(COUNTS)


def therapy_rates(counts: pl.DataFrame) -> pl.DataFrame:
    """`marts.talking_therapies` from the `therapy_counts` of one or more batches of participants."""
    cases = pl.when(pl.col("n_cases") > 0).then(pl.col("n_cases"))  # a group with no case has no recovery rate
    return (
        counts.group_by("grouping", "group_id")
        .agg(pl.col(c).sum() for c in list(COUNTS)[2:])
        .with_columns(
            recovery_rate=pl.col("n_recovered") / cases,
            reliable_improvement_rate=pl.col("n_reliably_improved") / pl.col("n_with_both"),
            reliable_recovery_rate=pl.col("n_reliably_recovered") / cases,
        )
        .cast(SCHEMA)
        .select(list(SCHEMA))
        .sort("grouping", "group_id")
    )


SCHEMA = {
    "grouping": pl.String,
    "group_id": pl.String,
    "n_with_both": pl.Int64,
    "n_cases": pl.Int64,
    "n_recovered": pl.Int64,
    "n_reliably_improved": pl.Int64,
    "n_reliably_recovered": pl.Int64,
    "recovery_rate": pl.Float64,
    "reliable_improvement_rate": pl.Float64,
    "reliable_recovery_rate": pl.Float64,
}
COUNTS = {name: kind for name, kind in SCHEMA.items() if not name.endswith("_rate")}
