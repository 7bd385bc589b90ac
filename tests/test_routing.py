"""Multi-step routings: step items, flow between steps with lags, alternatives, step materials, crews."""

from __future__ import annotations

import copy
import datetime as dt
import json
from fractions import Fraction
from pathlib import Path

import pytest

from sopt.checker import check_tables
from sopt.cli import main
from sopt.model import solve
from tests.conftest import checked_solve, week

ROOT = Path(__file__).resolve().parent.parent

DAYS3 = {"start": "2026-11-30", "days": 3}


def two_step(lag: int = 60, fill_lines: dict | None = None, **extra) -> dict:
    """MIX -> FILL (FILL1 or FILL2), 100 units due on day 2 and 200 on day 3."""
    data = week(
        horizon=DAYS3,
        shift_templates={"day": {"start": "06:00", "minutes": 480}},
        lines=[{"id": ln, "shifts": {"all": ["day"]}} for ln in ("MIX", "FILL1", "FILL2")],
        products=[{
            "id": "P", "class": "A", "holding_cost": 0.01,
            "routing": [
                {"id": "mix", "work_centres": {"MIX": {"minutes_per_unit": 1, "setup_minutes": 20}}},
                {"id": "fill", "min_lag_minutes": lag,
                 "work_centres": fill_lines or {"FILL1": {"minutes_per_unit": 2}, "FILL2": {"minutes_per_unit": 3}}},
            ]}],
        demand={"forecast": {"P": [0, 100, 200]}},
        policy={"reserve_ratio": 0.1},
    )
    data.update(extra)
    return data


def test_steps_are_planned_as_items_and_flow_in_order(load):
    sc = load(two_step())
    assert [p.id for p in sc.items] == ["P/mix", "P"]
    res = checked_solve(sc)
    plan = res.plan
    mix = sorted((r for r in plan.runs if r.product == "P/mix"), key=lambda r: r.end)
    fill = sorted((r for r in plan.runs if r.product == "P"), key=lambda r: r.start)
    assert sum(r.quantity for r in fill) == 300 and sum(r.quantity for r in mix) == 300  # no WIP left over
    used = 0
    for r in fill:  # each fill run only uses mix output finished at least 60 min before it starts
        used += r.quantity
        assert used <= sum(m.quantity for m in mix if m.end + dt.timedelta(minutes=60) <= r.start)
    # the intermediate item is in the production plan, but not in the service level
    rows = [r for r in plan.production if r["product"] == "P/mix"]
    assert sum(r["production"] for r in rows) == 300 and all(r["unmet"] == 0 for r in rows)
    assert plan.service_level()["A"] == 1.0


def test_a_lag_longer_than_the_week_allows_means_unmet_not_an_error(load):
    sc = load(two_step(lag=3 * 24 * 60))  # the mix output would be ready after the horizon
    res = checked_solve(sc)
    assert not [r for r in res.plan.runs if r.product == "P"]
    assert res.plan.unmet_units() == 300


def test_alternative_work_centre_takes_over_when_one_is_closed(load):
    data = two_step(calendar=[{"line": "FILL1", "date": d} for d in ("2026-11-30", "2026-12-01", "2026-12-02")])
    data["demand"] = {"forecast": {"P": [0, 100, 100]}}
    sc = load(data)
    res = checked_solve(sc)
    fills = [r for r in res.plan.runs if r.product == "P"]
    assert fills and {r.line for r in fills} == {"FILL2"}
    assert res.plan.unmet_units() == 0


def test_step_materials_are_consumed_at_their_step(load):
    data = two_step(materials=[{"id": "JAR", "opening_stock": 150}, {"id": "BASE", "opening_stock": 1000}])
    data["products"][0]["bom"] = {"BASE": 1}  # the product BOM goes to the first step
    data["products"][0]["routing"][1]["materials"] = {"JAR": 1}
    sc = load(data)
    assert sc.product("P/mix").materials == {"BASE": 1} and sc.product("P").materials == {"JAR": 1}
    res = checked_solve(sc)
    made = sum(r.quantity for r in res.plan.runs if r.product == "P")
    assert made == 150  # only 150 jars: the fill step is limited, the mix step follows it
    assert sum(r.quantity for r in res.plan.runs if r.product == "P/mix") == 150
    assert any(u["reason"] == "material" for u in res.plan.unmet)


