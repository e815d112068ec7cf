"""Closed by default: a dashboard that would be open refuses to start in one line, the inbox cannot be escaped by a
link, a warehouse reached by two names takes one lock, and what a refresh writes is closed to other users."""

import fcntl
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.flows import refresh
from pipelines.generate import SAMPLE_AS_OF
from pipelines.warehouse import WarehouseLocked
from tests.dashboard.test_browser import free_port

SECUREBASE = Path(sys.executable).with_name("securebase")
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def start_dashboard(tmp_path: Path, *arguments: str, config: str | None = None) -> subprocess.CompletedProcess:
    """`securebase dashboard` as a user starts it; every case here must stop before serving."""
    warehouse = tmp_path / "w.duckdb"
    warehouse.touch()
    command = [SECUREBASE, "dashboard", "--warehouse", warehouse, "--port", str(free_port()), *arguments]
    if config is not None:
        (tmp_path / "program.toml").write_text(config)
        command += ["--config", tmp_path / "program.toml"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def sign_in_config(tmp_path: Path, secrets_mode: int = 0o600) -> str:
    (tmp_path / "roles.toml").write_text('[emails."a@example.org"]\nrole = "admin"\n')
    (tmp_path / "roles.toml").chmod(0o600)
    (tmp_path / "secrets.toml").write_text(
        '[auth]\nredirect_uri = "https://x.example.org/oauth2callback"\ncookie_secret = "c"\nclient_id = "i"\n'
        'client_secret = "s"\nserver_metadata_url = "https://id.example.org/.well-known/openid-configuration"\n'
    )
    (tmp_path / "secrets.toml").chmod(secrets_mode)
    return f'[dashboard]\nroles = "{tmp_path / "roles.toml"}"\nsecrets = "{tmp_path / "secrets.toml"}"\n'


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        (
            ("--host", "0.0.0.0", "--demo"),
            "refusing to serve 0.0.0.0 beyond loopback without sign-in: set dashboard.roles and dashboard.secrets",
        ),
        (("--host", "127.0.0.1"), "no sign-in is configured (dashboard.roles and dashboard.secrets)"),
        (("--host", "no-such-host.invalid", "--demo"), "--host 'no-such-host.invalid' does not resolve"),
    ],
)
def test_a_dashboard_without_sign_in_refuses_to_start_in_one_line(tmp_path, arguments, line):
    result = start_dashboard(tmp_path, *arguments)
    assert result.returncode == 1
    [stderr] = result.stderr.splitlines()
    assert stderr.startswith("securebase: ") and line in stderr


def test_a_port_in_use_is_refused_in_one_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        warehouse = tmp_path / "w.duckdb"
        warehouse.touch()
        result = subprocess.run(
            [SECUREBASE, "dashboard", "--warehouse", warehouse, "--port", port, "--demo"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"securebase: cannot listen on 127.0.0.1 port {port}: Address already in use"]


def test_a_world_readable_secrets_file_stops_the_dashboard(tmp_path):
    result = start_dashboard(tmp_path, "--host", "0.0.0.0", config=sign_in_config(tmp_path, 0o644))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"securebase: dashboard.secrets {tmp_path / 'secrets.toml'} is open to other users (mode 644): "
        f"run chmod o-rwx {tmp_path / 'secrets.toml'}"
    ]


def test_a_missing_secrets_file_stops_the_dashboard(tmp_path):
    config = sign_in_config(tmp_path)
    (tmp_path / "secrets.toml").unlink()
    result = start_dashboard(tmp_path, "--host", "0.0.0.0", config=config)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"securebase: dashboard.secrets {tmp_path / 'secrets.toml'} cannot be read: No such file or directory"
    ]


def test_a_malformed_roles_file_stops_the_dashboard(tmp_path):
    config = sign_in_config(tmp_path)
    (tmp_path / "roles.toml").write_text('[identities."a@example.org"]\nrole = "admin"\n')
    result = start_dashboard(tmp_path, config=config)
    assert result.returncode == 1
    [stderr] = result.stderr.splitlines()
    assert f"dashboard.roles {tmp_path / 'roles.toml'}: unknown table [identities]" in stderr


@pytest.fixture
def inbox_with_outside_link(tmp_path) -> Path:
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    shutil.copytree(SAMPLE_DATA, inbox)
    outside.mkdir()
    (outside / "participants_extra.csv").write_text(
        "participant_id,site_id,cohort_id,modality,enrolled_date\nPX0001,north,c1,cbt,2026-01-05\n"
    )
    (inbox / "participants_extra.csv").symlink_to(outside / "participants_extra.csv")
    (inbox / "participants_again.csv").symlink_to(inbox / "participants.csv")  # a link within the inbox is a file
    return inbox


def test_a_link_leaving_the_inbox_is_rejected_unread(prefect_server, inbox_with_outside_link, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    summary = refresh(inbox=inbox_with_outside_link, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    assert summary.files_rejected == 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = dict(con.execute("SELECT file_name, status || ': ' || coalesce(reason, '') FROM ops.files").fetchall())
        [(outsiders,)] = con.execute("SELECT count(*) FROM raw.participants WHERE participant_id = 'PX0001'").fetchall()
    assert files["participants_extra.csv"] == (
        "rejected: a symbolic link to a file outside the inbox: copy the file in"
    )
    assert files["participants_again.csv"].startswith("duplicate")
    assert outsiders == 0
    again = refresh(inbox=inbox_with_outside_link, warehouse=warehouse, as_of=SAMPLE_AS_OF)
    assert again.files_rejected == 0  # recorded once, like any rejected file


def test_a_warehouse_reached_through_a_link_takes_the_real_files_lock(prefect_server, tmp_path):
    real = tmp_path / "data" / "warehouse.duckdb"
    real.parent.mkdir()
    link = tmp_path / "warehouse.duckdb"
    link.symlink_to(real)
    with (real.parent / "warehouse.duckdb.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a refresh of the real path is running
        with pytest.raises(WarehouseLocked, match=f"lock held on {real}.lock"):
            refresh(inbox=SAMPLE_DATA, warehouse=link, as_of=SAMPLE_AS_OF)
    refresh(inbox=SAMPLE_DATA, warehouse=link, as_of=SAMPLE_AS_OF)
    assert link.is_symlink() and real.is_file()  # published over the real file, the link kept


def test_what_a_refresh_and_the_demo_create_is_closed_to_other_users(prefect_server, tmp_path):
    from prefect.settings import PREFECT_API_URL

    warehouse = tmp_path / "new" / "w.duckdb"
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    command = [SECUREBASE, "refresh", "--inbox", SAMPLE_DATA, "--warehouse", warehouse, "--as-of", str(SAMPLE_AS_OF)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, preexec_fn=open_umask)
    assert result.returncode == 0, result.stderr
    created = [warehouse.parent, warehouse, Path(f"{warehouse}.lock"), tmp_path / "new" / "w-reports"]
    created += list((tmp_path / "new" / "w-reports").iterdir())
    assert {path.name: stat.S_IMODE(path.stat().st_mode) & 0o007 for path in created} == {
        path.name: 0 for path in created
    }


def open_umask() -> None:
    """The child starts with the permissive umask many accounts have."""
    os.umask(0o002)
