"""Scope and suppression are enforced in the data layer (dashboard/scope.py and queries.py), whatever a page asks."""

import os
import shutil
from datetime import UTC, date, datetime

import duckdb
import polars as pl
import pytest

from dashboard import queries, scope
from dashboard.scope import Filters, NotInScope, Viewer, Warehouse
from pipelines.generate import SAMPLE_AS_OF
from securebase.attempts import attempts_file
from transforms.attack import as_read, feasible_ranges, wide_enough
from transforms.disclosure import OUTCOME_COUNTS, OUTCOME_STATISTICS, OUTCOMES, TALKING_THERAPIES, group_members
from transforms.talking_therapies import talking_therapies

NORTH = Viewer("clinician", ("north",))
LEAD = Viewer("program_lead", min_cell=8)  # a larger cell size makes some of the sample's cohorts small


@pytest.fixture
def warehouse(sample_warehouse):
    return Warehouse.at(sample_warehouse)


def cohorts_of(sample_warehouse, site):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        return [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT cohort_id FROM marts.participants WHERE site_id = ? ORDER BY 1", [site]
            ).fetchall()
        ]


def test_a_clinician_gets_no_row_of_another_site_from_any_participant_query(warehouse, sample_warehouse):
    south_cohort = cohorts_of(sample_warehouse, "south")[0]
    assert queries.cohorts_in_scope(warehouse, NORTH) == cohorts_of(sample_warehouse, "north")
    for query in (queries.participant_outcomes, queries.participant_scores, queries.alerts):
        assert query(warehouse, NORTH, south_cohort).is_empty(), query.__name__
    north_cohort = cohorts_of(sample_warehouse, "north")[0]
    own = queries.participant_outcomes(warehouse, NORTH, north_cohort)
    assert own.height > 0 and set(own["site_id"]) == {"north"}


def test_a_program_lead_gets_no_participant_rows(warehouse, sample_warehouse):
    cohort = cohorts_of(sample_warehouse, "north")[0]
    for query in (queries.participant_outcomes, queries.participant_scores, queries.alerts):
        with pytest.raises(NotInScope):
            query(warehouse, LEAD, cohort)
    with pytest.raises(NotInScope):
        queries.cohorts_in_scope(warehouse, LEAD)


