"""`sopt import`: public benchmark files (job shop, flexible job shop, Trigeiro) as scenarios. No solving."""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from sopt.cli import main
from sopt.errors import InputError
from sopt.importers import days_per_period, import_file
from sopt.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "benchmarks"  # the team's copies; tests/data/benchmarks holds three of them
LOCAL = Path(__file__).parent / "data" / "benchmarks"
START = dt.date(2026, 1, 5)


def bench(name: str) -> Path:
    for folder in (SHARED, LOCAL):
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"benchmark instance {name} is not available")


def run(*args: object) -> int:
    return main([str(a) for a in args])


def write_and_load(data: dict, folder: Path, name: str = "imported.yaml") -> Scenario:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_scenario(path)


def finished(sc: Scenario) -> list:
    """The scenario's products as written (not the intermediate items of multi-step routings)."""
    return [p for p in sc.products if p.parent is None]


# ----------------------------------------------------------------------------- the shipped instances


@pytest.mark.parametrize("name, jobs, machines", [("ft06.txt", 6, 6), ("la01.txt", 10, 5)])
def test_jobshop_instances(tmp_path, name, jobs, machines):
    path = bench(name)
    data = import_file("jobshop", path)
    rows = [list(map(int, line.split())) for line in path.read_text().splitlines()[1:] if line.strip()]
    bound = sum(sum(row[1::2]) for row in rows)
    assert data["name"] == path.stem
    assert data["shift_templates"] == {"run": {"start": "00:00", "minutes": bound}}
    assert data["horizon"] == {"start": START, "days": math.ceil(bound / 1440)}
    assert [ln["id"] for ln in data["lines"]] == [f"M{i}" for i in range(machines)]
    assert data["policy"]["weights"]["makespan"] == 1 and data["policy"]["hard_demand"] is True
    # the first operation of the first job keeps the file's machine (0-based) and time
    first = data["products"][0]["routing"][0]
    assert first == {"id": "o1", "work_centres": {f"M{rows[0][0]}": {"minutes_per_unit": rows[0][1]}}}

    sc = write_and_load(data, tmp_path)
    assert len(sc.lines) == machines
    products = finished(sc)
    assert [p.id for p in products] == [f"J{j}" for j in range(1, jobs + 1)]
    assert all(len(p.steps) == machines for p in products)
    assert all(len(step.rates) == 1 for p in products for step in p.steps)
    assert [(jb.id, jb.product, jb.quantity) for jb in sc.jobs] == \
        [(f"J{j}-job", f"J{j}", 1) for j in range(1, jobs + 1)]
    assert sc.hard_demand and sc.weights.makespan == 1 and sc.weights.holding == 0


def test_fjs_instance(tmp_path):
    data = import_file("fjs", bench("mk01.txt"))
    sc = write_and_load(data, tmp_path)
    assert [ln.id for ln in sc.lines] == [f"M{i}" for i in range(1, 7)]
    products = finished(sc)
    assert len(products) == 10 and len(sc.jobs) == 10
    assert sum(len(p.steps) for p in products) == 55
    # job 1, operation 1 is "2  1 5  3 4": machine 1 for 5 minutes or machine 3 for 4
    step = products[0].steps[0]
    assert {lid: r.minutes_per_unit for lid, r in step.rates.items()} == {"M1": 5, "M3": 4}
    # the horizon's one shift covers the sum of every operation's longest alternative
    bound = sum(max(wc["minutes_per_unit"] for wc in op["work_centres"].values())
                for p in data["products"] for op in p["routing"])
    assert data["shift_templates"]["run"]["minutes"] == bound
    assert sc.days == math.ceil(bound / 1440)


