"""The plan checker: verify a written (or in-memory) plan against the scenario, without CP-SAT.

`check_plan(scenario, outdir)` reads `schedule.csv`, `capacity.csv` and `production_plan.csv`
of a plan folder; `check_tables(scenario, schedule, capacity, production_plan)` runs the same
checks on in-memory rows (values may be strings or numbers), so a solver's plan can be checked
before it is written. Every rule is recomputed from the scenario with exact arithmetic
(`Fraction`, `Decimal`); every broken rule is reported, the checker never stops at the first.

Rules (CONTRACT.md, DOMAIN.md):

- eligibility / class: known line, shift and product; the product runs on the line; the
  class is the week's ABC class; quantities are positive integers; numbers parse.
- R4 calendar / overlap: a run lies inside its open shift (plus the shift's opened overtime)
  and has enough working minutes for its setup and run time; runs on a line never overlap.
- R9 capacity / protected window: W and P of each line-shift are recomputed; planned minutes
  fit in W - P + overtime + released; planned runs stay out of the protected window.
- R4 overtime / R4 shift limit: overtime within the per-shift and per-week caps; open
  shifts per line and date within `max_shifts_per_day`.
- run time / setup / lot rules: per (line, shift, product) batch, enough run minutes for the
  quantity, a setup on its first row (unless carried over into the week), lot minimum and
  multiple (work in progress excepted).
- R5 material: cumulative consumption, bucketed at shift starts, never exceeds opening stock
  plus the receipts due by then.
- stock balance: `production_plan` agrees with the schedule and the demand.
- C make-to-order: cumulative production of a C product within its confirmed orders.
- wip / order_ids / run id: the week's work in progress is in the plan where it must be;
  pegged orders exist, belong to the run's product and do not exceed the quantities.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sopt.abc import classify
from sopt.calendar import LineShift, build_shifts
from sopt.demand import ProductDemand, add_step_items, build_demand
from sopt.scenario import Scenario

if TYPE_CHECKING:
    import pandas

MINUTE = dt.timedelta(minutes=1)
UTILIZATION_TOLERANCE = Fraction(6, 1000)  # utilization may be written rounded

SCHEDULE_COLUMNS = ("run_id", "line", "shift", "shift_start", "shift_end", "start", "end",
                    "product", "class", "quantity", "setup_minutes", "run_minutes", "order_ids")
CAPACITY_COLUMNS = ("line", "shift", "shift_start", "shift_end", "available_minutes",
                    "protected_minutes", "protected_start", "protected_end", "overtime_minutes",
                    "released_minutes", "rush_minutes", "planned_minutes", "utilization")
PLAN_COLUMNS = ("product", "class", "date", "demand", "production", "delivered", "stock_end",
                "backlog_end", "min_stock", "unmet")
KINDS = ("planned", "rush")

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    """One broken rule: the rule's tag, where in the plan, and what is wrong."""

    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.message}"


# ----------------------------------------------------------------------------- parsing


class _Bad(ValueError):
    """A cell that does not parse."""


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return True
    return isinstance(value, str) and value.strip() == ""


def _text(value: Any) -> str:
    """A cell as text ('' for empty, None and NaN)."""
    if _is_blank(value):
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    return str(value).strip()


def _number(value: Any) -> Fraction:
    """A cell as an exact number."""
    if _is_blank(value):
        raise _Bad("is empty")
    if isinstance(value, bool):
        raise _Bad(f"is not a number: {value!r}")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _Bad(f"is not a finite number: {value}")
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad(f"is not a finite number: {value}")
        return Fraction(repr(value))
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise _Bad(f"is not a number: {value!r}") from None
    if not number.is_finite():
        raise _Bad(f"is not a finite number: {value!r}")
    return Fraction(number)


def _whole(value: Any) -> int:
    """A cell as a whole number."""
    number = _number(value)
    if number.denominator != 1:
        raise _Bad(f"is not a whole number: {value!r}")
    return int(number)


def _time(value: Any) -> dt.datetime:
    """A cell as a naive plant time."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = _text(value)
        if not text:
            raise _Bad("is empty")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _Bad(f"is not an ISO time YYYY-MM-DDTHH:MM: {text!r}") from None
    if moment.tzinfo is not None:
        raise _Bad(f"carries a time zone; plant times are naive: {value!r}")
    to_py = getattr(moment, "to_pydatetime", None)  # a pandas Timestamp
    return to_py() if to_py is not None else moment


def _date(value: Any) -> dt.date:
    """A cell as a plant date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    try:
        return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else dt.date.fromisoformat(text)
    except ValueError:
        raise _Bad(f"is not a date YYYY-MM-DD: {text!r}") from None


