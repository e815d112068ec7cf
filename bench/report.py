"""Turn a benchmark run (bench/results/latest.json) into bench/README.md's figures and bench/cost.png."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
MARKER = "<!-- figures -->"


def goals(sizes: dict[int, dict]) -> list[tuple[str, str, bool | None]]:
    """Each goal of the benchmark issues as (goal, figure, met), for the sizes that were run. An increment is judged
    on the flow's own time (`ops.refreshes`), start-up excluded, as issue #19 decided."""
    small, middle, large, national = (sizes.get(n) for n in (1000, 20000, 100000, 1000000))
    checks = []

    def marginal(low: dict, high: dict, times: int, label: str) -> None:
        cost, floor = (high[step]["seconds"] - low[step]["seconds"] for step in ("full", "floor"))
        checks.append(
            (
                f"marginal cost ≤ {times} × marginal floor ({label})",
                f"{cost:.1f} s vs {times} × {floor:.1f} s = {times * floor:.1f} s",
                cost <= times * floor,
            )
        )

    def increment_share(size: dict, limit: float, label: str) -> None:
        for mode, suffix in (("cold process", ""), ("Prefect server running", "_served")):
            ratio = size[f"increment{suffix}"]["stages"]["flow"] / size[f"full{suffix}"]["stages"]["flow"]
            checks.append(
                (f"increment ≤ {limit} × full refresh at {label}, flow time ({mode})", f"{ratio:.3f} ×", ratio <= limit)
            )

    def pages(size: dict, label: str) -> None:
        for page, render in size["dashboard"].items():
            checks.append(
                (
                    f"dashboard `{page}` at {label}: first render < 2 s, cached < 0.3 s",
                    f"{render['first']:.2f} s / {render['cached']:.2f} s",
                    render["first"] < 2 and render["cached"] < 0.3,
                )
            )

    if small and large:
        marginal(small, large, 3, "100k − 1k")
    if small:
        seconds = small["full"]["seconds"]
        checks.append(("full refresh of 1,000 under 15 s, Prefect start-up included", f"{seconds:.1f} s", seconds < 15))
    if large:
        increment_share(large, 0.25, "100k")
        peak = large["full"]["peak_mib"]
        checks.append(("100k completes under 4 GiB peak", f"{peak} MiB", peak < 4096))
        seconds = large["generate"]["seconds"]
        checks.append(("generator: 100k under a minute", f"{seconds:.1f} s", seconds < 60))
        cold = large["dashboard_cold_start"]
        checks.append(("dashboard cold start at 100k (new browser, first page) < 2 s", f"{cold:.2f} s", cold < 2))
        pages(large, "100k")
    if middle and large:
        ratio = large["increment"]["stages"]["flow"] / middle["increment"]["stages"]["flow"]
        checks.append(("increment at 100k ≤ 1.5 × increment at 20k, flow time", f"{ratio:.2f} ×", ratio <= 1.5))
    if national:
        generated = national["generate"]
        checks.append(
            (
                "generator: 1M under 4 GiB (and a few minutes)",
                f"{generated['peak_mib']} MiB, {generated['seconds']:.0f} s",
                generated["peak_mib"] < 4096,
            )
        )
        for step, limit in (("full", 6), ("increment", 2)):
            peak = national[step]["peak_mib"]
            checks.append((f"{step} refresh at 1M: peak ≤ {limit} GiB", f"{peak} MiB", peak <= limit * 1024))
        increment_share(national, 0.15, "1M")
        pages(national, "1M")
    if large and national:
        marginal(large, national, 4, "1M − 100k")
        ratio = national["increment"]["stages"]["flow"] / large["increment"]["stages"]["flow"]
        checks.append(("increment at 1M ≤ 3 × increment at 100k, flow time", f"{ratio:.2f} ×", ratio <= 3))
    return checks


