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
- a mean or a rate (`Ratio`) is shown rounded, also beside a withheld count: its numerator (a total of scores, or
  a count) lies between its denominator times the shown value less and plus half its last digit; each atom's total
  of scores lies between its count times the lowest and the highest score a person can have.

A viewer who sees some people one by one (a clinician's own sites) knows their atoms exactly: the attack is then on
what the figures say beyond them. Intervals and effect sizes are shown only beside the count of completers they are
made of, so they add nothing about how many people there are that the count does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import scipy.sparse

SHOWN, SMALL, SMALL_PART, WITHHELD = "shown", "small", "small_part", "withheld"
SMALL_STATES = (SMALL, SMALL_PART)  # shown as "<5"

Group = tuple[str, str]  # (grouping, group_id)
Layer = tuple  # a table's measure, e.g. ("ECR-R", "anxiety"); () for a table of one measure
Cell = tuple[int, str]  # (row, column)


@dataclass(frozen=True)
class Ratio:
    """A figure shown rounded to `step` that is a sum over a group's people divided by a count of them.

    A rate of whole people shown to the nearest 5% says nothing of how many there are once they are 20 or more
    (every count then has a whole number in its 5% band): `step` 0.05 lets a rate stand beside withheld counts."""

    numerator: str  # a count (a rate), or a total of scores (a mean: each person's score or change added up)
    denominator: str  # a count
    step: float = 0.01
    is_total: bool = True  # the numerator is a total of scores, not a count
    is_change: bool = False  # a total of changes, which may be negative


@dataclass(frozen=True)
class Family:
    """The counts of one kind of table and how a reader knows they relate within a row."""

    counts: tuple[str, ...]
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()  # total = the sum of its parts
    at_most: tuple[tuple[str, str], ...] = ()  # (part, whole): a sub-category is at most its category
    same_in_every_layer: tuple[str, ...] = ()  # a group's count that does not depend on the measure
    ratios: dict[str, Ratio] = field(default_factory=dict)  # shown column: what it is a ratio of
    # the counts and ratios a release holds of each grouping, where not all: what no page shows is not released
    released: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def counts_of(self, grouping: str) -> tuple[str, ...]:
        """The counts a release holds of a group of this grouping."""
        return tuple(c for c in self.released.get(grouping, self.counts) if c in self.counts)

    def ratios_of(self, grouping: str) -> tuple[str, ...]:
        """The means and rates a release holds of a group of this grouping."""
        return tuple(c for c in self.released.get(grouping, tuple(self.ratios)) if c in self.ratios)

    def is_mean(self, column: str) -> bool:
        return column in self.ratios and self.ratios[column].is_total

    def wholes_of(self, column: str) -> list[str]:
        """The counts a count is part of, within its row."""
        return [t for t, parts in self.sums if column in parts] + [w for p, w in self.at_most if p == column]


@dataclass
class Table:
    """A table as a reader sees it, in terms of the people beyond the viewer's own.

    `rows` hold each group's counts less the viewer's own people in them, its ratios as shown, and as `own:<column>`
    the viewer's own part of each ratio's numerator and denominator; `states` the state of each withheld cell
    (SMALL, SMALL_PART, WITHHELD); `members` each group's atoms beyond the viewer's own; `score_range` each layer's
    lowest and highest score a person can have, for its means."""

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

    def __init__(self, release: Table, whole: bool = True) -> None:
        self.release = release
        self.whole = whole
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

    def total(self, atom, layer: Layer, ratio: Ratio) -> int:
        """An atom's total of a mean's scores, between its count times the lowest and the highest a person has."""
        key = ("total", atom, layer, ratio.numerator)
        if key in self.index:
            return self.index[key]
        k = self._variable(key, False, (-math.inf, math.inf))
        low, high = self.release.score_range[layer]
        floor, ceiling = (low - high, high - low) if ratio.is_change else (low, high)
        n = self.count(atom, layer, ratio.denominator)
        self._constrain({k: 1.0, n: -floor}, 0.0, math.inf)
        self._constrain({k: 1.0, n: -ceiling}, -math.inf, 0.0)
        return k

    def sum_over(self, group: Group, layer: Layer, column: str) -> dict[int, float]:
        """A group's count, or a mean's total of scores, as the sum of its atoms' unknowns."""
        atoms = sorted(self.release.members.get(group, ()))
        if self.release.family.is_mean(column):
            return {self.total(atom, layer, self.release.family.ratios[column]): 1.0 for atom in atoms}
        return {self.count(atom, layer, column): 1.0 for atom in atoms}

    def ratio_parts(self, group: Group, layer: Layer, column: str) -> tuple[dict[int, float], dict[int, float]]:
        """A ratio's numerator and denominator as sums of the group's atoms' unknowns."""
        ratio = self.release.family.ratios[column]
        numerator = self.sum_over(group, layer, column if ratio.is_total else ratio.numerator)
        return numerator, self.sum_over(group, layer, ratio.denominator)

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
        for column in release.family.ratios_of(group[0]):
            if row.get(column) is not None and (r, column) not in release.states:
                self._constrain_ratio(row, group, layer, column)

    def _constrain_ratio(self, row: dict, group: Group, layer: Layer, column: str) -> None:
        """A ratio v shown to a step s (read as rounded to s, whatever digits it is shown with), of all the group's
        people, the viewer's own among them: the numerator lies between (v - s/2) and (v + s/2) times the
        denominator."""
        ratio = self.release.family.ratios[column]
        numerator, denominator = self.ratio_parts(group, layer, column)
        own_numerator = row.get(f"own:{ratio.numerator}") or 0.0
        own_denominator = row.get(f"own:{ratio.denominator}") or 0.0
        shown = round(row[column] / ratio.step) * ratio.step
        for bound, sign in ((shown - ratio.step / 2, 1.0), (shown + ratio.step / 2, -1.0)):
            coefficients = {k: sign for k in numerator}
            for k in denominator:
                coefficients[k] = coefficients.get(k, 0.0) - sign * bound
            self._constrain(coefficients, sign * (bound * own_denominator - own_numerator), math.inf)

    def alias(self, coefficients: dict[int, float]) -> int:
        """One more unknown equal to a sum of others, to fix it in turn."""
        k = self._variable(("alias", len(self.index)), True)
        self._constrain({**coefficients, k: -1.0}, 0.0, 0.0)
        return k

    def _compile(self) -> tuple:
        if self._compiled is None:
            rows, columns, values = [], [], []
            for i, (coefficients, _, _) in enumerate(self.constraints):
                rows += [i] * len(coefficients)
                columns += coefficients.keys()
                values += coefficients.values()
            shape = (len(self.constraints), len(self.index))
            matrix = scipy.sparse.coo_matrix((values, (rows, columns)), shape=shape)
            integrality = np.zeros(len(self.index))
            if self.whole:
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


def feasible_ranges(
    release: Table, cells: list[Cell] | None = None, whole: bool = True, cache: dict | None = None
) -> dict[Cell, tuple[float, float]]:
    """The least and greatest value of each sensitive cell (`sensitive_cells`), or of `cells`, over everything the
    release shows (with `whole` false, a quicker, wider estimate, to compare choices: as if counts could be
    fractions, and of a mean's total rather than the mean). A `cache` keeps each measure's ranges until its
    withheld cells change.

    Each measure is attacked on its own: only n_enrolled is common to them, and it is withheld alike in every
    measure (METHODS.md, "What the attacker checks")."""
    ranges = {}
    for layer, rows in _by_layer(release).items():
        wanted = None if cells is None else [(rows.index(r), c) for r, c in cells if r in rows]
        if wanted == []:
            continue
        part = Table(
            [release.rows[r] for r in rows], release.family, {}, release.members, release.min_cell, release.score_range
        )
        part.states = {(rows.index(r), c): s for (r, c), s in release.states.items() if r in rows}
        key = (layer, frozenset(part.states.items()))
        if cache is not None and key in cache:
            found = cache[key]
        else:
            found = _layer_ranges(part, wanted, whole)
            if cache is not None:
                cache[key] = found
        ranges |= {(rows[r], c): bounds for (r, c), bounds in found.items()}
    return ranges


def _by_layer(release: Table) -> dict[Layer, list[int]]:
    layers: dict[Layer, list[int]] = {}
    for r, row in enumerate(release.rows):
        layers.setdefault(release.layer(row), []).append(r)
    return layers


def _layer_ranges(release: Table, cells: list[Cell] | None, whole: bool) -> dict[Cell, tuple[float, float]]:
    """`feasible_ranges` of one measure's rows.

    Solutions found on the way show values each cell can take; a cell whose values already span enough (three
    counts, half its measure's range) is not solved for alone, so its range is then at least as wide as given."""
    cells = sensitive_cells(release) if cells is None else cells
    if not cells:
        return {}
    program = _Program(release, whole)
    objectives = {cell: _objectives(program, release, cell) for cell in cells}
    if not whole:  # a quick estimate: a mean's total rather than the mean
        objectives = {cell: (value, {}) for cell, (value, _) in objectives.items()}
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
        elif family.is_mean(column) and release.states.get((r, family.ratios[column].denominator)) in SMALL_STATES:
            cells.append((r, column))
    return cells


def _inside_a_shown_zero(release: Table, r: int, column: str) -> bool:
    atoms, layer = release.members[release.group(release.rows[r])], release.layer(release.rows[r])
    return any(
        row.get(column) == 0
        and (i, column) not in release.states
        and column in release.family.counts_of(row["grouping"])
        and release.layer(row) == layer
        and atoms <= release.members.get(release.group(row), frozenset())
        for i, row in enumerate(release.rows)
    )


def _objectives(program: _Program, release: Table, cell: Cell) -> tuple[dict, dict]:
    """A cell as sums of unknowns: a count, or a mean's total of scores and the count it is divided by."""
    r, column = cell
    group, layer = release.group(release.rows[r]), release.layer(release.rows[r])
    if release.family.is_mean(column):
        return program.ratio_parts(group, layer, column)
    return program.sum_over(group, layer, column), {}


def wide_enough(release: Table, cell: Cell, bounds) -> bool:
    """A count with three possible values or more; a mean whose range is at least half its measure's."""
    low, high = bounds
    r, column = cell
    if release.family.is_mean(column):
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
    same counts, and each mean's total of scores, of only them)."""
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
        for column in family.ratios_of(row["grouping"]):
            if row.get(column) is None:
                states[(r, column)] = WITHHELD
            ratio = family.ratios[column]
            for part in (ratio.numerator, ratio.denominator):
                beyond[f"own:{part}"] = theirs.get(part) or 0
        rows.append(beyond)
    return Table(rows, family, states, members, min_cell, score_range or {})
