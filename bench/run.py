"""securebase benchmark: generator, DuckDB floor, full refresh, nightly increment and dashboard render times.

    .venv/bin/python bench/run.py                       # 1,000, 20,000 and 100,000 participants
    .venv/bin/python bench/run.py --sizes 1000 20000    # a quicker look
    .venv/bin/python bench/run.py --sizes 1000000 --resume   # go on where a stopped run of a size left off

Every step runs as a whole process and is measured from outside (wall time, and peak resident memory from
`os.wait4`). Inputs and warehouses go to bench/results/ (not committed); the figures, with the machine they were
taken on, are written into bench/README.md and bench/cost.png. These machines are noisy: compare figures as
ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines.prefect_api import standing_server

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
AS_OF = "2026-07-20"  # the generator's export day for its default start date


def measured(command: list[str], env: dict | None = None) -> dict:
    """Run a command to completion; its wall seconds and peak resident MiB (largest process of its tree)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env or os.environ.copy())
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{output[-3000:]}")
    return {"seconds": round(seconds, 2), "peak_mib": round(usage.ru_maxrss / 1024)}


FLOOR = """
import sys, duckdb
from pathlib import Path
con = duckdb.connect(sys.argv[2])
for index, path in enumerate(sorted(Path(sys.argv[1]).iterdir())):
    reader = "read_parquet" if path.name.endswith(".parquet") else (
        "read_json" if ".jsonl" in path.name else "read_csv")
    con.execute(f"CREATE TABLE t{index} AS SELECT * FROM {reader}('{path}')")
con.close()
"""


# A full refresh whose files are examined on a local Dask cluster of N single-threaded worker processes.
ON_DASK = """
import sys
from datetime import date
from pathlib import Path

import distributed
from prefect_dask import DaskTaskRunner

from pipelines.prefect_api import prefect_api
from securebase.settings import offline_environment

offline_environment()
inbox, warehouse, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
as_of = date.fromisoformat(sys.argv[4])
with prefect_api() as api, distributed.LocalCluster(
    n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
) as cluster:
    from pipelines.flows import refresh

    api.ready()
    runner = DaskTaskRunner(address=cluster.scheduler_address)
    refresh.with_options(task_runner=runner)(inbox=inbox, warehouse=warehouse, as_of=as_of, files_at_once=workers)
"""


def make_increment(inbox: Path, participants: int, work: Path) -> None:
    """About 1% new data: a generated export of 1% as many participants, of whom half are new (ids not seen
    before, with their roster rows) and half are existing participants, whose administrations and practice logs
    arrive as new rows."""
    extra = work / "increment"
    shutil.rmtree(extra, ignore_errors=True)
    subprocess.run(
        [
            BIN / "securebase",
            "generate",
            "--out",
            extra,
            "--participants",
            str(max(participants // 100, 10)),
            "--seed",
            "4242",
        ],
        check=True,
        capture_output=True,
    )
    existing = pl.col("participant_id").str.slice(1).cast(pl.Int64) % 2 == 0  # P00002, P00004, … are in the inbox
    new_id = pl.col("participant_id").str.replace("^P", "N")
    renamed = pl.when(existing).then(pl.col("participant_id")).otherwise(new_id)
    for path in extra.iterdir():
        target = inbox / path.name.replace(".", "_increment.", 1)
        if path.name.endswith(".parquet"):
            pl.read_parquet(path).with_columns(renamed).write_parquet(target)
        elif path.name.endswith(".jsonl"):
            pl.read_ndjson(path).with_columns(renamed).write_ndjson(target)
        elif path.name.endswith(".gz"):  # keep the compressed format of the original
            pl.read_csv(path, infer_schema=False).with_columns(renamed).write_csv(target.with_suffix(""))
            subprocess.run(["gzip", "-f", target.with_suffix("")], check=True)
        elif path.name.startswith("participants"):  # roster rows for the new participants only
            pl.read_csv(path, infer_schema=False).filter(~existing).with_columns(renamed).write_csv(target)
        else:
            pl.read_csv(path, infer_schema=False).with_columns(renamed).write_csv(target)


def stage_seconds(warehouse: Path, refresh_id: int) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            "SELECT epoch(finished_at - started_at), open_seconds, ingest_seconds, validation_seconds, marts_seconds, "
            "mart_check_seconds, participants_rebuilt FROM ops.refreshes WHERE refresh_id = ?",
            [refresh_id],
        ).fetchall()[0]
    flow, opened, ingest, validation, marts, checks = (round(v, 2) for v in row[:-1])
    return {
        "flow": flow,
        "open": opened,
        "ingest": round(ingest - validation, 2),
        "validation": validation,
        "marts": marts,
        "mart_checks": checks,
        "participants_rebuilt": row[-1],
    }


# Each dashboard page as the benchmark's program lead sees it: (page, sidebar link, the text of its last element, how
# many Plotly charts it draws); the page is drawn once that text shows and every chart has drawn.
PAGES = [
    ("overview", "Program overview", "One self-contained page with the charts", 1),
    ("comparisons", "Comparisons", "can be worked out from the other figures", 2),
    ("trends", "Trends", "Each row is a cohort", 2),
    ("cohorts", "Cohort outcomes", "Participant-level views are for clinicians", 0),
    ("alerts", "Alerts", "counted in the week (from Monday)", 0),
    ("participant", "Participant", "Program leads see aggregates on the other pages", 0),
    ("exercises", "Exercises", "Dose–response has a page of its own", 2),
    ("dose_response", "Dose–response", "An association among completers", 1),
    ("quality", "Data quality", "Reports name files, rules, columns and rows", 0),
    ("methods", "Methods", "Claus, N., Scherbaum", 0),
]

# The page's clock (ms since its navigation started) once an element whose own text includes `text` is laid out with
# a size, `charts` Plotly charts have drawn and no element is still loading its part of the front end (Streamlit
# draws a skeleton in its place meanwhile), checked in the page on every animation frame. Playwright's own
# waiting (`locator.wait_for`) polls at 0, 20, 70, 170 and 270 ms, then every 500 ms, so a page drawn at 0.3 s would
# read as 0.77 s.
SHOWN_AT = """([text, charts]) => {
    if (document.querySelectorAll(".js-plotly-plot .main-svg").length < charts) return false;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const box = node.data.includes(text) && node.parentElement.getBoundingClientRect();
        if (box && box.width > 0 && box.height > 0) return performance.now();
    }
    return false;
}"""
# The page's clock at the next click, read in the page as the click arrives, before Streamlit sees it.
NEXT_CLICK = """() => {
    window.clickedAt = null;
    document.addEventListener("click", () => { window.clickedAt = performance.now(); }, {capture: true, once: true});
}"""


def shown_at(page, text: str, charts: int = 0) -> float:
    """Seconds on the page's clock when `text` shows with `charts` charts drawn."""
    return page.wait_for_function(SHOWN_AT, arg=[text, charts], polling="raf", timeout=120_000).json_value() / 1000


def rerender_seconds(page, name: str) -> float:
    """A cached re-render of dashboard page `name` in an open session: away to another page and, once that page's
    script has finished (so the click is not queued behind it), back; seconds from the click on its link, as the
    click reaches the page, until the page is drawn."""
    pages = {page_name: (link, ready, charts) for page_name, link, ready, charts in PAGES}
    away = "methods" if name != "methods" else "overview"
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("link", name=pages[away][0]).click()
    shown_at(page, *pages[away][1:])
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=120_000)
    page.evaluate(NEXT_CLICK)
    sidebar.get_by_role("link", name=pages[name][0]).click()
    return shown_at(page, *pages[name][1:]) - page.evaluate("window.clickedAt") / 1000


