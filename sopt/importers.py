"""Public benchmark instances as sopt scenarios: `sopt import --format {jobshop,fjs,trigeiro}`.

Three plain-text formats (whitespace-separated numbers, one record per line):

- `jobshop` (Fisher & Thompson, Lawrence, Taillard-style files such as ft06, la01): `n m`,
  then one line per job with its m operations as pairs `machine time`, machines from 0.
  Every job visits every machine once.
- `fjs` (Brandimarte, Hurink, ... flexible job shop, e.g. mk01): `n m [f]`, then one line
  per job: the number of operations, then per operation `k` and k pairs `machine time`,
  machines from 1.
- `trigeiro` (capacitated lot sizing with setup times, Trigeiro, Thomas & McClain 1989, e.g.
  G53.DAT): `N T`; the number of machines (1); the capacity per period; N lines
  `b h st sc`; the demand matrix, T rows of at most 15 items per column block; legend lines
  after the matrix are ignored.

A job shop becomes one line per machine (ids keep the file's numbering: M0.. or M1..), one
product per job (J1..Jn) whose routing lists the operations in order, one sized job of one
unit per product, and a makespan objective. The horizon is one continuous shift of L
minutes, L the sum of every operation's (longest) processing time: a trivial upper bound
on the makespan. A lot-sizing instance becomes one line M1 and one class-A product per item
(I1..IN); a period is k plant days, k the smallest 2^a·5^b with k·1440 >= the capacity (so
that the holding cost per plant day, h/k, is an exact decimal), with one shift of
`capacity` minutes on the period's first day and the period's demand due that day.

Every problem in a file is reported as `FILE: line N: message` (InputError, exit code 2).
`import_file` returns the scenario as a plain dict; `write_scenario` checks it with the
scenario loader and writes it atomically.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from sopt.errors import InputError
from sopt.textfile import MAX_BYTES as MAX_BYTES  # the size limit of an instance file
from sopt.textfile import read_text, shown

FORMATS = ("jobshop", "fjs", "trigeiro")
START = dt.date(2026, 1, 5)  # a Monday
DAY = 24 * 60
MAX_DAYS = 366  # the longest horizon a scenario may have
MAX_PROBLEMS = 50
LIMIT = 10**9  # the largest number a scenario accepts (times, costs, quantities)
DIGITS = 30  # a token further from 1 than 10^±DIGITS is refused before it is turned into an integer
BLOCK = 15  # Trigeiro demand matrices are printed in column blocks of at most 15 items
ZERO_CLASSES = {"A": 0, "B": 0, "C": 0}


@dataclass(frozen=True)
class Imported:
    """A converted instance: the scenario dict and a one-line description of it."""

    data: dict[str, Any]
    summary: str


class _Problems:
    """The problems of one file, each `FILE: where: message`; at most MAX_PROBLEMS shown."""

    def __init__(self, fname: str):
        self.fname = fname
        self.lines: list[str] = []
        self.hidden = 0

    def add(self, where: str, message: str) -> None:
        if len(self.lines) < MAX_PROBLEMS:
            self.lines.append(f"{self.fname}: {where}: {message}")
        else:
            self.hidden += 1

    def raise_if_any(self) -> None:
        if self.hidden:
            self.lines.append(f"{self.fname}: file: {self.hidden} more problems not shown")
        if self.lines:
            raise InputError(self.lines)


class _Bad(ValueError):
    """A token that is not the number it should be (the message says why)."""


# ----------------------------------------------------------------------------- reading


def _read_lines(path: Path) -> list[tuple[int, list[str]]]:
    """The file's non-blank lines as (line number, tokens); InputError if it is no text file."""
    if not path.exists():  # the full path: where it was looked for
        raise InputError([f"{path}: file: not found"])
    text = read_text(path, path.name, "a benchmark file")
    lines = [(i, line.split()) for i, line in enumerate(text.splitlines(), start=1)]
    lines = [(i, toks) for i, toks in lines if toks]
    if not lines:
        raise InputError([f"{path.name}: file: empty"])
    return lines


