"""Pure chart builders, tested without Streamlit."""

import polars as pl

from dashboard.charts import cohort_trajectories


def test_one_row_per_cohort_and_a_column_per_week_with_withheld_weeks_blank():
    frame = pl.DataFrame(
        {"cohort_id": ["a", "a", "b", "c"], "week": [1, 0, 2, 0], "n": [6, 7, 5, 9], "mean_score": [4.5, 4.8, 5.0, 3.0]}
    )
    [heat_map] = cohort_trajectories(frame).data
    assert list(heat_map.y) == ["c", "b", "a"]  # the first cohort at the top
    assert list(heat_map.x) == [0, 1, 2]
    assert [list(row) for row in heat_map.z] == [[3.0, None, None], [None, None, 5.0], [4.8, 4.5, None]]
    assert [list(row) for row in heat_map.customdata] == [[9, None, None], [None, None, 5], [7, 6, None]]


def test_a_cohort_taught_at_two_sites_has_a_row_per_site():
    frame = pl.DataFrame(
        {"cohort_id": ["a", "b", "b"], "site_id": ["north", "north", "south"], "week": [0, 0, 0], "n": [5, 6, 7]}
    ).with_columns(mean_score=pl.col("n") / 2)
    [heat_map] = cohort_trajectories(frame).data
    assert list(heat_map.y) == ["b (south)", "b (north)", "a"]
    assert [list(row) for row in heat_map.z] == [[3.5], [3.0], [2.5]]


def test_a_week_withheld_for_every_cohort_stays_a_blank_column_and_cohort_names_stay_names():
    frame = pl.DataFrame({"cohort_id": ["2026-03", "2026-03"], "week": [1, 4], "n": [5, 6], "mean_score": [4.0, 3.5]})
    figure = cohort_trajectories(frame)
    [heat_map] = figure.data
    assert list(heat_map.x) == [1, 2, 3, 4]
    assert [list(row) for row in heat_map.z] == [[4.0, None, None, 3.5]]
    assert figure.layout.yaxis.type == "category" and heat_map.hoverongaps is False
