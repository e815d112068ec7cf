"""The real dashboard in headless Chromium: served by `securebase dashboard`, read by a browser."""

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SECUREBASE = Path(sys.executable).with_name("securebase")


@pytest.fixture
def dashboard_url(sample_warehouse):
    with dashboard_on(sample_warehouse) as url:
        yield url


@contextmanager
def dashboard_on(warehouse: Path) -> Iterator[str]:
    """`securebase dashboard --demo` serving `warehouse`, until the block ends; its address."""
    port = free_port()
    server = subprocess.Popen(
        [str(SECUREBASE), "dashboard", "--warehouse", str(warehouse), "--port", str(port), "--demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError as error:
                if time.monotonic() > deadline or server.poll() is not None:
                    output = server.stdout.read().decode() if server.poll() is not None else "no health"
                    raise RuntimeError(output) from error
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_headline_renders_in_a_browser_and_only_loopback_is_contacted(dashboard_url, tmp_path):
    from playwright.sync_api import sync_playwright

    requested = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.on("request", lambda request: requested.append(request.url))
        page.goto(dashboard_url)
        page.get_by_text("One self-contained page with the charts").wait_for(timeout=60_000)  # the page's last element
        page.get_by_text("Mean change (completers)").wait_for(timeout=30_000)  # a metric: its part loads on first use
        text = page.inner_text("body")
        page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
        page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Trends").click()
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # the charts draw, from local files only
        browser.close()
    assert "Mean change (completers)" in text and "Data as of" in text
    assert "Exception" not in text and "Traceback" not in text
    outside = [u for u in requested if not u.startswith((dashboard_url, "data:", "blob:", "about:"))]
    assert outside == []


PAGE_HEADINGS = {
    "Program overview": "Program overview",
    "Comparisons": "Comparisons",
    "Trends": "Trends",
    "Cohort outcomes": "Cohort outcomes",
    "Alerts": "Alerts",
    "Participant": "Participant",
    "Exercises": "Exercises",
    "Dose–response": "Dose–response",
    "Data quality": "Data quality",
    "Methods": "How securebase computes outcomes",
}


def assert_tables_read_in_words(page, identity: str, link: str) -> None:
    """Every table as the browser draws it: human headers, no None or nan, rates as percentages; and the alerts
    worklist of a clinician holds their own site only."""
    for table in page.locator('[data-testid="stDataFrame"]').all():
        table.locator('[role="columnheader"]').first.wait_for(state="attached", timeout=30_000)  # drawn after the page
        headers = table.locator('[role="columnheader"]').all_inner_texts()
        rows = [row.locator('[role="gridcell"]').all_inner_texts() for row in table.locator('[role="row"]').all()]
        rows = [row for row in rows if row]
        assert headers and not [h for h in headers if "_" in h], (identity, link, headers)
        assert not {"None", "nan", "null", ""} & {cell for row in rows for cell in row}, (identity, link)
        for column, header in enumerate(headers):
            if header.endswith("(%)"):
                assert all(row[column].endswith("%") or row[column] == "withheld" for row in rows), header
        if link == "Alerts" and identity.startswith("Clinician"):
            assert {row[headers.index("Site")] for row in rows} == {"north"}


@pytest.mark.parametrize("identity", ["Program lead (demo)", "Clinician, north site (demo)", "Administrator (demo)"])
def test_each_demo_identity_visits_every_page_without_an_exception(dashboard_url, identity, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(dashboard_url)
        page.get_by_text("10-week change in ECR-R attachment anxiety").wait_for(timeout=60_000)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Demo identity").click()
        page.get_by_role("option", name=identity).click()
        page.get_by_text(f"You are viewing as {identity}").wait_for(timeout=30_000)
        for link, heading in PAGE_HEADINGS.items():
            sidebar.get_by_role("link", name=link).click()
            page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
            page.wait_for_timeout(500)  # let the script finish drawing
            page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0, (identity, link)
            body = page.inner_text("body")
            assert "anyone who can reach this address sees everything" in body  # every page, Methods too
            if link != "Methods":
                assert f"You are viewing as {identity}" in body
            assert_tables_read_in_words(page, identity, link)
            page.screenshot(
                path=str(tmp_path / f"{identity.split()[0].lower()}-{link.split()[0].lower()}.png"), full_page=True
            )
        browser.close()
    assert len(list(tmp_path.glob("*.png"))) == len(PAGE_HEADINGS)


def test_a_refresh_that_exits_non_zero_is_announced_to_the_program_lead_in_a_browser(
    prefect_server, sample_warehouse, tmp_path
):
    from playwright.sync_api import sync_playwright
    from prefect.settings import PREFECT_API_URL

    from pipelines.generate import SAMPLE_AS_OF
    from securebase.attempts import failed_attempts
    from tests.conftest import SAMPLE_DATA

    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, warehouse)
    with (tmp_path / "w.duckdb.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the nightly refresh finds another one running
        refresh = subprocess.run(
            [SECUREBASE, "refresh", "--inbox", SAMPLE_DATA, "--warehouse", warehouse, "--as-of", str(SAMPLE_AS_OF)],
            env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert refresh.returncode == 1, refresh.stderr
    [attempt] = failed_attempts(warehouse)
    banner = (
        f"The last refresh failed at {attempt.failed_at:%Y-%m-%d %H:%M} UTC: another refresh of w.duckdb is running "
        "(lock held on w.duckdb.lock); try again when it ends"  # the sample's time zone is UTC
    )

    with dashboard_on(warehouse) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_text("You are viewing as Program lead (demo)").wait_for(timeout=60_000)
        page.get_by_text(banner).wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "failed-refresh.png"), full_page=True)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Demo identity").click()
        page.get_by_role("option", name="Clinician, north site (demo)").click()
        page.get_by_text("You are viewing as Clinician, north site (demo)").wait_for(timeout=30_000)
        clinician = page.inner_text("body")
        browser.close()
    assert "The last refresh failed" not in clinician and "Data are" in clinician  # the age, not the failure
