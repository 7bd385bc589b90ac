"""The MIP peer: sopt's planning model solved by HiGHS instead of CP-SAT.

The planning model is built by sopt from the scenario objects exactly as `solve()` builds it
(`sopt.model.PlanningModel`), then its CP-SAT proto is translated constraint by constraint
into a MIP for HiGHS (highspy): integer variables with their domains, linear constraints
(with their enforcement literals as big-M rows), boolean clauses and implications, and the
same objective. Both solvers therefore see exactly the same week. The plan HiGHS finds is
read back as lots and written through sopt's own sequencing and plan tables, so its cost
is the same objective as sopt's `kpis.json`.

    python benchmarks/highs_peer.py SCENARIO.yaml [--time-limit 30]

Needs `pip install highspy` (the `bench` extra).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np

from sopt.costs import COST_SCALE
from sopt.heuristic import start_plan
from sopt.model.model import PlanningModel
from sopt.model.relax import bounds, linear_rows
from sopt.plan import build_plan
from sopt.scenario import load_scenario
from sopt.week import Week, prepare


@dataclass
class PeerResult:
    """What the MIP peer reached: the plan's objective (sopt's accounting), HiGHS's bound and times."""

    objective: float | None  # of the written plan, cost units (None: no plan)
    mip_objective: float | None  # HiGHS's own incumbent, cost units
    bound: float | None
    first_seconds: float | None
    seconds: float
    status: str


def to_highs(pm: PlanningModel) -> tuple[highspy.Highs, float]:
    """A HiGHS model of the CP-SAT proto; returns it and the objective offset (solver units)."""
    proto = pm.model.proto
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    n = len(proto.variables)
    lows, highs = bounds(proto)
    lo, hi = np.array(lows, dtype=float), np.array(highs, dtype=float)
    cost = np.zeros(n)
    for var, coef in zip(proto.objective.vars, proto.objective.coeffs):
        cost[var] += coef
    h.addVars(n, lo, hi)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.array([highspy.HighsVarType.kInteger] * n))

    for idx, val, lb, ub in linear_rows(proto):  # the same rows as sopt's LP relaxation
        h.addRow(max(lb, -inf), min(ub, inf), len(idx), np.array(idx, dtype=np.int32), np.array(val, dtype=float))
    return h, float(proto.objective.offset)


def solve_peer(week: Week, time_limit: float, threads: int = 1, start: bool = True) -> PeerResult:
    """Build sopt's planning model, solve it with HiGHS, write the plan through sopt's tables.

    `start`: give HiGHS sopt's best constructive plan as a (partial) start solution, the same
    warm start CP-SAT gets as its hint; HiGHS completes it (without it, HiGHS often finds no
    plan at all within the limit on these weeks).
    """
    t0 = time.perf_counter()
    pm = PlanningModel(week)
    if start:
        pm.hint(start_plan(week, pm.setup_costs()).lots)
    h, offset = to_highs(pm)
    hint = pm.model.proto.solution_hint
    if start and len(hint.vars):
        h.setSolution(len(hint.vars), np.array(list(hint.vars), dtype=np.int32),
                      np.array(list(hint.values), dtype=float))
    h.setOptionValue("time_limit", max(0.1, time_limit - (time.perf_counter() - t0)))
    h.setOptionValue("threads", threads)
    h.setOptionValue("mip_rel_gap", 1e-4)
    first: list[float] = []

    def on_mip(e):  # noqa: ANN001, ANN202
        if not first:
            first.append(time.perf_counter() - t0)

    try:
        h.cbMipImprovingSolution.subscribe(on_mip)
    except AttributeError:  # older highspy without callbacks
        pass
    h.run()
    seconds = time.perf_counter() - t0
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    scale = COST_SCALE
    bound = (info.mip_dual_bound + offset + pm.objective.constant) / scale if math.isfinite(info.mip_dual_bound) else None
    if info.primal_solution_status < 2:
        return PeerResult(None, None, bound, None, seconds, status)
    sol = h.getSolution().col_value
    values = [round(x) for x in sol]
    plan = build_plan(week, pm.lots(lambda v: values[v.index]), pm.opened(lambda v: values[v.index]), pm.setup_costs())
    mip_obj = (info.objective_function_value + offset + pm.objective.constant) / scale
    return PeerResult(plan.objective, mip_obj, bound, first[0] if first else None, seconds, status)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", type=Path)
    ap.add_argument("--time-limit", type=float, default=30)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    week = prepare(load_scenario(args.scenario))
    r = solve_peer(week, args.time_limit, args.threads)
    print(r)


if __name__ == "__main__":
    main()
