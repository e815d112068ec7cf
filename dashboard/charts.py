"""Pure chart builders: frame in, Plotly figure out (tested without Streamlit).

Colours come from a colour-blind-safe palette (Okabe & Ito; Cividis for the heat map), and stacked bars also
differ by pattern, so that charts stay readable in grey print.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from dashboard.glossary import label, words

# Every chart's look, set once as Plotly's default: named in each figure, the template is validated and copied for each
# chart, about 25 ms a chart (bench/README.md), the same template for a tenth of that as the default.
pio.templates.default = "simple_white"

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

# The Jacobson–Truax categories from best to worst, each with its own colour (greens and blues better, a neutral grey,
# oranges worse), marker and bar pattern, so that they can be told apart in grey print too.
CATEGORIES = ("recovered", "improved", "unchanged", "deteriorated", "harmed")
CATEGORY_COLOURS = {
    "recovered": "#009E73",
    "improved": "#56B4E9",
    "unchanged": "#999999",
    "deteriorated": "#E69F00",
    "harmed": "#D55E00",
}
CATEGORY_SYMBOLS = {
    "recovered": "circle",
    "improved": "diamond",
    "unchanged": "square",
    "deteriorated": "triangle-up",
    "harmed": "x",
}
CATEGORY_PATTERNS = {"recovered": "", "improved": "/", "unchanged": ".", "deteriorated": "x", "harmed": "\\"}
NOT_CLASSIFIED = "Not classified"


def cohort_trajectories(frame: pl.DataFrame, title: str = "Mean ECR-R anxiety by week and cohort") -> go.Figure:
    """One row per cohort and one column per week since enrolment, coloured by the mean score (hover: the mean
    and its n); a withheld week is blank. A cohort taught at several sites (`site_id`) has a row per site. A heat map
    rather than a line per cohort: it stays readable, and cheap for the browser to draw, with hundreds of cohorts."""
    row = pl.col("cohort_id").cast(pl.String)
    if "site_id" in frame.columns:
        shared = pl.col("site_id").n_unique().over("cohort_id") > 1
        row = pl.when(shared).then(pl.format("{} ({})", "cohort_id", "site_id")).otherwise(row)
    frame = frame.with_columns(row=row)
    cohorts = frame.select("row").unique().sort("row", descending=True)  # the first at the top
    weeks = pl.DataFrame({"week": range(frame["week"].min() or 0, (frame["week"].max() or 0) + 1)})
    cells = (  # every cohort × week, in the order of the grid; a week withheld for everyone is still a column
        cohorts.join(weeks, how="cross")
        .join(frame, on=["row", "week"], how="left")
        .sort(["row", "week"], descending=[True, False])
    )

    def grid(values: str) -> list[list]:
        return [row.to_list() for row in cells[values].reshape((cohorts.height, weeks.height))]

    figure = go.Figure(
        go.Heatmap(
            x=weeks["week"].to_list(),
            y=cohorts["row"].to_list(),
            z=grid("mean_score"),
            customdata=grid("n"),
            colorscale="Cividis",  # colour-blind-safe, and its lightness rises steadily, so it reads in grey print
            colorbar={"title": {"text": "mean score"}},
            xgap=1,
            ygap=1,
            hoverongaps=False,  # a withheld cell shows nothing
            hovertemplate="%{y}, week %{x}: %{z:.2f} (n = %{customdata})<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        xaxis_title="week since enrolment",
        yaxis_title="cohort",
        yaxis_type="category",  # cohort names such as "2026-03" are names, not dates
        height=max(260, 100 + 20 * cohorts.height),
        margin={"t": 60, "l": 140, "r": 20, "b": 50},
    )
    return figure


def forest_plot(
    frame: pl.DataFrame, label: str, estimate: str, low: str, high: str, title: str, x_title: str
) -> go.Figure:
    """Estimates with their 95% intervals, one row per group (rows without an estimate are left out)."""
    shown = frame.drop_nulls(estimate).sort(estimate)
    figure = go.Figure(
        go.Scatter(
            x=shown[estimate].to_list(),
            y=shown[label].cast(pl.String).to_list(),
            mode="markers",
            marker={"color": OKABE_ITO[0], "size": 9, "symbol": "square"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (shown[high] - shown[estimate]).to_list(),
                "arrayminus": (shown[estimate] - shown[low]).to_list(),
                "color": OKABE_ITO[0],
            },
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )
    )
    figure.add_vline(x=0, line={"color": "#666", "dash": "dot"})
    figure.update_layout(
        title=title,
        xaxis_title=x_title,
        height=max(260, 60 + 28 * shown.height),
        margin={"t": 50, "l": 140, "r": 20, "b": 50},
    )
    return figure


def spaghetti(
    scores: pl.DataFrame, band: float | None, title: str, measure: str = "ECR-R anxiety", score_range=(1, 7)
) -> go.Figure:
    """Each participant's scores (thin grey), the cohort's weekly mean (bold), and ± the minimum reliable
    change around the mean baseline (shaded): a line leaving the band has changed reliably. The y axis is the
    measure's whole range."""
    figure = go.Figure()
    for (participant_id,), person in scores.group_by("participant_id", maintain_order=True):
        figure.add_trace(
            go.Scatter(
                x=person["week"].to_list(),
                y=person["score"].to_list(),
                mode="lines",
                line={"color": "#9a9a9a", "width": 1},
                name=str(participant_id),
                showlegend=False,
                hovertemplate=f"{participant_id}: %{{y:.2f}}<extra></extra>",
            )
        )
    weekly = scores.with_columns(pl.col("week").round(0)).group_by("week").agg(pl.col("score").mean()).sort("week")
    figure.add_trace(
        go.Scatter(
            x=weekly["week"].to_list(),
            y=weekly["score"].to_list(),
            mode="lines+markers",
            line={"color": OKABE_ITO[0], "width": 4},
            name="cohort mean",
        )
    )
    if band is not None and weekly.height:
        start = weekly.filter(pl.col("week") <= 0)["score"].mean() or weekly["score"][0]
        figure.add_hrect(
            y0=start - band,
            y1=start + band,
            fillcolor=OKABE_ITO[1],
            opacity=0.15,
            line_width=0,
            annotation_text="no reliable change",
            annotation_position="top left",
        )
    figure.update_layout(
        title=title,
        xaxis_title="week since enrolment",
        yaxis_title=f"{measure} ({score_range[0]:g}–{score_range[1]:g})",
        yaxis_range=list(score_range),
        margin={"t": 60, "l": 60, "r": 20, "b": 50},
    )
    return figure


