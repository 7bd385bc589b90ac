"""The property suite's weeks and checks, shared by tests/test_properties.py and
`benchmarks/soak.py properties`.

`shape_for(seed)` draws a week shape from a seed: 3-30 products, 1-4 lines, 0-4 materials,
1-14 days, load 0.4-1.6, reserve ratio 0-0.9, closed days (whole plant or one line), short
materials and an explicit class mix (all A, all B, all C, mixes, partly ranked, or ranked
by sopt). The class mix cycles with the seed, so that any run of `len(CLASS_MIXES)`
consecutive seeds has every mix. `run_shape(shape, folder, time_limit)` writes the week,
loads it (a week that does not load is a generator bug, reported as such), solves it with
one worker, seed 0 and a deterministic time limit, and returns the problems `check_result`
finds: the plan checker's violations, a status without a plan, an objective that is not
the sum of its terms, a bound above the objective and unmet demand without its row in
`unmet`.

The search's own bound is a bound on the planning model's cost, which reserves the longest
changeover for every run; the sequencing stage may then need less (the line is still set
up from the previous shift), so the written plan can cost less than that bound, and
`solve()` clips the reported bound to the plan's objective. The suite counts such weeks
(`below_model_bound`) but does not fail them.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sopt.checker import check_tables
from sopt.generate import generate_week, write_week
from sopt.model import Result, Status, solve
from sopt.model.solver import Progress
from sopt.scenario import Scenario, load_scenario

# explicit class mixes (letters of generate_week's `classes`); None: sopt ranks every product
CLASS_MIXES: tuple[str | None, ...] = (None, "A", "B", "C", "AB", "AC", "BC", "ABC", "CBA", "A-", "-C", "B-C")
LOADS = (0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6)
DAYS = (1, 2, 3, 5, 7, 7, 7, 10, 14)
REASONS = {"material", "calendar", "protected_share", "capacity", "lot_rules", "priority", "other"}
TIME_LIMIT = 0.1  # deterministic seconds per solve (one worker)


@dataclass(frozen=True)
class Shape:
    """What a generated week looks like (the arguments of `generate_week`, and the reserve)."""

    seed: int
    products: int
    lines: int
    materials: int
    days: int
    load: float
    reserve: Decimal
    classes: str | None
    closed: tuple[tuple[int, str | None], ...] = ()
    short_materials: int = 0

    def week(self) -> dict:
        """The week as YAML-able data."""
        data = generate_week(self.products, self.lines, self.materials, self.seed, load=self.load,
                             days=self.days, classes=self.classes, closed=self.closed,
                             short_materials=self.short_materials)
        data["policy"]["reserve_ratio"] = float(self.reserve)
        data["name"] += f"-shape{self.seed}"
        return data

    def tags(self) -> list[str]:
        """The shape's features, for the tally of a run."""
        out = ["tight" if self.load >= 1.2 else "loose" if self.load <= 0.6 else "medium"]
        out.append(f"classes {self.classes or 'ranked'}")
        if any(lid is None for _, lid in self.closed):
            out.append("plant closed days")
        if any(lid is not None for _, lid in self.closed):
            out.append("line closed days")
        if self.short_materials:
            out.append("short materials")
        if self.materials == 0:
            out.append("no materials")
        out.append("reserve 0" if self.reserve == 0 else "reserve >= 0.5" if self.reserve >= Decimal("0.5")
                   else "reserve 0.05-0.45")
        out.append("1 day" if self.days == 1 else "8-14 days" if self.days > 7 else "2-7 days")
        out.append(f"{self.lines} line{'s' if self.lines > 1 else ''}")
        return out

    def __str__(self) -> str:
        return (f"seed {self.seed}: {self.products} products, {self.lines} lines, {self.materials} materials"
                f" ({self.short_materials} short), {self.days} days, load {self.load}, reserve {self.reserve},"
                f" classes {self.classes or 'ranked'}, closed {list(self.closed) or 'none'}")


def shape_for(seed: int) -> Shape:
    """A week shape drawn from `seed` (the same seed always gives the same shape)."""
    rng = random.Random(f"shape:{seed}")
    products = rng.randint(3, 30)
    lines = rng.randint(1, 4)
    materials = rng.choice((0, 0, 1, 2, 3, 4))
    days = rng.choice(DAYS)
    load = rng.choice(LOADS)
    # reserve 0, 0.05, ..., 0.9; mostly within the policy range (up to 0.4)
    reserve = Decimal(rng.randrange(0, 41, 5) if rng.random() < 0.7 else rng.randrange(45, 91, 5)) / 100
    closed: list[tuple[int, str | None]] = []
    if rng.random() < 0.45:
        for _ in range(rng.randint(1, 3)):
            who = None if rng.random() < 0.4 else f"L{rng.randint(1, lines):02d}"
            closed.append((rng.randrange(days), who))
    short = rng.randint(1, materials) if materials and rng.random() < 0.5 else 0
    mix = CLASS_MIXES[seed % len(CLASS_MIXES)]
    return Shape(seed, products, lines, materials, days, load, reserve, mix, tuple(sorted(set(closed),
                 key=lambda c: (c[0], c[1] or ""))), short)


