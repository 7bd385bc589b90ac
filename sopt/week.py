"""The prepared week: everything the model builder needs, computed before it.

`prepare(scenario)` runs the preprocessing (calendar -> line-shifts, ABC classes, demand
after order consumption, min-stock targets, work in progress placed on its line) so that
the CP-SAT builder only reads plain numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from sopt.abc import classify
from sopt.calendar import LineShift, build_shifts
from sopt.demand import ProductDemand, add_step_items, build_demand
from sopt.errors import InputError
from sopt.scenario import Scenario


@dataclass(frozen=True)
class WipRun:
    """Work in progress placed first in its line's first working shift (frozen)."""

    line: str
    product: str
    quantity: int
    shift_index: int
    minutes: int


@dataclass(frozen=True)
class FixedRun:
    """A run the model may not change (frozen in a re-plan): its output, minutes and materials."""

    line: str
    product: str
    quantity: int
    shift_index: int
    minutes: int
    consumes_material: bool = True


@dataclass
class Week:
    """Preprocessed week (read-only for the model builder)."""

    scenario: Scenario
    shifts: list[LineShift]
    classes: dict[str, str]
    demand: dict[str, ProductDemand]
    wip: list[WipRun]
    day_of_shift: list[int] = field(default_factory=list)
    shifts_of_line: dict[str, list[int]] = field(default_factory=dict)
    carried: dict[int, str] = field(default_factory=dict)  # shift index -> product set up at its start
    shift_index: dict[tuple[str, str], int] = field(default_factory=dict)  # (line, shift id) -> index
    # re-planning (sopt replan): frozen runs, no new work before `open_from`, protected minutes
    # released to planned work per shift (R10), and the previous plan's quantities (nervousness)
    fixed: list[FixedRun] = field(default_factory=list)
    open_from: dt.datetime | None = None
    released: dict[int, int] = field(default_factory=dict)
    previous: dict[tuple[str, str, int], int] = field(default_factory=dict)
    frozen_runs: list = field(default_factory=list)  # sopt.plan.Run objects kept as they are
    taken_ids: set[str] = field(default_factory=set)  # run ids new runs must not reuse
    # jobs (sopt.jobs), scheduled before the plan: the line-shifts they take run no planned lots
    job_runs: list = field(default_factory=list)  # sopt.plan.Run objects of the jobs' operations
    job_shifts: set[int] = field(default_factory=set)

    def set_jobs(self, runs: list) -> None:
        """Fix the jobs' operations: their line-shifts are open and take no planned lots."""
        self.job_runs = list(runs)
        self.job_shifts = {r.shift_index for r in runs}
        # their output, material use and minutes are fixed for the plan, like frozen runs
        self.fixed = [*self.fixed, *(FixedRun(r.line, r.product, r.quantity, r.shift_index,
                                              r.setup_minutes + r.run_minutes) for r in runs)]

    def job_product_at_end(self, shift_index: int) -> str | None:
        """The product of the last job operation in a line-shift, if the jobs use it."""
        ops = [r for r in self.job_runs if r.shift_index == shift_index]
        return max(ops, key=lambda r: r.end).product if ops else None

    @property
    def days(self) -> int:
        """Number of plant dates."""
        return self.scenario.days

    def shift_is_decision(self, i: int) -> bool:
        """Opening shift i is a decision only where a shift limit or a shift cost makes it one."""
        s = self.shifts[i]
        line = self.scenario.line(s.line)
        if i in self.job_shifts:
            return False  # open: the jobs run in it
        if line.shift_cost > 0 and self.scenario.weights.shift_cost > 0:
            return True
        if line.crew > 0 and s.template in self.scenario.crew_pool:
            return True  # a limited crew pool decides which lines run this shift
        if line.max_shifts_per_day is None:
            return False
        same_day = [j for j in self.shifts_of_line[s.line] if self.shifts[j].date == s.date and self.shifts[j].W > 0]
        return len(same_day) > line.max_shifts_per_day

    def default_open(self, used: set[int]) -> set[int]:
        """Shifts a plan opens: those it uses, and those that are open by the calendar alone."""
        return set(used) | {i for i, s in enumerate(self.shifts) if s.W > 0 and not self.shift_is_decision(i)}

    def wip_minutes(self, shift_index: int) -> int:
        """Minutes of the shift taken by work in progress and frozen runs."""
        return (sum(w.minutes for w in self.wip if w.shift_index == shift_index)
                + sum(f.minutes for f in self.fixed if f.shift_index == shift_index))

    def fixed_output(self) -> list[tuple[str, int, int]]:
        """(product, shift index, quantity) of work in progress and frozen runs."""
        return ([(w.product, w.shift_index, w.quantity) for w in self.wip]
                + [(f.product, f.shift_index, f.quantity) for f in self.fixed])

    def planned_capacity(self, i: int) -> int:
        """W − P plus protected minutes released to planned work (R10)."""
        return self.shifts[i].planned_capacity + self.released.get(i, 0)

    def accepts_new_work(self, i: int) -> bool:
        """A shift takes new lots unless it started before the re-plan's `now` or runs jobs."""
        if i in self.job_shifts:
            return False
        return self.open_from is None or self.shifts[i].start >= self.open_from