def completers_in(path, cohort, site, instrument="ECR-R", subscale="anxiety") -> pl.DataFrame:
    """What the Jacobson–Truax scatter may show of one site's part of a cohort, read straight from the mart."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(
            "SELECT participant_id, baseline_score, endpoint_score, jt_category FROM marts.participant_outcomes "
            "WHERE cohort_id = $1 AND site_id = $2 AND instrument = $3 AND subscale = $4 "
            "AND outcome_status = 'complete' ORDER BY participant_id",
            params=[cohort, site, instrument, subscale],
        ).pl()


def test_the_scatter_gets_a_clinicians_own_completers_with_their_measures_parameters(warehouse, sample_warehouse):
    north_cohort, south_cohort = cohorts_of(sample_warehouse, "north")[-2], cohorts_of(sample_warehouse, "south")[-2]
    own = queries.cohort_completers(warehouse, NORTH, north_cohort, "ECR-R", "anxiety")
    expected = completers_in(sample_warehouse, north_cohort, "north")
    assert own.height >= 5 and own.equals(expected)  # the real scores and categories, every completer
    assert set(own["jt_category"]) <= {"recovered", "improved", "unchanged", "deteriorated", "harmed"}
    assert queries.cohort_completers(warehouse, NORTH, south_cohort, "ECR-R", "anxiety").is_empty()
    south = queries.cohort_completers(warehouse, Viewer("admin"), south_cohort, "GAD-7", "total")
    assert south.equals(completers_in(sample_warehouse, south_cohort, "south", "GAD-7", "total"))
    with pytest.raises(NotInScope):
        queries.cohort_completers(warehouse, LEAD, north_cohort, "ECR-R", "anxiety")
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        [(band, cutoff)] = con.execute(
            "SELECT min_reliable_change, cutoff FROM marts.outcome_parameters WHERE instrument = 'ECR-R' "
            "AND subscale = 'anxiety'"
        ).fetchall()
    ecr = queries.measure_parameters(warehouse, "ECR-R", "anxiety")
    assert (ecr["min_reliable_change"], ecr["cutoff"], ecr["score_range"]) == (band, cutoff, (1, 7))
    assert ecr["direction"] == "lower_is_better" and 0 < band < 6
    gad = queries.measure_parameters(warehouse, "GAD-7", "total")
    assert (gad["min_reliable_change"], gad["cutoff"], gad["score_range"]) == (4, 8, (0, 21))
    assert queries.measure_parameters(warehouse, "GAD-7", "nothing") == dict.fromkeys(
        ["min_reliable_change", "cutoff", "direction", "score_range"]
    )


def test_the_scatter_of_a_cohort_taught_at_two_sites_shows_a_clinician_their_own_part(shared_cohort):
    path, cohort = shared_cohort
    warehouse = Warehouse.at(path)
    north = queries.cohort_completers(warehouse, NORTH, cohort, "ECR-R", "anxiety")
    assert north.height > 0 and north.equals(completers_in(path, cohort, "north"))
    south = queries.cohort_completers(warehouse, Viewer("clinician", ("south",)), cohort, "ECR-R", "anxiety")
    assert south.equals(completers_in(path, cohort, "south"))
    assert not set(north["participant_id"]) & set(south["participant_id"])
    every = queries.cohort_completers(warehouse, Viewer("admin"), cohort, "ECR-R", "anxiety")
    assert sorted(every["participant_id"]) == sorted([*north["participant_id"], *south["participant_id"]])


def test_a_program_lead_never_receives_a_figure_about_fewer_than_min_cell_people(warehouse, sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        true_sizes = con.sql(
            "SELECT grouping, group_id, instrument, subscale, n_complete AS true_n_complete FROM marts.cohort_outcomes"
        ).pl()
    for instrument, subscale in [("ECR-R", "anxiety"), ("GAD-7", "total"), ("RSES", "total")]:
        groups = scope.group_outcomes(warehouse, LEAD, instrument, subscale).join(
            true_sizes, on=["grouping", "group_id", "instrument", "subscale"]
        )
        assert groups["is_suppressed"].any()  # the sample has small cohorts at this cell size
        for column in OUTCOME_COUNTS:
            shown = groups[column].drop_nulls()
            assert ((shown == 0) | (shown >= LEAD.min_cell)).all(), column
        small = groups.filter(pl.col("true_n_complete") < LEAD.min_cell)
        assert small.height > 0
        assert small.select(OUTCOME_STATISTICS).null_count().row(0) == (small.height,) * len(OUTCOME_STATISTICS)
    assert (queries.cohort_trajectories(warehouse, LEAD)["n"] >= LEAD.min_cell).all()
    for frame, column in [
        (queries.exercise_effects(warehouse, LEAD), "participants"),
        (queries.practice_by_week(warehouse, LEAD), "participants"),
        (queries.dose_response(warehouse, LEAD), "n"),
        (scope.talking_therapies(warehouse, LEAD), "n_cases"),
    ]:
        assert (frame[column] >= LEAD.min_cell).all()


def sums_giving_away_a_withheld_count(groups: pl.DataFrame, nested: dict) -> list[str]:
    """Each sum of shown figures with exactly one withheld cell: a row's parts, a grouping against the program, the
    cohorts of a site or modality against it (nested)."""
    rows, found = groups.to_dicts(), []
    by_key = {(r["grouping"], r["group_id"]): r for r in rows}
    sums = [
        (by_key[("program", "all")], [r for r in rows if r["grouping"] == grouping])
        for grouping in ("site", "cohort", "modality")
    ] + [
        (by_key[key], [by_key[("cohort", c)] for c in cohorts if ("cohort", c) in by_key])
        for key, cohorts in nested.items()
    ]
    for total, parts in sums:
        for column in OUTCOME_COUNTS:
            if sum(r[column] is None for r in [total, *parts]) == 1:
                found.append(f"{total['group_id']} {column}")
    for r in rows:
        for total, parts in [
            ("n_complete", ["n_improved", "n_unchanged", "n_deteriorated"]),
            ("n_enrolled", ["n_complete", "n_no_baseline", "n_no_endpoint", "n_not_yet_due"]),
        ]:
            if sum(r[c] is None for c in [total, *parts]) == 1:
                found.append(f"{r['group_id']} {total}")
    return found


@pytest.mark.parametrize("viewer", [LEAD, Viewer("program_lead"), Viewer("clinician", ("north",), min_cell=8)])
def test_no_withheld_count_can_be_worked_out_by_subtraction(warehouse, viewer):
    atoms = group_members(scope.read(warehouse, "SELECT DISTINCT site_id, cohort_id, modality FROM marts.participants"))
    nested = {  # the cohorts wholly within each site and modality
        group: [c for (grouping, c), theirs in atoms.items() if grouping == "cohort" and theirs <= mine]
        for group, mine in atoms.items()
        if group[0] in ("site", "modality")
    }
    assert ("site", "north") in nested and ("modality", "cbt") in nested
    for instrument, subscale in [("ECR-R", "anxiety"), ("GAD-7", "total"), ("RSES", "total")]:
        groups = scope.group_outcomes(warehouse, viewer, instrument, subscale)
        assert groups.select(OUTCOME_COUNTS).null_count().sum_horizontal().item() > 0  # something is withheld
        assert sums_giving_away_a_withheld_count(groups, nested) == []


@pytest.mark.parametrize("viewer", [Viewer("program_lead"), LEAD, Viewer("clinician", ("north",))])
def test_a_solver_given_the_whole_release_narrows_no_withheld_figure_too_far(warehouse, viewer):
    """Every table of the viewer's release, read as a reader would (its shown figures, "<5" and "withheld"), and
    attacked with every sum, bound and mean the structure gives (transforms/attack.py)."""
    shown = scope.release(warehouse, viewer)
    atoms = scope.read(warehouse, "SELECT DISTINCT site_id, cohort_id, modality FROM marts.participants")
    members = group_members(atoms, viewer.sites if viewer.role == "clinician" else ())
    known = known_tt = None
    if viewer.role == "clinician":
        own = scope.own_outcomes(warehouse, viewer)
        known, known_tt = scope.known_to(warehouse, viewer, own).to_dicts(), talking_therapies(own).to_dicts()
    tables = [
        as_read(shown.outcomes.to_dicts(), OUTCOMES, members, viewer.min_cell, known, scope.score_ranges(warehouse)),
        as_read(shown.talking_therapies.to_dicts(), TALKING_THERAPIES, members, viewer.min_cell, known_tt),
    ]
    assert any(tables[0].states.values())  # something is withheld
    for table in tables:
        ranges = feasible_ranges(table)
        assert [cell for cell, bounds in ranges.items() if not wide_enough(table, cell, bounds)] == []


@pytest.mark.parametrize(
    ("query", "key", "people"),
    [(queries.intake_trend, ["intake_month"], "n"), (queries.practice_by_week, ["week", "exercise"], "participants")],
)
def test_choosing_sites_with_and_without_one_never_gives_away_a_small_cell(warehouse, query, key, people):
    sites = tuple(queries.filter_choices(warehouse)["sites"])
    everything = query(warehouse, LEAD, Filters())
    assert everything.height > 0
    for site in sites:
        rest = query(warehouse, LEAD, Filters(sites=tuple(s for s in sites if s != site)))
        given_away = everything.join(rest, on=key, suffix="_rest").select(pl.col(people) - pl.col(f"{people}_rest"))
        assert given_away.filter(pl.col(people).is_between(1, LEAD.min_cell - 1)).is_empty(), site


def test_a_clinician_sees_their_own_groups_in_full_and_others_withheld(warehouse):
    strict_north = Viewer("clinician", ("north",), min_cell=8)
    groups = scope.group_outcomes(warehouse, strict_north, "ECR-R", "anxiety")
    own = groups.filter(pl.col("group_id").str.starts_with("north"))
    assert own.height > 1 and not own["is_suppressed"].any()
    assert groups.filter(~pl.col("group_id").str.starts_with("north") & (pl.col("grouping") == "cohort"))[
        "is_suppressed"
    ].any()


def test_cached_answers_never_cross_viewers(warehouse, sample_warehouse):
    south = Viewer("clinician", ("south",))
    north_cohort = cohorts_of(sample_warehouse, "north")[0]
    assert queries.participant_outcomes(warehouse, NORTH, north_cohort).height > 0
    assert queries.participant_outcomes(warehouse, south, north_cohort).is_empty()  # same arguments but the viewer


def test_filters_narrow_every_query_and_travel_as_parameters(warehouse):
    from dashboard.queries import Filters

    north = Filters(sites=("north",))
    assert set(queries.cohort_trajectories(warehouse, Viewer("program_lead"), north)["site_id"]) == {"north"}
    assert all(c.startswith("north") for c in queries.cohorts_matching(warehouse, north))
    assert (
        queries.practice_by_week(warehouse, LEAD, north)["practices"].sum()
        < queries.practice_by_week(warehouse, LEAD)["practices"].sum()
    )
    hostile = Filters(sites=("north'); DROP TABLE marts.participants; --",))
    assert queries.cohorts_matching(warehouse, hostile) == []  # a value, never SQL
    assert queries.cohorts_matching(warehouse, Filters()) != []
    gad = queries.cohort_trajectories(warehouse, LEAD, Filters("GAD-7", "total"))
    assert gad["mean_score"].max() <= 21  # GAD-7 totals, not ECR-R means


def test_the_intake_trend_is_made_of_the_whole_cohorts_a_viewer_is_shown(warehouse):
    lead = Viewer("program_lead")
    trend = queries.intake_trend(warehouse, lead)
    assert trend.height >= 2 and trend["intake_month"].is_sorted()
    assert (trend["ci_low"] < trend["mean_change"]).all() and (trend["mean_change"] < trend["ci_high"]).all()
    for viewer in (lead, LEAD):
        cohorts = scope.group_outcomes(warehouse, viewer, "ECR-R", "anxiety").filter(pl.col("grouping") == "cohort")
        shown = cohorts.filter(pl.col("mean_change").is_not_null() & pl.col("n_complete").is_not_null())
        trend = queries.intake_trend(warehouse, viewer)
        # every completer of every shown cohort, and no one else: a month is a sum of rows the viewer already has
        assert trend["n"].sum() == shown["n_complete"].sum()
        total = (trend["n"] * trend["mean_change"]).sum()
        released = (shown["n_complete"] * shown["mean_change"]).sum()  # its means rounded to two decimals
        assert total == pytest.approx(released, abs=0.005 * shown["n_complete"].sum())
    assert cohorts["mean_change"].null_count() > 0  # at LEAD's cell size some cohorts are withheld, and left out
    admin = queries.intake_trend(warehouse, Viewer("admin"))
    assert admin["n"].sum() > queries.intake_trend(warehouse, LEAD)["n"].sum()


def test_a_cohort_trajectory_is_the_same_whatever_the_filters_or_absent(shared_cohort):
    warehouse = Warehouse.at(shared_cohort[0])
    everything = queries.cohort_trajectories(warehouse, LEAD)
    modalities = tuple(queries.filter_choices(warehouse)["modalities"])
    narrowings = [Filters(modalities=(m,)) for m in modalities] + [Filters(sites=("north",)), Filters(sites=("south",))]
    for filters in narrowings:
        narrowed = queries.cohort_trajectories(warehouse, LEAD, filters)
        same = narrowed.join(everything, on=["cohort_id", "site_id", "week"], suffix="_all")
        assert same.height == narrowed.height, filters
        assert (same["n"] == same["n_all"]).all(), filters
        assert ((same["mean_score"] - same["mean_score_all"]).abs() < 1e-9).all(), filters  # summed in another order
    # the cohort of two modalities is shown under no single modality
    with duckdb.connect(str(shared_cohort[0]), read_only=True) as con:
        (mixed,) = con.execute(
            "SELECT cohort_id FROM marts.participants GROUP BY 1 HAVING count(DISTINCT modality) > 1"
        ).fetchone()
    admin = Viewer("admin")  # who is shown every cohort the filters leave whole
    assert mixed in queries.cohort_trajectories(warehouse, admin)["cohort_id"].to_list()
    for m in modalities:
        assert mixed not in queries.cohort_trajectories(warehouse, admin, Filters(modalities=(m,)))["cohort_id"]


def test_a_cohort_trajectory_is_its_scores_read_straight_from_the_assessments(shared_cohort):
    """Each row is the mean and count of its people's scores that week, however many sites and modalities their
    cells span: a whole cohort for a lead (at a cell size of 1, which withholds nothing), a cohort's site for an
    admin."""
    path, cohort = shared_cohort
    warehouse = Warehouse.at(path)

    def direct(by_site: bool) -> pl.DataFrame:
        site = "p.site_id" if by_site else "string_agg(DISTINCT p.site_id, ', ' ORDER BY p.site_id) OVER ()"
        with duckdb.connect(str(path), read_only=True) as con:
            return con.sql(
                f"""
                SELECT site_id, week, count(DISTINCT participant_id) AS n, avg(score) AS mean_score
                FROM (SELECT {site} AS site_id, a.* FROM marts.assessments AS a
                    JOIN marts.participants AS p USING (participant_id) WHERE p.cohort_id = ?)
                WHERE instrument = 'ECR-R' AND subscale = 'anxiety' AND score IS NOT NULL AND week BETWEEN 0 AND 10
                GROUP BY ALL ORDER BY ALL
                """,
                params=[cohort],
            ).pl()

    for viewer, by_site in ((Viewer("program_lead", min_cell=1), False), (Viewer("admin"), True)):
        shown = queries.cohort_trajectories(warehouse, viewer).filter(pl.col("cohort_id") == cohort)
        expected = direct(by_site)
        counts = ["site_id", "week", "n"]
        assert expected.height >= 11 and shown.select(counts).equals(expected.select(counts))
        assert (shown["mean_score"] - expected["mean_score"]).abs().max() < 1e-12


def test_dose_response_tertiles_are_shown_together_or_not_at_all(warehouse):
    every = queries.dose_response(warehouse, Viewer("admin"))
    tertiles = every.filter(pl.col("practice_group") != "all")
    assert tertiles.height == 3
    smallest = tertiles["n"].min()
    assert queries.dose_response(warehouse, Viewer("program_lead", min_cell=smallest)).height == 4
    strict = queries.dose_response(warehouse, Viewer("program_lead", min_cell=smallest + 1))
    assert strict["practice_group"].to_list() == ["all"]  # else the withheld tertile is `all` less the other two


def own_and_beyond(sample_warehouse, sql: str) -> dict[str, tuple[int, int]]:
    """Per row of a program-wide page, north's people in it and the others (from `sql`: key, people, north's)."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        return {key: (own, people - own) for key, people, own in con.execute(sql).fetchall()}


