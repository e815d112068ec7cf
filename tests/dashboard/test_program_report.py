"""The funders' program report: self-contained, small cells withheld, publication rounding when asked."""

import re

import polars as pl

from dashboard import queries
from dashboard.charts import cohort_trajectories
from dashboard.program_report import exported, program_report_for_funders, render_program_report
from dashboard.queries import Filters, Viewer, Warehouse
from transforms.disclosure import OUTCOME_COUNTS

HEADLINE = {
    "mean_change": -0.35,
    "mean_change_ci_low": -0.44,
    "mean_change_ci_high": -0.26,
    "hedges_g": -0.34,
    "n_enrolled": 303,
    "n_complete": 201,
    "n_improved": 76,
    "n_recovered": 6,
    "n_deteriorated": 16,
}


def groups() -> pl.DataFrame:
    base = dict.fromkeys(OUTCOME_COUNTS, 0)
    return pl.DataFrame(
        [
            {
                **base,
                "grouping": "site",
                "group_id": "north",
                "n_enrolled": 88,
                "n_complete": 61,
                "n_improved": 23,
                "mean_change": -0.3,
                "mean_change_ci_low": -0.5,
                "mean_change_ci_high": -0.1,
            },
            {
                **base,
                "grouping": "site",
                "group_id": "tiny",
                "n_enrolled": None,
                "n_complete": None,
                "small_counts": ["n_complete", "n_enrolled"],
                "n_improved": None,
                "mean_change": None,
                "mean_change_ci_low": None,
                "mean_change_ci_high": None,
            },
            {
                **base,
                "grouping": "site",
                "group_id": "partner",
                "n_enrolled": None,  # withheld so that tiny's cannot be worked out, not because it is small
                "n_complete": 40,
                "mean_change": -0.2,
                "mean_change_ci_low": -0.4,
                "mean_change_ci_high": 0.0,
                "small_counts": [],
            },
        ]
    )


def chart():
    return cohort_trajectories(pl.DataFrame({"cohort_id": ["a"], "week": [0], "n": [9], "mean_score": [4.8]}))


def test_counts_are_shown_as_they_are_and_small_cells_withheld():
    page = render_program_report("2026-07-20", HEADLINE, groups(), [chart()], 5, publication=False)
    assert "201 completers of\n303 enrolled" in page and "Reliably improved:\n38%" in page
    assert "<td>tiny</td><td class=n>&lt;5</td>" in page and "withheld" in page
    assert "<td>partner</td><td class=n>withheld</td><td class=n>40</td>" in page


def test_the_publication_rule_rounds_counts_and_computes_shares_from_them():
    page = render_program_report("2026-07-20", HEADLINE, groups(), [chart()], 5, publication=True)
    assert "200 completers of\n305 enrolled" in page  # rounded to the nearest 5
    assert "Reliably improved:\n38%" in page  # 75 / 200 from the rounded counts
    assert "recovered:\nwithheld" in page  # 6 is shown as *, so no share
    assert "<td class=n>90</td><td class=n>60</td>" in page


def test_the_page_is_self_contained():
    page = render_program_report("2026-07-20", HEADLINE, groups(), [chart(), chart()], 5, publication=False)
    assert not re.search(r"""<script[^>]+src=|<link[^>]+href=["']https?://""", page)
    assert page.count("Plotly.newPlot") == 2 and page.count("plotly.js v") == 1  # the library inlined once


def test_downloaded_tables_round_their_counts_under_the_publication_rule():
    table = pl.DataFrame({"group_id": ["north", "tiny"], "n_enrolled": [88, None], "n_complete": [61, 6]})
    assert exported(table, publication=False).equals(table)
    assert exported(table, publication=True).rows() == [("north", "90", "60"), ("tiny", None, "*")]


def test_the_funders_report_shows_what_a_program_lead_sees_whoever_downloads_it(sample_warehouse):
    warehouse = Warehouse.at(sample_warehouse)
    lead = Viewer("program_lead")
    page = program_report_for_funders(warehouse, lead, Filters(), publication=False)
    headline = queries.program_headline(warehouse, lead)
    assert f"{headline['n_complete']} completers of\n{headline['n_enrolled']} enrolled" in page
    sites = queries.group_outcomes(warehouse, lead, *queries.HEADLINE).filter(pl.col("grouping") == "site")
    for site in sites.iter_rows(named=True):
        enrolled = "withheld" if site["n_enrolled"] is None else site["n_enrolled"]  # none of them is small
        assert f"<td>site</td><td>{site['group_id']}</td><td class=n>{enrolled}</td>" in page


def test_a_share_nothing_was_classified_for_says_so():
    unclassified = HEADLINE | {"n_recovered": None, "unclassified_counts": ["n_recovered", "n_harmed"]}
    page = render_program_report("2026-07-20", unclassified, groups(), [chart()], 5, publication=False)
    assert "recovered:\nnot classified" in page and "Reliably improved:\n38%" in page
