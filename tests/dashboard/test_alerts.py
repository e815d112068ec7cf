"""The alerts worklist and one participant's picture: scope, "new since the last refresh", and the lead's counts."""

import shutil
from datetime import timedelta

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import queries
from dashboard.scope import NotInScope, Viewer, Warehouse
from tests.dashboard.test_app import APP, open_page, warehouse_env  # noqa: F401 (autouse: sample warehouse, demo)

NORTH = Viewer("clinician", ("north",))
ADMIN = Viewer("admin")
ALERT_KEY = ["participant_id", "completed_date", "rule"]


@pytest.fixture
def warehouse(sample_warehouse):
    return Warehouse.at(sample_warehouse)


def alerts_of(path) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("SELECT * FROM marts.alerts").pl()


@pytest.fixture(scope="module")
def two_nights(prefect_server, tmp_path_factory):
    """The sample refreshed ten days before its export day (the later scores wait, quarantined as future), the
    alerts of that night kept, then refreshed again on the export day."""
    from pipelines.flows import refresh
    from pipelines.generate import SAMPLE_AS_OF
    from tests.conftest import SAMPLE_DATA

    root = tmp_path_factory.mktemp("two-nights")
    shutil.copytree(SAMPLE_DATA, root / "inbox")
    refresh(inbox=root / "inbox", warehouse=root / "w.duckdb", as_of=SAMPLE_AS_OF - timedelta(days=10))
    first_night = alerts_of(root / "w.duckdb")
    refresh(inbox=root / "inbox", warehouse=root / "w.duckdb", as_of=SAMPLE_AS_OF)
    return root / "w.duckdb", first_night


def test_an_alert_is_new_only_on_the_night_it_first_appears(two_nights):
    path, first_night = two_nights
    worklist = queries.alert_worklist(Warehouse.at(path), ADMIN)
    rows = worklist.explode("rules").rename({"rules": "rule"})
    seen = rows.join(first_night.select(ALERT_KEY).with_columns(before=pl.lit(True)), on=ALERT_KEY, how="left")
    expected_new = seen.group_by("participant_id").agg(is_new=pl.col("before").is_null().any())
    got = worklist.select("participant_id", "is_new").sort("participant_id")
    assert got.equals(expected_new.sort("participant_id"))
    assert got["is_new"].any() and not got["is_new"].all()  # some alerts are of the new night's scores, some not


def test_the_worklist_is_each_participants_latest_score_newest_first_and_only_the_clinicians_own(
    warehouse, sample_warehouse
):
    worklist = queries.alert_worklist(warehouse, NORTH)
    assert worklist.height > 0 and set(worklist["site_id"]) == {"north"}
    assert worklist["completed_date"].is_sorted(descending=True)
    assert worklist["participant_id"].is_unique().all()
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        latest = dict(
            con.execute(
                "SELECT participant_id, max(completed_date) FROM marts.assessments "
                "WHERE instrument = 'ECR-R' AND subscale = 'anxiety' AND score IS NOT NULL GROUP BY 1"
            ).fetchall()
        )
        flagged = con.sql("SELECT participant_id, completed_date, rule FROM marts.alerts WHERE site_id = 'north'").pl()
    at_latest = flagged.filter(
        pl.col("completed_date") == pl.col("participant_id").replace_strict(latest, return_dtype=pl.Date)
    )
    assert sorted(worklist["participant_id"]) == sorted(at_latest["participant_id"].unique())
    assert worklist["is_new"].all()  # one refresh: every alert appeared in it
    with pytest.raises(NotInScope):
        queries.alert_worklist(warehouse, Viewer("program_lead"))


