"""Small-cell suppression for figures that leave a clinician's own scope (OUTCOMES.md §9).

A count of 1 to min_cell − 1 people is withheld, and so are means, rates and effect sizes about fewer than min_cell
people. Complementary cells are withheld too, so that no withheld count can be worked out from a sum it is part of:
the parts of a total within a row (improved + unchanged + deteriorated = complete), the groups of a grouping (the
sites, the cohorts and the modalities each add up to the program), and the cohorts of a site or modality that lie
wholly within it. A clinician's own groups are shown in full, and never serve to hide someone else's cell; and
since a clinician sees their own participants one by one, every other figure is judged by what it adds to that:
its count less their own people in it (a cohort taught at their site and another, a modality, the program).
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import polars as pl
import scipy.linalg

from transforms.outcomes import CATEGORY_COUNTS, CHANGE_STATISTICS, STATUS_COUNTS

OUTCOME_COUNTS = [*STATUS_COUNTS, *CATEGORY_COUNTS]
# The intent-to-treat estimate, joined to each group's row by the dashboard with the number of people it rests on
# (`itt_participants`), is withheld with the rest.
ITT_STATISTICS = ["itt_change", "itt_ci_low", "itt_ci_high"]
OUTCOME_STATISTICS = [*CHANGE_STATISTICS, *ITT_STATISTICS]
PARTS_OF_A_TOTAL = [  # within a row: (total, its parts)
    ("n_complete", ["n_improved", "n_unchanged", "n_deteriorated"]),
    ("n_enrolled", ["n_complete", "n_no_baseline", "n_no_endpoint", "n_not_yet_due"]),
]
GROUPINGS = ("site", "cohort", "modality")  # each adds up to the program; the cohorts of a site add up to it

Cell = tuple[int, str]  # (row, column)


def withheld_cells(
    rows: list[dict],
    counts: list[str],
    sums: list[tuple[Cell, list[Cell]]],
    min_cell: int,
    own: set[int] = frozenset(),
) -> set[Cell]:
    """The count cells that must not be shown: each count of 1 to min_cell − 1 people outside the viewer's own rows,
    and complementary cells, so that none of them can be worked out from the sums they are part of (`sums`: a total
    and its parts), alone or together.

    Whenever a sum has exactly one withheld cell, another of its cells goes too, the one whose loss costs least
    (`_cost`); then a rank test over all the sums looks for a small count that some combination of sums still
    determines, and withholds the cheapest other cell of a sum it is in (else of a sum linked to it); until neither
    finds anything. The viewer's own rows are never withheld, so they
    never serve to hide someone else's cell.
    """
    withheld = {(i, c) for i, row in enumerate(rows) if i not in own for c in counts if 1 <= (row[c] or 0) < min_cell}
    shown = {(i, c) for i, row in enumerate(rows) for c in counts if row[c] is not None}
    spans = {}  # a component's determined cells, kept while it is unchanged (the SVD is the cost)

    def hide_another(cell_sums: list[tuple[Cell, list[Cell]]]) -> bool:
        candidates = sorted(
            (_cost(rows, cell), cell)
            for total, parts in cell_sums
            for cell in [total, *parts]
            if cell in shown and cell not in withheld and cell[0] not in own
        )
        if candidates:
            withheld.add(candidates[0][1])
        return bool(candidates)

    while True:
        changed = True
        while changed:
            changed = False
            for total, parts in sums:
                if sum(cell in withheld for cell in [total, *parts] if cell in shown) == 1:
                    changed |= hide_another([(total, parts)])
        exposed = _determined(rows, sums, withheld, min_cell, spans)
        hidden_more = [
            hide_another([s for s in sums if cell in (s[0], *s[1])]) or hide_another(linked) for cell, linked in exposed
        ]
        if not any(hidden_more):
            return withheld  # nothing is exposed, or nothing left that may be withheld


def _determined(
    rows, sums, withheld: set[Cell], min_cell: int, spans: dict
) -> list[tuple[Cell, list[tuple[Cell, list[Cell]]]]]:
    """The withheld small counts whose values the shown figures determine through the sums taken together, each
    with the sums linked to it: a cell is determined when its unit vector lies in the row space
    of the sums' coefficients on withheld cells (its squared norm there is 1)."""
    touching = [(total, parts) for total, parts in sums if any(c in withheld for c in [total, *parts])]
    group = {cell: cell for cell in withheld}  # union-find: withheld cells linked by a sum

    def root(cell):
        while group[cell] != cell:
            group[cell] = group[group[cell]]
            cell = group[cell]
        return cell

    for total, parts in touching:
        linked = [c for c in [total, *parts] if c in withheld]
        for other in linked[1:]:
            group[root(other)] = root(linked[0])
    components = defaultdict(list)
    for total, parts in touching:
        components[root(next(c for c in [total, *parts] if c in withheld))].append((total, parts))
    exposed = []
    for component in components.values():
        unknown = tuple(sorted({c for total, parts in component for c in [total, *parts] if c in withheld}))
        if unknown not in spans:
            column = {cell: k for k, cell in enumerate(unknown)}
            matrix = np.zeros((len(component), len(unknown)))
            for r, (total, parts) in enumerate(component):
                for cell, sign in [(total, -1.0), *((part, 1.0) for part in parts)]:
                    if cell in column:
                        matrix[r, column[cell]] += sign
            # the row space is spanned by the first `rank` columns of Q in the pivoted QR of its transpose
            q, r, _ = scipy.linalg.qr(matrix.T, mode="economic", pivoting=True)
            rank = int((np.abs(np.diag(r)) > 1e-9).sum())
            spans[unknown] = [unknown[k] for k in np.flatnonzero((q[:, :rank] ** 2).sum(axis=1) > 1 - 1e-9)]
        exposed += [(cell, component) for cell in spans[unknown] if 1 <= rows[cell[0]][cell[1]] < min_cell]
    return exposed