def _number(tok: str) -> Decimal:
    try:
        d = Decimal(tok)
    except InvalidOperation:
        raise _Bad(f"{shown(tok)} is not a number") from None
    if not d.is_finite():
        raise _Bad(f"{shown(tok)} is not a number")
    if d and not -DIGITS <= d.adjusted() <= DIGITS:  # 1e999999999 would take minutes to become an integer
        raise _Bad(f"{shown(tok)} is outside the range sopt reads (at most {DIGITS} digits either side of the point)")
    return d


def _whole(tok: str) -> int:
    d = _number(tok)
    if d != d.to_integral_value():
        raise _Bad(f"{shown(tok)} is not a whole number")
    return int(d)


def _emit(x: Fraction | Decimal | int) -> int | float:
    """A YAML number of exactly the value: an int when whole, else a float that prints exactly."""
    q = Fraction(x)
    if q.denominator == 1:
        return int(q)
    f = float(q)
    if Fraction(Decimal(repr(f))) != q:
        raise _Bad("has more significant digits than sopt can write exactly")
    return f


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _header(lines: list[tuple[int, list[str]]], probs: _Problems, names: tuple[str, ...],
            optional: int = 0) -> list[int] | None:
    """The first line's positive whole numbers `names` (plus `optional` further numbers, ignored)."""
    ln, toks = lines[0]
    spec = " ".join(names)
    if not (len(names) <= len(toks) <= len(names) + optional):
        probs.add(f"line {ln}", f"expected '{spec}' on the first line, found {_plural(len(toks), 'value')}")
        return None
    out: list[int] = []
    for name, tok in zip(names, toks):
        try:
            v = _whole(tok)
        except _Bad as e:
            probs.add(f"line {ln}", f"{name}: {e}")
            return None
        if v < 1:
            probs.add(f"line {ln}", f"{name} must be at least 1, found {v}")
            return None
        out.append(v)
    for tok in toks[len(names):]:
        try:
            _number(tok)
        except _Bad as e:
            probs.add(f"line {ln}", f"{e}")
            return None
    return out


def _operation(probs: _Problems, where: str, what: str, mtok: str, ttok: str, lo: int,
               hi: int) -> tuple[int, int] | None:
    """One `machine time` pair: machine in lo..hi, time a whole number of minutes (0 allowed)."""
    try:
        machine = _whole(mtok)
    except _Bad as e:
        probs.add(where, f"{what}: machine {e}")
        return None
    if not lo <= machine <= hi:
        probs.add(where, f"{what}: machine {machine} is out of range {lo}..{hi}")
        return None
    try:
        time = _whole(ttok)
    except _Bad as e:
        probs.add(where, f"{what}: processing time {e}")
        return None
    if time < 0:
        probs.add(where, f"{what}: processing time {time} on machine {machine} is negative")
        return None
    if time > LIMIT:
        probs.add(where, f"{what}: processing time {time} on machine {machine} is larger than sopt's limit {LIMIT}")
        return None
    return machine, time


def _job_count(lines: list[tuple[int, list[str]]], probs: _Problems, n: int) -> None:
    """Problems for missing or extra job lines (after the header's n)."""
    body = lines[1:]
    if len(body) < n:
        probs.add("end of file", f"{_plural(len(body), 'job line')}, expected {n} (the first line declares {n} jobs)")
    elif len(body) > n:
        ln = body[n][0]
        probs.add(f"line {ln}", f"{_plural(len(body) - n, 'more line')} after the {n} jobs the first line declares")


# ----------------------------------------------------------------------------- job shop


def _zero_free(jobs: list[list[dict[str, int]]]) -> tuple[list[list[dict[str, int]]], int]:
    """Jobs without their zero-time operations, and how many were dropped.

    An operation that can take 0 minutes (on one of its machines) neither occupies a machine
    nor delays its job: job order still holds through it, so the makespan is unchanged.
    """
    kept = [[alts for alts in ops if min(alts.values()) > 0] for ops in jobs]
    return kept, sum(len(a) - len(b) for a, b in zip(jobs, kept))


