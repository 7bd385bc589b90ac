"""Order promising (R11): `sopt promise` against a committed plan.

`sopt promise SCENARIO --plan OUTDIR --product P --quantity Q [--requested DATE]
[--now DATETIME] [--rush] [--buffer-days N] [--json] [--accept [-o NEWDIR]]`

- The committed plan is OUTDIR/plan.json, rebuilt against the scenario at the plan's own
  reserve ratio (`sopt.output.load_plan`). It is never changed.
- `--now` defaults to the horizon start at 06:00; it must lie inside the horizon.
- A regular order (no `--rush`) gets R11's date (`sopt.rush.rule_date`: now + (load of the
  plan's runs ending after now + the new order's minutes) ÷ (W − P per day), per eligible
  line, earliest line wins). The customer date adds the business buffer (`--buffer-days`,
  default 1 day; the scenario has no field for it yet).
- A rush order (`--rush`) is placed by the protected-minutes ledger (`sopt.rush.Ledger`):
  the earliest completion inside the protected windows of the eligible lines, with the
  material on hand or arriving, the committed plan kept as it is. That completion is the
  promise (its shift's plant date is the promised date; the customer date is the same, no
  buffer: the minutes are booked, not estimated). R11's date is shown beside it.
- The request is met when the customer date is on or before `--requested` (no
  `--requested`: when a date is found at all). When it is not met the answer is no (exit 1)
  and the binding constraint is named (`no eligible line`, `calendar`, `material` with the
  shortfall, `capacity` of each line), with alternatives outside the policy, each needing
  the planner's approval:
  (a) for a regular order: take it as a rush order into the protected share;
  (b) displace made-to-stock work: shrink (or remove) one planned A/B run on an eligible line
      before the deadline by just enough to free the order's minutes, kept only when that
      product's stock_end stays >= min_stock on every date and no date's unmet grows and
      no order turns late; its cost is the objective delta of the plan with the run shrunk;
  (c) overtime after a shift's end within the line's per-shift and per-week limits (the
      free protected minutes at the shift's end used first); its cost is overtime_cost x
      minutes (objective delta: x the overtime weight).
- `--accept` writes a NEW plan folder (default `<OUTDIR>-<order id>`): the committed runs
  plus the order's run, `kind = rush`, in its protected window (the planned run after it on
  its line given the changeover from the order's product: `mend_changeovers`), with the order
  added to the scenario's orders (`RUSH-<n>` / `SO-NEW-<n>`, due on --requested or else on the promised
  date). A regular order is accepted the same way only when the ledger can place it by
  its customer date; otherwise it is refused: regular orders enter the plan by re-solving
  (add the order to the scenario and run `sopt solve`). The new folder holds
  `scenario.yaml` (the scenario with the order added; its relative CSV paths made absolute)
  so `sopt check NEWDIR/scenario.yaml NEWDIR` checks it, and `promise.json` (the answer).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from sopt.calendar import working_between
from sopt.errors import InputError
from sopt.plan import Plan, Run, plan_from_runs
from sopt.scenario import Order, Scenario
from sopt.schema import LAST_DATE

EXIT_OK, EXIT_NO = 0, 1
MAX_DISPLACEMENT_TRIES = 60  # candidate runs evaluated (each rebuilds the plan's tables)
MAX_ALTERNATIVES = 3  # per kind


# ----------------------------------------------------------------------------- CLI


def register(sub: Any) -> None:
    """Add `sopt promise` to the `sopt` parser (sets `run` via set_defaults)."""
    p = sub.add_parser(
        "promise", help="promise a date for a new order against a committed plan (R11, rush orders)",
        description="Answer a sales request against the committed plan in --plan: R11's date for a regular "
                    "order (plus the business buffer), the capacity-aware date in the protected windows for "
                    "a rush order (--rush). Exit 1 when the request cannot be met within the policy; the "
                    "alternatives needing the planner's approval are printed.")
    p.add_argument("scenario", type=Path)
    p.add_argument("--plan", type=Path, required=True, help="the committed plan folder (written by sopt solve)")
    p.add_argument("--product", required=True)
    p.add_argument("--quantity", required=True, help="units (a whole number > 0)")
    p.add_argument("--requested", help="date the customer wants it (YYYY-MM-DD; default: none)")
    p.add_argument("--now", help="when the request is answered (YYYY-MM-DDTHH:MM; default: the horizon "
                                 "start at 06:00)")
    p.add_argument("--rush", action="store_true", help="a rush order: only the protected windows (R8/R9)")
    p.add_argument("--buffer-days", default=None,
                   help="business buffer added to R11's date (default: the scenario's policy.promise_buffer_days, 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    p.add_argument("--accept", action="store_true", help="write the order into a new plan folder")
    p.add_argument("-o", "--out", type=Path, help="the new plan folder (default <plan>-<order id>)")
    p.set_defaults(run=cmd_promise)


def _parse(args: argparse.Namespace, sc: Scenario) -> tuple[int, dt.datetime, dt.date | None, int]:
    problems: list[str] = []
    known = {p.id for p in sc.products}
    if args.product not in known:
        problems.append(f"sopt promise: --product: unknown product '{args.product}' "
                        f"(the scenario has {', '.join(sorted(known)) or 'none'})")
    elif sc.product(args.product).multi_step:
        problems.append(f"sopt promise: --product: '{args.product}' has a multi-step routing; rush orders and "
                        "promises cover one-step products only")
    quantity = 0
    try:
        quantity = int(str(args.quantity))
        if not 0 < quantity <= 10**9:
            problems.append(f"sopt promise: --quantity: {args.quantity} must be a whole number > 0")
    except ValueError:
        problems.append(f"sopt promise: --quantity: '{args.quantity}' is not a whole number")
    horizon_end = sc.start_time + dt.timedelta(days=sc.days)
    now = dt.datetime.combine(sc.start, dt.time(6, 0))
    if args.now is not None:
        try:
            now = dt.datetime.fromisoformat(str(args.now))
            if now.tzinfo is not None:
                raise ValueError
            if not sc.start_time <= now < horizon_end:
                problems.append(f"sopt promise: --now: {args.now} is outside the horizon "
                                f"{sc.start} .. {sc.dates[-1]}")
        except ValueError:
            problems.append(f"sopt promise: --now: '{args.now}' is not a plant time YYYY-MM-DDTHH:MM")
    requested = None
    if args.requested is not None:
        try:
            requested = dt.date.fromisoformat(str(args.requested))
            if requested < now.date():
                problems.append(f"sopt promise: --requested: {requested} is before --now ({now:%Y-%m-%dT%H:%M})")
            elif requested > LAST_DATE:  # date arithmetic near 9999-12-31 overflows
                problems.append(f"sopt promise: --requested: {requested} is after {LAST_DATE}")
        except ValueError:
            problems.append(f"sopt promise: --requested: '{args.requested}' is not a date YYYY-MM-DD")
    buffer = sc.promise_buffer_days
    try:
        buffer = buffer if args.buffer_days is None else int(str(args.buffer_days))
        if not 0 <= buffer <= 365:
            problems.append(f"sopt promise: --buffer-days: {args.buffer_days} must be 0 .. 365")
    except ValueError:
        problems.append(f"sopt promise: --buffer-days: '{args.buffer_days}' is not a whole number")
    if args.out is not None and not args.accept:
        problems.append("sopt promise: -o: only with --accept")
    if problems:
        raise InputError(problems)
    return quantity, now, requested, buffer


def cmd_promise(args: argparse.Namespace) -> int:
    """`sopt promise SCENARIO --plan OUTDIR --product P --quantity Q ...`."""
    from sopt.output import load_plan
    from sopt.scenario import load_scenario

    sc = load_scenario(args.scenario)
    quantity, now, requested, buffer = _parse(args, sc)
    if not args.plan.is_dir():
        raise InputError([f"{args.plan}: --plan: not a plan folder"])
    plan = load_plan(sc, args.plan)
    ans = promise(plan, args.product, quantity, now=now, requested=requested, rush=args.rush, buffer_days=buffer)
    code = EXIT_OK if ans.meets_request else EXIT_NO
    if args.accept:
        if not ans.meets_request:
            ans.notes.append("not accepted: the request cannot be met within the policy; nothing written")
        else:
            code = _accept_cli(args, plan, ans)
    if args.json:
        print(json.dumps(ans.to_json(), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(ans.summary())
    return code


def _accept_cli(args: argparse.Namespace, plan: Plan, ans: Answer) -> int:
    from sopt.output import locked, write_folder

    try:
        accepted = accept(plan, ans)
    except Refused as e:
        ans.notes.append(f"not accepted: {e}; nothing written")
        return EXIT_NO
    out: Path = args.out or args.plan.parent / f"{args.plan.name}-{accepted.order_id}"
    if out.resolve() == args.plan.resolve():
        raise InputError([f"sopt promise: -o: {out} is the committed plan; name a new folder"])
    if accepted.violations:  # every written plan passes the checker: a violation is a bug, not an output
        from sopt.output import committed_violations

        blame = committed_violations(plan, args.plan / "plan.json")
        if blame:  # ... unless the committed plan broke the rules before the order was added
            raise InputError(blame)
        raise RuntimeError("the accepted plan breaks rules:\n" + "\n".join(accepted.violations))
    files = accepted.files(out, args.plan, args.scenario)
    with locked(out):
        write_folder(out, files)
    ans.order_id = accepted.order_id
    ans.written = str(out)
    return EXIT_OK


# ----------------------------------------------------------------------------- the answer


@dataclass
class Alternative:
    """An answer outside the policy: needs the planner's approval."""

    kind: str  # "rush" | "displace" | "overtime"
    line: str
    shift: str
    date: dt.date  # the plant date of the shift it runs in
    start: dt.datetime
    end: dt.datetime
    minutes: int
    text: str
    runs: list[dict[str, Any]] = field(default_factory=list)  # run_id, action, quantity_from, quantity_to
    overtime_minutes: int = 0
    cost: float = 0.0
    objective_delta: float = 0.0
    needs_approval: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "needs_approval": self.needs_approval, "line": self.line, "shift": self.shift,
                "start": _iso(self.start), "end": _iso(self.end), "date": self.date.isoformat(),
                "minutes": self.minutes, "runs": self.runs, "overtime_minutes": self.overtime_minutes,
                "cost": round(self.cost, 4), "objective_delta": round(self.objective_delta, 4), "text": self.text}



