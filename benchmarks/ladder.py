"""The benchmark ladder: generated weeks of growing size, sopt (CP-SAT) against the MIP peer (HiGHS).

    python benchmarks/ladder.py [--sizes 20x3 50x5 100x8 200x8] [--seeds 1 2 3]
                                [--loads 0.8 1.1] [--reserves 0.2] [--limits 5 30]
                                [--scenarios scenarios/demo_week.yaml ...] [--reference 300]
                                [--workers 8] [--peer] [--out benchmarks/results]

For every case (size, seed, load) and time limit it runs, in one process on one machine:
sopt's `solve()` (time to the first plan, the written plan's objective, the proven bound)
and, with `--peer`, the same planning model solved by HiGHS (benchmarks/highs_peer.py; the
plan it finds is written through sopt's own tables). The best objective seen for a case
over every configuration and run is kept in `best_known.csv` (updated, never made worse),
and each result is also reported as a ratio to it. Writes `ladder.csv` (one row per run)
and `ladder.md` (medians and ranges per size and limit, geometric means over the ladder)
into `--out`. `--scenarios` adds given scenario files (the bundled weeks, imported public
instances) as cases of their own; `--reference S` first solves every case once for S
seconds, only to improve `best_known.csv` (a long run, reported apart). Timing targets
live here, never in the tests.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sopt.generate import generate_week  # noqa: E402
from sopt.model import solve  # noqa: E402
from sopt.scenario import load_scenario  # noqa: E402
from sopt.week import prepare  # noqa: E402

HERE = Path(__file__).resolve().parent
BEST = HERE / "best_known.csv"


def _case_file(folder: Path, products: int, lines: int, seed: int, load: float, reserve: float) -> Path:
    path = folder / f"gen-{products}x{lines}-s{seed}-l{load:g}-r{reserve:g}.yaml"
    if not path.exists():
        data = generate_week(products, lines, max(1, products // 5), seed, load=load)
        data.setdefault("policy", {})["reserve_ratio"] = reserve
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def read_best() -> dict[str, float]:
    if not BEST.exists():
        return {}
    with BEST.open(encoding="utf-8") as f:
        return {r["case"]: float(r["objective"]) for r in csv.DictReader(f)}


def write_best(best: dict[str, float]) -> None:
    with BEST.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["case", "objective"])
        for k in sorted(best):
            w.writerow([k, f"{best[k]:.3f}"])


def run_sopt(path: Path, limit: float, workers: int, seed: int) -> dict:
    sc = load_scenario(path)
    first: list[float] = []
    trace: list[tuple[float, float]] = []
    t0 = time.perf_counter()

    def progress(ev) -> None:  # noqa: ANN001
        if ev.objective is not None:
            at = time.perf_counter() - t0
            if not first:
                first.append(at)
            trace.append((at, ev.objective))

    r = solve(sc, time_limit=limit, workers=workers, seed=seed, on_progress=progress)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process's peak RSS so far, MiB
    return {"objective": r.objective, "bound": r.best_bound, "first": first[0] if first else math.nan,
            "seconds": time.perf_counter() - t0, "trace": trace, "peak_mib": peak}


def run_peer(path: Path, limit: float) -> dict:
    from highs_peer import solve_peer

    t0 = time.perf_counter()
    r = solve_peer(prepare(load_scenario(path)), limit)
    return {"objective": r.objective if r.objective is not None else math.nan,
            "bound": r.bound if r.bound is not None else math.nan,
            "first": r.first_seconds if r.first_seconds is not None else math.nan,
            "seconds": time.perf_counter() - t0, "trace": [], "peak_mib": math.nan}


def time_to(trace: list[tuple[float, float]], target: float) -> float:
    return next((t for t, obj in trace if obj <= target + 1e-9), math.nan)


def gmean(xs: list[float]) -> float:
    xs = [x for x in xs if x > 0 and math.isfinite(x)]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else math.nan


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["20x3", "50x5", "100x8", "200x8"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--loads", type=float, nargs="+", default=[0.8, 1.1])
    ap.add_argument("--reserves", "--reserve", type=float, nargs="+", default=[0.2])
    ap.add_argument("--scenarios", type=Path, nargs="*", default=[], help="scenario files as extra cases")
    ap.add_argument("--reference", type=float, default=0, help="seconds of one long sopt run per case, "
                    "for best_known.csv only")
    ap.add_argument("--limits", type=float, nargs="+", default=[5, 30])
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--peer", action="store_true", help="also run the HiGHS peer (needs highspy)")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cases_dir = args.out / "weeks"
    cases_dir.mkdir(exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}", file=sys.stderr)
    best = read_best()
    rows: list[dict] = []
    cases: list[tuple[str, Path, int, float]] = []  # (size label, file, seed, load)
    for size in args.sizes:
        products, lines = (int(x) for x in size.split("x"))
        for seed in args.seeds:
            for load in args.loads:
                for reserve in args.reserves:
                    cases.append((size, _case_file(cases_dir, products, lines, seed, load, reserve), seed, load))
    cases += [(path.stem, path, 0, math.nan) for path in args.scenarios]
    sizes = list(dict.fromkeys(size for size, *_ in cases))
    for size, path, seed, load in cases:
        case = path.stem
        runs = [(args.reference, "sopt-ref")] if args.reference else []
        runs += [(limit, who) for limit in args.limits for who in (["sopt", "highs"] if args.peer else ["sopt"])]
        for limit, who in runs:  # interleaved
            res = run_peer(path, limit) if who == "highs" else run_sopt(path, limit, args.workers, seed)
            if math.isfinite(res["objective"]):
                best[case] = min(best.get(case, math.inf), res["objective"])
                write_best(best)  # kept as it improves: a long run may be stopped
            rows.append({"case": case, "size": size, "seed": seed, "load": load, "limit": limit,
                         "solver": who, **{k: v for k, v in res.items() if k != "trace"},
                         "_trace": res["trace"]})
            print(f"{case} {limit:g}s {who}: objective {res['objective']:.1f} bound {res['bound']:.1f} "
                  f"first {res['first']:.2f}s", file=sys.stderr, flush=True)
    for r in rows:
        b = best.get(r["case"], math.nan)
        r["best_known"] = b
        r["ratio"] = r["objective"] / b if b and math.isfinite(r["objective"]) else math.nan
        r["to_1.05"] = time_to(r["_trace"], 1.05 * b)
        r["to_1.02"] = time_to(r["_trace"], 1.02 * b)
    cols = ["case", "size", "seed", "load", "limit", "solver", "objective", "bound", "best_known", "ratio", "first",
            "to_1.05", "to_1.02", "seconds", "peak_mib"]
    with (args.out / "ladder.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    lines_md = [f"Machine: {machine}; {args.workers} CP-SAT workers, HiGHS 1 thread; seeds {args.seeds}, loads "
                f"{args.loads}, reserves {args.reserves}"
                + (f"; best known includes one {args.reference:g} s sopt run per case (sopt-ref)" if args.reference
                   else "") + ".", "",
                "| size | limit (s) | solver | objective / best known, median [min–max] | first plan (s), median | "
                "to 1.05x (s), median | to 1.02x (s), median | process peak RSS MiB |", "|---|---|---|---|---|---|---|---|"]
    for size in sizes:
        for limit in ([args.reference] if args.reference else []) + args.limits:
            for who in ("sopt-ref", "sopt", "highs"):
                rs = [r for r in rows if r["size"] == size and r["limit"] == limit and r["solver"] == who]
                if not rs:
                    continue
                ratios = [r["ratio"] for r in rs]
                fin = [x for x in ratios if math.isfinite(x)]

                def med(key: str, rs: list[dict] = rs) -> float:
                    return statistics.median(r[key] for r in rs)
                span = f"{statistics.median(ratios):.3f} [{min(fin):.3f}–{max(fin):.3f}]" if fin else "no plan"
                lines_md.append(f"| {size} | {limit:g} | {who} | {span} ({len(fin)}/{len(rs)} with a plan) | "
                                f"{med('first'):.2f} | {med('to_1.05'):.2f} | {med('to_1.02'):.2f} | {med('peak_mib'):.0f} |")
    if args.peer:
        lines_md.append("")
        for limit in args.limits:
            pairs = []
            for r in rows:
                if r["solver"] == "sopt" and r["limit"] == limit:
                    peer = next(x for x in rows if x["case"] == r["case"] and x["limit"] == limit and x["solver"] == "highs")
                    if math.isfinite(peer["objective"]):
                        pairs.append(r["objective"] / peer["objective"])
            n_none = sum(1 for r in rows if r["solver"] == "highs" and r["limit"] == limit and not math.isfinite(r["objective"]))
            lines_md.append(f"- {limit:g} s: geometric mean of sopt / HiGHS objective over the cases where HiGHS found "
                            f"a plan: {gmean(pairs):.3f} ({len(pairs)} cases); HiGHS found no plan in {n_none} cases.")
    (args.out / "ladder.md").write_text("\n".join(lines_md) + "\n", encoding="utf-8")
    print("\n".join(lines_md))


if __name__ == "__main__":
    main()
