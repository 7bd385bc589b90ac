"""The command line: every exit code, the output contract, atomic writing and the lock."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from sopt.cli import main
from sopt.output import COLUMNS

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini_week.yaml"
SHARED_CHECK = Path(__file__).resolve().parents[2] / "shared" / "tools" / "check_outputs.py"


def run(*args: str) -> int:
    return main([str(a) for a in args])


def test_validate_ok(capsys):
    assert run("validate", MINI) == 0
    assert "valid" in capsys.readouterr().out


def test_solve_writes_every_contract_file(tmp_path, capsys):
    out = tmp_path / "plan"
    assert run("solve", MINI, "-o", out, "--time-limit", "10", "--workers", "1") == 0
    text = capsys.readouterr().out
    assert "status" in text and "service" in text
    for name, cols in COLUMNS.items():
        raw = (out / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        assert raw.decode("utf-8-sig").splitlines()[0].split(",") == cols
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["status"] in ("OPTIMAL", "FEASIBLE")
    assert set(kpis["service_level"]) == {"A", "B", "C"}
    assert (out / "plan.json").exists()
    assert not list(tmp_path.glob("plan.staging-*"))
    if SHARED_CHECK.exists():
        res = subprocess.run([sys.executable, str(SHARED_CHECK), str(out)], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout
    assert run("check", MINI, out) == 0


def test_solve_keeps_the_previous_folder_as_backup(tmp_path):
    out = tmp_path / "plan"
    assert run("solve", MINI, "-o", out, "--workers", "1", "-q") == 0
    assert run("solve", MINI, "-o", out, "--workers", "1", "-q", "--reserve", "0.3") == 0
    assert json.loads((out / "kpis.json").read_text())["reserve_ratio"] == 0.3
    assert json.loads((tmp_path / "plan.previous" / "kpis.json").read_text())["reserve_ratio"] == 0.2


def test_killed_between_renames_is_recovered(tmp_path):
    # A run killed after OUT -> OUT.previous but before staging -> OUT: the next run restores it.
    out = tmp_path / "plan"
    assert run("solve", MINI, "-o", out, "--workers", "1", "-q") == 0
    out.rename(tmp_path / "plan.previous")
    (tmp_path / "plan.staging-999999").mkdir()
    from sopt.output import recover

    recover(out)
    assert (out / "kpis.json").exists()
    assert not (tmp_path / "plan.staging-999999").exists()


def test_check_finds_a_hand_edited_violation(tmp_path, capsys):
    out = tmp_path / "plan"
    assert run("solve", MINI, "-o", out, "--workers", "1", "-q") == 0
    sched = out / "schedule.csv"
    lines = sched.read_bytes().decode("utf-8-sig").splitlines()
    head = lines[0].split(",")
    row = lines[1].split(",")
    row[head.index("quantity")] = str(int(row[head.index("quantity")]) * 50)
    lines[1] = ",".join(row)
    sched.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    capsys.readouterr()
    assert run("check", MINI, out) == 1
    assert capsys.readouterr().out.strip()


def test_bad_scenario_exit_2_one_line_per_problem(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    text = MINI.read_text().replace("L1: {minutes_per_unit: 0.5", "L9: {minutes_per_unit: 0.5")
    text = text.replace("days: 3", "days: 3, colour: red")
    bad.write_text(text)
    assert run("solve", bad, "-o", tmp_path / "x") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["bad.yaml: horizon.colour: unknown key",
                   "bad.yaml: products[0].lines.L9: line 'L9' is not defined (known: L1, L2)"]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("argv", [
    ["solve"], ["solve", "x.yaml", "--reserve", "1.2"], ["solve", "x.yaml", "--workers", "0"],
    ["frobnicate"], ["solve", "x.yaml", "--time-limit", "abc"], ["solve", "x.yaml", "--time-limit", "nan"],
    ["solve", "x.yaml", "--time-limit", "inf"], ["solve", "x.yaml", "--time-limit", "1e18"],
    ["compare", "x.yaml", "--reserve", "0.1", "--time-limit", "86401"], ["compare", "x.yaml", "--reserve", "0.1",
                                                                          "--workers", "65"],
])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_missing_file_exit_2(capsys):
    assert run("solve", "no/such/week.yaml") == 2
    assert "file not found" in capsys.readouterr().err


def test_no_plan_exit_1_and_nothing_written(tmp_path, monkeypatch, capsys):
    import sopt.model.solver as solve_mod

    real = solve_mod.solve

    def no_plan(*a, **kw):
        r = real(*a, **kw)
        r.plan, r.status = None, solve_mod.Status.NO_PLAN
        return r

    monkeypatch.setattr(solve_mod, "solve", no_plan)
    out = tmp_path / "plan"
    assert run("solve", MINI, "-o", out, "-q") == 1
    assert "nothing written" in capsys.readouterr().out
    assert not out.exists()


def test_internal_error_exit_4(tmp_path, monkeypatch, capsys):
    import sopt.model.solver as solve_mod

    def boom(*a, **kw):
        raise RuntimeError("boom")

    monkeypatch.setattr(solve_mod, "solve", boom)
    assert run("solve", MINI, "-o", tmp_path / "plan") == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error" in err[0]
    path = Path(err[0].rsplit(" ", 1)[-1])
    assert "RuntimeError: boom" in path.read_text()
    path.unlink()


def test_locked_folder_exit_3(tmp_path, capsys):
    out = tmp_path / "plan"
    fd = os.open(tmp_path / ".plan.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert run("solve", MINI, "-o", out, "-q") == 3
    finally:
        os.close(fd)
    assert "another sopt run" in capsys.readouterr().err
    assert run("solve", MINI, "-o", out, "-q", "--workers", "1") == 0


def test_ctrl_c_writes_the_best_plan_and_exits_130(tmp_path):
    week = tmp_path / "big.yaml"
    assert main(["generate", "--products", "120", "--lines", "6", "--materials", "10", "--seed", "3",
                 "--load", "1.1", "-o", str(week)]) == 0
    out = tmp_path / "plan"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sopt", "solve", str(week), "-o", str(out),
                             "--time-limit", "120", "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:  # wait for the first plan
        if "plan " in line and "no plan" not in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "best plan found so far was written" in stdout
    assert (out / "kpis.json").exists()
    assert json.loads((out / "kpis.json").read_text())["interrupted"] is True


def test_generate_writes_a_valid_week(tmp_path, capsys):
    path = tmp_path / "gen.yaml"
    assert run("generate", "--products", "20", "--lines", "3", "--materials", "5", "--seed", "1", "-o", path) == 0
    assert run("validate", path) == 0
    shutil.rmtree(tmp_path)


def test_a_written_plan_reads_back_with_the_same_objective(tmp_path):
    from sopt.output import load_plan
    from sopt.scenario import load_scenario

    out = tmp_path / "plan"
    assert run("solve", MINI, "-o", out, "--workers", "1", "-q", "--reserve", "0.3") == 0
    kpis = json.loads((out / "kpis.json").read_text())
    plan = load_plan(load_scenario(MINI), out)
    assert plan.week.scenario.reserve_ratio == Decimal("0.3")
    assert plan.objective == kpis["objective"]
    assert plan.schedule_rows() == json.loads((out / "plan.json").read_text())["schedule"]
