"""Rush orders: the protected-minutes ledger, FCFS placement, R11's date, the stream and the simulation.

The small weeks are planned without the solver (`build_plan` with hand-given lots); every
expected time is derived by hand in the comments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from decimal import Decimal
from pathlib import Path

import pytest

from sopt.plan import build_plan
from sopt.rush import Ledger, RushOrder, RushStream, rule_date, simulate, stream_for
from sopt.scenario import RushSpec, load_scenario
from sopt.sequence import Lot
from sopt.week import prepare
from tests.conftest import ROOT, product, week

MON = dt.date(2026, 11, 30)


def at(hhmm: str, day: dt.date = MON) -> dt.datetime:
    h, m = hhmm.split(":")
    return dt.datetime.combine(day, dt.time(int(h), int(m)))


def two_shifts(reserve: float = 0.2, **changes):
    # L1 works 08:00-09:40 ("day") and 12:00-13:40 ("late"), 100 working minutes each, on Monday
    # 2026-11-30 (a one-day horizon). P1 takes 1 min/unit with a 5-minute setup, so q units
    # take 5 + q minutes. At r = 0.2, P = ceil(0.2 x 100) = 20: windows 09:20-09:40 and 13:20-13:40.
    data = week(products=[product("P1", setup=5, class_="A")], policy={"reserve_ratio": reserve})
    data.update(changes)
    data["shift_templates"]["late"] = {"start": "12:00", "minutes": 100}
    data["lines"][0]["shifts"] = {"all": ["day", "late"]}
    return data


def ledger(sc, lots=()):
    return Ledger.from_plan(build_plan(prepare(sc), list(lots)))


def order(n: int, qty: int, arrival: str, due: str = "12:00", product: str = "P1") -> RushOrder:
    return RushOrder(f"R-{n}", product, qty, at(arrival), at(due))


def test_protected_minutes_are_free_at_the_end_of_each_shift(load):
    # r = 0.125: P = ceil(0.125 x 100) = ceil(12.5) = 13 in both shifts. The day shift's last
    # 13 minutes: 09:27-09:40. The late shift here runs 12:00-13:50 with a 10-minute break at
    # 13:30: working 12:00-13:30 and 13:40-13:50 (100 minutes); its last 13 working minutes
    # are 13:40-13:50 (10) and 13:27-13:30 (3).
    data = two_shifts(0.125)
    data["shift_templates"]["late"] = {"start": "12:00", "minutes": 110, "breaks": [{"start": "13:30", "minutes": 10}]}
    led = ledger(load(data))
    assert [row["protected_minutes"] for row in led.plan.capacity] == [13, 13]
    assert led.free == {("L1", 0): [(at("09:27"), at("09:40"))],
                        ("L1", 1): [(at("13:27"), at("13:30")), (at("13:40"), at("13:50"))]}
    assert led.unused_protected_minutes() == 26
    # 13 minutes (P1 x 8) arriving at 10:00 take the whole late window, pausing over the break
    p = led.place(order(1, 8, "10:00", due="14:00"))
    assert (p.line, p.shift, p.start, p.end, p.minutes) == ("L1", "2026-11-30-late", at("13:27"), at("13:50"), 13)
    assert p.on_time and p.reason == "" and p.shift_index == 1
    assert led.free[("L1", 1)] == [] and led.unused_protected_minutes() == 13


def test_floating_window_is_the_last_p_working_minutes(load):
    # protected_window: floating has no fixed window; for rush orders it is the last P = 20
    # working minutes of each shift, as with "end".
    data = two_shifts()
    data["policy"]["protected_window"] = "floating"
    led = ledger(load(data))
    assert led.free == {("L1", 0): [(at("09:20"), at("09:40"))], ("L1", 1): [(at("13:20"), at("13:40"))]}


def test_fcfs_placement_in_the_first_window_after_arrival(load):
    led = ledger(load(two_shifts()))
    # 10 units = 15 minutes, arriving 07:00: the day window 09:20-09:40 -> 09:20-09:35, on time.
    a = led.place(order(1, 10, "07:00"))
    assert (a.line, a.start, a.end, a.minutes, a.on_time) == ("L1", at("09:20"), at("09:35"), 15, True)
    # the second, same size, arrives later: 5 minutes are left in the day window (09:35-09:40),
    # too few, so it goes to the late window 13:20-13:35, after its 12:00 due time: late.
    b = led.place(order(2, 10, "07:30"))
    assert (b.shift, b.start, b.end, b.on_time) == ("2026-11-30-late", at("13:20"), at("13:35"), False)
    # the smallest order, 1 unit = 6 minutes, fits neither the 5 minutes left in the day window
    # (09:35-09:40) nor the 5 left in the late one (13:35-13:40): capacity.
    c = led.place(order(3, 1, "07:45"))
    assert (c.line, c.reason) == (None, "capacity")
    assert led.free == {("L1", 0): [(at("09:35"), at("09:40"))], ("L1", 1): [(at("13:35"), at("13:40"))]}


def test_order_starts_no_earlier_than_its_arrival(load):
    led = ledger(load(two_shifts()))
    # arriving 09:25 inside the day window: 6 minutes (1 unit) run 09:25-09:31
    p = led.place(order(1, 1, "09:25"))
    assert (p.start, p.end) == (at("09:25"), at("09:31"))
    # the window keeps 09:20-09:25 and 09:31-09:40 free
    assert led.free[("L1", 0)] == [(at("09:20"), at("09:25")), (at("09:31"), at("09:40"))]
    # arriving 09:00, 9 minutes (4 units) do not fit 09:20-09:25 (5) but fit 09:31-09:40 (9)
    q = led.place(order(2, 4, "09:00"))
    assert (q.start, q.end) == (at("09:31"), at("09:40"))


def test_too_big_for_one_window_or_too_late(load):
    led = ledger(load(two_shifts()))
    # 16 units = 21 minutes > the 20 of any window (two windows are never joined): capacity
    assert led.place(order(1, 16, "07:00")).reason == "capacity"
    # arriving after the last shift's end (13:40): calendar
    assert led.place(order(2, 1, "14:00")).reason == "calendar"
    # commit=False finds the place but books nothing
    p = led.place(order(3, 15, "07:00"), commit=False)
    assert (p.start, p.end) == (at("09:20"), at("09:40"))
    assert led.unused_protected_minutes() == 40


def test_reserve_zero_places_nothing(load):
    led = ledger(load(two_shifts(0)))
    assert led.free == {} and led.unused_protected_minutes() == 0
    p = led.place(order(1, 1, "07:00"))
    assert (p.line, p.reason, p.on_time) == (None, "capacity", False)


def test_material_on_hand_and_receipts(load):
    # P2 needs 2 kg of M1 per unit (5 + q minutes). M1: 30 kg in stock, 20 more at 12:30.
    # The plan makes 10 P2 in the day shift (20 kg at its start 08:00): 10 kg left until 12:30.
    data = two_shifts(products=[product("P1", setup=5, class_="A"), product("P2", setup=5, class_="A", bom={"M1": 2})],
                      materials=[{"id": "M1", "opening_stock": 30,
                                  "receipts": [{"at": "2026-11-30T12:30", "quantity": 20}]}])
    sc = load(data)
    led = ledger(sc, [Lot("P2", "L1", 0, 10, 5, 10)])
    # 5 units (10 kg) fit on hand from 08:00: the day window, 09:20-09:30
    a = led.place(order(1, 5, "07:00", product="P2"))
    assert (a.start, a.end) == (at("09:20"), at("09:30"))
    # 10 more units (20 kg): nothing left until the receipt at 12:30, so not in the day window
    # (which still has 09:30-09:40, too short anyway) but the late window 13:20-13:35
    b = led.place(order(2, 10, "07:00", product="P2"))
    assert (b.start, b.end, b.on_time) == (at("13:20"), at("13:35"), False)
    # all 50 kg are now used: 1 more unit fits the day window's 10 free minutes but has no material
    c = led.place(order(3, 1, "07:00", product="P2"))
    assert (c.line, c.reason) == (None, "material")
    # a rush order never takes material a later planned run needs: with the plan's run in the
    # late shift (20 kg at its start, 12:00) 30 kg are on hand at 09:20, but only 10 stay free
    # until the receipt at 12:30. 6 units (12 kg, 11 minutes) wait for it: late window 13:20-13:31;
    # 5 units (10 kg) go to the day window.
    led2 = ledger(sc, [Lot("P2", "L1", 1, 10, 5, 10)])
    p = led2.place(order(4, 6, "07:00", product="P2"), commit=False)
    assert (p.start, p.end) == (at("13:20"), at("13:31"))
    assert led2.place(order(5, 5, "07:00", product="P2")).start == at("09:20")


def test_rule_date_by_hand(load):
    # One day shift, W = 100, P = 20 (r = 0.2): the line's planned capacity is 80 min/day.
    # The plan runs 30 P1 in it: setup 5 + run 30 = 35 minutes, 08:00-08:35.
    sc = load(week(products=[product("P1", setup=5, class_="A")]))
    plan = build_plan(prepare(sc), [Lot("P1", "L1", 0, 30, 5, 30)])
    assert [(r.start, r.end) for r in plan.runs] == [(at("08:00"), at("08:35"))]
    # at 08:10 the run is still confirmed load: 35 + (5 + 25) = 65 minutes at 80/day =
    # 0.8125 day = 19 h 30 -> 08:10 + 19:30 = Tuesday 03:40
    assert rule_date(plan, "P1", 25, at("08:10")) == dt.date(2026, 12, 1)
    # at 09:00 it has ended: 30 minutes = 0.375 day = 9 h -> Monday 18:00
    assert rule_date(plan, "P1", 25, at("09:00")) == MON
    # the ledger reports the same date beside a placement
    assert Ledger.from_plan(plan).place(order(1, 25, "08:10")).rule_date == dt.date(2026, 12, 1)


class FixedStream:
    """Three orders a week, 5 units (10 minutes) each, arriving 07:00-07:02, due 12:00."""

    def sample_week(self, scenario, seed):
        return [order(k, 5, f"07:0{k}") for k in range(3)]


@pytest.mark.parametrize(("reserve", "fill", "unused"), [
    # P = 10: one order in the day window 09:30-09:40, one in the late window 13:30-13:40 (after
    # 12:00: late), one not placed; nothing unused: 1/3
    (0.1, 1 / 3, 0),
    # P = 20: two in the day window (09:20-09:30, 09:30-09:40), the third late (13:20-13:30),
    # 40 - 30 = 10 minutes unused: 2/3
    (0.2, 2 / 3, 10),
    # P = 40: all three in the day window 09:00-09:30, 80 - 30 = 50 unused: 3/3
    (0.4, 1.0, 50),
])
def test_fill_rate_of_a_fixed_stream(load, reserve, fill, unused):
    plan = build_plan(prepare(load(two_shifts(reserve))), [])
    sim = simulate(plan, FixedStream(), weeks=4, seed=1)  # type: ignore[arg-type]
    # every week starts from the plan again: four identical weeks
    assert sim.fill_rates == [pytest.approx(fill)] * 4 and sim.fill_rate == pytest.approx(fill)
    assert sim.unused_protected_minutes == [unused] * 4
    assert sim.orders == 12 and sim.on_time == round(12 * fill)


def _stream_week(load, **rush):
    # a 7-day horizon, two A products; the stream's defaults come from the scenario
    data = week(products=[product("P1", class_="A"), product("P2", class_="B"), product("P3", class_="C")],
                horizon={"start": "2026-11-30", "days": 7},
                demand={"forecast": {"P1": [10] * 7, "P2": [0] * 7, "P3": [5] * 7}})
    data["rush_orders"] = rush
    return load(data)


def test_sample_week_is_seeded_and_poisson(load):
    sc = _stream_week(load, rate_per_day=2, quantity={"min": 10, "max": 100, "multiple": 25},
                      lead_time_days=1.5)
    st = stream_for(sc)
    assert st is not None
    # defaults: the A and B products, weighted by forecast units + 1: P1 70 + 1, P2 0 + 1
    assert (st.products, st.weights, st.quantity, st.lead_time_days) == (("P1", "P2"), (71.0, 1.0), (10, 100, 25), 1.5)
    a, b = st.sample_week(sc, 7), st.sample_week(sc, 8)
    assert a == st.sample_week(sc, 7) and a != b
    assert [o.id for o in a] == [f"R-7-{n}" for n in range(1, len(a) + 1)]
    assert [o.arrival for o in a] == sorted(o.arrival for o in a)
    counts = []
    for seed in range(2000):
        orders = st.sample_week(sc, seed)
        counts.append(len(orders))
        for o in orders:
            assert dt.time(6) <= o.arrival.time() < dt.time(22) and MON <= o.arrival.date() < MON + dt.timedelta(7)
            assert o.quantity in (25, 50, 75, 100)  # 10..100 rounded half-up to 25s, at least 25
            assert o.due - o.arrival == dt.timedelta(hours=36)
    # mean arrivals = 2/day x 7 days = 14 a week; the mean of 2000 weeks has a standard error
    # of sqrt(14 / 2000) = 0.084, so a tolerance of 0.4 is almost 5 standard errors
    assert abs(statistics.mean(counts) - 14) < 0.4
    # Poisson: the variance equals the mean (tolerance 1.5, ~3 standard errors of the variance)
    assert abs(statistics.variance(counts) - 14) < 1.5


def test_stream_defaults_and_classes(load):
    st = stream_for(_stream_week(load, rate_per_day=1, quantity={"min": 1, "max": 1}, classes=["C"]))
    assert st is not None and (st.products, st.weights) == (("P3",), (36.0,))
    st = stream_for(_stream_week(load, rate_per_day=1, quantity={"min": 1, "max": 1}, products=["P2", "P3"]))
    assert st is not None and (st.products, st.weights) == (("P2", "P3"), (1.0, 36.0))
    sc = _stream_week(load, rate_per_day=1, quantity={"min": 1, "max": 1})
    assert stream_for(dataclasses.replace(sc, rush=None)) is None


def test_stream_fitted_from_history(load, tmp_path: Path):
    # 3 orders received over 2026-11-01..11-10 (10 days): rate 0.3/day; P1 twice, P2 once;
    # quantities 100, 50, 150 -> (50, 150), multiple gcd = 50; lead days 2, 0, 1 -> mean 1.
    (tmp_path / "hist.csv").write_text(
        "date_received,product,quantity,due_date\n"
        "2026-11-01,P1,100,2026-11-03\n2026-11-02,P2,50,2026-11-02\n2026-11-10,P1,150,2026-11-11\n",
        encoding="utf-8")
    sc = _stream_week(load, history_csv="hist.csv")
    st = stream_for(sc)
    assert st is not None
    assert (st.rate_per_day, st.products, st.weights, st.quantity, st.lead_time_days) == \
        (pytest.approx(0.3), ("P1", "P2"), (2.0, 1.0), (50, 150, 50), 1.0)
    assert st.empirical == (("P1", 100, 2.0), ("P2", 50, 0.0), ("P1", 150, 1.0))
    # resampled orders are history triples, due at the end of arrival date + lead days
    seen = [o for seed in range(200) for o in st.sample_week(sc, seed)]
    assert seen
    for o in seen:
        lead = {("P1", 100): 2, ("P2", 50): 0, ("P1", 150): 1}[(o.product, o.quantity)]
        assert o.due == dt.datetime.combine(o.arrival.date() + dt.timedelta(days=lead + 1), dt.time())
    # given fields override: a rate keeps the resampling; a quantity makes the stream parametric
    st2 = stream_for(_stream_week(load, history_csv="hist.csv", rate_per_day=4))
    assert st2 is not None and st2.rate_per_day == 4 and st2.empirical == st.empirical
    st3 = stream_for(_stream_week(load, history_csv="hist.csv", quantity={"min": 5, "max": 10}))
    assert st3 is not None and st3.quantity == (5, 10, 1) and st3.empirical == ()
    assert st3.products == ("P1", "P2") and st3.lead_time_days == 1.0


@pytest.fixture(scope="module")
def demo_plans():
    from sopt.model import solve

    sc = load_scenario(ROOT / "scenarios" / "demo_week.yaml")
    out = {}
    for r in ("0.1", "0.4"):
        res = solve(sc.with_reserve(Decimal(r)), time_limit=5, workers=8)
        assert res.plan is not None
        out[r] = res.plan
    return out


def test_fill_rate_rises_with_protection_on_the_demo(demo_plans):
    # 2 rush orders per plant date of the A/B products, 50-300 cases in 50s, wanted within a day.
    spec = RushSpec(2.0, None, None, (50, 300, 50), 1.0, (), 100, 0)
    means = {}
    for r, plan in demo_plans.items():
        stream = stream_for(dataclasses.replace(plan.week.scenario, rush=spec))
        assert stream is not None
        sim = simulate(plan, stream, weeks=100, seed=11)
        assert len(sim.fill_rates) == 100 and sim.orders > 1000
        means[r] = statistics.mean(sim.fill_rates)
    # Same seeds at both ratios (common random numbers). Weekly fill rates spread with a
    # standard deviation of at most 0.5 (they lie in [0, 1]), so a mean of 100 weeks has a
    # standard error of at most 0.05; we require the 0.4 plan to beat the 0.1 plan by more
    # than 0.15, three such standard errors (at 0.1 a window holds 45 minutes, less than most
    # of these orders need; at 0.4 it holds 180).
    assert means["0.4"] > means["0.1"] + 0.15, means


def test_two_hundred_demo_weeks_run(demo_plans):
    plan = demo_plans["0.4"]
    stream = stream_for(dataclasses.replace(plan.week.scenario, rush=RushSpec(3.0, None, None, (50, 400, 50), 1.0, (), 200, 0)))
    assert stream is not None
    sim = simulate(plan, stream, weeks=200, seed=0)
    assert sim.weeks == 200 and len(sim.unused_protected_minutes) == 200


def test_poisson_for_large_rates_and_zero(load):
    sc = load(week(products=[product("P1", class_="A")]))  # a one-day horizon
    assert RushStream(0.0, ("P1",), (1.0,), (1, 1, 1), 1.0).sample_week(sc, 3) == []
    # 75 a day is drawn as three Poisson(25) parts (Knuth's method underflows beyond ~700);
    # the mean of 400 days has a standard error of sqrt(75 / 400) = 0.43: tolerance 2 (~4.6 SE)
    big = RushStream(75.0, ("P1",), (1.0,), (1, 1, 1), 1.0)
    assert abs(statistics.mean(len(big.sample_week(sc, s)) for s in range(400)) - 75) < 2
