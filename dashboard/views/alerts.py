"""Alerts: for a clinician, the worklist of their participants who are not on track; for a program lead, how many
there are by site and week."""

import polars as pl
import streamlit as st

from dashboard import queries
from dashboard.glossary import for_screen
from dashboard.session import current_filters, methods_link, page_header, site_names

warehouse, viewer = page_header("Alerts")
sites = current_filters().sites

if viewer.role in ("admin", "program_lead"):
    st.subheader("Participants not on track, by site and week")
    counts = queries.alert_counts(warehouse, viewer)
    if sites:
        counts = counts.filter(pl.col("site_id").is_in(list(sites)))
    if counts.is_empty():
        st.info("No participant is on the alerts list.")
    else:
        shown = counts.with_columns(pl.col("site_id").replace(site_names()))
        st.dataframe(for_screen(shown, viewer.min_cell), hide_index=True)
    st.caption(
        f"Participants whose latest ECR-R anxiety score trips a not-on-track rule, counted in the week (from "
        f'Monday) of that score. Fewer than {viewer.min_cell} show as "<{viewer.min_cell}". '
        + methods_link("not-on-track-alerts")
    )

if viewer.sees_participants:
    st.subheader("Your worklist" if viewer.role == "clinician" else "Worklist, every site")
    worklist = queries.alert_worklist(warehouse, viewer)
    if sites:
        worklist = worklist.filter(pl.col("site_id").is_in(list(sites)))
    if worklist.is_empty():
        st.success("No participant of your sites is off track at their latest score.")
        st.stop()
    new = worklist["is_new"].sum()
    st.write(
        f"**{worklist.height}** participant(s) off track at their latest score, **{new}** new since the last refresh."
    )
    shown = worklist.with_columns(
        pl.when(pl.col("is_new")).then(pl.lit("new")).otherwise(pl.lit("before")).alias("is_new"),
        pl.col("site_id").replace(site_names()),
    )
    st.dataframe(for_screen(shown, viewer.min_cell), hide_index=True)
    st.caption(
        "Newest first. New: the alert first appeared in the latest refresh; before: it was there already. Alerts "
        "are on ECR-R anxiety, whatever measure is chosen; the site filter applies. "
        + methods_link("not-on-track-alerts")
    )
    chosen = st.selectbox("Open a participant", worklist["participant_id"].to_list())
    st.page_link("views/participant.py", label=f"Open {chosen}'s whole picture", query_params={"id": chosen})
