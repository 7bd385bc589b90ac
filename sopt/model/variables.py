"""Variable containers of the planning model (one small dataclass per entity)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from ortools.sat.python import cp_model

from sopt.week import Week

LinearExpr = cp_model.LinearExprT


@dataclass
class RunVar:
    """A possible run of a product on a line in a shift: lots, quantity, minutes, setup."""

    product: str
    line: str
    shift: int  # index into week.shifts
    day: int
    lots: cp_model.IntVar  # quantity = multiple x lots
    multiple: int
    setup: cp_model.IntVar  # 1 when the run takes place (and pays its setup)
    run_minutes: LinearExpr  # >= quantity x minutes per unit, whole minutes
    setup_minutes: int
    setup_cost: Fraction
    minutes_per_unit: Fraction
    upper: int  # most units this run can make
    overtime_only: bool = False  # its setup leaves no room for a unit before the protected window

    @property
    def quantity(self) -> LinearExpr:
        """Units made."""
        return self.multiple * self.lots


@dataclass
class ShiftVar:
    """Whether a line-shift is opened, and its overtime minutes."""

    index: int
    open: cp_model.IntVar | int
    overtime: cp_model.IntVar | int


@dataclass
class StockVar:
    """End-of-day position of a product: stock, backlog, order backlog, min-stock shortfall."""

    stock: cp_model.IntVar
    backlog: cp_model.IntVar
    order_backlog: cp_model.IntVar
    shortfall: cp_model.IntVar | int


@dataclass
class Variables:
    """All decision variables, with the index maps the constraints use."""

    runs: list[RunVar] = field(default_factory=list)
    shifts: dict[int, ShiftVar] = field(default_factory=dict)
    stock: dict[str, list[StockVar]] = field(default_factory=dict)
    runs_of_shift: dict[int, list[RunVar]] = field(default_factory=dict)
    runs_of_product: dict[str, list[RunVar]] = field(default_factory=dict)

    @classmethod
    def build(cls, m: cp_model.CpModel, week: Week) -> Variables:
        """Create every variable with the tightest bounds the data gives."""
        v = cls()
        sc = week.scenario
        for i, s in enumerate(week.shifts):
            if s.W == 0:
                v.shifts[i] = ShiftVar(i, 0, 0)
                continue
            if week.shift_is_decision(i):
                is_open: cp_model.IntVar | int = m.new_bool_var(f"open[{s.line},{s.shift}]")
            else:
                is_open = 1
            ot: cp_model.IntVar | int = 0
            if s.overtime_cap > 0:
                ot = m.new_int_var(0, s.overtime_cap, f"overtime[{s.line},{s.shift}]")
            v.shifts[i] = ShiftVar(i, is_open, ot)
        for p in sc.items:
            need = _demand_upper(week, p.parent or p.id)
            if need <= 0:
                continue
            for line_id, rate in p.rates.items():
                for i in week.shifts_of_line.get(line_id, []):
                    s = week.shifts[i]
                    if s.W == 0 or not week.accepts_new_work(i):
                        continue
                    carried = week.carried.get(i) == p.id
                    setup_min = 0 if carried else sc.setup_bound(line_id, p.id)
                    regular = week.planned_capacity(i) - week.wip_minutes(i)
                    # not one unit fits after the setup before the protected window: the sequencing
                    # stage can place the run only in overtime (a setup never straddles the window)
                    overtime_only = regular - setup_min < rate.minutes_per_unit
                    room = (0 if overtime_only else regular) + s.overtime_cap - setup_min
                    if room <= 0:
                        continue
                    cap_units = math.floor(Fraction(room) / rate.minutes_per_unit)
                    upper = min(cap_units, need, _rest_upper(week, p.parent or p.id, week.day_of_shift[i]))
                    lots_upper = upper // p.multiple
                    lot_min = max(1, math.ceil(Fraction(p.min_run, p.multiple)))
                    if lots_upper < lot_min:
                        continue
                    name = f"{p.id},{line_id},{s.shift}"
                    lots = m.new_int_var(0, lots_upper, f"lots[{name}]")
                    setup = m.new_bool_var(f"setup[{name}]")
                    qty_upper = lots_upper * p.multiple
                    mpu = rate.minutes_per_unit
                    if mpu.denominator == 1:
                        run_minutes: LinearExpr = int(mpu) * p.multiple * lots
                    else:
                        rm = m.new_int_var(0, math.ceil(qty_upper * mpu), f"run_minutes[{name}]")
                        m.add(mpu.denominator * rm >= mpu.numerator * p.multiple * lots)
                        run_minutes = rm
                    rv = RunVar(p.id, line_id, i, week.day_of_shift[i], lots, p.multiple, setup,
                                run_minutes, setup_min, Fraction(0) if carried else rate.setup_cost,
                                mpu, qty_upper, overtime_only)
                    v.runs.append(rv)
                    v.runs_of_shift.setdefault(i, []).append(rv)
                    v.runs_of_product.setdefault(p.id, []).append(rv)
        for p in sc.items:
            d = week.demand[p.id]
            total_dem = sum(d.total)
            prod_upper = sum(r.upper for r in v.runs_of_product.get(p.id, [])) + sum(
                q for prod, _, q in week.fixed_output() if prod == p.id)
            stock_upper = p.opening_stock + prod_upper
            row = []
            for day in range(week.days):
                name = f"{p.id},{day}"
                stock = m.new_int_var(0, stock_upper, f"stock[{name}]")
                backlog = m.new_int_var(0, total_dem, f"backlog[{name}]")
                order_backlog = m.new_int_var(0, sum(d.orders), f"order_backlog[{name}]")
                shortfall: cp_model.IntVar | int = 0
                if d.min_stock > 0:
                    shortfall = m.new_int_var(0, d.min_stock, f"shortfall[{name}]")
                row.append(StockVar(stock, backlog, order_backlog, shortfall))
            v.stock[p.id] = row
        return v


def _rest_upper(week: Week, product: str, day: int) -> int:
    """With hard demand nothing is late, so a run serves only demand from its day on (plus min stock)."""
    if not week.scenario.hard_demand:
        return 2**62
    d = week.demand[product]
    p = week.scenario.product(product)
    rest = sum(d.total[day:]) + d.min_stock
    lot = max(p.min_run, p.multiple)
    return math.ceil(max(rest, lot) / p.multiple) * p.multiple if rest > 0 else 0


def _demand_upper(week: Week, product: str) -> int:
    """The most units of a product the week could usefully make."""
    d = week.demand[product]
    p = week.scenario.product(product)
    if any(j.product == product for j in week.scenario.jobs):
        return 0  # made by its jobs, which the jobs stage schedules
    wip = sum(q for prod, _, q in week.fixed_output() if prod == product)
    if d.c_cap is not None:
        return max(0, d.c_cap - wip)
    need = sum(d.total) + d.min_stock - p.opening_stock - wip
    if need <= 0:
        return 0
    lot = max(p.min_run, p.multiple)
    return math.ceil(max(need, lot) / p.multiple) * p.multiple

