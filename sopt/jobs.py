"""Jobs stage: sized make-to-order jobs scheduled operation by operation (CP-SAT intervals).

A job (`jobs:` in the scenario) is a fixed quantity of a product, scheduled as it is. Each
step of the product's routing becomes one operation that runs in one piece on one of the
step's work centres, with duration `setup_minutes + ceil(quantity x minutes_per_unit)` on
that work centre. An operation lies inside one window of working time open to planned
work (outside breaks, closed time and the protected window) that the week's planned runs
leave free; a step starts no earlier than the previous step's end plus its lag
(`min_lag_minutes + transfer_minutes`), and the first step no earlier than the job's
release. Work centres do one operation at a time.

Objective (cost units, weights from `policy.weights`): `makespan` x the end of the last
operation in minutes from the horizon's start, `lateness` x job weight x minutes late
(due: a datetime, or the end of the last shift of the due date on the last step's work
centres), `changeover` x the setup minutes of the chosen work centres. A job that cannot
be scheduled at all costs more than any schedule of it (its class's `order_backlog` weight
per unit and day, plus the whole horizon in makespan and lateness); with
`policy.hard_demand` every job must be scheduled.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from ortools.sat.python import cp_model

from sopt.calendar import MINUTE, subtract
from sopt.costs import scaled
from sopt.plan import Run
from sopt.scenario import Job
from sopt.week import Week


@dataclass
class JobStats:
    """What the jobs stage did (kpis.json -> jobs)."""

    status: str = "OPTIMAL"
    jobs: int = 0
    scheduled: int = 0
    objective_scaled: int = 0
    bound_scaled: int = 0
    makespan_minutes: int = 0
    weighted_lateness_minutes: float = 0.0
    late_jobs: list[str] = field(default_factory=list)
    unscheduled: list[str] = field(default_factory=list)
    seconds: float = 0.0
    time_to_best_seconds: float | None = None


@dataclass(frozen=True)
class _Window:
    line: str
    shift: int
    start: int  # minutes from the horizon's start
    end: int


class _Timer(cp_model.CpSolverSolutionCallback):
    def __init__(self) -> None:
        super().__init__()
        self.t0 = time.perf_counter()
        self.last: float | None = None

    def on_solution_callback(self) -> None:
        self.last = time.perf_counter() - self.t0


def free_windows(week: Week, busy: list[Run]) -> dict[str, list[_Window]]:
    """Per line: working windows open to planned work, less the time planned runs take."""
    t0 = week.scenario.start_time
    taken: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for r in busy:
        taken[r.line].append((r.start, r.end))
    out: dict[str, list[_Window]] = defaultdict(list)
    for i, s in enumerate(week.shifts):
        if s.W == 0 or not week.accepts_new_work(i):
            continue
        windows = list(s.planned_windows)
        for cut in taken.get(s.line, []):
            windows = subtract(windows, cut)
        for a, b in windows:
            if b > a:
                out[s.line].append(_Window(s.line, i, int((a - t0) / MINUTE), int((b - t0) / MINUTE)))
    return out


def job_due(week: Week, job: Job) -> int | None:
    """A job's due time in minutes from the horizon's start (None: no due time)."""
    t0 = week.scenario.start_time
    if job.due is not None:
        return int((job.due - t0) / MINUTE)
    if job.due_date is None:
        return None
    last = week.scenario.product(job.product).steps[-1]
    ends = [s.end for s in week.shifts if s.date == job.due_date and s.line in last.rates and s.W > 0]
    end = max(ends) if ends else dt.datetime.combine(job.due_date + dt.timedelta(days=1), dt.time())
    return int((end - t0) / MINUTE)


def schedule_jobs(week: Week, busy: list[Run], *, time_limit: float, workers: int, seed: int,
                  deterministic: bool = False) -> tuple[list[Run], JobStats]:
    """Schedule the scenario's jobs around the planned runs `busy`; return the job runs and stats."""
    sc = week.scenario
    stats = JobStats(jobs=len(sc.jobs))
    if not sc.jobs:
        return [], stats
    t_start = time.perf_counter()
    w = sc.weights
    windows = free_windows(week, busy)
    horizon = max([win.end for ws in windows.values() for win in ws], default=0)
    m = cp_model.CpModel()
    on_line: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    ends_of_job: dict[str, cp_model.IntVar] = {}
    choices: dict[tuple[str, int], list[tuple[cp_model.IntVar, cp_model.IntVar, _Window, int, int]]] = {}
    done: dict[str, cp_model.IntVar] = {}
    terms: list[cp_model.LinearExprT] = []
    makespan = m.new_int_var(0, horizon, "makespan")
    c_makespan = scaled(w.makespan)
    for job in sc.jobs:
        p = sc.product(job.product)
        d = done[job.id] = m.new_bool_var(f"done[{job.id}]")
        if sc.hard_demand:
            m.add(d == 1)
        rel = 0 if job.release is None else max(0, int((job.release - sc.start_time) / MINUTE))
        prev_end: cp_model.IntVar | None = None
        for k, step in enumerate(p.steps):
            start = m.new_int_var(0, horizon, f"start[{job.id},{k}]")
            end = m.new_int_var(0, horizon, f"end[{job.id},{k}]")
            opts = []
            for line, rate in sorted(step.rates.items()):
                dur = rate.setup_minutes + math.ceil(job.quantity * rate.minutes_per_unit)
                for win in windows.get(line, []):
                    lo = max(win.start, rel)
                    if lo + dur > win.end:
                        continue
                    x = m.new_bool_var(f"x[{job.id},{k},{line},{win.start}]")
                    s = m.new_int_var(lo, win.end - dur, f"s[{job.id},{k},{line},{win.start}]")
                    on_line[line].append(m.new_optional_fixed_size_interval_var(s, dur, x, f"op[{job.id},{k},{line}]"))
                    m.add(start == s).only_enforce_if(x)
                    m.add(end == s + dur).only_enforce_if(x)
                    opts.append((x, s, win, dur, rate.setup_minutes))
                    c = scaled(w.changeover * rate.setup_minutes)
                    if c:
                        terms.append(c * x)
            choices[(job.id, k)] = opts
            m.add(sum(o[0] for o in opts) == d)
            if prev_end is not None:
                m.add(start >= prev_end + step.min_lag_minutes + step.transfer_minutes).only_enforce_if(d)
            prev_end = end
        assert prev_end is not None
        ends_of_job[job.id] = prev_end
        m.add(makespan >= prev_end).only_enforce_if(d)
        due = job_due(week, job)
        c_late = scaled(w.lateness * job.weight)
        if due is not None and c_late > 0:
            late = m.new_int_var(0, horizon, f"late[{job.id}]")
            m.add(late >= prev_end - due).only_enforce_if(d)
            terms.append(c_late * late)
        if not sc.hard_demand:
            cls = week.classes[job.product]
            miss = (scaled(w.order_backlog[cls] * job.quantity) * sc.days + horizon * (c_makespan + c_late)
                    + 1)
            terms.append(miss * (1 - d))
    for ivs in on_line.values():
        m.add_no_overlap(ivs)
    if c_makespan:
        terms.append(c_makespan * makespan)
    m.minimize(sum(terms) if terms else 0)
    _hint_greedy(m, sc.jobs, choices, done)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = workers
    prm.random_seed = seed
    prm.catch_sigint_signal = False
    prm.relative_gap_limit = sc.relative_gap
    if deterministic:
        prm.max_deterministic_time = time_limit
        prm.max_time_in_seconds = time_limit * 20 + 60
    else:
        prm.max_time_in_seconds = time_limit
    from sopt.model.solver import _solve_in_thread  # the shared Ctrl-C-aware runner

    timer = _Timer()
    code = _solve_in_thread(solver, m, timer)  # type: ignore[arg-type]
    stats.seconds = round(time.perf_counter() - t_start, 3)
    stats.time_to_best_seconds = None if timer.last is None else round(timer.last, 3)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        stats.status = "INFEASIBLE" if code == cp_model.INFEASIBLE else "NO_PLAN"
        stats.unscheduled = [j.id for j in sc.jobs]
        return [], stats
    stats.status = "OPTIMAL" if code == cp_model.OPTIMAL else "FEASIBLE"
    stats.objective_scaled = int(round(solver.objective_value))
    stats.bound_scaled = min(stats.objective_scaled, int(math.floor(solver.best_objective_bound + 1e-6)))
    runs = _runs(week, sc.jobs, choices, solver, stats)
    return runs, stats


