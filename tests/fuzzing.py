"""Broken inputs for every sopt command, generated from a seed, and the harness that runs them.

Used by `tests/test_fuzz.py` (mutated scenarios through `validate`), `tests/test_fuzz_commands.py`
(the seeded CI subset) and `benchmarks/soak.py fuzz` (the full counts).

Every case runs in-process through `sopt.cli.main` under a timeout and must end with
- exit 2 and one or more stderr lines, each naming the file (`FILE: field: message`) or the
  option (`--now: message`), no traceback, and the `-o` target absent (or as it was); or
- a valid run's exit code (0; 1 where the answer may be no) when the mutation happened to stay
  valid: counted apart as `valid_exit0`. Cases made to be broken (`Case.broken`) must exit 2.

Generators: `mutate_data` (YAML-able data: delete, add unknown keys, duplicate list items, odd
values), `mutate_csv` (cells, columns, rows), `broken_bytes` (encodings, truncation, binary,
empty), and hypothesis strategies for arbitrary field values, CSV text and bytes. The commands
that solve keep it cheap: `--time-limit 1 --workers 1`, the three-day `tests/data/mini_week.yaml`
and at most `max_solves` real solves per command; a valid case past that budget is stopped at
the solver's door and counted as `valid_unsolved`.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import functools
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from sopt.cli import main

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "data" / "mini_week.yaml"
DEMO = ROOT / "scenarios" / "demo_week.yaml"
BENCH = ROOT / "tests" / "data" / "benchmarks"
EXAMPLES = ROOT / "scenarios" / "examples"
FAST = ["--time-limit", "1", "--workers", "1"]
QUIET_SOLVE = ["-q", "--no-pictures", "--no-workbook", "--no-report"]
TIMEOUT = 30.0  # seconds per case; a solve case takes about 1.5 s

# The values `tests/test_fuzz.py` has always used (its seeded cases depend on this list).
ODD_VALUES: list[Any] = [None, -1, 0, 1e18, -1e18, "", "x", "25:00", [], {}, True, 3.5, "2026-02-30",
                         "L9", "P999", [1, 2], {"a": 1}, "🙂", 10_000]
# Absurd numbers and strings on top of those.
MORE_VALUES: list[Any] = ODD_VALUES + [float("nan"), float("inf"), -float("inf"), "nan", "inf", "1e999999999",
                                       1e300, 10**30, -0.0, 1e-12, "2026-11-30T25:00", "9999-12-31",
                                       "0001-01-01", "\x00", "x" * 3000, "1,5", "06:00", 2**63,
                                       "2026-12-01T10:00+05:00", "2999-12-31"]
ODD_CELLS = ["", " ", "nan", "NaN", "inf", "-inf", "-1", "0", "-0", "1e18", "1e999999999", "1e-999999999",
             "99999999999999999999999", "1.5", "0.0000001", "abc", "2026-02-30", "9999-12-31", "0001-01-01",
             "2026-13-01", "2026-11-30T25:00", "2026-11-30T06:00+05:00", "25:00", "x" * 300, "🙂", "P999", "L9",
             "M9", "UNKNOWN", "null", "True", "1,000", "=1+1", "\t", "'", "2026/11/30", "30.11.2026", "1_000",
             "0x10", "-1e18", "1e308", "1e309"]
ABSURD_EDITS: list[tuple[tuple[Any, ...], Any]] = [
    (("horizon", "days"), 10_000), (("horizon", "days"), 0), (("horizon", "days"), 367),
    (("horizon", "start"), "9999-12-30"), (("horizon", "start"), "0001-01-01"),
    (("shift_templates", "early", "hours"), 0), (("shift_templates", "early", "hours"), 1e18),
    (("shift_templates", "late", "hours"), 24 * 400), (("shift_templates", "early", "start"), "24:00"),
    (("shift_templates", "early", "breaks", 0, "minutes"), 10**9),
    (("demand", "forecast", "P1"), [10**18, 10**18, 10**18]), (("demand", "forecast", "P1"), [1e18, 0, 0]),
    (("demand", "forecast", "P1"), [float("nan"), 0, 0]), (("demand", "orders", 0, "quantity"), 10**18),
    (("demand", "orders", 0, "quantity"), "1e18"), (("demand", "orders", 1, "due"), "9999-12-31"),
    (("materials", 0, "opening_stock"), 1e18), (("materials", 0, "receipts", 0, "quantity"), float("inf")),
    (("products", 0, "lines", "L1", "minutes_per_unit"), 1e-12),
    (("products", 0, "lines", "L1", "minutes_per_unit"), 10**12),
    (("products", 0, "lines", "L1", "setup_minutes"), 10**12), (("products", 1, "lines", "L1", "rate_per_hour"), 1e18),
    (("products", 1, "lines", "L2", "rate_per_hour"), 0), (("products", 0, "bom", "M1"), 1e18),
    (("products", 0, "replenishment_days"), 1e18), (("lines", 1, "overtime", "max_minutes_per_shift"), 10**12),
    (("calendar", 0, "end"), "2026-11-30T07:00"), (("calendar", 0, "start"), "9999-12-31T00:00"),
    (("policy",), {"reserve_ratio": 0.99999}), (("policy",), {"reserve_ratio": "nan"}),
    (("solver",), {"time_limit": 1e18}), (("solver",), {"workers": 10**9}),
]


# ----------------------------------------------------------------------------- generators


def yaml_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into nested dicts and lists, the root's empty path first."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += yaml_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += yaml_paths(v, prefix + (i,))
    return out


def mutate_data(data: Any, rng: random.Random, odd: list[Any] = ODD_VALUES) -> Any:
    """A copy with 1-3 random changes: a key deleted, an unknown key, a list item duplicated
    (duplicate ids), or a value replaced by one of `odd`."""
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in yaml_paths(data) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        action = rng.random()
        if action < 0.25 and isinstance(parent, dict):
            del parent[key]
        elif action < 0.35 and isinstance(parent, dict):
            parent[f"unknown_{rng.randint(0, 9)}"] = 1
        elif action < 0.45 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))  # duplicates ids
        else:
            parent[key] = rng.choice(odd)
    return data


def set_path(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy with `value` at `path` (missing dict keys are created; a bad path leaves it as it was)."""
    data = copy.deepcopy(data)
    node = data
    try:
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        pass
    return data


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # the C emitter where built: ~10x faster
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


