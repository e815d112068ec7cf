"""Disclosure control (METHODS.md, "Small numbers and privacy"): each release, attacked with a solver.

Programs are crafted participant by participant, their figures computed by the real transforms, protected by
`suppress_outcomes` and then attacked with everything the release shows (transforms/attack.py)."""

import polars as pl
import pytest

from transforms.attack import as_read, feasible_ranges, wide_enough
from transforms.disclosure import (
    OUTCOMES,
    group_members,
    publication_count,
    suppress_outcomes,
    suppress_talking_therapies,
    with_totals,
)
from transforms.outcomes import cohort_outcomes

ANXIETY = ("ECR-R", "anxiety")
RANGES = {ANXIETY: (1.0, 7.0)}
CHANGES = {"improved": -1.5, "unchanged": 0.0, "deteriorated": 1.5}


def people(site: str, cohort: str, modality: str, n: int, first: int = 0) -> list[dict]:
    """`n` participants of one site, cohort and modality: every fifth without an endpoint, the completers improved,
    unchanged and deteriorated in turn (every other improved one recovered), scores spread by person."""
    rows = []
    for i in range(first, first + n):
        complete = i % 5 != 4
        change = ("improved", "unchanged", "deteriorated")[i % 3] if complete else None
        baseline = 4.0 + (i % 7) / 10
        rows.append(
            {
                "participant_id": f"{site}-{cohort}-{i}",
                "site_id": site,
                "cohort_id": cohort,
                "modality": modality,
                "instrument": ANXIETY[0],
                "subscale": ANXIETY[1],
                "outcome_status": "complete" if complete else "no_endpoint",
                "baseline_score": baseline,
                "endpoint_score": baseline + CHANGES[change] if complete else None,
                "reliable_change": change,
                "jt_category": "recovered" if change == "improved" and i % 2 else None,
            }
        )
    return rows


def program(*groups: tuple) -> pl.DataFrame:
    """`marts.participant_outcomes` of a crafted program: one (site, cohort, modality, n) per group."""
    return pl.DataFrame([p for k, group in enumerate(groups) for p in people(*group, first=100 * k)])


def release_for(participants: pl.DataFrame, own_sites: tuple[str, ...] = ()) -> tuple[pl.DataFrame, object]:
    """A viewer's protected outcomes of a crafted program, and the table a reader rebuilds from them."""
    truth = cohort_outcomes(participants)
    atoms = participants.select("site_id", "cohort_id", "modality").unique()
    members = group_members(atoms, own_sites)
    own = participants.filter(pl.col("site_id").is_in(own_sites))
    known = cohort_outcomes(own) if own.height else None
    shown = suppress_outcomes(truth, 5, members, with_totals(known) if known is not None else None, RANGES)
    table = as_read(
        shown.to_dicts(), OUTCOMES, members, 5, with_totals(known).to_dicts() if known is not None else None, RANGES
    )
    return shown, table


def exposed(table) -> list:
    """The withheld figures the attacker narrows too far, with their feasible ranges."""
    ranges = feasible_ranges(table)
    return [
        (table.rows[r]["group_id"], c, ranges[(r, c)])
        for (r, c) in ranges
        if not wide_enough(table, (r, c), ranges[(r, c)])
    ]


def shown_row(frame: pl.DataFrame, grouping: str, group_id: str) -> dict:
    return frame.filter((pl.col("grouping") == grouping) & (pl.col("group_id") == group_id)).row(0, named=True)


# ---- the attacker's power: it finds what naive suppression leaves open


def test_the_attacker_works_out_a_small_site_that_only_its_own_cells_hide():
    participants = program(("north", "n1", "cbt", 30), ("south", "s1", "cbt", 30), ("tiny", "t1", "eft", 3))
    truth = cohort_outcomes(participants)
    members = group_members(participants.select("site_id", "cohort_id", "modality").unique())
    naive = truth.with_columns(  # only the small site's own cells withheld
        [
            pl.when(pl.col("group_id").is_in(["tiny", "t1", "eft"])).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("n_enrolled", "n_complete")
        ]
    ).to_dicts()
    for row in naive:
        row["small_counts"] = ["n_enrolled", "n_complete"] if row["group_id"] in ("tiny", "t1", "eft") else []
    table = as_read(naive, OUTCOMES, members, 5, None, RANGES)
    ranges = feasible_ranges(table)
    tiny = next(r for r, row in enumerate(table.rows) if row["group_id"] == "tiny")
    # 63 enrolled, 30 + 30 shown: the 3 at tiny follow, and its 2 completers (48 + 2 = 50 ... ) likewise
    assert ranges[(tiny, "n_enrolled")] == (3, 3)
    assert ranges[(tiny, "n_complete")] == (3, 3)


