"""A fast constructive plan: the warm start (complete hint) of the CP-SAT search.

Shifts are filled in time order. In each line-shift the products eligible on the line are
ranked by urgency: the first day on which their stock would fall short of demand (orders
before forecast, then the min-stock target), then class A before B before C. The most
urgent product gets a lot covering its remaining need up to the end of the week, as far
as the shift's planned minutes, the lot rules and the materials on hand allow; then the
next. The result respects every hard rule of the model, so CP-SAT starts from a complete
plan and only has to improve it.

Routed products are pulled through their steps: a step item's need is its product's need
less what is already between the steps, and a step after the first makes only what the
previous step finished at least its lag before the shift starts (in the plan's terms: by
that shift's end plus its overtime cap). At the end, step output that no later step uses
is trimmed from the latest lots, so that no work is left between steps.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

from sopt.calendar import MINUTE
from sopt.sequence import CLASS_RANK, Lot, run_minutes
from sopt.week import Week


def constructive_plan(week: Week) -> list[Lot]:
    """A feasible plan built greedily shift by shift."""
    sc = week.scenario
    days = week.days
    made: dict[str, list[int]] = {p.id: [0] * days for p in sc.items}
    for product, i, qty in week.fixed_output():
        made[product][week.day_of_shift[i]] += qty
    total_made = {p.id: sum(made[p.id]) for p in sc.items}
    consumed: dict[str, Fraction] = defaultdict(Fraction)
    for f in week.fixed:  # frozen runs used their material (counted from the week's start: safe)
        if f.consumes_material:
            for m, per in sc.product(f.product).materials.items():
                consumed[m] += per * f.quantity
    lots: list[Lot] = []
    order = sorted(range(len(week.shifts)), key=lambda i: (week.shifts[i].start, week.shifts[i].line))
    used_per_day: dict[tuple[str, int], int] = defaultdict(int)
    for i in order:
        s = week.shifts[i]
        if s.W == 0 or not week.accepts_new_work(i):
            continue
        line = sc.line(s.line)
        day = week.day_of_shift[i]
        room = week.planned_capacity(i) - week.wip_minutes(i)
        if room <= 0:
            continue
        if line.max_shifts_per_day is not None and used_per_day[(s.line, day)] >= line.max_shifts_per_day:
            continue
        carried = week.carried.get(i)
        in_shift: list[Lot] = []
        while room > 0:
            best = None
            for p in sc.items:
                rate = p.rates.get(s.line)
                if rate is None:
                    continue
                root = p.parent or p.id
                need, urgency = _need(week, root, made[root], total_made[root], day)
                avail = None
                if p.multi_step:  # less what is already between this step and the finished product
                    need -= total_made[p.id] - total_made[root]
                    if p.previous_item is not None:
                        avail = _ready(week, lots, p.previous_item, p.lag_minutes, i) - total_made[p.id]
                        need = min(need, avail)
                if need <= 0 or any(lot.product == p.id for lot in in_shift):
                    continue
                key = (urgency, CLASS_RANK[week.classes[p.id]], p.id != carried, p.id)
                if best is None or key < best[0]:
                    best = (key, p, rate, need, avail)
            if best is None:
                break
            _, p, rate, need, avail = best
            setup = 0 if p.id == carried and not in_shift else sc.setup_bound(s.line, p.id)
            fit = math.floor(Fraction(room - setup) / rate.minutes_per_unit) if room > setup else 0
            for m, per in p.materials.items():
                mat = sc.material(m)
                on_hand = mat.opening_stock + sum((q for t, q in mat.receipts if t <= s.start), Fraction(0)) - consumed[m]
                fit = min(fit, math.floor(on_hand / per) if on_hand > 0 else 0)
            qty = min(need, fit)
            qty = qty // p.multiple * p.multiple
            if need < fit and qty < need:  # round the need up to the lot multiple when it fits
                up = math.ceil(need / p.multiple) * p.multiple
                qty = up if up <= fit else qty
            if avail is not None:  # a later step: never more than the previous step has ready
                qty = min(qty, avail // p.multiple * p.multiple)
            cap = week.demand[p.parent or p.id].c_cap
            if cap is not None:
                qty = min(qty, (cap - total_made[p.id]) // p.multiple * p.multiple)
            if qty < max(1, p.min_run):
                # cannot make a useful lot of the most urgent product here: skip it in this shift
                in_shift.append(Lot(p.id, s.line, i, 0, 0, 0))
                continue
            rm = run_minutes(qty, rate.minutes_per_unit)
            lot = Lot(p.id, s.line, i, qty, setup, rm)
            in_shift.append(lot)
            lots.append(lot)
            room -= setup + rm
            made[p.id][day] += qty
            total_made[p.id] += qty
            for m, per in p.materials.items():
                consumed[m] += per * qty
        if any(lot.quantity > 0 for lot in in_shift):
            used_per_day[(s.line, day)] += 1
    return _trim_between_steps(week, lots)


def _ready(week: Week, lots: list[Lot], item: str, lag: int, shift: int) -> int:
    """Units of a step item finished, in the plan's terms, at least `lag` minutes before a shift starts."""
    t = week.shifts[shift].start
    out = 0
    for lot in lots:
        if lot.product == item:
            s = week.shifts[lot.shift]
            if s.end + (s.overtime_cap + lag) * MINUTE <= t:
                out += lot.quantity
    return out


