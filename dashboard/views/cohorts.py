"""Cohort outcomes for clinicians: each participant of a cohort in their own sites, their clinically significant
change on the chosen measure, and alerts."""

import polars as pl
import streamlit as st

from dashboard import charts, queries
from dashboard.glossary import for_download, for_screen
from dashboard.session import current_filters, download_link, methods_link, page_header, show_chart, site_names

warehouse, viewer = page_header("Cohort outcomes")
filters = current_filters()
if not viewer.sees_participants:
    st.info(
        "Participant-level views are for clinicians of a site. Program leads see aggregates on the overview, "
        "comparisons and trends pages."
    )
    st.stop()

cohorts = queries.cohorts_in_scope(warehouse, viewer)
if filters.sites:
    cohorts = [c for c in cohorts if c in set(queries.cohort_trajectories(warehouse, viewer, filters)["cohort_id"])]
if not cohorts:
    st.info("No cohort in your sites matches the filters.")
    st.stop()
cohort = st.selectbox("Cohort", cohorts)

chosen = (filters.instrument, filters.subscale)
measure = f"{filters.instrument} {filters.subscale}"
parameters = queries.measure_parameters(warehouse, *chosen)
scores = queries.participant_scores(warehouse, viewer, cohort, chosen)
show_chart(
    charts.spaghetti(
        scores, parameters["min_reliable_change"], f"{measure} in {cohort}", measure, parameters["score_range"]
    )
)
st.caption(
    f"Thin lines: each participant; bold: the cohort's weekly mean; shaded: ± the minimum reliable change "
    f"around the mean baseline. {methods_link('reliable-change-jacobson-truax-1991')}"
)

st.subheader(f"Clinically significant change in {measure}")
completers = queries.cohort_completers(warehouse, viewer, cohort, filters.instrument, filters.subscale)
if completers.is_empty():
    st.info(f"No one in {cohort} has completed {measure} yet: the chart appears with the first completer.")
else:
    band, cutoff = parameters["min_reliable_change"], parameters["cutoff"]
    title = f"{measure} in {cohort}: completers"
    show_chart(charts.jacobson_truax(completers, measure, parameters["score_range"], band, cutoff, title))
    better = "below" if parameters["direction"] == "lower_is_better" else "above"
    notes = [f"Each point is a completer, baseline across and endpoint up: {better} the diagonal is better."]
    notes.append(
        f"Inside the shaded band (± {band:.2f}) a change is within measurement error."
        if band is not None
        else "The measure has no reliable-change threshold yet, so no category."
    )
    if cutoff is not None:
        notes.append(f"The dashed lines: the cutoff ({cutoff:.2f}) between the clinical and the functional range.")
    st.caption(" ".join([*notes, methods_link("clinically-significant-change-jacobson-truax-1991")]))

st.subheader("Outcome status and category")
outcomes = queries.participant_outcomes(warehouse, viewer, cohort, chosen).with_columns(
    pl.col("site_id").replace(site_names())
)
st.dataframe(for_screen(outcomes, viewer.min_cell, missing="—"), hide_index=True)
download_link(
    "Download this table (CSV)",
    for_download(outcomes, viewer.min_cell, missing="").write_csv(),
    f"{cohort}_outcomes.csv",
    "text/csv",
)
st.caption(
    f"{measure}. —: not measured yet, or no category without both scores. "
    + methods_link("baseline-endpoint-and-who-counts-as-complete")
)

st.subheader("Not-on-track alerts")
flagged = queries.alerts(warehouse, viewer, cohort)
if flagged.is_empty():
    st.success("No alerts in this cohort.")
else:
    st.dataframe(for_screen(flagged, viewer.min_cell, missing="—"), hide_index=True)
st.caption(
    f"On ECR-R anxiety, whatever measure is chosen: reliable deterioration from baseline, or a score above the "
    f"program's expected trajectory for the same intake by more than 1.645 prediction SDs. "
    f"{methods_link('not-on-track-alerts')}"
)
