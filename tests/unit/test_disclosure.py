"""Small-cell suppression with complementary suppression (OUTCOMES.md §9)."""

import polars as pl

from transforms.disclosure import OUTCOME_COUNTS, publication_count, suppress_outcomes, suppress_talking_therapies


def row(grouping, group_id, **counts):
    base = dict.fromkeys(OUTCOME_COUNTS, 0)
    return {
        "grouping": grouping,
        "group_id": group_id,
        "instrument": "ECR-R",
        "subscale": "anxiety",
        **base,
        **counts,
        "mean_change": -0.4,
        "hedges_g": -0.3,
    }


def shown(frame: pl.DataFrame, group_id: str) -> dict:
    return frame.filter(pl.col("group_id") == group_id).row(0, named=True)


def test_a_small_category_and_its_smallest_partner_are_withheld():
    frame = pl.DataFrame(
        [
            row(
                "program",
                "all",
                n_enrolled=40,
                n_complete=30,
                n_improved=3,
                n_unchanged=20,
                n_deteriorated=7,
                n_not_yet_due=10,
            )
        ]
    )
    result = shown(suppress_outcomes(frame, 5), "all")
    # 3 improved is small; unchanged + deteriorated = complete would reveal it, so the smaller, 7, goes too
    assert (result["n_improved"], result["n_deteriorated"], result["n_unchanged"]) == (None, None, 20)
    assert result["mean_change"] == -0.4 and result["is_suppressed"]


def solvable(result: pl.DataFrame) -> list[str]:
    """Withheld counts that a single sum still gives away: a row's total against its parts, or the program's row
    against the groups of a grouping (worked out here independently of transforms/disclosure.py)."""
    rows, found = result.to_dicts(), []
    within = [
        ("n_complete", ["n_improved", "n_unchanged", "n_deteriorated"]),
        ("n_enrolled", ["n_complete", "n_no_baseline", "n_no_endpoint", "n_not_yet_due"]),
    ]
    for r in rows:
        for total, parts in within:
            if sum(r[c] is None for c in [total, *parts]) == 1:
                found.append(f"{r['group_id']}: {total} = {' + '.join(parts)}")
    program = next(r for r in rows if r["grouping"] == "program")
    for grouping in {r["grouping"] for r in rows} - {"program"}:
        for c in OUTCOME_COUNTS:
            if sum(v is None for v in [program[c], *(r[c] for r in rows if r["grouping"] == grouping)]) == 1:
                found.append(f"program {c} = the {grouping}s' {c}")
    return found


def test_a_small_group_loses_its_statistics_and_no_sum_gives_it_away():
    frame = pl.DataFrame(
        [
            row("program", "all", n_enrolled=53, n_complete=45, n_unchanged=45, n_not_yet_due=8),
            row("site", "north", n_enrolled=3, n_complete=3, n_unchanged=3),
            row("site", "south", n_enrolled=20, n_complete=17, n_unchanged=17, n_not_yet_due=3),
            row("site", "east", n_enrolled=30, n_complete=25, n_unchanged=25, n_not_yet_due=5),
        ]
    )
    result = suppress_outcomes(frame, 5)
    north, south, east = (shown(result, g) for g in ("north", "south", "east"))
    assert north["n_enrolled"] is None and north["mean_change"] is None and north["hedges_g"] is None
    # south's 17 completers hide north's 3 from the program's 45, so south's statistics go with them
    assert (south["n_complete"], south["n_unchanged"], south["mean_change"]) == (None, None, None)
    # east's 5 not yet due hide south's 3 from the program's 8; its enrolled total goes, so that 30 − 25 cannot
    # give them away, but its completers and their statistics stay
    assert (east["n_not_yet_due"], east["n_enrolled"], east["n_complete"], east["mean_change"]) == (
        None,
        None,
        25,
        -0.4,
    )
    assert shown(result, "all")["n_enrolled"] == 53 and not shown(result, "all")["is_suppressed"]
    assert solvable(result) == []


