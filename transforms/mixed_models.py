"""Linear mixed models: the intent-to-treat 10-week change and the expected trajectory for not-on-track alerts.

Both are fitted once per grouping (never per participant) with statsmodels' MixedLM, on a seeded sample of
at most `max_participants` people per group so that a nightly refresh of a large network stays cheap; the
sample's size is reported beside every estimate.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl

MAX_PARTICIPANTS = 250
Z_ALERT = 1.645  # one-sided 95%: a score this many prediction SDs above expectation is flagged


def _sample_participants(scores: pl.DataFrame, max_participants: int, seed: int) -> pl.DataFrame:
    people = scores.select("participant_id").unique().sort("participant_id")
    if people.height > max_participants:
        people = people.sample(max_participants, seed=seed)
    return scores.join(people, on="participant_id", how="semi")


def _fit(formula: str, data, re_formula: str | None):
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # "MLE on the boundary" (a variance near zero) still gives valid fixed effects; convergence decides.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        model = smf.mixedlm(formula, data, groups=data["participant_id"], re_formula=re_formula)
        # Powell first, then L-BFGS: BFGS, the default first choice, often stops short of convergence on these models
        result = model.fit(reml=True, method=["powell", "lbfgs"])
    if not result.converged or not np.all(np.isfinite(result.bse_fe)):
        raise ValueError("did not converge")
    return result


def fit_with_fallback(formula: str, data, slope_term: str | None):
    """Random intercept and slope when it converges, else random intercept only (OUTCOMES.md §6)."""
    if slope_term is not None:
        try:
            return _fit(formula, data, f"~{slope_term}"), "random intercept and slope"
        except (ValueError, np.linalg.LinAlgError):
            pass
    return _fit(formula, data, None), "random intercept"


@dataclass(frozen=True)
class ChangeEstimate:
    change: float | None
    ci_low: float | None
    ci_high: float | None
    model: str
    n_participants: int
    n_scores: int


def intent_to_treat_change(
    scores: pl.DataFrame, weeks: float = 10, max_participants: int = MAX_PARTICIPANTS, seed: int = 20260101
) -> ChangeEstimate:
    """The change over `weeks` from every score (`participant_id`, `week` as days/7, `score`): weeks × the fixed
    slope of `score ~ week` with a random intercept and slope per participant, with its 95% CI."""
    data = _sample_participants(scores.drop_nulls("score"), max_participants, seed)
    people = data["participant_id"].n_unique()
    if people < 3 or data["week"].n_unique() < 2:
        return ChangeEstimate(None, None, None, "too few participants", people, data.height)
    frame = data.select("participant_id", "week", "score").to_pandas()
    try:
        result, model = fit_with_fallback("score ~ week", frame, "week")
    except (ValueError, np.linalg.LinAlgError):
        return ChangeEstimate(None, None, None, "did not converge", people, data.height)
    low, high = result.conf_int().loc["week"]
    return ChangeEstimate(weeks * result.fe_params["week"], weeks * low, weeks * high, model, people, data.height)


@dataclass(frozen=True)
class ExpectedTrajectory:
    """score ≈ b0 + b1·ln(week + 1) + b2·intake + b3·ln(week + 1)·intake, with prediction SD for a new score."""

    intercept: float
    log_week: float
    intake: float
    log_week_by_intake: float
    prediction_sd: float

    def expected(self, week: pl.Expr, intake: pl.Expr) -> pl.Expr:
        log_week = (week + 1).log()
        return (
            self.intercept
            + self.log_week * log_week
            + self.intake * intake
            + self.log_week_by_intake * log_week * intake
        )


def fit_expected_trajectory(
    scores: pl.DataFrame, max_participants: int = MAX_PARTICIPANTS, seed: int = 20260101
) -> ExpectedTrajectory | None:
    """Fit the program's expected trajectory by intake severity on its history (`participant_id`, `week` ≥ 0,
    `score`, `intake` = baseline score); None with too little history."""
    data = _sample_participants(scores.drop_nulls("score").filter(pl.col("week") >= 0), max_participants, seed)
    if data["participant_id"].n_unique() < 10:
        return None
    frame = data.with_columns(log_week=(pl.col("week") + 1).log()).to_pandas()
    try:
        result, _model = fit_with_fallback("score ~ log_week * intake", frame, None)
    except (ValueError, np.linalg.LinAlgError):
        return None
    params = result.fe_params
    intercept_variance = float(np.asarray(result.cov_re)[0, 0])
    return ExpectedTrajectory(
        params["Intercept"],
        params["log_week"],
        params["intake"],
        params["log_week:intake"],
        math.sqrt(intercept_variance + result.scale),
    )
