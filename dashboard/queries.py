"""The SQL of the dashboard's pages: read-only, parameterised, and scoped to the viewer by dashboard/scope.py.

Group figures come from the viewer's release (`scope.release`); the figures here that it has no row for are
scoped and suppressed with scope's rules. Reads are short-lived and read-only, and cached functions take the viewer
and the warehouse's version, so a cache entry never crosses viewers and a new publish is read at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import streamlit as st

from dashboard.scope import (
    Filters,
    Viewer,
    Warehouse,
    beyond_own,
    cells_outside,
    own_rows,
    read,
    score_ranges,
    shown_cohorts,
    site_scope,
    without_small_cells,
)
from securebase.attempts import FailedAttempt, attempts_file, failed_attempts
from transforms.effect_sizes import pooled_mean_change
from transforms.engagement import dose_response as dose_response_of
from transforms.engagement import exercise_drops, practice_and_change
from transforms.engagement import exercise_effects as exercise_effects_of
from transforms.outcomes import HEADLINE

# -- freshness and quality (no personal data) ----------------------------------------------------------------


@st.cache_data(ttl=300, show_spinner=False)
def schema_version(warehouse: Warehouse) -> int:
    """The schema version of the code that published the warehouse (pipelines/warehouse.py); 1 for a warehouse
    published before versions were recorded, 0 for a file that is not a securebase warehouse."""
    try:
        frame = read(warehouse, "SELECT schema_version FROM ops.refreshes ORDER BY refresh_id DESC LIMIT 1")
    except duckdb.BinderException:  # no schema_version column yet
        return 1
    except duckdb.CatalogException:  # no ops.refreshes table
        return 0
    return frame.item() if frame.height and frame.item() is not None else 1


@dataclass(frozen=True)
class Operations:
    """How the refreshes are going: the as-of day of the data shown, and the latest refresh attempt that published
    nothing since they were published (securebase/attempts.py), if any."""

    as_of_date: date | None  # of the last published refresh; None before the first
    timezone: str  # the program's, as the last refresh recorded it
    failure: FailedAttempt | None

    def age(self, now: datetime) -> timedelta:
        """How long ago the as-of day began, in the program's time zone."""
        return now - datetime.combine(self.as_of_date, time(), ZoneInfo(self.timezone))

    def is_stale(self, now: datetime, stale_after_hours: float) -> bool:
        return self.as_of_date is not None and self.age(now) > timedelta(hours=stale_after_hours)

    def days_old(self, now: datetime) -> int:
        """Days from the as-of day to `now`'s day, in the program's time zone."""
        return (now.astimezone(ZoneInfo(self.timezone)).date() - self.as_of_date).days

    def failed_at(self) -> datetime:
        """When the failure happened, in the program's time zone."""
        return self.failure.failed_at.astimezone(ZoneInfo(self.timezone))


def operations(warehouse: Warehouse) -> Operations:
    """The warehouse's as-of day, and the latest failed refresh if it came after the last publish. Cached on the
    versions of the warehouse and of the attempts file beside it: a new failure is read at once, as a publish is."""
    try:
        attempts_version = attempts_file(warehouse.path).stat().st_mtime_ns
    except FileNotFoundError:
        attempts_version = 0
    return _operations(warehouse, attempts_version)


@st.cache_data(ttl=60, show_spinner=False)
def _operations(warehouse: Warehouse, attempts_version: int) -> Operations:
    last = read(
        warehouse,
        "SELECT (SELECT as_of_date FROM ops.refreshes ORDER BY refresh_id DESC LIMIT 1) AS as_of_date, "
        "(SELECT timezone FROM ops.refreshes ORDER BY refresh_id DESC LIMIT 1) AS timezone, "
        "max(finished_at) AS published_at FROM ops.refreshes",
    ).row(0, named=True)
    failures = failed_attempts(warehouse.path)
    latest = failures[-1] if failures else None
    if latest is not None and last["published_at"] is not None and latest.failed_at <= last["published_at"]:
        latest = None  # a later refresh published
    return Operations(last["as_of_date"], last["timezone"] or "UTC", latest)


@st.cache_data(ttl=300, show_spinner=False)
def freshness(warehouse: Warehouse) -> dict:
    """The last refresh: its as-of day, status, when it finished, and its counts."""
    frame = read(warehouse, "SELECT * FROM ops.refreshes ORDER BY refresh_id DESC LIMIT 1")
    return frame.row(0, named=True) if frame.height else {}


