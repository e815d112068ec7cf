"""Pure chart builders, tested without Streamlit."""

import polars as pl
import pytest

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


def test_a_participants_measure_shows_their_baseline_band_and_cutoff():
    from dashboard.charts import participant_measure

    scores = pl.DataFrame({"week": [0.1, 5.0, 10.0], "score": [5.2, 4.9, 4.3]})
    figure = participant_measure(scores, baseline=5.2, band=0.88, cutoff=2.8, title="ECR-R anxiety")
    [line] = figure.data
    assert list(line.y) == [5.2, 4.9, 4.3]
    [band] = [shape for shape in figure.layout.shapes if shape.type == "rect"]
    assert (band.y0, band.y1) == pytest.approx((5.2 - 0.88, 5.2 + 0.88))
    lines = sorted(shape.y0 for shape in figure.layout.shapes if shape.type == "line")
    assert lines == [2.8, 5.2]  # the cutoff and the baseline
    bare = participant_measure(scores, baseline=None, band=0.88, cutoff=None, title="RSES total")
    assert not bare.layout.shapes  # no baseline: nothing to draw a band around


def test_weekly_practice_is_minutes_per_week_with_the_practices_on_hover():
    from dashboard.charts import weekly_practice

    practice = pl.DataFrame({"week": [0, 1, 3], "practices": [2, 0, 5], "minutes": [20.0, 0.0, 55.5]})
    [bars] = weekly_practice(practice).data
    assert list(bars.x) == [0, 1, 3] and list(bars.y) == [20.0, 0.0, 55.5] and list(bars.customdata) == [2, 0, 5]
