"""Long runs outside the test suite: `python benchmarks/soak.py SUBCOMMAND ...`.

- `fuzz --count N --seed S`: N broken inputs (default 2000) through every command
  (tests/fuzzing.py), a markdown table per command: tried, rejected with exit 2, valid, failures;
  exit 1 when any case failed.
- `properties --count N --seed S`: N generated weeks of varied shape (tests/properties_lib.py:
  size, load, reserve 0-0.9, closed days, short materials, every class mix), each solved with
  one worker and a deterministic limit and checked (plan checker, objective = its terms, bound,
  unmet explained); a markdown table overall and by shape; exit 1 when any week fails.
- `load --ratios 40 --weeks 200`: `sopt compare` as a watched subprocess (tests/load_lib.py) on
  the demo week and on a generated 500-product week: wall time, peak RSS of the process tree,
  processes left behind, every ratio written; exit 1 over the memory bound or on any failure.

Each subcommand is a `cmd_<name>(args) -> int` registered in `SUBCOMMANDS` with its own
arguments; further ones (properties, load) are added the same way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.fuzzing lives beside the package


# ----------------------------------------------------------------------------- fuzz


def add_fuzz(p: argparse.ArgumentParser) -> None:
    p.add_argument("--count", type=int, default=2000, help="broken inputs in all, split over the commands")
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--max-solves", type=int, default=12, help="real solves per command that solves (the rest "
                                                               "of the valid cases stop at the solver)")
    p.add_argument("--failures", type=int, default=20, help="failures listed per command")


def cmd_fuzz(args: argparse.Namespace) -> int:
    from tests.fuzzing import Tally, fuzz_all

    t0 = time.perf_counter()
    print(f"# sopt fuzz soak: {args.count} broken inputs, seed {args.seed}\n", flush=True)
    print(f"{dt.date.today().isoformat()}, Python {sys.version.split()[0]}; at most {args.max_solves} real "
          "solves per command (`--time-limit 1 --workers 1`, the mini week). Rejected: exit 2 with every stderr "
          "line naming the file and field or the option, nothing written. Valid: the mutation stayed valid and "
          "the command answered (exit 0, or 1 where the answer may be no). Valid, solve skipped: it passed every "
          "check and reached the solver after the budget was spent. Failures: anything else (exit 4, a "
          "traceback, a hang, a stray line, a partial output, a broken input accepted).\n", flush=True)

    def report(t: Tally) -> None:
        print(f"## {t.command}\n")
        print("| tried | rejected with exit 2 | valid (exit 0/1) | valid, solve skipped | failures | seconds |")
        print("|---:|---:|---:|---:|---:|---:|")
        print(f"| {t.tried} | {t.rejected_exit2} | {t.valid_exit0} | {t.valid_unsolved} | {len(t.failures)} | "
              f"{t.seconds:.1f} |\n")
        for f in t.failures[:args.failures]:
            print("    " + f.replace("\n", "\n    "))
        if t.failures:
            print()
        sys.stdout.flush()

    tallies = fuzz_all(args.count, args.seed, max_solves=args.max_solves, report=report)
    total = {k: sum(getattr(t, k) for t in tallies.values()) for k in ("tried", "rejected_exit2", "valid_exit0",
                                                                         "valid_unsolved")}
    failures = sum(len(t.failures) for t in tallies.values())
    print("## all commands\n")
    print("| command | tried | rejected with exit 2 | valid (exit 0/1) | valid, solve skipped | failures |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, t in tallies.items():
        print(f"| {name} | {t.tried} | {t.rejected_exit2} | {t.valid_exit0} | {t.valid_unsolved} | {len(t.failures)} |")
    print(f"| **all** | {total['tried']} | {total['rejected_exit2']} | {total['valid_exit0']} | "
          f"{total['valid_unsolved']} | {failures} |")
    print(f"\n{time.perf_counter() - t0:.0f} s in all.")
    return 1 if failures else 0


# ----------------------------------------------------------------------------- properties


def add_properties(p: argparse.ArgumentParser) -> None:
    p.add_argument("--count", type=int, default=200, help="generated weeks (shape seeds SEED ... SEED+COUNT-1)")
    p.add_argument("--seed", type=int, default=0, help="the first shape seed")
    p.add_argument("--time-limit", type=float, default=0.1, help="deterministic seconds per solve (one worker)")
    p.add_argument("--failures", type=int, default=20, help="failing weeks listed")


def cmd_properties(args: argparse.Namespace) -> int:
    import tempfile
    from collections import Counter, defaultdict

    import ortools

    from tests.properties_lib import Outcome, Tally, run_shape, shape_for

    t0 = time.perf_counter()
    tally = Tally()
    outcomes: list[Outcome] = []
    by_tag: dict[str, list[Outcome]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        for k, seed in enumerate(range(args.seed, args.seed + args.count)):
            o = run_shape(shape_for(seed), Path(tmp), args.time_limit)
            tally.add(o)
            outcomes.append(o)
            for tag in o.shape.tags():
                by_tag[tag].append(o)
            if o.problems or (k + 1) % 20 == 0:
                print(f"  {k + 1}/{args.count} weeks, {len(tally.failed)} failing ({time.perf_counter() - t0:.0f} s)"
                      + (f"; seed {seed} fails" if o.problems else ""), file=sys.stderr, flush=True)
    wall = time.perf_counter() - t0
    st = tally.statuses
    print(f"# sopt property soak: {tally.weeks} generated weeks\n")
    print(f"{dt.date.today().isoformat()}, Python {sys.version.split()[0]}, OR-Tools {ortools.__version__}, "
          f"{os.cpu_count()} cores; shape seeds {args.seed}-{args.seed + args.count - 1} "
          f"(tests/properties_lib.py), each solved with 1 worker, seed 0, {args.time_limit:g} deterministic "
          "seconds, and checked: plan checker, status with a plan, objective = sum of its terms, bound <= "
          "objective, every unmet unit in unmet.csv with its reason.\n")
    print("| weeks | OPTIMAL | FEASIBLE | without a plan | checker violations | other problems | weeks failing "
          "| search beat the start plan | plan below the model's bound | weeks with unmet demand "
          "| wall time (s) | s per week (median / max) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    no_plan = tally.weeks - st["OPTIMAL"] - st["FEASIBLE"]
    per_week = sorted(o.seconds for o in outcomes)
    print(f"| {tally.weeks} | {st['OPTIMAL']} | {st['FEASIBLE']} | {no_plan} | {tally.violations} "
          f"| {tally.problems - tally.violations} | {len(tally.failed)} | {tally.search_improved} "
          f"| {tally.below_model_bound} | {tally.with_unmet} | {wall:.0f} "
          f"| {per_week[len(per_week) // 2]:.2f} / {per_week[-1]:.2f} |\n")
    print("## By shape\n")
    print("| shape | weeks | OPTIMAL | FEASIBLE | failing | with unmet demand | mean s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    order = ["loose", "medium", "tight", "plant closed days", "line closed days", "short materials", "no materials",
             "reserve 0", "reserve 0.05-0.45", "reserve >= 0.5", "1 day", "2-7 days", "8-14 days",
             "1 line", "2 lines", "3 lines", "4 lines"]
    tags = [t for t in order if t in by_tag] + sorted(t for t in by_tag if t not in order)
    for tag in tags:
        outs = by_tag[tag]
        c = Counter(o.status for o in outs)
        print(f"| {tag} | {len(outs)} | {c['OPTIMAL']} | {c['FEASIBLE']} | {sum(bool(o.problems) for o in outs)} "
              f"| {sum(o.unmet_units > 0 for o in outs)} | {sum(o.seconds for o in outs) / len(outs):.2f} |")
    print("\nShapes: load <= 0.6 loose, >= 1.2 tight; closed days close the whole plant (a calendar date) "
          "or one line (a date key without shifts); short materials have 0-60 % of their need on hand and "
          "arriving; classes are given explicitly per product (letters by volume rank, `-` ranked by sopt). "
          "A plan below the model's bound is allowed: the model reserves the longest changeover for every run "
          "and the sequencing stage may need less.")
    if tally.failed:
        print("\n## Failing weeks\n")
        for o in tally.failed[:args.failures]:
            print(f"- {o.shape}")
            for prob in o.problems[:10]:
                print(f"    - {prob}")
    print(f"\n{tally.summary()}.")
    return 1 if tally.failed else 0


# ----------------------------------------------------------------------------- load


def _num(x: float | None, decimals: int) -> str:
    return "-" if x is None else f"{x:.{decimals}f}"

LOAD_LIMITS = {"demo": 20.0, "generated": 10.0}  # seconds per solve: each scenario ends in about 8 minutes


def add_load(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ratios", type=int, default=40, help="reserve ratios 0.00, 0.01, ...")
    p.add_argument("--weeks", type=int, default=200, help="simulated rush weeks per ratio")
    p.add_argument("--time-limit", type=float, default=None,
                   help="seconds per solve (default: 20 for the demo week, 10 for the generated week)")
    p.add_argument("--workers", type=int, default=None, help="CP-SAT workers in all (default: the scenario's, 8)")
    p.add_argument("--memory-bound", type=float, default=4.0, help="GiB the whole process tree may use")
    p.add_argument("--products", type=int, default=500)
    p.add_argument("--lines", type=int, default=12)
    p.add_argument("--materials", type=int, default=40)
    p.add_argument("--gen-seed", type=int, default=1)
    p.add_argument("--only", choices=["demo", "generated"], default=None)
    p.add_argument("--keep", type=Path, default=None, help="keep the compare folders under this folder")


def cmd_load(args: argparse.Namespace) -> int:
    import json
    import platform
    import shutil
    import subprocess
    import tempfile

    from tests.load_lib import GIB, MIB, check_compare_folder, ratio_range, run_watched

    reserve, folders = ratio_range(args.ratios)
    bound = int(args.memory_bound * GIB)
    work = Path(tempfile.mkdtemp(prefix="sopt-load-"))
    rows = []
    failed = False
    try:
        cases = []
        if args.only in (None, "demo"):
            cases.append(("demo", ROOT / "scenarios" / "demo_week.yaml", "30 x 3"))
        if args.only in (None, "generated"):
            gen = work / f"generated-{args.products}p.yaml"
            subprocess.run([sys.executable, "-m", "sopt", "generate", "--products", str(args.products), "--lines",
                            str(args.lines), "--materials", str(args.materials), "--seed", str(args.gen_seed),
                            "-o", str(gen)], check=True, capture_output=True)
            cases.append(("generated", gen, f"{args.products} x {args.lines}"))
        for name, scenario, size in cases:
            limit = args.time_limit if args.time_limit is not None else LOAD_LIMITS[name]
            out = work / f"{name}-compare"
            cmd = [sys.executable, "-m", "sopt", "compare", str(scenario), "--reserve", reserve, "--weeks",
                   str(args.weeks), "--time-limit", f"{limit:g}", "--seed", "0", "--sim-seed", "0", "-o", str(out)]
            if args.workers is not None:
                cmd += ["--workers", str(args.workers)]
            print(f"  {name}: {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
            w = run_watched(cmd, memory_bound=bound, timeout=3600)
            problems = check_compare_folder(out, folders) if w.returncode == 0 else []
            if w.killed:
                problems.insert(0, f"killed: {w.killed} (peak {w.peak_rss / GIB:.2f} GiB)")
            if w.returncode != 0:
                problems.append(f"exit {w.returncode}: {w.stderr.strip().splitlines()[-1:] }")
            if w.leftover:
                problems.append(f"{len(w.leftover)} processes left behind: {w.leftover}")
            doc = json.loads((out / "recommendation.json").read_text()) if (out / "recommendation.json").is_file() else {}
            per = doc.get("timing", {}).get("per_ratio", {})
            solver = doc.get("solver", {})
            solve_s = [v["solve_seconds"] for v in per.values()]
            sim_s = [v["simulate_seconds"] for v in per.values()]
            rows.append({
                "scenario": f"{scenario.name} ({size})", "runs": f"{args.ratios} x {args.weeks}",
                "limit": limit, "mode": f"{solver.get('mode', '?')}, {solver.get('workers', '?')} workers/solve",
                "exit": w.returncode, "wall": w.seconds, "sweep": doc.get("timing", {}).get("seconds"),
                "solve": max(solve_s) if solve_s else None, "sim": sum(sim_s) / len(sim_s) if sim_s else None,
                "peak": w.peak_rss, "procs": f"{w.peak_processes} / {w.processes_seen}",
                "left": len(w.leftover), "ok": "yes" if not problems else "; ".join(problems)[:300],
            })
            failed |= bool(problems)
            print(f"  {name}: exit {w.returncode}, {w.seconds:.0f} s, peak {w.peak_rss / MIB:.0f} MiB, "
                  f"{len(w.leftover)} left over, {len(problems)} problems", file=sys.stderr, flush=True)
            if args.keep is not None:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copytree(out, args.keep / out.name, dirs_exist_ok=True)
            shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"# sopt load soak: `sopt compare`, {args.ratios} ratios x {args.weeks} simulated weeks\n")
    print(f"{dt.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores (shared), "
          f"Python {platform.python_version()}; `--reserve {reserve} --weeks {args.weeks} --seed 0 --sim-seed 0`, "
          f"ratios in parallel processes (the default); memory bound {args.memory_bound:g} GiB for the whole "
          "process tree (sampled every 0.1 s, RSS summed over the processes: an upper bound).\n")
    print("| scenario | ratios x weeks | s per solve | mode | exit | wall time (s) | sweep (s) | slowest solve (s) "
          "| simulate s per ratio | peak RSS, tree (MiB) | processes peak / seen | left behind | every ratio written |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|")
    for r in rows:
        print(f"| {r['scenario']} | {r['runs']} | {r['limit']:g} | {r['mode']} | {r['exit']} | {r['wall']:.0f} "
              f"| {_num(r['sweep'], 0)} | {_num(r['solve'], 1)} | {_num(r['sim'], 2)} | {r['peak'] / MIB:,.0f} | {r['procs']} "
              f"| {r['left']} | {r['ok']} |")
    print(f"\n{'FAILED' if failed else 'Passed'}: memory bound {args.memory_bound:g} GiB, exit 0, every ratio "
          "written (comparison.csv rows, r*/ folders with schedule, kpis and rush simulation), no process "
          "left behind.")
    return 1 if failed else 0


# ----------------------------------------------------------------------------- the command line

SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "fuzz": ("broken inputs through every sopt command", add_fuzz, cmd_fuzz),
    "properties": ("generated weeks of varied shape, solved and checked", add_properties, cmd_properties),
    "load": ("sopt compare over many ratios and weeks, watched for memory and leftovers", add_load, cmd_load),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add, run) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        add(p)
        p.set_defaults(run=run)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
