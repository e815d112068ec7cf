"""Linear mixed models: the intent-to-treat 10-week change and the expected trajectory for not-on-track alerts.

statsmodels' MixedLM is fitted once per program (never per group or participant) on a seeded sample of at most
`max_participants` people, so that a nightly refresh of a large network stays cheap. The intent-to-treat change
of every group (the program, each site, cohort and modality) then comes from all of its scores by generalised
least squares given the fitted variance components: the mixed model's own estimator, in closed form.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl

MAX_PARTICIPANTS = 250
PEOPLE_PER_CHUNK = 100_000  # people whose GLS terms change_by_group computes at a time
Z_ALERT = 1.645  # one-sided 95%: a score this many prediction SDs above expectation is flagged


def sampled_participants(
    participants: pl.DataFrame, max_participants: int = MAX_PARTICIPANTS, seed: int = 20260101
) -> pl.DataFrame:
    """The seeded sample of at most `max_participants` of the `participant_id`s given (with repeats, in any order)
    that a model is fitted on: the rows of those participants alone give the fit that all rows give."""
    people = participants.select("participant_id").unique().sort("participant_id")
    if people.height > max_participants:
        people = people.sample(max_participants, seed=seed)
    return people


def _sample_participants(scores: pl.DataFrame, max_participants: int, seed: int) -> pl.DataFrame:
    return scores.join(sampled_participants(scores, max_participants, seed), on="participant_id", how="semi")


def _fit(formula: str, data, re_formula: str | None, start_params=None):
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, SingularMatrixWarning

    with warnings.catch_warnings():
        # "MLE on the boundary" (a variance near zero, a singular covariance on the way) still gives valid fixed
        # effects; convergence decides.
        for quiet in (ConvergenceWarning, SingularMatrixWarning, RuntimeWarning):
            warnings.simplefilter("ignore", quiet)
        model = smf.mixedlm(formula, data, groups=data["participant_id"], re_formula=re_formula)
        # L-BFGS finishes in a few steps when it succeeds; where it stops short or meets a singular matrix, Powell,
        # slower but sturdier, then L-BFGS from where Powell ends (bench/HISTORY.md, sessions 3 and 5)
        for methods in (["lbfgs"], ["powell", "lbfgs"]):
            try:
                result = model.fit(reml=True, method=methods, start_params=start_params)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if result.converged and np.all(np.isfinite(result.bse_fe)):
                return result
    raise ValueError("did not converge")


def _moment_start(data: pl.DataFrame):
    """Start values for `score ~ week` with a random intercept and slope, from each person's own least-squares line:
    the mean line for the fixed effects, the spread of the lines for the random effects and the residuals around
    them for the scale. None when fewer than 3 people have two distinct weeks, or their lines do not spread in
    every direction."""
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    centred = data.with_columns(
        dw=pl.col("week") - pl.col("week").mean().over("participant_id"),
        dy=pl.col("score") - pl.col("score").mean().over("participant_id"),
    )
    lines = (
        centred.group_by("participant_id")
        .agg(
            mean_week=pl.col("week").mean(),
            mean_score=pl.col("score").mean(),
            n=pl.len(),
            sxx=(pl.col("dw") ** 2).sum(),
            syy=(pl.col("dy") ** 2).sum(),
            sxy=(pl.col("dw") * pl.col("dy")).sum(),
        )
        .filter(pl.col("sxx") > 0)
        .with_columns(slope=pl.col("sxy") / pl.col("sxx"))
        .sort("participant_id")
    )
    if lines.height < 3 or (lines["n"] - 2).sum() <= 0:
        return None
    intercepts = lines["mean_score"] - lines["slope"] * lines["mean_week"]
    residual = float((lines["syy"] - lines["slope"] * lines["sxy"]).sum() / (lines["n"] - 2).sum())
    if residual <= 0:
        return None
    estimates = np.column_stack([intercepts.to_numpy(), lines["slope"].to_numpy()])
    spread = np.cov(estimates, rowvar=False)
    if np.linalg.eigvalsh(spread).min() <= 1e-12 * np.abs(spread).max():  # lines alike in some direction
        return None
    return MixedLMParams.from_components(fe_params=estimates.mean(axis=0), cov_re=spread / residual)


def fit_with_fallback(formula: str, data, slope_term: str | None, start_params=None):
    """Random intercept and slope when it converges, else random intercept only (OUTCOMES.md §6)."""
    if slope_term is not None:
        try:
            return _fit(formula, data, f"~{slope_term}", start_params), "random intercept and slope"
        except (ValueError, np.linalg.LinAlgError):
            pass
    return _fit(formula, data, None), "random intercept"


@dataclass(frozen=True)
class VarianceComponents:
    """How people spread around their group's line in `score ~ week`: the covariance of each person's intercept
    and weekly slope, and the variance of scores around their own line."""

    between_people: np.ndarray  # 2 × 2: intercept, slope per week
    residual: float
    model: str
    n_participants: int  # the sample they were estimated on


def fit_variance_components(
    scores: pl.DataFrame, max_participants: int = MAX_PARTICIPANTS, seed: int = 20260101
) -> VarianceComponents | None:
    """Fit `score ~ week` with a random intercept and slope per participant (`participant_id`, `week` in weeks,
    `score`) on a seeded sample; None when there is too little to fit."""
    data = _sample_participants(scores.drop_nulls("score"), max_participants, seed)
    people = data["participant_id"].n_unique()
    if people < 3 or data["week"].n_unique() < 2:
        return None
    try:
        result, model = fit_with_fallback(
            "score ~ week", data.select("participant_id", "week", "score").to_pandas(), "week", _moment_start(data)
        )
    except (ValueError, np.linalg.LinAlgError):
        return None
    between = np.zeros((2, 2))
    cov_re = np.asarray(result.cov_re)
    between[: cov_re.shape[0], : cov_re.shape[1]] = cov_re
    return VarianceComponents(between, float(result.scale), model, people)


@dataclass(frozen=True)
class GroupChange:
    group_id: str
    change: float | None
    ci_low: float | None
    ci_high: float | None
    n_participants: int
    n_scores: int


def person_sums(scores: pl.DataFrame, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """What the generalised least squares of `change_by_group` needs of each participant's scores (`participant_id`,
    `week`, `score`): their number n, Σweek, Σweek², Σscore and Σweek·score, and their first and last week. The `by`
    columns (a participant's groups) are kept."""
    return (
        scores.drop_nulls("score")
        .group_by("participant_id", *by)
        .agg(
            n=pl.len(),
            weeks=pl.col("week").sum(),
            weeks_squared=(pl.col("week") ** 2).sum(),
            total=pl.col("score").sum(),
            weeks_by_score=(pl.col("week") * pl.col("score")).sum(),
            first_week=pl.col("week").min(),
            last_week=pl.col("week").max(),
        )
    )


def change_by_group(
    people: pl.DataFrame, components: VarianceComponents, weeks: float = 10, min_participants: int = 3
) -> list[GroupChange]:
    """The change over `weeks` in each group from every score of its people (`person_sums` with a `group_id`):
    weeks × the mixed model's fixed slope, estimated by generalised least squares given the variance components,
    with its 95% CI.

    Per person i with design X = [1, week] and V = X·G·Xᵀ + σ²·I, the estimate pools Xᵀ V⁻¹ X and Xᵀ V⁻¹ y over the
    group's people. By Woodbury, Xᵀ V⁻¹ X = (A − A·M·A)/σ² and Xᵀ V⁻¹ y = (b − A·M·b)/σ², with A = XᵀX, b = Xᵀy and
    M = (σ²·I + G·A)⁻¹·G; so five sums per person are all it needs, whatever the number of groups.
    """
    sums = ["n", "weeks", "weeks_squared", "total", "weeks_by_score", "first_week", "last_week"]
    people = people.select("group_id", "participant_id", *sums).sort("group_id", "participant_id")
    spans_weeks = dict(
        people.group_by("group_id").agg(pl.col("first_week").min() < pl.col("last_week").max()).iter_rows()
    )
    a = np.stack(
        [people["n"], people["weeks"], people["weeks"], people["weeks_squared"]], axis=-1, dtype=float
    ).reshape(-1, 2, 2)
    b = np.stack([people["total"], people["weeks_by_score"]], axis=-1).reshape(-1, 2, 1)
    g, sigma2 = components.between_people, components.residual
    information, weighted = np.empty_like(a), np.empty(b.shape[:2])
    for start in range(0, len(a), PEOPLE_PER_CHUNK):  # each person's terms alone: chunks bound the temporaries
        rows = slice(start, start + PEOPLE_PER_CHUNK)
        m = np.linalg.solve(sigma2 * np.eye(2) + g @ a[rows], np.broadcast_to(g, a[rows].shape))
        information[rows] = (a[rows] - a[rows] @ m @ a[rows]) / sigma2
        weighted[rows] = ((b[rows] - a[rows] @ m @ b[rows]) / sigma2)[..., 0]

    changes = []
    for group_id, rows in people.with_row_index().group_by("group_id", maintain_order=True):
        index = rows["index"].to_numpy()
        n_people, n_scores = rows.height, int(rows["n"].sum())
        pooled = information[index].sum(axis=0)
        if n_people < min_participants or not spans_weeks[group_id[0]] or np.linalg.cond(pooled) > 1e12:
            changes.append(GroupChange(group_id[0], None, None, None, n_people, n_scores))
            continue
        covariance = np.linalg.inv(pooled)
        slope = float((covariance @ weighted[index].sum(axis=0))[1])
        half_width = 1.959964 * math.sqrt(covariance[1, 1])
        changes.append(
            GroupChange(
                group_id[0],
                weeks * slope,
                weeks * (slope - half_width),
                weeks * (slope + half_width),
                n_people,
                n_scores,
            )
        )
    return changes


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
