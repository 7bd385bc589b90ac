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
from sopt.heuristic import constructive_plan
from sopt.model.model import PlanningModel
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


def _lits(ref: int) -> tuple[int, bool]:
    """(variable index, negated) of a CP-SAT literal reference."""
    return (ref, False) if ref >= 0 else (-ref - 1, True)


def to_highs(pm: PlanningModel) -> tuple[highspy.Highs, float]:
    """A HiGHS model of the CP-SAT proto; returns it and the objective offset (solver units)."""
    proto = pm.model.proto
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    n = len(proto.variables)
    domains = [list(v.domain) for v in proto.variables]  # (the proto wrapper does not index from the end)
    lo = np.array([d[0] for d in domains], dtype=float)
    hi = np.array([d[-1] for d in domains], dtype=float)
    cost = np.zeros(n)
    for var, coef in zip(proto.objective.vars, proto.objective.coeffs):
        cost[var] += coef
    h.addVars(n, lo, hi)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.array([highspy.HighsVarType.kInteger] * n))

    def row(idx: list[int], val: list[float], lb: float, ub: float) -> None:
        h.addRow(lb, ub, len(idx), np.array(idx, dtype=np.int32), np.array(val, dtype=float))

    for c in proto.constraints:
        kind = next((k for k in ("linear", "bool_or", "bool_and", "at_most_one", "exactly_one", "interval",
                                 "no_overlap", "circuit", "lin_max") if getattr(c, f"has_{k}")()), "other")
        if kind == "linear":
            idx, val = list(c.linear.vars), [float(x) for x in c.linear.coeffs]
            dom = list(c.linear.domain)
            lb = dom[0] if dom[0] > -(2**62) else -inf
            ub = dom[-1] if dom[-1] < 2**62 else inf
            if len(dom) > 2:
                raise NotImplementedError("holes in a linear domain")
            enf = list(c.enforcement_literal)
            if not enf:
                row(idx, val, lb, ub)
                continue
            # big-M: the row holds when every enforcement literal is true
            act_lo = sum(v * (lo[i] if v > 0 else hi[i]) for i, v in zip(idx, val))
            act_hi = sum(v * (hi[i] if v > 0 else lo[i]) for i, v in zip(idx, val))
            for ref in enf:
                var, neg = _lits(ref)
                # literal false -> (1 - x) for a positive literal, x for a negated one
                if ub != inf and act_hi > ub:
                    big = act_hi - ub
                    if neg:
                        row([*idx, var], [*val, -big], -inf, ub)
                    else:
                        row([*idx, var], [*val, big], -inf, ub + big)
                if lb != -inf and act_lo < lb:
                    big = lb - act_lo
                    if neg:
                        row([*idx, var], [*val, big], lb, inf)
                    else:
                        row([*idx, var], [*val, -big], lb - big, inf)
        elif kind in ("bool_or", "bool_and"):
            enf = [_lits(r) for r in c.enforcement_literal]
            lits = [_lits(r) for r in (c.bool_or.literals if kind == "bool_or" else c.bool_and.literals)]
            groups = [lits] if kind == "bool_or" else [[x] for x in lits]
            for group in groups:  # sum(lits) + sum(1 - enforcement) >= 1
                idx, val, const = [], [], 0.0
                for var, neg in group:
                    idx.append(var)
                    val.append(-1.0 if neg else 1.0)
                    const += 1.0 if neg else 0.0
                for var, neg in enf:
                    idx.append(var)
                    val.append(1.0 if neg else -1.0)
                    const += 0.0 if neg else 1.0
                row(idx, val, 1.0 - const, inf)
        else:
            raise NotImplementedError(f"constraint {kind} has no MIP translation here")
    return h, float(proto.objective.offset)


def solve_peer(week: Week, time_limit: float, threads: int = 1, start: bool = True) -> PeerResult:
    """Build sopt's planning model, solve it with HiGHS, write the plan through sopt's tables.

    `start`: give HiGHS sopt's constructive plan as a (partial) start solution, the same
    warm start CP-SAT gets as its hint; HiGHS completes it (without it, HiGHS often finds no
    plan at all within the limit on these weeks).
    """
    t0 = time.perf_counter()
    pm = PlanningModel(week)
    if start:
        pm.hint(constructive_plan(week))
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