def _cost(rows: list[dict], cell: Cell) -> tuple:
    """What withholding a cell costs, least first: any count before n_complete (the row's statistics go with it),
    a group's before the program's, a non-zero count before a zero (a zero is often known anyway), then the smaller."""
    row, column = cell
    value = rows[row][column]
    return column == "n_complete", rows[row].get("grouping") == "program", value == 0, value


def group_sums(
    rows: list[dict],
    counts: list[str],
    within_row: list[tuple[str, list[str]]],
    nested: dict[tuple, list[str]],
    alike: list[list[tuple]] = (),
    same_in_every_measure: tuple[str, ...] = (),
) -> list[tuple[Cell, list[Cell]]]:
    """The sums a table of groups (`grouping`, `group_id`, per `instrument` and `subscale`) must not let anyone
    solve: within each row (`within_row`), each grouping's groups against the program's row, and the cohorts of a
    site or modality against its row (`nested`: for each (grouping, group_id) whose cohorts all lie wholly within
    it, those cohorts). Equal figures are sums of one part: the figures of groups of the same people (`alike`: a
    site of one modality, a cohort that is a whole site), and the counts that are the same for every measure of a
    group (`same_in_every_measure`: everyone enrolled has a row for each measure)."""
    sums = [((i, total), [(i, p) for p in parts]) for i in range(len(rows)) for total, parts in within_row]
    measures = defaultdict(dict)  # (instrument, subscale) -> {(grouping, group_id): row}
    for i, row in enumerate(rows):
        measures[(row.get("instrument"), row.get("subscale"))][(row["grouping"], row["group_id"])] = i
    for found in measures.values():
        totals = {("program", "all"): [[i for (g, _), i in found.items() if g == grouping] for grouping in GROUPINGS]}
        totals |= {
            key: [[found[("cohort", c)] for c in cohorts if ("cohort", c) in found]] for key, cohorts in nested.items()
        }
        for key, groupings in totals.items():
            if key not in found:
                continue
            sums += [((found[key], c), [(i, c) for i in parts]) for parts in groupings if parts for c in counts]
        for keys in alike:
            same = [found[key] for key in keys if key in found]
            sums += [((a, c), [(b, c)]) for a, b in itertools.pairwise(same) for c in counts]
    groups = defaultdict(list)  # (grouping, group_id) -> its row in each measure
    for i, row in enumerate(rows):
        groups[(row["grouping"], row["group_id"])].append(i)
    sums += [
        ((a, c), [(b, c)])
        for same in groups.values()
        for a, b in itertools.pairwise(same)
        for c in same_in_every_measure
    ]
    return sums


GROUP_KEY = ("grouping", "group_id", "instrument", "subscale")


def beyond_known(rows: list[dict], counts: list[str], known: pl.DataFrame | None) -> list[dict]:
    """Each row's `counts` less the viewer's own people in them (`known`: the same counts of only the participants
    the viewer sees one by one, keyed as the rows by `GROUP_KEY`): what the row tells about everyone else. Without
    `known`, the rows' own counts. The sums between rows hold for these as for the rows."""
    mine = {tuple(r.get(k) for k in GROUP_KEY): r for r in (known.to_dicts() if known is not None else [])}
    beyond = []
    for row in rows:
        theirs = mine.get(tuple(row.get(k) for k in GROUP_KEY), {})
        beyond.append({**row} | {c: row[c] - (theirs.get(c) or 0) for c in counts if row.get(c) is not None})
    return beyond


