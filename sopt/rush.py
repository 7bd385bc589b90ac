"""Rush orders (R8–R11): the stream, the protected-capacity ledger, and the simulation.

The stream (`RushStream`, `stream_for`)
---------------------------------------
- `sample_week(scenario, seed)` is deterministic for (stream, seed) (`random.Random(seed)`).
  For every plant date of the horizon the number of arrivals is Poisson(`rate_per_day`)
  (Knuth's product-of-uniforms method; for rates above 30 a day the date is split into
  equal sub-rates so it never underflows), each arrival at a whole minute drawn uniformly
  in that date's 06:00–22:00. The product is drawn by `weights`, the quantity uniformly in
  [min, max] and rounded half-up to the multiple (at least one multiple), and the order is
  due `lead_time_days` (exact, may be fractional) after its arrival. The week's orders come
  sorted by arrival with ids `R-<seed>-<n>`, n = 1, 2, ... in that order.
- When `empirical` is set (a stream fitted wholly from a history CSV) each arrival
  resamples a (product, quantity, lead days) triple of the history instead. The history is
  date-granular (received on d, due on D: wanted by the end of D), so a resampled order is
  due at midnight ending the date `arrival.date() + lead days`.
- `stream_for(scenario)`: None without a `rush_orders:` block. Fitted from the history:
  rate = orders ÷ days spanned (last received − first received + 1); product weights =
  history counts; quantity (min, max) from the history, multiple = the gcd of the history
  quantities; lead time = mean(due − received) in days. Fields the scenario gives override
  the fitted ones. The history triples are resampled (`empirical`) only when the scenario
  leaves products, classes, quantity and lead time all to the history (`rate_per_day` may
  still be given); otherwise the stream is parametric with the fitted values for the rest.
  Products: the `products` list when given, else the history's products, else the A and B
  products of the plan's ABC classes; `classes` keeps only products of those classes (when
  that leaves none from the list/history, all products of those classes). Weights: the
  history's counts when the products come from the history, else forecast units over the
  horizon + 1 (no zero weight).

The ledger (`Ledger`)
---------------------
- Free time: per OPEN line-shift (capacity row `open == 1`) with P > 0, the protected
  window = the shift's working intervals (breaks and closed time removed) intersected with
  [protected_start, protected_end] — the last (or first) P working minutes. With
  `policy.protected_window: floating` there is no fixed window: for rush purposes it is the
  last P working minutes of the shift. Any clock time a planned run (or work in progress)
  occupies inside the window is taken out as well (a plan never puts planned work there
  unless released, so normally nothing is). `free[(line, shift_index)]` lists the free
  clock intervals; inside the ledger they are integer working-minute offsets from the
  window's start, so "contiguous" means contiguous in working minutes: an order may pause
  over a break or closed time inside the window, never over minutes another order took.
- Materials: on hand over time = opening stock, + receipts at their time, − the plan's
  consumption (per-unit × quantity of every non-WIP run) at its shift's start, − the rush
  orders committed so far at their start. A receipt at τ is usable by an order starting at
  or after τ.
- `place(order)`: eligible lines = the lines the product runs on. On each, the order takes
  `setup_bound(line, product) + ceil(quantity × minutes_per_unit)` working minutes (the
  longest changeover into it: the line's predecessor is not known in advance). Going
  through that line's windows in time order (those ending after the arrival), it starts at
  the earliest minute ≥ max(arrival, window start, material time) at which its minutes fit
  contiguously in the free minutes of ONE window; the material time is the earliest time t
  from which every material's projected on hand stays ≥ the order's need at all times ≥ t
  (to the end of the horizon and beyond: later receipts count, nothing more is consumed).
  Over the lines, the earliest end wins (ties: the earlier start, then the scenario's line
  order). Not placed: reason "no eligible line" (the product runs on no line), "calendar"
  (no open shift with working time ends after the arrival on an eligible line), "material"
  (it would fit in the free protected minutes, but not with the material on hand),
  "capacity" (it fits no window's free minutes; at r = 0 there are none: R9).
  `on_time` = placed and end ≤ due. `minutes` of an order not placed: its fewest minutes
  over the eligible lines. With `commit` the minutes and the material are booked.
- Changeover after a rush order: the committed run that follows a rush order on its line
  (the next run starting at or after the order's end, unless a booked rush order comes
  first) now changes over from the order's product. When that changeover is longer than its
  setup minutes, the difference is added to its setup and it and the later runs of its shift
  move later (`sopt.promise.accept`). So a window qualifies only when that shift has the
  room: the extra minutes, summed over the shift's runs so extended, stay within its
  W − P + overtime − planned minutes and within the working minutes between the run's start
  and the shift's protected window (or its end) that its shift's runs from it on leave free.
  A shift with released minutes has no such room. Rush runs in the plan never need it:
  each carries the longest changeover into its product.
- `unused_protected_minutes()`: the free protected minutes left (R10).

R11 (`rule_date`)
-----------------
Per eligible line: load = setup + run minutes of the plan's runs on that line that end
after `now` (work in progress included) + the new order's minutes (setup bound + run);
daily capacity = Σ (W − P) of the line's open shifts ÷ the horizon's dates (a line with
none is skipped); promise = now + load ÷ daily capacity days (exact, rounded up to the
second). The earliest date over the lines; None when no eligible line has capacity. It
reads the plan only (rush orders taken earlier live in the protected share, not in W − P).

Simulation (`simulate`)
-----------------------
Week w (0 ≤ w < weeks) samples `stream.sample_week(scenario, seed * 1_000_003 + w)`,
sorts it by arrival (then id) and places the orders first come first served in a fresh
copy of the plan's ledger. Per week: fill rate = on-time orders ÷ orders (1.0 for a week
without orders) and the unused protected minutes; per placed order the quoted lead time
(end − arrival, hours); totals of orders, placed and on-time ones, and the reasons of the
orders not placed.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from sopt.calendar import subtract, working_between
from sopt.plan import Plan
from sopt.scenario import Scenario

MINUTE = dt.timedelta(minutes=1)
DAY_FROM, DAY_TO = 6 * 60, 22 * 60  # arrivals fall in 06:00-22:00 of their plant date
SEED_STRIDE = 1_000_003  # week w of a simulation with seed s samples seed s * SEED_STRIDE + w
_KNUTH_MAX = 30.0  # Poisson rates above this are split into equal parts (exp(-rate) underflow)


@dataclass(frozen=True)
class RushOrder:
    """One rush order: product, quantity, when it arrives and when it is wanted."""

    id: str
    product: str
    quantity: int
    arrival: dt.datetime
    due: dt.datetime  # requested completion (end of the requested date's last shift is fine too)


def _poisson(rng: random.Random, rate: float) -> int:
    """A Poisson(rate) draw by Knuth's method (rates above 30 summed from equal parts)."""
    if rate <= 0:
        return 0
    parts = max(1, math.ceil(rate / _KNUTH_MAX))
    limit = math.exp(-rate / parts)
    n = 0
    for _ in range(parts):
        p = rng.random()
        while p > limit:
            n += 1
            p *= rng.random()
    return n


