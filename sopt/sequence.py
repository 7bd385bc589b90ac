"""Sequencing stage: the order of each line's runs, with start and end times.

The planning stage decides quantities per line and shift and reserves, for every run, the
longest changeover into its product (a safe upper bound). This stage orders each shift's
runs — work in progress first, then the product the line is already set up for, then the
order that minimises sequence-dependent changeovers (a CP-SAT circuit per shift, hinted
with a constructive order; A before B before C breaks ties) — and lays them out on the
working minutes open to planned work: outside breaks, closed time and the protected
window. The changeover each run really needs follows from its predecessor on the line (the
last run of the previous shift carries over), so the reserve it did not need shows up as
free time. Lines are independent and are sequenced in parallel. A run that does not fit
before the protected window continues after the shift's end in overtime, as a second row
without a new setup.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction

from ortools.sat.python import cp_model

from sopt.calendar import MINUTE, Interval, clock_after
from sopt.week import Week

CLASS_RANK = {"A": 0, "B": 1, "C": 2}
SHIFT_TIME_LIMIT = 2.0  # deterministic seconds per shift's circuit; shifts hold a handful of runs


@dataclass
class SequenceStats:
    """What the sequencing stage did (kpis.json -> sequence)."""

    status: str = "OPTIMAL"
    changeover_minutes: int = 0
    reserved_changeover_minutes: int = 0
    shifts_sequenced: int = 0
    shifts_by_search: int = 0
    seconds: float = 0.0
    not_proven: list[str] = field(default_factory=list)

    @property
    def recovered_minutes(self) -> int:
        """Changeover minutes the plan reserved but the sequence did not need."""
        return max(0, self.reserved_changeover_minutes - self.changeover_minutes)


@dataclass(frozen=True)
class Lot:
    """A quantity of one product to make on one line in one shift."""

    product: str
    line: str
    shift: int
    quantity: int
    setup_minutes: int
    run_minutes: int
    wip: bool = False


@dataclass(frozen=True)
class Placed:
    """A lot (or part of one) with its clock times."""

    lot: Lot
    start: dt.datetime
    end: dt.datetime
    quantity: int
    setup_minutes: int
    run_minutes: int


def run_minutes(quantity: int, minutes_per_unit: Fraction) -> int:
    """Whole minutes to make a quantity."""
    return math.ceil(quantity * minutes_per_unit)


def order_lots(week: Week, lots: list[Lot], prev: str | None) -> list[Lot]:
    """The constructive order inside one shift: WIP, the product set up, then A, B, C."""

    def key(x: Lot) -> tuple:
        return (not x.wip, x.product != prev, CLASS_RANK[week.classes[x.product]], x.product)

    return sorted(lots, key=key)


def sequence_plan(week: Week, lots: list[Lot]) -> tuple[list[Placed], SequenceStats]:
    """Sequence every line (in parallel) and place its runs; lots include work in progress."""
    import time

    t0 = time.perf_counter()
    by_line: dict[str, dict[int, list[Lot]]] = defaultdict(lambda: defaultdict(list))
    for lot in lots:
        if lot.quantity > 0:
            by_line[lot.line][lot.shift].append(lot)
    lines = sorted(by_line)
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(lines)))) as pool:
        results = list(pool.map(lambda ln: _sequence_line(week, ln, by_line[ln]), lines))
    stats = SequenceStats()
    placed: list[Placed] = []
    for line_placed, line_stats in results:
        placed.extend(line_placed)
        stats.changeover_minutes += line_stats.changeover_minutes
        stats.reserved_changeover_minutes += line_stats.reserved_changeover_minutes
        stats.shifts_sequenced += line_stats.shifts_sequenced
        stats.shifts_by_search += line_stats.shifts_by_search
        stats.not_proven += line_stats.not_proven
    stats.status = "OPTIMAL" if not stats.not_proven else "FEASIBLE"
    stats.seconds = round(time.perf_counter() - t0, 3)
    return placed, stats


def line_start_product(week: Week, line: str) -> str | None:
    """The product a line is set up for when the week starts (WIP, else its last product)."""
    idx = week.shifts_of_line.get(line, [])
    for i in idx:
        if i in week.carried:
            return week.carried[i]
    return week.scenario.line(line).last_product


def _sequence_line(week: Week, line: str, shifts: dict[int, list[Lot]]) -> tuple[list[Placed], SequenceStats]:
    sc = week.scenario
    stats = SequenceStats()
    prev = line_start_product(week, line)
    out: list[Placed] = []
    job_ends = sorted((week.shifts[j].start, p) for j in week.job_shifts
                      if week.shifts[j].line == line and (p := week.job_product_at_end(j)) is not None)
    week_cap = sc.line(line).overtime_max_per_week
    # overtime the line's fixed runs (a re-plan's frozen ones) already take from the weekly cap
    ot_used = sum(_overtime_minutes([(r.start, r.end)], r.shift_end) for r in [*week.frozen_runs, *week.job_runs]
                  if r.line == line)
    done_until = None
    for i in sorted(shifts, key=lambda k: week.shifts[k].start):
        for at, product in job_ends:  # a line-shift of jobs in between leaves the line set up for its last job
            if (done_until is None or at > done_until) and at < week.shifts[i].start:
                prev = product
        done_until = week.shifts[i].start
        lots = shifts[i]
        wip = [x for x in lots if x.wip]
        rest = [x for x in lots if not x.wip]
        start_prev = wip[-1].product if wip else prev
        ordered, proven, searched = _order_shift(week, line, start_prev, rest)
        stats.shifts_sequenced += 1
        stats.shifts_by_search += int(searched)
        if not proven:
            stats.not_proven.append(f"{line} {week.shifts[i].shift}")
        # lots whose setup leaves no room for a unit before the protected window can only run in
        # overtime (the model knows them too): they go last, after the planned minutes are used
        regular = week.planned_capacity(i) - week.wip_minutes(i)
        late = {lot.product for lot in ordered
                if regular - lot.setup_minutes < sc.product(lot.product).rates[line].minutes_per_unit}
        ordered = [lot for lot in ordered if lot.product not in late] + [lot for lot in ordered if lot.product in late]
        overtime_left = None if week_cap is None else week_cap - ot_used
        # an order that strands planned minutes before the protected window, so that a lot is
        # trimmed, gives way to one that does not (only then: it may change the next shift's setup)
        other = _no_stranded_minutes(week, line, i, start_prev, ordered, sum(x.run_minutes for x in wip))
        if other != ordered and sum(r.quantity for r in _laid_out(week, i, wip, start_prev, other, overtime_left)[1]) \
                > sum(r.quantity for r in _laid_out(week, i, wip, start_prev, ordered, overtime_left)[1]):
            ordered = other
        while True:
            actual, rows = _laid_out(week, i, wip, start_prev, ordered, overtime_left)
            # a lot that place_shift trims away entirely is not made: the lots after it change
            # over from the one before it, and the next shift from the last lot placed
            kept = {r.lot.product for r in rows}
            if all(lot.product in kept for lot in ordered):
                break
            ordered = [lot for lot in ordered if lot.product in kept]
        for lot, done in zip(ordered, actual[len(wip):]):
            stats.reserved_changeover_minutes += lot.setup_minutes
            stats.changeover_minutes += done.setup_minutes
        out.extend(rows)
        ot_used += _overtime_minutes([(r.start, r.end) for r in rows], week.shifts[i].end)
        if rows:
            prev = rows[-1].lot.product
    return out, stats


def _overtime_minutes(spans: list[tuple[dt.datetime, dt.datetime]], shift_end: dt.datetime) -> int:
    """Minutes of the spans after the shift's end (its overtime)."""
    return sum(int((b - max(a, shift_end)) / MINUTE) for a, b in spans if b > shift_end)


