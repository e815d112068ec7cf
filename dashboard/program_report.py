"""The program report for funders: one self-contained HTML page that prints on A4, a section to a page.

Every figure is selected from the downloader's own release (`scope.release`), so nothing in it differs from what
their pages show. With `privacy.publication` set, counts follow NHS Digital's rule for sub-national figures (1–7
shown as "*", others rounded to the nearest 5) and the shares are computed from the rounded counts. The methods are
written out in the page: a funder has no copy of METHODS.md.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import plotly.graph_objects as go
import polars as pl

from dashboard import charts, queries, scope
from dashboard.glossary import label, reads, words
from dashboard.scope import Viewer, Warehouse
from transforms.disclosure import publication_count
from transforms.outcomes import HEADLINE
from transforms.windows import Windows

SECTIONS = {
    "flow": "Who was counted",
    "headline": "The headline: 10-week change in ECR-R attachment anxiety",
    "measures": "Every measure in use",
    "categories": "Reliable change and recovery",
    "talking-therapies": "NHS Talking Therapies indicators",
    "comparisons": "Sites and modalities compared",
    "methods": "How the figures are computed",
}
FLOW = ("n_enrolled", "n_no_baseline", "n_not_yet_due", "n_no_endpoint", "n_complete")
# The reliable-change categories add up to the completers; recovered and harmed are parts of two of them.
CATEGORIES = ("n_improved", "n_recovered", "n_unchanged", "n_deteriorated", "n_harmed")
BAR = {"n_improved": "#009E73", "n_unchanged": "#BBBBBB", "n_deteriorated": "#D55E00"}  # Okabe & Ito
TALKING_THERAPIES = (
    ("n_with_both", None, None),
    ("n_cases", None, None),
    ("n_recovered", "recovery_rate", "n_cases"),
    ("n_reliably_improved", "reliable_improvement_rate", "n_with_both"),
    ("n_reliably_recovered", "reliable_recovery_rate", "n_cases"),
)
CHART_WIDTH = 660  # pixels: the width of A4 within the page's margins, so that a chart prints whole


@dataclass(frozen=True)
class Report:
    """What one report shows: rows of the downloader's release, and how to word them."""

    as_of: str
    readers: str  # whose release it is, in words: "a program lead", "a clinician of North clinic"
    outcomes: pl.DataFrame  # the program, site and modality rows of every measure in use, in the order to show
    talking_therapies: pl.DataFrame  # the program, site and modality rows
    directions: dict[tuple[str, str], str] = field(default_factory=dict)  # measure → lower_is_better or higher_…
    min_cell: int = 5
    publication: bool = False
    site_names: dict[str, str] = field(default_factory=dict)
    windows: Windows = Windows()
    role: str = "program_lead"  # the preparer's: an admin's release withholds nothing, a clinician's own sites

    @property
    def headline(self) -> dict:
        """The program's row of the headline measure (empty before there is one)."""
        return _row(self.outcomes, "program", *HEADLINE)


def _row(outcomes: pl.DataFrame, grouping: str, instrument: str, subscale: str) -> dict:
    rows = outcomes.filter(
        (pl.col("grouping") == grouping) & (pl.col("instrument") == instrument) & (pl.col("subscale") == subscale)
    )
    return rows.row(0, named=True) if rows.height else {}


# -- one figure as the report words it ---------------------------------------------------------------------------


def _count(row: dict, column: str, publication: bool, min_cell: int) -> str:
    """A count as shown: "<5" when withheld for being small, "withheld" when withheld to protect another."""
    n = row.get(column)
    if n is None:
        return f"&lt;{min_cell}" if column in (row.get("small_counts") or []) else "withheld"
    return html.escape(publication_count(n)) if publication else reads(n, "count")


def _fraction(row: dict, part: str, whole: str, publication: bool) -> float | None:
    """`part` of `whole` from the counts shown (rounded under the publication rule), or None if either is hidden."""
    numerator, denominator = row.get(part), row.get(whole)
    if numerator is None or not denominator:
        return None
    if publication:
        numerator, denominator = publication_count(numerator), publication_count(denominator)
        if "*" in (numerator, denominator) or denominator == "0":
            return None
    return int(numerator) / int(denominator)


