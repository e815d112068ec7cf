"""Reliable change (Jacobson & Truax 1991) and clinical significance (OUTCOMES.md §4–5)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import polars as pl

from transforms.instruments import Instrument, is_number
from transforms.scoring import keyed_item_matrix

Z_RELIABLE = 1.96
MIN_PAIRS = 10  # fewer complete pairs than this and the sample-based RCI and categories are NULL
Cutoff = Literal["a", "b", "c"] | float | None


@dataclass(frozen=True)
class OutcomeSettings:
    """How reliable and clinically significant change are judged for one instrument × subscale."""

    reliability: float | Literal["alpha"] | None = "alpha"
    sd: float | Literal["sample"] | None = "sample"
    reliable_change: Literal["jacobson_truax", "fixed"] = "jacobson_truax"
    threshold: float | None = None
    cutoff: Cutoff = "a"
    functional_mean: float | None = None
    functional_sd: float | None = None

    @classmethod
    def from_config(cls, entry: dict, default: OutcomeSettings) -> OutcomeSettings:
        """`default` overridden by a config entry; a slip raises ValueError whose message starts with the key."""
        keys = list(cls.__dataclass_fields__)
        unknown = sorted(set(entry) - set(keys))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key (an outcome takes {', '.join(keys)})")
        settings = cls(**{**default.__dict__, **entry})
        if settings.reliability not in ("alpha", None) and not is_number(settings.reliability):
            raise ValueError(f'reliability must be "alpha" or a number, got {settings.reliability!r}')
        if is_number(settings.reliability) and not 0 <= settings.reliability < 1:
            raise ValueError(f"reliability must be at least 0 and below 1, got {settings.reliability}")
        if settings.sd not in ("sample", None) and not is_number(settings.sd):
            raise ValueError(f'sd must be "sample" or a number, got {settings.sd!r}')
        if settings.reliable_change not in ("jacobson_truax", "fixed"):
            raise ValueError(f'reliable_change must be "jacobson_truax" or "fixed", got {settings.reliable_change!r}')
        for key in ("threshold", "functional_mean", "functional_sd"):
            if getattr(settings, key) is not None and not is_number(getattr(settings, key)):
                raise ValueError(f"{key} must be a number, got {getattr(settings, key)!r}")
        for key in ("sd", "threshold", "functional_sd"):  # a spread or a step of zero or less turns results over
            if is_number(getattr(settings, key)) and getattr(settings, key) <= 0:
                raise ValueError(f"{key} must be above 0, got {getattr(settings, key)}")
        if settings.reliable_change == "fixed" and settings.threshold is None:
            raise ValueError('reliable_change = "fixed" needs a threshold')
        if settings.cutoff not in ("a", "b", "c", None) and not is_number(settings.cutoff):
            raise ValueError(f'cutoff must be "a", "b", "c" or a number, got {settings.cutoff!r}')
        # b and c need the functional population's norms, which only the config can give (cutoff_value)
        if settings.cutoff in ("b", "c") and (settings.functional_mean is None or settings.functional_sd is None):
            raise ValueError(f'cutoff "{settings.cutoff}" needs functional_mean and functional_sd')
        return settings


def default_settings(instrument: Instrument) -> OutcomeSettings:
    """Built-in defaults of OUTCOMES.md §1; a custom instrument starts with no reliability and no cutoff."""
    if instrument.id in ("ECR-R", "ECR-RS", "ECR-S"):
        return OutcomeSettings()
    if instrument.id == "GAD-7":
        return OutcomeSettings(None, None, "fixed", threshold=4, cutoff=8)
    if instrument.id == "PHQ-9":
        return OutcomeSettings(None, None, "fixed", threshold=6, cutoff=10)
    if instrument.id == "RSES":
        return OutcomeSettings(cutoff=None)
    return OutcomeSettings(reliability=None, sd="sample", cutoff=None)


def settings_for(instrument: Instrument, subscale: str, config_outcomes: dict) -> OutcomeSettings:
    entry = config_outcomes.get(instrument.id, {}).get(subscale, {})
    settings = OutcomeSettings.from_config(entry, default_settings(instrument))
    if settings.reliability == "alpha" and instrument.kind != "items":
        raise ValueError('reliability = "alpha" needs item responses: give a number for a scored instrument')
    return settings


def standard_error_of_difference(sd: float, reliability: float) -> float:
    """S_diff = SD · sqrt(2 · (1 − r))."""
    return sd * math.sqrt(2 * (1 - reliability))


def cutoff_value(
    criterion: Cutoff,
    clinical_mean: float | None,
    clinical_sd: float | None,
    functional_mean: float | None,
    functional_sd: float | None,
    sign: int,
) -> float | None:
    """Jacobson–Truax cutoff a, b or c, or a fixed number; sign is +1 when higher is better, −1 when lower."""
    if criterion is None or isinstance(criterion, int | float):
        return None if criterion is None else float(criterion)
    if criterion == "a":
        if clinical_mean is None or clinical_sd is None:
            return None
        return clinical_mean + sign * 2 * clinical_sd
    if functional_mean is None or functional_sd is None:
        raise ValueError(f"cutoff {criterion!r} needs functional_mean and functional_sd in the config")
    if criterion == "b":
        return functional_mean - sign * 2 * functional_sd
    if clinical_mean is None or clinical_sd is None:
        return None
    return (clinical_sd * functional_mean + functional_sd * clinical_mean) / (clinical_sd + functional_sd)


@dataclass(frozen=True)
class ItemSums:
    """What Cronbach's alpha needs of complete item sets, in sums that batches of them add up to: how many sets, and
    the sum and the sum of squares of each item's answers and, last, of the sets' totals."""

    n: int = 0
    sums: tuple[float, ...] = ()
    squares: tuple[float, ...] = ()

    @classmethod
    def of(cls, items: pl.DataFrame) -> ItemSums:
        """The sums of complete item sets, one column per item."""
        totals = items.select(pl.sum_horizontal(pl.all())).to_series()
        sums = (*items.sum().row(0), totals.sum())
        squares = (*items.select(pl.all() ** 2).sum().row(0), (totals**2).sum())
        return cls(items.height, sums, squares)

    def __add__(self, other: ItemSums) -> ItemSums:
        if not (self.n and other.n):
            return self if self.n else other
        return ItemSums(
            self.n + other.n,
            tuple(a + b for a, b in zip(self.sums, other.sums, strict=True)),
            tuple(a + b for a, b in zip(self.squares, other.squares, strict=True)),
        )

    def alpha(self) -> float | None:
        """Cronbach's alpha: k/(k−1) · (1 − Σ var(item) / var(total)), sample variances.

        Computed exactly from the sums (n·Σx² − (Σx)² is n·(n−1) times a sample variance), so that the batches'
        order cannot change it and identical answers to every item give 1, never more (which would make S_diff
        imaginary) nor less."""
        k = len(self.sums) - 1
        if k < 2 or self.n < 2:
            return None
        spreads = [self.n * Fraction(q) - Fraction(s) ** 2 for s, q in zip(self.sums, self.squares, strict=True)]
        if not spreads[-1]:
            return None
        return float(Fraction(k, k - 1) * (1 - sum(spreads[:-1]) / spreads[-1]))


def cronbach_alpha(items: pl.DataFrame) -> float | None:
    """Cronbach's alpha of complete item sets, one column per item (`ItemSums.alpha`)."""
    return ItemSums.of(items).alpha()


