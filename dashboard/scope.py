"""Who may see what: the viewer, their scope in SQL, and their release of every group figure.

A viewer is an `admin` (everything), a `program_lead` (aggregates only, small cells withheld) or a `clinician` (the
participants and groups of their own sites in full, aggregates beyond them withheld like a program lead's). Every
figure about groups comes from the viewer's release (`release`), protected as one whole by transforms/disclosure.py;
pages and downloads only select from it. Figures the release has no row for (dashboard/queries.py) use the rules
here (`site_scope`, `beyond_own`, `without_small_cells`) so that they add nothing it withholds.

Every read opens a short-lived read-only connection to the published warehouse (a connection held open would block
the nightly publish). Cached functions take the viewer and the warehouse's version as arguments, so a cache entry
never crosses viewers and a new publish is read at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from dashboard.access import ROLES
from transforms.disclosure import group_members, suppress_outcomes, suppress_talking_therapies, with_totals
from transforms.instruments import registry
from transforms.outcomes import GROUPINGS, HEADLINE, cohort_outcomes
from transforms.talking_therapies import talking_therapies as talking_therapies_of


@dataclass(frozen=True)
class Viewer:
    role: str  # one of ROLES: any other is refused here, so that no query can mistake it for a program lead's
    sites: tuple[str, ...] = field(default=())
    min_cell: int = 5
    name: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise NotInScope(f"unknown role {self.role!r}: one of {', '.join(ROLES)}")

    @property
    def sees_participants(self) -> bool:
        return self.role in ("admin", "clinician")


@dataclass(frozen=True)
class Filters:
    """What the viewer narrowed the pages to; empty sites or modalities mean all of them."""

    instrument: str = HEADLINE[0]
    subscale: str = HEADLINE[1]
    sites: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()

    def where(self, site: str = "p.site_id", modality: str = "p.modality") -> tuple[str, list]:
        """A WHERE clause for the chosen sites and modalities, with its parameters (never the values as text)."""
        clauses, parameters = [], []
        for column, chosen in ((site, self.sites), (modality, self.modalities)):
            if chosen:
                clauses.append(f"list_contains(?, {column})")
                parameters.append(list(chosen))
        return " AND ".join(clauses) or "TRUE", parameters


@dataclass(frozen=True)
class Warehouse:
    path: str
    version: float  # modification time: part of every cache key, so a new publish is seen at once

    @classmethod
    def at(cls, path: str | Path) -> Warehouse:
        return cls(str(path), Path(path).stat().st_mtime)


class NotInScope(PermissionError):
    """The viewer may not see these rows."""


def read(warehouse: Warehouse, sql: str, parameters: list | None = None) -> pl.DataFrame:
    """The rows of `sql` on the warehouse, read on a cursor of its version's connection."""
    with connection(warehouse).cursor() as cursor:
        cursor.execute("USE warehouse")
        return cursor.sql(sql, params=parameters).pl()


# One connection per published version, shared by every session, each query on a cursor of its own: opening the
# warehouse costs about 60 ms at 100,000 participants (bench/README.md), and the connection keeps what DuckDB has read
# in memory. The file is attached to an in-memory database rather than opened by name, since DuckDB gives a new
# connection to an open path the database it already has, which after a publish is the replaced file. A newer version
# takes its place (max_entries=1); a query still running on the older one finishes on it.
@st.cache_resource(max_entries=1, show_spinner=False)
def connection(warehouse: Warehouse) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("ATTACH ? AS warehouse (READ_ONLY)", [warehouse.path])
    return con


def beyond_own(frame: pl.DataFrame, viewer: Viewer, people: str) -> pl.DataFrame:
    """Rows about at least min_cell people (column `people`), of whom none or at least min_cell are beyond the
    viewer's own sites (column `own`: a clinician knows their own participants one by one, so the rest of a row
    is a group of its own to them). An admin keeps every row."""
    if viewer.role != "admin":
        beyond = pl.col(people) - pl.col("own")
        frame = frame.filter((pl.col(people) >= viewer.min_cell) & ((beyond == 0) | (beyond >= viewer.min_cell)))
    return frame.drop("own")


def own_rows(warehouse: Warehouse, viewer: Viewer, table: str) -> pl.DataFrame:
    """The rows of a participant-level mart about a clinician's own participants (none for any other role)."""
    if viewer.role != "clinician":
        return read(warehouse, f"SELECT * FROM {table} LIMIT 0")  # its columns only
    return read(
        warehouse,
        f"SELECT t.* FROM {table} AS t JOIN marts.participants AS p USING (participant_id) "
        "WHERE list_contains(?, p.site_id)",
        [list(viewer.sites)],
    )


