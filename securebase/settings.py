"""The one settings object, built by `load_settings` (never at import time).

Each key is looked up in the `--config` TOML file first, then in a `SECUREBASE_<SECTION>_<KEY>` environment
variable (for example `SECUREBASE_PROGRAM_TIMEZONE`), then falls back to its default (CONTRACT.md §1, §3).
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transforms.adapters import SourceRejected
from transforms.adapters.redcap import redcap_config
from transforms.datasets import ID_PATTERN
from transforms.instruments import Instrument, registry
from transforms.reliable_change import settings_for
from transforms.windows import Windows

DEFAULT_MEMORY_LIMIT = "2GB"  # [refresh] memory_limit: DuckDB's share of a refresh's memory (README.md, "Memory")


class SettingsError(ValueError):
    """A configuration that cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class Settings:
    timezone: str = "UTC"
    windows: Windows = field(default_factory=Windows)
    instruments: dict[str, Instrument] = field(default_factory=registry)
    outcomes: dict = field(default_factory=dict)
    min_cell: int = 5
    publication: bool = False
    inbox: Path | None = None  # [refresh] inbox and warehouse: what `securebase serve` refreshes nightly
    warehouse: Path | None = None
    memory_limit: str = DEFAULT_MEMORY_LIMIT  # [refresh]: DuckDB's memory in a refresh; beyond it, DuckDB spills
    temp_directory: Path | None = None  # [refresh]: where it spills; None: `<warehouse>.tmp` beside the warehouse
    roles: Path | None = None  # [dashboard] roles and secrets: sign-in through an OpenID Connect provider
    auth_secrets: Path | None = None
    stale_after_hours: float = 36.0  # [dashboard]: "Data are N days old" once the as-of day began longer ago
    sites: dict[str, str] = field(default_factory=dict)  # [sites]: a site id's display name (`north` → `North clinic`)
    notify_webhook: str | None = None  # [notify]: a JSON POST when a refresh fails, and on success if asked
    notify_on_success: bool = False
    notify_timeout_seconds: float = 10.0
    sources: dict = field(default_factory=dict)  # the [redcap] and [fhir] sections as given (ADAPTERS.md)
    key_file: Path | None = None  # [pseudonymisation] key_file: read only when the inbox holds a source file


# The keys each section takes; `instruments` and `outcomes` are checked where they are read (transforms/).
SECTIONS = {
    "program": ("timezone",),
    "windows": ("baseline", "endpoint_target", "endpoint"),
    "instruments": None,
    "outcomes": None,
    "privacy": ("min_cell", "publication"),
    "refresh": ("inbox", "warehouse", "memory_limit", "temp_directory"),
    "dashboard": ("roles", "secrets", "stale_after_hours"),
    "sites": None,
    "notify": ("webhook", "on_success", "timeout_seconds"),
    "redcap": None,
    "fhir": None,
    "pseudonymisation": ("key_file",),
}
# A site's display name: short plain words (letters, digits, spaces and `.,'&()/-`), never markup or a note.
SITE_NAME = re.compile(r"[^\W_][\w .,'&()/-]{0,39}")
PATH_KEYS = (
    ("refresh", "inbox"),
    ("refresh", "warehouse"),
    ("refresh", "temp_directory"),
    ("dashboard", "roles"),
    ("dashboard", "secrets"),
)
# An amount of memory as DuckDB reads it: a number and a unit, decimal (1 GB = 1000 MB) or binary (1 GiB = 1024 MiB).
MEMORY_AMOUNT = re.compile(r"(\d+(?:\.\d+)?) ?([KMGT]i?B)", re.IGNORECASE)
MEMORY_UNITS = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
SMALLEST_MEMORY_LIMIT = 256 * 2**20  # a floor against unit slips ("4MB" meant as 4GB) that starve the refresh


def _check_keys(config: dict) -> None:
    for section, table in config.items():
        if section not in SECTIONS:
            raise SettingsError(f"{section}: unknown section (known: {', '.join(SECTIONS)})")
        if section == "instruments":
            if not isinstance(table, list) or not all(isinstance(entry, dict) for entry in table):
                raise SettingsError('instruments must be [[instruments]] tables, each with id = "..."')
        elif not isinstance(table, dict):
            raise SettingsError(f"{section} must be a table [{section}], got {table!r}")
        elif SECTIONS[section]:
            keys = ", ".join(SECTIONS[section])
            unknown = sorted(set(table) - set(SECTIONS[section]))
            if unknown:
                raise SettingsError(f"{section}.{unknown[0]}: unknown key ([{section}] takes {keys})")


