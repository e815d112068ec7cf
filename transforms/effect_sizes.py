"""Completer change with its confidence interval and Hedges' g for paired scores (OUTCOMES.md §6).

The formulas work on scalars and on numpy arrays alike, so that every group of a grouping is computed in one
vectorised pass.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special, stats

MIN_N = 3  # cohort statistics are NULL for fewer complete participants than this
Z_95 = 1.96  # the normal quantile as OUTCOMES.md §6 writes it


def hedges_correction(m):
    """Exact small-sample correction J(m) = Γ(m/2) / (sqrt(m/2) · Γ((m − 1)/2)), via log-gamma."""
    m = np.asarray(m, dtype=float)
    return np.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2)) / np.sqrt(m / 2)


def standardised_mean_change(mean_change, sd_baseline, n, r):
    """Hedges' g with the raw-score standardiser (Morris 2008) and its sampling variance.

    g = J(n − 1) · mean_change / SD_baseline; variance = 2(1 − r)/n + g²/(2n).
    """
    n = np.asarray(n, dtype=float)
    g = hedges_correction(n - 1) * np.asarray(mean_change) / np.asarray(sd_baseline)
    variance = 2 * (1 - np.asarray(r)) / n + g**2 / (2 * n)
    return g, variance


def t_interval(mean, sd, n):
    """mean ± t(0.975, n − 1) · sd / sqrt(n)."""
    n = np.asarray(n, dtype=float)
    half_width = stats.t.ppf(0.975, n - 1) * np.asarray(sd) / np.sqrt(n)
    return mean - half_width, mean + half_width


def paired_change_statistics(pairs: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Per group of `by`: means, mean change with its t interval, and Hedges' g with a 95% interval.

    `pairs` holds complete participants' `baseline_score` and `endpoint_score`. Every statistic is NULL for a
    group of fewer than three; g is NULL when the baseline scores do not vary, its interval also when the endpoint
    scores do not (r is then undefined).
    """
    aggregates = pairs.group_by(by).agg(
        n=pl.len(),
        mean_baseline=pl.col("baseline_score").mean(),
        mean_endpoint=pl.col("endpoint_score").mean(),
        mean_change=(pl.col("endpoint_score") - pl.col("baseline_score")).mean(),
        sd_change=(pl.col("endpoint_score") - pl.col("baseline_score")).std(),
        sd_baseline=pl.col("baseline_score").std(),
        r=pl.corr("baseline_score", "endpoint_score"),
    )
    return change_statistics(aggregates, by)


def change_statistics(aggregates: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """`paired_change_statistics` from each group's `n`, `mean_baseline`, `mean_endpoint`, `mean_change`,
    `sd_change`, `sd_baseline` and `r` (the correlation of baseline and endpoint), however they were pooled."""
    big_enough = aggregates.filter(pl.col("n") >= MIN_N)
    n = big_enough["n"].to_numpy()
    mean_change = big_enough["mean_change"].to_numpy()
    low, high = t_interval(mean_change, big_enough["sd_change"].to_numpy(), n)
    with np.errstate(divide="ignore", invalid="ignore"):
        g, variance = standardised_mean_change(
            mean_change, big_enough["sd_baseline"].to_numpy(), n, big_enough["r"].fill_nan(None).to_numpy()
        )
    undefined = ~np.isfinite(g)  # baselines all alike: g = mean change / 0
    g, variance = np.where(undefined, np.nan, g), np.where(undefined, np.nan, variance)
    half_width = Z_95 * np.sqrt(variance)
    computed = (
        big_enough.select(by)
        .with_columns(
            pl.Series("mean_change_ci_low", low),
            pl.Series("mean_change_ci_high", high),
            pl.Series("hedges_g", g),
            pl.Series("hedges_g_ci_low", g - half_width),
            pl.Series("hedges_g_ci_high", g + half_width),
        )
        .fill_nan(None)
    )
    return (
        aggregates.join(computed, on=by, how="left")
        .with_columns(
            [
                pl.when(pl.col("n") >= MIN_N).then(pl.col(c)).alias(c)
                for c in ("mean_baseline", "mean_endpoint", "mean_change")
            ]
        )
        .drop("n", "sd_change", "sd_baseline", "r")
    )


def pooled_mean_change(parts: pl.DataFrame, by: str) -> pl.DataFrame:
    """Parts pooled into groups by column `by`: n, mean change and its t-based 95% CI (None for fewer than two).

    Each part gives its `people`, the `total` of their changes and the sum of their `squares`, so that a group's
    mean and SD are those of all of its people."""
    n, total = pl.col("people").sum(), pl.col("total").sum()
    pooled = (
        parts.group_by(by)
        .agg(
            n=n,
            mean_change=total / n,
            sd=pl.when(n > 1).then(((pl.col("squares").sum() - total**2 / n).clip(0) / (n - 1)).sqrt()),
        )
        .sort(by)
    )
    low, high = t_interval(pooled["mean_change"].to_numpy(), pooled["sd"].to_numpy(), pooled["n"].to_numpy())
    return pooled.with_columns(pl.Series("ci_low", low), pl.Series("ci_high", high)).drop("sd").fill_nan(None)