def _hint_greedy(m: cp_model.CpModel, jobs: tuple[Job, ...],
                 choices: dict[tuple[str, int], list[tuple[cp_model.IntVar, cp_model.IntVar, _Window, int, int]]],
                 done: dict[str, cp_model.IntVar]) -> None:
    """A complete hint: jobs in order, each step on the alternative that ends first (list scheduling)."""
    free: dict[str, list[tuple[int, int]]] = defaultdict(list)  # busy intervals per line
    for job in jobs:
        ready = 0
        picks: list[tuple[int, tuple[int, int, int]]] = []
        for k in range(len([key for key in choices if key[0] == job.id])):
            best = None
            for idx, (_, _, win, dur, _) in enumerate(choices[(job.id, k)]):
                t = max(win.start, ready)
                for a, b in sorted(free[win.line]):
                    if t + dur <= a:
                        break
                    if b > t:
                        t = b
                if t + dur <= win.end and (best is None or t + dur < best[0]):
                    best = (t + dur, idx, t)
            if best is None:
                picks = []
                break
            picks.append((k, best))
            ready = best[0]
        if not picks:
            continue
        for k, (end, idx, t) in picks:
            x, s, win, dur, _ = choices[(job.id, k)][idx]
            free[win.line].append((t, end))
            m.add_hint(x, 1)
            m.add_hint(s, t)
        m.add_hint(done[job.id], 1)


