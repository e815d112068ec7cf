"""The outcome marts: per participant, the parameters used, and per cohort (CONTRACT.md §5)."""

from __future__ import annotations

from datetime import date

import polars as pl

from transforms.effect_sizes import change_statistics
from transforms.instruments import Instrument
from transforms.mixed_models import VarianceComponents, change_by_group, fit_variance_components, person_sums
from transforms.reliable_change import ItemSums, baseline_item_sums, classify_change, outcome_parameters
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
    outcomes = outcome_rows(participants, chosen, in_use, windows, as_of)
    complete = outcomes.filter(pl.col("outcome_status") == "complete")
    item_sums = complete_baseline_sums(complete, baseline_forms, instruments)
    parameters = program_parameters(in_use, complete, item_sums, instruments, config_outcomes)
    return classified_outcomes(outcomes, parameters), parameters


def outcome_rows(
    participants: pl.DataFrame, chosen: pl.DataFrame, in_use: pl.DataFrame, windows: Windows, as_of: date
) -> pl.DataFrame:
    """Each enrolled participant × measure in use with their baseline and endpoint, if any, and their outcome
    status, in key order. A participant's rows depend only on their own, so batches of participants give the rows
    of one pass over everyone."""
    roster = participants.select("participant_id", "site_id", "cohort_id", "modality", "enrolled_date")
    return (
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


def complete_baseline_sums(
    complete: pl.DataFrame, baseline_forms: pl.DataFrame, instruments: dict[str, Instrument]
) -> dict[tuple[str, str], ItemSums]:
    """What Cronbach's alpha needs of the baseline items of complete outcome rows (`instrument, subscale,
    baseline_administration_id`), from at least their baseline administrations (`administration_id, responses`)."""
    forms = complete.select("instrument", "subscale", administration_id="baseline_administration_id").join(
        baseline_forms.select("administration_id", "responses"), on="administration_id"
    )
    return baseline_item_sums(forms, instruments)


def program_parameters(
    in_use: pl.DataFrame,
    complete: pl.DataFrame,
    item_sums: dict[tuple[str, str], ItemSums],
    instruments: dict[str, Instrument],
    config_outcomes: dict,
) -> pl.DataFrame:
    """`marts.outcome_parameters` from the program's complete outcome rows (`outcome_rows` whose status is
    complete, in key order; `instrument, subscale, baseline_score` are enough) and their `complete_baseline_sums`."""
    every_measure = in_use.sort(KEYS[1:]).select(*KEYS[1:], baseline_score=pl.lit(None, pl.Float64))
    return outcome_parameters(  # each measure in use, in that order, with its complete pairs' scores (not copied)
        pl.concat([every_measure, complete.select(*KEYS[1:], "baseline_score")], rechunk=False),
        item_sums,
        instruments,
        config_outcomes,
    )


def classified_outcomes(outcomes: pl.DataFrame, parameters: pl.DataFrame) -> pl.DataFrame:
    """`outcome_rows` (of everyone or of a batch of participants) classified by the program's parameters: the
    rows of `marts.participant_outcomes`."""
    return classify_change(outcomes, parameters).select(PARTICIPANT_COLUMNS)


def cohort_outcomes(outcomes: pl.DataFrame) -> pl.DataFrame:
    """`marts.cohort_outcomes`: one row per grouping × group × instrument × subscale."""
    return pooled_cohort_outcomes(cohort_parts(outcomes))


COHORT_KEYS = ["grouping", "group_id", "instrument", "subscale"]
PAIRED = {"baseline": pl.col("baseline_score"), "endpoint": pl.col("endpoint_score")}


def cohort_parts(outcomes: pl.DataFrame) -> pl.DataFrame:
    """What `pooled_cohort_outcomes` needs of the outcome rows of some participants (a batch of them, or everyone),
    per grouping × group × instrument × subscale: the counts, whether any completer was classified, and the complete
    pairs' number, sums and sums of squared deviations from their own means (and of products, for r)."""
    complete = pl.col("outcome_status") == "complete"
    paired = {name: score.filter(complete) for name, score in PAIRED.items()}
    paired["change"] = paired["endpoint"] - paired["baseline"]
    deviation = {name: score - score.mean() for name, score in paired.items()}
    sums = {
        "n_enrolled": pl.len(),
        **{count: (pl.col("outcome_status") == count.removeprefix("n_")).sum() for count in STATUS_COUNTS[1:]},
        **{f"n_{c}": (pl.col("reliable_change") == c).sum() for c in ("improved", "unchanged", "deteriorated")},
        **{f"n_{c}": (pl.col("jt_category") == c).sum() for c in ("recovered", "harmed")},
        "any_reliable_change": pl.col("reliable_change").is_not_null().any(),
        "any_jt_category": pl.col("jt_category").is_not_null().any(),
        **{f"{name}_total": score.sum() for name, score in paired.items()},
        **{f"{name}_squares": (score**2).sum() for name, score in deviation.items()},
        "products": (deviation["baseline"] * deviation["endpoint"]).sum(),
    }
    parts = []
    for grouping, column in GROUPINGS.items():
        group_id = pl.lit("all") if column is None else pl.col(column)
        parts.append(
            outcomes.with_columns(grouping=pl.lit(grouping), group_id=group_id).group_by(COHORT_KEYS).agg(**sums)
        )
    return pl.concat(parts, how="diagonal_relaxed")


def pooled_cohort_outcomes(parts: pl.DataFrame) -> pl.DataFrame:
    """`marts.cohort_outcomes` from the `cohort_parts` of one or more batches of participants: counts added, and
    the complete pairs' means, SDs and correlation pooled (Chan, Golub & LeVeque: a part's squared deviations plus
    its pairs' distance from the pooled mean). Category counts are NULL when the group's completers have none at
    all (too few complete pairs in the program to classify, or no cutoff), so that no one reads 0% where nothing
    was classified."""
    pairs = pl.col("n_complete")
    n = pairs.sum()
    mean = {name: pl.col(f"{name}_total").sum() / n for name in ("baseline", "endpoint", "change")}
    distance = {name: pl.when(pairs > 0).then(pl.col(f"{name}_total") / pairs - mean[name]) for name in mean}

    def squares(a: str, b: str, own: str) -> pl.Expr:
        return pl.col(own).sum() + (pairs * distance[a] * distance[b]).sum()

    counted = [c for c in parts.columns if c.startswith("n_")]
    categories = {"reliable_change": ("improved", "unchanged", "deteriorated"), "jt_category": ("recovered", "harmed")}
    pooled = parts.group_by(COHORT_KEYS).agg(
        *[pl.col(c).sum() for c in counted],
        *[pl.col(f"any_{column}").any().alias(f"any_{column}") for column in categories],
        n=n,
        mean_baseline=mean["baseline"],
        mean_endpoint=mean["endpoint"],
        mean_change=mean["change"],
        sd_change=(squares("change", "change", "change_squares") / (n - 1)).sqrt(),
        sd_baseline=(squares("baseline", "baseline", "baseline_squares") / (n - 1)).sqrt(),
        r=squares("baseline", "endpoint", "products")
        / (
            squares("baseline", "baseline", "baseline_squares") * squares("endpoint", "endpoint", "endpoint_squares")
        ).sqrt(),
    )
    classified = {column: pl.col(f"any_{column}") | (pl.col("n") == 0) for column in categories}
    columns = [*COHORT_KEYS, *STATUS_COUNTS, *CHANGE_STATISTICS, *CATEGORY_COUNTS]
    with_counts = pooled.with_columns(
        pl.when(classified[column]).then(pl.col(f"n_{c}")).alias(f"n_{c}")
        for column, names in categories.items()
        for c in names
    )
    return (
        change_statistics(with_counts, COHORT_KEYS)
        .with_columns(pl.col(c).cast(pl.Int64) for c in columns if c.startswith("n_"))
        .select(columns)
        .sort(COHORT_KEYS)
    )


NOT_FITTED = "not fitted: too few participants or weeks, or the model did not converge"
TOO_FEW = "no estimate: fewer than 3 participants, or too few distinct weeks"


GROUP_COLUMNS = tuple(filter(None, GROUPINGS.values()))


def intent_to_treat(
    assessments: pl.DataFrame, participants: pl.DataFrame, instrument: str, subscale: str, windows: Windows
) -> pl.DataFrame:
    """`marts.itt_outcomes`: for every grouping, the 10-week change estimated from every score of everyone
    enrolled by the program's mixed model (transforms/mixed_models.py), with its 95% CI, sample sizes and the days
    since enrolment whose scores it reads (`first_day` to `last_day`: the baseline window's first to the endpoint
    window's last). `week` is whole weeks since enrolment, floor(days / 7), as OUTCOMES.md §3 defines it."""
    scores = itt_scores(assessments, participants, instrument, subscale, windows)
    people = person_sums(scores, by=GROUP_COLUMNS)
    return itt_outcomes(fit_variance_components(scores), people, instrument, subscale, windows)


def itt_scores(
    assessments: pl.DataFrame, participants: pl.DataFrame, instrument: str, subscale: str, windows: Windows
) -> pl.DataFrame:
    """The scores `intent_to_treat` reads, with their participant's groups: each participant's depend only on
    their own rows. The model is fitted on those of a sample of participants (`sampled_participants` of the
    participants with a score)."""
    return (
        assessments.filter((pl.col("instrument") == instrument) & (pl.col("subscale") == subscale))
        .filter(pl.col("days_since_enrolment").is_between(windows.baseline[0], windows.endpoint[1]))
        .join(participants.select("participant_id", *GROUP_COLUMNS), on="participant_id")
        .select(*GROUP_COLUMNS, "participant_id", "score", week=pl.col("week").cast(pl.Float64))
    )


def itt_outcomes(
    components: VarianceComponents | None, people: pl.DataFrame, instrument: str, subscale: str, windows: Windows
) -> pl.DataFrame:
    """`marts.itt_outcomes` from the fitted variance components and everyone's `person_sums` of `itt_scores`
    (by the groups' columns; the sums of batches of participants, in any order, will do)."""
    if components is None:  # too little history to fit: the program's row says so, with its counts
        rows = [
            {"grouping": "program", "group_id": "all", "model": NOT_FITTED}
            | {"n_participants": people.height, "n_scores": int(people["n"].sum())}
        ]
    else:
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
