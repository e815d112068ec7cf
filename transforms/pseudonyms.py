"""Pseudonyms made at the door (ADAPTERS.md §4): a keyed hash of a source system's identifier.

A REDCap record id may be a medical record number and a FHIR `Patient/…` reference is the EHR's own: neither is ever
stored. Each becomes `p` + the first 20 hex digits of HMAC-SHA256(key, "<source>|<source id>"), the same every night
for the same key, so later files join earlier ones; without the key the id cannot be recovered or checked.
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

MIN_KEY_BYTES = 32


def pseudonym(key: bytes, source: str, source_id: str) -> str:
    """The participant id that `source_id` of `source` (`redcap` or `fhir`) becomes."""
    digest = hmac.new(key, f"{source}|{source_id}".encode(), hashlib.sha256).hexdigest()
    return "p" + digest[:20]


def pseudonymised(values: pl.Series, key: bytes, source: str) -> pl.Series:
    """Each non-blank value replaced by its pseudonym (blank stays null); each distinct value is hashed once."""
    distinct = values.drop_nulls().unique()
    mapping = {value: pseudonym(key, source, value) for value in distinct.to_list()}
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)
