"""A dashboard page's cached re-render, nine times over, in headless Chromium (bench/HISTORY.md, "Session 5").

    .venv/bin/python bench/probes/page_rerender.py PAGE [bench/results/100000/warehouse.duckdb]

PAGE is a page of bench/run.py's PAGES (overview, comparisons, trends, cohorts, exercises, dose_response, quality,
methods). Timed as the benchmark times it (`rerender_seconds`); prints the median and each time. The variants in
bench/README.md were this probe run on a page edited by hand.
"""

import statistics
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for run.py
from run import PAGES, dashboard_server, rerender_seconds, shown_at  # noqa: E402

name = sys.argv[1]
warehouse = Path(sys.argv[2] if len(sys.argv) > 2 else "bench/results/100000/warehouse.duckdb")
with dashboard_server(warehouse, 8798) as url, sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
    )
    page = browser.new_page()
    page.goto(f"{url}/methods")
    shown_at(page, PAGES[-1][2])
    rerender_seconds(page, name)  # its queries cached
    times = [rerender_seconds(page, name) for _ in range(9)]
    print(f"{name}: median {statistics.median(times):.3f} s; " + ", ".join(f"{t:.3f}" for t in times))
