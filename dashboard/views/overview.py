"""Program overview: the whole program's change in the chosen measure (attachment anxiety unless another is chosen),
its rates and denominators, its Jacobson–Truax categories by site, the intent-to-treat estimate and the NHS Talking
Therapies indicators. Groups are compared on the Comparisons page, and followed over time on the Trends page."""

import polars as pl
import streamlit as st

from dashboard import charts, queries, scope
from dashboard.glossary import for_screen
from dashboard.program_report import program_report_for_funders, share
from dashboard.session import (
    category_note,
    current_filters,
    download_link,
    methods_link,
    page_header,
    publication_rule,
    show_chart,
    site_names,
    suppression_note,
    with_group_names,
)
from transforms.outcomes import HEADLINE

warehouse, viewer = page_header("Program overview")
filters = current_filters()
measure = (filters.instrument, filters.subscale)
name = f"{filters.instrument} {filters.subscale}"
st.caption(
    "The whole program, on the measure chosen in the sidebar. The site and modality filters apply where the program "
    "is taken apart: Comparisons, Trends and Exercises."
)

st.subheader(f"10-week change in {'ECR-R attachment anxiety' if measure == HEADLINE else name}")
headline = scope.program_headline(warehouse, viewer, measure)
parameters = queries.measure_parameters(warehouse, *measure)
low_score, high_score = parameters["score_range"] or (float("nan"), float("nan"))
better = "a rise" if parameters["direction"] == "higher_is_better" else "a fall"
if not headline:
    st.warning(f"No {name} outcomes yet.")
elif headline["mean_change"] is None:
    st.warning(f"Fewer than {viewer.min_cell} participants have completed: figures withheld.")
else:
    change, low, high = headline["mean_change"], headline["mean_change_ci_low"], headline["mean_change_ci_high"]
    left, middle, right = st.columns(3)
    left.metric(
        "Mean change (completers)",
        f"{change:+.2f}",
        help=f"Endpoint minus baseline, scored {low_score:g} to {high_score:g}; {better} is an improvement.",
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
    improved.metric("Reliably improved", share(headline, "n_improved"))
    recovered.metric("Recovered", share(headline, "n_recovered"))
    deteriorated.metric("Reliably deteriorated", share(headline, "n_deteriorated"))
    st.caption(f"Shares of completers (Jacobson–Truax). {methods_link('reliable-change-jacobson-truax-1991')}")
    program_and_sites = (
        with_group_names(scope.group_outcomes(warehouse, viewer, *measure))
        .filter(pl.col("grouping").is_in(["program", "site"]))
        .sort(pl.col("grouping") != "program", "group_id")
    )
    title = f"{name}: completers by Jacobson–Truax category"
    show_chart(charts.category_distribution(program_and_sites, viewer.min_cell, title))
    st.caption(category_note(viewer.min_cell))

    st.subheader("Who is counted")
    stages = {
        "Enrolled": "n_enrolled",
        "Without a baseline": "n_no_baseline",
        "Not yet due": "n_not_yet_due",
        "No endpoint": "n_no_endpoint",
        "Complete": "n_complete",
    }
    flow = pl.DataFrame(
        {
            "stage": list(stages),
            "participants": [headline[c] for c in stages.values()],
            "small_counts": [["participants"] if c in headline["small_counts"] else [] for c in stages.values()],
        }
    )
    st.dataframe(for_screen(flow, viewer.min_cell), hide_index=True)
    st.caption(
        f"Every enrolled participant is in exactly one status. "
        f"{methods_link('baseline-endpoint-and-who-counts-as-complete')}"
    )

if measure != HEADLINE:
    st.caption("The intent-to-treat estimate is computed for ECR-R anxiety, the headline measure, only.")
elif headline.get("itt_change") is not None:
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

st.subheader("NHS Talking Therapies indicators (PHQ-9 with GAD-7)")
nhs = with_group_names(scope.talking_therapies(warehouse, viewer))
st.dataframe(for_screen(nhs.drop("is_suppressed"), viewer.min_cell), hide_index=True)
st.caption(suppression_note(viewer.min_cell))

st.subheader("Program report")
# Built on request only (a few seconds, and megabytes with its charts), then offered inside the page.
if st.button("Prepare the program report (HTML)"):
    download_link(
        "Download the program report (HTML)",
        program_report_for_funders(warehouse, viewer, publication_rule(), site_names()),
        "program_report.html",
        "text/html",
    )
st.caption(
    "One self-contained page with the charts, for funders, that prints on A4 a section to a page: who was counted, "
    "the headline with its intent-to-treat estimate, every measure, reliable change and recovery, the Talking "
    "Therapies indicators, sites and modalities, and the methods in plain words. The figures of your own release, "
    "as on these pages."
)
