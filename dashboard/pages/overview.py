"""Program overview: the headline 10-week change in attachment anxiety, and trajectories by cohort."""

import streamlit as st

from dashboard import charts, queries
from dashboard.session import current_viewer, current_warehouse, data_as_of

warehouse, viewer = current_warehouse(), current_viewer()
st.title("Program overview")
data_as_of(warehouse)

headline = queries.program_headline(warehouse, viewer)
st.subheader("10-week change in ECR-R attachment anxiety")
if not headline:
    st.warning("No ECR-R anxiety outcomes yet.")
elif headline["is_suppressed"]:
    st.warning(f"Fewer than {viewer.min_cell} participants have completed: figures withheld.")
else:
    change, low, high = headline["mean_change"], headline["mean_change_ci_low"], headline["mean_change_ci_high"]
    left, middle, right = st.columns(3)
    left.metric(
        "Mean change (completers)",
        f"{change:+.2f}",
        help="Endpoint minus baseline, 1–7 scale; negative is a fall in anxiety.",
    )
    middle.metric("95% confidence interval", f"{low:+.2f} to {high:+.2f}")
    right.metric("Completers", f"{headline['n_complete']} of {headline['n_enrolled']}")
    if headline["hedges_g"] is not None:
        st.caption(
            f"Hedges' g {headline['hedges_g']:+.2f} (95% CI {headline['hedges_g_ci_low']:+.2f} to "
            f"{headline['hedges_g_ci_high']:+.2f}). Completers have a baseline score near enrolment and an "
            "endpoint score near week 10; the interval is t-based. "
            "[How this is computed](/methods#group-results-program-site-cohort-modality)"
        )

st.subheader("Trajectories by cohort")
trajectories = queries.cohort_trajectories(warehouse, viewer)
if trajectories.is_empty():
    st.info("No cohort has enough participants to show.")
else:
    st.plotly_chart(charts.cohort_trajectories(trajectories), config={"displaylogo": False})
    st.caption(f"Mean score per week since enrolment; weeks with fewer than {viewer.min_cell} people are withheld.")
