"""Mixed models on simulated programs with known answers (OUTCOMES.md §6, issue: alerts)."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from transforms.alerts import not_on_track_alerts
from transforms.mixed_models import (
    VarianceComponents,
    _moment_start,
    change_by_group,
    fit_expected_trajectory,
    fit_variance_components,
    fit_with_fallback,
    person_sums,
)


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


def by_group(*programs: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(
        p.with_columns(group_id=pl.lit(f"g{i}"), participant_id=f"g{i}-" + pl.col("participant_id"))
        for i, p in enumerate(programs)
    )


def test_the_closed_form_reproduces_statsmodels_when_given_its_variance_components():
    program = simulated_program(120, -0.4)
    for slope_term, model in [("week", "random intercept and slope"), (None, "random intercept")]:
        result, fitted = fit_with_fallback("score ~ week", program.to_pandas(), slope_term)
        assert fitted == model
        between = np.zeros((2, 2))
        between[: result.cov_re.shape[0], : result.cov_re.shape[1]] = np.asarray(result.cov_re)
        components = VarianceComponents(between, result.scale, model, 120)
        (change,) = change_by_group(person_sums(program).with_columns(group_id=pl.lit("all")), components, weeks=10)
        low, high = result.conf_int().loc["week"]
        assert change.change == pytest.approx(10 * result.fe_params["week"], abs=1e-6)
        assert (change.ci_low, change.ci_high) == pytest.approx((10 * low, 10 * high), abs=1e-4)
        assert (change.n_participants, change.n_scores) == (120, program.height)


def test_each_group_recovers_its_own_known_ten_week_change():
    scores = by_group(simulated_program(150, -0.4, seed=1), simulated_program(150, -0.1, seed=2))
    components = fit_variance_components(scores, max_participants=200)
    assert components.model == "random intercept and slope" and components.n_participants == 200
    faster, slower = change_by_group(person_sums(scores, by=("group_id",)), components)
    for group, truth in [(faster, -0.4), (slower, -0.1)]:
        assert group.ci_low < truth < group.ci_high
        assert group.change == pytest.approx(truth, abs=0.08)
        assert group.n_participants == 150 and group.ci_high - group.ci_low < 0.3


def test_the_moment_start_is_each_persons_own_line():
    # three people, each exactly on a line but for residuals (+0.1, −0.2, +0.1), which change neither line
    lines = {"A": (1.0, 0.5), "B": (2.0, 0.1), "C": (3.0, 0.3)}
    scores = pl.DataFrame(
        [
            (person, w, a + b * w + e)
            for person, (a, b) in lines.items()
            for w, e in zip((0.0, 1.0, 2.0), (0.1, -0.2, 0.1), strict=True)
        ],
        schema=["participant_id", "week", "score"],
        orient="row",
    )
    start = _moment_start(scores)
    residual = 0.06  # 0.01 + 0.04 + 0.01 per person, on n − 2 = 1 degree of freedom each
    assert start.fe_params == pytest.approx([2.0, 0.3])
    # intercepts 1, 2, 3 and slopes 0.5, 0.1, 0.3: variances 1 and 0.04, covariance −0.1; relative to the residual
    assert start.cov_re == pytest.approx(np.array([[1.0, -0.1], [-0.1, 0.04]]) / residual)
    assert _moment_start(scores.filter(pl.col("participant_id") != "C")) is None  # fewer than three lines
    same_slope = pl.DataFrame(  # three parallel lines: no spread of slopes, so statsmodels' own start is used
        [
            (person, w, a + 0.5 * w + e)
            for person, a in zip("ABC", (1.0, 2.0, 4.0), strict=True)
            for w, e in zip((0.0, 1.0, 2.0), (0.1, -0.2, 0.1), strict=True)
        ],
        schema=["participant_id", "week", "score"],
        orient="row",
    )
    assert _moment_start(same_slope) is None


def test_the_moment_start_reaches_the_optimum_of_statsmodels_default_start():
    program = simulated_program(120, -0.4, seed=6)
    data = program.to_pandas()
    cold, _ = fit_with_fallback("score ~ week", data, "week")
    warm, _ = fit_with_fallback("score ~ week", data, "week", _moment_start(program))
    assert warm.llf == pytest.approx(cold.llf, abs=1e-3)
    assert warm.fe_params["week"] == pytest.approx(cold.fe_params["week"], abs=1e-5)
    assert np.asarray(warm.cov_re) == pytest.approx(np.asarray(cold.cov_re), rel=1e-2, abs=1e-5)


def test_variance_components_come_from_a_seeded_sample():
    program = simulated_program(300, -0.4)
    first = fit_variance_components(program, max_participants=100)
    again = fit_variance_components(program, max_participants=100)
    assert first.n_participants == 100
    assert (first.residual, first.between_people.tolist()) == (again.residual, again.between_people.tolist())


def test_too_few_participants_give_no_estimate():
    assert fit_variance_components(simulated_program(2, -0.4)) is None
    components = fit_variance_components(simulated_program(50, -0.4))
    two_groups = by_group(simulated_program(2, -0.4), simulated_program(50, -0.4))
    small, large = change_by_group(person_sums(two_groups, by=("group_id",)), components)
    assert (small.change, small.ci_low, small.n_participants) == (None, None, 2)
    assert large.change is not None and large.n_participants == 50
    only_week_two = simulated_program(20, -0.4).filter(pl.col("week") == 2).with_columns(group_id=pl.lit("g"))
    (one_week,) = change_by_group(person_sums(only_week_two, by=("group_id",)), components)
    assert one_week.change is None and one_week.n_participants == 20


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
    assert alerts.select("week", "rule", "observed_score", "expected_score", "is_latest").rows() == [
        (2, "reliable_deterioration", 4.6, 4.0, False)  # week 3's 4.3 is their latest
    ]
    alerts = not_on_track_alerts(person("DET2", [4.0, 4.3, 4.6]), None, min_reliable_change=0.5)
    assert alerts.select("week", "is_latest").rows() == [(2, True)]
