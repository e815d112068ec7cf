"""Pure chart builders: frame in, Plotly figure out (tested without Streamlit).

Colours come from a colour-blind-safe palette (Okabe & Ito; Cividis for the heat map), and stacked bars also
differ by pattern, so that charts stay readable in grey print.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.glossary import words

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


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
        template="simple_white",
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
        template="simple_white",
        height=max(260, 60 + 28 * shown.height),
        margin={"t": 50, "l": 140, "r": 20, "b": 50},
    )
    return figure


def spaghetti(scores: pl.DataFrame, band: float | None, title: str) -> go.Figure:
    """Each participant's scores (thin grey), the cohort's weekly mean (bold), and ± the minimum reliable
    change around the mean baseline (shaded): a line leaving the band has changed reliably."""
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
        yaxis_title="ECR-R anxiety (1–7)",
        yaxis_range=[1, 7],
        template="simple_white",
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
        template="simple_white",
        legend_title_text="exercise",
    )
    return figure


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
        template="simple_white",
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
        template="simple_white",
        height=280,
        margin={"t": 50, "l": 60, "r": 20, "b": 45},
    )
    return figure
