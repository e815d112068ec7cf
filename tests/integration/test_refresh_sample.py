"""One real refresh of sample_data/ (Prefect flow, DuckDB file, GX suites) fills every contract table."""

import csv
import gzip
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.generate import SAMPLE_AS_OF
from transforms.instruments import ECR_R

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"

CONTRACT_COLUMNS = {
    "marts.participant_outcomes": "participant_id, site_id, cohort_id, modality, instrument, subscale, baseline_date, "
    "baseline_score, endpoint_date, endpoint_score, change_score, rci, reliable_change, is_clinical_at_baseline, "
    "is_functional_at_endpoint, jt_category, outcome_status",
    "marts.assessments": "participant_id, instrument, subscale, completed_date, days_since_enrolment, week, score, "
    "items_answered, items_total, is_prorated",
    "marts.cohort_outcomes": "grouping, group_id, instrument, subscale, n_enrolled, n_complete, n_no_baseline, "
    "n_no_endpoint, n_not_yet_due, mean_baseline, mean_endpoint, mean_change, mean_change_ci_low, "
    "mean_change_ci_high, hedges_g, hedges_g_ci_low, hedges_g_ci_high, n_improved, n_unchanged, n_deteriorated, "
    "n_recovered, n_harmed",
    "marts.outcome_parameters": "instrument, subscale, reliability, reliability_source, sd_baseline, sd_source, "
    "n_pairs, min_reliable_change, cutoff, cutoff_source",
    "marts.exercise_engagement": "participant_id, week, practices, minutes",
    "quality.quarantine": "source_file, source_row, dataset, rule, column_name, detail, first_seen_at, is_resolved",
    "ops.files": "file_name, sha256, dataset, status, reason, rows_read, rows_loaded, rows_quarantined, received_at",
    "ops.refreshes": "refresh_id, started_at, finished_at, as_of_date, status",
    "marts.itt_outcomes": "grouping, group_id, instrument, subscale, change_10_weeks, change_ci_low, change_ci_high, "
    "model, n_participants, n_scores, first_day, last_day",
    "marts.talking_therapies": "grouping, group_id, n_with_both, n_cases, n_recovered, n_reliably_improved, "
    "n_reliably_recovered, recovery_rate, reliable_improvement_rate, reliable_recovery_rate",
    "marts.exercise_effects": "exercise, practices, participants, mean_distress_drop, mean_distress_drop_ci_low, "
    "mean_distress_drop_ci_high",
    "marts.dose_response": "practice_group, n, minutes_min, minutes_max, mean_change, spearman_rho",
    "marts.practice_weeks": "week, exercise, site_id, modality, practices, people",
    "marts.score_weeks": "instrument, subscale, week, cohort_id, site_id, modality, people, scores, score_total",
    "marts.alerts": "participant_id, site_id, cohort_id, week, completed_date, rule, observed_score, expected_score, "
    "is_latest",
}


def query(warehouse, sql, parameters=None):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, parameters or []).fetchall()


@pytest.mark.parametrize("table", CONTRACT_COLUMNS)
def test_every_contract_table_has_its_columns(sample_warehouse, table):
    schema, name = table.split(".")
    columns = {
        row[0]
        for row in query(
            sample_warehouse,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        )
    }
    assert set(CONTRACT_COLUMNS[table].split(", ")) <= columns


def test_files_rows_and_the_refresh_are_recorded(sample_warehouse):
    files = dict(
        (name, (status, read, loaded))
        for name, status, read, loaded in query(
            sample_warehouse, "SELECT file_name, status, rows_read, rows_loaded FROM ops.files"
        )
    )
    with (SAMPLE / "participants.csv").open() as handle:
        participants = sum(1 for _ in handle) - 1
    with gzip.open(SAMPLE / "questionnaires_ecr-r.csv.gz", "rt") as handle:
        ecr_forms = sum(1 for _ in handle) - 1
    assert files["participants.csv"] == ("loaded", participants, participants)
    assert files["questionnaires_ecr-r.csv.gz"] == ("loaded", ecr_forms, ecr_forms)
    assert len(files) == 5
    assert query(sample_warehouse, "SELECT count(*) FROM quality.quarantine") == [(0,)]
    assert query(sample_warehouse, "SELECT as_of_date, status FROM ops.refreshes") == [(SAMPLE_AS_OF, "published")]


