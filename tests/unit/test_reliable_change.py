"""Reliable change and clinical significance (OUTCOMES.md §4–5, §8 vectors)."""

import polars as pl
import pytest

from transforms.instruments import BUILT_IN
from transforms.reliable_change import (
    Z_RELIABLE,
    ItemSums,
    added,
    baseline_item_sums,
    classify_change,
    cronbach_alpha,
    cutoff_value,
    outcome_parameters,
    standard_error_of_difference,
)


def test_rci_vector_by_hand():
    s_diff = standard_error_of_difference(1.0, 0.90)
    assert s_diff == pytest.approx(0.4472, abs=5e-5)
    assert Z_RELIABLE * s_diff == pytest.approx(0.8765, abs=5e-5)
    assert -0.90 / s_diff == pytest.approx(-2.0125, abs=5e-5)
    assert -0.87 / s_diff == pytest.approx(-1.9454, abs=5e-5)


def test_cutoff_vectors_of_jacobson_et_al():
    clinical, functional = (40, 7.5), (60, 7.5)
    assert cutoff_value("c", *clinical, *functional, sign=1) == pytest.approx(50)
    assert cutoff_value("a", *clinical, *functional, sign=1) == pytest.approx(55)
    assert cutoff_value("b", *clinical, *functional, sign=1) == pytest.approx(45)
    assert cutoff_value("a", *clinical, *functional, sign=-1) == pytest.approx(25)
    assert cutoff_value("b", *clinical, *functional, sign=-1) == pytest.approx(75)
    assert cutoff_value(10, *clinical, *functional, sign=-1) == 10.0
    with pytest.raises(ValueError, match="functional_mean"):
        cutoff_value("b", 40, 7.5, None, None, sign=1)


def test_cronbach_alpha_by_hand():
    # item variances 5/3, 4.75/3, 5/3 (sum 14.75/3); totals 5, 8, 10, 14 have variance 42.75/3
    items = pl.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 3, 5], "c": [2, 3, 4, 5]})
    assert cronbach_alpha(items) == pytest.approx(1.5 * (1 - 14.75 / 42.75))
    assert cronbach_alpha(items.head(1)) is None
    assert cronbach_alpha(items.select("a")) is None  # one item has no alpha


def test_item_sums_of_batches_add_up_to_the_alpha_of_all_the_items():
    items = pl.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 3, 5], "c": [2, 3, 4, 5]})
    whole = ItemSums.of(items)
    assert (whole.n, whole.sums, whole.squares) == (4, (10, 13, 14, 37), (30, 47, 54, 385))
    batches = ItemSums.of(items.tail(1)) + ItemSums() + ItemSums.of(items.head(3))
    assert batches == whole and batches.alpha() == whole.alpha() == pytest.approx(1.5 * (1 - 14.75 / 42.75))
    assert ItemSums.of(items.head(0)).alpha() is None and ItemSums().alpha() is None


def test_baseline_item_sums_of_batches_add_up_per_subscale():
    batches = [baseline_item_sums(forms(4), BUILT_IN), baseline_item_sums(forms(6, "avoidance"), BUILT_IN)]
    merged = added(*batches)
    assert sorted(merged) == [("ECR-R", "anxiety"), ("ECR-R", "avoidance")]
    assert merged[("ECR-R", "anxiety")] == batches[0][("ECR-R", "anxiety")]
    assert merged[("ECR-R", "avoidance")].n == 6
    assert added(merged, merged)[("ECR-R", "anxiety")].n == 8


def classify(
    rows: list[tuple[float, float]],
    *,
    method="jacobson_truax",
    min_change=Z_RELIABLE,
    cutoff=10.0,
    direction="lower_is_better",
) -> list[tuple]:
    outcomes = pl.DataFrame(
        {
            "instrument": "X",
            "subscale": "total",
            "baseline_score": [b for b, _ in rows],
            "endpoint_score": [e for _, e in rows],
        }
    )
    parameters = pl.DataFrame(
        {
            "instrument": ["X"],
            "subscale": ["total"],
            "direction": [direction],
            "reliable_change_method": [method],
            "min_reliable_change": [min_change],
            "cutoff": [cutoff],
        }
    )
    result = classify_change(outcomes, parameters)
    return list(zip(result["rci"], result["reliable_change"], result["jt_category"], strict=True))


def test_rci_boundary_is_strict():
    # min change 1.96 means S_diff = 1, so the rci equals the change (from 0, exactly representable)
    results = classify([(0, -1.96), (0, -1.9601), (0, 1.96), (0, 1.9601)], cutoff=None)
    assert [r[1] for r in results] == ["unchanged", "improved", "unchanged", "deteriorated"]
    assert results[0][0] == pytest.approx(-1.96)