def share(row: dict, column: str, publication: bool = False) -> str:
    """A category's share of a row's completers; beside withheld counts, the release's reliably improved rate,
    which is to the nearest 5% ("about 35%")."""
    if column in (row.get("unclassified_counts") or []):
        return "not classified"
    fraction = _fraction(row, column, "n_complete", publication)
    if fraction is None:
        rate = row.get("improved_rate") if column == "n_improved" and row.get(column) is None else None
        return "withheld" if rate is None else f"about {rate:.0%}"
    return f"{fraction:.0%}"


def _rate(row: dict, rate: str, part: str, whole: str, publication: bool) -> str:
    """A Talking Therapies rate: the release's, or under the publication rule one of the rounded counts."""
    if publication:
        fraction = _fraction(row, part, whole, publication)
        return "withheld" if fraction is None else f"{fraction:.0%}"
    if row.get(rate) is None:
        return "none" if row.get(whole) == 0 else "withheld"
    return reads(row[rate], "rate")


def _number(row: dict, column: str, kind: str = "change") -> str:
    value = row.get(column)
    return "withheld" if value is None or value != value else reads(value, kind)


def _interval(row: dict, low: str, high: str) -> str:
    if row.get(low) is None or row.get(high) is None:
        return "withheld"
    return f"{reads(row[low], 'change')} to {reads(row[high], 'change')}"


def _measure(instrument: str, subscale: str) -> str:
    return instrument if subscale == "total" else f"{instrument} {subscale}"


def _group(row: dict, site_names: dict[str, str]) -> str:
    name = site_names.get(row["group_id"], row["group_id"]) if row["grouping"] == "site" else words(row["group_id"])
    return "Whole program" if row["grouping"] == "program" else f"{words(row['grouping'])}: {name}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """A table whose first column names the row and whose other cells are figures (already HTML)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        f"<tr><th scope=row>{html.escape(cells[0])}</th>{''.join(f'<td class=n>{c}</td>' for c in cells[1:])}</tr>"
        for cells in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(key: str, number: int, body: str, note: str = "") -> str:
    note = f'<p class="note">{note}</p>' if note else ""
    return f'<section id="{key}">\n<h2>{number}. {html.escape(SECTIONS[key])}</h2>\n{body}\n{note}\n</section>'


# -- the sections ------------------------------------------------------------------------------------------------


def _flow(report: Report) -> str:
    row = report.headline
    rows = [[label(c), _count(row, c, report.publication, report.min_cell)] for c in FLOW]
    return (
        "<p>Everyone enrolled is counted once, in exactly one status for ECR-R attachment anxiety, so the four rows "
        "below the first add up to it: <em>without a baseline</em> (no questionnaire near the start), <em>not yet "
        "due</em> (still within the ten weeks and the weeks allowed after them), <em>no endpoint</em> (the time for "
        "the last questionnaire passed without one) or <em>completers</em> (both).</p>"
        + _table(["ECR-R anxiety", "Participants"], rows)
    )


def _headline(report: Report) -> str:
    row = report.headline
    if not row:
        return "<p>No ECR-R attachment anxiety outcomes yet.</p>"
    completers = _count(row, "n_complete", report.publication, report.min_cell)
    table = _table(
        ["ECR-R anxiety, 1–7", "Estimate", "95% CI"],
        [
            [label("n_complete"), completers, ""],
            [label("mean_baseline"), _number(row, "mean_baseline", "score"), ""],
            [label("mean_endpoint"), _number(row, "mean_endpoint", "score"), ""],
            [
                label("mean_change"),
                _number(row, "mean_change"),
                _interval(row, "mean_change_ci_low", "mean_change_ci_high"),
            ],
            [label("hedges_g"), _number(row, "hedges_g"), _interval(row, "hedges_g_ci_low", "hedges_g_ci_high")],
            [label("itt_change"), _number(row, "itt_change"), _interval(row, "itt_ci_low", "itt_ci_high")],
        ],
    )
    model = f" ({html.escape(row['itt_model'])})" if row.get("itt_model") else ""
    change, g, itt = (_number(row, c) for c in ("mean_change", "hedges_g", "itt_change"))
    change_ci = _interval(row, "mean_change_ci_low", "mean_change_ci_high")
    g_ci, itt_ci = _interval(row, "hedges_g_ci_low", "hedges_g_ci_high"), _interval(row, "itt_ci_low", "itt_ci_high")
    return f"""<p>Among the {completers} completers, attachment anxiety changed by <strong>{change} points</strong> on
its 1–7 scale (95% confidence interval {change_ci}). Lower is better: a negative change is a fall in anxiety. As an
effect size, <strong>Hedges' g {g}</strong> (95% CI {g_ci}): the change in units of how much people differed at the
start; by convention a size of about 0.2, either way, is small and 0.5 medium.</p>
<p>Completers can look better than everyone who started. The <strong>intent-to-treat estimate</strong> counts every
score of everyone enrolled, including those who left early or are not yet at week 10, through a mixed model{model}:
a 10-week change of <strong>{itt}</strong> (95% CI {itt_ci}). Where it is close to the completers' change, those
who completed are not a flattering selection; where it is nearer zero, part of the completers' change reflects who
stayed.</p>
{table}"""


