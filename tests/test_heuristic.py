"""The constructive plans (sopt.heuristic): every rule keeps the model's rules, the saving rules
price a lot as the objective does, and the start plan is the least costly of the rules tried."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopt.checker import check_plan_rows
from sopt.generate import generate_week
from sopt.heuristic import RULES, DemandCosts, constructive_plan, start_plan
from sopt.model.model import PlanningModel
from sopt.plan import build_plan
from sopt.scenario import load_scenario
from sopt.week import prepare
from tests.conftest import product, week

ROOT = Path(__file__).resolve().parent.parent
DEMAND_TERMS = ("order_backlog", "forecast_backlog", "min_stock_shortfall", "holding")


@pytest.mark.parametrize("name", ["demo_week", "tight_week", "multistep_week"])
def test_every_rule_keeps_the_rules_on_the_bundled_weeks(name):
    wk = prepare(load_scenario(ROOT / "scenarios" / f"{name}.yaml"))
    for rule in RULES:
        plan = build_plan(wk, constructive_plan(wk, rule))
        assert plan.runs, rule
        assert check_plan_rows(plan) == [], rule


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_rule_keeps_the_rules_on_overloaded_generated_weeks(load_scn, seed):
    wk = prepare(load_scn(generate_week(20, 3, 4, seed, load=1.3, short_materials=1)))
    for rule in RULES:
        assert check_plan_rows(build_plan(wk, constructive_plan(wk, rule))) == [], rule


def test_the_saving_of_a_lot_is_what_it_takes_off_the_plans_demand_terms(load_scn):
    wk = prepare(load_scn(generate_week(12, 2, 3, 5, load=1.2)))
    lots = constructive_plan(wk, "delay2")
    costs = DemandCosts(wk)
    compared = 0
    for k, lot in enumerate(lots):
        if wk.scenario.product(lot.product).multi_step:
            continue
        rest = lots[:k] + lots[k + 1:]
        made = [0] * wk.days
        for other in rest:
            if other.product == lot.product:
                made[wk.day_of_shift[other.shift]] += other.quantity
        with_lot, without = build_plan(wk, lots), build_plan(wk, rest)
        # the demand terms of the other products do not change: the difference is this product's
        taken_off = sum(without.objective_terms[t] - with_lot.objective_terms[t] for t in DEMAND_TERMS)
        assert costs.gain(lot.product, made, wk.day_of_shift[lot.shift], lot.quantity) == pytest.approx(taken_off, abs=0.02)
        compared += 1
    assert compared >= 5


def _order_or_stock(load):
    """One 100-minute shift (80 planned minutes: 20 % reserve), on Friday only, in a Friday-Saturday
    week, one unit a minute. A1 (class A) ends Friday 25 units below its minimum stock; C1 has a
    confirmed order of 100 due on Saturday."""
    return prepare(load(week(
        horizon={"start": "2026-12-04", "days": 2},
        lines=[{"id": "L1", "shifts": {"fri": ["day"]}}],
        products=[product("A1", class_="A", replenishment_days=1, opening_stock=50),
                  product("C1", class_="C")],
        demand={"forecast": {"A1": [50, 0]},
                "orders": [{"id": "SO1", "product": "C1", "quantity": 100, "due": "2026-12-05"}]})))


def test_the_saving_rule_serves_a_confirmed_order_before_the_minimum_stock(load):
    wk = _order_or_stock(load)
    made = {rule: {lot.product: lot.quantity for lot in constructive_plan(wk, rule)} for rule in RULES}
    # urgency: A1 is short first (Friday) and gets its 25 units, C1 the other 55 minutes
    assert made["urgency"] == {"A1": 25, "C1": 55}
    # saving: a unit of an order a day late costs 80, a unit short of stock 2 a day
    assert made["saving"] == {"C1": 80}
    # delay1 takes A1 first: it assumes Saturday could make C1 (the rules do not look at capacity)
    assert made["delay1"] == {"A1": 25, "C1": 55}
    cost = {rule: build_plan(wk, constructive_plan(wk, rule)).objective for rule in ("urgency", "saving")}
    assert cost["saving"] < cost["urgency"]


def test_the_start_plan_is_the_least_costly_rule(load):
    wk = _order_or_stock(load)
    pm = PlanningModel(wk)
    start = start_plan(wk, pm.setup_costs())
    costs = {rule: build_plan(wk, constructive_plan(wk, rule), None, pm.setup_costs()).objective for rule in RULES}
    assert start.ok
    assert start.plan.objective == min(costs.values())
    assert costs[start.rule] == start.plan.objective
    assert costs["urgency"] > start.plan.objective
    assert {lot.product: lot.quantity for lot in start.lots} == {"C1": 80}


@pytest.mark.parametrize("name", ["demo_week", "tight_week"])
def test_the_start_plan_reports_each_cheaper_plan_as_it_comes(name):
    wk = prepare(load_scenario(ROOT / "scenarios" / f"{name}.yaml"))
    pm = PlanningModel(wk)
    reported = []
    start = start_plan(wk, pm.setup_costs(), on_better=reported.append)
    costs = [build_plan(wk, constructive_plan(wk, rule), None, pm.setup_costs()).objective for rule in RULES]
    # one report per rule whose plan is cheaper than every rule's before it, the first rule's first
    expected = [c for k, c in enumerate(costs) if all(c < before for before in costs[:k])]
    assert [plan.objective for plan in reported] == expected
    assert reported[-1] is start.plan
    assert all(check_plan_rows(plan) == [] for plan in reported)


def test_the_start_plan_tries_one_rule_at_least(load):
    wk = _order_or_stock(load)
    start = start_plan(wk, None, seconds=0.0)
    assert start.rule == RULES[0] and start.ok


def _overtime_week(load, cost_per_minute: float):
    """One 100-minute shift (80 planned minutes), up to 30 minutes of overtime at the given cost,
    and a confirmed order of 100 units (one minute each) due that day."""
    return prepare(load(week(
        lines=[{"id": "L1", "shifts": {"all": ["day"]},
                "overtime": {"max_minutes_per_shift": 30, "max_minutes_per_week": 30, "cost_per_minute": cost_per_minute}}],
        products=[product("C1", class_="C")],
        demand={"orders": [{"id": "SO1", "product": "C1", "quantity": 100, "due": "2026-11-30"}]})))


def test_the_saving_rules_use_overtime_where_it_costs_less_than_it_saves(load):
    wk = _overtime_week(load, 1)
    assert {lot.quantity for lot in constructive_plan(wk, "urgency")} == {80}  # urgency plans within W - P
    for rule in ("saving", "delay1", "delay2"):
        plan = build_plan(wk, constructive_plan(wk, rule))
        assert sum(r.quantity for r in plan.runs) == 100, rule  # 20 minutes of overtime at 1 save 20 x 80
        assert plan.objective_terms["overtime"] == 20
        assert check_plan_rows(plan) == [], rule


def test_the_saving_rules_leave_overtime_that_costs_more_than_it_saves(load):
    wk = _overtime_week(load, 100)  # 100 a minute against 80 for a unit a day late
    for rule in ("saving", "delay2"):
        assert {lot.quantity for lot in constructive_plan(wk, rule)} == {80}, rule


def test_the_demand_costs_of_a_week_of_production_add_up_the_gains_of_its_lots(load):
    wk = _order_or_stock(load)
    costs = DemandCosts(wk)
    for p in costs.rows:
        nothing = [0] * wk.days
        lot = [0] * wk.days
        lot[0] = 40
        # making 40 units on the first day saves exactly what the two costs differ by
        assert costs.cost(p, nothing) - costs.cost(p, lot) == pytest.approx(costs.gain(p, nothing, 0, 40))
    assert any(costs.cost(p, [0] * wk.days) > 0 for p in costs.rows)
