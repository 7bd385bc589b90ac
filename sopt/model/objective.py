"""The planning objective: a documented weighted sum; a term is added only where its weight is positive.

Terms (cost units; CP-SAT sees them multiplied by COST_SCALE and rounded to integers):
- order_backlog: per unit of confirmed-order demand not yet delivered, per day, by class;
- forecast_backlog: per unit of any demand not yet delivered, per day, by class;
- min_stock_shortfall: per unit below the A/B min stock at a day's end (R3);
- holding: product holding cost per unit of end-of-day stock;
- setup_cost: each run's setup cost;
- overtime: the line's cost per overtime minute;
- shift_cost: the line's cost per opened shift.
"""

from __future__ import annotations

from fractions import Fraction

from ortools.sat.python import cp_model

from sopt.costs import TERMS, scaled
from sopt.model.variables import Variables
from sopt.week import Week


class Objective:
    """Builds the weighted objective; keeps each term's expression for reporting."""

    def __init__(self, m: cp_model.CpModel, week: Week, v: Variables):
        self.m, self.week, self.v = m, week, v
        self.terms: dict[str, list] = {t: [] for t in TERMS}
        self.constant = 0  # fixed costs (shifts always open), kept out of the solver's objective

    def add_all(self) -> None:
        """Collect every term and set the minimisation."""
        w = self.week.scenario.weights
        sc = self.week.scenario
        for p in sc.items:
            cls = self.week.classes[p.id]
            for sv in self.v.stock[p.id]:
                self._add("order_backlog", w.order_backlog[cls], sv.order_backlog)
                self._add("forecast_backlog", w.forecast_backlog[cls], sv.backlog)
                if not isinstance(sv.shortfall, int):
                    self._add("min_stock_shortfall", w.min_stock_shortfall[cls], sv.shortfall)
                self._add("holding", w.holding * p.holding_cost, sv.stock)
        for r in self.v.runs:
            self._add("setup_cost", w.setup_cost * r.setup_cost, r.setup)
        for i, sh in self.v.shifts.items():
            line = sc.line(self.week.shifts[i].line)
            if not isinstance(sh.overtime, int):
                self._add("overtime", w.overtime * line.overtime_cost, sh.overtime)
            cost = scaled(w.shift_cost * line.shift_cost)
            if cost > 0:
                if isinstance(sh.open, int):
                    self.constant += cost * sh.open
                else:
                    self.terms["shift_cost"].append(cost * sh.open)
        self._nervousness()
        self.m.minimize(sum(e for exprs in self.terms.values() for e in exprs))

    def _nervousness(self) -> None:
        """Re-plan: each unit changed against the previous plan (per product, line, shift) costs."""
        coef = scaled(self.week.scenario.weights.nervousness)
        if self.week.open_from is None or coef <= 0:
            return
        for r in self.v.runs:
            old = self.week.previous.get((r.product, r.line, r.shift), 0)
            if old == 0:
                self.terms["nervousness"].append(coef * r.quantity)
                continue
            dev = self.m.new_int_var(0, max(old, r.upper), f"change[{r.product},{r.line},{r.shift}]")
            self.m.add(dev >= r.quantity - old)
            self.m.add(dev >= old - r.quantity)
            self.terms["nervousness"].append(coef * dev)

    def _add(self, term: str, weight: Fraction, var: cp_model.LinearExprT) -> None:
        coef = scaled(weight)
        if coef > 0:
            self.terms[term].append(coef * var)
