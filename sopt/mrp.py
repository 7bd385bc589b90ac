"""Material requirements plan (R5): gross need, stock, receipts, net need and orders to place.

`build_mrp(plan)` derives, without the solver, one row per material and day over the MRP
horizon: the week (`scenario.dates`) plus `scenario.mrp_horizon_days` further days.

- Gross requirement: the BOM consumption (`Product.materials` x quantity) of the plan's
  runs, on the date each run starts. Work in progress (`WIP-` runs) consumes no material.
  Beyond the week the scenario holds no demand forecast (figures outside the week are
  dropped when it is loaded), so each later day takes the week's average daily
  consumption of the material (the week's total / the week's days).
- Scheduled receipts: the material's receipts on their date (a receipt dated before the
  horizon counts on its first day; one after the horizon is left out).
- Netting: `net_requirement[t] = max(0, safety_stock + gross[t] - (on_hand[t-1] +
  receipts[t]))`. Where it is positive a planned order is received that day, sized to
  max(net, min_order_qty) and rounded up to a multiple of order_multiple, and released
  `lead_time_days` earlier. A release that would fall before today (the horizon's start)
  is past due: it is written on the first day's row, and the purchase order is flagged
  `expedite` with the runs that need it (runs consuming the material that start on or
  after its receipt date).
- `projected_on_hand[t] = projected_on_hand[t-1] + scheduled_receipts[t] +
  planned_order_receipt[t] - gross_requirement[t]`, with the opening stock before the
  first day. `check_mrp` verifies this and the other row rules from the rows alone.

The expedite list also names the material that would have unlocked the unmet demand:
for each unmet row with reason `material`, the unmet quantity times the product's need
per unit of each material the row names.

Quantities are exact `Fraction`s inside; rows hold numbers rounded to 4 decimals (float,
or int when whole), dates as ISO strings.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sopt.scenario import Material, Scenario

if TYPE_CHECKING:
    from sopt.plan import Plan, Run

MRP_COLUMNS = ["material", "date", "gross_requirement", "scheduled_receipts", "projected_on_hand",
               "net_requirement", "planned_order_receipt", "planned_order_release"]
PO_COLUMNS = ["material", "release_date", "receipt_date", "quantity", "unit", "expedite",
              "runs_delayed", "note"]
EXPEDITE_COLUMNS = ["material", "needed_by", "quantity", "unit", "reason", "runs", "products"]

DECIMALS = 4
# Each written number is within 0.5e-4 of the exact one; an equation row has five of them.
ROUNDING_TOLERANCE = 5 * 0.5 * 10.0**-DECIMALS + 1e-9
RELATIVE_TOLERANCE = 1e-6


@dataclass
class MrpResult:
    """The material plan as rows: mrp.csv, purchase_orders.csv and the expedite list."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    purchase_orders: list[dict[str, Any]] = field(default_factory=list)
    expedite: list[dict[str, Any]] = field(default_factory=list)


def number(x: Fraction) -> int | float:
    """An exact quantity as written: int when whole, else a float rounded to 4 decimals."""
    r = round(x, DECIMALS)  # exact rounding of the Fraction, then one conversion
    return int(r) if r.denominator == 1 else float(r)


def mrp_dates(scenario: Scenario) -> list[dt.date]:
    """The MRP horizon: the week's dates and `mrp_horizon_days` further days."""
    n = scenario.days + scenario.mrp_horizon_days
    return [scenario.start + dt.timedelta(days=i) for i in range(n)]


def order_size(net: Fraction, mat: Material) -> Fraction:
    """A planned order covering `net`: at least the minimum order, a multiple of order_multiple."""
    q = max(net, mat.min_order_qty)
    if mat.order_multiple > 0:
        q = math.ceil(q / mat.order_multiple) * mat.order_multiple
    return q


def _consuming_runs(plan: Plan) -> list[Run]:
    return sorted((r for r in plan.runs if not r.run_id.startswith("WIP-")), key=lambda r: (r.start, r.run_id))