def _order_shift(week: Week, line: str, prev: str | None, lots: list[Lot]) -> tuple[list[Lot], bool, bool]:
    """(order, proven optimal, searched): the changeover-minimising order of one shift's lots."""
    base = order_lots(week, lots, prev)
    sc = week.scenario
    if len(base) <= 1 or not sc.changeovers:
        # without a changeover matrix a product's changeover does not depend on its predecessor
        return base, True, False
    n = len(base)
    m = cp_model.CpModel()
    co = {(a, b): sc.changeover(line, base[a - 1].product if a else prev, base[b - 1].product)
          for a in range(n + 1) for b in range(1, n + 1) if a != b}
    arcs = []
    lit = {}
    for (a, b), _ in co.items():
        lit[(a, b)] = m.new_bool_var(f"arc[{a},{b}]")
        arcs.append((a, b, lit[(a, b)]))
    for b in range(1, n + 1):
        lit[(b, 0)] = m.new_bool_var(f"arc[{b},0]")
        arcs.append((b, 0, lit[(b, 0)]))
    m.add_circuit(arcs)
    pos = {b: m.new_int_var(1, n, f"pos[{b}]") for b in range(1, n + 1)}
    for (a, b), v in lit.items():
        if b == 0:
            continue
        if a == 0:
            m.add(pos[b] == 1).only_enforce_if(v)
        else:
            m.add(pos[b] == pos[a] + 1).only_enforce_if(v)
    for b in range(1, n + 1):
        if base[b - 1].product == prev:
            m.add(lit[(0, b)] == 1)  # the line is set up for it: it goes first
    big = 2 * n * n + 1
    prio = {b: 2 - CLASS_RANK[week.classes[base[b - 1].product]] for b in range(1, n + 1)}
    m.minimize(big * sum(c * lit[k] for k, c in co.items()) + sum(prio[b] * pos[b] for b in pos))
    # hint: the constructive order
    chain = [0, *range(1, n + 1), 0]
    used = set(zip(chain, chain[1:]))
    for k, v in lit.items():
        m.add_hint(v, int(k in used))
    for b in pos:
        m.add_hint(pos[b], b)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    # a deterministic limit, so that the same plan is always sequenced the same way
    solver.parameters.max_deterministic_time = SHIFT_TIME_LIMIT
    solver.parameters.max_time_in_seconds = 10 * SHIFT_TIME_LIMIT
    solver.parameters.random_seed = sc.seed
    solver.parameters.catch_sigint_signal = False  # the CLI owns Ctrl-C (CP-SAT would reset the handler)
    code = solver.solve(m)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return base, False, True
    order = sorted(range(1, n + 1), key=lambda b: solver.value(pos[b]))
    return [base[b - 1] for b in order], code == cp_model.OPTIMAL, True


