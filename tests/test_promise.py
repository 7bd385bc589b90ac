"""`sopt promise`: R11's date, the rush promise in the protected windows, alternatives, --accept.

Small weeks: L1 works 08:00-09:40 ("day") and 12:00-13:40 ("late") every day, W = 100 each.
At r = 0.2, P = ceil(0.2 x 100) = 20: protected windows 09:20-09:40 and 13:20-13:40, planned
capacity W - P = 80 a shift. P1 takes 1 min/unit with a 5-minute setup (q units: 5 + q min).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from sopt.cli import main
from sopt.model.solver import Result, Status
from sopt.output import locked, plan_files, write_folder
from sopt.plan import build_plan
from sopt.sequence import Lot
from sopt.week import prepare
from tests.conftest import product, week


def two_shift_week(days: int = 1, overtime: int | None = None, **changes: Any) -> dict[str, Any]:
    data = week(products=[product("P1", setup=5, class_="A")], **changes)
    data["horizon"]["days"] = days
    data["shift_templates"]["late"] = {"start": "12:00", "minutes": 100}
    data["lines"][0]["shifts"] = {"all": ["day", "late"]}
    if overtime is not None:
        data["lines"][0]["overtime"] = {"max_minutes_per_shift": overtime, "cost_per_minute": 2}
    return data


def solved(load, tmp_path: Path, data: dict[str, Any]) -> tuple[Path, Path]:
    """Write the scenario, solve it with the CLI into tmp/plan; return (scenario, plan folder)."""
    load(data)
    scenario, out = tmp_path / "week.yaml", tmp_path / "plan"
    assert main(["solve", str(scenario), "-o", str(out), "--time-limit", "5", "--workers", "1", "-q",
                 "--no-pictures", "--no-workbook", "--no-report"]) == 0
    return scenario, out


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # drop what the solve printed
    code = main(["promise", *argv])
    got = capsys.readouterr()
    return code, got.out, got.err


def answer(capsys, *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, *argv, "--json")
    return code, json.loads(out)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_regular_order_gets_the_rule_date_plus_buffer(load, tmp_path, capsys):
    # No demand: the plan has no runs, so the load is the new order's 5 + 315 = 320 minutes.
    # Planned capacity per day = (100 - 20) x 2 shifts = 160 min over a 3-day horizon of
    # 3 x 160 = 480 min -> 160 min/day. Promise = now (06:00 on 30 Nov) + 320 / 160 = 2 days
    # = 2 Dec 06:00 -> 2026-12-02; customer date with the default 1-day buffer: 2026-12-03.
    scenario, out = solved(load, tmp_path, two_shift_week(days=3))
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "315")
    assert code == 0
    assert ans["rule_date"] == "2026-12-02" and ans["promised"] == "2026-12-02"
    assert ans["customer_date"] == "2026-12-03" and ans["rush"] is False and ans["meets_request"]
    assert ans["binding"]["line"] == "L1"
    # 2 buffer days; a request for the 3rd cannot be met: exit 1, the rush alternative offered
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "315",
                       "--buffer-days", "2", "--requested", "2026-12-03")
    assert code == 1 and ans["customer_date"] == "2026-12-04" and not ans["meets_request"]


def test_scenario_sets_the_business_buffer(load, tmp_path, capsys):
    # as above (R11 date 2026-12-02), with policy.promise_buffer_days: 3 -> customer date 5 Dec
    data = two_shift_week(days=3)
    data["policy"]["promise_buffer_days"] = 3
    scenario, out = solved(load, tmp_path, data)
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "315")
    assert code == 0 and ans["rule_date"] == "2026-12-02" and ans["customer_date"] == "2026-12-05"


def test_regular_rule_counts_the_committed_load(load, tmp_path, capsys):
    # 75 units of P1 on Monday: one run of 5 + 75 = 80 min (a second setup would cost 100).
    # Load at 06:00 = 80 + (5 + 235) = 320 min at 160 min/day -> 2 days -> 2026-12-02.
    data = two_shift_week(days=3, demand={"forecast": {"P1": [75, 0, 0]}})
    data["products"][0]["lines"]["L1"]["setup_cost"] = 100
    scenario, out = solved(load, tmp_path, data)
    plan = json.loads((out / "plan.json").read_text())
    assert sum(r["setup_minutes"] + r["run_minutes"] for r in plan["schedule"]) == 80
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "235")
    assert code == 0 and ans["rule_date"] == "2026-12-02" and ans["customer_date"] == "2026-12-03"


def test_rush_lands_in_the_first_protected_window_after_now(load, tmp_path, capsys):
    # 10 units take 5 + 10 = 15 min. At 08:00 the day window 09:20-09:40 is free: 09:20-09:35.
    scenario, out = solved(load, tmp_path, two_shift_week())
    base = [str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "10", "--rush"]
    code, ans = answer(capsys, *base, "--now", "2026-11-30T08:00")
    assert code == 0
    assert (ans["line"], ans["start"], ans["end"]) == ("L1", "2026-11-30T09:20", "2026-11-30T09:35")
    assert ans["promised"] == ans["customer_date"] == "2026-11-30" and ans["promised_at"] == "2026-11-30T09:35"
    assert ans["rule_date"] is not None
    # at 09:30 only 10 min of the day window are left: the late window, 13:20-13:35
    code, ans = answer(capsys, *base, "--now", "2026-11-30T09:30")
    assert code == 0 and (ans["shift"], ans["start"], ans["end"]) == (
        "2026-11-30-late", "2026-11-30T13:20", "2026-11-30T13:35")
    # the default --now is the horizon start at 06:00: the day window
    code, out_text, _ = run(capsys, *base)
    assert code == 0 and "09:20 - 2026-11-30T09:35" in out_text and "answer YES" in out_text


def test_rush_too_big_for_the_windows_offers_overtime(load, tmp_path, capsys):
    # 25 units take 30 min > the 20-min windows: no placement (binding: capacity of L1).
    # Overtime (30 min/shift, 2 per min): the day window's 20 free minutes 09:20-09:40 + 10 min
    # after 09:40 -> 09:20-09:50, cost 2 x 10 = 20.
    scenario, out = solved(load, tmp_path, two_shift_week(overtime=30))
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "25",
                       "--rush", "--requested", "2026-11-30")
    assert code == 1 and ans["promised"] is None and not ans["meets_request"]
    assert ans["binding"]["kind"] == "capacity" and "L1 needs 30 min" in ans["binding"]["text"]
    ot = [a for a in ans["alternatives"] if a["kind"] == "overtime"]
    assert ot and ot[0]["needs_approval"]
    assert (ot[0]["start"], ot[0]["end"], ot[0]["overtime_minutes"], ot[0]["cost"]) == (
        "2026-11-30T09:20", "2026-11-30T09:50", 10, 20.0)
    # human summary: exit 1, the alternative printed and marked
    code, text, _ = run(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "25", "--rush")
    assert code == 1 and "[overtime]" in text and "needs approval" in text and "binding    capacity" in text


def hand_plan(load, tmp_path: Path, data: dict[str, Any], lots: list[Lot]) -> tuple[Path, Path]:
    """A plan folder from hand-given lots (no solver)."""
    sc = load(data)
    wk = prepare(sc)
    plan = build_plan(wk, lots)
    out = tmp_path / "plan"
    result = Result(Status.FEASIBLE, plan.objective, None, None, 0.0, None, plan, wk)
    with locked(out):
        write_folder(out, plan_files(result, pictures=False, workbook=False, report=False))
    return tmp_path / "week.yaml", out


def test_rush_displaces_a_made_to_stock_run_above_min_stock(load, tmp_path, capsys):
    # P2 (class A, 1 min/unit, no setup, min stock 0) is made 70 units on Monday's day shift
    # (08:00-09:10) against a demand of 10: stock ends at 60. A rush of 25 x P1 (30 min) does not
    # fit a 20-min window; shrinking P2's run to 40 units (09:10 -> 08:40) frees 30 min,
    # 08:40-09:10, and P2's stock stays at 30 >= 0.
    data = two_shift_week(demand={"forecast": {"P1": [0], "P2": [10]}})
    data["products"].append(product("P2", class_="A"))
    scenario, out = hand_plan(load, tmp_path, data, [Lot("P2", "L1", 0, 70, 0, 70)])
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "25",
                       "--rush", "--requested", "2026-11-30")
    assert code == 1
    disp = [a for a in ans["alternatives"] if a["kind"] == "displace"]
    assert disp, ans["alternatives"]
    d = disp[0]
    assert d["needs_approval"] and d["runs"][0]["action"] == "shrink"
    assert (d["runs"][0]["quantity_from"], d["runs"][0]["quantity_to"]) == (70, 40)
    assert (d["start"], d["end"]) == ("2026-11-30T08:40", "2026-11-30T09:10")


def test_accept_writes_a_new_plan_with_the_rush_run(load, tmp_path, capsys):
    from sopt.checker import check_plan
    from sopt.scenario import load_scenario

    scenario, out = solved(load, tmp_path, two_shift_week(demand={"forecast": {"P1": [40]}}))
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "10",
                       "--rush", "--now", "2026-11-30T08:00", "--accept")
    assert code == 0 and ans["order_id"] == "RUSH-1"
    new = tmp_path / "plan-RUSH-1"
    assert ans["written"] == str(new)
    orders = {r["order_id"]: r for r in rows(new / "orders.csv")}
    o = orders["RUSH-1"]
    assert o["product"] == "P1" and o["quantity"] == "10" and o["on_time"] == "true"
    assert o["planned_completion"] <= ans["promised_at"] and o["due"] == ans["promised"]
    rush = [r for r in rows(new / "schedule.csv") if r["kind"] == "rush"]
    cap = {r["shift"]: r for r in rows(new / "capacity.csv")}
    assert len(rush) == 1 and rush[0]["quantity"] == "10"
    r = rush[0]
    window = cap[r["shift"]]
    assert window["protected_start"] <= r["start"] and r["end"] <= window["protected_end"]
    assert (r["start"], r["end"]) == ("2026-11-30T09:20", "2026-11-30T09:35")
    assert window["rush_minutes"] == "15"
    assert r["order_ids"] == "RUSH-1:10" and o["planned_completion"] == r["end"]  # the rush run serves it
    # the committed plan is untouched; the new folder checks clean against its own scenario
    assert all(r["kind"] == "planned" for r in rows(out / "schedule.csv"))
    assert not check_plan(load_scenario(new / "scenario.yaml"), new)
    assert main(["check", str(new / "scenario.yaml"), str(new)]) == 0
    # a second promise against the new plan: the rest of the day window, 09:35-09:40, is too
    # small for 15 min, so the order goes to the late window
    capsys.readouterr()
    code, again = answer(capsys, str(new / "scenario.yaml"), "--plan", str(new), "--product", "P1",
                         "--quantity", "10", "--rush", "--now", "2026-11-30T08:00")
    assert code == 0 and again["start"] == "2026-11-30T13:20"
    assert new_order_ids(new) == {"RUSH-1"}


def changeover_week(late_units: int) -> dict[str, Any]:
    """P2 (class A, 1 min/unit, 10-minute setup) made on Monday's day shift (50 units, 08:00-09:00)
    and again on the late shift (`late_units`, from 12:00, no setup: it follows P2)."""
    data = two_shift_week(demand={"forecast": {"P1": [0], "P2": [50 + late_units]}})
    data["products"].append(product("P2", setup=10, class_="A"))
    return data


def test_accept_gives_the_run_after_the_rush_its_changeover(load, tmp_path, capsys):
    # A rush of 10 x P1 (15 min) at 08:00 goes to the day window, 09:20-09:35. The late run of P2
    # followed P2 and had no setup; it now follows P1 and needs the 10-minute changeover, which
    # the late shift has room for (50 of 80 planned minutes): 12:00-13:00 with setup 10.
    scenario, out = hand_plan(load, tmp_path, changeover_week(50),
                              [Lot("P2", "L1", 0, 50, 10, 50), Lot("P2", "L1", 1, 50, 0, 50)])
    late = [r for r in rows(out / "schedule.csv") if r["shift"].endswith("late")]
    assert [(r["setup_minutes"], r["start"], r["end"]) for r in late] == [
        ("0", "2026-11-30T12:00", "2026-11-30T12:50")]
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "10",
                       "--rush", "--now", "2026-11-30T08:00", "--accept")
    assert code == 0 and (ans["start"], ans["end"]) == ("2026-11-30T09:20", "2026-11-30T09:35")
    new = tmp_path / "plan-RUSH-1"
    late = [r for r in rows(new / "schedule.csv") if r["shift"].endswith("late")]
    assert [(r["product"], r["setup_minutes"], r["start"], r["end"]) for r in late] == [
        ("P2", "10", "2026-11-30T12:00", "2026-11-30T13:00")]
    assert {r["shift"]: r["planned_minutes"] for r in rows(new / "capacity.csv")}["2026-11-30-late"] == "60"
    assert main(["check", str(new / "scenario.yaml"), str(new)]) == 0


def test_rush_skips_a_window_whose_next_run_has_no_room_for_the_changeover(load, tmp_path, capsys):
    # As above, but the late run is 75 units: 75 of 80 planned minutes, no room for the 10-minute
    # changeover from P1. The day window is skipped: the order goes to the late window, 13:20-13:35,
    # after which nothing runs.
    scenario, out = hand_plan(load, tmp_path, changeover_week(75),
                              [Lot("P2", "L1", 0, 50, 10, 50), Lot("P2", "L1", 1, 75, 0, 75)])
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "10",
                       "--rush", "--now", "2026-11-30T08:00", "--accept")
    assert code == 0 and (ans["start"], ans["end"]) == ("2026-11-30T13:20", "2026-11-30T13:35")
    new = tmp_path / "plan-RUSH-1"
    assert [r["setup_minutes"] for r in rows(new / "schedule.csv") if r["product"] == "P2"] == ["10", "0"]
    assert main(["check", str(new / "scenario.yaml"), str(new)]) == 0


def new_order_ids(folder: Path) -> set[str]:
    return {r["order_id"] for r in rows(folder / "orders.csv") if r["order_id"].startswith(("RUSH-", "SO-NEW-"))}


def test_accept_refuses_what_cannot_be_met(load, tmp_path, capsys):
    scenario, out = solved(load, tmp_path, two_shift_week())
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "25",
                       "--rush", "--accept")
    assert code == 1 and ans["written"] is None
    assert not (tmp_path / "plan-RUSH-1").exists()
    # a regular order whose customer date the protected windows cannot meet is refused: re-solve
    code, text, _ = run(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "100",
                        "--accept")
    assert code == 1 and "re-solving" in text and not list(tmp_path.glob("plan-SO-NEW-*"))


def test_accept_regular_order_via_the_ledger(load, tmp_path, capsys):
    scenario, out = solved(load, tmp_path, two_shift_week(days=2))
    code, ans = answer(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "10",
                       "--accept", "-o", str(tmp_path / "new"))
    assert code == 0 and ans["order_id"] == "SO-NEW-1"
    o = {r["order_id"]: r for r in rows(tmp_path / "new" / "orders.csv")}["SO-NEW-1"]
    assert o["on_time"] == "true" and o["due"] == ans["customer_date"]
    assert [r["kind"] for r in rows(tmp_path / "new" / "schedule.csv") if r["product"] == "P1"] == ["rush"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--product", "NOPE", "--quantity", "5"], "--product: unknown product 'NOPE'"),
    (["--product", "P1", "--quantity", "0"], "--quantity"),
    (["--product", "P1", "--quantity", "-3"], "--quantity"),
    (["--product", "P1", "--quantity", "x"], "--quantity"),
    (["--product", "P1", "--quantity", "5", "--now", "2027-01-01T06:00"], "--now"),
    (["--product", "P1", "--quantity", "5", "--requested", "tomorrow"], "--requested"),
])
def test_bad_input_exits_2_with_one_line(load, tmp_path, capsys, args, needle):
    scenario, out = solved(load, tmp_path, two_shift_week())
    code, text, err = run(capsys, str(scenario), "--plan", str(out), *args)
    assert code == 2 and text == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_plan_must_be_a_plan_folder(load, tmp_path, capsys):
    load(two_shift_week())
    (tmp_path / "empty").mkdir()
    for plan in ("empty", "missing"):
        code, _, err = run(capsys, str(tmp_path / "week.yaml"), "--plan", str(tmp_path / plan),
                           "--product", "P1", "--quantity", "5")
        assert code == 2 and len(err.strip().splitlines()) == 1 and plan in err


def test_json_is_one_object(load, tmp_path, capsys):
    scenario, out = solved(load, tmp_path, two_shift_week())
    code, text, _ = run(capsys, str(scenario), "--plan", str(out), "--product", "P1", "--quantity", "10",
                        "--rush", "--json")
    ans = json.loads(text)
    assert code == 0 and set(ans) >= {"product", "quantity", "rush", "rule_date", "promised", "promised_at",
                                      "customer_date", "line", "shift", "start", "end", "binding", "alternatives"}
    assert dt.datetime.fromisoformat(ans["end"]) > dt.datetime.fromisoformat(ans["start"])
