"""Lot moves (sopt/model/moves.py): swaps and moves of lots between days that fix-and-optimize's parts miss."""

from __future__ import annotations

from sopt.checker import check_plan_rows
from sopt.model.model import PlanningModel
from sopt.model.moves import improve_lots
from sopt.plan import build_plan
from sopt.sequence import Lot
from sopt.week import prepare
from tests.conftest import product, week

# two days, one 100-minute shift a day (80 planned minutes with the 20 % reserve)
TWO_DAYS = {"horizon": {"start": "2026-11-30", "days": 2}}


def _setup(load, products, demand, **extra):  # noqa: ANN001, ANN003, ANN202
    wk = prepare(load(week(**TWO_DAYS, products=products, demand=demand, **extra)))
    pm = PlanningModel(wk)
    upper = {(r.product, r.line, r.shift): r.upper for r in pm.vars.runs}
    monday, tuesday = wk.shifts_of_line["L1"]
    return wk, pm, upper, monday, tuesday


def _lot(product_id: str, shift: int, qty: int) -> Lot:
    return Lot(product_id, "L1", shift, qty, 0, qty)  # one minute a unit, no setup


def test_two_lots_in_the_wrong_order_are_swapped(load):
    # Y is due Monday and X Tuesday, but the plan makes X on Monday and Y on Tuesday
    wk, pm, upper, mon, tue = _setup(load, [product("X", class_="A"), product("Y", class_="A")],
                                     {"forecast": {"X": [0, 80], "Y": [80, 0]}})
    lots = [_lot("X", mon, 80), _lot("Y", tue, 80)]
    new, moves = improve_lots(wk, lots, upper, 5.0)
    assert moves >= 1
    assert {(lot.product, lot.shift, lot.quantity) for lot in new} == {("Y", mon, 80), ("X", tue, 80)}
    before, after = build_plan(wk, lots, None, pm.setup_costs()), build_plan(wk, new, None, pm.setup_costs())
    assert check_plan_rows(after) == []
    assert after.objective < before.objective


def test_a_swap_waits_for_the_material(load):
    # the same plan, but Y's material arrives only on Tuesday: Y cannot move to Monday (R5)
    wk, _, upper, mon, tue = _setup(
        load, [product("X", class_="A"), product("Y", class_="A", bom={"M1": 1})],
        {"forecast": {"X": [0, 80], "Y": [80, 0]}},
        materials=[{"id": "M1", "opening_stock": 0, "receipts": [{"at": "2026-12-01T08:00", "quantity": 80}]}])
    lots = [_lot("X", mon, 80), _lot("Y", tue, 80)]
    new, moves = improve_lots(wk, lots, upper, 5.0)
    assert moves == 0 and new == lots


def test_a_lot_grows_into_free_minutes_but_a_c_product_only_up_to_its_orders(load):
    # C1's order of 50 is due on Tuesday; 30 + 10 are planned, and both shifts have free minutes
    wk, pm, upper, mon, tue = _setup(
        load, [product("C1", class_="C")],
        {"orders": [{"id": "SO1", "product": "C1", "quantity": 50, "due": "2026-12-01"}]})
    lots = [_lot("C1", mon, 30), _lot("C1", tue, 10)]
    new, moves = improve_lots(wk, lots, upper, 5.0)
    assert moves >= 1
    assert sum(lot.quantity for lot in new) == 50  # the order, not the 80 + 80 minutes the shifts have
    assert check_plan_rows(build_plan(wk, new, None, pm.setup_costs())) == []


def test_no_move_adds_overtime_or_leaves_the_lot_rules(load):
    # X's minimum run is 60 in lots of 20; Y due Monday is planned on Tuesday behind a 70-unit X lot
    wk, pm, upper, mon, tue = _setup(
        load, [product("X", class_="A", lot={"min_run": 60, "multiple": 20}), product("Y", class_="A")],
        {"forecast": {"X": [0, 60], "Y": [75, 0]}})
    lots = [_lot("X", mon, 60), _lot("Y", tue, 75)]
    new, _ = improve_lots(wk, lots, upper, 5.0)
    load_of = {mon: 0, tue: 0}
    for lot in new:
        load_of[lot.shift] += lot.setup_minutes + lot.run_minutes
        if lot.product == "X":
            assert lot.quantity >= 60 and lot.quantity % 20 == 0
    assert all(minutes <= 80 for minutes in load_of.values())
    assert check_plan_rows(build_plan(wk, new, None, pm.setup_costs())) == []