@dataclass
class Answer:
    """What `sopt promise` says about one request."""

    product: str
    quantity: int
    rush: bool
    now: dt.datetime
    requested: dt.date | None
    buffer_days: int
    rule_date: dt.date | None
    promised: dt.date | None  # the plant date of the promise (rush: the placement's shift date)
    customer_date: dt.date | None
    line: str | None = None
    shift: str | None = None
    shift_index: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    minutes: int = 0
    binding: dict[str, Any] = field(default_factory=dict)
    alternatives: list[Alternative] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    order_id: str | None = None
    written: str | None = None

    @property
    def meets_request(self) -> bool:
        if self.customer_date is None:
            return False
        return self.requested is None or self.customer_date <= self.requested

    def to_json(self) -> dict[str, Any]:
        return {
            "product": self.product, "quantity": self.quantity, "rush": self.rush, "now": _iso(self.now),
            "requested": _d(self.requested), "meets_request": self.meets_request,
            "rule_date": _d(self.rule_date), "promised": _d(self.promised),
            "promised_at": _iso(self.end) if self.rush else None,
            "customer_date": _d(self.customer_date), "buffer_days": self.buffer_days,
            "line": self.line, "shift": self.shift, "start": _iso(self.start), "end": _iso(self.end),
            "minutes": self.minutes, "binding": self.binding or None,
            "alternatives": [a.to_json() for a in self.alternatives],
            "notes": self.notes, "order_id": self.order_id, "written": self.written,
        }

    def summary(self) -> str:
        what = "rush order" if self.rush else "order"
        lines = [f"promise    {what}: {self.quantity} x {self.product}, asked at {_iso(self.now)}"
                 + (f", wanted by {self.requested}" if self.requested else "")]
        rule = "none (no eligible line has planned capacity)" if self.rule_date is None else str(self.rule_date)
        if self.rush:
            if self.end is not None:
                lines.append(f"rush       {self.line} {self.shift}: {_iso(self.start)} - {_iso(self.end)} "
                             f"({self.minutes} min in the protected window) -> ready {self.promised}")
            else:
                lines.append(f"rush       no room in the protected windows ({self.minutes} min needed)")
            lines.append(f"R11 rule   {rule} (shown beside it)")
        else:
            lines.append(f"R11 rule   {rule}" + (f" + {self.buffer_days} day buffer" if self.rule_date else ""))
        verdict = "YES" if self.meets_request else "NO"
        lines.append(f"customer   {self.customer_date or '-'}   answer {verdict}"
                     + ("" if self.meets_request or self.requested is None else f" (requested {self.requested})"))
        if self.binding:
            lines.append(f"binding    {self.binding['text']}")
        if self.alternatives:
            lines.append("alternatives (outside the policy: each needs the planner's approval)")
            for a in self.alternatives:
                lines.append(f"  - [{a.kind}] {a.text}")
        elif not self.meets_request:
            lines.append("alternatives none found (no overtime left within the line limits; no made-to-stock run "
                         "before the date can give way with its stock kept at or above min stock)")
        for n in self.notes:
            lines.append(f"note       {n}")
        if self.written:
            lines.append(f"written    {self.written}/ (order {self.order_id})")
        return "\n".join(lines)


