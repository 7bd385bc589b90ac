"""A fast constructive plan: the warm start (complete hint) of the CP-SAT search.

Shifts are filled in time order. In each line-shift the products eligible on the line are
ranked by urgency: the first day on which their stock would fall short of demand (orders
before forecast, then the min-stock target), then class A before B before C. The most
urgent product gets a lot covering its remaining need up to the end of the week, as far
as the shift's planned minutes, the lot rules and the materials on hand allow; then the
next. The result respects every hard rule of the model, so CP-SAT starts from a complete
plan and only has to improve it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

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
            for p in sc.products:
                if p.multi_step:
                    continue  # routed products are left to the search (their steps must flow in order)
                rate = p.rates.get(s.line)
                if rate is None:
                    continue
                need, urgency = _need(week, p.id, made[p.id], total_made[p.id], day)
                if need <= 0 or any(lot.product == p.id for lot in in_shift):
                    continue
                key = (urgency, CLASS_RANK[week.classes[p.id]], p.id != carried, p.id)
                if best is None or key < best[0]:
                    best = (key, p, rate, need)
            if best is None:
                break
            _, p, rate, need = best
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
            cap = week.demand[p.id].c_cap
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
    return lots


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
