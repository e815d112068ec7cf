"""Disclosure control for figures that leave a viewer's own scope (METHODS.md, "Small numbers and privacy").

The method is the statistical agencies' cell suppression (NHS Digital, ONS, Eurostat; tau-Argus's secondary
suppression), on an explicit hierarchy:

1. **Atoms.** Every participant is in one site, one cohort and one modality; the people of one (site, cohort,
   modality) are an atom, and every group a table shows (the program, a site, a cohort, a modality) is a union of
   atoms. So every way groups add up (the sites, the modalities and the cohorts each to the program, the cohorts
   of a site to it, a cohort taught at two sites to its two parts) is known, and none is missed. A clinician sees
   the people of their own sites one by one: their atoms are known to them, and every figure is judged by what it
   says about the people beyond them.
2. **Primary suppression.** A count of 1 to min_cell − 1 people beyond the viewer's own is shown as "<5", and so
   is every part of a total shown as "<5" (a zero among three people says something about all three). A mean, an
   interval or an effect size goes with its count of completers.
3. **Secondary suppression.** The solver of transforms/attack.py then takes everything the table shows and
   finds how far it narrows each withheld figure. While a withheld count has fewer than three possible values, or
   a withheld mean a range under half its measure's, one more figure linked to it is withheld: the one a reader
   needs least (`cost`): a sub-category before a category, a cohort's before a site's or a modality's, never the
   program's flow while another will do, and never a count of fewer than min_cell people (so that "withheld" says
   a count is 0 or at least min_cell, and the attacker knows it).
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from transforms.attack import SMALL, SMALL_PART, WITHHELD, Family, Group, Table, feasible_ranges, wide_enough
from transforms.outcomes import CATEGORY_COUNTS, CHANGE_STATISTICS, STATUS_COUNTS

OUTCOME_COUNTS = [*STATUS_COUNTS, *CATEGORY_COUNTS]
# The intent-to-treat estimate, joined to each group's row by the dashboard with the number of people it rests on
# (`itt_participants`), is withheld with the rest.
ITT_STATISTICS = ["itt_change", "itt_ci_low", "itt_ci_high"]
OUTCOME_STATISTICS = [*CHANGE_STATISTICS, *ITT_STATISTICS]
# Each mean as a total (mean × completers), which adds up over groups as counts do.
MEAN_TOTALS = {"mean_baseline": "total_baseline", "mean_change": "total_change"}
OUTCOMES = Family(
    counts=tuple(OUTCOME_COUNTS),
    sums=(
        ("n_complete", ("n_improved", "n_unchanged", "n_deteriorated")),
        ("n_enrolled", ("n_complete", "n_no_baseline", "n_no_endpoint", "n_not_yet_due")),
    ),
    at_most=(("n_recovered", "n_improved"), ("n_harmed", "n_deteriorated")),  # Jacobson-Truax's sub-categories
    same_in_every_layer=("n_enrolled",),  # everyone enrolled has a row for every measure
    means={"total_baseline": ("n_complete", False), "total_change": ("n_complete", True)},
    # Below the program, a release holds what the pages show: a site's or modality's reliably improved (its rate),
    # and of a cohort only its people and completers. The rest are unknowns to a reader, to be worked out if they can.
    released={
        "site": ("n_enrolled", "n_complete", "n_improved"),
        "modality": ("n_enrolled", "n_complete", "n_improved"),
        "cohort": ("n_enrolled", "n_complete"),
    },
)
TALKING_THERAPIES_RATES = {  # rate: (numerator, denominator)
    "recovery_rate": ("n_recovered", "n_cases"),
    "reliable_improvement_rate": ("n_reliably_improved", "n_with_both"),
    "reliable_recovery_rate": ("n_reliably_recovered", "n_cases"),
}
TALKING_THERAPIES = Family(
    counts=("n_with_both", "n_cases", "n_recovered", "n_reliably_improved", "n_reliably_recovered"),
    at_most=(
        ("n_cases", "n_with_both"),
        ("n_recovered", "n_cases"),
        ("n_reliably_improved", "n_with_both"),
        ("n_reliably_recovered", "n_recovered"),
        ("n_reliably_recovered", "n_reliably_improved"),
    ),
)
# What withholding a count costs a reader, least first (the cost of a cell also grows with its group's rank).
COLUMN_COST = {
    "n_harmed": 0,
    "n_recovered": 1,
    "n_no_baseline": 2,
    "n_no_endpoint": 2,
    "n_not_yet_due": 2,
    "n_unchanged": 3,
    "n_deteriorated": 4,
    "n_improved": 5,
    "n_enrolled": 6,
    "n_complete": 7,
    "n_reliably_recovered": 0,
    "n_cases": 3,
    "n_reliably_improved": 5,
    "n_with_both": 7,
}
GROUPING_COST = {"cohort": 0, "site": 3, "modality": 3, "program": 10}
FLOW = ("n_enrolled", "n_complete", "n_no_baseline", "n_no_endpoint", "n_not_yet_due")  # the program's, kept last
LEVELS = {"program": None, "site": "site_id", "cohort": "cohort_id", "modality": "modality"}


def group_members(atoms: pl.DataFrame, own_sites: tuple[str, ...] = ()) -> dict[Group, frozenset]:
    """Each group's atoms beyond a viewer's own sites (`atoms`: one row per site_id, cohort_id and modality); a group
    wholly the viewer's own has none."""
    members = defaultdict(set)
    for atom in atoms.select("site_id", "cohort_id", "modality").unique().iter_rows(named=True):
        for grouping, column in LEVELS.items():
            group = (grouping, "all" if column is None else atom[column])
            members[group]  # noqa: B018 (every group is listed, also one with nobody beyond the viewer's own)
            if atom["site_id"] not in own_sites:
                members[group].add(tuple(atom.values()))
    return {group: frozenset(atoms_of) for group, atoms_of in members.items()}


