"""Writing a plan folder: every contract file, staged and renamed into place under a lock.

CONTRACT.md, "Writing outputs": the folder is written as `OUT.staging-<pid>`, then `OUT`
is renamed to `OUT.previous` (an older one removed), then the staging folder to `OUT`.
A killed run leaves `OUT` or `OUT.previous`, which the next run restores first. An OS
file lock (`.OUT.lock` beside the folder) refuses a second writer; the OS releases it
when a run dies.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import fcntl
import hashlib
import io
import json
import math
import os
import shutil
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sopt.errors import FolderLocked
from sopt.jobs import JOB_COLUMNS, job_kpis, job_rows
from sopt.model.solver import Result
from sopt.mrp import EXPEDITE_COLUMNS, MRP_COLUMNS, PO_COLUMNS, MrpResult, build_mrp
from sopt.plan import Plan, iso
from sopt.scenario import Scenario

SCHEMA_VERSION = 1
COLUMNS = {
    "schedule.csv": ["run_id", "line", "shift", "shift_start", "shift_end", "start", "end", "product", "class",
                     "quantity", "setup_minutes", "run_minutes", "order_ids", "kind"],
    "capacity.csv": ["line", "shift", "shift_start", "shift_end", "available_minutes", "protected_minutes",
                     "protected_start", "protected_end", "overtime_minutes", "released_minutes", "rush_minutes",
                     "planned_minutes", "utilization", "open"],
    "production_plan.csv": ["product", "class", "date", "demand", "production", "delivered", "stock_end",
                            "backlog_end", "min_stock", "unmet"],
    "unmet.csv": ["product", "date", "quantity", "reason", "detail"],
    "orders.csv": ["order_id", "product", "class", "quantity", "due", "planned_completion", "on_time",
                   "lateness_minutes"],
}


def csv_bytes(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    """UTF-8 CSV with a byte-order mark (Excel shows Chinese names), one header row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c, "")) for c in columns])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def _cell(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(round(v, 6))
    return v


def _clean(v: Any) -> Any:
    """JSON never holds NaN or Infinity."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


def kpis(result: Result) -> dict[str, Any]:
    """kpis.json content."""
    sc = result.week.scenario
    plan = result.plan
    timing: dict[str, float | None] = dict(result.timing)
    timing["time_to_best_seconds"] = result.time_to_best_seconds
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "scenario": sc.name,
        "horizon": {"start": sc.start.isoformat(), "days": sc.days},
        "status": result.status.value,
        "objective": result.objective,
        "best_bound": result.best_bound,
        "gap": result.gap,
        "solve_seconds": result.solve_seconds,
        "reserve_ratio": float(sc.reserve_ratio),
        "protected_window": sc.protected_window,
        "classes": {c: sorted(p for p, k in result.week.classes.items() if k == c) for c in "ABC"},
        "service_level": plan.service_level() if plan else {"A": None, "B": None, "C": None},
        "unmet_units": plan.unmet_units() if plan else None,
        "late_units": plan.late_units() if plan else None,
        "min_stock_shortfall_units": plan.min_stock_shortfall_units() if plan else None,
        "utilization": plan.utilization() if plan else {},
        "objective_terms": plan.objective_terms if plan else {},
        "unmet_by_reason": _by_reason(plan.unmet) if plan else {},
        "sequence": _sequence(plan) if plan else None,
        "jobs": job_kpis(plan.week, plan.runs, plan.jobs) if plan else None,
        "runs": len(plan.runs) if plan else 0,
        "interrupted": result.interrupted,
        "solver": {"status": result.solver_status, **result.settings},
        "warnings": list(sc.warnings),
        "timing": timing,
        "generated_at": dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S"),
    }
    return _clean(out)


def _sequence(plan: Plan) -> dict[str, Any]:
    s = plan.sequence
    return {"status": s.status, "changeover_minutes": s.changeover_minutes,
            "reserved_changeover_minutes": s.reserved_changeover_minutes,
            "recovered_minutes": s.recovered_minutes,
            "lateness_minutes": sum(o["lateness_minutes"] for o in plan.orders),
            "shifts_sequenced": s.shifts_sequenced, "shifts_by_search": s.shifts_by_search}


def _by_reason(rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r["reason"]] = out.get(r["reason"], 0) + r["quantity"]
    return out


def load_plan(scenario: Scenario, outdir: Path) -> Plan:
    """The plan written in `outdir` (its plan.json), rebuilt against the scenario (at the plan's
    own reserve ratio). A plan.json that is broken, edited into nonsense or made for another
    week raises InputError, one `plan.json: schedule[i].field: message` line per problem."""
    from sopt.errors import InputError
    from sopt.plan import plan_from_runs, runs_from_rows
    from sopt.textfile import read_text
    from sopt.week import prepare

    path = Path(outdir) / "plan.json"
    if not path.exists() and not path.parent.is_dir():
        raise InputError([f"{outdir}: --plan: not a plan folder"])
    if not path.exists():
        raise InputError([f"{path}: file not found: --plan must name a folder written by sopt solve"])
    try:
        doc = json.loads(read_text(path, str(path), "a plan file"))
    except ValueError as e:
        raise InputError([f"{path}: file: not JSON ({e})"]) from None
    if not isinstance(doc, dict):
        raise InputError([f"{path}: file: not a sopt plan (a JSON object with schedule and capacity)"])
    problems = [f"{path}: {key}: missing or not a list of rows" for key in ("schedule", "capacity")
                if not isinstance(doc.get(key), list) or not all(isinstance(r, dict) for r in doc[key])]
    if problems:
        raise InputError(problems)
    kpis = doc.get("kpis")
    ratio = kpis.get("reserve_ratio") if isinstance(kpis, dict) else None
    if ratio is not None:
        try:
            r = Decimal(str(ratio))
        except ArithmeticError:
            r = Decimal("NaN")
        if not (r.is_finite() and 0 <= r < 1 and r == r.quantize(Decimal("0.0001"))):
            raise InputError([f"{path}: kpis.reserve_ratio: {str(ratio)[:40]!r} is not a ratio 0 <= r < 1 with at "
                              "most 4 decimals"])
        if r != scenario.reserve_ratio:
            scenario = scenario.with_reserve(r)  # the plan's own protected share
    week = prepare(scenario)
    problems = _schedule_problems(week, doc["schedule"], f"{path}: schedule")
    for i, row in enumerate(doc["capacity"]):
        if row.get("open") and (str(row.get("line")), str(row.get("shift"))) not in week.shift_index:
            problems.append(f"{path}: capacity[{i}].shift: line {str(row.get('line'))[:40]!r} has no shift "
                            f"{str(row.get('shift'))[:40]!r} in the scenario's week")
    if problems:
        raise InputError(problems[:MAX_PLAN_PROBLEMS] + ([f"{path}: schedule: {len(problems) - MAX_PLAN_PROBLEMS} "
                                                          "more problems not shown"]
                                                         if len(problems) > MAX_PLAN_PROBLEMS else []))
    runs = runs_from_rows(week, doc["schedule"])
    opened = {week.shift_index[(str(r["line"]), str(r["shift"]))] for r in doc["capacity"] if r.get("open")}
    return plan_from_runs(week, runs, opened)


MAX_PLAN_PROBLEMS = 20
MAX_UNITS = 10**9  # the largest quantity a scenario accepts (sopt.schema)


def _schedule_problems(week: Any, rows: list[dict[str, Any]], where: str) -> list[str]:
    """What keeps plan.json's schedule rows from being runs of this week (types, ranges, references)."""
    out: list[str] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        at = f"{where}[{i}]"
        missing = [k for k in ("run_id", "line", "shift", "start", "end", "product", "quantity", "setup_minutes",
                               "run_minutes") if k not in row]
        if missing:
            out.append(f"{at}: missing {', '.join(missing)}")
            continue
        rid = str(row["run_id"])
        if not rid or rid in seen:
            out.append(f"{at}.run_id: {rid[:40]!r} is empty or not unique")
        seen.add(rid)
        key = (str(row["line"]), str(row["shift"]))
        if key not in week.shift_index:
            out.append(f"{at}.shift: line {key[0][:40]!r} has no shift {key[1][:40]!r} in the scenario's week")
            continue
        s = week.shifts[week.shift_index[key]]
        product = str(row["product"])
        if product not in week.classes:
            out.append(f"{at}.product: {product[:40]!r} is not a product of the scenario")
        span = int((s.end - s.start).total_seconds()) // 60 + s.overtime_cap
        for k, high in (("quantity", MAX_UNITS), ("setup_minutes", span), ("run_minutes", span)):
            v = row[k]
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= high:
                out.append(f"{at}.{k}: {str(v)[:40]!r} is not a whole number 0 .. {high}")
        times = []
        for k in ("start", "end"):
            try:
                t = dt.datetime.fromisoformat(str(row[k]))
            except ValueError:
                out.append(f"{at}.{k}: {str(row[k])[:40]!r} is not a plant time YYYY-MM-DDTHH:MM")
                continue
            if t.tzinfo is not None or not s.start - dt.timedelta(days=1) <= t <= s.end + dt.timedelta(days=1):
                out.append(f"{at}.{k}: {t} is not a plant time near its shift {key[1]}")
                continue
            times.append(t)
        if len(times) == 2 and times[0] > times[1]:
            out.append(f"{at}.end: {times[1]} is before the start {times[0]}")
        for part in str(row.get("order_ids") or "").split(";"):
            oid, _, qty = part.partition(":")
            if part and not (oid and qty.isdigit() and int(qty) <= MAX_UNITS):
                out.append(f"{at}.order_ids: {part[:40]!r} is not ORDER:QUANTITY")
        if str(row.get("kind") or "planned") not in ("planned", "rush"):
            out.append(f"{at}.kind: {str(row.get('kind'))[:40]!r} is not planned or rush")
    return out


def committed_violations(plan: Plan, path: Path, allow: Any = lambda v: False) -> list[str]:
    """The committed plan's own rule violations, as input problems: a plan.json edited by hand, or
    read against a scenario changed since, is bad input; a new plan that breaks rules on its own
    is a bug. `allow`: violations to ignore."""
    from sopt.checker import check_plan_rows

    found = [v for v in check_plan_rows(plan) if not allow(v)]
    return [f"{path}: schedule: the committed plan breaks a rule: {v}" for v in found[:MAX_PLAN_PROBLEMS]]


def scenario_hash(path: str) -> str | None:
    """SHA-256 of the scenario file's bytes (identifies the week a plan was made for)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


STAFFING_COLUMNS = ["line", "shift", "shift_start", "shift_end", "open", "crew", "pool", "pool_used"]


def staffing_rows(plan: Plan) -> list[dict[str, Any]]:
    """R4 staffing: the crew each line needs per shift it opens, against the shift's operator pool.

    `pool` is the operators available to all lines in that shift (template and date; empty
    when the scenario sets no pool for the template), `pool_used` the crews of the lines
    that run it.
    """
    sc = plan.week.scenario
    shifts = plan.week.shifts
    used: dict[tuple[str, Any], int] = defaultdict(int)
    for i in plan.opened:
        s = shifts[i]
        if s.W > 0:
            used[(s.template, s.date)] += sc.line(s.line).crew
    rows = []
    for i, s in enumerate(shifts):
        if s.W == 0:
            continue
        is_open = i in plan.opened
        pool = sc.crew_pool.get(s.template)
        rows.append({"line": s.line, "shift": s.shift, "shift_start": iso(s.start), "shift_end": iso(s.end),
                     "open": int(is_open), "crew": sc.line(s.line).crew if is_open else 0,
                     "pool": "" if pool is None else pool, "pool_used": used[(s.template, s.date)]})
    return rows


def plan_files(result: Result, *, pictures: bool = True, workbook: bool = True,
               report: bool = True) -> dict[str, bytes]:
    """Every file of the plan folder, as bytes (the slow views may be left out)."""
    plan = result.plan
    assert plan is not None
    tables = {
        "schedule.csv": plan.schedule_rows(), "capacity.csv": plan.capacity,
        "production_plan.csv": plan.production, "unmet.csv": plan.unmet, "orders.csv": plan.orders,
    }
    files = {name: csv_bytes(rows, COLUMNS[name]) for name, rows in tables.items()}
    sc = result.week.scenario
    mrp = build_mrp(plan)
    extra = {"mrp.csv": (MRP_COLUMNS, mrp.rows), "purchase_orders.csv": (PO_COLUMNS, mrp.purchase_orders),
             "expedite.csv": (EXPEDITE_COLUMNS, mrp.expedite),
             "staffing.csv": (STAFFING_COLUMNS, staffing_rows(plan))}
    if sc.jobs:
        extra["jobs.csv"] = (JOB_COLUMNS, job_rows(plan.week, plan.runs))
    for name, (cols, rows) in extra.items():
        files[name] = csv_bytes(rows, cols)
    k = kpis(result)
    files["kpis.json"] = (json.dumps(k, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    sc = result.week.scenario
    doc = {"schema_version": SCHEMA_VERSION, "scenario": sc.source, "scenario_name": sc.name,
           "scenario_sha256": scenario_hash(sc.source), "kpis": k}
    for name, rows in tables.items():
        doc[name.removesuffix(".csv")] = [{c: r.get(c) for c in COLUMNS[name]} for r in rows]
    for name, (cols, rows) in extra.items():
        doc[name.removesuffix(".csv")] = [{c: r.get(c) for c in cols} for r in rows]
    files["plan.json"] = (json.dumps(_clean(doc), indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    files.update(views(result, k, mrp, pictures=pictures, workbook=workbook, report=report))
    return files


def views(result: Result, k: dict[str, Any], mrp: MrpResult, *, pictures: bool, workbook: bool,
          report: bool) -> dict[str, bytes]:
    """Shop-floor dispatch lists, pictures, the workbook and the weekly report."""
    from sopt.shopfloor import dispatch_files, workbook_bytes

    plan = result.plan
    assert plan is not None
    out = dict(dispatch_files(plan))
    pics: dict[str, bytes] = {}
    drawn = None
    if pictures or report:
        from sopt.gantt import start_pictures

        drawn = start_pictures(plan)  # the Gantt chart is drawn alongside the workbook where it can be
    tables = {"MRP": (MRP_COLUMNS, mrp.rows), "Purchase orders": (PO_COLUMNS, mrp.purchase_orders),
              "Expedite": (EXPEDITE_COLUMNS, mrp.expedite)}
    if workbook:
        out["schedule.xlsx"] = workbook_bytes(plan, k, tables)
    if drawn is not None:
        pics = drawn()
        if pictures:
            out.update(pics)
    if report:
        from sopt.report import report_html

        urgent = [po for po in mrp.purchase_orders if po.get("expedite")]
        out["report.html"] = report_html(plan, k, pics, {
            "Expedite": (EXPEDITE_COLUMNS, mrp.expedite),
            "Purchase orders": (PO_COLUMNS, urgent or mrp.purchase_orders[:20])})
    return out


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the OS lock of an output folder; raise FolderLocked when another run holds it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.parent / f".{out.name}.lock"
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderLocked(f"{out}: another sopt run is writing this folder") from None
        recover(out)
        yield
    finally:
        os.close(fd)


def recover(out: Path) -> None:
    """Restore OUT from OUT.previous after a run killed between the renames; drop dead stagings."""
    previous = out.parent / f"{out.name}.previous"
    if not out.exists() and previous.exists():
        previous.rename(out)
    for st in out.parent.glob(f"{out.name}.staging-*"):
        pid = st.name.rsplit("-", 1)[-1]
        if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
            shutil.rmtree(st, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_folder(out: Path, files: dict[str, bytes]) -> None:
    """Write files as a complete new folder OUT (call inside `locked(out)`)."""
    staging = out.parent / f"{out.name}.staging-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name, data in files.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        with open(staging / name, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    previous = out.parent / f"{out.name}.previous"
    if out.exists():
        if previous.exists():
            shutil.rmtree(previous)
        out.rename(previous)
    staging.rename(out)
    _fsync_dir(out.parent)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_result(out: Path, result: Result) -> None:
    """Write a solved plan into OUT (locked, staged, renamed)."""
    files = plan_files(result)
    with locked(out):
        write_folder(out, files)
