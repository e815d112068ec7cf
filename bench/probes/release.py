"""The release a viewer is shown: build time and the share of its cells withheld (bench/README.md, "Releases").

    .venv/bin/python bench/probes/release.py WAREHOUSE [WAREHOUSE ...]

For each warehouse (one refreshed by `securebase refresh`), builds the outcomes a program lead and a clinician of
the first site are shown (`dashboard/queries.py`, uncached) and reports the build time and, of the counts a release
holds (below the program only what pages show: `COUNTS`), the share shown as "<5" and the share withheld in all,
and of the means, the share withheld. Run from an earlier commit's checkout (PYTHONPATH=that checkout), it measures
that commit's suppression over the same cells.
"""

import sys
import time
import warnings

import polars as pl

from dashboard import queries, scope
from dashboard.scope import Viewer, Warehouse

warnings.filterwarnings("ignore")
FLOW = ["n_enrolled", "n_complete", "n_no_baseline", "n_no_endpoint", "n_not_yet_due"]
CATEGORIES = ["n_improved", "n_unchanged", "n_deteriorated", "n_recovered", "n_harmed"]
COUNTS = {  # transforms/disclosure.py, OUTCOMES.released
    "program": FLOW + CATEGORIES,
    "site": ["n_enrolled", "n_complete", "n_improved"],
    "modality": ["n_enrolled", "n_complete", "n_improved"],
    "cohort": ["n_enrolled", "n_complete"],
}
MEANS = ["mean_baseline", "mean_change"]


def outcomes(warehouse: Warehouse, viewer: Viewer) -> pl.DataFrame:
    """Every measure's group outcomes as this viewer is shown them."""
    if hasattr(queries, "release"):
        return scope._release.__wrapped__(warehouse, viewer).outcomes  # uncached
    measures = scope.read(warehouse, "SELECT DISTINCT instrument, subscale FROM marts.cohort_outcomes").rows()
    return pl.concat(scope.group_outcomes(warehouse, viewer, *measure) for measure in measures)


def shares(frame: pl.DataFrame) -> tuple[float, float, float]:
    """Of the counts a release holds, the share "<5" and the share withheld; of the means, the share withheld."""
    counts = small = hidden = means = hidden_means = 0
    for row in frame.iter_rows(named=True):
        held = [c for c in COUNTS[row["grouping"]] if c not in (row["unclassified_counts"] or [])]
        counts += len(held)
        small += sum(c in (row["small_counts"] or []) for c in held)
        hidden += sum(row[c] is None for c in held)
        means += len(MEANS)
        hidden_means += sum(row[c] is None for c in MEANS)
    return small / counts, hidden / counts, hidden_means / means


print('| warehouse | viewer | build | counts "<5" | counts withheld | means withheld |')
print("|---|---|---|---|---|---|")
for path in sys.argv[1:]:
    warehouse = Warehouse.at(path)
    first_site = queries.filter_choices(warehouse)["sites"][0]
    for viewer in (Viewer("program_lead"), Viewer("clinician", (first_site,))):
        started = time.perf_counter()
        shown = outcomes(warehouse, viewer)
        seconds = time.perf_counter() - started
        small, hidden, statistics = shares(shown)
        print(
            f"| {path} | {viewer.role} {','.join(viewer.sites)} | {seconds:.2f} s | {small:.1%} | {hidden:.1%} "
            f"| {statistics:.1%} |"
        )