def _iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M")


def _d(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


# ----------------------------------------------------------------------------- promising


def promise(plan: Plan, product: str, quantity: int, *, now: dt.datetime, requested: dt.date | None = None,
            rush: bool = False, buffer_days: int = 1) -> Answer:
    """The answer to one request against a committed plan (the plan is not changed)."""
    from sopt.rush import Ledger, RushOrder, rule_date

    sc = plan.week.scenario
    sc.product(product)  # KeyError for an unknown product: callers validate first
    rule = rule_date(plan, product, quantity, now)
    ans = Answer(product, quantity, rush, now, requested, buffer_days, rule, None, None)
    deadline = requested or sc.dates[-1]
    due = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time())
    placement = Ledger.from_plan(plan).place(RushOrder("PROMISE", product, quantity, now, due), commit=False)
    ans.minutes = placement.minutes
    if rush:
        if placement.line is not None:
            assert placement.shift_index is not None
            ans.line, ans.shift, ans.shift_index = placement.line, placement.shift, placement.shift_index
            ans.start, ans.end = placement.start, placement.end
            ans.promised = plan.week.shifts[placement.shift_index].date
            ans.customer_date = ans.promised
    else:
        if rule is not None:
            ans.promised = rule
            ans.customer_date = rule + dt.timedelta(days=buffer_days)
        # where the ledger would put it (used by --accept)
        if placement.line is not None:
            assert placement.shift_index is not None
            ans.line, ans.shift, ans.shift_index = placement.line, placement.shift, placement.shift_index
            ans.start, ans.end = placement.start, placement.end
    if ans.meets_request:
        if not rush and rule is not None:
            ans.binding = _rule_binding(plan, product, quantity, now, rule)
        return ans
    ans.binding = _binding(plan, product, quantity, now, deadline, placement.reason, rush, rule)
    if not rush and placement.line is not None and placement.shift_index is not None \
            and plan.week.shifts[placement.shift_index].date <= deadline:
        ans.alternatives.append(Alternative(
            "rush", placement.line, placement.shift or "", plan.week.shifts[placement.shift_index].date,
            placement.start or now, placement.end or now,
            placement.minutes,
            f"take it as a rush order: {placement.line} {placement.shift} {_iso(placement.start)}-"
            f"{_iso(placement.end)} in the protected window ({placement.minutes} min of the reserve); "
            f"needs approval"))
    if not sc.product(product).rates:
        return ans
    ans.alternatives += _displacements(plan, product, quantity, now, deadline)
    ans.alternatives += _overtime(plan, product, quantity, now, deadline)
    return ans


