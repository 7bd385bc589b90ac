"""Bad input, tried at scale (issue #8): seeded broken inputs through every command.

Each command gets its share of generated cases (tests/fuzzing.py): every case ends with exit 2
and one stderr line per problem naming the file and field (or the option), or, when the
mutation stayed valid, with a valid run; never a traceback, exit 4, a hang or a partial output.
`benchmarks/soak.py fuzz` runs the same generators at full counts. Below them, one regression
test per crash or bad message the fuzzing found.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests import fuzzing
from tests.fuzzing import MINI, call, names_culprit, sparse_file

SEED = 20261125
# cases per command, and how many of them at least must be rejected with exit 2 (sum >= 500)
CI = {"validate": (150, 130), "import": (130, 115), "accuracy": (120, 105), "abc": (120, 100), "promise": (120, 100),
      "replan": (90, 75), "solve": (60, 50), "compare": (40, 34)}
MAX_SOLVES = {"solve": 2, "compare": 1, "replan": 2}


@pytest.fixture(scope="session")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini week solved once (1 worker, 2 s): the plan promise and replan are given."""
    return fuzzing.committed_plan(tmp_path_factory.mktemp("fuzz-committed"))


def test_ci_counts_add_up():
    assert sum(low for _, low in CI.values()) >= 500


@pytest.mark.parametrize("command", list(CI))
def test_broken_inputs_fail_cleanly(command, committed, tmp_path):
    n, at_least = CI[command]
    t0 = time.perf_counter()
    tally = fuzzing.COMMANDS[command](n, SEED, tmp_path, plan_dir=committed, max_solves=MAX_SOLVES.get(command, 0))
    print(f"{tally.line()} ({time.perf_counter() - t0:.1f} s wall)")
    assert not tally.failures, f"{len(tally.failures)} failures:\n" + "\n".join(tally.failures[:8])
    assert tally.tried >= n
    assert tally.rejected_exit2 >= at_least, tally.as_dict()


# ----------------------------------------------------------------------------- the harness itself


def test_names_culprit():
    names = ("week.yaml", "progress.csv", "--now")
    assert names_culprit("week.yaml: products[0].id: duplicate product id 'P1'", names)
    assert names_culprit("/tmp/x/progress.csv: line 3.status: 'x' is not done or running", names)
    assert names_culprit("/tmp/x/week.yaml: file not found", names)
    assert names_culprit("--now: 'x' is not a plant time YYYY-MM-DDTHH:MM", names)
    assert names_culprit("sopt: argument --now: invalid value", names)
    assert not names_culprit("week.yaml: broken", names)  # no field
    assert not names_culprit("P01,2026-11-10,1393", names)  # a stray line
    assert not names_culprit("other.csv: line 2.x: bad", names)


# ----------------------------------------------------------------------------- regressions


def _rejected(argv: list[str], *names: str) -> list[str]:
    """Run sopt; assert exit 2 with every stderr line naming one of `names`; return the lines."""
    code, out, err = call(argv)
    lines = err.strip().splitlines()
    assert code == 2, (code, err[-2000:])
    assert lines and all(names_culprit(line, names) for line in lines), lines
    assert "Traceback" not in out + err
    return lines


def test_scenario_file_problems_name_the_file(tmp_path):
    # was: `week.yaml: is a folder, ...` and `week.yaml: not UTF-8 text` (no field)
    folder = tmp_path / "week.yaml"
    folder.mkdir()
    assert _rejected(["validate", str(folder)], "week.yaml")[0].endswith("week.yaml: file: is a folder, not a "
                                                                         "scenario file")
    text = tmp_path / "utf16.yaml"
    text.write_bytes(MINI.read_text(encoding="utf-8").encode("utf-16"))
    assert "utf16.yaml: file: not UTF-8 text (byte 0)" in _rejected(["validate", str(text)], "utf16.yaml")


