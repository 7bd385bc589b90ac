"""Fix-and-optimize (sopt/model/lns.py): parts of the week re-solved exactly around the incumbent."""

from __future__ import annotations

import logging

import pytest

from sopt.generate import generate_week
from sopt.heuristic import constructive_plan
from sopt.model import lns
from sopt.model.lns import DAY_WINDOW, improve, neighbourhoods
from sopt.model.model import PlanningModel
from sopt.model.solver import complete_hint, new_solver
from sopt.week import prepare


def _started(load_scn, products=10, lines=2, seed=3, load=1.3):  # noqa: ANN001, ANN202
    week = prepare(load_scn(generate_week(products, lines, 3, seed, load=load)))
    pm = PlanningModel(week)
    pm.hint(constructive_plan(week))
    complete_hint(pm.model, 10, 0, deterministic=True)
    hint = pm.model.proto.solution_hint
    values = [0] * len(pm.model.proto.variables)
    for var, val in zip(hint.vars, hint.values, strict=True):
        values[var] = val
    return pm, values


def _feasible(pm: PlanningModel, values: list[int]) -> bool:
    """The model accepts `values` as they are (every variable fixed to it)."""
    m = pm.model.clone()
    m.clear_hints()
    for i, v in enumerate(values):
        m.add_hint(m.get_int_var_from_proto_index(i), v)
    check = new_solver(10, 1, 0, 0.0, True)
    check.parameters.fix_variables_to_their_hinted_value = True
    return check.status_name(check.solve(m)) in ("OPTIMAL", "FEASIBLE")


def test_every_run_and_shift_decision_is_in_some_part(load_scn):
    pm, _ = _started(load_scn)
    names = [name for name, _ in neighbourhoods(pm)]
    assert any(n.startswith("line ") for n in names) and any(n.startswith("days ") for n in names)
    covered = set().union(*(set(idx) for _, idx in neighbourhoods(pm)))
    for r in pm.vars.runs:
        assert r.lots.index in covered and r.setup.index in covered
    # stock and backlog follow from the runs: never fixed, never part of a neighbourhood
    stock_vars = {sv.stock.index for row in pm.vars.stock.values() for sv in row}
    assert not covered & stock_vars


def test_an_overloaded_week_improves_and_stays_feasible(load_scn):
    pm, start = _started(load_scn)
    domains = [list(v.domain) for v in pm.model.proto.variables]
    hint = (list(pm.model.proto.solution_hint.vars), list(pm.model.proto.solution_hint.values))
    seen: list[int] = []
    best, stats = improve(pm, start, 1.0, 3, deterministic=True, on_better=seen.append)
    assert stats.parts > 0 and stats.improved > 0
    assert pm.objective_of(best) < pm.objective_of(start)
    assert seen == sorted(seen, reverse=True) and seen[-1] == pm.objective_of(best)
    assert _feasible(pm, best)
    # the model is left as it was: domains and hint restored
    assert [list(v.domain) for v in pm.model.proto.variables] == domains
    assert (list(pm.model.proto.solution_hint.vars), list(pm.model.proto.solution_hint.values)) == hint
    assert not pm.model.proto.objective.domain  # the parts' bound on the objective is gone


@pytest.mark.parametrize("cutoff", [True, False])
def test_a_part_searches_only_for_better_plans(load_scn, caplog, monkeypatch, cutoff):
    """With the cutoff, a part without a better plan is proved infeasible; without it, the incumbent
    is the part's optimum. Either way the search returns a plan no worse than its start."""
    monkeypatch.setattr(lns, "CUTOFF", cutoff)
    pm, start = _started(load_scn, products=6, lines=1, seed=2, load=0.2)
    with caplog.at_level(logging.DEBUG, logger="sopt.model.lns"):
        best, stats = improve(pm, start, 30.0, 1, deterministic=True)
    statuses = [m.split(": ")[1].split(" ")[0] for m in caplog.messages if m.startswith("part ")]
    assert statuses and pm.objective_of(best) <= pm.objective_of(start)
    assert ("INFEASIBLE" in statuses) is cutoff
    assert _feasible(pm, best)


def test_deterministic_runs_repeat(load_scn):
    pm, start = _started(load_scn)
    a, _ = improve(pm, start, 1.0, 7, deterministic=True)
    b, _ = improve(pm, start, 1.0, 7, deterministic=True)
    assert a == b


@pytest.mark.parametrize("budget, stopped", [(0.0, False), (5.0, True)])
def test_no_time_or_a_stop_keeps_the_start(load_scn, budget, stopped):
    pm, start = _started(load_scn)
    best, stats = improve(pm, start, budget, 1, deterministic=True, stopped=lambda: stopped)
    assert best == start and stats.parts == 0


def test_a_week_with_spare_capacity_ends_early(load_scn):
    """A round of parts without a better plan ends the search long before its budget."""
    pm, start = _started(load_scn, products=6, lines=1, seed=2, load=0.2)
    _, stats = improve(pm, start, 30.0, 1, deterministic=True)
    assert stats.deterministic_seconds < 10.0
    assert stats.rounds >= 2  # a round that improved, then one that found nothing


