"""The release a viewer is shown: build time and the share of its cells withheld (bench/README.md, "Releases").

    .venv/bin/python bench/probes/release.py WAREHOUSE [WAREHOUSE ...]

For each warehouse (one refreshed by `securebase refresh`), builds the release of a program lead and of a clinician
of the first site (`dashboard/queries.py`, `release`, uncached) and reports its build time and, of the outcome
counts it holds (below the program only what pages show), the share shown as "<5" (primary suppression) and the
share withheld in all (with the secondary suppression that protects them), then the same for means and rates.
"""

import sys
import time
import warnings

from dashboard import queries
from dashboard.queries import Viewer, Warehouse
from transforms.disclosure import OUTCOMES

warnings.filterwarnings("ignore")


def shares(outcomes) -> tuple[float, float, float]:
    """Of the released counts, the share "<5" and the share withheld; of the released means and rates, withheld."""
    counts = small = hidden = figures = hidden_figures = 0
    for row in outcomes.iter_rows(named=True):
        released = OUTCOMES.counts_of(row["grouping"])
        counts += len(released)
        small += sum(c in (row["small_counts"] or []) for c in released)
        hidden += sum(row[c] is None and c not in (row["unclassified_counts"] or []) for c in released)
        unclassified = row["unclassified_counts"] or []
        ratios = [c for c in OUTCOMES.ratios_of(row["grouping"]) if OUTCOMES.ratios[c].numerator not in unclassified]
        figures += len(ratios)
        hidden_figures += sum(row[c] is None for c in ratios)
    return small / counts, hidden / counts, hidden_figures / figures


build = getattr(queries.release, "__wrapped__", queries.release)
print('| warehouse | viewer | build | counts "<5" | counts withheld | means and rates withheld |')
print("|---|---|---|---|---|---|")
for path in sys.argv[1:]:
    warehouse = Warehouse.at(path)
    first_site = queries.filter_choices(warehouse)["sites"][0]
    for viewer in (Viewer("program_lead"), Viewer("clinician", (first_site,))):
        started = time.perf_counter()
        release = build(warehouse, viewer)
        seconds = time.perf_counter() - started
        small, hidden, statistics = shares(release.outcomes)
        print(
            f"| {path} | {viewer.role} {','.join(viewer.sites)} | {seconds:.2f} s | {small:.1%} | {hidden:.1%} "
            f"| {statistics:.1%} |"
        )
