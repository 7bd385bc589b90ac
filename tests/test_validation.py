"""Bad input: each kind of invalid scenario gets one line per problem naming the field; exit 2."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sopt.cli import main
from sopt.errors import InputError
from sopt.scenario import load_scenario

MINI = Path(__file__).parent / "data" / "mini_week.yaml"
BASE: dict[str, Any] = yaml.safe_load(MINI.read_text(encoding="utf-8"))


def broken(change) -> dict[str, Any]:  # noqa: ANN001
    data = copy.deepcopy(BASE)
    change(data)
    return data


CASES = [
    ("unknown key", lambda d: d["lines"][0].update(colour="red"), "mini.yaml: lines[0].colour: unknown key"),
    ("unknown top-level key", lambda d: d.update(weather="sunny"), "mini.yaml: weather: unknown key"),
    ("wrong type", lambda d: d["horizon"].update(days="seven"), "mini.yaml: horizon.days: "),
    ("missing field", lambda d: d.pop("horizon"), "mini.yaml: horizon: required field is missing"),
    ("unknown line", lambda d: d["products"][0]["lines"].update(L9={"minutes_per_unit": 1}),
     "mini.yaml: products[0].lines.L9: line 'L9' is not defined (known: L1, L2)"),
    ("unknown material", lambda d: d["products"][0]["bom"].update(M9=1),
     "mini.yaml: products[0].bom.M9: material 'M9' is not defined (known: M1)"),
    ("unknown product in an order", lambda d: d["demand"]["orders"][0].update(product="PX"),
     "mini.yaml: demand.orders[0].product: product 'PX' is not defined (known: P1, P2, P3)"),
    ("unknown shift template", lambda d: d["lines"][0]["shifts"].update(sat=["night"]),
     "mini.yaml: lines[0].shifts.sat: shift template 'night' is not defined (known: early, late)"),
    ("negative quantity", lambda d: d["materials"][0].update(opening_stock=-5),
     "mini.yaml: materials[0].opening_stock: Input should be greater than or equal to 0"),
    ("negative order", lambda d: d["demand"]["orders"][0].update(quantity=-1),
     "mini.yaml: demand.orders[0].quantity: Input should be greater than 0"),
    ("impossible clock time", lambda d: d["shift_templates"]["early"].update(start="25:00"),
     "mini.yaml: shift_templates.early.start: time '25:00' is not a valid HH:MM clock time"),
    ("unquoted clock time", lambda d: d["shift_templates"]["late"].update(start=840),
     "mini.yaml: shift_templates.late.start: write clock times in quotes"),
    ("zero-length shift", lambda d: d["shift_templates"]["late"].update(hours=0),
     "mini.yaml: shift_templates.late.hours: Input should be greater than 0"),
    ("break outside shift", lambda d: d["shift_templates"]["early"].update(breaks=[{"start": "15:00", "minutes": 30}]),
     "mini.yaml: shift_templates.early.breaks[0]: break 15:00+30min is not inside the shift"),
    ("overlapping shifts", lambda d: d["shift_templates"]["late"].update(start="12:00"),
     "mini.yaml: lines[0].shifts: shifts overlap on mon"),
    ("duplicate line id", lambda d: d["lines"].append(copy.deepcopy(d["lines"][0])),
     "mini.yaml: lines[2].id: duplicate line id 'L1'"),
    ("duplicate order id", lambda d: d["demand"]["orders"].append(copy.deepcopy(d["demand"]["orders"][0])),
     "mini.yaml: demand.orders[2].id: duplicate order id 'SO1'"),
    ("empty horizon", lambda d: d["horizon"].update(days=0),
     "mini.yaml: horizon.days: Input should be greater than or equal to 1"),
    ("reserve out of range", lambda d: d.update(policy={"reserve_ratio": 1.0}),
     "mini.yaml: policy.reserve_ratio: Input should be less than 1"),
    ("fractional units", lambda d: d["demand"]["orders"][0].update(quantity=2.5),
     "mini.yaml: demand.orders[0].quantity: 2.5 is not a whole number of units"),
    ("closure ends before it starts", lambda d: d["calendar"][0].update(end="2026-12-01T07:00"),
     "mini.yaml: calendar[0].end: end 2026-12-01T07:00 is not after start 2026-12-01T08:00"),
    ("forecast length", lambda d: d["demand"]["forecast"].update(P1=[1, 2]),
     "mini.yaml: demand.forecast.P1: 2 daily figures for a 3-day horizon"),
    ("both rate forms", lambda d: d["products"][0]["lines"]["L1"].update(rate_per_hour=10),
     "mini.yaml: products[0].lines.L1: give exactly one of 'minutes_per_unit', 'rate_per_hour' or 'minutes_per_lot'"),
    ("changeover to nowhere", lambda d: d.update(changeovers=[{"from": "P1", "to": "PX", "minutes": 5}]),
     "mini.yaml: changeovers[0].to: 'PX' is neither a product nor a family"),
]


@pytest.mark.parametrize("what,change,expected", CASES, ids=[c[0] for c in CASES])
def test_invalid_scenario_is_reported(tmp_path, capsys, what, change, expected):
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(broken(change), sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_scenario(path)
    assert any(p.startswith(expected) for p in e.value.problems), e.value.problems
    assert all(p.startswith("mini.yaml: ") and "\n" not in p for p in e.value.problems)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and expected in err


def test_all_problems_at_once(tmp_path):
    def many(d: dict[str, Any]) -> None:
        d["lines"][0]["colour"] = "red"
        d["products"][0]["lines"]["L9"] = {"minutes_per_unit": 1}
        d["demand"]["orders"][0]["product"] = "PX"

    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(broken(many), sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_scenario(path)
    assert len(e.value.problems) == 3


@pytest.mark.parametrize("content,expected", [
    (b"", "the file is empty"),
    (b"horizon: [\n", "broken YAML"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
    (b"- just\n- a list\n", "expected a mapping"),
    (b"!!python/object/apply:os.system ['echo hi']\n", "broken YAML"),
])
def test_unreadable_files(tmp_path, capsys, content, expected):
    path = tmp_path / "week.yaml"
    path.write_bytes(content)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0]


def test_csv_demand_is_read_relative_to_the_yaml_and_checked(tmp_path):
    data = copy.deepcopy(BASE)
    data["demand"] = {"orders_csv": "orders.csv", "forecast_csv": "forecast.csv"}
    (tmp_path / "orders.csv").write_text("id,product,quantity,due\nSO1,P3,40,2026-12-01\nSO2,PX,5,2026-12-01\n")
    (tmp_path / "forecast.csv").write_text("product,date,quantity\nP1,2026-11-30,100\nP1,2026-11-31,5\n")
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_scenario(path)
    text = "\n".join(e.value.problems)
    assert "demand.orders_csv[3].product: product 'PX' is not defined" in text
    assert "demand.forecast_csv[3].date" in text
    (tmp_path / "orders.csv").write_text("id,product,quantity,due\nSO1,P3,40,2026-12-01\n")
    (tmp_path / "forecast.csv").write_text("product,date,quantity\nP1,2026-11-30,100\n")
    sc = load_scenario(path)
    assert sc.forecast["P1"][0] == 100 and sc.orders[0].quantity == 40


def test_csv_outside_the_scenario_folder_is_refused_unless_allowed(tmp_path, monkeypatch):
    data = copy.deepcopy(BASE)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "orders.csv").write_text("id,product,quantity,due\nSO1,P3,40,2026-12-01\n")
    (tmp_path / "week").mkdir()
    path = tmp_path / "week" / "mini.yaml"
    for rel in ("../shared/orders.csv", str(shared / "orders.csv")):  # relative or absolute
        data["demand"] = {"orders_csv": rel}
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        monkeypatch.delenv("SOPT_ALLOWED_FOLDERS", raising=False)
        with pytest.raises(InputError) as e:
            load_scenario(path)
        assert e.value.problems == [f"mini.yaml: demand.orders_csv: '{rel}' is outside the scenario's folder (to "
                                    "allow another folder: SOPT_ALLOWED_FOLDERS=FOLDER)"]
        monkeypatch.setenv("SOPT_ALLOWED_FOLDERS", str(shared))  # the user allows that folder
        assert load_scenario(path).orders[0].quantity == 40
    monkeypatch.setenv("SOPT_ALLOWED_FOLDERS", str(tmp_path / "elsewhere"))  # another folder allows nothing here
    with pytest.raises(InputError):
        load_scenario(path)


def test_a_week_too_large_for_one_model_is_refused(tmp_path, monkeypatch, capsys):
    import sopt.week

    monkeypatch.setattr(sopt.week, "MAX_CANDIDATE_RUNS", 10)  # the mini week has more candidate runs
    path = tmp_path / "mini.yaml"
    path.write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["solve", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too large for one model" in err[0]
    assert not (tmp_path / "out").exists()
