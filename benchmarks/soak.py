"""Long runs outside the test suite: `python benchmarks/soak.py SUBCOMMAND ...`.

- `fuzz --count N --seed S`: N broken inputs (default 2000) through every command
  (tests/fuzzing.py), a markdown table per command: tried, rejected with exit 2, valid, failures;
  exit 1 when any case failed.

Each subcommand is a `cmd_<name>(args) -> int` registered in `SUBCOMMANDS` with its own
arguments; further ones (properties, load) are added the same way.
"""

from __future__ import annotations

import argparse
import datetime as dt
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


# ----------------------------------------------------------------------------- the command line

SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "fuzz": ("broken inputs through every sopt command", add_fuzz, cmd_fuzz),
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
