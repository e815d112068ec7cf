"""The overview page driven by Streamlit's AppTest against a real sample warehouse."""

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.queries import Viewer, Warehouse, cohort_trajectories, program_headline
from pipelines.generate import SAMPLE_AS_OF

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture
def app(sample_warehouse, monkeypatch):
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(sample_warehouse))
    return AppTest.from_file(APP, default_timeout=60).run()


def headline_row(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT mean_change, mean_change_ci_low, mean_change_ci_high, n_complete, n_enrolled "
            "FROM marts.cohort_outcomes WHERE grouping = 'program' AND instrument = 'ECR-R' AND subscale = 'anxiety'"
        ).fetchall()[0]


def test_overview_shows_the_headline_with_its_interval_and_denominator(app, sample_warehouse):
    change, low, high, complete, enrolled = headline_row(sample_warehouse)
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Mean change (completers)"] == f"{change:+.2f}"
    assert metrics["95% confidence interval"] == f"{low:+.2f} to {high:+.2f}"
    assert metrics["Completers"] == f"{complete} of {enrolled}"


def test_every_page_says_the_data_as_of_day_and_demo_mode(app):
    captions = " ".join(c.value for c in app.caption)
    assert f"Data as of **{SAMPLE_AS_OF}**" in captions
    assert any("Demo mode" in info.value for info in app.info)


def test_without_a_warehouse_the_app_says_how_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(tmp_path / "missing.duckdb"))
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert "securebase dashboard --warehouse FILE" in app.error[0].value


def test_program_leads_get_no_cell_about_fewer_than_min_cell_people(sample_warehouse):
    warehouse = Warehouse.at(sample_warehouse)
    lead = cohort_trajectories(warehouse, Viewer("program_lead", min_cell=5))
    assert lead.height > 0 and lead["n"].min() >= 5
    strict = cohort_trajectories(warehouse, Viewer("program_lead", min_cell=10**6))
    assert strict.is_empty()
    assert program_headline(warehouse, Viewer("program_lead", min_cell=10**6))["mean_change"] is None


def test_a_clinician_sees_only_their_own_sites(sample_warehouse):
    north = cohort_trajectories(Warehouse.at(sample_warehouse), Viewer("clinician", sites=("north",)))
    assert north.height > 0 and set(north["site_id"]) == {"north"}


def test_the_methods_page_explains_reliable_change(sample_warehouse, monkeypatch):
    monkeypatch.setenv("SECUREBASE_WAREHOUSE", str(sample_warehouse))
    app = AppTest.from_file(APP, default_timeout=60)
    app.switch_page(str(Path(APP).parent / "pages" / "methods.py")).run()
    text = " ".join(m.value for m in app.markdown)
    assert not app.exception
    assert "Reliable change (Jacobson & Truax 1991)" in text and "S_diff" in text