def _measures(report: Report) -> str:
    better = {"lower_is_better": "lower", "higher_is_better": "higher"}
    rows = [
        [
            _measure(r["instrument"], r["subscale"]),
            better.get(report.directions.get((r["instrument"], r["subscale"]), ""), "—"),
            _count(r, "n_complete", report.publication, report.min_cell),
            _number(r, "mean_baseline", "score"),
            _number(r, "mean_change"),
            _interval(r, "mean_change_ci_low", "mean_change_ci_high"),
            _number(r, "hedges_g"),
        ]
        for r in report.outcomes.filter(pl.col("grouping") == "program").iter_rows(named=True)
    ]
    headers = ["Measure", "Better when", label("n_complete"), label("mean_baseline"), label("mean_change"), "95% CI"]
    return (
        "<p>Every questionnaire the program uses, for the whole program: completers, their mean score at baseline "
        "and their mean change to the endpoint. Scales differ (ECR measures 1–7, GAD-7 0–21, PHQ-9 0–27, RSES "
        "10–40), so compare measures by Hedges' g, whose sign follows the score's: for RSES (self-esteem) a rise is "
        "the improvement.</p>" + _table([*headers, "Hedges' g"], rows)
    )


def _category(row: dict, column: str, report: Report) -> str:
    if column in (row.get("unclassified_counts") or []):
        return "not classified"
    count, part = _count(row, column, report.publication, report.min_cell), share(row, column, report.publication)
    return count if part == "withheld" else f"{count} ({part})"


def _bar(row: dict, publication: bool) -> str:
    """The three reliable-change shares as one bar, where all three are shown."""
    fractions = {c: _fraction(row, c, "n_complete", publication) for c in BAR}
    if None in fractions.values():
        return ""
    spans = "".join(
        f'<span style="width:{100 * f:.1f}%;background:{BAR[c]}" title="{label(c)} {f:.0%}"></span>'
        for c, f in fractions.items()
    )
    return f'<div class="bar">{spans}</div>'


def _categories(report: Report) -> str:
    rows = [
        [
            _measure(r["instrument"], r["subscale"]),
            *(_category(r, c, report) for c in CATEGORIES),
            _bar(r, report.publication),
        ]
        for r in report.outcomes.filter(pl.col("grouping") == "program").iter_rows(named=True)
    ]
    headers = [
        "Measure",
        label("n_improved"),
        "of whom recovered",
        label("n_unchanged"),
        label("n_deteriorated"),
        "of whom harmed",
        "Shares",
    ]
    legend = " ".join(f'<span class="key" style="background:{colour}"></span>{label(c)}' for c, colour in BAR.items())
    return (
        "<p>Each completer is in one of three groups by how much their score changed (Jacobson &amp; Truax): "
        "<em>reliably improved</em>, <em>no reliable change</em> or <em>reliably deteriorated</em>, and the three "
        "add up to the completers. <em>Recovered</em> are those reliably improved who moved from the clinical into "
        "the functional range; <em>harmed</em> those reliably deteriorated who were not in the clinical range at "
        "the start and are not in the functional range at the end. Counts with their share of completers.</p>"
        + _table(headers, rows)
        + f'<p class="note legend">{legend}</p>'
    )


