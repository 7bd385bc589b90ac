"""Measure the bundled scenarios: objective, proven bound and gap per seed and time limit.

    python benchmarks/bundled.py [--limits 5 20 60] [--seeds 0 1 2] [--workers 8]

Prints a markdown table (medians and ranges over the seeds) for the README. Timing targets
live here, never in the tests.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

from sopt.model import solve
from sopt.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limits", type=float, nargs="+", default=[5, 20, 60])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--scenarios", nargs="+", default=["demo_week", "tight_week"])
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    print("| scenario | limit (s) | workers | objective median [min–max] | bound median | gap median [min–max] | first plan (s) |")
    print("|---|---|---|---|---|---|---|")
    for name in args.scenarios:
        sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        for limit in args.limits:
            objs, bounds, gaps, firsts = [], [], [], []
            for seed in args.seeds:
                first: list[float] = []
                t0 = time.perf_counter()

                def progress(ev, first=first, t0=t0):  # noqa: ANN001
                    if ev.objective is not None and not first:
                        first.append(time.perf_counter() - t0)

                r = solve(sc, time_limit=limit, workers=args.workers, seed=seed, on_progress=progress)
                objs.append(r.objective)
                bounds.append(r.best_bound)
                gaps.append(r.gap)
                firsts.append(first[0] if first else float("nan"))
            print(f"| {name} | {limit:g} | {args.workers} | {statistics.median(objs):,.0f} [{min(objs):,.0f}–{max(objs):,.0f}] "
                  f"| {statistics.median(bounds):,.0f} | {statistics.median(gaps):.1%} [{min(gaps):.1%}–{max(gaps):.1%}] "
                  f"| {statistics.median(firsts):.2f} |", flush=True)


if __name__ == "__main__":
    main()
