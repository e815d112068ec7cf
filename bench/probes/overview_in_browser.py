"""Where the overview's first render goes, in headless Chromium (bench/README.md, "Dashboard").

    .venv/bin/python bench/probes/overview_in_browser.py [warehouse] [--warm-static]

Three fresh browser contexts each open the overview and time its first metric and last element.
With --warm-static each context first opens the Methods page, so Streamlit's static files are in its cache.
Then, in one session that has visited every page once, it times moving between pages once the previous page's
script has finished.
"""

import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for run.py
from run import PAGES, dashboard_server, shown_at  # noqa: E402

arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
warehouse = Path(arguments[0] if arguments else "bench/results/100000/warehouse.duckdb")
READY = {name: (link, ready) for name, link, ready, _charts in PAGES}
with dashboard_server(warehouse, 8799) as url, sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
    )
    for attempt in range(3):
        page = browser.new_page()
        if "--warm-static" in sys.argv:
            page.goto(f"{url}/methods")
            shown_at(page, READY["methods"][1])
        started = time.perf_counter()
        page.goto(url)
        marks = {}
        page.wait_for_function("() => document.querySelector('[data-testid=stMetric]') !== null", polling="raf")
        marks["first metric"] = f"{time.perf_counter() - started:.2f} s"
        shown_at(page, READY["overview"][1])
        marks["last element"] = f"{time.perf_counter() - started:.2f} s"
        print(f"attempt {attempt}: {marks}")
        page.close()

    page = browser.new_page()
    page.goto(url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')

    def open_page(name: str) -> float:
        idle.wait_for(timeout=60_000)
        started = time.perf_counter()
        sidebar.get_by_role("link", name=READY[name][0]).click()
        shown_at(page, READY[name][1])
        return time.perf_counter() - started

    for name in READY:
        open_page(name)
    for away, back in [("cohorts", "methods"), ("overview", "methods"), ("cohorts", "overview")]:
        open_page(away)
        print(f"{away} -> {back}: {open_page(back):.2f} s")