def without_small_cells(frame: pl.DataFrame, viewer: Viewer, people: str) -> pl.DataFrame:
    """Figures that the sidebar's filters could take apart are dropped, except for an admin: those about fewer than
    min_cell people (column `people`), and those resting on a site × modality cell of 1 to min_cell − 1 people
    outside the viewer's own sites (`smallest_cell`), since choosing the sites or modalities with and without that
    cell would give it away by subtraction."""
    if viewer.role == "admin":
        return frame.drop("smallest_cell")
    return frame.filter(
        (pl.col(people) >= viewer.min_cell) & (pl.col("smallest_cell").fill_null(viewer.min_cell) >= viewer.min_cell)
    ).drop("smallest_cell")


def cells_outside(viewer: Viewer) -> tuple[str, list]:
    """SQL for a site × modality cell's people when it lies outside the viewer's own sites, else NULL."""
    return "CASE WHEN list_contains(?, site_id) THEN NULL ELSE people END", [list(viewer.sites)]


def site_scope(viewer: Viewer, column: str = "site_id") -> tuple[str, list]:
    """A WHERE clause restricting rows to the viewer's sites (none for an admin), with its parameters."""
    if viewer.role == "admin":
        return "TRUE", []
    if viewer.role == "clinician":
        return f"list_contains(?, {column})", [list(viewer.sites)]
    raise NotInScope(f"a {viewer.role} sees aggregates only")


# -- the release ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """Every figure about groups of people that one viewer may see of one warehouse version, each with its state.

    Built once per viewer and version (`release`), protected as one whole against a reader who combines all of it
    (transforms/disclosure.py); pages, downloads and the program report only select from it."""

    outcomes: pl.DataFrame  # marts.cohort_outcomes of every measure, with the intent-to-treat estimate
    talking_therapies: pl.DataFrame  # marts.talking_therapies of the program, its sites and its modalities


def release(warehouse: Warehouse, viewer: Viewer) -> Release:
    """This viewer's release: a program lead's withholds small cells and what would give them away; a clinician's
    also judges each figure by what it adds to their own participants, whom they see one by one; an admin's
    withholds nothing. Viewers of the same role, sites and cell size share one (it is built once for them)."""
    scope = Viewer(viewer.role, tuple(sorted(viewer.sites)), viewer.min_cell)
    return _release(warehouse, scope)


# Keyed on the warehouse's version: a publish is read at once. A program of many small groups takes seconds to
# protect (bench/README.md, "Releases"), once per scope after each refresh: the page says so while it waits. Kept as
# one shared object, not copied for each caller: every page asks for it, and its frames are only ever read.
@st.cache_resource(ttl=24 * 3600, show_spinner="Preparing the figures you may see (once after each refresh)…")
def _release(warehouse: Warehouse, viewer: Viewer) -> Release:
    outcomes = read(
        warehouse,
        """
        SELECT c.*, i.change_10_weeks AS itt_change, i.change_ci_low AS itt_ci_low, i.change_ci_high AS itt_ci_high,
            i.model AS itt_model, i.n_participants AS itt_participants
        FROM marts.cohort_outcomes AS c
        LEFT JOIN marts.itt_outcomes AS i USING (grouping, group_id, instrument, subscale)
        ORDER BY c.instrument, c.subscale, c.grouping, c.group_id
        """,
    )
    talking = read(
        warehouse,
        "SELECT * FROM marts.talking_therapies WHERE grouping IN ('program', 'site', 'modality') ORDER BY ALL",
    )
    if viewer.role == "admin":
        return Release(suppress_outcomes(outcomes, 0).drop("itt_participants"), suppress_talking_therapies(talking, 0))
    atoms = read(warehouse, "SELECT DISTINCT site_id, cohort_id, modality FROM marts.participants")
    members = group_members(atoms, viewer.sites if viewer.role == "clinician" else ())
    known_outcomes = known_talking = None
    if viewer.role == "clinician":
        own = own_outcomes(warehouse, viewer)
        known_outcomes, known_talking = known_to(warehouse, viewer, own), talking_therapies_of(own)
    shown = suppress_outcomes(outcomes, viewer.min_cell, members, known_outcomes, score_ranges(warehouse))
    return Release(
        shown.drop("itt_participants"),  # itt_participants only decides
        suppress_talking_therapies(talking, viewer.min_cell, members, known_talking),
    )


def group_outcomes(warehouse: Warehouse, viewer: Viewer, instrument: str, subscale: str) -> pl.DataFrame:
    """The group outcomes of one measure, with the intent-to-treat estimate where there is one, from the viewer's
    release."""
    every_measure = release(warehouse, viewer).outcomes
    return every_measure.filter((pl.col("instrument") == instrument) & (pl.col("subscale") == subscale))


def own_outcomes(warehouse: Warehouse, viewer: Viewer) -> pl.DataFrame:
    """`marts.participant_outcomes` of the participants of a clinician's sites, whom they see one by one."""
    scope, parameters = site_scope(viewer)
    return read(warehouse, f"SELECT * FROM marts.participant_outcomes WHERE {scope}", parameters)


