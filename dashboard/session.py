"""Who is viewing and which warehouse they read, for the pages of one browser session.

With sign-in configured (`[dashboard] roles` and `secrets` in the config), identity comes from the
organisation's OpenID Connect provider through Streamlit's native login, and the roles file (dashboard/access.py)
grants its verified email, else its subject, a role and, for clinicians, their sites; an identity with no role sees
nothing. Without sign-in the dashboard shows anything only when started with `--demo`: the viewer picks a demo
identity of each role, and every page warns that anyone who reaches it sees everything.
"""

from __future__ import annotations

import base64
import html
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard.access import load_roles
from dashboard.glossary import WORDS
from dashboard.queries import filter_choices, freshness, operations, schema_version
from dashboard.scope import Filters, Viewer, Warehouse
from securebase.layout import SCHEMA_VERSION
from securebase.settings import SettingsError, load_settings

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


def sign_in_is_configured() -> bool:
    return bool(os.environ.get("SECUREBASE_ROLES"))


def signed_in_identity() -> str:
    """The signed-in user's email address when the provider says it has verified it, else their subject at the
    provider: an address it has not verified, or does not say it has, could be anyone's."""
    email = st.user.get("email") if st.user.get("email_verified") in (True, "true") else None
    return email or st.user.get("sub")


def demo_is_allowed() -> bool:
    """Demo identities only when the command line was asked for them (`--demo`, which `securebase demo` passes)."""
    return not sign_in_is_configured() and os.environ.get("SECUREBASE_DEMO") == "1"


def signed_in_viewer() -> Viewer | None:
    """The signed-in identity's viewer from the roles file, or None when it has no role."""
    email = st.user.get("email") if st.user.get("email_verified") in (True, "true") else None
    grant = load_roles(Path(os.environ["SECUREBASE_ROLES"])).grant_for(email, st.user.get("sub"))
    if grant is None:
        return None
    return Viewer(grant.role, grant.sites, _settings().min_cell, signed_in_identity())


def choose_identity() -> Viewer | None:
    """Sign-in when configured (stopping the page until it succeeds), else the demo identity picker when allowed."""
    if demo_is_allowed():
        st.sidebar.selectbox("Demo identity", list(DEMO_IDENTITIES), key="demo_identity")
        st.warning(
            "**Demo mode, no sign-in:** anyone who can reach this address sees everything, as any identity, "
            "Administrator included. Configure sign-in before showing real data."
        )
        return None
    if not sign_in_is_configured():
        st.error("No sign-in is configured: start the dashboard with sign-in, or with --demo on this computer only.")
        st.stop()
    if not st.user.is_logged_in:
        st.title("securebase")
        st.write("Sign in with your organisation's account to see program outcomes.")
        st.button("Sign in", on_click=st.login, type="primary")
        st.stop()
    st.sidebar.caption(f"Signed in as {signed_in_identity()}")
    st.sidebar.button("Sign out", on_click=st.logout)
    try:
        viewer = signed_in_viewer()
    except SettingsError:  # the file changed since the dashboard started: the visitor gets no server detail
        st.error("securebase cannot read its roles file just now: ask the program's administrator.")
        st.stop()
    if viewer is None:
        st.error("Your account has no role in securebase: ask the program's administrator for access.")
        st.stop()
    st.session_state["viewer"] = viewer
    return viewer


def stop_unless_schema_is_current(warehouse: Warehouse) -> None:
    """One line instead of a failing page when the warehouse was built by another version of securebase."""
    built = schema_version(warehouse)
    if built != SCHEMA_VERSION:
        age, advice = ("an older", "run a refresh to upgrade") if built < SCHEMA_VERSION else ("a newer", "upgrade it")
        st.warning(
            f"This warehouse was built by {age} securebase (schema {built}; this dashboard reads schema "
            f"{SCHEMA_VERSION}): {advice}."
        )
        st.stop()


# An absolute path in a refresh's reason (the warehouse's lock, a report): the page shows only its last part.
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s/;:()'\"]+/)*([^\s/;:()'\"]+)")


def without_folders(reason: str) -> str:
    """A reason with each absolute path cut to its file name: a visitor is never shown a server path."""
    return ABSOLUTE_PATH.sub(r"\1", reason)


def show_refresh_notices(warehouse: Warehouse) -> None:
    """Above every page: to an admin or a program lead, a refresh that failed after the last publish, and its
    reason; to everyone, how old the data are once the as-of day began more than `dashboard.stale_after_hours`
    ago. A clinician is told the age, which bears on what they read, not why a refresh failed."""
    if schema_version(warehouse) == 0:  # not a securebase warehouse: stop_unless_schema_is_current says so
        return
    status, viewer, now = operations(warehouse), current_viewer(), datetime.now(UTC)
    if status.failure is not None and viewer.role in ("admin", "program_lead"):
        st.error(
            f"The last refresh failed at {status.failed_at():%Y-%m-%d %H:%M %Z}: "
            f"{without_folders(status.failure.reason)}"
        )
    if status.is_stale(now, _settings().stale_after_hours):
        days = status.days_old(now)
        age = f"{days} day{'s' * (days != 1)}" if days else f"{status.age(now) // timedelta(hours=1)} hours"
        st.warning(f"Data are {age} old (as of {status.as_of_date}).")


