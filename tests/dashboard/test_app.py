"""Every page in each role, driven by Streamlit's AppTest against a real sample warehouse."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import scope
from dashboard.glossary import WORDS
from dashboard.scope import Viewer, Warehouse
from dashboard.session import DEMO_IDENTITIES
from pipelines.generate import SAMPLE_AS_OF
from securebase.attempts import attempts_file

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = [
    "overview",
    "comparisons",
    "trends",
    "cohorts",
    "alerts",
    "participant",
    "exercises",
    "dose_response",
    "quality",
    "methods",
]


def open_page(page: str, identity: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["demo_identity"] = identity
    return app.switch_page(str(APP.parent / "views" / f"{page}.py")).run()


@pytest.fixture(autouse=True)
def warehouse_env(sample_warehouse, monkeypatch):
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(sample_warehouse))
    monkeypatch.setenv("SECUREBASE_DEMO", "1")  # as `securebase dashboard --demo` sets it
    monkeypatch.delenv("SECUREBASE_ROLES", raising=False)


@pytest.mark.parametrize("identity", list(DEMO_IDENTITIES))
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_in_every_role_with_its_as_of_day(page, identity):
    app = open_page(page, identity)
    assert not app.exception, [e.message for e in app.exception]
    if page != "methods":
        assert f"Data as of **{SAMPLE_AS_OF}**" in " ".join(c.value for c in app.caption)
        assert any("Demo mode" in info.value and identity in info.value for info in app.info)
    assert "anyone who can reach this address sees everything" in app.warning[0].value  # on every page
    for table in app.dataframe:  # in the reader's words: no machine name, no None, nan or blank
        frame = table.value
        assert not [c for c in frame.columns if "_" in str(c)], list(frame.columns)
        assert not {"None", "nan", "NaN", "<NA>", "NaT", "null", ""} & set(frame.astype(str).to_numpy().ravel())


def test_without_sign_in_or_demo_the_app_shows_nothing(monkeypatch):
    monkeypatch.delenv("SECUREBASE_DEMO")
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert "No sign-in is configured" in app.error[0].value
    assert not app.metric and not app.dataframe and not app.selectbox


def test_the_overview_shows_the_headline_with_its_interval_and_denominator_and_comparisons_the_groups(sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        change, low, high, complete, enrolled = con.execute(
            "SELECT mean_change, mean_change_ci_low, mean_change_ci_high, n_complete, n_enrolled "
            "FROM marts.cohort_outcomes WHERE grouping = 'program' AND instrument = 'ECR-R' AND subscale = 'anxiety'"
        ).fetchall()[0]
        [(itt, site_itt)] = con.execute(
            "SELECT (SELECT change_10_weeks FROM marts.itt_outcomes WHERE grouping = 'program'), "
            "(SELECT change_10_weeks FROM marts.itt_outcomes WHERE grouping = 'site' AND group_id = 'north')"
        ).fetchall()
    app = open_page("overview", "Program lead (demo)")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Mean change (completers)"] == f"{change:+.2f}"
    assert metrics["95% confidence interval"] == f"{low:+.2f} to {high:+.2f}"
    assert metrics["Completers"] == f"{complete} of {enrolled}"
    assert metrics["10-week change, everyone enrolled (mixed model)"] == f"{itt:+.2f}"
    by_site = open_page("comparisons", "Program lead (demo)").dataframe[0].value  # by site at first
    shown = by_site.set_index("Group").loc["north", "Change, everyone enrolled (ITT)"]
    assert shown == f"{site_itt:+.2f}"  # as the page shows it


def test_a_program_lead_sees_no_participant_on_the_cohort_page():
    app = open_page("cohorts", "Program lead (demo)")
    assert "Participant-level views are for clinicians" in app.info[-1].value
    assert not app.dataframe


def test_a_clinician_sees_only_participants_of_their_site(sample_warehouse):
    app = open_page("cohorts", "Clinician, north site (demo)")
    table = app.dataframe[0].value
    assert len(table) > 0 and set(table["Site"]) == {"north"}
    [cohort_picker] = [box for box in app.selectbox if box.label == "Cohort"]
    assert all(option.startswith("north") for option in cohort_picker.options)


def charts_on(app: AppTest) -> dict[str, dict]:
    """The page's Plotly figures by title, as the browser receives them."""
    figures = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return {figure["layout"]["title"]["text"]: figure for figure in figures}


