"""Pictures of a plan: the Gantt chart, load against capacity, stock against min stock.

Every plot is a pure function of the plan: `plot_gantt(plan, ax=None)` draws on the axes
it is given, or makes its own `Figure` (never through pyplot, so no global figure state
leaks into notebooks or the CLI). `render_pictures(plan)` renders the pictures the CLI
writes (`gantt.png`, `gantt.svg`, `load.png`, `stock.png`) to bytes, deterministically:
the same plan gives the same bytes.

Product names may be Chinese. `cjk_font()` finds an installed font with CJK glyphs (or
one shipped in `sopt/fonts/`) and product texts use it as a fallback after DejaVu Sans;
without one, names that DejaVu Sans cannot draw are replaced by the product id, so no
"Glyph missing" warning is ever raised.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import functools
import io
import logging
import unicodedata
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import colors as mcolors
from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from sopt.calendar import MINUTE, Interval, subtract
from sopt.plan import Plan, Run

log = logging.getLogger(__name__)

__all__ = ["cjk_font", "material_on_hand", "plot_gantt", "plot_load", "plot_stock", "product_colors",
           "product_label", "render_pictures", "start_pictures"]

DPI = 100
BASE_FONT = "DejaVu Sans"
FONTS_DIR = Path(__file__).resolve().parent / "fonts"
# Preferred CJK families, Simplified Chinese designs first; any family whose name starts
# with one of these prefixes qualifies (e.g. "Noto Sans CJK JP" also draws Chinese).
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK", "Source Han Sans",
    "Droid Sans Fallback", "AR PL UMing", "AR PL UKai", "Noto Serif CJK", "Source Han Serif",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "Arial Unicode MS",
)
# File names that suggest a CJK font (used when matplotlib's font cache predates the font).
CJK_FILE_HINTS = ("notosanscjk", "notoserifcjk", "notosanssc", "sourcehan", "wqy", "droidsansfallback",
                  "uming", "ukai", "msyh", "simhei", "pingfang", "arialuni")
PROBE = "中文汉字"

# Colours of the non-run elements.
SHIFT_FACE = "#e8eef7"
SHIFT_EDGE = "#9fb3cf"
BREAK_FACE = "#c9ced6"
CLOSED_FACE = "#8c8c8c"
PROTECTED_COLOR = "#e08a1e"
OVERTIME_COLOR = "#c0392b"
DAY_LINE = "#404040"
CLASS_EDGE: dict[str, tuple[str, float, Any]] = {"A": ("black", 1.6, "solid"), "B": ("#333333", 0.9, "solid"), "C": ("#555555", 0.8, (0, (2, 1.5)))}
LINE_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f")


# ------------------------------------------------------------------------------- fonts
def _has_cjk(path: str) -> bool:
    try:
        charmap = _charmap(path)
    except Exception:  # unreadable or unsupported font file
        return False
    return all(ord(c) in charmap for c in PROBE)


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(path).get_charmap())


def _register(path: str) -> str | None:
    """Add a font file to matplotlib's font manager; its family name, or None."""
    try:
        font_manager.fontManager.addfont(path)
        return str(FontProperties(fname=path).get_name())
    except Exception:  # a broken file must not stop the pictures
        return None


def _rank(name: str) -> int:
    for i, pref in enumerate(CJK_FAMILIES):
        if name.startswith(pref):
            return i
    return len(CJK_FAMILIES)


def _known_cjk() -> str | None:
    """The preferred CJK family among the fonts matplotlib knows, checked for CJK glyphs."""
    known = sorted({(_rank(f.name), f.name, f.fname) for f in font_manager.fontManager.ttflist
                    if _rank(f.name) < len(CJK_FAMILIES)})
    for _, name, fname in known:
        if _has_cjk(fname):
            log.debug("CJK font %s (%s)", name, fname)
            return name
    return None


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of a font with CJK glyphs, or None when none is installed.

    Looks in `sopt/fonts/` first (a shipped font wins), then matplotlib's font list for
    the known CJK families, then the system font folders (matplotlib's cache may predate a
    font installed later). A font found on disk is registered with matplotlib.
    """
    if FONTS_DIR.is_dir():
        for path in sorted(FONTS_DIR.iterdir()):
            if path.suffix.lower() in (".ttf", ".otf", ".ttc") and _has_cjk(str(path)):
                name = _register(str(path))
                if name:
                    log.debug("CJK font %s from %s", name, path)
                    return name
    name = _known_cjk()
    if name:
        return name
    # matplotlib's font cache may predate a font installed since: register likely files.
    for fname in sorted(font_manager.findSystemFonts()):
        stem = Path(fname).name.lower().replace("-", "").replace("_", "")
        if any(h in stem for h in CJK_FILE_HINTS) and _has_cjk(fname):
            _register(fname)
    name = _known_cjk()
    if name:
        return name
    log.debug("no CJK font installed: non-Latin product names are shown as product ids")
    return None


@functools.cache
def _family_charmap(family: str) -> frozenset[int]:
    try:
        path = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
    except ValueError:
        return frozenset()
    return _charmap(path)


def _fonts() -> list[str]:
    cjk = cjk_font()
    return [BASE_FONT, cjk] if cjk else [BASE_FONT]


def _fontprops(size: float | None = None, weight: str | None = None) -> FontProperties:
    """Font of every text that may hold a product name: DejaVu Sans, then the CJK font."""
    return FontProperties(family=_fonts(), size=size, weight=weight)


def _title_props(text: str, size: float) -> FontProperties:
    """Bold DejaVu Sans for a title it can draw; the regular fallback chain otherwise
    (CJK fonts rarely ship a bold face)."""
    if all(ord(c) in _family_charmap(BASE_FONT) or c.isspace() for c in text):
        return FontProperties(family=BASE_FONT, size=size, weight="bold")
    return _fontprops(size)


def _drawable(text: str) -> bool:
    covered = frozenset().union(*(_family_charmap(f) for f in _fonts()))
    return all(ord(c) in covered or c.isspace() for c in text)


def _safe(text: str, fallback: str) -> str:
    """The text when the fonts can draw it, else the fallback (a product or line id)."""
    return text if text and _drawable(text) else fallback


def _safe_title(text: str) -> str:
    if _drawable(text):
        return text
    kept = "".join(c for c in text if _drawable(c))
    return " ".join(kept.split()) or "scenario"


def _text_width(text: str, size: float) -> float:
    """Approximate width in points (wide CJK characters take about one em)."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.6 * size for c in text)