def _fmt(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%dT%H:%M")


def _num_str(x: Fraction | int) -> str:
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{float(x):.4g} ({x})"


def _overlap(intervals: Iterable[tuple[dt.datetime, dt.datetime]], a: dt.datetime,
             b: dt.datetime) -> int:
    """Minutes of the intervals that lie inside [a, b)."""
    total = 0
    for x, y in intervals:
        lo, hi = max(x, a), min(y, b)
        if hi > lo:
            total += int((hi - lo) / MINUTE)
    return total


def _rows(table: pandas.DataFrame | Sequence[Row] | None) -> list[Row] | None:
    if table is None:
        return None
    to_dict = getattr(table, "to_dict", None)
    if to_dict is not None and not isinstance(table, Mapping):
        return list(to_dict("records"))
    return list(table)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- parsed rows


@dataclass
class _Run:
    """A parsed schedule row."""

    index: int
    run_id: str
    line: str
    shift: str
    start: dt.datetime
    end: dt.datetime
    product: str
    quantity: int
    setup: int
    run: int
    kind: str
    order_ids: str
    ls: LineShift | None  # its line-shift, None when it does not exist
    shift_start: dt.datetime | None  # as written
    shift_end: dt.datetime | None
    product_ok: bool  # product known and eligible on the line

    @property
    def where(self) -> str:
        return f"run {self.run_id}"

    @property
    def wip(self) -> bool:
        return self.run_id.startswith("WIP-")

    @property
    def minutes(self) -> int:
        return self.setup + self.run

    @property
    def bucket(self) -> dt.datetime:
        """The time its materials are consumed: its shift's start."""
        if self.ls is not None:
            return self.ls.start
        return self.shift_start if self.shift_start is not None else self.start

    @property
    def date(self) -> dt.date:
        """The plant date of its production: its shift's date."""
        return self.ls.date if self.ls is not None else self.bucket.date()


@dataclass
class _Cap:
    """A parsed capacity row."""

    line: str
    shift: str
    W: int
    P: int
    protected_start: dt.datetime | None
    protected_end: dt.datetime | None
    overtime: int
    released: int
    rush: int
    planned: int
    utilization: Fraction
    open: bool
    shift_start: dt.datetime | None
    shift_end: dt.datetime | None

    @property
    def where(self) -> str:
        return f"capacity {self.line} {self.shift}"


# ----------------------------------------------------------------------------- the checker


class _Checker:
    """Runs every rule over parsed tables; collects violations."""

    def __init__(self, scenario: Scenario, schedule: list[Row], capacity: list[Row] | None,
                 plan: list[Row] | None) -> None:
        self.sc = scenario
        self.shifts = build_shifts(scenario)
        self.shift_of: dict[tuple[str, str], LineShift] = {(s.line, s.shift): s for s in self.shifts}
        self.classes = classify(scenario)
        self.demand: dict[str, ProductDemand] = build_demand(scenario, self.classes)
        add_step_items(scenario, self.classes, self.demand)
        self.line_ids = {ln.id for ln in scenario.lines}
        self.product_ids = {p.id for p in scenario.items}
        self.out: list[Violation] = []
        self.schedule_rows = schedule
        self.capacity_rows = capacity
        self.plan_rows = plan
        self.runs: list[_Run] = []
        self.caps: dict[tuple[str, str], _Cap] = {}

    def say(self, rule: str, where: str, message: str) -> None:
        self.out.append(Violation(rule, where, message))

    # --- helpers

    def overtime_of(self, key: tuple[str, str]) -> int:
        """Opened overtime of a line-shift (its cap when capacity.csv is not given)."""
        cap = self.caps.get(key)
        if cap is not None:
            return max(0, cap.overtime)
        ls = self.shift_of.get(key)
        return ls.overtime_cap if ls is not None else 0

    def released_of(self, key: tuple[str, str]) -> int:
        cap = self.caps.get(key)
        return max(0, cap.released) if cap is not None else 0

    def is_open(self, key: tuple[str, str]) -> bool:
        """Open per capacity.csv (or, without it, a shift with working minutes)."""
        cap = self.caps.get(key)
        if cap is not None:
            return cap.open
        ls = self.shift_of.get(key)
        return ls is not None and ls.W > 0

    def protected(self, ls: LineShift) -> int:
        """P = ceil(r x W), recomputed in exact Decimal arithmetic."""
        return math.ceil(Decimal(self.sc.reserve_ratio) * Decimal(ls.W))

    # --- run everything

    def run_all(self) -> list[Violation]:
        self.parse_schedule()
        if self.capacity_rows is not None:
            self.parse_capacity()
        self.check_calendar()
        self.check_overlap()
        self.check_protected_window()
        self.check_capacity()
        self.check_overtime()
        self.check_shift_limit()
        self.check_crew_pool()
        self.check_run_time_and_setup()
        self.check_lot_rules()
        self.check_wip()
        self.check_materials()
        self.check_routing_flow()
        self.check_order_ids()
        production = self.production()
        self.check_c_make_to_order(production)
        if self.plan_rows is not None:
            self.check_stock_balance(production)
        return self.out

    # --- 1. eligibility

    def parse_schedule(self) -> None:
        """Rule 1 (eligibility, class): parse runs; known line, shift, product; eligible line."""
        seen: Counter[str] = Counter()
        for i, row in enumerate(self.schedule_rows):
            run_id = _text(row.get("run_id")) or f"#{i + 1}"
            where = f"run {run_id}"
            seen[run_id] += 1
            if seen[run_id] == 2:
                self.say("run id", where, "run_id is used by more than one run")
            values: dict[str, Any] = {}
            ok = True
            for key, parse in (("start", _time), ("end", _time), ("quantity", _whole),
                               ("setup_minutes", _whole), ("run_minutes", _whole)):
                try:
                    values[key] = parse(row.get(key))
                except _Bad as e:
                    self.say("eligibility", where, f"{key} {e}")
                    ok = False
            extra: dict[str, dt.datetime | None] = {}
            for key in ("shift_start", "shift_end"):
                try:
                    extra[key] = _time(row.get(key))
                except _Bad as e:
                    self.say("eligibility", where, f"{key} {e}")
                    extra[key] = None
            line, shift, product = (_text(row.get(k)) for k in ("line", "shift", "product"))
            cls = _text(row.get("class"))
            kind = _text(row.get("kind")) or "planned"
            if kind not in KINDS:
                self.say("eligibility", where, f"kind {kind!r} is not one of {', '.join(KINDS)}")
            if "quantity" in values and values["quantity"] <= 0:
                self.say("eligibility", where, f"quantity {values['quantity']} is not positive")
            for key in ("setup_minutes", "run_minutes"):
                if key in values and values[key] < 0:
                    self.say("eligibility", where, f"{key} {values[key]} is negative")
            ls: LineShift | None = None
            if line not in self.line_ids:
                self.say("eligibility", where, f"line {line!r} is not in the scenario")
            else:
                ls = self.shift_of.get((line, shift))
                if ls is None:
                    self.say("eligibility", where,
                             f"shift {shift!r} is not a shift of line {line} in the horizon")
            product_ok = False
            if product not in self.product_ids:
                self.say("eligibility", where, f"product {product!r} is not in the scenario")
            else:
                if line in self.line_ids and line not in self.sc.product(product).rates:
                    self.say("eligibility", where, f"product {product} does not run on line {line}")
                else:
                    product_ok = line in self.line_ids
                want = self.classes[product]
                if cls != want:
                    self.say("class", where, f"class {cls!r} but {product} is class {want}")
            if not ok:
                continue
            self.runs.append(_Run(
                index=i, run_id=run_id, line=line, shift=shift, start=values["start"],
                end=values["end"], product=product, quantity=values["quantity"],
                setup=values["setup_minutes"], run=values["run_minutes"], kind=kind,
                order_ids=_text(row.get("order_ids")), ls=ls, shift_start=extra["shift_start"],
                shift_end=extra["shift_end"], product_ok=product_ok,
            ))

    def parse_capacity(self) -> None:
        """Rule 3 (R9 capacity): parse capacity rows; one per candidate line-shift."""
        assert self.capacity_rows is not None
        for i, row in enumerate(self.capacity_rows):
            line, shift = _text(row.get("line")), _text(row.get("shift"))
            where = f"capacity {line} {shift}" if line or shift else f"capacity row {i + 1}"
            values: dict[str, Any] = {}
            ok = True
            for key in ("available_minutes", "protected_minutes", "overtime_minutes",
                        "released_minutes", "rush_minutes", "planned_minutes"):
                try:
                    values[key] = _whole(row.get(key))
                except _Bad as e:
                    self.say("R9 capacity", where, f"{key} {e}")
                    ok = False
                else:
                    if values[key] < 0:
                        self.say("R9 capacity", where, f"{key} {values[key]} is negative")
            try:
                util = _number(row.get("utilization"))
            except _Bad as e:
                self.say("R9 capacity", where, f"utilization {e}")
                util = Fraction(0)
            times: dict[str, dt.datetime | None] = {}
            for key in ("protected_start", "protected_end", "shift_start", "shift_end"):
                value = row.get(key)
                times[key] = None
                if _is_blank(value):
                    if key.startswith("shift"):
                        self.say("R9 capacity", where, f"{key} is empty")
                    continue
                try:
                    times[key] = _time(value)
                except _Bad as e:
                    self.say("R9 capacity", where, f"{key} {e}")
            if not ok:
                continue
            open_cell = row.get("open")
            if _is_blank(open_cell):
                is_open = values["available_minutes"] > 0
            else:
                try:
                    flag = _whole(open_cell)
                except _Bad as e:
                    self.say("R9 capacity", where, f"open {e}")
                    flag = 1 if values["available_minutes"] > 0 else 0
                if flag not in (0, 1):
                    self.say("R9 capacity", where, f"open is {flag}, not 0 or 1")
                is_open = flag == 1
            ident = (line, shift)
            if ident not in self.shift_of:
                self.say("R9 capacity", where, f"{line} {shift} is not a candidate line-shift")
                continue
            if ident in self.caps:
                self.say("R9 capacity", where, "the line-shift has more than one row")
                continue
            self.caps[ident] = _Cap(
                line=line, shift=shift, W=values["available_minutes"],
                P=values["protected_minutes"], protected_start=times["protected_start"],
                protected_end=times["protected_end"], overtime=values["overtime_minutes"],
                released=values["released_minutes"], rush=values["rush_minutes"],
                planned=values["planned_minutes"], utilization=util, open=is_open,
                shift_start=times["shift_start"], shift_end=times["shift_end"],
            )
        for ls in self.shifts:
            if (ls.line, ls.shift) not in self.caps:
                self.say("R9 capacity", f"capacity {ls.line} {ls.shift}",
                         "no row for this candidate line-shift")

    # --- 2. calendar

    def check_calendar(self) -> None:
        """Rule 2 (R4 calendar): runs inside open shifts (+ overtime), enough working minutes."""
        for r in self.runs:
            ls = r.ls
            if ls is None:
                continue
            key = (r.line, r.shift)
            if r.shift_start is not None and r.shift_start != ls.start:
                self.say("R4 calendar", r.where,
                         f"shift_start {_fmt(r.shift_start)} but {r.shift} starts {_fmt(ls.start)}")
            if r.shift_end is not None and r.shift_end != ls.end:
                self.say("R4 calendar", r.where,
                         f"shift_end {_fmt(r.shift_end)} but {r.shift} ends {_fmt(ls.end)}")
            if ls.W == 0:
                self.say("R4 calendar", r.where,
                         f"{r.line} {r.shift} has no working time (closed)")
                continue
            if not self.is_open(key):
                self.say("R4 calendar", r.where, f"{r.line} {r.shift} is not open in capacity.csv")
            ot = self.overtime_of(key)
            limit = ls.end + ot * MINUTE
            if r.end < r.start:
                self.say("R4 calendar", r.where,
                         f"ends {_fmt(r.end)} before it starts {_fmt(r.start)}")
                continue
            if r.start < ls.start or r.end > limit:
                self.say("R4 calendar", r.where,
                         f"{_fmt(r.start)}-{_fmt(r.end)} is outside its shift "
                         f"{_fmt(ls.start)}-{_fmt(ls.end)} (+{ot} min overtime)")
            windows = [*ls.working, (ls.end, limit)]
            working = _overlap(windows, r.start, r.end)
            if working < r.minutes:
                self.say("R4 calendar", r.where,
                         f"{working} working minutes in {_fmt(r.start)}-{_fmt(r.end)}, "
                         f"fewer than setup + run = {r.minutes}")

    def check_overlap(self) -> None:
        """Rule 2 (overlap): runs on one line never overlap."""
        by_line: dict[str, list[_Run]] = defaultdict(list)
        for r in self.runs:
            by_line[r.line].append(r)
        for runs in by_line.values():
            runs.sort(key=lambda r: (r.start, r.end, r.index))
            latest: _Run | None = None
            for r in runs:
                if latest is not None and r.start < latest.end and r.end > r.start:
                    self.say("overlap", r.where,
                             f"{_fmt(r.start)}-{_fmt(r.end)} overlaps run {latest.run_id} "
                             f"({_fmt(latest.start)}-{_fmt(latest.end)}) on line {r.line}")
                if latest is None or r.end > latest.end:
                    latest = r

    # --- 3. protected share

    def check_protected_window(self) -> None:
        """Rule 3 (protected window, R9): planned runs stay out of it; rush runs stay inside it."""
        used: dict[tuple[str, str], int] = defaultdict(int)
        hits: dict[tuple[str, str], list[_Run]] = defaultdict(list)
        for r in self.runs:
            ls = r.ls
            if ls is not None and r.kind == "rush":
                if self.sc.protected_window == "floating":
                    continue  # no fixed window: rush minutes are only counted against P
                if ls.protected_start is None or ls.protected_end is None or not (
                        ls.protected_start <= r.start and r.end <= ls.protected_end):
                    self.say("protected window", r.where,
                             f"rush run {_fmt(r.start)}-{_fmt(r.end)} is outside the protected window "
                             f"{_fmt(ls.protected_start)}-{_fmt(ls.protected_end)}")
                continue
            if ls is None or ls.protected_start is None:
                continue
            assert ls.protected_end is not None
            minutes = _overlap(ls.working, max(r.start, ls.protected_start),
                               min(r.end, ls.protected_end))
            if minutes > 0:
                key = (r.line, r.shift)
                used[key] += minutes
                hits[key].append(r)
        for key, minutes in used.items():
            released = self.released_of(key)
            if minutes <= released:
                continue
            ls = self.shift_of[key]
            window = f"{_fmt(ls.protected_start)}-{_fmt(ls.protected_end)}"
            for r in hits[key]:
                self.say("protected window", r.where,
                         f"{_fmt(r.start)}-{_fmt(r.end)} uses the protected window {window} "
                         f"({minutes} min in the shift, {released} released)")

    def check_capacity(self) -> None:
        """Rule 3 (R9 capacity): W, P, planned <= W - P + overtime + released, table sums."""
        planned: dict[tuple[str, str], int] = defaultdict(int)
        rush: dict[tuple[str, str], int] = defaultdict(int)
        for r in self.runs:
            if r.ls is None:
                continue
            (rush if r.kind == "rush" else planned)[(r.line, r.shift)] += r.minutes
        for key, load in planned.items():
            ls = self.shift_of[key]
            P = self.protected(ls)
            ot, rel = self.overtime_of(key), self.released_of(key)
            if load > ls.W - P + ot + rel:
                self.say("R9 capacity", f"capacity {key[0]} {key[1]}",
                         f"planned {load} min > W {ls.W} - P {P} + overtime {ot} "
                         f"+ released {rel} = {ls.W - P + ot + rel}")
        for key, cap in self.caps.items():
            ls = self.shift_of[key]
            P = self.protected(ls)
            where = cap.where
            if cap.shift_start is not None and cap.shift_start != ls.start:
                self.say("R9 capacity", where,
                         f"shift_start {_fmt(cap.shift_start)} but the shift starts {_fmt(ls.start)}")
            if cap.shift_end is not None and cap.shift_end != ls.end:
                self.say("R9 capacity", where,
                         f"shift_end {_fmt(cap.shift_end)} but the shift ends {_fmt(ls.end)}")
            if cap.open and ls.W == 0:
                self.say("R9 capacity", where, "open, but the shift has no working time")
            if cap.open:
                if cap.W != ls.W:
                    self.say("R9 capacity", where, f"available_minutes {cap.W} but W = {ls.W}")
                if cap.P != P:
                    self.say("R9 capacity", where,
                             f"protected_minutes {cap.P} but ceil({self.sc.reserve_ratio} x "
                             f"{ls.W}) = {P}")
                want = (ls.protected_start, ls.protected_end)
                if cap.protected_start is not None or cap.protected_end is not None or P:
                    if (cap.protected_start, cap.protected_end) != want:
                        self.say("protected window", where,
                                 f"protected window {_fmt(cap.protected_start)}-"
                                 f"{_fmt(cap.protected_end)} but the policy's window is "
                                 f"{_fmt(want[0])}-{_fmt(want[1])}")
            elif cap.W != 0 or cap.P != 0:
                self.say("R9 capacity", where,
                         f"not open, but available_minutes {cap.W}, protected_minutes {cap.P}")
            load, rush_load = planned.get(key, 0), rush.get(key, 0)
            if cap.planned != load:
                self.say("R9 capacity", where,
                         f"planned_minutes {cap.planned} but its runs take {load} min")
            if cap.rush != rush_load:
                self.say("R9 capacity", where,
                         f"rush_minutes {cap.rush} but its rush runs take {rush_load} min")
            if cap.rush + cap.released > cap.P:
                self.say("R9 capacity", where,
                         f"rush {cap.rush} + released {cap.released} > protected {cap.P}")
            want_util = Fraction(cap.planned, cap.W) if cap.W else Fraction(0)
            if abs(cap.utilization - want_util) > UTILIZATION_TOLERANCE:
                self.say("R9 capacity", where,
                         f"utilization {float(cap.utilization):.4g} but planned / W = "
                         f"{float(want_util):.4g}")

    # --- 4. overtime

    def check_overtime(self) -> None:
        """Rule 4 (R4 overtime): overtime within the shift's cap and the line's weekly cap."""
        week: dict[str, int] = defaultdict(int)
        for key, cap in self.caps.items():
            ls = self.shift_of[key]
            if cap.overtime > 0 and not cap.open:
                self.say("R4 overtime", cap.where,
                         f"{cap.overtime} min overtime on a shift that is not open")
            if cap.overtime > ls.overtime_cap:
                self.say("R4 overtime", cap.where,
                         f"overtime {cap.overtime} min > {ls.overtime_cap} allowed after this shift")
            week[cap.line] += cap.overtime
        for line in self.sc.lines:
            cap_week = line.overtime_max_per_week
            if cap_week is not None and week.get(line.id, 0) > cap_week:
                self.say("R4 overtime", f"line {line.id}",
                         f"overtime {week[line.id]} min in the week > {cap_week} allowed")

    # --- 5. shift limit

    def check_shift_limit(self) -> None:
        """Rule 5 (R4 shift limit): open shifts per line and date <= max_shifts_per_day."""
        opened: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
        for key, cap in self.caps.items():
            if cap.open:
                opened[(cap.line, self.shift_of[key].date)].add(cap.shift)
        for r in self.runs:
            if r.ls is not None:
                opened[(r.line, r.ls.date)].add(r.shift)
        for (line_id, date), shifts in sorted(opened.items()):
            limit = self.sc.line(line_id).max_shifts_per_day
            if limit is not None and len(shifts) > limit:
                self.say("R4 shift limit", f"line {line_id} {date.isoformat()}",
                         f"{len(shifts)} open shifts ({', '.join(sorted(shifts))}) "
                         f"> max_shifts_per_day {limit}")

    def check_crew_pool(self) -> None:
        """R4 staffing: the crews of the lines running a shift (template, date) fit its operator pool."""
        if not self.sc.crew_pool:
            return
        opened: set[tuple[str, str]] = {key for key, cap in self.caps.items() if cap.open}
        opened |= {(r.line, r.shift) for r in self.runs if r.ls is not None}
        crews: dict[tuple[str, dt.date], int] = defaultdict(int)
        for key in opened:
            ls = self.shift_of.get(key)
            if ls is not None and ls.template in self.sc.crew_pool:
                crews[(ls.template, ls.date)] += self.sc.line(ls.line).crew
        for (template, date), need in sorted(crews.items()):
            pool = self.sc.crew_pool[template]
            if need > pool:
                self.say("R4 staffing", f"shift {template} {date.isoformat()}",
                         f"the lines running it need {need} operators > pool {pool}")

    # --- 6. run time and setups

    def batches(self) -> dict[tuple[str, str, str, bool], list[_Run]]:
        """Runs grouped per (line, shift, product, is WIP), each group in time order."""
        out: dict[tuple[str, str, str, bool], list[_Run]] = defaultdict(list)
        for r in self.runs:
            if r.ls is not None and r.product_ok:
                out[(r.line, r.shift, r.product, r.wip)].append(r)
        for runs in out.values():
            runs.sort(key=lambda r: (r.start, r.index))
        return out

    def check_run_time_and_setup(self) -> None:
        """Rule 6 (run time, setup): run minutes cover the quantity; batches carry a setup."""
        batches = self.batches()
        for (line, shift, product, _), runs in batches.items():
            rate = self.sc.product(product).rates[line]
            qty = sum(r.quantity for r in runs)
            minutes = sum(r.run for r in runs)
            need = math.ceil(qty * rate.minutes_per_unit)
            if minutes < need:
                self.say("run time", runs[0].where,
                         f"{line} {shift} {product}: run_minutes {minutes} < "
                         f"{qty} x {rate.minutes_per_unit} min/unit = {need}")
        # changeovers: each run needs the changeover from the product before it on its line
        # (the line's last product, or its work in progress, before the first run)
        wip_product = {w.line: w.product for w in self.sc.wip}
        by_line: dict[str, list[_Run]] = defaultdict(list)
        for r in self.runs:
            if r.ls is not None and r.product_ok:
                by_line[r.line].append(r)
        for line, runs in by_line.items():
            prev = wip_product.get(line, self.sc.line(line).last_product)
            for r in sorted(runs, key=lambda r: (r.start, r.index)):
                if not r.wip:
                    need = self.sc.changeover(line, prev, r.product)
                    if r.setup < need:
                        after = f"after {prev}" if prev else "with no product before it"
                        self.say("setup", r.where,
                                 f"{r.product} on {line} {after} needs a changeover of {need} min; "
                                 f"setup_minutes is {r.setup}")
                prev = r.product

    # --- 7. lot rules

    def check_lot_rules(self) -> None:
        """Rule 7 (lot rules): batch quantity >= min_run and a multiple of the lot multiple."""
        for (line, shift, product, is_wip), runs in self.batches().items():
            if is_wip:
                continue
            p = self.sc.product(product)
            qty = sum(r.quantity for r in runs)
            if qty < p.min_run:
                self.say("lot rules", runs[0].where,
                         f"{line} {shift} {product}: {qty} units < min_run {p.min_run}")
            if qty % p.multiple:
                self.say("lot rules", runs[0].where,
                         f"{line} {shift} {product}: {qty} units is not a multiple of "
                         f"{p.multiple}")

    # --- work in progress

    def check_wip(self) -> None:
        """WIP (wip): each line's work in progress runs in its first working shift, as given."""
        wip_runs: dict[str, list[_Run]] = defaultdict(list)
        for r in self.runs:
            if r.wip:
                wip_runs[r.line].append(r)
        wips = {w.line: w for w in self.sc.wip}
        for line, runs in wip_runs.items():
            w = wips.get(line)
            if w is None:
                for r in runs:
                    self.say("wip", r.where, f"line {line} has no work in progress in the scenario")
                continue
            first = next((s for s in self.shifts if s.line == line and s.W > 0), None)
            for r in runs:
                if r.product != w.product:
                    self.say("wip", r.where,
                             f"product {r.product} but the work in progress is {w.product}")
                if first is not None and r.shift != first.shift:
                    self.say("wip", r.where,
                             f"in {r.shift}, not the line's first working shift {first.shift}")
            qty = sum(r.quantity for r in runs)
            if qty != w.quantity:
                self.say("wip", runs[0].where,
                         f"{qty} units but the work in progress is {w.quantity}")
        for line, w in wips.items():
            if line not in wip_runs:
                self.say("wip", f"line {line}",
                         f"the work in progress ({w.quantity} {w.product}) is not in the plan")

    # --- 8. materials

    def check_materials(self) -> None:
        """Rule 8 (R5 material): consumption by each shift start <= stock + receipts by then."""
        use: dict[str, dict[dt.datetime, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
        for r in self.runs:
            if r.wip or r.product not in self.product_ids:
                continue
            for m, per_unit in self.sc.product(r.product).materials.items():
                use[m][r.bucket] += r.quantity * per_unit
        for m in sorted(use):
            material = self.sc.material(m)
            total = Fraction(0)
            for moment in sorted(use[m]):
                total += use[m][moment]
                on_hand = material.opening_stock + sum(
                    (q for at, q in material.receipts if at <= moment), Fraction(0))
                if total > on_hand:
                    self.say("R5 material", f"material {m} {_fmt(moment)}",
                             f"consumed {_num_str(total)} by {_fmt(moment)} > on hand "
                             f"{_num_str(on_hand)} (opening + receipts by then): short "
                             f"{_num_str(total - on_hand)}")

    # --- routings

    def check_routing_flow(self) -> None:
        """Routings: by any run's start, a step has used no more than the previous step
        finished at least its lag (min lag + transfer) earlier."""
        by_item: dict[str, list[_Run]] = defaultdict(list)
        for r in self.runs:
            if r.product in self.product_ids:
                by_item[r.product].append(r)
        for item in self.sc.items:
            prev = item.previous_item
            if prev is None or item.id not in by_item:
                continue
            lag = dt.timedelta(minutes=item.lag_minutes)
            takes = sorted(by_item[item.id], key=lambda r: r.start)
            gives = by_item.get(prev, [])
            used = 0
            for r in takes:
                used += r.quantity
                ready = sum(g.quantity for g in gives if g.end + lag <= r.start)
                if used > ready:
                    self.say("routing", r.where,
                             f"step {item.step.id} of {self.sc.finished(item.id)} has used {used} units by "
                             f"{_fmt(r.start)} but step {prev.rsplit('/', 1)[-1]} finished only {ready} "
                             f"at least {item.lag_minutes} min earlier")
                    break

    # --- pegging

    def check_order_ids(self) -> None:
        """Pegging (order_ids): well-formed, known orders of the run's product, within quantities."""
        orders = {o.id: o for o in self.sc.orders}
        pegged: dict[str, int] = defaultdict(int)
        first_where: dict[str, str] = {}
        for r in self.runs:
            if not r.order_ids:
                continue
            total = 0
            for part in r.order_ids.split(";"):
                oid, sep, qty_text = part.strip().partition(":")
                try:
                    qty = _whole(qty_text)
                    if not sep or qty <= 0:
                        raise _Bad("")
                except _Bad:
                    self.say("order_ids", r.where, f"{part!r} is not ORDER:QUANTITY")
                    continue
                order = orders.get(oid)
                if order is None:
                    self.say("order_ids", r.where, f"order {oid!r} is not in the scenario")
                    continue
                if order.product != r.product:
                    self.say("order_ids", r.where,
                             f"order {oid} is for {order.product}, not {r.product}")
                total += qty
                pegged[oid] += qty
                first_where.setdefault(oid, r.where)
            if total > r.quantity:
                self.say("order_ids", r.where, f"pegs {total} units but makes {r.quantity}")
        for oid, qty in pegged.items():
            if qty > orders[oid].quantity:
                self.say("order_ids", first_where[oid],
                         f"order {oid} is pegged {qty} units but orders {orders[oid].quantity}")

    # --- 9. stock balance

    def production(self) -> dict[str, dict[dt.date, int]]:
        """Units made per product and plant date (work in progress included)."""
        out: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
        for r in self.runs:
            if r.product in self.product_ids:
                out[r.product][r.date] += r.quantity
        return out

    def check_stock_balance(self, production: dict[str, dict[dt.date, int]]) -> None:
        """Rule 9 (stock balance): production_plan equals its recomputation from the schedule."""
        assert self.plan_rows is not None
        dates = self.sc.dates
        for product, per_date in production.items():
            for date in sorted(per_date):
                if date not in dates:
                    self.say("stock balance", f"production_plan {product} {date.isoformat()}",
                             f"{per_date[date]} units made on a date outside the horizon")
        want: dict[tuple[str, dt.date], dict[str, Any]] = {}
        for p in self.sc.items:
            d = self.demand[p.id]
            stock, backlog = p.opening_stock, 0
            nxt = self.sc.next_item(p.id)
            for k, date in enumerate(dates):
                demand = d.total[k] + (production.get(nxt, {}).get(date, 0) if nxt is not None else 0)
                made = production.get(p.id, {}).get(date, 0)
                delivered = min(stock + made, backlog + demand)
                unmet = demand - max(0, delivered - backlog)
                stock, backlog = stock + made - delivered, backlog + demand - delivered
                want[(p.id, date)] = {
                    "class": self.classes[p.id], "demand": demand, "production": made,
                    "delivered": delivered, "stock_end": stock, "backlog_end": backlog,
                    "min_stock": d.min_stock, "unmet": unmet,
                }
                if unmet > 0 and self.sc.hard_demand and p.parent is None:
                    self.say("hard demand", f"production_plan {p.id} {date.isoformat()}",
                             f"{unmet} units of demand not delivered on their date (policy.hard_demand)")
        seen: set[tuple[str, dt.date]] = set()
        for i, row in enumerate(self.plan_rows):
            product = _text(row.get("product"))
            try:
                date = _date(row.get("date"))
            except _Bad as e:
                self.say("stock balance", f"production_plan row {i + 1}", f"date {e}")
                continue
            where = f"production_plan {product} {date.isoformat()}"
            key = (product, date)
            if key not in want:
                self.say("stock balance", where, "not a product and date of the horizon")
                continue
            if key in seen:
                self.say("stock balance", where, "more than one row")
                continue
            seen.add(key)
            expected = want[key]
            if _text(row.get("class")) != expected["class"]:
                self.say("class", where,
                         f"class {_text(row.get('class'))!r} but {product} is class "
                         f"{expected['class']}")
            for column in PLAN_COLUMNS[3:]:
                try:
                    value = _number(row.get(column))
                except _Bad as e:
                    self.say("stock balance", where, f"{column} {e}")
                    continue
                if value != expected[column]:
                    self.say("stock balance", where,
                             f"{column} {_num_str(value)} but the schedule and demand give "
                             f"{expected[column]}")
        for key in want:
            if key not in seen:
                self.say("stock balance", f"production_plan {key[0]} {key[1].isoformat()}",
                         "row missing")

    # --- 10. C make-to-order

    def check_c_make_to_order(self, production: dict[str, dict[dt.date, int]]) -> None:
        """Rule 10 (C make-to-order): cumulative C production <= its c_cap."""
        wip_qty: dict[str, int] = defaultdict(int)
        for w in self.sc.wip:
            wip_qty[w.product] += w.quantity
        for product, made in sorted(production.items()):
            d = self.demand[product]
            if d.cls != "C" or d.c_cap is None:
                continue
            cap = max(d.c_cap, wip_qty[product])  # work in progress is not a decision
            total = 0
            for date in sorted(made):
                total += made[date]
                if total > cap:
                    self.say("C make-to-order", f"product {product} {date.isoformat()}",
                             f"cumulative production {total} > {cap} (confirmed orders less "
                             f"opening stock, to the lot multiple)")
                    break


# ----------------------------------------------------------------------------- the API


def check_tables(
    scenario: Scenario,
    schedule: pandas.DataFrame | Sequence[Row],
    capacity: pandas.DataFrame | Sequence[Row] | None = None,
    production_plan: pandas.DataFrame | Sequence[Row] | None = None,
) -> list[Violation]:
    """Check in-memory plan tables (rows of strings or numbers) against the scenario.

    Without `capacity`, every shift with working time counts as open and may use its full
    overtime cap; without `production_plan`, the stock balance is not compared.
    """
    rows = _rows(schedule) or []
    return _Checker(scenario, rows, _rows(capacity), _rows(production_plan)).run_all()


def _read_table(path: Path, columns: Sequence[str], out: list[Violation]) -> list[Row] | None:
    if not path.exists():
        out.append(Violation("files", path.name, "missing"))
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        out.append(Violation("files", path.name, f"cannot read as UTF-8 CSV ({e})"))
        return None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        out.append(Violation("files", path.name, f"missing columns {', '.join(missing)}"))
        return None
    return list(reader)


def check_plan(scenario: Scenario, outdir: Path) -> list[Violation]:
    """Check a written plan folder (schedule.csv, capacity.csv, production_plan.csv, mrp.csv)."""
    outdir = Path(outdir)
    out: list[Violation] = []
    schedule = _read_table(outdir / "schedule.csv", SCHEDULE_COLUMNS, out)
    capacity = _read_table(outdir / "capacity.csv", CAPACITY_COLUMNS, out)
    plan = _read_table(outdir / "production_plan.csv", PLAN_COLUMNS, out)
    if schedule is None:
        return out
    out += check_tables(scenario, schedule, capacity, plan)
    if (outdir / "mrp.csv").exists():
        from sopt.mrp import MRP_COLUMNS, check_mrp

        mrp = _read_table(outdir / "mrp.csv", MRP_COLUMNS, out)
        if mrp is not None:
            out += [Violation("R5 MRP", "mrp.csv", problem) for problem in check_mrp(mrp, scenario)]
    return out


def check_plan_rows(plan: Any) -> list[Violation]:
    """Check an in-memory plan (a `sopt.plan.Plan`) against its own scenario, before it is written."""
    return check_tables(plan.week.scenario, plan.schedule_rows(), plan.capacity, plan.production)


def format_report(violations: Sequence[Violation]) -> str:
    """One line per violation, then a summary line."""
    lines = [str(v) for v in violations]
    if not violations:
        lines.append("plan check: no violations")
    else:
        by_rule = Counter(v.rule for v in violations)
        detail = ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items()))
        noun = "violation" if len(violations) == 1 else "violations"
        lines.append(f"plan check: {len(violations)} {noun} ({detail})")
    return "\n".join(lines)
