"""A reader with a solver against the releases of one warehouse (METHODS.md, "What the attacker checks").

    .venv/bin/python bench/probes/attack_release.py WAREHOUSE [SITE]

Builds the release of a program lead and of a clinician of SITE (default: the first site), reads each table back
as a reader would (its shown figures, "<5" and "withheld"; a clinician's own figures known to them) and prints,
per table, the time to build, the time to attack, how many figures are withheld or "<5", and every figure the
attacker narrows below the rule (fewer than three counts, or less than half a measure's range for a mean), with
its feasible range. The probe programs of issue #15 (a site of three people in a cohort and modality of its own,
or inside another site's cohort) are built as in tests/dashboard/test_queries.py's `shared_cohort`.
"""

import sys
import time
import warnings

from dashboard import queries, scope
from dashboard.scope import Viewer, Warehouse
from transforms.attack import as_read, feasible_ranges, wide_enough
from transforms.disclosure import OUTCOMES, TALKING_THERAPIES, group_members
from transforms.talking_therapies import talking_therapies

warnings.filterwarnings("ignore")
warehouse = Warehouse.at(sys.argv[1])
site = sys.argv[2] if len(sys.argv) > 2 else queries.filter_choices(warehouse)["sites"][0]
atoms = scope.read(warehouse, "SELECT DISTINCT site_id, cohort_id, modality FROM marts.participants")
for viewer in (Viewer("program_lead"), Viewer("clinician", (site,))):
    started = time.perf_counter()
    release = scope._release.__wrapped__(warehouse, viewer)  # uncached
    built = time.perf_counter() - started
    members = group_members(atoms, viewer.sites if viewer.role == "clinician" else ())
    known = known_talking = None
    if viewer.role == "clinician":
        own = scope.own_outcomes(warehouse, viewer)
        known, known_talking = scope.known_to(warehouse, viewer, own).to_dicts(), talking_therapies(own).to_dicts()
    tables = {
        "outcomes": as_read(
            release.outcomes.to_dicts(), OUTCOMES, members, viewer.min_cell, known, scope.score_ranges(warehouse)
        ),
        "talking therapies": as_read(
            release.talking_therapies.to_dicts(), TALKING_THERAPIES, members, viewer.min_cell, known_talking
        ),
    }
    for name, table in tables.items():
        started = time.perf_counter()
        ranges = feasible_ranges(table)
        attacked = time.perf_counter() - started
        exposed = [(cell, bounds) for cell, bounds in ranges.items() if not wide_enough(table, cell, bounds)]
        print(
            f"{viewer.role} {','.join(viewer.sites)} {name}: built in {built:.2f} s, attacked in {attacked:.2f} s; "
            f"{len(table.states)} withheld or <{viewer.min_cell}; {len(exposed)} narrowed too far"
        )
        for (r, column), (low, high) in exposed:
            row = table.rows[r]
            print(f"    {row['grouping']} {row['group_id']} {row.get('instrument', '')} {column}: {low:g} to {high:g}")
