"""Program overview: the headline change in attachment anxiety, rates, denominators and comparisons."""

import polars as pl
import streamlit as st

from dashboard import charts, queries
from dashboard.program_report import exported, program_report_for_funders
from dashboard.session import current_filters, methods_link, page_header, publication_rule

warehouse, viewer = page_header("Program overview")
filters = current_filters()
WITHHELD = "withheld"


def rate(row: dict, count: str) -> str:
    if count in row["unclassified_counts"]:
        return "not classified"
    if row.get(count) is None or not row.get("n_complete"):
        return WITHHELD
    return f"{row[count] / row['n_complete']:.0%}"


st.subheader("10-week change in ECR-R attachment anxiety")
headline = queries.program_headline(warehouse, viewer)
if not headline:
    st.warning("No ECR-R anxiety outcomes yet.")
elif headline["mean_change"] is None:
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
            f"endpoint score near week 10; the interval is t-based. "
            f"{methods_link('group-results-program-site-cohort-modality')}"
        )
    improved, recovered, deteriorated = st.columns(3)
    improved.metric("Reliably improved", rate(headline, "n_improved"))
    recovered.metric("Recovered", rate(headline, "n_recovered"))
    deteriorated.metric("Reliably deteriorated", rate(headline, "n_deteriorated"))
    st.caption(f"Shares of completers (Jacobson–Truax). {methods_link('reliable-change-jacobson-truax-1991')}")

    st.subheader("Who is counted")
    stages = {
        "enrolled": "n_enrolled",
        "without a baseline": "n_no_baseline",
        "not yet due": "n_not_yet_due",
        "no endpoint": "n_no_endpoint",
        "complete": "n_complete",
    }
    counted = [
        str(headline[c])
        if headline[c] is not None
        else (f"<{viewer.min_cell}" if c in headline["small_counts"] else "withheld")
        for c in stages.values()
    ]
    st.dataframe(pl.DataFrame({"stage": list(stages), "participants": counted}), hide_index=True)
    st.caption(
        f"Every enrolled participant is in exactly one status. "
        f"{methods_link('baseline-endpoint-and-who-counts-as-complete')}"
    )

if headline.get("itt_change") is not None:
    st.subheader("Intent-to-treat estimate")
    st.metric(
        "10-week change, everyone enrolled (mixed model)",
        f"{headline['itt_change']:+.2f}",
        help=f"95% CI {headline['itt_ci_low']:+.2f} to {headline['itt_ci_high']:+.2f}; {headline['itt_model']}.",
    )
    st.caption(
        "From every score of everyone enrolled, not only completers. "
        + methods_link("group-results-program-site-cohort-modality")
    )

st.subheader(f"Comparisons: {filters.instrument} {filters.subscale}")
grouping = st.radio("Compare", ["site", "cohort", "modality"], horizontal=True)
groups = queries.group_outcomes(warehouse, viewer, filters.instrument, filters.subscale).filter(
    pl.col("grouping") == grouping
)
if grouping == "site" and filters.sites:
    groups = groups.filter(pl.col("group_id").is_in(list(filters.sites)))
if grouping == "modality" and filters.modalities:
    groups = groups.filter(pl.col("group_id").is_in(list(filters.modalities)))
if grouping == "cohort" and (filters.sites or filters.modalities):
    groups = groups.filter(pl.col("group_id").is_in(queries.cohorts_matching(warehouse, filters)))
st.plotly_chart(
    charts.forest_plot(
        groups,
        "group_id",
        "mean_change",
        "mean_change_ci_low",
        "mean_change_ci_high",
        f"Mean 10-week change by {grouping} (completers, 95% CI)",
        "change in ECR-R anxiety",
    ),
    config={"displaylogo": False},
)
table = groups.select(
    "group_id",
    "n_enrolled",
    "n_complete",
    "mean_change",
    "mean_change_ci_low",
    "mean_change_ci_high",
    "hedges_g",
    *(
        ["itt_change", "itt_ci_low", "itt_ci_high"]
        if (filters.instrument, filters.subscale) == queries.HEADLINE
        else []
    ),
    "is_suppressed",
)
st.dataframe(table, hide_index=True)
st.download_button(
    "Download this table (CSV)",
    exported(table, publication_rule()).write_csv(),
    file_name=f"outcomes_by_{grouping}.csv",
    mime="text/csv",
)
st.caption(
    f"Groups with fewer than {viewer.min_cell} completers are withheld outside your own scope, with "
    f"another where needed so that none can be worked out from a total. {methods_link('small-numbers-and-privacy')}"
)

st.subheader("NHS Talking Therapies indicators (PHQ-9 with GAD-7)")
nhs = queries.talking_therapies(warehouse, viewer)
st.dataframe(nhs, hide_index=True)
st.caption(
    f"Counts of fewer than {viewer.min_cell} people outside your own scope, with another where needed so that none "
    f"can be worked out from a total, are withheld (blank), and so are the rates they make. "
    + methods_link("group-results-program-site-cohort-modality")
)

st.subheader("Trend across intake cohorts")
trend = queries.intake_trend(warehouse, viewer, filters)
if trend.height:
    st.plotly_chart(
        charts.forest_plot(
            trend.sort("intake_month", descending=True),
            "intake_month",
            "mean_change",
            "ci_low",
            "ci_high",
            f"Mean 10-week change by month of enrolment ({filters.instrument} {filters.subscale}, completers, 95% CI)",
            "change",
        ),
        config={"displaylogo": False},
    )
st.caption(
    f"Months with fewer than {viewer.min_cell} completers are withheld. "
    + methods_link("group-results-program-site-cohort-modality")
)

st.subheader("Trajectories by cohort")
trajectories = queries.cohort_trajectories(warehouse, viewer, filters)
trajectory_chart = charts.cohort_trajectories(
    trajectories, f"Mean {filters.instrument} {filters.subscale} by week and cohort"
)
if trajectories.is_empty():
    st.info("No cohort has enough participants to show.")
else:
    st.plotly_chart(trajectory_chart, config={"displaylogo": False})
    st.caption(f"Mean score per week since enrolment; weeks with fewer than {viewer.min_cell} people are withheld.")

st.subheader("Program report")
st.download_button(
    "Download the program report (HTML)",
    lambda: program_report_for_funders(warehouse, viewer.min_cell, filters, publication_rule()),
    file_name="program_report.html",
    mime="text/html",
    on_click="ignore",
)
st.caption("One self-contained page with the charts, for funders: small cells withheld as for a program lead.")
