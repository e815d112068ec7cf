"""Mixed models on simulated programs with known answers (OUTCOMES.md §6, issue: alerts)."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from transforms.alerts import not_on_track_alerts
from transforms.mixed_models import fit_expected_trajectory, intent_to_treat_change


def simulated_program(n: int, ten_week_change: float, seed: int = 4) -> pl.DataFrame:
    """Weekly scores with random intercepts and slopes; a third drop out after week 5 (at random)."""
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(n):
        intercept = rng.normal(4.8, 1.0)
        slope = ten_week_change / 10 + rng.normal(0, 0.02)
        last_week = 5 if rng.random() < 1 / 3 else 10
        for week in range(last_week + 1):
            rows.append((f"P{person:04d}", float(week), intercept + slope * week + rng.normal(0, 0.25)))
    return pl.DataFrame(rows, schema=["participant_id", "week", "score"], orient="row")


def test_intent_to_treat_recovers_a_known_ten_week_change():
    estimate = intent_to_treat_change(simulated_program(200, -0.4), max_participants=200)
    assert estimate.model == "random intercept and slope"
    assert estimate.ci_low < -0.4 < estimate.ci_high
    assert estimate.change == pytest.approx(-0.4, abs=0.08)
    assert (estimate.n_participants, estimate.ci_high - estimate.ci_low < 0.3) == (200, True)


def test_a_larger_group_is_estimated_on_a_seeded_sample():
    program = simulated_program(300, -0.4)
    first = intent_to_treat_change(program, max_participants=100)
    again = intent_to_treat_change(program, max_participants=100)
    assert first.n_participants == 100 and first == again


def test_too_few_participants_give_no_estimate():
    estimate = intent_to_treat_change(simulated_program(2, -0.4))
    assert estimate.change is None and estimate.model == "too few participants"


def history_with_intake(n: int = 150, seed: int = 8) -> pl.DataFrame:
    """Scores fall along ln(week + 1), faster for more severe intakes."""
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(n):
        intake = rng.normal(4.8, 0.9)
        for week in range(11):
            expected = intake - (0.1 + 0.05 * (intake - 4.8)) * np.log(week + 1)
            rows.append((f"H{person:04d}", float(week), intake, expected + rng.normal(0, 0.2)))
    return pl.DataFrame(rows, schema=["participant_id", "week", "intake", "score"], orient="row")


def person(participant_id: str, scores: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "participant_id": participant_id,
            "site_id": "north",
            "cohort_id": "n-1",
            "instrument": "ECR-R",
            "subscale": "anxiety",
            "week": list(range(len(scores))),
            "week_exact": [float(w) for w in range(len(scores))],
            "score": scores,
            "intake": scores[0],
            "completed_date": [date(2026, 3, 2) + timedelta(days=7 * w) for w in range(len(scores))],
            "baseline_date": date(2026, 3, 2),
        }
    )


def test_an_off_track_participant_is_flagged_and_an_on_track_one_is_not():
    trajectory = fit_expected_trajectory(history_with_intake())
    # simulated: score = intake − (0.1 + 0.05 · (intake − 4.8)) · ln(week + 1), so at intake 4.8 the slope is −0.1
    assert trajectory.log_week + 4.8 * trajectory.log_week_by_intake == pytest.approx(-0.1, abs=0.02)
    assert trajectory.log_week_by_intake == pytest.approx(-0.05, abs=0.02)
    on_track = [4.8 - 0.1 * float(np.log(w + 1)) for w in range(11)]
    off_track = [4.8 + 0.15 * w for w in range(11)]  # rising week by week
    alerts = not_on_track_alerts(pl.concat([person("ON01", on_track), person("OFF1", off_track)]), trajectory, None)
    assert set(alerts["participant_id"]) == {"OFF1"}
    assert set(alerts["rule"]) == {"above_expected_trajectory"}
    first = alerts.row(0, named=True)
    assert first["observed_score"] > first["threshold"] > first["expected_score"]


def test_reliable_deterioration_from_baseline_is_flagged_strictly_beyond_the_minimum_change():
    scores = person("DET1", [4.0, 4.5, 4.6, 4.3])
    alerts = not_on_track_alerts(scores, None, min_reliable_change=0.5)
    assert alerts.select("week", "rule", "observed_score", "expected_score").rows() == [
        (2, "reliable_deterioration", 4.6, 4.0)
    ]
