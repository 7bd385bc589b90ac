"""R5 material plan: hand-derived MRP on tiny weeks, the bundled scenarios, and check_mrp."""

from __future__ import annotations

import csv
import datetime as dt
import io
from fractions import Fraction
from typing import Any

import pytest

from sopt.model import solve
from sopt.mrp import (
    EXPEDITE_COLUMNS,
    MRP_COLUMNS,
    PO_COLUMNS,
    build_mrp,
    check_mrp,
    number,
)
from sopt.plan import Plan
from sopt.scenario import Scenario, load_scenario
from tests.conftest import ROOT, checked_solve, product, week

# Three days (Mon 2026-11-30 .. Wed 2026-12-02) of one 100-minute shift at 08:00 on L1, plus
# two MRP days. P1 (class C, made to order, holding cost 1) needs 2 M1 per unit; the only
# demand is SO1, 30 units due Tue 2026-12-01, so the plan makes 30 on Tuesday (earlier
# costs holding, later leaves the order late): 60 M1 consumed on 2026-12-01.
M1 = {"id": "M1", "unit": "kg", "opening_stock": 100,
      "receipts": [{"at": "2026-12-02T06:00", "quantity": 40}],
      "lead_time_days": 1, "min_order_qty": 50, "order_multiple": 20, "safety_stock": 50}