def read_csv_rows(path: Path, limit: int | None = None) -> list[list[str]]:
    """A CSV file as rows of cells (the header first), at most `limit` data rows."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    return rows if limit is None else rows[:limit + 1]


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def mutate_csv(rows: list[list[str]], rng: random.Random, refs: tuple[str, ...] | list[str] = ()) -> list[list[str]]:
    """1-3 changes to a table: odd cells, unknown references, columns dropped, renamed, added or
    doubled, rows cut short, made long, doubled or all removed, the header emptied."""
    rows = [list(r) for r in rows]
    for _ in range(rng.randint(1, 3)):
        header = rows[0] if rows else []
        body = rows[1:]
        action = rng.random()
        if action < 0.40 and body and header:
            r = rng.randrange(len(body))
            c = rng.randrange(len(header))
            if c < len(body[r]):
                body[r][c] = rng.choice([*ODD_CELLS, *refs]) if refs and rng.random() < 0.2 else rng.choice(ODD_CELLS)
        elif action < 0.50 and header:
            c = rng.randrange(len(header))
            rows = [[x for i, x in enumerate(row) if i != c] for row in rows]
        elif action < 0.57 and header:
            header[rng.randrange(len(header))] = rng.choice(["", "Product", "qty", "unknown", "date ", "🙂"])
        elif action < 0.62 and header:
            c = rng.randrange(len(header))
            rows[0] = header + [header[c]]
            for row in rows[1:]:
                row.append(row[c] if c < len(row) else "")
        elif action < 0.67:
            rows[0] = header + ["extra"]
            for row in rows[1:]:
                row.append(rng.choice(["1", "", "x"]))
        elif action < 0.72 and body:
            row = rng.choice(body)
            del row[rng.randrange(len(row) + 1):]
        elif action < 0.77 and body:
            rng.choice(body).extend(["surplus", "cells"])
        elif action < 0.84 and body:
            body.append(list(rng.choice(body)))  # a duplicated row
        elif action < 0.88:
            rows = rows[:1]  # the header alone
        elif action < 0.91:
            rows = [[]] + body  # no header
        elif action < 0.95 and header:
            rng.shuffle(header)  # columns named in another order than the data
        else:
            rows.append([rng.choice(ODD_CELLS) for _ in header])
    return rows


def broken_bytes(text: str, rng: random.Random) -> tuple[bytes, str]:
    """The text made unreadable one way or another, and a label saying how."""
    kind = rng.choice(["utf-16", "utf-16-bom", "latin-1", "cp1252", "truncated", "nul", "binary", "empty",
                       "whitespace", "bom-only", "unbalanced-quote", "huge-field", "crlf-mixed", "control"])
    raw = text.encode("utf-8")
    if kind == "utf-16":
        return ("é" + text).encode("utf-16-le"), kind
    if kind == "utf-16-bom":
        return text.encode("utf-16"), kind
    if kind == "latin-1":
        k = rng.randrange(len(text) + 1)
        return (text[:k] + "\xe9" + text[k:]).encode("latin-1", errors="replace"), kind
    if kind == "cp1252":
        return (text + "\u20ac,\u201c\n").encode("cp1252", errors="replace"), kind
    if kind == "truncated":
        return raw[: rng.randrange(max(1, len(raw)))], kind
    if kind == "nul":
        k = rng.randrange(max(1, len(raw)))
        return raw[:k] + b"\x00" + raw[k:], kind
    if kind == "binary":
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 400))), kind
    if kind == "empty":
        return b"", kind
    if kind == "whitespace":
        return b" \n\t\n", kind
    if kind == "bom-only":
        return b"\xef\xbb\xbf", kind
    if kind == "unbalanced-quote":
        k = rng.randrange(max(1, len(raw)))
        return raw[:k] + b'"' + raw[k:], kind
    if kind == "huge-field":
        lines = text.splitlines()
        return ("\n".join(lines[:2]) + "\n" + "9" * 200_000 + "\n").encode(), kind
    if kind == "crlf-mixed":
        return raw.replace(b"\n", b"\r", 1).replace(b"\n", b"\r\n", 2), kind
    return raw.replace(b",", b"\x1b,", 1) + b"\x07", kind


def sparse_file(path: Path, size: int) -> None:
    """A file of `size` bytes that takes no disk space (a hole), for the size limits."""
    with open(path, "wb") as f:
        f.truncate(size)


# hypothesis strategies: arbitrary YAML-able field values, CSV text and bytes
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
           | st.dates().map(str) | st.sampled_from(["nan", "inf", "1e999999999", "25:00", "P1", "L1", "M1"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8)
CELLS = st.text(max_size=14) | st.sampled_from(ODD_CELLS) | st.integers().map(str) | st.floats().map(repr)
TABLES = st.lists(st.lists(CELLS, max_size=6), max_size=6)
RAW = st.binary(max_size=300)
BENCH_TEXT = st.text(alphabet="0123456789 -.e+\n\tx", max_size=300)


def hypothesis_loop(strategy: st.SearchStrategy[Any], n: int, seed: int, body: Callable[[Any], None]) -> None:
    """Call body(x) for n values drawn by hypothesis from `strategy`, seeded, no shrinking.

    `body` records its own outcome and never raises, so hypothesis only generates.
    """
    if n <= 0:
        return

    @hypothesis_seed(seed)
    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def loop(x: Any) -> None:
        body(x)

    loop()


# ----------------------------------------------------------------------------- the harness


class CaseTimeout(BaseException):
    """A case ran past its timeout (a BaseException: `sopt.cli.main` must not catch it)."""


class SolveSkipped(BaseException):
    """A valid case reached the solver after the command's solve budget was spent."""


@dataclass
class Case:
    """One run of one command."""

    label: str  # what was broken, e.g. "actuals: mutated CSV"
    argv: list[str]
    names: tuple[str, ...]  # files and options an error line may name
    outs: tuple[Path, ...] = ()  # -o targets: absent or unchanged after exit 2
    broken: bool = False  # made to be broken: must exit 2
    ok_codes: tuple[int, ...] = (0,)  # exit codes of a valid run
    detail: str = ""  # the broken input, shown when the case fails


@dataclass
class Tally:
    """What one command's cases did."""

    command: str
    tried: int = 0
    rejected_exit2: int = 0
    valid_exit0: int = 0
    valid_unsolved: int = 0
    solves: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"tried": self.tried, "rejected_exit2": self.rejected_exit2, "valid_exit0": self.valid_exit0,
                "valid_unsolved": self.valid_unsolved, "failures": list(self.failures)}

    def line(self) -> str:
        return (f"fuzz {self.command}: {self.tried} tried, {self.rejected_exit2} rejected with exit 2, "
                f"{self.valid_exit0} valid (exit 0/1), {self.valid_unsolved} valid past the solve budget, "
                f"{len(self.failures)} failures, {self.seconds:.1f} s")


