"""Disclosure control for figures that leave a viewer's own scope (METHODS.md, "Small numbers and privacy").

The method is the statistical agencies' cell suppression (NHS Digital, ONS, Eurostat; tau-Argus's secondary
suppression), on an explicit hierarchy:

1. **Atoms.** Every participant is in one site, one cohort and one modality; the people of one (site, cohort,
   modality) are an atom, and every group a table shows (the program, a site, a cohort, a modality) is a union of
   atoms. So every way groups add up (the sites, the modalities and the cohorts each to the program, the cohorts
   of a site to it, a cohort taught at two sites to its two parts) is known, and none is missed. A clinician sees
   the people of their own sites one by one: their atoms are known to them, and every figure is judged by what it
   says about the people beyond them.
2. **What is released.** Below the program, only what a page shows (`OUTCOMES.released`); means and rates rounded
   to two decimals (`Ratio`).
3. **Primary suppression.** A count of 1 to min_cell − 1 people beyond the viewer's own is shown as "<5", and so
   is every part of a total shown as "<5" (a zero among three people says something about all three). A mean or a
   rate goes with a small count it is made of; an interval or an effect size with any withheld count of completers
   (its width tells how many there are).
4. **Secondary suppression.** The solver of transforms/attack.py then takes everything the table shows and
   finds how far it narrows each figure shown as "<5" and each small group's mean. While a count has fewer than
   three possible values, or a mean a range under half its measure's, one more figure linked to it is withheld:
   the one a reader needs least (`_cost`): a count before a mean or a rate, a sub-category before a category, a
   cohort's before a site's or a modality's, the program's flow and headline only when nothing else will do, and
   never a count of fewer than min_cell people (so that "withheld" says a count is 0 or at least min_cell, and the
   attacker knows it).
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from transforms.attack import (
    SMALL,
    SMALL_PART,
    SMALL_STATES,
    WITHHELD,
    Family,
    Group,
    Ratio,
    Table,
    feasible_ranges,
    wide_enough,
)
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
    ratios={
        "mean_baseline": Ratio("total_baseline", "n_complete"),
        "mean_change": Ratio("total_change", "n_complete", is_change=True),
        "improved_rate": Ratio("n_improved", "n_complete", step=0.05, is_total=False),
    },
    # Below the program, what the pages show: a site's or modality's people, completers, means and reliably
    # improved; a cohort's people, completers and means. The rest are unknowns a reader may try to work out.
    released={
        "site": ("n_enrolled", "n_complete", "n_improved", "mean_baseline", "mean_change", "improved_rate"),
        "modality": ("n_enrolled", "n_complete", "n_improved", "mean_baseline", "mean_change", "improved_rate"),
        "cohort": ("n_enrolled", "n_complete", "mean_baseline", "mean_change"),
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
KEPT = 1000  # the cost of the program's flow and headline
TRIED = 3  # candidates tried in turn for one exposed cell before the cheapest is taken blind
RATIO_COST = 50  # a mean or a rate is what a reader reads: the counts beside it go first
GROUPING_COST = {"cohort": 0, "site": 3, "modality": 3, "program": 10}
# The program's flow and headline, withheld only when nothing else will do.
PROGRAM_KEEPS = ("n_enrolled", "n_complete", "n_no_baseline", "n_no_endpoint", "n_not_yet_due", "mean_change")
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


def partitions(members: dict[Group, frozenset]) -> list[tuple[Group, list[Group]]]:
    """Each group with the groups of one level that add up to it exactly (the sites to the program, say)."""
    found = []
    for parent, atoms in members.items():
        for level in ("site", "cohort", "modality"):
            children = [g for g in members if g[0] == level and g != parent and members[g] and members[g] <= atoms]
            if children and frozenset().union(*(members[g] for g in children)) == atoms:
                found.append((parent, children))
    return found


def relations(members: dict[Group, frozenset]) -> dict[Group, set[Group]]:
    """For each group, the groups whose figures a reader can set against its own: those sharing people with it, and
    its siblings in a partition."""
    linked = defaultdict(set)
    for group, atoms in members.items():
        linked[group] |= {other for other, theirs in members.items() if other != group and atoms & theirs}
    for _, children in partitions(members):
        for child in children:
            linked[child] |= set(children) - {child}
    return linked


def protect(table: Table, links: dict[Group, set[Group]]) -> dict:
    """Withhold the table's figures as the module's docstring says; `table.states` is filled in place. Returns the
    feasible range the attacker finds for each figure it protects."""
    _primary(table)
    cache: dict = {}
    shown_again: set = set()  # worked out from the rest: withholding them protects nothing
    while True:
        shown_again |= _show_what_follows(table)
        ranges = feasible_ranges(table, cache=cache)
        exposed = [cell for cell, bounds in ranges.items() if not wide_enough(table, cell, bounds)]
        added = [_withhold_cheapest(table, cell, links, shown_again) for cell in exposed]
        if not any(added):
            return ranges


def _show_what_follows(table: Table) -> set:
    """Show again each figure withheld to protect another that the rest give exactly, as the only unknown of a sum
    (within a row, over a partition, or a group's number enrolled in any measure): showing it tells a reader nothing
    they cannot work out, and the attacker, which takes each measure alone, is not misled by it. Returns them."""
    family = table.family
    index = {(table.group(row), table.layer(row)): r for r, row in enumerate(table.rows)}
    sums = [  # (row, column) cells: the total first
        [(r, total), *((r, part) for part in parts)] for r in range(len(table.rows)) for total, parts in family.sums
    ]
    for parent, children in partitions(table.members):
        for layer in {table.layer(row) for row in table.rows}:
            rows = [index.get((group, layer)) for group in (parent, *children)]
            if None not in rows:
                sums += [[(r, column) for r in rows] for column in family.counts]
    shown: set = set()
    changed = True
    while changed:
        changed = False
        for cells in sums:
            released = [c for c in cells if c[1] in family.counts_of(table.rows[c[0]]["grouping"])]
            if len(released) < len(cells):
                continue  # a sum with a figure no release holds has that unknown too
            unknown = [c for c in cells if c in table.states]
            if len(unknown) == 1 and table.states[unknown[0]] == WITHHELD:
                r, column = unknown[0]
                alike = column in family.same_in_every_layer  # then shown in every measure
                for j, row in enumerate(table.rows):
                    if j == r or (alike and table.group(row) == table.group(table.rows[r])):
                        table.states.pop((j, column), None)
                        shown.add((j, column))
                changed = True
    return shown


def _primary(table: Table) -> None:
    """Small counts, the parts of a small total, and the means and rates of a small count."""
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
                if (
                    (r, column) not in table.states
                    and row.get(column) == 0
                    and any((r, w) in table.states for w in family.wholes_of(column))
                ):
                    table.states[(r, column)] = SMALL_PART
                    changed = True
        for column in family.ratios_of(row["grouping"]):
            ratio = family.ratios[column]
            parts = (ratio.denominator,) if ratio.is_total else (ratio.numerator, ratio.denominator)
            if any(table.states.get((r, part)) in SMALL_STATES for part in parts):
                table.states[(r, column)] = WITHHELD


def _withhold_cheapest(table: Table, cell, links: dict[Group, set[Group]], shown_again: set) -> bool:
    """Withhold the cheapest shown figure linked to an exposed one (not one a reader works out from the rest:
    `shown_again`); False when there is none left."""
    candidates = sorted(
        (_cost(table, i, c), i, c)
        for i, c in _linked_figures(table, cell, links)
        if (i, c) not in table.states
        and (i, c) not in shown_again
        and table.rows[i].get(c) is not None
        and table.members.get(table.group(table.rows[i]))
        and (c in table.family.ratios or table.rows[i][c] >= table.min_cell)
    )
    if not candidates:
        return False
    before = _width(feasible_ranges(table, [cell], whole=False).get(cell))
    for _, i, c in [candidate for candidate in candidates if candidate[0][0] < KEPT][:TRIED]:
        trial = dict(table.states)  # the cheapest that widens the cell (as fractions, to be quick)
        _withhold(table, i, c)
        if _width(feasible_ranges(table, [cell], whole=False).get(cell)) > before + 1e-9:
            return True
        table.states.clear()
        table.states.update(trial)
    _withhold(table, *candidates[0][1:])  # else the cheapest: it may take two to widen it
    return True


def _width(bounds: tuple[float, float] | None) -> float:
    return -1.0 if bounds is None else bounds[1] - bounds[0]


def _withhold(table: Table, r: int, column: str) -> None:
    """Withhold a figure (a count the same in every measure, in every measure)."""
    table.states[(r, column)] = WITHHELD
    if column in table.family.same_in_every_layer:
        for j, other in enumerate(table.rows):
            if table.group(other) == table.group(table.rows[r]):
                table.states[(j, column)] = WITHHELD


def _linked_figures(table: Table, cell, links: dict[Group, set[Group]]) -> list[tuple[int, str]]:
    """The figures whose withholding can widen a cell: for a count, in its own row the counts it adds up with or
    bounds, in the groups linked to it the same count and every rate made of it, and in the groups that contain it
    also the other parts of a total it is part of; for a mean, the same mean of the groups linked to it."""
    r, column = cell
    family, row = table.family, table.rows[r]
    group, layer = table.group(row), table.layer(row)
    if family.is_mean(column):  # only a mean hides a mean: its total is then anywhere in its people's range
        related = {column}
    else:
        related = {column} | {c for c, ratio in family.ratios.items() if column in (ratio.numerator, ratio.denominator)}
    same_row = {c for total, parts in family.sums if column == total or column in parts for c in (total, *parts)}
    same_row |= {c for pair in family.at_most if column in pair for c in pair}
    siblings = {c for total, parts in family.sums if column in parts for c in (total, *parts)}  # a part's total too
    shared = column in family.same_in_every_layer
    figures = []
    for i, other in enumerate(table.rows):
        if i == r:
            columns = (related if family.is_mean(column) else same_row | related) - {column}
        elif table.group(other) in links.get(group, ()) and (shared or table.layer(other) == layer):
            contains = table.members[group] <= table.members[table.group(other)]
            columns = related | siblings if contains and not family.is_mean(column) else related
        else:
            continue
        released = {*family.counts_of(other["grouping"]), *family.ratios_of(other["grouping"])}
        figures += [(i, c) for c in sorted(columns & released)]
    return figures


def _cost(table: Table, r: int, column: str) -> tuple:
    """What withholding a figure costs a reader; between equals, the one whose people overlap the most groups
    already withheld in the same column (so that the withheld cells of a hierarchy nest, and fewer are needed), then
    the smaller."""
    row = table.rows[r]
    if row["grouping"] == "program" and column in PROGRAM_KEEPS:
        return KEPT, 0, 0
    base = RATIO_COST if column in table.family.ratios else COLUMN_COST.get(column, 0)
    atoms, layer = table.members[table.group(row)], table.layer(row)
    nests = sum(
        state == WITHHELD
        and c == column
        and table.layer(table.rows[j]) == layer
        and bool(table.members[table.group(table.rows[j])] & atoms)
        for (j, c), state in table.states.items()
    )
    return GROUPING_COST.get(row["grouping"], 0) + base, -nests, row.get(column) or 0


def beyond_known(rows: list[dict], counts: list[str], known: pl.DataFrame | None) -> list[dict]:
    """Each row's `counts` less the viewer's own people in them, and the viewer's own part of each as
    `own:<count>` (`known`: the same columns of only the participants the viewer sees one by one, keyed as the rows
    by grouping, group_id, instrument and subscale)."""
    keys = [k for k in ("grouping", "group_id", "instrument", "subscale") if rows and k in rows[0]]
    mine = {tuple(r.get(k) for k in keys): r for r in (known.to_dicts() if known is not None else [])}
    beyond = []
    for row in rows:
        theirs = mine.get(tuple(row.get(k) for k in keys), {})
        less = {c: row[c] - (theirs.get(c) or 0) for c in counts if row.get(c) is not None}
        beyond.append({**row, **less, **{f"own:{c}": theirs.get(c) or 0 for c in counts}})
    return beyond


def with_totals(frame: pl.DataFrame) -> pl.DataFrame:
    """Each mean of MEAN_TOTALS as a total over the completers, which adds up over groups as counts do."""
    return frame.with_columns((pl.col(mean) * pl.col("n_complete")).alias(total) for mean, total in MEAN_TOTALS.items())


def as_released(frame: pl.DataFrame) -> pl.DataFrame:
    """`marts.cohort_outcomes` rows with their means rounded to two decimals and their reliably improved rate."""
    return frame.with_columns(
        pl.col("mean_baseline", "mean_endpoint", "mean_change").round(2),
        improved_rate=pl.when(pl.col("n_complete") > 0).then(pl.col("n_improved") / pl.col("n_complete")),
    )


def suppress_outcomes(
    frame: pl.DataFrame,
    min_cell: int,
    members: dict[Group, frozenset] | None = None,
    known: pl.DataFrame | None = None,
    score_range: dict | None = None,
) -> pl.DataFrame:
    """`marts.cohort_outcomes` rows, every measure at once, as they may be shown to a viewer (`members`: each group's
    atoms beyond the viewer's own, from `group_members`; `known`: the same rows of only the viewer's own people,
    with their totals (`with_totals`); `score_range`: each (instrument, subscale)'s lowest and highest score).
    Means and rates are rounded (`as_released`); withheld figures become null; `small_counts` names the counts
    shown as "<5", `unclassified_counts` those the mart left empty, and `is_suppressed` marks each row that lost
    something. With a min_cell of 0 (an admin's view), nothing is withheld."""
    frame = as_released(frame)
    rows = frame.to_dicts()
    own_parts = [*OUTCOME_COUNTS, *MEAN_TOTALS.values(), "itt_participants"]
    beyond = beyond_known(rows, own_parts, known)
    states: dict = {}
    if min_cell > 0:
        table = Table(beyond, OUTCOMES, states, members or {}, min_cell, score_range or {})
        protect(table, relations(table.members))
    for i, row in enumerate(rows):
        hidden = {c for (j, c) in states if j == i}
        released = (
            {*OUTCOMES.counts_of(row["grouping"]), *OUTCOMES.ratios_of(row["grouping"])}
            if min_cell > 0
            else {*OUTCOME_COUNTS, *OUTCOMES.ratios}
        )
        row["small_counts"] = sorted(c for c in hidden if states[(i, c)] in SMALL_STATES)
        # empty in the mart because nothing was classified (too few pairs, no cutoff): "not classified", not "withheld"
        row["unclassified_counts"] = [c for c in CATEGORY_COUNTS if c in released and row[c] is None]
        few_more = min_cell > 0 and _adds_a_few(beyond[i], row, min_cell)
        row.update(dict.fromkeys(hidden | ({*OUTCOME_COUNTS, *OUTCOMES.ratios} - released)))
        row["improved_rate"] = _rounded_rate(row, hidden)
        _withhold_statistics(row, "n_complete" in hidden, few_more)
        row["is_suppressed"] = bool(hidden) or few_more
    listed = {"small_counts": pl.List(pl.String), "unclassified_counts": pl.List(pl.String)}
    return pl.DataFrame(rows, schema={**frame.schema, **listed, "is_suppressed": pl.Boolean})


def _rounded_rate(row: dict, hidden: set) -> float | None:
    """The reliably improved rate to the whole percent beside its counts, to the nearest 5% without them."""
    rate = row.get("improved_rate")
    if rate is None:
        return None
    step = OUTCOMES.ratios["improved_rate"].step if hidden & {"n_improved", "n_complete"} else 0.01
    return round(round(rate / step) * step, 2)


def _withhold_statistics(row: dict, completers_withheld: bool, few_more: bool) -> None:
    """The figures made of a row's means: the endpoint mean with them; an interval, an effect size and the
    intent-to-treat estimate also with its count of completers, whose size they tell."""
    if row["mean_baseline"] is None or row["mean_change"] is None:
        row["mean_endpoint"] = None
    if completers_withheld or row["mean_change"] is None:
        row.update(dict.fromkeys(c for c in OUTCOME_STATISTICS if c in row and c not in MEAN_TOTALS))
    elif few_more:
        row.update(dict.fromkeys(c for c in ITT_STATISTICS if c in row))


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
        row["small_counts"] = sorted(c for c in hidden if states[(i, c)] in SMALL_STATES)
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
