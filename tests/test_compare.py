"""`sopt compare`: ratio parsing, protected minutes per ratio, the sweep's files, Dask = local,
and the recommendation rule."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from sopt.cli import main
from sopt.compare import (
    COLUMNS,
    RatioRun,
    comparison_png,
    fill_stats,
    parse_ratios,
    ratio_row,
    recommend,
    sweep,
)
from sopt.errors import InputError
from sopt.model.solver import Result, Status
from tests.conftest import product, week

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini_week.yaml"
D = Decimal

# The mini week with a rush stream: about 2 rush orders a plant day of 10-60 units of the
# A/B products, wanted one day after they arrive; 20 simulated weeks keep the test fast.
RUSH = {"rate_per_day": 2, "quantity": {"min": 10, "max": 60, "multiple": 10}, "lead_time_days": 1,
        "weeks": 20, "seed": 3}


def run(*args: object) -> int:
    return main([str(a) for a in args])


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV files carry a byte-order mark"
    return list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"))))


@pytest.fixture
def mini_rush(tmp_path: Path) -> Path:
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["rush_orders"] = RUSH
    path = tmp_path / "mini_rush.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- parse_ratios


def test_parse_ratios_list_dedups_and_sorts():
    assert parse_ratios(["0.3", "0.1", "0.10", "0.2"]) == [D("0.1"), D("0.2"), D("0.3")]
    assert parse_ratios(["0.1 0.2", "0.2,0.0"]) == [D("0"), D("0.1"), D("0.2")]


def test_parse_ratios_range_is_inclusive_and_exact():
    got = parse_ratios(["0.1:0.4:0.05"])
    assert got == [D(x) for x in ("0.1", "0.15", "0.2", "0.25", "0.3", "0.35", "0.4")]
    assert parse_ratios(["0.1:0.2:0.1", "0.15"]) == [D("0.1"), D("0.15"), D("0.2")]
    assert parse_ratios(["0.1234:0.1236:0.0001"]) == [D("0.1234"), D("0.1235"), D("0.1236")]


@pytest.mark.parametrize("bad", ["abc", "1", "-0.1", "0.12345", "nan", "0.4:0.1:0.1", "0.1:0.4:0",
                                 "0.1:0.4", "0.1:1.2:0.1", "0.1:0.2:0.00005"])
def test_parse_ratios_rejects_bad_values(bad):
    with pytest.raises(InputError) as e:
        parse_ratios([bad])
    assert len(e.value.problems) == 1 and e.value.problems[0].startswith("--reserve: ")


@pytest.mark.parametrize("bad", ["1.5", "0.1:x:0.1"])
def test_cli_bad_reserve_exits_2_with_one_line(bad, tmp_path, capsys):
    assert run("compare", MINI, "--reserve", "0.1", bad, "-o", tmp_path / "out") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("--reserve: "), err
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- protected minutes


def test_protected_minutes_per_ratio_on_a_hand_built_week(load):
    # One 100-minute shift (W = 100); P50 needs 50 units × 1 min, no setup; holding costs
    # make any extra unit cost, so the plan makes exactly min(50, W − P) units.
    #   r = 0.1    P = ceil(10)    = 10  planned 50  utilization 0.5  demand met
    #   r = 0.125  P = ceil(12.5)  = 13  planned 50                    met
    #   r = 0.3333 P = ceil(33.33) = 34  planned 50                    met
    #   r = 0.6    P = ceil(60)    = 60  planned 40 (W − P)            10 units unmet
    sc = load(week(products=[product("P50", holding_cost=1)], demand={"forecast": {"P50": [50]}}))
    res = sweep(sc, parse_ratios(["0.1", "0.125", "0.3333", "0.6"]), time_limit=10, workers=1, seed=0,
                parallel=False, deterministic=True)
    got = [(r["reserve_ratio"], r["protected_minutes"], r["planned_minutes"], r["utilization"],
            r["unmet_units"], r["planned_demand_met"]) for r in res.rows]
    assert got == [(D("0.1"), 10, 50, 0.5, 0, True), (D("0.125"), 13, 50, 0.5, 0, True),
                   (D("0.3333"), 34, 50, 0.5, 0, True), (D("0.6"), 60, 40, 0.4, 10, False)]
    assert all(r["status"] == "OPTIMAL" for r in res.rows)
    # no rush stream: the rush columns are empty and nothing is recommended by fill rate
    assert all(r[c] is None for r in res.rows for c in ("rush_orders", "rush_fill_rate", "rush_fill_rate_ci_low"))
    assert res.recommendation.ratio is None and "no rush-order stream" in res.recommendation.reasoning


def test_a_ratio_without_a_plan_gets_empty_numbers():
    res = Result(Status.NO_PLAN, None, None, None, 1.0, None, None, None)  # type: ignore[arg-type]
    row = ratio_row(RatioRun(D("0.4"), res, None))
    assert row["status"] == "NO_PLAN" and row["reserve_ratio"] == D("0.4")
    assert all(row[c] is None for c in COLUMNS[2:])


# ----------------------------------------------------------------------------- the sweep


def test_compare_writes_every_file(mini_rush, tmp_path, capsys):
    out = tmp_path / "cmp"
    code = run("compare", mini_rush, "--reserve", "0.1:0.3:0.1", "--time-limit", "2", "--workers", "1",
               "--seed", "0", "--deterministic", "--sequential", "-o", out)
    text = capsys.readouterr()
    assert code == 0, text
    assert "recommendation:" in text.out and "r=0.20" in text.err
    rows = read_csv(out / "comparison.csv")
    assert list(rows[0]) == COLUMNS
    assert [r["reserve_ratio"] for r in rows] == ["0.10", "0.20", "0.30"]
    for r in rows:
        assert r["status"] in ("OPTIMAL", "FEASIBLE")
        assert int(r["rush_orders"]) > 0
        lo, mean, hi = (float(r[c]) for c in ("rush_fill_rate_ci_low", "rush_fill_rate", "rush_fill_rate_ci_high"))
        assert 0 <= lo <= mean <= hi <= 1
        assert r["planned_demand_met"] in ("true", "false")
        sub = out / f"r{r['reserve_ratio']}"
        for name in ("schedule.csv", "capacity.csv", "production_plan.csv", "orders.csv", "unmet.csv",
                     "kpis.json", "plan.json", "mrp.csv"):
            assert (sub / name).is_file(), f"{sub.name}/{name}"
        for name in ("gantt.png", "schedule.xlsx", "report.html"):  # left out without --full
            assert not (sub / name).exists()
        cap = read_csv(sub / "capacity.csv")
        assert int(r["protected_minutes"]) == sum(int(c["protected_minutes"]) for c in cap)
        assert int(r["planned_minutes"]) == sum(int(c["planned_minutes"]) for c in cap)
        assert json.loads((sub / "kpis.json").read_text())["reserve_ratio"] == float(r["reserve_ratio"])
        sim = read_csv(sub / "rush_simulation.csv")  # the simulated orders, R11's date beside each
        assert sim and all(s["rule_date"] or s["line"] == "" for s in sim)
        placed = [s for s in sim if s["line"]]
        assert all(s["start"] >= s["arrival"] for s in placed)
        assert sum(s["on_time"] == "true" for s in sim) <= len(placed)
    assert (out / "comparison.png").read_bytes().startswith(b"\x89PNG")
    rec = json.loads((out / "recommendation.json").read_text(encoding="utf-8"))
    assert rec["target_fill"] == 0.95 and rec["simulated_weeks"] == 20 and rec["sim_seed"] == 3
    assert set(rec["interval"]) == {"level", "low", "high"} and rec["reasoning"]
    assert [x["reserve_ratio"] for x in rec["ratios"]] == [0.1, 0.2, 0.3]
    if rec["recommended_ratio"] is not None:
        best = next(r for r in rows if float(r["reserve_ratio"]) == rec["recommended_ratio"])
        assert float(best["rush_fill_rate"]) >= 0.95


def test_comparison_png_is_deterministic(mini_rush):
    from sopt.scenario import load_scenario

    res = sweep(load_scenario(mini_rush), [D("0.1"), D("0.3")], time_limit=2, workers=1, seed=0, weeks=5,
                parallel=False, deterministic=True)
    assert comparison_png(res) == comparison_png(res)


def test_dask_local_gives_the_same_table(mini_rush, tmp_path):
    pytest.importorskip("distributed")
    common = ["--reserve", "0.1", "0.2", "0.3", "--time-limit", "2", "--workers", "1", "--seed", "0",
              "--deterministic", "--weeks", "20", "--sim-seed", "7"]
    assert run("compare", mini_rush, *common, "--sequential", "-o", tmp_path / "local") == 0
    assert run("compare", mini_rush, *common, "--dask", "local", "-o", tmp_path / "dask") == 0
    local = (tmp_path / "local" / "comparison.csv").read_bytes()
    assert local == (tmp_path / "dask" / "comparison.csv").read_bytes()
    for sub in ("r0.10", "r0.20", "r0.30"):
        assert (tmp_path / "local" / sub / "schedule.csv").read_bytes() == \
            (tmp_path / "dask" / sub / "schedule.csv").read_bytes()
    rec = json.loads((tmp_path / "dask" / "recommendation.json").read_text(encoding="utf-8"))
    assert rec["solver"]["mode"] == "dask"


# ----------------------------------------------------------------------------- recommendation


def _row(r: str, fill: float | None, lo: float | None, hi: float | None, status: str = "FEASIBLE",
         met: bool | None = True, unmet: int | None = 0) -> dict:
    return {"reserve_ratio": D(r), "status": status, "rush_fill_rate": fill, "rush_fill_rate_ci_low": lo,
            "rush_fill_rate_ci_high": hi, "planned_demand_met": met, "unmet_units": unmet}


TABLE = [
    _row("0.1", 0.80, 0.75, 0.85),
    _row("0.2", 0.955, 0.94, 0.97),                 # reaches 0.95 on average, interval dips below
    _row("0.3", 0.99, 0.98, 1.0, met=False, unmet=30),
    _row("0.4", None, None, None, status="NO_PLAN", met=None, unmet=None),
]


def test_recommends_the_smallest_ratio_reaching_the_target():
    rec = recommend(TABLE, 0.95, weeks=200)
    assert rec.ratio == D("0.2") and rec.fill_rate == 0.955 and (rec.ci_low, rec.ci_high) == (0.94, 0.97)
    assert rec.clears_target is False
    assert "r = 0.30 clears it" in rec.reasoning and "200 simulated weeks" in rec.reasoning


def test_recommendation_that_clears_the_target_and_flags_unmet_demand():
    rec = recommend(TABLE, 0.98)
    assert rec.ratio == D("0.3") and rec.clears_target is True
    assert "whole interval clears" in rec.reasoning and "30 units of planned demand unmet" in rec.reasoning


def test_no_recommendation_when_no_ratio_reaches_the_target():
    rec = recommend(TABLE, 0.999)
    assert rec.ratio is None and "No ratio reaches" in rec.reasoning and "r = 0.30" in rec.reasoning
    assert recommend([_row("0.1", None, None, None)], 0.95).ratio is None  # no rush stream
    assert recommend([TABLE[3]], 0.95).reasoning.startswith("No ratio found a plan")


def test_fill_stats_interval():
    # mean 0.75; s = sqrt((0.0625 + 0.0625) / 3) = 0.204124; SE = s / 2 = 0.102062;
    # 95 %: 0.75 ± 1.959964 × 0.102062 = 0.75 ± 0.200038
    st = fill_stats([0.5, 1.0, 0.75, 0.75])
    assert st.mean == 0.75
    assert st.se == pytest.approx(0.102062, abs=1e-6)
    assert (st.low, st.high) == (pytest.approx(0.549962, abs=1e-6), pytest.approx(0.950038, abs=1e-6))
    assert fill_stats([0.0, 1.0]).low == 0.0 and fill_stats([0.0, 1.0]).high == 1.0  # clipped
    assert fill_stats([0.9]).low is None
