"""The funders' program report: its sections, small cells withheld, publication rounding when asked, no links out."""

import html
import re

import polars as pl
import pytest

from dashboard import queries, scope
from dashboard.charts import forest_plot
from dashboard.program_report import (
    SECTIONS,
    Report,
    exported,
    program_report_for_funders,
    render_program_report,
)
from dashboard.scope import Viewer, Warehouse
from transforms.disclosure import OUTCOME_COUNTS

ECR = {"instrument": "ECR-R", "subscale": "anxiety"}
HEADLINE = {
    **ECR,
    "grouping": "program",
    "group_id": "all",
    "mean_baseline": 4.74,
    "mean_change": -0.35,
    "mean_change_ci_low": -0.44,
    "mean_change_ci_high": -0.26,
    "hedges_g": -0.34,
    "hedges_g_ci_low": -0.43,
    "hedges_g_ci_high": -0.25,
    "itt_change": -0.34,
    "itt_ci_low": -0.42,
    "itt_ci_high": -0.26,
    "n_enrolled": 303,
    "n_complete": 201,
    "n_no_baseline": 0,
    "n_not_yet_due": 81,
    "n_no_endpoint": 21,
    "n_improved": 76,
    "n_unchanged": 109,
    "n_deteriorated": 16,
    "n_recovered": 6,
    "n_harmed": 0,
    "small_counts": [],
    "unclassified_counts": [],
}


def outcomes(headline: dict = HEADLINE) -> pl.DataFrame:
    site = dict.fromkeys(OUTCOME_COUNTS, 0) | ECR | {"grouping": "site", "unclassified_counts": []}
    rows = [
        headline,
        site
        | {"group_id": "north", "n_enrolled": 88, "n_complete": 61, "n_improved": 23, "mean_change": -0.3}
        | {"mean_change_ci_low": -0.5, "mean_change_ci_high": -0.1, "small_counts": []},
        site
        | {"group_id": "tiny", "n_enrolled": None, "n_complete": None, "n_improved": None}
        | {"small_counts": ["n_complete", "n_enrolled"]},
        # partner's enrolled are withheld so that tiny's cannot be worked out, not because they are few
        site | {"group_id": "partner", "n_enrolled": None, "n_complete": 40, "mean_change": -0.2, "small_counts": []},
    ]
    return pl.DataFrame(rows, infer_schema_length=None)


def talking_therapies() -> pl.DataFrame:
    row = {"grouping": "program", "group_id": "all", "n_with_both": 190, "n_cases": 167, "n_recovered": 24}
    row |= {"n_reliably_improved": 72, "n_reliably_recovered": 3, "recovery_rate": 24 / 167}
    row |= {"reliable_improvement_rate": 72 / 190, "reliable_recovery_rate": 3 / 167, "small_counts": []}
    return pl.DataFrame([row])


def report(headline: dict = HEADLINE, publication: bool = False) -> Report:
    return Report("2026-07-20", "a program lead", outcomes(headline), talking_therapies(), publication=publication)


def chart():
    frame = pl.DataFrame({"group_id": ["north"], "mean_change": [-0.3], "low": [-0.5], "high": [-0.1]})
    return forest_plot(frame, "group_id", "mean_change", "low", "high", "by site", "change")


def section(page: str, key: str) -> str:
    """One section's HTML."""
    return re.search(rf'<section id="{key}">(.*?)</section>', page, re.S).group(1)


def visible_text(page: str) -> str:
    """What a reader sees: the page without its scripts, styles and tags."""
    shown = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", shown))


def refers_elsewhere(page: str) -> bool:
    """Whether the page's markup or style (not plotly.js's code) refers to any other file or address."""
    markup = re.sub(r"(<script\b[^>]*>).*?</script>", r"\1</script>", page, flags=re.S)
    return bool(re.search(r"""\b(src|href|srcset|action)\s*=|url\(|@import""", markup))


def cells(page: str, row_name: str) -> list[str]:
    """The figures of the first table row named `row_name`."""
    row = re.search(rf"<tr><th scope=row>{re.escape(html.escape(row_name))}</th>(.*?)</tr>", page).group(1)
    return re.findall(r"<td class=n>(.*?)</td>", row)


def test_counts_are_shown_as_they_are_and_small_cells_withheld():
    page = render_program_report(report(), [chart()])
    assert cells(section(page, "flow"), "Completers") == ["201"]
    assert cells(section(page, "headline"), "Mean change") == ["-0.35", "-0.44 to -0.26"]
    assert cells(section(page, "categories"), "ECR-R anxiety")[:2] == ["76 (38%)", "6 (3%)"]
    assert cells(section(page, "comparisons"), "Site: tiny")[:2] == ["&lt;5", "&lt;5"]
    assert cells(section(page, "comparisons"), "Site: partner")[:3] == ["withheld", "40", "-0.20 (withheld)"]