def test_the_counts_behind_every_category_are_protected_across_groups_too():
    # OUTCOMES §9 audit: the program's 20 completers less site b's 17 used to give site a's 3, and its mean
    frame = pl.DataFrame(
        [
            row("program", "all", n_enrolled=20, n_complete=20, n_improved=12, n_unchanged=8),
            row("site", "a", n_enrolled=3, n_complete=3, n_improved=1, n_unchanged=2),
            row("site", "b", n_enrolled=17, n_complete=17, n_improved=11, n_unchanged=6),
            row("modality", "cbt", n_enrolled=20, n_complete=20, n_improved=12, n_unchanged=8),
        ]
    )
    result = suppress_outcomes(frame, 5)
    assert solvable(result) == []
    assert shown(result, "b")["n_complete"] is None and shown(result, "b")["mean_change"] is None
    assert shown(result, "cbt")["n_complete"] == 20  # a modality of everyone hides nothing


def test_a_clinicians_own_groups_are_shown_in_full_and_never_hide_another_sites_cell():
    frame = pl.DataFrame(
        [
            row("program", "all", n_enrolled=43, n_complete=43, n_unchanged=43),
            row("site", "north", n_enrolled=40, n_complete=40, n_unchanged=40),
            row("site", "west", n_enrolled=3, n_complete=3, n_unchanged=3),
        ]
    )
    result = suppress_outcomes(frame, 5, own={("site", "north")})
    north, west, program = (shown(result, g) for g in ("north", "west", "all"))
    assert (north["n_complete"], north["mean_change"], north["is_suppressed"]) == (40, -0.4, False)
    assert west["n_complete"] is None and west["mean_change"] is None
    # with north in full, only the program's own figure can hide west's
    assert program["n_complete"] is None and program["n_unchanged"] is None


def test_the_cohorts_of_a_site_cannot_give_away_a_withheld_cohort():
    frame = pl.DataFrame(
        [
            row("program", "all", n_enrolled=70, n_complete=70, n_unchanged=70),
            row("site", "east", n_enrolled=70, n_complete=70, n_unchanged=70),
            row("cohort", "east-1", n_enrolled=40, n_complete=40, n_unchanged=40),
            row("cohort", "east-2", n_enrolled=28, n_complete=28, n_unchanged=28),
            row("cohort", "east-3", n_enrolled=2, n_complete=2, n_unchanged=2),
        ]
    )
    nested = {("site", "east"): ["east-1", "east-2", "east-3"]}
    result = suppress_outcomes(frame, 5, nested=nested)
    assert shown(result, "east-3")["n_enrolled"] is None
    assert shown(result, "east-2")["n_enrolled"] is None  # east's 70 less east-1's 40 would give east-3's 2
    assert shown(result, "east")["n_enrolled"] == 70


def test_nothing_is_withheld_when_every_cell_is_large_or_zero():
    frame = pl.DataFrame([row("program", "all", n_enrolled=50, n_complete=50, n_unchanged=50)])
    result = shown(suppress_outcomes(frame, 5), "all")
    assert not result["is_suppressed"] and result["n_improved"] == 0


def test_an_intent_to_treat_figure_adding_only_a_few_non_completers_is_withheld():
    itt = {"itt_change": -0.3, "itt_ci_low": -0.5, "itt_ci_high": -0.1}
    frame = pl.DataFrame(
        [
            row("cohort", "a", n_enrolled=12, n_complete=6, n_no_endpoint=6) | itt | {"itt_participants": 8},
            row("cohort", "b", n_enrolled=12, n_complete=6, n_no_endpoint=6) | itt | {"itt_participants": 12},
            row("cohort", "c", n_enrolled=6, n_complete=6, n_unchanged=6) | itt | {"itt_participants": 6},
        ]
    )
    result = suppress_outcomes(frame, 5)
    a, b, c = (shown(result, g) for g in "abc")
    # a: 2 more people than the completers, so the two figures side by side would tell which way those 2 went
    assert (a["itt_change"], a["itt_ci_low"], a["mean_change"], a["is_suppressed"]) == (None, None, -0.4, True)
    assert (b["itt_change"], c["itt_change"]) == (-0.3, -0.3)  # 6 more people; nobody more


def test_publication_rounding():
    assert [publication_count(n) for n in (0, 1, 7, 8, 12, 13, None)] == ["0", "*", "*", "10", "10", "15", None]