# The Data quality page lists the files of the refreshes that finished within this many days of the last one (of the
# warehouse, not of today: a warehouse whose refreshes stopped still shows what its last ones read).
FILES_DAYS = 30


@st.cache_data(ttl=300, show_spinner=False)
def quality(warehouse: Warehouse) -> dict[str, pl.DataFrame]:
    """Files of the refreshes of the last FILES_DAYS days, each with its refresh, open quarantine by rule and column,
    and the last refresh's validations. A file's reason names a rule or a column by position, never a value."""
    last = "(SELECT max(refresh_id) FROM ops.refreshes)"
    return {
        "refreshes": read(
            warehouse,
            "SELECT refresh_id, as_of_date, status, started_at, finished_at, files_loaded, "
            "files_rejected, rows_loaded, rows_quarantined FROM ops.refreshes "
            "ORDER BY refresh_id DESC LIMIT 10",
        ),
        "files": read(
            warehouse,
            "SELECT f.refresh_id, r.finished_at AS refreshed_at, f.file_name, f.dataset, f.status, f.reason, "
            "f.rows_read, f.rows_loaded, f.rows_quarantined "
            "FROM ops.files AS f JOIN ops.refreshes AS r USING (refresh_id) "
            "WHERE r.finished_at >= (SELECT max(finished_at) FROM ops.refreshes) - to_days(?) "
            "ORDER BY f.refresh_id DESC, f.file_name",
            [FILES_DAYS],
        ),
        "quarantine": read(
            warehouse,
            "SELECT rule, dataset, column_name, count(*) AS rows, "
            "count(DISTINCT source_file) AS files FROM quality.quarantine "
            "WHERE NOT is_resolved GROUP BY ALL ORDER BY rows DESC, rule",
        ),
        "validations": read(
            warehouse,
            f"SELECT suite, batch, expectations_evaluated, expectations_failed, "
            f"rows_failed, failed_rules FROM quality.validation_runs "
            f"WHERE refresh_id = {last} ORDER BY validated_at",
        ),
    }


@st.cache_data(ttl=300, show_spinner=False)
def cohort_trajectories(warehouse: Warehouse, viewer: Viewer, filters: Filters = Filters()) -> pl.DataFrame:
    """Mean score of the chosen measure per cohort and week (0–10), with how many people were scored: the cells of
    marts.score_weeks, added up.

    A clinician's own participants are shown by cohort and site, in full. Beyond them a cohort is shown whole
    (its sites listed in `site_id`), and only when it has no one in the viewer's sites and its release shows
    its people, completers and both means: a part of a cohort, or a cohort with a figure withheld, would give away
    by subtraction what the release withholds. A week of fewer than min_cell people is withheld. A row is shown
    only when all of its people are within the chosen sites and modalities, so that no choice of filters gives
    away a few of them by subtraction. An admin sees every cohort by site."""
    chosen, parameters = filters.where()
    own, own_parameters = {
        "admin": ("TRUE", []),
        "clinician": ("list_contains(?, p.site_id)", [list(viewer.sites)]),
    }.get(viewer.role, ("FALSE", []))
    frame = read(
        warehouse,
        f"""
        WITH cells AS (  -- every cohort × site × modality that has people, scored or not
            SELECT DISTINCT p.cohort_id, p.site_id, p.modality, {own} AS is_own, {chosen} AS is_chosen
            FROM marts.participants AS p
        ), cohorts AS (
            SELECT cohort_id, bool_or(is_own) AS has_own,
                string_agg(DISTINCT site_id, ', ' ORDER BY site_id) AS sites
            FROM cells GROUP BY cohort_id
        ), rows AS (  -- own cells by site, the others by whole cohort
            SELECT c.cohort_id, c.site_id AS cell_site, c.modality, c.is_own, o.has_own, c.is_chosen,
                CASE WHEN c.is_own THEN c.site_id ELSE o.sites END AS row_site
            FROM cells AS c JOIN cohorts AS o USING (cohort_id)
        ), chosen AS (
            SELECT cohort_id, row_site FROM rows GROUP BY ALL HAVING bool_and(is_chosen)
        )
        SELECT r.cohort_id, r.row_site AS site_id, w.week, bool_and(r.is_own) AS is_own,
            bool_and(r.has_own) AS has_own, sum(w.people)::BIGINT AS n, sum(w.score_total) / sum(w.scores) AS mean_score
        FROM marts.score_weeks AS w
        JOIN rows AS r ON r.cohort_id = w.cohort_id AND r.cell_site = w.site_id AND r.modality = w.modality
        JOIN chosen AS k ON k.cohort_id = r.cohort_id AND k.row_site = r.row_site
        WHERE w.instrument = ? AND w.subscale = ?
        GROUP BY r.cohort_id, r.row_site, w.week ORDER BY r.cohort_id, r.row_site, w.week
        """,
        [*own_parameters, *parameters, filters.instrument, filters.subscale],
    )
    if viewer.role != "admin":
        whole = shown_cohorts(warehouse, viewer, filters, "n_enrolled", "n_complete", "mean_baseline", "mean_change")
        released = ~pl.col("has_own") & pl.col("cohort_id").is_in(whole) & (pl.col("n") >= viewer.min_cell)
        frame = frame.filter(pl.col("is_own") | released)
    return frame.drop("is_own", "has_own")


