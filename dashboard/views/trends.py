"""Trends: the 10-week change by intake month, and each cohort's mean score week by week."""

import streamlit as st

from dashboard import charts, queries
from dashboard.session import current_filters, methods_link, page_header, show_chart

warehouse, viewer = page_header("Trends")
filters = current_filters()

st.subheader("Trend across intake cohorts")
trend = queries.intake_trend(warehouse, viewer, filters)
if trend.height:
    show_chart(
        charts.forest_plot(
            trend.sort("intake_month", descending=True),
            "intake_month",
            "mean_change",
            "ci_low",
            "ci_high",
            f"Mean 10-week change by intake month ({filters.instrument} {filters.subscale}, completers, 95% CI)",
            "change",
        )
    )
st.caption(
    "Each cohort counts, whole, in the month its first participant enrolled. Cohorts whose figures are withheld "
    "(Comparisons) are left out, and so are cohorts only partly within the chosen sites or modalities. "
    + methods_link("group-results-program-site-cohort-modality")
)

st.subheader("Trajectories by cohort")
trajectories = queries.cohort_trajectories(warehouse, viewer, filters)
if trajectories.is_empty():
    st.info("No cohort has enough participants to show.")
else:
    show_chart(
        charts.cohort_trajectories(trajectories, f"Mean {filters.instrument} {filters.subscale} by week and cohort")
    )
st.caption(
    f"Each row is a cohort and each column a week since enrolment, coloured by the cohort's mean score that week; "
    f"a week with fewer than {viewer.min_cell} people is withheld (blank). A cohort is shown only when all of its "
    f"people are within the chosen sites and modalities; beyond your own sites, only whole and only when its figures "
    f"on Comparisons are all shown. {methods_link('small-numbers-and-privacy')}"
)
