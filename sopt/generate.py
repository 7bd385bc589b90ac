"""Synthetic plant weeks for tests, benchmarks and demos (`sopt generate`).

`generate_week(products, lines, materials, seed)` builds a realistic weekly scenario as
plain YAML-able data (str/int/float/list/dict only; dates as ``YYYY-MM-DD`` strings and
times as ``YYYY-MM-DDTHH:MM`` strings, which the scenario loader parses), and
`write_week(data, path)` writes it atomically as YAML. The same arguments and seed always
give the same week: every random draw comes from `random.Random` streams seeded from
`seed` (never the global generator), and nothing depends on today's date.

What a generated week looks like:

- Lines with different shift patterns (two shifts Mon-Fri plus a Saturday early shift,
  three shifts Mon-Fri, one day shift, ...), a shift cost, overtime on some lines, and one
  or two calendar exceptions (a maintenance window, a cleaning stop).
- Products with Pareto-skewed (Zipf-like) weekly volumes, so that the 1:3:6 ABC ranking
  that sopt computes is meaningful; no class is given explicitly (unless `classes` asks
  for it). Each product runs on 1-3
  lines (big products on more lines) with a speed (`minutes_per_unit` or `rate_per_hour`),
  a setup of 15-60 minutes and a setup cost; some have lot rules (`min_run`, `multiple`);
  most have 1-3 replenishment days, and the made-to-stock (A/B) products start with about
  their minimum stock.
- A daily forecast for every product (for C products it only ranks them) with weekday
  variation and zero on days when no line works.
- Confirmed orders (ids `SO-1001`, ...): all the demand of the products that rank as C
  (made to order), and a share of the A/B forecast (orders consume forecast); a few are
  due after the horizon. One backlog item is carried from last week.
- Materials with opening stock, one or two mid-week receipts, lead time, MOQ and order
  multiple; each product's BOM uses 1-3 of them.

`load` sets the week's demand relative to the planned capacity, i.e. the sum over all
line-shifts of `W - ceil(0.2 W)` (reserve ratio 0.2): the run minutes of the demand (A/B
forecast, C orders; minutes at the mean speed of the product's lines) plus one setup per
product with demand come to `load` x that capacity (the setup estimate takes at most half
of it). `load=0.75` is a comfortable week, `load=1.3` an over-loaded one. Where products
crowd the shifts (1000 products on 12 lines), setups are shorter and only some of the C
products have an order this week, so that setups stay under about 30 % of the capacity;
the choice does not depend on `load`, so a higher load gives more of the same demand.

Shape options for property and soak tests (`classes`, `closed`, `short_materials`; see
`generate_week`) give explicit class mixes, closed days and short materials; they draw from
their own random stream, so that without them a seed gives exactly the week it always gave.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from sopt.calendar import subtract

DEFAULT_START = dt.date(2026, 11, 30)  # a Monday; fixed so that a seed always gives one week
RESERVE_RATIO = Fraction(1, 5)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# sales by weekday relative to the week's average day
WEEKDAY_FACTOR = (1.05, 0.95, 1.0, 1.05, 1.2, 0.7, 0.4)

SHIFT_TEMPLATES: dict[str, dict[str, Any]] = {
    "early": {"start": "06:00", "hours": 8, "breaks": [{"start": "10:00", "minutes": 30}]},
    "late": {"start": "14:00", "hours": 8, "breaks": [{"start": "18:00", "minutes": 30}]},
    "night": {"start": "22:00", "hours": 8, "breaks": [{"start": "02:00", "minutes": 30}]},
    "day": {"start": "07:30", "hours": 9, "breaks": [{"start": "12:00", "minutes": 45}]},
}

# (description, weekday key -> shift templates); the first pattern is always line 1's
SHIFT_PATTERNS: tuple[tuple[str, dict[str, list[str]]], ...] = (
    ("two shifts Mon-Fri, Saturday early", {"mon-fri": ["early", "late"], "sat": ["early"]}),
    ("three shifts Mon-Fri", {"mon-fri": ["early", "late", "night"]}),
    ("two shifts Mon-Fri", {"mon-fri": ["early", "late"]}),
    ("one day shift Mon-Fri", {"mon-fri": ["day"]}),
    ("two shifts Mon-Sat", {"mon-sat": ["early", "late"]}),
    ("one shift Mon-Fri, two on Thu-Fri", {"mon-wed": ["early"], "thu-fri": ["early", "late"]}),
)
CONTINUOUS_PATTERN = ("three shifts every day", {"all": ["early", "late", "night"]})

LINE_KINDS = (
    "PET bottling", "Can line", "Glass bottling", "Carton filling", "Pouch filling",
    "Multipack", "Aseptic PET", "Keg and bag-in-box",
)
DRINKS = (
    "Orange juice", "Apple juice", "Green tea", "Lemon soda", "Cola", "Mineral water",
    "Iced coffee", "Sports drink", "Oat drink", "Mango nectar", "Ginger ale", "Peach tea",
    "Sparkling water", "Energy drink", "Grape juice", "Coconut water", "Tonic water",
    "Cherry soda", "Jasmine tea", "Lemonade",
)
FORMATS = (
    "330 ml can", "500 ml PET", "1 L PET", "1.5 L PET", "250 ml can", "1 L carton",
    "200 ml carton", "6x330 ml pack", "750 ml glass", "2 L PET",
)
CUSTOMERS = (
    "FreshMart", "CityGrocer", "Northwind Foods", "Sunrise Retail", "Harbour Wholesale",
    "ValueStore", "MetroCash", "GreenLeaf Markets", "Quick Stop", "Lakeside Co-op",
)
# material kinds: (name, unit, per-unit quantities to choose from)
MATERIAL_KINDS: tuple[tuple[str, str, tuple[float, ...]], ...] = (
    ("PET preform", "pcs", (1.0,)),
    ("Closure cap", "pcs", (1.0,)),
    ("Label", "pcs", (1.0,)),
    ("Concentrate", "kg", (0.012, 0.02, 0.035, 0.05, 0.08)),
    ("Sugar", "kg", (0.025, 0.04, 0.055)),
    ("Carton case", "pcs", (0.25, 0.125, 0.1, 0.0625, 0.05)),
    ("Shrink film", "m", (0.02, 0.04, 0.06, 0.1)),
    ("Aluminium can", "pcs", (1.0,)),
    ("Tea extract", "kg", (0.004, 0.006, 0.01)),
    ("Carbon dioxide", "kg", (0.006, 0.008, 0.012)),
)
SPEEDS = (60, 90, 120, 150, 180, 240, 300, 360, 400, 480, 600, 720, 900, 1200)  # units/hour


def _planned(w: int) -> int:
    """Planned minutes W - ceil(0.2 W) of a shift with W working minutes."""
    return w - math.ceil(RESERVE_RATIO * w)


def _clock(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _weekday_map(pattern: dict[str, list[str]]) -> dict[int, list[str]]:
    """Weekday (0 = Monday) -> shift templates of a pattern written with mon-fri style keys."""
    out: dict[int, list[str]] = {}
    for key, names in pattern.items():
        if key == "all":
            days = list(range(7))
        elif "-" in key:
            a, b = key.split("-")
            days = list(range(WEEKDAYS.index(a), WEEKDAYS.index(b) + 1))
        else:
            days = [WEEKDAYS.index(key)]
        for d in days:
            out[d] = list(names)
    return out


def _working_minutes(
    template: dict[str, Any], date: dt.date, closed: list[tuple[dt.datetime, dt.datetime]]
) -> int:
    """Working minutes W of one shift: length less breaks and closed time."""
    start = dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=_clock(template["start"]))
    length = int(template["hours"] * 60)
    free = [(start, start + dt.timedelta(minutes=length))]
    cuts = list(closed)
    for b in template.get("breaks", []):
        off = (_clock(b["start"]) - _clock(template["start"])) % (24 * 60)
        bs = start + dt.timedelta(minutes=off)
        cuts.append((bs, bs + dt.timedelta(minutes=b["minutes"])))
    for cut in cuts:
        free = subtract(free, cut)
    return sum(int((b - a).total_seconds()) // 60 for a, b in free)


def _abc_quotas(n: int) -> tuple[int, int]:
    """Products in class A and B for n products at the ratio 1:3:6 (CONTRACT.md, ABC)."""
    n_a = min(n, max(1, int(Fraction(n, 10) + Fraction(1, 2))))
    n_b = min(n - n_a, int(Fraction(n * 3, 10) + Fraction(1, 2)))
    return n_a, n_b


def _classes(ranked: list[str], explicit: dict[str, str]) -> dict[str, str]:
    """Class per product as sopt assigns it: explicit classes win and count toward the
    1:3:6 quotas, the others take the quotas left in rank order (sopt.abc.classify)."""
    n_a, n_b = _abc_quotas(len(ranked))
    k_a = max(0, n_a - sum(c == "A" for c in explicit.values()))
    k_b = max(0, n_b - sum(c == "B" for c in explicit.values()))
    rest = [p for p in ranked if p not in explicit]
    return explicit | {p: "A" if k < k_a else "B" if k < k_a + k_b else "C" for k, p in enumerate(rest)}


def _iso_minute(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M")


def _split(total: int, weights: list[float]) -> list[int]:
    """Split `total` units over `weights` exactly (largest remainder)."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _round_qty(x: float) -> float:
    """A per-unit material quantity with at most 4 decimals (exact in YAML and Decimal)."""
    return max(0.0001, round(x, 4))


