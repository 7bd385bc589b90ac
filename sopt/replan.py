"""Daily re-plan from actual progress (R6, R12, R10) and plan comparison (`sopt diff`).

`sopt replan SCENARIO --plan OUTDIR --actuals progress.csv --now DATETIME [-o NEWDIR]`:
- `progress.csv` (UTF-8, optional BOM): `run_id, quantity_done, status` with status `done`
  or `running`, and optional `actual_start, actual_end` (kept for the record);
- frozen: every run reported done or running, every run that started before `now`
  according to the plan (it is under way or over), and every accepted rush run. A run
  reported done with `quantity_done` keeps that quantity; frozen runs keep their line,
  shift and times. A run reported with more units than its planned minutes make at the standard
  rate keeps those minutes (the floor was faster), and material the frozen runs alone used
  beyond what the scenario had on hand is accepted (`sopt check` reports both);
- the rest of the week is solved again: no new work in shifts that started before `now`;
  the previous plan's quantities warm-start the search and every unit changed against it
  costs `policy.weights.nervousness` (default 0.5 per unit), so the plan changes only where
  it must;
- R10: in shifts that start within `policy.release_fence_hours` (default 24) after `now`,
  the protected minutes no rush order claimed are released to planned work
  (`capacity.csv → released_minutes`); shifts holding a rush run keep their window;
- `--receipts receipts.csv` (material, at, quantity[, status arrived|slipped, new_at]) updates
  the scheduled receipts (a slipped receipt moves to new_at; an arrived one takes the
  quantity received); `--new-orders orders.csv` (id, product, quantity, due[, priority])
  adds confirmed orders, which enter the plan's load at once (R12);
- the new folder has the full output contract plus `changes.csv` (with a reason per
  change); run ids of frozen and unchanged runs are kept, new runs get new ids.

`sopt diff OLD NEW` compares any two plan folders the same way: runs matched by id, then
(two independent solves) by line, product and shift.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from sopt.errors import InputError
from sopt.model.solver import Result, solve
from sopt.plan import Plan, Run, plan_from_runs
from sopt.scenario import Scenario
from sopt.schema import FIRST_DATE, LAST_DATE
from sopt.textfile import dict_rows, shown
from sopt.week import FixedRun, Week, prepare

CHANGE_COLUMNS = ["change", "run_id", "product", "old_line", "old_shift", "old_start", "old_quantity",
                  "new_line", "new_shift", "new_start", "new_quantity", "reason"]
MAX_UNITS = 10**9  # the largest quantity a scenario accepts (sopt.schema)
REASONS = {
    "removed": "re-planned: no longer needed here, or its capacity went to other work",
    "moved": "re-sequenced: the runs before it or its line or shift changed",
    "quantity": "re-planned quantity",
    "added": "re-planned: new demand, a stock gap or capacity freed",
}


@dataclass(frozen=True)
class Actual:
    """What the floor reported for one run."""

    run_id: str
    status: str  # done | running
    quantity_done: int | None


def read_actuals(path: Path, plan: Plan) -> dict[str, Actual]:
    """progress.csv, checked against the plan: one line per problem (InputError)."""
    fname = path.name
    rows, problems = _csv(path, ["run_id", "status"])
    known = {r.run_id: r for r in plan.runs}
    out: dict[str, Actual] = {}
    for n, row in rows:
        rid = (row.get("run_id") or "").strip()
        status = (row.get("status") or "").strip().lower()
        qtext = (row.get("quantity_done") or "").strip()
        if rid not in known:
            problems.append(f"{fname}: line {n}.run_id: run '{rid}' is not in the plan")
            continue
        if status not in ("done", "running"):
            problems.append(f"{fname}: line {n}.status: '{status}' is not done or running")
            continue
        qty = None
        if qtext:
            try:
                qty = int(qtext)
            except ValueError:
                problems.append(f"{fname}: line {n}.quantity_done: {shown(qtext)} is not a whole number")
                continue
            if qty < 0:
                problems.append(f"{fname}: line {n}.quantity_done: {qty} is negative")
                continue
            if qty > MAX_UNITS:
                problems.append(f"{fname}: line {n}.quantity_done: {qty} is more than {MAX_UNITS:,} units")
                continue
        if rid in out:
            problems.append(f"{fname}: line {n}.run_id: run '{rid}' is reported twice")
            continue
        out[rid] = Actual(rid, status, qty)
    if problems:
        raise InputError(problems)
    return out


def apply_receipts(scenario: Scenario, path: Path) -> Scenario:
    """receipts.csv (material, at, quantity[, status, new_at]): receipts that arrived (with the
    quantity received) or slipped (to new_at), and unplanned receipts; one line per problem."""
    rows, problems = _csv(path, ["material", "at", "quantity"])
    fname = path.name
    mats = {m.id: m for m in scenario.materials}
    receipts = {m.id: list(m.receipts) for m in scenario.materials}
    for n, row in rows:
        mid = row["material"]
        if mid not in mats:
            problems.append(f"{fname}: line {n}.material: material {shown(mid)} is not defined")
            continue
        status = (row.get("status") or "arrived").lower()
        found: list[str] = []
        at = _plant_time(row["at"], f"{fname}: line {n}.at", found)
        qty = _amount(row["quantity"], f"{fname}: line {n}.quantity", found)
        new_at = at
        if status == "slipped":
            new_at = _plant_time(row.get("new_at", ""), f"{fname}: line {n}.new_at", found)
        elif status != "arrived":
            found.append(f"{fname}: line {n}.status: {shown(status)} is not arrived or slipped")
        if found or at is None or new_at is None or qty is None:
            problems.extend(found)
            continue
        listed = [k for k, (t, _) in enumerate(receipts[mid]) if t == at]
        if listed:
            receipts[mid].pop(listed[0])
        receipts[mid].append((new_at, qty))
    if problems:
        raise InputError(problems)
    materials = tuple(dataclasses.replace(m, receipts=tuple(sorted(receipts[m.id]))) for m in scenario.materials)
    return dataclasses.replace(scenario, materials=materials)


def add_orders(scenario: Scenario, path: Path) -> Scenario:
    """orders.csv (id, product, quantity, due[, priority]): new confirmed orders (R12)."""
    from sopt.scenario import Order

    rows, problems = _csv(path, ["id", "product", "quantity", "due"])
    fname = path.name
    known = {p.id for p in scenario.products}
    ids = {o.id for o in scenario.orders}
    new = []
    for n, row in rows:
        oid, pid = row["id"], row["product"]
        if not oid:
            problems.append(f"{fname}: line {n}.id: empty")
            continue
        if pid not in known:
            problems.append(f"{fname}: line {n}.product: product {shown(pid)} is not defined")
            continue
        if oid in ids:
            problems.append(f"{fname}: line {n}.id: order {shown(oid)} exists already")
            continue
        found: list[str] = []
        qty = _count(row["quantity"], 1, MAX_UNITS, f"{fname}: line {n}.quantity", found)
        prio = _count(row.get("priority") or "0", 0, 1000, f"{fname}: line {n}.priority", found)
        try:
            due = dt.date.fromisoformat(row["due"])
            if not FIRST_DATE <= due <= LAST_DATE:
                raise ValueError
        except ValueError:
            found.append(f"{fname}: line {n}.due: {shown(row['due'])} is not a date YYYY-MM-DD in the years "
                         f"{FIRST_DATE.year} .. {LAST_DATE.year}")
        if found:
            problems.extend(found)
            continue
        ids.add(oid)
        new.append(Order(oid, pid, qty, max(due, scenario.start), prio, None, due < scenario.start))
    if problems:
        raise InputError(problems)
    return dataclasses.replace(scenario, orders=scenario.orders + tuple(new))


def _plant_time(text: str, where: str, problems: list[str]) -> dt.datetime | None:
    """A naive plant time YYYY-MM-DDTHH:MM; None (and the problem appended) otherwise."""
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        problems.append(f"{where}: {shown(text)} is not a plant time YYYY-MM-DDTHH:MM")
        return None
    if t.tzinfo is not None:
        problems.append(f"{where}: {shown(text)} carries a time zone; plant times are naive local time")
        return None
    if not FIRST_DATE <= t.date() <= LAST_DATE:
        problems.append(f"{where}: {text} is outside the years {FIRST_DATE.year} .. {LAST_DATE.year}")
        return None
    return t


def _amount(text: str, where: str, problems: list[str]) -> Fraction | None:
    """A material quantity 0 .. MAX_UNITS, exact; None (and the problem appended) otherwise."""
    try:
        d = Decimal(text)
    except InvalidOperation:
        d = Decimal("NaN")
    if not d.is_finite() or not 0 <= d <= MAX_UNITS or (d and d.adjusted() < -12):
        problems.append(f"{where}: {shown(text)} is not a quantity 0 .. {MAX_UNITS:,} (at most 12 decimals)")
        return None
    return Fraction(d)


def _count(text: str, low: int, high: int, where: str, problems: list[str]) -> int:
    """A whole number low .. high; a problem appended (and `low` returned) otherwise."""
    try:
        v = int(text)
    except ValueError:
        problems.append(f"{where}: {shown(text)} is not a whole number")
        return low
    if not low <= v <= high:
        problems.append(f"{where}: {v} is outside {low} .. {high:,}")
    return v


def scenario_yaml(path: Path, sc: Scenario) -> bytes:
    """The scenario file as `sc` now stands (orders added, receipts moved), self-contained:
    forecast and orders written inline, so it can be checked beside the plan it produced."""
    import yaml

    from sopt.scenario import read_yaml

    data = read_yaml(Path(path))
    state = data.get("state") or {}
    backlog_ids = {str(b.get("order_id") or f"BACKLOG-{b.get('product')}") for b in state.get("backlog") or []}
    demand = dict(data.get("demand") or {})
    demand.pop("forecast_csv", None)
    demand.pop("orders_csv", None)
    demand["forecast"] = {p: list(v) for p, v in sc.forecast.items() if any(v)}
    demand["orders"] = [{"id": o.id, "product": o.product, "quantity": o.quantity, "due": o.due,
                         "priority": o.priority} for o in sc.orders if o.id not in backlog_ids]
    data["demand"] = demand
    for m in data.get("materials") or []:
        mat = sc.material(str(m["id"]))
        m["receipts"] = [{"at": t.strftime("%Y-%m-%dT%H:%M"), "quantity": float(q) if q.denominator != 1 else int(q)}
                         for t, q in mat.receipts]
    if isinstance(data.get("rush_orders"), dict) and data["rush_orders"].get("history_csv"):
        data.pop("rush_orders")  # its history file stays with the original scenario
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


def _csv(path: Path, columns: list[str]) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    return dict_rows(path, path.name, columns), []


def replan_week(scenario: Scenario, old: Plan, actuals: dict[str, Actual], now: dt.datetime) -> Week:
    """The week to solve again: frozen runs, the fence's released minutes, the previous quantities."""
    week = prepare(scenario)
    frozen: list[Run] = []
    for r in old.runs:
        a = actuals.get(r.run_id)
        if a is not None or r.start < now or r.kind == "rush":
            if a is not None and a.status == "done" and a.quantity_done is not None and a.quantity_done != r.quantity:
                r = dataclasses.replace(r, quantity=a.quantity_done)
            if r.quantity > 0:
                frozen.append(r)
    frozen_ids = {r.run_id for r in frozen}
    week.frozen_runs = frozen
    week.taken_ids = {r.run_id for r in old.runs}
    week.fixed = [FixedRun(r.line, r.product, r.quantity, r.shift_index, r.setup_minutes + r.run_minutes,
                           consumes_material=not r.run_id.startswith("WIP-")) for r in frozen]
    week.wip = [w for w in week.wip if f"WIP-{w.line}" not in frozen_ids and
                not any(r.run_id == f"WIP-{w.line}" for r in old.runs if r.start < now)]
    week.open_from = now
    fence = now + dt.timedelta(hours=scenario.release_fence_hours)
    rush_shifts = {r.shift_index for r in old.runs if r.kind == "rush"}
    week.released = {i: s.P for i, s in enumerate(week.shifts)
                     if s.W > 0 and s.P > 0 and now <= s.start < fence and i not in rush_shifts}
    # the product each line is set up for when the re-planned part starts
    carried: dict[int, str] = {}
    for line, idx in week.shifts_of_line.items():
        first_new = next((i for i in idx if week.shifts[i].W > 0 and week.accepts_new_work(i)), None)
        if first_new is None:
            continue
        before = [r for r in frozen if r.line == line]
        if before:
            carried[first_new] = max(before, key=lambda r: (r.end, r.run_id)).product
        elif first_new in week.carried:
            carried[first_new] = week.carried[first_new]
    week.carried = carried
    prev: dict[tuple[str, str, int], int] = defaultdict(int)
    for r in old.runs:
        if r.run_id not in frozen_ids and r.kind == "planned" and not r.run_id.startswith("WIP-"):
            prev[(r.product, r.line, r.shift_index)] += r.quantity
    week.previous = dict(prev)
    return week