def _lookup(config: dict, section: str, key: str, default):
    if key in config.get(section, {}):
        return config[section][key]
    env = os.environ.get(f"SECUREBASE_{section.upper()}_{key.upper()}")
    return default if env is None else env


def _whole(value) -> int | None:
    """A whole number from TOML, or from the text of an environment variable; None if it is not one."""
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pair(value, key: str) -> tuple[int, int]:
    parts = value.strip("[]() ").split(",") if isinstance(value, str) else value
    offsets = [_whole(part) for part in parts] if isinstance(parts, list | tuple) else []
    if len(offsets) != 2 or None in offsets or offsets[0] > offsets[1]:
        raise SettingsError(f"windows.{key} must be two day offsets [first, last], got {value!r}")
    return offsets[0], offsets[1]


def _site_names(table: dict) -> dict[str, str]:
    """[sites]: each key a site id (CONTRACT §2), each value a distinct display name of at most 40 plain characters."""
    for site_id, name in table.items():
        if not ID_PATTERN.fullmatch(site_id):
            raise SettingsError(f"sites.{site_id}: not a site id (letters, digits, _ and -, at most 64)")
        if not isinstance(name, str) or not SITE_NAME.fullmatch(name):
            raise SettingsError(
                f"sites.{site_id} must be a display name in quotes of at most 40 letters, digits, spaces and .,'&()/-"
            )
    names = list(table.values())
    repeated = next((name for position, name in enumerate(names) if name in names[:position]), None)
    if repeated is not None:
        raise SettingsError(f"sites: the display name {repeated!r} is given to more than one site")
    return dict(table)


def _boolean(value, key: str) -> bool:
    if str(value).lower() not in ("true", "false"):
        raise SettingsError(f"{key} must be true or false, got {value!r}")
    return str(value).lower() == "true"


def _hours(value, key: str) -> float:
    """A positive number of hours, from TOML or from the text of an environment variable."""
    try:
        hours = float(value)
    except (TypeError, ValueError):
        hours = 0.0
    if isinstance(value, bool) or not 0 < hours < float("inf"):
        raise SettingsError(f"{key} must be a positive number of hours, got {value!r}")
    return hours


def _memory_limit(value) -> str:
    """[refresh] memory_limit: at least 256 MiB, written as DuckDB reads it (`4GB`, `1.5 GiB`, `512MiB`)."""
    amount = MEMORY_AMOUNT.fullmatch(value.strip()) if isinstance(value, str) else None
    if amount is None or float(amount[1]) * MEMORY_UNITS[amount[2].lower()] < SMALLEST_MEMORY_LIMIT:
        raise SettingsError(
            f'refresh.memory_limit must be an amount of memory of at least 256MiB in quotes, such as "4GB", '
            f"got {value!r}"
        )
    return f"{amount[1]}{amount[2].upper().replace('I', 'i')}"


def _notify_settings(config: dict) -> dict:
    """[notify] webhook (an http or https URL), on_success and timeout_seconds."""
    webhook = _lookup(config, "notify", "webhook", None)
    if webhook is not None and not (isinstance(webhook, str) and webhook.startswith(("https://", "http://"))):
        raise SettingsError(f"notify.webhook must be an http:// or https:// URL in quotes, got {webhook!r}")
    timeout = _lookup(config, "notify", "timeout_seconds", 10.0)
    try:
        seconds = float(timeout)
    except (TypeError, ValueError):
        seconds = 0.0
    if isinstance(timeout, bool) or not 0 < seconds <= 120:
        raise SettingsError(f"notify.timeout_seconds must be a number of seconds in (0, 120], got {timeout!r}")
    return {
        "notify_webhook": webhook or None,
        "notify_on_success": _boolean(_lookup(config, "notify", "on_success", False), "notify.on_success"),
        "notify_timeout_seconds": seconds,
    }


