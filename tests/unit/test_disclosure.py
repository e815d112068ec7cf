"""Small-cell suppression with complementary suppression (OUTCOMES.md §9)."""

import polars as pl

from transforms.disclosure import OUTCOME_COUNTS, publication_count, suppress_outcomes


def row(grouping, group_id, **counts):
    base = dict.fromkeys(OUTCOME_COUNTS, 0)
    return {
        "grouping": grouping,
        "group_id": group_id,
        "instrument": "ECR-R",
        "subscale": "anxiety",
        **base,
        **counts,
        "mean_change": -0.4,
        "hedges_g": -0.3,
    }


def shown(frame: pl.DataFrame, group_id: str) -> dict:
    return frame.filter(pl.col("group_id") == group_id).row(0, named=True)


def test_a_small_category_and_its_smallest_partner_are_withheld():
    frame = pl.DataFrame(
        [
            row(
                "program",
                "all",
                n_enrolled=40,
                n_complete=30,
                n_improved=3,
                n_unchanged=20,
                n_deteriorated=7,
                n_not_yet_due=10,
            )
        ]
    )
    result = shown(suppress_outcomes(frame, 5), "all")
    # 3 improved is small; unchanged + deteriorated = complete would reveal it, so the smaller, 7, goes too
    assert (result["n_improved"], result["n_deteriorated"], result["n_unchanged"]) == (None, None, 20)
    assert result["mean_change"] == -0.4 and result["is_suppressed"]


def test_a_small_group_loses_its_statistics_and_another_group_hides_it_from_the_total():
    frame = pl.DataFrame(
        [
            row("program", "all", n_enrolled=53, n_complete=45, n_unchanged=45, n_not_yet_due=8),
            row("site", "north", n_enrolled=3, n_complete=3, n_unchanged=3),
            row("site", "south", n_enrolled=20, n_complete=17, n_unchanged=17, n_not_yet_due=3),
            row("site", "east", n_enrolled=30, n_complete=25, n_unchanged=25, n_not_yet_due=5),
        ]
    )
    result = suppress_outcomes(frame, 5)
    north, south, east = (shown(result, g) for g in ("north", "south", "east"))
    assert north["n_enrolled"] is None and north["mean_change"] is None and north["hedges_g"] is None
    assert south["n_enrolled"] is None  # the next smallest site, so north cannot be worked out from the total
    assert east["n_enrolled"] == 30 and east["mean_change"] == -0.4 and not east["is_suppressed"]
    assert shown(result, "all")["n_enrolled"] == 53


def test_nothing_is_withheld_when_every_cell_is_large_or_zero():
    frame = pl.DataFrame([row("program", "all", n_enrolled=50, n_complete=50, n_unchanged=50)])
    result = shown(suppress_outcomes(frame, 5), "all")
    assert not result["is_suppressed"] and result["n_improved"] == 0


def test_an_intent_to_treat_figure_adding_only_a_few_non_completers_is_withheld():
    itt = {"itt_change": -0.3, "itt_ci_low": -0.5, "itt_ci_high": -0.1}
    frame = pl.DataFrame(
        [
            row("cohort", "a", n_enrolled=8, n_complete=6, n_no_endpoint=2) | itt | {"itt_participants": 8},
            row("cohort", "b", n_enrolled=12, n_complete=6, n_no_endpoint=6) | itt | {"itt_participants": 12},
            row("cohort", "c", n_enrolled=6, n_complete=6, n_unchanged=6) | itt | {"itt_participants": 6},
        ]
    )
    result = suppress_outcomes(frame, 5)
    a, b, c = (shown(result, g) for g in "abc")
    # a: 2 more people than the completers, so the two figures side by side would tell which way those 2 went
    assert (a["itt_change"], a["itt_ci_low"], a["mean_change"], a["is_suppressed"]) == (None, None, -0.4, True)
    assert (b["itt_change"], c["itt_change"]) == (-0.3, -0.3)  # 6 more people; nobody more


def test_publication_rounding():
    assert [publication_count(n) for n in (0, 1, 7, 8, 12, 13, None)] == ["0", "*", "*", "10", "10", "15", None]