def test_trigeiro_instance(tmp_path):
    path = bench("G53.DAT")
    data = import_file("trigeiro", path)
    sc = write_and_load(data, tmp_path)
    assert len(finished(sc)) == 12
    assert sc.days == 30 and sc.start == START
    (line,) = sc.lines
    assert line.id == "M1"
    assert sorted(line.dates) == [START + dt.timedelta(days=2 * t) for t in range(15)]
    assert sc.templates["period"].length == 1456
    i1 = sc.product("I1")
    assert i1.holding_cost == Fraction(3, 2)
    rate = i1.rates["M1"]
    assert (rate.minutes_per_unit, rate.setup_minutes, rate.setup_cost) == (1, 30, 600)
    # the demand matrix: 15 rows of 12 numbers after the 12 item lines
    numbers = path.read_text().split()
    matrix = [int(x) for x in numbers[4 + 4 * 12: 4 + 4 * 12 + 15 * 12]]
    assert sum(sum(v) for v in sc.forecast.values()) == sum(matrix)
    # each period's demand is due on its first plant day, nothing on the second
    assert sc.forecast["I2"][:4] == (matrix[1], 0, matrix[12 + 1], 0)
    assert sc.hard_demand and sc.weights.holding == 1 and sc.weights.setup_cost == 1


def test_name_option(tmp_path):
    assert import_file("jobshop", bench("ft06.txt"), name="Fisher & Thompson 6x6")["name"] == \
        "Fisher & Thompson 6x6"


# ----------------------------------------------------------------------------- Trigeiro details


def trigeiro_text(n: int, periods: int, capacity: int, items: list[str], demand: list[list[int]]) -> str:
    """A Trigeiro file; demand[t][i]; the matrix in column blocks of at most 15 items."""
    out = [f"  {n}  {periods}", "    1", f" {capacity}", *items]
    for first in range(0, n, 15):
        for t in range(periods):
            out.append(" ".join(f"{demand[t][i]:5d}" for i in range(first, min(first + 15, n))))
    out += ["  Bi   hi   su   su", "           time cost"]
    return "\n".join(out) + "\n"


def test_trigeiro_column_blocks(tmp_path):
    n, periods = 20, 3
    demand = [[100 * t + i for i in range(n)] for t in range(periods)]
    items = [f" 1.00 {3 if i == 17 else 1}.00  {i}. {100 * i}." for i in range(n)]
    path = tmp_path / "T20.DAT"
    path.write_text(trigeiro_text(n, periods, 3000, items, demand))
    data = import_file("trigeiro", path)
    k = 4  # 2 x 1440 < 3000 <= 4 x 1440
    sc = write_and_load(data, tmp_path)
    assert sc.days == periods * k
    assert len(finished(sc)) == n
    # item 18 (index 17) lives in the second block: periods 1..3 -> days 0, 4, 8
    assert sc.forecast["I18"] == (17, 0, 0, 0, 117, 0, 0, 0, 217, 0, 0, 0)
    assert sc.forecast["I3"][8] == 202
    assert data["products"][17]["holding_cost"] == 0.75  # 3 per period over 4 plant days
    assert data["products"][17]["lines"]["M1"] == {"minutes_per_unit": 1, "setup_minutes": 17, "setup_cost": 1700}


@pytest.mark.parametrize("capacity, k", [(1, 1), (1440, 1), (1441, 2), (2880, 2), (2881, 4), (5760, 4),
                                         (5761, 5), (7201, 8), (11521, 10), (14401, 16)])
def test_days_per_period(capacity, k):
    assert days_per_period(capacity) == k


# ----------------------------------------------------------------------------- broken inputs


def _ft06(tmp_path: Path, edit: Callable[[list[str]], list[str]]) -> Path:
    lines = bench("ft06.txt").read_text().splitlines()
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def _mk01(tmp_path: Path, edit: Callable[[list[str]], list[str]]) -> Path:
    lines = bench("mk01.txt").read_text().splitlines()
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def _g53(tmp_path: Path, edit: Callable[[list[str]], list[str]]) -> Path:
    lines = bench("G53.DAT").read_text().splitlines()
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def _set(i: int, text: str) -> Callable[[list[str]], list[str]]:
    return lambda lines: lines[:i] + [text] + lines[i + 1:]


def _raw(data: bytes) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / "bad.txt"
        path.write_bytes(data)
        return path
    return make


