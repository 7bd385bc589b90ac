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
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from ortools.sat.python import cp_model

from sopt.calendar import MINUTE
from sopt.costs import scaled
from sopt.model.solver import (  # shared solver settings, Ctrl-C-aware runner
    _solve_in_thread,
    new_solver,
)
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
    deterministic_seconds: float = 0.0  # CP-SAT's deterministic time used (a budget the plan inherits)
    time_to_best_seconds: float | None = None


@dataclass(frozen=True)
class _Window:
    line: str
    shift: int
    start: int  # minutes from the horizon's start
    end: int


class _Timer(cp_model.CpSolverSolutionCallback):
    def __init__(self, on_progress: Callable[[float, int, int], None] | None = None) -> None:
        super().__init__()
        self.t0 = time.perf_counter()
        self.last: float | None = None
        self.on_progress = on_progress

    def on_solution_callback(self) -> None:
        self.last = time.perf_counter() - self.t0
        if self.on_progress is not None:
            self.on_progress(self.last, int(round(self.objective_value)), int(round(self.best_objective_bound)))


def free_windows(week: Week) -> dict[str, list[_Window]]:
    """Per line: the working windows open to planned work of every shift that takes new work."""
    t0 = week.scenario.start_time
    out: dict[str, list[_Window]] = defaultdict(list)
    for i, s in enumerate(week.shifts):
        if s.W == 0 or not week.accepts_new_work(i) or week.wip_minutes(i) > 0:
            continue  # (a shift with work in progress or frozen runs stays with the plan)
        for a, b in s.planned_windows:
            if b > a:
                out[s.line].append(_Window(s.line, i, int((a - t0) / MINUTE), int((b - t0) / MINUTE)))
    return out


def op_id(job: Job, step_id: str) -> str:
    """The run id of a job's operation: `<job id>-<step id>`."""
    return f"{job.id}-{step_id}"


def horizon_minutes(week: Week) -> int:
    """Minutes from the horizon's start to the end of its last working shift."""
    t0 = week.scenario.start_time
    return max((int((s.end - t0) / MINUTE) for s in week.shifts if s.W > 0), default=0)


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


def schedule_jobs(week: Week, *, time_limit: float, workers: int, seed: int, deterministic: bool = False,
                  on_progress: Callable[[float, int, int], None] | None = None) -> tuple[list[Run], JobStats]:
    """Schedule the scenario's jobs before the plan; return the job runs and stats.

    The line-shifts the jobs use are theirs: the plan puts no lots in them. Where opening a
    shift is a decision (crews, shift limits), the jobs open only what the crew pool and
    `max_shifts_per_day` allow; in a week that also plans products, each line-shift the jobs
    take costs a token amount, so that jobs share shifts rather than spread out.
    """
    sc = week.scenario
    stats = JobStats(jobs=len(sc.jobs))
    if not sc.jobs:
        return [], stats
    t_start = time.perf_counter()
    w = sc.weights
    windows = free_windows(week)
    horizon = max([win.end for ws in windows.values() for win in ws], default=0)
    m = cp_model.CpModel()
    on_line: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    ends_of_job: dict[str, cp_model.IntVar] = {}
    choices: dict[tuple[str, int], list[tuple[cp_model.IntVar, cp_model.IntVar, _Window, int, int]]] = {}
    done: dict[str, cp_model.IntVar] = {}
    uses: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    load: dict[int, list[cp_model.LinearExprT]] = defaultdict(list)
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
            item = p.id if k == len(p.steps) - 1 else f"{p.id}/{step.id}"
            for line, rate in sorted(step.rates.items()):
                setup = sc.setup_bound(line, item)  # the longest changeover into it: safe after anything
                dur = setup + math.ceil(job.quantity * rate.minutes_per_unit)
                for win in windows.get(line, []):
                    lo = max(win.start, rel)
                    if lo + dur > win.end:
                        continue
                    x = m.new_bool_var(f"x[{job.id},{k},{line},{win.start}]")
                    # the operation's own start and end, shared by its alternatives (as in a plain FJSP model)
                    on_line[line].append(m.new_optional_interval_var(start, dur, end, x, f"op[{job.id},{k},{line}]"))
                    if lo > 0:
                        m.add(start >= lo).only_enforce_if(x)
                    if win.end < horizon:
                        m.add(end <= win.end).only_enforce_if(x)
                    opts.append((x, start, win, dur, setup))
                    uses[win.shift].append(x)
                    load[win.shift].append(dur * x)
                    c = scaled(w.changeover * setup)
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
            miss = (scaled(w.order_backlog[cls] * job.quantity) * sc.days
                    + horizon_minutes(week) * (c_makespan + c_late) + 1)
            terms.append(miss * (1 - d))
    for ivs in on_line.values():
        m.add_no_overlap(ivs)
    for i, minutes in load.items():  # R9: jobs stay within W - P (a floating window leaves them all of W)
        if sum(d for d in (o[3] for ops in choices.values() for o in ops if o[2].shift == i)) > week.planned_capacity(i):
            m.add(sum(minutes) <= week.planned_capacity(i))
    token = _shift_use(m, week, uses, terms)
    if c_makespan:
        terms.append(c_makespan * makespan)
    m.minimize(sum(terms) if terms else 0)
    _hint_greedy(m, sc.jobs, choices, done)
    solver = new_solver(time_limit, workers, seed, sc.relative_gap, deterministic)
    timer = _Timer(on_progress)
    code, _ = _solve_in_thread(solver, m, timer)  # type: ignore[arg-type]
    stats.seconds = round(time.perf_counter() - t_start, 3)
    stats.deterministic_seconds = solver.deterministic_time
    stats.time_to_best_seconds = None if timer.last is None else round(timer.last, 3)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        stats.status = "INFEASIBLE" if code == cp_model.INFEASIBLE else "NO_PLAN"
        stats.unscheduled = [j.id for j in sc.jobs]
        return [], stats
    stats.status = "OPTIMAL" if code == cp_model.OPTIMAL else "FEASIBLE"
    runs = _runs(week, sc.jobs, choices, solver, stats)
    stats.objective_scaled = sum(job_terms(week, runs).values())
    # the token per line-shift is not part of the plan's objective: a valid bound leaves it out
    bound = int(math.floor(solver.best_objective_bound + 1e-6)) - token * len(uses)
    stats.bound_scaled = max(0, min(stats.objective_scaled, bound))
    if stats.bound_scaled < stats.objective_scaled and stats.status == "OPTIMAL" and token:
        stats.status = "FEASIBLE"
    return runs, stats


