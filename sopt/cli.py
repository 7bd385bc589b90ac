"""The `sopt` command line: parse, call the library, write files, print a summary.

Exit codes (CONTRACT.md): 0 done; 1 the answer is no (no plan in time, check found
violations); 2 invalid input or usage; 3 output folder locked; 4 internal error; 130
interrupted by Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType
from typing import Any

from sopt.errors import FolderLocked, InputError

EXIT_OK, EXIT_NO, EXIT_INPUT, EXIT_LOCKED, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
MAX_SECONDS = 86_400  # every solve has a time limit, at most a day (as solver.time_limit in a scenario)
MAX_WORKERS = 64
PLUGINS = ("sopt.promise", "sopt.accuracy", "sopt.replan", "sopt.importers")


class UsageError(Exception):
    """Bad command-line usage (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"sopt: {message}")


def _ratio(text: str) -> Decimal:
    try:
        r = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not r.is_finite() or not (Decimal(0) <= r < Decimal(1)) or r.as_tuple().exponent < -4:  # type: ignore[operator]
        raise argparse.ArgumentTypeError(f"{text} must satisfy 0 <= r < 1 with at most 4 decimals")
    return r


def _positive(kind: type, most: float = 10**7) -> Callable[[str], float | int]:
    """A number > 0 and at most `most` (a time limit, a count): never nan or infinite."""
    def parse(text: str) -> float | int:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a valid {'whole ' if kind is int else ''}number") \
                from None
        if not math.isfinite(v) or v <= 0 or v > most:
            raise argparse.ArgumentTypeError(f"{text} is not a number > 0 and at most {most:g}")
        return v
    return parse


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not (0 <= v < 2**31):
        raise argparse.ArgumentTypeError(f"{text} is outside 0..2147483647")
    return v


