"""CP-SAT solvers with sopt's settings (shared by the search phases and the fix-and-optimize parts), and
the worker thread that every long solve (CP-SAT, the LP relaxation) runs in."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from typing import Any

from ortools.sat.python import cp_model


def new_solver(time_limit: float, workers: int, seed: int, relative_gap: float, deterministic: bool) -> cp_model.CpSolver:
    """A CP-SAT solver with sopt's settings; the CLI handles Ctrl-C itself.

    `deterministic` limits deterministic time instead of wall time (same seed -> same result),
    with a generous wall-clock safety net.
    """
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = workers
    prm.random_seed = seed
    prm.relative_gap_limit = relative_gap
    prm.catch_sigint_signal = False
    if deterministic:
        # several workers are reproducible only when interleaved (they otherwise share plans as they come)
        prm.interleave_search = workers > 1
        prm.max_deterministic_time = time_limit
        prm.max_time_in_seconds = time_limit * 20 + 60
    else:
        prm.max_time_in_seconds = time_limit
    return solver


def resident_mb() -> float | None:
    """The process's resident memory in MiB (None where the system does not tell: not Linux)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def release_memory() -> None:
    """Hand the memory a finished search freed back to the system (glibc keeps it otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


def in_thread(work: Callable[[], Any], name: str, tick: Callable[[], None] | None = None, poll: float = 0.1) -> Any:
    """Run `work` in a worker thread so that the main thread stays free for Ctrl-C; return its result.

    Python runs signal handlers only in the main thread, between bytecodes; a main thread
    blocked inside CP-SAT would not see Ctrl-C until the search ends. `tick` runs in the
    main thread every `poll` seconds while `work` runs.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = e

    t = threading.Thread(target=run, name=name, daemon=True)
    t.start()
    while t.is_alive():
        t.join(poll)
        if tick is not None:
            tick()
    if "error" in box:
        raise box["error"]
    return box["value"]
