"""The program report printed to PDF by headless Chromium: A4, a section to a page, the text where it belongs."""

import re

import pytest

from dashboard import scope
from dashboard.program_report import SECTIONS, program_report_for_funders
from dashboard.scope import Viewer, Warehouse
from tests.dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
A4_PRINTED_WIDTH = (210 - 2 * 15) / 25.4 * 96  # CSS pixels within the page's side margins of 15 mm
CHARTS_DRAWN = "[...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('.main-svg'))"


def test_the_report_prints_on_a4_with_each_section_on_its_own_pages(sample_warehouse, tmp_path):
    from playwright.sync_api import sync_playwright

    warehouse, lead = Warehouse.at(sample_warehouse), Viewer("program_lead")
    report = tmp_path / "program_report.html"
    report.write_text(program_report_for_funders(warehouse, lead, publication=False), encoding="utf-8")
    requested = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.goto(report.as_uri())
        page.wait_for_function(CHARTS_DRAWN, timeout=30_000)
        pdf = page.pdf(format="A4")
        page.emulate_media(media="print")
        breaks = page.eval_on_selector_all("section", "sections => sections.map(s => getComputedStyle(s).breakBefore)")
        widest_chart = page.eval_on_selector_all(".main-svg", "svgs => Math.max(...svgs.map(s => s.clientWidth))")
        texts = {key: page.locator(f"section#{key}").inner_text() for key in SECTIONS}
        browser.close()

    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    assert len(SECTIONS) <= pages <= 2 * len(SECTIONS)  # each section starts a page; none runs on for long
    assert breaks == ["auto"] + ["page"] * (len(SECTIONS) - 1)
    assert 0 < widest_chart <= A4_PRINTED_WIDTH
    assert [u for u in requested if not u.startswith(("file:", "data:", "blob:", "about:"))] == []

    for number, (key, heading) in enumerate(SECTIONS.items(), start=1):
        assert texts[key].startswith(f"{number}. {heading}")
    headline = scope.program_headline(warehouse, lead)
    change = f"{headline['mean_change']:+.2f} points"
    interval = f"{headline['itt_ci_low']:+.2f} to {headline['itt_ci_high']:+.2f}"
    assert change in texts["headline"] and interval in texts["headline"]
    assert "Site: north" in texts["talking-therapies"] and "Modality: CBT" in texts["comparisons"]
    assert "Reliable change" in texts["methods"] and "METHODS.md" not in "".join(texts.values())
