"""`sopt accuracy` (R13) and `sopt abc` (R2): figures checked against hand-computed examples."""

from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from sopt.abc import quotas
from sopt.accuracy import (
    ABC_COLUMNS,
    ACCURACY_COLUMNS,
    band,
    product_accuracy,
    weighted_accuracy,
)
from sopt.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "scenarios" / "examples"
DEMO = ROOT / "scenarios" / "demo_week.yaml"
BOM = b"\xef\xbb\xbf"


def write(path: Path, text: str, bom: bool = False) -> Path:
    path.write_bytes((BOM if bom else b"") + text.encode("utf-8"))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(BOM), "CSV outputs are UTF-8 with a byte-order mark"
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))


def run(*args: object) -> int:
    return main([str(a) for a in args])


# ----------------------------------------------------------------------------- hand-computed example
#
#   product class  plan (Nov)        actual (Nov)   |actual-plan|/plan   accuracy        band
#   P1      A      600 + 400 = 1000  900            100/1000 = 0.1       0.9             reward
#   P2      B      500               650 (2 trucks) 150/500  = 0.3       0.7             reward (>= 70 % holds at 70 %)
#   P3      B      300               120            180/300  = 0.6       0.4             neutral (40 % is not < 40 %)
#   P4      C      200               500            300/200  = 1.5       max(0,-0.5) = 0 penalty
#
#   class A   = 0.9                                                       reward
#   class B   = (500*0.7 + 300*0.4) / (500+300) = (350+120)/800 = 0.5875  neutral
#   class C   = 0                                                         penalty
#   A+B       = (1000*0.9 + 350 + 120) / 1800 = 1370/1800 = 0.761111      reward
#   all       = (1370 + 200*0) / 2000 = 0.685                             neutral
#
#   October rows (P1: plan 5000, actual 100) are left out by --month 2026-11. Without the
#   month P1 reads plan 6000, actual 1000: 1 - 5000/6000 = 1/6 = 0.1667 (penalty).

