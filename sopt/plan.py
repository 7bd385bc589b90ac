"""The plan as plain data: runs with times, and every table of the output contract.

`build_plan(week, lots, opened)` sequences the lots inside their shifts and derives the
capacity table, the production plan (stock, delivered, backlog, unmet per product and
day, CONTRACT.md formulas), order pegging, unmet reasons and the objective of the written
plan, term by term. Nothing here uses the solver.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pandas as pd

from sopt.costs import COST_SCALE, TERMS, scaled
from sopt.sequence import Lot, Placed, SequenceStats, sequence_plan
from sopt.week import Week

ISO = "%Y-%m-%dT%H:%M"


def iso(t: dt.datetime | None) -> str:
    """Plant time as ISO 8601 minutes, or '' for none."""
    return "" if t is None else t.strftime(ISO)


@dataclass(frozen=True)
class Run:
    """One row of the schedule: a run of a product on a line in a shift."""

    run_id: str
    line: str
    shift_index: int
    shift: str
    shift_start: dt.datetime
    shift_end: dt.datetime
    start: dt.datetime
    end: dt.datetime
    product: str
    cls: str
    quantity: int
    setup_minutes: int
    run_minutes: int
    date: dt.date
    order_ids: tuple[tuple[str, int], ...] = ()
    kind: str = "planned"

    def row(self) -> dict[str, Any]:
        """The schedule.csv row."""
        return {
            "run_id": self.run_id, "line": self.line, "shift": self.shift,
            "shift_start": iso(self.shift_start), "shift_end": iso(self.shift_end),
            "start": iso(self.start), "end": iso(self.end), "product": self.product, "class": self.cls,
            "quantity": self.quantity, "setup_minutes": self.setup_minutes, "run_minutes": self.run_minutes,
            "order_ids": ";".join(f"{o}:{q}" for o, q in self.order_ids), "kind": self.kind,
        }


@dataclass
class Plan:
    """A complete plan: runs and the derived tables (lists of row dicts, in contract order)."""

    week: Week
    runs: list[Run]
    capacity: list[dict[str, Any]]
    production: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    unmet: list[dict[str, Any]]
    objective_scaled: int
    terms_scaled: dict[str, int]
    opened: set[int] = field(default_factory=set)
    sequence: SequenceStats = field(default_factory=SequenceStats)
    jobs: Any = None  # sopt.jobs.JobStats when the week has jobs

    @property
    def objective(self) -> float:
        """The objective of this plan in cost units."""
        return self.objective_scaled / COST_SCALE

    @property
    def objective_terms(self) -> dict[str, float]:
        """Each objective term in cost units."""
        return {k: v / COST_SCALE for k, v in self.terms_scaled.items()}

    def schedule_rows(self) -> list[dict[str, Any]]:
        """schedule.csv rows."""
        return [r.row() for r in self.runs]

    def frame(self, table: str) -> pd.DataFrame:
        """One table as a DataFrame: schedule, capacity, production_plan, orders or unmet."""
        rows = {"schedule": self.schedule_rows(), "capacity": self.capacity, "production_plan": self.production,
                "orders": self.orders, "unmet": self.unmet}[table]
        return pd.DataFrame(rows)

    # ---- KPIs
    def service_level(self) -> dict[str, float | None]:
        """Units delivered on their date / units demanded, per class (None without demand)."""
        dem: dict[str, int] = defaultdict(int)
        on_time: dict[str, int] = defaultdict(int)
        for r in self.production:
            if r["_step"]:
                continue
            dem[r["class"]] += r["demand"]
            on_time[r["class"]] += r["demand"] - r["unmet"]
        return {c: (round(on_time[c] / dem[c], 4) if dem[c] else None) for c in "ABC"}

    def unmet_units(self) -> int:
        """Backlog at the horizon's end, summed over products."""
        last = self.week.scenario.dates[-1].isoformat()
        return sum(r["backlog_end"] for r in self.production if r["date"] == last and not r["_step"])

    def late_units(self) -> int:
        """Units delivered after their date."""
        return sum(r["_late"] for r in self.production if not r["_step"])

    def min_stock_shortfall_units(self) -> int:
        """Sum over A/B products and dates of max(0, min_stock - stock_end)."""
        return sum(max(0, r["min_stock"] - r["stock_end"]) for r in self.production if r["class"] in "AB")

    def utilization(self) -> dict[str, float]:
        """Planned / working minutes per line over the week."""
        planned: dict[str, int] = defaultdict(int)
        avail: dict[str, int] = defaultdict(int)
        for r in self.capacity:
            planned[r["line"]] += r["planned_minutes"]
            avail[r["line"]] += r["available_minutes"]
        return {ln.id: (round(planned[ln.id] / avail[ln.id], 4) if avail[ln.id] else 0.0)
                for ln in self.week.scenario.lines}