def build_mrp(plan: Plan) -> MrpResult:
    """Derive the MRP rows, purchase orders and expedite list of a plan (see the module doc)."""
    sc = plan.week.scenario
    dates = mrp_dates(sc)
    if not dates:
        return MrpResult()
    last = len(dates) - 1
    runs = _consuming_runs(plan)

    gross: dict[str, list[Fraction]] = {m.id: [Fraction(0)] * len(dates) for m in sc.materials}
    week_total: dict[str, Fraction] = defaultdict(Fraction)
    for r in runs:
        # a late-night run can start after the last MRP date when the horizon adds no days
        day = min(max(0, (r.start.date() - sc.start).days), last)
        for m, per in sc.product(r.product).materials.items():
            gross[m][day] += per * r.quantity
            week_total[m] += per * r.quantity
    for m in gross:
        average = week_total[m] / sc.days if sc.days else Fraction(0)
        for day in range(sc.days, len(dates)):
            gross[m][day] += average

    result = MrpResult()
    for mat in sc.materials:
        receipts = [Fraction(0)] * len(dates)
        for at, q in mat.receipts:
            day = (at.date() - sc.start).days
            if day <= last:
                receipts[max(0, day)] += q
        planned = [Fraction(0)] * len(dates)
        released = [Fraction(0)] * len(dates)
        nets = [Fraction(0)] * len(dates)
        on_hand = [Fraction(0)] * len(dates)
        before = mat.opening_stock
        for day, date in enumerate(dates):
            available = before + receipts[day]
            nets[day] = max(Fraction(0), mat.safety_stock + gross[mat.id][day] - available)
            if nets[day] > 0:
                qty = order_size(nets[day], mat)
                planned[day] = qty
                release = date - dt.timedelta(days=mat.lead_time_days)
                released[max(0, (release - sc.start).days)] += qty
                result.purchase_orders.append(_purchase_order(sc, mat, release, date, qty, nets[day], runs))
            on_hand[day] = available + planned[day] - gross[mat.id][day]
            before = on_hand[day]
        for day, date in enumerate(dates):
            result.rows.append({
                "material": mat.id, "date": date.isoformat(),
                "gross_requirement": number(gross[mat.id][day]),
                "scheduled_receipts": number(receipts[day]),
                "projected_on_hand": number(on_hand[day]),
                "net_requirement": number(nets[day]),
                "planned_order_receipt": number(planned[day]),
                "planned_order_release": number(released[day]),
            })
    result.expedite = _expedite(plan, result.purchase_orders)
    return result


def _purchase_order(sc: Scenario, mat: Material, release: dt.date, receipt: dt.date, qty: Fraction,
                    net: Fraction, runs: list[Run]) -> dict[str, Any]:
    late = (sc.start - release).days
    delayed = [r.run_id for r in runs if late > 0 and r.start.date() >= receipt
               and mat.id in sc.product(r.product).materials]
    note = f"covers a net requirement of {number(net)} {mat.unit}"
    if qty != net:
        note += f", rounded to the minimum order {number(mat.min_order_qty)} / multiple {number(mat.order_multiple)}"
    if (receipt - sc.start).days >= sc.days:
        note += " (after the week: the week's average consumption)"
    if late > 0:
        note += f"; release is {late} day{'s' if late != 1 else ''} past due: expedite"
    return {"material": mat.id, "release_date": release.isoformat(), "receipt_date": receipt.isoformat(),
            "quantity": number(qty), "unit": mat.unit, "expedite": late > 0,
            "runs_delayed": ";".join(delayed), "note": note}


