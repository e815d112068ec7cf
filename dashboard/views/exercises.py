"""Exercises between sessions: practice by week and type, and the distress drop per exercise."""

import polars as pl
import streamlit as st

from dashboard import charts, queries
from dashboard.glossary import WORDS, for_screen
from dashboard.session import current_filters, methods_link, page_header, show_chart

warehouse, viewer = page_header("Exercises")

practice = queries.practice_by_week(warehouse, viewer, current_filters())
if practice.height:
    show_chart(charts.practice_by_week(practice))
st.caption(
    f"Logged practices in weeks 0–10 since enrolment, of the chosen sites and modalities (the measure filter does not "
    f"apply: practice is not a questionnaire). {methods_link('exercises-between-sessions')}"
)

effects = queries.exercise_effects(warehouse, viewer)
if effects.height:
    show_chart(
        charts.forest_plot(
            effects.with_columns(pl.col("exercise").replace(WORDS)),
            "exercise",
            "mean_distress_drop",
            "mean_distress_drop_ci_low",
            "mean_distress_drop_ci_high",
            "Distress drop per practice (SUDS, 95% CI)",
            "mean drop in distress, before − after",
        )
    )
    st.dataframe(for_screen(effects, viewer.min_cell), hide_index=True)
st.caption(
    f"Distress (SUDS 0–10) before minus after each practice where both were logged. An exercise practised by fewer "
    f"than {viewer.min_cell} people, or by 1 to {viewer.min_cell - 1} beyond your own sites, is withheld. "
    f"The distress drop is always the whole program's: per exercise of a chosen part, beside the whole, it could "
    f"give a few people away. Dose–response has a page of its own. " + methods_link("exercises-between-sessions")
)
