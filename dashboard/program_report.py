"""The one-click program report for funders: one self-contained HTML page with its charts.

Built from the same scoped, suppressed frames the pages show. With `privacy.publication` set, counts follow
NHS Digital's rule for sub-national figures (1–7 shown as "*", others rounded to the nearest 5) and the
shares are computed from the rounded counts.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl

from dashboard import charts, queries
from dashboard.queries import Filters, Viewer, Warehouse
from transforms.disclosure import publication_count


def _count(row: dict, column: str, publication: bool, min_cell: int) -> str:
    """A count as shown: "<5" when withheld for being small, "withheld" when withheld to protect another."""
    n = row.get(column)
    if n is None:
        return f"&lt;{min_cell}" if column in (row.get("small_counts") or []) else "withheld"
    return html.escape(publication_count(n)) if publication else str(n)


def share(row: dict, column: str, publication: bool = False) -> str:
    """A category's share of a row's completers; beside withheld counts, the release's reliably improved rate,
    which is to the nearest 5% ("about 35%")."""
    part, whole = row.get(column), row.get("n_complete")
    if column in (row.get("unclassified_counts") or []):
        return "not classified"
    if part is None or not whole:
        rate = row.get("improved_rate") if column == "n_improved" else None
        return "withheld" if rate is None else f"about {rate:.0%}"
    if publication:
        rounded_part, rounded_whole = publication_count(part), publication_count(whole)
        if "*" in (rounded_part, rounded_whole) or rounded_whole == "0":
            return "withheld"
        return f"{int(rounded_part) / int(rounded_whole):.0%}"
    return f"{part / whole:.0%}"


def _number(value: float | None, digits: int = 2) -> str:
    return "withheld" if value is None else f"{value:+.{digits}f}"


def render_program_report(
    as_of: str, headline: dict, groups: pl.DataFrame, figures: list[go.Figure], min_cell: int, publication: bool
) -> str:
    """The report page. `headline` is the program row and `groups` the site and modality rows of
    marts.cohort_outcomes for the headline measure, already suppressed for the viewer."""
    rows = "".join(
        f"<tr><td>{html.escape(r['grouping'])}</td><td>{html.escape(str(r['group_id']))}</td>"
        f"<td class=n>{_count(r, 'n_enrolled', publication, min_cell)}</td>"
        f"<td class=n>{_count(r, 'n_complete', publication, min_cell)}</td>"
        f"<td class=n>{_number(r['mean_change'])}</td>"
        f"<td class=n>{_number(r['mean_change_ci_low'])} to {_number(r['mean_change_ci_high'])}</td>"
        f"<td class=n>{share(r, 'n_improved', publication)}</td></tr>"
        for r in groups.filter(pl.col("grouping").is_in(["site", "modality"])).to_dicts()
    )
    charts = "".join(
        figure.to_html(full_html=False, include_plotlyjs=index == 0, config={"displaylogo": False})
        for index, figure in enumerate(figures)
    )
    rule = (
        "Counts follow NHS Digital's publication rule: 1–7 shown as *, others rounded to the nearest 5; "
        "shares are computed from the rounded counts."
        if publication
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>securebase program report, data as of {html.escape(as_of)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1a1a1a; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ border-bottom: 1px solid #ddd; padding: .35rem .5rem; }}
th {{ background: #f3f3f3; text-align: left; }} td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.note {{ color: #555; font-size: .9rem; }}
</style></head><body>
<h1>Program outcomes</h1>
<p class="note">Data as of {html.escape(as_of)}. Figures about fewer than {min_cell} people are withheld. {rule}</p>
<h2>10-week change in ECR-R attachment anxiety</h2>
<p>Mean change among completers {_number(headline.get("mean_change"))} (95% CI
{_number(headline.get("mean_change_ci_low"))} to {_number(headline.get("mean_change_ci_high"))}), Hedges' g
{_number(headline.get("hedges_g"))}; {_count(headline, "n_complete", publication, min_cell)} completers of
{_count(headline, "n_enrolled", publication, min_cell)} enrolled. Reliably improved:
{share(headline, "n_improved", publication)}; recovered:
{share(headline, "n_recovered", publication)}; reliably deteriorated:
{share(headline, "n_deteriorated", publication)}.</p>
<h2>By site and modality</h2>
<table><thead><tr><th>grouping</th><th>group</th><th>enrolled</th><th>complete</th><th>mean change</th>
<th>95% CI</th><th>reliably improved</th></tr></thead><tbody>{rows}</tbody></table>
{charts}
<p class="note">Methods: reliable change and recovery by Jacobson &amp; Truax (1991); standardised mean change by
Morris (2008); see METHODS.md for every definition.</p>
</body></html>
"""


def program_report_for_funders(warehouse: Warehouse, viewer: Viewer, filters: Filters, publication: bool) -> str:
    """The report of the figures of the viewer's own release (`queries.release`): nothing in it differs from what
    their pages show, so the two cannot be set against each other."""
    groups = queries.group_outcomes(warehouse, viewer, *queries.HEADLINE)
    by_site = charts.forest_plot(
        groups.filter(pl.col("grouping") == "site"),
        "group_id",
        "mean_change",
        "mean_change_ci_low",
        "mean_change_ci_high",
        "Mean change by site (95% CI)",
        "change",
    )
    trajectories = charts.cohort_trajectories(
        queries.cohort_trajectories(warehouse, viewer, filters),
        f"Mean {filters.instrument} {filters.subscale} by week and cohort",
    )
    as_of = str(queries.freshness(warehouse).get("as_of_date"))
    headline = queries.program_headline(warehouse, viewer)
    return render_program_report(as_of, headline, groups, [by_site, trajectories], viewer.min_cell, publication)


def exported(table: pl.DataFrame, publication: bool) -> pl.DataFrame:
    """A table as downloaded: with `privacy.publication`, its counts follow NHS Digital's rule, as in the report."""
    if not publication:
        return table
    counts = [c for c in table.columns if c.startswith("n_")]
    return table.with_columns(pl.Series(c, [publication_count(n) for n in table[c]], pl.String) for c in counts)