def _laid_out(week: Week, shift_index: int, wip: list[Lot], prev: str | None, order: list[Lot],
              overtime_left: int | None) -> tuple[list[Lot], list[Placed]]:
    """The shift's lots with the changeovers the order needs, and place_shift's layout of them."""
    sc = week.scenario
    actual: list[Lot] = list(wip)
    for lot in order:
        actual.append(replace(lot, setup_minutes=sc.changeover(lot.line, prev, lot.product)))
        prev = lot.product
    return actual, place_shift(week, shift_index, actual, overtime_left)


def _no_stranded_minutes(week: Week, line: str, shift_index: int, prev: str | None, ordered: list[Lot],
                         wip_minutes: int) -> list[Lot]:
    """The order with the fewest planned minutes stranded before the protected window.

    The lot that reaches the end of the planned minutes runs on in overtime after the shift's
    end, but only if its setup and one unit fit before the window; otherwise it goes to
    overtime whole and the planned minutes left before it are lost, though the planning model
    counted them (it pools a shift's planned and overtime minutes). The overtime then falls
    short and a lot is trimmed. So where the given order strands minutes, each lot in turn is
    tried as the one that reaches the window: the others in their order before it as far as
    they leave it room to start, the rest after it. The order that strands the fewest minutes
    wins, the given one on a tie (the changeovers stay within the longest ones the model
    charged, so the lots still fit).
    """
    sc = week.scenario
    s = week.shifts[shift_index]
    windows = s.working if week.released.get(shift_index) else s.planned_windows
    regular = sum(int((b - a) / MINUTE) for a, b in windows) - wip_minutes

    def stranded(seq: list[Lot]) -> int:
        left, p = regular, prev
        for lot in seq:
            setup = sc.changeover(line, p, lot.product)
            if setup + lot.run_minutes <= left:
                left -= setup + lot.run_minutes
                p = lot.product
                continue
            return 0 if _starts_in(left, setup, lot) else max(0, left)
        return 0

    best, waste = ordered, stranded(ordered)
    for x in range(len(ordered) - 1, -1, -1):
        if waste == 0:
            break
        last = ordered[x]
        before: list[Lot] = []
        after: list[Lot] = []
        left, p = regular, prev
        for lot in ordered[:x] + ordered[x + 1:]:
            need = sc.changeover(line, p, lot.product) + lot.run_minutes
            if not after and _starts_in(left - need, sc.changeover(line, lot.product, last.product), last):
                before.append(lot)
                left -= need
                p = lot.product
            else:
                after.append(lot)
        seq = [*before, last, *after]
        if (w := stranded(seq)) < waste:
            best, waste = seq, w
    return best