def test_large_parts_are_cut_into_windows_that_cover_every_day(load_scn):
    pm, _ = _started(load_scn)
    whole = dict(neighbourhoods(pm, max_part=10**9))  # no part cut
    cut = neighbourhoods(pm, max_part=40)
    assert len(cut) > len(whole)
    assert set().union(*(set(idx) for _, idx in cut)) == set().union(*(set(idx) for idx in whole.values()))
    for name, idx in cut:
        base = name.split(", ")[0]
        assert set(idx) <= set(whole[base])  # a window frees only what its part frees
    # the parts within one line together free the whole line (some are named as windows of days over lines)
    line = next(n for n in whole if n.startswith("line "))
    windows = [set(idx) for _, idx in cut if set(idx) <= set(whole[line])]
    assert len(windows) > 1 and set().union(*windows) == set(whole[line])


def test_a_large_day_window_is_cut_into_groups_of_lines_that_keep_both_days(load_scn):
    pm, _ = _started(load_scn)
    whole = dict(neighbourhoods(pm, max_part=10**9))  # no part cut
    window = next(n for n in whole if n.startswith(DAY_WINDOW))
    cut = neighbourhoods(pm, max_part=len(whole[window]) * 2 // 3)
    groups = [set(idx) for name, idx in cut if name.startswith(window + ", lines ")]
    assert len(groups) >= 2
    assert set().union(*groups) == set(whole[window])
    day_of = {r.lots.index: r.day for r in pm.vars.runs}
    both = {day_of[i] for i in whole[window] if i in day_of}
    for group in groups:  # production can still move between the two days
        assert {day_of[i] for i in group if i in day_of} == both
    assert len({tuple(idx) for _, idx in cut}) == len(cut)  # no part twice


def test_the_first_round_takes_the_day_windows_first(load_scn, caplog, monkeypatch):
    monkeypatch.setattr(lns, "POLISH", False)  # only the parts' solvers count here
    pm, start = _started(load_scn)
    names = [name for name, _ in neighbourhoods(pm)]
    windows = sum(name.startswith(DAY_WINDOW) for name in names)
    assert 0 < windows < len(names)
    started: list[object] = []  # one solver per part: stop once the first part after the windows has run
    with caplog.at_level(logging.DEBUG, logger="sopt.model.lns"):
        _, stats = improve(pm, start, 30.0, 5, deterministic=True, part_seconds=(0.2, 0.5),
                           register=started.append, stopped=lambda: len(started) > windows)
    visited = [m.split(":")[0].removeprefix("part ") for m in caplog.messages if m.startswith("part ")]
    assert stats.parts == windows + 1
    assert all(name.startswith(DAY_WINDOW) for name in visited[:windows])
    assert not visited[windows].startswith(DAY_WINDOW)


def test_runs_kept_out_stay_out_unless_the_start_plan_uses_them(load_scn, monkeypatch):
    # RENS: the runs in `restrict` that the incumbent does not use are fixed at zero in every part;
    # a restricted run the start plan uses stays free (the part may keep, resize or drop it)
    monkeypatch.setattr(lns, "POLISH", False)  # the parts alone (the lot moves may use any candidate run)
    pm, start = _started(load_scn)
    used = [r for r in pm.vars.runs if start[r.lots.index] > 0]
    unused = [r for r in pm.vars.runs if start[r.lots.index] == 0]
    assert used and unused
    free, _ = improve(pm, start, 1.0, 3, deterministic=True)
    newly = [r for r in unused if free[r.lots.index] > 0]
    assert newly  # without the restriction the search opens runs the start plan had not
    restrict = [(r.lots.index, r.setup.index) for r in pm.vars.runs]  # every run
    best, stats = improve(pm, start, 1.0, 3, deterministic=True, restrict=restrict)
    assert stats.parts > 0 and _feasible(pm, best)
    assert all(best[r.lots.index] == 0 and best[r.setup.index] == 0 for r in unused)
    assert pm.objective_of(best) <= pm.objective_of(start)
    dropped_or_resized = [r for r in used if best[r.lots.index] != start[r.lots.index]]
    assert dropped_or_resized  # the runs the start plan uses were free


def test_solve_keeps_the_runs_outside_the_relaxation_out_of_the_parts(load_scn, caplog):
    from sopt.model import solve

    sc = load_scn(generate_week(10, 2, 3, 3, load=1.3))
    with caplog.at_level(logging.INFO, logger="sopt.model.solver"):
        result = solve(sc, time_limit=4, workers=1, seed=0, deterministic=True)
    assert result.plan is not None
    said = [m for m in caplog.messages if m.startswith("LP relaxation")]
    assert len(said) == 1 and said[0].startswith("LP relaxation solved: ")
    kept_out, runs = (int(x) for x in said[0].split(": ")[1].split(" runs")[0].split(" of "))
    assert 0 < kept_out < runs


def test_the_lot_moves_improve_the_plan_between_parts_and_keep_it_feasible(load_scn, caplog):
    pm, start = _started(load_scn)
    with caplog.at_level(logging.DEBUG, logger="sopt.model.lns"):
        best, _ = improve(pm, start, 1.0, 3, deterministic=True)
    said = [m for m in caplog.messages if m.startswith("lot moves: ")]
    assert said  # after the start and after each better part
    gains = [(int(a), int(b.split(" in ")[0])) for a, b in (m.split(", ")[1].split(" -> ") for m in said if " -> " in m)]
    assert any(after < before for before, after in gains)
    assert _feasible(pm, best)
    assert pm.objective_of(best) <= min(after for _, after in gains)
