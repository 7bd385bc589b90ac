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
Change = tuple[int, str, int, int]  # lot index (-1: a new lot), product, shift, quantity (0: the lot goes)


def applicable(week: Week) -> bool:
    """Whether the moves apply to the week (not a re-plan's, nor one with jobs)."""
    return week.open_from is None and not week.fixed and not week.job_shifts


WITHIN = True
MERGE = True
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
    products_of: dict[str, list[str]] = defaultdict(list)
    for p in sc.products:
        if p.id not in routed and p.id in costs.rows:
            for line in p.rates:
                products_of[line].append(p.id)
    lots = list(lots)
    moves = 0
    evaluations = 0

    def cost(product: str, made: list[int]) -> float:
        nonlocal evaluations
        evaluations += 1
        return costs.cost(product, made)

    def sizes(product: str, line: str, shift: int, setup: int, room: int, old: int, total: int,
              target: int | None = None) -> list[int]:
        """Quantities of a lot in `room` minutes: its old quantity where it fits, the most that fits,
        and `target` (rounded to the lot multiple) where it fits."""
        key = (product, line, shift)
        if key not in upper or room <= setup:
            return []
        p = sc.product(product)
        most = min(math.floor(Fraction(room - setup) / p.rates[line].minutes_per_unit), upper[key])
        c_cap = week.demand[product].c_cap
        if c_cap is not None:  # R2: a C product is made only against its orders
            most = min(most, c_cap - (total - old))
        most = most // p.multiple * p.multiple
        options = {old, most} if target is None else {old, most, -(-target // p.multiple) * p.multiple}
        return sorted({q for q in options if max(1, p.min_run) <= q <= most})

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

    def new_lot(product: str, shift: int, qty: int) -> Lot:
        line = week.shifts[shift].line
        minutes = run_minutes(qty, sc.product(product).rates[line].minutes_per_unit)
        return Lot(product, line, shift, qty, sc.setup_bound(line, product), minutes)

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
        now = {p: cost(p, made[p]) for p in costs.rows if p not in routed}
        movable = [k for k, lot in enumerate(lots)
                   if not lot.wip and lot.shift not in blocked and lot.product not in routed and lot.product in costs.rows]
        movable_set = set(movable)
        lots_in: dict[int, list[int]] = defaultdict(list)
        for k, lot in enumerate(lots):
            lots_in[lot.shift].append(k)
        for j in openable:
            lots_in.setdefault(j, [])
        more: dict[tuple[str, int], int] = {}
        lot_at = {(lot.product, lot.shift): k for k, lot in enumerate(lots)}

        def placed(k: int, j: int, room: int, lots: list[Lot] = lots, lot_at: dict[tuple[str, int], int] = lot_at,
                   total: dict[str, int] = total, movable_set: set[int] = movable_set
                   ) -> list[tuple[int, list[Change], float]]:
            """Lot k taken to shift j (another than its own) with `room` free minutes there: as a lot of its
            own, or added to the lot of its product already there (one setup less). Each option as (units
            added on j's day, the changes, what the setups cost more)."""
            lot = lots[k]
            p, line = lot.product, week.shifts[j].line
            there = lot_at.get((p, j))
            if there is None:
                setup = lot.setup_minutes if line == lot.line else sc.setup_bound(line, p)
                dearer = setup_cost[(line, p)] - setup_cost[(lot.line, p)]
                return [(q, [(k, p, j, q)], dearer) for q in sizes(p, line, j, setup, room, lot.quantity, total[p])]
            if there not in movable_set or not MERGE:
                return []
            other = lots[there]
            room += other.setup_minutes + other.run_minutes
            return [(q - other.quantity, [(k, p, lot.shift, 0), (there, p, j, q)], -setup_cost[(lot.line, p)])
                    for q in sizes(p, line, j, other.setup_minutes, room, other.quantity + lot.quantity, total[p])]

        def wanted(product: str, day: int, made: dict[str, list[int]] = made, now: dict[str, float] = now,
                   more: dict[tuple[str, int], int] = more) -> int:
            """The units more of `product` on `day` that save most (0: none saves anything); its demand
            terms are convex in them, so the best is at a point where the supply meets a demand level."""
            key = (product, day)
            if key not in more:
                row, base, step = made[product], now[product], sc.product(product).multiple
                bump = list(row)
                bump[day] += step
                best_q, best_gain = 0, 0.0
                if base - cost(product, bump) > 1e-6:
                    cum_orders, cum_total, min_stock, opening = costs.rows[product][:4]
                    supply = opening + sum(row[:day])
                    points = set()
                    for k in range(day, days):
                        supply += row[k]
                        points |= {-(-(level - supply) // step) * step
                                   for level in (cum_orders[k], cum_total[k], cum_total[k] + min_stock) if level > supply}
                    for q in sorted(points):
                        bump = list(row)
                        bump[day] += q
                        gain = base - cost(product, bump)
                        if gain > best_gain + 1e-6:
                            best_q, best_gain = q, gain
                more[key] = best_q
            return more[key]
        candidates: list[tuple[float, list[Change]]] = []
        for x, a in enumerate(movable):
            if out_of_time():
                break  # the best of the moves found so far
            la = lots[a]
            da = week.day_of_shift[la.shift]
            ma = la.setup_minutes + la.run_minutes
            for b in movable[x + 1:]:
                lb = lots[b]
                db = week.day_of_shift[lb.shift]
                if lb.line != la.line or db == da or lb.product == la.product:
                    continue
                mb = lb.setup_minutes + lb.run_minutes
                room_a = max(load[la.shift], cap[la.shift]) - load[la.shift] + ma  # for lb in la's shift
                room_b = max(load[lb.shift], cap[lb.shift]) - load[lb.shift] + mb
                for added_b, change_b, setups_b in placed(b, la.shift, room_a):
                    mq = list(made[lb.product])
                    mq[db] -= lb.quantity
                    mq[da] += added_b
                    loss_b = cost(lb.product, mq) - now[lb.product] + setups_b
                    for added_a, change_a, setups_a in placed(a, lb.shift, room_b):
                        mp = list(made[la.product])
                        mp[da] -= la.quantity
                        mp[db] += added_a
                        gain = now[la.product] - cost(la.product, mp) - setups_a - loss_b
                        if gain > 1e-6:
                            candidates.append((gain, change_a + change_b))
            for line in sc.product(la.product).rates:
                for j in week.shifts_of_line.get(line, []):
                    if j in blocked:
                        continue
                    if j not in load and j not in openable:
                        continue  # a shift the plan does not work in, and that the moves may not open
                    room = max(load[j], cap[j]) - load[j]
                    if j == la.shift:  # it grows where it is
                        options = [(q - la.quantity, [(a, la.product, j, q)], 0.0)
                                   for q in sizes(la.product, line, j, la.setup_minutes, room + ma, la.quantity,
                                                  total[la.product]) if q > la.quantity]
                    else:
                        options = placed(a, j, room)
                    for added, change, setups in options:
                        mp = list(made[la.product])
                        mp[da] -= la.quantity if j != la.shift else 0
                        mp[week.day_of_shift[j]] += added
                        gain = now[la.product] - cost(la.product, mp) - setups - (0 if j in load else openable[j])
                        if gain > 1e-6:
                            candidates.append((gain, change))
        # within a shift: a new lot in its free minutes, or a lot that takes (some of) another's minutes
        for j, ks in lots_in.items() if WITHIN else ():
            if out_of_time():
                break
            if j in blocked:
                continue
            line, d = week.shifts[j].line, week.day_of_shift[j]
            free = max(load[j], cap[j]) - load[j]
            here = {lots[k].product: k for k in ks}
            for a in products_of[line]:
                if (a, line, j) not in upper or not wanted(a, d):
                    continue
                ka = here.get(a)
                if ka is not None and ka not in movable_set:
                    continue
                old_a = lots[ka] if ka is not None else None
                qa_old = old_a.quantity if old_a else 0
                setup_a = old_a.setup_minutes if old_a else sc.setup_bound(line, a)
                ma = old_a.setup_minutes + old_a.run_minutes if old_a else 0
                new_a_cost = 0.0 if old_a else setup_cost[(line, a)]
                target = qa_old + wanted(a, d)
                if old_a is None:
                    for q in sizes(a, line, j, setup_a, free, 0, total[a], target):
                        mp = list(made[a])
                        mp[d] += q
                        gain = now[a] - cost(a, mp) - new_a_cost
                        if gain > 1e-6:
                            candidates.append((gain, [(-1, a, j, q)]))
                for kb in ks:
                    lb = lots[kb]
                    if lb.product == a or kb not in movable_set:
                        continue
                    mb = lb.setup_minutes + lb.run_minutes
                    pb = sc.product(lb.product)
                    mpu_b = pb.rates[line].minutes_per_unit
                    half = lb.quantity // 2 // pb.multiple * pb.multiple
                    # what b keeps when a gets its target: b's minutes less what a's target needs beyond the free ones
                    need = setup_a + run_minutes(target, sc.product(a).rates[line].minutes_per_unit) - ma - free
                    fit = math.floor(Fraction(mb - need - lb.setup_minutes) / mpu_b) // pb.multiple * pb.multiple
                    for qb in sorted({0} | {q for q in (half, fit) if max(1, pb.min_run) <= q < lb.quantity}):
                        left_b = lb.setup_minutes + run_minutes(qb, mpu_b) if qb else 0
                        room = free + ma + mb - left_b
                        mq = list(made[lb.product])
                        mq[d] += qb - lb.quantity
                        loss_b = cost(lb.product, mq) - now[lb.product] - (0 if qb else setup_cost[(line, lb.product)])
                        for qa in sizes(a, line, j, setup_a, room, qa_old, total[a], target):
                            if qa <= qa_old:
                                continue
                            mp = list(made[a])
                            mp[d] += qa - qa_old
                            gain = now[a] - cost(a, mp) - new_a_cost - loss_b
                            if gain > 1e-6:
                                candidates.append((gain, [(ka if ka is not None else -1, a, j, qa),
                                                          (kb, lb.product, j, qb)]))
        # the best move first, then every next best that touches none of the lots, shifts and products moved
        candidates.sort(key=lambda c: -c[0])
        touched: set[object] = set()
        made_any = False
        for _, change in candidates:
            keys = ({("lot", k) for k, _, _, _ in change if k >= 0} | {("shift", shift) for _, _, shift, _ in change}
                    | {("shift", lots[k].shift) for k, _, _, _ in change if k >= 0}
                    | {("product", product) for _, product, _, _ in change})
            if keys & touched:
                continue
            new = list(lots)
            for k, product, shift, qty in change:
                if k < 0:
                    new.append(new_lot(product, shift, qty))
                else:
                    new[k] = lot_of(lots[k], shift, qty)
            if materials_hold(new, {product for _, product, _, _ in change}):
                lots = new
                moves += 1
                made_any = True
                touched |= keys
        lots = [lot for lot in lots if lot.quantity > 0]  # the lots that went (indices hold within a pass)
        if not made_any:
            break
    return lots, moves
