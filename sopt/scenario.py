"""The weekly scenario: loading (strict, all problems at once) and the plain internal objects.

`load_scenario(path)` reads the YAML safely, validates it against `sopt.schema`, checks
every cross-reference, and returns a `Scenario` of frozen dataclasses with exact numbers
(`Fraction` for rates and material quantities, `Decimal` for the reserve ratio, integers
for product units and minutes). Invalid input raises `InputError` with one line per
problem in the form `FILE: path.to.field: message`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sopt import schema
from sopt.errors import InputError
from sopt.textfile import MAX_BYTES, read_text

CLASSES = ("A", "B", "C")
WEEKDAY_INDEX = {name: i for i, name in enumerate(schema.WEEKDAYS)}
MAX_INPUT_BYTES = MAX_BYTES  # one size limit for every file people give sopt
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when built: ~10x faster


@dataclass(frozen=True)
class Rate:
    """How fast a product runs on one line, and what a run's setup costs there."""

    line: str
    minutes_per_unit: Fraction
    setup_minutes: int
    setup_cost: Fraction


@dataclass(frozen=True)
class Step:
    """One routing step: the work centres that can do it and the materials it consumes."""

    id: str
    rates: Mapping[str, Rate]
    min_lag_minutes: int = 0
    transfer_minutes: int = 0
    materials: Mapping[str, Fraction] = field(default_factory=dict)


@dataclass(frozen=True)
class Product:
    """A finished product, or one step's output of a multi-step product (an item).

    A product with an n-step routing is planned as n items: the intermediate items
    `P/<step>` for steps 1..n-1 (`parent` = P) and P itself for the last step. Each item
    runs on its own step's work centres; step k > 1 consumes one unit of item k-1 per unit.
    `declared_class` is the class the scenario fixes, if any.
    """

    id: str
    name: str
    declared_class: str | None
    unit: str
    family: str | None
    steps: tuple[Step, ...]
    bom: Mapping[str, Fraction]
    opening_stock: int
    replenishment_days: Fraction
    holding_cost: Fraction
    price: Fraction | None
    min_run: int
    multiple: int
    parent: str | None = None  # the finished product of an intermediate item
    step_index: int = -1  # the routing step this item is the output of (-1: the last step)

    @property
    def step(self) -> Step:
        """The routing step this item is made by."""
        return self.steps[self.step_index]

    @property
    def rates(self) -> Mapping[str, Rate]:
        """Eligible lines (work centres) of this item's step."""
        return self.step.rates

    @property
    def multi_step(self) -> bool:
        """Whether the product's routing has more than one step."""
        return len(self.steps) > 1

    @property
    def previous_item(self) -> str | None:
        """The item this item's step consumes (the previous step's output), if any."""
        k = self.step_index % len(self.steps)
        if k == 0:
            return None
        root = self.parent or self.id
        return f"{root}/{self.steps[k - 1].id}"

    @property
    def lag_minutes(self) -> int:
        """Minutes between the previous step's output and its use by this step."""
        return self.step.min_lag_minutes + self.step.transfer_minutes

    @cached_property
    def materials(self) -> dict[str, Fraction]:
        """Material per unit this item's step consumes (the product BOM goes to the first step)."""
        out = dict(self.bom) if self.step_index % len(self.steps) == 0 else {}
        for m, q in self.step.materials.items():
            out[m] = out.get(m, Fraction(0)) + q
        return {m: q for m, q in out.items() if q > 0}

    @cached_property
    def routing_materials(self) -> dict[str, Fraction]:
        """Material per finished unit over the whole routing (BOM plus every step's materials)."""
        out = dict(self.bom)
        for step in self.steps:
            for m, q in step.materials.items():
                out[m] = out.get(m, Fraction(0)) + q
        return {m: q for m, q in out.items() if q > 0}


def step_items(p: Product) -> list[Product]:
    """The intermediate items of a multi-step product, in routing order (none for one step)."""
    return [replace(p, id=f"{p.id}/{st.id}", name=f"{p.name} / {st.id}", parent=p.id, step_index=k, bom=p.bom,
                    opening_stock=0, replenishment_days=Fraction(0), price=None)
            for k, st in enumerate(p.steps[:-1])]


@dataclass(frozen=True)
class ShiftTemplate:
    """A shift: clock start (minutes after midnight), length, breaks (offset, minutes)."""

    name: str
    start_minute: int
    length: int
    breaks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Line:
    """A production line with its weekly shift pattern and limits."""

    id: str
    name: str
    pattern: Mapping[int, tuple[str, ...]]  # weekday (0 = Monday) -> shift template names
    max_shifts_per_day: int | None
    shift_cost: Fraction
    overtime_max_per_shift: int
    overtime_max_per_week: int | None
    overtime_cost: Fraction
    last_product: str | None
    dates: Mapping[dt.date, tuple[str, ...]] = field(default_factory=dict)  # date-specific shifts
    crew: int = 0  # operators needed in every opened shift

    def shifts_on(self, date: dt.date) -> tuple[str, ...]:
        """The shift templates the line works on a date (a date entry overrides the weekday)."""
        if date in self.dates:
            return self.dates[date]
        return self.pattern.get(date.weekday(), ())


@dataclass(frozen=True)
class Closure:
    """Closed time on one line (or all lines when `line` is None)."""

    line: str | None
    start: dt.datetime
    end: dt.datetime
    reason: str


