"""Which optimiser fits the intent-to-treat variance components (bench/README.md, "Mixed models").

    .venv/bin/python bench/probes/fit_methods.py [bench/results/100000/warehouse.duckdb]

Fits `score ~ week` with random intercept and slope on ten seeded 250-person samples of a benchmark warehouse's
ECR-R anxiety scores, with each optimiser, from statsmodels' default start or from the moment start of
`transforms/mixed_models.py` (each person's own line): seconds, convergence, REML log-likelihood, 10-week change,
random-effect covariance, residual.
"""

import sys
import time
import warnings

import duckdb
import numpy as np
import statsmodels.formula.api as smf

from transforms.mixed_models import _moment_start, _sample_participants

warehouse = sys.argv[1] if len(sys.argv) > 1 else "bench/results/100000/warehouse.duckdb"
with duckdb.connect(warehouse, read_only=True) as con:
    scores = con.sql(
        "SELECT participant_id, week::DOUBLE AS week, score FROM marts.assessments "
        "WHERE instrument = 'ECR-R' AND subscale = 'anxiety' AND days_since_enrolment BETWEEN -14 AND 84"
    ).pl()
warnings.simplefilter("ignore")
for seed in (20260101, *range(1, 10)):
    sample = _sample_participants(scores.drop_nulls("score"), 250, seed)
    data = sample.to_pandas()
    for method, start in (
        (["powell", "lbfgs"], None),
        (["lbfgs"], None),
        (["lbfgs"], _moment_start(sample)),
    ):
        started = time.perf_counter()
        model = smf.mixedlm("score ~ week", data, groups=data["participant_id"], re_formula="~week")
        result = model.fit(reml=True, method=method, start_params=start)
        print(
            seed,
            method,
            "moment start" if start is not None else "default start",
            f"{time.perf_counter() - started:.2f} s",
            "converged" if result.converged else "not converged",
            f"REML log-likelihood {result.llf:.4f}",
            f"change {10 * result.fe_params['week']:+.5f}",
            np.round(np.asarray(result.cov_re).ravel(), 5),
            f"residual {result.scale:.5f}",
        )
