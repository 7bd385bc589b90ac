"""One tiny hand-built week per rule; the optimum is derived in each test's comment.

The base week (conftest.BASE): line L1, one 100-minute shift on 2026-11-30, reserve 0.2,
so W = 100, P = ceil(0.2 x 100) = 20 and planned work may use 80 minutes.
Default weights: forecast backlog A 10 / B 8 per unit-day, order backlog A 100 / B 90 /
C 80 (on top of forecast backlog), min-stock shortfall A 2 / B 1, holding x product cost.
"""

from __future__ import annotations

import pytest

from sopt.abc import classify, quotas
from sopt.model import Status
from tests.conftest import product, week


def fc(**per_product: int) -> dict:
    """A one-day forecast."""
    return {"forecast": {p: [q] for p, q in per_product.items()}}


# ---------------------------------------------------------------- R9 protected share
def test_r9_demand_at_planned_capacity_is_met(load, solve_checked):
    # 80 units x 1 min = 80 min = W - P: everything fits; objective 0.
    sc = load(week(products=[product("P1", class_="A")], demand=fc(P1=80)))
    r = solve_checked(sc)
    assert r.status == Status.OPTIMAL
    assert r.objective == 0
    assert r.plan.unmet_units() == 0
    cap = r.plan.capacity[0]
    assert (cap["available_minutes"], cap["protected_minutes"], cap["planned_minutes"]) == (100, 20, 80)


def test_r9_one_unit_past_planned_capacity_is_unmet_for_the_protected_share(load, solve_checked):
    # 81 units need 81 min > 80: one unit unmet, forecast backlog A 10 x 1 day = 10.
    # That unit would fit in the 20 protected minutes: the reason is the protected share.
    sc = load(week(products=[product("P1", class_="A")], demand=fc(P1=81)))
    r = solve_checked(sc)
    assert r.status == Status.OPTIMAL
    assert r.objective == 10
    assert r.plan.unmet_units() == 1
    assert [u["reason"] for u in r.plan.unmet] == ["protected_share"]


def test_r9_reserve_zero_uses_the_whole_shift(load, solve_checked):
    # r = 0: P = 0, 81 units fit in 100 minutes; objective 0.
    sc = load(week(products=[product("P1", class_="A")], demand=fc(P1=81), policy={"reserve_ratio": 0}))
    r = solve_checked(sc)
    assert r.objective == 0 and r.plan.capacity[0]["protected_minutes"] == 0


def test_r9_protected_minutes_are_exact_ceilings(load, solve_checked):
    # W = 99, r = 0.15: P = ceil(14.85) = 15 (exact decimal arithmetic).
    data = week(products=[product("P1", class_="A")], demand=fc(P1=10), policy={"reserve_ratio": 0.15})
    data["shift_templates"]["day"]["minutes"] = 99
    r = solve_checked(load(data))
    assert r.plan.capacity[0]["protected_minutes"] == 15


def test_r9_runs_stay_out_of_the_protected_window(load, solve_checked):
    # The protected window is the last 20 minutes (09:20-09:40); runs end by 09:20.
    sc = load(week(products=[product("P1", class_="A")], demand=fc(P1=80)))
    r = solve_checked(sc)
    assert r.plan.capacity[0]["protected_start"] == "2026-11-30T09:20"
    assert max(run.end for run in r.plan.runs).strftime("%H:%M") == "09:20"


# ---------------------------------------------------------------- R4 calendar, shifts, overtime
def test_r4_closed_shift_makes_nothing_and_says_calendar(load, solve_checked):
    # The only shift is closed: 10 units unmet, 10 x 10 = 100.
    sc = load(week(products=[product("P1", class_="A")], demand=fc(P1=10),
                   calendar=[{"date": "2026-11-30", "reason": "holiday"}]))
    r = solve_checked(sc)
    assert r.objective == 100
    assert r.plan.runs == []
    assert [u["reason"] for u in r.plan.unmet] == ["calendar"]


def test_r4_shift_limit_caps_the_day(load, solve_checked):
    # Two 100-min shifts offered, max 1 per day, r = 0: 100 min; demand 150 -> 50 unmet = 500.
    data = week(products=[product("P1", class_="A")], demand=fc(P1=150), policy={"reserve_ratio": 0})
    data["shift_templates"]["late"] = {"start": "12:00", "minutes": 100}
    data["lines"][0] = {"id": "L1", "shifts": {"all": ["day", "late"]}, "max_shifts_per_day": 1}
    r = solve_checked(load(data))
    assert r.objective == 500
    assert sum(c["open"] for c in r.plan.capacity) == 1


