"""Validating a batch of typed rows with the Great Expectations suites of `expectations/`.

Each expectation's `meta.rule` names the quarantine rule its failing rows get. Only rows, rules and columns
leave this module: GX's results also carry the failing values, and those are never stored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from transforms.instrument_rules import FAILURE_SCHEMA, item_failures, score_failures
from transforms.instruments import Instrument

EXPECTATIONS_DIR = Path(__file__).resolve().parents[1] / "expectations"


@dataclass(frozen=True)
class RunParameters:
    """Values the suites refer to as `{"$PARAMETER": name}`."""

    as_of: date
    timezone: str
    instruments: dict[str, Instrument]

    def as_dict(self) -> dict:
        import pandas as pd

        day_after_next = datetime.combine(self.as_of + timedelta(days=2), time(), ZoneInfo(self.timezone))
        return {
            "as_of_date": pd.Timestamp(self.as_of),
            "latest_allowed_at": pd.Timestamp(day_after_next),
            "item_instruments": sorted(i.id for i in self.instruments.values() if i.kind == "items"),
            "scored_instruments": sorted(i.id for i in self.instruments.values() if i.kind == "scored"),
        }


def load_suite(name: str):
    import great_expectations as gx

    return gx.ExpectationSuite(**json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8")))


@cache
def _batch_definition():
    """One ephemeral GX context per process, with progress bars off and nothing written to disk."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("securebase").add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole batch")


def run_suite(suite_name: str, batch: pl.DataFrame, parameters: dict) -> tuple[pl.DataFrame, dict]:
    """Failing rows of every expectation of the suite, and a summary (evaluated, failed) of the run."""
    suite = load_suite(suite_name)
    columns = [c for c in batch.columns if not isinstance(batch.schema[c], pl.List)]
    frame = batch.select(columns).to_pandas()
    result = (
        _batch_definition()
        .get_batch(batch_parameters={"dataframe": frame})
        .validate(
            suite,
            expectation_parameters=parameters,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": ["source_row"],
                "return_unexpected_index_query": False,
            },
        )
    )
    failures = []
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        column = config.kwargs.get("column") or config.kwargs.get("column_A")
        rows = [int(entry["source_row"]) for entry in outcome.result.get("unexpected_index_list") or []]
        detail = config.meta.get("note", config.type)
        failures.extend((row, config.meta["rule"], column, detail) for row in rows)
    summary = {
        "suite": suite_name,
        "expectations_evaluated": len(result.results),
        "expectations_failed": sum(not r.success for r in result.results),
    }
    return pl.DataFrame(failures, schema=FAILURE_SCHEMA, orient="row"), summary


def unparseable_failures(batch: pl.DataFrame) -> pl.DataFrame:
    """A value whose text did not parse as its column's type (transforms/datasets.py)."""
    return (
        batch.select("source_row", pl.col("unparseable_columns").alias("column_name"))
        .explode("column_name")
        .drop_nulls("column_name")
        .select(
            "source_row",
            rule=pl.lit("unparseable"),
            column_name="column_name",
            detail=pl.lit("the value does not parse as the column's type"),
        )
        .cast(FAILURE_SCHEMA)
    )


def row_failures(dataset: str, batch: pl.DataFrame, run: RunParameters) -> tuple[pl.DataFrame, dict]:
    """Every single-row rule failure of a typed batch: one row per source_row × rule × column."""
    unparseable = unparseable_failures(batch)
    suite_failures, summary = run_suite(dataset, batch, run.as_dict())
    if dataset == "questionnaires":
        instrument_failures = item_failures(batch, run.instruments)
    elif dataset == "scores":
        instrument_failures = score_failures(batch, run.instruments)
    else:
        instrument_failures = pl.DataFrame(schema=FAILURE_SCHEMA)
    # An unparseable value is null once typed; report it as unparseable, not also as missing.
    suite_failures = suite_failures.join(
        unparseable.select("source_row", "column_name"), on=["source_row", "column_name"], how="anti"
    )
    failures = pl.concat([unparseable, suite_failures, instrument_failures]).unique(maintain_order=True)
    return failures.sort("source_row", maintain_order=True), summary
