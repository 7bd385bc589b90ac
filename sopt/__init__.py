"""sopt: optimisation-based weekly production planning (OR-Tools CP-SAT)."""

__version__ = "0.1.0"