def test_fixed_threshold_is_inclusive():
    results = classify([(12, 8), (12, 9), (12, 16), (12, 15)], method="fixed", min_change=4, cutoff=8)
    assert [r[1] for r in results] == ["improved", "unchanged", "deteriorated", "unchanged"]
    assert all(r[0] is None for r in results)  # fixed thresholds have no RCI


def test_the_five_jacobson_truax_categories_lower_is_better():
    results = classify(
        [
            (15, 8),  # clinical, functional at endpoint, reliably improved: recovered
            (15, 11),  # reliably improved, still above the cutoff: improved
            (15, 14),  # no reliable change: unchanged
            (8, 12),  # not clinical at baseline, not functional at endpoint, reliably worse: harmed
            (12, 16),  # clinical at baseline, reliably worse: deteriorated
            (10, 8),  # baseline equal to the cutoff counts as clinical (>=): recovered
            (14, 10),  # endpoint equal to the cutoff is not functional (<): improved
        ]
    )
    assert [r[2] for r in results] == [
        "recovered",
        "improved",
        "unchanged",
        "harmed",
        "deteriorated",
        "recovered",
        "improved",
    ]


def test_categories_mirror_when_higher_is_better():
    results = classify([(15, 25), (25, 15)], cutoff=20, direction="higher_is_better")
    assert [r[1:] for r in results] == [("improved", "recovered"), ("deteriorated", "harmed")]


def test_no_cutoff_gives_reliable_change_but_no_category():
    assert classify([(15, 8)], cutoff=None)[0][1:] == ("improved", None)


def pairs(baselines: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"instrument": "ECR-R", "subscale": "anxiety", "baseline_score": baselines})


def forms(rows: int, subscale: str = "anxiety") -> pl.DataFrame:
    # anxiety items vary together across people, avoidance stays constant
    responses = [[1 + (p + i) % 7 if i < 18 else 4 for i in range(36)] for p in range(rows)]
    return pl.DataFrame({"instrument": "ECR-R", "subscale": subscale, "responses": responses})


def test_parameters_come_from_the_program_and_say_where_from():
    baselines = [3.0, 4.0, 5.0, 6.0, 4.5, 5.5, 3.5, 4.0, 5.0, 6.5]
    params = outcome_parameters(pairs(baselines), baseline_item_sums(forms(10), BUILT_IN), BUILT_IN, {}).row(
        0, named=True
    )
    sd = pl.Series(baselines).std()
    assert params["n_pairs"] == 10 and params["sd_baseline"] == pytest.approx(sd)
    assert params["reliability_source"].startswith("Cronbach")
    assert params["cutoff"] == pytest.approx(sum(baselines) / 10 - 2 * sd)  # criterion a, lower is better
    s_diff = sd * (2 * (1 - params["reliability"])) ** 0.5
    assert params["min_reliable_change"] == pytest.approx(1.96 * s_diff)


def test_fewer_than_ten_pairs_leaves_sample_based_reliable_change_null():
    params = outcome_parameters(pairs([3.0, 4.0, 5.0]), baseline_item_sums(forms(3), BUILT_IN), BUILT_IN, {}).row(
        0, named=True
    )
    assert params["min_reliable_change"] is None and params["n_pairs"] == 3


def test_config_overrides_a_default():
    config = {"ECR-R": {"anxiety": {"reliability": 0.9, "sd": 1.0, "cutoff": 4.0}}}
    params = outcome_parameters(pairs([3.0, 5.0] * 5), baseline_item_sums(forms(10), BUILT_IN), BUILT_IN, config).row(
        0, named=True
    )
    assert params["reliability"] == 0.9 and params["reliability_source"] == "config"
    assert params["min_reliable_change"] == pytest.approx(0.8765, abs=5e-5)
    assert params["cutoff"] == 4.0 and params["cutoff_source"] == "config"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"reliability": 1.2}, "reliability must be at least 0 and below 1"),
        ({"reliable_change": "fixed"}, "needs a threshold"),
        ({"reliabilty": 0.8}, "^reliabilty: unknown key"),
        ({"reliable_change": "bootstrap"}, 'reliable_change must be "jacobson_truax" or "fixed"'),
        ({"cutoff": "d"}, 'cutoff must be "a", "b", "c" or a number'),
        ({"cutoff": "c", "functional_mean": 2.0}, 'cutoff "c" needs functional_mean and functional_sd'),
        ({"sd": -1.0}, "sd must be above 0, got -1.0"),
        ({"reliable_change": "fixed", "threshold": 0}, "threshold must be above 0, got 0"),
        ({"cutoff": "b", "functional_mean": 2.0, "functional_sd": 0.0}, "functional_sd must be above 0, got 0.0"),
    ],
)
def test_config_slips_are_refused_with_the_reason(entry, message):
    from transforms.reliable_change import settings_for

    with pytest.raises(ValueError, match=message):
        settings_for(BUILT_IN["ECR-R"], "anxiety", {"ECR-R": {"anxiety": entry}})