def replan(scenario: Scenario, old: Plan, actuals: dict[str, Actual], now: dt.datetime, **solve_args: Any) -> Result:
    """Solve the rest of the week again; frozen work never moves; unchanged runs keep their ids."""
    week = replan_week(scenario, old, actuals, now)
    frozen_ids = {r.run_id for r in week.frozen_runs}
    future = dataclasses.replace(old, runs=[r for r in old.runs if r.run_id not in frozen_ids and r.kind == "planned"
                                            and not r.run_id.startswith("WIP-")])
    result = solve(week, warm_start=future, **solve_args)
    if result.plan is None:
        return result
    result.plan = _keep_ids(week, old, result.plan, frozen_ids)
    return result


def _keep_ids(week: Week, old: Plan, new: Plan, frozen_ids: set[str]) -> Plan:
    """A new run identical to an old one (line, shift, product, quantity) takes the old run's id."""
    pool: dict[tuple[str, int, str, int], list[str]] = defaultdict(list)
    for r in old.runs:
        if r.run_id not in frozen_ids:
            pool[(r.line, r.shift_index, r.product, r.quantity)].append(r.run_id)
    used = {r.run_id for r in new.runs}
    runs = []
    for r in new.runs:
        ids = pool.get((r.line, r.shift_index, r.product, r.quantity))
        if r.run_id not in frozen_ids and ids:
            old_id = ids.pop(0)
            if old_id not in used or old_id == r.run_id:
                used.discard(r.run_id)
                used.add(old_id)
                r = dataclasses.replace(r, run_id=old_id)
        runs.append(r)
    return plan_from_runs(week, runs, new.opened, new.sequence)