def _fit(text: str, width: float, size: float) -> str:
    """The text, cut with an ellipsis to fit `width` points ('' when under 3 characters fit)."""
    if _text_width(text, size) <= width:
        return text
    out = ""
    for c in text:
        if _text_width(out + c + "…", size) > width:
            break
        out += c
    out = out.rstrip()
    return out + "…" if len(out) >= 3 else ""


def product_label(plan: Plan, product: str) -> str:
    """The product's display name (its id when the fonts cannot draw the name)."""
    p = plan.week.scenario.product(product)
    return _safe(p.name, product) if p.name and p.name != product else product


# ------------------------------------------------------------------------------- colours
def product_colors(plan: Plan) -> dict[str, str]:
    """A stable colour per product: spread hues in product-id order, alternating lightness."""
    ids = sorted(p.id for p in plan.week.scenario.products)
    tab = [mcolors.to_hex(c) for c in matplotlib.colormaps["tab20"].colors]  # type: ignore[attr-defined]
    palette = tab[0::2] + tab[1::2]
    n = len(ids)
    if n > len(palette):
        golden = 0.618033988749895
        extra = []
        for i in range(n - len(palette)):
            h = (i * golden) % 1.0
            light, sat = (0.55, 0.65) if i % 2 == 0 else (0.72, 0.55)
            extra.append(mcolors.to_hex(colorsys.hls_to_rgb(h, light, sat)))
        palette = palette + extra
    out = {pid: palette[i] for i, pid in enumerate(ids)}
    for item in plan.week.scenario.items:  # a routing's step items: lighter shades of their product's colour
        if item.parent is not None:
            steps = len(item.steps)
            f = 0.6 * (steps - 1 - item.step_index) / steps
            r, g, b = mcolors.to_rgb(out[item.parent])
            out[item.id] = mcolors.to_hex((r + (1 - r) * f, g + (1 - g) * f, b + (1 - b) * f))
    return out


def _darker(color: str, f: float = 0.55) -> tuple[float, float, float]:
    r, g, b = mcolors.to_rgb(color)
    return (r * f, g * f, b * f)


def _ink(color: str | tuple[float, float, float]) -> str:
    """Black or white text, whichever reads better on the colour."""
    r, g, b = mcolors.to_rgb(color)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"


# ------------------------------------------------------------------------------- helpers
def _num(t: dt.datetime) -> float:
    return float(mdates.date2num(t))


def _days(minutes: float) -> float:
    return minutes / 1440.0


def _horizon(plan: Plan) -> tuple[dt.datetime, dt.datetime]:
    sc = plan.week.scenario
    start = sc.start_time
    end = start + dt.timedelta(days=sc.days)
    latest = max([s.end for s in plan.week.shifts] + [r.end for r in plan.runs] + [end])
    return start, max(end, latest)


def _breaks(shift: Any) -> list[Interval]:
    """Clock time inside the shift that is neither working nor closed: the breaks."""
    gaps: list[Interval] = [(shift.start, shift.end)]
    cuts = list(shift.working) + [(a, b) for a, b, _ in shift.closed]
    for cut in cuts:
        gaps = subtract(gaps, cut)
    return gaps


def _segments(run: Run, working: tuple[Interval, ...]) -> list[Interval]:
    """The run's clock span cut to working time (breaks show through); overtime stays whole."""
    windows = [*working, (run.shift_end, max(run.end, run.shift_end))]
    out = [(max(a, run.start), min(b, run.end)) for a, b in windows if b > run.start and a < run.end]
    out = [(a, b) for a, b in out if b > a]
    return out or [(run.start, run.end)]


