"""The scenario file's strict schema (the YAML edge).

Every field of the weekly scenario is declared here, with its default and meaning; the
reference page `docs/scenario.md` documents the same fields for planners. Unknown keys,
wrong types and out-of-range numbers are rejected by these models; cross-references
(a product naming a line that does not exist, duplicate ids) are checked when the
internal objects are built (`sopt.scenario`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NaiveDatetime, StrictInt, field_validator

NonNegNumber = Annotated[Decimal, Field(ge=0, le=Decimal("1e9"))]
PosNumber = Annotated[Decimal, Field(gt=0, le=Decimal("1e9"))]
Count = Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s;:,]+$")]
# Plant dates and times: naive local time (CONTRACT.md), in years a plan can mean (date
# arithmetic near year 1 or 9999 overflows)
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
PlantDate = Annotated[dt.date, Field(ge=FIRST_DATE, le=LAST_DATE)]
PlantTime = Annotated[NaiveDatetime, Field(ge=dt.datetime(1900, 1, 1), le=dt.datetime(2999, 12, 31, 23, 59))]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    """Base: unknown keys are errors, numbers may not be given as strings."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _hhmm(value: str) -> str:
    if isinstance(value, int):
        raise ValueError(f"write clock times in quotes, e.g. \"{value // 60:02d}:{value % 60:02d}\" "
                         f"(unquoted, YAML reads them as the number {value})")
    try:
        hours, minutes = value.split(":")
        h, m = int(hours), int(minutes)
    except (ValueError, AttributeError):
        raise ValueError(f"time {value!r} is not HH:MM") from None
    if not (0 <= h <= 23 and 0 <= m <= 59) or len(minutes) != 2:
        raise ValueError(f"time {value!r} is not a valid HH:MM clock time")
    return f"{h:02d}:{m:02d}"


class Horizon(Strict):
    """The planning week."""

    start: PlantDate
    days: Annotated[StrictInt, Field(ge=1, le=366)] = 7


class Break(Strict):
    """A break inside a shift: clock start and length. Breaks are not working minutes."""

    start: str
    minutes: Annotated[StrictInt, Field(gt=0, le=24 * 60)]

    _check_start = field_validator("start", mode="before")(_hhmm)


class ShiftTemplate(Strict):
    """A shift as a clock start and a length (hours or minutes), with optional breaks.

    A shift may last longer than a day (a continuous campaign, or an imported benchmark's
    time bucket); a line's shifts must never overlap each other.
    """

    start: str
    hours: Annotated[Decimal, Field(gt=0, le=366 * 24)] | None = None
    minutes: Annotated[StrictInt, Field(gt=0, le=366 * 24 * 60)] | None = None
    breaks: list[Break] = []

    _check_start = field_validator("start", mode="before")(_hhmm)


class Overtime(Strict):
    """Overtime after a shift's end: extra capacity, never protected."""

    max_minutes_per_shift: Count = 0
    max_minutes_per_week: Count | None = None
    cost_per_minute: NonNegNumber = Decimal(1)


class Line(Strict):
    """A production line (work centre).

    `shifts` maps weekdays (`mon`, `mon-fri`, `all`) or dates (`2026-12-24`, overriding the
    weekday) to shift template names.
    """

    id: Id
    name: str | None = None
    shifts: dict[str, list[str]]
    max_shifts_per_day: Annotated[StrictInt, Field(ge=0, le=24)] | None = None
    shift_cost: NonNegNumber = Decimal(0)
    overtime: Overtime = Overtime()
    last_product: Id | None = None
    crew: Annotated[StrictInt, Field(ge=0, le=100_000)] = 0

    @field_validator("shifts", mode="before")
    @classmethod
    def _date_keys(cls, value: object) -> object:
        """YAML reads an unquoted 2026-12-24 key as a date: take it as its ISO text."""
        if isinstance(value, dict):
            return {k.isoformat() if isinstance(k, dt.date) else k: v for k, v in value.items()}
        return value


class Closure(Strict):
    """A calendar exception: closed time on one line or on all lines.

    Either a whole plant `date` (holiday) or a `start`/`end` window (maintenance, line down).
    """

    line: Id | None = None
    date: PlantDate | None = None
    start: PlantTime | None = None
    end: PlantTime | None = None
    reason: str = "closed"


