"""Pure chart builders: frame in, Plotly figure out (tested without Streamlit).

Colours come from a colour-blind-safe qualitative palette (Okabe & Ito), and lines also differ by dash so
that charts stay readable in grey print.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]


def cohort_trajectories(frame: pl.DataFrame, title: str = "Mean ECR-R anxiety by week and cohort") -> go.Figure:
    """One line per cohort: mean score (1–7, lower is more secure) by week since enrolment."""
    figure = go.Figure()
    for index, (cohort_id,) in enumerate(frame.select("cohort_id").unique(maintain_order=True).iter_rows()):
        cohort = frame.filter(pl.col("cohort_id") == cohort_id).sort("week")
        figure.add_trace(
            go.Scatter(
                x=cohort["week"].to_list(),
                y=cohort["mean_score"].to_list(),
                customdata=cohort["n"].to_list(),
                mode="lines+markers",
                name=str(cohort_id),
                line={"color": OKABE_ITO[index % len(OKABE_ITO)], "dash": DASHES[index // len(OKABE_ITO) % 6]},
                hovertemplate="week %{x}: %{y:.2f} (n = %{customdata})<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(
        title=title,
        xaxis_title="week since enrolment",
        yaxis_title="ECR-R anxiety (1–7)",
        yaxis_range=[1, 7],
        legend_title_text="cohort",
        template="simple_white",
        margin={"t": 60, "l": 60, "r": 20, "b": 50},
    )
    return figure