def _split_setup(segments: list[Interval], setup: int) -> tuple[list[Interval], list[Interval]]:
    """Split working segments into (the first `setup` minutes, the rest)."""
    head: list[Interval] = []
    tail: list[Interval] = []
    left = setup * MINUTE
    for a, b in segments:
        if left <= dt.timedelta(0):
            tail.append((a, b))
        elif b - a <= left:
            head.append((a, b))
            left -= b - a
        else:
            head.append((a, a + left))
            tail.append((a + left, b))
            left = dt.timedelta(0)
    return head, tail


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI)


def _figure_inches(ax: Axes) -> tuple[float, float]:
    """The size of the (root) figure holding the axes, in inches."""
    fig: Any = ax.figure
    while fig is not None and not hasattr(fig, "get_size_inches"):  # a SubFigure: up to its root
        fig = getattr(fig, "figure", None) if getattr(fig, "figure", None) is not fig else None
    if fig is None:
        return (12.0, 6.0)
    w, h = fig.get_size_inches()
    return float(w), float(h)


def _axes_points(ax: Axes) -> tuple[float, float]:
    """The axes' width and height in points (before any drawing)."""
    pos = ax.get_position()
    w_in, h_in = _figure_inches(ax)
    return pos.width * w_in * 72.0, pos.height * h_in * 72.0


def _day_axis(ax: Axes, start: dt.datetime, end: dt.datetime) -> None:
    """Date/time x axis: day separators, weekday labels under each day, hours as minor ticks."""
    ax.set_xlim(_num(start), _num(end))
    first = dt.datetime.combine(start.date(), dt.time())
    days = []
    d = first
    while d <= end:
        days.append(d)
        d += dt.timedelta(days=1)
    for d in days:
        if start <= d <= end:
            ax.axvline(_num(d), color=DAY_LINE, lw=1.0, zorder=6)
    noons = [_num(d + dt.timedelta(hours=12)) for d in days if start <= d + dt.timedelta(hours=12) <= end]
    hours = []
    t = first
    while t <= end:
        if t >= start and t.hour != 0:
            hours.append(_num(t))
        t += dt.timedelta(hours=6)
    ax.xaxis.remove_overlapping_locs = False
    ax.xaxis.set_major_locator(FixedLocator(noons))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: mdates.num2date(x).strftime("%a %d %b")))
    ax.xaxis.set_minor_locator(FixedLocator(hours))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda x, _: mdates.num2date(x).strftime("%H")))
    ax.tick_params(axis="x", which="major", length=0, pad=13, labelsize=9)
    ax.tick_params(axis="x", which="minor", length=3, pad=2, labelsize=6.5, labelcolor="#555555")


