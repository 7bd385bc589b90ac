"""Tests of the solver-free plan checker (sopt.checker) on tiny hand-made plans."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sopt.checker import (
    CAPACITY_COLUMNS,
    PLAN_COLUMNS,
    SCHEDULE_COLUMNS,
    Violation,
    check_plan,
    check_tables,
    format_report,
)
from sopt.scenario import Scenario, load_scenario

# Two plant dates (Mon 2026-11-30, Tue 2026-12-01). Early 06:00-14:00 with a 30-min break at
# 10:00: W 450, P 90, protected window 12:30-14:00, no overtime (the late shift follows).
# Late 14:00-22:00: W 480, P 96, window 20:24-22:00, up to 60 min overtime. L2 is closed
# on Tuesday. Classes: P1 A, P2 B, P3 C (declared).
SCENARIO_YAML = """\
name: tiny
horizon: {start: 2026-11-30, days: 2}
shift_templates:
  early: {start: "06:00", hours: 8, breaks: [{start: "10:00", minutes: 30}]}
  late: {start: "14:00", hours: 8}
lines:
  - id: L1
    shifts: {all: [early, late]}
    max_shifts_per_day: 1
    overtime: {max_minutes_per_shift: 60, max_minutes_per_week: 90}
    last_product: P2
  - id: L2
    shifts: {all: [early]}
calendar:
  - {line: L2, date: 2026-12-01, reason: holiday}
products:
  - id: P1
    lines: {L1: {minutes_per_unit: 1, setup_minutes: 20}}
    bom: {M1: 1}
    opening_stock: 50
    replenishment_days: 1
    lot: {min_run: 10, multiple: 10}
  - id: P2
    lines: {L1: {minutes_per_unit: 0.5, setup_minutes: 30}}
  - id: P3
    class: C
    lines: {L2: {minutes_per_unit: 2, setup_minutes: 10}}
    lot: {multiple: 10}
materials:
  - {id: M1, opening_stock: 100, receipts: [{at: RECEIPT_AT, quantity: 400}]}
demand:
  forecast: {P1: [100, 100], P2: [50, 50]}
  orders:
    - {id: SO1, product: P3, quantity: 40, due: 2026-12-01}
    - {id: SO2, product: P1, quantity: 30, due: 2026-11-30}
state:
  wip: [{line: L1, product: P1, quantity: 20}]
