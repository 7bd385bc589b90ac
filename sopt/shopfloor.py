"""Files for the shop floor: `dispatch/<line>.csv` and the printable workbook `schedule.xlsx`.

Both are built from row dicts (the schedule rows as in `schedule.csv`, the other tables as
in `plan.json`) plus a `Catalog` (product names, material per unit, material units), so
`sopt export` can rebuild them from `plan.json` without the solver. `dispatch_files(plan)`
and `workbook_bytes(plan, kpis)` are thin wrappers for a solved `Plan`.

Materials to stage: `material:quantity` pairs, `;`-separated (`PF17:2400;CAP28:2400`),
quantity = per-unit BOM quantity x the run's quantity, exact, rounded half-up to 4 decimals,
in the material's own unit. Work in progress (`WIP-<line>`) stages nothing: it is running.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sopt.output import COLUMNS, csv_bytes

if TYPE_CHECKING:
    from sopt.plan import Plan
    from sopt.scenario import Scenario

DISPATCH_COLUMNS = ["seq", "run_id", "shift", "start", "end", "product", "product_name", "class", "quantity",
                    "changeover_minutes", "run_minutes", "materials", "order_ids", "kind"]

# Table key in plan.json -> (sheet name, csv file name)
TABLE_SHEETS = [("production_plan", "Production plan"), ("capacity", "Capacity"), ("orders", "Orders"),
                ("unmet", "Unmet")]

DATETIME_COLUMNS = {"shift_start", "shift_end", "start", "end", "protected_start", "protected_end",
                    "planned_completion", "at", "release_time", "receipt_time"}
DATE_COLUMNS = {"date", "due", "release_date", "receipt_date", "needed_by", "order_date", "due_date"}
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
_Q4 = Decimal("0.0001")


# ----------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Catalog:
    """What the views need about products and materials beyond the plan's tables."""

    names: Mapping[str, str] = field(default_factory=dict)  # product -> name
    materials: Mapping[str, Mapping[str, Fraction]] = field(default_factory=dict)  # product -> {material: per unit}
    units: Mapping[str, str] = field(default_factory=dict)  # material -> unit

    @classmethod
    def from_scenario(cls, sc: Scenario) -> Catalog:
        """Names, BOM per unit and material units of a loaded scenario."""
        return cls(names={p.id: p.name for p in sc.products},
                   materials={p.id: dict(p.materials) for p in sc.products},
                   units={m.id: m.unit for m in sc.materials})

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Catalog | None:
        """From a plan.json that carries `products` ([{id, name, materials: {m: "0.25"}}]) and
        optionally `materials` ([{id, unit}]); None when it carries no products."""
        products = doc.get("products")
        if not isinstance(products, list):
            return None
        names: dict[str, str] = {}
        mats: dict[str, dict[str, Fraction]] = {}
        for p in products:
            if not isinstance(p, dict) or "id" not in p:
                continue
            pid = str(p["id"])
            names[pid] = str(p.get("name") or pid)
            per = p.get("materials") or p.get("bom") or {}
            mats[pid] = {str(m): Fraction(str(q)) for m, q in per.items()} if isinstance(per, dict) else {}
        units = {str(m["id"]): str(m.get("unit", "")) for m in doc.get("materials") or []
                 if isinstance(m, dict) and "id" in m}
        return cls(names, mats, units)

    def name(self, product: str) -> str:
        """The product's name (its id when unknown)."""
        return self.names.get(product, product)


def fmt_quantity(q: Fraction | Decimal | int) -> str:
    """Exact quantity, rounded half-up to 4 decimals, without trailing zeros: 2400, 12.5, 0.3333."""
    d = Decimal(q.numerator) / Decimal(q.denominator) if isinstance(q, Fraction) else Decimal(q)
    d = d.quantize(_Q4, rounding=ROUND_HALF_UP)
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def staging(product: str, quantity: int, catalog: Catalog) -> list[tuple[str, Fraction]]:
    """Material and exact quantity to stage for a run, materials in id order."""
    per = catalog.materials.get(product, {})
    return [(m, Fraction(per[m]) * quantity) for m in sorted(per) if per[m]]