def build_plan(week: Week, lots: list[Lot], opened: set[int] | None = None, setup_costs: dict[tuple[str, str, int], Fraction] | None = None) -> Plan:
    """Sequence lots and derive every table. `opened`: shifts the plan opens (default: those it
    uses plus those the calendar opens without a decision)."""
    frozen: list[Run] = [*week.frozen_runs, *week.job_runs]
    used = {lot.shift for lot in lots} | {w.shift_index for w in week.wip} | {r.shift_index for r in frozen}
    opened = week.default_open(used) if opened is None else set(opened) | used
    wip_lots = [Lot(w.product, w.line, w.shift_index, w.quantity, 0, w.minutes, wip=True) for w in week.wip]
    placed, seq = sequence_plan(week, [*wip_lots, *lots])
    runs = _runs(week, placed, taken={r.run_id for r in frozen} | week.taken_ids)
    return plan_from_runs(week, sorted([*frozen, *runs], key=lambda r: (r.line, r.start, r.end)), opened, seq,
                          setup_costs)


def plan_from_runs(week: Week, runs: list[Run], opened: set[int] | None = None, sequence: SequenceStats | None = None,
                   setup_costs: dict[tuple[str, str, int], Fraction] | None = None) -> Plan:
    """Derive every table from runs as they are (no sequencing): for plans read back, edited,
    or extended with rush runs (`kind == "rush"`)."""
    if opened is None:
        opened = week.default_open({r.shift_index for r in runs})
    runs, pegged = _peg_orders(week, runs)
    capacity = _capacity(week, runs, opened)
    production = _production(week, runs)
    orders = _orders_table(week, pegged)
    from sopt.explain import explain_unmet  # local import: explain reads Plan's tables

    terms = _terms(week, runs, capacity, production, setup_costs)
    plan = Plan(week, runs, capacity, production, orders, [], sum(terms.values()), terms, set(opened),
                sequence or SequenceStats())
    plan.unmet = explain_unmet(plan)
    return plan


def runs_from_rows(week: Week, rows: list[dict[str, Any]]) -> list[Run]:
    """Runs from schedule rows (schedule.csv or plan.json), placed in this week's shifts."""
    out = []
    for row in rows:
        i = week.shift_index[(str(row["line"]), str(row["shift"]))]
        s = week.shifts[i]
        ids = tuple((o, int(q)) for o, _, q in (x.partition(":") for x in str(row.get("order_ids") or "").split(";") if x))
        out.append(Run(str(row["run_id"]), s.line, i, s.shift, s.start, s.end,
                       dt.datetime.fromisoformat(str(row["start"])), dt.datetime.fromisoformat(str(row["end"])),
                       str(row["product"]), week.classes[str(row["product"])], int(row["quantity"]),
                       int(row["setup_minutes"]), int(row["run_minutes"]), s.date, ids, str(row.get("kind") or "planned")))
    return out


def _runs(week: Week, placed: list[Placed], taken: set[str] | None = None) -> list[Run]:
    """Runs with ids `<line>-<date>-<shift>-<nn>`, skipping ids already `taken` (a re-plan's)."""
    counter: dict[int, int] = defaultdict(int)
    taken = set(taken or ())
    out = []
    for p in sorted(placed, key=lambda p: (p.lot.line, p.start, p.end)):
        s = week.shifts[p.lot.shift]
        if p.lot.wip:
            rid = f"WIP-{s.line}"
        else:
            while True:
                counter[p.lot.shift] += 1
                rid = f"{s.line}-{s.date:%Y%m%d}-{s.template}-{counter[p.lot.shift]:02d}"
                if rid not in taken:
                    break
        out.append(Run(rid, s.line, p.lot.shift, s.shift, s.start, s.end, p.start, p.end, p.lot.product,
                       week.classes[p.lot.product], p.quantity, p.setup_minutes, p.run_minutes, s.date))
    return out