policy: {reserve_ratio: 0.2}
"""

MON, TUE = "2026-11-30", "2026-12-01"


def run(run_id: str, line: str, shift: str, start: str, end: str, product: str, cls: str,
        quantity: int, setup: int, minutes: int, order_ids: str = "") -> dict[str, str]:
    """A schedule row as read from schedule.csv (all strings)."""
    date, _, name = shift.rpartition("-")
    clock = {"early": ("06:00", "14:00"), "late": ("14:00", "22:00")}[name]
    return {
        "run_id": run_id, "line": line, "shift": shift,
        "shift_start": f"{date}T{clock[0]}", "shift_end": f"{date}T{clock[1]}",
        "start": start, "end": end, "product": product, "class": cls,
        "quantity": str(quantity), "setup_minutes": str(setup), "run_minutes": str(minutes),
        "order_ids": order_ids, "kind": "planned",
    }


SCHEDULE = [
    run("WIP-L1", "L1", f"{MON}-early", f"{MON}T06:00", f"{MON}T06:20", "P1", "A", 20, 0, 20),
    run("L1-1", "L1", f"{MON}-early", f"{MON}T06:20", f"{MON}T07:20", "P1", "A", 60, 0, 60,
        "SO2:30"),
    run("L1-2", "L1", f"{MON}-early", f"{MON}T07:20", f"{MON}T09:00", "P2", "B", 140, 30, 70),
    run("L1-3", "L1", f"{TUE}-late", f"{TUE}T14:00", f"{TUE}T20:24", "P1", "A", 364, 20, 364),
    run("L1-4", "L1", f"{TUE}-late", f"{TUE}T22:00", f"{TUE}T22:36", "P1", "A", 36, 0, 36),
    run("L2-1", "L2", f"{MON}-early", f"{MON}T06:00", f"{MON}T07:30", "P3", "C", 40, 10, 80,
        "SO1:40"),
]


def cap(line: str, shift: str, W: int, P: int, window: tuple[str, str] | None, overtime: int,
        planned: int, is_open: int) -> dict[str, str]:
    """A capacity row as read from capacity.csv."""
    date, _, name = shift.rpartition("-")
    clock = {"early": ("06:00", "14:00"), "late": ("14:00", "22:00")}[name]
    return {
        "line": line, "shift": shift, "shift_start": f"{date}T{clock[0]}",
        "shift_end": f"{date}T{clock[1]}", "available_minutes": str(W),
        "protected_minutes": str(P),
        "protected_start": window[0] if window else "", "protected_end": window[1] if window else "",
        "overtime_minutes": str(overtime), "released_minutes": "0", "rush_minutes": "0",
        "planned_minutes": str(planned), "utilization": f"{planned / W if W else 0:.4f}",
        "open": str(is_open),
    }


CAPACITY = [
    cap("L1", f"{MON}-early", 450, 90, (f"{MON}T12:30", f"{MON}T14:00"), 0, 180, 1),
    cap("L1", f"{MON}-late", 0, 0, None, 0, 0, 0),
    cap("L1", f"{TUE}-early", 0, 0, None, 0, 0, 0),
    cap("L1", f"{TUE}-late", 480, 96, (f"{TUE}T20:24", f"{TUE}T22:00"), 36, 420, 1),
    cap("L2", f"{MON}-early", 450, 90, (f"{MON}T12:30", f"{MON}T14:00"), 0, 90, 1),
    cap("L2", f"{TUE}-early", 0, 0, None, 0, 0, 0),
]


def plan_row(product: str, cls: str, date: str, *numbers: int) -> dict[str, str]:
    """A production_plan row: demand, production, delivered, stock_end, backlog_end,
    min_stock, unmet."""
    return {"product": product, "class": cls, "date": date,
            **{c: str(n) for c, n in zip(PLAN_COLUMNS[3:], numbers, strict=True)}}


PLAN = [
    plan_row("P1", "A", MON, 100, 80, 100, 30, 0, 100, 0),
    plan_row("P1", "A", TUE, 100, 400, 100, 330, 0, 100, 0),
    plan_row("P2", "B", MON, 50, 140, 50, 90, 0, 0, 0),
    plan_row("P2", "B", TUE, 50, 0, 50, 40, 0, 0, 0),
    plan_row("P3", "C", MON, 0, 40, 0, 40, 0, 0, 0),
    plan_row("P3", "C", TUE, 40, 0, 40, 0, 0, 0, 0),
]


@pytest.fixture(scope="module")
def make_scenario(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Scenario]:
    """Write the tiny scenario (optionally with another receipt time) and load it."""
    folder = tmp_path_factory.mktemp("scenario")
    cache: dict[str, Scenario] = {}

    def make(receipt_at: str = f"{TUE}T06:00", wip: bool = True) -> Scenario:
        name = f"tiny-{receipt_at.replace(':', '')}-{'wip' if wip else 'nowip'}"
        if name not in cache:
            text = SCENARIO_YAML.replace("RECEIPT_AT", receipt_at)
            if not wip:
                text = text.replace("state:\n  wip:", "# wip:")
            path = folder / f"{name}.yaml"
            path.write_text(text, encoding="utf-8")
            cache[name] = load_scenario(path)
        return cache[name]

    return make


@pytest.fixture(scope="module")
def sc(make_scenario: Callable[..., Scenario]) -> Scenario:
    return make_scenario()


def edit(rows: list[dict[str, str]], key: str, ident: str, **changes: Any) -> list[dict[str, str]]:
    """A copy of the rows with the row whose `key` is `ident` changed (`_drop=True` removes it)."""
    out = []
    found = False
    for r in rows:
        if r[key] == ident:
            found = True
            if changes.get("_drop"):
                continue
            r = {**r, **{k: str(v) for k, v in changes.items()}}
        out.append(dict(r))
    assert found, ident
    return out


def rules(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


# ----------------------------------------------------------------------------- valid plans


def test_valid_plan_has_no_violations(sc: Scenario) -> None:
    assert check_tables(sc, SCHEDULE, CAPACITY, PLAN) == []


def test_valid_plan_as_dataframe_with_numbers(sc: Scenario) -> None:
    frame = pd.DataFrame(SCHEDULE)
    for column in ("quantity", "setup_minutes", "run_minutes"):
        frame[column] = frame[column].astype(int)
    frame.loc[frame["order_ids"] == "", "order_ids"] = None
    assert check_tables(sc, frame, pd.DataFrame(CAPACITY), PLAN) == []


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns) + ["kind", "open"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def test_check_plan_reads_written_files(sc: Scenario, tmp_path: Path) -> None:
    write_csv(tmp_path / "schedule.csv", SCHEDULE_COLUMNS, SCHEDULE)
    write_csv(tmp_path / "capacity.csv", CAPACITY_COLUMNS, CAPACITY)
    write_csv(tmp_path / "production_plan.csv", PLAN_COLUMNS, PLAN)
    assert check_plan(sc, tmp_path) == []
    (tmp_path / "capacity.csv").unlink()
    found = check_plan(sc, tmp_path)
    assert [(v.rule, v.where) for v in found] == [("files", "capacity.csv")]


def test_check_plan_missing_schedule(sc: Scenario, tmp_path: Path) -> None:
    assert [v.where for v in check_plan(sc, tmp_path)] == [
        "schedule.csv", "capacity.csv", "production_plan.csv"]


# ----------------------------------------------------------------------------- broken plans


def test_overlap(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L1-2", start=f"{MON}T07:00", end=f"{MON}T08:40")
    found = check_tables(sc, bad)
    assert rules(found) == {"overlap"}
    assert found[0].where == "run L1-2" and "L1-1" in found[0].message


def test_run_in_protected_window(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L2-1", start=f"{MON}T12:00", end=f"{MON}T13:30")
    found = check_tables(sc, bad)
    assert rules(found) == {"protected window"}
    assert found[0].where == "run L2-1"


def test_capacity_exceeded(sc: Scenario) -> None:
    # P2 560 units: setup 30 + run 280 = 310 min; the shift's runs take 390 > W - P = 360
    bad = edit(SCHEDULE, "run_id", "L1-2", quantity=560, run_minutes=280, end=f"{MON}T13:00")
    found = check_tables(sc, bad)
    assert ("R9 capacity", f"capacity L1 {MON}-early") in {(v.rule, v.where) for v in found}
    # the written capacity table now disagrees with the runs as well
    found = check_tables(sc, bad, CAPACITY)
    assert any("planned_minutes 180 but its runs take 390" in v.message for v in found)


def test_run_on_closed_shift(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L2-1", shift=f"{TUE}-early", shift_start=f"{TUE}T06:00",
               shift_end=f"{TUE}T14:00", start=f"{TUE}T06:00", end=f"{TUE}T07:30")
    found = check_tables(sc, bad)
    assert "R4 calendar" in rules(found)
    assert any("no working time" in v.message for v in found)


def test_run_on_shift_not_opened(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L1-3", shift=f"{TUE}-early", shift_start=f"{TUE}T06:00",
               shift_end=f"{TUE}T14:00", start=f"{TUE}T06:00", end=f"{TUE}T12:54")
    bad = edit(bad, "run_id", "L1-4", _drop=True)
    found = check_tables(sc, bad, CAPACITY)
    assert ("R4 calendar", "run L1-3") in {(v.rule, v.where) for v in found}


def test_run_on_shift_that_does_not_exist(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L2-1", shift=f"{MON}-late")
    found = check_tables(sc, bad)
    assert ("eligibility", "run L2-1") in {(v.rule, v.where) for v in found}


def test_run_outside_its_shift(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L2-1", start=f"{MON}T05:00", end=f"{MON}T06:30")
    found = check_tables(sc, bad)
    assert rules(found) == {"R4 calendar"}


def test_ineligible_line(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L1-2", product="P3", **{"class": "C"})
    found = check_tables(sc, bad)
    assert any(v.rule == "eligibility" and "does not run on line L1" in v.message for v in found)


def test_wrong_class(sc: Scenario) -> None:
    found = check_tables(sc, edit(SCHEDULE, "run_id", "L1-2", **{"class": "A"}))
    assert rules(found) == {"class"}


def test_material_short_before_receipt(make_scenario: Callable[..., Scenario]) -> None:
    # Monday's P1 run grows to 110 units: 110 M1 needed at Mon 06:00, 100 on hand
    bad = edit(SCHEDULE, "run_id", "L1-1", quantity=110, run_minutes=110, end=f"{MON}T08:10")
    bad = edit(bad, "run_id", "L1-2", start=f"{MON}T08:10", end=f"{MON}T09:50")
    # Tuesday makes 360 (no overtime): 470 M1 in the week against 100 + 400
    bad = edit(bad, "run_id", "L1-3", quantity=360, run_minutes=360, end=f"{TUE}T20:20")
    bad = edit(bad, "run_id", "L1-4", _drop=True)
    late = make_scenario()  # receipt Tue 06:00
    found = check_tables(late, bad)
    assert [(v.rule, v.where) for v in found] == [("R5 material", f"material M1 {MON}T06:00")]
    assert "short 10" in found[0].message
    # a receipt one minute after the shift starts is still too late
    assert "R5 material" in rules(check_tables(make_scenario(f"{MON}T06:01"), bad))
    # a receipt at the shift's start is usable by it
    assert "R5 material" not in rules(check_tables(make_scenario(f"{MON}T06:00"), bad))


def test_material_ok_after_receipt(sc: Scenario) -> None:
    # 460 M1 by Tue 14:00 against 100 + 400: fine; 520 is 20 short
    assert "R5 material" not in rules(check_tables(sc, SCHEDULE))
    bad = edit(SCHEDULE, "run_id", "L1-4", quantity=96, run_minutes=36)
    found = [v for v in check_tables(sc, bad) if v.rule == "R5 material"]
    assert [v.where for v in found] == [f"material M1 {TUE}T14:00"]
    assert "short 20" in found[0].message


def test_wrong_stock_balance(sc: Scenario) -> None:
    bad = edit(PLAN[:3], "product", "P2", stock_end=80)  # P2 Monday
    found = check_tables(sc, SCHEDULE, CAPACITY, bad + PLAN[3:])
    assert rules(found) == {"stock balance"}
    assert [v.where for v in found] == [f"production_plan P2 {MON}"]
    assert "stock_end 80" in found[0].message and "90" in found[0].message


def test_stock_balance_counts_the_schedule(sc: Scenario) -> None:
    # the schedule makes 20 P2 more than the plan says
    bad = edit(SCHEDULE, "run_id", "L1-2", quantity=160, run_minutes=80, end=f"{MON}T09:10")
    found = check_tables(sc, bad, None, PLAN)
    messages = [v.message for v in found if v.where == f"production_plan P2 {MON}"]
    assert any(m.startswith("production 140") for m in messages)
    assert any(m.startswith("stock_end 90") for m in messages)
    missing = check_tables(sc, SCHEDULE, None, PLAN[:-1])
    assert [(v.rule, v.where) for v in missing] == [("stock balance", f"production_plan P3 {TUE}")]


def test_c_over_its_orders(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L2-1", quantity=60, run_minutes=120, end=f"{MON}T08:10")
    found = check_tables(sc, bad)
    assert rules(found) == {"C make-to-order"}
    assert found[0].where == f"product P3 {MON}"


def test_lot_rule_broken(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L1-1", quantity=55, run_minutes=55, end=f"{MON}T07:15")
    found = check_tables(sc, bad)
    assert rules(found) == {"lot rules"}
    # the overtime continuation row counts with its batch: 364 + 36 = 400 is fine, 364 + 35 not
    bad = edit(SCHEDULE, "run_id", "L1-4", quantity=35)
    assert rules(check_tables(sc, bad)) == {"lot rules"}


def test_shift_limit_exceeded(sc: Scenario) -> None:
    extra = run("L1-5", "L1", f"{MON}-late", f"{MON}T14:00", f"{MON}T15:00", "P2", "B", 60, 30, 30)
    found = check_tables(sc, [*SCHEDULE, extra])
    assert rules(found) == {"R4 shift limit"}
    assert found[0].where == f"line L1 {MON}"
    # an opened shift counts even without runs
    opened = edit(CAPACITY, "shift", f"{MON}-late", available_minutes=480, protected_minutes=96,
                  protected_start=f"{MON}T20:24", protected_end=f"{MON}T22:00", open=1)
    assert "R4 shift limit" in rules(check_tables(sc, SCHEDULE, opened, PLAN))


def test_missing_setup(sc: Scenario) -> None:
    bad = edit(SCHEDULE, "run_id", "L1-2", setup_minutes=0, end=f"{MON}T08:30")
    found = check_tables(sc, bad)
    assert rules(found) == {"setup"}
    assert found[0].where == "run L1-2"
    # P1 was carried over (the WIP product) into Monday, but Tuesday's batch needs a setup
    bad = edit(SCHEDULE, "run_id", "L1-3", setup_minutes=0, run_minutes=384, quantity=364)
    assert rules(check_tables(sc, bad)) == {"setup"}


def test_carried_over_product(make_scenario: Callable[..., Scenario]) -> None:
    # without work in progress, the line's last product (P2) is carried over, P1 is not
    no_wip = make_scenario(wip=False)
    plan = [r for r in SCHEDULE if not r["run_id"].startswith("WIP-")]
    found = check_tables(no_wip, plan)
    assert [(v.rule, v.where) for v in found] == [("setup", "run L1-1")]
    p2_first = edit(plan, "run_id", "L1-1", _drop=True)
    p2_first = edit(p2_first, "run_id", "L1-2", setup_minutes=0, start=f"{MON}T06:00",
                    end=f"{MON}T07:10")
    assert check_tables(no_wip, p2_first) == []


def test_wip_missing(sc: Scenario) -> None:
    found = check_tables(sc, [r for r in SCHEDULE if not r["run_id"].startswith("WIP-")])
    assert [(v.rule, v.where) for v in found] == [("wip", "line L1")]


def test_run_time_short(sc: Scenario) -> None:
    found = check_tables(sc, edit(SCHEDULE, "run_id", "L1-2", run_minutes=60))
    assert rules(found) == {"run time"}


def test_overtime_over_the_cap(sc: Scenario) -> None:
    bad_cap = edit(CAPACITY, "shift", f"{TUE}-late", overtime_minutes=95)
    found = check_tables(sc, SCHEDULE, bad_cap, PLAN)
    assert ("R4 overtime", f"capacity L1 {TUE}-late") in {(v.rule, v.where) for v in found}
    assert ("R4 overtime", "line L1") in {(v.rule, v.where) for v in found}


def test_protected_minutes_must_be_exact(sc: Scenario) -> None:
    bad_cap = edit(CAPACITY, "shift", f"{TUE}-late", protected_minutes=95)
    found = check_tables(sc, SCHEDULE, bad_cap, PLAN)
    assert any(v.rule == "R9 capacity" and "ceil(0.2 x 480) = 96" in v.message for v in found)


def test_bad_numbers_are_reported(sc: Scenario) -> None:
    found = check_tables(sc, edit(SCHEDULE, "run_id", "L1-2", quantity="12.5"))
    assert [(v.rule, v.where) for v in found] == [("eligibility", "run L1-2")]


def test_format_report(sc: Scenario) -> None:
    assert format_report([]) == "plan check: no violations"
    found = [Violation("overlap", "run X", "a"), Violation("setup", "run Y", "b")]
    assert format_report(found).splitlines() == [
        "run X: [overlap] a", "run Y: [setup] b", "plan check: 2 violations (overlap 1, setup 1)"]
