"""`report.html`: the weekly coordination meeting's report (R7), one self-contained file.

No network is needed to open it: the CSS is inline and the pictures (`gantt.svg` or
`gantt.png`, `load.png`, `stock.png`) are embedded as base64 `data:` URIs. Every text from
the plan or scenario is escaped. Sections: KPIs, Gantt, load vs capacity and protected
share, unmet demand with reasons, orders not on time, material shortages and purchase
orders (the `Expedite` and `Purchase orders` extra tables when given), A/B stock against
min stock, then any other extra tables.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sopt.shopfloor import Catalog, lines_of, plan_tables

if TYPE_CHECKING:
    from sopt.plan import Plan

MATERIAL_TABLES = ("Expedite", "Purchase orders")

CSS = """
:root { --ink:#1d2733; --muted:#5b6876; --line:#d5dbe2; --ok:#1f7a3d; --warn:#a86400; --bad:#b3261e; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", "Segoe UI",
       Arial, sans-serif; color: var(--ink); margin: 24px auto; max-width: 1400px; padding: 0 16px;
       font-size: 14px; line-height: 1.4; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 28px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 140px;
        break-inside: avoid; page-break-inside: avoid; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 20px; font-weight: 600; }
.ok .v { color: var(--ok); } .warn .v { color: var(--warn); } .bad .v { color: var(--bad); }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
figure { margin: 8px 0; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
.note { color: var(--muted); font-style: italic; }
ul.warnings li { color: var(--warn); }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section { break-before: auto; }
  .card { border-color: #999; }
}
"""

_MIME = {"svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


def e(x: Any) -> str:
    """Escaped text of a value ('' for None)."""
    return "" if x is None else html.escape(str(x), quote=True)


def _pct(x: Any) -> str:
    return "—" if x is None else f"{float(x) * 100:.1f}%"


def _num(x: Any) -> str:
    if x is None or x == "":
        return ""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:,.4f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x):,}"
    return str(x)


def data_uri(name: str, data: bytes) -> str:
    """A base64 data: URI for a picture file name and its bytes."""
    ext = name.rsplit(".", 1)[-1].lower()
    return f"data:{_MIME.get(ext, 'application/octet-stream')};base64,{base64.b64encode(data).decode('ascii')}"


def _figure(pictures: Mapping[str, bytes], names: Iterable[str], alt: str) -> str:
    for name in names:
        if pictures.get(name):
            return f'<figure><img alt="{e(alt)}" src="{data_uri(name, pictures[name])}"></figure>'
    return f'<p class="note">{e(alt)}: no picture in this report.</p>'


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def table(columns: list[str], rows: Iterable[Mapping[str, Any]], empty: str = "None.",
          headers: Mapping[str, str] | None = None) -> str:
    """An HTML table; numbers right-aligned."""
    rows = list(rows)
    if not rows:
        return f'<p class="note">{e(empty)}</p>'
    numeric = {c for c in columns if any(_is_num(r.get(c)) for r in rows)}
    head = "".join(f'<th class="{"n" if c in numeric else ""}">{e((headers or {}).get(c, c))}</th>'
                   for c in columns)
    body = []
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c)
            if _is_num(v):
                cells.append(f'<td class="n">{e(_num(v))}</td>')
            else:
                cells.append(f"<td>{e(_num(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _card(label: str, value: str, tone: str = "") -> str:
    return f'<div class="card {tone}"><div class="k">{e(label)}</div><div class="v">{e(value)}</div></div>'


def _cards(kpis: Mapping[str, Any]) -> str:
    status = str(kpis.get("status", ""))
    tone = {"OPTIMAL": "ok", "FEASIBLE": "ok", "INFEASIBLE": "bad", "NO_PLAN": "bad"}.get(status, "")
    gap = kpis.get("gap")
    out = [_card("Status", status or "—", tone),
           _card("Gap", _pct(gap), "" if gap is None or gap < 0.05 else "warn"),
           _card("Objective", _num(kpis.get("objective")) or "—"),
           _card("Best bound", _num(kpis.get("best_bound")) or "—")]
    for cls, sl in (kpis.get("service_level") or {}).items():
        out.append(_card(f"Service level {cls}", _pct(sl), "" if sl is None else ("ok" if sl >= 0.995 else "warn")))
    for label, key in (("Unmet units", "unmet_units"), ("Late units", "late_units"),
                       ("Min-stock shortfall (unit-days)", "min_stock_shortfall_units")):
        v = kpis.get(key)
        out.append(_card(label, _num(v) if v is not None else "—", "ok" if v == 0 else ("warn" if v else "")))
    for line, u in (kpis.get("utilization") or {}).items():
        out.append(_card(f"Utilisation {line}", _pct(u)))
    if kpis.get("reserve_ratio") is not None:
        out.append(_card("Protected share r", _pct(kpis.get("reserve_ratio"))))
    return '<div class="cards">' + "".join(out) + "</div>"


def line_load(capacity: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per line: open shifts, working, protected, planned, overtime and free minutes, utilisation."""
    rows = list(capacity)
    out = []
    for line in lines_of(rows):
        mine = [r for r in rows if r["line"] == line]
        W = sum(int(r.get("available_minutes") or 0) for r in mine)
        P = sum(int(r.get("protected_minutes") or 0) for r in mine)
        planned = sum(int(r.get("planned_minutes") or 0) for r in mine)
        out.append({
            "line": line, "open_shifts": sum(1 for r in mine if int(r.get("available_minutes") or 0) > 0),
            "working_minutes": W, "protected_minutes": P, "planned_minutes": planned,
            "overtime_minutes": sum(int(r.get("overtime_minutes") or 0) for r in mine),
            "rush_minutes": sum(int(r.get("rush_minutes") or 0) for r in mine),
            "free_minutes": max(0, W - P - planned),
            "utilization": f"{planned / W * 100:.1f}%" if W else "—",
            "protected_share": f"{P / W * 100:.1f}%" if W else "—",
        })
    return out


def below_min_stock(production: Iterable[Mapping[str, Any]], catalog: Catalog) -> list[dict[str, Any]]:
    """A/B products whose stock ends a date below min stock, worst first."""
    agg: dict[str, dict[str, Any]] = {}
    for r in production:
        if r.get("class") not in ("A", "B"):
            continue
        short = int(r["min_stock"]) - int(r["stock_end"])
        if short <= 0:
            continue
        a = agg.setdefault(str(r["product"]), {
            "product": r["product"], "name": catalog.name(str(r["product"])), "class": r["class"],
            "min_stock": r["min_stock"], "lowest_stock": r["stock_end"], "lowest_on": r["date"],
            "first_below": r["date"], "days_below": 0, "shortfall_unit_days": 0})
        a["days_below"] += 1
        a["shortfall_unit_days"] += short
        if int(r["stock_end"]) < int(a["lowest_stock"]):
            a["lowest_stock"], a["lowest_on"] = r["stock_end"], r["date"]
    return sorted(agg.values(), key=lambda a: (a["class"], -a["shortfall_unit_days"], a["product"]))


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for r in rows:
        for k in r:
            seen.setdefault(k, None)
    return list(seen)


def report_from_rows(kpis: Mapping[str, Any], tables: Mapping[str, Sequence[Mapping[str, Any]]], catalog: Catalog,
                     pictures: Mapping[str, bytes] | None = None,
                     extra_tables: Mapping[str, tuple[list[str], list[dict[str, Any]]]] | None = None) -> bytes:
    """report.html from the plan.json tables (`capacity`, `production_plan`, `orders`, `unmet`)."""
    pictures = pictures or {}
    extra = dict(extra_tables or {})
    name = kpis.get("scenario") or "plan"
    horizon = kpis.get("horizon") or {}
    sub = []
    if horizon.get("start"):
        sub.append(f"week from {horizon['start']}, {horizon.get('days', '?')} days")
    if kpis.get("generated_at"):
        sub.append(f"planned {kpis['generated_at']}")
    if kpis.get("runs") is not None:
        sub.append(f"{kpis['runs']} runs")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Weekly plan — {e(name)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>Weekly plan — {e(name)}</h1><p class=\"sub\">{e(' · '.join(sub))}</p></header>",
        '<section id="kpis"><h2>Key figures</h2>', _cards(kpis),
    ]
    by_reason = kpis.get("unmet_by_reason") or {}
    if by_reason:
        parts.append("<h3>Unmet units by reason</h3>")
        parts.append(table(["reason", "units"], [{"reason": k, "units": v} for k, v in by_reason.items()]))
    warnings = kpis.get("warnings") or []
    if warnings:
        parts.append('<h3>Warnings</h3><ul class="warnings">' + "".join(f"<li>{e(w)}</li>" for w in warnings)
                     + "</ul>")
    parts.append("</section>")

    parts.append('<section id="gantt"><h2>Schedule (Gantt)</h2>')
    parts.append(_figure(pictures, ("gantt.svg", "gantt.png"), "Gantt chart of the lines over the week"))
    parts.append("</section>")

    parts.append('<section id="load"><h2>Load vs capacity and protected share</h2>')
    parts.append(_figure(pictures, ("load.png", "load.svg"), "Planned load vs available and protected capacity"))
    parts.append(table(["line", "open_shifts", "working_minutes", "protected_minutes", "planned_minutes",
                        "overtime_minutes", "rush_minutes", "free_minutes", "utilization", "protected_share"],
                       line_load(tables.get("capacity", [])), "No capacity rows.",
                       headers={"open_shifts": "open shifts", "working_minutes": "working min",
                                "protected_minutes": "protected min", "planned_minutes": "planned min",
                                "overtime_minutes": "overtime min", "rush_minutes": "rush min",
                                "free_minutes": "free min", "protected_share": "protected share"}))
    parts.append("</section>")

    unmet = [{**r, "name": catalog.name(str(r.get("product", "")))} for r in tables.get("unmet", [])]
    parts.append('<section id="unmet"><h2>Unmet demand and reasons</h2>')
    parts.append(table(["product", "name", "date", "quantity", "reason", "detail"], unmet,
                       "All demand is met on its date."))
    late = [{**r, "name": catalog.name(str(r.get("product", "")))} for r in tables.get("orders", [])
            if not r.get("on_time")]
    parts.append("<h3>Confirmed orders not on time</h3>")
    parts.append(table(["order_id", "product", "name", "class", "quantity", "due", "planned_completion",
                        "lateness_minutes"], late,
                       "Every confirmed order is planned on time."))
    parts.append("</section>")

    parts.append('<section id="materials"><h2>Material shortages and purchase orders</h2>')
    for tname in MATERIAL_TABLES:
        parts.append(f"<h3>{e(tname)}</h3>")
        if tname in extra:
            cols, rows = extra.pop(tname)
            parts.append(table(list(cols), rows, "None."))
        else:
            parts.append('<p class="note">Not computed for this plan.</p>')
    parts.append("</section>")

    parts.append('<section id="stock"><h2>A/B stock against min stock</h2>')
    parts.append(_figure(pictures, ("stock.png", "stock.svg"), "Projected stock vs min stock"))
    parts.append("<h3>Products below min stock</h3>")
    parts.append(table(["product", "name", "class", "min_stock", "lowest_stock", "lowest_on", "first_below",
                        "days_below", "shortfall_unit_days"],
                       below_min_stock(tables.get("production_plan", []), catalog),
                       "Every A/B product ends every date at or above its min stock.",
                       headers={"min_stock": "min stock", "lowest_stock": "lowest stock", "lowest_on": "on",
                                "first_below": "first below", "days_below": "days below",
                                "shortfall_unit_days": "shortfall (unit-days)"}))
    parts.append("</section>")

    if extra:
        parts.append('<section id="more"><h2>Further tables</h2>')
        for tname, (cols, rows) in extra.items():
            parts.append(f"<h3>{e(tname)}</h3>")
            parts.append(table(list(cols) or _columns(rows), rows))
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts).encode("utf-8")


def report_html(plan: Plan, kpis: dict[str, Any], pictures: dict[str, bytes],
                extra_tables: dict[str, tuple[list[str], list[dict[str, Any]]]] | None = None) -> bytes:
    """report.html for a solved plan; `pictures` maps file names (gantt.svg, gantt.png, load.png,
    stock.png) to their bytes; `extra_tables` maps a title to (columns, rows)."""
    return report_from_rows(kpis, plan_tables(plan), Catalog.from_scenario(plan.week.scenario), pictures,
                            extra_tables)
