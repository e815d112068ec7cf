"""The deployment recipe, run for real: Caddy (deploy/Caddyfile, `tls internal`) on loopback high ports in front of a
signed-in dashboard, and a clinician signing in through https in Chromium, the redirect URI through the proxy."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS, free_port
from tests.dashboard.test_sign_in import sign_in

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
CADDY = "/usr/bin/caddy"


def caddy_environment(folder: Path, https_port: int, dashboard_port: int) -> dict:
    """deploy/Caddyfile's values for a test: loopback only, high ports, no admin endpoint, state in `folder`."""
    return {
        **os.environ,
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "SECUREBASE_SITE": "localhost",
        "SECUREBASE_TLS": "internal",
        "SECUREBASE_DASHBOARD": f"127.0.0.1:{dashboard_port}",
        "CADDY_ADMIN": "off",
        "CADDY_BIND": "127.0.0.1",
        "CADDY_HTTP_PORT": str(free_port()),
        "CADDY_HTTPS_PORT": str(https_port),
    }


def listening_addresses(port: int) -> set[str]:
    """The local addresses listening on `port` (/proc/net/tcp and tcp6, state 0A)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if urllib.request.urlopen(url, timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} never answered")


@pytest.fixture(scope="module")
def proxied_dashboard(sample_warehouse, tmp_path_factory):
    import oidc_provider_mock

    users = [oidc_provider_mock.User(sub="north", claims={"email": "north@example.org", "email_verified": True})]
    folder = tmp_path_factory.mktemp("behind-caddy")
    https_port, dashboard_port = free_port(), free_port()
    public = f"https://localhost:{https_port}"
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as provider:
        (folder / "roles.toml").write_text('[emails."north@example.org"]\nrole = "clinician"\nsites = ["north"]\n')
        (folder / "secrets.toml").write_text(
            f'[auth]\nredirect_uri = "{public}/oauth2callback"\n'
            'cookie_secret = "a-test-secret-that-is-long-enough-for-streamlit"\n'
            'client_id = "securebase"\nclient_secret = "test"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n'
        )
        for secret in ("roles.toml", "secrets.toml"):
            (folder / secret).chmod(0o600)
        (folder / "program.toml").write_text(
            f'[dashboard]\nroles = "{folder / "roles.toml"}"\nsecrets = "{folder / "secrets.toml"}"\n'
        )
        securebase = Path(sys.executable).with_name("securebase")
        dashboard = subprocess.Popen(
            [securebase, "dashboard", "--warehouse", sample_warehouse, "--port", str(dashboard_port)]
            + ["--config", folder / "program.toml"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        caddy = subprocess.Popen(
            [CADDY, "run", "--config", ROOT / "deploy" / "Caddyfile", "--adapter", "caddyfile"],
            env=caddy_environment(folder, https_port, dashboard_port),
            stdout=subprocess.DEVNULL,
            stderr=open(folder / "caddy.log", "w"),  # noqa: SIM115  closed with the process
        )
        try:
            wait_for(f"http://127.0.0.1:{dashboard_port}/_stcore/health", dashboard)
            deadline = time.monotonic() + 30
            while not listening_addresses(https_port) and time.monotonic() < deadline and caddy.poll() is None:
                time.sleep(0.2)
            yield public, https_port
        finally:
            for process in (caddy, dashboard):
                process.terminate()
                process.wait(timeout=20)


def test_caddy_listens_on_loopback_only(proxied_dashboard):
    _, https_port = proxied_dashboard
    assert listening_addresses(https_port) == {"0100007F"}  # 127.0.0.1, and nothing else


def test_a_clinician_signs_in_through_https(proxied_dashboard, tmp_path):
    from playwright.sync_api import sync_playwright

    public, _ = proxied_dashboard
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(ignore_https_errors=True)  # Caddy's local CA is not in the browser's store
        page = context.new_page()
        first = page.goto(public)
        issuer = first.security_details()["issuer"]
        sign_in(page, public, "north")
        page.get_by_text("10-week change in ECR-R attachment anxiety").first.wait_for(timeout=60_000)
        page.get_by_text("Signed in as north@example.org").wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "clinician.png"), full_page=True)
        url = page.url
        browser.close()
    assert "Caddy Local Authority" in issuer
    assert url.startswith(public)  # back on the public https name after the provider's redirect