def _shift_use(m: cp_model.CpModel, week: Week, uses: dict[int, list[cp_model.IntVar]],
               terms: list[cp_model.LinearExprT]) -> int:
    """Line-shifts the jobs open: crew pool and shift limits hold; a token cost in mixed weeks."""
    sc = week.scenario
    used: dict[int, cp_model.IntVar] = {}
    for i, xs in uses.items():
        u = used[i] = m.new_bool_var(f"job_shift[{i}]")
        for x in xs:
            m.add_implication(x, u)
        m.add(u <= sum(xs))
    pools: dict[tuple[str, dt.date], list[cp_model.LinearExprT]] = defaultdict(list)
    per_day: dict[tuple[str, dt.date], list[cp_model.LinearExprT]] = defaultdict(list)
    for i, u in used.items():
        s = week.shifts[i]
        line = sc.line(s.line)
        if line.crew > 0 and s.template in sc.crew_pool:
            pools[(s.template, s.date)].append(line.crew * u)
        if line.max_shifts_per_day is not None:
            per_day[(s.line, s.date)].append(u)
    for (template, _), crews in pools.items():
        m.add(sum(crews) <= sc.crew_pool[template])
    for (line_id, date), us in per_day.items():
        always = sum(1 for j, s in enumerate(week.shifts)
                     if s.line == line_id and s.date == date and s.W > 0 and j not in used
                     and not week.shift_is_decision(j))
        m.add(sum(us) + always <= (sc.line(line_id).max_shifts_per_day or 0))
    planned_too = any(sum(week.demand[p.id].total) > 0 for p in sc.products)
    token = 1 if planned_too else 0
    if token:
        terms.extend(token * u for u in used.values())
    return token


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
            out.append(Run(op_id(job, step.id), win.line, win.shift, shift.shift, shift.start, shift.end,
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
    horizon = horizon_minutes(week)
    last = 0
    for job in sc.jobs:
        p = sc.product(job.product)
        r = by_id.get(op_id(job, p.steps[-1].id))
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


JOB_COLUMNS = ["job_id", "product", "quantity", "release", "due", "start", "end", "lines", "lateness_minutes",
               "on_time"]


def job_rows(week: Week, runs: list[Run]) -> list[dict[str, object]]:
    """jobs.csv: one row per job, from the plan's runs (start and end empty when not scheduled)."""
    sc = week.scenario
    t0 = sc.start_time
    by_id = {r.run_id: r for r in runs}
    rows: list[dict[str, object]] = []
    for job in sc.jobs:
        p = sc.product(job.product)
        ops = [by_id.get(op_id(job, st.id)) for st in p.steps]
        due = job_due(week, job)
        done = all(op is not None for op in ops)
        end = ops[-1].end if done and ops[-1] is not None else None
        late = max(0, int((end - t0) / MINUTE) - due) if end is not None and due is not None else 0
        rows.append({
            "job_id": job.id, "product": job.product, "quantity": job.quantity,
            "release": "" if job.release is None else job.release.strftime("%Y-%m-%dT%H:%M"),
            "due": "" if due is None else (t0 + due * MINUTE).strftime("%Y-%m-%dT%H:%M"),
            "start": ops[0].start.strftime("%Y-%m-%dT%H:%M") if done and ops[0] is not None else "",
            "end": "" if end is None else end.strftime("%Y-%m-%dT%H:%M"),
            "lines": ";".join(op.line for op in ops if op is not None) if done else "",
            "lateness_minutes": late, "on_time": int(done and late == 0),
        })
    return rows


def job_kpis(week: Week, runs: list[Run], stats: JobStats | None) -> dict[str, object] | None:
    """kpis.json -> jobs: counts, makespan and lateness of the written plan (None without jobs)."""
    sc = week.scenario
    if not sc.jobs:
        return None
    rows = job_rows(week, runs)
    t0 = sc.start_time
    ends = [dt.datetime.fromisoformat(str(r["end"])) for r in rows if r["end"]]
    return {
        "jobs": len(rows), "scheduled": sum(1 for r in rows if r["end"]),
        "unscheduled": [r["job_id"] for r in rows if not r["end"]],
        "late": [r["job_id"] for r in rows if r["end"] and not r["on_time"]],
        "makespan_minutes": max((int((end - t0) / MINUTE) for end in ends), default=0),
        "total_lateness_minutes": sum(int(str(r["lateness_minutes"])) for r in rows),
        "status": None if stats is None else stats.status,
        "seconds": None if stats is None else stats.seconds,
    }
