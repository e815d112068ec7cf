"""Tables in the reader's words: labels, precision, and every missing figure explained."""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from dashboard.glossary import TERMS, WORDS, for_download, for_screen, label

RELEASE_ROWS = pl.DataFrame(
    {
        "grouping": ["site", "modality"],
        "group_id": ["north", "cbt"],
        "n_enrolled": [40, None],
        "n_improved": [None, None],
        "mean_change": [-0.4567, None],
        "improved_rate": [0.35, None],
        "small_counts": [[], ["n_enrolled"]],
        "unclassified_counts": [["n_improved"], []],
    }
)


def test_a_release_table_reads_in_words_with_each_withheld_figure_explained():
    shown = for_screen(RELEASE_ROWS, 5)
    headers = ["Grouping", "Group", "Enrolled", "Reliably improved", "Mean change", "Reliably improved (%)"]
    assert shown.columns == headers
    assert shown.row(0) == ("Site", "north", "40", "not classified", "-0.46", "35%")
    assert shown.row(1) == ("Modality", "cbt", "<5", "withheld", "withheld", "withheld")


def test_a_download_keeps_machine_names_and_the_release_values():
    downloaded = for_download(RELEASE_ROWS, 5)
    assert downloaded.columns == ["grouping", "group_id", "n_enrolled", "n_improved", "mean_change", "improved_rate"]
    assert downloaded.row(0) == ("site", "north", "40", "not classified", "-0.4567", "0.35")
    assert downloaded.row(1) == ("modality", "cbt", "<5", "withheld", "withheld", "withheld")


def test_a_participant_row_reads_dates_as_dates_and_codes_in_words():
    row = pl.DataFrame(
        {
            "participant_id": ["p1", "p2"],
            "baseline_date": [date(2026, 2, 3), date(2026, 2, 4)],
            "endpoint_score": [4.3, None],
            "change_score": [-0.9, None],
            "jt_category": ["improved", None],
            "outcome_status": ["complete", "not_yet_due"],
        }
    )
    shown = for_screen(row, 5, missing="—")
    assert shown.row(0) == ("p1", "2026-02-03", "4.30", "-0.90", "Reliably improved", "Complete")
    assert shown.row(1) == ("p2", "2026-02-04", "—", "—", "—", "Not yet due")
    assert for_download(row, 5, missing="").row(1) == ("p2", "2026-02-04", "", "", "", "not_yet_due")


def test_times_lists_and_exercise_codes():
    frame = pl.DataFrame(
        {
            "started_at": [datetime(2026, 7, 20, 2, 0, 41, tzinfo=UTC)],
            "failed_rules": [["unknown_participant"]],
            "exercise": ["grounding_54321"],
        }
    )
    assert for_screen(frame, 5).row(0) == ("2026-07-20 02:00", "unknown_participant", "5-4-3-2-1 grounding")
    assert for_screen(frame.with_columns(failed_rules=pl.lit([], pl.List(pl.String))), 5)["Failed rules"][0] == "none"


def test_an_unknown_column_is_an_error_not_a_machine_name_on_a_page():
    with pytest.raises(KeyError, match="dashboard/glossary.py"):
        label("n_with_something_new")
    with pytest.raises(KeyError):
        for_screen(pl.DataFrame({"n_with_something_new": [1]}), 5)


def test_every_label_is_words_and_every_kind_known():
    from dashboard.glossary import KINDS

    assert all("_" not in term.label and term.kind in KINDS for term in TERMS.values())
    assert all("_" not in text for text in WORDS.values())
