"""Who is viewing and which warehouse they read, for the pages of one browser session."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from dashboard.queries import Viewer, Warehouse

DEMO_VIEWER = Viewer(role="program_lead")


def current_warehouse() -> Warehouse | None:
    """The published warehouse named by SECUREBASE_WAREHOUSE, at its current version."""
    path = os.environ.get("SECUREBASE_WAREHOUSE")
    if not path or not Path(path).exists():
        return None
    return Warehouse.at(path)


def current_viewer() -> Viewer:
    return st.session_state.setdefault("viewer", DEMO_VIEWER)


def demo_banner() -> None:
    st.info("Demo mode: no sign-in is configured, so you are viewing as a program lead (aggregates only).")


def data_as_of(warehouse: Warehouse) -> None:
    """The as-of day and refresh time of the data on the page."""
    from dashboard.queries import freshness

    last = freshness(warehouse)
    if not last:
        st.warning("The warehouse has no published refresh yet.")
        return
    finished = last["finished_at"].strftime("%Y-%m-%d %H:%M %Z")
    st.caption(f"Data as of **{last['as_of_date']}** · refreshed {finished} (refresh {last['refresh_id']})")
