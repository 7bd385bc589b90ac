"""Run a command as a subprocess and watch its process tree: wall time, peak memory, leftovers.

Shared by tests/test_load.py (the reduced compare) and `benchmarks/soak.py load` (the full
one). `run_watched(cmd, memory_bound=...)` samples the resident memory (RSS) of the command
and all its descendants every `interval` seconds with psutil; the peak is the largest sum
seen (an upper bound of the real use: pages shared between the processes count once per
process). A tree above `memory_bound` bytes, or still running after `timeout` seconds, is
killed, and the result says so. When the command has ended, every descendant seen while it
ran that is still alive (not a zombie) after `grace` seconds is a leftover; leftovers are
reported, then killed (they are the command's own processes).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

GIB = 1024**3
MIB = 1024**2


@dataclass
class Watched:
    """What the watched command did."""

    returncode: int
    seconds: float
    peak_rss: int  # bytes: the largest sum of RSS over the tree at one sample
    peak_processes: int  # the most processes alive at one sample (the command included)
    processes_seen: int  # processes of the tree seen in all (the command included)
    leftover: list[str] = field(default_factory=list)  # "pid name cmdline" of descendants alive at the end
    stdout: str = ""
    stderr: str = ""
    killed: str = ""  # "" or why the tree was killed ("memory", "timeout")


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _rss(procs: Sequence[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def _alive(pid: int, created: float) -> psutil.Process | None:
    """The process with this pid and start time, when it still runs (not a zombie)."""
    try:
        p = psutil.Process(pid)
        if p.create_time() != created or p.status() == psutil.STATUS_ZOMBIE:
            return None
        return p
    except psutil.NoSuchProcess:
        return None


def _kill(procs: Sequence[psutil.Process]) -> None:
    for p in reversed(procs):  # children first
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(list(procs), timeout=5)


def run_watched(cmd: Sequence[str], *, cwd: Path | None = None, memory_bound: int | None = None,
                timeout: float | None = None, interval: float = 0.1, grace: float = 3.0) -> Watched:
    """Run `cmd`, sample its process tree until it ends, and report (see the module docstring)."""
    seen: dict[int, float] = {}  # pid -> create time, every descendant seen
    peak_rss = peak_n = 0
    killed = ""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        popen = subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        root = psutil.Process(popen.pid)
        while True:
            procs = _tree(root)
            for p in procs[1:]:
                try:
                    seen.setdefault(p.pid, p.create_time())
                except psutil.NoSuchProcess:
                    pass
            rss = _rss(procs)
            peak_rss, peak_n = max(peak_rss, rss), max(peak_n, len(procs))
            if popen.poll() is not None:
                break
            if memory_bound is not None and rss > memory_bound:
                killed = "memory"
            elif timeout is not None and time.perf_counter() - t0 > timeout:
                killed = "timeout"
            if killed:
                _kill(procs)
                popen.wait()
                break
            time.sleep(interval)
        seconds = time.perf_counter() - t0
        # descendants of a command that ended get `grace` seconds to go
        deadline = time.perf_counter() + grace
        left = [p for pid, c in seen.items() if (p := _alive(pid, c)) is not None]
        while left and time.perf_counter() < deadline:
            time.sleep(0.1)
            left = [p for p in left if _alive(p.pid, seen[p.pid]) is not None]
        leftover = []
        for p in left:
            try:
                leftover.append(f"{p.pid} {p.name()} {' '.join(p.cmdline())[:200]}")
            except psutil.NoSuchProcess:
                pass
        _kill(left)
        out.seek(0)
        err.seek(0)
        return Watched(popen.returncode, seconds, peak_rss, peak_n, len(seen) + 1, leftover,
                       out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), killed)


def ratio_range(n: int) -> tuple[str, list[str]]:
    """`n` reserve ratios 0.00, 0.01, ... as a `--reserve` range and as folder names (r0.00 ...)."""
    if not 1 <= n <= 95:
        raise ValueError("give 1 to 95 ratios (steps of 0.01 from 0.00)")
    return f"0.00:{(n - 1) / 100:.2f}:0.01", [f"r{i / 100:.2f}" for i in range(n)]


def check_compare_folder(out: Path, folders: Sequence[str], *, rush: bool = True) -> list[str]:
    """What is missing from a `sopt compare` folder: the files, one comparison row and one plan
    folder (with its schedule and, with a rush stream, its simulation) per ratio."""
    import csv
    import json

    problems = []
    for name in ("comparison.csv", "comparison.png", "recommendation.json"):
        if not (out / name).is_file():
            problems.append(f"{name} is missing")
    if (out / "comparison.csv").is_file():
        with open(out / "comparison.csv", encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        got = [f"r{r['reserve_ratio']}" for r in rows]
        if got != list(folders):
            problems.append(f"comparison.csv has {len(rows)} rows for {got[:3]}...; expected {len(folders)}")
        no_plan = [r["reserve_ratio"] for r in rows if r["status"] not in ("OPTIMAL", "FEASIBLE")]
        if no_plan:
            problems.append(f"ratios without a plan: {no_plan}")
        if rush and any(not r["rush_orders"] for r in rows):
            problems.append("some ratios have no rush simulation")
    if (out / "recommendation.json").is_file():
        doc = json.loads((out / "recommendation.json").read_text(encoding="utf-8"))
        if doc.get("not_run") or doc.get("interrupted"):
            problems.append(f"recommendation.json: not run {doc.get('not_run')}, interrupted {doc.get('interrupted')}")
    for name in folders:
        need = ["schedule.csv", "kpis.json"] + (["rush_simulation.csv"] if rush else [])
        missing = [f for f in need if not (out / name / f).is_file()]
        if missing:
            problems.append(f"{name}/ lacks {', '.join(missing)}")
    return problems
