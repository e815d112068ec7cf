"""Distress drop per exercise type, and dose–response by tertile and Spearman's rho (OUTCOMES.md §7)."""

import math

import polars as pl
import pytest

from transforms.engagement import dose_response, exercise_drops, exercise_effects


def test_mean_distress_drop_per_exercise_with_a_t_interval():
    practices = pl.DataFrame(
        {
            "participant_id": ["A", "A", "B", "B", "C", "C"],
            "exercise": ["breathing"] * 4 + ["journaling"] * 2,
            "distress_before": [6, 7, 5, 8, 4, None],
            "distress_after": [4, 6, 5, 4, 4, 3],
        }
    )
    effects = {r["exercise"]: r for r in exercise_effects(exercise_drops(practices)).iter_rows(named=True)}
    # drops 2, 1, 0, 4: mean 1.75, sd sqrt(8.75/3), t(0.975, 3) = 3.182446
    half = 3.182446 * math.sqrt(8.75 / 3) / 2
    assert effects["breathing"]["mean_distress_drop"] == pytest.approx(1.75)
    assert effects["breathing"]["mean_distress_drop_ci_low"] == pytest.approx(1.75 - half, abs=1e-5)
    assert (effects["breathing"]["practices"], effects["breathing"]["participants"]) == (4, 2)
    assert effects["journaling"]["mean_distress_drop_ci_low"] is None  # one practice: no interval


def test_dose_response_tertiles_and_spearman():
    people = [f"P{i}" for i in range(9)]
    minutes = pl.DataFrame({"participant_id": people, "week": 3, "minutes": [float(10 * (i + 1)) for i in range(9)]})
    outcomes = pl.DataFrame(
        {
            "participant_id": people,
            "instrument": "ECR-R",
            "subscale": "anxiety",
            "outcome_status": "complete",
            "change_score": [-0.1 * i for i in range(9)],  # more practice, larger fall: rho = −1
        }
    )
    result = {r["practice_group"]: r for r in dose_response(minutes, outcomes).iter_rows(named=True)}
    assert [result[f"tertile {t}"]["n"] for t in (1, 2, 3)] == [3, 3, 3]
    assert result["tertile 1"]["minutes_max"] == 30 and result["tertile 3"]["minutes_min"] == 70
    assert result["tertile 3"]["mean_change"] == pytest.approx(-0.7)
    assert result["all"]["spearman_rho"] == pytest.approx(-1.0)
    assert result["all"]["spearman_rho_ci_low"] < result["all"]["spearman_rho_ci_high"]


def test_weeks_outside_0_to_10_do_not_count_and_too_few_people_give_nothing():
    minutes = pl.DataFrame({"participant_id": ["A"], "week": [11], "minutes": [100.0]})
    outcomes = pl.DataFrame(
        {
            "participant_id": ["A"],
            "instrument": "ECR-R",
            "subscale": "anxiety",
            "outcome_status": "complete",
            "change_score": [-0.5],
        }
    )
    assert dose_response(minutes, outcomes).is_empty()


def test_rho_is_left_out_when_no_one_practised():
    people = [f"P{i}" for i in range(6)]
    outcomes = pl.DataFrame(
        {
            "participant_id": people,
            "instrument": "ECR-R",
            "subscale": "anxiety",
            "outcome_status": "complete",
            "change_score": [-0.1 * i for i in range(6)],
        }
    )
    no_practice = pl.DataFrame(schema={"participant_id": pl.String, "week": pl.Int32, "minutes": pl.Float64})
    overall = dose_response(no_practice, outcomes).filter(pl.col("practice_group") == "all").row(0, named=True)
    assert overall["n"] == 6 and overall["minutes_max"] == 0
    assert (overall["spearman_rho"], overall["spearman_rho_ci_low"], overall["spearman_rho_ci_high"]) == (None,) * 3


@pytest.mark.parametrize("ids", [range(9), reversed(range(9))])
def test_equal_minutes_share_a_tertile_whoever_the_participants_are(ids):
    people = [f"P{i}" for i in ids]
    practice = [0.0] * 5 + [10.0, 20.0, 30.0, 40.0]
    minutes = pl.DataFrame({"participant_id": people, "week": 3, "minutes": practice})
    outcomes = pl.DataFrame(
        {
            "participant_id": people,
            "instrument": "ECR-R",
            "subscale": "anxiety",
            "outcome_status": "complete",
            "change_score": [-0.1, -0.2, -0.3, -0.4, -0.5, -0.6, -0.7, -0.8, -0.9],
        }
    )
    result = {r["practice_group"]: r for r in dose_response(minutes, outcomes).iter_rows(named=True)}
    # ranks (ties take the lowest) 1,1,1,1,1,6,7,8,9 of 9: (rank − 1) · 3 // 9 + 1 = 1,1,1,1,1,2,3,3,3
    assert [result[f"tertile {t}"]["n"] for t in (1, 2, 3)] == [5, 1, 3]
    assert result["tertile 1"]["minutes_max"] == 0 and result["tertile 1"]["mean_change"] == pytest.approx(-0.3)
    assert result["tertile 2"]["minutes_min"] == result["tertile 2"]["minutes_max"] == 10
