"""`solve()`: one entry point for every caller; it always returns a Result."""

from __future__ import annotations

import enum
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from sopt.costs import COST_SCALE
from sopt.heuristic import start_plan as best_start
from sopt.model.cpsat import in_thread, new_solver, release_memory, resident_mb
from sopt.model.lns import improve
from sopt.model.model import PlanningModel
from sopt.plan import Plan, build_plan
from sopt.scenario import Scenario
from sopt.sequence import Lot, run_minutes
from sopt.week import Week, prepare

log = logging.getLogger(__name__)


class Status(str, enum.Enum):
    """Outcome of a solve (CONTRACT.md, Results)."""

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    NO_PLAN = "NO_PLAN"


@dataclass(frozen=True)
class Progress:
    """A progress event: a better plan or a better bound."""

    elapsed: float
    objective: float | None
    bound: float | None
    stage: str = "plan"  # "plan", then "jobs" for the jobs stage (objective and bound then include it)

    @property
    def gap(self) -> float | None:
        """Relative gap of the incumbent."""
        if self.objective is None or self.bound is None:
            return None
        return max(0.0, (self.objective - self.bound) / max(1.0, abs(self.objective)))


@dataclass
class Result:
    """What a solve returns: status, objective, bound, gap, timing and the plan (or None)."""

    status: Status
    objective: float | None
    best_bound: float | None
    gap: float | None
    solve_seconds: float
    time_to_best_seconds: float | None
    plan: Plan | None
    week: Week
    interrupted: bool = False
    solver_status: str = ""
    timing: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