@st.cache_data(ttl=300, show_spinner=False)
def exercise_effects(warehouse: Warehouse, viewer: Viewer) -> pl.DataFrame:
    """The distress drop per exercise type, of the exercises whose people `beyond_own` lets the viewer see."""
    frame = read(warehouse, "SELECT * FROM marts.exercise_effects ORDER BY mean_distress_drop DESC")
    own = exercise_effects_of(exercise_drops(own_rows(warehouse, viewer, "marts.practices")))
    own = own.select("exercise", own="participants")
    frame = frame.join(own, on="exercise", how="left").with_columns(pl.col("own").fill_null(0))
    return beyond_own(frame, viewer, "participants")


@st.cache_data(ttl=300, show_spinner=False)
def practice_by_week(warehouse: Warehouse, viewer: Viewer, filters: Filters = Filters()) -> pl.DataFrame:
    """Practices per week since enrolment, by exercise type, with how many people practised (the cells of
    marts.practice_weeks of the chosen sites and modalities, added up)."""
    chosen, parameters = filters.where("site_id", "modality")
    outside, own = cells_outside(viewer)
    frame = read(
        warehouse,
        f"""
        SELECT week, exercise, sum(practices)::BIGINT AS practices, sum(people)::BIGINT AS participants,
            min({outside}) AS smallest_cell
        FROM marts.practice_weeks WHERE {chosen} GROUP BY ALL ORDER BY week, exercise
        """,
        [*own, *parameters],
    )
    return without_small_cells(frame, viewer, "participants")


@st.cache_data(ttl=300, show_spinner=False)
def dose_response(warehouse: Warehouse, viewer: Viewer, measure: tuple[str, str] = HEADLINE) -> pl.DataFrame:
    """The dose–response rows of `measure` (tertiles and `all`) whose people `beyond_own` lets the viewer see.
    Outside an admin's view the tertiles go together: withheld one alone, it would be `all` less the other two. A
    tertile's range of minutes is left out: its ends are one person's minutes each."""
    frame = (
        read(warehouse, "SELECT * FROM marts.dose_response")
        if measure == HEADLINE  # the mart holds the headline measure's
        else dose_response_of(
            read(warehouse, "SELECT participant_id, week, minutes FROM marts.exercise_engagement"),
            read(
                warehouse,
                "SELECT participant_id, instrument, subscale, outcome_status, change_score "
                "FROM marts.participant_outcomes WHERE instrument = ? AND subscale = ?",
                list(measure),
            ),
            measure=measure,
        )
    ).sort("practice_group")
    own = practice_and_change(
        own_rows(warehouse, viewer, "marts.exercise_engagement"),
        own_rows(warehouse, viewer, "marts.participant_outcomes"),
        measure=measure,
    )["practice_minutes"]
    within = [int(own.is_between(low, high).sum()) for low, high in frame.select("minutes_min", "minutes_max").rows()]
    shown = beyond_own(frame.with_columns(own=pl.Series(within, dtype=pl.Int64)), viewer, "n")
    if viewer.role != "admin" and shown.height < frame.height:
        shown = shown.filter(pl.col("practice_group") == "all")
    return shown.drop("minutes_min", "minutes_max")


