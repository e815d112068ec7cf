"""The one settings object, built by `load_settings` (never at import time).

Each key is looked up in the `--config` TOML file first, then in a `SECUREBASE_<SECTION>_<KEY>` environment
variable (for example `SECUREBASE_PROGRAM_TIMEZONE`), then falls back to its default (CONTRACT.md §1, §3).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transforms.instruments import Instrument, registry
from transforms.reliable_change import settings_for
from transforms.windows import Windows


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
    roles: Path | None = None  # [dashboard] roles and secrets: sign-in through an OpenID Connect provider
    auth_secrets: Path | None = None


def _lookup(config: dict, section: str, key: str, default):
    if key in config.get(section, {}):
        return config[section][key]
    env = os.environ.get(f"SECUREBASE_{section.upper()}_{key.upper()}")
    return default if env is None else env


def _pair(value, key: str) -> tuple[int, int]:
    if isinstance(value, str):
        value = [int(part) for part in value.strip("[]() ").split(",")]
    if len(value) != 2 or value[0] > value[1]:
        raise SettingsError(f"windows.{key} must be two day offsets [first, last], got {value!r}")
    return int(value[0]), int(value[1])


def load_settings(config_file: Path | None = None) -> Settings:
    config: dict = {}
    if config_file is not None:
        try:
            config = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SettingsError(f"cannot read config {config_file}: {error}") from error

    timezone = str(_lookup(config, "program", "timezone", "UTC"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SettingsError(f"program.timezone {timezone!r} is not a known time zone") from error

    windows = Windows(
        baseline=_pair(_lookup(config, "windows", "baseline", (-14, 7)), "baseline"),
        endpoint=_pair(_lookup(config, "windows", "endpoint", (56, 84)), "endpoint"),
        endpoint_target=int(_lookup(config, "windows", "endpoint_target", 70)),
    )
    try:
        instruments = registry(config.get("instruments", []))
    except (KeyError, ValueError) as error:
        raise SettingsError(f"instruments: {error}") from error

    outcomes = config.get("outcomes", {})
    for instrument_id, subscales in outcomes.items():
        if instrument_id not in instruments:
            raise SettingsError(f"outcomes.{instrument_id}: no such instrument")
        for subscale in subscales:
            try:
                settings_for(instruments[instrument_id], subscale, outcomes)
            except (TypeError, ValueError) as error:
                raise SettingsError(f"outcomes.{instrument_id}.{subscale}: {error}") from error
    publication = _lookup(config, "privacy", "publication", False)
    inbox, warehouse = (_lookup(config, "refresh", key, None) for key in ("inbox", "warehouse"))
    roles, auth_secrets = (_lookup(config, "dashboard", key, None) for key in ("roles", "secrets"))
    return Settings(
        timezone=timezone,
        windows=windows,
        instruments=instruments,
        outcomes=outcomes,
        min_cell=int(_lookup(config, "privacy", "min_cell", 5)),
        publication=publication if isinstance(publication, bool) else str(publication).lower() == "true",
        inbox=Path(inbox) if inbox else None,
        warehouse=Path(warehouse) if warehouse else None,
        roles=Path(roles) if roles else None,
        auth_secrets=Path(auth_secrets) if auth_secrets else None,
    )


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