def test_a_clinician_is_shown_no_exercise_whose_other_people_are_few(warehouse, sample_warehouse):
    rows = own_and_beyond(
        sample_warehouse,
        """
        SELECT e.exercise, any_value(e.participants), count(DISTINCT x.participant_id) FILTER (
            WHERE p.site_id = 'north' AND x.distress_before IS NOT NULL AND x.distress_after IS NOT NULL)
        FROM marts.exercise_effects AS e JOIN marts.practices AS x USING (exercise)
            JOIN marts.participants AS p USING (participant_id)
        GROUP BY 1
        """,
    )
    exercise, (own, fewest) = min(rows.items(), key=lambda row: row[1][1])
    assert own > 0  # north's people are there: a clinician who knows them would see the others' drop
    min_cell = fewest + 1  # the exercise has enough people, but too few beyond north
    lead = queries.exercise_effects(warehouse, Viewer("program_lead", min_cell=min_cell))
    assert exercise in lead["exercise"].to_list() and lead.height == len(rows)
    north = queries.exercise_effects(warehouse, Viewer("clinician", ("north",), min_cell=min_cell))
    assert exercise not in north["exercise"].to_list()
    assert set(north["exercise"]) == {e for e, (_, beyond) in rows.items() if beyond >= min_cell}


def test_a_clinician_is_shown_no_tertile_whose_other_people_are_few(warehouse, sample_warehouse):
    rows = own_and_beyond(
        sample_warehouse,
        """
        WITH own AS (  -- north's completers and their practice minutes in weeks 0-10
            SELECT o.participant_id, coalesce(sum(e.minutes) FILTER (WHERE e.week BETWEEN 0 AND 10), 0) AS minutes
            FROM marts.participant_outcomes AS o LEFT JOIN marts.exercise_engagement AS e USING (participant_id)
            WHERE o.site_id = 'north' AND o.instrument = 'ECR-R' AND o.subscale = 'anxiety'
                AND o.outcome_status = 'complete'
            GROUP BY 1
        )
        SELECT d.practice_group, d.n, count(own.participant_id)
        FROM marts.dose_response AS d LEFT JOIN own ON own.minutes BETWEEN d.minutes_min AND d.minutes_max
        GROUP BY ALL
        """,
    )
    fewest = min(beyond for group, (_, beyond) in rows.items() if group != "all")
    min_cell = fewest + 1
    assert queries.dose_response(warehouse, Viewer("program_lead", min_cell=min_cell)).height == 4
    north = queries.dose_response(warehouse, Viewer("clinician", ("north",), min_cell=min_cell))
    assert north["practice_group"].to_list() == ["all"] and rows["all"][1] >= min_cell
    assert "minutes_max" not in north.columns  # the ends of a range of minutes are one person's minutes each