def _shop_scenario(name: str, machine_ids: list[str], jobs: list[list[dict[str, int]]]) -> dict[str, Any]:
    """The makespan scenario of a (flexible) job shop: jobs[j][o] maps machine id -> minutes."""
    jobs, _ = _zero_free(jobs)
    bound = max(1, sum(max(alts.values()) for ops in jobs for alts in ops))
    days = max(1, math.ceil(bound / DAY))
    products = []
    for j, ops in enumerate(jobs, start=1):
        if not ops:
            continue  # every operation takes 0 minutes: nothing to schedule
        products.append({
            "id": f"J{j}",
            "class": "C",
            "holding_cost": 0,
            "routing": [{"id": f"o{o}", "work_centres": {m: {"minutes_per_unit": t} for m, t in alts.items()}}
                        for o, alts in enumerate(ops, start=1)],
        })
    return {
        "name": name,
        "horizon": {"start": START, "days": days},
        "shift_templates": {"run": {"start": "00:00", "minutes": bound}},
        "lines": [{"id": m, "shifts": {START.isoformat(): ["run"]}} for m in machine_ids],
        "products": products,
        "jobs": [{"id": f"J{j}-job", "product": f"J{j}", "quantity": 1} for j, ops in enumerate(jobs, start=1) if ops],
        "policy": _policy(makespan=1),
        "solver": {"time_limit": 60, "relative_gap": 0},
    }


def _dropped(jobs: list[list[dict[str, int]]]) -> str:
    n = _zero_free(jobs)[1]
    return f" ({_plural(n, 'zero-time operation')} left out: they take no machine time)" if n else ""


def _policy(*, makespan: int = 0, holding: int = 0, setup_cost: int = 0) -> dict[str, Any]:
    return {
        "reserve_ratio": 0,
        "hard_demand": True,
        "weights": {
            "order_backlog": dict(ZERO_CLASSES),
            "forecast_backlog": dict(ZERO_CLASSES),
            "min_stock_shortfall": dict(ZERO_CLASSES),
            "holding": holding,
            "setup_cost": setup_cost,
            "overtime": 0,
            "shift_cost": 0,
            "nervousness": 0,
            "makespan": makespan,
            "lateness": 0,
            "changeover": 0,
        },
    }


def _check_bound(probs: _Problems, jobs: list[list[dict[str, int]]]) -> None:
    bound = sum(max(alts.values()) for ops in jobs for alts in ops)
    if math.ceil(bound / DAY) > MAX_DAYS:
        probs.add("file", f"the operations take {bound} minutes in all (the horizon sopt gives the "
                          f"schedule), more than the {MAX_DAYS} days a scenario may plan")


def read_jobshop(path: Path, name: str | None = None) -> Imported:
    """A job shop file (machines numbered from 0) as a makespan scenario."""
    probs = _Problems(path.name)
    lines = _read_lines(path)
    head = _header(lines, probs, ("n", "m"))
    probs.raise_if_any()
    assert head is not None
    n, m = head
    jobs: list[list[dict[str, int]]] = []
    for j, (ln, toks) in enumerate(lines[1:n + 1], start=1):
        where = f"line {ln}"
        if len(toks) % 2:
            probs.add(where, f"job {j} lists {_plural(len(toks), 'value')}, an odd number: expected {m} pairs 'machine time'")
            continue
        if len(toks) // 2 != m:
            probs.add(where, f"job {j} lists {_plural(len(toks) // 2, 'operation')}, expected {m}")
            continue
        ops: list[dict[str, int]] = []
        seen: dict[int, int] = {}
        for o in range(m):
            op = _operation(probs, where, f"job {j}, operation {o + 1}", toks[2 * o], toks[2 * o + 1], 0, m - 1)
            if op is None:
                continue
            machine, time = op
            if machine in seen:
                probs.add(where, f"job {j} visits machine {machine} twice (operations {seen[machine]} and {o + 1}); "
                                 "in a job shop every job visits every machine once")
                continue
            seen[machine] = o + 1
            ops.append({f"M{machine}": time})
        jobs.append(ops)
    _job_count(lines, probs, n)
    probs.raise_if_any()
    _check_bound(probs, jobs)
    probs.raise_if_any()
    data = _shop_scenario(name or path.stem, [f"M{i}" for i in range(m)], jobs)
    return Imported(data, f"job shop, {_plural(n, 'job')} x {_plural(m, 'machine')}{_dropped(jobs)}")