@dataclass(frozen=True)
class RushStream:
    """A seeded generator of rush orders for one week."""

    rate_per_day: float
    products: tuple[str, ...]
    weights: tuple[float, ...]
    quantity: tuple[int, int, int]  # min, max, multiple
    lead_time_days: float
    empirical: tuple[tuple[str, int, float], ...] = ()
    # (horizon day, from minute, to minute after midnight): when orders arrive; None: every day 06-22
    arrival_days: tuple[tuple[int, int, int], ...] | None = None  # (product, quantity, lead days) to resample, when fitted

    def sample_week(self, scenario: Scenario, seed: int) -> list[RushOrder]:
        """Rush orders arriving during the horizon (Poisson per plant day, times uniform in the day)."""
        rng = random.Random(seed)
        qmin, qmax, mult = self.quantity
        mult = max(1, mult)
        lead = dt.timedelta(days=self.lead_time_days)
        cum = None if self.empirical or not self.products else list(_accumulate(self.weights))
        drawn: list[tuple[dt.datetime, str, int, dt.datetime]] = []
        spans = self.arrival_days or tuple((d, DAY_FROM, DAY_TO) for d in range(len(scenario.dates)))
        for day, t_from, t_to in spans:
            midnight = dt.datetime.combine(scenario.dates[day], dt.time())
            for _ in range(_poisson(rng, self.rate_per_day)):
                arrival = midnight + rng.randrange(t_from, max(t_from + 1, t_to)) * MINUTE
                if self.empirical:
                    product, qty, days = rng.choice(self.empirical)
                    due_date = arrival.date() + dt.timedelta(days=math.floor(days))
                    due = dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time())
                elif cum is not None:
                    product = rng.choices(self.products, cum_weights=cum)[0]
                    q = rng.randint(qmin, max(qmin, qmax))
                    qty = max(mult, (q + mult // 2) // mult * mult)
                    due = arrival + lead
                else:
                    continue
                drawn.append((arrival, product, qty, due))
        drawn.sort(key=lambda d: d[0])  # stable: ties keep the order drawn
        return [RushOrder(f"R-{seed}-{n}", p, q, a, d) for n, (a, p, q, d) in enumerate(drawn, 1)]


def _accumulate(weights: tuple[float, ...]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += max(0.0, float(w))
        out.append(total)
    if total <= 0:  # all weights zero: uniform
        out = [float(i + 1) for i in range(len(weights))]
    return out


def stream_for(scenario: Scenario) -> RushStream | None:
    """The scenario's rush stream (None when it describes none).

    Rush orders arrive on working days only (plant dates with a working shift on some line),
    during that day's working span (first shift start to last shift end, within the date):
    sales takes orders while the plant works.
    """
    stream = _stream_for(scenario)
    if stream is None:
        return None
    from sopt.week import prepare

    week = prepare(scenario)
    span: dict[int, tuple[int, int]] = {}
    for i, s in enumerate(week.shifts):
        if s.W == 0:
            continue
        day = week.day_of_shift[i]
        midnight = dt.datetime.combine(s.date, dt.time())
        a = int((s.start - midnight).total_seconds() // 60)
        b = min(24 * 60, int((s.end - midnight).total_seconds() // 60))
        lo, hi = span.get(day, (a, b))
        span[day] = (min(lo, a), max(hi, b))
    return dataclasses.replace(stream, arrival_days=tuple((d, a, b) for d, (a, b) in sorted(span.items())))


def _stream_for(scenario: Scenario) -> RushStream | None:
    spec = scenario.rush
    if spec is None:
        return None
    hist = spec.history
    # rate
    if spec.rate_per_day is not None:
        rate = float(spec.rate_per_day)
    elif hist:
        received = [h[0] for h in hist]
        rate = len(hist) / ((max(received) - min(received)).days + 1)
    else:
        rate = 0.0
    # quantity
    if spec.quantity is not None:
        quantity = spec.quantity
    elif hist:
        qs = [h[2] for h in hist]
        quantity = (min(qs), max(qs), math.gcd(*qs))
    else:
        quantity = (1, 1, 1)
    # lead time
    if spec.lead_time_days is not None:
        lead = float(spec.lead_time_days)
    elif hist:
        lead = sum((h[3] - h[0]).days for h in hist) / len(hist)
    else:
        lead = 0.0
    # products and weights
    fc = {p.id: sum(scenario.forecast.get(p.id, ())) for p in scenario.products}
    classes: dict[str, str] | None = None

    def plan_classes() -> dict[str, str]:
        nonlocal classes
        if classes is None:
            from sopt.week import prepare

            classes = prepare(scenario).classes
        return classes

    counts = Counter(h[1] for h in hist)
    if spec.products:
        chosen = list(dict.fromkeys(spec.products))
        weigh: dict[str, float] = {p: fc.get(p, 0) + 1.0 for p in chosen}
    elif hist:
        chosen = sorted(counts)
        weigh = {p: float(counts[p]) for p in chosen}
    else:
        chosen = [p.id for p in scenario.products if plan_classes()[p.id] in ("A", "B") and not p.multi_step]
        weigh = {p: fc[p] + 1.0 for p in chosen}
    if spec.classes:
        keep = set(spec.classes)
        chosen = [p for p in chosen if plan_classes()[p] in keep]
        if not chosen:
            chosen = [p.id for p in scenario.products if plan_classes()[p.id] in keep and not p.multi_step]
            weigh = {p: fc[p] + 1.0 for p in chosen}
    empirical: tuple[tuple[str, int, float], ...] = ()
    if hist and spec.products is None and spec.classes is None and spec.quantity is None \
            and spec.lead_time_days is None:
        empirical = tuple((h[1], h[2], float((h[3] - h[0]).days)) for h in hist)
    return RushStream(rate, tuple(chosen), tuple(weigh[p] for p in chosen), quantity, lead, empirical)


@dataclass(frozen=True)
class Placement:
    """Where a rush order went, or why it did not."""

    order: RushOrder
    line: str | None  # None: not placed in the horizon's protected windows
    shift: str | None
    start: dt.datetime | None
    end: dt.datetime | None
    minutes: int  # changeover + run minutes it takes
    on_time: bool  # placed and end <= due
    rule_date: dt.date | None  # R11's date, reported beside it
    reason: str  # "" when placed; else "capacity" | "material" | "calendar" | "no eligible line"
    shift_index: int | None = None  # index into plan.week.shifts of the shift it went to


# ----------------------------------------------------------------------------- internals


class _Window:
    """The protected window of one open line-shift, in integer minutes from the horizon start."""

    __slots__ = ("line", "shift_index", "shift", "shift_start", "shift_end", "segs", "cum", "total",
                 "start", "end")

    def __init__(self, line: str, shift_index: int, shift: str, shift_start: int, shift_end: int,
                 segs: list[tuple[int, int]]) -> None:
        self.line = line
        self.shift_index = shift_index
        self.shift = shift
        self.shift_start = shift_start
        self.shift_end = shift_end
        self.segs = segs  # working intervals of the window (clock minutes), sorted
        self.cum: list[int] = []  # working-minute offset at each segment's start
        off = 0
        for a, b in segs:
            self.cum.append(off)
            off += b - a
        self.total = off
        self.start = segs[0][0] if segs else shift_end
        self.end = segs[-1][1] if segs else shift_end

    def offset_at(self, t: int) -> int:
        """Working-minute offset of the first working minute at or after clock minute t."""
        for (a, b), c in zip(self.segs, self.cum):
            if t < b:
                return c + max(0, t - a)
        return self.total

    def clock_start(self, o: int) -> int:
        """Clock minute at which working offset o begins."""
        for (a, b), c in zip(self.segs, self.cum):
            if o < c + (b - a):
                return a + (o - c)
        return self.end

    def clock_end(self, o: int) -> int:
        """Clock minute at which working offset o is reached (end of the minute before it)."""
        for (a, b), c in zip(self.segs, self.cum):
            if o <= c + (b - a):
                return a + max(0, o - c)
        return self.end

    def offsets(self, a: int, b: int) -> tuple[int, int]:
        """The working-offset span of the clock interval [a, b)."""
        return self.offset_at(a), self.offset_at(b)


def _subtract_span(free: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    return free if b <= a else subtract(free, (a, b))


class _Follower:
    """A committed run that a rush order may come to precede (its changeover then changes)."""

    __slots__ = ("key", "start", "product", "setup", "shift_index", "push")

    def __init__(self, key: int, start: int, product: str, setup: int | None, shift_index: int,
                 push: int) -> None:
        self.key = key
        self.start = start  # clock minute
        self.product = product
        self.setup = setup  # None for a rush run: its setup covers any changeover into it
        self.shift_index = shift_index
        self.push = push  # working minutes it and the runs after it in its shift can move later


class _Stock:
    """Projected on hand of one material (integers in units of 1/scale): levels between events
    and their suffix minima."""

    __slots__ = ("times", "levels", "sufmin")

    def __init__(self, opening: int, events: list[tuple[int, int]]) -> None:
        events = sorted(events, key=lambda e: e[0])
        self.times = [t for t, _ in events]
        self.levels = [opening]
        for _, d in events:
            self.levels.append(self.levels[-1] + d)
        self._suffix()

    def _suffix(self) -> None:
        sm = list(self.levels)
        for i in range(len(sm) - 2, -1, -1):
            if sm[i + 1] < sm[i]:
                sm[i] = sm[i + 1]
        self.sufmin = sm

    def earliest(self, need: int) -> float | None:
        """The earliest time from which on hand stays >= need (-inf: always; None: never)."""
        j = bisect.bisect_left(self.sufmin, need)
        if j >= len(self.sufmin):
            return None
        return -math.inf if j == 0 else self.times[j - 1]

    def book(self, t: int, need: int) -> None:
        """Consume `need` at time t (after the events at the same time)."""
        j = bisect.bisect_right(self.times, t)
        self.times.insert(j, t)
        levels = self.levels
        levels.insert(j + 1, levels[j])
        for k in range(j + 1, len(levels)):
            levels[k] -= need
        self._suffix()

    def copy(self) -> _Stock:
        new = _Stock.__new__(_Stock)
        new.times = list(self.times)
        new.levels = list(self.levels)
        new.sufmin = list(self.sufmin)
        return new


class _RuleIndex:
    """R11 per line: run ends with suffix sums of their minutes, and planned capacity per day."""

    def __init__(self, plan: Plan) -> None:
        sc = plan.week.scenario
        self.t0 = sc.start_time
        runs: dict[str, list[tuple[int, int]]] = {ln.id: [] for ln in sc.lines}
        for r in plan.runs:
            runs.setdefault(r.line, []).append((_mins(r.end, self.t0), r.setup_minutes + r.run_minutes))
        cap: dict[str, int] = Counter()
        for row, s in zip(plan.capacity, plan.week.shifts):
            if row.get("open", 1) and row["available_minutes"] > 0:
                cap[s.line] += row["available_minutes"] - row["protected_minutes"]
        self.ends: dict[str, list[int]] = {}
        self.suffix: dict[str, list[int]] = {}
        self.cap: dict[str, int] = {}  # W - P over the line's open shifts of the horizon
        self.days = sc.days
        for ln, rows in runs.items():
            rows.sort()
            self.ends[ln] = [e for e, _ in rows]
            suf = [0] * (len(rows) + 1)
            for i in range(len(rows) - 1, -1, -1):
                suf[i] = suf[i + 1] + rows[i][1]
            self.suffix[ln] = suf
            if cap.get(ln, 0) > 0:
                self.cap[ln] = cap[ln]

    def date(self, now: dt.datetime, minutes_on: list[tuple[str, int]]) -> dt.date | None:
        """Earliest R11 date over (line, minutes of the new order on it)."""
        delta = now - self.t0
        now_s = delta.days * 86400 + delta.seconds
        best: int | None = None
        for ln, new in minutes_on:
            cap = self.cap.get(ln)
            if cap is None:
                continue
            ends = self.ends.get(ln, [])
            i = bisect.bisect_right(ends, now_s // 60)  # runs that end after `now`
            load = self.suffix[ln][i] + new if ln in self.suffix else new
            secs = now_s - (-load * 86400 * self.days // cap)  # now + load / (cap / days) days
            if best is None or secs < best:
                best = secs
        if best is None:
            return None
        return self.t0.date() + dt.timedelta(days=best // 86400)


def _mins(t: dt.datetime, t0: dt.datetime) -> int:
    d = t - t0
    return d.days * 1440 + d.seconds // 60


# ----------------------------------------------------------------------------- the ledger


@dataclass
class Ledger:
    """Free protected minutes per line-shift and material on hand over time, for one plan."""

    plan: Plan
    free: dict[tuple[str, int], list[tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._t0 = self.plan.week.scenario.start_time
        self._windows: dict[tuple[str, int], _Window] = {}
        self._by_line: dict[str, list[_Window]] = {}
        self._ends: dict[str, list[int]] = {}
        self._shift_ends: dict[str, int] = {}
        self._free: dict[tuple[str, int], list[tuple[int, int]]] = {}
        self._stock: dict[str, _Stock] = {}
        self._per_product: dict[str, list[tuple[str, int, int, int]]] = {}
        self._materials: dict[str, list[tuple[str, int]]] = {}  # per unit, in 1/scale
        self._rules: _RuleIndex | None = None
        # changeovers after a rush order (see "Changeover after a rush order" in the docstring)
        self._fstarts: dict[str, list[int]] = {}
        self._followers: dict[str, list[_Follower]] = {}
        self._booked: dict[str, list[int]] = {}  # rush starts booked per line; replaced, never mutated
        self._room: dict[int, int] = {}  # per open shift without released minutes: W - P + overtime - planned
        self._extra: dict[int, int] = {}  # follower key -> extra changeover minutes booked
        self._used: dict[int, int] = {}  # per shift: extra changeover minutes booked
        self._pmin: dict[int, int] = {}  # per shift: the least push room of its extended runs

    @classmethod
    def from_plan(cls, plan: Plan) -> Ledger:
        """The ledger of a plan with no rush order placed yet."""
        led = cls(plan)
        week = plan.week
        sc = week.scenario
        t0 = led._t0
        occupied: dict[int, list[tuple[int, int]]] = {}
        for r in plan.runs:
            occupied.setdefault(r.shift_index, []).append((_mins(r.start, t0), _mins(r.end, t0)))
        for i, (s, row) in enumerate(zip(week.shifts, plan.capacity)):
            if s.W > 0 and row.get("open", 1):
                led._shift_ends[s.line] = max(led._shift_ends.get(s.line, -10**9), _mins(s.end, t0))
            if not row.get("open", 1) or s.W <= 0 or s.P <= 0:
                continue
            working = [(_mins(a, t0), _mins(b, t0)) for a, b in s.working]
            if sc.protected_window == "floating" or s.protected_start is None or s.protected_end is None:
                segs = _last_minutes(working, s.P)
            else:
                ps, pe = _mins(s.protected_start, t0), _mins(s.protected_end, t0)
                segs = [(max(a, ps), min(b, pe)) for a, b in working if a < pe and b > ps]
            if not segs:
                continue
            win = _Window(s.line, i, s.shift, _mins(s.start, t0), _mins(s.end, t0), segs)
            free = [(0, win.total)]
            for a, b in occupied.get(i, ()):
                oa, ob = win.offsets(a, b)
                free = _subtract_span(free, oa, ob)
            led._windows[(s.line, i)] = win
            led._by_line.setdefault(s.line, []).append(win)
            led._free[(s.line, i)] = free
            led._sync(s.line, i)
        for ln, wins in led._by_line.items():
            wins.sort(key=lambda w: w.start)
            led._ends[ln] = [w.end for w in wins]
        # materials: opening stock, receipts at their time, the plan's use at its shifts' starts;
        # exact, as integers in 1/scale of the material's unit (scale: lcm of all denominators)
        scale: dict[str, int] = {}
        for m in sc.materials:
            scale[m.id] = math.lcm(Fraction(m.opening_stock).denominator,
                                   *(Fraction(q).denominator for _, q in m.receipts))
        for p in sc.items:
            for mat, per in p.materials.items():
                scale[mat] = math.lcm(scale.get(mat, 1), per.denominator)
        events: dict[str, list[tuple[int, int]]] = {m.id: [] for m in sc.materials}
        for m in sc.materials:
            events[m.id].extend((_mins(at, t0), int(Fraction(q) * scale[m.id])) for at, q in m.receipts)
        for r in plan.runs:
            if r.run_id.startswith("WIP-"):
                continue
            for mat, per in sc.product(r.product).materials.items():
                events[mat].append((_mins(r.shift_start, t0), -int(per * scale[mat]) * r.quantity))
        for mat, evs in events.items():
            led._stock[mat] = _Stock(int(Fraction(sc.material(mat).opening_stock) * scale[mat]), evs)
        for p in sc.products:
            led._per_product[p.id] = [
                (ln.id, sc.setup_bound(ln.id, p.id), rate.minutes_per_unit.numerator,
                 rate.minutes_per_unit.denominator)
                for ln in sc.lines if (rate := p.rates.get(ln.id)) is not None]
            led._materials[p.id] = sorted((mat, int(per * scale[mat])) for mat, per in p.materials.items())
        led._index_followers()
        return led

    def _index_followers(self) -> None:
        """Per line, the committed runs in time order with the room their shift has to absorb
        a longer changeover: the working minutes from the run's start to the shift's protected
        window (or its end), less the minutes of the shift's runs from it on."""
        week = self.plan.week
        t0 = self._t0
        by_shift: dict[int, list[int]] = {}
        for k, r in enumerate(self.plan.runs):
            if not r.run_id.startswith("WIP-") and r.kind != "rush":
                by_shift.setdefault(r.shift_index, []).append(k)
        for i, row in enumerate(self.plan.capacity):
            if row.get("open", 1) and not row.get("released_minutes", 0):
                self._room[i] = (row["available_minutes"] - row["protected_minutes"]
                                 + row.get("overtime_minutes", 0) - row["planned_minutes"])
        rows: dict[str, list[_Follower]] = {}
        for k, r in enumerate(self.plan.runs):
            if r.run_id.startswith("WIP-"):
                continue
            push = 0
            if r.kind != "rush":
                s = week.shifts[r.shift_index]
                win = self._windows.get((r.line, r.shift_index))
                w_start = t0 + win.start * MINUTE if win is not None else s.end
                limit = w_start if w_start >= r.end else s.end
                later = [self.plan.runs[j] for j in by_shift.get(r.shift_index, ())
                         if self.plan.runs[j].line == r.line and self.plan.runs[j].start >= r.start]
                if all(q.end <= limit for q in later):
                    push = max(0, working_between(s.working, r.start, limit)
                               - sum(working_between(s.working, q.start, q.end) for q in later))
            rows.setdefault(r.line, []).append(_Follower(
                k, _mins(r.start, t0), r.product, None if r.kind == "rush" else r.setup_minutes,
                r.shift_index, push))
        for line, fs in rows.items():
            fs.sort(key=lambda f: (f.start, f.key))
            self._followers[line] = fs
            self._fstarts[line] = [f.start for f in fs]

    def _after(self, line: str, product: str, end: int) -> tuple[_Follower | None, int, bool]:
        """The committed run a rush order ending at clock minute `end` would precede, the extra
        changeover minutes it would then need in all, and whether its shift has the room."""
        starts = self._fstarts.get(line, [])
        j = bisect.bisect_left(starts, end)
        if j == len(starts):
            return None, 0, True
        f = self._followers[line][j]
        booked = self._booked.get(line, [])
        b = bisect.bisect_left(booked, end)
        if f.setup is None or (b < len(booked) and booked[b] <= f.start):
            return None, 0, True  # a rush run comes first: it carries the longest changeover into it
        need = self.plan.week.scenario.changeover(line, product, f.product) - f.setup
        have = self._extra.get(f.key, 0)
        if need <= have:
            return f, have, True
        i = f.shift_index
        room = min(self._room.get(i, 0), f.push, self._pmin.get(i, f.push))
        return f, need, self._used.get(i, 0) + need - have <= room

    def copy(self) -> Ledger:
        """An independent copy (the plan and the fixed structure shared): a fresh week's start."""
        new = Ledger.__new__(Ledger)
        new.plan = self.plan
        new.free = dict(self.free)
        new._t0 = self._t0
        new._windows = self._windows
        new._by_line = self._by_line
        new._ends = self._ends
        new._shift_ends = self._shift_ends
        new._free = dict(self._free)  # lists are replaced, never mutated in place
        new._stock = {m: s.copy() for m, s in self._stock.items()}
        new._per_product = self._per_product
        new._materials = self._materials
        new._rules = self._rules
        new._fstarts = self._fstarts
        new._followers = self._followers
        new._booked = dict(self._booked)
        new._room = self._room
        new._extra = dict(self._extra)
        new._used = dict(self._used)
        new._pmin = dict(self._pmin)
        return new

    def __deepcopy__(self, memo: dict[int, object]) -> Ledger:
        return self.copy()

    def _sync(self, line: str, i: int) -> None:
        win = self._windows[(line, i)]
        t0 = self._t0
        out: list[tuple[dt.datetime, dt.datetime]] = []
        for a, b in self._free[(line, i)]:
            # split the working-offset span at breaks: the clock intervals it covers
            for (sa, sb), c in zip(win.segs, win.cum):
                lo, hi = max(a, c), min(b, c + sb - sa)
                if lo < hi:
                    out.append((t0 + (sa + lo - c) * MINUTE, t0 + (sa + hi - c) * MINUTE))
        self.free[(line, i)] = out

    def _fit(self, line: str, lower: float, minutes: int, product: str) -> tuple[_Window, int] | None:
        """The first window of the line (in time) where `minutes` fit at or after `lower` and
        the run after it can take the changeover from `product`."""
        wins = self._by_line.get(line)
        if not wins:
            return None
        k = bisect.bisect_right(self._ends[line], lower)
        free_all = self._free
        for w in wins[k:]:
            off = 0 if lower <= w.start else w.offset_at(math.ceil(lower))
            for a, b in free_all[(line, w.shift_index)]:
                s = a if a > off else off
                if b - s >= minutes:
                    end = w.clock_end(s + minutes) if minutes else w.clock_start(s)
                    if self._after(line, product, end)[2]:
                        return w, s
        return None

    def _need(self, product: str, quantity: int) -> tuple[list[tuple[str, int]], float | None]:
        """Material needs and the earliest time they are all met (None: never)."""
        needs = [(m, per * quantity) for m, per in self._materials.get(product, ())]
        t: float = -math.inf
        for m, need in needs:
            e = self._stock[m].earliest(need)
            if e is None:
                return needs, None
            t = max(t, e)
        return needs, t

    def rules(self) -> _RuleIndex:
        if self._rules is None:
            self._rules = _RuleIndex(self.plan)
        return self._rules

    def place(self, order: RushOrder, *, commit: bool = True) -> Placement:
        """Place an order at its earliest feasible time (and book it when `commit`)."""
        lines = self._per_product.get(order.product, [])
        q = order.quantity
        minutes_on = [(ln, setup + -(-q * num // den)) for ln, setup, num, den in lines]
        rule = self.rules().date(order.arrival, minutes_on) if minutes_on else None
        if not minutes_on:
            return Placement(order, None, None, None, None, 0, False, None, "no eligible line")
        arrival = _mins(order.arrival, self._t0) + (1 if order.arrival.second or order.arrival.microsecond else 0)
        needs, mat_time = self._need(order.product, q)
        best: tuple[int, int, int, _Window, int, int] | None = None  # end, start, line rank, window, offset, minutes
        if mat_time is not None:
            lower = max(arrival, mat_time)
            for rank, (ln, m) in enumerate(minutes_on):
                got = self._fit(ln, lower, m, order.product)
                if got is None:
                    continue
                w, off = got
                start, end = w.clock_start(off), w.clock_end(off + m)
                if m == 0:
                    end = start
                key = (end, start, rank, w, off, m)
                if best is None or key[:3] < best[:3]:
                    best = key
        if best is None:
            if not any(self._shift_ends.get(ln, -1) > arrival for ln, _ in minutes_on):
                reason = "calendar"
            elif mat_time is not None and mat_time <= arrival:
                reason = "capacity"  # the material was there: no window had room
            else:  # would it fit without the material constraint?
                reason = "material" if any(self._fit(ln, arrival, m, order.product) for ln, m in minutes_on) \
                    else "capacity"
            return Placement(order, None, None, None, None, min(m for _, m in minutes_on), False, rule, reason)
        end, start, _, w, off, m = best
        t0 = self._t0
        start_t, end_t = t0 + start * MINUTE, t0 + end * MINUTE
        if commit:
            key = (w.line, w.shift_index)
            self._free[key] = _subtract_span(self._free[key], off, off + m)
            self._sync(w.line, w.shift_index)
            for mat, need in needs:
                self._stock[mat].book(start, need)
            f, extra, _ = self._after(w.line, order.product, end)
            if f is not None and extra > self._extra.get(f.key, 0):
                i = f.shift_index
                self._used[i] = self._used.get(i, 0) + extra - self._extra.get(f.key, 0)
                self._pmin[i] = min(self._pmin.get(i, f.push), f.push)
                self._extra[f.key] = extra
            self._booked[w.line] = sorted([*self._booked.get(w.line, []), start])
        return Placement(order, w.line, w.shift, start_t, end_t, m, end_t <= order.due, rule, "",
                         w.shift_index)

    def unused_protected_minutes(self) -> int:
        """Protected minutes no rush order took."""
        return sum(b - a for spans in self._free.values() for a, b in spans)


def _last_minutes(working: list[tuple[int, int]], minutes: int) -> list[tuple[int, int]]:
    """The last `minutes` working minutes of sorted intervals."""
    out: list[tuple[int, int]] = []
    left = minutes
    for a, b in reversed(working):
        if left <= 0:
            break
        take = min(left, b - a)
        out.append((b - take, b))
        left -= take
    return out[::-1]


def rule_date(plan: Plan, product: str, quantity: int, now: dt.datetime) -> dt.date | None:
    """R11: today + (load of confirmed orders + load of the new order) / (capacity − protected capacity)."""
    sc = plan.week.scenario
    p = sc.product(product)
    minutes_on = [(ln.id, sc.setup_bound(ln.id, product) + math.ceil(quantity * rate.minutes_per_unit))
                  for ln in sc.lines if (rate := p.rates.get(ln.id)) is not None]
    return _RuleIndex(plan).date(now, minutes_on)


@dataclass
class Simulation:
    """Rush-order outcomes of many simulated weeks against one plan."""

    weeks: int
    orders: int
    fill_rates: list[float]  # per simulated week: on-time orders ÷ orders (1.0 without orders)
    quoted_lead_hours: list[float]  # per placed order: end - arrival, in hours
    unused_protected_minutes: list[int]  # per week
    placed: int = 0
    on_time: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # orders not placed, by reason
    orders_per_week: list[int] = field(default_factory=list)
    placements: list[tuple[int, Placement]] = field(default_factory=list)  # (week, placement) of the first weeks

    def placement_rows(self) -> list[dict[str, object]]:
        """One row per simulated rush order kept (rush_simulation.csv): where it went, R11's date beside it."""
        def t(x: dt.datetime | None) -> str:
            return "" if x is None else x.strftime("%Y-%m-%dT%H:%M")

        return [{"week": w, "order_id": p.order.id, "product": p.order.product, "quantity": p.order.quantity,
                 "arrival": t(p.order.arrival), "due": t(p.order.due), "line": p.line or "", "shift": p.shift or "",
                 "start": t(p.start), "end": t(p.end), "on_time": p.on_time,
                 "rule_date": p.rule_date.isoformat() if p.rule_date else "", "reason": p.reason}
                for w, p in self.placements]

    @property
    def fill_rate(self) -> float:
        """Share of all rush orders placed by their requested date (1.0 without orders)."""
        return self.on_time / self.orders if self.orders else 1.0

    @property
    def in_calendar_fill_rate(self) -> float:
        """On-time share of the orders that arrived while an eligible line still had an open
        shift ahead in the horizon (leaves out reason "calendar": the horizon's edge, not the
        reserve, lost those); 1.0 without such orders."""
        n = self.orders - self.reasons.get("calendar", 0)
        return self.on_time / n if n else 1.0

    @property
    def mean_weekly_fill_rate(self) -> float:
        """Mean of the per-week fill rates (1.0 without weeks)."""
        return sum(self.fill_rates) / len(self.fill_rates) if self.fill_rates else 1.0


PLACEMENT_COLUMNS = ["week", "order_id", "product", "quantity", "arrival", "due", "line", "shift", "start", "end",
                     "on_time", "rule_date", "reason"]


def simulate(plan: Plan, stream: RushStream, weeks: int, seed: int, keep_weeks: int = 20) -> Simulation:
    """Simulate `weeks` seeded weeks of rush orders against the plan (each week starts from the plan);
    the placements of the first `keep_weeks` weeks are kept for the record."""
    sc = plan.week.scenario
    base = Ledger.from_plan(plan)
    base.rules()
    sim = Simulation(weeks=weeks, orders=0, fill_rates=[], quoted_lead_hours=[], unused_protected_minutes=[])
    reasons: Counter[str] = Counter()
    for w in range(weeks):
        led = base.copy()
        orders = sorted(stream.sample_week(sc, seed * SEED_STRIDE + w), key=lambda o: (o.arrival, o.id))
        on_time = 0
        for o in orders:
            pl = led.place(o)
            if w < keep_weeks:
                sim.placements.append((w, pl))
            if pl.line is None:
                reasons[pl.reason] += 1
                continue
            sim.placed += 1
            assert pl.end is not None
            sim.quoted_lead_hours.append((pl.end - o.arrival).total_seconds() / 3600)
            if pl.on_time:
                on_time += 1
        sim.orders += len(orders)
        sim.on_time += on_time
        sim.orders_per_week.append(len(orders))
        sim.fill_rates.append(on_time / len(orders) if orders else 1.0)
        sim.unused_protected_minutes.append(led.unused_protected_minutes())
    sim.reasons = dict(sorted(reasons.items()))
    return sim