def _talking_therapies(report: Report) -> str:
    def cell(row: dict, count: str, rate: str | None, whole: str | None) -> str:
        shown = _count(row, count, report.publication, report.min_cell)
        if rate is None:
            return shown
        part = _rate(row, rate, count, whole, report.publication)
        return shown if part == "withheld" else f"{shown} ({part})"

    rows = [
        [_group(r, report.site_names), *(cell(r, *columns) for columns in TALKING_THERAPIES)]
        for r in report.talking_therapies.iter_rows(named=True)
    ]
    return (
        "<p>The national indicators of NHS Talking Therapies, from PHQ-9 (depression) and GAD-7 (anxiety) at "
        "baseline and endpoint, among those with both. A <em>case</em> starts at or above the clinical cutoff of "
        "either (PHQ-9 10, GAD-7 8). <em>Recovered</em>: a case below both cutoffs at the endpoint (share of "
        "cases). <em>Reliably improved</em>: a reliable fall on either measure and a reliable rise on neither "
        "(share of everyone with both). <em>Reliably recovered</em>: both (share of cases).</p>"
        + _table(["Group", *(label(c) for c, _, _ in TALKING_THERAPIES)], rows)
    )


def _comparisons(report: Report) -> str:
    headline = report.outcomes.filter((pl.col("instrument") == HEADLINE[0]) & (pl.col("subscale") == HEADLINE[1]))
    rows = [
        [
            _group(r, report.site_names),
            _count(r, "n_enrolled", report.publication, report.min_cell),
            _count(r, "n_complete", report.publication, report.min_cell),
            f"{_number(r, 'mean_change')} ({_interval(r, 'mean_change_ci_low', 'mean_change_ci_high')})",
            _number(r, "hedges_g"),
            f"{_number(r, 'itt_change')} ({_interval(r, 'itt_ci_low', 'itt_ci_high')})",
            share(r, "n_improved", report.publication),
        ]
        for r in headline.iter_rows(named=True)
    ]
    headers = [label("n_enrolled"), label("n_complete"), "Mean change (95% CI)", "Hedges' g", "ITT change (95% CI)"]
    return (
        "<p>ECR-R attachment anxiety by site and by modality: the completers' mean change, the effect size, the "
        "intent-to-treat change and the share of completers reliably improved. Where two intervals overlap "
        "widely, the figures do not show that the groups differ.</p>"
        + _table(["Group", *headers, label("n_improved")], rows)
    )