def test_the_publication_rule_rounds_counts_and_computes_shares_from_them():
    page = render_program_report(report(publication=True), [chart()])
    assert cells(section(page, "flow"), "Enrolled") == ["305"]  # rounded to the nearest 5
    categories = cells(section(page, "categories"), "ECR-R anxiety")
    assert categories[:2] == ["75 (38%)", "*"]  # 75 / 200 from the rounded counts; 6 is shown as *, with no share
    assert cells(section(page, "comparisons"), "Site: north")[:2] == ["90", "60"]
    assert cells(section(page, "talking-therapies"), "Whole program")[-1] == "*"


def test_the_page_is_self_contained_and_prints_a_section_to_an_a4_page():
    page = render_program_report(report(), [chart(), chart()])
    assert not refers_elsewhere(page)
    assert not re.search(r"https?://", visible_text(page))
    assert page.count("Plotly.newPlot") == 2 and page.count("plotly.js v") == 1  # the library inlined once
    assert "@page { size: A4;" in page and "section ~ section { break-before: page; }" in page
    assert re.findall(r'<section id="([^"]+)">', page) == list(SECTIONS)


def test_a_share_nothing_was_classified_for_says_so():
    unclassified = HEADLINE | {
        "n_recovered": None,
        "n_harmed": None,
        "unclassified_counts": ["n_recovered", "n_harmed"],
    }
    page = render_program_report(report(unclassified), [chart()])
    categories = cells(section(page, "categories"), "ECR-R anxiety")
    assert categories[:2] == ["76 (38%)", "not classified"] and categories[4] == "not classified"


def test_downloaded_tables_round_their_counts_under_the_publication_rule():
    table = pl.DataFrame({"group_id": ["north", "tiny"], "n_enrolled": [88, None], "n_complete": [61, 6]})
    assert exported(table, publication=False).equals(table)
    assert exported(table, publication=True).rows() == [("north", "90", "60"), ("tiny", None, "*")]


def shown(row: dict, column: str) -> str:
    """A count of a release's row as the report must show it."""
    if row[column] is None:
        return "&lt;5" if column in row["small_counts"] else "withheld"
    return f"{row[column]:,}"


@pytest.mark.parametrize("viewer", [Viewer("program_lead"), Viewer("clinician", ("north",))], ids=["lead", "north"])
def test_the_funders_report_shows_the_preparers_release(sample_warehouse, viewer):
    warehouse = Warehouse.at(sample_warehouse)
    page = program_report_for_funders(warehouse, viewer, publication=False, site_names={"north": "North clinic"})
    text = visible_text(page)
    for number, heading in enumerate(SECTIONS.values(), start=1):
        assert f"{number}. {heading}" in text
    assert "METHODS.md" not in text and not re.search(r"\bNone\b|\bnan\b|https?://", text)
    assert not refers_elsewhere(page)

    headline = scope.program_headline(warehouse, viewer)
    figures = {row: cells(section(page, "headline"), row) for row in ("Mean change", "Effect size (Hedges' g)")}
    figures["ITT"] = cells(section(page, "headline"), "Change, everyone enrolled (ITT)")
    for name, (estimate, low, high) in {
        "Mean change": ("mean_change", "mean_change_ci_low", "mean_change_ci_high"),
        "Effect size (Hedges' g)": ("hedges_g", "hedges_g_ci_low", "hedges_g_ci_high"),
        "ITT": ("itt_change", "itt_ci_low", "itt_ci_high"),
    }.items():
        assert figures[name] == [f"{headline[estimate]:+.2f}", f"{headline[low]:+.2f} to {headline[high]:+.2f}"]
    assert cells(section(page, "flow"), "Completers") == [shown(headline, "n_complete")]

    for instrument, subscale in queries.filter_choices(warehouse)["measures"]:
        name = instrument if subscale == "total" else f"{instrument} {subscale}"
        rows = scope.group_outcomes(warehouse, viewer, instrument, subscale)
        program = rows.filter(pl.col("grouping") == "program").row(0, named=True)
        assert cells(section(page, "measures"), name)[1] == shown(program, "n_complete")

    names = {"north": "North clinic", "cbt": "CBT", "group": "Group therapy", "ipt": "Interpersonal therapy"}
    release = scope.talking_therapies(warehouse, viewer).filter(pl.col("grouping") != "program")
    assert any(row["small_counts"] for row in release.iter_rows(named=True))  # so that "<5" is tested
    for row in release.iter_rows(named=True):
        group = f"{row['grouping'].title()}: {names.get(row['group_id'], row['group_id'])}"
        figures = [cell.split(" (")[0] for cell in cells(section(page, "talking-therapies"), group)]
        expected = ["n_with_both", "n_cases", "n_recovered", "n_reliably_improved", "n_reliably_recovered"]
        assert figures == [shown(row, column) for column in expected], group
    caution = "whose figures show their own sites in full"
    assert (caution in text) == (viewer.role == "clinician")