def _peg_orders(week: Week, runs: list[Run]) -> tuple[list[Run], dict[str, tuple[bool, Run | None]]]:
    """Orders take the production that covers them, in due-date order (opening stock first).

    A rush run made for an accepted order (its `order_ids`) serves that order first.
    """
    sc = week.scenario
    pegs: dict[str, list[tuple[str, int]]] = defaultdict(list)
    by_product: dict[str, list[Run]] = defaultdict(list)
    reserved: dict[str, list[tuple[Run, int]]] = defaultdict(list)
    reserved_in: dict[str, int] = defaultdict(int)
    for r in runs:
        by_product[r.product].append(r)
        if r.kind == "rush":
            for oid, q in r.order_ids:
                reserved[oid].append((r, min(q, r.quantity - reserved_in[r.run_id])))
                reserved_in[r.run_id] += q
    pegged: dict[str, tuple[bool, Run | None]] = {}
    for p in sc.products:
        supply: list[tuple[Run | None, int]] = [(None, p.opening_stock)]
        supply += [(r, max(0, r.quantity - reserved_in[r.run_id]))
                   for r in sorted(by_product.get(p.id, []), key=lambda r: (r.end, r.run_id))]
        k = 0
        for o in sorted((o for o in sc.orders if o.product == p.id), key=lambda o: (o.due, -o.priority, o.id)):
            need = o.quantity
            last: Run | None = None
            for run, q in reserved.get(o.id, []):
                take = min(need, q)
                if take > 0:
                    pegs[run.run_id].append((o.id, take))
                    need -= take
                    last = run if last is None or run.end > last.end else last
            while need > 0 and k < len(supply):
                run, left = supply[k]
                take = min(need, left)
                if take > 0:
                    if run is not None:
                        pegs[run.run_id].append((o.id, take))
                    last = run
                    need -= take
                    supply[k] = (run, left - take)
                if supply[k][1] == 0:
                    k += 1
            pegged[o.id] = (need == 0, last)
    return [dataclasses.replace(r, order_ids=tuple(pegs.get(r.run_id, ()))) for r in runs], pegged