def _expedite(plan: Plan, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Past-due purchase orders, then the material that would have unlocked the unmet demand."""
    sc = plan.week.scenario
    product_of = {r.run_id: r.product for r in plan.runs}
    out: list[dict[str, Any]] = []
    for po in orders:
        if po["expedite"]:
            runs = [x for x in po["runs_delayed"].split(";") if x]
            out.append({"material": po["material"], "needed_by": po["receipt_date"], "quantity": po["quantity"],
                        "unit": po["unit"], "reason": "release_past_due", "runs": po["runs_delayed"],
                        "products": ";".join(sorted({product_of[x] for x in runs}))})
    for row in plan.unmet:
        if row["reason"] != "material":
            continue
        p = sc.product(row["product"])
        named = [m.strip() for m in str(row.get("detail", "")).split(",") if m.strip()]
        for m in named:
            per = p.materials.get(m)
            if per is None:
                continue
            out.append({"material": m, "needed_by": row["date"], "quantity": number(per * row["quantity"]),
                        "unit": sc.material(m).unit, "reason": "unmet_demand", "runs": "",
                        "products": p.id})
    return out


# ----------------------------------------------------------------------------- checking


def _num(v: Any) -> float:
    if isinstance(v, bool) or v is None or v == "":
        raise ValueError(f"not a number ({v!r})")
    return float(v)


def check_mrp(rows: Sequence[Mapping[str, Any]], scenario: Scenario) -> list[str]:
    """Problems of mrp.csv rows (strings as read from CSV, or numbers), one line each.

    Checks from the rows and the scenario's material master alone: one row per material
    and MRP date; no negative quantity or stock; the balance equation on every row (the
    opening stock before the first); the net requirement formula; stock not left below
    safety stock; planned orders covering the net requirement, at least the minimum order
    and a multiple of the order multiple; releases totalling the planned receipts. Tolerance: 1e-6 relative plus the
    rounding of the written numbers to 4 decimals.
    """
    problems: list[str] = []
    expected = [d.isoformat() for d in mrp_dates(scenario)]
    known = {m.id: m for m in scenario.materials}
    by_material: dict[str, list[tuple[str, dict[str, float]]]] = defaultdict(list)
    numeric = MRP_COLUMNS[2:]
    for k, row in enumerate(rows):
        mid, date = str(row.get("material", "")), str(row.get("date", ""))
        where = f"mrp row {k + 1} ({mid} {date})"
        if mid not in known:
            problems.append(f"{where}: material '{mid}' is not in the scenario")
            continue
        try:
            values = {c: _num(row.get(c)) for c in numeric}
        except (TypeError, ValueError) as e:
            problems.append(f"{where}: {e}")
            continue
        by_material[mid].append((date, values))

    for mid, mat in known.items():
        got = by_material.get(mid, [])
        dates = [d for d, _ in got]
        if dates != expected:
            what = []
            if missing := sorted(set(expected) - set(dates)):
                what.append("missing " + ", ".join(missing))
            if extra := sorted(set(dates) - set(expected)):
                what.append("outside the horizon " + ", ".join(extra))
            if dup := sorted({d for d in dates if dates.count(d) > 1}):
                what.append("repeated " + ", ".join(dup))
            span = f"{expected[0]}..{expected[-1]}" if expected else "(empty horizon)"
            problems.append(f"mrp {mid}: not one row per day of {span} in date order"
                            + (f" ({'; '.join(what)})" if what else ""))
            got = sorted(got, key=lambda x: x[0])  # still check the balance in date order
        ss, moq, mult = float(mat.safety_stock), float(mat.min_order_qty), float(mat.order_multiple)
        before = float(mat.opening_stock)
        total_receipt = total_release = 0.0
        for date, v in got:
            where = f"mrp {mid} {date}"
            gr, sr, poh = v["gross_requirement"], v["scheduled_receipts"], v["projected_on_hand"]
            net, por = v["net_requirement"], v["planned_order_receipt"]
            total_receipt += por
            total_release += v["planned_order_release"]
            tol = RELATIVE_TOLERANCE * max(1.0, abs(before), abs(sr), abs(por), abs(gr), abs(poh), ss) + ROUNDING_TOLERANCE
            for c, x in v.items():
                if x < -tol:
                    problems.append(f"{where}: {c} {x:g} is negative")
            balance = before + sr + por - gr
            if abs(balance - poh) > tol:
                problems.append(f"{where}: projected_on_hand {poh:g} != {before:g} + {sr:g} + {por:g} - {gr:g} = {balance:g}")
            want = max(0.0, ss + gr - (before + sr))
            if abs(want - net) > tol:
                problems.append(f"{where}: net_requirement {net:g} != max(0, {ss:g} + {gr:g} - ({before:g} + {sr:g})) = {want:g}")
            if poh < ss - tol:
                problems.append(f"{where}: projected_on_hand {poh:g} is below the safety stock {ss:g}")
            if por > tol:
                if por < net - tol:
                    problems.append(f"{where}: planned_order_receipt {por:g} is less than the net requirement {net:g}")
                if por < moq - tol:
                    problems.append(f"{where}: planned_order_receipt {por:g} is below the minimum order {moq:g}")
                if mult > 0 and abs(por / mult - round(por / mult)) * mult > tol:
                    problems.append(f"{where}: planned_order_receipt {por:g} is not a multiple of {mult:g}")
            before = poh
        if abs(total_receipt - total_release) > RELATIVE_TOLERANCE * max(1.0, total_receipt) + ROUNDING_TOLERANCE * len(got):
            problems.append(f"mrp {mid}: planned order releases total {total_release:g}, "
                            f"planned order receipts {total_receipt:g} (every planned order is released once)")
    return problems