def practice_by_week(frame: pl.DataFrame) -> go.Figure:
    """Stacked bars: practices per week since enrolment, by exercise type."""
    figure = go.Figure()
    for index, (exercise,) in enumerate(frame.select("exercise").unique(maintain_order=True).iter_rows()):
        rows = frame.filter(pl.col("exercise") == exercise)
        figure.add_trace(
            go.Bar(
                x=rows["week"].to_list(),
                y=rows["practices"].to_list(),
                name=words(str(exercise)),
                marker={
                    "color": OKABE_ITO[index % len(OKABE_ITO)],
                    "pattern": {"shape": ["", "/", ".", "x", "-", "|", "+", "\\"][index % 8]},
                },
            )
        )
    figure.update_layout(
        barmode="stack",
        title="Practices by week and exercise",
        xaxis_title="week since enrolment",
        yaxis_title="practices",
        legend_title_text="exercise",
    )
    return figure


def jacobson_truax(
    completers: pl.DataFrame,
    measure: str,
    score_range: tuple[float, float],
    min_reliable_change: float | None,
    cutoff: float | None,
    title: str,
) -> go.Figure:
    """Each completer's baseline (x) against endpoint (y), coloured and shaped by Jacobson–Truax category.

    The diagonal is no change and the shaded band ± the minimum reliable change around it: a point outside the band
    changed reliably. The dashed lines are the cutoff between the clinical and the functional range, at baseline
    (vertical) and at the endpoint (horizontal). `completers` has participant_id, baseline_score, endpoint_score
    and jt_category (null where no category can be given); hovering a point shows them."""
    low, high = score_range
    figure = go.Figure()
    if min_reliable_change is not None:
        band = min_reliable_change
        figure.add_trace(
            go.Scatter(
                x=[low, high, high, low, low],
                y=[low + band, high + band, high - band, low - band, low + band],
                fill="toself",
                fillcolor="rgba(0, 0, 0, 0.1)",
                line={"width": 0},
                mode="lines",
                name=f"no reliable change (± {band:.2f})",
                hoverinfo="skip",
            )
        )
    figure.add_trace(
        go.Scatter(x=[low, high], y=[low, high], mode="lines", line={"color": "#444", "width": 1}, name="no change")
    )
    for category in (*CATEGORIES, None):
        rows = completers.filter(
            pl.col("jt_category").is_null() if category is None else pl.col("jt_category") == category
        )
        if rows.is_empty():
            continue
        name = NOT_CLASSIFIED if category is None else words(category)
        figure.add_trace(
            go.Scatter(
                x=rows["baseline_score"].to_list(),
                y=rows["endpoint_score"].to_list(),
                customdata=rows["participant_id"].to_list(),
                mode="markers",
                name=name,
                marker={
                    "color": CATEGORY_COLOURS.get(category, "#000000"),
                    "symbol": CATEGORY_SYMBOLS.get(category, "circle-open"),
                    "size": 10,
                    "line": {"color": "#fff", "width": 0.5},
                },
                hovertemplate=f"%{{customdata}}: %{{x:.2f}} at baseline, %{{y:.2f}} at endpoint<br>{name}"
                "<extra></extra>",
            )
        )
    if cutoff is not None:
        line = {"color": "#444", "dash": "dash", "width": 1}
        figure.add_vline(x=cutoff, line=line, annotation_text="cutoff", annotation_position="top right")
        figure.add_hline(y=cutoff, line=line, annotation_text="cutoff", annotation_position="bottom right")
    if completers.is_empty():
        figure.add_annotation(text="No completers yet", xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False)
    margin = (high - low) * 0.03
    scale = f"({low:g}–{high:g})"
    figure.update_layout(
        title=title,
        xaxis={
            "title": f"{measure} at baseline {scale}",
            "range": [low - margin, high + margin],
            "constrain": "domain",
        },
        yaxis={"title": f"{measure} at endpoint {scale}", "range": [low - margin, high + margin], "scaleanchor": "x"},
        legend_title_text="category",
        height=560,
        margin={"t": 60, "l": 60, "r": 20, "b": 50},
    )
    return figure


