"""The outcome marts: per participant, the parameters used, and per cohort (CONTRACT.md §5)."""

from __future__ import annotations

from datetime import date

import polars as pl

from transforms.effect_sizes import paired_change_statistics
from transforms.instruments import Instrument
from transforms.mixed_models import change_by_group, fit_variance_components, person_sums
from transforms.reliable_change import classify_change, outcome_parameters
from transforms.windows import KEYS, Windows, outcome_status

HEADLINE = ("ECR-R", "anxiety")  # the program's headline outcome: instrument, subscale (METHODS.md)
GROUPINGS = {"program": None, "site": "site_id", "cohort": "cohort_id", "modality": "modality"}
# The column groups of marts.cohort_outcomes (CONTRACT.md §5).
STATUS_COUNTS = ["n_enrolled", "n_complete", "n_no_baseline", "n_no_endpoint", "n_not_yet_due"]
CHANGE_STATISTICS = [
    "mean_baseline",
    "mean_endpoint",
    "mean_change",
    "mean_change_ci_low",
    "mean_change_ci_high",
    "hedges_g",
    "hedges_g_ci_low",
    "hedges_g_ci_high",
]
CATEGORY_COUNTS = ["n_improved", "n_unchanged", "n_deteriorated", "n_recovered", "n_harmed"]

PARTICIPANT_COLUMNS = [
    "participant_id",
    "site_id",
    "cohort_id",
    "modality",
    "instrument",
    "subscale",
    "baseline_date",
    "baseline_score",
    "endpoint_date",
    "endpoint_score",
    "change_score",
    "rci",
    "reliable_change",
    "is_clinical_at_baseline",
    "is_functional_at_endpoint",
    "jt_category",
    "outcome_status",
]


def measures_in_use(scored: pl.DataFrame, instruments: dict[str, Instrument]) -> pl.DataFrame:
    """The instrument × subscale pairs that get outcome rows (CONTRACT.md §5): every subscale of each instrument in
    use, one with any scored administration in the program (`scored`: the instrument × subscale pairs with a score),
    whether or not that subscale has scored yet, and the subscales a scored instrument's results name."""
    registry = [
        {"instrument": instrument, "subscale": subscale.name}
        for instrument in scored["instrument"].unique().to_list()
        for subscale in instruments[instrument].subscales
    ]
    every = pl.concat([scored.select("instrument", "subscale"), pl.DataFrame(registry, schema=scored.schema)])
    return every.unique().sort("instrument", "subscale")