def read_fjs(path: Path, name: str | None = None) -> Imported:
    """A flexible job shop file (machines numbered from 1) as a makespan scenario."""
    probs = _Problems(path.name)
    lines = _read_lines(path)
    head = _header(lines, probs, ("n", "m"), optional=1)
    probs.raise_if_any()
    assert head is not None
    n, m = head
    jobs: list[list[dict[str, int]]] = []
    for j, (ln, toks) in enumerate(lines[1:n + 1], start=1):
        where = f"line {ln}"
        before = len(probs.lines) + probs.hidden
        try:
            count = _whole(toks[0])
        except _Bad as e:
            probs.add(where, f"job {j}: number of operations: {e}")
            continue
        if count < 1:
            probs.add(where, f"job {j} has {count} operations, needs at least 1")
            continue
        pos = 1
        ops: list[dict[str, int]] = []
        for o in range(1, count + 1):
            if pos >= len(toks):
                probs.add(where, f"job {j} lists {_plural(o - 1, 'operation')}, expected {count}")
                break
            try:
                k = _whole(toks[pos])
            except _Bad as e:
                probs.add(where, f"job {j}, operation {o}: number of machines: {e}")
                break
            if k < 1:
                probs.add(where, f"job {j}, operation {o} has {k} eligible machines, needs at least 1")
                break
            pairs = toks[pos + 1: pos + 1 + 2 * k]
            if len(pairs) < 2 * k:
                probs.add(where, f"job {j}, operation {o} lists {k} machines but only {len(pairs)} values follow, "
                                 f"expected {2 * k} ('machine time' pairs)")
                break
            pos += 1 + 2 * k
            alts: dict[int, int] = {}
            for a in range(k):
                op = _operation(probs, where, f"job {j}, operation {o}", pairs[2 * a], pairs[2 * a + 1], 1, m)
                if op is not None:
                    machine, time = op
                    alts[machine] = min(time, alts.get(machine, time))  # a repeated machine: the shorter time
            ops.append({f"M{mc}": t for mc, t in sorted(alts.items())})
        else:
            if pos < len(toks):
                probs.add(where, f"job {j}: {_plural(len(toks) - pos, 'more value')} after its {_plural(count, 'operation')}")
        if len(probs.lines) + probs.hidden == before:
            jobs.append(ops)
    _job_count(lines, probs, n)
    probs.raise_if_any()
    _check_bound(probs, jobs)
    probs.raise_if_any()
    data = _shop_scenario(name or path.stem, [f"M{i}" for i in range(1, m + 1)], jobs)
    n_ops = sum(len(ops) for ops in jobs)
    return Imported(data, f"flexible job shop, {_plural(n, 'job')} x {_plural(m, 'machine')}, "
                          f"{_plural(n_ops, 'operation')}{_dropped(jobs)}")


# ----------------------------------------------------------------------------- Trigeiro lot sizing


def days_per_period(capacity: int) -> int:
    """The smallest k = 2^a·5^b with k·1440 >= capacity (h/k is then an exact decimal)."""
    best: int | None = None
    two = 1
    while True:
        k = two
        while k * DAY < capacity:
            k *= 5
        best = k if best is None else min(best, k)
        if two * DAY >= capacity:
            return best
        two *= 2


