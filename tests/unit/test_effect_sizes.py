"""Completer change and Hedges' g (OUTCOMES.md §6, §8 Morris 2008 vectors)."""

import math

import polars as pl
import pytest

from transforms.effect_sizes import hedges_correction, paired_change_statistics, standardised_mean_change

MORRIS_2008 = [  # m_pre, m_post, sd_pre, n, r → g, variance (Table 5, treatment groups)
    (30.6, 38.5, 15.0, 20, 0.47, 0.5056, 0.0594),
    (23.5, 26.8, 3.1, 50, 0.64, 1.0481, 0.0254),
    (0.5, 0.7, 0.1, 9, 0.77, 1.8054, 0.2322),
    (53.4, 75.9, 14.5, 10, 0.89, 1.4181, 0.1225),
    (35.6, 36.0, 4.7, 14, 0.44, 0.0801, 0.0802),
]


@pytest.mark.parametrize(("pre", "post", "sd", "n", "r", "g", "variance"), MORRIS_2008)
def test_standardised_mean_change_reproduces_morris_2008(pre, post, sd, n, r, g, variance):
    got_g, got_variance = standardised_mean_change(post - pre, sd, n, r)
    assert round(float(got_g), 4) == g
    assert round(float(got_variance), 4) == variance


def test_exact_correction_against_the_gamma_function():
    m = 9
    assert float(hedges_correction(m)) == pytest.approx(
        math.gamma(m / 2) / (math.sqrt(m / 2) * math.gamma((m - 1) / 2))
    )


def test_paired_statistics_by_hand():
    # changes −1, 0, 1, 2: mean 0.5, sd sqrt(5/3), t(0.975, 3) = 3.182446
    frame = pl.DataFrame({"group": "a", "baseline_score": [5.0, 4.0, 3.0, 2.0], "endpoint_score": [4.0, 4.0, 4.0, 4.0]})
    stats = paired_change_statistics(frame, ["group"]).row(0, named=True)
    half_width = 3.182446 * math.sqrt(5 / 3) / 2
    assert stats["mean_change"] == pytest.approx(0.5)
    assert stats["mean_change_ci_low"] == pytest.approx(0.5 - half_width, abs=1e-5)
    assert stats["mean_change_ci_high"] == pytest.approx(0.5 + half_width, abs=1e-5)
    # g = J(3) · 0.5 / sd(baseline) with J(3) = Γ(1.5) / (sqrt(1.5) · Γ(1)) = 0.723601; its variance needs the
    # baseline-endpoint correlation, undefined when endpoints do not vary, so the interval is withheld
    assert stats["hedges_g"] == pytest.approx(0.723601 * 0.5 / math.sqrt(5 / 3), abs=1e-5)
    assert stats["hedges_g_ci_low"] is None and stats["hedges_g_ci_high"] is None


def test_groups_of_fewer_than_three_get_no_statistics():
    frame = pl.DataFrame(
        {
            "group": ["a", "a", "b", "b", "b"],
            "baseline_score": [5.0, 4.0, 5.0, 4.0, 6.0],
            "endpoint_score": [4.0, 3.0, 4.5, 3.0, 5.0],
        }
    )
    result = {r["group"]: r for r in paired_change_statistics(frame, ["group"]).iter_rows(named=True)}
    assert result["a"]["mean_change"] is None and result["a"]["hedges_g"] is None
    assert result["b"]["mean_change"] == pytest.approx((-0.5 - 1.0 - 1.0) / 3)
    assert result["b"]["hedges_g"] < 0


def test_g_is_null_when_baselines_do_not_vary():
    frame = pl.DataFrame({"group": "a", "baseline_score": [4.0] * 4, "endpoint_score": [3.0, 2.0, 3.5, 3.0]})
    stats = paired_change_statistics(frame, ["group"]).row(0, named=True)
    assert stats["mean_change"] == pytest.approx(-1.125)  # the change is still reported
    assert (stats["hedges_g"], stats["hedges_g_ci_low"], stats["hedges_g_ci_high"]) == (None, None, None)


def test_parts_pool_into_the_mean_and_interval_of_all_their_people():
    from transforms.effect_sizes import pooled_mean_change

    # month A: changes −1 and −3 in one cohort, −2 in another; month B: one person
    parts = pl.DataFrame(
        {"month": ["A", "A", "B"], "people": [2, 1, 1], "total": [-4.0, -2.0, 0.5], "squares": [10.0, 4.0, 0.25]}
    )
    pooled = pooled_mean_change(parts, "month")
    a, b = pooled.rows(named=True)
    assert (a["n"], a["mean_change"]) == (3, -2.0)  # SD 1: √((14 − 36/3) / 2)
    half = 4.302653 / 3**0.5  # t(0.975, 2) × SD / √n
    assert (a["ci_low"], a["ci_high"]) == (pytest.approx(-2 - half, abs=1e-5), pytest.approx(-2 + half, abs=1e-5))
    assert (b["n"], b["mean_change"], b["ci_low"], b["ci_high"]) == (1, 0.5, None, None)
