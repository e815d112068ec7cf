"""One participant's whole picture, for clinicians: every measure's trajectory against their baseline, the band of
reliable change and the cutoff, their outcome on each measure, their alerts and their weekly practice."""

import polars as pl
import streamlit as st

from dashboard import charts, queries
from dashboard.glossary import for_screen
from dashboard.session import methods_link, page_header, show_chart

warehouse, viewer = page_header("Participant")
if not viewer.sees_participants:
    st.info("Participant-level views are for clinicians of a site. Program leads see aggregates on the other pages.")
    st.stop()

cohorts = queries.cohorts_in_scope(warehouse, viewer)
if not cohorts:
    st.info("No participant in your sites yet.")
    st.stop()
asked = st.query_params.get("id")  # a link from the alerts worklist
asked_cohort = queries.cohort_of(warehouse, viewer, asked) if asked else None
cohort = st.selectbox("Cohort", cohorts, index=cohorts.index(asked_cohort) if asked_cohort else 0)
people = queries.participants_in_scope(warehouse, viewer, cohort)
chosen = st.selectbox("Participant", people, index=people.index(asked) if asked in people else 0)
picture = queries.participant_picture(warehouse, viewer, chosen)

st.subheader("Outcome on each measure")
outcomes = picture.outcomes
st.dataframe(for_screen(outcomes.drop("min_reliable_change", "cutoff"), viewer.min_cell, missing="—"), hide_index=True)
st.caption(
    "—: not measured yet, or no category without both scores or a cutoff. "
    + methods_link("clinically-significant-change-jacobson-truax-1991")
)

st.subheader("Scores week by week")
columns = st.columns(2)
for index, measure in enumerate(outcomes.iter_rows(named=True)):
    scores = picture.scores.filter(
        (pl.col("instrument") == measure["instrument"]) & (pl.col("subscale") == measure["subscale"])
    )
    with columns[index % 2]:
        show_chart(
            charts.participant_measure(
                scores,
                measure["baseline_score"],
                measure["min_reliable_change"],
                measure["cutoff"],
                f"{measure['instrument']} {measure['subscale']}",
            )
        )
st.caption(
    "Solid line: baseline; shaded: no reliable change from it; dashed: the cutoff between the clinical and the "
    "functional range. " + methods_link("reliable-change-jacobson-truax-1991")
)

st.subheader("Alerts")
if picture.alerts.is_empty():
    st.success("No not-on-track alert.")
else:
    st.dataframe(for_screen(picture.alerts, viewer.min_cell, missing="—"), hide_index=True)

st.subheader("Practice between sessions")
if picture.practice.is_empty():
    st.info("No practice logged.")
else:
    show_chart(charts.weekly_practice(picture.practice))
