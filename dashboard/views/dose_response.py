"""Dose–response: the 10-week change in the chosen measure by tertile of practice minutes, and Spearman's rho."""

import polars as pl
import streamlit as st

from dashboard import charts, queries
from dashboard.glossary import WORDS
from dashboard.session import current_filters, methods_link, page_header, show_chart

warehouse, viewer = page_header("Dose–response")
filters = current_filters()
measure = f"{filters.instrument} {filters.subscale}"

dose = queries.dose_response(warehouse, viewer, (filters.instrument, filters.subscale))
if dose.height:
    tertiles = dose.filter(pl.col("practice_group") != "all").with_columns(pl.col("practice_group").replace(WORDS))
    show_chart(
        charts.forest_plot(
            tertiles,
            "practice_group",
            "mean_change",
            "mean_change_ci_low",
            "mean_change_ci_high",
            f"10-week change in {measure} by tertile of practice minutes",
            "change",
        )
    )
    overall = dose.filter(pl.col("practice_group") == "all")
    if overall.height and overall["spearman_rho"][0] is not None:
        row = overall.row(0, named=True)
        st.metric(
            "Spearman's rho, minutes against change",
            f"{row['spearman_rho']:+.2f}",
            help=f"95% CI {row['spearman_rho_ci_low']:+.2f} to {row['spearman_rho_ci_high']:+.2f}, n = {row['n']}",
        )
else:
    st.info(f"Too few completers of {measure} to show, or withheld (fewer than {viewer.min_cell} in a tertile).")
st.caption(
    f"An association among completers, not proof that practice causes change. The tertiles are shown together or "
    f"not at all, each with at least {viewer.min_cell} people (and none or at least {viewer.min_cell} beyond your "
    f"own sites). It follows the chosen measure; it is always the whole program, whatever sites or modalities are "
    f"chosen, since tertiles of a part beside those of the whole could give a few people away. "
    f"{methods_link('exercises-between-sessions')}"
)
