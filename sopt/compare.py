"""What-if sweep of the protected-capacity ratio (R9-R11): plan, simulate rush orders, recommend.

`sweep(scenario, ratios, ...)` solves the week once per reserve ratio, simulates many
seeded weeks of the scenario's rush-order stream against each plan (`sopt.rush.simulate`)
and recommends the smallest ratio whose mean rush fill rate reaches a target, with a 95 %
interval (standard error of the per-week fill rates) that says how sure it is.

How the ratios are run
----------------------
- sequential (one process): the ratios in ascending order, each solve with all CP-SAT
  workers, hinted with the previous (smaller) ratio's plan; `solve()` re-lays that plan in
  the new week and keeps it as a fallback only when the solver-free checker finds nothing
  (a smaller ratio's plan usually uses more than `W − P` of the new ratio).
- parallel: the ratios concurrently in worker processes (`ProcessPoolExecutor`, spawned),
  `workers // n_processes` CP-SAT workers each, no warm starts.
- Dask: the per-ratio work (solve + simulate) is submitted to a Dask cluster (`"local"`:
  an in-process `distributed.LocalCluster(processes=False)`; else a scheduler address), no
  warm starts.
With `deterministic=True` warm starts are off in every mode, so that a deterministic sweep
(one CP-SAT worker, the same seeds) gives the same table whichever way it runs.

Statistics
----------
`rush_fill_rate` is the mean over the simulated weeks of each week's fill rate (on-time
rush orders ÷ rush orders, 1.0 for a week without any), its standard error `s / √n` over
the n weeks, and the 95 % interval `mean ± 1.96·SE`, clipped to [0, 1].
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import io
import json
import logging
import math
import multiprocessing as mp
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sopt.errors import InputError
from sopt.model.solver import STOPPER, Result, Status, request_stop, solve
from sopt.plan import Plan
from sopt.rush import RushStream, Simulation, simulate, stream_for
from sopt.scenario import Scenario

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
Z95 = 1.959964  # two-sided 95 % normal quantile
MAX_RATIOS = 200

# Measured with benchmarks/sweep.py on the demo week (x86_64, 2 cores; 4 ratios × 200 simulated
# weeks, 10 s per solve, 8 workers): sequential (8 workers per solve, warm starts where the
# previous plan fits — none did) 43.0 s wall; parallel (2 processes × 4 workers) 25.2 s, with
# the same mean objective within 0.3 %. Each solve runs to its time limit, so two ratios at a
# time halve the wall time; ratios in parallel processes are the default.
DEFAULT_PARALLEL = True

COLUMNS = [
    "reserve_ratio", "status", "gap", "objective", "service_level_A", "service_level_B", "service_level_C",
    "unmet_units", "min_stock_shortfall_units", "planned_minutes", "protected_minutes", "utilization",
    "rush_orders", "rush_fill_rate", "rush_fill_rate_ci_low", "rush_fill_rate_ci_high",
    "mean_quoted_lead_hours", "p90_quoted_lead_hours", "unused_protected_minutes", "planned_demand_met",
]
RUSH_COLUMNS = COLUMNS[12:19]


# ----------------------------------------------------------------------------- ratios


def parse_ratios(values: Iterable[str]) -> list[Decimal]:
    """Reserve ratios from the command line: `0.1 0.2` and ranges `0.1:0.4:0.05` (inclusive).

    Exact decimals, each 0 ≤ r < 1 with at most 4 decimals; duplicates dropped, sorted.
    Raises InputError with one `--reserve: ...` line for the first bad value.
    """
    found: set[Decimal] = set()
    tokens = [t for v in values for t in v.replace(",", " ").split()]
    if not tokens:
        raise InputError(["--reserve: give at least one ratio, e.g. --reserve 0.1 0.2 0.3 0.4"])
    for tok in tokens:
        if ":" in tok:
            parts = tok.split(":")
            if len(parts) != 3:
                raise InputError([f"--reserve: '{tok}' is not a range START:STOP:STEP (e.g. 0.1:0.4:0.05)"])
            start, stop, step = (_decimal(p, tok) for p in parts)
            if step <= 0:
                raise InputError([f"--reserve: '{tok}': the step must be positive"])
            if stop < start:
                raise InputError([f"--reserve: '{tok}': STOP is below START"])
            if (stop - start) / step > MAX_RATIOS:
                raise InputError([f"--reserve: '{tok}' gives more than {MAX_RATIOS} ratios"])
            _check_ratio(step if step < 1 else Decimal(0), tok)  # a step with more than 4 decimals
            r = start
            while r <= stop:
                _check_ratio(r, tok)
                found.add(r.normalize())
                r += step
        else:
            r = _decimal(tok, tok)
            _check_ratio(r, tok)
            found.add(r.normalize())
    if len(found) > MAX_RATIOS:
        raise InputError([f"--reserve: more than {MAX_RATIOS} ratios"])
    return sorted(found)


def _decimal(text: str, tok: str) -> Decimal:
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise InputError([f"--reserve: '{tok}' is not a number"]) from None
    if not d.is_finite():
        raise InputError([f"--reserve: '{tok}' is not a number"])
    return d


def _check_ratio(r: Decimal, tok: str) -> None:
    if not (Decimal(0) <= r < Decimal(1)):
        raise InputError([f"--reserve: {tok} is outside 0 <= r < 1"])
    exp = r.normalize().as_tuple().exponent
    if isinstance(exp, int) and exp < -4:
        raise InputError([f"--reserve: {tok} has more than 4 decimals"])


def ratio_text(r: Decimal) -> str:
    """A ratio with at least two decimals: 0.10, 0.125, 0.00."""
    r = r.normalize()
    exp = r.as_tuple().exponent
    return str(r.quantize(Decimal("0.01"))) if isinstance(exp, int) and exp >= -2 else str(r)


# ----------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class FillStats:
    """Mean of the per-week fill rates with its standard error and 95 % interval."""

    mean: float
    se: float | None
    low: float | None
    high: float | None


def fill_stats(rates: list[float]) -> FillStats:
    """Mean, standard error `s/√n` and 95 % interval (clipped to [0, 1]) of per-week fill rates."""
    if not rates:
        return FillStats(1.0, None, None, None)
    mean = statistics.fmean(rates)
    if len(rates) < 2:
        return FillStats(mean, None, None, None)
    se = statistics.stdev(rates) / math.sqrt(len(rates))
    return FillStats(mean, se, max(0.0, mean - Z95 * se), min(1.0, mean + Z95 * se))


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


# ----------------------------------------------------------------------------- one ratio


@dataclass
class RatioRun:
    """The outcome of one ratio: the solve, the rush simulation (None without a stream)."""

    ratio: Decimal
    result: Result
    simulation: Simulation | None
    warm_started: bool = False
    solve_seconds: float = 0.0
    simulate_seconds: float = 0.0

    @property
    def plan(self) -> Plan | None:
        """The ratio's plan, or None."""
        return self.result.plan