@dataclass(frozen=True)
class Material:
    """A bought-in material."""

    id: str
    name: str
    unit: str
    opening_stock: Fraction
    receipts: tuple[tuple[dt.datetime, Fraction], ...]
    lead_time_days: int
    min_order_qty: Fraction
    order_multiple: Fraction
    safety_stock: Fraction


@dataclass(frozen=True)
class Order:
    """A confirmed customer order (or a backlog item carried from last week)."""

    id: str
    product: str
    quantity: int
    due: dt.date
    priority: int = 0
    customer: str | None = None
    carried: bool = False


@dataclass(frozen=True)
class Wip:
    """Work in progress: the rest of the lot running on a line when the week starts."""

    line: str
    product: str
    quantity: int


@dataclass(frozen=True)
class Job:
    """A sized make-to-order job: a fixed quantity of a product, scheduled as it is."""

    id: str
    product: str
    quantity: int
    due: dt.datetime | None  # the end of the due date's last shift is resolved by the scheduler
    due_date: dt.date | None
    release: dt.datetime | None
    weight: Fraction


@dataclass(frozen=True)
class RushSpec:
    """The rush-order stream as the scenario gives it (fields left None are fitted or defaulted)."""

    rate_per_day: float | None
    products: tuple[str, ...] | None
    classes: tuple[str, ...] | None
    quantity: tuple[int, int, int] | None  # (min, max, multiple)
    lead_time_days: float | None
    history: tuple[tuple[dt.date, str, int, dt.date], ...]  # (received, product, quantity, due)
    weeks: int
    seed: int


@dataclass(frozen=True)
class Weights:
    """Objective weights in cost units (see docs/scenario.md)."""

    order_backlog: Mapping[str, Fraction]
    forecast_backlog: Mapping[str, Fraction]
    min_stock_shortfall: Mapping[str, Fraction]
    holding: Fraction
    setup_cost: Fraction
    overtime: Fraction
    shift_cost: Fraction
    nervousness: Fraction = Fraction(0)
    makespan: Fraction = Fraction(0)
    lateness: Fraction = Fraction(0)
    changeover: Fraction = Fraction(0)


