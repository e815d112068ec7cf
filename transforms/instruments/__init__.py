"""The instrument registry: one definition per questionnaire, as data.

Item keys always come from the declared instrument id, never from column positions in a file: other item
orders of the ECR-R and RSES circulate, and only the canonical numbering below is scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Method = Literal["mean", "sum"]
Direction = Literal["lower_is_better", "higher_is_better"]
Kind = Literal["items", "scored"]


@dataclass(frozen=True)
class Subscale:
    name: str
    items: tuple[int, ...]
    reverse_items: tuple[int, ...] = ()

    @property
    def max_missing(self) -> int:
        """Items that may be missing before the subscale is left unscored: floor(0.2 × k) (OUTCOMES.md §2)."""
        return len(self.items) // 5


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    source: str
    kind: Kind
    item_count: int  # 0 for a `scored` instrument, whose totals arrive in the `scores` dataset
    min: float
    max: float
    method: Method
    direction: Direction
    subscales: tuple[Subscale, ...] = field(default_factory=tuple)

    @property
    def sign(self) -> int:
        """+1 when higher is better, −1 when lower is better (OUTCOMES.md §5 `dir`)."""
        return 1 if self.direction == "higher_is_better" else -1

    def subscale(self, name: str) -> Subscale:
        return next(s for s in self.subscales if s.name == name)


def _span(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


ECR_R = Instrument(
    id="ECR-R",
    name="Experiences in Close Relationships – Revised",
    source="Fraley, Waller & Brennan (2000). J Pers Soc Psychol 78(2):350–365.",
    kind="items",
    item_count=36,
    min=1,
    max=7,
    method="mean",
    direction="lower_is_better",
    subscales=(
        Subscale("anxiety", _span(1, 18), reverse_items=(9, 11)),
        Subscale("avoidance", _span(19, 36), reverse_items=(20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)),
    ),
)

ECR_RS = Instrument(
    id="ECR-RS",
    name="Relationship Structures questionnaire (ECR-RS), partner target",
    source="Fraley, Heffernan, Vicary & Brumbaugh (2011). Psychol Assess 23(3):615–625.",
    kind="items",
    item_count=9,
    min=1,
    max=7,
    method="mean",
    direction="lower_is_better",
    subscales=(
        Subscale("avoidance", _span(1, 6), reverse_items=(1, 2, 3, 4)),
        Subscale("anxiety", (7, 8, 9)),
    ),
)

ECR_S = Instrument(
    id="ECR-S",
    name="Experiences in Close Relationships – Short form",
    source="Wei, Russell, Mallinckrodt & Vogel (2007). J Pers Assess 88(2):187–204.",
    kind="items",
    item_count=12,
    min=1,
    max=7,
    method="mean",
    direction="lower_is_better",
    subscales=(
        Subscale("anxiety", (2, 4, 6, 8, 10, 12), reverse_items=(8,)),
        Subscale("avoidance", (1, 3, 5, 7, 9, 11), reverse_items=(1, 5, 9)),
    ),
)

GAD_7 = Instrument(
    id="GAD-7",
    name="Generalized Anxiety Disorder 7-item scale",
    source="Spitzer, Kroenke, Williams & Löwe (2006). Arch Intern Med 166(10):1092–1097.",
    kind="items",
    item_count=7,
    min=0,
    max=3,
    method="sum",
    direction="lower_is_better",
    subscales=(Subscale("total", _span(1, 7)),),
)

PHQ_9 = Instrument(
    id="PHQ-9",
    name="Patient Health Questionnaire, 9-item depression scale",
    source="Kroenke, Spitzer & Williams (2001). J Gen Intern Med 16(9):606–613.",
    kind="items",
    item_count=9,
    min=0,
    max=3,
    method="sum",
    direction="lower_is_better",
    subscales=(Subscale("total", _span(1, 9)),),
)

RSES = Instrument(
    id="RSES",
    name="Rosenberg Self-Esteem Scale",
    source="Rosenberg (1965). Society and the Adolescent Self-Image. Princeton University Press.",
    kind="items",
    item_count=10,
    min=1,
    max=4,
    method="sum",
    direction="higher_is_better",
    subscales=(Subscale("total", _span(1, 10), reverse_items=(2, 5, 6, 8, 9)),),
)

BUILT_IN: dict[str, Instrument] = {i.id: i for i in (ECR_R, ECR_RS, ECR_S, GAD_7, PHQ_9, RSES)}


def custom_instrument(definition: dict) -> Instrument:
    """An instrument declared in the config's `[[instruments]]` table (CONTRACT.md §3)."""
    kind = definition.get("kind", "items")
    subscale_names = definition.get("subscales", ["total"])
    item_count = int(definition.get("items", 0)) if kind == "items" else 0
    if kind == "items":
        # Items instruments from config list their subscales as {name, items, reverse_items} tables.
        subscales = tuple(
            Subscale(s["name"], tuple(s["items"]), tuple(s.get("reverse_items", ()))) for s in subscale_names
        )
    else:
        subscales = tuple(Subscale(name, ()) for name in subscale_names)
    return Instrument(
        id=definition["id"],
        name=definition.get("name", definition["id"]),
        source=definition.get("source", "defined in the program's configuration"),
        kind=kind,
        item_count=item_count,
        min=float(definition["min"]),
        max=float(definition["max"]),
        method=definition.get("method", "sum"),
        direction=definition.get("direction", "lower_is_better"),
        subscales=subscales,
    )


def registry(custom_definitions: list[dict] | None = None) -> dict[str, Instrument]:
    """Built-in instruments plus those the config defines; a config entry may not redefine a built-in."""
    instruments = dict(BUILT_IN)
    for definition in custom_definitions or []:
        if definition["id"] in BUILT_IN:
            raise ValueError(f"instrument {definition['id']!r} is built in and cannot be redefined in config")
        instruments[definition["id"]] = custom_instrument(definition)
    return instruments