def relations(members: dict[Group, frozenset]) -> dict[Group, set[Group]]:
    """For each group, the groups whose figures a reader can set against its own: those sharing people with it, and
    its siblings where groups of one level add up exactly to a group (the sites to the program, say)."""
    linked = defaultdict(set)
    for group, atoms in members.items():
        linked[group] |= {other for other, theirs in members.items() if other != group and atoms & theirs}
    for parent, atoms in members.items():
        for level in ("site", "cohort", "modality"):
            children = [g for g in members if g[0] == level and g != parent and members[g] and members[g] <= atoms]
            if children and frozenset().union(*(members[g] for g in children)) == atoms:
                for child in children:
                    linked[child] |= set(children) - {child}
    return linked


def protect(table: Table, links: dict[Group, set[Group]]) -> dict:
    """Withhold the table's figures as the module's docstring says; `table.states` is filled in place and returned."""
    _primary(table)
    while True:
        ranges = feasible_ranges(table)
        exposed = [cell for cell, bounds in ranges.items() if not wide_enough(table, cell, bounds)]
        added = [_withhold_cheapest(table, cell, links) for cell in exposed]
        if not any(added):
            return ranges


def _primary(table: Table) -> None:
    """Small counts, the parts of a small total, and the means of a withheld count of completers."""
    family, min_cell = table.family, table.min_cell
    for r, row in enumerate(table.rows):
        if not table.members.get(table.group(row)):
            continue  # the viewer's own: shown in full
        released = family.counts_of(row["grouping"])
        for column in released:
            if row.get(column) is not None and 1 <= row[column] < min_cell:
                table.states[(r, column)] = SMALL
        changed = True
        while changed:  # a part of a small total, or of a part of one, goes with it
            changed = False
            for column in released:
                wholes = family.wholes_of(column)
                if (
                    (r, column) not in table.states
                    and row.get(column) == 0
                    and any((r, w) in table.states for w in wholes)
                ):
                    table.states[(r, column)] = SMALL_PART
                    changed = True
        _withhold_means_with_counts(table, r)


