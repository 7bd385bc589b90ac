"""Demand preprocessing: orders consume the A/B forecast, per-day demand, min-stock targets.

CONTRACT.md, "Demand, service and unmet": an order takes forecast from its due date first,
then from earlier dates (latest first), then from later dates. A/B demand of a date = the
orders due that date + the forecast left unconsumed; C demand = the confirmed orders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from sopt.scenario import Scenario


@dataclass(frozen=True)
class ProductDemand:
    """Per-day demand of one product over the horizon, split into orders and forecast."""

    product: str
    cls: str
    orders: tuple[int, ...]  # units of confirmed orders due each day (overdue ones on day 0)
    forecast: tuple[int, ...]  # forecast left after orders consumed it (0 for C)
    min_stock: int  # R3 target (0 for C)
    c_cap: int | None  # C only: the most the week may make (orders less opening stock, to the lot multiple)

    @cached_property
    def total(self) -> tuple[int, ...]:
        """Demand per day (computed once)."""
        return tuple(o + f for o, f in zip(self.orders, self.forecast))


def add_step_items(scenario: Scenario, classes: dict[str, str], demand: dict[str, ProductDemand]) -> None:
    """Step items of routed products: their product's class, no demand of their own."""
    zeros = (0,) * scenario.days
    for item in scenario.items:
        if item.parent is not None:
            classes[item.id] = classes[item.parent]
            demand[item.id] = ProductDemand(item.id, classes[item.id], zeros, zeros, 0, None)


def build_demand(scenario: Scenario, classes: dict[str, str]) -> dict[str, ProductDemand]:
    """Per-product demand for the horizon."""
    days = scenario.days
    out: dict[str, ProductDemand] = {}
    for p in scenario.products:
        cls = classes[p.id]
        orders = [0] * days
        all_orders = 0
        left = list(scenario.forecast.get(p.id, (0,) * days))
        for j in scenario.jobs:  # a job is a confirmed order due on its due date (no due: no demand)
            due = j.due.date() if j.due is not None else j.due_date
            if j.product == p.id and due is not None and 0 <= (due - scenario.start).days < days:
                orders[(due - scenario.start).days] += j.quantity
        for o in sorted((o for o in scenario.orders if o.product == p.id), key=lambda o: (o.due, o.id)):
            all_orders += o.quantity
            d = (o.due - scenario.start).days
            if d >= days:
                continue  # due after the horizon: not this week's demand
            orders[d] += o.quantity
            if cls == "C":
                continue
            need = o.quantity
            for k in [d, *range(d - 1, -1, -1), *range(d + 1, days)]:
                take = min(need, left[k])
                left[k] -= take
                need -= take
                if need == 0:
                    break
        if cls == "C":
            fc = [0] * days
            min_stock = 0
            mult = p.multiple
            all_orders += sum(j.quantity for j in scenario.jobs if j.product == p.id)  # jobs are orders too
            c_cap = max(0, all_orders - p.opening_stock)
            c_cap = -(-c_cap // mult) * mult
        else:
            fc = left
            daily = Fraction(sum(scenario.forecast.get(p.id, ())), days)
            min_stock = math.ceil(p.replenishment_days * daily)
            c_cap = None
        out[p.id] = ProductDemand(p.id, cls, tuple(orders), tuple(fc), min_stock, c_cap)
    return out