def test_a_clinician_sees_the_jacobson_truax_scatter_of_their_own_completers(sample_warehouse):
    app = open_page("cohorts", "Clinician, north site (demo)")
    [cohort_picker] = [box for box in app.selectbox if box.label == "Cohort"]
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        expected = con.execute(
            "SELECT participant_id, jt_category FROM marts.participant_outcomes WHERE cohort_id = ? "
            "AND site_id = 'north' AND instrument = 'ECR-R' AND subscale = 'anxiety' AND outcome_status = 'complete'",
            [cohort_picker.value],
        ).fetchall()
    assert any(s.value == "Clinically significant change in ECR-R anxiety" for s in app.subheader)
    scatter = charts_on(app)[f"ECR-R anxiety in {cohort_picker.value}: completers"]
    points = [trace for trace in scatter["data"] if trace["mode"] == "markers"]
    shown = {(participant, trace["name"]) for trace in points for participant in trace["customdata"]}
    assert len(expected) >= 5 and shown == {(participant, WORDS[category]) for participant, category in expected}
    band, diagonal = scatter["data"][:2]
    assert band["fill"] == "toself" and diagonal["name"] == "no change" and len(scatter["layout"]["shapes"]) == 2


def test_the_overview_and_comparisons_chart_the_categories_of_the_release_never_a_withheld_one_as_0(sample_warehouse):
    title = "ECR-R anxiety: completers by Jacobson–Truax category"  # the overview follows the chosen measure
    release = scope.group_outcomes(Warehouse.at(sample_warehouse), Viewer("program_lead"), "ECR-R", "anxiety")
    rows = {row["group_id"]: row for row in release.iter_rows(named=True)}
    rows["Whole program"] = rows.pop("all")
    for page in ("overview", "comparisons"):  # comparisons by site at first
        figure = charts_on(open_page(page, "Program lead (demo)"))[title]
        recovered, improved = figure["data"][:2]
        assert recovered["name"] == "Recovered" and improved["name"] == "Reliably improved"
        expected_groups = ["Whole program", "east", "north", "south", "west"][page == "comparisons" :]
        assert recovered["y"] == expected_groups
        for trace, count in ((recovered, "n_recovered"), (improved, "n_improved")):
            for group, share in zip(trace["y"], trace["x"], strict=True):
                row = rows[group]
                assert share == (None if row[count] is None else row[count] / row["n_complete"]), (page, group)
        assert None in recovered["x"]  # the sample withholds some, and they are not drawn
        withheld = next(trace for trace in figure["data"] if trace.get("name") == "withheld")
        assert [group for group, text in zip(withheld["y"], withheld["text"], strict=True) if text] == [
            group for group in recovered["y"] if rows[group]["n_recovered"] is None
        ]


def test_the_quality_page_counts_held_rows():
    app = open_page("quality", "Administrator (demo)")
    assert any(m.label.startswith("Rows held for a participant") and m.value == "0" for m in app.metric)


def test_the_methods_page_explains_reliable_change():
    app = open_page("methods", "Program lead (demo)")
    assert "Reliable change (Jacobson & Truax 1991)" in " ".join(m.value for m in app.markdown)


def test_without_a_warehouse_the_app_says_how_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(tmp_path / "missing.duckdb"))
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert "securebase dashboard --warehouse FILE" in app.error[0].value


def test_the_sidebar_filters_narrow_the_comparisons():
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["filter_sites"] = ["north"]
    app.session_state["filter_measure"] = "GAD-7 · total"
    app.switch_page(str(APP.parent / "views" / "comparisons.py")).run()
    assert not app.exception
    assert any(s.value == "10-week change in GAD-7 total" for s in app.subheader)
    assert list(app.dataframe[0].value["Group"]) == ["north"]