@st.cache_data(ttl=300, show_spinner=False)
def intake_trend(warehouse: Warehouse, viewer: Viewer, filters: Filters = Filters()) -> pl.DataFrame:
    """Mean change of the chosen measure among completers by intake month, with a t-based 95% CI.

    A month is made of whole cohorts, each counted in the month its first participant enrolled: the cohorts wholly
    within the chosen sites and modalities whose mean and completers this viewer is shown (`shown_cohorts`; a
    month's interval tells how many people it has). A month then adds nothing to the cohorts' own rows (their
    counts, means and intervals) that could be subtracted from a site's or another month's to give away a withheld
    cohort, whatever the filters."""
    chosen, parameters = filters.where()
    cohorts = read(
        warehouse,
        f"""
        WITH cohorts AS (
            SELECT cohort_id, strftime(date_trunc('month', min(p.enrolled_date)), '%Y-%m') AS intake_month,
                bool_and({chosen}) AS is_chosen
            FROM marts.participants AS p GROUP BY cohort_id
        )
        SELECT c.intake_month, c.cohort_id, count(*) AS people, sum(o.change_score) AS total,
            sum(o.change_score ^ 2) AS squares
        FROM cohorts AS c JOIN marts.participant_outcomes AS o USING (cohort_id)
        WHERE c.is_chosen AND o.instrument = ? AND o.subscale = ? AND o.outcome_status = 'complete'
        GROUP BY ALL
        """,
        [*parameters, filters.instrument, filters.subscale],
    )
    if viewer.role != "admin":
        shown = shown_cohorts(warehouse, viewer, filters, "mean_change", "n_complete")
        cohorts = cohorts.filter(pl.col("cohort_id").is_in(shown))
    return pooled_mean_change(cohorts, "intake_month")


@st.cache_data(ttl=300, show_spinner=False)
def cohorts_matching(warehouse: Warehouse, filters: Filters) -> list[str]:
    """Cohorts of the chosen sites and modalities (cohort names carry no personal data)."""
    chosen, parameters = filters.where()
    return read(
        warehouse, f"SELECT DISTINCT cohort_id FROM marts.participants AS p WHERE {chosen} ORDER BY 1", parameters
    )["cohort_id"].to_list()


@st.cache_data(ttl=300, show_spinner=False)
def filter_choices(warehouse: Warehouse) -> dict[str, list]:
    """Measures in use, sites and modalities, for the sidebar filters."""
    return {
        "measures": read(warehouse, "SELECT instrument, subscale FROM marts.outcome_parameters ORDER BY 1, 2").rows(),
        "sites": read(warehouse, "SELECT DISTINCT site_id FROM marts.participants ORDER BY 1")["site_id"].to_list(),
        "modalities": read(warehouse, "SELECT DISTINCT modality FROM marts.participants ORDER BY 1")[
            "modality"
        ].to_list(),
    }


# -- participants (clinicians of their own sites, and admins) ------------------------------------------------


def _in_scope(warehouse: Warehouse, viewer: Viewer, column: str, condition: str = "TRUE", parameters=()) -> list:
    """The values of a column of `marts.participants` over the participants of the viewer's sites (an admin's are
    everyone) that meet `condition`, each once, in order."""
    scope, scope_parameters = site_scope(viewer)
    return read(
        warehouse,
        f"SELECT DISTINCT {column} FROM marts.participants WHERE {scope} AND {condition} ORDER BY 1",
        [*scope_parameters, *parameters],
    )[column].to_list()


@st.cache_data(ttl=300, show_spinner=False)
def cohorts_in_scope(warehouse: Warehouse, viewer: Viewer) -> list[str]:
    """The cohorts with participants in the viewer's sites."""
    return _in_scope(warehouse, viewer, "cohort_id")


@st.cache_data(ttl=300, show_spinner=False)
def participants_in_scope(warehouse: Warehouse, viewer: Viewer, cohort_id: str) -> list[str]:
    """The participants of one cohort in the viewer's sites: a picker of one cohort's people stays short, however
    large the sites."""
    return _in_scope(warehouse, viewer, "participant_id", "cohort_id = ?", [cohort_id])


def cohort_of(warehouse: Warehouse, viewer: Viewer, participant_id: str) -> str | None:
    """The cohort of a participant of the viewer's sites; None for anyone else."""
    return next(iter(_in_scope(warehouse, viewer, "cohort_id", "participant_id = ?", [participant_id])), None)


