"""The server's share of a page's cached re-render: how long each run of its script takes in the real dashboard
(bench/README.md, "The dashboard's pages at 100,000").

    .venv/bin/python bench/probes/script_times.py PAGE [bench/results/100000/warehouse.duckdb]

Starts `securebase dashboard` in a child with Streamlit's script runner timed (from the start of a run to the end of
its clean-up, garbage collection included), re-renders PAGE seven times in headless Chromium as the benchmark does,
and prints the page's times in the browser beside its script's times on the server. Run it from the checkout whose
code it measures: the child imports the dashboard from its working directory.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for run.py
from run import PAGES, dashboard_server, front_end_libraries, rerender_seconds, shown_at  # noqa: E402

SERVER = """
import sys, time
from streamlit.runtime.scriptrunner import script_runner
log_path = sys.argv[1]
run_script = script_runner.ScriptRunner._run_script
def timed(self, rerun_data):
    started = time.perf_counter()
    try:
        return run_script(self, rerun_data)
    finally:
        with open(log_path, "a") as log:
            log.write(f"{time.perf_counter() - started:.4f}\\n")
script_runner.ScriptRunner._run_script = timed
from pipelines.cli import app
sys.argv = ["securebase", *sys.argv[2:]]
app()
"""

name = sys.argv[1]
warehouse = Path(sys.argv[2] if len(sys.argv) > 2 else "bench/results/100000/warehouse.duckdb")
log = Path(tempfile.mkdtemp()) / "script_seconds.txt"
with dashboard_server(warehouse, 8790, (sys.executable, "-c", SERVER, log)) as url, sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
    page = browser.new_page()
    page.goto(f"{url}/methods")
    shown_at(page, PAGES[-1][2])
    page.evaluate(
        "async (libraries) => { for (const library of libraries) await import(library); }", front_end_libraries()
    )
    rerender_seconds(page, name)  # its queries cached
    browser_seconds, script_seconds = [], []
    for _ in range(7):
        log.write_text("")
        browser_seconds.append(rerender_seconds(page, name))
        time.sleep(0.3)  # the run's clean-up ends after the page shows
        script_seconds.append(float(log.read_text().split()[-1]))  # the last run: the page's own
    browser.close()
print(
    f"{name}: re-render median {statistics.median(browser_seconds):.3f} s in the browser, its script's run median "
    f"{statistics.median(script_seconds):.3f} s on the server"
)
