"""Sales-plan accuracy (R13) and the ABC class list from history (R2): `sopt accuracy`, `sopt abc`.

Accuracy of a product over the period (docs/outputs.md, "sopt accuracy"):

    accuracy = max(0, 1 - |actual - plan| / plan)      (plan > 0)
    accuracy = 1 if actual == 0 else 0                  (plan == 0)

A class's accuracy is the plan-volume-weighted mean of its products' accuracies,
Σ plan_i · accuracy_i / Σ plan_i (the plan-0 rule applied to the class totals when the class
plans nothing). Bands: `reward` at 70 % or more, `penalty` below 40 %, `neutral` between.
All arithmetic is exact (Fraction); figures are rounded only when written.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from sopt.abc import quotas
from sopt.errors import InputError
from sopt.textfile import read_text, shown

REWARD = Fraction(7, 10)  # R13: 70 % or better is rewarded
PENALTY = Fraction(2, 5)  # R13: below 40 % is penalised
DEFAULT_RATIO = (1, 3, 6)
FOCUS = "A+B"
MAX_PROBLEMS_PER_FILE = 50
MAX_QUANTITY = 10**12  # units per row: far beyond any product's month
MAX_DECIMALS = 12
FORMULA = "accuracy = max(0, 1 - |actual - plan| / plan); plan 0: 1 if actual 0 else 0"

ACCURACY_COLUMNS = ["period", "level", "product", "class", "focus", "products", "plan", "actual",
                    "abs_error", "accuracy", "band"]
ABC_COLUMNS = ["product", "class", "rank", "volume", "share", "cumulative_share"]


# ----------------------------------------------------------------------------- reading CSV files


@dataclass(frozen=True)
class Record:
    """One data row of a product/date/quantity file."""

    line: int
    product: str
    day: dt.date
    quantity: Fraction
    cells: dict[str, str] = field(default_factory=dict)


class _Problems:
    """Problems of one file, at most MAX_PROBLEMS_PER_FILE shown (then a count)."""

    def __init__(self, name: str, sink: list[str]):
        self.name, self.sink, self.hidden = name, sink, 0
        self.shown = 0

    def add(self, where: str, message: str) -> None:
        if self.shown < MAX_PROBLEMS_PER_FILE:
            self.sink.append(f"{self.name}: {where}: {message}")
            self.shown += 1
        else:
            self.hidden += 1

    def close(self) -> None:
        if self.hidden:
            self.sink.append(f"{self.name}: rows: {self.hidden} more problems not shown")

    @property
    def any(self) -> bool:
        return bool(self.shown or self.hidden)


def parse_quantity(text: str) -> Fraction:
    """A non-negative decimal number (exact). Raises ValueError with the reason."""
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{shown(text)} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"{shown(text)} is not a number")
    if d < 0:
        raise ValueError(f"negative quantity {text}")
    if d > MAX_QUANTITY or (d and d.adjusted() < -MAX_DECIMALS):  # 1e-999999999 would take minutes to convert
        raise ValueError(f"{shown(text)} is outside 0 .. {MAX_QUANTITY:,} with at most {MAX_DECIMALS} decimals")
    return Fraction(d)


_SLASH_DATE = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})")


def parse_date(text: str) -> dt.date:
    """An ISO date YYYY-MM-DD (also YYYY/M/D as Excel writes it). Raises ValueError."""
    m = _SLASH_DATE.fullmatch(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    raise ValueError(f"{shown(text)} is not a date (expected YYYY-MM-DD)")


def read_records(path: Path, problems: list[str], *, optional: Iterable[str] = (),
                 need: Iterable[str] = ()) -> tuple[list[Record], set[str]]:
    """Rows of a `product, date, quantity` CSV (UTF-8 with or without BOM).

    Returns the parsed rows and the set of column names present. Problems are appended as
    `FILE: line N.column: message` (line 1 is the header) or `FILE: columns: missing X`;
    `need` names further columns that must be present; `optional` columns are kept in
    `Record.cells`.
    """
    name = str(path)
    probs = _Problems(name, problems)
    try:
        text = read_text(path, name)
    except InputError as e:
        problems.extend(e.problems)
        return [], set()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as e:
        problems.append(f"{name}: line 1: {e}")
        return [], set()
    cols = [h.strip().lower() for h in header] if header else []
    present = set(cols)
    required = ["product", "date", "quantity", *need]
    missing = [c for c in required if c not in present]
    if not header:
        probs.add("columns", f"missing {', '.join(required)} (the file is empty)")
    else:
        for c in missing:
            probs.add("columns", f"missing {c}")
    for c in sorted({c for c in cols if c and cols.count(c) > 1}):
        probs.add("columns", f"{c} appears more than once")
    if probs.any:
        probs.close()
        return [], present
    index = {c: i for i, c in enumerate(cols)}
    keep = [c for c in (*need, *optional) if c in index]
    out: list[Record] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line

            def cell(col: str, row: list[str] = row) -> str:
                i = index[col]
                return row[i].strip() if i < len(row) else ""

            ok = True
            product = cell("product")
            if not product:
                probs.add(f"line {line}.product", "empty")
                ok = False
            day: dt.date | None = None
            raw_date = cell("date")
            try:
                day = parse_date(raw_date) if raw_date else None
                if day is None:
                    probs.add(f"line {line}.date", "empty")
                    ok = False
            except ValueError as e:
                probs.add(f"line {line}.date", str(e))
                ok = False
            qty = Fraction(0)
            raw_qty = cell("quantity")
            try:
                if not raw_qty:
                    raise ValueError("empty")
                qty = parse_quantity(raw_qty)
            except ValueError as e:
                probs.add(f"line {line}.quantity", str(e))
                ok = False
            if ok and day is not None:
                out.append(Record(line, product, day, qty, {c: cell(c) for c in keep}))
    except csv.Error as e:
        probs.add(f"line {reader.line_num}", f"not valid CSV ({e})")
    if not out and not probs.any:
        probs.add("rows", "no data rows")
    probs.close()
    return out, present


# ----------------------------------------------------------------------------- accuracy


def product_accuracy(plan: Fraction, actual: Fraction) -> Fraction:
    """max(0, 1 − |actual − plan| / plan); with plan 0: 1 when nothing shipped, else 0."""
    if plan == 0:
        return Fraction(1) if actual == 0 else Fraction(0)
    return max(Fraction(0), 1 - abs(actual - plan) / plan)


def weighted_accuracy(items: Iterable[tuple[Fraction, Fraction]]) -> Fraction:
    """Plan-volume-weighted mean accuracy of (plan, actual) pairs: Σ plan·acc / Σ plan.

    When the pairs plan nothing at all, the plan-0 rule on the totals applies.
    """
    pairs = list(items)
    total = sum((p for p, _ in pairs), Fraction(0))
    if total == 0:
        return product_accuracy(Fraction(0), sum((a for _, a in pairs), Fraction(0)))
    return sum((p * product_accuracy(p, a) for p, a in pairs), Fraction(0)) / total


def band(accuracy: Fraction) -> str:
    """R13's band: `reward` (≥ 70 %), `penalty` (< 40 %), otherwise `neutral`."""
    if accuracy >= REWARD:
        return "reward"
    if accuracy < PENALTY:
        return "penalty"
    return "neutral"


