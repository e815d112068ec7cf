"""The reader with a solver: how far everything a release shows narrows each figure it withholds.

A release shows tables of figures about groups of people (the program, sites, cohorts, modalities). Every group is
a union of *atoms*, the people of one site, cohort and modality, and a reader who knows which cohorts run at which
sites in which modality knows that structure. For each withheld count this attacker computes the smallest and
largest value that agree with every shown figure and every fact a reader knows (METHODS.md, "Small numbers and
privacy"), as a mixed-integer linear program over the atoms' unknown counts:

- counts are whole and not negative; a shown count is a sum of its atoms' counts;
- "<5" means 1 to min_cell − 1 (0 to min_cell − 1 for a part of a total that is itself shown as "<5", whose parts
  are all withheld whatever their value); a count withheld to protect another ("withheld") is never small, so it is
  0 or at least min_cell: the protection only withholds counts of at least min_cell for that reason;
- within a row, a total is the sum of its parts and a sub-category at most its category (`Family`);
- a count the same for every measure of a group (n_enrolled) is one unknown;
- a shown mean times its shown count is a total, also a sum over atoms, each between count × the lowest and
  count × the highest score a person can have.

A viewer who sees some people one by one (a clinician's own sites) knows their atoms exactly: the attack is then on
what the figures say beyond them (`Release.beyond`). Rates and intervals are shown only beside the counts they are
made of, so they add nothing the counts and means do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import scipy.sparse

SHOWN, SMALL, SMALL_PART, WITHHELD = "shown", "small", "small_part", "withheld"

Group = tuple[str, str]  # (grouping, group_id)
Layer = tuple  # a table's measure, e.g. ("ECR-R", "anxiety"); () for a table of one measure
Cell = tuple[int, str]  # (row, column)


@dataclass(frozen=True)
class Family:
    """The counts of one kind of table and how a reader knows they relate within a row."""

    counts: tuple[str, ...]
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()  # total = the sum of its parts
    at_most: tuple[tuple[str, str], ...] = ()  # (part, whole): a sub-category is at most its category
    same_in_every_layer: tuple[str, ...] = ()  # a group's count that does not depend on the measure
    means: dict[str, tuple[str, bool]] = field(default_factory=dict)  # a total: (its count, is a change)
    # the counts a release holds of each grouping, where not all: what no page shows is not released at all
    released: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def counts_of(self, grouping: str) -> tuple[str, ...]:
        """The counts a release holds of a group of this grouping."""
        return self.released.get(grouping, self.counts)

    def wholes_of(self, column: str) -> list[str]:
        """The counts a count is part of, within its row."""
        return [t for t, parts in self.sums if column in parts] + [w for p, w in self.at_most if p == column]


@dataclass
class Table:
    """A table as a reader sees it, in terms of the people beyond the viewer's own.

    `rows` hold each group's figures less the viewer's own people in them (counts, and each mean as its total);
    `states` the state of each withheld cell (SMALL, SMALL_PART, WITHHELD); `members` each group's atoms beyond the
    viewer's own; `score_range` each layer's lowest and highest score a person can have, for its means."""

    rows: list[dict]
    family: Family
    states: dict[Cell, str]
    members: dict[Group, frozenset]
    min_cell: int
    score_range: dict[Layer, tuple[float, float]] = field(default_factory=dict)

    def layer(self, row: dict) -> Layer:
        return tuple(row.get(k) for k in ("instrument", "subscale") if k in row)

    def group(self, row: dict) -> Group:
        return row["grouping"], row["group_id"]


class _Program:
    """The mixed-integer program of one release: unknowns per atom, constraints from what is shown."""

    def __init__(self, release: Table) -> None:
        self.release = release
        self.index: dict[tuple, int] = {}
        self.integer: list[int] = []
        self.bounds: list[tuple[float, float]] = []
        self.constraints: list[tuple[dict[int, float], float, float]] = []  # (coefficients, low, high)
        self._compiled: tuple | None = None
        shown = [row[c] for row in release.rows for c in release.family.counts if isinstance(row.get(c), int)]
        self.most = 4 * max(shown, default=0) + 1000  # more than any group has: every group is within the program
        for r, row in enumerate(release.rows):
            self._constrain_row(r, row)

    def _variable(self, key: tuple, integer: bool, bounds: tuple[float, float] = (0.0, math.inf)) -> int:
        if key not in self.index:
            self.index[key] = len(self.index)
            self.bounds.append(bounds)
            if integer:
                self.integer.append(self.index[key])
        return self.index[key]

    def _constrain(self, coefficients: dict[int, float], low: float, high: float) -> None:
        self.constraints.append((coefficients, low, high))
        self._compiled = None

    def count(self, atom, layer: Layer, column: str) -> int:
        """An atom's count: whole, not negative, and related to the atom's other counts as in any row."""
        shared = column in self.release.family.same_in_every_layer
        key = ("n", atom, () if shared else layer, column)
        if key in self.index:
            return self.index[key]
        k = self._variable(key, True, (0.0, self.most))
        family = self.release.family
        for total, parts in family.sums:
            if column == total:
                coefficients = {k: -1.0}
                for part in parts:
                    coefficients[self.count(atom, layer, part)] = 1.0
                self._constrain(coefficients, 0.0, 0.0)
        for part, whole in family.at_most:
            if column == part:
                self._constrain({k: 1.0, self.count(atom, layer, whole): -1.0}, -math.inf, 0.0)
        return k

    def total(self, atom, layer: Layer, column: str) -> int:
        """An atom's total of a mean's column, between its count times the lowest and the highest a person has."""
        key = ("total", atom, layer, column)
        if key in self.index:
            return self.index[key]
        k = self._variable(key, False, (-math.inf, math.inf))
        count, is_change = self.release.family.means[column]
        low, high = self.release.score_range[layer]
        floor, ceiling = (low - high, high - low) if is_change else (low, high)
        n = self.count(atom, layer, count)
        self._constrain({k: 1.0, n: -floor}, 0.0, math.inf)
        self._constrain({k: 1.0, n: -ceiling}, -math.inf, 0.0)
        return k

    def sum_over(self, group: Group, layer: Layer, column: str) -> dict[int, float]:
        """A group's figure as the sum of its atoms' unknowns."""
        unknown = self.total if column in self.release.family.means else self.count
        return {unknown(atom, layer, column): 1.0 for atom in sorted(self.release.members.get(group, ()))}

    def _constrain_row(self, r: int, row: dict) -> None:
        release = self.release
        group, layer = release.group(row), release.layer(row)
        if not release.members.get(group):
            return  # the viewer's own people only: it says nothing beyond them
        small = release.min_cell - 1
        for column in release.family.counts_of(group[0]):
            state = release.states.get((r, column), SHOWN)
            if state == SHOWN and row.get(column) is None:
                continue  # not in the table (a category nobody was classified in)
            coefficients = self.sum_over(group, layer, column)
            low, high = {SHOWN: (row.get(column),) * 2, SMALL: (1, small), SMALL_PART: (0, small)}.get(
                state, (0, math.inf)
            )
            self._constrain(coefficients, low, high)
            if state == WITHHELD and coefficients:  # 0, or at least min_cell
                some = self._variable(("some", r, column), True, (0, 1))
                self._constrain({**coefficients, some: -release.min_cell}, 0.0, math.inf)
                self._constrain({**coefficients, some: -self.most}, -math.inf, 0.0)
        for column in release.family.means:
            if row.get(column) is not None and (r, column) not in release.states:
                self._constrain(self.sum_over(group, layer, column), row[column], row[column])

    def alias(self, coefficients: dict[int, float]) -> int:
        """One more unknown equal to a sum of others, to fix it in turn."""
        k = self._variable(("alias", len(self.index)), True)
        self._constrain({**coefficients, k: -1.0}, 0.0, 0.0)
        return k

    def _compile(self) -> tuple:
        if self._compiled is None:
            matrix = scipy.sparse.lil_matrix((len(self.constraints), len(self.index)))
            for i, (coefficients, _, _) in enumerate(self.constraints):
                for k, value in coefficients.items():
                    matrix[i, k] = value
            integrality = np.zeros(len(self.index))
            integrality[self.integer] = 1
            linear = scipy.optimize.LinearConstraint(
                matrix.tocsr(), [c[1] for c in self.constraints], [c[2] for c in self.constraints]
            )
            self._compiled = linear, integrality, np.array(self.bounds, dtype=float).reshape(-1, 2)
        return self._compiled

    def solve(self, objective: dict[int, float], fixed: dict[int, float] | None = None) -> np.ndarray | None:
        """A solution that minimises a sum of unknowns (None when there is none with `fixed` values)."""
        linear, integrality, bounds = self._compile()
        c = np.zeros(len(self.index))
        for k, value in objective.items():
            c[k] = value
        lower, upper = bounds[:, 0].copy(), bounds[:, 1].copy()
        for k, value in (fixed or {}).items():
            lower[k] = upper[k] = value
        result = scipy.optimize.milp(
            c, constraints=linear, integrality=integrality, bounds=scipy.optimize.Bounds(lower, upper)
        )
        if result.status == 2 and not fixed:  # the shown figures contradict each other: a fault, never to hide
            raise ValueError("the release's figures admit no solution")
        if result.status not in (0, 1) or result.x is None:
            return None
        return result.x


def feasible_ranges(release: Table) -> dict[Cell, tuple[float, float]]:
    """The least and greatest value of each sensitive cell (`sensitive_cells`) over everything the release shows.

    Each measure is attacked on its own: only n_enrolled is common to them, and it is withheld alike in every
    measure (METHODS.md, "What the attacker checks")."""
    ranges = {}
    for rows in _by_layer(release).values():
        part = Table(
            [release.rows[r] for r in rows], release.family, {}, release.members, release.min_cell, release.score_range
        )
        part.states = {(rows.index(r), c): s for (r, c), s in release.states.items() if r in rows}
        ranges |= {(rows[r], c): bounds for (r, c), bounds in _layer_ranges(part).items()}
    return ranges


def _by_layer(release: Table) -> dict[Layer, list[int]]:
    layers: dict[Layer, list[int]] = {}
    for r, row in enumerate(release.rows):
        layers.setdefault(release.layer(row), []).append(r)
    return layers


def _layer_ranges(release: Table) -> dict[Cell, tuple[float, float]]:
    """`feasible_ranges` of one measure's rows.

    Solutions found on the way show values each cell can take; a cell whose values already span enough (three
    counts, half its measure's range) is not solved for alone, so its range is then at least as wide as given."""
    cells = sensitive_cells(release)
    if not cells:
        return {}
    program = _Program(release)
    objectives = {cell: _objectives(program, release, cell) for cell in cells}
    seen: dict[Cell, list[float]] = {cell: [math.inf, -math.inf] for cell in objectives}

    def observe(x: np.ndarray | None) -> None:
        if x is None:
            return
        for cell, (value, count) in objectives.items():
            n = sum(x[k] * c for k, c in count.items()) if count else 1.0
            if n >= 0.5:
                v = sum(x[k] * c for k, c in value.items()) / n
                seen[cell] = [min(seen[cell][0], v), max(seen[cell][1], v)]

    everything = {k: 1.0 for value, _ in objectives.values() for k in value}
    for sign in (1.0, -1.0):
        observe(program.solve({k: sign * c for k, c in everything.items()}))
    for cell, (value, count) in objectives.items():
        if wide_enough(release, cell, seen[cell]):
            continue
        if not count:
            for sign in (1.0, -1.0):
                observe(program.solve({k: sign * c for k, c in value.items()}))
        else:
            _observe_mean(program, value, count, observe)
    return {cell: tuple(bounds) for cell, bounds in seen.items() if bounds[0] <= bounds[1]}


def sensitive_cells(release: Table) -> list[Cell]:
    """The withheld figures a release must protect: the counts shown as "<5", and the means of a group whose
    completers are.

    A count withheld only to protect another is of at least min_cell people, so knowing it discloses nothing that
    showing it would not; and a hidden zero inside a group shown to have none of the same (0 harmed in a site, so 0
    in each of its cohorts) is known from that zero, which is about many people."""
    family = release.family
    cells = []
    for (r, column), state in release.states.items():
        row = release.rows[r]
        if not release.members.get(release.group(row)):
            continue  # nobody beyond the viewer's own: nothing to learn
        if column in family.counts:
            if state == SMALL or (state == SMALL_PART and not _inside_a_shown_zero(release, r, column)):
                cells.append((r, column))
        elif column in family.means and release.states.get((r, family.means[column][0])) in (SMALL, SMALL_PART):
            cells.append((r, column))
    return cells


def _inside_a_shown_zero(release: Table, r: int, column: str) -> bool:
    atoms, layer = release.members[release.group(release.rows[r])], release.layer(release.rows[r])
    return any(
        row.get(column) == 0
        and (i, column) not in release.states
        and release.layer(row) == layer
        and atoms <= release.members.get(release.group(row), frozenset())
        for i, row in enumerate(release.rows)
    )


def _objectives(program: _Program, release: Table, cell: Cell) -> tuple[dict, dict]:
    """A cell as sums of unknowns: its value, and for a mean the count it is divided by."""
    r, column = cell
    row = release.rows[r]
    group, layer = release.group(row), release.layer(row)
    value = program.sum_over(group, layer, column)
    count = program.sum_over(group, layer, release.family.means[column][0]) if column in release.family.means else {}
    return value, count


def wide_enough(release: Table, cell: Cell, bounds) -> bool:
    """A count with three possible values or more; a mean whose range is at least half its measure's."""
    low, high = bounds
    r, column = cell
    if column in release.family.means:
        lowest, highest = release.score_range[release.layer(release.rows[r])]
        return high - low >= (highest - lowest) / 2 - 1e-9
    return high - low >= 2 - 1e-9


def _observe_mean(program: _Program, total: dict, count: dict, observe) -> None:
    """Solutions at the extremes of total / count: for each possible count, the least and greatest total."""
    least, most = program.solve(count), program.solve({k: -c for k, c in count.items()})
    observe(least)
    observe(most)
    if least is None or most is None:
        return
    n = program.alias(count)
    low, high = round(sum(least[k] * c for k, c in count.items())), round(sum(most[k] * c for k, c in count.items()))
    for k in _spread(max(low, 1), min(high, low + 1000)):
        observe(program.solve(total, {n: k}))
        observe(program.solve({i: -c for i, c in total.items()}, {n: k}))


def _spread(first: int, last: int, most: int = 8) -> list[int]:
    """Up to `most` whole numbers from first to last, both ends included (a lower bound on the union's width)."""
    if last - first < most:
        return list(range(first, last + 1))
    return sorted({round(v) for v in np.linspace(first, last, most)})


def as_read(
    shown: list[dict],
    family: Family,
    members: dict[Group, frozenset],
    min_cell: int,
    known: list[dict] | None = None,
    score_range: dict[Layer, tuple[float, float]] | None = None,
) -> Table:
    """A table as a reader reconstructs it from what a release shows (`shown`: its rows, a withheld figure None and
    each count shown as "<5" named in `small_counts`), less what the viewer knows of their own people (`known`: the
    same figures of only them)."""
    keys = ("grouping", "group_id", "instrument", "subscale")
    mine = {tuple(r.get(k) for k in keys): r for r in known or []}
    rows, states = [], {}
    for r, row in enumerate(shown):
        small = set(row.get("small_counts") or [])
        theirs = mine.get(tuple(row.get(k) for k in keys), {})
        beyond = dict(row)
        for column in family.counts_of(row["grouping"]):
            if row.get(column) is not None:
                beyond[column] = row[column] - (theirs.get(column) or 0)
            elif column in small:  # "<5": a part of a total shown as "<5" may be 0
                states[(r, column)] = SMALL_PART if small & set(family.wholes_of(column)) else SMALL
            elif column not in (row.get("unclassified_counts") or []):
                states[(r, column)] = WITHHELD
        for total, (count, _) in family.means.items():
            mean = row.get(total.replace("total_", "mean_"))
            if mean is None or row.get(count) is None:
                states[(r, total)] = WITHHELD
            else:
                beyond[total] = mean * row[count] - (theirs.get(total) or 0)
        rows.append(beyond)
    return Table(rows, family, states, members, min_cell, score_range or {})
