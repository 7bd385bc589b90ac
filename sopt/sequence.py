"""Sequencing runs inside their shift: start and end times with no overlap on a line.

The planning stage decides quantities per line and shift; this constructive stage orders
each shift's runs (work in progress and the product the line is set up for first, then
A before B before C, then product id) and lays them out on the working minutes open to
planned work: outside breaks, closed time and the protected window. A run that does not
fit before the protected window continues after the shift's end in overtime, as a second
row without a new setup.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction

from sopt.calendar import MINUTE, Interval, clock_after
from sopt.week import Week

CLASS_RANK = {"A": 0, "B": 1, "C": 2}


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


def order_lots(week: Week, lots: list[Lot]) -> list[Lot]:
    """The constructive order inside one shift."""
    carried = week.carried.get(lots[0].shift) if lots else None

    def key(x: Lot) -> tuple:
        return (not x.wip, x.product != carried, CLASS_RANK[week.classes[x.product]], x.product)

    return sorted(lots, key=key)


def place_shift(week: Week, shift_index: int, lots: list[Lot]) -> list[Placed]:
    """Lay the shift's lots out in order; overflow goes to overtime after the shift end."""
    s = week.shifts[shift_index]
    windows: list[Interval] = list(s.planned_windows)
    out: list[Placed] = []
    cursor = windows[0][0] if windows else s.end
    regular_left = sum(int((b - a) / MINUTE) for a, b in windows)
    ot_cursor = s.end
    for lot in order_lots(week, lots):
        total = lot.setup_minutes + lot.run_minutes
        if total <= regular_left:
            end = clock_after(windows, cursor, total) if total else cursor
            start = _first_working(windows, cursor) if total else cursor
            out.append(Placed(lot, start, end, lot.quantity, lot.setup_minutes, lot.run_minutes))
            cursor, regular_left = end, regular_left - total
            continue
        mpu = Fraction(lot.run_minutes, max(1, lot.quantity))
        first_run = regular_left - lot.setup_minutes
        q1 = min(lot.quantity - 1, math.floor(first_run / mpu)) if first_run > 0 and mpu > 0 else 0
        if q1 >= 1:
            end = clock_after(windows, cursor, regular_left)
            out.append(Placed(lot, _first_working(windows, cursor), end, q1, lot.setup_minutes, first_run))
            cursor, regular_left = end, 0
            rest_q, rest_setup, rest_run = lot.quantity - q1, 0, lot.run_minutes - first_run
        else:
            rest_q, rest_setup, rest_run = lot.quantity, lot.setup_minutes, lot.run_minutes
        end = ot_cursor + (rest_setup + rest_run) * MINUTE
        out.append(Placed(lot, ot_cursor, end, rest_q, rest_setup, rest_run))
        ot_cursor = end
    return out


def _first_working(windows: list[Interval], at: dt.datetime) -> dt.datetime:
    for a, b in windows:
        if b > at:
            return max(a, at)
    return at