def _fill(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not (0 < v <= 1):
        raise argparse.ArgumentTypeError(f"{text} must satisfy 0 < target <= 1")
    return v


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    p = _Parser(prog="sopt", description="Weekly production planning with CP-SAT.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("validate", help="check a scenario file and summarise it")
    v.add_argument("scenario", type=Path)

    s = sub.add_parser("solve", help="plan the week and write the plan folder")
    s.add_argument("scenario", type=Path)
    s.add_argument("-o", "--out", type=Path, help="output folder (default out/<scenario name>/)")
    s.add_argument("--reserve", type=_ratio, help="protected capacity share, 0 <= r < 1 (default: the scenario's)")
    s.add_argument("--time-limit", type=_positive(float, MAX_SECONDS), help="seconds for the solver (default: the scenario's, 20)")
    s.add_argument("--workers", type=_positive(int, MAX_WORKERS), help="CP-SAT workers (default: the scenario's, 8)")
    s.add_argument("--seed", type=_seed, help="random seed (default: the scenario's, 0)")
    s.add_argument("--deterministic", action="store_true",
                   help="deterministic time limit: same scenario and seed give the same plan")
    s.add_argument("--log", action="store_true", help="show CP-SAT's own search log")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    s.add_argument("--no-pictures", action="store_true", help="skip gantt/load/stock pictures")
    s.add_argument("--no-workbook", action="store_true", help="skip schedule.xlsx")
    s.add_argument("--no-report", action="store_true", help="skip report.html")

    e = sub.add_parser("export", help="rewrite a plan folder's views from its plan.json (no solving)")
    e.add_argument("plan", type=Path)
    e.add_argument("--format", choices=["csv", "xlsx", "json"], required=True)
    e.add_argument("--force", action="store_true", help="overwrite a schedule.csv edited since plan.json")

    c = sub.add_parser("check", help="check a written plan against every rule (no solver)")
    c.add_argument("scenario", type=Path)
    c.add_argument("plan", type=Path)

    g = sub.add_parser("generate", help="write a realistic synthetic week")
    g.add_argument("--products", type=_positive(int), required=True)
    g.add_argument("--lines", type=_positive(int), required=True)
    g.add_argument("--materials", type=int, default=0)
    g.add_argument("--seed", type=_seed, default=0)
    g.add_argument("--load", type=_positive(float), default=0.75,
                   help="demand relative to planned capacity (0.75 comfortable, 1.3 over-loaded)")
    g.add_argument("-o", "--out", type=Path, required=True, help="scenario file to write")

    cmp = sub.add_parser(
        "compare", help="what-if: plan the week at several reserve ratios and simulate rush orders",
        description="Solve the week once per reserve ratio, simulate the scenario's rush-order stream against "
                    "each plan and recommend the smallest ratio whose mean rush fill rate reaches the target. "
                    "Writes OUTDIR/comparison.csv, comparison.png, recommendation.json and one plan folder per "
                    "ratio (r0.10/ ...). To keep sweeps fast the ratio folders leave out the pictures, "
                    "schedule.xlsx and report.html (--full includes them).")
    cmp.add_argument("scenario", type=Path)
    cmp.add_argument("--reserve", nargs="+", required=True, metavar="R",
                     help="ratios 0 <= r < 1 (at most 4 decimals), and/or ranges START:STOP:STEP, e.g. 0.1:0.4:0.05")
    cmp.add_argument("-o", "--out", type=Path, help="output folder (default out/<scenario name>-compare/)")
    cmp.add_argument("--time-limit", type=_positive(float, MAX_SECONDS), help="seconds per solve (default: the scenario's, 20)")
    cmp.add_argument("--workers", type=_positive(int, MAX_WORKERS),
                     help="CP-SAT workers in all (default: the scenario's, 8); split over parallel ratios")
    cmp.add_argument("--seed", type=_seed, help="solver random seed (default: the scenario's, 0)")
    cmp.add_argument("--weeks", type=_positive(int, 100_000), help="simulated rush weeks per ratio (default: rush_orders.weeks, 200)")
    cmp.add_argument("--sim-seed", type=_seed, help="seed of the rush simulation (default: rush_orders.seed, 0)")
    cmp.add_argument("--target-fill", type=_fill, default=0.95,
                     help="rush fill rate the recommended ratio must reach (default 0.95)")
    how = cmp.add_mutually_exclusive_group()
    how.add_argument("--parallel", dest="parallel", action="store_true", default=None,
                     help="solve the ratios concurrently in processes, no warm starts (the default: measured faster)")
    how.add_argument("--sequential", dest="parallel", action="store_false",
                     help="one ratio after the other with all workers, warm-started from the neighbouring ratio")
    cmp.add_argument("--dask", metavar="ADDRESS",
                     help="run the ratios on Dask: 'local' (an in-process cluster) or a scheduler address "
                          "such as tcp://scheduler:8786 (needs pip install 'sopt[dask]')")
    cmp.add_argument("--deterministic", action="store_true",
                     help="deterministic time limit and no warm starts: with --workers 1 and the same seeds, "
                          "the same table whichever way the ratios run")
    cmp.add_argument("--full", action="store_true", help="write pictures, schedule.xlsx and report.html per ratio")
    for module in PLUGINS:  # commands that live with their feature: register(sub) adds their parsers
        importlib.import_module(module).register(sub)
    return p


_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(problem: str) -> str:
    """A problem as one line: line breaks inside quoted values are shown escaped (CONTRACT.md: one
    line per problem)."""
    return problem.translate(_LINE_BREAKS)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sopt` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        handler = {"validate": cmd_validate, "solve": cmd_solve, "check": cmd_check, "generate": cmd_generate,
                   "export": cmd_export, "compare": cmd_compare}
        run = handler.get(args.command) or args.run  # plugin commands set `run` on their parser
        return int(run(args))
    except UsageError as e:
        print(one_line(str(e)), file=sys.stderr)
        return EXIT_INPUT
    except InputError as e:
        for line in e.problems:
            print(one_line(line), file=sys.stderr)
        return EXIT_INPUT
    except FolderLocked as e:
        print(f"sopt: {e} (exit 3)", file=sys.stderr)
        return EXIT_LOCKED
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("sopt: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as e:  # argparse --help
        return int(e.code or 0)
    except Exception:  # noqa: BLE001 - the one place that turns bugs into exit 4
        fd, path = tempfile.mkstemp(prefix="sopt-crash-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write(traceback.format_exc())
        print(f"sopt: internal error; the full traceback was written to {path}", file=sys.stderr)
        return EXIT_INTERNAL


# ----------------------------------------------------------------------------- validate


def cmd_validate(args: argparse.Namespace) -> int:
    """`sopt validate SCENARIO`."""
    from sopt.scenario import load_scenario
    from sopt.week import prepare

    sc = load_scenario(args.scenario)
    week = prepare(sc)
    for w in sc.warnings:
        print(f"warning: {w}")
    counts = {c: sum(1 for p in sc.products if week.classes[p.id] == c) for c in "ABC"}
    steps = sum(len(p.steps) for p in sc.products if p.multi_step)
    open_shifts = [s for s in week.shifts if s.W > 0]
    W = sum(s.W for s in open_shifts)
    P = sum(s.P for s in open_shifts)
    print(f"{args.scenario.name}: valid — {sc.name}")
    print(f"  horizon      {sc.start} + {sc.days} days")
    print(f"  lines        {len(sc.lines)} ({', '.join(ln.id for ln in sc.lines)}), {len(open_shifts)} working shifts")
    print(f"  capacity     {W} working minutes, {P} protected at r = {sc.reserve_ratio} ({sc.protected_window})")
    print(f"  products     {len(sc.products)}: A {counts['A']}, B {counts['B']}, C {counts['C']}"
          + (f"; {sum(1 for p in sc.products if p.multi_step)} with multi-step routings ({steps} steps)" if steps else ""))
    if sc.jobs:
        print(f"  jobs         {len(sc.jobs)} ({sum(j.quantity for j in sc.jobs)} units)")
    if sc.crew_pool:
        print("  crew pool    " + ", ".join(f"{t} {n}" for t, n in sc.crew_pool.items()))
    print(f"  materials    {len(sc.materials)}")
    demand = sum(sum(d.total) for d in week.demand.values())
    print(f"  demand       {demand} units this week; {len(sc.orders)} confirmed orders")
    return EXIT_OK


# ----------------------------------------------------------------------------- solve


class _Progress:
    """Prints a line per better plan, and bound updates at most once a second."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.best: float | None = None
        self.bound: float | None = None
        self.last_print = 0.0
        self.stage = "plan"

    def __call__(self, ev) -> None:  # noqa: ANN001 - sopt.model.solver.Progress
        if self.quiet:
            return
        if ev.stage != self.stage:  # a new stage: its objective includes the new terms
            self.stage, self.best, self.bound = ev.stage, None, None
            what = "scheduling the jobs (makespan, lateness)" if ev.stage == "jobs" else \
                "planning the products around the jobs (objective: jobs + plan)"
            print(f"  {ev.elapsed:7.1f}s  {what}", flush=True)
        if ev.bound is not None:
            self.bound = ev.bound if self.bound is None else max(self.bound, ev.bound)
        improved = ev.objective is not None and (self.best is None or ev.objective < self.best)
        if improved:
            self.best = ev.objective
        now = time.monotonic()
        if not improved and now - self.last_print < 1.0:
            return
        self.last_print = now
        gap = "" if self.best is None or self.bound is None else \
            f"  gap {max(0.0, (self.best - self.bound) / max(1.0, abs(self.best))):7.2%}"
        best = "no plan yet" if self.best is None else f"plan {self.best:14,.1f}"
        bound = "" if self.bound is None else f"  bound {self.bound:14,.1f}"
        print(f"  {ev.elapsed:7.1f}s  {best}{bound}{gap}", flush=True)


class _SigInt:
    """First Ctrl-C: stop the search and keep the best plan. Second: stop at once."""

    def __init__(self) -> None:
        self.count = 0
        self.previous: object = None

    def __enter__(self) -> _SigInt:
        from sopt.model.solver import reset_stop

        reset_stop()
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self.previous if callable(self.previous) else signal.SIG_DFL)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        from sopt.model.solver import request_stop

        self.count += 1
        if self.count == 1:
            print("\nsopt: Ctrl-C — stopping the search; the best plan so far will be written "
                  "(Ctrl-C again to stop at once)", file=sys.stderr, flush=True)
            request_stop()
        else:
            print("\nsopt: stopped at once; the previous plan folder is kept", file=sys.stderr, flush=True)
            os._exit(EXIT_INTERRUPTED)


def cmd_solve(args: argparse.Namespace) -> int:
    """`sopt solve SCENARIO`."""
    from sopt.model.solver import solve
    from sopt.output import locked, plan_files, write_folder
    from sopt.scenario import load_scenario
    from sopt.week import check_size, prepare

    sc = load_scenario(args.scenario)
    if args.reserve is not None:
        sc = sc.with_reserve(args.reserve)
    week = prepare(sc)
    check_size(week)
    out: Path = args.out or Path("out") / args.scenario.stem
    for w in sc.warnings:
        print(f"warning: {w}")
    with locked(out), _SigInt():
        n_open = sum(1 for s in week.shifts if s.W > 0)
        print(f"sopt: planning {sc.name}: {len(sc.products)} products, "
              + (f"{len(sc.jobs)} jobs, " if sc.jobs else "")
              + f"{len(sc.lines)} lines, {n_open} working shifts, reserve {sc.reserve_ratio}")
        progress = _Progress(args.quiet)
        result = solve(week, time_limit=args.time_limit, workers=args.workers, seed=args.seed,
                       log_search=args.log, on_progress=progress, deterministic=args.deterministic)
        if result.plan is None:
            why = "interrupted before a first plan" if result.interrupted else \
                f"no plan within {result.settings['time_limit']} s ({result.solver_status})"
            print(f"sopt: {why}; nothing written, {out} kept as it was.")
            if not result.interrupted:
                print("  try: a longer --time-limit, more --workers, or a smaller --reserve")
            return EXIT_INTERRUPTED if result.interrupted else EXIT_NO
        violations = _self_check(result)
        if violations:
            raise RuntimeError("the solved plan breaks rules:\n" + "\n".join(violations))
        print("sopt: writing the plan folder ...", flush=True)
        write_folder(out, plan_files(result, pictures=not args.no_pictures, workbook=not args.no_workbook,
                                     report=not args.no_report))
    _summary(result, out)
    if result.interrupted:
        print(f"sopt: interrupted — the best plan found so far was written to {out}/")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _self_check(result, allow=lambda v: False) -> list[str]:  # noqa: ANN001
    """Every plan passes the solver-free checker before it is written (`allow`: accepted exceptions)."""
    from sopt.checker import check_plan_rows

    return [str(v) for v in check_plan_rows(result.plan) if not allow(v)]


def _summary(result, out: Path) -> None:  # noqa: ANN001
    plan = result.plan
    sc = result.week.scenario
    gap = "n/a" if result.gap is None else f"{result.gap:.2%}"
    print()
    print(f"status     {result.status.value}   objective {result.objective:,.2f}   bound {result.best_bound:,.2f}   gap {gap}")
    print(f"solver     {result.solve_seconds:.1f} s, {result.settings['workers']} workers, seed {result.settings['seed']}")
    sl = plan.service_level()
    print("service    " + "   ".join(f"{c} {'-' if v is None else f'{v:.1%}'}" for c, v in sl.items()))
    print(f"unmet      {plan.unmet_units()} units at the week's end; {plan.late_units()} late; "
          f"min-stock shortfall {plan.min_stock_shortfall_units()} unit-days")
    by_reason: dict[str, int] = {}
    for r in plan.unmet:
        by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + r["quantity"]
    if by_reason:
        print("  reasons  " + ", ".join(f"{k} {v}" for k, v in sorted(by_reason.items(), key=lambda kv: -kv[1])))
    print("lines      " + "   ".join(f"{ln} {u:.0%}" for ln, u in plan.utilization().items())
          + f"   (planned / working minutes; reserve {sc.reserve_ratio})")
    last = sc.dates[-1].isoformat()
    this_week = [o for o in plan.orders if o["due"] <= last]
    later = len(plan.orders) - len(this_week)
    on_time = sum(1 for o in this_week if o["on_time"])
    print(f"orders     {on_time} of {len(this_week)} due this week on time"
          + (f"; {later} due later" if later else ""))
    seq = plan.sequence
    print(f"sequence   {seq.status}: changeovers {seq.changeover_minutes} min "
          f"({seq.recovered_minutes} min of the reserve recovered as free time)")
    if sc.jobs:
        from sopt.jobs import job_kpis

        jk: dict[str, Any] = job_kpis(plan.week, plan.runs, plan.jobs) or {}
        late, missing = list(jk.get("late") or []), list(jk.get("unscheduled") or [])
        print(f"jobs       {jk.get('scheduled')} of {jk.get('jobs')} scheduled, makespan {jk.get('makespan_minutes')} min, "
              f"{len(late)} late ({jk.get('total_lateness_minutes')} min)"
              + (f"; not scheduled: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}" if missing else ""))
    terms = ", ".join(f"{k} {v:,.1f}" for k, v in plan.objective_terms.items() if v)
    print(f"objective  {terms or '0'}")
    print(f"written    {out}/ ({len(plan.runs)} runs)")


# ----------------------------------------------------------------------------- compare


def cmd_compare(args: argparse.Namespace) -> int:
    """`sopt compare SCENARIO --reserve R ...`: the protected-capacity what-if sweep."""
    from sopt.compare import DEFAULT_PARALLEL, parse_ratios, ratio_text, sweep, write_sweep
    from sopt.output import locked
    from sopt.scenario import load_scenario

    ratios = parse_ratios(args.reserve)
    sc = load_scenario(args.scenario)
    out: Path = args.out or Path("out") / f"{args.scenario.stem}-compare"
    for w in sc.warnings:
        print(f"warning: {w}")
    n = len(ratios)
    with locked(out), _SigInt():
        parallel = DEFAULT_PARALLEL if args.parallel is None else args.parallel
        how = f"on Dask ({args.dask})" if args.dask else "in parallel" if parallel and n > 1 else "one after the other"
        print(f"sopt: comparing {n} reserve ratios {how} for {sc.name}: "
              f"{', '.join(ratio_text(r) for r in ratios)}", flush=True)
        if sc.rush is None:
            print("  the scenario describes no rush-order stream (rush_orders:): planned figures only")

        def progress(ev) -> None:  # noqa: ANN001 - sopt.compare.SweepEvent
            bar = "#" * ev.done + "." * (ev.total - ev.done)
            what = f"solved    {ev.status:<9}" + ("" if ev.gap is None else f" gap {ev.gap:6.1%}") \
                + (" (warm start)" if ev.warm_started else "") if ev.kind == "solved" else \
                "simulated " + ("no rush figures" if ev.fill_rate is None else f"fill rate {ev.fill_rate:6.1%}")
            print(f"  [{bar}] {ev.done}/{ev.total}  r={ratio_text(ev.ratio):<6}  {what:<38} {ev.elapsed:7.1f}s",
                  file=sys.stderr, flush=True)

        result = sweep(sc, ratios, time_limit=args.time_limit, workers=args.workers, seed=args.seed,
                       weeks=args.weeks, sim_seed=args.sim_seed, target_fill=args.target_fill,
                       parallel=args.parallel, deterministic=args.deterministic, dask_address=args.dask,
                       on_progress=progress)
        with_plan = [run for run in result.runs if run.plan is not None]
        if not with_plan:
            if result.interrupted:
                print(f"sopt: interrupted before a first plan; nothing written, {out} kept as it was.")
                return EXIT_INTERRUPTED
            print(f"sopt: no ratio found a plan within {result.settings['time_limit']} s; "
                  f"nothing written, {out} kept as it was.")
            print("  try: a longer --time-limit, more --workers, or smaller ratios")
            return EXIT_NO
        for run in with_plan:
            violations = _self_check(run.result)
            if violations:
                raise RuntimeError(f"the plan at r = {run.ratio} breaks rules:\n" + "\n".join(violations))
        print("sopt: writing the comparison folder ...", flush=True)
        write_sweep(out, result, full=args.full)
    _compare_summary(result, out)
    if result.interrupted:
        skipped = f"; not run: {', '.join(ratio_text(r) for r in result.not_run)}" if result.not_run else ""
        print(f"sopt: interrupted — the ratios done so far were written to {out}/{skipped}")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _compare_summary(result, out: Path) -> None:  # noqa: ANN001 - sopt.compare.SweepResult
    from sopt.compare import ratio_text

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:.1%}"

    print()
    print(f"{'ratio':>6} {'status':<9} {'gap':>6} {'objective':>12} {'A':>6} {'B':>6} {'C':>6} {'unmet':>6} "
          f"{'util':>5} {'rush fill (95 % interval)':>26} {'lead h':>6} {'p90 h':>6} {'unused':>7}  demand")
    for r in result.rows:
        ci = "" if r["rush_fill_rate_ci_low"] is None else \
            f" ({r['rush_fill_rate_ci_low']:.1%}-{r['rush_fill_rate_ci_high']:.1%})"
        fill = "-" if r["rush_fill_rate"] is None else f"{r['rush_fill_rate']:.1%}{ci}"
        num = (lambda v, f: "-" if v is None else format(v, f))  # noqa: E731
        met = "-" if r["planned_demand_met"] is None else ("met" if r["planned_demand_met"] else "UNMET")
        print(f"{ratio_text(r['reserve_ratio']):>6} {r['status']:<9} {pct(r['gap']):>6} "
              f"{num(r['objective'], ',.0f'):>12} {pct(r['service_level_A']):>6} {pct(r['service_level_B']):>6} "
              f"{pct(r['service_level_C']):>6} {num(r['unmet_units'], 'd'):>6} {pct(r['utilization']):>5} "
              f"{fill:>26} {num(r['mean_quoted_lead_hours'], '.1f'):>6} {num(r['p90_quoted_lead_hours'], '.1f'):>6} "
              f"{num(r['unused_protected_minutes'], '.0f'):>7}  {met}")
    s = result.settings
    print(f"\n{result.mode}: {s['workers']} CP-SAT workers per solve, {s['time_limit']} s per ratio, "
          f"seed {s['seed']}" + (f"; {result.weeks} simulated weeks, seed {result.sim_seed}" if result.has_stream else "")
          + f"; {result.seconds:.1f} s in all")
    print(f"recommendation: {result.recommendation.reasoning}")
    print(f"written    {out}/ (comparison.csv, comparison.png, recommendation.json, "
          f"{sum(1 for run in result.runs if run.plan is not None)} plan folders)")


# ----------------------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace) -> int:
    """`sopt check SCENARIO PLAN`."""
    from sopt.checker import check_plan, format_report
    from sopt.scenario import load_scenario

    sc = load_scenario(args.scenario)
    if not args.plan.is_dir():
        raise InputError([f"{args.plan}: not a plan folder"])
    violations = check_plan(sc, args.plan)
    print(format_report(violations))
    return EXIT_NO if violations else EXIT_OK


# ----------------------------------------------------------------------------- export


def cmd_export(args: argparse.Namespace) -> int:
    """`sopt export PLAN --format csv|xlsx|json [--force]`."""
    from sopt.export import export

    written = export(args.plan, args.format, force=args.force)
    print(f"sopt: rewrote {len(written)} files in {args.plan}: {', '.join(written)}")
    return EXIT_OK


# ----------------------------------------------------------------------------- generate


def cmd_generate(args: argparse.Namespace) -> int:
    """`sopt generate --products N --lines L --materials M --seed S -o FILE`."""
    from sopt.generate import generate_week, write_week

    if args.materials < 0:
        raise UsageError("sopt: --materials must be 0 or more")
    t0 = time.perf_counter()
    data = generate_week(args.products, args.lines, args.materials, args.seed, load=args.load)
    write_week(data, args.out)
    print(f"sopt: wrote {args.out} ({args.products} products, {args.lines} lines, {args.materials} materials, "
          f"seed {args.seed}, load {args.load}) in {time.perf_counter() - t0:.1f} s")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