def test_a_trajectory_beyond_ones_own_sites_is_a_whole_cohort_its_release_shows(shared_cohort):
    path, cohort = shared_cohort
    warehouse, lead = Warehouse.at(path), Viewer("program_lead")
    with duckdb.connect(str(path), read_only=True) as con:
        sites = dict(
            con.execute(
                "SELECT cohort_id, string_agg(DISTINCT site_id, ', ' ORDER BY site_id) FROM marts.participants "
                "GROUP BY 1"
            ).fetchall()
        )
    assert sites[cohort] == "north, south"
    cohorts = scope.group_outcomes(warehouse, lead, "ECR-R", "anxiety").filter(pl.col("grouping") == "cohort")
    whole = cohorts.drop_nulls(["n_enrolled", "n_complete", "mean_baseline", "mean_change"])["group_id"].to_list()
    shown = queries.cohort_trajectories(warehouse, lead)
    assert shown.height > 0 and set(shown["cohort_id"]) <= set(whole)
    assert all(sites[c] == s for c, s in shown.select("cohort_id", "site_id").unique().rows())  # no part alone
    north = queries.cohort_trajectories(warehouse, NORTH).filter(pl.col("cohort_id") == cohort)
    assert north.height > 0 and set(north["site_id"]) == {"north"}  # their own part, never the cohort whole
    admin = queries.cohort_trajectories(warehouse, Viewer("admin")).filter(pl.col("cohort_id") == cohort)
    assert set(admin["site_id"]) == {"north", "south"}


