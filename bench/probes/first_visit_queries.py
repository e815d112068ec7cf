"""Seconds of each query a first visit to the program overview and the alerts page runs, in the order the pages
run them, each the first call of its cached function in a new process (session 11 in bench/README.md, later in
bench/HISTORY.md). The viewer is a program lead, as in the benchmark; the alerts worklist is a clinician of the first
site's.

    .venv/bin/python bench/probes/first_visit_queries.py WAREHOUSE 2>/dev/null
    sync; echo 3 > /proc/sys/vm/drop_caches   # before it, as root, for a first visit from a cold disk
"""

import sys
import time

from dashboard import queries, scope
from dashboard.scope import Viewer, Warehouse
from transforms.outcomes import HEADLINE

warehouse = Warehouse.at(sys.argv[1])
lead = Viewer("program_lead")
calls = {
    "schema_version": (queries.schema_version, warehouse),
    "freshness": (queries.freshness, warehouse),
    "filter_choices": (queries.filter_choices, warehouse),
    "score_ranges": (scope.score_ranges, warehouse),
    "release (program lead)": (scope.release, warehouse, lead),
    "measure_parameters": (queries.measure_parameters, warehouse, *HEADLINE),
    "alert_counts (program lead)": (queries.alert_counts, warehouse, lead),
}
for name, (function, *arguments) in calls.items():
    started = time.perf_counter()
    function(*arguments)
    print(f"{name}: {time.perf_counter() - started:.3f} s")
first_site = queries.filter_choices(warehouse)["sites"][0]
started = time.perf_counter()
queries.alert_worklist(warehouse, Viewer("clinician", (first_site,)))
print(f"alert_worklist (clinician of {first_site}): {time.perf_counter() - started:.3f} s")