def suppress_outcomes(
    frame: pl.DataFrame,
    min_cell: int,
    own: set[tuple[str, str]] = frozenset(),
    nested: dict | None = None,
    alike: list[list[tuple]] = (),
    known: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`marts.cohort_outcomes` rows, every measure at once, as they may be shown outside a viewer's own scope (`own`:
    the (grouping, group_id) a clinician sees in full; `known`: the counts of the participants they see one by one,
    as in `beyond_known`; `nested` and `alike` as in `group_sums`; n_enrolled is the same for every measure of a
    group): withheld counts and statistics become null, `small_counts` names the counts withheld for being small
    (the others were withheld as complements), `unclassified_counts` those the mart left empty, and `is_suppressed`
    marks each row that lost something. A row's statistics, about its completers, go with its n_complete. With a
    min_cell of 0 (an admin's view), nothing is withheld."""
    rows = frame.to_dicts()
    beyond = beyond_known(rows, [*OUTCOME_COUNTS, "itt_participants"], known)
    mine = {i for i, row in enumerate(rows) if (row["grouping"], row["group_id"]) in own}
    sums = group_sums(rows, OUTCOME_COUNTS, PARTS_OF_A_TOTAL, nested or {}, alike, ("n_enrolled",))
    withheld = withheld_cells(beyond, OUTCOME_COUNTS, sums, min_cell, mine)
    for i, row in enumerate(rows):
        hidden = {c for j, c in withheld if j == i}
        others = beyond[i]
        row["small_counts"] = sorted(c for c in hidden if others[c] < min_cell)  # shown as "<5"; the rest "withheld"
        # empty in the mart because nothing was classified (too few pairs, no cutoff): "not classified", not "withheld"
        row["unclassified_counts"] = [c for c in CATEGORY_COUNTS if row[c] is None]
        # too few completers beyond the viewer's own, unless every completer is their own
        beyond_own = others["n_complete"] or 0
        all_own = others["n_complete"] == 0 and (row["n_complete"] or 0) > 0
        too_few = i not in mine and ((beyond_own < min_cell and not all_own) or "n_complete" in hidden)
        # Beside the completers' mean, an intent-to-treat figure that adds only a few non-completers would tell
        # which way those few went.
        few_more = (
            i not in mine
            and row.get("itt_participants") is not None
            and 1 <= others["itt_participants"] - others["n_complete"] < min_cell
        )
        for column in hidden:
            row[column] = None
        if too_few:
            row.update({column: None for column in OUTCOME_STATISTICS if column in row})
        elif few_more:
            row.update({column: None for column in ITT_STATISTICS})
        row["is_suppressed"] = bool(hidden) or too_few or few_more
    listed = {"small_counts": pl.List(pl.String), "unclassified_counts": pl.List(pl.String)}
    return pl.DataFrame(rows, schema={**frame.schema, **listed, "is_suppressed": pl.Boolean})


TALKING_THERAPIES_RATES = {  # rate: (numerator, denominator)
    "recovery_rate": ("n_recovered", "n_cases"),
    "reliable_improvement_rate": ("n_reliably_improved", "n_with_both"),
    "reliable_recovery_rate": ("n_reliably_recovered", "n_cases"),
}


def suppress_talking_therapies(
    frame: pl.DataFrame,
    min_cell: int,
    own: set[tuple[str, str]] = frozenset(),
    alike: list[list[tuple]] = (),
    known: pl.DataFrame | None = None,
):
    """`marts.talking_therapies` rows (program, sites, modalities) as they may be shown outside a viewer's own
    scope: small counts and their complements withheld as for the outcomes (`alike` as in `group_sums`, `known` as
    in `beyond_known`), and a rate with either of its counts, or with a denominator of 1 to min_cell − 1 people
    beyond the viewer's own."""
    rows = frame.to_dicts()
    counts = sorted({c for pair in TALKING_THERAPIES_RATES.values() for c in pair})
    beyond = beyond_known(rows, counts, known)
    mine = {i for i, row in enumerate(rows) if (row["grouping"], row["group_id"]) in own}
    withheld = withheld_cells(beyond, counts, group_sums(rows, counts, [], {}, alike), min_cell, mine)
    for i, row in enumerate(rows):
        hidden = {c for j, c in withheld if j == i}
        for rate, (numerator, denominator) in TALKING_THERAPIES_RATES.items():
            if i not in mine and (hidden & {numerator, denominator} or 1 <= beyond[i][denominator] < min_cell):
                hidden.add(rate)
        row.update(dict.fromkeys(hidden))
        row["is_suppressed"] = bool(hidden)
    return pl.DataFrame(rows, schema={**frame.schema, "is_suppressed": pl.Boolean})


def publication_count(n: int | None) -> str | None:
    """NHS Digital's rule for published sub-national counts: 1–7 as "*", others rounded to the nearest 5."""
    if n is None:
        return None
    return "*" if 1 <= n <= 7 else str(5 * round(n / 5))
