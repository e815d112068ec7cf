"""Which optimiser order fits the alerts' expected trajectory (bench/HISTORY.md, "Session 5").

    .venv/bin/python bench/probes/trajectory_fits.py [bench/results/100000/warehouse.duckdb]

Fits `score ~ log_week * intake` with a random intercept on twelve seeded 250-person samples of a benchmark
warehouse's ECR-R anxiety scores, as `fit_expected_trajectory` does: Powell then L-BFGS (the order before session 5),
then `_fit` as it is (L-BFGS, Powell where L-BFGS stops short or raises). Prints seconds and prediction SD of each.
"""

import math
import sys
import time
import warnings

import duckdb
import numpy as np
import polars as pl
import statsmodels.formula.api as smf

from transforms.alerts import headline_scores
from transforms.mixed_models import _fit, _sample_participants

warehouse = sys.argv[1] if len(sys.argv) > 1 else "bench/results/100000/warehouse.duckdb"
with duckdb.connect(warehouse, read_only=True) as con:
    scores = headline_scores(
        con.sql("SELECT * FROM marts.assessments WHERE instrument = 'ECR-R' AND subscale = 'anxiety'").pl(),
        con.sql("SELECT * FROM marts.participant_outcomes").pl(),
        "ECR-R",
        "anxiety",
    ).select("participant_id", "score", "intake", week="week_exact")
warnings.simplefilter("ignore")
totals = {"powell first": 0.0, "as now": 0.0}
for seed in (20260101, *range(1, 12)):
    sample = _sample_participants(scores.filter(pl.col("week") >= 0), 250, seed)
    data = sample.with_columns(log_week=(pl.col("week") + 1).log()).to_pandas()
    line = [str(seed)]
    for name in totals:
        started = time.perf_counter()
        if name == "powell first":
            model = smf.mixedlm("score ~ log_week * intake", data, groups=data["participant_id"])
            result = model.fit(reml=True, method=["powell", "lbfgs"])
        else:
            result = _fit("score ~ log_week * intake", data, None)
        seconds = time.perf_counter() - started
        totals[name] += seconds
        sd = math.sqrt(float(np.asarray(result.cov_re)[0, 0]) + result.scale)
        line.append(f"{name} {seconds:.3f} s, prediction SD {sd:.5f}")
    print("; ".join(line))
print("; ".join(f"{name}: {total:.1f} s in all" for name, total in totals.items()))