def choose_filters(warehouse: Warehouse) -> None:
    """Sidebar filters for the measure, sites and modalities; every page that can, follows them."""
    choices = filter_choices(warehouse)
    measures = [f"{instrument} · {subscale}" for instrument, subscale in choices["measures"]] or ["ECR-R · anxiety"]
    st.sidebar.subheader("Filters")
    default = measures.index("ECR-R · anxiety") if "ECR-R · anxiety" in measures else 0
    st.sidebar.selectbox("Measure", measures, index=default, key="filter_measure")
    names = site_names()
    st.sidebar.multiselect(
        "Sites",
        choices["sites"],
        format_func=lambda site: names.get(site, site),
        key="filter_sites",
        placeholder="all sites",
    )
    st.sidebar.multiselect("Modalities", choices["modalities"], key="filter_modalities", placeholder="all modalities")


def current_filters() -> Filters:
    instrument, subscale = st.session_state.get("filter_measure", "ECR-R · anxiety").split(" · ")
    return Filters(
        instrument,
        subscale,
        tuple(st.session_state.get("filter_sites", ())),
        tuple(st.session_state.get("filter_modalities", ())),
    )


def _settings():
    config = os.environ.get("SECUREBASE_CONFIG")
    return load_settings(Path(config) if config else None)


def site_names() -> dict[str, str]:
    """[sites] of the config: the display name of each site that has one (`north` → `North clinic`). Pages show a
    site by it, `site_names().get(site_id, site_id)`, or a column of ids with `pl.col(...).replace(site_names())`."""
    return _settings().sites


def publication_rule() -> bool:
    """privacy.publication: exports follow NHS Digital's rounding rule."""
    return _settings().publication


def current_viewer() -> Viewer:
    if sign_in_is_configured():
        return st.session_state["viewer"]
    min_cell = _settings().min_cell
    identity = DEMO_IDENTITIES[st.session_state.get("demo_identity", next(iter(DEMO_IDENTITIES)))]
    return Viewer(identity.role, identity.sites, min_cell, identity.name)


def page_header(title: str) -> tuple[Warehouse, Viewer]:
    """Every page: its title, the demo-mode notice, and the data's as-of day and refresh time."""
    warehouse, viewer = current_warehouse(), current_viewer()
    st.title(title)
    if demo_is_allowed():
        st.info(f"Demo mode. You are viewing as **{viewer.name}**; choose another identity in the sidebar.")
    last = freshness(warehouse)
    if last:
        st.caption(
            f"Data as of **{last['as_of_date']}** · refreshed {last['finished_at']:%Y-%m-%d %H:%M %Z} "
            f"(refresh {last['refresh_id']}, {last['status']})"
        )
    else:
        st.warning("The warehouse has no published refresh yet.")
    return warehouse, viewer


def show_chart(figure) -> None:
    """A chart as dashboard/charts.py drew it: its own template, not restyled by Streamlit's theme (so it looks as in
    the program report, and draws about 15 ms sooner per chart), without Plotly's logo."""
    st.plotly_chart(figure, config={"displaylogo": False}, theme=None)


# A download link drawn like Streamlit's secondary button.
DOWNLOAD_STYLE = (
    "display:inline-block;padding:0.25rem 0.75rem;border:1px solid rgba(49,51,63,0.2);border-radius:0.5rem;"
    "color:inherit;text-decoration:none"
)


def download_link(label: str, data: str | bytes, file_name: str, mime: str) -> None:
    """A download bound to this session: the file travels inside the page, over the session's websocket, as a
    `data:` link. `st.download_button` would keep it on the server at `/media/<hash>`, where any client can fetch
    it without a session or cookie while it is kept (README "Downloads are bound to the session")."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    href = f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"
    st.markdown(
        f'<a href="{href}" download="{html.escape(file_name)}" style="{DOWNLOAD_STYLE}">{html.escape(label)}</a>',
        unsafe_allow_html=True,
    )


def with_group_names(groups: pl.DataFrame) -> pl.DataFrame:
    """A release's rows with each group as people read it: the program as "Whole program", a site by its display
    name, a modality in words."""
    grouping, group = pl.col("grouping"), pl.col("group_id")
    return groups.with_columns(
        pl.when(grouping == "program")
        .then(pl.lit("Whole program"))
        .when(grouping == "site")
        .then(group.replace(site_names()))
        .when(grouping == "modality")
        .then(group.replace(WORDS))
        .otherwise(group)
        .alias("group_id")
    )


def suppression_note(min_cell: int) -> str:
    """The one-line reason beside a table with withheld figures."""
    return (
        f'"<{min_cell}": fewer than {min_cell} people outside your own scope. "withheld": hidden so that no '
        f'"<{min_cell}" can be worked out from the other figures. {methods_link("small-numbers-and-privacy")}'
    )


def category_note(min_cell: int) -> str:
    """The caption beside a chart of Jacobson–Truax categories by group (charts.category_distribution)."""
    return (
        "Each bar is a group's completers by Jacobson–Truax category; a blank segment holds the categories withheld "
        f"from your view, and a group without a bar says why. {suppression_note(min_cell)}"
    )


def methods_link(anchor: str) -> str:
    return f"[How this is computed](/methods#{anchor})"