def test_one_outcome_row_per_participant_instrument_and_subscale(sample_warehouse):
    # ECR-R anxiety and avoidance, GAD-7, PHQ-9 and RSES totals are in use in the sample
    [(participants,)] = query(sample_warehouse, "SELECT count(*) FROM marts.participants")
    [(outcomes,)] = query(sample_warehouse, "SELECT count(*) FROM marts.participant_outcomes")
    assert participants == 300 and outcomes == 300 * 5


def test_headline_baseline_is_scored_from_the_raw_file(sample_warehouse):
    """Score one participant's baseline ECR-R by hand from the CSV and find it in the mart."""
    with gzip.open(SAMPLE / "questionnaires_ecr-r.csv.gz", "rt") as handle:
        forms = [row for row in csv.DictReader(handle) if row["participant_id"] == "P00002"]
    [(enrolled,)] = query(
        sample_warehouse, "SELECT enrolled_date FROM marts.participants WHERE participant_id = 'P00002'"
    )
    in_window = [f for f in forms if -14 <= (date.fromisoformat(f["completed_at"][:10]) - enrolled).days <= 7]
    baseline = min(
        in_window, key=lambda f: (abs((date.fromisoformat(f["completed_at"][:10]) - enrolled).days), f["completed_at"])
    )
    answers = {i: int(baseline[f"item_{i}"]) for i in range(1, 19) if baseline[f"item_{i}"]}
    keyed = [8 - v if i in (9, 11) else v for i, v in answers.items()]
    [(score,)] = query(
        sample_warehouse,
        "SELECT baseline_score FROM marts.participant_outcomes WHERE participant_id = "
        "'P00002' AND instrument = 'ECR-R' AND subscale = 'anxiety'",
    )
    assert ECR_R.subscale("anxiety").reverse_items == (9, 11)
    assert score == pytest.approx(sum(keyed) / len(keyed))


def test_cohort_outcomes_account_for_every_participant(sample_warehouse):
    rows = query(
        sample_warehouse,
        """
        SELECT n_enrolled, n_complete + n_no_baseline + n_no_endpoint + n_not_yet_due,
               n_improved + n_unchanged + n_deteriorated, n_complete, mean_change, mean_change_ci_low,
               mean_change_ci_high
        FROM marts.cohort_outcomes WHERE grouping = 'program' AND instrument = 'ECR-R' AND subscale = 'anxiety'""",
    )
    enrolled, accounted, categorised, complete, change, low, high = rows[0]
    assert enrolled == accounted == 300 and categorised == complete
    [(mean_from_participants,)] = query(
        sample_warehouse,
        """
        SELECT avg(change_score) FROM marts.participant_outcomes
        WHERE instrument = 'ECR-R' AND subscale = 'anxiety' AND outcome_status = 'complete'""",
    )
    assert change == pytest.approx(mean_from_participants)
    assert low < change < high < 0  # the sample's anxiety falls


def test_sites_add_up_to_the_program(sample_warehouse):
    [(sites, program)] = query(
        sample_warehouse,
        """
        SELECT sum(n_enrolled) FILTER (WHERE grouping = 'site'), sum(n_enrolled) FILTER (WHERE grouping = 'program')
        FROM marts.cohort_outcomes WHERE instrument = 'GAD-7'""",
    )
    assert sites == program == 300


def test_exercise_engagement_counts_every_logged_practice(sample_warehouse):
    with gzip.open(SAMPLE / "exercises.csv.gz", "rt") as handle:
        logged = sum(1 for _ in handle) - 1
    assert query(sample_warehouse, "SELECT sum(practices) FROM marts.exercise_engagement") == [(logged,)]


def test_intent_to_treat_agrees_with_the_completers_in_the_sample(sample_warehouse):
    [(itt, low, high, model)] = query(
        sample_warehouse,
        """
        SELECT change_10_weeks, change_ci_low, change_ci_high, model FROM marts.itt_outcomes
        WHERE grouping = 'program'""",
    )
    [(completers,)] = query(
        sample_warehouse,
        """
        SELECT mean_change FROM marts.cohort_outcomes
        WHERE grouping = 'program' AND instrument = 'ECR-R' AND subscale = 'anxiety'""",
    )
    assert model == "random intercept and slope" and low < itt < high < 0
    assert abs(itt - completers) < 0.1  # the sample's dropout is at random, so both estimate the same change


