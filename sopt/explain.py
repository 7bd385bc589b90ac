"""Why demand was not met: a solver-free analysis of the written plan (CONTRACT.md precedence).

For each product and date with unmet demand, the first reason that applies is reported:
1. `material`: a material of the product's BOM was exhausted (less than one unit's worth
   on hand) at the end of that date or an earlier one; detail names the material.
2. `calendar`: no eligible line had an open shift on or before the date.
3. `protected_share`: the unmet quantity (with its setup) would have fit in the protected
   minutes left unused on one eligible line on or before the date; detail names the line.
4. `capacity`: the eligible lines' free planned minutes on or before the date are fewer
   than the unmet quantity needs; detail names the lines.
5. `lot_rules`: the quantity is below the minimum run, or no single shift had room for a
   minimum lot.
6. `priority`: the eligible lines ran higher-class products on or before the date.
7. `other`: none of these (the objective's trade-off, e.g. a setup dearer than the delay).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sopt.sequence import CLASS_RANK

if TYPE_CHECKING:
    from sopt.plan import Plan


def explain_unmet(plan: Plan) -> list[dict[str, Any]]:
    """unmet.csv rows: product, date, quantity, reason, detail."""
    week = plan.week
    sc = week.scenario
    dates = sc.dates
    # material left after each shift start (bucketed plan: a receipt at t serves shifts starting at or after t)
    used: dict[tuple[str, dt.datetime], Fraction] = defaultdict(Fraction)
    for r in plan.runs:
        if r.run_id.startswith("WIP-"):
            continue
        for m, q in sc.product(r.product).materials.items():
            used[(m, r.shift_start)] += q * r.quantity
    starts = sorted({(s.start, (s.date - sc.start).days) for s in week.shifts if s.W > 0})
    lowest: dict[str, list[Fraction]] = {}  # material -> lowest level seen up to each day
    for mat in sc.materials:
        low = [Fraction(10**18)] * len(dates)
        cum_used = Fraction(0)
        for t, day in starts:
            cum_used += used[(mat.id, t)]
            level = mat.opening_stock + sum((q for at, q in mat.receipts if at <= t), Fraction(0)) - cum_used
            for k in range(day, len(dates)):
                low[k] = min(low[k], level)
        lowest[mat.id] = low
    cap_by_line_day: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for row in plan.capacity:
        s_day = (week.shifts[week.shift_index[(row["line"], row["shift"])]].date - sc.start).days
        cap_by_line_day[(row["line"], s_day)].append(row)
    classes_on_line: dict[tuple[str, int], set[str]] = defaultdict(set)
    for r in plan.runs:
        classes_on_line[(r.line, (r.date - sc.start).days)].add(r.cls)

    out = []
    for r in plan.production:
        q = r["unmet"]
        if q <= 0:
            continue
        p = sc.product(r["product"])
        day = (dt.date.fromisoformat(r["date"]) - sc.start).days
        reason, detail = "other", ""
        short = [m for m, per in p.materials.items() if lowest[m][day] < per]
        rows = {ln: [c for k in range(day + 1) for c in cap_by_line_day[(ln, k)]] for ln in p.rates}
        need = {ln: rate.setup_minutes + math.ceil(q * rate.minutes_per_unit) for ln, rate in p.rates.items()}
        if short:
            reason, detail = "material", ", ".join(sorted(short))
        elif not any(c["open"] for cs in rows.values() for c in cs):
            reason, detail = "calendar", "no open shift on " + ", ".join(sorted(p.rates))
        else:
            prot = {ln: sum(c["protected_minutes"] - c["rush_minutes"] - c["released_minutes"] for c in cs)
                    for ln, cs in rows.items()}
            free = {ln: sum(max(0, c["available_minutes"] - c["protected_minutes"] + c["overtime_minutes"]
                                + c["released_minutes"] - c["planned_minutes"]) for c in cs if c["open"])
                    for ln, cs in rows.items()}
            fits = [ln for ln in sorted(p.rates) if prot[ln] >= need[ln] and prot[ln] > 0]
            if fits:
                reason, detail = "protected_share", f"{fits[0]}: {prot[fits[0]]} protected minutes unused"
            elif all(free[ln] < need[ln] for ln in p.rates):
                reason, detail = "capacity", ", ".join(f"{ln} full" for ln in sorted(p.rates))
            else:
                lot = max(p.min_run, p.multiple)
                best_room = max((max(0, c["available_minutes"] - c["protected_minutes"] + c["overtime_minutes"]
                                     - c["planned_minutes"]) for cs in rows.values() for c in cs if c["open"]), default=0)
                min_lot_minutes = min(rate.setup_minutes + math.ceil(min(q, lot) * rate.minutes_per_unit)
                                      for rate in p.rates.values())
                higher = {c for ln in p.rates for k in range(day + 1) for c in classes_on_line[(ln, k)]
                          if CLASS_RANK[c] < CLASS_RANK[r["class"]]}
                if q < p.min_run or best_room < min_lot_minutes:
                    reason, detail = "lot_rules", f"min run {p.min_run}, multiple {p.multiple}"
                elif higher:
                    reason, detail = "priority", "lines ran class " + "/".join(sorted(higher))
        out.append({"product": p.id, "date": r["date"], "quantity": q, "reason": reason, "detail": detail})
    return out