# ------------------------------------------------------------------------------- Gantt
def plot_gantt(plan: Plan, *, ax: Axes | None = None) -> Figure:
    """The schedule by line over the week.

    One row per line: shifts as light bands, breaks grey, closed time hatched grey with its
    reason, the protected window of each open shift hatched orange; runs as bars coloured
    by product, the changeover (setup) as the dark hatched start of the bar, the class as
    the bar's edge (A thick, B thin, C dashed) and in the label; labels where the bar is
    wide enough; a legend naming the products. Draws on `ax` when given (no new figure).
    """
    sc = plan.week.scenario
    lines = [ln.id for ln in sc.lines]
    row = {ln: i for i, ln in enumerate(lines)}
    used = sorted({r.product for r in plan.runs})
    legend_rows = -(-max(1, len(used)) // 4)
    fig: Figure
    if ax is None:
        legend_h = 0.55 + 0.19 * legend_rows
        height = 1.25 * len(lines) + 1.3 + legend_h
        fig = _new_figure(20.0, height)
        bottom = (legend_h + 0.55) / height
        ax = fig.add_axes((0.075, bottom, 0.915, 1 - bottom - 0.55 / height))
        leg_ax: Axes | None = fig.add_axes((0.075, 0.0, 0.915, legend_h / height))
        leg_ax.set_axis_off()  # type: ignore[union-attr]
    else:
        fig = ax.figure  # type: ignore[assignment]
        leg_ax = None
    start, end = _horizon(plan)
    _day_axis(ax, start, end)
    ax.set_ylim(len(lines) - 0.5, -0.5)
    ax.set_yticks(range(len(lines)))
    ylabels = []
    for ln in sc.lines:
        name = _safe(ln.name, "") if ln.name and ln.name != ln.id else ""
        ylabels.append(ln.id + ("\n" + _fit(name, 80, 7) if name else ""))
    ax.set_yticklabels(ylabels, fontproperties=_fontprops(8))
    ax.tick_params(axis="y", length=0)
    ax.set_facecolor("white")
    width_pt, height_pt = _axes_points(ax)
    pt_per_day = width_pt / max(1e-9, _num(end) - _num(start))
    bar_h = 0.56
    bar_pt = bar_h * height_pt / max(1, len(lines))

    # Calendar: shifts, breaks, protected windows, closed time.
    open_shift = {(c["line"], c["shift"]): bool(c["open"]) for c in plan.capacity}
    for s in plan.week.shifts:
        y = row[s.line]
        opened = open_shift.get((s.line, s.shift), s.W > 0) or s.W == 0
        ax.add_patch(Rectangle((_num(s.start), y - 0.46), _days((s.end - s.start) / MINUTE), 0.92,
                               facecolor=SHIFT_FACE if opened else "white", edgecolor=SHIFT_EDGE,
                               lw=0.6 if opened else 0.8, linestyle="solid" if opened else (0, (3, 2)),
                               zorder=1))
        for a, b in _breaks(s):
            ax.add_patch(Rectangle((_num(a), y - 0.46), _days((b - a) / MINUTE), 0.92,
                                   facecolor=BREAK_FACE, edgecolor="none", zorder=1.5))
        if open_shift.get((s.line, s.shift), s.W > 0) and s.protected_start and s.protected_end:
            a, b = s.protected_start, s.protected_end
            ax.add_patch(Rectangle((_num(a), y - 0.46), _days((b - a) / MINUTE), 0.92,
                                   facecolor=mcolors.to_rgba(PROTECTED_COLOR, 0.13), edgecolor=PROTECTED_COLOR,
                                   hatch="\\\\\\", lw=0.0, zorder=2))
    hstart, hend = sc.start_time, sc.start_time + dt.timedelta(days=sc.days)
    for c in sc.closures:
        a, b = max(c.start, hstart), min(c.end, hend)
        if b <= a:
            continue
        for ln in ([c.line] if c.line else lines):
            if ln not in row:
                continue
            y = row[ln]
            ax.add_patch(Rectangle((_num(a), y - 0.46), _days((b - a) / MINUTE), 0.92,
                                   facecolor=mcolors.to_rgba(CLOSED_FACE, 0.35), edgecolor="#555555",
                                   hatch="xxx", lw=0.6, zorder=2.5))
            w = (_num(b) - _num(a)) * pt_per_day
            reason = _fit(_safe(c.reason, "closed"), w - 4, 6.5)
            if reason:
                ax.text(_num(a) + (_num(b) - _num(a)) / 2, y + 0.40, reason, ha="center", va="bottom",
                        fontproperties=_fontprops(6.5), color="#222222", zorder=7, clip_on=True,
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})

    # Runs.
    colors = product_colors(plan)
    working = {i: s.working for i, s in enumerate(plan.week.shifts)}
    for r in plan.runs:
        y = row[r.line]
        color = colors[r.product]
        edge, lw, ls = CLASS_EDGE.get(r.cls, CLASS_EDGE["C"])
        segs = _segments(r, working.get(r.shift_index, ()))
        head, tail = _split_setup(segs, r.setup_minutes)
        for a, b in tail:
            ax.add_patch(Rectangle((_num(a), y - bar_h / 2), _days((b - a) / MINUTE), bar_h,
                                   facecolor=color, edgecolor="none", zorder=4))
        for a, b in head:
            ax.add_patch(Rectangle((_num(a), y - bar_h / 2), _days((b - a) / MINUTE), bar_h,
                                   facecolor=_darker(color), edgecolor=mcolors.to_rgba("white", 0.6),
                                   hatch="////", lw=0.0, zorder=4.2))
        # The class edge around the whole run (one outline per continuous segment).
        for a, b in segs:
            ax.add_patch(Rectangle((_num(a), y - bar_h / 2), _days((b - a) / MINUTE), bar_h,
                                   facecolor="none", edgecolor=edge, lw=lw, linestyle=ls, zorder=4.5))
        if r.end > r.shift_end:
            ax.plot([_num(max(r.start, r.shift_end)), _num(r.end)], [y + bar_h / 2 + 0.04] * 2,
                    color=OVERTIME_COLOR, lw=2.0, solid_capstyle="butt", zorder=4.6)
        _label_run(ax, plan, r, tail or segs, y, pt_per_day, bar_pt, color)

    title = _safe_title(sc.name)
    n_runs = len(plan.runs)
    text = f"{title} — schedule by line ({n_runs} runs)"
    ax.set_title(text, loc="left", fontproperties=_title_props(text, 12))
    _gantt_legend(plan, leg_ax if leg_ax is not None else ax, used, colors, inside_axes=leg_ax is None)
    return fig


