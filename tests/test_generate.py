"""Tests of the synthetic week generator (`sopt.generate`) and of the bundled scenarios."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from sopt.generate import generate_week, write_week
from sopt.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def _load(data: dict, tmp_path: Path, name: str = "week.yaml") -> Scenario:
    path = tmp_path / name
    write_week(data, path)
    return load_scenario(path)


def _demand_units(data: dict) -> int:
    """Forecast units plus the units of orders for products without forecast consumed."""
    forecast = sum(sum(v) for v in data["demand"]["forecast"].values())
    orders = sum(o["quantity"] for o in data["demand"]["orders"])
    return forecast + orders


@pytest.mark.parametrize(
    ("products", "lines", "materials", "seed"),
    [(3, 1, 0, 0), (5, 2, 1, 1), (30, 3, 10, 7), (120, 6, 25, 3), (1000, 12, 200, 42)],
)
def test_generated_week_loads_with_requested_counts(
    tmp_path: Path, products: int, lines: int, materials: int, seed: int
) -> None:
    data = generate_week(products, lines, materials, seed)
    sc = _load(data, tmp_path)
    assert len(sc.products) == products
    assert len(sc.lines) == lines
    assert len(sc.materials) == materials
    assert sc.days == 7
    assert sc.reserve_ratio == Decimal("0.2")
    assert sc.orders, "a week has confirmed orders"
    assert all(p.declared_class is None for p in sc.products), "classes are left to sopt"
    assert not sc.warnings
    for p in sc.products:
        assert 1 <= len(p.rates) <= min(3, lines)
        assert all(15 <= r.setup_minutes <= 60 for r in p.rates.values())
        if materials:
            assert 1 <= len(p.bom) <= 3


@pytest.mark.parametrize("days", [1, 3, 14])
def test_other_horizons_and_start(tmp_path: Path, days: int) -> None:
    start = dt.date(2027, 3, 3)  # a Wednesday
    data = generate_week(12, 3, 4, 5, start=start, days=days)
    sc = _load(data, tmp_path)
    assert sc.start == start
    assert sc.days == days
    assert all(len(v) == days for v in sc.forecast.values())


def test_plain_yaml_data() -> None:
    data = generate_week(20, 3, 5, 1)

    def walk(x: object) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                assert isinstance(k, str)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        else:
            assert isinstance(x, (str, int, float)) and not isinstance(x, bool), repr(x)

    walk(data)


def test_same_seed_same_week_and_different_seeds_differ(tmp_path: Path) -> None:
    a = generate_week(40, 4, 12, 11)
    b = generate_week(40, 4, 12, 11)
    c = generate_week(40, 4, 12, 12)
    assert a == b
    assert a != c
    write_week(a, tmp_path / "a.yaml")
    write_week(b, tmp_path / "b.yaml")
    assert (tmp_path / "a.yaml").read_bytes() == (tmp_path / "b.yaml").read_bytes()


def test_load_scales_demand() -> None:
    low = generate_week(30, 3, 8, 4, load=0.7)
    high = generate_week(30, 3, 8, 4, load=1.3)
    assert _demand_units(high) > 1.5 * _demand_units(low)
    # the plant itself does not change with the load
    assert low["lines"] == high["lines"]
    assert [p["lines"] for p in low["products"]] == [p["lines"] for p in high["products"]]


def test_volumes_are_skewed_and_c_demand_is_ordered(tmp_path: Path) -> None:
    data = generate_week(100, 5, 10, 9)
    sc = _load(data, tmp_path)
    totals = sorted((sum(v) for v in sc.forecast.values()), reverse=True)
    top10 = sum(totals[:10])
    assert top10 > 0.35 * sum(totals), "the top 10 % of products carry a large share"
    # the 60 % smallest products (class C) get their demand as confirmed orders
    ranked = sorted(sc.forecast, key=lambda p: (-sum(sc.forecast[p]), p))
    c_products = set(ranked[40:])
    ordered = {o.product for o in sc.orders}
    assert c_products & ordered
    assert all(o.id.startswith("SO-") for o in sc.orders)


def test_forecast_zero_on_closed_days(tmp_path: Path) -> None:
    sc = _load(generate_week(25, 2, 3, 2), tmp_path)
    for i, date in enumerate(sc.dates):
        if not any(line.pattern.get(date.weekday()) for line in sc.lines):
            assert all(v[i] == 0 for v in sc.forecast.values())


def test_generation_is_fast() -> None:
    import time

    t0 = time.perf_counter()
    generate_week(1000, 12, 200, 1)
    assert time.perf_counter() - t0 < 2.0


def test_write_week_is_atomic_and_has_a_header(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("old\n", encoding="utf-8")
    write_week(generate_week(4, 1, 1, 0), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#")
    assert [p.name for p in tmp_path.iterdir()] == ["w.yaml"], "no temporary file is left"
    assert os.stat(path).st_mode & 0o044, "a normal readable file"


def test_invalid_sizes_are_rejected() -> None:
    with pytest.raises(ValueError):
        generate_week(0, 1, 0, 0)
    with pytest.raises(ValueError):
        generate_week(3, 0, 0, 0)
    with pytest.raises(ValueError):
        generate_week(3, 1, 0, 0, load=0)


@pytest.mark.parametrize("name", ["demo_week.yaml", "tight_week.yaml"])
def test_bundled_scenarios_load(name: str) -> None:
    sc = load_scenario(SCENARIOS / name)
    assert sc.products and sc.lines and sc.materials and sc.orders
    assert not sc.warnings
