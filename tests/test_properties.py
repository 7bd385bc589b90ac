"""Property tests: whatever the solver returns on a generated week passes the plan checker."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sopt.generate import generate_week
from sopt.model import Status
from tests.conftest import checked_solve


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(products=10, lines=3, materials=0, seed=140, load=0.9, reserve=0.25)  # overtime overflow
@given(
    products=st.integers(3, 10),
    lines=st.integers(1, 3),
    materials=st.integers(0, 3),
    seed=st.integers(0, 10_000),
    load=st.sampled_from([0.5, 0.9, 1.4]),
    reserve=st.sampled_from([0, 0.1, 0.25, 0.4]),
)
def test_every_generated_week_gives_a_checked_plan(load_scn, products, lines, materials, seed, load, reserve):
    data = generate_week(products, lines, materials, seed, load=load)
    data.setdefault("policy", {})["reserve_ratio"] = reserve
    sc = load_scn(data)
    r = checked_solve(sc, time_limit=1)
    assert r.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert r.gap is not None and r.gap >= 0
    assert r.best_bound is not None and r.best_bound <= r.objective + 1e-9
    # the written objective is the sum of its terms
    assert abs(sum(r.plan.objective_terms.values()) - r.objective) < 1e-6
    # every unmet unit at the week's end is explained
    last = sc.dates[-1].isoformat()
    short = {row["product"] for row in r.plan.production if row["date"] == last and row["backlog_end"] > 0}
    assert short <= {u["product"] for u in r.plan.unmet}