def prepare(scenario: Scenario) -> Week:
    """Run every preprocessing step; raise InputError when the state cannot fit the week."""
    shifts = build_shifts(scenario)
    classes = classify(scenario)
    demand = build_demand(scenario, classes)
    add_step_items(scenario, classes, demand)
    day_of_shift = [(s.date - scenario.start).days for s in shifts]
    by_line: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(shifts):
        by_line[s.line].append(i)
    first_open = {ln: next((i for i in idx if shifts[i].W > 0), None) for ln, idx in by_line.items()}
    wip: list[WipRun] = []
    problems: list[str] = []
    fname = _fname(scenario)
    for j, w in enumerate(scenario.wip):
        i = first_open.get(w.line)
        if i is None:
            problems.append(f"{fname}: state.wip[{j}].line: line '{w.line}' has no working shift this week")
            continue
        rate = scenario.product(w.product).rates[w.line]
        minutes = math.ceil(w.quantity * rate.minutes_per_unit)
        room = shifts[i].planned_capacity + shifts[i].overtime_cap
        if minutes > room:
            problems.append(
                f"{fname}: state.wip[{j}].quantity: {minutes} minutes of work in progress do not fit "
                f"the first shift of {w.line} ({room} planned minutes)")
            continue
        wip.append(WipRun(w.line, w.product, w.quantity, i, minutes))
    if problems:
        raise InputError(problems)
    carried: dict[int, str] = {}
    for line in scenario.lines:
        i = first_open.get(line.id)
        if i is None:
            continue
        on_line = [w for w in wip if w.line == line.id]
        product = on_line[0].product if on_line else line.last_product
        if product is not None:
            carried[i] = product
    index = {(s.line, s.shift): i for i, s in enumerate(shifts)}
    return Week(scenario, shifts, classes, demand, wip, day_of_shift, dict(by_line), carried, index)


MAX_CANDIDATE_RUNS = 2_000_000  # beyond this one CP-SAT model would not fit a planner's machine


def check_size(week: Week) -> None:
    """Refuse a week whose model would be too large (InputError naming the size and the limit)."""
    working = {ln: sum(1 for i in idx if week.shifts[i].W > 0) for ln, idx in week.shifts_of_line.items()}
    n = sum(working.get(ln, 0) for p in week.scenario.products for ln in p.rates)
    if n > MAX_CANDIDATE_RUNS:
        raise InputError([f"{_fname(week.scenario)}: (top level): the week is too large for one model: {n:,} "
                          f"candidate runs (product x line x shift; limit {MAX_CANDIDATE_RUNS:,}); shorten the "
                          f"horizon or plan line groups separately"])


def _fname(scenario: Scenario) -> str:
    return scenario.source.rsplit("/", 1)[-1]


def shift_date(week: Week, shift_index: int) -> dt.date:
    """The plant date of a shift."""
    return week.shifts[shift_index].date