def test_a_lot_moves_to_an_idle_line_that_makes_the_product(load):
    # X and Y are due Monday; X is planned on L1 on Tuesday, but L2 makes X too and is idle all week
    x = {"id": "X", "class": "A", "holding_cost": 0,
         "lines": {"L1": {"minutes_per_unit": 1, "setup_minutes": 0}, "L2": {"minutes_per_unit": 1, "setup_minutes": 5}}}
    lines = [{"id": "L1", "shifts": {"all": ["day"]}}, {"id": "L2", "shifts": {"all": ["day"]}}]
    wk, pm, upper, mon, tue = _setup(load, [x, product("Y", class_="A")],
                                     {"forecast": {"X": [70, 0], "Y": [80, 0]}}, lines=lines)
    lots = [_lot("Y", mon, 80), _lot("X", tue, 70)]
    new, moves = improve_lots(wk, lots, upper, 5.0)
    assert moves >= 1
    l2_monday = next(i for i in wk.shifts_of_line["L2"] if wk.day_of_shift[i] == 0)
    moved = [lot for lot in new if lot.product == "X"]
    assert [(lot.line, lot.shift, lot.quantity, lot.setup_minutes) for lot in moved] == [("L2", l2_monday, 70, 5)]
    after = build_plan(wk, new, None, pm.setup_costs())
    assert check_plan_rows(after) == []
    assert after.objective < build_plan(wk, lots, None, pm.setup_costs()).objective


def test_a_lot_gives_minutes_to_a_product_the_plan_does_not_make(load):
    # both shifts are full: Monday with 80 X, needed only on Tuesday (40), Tuesday with Z; Y is due Monday
    # and not planned at all. X makes room on Monday for a new lot of Y.
    wk, pm, upper, mon, tue = _setup(load, [product(pid, class_="A") for pid in ("X", "Y", "Z")],
                                     {"forecast": {"X": [0, 40], "Y": [40, 0], "Z": [0, 80]}})
    lots = [_lot("X", mon, 80), _lot("Z", tue, 80)]
    new, moves = improve_lots(wk, lots, upper, 5.0)
    assert moves >= 1
    made = {(lot.product, lot.shift): lot.quantity for lot in new}
    assert made.get(("Y", mon), 0) >= 40 and made[("Z", tue)] == 80
    assert made.get(("X", mon), 0) + made.get(("X", tue), 0) >= 40
    after = build_plan(wk, new, None, pm.setup_costs())
    assert check_plan_rows(after) == []
    assert after.objective < build_plan(wk, lots, None, pm.setup_costs()).objective


def test_two_lots_of_a_product_merge_into_one_setup(load):
    # X is due Tuesday and planned as two lots of 30 with a 10-minute setup each; one lot of 60 saves a setup
    wk, pm, upper, mon, tue = _setup(load, [product("X", class_="A", setup=10, cost=5)], {"forecast": {"X": [0, 60]}})
    lots = [Lot("X", "L1", mon, 30, 10, 30), Lot("X", "L1", tue, 30, 10, 30)]
    new, moves = improve_lots(wk, lots, upper, 5.0)
    assert moves >= 1
    assert [(lot.shift, lot.quantity) for lot in new if lot.product == "X"] in ([(mon, 60)], [(tue, 60)])
    after = build_plan(wk, new, None, pm.setup_costs())
    assert check_plan_rows(after) == []
    assert after.objective < build_plan(wk, lots, None, pm.setup_costs()).objective