def _snapshot(path: Path) -> Any:
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if path.is_dir():
        return {str(p.relative_to(path)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
                for p in sorted(path.rglob("*"))}
    return None


def _leftovers(out: Path) -> list[str]:
    """Staging folders and temporary files a failed run must not leave beside OUT."""
    if not out.parent.exists():
        return []
    pats = [f"{out.name}.staging-*", f".{out.name}.tmp-*", f"{out.name}.tmp*", f".{out.name}.*.tmp"]
    return sorted({p.name for pat in pats for p in out.parent.glob(pat)})


_CULPRIT_HEAD = re.compile(r"^(?:sopt(?: [a-z]+)?: )?(?:argument )?")


def names_culprit(line: str, names: tuple[str, ...]) -> bool:
    """`FILE: field: message` with FILE one of `names` (or a path ending in one), or
    `--option: message` (argparse's `sopt: argument --x/-y: message` too)."""
    rest = _CULPRIT_HEAD.sub("", line, count=1)
    head, sep, tail = rest.partition(": ")
    if not sep or not tail.strip():
        return False
    options = {n for n in names if n.startswith("-")}
    if any(part in options for part in head.split("/")):
        return True
    files = {n for n in names if not n.startswith("-")}
    named = head in files or Path(head).name in files or any(head.endswith("/" + f) for f in files)
    if named and tail.startswith("file "):  # a problem of the whole file: `FILE: file not found`
        return True
    field_, sep2, message = tail.partition(": ")
    return named and bool(sep2) and bool(field_.strip()) and bool(message.strip())


@contextlib.contextmanager
def _deadline(seconds: float, what: str) -> Iterator[None]:
    """SIGALRM raises CaseTimeout in Python code; a watchdog thread ends the process when a case
    is stuck inside C code (a bigint of a billion digits, say), naming the case."""
    def alarm(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"no answer within {seconds:.0f} s")

    def watchdog() -> None:
        sys.__stderr__.write(f"\nfuzzing: HANG, no answer within {3 * seconds:.0f} s: {what}\n")
        sys.__stderr__.flush()
        os._exit(70)

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, alarm) if in_main else None
    if in_main:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    dog = threading.Timer(3 * seconds + 10, watchdog)
    dog.daemon = True
    dog.start()
    try:
        yield
    finally:
        dog.cancel()
        if in_main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def call(argv: list[str]) -> tuple[int, str, str]:
    """`sopt ARGV` in-process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


class Runner:
    """Runs cases of one command, checks each outcome, keeps the tally."""

    def __init__(self, command: str, workdir: Path, *, max_solves: int = 0, timeout: float = TIMEOUT):
        self.tally = Tally(command)
        self.workdir = workdir
        self.max_solves = max_solves
        self.timeout = timeout
        self.k = 0
        workdir.mkdir(parents=True, exist_ok=True)

    def case_dir(self) -> Path:
        """A fresh folder for the next case's files."""
        self.k += 1
        d = self.workdir / f"{self.tally.command}-{self.k:05d}"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        return d

    def run(self, case: Case) -> int | None:
        """Run and check one case; returns its exit code (None when it did not end normally)."""
        t = self.tally
        t.tried += 1
        before = {o: _snapshot(o) for o in case.outs}
        t0 = time.perf_counter()
        what = f"{t.command} case {t.tried} [{case.label}]: sopt {' '.join(case.argv)}"
        code: int | None = None
        out = err = ""
        problem = ""
        try:
            with _solve_budget(self), _deadline(self.timeout, what):
                code, out, err = call(case.argv)
        except SolveSkipped:
            t.valid_unsolved += 1
            return None
        except CaseTimeout as e:
            problem = str(e)
        except BaseException as e:  # noqa: BLE001 - anything escaping main() is a failure of the case
            if isinstance(e, KeyboardInterrupt):
                raise
            problem = f"{type(e).__name__} escaped main(): {e}"
        finally:
            t.seconds += time.perf_counter() - t0
        if not problem:
            problem = self._judge(case, code, out, err, before)
        if problem:
            detail = f"\n    input: {case.detail[:600]!r}" if case.detail else ""
            t.failures.append(f"{what}\n    {problem}{detail}")
        elif code == 2:
            t.rejected_exit2 += 1
        else:
            t.valid_exit0 += 1
        return code

    def _judge(self, case: Case, code: int | None, out: str, err: str, before: dict[Path, Any]) -> str:
        if "Traceback" in out or "Traceback" in err:
            return f"traceback printed (exit {code}): {err[-800:]}"
        if code == 4:
            return f"exit 4: {err.strip()[:300]}\n{_crash_text(err)}"
        if code == 2:
            lines = [ln for ln in err.splitlines() if ln.strip()]
            if not lines:
                return "exit 2 without a line on stderr"
            bad = [ln for ln in lines if not names_culprit(ln, case.names)]
            if bad:
                return f"exit 2 with lines not naming a file and field or an option ({case.names}): {bad[:3]}"
            for o in case.outs:
                if _snapshot(o) != before[o]:
                    return f"exit 2 but the output {o.name} was {'changed' if before[o] else 'written'}"
                left = _leftovers(o)
                if left:
                    return f"exit 2 but left {left} beside {o.name}"
            return ""
        if case.broken:
            return f"a broken input was accepted: exit {code}; stderr {err.strip()[:300]!r}"
        if code not in case.ok_codes:
            return f"exit {code} (a valid run may exit {case.ok_codes}): {err.strip()[:400]}"
        return ""


def _crash_text(err: str) -> str:
    m = re.search(r"written to (\S+)", err)
    if not m:
        return ""
    path = Path(m.group(1))
    try:
        text = path.read_text(encoding="utf-8")
        path.unlink()
    except OSError:
        return ""
    return "    " + "\n    ".join(text.strip().splitlines()[-8:])


@contextlib.contextmanager
def _solve_budget(runner: Runner) -> Iterator[None]:
    """Count the solves of a case; past the runner's budget stop the case at the solver's door."""
    import sopt.compare
    import sopt.model.solver
    import sopt.replan

    real = sopt.model.solver.solve

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if runner.tally.solves >= runner.max_solves:
            raise SolveSkipped
        runner.tally.solves += 1
        return real(*args, **kwargs)

    modules = (sopt.model.solver, sopt.replan, sopt.compare)
    saved = [m.solve for m in modules]
    for m in modules:
        m.solve = guarded  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for m, f in zip(modules, saved):
            m.solve = f  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- inputs