@pytest.mark.parametrize("bad", [b"product,date,quantity\nP1,2026-11-30," + b"9" * 200_000 + b"\n",
                                 b"product,date,quantity\nP1,2026-11-30\nP1,2026-12-01,5,extra\n"])
def test_scenario_csv_that_breaks_the_csv_reader(tmp_path, bad):
    # was: exit 4 (csv.Error out of csv.DictReader; None cells of short rows)
    (tmp_path / "forecast.csv").write_bytes(bad)
    path = tmp_path / "week.yaml"
    text = MINI.read_text(encoding="utf-8").replace("forecast: {P1: [100, 100, 100], P2: [50, 50, 0]}",
                                                    "forecast_csv: forecast.csv")
    path.write_text(text, encoding="utf-8")
    lines = _rejected(["validate", str(path)], "week.yaml")
    assert all("demand.forecast_csv" in line for line in lines)


def test_scenario_csv_size_limit(tmp_path):
    sparse_file(tmp_path / "forecast.csv", 60 * 2**20)
    path = tmp_path / "week.yaml"
    path.write_text(MINI.read_text(encoding="utf-8").replace(
        "forecast: {P1: [100, 100, 100], P2: [50, 50, 0]}", "forecast_csv: forecast.csv"), encoding="utf-8")
    assert _rejected(["validate", str(path)], "week.yaml") == [
        "week.yaml: demand.forecast_csv: forecast.csv: file: larger than 50 MiB"]


@pytest.mark.parametrize("field,value", [("start: 2026-11-30", "start: 9999-12-30"),
                                         ("start: 2026-11-30", "start: 0001-01-01"),
                                         ("due: 2026-12-01}\n    - {id: SO2", "due: 9999-12-31}\n    - {id: SO2"),
                                         ("at: 2026-12-01T10:00", "at: '2026-12-01T10:00+05:00'")])
def test_dates_outside_the_years_a_plan_can_mean(tmp_path, field, value):
    # was: exit 4 (date overflow past 9999-12-31; a plan dated 0001-01-01 failing its own check)
    path = tmp_path / "week.yaml"
    text = MINI.read_text(encoding="utf-8")
    assert field in text
    path.write_text(text.replace(field, value, 1), encoding="utf-8")
    _rejected(["solve", str(path), "-o", str(tmp_path / "out"), *fuzzing.FAST, *fuzzing.QUIET_SOLVE], "week.yaml")
    assert not (tmp_path / "out").exists()


def test_reserve_nan_is_a_usage_error():
    # was: exit 4 (Decimal('nan') compared)
    _rejected(["solve", str(MINI), "--reserve", "nan"], "--reserve")


@pytest.mark.parametrize("text", ["10 5\n1 21 0 53 4 95 3 55 2 1e400\n", "1 1\n0 1e999999999\n",
                                  "1 1\n0 " + "9" * 4000 + "\n", "1e999999999 1\n0 1\n"])
def test_import_absurd_numbers(tmp_path, text):
    # was: exit 4 (OverflowError in float(bound / DAY)) and a hang turning 1e999999999 into an integer
    src = tmp_path / "bench.txt"
    src.write_text(text)
    t0 = time.perf_counter()
    _rejected(["import", "--format", "jobshop", str(src), "-o", str(tmp_path / "out.yaml")], "bench.txt")
    assert time.perf_counter() - t0 < 5
    assert not (tmp_path / "out.yaml").exists()


def test_import_trigeiro_huge_capacity(tmp_path):
    # was: a hang in days_per_period on a 200 000-digit capacity
    src = tmp_path / "T.DAT"
    src.write_text(fuzzing.TRIGEIRO.replace(" 500\n", " " + "9" * 29 + "\n"))
    t0 = time.perf_counter()
    lines = _rejected(["import", "--format", "trigeiro", str(src), "-o", str(tmp_path / "out.yaml")], "T.DAT")
    assert "capacity per period" in lines[0] and time.perf_counter() - t0 < 5