def test_group_counts_of_categories_are_null_where_nothing_was_classified_not_zero():
    from datetime import date

    from transforms.outcomes import cohort_outcomes

    def person(pid, site, status, category, jt=None):
        change = -1.0 if status == "complete" else None
        return {
            "participant_id": pid,
            "site_id": site,
            "cohort_id": f"{site}-1",
            "modality": "cbt",
            "instrument": "ECR-R",
            "subscale": "anxiety",
            "baseline_date": date(2026, 1, 5),
            "baseline_score": 5.0,
            "endpoint_date": date(2026, 3, 16) if change else None,
            "endpoint_score": 4.0 if change else None,
            "change_score": change,
            "rci": None,
            "reliable_change": category,
            "is_clinical_at_baseline": None,
            "is_functional_at_endpoint": None,
            "jt_category": jt,
            "outcome_status": status,
        }

    outcomes = pl.DataFrame(
        [person(f"N{i}", "north", "complete", "improved", "recovered") for i in range(3)]
        + [person(f"S{i}", "south", "complete", None) for i in range(3)]  # too few pairs program-wide: no category
        + [person(f"E{i}", "east", "not_yet_due", None) for i in range(3)]
    )
    rows = {r["group_id"]: r for r in cohort_outcomes(outcomes).iter_rows(named=True)}
    counts = ("n_improved", "n_unchanged", "n_recovered", "n_harmed")
    assert [rows["north"][c] for c in counts] == [3, 0, 3, 0]
    assert [rows["south"][c] for c in counts] == [None] * 4  # not 0 %: nothing was classified
    assert [rows["east"][c] for c in counts] == [0] * 4  # nobody complete yet
    assert [rows["all"][c] for c in counts] == [3, 0, 3, 0]


def test_alpha_is_of_the_forms_of_those_complete_on_that_subscale():
    baselines = [3.0, 4.0, 5.0, 6.0, 4.5, 5.5, 3.5, 4.0, 5.0, 6.5]
    alone = outcome_parameters(pairs(baselines), baseline_item_sums(forms(10), BUILT_IN), BUILT_IN, {})["reliability"][
        0
    ]
    # the baseline forms of people complete on avoidance only do not enter the anxiety alpha
    noisy = pl.DataFrame(
        {"instrument": "ECR-R", "subscale": "avoidance", "responses": [[7, 1] * 18, [1, 7] * 18, [4] * 36]}
    )
    mixed = outcome_parameters(
        pairs(baselines), baseline_item_sums(pl.concat([forms(10), noisy]), BUILT_IN), BUILT_IN, {}
    )
    assert mixed["reliability"][0] == alone


def keyed_alike(answer: int) -> list[int]:
    """ECR-R answers whose 18 anxiety items, once reverse-keyed (items 9 and 11), are all `answer`."""
    return [8 - answer if item in (9, 11) else answer for item in range(1, 19)] + [4] * 18


def test_alpha_of_one_leaves_change_unclassified_instead_of_infinitely_reliable():
    answers = [2, 3, 4, 5, 6, 2, 3, 4, 5, 6]
    items = pl.DataFrame({"instrument": "ECR-R", "subscale": "anxiety", "responses": [keyed_alike(a) for a in answers]})
    params = outcome_parameters(pairs([float(a) for a in answers]), baseline_item_sums(items, BUILT_IN), BUILT_IN, {})
    assert params["reliability"][0] == 1.0  # never above 1, whatever the rounding
    assert params["min_reliable_change"][0] is None  # S_diff would be 0
    outcomes = pl.DataFrame(
        {"instrument": "ECR-R", "subscale": "anxiety", "baseline_score": [3.0, 3.0], "endpoint_score": [3.0, 2.0]}
    )
    classified = classify_change(outcomes, params)
    assert classified["rci"].to_list() == [None, None]
    assert classified["reliable_change"].to_list() == [None, None]
    assert classified["jt_category"].to_list() == [None, None]


def test_alpha_a_hair_above_one_is_one():
    # identical keyed answers on three items: the formula gives 1.0000000000000002
    answers = [5, 6, 4, 6, 7, 6, 1, 2, 6, 2, 1, 1, 2, 2, 3, 7, 2, 4, 6, 7, 2, 6, 4, 1, 1, 1, 6, 4, 5]
    items = pl.DataFrame({str(i): answers for i in range(3)})
    assert cronbach_alpha(items) == 1.0


def test_baselines_all_alike_leave_change_unclassified():
    config = {"ECR-R": {"anxiety": {"reliability": 0.8}}}
    params = outcome_parameters(pairs([4.0] * 10), baseline_item_sums(forms(10), BUILT_IN), BUILT_IN, config)
    assert params["sd_baseline"][0] == 0.0 and params["min_reliable_change"][0] is None
