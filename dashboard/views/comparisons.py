"""Comparisons: the 10-week change of each site, cohort or modality, with its interval, counts and the
intent-to-treat estimate, and the share of its completers in each Jacobson–Truax category."""

import polars as pl
import streamlit as st

from dashboard import charts, queries, scope
from dashboard.glossary import for_download, for_screen
from dashboard.program_report import exported
from dashboard.session import (
    category_note,
    current_filters,
    download_link,
    page_header,
    publication_rule,
    show_chart,
    suppression_note,
    with_group_names,
)
from transforms.outcomes import HEADLINE

warehouse, viewer = page_header("Comparisons")
filters = current_filters()

st.subheader(f"10-week change in {filters.instrument} {filters.subscale}")
grouping = st.radio("Compare", ["site", "cohort", "modality"], horizontal=True)
groups = scope.group_outcomes(warehouse, viewer, filters.instrument, filters.subscale).filter(
    pl.col("grouping") == grouping
)
if grouping == "site" and filters.sites:
    groups = groups.filter(pl.col("group_id").is_in(list(filters.sites)))
if grouping == "modality" and filters.modalities:
    groups = groups.filter(pl.col("group_id").is_in(list(filters.modalities)))
if grouping == "cohort" and (filters.sites or filters.modalities):
    groups = groups.filter(pl.col("group_id").is_in(queries.cohorts_matching(warehouse, filters)))
groups = with_group_names(groups)
show_chart(
    charts.forest_plot(
        groups,
        "group_id",
        "mean_change",
        "mean_change_ci_low",
        "mean_change_ci_high",
        f"Mean 10-week change by {grouping} (completers, 95% CI)",
        f"change in {filters.instrument} {filters.subscale}",
    )
)
table = groups.select(
    "group_id",
    "n_enrolled",
    "n_complete",
    "mean_change",
    "mean_change_ci_low",
    "mean_change_ci_high",
    "hedges_g",
    *(["itt_change", "itt_ci_low", "itt_ci_high"] if (filters.instrument, filters.subscale) == HEADLINE else []),
    "small_counts",
)
st.dataframe(for_screen(table, viewer.min_cell), hide_index=True)
download_link(
    "Download this table (CSV)",
    for_download(exported(table, publication_rule()), viewer.min_cell).write_csv(),
    f"outcomes_by_{grouping}.csv",
    "text/csv",
)
st.caption(suppression_note(viewer.min_cell))

st.subheader(f"Clinically significant change by {grouping}")
show_chart(
    charts.category_distribution(
        groups,
        viewer.min_cell,
        f"{filters.instrument} {filters.subscale}: completers by Jacobson–Truax category",
    )
)
st.caption(category_note(viewer.min_cell))