def _solve_ratio(scenario: Scenario, ratio: Decimal, time_limit: float | None, workers: int | None,
                 seed: int | None, deterministic: bool, warm_start: Plan | None = None) -> RatioRun:
    """Solve one ratio, hinted with the neighbouring ratio's plan (`solve()` re-lays it in this
    week and keeps it as a fallback only when it passes the checker here)."""
    from sopt.week import prepare

    week = prepare(scenario.with_reserve(ratio))
    t0 = time.perf_counter()
    result = solve(week, time_limit=time_limit, workers=workers, seed=seed, warm_start=warm_start,
                   deterministic=deterministic)
    return RatioRun(ratio, result, None, warm_start is not None, round(time.perf_counter() - t0, 3))


def _simulate_run(run: RatioRun, stream: RushStream | None, weeks: int, sim_seed: int) -> RatioRun:
    """Simulate the rush stream against the ratio's plan (nothing without a plan or a stream)."""
    if run.plan is not None and stream is not None:
        t0 = time.perf_counter()
        run.simulation = simulate(run.plan, stream, weeks, sim_seed)
        run.simulate_seconds = round(time.perf_counter() - t0, 3)
    return run


def _run_ratio(scenario: Scenario, ratio: Decimal, time_limit: float | None, workers: int | None,
               seed: int | None, deterministic: bool, stream: RushStream | None, weeks: int,
               sim_seed: int) -> RatioRun:
    """The whole per-ratio work of the parallel and Dask modes: solve (no warm start), simulate."""
    run = _solve_ratio(scenario, ratio, time_limit, workers, seed, deterministic)
    return _simulate_run(run, stream, weeks, sim_seed)


