"""Shop-floor files (dispatch CSVs, schedule.xlsx), report.html, `export` and plan.json's schema."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from sopt.errors import InputError
from sopt.export import export
from sopt.model import Result, solve
from sopt.output import COLUMNS, kpis, write_result
from sopt.report import report_from_rows, report_html
from sopt.scenario import load_scenario
from sopt.shopfloor import DISPATCH_COLUMNS, Catalog, dispatch_files, fmt_quantity, workbook_bytes

ROOT = Path(__file__).resolve().parent.parent
P1_NAME = "绿茶 <500ml> & co"  # Chinese, and characters HTML must escape
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """mini_week with a Chinese product name, solved (3 s, 1 worker)."""
    data = yaml.safe_load((ROOT / "tests/data/mini_week.yaml").read_text(encoding="utf-8"))
    data["products"][0]["name"] = P1_NAME
    path = tmp_path_factory.mktemp("scn") / "mini_cn.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = solve(load_scenario(path), time_limit=3, workers=1, seed=0)
    assert r.plan is not None and r.plan.runs
    return r


@pytest.fixture
def plan_dir(result: Result, tmp_path: Path) -> Path:
    out = tmp_path / "plan"
    write_result(out, result)
    return out


def _read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _pictures() -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    out: dict[str, bytes] = {}
    for name, fmt in (("gantt.svg", "svg"), ("load.png", "png"), ("stock.png", "png")):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt)
        out[name] = buf.getvalue()
    plt.close(fig)
    return out


# ----------------------------------------------------------------------------- dispatch


def test_fmt_quantity() -> None:
    assert fmt_quantity(Fraction(2400)) == "2400"
    assert fmt_quantity(Fraction(25, 2)) == "12.5"
    assert fmt_quantity(Fraction(1, 3)) == "0.3333"
    assert fmt_quantity(Fraction(2, 3)) == "0.6667"
    assert fmt_quantity(Fraction(1, 200000)) == "0"


def test_dispatch_files(result: Result) -> None:
    plan = result.plan
    assert plan is not None
    files = dispatch_files(plan)
    assert set(files) == {"dispatch/L1.csv", "dispatch/L2.csv"}
    seen = 0
    for line in ("L1", "L2"):
        data = files[f"dispatch/{line}.csv"]
        assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
        assert data.decode("utf-8-sig").splitlines()[0].split(",") == DISPATCH_COLUMNS
        rows = _read_csv(data)
        runs = sorted((r for r in plan.runs if r.line == line), key=lambda r: (r.start, r.end, r.run_id))
        assert [r["run_id"] for r in rows] == [r.run_id for r in runs]
        assert [int(r["seq"]) for r in rows] == list(range(1, len(rows) + 1))
        assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)
        for row, run in zip(rows, runs):
            seen += 1
            assert int(row["quantity"]) == run.quantity
            assert int(row["changeover_minutes"]) == run.setup_minutes
            assert row["order_ids"] == ";".join(f"{o}:{q}" for o, q in run.order_ids)
            if run.product == "P1":
                assert row["product_name"] == P1_NAME
                assert row["materials"] == f"M1:{fmt_quantity(Fraction(run.quantity, 4))}"
            else:
                assert row["product_name"] == run.product and row["materials"] == ""
    assert seen == len(plan.runs)


# ----------------------------------------------------------------------------- workbook


def test_workbook(result: Result, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    plan = result.plan
    assert plan is not None
    extra = {"MRP": (["material", "date", "gross_requirement"],
                     [{"material": "M1", "date": "2026-11-30", "gross_requirement": 100.0}]),
             "Purchase orders": (["material", "quantity"], [])}
    path = tmp_path / "schedule.xlsx"
    path.write_bytes(workbook_bytes(plan, kpis(result), extra))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["L1", "L2", "Production plan", "Capacity", "Orders", "Unmet", "KPIs", "MRP",
                             "Purchase orders"]
    ws = wb["L1"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == DISPATCH_COLUMNS
    assert ws["A1"].font.b
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$1:$1"
    start = DISPATCH_COLUMNS.index("start") + 1
    assert ws.cell(row=2, column=start).is_date
    assert isinstance(ws.cell(row=2, column=start).value, dt.datetime)
    assert ws.column_dimensions["B"].width > 10
    l1_runs = sorted((r for r in plan.runs if r.line == "L1"), key=lambda r: r.start)
    assert ws.max_row == len(l1_runs) + 1
    assert ws.cell(row=2, column=start).value == l1_runs[0].start
    names = [ws.cell(row=i, column=DISPATCH_COLUMNS.index("product_name") + 1).value for i in range(2, ws.max_row + 1)]
    assert P1_NAME in names
    pp = wb["Production plan"]
    assert [c.value for c in pp[1]] == COLUMNS["production_plan.csv"]
    assert pp.freeze_panes == "A2" and pp.cell(row=2, column=3).is_date
    assert wb["Capacity"].max_row == len(plan.capacity) + 1
    kp = {r[0]: r[1] for r in wb["KPIs"].iter_rows(min_row=2, values_only=True)}
    assert kp["status"] == result.status.value
    assert "service_level.A" in kp and "utilization.L1" in kp
    assert wb["MRP"]["A2"].value == "M1" and wb["MRP"]["B2"].is_date


# ----------------------------------------------------------------------------- report


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(doc: str) -> _Collect:
    p = _Collect()
    p.feed(doc)
    p.close()
    return p


def test_report_html(result: Result) -> None:
    plan = result.plan
    assert plan is not None
    pics = _pictures()
    extra = {"Expedite": (["material", "quantity"], [{"material": "M1", "quantity": 5}]),
             "Purchase orders": (["material", "release", "quantity"], [{"material": "M1", "release": "2026-12-01",
                                                                        "quantity": 500}])}
    doc = report_html(plan, kpis(result), pics, extra).decode("utf-8")
    p = _parse(doc)
    assert ("meta", {"charset": "utf-8"}) in p.tags
    imgs = [a["src"] or "" for t, a in p.tags if t == "img"]
    assert len(imgs) == 3
    assert any(s.startswith("data:image/svg+xml;base64,") for s in imgs)
    assert sum(s.startswith("data:image/png;base64,") for s in imgs) == 2
    for t, a in p.tags:
        for k in ("src", "href"):
            assert not (a.get(k) or "").startswith(("http:", "https:", "//")), (t, a)
    assert "http://" not in doc and "https://" not in doc
    assert not any(t in ("script", "link", "iframe") for t, _ in p.tags)
    text = "".join(p.text)
    for heading in ("Key figures", "Schedule (Gantt)", "Load vs capacity and protected share",
                    "Unmet demand and reasons", "Material shortages and purchase orders",
                    "A/B stock against min stock", "Expedite", "Purchase orders"):
        assert heading in text
    assert "@media print" in doc
    for line in ("L1", "L2"):
        assert f"Utilisation {line}" in text


def test_report_escapes_and_lists_unmet() -> None:
    tables: dict[str, list[dict[str, Any]]] = {
        "capacity": [{"line": "L<1>", "available_minutes": 100, "protected_minutes": 20, "planned_minutes": 70,
                      "overtime_minutes": 0, "rush_minutes": 0}],
        "unmet": [{"product": "P9", "date": "2026-12-01", "quantity": 40, "reason": "material",
                   "detail": "<script>alert(1)</script>"}],
        "orders": [{"order_id": "SO<9>", "product": "P9", "class": "A", "quantity": 40, "due": "2026-12-01",
                    "planned_completion": "", "on_time": False}],
        "production_plan": [{"product": "P9", "class": "A", "date": "2026-12-01", "min_stock": 50, "stock_end": 10}],
    }
    k = {"scenario": "周计划 <x>", "status": "FEASIBLE", "gap": 0.1, "service_level": {"A": 0.5, "B": None},
         "unmet_units": 40, "unmet_by_reason": {"material": 40}}
    doc = report_from_rows(k, tables, Catalog(names={"P9": "乌龙茶"}), {}).decode("utf-8")
    p = _parse(doc)
    assert not any(t == "script" for t, _ in p.tags)
    assert "&lt;script&gt;" in doc and "周计划 &lt;x&gt;" in doc and "SO&lt;9&gt;" in doc
    text = "".join(p.text)
    assert "乌龙茶" in text and "no picture" in text and "Not computed for this plan." in text
    assert "80.0%" in text or "70.0%" in text  # load table: utilisation of L<1>


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium")
def test_report_renders_in_chromium(result: Result, tmp_path: Path) -> None:
    plan = result.plan
    assert plan is not None
    page = tmp_path / "report.html"
    page.write_bytes(report_html(plan, kpis(result), _pictures()))
    shot = tmp_path / "r.png"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000", f"--screenshot={shot}",
           page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert shot.exists() and shot.stat().st_size > 1000, proc.stderr.decode(errors="replace")[-2000:]
    assert shot.read_bytes().startswith(b"\x89PNG")


# ----------------------------------------------------------------------------- export


def test_export_csv_matches_solve(result: Result, plan_dir: Path) -> None:
    plan = result.plan
    assert plan is not None
    before = {p.name: p.read_bytes() for p in plan_dir.glob("*.csv")}
    assert set(COLUMNS) <= set(before)
    for n in before:
        if n != "schedule.csv":
            (plan_dir / n).unlink()
    written = export(plan_dir, "csv")
    assert {*COLUMNS, "dispatch/L1.csv", "dispatch/L2.csv"} <= set(written)
    for n in before:  # the MRP tables too, when plan.json holds them
        assert (plan_dir / n).read_bytes() == before[n], n
    # the scenario file named in plan.json still exists: names and materials come through
    for name, data in dispatch_files(plan).items():
        assert (plan_dir / name).read_bytes() == data
    assert not list(plan_dir.rglob("*.tmp"))


def test_export_json_and_xlsx(plan_dir: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    kp = (plan_dir / "kpis.json").read_bytes()
    (plan_dir / "kpis.json").write_text("{}", encoding="utf-8")
    assert export(plan_dir, "json") == ["kpis.json"]
    assert (plan_dir / "kpis.json").read_bytes() == kp
    assert export(plan_dir, "xlsx") == ["schedule.xlsx"]
    wb = openpyxl.load_workbook(plan_dir / "schedule.xlsx")
    assert wb.sheetnames[:2] == ["L1", "L2"] and "KPIs" in wb.sheetnames
    assert wb["L1"].freeze_panes == "A2"


def test_export_without_scenario_file(plan_dir: Path) -> None:
    doc = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    doc["scenario"] = str(plan_dir / "gone.yaml")
    (plan_dir / "plan.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    export(plan_dir, "csv")
    rows = _read_csv((plan_dir / "dispatch/L1.csv").read_bytes())
    assert rows and all(r["product_name"] == r["product"] and r["materials"] == "" for r in rows)


def test_export_refuses_edited_schedule(plan_dir: Path) -> None:
    sched = plan_dir / "schedule.csv"
    original = sched.read_bytes()
    dispatch_before = {p.name: p.read_bytes() for p in (plan_dir / "dispatch").glob("*.csv")}
    text = original.decode("utf-8-sig").splitlines()
    cells = text[1].split(",")
    q = COLUMNS["schedule.csv"].index("quantity")
    cells[q] = str(int(cells[q]) + 1)
    text[1] = ",".join(cells)
    edited = ("\ufeff" + "\r\n".join(text) + "\r\n").encode("utf-8")
    sched.write_bytes(edited)
    with pytest.raises(InputError) as ei:
        export(plan_dir, "csv")
    assert ei.value.problems == [f"{plan_dir}/schedule.csv: edited since plan.json was written; use --force to overwrite"]
    assert sched.read_bytes() == edited
    assert {p.name: p.read_bytes() for p in (plan_dir / "dispatch").glob("*.csv")} == dispatch_before
    export(plan_dir, "xlsx")  # other formats do not touch schedule.csv
    assert sched.read_bytes() == edited
    assert "schedule.csv" in export(plan_dir, "csv", force=True)
    assert sched.read_bytes() == original


def test_export_ignores_line_endings_only(plan_dir: Path) -> None:
    sched = plan_dir / "schedule.csv"
    sched.write_bytes(sched.read_bytes().removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n"))
    assert "schedule.csv" in export(plan_dir, "csv")


def test_export_bad_input(tmp_path: Path, plan_dir: Path) -> None:
    with pytest.raises(InputError):
        export(tmp_path / "nowhere", "csv")
    with pytest.raises(InputError):
        export(plan_dir, "pdf")
    (plan_dir / "plan.json").unlink()
    with pytest.raises(InputError, match="plan.json"):
        export(plan_dir, "csv")


# ----------------------------------------------------------------------------- plan.json schema


def test_plan_json_schema(plan_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs/plan.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(doc)
    bad = json.loads(json.dumps(doc))
    bad["schedule"][0]["quantity"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(bad)


def test_plan_json_schema_covers_columns() -> None:
    """Every column written today is described (update docs/plan.schema.json with COLUMNS)."""
    schema = json.loads((ROOT / "docs/plan.schema.json").read_text(encoding="utf-8"))
    tables = dict(COLUMNS)
    try:
        from sopt.mrp import EXPEDITE_COLUMNS, MRP_COLUMNS, PO_COLUMNS
    except ImportError:
        pass
    else:
        tables.update({"mrp.csv": MRP_COLUMNS, "purchase_orders.csv": PO_COLUMNS, "expedite.csv": EXPEDITE_COLUMNS})
    for name, cols in tables.items():
        props = schema["properties"][name.removesuffix(".csv")]["items"]["properties"]
        assert set(cols) <= set(props), (name, set(cols) - set(props))


def test_demo_plan_json_validates(tmp_path: Path) -> None:
    """The bundled demo week's plan.json (bigger, Chinese names) validates too."""
    jsonschema = pytest.importorskip("jsonschema")
    if not (ROOT / "scenarios/demo_week.yaml").exists():
        pytest.skip("no demo scenario")
    r = solve(load_scenario(ROOT / "scenarios/demo_week.yaml"), time_limit=3, workers=1, seed=0)
    if r.plan is None:
        pytest.skip("no plan within 3 s")
    out = tmp_path / "demo"
    write_result(out, r)
    schema = json.loads((ROOT / "docs/plan.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads((out / "plan.json").read_text(encoding="utf-8")))