def test_a_value_with_line_breaks_stays_on_its_line(tmp_path):
    # was: a quoted cell holding newlines printed as several stderr lines without the file name
    plan = tmp_path / "plan.csv"
    plan.write_text('product,date,quantity\nP01,2026-11-02,"14\nP01,2026-11-03,1330\n"\n')
    ship = tmp_path / "ship.csv"
    ship.write_text("product,date,quantity\nP01,2026-11-02,1400\n")
    lines = _rejected(["accuracy", "--sales-plan", str(plan), "--actual", str(ship)], "plan.csv")
    assert lines == [f"{plan}: line 4.quantity: '14\\nP01,2026-11-03,1330' is not a number"]


@pytest.mark.parametrize("command", ["accuracy", "abc", "replan"])
def test_csv_size_limit(tmp_path, command, committed):
    # was: no limit (a 60 MiB file was read whole)
    big = tmp_path / "big.csv"
    sparse_file(big, 60 * 2**20)
    small = tmp_path / "small.csv"
    small.write_text("product,date,quantity\nP01,2026-11-02,1400\n")
    argv = {"accuracy": ["accuracy", "--sales-plan", str(big), "--actual", str(small)],
            "abc": ["abc", "--history", str(big)],
            "replan": ["replan", str(MINI), "--plan", str(committed), "--actuals", str(big), "--now",
                       "2026-12-01T06:00", "-o", str(tmp_path / "out")]}[command]
    lines = _rejected(argv, "big.csv")
    assert lines[0].endswith("big.csv: file: larger than 50 MiB")


def test_utf16_csv_is_named_as_such(tmp_path, committed):
    progress = tmp_path / "progress.csv"
    progress.write_bytes("run_id,quantity_done,status\n".encode("utf-16"))
    assert _rejected(["replan", str(MINI), "--plan", str(committed), "--actuals", str(progress), "--now",
                      "2026-12-01T06:00"], "progress.csv") == [
        "progress.csv: file: UTF-16 text; save it as UTF-8 (CSV UTF-8 in Excel)"]


@pytest.mark.parametrize("option,value", [("--workers", "-3"), ("--workers", "0"), ("--time-limit", "nan"),
                                          ("--time-limit", "-1"), ("--seed", "-1"), ("--seed", "2147483648")])
def test_replan_solver_options_are_checked(tmp_path, committed, option, value):
    # was: accepted (a negative worker count ended in "no plan", exit 1; nan reached CP-SAT)
    progress = tmp_path / "progress.csv"
    progress.write_text("run_id,quantity_done,status\n")
    _rejected(["replan", str(MINI), "--plan", str(committed), "--actuals", str(progress), "--now",
               "2026-12-01T06:00", "-o", str(tmp_path / "out"), option, value], option)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name,text,expected", [
    ("orders.csv", "id,product,quantity,due,priority\nSO9,P2,,2026-12-02\n",
     "orders.csv: line 2.quantity: '' is not a whole number"),
    ("orders.csv", "id,product,quantity,due\nSO9,P2,1000000000000000000,2026-12-02\n",
     "orders.csv: line 2.quantity: 1000000000000000000 is outside 1 .. 1,000,000,000"),
    ("orders.csv", "id,product,quantity,due\nSO9,P2,5,9999-12-31\n",
     "orders.csv: line 2.due: '9999-12-31' is not a date YYYY-MM-DD in the years 1900 .. 2999"),
    ("receipts.csv", "material,at,quantity\nM1,2026-12-01T10:00+05:00,5\n",
     "receipts.csv: line 2.at: '2026-12-01T10:00+05:00' carries a time zone; plant times are naive local time"),
    ("receipts.csv", "material,at,quantity\nM1,2026-12-01T10:00,1e999999999\n",
     "receipts.csv: line 2.quantity: '1e999999999' is not a quantity 0 .. 1,000,000,000 (at most 12 decimals)"),
    ("receipts.csv", "material,at\nM1\n", "receipts.csv: columns: missing quantity"),
])
def test_replan_side_files(tmp_path, committed, name, text, expected):
    # was: exit 4 (None cells of short rows; 9999-12-31 overflowing; a time zone compared) or a hang
    # (Fraction('1e999999999'))
    progress = tmp_path / "progress.csv"
    progress.write_text("run_id,quantity_done,status\n")
    (tmp_path / name).write_text(text)
    option = "--new-orders" if name == "orders.csv" else "--receipts"
    lines = _rejected(["replan", str(MINI), "--plan", str(committed), "--actuals", str(progress), "--now",
                       "2026-12-01T06:00", "-o", str(tmp_path / "out"), option, str(tmp_path / name)], name)
    assert lines == [expected]