def _child_init(stop: Any) -> None:
    """Worker processes ignore Ctrl-C; the parent's stop event stops their searches."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        stop.wait()
        while True:  # keep stopping: a solve that starts later resets the solver's flag
            request_stop()
            time.sleep(0.1)

    threading.Thread(target=watch, name="sopt-stop", daemon=True).start()


# ----------------------------------------------------------------------------- the sweep


@dataclass(frozen=True)
class SweepEvent:
    """Progress of a sweep: a ratio was solved or simulated."""

    kind: str  # "solved" | "simulated"
    ratio: Decimal
    done: int  # ratios finished (solved and simulated) so far
    total: int
    elapsed: float  # seconds since the sweep started
    status: str
    gap: float | None = None
    fill_rate: float | None = None
    warm_started: bool = False


@dataclass(frozen=True)
class Recommendation:
    """The smallest ratio reaching the target fill rate (or None) and how sure that is."""

    target: float
    ratio: Decimal | None
    fill_rate: float | None
    ci_low: float | None
    ci_high: float | None
    clears_target: bool | None  # the whole 95 % interval is at or above the target
    reasoning: str


@dataclass
class SweepResult:
    """The comparison: one row and one run per ratio attempted, and the recommendation."""

    scenario: Scenario
    ratios: list[Decimal]
    runs: list[RatioRun]
    rows: list[dict[str, Any]]
    recommendation: Recommendation
    target_fill: float
    weeks: int
    sim_seed: int
    has_stream: bool
    mode: str  # "sequential" | "parallel" | "dask"
    settings: dict[str, Any] = field(default_factory=dict)
    not_run: list[Decimal] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    def frame(self) -> Any:
        """The comparison table as a pandas DataFrame."""
        import pandas as pd

        df = pd.DataFrame([{c: r[c] for c in COLUMNS} for r in self.rows], columns=COLUMNS)
        df["reserve_ratio"] = [ratio_text(r) for r in df["reserve_ratio"]]
        return df


def sweep(
    scenario: Scenario,
    ratios: list[Decimal],
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    weeks: int | None = None,
    sim_seed: int | None = None,
    target_fill: float = 0.95,
    parallel: bool | None = None,
    deterministic: bool = False,
    dask_address: str | None = None,
    on_progress: Callable[[SweepEvent], None] | None = None,
) -> SweepResult:
    """Solve the week once per reserve ratio, simulate its rush orders, recommend a ratio.

    `parallel=None` picks the measured faster default (DEFAULT_PARALLEL). `dask_address`
    ("local" or a scheduler address) runs the per-ratio work on Dask instead. `weeks` and
    `sim_seed` default to the scenario's `rush_orders.weeks` / `seed` (200 / 0).
    Ctrl-C (the solver's stop request) stops the current solves; the ratios done are kept.
    """
    ratios = sorted({Decimal(r) for r in ratios})
    if not ratios:
        raise InputError(["--reserve: give at least one ratio"])
    stream = stream_for(scenario)
    weeks = weeks if weeks is not None else (scenario.rush.weeks if scenario.rush else 200)
    sim_seed = sim_seed if sim_seed is not None else (scenario.rush.seed if scenario.rush else 0)
    workers = scenario.workers if workers is None else workers
    parallel = DEFAULT_PARALLEL if parallel is None else parallel
    n_cpu = os.cpu_count() or 1
    t0 = time.perf_counter()
    runs: dict[Decimal, RatioRun] = {}
    done = 0

    def solved(run: RatioRun) -> None:
        if on_progress is not None:
            res = run.result
            on_progress(SweepEvent("solved", run.ratio, done, len(ratios), time.perf_counter() - t0,
                                   res.status.value, res.gap, None, run.warm_started))

    def finished(run: RatioRun, announce_solved: bool = True) -> None:
        nonlocal done
        if announce_solved:
            solved(run)
        runs[run.ratio] = run
        done += 1
        if on_progress is not None:
            res = run.result
            fill = fill_stats(run.simulation.fill_rates).mean if run.simulation else None
            on_progress(SweepEvent("simulated", run.ratio, done, len(ratios), time.perf_counter() - t0,
                                   res.status.value, res.gap, fill, run.warm_started))

    common = (time_limit, workers, seed, deterministic, stream, weeks, sim_seed)
    interrupted = False
    if dask_address is not None:
        mode = "dask"
        interrupted = _dask_runs(dask_address, scenario, ratios, common, finished)
    elif parallel and len(ratios) > 1 and n_cpu > 1:
        mode = "parallel"
        interrupted = _process_runs(scenario, ratios, common, n_cpu, finished)
    else:
        mode = "sequential"
        previous: Plan | None = None
        for i, r in enumerate(ratios):
            if i and STOPPER.requested:
                interrupted = True
                break
            run = _solve_ratio(scenario, r, time_limit, workers, seed, deterministic,
                               None if deterministic else previous)
            solved(run)
            finished(_simulate_run(run, stream, weeks, sim_seed), announce_solved=False)
            previous = run.plan or previous
            if run.result.interrupted:
                interrupted = True
                break
    ordered = [runs[r] for r in ratios if r in runs]
    rows = [ratio_row(run) for run in ordered]
    rec = recommend(rows, target_fill, weeks=weeks if stream is not None else None)
    n_par = min(len(ratios), n_cpu)
    settings = {"time_limit": scenario.time_limit if time_limit is None else time_limit,
                "workers": workers if mode == "sequential" else max(1, workers // n_par) if mode == "parallel"
                else workers,
                "seed": scenario.seed if seed is None else seed, "deterministic": deterministic,
                "weeks": weeks, "sim_seed": sim_seed, "mode": mode}
    return SweepResult(scenario, ratios, ordered, rows, rec, target_fill, weeks, sim_seed, stream is not None,
                       mode, settings, [r for r in ratios if r not in runs],
                       interrupted or any(run.result.interrupted for run in ordered),
                       round(time.perf_counter() - t0, 3))


def _process_runs(scenario: Scenario, ratios: list[Decimal], common: tuple[Any, ...], n_cpu: int,
                  finished: Callable[[RatioRun], None]) -> bool:
    """Ratios concurrently in spawned processes; returns whether Ctrl-C stopped the sweep."""
    time_limit, workers, seed, deterministic, stream, weeks, sim_seed = common
    n_par = min(len(ratios), n_cpu)
    per = max(1, workers // n_par)
    ctx = mp.get_context("spawn")  # never fork a process that already runs CP-SAT threads
    stop = ctx.Event()
    interrupted = False
    with cf.ProcessPoolExecutor(n_par, mp_context=ctx, initializer=_child_init, initargs=(stop,)) as pool:
        futures = {pool.submit(_run_ratio, scenario, r, time_limit, per, seed, deterministic, stream, weeks,
                               sim_seed): r for r in ratios}
        pending = set(futures)
        while pending:
            ready, pending = cf.wait(pending, timeout=0.1)
            for f in sorted(ready, key=lambda f: futures[f]):
                if not f.cancelled():
                    finished(f.result())
            if STOPPER.requested and not interrupted:
                interrupted = True
                stop.set()
                for f in pending:
                    f.cancel()
        return interrupted


def _dask_runs(address: str, scenario: Scenario, ratios: list[Decimal], common: tuple[Any, ...],
               finished: Callable[[RatioRun], None]) -> bool:
    """The per-ratio work (solve + simulate) on a Dask cluster; returns whether Ctrl-C stopped it."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError(["--dask: Dask is not installed: pip install 'sopt[dask]'"]) from None
    time_limit, workers, seed, deterministic, stream, weeks, sim_seed = common
    cluster = None
    if address == "local":
        n = min(len(ratios), os.cpu_count() or 1)
        cluster = LocalCluster(processes=False, n_workers=1, threads_per_worker=n, dashboard_address=None)
        client = Client(cluster)
        per = max(1, workers // n)
    else:
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError([f"--dask: cannot reach the Dask scheduler at {address} ({e})"]) from None
        per = workers
    interrupted = False
    try:
        sc = client.scatter(scenario, broadcast=True, hash=False)
        tag = f"{os.getpid()}-{time.time_ns()}"
        futures = {client.submit(_run_ratio, sc, r, time_limit, per, seed, deterministic, stream, weeks, sim_seed,
                                 pure=False, key=f"sopt-ratio-{ratio_text(r)}-{tag}"): r for r in ratios}
        pending = dict(futures)
        while pending:
            for f in sorted((f for f in pending if f.done()), key=lambda f: pending[f]):
                del pending[f]
                if f.status == "finished":
                    finished(f.result())
                elif f.status == "error":
                    f.result()  # re-raises the task's error here
            if STOPPER.requested and not interrupted:
                interrupted = True
                request_stop()  # in-process workers: their searches stop and keep their best plans
                for f in pending:
                    if f.status == "pending":
                        f.cancel()
            time.sleep(0.05)
        return interrupted
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ----------------------------------------------------------------------------- rows


def ratio_row(run: RatioRun) -> dict[str, Any]:
    """The comparison.csv row of one ratio (empty numbers for a ratio with no plan)."""
    res = run.result
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row["reserve_ratio"] = run.ratio
    row["status"] = res.status.value
    plan = res.plan
    if plan is None:
        return row
    sl = plan.service_level()
    planned = sum(c["planned_minutes"] for c in plan.capacity)
    available = sum(c["available_minutes"] for c in plan.capacity)
    unmet = plan.unmet_units()
    row.update({
        "gap": res.gap, "objective": res.objective,
        "service_level_A": sl["A"], "service_level_B": sl["B"], "service_level_C": sl["C"],
        "unmet_units": unmet, "min_stock_shortfall_units": plan.min_stock_shortfall_units(),
        "planned_minutes": planned, "protected_minutes": sum(c["protected_minutes"] for c in plan.capacity),
        "utilization": round(planned / available, 4) if available else 0.0,
        "planned_demand_met": unmet == 0,
    })
    sim = run.simulation
    if sim is not None:
        st = fill_stats(sim.fill_rates)
        lead = sim.quoted_lead_hours
        row.update({
            "rush_orders": sim.orders, "rush_fill_rate": round(st.mean, 6),
            "rush_fill_rate_ci_low": None if st.low is None else round(st.low, 6),
            "rush_fill_rate_ci_high": None if st.high is None else round(st.high, 6),
            "mean_quoted_lead_hours": round(statistics.fmean(lead), 3) if lead else None,
            "p90_quoted_lead_hours": None if not lead else round(_p90(lead) or 0.0, 3),
            "unused_protected_minutes": round(statistics.fmean(sim.unused_protected_minutes), 1)
            if sim.unused_protected_minutes else None,
        })
    return row


def _has_plan(row: dict[str, Any]) -> bool:
    return row.get("status") in (Status.OPTIMAL.value, Status.FEASIBLE.value)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _interval(row: dict[str, Any]) -> str:
    lo, hi = row.get("rush_fill_rate_ci_low"), row.get("rush_fill_rate_ci_high")
    if lo is None or hi is None:
        return "interval unknown"
    return f"95 % interval {100 * lo:.1f}–{100 * hi:.1f} %"


def recommend(rows: list[dict[str, Any]], target_fill: float = 0.95, *, weeks: int | None = None) -> Recommendation:
    """The smallest ratio whose mean rush fill rate reaches `target_fill`, and how sure that is.

    Rows are comparison rows (`reserve_ratio`, `status`, `rush_fill_rate`,
    `rush_fill_rate_ci_low/high`, `planned_demand_met`, `unmet_units`). Ratios without a
    plan or without rush figures are never recommended. The recommendation is sure when
    the whole 95 % interval is at or above the target; otherwise the sentence names the
    next ratio whose interval clears it, when there is one.
    """
    target = float(target_fill)
    tgt = f"{100 * target:.1f} %"
    cands = sorted((r for r in rows if _has_plan(r) and r.get("rush_fill_rate") is not None),
                   key=lambda r: Decimal(r["reserve_ratio"]))
    if not cands:
        if any(_has_plan(r) for r in rows):
            why = ("The scenario describes no rush-order stream (rush_orders:), so no ratio is recommended "
                   "by fill rate; compare planned service and cost in the table.")
        else:
            why = "No ratio found a plan, so none can be recommended."
        return Recommendation(target, None, None, None, None, None, why)
    over = f" over {weeks} simulated weeks" if weeks else ""
    hit = next((r for r in cands if r["rush_fill_rate"] >= target), None)
    if hit is None:
        best = max(cands, key=lambda r: (r["rush_fill_rate"], -Decimal(r["reserve_ratio"])))
        why = (f"No ratio reaches the target rush fill rate {tgt}: the best is r = {ratio_text(Decimal(best['reserve_ratio']))} "
               f"with {_pct(best['rush_fill_rate'])} ({_interval(best)}{over}).")
        return Recommendation(target, None, None, None, None, None, why)
    r = Decimal(hit["reserve_ratio"])
    lo, hi = hit.get("rush_fill_rate_ci_low"), hit.get("rush_fill_rate_ci_high")
    clears = lo is not None and lo >= target
    why = (f"Protect r = {ratio_text(r)}: the smallest ratio whose mean rush fill rate reaches the target {tgt} "
           f"({_pct(hit['rush_fill_rate'])}, {_interval(hit)}{over})")
    below = [c for c in cands if Decimal(c["reserve_ratio"]) < r]
    if below:
        b = below[-1]
        why += f"; r = {ratio_text(Decimal(b['reserve_ratio']))} reaches {_pct(b['rush_fill_rate'])}"
    if clears:
        why += "; the whole interval clears the target."
    else:
        safer = next((c for c in cands if Decimal(c["reserve_ratio"]) > r
                      and c.get("rush_fill_rate_ci_low") is not None and c["rush_fill_rate_ci_low"] >= target), None)
        why += "; the interval reaches below the target, so this is not certain"
        why += (f": r = {ratio_text(Decimal(safer['reserve_ratio']))} clears it ({_interval(safer)})."
                if safer else ": simulate more weeks (--weeks) to narrow it.")
    if hit.get("planned_demand_met") is False:
        why += f" Note: at this ratio the plan leaves {hit.get('unmet_units')} units of planned demand unmet."
    return Recommendation(target, r, hit["rush_fill_rate"], lo, hi, clears, why)


# ----------------------------------------------------------------------------- picture


def comparison_png(result: SweepResult) -> bytes:
    """The trade-off picture: planned service and cost (top), rush fill rate with its 95 % band (bottom)."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    from sopt.gantt import cjk_font

    rows = [r for r in result.rows if _has_plan(r)]
    xs_all = [float(r["reserve_ratio"]) for r in result.rows]
    cjk = cjk_font()
    families = ["DejaVu Sans"] + ([cjk] if cjk else [])
    font = FontProperties(family=families)
    with matplotlib.rc_context({"font.family": families, "axes.unicode_minus": False}):
        fig = Figure(figsize=(8.0, 6.4), dpi=100)
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1]})
        xs = [float(r["reserve_ratio"]) for r in rows]
        colors = {"A": "#1f77b4", "B": "#2ca02c", "C": "#9467bd"}
        for c, color in colors.items():
            pts = [(x, r[f"service_level_{c}"]) for x, r in zip(xs, rows) if r[f"service_level_{c}"] is not None]
            if pts:
                top.plot([p[0] for p in pts], [100 * p[1] for p in pts], "o-", color=color, label=f"service {c}")
        top.set_ylabel("planned service (%)")
        top.set_ylim(min([95.0] + [100 * r[f"service_level_{c}"] for r in rows for c in "ABC"
                                   if r[f"service_level_{c}"] is not None]) - 2, 101)
        cost = top.twinx()
        if rows:
            cost.plot(xs, [r["objective"] for r in rows], "s--", color="#d62728", label="plan cost")
        cost.set_ylabel("plan cost (objective)", color="#d62728")
        unmet = [(x, r) for x, r in zip(xs, rows) if r["planned_demand_met"] is False]
        if unmet:
            top.plot([x for x, _ in unmet], [100 * (r["service_level_A"] if r["service_level_A"] is not None else 1)
                                              for _, r in unmet], "x", color="black", markersize=10,
                     label="planned demand unmet")
        h1, l1 = top.get_legend_handles_labels()
        h2, l2 = cost.get_legend_handles_labels()
        top.legend(h1 + h2, l1 + l2, loc="lower left", fontsize=8)
        top.grid(alpha=0.3)
        top.set_title(f"{result.scenario.name}: protected capacity trade-off", fontproperties=font)

        rush = [(x, r) for x, r in zip(xs, rows) if r["rush_fill_rate"] is not None]
        if rush:
            rx = [x for x, _ in rush]
            bottom.plot(rx, [100 * r["rush_fill_rate"] for _, r in rush], "o-", color="#ff7f0e",
                        label="rush fill rate (mean of weeks)")
            band = [(x, r) for x, r in rush if r["rush_fill_rate_ci_low"] is not None]
            if band:
                bottom.fill_between([x for x, _ in band], [100 * r["rush_fill_rate_ci_low"] for _, r in band],
                                    [100 * r["rush_fill_rate_ci_high"] for _, r in band], color="#ff7f0e",
                                    alpha=0.25, label="95 % interval")
        else:
            bottom.text(0.5, 0.5, "no rush-order stream in the scenario", transform=bottom.transAxes,
                        ha="center", va="center", color="gray")
        bottom.axhline(100 * result.target_fill, color="gray", linestyle=":",
                       label=f"target {100 * result.target_fill:.0f} %")
        rec = result.recommendation
        for ax in (top, bottom):
            if rec.ratio is not None:
                ax.axvline(float(rec.ratio), color="black", linewidth=1.2, alpha=0.7)
        if rec.ratio is not None:
            bottom.annotate(f"recommended r = {ratio_text(rec.ratio)}", (float(rec.ratio), 2),
                            xytext=(4, 0), textcoords="offset points", fontsize=8)
        for r in result.rows:
            if not _has_plan(r):
                bottom.annotate("no plan", (float(r["reserve_ratio"]), 50), ha="center", fontsize=8, color="red")
        bottom.set_ylim(0, 102)
        bottom.set_ylabel("rush orders on time (%)")
        bottom.set_xlabel("reserve ratio r (share of each shift protected for rush orders)")
        bottom.legend(loc="lower right", fontsize=8)
        bottom.grid(alpha=0.3)
        if xs_all:
            lo, hi = min(xs_all), max(xs_all)
            pad = max(0.01, (hi - lo) * 0.05)
            bottom.set_xlim(lo - pad, hi + pad)
            bottom.set_xticks(xs_all, [ratio_text(Decimal(r["reserve_ratio"])) for r in result.rows])
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


# ----------------------------------------------------------------------------- files


def recommendation_doc(result: SweepResult) -> dict[str, Any]:
    """recommendation.json content."""
    rec = result.recommendation
    per_ratio = []
    for run, row in zip(result.runs, result.rows):
        sim = run.simulation
        per_ratio.append({
            "reserve_ratio": float(run.ratio), "status": row["status"],
            "planned_demand_met": row["planned_demand_met"], "rush_fill_rate": row["rush_fill_rate"],
            "rush_fill_rate_ci": None if row["rush_fill_rate_ci_low"] is None
            else [row["rush_fill_rate_ci_low"], row["rush_fill_rate_ci_high"]],
            "orders_on_time_share": None if sim is None else round(sim.fill_rate, 6),
            "in_calendar_fill_rate": None if sim is None else round(sim.in_calendar_fill_rate, 6),
            "not_placed_by_reason": None if sim is None else dict(sim.reasons),
            "warm_started": run.warm_started, "interrupted": run.result.interrupted,
        })
    doc = {
        "schema_version": SCHEMA_VERSION,
        "scenario": result.scenario.name,
        "target_fill": result.target_fill,
        "recommended_ratio": None if rec.ratio is None else float(rec.ratio),
        "fill_rate": rec.fill_rate,
        "interval": {"level": 0.95, "low": rec.ci_low, "high": rec.ci_high},
        "clears_target": rec.clears_target,
        "reasoning": rec.reasoning,
        "simulated_weeks": result.weeks if result.has_stream else None,
        "sim_seed": result.sim_seed if result.has_stream else None,
        "ratios": per_ratio,
        "not_run": [float(r) for r in result.not_run],
        "interrupted": result.interrupted,
        "solver": {k: v for k, v in result.settings.items() if k not in ("weeks", "sim_seed")},
        "timing": {"seconds": result.seconds,
                   "per_ratio": {ratio_text(run.ratio): {"solve_seconds": run.solve_seconds,
                                                          "simulate_seconds": run.simulate_seconds}
                                 for run in result.runs}},
        "generated_at": dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S"),
    }
    from sopt.output import _clean

    return _clean(doc)


def sweep_files(result: SweepResult, *, full: bool = False) -> dict[str, bytes]:
    """Every file of the compare folder, as bytes.

    Each ratio's plan goes to `r0.10/` etc.; without `full` the slow views (pictures,
    workbook, report) are left out of them.
    """
    from sopt.output import csv_bytes, plan_files

    rows = [{**r, "reserve_ratio": ratio_text(r["reserve_ratio"])} for r in result.rows]
    files = {
        "comparison.csv": csv_bytes(rows, COLUMNS),
        "comparison.png": comparison_png(result),
        "recommendation.json": (json.dumps(recommendation_doc(result), indent=2, ensure_ascii=False,
                                           allow_nan=False) + "\n").encode("utf-8"),
    }
    for run in result.runs:
        if run.plan is None:
            continue
        for name, data in plan_files(run.result, pictures=full, workbook=full, report=full).items():
            files[f"r{ratio_text(run.ratio)}/{name}"] = data
        if run.simulation is not None:  # the simulated rush orders of the first weeks, R11's date beside each
            from sopt.rush import PLACEMENT_COLUMNS

            files[f"r{ratio_text(run.ratio)}/rush_simulation.csv"] = csv_bytes(run.simulation.placement_rows(),
                                                                                PLACEMENT_COLUMNS)
    return files


def write_sweep(out: Path, result: SweepResult, *, full: bool = False) -> None:
    """Write the compare folder OUT, staged and renamed (call inside `sopt.output.locked(out)`)."""
    from sopt.output import write_folder

    write_folder(out, sweep_files(result, full=full))
