"""Re-planning from actuals (R6, R10, R12): frozen work never moves, the fence releases reserve, diff."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path

import pytest

from sopt.checker import check_plan
from sopt.cli import main
from sopt.scenario import load_scenario

MINI = Path(__file__).parent / "data" / "mini_week.yaml"
NOW = "2026-12-01T08:00"


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_bytes().decode("utf-8-sig").splitlines()))


@pytest.fixture(scope="module")
def replanned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replan")
    old = tmp / "mon"
    assert main(["solve", str(MINI), "-o", str(old), "--workers", "1", "-q", "--no-pictures", "--no-report",
                 "--no-workbook"]) == 0
    runs = _rows(old / "schedule.csv")
    first = min(runs, key=lambda r: r["start"])
    progress = tmp / "progress.csv"
    progress.write_text(f"run_id,quantity_done,status\n{first['run_id']},{int(first['quantity']) - 10},done\n")
    new = tmp / "tue"
    assert main(["replan", str(MINI), "--plan", str(old), "--actuals", str(progress), "--now", NOW, "-o", str(new),
                 "--workers", "1", "--time-limit", "5"]) == 0
    return old, new, first


def test_frozen_work_never_moves(replanned):
    old, new, first = replanned
    before = {r["run_id"]: r for r in _rows(old / "schedule.csv") if r["start"] < NOW}
    after = {r["run_id"]: r for r in _rows(new / "schedule.csv")}
    assert before, "the mini week has runs before the re-plan time"
    for rid, r in before.items():
        assert rid in after
        for col in ("line", "shift", "start", "end", "product"):
            assert after[rid][col] == r[col], (rid, col)
    assert int(after[first["run_id"]]["quantity"]) == int(first["quantity"]) - 10  # the reported quantity
    # nothing new goes into a shift that had started before the re-plan
    started = {(r["line"], r["shift"]) for r in _rows(new / "capacity.csv") if r["shift_start"] < NOW}
    new_runs = [r for r in after.values() if r["run_id"] not in before]
    assert all((r["line"], r["shift"]) not in started for r in new_runs)


def test_released_reserve_only_inside_the_fence(replanned):
    _, new, _ = replanned
    now = dt.datetime.fromisoformat(NOW)
    fence = now + dt.timedelta(hours=24)
    released = [r for r in _rows(new / "capacity.csv") if int(r["released_minutes"]) > 0]
    assert released, "the mini week has protected minutes inside the fence"
    for r in released:
        start = dt.datetime.fromisoformat(r["shift_start"])
        assert now <= start < fence
        assert int(r["released_minutes"]) <= int(r["protected_minutes"])


def test_new_plan_holds_and_lists_its_changes(replanned):
    old, new, _ = replanned
    assert check_plan(load_scenario(MINI), new) == []
    changes = _rows(new / "changes.csv")
    assert {c["change"] for c in changes} <= {"added", "removed", "moved", "quantity"}
    assert any(c["change"] == "quantity" for c in changes)  # the run reported short
    kpis = json.loads((new / "kpis.json").read_text())
    assert "nervousness" in kpis["objective_terms"]


def test_diff_of_a_plan_with_itself_is_empty(replanned, capsys):
    old, new, _ = replanned
    assert main(["diff", str(old), str(old)]) == 0
    assert "no run changed" in capsys.readouterr().out
    assert main(["diff", str(old), str(new)]) == 0
    assert "changes" in capsys.readouterr().out


def test_bad_actuals_exit_2(replanned, tmp_path, capsys):
    old, _, _ = replanned
    bad = tmp_path / "progress.csv"
    bad.write_text("run_id,quantity_done,status\nNOPE,5,done\n")
    assert main(["replan", str(MINI), "--plan", str(old), "--actuals", str(bad), "--now", NOW,
                 "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["progress.csv: line 2.run_id: run 'NOPE' is not in the plan"]
    assert main(["replan", str(MINI), "--plan", str(old), "--actuals", str(bad), "--now", "tomorrow"]) == 2


def test_bundled_progress_example_replans_the_demo_week(tmp_path):
    # scenarios/examples/progress_demo_tuesday.csv reports Monday's runs of the deterministic
    # demo plan (sopt solve --deterministic --workers 1 --seed 0 --time-limit 1)
    root = Path(__file__).resolve().parent.parent
    demo = root / "scenarios" / "demo_week.yaml"
    mon, tue = tmp_path / "mon", tmp_path / "tue"
    assert main(["solve", str(demo), "-o", str(mon), "--deterministic", "--workers", "1", "--seed", "0",
                 "--time-limit", "1", "-q", "--no-pictures", "--no-workbook", "--no-report"]) == 0
    progress = root / "scenarios" / "examples" / "progress_demo_tuesday.csv"
    assert main(["replan", str(demo), "--plan", str(mon), "--actuals", str(progress), "--now", "2026-12-01T06:00",
                 "-o", str(tue), "--time-limit", "3"]) == 0
    assert check_plan(load_scenario(demo), tue) == []
    reported = {r["run_id"]: r for r in _rows(progress)}
    after = {r["run_id"]: r for r in _rows(tue / "schedule.csv")}
    for rid, r in reported.items():
        assert after[rid]["start"] == r["actual_start"] and int(after[rid]["quantity"]) == int(r["quantity_done"])


def test_new_orders_and_slipped_receipts_enter_the_replan(replanned, tmp_path):
    old, _, first = replanned
    progress = tmp_path / "progress.csv"
    progress.write_text(f"run_id,quantity_done,status\n{first['run_id']},{first['quantity']},done\n")
    orders = tmp_path / "orders.csv"
    orders.write_text("id,product,quantity,due,priority\nSO-77,P3,20,2026-12-02,1\n")
    receipts = tmp_path / "receipts.csv"
    receipts.write_text("material,at,quantity,status,new_at\nM1,2026-12-01T10:00,50,slipped,2026-12-02T10:00\n")
    new = tmp_path / "new"
    assert main(["replan", str(MINI), "--plan", str(old), "--actuals", str(progress), "--now", NOW, "-o", str(new),
                 "--workers", "1", "--time-limit", "3", "--new-orders", str(orders), "--receipts", str(receipts)]) == 0
    got = {r["order_id"]: r for r in _rows(new / "orders.csv")}
    assert got["SO-77"]["quantity"] == "20"
    sc = load_scenario(new / "scenario.yaml")  # the week as re-planned, self-contained
    assert [t.isoformat(timespec="minutes") for t, _ in sc.material("M1").receipts] == ["2026-12-02T10:00"]
    assert check_plan(sc, new) == []
    bad = tmp_path / "bad.csv"
    bad.write_text("id,product,quantity,due\nSO-78,PX,5,2026-12-02\n")
    assert main(["replan", str(MINI), "--plan", str(old), "--actuals", str(progress), "--now", NOW,
                 "-o", str(tmp_path / "x"), "--new-orders", str(bad)]) == 2


def test_scenario_yaml_is_self_contained(tmp_path):
    import yaml

    from sopt.replan import scenario_yaml

    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["demand"] = {"orders_csv": "orders.csv", "forecast_csv": "forecast.csv"}
    (tmp_path / "orders.csv").write_text("id,product,quantity,due\nSO1,P3,40,2026-12-01\n")
    (tmp_path / "forecast.csv").write_text("product,date,quantity\nP1,2026-11-30,100\n")
    src = tmp_path / "week.yaml"
    src.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    sc = load_scenario(src)
    elsewhere = tmp_path / "plan"
    elsewhere.mkdir()
    (elsewhere / "scenario.yaml").write_bytes(scenario_yaml(src, sc))
    again = load_scenario(elsewhere / "scenario.yaml")
    assert again.forecast == sc.forecast and again.orders == sc.orders


def test_a_run_reported_with_more_units_than_planned_keeps_them(replanned, tmp_path):
    # the floor made more than the run's planned minutes allow at the standard rate: a fact, not an error
    old, _, first = replanned
    rate = load_scenario(MINI).product(first["product"]).rates[first["line"]].minutes_per_unit
    more = int(first["quantity"]) + 1
    while math.ceil(more * rate) <= int(first["run_minutes"]):  # the fewest units more than its minutes make
        more += 1
    progress = tmp_path / "progress.csv"
    progress.write_text(f"run_id,quantity_done,status\n{first['run_id']},{more},done\n")
    new = tmp_path / "tue"
    assert main(["replan", str(MINI), "--plan", str(old), "--actuals", str(progress), "--now", NOW, "-o", str(new),
                 "--workers", "1", "--time-limit", "5", "-q"]) == 0
    after = {r["run_id"]: r for r in _rows(new / "schedule.csv")}
    assert int(after[first["run_id"]]["quantity"]) == more
    assert after[first["run_id"]]["run_minutes"] == first["run_minutes"]  # its planned minutes