def test_intent_to_treat_accounts_for_everyone_in_every_grouping(sample_warehouse):
    counts = query(
        sample_warehouse,
        """
        SELECT grouping, count(*), sum(n_participants), count(change_10_weeks) FILTER (n_participants >= 3)
        FROM marts.itt_outcomes GROUP BY grouping ORDER BY grouping""",
    )
    groups = query(
        sample_warehouse,
        "SELECT count(DISTINCT cohort_id), count(DISTINCT modality), count(DISTINCT site_id) FROM marts.participants",
    )[0]
    # every participant has a baseline score in the sample, so each grouping partitions all 300
    assert counts == [
        ("cohort", groups[0], 300, groups[0] - 2),  # two cohorts enrolled one person each: too few to estimate
        ("modality", groups[1], 300, groups[1]),
        ("program", 1, 300, 1),
        ("site", groups[2], 300, groups[2]),
    ]


def test_the_exercise_drops_of_the_warehouse_and_of_practices_in_memory_agree(sample_warehouse):
    """marts.exercise_effects groups every practice in SQL; the dashboard groups a viewer's own practices in polars
    (transforms/engagement.py `exercise_drops`): both give the same sums."""
    from pipelines.warehouse import sql_model
    from transforms.engagement import exercise_drops

    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        in_sql = con.sql(sql_model("marts/exercise_drops")).pl().sort("exercise")
        in_memory = exercise_drops(con.sql("SELECT * FROM marts.practices").pl()).sort("exercise")
    assert in_sql.height > 0 and in_sql.equals(in_memory)


def test_practice_weeks_add_up_over_sites_and_modalities_to_each_weeks_people(sample_warehouse):
    """marts.practice_weeks holds the Exercises page's cells: added over every site and modality, each week's and
    exercise's practices and people are those counted directly from marts.practices (a person in one site and one
    modality is counted in one cell), in weeks 0–10 only."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        cells = con.sql(
            "SELECT week, exercise, sum(practices) AS practices, sum(people) AS people FROM marts.practice_weeks "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        direct = con.sql(
            """
            SELECT floor((x.started_date - p.enrolled_date) / 7) AS week, x.exercise, count(*) AS practices,
                count(DISTINCT x.participant_id) AS people
            FROM marts.practices AS x JOIN marts.participants AS p USING (participant_id)
            GROUP BY ALL HAVING week BETWEEN 0 AND 10 ORDER BY ALL
            """
        ).fetchall()
        weeks = con.execute("SELECT min(week), max(week), count(DISTINCT site_id) FROM marts.practice_weeks").fetchone()
    assert len(cells) == len(direct) > 20 and cells == direct
    assert weeks == (0, 10, 4)  # north, south, east and west


def test_score_weeks_add_up_over_cohorts_sites_and_modalities_to_each_weeks_mean(sample_warehouse):
    """marts.score_weeks holds the Trends page's cells: added over every cohort, site and modality, each measure's
    and week's people scored and mean score are those of marts.assessments directly, in weeks 0–10 only."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        cells = con.sql(
            "SELECT instrument, subscale, week, sum(people) AS people, sum(score_total) / sum(scores) AS mean_score "
            "FROM marts.score_weeks GROUP BY ALL ORDER BY ALL"
        ).pl()
        direct = con.sql(
            """
            SELECT instrument, subscale, week, count(DISTINCT participant_id) AS people, avg(score) AS mean_score
            FROM marts.assessments WHERE score IS NOT NULL AND week BETWEEN 0 AND 10 GROUP BY ALL ORDER BY ALL
            """
        ).pl()
        unscored = con.execute(
            "SELECT count(*) FROM marts.assessments WHERE score IS NULL AND week BETWEEN 0 AND 10"
        ).fetchone()[0]
        cohorts = con.execute(
            "SELECT count(DISTINCT cohort_id), count(DISTINCT site_id) FROM marts.score_weeks"
        ).fetchone()
    assert direct.height > 40 and cells.drop("mean_score").equals(direct.drop("mean_score"))
    assert (cells["mean_score"] - direct["mean_score"]).abs().max() < 1e-12  # added in another order
    assert unscored > 0  # unscored rows exist, and count in no cell
    assert cohorts[1] == 4 and cohorts[0] > 1