def _withhold_means_with_counts(table: Table, r: int) -> None:
    """A row's means are about its completers: withheld with their count."""
    for total, (count, _) in table.family.means.items():
        if (r, count) in table.states:
            table.states[(r, total)] = WITHHELD


def _withhold_cheapest(table: Table, cell, links: dict[Group, set[Group]]) -> bool:
    """Withhold the cheapest shown figure linked to an exposed one; False when there is none left."""
    r, column = cell
    row = table.rows[r]
    group, layer = table.group(row), table.layer(row)
    if column in table.family.means:
        candidates = [
            (_cost(table, i, "n_complete"), i, total)
            for i, other in enumerate(table.rows)
            if table.group(other) in links.get(group, ()) | {group} and table.layer(other) == layer
            for total in table.family.means
            if (i, total) not in table.states and (other.get("n_complete") or 0) >= table.min_cell
        ]
    else:
        same_row = {
            c for total, parts in table.family.sums if column == total or column in parts for c in (total, *parts)
        }
        same_row |= {c for pair in table.family.at_most if column in pair for c in pair}
        shared = column in table.family.same_in_every_layer
        candidates = [
            (_cost(table, i, c), i, c)
            for i, other in enumerate(table.rows)
            for c in (same_row - {column} if i == r else {column})
            if (i == r or (table.group(other) in links.get(group, ()) and (shared or table.layer(other) == layer)))
            and (i, c) not in table.states
            and c in table.family.counts_of(other["grouping"])
            and (other.get(c) or 0) >= table.min_cell
            and table.members.get(table.group(other))
        ]
    if not candidates:
        return False
    _, i, c = min(candidates)
    table.states[(i, c)] = WITHHELD
    if c in table.family.means:
        table.states.update({(i, total): WITHHELD for total in table.family.means})
    else:
        _withhold_means_with_counts(table, i)
        if c in table.family.same_in_every_layer:  # the same count in every measure goes everywhere
            for j, other in enumerate(table.rows):
                if table.group(other) == table.group(table.rows[i]):
                    table.states[(j, c)] = WITHHELD
    return True


def _cost(table: Table, r: int, column: str) -> tuple:
    row = table.rows[r]
    if row["grouping"] == "program" and column in FLOW:
        return 1000, 0
    return GROUPING_COST.get(row["grouping"], 0) + COLUMN_COST.get(column, 0), row.get(column) or 0


def beyond_known(rows: list[dict], counts: list[str], known: pl.DataFrame | None) -> list[dict]:
    """Each row's `counts` less the viewer's own people in them (`known`: the same columns of only the participants
    the viewer sees one by one, keyed as the rows by grouping, group_id, instrument and subscale)."""
    keys = [k for k in ("grouping", "group_id", "instrument", "subscale") if rows and k in rows[0]]
    mine = {tuple(r.get(k) for k in keys): r for r in (known.to_dicts() if known is not None else [])}
    beyond = []
    for row in rows:
        theirs = mine.get(tuple(row.get(k) for k in keys), {})
        beyond.append({**row} | {c: row[c] - (theirs.get(c) or 0) for c in counts if row.get(c) is not None})
    return beyond


def with_totals(frame: pl.DataFrame) -> pl.DataFrame:
    """Each mean of MEAN_TOTALS as a total over the completers, which adds up over groups as counts do."""
    return frame.with_columns((pl.col(mean) * pl.col("n_complete")).alias(total) for mean, total in MEAN_TOTALS.items())


