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
    unknown instrument are left to the `unknown_instrument` rule. Rows are flagged with list operations
    first, and only the (rare) flagged rows are spread out item by item to name the columns.
    """
    parts = []
    for instrument in instruments.values():
        if instrument.kind != "items":
            continue
        responses = pl.col("responses")
        in_range = pl.element().is_between(instrument.min, instrument.max)
        flagged = batch.filter(
            (pl.col("instrument") == instrument.id)
            & (
                responses.list.head(instrument.item_count).list.eval(in_range.not_()).list.any()
                | (responses.list.slice(instrument.item_count).list.drop_nulls().list.len() > 0)
            )
        )
        if flagged.is_empty():
            continue
        items = (
            flagged.select("source_row", "responses")
            .with_columns(item=pl.int_ranges(1, pl.col("responses").list.len() + 1))
            .explode("responses", "item")
            .filter(pl.col("responses").is_not_null())
        )
        beyond = items.filter(pl.col("item") > instrument.item_count).select(
            "source_row",
            rule=pl.lit("item_beyond_instrument"),
            column_name=pl.format("item_{}", "item"),
            detail=pl.lit(f"{instrument.id} has {instrument.item_count} items; columns beyond must be blank"),
        )
        out_of_range = items.filter(
            (pl.col("item") <= instrument.item_count) & ~pl.col("responses").is_between(instrument.min, instrument.max)
        ).select(
            "source_row",
            rule=pl.lit("out_of_range"),
            column_name=pl.format("item_{}", "item"),
            detail=pl.lit(f"{instrument.id} items run {instrument.min:g}–{instrument.max:g}"),
        )
        parts += [beyond, out_of_range]
    return pl.concat(parts).cast(FAILURE_SCHEMA) if parts else pl.DataFrame(schema=FAILURE_SCHEMA)


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