def test_a_lead_gets_counts_by_site_and_week_with_small_ones_withheld(warehouse):
    every = queries.alert_worklist(warehouse, ADMIN)
    by_week = (
        every.with_columns(week_of=pl.col("completed_date").dt.truncate("1w"))
        .group_by("week_of", "site_id")
        .agg(participants=pl.len())
    )
    counts = queries.alert_counts(warehouse, ADMIN, weeks=52)
    joined = counts.join(by_week, on=["week_of", "site_id"], suffix="_listed")
    assert joined.height == counts.height == by_week.height
    assert (joined["participants"] == joined["participants_listed"]).all()
    largest = counts["participants"].max()
    lead = queries.alert_counts(warehouse, Viewer("program_lead", min_cell=largest), weeks=52)
    shown = lead.filter(pl.col("participants").is_not_null())
    assert set(shown["participants"]) == {largest}
    withheld = lead.filter(pl.col("participants").is_null())
    assert withheld.height == counts.filter(pl.col("participants") < largest).height
    assert all(small.to_list() == ["participants"] for small in withheld["small_counts"])


def test_a_participants_picture_is_for_their_own_clinician_only(warehouse, sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        (north_person, scored), (south_person,) = (
            con.execute(
                "SELECT participant_id, count(*) FROM marts.assessments JOIN marts.participants "
                "USING (participant_id) WHERE site_id = 'north' AND score IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT 1"
            ).fetchone(),
            con.execute("SELECT min(participant_id) FROM marts.participants WHERE site_id = 'south'").fetchone(),
        )
    mine = queries.participant_picture(warehouse, NORTH, north_person)
    assert mine.scores.height == scored
    assert set(mine.outcomes["instrument"]) >= {"ECR-R", "GAD-7", "PHQ-9", "RSES"}
    assert mine.outcomes.filter(pl.col("instrument") == "ECR-R")["min_reliable_change"].is_not_null().all()
    theirs = queries.participant_picture(warehouse, NORTH, south_person)
    assert all(frame.is_empty() for frame in (theirs.scores, theirs.outcomes, theirs.alerts, theirs.practice))
    assert queries.cohort_of(warehouse, NORTH, north_person) in queries.cohorts_in_scope(warehouse, NORTH)
    assert queries.cohort_of(warehouse, NORTH, south_person) is None
    south_cohort = queries.cohort_of(warehouse, Viewer("admin"), south_person)
    assert south_person in queries.participants_in_scope(warehouse, Viewer("admin"), south_cohort)
    assert south_person not in queries.participants_in_scope(warehouse, NORTH, south_cohort)
    with pytest.raises(NotInScope):
        queries.participant_picture(warehouse, Viewer("program_lead"), north_person)


def test_the_alerts_page_shows_a_clinician_their_worklist_and_a_lead_counts_only():
    clinician = open_page("alerts", "Clinician, north site (demo)")
    assert not clinician.exception
    [worklist] = clinician.dataframe
    assert set(worklist.value["Site"]) == {"north"} and set(worklist.value["New"]) == {"new"}
    assert "Reliably worse than at baseline" in " ".join(worklist.value["Why"])
    lead = open_page("alerts", "Program lead (demo)")
    assert not lead.exception
    [counts] = lead.dataframe  # and no worklist
    assert list(counts.value.columns) == ["Week of", "Site", "Participants"]


def test_the_participant_page_opens_the_participant_a_link_names(sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        person, cohort = con.execute(
            "SELECT participant_id, cohort_id FROM marts.participants WHERE site_id = 'north' "
            "ORDER BY participant_id DESC LIMIT 1"
        ).fetchone()
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["demo_identity"] = "Clinician, north site (demo)"
    app.query_params["id"] = person
    app.switch_page(str(APP.parent / "views" / "participant.py")).run()
    assert not app.exception
    pickers = {box.label: box for box in app.selectbox}
    assert (pickers["Cohort"].value, pickers["Participant"].value) == (cohort, person)
    assert person in pickers["Participant"].options and len(pickers["Participant"].options) < 30  # one cohort's
    assert len(app.get("plotly_chart")) >= 4  # a chart per measure, and the practice
    lead = open_page("participant", "Program lead (demo)")
    assert "for clinicians" in lead.info[-1].value and not lead.dataframe