def test_checker_finds_a_step_run_before_its_input_is_ready(load):
    sc = load(two_step())
    res = checked_solve(sc)
    rows = res.plan.schedule_rows()
    first_fill = min((r for r in rows if r["product"] == "P"), key=lambda r: r["start"])
    first_mix = min((r for r in rows if r["product"] == "P/mix"), key=lambda r: r["start"])
    bad = copy.deepcopy(rows)
    for r in bad:  # take away the mix run that feeds the first fill
        if r["run_id"] == first_mix["run_id"]:
            r["quantity"] = 0
    found = [v for v in check_tables(sc, [r for r in bad if r["quantity"]]) if v.rule == "routing"]
    assert found and found[0].where == f"run {first_fill['run_id']}"


def test_routing_step_ids_must_be_unique_and_items_must_not_clash(load):
    from sopt.errors import InputError

    data = two_step()
    data["products"][0]["routing"][1]["id"] = "mix"
    with pytest.raises(InputError, match="step ids repeat"):
        load(data)
    data = two_step()
    data["products"].append({"id": "P/mix", "lines": {"MIX": {"minutes_per_unit": 1}}})
    with pytest.raises(InputError, match="same id as a product"):
        load(data)


def test_crew_pool_limits_the_lines_running_a_shift(load):
    data = two_step(lag=0)
    for ln in data["lines"]:
        ln["crew"] = 3
    data["crew_pool"] = {"day": 6}  # two of the three lines per day at most
    sc = load(data)
    res = checked_solve(sc)
    per_day: dict = {}
    for i in res.plan.opened:
        s = res.week.shifts[i]
        per_day.setdefault(s.date, set()).add(s.line)
    assert per_day and all(len(lines) <= 2 for lines in per_day.values())
    # the checker catches a plan that runs all three lines in one shift
    rows = res.plan.schedule_rows()
    cap = [dict(c, open=1) for c in res.plan.capacity]
    assert any(v.rule == "R4 staffing" for v in check_tables(sc, rows, cap))


def test_staffing_csv_and_every_file_for_a_routed_week(tmp_path):
    scen = tmp_path / "week.yaml"
    import yaml

    data = two_step()
    for ln in data["lines"]:
        ln["crew"] = 2
    data["crew_pool"] = {"day": 6}
    scen.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "plan"
    assert main(["solve", str(scen), "-o", str(out), "--workers", "1", "--time-limit", "5", "-q"]) == 0
    staffing = (out / "staffing.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert staffing[0] == "line,shift,shift_start,shift_end,open,crew,pool,pool_used"
    assert len(staffing) == 1 + 9
    for row in staffing[1:]:
        cells = row.split(",")
        assert int(cells[7]) <= int(cells[6])
    assert main(["check", str(scen), str(out)]) == 0
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["service_level"]["A"] == 1.0 and kpis["jobs"] is None


def test_routed_week_mrp_uses_each_steps_materials_on_its_day(load):
    from sopt.mrp import build_mrp

    data = two_step(materials=[{"id": "JAR", "opening_stock": 0, "lead_time_days": 1}])
    data["products"][0]["routing"][1]["materials"] = {"JAR": 1}
    data["materials"][0]["receipts"] = [{"at": "2026-11-30T00:00", "quantity": 1000}]
    sc = load(data)
    res = solve(sc, workers=1, seed=0, time_limit=10)
    mrp = build_mrp(res.plan)
    gross = {r["date"]: r["gross_requirement"] for r in mrp.rows if r["material"] == "JAR"}
    fills: dict = {}
    for r in res.plan.runs:
        if r.product == "P":
            fills[r.start.date().isoformat()] = fills.get(r.start.date().isoformat(), 0) + r.quantity
    for date, q in fills.items():
        assert gross[date] == q


def test_a_fixed_time_per_lot_is_a_batch_time(load):
    data = two_step()
    data["products"][0]["lot"] = {"multiple": 50}
    data["products"][0]["routing"][0]["work_centres"]["MIX"] = {"minutes_per_lot": 45}  # a 50-unit kettle batch
    sc = load(data)
    assert sc.product("P/mix").rates["MIX"].minutes_per_unit == Fraction(45, 50)
    res = checked_solve(sc)
    for r in res.plan.runs:
        if r.product == "P/mix":
            assert r.quantity % 50 == 0 and r.run_minutes == r.quantity // 50 * 45
    data["products"][0]["routing"][0]["work_centres"]["MIX"] = {"minutes_per_lot": 45, "minutes_per_unit": 1}
    from sopt.errors import InputError

    with pytest.raises(InputError, match="exactly one of 'minutes_per_unit', 'rate_per_hour' or 'minutes_per_lot'"):
        load(data)