def test_sites_are_shown_by_their_display_names_where_the_config_gives_them(monkeypatch, tmp_path):
    config = tmp_path / "program.toml"
    config.write_text('[sites]\nnorth = "North clinic"\n', encoding="utf-8")
    monkeypatch.setenv("SECUREBASE_CONFIG", str(config))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["filter_sites"] = ["north"]
    app.switch_page(str(APP.parent / "views" / "comparisons.py")).run()
    assert not app.exception
    [sites] = [box for box in app.sidebar.multiselect if box.label == "Sites"]
    assert "North clinic" in sites.options and "north" not in sites.options and sites.value == ["north"]
    assert list(app.dataframe[0].value["Group"]) == ["North clinic"]
    overview = open_page("overview", "Program lead (demo)")
    talking_therapies = overview.dataframe[-1].value
    site_rows = talking_therapies[talking_therapies["Grouping"] == "Site"]
    assert "North clinic" in set(site_rows["Group"]) and "north" not in set(site_rows["Group"])
    assert {"east", "west"} <= set(site_rows["Group"])  # sites without a display name keep their id
    cohorts = open_page("cohorts", "Clinician, north site (demo)")
    assert set(cohorts.dataframe[0].value["Site"]) == {"North clinic"}


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (  # published before versions were recorded, and missing a column this dashboard reads
            "ALTER TABLE ops.refreshes DROP COLUMN schema_version; ALTER TABLE marts.cohort_outcomes DROP hedges_g",
            "built by an older securebase (schema 1; this dashboard reads schema 6): run a refresh to upgrade.",
        ),
        ("UPDATE ops.refreshes SET schema_version = 9", "built by a newer securebase (schema 9;"),
    ],
)
def test_a_warehouse_of_another_schema_version_gets_one_line_not_an_error(
    sample_warehouse, tmp_path, monkeypatch, change, line
):
    other = tmp_path / "other.duckdb"
    shutil.copyfile(sample_warehouse, other)
    with duckdb.connect(str(other)) as con:
        con.execute(change)
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(other))
    app = open_page("overview", "Program lead (demo)")
    assert not app.exception
    assert any(line in warning.value for warning in app.warning)
    assert not app.metric


def test_the_sample_warehouse_records_the_schema_version_of_its_code(sample_warehouse):
    from securebase.layout import SCHEMA_VERSION

    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        assert con.execute("SELECT DISTINCT schema_version FROM ops.refreshes").fetchall() == [(SCHEMA_VERSION,)]


def test_a_refresh_upgrades_an_older_warehouse_for_the_dashboard(sample_warehouse, tmp_path, monkeypatch):
    from pipelines.flows import refresh
    from tests.conftest import SAMPLE_DATA

    older = tmp_path / "older.duckdb"
    shutil.copyfile(sample_warehouse, older)
    with duckdb.connect(str(older)) as con:
        con.execute("ALTER TABLE ops.refreshes DROP COLUMN schema_version")
    refresh(inbox=SAMPLE_DATA, warehouse=older, as_of=SAMPLE_AS_OF)
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(older))
    app = open_page("overview", "Program lead (demo)")
    assert not app.exception and app.metric
    assert [w.value for w in app.warning[1:] if not w.value.startswith("Data are")] == []  # no schema warning


def warehouse_with(sample_warehouse, tmp_path, sql: str) -> Path:
    """A copy of the sample warehouse changed by `sql`."""
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(sql)
    return copy


def test_a_refresh_that_failed_after_the_last_publish_is_told_to_a_lead_and_an_admin_on_every_page(
    sample_warehouse, tmp_path, monkeypatch
):
    warehouse = warehouse_with(
        sample_warehouse,
        tmp_path,
        "UPDATE ops.refreshes SET finished_at = '2026-07-20 02:00:00+00', timezone = 'Europe/London'",
    )
    reason = f"another refresh of {warehouse} is running (lock held on {warehouse}.lock); try again when it ends"
    failure = {"failed_at": "2026-07-21T01:05:00+00:00", "as_of_date": "2026-07-21", "kind": "lock_held"}
    attempts_file(warehouse).write_text(json.dumps(failure | {"reason": reason}) + "\n")
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(warehouse))
    banner = (
        "The last refresh failed at 2026-07-21 02:05 BST: another refresh of w.duckdb is running "
        "(lock held on w.duckdb.lock); try again when it ends"  # no server folder on the page
    )
    for identity in ("Program lead (demo)", "Administrator (demo)"):
        for page in ("overview", "quality", "methods"):
            app = open_page(page, identity)
            assert not app.exception
            assert [error.value for error in app.error] == [banner], (identity, page)
    clinician = open_page("overview", "Clinician, north site (demo)")
    assert not clinician.exception and not clinician.error
    assert any(w.value.startswith("Data are") for w in clinician.warning)  # the age, not the failure


def test_old_data_are_announced_on_every_page_with_their_age_in_days(sample_warehouse, tmp_path, monkeypatch):
    as_of = datetime.now(UTC).date() - timedelta(days=3)  # the sample's time zone is UTC
    warehouse = warehouse_with(sample_warehouse, tmp_path, f"UPDATE ops.refreshes SET as_of_date = '{as_of}'")
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(warehouse))
    for identity in DEMO_IDENTITIES:
        for page in ("overview", "methods"):
            app = open_page(page, identity)
            assert f"Data are 3 days old (as of {as_of})." in [w.value for w in app.warning], (identity, page)
            assert not app.error  # no failed refresh recorded

    config = tmp_path / "program.toml"
    config.write_text("[dashboard]\nstale_after_hours = 100\n")  # 3 days are at most 96 hours
    monkeypatch.setenv("SECUREBASE_CONFIG", str(config))
    app = open_page("overview", "Clinician, north site (demo)")
    assert not [w.value for w in app.warning if w.value.startswith("Data are")]


