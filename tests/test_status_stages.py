"""The headline of a solve tells what every stage proved (`gridc.runtime.status`).

* `combine`: `optimal` only when every stage the result depends on is optimal; a stage
  stopped by a limit sets the headline (status, gap, bound, why, which stage); a stage
  that only offered a MIP start does not; an interrupt anywhere makes it `interrupted`;
* real multi-stage solves: a plan stage stopped by a node limit before the full model is
  solved exactly (the `exchange` strategy's path) is not `optimal`; warm's restricted
  phase with no time left for the full model is not `optimal` either; a restricted
  phase that fails while the full model proves its optimum does not spoil it;
* integer counts: a topology model's 27 on/off lines are general integers in [0, 1]
  (linopy `integers`), counted and printed as such, not as "0 binaries";
* a sweep whose cases differ by less than their gaps warns, naming the pair.

Limits are node limits (HiGHS' `mip_max_nodes`), not wall-clock, so that the tests do
not depend on the machine's speed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import gridc
from gridc.cli.main import main
from gridc.cli.stage_views import gap_width, overlaps
from gridc.runtime.backend.solver import SolveStatus, solve_model
from gridc.runtime.problem import Problem
from gridc.runtime.status import Stage, combine
from gridc.runtime.strategies import registry, topology_search
from gridc.runtime.strategies.registry import SolveSettings

MODELS = Path(__file__).resolve().parent / "models"
MESH18 = MODELS / "mesh18_design.grid"
FEEDER = MODELS / "feeder8.grid"

S = SolveStatus


# ---------------------------------------------------------------------- combine


def test_all_optimal_is_optimal_with_the_final_bound() -> None:
    head = combine([Stage("restricted phase", S.optimal, 10.0, 9.0, 0.1, limits=False),
                    Stage("full model", S.optimal, 8.0, 8.0, 0.0)])
    assert (head.status, head.gap, head.bound, head.limited_by) == (S.optimal, 0.0, 8.0, None)


def test_a_limited_stage_that_fixes_decisions_sets_the_headline() -> None:
    """The css_adn report: the topology search stopped at its time limit with 1.05 %,
    the full model with the lines fixed then solved to 0.0000 %."""
    head = combine([Stage("plan: topology search", S.time_limit_feasible, 100.0, 98.95,
                          0.0105, stopped_by="time limit"),
                    Stage("full model", S.optimal, 120.0, 120.0, 0.0)])
    assert head.status is S.time_limit_feasible
    assert (head.gap, head.bound) == (0.0105, 98.95)
    assert (head.limited_by, head.stopped_by) == ("plan: topology search", "time limit")


def test_a_start_only_stage_does_not_limit() -> None:
    head = combine([Stage("restricted phase", S.time_limit_feasible, 10.0, None, None,
                          stopped_by="time limit", limits=False),
                    Stage("full model", S.feasible_gap, 8.0, 7.99, 0.001)])
    assert head.status is S.feasible_gap and head.gap == 0.001


def test_the_weakest_stage_wins_and_a_heuristic_is_weaker_than_a_limit() -> None:
    stages = [Stage("a", S.feasible_gap, 10.0, 9.9, 0.01),
              Stage("b", S.limit_feasible, 10.0, 9.5, 0.05, stopped_by="node limit"),
              Stage("c", S.time_limit_feasible, 10.0, 9.8, 0.02, stopped_by="time limit"),
              Stage("final", S.optimal, 10.0, 10.0, 0.0)]
    head = combine(stages)
    assert (head.status, head.gap, head.limited_by) == (S.limit_feasible, 0.05, "b")
    head = combine([Stage("swarm", S.heuristic, 10.0), *stages])
    assert head.status is S.heuristic and head.gap is None and head.limited_by == "swarm"


def test_an_interrupt_anywhere_makes_the_run_interrupted() -> None:
    head = combine([Stage("cone round 2", S.interrupted_infeasible, stopped_by="interrupt",
                          limits=False),
                    Stage("solve", S.optimal, 5.0, 5.0, 0.0)])
    assert head.status is S.interrupted and head.stopped_by == "interrupt"


def test_other_sub_cases_count_unless_proven_infeasible() -> None:
    final = Stage("S1+S2: full model", S.optimal, 5.0, 5.0, 0.0)
    assert combine([Stage("sub-case S1+S3", S.infeasible), final]).status is S.optimal
    head = combine([Stage("sub-case S2+S3", S.time_limit_infeasible,
                          stopped_by="time limit"), final])
    assert head.status is S.time_limit_feasible and head.gap is None
    assert combine([Stage("sub-case S2+S3", S.error), final]).status is S.heuristic


def test_without_a_solution_the_final_stage_is_the_headline() -> None:
    head = combine([Stage("plan: start", S.interrupted, 3.0, stopped_by="interrupt"),
                    Stage("full model", S.time_limit_infeasible, stopped_by="time limit")])
    assert head.status is S.interrupted_infeasible and not head.status.ok


# ---------------------------------------------------------------------- real solves


@cache
def _mesh18_limited() -> tuple[Problem, Any]:
    """mesh18 solved to its first node: (problem, outcome)."""
    problem = gridc.compile(gridc.load(MESH18))
    outcome = solve_model(problem.model, node_limit=1, threads=1)
    return problem, outcome


def test_exchange_with_a_node_limited_topology_search_is_not_optimal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The exchange strategy's own code path (lines fixed, full model compiled and solved
    exactly), with a plan stage that a node limit stopped: the full model is optimal for
    its fixed lines, the result is not."""
    problem, outcome = _mesh18_limited()
    if outcome.status is S.optimal:
        pytest.skip("the root node closed the gap: the model is too easy for this HiGHS")
    assert outcome.status is S.limit_feasible and outcome.stopped_by == "node limit"
    compiled = problem.compiled
    built = compiled.topology_decision.built.solution
    lines = {str(k): bool(v > 0.5) for k, v in zip(built["line"].values, built.values)}
    plan = Stage.of("plan: topology search", outcome, constant=compiled.objective_constant,
                    scale=compiled.objective_scale)

    def plan_topology(c: Any, **kw: Any) -> tuple[dict[str, bool], dict[str, Any],
                                                 list[Stage]]:
        return lines, {"search": {"status": outcome.status.value}}, [plan]

    monkeypatch.setattr(topology_search, "plan_topology", plan_topology)
    result = registry.exchange(compiled, {}, SolveSettings(threads=1))
    assert [st.name for st in result.stages] == ["plan: topology search", "full model"]
    assert result.stages[-1].status is S.optimal  # the LP of the fixed lines
    assert result.status is S.limit_feasible and result.ok
    assert result.gap == pytest.approx(outcome.gap)
    s = result.summary
    assert (s["status"], s["limited_by"], s["stopped_by"]) == (
        "limit_feasible", "plan: topology search", "node limit")
    assert s["gap"] == pytest.approx(outcome.gap) and s["stages"][0]["limits"] is True


