"""The only place the dashboard touches data: read-only, parameterised, scoped to the viewer.

Every function opens a short-lived read-only connection to the published warehouse (a connection held open
would block the nightly publish) and reads marts only. Cached functions take the viewer and the warehouse's
modification time as arguments, so a cache entry never crosses viewers and a new publish is read at once.
Figures about fewer than `min_cell` people are withheld outside a clinician's own scope (OUTCOMES.md §9).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

HEADLINE = ("ECR-R", "anxiety")


@dataclass(frozen=True)
class Viewer:
    """Who is looking: `program_lead` sees aggregates only; `clinician` sees participants of `sites`."""

    role: str
    sites: tuple[str, ...] = ()
    min_cell: int = 5


@dataclass(frozen=True)
class Warehouse:
    path: str
    version: float  # modification time: part of every cache key, so a new publish is seen at once

    @classmethod
    def at(cls, path: str | Path) -> Warehouse:
        return cls(str(path), Path(path).stat().st_mtime)


def _read(warehouse: Warehouse, sql: str, parameters: list | None = None) -> pl.DataFrame:
    with duckdb.connect(warehouse.path, read_only=True) as con:
        return con.sql(sql, params=parameters).pl()


@st.cache_data(ttl=300, show_spinner=False)
def freshness(warehouse: Warehouse) -> dict:
    """The last published refresh: its as-of day, when it finished, and its counts."""
    frame = _read(warehouse, "SELECT * FROM ops.refreshes ORDER BY refresh_id DESC LIMIT 1")
    return frame.row(0, named=True) if frame.height else {}


@st.cache_data(ttl=300, show_spinner=False)
def program_headline(warehouse: Warehouse, viewer: Viewer) -> dict:
    """The program's completer change in ECR-R anxiety with its CI, Hedges' g and the denominators."""
    frame = _read(
        warehouse,
        "SELECT * FROM marts.cohort_outcomes WHERE grouping = 'program' AND instrument = ? AND subscale = ?",
        list(HEADLINE),
    )
    if frame.is_empty():
        return {}
    row = frame.row(0, named=True)
    row["is_suppressed"] = row["n_complete"] < viewer.min_cell
    if row["is_suppressed"]:
        for column in row:
            if column.startswith(("mean_", "hedges_g")):
                row[column] = None
    return row


@st.cache_data(ttl=300, show_spinner=False)
def cohort_trajectories(warehouse: Warehouse, viewer: Viewer, weeks: tuple[int, int] = (0, 10)) -> pl.DataFrame:
    """Mean ECR-R anxiety per cohort and week; cells of fewer than min_cell people are withheld."""
    scope = "" if viewer.role != "clinician" else "AND list_contains(?, p.site_id)"
    parameters = [*HEADLINE, *weeks] + ([list(viewer.sites)] if viewer.role == "clinician" else [])
    frame = _read(
        warehouse,
        f"""
        SELECT p.cohort_id, p.site_id, a.week, count(DISTINCT a.participant_id) AS n, avg(a.score) AS mean_score
        FROM marts.assessments AS a JOIN marts.participants AS p USING (participant_id)
        WHERE a.instrument = ? AND a.subscale = ? AND a.score IS NOT NULL AND a.week BETWEEN ? AND ? {scope}
        GROUP BY ALL ORDER BY p.cohort_id, a.week
        """,
        parameters,
    )
    if viewer.role == "clinician":
        return frame
    return frame.filter(pl.col("n") >= viewer.min_cell)