def _orders_table(week: Week, pegged: dict[str, tuple[bool, Run | None]]) -> list[dict[str, Any]]:
    sc = week.scenario
    rows = []
    for o in sorted(sc.orders, key=lambda o: (o.due, o.id)):
        covered, last = pegged.get(o.id, (False, None))
        lateness = 0
        if not covered:
            completion, on_time = "", False
        elif last is None:
            completion, on_time = iso(sc.start_time), True
        else:
            completion, on_time = iso(last.end), last.date <= o.due
            # due at the end of the last shift of the due date on the line that makes it
            ends = [s.end for s in week.shifts if s.line == last.line and s.date == o.due]
            due_time = max(ends) if ends else dt.datetime.combine(o.due + dt.timedelta(days=1), dt.time())
            lateness = max(0, int((last.end - due_time).total_seconds() // 60))
        rows.append({"order_id": o.id, "product": o.product, "class": week.classes[o.product], "quantity": o.quantity,
                     "due": o.due.isoformat(), "planned_completion": completion, "on_time": on_time,
                     "lateness_minutes": lateness})
    return rows


def _capacity(week: Week, runs: list[Run], opened: set[int]) -> list[dict[str, Any]]:
    load: dict[int, int] = defaultdict(int)
    rush: dict[int, int] = defaultdict(int)
    last_end: dict[int, dt.datetime] = {}
    for r in runs:
        if r.kind == "rush":
            rush[r.shift_index] += r.setup_minutes + r.run_minutes
            continue
        load[r.shift_index] += r.setup_minutes + r.run_minutes
        last_end[r.shift_index] = max(last_end.get(r.shift_index, r.end), r.end)
    rows = []
    for i, s in enumerate(week.shifts):
        is_open = i in opened and s.W > 0
        W = s.W if is_open else 0
        P = s.P if is_open else 0
        ot = max(0, int((last_end[i] - s.end).total_seconds() // 60)) if i in last_end else 0
        planned = load.get(i, 0)
        rows.append({
            "line": s.line, "shift": s.shift, "shift_start": iso(s.start), "shift_end": iso(s.end),
            "available_minutes": W, "protected_minutes": P,
            "protected_start": iso(s.protected_start) if is_open and P else "",
            "protected_end": iso(s.protected_end) if is_open and P else "",
            "overtime_minutes": ot, "released_minutes": week.released.get(i, 0) if is_open else 0,
            "rush_minutes": rush.get(i, 0), "planned_minutes": planned,
            "utilization": round(planned / W, 4) if W else 0.0, "open": int(is_open),
        })
    return rows


def _production(week: Week, runs: list[Run]) -> list[dict[str, Any]]:
    """production_plan rows; `delivered` ships the backlog first, then the date's demand."""
    sc = week.scenario
    made: dict[tuple[str, int], int] = defaultdict(int)
    for r in runs:
        made[(r.product, (r.date - sc.start).days)] += r.quantity
    rows = []
    for p in sc.items:
        d = week.demand[p.id]
        stock, backlog = p.opening_stock, 0
        cum_orders, cum_prod = 0, 0
        nxt = sc.next_item(p.id)
        for day, date in enumerate(sc.dates):
            demand = d.total[day] + (made.get((nxt, day), 0) if nxt is not None else 0)  # step items: the next step's intake
            prod = made.get((p.id, day), 0)
            delivered = min(stock + prod, backlog + demand)
            late = min(delivered, backlog)
            on_date = delivered - late
            stock = stock + prod - delivered
            backlog = backlog + demand - delivered
            cum_orders += d.orders[day]
            cum_prod += prod
            rows.append({
                "product": p.id, "class": week.classes[p.id], "date": date.isoformat(), "demand": demand,
                "production": prod, "delivered": delivered, "stock_end": stock, "backlog_end": backlog,
                "min_stock": d.min_stock, "unmet": demand - on_date,
                "_late": late, "_order_backlog": max(0, cum_orders - p.opening_stock - cum_prod),
                "_step": p.parent is not None,
            })
    return rows


def _terms(week: Week, runs: list[Run], capacity: list[dict[str, Any]], production: list[dict[str, Any]],
           setup_costs: dict[tuple[str, str, int], Fraction] | None) -> dict[str, int]:
    """The objective of the written plan, term by term, in the solver's integer units."""
    sc = week.scenario
    w = sc.weights
    t = dict.fromkeys(TERMS, 0)
    for r in production:
        c = r["class"]
        t["order_backlog"] += scaled(w.order_backlog[c]) * r["_order_backlog"]
        t["forecast_backlog"] += scaled(w.forecast_backlog[c]) * r["backlog_end"]
        if r["min_stock"] > 0:
            t["min_stock_shortfall"] += scaled(w.min_stock_shortfall[c]) * max(0, r["min_stock"] - r["stock_end"])
        t["holding"] += scaled(w.holding * sc.product(r["product"]).holding_cost) * r["stock_end"]
    # a planned lot pays its setup cost once per product, line and shift (split rows share it)
    by_job = {j.product for j in sc.jobs}  # job operations carry no setup cost (they are sized and fixed)
    lots = {(r.product, r.line, r.shift_index) for r in runs
            if r.kind == "planned" and not r.run_id.startswith("WIP-") and sc.finished(r.product) not in by_job}
    for product, line, shift in sorted(lots):
        cost = (setup_costs or {}).get((product, line, shift))
        if cost is None:
            carried = week.carried.get(shift) == product
            cost = Fraction(0) if carried else sc.product(product).rates[line].setup_cost
        t["setup_cost"] += scaled(w.setup_cost * cost)
    if week.open_from is not None:  # a re-plan: units changed against the previous plan, in shifts open to change
        new: dict[tuple[str, str, int], int] = defaultdict(int)
        for r in runs:
            if r.kind == "planned" and week.accepts_new_work(r.shift_index) and not r.run_id.startswith("WIP-"):
                new[(r.product, r.line, r.shift_index)] += r.quantity
        keys = {k for k in week.previous if week.accepts_new_work(k[2])} | set(new)
        t["nervousness"] = scaled(w.nervousness) * sum(abs(new.get(k, 0) - week.previous.get(k, 0)) for k in keys)
    for row in capacity:
        line = sc.line(row["line"])
        t["overtime"] += scaled(w.overtime * line.overtime_cost) * row["overtime_minutes"]
        if row["open"]:
            t["shift_cost"] += scaled(w.shift_cost * line.shift_cost)
    from sopt.jobs import job_terms  # local import: the jobs stage builds on Plan's Run

    t.update(job_terms(week, runs))
    return t
