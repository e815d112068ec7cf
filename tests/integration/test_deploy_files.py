"""The deployment files are valid for the tools that read them: `caddy validate` for the Caddyfile with production
values and with the test's, `systemd-analyze verify` for the units (installed paths pointed at this environment)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.mark.parametrize(
    "values",
    [
        {"SECUREBASE_SITE": "outcomes.example.org", "SECUREBASE_TLS": "it-team@example.org"},
        {"SECUREBASE_SITE": "localhost", "SECUREBASE_TLS": "internal", "CADDY_ADMIN": "off", "CADDY_BIND": "127.0.0.1"}
        | {"CADDY_HTTP_PORT": "18080", "CADDY_HTTPS_PORT": "18443"},
    ],
)
def test_the_caddyfile_validates(tmp_path, values):
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    command = ["/usr/bin/caddy", "validate", "--config", DEPLOY / "Caddyfile", "--adapter", "caddyfile"]
    result = subprocess.run(command, env=env | values, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Valid configuration" in result.stdout + result.stderr


def test_the_organisations_certificate_files_are_loaded(tmp_path):
    values = {"SECUREBASE_SITE": "outcomes.example.org", "SECUREBASE_TLS": "/etc/ssl/sb.crt /etc/ssl/private/sb.key"}
    command = ["/usr/bin/caddy", "adapt", "--config", DEPLOY / "Caddyfile", "--adapter", "caddyfile"]
    env = {**os.environ, "HOME": str(tmp_path)} | values
    result = subprocess.run(command, env=env, capture_output=True, timeout=60)
    config = json.loads(result.stdout)
    [server] = config["apps"]["http"]["servers"].values()
    assert server["listen"] == ["0.0.0.0:443", "[::]:443"]
    assert config["apps"]["tls"]["certificates"]["load_files"][0]["key"] == "/etc/ssl/private/sb.key"
    assert config["admin"]["listen"] == "localhost:2019"  # Debian's unit reloads through it; loopback only


def test_a_caddyfile_without_a_site_is_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREBASE_")} | {"HOME": str(tmp_path)}
    command = ["/usr/bin/caddy", "validate", "--config", DEPLOY / "Caddyfile", "--adapter", "caddyfile"]
    assert subprocess.run(command, env=env, capture_output=True, timeout=60).returncode != 0


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_verify_and_are_hardened(tmp_path):
    bin_dir = Path(sys.executable).parent
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text().replace("/opt/securebase/bin", str(bin_dir))
        (tmp_path / unit.name).write_text(text)
        for setting in ("User=securebase", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes"):
            assert setting in text, (unit.name, setting)
        assert "UMask=0007" in text and "ProtectHome=yes" in text
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(tmp_path.glob("*.service"))], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