def suppress_outcomes(
    frame: pl.DataFrame,
    min_cell: int,
    members: dict[Group, frozenset] | None = None,
    known: pl.DataFrame | None = None,
    score_range: dict | None = None,
) -> pl.DataFrame:
    """`marts.cohort_outcomes` rows, every measure at once, as they may be shown to a viewer (`members`: each group's
    atoms beyond the viewer's own, from `group_members`; `known`: the same rows of only the viewer's own people;
    `score_range`: each (instrument, subscale)'s lowest and highest score). Withheld figures become null;
    `small_counts` names the counts shown as "<5", `unclassified_counts` those the mart left empty, and
    `is_suppressed` marks each row that lost something. With a min_cell of 0 (an admin's view), nothing is withheld.
    """
    rows = frame.to_dicts()
    beyond = beyond_known(with_totals(frame).to_dicts(), [*OUTCOME_COUNTS, *OUTCOMES.means, "itt_participants"], known)
    states: dict = {}
    if min_cell > 0:
        table = Table(beyond, OUTCOMES, states, members or {}, min_cell, score_range or {})
        protect(table, relations(table.members))
    for i, row in enumerate(rows):
        hidden = {c for (j, c), _ in states.items() if j == i}
        row["small_counts"] = sorted(c for c in hidden if states[(i, c)] in (SMALL, SMALL_PART))
        released = OUTCOMES.counts_of(row["grouping"]) if min_cell > 0 else OUTCOME_COUNTS
        # empty in the mart because nothing was classified (too few pairs, no cutoff): "not classified", not "withheld"
        row["unclassified_counts"] = [c for c in CATEGORY_COUNTS if c in released and row[c] is None]
        row.update({c: None for c in OUTCOME_COUNTS if c not in released})
        statistics = bool(hidden & set(OUTCOMES.means))
        few_more = min_cell > 0 and _adds_a_few(beyond[i], row, min_cell)
        row.update(dict.fromkeys(hidden & set(OUTCOME_COUNTS)))
        if statistics:
            row.update({column: None for column in OUTCOME_STATISTICS if column in row})
        elif few_more:
            row.update({column: None for column in ITT_STATISTICS})
        row["is_suppressed"] = bool(hidden) or few_more
    listed = {"small_counts": pl.List(pl.String), "unclassified_counts": pl.List(pl.String)}
    return pl.DataFrame(rows, schema={**frame.schema, **listed, "is_suppressed": pl.Boolean})


def _adds_a_few(beyond: dict, row: dict, min_cell: int) -> bool:
    """Beside the completers' mean, an intent-to-treat figure that adds only a few non-completers beyond the
    viewer's own would tell which way those few went."""
    if row.get("itt_participants") is None or beyond.get("itt_participants") is None:
        return False
    return 1 <= beyond["itt_participants"] - (beyond.get("n_complete") or 0) < min_cell


def suppress_talking_therapies(
    frame: pl.DataFrame,
    min_cell: int,
    members: dict[Group, frozenset] | None = None,
    known: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`marts.talking_therapies` rows (program, sites, modalities) as they may be shown to a viewer: counts withheld
    as for the outcomes, and a rate with either of its counts."""
    rows = frame.to_dicts()
    states: dict = {}
    if min_cell > 0:
        table = Table(
            beyond_known(rows, list(TALKING_THERAPIES.counts), known),
            TALKING_THERAPIES,
            states,
            members or {},
            min_cell,
        )
        protect(table, relations(table.members))
    for i, row in enumerate(rows):
        hidden = {c for (j, c) in states if j == i}
        row["small_counts"] = sorted(c for c in hidden if states[(i, c)] in (SMALL, SMALL_PART))
        for rate, pair in TALKING_THERAPIES_RATES.items():
            if hidden & set(pair):
                hidden.add(rate)
        row.update(dict.fromkeys(hidden))
        row["is_suppressed"] = bool(hidden)
    return pl.DataFrame(rows, schema={**frame.schema, "small_counts": pl.List(pl.String), "is_suppressed": pl.Boolean})


def publication_count(n: int | None) -> str | None:
    """NHS Digital's rule for published sub-national counts: 1–7 as "*", others rounded to the nearest 5."""
    if n is None:
        return None
    return "*" if 1 <= n <= 7 else str(5 * round(n / 5))
