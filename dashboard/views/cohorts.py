"""Cohort outcomes for clinicians: each participant of a cohort in their own sites, and alerts."""

import polars as pl
import streamlit as st

from dashboard import charts, queries
from dashboard.glossary import for_download, for_screen
from dashboard.session import current_filters, download_link, methods_link, page_header, show_chart, site_names

warehouse, viewer = page_header("Cohort outcomes")
if not viewer.sees_participants:
    st.info(
        "Participant-level views are for clinicians of a site. Program leads see aggregates on the overview, "
        "comparisons and trends pages."
    )
    st.stop()

cohorts = queries.cohorts_in_scope(warehouse, viewer)
chosen_sites = current_filters().sites
if chosen_sites:
    cohorts = [
        c for c in cohorts if c in set(queries.cohort_trajectories(warehouse, viewer, current_filters())["cohort_id"])
    ]
if not cohorts:
    st.info("No cohort in your sites matches the filters.")
    st.stop()
cohort = st.selectbox("Cohort", cohorts)

scores = queries.participant_scores(warehouse, viewer, cohort)
show_chart(charts.spaghetti(scores, queries.minimum_reliable_change(warehouse), f"ECR-R anxiety in {cohort}"))
st.caption(
    f"Thin lines: each participant; bold: the cohort's weekly mean; shaded: ± the minimum reliable change "
    f"around the mean baseline. {methods_link('reliable-change-jacobson-truax-1991')}"
)

st.subheader("Outcome status and category")
outcomes = queries.participant_outcomes(warehouse, viewer, cohort).with_columns(pl.col("site_id").replace(site_names()))
st.dataframe(for_screen(outcomes, viewer.min_cell, missing="—"), hide_index=True)
download_link(
    "Download this table (CSV)",
    for_download(outcomes, viewer.min_cell, missing="").write_csv(),
    f"{cohort}_outcomes.csv",
    "text/csv",
)
st.caption(
    "ECR-R anxiety (1–7; lower is better). —: not measured yet, or no category without both scores. "
    + methods_link("baseline-endpoint-and-who-counts-as-complete")
)

st.subheader("Not-on-track alerts")
flagged = queries.alerts(warehouse, viewer, cohort)
if flagged.is_empty():
    st.success("No alerts in this cohort.")
else:
    st.dataframe(for_screen(flagged, viewer.min_cell, missing="—"), hide_index=True)
st.caption(
    f"Reliable deterioration from baseline, or a score above the program's expected trajectory for the "
    f"same intake by more than 1.645 prediction SDs. {methods_link('not-on-track-alerts')}"
)
