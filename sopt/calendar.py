"""Calendar preprocessing: shift patterns and exceptions -> the week's line-shifts.

Each candidate line-shift gets its clock window, its working intervals (less breaks and
closed time), its working minutes W, its protected minutes P = ceil(r x W) in exact
arithmetic, the protected window, the working intervals left to planned work, and how
much overtime may follow it (CONTRACT.md, "Capacity and the protected share").
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from sopt.scenario import Scenario

Interval = tuple[dt.datetime, dt.datetime]
MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class LineShift:
    """One candidate shift of one line in the horizon."""

    line: str
    shift: str  # shift id, unique per line: "2026-11-30-early"
    template: str
    date: dt.date  # the plant date the shift belongs to (the date it starts)
    start: dt.datetime
    end: dt.datetime
    working: tuple[Interval, ...]  # working intervals (breaks and closed time removed)
    closed: tuple[tuple[dt.datetime, dt.datetime, str], ...]  # closed time inside the shift
    W: int  # working minutes
    P: int  # protected minutes
    protected_start: dt.datetime | None
    protected_end: dt.datetime | None
    planned_windows: tuple[Interval, ...]  # working intervals open to planned work
    overtime_cap: int  # overtime minutes that may follow the shift's end

    @property
    def planned_capacity(self) -> int:
        """W - P: the minutes planned work may use without overtime."""
        return self.W - self.P


def protected_minutes(ratio: Decimal, working: int) -> int:
    """P = ceil(r x W), exact."""
    return math.ceil(Decimal(ratio) * Decimal(working))


T = TypeVar("T", dt.datetime, int)


def subtract(intervals: list[tuple[T, T]], cut: tuple[T, T]) -> list[tuple[T, T]]:
    """Half-open intervals less a cut (datetimes or integer minutes)."""
    out: list[tuple[T, T]] = []
    c0, c1 = cut
    for a, b in intervals:
        if c1 <= a or c0 >= b:
            out.append((a, b))
            continue
        if a < c0:
            out.append((a, c0))
        if c1 < b:
            out.append((c1, b))
    return out


def _minutes(intervals: list[Interval] | tuple[Interval, ...]) -> int:
    return sum(int((b - a) / MINUTE) for a, b in intervals)


def _take(intervals: list[Interval], minutes: int, from_end: bool) -> tuple[list[Interval], list[Interval]]:
    """Split working intervals into (the first/last `minutes` working minutes, the rest)."""
    seq = list(reversed(intervals)) if from_end else list(intervals)
    taken: list[Interval] = []
    rest: list[Interval] = []
    left = minutes
    for a, b in seq:
        length = int((b - a) / MINUTE)
        if left <= 0:
            rest.append((a, b))
        elif length <= left:
            taken.append((a, b))
            left -= length
        else:
            if from_end:
                cut = b - left * MINUTE
                taken.append((cut, b))
                rest.append((a, cut))
            else:
                cut = a + left * MINUTE
                taken.append((a, cut))
                rest.append((cut, b))
            left = 0
    if from_end:
        taken.reverse()
        rest.reverse()
    return sorted(taken), sorted(rest)


def build_shifts(scenario: Scenario) -> list[LineShift]:
    """Every candidate line-shift of the horizon, ordered by line then start time."""
    out: list[LineShift] = []
    for line in scenario.lines:
        raw: list[tuple[dt.date, str, dt.datetime, dt.datetime]] = []
        for date in scenario.dates:
            for name in line.shifts_on(date):
                t = scenario.templates[name]
                s = dt.datetime.combine(date, dt.time()) + t.start_minute * MINUTE
                raw.append((date, name, s, s + t.length * MINUTE))
        raw.sort(key=lambda x: x[2])
        closures = [c for c in scenario.closures if c.line in (None, line.id)]
        for k, (date, name, s, e) in enumerate(raw):
            t = scenario.templates[name]
            working: list[Interval] = [(s, e)]
            for off, mins in t.breaks:
                working = subtract(working, (s + off * MINUTE, s + (off + mins) * MINUTE))
            closed = []
            for c in closures:
                if c.start < e and c.end > s:
                    closed.append((max(c.start, s), min(c.end, e), c.reason))
                    working = subtract(working, (c.start, c.end))
            W = _minutes(working)
            P = protected_minutes(scenario.reserve_ratio, W)
            mode = scenario.protected_window
            if P == 0 or mode == "floating":
                prot: list[Interval] = []
                planned = working
            else:
                prot, planned = _take(working, P, from_end=(mode == "end"))
            # overtime: after the shift's end, until the next shift of the line or closed time
            limit = s + dt.timedelta(days=2)
            if k + 1 < len(raw):
                limit = min(limit, raw[k + 1][2])
            for c in closures:
                if c.end > e:
                    limit = min(limit, max(c.start, e))
            ot_cap = 0 if W == 0 else max(0, min(line.overtime_max_per_shift, int((limit - e) / MINUTE)))
            out.append(LineShift(
                line=line.id, shift=f"{date.isoformat()}-{name}", template=name, date=date, start=s, end=e,
                working=tuple(working), closed=tuple(closed), W=W, P=P,
                protected_start=prot[0][0] if prot else None, protected_end=prot[-1][1] if prot else None,
                planned_windows=tuple(planned), overtime_cap=ot_cap,
            ))
    return out


def working_between(intervals: tuple[Interval, ...] | list[Interval], a: dt.datetime, b: dt.datetime) -> int:
    """Whole minutes of the (working) intervals between clock times a and b."""
    total = 0
    for wa, wb in intervals:
        lo, hi = max(a, wa), min(b, wb)
        if lo < hi:
            total += int((hi - lo).total_seconds() // 60)
    return total


def clock_after(windows: tuple[Interval, ...] | list[Interval], start: dt.datetime, minutes: int) -> dt.datetime:
    """The clock time when `minutes` working minutes starting at `start` are done."""
    left = minutes
    for a, b in windows:
        if b <= start:
            continue
        a = max(a, start)
        length = int((b - a) / MINUTE)
        if left <= length:
            return a + left * MINUTE
        left -= length
    raise ValueError("not enough working time in the windows")
