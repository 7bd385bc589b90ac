"""`sopt export OUTDIR --format csv|xlsx|json`: rewrite a plan folder's views from plan.json.

Nothing is solved. `csv` rewrites the contract CSVs (schedule, capacity, production_plan,
orders, unmet; mrp, purchase_orders, expedite, staffing and jobs when plan.json holds them) and
`dispatch/<line>.csv`; `xlsx` writes `schedule.xlsx`; `json` rewrites
`kpis.json`. A `schedule.csv` whose content differs from plan.json's schedule (edited by
hand since) is not overwritten unless `force`. Each file is written atomically (a temporary
file in the same folder, then `os.replace`), under the folder's lock.

Product names and materials per unit (for the dispatch lists) come from plan.json's
`products` table when it has one, else from the scenario file plan.json names (when it
still exists and has the same name), else the dispatch lists show product ids and no
materials.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sopt.errors import InputError
from sopt.output import COLUMNS, csv_bytes, locked
from sopt.shopfloor import Catalog, dispatch_files_from_rows, lines_of, workbook_from_rows

FORMATS = ("csv", "xlsx", "json")
TABLES = ("schedule", "capacity", "production_plan", "orders", "unmet")
# Extra plan.json tables shown in the workbook when present: key -> sheet name
EXTRA_SHEETS = {"mrp": "MRP", "purchase_orders": "Purchase orders", "expedite": "Expedite", "staffing": "Staffing",
                "jobs": "Jobs"}


def read_plan(outdir: Path) -> dict[str, Any]:
    """plan.json of a plan folder, checked for the tables export needs."""
    path = outdir / "plan.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([f"{path}: not found (is {outdir} a plan folder written by sopt solve?)"]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise InputError([f"{path}: not a readable plan.json ({ex})"]) from None
    if not isinstance(doc, dict):
        raise InputError([f"{path}: (top level): expected an object"])
    problems = [f"{path}: {k}: missing or not a list of rows" for k in TABLES
                if not isinstance(doc.get(k), list) or not all(isinstance(r, dict) for r in doc[k])]
    if not isinstance(doc.get("kpis"), dict):
        problems.append(f"{path}: kpis: missing or not an object")
    if problems:
        raise InputError(problems)
    return doc


def catalog_for(doc: dict[str, Any], outdir: Path) -> Catalog:
    """Product names and BOMs for the views (see the module doc)."""
    cat = Catalog.from_doc(doc)
    if cat is not None:
        return cat
    src = doc.get("scenario")
    if isinstance(src, dict):
        src = src.get("source") or src.get("path")
    if isinstance(src, str) and src:
        from sopt.scenario import load_scenario

        for cand in (Path(src), outdir / src, outdir.parent / src):
            if cand.is_file():
                with contextlib.suppress(Exception):
                    sc = load_scenario(cand)
                    if sc.name == doc["kpis"].get("scenario", sc.name):
                        return Catalog.from_scenario(sc)
                break
    return Catalog()


def _rows_of(data: bytes) -> list[list[str]] | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return [row for row in csv.reader(io.StringIO(text)) if row]


def schedule_edited(outdir: Path, doc: dict[str, Any]) -> bool:
    """True when OUTDIR/schedule.csv exists and its content differs from plan.json's schedule
    (compared as CSV rows, so a BOM or line-ending change alone is not an edit)."""
    path = outdir / "schedule.csv"
    if not path.exists():
        return False
    expected = csv_bytes(doc["schedule"], COLUMNS["schedule.csv"])
    return _rows_of(path.read_bytes()) != _rows_of(expected)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file through a temporary file in the same folder and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _extra_columns() -> dict[str, list[str]]:
    from sopt.jobs import JOB_COLUMNS
    from sopt.mrp import EXPEDITE_COLUMNS, MRP_COLUMNS, PO_COLUMNS
    from sopt.output import STAFFING_COLUMNS

    return {"mrp": MRP_COLUMNS, "purchase_orders": PO_COLUMNS, "expedite": EXPEDITE_COLUMNS,
            "staffing": STAFFING_COLUMNS, "jobs": JOB_COLUMNS}


def extra_tables(doc: dict[str, Any]) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """The MRP tables plan.json holds (key -> (columns, rows)); columns from sopt.mrp, else the rows."""
    known = _extra_columns()
    out: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
    for key in EXTRA_SHEETS:
        rows = doc.get(key)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            continue
        cols: dict[str, None] = dict.fromkeys(known.get(key, []))
        for r in rows:
            for c in r:
                cols.setdefault(c, None)
        if cols:
            out[key] = (list(cols), rows)
    return out


def files_for(doc: dict[str, Any], fmt: str, outdir: Path) -> dict[str, bytes]:
    """The files one format rewrites, by name relative to the plan folder."""
    if fmt == "json":
        k = doc["kpis"]
        return {"kpis.json": (json.dumps(k, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")}
    catalog = catalog_for(doc, outdir)
    lines = lines_of(doc["capacity"])
    extra = extra_tables(doc)
    if fmt == "csv":
        files = {f"{k}.csv": csv_bytes(doc[k], COLUMNS[f"{k}.csv"]) for k in TABLES}
        files.update({f"{k}.csv": csv_bytes(rows, cols) for k, (cols, rows) in extra.items()})
        files.update(dispatch_files_from_rows(doc["schedule"], catalog, lines))
        return files
    if fmt == "xlsx":
        tables = {k: doc[k] for k in TABLES}
        sheets = {EXTRA_SHEETS[k]: v for k, v in extra.items()}
        return {"schedule.xlsx": workbook_from_rows(doc["schedule"], catalog, tables, doc["kpis"], sheets, lines)}
    raise InputError([f"--format: '{fmt}' is not one of {', '.join(FORMATS)}"])


def export(outdir: Path, fmt: str, force: bool = False) -> list[str]:
    """Rewrite the `fmt` views of a plan folder from its plan.json; return the names written."""
    outdir = Path(outdir)
    if fmt not in FORMATS:
        raise InputError([f"--format: '{fmt}' is not one of {', '.join(FORMATS)}"])
    if not outdir.is_dir() and not (outdir.parent / f"{outdir.name}.previous").is_dir():
        raise InputError([f"{outdir}: no such plan folder"])
    with locked(outdir):  # also restores OUTDIR from OUTDIR.previous after a killed run
        doc = read_plan(outdir)
        files = files_for(doc, fmt, outdir)
        if "schedule.csv" in files and not force and schedule_edited(outdir, doc):
            raise InputError([f"{outdir}/schedule.csv: edited since plan.json was written; use --force to overwrite"])
        for name, data in files.items():
            write_atomic(outdir / name, data)
    return list(files)
