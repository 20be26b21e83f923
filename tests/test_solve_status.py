"""Solver outcomes map to gridc's own statuses; nothing unknown passes for success."""

from __future__ import annotations

import linopy
import pandas as pd
import pytest

from gridc.runtime.backend.solver import SolveStatus, map_status, solve_model


@pytest.mark.parametrize(("status", "has_solution", "is_mip", "req", "achieved", "expected"), [
    ("kOptimal", True, False, None, 0.0, SolveStatus.optimal),
    ("kOptimal", True, True, None, 5e-5, SolveStatus.optimal),  # HiGHS' default gap
    ("kOptimal", True, True, 0.01, 0.004, SolveStatus.feasible_gap),
    ("kOptimal", True, True, 0.01, 0.0, SolveStatus.optimal),
    ("kOptimal", False, False, None, None, SolveStatus.error),  # "optimal" without a point
    ("kTimeLimit", True, True, None, 0.02, SolveStatus.time_limit_feasible),
    ("kTimeLimit", False, True, None, None, SolveStatus.time_limit_infeasible),
    ("kInfeasible", False, False, None, None, SolveStatus.infeasible),
    ("kUnboundedOrInfeasible", False, False, None, None, SolveStatus.infeasible),
    ("kUnbounded", False, False, None, None, SolveStatus.unbounded),
    ("HighsModelStatus.kInfeasible", False, False, None, None, SolveStatus.infeasible),
    # stopped early, like a time limit: usable with an incumbent, never "optimal"
    ("kSolutionLimit", True, True, None, 0.01, SolveStatus.limit_feasible),  # mip_max_nodes
    ("kSolutionLimit", False, True, None, None, SolveStatus.limit_infeasible),
    ("kIterationLimit", True, False, None, None, SolveStatus.limit_feasible),
    ("kInterrupt", True, True, None, 0.02, SolveStatus.interrupted),  # Ctrl-C
    ("kInterrupt", False, True, None, None, SolveStatus.interrupted_infeasible),
])
def test_known_conditions(status: str, has_solution: bool, is_mip: bool, req: float | None,
                          achieved: float | None, expected: SolveStatus) -> None:
    assert map_status(status, has_solution=has_solution, is_mip=is_mip, requested_gap=req,
                      achieved_gap=achieved) is expected


@pytest.mark.parametrize("status", [
    "kUnknown", "kNotset", "kModelError", "kSolveError", "kLoadError", "kPresolveError",
    "kPostsolveError", "kObjectiveBound", "kObjectiveTarget", "kMemoryLimit", "kModelEmpty",
    "something new",
])
def test_unknown_or_abnormal_termination_is_an_error(status: str) -> None:
    for has_solution in (True, False):
        got = map_status(status, has_solution=has_solution, is_mip=True, requested_gap=None,
                         achieved_gap=0.0)
        assert got is SolveStatus.error
        assert not got.ok


def test_ok_statuses() -> None:
    assert {s for s in SolveStatus if s.ok} == {
        SolveStatus.optimal, SolveStatus.feasible_gap, SolveStatus.time_limit_feasible,
        SolveStatus.limit_feasible, SolveStatus.interrupted, SolveStatus.heuristic}
    # only these prove their gap: a headline is never better than its weakest stage
    assert {s for s in SolveStatus if s.proved} == {SolveStatus.optimal,
                                                   SolveStatus.feasible_gap}


def test_miqp_is_an_error_not_a_zero_objective() -> None:
    """HiGHS refuses MIQPs; linopy then says status ok / termination unknown."""
    m = linopy.Model()
    x = m.add_variables(lower=0, upper=4, coords=[pd.RangeIndex(2, name="i")], name="x")
    z = m.add_variables(binary=True, name="z")
    m.add_constraints(x.sum() + z >= 1, name="c")
    m.add_objective((x * x).sum() + z)
    outcome = solve_model(m)
    assert outcome.status is SolveStatus.error
    assert outcome.objective is None or not outcome.status.ok


def test_lp_outcome_reads_objective_and_bound() -> None:
    m = linopy.Model()
    x = m.add_variables(lower=0, upper=4, coords=[pd.RangeIndex(2, name="i")], name="x")
    m.add_constraints(x.sum() >= 3, name="c")
    m.add_objective((2 * x).sum())
    outcome = solve_model(m)
    assert outcome.status is SolveStatus.optimal
    assert outcome.objective == pytest.approx(6.0)
    assert outcome.bound == pytest.approx(6.0)
    assert outcome.gap == 0.0
    assert not outcome.is_mip


def test_infeasible_lp() -> None:
    m = linopy.Model()
    x = m.add_variables(lower=0, upper=1, name="x")
    m.add_constraints(x >= 2, name="c")
    m.add_objective(1 * x)
    outcome = solve_model(m)
    assert outcome.status is SolveStatus.infeasible
    assert outcome.objective is None
