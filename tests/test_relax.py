"""The LP relaxation of the planning model (sopt/model/relax.py): a lower bound that keeps the
model's rows, used to choose the runs the fix-and-optimize search may open."""

from __future__ import annotations

import math
import random
import threading

from ortools.linear_solver import pywraplp

from sopt.costs import COST_SCALE
from sopt.generate import generate_week
from sopt.model.model import PlanningModel
from sopt.model.relax import ZERO, _solve_stoppable, lp_relaxation
from sopt.model.solver import new_solver
from sopt.week import prepare
from tests.conftest import product, week


def test_the_relaxation_bounds_the_optimum_from_below(load):
    # three days of P1 and P2 with setup costs: the plan pays whole setups, the relaxation fractions
    data = week(products=[product("P1", setup=10, cost=50, class_="A"), product("P2", setup=20, cost=80, class_="B"),
                          product("P3", setup=15, cost=30, class_="C")],
                demand={"forecast": {"P1": [30, 30, 30], "P2": [20, 20, 20], "P3": [0, 0, 0]}})
    data["horizon"]["days"] = 3
    pm = PlanningModel(prepare(load(data)))
    lp = lp_relaxation(pm, None)
    assert lp is not None
    solver = new_solver(30, 1, 0, 0.0, True)
    assert solver.status_name(solver.solve(pm.model)) == "OPTIMAL"
    assert 0 < lp.objective < solver.objective_value  # a real bound, and below the optimum (fractional setups)
    domains = [list(v.domain) for v in pm.model.proto.variables]
    assert all(d[0] - 1e-6 <= x <= d[-1] + 1e-6 for d, x in zip(domains, lp.values, strict=True))
    setups = [lp.values[r.setup.index] for r in pm.vars.runs]
    assert any(ZERO < y < 1 - ZERO for y in setups)


def test_the_relaxation_keeps_capacity_and_backlog(load):
    # 1 min/unit, one 100-minute shift a day at r = 0.2: 80 units a day. A forecast of 1,000 units
    # on the first day leaves at least 920 units undelivered at the end of day 1 and 840 at the
    # end of day 2; the relaxation must pay that backlog too.
    data = week(products=[product("P1", class_="A")], demand={"forecast": {"P1": [1000, 0]}})
    data["horizon"]["days"] = 2
    pm = PlanningModel(prepare(load(data)))
    lp = lp_relaxation(pm, None)
    assert lp is not None
    weight = 10  # the forecast_backlog weight of class A per unit and day, in cost units
    floor = (920 + 840) * weight * 1000  # CP-SAT sees the weights x 1000
    assert lp.objective >= floor - 1e-6
    assert all(lp.values[r.lots.index] > ZERO for r in pm.vars.runs)  # every shift makes P1


def _transport_lp(n: int) -> pywraplp.Solver:
    """A dense n x n transport LP with random costs (n = 150: GLOP needs about 0.06 s)."""
    rng = random.Random(7)
    lp = pywraplp.Solver.CreateSolver("GLOP")
    x = [[lp.NumVar(0, lp.infinity(), "") for _ in range(n)] for _ in range(n)]
    for i in range(n):
        lp.Add(sum(x[i]) == 10 + rng.randrange(5))
        lp.Add(sum(x[k][i] for k in range(n)) <= 20)
    lp.Minimize(sum(rng.randrange(1, 1000) * x[i][j] for i in range(n) for j in range(n)))
    return lp


def test_a_stop_interrupts_the_lp_while_it_runs():
    # the LP runs in a worker thread, so the caller sees a stop (Ctrl-C) while GLOP runs, not when it ends
    def lp_running() -> bool:
        return any(t.name == "sopt-lp" for t in threading.enumerate())

    assert _solve_stoppable(_transport_lp(150), lp_running, poll=0.001) == pywraplp.Solver.NOT_SOLVED
    assert _solve_stoppable(_transport_lp(150), lambda: False) == pywraplp.Solver.OPTIMAL  # the same LP, unstopped


def test_a_stop_before_the_lp_starts_gives_no_relaxation(load):
    pm = PlanningModel(prepare(load(week(products=[product("P1", class_="A")],
                                        demand={"forecast": {"P1": [100]}}))))
    assert lp_relaxation(pm, None, stopped=lambda: True) is None
    assert lp_relaxation(pm, None) is not None


def test_solve_reports_at_least_the_relaxation_as_its_bound(load_scn, monkeypatch):
    # the LP relaxation is a proven lower bound: solve() keeps it when CP-SAT's own bound is lower.
    # With no probe, CP-SAT proves no bound before fix-and-optimize (as on 200 x 8 at 60 s).
    from sopt.model import solve, solver

    monkeypatch.setattr(solver, "PROBE_SHARE", 0.0)
    sc = load_scn(generate_week(10, 2, 3, 3, load=1.3))
    pm = PlanningModel(prepare(sc))
    lp = lp_relaxation(pm, None)
    assert lp is not None
    bounds: list[float] = []
    result = solve(sc, time_limit=4, workers=1, seed=0, deterministic=True,
                   on_progress=lambda p: bounds.append(p.bound) if p.bound is not None else None)
    assert result.best_bound is not None and result.objective is not None
    floor = math.ceil(lp.objective - 1e-6 * abs(lp.objective)) + pm.objective.constant
    assert floor <= round(result.best_bound * COST_SCALE) <= round(result.objective * COST_SCALE)
    assert bounds == sorted(bounds)  # the reported bound never falls back below the relaxation
