"""The start plan reaches CP-SAT as a complete hint: every variable hinted, the hint feasible
and worth exactly the start plan's objective."""

from __future__ import annotations

from sopt.costs import COST_SCALE
from sopt.generate import generate_week
from sopt.heuristic import constructive_plan
from sopt.model.model import PlanningModel
from sopt.model.solver import _lots_of, build_plan, complete_hint, new_solver
from sopt.week import prepare


def test_the_start_plan_hint_is_completed_and_feasible(load_scn):
    week = prepare(load_scn(generate_week(12, 2, 3, 4, load=1.2)))
    pm = PlanningModel(week)
    start = build_plan(week, constructive_plan(week), None, pm.setup_costs())
    pm.hint(_lots_of(start))
    proto = pm.model.proto
    partial = len(proto.solution_hint.vars)
    assert 0 < partial < len(proto.variables)  # lots and setups only
    complete_hint(pm.model, 10, 0, deterministic=True)
    assert sorted(proto.solution_hint.vars) == list(range(len(proto.variables)))
    check = new_solver(10, 1, 0, 0.0, True)
    check.parameters.fix_variables_to_their_hinted_value = True
    assert check.status_name(check.solve(pm.model)) == "OPTIMAL"
    assert round((check.objective_value + pm.objective.constant) / COST_SCALE, 2) == round(start.objective, 2)


def test_a_hint_that_cannot_be_completed_in_time_is_kept(load_scn):
    week = prepare(load_scn(generate_week(12, 2, 3, 4, load=1.2)))
    pm = PlanningModel(week)
    pm.hint(constructive_plan(week))
    before = list(pm.model.proto.solution_hint.vars)
    complete_hint(pm.model, 0, 0, deterministic=True)  # no time: nothing changes
    assert list(pm.model.proto.solution_hint.vars) == before