def _units_before_window(left: int, setup: int, lot: Lot) -> int:
    """Units of a lot that does not fit whole that run in the `left` planned minutes before the
    protected window, after its setup (the rest runs on in overtime): 0 when not even one does."""
    mpu = Fraction(lot.run_minutes, max(1, lot.quantity))
    first_run = left - setup
    return min(lot.quantity - 1, math.floor(first_run / mpu)) if first_run > 0 and mpu > 0 else 0


def _starts_in(left: int, setup: int, lot: Lot) -> bool:
    """Whether a lot with this setup can start in `left` planned minutes and run on in overtime."""
    return _units_before_window(left, setup, lot) >= 1


def place_shift(week: Week, shift_index: int, lots: list[Lot], overtime_left: int | None = None) -> list[Placed]:
    """Lay the shift's lots out in the given order; overflow goes to overtime after the shift end.

    Once the sequence is in overtime it stays there. Overtime stays within the shift's cap and
    `overtime_left` (what the line's weekly cap leaves; None: no weekly cap): a lot that does not
    fit is trimmed (by lot multiples, not below the minimum run) or left out.
    """
    s = week.shifts[shift_index]
    ot_cap = s.overtime_cap if overtime_left is None else max(0, min(s.overtime_cap, overtime_left))
    # protected minutes released to planned work (R10, re-plan fence) open the whole shift
    windows: list[Interval] = list(s.working if week.released.get(shift_index) else s.planned_windows)
    out: list[Placed] = []
    cursor = windows[0][0] if windows else s.end
    regular_left = sum(int((b - a) / MINUTE) for a, b in windows)
    ot_cursor = s.end
    in_overtime = False
    for lot in lots:
        ot_room = ot_cap - int((ot_cursor - s.end) / MINUTE)
        room = (0 if in_overtime else regular_left) + ot_room
        if lot.setup_minutes + lot.run_minutes > room and not lot.wip:
            q = _trimmed(week, lot, room)
            if q <= 0:
                continue
            lot = replace(lot, quantity=q, run_minutes=run_minutes(q, _rate(week, lot)))
        total = lot.setup_minutes + lot.run_minutes
        if total <= regular_left and not in_overtime:
            end = clock_after(windows, cursor, total) if total else cursor
            start = _first_working(windows, cursor) if total else cursor
            out.append(Placed(lot, start, end, lot.quantity, lot.setup_minutes, lot.run_minutes))
            cursor, regular_left = end, regular_left - total
            continue
        first_run = regular_left - lot.setup_minutes
        q1 = _units_before_window(regular_left, lot.setup_minutes, lot)
        if q1 >= 1 and not in_overtime:  # once the sequence is in overtime it stays there (its setups follow the order)
            end = clock_after(windows, cursor, regular_left)
            out.append(Placed(lot, _first_working(windows, cursor), end, q1, lot.setup_minutes, first_run))
            cursor, regular_left = end, 0
            rest_q, rest_setup, rest_run = lot.quantity - q1, 0, lot.run_minutes - first_run
        else:
            # not even one unit fits before the protected window: the whole lot goes to overtime,
            # trimmed (by lot multiples, not below the minimum run) to the overtime left
            rest_q, rest_setup, rest_run = lot.quantity, lot.setup_minutes, lot.run_minutes
            if rest_setup + rest_run > ot_room and not lot.wip:
                rest_q = _trimmed(week, lot, ot_room)
                if rest_q <= 0:
                    continue
                rest_run = run_minutes(rest_q, _rate(week, lot))
                lot = replace(lot, quantity=rest_q, run_minutes=rest_run)
        end = ot_cursor + (rest_setup + rest_run) * MINUTE
        out.append(Placed(lot, ot_cursor, end, rest_q, rest_setup, rest_run))
        ot_cursor, in_overtime = end, True
    return out


def _rate(week: Week, lot: Lot) -> Fraction:
    """Minutes per unit of the lot's product on its line."""
    return week.scenario.product(lot.product).rates[lot.line].minutes_per_unit


def _trimmed(week: Week, lot: Lot, room: int) -> int:
    """The largest quantity of a lot that fits `room` minutes with its setup, per the lot rules."""
    p = week.scenario.product(lot.product)
    mpu = _rate(week, lot)
    q = math.floor((room - lot.setup_minutes) / mpu) if room > lot.setup_minutes else 0
    q = min(q, lot.quantity) // p.multiple * p.multiple
    return q if q >= max(1, p.min_run) else 0


def _first_working(windows: list[Interval], at: dt.datetime) -> dt.datetime:
    for a, b in windows:
        if b > at:
            return max(a, at)
    return at