PLAN = """product,date,quantity,class
P1,2026-10-31,5000,A
P1,2026-11-02,600,A
P1,2026-11-03,400,A
P2,2026-11-02,500,B
P3,2026-11-04,300,B
P4,2026-11-05,200,C
"""
SHIPMENTS = """product,date,quantity
P1,2026-10-31,100
P1,2026-11-02,900
P2,2026-11-02,400
P2,2026-11-03,250
P3,2026-11-04,120
P4,2026-11-06,500
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "plan.csv", PLAN, bom=True), write(tmp_path / "ship.csv", SHIPMENTS)


def test_formula_and_bands():
    assert product_accuracy(Fraction(1000), Fraction(900)) == Fraction(9, 10)
    assert product_accuracy(Fraction(200), Fraction(500)) == 0  # floored at 0
    assert product_accuracy(Fraction(0), Fraction(0)) == 1  # nothing planned, nothing shipped
    assert product_accuracy(Fraction(0), Fraction(5)) == 0  # nothing planned, something shipped
    assert weighted_accuracy([(Fraction(500), Fraction(650)), (Fraction(300), Fraction(120))]) == Fraction(47, 80)
    assert band(Fraction(7, 10)) == "reward" and band(Fraction(2, 5)) == "neutral"
    assert band(Fraction(39, 100)) == "penalty" and band(Fraction(69, 100)) == "neutral"


def test_hand_computed_month(files, tmp_path, capsys):
    plan, ship = files
    out = tmp_path / "acc.csv"
    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--month", "2026-11", "-o", out) == 0
    text = capsys.readouterr().out
    assert re.search(r"^\* P1\s+A\s+1,000\s+900\s+90\.0 %\s+reward$", text, re.M)
    assert re.search(r"^  P4\s+C\s+200\s+500\s+0\.0 %\s+penalty$", text, re.M)
    assert re.search(r"^\* A\+B\s+3\s+1,800\s+1,670\s+76\.1 %\s+reward$", text, re.M)
    assert "focus A+B: 76.1 % -> REWARD" in text
    rows = read_csv(out)
    assert list(rows[0]) == ACCURACY_COLUMNS
    products = {r["product"]: r for r in rows if r["level"] == "product"}
    assert {p: (r["class"], r["plan"], r["actual"], r["accuracy"], r["band"]) for p, r in products.items()} == {
        "P1": ("A", "1000", "900", "0.9", "reward"),
        "P2": ("B", "500", "650", "0.7", "reward"),
        "P3": ("B", "300", "120", "0.4", "neutral"),
        "P4": ("C", "200", "500", "0.0", "penalty"),
    }
    classes = {r["class"]: r for r in rows if r["level"] == "class"}
    assert {c: (r["accuracy"], r["band"], r["focus"]) for c, r in classes.items()} == {
        "A": ("0.9", "reward", "true"),
        "B": ("0.5875", "neutral", "true"),
        "C": ("0.0", "penalty", "false"),
        "A+B": ("0.7611", "reward", "true"),
        "all": ("0.685", "neutral", "false"),
    }
    assert all(r["period"] == "2026-11" for r in rows)


def test_json_summary_and_no_month(files, capsys):
    plan, ship = files
    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["period"] == "all" and doc["first_date"] == "2026-10-31"
    # P1 over all dates: plan 6000, actual 1000 -> 1/6; A+B = (6000/6 + 350 + 120) / 6800 = 1470/6800
    assert doc["classes"]["A"]["accuracy"] == 0.1667 and doc["classes"]["A"]["band"] == "penalty"
    assert doc["focus"] == {"classes": "A+B", "accuracy": round(1470 / 6800, 4), "band": "penalty"}
    assert doc["classes"]["B"]["accuracy"] == 0.5875


def test_month_filter_excludes_other_months(files, capsys):
    plan, ship = files
    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--month", "2026-10", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    # only P1 has October rows: plan 5000, actual 100 -> 1 - 4900/5000 = 0.02
    assert doc["products"] == 1 and doc["classes"]["A"]["accuracy"] == 0.02


def test_class_fallback_ranked_from_plan_volumes(tmp_path, capsys):
    # no class column, no scenario: rank by November plan volume, quotas(4, 1:3:6) = 1, 1, 2
    assert quotas(4, (1, 3, 6)) == (1, 1, 2)
    plan = write(tmp_path / "plan.csv", "\n".join(line.rsplit(",", 1)[0] for line in PLAN.splitlines()) + "\n")
    ship = write(tmp_path / "ship.csv", SHIPMENTS)
    out = tmp_path / "acc.csv"
    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--month", "2026-11", "-o", out) == 0
    assert "ranked by plan volume" in capsys.readouterr().out
    cls = {r["product"]: r["class"] for r in read_csv(out) if r["level"] == "product"}
    assert cls == {"P1": "A", "P2": "B", "P3": "C", "P4": "C"}


def test_class_fallback_ties_by_product_id(tmp_path, capsys):
    plan = write(tmp_path / "plan.csv", "product,date,quantity\nQ2,2026-11-02,100\nQ1,2026-11-02,100\n"
                                         "Q3,2026-11-02,50\n")
    ship = write(tmp_path / "ship.csv", "product,date,quantity\nQ1,2026-11-02,100\n")
    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    # quotas(3) = (1, 1, 1): Q1 and Q2 tie at 100, Q1 first by id -> A; Q2 -> B; Q3 -> C
    assert doc["classes"]["A"]["actual"] == 100 and doc["classes"]["A"]["accuracy"] == 1.0
    assert doc["classes"]["B"]["accuracy"] == 0.0  # Q2 planned 100, shipped nothing


def test_class_from_scenario(tmp_path, capsys):
    # demo week classes (sopt.abc.classify): P01 A, P04 B, P20 C
    plan = write(tmp_path / "plan.csv", "product,date,quantity\nP20,2026-11-02,900\nP01,2026-11-02,100\n"
                                         "P04,2026-11-02,50\nP13,2026-11-02,0\n")
    ship = write(tmp_path / "ship.csv", "product,date,quantity\nP01,2026-11-03,100\nP04,2026-11-03,25\n")
    out = tmp_path / "acc.csv"
    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--scenario", DEMO, "-o", out) == 0
    rows = {r["product"]: r for r in read_csv(out) if r["level"] == "product"}
    assert {p: r["class"] for p, r in rows.items()} == {"P01": "A", "P04": "B", "P20": "C", "P13": "C"}
    assert rows["P13"]["accuracy"] == "1.0"  # plan 0, nothing shipped
    assert rows["P04"]["accuracy"] == "0.5" and rows["P04"]["band"] == "neutral"


def test_class_column_wins_over_scenario(files, capsys):
    plan, ship = files
    # P1..P4 are not demo-week products: the scenario rejects them even though the plan has classes
    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--scenario", DEMO) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{plan}: line 2.product: unknown product P1: not a product of")


# ----------------------------------------------------------------------------- bad input


GOOD_PLAN = "product,date,quantity\nP01,2026-11-02,100\nP02,2026-11-02,50\n"
GOOD_SHIP = "product,date,quantity\nP01,2026-11-02,90\n"


@pytest.mark.parametrize(("which", "text", "extra", "expected"), [
    ("plan", "product,quantity\nP01,100\n", [], r"columns: missing date"),
    ("ship", "product,date,qty\nP01,2026-11-02,9\n", [], r"columns: missing quantity"),
    ("plan", "product,date,quantity\nP01,2026-11-02,100\nP02,2026-11-02,1O0\n", [],
     r"line 3\.quantity: '1O0' is not a number"),
    ("ship", "product,date,quantity\nP01,2026-11-02,90\nP01,2026-11-31,5\n", [],
     r"line 3\.date: '2026-11-31' is not a date"),
    ("ship", "product,date,quantity\nP01,2026-11-02,-90\n", [], r"line 2\.quantity: negative quantity -90"),
    ("ship", "product,date,quantity\nP01,2026-11-02,90\nP77,2026-11-03,5\nP77,2026-11-04,5\n", [],
     r"line 3\.product: unknown product P77: not in the sales plan .*\(and 1 more row\)"),
    ("plan", "product,date,quantity\nP01,2026-11-02,100\nP99,2026-11-02,5\n", ["--scenario", DEMO],
     r"line 3\.product: unknown product P99: not a product of .*demo_week\.yaml"),
    ("plan", "product,date,quantity,class\nP01,2026-11-02,100,A\nP02,2026-11-02,50,D\n", [],
     r"line 3\.class: 'D' is not A, B or C"),
    ("plan", "product,date,quantity\nP01,2026-11-02,100\nP01,2026-11-02,80\n", [],
     r"line 3\.date: P01 on 2026-11-02 is already planned on line 2"),
    ("plan", GOOD_PLAN, ["--month", "2026-12"], r"rows: no rows dated in 2026-12"),
    ("plan", "", [], r"columns: missing product, date, quantity \(the file is empty\)"),
    ("plan", "product,date,quantity\n", [], r"rows: no data rows"),
])
def test_bad_input_one_line_exit_2(tmp_path, capsys, which, text, extra, expected):
    plan = write(tmp_path / "plan.csv", text if which == "plan" else GOOD_PLAN)
    ship = write(tmp_path / "ship.csv", text if which == "ship" else GOOD_SHIP)
    month_ok = ["--month", "2026-11"] if "--month" not in extra else []
    code = run("accuracy", "--sales-plan", plan, "--actual", ship, *month_ok, *extra)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    bad = plan if which == "plan" else ship
    if "2026-12" in extra:  # both files are empty in December: one line each
        assert lines == [f"{plan}: rows: no rows dated in 2026-12 (the file covers 2026-11-02 .. 2026-11-02)",
                         f"{ship}: rows: no rows dated in 2026-12 (the file covers 2026-11-02 .. 2026-11-02)"]
    else:
        assert len(lines) == 1, lines
        assert re.fullmatch(re.escape(str(bad)) + ": " + expected + ".*", lines[0]), lines[0]
    assert code == 2 and "Traceback" not in captured.err and captured.out == ""


def test_bad_month_argument_is_usage_error(files, capsys):
    plan, ship = files
    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--month", "2026-13") == 2
    assert "--month" in capsys.readouterr().err


def test_missing_file(tmp_path, capsys):
    ship = write(tmp_path / "ship.csv", GOOD_SHIP)
    assert run("accuracy", "--sales-plan", tmp_path / "none.csv", "--actual", ship) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'none.csv'}: file: not found"


def test_every_problem_is_listed(tmp_path, capsys):
    plan = write(tmp_path / "plan.csv", "product,date,quantity\nP01,2026-11-02,x\nP02,11/02/2026,5\nP03,2026-11-02,-1\n")
    ship = write(tmp_path / "ship.csv", GOOD_SHIP)
    assert run("accuracy", "--sales-plan", plan, "--actual", ship) == 2
    err = capsys.readouterr().err.splitlines()
    assert [e.split(": ")[1] for e in err] == ["line 2.quantity", "line 3.date", "line 4.quantity"]


# ----------------------------------------------------------------------------- sopt abc
#
# Ten products, last date 2026-11-21. With --weeks 4 the window is 2026-10-25 .. 2026-11-21
# and P10's 10000 on 2026-10-01 is left out. quotas(10, 1:3:6) = 1, 3, 6.
#   units in the window: P02 900, P05 600, P08 450, P03 300, P07 300, P01 100, P10 80, P04 50, P06 20, P09 10
#   rank: P02 (A); P05, P08, P03 (B; P03 before P07 on the tie, by id); the rest C.
#   total 2810: P02 share 900/2810 = 0.3203; cumulative after P05 1500/2810 = 0.5338.
# Value basis (units x price): P01 100x20 = 2000, P04 50x30 = 1500, P09 10x100 = 1000, P02 900,
#   then P03 = P05 = P07 = 600 (by id), P08 450, P10 80, P06 20; total 7750:
#   A = P01; B = P04, P09, P02; P01 share 2000/7750 = 0.2581.

HISTORY = """product,date,quantity,price
P10,2026-10-01,10000,1
P01,2026-11-16,100,20
P02,2026-11-16,500,1
P02,2026-11-21,400,1
P03,2026-11-17,300,2
P04,2026-11-02,50,30
P05,2026-11-18,600,1
P06,2026-11-19,20,1
P07,2026-11-20,300,2
P08,2026-10-26,450,1
P09,2026-11-21,10,100
P10,2026-11-21,80,1
"""


def test_abc_hand_made_history(tmp_path, capsys):
    hist = write(tmp_path / "sales.csv", HISTORY, bom=True)
    out = tmp_path / "classes.csv"
    assert run("abc", "--history", hist, "--weeks", "4", "-o", out) == 0
    text = capsys.readouterr().out
    assert "2026-10-25 .. 2026-11-21" in text
    rows = read_csv(out)
    assert list(rows[0]) == ABC_COLUMNS
    assert [(r["product"], r["class"]) for r in rows] == [
        ("P02", "A"), ("P05", "B"), ("P08", "B"), ("P03", "B"), ("P07", "C"),
        ("P01", "C"), ("P10", "C"), ("P04", "C"), ("P06", "C"), ("P09", "C")]
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, 11)]
    assert rows[0]["volume"] == "900" and rows[0]["share"] == "0.3203"
    assert rows[1]["cumulative_share"] == "0.5338" and rows[-1]["cumulative_share"] == "1.0"


def test_abc_default_13_weeks_takes_all_of_this_history(tmp_path, capsys):
    hist = write(tmp_path / "sales.csv", HISTORY)
    out = tmp_path / "classes.csv"
    assert run("abc", "--history", hist, "-o", out) == 0
    assert "over all history, 2026-10-01 .. 2026-11-21" in capsys.readouterr().out
    rows = read_csv(out)
    assert [(r["product"], r["class"]) for r in rows[:5]] == [
        ("P10", "A"), ("P02", "B"), ("P05", "B"), ("P08", "B"), ("P03", "C")]
    assert rows[0]["volume"] == "10080"


def test_abc_value_basis(tmp_path, capsys):
    hist = write(tmp_path / "sales.csv", HISTORY)
    out = tmp_path / "classes.csv"
    assert run("abc", "--history", hist, "--weeks", "4", "--basis", "value", "-o", out) == 0
    rows = read_csv(out)
    assert list(rows[0]) == [*ABC_COLUMNS, "value"]
    assert [(r["product"], r["class"]) for r in rows[:7]] == [
        ("P01", "A"), ("P04", "B"), ("P09", "B"), ("P02", "B"), ("P03", "C"), ("P05", "C"), ("P07", "C")]
    assert rows[0]["value"] == "2000" and rows[0]["volume"] == "100" and rows[0]["share"] == "0.2581"


def test_abc_ratio_option(tmp_path, capsys):
    hist = write(tmp_path / "sales.csv", HISTORY)
    out = tmp_path / "classes.csv"
    # 2:3:5 on 10 products -> 2, 3, 5
    assert run("abc", "--history", hist, "--weeks", "4", "--ratio", "2", "3", "5", "-o", out) == 0
    assert [r["class"] for r in read_csv(out)] == ["A"] * 2 + ["B"] * 3 + ["C"] * 5


@pytest.mark.parametrize(("text", "args", "expected"), [
    ("product,date,quantity\nP01,2026-11-02,5\n", ["--basis", "value"],
     "columns: missing price (needed for --basis value)"),
    ("product,date,quantity,price\nP01,2026-11-02,5,\n", ["--basis", "value"],
     "line 2.price: empty (--basis value needs a price on every row)"),
    ("product,date,quantity,price\nP01,2026-11-02,5,-2\n", ["--basis", "value"], "line 2.price: negative price -2"),
    ("product,date,quantity\nP01,2026-11-02,five\n", [], "line 2.quantity: 'five' is not a number"),
    ("product,day,quantity\nP01,2026-11-02,5\n", [], "columns: missing date"),
])
def test_abc_bad_input(tmp_path, capsys, text, args, expected):
    hist = write(tmp_path / "sales.csv", text)
    assert run("abc", "--history", hist, *args) == 2
    assert capsys.readouterr().err.splitlines() == [f"{hist}: {expected}"]


def test_abc_bad_ratio(tmp_path, capsys):
    hist = write(tmp_path / "sales.csv", HISTORY)
    assert run("abc", "--history", hist, "--ratio", "0", "0", "0") == 2
    assert run("abc", "--history", hist, "--ratio", "1", "3") == 2
    assert run("abc", "--history", hist, "--weeks", "0") == 2


# ----------------------------------------------------------------------------- bundled examples


def test_bundled_examples_end_to_end(tmp_path, capsys):
    plan, ship = EXAMPLES / "sales_plan_2026-11.csv", EXAMPLES / "shipments_2026-11.csv"
    for f in (plan, ship, EXAMPLES / "sales_history.csv"):
        assert f.stat().st_size < 100_000
    out = tmp_path / "accuracy.csv"
    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--month", "2026-11",
               "--scenario", DEMO, "-o", out) == 0
    text = capsys.readouterr().out
    assert "focus A+B:" in text and re.search(r"^\* P01\s+A", text, re.M)
    rows = read_csv(out)
    bands = [r["band"] for r in rows if r["level"] == "product"]
    for b in ("reward", "neutral", "penalty"):
        assert bands.count(b) >= 2, (b, bands)
    ab_bands = {r["band"] for r in rows if r["level"] == "product" and r["focus"] == "true"}
    assert ab_bands == {"reward", "neutral", "penalty"}
    assert {r["class"] for r in rows if r["level"] == "class"} == {"A", "B", "C", "A+B", "all"}

    assert run("accuracy", "--sales-plan", plan, "--actual", ship, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["focus"]["band"] in ("reward", "neutral", "penalty") and doc["products"] == 20

    classes = tmp_path / "classes.csv"
    assert run("abc", "--history", EXAMPLES / "sales_history.csv", "-o", classes) == 0
    rows = read_csv(classes)
    assert len(rows) == 30 and [r["class"] for r in rows].count("A") == 3
    assert {r["product"] for r in rows if r["class"] == "A"} == {"P01", "P02", "P03"}
    assert run("abc", "--history", EXAMPLES / "sales_history.csv", "--basis", "value") == 0