class _Stopper:
    """Lets the CLI stop running searches (Ctrl-C) from a signal handler."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._solvers: list[cp_model.CpSolver] = []
        self.requested = False

    def register(self, solver: cp_model.CpSolver) -> None:
        with self._lock:
            self._solvers.append(solver)
            if self.requested:
                solver.stop_search()

    def unregister(self, solver: cp_model.CpSolver) -> None:
        with self._lock:
            if solver in self._solvers:
                self._solvers.remove(solver)

    def stop(self) -> None:
        with self._lock:
            self.requested = True
            for s in self._solvers:
                s.stop_search()


STOPPER = _Stopper()


def request_stop() -> None:
    """Stop every running search as soon as possible; solve() then returns its best plan.

    The request holds for searches that start later too (a Ctrl-C during the model build
    is not lost), until `reset_stop()`.
    """
    STOPPER.stop()


def reset_stop() -> None:
    """Searches run to their limits again (the CLI calls it when a stoppable command starts)."""
    with STOPPER._lock:
        STOPPER.requested = False


class _Recorder(cp_model.CpSolverSolutionCallback):
    """Records time, objective and bound of each improving plan (kept light on purpose)."""

    def __init__(self, offset: int, on_progress: Callable[[Progress], None] | None, bound_offset: int = 0,
                 t0: float | None = None):
        super().__init__()
        self.t0 = time.perf_counter() if t0 is None else t0  # times count from the start of solve()
        self.offset = offset
        self.bound_offset = bound_offset
        self.on_progress = on_progress
        self.floor = -math.inf  # a bound proven before this search (the LP relaxation's)
        self.last_time: float | None = None
        self.found_at: list[tuple[float, int]] = []  # (seconds, model objective) of each plan found

    def on_solution_callback(self) -> None:
        self.last_time = time.perf_counter() - self.t0
        self.found_at.append((self.last_time, int(round(self.objective_value))))
        if self.on_progress:
            obj = (self.objective_value + self.offset) / COST_SCALE
            bound = (max(self.best_objective_bound, self.floor) + self.offset + self.bound_offset) / COST_SCALE
            self.on_progress(Progress(self.last_time, obj, bound))


def solve(
    scenario: Scenario | Week,
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    log_search: bool = False,
    warm_start: Plan | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    deterministic: bool = False,
) -> Result:
    """Plan the week with CP-SAT. Never raises for a hard week: the status says what happened.

    time_limit, workers and seed default to the scenario's `solver:` settings.
    `deterministic` uses a deterministic time limit (same seed and settings -> same plan).
    """
    t0 = time.perf_counter()
    week = scenario if isinstance(scenario, Week) else prepare(scenario)
    sc = week.scenario
    time_limit = sc.time_limit if time_limit is None else time_limit
    workers = sc.workers if workers is None else workers
    seed = sc.seed if seed is None else seed
    plan_limit = time_limit
    jstats = None
    if sc.jobs and not week.job_runs:  # jobs first: they take whole line-shifts, which the plan then leaves to them
        from sopt.jobs import schedule_jobs

        planned_too = any(sum(week.demand[p.id].total) > 0 for p in sc.products)
        job_limit = time_limit / 2 if planned_too else max(time_limit - 1.0, time_limit * 0.9)
        job_progress: Callable[[float, int, int], None] | None = None
        if on_progress is not None:
            report = on_progress

            def job_progress(at: float, obj: int, bound: int) -> None:
                report(Progress(at, obj / COST_SCALE, bound / COST_SCALE, "jobs"))
        job_runs, jstats = schedule_jobs(week, time_limit=job_limit, workers=workers, seed=seed,
                                         deterministic=deterministic, on_progress=job_progress)
        if jstats.status in ("INFEASIBLE", "NO_PLAN") and (sc.hard_demand or jstats.status == "NO_PLAN"):
            status = Status.INFEASIBLE if jstats.status == "INFEASIBLE" else Status.NO_PLAN
            t_all = round(time.perf_counter() - t0, 3)
            return Result(status, None, None, None, t_all, None, None, week, STOPPER.requested, jstats.status,
                          {"jobs_seconds": jstats.seconds, "solve_seconds": t_all},
                          {"time_limit": time_limit, "workers": workers, "seed": seed, "deterministic": deterministic})
        week.set_jobs(job_runs)
        used = jstats.deterministic_seconds if deterministic else time.perf_counter() - t0
        plan_limit = max(0.5, time_limit - used)  # what the jobs left of the limit
    pm = PlanningModel(week)
    if jstats is not None and not pm.vars.runs:
        on_progress = None  # nothing to plan besides the jobs: their progress was the progress
    # the fallback plan: the constructive plan, or the warm start when it holds in this week
    t_start = time.perf_counter()
    def start_found(plan: Plan) -> None:  # a complete, checked plan exists from here on
        if on_progress is not None:
            on_progress(Progress(time.perf_counter() - t0, plan.objective, None))

    start = best_start(week, pm.setup_costs(), None if deterministic else START_SHARE * plan_limit, start_found)
    start_plan, start_ok = start.plan, start.ok
    log.info("start plan: %s (rule %s)", start_plan.objective, start.rule)
    if not deterministic:  # the constructive plans are part of the search: their time comes off its limit
        plan_limit = max(0.5 * plan_limit, plan_limit - (time.perf_counter() - t_start))
    if warm_start is not None:
        warm_lots = _lots_of(warm_start, week)
        pm.hint(warm_lots)
        warm_plan = build_plan(week, warm_lots, None, pm.setup_costs())
        if warm_plan.objective_scaled < start_plan.objective_scaled and not _violations(warm_plan):
            start_plan, start_ok = warm_plan, True
            start_found(warm_plan)
    else:
        pm.hint(start.lots)
    if start_ok and not STOPPER.requested:
        plan_limit -= complete_hint(pm.model, min(HINT_SECONDS, plan_limit / 4), seed, deterministic)
    job_obj, job_bound = (jstats.objective_scaled, jstats.bound_scaled) if jstats else (0, 0)
    offset = pm.objective.constant + job_obj
    t_build = time.perf_counter() - t0
    settings = {"time_limit": time_limit, "workers": workers, "seed": seed, "deterministic": deterministic}
    search = _Search(pm, t0, offset, job_bound - job_obj, on_progress, workers, seed, sc.relative_gap,
                     deterministic, log_search)
    hint = pm.model.proto.solution_hint
    if len(hint.vars) == len(pm.model.proto.variables) and plan_limit > 0:
        # probe, fix-and-optimize, then CP-SAT again from its plan if time is left (module doc of sopt.model.lns)
        start_values = [0] * len(hint.vars)
        for var, val in zip(hint.vars, hint.values, strict=True):
            start_values[var] = val
        search.offer(start_values)
        probe = plan_limit * PROBE_SHARE
        search.cp_sat(probe)
        plan_limit -= probe
        if not search.proven and not STOPPER.requested:
            # fix-and-optimize ends early once a round of parts finds no better plan
            plan_limit -= search.lns(plan_limit)
            if plan_limit > 0 and not STOPPER.requested:
                search.cp_sat_within_memory(plan_limit)
    else:
        search.cp_sat_within_memory(plan_limit)
    t_solve = time.perf_counter() - t0 - t_build
    interrupted = STOPPER.requested
    code = search.code
    found = search.best is not None
    if not found and (code != cp_model.UNKNOWN or not start_ok):
        status = Status.NO_PLAN if code in (cp_model.UNKNOWN, cp_model.MODEL_INVALID) else Status.INFEASIBLE
        log.info("no plan: %s", search.status_name)
        return Result(status, None, None, None, round(t_solve, 3), None, None, week, interrupted,
                      search.status_name, {"build_seconds": round(t_build, 3), "solve_seconds": round(t_solve, 3)},
                      settings)
    if search.best is not None:
        final = search.best
        plan = build_plan(week, pm.lots(lambda var: final[var.index]), pm.opened(lambda var: final[var.index]),
                          pm.setup_costs())
    else:  # the search found nothing better in time: the constructive plan (checked) is the plan
        log.info("no plan from the search within the limit: keeping the constructive plan")
        plan = start_plan
    if start_plan.objective_scaled < plan.objective_scaled and start_ok:
        log.info("the constructive plan (%s) beats the search's (%s): keeping it", start_plan.objective, plan.objective)
        plan = start_plan
    bound_scaled = (search.bound if search.bound is not None else -(2**62)) + pm.objective.constant
    time_to_best = search.time_to_best()
    if jstats is not None:
        plan.jobs = jstats
        bound_scaled += jstats.bound_scaled
        if not pm.vars.runs:  # nothing to plan besides the jobs: their best schedule is the best plan
            time_to_best = jstats.time_to_best_seconds
        # the jobs stage ran before the model was built: count it as solving
        t_build -= jstats.seconds
        t_solve += jstats.seconds
    bound_scaled = min(bound_scaled, plan.objective_scaled)
    gap = max(0.0, (plan.objective_scaled - bound_scaled) / max(COST_SCALE, abs(plan.objective_scaled)))
    status = Status.OPTIMAL if plan.objective_scaled == bound_scaled else Status.FEASIBLE
    t_total = time.perf_counter() - t0
    timing = {"build_seconds": round(t_build, 3), "solve_seconds": round(t_solve, 3),
              **({"jobs_seconds": jstats.seconds} if jstats else {}),
              "outputs_seconds": round(t_total - t_build - t_solve, 3), "total_seconds": round(t_total, 3)}
    return Result(status, plan.objective, bound_scaled / COST_SCALE, round(gap, 6), round(t_solve, 3),
                  None if time_to_best is None else round(time_to_best, 3), plan, week, interrupted,
                  search.status_name, timing, settings)


# of the limit, at most, for the constructive plans (start_plan tries one rule at least): all five rules on
# 50x5 at 30 s and 200x8 at 60 s (0.05 and 0.25 s a rule), one on 1000x12 at 60 s (2 s a rule)
START_SHARE = 0.03
HINT_SECONDS = 10.0  # at most this long (and a quarter of the limit) to complete the start plan's hint


def complete_hint(model: cp_model.CpModel, seconds: float, seed: int, deterministic: bool) -> float:
    """Turn the model's partial hint (the start plan's lots and setups) into a complete one.

    CP-SAT takes a complete, feasible hint as its first solution at once and searches around
    it; a partial one it must complete itself, which on the demo week took longer than the
    whole limit (measured: 10 s, 8 workers: 35,250 from a partial hint of a 34,670 plan,
    34,403 from the completed hint). The other variables (open shifts, overtime, stock,
    backlog, ...) are completed by a one-worker solve with the hinted variables fixed. Keeps
    the partial hint when that does not finish in `seconds`. Returns the seconds used (the
    deterministic time when `deterministic`).
    """
    t0 = time.perf_counter()
    if seconds <= 0 or not len(model.proto.solution_hint.vars):
        return 0.0
    solver = new_solver(seconds, 1, seed, 0.0, deterministic)
    solver.parameters.fix_variables_to_their_hinted_value = True
    code = solver.solve(model)
    used = solver.deterministic_time if deterministic else time.perf_counter() - t0
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        log.info("the start plan's hint could not be completed (%s): kept partial", solver.status_name(code))
        return used
    values = solver.response_proto.solution
    model.clear_hints()
    for i, v in enumerate(values):
        model.add_hint(model.get_int_var_from_proto_index(i), v)
    return used


# of the search time, CP-SAT's first run from the start plan (small weeks end here, proven); fix-and-optimize
# then has the rest (measured in docs/model.md, "Search": 0.1 with 70 % of the rest gave worse plans)
PROBE_SHARE = 0.02
RENS = True  # fix-and-optimize among the runs the LP relaxation or the start plan makes (sopt.model.lns)
RENS_SHARE = 0.2  # of the fix-and-optimize time, at most, for the LP relaxation
# the LP relaxation takes about LP_SECONDS x variables^1.5 (GLOP, dual simplex, with building it:
# 0.4 s for 3,800 variables, 2.4 s for 14,000, 27 s for 70,000); it is skipped where that exceeds its share
LP_SECONDS = 1.7e-6
MEMORY_GUARD_MB = 3000  # resident MiB at which a CP-SAT search is stopped and started afresh (see cp_sat_within_memory)
MEMORY_MIN_SEARCH = 5.0  # seconds a search must have run before the guard's stop for a fresh one to follow


class _Search:
    """The search phases of one solve, sharing the best plan, the best bound and the progress trace."""

    def __init__(self, pm: PlanningModel, t0: float, offset: int, bound_offset: int,
                 on_progress: Callable[[Progress], None] | None, workers: int, seed: int, relative_gap: float,
                 deterministic: bool, log_search: bool):
        self.pm, self.t0, self.offset, self.bound_offset = pm, t0, offset, bound_offset
        self.on_progress = on_progress
        self.workers, self.seed, self.relative_gap = workers, seed, relative_gap
        self.deterministic, self.log_search = deterministic, log_search
        self.best: list[int] | None = None  # one value per model variable
        self.best_obj: int | None = None  # the model's objective of `best`
        self.bound: int | None = None  # best proven bound of the model's objective
        self.code: Any = cp_model.UNKNOWN
        self.status_name = "UNKNOWN"
        self.proven = False
        self.found_at: list[tuple[float, int]] = []  # (seconds, model objective) of each plan found

    def offer(self, values: list[int]) -> None:
        """Keep `values` when they beat the best plan so far."""
        obj = self.pm.objective_of(values)
        if self.best_obj is None or obj < self.best_obj:
            self.best, self.best_obj = values, obj

    def cp_sat_within_memory(self, limit: float) -> None:
        """CP-SAT for `limit` seconds; a search stopped by the memory guard starts afresh from the best plan.

        CP-SAT's memory grows with its search time (measured on 1000x12 with 8 workers: 2.5 GiB
        after 90 s, 4.0 GiB after 240 s). A fresh search from the best plan, once the memory of
        the stopped one is handed back, keeps the process under MEMORY_GUARD_MB plus what one
        search gathers before the guard sees it.
        """
        end = time.perf_counter() + limit
        while True:
            began = time.perf_counter()
            if not self.cp_sat(limit) or self.proven or STOPPER.requested:
                return
            if time.perf_counter() - began < MEMORY_MIN_SEARCH:
                return  # the model alone is near the guard: a fresh search would be stopped at once
            limit = end - time.perf_counter()
            if limit < 1.0:
                return
            release_memory()
            log.info("memory guard: CP-SAT restarted from the best plan (%.0f s left)", limit)

    def cp_sat(self, limit: float) -> bool:
        """CP-SAT's portfolio from the best plan so far (as its complete hint); True when the memory guard
        stopped it."""
        model = self.pm.model
        if self.best is not None:
            self.pm.set_hint(self.best)
        solver = new_solver(limit, self.workers, self.seed, self.relative_gap, self.deterministic)
        solver.parameters.log_search_progress = self.log_search
        rec = _Recorder(self.offset, self.on_progress, self.bound_offset, self.t0)
        rec.floor = -math.inf if self.bound is None else self.bound
        if self.on_progress is not None:
            report = self.on_progress

            def bound_cb(bound: float) -> None:
                report(Progress(time.perf_counter() - self.t0, None,
                                (max(bound, rec.floor) + self.offset + self.bound_offset) / COST_SCALE))
            solver.best_bound_callback = bound_cb
        guard = None if self.deterministic else MEMORY_GUARD_MB  # a guard would make the plan depend on memory
        code, memory_stopped = _solve_in_thread(solver, model, rec, guard)
        self.found_at += rec.found_at
        if self.code != cp_model.OPTIMAL:
            self.code, self.status_name = code, solver.status_name(code)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            self.offer(list(solver.response_proto.solution))
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN) and math.isfinite(solver.best_objective_bound):
            bound = int(round(solver.best_objective_bound))
            self.bound = bound if self.bound is None else max(self.bound, bound)
        self.proven = self.proven or code == cp_model.OPTIMAL
        if code == cp_model.INFEASIBLE:
            self.proven = True
        return memory_stopped

    def lns(self, budget: float) -> float:
        """Fix-and-optimize from the best plan for `budget` seconds; returns the time used."""
        if self.best is None or budget <= 0:
            return 0.0
        t = time.perf_counter()
        offset = self.offset

        def better(obj: int) -> None:
            self.found_at.append((time.perf_counter() - self.t0, obj))
            if self.on_progress is not None:
                self.on_progress(Progress(self.found_at[-1][0], (obj + offset) / COST_SCALE, None))

        start = self.best
        restrict: list[tuple[int, int]] = []
        n = len(self.pm.model.proto.variables)
        if RENS and LP_SECONDS * n ** 1.5 <= budget * RENS_SHARE:
            # RENS: the runs that neither the LP relaxation nor the start plan makes stay at zero (lns doc)
            from sopt.model.relax import ZERO, lp_relaxation
            lp = lp_relaxation(self.pm, None if self.deterministic else budget * RENS_SHARE,
                               stopped=lambda: STOPPER.requested)
            if lp is not None:
                self.lp_bound(lp.objective)
                restrict = [(r.lots.index, r.setup.index) for r in self.pm.vars.runs
                            if lp.values[r.lots.index] < ZERO and start[r.lots.index] == 0]
            log.info("LP relaxation %s: %d of %d runs kept out of fix-and-optimize",
                     "solved" if lp is not None else "not solved (out of time or stopped)", len(restrict), len(self.pm.vars.runs))
            if not self.deterministic:  # a deterministic budget is deterministic time: wall time must not change it
                budget -= time.perf_counter() - t
        values, stats = in_thread(lambda: improve(
            self.pm, start, budget, self.seed, deterministic=self.deterministic, workers=min(self.workers, 2),
            on_better=better, register=STOPPER.register, unregister=STOPPER.unregister,
            stopped=lambda: STOPPER.requested, restrict=restrict), "sopt-lns")
        self.offer(values)
        log.info("fix-and-optimize: %d parts, %d better plans", stats.parts, stats.improved)
        return stats.deterministic_seconds if self.deterministic else time.perf_counter() - t

    def lp_bound(self, objective: float) -> None:
        """Raise the proven bound to the LP relaxation's optimum: the objective's coefficients are
        integers, so no plan costs less than its ceiling (less GLOP's relative tolerance)."""
        bound = math.ceil(objective - 1e-6 * max(1.0, abs(objective)))
        if self.bound is None or bound > self.bound:
            self.bound = bound
            if self.on_progress is not None:
                self.on_progress(Progress(time.perf_counter() - self.t0, None,
                                          (bound + self.offset + self.bound_offset) / COST_SCALE))

    def time_to_best(self) -> float | None:
        """When the best plan's objective was first reached."""
        if self.best_obj is None:
            return None
        best = self.best_obj
        return min((t for t, obj in self.found_at if obj <= best), default=None)


def _solve_in_thread(solver: cp_model.CpSolver, model: cp_model.CpModel, rec: _Recorder,
                     memory_guard_mb: float | None = None) -> tuple[Any, bool]:
    """Run a CP-SAT search in a worker thread (see `sopt.model.cpsat.in_thread`); Ctrl-C stops it.

    With `memory_guard_mb`, the search is also stopped once the process's resident memory
    passes it. Returns the status and whether the memory guard stopped the search.
    """
    if STOPPER.requested:  # Ctrl-C before the search began: a search with no time (its response stays readable)
        solver.parameters.max_time_in_seconds = 0.0
        solver.parameters.max_deterministic_time = 0.0
    guarded = {"stopped": False}

    def tick() -> None:
        if STOPPER.requested:  # a stop that came while CP-SAT was still starting up is repeated
            solver.stop_search()
        if memory_guard_mb is not None and not guarded["stopped"]:
            rss = resident_mb()
            if rss is not None and rss > memory_guard_mb:
                guarded["stopped"] = True
                log.info("memory guard: %.0f MiB resident, stopping this CP-SAT search", rss)
                solver.stop_search()

    STOPPER.register(solver)
    try:
        code = in_thread(lambda: solver.solve(model, rec), "cp-sat", tick)
    finally:
        STOPPER.unregister(solver)
    return code, guarded["stopped"]


def _violations(plan: Plan) -> list[str]:
    from sopt.checker import check_plan_rows

    return [str(v) for v in check_plan_rows(plan)]


def _lots_of(plan: Plan, week: Week | None = None) -> list[Lot]:
    """A plan's lots (one per product, line and shift), sized for `week` (default: the plan's)."""
    week = week or plan.week
    sc = week.scenario
    merged: dict[tuple[str, str, int], int] = {}
    for r in plan.runs:
        if r.run_id.startswith("WIP-"):
            continue
        key = (r.product, r.line, r.shift_index)
        merged[key] = merged.get(key, 0) + r.quantity
    out = []
    for (p, ln, i), q in merged.items():
        setup = 0 if week.carried.get(i) == p else sc.setup_bound(ln, p)
        out.append(Lot(p, ln, i, q, setup, run_minutes(q, sc.product(p).rates[ln].minutes_per_unit)))
    return out
