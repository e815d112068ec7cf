"""A pre-scored custom instrument end to end on real trial data (Claus, Scherbaum & Bonnet 2020).

The BDI-II totals of ../shared/reference/claus_2020.csv arrive as a `scores` file; the expected outcomes are
computed here straight from the CSV, independently of the transforms, with the Jacobson–Truax formulas.
"""

import math
import os
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from scipy import stats

from dashboard.scope import Warehouse, score_ranges
from pipelines.flows import refresh

# The workspace's reference data, beside the project (not copied into it, so that it cannot drift). A clone on its
# own skips these tests; CI sets SECUREBASE_REQUIRE_REFERENCE so that there they fail instead.
CLAUS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "claus_2020.csv"
ENROLLED = date(2020, 1, 6)
DAY_OF_TIME = {1: 0, 2: 21, 3: 42, 4: 70}  # measurement points placed so that time 4 is the 10-week endpoint
CONFIG = """
[[instruments]]
id = "BDI-II"
kind = "scored"
subscales = ["total"]
min = 0
max = 63
direction = "lower_is_better"

[outcomes."BDI-II".total]
reliability = 0.801
sd = "sample"
reliable_change = "jacobson_truax"
cutoff = "c"
functional_mean = 7.69
functional_sd = 7.52
"""


@pytest.fixture(scope="module")
def claus():
    if not CLAUS.exists() and not os.environ.get("SECUREBASE_REQUIRE_REFERENCE"):
        pytest.skip(f"the reference data {CLAUS} is not beside the project")
    return pl.read_csv(CLAUS, null_values=["NA", ""]).with_columns(pl.col("id", "time").cast(pl.Int64))


@pytest.fixture(scope="module")
def warehouse(prefect_server, claus, tmp_path_factory):
    root = tmp_path_factory.mktemp("claus")
    inbox = root / "inbox"
    inbox.mkdir()
    people = claus.filter(pl.col("time") == 1)
    people.select(
        participant_id=pl.format("C{}", pl.col("id").cast(pl.String).str.zfill(4)),
        site_id=pl.lit("claus-2020"),
        cohort_id=pl.col("treatment"),
        modality=pl.lit("other"),
        enrolled_date=pl.lit(ENROLLED.isoformat()),
        gender=pl.col("sex").replace_strict({"Male": "man", "Female": "woman"}, default="not-stated"),
    ).write_csv(inbox / "participants.csv")
    claus.filter(pl.col("bdi").is_not_null()).select(
        participant_id=pl.format("C{}", pl.col("id").cast(pl.String).str.zfill(4)),
        instrument=pl.lit("BDI-II"),
        completed_at=pl.col("time").replace_strict(
            {t: (ENROLLED + timedelta(days=d)).isoformat() for t, d in DAY_OF_TIME.items()}
        ),
        score=pl.col("bdi"),
    ).write_parquet(inbox / "scores_bdi.parquet")
    config = root / "program.toml"
    config.write_text(CONFIG)
    refresh(inbox=inbox, warehouse=root / "warehouse.duckdb", config=config, as_of=date(2020, 6, 1))
    return root / "warehouse.duckdb"


def query(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def expected(claus: pl.DataFrame) -> dict:
    wide = claus.pivot(on="time", index="id", values="bdi")
    pairs = wide.select(pre=pl.col("1"), post=pl.col("4")).drop_nulls()
    pre, post = pairs["pre"].to_numpy(), pairs["post"].to_numpy()
    n, change = len(pre), post - pre
    sd = pre.std(ddof=1)
    s_diff = sd * math.sqrt(2 * (1 - 0.801))
    cutoff = (sd * 7.69 + 7.52 * pre.mean()) / (sd + 7.52)
    rci = change / s_diff
    improved, deteriorated = rci < -1.96, rci > 1.96
    clinical, functional = pre >= cutoff, post < cutoff
    half = stats.t.ppf(0.975, n - 1) * change.std(ddof=1) / math.sqrt(n)
    return {
        "n_enrolled": wide.height,
        "n_complete": n,
        "sd": sd,
        "cutoff": cutoff,
        "mean_change": change.mean(),
        "ci": (change.mean() - half, change.mean() + half),
        "n_improved": int(improved.sum()),
        "n_deteriorated": int(deteriorated.sum()),
        "n_recovered": int((improved & clinical & functional).sum()),
        "n_harmed": int((deteriorated & ~clinical & ~functional).sum()),
    }


def test_parameters_match_the_trial_data(warehouse, claus):
    want = expected(claus)
    params = query(warehouse, "SELECT * FROM marts.outcome_parameters").row(0, named=True)
    assert (params["instrument"], params["reliability"], params["reliability_source"]) == ("BDI-II", 0.801, "config")
    assert params["n_pairs"] == want["n_complete"]
    assert params["sd_baseline"] == pytest.approx(want["sd"])
    assert params["cutoff"] == pytest.approx(want["cutoff"])
    assert params["min_reliable_change"] == pytest.approx(1.96 * want["sd"] * math.sqrt(2 * (1 - 0.801)))


def test_program_outcomes_match_the_trial_data(warehouse, claus):
    want = expected(claus)
    row = query(warehouse, "SELECT * FROM marts.cohort_outcomes WHERE grouping = 'program'").row(0, named=True)
    assert row["n_enrolled"] == want["n_enrolled"] == 43
    assert row["n_complete"] == want["n_complete"]
    assert row["mean_change"] == pytest.approx(want["mean_change"])
    assert (row["mean_change_ci_low"], row["mean_change_ci_high"]) == pytest.approx(want["ci"])
    for count in ("n_improved", "n_deteriorated", "n_recovered", "n_harmed"):
        assert row[count] == want[count], count


def test_treatment_arms_are_cohorts_and_add_up(warehouse):
    arms = query(warehouse, "SELECT group_id, n_enrolled FROM marts.cohort_outcomes WHERE grouping = 'cohort'")
    assert set(arms["group_id"]) == {"PA", "TAU"} and arms["n_enrolled"].sum() == 43


def test_pre_scored_assessments_carry_no_item_counts(warehouse):
    rows = query(warehouse, "SELECT DISTINCT items_total, is_prorated, week FROM marts.assessments ORDER BY week")
    assert rows["items_total"].to_list() == [None] * 4 and rows["week"].to_list() == [0, 3, 6, 10]


def test_a_config_instruments_score_range_is_its_scores_and_a_built_ins_its_registrys(warehouse, claus):
    ranges = score_ranges(Warehouse.at(warehouse))
    bdi = claus["bdi"].drop_nulls()
    assert ranges[("BDI-II", "total")] == (bdi.min(), bdi.max()) == (2, 53)  # its scores', not the config's 0 to 63
    assert ranges[("ECR-R", "anxiety")] == (1, 7) and ranges[("PHQ-9", "total")] == (0, 27)