def _methods(report: Report) -> str:
    w, n = report.windows, report.min_cell
    publication = (
        "<p>Counts follow NHS Digital's rule for published figures: 1 to 7 people read *, others are rounded to "
        "the nearest 5, and every share is computed from the rounded counts.</p>"
        if report.publication
        else ""
    )
    beyond = " (beyond a clinician's own participants, whom they know one by one)" if report.role == "clinician" else ""
    return f"""<h3>Baseline, endpoint and who counts as complete</h3>
<p>Days are counted from each person's enrolment. Their <em>baseline</em> is the scored questionnaire between day
{w.baseline[0]} and day {w.baseline[1]} closest to day {w.baseline_target}; their <em>endpoint</em> the one between
day {w.endpoint[0]} and day {w.endpoint[1]} closest to day {w.endpoint_target}, after the baseline (a tie goes to
the earlier). Someone with both is a <em>completer</em>; without a baseline, they have <em>no baseline</em>; without
an endpoint they are <em>not yet due</em> until day {w.endpoint[1]} has come, and have <em>no endpoint</em>
after it. A questionnaire counts when it was finished, and is scored when no more than a fifth of its items are
missing.</p>
<h3>Mean change and effect size</h3>
<p>The <em>mean change</em> is the average of endpoint minus baseline among a group's completers, with a 95%
confidence interval from the t distribution, and is given only for groups of at least three. <em>Hedges' g</em>
divides it by the spread (standard deviation) of the group's baseline scores, with the exact correction for small
groups (Morris 2008); its 95% interval allows for how closely baseline and endpoint scores go together.</p>
<h3>Intent-to-treat</h3>
<p>The intent-to-treat estimate reads every score of everyone enrolled, from day {w.baseline[0]} to day
{w.endpoint[1]}, whether or not they completed: a linear mixed model of score against week, in which each person
has their own starting point and their own rate of change. The 10-week change is ten times the average weekly
change, with a 95% interval of 1.96 standard errors either side. A person who stopped answering after week 5 still
counts through their early scores.</p>
<h3>Reliable change</h3>
<p>Questionnaire scores move a little from one week to the next through measurement error alone. A change is
<em>reliable</em> when it is larger than that error would plausibly produce (Jacobson &amp; Truax 1991): more than
1.96 standard errors of the difference, which is SD × √(2 × (1 − r)), with SD the spread of the program's baseline
scores among completers and r the measure's reliability (Cronbach's alpha of the program's own baseline answers).
GAD-7 and PHQ-9 use the fixed thresholds of NHS Talking Therapies: a change of at least 4 and 6 points. With fewer
than 10 completers the spread and the reliability are too unstable, and no category is given ("not
classified"); nor are recovered and harmed for a measure without a clinical cutoff.</p>
<h3>Clinically significant change</h3>
<p>A cutoff separates the clinical from the functional range: for the ECR measures, two standard deviations
healthier than the program's mean at baseline (Jacobson &amp; Truax's criterion a); for GAD-7 a score of 8 and for
PHQ-9 of 10. <em>Recovered</em> is reliably improved from the clinical range at baseline into the functional range
at the endpoint; <em>harmed</em> is reliably worse, not clinical at baseline and not functional at the endpoint.</p>
<h3>Small numbers and privacy</h3>
<p>These are the figures released to {html.escape(report.readers)}, the person who prepared this report: the same
as on their pages. A count of 1 to {n - 1} people{beyond} reads "&lt;{n}", and
the means and rates of such a group are withheld. Other figures read "withheld" where showing them would let
someone work out a "&lt;{n}" from the rest by subtraction; such a count is 0 or at least {n}, never small. An
interval, an effect size and an intent-to-treat estimate are shown with their group's count of completers. Each
release is checked by a solver that tries to narrow every "&lt;{n}" down from everything shown, and passes only
if it cannot.</p>
{publication}<h3>Sources</h3>
<p class="note">Jacobson, N. S., &amp; Truax, P. (1991). Clinical significance: a statistical approach to defining
meaningful change in psychotherapy research. <em>Journal of Consulting and Clinical Psychology</em>, 59(1), 12–19.
Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-control group designs. <em>Organizational
Research Methods</em>, 11(2), 364–386. NHS England. <em>NHS Talking Therapies for anxiety and depression
manual</em>. Fraley, R. C., Waller, N. G., &amp; Brennan, K. A. (2000). An item response theory analysis of
self-report measures of adult attachment (the ECR-R). <em>Journal of Personality and Social Psychology</em>,
78(2), 350–365.</p>"""


def _caution(report: Report) -> str:
    """What the preparer should check before the report leaves the program, if anything."""
    if report.role == "admin":
        return (
            "Prepared by an administrator, whose figures withhold nothing: small numbers are shown as they are. "
            "Check it before it leaves the program."
        )
    if report.role == "clinician":
        return (
            "Prepared by a clinician, whose figures show their own sites in full, small numbers included. Check it "
            "before it leaves the program."
        )
    return ""


def _forest(outcomes: pl.DataFrame, grouping: str, site_names: dict[str, str]) -> go.Figure:
    """The headline's mean change by site or by modality with its 95% intervals, as wide as a printed page."""
    rows = outcomes.filter(
        (pl.col("grouping") == grouping) & (pl.col("instrument") == HEADLINE[0]) & (pl.col("subscale") == HEADLINE[1])
    )
    names = [_group(r, site_names).split(": ", 1)[1] for r in rows.iter_rows(named=True)]
    figure = charts.forest_plot(
        rows.with_columns(pl.Series("name", names, pl.String)),
        "name",
        "mean_change",
        "mean_change_ci_low",
        "mean_change_ci_high",
        f"ECR-R anxiety, mean change by {grouping} (95% CI)",
        "change among completers (negative: less anxious)",
    )
    return figure.update_layout(width=CHART_WIDTH, autosize=False)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1a1a1a; line-height: 1.4; }
