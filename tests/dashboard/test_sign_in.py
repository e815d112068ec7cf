"""Sign-in through a real OpenID Connect provider (oidc-provider-mock on loopback) and Streamlit's native login:
each identity gets the role and sites of the roles file, and an identity without a role sees nothing."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS, free_port

pytestmark = pytest.mark.browser
SUBJECT_ONLY = ("impostor", "lead@example.org", "admin-subject")  # shown by subject: no verified email

ROLES = """
[emails."lead@example.org"]
role = "program_lead"

[emails."north@example.org"]
role = "clinician"
sites = ["north"]

[subjects."admin-subject"]
role = "admin"
"""


@pytest.fixture(scope="module")
def signed_in_dashboard(sample_warehouse, tmp_path_factory):
    import oidc_provider_mock

    users = [
        oidc_provider_mock.User(sub=sub, claims={"email": f"{sub}@example.org", "email_verified": True})
        for sub in ("lead", "north", "stranger")
    ] + [
        oidc_provider_mock.User(sub="impostor", claims={"email": "lead@example.org"}),  # not said to be verified
        oidc_provider_mock.User(sub="lead@example.org", claims={}),  # a subject spelled like the lead's address
        oidc_provider_mock.User(sub="admin-subject", claims={}),
    ]
    folder = tmp_path_factory.mktemp("sign-in")
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as provider:
        port = free_port()
        app = f"http://127.0.0.1:{port}"
        (folder / "roles.toml").write_text(ROLES)
        (folder / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "{app}/oauth2callback"\n'
            'cookie_secret = "a-test-secret-that-is-long-enough-for-streamlit"\n'
            'client_id = "securebase"\nclient_secret = "test"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n'
        )
        for secret in ("roles.toml", "secrets.toml"):
            (folder / secret).chmod(0o600)
        (folder / "program.toml").write_text(
            f'[dashboard]\nroles = "{folder / "roles.toml"}"\nsecrets = "{folder / "secrets.toml"}"\n'
        )
        server = subprocess.Popen(
            [
                Path(sys.executable).with_name("securebase"),
                "dashboard",
                "--warehouse",
                sample_warehouse,
                "--port",
                str(port),
                "--config",
                folder / "program.toml",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ},
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if urllib.request.urlopen(f"{app}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.3)
            yield app
        finally:
            server.terminate()
            server.wait(timeout=20)


def sign_in(page, app: str, sub: str) -> str:
    page.goto(app)
    page.get_by_role("button", name="Sign in").click()
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app}/**", timeout=30_000)
    return page


@pytest.mark.parametrize(
    ("sub", "expected"),
    [
        ("lead", "10-week change in ECR-R attachment anxiety"),
        ("north", "10-week change in ECR-R attachment anxiety"),
        ("stranger", "Your account has no role in securebase"),
        ("impostor", "Your account has no role in securebase"),  # the lead's address, unverified
        ("lead@example.org", "Your account has no role in securebase"),  # a subject is not an email address
        ("admin-subject", "10-week change in ECR-R attachment anxiety"),
    ],
)
def test_an_identity_gets_its_role_or_nothing(signed_in_dashboard, sub, expected, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = sign_in(browser.new_page(viewport={"width": 1300, "height": 900}), signed_in_dashboard, sub)
        page.get_by_text(expected).first.wait_for(timeout=60_000)
        shown_as = sub if sub in SUBJECT_ONLY else f"{sub}@example.org"
        page.get_by_text(f"Signed in as {shown_as}").wait_for(timeout=30_000)
        body = page.inner_text("body")
        if sub == "north":
            page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Cohort outcomes").click()
            page.get_by_text("Outcome status and category").wait_for(timeout=60_000)
            body = page.inner_text("body")
            page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').click()
            cohorts = [option.inner_text() for option in page.get_by_role("option").all()]
            page.keyboard.press("Escape")
            assert cohorts and all(cohort.startswith("north-") for cohort in cohorts)
        page.screenshot(path=str(tmp_path / f"{sub}.png"), full_page=True)
        browser.close()
    assert "Demo mode" not in body
    if sub in ("stranger", "impostor", "lead@example.org"):  # no navigation, no figure
        assert "Program overview" not in body and "10-week change" not in body


def answers_without_a_session(urls: list[str], app: str) -> list[tuple[str, str]]:
    """What the server gives a plain client, with no cookie or session, at each of the app's addresses; an address
    that answers 403 or 404 gives nothing."""
    answers = []
    for url in sorted({url for url in urls if url.startswith(app)}):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                answers.append((url, response.read().decode("utf-8", errors="replace")))
        except urllib.error.HTTPError as error:
            assert error.code in (403, 404), url
    return answers


def test_a_download_comes_inside_the_signed_in_page_and_no_address_serves_it_without_the_session(
    signed_in_dashboard, sample_warehouse, tmp_path
):
    from playwright.sync_api import sync_playwright

    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        [(cohort, participants)] = con.execute(
            "SELECT cohort_id, list(participant_id ORDER BY participant_id) FROM marts.participant_outcomes "
            "WHERE site_id = 'north' AND instrument = 'ECR-R' AND subscale = 'anxiety' "
            "GROUP BY cohort_id ORDER BY cohort_id LIMIT 1"
        ).fetchall()
    requested, answers = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900}, accept_downloads=True)
        page.on("request", lambda request: requested.append(request.url))
        sign_in(page, signed_in_dashboard, "north")
        page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Cohort outcomes").click()
        page.get_by_text("Outcome status and category").wait_for(timeout=60_000)
        with page.expect_download(timeout=30_000) as table:
            page.get_by_role("link", name="Download this table (CSV)").click()
        # asked while the session is open and on the page, so that anything kept for it is still kept
        answers += answers_without_a_session([*requested, table.value.url], signed_in_dashboard)
        page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Program overview").click()
        page.get_by_role("button", name="Prepare the program report (HTML)").click()
        with page.expect_download(timeout=60_000) as report:
            page.get_by_role("link", name="Download the program report (HTML)").click(timeout=60_000)
        answers += answers_without_a_session([*requested, report.value.url], signed_in_dashboard)
        downloads = [(d.suggested_filename, d.url, Path(d.path()).read_text()) for d in (table.value, report.value)]
        browser.close()

    (table_name, table_url, csv), (report_name, report_url, report_page) = downloads
    assert table_name == f"{cohort}_outcomes.csv" and report_name == "program_report.html"
    assert csv.splitlines()[0].startswith("participant_id,site_id,baseline_date")
    assert [line.split(",")[0] for line in csv.splitlines()[1:]] == participants
    assert "<h2>6. Sites and modalities compared</h2>" in report_page
    # No address the browser asked the server for gives a participant or the report to a client without the session
    assert answers and not [url for url, body in answers if any(p in body for p in participants)]
    assert not [url for url, body in answers if "Sites and modalities compared" in body]
    # ... since each file came inside the page (a data: link), and the server has no address for it.
    assert table_url.startswith("data:text/csv;base64,") and report_url.startswith("data:text/html;base64,")
    assert [url for url in requested if "/media/" in url and "/static/" not in url] == []