def check_result(sc: Scenario, r: Result) -> list[str]:
    """Everything wrong with a solve's result (empty when it holds every property); the plan
    checker's violations start with ``checker:``."""
    if r.status not in (Status.OPTIMAL, Status.FEASIBLE) or r.plan is None:
        return [f"status {r.status.value} ({r.solver_status}) without a plan"]
    plan = r.plan
    out = [f"checker: {v}" for v in check_tables(sc, plan.schedule_rows(), plan.capacity, plan.production)]
    assert r.objective is not None
    if r.gap is None or r.gap < 0:
        out.append(f"gap {r.gap}")
    if r.best_bound is None or r.best_bound > r.objective + 1e-6:
        out.append(f"bound {r.best_bound} above the objective {r.objective}")
    terms = sum(plan.objective_terms.values())
    if abs(terms - r.objective) > 1e-6:
        out.append(f"objective {r.objective} is not the sum of its terms {terms}")
    # every unmet unit is explained: one unmet row per product and date, with the quantity
    explained = {(u["product"], u["date"]): u for u in plan.unmet}
    for row in plan.production:
        if row["unmet"] <= 0 or row["_step"]:
            continue
        u = explained.get((row["product"], row["date"]))
        if u is None or u["quantity"] != row["unmet"] or u["reason"] not in REASONS:
            out.append(f"unmet {row['unmet']} of {row['product']} on {row['date']} is explained as {u}")
    last = sc.dates[-1].isoformat()
    short = {row["product"] for row in plan.production if row["date"] == last and row["backlog_end"] > 0
             and not row["_step"]}
    missing = short - {u["product"] for u in plan.unmet}
    if missing:
        out.append(f"backlog at the week's end without an unmet row: {sorted(missing)}")
    return out


@dataclass
class Outcome:
    """One week of the suite: its shape, how the solve ended and what was wrong."""

    shape: Shape
    status: str
    problems: list[str]
    seconds: float
    search_improved: bool = False  # the search found a better plan than the constructive start
    below_model_bound: bool = False  # the plan costs less than the model's bound (see the docstring)
    unmet_units: int = 0


def run_shape(shape: Shape, folder: Path, time_limit: float = TIME_LIMIT) -> Outcome:
    """Write, load, solve (1 worker, seed 0, deterministic `time_limit`) and check one week."""
    t0 = time.perf_counter()
    path = folder / f"shape{shape.seed}.yaml"
    write_week(shape.week(), path)
    try:
        sc = load_scenario(path)
    except Exception as e:  # noqa: BLE001 - a week that does not load is a generator bug
        return Outcome(shape, "LOAD_ERROR", [f"does not load: {e}"], time.perf_counter() - t0)
    events: list[Progress] = []
    r = solve(sc, time_limit=time_limit, workers=1, seed=0, deterministic=True, on_progress=events.append)
    bounds = [e.bound for e in events if e.bound is not None and e.stage == "plan"]
    objectives = [e.objective for e in events if e.objective is not None]
    problems = check_result(sc, r)
    improved = bool(objectives) and r.objective is not None and r.objective < objectives[0] - 1e-9
    below = bool(bounds) and r.objective is not None and max(bounds) > r.objective + 1e-6
    unmet = r.plan.unmet_units() if r.plan is not None else 0
    path.unlink()
    return Outcome(shape, r.status.value, problems, time.perf_counter() - t0, improved, below, unmet)


@dataclass
class Tally:
    """Counts of a run of the suite."""

    weeks: int = 0
    statuses: Counter = field(default_factory=Counter)
    tags: Counter = field(default_factory=Counter)
    failed: list[Outcome] = field(default_factory=list)
    problems: int = 0
    violations: int = 0  # of the problems, the plan checker's
    search_improved: int = 0
    below_model_bound: int = 0
    with_unmet: int = 0
    seconds: float = 0.0

    def add(self, o: Outcome) -> None:
        """Count one week."""
        self.weeks += 1
        self.statuses[o.status] += 1
        self.tags.update(o.shape.tags())
        self.problems += len(o.problems)
        self.violations += sum(p.startswith("checker:") for p in o.problems)
        self.search_improved += o.search_improved
        self.below_model_bound += o.below_model_bound
        self.with_unmet += o.unmet_units > 0
        self.seconds += o.seconds
        if o.problems:
            self.failed.append(o)

    def summary(self) -> str:
        """One line: weeks, statuses, problems."""
        st = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        return (f"{self.weeks} generated weeks solved and checked ({st}); {self.problems} problems "
                f"({self.violations} checker violations) in {len(self.failed)} weeks; the search improved "
                f"the start plan in {self.search_improved}; {self.with_unmet} with unmet demand")
