"""The sequencing stage: changeovers by predecessor, the circuit, and time recovered from the reserve."""

from __future__ import annotations

from sopt.checker import check_tables
from sopt.plan import build_plan
from sopt.sequence import Lot
from sopt.week import prepare
from tests.conftest import product, week


def _colour_week(**line_extra):
    # Two 100-minute shifts; P1 dark (A), P2 light (B), P3 light (C). Changeovers: light ->
    # dark 5, dark -> light 50; pairs not listed take the setup of 5.
    data = week(
        products=[product("P1", setup=5, class_="A", family="dark"), product("P2", setup=5, class_="B", family="light"),
                  product("P3", setup=5, class_="C", family="light")],
        changeovers=[{"from": "light", "to": "dark", "minutes": 5}, {"from": "dark", "to": "light", "minutes": 50}],
        demand={"forecast": {"P1": [40], "P2": [40], "P3": [0]}},
        policy={"reserve_ratio": 0},
    )
    data["shift_templates"]["late"] = {"start": "12:00", "minutes": 100}
    data["lines"][0].update({"shifts": {"all": ["day", "late"]}, **line_extra})
    return data


def test_planning_reserves_the_longest_changeover(load):
    sc = load(_colour_week())
    assert sc.setup_bound("L1", "P1") == 5     # only light -> dark (5) leads into P1
    assert sc.setup_bound("L1", "P2") == 50    # dark -> light is the worst case into P2
    assert sc.changeover("L1", "P2", "P2") == 0
    assert sc.changeover("L1", "P3", "P2") == 5  # light -> light: not listed, the setup


def test_circuit_beats_the_class_order(load):
    # The line is set up for P3 (light). Class order would run P1 (dark, A) first: 5 + 50 = 55
    # changeover minutes; light first: P2 (5) then P1 (5) = 10. The circuit finds 10.
    sc = load(_colour_week(last_product="P3"))
    wk = prepare(sc)
    lots = [Lot("P1", "L1", 0, 20, 5, 20), Lot("P2", "L1", 0, 20, 50, 20)]
    plan = build_plan(wk, lots)
    assert [r.product for r in plan.runs] == ["P2", "P1"]
    assert [r.setup_minutes for r in plan.runs] == [5, 5]
    assert plan.sequence.changeover_minutes == 10
    assert plan.sequence.recovered_minutes == 45  # reserved 5 + 50
    assert check_tables(sc, plan.schedule_rows(), plan.capacity, plan.production) == []


def test_setup_carries_over_between_shifts(load):
    # Shift 1 ends with P1; shift 2 starts with P1 again (no changeover), then P2 (dark -> light 50).
    sc = load(_colour_week())
    wk = prepare(sc)
    lots = [Lot("P1", "L1", 0, 30, 5, 30), Lot("P1", "L1", 1, 10, 5, 10), Lot("P2", "L1", 1, 40, 50, 40)]
    plan = build_plan(wk, lots)
    second = [r for r in plan.runs if r.shift_index == 1]
    assert [(r.product, r.setup_minutes) for r in second] == [("P1", 0), ("P2", 50)]
    assert plan.sequence.changeover_minutes == 5 + 0 + 50
    assert check_tables(sc, plan.schedule_rows(), plan.capacity, plan.production) == []


def test_checker_flags_a_missing_changeover(load):
    sc = load(_colour_week(last_product="P3"))
    plan = build_plan(prepare(sc), [Lot("P1", "L1", 0, 20, 5, 20), Lot("P2", "L1", 0, 20, 50, 20)])
    rows = plan.schedule_rows()
    rows[1]["setup_minutes"] = 0  # P1 after P2 needs light -> dark = 5
    found = check_tables(sc, rows, None, None)
    assert any(v.rule == "setup" and "needs a changeover of 5" in v.message for v in found)


def test_solve_with_changeovers_passes_the_checker(load, solve_checked):
    r = solve_checked(load(_colour_week(last_product="P3")))
    assert r.plan.sequence.changeover_minutes <= r.plan.sequence.reserved_changeover_minutes


def test_no_planned_minutes_are_stranded_before_the_protected_window(load):
    # 80 planned minutes (100 at r = 0.2) and up to 30 minutes of overtime. P1 (A): setup 10 and
    # 40 units (50 min); P2 (B): setup 45 and 15 units (60 min); 110 min in all, as the model
    # allows. In class order P1 leaves 30 minutes, too few for P2's setup: P2 would go to overtime
    # whole (60 > 30) and be cut to nothing. P2 first (60 min) leaves 20 for P1's setup and 10
    # units; its other 30 units run in the 30 minutes of overtime.
    data = week(products=[product("P1", setup=10, class_="A"), product("P2", setup=45, class_="B")],
                demand={"forecast": {"P1": [40], "P2": [15]}})
    data["lines"][0]["overtime"] = {"max_minutes_per_shift": 30, "cost_per_minute": 1}
    sc = load(data)
    wk = prepare(sc)
    plan = build_plan(wk, [Lot("P1", "L1", 0, 40, 10, 40), Lot("P2", "L1", 0, 15, 45, 15)])
    made = {p: sum(r.quantity for r in plan.runs if r.product == p) for p in ("P1", "P2")}
    assert made == {"P1": 40, "P2": 15}
    assert [(r.product, r.quantity) for r in plan.runs] == [("P2", 15), ("P1", 10), ("P1", 30)]
    assert plan.runs[-1].end.strftime("%H:%M") == "10:10"  # the shift ends 09:40: 30 min of overtime
    assert check_tables(sc, plan.schedule_rows(), plan.capacity, plan.production) == []