class LineRate(Strict):
    """How a product runs on one line: speed (one of three ways) and setup.

    `minutes_per_lot` is a fixed time per lot of `lot.multiple` units (a batch: an oven
    load, a kettle), whatever the units in it; a run of n lots takes n times as long.
    """

    minutes_per_unit: PosNumber | None = None
    rate_per_hour: PosNumber | None = None
    minutes_per_lot: PosNumber | None = None
    setup_minutes: Count = 0
    setup_cost: NonNegNumber = Decimal(0)


class Step(Strict):
    """One step of a routing: alternative work centres, lag after the previous step, materials.

    `min_lag_minutes` and `transfer_minutes` both delay the step after the previous one:
    the step may use the previous step's output only once that output has been finished
    for their sum (a cooling time, a move to the next work centre).
    """

    id: Id
    work_centres: dict[str, LineRate]
    min_lag_minutes: Count = 0
    transfer_minutes: Count = 0
    materials: dict[str, NonNegNumber] = {}


class LotRules(Strict):
    """Production lot rules per run."""

    min_run: Count = 0
    multiple: Annotated[StrictInt, Field(ge=1, le=1_000_000_000)] = 1


class Changeover(Strict):
    """A sequence-dependent changeover: minutes from one product (or family) to another.

    `from` and `to` name products or families; `line` restricts the entry to one line.
    Pairs not listed take the product's `setup_minutes` on the line; a product following
    itself needs no changeover.
    """

    from_: Id = Field(alias="from")
    to: Id
    minutes: Count
    line: Id | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Product(Strict):
    """A finished product."""

    id: Id
    name: str | None = None
    family: Id | None = None
    class_: Literal["A", "B", "C"] | None = Field(default=None, alias="class")
    unit: str = "pcs"
    lines: dict[str, LineRate] | None = None
    routing: list[Step] | None = None
    bom: dict[str, NonNegNumber] = {}
    opening_stock: NonNegNumber = Decimal(0)
    replenishment_days: NonNegNumber = Decimal(0)
    holding_cost: NonNegNumber = Decimal("0.01")
    price: NonNegNumber | None = None
    lot: LotRules = LotRules()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Receipt(Strict):
    """A scheduled material receipt (an open purchase order)."""

    at: PlantTime
    quantity: NonNegNumber


class Material(Strict):
    """A bought-in material consumed by the bills of materials."""

    id: Id
    name: str | None = None
    unit: str = "pcs"
    opening_stock: NonNegNumber = Decimal(0)
    receipts: list[Receipt] = []
    lead_time_days: Count = 0
    min_order_qty: NonNegNumber = Decimal(0)
    order_multiple: NonNegNumber = Decimal(1)
    safety_stock: NonNegNumber = Decimal(0)


class ForecastRow(Strict):
    """One forecast figure: product, date, quantity."""

    product: Id
    date: PlantDate
    quantity: NonNegNumber


class Order(Strict):
    """A confirmed customer order."""

    id: Id
    product: Id
    quantity: PosNumber
    due: PlantDate
    priority: Annotated[StrictInt, Field(ge=0, le=1000)] = 0
    customer: str | None = None


class Job(Strict):
    """A sized make-to-order job: a fixed quantity of a product, scheduled as it is.

    Its steps follow the product's routing (or its one step); each step runs in one piece
    on one of its work centres, inside one window of working time open to planned work.
    """

    id: Id
    product: Id
    quantity: PosNumber
    due: PlantTime | PlantDate | None = None
    release: PlantTime | None = None
    weight: NonNegNumber = Decimal(1)

    @field_validator("due", mode="before")
    @classmethod
    def _date_or_time(cls, value: object) -> object:
        """'2026-12-03' is a due date (end of its last shift), '2026-12-03T14:00' a due time."""
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                return value
        return value


class Demand(Strict):
    """The demand plan (R1) and the confirmed orders, inline or as CSV files."""

    forecast: dict[str, list[NonNegNumber]] | list[ForecastRow] = {}
    forecast_csv: str | None = None
    orders: list[Order] = []
    orders_csv: str | None = None


class BacklogItem(Strict):
    """Demand carried from last week (already due)."""

    product: Id
    quantity: PosNumber
    order_id: Id | None = None


class Wip(Strict):
    """Work in progress: the rest of the lot running on a line when the week starts.

    It runs first in the line's first working shift (no setup) and consumes no material
    (already issued).
    """

    line: Id
    product: Id
    quantity: PosNumber


class State(Strict):
    """What the week starts from."""

    backlog: list[BacklogItem] = []
    wip: list[Wip] = []