def test_the_quality_page_lists_the_files_of_the_refreshes_of_the_last_30_days(
    prefect_server, sample_warehouse, tmp_path, monkeypatch
):
    from pipelines.flows import refresh

    warehouse, inbox = tmp_path / "w.duckdb", tmp_path / "inbox"
    shutil.copyfile(sample_warehouse, warehouse)  # refresh 1: the sample's five files
    inbox.mkdir()
    roster = "participant_id,site_id,cohort_id,modality,enrolled_date"
    for name, text in (
        ("participants_june.csv", f"{roster}\nP9001,north,c9,cbt,2026-07-01\n"),
        ("participants_july.csv", f"{roster},jane_doe_dob_1990\nP9002,north,c9,cbt,2026-07-01,x\n"),  # rejected
    ):
        (inbox / name).write_text(text)
        refresh(inbox=inbox, warehouse=warehouse, as_of=SAMPLE_AS_OF)  # refreshes 2 and 3, one new file each
    with duckdb.connect(str(warehouse)) as con:
        last = con.execute("SELECT finished_at FROM ops.refreshes WHERE refresh_id = 3").fetchall()[0][0]
        for refresh_id, days in ((1, 31), (2, 29)):
            con.execute(
                "UPDATE ops.refreshes SET finished_at = ? WHERE refresh_id = ?",
                [last - timedelta(days=days), refresh_id],
            )
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(warehouse))
    app = open_page("quality", "Administrator (demo)")
    assert not app.exception
    assert "Files of the last 30 days of refreshes" in [s.value for s in app.subheader]
    [files] = [frame.value for frame in app.dataframe if "File" in frame.value.columns]
    identifier = "column 6 is named like a direct identifier or free text (date of birth)"
    assert list(zip(files["Refresh"], files["File"], files["Status"], files["Reason"], strict=True)) == [
        ("3", "participants_july.csv", "Rejected", identifier),
        ("2", "participants_june.csv", "Loaded", "—"),  # 29 days before the last refresh; the sample's, 31, are not
    ]
    assert "1 file(s) rejected whole" in app.error[0].value
    shown = " ".join(str(frame.value.to_dict()) for frame in app.dataframe)
    assert "jane_doe" not in shown and "P9002" not in shown  # a rejected column by its position, no value


def test_the_overview_follows_the_chosen_measure_and_says_which_filters_it_does_not(sample_warehouse):
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["demo_identity"] = "Program lead (demo)"
    app.session_state["filter_measure"] = "GAD-7 · total"
    app.session_state["filter_sites"] = ["north"]
    app.switch_page(str(APP.parent / "views" / "overview.py")).run()
    assert not app.exception
    program = scope.program_headline(Warehouse.at(sample_warehouse), Viewer("program_lead"), ("GAD-7", "total"))
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Mean change (completers)"] == f"{program['mean_change']:+.2f}"  # the program's, not north's
    assert metrics["Completers"] == f"{program['n_complete']} of {program['n_enrolled']}"
    assert "10-week change in GAD-7 total" in [s.value for s in app.subheader]
    captions = " ".join(c.value for c in app.caption)
    assert "The whole program, on the measure chosen" in captions and "ECR-R anxiety, the headline" in captions


def test_the_cohort_page_follows_the_chosen_measure(sample_warehouse):
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["demo_identity"] = "Clinician, north site (demo)"
    app.session_state["filter_measure"] = "PHQ-9 · total"
    app.switch_page(str(APP.parent / "views" / "cohorts.py")).run()
    assert not app.exception
    [cohort_picker] = [box for box in app.selectbox if box.label == "Cohort"]
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        expected = dict(
            con.execute(
                "SELECT participant_id, baseline_score FROM marts.participant_outcomes "
                "WHERE cohort_id = ? AND instrument = 'PHQ-9' AND subscale = 'total'",
                [cohort_picker.value],
            ).fetchall()
        )
    table = app.dataframe[0].value
    shown = dict(zip(table["Participant"], table["Baseline score"], strict=True))
    assert shown == {p: "—" if b is None else f"{b:.2f}" for p, b in expected.items()}
    spaghetti = charts_on(app)[f"PHQ-9 total in {cohort_picker.value}"]
    assert spaghetti["layout"]["yaxis"]["range"] == [0, 27]  # PHQ-9's range, not ECR-R's 1–7