def read_trigeiro(path: Path, name: str | None = None) -> Imported:
    """A Trigeiro capacitated lot-sizing file (one machine) as a setup + holding cost scenario."""
    probs = _Problems(path.name)
    lines = _read_lines(path)
    head = _header(lines, probs, ("N", "T"))
    probs.raise_if_any()
    assert head is not None
    n_items, periods = head
    cursor = 1

    def take(what: str) -> tuple[int, list[str]] | None:
        nonlocal cursor
        if cursor >= len(lines):
            probs.add("end of file", f"the file ends before {what}")
            return None
        cursor += 1
        return lines[cursor - 1]

    def single(what: str, check: Callable[[int], str | None]) -> int | None:
        row = take(what)
        if row is None:
            return None
        ln, toks = row
        if len(toks) != 1:
            probs.add(f"line {ln}", f"expected {what} alone on its line, found {_plural(len(toks), 'value')}")
            return None
        try:
            v = _whole(toks[0])
        except _Bad as e:
            probs.add(f"line {ln}", f"{what}: {e}")
            return None
        message = check(v)
        if message:
            probs.add(f"line {ln}", message)
            return None
        return v

    machines = single("the number of machines", lambda v: None if v == 1 else
                      f"{v} machines: sopt imports single-machine instances only (expected 1)")
    capacity = single("the capacity per period", lambda v: None if 1 <= v <= MAX_DAYS * DAY else
                      f"capacity per period {v}: must be 1 .. {MAX_DAYS * DAY} minutes ({MAX_DAYS} days)")
    probs.raise_if_any()
    assert machines is not None and capacity is not None
    k = days_per_period(capacity)
    if periods * k > MAX_DAYS:
        probs.add(f"line {lines[0][0]}", f"{periods} periods of {k} plant days each (capacity {capacity} minutes "
                                         f"per period) make {periods * k} days, more than the {MAX_DAYS} a "
                                         "scenario may plan")
        probs.raise_if_any()

    products: list[dict[str, Any]] = []
    for i in range(1, n_items + 1):
        row = take(f"the line of item {i} ('b h st sc')")
        if row is None:
            break
        ln, toks = row
        product = _item(probs, f"line {ln}", i, toks, k)
        if product is not None:
            products.append(product)
    probs.raise_if_any()

    demand = [[0] * periods for _ in range(n_items)]
    for first in range(0, n_items, BLOCK):
        block = range(first, min(first + BLOCK, n_items))
        label = f"items {block[0] + 1}-{block[-1] + 1}" if len(block) > 1 else f"item {block[0] + 1}"
        for t in range(periods):
            row = take(f"the demand of period {t + 1} ({label})")
            if row is None:
                break
            ln, toks = row
            where = f"line {ln}"
            if len(toks) != len(block):
                probs.add(where, f"demand of period {t + 1} ({label}): expected {len(block)} values, found {len(toks)}")
                continue
            for i, tok in zip(block, toks):
                try:
                    d = _whole(tok)
                except _Bad as e:
                    probs.add(where, f"demand of item {i + 1} in period {t + 1}: {e}")
                    continue
                if not 0 <= d <= LIMIT:
                    probs.add(where, f"demand of item {i + 1} in period {t + 1}: {d} is outside 0..{LIMIT}")
                    continue
                demand[i][t] = d
        if probs.lines:
            break
    probs.raise_if_any()
    # lines after the matrix (the legend) are ignored

    forecast: dict[str, list[int]] = {}
    for i in range(n_items):
        per_day = [0] * (periods * k)
        for t in range(periods):
            per_day[t * k] = demand[i][t]  # the period's demand is due on its first plant day
        forecast[f"I{i + 1}"] = per_day
    dates = [(START + dt.timedelta(days=t * k)).isoformat() for t in range(periods)]
    data = {
        "name": name or path.stem,
        "horizon": {"start": START, "days": periods * k},
        "shift_templates": {"period": {"start": "00:00", "minutes": capacity}},
        "lines": [{"id": "M1", "shifts": {d: ["period"] for d in dates}}],
        "products": products,
        "demand": {"forecast": forecast},
        "policy": _policy(holding=1, setup_cost=1),
        "solver": {"time_limit": 60, "relative_gap": 0},
    }
    return Imported(data, f"lot sizing, {_plural(n_items, 'item')} x {_plural(periods, 'period')}, 1 machine, capacity {capacity} "
                          f"per period ({_plural(k, 'plant day')} each)")


def _item(probs: _Problems, where: str, i: int, toks: list[str], k: int) -> dict[str, Any] | None:
    """Item i's line `b h st sc` as a product on M1 (holding cost h/k per plant day), or None."""
    if len(toks) != 4:
        probs.add(where, f"item {i}: expected 4 values 'b h st sc', found {len(toks)}")
        return None
    names = ("unit production time", "holding cost", "setup time", "setup cost")
    values: list[Fraction] = []
    for what, tok in zip(names, toks):
        try:
            v = Fraction(_whole(tok)) if what == "setup time" else Fraction(_number(tok))
        except _Bad as e:
            whole = " (sopt needs whole minutes)" if what == "setup time" else ""
            probs.add(where, f"item {i}: {what} {e}{whole}")
            return None
        if v < 0 or (v == 0 and what == "unit production time"):
            need = "positive times" if what == "unit production time" else f"a {what} of 0 or more"
            probs.add(where, f"item {i}: {what} {tok}: sopt needs {need}")
            return None
        if v > LIMIT:
            probs.add(where, f"item {i}: {what} {tok} is larger than sopt's limit {LIMIT}")
            return None
        values.append(v)
    b, h, st, sc = values
    out: dict[str, int | float] = {}
    for key, what, v in (("b", "unit production time", b), ("sc", "setup cost", sc),
                         ("h", f"holding cost {toks[1]} per period over {_plural(k, 'plant day')}", h / k)):
        try:
            out[key] = _emit(v)
        except _Bad as e:
            probs.add(where, f"item {i}: {what} {e}")
            return None
    return {
        "id": f"I{i}",
        "class": "A",
        "holding_cost": out["h"],
        "lines": {"M1": {"minutes_per_unit": out["b"], "setup_minutes": int(st), "setup_cost": out["sc"]}},
    }


