"""Row rules whose limits come from the declared instrument in the registry (CONTRACT.md §4).

They sit beside the Great Expectations suites rather than in them because their bounds differ row by row
(an ECR-R item runs 1–7, a PHQ-9 item 0–3); the registry is their single source.
"""

from __future__ import annotations

import polars as pl

from transforms.instruments import Instrument

FAILURE_SCHEMA = {"source_row": pl.Int64, "rule": pl.String, "column_name": pl.String, "detail": pl.String}


def item_failures(batch: pl.DataFrame, instruments: dict[str, Instrument]) -> pl.DataFrame:
    """Questionnaire rows with an item out of the instrument's range or answered beyond its last item.

    `batch`: typed staging rows with `source_row`, `instrument` and `responses` (list of int). Rows of an
    unknown instrument are left to the `unknown_instrument` rule. Rows are flagged with list aggregates first
    (smallest and largest answer, answers beyond the last item), and only the (rare) flagged rows are spread out
    item by item to name the columns.
    """
    limits = pl.DataFrame(
        [
            (
                i.id,
                i.item_count,
                i.min,
                i.max,
                f"{i.id} has {i.item_count} items; columns beyond must be blank",
                f"{i.id} items run {i.min:g}–{i.max:g}",
            )
            for i in instruments.values()
            if i.kind == "items"
        ],
        schema={
            "instrument": pl.String,
            "item_count": pl.Int64,
            "low": pl.Float64,
            "high": pl.Float64,
            "beyond_detail": pl.String,
            "range_detail": pl.String,
        },
        orient="row",
    )

    def limit(column: str) -> pl.Expr:  # the row's instrument's, without copying its answers in a join
        return pl.col("instrument").replace_strict(limits["instrument"], limits[column], default=None)

    answered = pl.col("responses").list.head(limit("item_count"))
    flagged = (
        batch.select("source_row", "instrument", "responses")
        .filter(
            (answered.list.min() < limit("low"))
            | (answered.list.max() > limit("high"))
            | pl.col("responses").list.slice(limit("item_count")).list.max().is_not_null()
        )
        .join(limits, on="instrument")
    )
    items = (
        flagged.with_columns(item=pl.int_ranges(1, pl.col("responses").list.len() + 1))
        .explode("responses", "item")
        .filter(pl.col("responses").is_not_null())
    )
    beyond = items.filter(pl.col("item") > pl.col("item_count")).select(
        "source_row",
        rule=pl.lit("item_beyond_instrument"),
        column_name=pl.format("item_{}", "item"),
        detail="beyond_detail",
    )
    out_of_range = items.filter(
        (pl.col("item") <= pl.col("item_count")) & ~pl.col("responses").is_between(pl.col("low"), pl.col("high"))
    ).select(
        "source_row",
        rule=pl.lit("out_of_range"),
        column_name=pl.format("item_{}", "item"),
        detail="range_detail",
    )
    return pl.concat([beyond, out_of_range]).cast(FAILURE_SCHEMA)


def score_failures(batch: pl.DataFrame, instruments: dict[str, Instrument]) -> pl.DataFrame:
    """Pre-scored rows whose score lies outside the instrument's range, or whose subscale it does not have."""
    known = pl.DataFrame(
        [(i.id, s.name, i.min, i.max) for i in instruments.values() if i.kind == "scored" for s in i.subscales],
        schema={"instrument": pl.String, "known_subscale": pl.String, "score_min": pl.Float64, "score_max": pl.Float64},
        orient="row",
    )
    rows = batch.select("source_row", "instrument", "subscale", "score").join(
        known.group_by("instrument").agg(pl.col("known_subscale"), pl.first("score_min", "score_max")),
        on="instrument",
        how="inner",
    )
    out_of_range = rows.filter(~pl.col("score").is_between(pl.col("score_min"), pl.col("score_max"))).select(
        "source_row",
        rule=pl.lit("out_of_range"),
        column_name=pl.lit("score"),
        detail=pl.format("{} scores run {}–{}", "instrument", "score_min", "score_max"),
    )
    unknown_subscale = rows.filter(~pl.col("known_subscale").list.contains(pl.col("subscale"))).select(
        "source_row",
        rule=pl.lit("not_in_set"),
        column_name=pl.lit("subscale"),
        detail=pl.format("{} has no such subscale", "instrument"),
    )
    return pl.concat([out_of_range, unknown_subscale]).cast(FAILURE_SCHEMA)
