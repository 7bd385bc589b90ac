"""Pictures of a plan: figures build, draw on given axes, render deterministically, match baselines.

The baseline images come from a hand-built plan (no solver) rendered without a CJK font, so
they do not depend on the fonts of the machine. Regenerate them with
`SOPT_REGEN_BASELINE=1 python -m pytest tests/test_gantt.py`.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from matplotlib import _pylab_helpers
from matplotlib.colors import is_color_like
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.testing.compare import compare_images
from matplotlib.text import Text

from sopt import gantt
from sopt.model import solve
from sopt.plan import Plan, build_plan
from sopt.scenario import load_scenario
from sopt.sequence import Lot
from sopt.week import prepare

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).resolve().parent / "baseline"
REGEN = os.environ.get("SOPT_REGEN_BASELINE") == "1"
CHINESE = "绿茶饮料 500ml"
PLOTS = (gantt.plot_gantt, gantt.plot_load, gantt.plot_stock)

# Two days, two lines: a break in the early shift, maintenance on L2 on Tuesday, three
# products of classes A/B/C (one with a Chinese name), two materials with a receipt.
TINY: dict[str, Any] = {
    "name": "tiny week 绿茶",
    "horizon": {"start": "2026-11-30", "days": 2},
    "shift_templates": {
        "early": {"start": "06:00", "hours": 8, "breaks": [{"start": "10:00", "minutes": 30}]},
        "late": {"start": "14:00", "hours": 8},
    },
    "lines": [
        {"id": "L1", "name": "PET line", "shifts": {"all": ["early", "late"]},
         "overtime": {"max_minutes_per_shift": 90}},
        {"id": "L2", "name": "Can line", "shifts": {"all": ["early"]}},
    ],
    "calendar": [{"line": "L2", "start": "2026-12-01T08:00", "end": "2026-12-01T10:00", "reason": "maintenance"}],
    "products": [
        {"id": "P1", "name": "Spring water 500 ml", "class": "A",
         "lines": {"L1": {"minutes_per_unit": 0.5, "setup_minutes": 20},
                   "L2": {"minutes_per_unit": 1, "setup_minutes": 30}},
         "bom": {"M1": 1}, "opening_stock": 100, "replenishment_days": 1},
        {"id": "P2", "name": CHINESE, "class": "B",
         "lines": {"L1": {"minutes_per_unit": 0.5, "setup_minutes": 40}}, "bom": {"M1": 1, "M2": 0.5},
         "opening_stock": 50, "replenishment_days": 1},
        {"id": "P3", "name": "Cola can", "class": "C",
         "lines": {"L2": {"minutes_per_unit": 1, "setup_minutes": 15}}, "bom": {"M2": 1}},
    ],
    "materials": [
        {"id": "M1", "name": "Preform", "unit": "pcs", "opening_stock": 1200,
         "receipts": [{"at": "2026-12-01T06:00", "quantity": 600}], "safety_stock": 100},
        {"id": "M2", "name": "Can", "unit": "pcs", "opening_stock": 800},
    ],
    "demand": {"forecast": {"P1": [300, 300], "P2": [200, 200]},
               "orders": [{"id": "SO1", "product": "P3", "quantity": 300, "due": "2026-12-01"}]},
    "policy": {"reserve_ratio": 0.2},
}


@pytest.fixture
def tiny_plan(tmp_path: Path) -> Plan:
    """A hand-built plan: setups, a run across a break, one across closed time, overtime."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY, allow_unicode=True, sort_keys=False), encoding="utf-8")
    week = prepare(load_scenario(path))
    # Shift indices: L1 Mon early 0, Mon late 1, Tue early 2, Tue late 3; L2 Mon early 4, Tue early 5.
    lots = [
        Lot("P1", "L1", 0, 400, 20, 200), Lot("P2", "L1", 0, 200, 40, 100),
        Lot("P2", "L1", 1, 900, 0, 450),  # more than W - P = 384: the rest runs in overtime
        Lot("P1", "L1", 2, 300, 20, 150),
        Lot("P3", "L2", 4, 200, 15, 200), Lot("P1", "L2", 5, 150, 30, 150),  # across the maintenance
    ]
    return build_plan(week, lots)


@pytest.fixture(scope="module")
def bundled_plans() -> dict[str, Plan]:
    plans = {}
    for name in ("demo_week", "tight_week"):
        result = solve(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), time_limit=3, workers=1, seed=0)
        assert result.plan is not None, result.status
        plans[name] = result.plan
    return plans


