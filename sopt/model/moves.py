"""Lot moves: a fast local search over a plan's lots that reaches what the parts of
fix-and-optimize do not (`sopt.model.lns`).

A part frees the runs of one or two lines, or of two days next to each other. Moving a
product's lot from Thursday to Monday, while Monday's lot of another product goes to
Thursday, is then a chain of parts that each cost more before the last one pays. On
overloaded weeks that is the move that matters: which products are made early in the week,
below their minimum stock, and which wait. The moves:

- swap: two lots of different products on different days change shifts, each resized to
  the minutes the other leaves (its old quantity where it fits, or as much as fits);
- move: a lot goes to another shift of its line or of another line that makes the product
  (with that line's setup and speed), or grows in its own shift, up to the shift's free
  planned minutes. A move may open a shift the plan leaves closed, for the shift's cost,
  on lines without a limit on shifts a day or a crew pool.

A move never raises a shift's load above the larger of its planned minutes and its load
before (no overtime is added), keeps each lot within its candidate run's bounds (the
model's: lot multiple, minimum run, most useful units) and the C products within their
orders, and is kept only when the materials still arrive in time (R5). Its value is the
change of the moved products' demand terms (backlogs, min-stock shortfall, holding; the
objective's weights), computed exactly per product, less a new line's dearer setup and a
newly opened shift's cost; overtime does not change.

Each pass over the lots makes the best move, then every next best one that touches none of
the lots, shifts and products already moved (their gains add up); the next pass starts from
there, until no move gains or the work is done. The caller completes the lots into a model
solution and keeps it only when the model's objective is lower (`sopt.model.lns`).

Products of routings (steps), shifts with a carried setup or work in progress, and weeks
with frozen runs or jobs are left alone.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from fractions import Fraction

from sopt.heuristic import DemandCosts
from sopt.sequence import Lot, run_minutes
from sopt.week import Week

Key = tuple[str, str, int]  # product, line, shift


def applicable(week: Week) -> bool:
    """Whether the moves apply to the week (not a re-plan's, nor one with jobs)."""
    return week.open_from is None and not week.fixed and not week.job_shifts


WORK = 300_000  # product costs evaluated per call, at most (about 1 s on 50x5; the same plan on any machine)


def improve_lots(week: Week, lots: list[Lot], upper: dict[Key, int], seconds: float = math.inf,
                 work: int = WORK) -> tuple[list[Lot], int]:
    """Better lots by swaps and moves (module doc); returns the lots and the moves made.

    `upper`: the most units of each candidate run (product, line, shift) of the model; a lot
    goes only where the model has a candidate run for it. The search stops after `work`
    evaluations of a product's costs (so that its plan does not depend on the machine), or
    after `seconds`.
    """
    t0 = time.perf_counter()
    sc = week.scenario
    days = week.days
    costs = DemandCosts(week)
    routed = {x.id for x in sc.items if x.previous_item is not None or sc.next_item(x.id) is not None}
    fixed_made: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    for product, i, qty in week.fixed_output():
        fixed_made[product][week.day_of_shift[i]] += qty
    cap = {i: week.planned_capacity(i) - week.wip_minutes(i) for i in range(len(week.shifts))}
    blocked = set(week.carried) | {w.shift_index for w in week.wip}
    receipts = {m.id: sorted({t for t, _ in m.receipts}) for m in sc.materials}
    w = sc.weights
    setup_cost = {(line, p.id): float(w.setup_cost * rate.setup_cost) for p in sc.items for line, rate in p.rates.items()}
    # shifts a move may open, with what opening one costs: those of lines without a limit on shifts a
    # day or a crew pool, which the model would open for a lot (R4 stays the model's)
    openable = {i: float(w.shift_cost * sc.line(s.line).shift_cost) if week.shift_is_decision(i) else 0.0
                for i, s in enumerate(week.shifts)
                if s.W > 0 and week.accepts_new_work(i) and i not in blocked
                and sc.line(s.line).max_shifts_per_day is None
                and not (sc.line(s.line).crew > 0 and s.template in sc.crew_pool)}
    lots = list(lots)
    moves = 0
    evaluations = 0

    def cost(product: str, made: list[int]) -> float:
        nonlocal evaluations
        evaluations += 1
        return costs.cost(product, made)

    def sizes(product: str, line: str, shift: int, setup: int, room: int, old: int, total: int) -> list[int]:
        """Quantities of a lot in `room` minutes: its old quantity where it fits, and the most that fits."""
        key = (product, line, shift)
        if key not in upper or room <= setup:
            return []
        p = sc.product(product)
        most = min(math.floor(Fraction(room - setup) / p.rates[line].minutes_per_unit), upper[key])
        c_cap = week.demand[product].c_cap
        if c_cap is not None:  # R2: a C product is made only against its orders
            most = min(most, c_cap - (total - old))
        most = most // p.multiple * p.multiple
        return sorted({q for q in (old, most) if max(1, p.min_run) <= q <= most})

    def materials_hold(new: list[Lot], changed: set[str]) -> bool:
        """R5 at every receipt and at the end, for the materials of the products moved."""
        for m in sorted({m for p in changed for m in sc.product(p).materials}):
            mat = sc.material(m)
            users = [(sc.product(lot.product).materials[m] * lot.quantity, week.shifts[lot.shift].start)
                     for lot in new if m in sc.product(lot.product).materials]
            for checkpoint in [*receipts.get(m, []), None]:
                arrived = mat.opening_stock + sum((q for t, q in mat.receipts if checkpoint is None or t < checkpoint),
                                                  Fraction(0))
                if sum((u for u, start in users if checkpoint is None or start < checkpoint), Fraction(0)) > arrived:
                    return False
        return True

    def lot_of(old: Lot, shift: int, qty: int) -> Lot:
        line = week.shifts[shift].line
        setup = old.setup_minutes if line == old.line else sc.setup_bound(line, old.product)
        minutes = run_minutes(qty, sc.product(old.product).rates[line].minutes_per_unit)
        return Lot(old.product, line, shift, qty, setup, minutes)

    def out_of_time() -> bool:
        return evaluations >= work or time.perf_counter() - t0 >= seconds

    while not out_of_time():
        made: dict[str, list[int]] = defaultdict(lambda: [0] * days)
        for product, row in fixed_made.items():
            made[product] = list(row)
        total: dict[str, int] = defaultdict(int)
        load: dict[int, int] = defaultdict(int)
        products_in: dict[int, set[str]] = defaultdict(set)
        for lot in lots:
            made[lot.product][week.day_of_shift[lot.shift]] += lot.quantity
            total[lot.product] += lot.quantity
            load[lot.shift] += lot.setup_minutes + lot.run_minutes
            products_in[lot.shift].add(lot.product)
        now = {p: cost(p, made[p]) for p in made if p in costs.rows}
        movable = [k for k, lot in enumerate(lots)
                   if not lot.wip and lot.shift not in blocked and lot.product not in routed and lot.product in costs.rows]
        candidates: list[tuple[float, list[tuple[int, int, int]]]] = []  # (gain, [(lot index, shift, quantity)])
        for x, a in enumerate(movable):
            if out_of_time():
                break  # the best of the moves found so far
            la = lots[a]
            da = week.day_of_shift[la.shift]
            ma = la.setup_minutes + la.run_minutes
            for b in movable[x + 1:]:
                lb = lots[b]
                db = week.day_of_shift[lb.shift]
                if (lb.line != la.line or db == da or lb.product == la.product
                        or la.product in products_in[lb.shift] or lb.product in products_in[la.shift]):
                    continue
                mb = lb.setup_minutes + lb.run_minutes
                room_a = max(load[la.shift], cap[la.shift]) - load[la.shift] + ma  # for lb in la's shift
                room_b = max(load[lb.shift], cap[lb.shift]) - load[lb.shift] + mb
                qbs = sizes(lb.product, lb.line, la.shift, lb.setup_minutes, room_a, lb.quantity, total[lb.product])
                qas = sizes(la.product, la.line, lb.shift, la.setup_minutes, room_b, la.quantity, total[la.product])
                for qb in qbs:
                    for qa in qas:
                        mp, mq = list(made[la.product]), list(made[lb.product])
                        mp[da] -= la.quantity
                        mp[db] += qa
                        mq[db] -= lb.quantity
                        mq[da] += qb
                        gain = now[la.product] + now[lb.product] - cost(la.product, mp) - cost(lb.product, mq)
                        if gain > 1e-6:
                            candidates.append((gain, [(a, lb.shift, qa), (b, la.shift, qb)]))
            for line in sc.product(la.product).rates:
                setup = sc.setup_bound(line, la.product)
                # a lot changes lines with its setup: the cost of the new line's, less the old one's
                setup_change = setup_cost[(line, la.product)] - setup_cost[(la.line, la.product)]
                for j in week.shifts_of_line.get(line, []):
                    if j in blocked or (j != la.shift and la.product in products_in[j]):
                        continue
                    if j not in load and j not in openable:
                        continue  # a shift the plan does not work in, and that the moves may not open
                    room = max(load[j], cap[j]) - load[j] + (ma if j == la.shift else 0)
                    for q in sizes(la.product, line, j, setup, room, la.quantity, total[la.product]):
                        if j == la.shift and q <= la.quantity:
                            continue
                        mp = list(made[la.product])
                        mp[da] -= la.quantity
                        mp[week.day_of_shift[j]] += q
                        gain = now[la.product] - cost(la.product, mp) - setup_change - (0 if j in load else openable[j])
                        if gain > 1e-6:
                            candidates.append((gain, [(a, j, q)]))
        # the best move first, then every next best that touches none of the lots, shifts and products moved
        candidates.sort(key=lambda c: -c[0])
        touched: set[object] = set()
        made_any = False
        for _, change in candidates:
            keys = ({("lot", k) for k, _, _ in change} | {("shift", lots[k].shift) for k, _, _ in change}
                    | {("shift", shift) for _, shift, _ in change} | {("product", lots[k].product) for k, _, _ in change})
            if keys & touched:
                continue
            new = list(lots)
            for k, shift, qty in change:
                new[k] = lot_of(lots[k], shift, qty)
            if materials_hold(new, {lots[k].product for k, _, _ in change}):
                lots = new
                moves += 1
                made_any = True
                touched |= keys
        if not made_any:
            break
    return lots, moves
