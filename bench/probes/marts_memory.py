"""The marts stage and the mart checks alone, step by step, on a warehouse a refresh already built (issue #19).

    PYTHONPATH=. .venv/bin/python bench/probes/marts_memory.py WAREHOUSE [--memory-limit 2GB]

Builds the next warehouse beside WAREHOUSE as a refresh does (the published file is not changed), rebuilds every
participant's marts (as when the marts' code changes) as of 2026-07-20 with the default settings, checks the marts,
and discards the build. The steps are noted and printed as `refresh_memory.py` notes them; the process starts with
no ingest behind it, so its peak is the marts stage's and the mart checks'.
"""

import sys
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import refresh_memory as probe  # noqa: E402  (notes the steps of pipelines.stages as it is imported)

from pipelines import stages  # noqa: E402
from pipelines.warehouse import WarehouseBuild  # noqa: E402
from securebase.settings import DEFAULT_MEMORY_LIMIT, Settings  # noqa: E402


def main() -> None:
    warehouse = Path(sys.argv[1])
    limit = sys.argv[sys.argv.index("--memory-limit") + 1] if "--memory-limit" in sys.argv else DEFAULT_MEMORY_LIMIT
    settings = Settings(memory_limit=limit)
    stages.marts_digest = lambda _settings: "rebuild everyone"  # noqa: ARG005
    stop = threading.Event()
    threading.Thread(target=probe.sample, args=(stop,), daemon=True).start()
    started = time.perf_counter()
    build = WarehouseBuild(warehouse, settings.timezone, settings.memory_limit)
    try:
        stages.build_marts(build, settings, date(2026, 7, 20))
        stages.validate_marts(build)
    finally:
        build.discard()
    stop.set()
    probe.report(started)


if __name__ == "__main__":
    main()