def test_two_lots_change_lines_where_each_is_faster_on_the_other(load):
    # X is twice as fast on L1, Y on L2, but the plan makes X on L2 and Y on L1 (40 each in the 80
    # planned minutes); both are due Monday, 80 each. Only a swap across the lines gains.
    def both(pid: str, l1: float, l2: float) -> dict:
        return {"id": pid, "class": "A", "holding_cost": 0,
                "lines": {"L1": {"minutes_per_unit": l1, "setup_minutes": 0}, "L2": {"minutes_per_unit": l2, "setup_minutes": 0}}}
    lines = [{"id": "L1", "shifts": {"all": ["day"]}}, {"id": "L2", "shifts": {"all": ["day"]}}]
    wk, pm, upper, mon, _ = _setup(load, [both("X", 1, 2), both("Y", 2, 1)], {"forecast": {"X": [80, 0], "Y": [80, 0]}},
                                   lines=lines)
    l2_monday = next(i for i in wk.shifts_of_line["L2"] if wk.day_of_shift[i] == 0)
    lots = [Lot("X", "L2", l2_monday, 40, 0, 80), Lot("Y", "L1", mon, 40, 0, 80)]
    new, moves = improve_lots(wk, lots, upper, 5.0)
    assert moves >= 1
    assert sorted((lot.product, lot.line, lot.quantity) for lot in new) == [("X", "L1", 80), ("Y", "L2", 80)]
    after = build_plan(wk, new, None, pm.setup_costs())
    assert check_plan_rows(after) == []
    assert after.objective < build_plan(wk, lots, None, pm.setup_costs()).objective


def test_a_lot_takes_the_setup_its_shift_carries_in(load):
    # L1 ends last week set up for X (10-minute setup), so Monday's shift makes X without a setup.
    # X is due Monday (80) and Y Tuesday (80), but the plan makes Y on Monday and X on Tuesday, where X's
    # setup leaves room for 70 only. On Monday all 80 fit in the 80 planned minutes.
    lines = [{"id": "L1", "shifts": {"all": ["day"]}, "last_product": "X"}]
    wk, pm, upper, mon, tue = _setup(load, [product("X", class_="A", setup=10, cost=5), product("Y", class_="A")],
                                     {"forecast": {"X": [80, 0], "Y": [0, 80]}}, lines=lines)
    assert wk.carried == {mon: "X"}
    lots = [Lot("Y", "L1", mon, 80, 0, 80), Lot("X", "L1", tue, 70, 10, 70)]
    new, moves = improve_lots(wk, lots, upper, 5.0)
    assert moves >= 1
    assert sorted((lot.product, lot.shift, lot.quantity, lot.setup_minutes) for lot in new) == [
        ("X", mon, 80, 0), ("Y", tue, 80, 0)]
    after = build_plan(wk, new, None, pm.setup_costs())
    assert check_plan_rows(after) == []
    assert after.objective < build_plan(wk, lots, None, pm.setup_costs()).objective


def test_a_product_whose_smallest_lot_needs_the_whole_shift_takes_it(load):
    # X (class A, due Monday) runs at least 80 units, all of Monday's 80 planned minutes, which Y and Z
    # (class B, 40 each, due Tuesday) fill; Tuesday is free. No single lot gives X room, and Y or Z moving
    # to Tuesday on its own does not give it either: X takes Monday and the lots there go in the same move.
    wk, pm, upper, mon, tue = _setup(
        load, [product("X", class_="A", lot={"min_run": 80}), product("Y", class_="B"), product("Z", class_="B")],
        {"forecast": {"X": [80, 0], "Y": [0, 40], "Z": [0, 40]}})
    lots = [_lot("Y", mon, 40), _lot("Z", mon, 40)]
    new, moves = improve_lots(wk, lots, upper, 5.0)
    assert moves >= 1
    made = {(lot.product, lot.shift): lot.quantity for lot in new}
    assert made.get(("X", mon)) == 80 and made.get(("X", tue), 0) == 0
    assert made.get(("Y", tue), 0) + made.get(("Z", tue), 0) >= 40
    after = build_plan(wk, new, None, pm.setup_costs())
    assert check_plan_rows(after) == []
    assert after.objective < build_plan(wk, lots, None, pm.setup_costs()).objective
