"""Lot moves: a fast local search over a plan's lots that reaches what the parts of
fix-and-optimize do not (`sopt.model.lns`).

A part frees the runs of one or two lines, or of two days next to each other. Moving a
product's lot from Thursday to Monday, while Monday's lot of another product goes to
Thursday, is then a chain of parts that each cost more before the last one pays. On
overloaded weeks that is the move that matters: which products are made early in the week,
below their minimum stock, and which wait. The moves:

- swap: two lots of different products on different days of a line change shifts, each
  resized to the minutes the other leaves (its old quantity where it fits, or as much as
  fits); so do two lots on different lines where each product is made on both;
- move: a lot goes to another shift of its line or of another line that makes the product
  (with that line's setup and speed), or grows in its own shift, up to the shift's free
  planned minutes. A move may open a shift the plan leaves closed, for the shift's cost,
  on lines without a limit on shifts a day or a crew pool;
- in a swap or a move, a lot that comes to a shift where its product already has a lot
  joins that lot: one setup less;
- within a shift: a product gets a new lot in the free minutes, or takes minutes from
  another lot of the shift, which gives up all of them, half, or just what the taker
  needs. The taker is sized to what it needs most: a product's demand terms are convex in
  what it makes on a day, so the best quantity is one at which its supply meets a demand
  level (the orders, all demand, or the minimum stock, on some day);
- a shift taken whole: a product whose smallest lot needs more minutes than any one lot of
  the shift can give takes all of them, and each lot there goes to the shift (one lot to
  each) where its product loses least, or goes (an ejection chain of depth one).

A move never raises a shift's load above the larger of its planned minutes and its load
before (no overtime is added), keeps each lot within its candidate run's bounds (the
model's: lot multiple, minimum run, most useful units) and the C products within their
orders, and is kept only when the materials still arrive in time (R5). Its value is the
change of the moved products' demand terms (backlogs, min-stock shortfall, holding; the
objective's weights), computed exactly per product, less the change of the setups' costs
(a new or dearer setup, one saved) and a newly opened shift's cost; overtime does not change.

Each pass over the lots makes the best move, then every next best one that touches none of
the lots, shifts and products already moved (their gains add up); the next pass starts from
there, until no move gains or the work is done. The caller completes the lots into a model
solution and keeps it only when the model's objective is lower (`sopt.model.lns`).

A lot of the product whose setup a line carries in from the week before (`last_product`)
needs no setup in the line's first shift, as in the model. Products of routings (steps),
shifts with work in progress, and weeks with frozen runs or jobs are left alone.
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
Option = tuple[int, list[Change], float]  # units added on the shift's day, the changes, what setups cost more


def applicable(week: Week) -> bool:
    """Whether the moves apply to the week (not a re-plan's, nor one with jobs)."""
    return week.open_from is None and not week.fixed and not week.job_shifts


CROSS = True
EJECT = True  # a shift taken whole (module doc)
CARRIED = True  # moves in the shifts that carry a setup in from the week before
WORK = 300_000  # product costs evaluated per call, at most (about 1 s on 50x5; the same plan on any machine)


def improve_lots(week: Week, lots: list[Lot], upper: dict[Key, int], seconds: float = math.inf,
                 work: int = WORK) -> tuple[list[Lot], int]:
    """Better lots by swaps and moves (module doc); returns the lots and the moves made.

    `upper`: the most units of each candidate run (product, line, shift) of the model; a lot
    goes only where the model has a candidate run for it. The search stops after `work`
    evaluations of a product's costs (so that its plan does not depend on the machine), or
    after `seconds`.
    """
    search = _Search(week, upper, seconds, work)
    lots = list(lots)
    moves = 0
    while not search.out_of_time():
        step = _Pass(search, lots)
        lots, made = step.run()
        moves += made
        if not made:
            break
    return lots, moves


class _Search:
    """What a call of `improve_lots` knows of the week, its rules and its costs (the same in every pass)."""

    def __init__(self, week: Week, upper: dict[Key, int], seconds: float, work: int):
        self.t0, self.seconds, self.work, self.evaluations = time.perf_counter(), seconds, work, 0
        self.week, self.upper = week, upper
        sc = self.sc = week.scenario
        self.costs = DemandCosts(week)
        self.routed = {x.id for x in sc.items if x.previous_item is not None or sc.next_item(x.id) is not None}
        self.fixed_made: dict[str, list[int]] = defaultdict(lambda: [0] * week.days)
        for product, i, qty in week.fixed_output():
            self.fixed_made[product][week.day_of_shift[i]] += qty
        self.cap = {i: week.planned_capacity(i) - week.wip_minutes(i) for i in range(len(week.shifts))}
        self.blocked = {w.shift_index for w in week.wip} | (set() if CARRIED else set(week.carried))
        self.receipts = {m.id: sorted({t for t, _ in m.receipts}) for m in sc.materials}
        w = sc.weights
        self.setup_cost = {(line, p.id): float(w.setup_cost * rate.setup_cost)
                           for p in sc.items for line, rate in p.rates.items()}
        # shifts a move may open, with what opening one costs: those of lines without a limit on shifts a
        # day or a crew pool, which the model would open for a lot (R4 stays the model's)
        self.openable = {i: float(w.shift_cost * sc.line(s.line).shift_cost) if week.shift_is_decision(i) else 0.0
                         for i, s in enumerate(week.shifts)
                         if s.W > 0 and week.accepts_new_work(i) and i not in self.blocked
                         and sc.line(s.line).max_shifts_per_day is None
                         and not (sc.line(s.line).crew > 0 and s.template in sc.crew_pool)}
        self.products_of: dict[str, list[str]] = defaultdict(list)  # per line, the products the moves may plan
        for p in sc.products:
            if self.planned(p.id):
                for line in p.rates:
                    self.products_of[line].append(p.id)

    def planned(self, product: str) -> bool:
        """Whether the moves plan this product (not a step of a routing)."""
        return product not in self.routed and product in self.costs.rows

    def out_of_time(self) -> bool:
        return self.evaluations >= self.work or time.perf_counter() - self.t0 >= self.seconds

    def cost(self, product: str, made: list[int]) -> float:
        """The product's demand terms (counted against the work)."""
        self.evaluations += 1
        return self.costs.cost(product, made)

    def sizes(self, product: str, line: str, shift: int, setup: int, room: int, old: int, total: int,
              target: int | None = None) -> list[int]:
        """Quantities of a lot in `room` minutes: its old quantity where it fits, the most that fits, and
        `target` (rounded up to the lot multiple) where it fits. `total`: the product's units in the plan."""
        key = (product, line, shift)
        if key not in self.upper or room <= setup:
            return []
        p = self.sc.product(product)
        most = min(math.floor(Fraction(room - setup) / p.rates[line].minutes_per_unit), self.upper[key])
        c_cap = self.week.demand[product].c_cap
        if c_cap is not None:  # R2: a C product is made only against its orders
            most = min(most, c_cap - (total - old))
        most = most // p.multiple * p.multiple
        options = {old, most} if target is None else {old, most, -(-target // p.multiple) * p.multiple}
        return sorted({q for q in options if max(1, p.min_run) <= q <= most})

    def materials_hold(self, lots: list[Lot], changed: set[str]) -> bool:
        """R5 at every receipt and at the end, for the materials of the products moved."""
        sc, week = self.sc, self.week
        for m in sorted({m for p in changed for m in sc.product(p).materials}):
            mat = sc.material(m)
            users = [(sc.product(lot.product).materials[m] * lot.quantity, week.shifts[lot.shift].start)
                     for lot in lots if m in sc.product(lot.product).materials]
            for checkpoint in [*self.receipts.get(m, []), None]:
                arrived = mat.opening_stock + sum((q for t, q in mat.receipts if checkpoint is None or t < checkpoint),
                                                  Fraction(0))
                if sum((u for u, start in users if checkpoint is None or start < checkpoint), Fraction(0)) > arrived:
                    return False
        return True

    def setup_minutes(self, line: str, product: str, shift: int) -> int:
        """A lot's setup: none for the product whose setup the shift carries in (as in the model), else the line's."""
        return 0 if self.week.carried.get(shift) == product else self.sc.setup_bound(line, product)

    def setup_price(self, line: str, product: str, shift: int) -> float:
        """What a lot's setup costs in the objective (nothing where the shift carries it in)."""
        return 0.0 if self.week.carried.get(shift) == product else self.setup_cost[(line, product)]

    def lot(self, product: str, shift: int, qty: int) -> Lot:
        """A lot of `qty` units in `shift`, with its setup there."""
        line = self.week.shifts[shift].line
        setup = self.setup_minutes(line, product, shift)
        return Lot(product, line, shift, qty, setup, run_minutes(qty, self.sc.product(product).rates[line].minutes_per_unit))


class _Pass:
    """One pass over the lots: the plan as it stands, the moves that gain from it, and those made."""

    def __init__(self, search: _Search, lots: list[Lot]):
        self.s, self.lots = search, lots
        week = search.week
        self.made: dict[str, list[int]] = defaultdict(lambda: [0] * week.days)
        for product, row in search.fixed_made.items():
            self.made[product] = list(row)
        self.total: dict[str, int] = defaultdict(int)
        self.load: dict[int, int] = defaultdict(int)
        self.lots_in: dict[int, list[int]] = defaultdict(list)  # shift -> its lots (indices)
        for k, lot in enumerate(lots):
            self.made[lot.product][week.day_of_shift[lot.shift]] += lot.quantity
            self.total[lot.product] += lot.quantity
            self.load[lot.shift] += lot.setup_minutes + lot.run_minutes
            self.lots_in[lot.shift].append(k)
        for j in search.openable:
            self.lots_in.setdefault(j, [])
        self.lot_at = {(lot.product, lot.shift): k for k, lot in enumerate(lots)}
        self.now = {p: search.cost(p, self.made[p]) for p in search.costs.rows if p not in search.routed}
        self.movable = [k for k, lot in enumerate(lots)
                        if not lot.wip and lot.shift not in search.blocked and search.planned(lot.product)]
        self.movable_set = set(self.movable)
        self.more: dict[tuple[str, int], int] = {}
        self.candidates: list[tuple[float, list[Change]]] = []  # (gain, changes)

    def run(self) -> tuple[list[Lot], int]:
        """Find the moves that gain, make the best ones that do not touch each other; the lots after, and
        how many moves were made."""
        for x, a in enumerate(self.movable):
            if self.s.out_of_time():
                break  # the best of the moves found so far
            self.swaps(a, self.movable[x + 1:])
            self.moves(a)
        for j, ks in self.lots_in.items():
            if self.s.out_of_time():
                break
            if j not in self.s.blocked:
                self.within(j, ks)
        return self.make()

    def free(self, shift: int) -> int:
        """Planned minutes left in a shift (none when it is in overtime)."""
        return max(self.load[shift], self.s.cap[shift]) - self.load[shift]

    def gain(self, product: str, *changes: tuple[int, int]) -> float:
        """What the product's demand terms save with the changes (day, units more made that day)."""
        row = list(self.made[product])
        for day, units in changes:
            row[day] += units
        return self.now[product] - self.s.cost(product, row)

    def wanted(self, product: str, day: int) -> int:
        """The units more of `product` on `day` that save most (0: none saves anything); its demand terms
        are convex in them, so the best is at a point where the supply meets a demand level."""
        key = (product, day)
        if key not in self.more:
            s = self.s
            row, step = self.made[product], s.sc.product(product).multiple
            best_q, best_gain = 0, 0.0
            if self.gain(product, (day, step)) > 1e-6:
                cum_orders, cum_total, min_stock, opening = s.costs.rows[product][:4]
                supply = opening + sum(row[:day])
                points = set()
                for k in range(day, s.week.days):
                    supply += row[k]
                    points |= {-(-(level - supply) // step) * step
                               for level in (cum_orders[k], cum_total[k], cum_total[k] + min_stock) if level > supply}
                for q in sorted(points):
                    gain = self.gain(product, (day, q))
                    if gain > best_gain + 1e-6:
                        best_q, best_gain = q, gain
            self.more[key] = best_q
        return self.more[key]

    def placed(self, k: int, j: int, room: int) -> list[Option]:
        """Lot k taken to shift j (another than its own) with `room` free minutes there: as a lot of its
        own, or added to the lot of its product already there (one setup less)."""
        s, lot = self.s, self.lots[k]
        p, line = lot.product, s.week.shifts[j].line
        there = self.lot_at.get((p, j))
        if there is None:
            setup = s.setup_minutes(line, p, j)
            dearer = s.setup_price(line, p, j) - s.setup_price(lot.line, p, lot.shift)
            return [(q, [(k, p, j, q)], dearer) for q in s.sizes(p, line, j, setup, room, lot.quantity, self.total[p])]
        if there not in self.movable_set:
            return []
        other = self.lots[there]
        room += other.setup_minutes + other.run_minutes
        return [(q - other.quantity, [(k, p, lot.shift, 0), (there, p, j, q)], -s.setup_price(lot.line, p, lot.shift))
                for q in s.sizes(p, line, j, other.setup_minutes, room, other.quantity + lot.quantity, self.total[p])]

    def swaps(self, a: int, others: list[int]) -> None:
        """Lot a and a lot of another product change shifts: on another day of its line, or (where both
        products are made on both lines) on another line."""
        day_of = self.s.week.day_of_shift
        la = self.lots[a]
        da = day_of[la.shift]
        rates_a = self.s.sc.product(la.product).rates
        for b in others:
            lb = self.lots[b]
            db = day_of[lb.shift]
            if lb.product == la.product or (db == da if lb.line == la.line else not (
                    CROSS and lb.line in rates_a and la.line in self.s.sc.product(lb.product).rates)):
                continue
            room_a = self.free(la.shift) + la.setup_minutes + la.run_minutes  # for lb in la's shift
            room_b = self.free(lb.shift) + lb.setup_minutes + lb.run_minutes
            for added_b, change_b, setups_b in self.placed(b, la.shift, room_a):
                loss_b = setups_b - self.gain(lb.product, (db, -lb.quantity), (da, added_b))
                for added_a, change_a, setups_a in self.placed(a, lb.shift, room_b):
                    gain = self.gain(la.product, (da, -la.quantity), (db, added_a)) - setups_a - loss_b
                    if gain > 1e-6:
                        self.candidates.append((gain, change_a + change_b))

    def moves(self, a: int) -> None:
        """Lot a to another shift of a line that makes its product, or grown in its own."""
        s, la = self.s, self.lots[a]
        da = s.week.day_of_shift[la.shift]
        for line in s.sc.product(la.product).rates:
            for j in s.week.shifts_of_line.get(line, []):
                if j in s.blocked or (j not in self.load and j not in s.openable):
                    continue  # a shift the plan does not work in, and that the moves may not open
                room = self.free(j)
                if j == la.shift:  # it grows where it is
                    options: list[Option] = [
                        (q - la.quantity, [(a, la.product, j, q)], 0.0)
                        for q in s.sizes(la.product, line, j, la.setup_minutes, room + la.setup_minutes + la.run_minutes,
                                         la.quantity, self.total[la.product]) if q > la.quantity]
                else:
                    options = self.placed(a, j, room)
                opening = 0.0 if j in self.load else s.openable[j]
                leaves = 0 if j == la.shift else la.quantity
                for added, change, setups in options:
                    gain = self.gain(la.product, (da, -leaves), (s.week.day_of_shift[j], added)) - setups - opening
                    if gain > 1e-6:
                        self.candidates.append((gain, change))

    def within(self, j: int, ks: list[int]) -> None:
        """In shift j: a product gets a new lot in the free minutes, or takes minutes from another lot."""
        s = self.s
        line, d = s.week.shifts[j].line, s.week.day_of_shift[j]
        free = self.free(j)
        minutes = {kb: self.lots[kb].setup_minutes + self.lots[kb].run_minutes for kb in ks}
        whole = EJECT and all(kb in self.movable_set for kb in ks)  # the shift may be taken whole
        for a in s.products_of[line]:
            if (a, line, j) not in s.upper or not self.wanted(a, d):
                continue
            ka = self.lot_at.get((a, j))
            if ka is not None and ka not in self.movable_set:
                continue
            old_a = self.lots[ka] if ka is not None else None
            qa_old = old_a.quantity if old_a else 0
            setup_a = old_a.setup_minutes if old_a else s.setup_minutes(line, a, j)
            ma = old_a.setup_minutes + old_a.run_minutes if old_a else 0
            new_setup = 0.0 if old_a else s.setup_price(line, a, j)
            target = qa_old + self.wanted(a, d)
            if old_a is None:
                for q in s.sizes(a, line, j, setup_a, free, 0, self.total[a], target):
                    gain = self.gain(a, (d, q)) - new_setup
                    if gain > 1e-6:
                        self.candidates.append((gain, [(-1, a, j, q)]))
            if whole and len(ks) > (ka is not None):
                self.takes_shift(a, ka, j, target, setup_a, minutes)
            for kb in ks:
                lb = self.lots[kb]
                if lb.product == a or kb not in self.movable_set:
                    continue
                mb = lb.setup_minutes + lb.run_minutes
                pb = s.sc.product(lb.product)
                mpu_b = pb.rates[line].minutes_per_unit
                half = lb.quantity // 2 // pb.multiple * pb.multiple
                # what b keeps when a gets its target: b's minutes less what a's target needs beyond the free ones
                need = setup_a + run_minutes(target, s.sc.product(a).rates[line].minutes_per_unit) - ma - free
                fit = math.floor(Fraction(mb - need - lb.setup_minutes) / mpu_b) // pb.multiple * pb.multiple
                for qb in sorted({0} | {q for q in (half, fit) if max(1, pb.min_run) <= q < lb.quantity}):
                    left_b = lb.setup_minutes + run_minutes(qb, mpu_b) if qb else 0
                    loss_b = -self.gain(lb.product, (d, qb - lb.quantity)) - (0 if qb else s.setup_price(line, lb.product, j))
                    for qa in s.sizes(a, line, j, setup_a, free + ma + mb - left_b, qa_old, self.total[a], target):
                        if qa <= qa_old:
                            continue
                        gain = self.gain(a, (d, qa - qa_old)) - new_setup - loss_b
                        if gain > 1e-6:
                            self.candidates.append((gain, [(-1 if ka is None else ka, a, j, qa), (kb, lb.product, j, qb)]))

    def takes_shift(self, a: str, ka: int | None, j: int, target: int, setup_a: int, minutes: dict[int, int]) -> None:
        """Product a (its lot ka in shift j, if any, with `setup_a`) takes every minute of shift j when no
        lot of it fits where one other lot gives way; each lot there goes to the shift where it loses
        least (or goes), each to another shift. `minutes`: the shift's lots and their minutes."""
        s = self.s
        line, d = s.week.shifts[j].line, s.week.day_of_shift[j]
        qa_old = self.lots[ka].quantity if ka is not None else 0
        pa = s.sc.product(a)
        others = [kb for kb in minutes if kb != ka]
        smallest = setup_a + run_minutes(max(pa.min_run, pa.multiple, qa_old + pa.multiple), pa.rates[line].minutes_per_unit)
        if smallest <= self.free(j) + (minutes[ka] if ka is not None else 0) + max(minutes[kb] for kb in others):
            return  # one lot giving way is enough: `within` has that move
        room = max(self.load[j], s.cap[j])
        loss = 0.0
        changes: list[Change] = []
        used = {j}
        for kb in others:
            lb = self.lots[kb]
            d_b = s.week.day_of_shift[lb.shift]
            best_loss = -self.gain(lb.product, (d_b, -lb.quantity)) - s.setup_price(lb.line, lb.product, lb.shift)
            best: tuple[int, list[Change]] = (-1, [(kb, lb.product, j, 0)])
            for ln in s.sc.product(lb.product).rates:
                for j2 in s.week.shifts_of_line.get(ln, []):
                    if j2 in used or j2 in s.blocked or j2 not in self.load:
                        continue
                    for added, change, setups in self.placed(kb, j2, self.free(j2)):
                        option = setups - self.gain(lb.product, (d_b, -lb.quantity), (s.week.day_of_shift[j2], added))
                        if option < best_loss - 1e-6:
                            best_loss, best = option, (j2, change)
            loss += best_loss
            changes += best[1]
            used.add(best[0])
        new_setup = 0.0 if ka is not None else s.setup_price(line, a, j)
        for qa in s.sizes(a, line, j, setup_a, room, qa_old, self.total[a], target):
            if qa <= qa_old:
                continue
            gain = self.gain(a, (d, qa - qa_old)) - new_setup - loss
            if gain > 1e-6:
                self.candidates.append((gain, [(-1 if ka is None else ka, a, j, qa), *changes]))

    def make(self) -> tuple[list[Lot], int]:
        """The best move first, then every next best that touches none of the lots, shifts and products
        moved; the lots after the pass (those at zero gone) and the moves made."""
        self.candidates.sort(key=lambda c: -c[0])
        lots = self.lots
        touched: set[object] = set()
        made = 0
        for _, change in self.candidates:
            keys = ({("lot", k) for k, _, _, _ in change if k >= 0} | {("shift", shift) for _, _, shift, _ in change}
                    | {("shift", lots[k].shift) for k, _, _, _ in change if k >= 0}
                    | {("product", product) for _, product, _, _ in change})
            if keys & touched:
                continue
            new = list(lots)
            for k, product, shift, qty in change:
                if k < 0:
                    new.append(self.s.lot(product, shift, qty))
                else:
                    new[k] = self.s.lot(product, shift, qty)
            if self.s.materials_hold(new, {product for _, product, _, _ in change}):
                lots = new  # indices hold within the pass: new lots come last, lots at zero stay until the end
                made += 1
                touched |= keys
        return [lot for lot in lots if lot.quantity > 0], made