def figures_markdown(run: dict) -> str:
    sizes = {s["participants"]: s for s in run["sizes"]}
    lines = [
        f"Run on {run['date']}: {run['machine']}.",
        "",
        f"Command: `{run['command']}`",
        "",
        "| participants | input | raw rows | generate | floor (DuckDB only) | full refresh | peak | increment (~1%) "
        "| increment peak |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, s in sizes.items():
        lines.append(
            f"| {n:,} | {s['input_mib']} MiB | {s['raw_rows']:,} | {s['generate']['seconds']} s | "
            f"{s['floor']['seconds']} s | {s['full']['seconds']} s | {s['full']['peak_mib']} MiB | "
            f"{s['increment']['seconds']} s | {s['increment']['peak_mib']} MiB |"
        )
    lines += [
        "",
        "Refresh by stage (seconds; start-up = process − flow: imports, Prefect's temporary server and its stop; "
        "participants rebuilt: whose participant marts the refresh rebuilt):",
        "",
        "| participants | start-up | open (copy) | read + load | validation | marts, statistics | participants "
        "rebuilt | mart checks | publish + record |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label in ("full", "increment"):
        for n, s in sizes.items():
            st = s[label]["stages"]
            startup = s[label]["seconds"] - st["flow"]
            rest = st["flow"] - st["open"] - st["ingest"] - st["validation"] - st["marts"] - st["mart_checks"]
            lines.append(
                f"| {n:,} {'(increment)' if label == 'increment' else ''} | {startup:.1f} | {st['open']} | "
                f"{st['ingest']} | {st['validation']} | {st['marts']} | {st['participants_rebuilt']:,} | "
                f"{st['mart_checks']} | {rest:.2f} |"
            )
    lines += [
        "",
        "The same refreshes against a Prefect server already running on 127.0.0.1, as `securebase serve` runs the "
        "nightly refresh (no temporary server to start and stop):",
        "",
        "| participants | full refresh | increment (~1%) | increment / full | start-up, full | start-up, increment |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n, s in sizes.items():
        full, increment = s["full_served"], s["increment_served"]
        lines.append(
            f"| {n:,} | {full['seconds']} s | {increment['seconds']} s | "
            f"{increment['seconds'] / full['seconds']:.2f} | {full['seconds'] - full['stages']['flow']:.1f} s | "
            f"{increment['seconds'] - increment['stages']['flow']:.1f} s |"
        )
    lines += [
        "",
        "Dashboard in headless Chromium (seconds on the page's own clock until the page's last element shows: from "
        "the navigation for a first render, from the click on the page's link for a cached re-render, the median of "
        "three):",
        "",
        "| participants | page | first render | cached re-render |",
        "|---:|---|---:|---:|",
    ]
    for n, s in sizes.items():
        lines.append(f"| {n:,} | cold start: a new browser, the server's first page | {s['dashboard_cold_start']} | |")
        if "dashboard_libraries" in s:  # timed since issue #17
            lines.append(
                f"| {n:,} | the browser's first load of the chart and table libraries | {s['dashboard_libraries']} | |"
            )
        for page, render in s["dashboard"].items():
            lines.append(f"| {n:,} | {page} | {render['first']} | {render['cached']} |")
    on_dask = {n: s for n, s in sizes.items() if "dask_1" in s}
    if on_dask:
        lines += [
            "",
            "Full refresh with the files examined on a local Dask cluster (`prefect-dask`; single-threaded worker "
            "processes, as many files at once as workers; ingest includes validation):",
            "",
            "| participants | in-process | Dask, 1 worker | Dask, 2 workers | 2 workers / 1 | ingest, 1 worker | "
            "ingest, 2 workers | peak, 2 workers |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for n, s in on_dask.items():
            one, two = s["dask_1"], s["dask_2"]
            ingest = [d["stages"]["ingest"] + d["stages"]["validation"] for d in (one, two)]
            lines.append(
                f"| {n:,} | {s['full']['seconds']} s | {one['seconds']} s | {two['seconds']} s | "
                f"{two['seconds'] / one['seconds']:.2f} | {ingest[0]:.1f} s | {ingest[1]:.1f} s | "
                f"{two['peak_mib']} MiB |"
            )
    lines += ["", "Goals of the benchmark issue:", "", "| goal | figure | met |", "|---|---|---|"]
    for goal, figure, met in goals(sizes):
        lines.append(f"| {goal} | {figure} | {'yes' if met else 'no'} |")
    lines += ["", "![cost against program size](cost.png)"]
    return "\n".join(lines)


def cost_chart(run: dict, path: Path) -> None:
    """Seconds against participants for the floor, the full refresh and the increment (PNG via Chromium)."""
    import plotly.graph_objects as go

    sizes = run["sizes"]
    x = [s["participants"] for s in sizes]
    figure = go.Figure()
    for label, key, dash in [
        ("DuckDB floor", "floor", "dot"),
        ("full refresh", "full", "solid"),
        ("nightly increment", "increment", "dash"),
        ("nightly increment, Prefect server running", "increment_served", "dashdot"),
    ]:
        figure.add_trace(
            go.Scatter(x=x, y=[s[key]["seconds"] for s in sizes], name=label, mode="lines+markers", line={"dash": dash})
        )
    figure.update_layout(
        template="simple_white",
        xaxis_title="participants",
        yaxis_title="seconds",
        xaxis_type="log",
        width=800,
        height=450,
        title="Refresh cost against program size",
    )
    html = path.with_suffix(".html")
    figure.write_html(html, include_plotlyjs=True, full_html=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 820, "height": 470})
        page.goto(html.as_uri())
        page.locator(".js-plotly-plot").wait_for()
        page.screenshot(path=str(path))
        browser.close()
    html.unlink()


def write_report(run: dict) -> None:
    readme = BENCH / "README.md"
    head = readme.read_text().split(MARKER)[0] if readme.exists() else ""
    readme.write_text(head + MARKER + "\n\n" + figures_markdown(run) + "\n")
    cost_chart(run, BENCH / "cost.png")


if __name__ == "__main__":
    write_report(json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else BENCH / "results" / "latest.json").read_text()))