def tt(grouping, group_id, n_with_both, n_cases, n_recovered, n_reliably_improved, n_reliably_recovered):
    counts = dict(n_with_both=n_with_both, n_cases=n_cases, n_recovered=n_recovered)
    counts |= dict(n_reliably_improved=n_reliably_improved, n_reliably_recovered=n_reliably_recovered)
    rates = {
        "recovery_rate": n_recovered / n_cases,
        "reliable_improvement_rate": n_reliably_improved / n_with_both,
        "reliable_recovery_rate": n_reliably_recovered / n_cases,
    }
    return {"grouping": grouping, "group_id": group_id} | counts | rates


def test_talking_therapies_indicators_withhold_small_counts_their_complements_and_their_rates():
    frame = pl.DataFrame(
        [
            tt("program", "all", 140, 122, 25, 60, 20),
            tt("site", "east", 45, 39, 11, 20, 8),
            tt("site", "north", 45, 40, 8, 19, 6),
            tt("site", "south", 47, 41, 6, 20, 6),
            tt("site", "west", 3, 2, 0, 1, 0),
        ]
    )
    result = suppress_talking_therapies(frame, 8)
    west, south, program = (shown(result, g) for g in ("west", "south", "all"))
    # the program's 122 cases less the three large sites used to give west's 2
    assert (west["n_cases"], west["recovery_rate"], west["n_reliably_improved"]) == (None, None, None)
    assert west["n_recovered"] == 0 and west["is_suppressed"]
    assert south["n_recovered"] is None and south["recovery_rate"] is None  # 6 of 41: a small count
    assert program["recovery_rate"] == 25 / 122 and not program["is_suppressed"]
    for column in ("n_with_both", "n_cases", "n_recovered", "n_reliably_improved", "n_reliably_recovered"):
        assert sum(v is None for v in result[column]) != 1, column  # never one withheld cell in a sum
    north = shown(suppress_talking_therapies(frame, 8, own={("site", "north")}), "north")
    assert (north["n_recovered"], north["n_reliably_recovered"], north["is_suppressed"]) == (8, 6, False)


def test_a_talking_therapies_rate_shared_with_another_site_is_judged_by_the_people_beyond_a_clinicians_own():
    frame = pl.DataFrame(
        [
            tt("program", "all", 60, 52, 20, 30, 15),
            tt("site", "north", 30, 26, 10, 15, 8),
            tt("site", "south", 30, 26, 10, 15, 7),
            tt("modality", "cbt", 32, 28, 11, 16, 9),  # north's 30 and 2 from south
            tt("modality", "ipt", 28, 24, 9, 14, 6),
        ]
    )
    known = pl.DataFrame([tt(g, i, 30, 26, 10, 15, 8) for g, i in [("program", "all"), ("site", "north")]])
    known = pl.concat([known, pl.DataFrame([tt("modality", "cbt", 30, 26, 10, 15, 8)])])
    assert shown(suppress_talking_therapies(frame, 5), "cbt")["recovery_rate"] == 11 / 28  # to a program lead
    cbt = shown(suppress_talking_therapies(frame, 5, own={("site", "north")}, known=known), "cbt")
    # to north's clinician, cbt is their own 26 cases and 2 more: those two's recovery would show
    assert (cbt["n_cases"], cbt["recovery_rate"], cbt["reliable_recovery_rate"]) == (None, None, None)


def test_no_combination_of_sums_gives_a_small_count_away():
    # east and ipt are the same 39 people: east's figure used to show what ipt's withheld one was, and with it
    # the program less cbt less ipt gave group's (= south's) 3 deteriorated
    frame = pl.DataFrame(
        [
            row("program", "all", n_enrolled=80, n_complete=80, n_unchanged=72, n_deteriorated=8),
            row("site", "north", n_enrolled=41, n_complete=41, n_unchanged=41),
            row("site", "south", n_enrolled=20, n_complete=20, n_unchanged=17, n_deteriorated=3),
            row("site", "east", n_enrolled=19, n_complete=19, n_unchanged=14, n_deteriorated=5),
            row("modality", "cbt", n_enrolled=41, n_complete=41, n_unchanged=41),
            row("modality", "group", n_enrolled=20, n_complete=20, n_unchanged=17, n_deteriorated=3),
            row("modality", "ipt", n_enrolled=19, n_complete=19, n_unchanged=14, n_deteriorated=5),
        ]
    )
    alike = [[("modality", "cbt"), ("site", "north")], [("modality", "group"), ("site", "south")]]
    alike.append([("modality", "ipt"), ("site", "east")])
    result = suppress_outcomes(frame, 5, alike=alike)
    pairs = [("north", "cbt"), ("south", "group"), ("east", "ipt")]
    for site, modality in pairs:  # the same people: the same figures shown and withheld
        assert shown(result, site)["n_deteriorated"] == shown(result, modality)["n_deteriorated"]
    assert shown(result, "south")["n_deteriorated"] is None and shown(result, "east")["n_deteriorated"] is None