def category_distribution(groups: pl.DataFrame, min_cell: int, title: str) -> go.Figure:
    """The share of each group's completers in each Jacobson–Truax category: one 100% bar per group, the first at
    the top.

    `groups` are rows of a release: group_id in words, n_complete, the category counts, small_counts and
    unclassified_counts. A withheld count is never drawn, least of all as 0: the categories a release withholds
    make one blank segment labelled "withheld" at the end of the bar, and a group none of whose categories can be
    drawn is a row labelled with the reason (`row_gap`)."""
    gaps = [row_gap(row, min_cell) for row in groups.iter_rows(named=True)]
    drawn = groups.filter(pl.Series([gap is None for gap in gaps], dtype=pl.Boolean))
    names, completers = drawn["group_id"].cast(pl.String).to_list(), drawn["n_complete"]
    figure = go.Figure()
    for category in CATEGORIES:
        counts = drawn[f"n_{category}"]
        figure.add_trace(
            go.Bar(
                x=(counts / completers).to_list(),  # a withheld count stays null: no bar at all
                y=names,
                orientation="h",
                name=words(category),
                customdata=list(zip(counts.to_list(), completers.to_list(), strict=True)),
                texttemplate="%{x:.0%}",
                textposition="inside",
                insidetextanchor="middle",
                marker={
                    "color": CATEGORY_COLOURS[category],
                    "pattern": {"shape": CATEGORY_PATTERNS[category], "fgcolor": "#333", "fgopacity": 0.4},
                },
                hovertemplate=f"%{{y}}: %{{x:.0%}} {words(category).lower()} "
                "(%{customdata[0]} of %{customdata[1]})<extra></extra>",
            )
        )
    figure.add_trace(_withheld_segments(drawn, min_cell))
    labels = groups["group_id"].cast(pl.String).to_list()
    figure.add_trace(_row_gaps([(group, gap) for group, gap in zip(labels, gaps, strict=True) if gap]))
    figure.update_layout(
        barmode="stack",
        title=title,
        xaxis={"title": "share of completers", "range": [0, 1], "tickformat": ".0%"},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": labels[::-1]},
        legend={"title": {"text": "category"}, "traceorder": "normal"},
        uniformtext={"minsize": 9, "mode": "hide"},
        height=max(320, 120 + 30 * len(labels)),  # the legend needs 320
        margin={"t": 60, "l": 140, "r": 20, "b": 50},
    )
    return figure


