"""Wall time of a reserve-ratio sweep: ratios one after the other vs ratios in parallel processes.

    python benchmarks/sweep.py [--ratios 0.1 0.2 0.3 0.4] [--weeks 200] [--time-limit 10] [--workers 8]

Sequential: one ratio after the other, every solve with all `--workers` CP-SAT workers,
warm-started from the previous ratio's plan where that plan fits. Parallel: the ratios in
`min(ratios, cores)` spawned processes with `workers // processes` CP-SAT workers each, no
warm starts. Both with the same time limit per solve and the same simulated rush weeks
(the demo scenario's stream). Prints a markdown table; the faster mode is the default of
`sopt compare` (sopt/compare.py, DEFAULT_PARALLEL).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from decimal import Decimal
from pathlib import Path

from sopt.compare import sweep
from sopt.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "demo_week.yaml")
    ap.add_argument("--ratios", nargs="+", default=["0.1", "0.2", "0.3", "0.4"])
    ap.add_argument("--weeks", type=int, default=200)
    ap.add_argument("--time-limit", type=float, default=10)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    ratios = [Decimal(r) for r in args.ratios]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.scenario.name}, {len(ratios)} ratios × {args.weeks} simulated weeks, "
          f"{args.time_limit:g} s per solve")
    print()
    print("| mode | CP-SAT workers per solve | wall time (s) | solve s (sum) | simulate s (sum) | warm starts used "
          "| mean objective | fill rate per ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for parallel in (False, True):
        res = sweep(sc, ratios, time_limit=args.time_limit, workers=args.workers, seed=args.seed,
                    weeks=args.weeks, parallel=parallel)
        objs = [r["objective"] for r in res.rows if r["objective"] is not None]
        fills = " / ".join("-" if r["rush_fill_rate"] is None else f"{r['rush_fill_rate']:.1%}" for r in res.rows)
        print(f"| {res.mode} | {res.settings['workers']} | {res.seconds:.1f} "
              f"| {sum(run.solve_seconds for run in res.runs):.1f} "
              f"| {sum(run.simulate_seconds for run in res.runs):.1f} "
              f"| {f'{sum(run.warm_started for run in res.runs)} of {len(res.runs) - 1}' if not parallel else '-'} "
              f"| {statistics.fmean(objs) if objs else float('nan'):,.0f} | {fills} |", flush=True)


if __name__ == "__main__":
    main()