def tiny(material: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    data = week(
        horizon={"start": "2026-11-30", "days": 3},
        products=[product("P1", holding_cost=1, bom={"M1": 2}, class_="C")],
        materials=[material or M1],
        demand={"orders": [{"id": "SO1", "product": "P1", "quantity": 30, "due": "2026-12-01"}]},
        mrp={"horizon_days": 2},
    )
    data.update(changes)
    return data


def planned(sc: Scenario) -> Plan:
    """The checked plan of a tiny week (one worker, fixed seed)."""
    plan = checked_solve(sc).plan
    assert plan is not None
    return plan


def rows_of(rows: list[dict[str, Any]], material: str) -> dict[str, dict[str, Any]]:
    return {r["date"]: r for r in rows if r["material"] == material}


def test_hand_derived_mrp(load):
    sc = load(tiny())
    plan = planned(sc)
    made = [(r.start.date(), r.quantity) for r in plan.runs if r.product == "P1"]
    assert made == [(dt.date(2026, 12, 1), 30)]
    mrp = build_mrp(plan)
    # day        gross  receipt  available  net = max(0, 50 + gross - available)  order  on hand
    # 11-30        0       0       100        0                                     0     100
    # 12-01       60       0       100       10 -> MOQ 50 -> multiple of 20: 60     60     100
    # 12-02        0      40       140        0                                     0     140
    # 12-03       20       0       140        0   (after the week: 60 / 3 days)      0     120
    # 12-04       20       0       120        0                                     0     100
    # The order needed 12-01 is released one day (lead time) earlier, on 11-30.
    want = [
        ("2026-11-30", 0, 0, 100, 0, 0, 60),
        ("2026-12-01", 60, 0, 100, 10, 60, 0),
        ("2026-12-02", 0, 40, 140, 0, 0, 0),
        ("2026-12-03", 20, 0, 120, 0, 0, 0),
        ("2026-12-04", 20, 0, 100, 0, 0, 0),
    ]
    assert [tuple(r[c] for c in MRP_COLUMNS[1:]) for r in mrp.rows] == want
    assert all(list(r) == MRP_COLUMNS for r in mrp.rows)
    assert mrp.purchase_orders == [{
        "material": "M1", "release_date": "2026-11-30", "receipt_date": "2026-12-01", "quantity": 60,
        "unit": "kg", "expedite": False, "runs_delayed": "", "note": mrp.purchase_orders[0]["note"]}]
    assert list(mrp.purchase_orders[0]) == PO_COLUMNS
    assert mrp.expedite == []
    assert check_mrp(mrp.rows, sc) == []


def test_no_order_at_the_edge_of_safety_stock(load):
    # opening 110: 12-01 leaves exactly 50 = safety stock, so nothing is ordered;
    # 12-03 then falls to 50 + 40 - 20 = 70, 12-04 to 50: still at the edge.
    sc = load(tiny({**M1, "opening_stock": 110}))
    mrp = build_mrp(planned(sc))
    assert [r["projected_on_hand"] for r in mrp.rows] == [110, 50, 90, 70, 50]
    assert [r["net_requirement"] for r in mrp.rows] == [0] * 5
    assert mrp.purchase_orders == []
    # one unit less opening stock: net 1 on 12-01, ordered as the minimum 50 rounded up to 60
    sc = load(tiny({**M1, "opening_stock": 109}))
    mrp = build_mrp(planned(sc))
    day = rows_of(mrp.rows, "M1")["2026-12-01"]
    assert (day["net_requirement"], day["planned_order_receipt"], day["projected_on_hand"]) == (1, 60, 109)


def test_multiple_above_minimum_order(load):
    # net 10 on 12-01; minimum 5, multiple 4 -> 12
    sc = load(tiny({**M1, "min_order_qty": 5, "order_multiple": 4}))
    mrp = build_mrp(planned(sc))
    assert [po["quantity"] for po in mrp.purchase_orders] == [12]
    assert rows_of(mrp.rows, "M1")["2026-12-01"]["projected_on_hand"] == 52


def test_release_before_today_is_expedited(load):
    # lead time 3 days: the order needed 12-01 should have been released 11-28, before today
    # (11-30): it is flagged, written on the first day's release, and names the Tuesday run.
    sc = load(tiny({**M1, "lead_time_days": 3}))
    plan = planned(sc)
    run_id = next(r.run_id for r in plan.runs if r.product == "P1")
    mrp = build_mrp(plan)
    (po,) = mrp.purchase_orders
    assert (po["release_date"], po["receipt_date"], po["quantity"], po["expedite"]) == ("2026-11-28", "2026-12-01", 60, True)
    assert po["runs_delayed"] == run_id
    assert "past due" in po["note"]
    assert [r["planned_order_release"] for r in mrp.rows] == [60, 0, 0, 0, 0]
    assert mrp.expedite == [{"material": "M1", "needed_by": "2026-12-01", "quantity": 60, "unit": "kg",
                             "reason": "release_past_due", "runs": run_id, "products": "P1"}]
    assert all(list(e) == EXPEDITE_COLUMNS for e in mrp.expedite)
    assert check_mrp(mrp.rows, sc) == []
    # lead time 1 at the edge: released today, not expedited (see test_hand_derived_mrp); 2: one day late
    mrp = build_mrp(planned(load(tiny({**M1, "lead_time_days": 2}))))
    assert [(po["release_date"], po["expedite"]) for po in mrp.purchase_orders] == [("2026-11-29", True)]


def test_unmet_demand_lists_the_material_that_would_unlock_it(load):
    # 20 M1 on hand (no receipt, no safety stock) make only 10 of the 30 units: 20 units stay
    # unmet on 12-01 for lack of M1, which 20 x 2 = 40 M1 would have unlocked.
    sc = load(tiny({"id": "M1", "unit": "kg", "opening_stock": 20}))
    plan = planned(sc)
    assert [(u["date"], u["quantity"], u["reason"], u["detail"]) for u in plan.unmet] == [("2026-12-01", 20, "material", "M1")]
    mrp = build_mrp(plan)
    assert mrp.expedite == [{"material": "M1", "needed_by": "2026-12-01", "quantity": 40, "unit": "kg",
                             "reason": "unmet_demand", "runs": "", "products": "P1"}]
    # the 10 made use all 20; after the week the average (20 / 3 a day) is ordered lot for lot
    m = rows_of(mrp.rows, "M1")
    assert m["2026-12-01"]["gross_requirement"] == 20
    assert m["2026-12-03"]["gross_requirement"] == number(Fraction(20, 3)) == 6.6667
    assert check_mrp(mrp.rows, sc) == []


def test_work_in_progress_consumes_no_material(load):
    sc = load(tiny(demand={"orders": []}, state={"wip": [{"line": "L1", "product": "P1", "quantity": 10}]}))
    plan = planned(sc)
    assert [r.run_id for r in plan.runs] == ["WIP-L1"]
    mrp = build_mrp(plan)
    assert all(r["gross_requirement"] == 0 for r in mrp.rows)
    assert [r["projected_on_hand"] for r in mrp.rows] == [100, 100, 140, 140, 140]


def test_number_is_rounded_and_whole_numbers_are_ints():
    assert number(Fraction(1, 3)) == 0.3333 and isinstance(number(Fraction(1, 3)), float)
    assert number(Fraction(4, 2)) == 2 and isinstance(number(Fraction(4, 2)), int)
    assert number(Fraction(-7, 2)) == -3.5


@pytest.fixture(scope="module", params=["demo_week", "tight_week"])
def bundled(request):
    sc = load_scenario(ROOT / "scenarios" / f"{request.param}.yaml")
    result = solve(sc, time_limit=3, workers=1, seed=0)
    assert result.plan is not None, result.status
    return sc, build_mrp(result.plan)


def test_bundled_scenarios_balance_on_every_row(bundled):
    sc, mrp = bundled
    days = sc.days + sc.mrp_horizon_days
    assert len(mrp.rows) == len(sc.materials) * days
    before: dict[str, float] = {}
    for r in mrp.rows:
        prev = before.get(r["material"], float(sc.material(r["material"]).opening_stock))
        balance = prev + r["scheduled_receipts"] + r["planned_order_receipt"] - r["gross_requirement"]
        assert r["projected_on_hand"] == pytest.approx(balance, rel=1e-6, abs=3e-4), r
        assert r["projected_on_hand"] >= float(sc.material(r["material"]).safety_stock) - 3e-4
        before[r["material"]] = r["projected_on_hand"]
    assert check_mrp(mrp.rows, sc) == []
    assert all("Fraction" not in str(v) for r in mrp.rows + mrp.purchase_orders + mrp.expedite for v in r.values())


def test_check_mrp_reads_csv_strings(bundled):
    sc, mrp = bundled
    buf = io.StringIO()
    writer = csv.DictWriter(buf, MRP_COLUMNS)
    writer.writeheader()
    writer.writerows(mrp.rows)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert check_mrp(rows, sc) == []


def test_check_mrp_catches_broken_rows(load):
    sc = load(tiny())
    rows = build_mrp(planned(sc)).rows

    def broken(k: int, **change: Any) -> list[str]:
        bad = [dict(r) for r in rows]
        bad[k].update(change)
        return check_mrp(bad, sc)

    assert check_mrp(rows, sc) == []
    # on-hand one off on 12-02: that row's equation breaks (and the next row's, which starts from it)
    problems = broken(2, projected_on_hand=141)
    assert any("M1 2026-12-02: projected_on_hand 141 != 100 + 40 + 0 - 0 = 140" in p for p in problems), problems
    # first row checked against the opening stock
    assert any("2026-11-30: projected_on_hand" in p for p in broken(0, projected_on_hand=99, net_requirement=0))
    assert any("net_requirement" in p for p in broken(1, net_requirement=0))
    assert any("is negative" in p for p in broken(3, gross_requirement=-5, projected_on_hand=145))
    assert any("minimum order" in p for p in broken(1, planned_order_receipt=10, projected_on_hand=50))
    assert any("not a multiple" in p for p in broken(1, planned_order_receipt=70, projected_on_hand=110))
    assert any("releases total" in p for p in broken(0, planned_order_release=0))
    assert any("not a number" in p for p in broken(4, gross_requirement=""))
    assert any("missing 2026-12-04" in p for p in check_mrp(rows[:-1], sc))
    assert any("'M9' is not in the scenario" in p for p in check_mrp([*rows, {**rows[0], "material": "M9"}], sc))
    # within the rounding of 4 decimals: accepted
    assert broken(2, projected_on_hand=140.0001) == []
