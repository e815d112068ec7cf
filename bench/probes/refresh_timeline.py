"""Where a refresh process's fixed cost goes (bench/README.md, "Where the refresh's goals are still missed").

    .venv/bin/python bench/probes/refresh_timeline.py [bench/results/1000/warehouse.duckdb] [inbox]

Refreshes a temporary copy of a benchmark warehouse from its own inbox (nothing new: only the fixed cost), in a
child process that does what `securebase refresh` does and prints when each step ends; the time between its last
mark and the child's exit is the interpreter tearing down. With PREFECT_API_URL set the child uses that server, as
`securebase serve` does; without, Prefect's temporary server.
"""

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import sys, time
started = time.perf_counter()
def mark(step):
    print(f"{time.perf_counter() - started:6.2f} s  {step}", flush=True)
from datetime import date
from pathlib import Path
from securebase.settings import offline_environment
offline_environment()
from pipelines.prefect_api import prefect_api
with prefect_api() as api:
    from pipelines.flows import refresh
    mark("pipeline imported")
    from pipelines.validation import batch_definition
    batch_definition()
    mark("Great Expectations started")
    api.ready()
    mark("Prefect API ready")
    refresh(inbox=Path(sys.argv[1]), warehouse=Path(sys.argv[2]), as_of=date(2026, 7, 20))
    mark("flow run finished")
mark("Prefect API closed")
"""

arguments = sys.argv[1:]
published = Path(arguments[0] if arguments else "bench/results/1000/warehouse.duckdb")
inbox = Path(arguments[1]) if len(arguments) > 1 else published.parent / "inbox"
with tempfile.TemporaryDirectory() as folder:
    warehouse = Path(folder) / "warehouse.duckdb"
    shutil.copy(published, warehouse)
    started = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", CHILD, inbox, warehouse], capture_output=True, text=True, check=True)
    total = time.perf_counter() - started
print("\n".join(line for line in child.stdout.splitlines() if re.match(r"\s*\d+\.\d\d s  ", line)))
print(f"{total:6.2f} s  process exited (from outside: interpreter start and teardown included)")