def _tampered(tmp_path: Path, committed: Path, edit) -> Path:  # noqa: ANN001
    plan = tmp_path / "plan"
    shutil.copytree(committed, plan)
    doc = json.loads((plan / "plan.json").read_text(encoding="utf-8"))
    edit(doc)
    (plan / "plan.json").write_text(json.dumps(doc), encoding="utf-8")
    return plan


def _promise(plan: Path, *extra: str) -> list[str]:
    return ["promise", str(MINI), "--plan", str(plan), "--product", "P2", "--quantity", "30", *extra]


@pytest.mark.parametrize("ratio", ["x", -1, 1.5, [], 0.123456])
def test_plan_json_reserve_ratio(tmp_path, committed, ratio):
    # was: exit 4 for 'x' (Decimal), a '--reserve' line for -1 (an option the person never gave)
    plan = _tampered(tmp_path, committed, lambda d: d["kpis"].__setitem__("reserve_ratio", ratio))
    lines = _rejected(_promise(plan), "plan.json")
    assert lines[0].split(": ")[1] == "kpis.reserve_ratio"


@pytest.mark.parametrize("field,value", [("setup_minutes", 2**63), ("quantity", -5), ("shift", True),
                                         ("product", "P999"), ("start", "garbage"), ("order_ids", "SO1:x")])
def test_plan_json_schedule_rows(tmp_path, committed, field, value):
    # was: exit 4 when --accept checked the new plan (setup minutes 2^63), or one line without the row
    plan = _tampered(tmp_path, committed, lambda d: d["schedule"][0].__setitem__(field, value))
    out = tmp_path / "accepted"
    lines = _rejected(_promise(plan, "--accept", "-o", str(out)), "plan.json")
    assert lines[0].split(": ")[1].startswith("schedule[0].")
    assert not out.exists()


def test_plan_json_that_breaks_rules_is_blamed_on_the_plan(tmp_path, committed):
    # in-range rows that overload a shift: the accepted plan fails the checker because the committed
    # one does (was: RuntimeError, exit 4)
    def overload(doc: dict) -> None:
        doc["schedule"][0]["run_minutes"] = 440
    plan = _tampered(tmp_path, committed, overload)
    out = tmp_path / "accepted"
    lines = _rejected(_promise(plan, "--rush", "--accept", "-o", str(out)), "plan.json")
    assert all("schedule: the committed plan breaks a rule: " in line for line in lines)
    assert not out.exists()


@pytest.mark.parametrize("doc", ['"plan"', "[]", "3", '{"schedule": [1], "capacity": []}', "{"])
def test_plan_json_not_a_plan(tmp_path, committed, doc):
    plan = tmp_path / "plan"
    shutil.copytree(committed, plan)
    (plan / "plan.json").write_text(doc)
    _rejected(_promise(plan), "plan.json")


def test_promise_requested_far_away(committed):
    # was: exit 4 (OverflowError: the day after 9999-12-31)
    assert _rejected(_promise(committed, "--requested", "9999-12-31"), "--requested") == [
        "sopt promise: --requested: 9999-12-31 is after 2999-12-31"]
