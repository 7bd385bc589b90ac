"""Shared fixtures: tiny hand-built weeks and a solve that always runs the plan checker."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sopt.checker import check_tables
from sopt.model import Result, solve
from sopt.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent

# One line, one 100-minute shift on Monday 2026-11-30 08:00-09:40, a one-day horizon.
BASE: dict[str, Any] = {
    "name": "tiny",
    "horizon": {"start": "2026-11-30", "days": 1},
    "shift_templates": {"day": {"start": "08:00", "minutes": 100}},
    "lines": [{"id": "L1", "shifts": {"all": ["day"]}}],
    "products": [],
    "policy": {"reserve_ratio": 0.2},
}


def week(**changes: Any) -> dict[str, Any]:
    """A copy of BASE with top-level keys replaced."""
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return data


def product(pid: str, mpu: float = 1, setup: int = 0, cost: float = 0, **extra: Any) -> dict[str, Any]:
    """A one-line product on L1 with zero holding cost unless given."""
    p = {"id": pid, "lines": {"L1": {"minutes_per_unit": mpu, "setup_minutes": setup, "setup_cost": cost}},
         "holding_cost": 0}
    if "class_" in extra:
        extra["class"] = extra.pop("class_")
    p.update(extra)
    return p


def _loader(folder: Path):
    def _load(data: dict[str, Any], name: str = "week.yaml") -> Scenario:
        path = folder / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return load_scenario(path)
    return _load


@pytest.fixture
def load(tmp_path: Path):
    """Write scenario data to a YAML file and load it."""
    return _loader(tmp_path)


@pytest.fixture(scope="session")
def load_scn(tmp_path_factory: pytest.TempPathFactory):
    """Like `load`, for hypothesis tests (one folder for the session)."""
    return _loader(tmp_path_factory.mktemp("weeks"))


def checked_solve(scenario: Scenario, **kw: Any) -> Result:
    """Solve with one worker and a fixed seed, and assert the plan passes the checker."""
    kw.setdefault("workers", 1)
    kw.setdefault("seed", 0)
    kw.setdefault("time_limit", 20)
    result = solve(scenario, **kw)
    assert result.plan is not None, result.status
    violations = check_tables(scenario, result.plan.schedule_rows(), result.plan.capacity, result.plan.production)
    assert not violations, "\n".join(map(str, violations))
    return result


@pytest.fixture
def solve_checked():
    """The checked solve as a fixture."""
    return checked_solve