def _trim_between_steps(week: Week, lots: list[Lot]) -> list[Lot]:
    """Cut step output that no later step uses, latest lots first (no work left between steps)."""
    sc = week.scenario
    for p in sc.products:
        if not p.multi_step:
            continue
        items = [q for q in sc.items if q.parent == p.id] + [p]
        for k in range(len(items) - 2, -1, -1):
            used = sum(lot.quantity for lot in lots if lot.product == items[k + 1].id)
            surplus = sum(lot.quantity for lot in lots if lot.product == items[k].id) - used
            for j in sorted((j for j, lot in enumerate(lots) if lot.product == items[k].id),
                            key=lambda j: week.shifts[lots[j].shift].start, reverse=True):
                if surplus <= 0:
                    break
                lot = lots[j]
                keep = lot.quantity - surplus
                keep = -(-keep // items[k].multiple) * items[k].multiple if keep > 0 else 0
                if 0 < keep < items[k].min_run:
                    keep = lot.quantity  # cannot cut this lot below its minimum run
                surplus -= lot.quantity - keep
                rate = items[k].rates[lot.line]
                lots[j] = Lot(lot.product, lot.line, lot.shift, keep, lot.setup_minutes, run_minutes(keep, rate.minutes_per_unit))
    return [lot for lot in lots if lot.quantity > 0]


def _need(week: Week, product: str, made: list[int], total_made: int, day: int) -> tuple[int, tuple[int, int]]:
    """Units still worth making, and urgency (first short day, orders before stock target)."""
    d = week.demand[product]
    p = week.scenario.product(product)
    supply = p.opening_stock
    cum_orders = cum_total = 0
    first_order_short = first_short = first_stock_short = week.days
    for k in range(week.days):
        supply += made[k]
        cum_orders += d.orders[k]
        cum_total += d.total[k]
        if k < day:
            continue
        if supply < cum_orders and first_order_short == week.days:
            first_order_short = k
        if supply < cum_total and first_short == week.days:
            first_short = k
        if supply < cum_total + d.min_stock and first_stock_short == week.days:
            first_stock_short = k
    need = cum_total + d.min_stock - p.opening_stock - total_made
    if d.c_cap is not None:
        need = min(need, d.c_cap - total_made)
    if first_order_short < week.days:
        urgency = (first_order_short, 0)
    elif first_short < week.days:
        urgency = (first_short, 1)
    else:
        urgency = (first_stock_short, 2)
    return max(0, need), urgency