class AbcPolicy(Strict):
    """ABC split (R2)."""

    ratio: Annotated[list[Annotated[StrictInt, Field(ge=0, le=1000)]], Field(min_length=3, max_length=3)] = [1, 3, 6]
    basis: Literal["volume", "value"] = "volume"


class ClassWeights(Strict):
    """A weight per class."""

    A: NonNegNumber
    B: NonNegNumber
    C: NonNegNumber = Decimal(0)


class Weights(Strict):
    """Objective weights (cost units); see docs/scenario.md for the priority they encode."""

    order_backlog: ClassWeights = ClassWeights(A=Decimal(100), B=Decimal(90), C=Decimal(80))
    forecast_backlog: ClassWeights = ClassWeights(A=Decimal(10), B=Decimal(8), C=Decimal(0))
    min_stock_shortfall: ClassWeights = ClassWeights(A=Decimal(2), B=Decimal(1), C=Decimal(0))
    holding: NonNegNumber = Decimal(1)
    setup_cost: NonNegNumber = Decimal(1)
    overtime: NonNegNumber = Decimal(1)
    shift_cost: NonNegNumber = Decimal(1)
    nervousness: NonNegNumber = Decimal("0.5")
    makespan: NonNegNumber = Decimal(0)
    lateness: NonNegNumber = Decimal(0)
    changeover: NonNegNumber = Decimal(0)


class Policy(Strict):
    """The coordination policy: protected share (R9), ABC (R2), objective weights."""

    reserve_ratio: Annotated[Decimal, Field(ge=0, lt=1, decimal_places=4)] = Decimal("0.2")
    protected_window: Literal["end", "start", "floating"] = "end"
    release_fence_hours: Annotated[Decimal, Field(ge=0, le=24 * 14)] = Decimal(24)
    promise_buffer_days: Annotated[StrictInt, Field(ge=0, le=365)] = 1
    hard_demand: bool = False
    abc: AbcPolicy = AbcPolicy()
    weights: Weights = Weights()


class RushQuantity(Strict):
    """Rush-order quantities: uniform whole units between min and max, rounded to a multiple."""

    min: Annotated[StrictInt, Field(ge=1, le=1_000_000_000)]
    max: Annotated[StrictInt, Field(ge=1, le=1_000_000_000)]
    multiple: Annotated[StrictInt, Field(ge=1, le=1_000_000_000)] = 1


class RushOrders(Strict):
    """The stream of unplanned rush orders (R8) that the protected share must absorb.

    Either described (`rate_per_day`, `products` or `classes`, `quantity`,
    `lead_time_days`) or fitted from `history_csv` (columns date_received, product,
    quantity, due_date; relative to the scenario's folder). Given fields override fitted ones.
    """

    rate_per_day: Annotated[Decimal, Field(ge=0, le=1000)] | None = None
    products: list[Id] | None = None
    classes: list[Literal["A", "B", "C"]] | None = None
    quantity: RushQuantity | None = None
    lead_time_days: Annotated[Decimal, Field(ge=0, le=60)] | None = None
    history_csv: str | None = None
    weeks: Annotated[StrictInt, Field(ge=1, le=100_000)] = 200
    seed: Annotated[StrictInt, Field(ge=0, le=2**31 - 1)] = 0


class Solver(Strict):
    """Default solver settings (the command line overrides them)."""

    time_limit: Annotated[Decimal, Field(gt=0, le=86400)] = Decimal(20)
    workers: Annotated[StrictInt, Field(ge=1, le=64)] = 8
    seed: Annotated[StrictInt, Field(ge=0, le=2**31 - 1)] = 0
    relative_gap: Annotated[Decimal, Field(ge=0, lt=1)] = Decimal("0.0001")


class Mrp(Strict):
    """Material requirements planning settings."""

    horizon_days: Annotated[StrictInt, Field(ge=0, le=366)] = 14


class ScenarioFile(Strict):
    """The whole weekly scenario file."""

    name: str | None = None
    horizon: Horizon
    shift_templates: dict[str, ShiftTemplate]
    lines: Annotated[list[Line], Field(min_length=1)]
    calendar: list[Closure] = []
    products: Annotated[list[Product], Field(min_length=1)]
    changeovers: list[Changeover] = []
    materials: list[Material] = []
    demand: Demand = Demand()
    jobs: list[Job] = []
    crew_pool: dict[str, Annotated[StrictInt, Field(ge=0, le=100_000)]] = {}
    state: State = State()
    policy: Policy = Policy()
    solver: Solver = Solver()
    mrp: Mrp = Mrp()
    rush_orders: RushOrders | None = None
