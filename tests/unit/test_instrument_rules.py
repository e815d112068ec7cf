"""Row rules whose limits come from each row's declared instrument (CONTRACT.md §4)."""

import polars as pl

from transforms.instrument_rules import item_failures
from transforms.instruments import BUILT_IN


def test_each_row_is_checked_against_its_own_instrument_in_a_mixed_batch():
    forms = pl.DataFrame(
        {
            "source_row": [1, 2, 3, 4, 5, 6, 7, 8],
            "instrument": ["GAD-7", "ECR-R", "GAD-7", "ECR-R", "GAD-7", "PHQ-9", "UNKNOWN", "GAD-7"],
            "responses": [
                [3, 0, 1, 2, 3, 3, 0],  # GAD-7 runs 0–3: fine
                [7, 1] + [4] * 34,  # ECR-R runs 1–7: fine, though a 7 would be out of GAD-7's range
                [0, 4, None, 1],  # item 2 above GAD-7's 3
                [0] + [4] * 35 + [None, 2],  # item 1 below ECR-R's 1, and item 38 beyond its 36
                [0] * 7 + [None, 1],  # item 9 beyond GAD-7's 7 (item 8 blank is no answer)
                [None] * 9,  # nothing answered
                [99],  # unknown instrument: left to its own rule
                [],
            ],
        },
        schema_overrides={"responses": pl.List(pl.Int32)},
    )
    failures = item_failures(forms, BUILT_IN).sort("source_row", "column_name")
    assert failures.select("source_row", "rule", "column_name").rows() == [
        (3, "out_of_range", "item_2"),
        (4, "out_of_range", "item_1"),
        (4, "item_beyond_instrument", "item_38"),
        (5, "item_beyond_instrument", "item_9"),
    ]
    details = dict(zip(failures["column_name"], failures["detail"], strict=True))
    assert details["item_2"] == "GAD-7 items run 0–3"
    assert details["item_38"] == "ECR-R has 36 items; columns beyond must be blank"
