"""Cost units shared by the objective and the plan's own cost accounting."""

from __future__ import annotations

from fractions import Fraction

COST_SCALE = 1000  # CP-SAT sees costs x 1000 as integers: objective precision 0.001
TERMS = ("order_backlog", "forecast_backlog", "min_stock_shortfall", "holding", "setup_cost", "overtime", "shift_cost",
         "nervousness", "makespan", "lateness", "changeover", "unscheduled_jobs")


def scaled(x: Fraction) -> int:
    """A cost coefficient in the solver's integer units (round half up)."""
    return int(x * COST_SCALE + Fraction(1, 2)) if x >= 0 else -scaled(-x)
