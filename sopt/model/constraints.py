"""Constraints of the planning model: one method per business rule, added in a fixed order."""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

from ortools.sat.python import cp_model

from sopt.calendar import MINUTE
from sopt.model.variables import Variables
from sopt.week import Week


class Constraints:
    """Adds every rule of the planning stage to a CP-SAT model."""

    def __init__(self, m: cp_model.CpModel, week: Week, v: Variables):
        self.m, self.week, self.v = m, week, v

    def add_all(self) -> None:
        """Add the rules in a fixed order."""
        self._setup_link()
        self._capacity_and_protected_share()
        self._overtime_limits()
        self._shift_limits()
        self._crew_pool()
        self._materials()
        self._stock_balance()
        self._routing_flow()
        self._min_stock()
        self._make_to_order()
        self._hard_demand()

    def _setup_link(self) -> None:
        """Setups: a run takes place only with its setup, at least its minimum run, in an open shift."""
        for r in self.v.runs:
            self.m.add(r.lots <= (r.upper // r.multiple) * r.setup)
            p = self.week.scenario.product(r.product)
            lot_min = max(1, math.ceil(Fraction(p.min_run, p.multiple)))
            self.m.add(r.lots >= lot_min * r.setup)
            is_open = self.v.shifts[r.shift].open
            if not isinstance(is_open, int):
                self.m.add_implication(r.setup, is_open)

    def _capacity_and_protected_share(self) -> None:
        """R9: planned work (run + setup) per line-shift stays within W - P plus overtime; runs
        whose setup leaves no room for a unit before the protected window fit the overtime."""
        for i, sv in self.v.shifts.items():
            runs = self.v.runs_of_shift.get(i, [])
            wip = self.week.wip_minutes(i)
            if wip and not isinstance(sv.open, int):
                self.m.add(sv.open == 1)  # work in progress or frozen runs keep their shift open
            if not runs:
                continue
            load = sum(r.run_minutes + r.setup_minutes * r.setup for r in runs) + wip
            self.m.add(load <= self.week.planned_capacity(i) * sv.open + sv.overtime)
            late = [r for r in runs if r.overtime_only]
            if late:
                self.m.add(sum(r.run_minutes + r.setup_minutes * r.setup for r in late) <= sv.overtime)

    def _overtime_limits(self) -> None:
        """R4: overtime only after an opened shift, within the line's per-shift and weekly limits."""
        per_line: dict[str, list] = defaultdict(list)
        for i, sv in self.v.shifts.items():
            if isinstance(sv.overtime, int):
                continue
            s = self.week.shifts[i]
            if not isinstance(sv.open, int):
                self.m.add(sv.overtime <= s.overtime_cap * sv.open)
            per_line[s.line].append(sv.overtime)
        for line_id, ots in per_line.items():
            cap = self.week.scenario.line(line_id).overtime_max_per_week
            if cap is not None:
                self.m.add(sum(ots) <= cap)

    def _shift_limits(self) -> None:
        """R4: at most max_shifts_per_day opened shifts per line and date."""
        per_day: dict[tuple[str, int], list] = defaultdict(list)
        for i, sv in self.v.shifts.items():
            if isinstance(sv.open, int):
                if sv.open:
                    per_day[(self.week.shifts[i].line, self.week.day_of_shift[i])].append(1)
                continue
            per_day[(self.week.shifts[i].line, self.week.day_of_shift[i])].append(sv.open)
        for (line_id, _), opens in per_day.items():
            cap = self.week.scenario.line(line_id).max_shifts_per_day
            if cap is not None and any(not isinstance(o, int) for o in opens):
                self.m.add(sum(opens) <= cap)

    def _crew_pool(self) -> None:
        """R4 staffing: the crews of the lines running a shift (template and date) fit its operator pool."""
        sc = self.week.scenario
        groups: dict[tuple[str, int], list] = defaultdict(list)
        for i, sv in self.v.shifts.items():
            s = self.week.shifts[i]
            crew = sc.line(s.line).crew
            if crew > 0 and s.template in sc.crew_pool and s.W > 0:
                groups[(s.template, self.week.day_of_shift[i])].append(crew * sv.open)
        for (template, _), crews in groups.items():
            if any(not isinstance(c, int) for c in crews):
                self.m.add(sum(crews) <= sc.crew_pool[template])

    def _materials(self) -> None:
        """R5: what runs consume up to any shift start never exceeds stock plus receipts arrived by then."""
        sc = self.week.scenario
        users_of: dict[str, list] = defaultdict(list)
        for r in self.v.runs:
            for m in sc.product(r.product).materials:
                users_of[m].append(r)
        for mat in sc.materials:
            users = users_of.get(mat.id, [])
            if not users:
                continue
            # checkpoints: just before each receipt, and at the end (all shifts)
            times = sorted({t for t, _ in mat.receipts})
            checkpoints = [*times, None]
            for cp in checkpoints:
                arrived = mat.opening_stock + sum((q for t, q in mat.receipts if cp is None or t < cp), Fraction(0))
                arrived -= sum((sc.product(f.product).materials.get(mat.id, Fraction(0)) * f.quantity
                                for f in self.week.fixed
                                if f.consumes_material and (cp is None or self.week.shifts[f.shift_index].start < cp)),
                               Fraction(0))
                arrived = max(arrived, Fraction(0))  # frozen work that used more leaves nothing
                terms = [(sc.product(r.product).materials[mat.id], r) for r in users
                         if cp is None or self.week.shifts[r.shift].start < cp]
                if not terms:
                    continue
                need_upper = sum(q * r.upper for q, r in terms)
                if need_upper <= arrived:
                    continue  # cannot bind
                scale = math.lcm(arrived.denominator, *(q.denominator for q, _ in terms))
                expr = sum(int(q * scale) * r.multiple * r.lots for q, r in terms)
                self.m.add(expr <= int(arrived * scale))

    def _stock_balance(self) -> None:
        """Stock balance per product and day: stock - backlog follows production and demand."""
        by_day: dict[tuple[str, int], list] = defaultdict(list)
        for r in self.v.runs:
            by_day[(r.product, r.day)].append(r.quantity)
        wip_day: dict[tuple[str, int], int] = defaultdict(int)
        for product, i, qty in self.week.fixed_output():
            wip_day[(product, self.week.day_of_shift[i])] += qty
        sc = self.week.scenario
        for p in sc.items:
            d = self.week.demand[p.id]
            row = self.v.stock[p.id]
            prev: cp_model.LinearExprT = p.opening_stock
            cum_forecast = 0
            nxt = sc.next_item(p.id)
            for day, sv in enumerate(row):
                made = sum(by_day.get((p.id, day), [])) + wip_day.get((p.id, day), 0)
                used = (sum(by_day.get((nxt, day), [])) + wip_day.get((nxt, day), 0)) if nxt is not None else 0  # next step's intake
                self.m.add(sv.stock - sv.backlog == prev + made - d.total[day] - used)
                prev = sv.stock - sv.backlog
                # orders are served before forecast: order backlog >= backlog - stock - forecast so far
                cum_forecast += d.forecast[day]
                self.m.add(sv.order_backlog >= sv.backlog - sv.stock - cum_forecast)

    def _routing_flow(self) -> None:
        """Routings: a step uses only what the previous step finished at least its lag earlier.

        In the shift-bucket plan, a step's output counts as finished at the end of its shift
        plus the shift's overtime cap (a safe bound); a run may use it from its shift's start.
        Every step item is used up by the next step within the week (no work left between steps).
        """
        sc = self.week.scenario
        shifts = self.week.shifts
        for item in sc.items:
            prev_id = item.previous_item
            if prev_id is None:
                continue
            takes = self.v.runs_of_product.get(item.id, [])
            gives = self.v.runs_of_product.get(prev_id, [])
            if not takes:
                continue
            lag = item.lag_minutes * MINUTE
            for t in sorted({shifts[r.shift].start for r in takes}):
                used = [r.quantity for r in takes if shifts[r.shift].start <= t]
                ready = [r.quantity for r in gives
                         if shifts[r.shift].end + shifts[r.shift].overtime_cap * MINUTE + lag <= t]
                self.m.add(sum(used) <= sum(ready))
        for item in sc.items:
            if item.parent is not None:
                self.m.add(self.v.stock[item.id][-1].stock == 0)

    def _min_stock(self) -> None:
        """R3: A/B stock below min_stock = replenishment days x daily forecast is a shortfall."""
        for p in self.week.scenario.products:
            d = self.week.demand[p.id]
            if d.min_stock <= 0:
                continue
            for sv in self.v.stock[p.id]:
                self.m.add(sv.shortfall >= d.min_stock - sv.stock)

    def _make_to_order(self) -> None:
        """R2: C products are made only against confirmed orders, never for stock."""
        for p in self.week.scenario.products:
            d = self.week.demand[p.id]
            if d.c_cap is None:
                continue
            runs = self.v.runs_of_product.get(p.id, [])
            wip = sum(q for prod, _, q in self.week.fixed_output() if prod == p.id)
            if runs and sum(r.upper for r in runs) + wip > d.c_cap:
                self.m.add(sum(r.quantity for r in runs) + wip <= d.c_cap)

    def _hard_demand(self) -> None:
        """policy.hard_demand: every day's demand is delivered on its day (no backlog at all)."""
        if not self.week.scenario.hard_demand:
            return
        for row in self.v.stock.values():
            for sv in row:
                self.m.add(sv.backlog == 0)