BROKEN: dict[str, tuple[str, Callable[[Path], Path], str]] = {
    # kind: (format, file maker, expected problem line after "bad.txt: ")
    "jobshop short job": ("jobshop", lambda p: _ft06(p, _set(2, "1 8 2 5 4 10 5 10 0 10")),
                          "line 3: job 2 lists 5 operations, expected 6"),
    "jobshop odd values": ("jobshop", lambda p: _ft06(p, _set(2, "1 8 2 5 4 10 5 10 0 10 3")),
                           "line 3: job 2 lists 11 values, an odd number"),
    "jobshop machine out of range": ("jobshop", lambda p: _ft06(p, _set(2, "1 8 2 5 4 10 5 10 6 10 3 4")),
                                     "line 3: job 2, operation 5: machine 6 is out of range 0..5"),
    "jobshop negative time": ("jobshop", lambda p: _ft06(p, _set(3, "2 5 3 4 5 -8 0 9 1 1 4 7")),
                              "line 4: job 3, operation 3: processing time -8 on machine 5 is negative"),
    "jobshop non-integer": ("jobshop", lambda p: _ft06(p, _set(1, "2 1 0 3 1 6 3 7.5 5 3 4 6")),
                            "line 2: job 1, operation 4: processing time '7.5' is not a whole number"),
    "jobshop not a number": ("jobshop", lambda p: _ft06(p, _set(1, "2 1 0 3 1 6 x 7 5 3 4 6")),
                             "line 2: job 1, operation 4: machine 'x' is not a number"),
    "jobshop machine twice": ("jobshop", lambda p: _ft06(p, _set(1, "2 1 0 3 1 6 3 7 2 3 4 6")),
                              "line 2: job 1 visits machine 2 twice (operations 1 and 5)"),
    "jobshop missing jobs": ("jobshop", lambda p: _ft06(p, lambda ls: ls[:4]),
                             "end of file: 3 job lines, expected 6"),
    "jobshop extra line": ("jobshop", lambda p: _ft06(p, lambda ls: [*ls, "1 2 3 4"]),
                           "line 8: 1 more line after the 6 jobs"),
    "jobshop bad header": ("jobshop", lambda p: _ft06(p, _set(0, "6")),
                           "line 1: expected 'n m' on the first line, found 1 value"),
    "empty file": ("jobshop", _raw(b""), "file: empty"),
    "blank file": ("fjs", _raw(b" \n\n  \n"), "file: empty"),
    "binary file": ("trigeiro", _raw(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "file: binary data, not a text file"),
    "not UTF-8": ("jobshop", _raw(b"6 6\n\xff\xfe\n"), "file: not a text file (byte 4 is not UTF-8)"),
    "fjs too few pairs": ("fjs", lambda p: _mk01(p, _set(1, " 6  2 1 5 3 4 3 5 3 3 5 2 1 2 3 4 6 2 3 6 5 2 6 1 1 1 3 1 3 6 6 3 6 4")),
                          "line 2: job 1, operation 6 lists 3 machines but only 5 values follow"),
    "fjs extra values": ("fjs", lambda p: _mk01(p, _set(2, " 5  1 2 6 1 3 1 1 1 2 2 2 6 4 6 3 6 5 2 6 1 1 9")),
                         "line 3: job 2: 1 more value after its 5 operations"),
    "fjs machine out of range": ("fjs", lambda p: _mk01(p, _set(2, " 5  1 7 6 1 3 1 1 1 2 2 2 6 4 6 3 6 5 2 6 1 1")),
                                 "line 3: job 2, operation 1: machine 7 is out of range 1..6"),
    "fjs machine 0": ("fjs", lambda p: _mk01(p, _set(2, " 5  1 0 6 1 3 1 1 1 2 2 2 6 4 6 3 6 5 2 6 1 1")),
                      "line 3: job 2, operation 1: machine 0 is out of range 1..6"),
    "fjs negative time": ("fjs", lambda p: _mk01(p, _set(2, " 5  1 2 -1 1 3 1 1 1 2 2 2 6 4 6 3 6 5 2 6 1 1")),
                          "line 3: job 2, operation 1: processing time -1 on machine 2 is negative"),
    "fjs operation without machines": ("fjs", lambda p: _mk01(p, _set(2, " 5  0 1 3 1 1 1 2 2 2 6 4 6 3 6 5 2 6 1 1")),
                                       "line 3: job 2, operation 1 has 0 eligible machines"),
    "trigeiro two machines": ("trigeiro", lambda p: _g53(p, _set(1, "    2")),
                              "line 2: 2 machines: sopt imports single-machine instances only"),
    "trigeiro fractional setup": ("trigeiro", lambda p: _g53(p, _set(3, " 1.00 3.00  30.5 600.")),
                                  "line 4: item 1: setup time '30.5' is not a whole number"),
    "trigeiro short item line": ("trigeiro", lambda p: _g53(p, _set(3, " 1.00 3.00  30.")),
                                 "line 4: item 1: expected 4 values 'b h st sc', found 3"),
    "trigeiro zero unit time": ("trigeiro", lambda p: _g53(p, _set(3, " 0 3.00  30. 600.")),
                                "line 4: item 1: unit production time 0: sopt needs positive times"),
    "trigeiro negative holding cost": ("trigeiro", lambda p: _g53(p, _set(3, " 1.00 -3.00  30. 600.")),
                                       "line 4: item 1: holding cost -3.00: sopt needs a holding cost of 0 or more"),
    "trigeiro too many digits": ("trigeiro", lambda p: _g53(p, _set(3, " 1.2345678901234567891 3.00  30. 600.")),
                                 "line 4: item 1: unit production time has more significant digits than sopt"),
    "trigeiro setup cost too large": ("trigeiro", lambda p: _g53(p, _set(3, " 1.00 3.00  30. 6000000000.")),
                                      "line 4: item 1: setup cost 6000000000. is larger than sopt's limit"),
    "trigeiro short demand row": ("trigeiro", lambda p: _g53(p, _set(16, "   95   96    0  121")),
                                  "line 17: demand of period 2 (items 1-12): expected 12 values, found 4"),
    "trigeiro fractional demand": ("trigeiro", lambda p: _g53(p, _set(15, "    0   98  106   98    0  103  110   85  122  120  117  12.5")),
                                   "line 16: demand of item 12 in period 1: '12.5' is not a whole number"),
    "trigeiro truncated": ("trigeiro", lambda p: _g53(p, lambda ls: ls[:20]),
                           "end of file: the file ends before the demand of period 6 (items 1-12)"),
    "trigeiro horizon too long": ("trigeiro", lambda p: _g53(p, _set(2, " 99999")),
                                  "line 1: 15 periods of 80 plant days each"),
    "trigeiro read as jobshop": ("jobshop", lambda p: _g53(p, lambda ls: ls), "line 2: job 1 lists 1 value, an odd number"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_input_raises_input_error(tmp_path, kind):
    fmt, make, expected = BROKEN[kind]
    path = make(tmp_path)
    with pytest.raises(InputError) as err:
        import_file(fmt, path)
    problems = err.value.problems
    assert problems and problems[0].startswith(f"bad.txt: {expected}"), problems


@pytest.mark.parametrize("kind", ["jobshop short job", "jobshop negative time", "binary file", "fjs machine out of range",
                                  "trigeiro two machines", "trigeiro short demand row"])
def test_broken_input_through_the_cli(tmp_path, capsys, kind):
    fmt, make, expected = BROKEN[kind]
    path = make(tmp_path)
    out = tmp_path / "out.yaml"
    assert run("import", "--format", fmt, path, "-o", out) == 2
    captured = capsys.readouterr()
    assert len(captured.err.splitlines()) == 1, captured.err
    assert captured.err.startswith(f"bad.txt: {expected}")
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt"]  # no output, no temp file


def test_missing_file_through_the_cli(tmp_path, capsys):
    out = tmp_path / "out.yaml"
    assert run("import", "--format", "jobshop", tmp_path / "nope.txt", "-o", out) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{tmp_path / 'nope.txt'}: file: not found"]
    assert not out.exists()


def test_cli_usage_errors(tmp_path, capsys):
    path = bench("ft06.txt")
    assert run("import", "--format", "csv", path, "-o", tmp_path / "x.yaml") == 2
    assert run("import", "--format", "jobshop", path) == 2  # -o is required
    assert "required" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_failed_import_keeps_an_existing_output(tmp_path, capsys):
    out = tmp_path / "out.yaml"
    out.write_text("keep me\n")
    bad = _ft06(tmp_path, _set(2, "1 8"))
    assert run("import", "--format", "jobshop", bad, "-o", out) == 2
    assert out.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt", "out.yaml"]


# ----------------------------------------------------------------------------- the written file


@pytest.mark.parametrize("fmt, name, summary", [
    ("jobshop", "ft06.txt", "imported ft06.txt: job shop, 6 jobs x 6 machines -> "),
    ("jobshop", "la01.txt", "imported la01.txt: job shop, 10 jobs x 5 machines -> "),
    ("fjs", "mk01.txt", "imported mk01.txt: flexible job shop, 10 jobs x 6 machines, 55 operations -> "),
    ("trigeiro", "G53.DAT", "imported G53.DAT: lot sizing, 12 items x 15 periods"),
])
def test_cli_writes_a_valid_scenario(tmp_path, capsys, fmt, name, summary):
    path = bench(name)
    out = tmp_path / "sub" / f"{path.stem}.yaml"
    assert run("import", "--format", fmt, path, "-o", out, "--name", f"bench-{path.stem}") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(summary) and lines[0].endswith(f"-> {out}")
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temp file left behind
    text = out.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    expected = import_file(fmt, path, name=f"bench-{path.stem}")
    assert data == expected  # the file is exactly the library's dict
    assert list(data) == list(expected)  # in the same key order
    assert load_scenario(out).name == f"bench-{path.stem}"
    assert run("validate", out) == 0
    assert "valid" in capsys.readouterr().out


def test_overwrites_atomically(tmp_path, capsys):
    out = tmp_path / "ft06.yaml"
    out.write_text("old\n")
    assert run("import", "--format", "jobshop", bench("ft06.txt"), "-o", out) == 0
    assert yaml.safe_load(out.read_text())["name"] == "ft06"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ft06.yaml"]


def test_refuses_to_overwrite_the_input(tmp_path, capsys):
    src = tmp_path / "ft06.txt"
    src.write_bytes(bench("ft06.txt").read_bytes())
    assert run("import", "--format", "jobshop", src, "-o", src) == 2
    assert src.read_bytes() == bench("ft06.txt").read_bytes()


def test_fjs_repeated_machine_keeps_the_shorter_time(tmp_path):
    path = tmp_path / "dup.fjs"
    path.write_text("2 3 1.5\n2  2 1 5 1 4  1 3 2\n1  3 2 7 3 1 2 6\n")
    data = import_file("fjs", path)
    ops = [op["work_centres"] for p in data["products"] for op in p["routing"]]
    assert ops == [{"M1": {"minutes_per_unit": 4}}, {"M3": {"minutes_per_unit": 2}},
                   {"M2": {"minutes_per_unit": 6}, "M3": {"minutes_per_unit": 1}}]
    assert data["shift_templates"]["run"]["minutes"] == 4 + 2 + 6  # the longest alternative of each
    assert [ln["id"] for ln in data["lines"]] == ["M1", "M2", "M3"]
    write_and_load(data, tmp_path)


def test_python_dash_m_entry_point(tmp_path):
    bad = _ft06(tmp_path, _set(2, "1 8 2 5 4 10 5 10 0 10"))
    out = tmp_path / "out.yaml"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, "-m", "sopt", "import", "--format", "jobshop", str(bad), "-o", str(out)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.splitlines() == ["bad.txt: line 3: job 2 lists 5 operations, expected 6"]
    assert not out.exists()


def test_zero_time_operations_are_left_out(tmp_path):
    """An operation of 0 minutes takes no machine and does not delay its job (orb07 has one)."""
    path = _ft06(tmp_path, _set(3, "2 5 3 4 5 0 0 9 1 1 4 7"))
    data = import_file("jobshop", path)
    j3 = next(p for p in data["products"] if p["id"] == "J3")
    assert len(j3["routing"]) == 5 and all("M5" not in st["work_centres"] for st in j3["routing"])
    assert len(data["jobs"]) == 6
    write_and_load(data, tmp_path)