def test_the_attacker_works_out_a_small_groups_mean_from_rounded_means():
    # tiny's 3 completers (mean change 0.0): the program's 27 and north's 24, their means shown to two decimals,
    # leave tiny's total change within 27 × 0.005 + 24 × 0.005 of the truth, its mean within 0.085
    participants = program(("north", "n1", "cbt", 30), ("tiny", "t1", "cbt", 3))
    truth = cohort_outcomes(participants).filter(pl.col("grouping").is_in(["program", "site"]))
    members = group_members(participants.select("site_id", "cohort_id", "modality").unique())
    rows = {r["group_id"]: r for r in suppress_outcomes(truth, 0).to_dicts()}
    assert [rows[g]["n_complete"] for g in ("all", "north", "tiny")] == [27, 24, 3]
    assert rows["tiny"]["mean_change"] == 0.0
    rows["tiny"].update(n_complete=None, mean_change=None, mean_baseline=None, small_counts=["n_complete"])
    table = as_read(list(rows.values()), OUTCOMES, members, 5, None, RANGES)
    tiny = list(rows).index("tiny")
    ranges = feasible_ranges(table)
    assert ranges[(tiny, "n_complete")] == (3, 3)
    low, high = ranges[(tiny, "mean_change")]
    assert -0.086 < low <= 0.0 <= high < 0.086


# ---- crafted programs, protected and attacked


CRAFTED = {
    "a small site alone": (
        (
            ("north", "n1", "cbt", 40),
            ("north", "n2", "ipt", 30),
            ("south", "s1", "cbt", 35),
            ("south", "s2", "ipt", 30),
            ("tiny", "t1", "eft", 3),
        ),
        (),
    ),
    "a small site inside a shared cohort": (
        (("north", "n1", "cbt", 40), ("north", "n2", "ipt", 30), ("south", "s1", "cbt", 35), ("tiny", "n1", "cbt", 3)),
        (),
    ),
    "a small modality": (
        (("north", "n1", "cbt", 40), ("north", "n3", "eft", 2), ("south", "s1", "ipt", 35), ("south", "s3", "eft", 2)),
        (),
    ),
    "a clinician of a one-cohort site": (
        (("north", "n1", "cbt", 40), ("south", "s1", "cbt", 35), ("south", "s2", "ipt", 30), ("tiny", "t1", "ipt", 3)),
        ("north",),
    ),
    "a clinician beside a small site in their cohort": (
        (("north", "n1", "cbt", 40), ("north", "n2", "ipt", 30), ("south", "s1", "cbt", 35), ("tiny", "n1", "cbt", 3)),
        ("north",),
    ),
}


@pytest.mark.parametrize("case", CRAFTED)
def test_no_withheld_figure_is_narrowed_too_far(case):
    groups, own = CRAFTED[case]
    shown, table = release_for(program(*groups), own)
    assert any(table.states.values())  # something is withheld
    assert exposed(table) == []


@pytest.mark.parametrize("case", CRAFTED)
def test_the_program_keeps_its_flow(case):
    groups, own = CRAFTED[case]
    shown, _ = release_for(program(*groups), own)
    everyone = shown_row(shown, "program", "all")
    assert None not in [everyone[c] for c in ("n_enrolled", "n_complete", "n_no_baseline", "n_no_endpoint")]


def test_a_small_status_of_the_program_in_one_measure_is_protected_across_measures():
    # GAD-7: 2 of 78 without a baseline (and a small site, whose protection withholds other numbers enrolled).
    # Every other status of the program shown would give the 2 away; withholding the number enrolled would not,
    # since ECR-R's statuses give it: one of the other statuses is withheld instead.
    anxiety = program(("north", "n1", "cbt", 40), ("south", "s1", "ipt", 35), ("tiny", "t1", "eft", 3))
    lacking = pl.col("participant_id").is_in(["north-n1-0", "north-n1-1"])
    gad = anxiety.with_columns(
        instrument=pl.lit("GAD-7"),
        subscale=pl.lit("total"),
        outcome_status=pl.when(lacking).then(pl.lit("no_baseline")).otherwise("outcome_status"),
        **{c: pl.when(~lacking).then(c) for c in ("baseline_score", "reliable_change", "jt_category")},
    )
    participants = pl.concat([anxiety, gad])
    members = group_members(participants.select("site_id", "cohort_id", "modality").unique())
    ranges = RANGES | {("GAD-7", "total"): (0.0, 21.0)}
    shown = suppress_outcomes(cohort_outcomes(participants), 5, members, None, ranges)
    everyone = {row["instrument"]: row for row in shown.filter(pl.col("grouping") == "program").iter_rows(named=True)}
    assert everyone["GAD-7"]["small_counts"] == ["n_no_baseline"] and everyone["GAD-7"]["n_enrolled"] == 78
    statuses = ("n_complete", "n_no_endpoint", "n_not_yet_due")
    assert sum(everyone["GAD-7"][c] is None for c in statuses) == 1
    assert None not in [everyone["ECR-R"][c] for c in ("n_enrolled", *statuses)]
    assert exposed(as_read(shown.to_dicts(), OUTCOMES, members, 5, None, ranges)) == []