@pytest.fixture
def no_cjk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as on a machine without any CJK font."""
    monkeypatch.setattr(gantt, "cjk_font", lambda: None)


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def _render_strict(plan: Plan, caplog: pytest.LogCaptureFixture) -> list[Figure]:
    """Plot and render every figure with warnings as errors; no font warnings may be logged."""
    figs = []
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.simplefilter("error")
        for plot in PLOTS:
            fig = plot(plan)
            for fmt in ("png", "svg"):
                fig.savefig(io.BytesIO(), format=fmt, dpi=gantt.DPI)
            figs.append(fig)
    noisy = [r.getMessage() for r in caplog.records if "font" in r.getMessage().lower() or "glyph" in r.getMessage().lower()]
    assert not noisy, noisy
    return figs


# ------------------------------------------------------------------ bundled scenarios
@pytest.mark.parametrize("name", ["demo_week", "tight_week"])
def test_figures_build_for_bundled_scenarios(bundled_plans: dict[str, Plan], name: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    plan = bundled_plans[name]
    figs = _render_strict(plan, caplog)
    gantt_fig = figs[0]
    ax = gantt_fig.axes[0]
    assert len(ax.patches) >= len(plan.runs)
    assert plan.week.scenario.name.split()[0] in ax.get_title(loc="left")
    # every line has its row
    assert [t.get_text().split("\n")[0] for t in ax.get_yticklabels()] == [ln.id for ln in plan.week.scenario.lines]


def test_render_pictures_bundled_is_deterministic(bundled_plans: dict[str, Plan]) -> None:
    plan = bundled_plans["demo_week"]
    first = gantt.render_pictures(plan)
    assert first == gantt.render_pictures(plan)


# ------------------------------------------------------------------ pure functions
@pytest.mark.parametrize("plot", PLOTS, ids=lambda f: f.__name__)
def test_plots_draw_on_the_given_axes(tiny_plan: Plan, plot: Any) -> None:
    managers = _pylab_helpers.Gcf.get_num_fig_managers()
    fig = Figure(figsize=(12, 5))
    ax = fig.add_subplot()
    assert plot(tiny_plan, ax=ax) is fig
    assert fig.axes == [ax]  # no extra panels on someone else's figure
    assert ax.has_data()
    assert _pylab_helpers.Gcf.get_num_fig_managers() == managers  # no pyplot figure made


def test_plots_make_their_own_figure_without_pyplot(tiny_plan: Plan) -> None:
    managers = _pylab_helpers.Gcf.get_num_fig_managers()
    for plot in PLOTS:
        assert isinstance(plot(tiny_plan), Figure)
    assert _pylab_helpers.Gcf.get_num_fig_managers() == managers
    assert len(gantt.plot_stock(tiny_plan).axes) == 5  # products + four material panels


# ------------------------------------------------------------------ files
def test_render_pictures_valid_and_deterministic(tiny_plan: Plan) -> None:
    pics = gantt.render_pictures(tiny_plan)
    assert set(pics) == {"gantt.png", "gantt.svg", "load.png", "stock.png"}
    for name in ("gantt.png", "load.png", "stock.png"):
        data = pics[name]
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        image = imread(io.BytesIO(data), format="png")
        assert image.shape[0] > 200 and image.shape[1] > 400
        assert b"Software" not in data
    root = ET.fromstring(pics["gantt.svg"])
    assert root.tag.endswith("svg")
    assert b"<dc:date>" not in pics["gantt.svg"]
    assert pics == gantt.render_pictures(tiny_plan)


@pytest.mark.parametrize("name", ["gantt.png", "load.png", "stock.png"])
def test_baseline_images(tiny_plan: Plan, no_cjk: None, tmp_path: Path, name: str) -> None:
    actual = tmp_path / name
    actual.write_bytes(gantt.render_pictures(tiny_plan)[name])
    expected = BASELINE / name
    if REGEN:
        BASELINE.mkdir(exist_ok=True)
        expected.write_bytes(actual.read_bytes())
    assert expected.exists(), f"{expected} missing: run with SOPT_REGEN_BASELINE=1"
    diff = compare_images(str(expected), str(actual), tol=20)
    assert diff is None, diff


# ------------------------------------------------------------------ CJK
def test_chinese_name_falls_back_to_the_id_without_a_cjk_font(tiny_plan: Plan, no_cjk: None,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    figs = _render_strict(tiny_plan, caplog)
    texts = [t for fig in figs for t in _texts(fig)]
    assert not any("绿" in t for t in texts)
    assert any(t.startswith("P2 (B)") for t in _texts(figs[0]))  # the legend names the product by id
    assert any(t.startswith("tiny week") for t in texts)  # the title keeps what it can draw


def test_a_font_without_cjk_glyphs_also_falls_back(tiny_plan: Plan, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(gantt, "cjk_font", lambda: "DejaVu Sans")
    figs = _render_strict(tiny_plan, caplog)
    assert not any("绿" in t for fig in figs for t in _texts(fig))


def test_chinese_name_renders_with_an_installed_cjk_font(tiny_plan: Plan, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    font = gantt.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (e.g. apt-get install fonts-wqy-microhei)")
    monkeypatch.setattr(gantt, "cjk_font", lambda: font)
    figs = _render_strict(tiny_plan, caplog)
    assert any(CHINESE in t for t in _texts(figs[0]))
    assert gantt.render_pictures(tiny_plan) == gantt.render_pictures(tiny_plan)


def test_cjk_font_has_cjk_glyphs() -> None:
    font = gantt.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed")
    assert all(ord(c) in gantt._family_charmap(font) for c in gantt.PROBE)


# ------------------------------------------------------------------ data behind the stock picture
def test_material_on_hand_from_runs_and_receipts(tiny_plan: Plan) -> None:
    steps = gantt.material_on_hand(tiny_plan)
    sc = tiny_plan.week.scenario
    used_m1 = sum(r.quantity for r in tiny_plan.runs)  # 1 M1 per unit of P1 and P2, none for P3
    used_m1 -= sum(r.quantity for r in tiny_plan.runs if r.product == "P3")
    assert steps["M1"][0] == (sc.start_time, 1200.0)
    assert steps["M1"][-1][1] == pytest.approx(1200 + 600 - used_m1)
    times = [t for t, _ in steps["M1"]]
    assert times == sorted(times)
    m2 = sum(r.quantity * (0.5 if r.product == "P2" else 1.0) for r in tiny_plan.runs if r.product in ("P2", "P3"))
    assert steps["M2"][-1][1] == pytest.approx(800 - m2)


def test_product_colors_are_stable(tiny_plan: Plan) -> None:
    colors = gantt.product_colors(tiny_plan)
    assert colors == gantt.product_colors(tiny_plan)
    assert len(set(colors.values())) == len(colors)
    assert is_color_like(colors["P1"])


def test_pictures_drawn_in_a_helper_process_are_the_same_bytes(tiny_plan: Plan,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if gantt._fork_context() is None:
        pytest.skip("no forked helper process here (one core, or threads running)")
    here = gantt.render_pictures(tiny_plan)
    assert gantt.start_pictures(tiny_plan)() == here
    # a helper process that dies is replaced by drawing here: the same files, no error
    monkeypatch.setattr(gantt, "_draw_in_child", lambda plan, send: send.close())
    assert gantt.start_pictures(tiny_plan)() == here


@pytest.mark.skipif((os.cpu_count() or 1) < 2 or not hasattr(os, "fork"), reason="the picture process needs fork and 2 cores")
def test_the_picture_process_ends_when_its_parent_is_killed(tmp_path):
    # A parent that starts the picture process and dies before reading its result (as a run
    # killed by SIGKILL does): the child's send must fail and the child end, not wait for ever.
    import subprocess
    import sys
    import time

    script = (
        "import multiprocessing, os, sys\n"
        "from sopt.gantt import start_pictures\n"
        "from sopt.heuristic import constructive_plan\n"
        "from sopt.plan import build_plan\n"
        "from sopt.scenario import load_scenario\n"
        "from sopt.week import prepare\n"
        f"week = prepare(load_scenario({str(Path(__file__).parent / 'data' / 'mini_week.yaml')!r}))\n"
        "start_pictures(build_plan(week, constructive_plan(week)))\n"
        "print(*[p.pid for p in multiprocessing.active_children()], flush=True)\n"
        "os._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    pids = [int(x) for x in out.stdout.split()]
    assert len(pids) == 1  # the picture process was started

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                return f.read().split(") ")[1][0] not in "ZX"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 60
    while alive(pids[0]) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pids[0]):
        os.kill(pids[0], 9)
        pytest.fail("the picture process outlived its parent")