@pytest.mark.parametrize("role", ["", "nobody", "Admin", "lead"])
def test_an_unknown_role_is_refused_before_any_query(role):
    with pytest.raises(NotInScope):
        Viewer(role)


@pytest.fixture(scope="module")
def shared_cohort(prefect_server, tmp_path_factory):
    """The sample program with two of a north cohort's participants moved to south (a cohort taught at two sites),
    and one of a south cohort's to another modality (a cohort of two modalities)."""
    import shutil

    from pipelines.flows import refresh
    from pipelines.generate import SAMPLE_AS_OF
    from tests.conftest import SAMPLE_DATA

    root = tmp_path_factory.mktemp("shared")
    shutil.copytree(SAMPLE_DATA, root / "inbox")
    roster = pl.concat(pl.read_csv(f, infer_schema=False) for f in sorted((root / "inbox").glob("participants*.csv")))
    cohort = roster.filter(pl.col("site_id") == "north")["cohort_id"].sort()[0]
    moved = roster.filter(pl.col("cohort_id") == cohort).sort("participant_id").head(2)
    south = roster.filter(pl.col("site_id") == "south").sort("cohort_id", "participant_id").head(1)
    other = "ipt" if south["modality"][0] != "ipt" else "cbt"
    pl.concat([moved.with_columns(site_id=pl.lit("south")), south.with_columns(modality=pl.lit(other))]).write_csv(
        root / "inbox" / "participants_zz_moves.csv"
    )
    refresh(inbox=root / "inbox", warehouse=root / "w.duckdb", as_of=SAMPLE_AS_OF)
    return root / "w.duckdb", cohort