def test_r4_shift_limit_at_the_edge(load, solve_checked):
    # Demand 100 fits one shift exactly: objective 0 with one shift open.
    data = week(products=[product("P1", class_="A")], demand=fc(P1=100), policy={"reserve_ratio": 0})
    data["shift_templates"]["late"] = {"start": "12:00", "minutes": 100}
    data["lines"][0] = {"id": "L1", "shifts": {"all": ["day", "late"]}, "max_shifts_per_day": 1}
    r = solve_checked(load(data))
    assert r.objective == 0


def test_r4_overtime_is_cheaper_than_backlog(load, solve_checked):
    # r = 0, 120 units: 20 overtime minutes at 1/min = 20 < 20 units x 10 backlog.
    data = week(products=[product("P1", class_="A")], demand=fc(P1=120), policy={"reserve_ratio": 0})
    data["lines"][0]["overtime"] = {"max_minutes_per_shift": 30, "cost_per_minute": 1}
    r = solve_checked(load(data))
    assert r.objective == 20
    assert r.plan.capacity[0]["overtime_minutes"] == 20


def test_r4_overtime_limit_past_the_edge(load, solve_checked):
    # 140 units, overtime at most 30: 130 made, 10 unmet: 30 + 10 x 10 = 130.
    data = week(products=[product("P1", class_="A")], demand=fc(P1=140), policy={"reserve_ratio": 0})
    data["lines"][0]["overtime"] = {"max_minutes_per_shift": 30, "cost_per_minute": 1}
    r = solve_checked(load(data))
    assert r.objective == 130


# ---------------------------------------------------------------- setups
def test_setup_time_and_cost_at_the_edge(load, solve_checked):
    # setup 10 min + 70 units = 80 min: fits; objective = setup cost 5.
    sc = load(week(products=[product("P1", setup=10, cost=5, class_="A")], demand=fc(P1=70)))
    r = solve_checked(sc)
    assert r.objective == 5
    assert r.plan.runs[0].setup_minutes == 10


def test_setup_time_one_past_the_edge(load, solve_checked):
    # 71 units: 10 + 71 = 81 > 80: 70 made, 1 unmet: 5 + 10 = 15.
    sc = load(week(products=[product("P1", setup=10, cost=5, class_="A")], demand=fc(P1=71)))
    r = solve_checked(sc)
    assert r.objective == 15


def test_current_setup_is_carried_over(load, solve_checked):
    # The line last ran P1: no setup, so 80 units fit and nothing is paid.
    data = week(products=[product("P1", setup=10, cost=5, class_="A")], demand=fc(P1=80))
    data["lines"][0]["last_product"] = "P1"
    r = solve_checked(load(data))
    assert r.objective == 0
    assert r.plan.runs[0].setup_minutes == 0


# ---------------------------------------------------------------- R5 materials
def _material_week(receipt_at: str) -> dict:
    return week(products=[product("P1", class_="A", bom={"M1": 1})], demand=fc(P1=50),
                materials=[{"id": "M1", "opening_stock": 30, "receipts": [{"at": receipt_at, "quantity": 50}]}])


def test_materials_receipt_after_shift_start_is_not_usable(load, solve_checked):
    # The receipt at 12:00 comes after the 08:00 shift: only 30 units; 20 unmet = 200.
    r = solve_checked(load(_material_week("2026-11-30T12:00")))
    assert r.objective == 200
    assert [u["reason"] for u in r.plan.unmet] == ["material"]


def test_materials_receipt_at_shift_start_is_usable(load, solve_checked):
    # Receipt at 08:00 exactly: 80 on hand, 50 made, objective 0.
    r = solve_checked(load(_material_week("2026-11-30T08:00")))
    assert r.objective == 0


# ---------------------------------------------------------------- R2 C made to order
def test_c_is_made_only_against_orders(load, solve_checked):
    # C forecast 70 is information only; the order of 40 is the demand; nothing for stock.
    sc = load(week(products=[product("P1", class_="C", holding_cost=0.01)],
                   demand={"forecast": {"P1": [70]},
                           "orders": [{"id": "SO1", "product": "P1", "quantity": 40, "due": "2026-11-30"}]}))
    r = solve_checked(sc)
    assert r.objective == 0
    assert sum(run.quantity for run in r.plan.runs) == 40