def test_a_small_site_shows_as_small_and_loses_its_statistics():
    shown, _ = release_for(program(*CRAFTED["a small site alone"][0]))
    tiny = shown_row(shown, "site", "tiny")
    assert (tiny["n_enrolled"], tiny["n_complete"], tiny["mean_change"], tiny["n_improved"]) == (None,) * 4
    assert {"n_enrolled", "n_complete"} <= set(tiny["small_counts"]) and tiny["is_suppressed"]


def test_a_clinicians_own_groups_are_shown_in_full():
    shown, _ = release_for(program(*CRAFTED["a clinician of a one-cohort site"][0]), ("north",))
    north = shown_row(shown, "site", "north")
    assert (north["n_enrolled"], north["n_complete"], north["n_improved"]) == (40, 32, 11)
    assert not north["is_suppressed"]


def test_a_cohort_releases_only_its_people_and_completers():
    shown, _ = release_for(program(*CRAFTED["a small site alone"][0]))
    cohort = shown_row(shown, "cohort", "n1")
    assert (cohort["n_enrolled"], cohort["n_complete"]) == (40, 32)
    assert [cohort[c] for c in ("n_improved", "n_no_endpoint", "n_recovered")] == [None] * 3


def test_an_admin_sees_every_figure():
    truth = cohort_outcomes(program(*CRAFTED["a small site alone"][0]))
    shown = suppress_outcomes(truth, 0)
    assert shown.select(pl.col("n_enrolled", "n_improved").null_count()).row(0) == (0, 0)
    assert not shown["is_suppressed"].any()


def test_an_intent_to_treat_figure_adding_only_a_few_non_completers_is_withheld():
    participants = program(("north", "n1", "cbt", 30), ("south", "s1", "cbt", 30))
    truth = cohort_outcomes(participants).with_columns(
        itt_change=pl.lit(-0.5),
        itt_ci_low=pl.lit(-0.8),
        itt_ci_high=pl.lit(-0.2),
        itt_participants=pl.col("n_complete") + pl.when(pl.col("group_id") == "north").then(2).otherwise(10),
    )
    members = group_members(participants.select("site_id", "cohort_id", "modality").unique())
    shown = suppress_outcomes(truth, 5, members, None, RANGES)
    assert shown_row(shown, "site", "north")["itt_change"] is None  # 2 more than its completers
    assert shown_row(shown, "site", "south")["itt_change"] == -0.5


def test_talking_therapies_withhold_a_small_count_and_its_rate():
    frame = pl.DataFrame(
        [
            {
                "grouping": "program",
                "group_id": "all",
                "n_with_both": 60,
                "n_cases": 40,
                "n_recovered": 20,
                "n_reliably_improved": 30,
                "n_reliably_recovered": 15,
                "recovery_rate": 0.5,
                "reliable_improvement_rate": 0.5,
                "reliable_recovery_rate": 0.375,
            },
        ]
    )
    shown = suppress_talking_therapies(frame, 5, {("program", "all"): frozenset({("a", "b", "c")})})
    assert shown.row(0, named=True)["n_recovered"] == 20 and not shown["is_suppressed"][0]
    small = frame.with_columns(n_reliably_recovered=pl.lit(3))
    row = suppress_talking_therapies(small, 5, {("program", "all"): frozenset({("a", "b", "c")})}).row(0, named=True)
    assert row["n_reliably_recovered"] is None and row["reliable_recovery_rate"] is None
    assert row["small_counts"] == ["n_reliably_recovered"] and row["recovery_rate"] == 0.5


@pytest.mark.parametrize(
    ("n", "published"), [(None, None), (0, "0"), (1, "*"), (7, "*"), (8, "10"), (12, "10"), (13, "15")]
)
def test_publication_rounding(n, published):
    assert publication_count(n) == published