def test_a_group_shared_with_another_site_never_gives_a_clinician_a_few_of_its_people(shared_cohort):
    path, cohort = shared_cohort
    with duckdb.connect(str(path), read_only=True) as con:
        sites = con.execute("SELECT DISTINCT site_id FROM marts.participants WHERE cohort_id = ?", [cohort]).fetchall()
        assert sorted(sites) == [("north",), ("south",)]
        theirs = con.sql(
            "SELECT cohort_id, modality, instrument, subscale, outcome_status FROM marts.participant_outcomes "
            "WHERE site_id = 'north'"
        ).pl()
    complete = theirs.filter(pl.col("outcome_status") == "complete")
    checked = 0
    for instrument, subscale in [("ECR-R", "anxiety"), ("GAD-7", "total")]:
        groups = scope.group_outcomes(Warehouse.at(path), NORTH, instrument, subscale)
        for row in groups.filter(pl.col("grouping").is_in(["cohort", "modality"])).iter_rows(named=True):
            column = "cohort_id" if row["grouping"] == "cohort" else "modality"
            own = complete.filter(
                (pl.col(column) == row["group_id"])
                & (pl.col("instrument") == instrument)
                & (pl.col("subscale") == subscale)
            ).height
            if row["n_complete"] is not None and own:
                checked += 1
                others = row["n_complete"] - own
                assert others == 0 or others >= NORTH.min_cell, (row["group_id"], others)
            if row["grouping"] == "cohort" and row["group_id"] == cohort:
                assert row["mean_change"] is None or row["n_complete"] - own >= NORTH.min_cell
    assert checked > 0


