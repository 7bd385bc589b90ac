"""A run killed at any moment leaves the previous plan folder or a complete new one, never a mix."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sopt.output import recover

MINI = Path(__file__).parent / "data" / "mini_week.yaml"
FILES = ["schedule.csv", "capacity.csv", "production_plan.csv", "orders.csv", "unmet.csv", "kpis.json",
         "plan.json", "mrp.csv", "report.html", "schedule.xlsx", "gantt.png"]


def _solve(out: Path, reserve: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sopt", "solve", str(MINI), "-o", str(out), "--reserve", reserve,
                             "--workers", "1", "--time-limit", "2", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigkill_at_random_moments_never_leaves_a_mix(tmp_path):
    out = tmp_path / "plan"
    assert _solve(out, "0.2").wait(timeout=120) == 0
    rng = random.Random(7)
    for k in range(6):
        proc = _solve(out, "0.3")
        time.sleep(rng.uniform(0.3, 6.0))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        recover(out)  # what the next run does first
        assert out.is_dir(), f"kill {k}: no plan folder"
        for name in FILES:
            assert (out / name).is_file(), f"kill {k}: {name} missing"
        kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
        plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
        assert kpis["reserve_ratio"] in (0.2, 0.3)
        assert plan["kpis"]["reserve_ratio"] == kpis["reserve_ratio"]  # one run's files, not a mix
        assert not list(tmp_path.glob("plan.staging-*")), "recover removes dead staging folders"