@functools.lru_cache(maxsize=8)
def _parsed(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader


def load_yaml(path: Path) -> Any:
    """A bundled YAML file, parsed once: a fresh copy each call."""
    return copy.deepcopy(_parsed(path))


def committed_plan(workdir: Path) -> Path:
    """The mini week solved once (1 worker, 2 s): the committed plan promise and replan break."""
    out = workdir / "committed"
    if not (out / "plan.json").exists():
        code, _, err = call(["solve", str(MINI), "-o", str(out), "--workers", "1", "--time-limit", "2", *QUIET_SOLVE])
        if code != 0:
            raise RuntimeError(f"solving {MINI.name} for the committed plan failed: exit {code}: {err}")
    return out


def _scenario_variant(d: Path, rng: random.Random, *, name: str = "week.yaml",
                      sources: tuple[Path, ...] = (MINI,)) -> tuple[Path, str, bool]:
    """A broken scenario file in d: (path, label, surely broken)."""
    src = rng.choice(sources)
    data = load_yaml(src)
    path = d / name
    r = rng.random()
    if r < 0.55:
        path.write_text(dump_yaml(mutate_data(data, rng, MORE_VALUES)), encoding="utf-8")
        return path, f"scenario {src.name}: mutated", False
    if r < 0.70:
        where, value = rng.choice(ABSURD_EDITS)
        path.write_text(dump_yaml(set_path(data, where, value)), encoding="utf-8")
        return path, f"scenario: {'.'.join(map(str, where))} = {value!r:.40}", False
    if r < 0.85:
        raw, how = broken_bytes(dump_yaml(data), rng)
        path.write_bytes(raw)
        return path, f"scenario: {how} bytes", how in ("utf-16", "utf-16-bom", "binary", "empty", "whitespace",
                                                        "bom-only", "nul", "control")
    if r < 0.90:
        import sopt.scenario

        sparse_file(path, sopt.scenario.MAX_INPUT_BYTES + 1)
        return path, "scenario: larger than the size limit", True
    if r < 0.95:
        path.mkdir()
        return path, "scenario: a folder", True
    return d / "missing.yaml", "scenario: missing file", True


def _csv_scenario(d: Path, rng: random.Random) -> tuple[Path, str, bool, str]:
    """The mini week with its forecast and orders in CSV files, one of them broken."""
    data = load_yaml(MINI)
    forecast = [["product", "date", "quantity"]] + [
        [p, f"2026-{11 if k == 0 else 12}-{30 if k == 0 else k:02d}", str(q)]
        for p, qs in data["demand"]["forecast"].items() for k, q in enumerate(qs)]
    orders = [["id", "product", "quantity", "due"]] + [
        [o["id"], o["product"], str(o["quantity"]), str(o["due"])] for o in data["demand"]["orders"]]
    data["demand"] = {"forecast_csv": "forecast.csv", "orders_csv": "orders.csv"}
    which, rows = rng.choice([("forecast.csv", forecast), ("orders.csv", orders)])
    tables = {"forecast.csv": forecast, "orders.csv": orders}
    if rng.random() < 0.7:
        tables[which] = mutate_csv(rows, rng, refs=["P1", "P2", "P3", "SO1"])
        raw = csv_text(tables[which]).encode()
        how = "mutated"
    else:
        raw, how = broken_bytes(csv_text(rows), rng)
    path = d / "week.yaml"
    path.write_text(dump_yaml(data), encoding="utf-8")
    for name, table in tables.items():
        (d / name).write_text(csv_text(table), encoding="utf-8")
    if rng.random() < 0.08:
        import sopt.scenario

        sparse_file(d / which, sopt.scenario.MAX_INPUT_BYTES + 1)
        return path, f"{which}: larger than the size limit", True, which
    (d / which).write_bytes(raw)
    return path, f"{which}: {how}", False, which


# ----------------------------------------------------------------------------- commands


def fuzz_validate(n: int, seed: int, workdir: Path, **_: Any) -> Tally:
    """`sopt validate` with mutated, absurd, unreadable and CSV-backed scenarios."""
    run = Runner("validate", workdir)
    rng = random.Random(seed)
    n_hyp = n // 4
    for _k in range(n - n_hyp):
        d = run.case_dir()
        if rng.random() < 0.8:
            path, label, broken = _scenario_variant(d, rng, sources=(MINI, DEMO))
            names: tuple[str, ...] = (path.name,)
        else:
            path, label, broken, which = _csv_scenario(d, rng)
            names = (path.name, which)
        run.run(Case(label, ["validate", str(path)], names, broken=broken, detail=_excerpt(path)))
        shutil.rmtree(d, ignore_errors=True)

    mini = load_yaml(MINI)
    paths = [p for p in yaml_paths(mini) if p]

    def body(x: tuple[int, Any]) -> None:
        where = paths[x[0] % len(paths)]
        d = run.case_dir()
        path = d / "week.yaml"
        path.write_text(dump_yaml(set_path(mini, where, x[1])), encoding="utf-8")
        run.run(Case(f"hypothesis value at {'.'.join(map(str, where))}", ["validate", str(path)], (path.name,),
                     detail=_excerpt(path)))
        shutil.rmtree(d, ignore_errors=True)

    hypothesis_loop(st.tuples(st.integers(0, 10**6), VALUES), n_hyp, seed, body)
    return run.tally


def _excerpt(path: Path, limit: int = 600) -> str:
    try:
        return path.read_bytes()[:limit].decode("utf-8", errors="replace") if path.is_file() else str(path)
    except OSError:
        return str(path)


BAD_SOLVE_ARGS: list[list[str]] = [
    ["--time-limit", x] for x in ("0", "-1", "nan", "inf", "1e18", "x", "")] + [
    ["--workers", x] for x in ("0", "-1", "1e9", "2.5", "100000000", "x")] + [
    ["--seed", x] for x in ("-1", "2147483648", "1e3", "x")] + [
    ["--reserve", x] for x in ("1", "-0.1", "nan", "inf", "0.12345", "x", "1e-9")]


def fuzz_solve(n: int, seed: int, workdir: Path, *, max_solves: int = 3, **_: Any) -> Tally:
    """`sopt solve` with broken arguments and scenarios; valid ones solve within the budget."""
    run = Runner("solve", workdir, max_solves=max_solves)
    rng = random.Random(seed)
    for _k in range(n):
        d = run.case_dir()
        out = d / "plan"
        if rng.random() < 0.3:
            (out).mkdir()
            (out / "kpis.json").write_text('{"kept": true}')
        if rng.random() < 0.3:
            bad = rng.choice(BAD_SOLVE_ARGS)
            case = Case(f"argument {' '.join(bad)}", ["solve", str(MINI), "-o", str(out), *FAST, *bad, *QUIET_SOLVE],
                        (MINI.name, bad[0]), (out,), broken=True)
            # the last --time-limit/--workers wins: the broken one comes after FAST
        else:
            path, label, broken = _scenario_variant(d, rng)
            case = Case(label, ["solve", str(path), "-o", str(out), *FAST, *QUIET_SOLVE], (path.name,), (out,),
                        broken=broken, detail=_excerpt(path))
        run.run(case)
        shutil.rmtree(d, ignore_errors=True)
    return run.tally


BAD_COMPARE_ARGS: list[list[str]] = [
    ["--reserve", *x] for x in (["x"], ["1.5"], ["0.1:0.05:0.01"], ["0:0.9:0.00001"], ["nan"], ["0.1:0.4:0"],
                                ["0.123456"], ["inf"], ["-0.1"], [""], ["0.1:0.2"], ["1e-9"], ["0.1:x:0.1"])] + [
    ["--reserve", "0.2", "--target-fill", x] for x in ("0", "1.5", "nan", "x", "-1")] + [
    ["--reserve", "0.2", "--weeks", x] for x in ("0", "-5", "1e18", "x", "99999999999")] + [
    ["--reserve", "0.2", "--sim-seed", x] for x in ("-1", "x", "2147483648")]
RUSH = {"rate_per_day": 1.5, "classes": ["A", "B"], "quantity": {"min": 10, "max": 60, "multiple": 10},
        "lead_time_days": 2, "weeks": 5, "seed": 0}


def fuzz_compare(n: int, seed: int, workdir: Path, *, max_solves: int = 2, **_: Any) -> Tally:
    """`sopt compare` with broken ratios and options and broken rush-order streams."""
    run = Runner("compare", workdir, max_solves=max_solves)
    rng = random.Random(seed)
    mini = load_yaml(MINI)
    base = ["--sequential", *FAST, "--weeks", "5"]
    for _k in range(n):
        d = run.case_dir()
        out = d / "cmp"
        if rng.random() < 0.3:
            out.mkdir()
            (out / "comparison.csv").write_text("kept\n")
        r = rng.random()
        if r < 0.45:
            bad = rng.choice(BAD_COMPARE_ARGS)
            opt = bad[-2] if len(bad) > 2 else bad[0]
            case = Case(f"argument {' '.join(bad)}", ["compare", str(MINI), "-o", str(out), *base, *bad],
                        (MINI.name, "--reserve", opt), (out,), broken=True)
        elif r < 0.85:
            data = dict(mini, rush_orders=copy.deepcopy(RUSH))
            sub = mutate_data(data["rush_orders"], rng, MORE_VALUES)
            data["rush_orders"] = sub
            path = d / "week.yaml"
            path.write_text(dump_yaml(data), encoding="utf-8")
            case = Case("rush_orders: mutated", ["compare", str(path), "-o", str(out), *base, "--reserve", "0.2"],
                        (path.name,), (out,), detail=json.dumps(sub, default=str))
        else:
            path, label, broken = _scenario_variant(d, rng)
            case = Case(label, ["compare", str(path), "-o", str(out), *base, "--reserve", "0.2"], (path.name,),
                        (out,), broken=broken, detail=_excerpt(path))
        run.run(case)
        shutil.rmtree(d, ignore_errors=True)
    return run.tally


def _plan_doc(plan_dir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    return doc


def _broken_plan(d: Path, committed: Path, rng: random.Random) -> tuple[Path, str, bool]:
    """A copy of the committed plan folder with its plan.json broken (or no folder at all)."""
    plan = d / "plan"
    shutil.copytree(committed, plan)
    target = plan / "plan.json"
    doc = _plan_doc(committed)
    r = rng.random()
    if r < 0.45:
        rows = doc["schedule"]
        if rows and rng.random() < 0.8:
            row = rng.choice(rows)
            key = rng.choice(list(row))
            row[key] = rng.choice([*MORE_VALUES, "P999", "L9", "2026-11-30-night", "2026-12-31T06:00", -5, 10**18])
        else:
            doc = mutate_data(doc, rng, MORE_VALUES)
        target.write_text(json.dumps(doc, default=str), encoding="utf-8")
        return plan, "plan.json: mutated", False
    if r < 0.55:
        doc = set_path(doc, ("kpis", "reserve_ratio"), rng.choice(["x", 1.5, -1, None, [], "nan", 0.123456789]))
        target.write_text(json.dumps(doc), encoding="utf-8")
        return plan, "plan.json: kpis.reserve_ratio", False
    if r < 0.65:
        target.write_text(json.dumps(rng.choice([[], "plan", 3, None, {"schedule": {}}, {"schedule": [1]},
                                                 {"schedule": [], "capacity": "x"}, {"schedule": None}])))
        return plan, "plan.json: not a plan", True
    if r < 0.85:
        raw, how = broken_bytes(json.dumps(doc, indent=1), rng)
        target.write_bytes(raw)
        return plan, f"plan.json: {how} bytes", how not in ("crlf-mixed",)
    if r < 0.90:
        sparse_file(target, 60 * 2**20)
        return plan, "plan.json: larger than the size limit", True
    if r < 0.95:
        target.unlink()
        return plan, "plan.json: missing", True
    shutil.rmtree(plan)
    plan.write_text("not a folder")
    return plan, "plan folder: a file", True


BAD_PROMISE_ARGS: list[list[str]] = [
    ["--quantity", x] for x in ("1e18", "0", "-5", "x", "nan", "inf", "1.5", "", "99999999999999999999",
                                "1_000", "１０")] + [
    ["--now", x] for x in ("garbage", "2026-11-30T25:00", "1999-01-01T00:00", "9999-12-31T23:59",
                           "2026-12-31T00:00", "2026-11-30T06:00+02:00", "", "2026-02-30T06:00")] + [
    ["--requested", x] for x in ("x", "2026-02-30", "1900-01-01", "", "9999-12-31", "3000-01-01")] + [
    ["--buffer-days", x] for x in ("-1", "x", "1e9", "nan", "366")] + [
    ["--product", x] for x in ("P999", "", "🙂", "p1", "P1 ")]


def fuzz_promise(n: int, seed: int, workdir: Path, *, plan_dir: Path | None = None, **_: Any) -> Tally:
    """`sopt promise` against the committed mini-week plan: broken options, plan.json, scenario."""
    run = Runner("promise", workdir)
    rng = random.Random(seed)
    committed = plan_dir or committed_plan(workdir)
    good = {"--product": "P2", "--quantity": "30"}
    for _k in range(n):
        d = run.case_dir()
        out = d / "accepted"
        args = dict(good)
        if rng.random() < 0.3:
            args["--now"] = "2026-12-01T08:00"
        accept = ["--accept", "-o", str(out)] if rng.random() < 0.4 else []
        if accept and rng.random() < 0.3:
            out.mkdir()
            (out / "plan.json").write_text("{}")
        rush = ["--rush"] if rng.random() < 0.4 else []
        plan, scenario = committed, MINI
        r = rng.random()
        broken = False
        names: tuple[str, ...] = ("--product", "--quantity", "--now", "-o", "plan.json", "plan", MINI.name,
                                  committed.name)
        if r < 0.4:
            bad = rng.choice(BAD_PROMISE_ARGS)
            args[bad[0]] = bad[1]
            # int() reads 1_000 and full-width digits: odd, but the number is what was meant
            label, broken = f"argument {' '.join(bad)}", bad[1] not in ("P1 ", "1_000", "１０")
            names += (bad[0],)
        elif r < 0.75:
            plan, label, broken = _broken_plan(d, committed, rng)
        else:
            scenario, label, broken = _scenario_variant(d, rng)
            names += (scenario.name,)
        argv = ["promise", str(scenario), "--plan", str(plan), *[x for kv in args.items() for x in kv], *rush, *accept]
        run.run(Case(label, argv, names, (out,) if accept else (), broken=broken, ok_codes=(0, 1),
                     detail=_excerpt(plan / "plan.json") if plan != committed else _excerpt(scenario)))
        shutil.rmtree(d, ignore_errors=True)

    def body(raw: bytes) -> None:
        d = run.case_dir()
        plan = d / "plan"
        shutil.copytree(committed, plan)
        (plan / "plan.json").write_bytes(raw)
        run.run(Case("hypothesis plan.json bytes", ["promise", str(MINI), "--plan", str(plan), "--product", "P2",
                                                    "--quantity", "10"], ("plan.json", "plan"), broken=True,
                     detail=repr(raw[:200])))
        shutil.rmtree(d, ignore_errors=True)

    hypothesis_loop(RAW, n // 10, seed, body)
    return run.tally


def _progress_rows(committed: Path) -> list[list[str]]:
    runs = _plan_doc(committed)["schedule"]
    rows = [["run_id", "quantity_done", "status"]]
    rows.append([runs[0]["run_id"], str(runs[0]["quantity"]), "done"])
    if len(runs) > 1:
        rows.append([runs[1]["run_id"], "", "running"])
    return rows


RECEIPTS = [["material", "at", "quantity", "status", "new_at"], ["M1", "2026-12-01T10:00", "40", "arrived", ""],
            ["M1", "2026-12-01T10:00", "50", "slipped", "2026-12-02T06:00"]]
ORDERS = [["id", "product", "quantity", "due", "priority"], ["SO9", "P2", "30", "2026-12-02", "1"]]
BAD_REPLAN_ARGS: list[list[str]] = [
    ["--now", x] for x in ("garbage", "2026-11-29T23:59", "2026-12-05T00:00", "9999-12-31T00:00", "",
                           "2026-12-01T06:00+01:00", "2026-12-01T25:00")] + [
    ["--time-limit", x] for x in ("0", "-1", "nan", "inf", "x", "1e18")] + [
    ["--workers", x] for x in ("0", "-3", "1000000000", "x", "1.5")] + [
    ["--seed", x] for x in ("-1", "x", "2147483648", "1e3")]


def fuzz_replan(n: int, seed: int, workdir: Path, *, plan_dir: Path | None = None, max_solves: int = 2,
                **_: Any) -> Tally:
    """`sopt replan` of the committed mini-week plan: broken progress, receipts, orders, --now, plan."""
    run = Runner("replan", workdir, max_solves=max_solves)
    rng = random.Random(seed)
    committed = plan_dir or committed_plan(workdir)
    progress = _progress_rows(committed)
    run_ids = [r[0] for r in progress[1:]]
    tables = {"progress.csv": progress, "receipts.csv": RECEIPTS, "orders.csv": ORDERS}
    refs = {"progress.csv": run_ids + ["L1-20261130-early-99"], "receipts.csv": ["M1", "M9"],
            "orders.csv": ["P1", "P3", "SO1", "SO2"]}

    def case(d: Path, label: str, broken: bool, *, texts: dict[str, bytes] | None = None,
             bad: list[str] | None = None, plan: Path = committed, scenario: Path = MINI,
             names: tuple[str, ...] = ()) -> Case:
        out = d / "replanned"
        if rng.random() < 0.3:
            out.mkdir()
            (out / "plan.json").write_text("{}")
        files = {name: csv_text(rows).encode() for name, rows in tables.items()}
        files.update(texts or {})
        for name, raw in files.items():
            (d / name).write_bytes(raw)
        opts = {"--now": "2026-12-01T06:00", "--time-limit": "1", "--workers": "1"}
        if bad:
            opts[bad[0]] = bad[1]
        argv = ["replan", str(scenario), "--plan", str(plan), "--actuals", str(d / "progress.csv"), "-o", str(out),
                *[x for kv in opts.items() for x in kv]]
        extra = rng.sample(["receipts", "orders"], rng.randint(0, 2))
        for name in (texts or {}):
            stem = name.removesuffix(".csv")
            if stem in ("receipts", "orders") and stem not in extra:
                extra.append(stem)
        for stem in extra:
            argv += ["--receipts" if stem == "receipts" else "--new-orders", str(d / f"{stem}.csv")]
        detail = "; ".join(f"{k}: {v[:300]!r}" for k, v in (texts or {}).items())
        return Case(label, argv, ("progress.csv", "receipts.csv", "orders.csv", "plan.json", "plan", MINI.name,
                                  "--now", "-o", *names, *(bad[:1] if bad else [])), (out,), broken=broken,
                    ok_codes=(0, 1), detail=detail)

    for _k in range(n - n // 5):
        d = run.case_dir()
        r = rng.random()
        if r < 0.5:
            name = rng.choice(list(tables))
            if rng.random() < 0.75:
                raw, how = csv_text(mutate_csv(tables[name], rng, refs[name])).encode(), "mutated"
            elif rng.random() < 0.15:
                raw, how = b"", "huge"
            else:
                raw, how = broken_bytes(csv_text(tables[name]), rng)
            c = case(d, f"{name}: {how}", how in ("utf-16", "utf-16-bom", "binary", "empty", "whitespace", "bom-only",
                                                  "huge-field"), texts={name: raw})
            if how == "huge":  # a sparse file of 60 MiB instead of the CSV
                sparse_file(d / name, 60 * 2**20)
                c.broken = True
        elif r < 0.7:
            bad = rng.choice(BAD_REPLAN_ARGS)
            c = case(d, f"argument {' '.join(bad)}", True, bad=bad)
        elif r < 0.88:
            plan, label, broken = _broken_plan(d, committed, rng)
            c = case(d, label, broken, plan=plan)
        else:
            scenario, label, broken = _scenario_variant(d, rng, name="scenario.yaml")
            c = case(d, label, broken, scenario=scenario, names=(scenario.name,))
        run.run(c)
        shutil.rmtree(d, ignore_errors=True)

    def body(x: tuple[str, list[list[str]]]) -> None:
        name, body_rows = x
        d = run.case_dir()
        rows = [tables[name][0], *body_rows]
        run.run(case(d, f"hypothesis rows of {name}", False, texts={name: csv_text(rows).encode()}))
        shutil.rmtree(d, ignore_errors=True)

    hypothesis_loop(st.tuples(st.sampled_from(list(tables)), TABLES), n // 5, seed, body)
    return run.tally


TRIGEIRO = """ 3 4
 1
 500
 1.00 2.00  10. 100.
 2.00 1.00  20. 50.
 1.00 3.00  5. 80.
 10 20 30
 0 40 10
 50 0 20
 30 30 30
"""


def _bench_sources() -> list[tuple[str, str, str]]:
    return [("jobshop", "ft06.txt", (BENCH / "ft06.txt").read_text()),
            ("jobshop", "la01.txt", (BENCH / "la01.txt").read_text()),
            ("fjs", "mk01.txt", (BENCH / "mk01.txt").read_text()),
            ("trigeiro", "T3.DAT", TRIGEIRO)]


ODD_TOKENS = ["-1", "0", "1e18", "1e999999999", "nan", "inf", "x", "1.5", "99999999999", "-0", "1e-999999999",
              "0x1F", "½", "1_0", "1e400", "9" * 5000]


def mutate_tokens(text: str, rng: random.Random) -> str:
    """1-3 changes to a whitespace-separated number file: odd tokens, tokens or lines removed,
    added, doubled or swapped."""
    lines = [ln.split() for ln in text.splitlines()]
    for _ in range(rng.randint(1, 3)):
        filled = [i for i, ln in enumerate(lines) if ln]
        if not filled:
            break
        i = rng.choice(filled)
        action = rng.random()
        if action < 0.45:
            lines[i][rng.randrange(len(lines[i]))] = rng.choice(ODD_TOKENS)
        elif action < 0.6:
            del lines[i][rng.randrange(len(lines[i]))]
        elif action < 0.7:
            lines[i].insert(rng.randrange(len(lines[i]) + 1), rng.choice(["1", "0", "7", "x"]))
        elif action < 0.8:
            del lines[i]
        elif action < 0.88:
            lines.insert(i, list(lines[i]))
        elif action < 0.95:
            j = rng.choice(filled)
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines = lines[: rng.randint(1, len(lines))]
    return "\n".join(" ".join(ln) for ln in lines) + "\n"


def fuzz_import(n: int, seed: int, workdir: Path, **_: Any) -> Tally:
    """`sopt import` of mutated, unreadable and mislabelled benchmark files."""
    import sopt.importers

    run = Runner("import", workdir)
    rng = random.Random(seed)
    sources = _bench_sources()
    n_hyp = n // 5
    for _k in range(n - n_hyp):
        d = run.case_dir()
        fmt, name, text = rng.choice(sources)
        src = d / name
        out = d / "imported.yaml"
        r = rng.random()
        broken = False
        if r < 0.6:
            src.write_text(mutate_tokens(text, rng), encoding="utf-8")
            label = f"{name}: mutated"
        elif r < 0.8:
            raw, how = broken_bytes(text, rng)
            src.write_bytes(raw)
            label, broken = f"{name}: {how} bytes", how in ("utf-16", "utf-16-bom", "binary", "empty", "whitespace",
                                                              "bom-only", "nul", "latin-1", "cp1252")
        elif r < 0.85:
            src.write_text(text, encoding="utf-8")
            fmt = rng.choice([f for f in sopt.importers.FORMATS if f != fmt])
            label = f"{name}: read as {fmt}"
        elif r < 0.9:
            sparse_file(src, sopt.importers.MAX_BYTES + 1)
            label, broken = f"{name}: larger than the size limit", True
        elif r < 0.95:
            src.write_text(text, encoding="utf-8")
            out.mkdir()
            label, broken = "-o: a folder", True
        else:
            src.write_text(text, encoding="utf-8")
            out = src
            label, broken = "-o: the input file", True
        if out != src and out.suffix and rng.random() < 0.2 and not out.exists():
            out.write_text("# kept\n")
        run.run(Case(label, ["import", "--format", fmt, str(src), "-o", str(out)], (src.name, out.name, "-o"),
                     (out,), broken=broken, detail=_excerpt(src)))
        shutil.rmtree(d, ignore_errors=True)

    def body(x: tuple[str, str]) -> None:
        fmt, text = x
        d = run.case_dir()
        src = d / "bench.txt"
        src.write_text(text, encoding="utf-8")
        out = d / "imported.yaml"
        run.run(Case(f"hypothesis text as {fmt}", ["import", "--format", fmt, str(src), "-o", str(out)],
                     (src.name, out.name, "-o"), (out,), detail=text))
        shutil.rmtree(d, ignore_errors=True)

    hypothesis_loop(st.tuples(st.sampled_from(["jobshop", "fjs", "trigeiro"]), BENCH_TEXT), n_hyp, seed, body)
    return run.tally


def fuzz_accuracy(n: int, seed: int, workdir: Path, **_: Any) -> Tally:
    """`sopt accuracy` with broken sales plans, shipments, --month and --scenario."""
    run = Runner("accuracy", workdir)
    rng = random.Random(seed)
    plan_rows = read_csv_rows(EXAMPLES / "sales_plan_2026-11.csv", 40)
    ship_rows = read_csv_rows(EXAMPLES / "shipments_2026-11.csv", 40)
    products = sorted({r[0] for r in plan_rows[1:]})

    def case(d: Path, label: str, broken: bool, plan: bytes, ship: bytes, extra: list[str],
             names: tuple[str, ...] = ()) -> Case:
        (d / "plan.csv").write_bytes(plan)
        (d / "ship.csv").write_bytes(ship)
        out = d / "accuracy.csv"
        if rng.random() < 0.2:
            out.write_text("kept\n")
        argv = ["accuracy", "--sales-plan", str(d / "plan.csv"), "--actual", str(d / "ship.csv"), "-o", str(out),
                *extra]
        return Case(label, argv, ("plan.csv", "ship.csv", "--month", "-o", "--scenario", *names),
                    (out,), broken=broken, detail=(plan[:300] + b" | " + ship[:300]).decode("utf-8", "replace"))

    good_plan, good_ship = csv_text(plan_rows).encode(), csv_text(ship_rows).encode()
    for _k in range(n - n // 5):
        d = run.case_dir()
        plan, ship, extra = good_plan, good_ship, rng.choice([[], ["--json"], ["--month", "2026-11"]])
        r = rng.random()
        broken = False
        if r < 0.55:
            which = rng.choice(["plan", "ship"])
            rows = plan_rows if which == "plan" else ship_rows
            if which == "plan" and rng.random() < 0.3:
                rows = [[*rows[0], "class"]] + [[*row, rng.choice("ABC")] for row in rows[1:]]
            raw = csv_text(mutate_csv(rows, rng, products)).encode()
            label = f"{which}: mutated"
            plan, ship = (raw, ship) if which == "plan" else (plan, raw)
        elif r < 0.75:
            which = rng.choice(["plan", "ship"])
            raw, how = broken_bytes(csv_text(plan_rows if which == "plan" else ship_rows), rng)
            plan, ship = (raw, ship) if which == "plan" else (plan, raw)
            label, broken = f"{which}: {how} bytes", how in ("utf-16", "utf-16-bom", "binary", "empty", "whitespace",
                                                              "bom-only", "huge-field")
        elif r < 0.85:
            extra = ["--month", rng.choice(["2026-13", "x", "2026-1", "0000-00", "2025-01", "", "2026-11-01"])]
            label, broken = f"--month {extra[1]}", True
        elif r < 0.92:
            scenario, label, broken = _scenario_variant(d, rng)
            extra = ["--scenario", str(scenario)]
            broken = True  # the mini week's products are not the sales plan's
            run.run(case(d, label, broken, plan, ship, extra, (scenario.name,)))
            shutil.rmtree(d, ignore_errors=True)
            continue
        else:
            c = case(d, "plan: larger than the size limit", True, plan, ship, extra)
            sparse_file(d / "plan.csv", 60 * 2**20)
            run.run(c)
            shutil.rmtree(d, ignore_errors=True)
            continue
        run.run(case(d, label, broken, plan, ship, extra))
        shutil.rmtree(d, ignore_errors=True)

    def body(x: tuple[bool, list[list[str]]]) -> None:
        keep_header, rows = x
        d = run.case_dir()
        table = [plan_rows[0], *rows] if keep_header else rows
        run.run(case(d, "hypothesis rows of the sales plan", False, csv_text(table).encode(), good_ship, []))
        shutil.rmtree(d, ignore_errors=True)

    hypothesis_loop(st.tuples(st.booleans(), TABLES), n // 5, seed, body)
    return run.tally


BAD_ABC_ARGS: list[list[str]] = [
    ["--ratio", *x] for x in (["0", "0", "0"], ["-1", "3", "6"], ["x", "1", "1"], ["1e18", "1", "1"],
                              ["1.5", "3", "6"], ["9999999", "1", "1"])] + [
    ["--weeks", x] for x in ("0", "-1", "1e9", "x", "99999999", "nan")] + [
    ["--basis", x] for x in ("price", "")]


def fuzz_abc(n: int, seed: int, workdir: Path, **_: Any) -> Tally:
    """`sopt abc` with broken sales histories and options."""
    run = Runner("abc", workdir)
    rng = random.Random(seed)
    rows = read_csv_rows(EXAMPLES / "sales_history.csv", 60)
    no_price = [r[:3] for r in rows]
    products = sorted({r[0] for r in rows[1:]})

    def case(d: Path, label: str, broken: bool, raw: bytes, extra: list[str]) -> Case:
        (d / "history.csv").write_bytes(raw)
        out = d / "classes.csv"
        if rng.random() < 0.2:
            out.write_text("kept\n")
        return Case(label, ["abc", "--history", str(d / "history.csv"), "-o", str(out), *extra],
                    ("history.csv", "--ratio", "--weeks", "--basis", "-o"), (out,), broken=broken,
                    detail=raw[:400].decode("utf-8", "replace"))

    for _k in range(n - n // 5):
        d = run.case_dir()
        extra = rng.choice([[], ["--basis", "value"], ["--weeks", "2"]])
        r = rng.random()
        broken = False
        if r < 0.55:
            raw, label = csv_text(mutate_csv(rows, rng, products)).encode(), "history: mutated"
        elif r < 0.75:
            raw, how = broken_bytes(csv_text(rows), rng)
            label, broken = f"history: {how} bytes", how in ("utf-16", "utf-16-bom", "binary", "empty", "whitespace",
                                                              "bom-only", "huge-field")
        elif r < 0.88:
            bad = rng.choice(BAD_ABC_ARGS)
            raw, extra, label, broken = csv_text(rows).encode(), bad, f"argument {' '.join(bad)}", True
        elif r < 0.94:
            raw, extra = csv_text(no_price).encode(), ["--basis", "value"]
            label, broken = "--basis value without a price column", True
        else:
            c = case(d, "history: larger than the size limit", True, b"", extra)
            sparse_file(d / "history.csv", 60 * 2**20)
            run.run(c)
            shutil.rmtree(d, ignore_errors=True)
            continue
        run.run(case(d, label, broken, raw, extra))
        shutil.rmtree(d, ignore_errors=True)

    def body(raw: bytes) -> None:
        d = run.case_dir()
        run.run(case(d, "hypothesis bytes", False, raw, []))
        shutil.rmtree(d, ignore_errors=True)

    def table_body(t: list[list[str]]) -> None:
        d = run.case_dir()
        run.run(case(d, "hypothesis rows", False, csv_text([rows[0], *t]).encode(), []))
        shutil.rmtree(d, ignore_errors=True)

    hypothesis_loop(RAW, n // 10, seed, body)
    hypothesis_loop(TABLES, n // 5 - n // 10, seed + 1, table_body)
    return run.tally


COMMANDS: dict[str, Callable[..., Tally]] = {
    "validate": fuzz_validate, "solve": fuzz_solve, "compare": fuzz_compare, "promise": fuzz_promise,
    "replan": fuzz_replan, "import": fuzz_import, "accuracy": fuzz_accuracy, "abc": fuzz_abc,
}
# Share of a total count per command: the commands that solve get fewer, cheap inputs get more.
SHARES = {"validate": 0.2, "solve": 0.08, "compare": 0.06, "promise": 0.16, "replan": 0.14, "import": 0.12,
          "accuracy": 0.12, "abc": 0.12}


def fuzz_all(total: int, seed: int, workdir: Path | None = None, *, max_solves: int = 6,
             report: Callable[[Tally], None] | None = None) -> dict[str, Tally]:
    """Every command, `total` cases split by SHARES; the committed plan solved once."""
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="sopt-fuzz-")) if workdir is None else workdir
    try:
        plan_dir = committed_plan(workdir)
        out: dict[str, Tally] = {}
        for k, (name, fn) in enumerate(COMMANDS.items()):
            n = max(1, round(total * SHARES[name]))
            out[name] = fn(n, seed + k, workdir / name, plan_dir=plan_dir, max_solves=max_solves)
            if report:
                report(out[name])
        return out
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)
