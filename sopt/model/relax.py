"""The LP relaxation of the planning model (GLOP), which the fix-and-optimize search uses to
choose the runs worth trying (RENS: relaxation enforced neighbourhood search).

The CP-SAT model is read from its proto (`linear_rows`, which the HiGHS peer in
`benchmarks/highs_peer.py` uses too), so the relaxation is exactly the model's: every
variable with its bounds made continuous, every linear constraint as a row, and a
constraint enforced by a literal written with a big-M taken from the variables' bounds
(`lhs ≤ ub + M·(1 − literal)`). The planning model uses linear constraints, `bool_or` and
`bool_and` only; any other kind makes `lp_relaxation` return None.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ortools.linear_solver import pywraplp

from sopt.model.cpsat import in_thread
from sopt.model.model import PlanningModel

ZERO = 1e-6  # an LP value below this is zero
# the dual simplex: 2.4 s against 3.4 s (200 x 8) and 19 s against 49 s (1000 x 12) for the primal
GLOP_PARAMETERS = "use_dual_simplex: true"

Row = tuple[list[int], list[float], float, float]  # variable indices, coefficients, lower and upper bound


@dataclass
class Relaxation:
    """An optimal LP solution: one value per model variable, and its objective (solver units)."""

    values: list[float]
    objective: float
    seconds: float


def _literal(ref: int) -> tuple[int, bool]:
    """(variable index, negated) of a CP-SAT literal reference."""
    return (ref, False) if ref >= 0 else (-ref - 1, True)


def bounds(proto: Any) -> tuple[list[float], list[float]]:
    """Each variable's lower and upper bound."""
    domains = [list(v.domain) for v in proto.variables]  # (the proto wrapper does not index from the end)
    return [float(d[0]) for d in domains], [float(d[-1]) for d in domains]


def linear_rows(proto: Any) -> Iterator[Row]:
    """The model's constraints as linear rows over its variables (±inf: no bound). Raises
    ValueError for a constraint kind other than linear, bool_or and bool_and."""
    lo, hi = bounds(proto)
    for c in proto.constraints:
        if c.has_linear():
            idx, val = list(c.linear.vars), [float(a) for a in c.linear.coeffs]
            dom = list(c.linear.domain)
            if len(dom) > 2:
                raise ValueError("a linear constraint with holes in its domain")
            lb = float(dom[0]) if dom[0] > -(2**62) else -math.inf
            ub = float(dom[-1]) if dom[-1] < 2**62 else math.inf
            if not len(c.enforcement_literal):
                yield idx, val, lb, ub
                continue
            act_lo = sum(v * (lo[i] if v > 0 else hi[i]) for i, v in zip(idx, val, strict=True))
            act_hi = sum(v * (hi[i] if v > 0 else lo[i]) for i, v in zip(idx, val, strict=True))
            for ref in c.enforcement_literal:
                var, negated = _literal(ref)
                if ub != math.inf and act_hi > ub:  # lhs <= ub + big x (1 - literal)
                    big = act_hi - ub
                    if negated:
                        yield [*idx, var], [*val, -big], -math.inf, ub
                    else:
                        yield [*idx, var], [*val, big], -math.inf, ub + big
                if lb != -math.inf and act_lo < lb:  # lhs >= lb - big x (1 - literal)
                    big = lb - act_lo
                    if negated:
                        yield [*idx, var], [*val, big], lb, math.inf
                    else:
                        yield [*idx, var], [*val, -big], lb - big, math.inf
        elif c.has_bool_or() or c.has_bool_and():
            enforced = [_literal(r) for r in c.enforcement_literal]
            literals = [_literal(r) for r in (c.bool_or.literals if c.has_bool_or() else c.bool_and.literals)]
            groups = [literals] if c.has_bool_or() else [[lit] for lit in literals]
            for group in groups:  # sum(literals) + sum(1 - enforcement literals) >= 1
                idx, val, const = [], [], 0.0
                for var, negated in group:
                    idx.append(var)
                    val.append(-1.0 if negated else 1.0)
                    const += 1.0 if negated else 0.0
                for var, negated in enforced:
                    idx.append(var)
                    val.append(1.0 if negated else -1.0)
                    const += 0.0 if negated else 1.0
                yield idx, val, 1.0 - const, math.inf
        else:
            raise ValueError("a constraint that has no linear form here")


def lp_relaxation(pm: PlanningModel, seconds: float | None,
                  stopped: Callable[[], bool] = lambda: False) -> Relaxation | None:
    """Solve the model's LP relaxation; None when it is not solved to optimality in `seconds`
    (None: no limit), `stopped()` turns true first (checked every 0.1 s), or the model holds a
    constraint it cannot relax."""
    t0 = time.perf_counter()
    proto = pm.model.proto
    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:
        return None
    lp.SetSolverSpecificParametersAsString(GLOP_PARAMETERS)
    if seconds is not None:
        lp.SetTimeLimit(max(1, int(seconds * 1000)))
    inf = lp.infinity()
    lo, hi = bounds(proto)
    x = [lp.NumVar(a, b, "") for a, b in zip(lo, hi, strict=True)]
    objective = lp.Objective()
    for var, coef in zip(proto.objective.vars, proto.objective.coeffs, strict=True):
        objective.SetCoefficient(x[var], objective.GetCoefficient(x[var]) + coef)
    objective.SetMinimization()
    try:
        for k, (idx, val, lb, ub) in enumerate(linear_rows(proto)):
            if k % 1000 == 0 and stopped():
                return None
            ct = lp.Constraint(max(lb, -inf), min(ub, inf))
            for i, v in zip(idx, val, strict=True):
                ct.SetCoefficient(x[i], ct.GetCoefficient(x[i]) + v)
    except ValueError:
        return None
    status = _solve_stoppable(lp, stopped)
    if status != pywraplp.Solver.OPTIMAL:
        return None
    return Relaxation([v.solution_value() for v in x], objective.Value() + proto.objective.offset,
                      time.perf_counter() - t0)


def _solve_stoppable(lp: Any, stopped: Callable[[], bool], poll: float = 0.1) -> int:
    """GLOP's Solve in a worker thread (`in_thread`), interrupted once `stopped()` is true (asked
    every `poll` seconds): a Ctrl-C is seen while the LP runs (1000 x 12: about 20 s)."""
    interrupted = False

    def tick() -> None:
        nonlocal interrupted
        if not interrupted and stopped():
            interrupted = lp.InterruptSolve()

    status: int = in_thread(lp.Solve, "sopt-lp", tick, poll)
    return status
