"""Where the overview's first render goes, in headless Chromium (bench/HISTORY.md, "Session 5").

    .venv/bin/python bench/probes/overview_in_browser.py [warehouse] [--warm-static]

Three fresh browser contexts each open the overview and time its first metric and last element.
With --warm-static each context first opens the Methods page, so Streamlit's static files are in its cache.
(Re-renders: bench/probes/page_rerender.py.)
"""

import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for run.py
from run import PAGES, dashboard_server, shown_at  # noqa: E402

arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
warehouse = Path(arguments[0] if arguments else "bench/results/100000/warehouse.duckdb")
READY = {name: ready for name, _link, ready, _charts in PAGES}
with dashboard_server(warehouse, 8799) as url, sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
    )
    for attempt in range(3):
        page = browser.new_page()
        if "--warm-static" in sys.argv:
            page.goto(f"{url}/methods")
            shown_at(page, READY["methods"])
        started = time.perf_counter()
        page.goto(url)
        marks = {}
        page.wait_for_function("() => document.querySelector('[data-testid=stMetric]') !== null", polling="raf")
        marks["first metric"] = f"{time.perf_counter() - started:.2f} s"
        shown_at(page, READY["overview"])
        marks["last element"] = f"{time.perf_counter() - started:.2f} s"
        print(f"attempt {attempt}: {marks}")
        page.close()