@dataclass
class ProductFigure:
    product: str
    cls: str
    plan: Fraction
    actual: Fraction

    @property
    def accuracy(self) -> Fraction:
        return product_accuracy(self.plan, self.actual)


@dataclass
class ClassFigure:
    cls: str  # A, B, C, A+B or all
    products: int
    plan: Fraction
    actual: Fraction
    accuracy: Fraction

    @property
    def band(self) -> str:
        return band(self.accuracy)


@dataclass
class AccuracyReport:
    period: str
    first: dt.date
    last: dt.date
    class_source: str
    products: list[ProductFigure]
    classes: dict[str, ClassFigure]


def class_figures(products: list[ProductFigure]) -> dict[str, ClassFigure]:
    """Weighted accuracy per class present, for A/B together (the focus) and for all products."""
    groups: dict[str, list[ProductFigure]] = {}
    for c in ("A", "B", "C"):
        groups[c] = [p for p in products if p.cls == c]
    groups[FOCUS] = [p for p in products if p.cls in ("A", "B")]
    groups["all"] = list(products)
    out: dict[str, ClassFigure] = {}
    for c, ps in groups.items():
        if not ps:
            continue
        out[c] = ClassFigure(c, len(ps), sum((p.plan for p in ps), Fraction(0)),
                             sum((p.actual for p in ps), Fraction(0)),
                             weighted_accuracy((p.plan, p.actual) for p in ps))
    return out


