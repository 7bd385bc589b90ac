"""The CP-SAT planning model: variables, constraints (one method per rule), objective."""

from sopt.model.model import PlanningModel
from sopt.model.solver import Result, Status, solve

__all__ = ["PlanningModel", "Result", "Status", "solve"]
