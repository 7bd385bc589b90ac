"""A reduced load run: `sopt compare` over 6 ratios x 50 simulated rush weeks of the mini week,
1 s per solve, ratios in parallel processes, as a subprocess whose process tree is watched.

It must end 0 within the memory bound, write every ratio, and leave no process behind. The
full run (40 ratios x 200 weeks on the demo and on a 500-product week) is
`python benchmarks/soak.py load`; its figures are in benchmarks/results/load-*.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from tests.load_lib import GIB, MIB, check_compare_folder, ratio_range, run_watched

ROOT = Path(__file__).resolve().parent.parent
MEMORY_BOUND = int(1.5 * GIB)  # the whole tree (2 spawned workers); measured about 0.5 GiB
RATIOS = 6
WEEKS = 50


def test_reduced_compare_ends_cleanly_within_the_memory_bound(tmp_path: Path, capsys) -> None:
    data = yaml.safe_load((ROOT / "tests" / "data" / "mini_week.yaml").read_text(encoding="utf-8"))
    data["rush_orders"] = {"rate_per_day": 2, "classes": ["A", "B"], "lead_time_days": 1,
                           "quantity": {"min": 10, "max": 60, "multiple": 10}}
    week = tmp_path / "mini_rush.yaml"
    week.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    reserve, folders = ratio_range(RATIOS)
    out = tmp_path / "compare"
    w = run_watched([sys.executable, "-m", "sopt", "compare", str(week), "--reserve", reserve, "--weeks", str(WEEKS),
                     "--time-limit", "1", "--seed", "0", "--sim-seed", "0", "--parallel", "-o", str(out)],
                    memory_bound=MEMORY_BOUND, timeout=120)
    with capsys.disabled():
        print(f"\nload (reduced): {RATIOS} ratios x {WEEKS} weeks in {w.seconds:.1f} s, peak RSS "
              f"{w.peak_rss / MIB:.0f} MiB over {w.peak_processes} processes, {len(w.leftover)} left over")
    assert not w.killed, f"killed for {w.killed}: peak {w.peak_rss / MIB:.0f} MiB"
    assert w.returncode == 0, w.stderr
    assert not w.leftover, w.leftover
    assert w.processes_seen >= 2, "the ratios ran in worker processes"
    assert w.peak_rss < MEMORY_BOUND
    assert check_compare_folder(out, folders) == []


def test_the_watcher_sees_a_process_left_behind() -> None:
    # the command starts a child that outlives it: the watcher reports it (and ends it)
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(1)"
    w = run_watched([sys.executable, "-c", code], grace=0.5)
    assert w.returncode == 0
    assert len(w.leftover) == 1 and "time.sleep(30)" in w.leftover[0]
    assert w.peak_processes == 2