def _withheld_segments(drawn: pl.DataFrame, min_cell: int) -> go.Bar:
    """A blank, outlined segment per group for the share of its completers in the categories its release withholds
    (the release shows its completers and its other categories, so this share is no news), labelled "withheld"."""
    counts = [f"n_{category}" for category in CATEGORIES]
    shares, reasons = [], []
    for row in drawn.iter_rows(named=True):
        missing = [column for column in counts if row[column] is None]
        shown = sum(row[column] for column in counts if row[column] is not None)
        shares.append((row["n_complete"] - shown) / row["n_complete"] if missing else None)
        small = set(row["small_counts"] or [])
        reasons.append(", ".join(f"{label(c).lower()} {f'<{min_cell}' if c in small else 'withheld'}" for c in missing))
    return go.Bar(
        x=shares,
        y=drawn["group_id"].cast(pl.String).to_list(),
        orientation="h",
        name="withheld",
        showlegend=any(share is not None for share in shares),
        text=["withheld" if share is not None else None for share in shares],
        textposition="inside",
        insidetextanchor="middle",
        textfont={"color": "#555"},
        customdata=reasons,
        marker={"color": "rgba(0, 0, 0, 0)", "line": {"color": "#999", "width": 1}},
        hovertemplate="%{y}: %{x:.0%} in categories withheld (%{customdata})<extra></extra>",
    )


def _row_gaps(gaps: list[tuple[str, str]]) -> go.Scatter:
    """Text in place of the bar of each group that is not drawn at all: (group, why) pairs."""
    return go.Scatter(
        x=[0.01] * len(gaps),
        y=[group for group, _ in gaps],
        text=[gap for _, gap in gaps],
        mode="text",
        textposition="middle right",
        textfont={"color": "#555"},
        showlegend=False,
        hovertemplate="%{y}: %{text}<extra></extra>",
    )


def row_gap(row: dict, min_cell: int) -> str | None:
    """Why none of a release row's categories can be drawn ("<5 completers", "withheld", "no completers", "not
    classified"), or None when some can."""
    counts = [f"n_{category}" for category in CATEGORIES]
    if row["n_complete"] is None:
        return f"<{min_cell} completers" if "n_complete" in (row["small_counts"] or []) else "withheld"
    if row["n_complete"] == 0:
        return "no completers"
    if set(row["unclassified_counts"] or []) & set(counts):
        return "not classified"
    return "withheld" if all(row[column] is None for column in counts) else None


def participant_measure(
    scores: pl.DataFrame, baseline: float | None, band: float | None, cutoff: float | None, title: str
) -> go.Figure:
    """One participant's scores of one measure by week since enrolment, with their baseline (solid), the band of
    no reliable change around it (shaded; a score outside it has changed reliably) and the cutoff (dashed)."""
    figure = go.Figure(
        go.Scatter(
            x=scores["week"].to_list(),
            y=scores["score"].to_list(),
            mode="lines+markers",
            line={"color": OKABE_ITO[0], "width": 3},
            name="score",
            hovertemplate="week %{x:.1f}: %{y:.2f}<extra></extra>",
        )
    )
    if baseline is not None:
        figure.add_hline(y=baseline, line={"color": "#000000", "width": 1}, annotation_text="baseline")
        if band is not None:
            figure.add_hrect(y0=baseline - band, y1=baseline + band, fillcolor=OKABE_ITO[1], opacity=0.15, line_width=0)
    if cutoff is not None:
        figure.add_hline(
            y=cutoff,
            line={"color": OKABE_ITO[5], "dash": "dash", "width": 2},
            annotation_text="cutoff",
            annotation_position="bottom right",
        )
    figure.update_layout(
        title=title,
        xaxis_title="week since enrolment",
        yaxis_title="score",
        showlegend=False,
        height=280,
        margin={"t": 50, "l": 60, "r": 20, "b": 45},
    )
    return figure


def weekly_practice(practice: pl.DataFrame) -> go.Figure:
    """Minutes of practice per week since enrolment (hover: how many practices)."""
    figure = go.Figure(
        go.Bar(
            x=practice["week"].to_list(),
            y=practice["minutes"].to_list(),
            customdata=practice["practices"].to_list(),
            marker_color=OKABE_ITO[2],
            hovertemplate="week %{x}: %{y:.0f} minutes, %{customdata} practices<extra></extra>",
        )
    )
    figure.update_layout(
        title="Practice between sessions",
        xaxis_title="week since enrolment",
        yaxis_title="minutes",
        height=280,
        margin={"t": 50, "l": 60, "r": 20, "b": 45},
    )
    return figure
