"""Who may see the dashboard: the roles file by claim kind, the sign-in secrets, the listening address, and the
choice between sign-in, demo and refusal (dashboard/access.py)."""

import socket
from pathlib import Path

import pytest

from dashboard.access import Grant, check_auth_secrets, check_listen_address, choose_access, load_roles
from securebase.settings import Settings, SettingsError, check_private_file

AUTH = (
    '[auth]\nredirect_uri = "https://dash.example.org/oauth2callback"\ncookie_secret = "long-enough-secret"\n'
    'client_id = "securebase"\nclient_secret = "s"\nserver_metadata_url = "https://id.example.org/.well-known/x"\n'
)


def private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_roles_are_looked_up_by_claim_kind(tmp_path):
    roles = load_roles(
        private(
            tmp_path / "roles.toml",
            '[emails."lead@example.org"]\nrole = "program_lead"\n'
            '[subjects."u-17"]\nrole = "clinician"\nsites = ["north"]\n',
        )
    )
    assert roles.grant_for("lead@example.org", "u-1") == Grant("program_lead")
    assert roles.grant_for(None, "u-17") == Grant("clinician", ("north",))
    assert roles.grant_for("other@example.org", "u-17") == Grant("clinician", ("north",))
    assert roles.grant_for(None, "lead@example.org") is None  # a subject spelled like an address is not that address
    assert roles.grant_for(None, None) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[identities."a@b.org"]\nrole = "admin"\n', "unknown table [identities]"),
        ('[emails."a@b.org"]\nrole = "superuser"\n', "emails.a@b.org: role must be one of admin, program_lead"),
        ('[emails."a@b.org"]\nrole = "clinician"\nsites = "north"\n', "emails.a@b.org.sites must be a list"),
        ('[subjects."x"]\nrole = "admin"\nsite = ["n"]\n', "subjects.x.site: unknown key"),
        ("[emails\n", "is not valid TOML"),
    ],
)
def test_a_malformed_roles_file_is_refused_in_one_line(tmp_path, text, message):
    with pytest.raises(SettingsError, match="dashboard.roles") as error:
        load_roles(private(tmp_path / "roles.toml", text))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_missing_roles_file_is_refused(tmp_path):
    with pytest.raises(SettingsError, match=r"dashboard.roles .*missing.toml cannot be read: No such file"):
        load_roles(tmp_path / "missing.toml")


def test_the_secrets_need_every_auth_key(tmp_path):
    check_auth_secrets(private(tmp_path / "ok.toml", AUTH))
    with pytest.raises(SettingsError, match=r"\[auth\] lacks client_secret, server_metadata_url"):
        check_auth_secrets(private(tmp_path / "bad.toml", "\n".join(AUTH.splitlines()[:4])))
    with pytest.raises(SettingsError, match=r"has no \[auth\] section"):
        check_auth_secrets(private(tmp_path / "none.toml", "[other]\n"))


@pytest.mark.parametrize("mode", [0o604, 0o644, 0o601, 0o666])
def test_a_file_other_users_can_open_is_refused(tmp_path, mode):
    path = private(tmp_path / "secrets.toml", AUTH)
    path.chmod(mode)
    with pytest.raises(SettingsError, match=f"open to other users \\(mode {mode:03o}\\): run chmod o-rwx"):
        check_private_file(path, "dashboard.secrets")


def test_a_private_file_passes_and_a_missing_one_is_named(tmp_path):
    path = private(tmp_path / "secrets.toml", AUTH)
    path.chmod(0o640)  # the service's group may read it
    check_private_file(path, "dashboard.secrets")
    with pytest.raises(SettingsError, match="dashboard.secrets .* cannot be read: No such file"):
        check_private_file(tmp_path / "gone.toml", "dashboard.secrets")


def test_the_listening_address_is_checked():
    assert check_listen_address("127.0.0.1", 0) is True
    assert check_listen_address("localhost", 0) is True
    assert check_listen_address("0.0.0.0", 0) is False
    with pytest.raises(SettingsError, match="--host 'no-such-host.invalid' does not resolve"):
        check_listen_address("no-such-host.invalid", 8501)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SettingsError, match=f"cannot listen on 127.0.0.1 port {port}: Address already in use"):
            check_listen_address("127.0.0.1", port)


def signed_in_settings(tmp_path) -> Settings:
    roles = private(tmp_path / "roles.toml", '[emails."a@b.org"]\nrole = "admin"\n')
    return Settings(roles=roles, auth_secrets=private(tmp_path / "secrets.toml", AUTH))


def test_sign_in_is_chosen_when_both_files_are_good(tmp_path):
    assert choose_access(signed_in_settings(tmp_path), "0.0.0.0", False, demo=False) == "sign-in"
    with pytest.raises(SettingsError, match="--demo is for a dashboard without sign-in"):
        choose_access(signed_in_settings(tmp_path), "127.0.0.1", True, demo=True)


def test_without_sign_in_only_an_explicit_demo_on_loopback_is_served(tmp_path):
    assert choose_access(Settings(), "127.0.0.1", True, demo=True) == "demo"
    with pytest.raises(SettingsError, match="no sign-in is configured .*pass --demo"):
        choose_access(Settings(), "127.0.0.1", True, demo=False)
    with pytest.raises(SettingsError, match="refusing to serve 0.0.0.0 .*set dashboard.roles and dashboard.secrets"):
        choose_access(Settings(), "0.0.0.0", False, demo=True)
    half = Settings(roles=signed_in_settings(tmp_path).roles)
    with pytest.raises(SettingsError, match="sign-in needs dashboard.secrets as well"):
        choose_access(half, "127.0.0.1", True, demo=True)


def test_a_world_readable_roles_file_stops_sign_in(tmp_path):
    settings = signed_in_settings(tmp_path)
    settings.roles.chmod(0o644)
    with pytest.raises(SettingsError, match="dashboard.roles .* open to other users"):
        choose_access(settings, "0.0.0.0", False, demo=False)
