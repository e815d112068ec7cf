"""How long the browser takes to draw the overview's category chart, alone, outside Streamlit (bench/README.md, "The
dashboard's pages at 100,000").

    .venv/bin/python bench/probes/chart_draw.py [bench/results/100000/warehouse.duckdb]

Builds the chart the program lead's overview draws (dashboard/charts.py) from that warehouse, then draws it eight
times with the plotly.js that Python's plotly ships, in headless Chromium, as drawn and without its bar labels and
patterns; prints the median of each.
"""

import copy
import json
import statistics
import sys
from pathlib import Path

import plotly
import polars as pl
from playwright.sync_api import sync_playwright

from dashboard import charts, scope
from dashboard.scope import Viewer, Warehouse
from dashboard.session import with_group_names

warehouse = Warehouse.at(sys.argv[1] if len(sys.argv) > 1 else "bench/results/100000/warehouse.duckdb")
groups = with_group_names(scope.group_outcomes(warehouse, Viewer("program_lead"), "ECR-R", "anxiety"))
shown = groups.filter(pl.col("grouping").is_in(["program", "site"])).sort(pl.col("grouping") != "program", "group_id")
as_drawn = json.loads(charts.category_distribution(shown, 5, "ECR-R anxiety").to_json())
plain = copy.deepcopy(as_drawn)
for trace in plain["data"]:
    for key in ("texttemplate", "text", "textposition"):
        trace.pop(key, None)
    trace.get("marker", {}).pop("pattern", None)

DRAW = """async (figure) => {
    const times = [], chart = document.getElementById("chart");
    for (let i = 0; i < 8; i++) {
        Plotly.purge(chart);
        const started = performance.now();
        await Plotly.newPlot(chart, figure.data, figure.layout);
        times.push(performance.now() - started);
    }
    return times;
}"""
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
    page = browser.new_page()
    page.set_content("<div id='chart' style='width:1200px;height:450px'></div>")
    page.add_script_tag(path=str(Path(plotly.__file__).parent / "package_data" / "plotly.min.js"))
    page.evaluate(DRAW, as_drawn)  # plotly.js warmed up first
    for name, figure in (("as drawn", as_drawn), ("without labels and patterns", plain)) * 2:
        print(f"{name}: median {statistics.median(page.evaluate(DRAW, figure)):.0f} ms")
    browser.close()
