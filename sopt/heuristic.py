"""Fast constructive plans: the warm start (complete hint) of the CP-SAT search.

Shifts are filled in time order. In each line-shift the products eligible on the line are
ranked by a rule, and the first gets a lot, as far as the shift's planned minutes, the lot
rules and the materials on hand allow; then the next. The rules:

- `urgency`: the first day on which a product's stock would fall short of demand (orders
  before forecast, then the min-stock target), then class A before B before C; the lot
  covers the product's need up to the end of the week;
- `saving`: the objective's demand terms (backlogs, min-stock shortfall, holding; class
  weights) saved by the lot, less its setup cost, per minute of the line;
- `delayN`: first the lots that would save less if made N days later (the cost of waiting,
  per minute, is the ranking), then the rest by `saving`. This leaves what can wait to
  later shifts, but not so late that the shifts before a due day cannot hold it.

The saving rules choose the lot too: to cover the week's orders, all its demand, or that
and the minimum stock. They also run a lot into the shift's overtime (within the line's
limits per shift and week) when it saves more than the overtime costs: on overloaded weeks
the solver's plans use overtime, and a start plan without it left a tenth of the demand
unmet (50×5 s2: 5,618 units). On the benchmark weeks no rule is best everywhere (`delay2` most
often), so `start_plan` builds several and keeps the least costly. Every plan respects
every hard rule of the model, so CP-SAT starts from a complete plan and only has to
improve it.

Routed products are pulled through their steps: a step item's need is its product's need
less what is already between the steps, and a step after the first makes only what the
previous step finished at least its lag before the shift starts (in the plan's terms: by
that shift's end plus its overtime cap). At the end, step output that no later step uses
is trimmed from the latest lots, so that no work is left between steps.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from sopt.calendar import MINUTE
from sopt.checker import check_plan_rows
from sopt.plan import Plan, build_plan
from sopt.scenario import Product, Rate
from sopt.sequence import CLASS_RANK, Lot, run_minutes
from sopt.week import Week

log = logging.getLogger(__name__)


# the greedy rules, in the order start_plan tries them (best first on the benchmark weeks)
RULES = ("delay2", "delay1", "saving", "delay3", "urgency")


@dataclass(frozen=True)
class Start:
    """The start plan: its lots, the plan built from them, the rule that made it, and whether it breaks no rule."""

    lots: list[Lot]
    plan: Plan
    rule: str
    ok: bool


def start_plan(week: Week, setup_costs: dict[tuple[str, str, int], Fraction] | None = None,
               seconds: float | None = None, on_better: Callable[[Plan], None] | None = None) -> Start:
    """The best constructive plan of the rules (RULES) tried within `seconds` (None: every rule).

    At least one rule is tried. Returns the plan of least cost that breaks no rule of the model
    (checked by sopt.checker); or, when every plan tried breaks one, the first one (not ok).
    `on_better(plan)` is called with each checked plan that is cheaper than those before it
    (a progress report need not wait for the last rule).
    """
    t0 = time.perf_counter()
    first: Start | None = None
    best: Start | None = None
    for rule in RULES:
        if first is not None and seconds is not None and time.perf_counter() - t0 >= seconds:
            break
        lots = constructive_plan(week, rule)
        plan = build_plan(week, lots, None, setup_costs)
        first = first or Start(lots, plan, rule, False)
        if (best is None or plan.objective_scaled < best.plan.objective_scaled) and not check_plan_rows(plan):
            best = Start(lots, plan, rule, True)
            if on_better is not None:
                on_better(plan)
        log.debug("start plan by %s: %s", rule, plan.objective)
    assert first is not None
    return best or first


def constructive_plan(week: Week, rule: str = "urgency") -> list[Lot]:
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
    setup_cost_weight = sc.weights.setup_cost
    # overtime the saving rules may use, when a lot saves more than its overtime costs (R4 limits)
    overtime_left = {ln.id: ln.overtime_max_per_week if ln.overtime_max_per_week is not None else math.inf
                     for ln in sc.lines}
    costs = DemandCosts(week)
    on_line: dict[str, list[tuple[Product, Rate]]] = defaultdict(list)
    for p in sc.items:
        for ln, rate in p.rates.items():
            on_line[ln].append((p, rate))
    # what is known of a finished product's need at a day, until the product is made again
    needs_of: dict[str, dict[int, tuple[list[int], tuple[int, int]]]] = defaultdict(dict)
    gain_of: dict[str, dict[tuple[int, int], float]] = defaultdict(dict)

    def gain(root: str, from_day: int, qty: int) -> float:
        known = gain_of[root]
        if (from_day, qty) not in known:
            known[(from_day, qty)] = costs.gain(root, made[root], from_day, qty)
        return known[(from_day, qty)]

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
        arrived: dict[str, Fraction] = {}  # material received by the shift's start
        overtime = 0 if rule == "urgency" else int(min(s.overtime_cap, overtime_left[s.line]))
        overtime_cost = float(sc.weights.overtime * line.overtime_cost)
        in_shift: list[Lot] = []

        while room + overtime > 0:
            best = None
            for p, rate in on_line[s.line]:
                if any(lot.product == p.id for lot in in_shift):
                    continue
                root = p.parent or p.id
                if day not in needs_of[root]:
                    needs_of[root][day] = _needs(week, root, made[root], total_made[root], day)
                needs, urgency = needs_of[root][day]
                avail = None
                if p.multi_step:  # less what is already between this step and the finished product
                    between = total_made[p.id] - total_made[root]
                    needs = [n - between for n in needs]
                    if p.previous_item is not None:
                        avail = _ready(week, lots, p.previous_item, p.lag_minutes, i) - total_made[p.id]
                        needs = [min(n, avail) for n in needs]
                if max(needs) <= 0:
                    continue
                setup = 0 if p.id == carried and not in_shift else sc.setup_bound(s.line, p.id)
                materials_fit: float = math.inf
                for m, per in p.materials.items():
                    if m not in arrived:
                        mat = sc.material(m)
                        arrived[m] = mat.opening_stock + sum((q for t, q in mat.receipts if t <= s.start), Fraction(0))
                    on_hand = arrived[m] - consumed[m]
                    materials_fit = min(materials_fit, math.floor(on_hand / per) if on_hand > 0 else 0)
                # units that fit within the planned minutes, and (saving rules) into the overtime too
                fits = {int(min(materials_fit, math.floor(Fraction(usable - setup) / rate.minutes_per_unit)))
                        if usable > setup else 0 for usable in {room, room + overtime}}
                setup_cost = float(setup_cost_weight * rate.setup_cost) if setup else 0.0
                wanted = sorted({n for n in needs if n > 0}) if rule != "urgency" else needs[-1:]
                for need in wanted:
                    # of the lots for this need (within the planned minutes, into the overtime), the one saving most
                    options = []
                    for fit in fits:
                        qty = _lot_size(week, p, need, fit, avail, total_made[p.id])
                        if qty < max(1, p.min_run):
                            continue
                        minutes = max(1, setup + run_minutes(qty, rate.minutes_per_unit))
                        extra = max(0, minutes - max(0, room))  # minutes of overtime the lot needs
                        saved = 0.0 if rule == "urgency" else gain(root, day, qty) - setup_cost - extra * overtime_cost
                        options.append((saved, -qty, extra, minutes))
                    if not options:
                        continue
                    saved, neg_qty, extra, minutes = max(options)
                    qty = -neg_qty
                    ties = (urgency, CLASS_RANK[week.classes[p.id]], p.id != carried, p.id)
                    if rule == "urgency":  # the most urgent first (see the module doc)
                        key: tuple = (0, 0.0, *ties)
                    else:
                        if saved <= 0:
                            continue
                        if rule == "saving":  # the most cost saved per minute of the line
                            key = (0, -saved / minutes, *ties)
                        else:  # first what would cost more made some days later, by that cost per minute; then saving
                            ahead = day + int(rule[len("delay"):])
                            later = gain(root, ahead, qty) - setup_cost - extra * overtime_cost if ahead < days else 0.0
                            value = saved - later if saved > later else saved
                            key = (int(saved <= later), -value / minutes, *ties)
                    if best is None or key < best[0]:
                        best = (key, p, rate, qty, setup)
            if best is None:
                break
            _, p, rate, qty, setup = best
            root = p.parent or p.id
            needs_of.pop(root, None)  # made again: its need and savings change
            gain_of.pop(root, None)
            rm = run_minutes(qty, rate.minutes_per_unit)
            lot = Lot(p.id, s.line, i, qty, setup, rm)
            in_shift.append(lot)
            lots.append(lot)
            room -= setup + rm
            if room < 0:  # the lot runs into overtime
                overtime += room
                overtime_left[s.line] += room
                room = 0
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


def _lot_size(week: Week, p: Product, need: int, fit: int, avail: int | None, made: int) -> int:
    """The lot for `need` units within `fit`: in lot multiples, and within what a step has ready and the C cap."""
    qty = min(need, fit)
    qty = qty // p.multiple * p.multiple
    if need < fit and qty < need:  # round the need up to the lot multiple when it fits
        up = math.ceil(need / p.multiple) * p.multiple
        qty = up if up <= fit else qty
    if avail is not None:  # a later step: never more than the previous step has ready
        qty = min(qty, avail // p.multiple * p.multiple)
    cap = week.demand[p.parent or p.id].c_cap
    if cap is not None:
        qty = min(qty, (cap - made) // p.multiple * p.multiple)
    return qty


class DemandCosts:
    """The objective's demand terms of one product over the week, as a function of what is made each day.

    Per day: confirmed orders and all demand not yet delivered (the two backlogs), stock below
    the minimum stock, and end-of-day stock (holding), with the scenario's weights by class.
    """

    def __init__(self, week: Week):
        w = week.scenario.weights
        self.rows: dict[str, tuple[list[int], list[int], int, int, float, float, float, float]] = {}
        for p in week.scenario.products:
            d = week.demand[p.id]
            cls = week.classes[p.id]
            cum_orders = list(itertools.accumulate(d.orders))
            cum_total = list(itertools.accumulate(d.total))
            self.rows[p.id] = (cum_orders, cum_total, d.min_stock, p.opening_stock, float(w.order_backlog[cls]),
                               float(w.forecast_backlog[cls]), float(w.min_stock_shortfall[cls]),
                               float(w.holding * p.holding_cost))

    def cost(self, product: str, made: list[int]) -> float:
        """The demand terms of `product` over the week when `made[k]` units are made on day k."""
        cum_orders, cum_total, min_stock, opening, w_order, w_total, w_stock, w_hold = self.rows[product]
        supply, out = opening, 0.0
        for k, units in enumerate(made):
            supply += units
            short = cum_total[k] - supply
            out += (w_order * max(0, cum_orders[k] - supply) + w_total * max(0, short)
                    + w_stock * min(min_stock, max(0, short + min_stock)) + w_hold * max(0, -short))
        return out

    def gain(self, product: str, made: list[int], day: int, qty: int) -> float:
        """What making `qty` more units of `product` on `day` saves (negative: what it costs)."""
        cum_orders, cum_total, min_stock, opening, w_order, w_total, w_stock, w_hold = self.rows[product]
        supply = opening + sum(made[:day])
        saved = 0.0
        for k in range(day, len(made)):
            supply += made[k]
            for s, sign in ((supply, 1.0), (supply + qty, -1.0)):
                short = cum_total[k] - s
                saved += sign * (w_order * max(0, cum_orders[k] - s) + w_total * max(0, short)
                                 + w_stock * min(min_stock, max(0, short + min_stock)) + w_hold * max(0, -short))
        return saved


def _needs(week: Week, product: str, made: list[int], total_made: int, day: int) -> tuple[list[int], tuple[int, int]]:
    """Units still worth making (to cover the week's orders; all its demand; and the minimum stock too),
    and the urgency (first short day, orders before stock target)."""
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
    needs = [cum_orders - p.opening_stock - total_made, cum_total - p.opening_stock - total_made,
             cum_total + d.min_stock - p.opening_stock - total_made]
    if d.c_cap is not None:
        needs = [min(n, d.c_cap - total_made) for n in needs]
    if first_order_short < week.days:
        urgency = (first_order_short, 0)
    elif first_short < week.days:
        urgency = (first_short, 1)
    else:
        urgency = (first_stock_short, 2)
    return [max(0, n) for n in needs], urgency
