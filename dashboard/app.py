"""securebase dashboard: routes the pages (`securebase dashboard --warehouse FILE`).

The viewer is chosen once per session, and every page reads data through dashboard/queries.py and scope.py with it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.session import (
    choose_filters,
    choose_identity,
    current_warehouse,
    show_refresh_notices,
    stop_unless_schema_is_current,
)

# Not "pages/": Streamlit treats a pages/ folder beside the entry script as its older multipage app, which
# resets the sidebar's widgets (the demo identity) on every interaction, even under st.navigation (1.67).
PAGES = Path(__file__).parent / "views"

st.set_page_config(page_title="securebase", layout="wide")
if current_warehouse() is None:
    st.error("No warehouse to show: start the dashboard with `securebase dashboard --warehouse FILE`.")
    st.stop()
choose_identity()
show_refresh_notices(current_warehouse())
stop_unless_schema_is_current(current_warehouse())
choose_filters(current_warehouse())
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Program overview", default=True),
        st.Page(PAGES / "comparisons.py", title="Comparisons", url_path="comparisons"),
        st.Page(PAGES / "trends.py", title="Trends", url_path="trends"),
        st.Page(PAGES / "cohorts.py", title="Cohort outcomes", url_path="cohorts"),
        st.Page(PAGES / "alerts.py", title="Alerts", url_path="alerts"),
        st.Page(PAGES / "participant.py", title="Participant", url_path="participant"),
        st.Page(PAGES / "exercises.py", title="Exercises", url_path="exercises"),
        st.Page(PAGES / "dose_response.py", title="Dose–response", url_path="dose-response"),
        st.Page(PAGES / "quality.py", title="Data quality", url_path="quality"),
        st.Page(PAGES / "methods.py", title="Methods", url_path="methods"),
    ]
)
navigation.run()