def baseline_item_sums(forms: pl.DataFrame, instruments: dict[str, Instrument]) -> dict[tuple[str, str], ItemSums]:
    """The `ItemSums` of the keyed items of baseline forms (`instrument, subscale, responses`: each complete
    participant's baseline administration, once per subscale they are complete on), per instrument × subscale
    scored from items; complete item sets only."""
    return {
        (instrument_id, subscale): ItemSums.of(
            keyed_item_matrix(group, instruments[instrument_id], instruments[instrument_id].subscale(subscale))
        )
        for (instrument_id, subscale), group in forms.group_by("instrument", "subscale")
        if instruments[instrument_id].kind == "items"
    }


def added(left: dict, right: dict) -> dict:
    """Two batches' `baseline_item_sums`, added up."""
    return {key: left.get(key, ItemSums()) + right.get(key, ItemSums()) for key in left.keys() | right.keys()}


def outcome_parameters(
    pairs: pl.DataFrame,
    item_sums: dict[tuple[str, str], ItemSums],
    instruments: dict[str, Instrument],
    config_outcomes: dict,
) -> pl.DataFrame:
    """`marts.outcome_parameters`: one row per instrument × subscale in use, every parameter and its source.

    `pairs`: complete participants' `instrument, subscale, baseline_score`. `item_sums`: for Cronbach's alpha, the
    `baseline_item_sums` of their baseline administrations.
    """
    rows = []
    for (instrument_id, subscale), group in pairs.group_by(["instrument", "subscale"], maintain_order=True):
        instrument = instruments[instrument_id]
        settings = settings_for(instrument, subscale, config_outcomes)
        baselines = group.get_column("baseline_score").drop_nulls()
        n_pairs = baselines.len()
        clinical_mean = baselines.mean() if n_pairs else None
        clinical_sd = baselines.std() if n_pairs >= 2 else None

        if settings.sd == "sample":
            sd, sd_source = clinical_sd, "sample SD of baseline scores of complete participants"
        elif settings.sd is None:
            sd, sd_source = None, "not used"
        else:
            sd, sd_source = float(settings.sd), "config"

        if settings.reliability == "alpha" and instrument.kind == "items":
            reliability = item_sums.get((instrument_id, subscale), ItemSums()).alpha()
            reliability_source = "Cronbach's alpha of the program's baseline items"
        elif isinstance(settings.reliability, int | float):
            reliability, reliability_source = float(settings.reliability), "config"
        else:
            reliability, reliability_source = None, "not used"

        if settings.reliable_change == "fixed":
            min_change = settings.threshold
        elif sd and reliability is not None and reliability < 1 and n_pairs >= MIN_PAIRS:
            min_change = Z_RELIABLE * standard_error_of_difference(sd, reliability)
        else:  # too few pairs, or S_diff would be 0 (baselines all alike, or an alpha of 1): RCI and categories NULL
            min_change = None

        cutoff = cutoff_value(
            settings.cutoff,
            clinical_mean,
            clinical_sd,
            settings.functional_mean,
            settings.functional_sd,
            instrument.sign,
        )
        cutoff_source = (
            "none"
            if settings.cutoff is None
            else f"criterion {settings.cutoff} (Jacobson & Truax)"
            if isinstance(settings.cutoff, str)
            else "config"
        )
        rows.append(
            {
                "instrument": instrument_id,
                "subscale": subscale,
                "reliability": reliability,
                "reliability_source": reliability_source,
                "sd_baseline": sd,
                "sd_source": sd_source,
                "n_pairs": n_pairs,
                "reliable_change_method": settings.reliable_change,
                "min_reliable_change": min_change,
                "cutoff": cutoff,
                "cutoff_source": cutoff_source,
                "direction": instrument.direction,
            }
        )
    return pl.DataFrame(rows, schema=PARAMETER_SCHEMA)