def test_a_groups_enrolled_count_is_withheld_in_every_measure_or_none():
    def measure(instrument, no_endpoint):
        rows = [row("program", "all", n_enrolled=46, n_complete=46 - no_endpoint, n_no_endpoint=no_endpoint)]
        rows += [row("site", "a", n_enrolled=6, n_complete=6 - no_endpoint, n_no_endpoint=no_endpoint)]
        rows += [row("site", "b", n_enrolled=40, n_complete=40, n_unchanged=40)]
        return [r | {"instrument": instrument} for r in rows]

    # under GAD-7, a's 1 without an endpoint takes a's 6 enrolled with it; RSES must not show those 6 either
    result = suppress_outcomes(pl.DataFrame(measure("GAD-7", 1) + measure("RSES", 0)), 5)
    enrolled = result.filter(pl.col("group_id") == "a")["n_enrolled"].to_list()
    assert enrolled == [None, None]


def test_a_group_shared_with_another_site_is_judged_by_the_people_a_clinician_does_not_see():
    # cohort "mixed" is taught at north (9 completers, the clinician's own, seen one by one) and south (1)
    frame = pl.DataFrame(
        [
            row("program", "all", n_enrolled=40, n_complete=40, n_unchanged=40),
            row("site", "north", n_enrolled=9, n_complete=9, n_unchanged=9),
            row("site", "south", n_enrolled=31, n_complete=31, n_unchanged=31),
            row("cohort", "mixed", n_enrolled=10, n_complete=10, n_unchanged=10),
            row("cohort", "south-only", n_enrolled=30, n_complete=30, n_unchanged=30),
            row("modality", "cbt", n_enrolled=10, n_complete=10, n_unchanged=10),
            row("modality", "ipt", n_enrolled=30, n_complete=30, n_unchanged=30),
        ]
    )
    known = pl.DataFrame(
        [
            row("program", "all", n_enrolled=9, n_complete=9, n_unchanged=9),
            row("site", "north", n_enrolled=9, n_complete=9, n_unchanged=9),
            row("cohort", "mixed", n_enrolled=9, n_complete=9, n_unchanged=9),
            row("modality", "cbt", n_enrolled=9, n_complete=9, n_unchanged=9),
        ]
    )
    as_lead = suppress_outcomes(frame, 5)
    assert shown(as_lead, "mixed")["n_complete"] == 10  # to a program lead, ten people
    as_clinician = suppress_outcomes(frame, 5, own={("site", "north")}, known=known)
    # to north's clinician, one south participant: 10 − their own 9
    mixed, cbt = shown(as_clinician, "mixed"), shown(as_clinician, "cbt")
    assert (mixed["n_complete"], mixed["mean_change"], mixed["small_counts"]) == (
        None,
        None,
        ["n_complete", "n_enrolled", "n_unchanged"],
    )
    assert cbt["n_complete"] is None and cbt["mean_change"] is None
    assert shown(as_clinician, "north")["n_complete"] == 9 and shown(as_clinician, "all")["n_complete"] == 40
    # the program's 31 others are the two cohorts': south-only goes too, or it would give away mixed's one
    assert shown(as_clinician, "south-only")["n_complete"] is None and shown(as_clinician, "south")["n_complete"] == 31


def test_a_group_of_only_a_clinicians_own_completers_keeps_its_statistics():
    frame = pl.DataFrame([row("cohort", "mixed", n_enrolled=12, n_complete=9, n_unchanged=9, n_no_endpoint=3)])
    known = pl.DataFrame([row("cohort", "mixed", n_enrolled=9, n_complete=9, n_unchanged=9)])
    result = shown(suppress_outcomes(frame, 5, known=known), "mixed")
    # the three others have no endpoint, a count withheld with its complement; the mean is of the viewer's own nine
    assert result["mean_change"] == -0.4 and result["n_no_endpoint"] is None
