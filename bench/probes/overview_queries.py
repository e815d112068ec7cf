"""Seconds of each query behind the program pages (overview, comparisons, trends), uncached, as a program lead;
then of the overview's whole script once its queries are cached, run by Streamlit's AppTest (bench/README.md,
"Dashboard").

.venv/bin/python bench/probes/overview_queries.py [bench/results/100000/warehouse.duckdb]
"""

import os
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard import queries
from dashboard.scope import Filters, Viewer, Warehouse
from transforms.outcomes import HEADLINE

warehouse = Warehouse.at(sys.argv[1] if len(sys.argv) > 1 else "bench/results/100000/warehouse.duckdb")
lead = Viewer("program_lead")
calls = {
    "program_headline": (warehouse, lead),
    "group_outcomes": (warehouse, lead, *HEADLINE),
    "talking_therapies": (warehouse, lead),
    "intake_trend": (warehouse, lead, Filters()),
    "cohort_trajectories": (warehouse, lead),
    "freshness": (warehouse,),
}
for name, arguments in calls.items():
    function = getattr(queries, name)
    function = getattr(function, "__wrapped__", function)  # past Streamlit's cache
    started = time.perf_counter()
    function(*arguments)
    print(f"{name}: {time.perf_counter() - started:.3f} s")

os.environ["SECUREBASE_WAREHOUSE"] = str(warehouse.path)
os.environ["SECUREBASE_DEMO"] = "1"  # demo identities, as `securebase dashboard --demo`
app = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py"), default_timeout=60)
app.session_state["demo_identity"] = "Program lead (demo)"
app.switch_page(str(Path(__file__).resolve().parents[2] / "dashboard" / "views" / "overview.py")).run()  # fills caches
started = time.perf_counter()
app.run()
print(f"overview script, queries cached: {time.perf_counter() - started:.3f} s")