def _nice(x: float) -> int:
    """Round a quantity up to a number a planner would write (2 significant digits)."""
    if x <= 0:
        return 0
    step = 10 ** max(0, int(math.log10(x)) - 1)
    return int(math.ceil(x / step) * step)


def generate_week(
    products: int,
    lines: int,
    materials: int,
    seed: int,
    *,
    load: float = 0.75,
    start: dt.date | None = None,
    days: int = 7,
    classes: str | None = None,
    closed: Sequence[tuple[int, str | None]] = (),
    short_materials: int = 0,
) -> dict:
    """A synthetic plant week as plain YAML-able data (see the module docstring).

    `products` >= 1, `lines` >= 1, `materials` >= 0, `load` > 0, `days` >= 1; `start`
    defaults to Monday 2026-11-30. The result passes `sopt.scenario.load_scenario` once
    written with `write_week`.

    Shape options (the defaults leave the week exactly as without them):

    - `classes`: explicit ABC classes, a string of letters from ``ABC-``: the products,
      ranked by volume, are cut into that many nearly equal groups, the first group takes
      the first letter and so on; ``-`` leaves a group to sopt's ranking. ``"A"`` makes
      every product A, ``"BC"`` the bigger half B and the rest C, ``"A-"`` half A and half
      ranked.
    - `closed`: closures as (date index, line id or None): None closes the whole plant that
      date (a calendar `date` entry, which also cuts a night shift from the day before);
      a line id leaves that line without shifts that date (a date key in its `shifts`).
      Closed time counts for `load` and the forecast, like the shift pattern.
    - `short_materials`: that many materials (at most `materials`) get too little stock and
      receipts for the week's demand: 0-60 % of their need, some with nothing at all.
    """
    if products < 1 or lines < 1 or materials < 0 or days < 1:
        raise ValueError("need products >= 1, lines >= 1, materials >= 0 and days >= 1")
    if not load > 0:
        raise ValueError("load must be greater than 0")
    if classes is not None and (not classes or set(classes) - set("ABC-")):
        raise ValueError(f"classes must be letters from 'ABC-', got {classes!r}")
    if not 0 <= short_materials <= materials:
        raise ValueError("need 0 <= short_materials <= materials")
    start = start or DEFAULT_START
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    horizon_end = dates[-1] + dt.timedelta(days=1)
    # independent streams, so that `load` changes amounts but not the plant's structure
    r_line = random.Random(f"{seed}:lines")
    r_prod = random.Random(f"{seed}:products")
    r_dem = random.Random(f"{seed}:demand")
    r_mat = random.Random(f"{seed}:materials")
    r_short = random.Random(f"{seed}:short")  # only the shape options draw from it

    # ------------------------------------------------------------------ lines
    line_ids = [f"L{i + 1:02d}" for i in range(lines)]
    for day, lid in closed:
        if not 0 <= day < days or (lid is not None and lid not in line_ids):
            raise ValueError(f"closed: ({day}, {lid}) names no date index 0-{days - 1} or no line L01-L{lines:02d}")
    plant_closed = sorted({day for day, lid in closed if lid is None})
    line_closed = {(day, lid) for day, lid in closed if lid is not None}
    line_rows: list[dict[str, Any]] = []
    patterns: dict[str, dict[int, list[str]]] = {}
    used_templates: set[str] = set()
    speed_factor: dict[str, float] = {}
    for i, lid in enumerate(line_ids):
        if i == 0:
            desc, pat = SHIFT_PATTERNS[0]
        elif i % 6 == 5:
            desc, pat = CONTINUOUS_PATTERN
        else:
            desc, pat = SHIFT_PATTERNS[r_line.randrange(len(SHIFT_PATTERNS))]
        patterns[lid] = _weekday_map(pat)
        for names in pat.values():
            used_templates.update(names)
        kind = LINE_KINDS[i % len(LINE_KINDS)]
        row: dict[str, Any] = {
            "id": lid,
            "name": f"Line {i + 1} - {kind} ({desc})",
            "shifts": {k: list(v) for k, v in pat.items()}
            | {dates[d].isoformat(): [] for d in range(days) if (d, lid) in line_closed},
            "shift_cost": r_line.choice((250, 300, 350, 400, 450, 500, 600)),
        }
        if r_line.random() < 0.4:
            row["overtime"] = {
                "max_minutes_per_shift": r_line.choice((60, 90, 120)),
                "max_minutes_per_week": r_line.choice((240, 360, 480)),
                "cost_per_minute": r_line.choice((1.5, 2, 2.5, 3)),
            }
        line_rows.append(row)
        speed_factor[lid] = r_line.uniform(0.8, 1.3)

    def shifts_on(lid: str, day: int) -> list[str]:
        """The shift templates of a line on a date, after the line's closures."""
        return [] if (day, lid) in line_closed else patterns[lid].get(dates[day].weekday(), [])

    # calendar exceptions: a maintenance window on one line, sometimes a cleaning stop
    calendar: list[dict[str, Any]] = []
    closed_time: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {lid: [] for lid in line_ids}
    n_exc = 1 if lines == 1 else r_line.choice((1, 2))
    for k, lid in enumerate(r_line.sample(line_ids, min(n_exc, lines))):
        shifts = [(dates[i], n) for i in range(days) if i not in plant_closed for n in shifts_on(lid, i)]
        if not shifts:
            continue
        d, name = shifts[r_line.randrange(len(shifts))]
        t0 = dt.datetime.combine(d, dt.time()) + dt.timedelta(
            minutes=_clock(SHIFT_TEMPLATES[name]["start"]) + 60
        )
        t1 = t0 + dt.timedelta(hours=r_line.choice((2, 3, 4)))
        closed_time[lid].append((t0, t1))
        reason = "planned maintenance" if k == 0 else "deep cleaning (CIP) and changeover of tooling"
        calendar.append({"line": lid, "start": _iso_minute(t0), "end": _iso_minute(t1), "reason": reason})
    for day in plant_closed:  # 00:00-24:00 of the date on every line
        midnight = dt.datetime.combine(dates[day], dt.time())
        for lid in line_ids:
            closed_time[lid].append((midnight, midnight + dt.timedelta(days=1)))
        calendar.append({"date": dates[day].isoformat(), "reason": "plant closed (public holiday)"})

    # planned capacity (minutes) per line over the horizon; a date is open when some line
    # has working time on it
    capacity: dict[str, int] = {}
    n_shifts = 0
    working_days: set[int] = set()
    for lid in line_ids:
        total = 0
        for i, d in enumerate(dates):
            for name in shifts_on(lid, i):
                w = _working_minutes(SHIFT_TEMPLATES[name], d, closed_time[lid])
                if w > 0:
                    total += _planned(w)
                    n_shifts += 1
                    working_days.add(i)
        capacity[lid] = total
    total_capacity = sum(capacity.values())
    open_days = sorted(working_days)

    # ------------------------------------------------------------------ products
    width = max(3, len(str(products)))
    prod_ids = [f"P{i + 1:0{width}d}" for i in range(products)]
    names = [f"{drink} {fmt}" for drink in DRINKS for fmt in FORMATS]
    r_prod.shuffle(names)
    # Zipf-like weights with noise, shuffled over the ids so that rank is not id order
    weights = [r_prod.lognormvariate(0, 0.25) / (k + 1) ** 0.9 for k in range(products)]
    weights.sort(reverse=True)
    order = list(range(products))
    r_prod.shuffle(order)
    weight = {prod_ids[order[k]]: weights[k] for k in range(products)}
    wsum = sum(weights)
    share = {pid: weight[pid] / wsum for pid in prod_ids}

    # eligible lines: bigger products on more lines, each time the least-loaded lines
    line_load = {lid: 0.0 for lid in line_ids}  # shares of the week's minutes
    cap_share = {lid: max(1, capacity[lid]) / max(1, total_capacity) for lid in line_ids}
    eligible: dict[str, list[str]] = {}
    for pid in sorted(prod_ids, key=lambda p: (-share[p], p)):
        k = min(3, lines, max(1, math.ceil(share[pid] * lines * 2)) + (r_prod.random() < 0.3))
        ranked = sorted(
            line_ids,
            key=lambda lid: (line_load[lid] / cap_share[lid] + r_prod.uniform(0, 0.05), lid),
        )
        chosen = sorted(ranked[:k])
        eligible[pid] = chosen
        for lid in chosen:
            line_load[lid] += share[pid] / k

    # setups of 15-60 minutes; shorter ones where many products share few shifts (quick
    # changeovers are what makes a plant with many products per line work at all)
    density = products / max(1, n_shifts)
    setup_max = 60 if density <= 2 else max(20, int(120 / density) // 5 * 5)
    prod_rows: dict[str, dict[str, Any]] = {}
    mpu: dict[str, float] = {}  # mean minutes per unit over the eligible lines
    setup_mean: dict[str, float] = {}
    has_lot: dict[str, tuple[bool, int]] = {}
    repl: dict[str, int] = {}
    for i, pid in enumerate(prod_ids):
        speed = r_prod.choice(SPEEDS)
        rates: dict[str, dict[str, Any]] = {}
        mins: list[float] = []
        setups: list[int] = []
        for lid in eligible[pid]:
            rate = max(6, int(round(speed * speed_factor[lid] * r_prod.uniform(0.9, 1.1) / 6)) * 6)
            setup = r_prod.randrange(15, setup_max + 1, 5)
            entry: dict[str, Any]
            if r_prod.random() < 0.5:
                entry = {"rate_per_hour": rate}
                mins.append(60 / rate)
            else:
                m = round(60 / rate, 4)
                entry = {"minutes_per_unit": m}
                mins.append(m)
            entry["setup_minutes"] = setup
            entry["setup_cost"] = int(setup * r_prod.choice((2, 3, 4, 5)))
            rates[lid] = entry
            setups.append(setup)
        mpu[pid] = sum(mins) / len(mins)
        setup_mean[pid] = sum(setups) / len(setups)
        name = names[i % len(names)] + (f" #{i // len(names) + 1}" if i >= len(names) else "")
        repl[pid] = r_prod.choice((1, 1, 2, 2, 2, 3)) if r_prod.random() < 0.85 else 0
        row = {
            "id": pid,
            "name": name,
            "lines": rates,
            "replenishment_days": repl[pid],
            "holding_cost": round(r_prod.uniform(0.01, 0.2), 2),
        }
        prod_rows[pid] = row
        has_lot[pid] = (r_prod.random() < 0.3, r_prod.choice((6, 12, 24)))

    # ------------------------------------------------------------------ volumes and forecast
    # Units are proportional to share / minutes-per-unit, so the ABC rank is known before the
    # volumes are scaled. When one setup per product would take more than 30 % of the
    # capacity, only some C products (made to order) have orders this week; the others keep
    # their (informational) forecast. The choice does not depend on `load`.
    pre_rank = sorted(prod_ids, key=lambda p: (-share[p] / mpu[p], p))
    explicit: dict[str, str] = {}
    if classes:  # cut the ranking into len(classes) nearly equal groups, one letter each
        for k, letter in enumerate(classes):
            group = pre_rank[k * products // len(classes): (k + 1) * products // len(classes)]
            explicit.update({p: letter for p in group if letter != "-"})
    pre_ab = {p for p, c in _classes(pre_rank, explicit).items() if c != "C"}
    c_ids = [p for p in prod_ids if p not in pre_ab]
    budget = 0.3 * total_capacity - sum(setup_mean[p] for p in pre_ab)
    c_setups = sum(setup_mean[p] for p in c_ids)
    c_with_orders = set(c_ids)
    if c_setups > max(0.0, budget):
        frac = max(0.2, budget / c_setups)
        c_with_orders = set(r_dem.sample(c_ids, max(1, int(frac * len(c_ids)))))
    active = [p for p in prod_ids if p in pre_ab or p in c_with_orders]
    target = load * total_capacity
    setup_est = min(sum(setup_mean[p] for p in active), 0.5 * target)
    scale = (target - setup_est) / sum(share[p] for p in active)
    units = {pid: max(1, int(round(scale * share[pid] / mpu[pid]))) for pid in prod_ids}

    day_weights: list[list[float]] = []
    for _ in prod_ids:
        day_weights.append([
            WEEKDAY_FACTOR[dates[i].weekday()] * r_dem.uniform(0.85, 1.15) if i in open_days else 0.0
            for i in range(days)
        ])
    forecast: dict[str, list[int]] = {}
    for k, pid in enumerate(prod_ids):
        forecast[pid] = _split(units[pid], day_weights[k]) if open_days else [0] * days

    # ABC as sopt ranks it (forecast units, ties by id; quotas as CONTRACT.md)
    ranked = sorted(prod_ids, key=lambda p: (-sum(forecast[p]), p))
    cls = _classes(ranked, explicit)

    for pid in prod_ids:
        row = prod_rows[pid]
        if pid in explicit:  # right after the name, where a planner looks for it
            head = {k: row.pop(k) for k in ("id", "name")}
            prod_rows[pid] = row = head | {"class": explicit[pid]} | row
        lot, multiple = has_lot[pid]
        if lot and units[pid] >= 4 * multiple:
            row["lot"] = {"min_run": _nice(units[pid] * 0.15) // multiple * multiple or multiple,
                          "multiple": multiple}
        if cls[pid] != "C":
            # made to stock: the week starts with about the minimum stock (at least a day's sales)
            daily = units[pid] / max(1, len(open_days))
            row["opening_stock"] = int(max(1, repl[pid]) * daily * r_dem.uniform(0.8, 1.2))

    # ------------------------------------------------------------------ orders
    orders: list[dict[str, Any]] = []
    due_days = open_days or list(range(days))
    late_due = [horizon_end + dt.timedelta(days=k) for k in range(3)]

    def new_order(pid: str, qty: int, due: dt.date, priority: int) -> None:
        o: dict[str, Any] = {
            "id": f"SO-{1001 + len(orders)}",
            "product": pid,
            "quantity": qty,
            "due": due.isoformat(),
        }
        if priority:
            o["priority"] = priority
        o["customer"] = r_dem.choice(CUSTOMERS)
        orders.append(o)

    for pid in prod_ids:
        if cls[pid] == "C":
            if pid not in c_with_orders:
                continue  # no order for it this week: its forecast is information only
            # made to order: the product's whole volume is confirmed orders
            n = min(units[pid], r_dem.choice((1, 1, 2, 2, 3)))
            parts = _split(units[pid], [r_dem.uniform(0.5, 1.5) for _ in range(n)])
            for q in parts:
                if r_dem.random() < 0.08:
                    due = r_dem.choice(late_due)
                else:
                    later = [d for d in due_days if d >= 1] or due_days
                    due = dates[r_dem.choice(later)]
                if q > 0:
                    new_order(pid, q, due, r_dem.choice((0, 0, 0, 1, 2)))
        elif r_dem.random() < 0.35:
            # a confirmed share of the A/B forecast (it consumes the forecast)
            for _ in range(r_dem.choice((1, 1, 2))):
                d = r_dem.choice(due_days)
                q = int(sum(forecast[pid][max(0, d - 1): d + 1]) * r_dem.uniform(0.3, 0.8))
                if q > 0:
                    new_order(pid, q, dates[d], r_dem.choice((0, 0, 1, 3)))

    state: dict[str, Any] = {}
    ab = [p for p in ranked if cls[p] != "C"]
    if products >= 5 and ab:
        pid = ab[len(ab) // 2]
        qty = max(1, units[pid] // 20)
        state["backlog"] = [{"product": pid, "quantity": qty, "order_id": "SO-1000"}]

    # last product on each line: an eligible product (the current setup)
    on_line = {lid: [p for p in prod_ids if lid in eligible[p]] for lid in line_ids}
    for row in line_rows:
        cands = on_line[row["id"]]
        if cands:
            row["last_product"] = r_line.choice(cands)

    # ------------------------------------------------------------------ materials
    mat_rows: list[dict[str, Any]] = []
    if materials:
        mat_ids = [f"M{j + 1:03d}" for j in range(materials)]
        kinds = [MATERIAL_KINDS[j % len(MATERIAL_KINDS)] for j in range(materials)]
        per_unit_base = [r_mat.choice(k[2]) for k in kinds]
        need = [0.0] * materials
        for pid in prod_ids:
            n = min(materials, r_mat.choice((1, 2, 2, 3, 3)))
            bom: dict[str, float] = {}
            for j in sorted(r_mat.sample(range(materials), n)):
                q = per_unit_base[j]
                if q < 1:
                    q = _round_qty(q * r_mat.uniform(0.85, 1.2))
                bom[mat_ids[j]] = q
                need[j] += q * units[pid]
            prod_rows[pid]["bom"] = bom
        for j, mid in enumerate(mat_ids):
            kname, unit, _ = kinds[j]
            multiple = r_mat.choice((1, 10, 50, 100)) if unit == "pcs" else r_mat.choice((1, 5, 25))
            # about a week's need on hand, the rest arriving early in the week: a comfortable
            # week is not short of material (the tight demo shows shortages)
            cover = need[j] * r_mat.uniform(1.25, 1.6)
            opening = need[j] * r_mat.uniform(0.7, 0.95)
            rows: dict[str, Any] = {
                "id": mid,
                "name": f"{kname} {j // len(MATERIAL_KINDS) + 1:02d}",
                "unit": unit,
                "opening_stock": int(math.ceil(opening)),
            }
            rest = max(0.0, cover - opening)
            mid_days = list(range(1, max(2, min(4, days - 1))))
            n_rec = min(len(mid_days), r_mat.choice((1, 2)))
            receipts = []
            for day in sorted(r_mat.sample(mid_days, min(n_rec, len(mid_days)))):
                q = rest / n_rec
                q = int(math.ceil(q / multiple) * multiple) if q > 0 else multiple
                hour = r_mat.choice((7, 9, 13))
                at = dt.datetime.combine(start + dt.timedelta(days=day), dt.time(hour))
                receipts.append({"at": _iso_minute(at), "quantity": q})
            rows["receipts"] = receipts
            rows["lead_time_days"] = r_mat.choice((2, 3, 5, 7, 10, 14))
            rows["min_order_qty"] = multiple * r_mat.choice((1, 5, 10, 20))
            rows["order_multiple"] = multiple
            if r_mat.random() < 0.3:
                rows["safety_stock"] = int(need[j] * 0.1)
            mat_rows.append(rows)
        # short materials: 0-60 % of the need on hand and arriving (0: none at all)
        for j in sorted(r_short.sample(range(materials), short_materials)):
            cover = need[j] * r_short.choice((0.0, 0.2, 0.4, 0.6))
            rows = mat_rows[j]
            rows["opening_stock"] = int(cover * 0.6)
            if cover * 0.4 >= len(rows["receipts"]) > 0:
                for rec in rows["receipts"]:
                    rec["quantity"] = int(cover * 0.4 / len(rows["receipts"]))
            else:
                rows["receipts"] = []
            rows["name"] += " (short)"

    # ------------------------------------------------------------------ assemble
    templates = {n: dict(SHIFT_TEMPLATES[n]) for n in ("early", "late", "night", "day") if n in used_templates}
    data: dict[str, Any] = {
        "name": f"generated-{products}p-{lines}l-{materials}m-seed{seed}",
        "horizon": {"start": start.isoformat(), "days": days},
        "shift_templates": templates,
        "lines": line_rows,
        "calendar": calendar,
        "products": [prod_rows[p] for p in prod_ids],
        "materials": mat_rows,
        "demand": {"forecast": {p: forecast[p] for p in prod_ids}, "orders": orders},
        "state": state,
        "policy": {"reserve_ratio": 0.2},
        "rush_orders": _rush_block(lines, [max(forecast[p], default=0) for p in prod_ids]),
    }
    return data


def _rush_block(lines: int, peaks: list[int]) -> dict[str, Any]:
    """A rush-order stream for the what-if sweep: about one order a day per two lines, for A/B
    products, sized up to a typical product's peak daily forecast, due two days later."""
    typical = sorted(peaks)[len(peaks) // 2] if peaks else 100
    top = max(100, typical // 10 * 10)
    return {"rate_per_day": round(max(0.5, lines / 2), 1), "classes": ["A", "B"],
            "quantity": {"min": max(10, top // 5 // 10 * 10), "max": top, "multiple": 10},
            "lead_time_days": 2}


HEADER = """\
# {name}
# A synthetic plant week written by `sopt generate` (sopt.generate): deterministic for its
# seed; products without an explicit class are ranked by sopt (1:3:6 by forecast volume).
# Fields and units: docs/scenario.md.
"""


def write_week(data: dict, path: Path) -> None:
    """Write a week as YAML atomically: a temporary file in the same folder, then os.replace."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    body = yaml.dump(
        data, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )
    text = HEADER.format(name=data.get("name", path.stem)) + body
    from sopt.export import write_atomic

    write_atomic(folder / path.name, text.encode("utf-8"))