def rank_classes(volume: dict[str, Fraction], ratio: tuple[int, int, int]) -> dict[str, str]:
    """Classes by volume, largest first, ties by product id, counts from `sopt.abc.quotas`."""
    ranked = sorted(volume, key=lambda pid: (-volume[pid], pid))
    n_a, n_b, _ = quotas(len(ranked), ratio)
    return {pid: "A" if i < n_a else "B" if i < n_a + n_b else "C" for i, pid in enumerate(ranked)}


def _in_month(day: dt.date, month: tuple[int, int] | None) -> bool:
    return month is None or (day.year, day.month) == month


def accuracy_report(plan_path: Path, actual_path: Path, month: tuple[int, int] | None = None,
                    scenario_path: Path | None = None) -> AccuracyReport:
    """Read, check and evaluate the sales plan against shipments. Raises InputError."""
    problems: list[str] = []
    plan_rows, plan_cols = read_records(plan_path, problems, optional=("class",))
    ship_rows, _ = read_records(actual_path, problems)
    pname, aname = str(plan_path), str(actual_path)

    scenario_classes: dict[str, str] | None = None
    scenario_name = ""
    if scenario_path is not None:
        from sopt.abc import classify
        from sopt.scenario import load_scenario

        sc = load_scenario(scenario_path)  # its own InputError lines on a bad scenario
        scenario_classes = classify(sc)
        scenario_name = str(scenario_path)

    plan_probs = _Problems(pname, problems)
    ship_probs = _Problems(aname, problems)
    # the final revised plan: one figure per product and date
    seen: dict[tuple[str, dt.date], int] = {}
    declared: dict[str, tuple[str, int]] = {}
    has_class = "class" in plan_cols
    for r in plan_rows:
        key = (r.product, r.day)
        if key in seen:
            plan_probs.add(f"line {r.line}.date", f"{r.product} on {r.day} is already planned on line "
                                                  f"{seen[key]} (give the final revised plan once)")
        else:
            seen[key] = r.line
        if has_class:
            c = r.cells.get("class", "").upper()
            if c not in ("A", "B", "C"):
                plan_probs.add(f"line {r.line}.class", f"'{r.cells.get('class', '')}' is not A, B or C")
            elif r.product in declared and declared[r.product][0] != c:
                first_c, first_line = declared[r.product]
                plan_probs.add(f"line {r.line}.class", f"{r.product} is class {first_c} on line {first_line}, "
                                                       f"{c} here")
            else:
                declared.setdefault(r.product, (c, r.line))
    planned = {r.product for r in plan_rows}
    for probs, rows, label in ((plan_probs, plan_rows, pname), (ship_probs, ship_rows, aname)):
        first: dict[str, tuple[int, int]] = {}
        for r in rows:
            line, n = first.get(r.product, (r.line, 0))
            first[r.product] = (line, n + 1)
        for pid, (line, n) in first.items():
            more = f" (and {n - 1} more row{'s' if n > 2 else ''})" if n > 1 else ""
            if scenario_classes is not None and pid not in scenario_classes:
                probs.add(f"line {line}.product", f"unknown product {pid}: not a product of {scenario_name}{more}")
            elif label == aname and plan_rows and pid not in planned:
                probs.add(f"line {line}.product", f"unknown product {pid}: not in the sales plan {pname}{more}")

    in_plan = [r for r in plan_rows if _in_month(r.day, month)]
    in_ship = [r for r in ship_rows if _in_month(r.day, month)]
    if month is not None:
        label = f"{month[0]:04d}-{month[1]:02d}"
        if plan_rows and not in_plan:
            plan_probs.add("rows", f"no rows dated in {label} (the file covers {_span(plan_rows)})")
        if ship_rows and not in_ship:
            ship_probs.add("rows", f"no rows dated in {label} (the file covers {_span(ship_rows)})")
    plan_probs.close()
    ship_probs.close()
    if problems:
        raise InputError(problems)

    plan_tot: dict[str, Fraction] = {}
    for r in in_plan:
        plan_tot[r.product] = plan_tot.get(r.product, Fraction(0)) + r.quantity
    act_tot: dict[str, Fraction] = {}
    for r in in_ship:
        act_tot[r.product] = act_tot.get(r.product, Fraction(0)) + r.quantity
    ids = sorted(set(plan_tot) | set(act_tot))
    if has_class:
        classes, source = {pid: declared[pid][0] for pid in declared}, "sales plan (class column)"
    elif scenario_classes is not None:
        classes, source = scenario_classes, f"scenario {scenario_name} (sopt.abc.classify)"
    else:
        classes = rank_classes({pid: plan_tot.get(pid, Fraction(0)) for pid in ids}, DEFAULT_RATIO)
        source = "ranked by plan volume in the period, 1:3:6"
    figures = [ProductFigure(pid, classes[pid], plan_tot.get(pid, Fraction(0)), act_tot.get(pid, Fraction(0)))
               for pid in ids]
    figures.sort(key=lambda f: (f.cls, f.product))
    days = [r.day for r in in_plan + in_ship]
    period = "all" if month is None else f"{month[0]:04d}-{month[1]:02d}"
    return AccuracyReport(period, min(days), max(days), source, figures, class_figures(figures))


