"""Exercises between sessions: practice by week and type, distress drop per exercise, dose–response."""

import polars as pl
import streamlit as st

from dashboard import charts, queries
from dashboard.session import current_filters, methods_link, page_header

warehouse, viewer = page_header("Exercises")

practice = queries.practice_by_week(warehouse, viewer, current_filters())
if practice.height:
    st.plotly_chart(charts.practice_by_week(practice), config={"displaylogo": False})
st.caption(f"Logged practices in weeks 0–10 since enrolment. {methods_link('exercises-between-sessions')}")

effects = queries.exercise_effects(warehouse, viewer)
if effects.height:
    st.plotly_chart(
        charts.forest_plot(
            effects,
            "exercise",
            "mean_distress_drop",
            "mean_distress_drop_ci_low",
            "mean_distress_drop_ci_high",
            "Distress drop per practice (SUDS, 95% CI)",
            "mean drop in distress, before − after",
        ),
        config={"displaylogo": False},
    )
    st.dataframe(effects, hide_index=True)

st.subheader("Dose–response")
dose = queries.dose_response(warehouse, viewer)
if dose.height:
    tertiles = dose.filter(pl.col("practice_group") != "all")
    st.plotly_chart(
        charts.forest_plot(
            tertiles,
            "practice_group",
            "mean_change",
            "mean_change_ci_low",
            "mean_change_ci_high",
            "10-week change in ECR-R anxiety by tertile of practice minutes",
            "change",
        ),
        config={"displaylogo": False},
    )
    overall = dose.filter(pl.col("practice_group") == "all")
    if overall.height and overall["spearman_rho"][0] is not None:
        row = overall.row(0, named=True)
        st.metric(
            "Spearman's rho, minutes against change",
            f"{row['spearman_rho']:+.2f}",
            help=f"95% CI {row['spearman_rho_ci_low']:+.2f} to {row['spearman_rho_ci_high']:+.2f}, n = {row['n']}",
        )
st.caption(
    f"An association among completers, not proof that practice causes change. "
    f"{methods_link('exercises-between-sessions')}"
)