# ----------------------------------------------------------------------------- dispatch


def _is_wip(row: Mapping[str, Any]) -> bool:
    return str(row.get("run_id", "")).startswith("WIP-")


def dispatch_rows(schedule: Iterable[Mapping[str, Any]], catalog: Catalog,
                  lines: Iterable[str] = ()) -> dict[str, list[dict[str, Any]]]:
    """Per line, its runs in clock order (start, end, run id) as dispatch rows.

    `lines` lists lines to include even without runs (an empty dispatch list)."""
    by_line: dict[str, list[Mapping[str, Any]]] = {ln: [] for ln in lines}
    for r in schedule:
        by_line.setdefault(str(r["line"]), []).append(r)
    out: dict[str, list[dict[str, Any]]] = {}
    for line, runs in by_line.items():
        rows = []
        for seq, r in enumerate(sorted(runs, key=lambda r: (str(r["start"]), str(r["end"]), str(r["run_id"]))), 1):
            qty = int(r["quantity"])
            mats = [] if _is_wip(r) else staging(str(r["product"]), qty, catalog)
            rows.append({
                "seq": seq, "run_id": r["run_id"], "shift": r["shift"], "start": r["start"], "end": r["end"],
                "product": r["product"], "product_name": catalog.name(str(r["product"])), "class": r["class"],
                "quantity": qty, "changeover_minutes": r["setup_minutes"], "run_minutes": r["run_minutes"],
                "materials": ";".join(f"{m}:{fmt_quantity(q)}" for m, q in mats),
                "order_ids": r.get("order_ids", "") or "", "kind": r.get("kind", "") or "planned",
            })
        out[line] = rows
    return out


def dispatch_files_from_rows(schedule: Iterable[Mapping[str, Any]], catalog: Catalog,
                             lines: Iterable[str] = ()) -> dict[str, bytes]:
    """`dispatch/<line>.csv` files (UTF-8 with BOM, CRLF) from schedule rows."""
    return {f"dispatch/{_safe_file(line)}.csv": csv_bytes(rows, DISPATCH_COLUMNS)
            for line, rows in dispatch_rows(schedule, catalog, lines).items()}


def dispatch_files(plan: Plan) -> dict[str, bytes]:
    """`dispatch/<line>.csv` for every line of the plan's scenario."""
    sc = plan.week.scenario
    return dispatch_files_from_rows(plan.schedule_rows(), Catalog.from_scenario(sc), [ln.id for ln in sc.lines])


def _safe_file(name: str) -> str:
    return re.sub(r"[^\w.\-]", "_", name) or "_"


def lines_of(capacity: Iterable[Mapping[str, Any]]) -> list[str]:
    """Line ids in first-seen order of the capacity table (every line has rows there)."""
    seen: dict[str, None] = {}
    for r in capacity:
        seen.setdefault(str(r["line"]), None)
    return list(seen)


# ----------------------------------------------------------------------------- workbook


def flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts as dotted keys; lists joined with ', '."""
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            if v:
                out.extend(flatten(v, key + "."))
            else:
                out.append((key, ""))
        elif isinstance(v, list | tuple):
            out.append((key, ", ".join("" if x is None else str(x) for x in v)))
        else:
            out.append((key, v))
    return out


def _excel_value(col: str, v: Any) -> tuple[Any, str | None]:
    """The cell value and number format for one field."""
    if v is None:
        return None, None
    if isinstance(v, str):
        if col in DATETIME_COLUMNS or col in DATE_COLUMNS:
            if not v:
                return None, None
            try:
                if "T" in v or " " in v.strip():
                    return dt.datetime.fromisoformat(v), DATETIME_FORMAT
                d = dt.date.fromisoformat(v)
                return dt.datetime(d.year, d.month, d.day), DATE_FORMAT
            except ValueError:
                return v, None
        return _strip_illegal(v), None
    if isinstance(v, dt.datetime):
        return v, DATETIME_FORMAT
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day), DATE_FORMAT
    if isinstance(v, bool | int | float):
        return v, None
    if isinstance(v, Fraction | Decimal):
        return float(v), None
    return _strip_illegal(str(v)), None


def _strip_illegal(s: str) -> str:
    # control characters are not allowed in xlsx cells
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", s)


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", name).strip("'")[:31] or "Sheet"
    title, k = base, 2
    while title.lower() in used:
        suffix = f" ({k})"
        title = base[:31 - len(suffix)] + suffix
        k += 1
    used.add(title.lower())
    return title


def _write_table(wb: Any, title: str, columns: list[str], rows: Iterable[Mapping[str, Any]],
                 *, print_layout: bool = True) -> Any:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.append(columns)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE3EA")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")
    widths = [len(c) for c in columns]
    n = 0
    for n, r in enumerate(rows, 2):  # noqa: B007 - n is the last row written
        for j, col in enumerate(columns):
            value, fmt = _excel_value(col, r.get(col))
            cell = ws.cell(row=n, column=j + 1, value=value)
            if fmt:
                cell.number_format = fmt
                widths[j] = max(widths[j], len(fmt))
            elif value is not None:
                widths[j] = max(widths[j], _display_len(str(value)))
    for j, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(j + 1)].width = min(60, max(6, w + 2))
    ws.freeze_panes = "A2"
    if n >= 2 and columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{n}"
    if print_layout:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
        ws.print_options.gridLines = True
        ws.oddHeader.center.text = title
        ws.oddFooter.center.text = "&P / &N"
    return ws


def _display_len(s: str) -> int:
    # wide (CJK) characters take two columns
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def workbook_from_rows(schedule: Sequence[Mapping[str, Any]], catalog: Catalog,
                       tables: Mapping[str, Sequence[Mapping[str, Any]]], kpis: Mapping[str, Any],
                       extra_tables: Mapping[str, tuple[list[str], list[dict[str, Any]]]] | None = None,
                       lines: Iterable[str] = ()) -> bytes:
    """`schedule.xlsx`: a dispatch sheet per line, then Production plan, Capacity, Orders,
    Unmet, KPIs and the extra tables (name -> (columns, rows)).

    `tables` maps the plan.json keys `production_plan`, `capacity`, `orders`, `unmet` to rows."""
    from openpyxl import Workbook

    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    used: set[str] = {"production plan", "capacity", "orders", "unmet", "kpis"}
    used |= {_SHEET_BAD.sub("_", k).strip("'")[:31].lower() for k in (extra_tables or {})}
    line_ids = list(lines) or lines_of(tables.get("capacity", []))
    for line, rows in dispatch_rows(schedule, catalog, line_ids).items():
        _write_table(wb, _sheet_title(line, used), DISPATCH_COLUMNS, rows)
    for key, title in TABLE_SHEETS:
        _write_table(wb, title, COLUMNS[f"{key}.csv"], tables.get(key, []))
    kpi_rows = [{"key": k, "value": v} for k, v in flatten(kpis)]
    _write_table(wb, "KPIs", ["key", "value"], kpi_rows, print_layout=False)
    taken = {ws.title.lower() for ws in wb.worksheets}
    for name, (columns, rows) in (extra_tables or {}).items():
        _write_table(wb, _sheet_title(name, taken), list(columns), rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def plan_tables(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """The plan's tables under their plan.json keys."""
    return {"schedule": plan.schedule_rows(), "capacity": plan.capacity, "production_plan": plan.production,
            "orders": plan.orders, "unmet": plan.unmet}


def workbook_bytes(plan: Plan, kpis: dict[str, Any],
                   extra_tables: dict[str, tuple[list[str], list[dict[str, Any]]]] | None = None) -> bytes:
    """`schedule.xlsx` for a solved plan."""
    sc = plan.week.scenario
    t = plan_tables(plan)
    return workbook_from_rows(t["schedule"], Catalog.from_scenario(sc), t, kpis, extra_tables,
                              [ln.id for ln in sc.lines])