def _span(rows: list[Record]) -> str:
    days = [r.day for r in rows]
    return f"{min(days)} .. {max(days)}"


# ----------------------------------------------------------------------------- formatting


def rounded(x: Fraction, places: int = 4) -> float:
    """An exact ratio rounded half-up to `places` decimals, as a float for CSV/JSON."""
    d = Decimal(x.numerator) / Decimal(x.denominator)
    return float(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def number(x: Fraction) -> int | float:
    """A quantity for CSV/JSON: whole numbers as int, others rounded to 6 decimals."""
    return int(x) if x.denominator == 1 else rounded(x, 6)


def _qty(x: Fraction) -> str:
    return f"{int(x):,}" if x.denominator == 1 else f"{float(x):,.2f}"


def _pct(x: Fraction) -> str:
    return f"{rounded(x, 4) * 100:5.1f} %"


def accuracy_rows(rep: AccuracyReport) -> list[dict[str, Any]]:
    """The `-o` CSV: one row per product (level `product`), then one per class (level `class`)."""
    rows: list[dict[str, Any]] = []
    for f in rep.products:
        rows.append({"period": rep.period, "level": "product", "product": f.product, "class": f.cls,
                     "focus": f.cls in ("A", "B"), "products": 1, "plan": number(f.plan),
                     "actual": number(f.actual), "abs_error": number(abs(f.actual - f.plan)),
                     "accuracy": rounded(f.accuracy), "band": band(f.accuracy)})
    for c, s in rep.classes.items():
        rows.append({"period": rep.period, "level": "class", "product": "", "class": c,
                     "focus": c in ("A", "B", FOCUS), "products": s.products, "plan": number(s.plan),
                     "actual": number(s.actual), "abs_error": number(abs(s.actual - s.plan)),
                     "accuracy": rounded(s.accuracy), "band": s.band})
    return rows


def accuracy_summary(rep: AccuracyReport, plan_path: Path, actual_path: Path) -> dict[str, Any]:
    """The `--json` document."""
    focus = rep.classes.get(FOCUS)
    return {
        "period": rep.period, "first_date": rep.first.isoformat(), "last_date": rep.last.isoformat(),
        "sales_plan": str(plan_path), "actual": str(actual_path), "class_source": rep.class_source,
        "formula": FORMULA, "weighting": "plan volume",
        "bands": {"reward_at_least": float(REWARD), "penalty_below": float(PENALTY)},
        "focus": None if focus is None else {"classes": FOCUS, "accuracy": rounded(focus.accuracy),
                                             "band": focus.band},
        "classes": {c: {"products": s.products, "plan": number(s.plan), "actual": number(s.actual),
                        "accuracy": rounded(s.accuracy), "band": s.band} for c, s in rep.classes.items()},
        "products": len(rep.products),
    }


def print_accuracy(rep: AccuracyReport, plan_path: Path, actual_path: Path) -> None:
    span = f"{rep.period} ({rep.first} .. {rep.last})" if rep.period != "all" else f"{rep.first} .. {rep.last}"
    print(f"sales-plan accuracy {span}: {plan_path.name} against {actual_path.name}")
    print(f"  {FORMULA}")
    print(f"  classes: {rep.class_source}; * = A/B (made to stock, the focus of R13)")
    print()
    w = max([7, *(len(f.product) for f in rep.products)])
    print(f"  {'product':<{w}} class {'plan':>12} {'actual':>12} {'accuracy':>9}  band")
    for f in rep.products:
        mark = "*" if f.cls in ("A", "B") else " "
        print(f"{mark} {f.product:<{w}} {f.cls:^5} {_qty(f.plan):>12} {_qty(f.actual):>12} "
              f"{_pct(f.accuracy):>9}  {band(f.accuracy)}")
    print()
    print("  volume-weighted accuracy (weights = plan volume); reward >= 70 %, penalty < 40 %")
    print(f"  {'class':<6} {'products':>8} {'plan':>12} {'actual':>12} {'accuracy':>9}  band")
    for c, s in rep.classes.items():
        mark = "*" if c in ("A", "B", FOCUS) else " "
        print(f"{mark} {c:<6} {s.products:>8} {_qty(s.plan):>12} {_qty(s.actual):>12} {_pct(s.accuracy):>9}  "
              f"{s.band}")
    focus = rep.classes.get(FOCUS)
    print()
    if focus is None:
        print("focus A+B: no A or B products in the period")
    else:
        print(f"focus A+B: {_pct(focus.accuracy).strip()} -> {focus.band.upper()}")


def write_file(path: Path, data: bytes) -> None:
    """Write a file whole: a temporary file beside it, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# ----------------------------------------------------------------------------- abc from history


@dataclass
class AbcResult:
    rows: list[dict[str, Any]]
    first: dt.date
    last: dt.date
    basis: str
    ratio: tuple[int, int, int]
    weeks: int
    all_history: bool
    class_share: dict[str, Fraction] = field(default_factory=dict)


def abc_from_history(path: Path, ratio: tuple[int, int, int] = DEFAULT_RATIO, basis: str = "volume",
                     weeks: int = 13) -> AbcResult:
    """Rank every product of the history by its volume (or value) over the last `weeks` weeks
    (ending at the file's last date), ties by product id, and split by `sopt.abc.quotas`."""
    problems: list[str] = []
    need = ("price",) if basis == "value" else ()
    recs, _ = read_records(path, problems, need=need)
    probs = _Problems(str(path), problems)
    prices: dict[int, Fraction] = {}
    if basis == "value":
        for r in recs:
            raw = r.cells.get("price", "")
            try:
                if not raw:
                    raise ValueError("empty (--basis value needs a price on every row)")
                prices[r.line] = parse_quantity(raw)
            except ValueError as e:
                probs.add(f"line {r.line}.price", str(e).replace("quantity", "price"))
    probs.close()
    if problems:
        raise InputError([p.replace("columns: missing price", "columns: missing price (needed for --basis value)")
                          for p in problems])
    last = max(r.day for r in recs)
    first_all = min(r.day for r in recs)
    start = last - dt.timedelta(days=7 * weeks)  # window: start < day <= last
    all_history = first_all > start
    volume: dict[str, Fraction] = {r.product: Fraction(0) for r in recs}
    value: dict[str, Fraction] = {r.product: Fraction(0) for r in recs}
    for r in recs:
        if r.day > start:
            volume[r.product] += r.quantity
            if basis == "value":
                value[r.product] += r.quantity * prices[r.line]
    key = value if basis == "value" else volume
    classes = rank_classes(key, ratio)
    ranked = sorted(key, key=lambda pid: (-key[pid], pid))
    total = sum(key.values(), Fraction(0))
    rows: list[dict[str, Any]] = []
    cum = Fraction(0)
    for i, pid in enumerate(ranked, 1):
        share = key[pid] / total if total else Fraction(0)
        cum += share
        row: dict[str, Any] = {"product": pid, "class": classes[pid], "rank": i, "volume": number(volume[pid]),
                               "share": rounded(share), "cumulative_share": rounded(cum)}
        if basis == "value":
            row["value"] = number(value[pid])
        rows.append(row)
    window_first = first_all if all_history else start + dt.timedelta(days=1)
    class_share = {c: sum((key[p] for p in ranked if classes[p] == c), Fraction(0)) / total if total else Fraction(0)
                   for c in "ABC"}
    return AbcResult(rows, window_first, last, basis, ratio, weeks, all_history, class_share)


# ----------------------------------------------------------------------------- the commands


def _month(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise argparse.ArgumentTypeError(f"'{text}' is not a month (expected YYYY-MM, e.g. 2026-11)")
    return int(m[1]), int(m[2])


def _count(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if v < 0 or v > 10**6:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return v


def _weeks(text: str) -> int:
    v = _count(text)
    if v == 0:
        raise argparse.ArgumentTypeError("--weeks must be at least 1")
    return v


def cmd_accuracy(args: argparse.Namespace) -> int:
    """`sopt accuracy --sales-plan PLAN.csv --actual SHIPMENTS.csv [--month YYYY-MM] ...`."""
    rep = accuracy_report(args.sales_plan, args.actual, args.month, args.scenario)
    if args.out is not None:
        from sopt.output import csv_bytes

        write_file(args.out, csv_bytes(accuracy_rows(rep), ACCURACY_COLUMNS))
    if args.json:
        doc = accuracy_summary(rep, args.sales_plan, args.actual)
        print(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print_accuracy(rep, args.sales_plan, args.actual)
        if args.out is not None:
            print(f"written    {args.out} ({len(rep.products)} product rows, {len(rep.classes)} class rows)")
    return 0


def cmd_abc(args: argparse.Namespace) -> int:
    """`sopt abc --history SALES.csv [--ratio A B C] [--basis volume|value] [--weeks N] [-o FILE]`."""
    ratio = tuple(args.ratio)
    if sum(ratio) == 0:
        raise InputError(["--ratio: at least one of the three shares must be positive"])
    res = abc_from_history(args.history, (ratio[0], ratio[1], ratio[2]), args.basis, args.weeks)
    columns = ABC_COLUMNS + (["value"] if args.basis == "value" else [])
    if args.out is not None:
        from sopt.output import csv_bytes

        write_file(args.out, csv_bytes(res.rows, columns))
    window = "all history" if res.all_history else f"the last {res.weeks} weeks"
    print(f"sopt abc: {len(res.rows)} products ranked by {res.basis} over {window}, {res.first} .. {res.last} "
          f"({args.history.name}); ratio {':'.join(map(str, res.ratio))}, ties by product id")
    print(f"  {'class':<5} {'products':>8} {res.basis + ' share':>13}  products")
    for c in "ABC":
        ids = [r["product"] for r in res.rows if r["class"] == c]
        shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
        print(f"  {c:<5} {len(ids):>8} {_pct(res.class_share[c]):>13}  {shown}")
    if args.out is not None:
        print(f"written    {args.out} (the class list for every department)")
    else:
        print()
        print(f"  {'rank':>4} {'product':<10} class {'volume':>12} {'share':>8} {'cumulative':>10}")
        for r in res.rows:
            print(f"  {r['rank']:>4} {r['product']:<10} {r['class']:^5} {_qty(Fraction(r['volume'])):>12} "
                  f"{r['share'] * 100:>6.1f} % {r['cumulative_share'] * 100:>8.1f} %")
    return 0


def register(sub: Any) -> None:
    """Add this module's commands to the `sopt` parser (each sets `run` via set_defaults)."""
    a = sub.add_parser(
        "accuracy", help="monthly sales-plan accuracy per product and class (R13)",
        description="Accuracy of the final revised sales plan against actual shipments: per product "
                    f"{FORMULA}; per class the plan-volume-weighted mean, A/B together as the focus, "
                    "banded reward (>= 70 %), penalty (< 40 %) or neutral.")
    a.add_argument("--sales-plan", type=Path, required=True, metavar="CSV",
                   help="the final revised sales plan: product, date, quantity [, class]")
    a.add_argument("--actual", type=Path, required=True, metavar="CSV",
                   help="actual shipments: product, date, quantity")
    a.add_argument("--month", type=_month, metavar="YYYY-MM", help="evaluate one month (default: all dates)")
    a.add_argument("--scenario", type=Path,
                   help="take the classes from this scenario (when the sales plan has no class column) "
                        "and reject products it does not know")
    a.add_argument("-o", "--out", type=Path, metavar="OUT.csv", help="write per-product and per-class rows")
    a.add_argument("--json", action="store_true", help="print the summary as JSON instead of the table")
    a.set_defaults(run=cmd_accuracy)

    b = sub.add_parser(
        "abc", help="the ABC class list from sales history (R2)",
        description="Rank products by volume (or value) over the last N weeks of history, ties by "
                    "product id, and split them A/B/C in the count ratio (default 1:3:6).")
    b.add_argument("--history", type=Path, required=True, metavar="CSV",
                   help="sales history: product, date, quantity [, price]")
    b.add_argument("--ratio", type=_count, nargs=3, default=list(DEFAULT_RATIO), metavar=("A", "B", "C"),
                   help="count ratio of the classes (default 1 3 6)")
    b.add_argument("--basis", choices=["volume", "value"], default="volume",
                   help="rank by units (default) or by units x price (needs a price column)")
    b.add_argument("--weeks", type=_weeks, default=13, help="weeks of history ending at its last date (default 13)")
    b.add_argument("-o", "--out", type=Path, metavar="classes.csv", help="write the class list (CSV)")
    b.set_defaults(run=cmd_abc)
