"""Same scenario, same seed, deterministic settings -> the same CSV and JSON outputs
(apart from the `timing`, `solve_seconds` and `generated_at` fields, CONTRACT.md)."""

from __future__ import annotations

import json
from pathlib import Path

from sopt.cli import main
from sopt.generate import generate_week
from sopt.model import solve
from sopt.week import prepare

MINI = Path(__file__).parent / "data" / "mini_week.yaml"


def _solve(out: Path) -> None:
    assert main(["solve", str(MINI), "-o", str(out), "--deterministic", "--workers", "1", "--seed", "3",
                 "--time-limit", "1", "-q", "--no-pictures", "--no-workbook", "--no-report"]) == 0


def _kpis(path: Path) -> dict:
    k = json.loads(path.read_text(encoding="utf-8"))
    for key in ("timing", "generated_at", "solve_seconds"):
        k.pop(key)
    return k


def test_deterministic_runs_write_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _solve(a)
    _solve(b)
    csvs = sorted(p.relative_to(a) for p in a.rglob("*.csv"))
    assert csvs and csvs == sorted(p.relative_to(b) for p in b.rglob("*.csv"))
    for rel in csvs:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert _kpis(a / "kpis.json") == _kpis(b / "kpis.json")
    pa, pb = (json.loads((d / "plan.json").read_text(encoding="utf-8")) for d in (a, b))
    for doc in (pa, pb):
        for key in ("timing", "generated_at", "solve_seconds"):
            doc["kpis"].pop(key)
    assert pa == pb


def test_deterministic_solves_with_several_workers_repeat_their_plan(load_scn):
    # an over-loaded week where parallel workers gave three different plans in three solves
    week = prepare(load_scn(generate_week(12, 2, 3, 4, load=1.2)))
    plans = [solve(week, time_limit=2, workers=2, seed=3, deterministic=True) for _ in range(3)]
    assert plans[0].plan is not None
    runs = [[(r.product, r.line, r.shift_index, r.quantity) for r in p.plan.runs] for p in plans]
    assert runs[0] == runs[1] == runs[2]
    assert plans[0].objective == plans[1].objective == plans[2].objective