@st.cache_data(ttl=300, show_spinner=False)
def participant_outcomes(
    warehouse: Warehouse, viewer: Viewer, cohort_id: str, measure: tuple[str, str] = HEADLINE
) -> pl.DataFrame:
    """Each participant of a cohort in the viewer's sites: their outcome status and category on `measure`."""
    scope, parameters = site_scope(viewer)
    return read(
        warehouse,
        f"""
        SELECT participant_id, site_id, baseline_date, baseline_score, endpoint_date, endpoint_score, change_score,
               rci, reliable_change, jt_category, outcome_status
        FROM marts.participant_outcomes
        WHERE cohort_id = ? AND instrument = ? AND subscale = ? AND {scope}
        ORDER BY participant_id
        """,
        [cohort_id, *measure, *parameters],
    )


@st.cache_data(ttl=300, show_spinner=False)
def participant_scores(
    warehouse: Warehouse, viewer: Viewer, cohort_id: str, measure: tuple[str, str] = HEADLINE
) -> pl.DataFrame:
    """Each participant's scores of `measure` by week, for a cohort in the viewer's sites."""
    scope, parameters = site_scope(viewer, "p.site_id")
    return read(
        warehouse,
        f"""
        SELECT a.participant_id, a.days_since_enrolment / 7 AS week, a.score
        FROM marts.assessments AS a JOIN marts.participants AS p USING (participant_id)
        WHERE p.cohort_id = ? AND a.instrument = ? AND a.subscale = ? AND a.score IS NOT NULL
          AND a.days_since_enrolment BETWEEN -14 AND 84 AND {scope}
        ORDER BY a.participant_id, week
        """,
        [cohort_id, *measure, *parameters],
    )


@st.cache_data(ttl=300, show_spinner=False)
def cohort_completers(
    warehouse: Warehouse, viewer: Viewer, cohort_id: str, instrument: str, subscale: str
) -> pl.DataFrame:
    """The completers of a cohort in the viewer's sites on one measure: both scores and the Jacobson–Truax
    category (null where the measure has none)."""
    scope, parameters = site_scope(viewer)
    return read(
        warehouse,
        f"""
        SELECT participant_id, baseline_score, endpoint_score, jt_category
        FROM marts.participant_outcomes
        WHERE cohort_id = ? AND instrument = ? AND subscale = ? AND outcome_status = 'complete' AND {scope}
        ORDER BY participant_id
        """,
        [cohort_id, instrument, subscale, *parameters],
    )


@st.cache_data(ttl=300, show_spinner=False)
def measure_parameters(warehouse: Warehouse, instrument: str, subscale: str) -> dict:
    """A measure's min_reliable_change, cutoff and direction (None when it has none), and its score_range."""
    frame = read(
        warehouse,
        "SELECT min_reliable_change, cutoff, direction FROM marts.outcome_parameters "
        "WHERE instrument = ? AND subscale = ?",
        [instrument, subscale],
    )
    found = frame.row(0, named=True) if frame.height else dict.fromkeys(frame.columns)
    return found | {"score_range": score_ranges(warehouse).get((instrument, subscale))}


@st.cache_data(ttl=300, show_spinner=False)
def alerts(warehouse: Warehouse, viewer: Viewer, cohort_id: str) -> pl.DataFrame:
    scope, parameters = site_scope(viewer)
    return read(
        warehouse,
        f"""
        SELECT participant_id, week, completed_date, rule, observed_score, expected_score, threshold
        FROM marts.alerts WHERE cohort_id = ? AND {scope} ORDER BY completed_date DESC, participant_id
        """,
        [cohort_id, *parameters],
    )


# -- alerts and one participant's picture --------------------------------------------------------------------