def _label_run(ax: Axes, plan: Plan, r: Run, segs: list[Interval], y: float, pt_per_day: float,
               bar_pt: float, color: str) -> None:
    """Label the run's production span (after its changeover), as much as fits.

    Segments split by a break stay one span; a longer gap (closed time) splits the run and
    the label goes on the widest part, so it never sits on the hatching.
    """
    groups: list[Interval] = []
    for a, b in segs:
        if groups and a - groups[-1][1] <= dt.timedelta(minutes=45):
            groups[-1] = (groups[-1][0], b)
        else:
            groups.append((a, b))
    a, b = max(groups, key=lambda g: g[1] - g[0])
    w = (_num(b) - _num(a)) * pt_per_day - 3
    x = _num(a) + (_num(b) - _num(a)) / 2
    size = 7.0
    head = f"{r.product}·{r.cls}"
    ink = _ink(color)
    props = _fontprops(size)
    lines_fit = int(bar_pt // (size * 1.25))
    if w >= _text_width(head, size) and lines_fit >= 1:
        parts = [head]
        if lines_fit >= 2:
            name = product_label(plan, r.product)
            short = _fit(name, w, size) if name != r.product else ""
            if short:
                parts.append(short)
        if lines_fit >= len(parts) + 1:
            qty = f"{r.quantity:,}"
            if _text_width(qty, size) <= w:
                parts.append(qty)
        ax.text(x, y, "\n".join(parts), ha="center", va="center", color=ink, fontproperties=props,
                linespacing=1.1, zorder=5, clip_on=True)
    elif w >= _text_width(r.product, size):
        ax.text(x, y, r.product, ha="center", va="center", color=ink, fontproperties=props, zorder=5,
                clip_on=True)
    elif w + 3 >= size * 1.2 and bar_pt >= _text_width(r.product, size) + 2:
        ax.text(x, y, r.product, ha="center", va="center", rotation=90, color=ink, fontproperties=props,
                zorder=5, clip_on=True)


def _gantt_legend(plan: Plan, target: Axes, used: list[str], colors: dict[str, str], inside_axes: bool) -> None:
    classes = plan.week.classes
    handles: list[Any] = []
    for pid in used:
        name = product_label(plan, pid)
        label = f"{pid} ({classes.get(pid, '?')})" + (f"  {_fit(name, 190, 8)}" if name != pid else "")
        handles.append(Patch(facecolor=colors[pid], edgecolor="none", label=label))
    keys: list[Any] = [
        Patch(facecolor=SHIFT_FACE, edgecolor=SHIFT_EDGE, label="shift"),
        Patch(facecolor="white", edgecolor=SHIFT_EDGE, linestyle=(0, (3, 2)), label="shift not opened"),
        Patch(facecolor=BREAK_FACE, edgecolor="none", label="break"),
        Patch(facecolor=mcolors.to_rgba(CLOSED_FACE, 0.35), edgecolor="#555555", hatch="xxx", label="closed"),
        Patch(facecolor=mcolors.to_rgba(PROTECTED_COLOR, 0.13), edgecolor=PROTECTED_COLOR, hatch="\\\\\\",
              lw=0, label="protected window"),
        Patch(facecolor="#555555", edgecolor="white", hatch="////", lw=0, label="changeover (setup)"),
        Line2D([], [], color=OVERTIME_COLOR, lw=2.0, label="overtime"),
    ] + [Patch(facecolor="white", edgecolor=e, lw=w, linestyle=s, label=f"class {c}")
         for c, (e, w, s) in CLASS_EDGE.items()]
    if inside_axes:
        # Drawing on someone else's axes: one legend at their right, outside the plot.
        entries = handles + keys
        leg = target.legend(handles=entries, loc="upper left", bbox_to_anchor=(1.005, 1.0),
                            ncol=1 if len(entries) <= 18 else 2, prop=_fontprops(7), frameon=False,
                            borderaxespad=0.0, columnspacing=1.0)
        leg.set_zorder(10)
        return
    key_leg = target.legend(handles=keys, loc="upper left", bbox_to_anchor=(0.0, 1.0), ncol=len(keys),
                            prop=_fontprops(8), frameon=False, handlelength=2.2, columnspacing=1.4)
    target.add_artist(key_leg)
    if handles:
        height_in = target.get_position().height * _figure_inches(target)[1]
        target.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 1.0 - 0.3 / max(height_in, 0.5)),
                      ncol=4, prop=_fontprops(8), frameon=False, handlelength=1.4, columnspacing=1.6,
                      title="products (class)", title_fontproperties=_title_props("products", 8), alignment="left")


# ------------------------------------------------------------------------------- load
def _by_line_day(plan: Plan) -> dict[tuple[str, str], dict[str, int]]:
    """Planned, available (W), protected (P) and overtime minutes per line and plant date."""
    shifts = {(s.line, s.shift): s for s in plan.week.shifts}
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in plan.capacity:
        s = shifts.get((c["line"], c["shift"]))
        date = s.date.isoformat() if s is not None else c["shift_start"][:10]
        cell = out[(c["line"], date)]
        cell["planned"] += c["planned_minutes"]
        cell["available"] += c["available_minutes"]
        cell["protected"] += c["protected_minutes"]
        cell["overtime"] += c["overtime_minutes"]
    return out


