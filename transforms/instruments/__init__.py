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

    def score_range(self, name: str) -> tuple[float, float]:
        """The lowest and highest score a subscale can have: its items' range, times its items when summed."""
        items = len(self.subscale(name).items) if self.kind == "items" and self.method == "sum" else 1
        return self.min * items, self.max * items


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


INSTRUMENT_KEYS = ("id", "name", "source", "kind", "subscales", "items", "min", "max", "method", "direction")
SUBSCALE_KEYS = ("name", "items", "reverse_items")


def is_number(value) -> bool:
    """An int or float from TOML (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _choice(definition: dict, key: str, default: str, allowed: tuple[str, ...], where: str) -> str:
    value = definition.get(key, default)
    if value not in allowed:
        choices = " or ".join(f'"{choice}"' for choice in allowed)
        raise ValueError(f"{where}.{key} must be {choices}, got {value!r}")
    return value


def _bound(definition: dict, key: str, where: str) -> float:
    if key not in definition:
        raise ValueError(f"{where}.{key} is missing")
    if not is_number(definition[key]):
        raise ValueError(f"{where}.{key} must be a number, got {definition[key]!r}")
    return float(definition[key])


def _subscale_table(table, item_count: int, where: str) -> Subscale:
    if not isinstance(table, dict) or not isinstance(table.get("name"), str):
        raise ValueError(f"{where}.subscales: each table needs a name, got {table!r}")
    where = f"{where}.subscales[{table['name']}]"
    unknown = sorted(set(table) - set(SUBSCALE_KEYS))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown key (a subscale takes {', '.join(SUBSCALE_KEYS)})")
    items, reverse_items = table.get("items"), table.get("reverse_items", [])
    numbers = range(1, item_count + 1)
    if not isinstance(items, list) or not items or any(type(i) is not int or i not in numbers for i in items):
        raise ValueError(f"{where}.items must be a list of item numbers from 1 to {item_count}, got {items!r}")
    if not isinstance(reverse_items, list) or any(i not in items for i in reverse_items):
        raise ValueError(f"{where}.reverse_items must be a list of its items, got {reverse_items!r}")
    return Subscale(table["name"], tuple(items), tuple(reverse_items))


def custom_instrument(definition: dict) -> Instrument:
    """An instrument declared in the config's `[[instruments]]` table (CONTRACT.md §3).

    A slip raises ValueError naming the key, e.g. `instruments[BDI-II].direction must be ...`.
    """
    where = f"instruments[{definition['id']}]"
    unknown = sorted(set(definition) - set(INSTRUMENT_KEYS))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown key (an instrument takes {', '.join(INSTRUMENT_KEYS)})")
    for key in ("name", "source"):
        if not isinstance(definition.get(key, ""), str):
            raise ValueError(f"{where}.{key} must be text, got {definition[key]!r}")
    kind = _choice(definition, "kind", "items", ("items", "scored"), where)
    minimum, maximum = _bound(definition, "min", where), _bound(definition, "max", where)
    if minimum >= maximum:
        raise ValueError(f"{where}.min must be below max, got min = {minimum:g} and max = {maximum:g}")
    item_count = definition.get("items") if kind == "items" else 0
    if kind == "items" and (type(item_count) is not int or item_count < 1):
        got = f"got {item_count!r}" if "items" in definition else "it is missing"
        raise ValueError(f"{where}.items must be a positive integer, the number of items on the form; {got}")
    names = definition.get("subscales", ["total"])
    if not isinstance(names, list) or not names:
        raise ValueError(f'{where}.subscales must be a list such as ["total"], got {names!r}')
    plain = all(isinstance(name, str) for name in names)
    if kind == "scored" and plain:
        subscales = tuple(Subscale(name, ()) for name in names)
    elif kind == "scored":
        raise ValueError(f'{where}.subscales of a scored instrument must be names such as ["total"], got {names!r}')
    elif plain and len(names) == 1:  # one subscale, written by name only: it covers every item, none reversed
        subscales = (Subscale(names[0], _span(1, item_count)),)
    elif any(isinstance(name, str) for name in names):
        raise ValueError(
            f"{where}.subscales: with more than one subscale give each one's items as a table, "
            'e.g. {name = "anxiety", items = [1, 2, 3], reverse_items = [2]}'
        )
    else:
        subscales = tuple(_subscale_table(table, item_count, where) for table in names)
    return Instrument(
        id=definition["id"],
        name=definition.get("name", definition["id"]),
        source=definition.get("source", "defined in the program's configuration"),
        kind=kind,
        item_count=item_count,
        min=minimum,
        max=maximum,
        method=_choice(definition, "method", "sum", ("mean", "sum"), where),
        direction=_choice(definition, "direction", "lower_is_better", ("lower_is_better", "higher_is_better"), where),
        subscales=subscales,
    )


def registry(custom_definitions: list[dict] | None = None) -> dict[str, Instrument]:
    """Built-in instruments plus those the config defines; a config entry may not redefine a built-in."""
    instruments = dict(BUILT_IN)
    for position, definition in enumerate(custom_definitions or [], start=1):
        instrument_id = definition.get("id")
        if not isinstance(instrument_id, str) or not instrument_id:
            raise ValueError(f'instruments[{position}].id is missing: each [[instruments]] table needs an id = "..."')
        if instrument_id in BUILT_IN:
            raise ValueError(f"instruments[{instrument_id}].id: {instrument_id!r} is built in and cannot be redefined")
        if instrument_id in instruments:
            raise ValueError(f"instruments[{instrument_id}].id: {instrument_id!r} is defined twice")
        instruments[instrument_id] = custom_instrument(definition)
    return instruments
