"""Validating a batch of typed rows with the Great Expectations suites of `expectations/`.

Each expectation's `meta.rule` names the quarantine rule its failing rows get. Only rows, rules and columns
leave this module: GX's results also carry the failing values, and those are never stored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import polars as pl

from transforms.instrument_rules import FAILURE_SCHEMA, item_failures, score_failures
from transforms.instruments import Instrument

EXPECTATIONS_DIR = resources.files("expectations")  # package data: wherever securebase is installed


@dataclass(frozen=True)
class RunParameters:
    """Values the suites refer to as `{"$PARAMETER": name}`."""

    as_of: date
    timezone: str
    instruments: dict[str, Instrument]

    def as_dict(self) -> dict:
        """Dates as days and instants as seconds since 1970-01-01, as `_as_numbers` hands them to GX."""
        day_after_next = datetime.combine(self.as_of + timedelta(days=2), time(), ZoneInfo(self.timezone))
        return {
            "as_of_date": (self.as_of - date(1970, 1, 1)).days,
            "latest_allowed_at": int(day_after_next.timestamp()),
            "item_instruments": sorted(i.id for i in self.instruments.values() if i.kind == "items"),
            "scored_instruments": sorted(i.id for i in self.instruments.values() if i.kind == "scored"),
        }


def in_future_limits(run: RunParameters) -> dict[str, tuple[str, str]]:
    """Each dataset's `in_future` rule as its suite states it: the dated column, and the condition (in SQL, on the
    numbers the suite compares, `_as_numbers`: days since 1970 for a date, seconds for a timestamp) that a value
    must meet to be allowed, `<` the limit where the suite's maximum is strict, else `<=`."""
    parameters, limits = run.as_dict(), {}
    for suite in sorted(EXPECTATIONS_DIR.glob("*.json")):
        for expectation in json.loads(suite.read_text(encoding="utf-8"))["expectations"]:
            if expectation["meta"]["rule"] == "in_future":
                arguments = expectation["kwargs"]
                latest = int(parameters[arguments["max_value"]["$PARAMETER"]])
                limits[suite.stem] = (arguments["column"], f"{'<' if arguments.get('strict_max') else '<='} {latest}")
    return limits