LONDON_SUMMER = queries.Operations(date(2026, 7, 20), "Europe/London", None)  # the as-of day began 2026-07-19 23:00 UTC


@pytest.mark.parametrize(
    ("now", "is_stale", "days_old"),
    [
        (datetime(2026, 7, 21, 10, 59, tzinfo=UTC), False, 1),  # 35 h 59 min after the day began
        (datetime(2026, 7, 21, 11, 1, tzinfo=UTC), True, 1),  # 36 h 1 min
        (datetime(2026, 7, 22, 22, 59, tzinfo=UTC), True, 2),  # 23:59 BST on the 22nd
        (datetime(2026, 7, 22, 23, 30, tzinfo=UTC), True, 3),  # 00:30 BST on the 23rd
    ],
)
def test_data_are_stale_once_the_as_of_day_began_longer_ago_than_allowed(now, is_stale, days_old):
    assert LONDON_SUMMER.is_stale(now, 36) is is_stale
    assert LONDON_SUMMER.days_old(now) == days_old
    assert not queries.Operations(None, "UTC", None).is_stale(now, 36)  # nothing published yet


def test_a_publish_is_read_at_once_while_the_replaced_version_is_still_open(tmp_path):
    """The pages share one connection per version; DuckDB would give a second connection to the same path the file it
    already has open, the replaced one."""
    published, built = tmp_path / "w.duckdb", tmp_path / "w.duckdb.next"
    for path, value in ((published, 1), (built, 2)):
        with duckdb.connect(str(path)) as con:
            con.execute(f"CREATE SCHEMA ops; CREATE TABLE ops.refreshes AS SELECT {value} AS refresh_id")
    before = Warehouse.at(published)
    assert scope.read(before, "SELECT refresh_id FROM ops.refreshes")["refresh_id"].to_list() == [1]
    old_connection = scope.connection(before)  # still open, as for a session that is mid-query
    os.utime(built, ns=(published.stat().st_mtime_ns + 10**9,) * 2)
    os.replace(built, published)  # as a refresh publishes
    after = Warehouse.at(published)
    assert after != before
    assert scope.read(after, "SELECT refresh_id FROM ops.refreshes")["refresh_id"].to_list() == [2]
    assert old_connection.sql("SELECT refresh_id FROM warehouse.ops.refreshes").fetchall() == [(1,)]