def plot_load(plan: Plan, *, ax: Axes | None = None) -> Figure:
    """Planned load against available and protected minutes, per line and day.

    One stacked bar per line and day: planned minutes inside regular capacity (solid, the
    line's colour), regular capacity left unused (light), the protected minutes (hatched
    orange; the bar's top is the available minutes W) and overtime above W (red). The
    figure above each bar is the utilization planned / W.
    """
    sc = plan.week.scenario
    fig: Figure
    if ax is None:
        fig = _new_figure(14.0, 5.2)
        ax = fig.add_axes((0.06, 0.17, 0.72, 0.73))
    else:
        fig = ax.figure  # type: ignore[assignment]
    cells = _by_line_day(plan)
    lines = [ln.id for ln in sc.lines]
    n = len(lines)
    width = 0.8 / max(1, n)
    xs, xlabels = [], []
    for d, date in enumerate(sc.dates):
        for k, ln in enumerate(lines):
            x = d + (k - (n - 1) / 2) * width
            c = cells.get((ln, date.isoformat()), {})
            W, P, planned = c.get("available", 0), c.get("protected", 0), c.get("planned", 0)
            regular = max(0, W - P)
            inside = min(planned, regular)
            over = max(0, planned - regular)
            color = LINE_COLORS[k % len(LINE_COLORS)]
            bw = width * 0.9
            ax.bar(x, inside, bw, color=color, zorder=3)
            ax.bar(x, regular - inside, bw, bottom=inside, color=mcolors.to_rgba(color, 0.18),
                   edgecolor=mcolors.to_rgba(color, 0.6), lw=0.6, zorder=3)
            ax.bar(x, P, bw, bottom=regular, color=mcolors.to_rgba(PROTECTED_COLOR, 0.15),
                   edgecolor=PROTECTED_COLOR, hatch="\\\\\\", lw=0.0, zorder=3)
            if over:
                ax.bar(x, over, bw, bottom=regular + P, color=OVERTIME_COLOR, zorder=3)
            if W:
                ax.text(x, max(W, regular + P + over) + 8, f"{planned / W:.0%}", ha="center", va="bottom",
                        fontsize=6.5, color="#333333", zorder=4)
            elif d < sc.days:
                ax.text(x, 8, "closed", ha="center", va="bottom", rotation=90, fontsize=6.5, color="#777777")
            xs.append(x)
            xlabels.append(ln)
    ax.set_xticks(xs, xlabels, fontsize=7)
    ax.tick_params(axis="x", length=0, pad=2)
    for d, date in enumerate(sc.dates):
        ax.annotate(date.strftime("%a %d %b"), xy=(d, 0), xycoords=("data", "axes fraction"),
                    xytext=(0, -16), textcoords="offset points", ha="center", va="top", fontsize=9)
        if d:
            ax.axvline(d - 0.5, color="#cccccc", lw=0.8, zorder=1)
    ax.set_xlim(-0.5, len(sc.dates) - 0.5)
    ax.set_ylabel("minutes")
    top = max([1] + [max(c["available"], c["planned"] + c["protected"]) for c in cells.values()])
    ax.set_ylim(0, top * 1.12)
    ax.grid(axis="y", color="#e5e5e5", zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles: list[Any] = [Patch(facecolor=LINE_COLORS[k % len(LINE_COLORS)], label=f"{ln} planned")
                          for k, ln in enumerate(lines)]
    handles += [
        Patch(facecolor=mcolors.to_rgba("#888888", 0.18), edgecolor="#888888", label="unused (W − P − planned)"),
        Patch(facecolor=mcolors.to_rgba(PROTECTED_COLOR, 0.15), edgecolor=PROTECTED_COLOR, hatch="\\\\\\",
              lw=0, label="protected P (top = available W)"),
        Patch(facecolor=OVERTIME_COLOR, label="overtime"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    util = plan.utilization()
    summary = ", ".join(f"{ln} {util.get(ln, 0.0):.0%}" for ln in lines)
    text = f"{_safe_title(sc.name)} — load vs capacity per line and day (week utilization: {summary})"
    ax.set_title(text, loc="left", fontproperties=_title_props(text, 11))
    return fig


# ------------------------------------------------------------------------------- stock
def material_on_hand(plan: Plan) -> dict[str, list[tuple[dt.datetime, float]]]:
    """Projected on hand per material as steps (time, level after the event).

    Opening stock at the horizon's start, receipts at their time, each run's BOM
    consumption at the run's start (work in progress excluded: its material was issued). A simple view for the picture (the MRP owns the
    official numbers).
    """
    sc = plan.week.scenario
    events: dict[str, list[tuple[dt.datetime, int, float]]] = defaultdict(list)
    for m in sc.materials:
        for at, qty in m.receipts:
            events[m.id].append((at, 0, float(qty)))
    for r in plan.runs:
        if r.run_id.startswith("WIP-"):  # its material was issued last week
            continue
        for m_id, per_unit in sc.product(r.product).materials.items():
            events[m_id].append((r.start, 1, -float(per_unit * r.quantity)))
    out: dict[str, list[tuple[dt.datetime, float]]] = {}
    for m in sc.materials:
        level = float(m.opening_stock)
        steps = [(sc.start_time, level)]
        for at, _, delta in sorted(events.get(m.id, [])):
            level += delta
            steps.append((max(at, sc.start_time), level))
        out[m.id] = steps
    return out


def _stock_risk(plan: Plan) -> list[tuple[float, str]]:
    """A/B products with a min stock, lowest stock_end / min_stock first."""
    worst: dict[str, float] = {}
    for r in plan.production:
        if r["class"] in ("A", "B") and r["min_stock"] > 0:
            ratio = r["stock_end"] / r["min_stock"]
            worst[r["product"]] = min(worst.get(r["product"], ratio), ratio)
    return sorted((v, k) for k, v in worst.items())


def plot_stock(plan: Plan, *, ax: Axes | None = None, products: int = 8, materials: int = 4) -> Figure:
    """Projected stock of the A/B products against their min stock, and materials on hand.

    The top panel (or `ax`) shows stock_end ÷ min_stock per day (100 % = min stock, the
    red zone below it) for the `products` A/B products that come closest to or furthest
    below their min stock; the day-0 point is the opening stock. When no axes are given,
    a second row shows projected on hand of the `materials` materials that come closest to
    running out, in their own units, with their safety stock.
    """
    sc = plan.week.scenario
    fig: Figure
    mat_axes: list[Axes] = []
    if ax is None:
        fig = _new_figure(15.0, 8.4)
        gs = fig.add_gridspec(2, max(1, materials), height_ratios=(1.35, 1.0), left=0.06, right=0.76,
                              top=0.93, bottom=0.07, hspace=0.42, wspace=0.32)
        ax = fig.add_subplot(gs[0, :])
        mat_axes = [fig.add_subplot(gs[1, k]) for k in range(max(1, materials))]
    else:
        fig = ax.figure  # type: ignore[assignment]
    _plot_product_stock(plan, ax, products)
    if mat_axes:
        _plot_materials(plan, mat_axes)
    if mat_axes:
        text = f"{_safe_title(sc.name)} — projected stock"
        fig.suptitle(text, x=0.06, ha="left", fontproperties=_title_props(text, 12))
    return fig


def _plot_product_stock(plan: Plan, ax: Axes, products: int) -> None:
    sc = plan.week.scenario
    risk = _stock_risk(plan)[:products]
    ax.set_title("A/B products closest to their min stock: stock at the end of each day ÷ min stock",
                 loc="left", fontsize=10)
    xs = list(range(sc.days + 1))
    ax.set_xticks(xs, ["open"] + [d.strftime("%a %d") for d in sc.dates], fontsize=8)
    ax.set_xlim(-0.2, sc.days + 0.2)
    if not risk:
        ax.text(0.5, 0.5, "no A/B product with a min stock", transform=ax.transAxes, ha="center", va="center")
        return
    colors = product_colors(plan)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in plan.production:
        rows[r["product"]].append(r)
    top = 150.0
    ends: list[tuple[float, str, Any]] = []
    for _, pid in risk:
        p = sc.product(pid)
        rs = sorted(rows[pid], key=lambda r: r["date"])
        mins = rs[0]["min_stock"]
        ys = [100.0 * p.opening_stock / mins] + [100.0 * r["stock_end"] / r["min_stock"] for r in rs]
        top = max(top, *ys)
        name = product_label(plan, pid)
        label = f"{pid} ({rs[0]['class']}) " + (f"{_fit(name, 125, 8)} " if name != pid else "") + f"· min {mins:,}"
        ax.plot(xs, ys, marker="o", ms=3.5, lw=1.6, color=colors[pid], label=label, zorder=3)
        ends.append((ys[-1], pid, _darker(colors[pid], 0.8)))
    ax.axhline(100, color="black", lw=1.0, ls="--", zorder=2)
    ax.axhspan(0, 100, color=mcolors.to_rgba(OVERTIME_COLOR, 0.07), zorder=0)
    ymax = min(top, 1000.0) * 1.08 + 5
    ax.set_ylim(0, ymax)
    # Product ids at the right end of their line, pushed apart so they never overlap.
    _, h_pt = _axes_points(ax)
    gap = 9.0 * ymax / max(h_pt, 1.0)
    ends.sort(key=lambda e: (e[0], e[1]))
    placed: list[float] = []
    for y, _, _ in ends:
        y = min(y, ymax)
        placed.append(max(y, placed[-1] + gap) if placed else y)
    # Centre the stack on the lines it labels (not below the axis).
    shift = max(-placed[0], (sum(e[0] for e in ends) - sum(placed)) / len(placed)) if placed else 0.0
    for (_, pid, color), y in zip(ends, placed):
        ax.annotate(pid, xy=(xs[-1], y + shift), xytext=(6, 0), textcoords="offset points", va="center",
                    fontsize=7, color=color, annotation_clip=False)
    ax.set_ylabel("% of min stock")
    ax.grid(axis="y", color="#e5e5e5")
    ax.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0), frameon=False, prop=_fontprops(8))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _plot_materials(plan: Plan, axes: list[Axes]) -> None:
    sc = plan.week.scenario
    steps = material_on_hand(plan)
    used = {m for r in plan.runs for m in sc.product(r.product).materials}
    ranked = []
    for m in sc.materials:
        if m.id not in used:
            continue
        supply = float(m.opening_stock) + sum(float(q) for _, q in m.receipts)
        low = min(v for _, v in steps[m.id])
        ranked.append(((low - float(m.safety_stock)) / max(supply, 1e-9), m.id))
    ranked.sort()
    start = sc.start_time
    end = start + dt.timedelta(days=sc.days)
    for k, ax in enumerate(axes):
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if k >= len(ranked):
            ax.set_axis_off()
            if k == 0:
                ax.text(0.5, 0.5, "no material consumed", transform=ax.transAxes, ha="center", va="center")
            continue
        m = sc.material(ranked[k][1])
        pts = steps[m.id] + [(end, steps[m.id][-1][1])]
        xs = [_num(t) for t, _ in pts]
        ys = [v for _, v in pts]
        ax.step(xs, ys, where="post", color="#1f4e79", lw=1.4)
        ax.fill_between(xs, ys, step="post", color="#1f4e79", alpha=0.12)
        if m.safety_stock > 0:
            ax.axhline(float(m.safety_stock), color=PROTECTED_COLOR, lw=1.0, ls="--")
        ax.axhline(0, color=OVERTIME_COLOR, lw=1.0)
        for at, _qty in m.receipts:
            if start <= at <= end:
                ax.axvline(_num(at), color="#2ca02c", lw=1.0, ls=":", zorder=1)
        ax.set_xlim(_num(start), _num(end))
        ax.xaxis.set_major_locator(FixedLocator([_num(start + dt.timedelta(days=d)) for d in range(sc.days + 1)]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: mdates.num2date(x).strftime("%a")))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(axis="both", labelsize=7)
        ax.yaxis.set_major_formatter(FuncFormatter(_compact))
        ax.grid(axis="x", color="#e5e5e5")
        name = _safe(m.name, "") if m.name and m.name != m.id else ""
        ax.set_title(f"{m.id}" + (f" {_fit(name, 150, 8)}" if name else ""), loc="left",
                     fontproperties=_fontprops(8.5))
        ax.set_ylabel(m.unit or "", fontsize=7)
        low = min(ys)
        ax.set_ylim(min(0.0, low) * 1.1, max(max(ys), float(m.safety_stock)) * 1.12 + 1e-9)
    if axes and ranked:
        axes[0].annotate("materials closest to running out: projected on hand (BOM at run start, "
                         "receipts dotted green, safety stock dashed orange)", xy=(0, 1.2), xycoords="axes fraction",
                         fontsize=10, ha="left", va="bottom")


def _compact(x: float, _: Any) -> str:
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:.1f}M"
    if a >= 1e4:
        return f"{x / 1e3:.0f}k"
    if a >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:g}"


