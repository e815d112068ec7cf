"""Pure chart builders, tested without Streamlit."""

import polars as pl
import pytest

from dashboard.charts import CATEGORY_COLOURS, category_distribution, cohort_trajectories, jacobson_truax


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


def completers(**columns) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "participant_id": ["P1", "P2", "P3", "P4"],
            "baseline_score": [5.0, 4.0, 3.0, 2.0],
            "endpoint_score": [2.0, 3.9, 3.1, 4.0],
            "jt_category": ["recovered", "unchanged", "unchanged", "harmed"],
        }
        | columns,
        schema_overrides={"jt_category": pl.String},
    )


def test_the_jacobson_truax_scatter_has_the_band_the_diagonal_the_cutoffs_and_a_trace_per_category():
    figure = jacobson_truax(completers(), "ECR-R anxiety", (1, 7), 0.5, 2.68, "ECR-R anxiety in north-2026-01")
    band, diagonal, *points = figure.data
    assert list(band.x) == [1, 7, 7, 1, 1] and list(band.y) == [1.5, 7.5, 6.5, 0.5, 1.5]
    assert band.fill == "toself"
    assert list(diagonal.x) == [1, 7] and list(diagonal.y) == [1, 7]
    assert [trace.name for trace in points] == ["Recovered", "No reliable change", "Harmed"]  # the glossary's words
    assert [trace.marker.color for trace in points] == [
        CATEGORY_COLOURS[c] for c in ("recovered", "unchanged", "harmed")
    ]
    assert len({trace.marker.symbol for trace in points}) == 3  # told apart in grey print too
    unchanged = points[1]
    assert list(unchanged.x) == [4.0, 3.0] and list(unchanged.y) == [3.9, 3.1]
    assert list(unchanged.customdata) == ["P2", "P3"] and "No reliable change" in unchanged.hovertemplate
    vertical, horizontal = figure.layout.shapes
    assert (vertical.x0, vertical.x1, vertical.xref) == (2.68, 2.68, "x")
    assert (horizontal.y0, horizontal.y1, horizontal.yref) == (2.68, 2.68, "y")
    assert figure.layout.xaxis.title.text == "ECR-R anxiety at baseline (1–7)"
    assert figure.layout.yaxis.title.text == "ECR-R anxiety at endpoint (1–7)"


def test_without_a_cutoff_or_a_reliable_change_threshold_the_scatter_leaves_them_out():
    figure = jacobson_truax(
        completers(jt_category=[None] * 4), "RSES total", (0, 30), None, None, "RSES total in north-2026-01"
    )
    diagonal, points = figure.data
    assert diagonal.name == "no change" and not figure.layout.shapes
    assert points.name == "Not classified" and len(points.x) == 4


def test_without_completers_the_scatter_says_so():
    figure = jacobson_truax(completers().clear(), "ECR-R anxiety", (1, 7), 0.5, 2.68, "none")
    assert [trace.name for trace in figure.data] == ["no reliable change (± 0.50)", "no change"]
    assert [a.text for a in figure.layout.annotations if a.text == "No completers yet"]


def release_rows(**columns) -> pl.DataFrame:
    """Three groups: all shown; two small categories withheld; too few completers."""
    return pl.DataFrame(
        {
            "group_id": ["Whole program", "north", "east"],
            "n_complete": [20, 12, None],
            "n_recovered": [5, 3, None],
            "n_improved": [5, None, None],
            "n_unchanged": [8, 7, None],
            "n_deteriorated": [2, None, None],
            "n_harmed": [0, 0, None],
            "small_counts": [[], ["n_deteriorated", "n_improved"], ["n_complete"]],
            "unclassified_counts": [[], [], []],
        }
        | columns,
        schema_overrides={"small_counts": pl.List(pl.String), "unclassified_counts": pl.List(pl.String)},
    )


def test_the_category_distribution_draws_shares_of_completers_and_never_a_withheld_count_as_0():
    figure = category_distribution(release_rows(), 5, "Categories")
    *bars, withheld, gaps = figure.data
    assert [bar.name for bar in bars] == [
        "Recovered",
        "Reliably improved",
        "No reliable change",
        "Reliably deteriorated",
        "Harmed",
    ]
    assert [bar.marker.color for bar in bars] == list(CATEGORY_COLOURS.values())
    assert all(list(bar.y) == ["Whole program", "north"] for bar in bars)  # east is not drawn at all
    assert [bar.x[0] for bar in bars] == [0.25, 0.25, 0.4, 0.1, 0.0]  # a count of 0 shown is a true 0
    assert [bar.x[1] for bar in bars] == [0.25, None, 7 / 12, None, 0.0]  # withheld: no bar, not a bar of 0
    assert list(bars[2].customdata[0]) == [8, 20]
    assert list(withheld.x) == [None, 2 / 12] and list(withheld.text) == [None, "withheld"]
    assert withheld.customdata[1] == "reliably improved <5, reliably deteriorated <5"
    assert list(gaps.y) == ["east"] and list(gaps.text) == ["<5 completers"]
    assert list(figure.layout.yaxis.categoryarray) == ["east", "north", "Whole program"]  # the first at the top


def test_a_group_without_categories_or_completers_is_a_labelled_gap():
    rows = release_rows(
        n_complete=[0, 12, 12],
        n_unchanged=[0, None, None],
        unclassified_counts=[[], [f"n_{c}" for c in CATEGORY_COLOURS], []],
        small_counts=[[], [], []],
    )
    figure = category_distribution(rows, 5, "Categories")
    *bars, withheld, gaps = figure.data
    assert all(len(bar.y) == 0 for bar in (*bars, withheld)) and not withheld.showlegend
    assert list(gaps.y) == ["Whole program", "north", "east"]
    assert list(gaps.text) == ["no completers", "not classified", "withheld"]


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