def test_exchange_records_every_stage_of_every_sub_case() -> None:
    """The whole exchange strategy on a five-bus station model (tests/models/stations5.grid,
    two sites, one station): each sub-case's plan stages and full model are recorded;
    start and branch exchange only start the topology search, which fixes the lines
    (limits); the other sub-case counts too. All proved here: the headline is optimal."""
    path = MODELS / "stations5.grid"
    if not path.exists():
        pytest.skip("tests/models/stations5.grid (the plotting tests' station model) absent")
    result = gridc.compile(gridc.load(path)).solve(threads=1)
    assert result.summary["strategy"] == "exchange"
    chosen = result.summary["planning_items"]["subcase"]
    other = [st for st in result.stages if st.name.startswith("sub-case ")]
    assert len(other) == 1 and other[0].limits and chosen not in other[0].name
    own = {st.name.removeprefix(f"{chosen}: "): st for st in result.stages
           if st.name.startswith(f"{chosen}: ")}
    assert list(own)[:3] == ["plan: start (shortest-path tree)", "plan: branch exchange",
                             "plan: topology search"]
    assert not own["plan: start (shortest-path tree)"].limits
    assert own["plan: branch exchange"].status is S.heuristic
    assert not own["plan: branch exchange"].limits and own["plan: topology search"].limits
    assert result.stages[-1].name.startswith(f"{chosen}: ")
    if all(st.status.proved for st in result.stages if st.limits):
        assert result.status is S.optimal or result.status is S.feasible_gap
    else:
        assert not result.status.proved


