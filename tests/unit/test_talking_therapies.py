"""NHS Talking Therapies style recovery and reliable improvement, by hand (OUTCOMES.md §6)."""

import polars as pl
import pytest

from transforms.talking_therapies import talking_therapies

# participant: (PHQ-9 baseline, endpoint), (GAD-7 baseline, endpoint)
PEOPLE = {
    "A": ((15, 5), (12, 4)),  # case; below both cutoffs; reliably improved on both: reliable recovery
    "B": ((12, 9), (9, 7)),  # case; recovered (9 < 10, 7 < 8) but falls of 3 and 2 are not reliable
    "C": ((8, 2), (6, 6)),  # not a case; PHQ falls 6: reliably improved
    "D": ((14, 6), (10, 14)),  # case; PHQ improves reliably but GAD rises by 4: no reliable improvement
}


def outcomes() -> pl.DataFrame:
    rows = []
    for pid, ((phq0, phq1), (gad0, gad1)) in PEOPLE.items():
        for instrument, (b, e) in (("PHQ-9", (phq0, phq1)), ("GAD-7", (gad0, gad1))):
            rows.append(
                {
                    "participant_id": pid,
                    "site_id": "north",
                    "cohort_id": "c1",
                    "modality": "cbt",
                    "instrument": instrument,
                    "baseline_score": float(b),
                    "endpoint_score": float(e),
                    "outcome_status": "complete",
                }
            )
    rows.append({**rows[0], "participant_id": "E", "outcome_status": "no_endpoint", "endpoint_score": None})
    return pl.DataFrame(rows)


def test_counts_and_rates_by_hand():
    program = talking_therapies(outcomes()).filter(pl.col("grouping") == "program").row(0, named=True)
    assert (program["n_with_both"], program["n_cases"]) == (4, 3)
    assert (program["n_recovered"], program["n_reliably_improved"], program["n_reliably_recovered"]) == (2, 2, 1)
    assert program["recovery_rate"] == pytest.approx(2 / 3)
    assert program["reliable_improvement_rate"] == pytest.approx(2 / 4)
    assert program["reliable_recovery_rate"] == pytest.approx(1 / 3)


def test_every_grouping_is_reported():
    assert set(talking_therapies(outcomes())["grouping"]) == {"program", "site", "cohort", "modality"}


def test_no_case_at_baseline_gives_no_recovery_rate():
    not_a_case = outcomes().filter(pl.col("participant_id") == "C")  # reliably improved, but never a case
    program = talking_therapies(not_a_case).filter(pl.col("grouping") == "program").row(0, named=True)
    assert (program["n_with_both"], program["n_cases"]) == (1, 0)
    assert program["recovery_rate"] is None and program["reliable_recovery_rate"] is None
    assert program["reliable_improvement_rate"] == 1.0