def test_a_failure_after_the_last_publish_is_the_one_reported(sample_warehouse, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE ops.refreshes SET finished_at = '2026-07-20 02:00:00+00', timezone = 'Europe/London'")
    assert queries.operations(Warehouse.at(warehouse)).failure is None
    lines = [
        '{"failed_at": "2026-07-19T02:00:00+00:00", "as_of_date": "2026-07-19", "kind": "crash", "reason": "before"}',
        '{"failed_at": "2026-07-21T01:05:00+00:00", "kind": "lock_held", "reason": "after"}',
    ]
    for count, expected in ((1, None), (2, "after")):
        attempts_file(warehouse).write_text("".join(f"{line}\n" for line in lines[:count]))
        status = queries.operations(Warehouse.at(warehouse))  # the attempts file's change is read at once
        assert (status.as_of_date, status.timezone) == (SAMPLE_AS_OF, "Europe/London")
        assert (status.failure and status.failure.reason) == expected
    assert f"{status.failed_at():%Y-%m-%d %H:%M %Z}" == "2026-07-21 02:05 BST"


def test_dose_response_follows_the_chosen_measure(warehouse, sample_warehouse):
    admin = Viewer("admin")
    gad = queries.dose_response(warehouse, admin, ("GAD-7", "total"))
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        (completers,) = con.execute(
            "SELECT count(*) FROM marts.participant_outcomes "
            "WHERE instrument = 'GAD-7' AND subscale = 'total' AND outcome_status = 'complete'"
        ).fetchone()
        (gad_mean,) = con.execute(
            "SELECT avg(change_score) FROM marts.participant_outcomes "
            "WHERE instrument = 'GAD-7' AND subscale = 'total' AND outcome_status = 'complete'"
        ).fetchone()
    overall = gad.filter(pl.col("practice_group") == "all").row(0, named=True)
    assert overall["n"] == completers and overall["mean_change"] == pytest.approx(gad_mean)
    assert gad.filter(pl.col("practice_group") != "all")["n"].sum() == completers
    assert queries.dose_response(warehouse, admin)["n"].to_list() != gad["n"].to_list()  # not the headline's
