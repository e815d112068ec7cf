"""Source files (ADAPTERS.md): REDCap exports and FHIR Bulk Data NDJSON, read and adapted into dataset parts.

The reading is here; the mapping is pure (transforms/adapters/). The pseudonymisation key is read from its file once
per refresh, before any inbox file is read, and travels only in `SourceSettings` (never printed, never stored).
"""

from __future__ import annotations

import io
import stat
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.inbox import InboxFile, UnreadableFile, _text_bytes
from securebase.settings import Settings, SettingsError
from transforms.adapters import SOURCES, Part, SourceRejected
from transforms.adapters.fhir import adapt_fhir, fhir_config
from transforms.adapters.redcap import adapt_redcap, export_rejection, redcap_config
from transforms.pseudonyms import MIN_KEY_BYTES


class KeyFileError(SettingsError):
    """The pseudonymisation key cannot be used: the refresh stops before any file is read."""


@dataclass(frozen=True)
class SourceSettings:
    """What adapting a source file needs: the config sections and the key (kept out of every repr)."""

    redcap: dict | None
    fhir: dict | None
    instruments: dict
    timezone: str
    key: bytes = field(repr=False)


def read_key(key_file: Path | None) -> bytes:
    """The key's bytes (a trailing newline removed). Refused when not configured, unreadable, shorter than 32
    bytes, or readable by the file's group or other users."""
    if key_file is None:
        raise KeyFileError("source files need [pseudonymisation] key_file: no key file is configured")
    try:
        mode = key_file.stat().st_mode
        key = key_file.read_bytes().rstrip(b"\r\n")
    except OSError as error:
        raise KeyFileError(f"pseudonymisation.key_file {key_file} cannot be read ({error.strerror})") from error
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        raise KeyFileError(f"pseudonymisation.key_file {key_file} is readable by other users: chmod 600 it")
    if len(key) < MIN_KEY_BYTES:
        raise KeyFileError(f"pseudonymisation.key_file {key_file} holds fewer than {MIN_KEY_BYTES} bytes")
    return key


def source_settings(settings: Settings, inbox_files: list[InboxFile]) -> SourceSettings | None:
    """The settings to adapt the inbox's source files with, or None when it holds none (no key is needed then)."""
    if not any(f.dataset in SOURCES for f in inbox_files):
        return None
    key = read_key(settings.key_file)
    return SourceSettings(
        settings.sources.get("redcap"), settings.sources.get("fhir"), settings.instruments, settings.timezone, key
    )


def read_export(inbox_file: InboxFile) -> pl.DataFrame:
    """A REDCap CSV export as text, lower-case field names, blank as null, with `source_row` (1-based data row)."""
    data = _text_bytes(inbox_file.path, inbox_file.format.endswith(".gz"))
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False, truncate_ragged_lines=False)
    except Exception as error:  # the reader's message can quote the file: only its kind is recorded
        raise UnreadableFile(f"cannot be parsed as csv ({type(error).__name__})") from error
    names = [name.strip().lower() for name in frame.columns]
    if len(set(names)) != len(names):
        raise UnreadableFile("a REDCap field name appears more than once")
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    frame = frame.select(pl.all().str.strip_chars().replace("", None))
    return frame.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))


def read_lines(inbox_file: InboxFile) -> list[tuple[int, str]]:
    """An NDJSON file's non-blank lines with their 1-based line numbers."""
    text = _text_bytes(inbox_file.path, inbox_file.format.endswith(".gz")).decode("utf-8")
    return [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def adapt_file(inbox_file: InboxFile, sources: SourceSettings) -> tuple[list[Part], str | None]:
    """The file's dataset parts, and a note for its manifest (resources ignored). Raises UnreadableFile or
    SourceRejected with the reason the whole file is refused."""
    if inbox_file.dataset == "redcap":
        config = redcap_config(sources.redcap, sources.instruments)
        export = read_export(inbox_file)
        reason = export_rejection(export, config)
        if reason:
            raise SourceRejected(reason)
        return adapt_redcap(export, config, sources.key), None
    config = fhir_config(sources.fhir, sources.instruments)
    return adapt_fhir(read_lines(inbox_file), config, sources.key, sources.timezone)
