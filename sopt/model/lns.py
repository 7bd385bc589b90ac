"""Fix-and-optimize: improve a complete plan by solving structured parts of the week exactly.

CP-SAT's own large-neighbourhood search frees random or graph-connected variables; on
overloaded weeks it improves slowly, because a better plan there moves a line's capacity
from one product to another across several days at once. This search frees what a planner
would re-plan together, fixes the rest at the incumbent, and lets CP-SAT (two workers, or
one where the run has one or is deterministic) solve that part. The incumbent is its
complete hint, so every part starts from a plan; the part's objective must end below the
incumbent's, so that CP-SAT searches only for better plans, prunes with that bound, and
proves a part without one infeasible. The parts:

- a line: every run of the line over the week, with its shifts and overtime;
- two lines that share a product: the product may move between them;
- a window of days: every run of every line on those days (material and stock timing).

A part that frees more than MAX_PART variables is cut: a window of days into groups of
lines over the same days (so that production can still move between the days), any other
part into windows of days. Parts that free the same variables are visited once. Small parts
are solved to the end, or proved to hold no better plan, sooner: the search visits more of
them and calls the lot moves more often (docs/model.md, "Search", has the measurements).

Parts are visited in shuffled rounds, the first round with the day windows first: from a
greedy start plan they gain the most (the start plan's timing is what it gets most wrong).
A round without an improvement ends the search early (the plan is then optimal for every
part). Each part's search starts with a 2 s limit (CP-SAT's LP-guided worker needs about
1.5 s to find its first better plan in a part of a 50-product week), which shrinks when
parts are solved to optimality and grows to 5 s when they are not. Stock, backlog and
shortfall variables are never fixed: they follow from the runs.

Before the first part and after each part that finds a better plan, the lot moves
(`sopt.model.moves`: swaps and moves of lots between days and lines, which the parts reach
only through a chain of worse plans) improve the plan; their lots are completed into a model
solution by a one-worker solve with every run fixed, kept when cheaper (POLISH).

`restrict` (RENS, the relaxation enforced neighbourhood search) lists runs that stay at
zero in every part for as long as the incumbent does not use them: the caller passes the
runs that neither the LP relaxation (`sopt.model.relax`) nor the start plan makes. A part
then re-plans the week's likely runs instead of every candidate run (on a 50-product week,
about 200 of 850 runs stay free), and CP-SAT finds its better plans sooner.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from sopt.model.cpsat import new_solver
from sopt.model.model import PlanningModel
from sopt.model.moves import applicable, improve_lots

log = logging.getLogger(__name__)


@dataclass
class LnsStats:
    """What the search did: parts solved, parts that improved the plan, seconds used."""

    parts: int = 0
    improved: int = 0
    rounds: int = 0
    seconds: float = 0.0
    deterministic_seconds: float = 0.0


DAY_WINDOW = "days"  # the name of every window of days (over all lines, or a group of them) starts with it
POLISH = True  # the lot moves after each better plan (sopt.model.moves)
POLISH_SECONDS = 1.0  # at most, per call
MAX_PART = 300  # variables a part frees at most; a larger part is cut (module doc; 1,000 until 2026-12-08)
CUTOFF = True  # a part searches only for plans better than the incumbent (module doc)


def neighbourhoods(pm: PlanningModel, max_part: int | None = None) -> list[tuple[str, list[int]]]:
    """The parts of the week, each as (name, proto indices of the variables it frees); a part frees
    at most `max_part` variables (default: MAX_PART, read at the call)."""
    max_part = MAX_PART if max_part is None else max_part
    week = pm.week
    runs_by_line: dict[str, list[int]] = {}
    runs_by_day: dict[int, list[int]] = {}
    products_of_line: dict[str, set[str]] = {}
    day_of: dict[int, int] = {}
    by_line_day: dict[tuple[str, int], list[int]] = {}
    for r in pm.vars.runs:
        idx = [r.lots.index, r.setup.index]
        runs_by_line.setdefault(r.line, []).extend(idx)
        by_line_day.setdefault((r.line, r.day), []).extend(idx)
        runs_by_day.setdefault(r.day, []).extend(idx)
        products_of_line.setdefault(r.line, set()).add(r.product)
        day_of.update(dict.fromkeys(idx, r.day))
    for i, sv in pm.vars.shifts.items():
        s = week.shifts[i]
        idx = [v.index for v in (sv.open, sv.overtime) if not isinstance(v, int)]
        runs_by_line.setdefault(s.line, []).extend(idx)
        runs_by_day.setdefault(week.day_of_shift[i], []).extend(idx)
        by_line_day.setdefault((s.line, week.day_of_shift[i]), []).extend(idx)
        day_of.update(dict.fromkeys(idx, week.day_of_shift[i]))
    parts: list[tuple[str, list[int]]] = []
    lines = sorted(k for k in runs_by_line if k in products_of_line)
    for ln in lines:
        parts.append((f"line {ln}", runs_by_line[ln]))
    for a in range(len(lines)):
        for b in range(a + 1, len(lines)):
            if products_of_line[lines[a]] & products_of_line[lines[b]]:
                parts.append((f"lines {lines[a]}+{lines[b]}", runs_by_line[lines[a]] + runs_by_line[lines[b]]))
    days = sorted(runs_by_day)
    for k in range(len(days) - 1):
        name = f"{DAY_WINDOW} {days[k]}-{days[k + 1]}"
        window = runs_by_day[days[k]] + runs_by_day[days[k + 1]]
        if len(window) <= max_part or len(runs_by_line) < 2:
            parts.append((name, window))
            continue
        # too large: the two days over groups of lines (production still moves between the days)
        size = {ln: by_line_day.get((ln, days[k]), []) + by_line_day.get((ln, days[k + 1]), []) for ln in runs_by_line}
        target = len(window) / -(-len(window) // max_part)  # as many groups as needed, of about equal size
        group: list[str] = []
        for ln in [*sorted(runs_by_line), ""]:  # "" closes the last group
            held = sum(len(size[g]) for g in group)
            if group and (not ln or held >= target or held + len(size[ln]) > max_part):
                label = group[0] if len(group) == 1 else f"{group[0]}-{group[-1]}"
                parts.append((f"{name}, lines {label}", [i for g in group for i in size[g]]))
                group = []
            if ln:
                group.append(ln)
    out: list[tuple[str, list[int]]] = []
    seen: set[tuple[int, ...]] = set()

    def keep(name: str, free: list[int]) -> None:
        if free and tuple(free) not in seen:  # a part that frees the same variables as an earlier one is left out
            seen.add(tuple(free))
            out.append((name, free))

    # the day windows first: a cut part that frees the same variables as one of them is the one left out
    for name, idx in sorted(parts, key=lambda part: not part[0].startswith(DAY_WINDOW)):
        free = sorted(set(idx))
        if len(free) <= max_part:
            keep(name, free)
            continue
        # too large to solve in a short search: windows of days that overlap by one day
        part_days = sorted({day_of[i] for i in free})
        width = max(1, len(part_days) * max_part // len(free))
        starts = list(range(0, max(1, len(part_days) - width + 1), max(1, width - 1)))
        if starts[-1] + width < len(part_days):
            starts.append(len(part_days) - width)  # the last days too
        for k in starts:
            window = set(part_days[k:k + width])
            sub = [i for i in free if day_of[i] in window]
            keep(f"{name}, days {part_days[k]}-{part_days[min(k + width, len(part_days)) - 1]}", sub)
    return out


def improve(
    pm: PlanningModel,
    values: Sequence[int],
    budget: float,
    seed: int,
    *,
    deterministic: bool = False,
    workers: int = 1,
    part_seconds: tuple[float, float] = (2.0, 5.0),
    on_better: Callable[[int], None] | None = None,
    register: Callable[[cp_model.CpSolver], None] | None = None,
    unregister: Callable[[cp_model.CpSolver], None] | None = None,
    stopped: Callable[[], bool] = lambda: False,
    restrict: Sequence[tuple[int, int]] = (),
) -> tuple[list[int], LnsStats]:
    """Improve a complete solution `values` (one per model variable) within `budget` seconds.

    `budget` is deterministic time when `deterministic` (the same seed then gives the same
    plan). `on_better(objective)` is called with the model's objective of each better plan.
    `restrict`: (lots, setup) variable indices of runs that every part keeps at zero while
    the incumbent's lots are zero (module doc; the lot moves are not bound by it).
    The model is left as it was (domains and hint restored).
    """
    t0 = time.perf_counter()
    stats = LnsStats()
    model = pm.model
    proto = model.proto
    n = len(proto.variables)
    best = list(values)
    if len(best) != n or budget <= 0:
        return best, stats
    parts = neighbourhoods(pm)
    if not parts:
        return best, stats
    best_obj = pm.objective_of(best)
    free_of = {name: set(idx) for name, idx in parts}
    # every variable a part may fix: the runs' and shifts' decisions
    decisions = sorted(set().union(*free_of.values()))
    saved_domains = {i: list(proto.variables[i].domain) for i in decisions}
    saved_hint = (list(proto.solution_hint.vars), list(proto.solution_hint.values))
    rng = random.Random(seed)
    limit, most = part_seconds
    moves_apply = POLISH and applicable(pm.week)
    upper = {(r.product, r.line, r.shift): r.upper for r in pm.vars.runs}
    shift_vars = {v.index for sv in pm.vars.shifts.values() for v in (sv.open, sv.overtime) if not isinstance(v, int)}
    used = 0.0

    def fix_all_but(free: set[int], values: list[int]) -> None:
        """Every decision outside `free` fixed at its value in `values`; those in `free` get their domain back."""
        for i in decisions:
            dom = proto.variables[i].domain
            dom.clear()
            dom.extend(saved_domains[i] if i in free else [values[i], values[i]])

    def run(solver: cp_model.CpSolver) -> Any:
        """Solve the model as its domains now are (Ctrl-C can stop it); count its deterministic time."""
        if register:
            register(solver)
        try:
            code = solver.solve(model)
        finally:
            if unregister:
                unregister(solver)
        stats.deterministic_seconds += solver.deterministic_time
        return code

    def polish(values: list[int], obj: int) -> tuple[list[int], int]:
        """The lot moves (sopt.model.moves) from `values`, completed into a model solution; kept when cheaper."""
        nonlocal used
        left = budget - (stats.deterministic_seconds if deterministic else time.perf_counter() - t0)
        if not moves_apply or left <= 0.1 or stopped():
            return values, obj
        t = time.perf_counter()
        lots = pm.lots(lambda var: values[var.index])
        new_lots, moved = improve_lots(pm.week, lots, upper, math.inf if deterministic else min(POLISH_SECONDS, left))
        if not moved:
            return values, obj
        qty = {(lot.product, lot.line, lot.shift): lot.quantity for lot in new_lots}
        moved_values = list(values)
        for r in pm.vars.runs:
            q = qty.get((r.product, r.line, r.shift), 0) // r.multiple
            moved_values[r.lots.index], moved_values[r.setup.index] = q, int(q > 0)
        fix_all_but(shift_vars, moved_values)  # the runs as moved; openings and overtime follow them
        proto.clear_solution_hint()
        solver = new_solver(min(1.0, left) if deterministic else max(0.05, min(1.0, t + left - time.perf_counter())),
                            1, 0, 0.0, deterministic)
        code = run(solver)
        used = stats.deterministic_seconds if deterministic else time.perf_counter() - t0
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            log.debug("lot moves: %d moves, no model solution (%s)", moved, solver.status_name(code))
            return values, obj
        sol = list(solver.response_proto.solution)
        new_obj = pm.objective_of(sol)
        log.debug("lot moves: %d moves, %d -> %d in %.2f s", moved, obj, new_obj, time.perf_counter() - t)
        if new_obj >= obj:
            return values, obj
        stats.improved += 1
        if on_better:
            on_better(new_obj)
        return sol, new_obj

    try:
        while used < budget and not stopped():
            order = list(parts)
            rng.shuffle(order)
            if stats.rounds == 0:  # the day windows first (shuffled among themselves): they gain the most early on
                order.sort(key=lambda part: not part[0].startswith(DAY_WINDOW))
            stats.rounds += 1
            improved_this_round = False
            if stats.rounds == 1:
                best, best_obj = polish(best, best_obj)
            for name, _ in order:
                left = budget - used
                if left <= 0.05 or stopped():
                    break
                free = free_of[name]
                if restrict:
                    free = free - {i for pair in restrict if best[pair[0]] == 0 for i in pair}
                fix_all_but(free, best)
                pm.set_hint(best)
                solver = new_solver(min(limit, left), 1 if deterministic else workers, rng.randrange(1 << 30),
                                    0.0, deterministic)
                if CUTOFF:  # only a better plan counts: the objective's domain ends below the incumbent's
                    proto.objective.domain.extend([-(2**62), best_obj - int(proto.objective.offset) - 1])
                try:
                    code = run(solver)
                finally:
                    proto.objective.domain.clear()
                stats.parts += 1
                used = stats.deterministic_seconds if deterministic else time.perf_counter() - t0
                log.debug("part %s: %s in %.2f s", name, solver.status_name(code)
                          + (" (no better plan)" if code == cp_model.INFEASIBLE else ""), solver.wall_time)
                if code in (cp_model.OPTIMAL, cp_model.INFEASIBLE):  # solved to the end (no better plan: infeasible)
                    limit = max(0.2, limit * 0.9)
                else:  # not solved to the end (or not even started on) in time: more time for the next part
                    limit = min(most, limit * 1.5)
                if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                    continue
                sol = list(solver.response_proto.solution)
                obj = pm.objective_of(sol)
                if obj < best_obj:
                    best = sol
                    best_obj = obj
                    stats.improved += 1
                    improved_this_round = True
                    if on_better:
                        on_better(obj)
                    best, best_obj = polish(best, best_obj)
            if not improved_this_round:
                break
    finally:
        for i, dom_values in saved_domains.items():
            dom = proto.variables[i].domain
            dom.clear()
            dom.extend(dom_values)
        proto.clear_solution_hint()
        proto.solution_hint.vars.extend(saved_hint[0])
        proto.solution_hint.values.extend(saved_hint[1])
    stats.seconds = time.perf_counter() - t0
    return best, stats
