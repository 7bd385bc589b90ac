"""Faults on real runs: Ctrl-C during compare and replan keeps the best plans found so far; a second
Ctrl-C stops at once and leaves the previous folder whole; a kill while a comparison is written
leaves the previous comparison or the new one, never a mix."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sopt.cli import main
from sopt.output import recover

QUIET = ["--no-pictures", "--no-workbook", "--no-report"]


def _sopt(*args: object) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "sopt", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def _wait_for(proc: subprocess.Popen, text: str, timeout: float = 90) -> list[str]:
    """Lines printed until one containing `text` (the test fails if the run ends first)."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return seen
        assert time.monotonic() < deadline, f"no '{text}' within {timeout} s:\n{''.join(seen)}"
    raise AssertionError(f"the run ended before '{text}':\n{''.join(seen)}")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A week large enough that a 120 s search is still running when it is interrupted."""
    path = tmp_path_factory.mktemp("faults") / "big.yaml"
    assert main(["generate", "--products", "120", "--lines", "6", "--materials", "10", "--seed", "3",
                 "--load", "1.1", "-o", str(path)]) == 0
    return path


def test_ctrl_c_during_compare_writes_the_ratios_done(big, tmp_path):
    out = tmp_path / "cmp"
    proc = _sopt("compare", big, "--reserve", "0.1", "0.2", "0.3", "0.4", "-o", out, "--time-limit", "120",
                 "--workers", "2", "--weeks", "20")
    _wait_for(proc, "comparing 4 reserve ratios")
    time.sleep(8)  # the searches run (each has its checked start plan at once)
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout
    assert "interrupted — the ratios done so far were written" in stdout
    rows = list(csv.DictReader((out / "comparison.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows and all(json.loads((out / f"r{float(r['reserve_ratio']):.2f}" / "kpis.json").read_text())
                        for r in rows if r["status"] in ("OPTIMAL", "FEASIBLE"))
    assert json.loads((out / "recommendation.json").read_text(encoding="utf-8"))
    assert not list(tmp_path.glob("cmp.staging-*"))


def test_ctrl_c_during_replan_writes_the_best_plan(big, tmp_path):
    plan = tmp_path / "plan"
    assert main(["solve", str(big), "-o", str(plan), "--time-limit", "2", "--workers", "2", "-q", *QUIET]) == 0
    progress = tmp_path / "progress.csv"
    progress.write_text("run_id,quantity_done,status\n", encoding="utf-8")
    out = tmp_path / "tue"
    proc = _sopt("replan", big, "--plan", plan, "--actuals", progress, "--now", "2026-12-01T06:00", "-o", out,
                 "--time-limit", "120", "--workers", "2")
    _wait_for(proc, " plan ")  # the first plan of the re-plan's search
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout
    assert "the best plan found so far was written" in stdout
    assert json.loads((out / "kpis.json").read_text(encoding="utf-8"))["interrupted"] is True
    assert (out / "changes.csv").is_file()


def test_second_ctrl_c_stops_at_once_and_keeps_the_previous_folder(big, tmp_path):
    out = tmp_path / "plan"
    assert main(["solve", str(big), "-o", str(out), "--time-limit", "2", "--workers", "2", "-q", "--reserve", "0.2",
                 *QUIET]) == 0
    before = _files(out)
    proc = _sopt("solve", big, "-o", out, "--time-limit", "120", "--workers", "2", "--reserve", "0.3", *QUIET)
    _wait_for(proc, " plan ")
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout
    recover(out)  # what the next run does first
    after = _files(out)
    if "stopped at once" in stdout:  # the second Ctrl-C came before the new folder was in place
        assert after == before
    else:  # both signals were handled as one stop: the new plan is complete
        assert json.loads(after["kpis.json"])["reserve_ratio"] == 0.3
        assert set(after) == set(before)


def test_kill_while_a_comparison_is_written_leaves_no_mix(tmp_path):
    mini = Path(__file__).parent / "data" / "mini_week.yaml"
    out = tmp_path / "cmp"
    args = ["compare", str(mini), "-o", str(out), "--time-limit", "1", "--workers", "1", "--weeks", "10",
            "--sequential"]
    assert main([*args, "--reserve", "0.1", "0.2"]) == 0
    for k, delay in enumerate((0.5, 1.5, 2.5, 3.5, 5.0)):
        proc = _sopt(*args, "--reserve", "0.3", "0.35")
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=30)
        recover(out)
        rows = list(csv.DictReader((out / "comparison.csv").read_text(encoding="utf-8-sig").splitlines()))
        ratios = sorted(r["reserve_ratio"] for r in rows)
        assert ratios in (["0.10", "0.20"], ["0.30", "0.35"]), (k, ratios)
        folders = sorted(p.name for p in out.iterdir() if p.is_dir())
        assert folders == sorted(f"r{float(r):.2f}" for r in ratios), (k, folders)


def test_a_stop_before_the_search_keeps_the_checked_start_plan(load):
    """A Ctrl-C during the model build is not lost: the search does not run, the start plan is kept."""
    from sopt.generate import generate_week
    from sopt.model.solver import request_stop, reset_stop, solve

    sc = load(generate_week(20, 2, 2, 1, load=1.0))
    request_stop()
    try:
        r = solve(sc, time_limit=60, workers=1)
    finally:
        reset_stop()
    assert r.interrupted and r.plan is not None
    assert r.solve_seconds < 30  # not the 60 s limit
    assert r.best_bound is not None and r.best_bound <= r.objective
    assert not solve(sc, time_limit=1, workers=1).interrupted  # reset: the next search runs