READERS: dict[str, Callable[[Path, str | None], Imported]] = {
    "jobshop": read_jobshop, "fjs": read_fjs, "trigeiro": read_trigeiro,
}


def read_instance(fmt: str, path: Path, name: str | None = None) -> Imported:
    """The instance in `path` (format `fmt`) as a scenario and a one-line description."""
    if fmt not in READERS:
        raise InputError([f"--format: '{fmt}' is not one of {', '.join(FORMATS)}"])
    return READERS[fmt](Path(path), name)


def import_file(fmt: str, path: Path, name: str | None = None) -> dict[str, Any]:
    """The instance in `path` (format jobshop, fjs or trigeiro) as a scenario dict; InputError if broken."""
    return read_instance(fmt, path, name).data


# ----------------------------------------------------------------------------- writing


def scenario_text(data: dict[str, Any], source: str | None = None, fmt: str | None = None) -> str:
    """The scenario as YAML (keys in the order given), with a comment naming its source."""
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)
    if source is None:
        return body
    how = f" --format {fmt}" if fmt else ""
    return f"# Imported by `sopt import{how}` from {source}.\n" + body


def write_scenario(data: dict[str, Any], out: Path, source: str | None = None, fmt: str | None = None) -> None:
    """Check the scenario with sopt's loader, then write it atomically (temp file + os.replace)."""
    from sopt.scenario import build_scenario

    out = Path(out)
    if out.is_dir():
        raise InputError([f"{out}: -o: is a folder; give the scenario file to write, e.g. {out / 'scenario.yaml'}"])
    text = scenario_text(data, source, fmt)
    build_scenario(yaml.safe_load(text), out)  # InputError if sopt could not plan the imported scenario
    from sopt.export import write_atomic

    try:
        write_atomic(out, text.encode("utf-8"))
    except OSError as e:
        raise InputError([f"{out}: -o: cannot write here ({e.strerror})"]) from None


# ----------------------------------------------------------------------------- command line


def cmd_import(args: argparse.Namespace) -> int:
    """`sopt import --format {jobshop,fjs,trigeiro} FILE -o OUT.yaml [--name NAME]`."""
    src: Path = args.file
    out: Path = args.out
    try:
        same = out.exists() and src.exists() and out.resolve() == src.resolve()
    except OSError:
        same = False
    if same:
        raise InputError([f"{out}: -o: is the input file itself; give another name, e.g. {out.with_suffix('.yaml')}"])
    imported = read_instance(args.format, src, args.name)
    write_scenario(imported.data, out, src.name, args.format)
    print(f"imported {src.name}: {imported.summary} -> {out}")
    return 0


def register(sub: Any) -> None:
    """Add `sopt import` to the `sopt` parser."""
    p = sub.add_parser(
        "import", help="convert a public benchmark instance into a scenario file",
        description="Read a job shop (n m; per job 'machine time' pairs, machines from 0), flexible job shop "
                    "(Brandimarte: n m f; per job its operations with 'k machine time ...', machines from 1) "
                    "or Trigeiro lot-sizing file (N T; machines; capacity; N lines 'b h st sc'; the demand "
                    "matrix) and write it as a sopt scenario. Job shops minimise the makespan of one unit "
                    "per job; lot sizing minimises setup plus holding cost with all demand met.")
    p.add_argument("--format", choices=FORMATS, required=True, help="the file's format")
    p.add_argument("file", type=Path, metavar="FILE", help="the benchmark instance")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT.yaml", help="scenario file to write")
    p.add_argument("--name", help="the scenario's name (default: the file's name without extension)")
    p.set_defaults(run=cmd_import)