@dataclass(frozen=True)
class Scenario:
    """A validated week. Index maps are precomputed; instances are immutable."""

    name: str
    source: str
    start: dt.date
    days: int
    templates: Mapping[str, ShiftTemplate]
    lines: tuple[Line, ...]
    closures: tuple[Closure, ...]
    products: tuple[Product, ...]
    materials: tuple[Material, ...]
    forecast: Mapping[str, tuple[int, ...]]  # product -> units per horizon day
    orders: tuple[Order, ...]
    wip: tuple[Wip, ...]
    reserve_ratio: Decimal
    protected_window: str
    abc_ratio: tuple[int, int, int]
    abc_basis: str
    weights: Weights
    time_limit: float
    workers: int
    seed: int
    relative_gap: float
    mrp_horizon_days: int
    release_fence_hours: float = 24.0
    promise_buffer_days: int = 1
    changeovers: Mapping[tuple[str | None, str, str], int] = field(default_factory=dict)
    rush: RushSpec | None = None
    hard_demand: bool = False
    jobs: tuple[Job, ...] = ()
    crew_pool: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    _lines_by_id: dict[str, Line] = field(init=False, repr=False, compare=False)
    _products_by_id: dict[str, Product] = field(init=False, repr=False, compare=False)
    _items: tuple[Product, ...] = field(init=False, repr=False, compare=False)
    _next_item: dict[str, str] = field(init=False, repr=False, compare=False)
    _materials_by_id: dict[str, Material] = field(init=False, repr=False, compare=False)
    _bounds: dict[tuple[str, str], int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lines_by_id", {x.id: x for x in self.lines})
        items = tuple(x for p in self.products for x in (*step_items(p), p))
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_next_item", {x.previous_item: x.id for x in items if x.previous_item is not None})
        object.__setattr__(self, "_products_by_id", {x.id: x for x in items})
        object.__setattr__(self, "_materials_by_id", {x.id: x for x in self.materials})
        object.__setattr__(self, "_bounds", {})

    @property
    def dates(self) -> list[dt.date]:
        """The plant dates of the horizon."""
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    @property
    def start_time(self) -> dt.datetime:
        """Midnight at the start of the horizon."""
        return dt.datetime.combine(self.start, dt.time())

    @property
    def items(self) -> tuple[Product, ...]:
        """What the plan makes: every finished product, preceded by its intermediate step items."""
        return self._items

    def next_item(self, item_id: str) -> str | None:
        """The step item that consumes this one (None for a finished product)."""
        return self._next_item.get(item_id)

    def finished(self, item_id: str) -> str:
        """The finished product an item belongs to (itself for a finished product)."""
        return self.product(item_id).parent or item_id

    def line(self, line_id: str) -> Line:
        """The line with this id."""
        return self._lines_by_id[line_id]

    def product(self, product_id: str) -> Product:
        """The product with this id."""
        return self._products_by_id[product_id]

    def material(self, material_id: str) -> Material:
        """The material with this id."""
        return self._materials_by_id[material_id]

    def changeover(self, line: str, prev: str | None, nxt: str) -> int:
        """Changeover minutes on a line from product `prev` (None: unknown) to product `nxt`."""
        if prev is None:
            return self.setup_bound(line, nxt)
        if prev == nxt:
            return 0
        fam_prev, fam_next = self.product(prev).family, self.product(nxt).family
        prev, nxt_key = self.finished(prev), self.finished(nxt)  # step items change over like their product
        for ln in (line, None):
            for a, b in ((prev, nxt_key), (prev, fam_next), (fam_prev, nxt_key), (fam_prev, fam_next)):
                if a is not None and b is not None and (ln, a, b) in self.changeovers:
                    return self.changeovers[(ln, a, b)]
        return self.product(nxt).rates[line].setup_minutes

    def setup_bound(self, line: str, product: str) -> int:
        """The longest changeover into a product on a line: what the planning stage reserves."""
        key = (line, product)
        found = self._bounds.get(key)
        if found is None:
            others = [q.id for q in self.items if q.id != product and line in q.rates]
            found = max([self.product(product).rates[line].setup_minutes]
                        + [self.changeover(line, q, product) for q in others])
            self._bounds[key] = found
        return found

    def with_reserve(self, ratio: Decimal) -> Scenario:
        """The same week with another protected-capacity share."""
        if not (Decimal(0) <= ratio < Decimal(1)):
            raise InputError([f"--reserve: {ratio} is outside 0 <= r < 1"])
        return dataclasses.replace(self, reserve_ratio=ratio)


# ----------------------------------------------------------------------------- loading


def _loc_path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue  # pydantic's union/validator tags, not a field
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _pydantic_problems(fname: str, err: ValidationError) -> list[str]:
    seen: list[str] = []
    for e in err.errors():
        path = _loc_path(e["loc"])
        kind = e["type"]
        if kind == "extra_forbidden":
            msg = "unknown key"
        elif kind == "missing":
            msg = "required field is missing"
        elif kind == "value_error":
            msg = e["msg"].removeprefix("Value error, ")
        else:
            msg = e["msg"]
            value = e.get("input")
            if kind not in ("model_type", "dict_type", "list_type") and not isinstance(value, (dict, list)):
                msg += f" (got {value!r})"
        line = f"{fname}: {path}: {msg}"
        if line not in seen:
            seen.append(line)
    return seen


def _row_problems(fname: str, where: str, err: ValidationError) -> list[str]:
    """Problems of one CSV row, placed under `where` (the CSV field and line)."""
    return [f"{fname}: {where}.{line.partition(': ')[2]}" for line in _pydantic_problems(fname, err)]


def read_yaml(path: Path) -> Any:
    """Read a YAML file safely (no object construction), as InputError on any problem."""
    fname = path.name
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise InputError([f"{fname}: file: larger than {MAX_INPUT_BYTES // 2**20} MiB"])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise InputError([f"{path}: file: is a folder, not a scenario file"]) from None
    except OSError as e:
        raise InputError([f"{path}: file: cannot be read ({e.strerror})"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError([f"{fname}: file: not UTF-8 text (byte {e.start})"]) from None
    try:
        return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader: no object construction
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(top level)"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError([f"{fname}: {where}: broken YAML: {problem}"]) from None


ALLOW_ENV = "SOPT_ALLOWED_FOLDERS"


def allowed_folders(base: Path) -> list[Path]:
    """Folders a scenario in `base` may read CSV files from: its own folder and below, plus
    the folders the user lists in the environment variable SOPT_ALLOWED_FOLDERS (separated
    by the platform's path separator, ':' or ';')."""
    extra = [Path(f).expanduser().resolve() for f in os.environ.get(ALLOW_ENV, "").split(os.pathsep) if f.strip()]
    return [base.resolve(), *extra]


def _read_csv(base: Path, rel: str, fname: str, field_path: str, columns: list[str]) -> list[dict[str, str]]:
    target = (base / rel).resolve()
    if not any(target.is_relative_to(folder) for folder in allowed_folders(base)):
        raise InputError([f"{fname}: {field_path}: '{rel}' is outside the scenario's folder (to allow another "
                          f"folder: {ALLOW_ENV}=FOLDER)"])
    try:  # the size limit, UTF-8 (UTF-16 and binary files named as such) as for every input file
        text = read_text(target, rel)
    except InputError as e:
        raise InputError([f"{fname}: {field_path}: {problem}" for problem in e.problems]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError([f"{fname}: {field_path}: '{rel}' lacks columns {', '.join(missing)}"])
        # short rows read as empty cells, cells beyond the header are dropped
        return [{k: v or "" for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as e:
        raise InputError([f"{fname}: {field_path}: '{rel}' line {reader.line_num}: not valid CSV ({e})"]) from None


def _frac(x: Decimal | int | None) -> Fraction:
    return Fraction(0) if x is None else Fraction(x)


def _whole(x: Decimal, where: str, problems: list[str]) -> int:
    if x != x.to_integral_value():
        problems.append(f"{where}: {x} is not a whole number of units")
    return int(x)


def _clock(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _weekdays(key: str) -> list[int] | None:
    key = key.strip().lower()
    if key in ("all", "daily", "default"):
        return list(range(7))
    if "-" in key:
        a, _, b = key.partition("-")
        if a in WEEKDAY_INDEX and b in WEEKDAY_INDEX and WEEKDAY_INDEX[a] <= WEEKDAY_INDEX[b]:
            return list(range(WEEKDAY_INDEX[a], WEEKDAY_INDEX[b] + 1))
        return None
    if key in WEEKDAY_INDEX:
        return [WEEKDAY_INDEX[key]]
    return None


def _overlapping_shift(line: Line, templates: Mapping[str, ShiftTemplate], start: dt.date, days: int) -> str | None:
    """The first overlap of two of a line's shifts in the horizon (long shifts included), or None."""
    spans = []
    for k in range(days):
        date = start + dt.timedelta(days=k)
        base = k * 24 * 60
        for n in line.shifts_on(date):
            if n in templates:
                t = templates[n]
                spans.append((base + t.start_minute, base + t.start_minute + t.length, date, n))
    spans.sort()
    for (_, e1, d1, n1), (s2, _, d2, n2) in zip(spans, spans[1:]):
        if s2 < e1:
            return f"shift '{n1}' of {d1} runs into shift '{n2}' of {d2}"
    return None


def _known(ids: Iterable[str]) -> str:
    ids = list(dict.fromkeys(ids))
    shown = ", ".join(ids[:12]) + (", ..." if len(ids) > 12 else "")
    return f"(known: {shown})" if ids else "(none defined)"


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file; raise InputError listing every problem."""
    path = Path(path)
    data = read_yaml(path)
    return build_scenario(data, path)


def _raw_references(fname: str, data: dict[str, Any]) -> list[str]:
    """Reference problems found in raw data when the schema already failed (all problems at once)."""
    out: list[str] = []

    def items(key: str) -> list[tuple[int, dict[str, Any]]]:
        v = data.get(key)
        return [(i, x) for i, x in enumerate(v) if isinstance(x, dict)] if isinstance(v, list) else []

    def ids(key: str) -> list[str]:
        return [str(x["id"]) for _, x in items(key) if "id" in x]

    templates = data.get("shift_templates") if isinstance(data.get("shift_templates"), dict) else {}
    for key in ("lines", "products", "materials"):
        seen: set[str] = set()
        for i, x in items(key):
            if "id" in x and str(x["id"]) in seen:
                out.append(f"{fname}: {key}[{i}].id: duplicate {key[:-1]} id '{x['id']}'")
            seen.add(str(x.get("id")))
    line_ids, product_ids, material_ids = ids("lines"), ids("products"), ids("materials")
    for i, ln in items("lines"):
        shifts = ln.get("shifts")
        for day, names in (shifts.items() if isinstance(shifts, dict) else []):
            for n in names if isinstance(names, list) else []:
                if isinstance(n, str) and n not in (templates or {}):
                    out.append(f"{fname}: lines[{i}].shifts.{day}: shift template '{n}' is not defined {_known(templates or {})}")
    for i, p in items("products"):
        for lid in p.get("lines") or {} if isinstance(p.get("lines"), dict) else {}:
            if lid not in line_ids:
                out.append(f"{fname}: products[{i}].lines.{lid}: line '{lid}' is not defined {_known(line_ids)}")
        for mid in p.get("bom") or {} if isinstance(p.get("bom"), dict) else {}:
            if mid not in material_ids:
                out.append(f"{fname}: products[{i}].bom.{mid}: material '{mid}' is not defined {_known(material_ids)}")
    demand = data.get("demand") if isinstance(data.get("demand"), dict) else {}
    orders = (demand or {}).get("orders")
    for j, o in enumerate(orders if isinstance(orders, list) else []):
        if isinstance(o, dict) and "product" in o and str(o["product"]) not in product_ids:
            out.append(f"{fname}: demand.orders[{j}].product: product '{o['product']}' is not defined {_known(product_ids)}")
    return out


def build_scenario(data: Any, path: Path) -> Scenario:
    """Validate parsed YAML data (from `path`, for messages and relative CSV files)."""
    fname = path.name
    if data is None:
        raise InputError([f"{fname}: (top level): the file is empty"])
    if not isinstance(data, dict):
        raise InputError([f"{fname}: (top level): expected a mapping of scenario fields, got {type(data).__name__}"])
    try:
        raw = schema.ScenarioFile.model_validate(data)
    except ValidationError as e:
        found = _pydantic_problems(fname, e)
        found += [p for p in _raw_references(fname, data) if p not in found]
        raise InputError(found) from None
    problems: list[str] = []
    warnings: list[str] = []
    base = path.parent

    def bad(where: str, msg: str) -> None:
        problems.append(f"{fname}: {where}: {msg}")

    start = raw.horizon.start
    days = raw.horizon.days
    end_date = start + dt.timedelta(days=days)

    # shift templates
    templates: dict[str, ShiftTemplate] = {}
    for name, t in raw.shift_templates.items():
        where = f"shift_templates.{name}"
        if (t.hours is None) == (t.minutes is None):
            bad(where, "give exactly one of 'hours' or 'minutes'")
            continue
        length = Decimal(t.minutes) if t.minutes is not None else Decimal(t.hours or 0) * 60
        if length != length.to_integral_value():
            bad(f"{where}.hours", f"{t.hours} hours is not a whole number of minutes")
            continue
        length = int(length)
        s0 = _clock(t.start)
        brks: list[tuple[int, int]] = []
        for j, b in enumerate(t.breaks):
            off = (_clock(b.start) - s0) % (24 * 60)
            if off + b.minutes > length or off == 0 and b.minutes >= length:
                bad(f"{where}.breaks[{j}]", f"break {b.start}+{b.minutes}min is not inside the shift {t.start}+{length}min")
                continue
            brks.append((off, b.minutes))
        brks.sort()
        for (o1, m1), (o2, _) in zip(brks, brks[1:]):
            if o2 < o1 + m1:
                bad(f"{where}.breaks", "breaks overlap")
        if sum(m for _, m in brks) >= length:
            bad(f"{where}.breaks", "breaks leave no working time")
        templates[name] = ShiftTemplate(name, s0, length, tuple(brks))

    # lines
    lines: list[Line] = []
    line_ids: list[str] = []
    for i, ln in enumerate(raw.lines):
        where = f"lines[{i}]"
        if ln.id in line_ids:
            bad(f"{where}.id", f"duplicate line id '{ln.id}'")
        line_ids.append(ln.id)
    product_ids = [p.id for p in raw.products]
    material_ids = [m.id for m in raw.materials]
    for i, ln in enumerate(raw.lines):
        where = f"lines[{i}]"
        pattern: dict[int, list[str]] = {}
        on_dates: dict[dt.date, tuple[str, ...]] = {}
        for key, names in ln.shifts.items():
            for n in names:
                if n not in raw.shift_templates:
                    bad(f"{where}.shifts.{key}", f"shift template '{n}' is not defined {_known(raw.shift_templates)}")
            days_of = _weekdays(key)
            if days_of is None:
                try:
                    on_dates[dt.date.fromisoformat(str(key).strip())] = tuple(names)
                except ValueError:
                    bad(f"{where}.shifts.{key}", "not a weekday (mon..sun), a range like mon-fri, 'all' or a date YYYY-MM-DD")
                continue
            for d in days_of:
                pattern[d] = list(names)  # later keys override earlier ones
        for d, names in pattern.items():
            # a shift running past midnight must end before the next day's first shift starts
            late_end = max((templates[n].start_minute + templates[n].length for n in names if n in templates), default=0)
            next_start = min((templates[n].start_minute for n in pattern.get((d + 1) % 7, []) if n in templates), default=None)
            if next_start is not None and late_end > 24 * 60 + next_start:
                bad(f"{where}.shifts", f"a shift on {schema.WEEKDAYS[d]} runs into the first shift of {schema.WEEKDAYS[(d + 1) % 7]}")
            if len(set(names)) != len(names):
                bad(f"{where}.shifts", f"a shift template repeats on {schema.WEEKDAYS[d]}")
            spans = sorted((templates[n].start_minute, templates[n].start_minute + templates[n].length) for n in names if n in templates)
            for (_, a1), (b0, _) in zip(spans, spans[1:]):
                if b0 < a1:
                    bad(f"{where}.shifts", f"shifts overlap on {schema.WEEKDAYS[d]}")
        if ln.last_product is not None and ln.last_product not in product_ids:
            bad(f"{where}.last_product", f"product '{ln.last_product}' is not defined {_known(product_ids)}")
        line = Line(
            id=ln.id, name=ln.name or ln.id,
            pattern={d: tuple(v) for d, v in sorted(pattern.items())},
            max_shifts_per_day=ln.max_shifts_per_day, shift_cost=_frac(ln.shift_cost),
            overtime_max_per_shift=ln.overtime.max_minutes_per_shift,
            overtime_max_per_week=ln.overtime.max_minutes_per_week,
            overtime_cost=_frac(ln.overtime.cost_per_minute), last_product=ln.last_product,
            dates=dict(sorted(on_dates.items())), crew=ln.crew,
        )
        clash = _overlapping_shift(line, templates, start, days)
        if clash:
            bad(f"{where}.shifts", clash)
        lines.append(line)

    # calendar exceptions
    closures: list[Closure] = []
    for i, c in enumerate(raw.calendar):
        where = f"calendar[{i}]"
        if c.line is not None and c.line not in line_ids:
            bad(f"{where}.line", f"line '{c.line}' is not defined {_known(line_ids)}")
        if c.date is not None and (c.start is not None or c.end is not None):
            bad(where, "give either 'date' or 'start' and 'end', not both")
            continue
        if c.date is not None:
            s = dt.datetime.combine(c.date, dt.time())
            closures.append(Closure(c.line, s, s + dt.timedelta(days=1), c.reason))
        elif c.start is not None and c.end is not None:
            if c.start.tzinfo is not None or c.end.tzinfo is not None:
                bad(where, "times are plant local time and carry no time zone")
                continue
            if c.end <= c.start:
                bad(f"{where}.end", f"end {c.end:%Y-%m-%dT%H:%M} is not after start {c.start:%Y-%m-%dT%H:%M}")
                continue
            closures.append(Closure(c.line, c.start, c.end, c.reason))
        else:
            bad(where, "give a 'date', or a 'start' and an 'end'")

    # materials
    materials: list[Material] = []
    seen: set[str] = set()
    for i, m in enumerate(raw.materials):
        where = f"materials[{i}]"
        if m.id in seen:
            bad(f"{where}.id", f"duplicate material id '{m.id}'")
        seen.add(m.id)
        if m.order_multiple == 0:
            bad(f"{where}.order_multiple", "must be greater than 0")
        for j, r in enumerate(m.receipts):
            if r.at.tzinfo is not None:
                bad(f"{where}.receipts[{j}].at", "times are plant local time and carry no time zone")
        materials.append(Material(
            id=m.id, name=m.name or m.id, unit=m.unit, opening_stock=_frac(m.opening_stock),
            receipts=tuple(sorted((r.at.replace(tzinfo=None), _frac(r.quantity)) for r in m.receipts)),
            lead_time_days=m.lead_time_days, min_order_qty=_frac(m.min_order_qty),
            order_multiple=_frac(m.order_multiple), safety_stock=_frac(m.safety_stock),
        ))

    # products
    products: list[Product] = []
    seen = set()

    def rate(where: str, line_id: str, r: schema.LineRate, multiple: int = 1) -> Rate | None:
        if line_id not in line_ids:
            bad(f"{where}.{line_id}", f"line '{line_id}' is not defined {_known(line_ids)}")
            return None
        given = [x for x in (r.minutes_per_unit, r.rate_per_hour, r.minutes_per_lot) if x is not None]
        if len(given) != 1:
            bad(f"{where}.{line_id}", "give exactly one of 'minutes_per_unit', 'rate_per_hour' or 'minutes_per_lot'")
            return None
        if r.minutes_per_unit is not None:
            mpu = Fraction(r.minutes_per_unit)
        elif r.rate_per_hour is not None:
            mpu = Fraction(60) / Fraction(r.rate_per_hour)
        else:  # a fixed time per lot of `lot.multiple` units (a batch)
            mpu = Fraction(r.minutes_per_lot or 0) / multiple
        if mpu.denominator > 10**6:
            bad(f"{where}.{line_id}", "speed has more precision than sopt supports (at most 6 decimals)")
            return None
        return Rate(line_id, mpu, r.setup_minutes, _frac(r.setup_cost))

    def mats(where: str, bom: Mapping[str, Decimal]) -> dict[str, Fraction]:
        out = {}
        for mid, q in bom.items():
            if mid not in material_ids:
                bad(f"{where}.{mid}", f"material '{mid}' is not defined {_known(material_ids)}")
            out[mid] = Fraction(q)
        return out

    for i, p in enumerate(raw.products):
        where = f"products[{i}]"
        if p.id in seen:
            bad(f"{where}.id", f"duplicate product id '{p.id}'")
        seen.add(p.id)
        steps: list[Step] = []
        if (p.lines is None) == (p.routing is None):
            bad(where, "give exactly one of 'lines' (a one-step product) or 'routing'")
        elif p.lines is not None:
            if not p.lines:
                bad(f"{where}.lines", "a product needs at least one line")
            rates = {lid: r for lid, lr in p.lines.items() if (r := rate(f"{where}.lines", lid, lr, p.lot.multiple))}
            steps.append(Step("make", rates))
        else:
            assert p.routing is not None
            if not p.routing:
                bad(f"{where}.routing", "a routing needs at least one step")
            step_ids = [st.id for st in p.routing]
            if len(set(step_ids)) != len(step_ids):
                bad(f"{where}.routing", "step ids repeat")
            for j, st in enumerate(p.routing):
                swhere = f"{where}.routing[{j}]"
                if not st.work_centres:
                    bad(f"{swhere}.work_centres", "a step needs at least one work centre")
                rates = {lid: r for lid, lr in st.work_centres.items()
                         if (r := rate(f"{swhere}.work_centres", lid, lr, p.lot.multiple))}
                steps.append(Step(st.id, rates, st.min_lag_minutes, st.transfer_minutes, mats(f"{swhere}.materials", st.materials)))
        products.append(Product(
            id=p.id, name=p.name or p.id, declared_class=p.class_, unit=p.unit, family=p.family, steps=tuple(steps),
            bom=mats(f"{where}.bom", p.bom),
            opening_stock=_whole(p.opening_stock, f"{fname}: {where}.opening_stock", problems),
            replenishment_days=_frac(p.replenishment_days), holding_cost=_frac(p.holding_cost),
            price=None if p.price is None else _frac(p.price), min_run=p.lot.min_run, multiple=p.lot.multiple,
        ))

    for i, prod in enumerate(products):
        for item in step_items(prod):
            if item.id in seen:
                bad(f"products[{i}].routing", f"step item '{item.id}' has the same id as a product")

    # demand: forecast
    forecast: dict[str, list[int]] = {pid: [0] * days for pid in product_ids}

    def add_forecast(where: str, pid: str, date: dt.date, qty: Decimal) -> None:
        if pid not in forecast:
            bad(f"{where}.product", f"product '{pid}' is not defined {_known(product_ids)}")
            return
        if not (start <= date < end_date):
            warnings.append(f"{fname}: {where}: forecast for {date} is outside the horizon and is ignored")
            return
        forecast[pid][(date - start).days] += _whole(qty, f"{fname}: {where}.quantity", problems)

    fc = raw.demand.forecast
    if isinstance(fc, dict):
        for pid, qtys in fc.items():
            where = f"demand.forecast.{pid}"
            if pid not in forecast:
                bad(where, f"product '{pid}' is not defined {_known(product_ids)}")
                continue
            if len(qtys) != days:
                bad(where, f"{len(qtys)} daily figures for a {days}-day horizon")
                continue
            for d, q in enumerate(qtys):
                forecast[pid][d] += _whole(q, f"{fname}: {where}[{d}]", problems)
    else:
        for j, row in enumerate(fc):
            add_forecast(f"demand.forecast[{j}]", row.product, row.date, row.quantity)
    if raw.demand.forecast_csv:
        rows = _read_csv(base, raw.demand.forecast_csv, fname, "demand.forecast_csv", ["product", "date", "quantity"])
        for j, row in enumerate(rows):
            where = f"demand.forecast_csv[{j + 2}]"  # CSV line number
            try:
                fr = schema.ForecastRow.model_validate(row)
            except ValidationError as e:
                problems.extend(_row_problems(fname, where, e))
                continue
            add_forecast(where, fr.product, fr.date, fr.quantity)

    # demand: orders (+ backlog carried from last week)
    orders: list[Order] = []
    order_ids: set[str] = set()

    def add_order(where: str, o: schema.Order) -> None:
        if o.id in order_ids:
            bad(f"{where}.id", f"duplicate order id '{o.id}'")
        order_ids.add(o.id)
        if o.product not in product_ids:
            bad(f"{where}.product", f"product '{o.product}' is not defined {_known(product_ids)}")
        qty = _whole(o.quantity, f"{fname}: {where}.quantity", problems)
        due = o.due
        carried = False
        if due < start:
            warnings.append(f"{fname}: {where}.due: {due} is before the horizon; treated as overdue on {start}")
            due, carried = start, True
        orders.append(Order(o.id, o.product, qty, due, o.priority, o.customer, carried))

    for j, o in enumerate(raw.demand.orders):
        add_order(f"demand.orders[{j}]", o)
    if raw.demand.orders_csv:
        rows = _read_csv(base, raw.demand.orders_csv, fname, "demand.orders_csv", ["id", "product", "quantity", "due"])
        for j, row in enumerate(rows):
            where = f"demand.orders_csv[{j + 2}]"
            clean = {k: v for k, v in row.items() if k and v not in (None, "")}
            if "priority" in clean:
                try:
                    clean["priority"] = int(clean["priority"])  # type: ignore[assignment]
                except ValueError:
                    bad(f"{where}.priority", f"not a whole number (got {clean['priority']!r})")
                    continue
            try:
                o = schema.Order.model_validate(clean)
            except ValidationError as e:
                problems.extend(_row_problems(fname, where, e))
                continue
            add_order(where, o)
    for j, b in enumerate(raw.state.backlog):
        where = f"state.backlog[{j}]"
        if b.product not in product_ids:
            bad(f"{where}.product", f"product '{b.product}' is not defined {_known(product_ids)}")
        oid = b.order_id or f"BACKLOG-{b.product}"
        if oid in order_ids:
            bad(f"{where}.order_id", f"duplicate order id '{oid}'")
        order_ids.add(oid)
        qty = _whole(b.quantity, f"{fname}: {where}.quantity", problems)
        orders.append(Order(oid, b.product, qty, start, 0, None, True))

    wips: list[Wip] = []
    wip_lines: set[str] = set()
    for j, w in enumerate(raw.state.wip):
        where = f"state.wip[{j}]"
        if w.line not in line_ids:
            bad(f"{where}.line", f"line '{w.line}' is not defined {_known(line_ids)}")
        if w.line in wip_lines:
            bad(f"{where}.line", f"line '{w.line}' has work in progress twice")
        wip_lines.add(w.line)
        if w.product not in product_ids:
            bad(f"{where}.product", f"product '{w.product}' is not defined {_known(product_ids)}")
        else:
            prod = next(p for p in products if p.id == w.product)
            if prod.steps and w.line not in prod.rates:
                bad(f"{where}.line", f"product '{w.product}' does not run on line '{w.line}'")
        wips.append(Wip(w.line, w.product, _whole(w.quantity, f"{fname}: {where}.quantity", problems)))

    # sequence-dependent changeovers
    families = {p.family for p in raw.products if p.family}
    changeovers: dict[tuple[str | None, str, str], int] = {}
    for j, co in enumerate(raw.changeovers):
        where = f"changeovers[{j}]"
        for key, ref in (("from", co.from_), ("to", co.to)):
            if ref not in product_ids and ref not in families:
                bad(f"{where}.{key}", f"'{ref}' is neither a product nor a family {_known([*product_ids, *sorted(families)])}")
        if co.line is not None and co.line not in line_ids:
            bad(f"{where}.line", f"line '{co.line}' is not defined {_known(line_ids)}")
        if (co.line, co.from_, co.to) in changeovers:
            bad(where, f"changeover {co.from_} -> {co.to} is given twice")
        changeovers[(co.line, co.from_, co.to)] = co.minutes
    for i, ln in enumerate(raw.lines):
        lp = ln.last_product
        if lp is not None and lp in product_ids:
            prod = next(p for p in products if p.id == lp)
            if prod.steps and ln.id not in prod.rates:
                bad(f"lines[{i}].last_product", f"product '{lp}' does not run on line '{ln.id}'")

    rush: RushSpec | None = None
    if raw.rush_orders is not None:
        ro = raw.rush_orders
        history: list[tuple[dt.date, str, int, dt.date]] = []
        if ro.history_csv:
            rows = _read_csv(base, ro.history_csv, fname, "rush_orders.history_csv",
                             ["date_received", "product", "quantity", "due_date"])
            for j, row in enumerate(rows):
                where = f"rush_orders.history_csv[{j + 2}]"
                try:
                    received = dt.date.fromisoformat(row["date_received"].strip()[:10])
                    due = dt.date.fromisoformat(row["due_date"].strip()[:10])
                    qty = int(row["quantity"])
                except (ValueError, AttributeError):
                    bad(where, f"needs ISO dates and a whole quantity (got {dict(row)})")
                    continue
                if row["product"] not in product_ids:
                    bad(f"{where}.product", f"product '{row['product']}' is not defined {_known(product_ids)}")
                    continue
                if any(p.id == row["product"] and p.multi_step for p in products):
                    bad(f"{where}.product", f"product '{row['product']}' has a multi-step routing; rush orders "
                        "cover one-step products only")
                    continue
                if qty <= 0 or due < received:
                    bad(where, "quantity must be positive and due_date not before date_received")
                    continue
                history.append((received, row["product"], qty, due))
            if not history:
                bad("rush_orders.history_csv", f"'{ro.history_csv}' holds no rush orders")
        for j, pid in enumerate(ro.products or []):
            if pid not in product_ids:
                bad(f"rush_orders.products[{j}]", f"product '{pid}' is not defined {_known(product_ids)}")
            elif any(p.id == pid and p.multi_step for p in products):
                bad(f"rush_orders.products[{j}]", f"product '{pid}' has a multi-step routing; rush orders cover "
                    "one-step products only")
        if ro.quantity is not None and ro.quantity.max < ro.quantity.min:
            bad("rush_orders.quantity.max", f"{ro.quantity.max} is below min {ro.quantity.min}")
        if not ro.history_csv and ro.rate_per_day is None:
            bad("rush_orders", "give rate_per_day (and quantity, lead_time_days) or a history_csv to fit them from")
        if not ro.history_csv and ro.quantity is None:
            bad("rush_orders.quantity", "give the quantity range (or a history_csv to fit it from)")
        rush = RushSpec(
            rate_per_day=None if ro.rate_per_day is None else float(ro.rate_per_day),
            products=tuple(ro.products) if ro.products else None,
            classes=tuple(ro.classes) if ro.classes else None,
            quantity=None if ro.quantity is None else (ro.quantity.min, ro.quantity.max, ro.quantity.multiple),
            lead_time_days=None if ro.lead_time_days is None else float(ro.lead_time_days),
            history=tuple(history), weeks=ro.weeks, seed=ro.seed)

    pol = raw.policy
    r = pol.reserve_ratio
    if r > 0 and not (Decimal("0.1") <= r <= Decimal("0.4")):
        warnings.append(f"{fname}: policy.reserve_ratio: {r} is outside the policy range 0.10-0.40 (R9)")
    if r == 0:
        warnings.append(f"{fname}: policy.reserve_ratio: 0 reserves no capacity: no rush order can be inserted (R9)")
    if sum(pol.abc.ratio) == 0:
        bad("policy.abc.ratio", "the ratio must not be all zero")
    if pol.abc.basis == "value":
        for i, p in enumerate(raw.products):
            if p.price is None:
                bad(f"products[{i}].price", "abc.basis is 'value' but this product has no price")
    w = pol.weights

    def cw(x: schema.ClassWeights) -> dict[str, Fraction]:
        return {"A": Fraction(x.A), "B": Fraction(x.B), "C": Fraction(x.C)}

    jobs: list[Job] = []
    job_ids: set[str] = set()
    for j, jb in enumerate(raw.jobs):
        where = f"jobs[{j}]"
        if jb.id in job_ids or jb.id in order_ids:
            bad(f"{where}.id", f"duplicate job id '{jb.id}' (job and order ids share one name space)")
        job_ids.add(jb.id)
        if jb.product not in product_ids:
            bad(f"{where}.product", f"product '{jb.product}' is not defined {_known(product_ids)}")
        due_at: dt.datetime | None = None
        due_day: dt.date | None = None
        if isinstance(jb.due, dt.datetime):
            if jb.due.tzinfo is not None:
                bad(f"{where}.due", "times are plant local time and carry no time zone")
            due_at = jb.due.replace(tzinfo=None)
        elif jb.due is not None:
            due_day = jb.due
        if jb.release is not None and jb.release.tzinfo is not None:
            bad(f"{where}.release", "times are plant local time and carry no time zone")
        qty = _whole(jb.quantity, f"{fname}: {where}.quantity", problems)
        prod = next((p for p in products if p.id == jb.product), None)
        if prod is not None and (qty < prod.min_run or qty % prod.multiple):
            bad(f"{where}.quantity", f"{qty} breaks product '{jb.product}' lot rules (min_run {prod.min_run}, "
                f"multiple {prod.multiple})")
        jobs.append(Job(jb.id, jb.product, qty, due_at, due_day,
                        None if jb.release is None else jb.release.replace(tzinfo=None), _frac(jb.weight)))
    job_products = {jb.product for jb in jobs}
    for pid in sorted(job_products):
        if sum(forecast.get(pid, ())) > 0 or any(o.product == pid for o in orders):
            bad("jobs", f"product '{pid}' has both jobs and forecast/orders: give its demand one way")
    for name in raw.crew_pool:
        if name not in raw.shift_templates:
            bad(f"crew_pool.{name}", f"shift template '{name}' is not defined {_known(raw.shift_templates)}")

    if problems:
        raise InputError(problems)
    a, b, c = pol.abc.ratio
    return Scenario(
        name=raw.name or path.stem, source=str(path), start=start, days=days, templates=templates,
        lines=tuple(lines), closures=tuple(closures), products=tuple(products), materials=tuple(materials),
        forecast={k: tuple(v) for k, v in forecast.items()}, orders=tuple(orders), wip=tuple(wips),
        reserve_ratio=r, protected_window=pol.protected_window, abc_ratio=(a, b, c), abc_basis=pol.abc.basis,
        weights=Weights(cw(w.order_backlog), cw(w.forecast_backlog), cw(w.min_stock_shortfall),
                        Fraction(w.holding), Fraction(w.setup_cost), Fraction(w.overtime), Fraction(w.shift_cost),
                        Fraction(w.nervousness), Fraction(w.makespan), Fraction(w.lateness), Fraction(w.changeover)),
        time_limit=float(raw.solver.time_limit), workers=raw.solver.workers, seed=raw.solver.seed,
        relative_gap=float(raw.solver.relative_gap), mrp_horizon_days=raw.mrp.horizon_days,
        release_fence_hours=float(pol.release_fence_hours), promise_buffer_days=pol.promise_buffer_days,
        changeovers=changeovers, rush=rush, hard_demand=pol.hard_demand, jobs=tuple(jobs),
        crew_pool=dict(raw.crew_pool), warnings=tuple(warnings),
    )


def ceil_int(x: Fraction | Decimal | float) -> int:
    """Ceiling as int, exact for Fraction and Decimal."""
    return math.ceil(x)