def test_c_lot_multiple_rounds_the_order_up(load, solve_checked):
    # Multiple 30, order 40: cap = 60 -> two lots (60), 20 in stock at 0.01 = 0.2.
    sc = load(week(products=[product("P1", class_="C", holding_cost=0.01, lot={"multiple": 30})],
                   demand={"orders": [{"id": "SO1", "product": "P1", "quantity": 40, "due": "2026-11-30"}]}))
    r = solve_checked(sc)
    assert r.objective == pytest.approx(0.2)
    assert sum(run.quantity for run in r.plan.runs) == 60


# ---------------------------------------------------------------- R3 min stock
def test_r3_min_stock_shortfall_is_charged(load, solve_checked):
    # Forecast 50, 1 replenishment day: min stock 50. 80 made, 50 delivered, stock 30:
    # shortfall 20 x 2 (A) + holding 30 x 0.01 = 40.3.
    sc = load(week(products=[product("P1", class_="A", replenishment_days=1, holding_cost=0.01)], demand=fc(P1=50)))
    r = solve_checked(sc)
    assert r.objective == pytest.approx(40.3)
    assert r.plan.min_stock_shortfall_units() == 20


def test_r3_min_stock_reached_at_the_edge(load, solve_checked):
    # r = 0: 100 made, stock 50 = min stock: holding 0.5 only.
    sc = load(week(products=[product("P1", class_="A", replenishment_days=1, holding_cost=0.01)], demand=fc(P1=50),
                   policy={"reserve_ratio": 0}))
    r = solve_checked(sc)
    assert r.objective == pytest.approx(0.5)
    assert r.plan.min_stock_shortfall_units() == 0


# ---------------------------------------------------------------- priority
def test_class_a_outranks_b(load, solve_checked):
    # 80 min for 160 units of demand: A takes it all, B's 80 units wait: 80 x 8 = 640.
    sc = load(week(products=[product("PA", class_="A"), product("PB", class_="B")], demand=fc(PA=80, PB=80)))
    r = solve_checked(sc)
    assert r.objective == 640
    assert {run.product for run in r.plan.runs} == {"PA"}


def test_confirmed_orders_outrank_forecast(load, solve_checked):
    # A C order of 50 against an A forecast of 50, 80 minutes: the order first, 20 A units
    # short: 20 x 10 = 200 (the other way round would cost 20 x 80 = 1600).
    sc = load(week(products=[product("PA", class_="A"), product("PC", class_="C")],
                   demand={"forecast": {"PA": [50]},
                           "orders": [{"id": "SO1", "product": "PC", "quantity": 50, "due": "2026-11-30"}]}))
    r = solve_checked(sc)
    assert r.objective == 200
    assert r.plan.orders[0]["on_time"] is True


# ---------------------------------------------------------------- R2 ABC
def test_abc_quotas_follow_the_contract():
    # N = 10, 1:3:6 -> 1, 3, 6; N = 3 -> max(1, round(0.3)) = 1, round(0.9) = 1, 1.
    assert quotas(10, (1, 3, 6)) == (1, 3, 6)
    assert quotas(3, (1, 3, 6)) == (1, 1, 1)
    assert quotas(7, (1, 3, 6)) == (1, 2, 4)


def test_abc_ranks_by_volume_and_explicit_classes_count(load):
    # Ten products, volumes 100..10; P05 is declared A: it fills the A quota, so the
    # biggest (P01) is B, then P02, P03 B, the rest C.
    prods = [product(f"P{i:02d}") for i in range(1, 11)]
    prods[4]["class"] = "A"
    sc = load(week(products=prods, demand={"forecast": {f"P{i:02d}": [110 - 10 * i] for i in range(1, 11)}}))
    cls = classify(sc)
    assert cls["P05"] == "A"
    assert [p for p, c in sorted(cls.items()) if c == "B"] == ["P01", "P02", "P03"]
    assert sum(1 for c in cls.values() if c == "C") == 6


def test_orders_consume_the_forecast(load):
    # Forecast 30/day over 3 days; an order of 50 due day 2 takes 30 from day 2 and 20 from
    # day 1 (earlier dates, latest first): demand = 30, 10 + 0, 50 + 0 ... per contract.
    from sopt.demand import build_demand

    data = week(products=[product("P1", class_="A")],
                demand={"forecast": {"P1": [30, 30, 30]},
                        "orders": [{"id": "SO1", "product": "P1", "quantity": 50, "due": "2026-12-01"}]})
    data["horizon"]["days"] = 3
    sc = load(data)
    d = build_demand(sc, classify(sc))["P1"]
    assert d.total == (10, 50, 30)