def load_suite(name: str):
    import great_expectations as gx

    return gx.ExpectationSuite(**json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8")))


@cache
def batch_definition():
    """One ephemeral GX context per process, with progress bars off and nothing written to disk (about 2 s to
    create, so the command line creates it while Prefect's temporary server boots)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every batch under HASH_THRESHOLD bytes (1 GB) with pandas' hash of every value, as metadata
    # nothing here reads: 0.9 s of the 1.4 s the 100k bench's exercise file takes to validate. Larger batches skip
    # it in GX itself; with the threshold at 0 every batch does.
    pandas_execution_engine.HASH_THRESHOLD = 0

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("securebase").add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole batch")


@dataclass(frozen=True)
class FailedExpectation:
    rule: str
    column: str | None
    note: str
    rows_failed: int


@dataclass(frozen=True)
class SuiteResult:
    """One suite run on one batch (an inbox file or a mart): what was checked and what failed, never a value."""

    suite: str
    batch: str
    expectations_evaluated: int
    failed: tuple[FailedExpectation, ...]
    failing_rows: pl.DataFrame  # source_row, rule, column_name, detail: empty for a mart

    def describe_first_failure(self) -> str:
        first = self.failed[0]
        return f"{self.batch} failed {first.rule} on {first.column}: {first.note} ({first.rows_failed} rows)"


def _columns_read(suite) -> set[str]:
    columns = set()
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        columns |= {kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs}
        columns |= set(kwargs.get("column_list", []))
    return columns


def _as_numbers(batch: pl.DataFrame) -> pl.DataFrame:
    """Dates as days and timestamps as seconds since the epoch, integers as 64-bit: GX compares pandas
    datetimes (and narrower integers) one value at a time, 64-bit numbers all at once."""
    return batch.with_columns(
        *[pl.col(c).cast(pl.Int64) for c, t in batch.schema.items() if t == pl.Date or t.is_integer()],
        *[pl.col(c).dt.epoch("s") for c, t in batch.schema.items() if isinstance(t, pl.Datetime)],
    )


def run_suite(suite_name: str, batch_name: str, batch: pl.DataFrame, parameters: dict | None = None) -> SuiteResult:
    """Validate a batch with a suite of expectations/; with a `source_row` column, failing rows are listed.

    Only the columns the suite reads are converted and handed over."""
    suite = load_suite(suite_name)
    has_rows = "source_row" in batch.columns
    columns = [c for c in batch.columns if c in _columns_read(suite) or (has_rows and c == "source_row")]
    result_format = (
        {
            "result_format": "COMPLETE",
            "unexpected_index_column_names": ["source_row"],
            "return_unexpected_index_query": False,
        }
        if has_rows
        else {"result_format": "SUMMARY", "partial_unexpected_count": 0}
    )
    result = (
        batch_definition()
        .get_batch(batch_parameters={"dataframe": _as_numbers(batch.select(columns)).to_pandas()})
        .validate(suite, expectation_parameters=parameters or {}, result_format=result_format)
    )
    failed, rows = [], []
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        column = (
            config.kwargs.get("column")
            or config.kwargs.get("column_A")
            or ", ".join(config.kwargs.get("column_list", []))
        )
        note = config.meta.get("note", config.type)
        failed.append(FailedExpectation(config.meta["rule"], column, note, outcome.result.get("unexpected_count", 0)))
        if has_rows:
            rows += [
                (int(e["source_row"]), config.meta["rule"], column, note)
                for e in outcome.result.get("unexpected_index_list") or []
            ]
    return SuiteResult(
        suite_name,
        batch_name,
        len(result.results),
        tuple(failed),
        pl.DataFrame(rows, schema=FAILURE_SCHEMA, orient="row"),
    )


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


REGISTRY_RULES = {"questionnaires": 2, "scores": 2}  # range and items-beyond; range and subscale


def registry_result(dataset: str, batch_name: str, failures: pl.DataFrame) -> SuiteResult:
    """The instrument-registry rules of a batch, reported beside the suites."""
    grouped = failures.group_by("rule", "column_name", "detail", maintain_order=True).agg(rows=pl.len())
    failed = tuple(FailedExpectation(r["rule"], r["column_name"], r["detail"], r["rows"]) for r in grouped.to_dicts())
    return SuiteResult(f"registry/{dataset}", batch_name, REGISTRY_RULES[dataset], failed, failures.clear())


def row_failures(
    dataset: str, batch_name: str, batch: pl.DataFrame, run: RunParameters
) -> tuple[pl.DataFrame, list[SuiteResult]]:
    """Every single-row rule failure of a typed batch (one row per source_row × rule × column), and the
    results of the suite and of the instrument-registry rules that produced them."""
    unparseable = unparseable_failures(batch)
    result = run_suite(dataset, batch_name, batch, run.as_dict())
    suite_failures = result.failing_rows
    results = [result]
    if dataset == "questionnaires":
        instrument_failures = item_failures(batch, run.instruments)
    elif dataset == "scores":
        instrument_failures = score_failures(batch, run.instruments)
    else:
        instrument_failures = pl.DataFrame(schema=FAILURE_SCHEMA)
    if dataset in REGISTRY_RULES:
        results.append(registry_result(dataset, batch_name, instrument_failures))
    # An unparseable value is null once typed; report it as unparseable, not also as missing.
    suite_failures = suite_failures.join(
        unparseable.select("source_row", "column_name"), on=["source_row", "column_name"], how="anti"
    )
    failures = pl.concat([unparseable, suite_failures, instrument_failures]).unique(maintain_order=True)
    return failures.sort("source_row", maintain_order=True), results


def without_rejected_values(rows: pl.DataFrame, failures: pl.DataFrame) -> pl.DataFrame:
    """`rows` (with `source_row`) with every value a rule rejected made null, so that a value that is not what its
    column holds (free text in an item, a note in a date, a name in a set's column) is never stored; the quarantine
    keeps its rule, column and row. Rows held `in_future` keep their values: they load once their day comes."""
    rejected = failures.filter(pl.col("rule") != "in_future")
    for (column,), where in rejected.group_by("column_name"):
        if column in rows.columns:
            rows = rows.with_columns(
                pl.when(pl.col("source_row").is_in(where["source_row"].implode()))
                .then(None)
                .otherwise(pl.col(column))
                .alias(column)
            )
    return rows


MART_SUITES = ("participant_outcomes", "cohort_outcomes", "outcome_parameters", "assessments", "exercise_engagement")


def validate_mart(table: str, frame: pl.DataFrame) -> SuiteResult:
    """A published mart (or a batch of its participants' rows) against its suite in expectations/marts/."""
    return run_suite(f"marts/{table}", f"marts.{table}", frame)


def merged_result(results: list[SuiteResult]) -> SuiteResult:
    """The results of one suite on the batches of one table as one result, as if the table had been checked whole:
    an expectation fails if it fails in any batch, on the sum of its batches' failing rows. Right only for rules
    that relate a row to no row outside its batch (a mart's suite relates rows of one participant at most)."""
    failed: dict[tuple[str, str | None, str], int] = {}
    for result in results:
        for failure in result.failed:
            key = (failure.rule, failure.column, failure.note)
            failed[key] = failed.get(key, 0) + failure.rows_failed
    first = results[0]
    return replace(first, failed=tuple(FailedExpectation(*key, rows) for key, rows in failed.items()))
