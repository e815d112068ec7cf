"""Redraw the README's screenshot (dashboard/assets/overview.png) from the sample data.

Run from the repository root after `bash .ci/setup`: `.venv/bin/python .ci/screenshot.py`. It refreshes
sample_data/ into a temporary warehouse, serves the dashboard in demo mode on a free loopback port, and has
headless Chromium photograph the program overview as a program lead sees it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "dashboard" / "assets" / "overview.png"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    from pipelines.flows import refresh
    from pipelines.generate import SAMPLE_AS_OF
    from securebase.settings import offline_environment

    offline_environment()
    with tempfile.TemporaryDirectory(prefix="securebase-screenshot-") as folder:
        warehouse = Path(folder) / "warehouse.duckdb"
        refresh(inbox=ROOT / "sample_data", warehouse=warehouse, as_of=SAMPLE_AS_OF)
        port = free_port()
        securebase = Path(sys.executable).with_name("securebase")
        command = [str(securebase), "dashboard", "--warehouse", str(warehouse), "--port", str(port), "--demo"]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("the dashboard did not start within 60 s") from None
                    time.sleep(0.5)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.get_by_text("One self-contained page").wait_for(timeout=120_000)  # the page's last element
                page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
                page.wait_for_timeout(1000)  # let the charts finish drawing
                page.screenshot(path=str(SCREENSHOT), full_page=False)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
    print(f"wrote {SCREENSHOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
