"""Small-cell suppression for figures that leave a clinician's own scope (OUTCOMES.md §9).

A count of 1 to min_cell − 1 people is withheld (shown as "<5"), and so are means, rates and effect sizes about
fewer than min_cell people. Complementary cells are withheld too, so that a withheld count cannot be worked
out from a total: among the parts of a total within a row (improved + unchanged + deteriorated = complete), and
among the groups of a grouping (the sites add up to the program).
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from transforms.outcomes import CATEGORY_COUNTS, CHANGE_STATISTICS, STATUS_COUNTS

OUTCOME_COUNTS = [*STATUS_COUNTS, *CATEGORY_COUNTS]
# The intent-to-treat estimate, joined to each group's row by the dashboard with the number of people it rests on
# (`itt_participants`), is withheld with the rest.
ITT_STATISTICS = ["itt_change", "itt_ci_low", "itt_ci_high"]
OUTCOME_STATISTICS = [*CHANGE_STATISTICS, *ITT_STATISTICS]
PARTS_OF_A_TOTAL = [
    ["n_improved", "n_unchanged", "n_deteriorated"],
    ["n_complete", "n_no_baseline", "n_no_endpoint", "n_not_yet_due"],
]


def _smallest_other(values: dict[str, int], withheld: set[str]) -> str | None:
    others = sorted((n, name) for name, n in values.items() if name not in withheld and n > 0)
    return others[0][1] if others else None


def withheld_counts(row: dict, min_cell: int) -> set[str]:
    """The count columns of one row that must not be shown, complementary ones included."""
    withheld = {c for c in OUTCOME_COUNTS if 1 <= row[c] < min_cell}
    for parts in PARTS_OF_A_TOTAL:
        if len(withheld & set(parts)) == 1:
            partner = _smallest_other({p: row[p] for p in parts}, withheld)
            if partner:
                withheld.add(partner)
    return withheld


def suppress_outcomes(frame: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """`marts.cohort_outcomes` rows as they may be shown outside a clinician's own scope: withheld counts and
    statistics become null, and `is_suppressed` marks each row that lost something."""
    rows = frame.to_dicts()
    withheld = [withheld_counts(row, min_cell) for row in rows]
    # A single withheld group in a grouping could be recovered from the program's total: withhold another.
    partitions = defaultdict(list)
    for index, row in enumerate(rows):
        if row["grouping"] != "program":
            partitions[(row["grouping"], row["instrument"], row["subscale"])].append(index)
    for members in partitions.values():
        hidden = [i for i in members if "n_enrolled" in withheld[i]]
        if len(hidden) == 1:
            shown = sorted((rows[i]["n_enrolled"], i) for i in members if i not in hidden)
            if shown:
                withheld[shown[0][1]] |= {"n_enrolled"}
    for row, hidden in zip(rows, withheld, strict=True):
        too_few = row["n_complete"] < min_cell or "n_enrolled" in hidden
        # Beside the completers' mean, an intent-to-treat figure that adds only a few non-completers would tell
        # which way those few went.
        few_more = (
            row.get("itt_participants") is not None and 1 <= row["itt_participants"] - row["n_complete"] < min_cell
        )
        for column in hidden:
            row[column] = None
        if too_few:
            row.update({column: None for column in OUTCOME_STATISTICS if column in row})
        elif few_more:
            row.update({column: None for column in ITT_STATISTICS})
        row["is_suppressed"] = bool(hidden) or too_few or few_more
    return pl.DataFrame(rows, schema={**frame.schema, "is_suppressed": pl.Boolean})


def publication_count(n: int | None) -> str | None:
    """NHS Digital's rule for published sub-national counts: 1–7 as "*", others rounded to the nearest 5."""
    if n is None:
        return None
    return "*" if 1 <= n <= 7 else str(5 * round(n / 5))