# ----------------------------------------------------------------------------- changes


def diff_rows(old: list[dict[str, Any]], new: list[dict[str, Any]],
              reported: set[str] | None = None) -> list[dict[str, Any]]:
    """Changes between two schedules (rows as in schedule.csv): added, removed, moved, quantity.
    `reported`: run ids whose quantity the floor reported (the reason says so)."""
    def key(r: dict[str, Any]) -> tuple[str, str, str]:
        return (str(r["line"]), str(r["product"]), str(r["shift"]))

    old_by_id = {str(r["run_id"]): r for r in old}
    new_by_id = {str(r["run_id"]): r for r in new}
    pairs = [(old_by_id[i], new_by_id[i]) for i in old_by_id if i in new_by_id]
    rest_old = [r for i, r in old_by_id.items() if i not in new_by_id]
    rest_new = [r for i, r in new_by_id.items() if i not in old_by_id]
    by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rest_new:
        by_key[key(r)].append(r)
    unmatched_old = []
    for r in rest_old:
        if by_key.get(key(r)):
            pairs.append((r, by_key[key(r)].pop(0)))
        else:
            unmatched_old.append(r)
    out = []
    for o, n in pairs:
        moved = (o["line"], o["shift"], o["start"]) != (n["line"], n["shift"], n["start"])
        qty = int(o["quantity"]) != int(n["quantity"])
        if moved or qty:
            out.append(_change("moved" if moved else "quantity", o, n))
    out += [_change("removed", r, None) for r in unmatched_old]
    out += [_change("added", None, r) for rs in by_key.values() for r in rs]
    for c in out:
        ids = str(c["run_id"]).split("->")
        if c["change"] == "quantity" and reported and ids[0] in reported:
            c["reason"] = "actual quantity reported by the floor"
    order = {"removed": 0, "moved": 1, "quantity": 2, "added": 3}
    return sorted(out, key=lambda c: (order[c["change"]], c["old_start"] or c["new_start"], c["run_id"]))