def known_to(warehouse: Warehouse, viewer: Viewer, own: pl.DataFrame) -> pl.DataFrame:
    """A clinician's own part of every group's figures: the outcome counts and mean totals (`cohort_outcomes` of
    `own`, their participants) and intent-to-treat participants of the participants of their sites."""
    scope, parameters = site_scope(viewer, "p.site_id")
    scored = read(  # their participants with a score among those the intent-to-treat model read
        warehouse,
        f"""
        SELECT DISTINCT a.participant_id, a.instrument, a.subscale, p.site_id, p.cohort_id, p.modality
        FROM marts.assessments AS a JOIN marts.participants AS p USING (participant_id)
            JOIN (SELECT DISTINCT instrument, subscale, first_day, last_day FROM marts.itt_outcomes) AS i
            USING (instrument, subscale)
        WHERE a.score IS NOT NULL AND a.days_since_enrolment BETWEEN i.first_day AND i.last_day AND {scope}
        """,
        parameters,
    )
    itt = pl.concat(
        scored.group_by("instrument", "subscale", group_id=pl.lit("all") if column is None else pl.col(column))
        .agg(itt_participants=pl.len())
        .with_columns(grouping=pl.lit(grouping))
        for grouping, column in GROUPINGS.items()
    )
    counts = with_totals(cohort_outcomes(own))
    return counts.join(itt, on=["grouping", "group_id", "instrument", "subscale"], how="full", coalesce=True)


@st.cache_data(ttl=300, show_spinner=False)
def score_ranges(warehouse: Warehouse) -> dict[tuple[str, str], tuple[float, float]]:
    """Each measure's lowest and highest possible score: the registry's for a built-in instrument, else (one defined
    in a program's config) the lowest and highest scored, which lie within it. Only those are read: reading every
    score takes about half a second at 1,000,000 participants (bench/README.md, session 11)."""
    known = registry()
    observed = read(
        warehouse,
        "SELECT instrument, subscale, min(score), max(score) FROM marts.assessments "
        "WHERE NOT list_contains(?, instrument) GROUP BY ALL",
        [list(known)],
    )
    built_in = {
        (instrument.id, subscale.name): instrument.score_range(subscale.name)
        for instrument in known.values()
        for subscale in instrument.subscales
    }
    return built_in | {(instrument, subscale): (low, high) for instrument, subscale, low, high in observed.iter_rows()}


def program_headline(warehouse: Warehouse, viewer: Viewer, measure: tuple[str, str] = HEADLINE) -> dict:
    """The program's row for `measure`, the headline measure unless another is asked for (withheld figures are
    None)."""
    rows = group_outcomes(warehouse, viewer, *measure).filter(pl.col("grouping") == "program")
    return rows.row(0, named=True) if rows.height else {}


def talking_therapies(warehouse: Warehouse, viewer: Viewer) -> pl.DataFrame:
    """NHS Talking Therapies indicators of the program, its sites and modalities, from the viewer's release."""
    return release(warehouse, viewer).talking_therapies


def shown_cohorts(warehouse: Warehouse, viewer: Viewer, filters: Filters, *figures: str) -> list[str]:
    """The cohorts whose `figures` of the chosen measure this viewer's release shows."""
    rows = group_outcomes(warehouse, viewer, filters.instrument, filters.subscale).filter(
        pl.col("grouping") == "cohort"
    )
    return rows.filter(pl.all_horizontal(pl.col(figure).is_not_null() for figure in figures))["group_id"].to_list()
