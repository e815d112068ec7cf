"""securebase dashboard: routes the pages (`securebase dashboard --warehouse FILE`).

The viewer is decided here, once per session, and every page reads data through dashboard/queries.py with it.
Without an identity provider configured the app runs in demo mode and says so on every page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.session import current_warehouse, demo_banner

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="securebase", layout="wide")
if current_warehouse() is None:
    st.error("No warehouse to show: start the dashboard with `securebase dashboard --warehouse FILE`.")
    st.stop()
demo_banner()
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Program overview", default=True),
        st.Page(PAGES / "methods.py", title="Methods", url_path="methods"),
    ]
)
navigation.run()