table { border-collapse: collapse; width: 100%; margin: .75rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .45rem; vertical-align: top; }
thead th { background: #f3f3f3; text-align: left; } tbody th { text-align: left; font-weight: normal; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { color: #555; font-size: .9rem; } .caution { border-left: 4px solid #D55E00; padding-left: .6rem; }
.bar { display: flex; width: 8rem; height: .9rem; border: 1px solid #888; }
.bar span, .key { display: inline-block; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.key { width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; vertical-align: middle; }
.chart { width: CHART_WIDTHpx; max-width: 100%; margin: 1rem 0; }
@page { size: A4; margin: 16mm 15mm 18mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  section ~ section { break-before: page; }  /* not "+": plotly.js appends a hidden svg to the body */
  h2, h3 { break-after: avoid; }
  tr, .chart, p { break-inside: avoid; }
  thead { display: table-header-group; }
  table { font-size: 9pt; }
}
""".replace("CHART_WIDTH", str(CHART_WIDTH))


def render_program_report(report: Report, figures: list[go.Figure]) -> str:
    """The report page: its title and who it is for, then a section to a printed page, `figures` (the forest plots)
    under the comparisons; plotly.js is inlined once, so the page needs nothing from elsewhere."""
    plots = "".join(
        '<div class="chart">'
        + figure.to_html(
            full_html=False, include_plotlyjs=index == 0, config={"displaylogo": False, "displayModeBar": False}
        )
        + "</div>"
        for index, figure in enumerate(figures)
    )
    bodies = {
        "flow": _flow(report),
        "headline": _headline(report),
        "measures": _measures(report),
        "categories": _categories(report),
        "talking-therapies": _talking_therapies(report),
        "comparisons": _comparisons(report) + plots,
        "methods": _methods(report),
    }
    withheld = (
        f'Figures about fewer than {report.min_cell} people read "&lt;{report.min_cell}"; "withheld" marks a '
        f'figure hidden so that no "&lt;{report.min_cell}" can be worked out from the rest (section 7).'
    )
    sections = "\n".join(
        _section(key, number, body, withheld if key not in ("headline", "methods") else "")
        for number, (key, body) in enumerate(bodies.items(), start=1)
    )
    as_of = html.escape(report.as_of)
    caution = f'<p class="caution">{_caution(report)}</p>' if _caution(report) else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Program outcomes report, data as of {as_of}</title>
<style>{STYLE}</style></head><body>
<header>
<h1>Program outcomes report</h1>
<p><strong>Data as of {as_of}.</strong> For funders and partners of the program: who took part, how much attachment
anxiety changed over ten weeks, and how the figures are computed. The figures are those released to
{html.escape(report.readers)}, who prepared this report, and read the same as on their pages.</p>
{caution}
</header>
{sections}
</body></html>
"""


def _readers(viewer: Viewer, site_names: dict[str, str]) -> str:
    if viewer.role == "clinician":
        sites = " and ".join(site_names.get(site, site) for site in viewer.sites) or "no site"
        return f"a clinician of {sites}"
    return {"admin": "an administrator", "program_lead": "a program lead"}[viewer.role]


def program_report_for_funders(
    warehouse: Warehouse,
    viewer: Viewer,
    publication: bool,
    site_names: dict[str, str] | None = None,
    windows: Windows | None = None,
) -> str:
    """The report of the figures of the viewer's own release (`scope.release`): nothing in it differs from what
    their pages show, so the two cannot be set against each other. Sites read by `site_names` where given."""
    names = site_names or {}
    measures = queries.filter_choices(warehouse)["measures"] or [HEADLINE]
    order = {"program": 0, "site": 1, "modality": 2}
    outcomes = (
        pl.concat(scope.group_outcomes(warehouse, viewer, *measure) for measure in measures)
        .filter(pl.col("grouping").is_in(list(order)))
        .sort(pl.col("grouping").replace_strict(order), "group_id", maintain_order=True)
    )
    talking = scope.talking_therapies(warehouse, viewer).sort(pl.col("grouping").replace_strict(order), "group_id")
    report = Report(
        as_of=str(queries.freshness(warehouse).get("as_of_date")),
        readers=_readers(viewer, names),
        outcomes=outcomes,
        talking_therapies=talking,
        directions={measure: queries.measure_parameters(warehouse, *measure)["direction"] for measure in measures},
        min_cell=viewer.min_cell,
        publication=publication,
        site_names=names,
        windows=windows or Windows(),
        role=viewer.role,
    )
    return render_program_report(report, [_forest(outcomes, grouping, names) for grouping in ("site", "modality")])


def exported(table: pl.DataFrame, publication: bool) -> pl.DataFrame:
    """A table as downloaded: with `privacy.publication`, its counts follow NHS Digital's rule, as in the report."""
    if not publication:
        return table
    counts = [c for c in table.columns if c.startswith("n_")]
    return table.with_columns(pl.Series(c, [publication_count(n) for n in table[c]], pl.String) for c in counts)
