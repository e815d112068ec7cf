"""Which measures get outcome rows (CONTRACT.md §5)."""

import polars as pl

from transforms.instruments import BUILT_IN, Instrument
from transforms.outcomes import measures_in_use


def test_every_subscale_of_an_instrument_in_use_gets_rows_scored_or_not():
    # ECR-RS forms all missing item 7 scored on avoidance only; a scored instrument names its own subscale
    scored = pl.DataFrame({"instrument": ["ECR-RS", "GAD-7", "BDI-II"], "subscale": ["avoidance", "total", "total"]})
    bdi = Instrument("BDI-II", "Beck Depression Inventory-II", "config", "scored", 0, 0, 63, "sum", "lower_is_better")
    in_use = measures_in_use(scored, BUILT_IN | {"BDI-II": bdi})
    assert in_use.rows() == [
        ("BDI-II", "total"),
        ("ECR-RS", "anxiety"),  # never scored: its rows say why (no baseline, not yet due …)
        ("ECR-RS", "avoidance"),
        ("GAD-7", "total"),
    ]