def participant_outcomes(
    participants: pl.DataFrame,
    chosen: pl.DataFrame,
    in_use: pl.DataFrame,
    baseline_forms: pl.DataFrame,
    instruments: dict[str, Instrument],
    windows: Windows,
    config_outcomes: dict,
    as_of: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`marts.participant_outcomes`, `marts.outcome_parameters`).

    One outcome row per enrolled participant × instrument in use × subscale. `chosen` holds each participant's
    baseline and endpoint (`select_baseline_and_endpoint`); `in_use` the instrument × subscale pairs with any scored
    administration in the program; `baseline_forms` at least the administrations chosen as baselines
    (`administration_id, instrument, responses`), for Cronbach's alpha.
    """
    roster = participants.select("participant_id", "site_id", "cohort_id", "modality", "enrolled_date")
    outcomes = (
        roster.join(in_use, how="cross")
        .join(chosen, on=KEYS, how="left")
        .with_columns(
            outcome_status=outcome_status(
                pl.col("baseline_score").is_not_null(),
                pl.col("endpoint_score").is_not_null(),
                pl.col("enrolled_date"),
                as_of,
                windows,
            )
        )
        .sort(KEYS)  # a fixed order makes every sum, and so every statistic, identical run to run
    )
    complete = outcomes.filter(pl.col("outcome_status") == "complete")
    complete_baselines = (
        complete.select("instrument", "subscale", administration_id="baseline_administration_id")
        .join(baseline_forms.select("administration_id", "responses"), on="administration_id")
        .sort("instrument", "subscale", "administration_id")
    )
    parameters = outcome_parameters(
        in_use.sort(KEYS[1:]).join(complete, on=KEYS[1:], how="left").select(KEYS[1:] + ["baseline_score"]),
        complete_baselines,
        instruments,
        config_outcomes,
    )
    classified = classify_change(outcomes, parameters)
    return classified.select(PARTICIPANT_COLUMNS), parameters


def _count_of(column: str, category: str) -> pl.Expr:
    """How many of a group have this category; NULL when its completers have none at all (too few complete pairs
    in the program to classify, or no cutoff), so that no one reads 0% where nothing was classified."""
    classified = pl.col(column).is_not_null().any() | (pl.col("outcome_status") != "complete").all()
    return pl.when(classified).then((pl.col(column) == category).sum())


def cohort_outcomes(outcomes: pl.DataFrame) -> pl.DataFrame:
    """`marts.cohort_outcomes`: one row per grouping × group × instrument × subscale."""
    counted = {
        "n_enrolled": pl.len(),
        **{
            f"n_{status}": (pl.col("outcome_status") == status).sum()
            for status in ("complete", "no_baseline", "no_endpoint", "not_yet_due")
        },
        **{
            f"n_{category}": _count_of("reliable_change", category)
            for category in ("improved", "unchanged", "deteriorated")
        },
        **{f"n_{category}": _count_of("jt_category", category) for category in ("recovered", "harmed")},
    }
    parts = []
    for grouping, column in GROUPINGS.items():
        grouped = outcomes.with_columns(
            grouping=pl.lit(grouping),
            group_id=pl.lit("all") if column is None else pl.col(column),
        )
        by = ["grouping", "group_id", "instrument", "subscale"]
        counts = grouped.group_by(by).agg(**counted)
        statistics = paired_change_statistics(grouped.filter(pl.col("outcome_status") == "complete"), by)
        parts.append(counts.join(statistics, on=by, how="left"))
    columns = ["grouping", "group_id", "instrument", "subscale", *STATUS_COUNTS, *CHANGE_STATISTICS, *CATEGORY_COUNTS]
    return (
        pl.concat(parts, how="diagonal_relaxed")
        .with_columns(pl.col(c).cast(pl.Int64) for c in columns if c.startswith("n_"))
        .select(columns)
        .sort("grouping", "group_id", "instrument", "subscale")
    )


NOT_FITTED = "not fitted: too few participants or weeks, or the model did not converge"
TOO_FEW = "no estimate: fewer than 3 participants, or too few distinct weeks"


def intent_to_treat(
    assessments: pl.DataFrame, participants: pl.DataFrame, instrument: str, subscale: str, windows: Windows
) -> pl.DataFrame:
    """`marts.itt_outcomes`: for every grouping, the 10-week change estimated from every score of everyone
    enrolled by the program's mixed model (transforms/mixed_models.py), with its 95% CI, sample sizes and the days
    since enrolment whose scores it reads (`first_day` to `last_day`: the baseline window's first to the endpoint
    window's last). `week` is whole weeks since enrolment, floor(days / 7), as OUTCOMES.md §3 defines it."""
    scores = (
        assessments.filter((pl.col("instrument") == instrument) & (pl.col("subscale") == subscale))
        .filter(pl.col("days_since_enrolment").is_between(windows.baseline[0], windows.endpoint[1]))
        .join(participants.select("participant_id", *filter(None, GROUPINGS.values())), on="participant_id")
        .select(*filter(None, GROUPINGS.values()), "participant_id", "score", week=pl.col("week").cast(pl.Float64))
    )
    components = fit_variance_components(scores)
    if components is None:  # too little history to fit: the program's row says so, with its counts
        people = scores.drop_nulls("score")
        rows = [
            {"grouping": "program", "group_id": "all", "model": NOT_FITTED}
            | {"n_participants": people["participant_id"].n_unique(), "n_scores": people.height}
        ]
    else:
        people = person_sums(scores, by=tuple(filter(None, GROUPINGS.values())))
        rows = [
            {"grouping": grouping, "model": components.model if change.change is not None else TOO_FEW}
            | change.__dict__
            for grouping, column in GROUPINGS.items()
            for change in change_by_group(
                people.with_columns(group_id=pl.lit("all") if column is None else pl.col(column)),
                components,
                weeks=windows.endpoint_target / 7,
            )
        ]
    read = {"first_day": windows.baseline[0], "last_day": windows.endpoint[1]}  # the days whose scores it reads
    rows = [row | {"instrument": instrument, "subscale": subscale} | read for row in rows]
    return pl.DataFrame(rows, schema=ITT_SCHEMA).rename(
        {"change": "change_10_weeks", "ci_low": "change_ci_low", "ci_high": "change_ci_high"}
    )


ITT_SCHEMA = {
    "grouping": pl.String,
    "group_id": pl.String,
    "instrument": pl.String,
    "subscale": pl.String,
    "change": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "model": pl.String,
    "n_participants": pl.Int64,
    "n_scores": pl.Int64,
    "first_day": pl.Int64,
    "last_day": pl.Int64,
}
