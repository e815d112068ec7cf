"""Who is viewing and which warehouse they read, for the pages of one browser session.

Without an identity provider the dashboard runs in demo mode: the viewer picks a demo identity of each role,
and every page says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from dashboard.queries import Viewer, Warehouse, freshness
from pipelines.settings import load_settings

DEMO_IDENTITIES = {
    "Program lead (demo)": Viewer("program_lead", name="Program lead (demo)"),
    "Clinician, north site (demo)": Viewer("clinician", ("north",), name="Clinician, north site (demo)"),
    "Administrator (demo)": Viewer("admin", name="Administrator (demo)"),
}


def current_warehouse() -> Warehouse | None:
    """The published warehouse named by SECUREBASE_WAREHOUSE, at its current version."""
    path = os.environ.get("SECUREBASE_WAREHOUSE")
    if not path or not Path(path).exists():
        return None
    return Warehouse.at(path)


def choose_demo_identity() -> None:
    st.sidebar.selectbox("Demo identity", list(DEMO_IDENTITIES), key="demo_identity")


def current_viewer() -> Viewer:
    config = os.environ.get("SECUREBASE_CONFIG")
    min_cell = load_settings(Path(config) if config else None).min_cell
    identity = DEMO_IDENTITIES[st.session_state.get("demo_identity", next(iter(DEMO_IDENTITIES)))]
    return Viewer(identity.role, identity.sites, min_cell, identity.name)


def page_header(title: str) -> tuple[Warehouse, Viewer]:
    """Every page: its title, the demo-mode notice, and the data's as-of day and refresh time."""
    warehouse, viewer = current_warehouse(), current_viewer()
    st.title(title)
    st.info(
        f"Demo mode: no sign-in is configured. You are viewing as **{viewer.name}**; "
        "choose another identity in the sidebar."
    )
    last = freshness(warehouse)
    if last:
        st.caption(
            f"Data as of **{last['as_of_date']}** · refreshed {last['finished_at']:%Y-%m-%d %H:%M %Z} "
            f"(refresh {last['refresh_id']}, {last['status']})"
        )
    else:
        st.warning("The warehouse has no published refresh yet.")
    return warehouse, viewer


def methods_link(anchor: str) -> str:
    return f"[How this is computed](/methods#{anchor})"
