"""Who may see the dashboard: the roles file and the sign-in secrets, checked when the dashboard starts.

The roles file grants a role (and, for clinicians, their sites) by claim kind, emails and subjects apart, so that a
subject spelled like an email address never takes that address's role:

    [emails."lead@example.org"]        # an email address the provider says it has verified
    role = "program_lead"

    [subjects."00u1a2b3c4"]            # the subject (sub) the provider gives an account
    role = "clinician"
    sites = ["north"]

Nothing here imports Streamlit: the command line checks both files before the server starts, and the pages read the
roles through `load_roles` again on each sign-in.
"""

from __future__ import annotations

import ipaddress
import socket
import tomllib
from dataclasses import dataclass
from pathlib import Path

from securebase.settings import Settings, SettingsError, check_private_file

ROLES = ("admin", "program_lead", "clinician")  # what each sees: dashboard/scope.py
CLAIM_KINDS = ("emails", "subjects")
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


@dataclass(frozen=True)
class Grant:
    """A role, and the sites a clinician may see."""

    role: str
    sites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Roles:
    """The grants of the roles file, one table per claim kind."""

    emails: dict[str, Grant]
    subjects: dict[str, Grant]

    def grant_for(self, verified_email: str | None, subject: str | None) -> Grant | None:
        """The grant of a verified email address, else of the subject; None when neither has one."""
        if verified_email and verified_email in self.emails:
            return self.emails[verified_email]
        return self.subjects.get(subject) if subject else None


def _read_toml(path: Path, key: str) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"{key} {path} cannot be read: {error.strerror}") from error
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{key} {path} is not valid TOML: {error}") from error


def _grant(entry, where: str) -> Grant:
    if not isinstance(entry, dict) or entry.get("role") not in ROLES:
        raise SettingsError(f'{where}: role must be one of {", ".join(ROLES)} (role = "clinician")')
    unknown = sorted(set(entry) - {"role", "sites"})
    if unknown:
        raise SettingsError(f"{where}.{unknown[0]}: unknown key (an identity takes role and sites)")
    sites = entry.get("sites", [])
    if not isinstance(sites, list) or not all(isinstance(site, str) for site in sites):
        raise SettingsError(f'{where}.sites must be a list of site ids (sites = ["north"])')
    return Grant(entry["role"], tuple(sites))


def load_roles(path: Path) -> Roles:
    """The roles file, every entry checked: a slip raises SettingsError with the file, the entry and the reason."""
    content = _read_toml(path, "dashboard.roles")
    unknown = sorted(set(content) - set(CLAIM_KINDS))
    if unknown:
        raise SettingsError(
            f'dashboard.roles {path}: unknown table [{unknown[0]}] (identities go in [emails."..."] or '
            '[subjects."..."], by the claim that names them)'
        )
    tables = {}
    for kind in CLAIM_KINDS:
        table = content.get(kind, {})
        if not isinstance(table, dict):
            raise SettingsError(f'dashboard.roles {path}: {kind} must be tables such as [{kind}."..."]')
        tables[kind] = {name: _grant(entry, f"dashboard.roles {path}: {kind}.{name}") for name, entry in table.items()}
    return Roles(**tables)


def check_auth_secrets(path: Path) -> None:
    """Streamlit's secrets file must hold the [auth] keys its OpenID Connect login needs."""
    auth = _read_toml(path, "dashboard.secrets").get("auth")
    if not isinstance(auth, dict):
        raise SettingsError(f"dashboard.secrets {path} has no [auth] section")
    missing = [key for key in AUTH_KEYS if not isinstance(auth.get(key), str) or not auth[key]]
    if missing:
        raise SettingsError(f"dashboard.secrets {path}: [auth] lacks {', '.join(missing)}")


def check_listen_address(host: str, port: int) -> bool:
    """Whether every address `host` resolves to is loopback; SettingsError when it does not resolve or its port is
    taken (probed as the server binds: every address of the name, with SO_REUSEADDR)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        raise SettingsError(f"--host {host!r} does not resolve to an address: {error}") from error
    for family, kind, protocol, _, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise SettingsError(f"cannot listen on {address[0]} port {port}: {error.strerror}") from error
    return all(ipaddress.ip_address(address[4][0].split("%")[0]).is_loopback for address in addresses)


def choose_access(settings: Settings, host: str, is_loopback: bool, demo: bool) -> str:
    """ "sign-in" when roles and secrets are configured (both files checked), "demo" when asked for on loopback;
    anything else is refused with SettingsError, so that the dashboard is never open by default."""
    missing = [key for key, path in (("roles", settings.roles), ("secrets", settings.auth_secrets)) if path is None]
    if not missing:
        if demo:
            raise SettingsError("--demo is for a dashboard without sign-in, but [dashboard] roles and secrets are set")
        check_private_file(settings.roles, "dashboard.roles")
        check_private_file(settings.auth_secrets, "dashboard.secrets")
        load_roles(settings.roles)
        check_auth_secrets(settings.auth_secrets)
        return "sign-in"
    needed = " and ".join(f"dashboard.{key}" for key in missing)
    if not is_loopback:
        raise SettingsError(f"refusing to serve {host} beyond loopback without sign-in: set {needed} in the config")
    if len(missing) == 1:
        raise SettingsError(f"sign-in needs {needed} as well: set it in the config")
    if not demo:
        raise SettingsError(
            "no sign-in is configured (dashboard.roles and dashboard.secrets): configure it, or pass --demo to show "
            "demo identities, Administrator included, to anyone who reaches the address"
        )
    return "demo"