def load_settings(config_file: Path | None = None) -> Settings:
    """Every key checked here, before any file is read: a slip raises SettingsError naming the key and why."""
    config: dict = {}
    if config_file is not None:
        try:
            config = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SettingsError(f"cannot read config {config_file}: {error}") from error
    _check_keys(config)

    timezone = str(_lookup(config, "program", "timezone", "UTC"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SettingsError(f"program.timezone {timezone!r} is not a known time zone") from error

    endpoint_target = _lookup(config, "windows", "endpoint_target", 70)
    if _whole(endpoint_target) is None:
        raise SettingsError(f"windows.endpoint_target must be a whole number of days, got {endpoint_target!r}")
    windows = Windows(
        baseline=_pair(_lookup(config, "windows", "baseline", (-14, 7)), "baseline"),
        endpoint=_pair(_lookup(config, "windows", "endpoint", (56, 84)), "endpoint"),
        endpoint_target=_whole(endpoint_target),
    )
    try:
        instruments = registry(config.get("instruments", []))
    except ValueError as error:
        raise SettingsError(str(error)) from error

    outcomes = config.get("outcomes", {})
    for instrument_id, subscales in outcomes.items():
        if instrument_id not in instruments:
            raise SettingsError(f"outcomes.{instrument_id}: no such instrument")
        if not isinstance(subscales, dict):
            raise SettingsError(f'outcomes.{instrument_id} must be tables such as [outcomes."{instrument_id}".total]')
        known = [s.name for s in instruments[instrument_id].subscales]
        for subscale, entry in subscales.items():
            if subscale not in known:
                raise SettingsError(f"outcomes.{instrument_id}.{subscale}: no such subscale ({', '.join(known)})")
            if not isinstance(entry, dict):
                raise SettingsError(f"outcomes.{instrument_id}.{subscale} must be a table, got {entry!r}")
            try:
                settings_for(instruments[instrument_id], subscale, outcomes)
            except (TypeError, ValueError) as error:
                raise SettingsError(f"outcomes.{instrument_id}.{subscale}.{error}") from error

    min_cell = _lookup(config, "privacy", "min_cell", 5)
    if _whole(min_cell) is None or _whole(min_cell) < 1:
        raise SettingsError(f"privacy.min_cell must be a positive integer, got {min_cell!r}")
    publication = _boolean(_lookup(config, "privacy", "publication", False), "privacy.publication")
    paths = []
    for section, key in PATH_KEYS:
        value = _lookup(config, section, key, None)
        if value is not None and not isinstance(value, str):
            raise SettingsError(f"{section}.{key} must be a path in quotes, got {value!r}")
        paths.append(Path(value) if value else None)
    inbox, warehouse, temp_directory, roles, auth_secrets = paths
    sources = _source_sections(config, instruments)
    key_file = _lookup(config, "pseudonymisation", "key_file", None)
    if key_file is not None and not isinstance(key_file, str):
        raise SettingsError(f"pseudonymisation.key_file must be a path in quotes, got {key_file!r}")
    return Settings(
        **_notify_settings(config),
        timezone=timezone,
        windows=windows,
        instruments=instruments,
        outcomes=outcomes,
        min_cell=_whole(min_cell),
        publication=publication,
        inbox=inbox,
        warehouse=warehouse,
        memory_limit=_memory_limit(_lookup(config, "refresh", "memory_limit", DEFAULT_MEMORY_LIMIT)),
        temp_directory=temp_directory,
        roles=roles,
        auth_secrets=auth_secrets,
        stale_after_hours=_hours(_lookup(config, "dashboard", "stale_after_hours", 36), "dashboard.stale_after_hours"),
        sites=_site_names(config.get("sites", {})),
        sources=sources,
        key_file=Path(key_file) if key_file else None,
    )


def _source_sections(config: dict, instruments: dict[str, Instrument]) -> dict:
    """The [redcap] and [fhir] sections, checked now when given (a file they do not describe is refused later)."""
    sources = {name: config[name] for name in ("redcap", "fhir") if name in config}
    try:
        if "redcap" in sources:
            redcap_config(sources["redcap"], instruments)
        if "fhir" in sources:
            from transforms.adapters.fhir import fhir_config  # pydantic, loaded only for a [fhir] section

            fhir_config(sources["fhir"], instruments)
    except SourceRejected as error:
        raise SettingsError(str(error).removeprefix("config key ")) from error
    return sources


def offline_environment() -> None:
    """Telemetry off and nothing fetched at run time (set only where the user has not chosen otherwise)."""
    defaults = {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
        "GX_ANALYTICS_ENABLED": "false",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


def check_private_file(path: Path, key: str) -> None:
    """A file that grants access or holds a secret must exist and give other users no permission at all."""
    try:
        mode = Path(path).stat().st_mode
    except OSError as error:
        raise SettingsError(f"{key} {path} cannot be read: {error.strerror}") from error
    if not stat.S_ISREG(mode):
        raise SettingsError(f"{key} {path} is not a file")
    if mode & 0o007:
        raise SettingsError(
            f"{key} {path} is open to other users (mode {stat.S_IMODE(mode):03o}): run chmod o-rwx {path}"
        )


def keep_files_private() -> None:
    """Whatever this process creates (the warehouse, its .next, lock and reports, the demo folder) gives other users
    no permission: the process's umask withholds them, whatever the user's own umask grants the owner and group."""
    os.umask(os.umask(0o007) | 0o007)