def test_branch_exchange_is_bounded_by_work_not_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a time limit the exchange runs to its local optimum (the same topology on
    a quiet and on a loaded machine); `MAX_EXCHANGES` bounds its work, and a run stopped
    there says so in its stage note."""
    path = MODELS / "stations5.grid"
    compiled = gridc.compile(gridc.load(path)).compiled

    def exchange_note(limit: int) -> str:
        monkeypatch.setattr(topology_search, "MAX_EXCHANGES", limit)
        _, info, stages = topology_search.plan_topology(
            compiled, time_limit=None, gap=None, threads=1, seed=None, verbose=False)
        assert info["exchange"]["evaluations"] <= limit
        return next(st.note for st in stages if st.name == "plan: branch exchange")

    assert "(local optimum)" in exchange_note(topology_search.MAX_EXCHANGES)
    assert exchange_note(1).startswith("1 evaluations (stopped at 1)")


def test_a_node_limited_single_solve_says_so_and_counts_integers(
        capsys: pytest.CaptureFixture[str]) -> None:
    problem = gridc.compile(gridc.load(MESH18))
    result = problem.solve(node_limit=1, threads=1)
    if result.stages[-1].status is S.optimal:
        pytest.skip("the root node closed the gap: the model is too easy for this HiGHS")
    assert result.status is S.limit_feasible and result.gap is not None and result.gap > 0
    size = result.summary["size"]
    assert size == {**size, "binaries": 0, "integers": 27}  # 27 candidate lines, 0..1
    from rich.console import Console

    from gridc.cli.views import print_summary

    out = Console(width=200, force_terminal=False)
    with out.capture() as cap:
        print_summary(out, result.summary)
    text = cap.get()
    assert "0 binaries, 27 integers" in text and "limit_feasible" in text
    assert "limited by" in text and "node limit" in text


def _mess_model(tmp_path: Path) -> Path:
    import catalogue as C

    path = tmp_path / "mess.grid"
    path.write_text(C.mess("lindistflow", True), encoding="utf-8")
    return path


def test_warm_without_time_for_the_full_model_is_not_optimal(tmp_path: Path) -> None:
    """A time limit of 1 s leaves the full model at most 1 s after the restricted phase
    (half of it): never enough (`warmstart`: more than 1 s is needed), so the result is
    the restricted phase's point, which proves nothing about the full model."""
    result = gridc.compile(gridc.load(_mess_model(tmp_path))).solve(
        strategy="warm", time_limit=1.0, threads=1)
    assert [st.name for st in result.stages] == ["restricted phase"]
    assert result.status is S.time_limit_feasible and result.bound is None
    assert result.summary["stopped_by"] == "time limit"
    assert "not solved" in result.stages[0].note


def test_warm_restricted_phase_that_fails_does_not_limit_a_proven_full_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The restricted phase only offers a start: stopped by a node limit before any
    point (no start), the full model is solved from scratch and proves its optimum."""
    from gridc.runtime.backend import warmstart

    real = warmstart.highs_options
    calls: list[int] = []

    def phase_one_limited(*a: Any, **kw: Any) -> dict[str, Any]:
        calls.append(1)
        opts = real(*a, **kw)
        return {**opts, "mip_max_nodes": 0} if len(calls) == 1 else opts

    monkeypatch.setattr(warmstart, "highs_options", phase_one_limited)
    result = gridc.compile(gridc.load(_mess_model(tmp_path))).solve(strategy="warm",
                                                                     threads=1)
    first, full = result.stages
    assert (first.name, first.status, first.limits) == ("restricted phase",
                                                        S.limit_infeasible, False)
    assert (full.name, full.status) == ("full model", S.optimal)
    assert result.status is S.optimal and result.summary["limited_by"] is None


# ---------------------------------------------------------------------- comparisons


def test_gap_width_and_overlap_rule() -> None:
    a = {"objective": 100.0, "bound": 98.0, "gap": 0.02, "status": "feasible_gap"}
    b = {"objective": 103.0, "bound": 102.0, "gap": 1 / 103, "status": "feasible_gap"}
    assert gap_width(a) == pytest.approx(2.0) and gap_width(b) == pytest.approx(1.0)
    assert overlaps([a, b], ["x", "y"])  # |100 - 103| = 3 ≤ 2 + 1
    c = {**b, "objective": 103.5}
    assert overlaps([a, c], ["x", "y"]) == []  # 3.5 > 2 + 1.005: the difference is proven
    assert gap_width({"objective": 7.0, "bound": 5.0, "gap": None}) == pytest.approx(2.0)
    proven = {"objective": 50.0, "bound": 50.0, "gap": 0.0, "status": "optimal"}
    assert overlaps([proven, {**proven, "objective": 50.0}], ["p", "q"]) == []
    nobound = {"objective": 60.0, "bound": None, "gap": None, "status": "heuristic"}
    warning = overlaps([proven, nobound], ["p", "h"])
    assert len(warning) == 1 and "h has no bound" in warning[0]


def test_a_sweep_within_its_gaps_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Two cases one kVA apart in cable rating, each stopped at its first node: their
    costs differ by less than their gaps, which the sweep table must say."""
    path = tmp_path / "mesh18.grid"
    path.write_text(MESH18.read_text(encoding="utf-8") + """
study design { }
sweep rating over design {
  case r1000 { set network.cable_rating_kva 1000 }
  case r1001 { set network.cable_rating_kva 1001 }
}
""", encoding="utf-8")
    real = Problem.solve
    monkeypatch.setattr(Problem, "solve", lambda self, **kw: real(self, **kw, node_limit=1))
    out = tmp_path / "out"
    code = main(["sweep", str(path), "rating", "--threads", "1", "--quiet", "--out",
                 str(out)])
    assert code == 0
    text = capsys.readouterr().out
    summaries = [json.loads((out / c / "summary.json").read_text()) for c in ("r1000",
                                                                            "r1001")]
    if all(s["status"] == "optimal" for s in summaries):
        pytest.skip("the root node closed the gap: the model is too easy for this HiGHS")
    a, b = (s["objective"] for s in summaries)
    assert abs(a - b) <= gap_width(summaries[0]) + gap_width(summaries[1])
    assert "warning: r1000 vs r1001" in text and "within their gaps" in text
