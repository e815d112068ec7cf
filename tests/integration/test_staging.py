"""Typing in the staging SQL: time zones, bare dates, whole numbers, unparseable values."""

import polars as pl

from pipelines.warehouse import stage_rows


def stage(dataset: str, rows: pl.DataFrame) -> pl.DataFrame:
    return stage_rows(dataset, rows, "Europe/London")


def questionnaire_rows(**columns) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"source_row": list(range(1, n + 1)), "participant_id": ["P0001"] * n, "instrument": ["GAD-7"] * n}
    return pl.DataFrame({**base, **columns}, schema_overrides={"source_row": pl.Int64})


def test_days_are_calendar_dates_in_the_program_time_zone():
    staged = stage(
        "questionnaires",
        questionnaire_rows(
            completed_at=["2026-07-01T23:30:00Z", "2026-01-15T23:30:00Z", "2026-07-01", "2026-07-01T00:30:00+02:00"],
            item_1=["1", "1", "1", "1"],
        ),
    )
    assert staged["completed_date"].cast(pl.String).to_list() == [
        "2026-07-02",
        "2026-01-15",
        "2026-07-01",
        "2026-06-30",
    ]
    # a bare date is midnight in the program time zone (BST, one hour ahead of UTC in July)
    assert staged["completed_at"][2].isoformat() == "2026-07-01T00:00:00+01:00"


def test_rfc_3339_instants_may_write_t_and_z_in_lower_case():
    staged = stage(
        "questionnaires",
        questionnaire_rows(completed_at=["2026-07-01t23:30:00z", "2026-07-01T23:30:00Z"], item_1=["1", "1"]),
    )
    assert staged["completed_at"][0] == staged["completed_at"][1]
    assert staged["unparseable_columns"].to_list() == [[], []]
    exercises = stage(
        "exercises",
        pl.DataFrame(
            {"source_row": [1], "participant_id": ["P0001"], "started_at": ["2026-07-01t08:00:00z"]}
            | {"exercise": ["breathing"], "duration_minutes": ["5"]},
            schema_overrides={"source_row": pl.Int64},
        ),
    )
    assert exercises["started_date"].cast(pl.String).to_list() == ["2026-07-01"]


def test_items_must_be_whole_numbers_and_trailing_blanks_are_trimmed():
    staged = stage(
        "questionnaires",
        questionnaire_rows(
            completed_at=["2026-03-01"] * 3,
            item_1=["2", "5.0", "2.5"],
            item_2=["x", None, None],
            item_3=[None] * 3,
        ),
    )
    # trailing blanks are trimmed; an answer that does not parse keeps its place as null and is named below
    assert staged["responses"].to_list() == [[2, None], [5], [None]]
    assert staged["unparseable_columns"].to_list() == [["item_2"], [], ["item_1"]]


def test_rows_with_the_last_item_answered_keep_their_blanks_and_unparsed_answers_in_place():
    # the usual row (last item answered, every answer whole) takes a faster path than the rows above
    staged = stage(
        "questionnaires",
        questionnaire_rows(
            completed_at=["2026-03-01", "2026-03-01", "2026-03-01", "not a day"],
            item_1=["3", "3", "5.5", "1e0"],
            item_2=[None, "4.0", "2", "7"],
            item_3=["4", "four", "1", "2"],
        ),
    )
    assert staged["responses"].to_list() == [[3, None, 4], [3, 4, None], [None, 2, 1], [1, 7, 2]]
    assert staged["unparseable_columns"].to_list() == [[], ["item_3"], ["item_1"], ["completed_at"]]


def test_unparseable_dates_and_numbers_are_named():
    staged = stage(
        "exercises",
        pl.DataFrame(
            {
                "source_row": [1, 2],
                "participant_id": ["P0001", "P0001"],
                "started_at": ["2026-02-30", "2026-03-01"],
                "exercise": ["breathing", "breathing"],
                "duration_minutes": ["ten", "10"],
                "is_completed": [None, "no"],
            },
            schema_overrides={"source_row": pl.Int64},
        ),
    )
    assert staged["unparseable_columns"].to_list() == [["started_at", "duration_minutes"], []]
    assert staged["is_completed"].to_list() == [True, False]  # blank defaults to completed


def test_an_optional_column_the_file_lacks_is_typed_as_text():
    rows = pl.DataFrame(
        {
            "source_row": [1],
            "participant_id": ["P0001"],
            "site_id": ["north"],
            "cohort_id": ["north-2026-01"],
            "modality": ["cbt"],
            "enrolled_date": ["2026-01-05"],
        },
        schema_overrides={"source_row": pl.Int64},
    )
    staged = stage("participants", rows)
    assert staged.select("therapist_id", "age_band", "gender").dtypes == [pl.String] * 3
    assert staged.row(0, named=True)["gender"] is None
