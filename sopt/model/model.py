"""The planning model: wires variables, constraints and objective; reads solutions back."""

from __future__ import annotations

from fractions import Fraction

from ortools.sat.python import cp_model

from sopt.model.constraints import Constraints
from sopt.model.objective import Objective
from sopt.model.variables import Variables
from sopt.sequence import Lot, run_minutes
from sopt.week import Week


class PlanningModel:
    """CP-SAT model of one week: quantity per product, line and shift."""

    def __init__(self, week: Week):
        self.week = week
        self.model = cp_model.CpModel()
        self.vars = Variables.build(self.model, week)
        Constraints(self.model, week, self.vars).add_all()
        self.objective = Objective(self.model, week, self.vars)
        self.objective.add_all()

    def lots(self, value) -> list[Lot]:  # noqa: ANN001 - value: a solver's or callback's Value
        """The lots of a solution (quantity > 0), with whole run minutes."""
        out = []
        for r in self.vars.runs:
            q = r.multiple * value(r.lots)
            if q <= 0:
                continue
            out.append(Lot(r.product, r.line, r.shift, q, r.setup_minutes, run_minutes(q, r.minutes_per_unit)))
        return out

    def opened(self, value) -> set[int]:  # noqa: ANN001
        """The shifts a solution opens."""
        return {i for i, sv in self.vars.shifts.items()
                if self.week.shifts[i].W > 0 and (sv.open if isinstance(sv.open, int) else value(sv.open))}

    def objective_of(self, values: list[int]) -> int:
        """The solver's objective (as CP-SAT reports it) of a complete solution, one value per variable."""
        obj = self.model.proto.objective
        return int(obj.offset) + sum(c * values[v] for c, v in zip(obj.coeffs, obj.vars, strict=True))

    def set_hint(self, values: list[int]) -> None:
        """Hint a complete solution, one value per variable (replaces any hint)."""
        proto = self.model.proto
        proto.clear_solution_hint()
        proto.solution_hint.vars.extend(range(len(values)))
        proto.solution_hint.values.extend(values)

    def setup_costs(self) -> dict[tuple[str, str, int], Fraction]:
        """Setup cost per candidate run (zero where the line is already set up)."""
        return {(r.product, r.line, r.shift): r.setup_cost for r in self.vars.runs}

    def hint(self, lots: list[Lot]) -> None:
        """Warm start from a plan's lots (all other runs hinted to zero)."""
        qty = {(lot.product, lot.line, lot.shift): lot.quantity for lot in lots if not lot.wip}
        for r in self.vars.runs:
            q = qty.get((r.product, r.line, r.shift), 0)
            self.model.add_hint(r.lots, q // r.multiple)
            self.model.add_hint(r.setup, int(q > 0))