def _runs(week: Week, jobs: tuple[Job, ...],
          choices: dict[tuple[str, int], list[tuple[cp_model.IntVar, cp_model.IntVar, _Window, int, int]]],
          solver: cp_model.CpSolver, stats: JobStats) -> list[Run]:
    sc = week.scenario
    t0 = sc.start_time
    out: list[Run] = []
    last_end = 0
    late_sum = Fraction(0)
    for job in jobs:
        p = sc.product(job.product)
        end_of_job = None
        for k, step in enumerate(p.steps):
            picked = [(s, win, dur, setup) for x, s, win, dur, setup in choices[(job.id, k)] if solver.value(x)]
            if not picked:
                break
            s_var, win, dur, setup = picked[0]
            start = solver.value(s_var)
            shift = week.shifts[win.shift]
            item = p.id if k == len(p.steps) - 1 else f"{p.id}/{step.id}"
            out.append(Run(f"{job.id}-{step.id}", win.line, win.shift, shift.shift, shift.start, shift.end,
                           t0 + start * MINUTE, t0 + (start + dur) * MINUTE, item, week.classes[item], job.quantity,
                           setup, dur - setup, shift.date))
            end_of_job = start + dur
        if end_of_job is None:
            stats.unscheduled.append(job.id)
            continue
        stats.scheduled += 1
        last_end = max(last_end, end_of_job)
        due = job_due(week, job)
        if due is not None and end_of_job > due:
            stats.late_jobs.append(job.id)
            late_sum += job.weight * (end_of_job - due)
    stats.makespan_minutes = last_end
    stats.weighted_lateness_minutes = float(late_sum)
    return out


def job_terms(week: Week, runs: list[Run]) -> dict[str, int]:
    """The jobs' objective terms of a written plan (solver units), recomputed from its runs."""
    sc = week.scenario
    w = sc.weights
    out = {"makespan": 0, "lateness": 0, "changeover": 0, "unscheduled_jobs": 0}
    out["changeover"] = scaled(w.changeover) * sum(r.setup_minutes for r in runs)
    if not sc.jobs:
        return out
    t0 = sc.start_time
    by_id = {r.run_id: r for r in runs}
    horizon = max((int((s.end - t0) / MINUTE) for s in week.shifts if s.W > 0), default=0)
    last = 0
    for job in sc.jobs:
        p = sc.product(job.product)
        r = by_id.get(f"{job.id}-{p.steps[-1].id}")
        c_late = scaled(w.lateness * job.weight)
        if r is None:
            if not sc.hard_demand:
                cls = week.classes[job.product]
                out["unscheduled_jobs"] += (scaled(w.order_backlog[cls] * job.quantity) * sc.days
                                            + horizon * (scaled(w.makespan) + c_late) + 1)
            continue
        end = int((r.end - t0) / MINUTE)
        last = max(last, end)
        due = job_due(week, job)
        if due is not None:
            out["lateness"] += c_late * max(0, end - due)
    out["makespan"] = scaled(w.makespan) * last
    return out