@contextmanager
def dashboard_server(warehouse: Path, port: int, command: tuple = (BIN / "securebase",)) -> Iterator[str]:
    """`securebase dashboard` on 127.0.0.1 (or `command` given the same arguments), its URL once it answers; stopped
    on exit."""
    import urllib.request

    server = subprocess.Popen(
        [*command, "dashboard", "--warehouse", warehouse, "--port", str(port), "--demo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def front_end_libraries() -> list[str]:
    """The addresses of the front end's chart and table libraries (Plotly, the data grid), which Streamlit's front end
    loads on the first page that draws a chart or a table."""
    import streamlit

    scripts = Path(streamlit.__file__).parent / "static" / "static" / "js"
    return [f"/static/js/{path.name}" for name in ("PlotlyChart", "DataFrame") for path in scripts.glob(f"{name}.*.js")]


def dashboard_renders(warehouse: Path, port: int) -> tuple[float, float, dict]:
    """The dashboard's cold start, a new browser's first load of its chart and table libraries, then the first render
    and cached re-render of each page, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    renders = {}
    with dashboard_server(warehouse, port) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        # cold start: a new browser opening the dashboard just started (the static Methods page: Streamlit's front
        # end loads, the server runs its first script); from the page's navigation to its last element
        page.goto(f"{url}/methods")
        cold_start = round(shown_at(page, PAGES[-1][2]), 2)
        # the chart and table libraries: a browser's one-time cost, like the cold start (about 1.2 s of the CPU for
        # Plotly's 4.7 MB alone), timed on their own so that no page's first render carries it for the others
        started = time.perf_counter()
        page.evaluate(
            "async (libraries) => { for (const library of libraries) await import(library); }", front_end_libraries()
        )
        libraries = round(time.perf_counter() - started, 2)
        for name, _link, ready, charts in PAGES:
            # first render: a new browser session opening the page, with nothing cached for it yet but the browser's
            # copy of Streamlit's front end
            page.goto(f"{url}/{'' if name == 'overview' else name.replace('_', '-')}")
            first = shown_at(page, ready, charts)
            cached = statistics.median(rerender_seconds(page, name) for _ in range(3))
            renders[name] = {"first": round(first, 2), "cached": round(cached, 2)}
        browser.close()
    return cold_start, libraries, renders


def prefect_env() -> dict:
    env = {**os.environ, "PREFECT_HOME": str(RESULTS / "prefect-home")}
    env.pop("PREFECT_API_URL", None)
    return env


def warm_up_prefect_home() -> None:
    """A new Prefect home with its database created by one empty refresh, as on a machine that has run before (the
    first run ever costs more). New for each benchmark: a home full of older runs makes every start slower."""
    shutil.rmtree(RESULTS / "prefect-home", ignore_errors=True)
    empty = RESULTS / "empty-inbox"
    empty.mkdir(exist_ok=True)
    (RESULTS / "empty.duckdb").unlink(missing_ok=True)
    measured([BIN / "securebase", "refresh", "--inbox", empty, "--warehouse", RESULTS / "empty.duckdb"], prefect_env())


@contextmanager
def prefect_server() -> Iterator[str]:
    """A standing Prefect server with a new home, as `securebase serve` uses; its API URL."""
    home = RESULTS / "prefect-server-home"
    shutil.rmtree(home, ignore_errors=True)
    with standing_server(home, prefect_env()) as url:
        yield url


def bench_size(participants: int, port: int, prefect_api_url: str, resume: bool = False) -> dict:
    """Every step at one program size; with `resume`, the steps a stopped run of this size finished (recorded in its
    folder's steps.json, beside the inputs and warehouses they made) are kept, and the rest run."""
    work = RESULTS / str(participants)
    if not resume:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    inbox, warehouse, served = work / "inbox", work / "warehouse.duckdb", work / "served.duckdb"
    record = work / "steps.json"
    result = json.loads(record.read_text()) if resume and record.exists() else {"participants": participants}
    env = prefect_env()
    with_server = {**env, "PREFECT_API_URL": prefect_api_url}

    def refresh(into: Path, environment: dict, refresh_id: int) -> dict:
        if refresh_id == 1:  # a full refresh starts from nothing, also when a stopped run left a warehouse
            into.unlink(missing_ok=True)
        command = [BIN / "securebase", "refresh", "--inbox", inbox, "--warehouse", into, "--as-of", AS_OF]
        return {**measured(command, environment), "stages": stage_seconds(into, refresh_id)}

    def generate() -> dict:
        shutil.rmtree(inbox, ignore_errors=True)
        command = [BIN / "securebase", "generate", "--out", inbox, "--participants", str(participants)]
        figures = {"generate": measured(command)}
        return figures | {"input_mib": round(sum(p.stat().st_size for p in inbox.iterdir()) / 2**20, 1)}

    def full() -> dict:
        figures = {"full": refresh(warehouse, env, 1)}
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return figures | {"raw_rows": con.execute("SELECT sum(rows_read) FROM ops.files").fetchall()[0][0]}

    def dashboard() -> dict:
        cold_start, libraries, renders = dashboard_renders(warehouse, port)
        return {"dashboard_cold_start": cold_start, "dashboard_libraries": libraries, "dashboard": renders}

    # each refresh twice: a cold process with Prefect's temporary server, and against a running Prefect server
    steps = {
        "generate": generate,
        "floor": lambda: {"floor": measured([sys.executable, "-c", FLOOR, inbox, work / "floor.duckdb"])},
        "full": full,
        "full_served": lambda: {"full_served": refresh(served, with_server, 1)},
        "make_increment": lambda: make_increment(inbox, participants, work) or {},
        "increment": lambda: {"increment": refresh(warehouse, env, 2)},
        "increment_served": lambda: {"increment_served": refresh(served, with_server, 2)},
        "dashboard": dashboard,
    }
    if participants >= 20000:  # where per-file work is large enough for workers to matter
        for workers in (1, 2):
            steps[f"dask_{workers}"] = lambda workers=workers: {f"dask_{workers}": on_dask(inbox, work, workers, env)}
    result.setdefault("steps_done", [])
    for name, step in steps.items():
        if name in result["steps_done"]:
            continue
        print(f"  {participants}: {name}", flush=True)
        result |= step()
        result["steps_done"].append(name)
        record.write_text(json.dumps(result, indent=2))
    return result


def on_dask(inbox: Path, work: Path, workers: int, env: dict) -> dict:
    """The full refresh with its files examined on a local Dask cluster of `workers` processes."""
    warehouse = work / f"dask-{workers}.duckdb"
    warehouse.unlink(missing_ok=True)
    command = [sys.executable, "-c", ON_DASK, inbox, warehouse, str(workers), AS_OF]
    return {**measured(command, {**env, "PYTHONPATH": str(ROOT)}), "stages": stage_seconds(warehouse, 1)}


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = (
        int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        / 2**20
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, polars {pl.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000, 100000])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--resume", action="store_true", help="keep each size's inputs and finished steps from a stopped run"
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    warm_up_prefect_home()
    results = []
    with prefect_server() as prefect_api_url:
        for participants in args.sizes:
            print(f"benchmarking {participants} participants …", flush=True)
            results.append(bench_size(participants, args.port, prefect_api_url, args.resume))
            print(json.dumps(results[-1]), flush=True)
    command = " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]])
    run = {"date": date.today().isoformat(), "machine": machine(), "command": command, "sizes": results}
    (RESULTS / "latest.json").write_text(json.dumps(run, indent=2))
    from report import write_report  # bench/report.py, beside this script

    write_report(run)


if __name__ == "__main__":
    main()
