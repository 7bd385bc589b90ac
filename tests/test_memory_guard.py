"""The memory guard: a CP-SAT search that passes the resident-memory limit is stopped and a fresh
one continues from the best plan; the plan stays a complete, checked plan."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import sopt.model.solver as solver_mod
from sopt.generate import generate_week
from sopt.model.cpsat import release_memory, resident_mb
from sopt.model.lns import LnsStats
from sopt.model.solver import Status, _violations, solve
from sopt.week import prepare


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="resident memory is read from /proc (Linux)")
def test_resident_memory_follows_what_the_process_holds():
    before = resident_mb()
    assert before is not None and 10 < before < 10**6  # MiB of a Python process with OR-Tools loaded
    block = bytearray(200 * 2**20)  # 200 MiB, written (zeroed) so it is resident
    held = resident_mb()
    assert held is not None and held - before > 150
    del block
    release_memory()
    assert resident_mb() < held - 150  # handed back to the system


def test_a_search_over_the_guard_restarts_and_still_plans(load_scn, monkeypatch, caplog):
    week = prepare(load_scn(generate_week(20, 3, 4, 5, load=1.2)))
    monkeypatch.setattr(solver_mod, "MEMORY_GUARD_MB", 0)  # every CP-SAT search passes it at once
    monkeypatch.setattr(solver_mod, "MEMORY_MIN_SEARCH", 0.0)
    # fix-and-optimize that ends at once, without a better plan: CP-SAT's final phase has the time
    monkeypatch.setattr(solver_mod, "improve", lambda pm, values, *a, **kw: (list(values), LnsStats()))
    with caplog.at_level(logging.INFO, logger="sopt.model.solver"):
        r = solve(week, time_limit=6, workers=2, seed=1)
    restarts = [m for m in caplog.messages if m.startswith("memory guard: CP-SAT restarted from the best plan")]
    if resident_mb() is None:  # no memory reading on this system: the guard never stops a search
        assert restarts == []
        return
    assert len(restarts) >= 1
    assert r.status in (Status.FEASIBLE, Status.OPTIMAL) and r.plan is not None
    assert not _violations(r.plan)


def test_deterministic_solves_are_not_guarded(load_scn, monkeypatch, caplog):
    """A guard would make a deterministic plan depend on the machine's memory."""
    week = prepare(load_scn(generate_week(12, 2, 3, 4, load=1.2)))
    monkeypatch.setattr(solver_mod, "MEMORY_GUARD_MB", 0)
    monkeypatch.setattr(solver_mod, "MEMORY_MIN_SEARCH", 0.0)
    with caplog.at_level(logging.INFO, logger="sopt.model.solver"):
        a = solve(week, time_limit=2, workers=2, seed=3, deterministic=True)
    assert "memory guard" not in caplog.text
    monkeypatch.setattr(solver_mod, "MEMORY_GUARD_MB", 10**9)
    b = solve(week, time_limit=2, workers=2, seed=3, deterministic=True)
    assert a.objective == b.objective