def _minutes_on(sc: Scenario, product: str, quantity: int) -> dict[str, int]:
    p = sc.product(product)
    return {ln.id: sc.setup_bound(ln.id, product) + math.ceil(quantity * rate.minutes_per_unit)
            for ln in sc.lines if (rate := p.rates.get(ln.id)) is not None}


def _rule_binding(plan: Plan, product: str, quantity: int, now: dt.datetime, rule: dt.date) -> dict[str, Any]:
    """The line whose load and planned capacity give R11's date."""
    from sopt.rush import _RuleIndex

    idx = _RuleIndex(plan)
    for ln, m in _minutes_on(plan.week.scenario, product, quantity).items():
        if idx.date(now, [(ln, m)]) == rule and ln in idx.cap:
            import bisect

            delta = now - idx.t0
            i = bisect.bisect_right(idx.ends.get(ln, []), (delta.days * 86400 + delta.seconds) // 60)
            load = idx.suffix[ln][i] if ln in idx.suffix else 0
            per_day = Fraction(idx.cap[ln], idx.days)
            return {"kind": "capacity", "line": ln, "material": None, "shortfall": None,
                    "text": f"capacity of {ln}: {load} min of confirmed load + {m} min for this order at "
                            f"{float(per_day):.0f} planned min/day (W - P) -> {rule}"}
    return {}


def _binding(plan: Plan, product: str, quantity: int, now: dt.datetime, deadline: dt.date, reason: str,
             rush: bool, rule: dt.date | None) -> dict[str, Any]:
    """Why the request cannot be met within the policy."""
    sc = plan.week.scenario
    week = plan.week
    minutes = _minutes_on(sc, product, quantity)
    if not minutes:
        return {"kind": "no eligible line", "line": None, "material": None, "shortfall": None,
                "text": f"no eligible line: {product} runs on no line"}
    if not rush:
        b = _rule_binding(plan, product, quantity, now, rule) if rule else {}
        if b:
            b["text"] += f" + buffer is after {deadline}"
            return b
        return {"kind": "calendar", "line": None, "material": None, "shortfall": None,
                "text": f"calendar: no eligible line ({', '.join(minutes)}) has planned capacity this week"}
    open_before = [i for i, s in enumerate(week.shifts)
                   if s.line in minutes and s.W > 0 and plan.capacity[i].get("open", 1) and s.end > now
                   and s.date <= deadline]
    if not open_before or reason == "calendar":
        return {"kind": "calendar", "line": None, "material": None, "shortfall": None,
                "text": f"calendar: no open shift on {', '.join(minutes)} between {_iso(now)} and the end of "
                        f"{deadline}"}
    # would it fit in a free protected window before the deadline, material aside?
    windows = _free_windows(plan, now, deadline)
    fits = [(ln, i, a) for (ln, i), spans in windows.items() if ln in minutes
            for a, n in spans if n >= minutes[ln]]
    if fits:
        ln, i, a = min(fits, key=lambda f: f[2])
        short = _material_short(plan, product, quantity, week.shifts[i].start)
        if short:
            mat, need, have = short[0]
            return {"kind": "material", "line": ln, "material": mat, "shortfall": float(need - have),
                    "text": f"material {mat}: the order needs {_num(need)}, {_num(have)} is on hand or arriving "
                            f"by the first window with room ({ln} {week.shifts[i].shift}): short "
                            f"{_num(need - have)}"}
    parts = []
    for ln, m in minutes.items():
        best = max((b for (l2, _), spans in windows.items() if l2 == ln for _, b in spans), default=0)
        parts.append(f"{ln} needs {m} min, largest free protected window {best} min")
    return {"kind": "capacity", "line": min(minutes, key=lambda ln: minutes[ln]), "material": None,
            "shortfall": None,
            "text": f"capacity: no protected window big enough before the end of {deadline} ({'; '.join(parts)})"}


def _num(x: Fraction) -> str:
    return str(int(x)) if x.denominator == 1 else f"{float(x):.4f}".rstrip("0").rstrip(".")


def _free_windows(plan: Plan, now: dt.datetime, deadline: dt.date) -> dict[tuple[str, int], list[tuple[dt.datetime, int]]]:
    """Free protected minutes per line-shift (shift date <= deadline) after `now`, as (clock start,
    working minutes) spans, contiguous in working minutes (a span may pause over a break)."""
    from sopt.rush import Ledger

    led = Ledger.from_plan(plan)
    out: dict[tuple[str, int], list[tuple[dt.datetime, int]]] = {}
    for (ln, i), spans in led.free.items():
        s = plan.week.shifts[i]
        if s.date > deadline:
            continue
        merged: list[tuple[dt.datetime, int]] = []
        prev_end: dt.datetime | None = None
        for a, b in spans:
            a = max(a, now)
            if b <= a:
                continue
            length = working_between(s.working, a, b)
            if merged and prev_end is not None and working_between(s.working, prev_end, a) == 0:
                merged[-1] = (merged[-1][0], merged[-1][1] + length)
            else:
                merged.append((a, length))
            prev_end = b
        if merged:
            out[(ln, i)] = merged
    return out


def _advance(s: Any, t: dt.datetime, minutes: int, allow_after: bool = False) -> dt.datetime | None:
    """The clock time after `minutes` working minutes of shift s from t (None: past its end;
    with allow_after the minutes continue straight after the shift's end: overtime)."""
    left = minutes
    for wa, wb in s.working:
        if wb <= t:
            continue
        a = max(t, wa)
        span = int((wb - a).total_seconds() // 60)
        if left <= span:
            return a + dt.timedelta(minutes=left)
        left -= span
    if allow_after:
        return max(t, s.end) + dt.timedelta(minutes=left)
    return None if left > 0 else t


def _material_short(plan: Plan, product: str, quantity: int, t: dt.datetime) -> list[tuple[str, Fraction, Fraction]]:
    """Materials whose projected on hand from t onward (receipts at their time, the plan's use at
    its shifts' starts) stays below the order's need: (material, need, lowest on hand)."""
    sc = plan.week.scenario
    out = []
    for mat, per in sorted(sc.product(product).materials.items()):
        need = per * quantity
        if need <= 0:
            continue
        m = sc.material(mat)
        events: list[tuple[dt.datetime, Fraction]] = [(at, Fraction(q)) for at, q in m.receipts]
        for r in plan.runs:
            if r.run_id.startswith("WIP-"):
                continue
            use = sc.product(r.product).materials.get(mat)
            if use:
                events.append((r.shift_start, -use * r.quantity))
        events.sort(key=lambda e: e[0])
        level = Fraction(m.opening_stock)
        low: Fraction | None = None
        for at, d in events:
            if at > t and low is None:
                low = level
            level += d
            if at > t and low is not None:
                low = min(low, level)
        low = level if low is None else min(low, level)
        if low < need:
            out.append((mat, need, max(Fraction(0), low)))
    return out


# ----------------------------------------------------------------------------- alternatives


def _displacements(plan: Plan, product: str, quantity: int, now: dt.datetime,
                   deadline: dt.date) -> list[Alternative]:
    """(b) Shrink one planned A/B run to free the order's minutes, stock kept >= min stock."""
    sc = plan.week.scenario
    week = plan.week
    minutes = _minutes_on(sc, product, quantity)
    base_unmet = {(r["product"], r["date"]): r["unmet"] for r in plan.production}
    base_late = {o["order_id"] for o in plan.orders if not o["on_time"]}
    candidates = []
    for k, r in enumerate(plan.runs):
        if r.kind != "planned" or r.run_id.startswith("WIP-") or r.cls not in ("A", "B") or r.line not in minutes:
            continue
        if r.start < now or r.date > deadline:
            continue
        need = minutes[r.line]
        p = sc.product(r.product)
        mpu = p.rates[r.line].minutes_per_unit
        keep = math.floor((r.run_minutes - need) / mpu) if r.run_minutes >= need else -1
        keep = keep - keep % p.multiple if keep > 0 else keep
        if keep >= p.min_run and keep > 0:
            new_q, freed = keep, r.run_minutes - math.ceil(keep * mpu)
        else:
            new_q, freed = 0, r.setup_minutes + r.run_minutes
        if freed < need:
            continue
        s = week.shifts[r.shift_index]
        if new_q:
            new_end = _advance(s, r.start, r.setup_minutes + math.ceil(new_q * mpu)) or r.end
            slot = new_end
        else:
            new_end, slot = r.end, r.start
        end = _advance(s, slot, need)
        if end is None or end > r.end:
            continue
        candidates.append((end, k, r, new_q, new_end, slot))
    candidates.sort(key=lambda c: (c[0], c[1]))
    found: list[Alternative] = []
    for end, k, r, new_q, new_end, slot in candidates[:MAX_DISPLACEMENT_TRIES]:
        if _material_short(plan, product, quantity, week.shifts[r.shift_index].start):
            continue
        runs = list(plan.runs)
        if new_q:
            mpu = sc.product(r.product).rates[r.line].minutes_per_unit
            runs[k] = dataclasses.replace(r, quantity=new_q, run_minutes=math.ceil(new_q * mpu), end=new_end,
                                          order_ids=())
        else:
            del runs[k]
        new = plan_from_runs(week, runs, plan.opened)
        rows = [x for x in new.production if x["product"] == r.product]
        if any(x["stock_end"] < x["min_stock"] for x in rows):
            continue
        if any(x["unmet"] > base_unmet.get((x["product"], x["date"]), 0) for x in new.production):
            continue
        if {o["order_id"] for o in new.orders if not o["on_time"]} - base_late:
            continue
        delta = new.objective - plan.objective
        action = "shrink" if new_q else "remove"
        what = f"{action} {r.run_id} ({r.product}, {r.quantity} -> {new_q} units)"
        found.append(Alternative(
            "displace", r.line, r.shift, r.date, slot, end, minutes[r.line],
            f"{what} and run the order in the freed time on {r.line} {r.shift} {_iso(slot)}-{_iso(end)}; "
            f"{r.product} stays at or above min stock; objective {delta:+,.2f}; needs approval",
            runs=[{"run_id": r.run_id, "action": action, "quantity_from": r.quantity, "quantity_to": new_q}],
            cost=delta, objective_delta=delta))
        if len(found) >= MAX_ALTERNATIVES:
            break
    return found


def _overtime(plan: Plan, product: str, quantity: int, now: dt.datetime, deadline: dt.date) -> list[Alternative]:
    """(c) Overtime after a shift's end (the free protected minutes at its end first), within
    the line's per-shift and per-week limits."""
    from sopt.rush import Ledger

    sc = plan.week.scenario
    week = plan.week
    minutes = _minutes_on(sc, product, quantity)
    led = Ledger.from_plan(plan)
    used_week: dict[str, int] = {}
    for s, row in zip(week.shifts, plan.capacity):
        used_week[s.line] = used_week.get(s.line, 0) + int(row["overtime_minutes"])
    best: dict[str, Alternative] = {}
    for i, (s, row) in enumerate(zip(week.shifts, plan.capacity)):
        ln = s.line
        if ln not in minutes or ln in best or not row.get("open", 1) or s.W <= 0 or s.date > deadline:
            continue
        line = sc.line(ln)
        used = int(row["overtime_minutes"])
        room = s.overtime_cap - used
        if line.overtime_max_per_week is not None:
            room = min(room, line.overtime_max_per_week - used_week.get(ln, 0))
        if room <= 0 or s.end + dt.timedelta(minutes=used) <= now and s.end <= now:
            continue
        tail_start = s.end + dt.timedelta(minutes=used)
        if used == 0:
            spans = led.free.get((ln, i), [])
            if spans and spans[-1][1] == s.working[-1][1] if s.working else False:
                tail_start = max(spans[-1][0], now)
        start = max(tail_start, now)
        tail = working_between(s.working, start, s.end) if start < s.end else 0
        need = minutes[ln]
        ot = need - tail
        if ot <= 0 or ot > room:
            continue
        if _material_short(plan, product, quantity, s.start):
            continue
        end = max(start, s.end) + dt.timedelta(minutes=ot) if start >= s.end else s.end + dt.timedelta(minutes=ot)
        cost = float(line.overtime_cost * ot)
        delta = float(sc.weights.overtime * line.overtime_cost * ot)
        used_tail = f"the free {tail} protected min at the shift's end + " if tail else ""
        best[ln] = Alternative(
            "overtime", ln, s.shift, s.date, start, end, need,
            f"overtime on {ln} {s.shift}: {used_tail}{ot} min after {_iso(s.end)} ({_iso(start)}-{_iso(end)}; "
            f"limit {s.overtime_cap} min/shift, {used} used); cost {cost:,.2f} "
            f"({_num(line.overtime_cost)}/min x {ot} min); needs approval",
            overtime_minutes=ot, cost=cost, objective_delta=delta)
    return sorted(best.values(), key=lambda a: (a.end, a.line))[:MAX_ALTERNATIVES]


# ----------------------------------------------------------------------------- accepting


class Refused(Exception):
    """The order cannot be written into the plan by promising."""


@dataclass
class Accepted:
    """The committed plan with one accepted order."""

    order_id: str
    scenario: Scenario
    plan: Plan
    answer: Answer
    violations: list[str]
    base: Plan

    def files(self, out: Path, committed: Path, scenario_path: Path) -> dict[str, bytes]:
        """Every file of the new plan folder (the views left out but the dispatch lists)."""
        from sopt.model.solver import Result, Status
        from sopt.output import plan_files

        try:
            old = json.loads((committed / "kpis.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        status = str(old.get("status") or "FEASIBLE")
        if status == "OPTIMAL":  # the order was added, not re-optimised: nothing is proven
            status = "FEASIBLE"
        settings = {k: v for k, v in (old.get("solver") or {}).items() if k != "status"}
        yaml_bytes = _scenario_yaml(scenario_path, self.scenario)
        sc = dataclasses.replace(self.scenario, source=str(out / "scenario.yaml"))
        week = dataclasses.replace(self.plan.week, scenario=sc)
        plan = dataclasses.replace(self.plan, week=week)
        result = Result(Status(status), plan.objective, None, None, 0.0, None, plan, week,
                        solver_status=f"promise of {self.order_id}", settings=settings)
        files = plan_files(result, pictures=False, workbook=False, report=False)
        doc = json.loads(files["plan.json"])
        doc["scenario_sha256"] = hashlib.sha256(yaml_bytes).hexdigest()
        doc["promise"] = self.answer.to_json() | {"order_id": self.order_id, "written": str(out)}
        files["plan.json"] = (json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode()
        files["scenario.yaml"] = yaml_bytes
        files["promise.json"] = (json.dumps(doc["promise"], indent=2, ensure_ascii=False) + "\n").encode()
        return files


def new_order_id(sc: Scenario, rush: bool) -> str:
    """RUSH-<n> or SO-NEW-<n>, the smallest n unused by the scenario's orders."""
    taken = {o.id for o in sc.orders}
    prefix = "RUSH" if rush else "SO-NEW"
    n = 1
    while f"{prefix}-{n}" in taken:
        n += 1
    return f"{prefix}-{n}"


def accept(plan: Plan, ans: Answer) -> Accepted:
    """The committed runs + the order's run (kind rush, in its protected window), with the order
    added to the scenario's orders; raises Refused when it cannot be written that way."""
    from sopt.checker import check_plan_rows
    from sopt.week import prepare

    if not ans.meets_request:
        raise Refused("the request cannot be met within the policy")
    if ans.line is None or ans.shift_index is None or ans.start is None or ans.end is None:
        raise Refused("no protected window has room for it; regular orders enter the plan by re-solving: "
                      "add the order to the scenario's orders and run sopt solve")
    sc = plan.week.scenario
    s = plan.week.shifts[ans.shift_index]
    if not ans.rush and ans.customer_date is not None and s.date > ans.customer_date:
        raise Refused(f"the protected windows have room only on {s.date}, after the customer date "
                      f"{ans.customer_date}; regular orders enter the plan by re-solving: add the order to the "
                      f"scenario's orders and run sopt solve")
    oid = new_order_id(sc, ans.rush)
    due = ans.requested or ans.customer_date or s.date
    new_sc = dataclasses.replace(sc, orders=sc.orders + (Order(oid, ans.product, ans.quantity, due, 0, None, False),))
    week = prepare(new_sc)
    rate = sc.product(ans.product).rates[ans.line]
    run_min = math.ceil(ans.quantity * rate.minutes_per_unit)
    run = Run(f"{s.line}-{s.date:%Y%m%d}-{s.template}-{oid}", s.line, ans.shift_index, s.shift, s.start, s.end,
              ans.start, ans.end, ans.product, week.classes[ans.product], ans.quantity, ans.minutes - run_min,
              run_min, s.date, ((oid, ans.quantity),), "rush")
    runs = [dataclasses.replace(r, cls=week.classes[r.product]) for r in plan.runs] + [run]
    new = plan_from_runs(week, mend_changeovers(week, runs), plan.opened)
    found = check_plan_rows(new)  # new.week was prepared from new_sc
    return Accepted(oid, new_sc, new, ans, [str(v) for v in found], plan)


def mend_changeovers(week: Any, runs: list[Run]) -> list[Run]:
    """Runs where a planned run that follows a rush run carries the changeover from the rush
    product: its setup grows by what it lacks, and it and the later runs of its shift move
    later as far as that takes (the ledger places a rush run only where the shift has the room;
    the checker has the last word)."""
    sc = week.scenario
    out = list(runs)
    by_line: dict[str, list[int]] = {}
    for k, r in enumerate(out):
        by_line.setdefault(r.line, []).append(k)
    for line, ks in by_line.items():
        ks.sort(key=lambda k: (out[k].start, out[k].end, k))
        for n in range(1, len(ks)):
            before, r = out[ks[n - 1]], out[ks[n]]
            if before.kind != "rush" or r.kind == "rush" or r.run_id.startswith("WIP-"):
                continue
            lacking = sc.changeover(line, before.product, r.product) - r.setup_minutes
            if lacking <= 0:
                continue
            s = week.shifts[r.shift_index]
            t = r.start
            for k in ks[n:]:
                q = out[k]
                if q.shift_index != r.shift_index or q.kind == "rush":
                    break
                extra = lacking if k == ks[n] else 0
                if not extra and q.start >= t:
                    break  # it starts after the moved runs end: nothing later moves
                start = max(q.start, t)
                end = _advance(s, start, q.setup_minutes + extra + q.run_minutes)
                if end is None:  # no room left in the shift: the checker will say so
                    break
                out[k] = dataclasses.replace(q, start=start, end=end, setup_minutes=q.setup_minutes + extra)
                t = end
    return out


def _scenario_yaml(path: Path, sc: Scenario) -> bytes:
    """The scenario with the accepted order added, self-contained (forecast and orders inline)."""
    from sopt.replan import scenario_yaml

    return scenario_yaml(path, sc)
