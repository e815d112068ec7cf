"""Pure chart builders, tested without Streamlit."""

import polars as pl

from dashboard.charts import OKABE_ITO, cohort_trajectories


def test_one_line_per_cohort_in_week_order_with_colour_blind_safe_colours():
    frame = pl.DataFrame(
        {"cohort_id": ["a", "a", "b", "b"], "week": [1, 0, 0, 1], "n": [6, 7, 5, 5], "mean_score": [4.5, 4.8, 5.0, 4.9]}
    )
    figure = cohort_trajectories(frame)
    assert [trace.name for trace in figure.data] == ["a", "b"]
    assert list(figure.data[0].x) == [0, 1] and list(figure.data[0].y) == [4.8, 4.5]
    assert list(figure.data[0].customdata) == [7, 6]
    assert {trace.line.color for trace in figure.data} <= set(OKABE_ITO)
    assert figure.layout.yaxis.title.text == "mean score"