# ------------------------------------------------------------------------------- files
@contextmanager
def _quiet_glyphs() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*Glyph .* missing from font.*")
        warnings.filterwarnings("ignore", message=r".*missing from (current )?font.*")
        yield


def _save(fig: Figure, fmt: str) -> bytes:
    buf = io.BytesIO()
    metadata: dict[str, Any] = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    with matplotlib.rc_context({"svg.hashsalt": "sopt", "svg.fonttype": "path"}), _quiet_glyphs():
        fig.savefig(buf, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")
    return buf.getvalue()


def _gantt_files(plan: Plan) -> dict[str, bytes]:
    with _quiet_glyphs():
        gantt = plot_gantt(plan)
    return {"gantt.png": _save(gantt, "png"), "gantt.svg": _save(gantt, "svg")}


def _other_files(plan: Plan) -> dict[str, bytes]:
    with _quiet_glyphs():
        load = plot_load(plan)
        stock = plot_stock(plan)
    return {"load.png": _save(load, "png"), "stock.png": _save(stock, "png")}


def render_pictures(plan: Plan) -> dict[str, bytes]:
    """gantt.png, gantt.svg, load.png and stock.png as bytes (the same plan, the same bytes)."""
    return start_pictures(plan, background=False)()


def start_pictures(plan: Plan, *, background: bool = True) -> Callable[[], dict[str, bytes]]:
    """Start rendering the pictures; the returned function gives `render_pictures(plan)`.

    With `background`, on a machine with more than one core and where a process may be
    forked safely (one thread, not a daemonic worker), the Gantt chart (the slowest
    picture) is drawn in a forked process while the caller goes on (the workbook, the
    other pictures). Same bytes either way; any failure of the helper process falls back
    to drawing here.
    """
    ctx = _fork_context() if background else None
    if ctx is None:
        files = {**_gantt_files(plan), **_other_files(plan)}
        return lambda: files
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_draw_in_child, args=(plan, send, receive), name="sopt-pictures", daemon=True)
    proc.start()
    send.close()

    def result() -> dict[str, bytes]:
        files = _other_files(plan)
        try:
            gantt = receive.recv()
        except (EOFError, OSError):
            gantt = None
        finally:
            receive.close()
            proc.join()
        if not isinstance(gantt, dict):  # the helper failed: draw it here
            log.warning("the picture process failed; drawing the Gantt chart in the main process")
            gantt = _gantt_files(plan)
        return {**gantt, **files}

    return result


def _fork_context() -> Any:
    import multiprocessing
    import os
    import threading

    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    if threading.active_count() > 1 or multiprocessing.current_process().daemon:
        return None  # forking next to other threads can deadlock; daemonic workers may not fork
    return multiprocessing.get_context("fork")


def _draw_in_child(plan: Plan, send: Any, receive: Any) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    # the fork copied the parent's end of the pipe: close it, so that if the parent is killed the
    # send fails (broken pipe) and this process ends, instead of waiting on a full pipe for ever
    receive.close()
    try:
        try:
            files = _gantt_files(plan)
        except Exception:  # noqa: BLE001 - reported to the parent as a missing result
            files = None
        send.send(files)
    except OSError:  # the parent is gone: nobody wants the pictures
        pass
    finally:
        send.close()