@st.cache_data(ttl=300, show_spinner=False)
def alert_worklist(warehouse: Warehouse, viewer: Viewer) -> pl.DataFrame:
    """The participants of the viewer's sites whose latest score of the headline measure trips a not-on-track rule,
    newest first: one row each, with its rules and whether the alert first appeared in the latest refresh."""
    scope, parameters = site_scope(viewer, "a.site_id")
    return read(
        warehouse,
        f"""
        SELECT bool_or(s.first_refresh_id = (SELECT max(refresh_id) FROM ops.refreshes)) AS is_new,
            a.participant_id, a.site_id, a.cohort_id, a.completed_date, a.week,
            list(a.rule ORDER BY a.rule) AS rules, max(a.observed_score) AS observed_score
        FROM marts.alerts AS a LEFT JOIN ops.alerts_seen AS s USING (participant_id, completed_date, rule)
        WHERE a.is_latest AND {scope}
        GROUP BY a.participant_id, a.site_id, a.cohort_id, a.completed_date, a.week
        ORDER BY a.completed_date DESC, a.participant_id
        """,
        parameters,
    )


@st.cache_data(ttl=300, show_spinner=False)
def alert_counts(warehouse: Warehouse, viewer: Viewer, weeks: int = 12) -> pl.DataFrame:
    """How many participants of each site are on the alerts worklist, by the week (from Monday) of their latest
    score, over the last `weeks` weeks of data; 1 to min_cell − 1 is withheld as small. No totals are shown: a
    total beside its parts would give a withheld part away."""
    frame = read(
        warehouse,
        f"""
        WITH listed AS (
            SELECT DISTINCT participant_id, site_id, date_trunc('week', completed_date)::DATE AS week_of
            FROM marts.alerts WHERE is_latest
        )
        SELECT week_of, site_id, count(*) AS participants FROM listed
        WHERE week_of > (SELECT max(week_of) FROM listed) - INTERVAL {int(weeks)} WEEK
        GROUP BY ALL ORDER BY week_of DESC, site_id
        """,
    )
    if viewer.role == "admin":
        return frame.with_columns(small_counts=pl.lit([], pl.List(pl.String)))
    small = pl.col("participants") < viewer.min_cell
    return frame.with_columns(
        participants=pl.when(small).then(None).otherwise(pl.col("participants")),
        small_counts=pl.when(small).then(pl.lit(["participants"])).otherwise(pl.lit([], pl.List(pl.String))),
    )


@dataclass(frozen=True)
class Picture:
    """One participant's whole picture; every frame is empty for a participant beyond the viewer's sites."""

    scores: pl.DataFrame  # every score: instrument, subscale, week (exact), completed_date, score
    outcomes: pl.DataFrame  # per measure: baseline, endpoint, change, category and status, with its thresholds
    alerts: pl.DataFrame  # not-on-track alerts, newest first
    practice: pl.DataFrame  # per week since enrolment: practices and minutes


@st.cache_data(ttl=300, show_spinner=False)
def participant_picture(warehouse: Warehouse, viewer: Viewer, participant_id: str) -> Picture:
    """Every measure's scores and outcome, the alerts and the weekly practice of one participant of the viewer's
    sites."""
    scope, parameters = site_scope(viewer, "p.site_id")
    mine = f"p.participant_id = ? AND {scope}"

    def about_them(sql: str) -> pl.DataFrame:
        return read(warehouse, sql, [participant_id, *parameters])

    return Picture(
        scores=about_them(
            "SELECT a.instrument, a.subscale, a.days_since_enrolment / 7 AS week, a.completed_date, a.score "
            "FROM marts.assessments AS a JOIN marts.participants AS p USING (participant_id) "
            f"WHERE {mine} AND a.score IS NOT NULL ORDER BY a.instrument, a.subscale, week"
        ),
        outcomes=about_them(
            "SELECT o.instrument, o.subscale, o.baseline_score, o.endpoint_score, o.change_score, o.reliable_change, "
            "o.jt_category, o.outcome_status, m.min_reliable_change, m.cutoff "
            "FROM marts.participant_outcomes AS o JOIN marts.participants AS p USING (participant_id) "
            "LEFT JOIN marts.outcome_parameters AS m USING (instrument, subscale) "
            f"WHERE {mine} ORDER BY o.instrument, o.subscale"
        ),
        alerts=about_them(
            "SELECT a.completed_date, a.week, a.rule, a.observed_score, a.expected_score, a.threshold "
            "FROM marts.alerts AS a JOIN marts.participants AS p USING (participant_id) "
            f"WHERE {mine} ORDER BY a.completed_date DESC, a.rule"
        ),
        practice=about_them(
            "SELECT e.week, e.practices, e.minutes FROM marts.exercise_engagement AS e "
            f"JOIN marts.participants AS p USING (participant_id) WHERE {mine} ORDER BY e.week"
        ),
    )