PARAMETER_SCHEMA = {
    "instrument": pl.String,
    "subscale": pl.String,
    "reliability": pl.Float64,
    "reliability_source": pl.String,
    "sd_baseline": pl.Float64,
    "sd_source": pl.String,
    "n_pairs": pl.Int64,
    "reliable_change_method": pl.String,
    "min_reliable_change": pl.Float64,
    "cutoff": pl.Float64,
    "cutoff_source": pl.String,
    "direction": pl.String,
}


def classify_change(outcomes: pl.DataFrame, parameters: pl.DataFrame) -> pl.DataFrame:
    """Add change_score, rci, reliable_change, clinical/functional flags and jt_category.

    `outcomes` has baseline_score and endpoint_score; `parameters` is `marts.outcome_parameters`.
    Inequalities are strict for the RCI (|rci| > 1.96) and inclusive for fixed thresholds (a fall of at
    least the threshold), as OUTCOMES.md §4 states.
    """
    sign = pl.when(pl.col("direction") == "higher_is_better").then(1).otherwise(-1)
    change = pl.col("endpoint_score") - pl.col("baseline_score")
    s_diff = pl.col("min_reliable_change") / Z_RELIABLE
    is_jt = pl.col("reliable_change_method") == "jacobson_truax"
    rci = pl.when(is_jt).then(change / s_diff)
    gain = pl.when(is_jt).then(sign * rci).otherwise(sign * change)
    limit = pl.when(is_jt).then(pl.lit(Z_RELIABLE)).otherwise(pl.col("min_reliable_change"))
    improved = pl.when(is_jt).then(gain > limit).otherwise(gain >= limit)
    deteriorated = pl.when(is_jt).then(gain < -limit).otherwise(gain <= -limit)
    reliable_change = (
        pl.when(gain.is_null())
        .then(None)
        .when(improved)
        .then(pl.lit("improved"))
        .when(deteriorated)
        .then(pl.lit("deteriorated"))
        .otherwise(pl.lit("unchanged"))
    )
    is_clinical = sign * pl.col("baseline_score") <= sign * pl.col("cutoff")
    is_functional = sign * pl.col("endpoint_score") > sign * pl.col("cutoff")
    jt_category = (
        pl.when(pl.col("reliable_change").is_null() | pl.col("cutoff").is_null())
        .then(None)
        .when(
            (pl.col("reliable_change") == "improved")
            & pl.col("is_clinical_at_baseline")
            & pl.col("is_functional_at_endpoint")
        )
        .then(pl.lit("recovered"))
        .when(pl.col("reliable_change") == "improved")
        .then(pl.lit("improved"))
        .when(pl.col("reliable_change") == "unchanged")
        .then(pl.lit("unchanged"))
        .when(~pl.col("is_clinical_at_baseline") & ~pl.col("is_functional_at_endpoint"))
        .then(pl.lit("harmed"))
        .otherwise(pl.lit("deteriorated"))
    )
    joined = outcomes.join(
        parameters.select(
            "instrument", "subscale", "direction", "reliable_change_method", "min_reliable_change", "cutoff"
        ),
        on=["instrument", "subscale"],
        how="left",
        maintain_order="left",
    )
    return (
        joined.with_columns(
            change_score=change,
            rci=rci,
            reliable_change=reliable_change,
            is_clinical_at_baseline=is_clinical,
            is_functional_at_endpoint=is_functional,
        )
        .with_columns(jt_category=jt_category)
        .drop("direction", "reliable_change_method", "min_reliable_change", "cutoff")
    )