def _change(kind: str, o: dict[str, Any] | None, n: dict[str, Any] | None) -> dict[str, Any]:
    src = n or o
    assert src is not None
    rid = str(src["run_id"]) if o is None or n is None or o["run_id"] == n["run_id"] else f"{o['run_id']}->{n['run_id']}"
    return {"change": kind, "run_id": rid, "product": src["product"],
            "old_line": o["line"] if o else "", "old_shift": o["shift"] if o else "",
            "old_start": o["start"] if o else "", "old_quantity": int(o["quantity"]) if o else 0,
            "new_line": n["line"] if n else "", "new_shift": n["shift"] if n else "",
            "new_start": n["start"] if n else "", "new_quantity": int(n["quantity"]) if n else 0,
            "reason": REASONS[kind]}


def summarise(changes: list[dict[str, Any]]) -> str:
    """A one-screen summary of what changed."""
    count: dict[str, int] = defaultdict(int)
    units: dict[str, int] = defaultdict(int)
    for c in changes:
        count[c["change"]] += 1
        units[c["change"]] += abs(int(c["new_quantity"]) - int(c["old_quantity"]))
    if not changes:
        return "no run changed"
    head = ", ".join(f"{count[k]} {k}" for k in ("removed", "moved", "quantity", "added") if count[k])
    lines = [f"changes    {head} ({sum(units.values())} units changed)"]
    for c in changes[:15]:
        old = f"{c['old_line']} {c['old_start']} x{c['old_quantity']}" if c["old_line"] else "-"
        new = f"{c['new_line']} {c['new_start']} x{c['new_quantity']}" if c["new_line"] else "-"
        lines.append(f"  {c['change']:<9}{c['run_id']:<26} {c['product']:<8}{old:<30} -> {new:<30} {c['reason']}")
    if len(changes) > 15:
        lines.append(f"  ... and {len(changes) - 15} more (changes.csv)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- CLI


def register(sub: Any) -> None:
    """`sopt replan` and `sopt diff`."""
    from sopt.cli import MAX_SECONDS, MAX_WORKERS, _positive, _seed

    r = sub.add_parser("replan", help="re-plan the rest of the week from actual progress (R6)")
    r.add_argument("scenario", type=Path)
    r.add_argument("--plan", type=Path, required=True, help="the committed plan folder")
    r.add_argument("--actuals", type=Path, required=True, help="progress.csv: run_id, quantity_done, status")
    r.add_argument("--now", required=True, help="plant time of the re-plan, YYYY-MM-DDTHH:MM")
    r.add_argument("--receipts", type=Path, help="receipts.csv: material, at, quantity[, status arrived|slipped, new_at]")
    r.add_argument("--new-orders", type=Path, help="orders.csv: id, product, quantity, due[, priority] (R12)")
    r.add_argument("-o", "--out", type=Path, help="new plan folder (default <plan>-replan)")
    r.add_argument("--time-limit", type=_positive(float, MAX_SECONDS),
                   help="seconds for the solver (default: the scenario's)")
    r.add_argument("--workers", type=_positive(int, MAX_WORKERS), help="CP-SAT workers (default: the scenario's)")
    r.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    r.add_argument("--deterministic", action="store_true")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress lines while solving")
    r.set_defaults(run=cmd_replan)
    d = sub.add_parser("diff", help="compare two plan folders run by run")
    d.add_argument("old", type=Path)
    d.add_argument("new", type=Path)
    d.add_argument("-o", "--out", type=Path, help="write the changes as CSV")
    d.set_defaults(run=cmd_diff)


def _now(text: str) -> dt.datetime:
    try:
        now = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError([f"--now: '{text}' is not a plant time YYYY-MM-DDTHH:MM"]) from None
    if now.tzinfo is not None:
        raise InputError([f"--now: '{text}' carries a time zone; plant times are naive local time"])
    return now


def cmd_replan(args: argparse.Namespace) -> int:
    """`sopt replan`."""
    from sopt.cli import EXIT_INTERRUPTED, _Progress, _self_check, _SigInt, _summary
    from sopt.output import csv_bytes, load_plan, locked, plan_files, write_folder
    from sopt.scenario import load_scenario

    sc = load_scenario(args.scenario)
    if sc.jobs:
        raise InputError([f"{args.scenario}: jobs: re-planning a week with jobs is not supported yet; "
                          "solve the week again with the jobs' remaining work"])
    now = _now(args.now)
    old = load_plan(sc, args.plan)
    if not (sc.start_time <= now <= sc.start_time + dt.timedelta(days=sc.days)):
        raise InputError([f"--now: {now:%Y-%m-%dT%H:%M} is outside the plan's week"])
    actuals = read_actuals(args.actuals, old)
    base = old.week.scenario
    if args.receipts:
        base = apply_receipts(base, args.receipts)
    if args.new_orders:
        base = add_orders(base, args.new_orders)
    out: Path = args.out or args.plan.parent / f"{args.plan.name}-replan"
    with locked(out), _SigInt():
        print(f"sopt: re-planning {sc.name} from {now:%Y-%m-%dT%H:%M} ({len(actuals)} runs reported)")
        result = replan(base, old, actuals, now, time_limit=args.time_limit, workers=args.workers,
                        seed=args.seed, deterministic=args.deterministic, on_progress=_Progress(args.quiet))
        if result.plan is None:
            print(f"sopt: no plan within the limit ({result.solver_status}); nothing written, {out} kept.")
            if not result.interrupted:
                print("  try: a longer --time-limit or more --workers")
            return EXIT_INTERRUPTED if result.interrupted else 1
        frozen = {r.run_id for r in result.week.frozen_runs}
        reported = {rid for rid, a in actuals.items() if a.quantity_done is not None}
        overdrawn = _overdrawn(result.week)
        # actual quantities the floor reported may break lot rules; a run reported with more units than
        # planned keeps its planned minutes (the floor was faster) and may have used more material than
        # the scenario says was there (the model then gives the rest of the week none of it); anything
        # else is a bug
        violations = _self_check(result, allow=lambda v: (v.rule == "lot rules" and any(f in v.where for f in frozen))
                                 or (v.rule == "run time" and any(f in v.where for f in reported))
                                 or (v.rule == "R5 material" and _material(v) in overdrawn))
        if violations:
            from sopt.output import committed_violations

            blame = committed_violations(old, args.plan / "plan.json", allow=lambda v: v.rule == "lot rules")
            if blame:  # the frozen runs came from a committed plan that broke the rules already
                raise InputError(blame)
            raise RuntimeError("the re-planned plan breaks rules:\n" + "\n".join(violations))
        changes = diff_rows(old.schedule_rows(), result.plan.schedule_rows(), set(actuals))
        files = plan_files(result)
        files["changes.csv"] = csv_bytes(changes, CHANGE_COLUMNS)
        if args.receipts or args.new_orders:  # the week changed: keep the scenario it was planned for
            files["scenario.yaml"] = scenario_yaml(args.scenario, base)
        write_folder(out, files)
    _summary(result, out)
    week = result.week
    print(f"frozen     {len(week.frozen_runs)} runs (done, running or started before now)")
    print(f"released   {sum(week.released.values())} protected minutes inside the "
          f"{week.scenario.release_fence_hours:g} h fence to planned work (R10)")
    print(summarise(changes))
    if result.interrupted:
        print(f"sopt: interrupted — the best plan found so far was written to {out}/")
        return EXIT_INTERRUPTED
    return 0


def _overdrawn(week: Week) -> set[str]:
    """The materials that the frozen runs alone use beyond what the scenario has on hand by then."""
    from sopt.checker import check_plan_rows

    frozen = plan_from_runs(week, list(week.frozen_runs))
    return {_material(v) for v in check_plan_rows(frozen) if v.rule == "R5 material"}


def _material(v: Any) -> str:
    """The material of an R5 violation (its `where` is "material ID MOMENT")."""
    return str(v.where.split()[1])


def cmd_diff(args: argparse.Namespace) -> int:
    """`sopt diff OLD NEW`."""
    from sopt.output import csv_bytes

    rows = []
    for folder in (args.old, args.new):
        path = folder / "plan.json"
        try:
            rows.append(json.loads(path.read_text(encoding="utf-8"))["schedule"])
        except FileNotFoundError:
            raise InputError([f"{path}: not found: give two plan folders written by sopt"]) from None
        except (ValueError, KeyError, TypeError) as e:
            raise InputError([f"{path}: not a sopt plan ({e})"]) from None
    changes = diff_rows(rows[0], rows[1])
    print(summarise(changes))
    if args.out:
        args.out.write_bytes(csv_bytes(changes, CHANGE_COLUMNS))
        print(f"written    {args.out}")
    return 0
