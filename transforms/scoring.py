"""Scoring administrations into subscale scores (OUTCOMES.md §2).

An administration arrives as `responses`: a list of integers where position i holds item i + 1 of the declared
instrument and null means "not answered". Keys come from the registry, never from the file.
"""

from __future__ import annotations

import polars as pl

from transforms.instruments import Instrument, Subscale


def keyed_item(responses: pl.Expr, instrument: Instrument, subscale: Subscale, item: int) -> pl.Expr:
    """Item `item` of the list, reverse-keyed (min + max − x) when the subscale declares it reversed."""
    value = responses.list.get(item - 1, null_on_oob=True).cast(pl.Float64)
    if item in subscale.reverse_items:
        return instrument.min + instrument.max - value
    return value


def subscale_score(responses: pl.Expr, instrument: Instrument, subscale: Subscale) -> tuple[pl.Expr, pl.Expr]:
    """(score, items_answered) expressions for one subscale.

    Mean of the answered keyed items; a sum-scored subscale is that mean × k (person-mean imputation, not
    rounded). Null when more than floor(0.2 × k) items are missing.
    """
    items = [keyed_item(responses, instrument, subscale, i) for i in subscale.items]
    answered = pl.sum_horizontal([item.is_not_null() for item in items]).cast(pl.Int32)
    k = len(subscale.items)
    mean = pl.mean_horizontal(items)
    raw = mean * k if instrument.method == "sum" else mean
    score = pl.when(k - answered <= subscale.max_missing).then(raw).otherwise(None)
    return score, answered


def score_administrations(administrations: pl.DataFrame, instruments: dict[str, Instrument]) -> pl.DataFrame:
    """One row per administration × subscale, for the `items` instruments of the registry.

    Input columns: `administration_id`, `instrument`, `responses` (list of int), and any others, which are kept.
    Output replaces `responses` by `subscale`, `score` (null when too many items are missing), `items_answered`,
    `items_total` and `is_prorated`.
    """
    parts = []
    for instrument in instruments.values():
        if instrument.kind != "items":
            continue
        forms = administrations.filter(pl.col("instrument") == instrument.id)
        if forms.is_empty():
            continue
        for subscale in instrument.subscales:
            score, answered = subscale_score(pl.col("responses"), instrument, subscale)
            parts.append(
                forms.select(
                    pl.exclude("responses"),
                    pl.lit(subscale.name).alias("subscale"),
                    score.alias("score"),
                    answered.alias("items_answered"),
                    pl.lit(len(subscale.items), pl.Int32).alias("items_total"),
                ).with_columns(is_prorated=pl.col("items_answered") < pl.col("items_total"))
            )
    if not parts:
        return pl.DataFrame(
            schema={
                "administration_id": pl.Int64,
                "instrument": pl.String,
                "subscale": pl.String,
                "score": pl.Float64,
                "items_answered": pl.Int32,
                "items_total": pl.Int32,
                "is_prorated": pl.Boolean,
            }
        )
    return pl.concat(parts)


def keyed_item_matrix(administrations: pl.DataFrame, instrument: Instrument, subscale: Subscale) -> pl.DataFrame:
    """Reverse-keyed item responses of a subscale, one column per item, complete item sets only (for alpha)."""
    columns = [keyed_item(pl.col("responses"), instrument, subscale, i).alias(f"item_{i}") for i in subscale.items]
    return administrations.select(columns).drop_nulls()


ASSESSMENT_COLUMNS = [
    "administration_id",
    "participant_id",
    "instrument",
    "subscale",
    "completed_at",
    "completed_date",
    "days_since_enrolment",
    "week",
    "score",
    "items_answered",
    "items_total",
    "is_prorated",
]


def assessments(
    administrations: pl.DataFrame,
    scored_results: pl.DataFrame,
    participants: pl.DataFrame,
    instruments: dict[str, Instrument],
) -> pl.DataFrame:
    """`marts.assessments`: one row per administration × subscale of an enrolled participant.

    Item administrations are scored here; pre-scored results (the `scores` dataset) arrive with their score
    and no item counts. `week` = floor(days_since_enrolment / 7), so the days before enrolment are week −1, −2.
    """
    from_items = score_administrations(
        administrations.select(
            "administration_id", "participant_id", "instrument", "completed_at", "completed_date", "responses"
        ),
        instruments,
    )
    from_scores = scored_results.select(
        pl.lit(None, pl.Int64).alias("administration_id"),
        "participant_id",
        "instrument",
        "subscale",
        "completed_at",
        "completed_date",
        pl.col("score").cast(pl.Float64),
        pl.lit(None, pl.Int32).alias("items_answered"),
        pl.lit(None, pl.Int32).alias("items_total"),
        pl.lit(False).alias("is_prorated"),
    )
    days = (pl.col("completed_date") - pl.col("enrolled_date")).dt.total_days()
    return (
        pl.concat([from_items, from_scores], how="diagonal_relaxed")
        .join(participants.select("participant_id", "enrolled_date"), on="participant_id")
        .with_columns(days_since_enrolment=days.cast(pl.Int32))
        .with_columns(week=pl.col("days_since_enrolment").floordiv(7))
        .select(ASSESSMENT_COLUMNS)
        .sort("participant_id", "instrument", "subscale", "completed_at")
    )
