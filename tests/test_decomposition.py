"""The `decompose` strategy (Benders over scenarios, `runtime.strategies.decomposition`).

The model is tests/models/decomp8.grid: an eight-bus feeder, a ten-event storm history
clustered into k = 4 typical days, line reinforcement, two MESS types with routing and
EV battery packs, shedding. What must hold:

* the decomposition reaches the extensive form's optimum within the gap, and each run's
  certificate is consistent with the other (either bound below either objective);
* the LP cuts are valid: the LP value function lies above every cut (checked against
  re-solved LPs at other plans);
* the same seed gives the same answer serially and on Dask, and a worker killed in the
  middle of a batch changes nothing (the cluster fixture of test_executor_dask);
* `cluster none` plans on every event of the history (each its own scenario).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from test_executor_dask import Cluster, _KillingExecutor, cluster  # noqa: F401 (fixture)

import gridc
from gridc.compiler import CompiledModel, compile_model
from gridc.dsl import load
from gridc.runtime.executor import DaskExecutor, SerialExecutor
from gridc.runtime.problem import Problem
from gridc.runtime.results import Result
from gridc.runtime.status import SolveStatus
from gridc.runtime.strategies import decomposition as D
from gridc.runtime.strategies.registry import SolveSettings, choose

warnings.filterwarnings("ignore", module="linopy")

MODEL = Path(__file__).parent / "models" / "decomp8.grid"
GAP = 0.005


@pytest.fixture(scope="module")
def compiled() -> CompiledModel:
    return compile_model(load(MODEL), study="decompose4")


@pytest.fixture(scope="module")
def serial(compiled: CompiledModel) -> Result:
    with SerialExecutor() as ex:
        return D.decompose(compiled, {}, SolveSettings(gap=GAP, seed=1), executor=ex)


@pytest.fixture(scope="module")
def extensive() -> Result:
    problem = Problem(compile_model(load(MODEL), study="extensive4"))
    return problem.solve(gap=1e-4, strategy="plain", ac_check=False)


def _plan(result: Result) -> dict[str, list[float]]:
    ds = result.dataset
    return {k: np.round(ds[k].values.ravel(), 6).tolist()
            for k in ("reinforced", "mess_units", "ev_packs")}


def _same(run: Result, ref: Result) -> None:
    assert run.objective == ref.objective  # bit for bit: same blocks, same order
    assert run.bound == ref.bound
    assert _plan(run) == _plan(ref)
    hist = [(h["lower_bound"], h.get("incumbent")) for h in
            run.summary["decomposition"]["history"]]
    ref_hist = [(h["lower_bound"], h.get("incumbent")) for h in
                ref.summary["decomposition"]["history"]]
    assert hist == ref_hist


def test_the_study_chooses_decompose(compiled: CompiledModel) -> None:
    assert compiled.study.solve.strategy == "decompose"
    assert choose(compiled, None) == "decompose"


def test_reaches_the_extensive_optimum_within_the_gap(serial: Result,
                                                      extensive: Result) -> None:
    assert serial.ok and extensive.ok
    assert serial.status.value in ("optimal", "feasible_gap")
    assert serial.gap is not None and serial.gap <= GAP
    assert serial.objective is not None and serial.bound is not None
    assert extensive.objective is not None and extensive.bound is not None
    # both certificates hold for the one model: each bound below each objective
    tol = 1e-7 * abs(extensive.objective)
    assert serial.bound <= extensive.objective + tol
    assert extensive.bound <= serial.objective + tol
    assert abs(serial.objective - extensive.objective) <= GAP * abs(extensive.objective)
    cert = serial.summary["decomposition"]
    assert cert["iterations"] >= 2 and cert["cuts"]["lp"] > 0
    assert cert["plan_gap"] is not None and cert["plan_gap"] <= GAP

def test_the_written_solution_has_the_reported_cost(compiled: CompiledModel,
                                                    serial: Result) -> None:
    """The incumbent put on the model is a whole solution: its objective is the UB."""
    value = float(compiled.model.objective.expression.solution.sum())
    reported = value + compiled.objective_constant
    assert serial.objective is not None
    assert reported / compiled.objective_scale == pytest.approx(serial.objective, rel=1e-9)


def test_lp_cuts_are_valid(compiled: CompiledModel) -> None:
    """Q_LP(x') ≥ Q_LP(x) + d·(x' − x) at other plans x' (the cut's defining property)."""
    from gridc.runtime.backend.twostage import BlockSolver

    split = D.split_model(compiled)
    solver = BlockSolver(split.blocks[0])
    lo, hi = split.lb, split.ub
    rng = np.random.default_rng(0)
    x = np.where(rng.random(lo.size) < 0.3, hi, lo)
    x = np.minimum(x, lo + 1)
    base = solver.fixed_lp(x)
    assert base.objective is not None and base.subgradient is not None
    for _ in range(4):
        y = np.where(rng.random(lo.size) < 0.3, np.minimum(hi, lo + 1), lo)
        at = solver.fixed_lp(y)
        if at.objective is None:  # a plan over a count limit: no value to compare
            continue
        cut = base.objective + float(base.subgradient @ (y - x))
        assert at.objective >= cut - 1e-6 * (abs(cut) + 1.0)


def test_a_hot_started_lp_gives_the_cold_value_and_a_valid_cut(
        compiled: CompiledModel, monkeypatch: pytest.MonkeyPatch) -> None:
    """A block LP offered its basis at another plan (`cut_rounds.WARM_BASIS`) reaches the
    same optimum as from scratch, by the dual simplex when the plan is near and by the
    interior point when the iteration budget runs out, and its reduced costs still give a
    valid cut; the basis is the argument's, not the object's history (same answer twice)."""
    from gridc.runtime.backend import twostage
    from gridc.runtime.backend.twostage import BlockSolver

    split = D.split_model(compiled)
    lo, hi = split.lb, split.ub
    rng = np.random.default_rng(3)
    plans = [np.where(rng.random(lo.size) < 0.4, np.minimum(hi, lo + 1), lo)
             for _ in range(5)]
    for budget in (twostage.HOT_ITERATIONS, 0.0):  # 0: every hot start falls back at once
        monkeypatch.setattr(twostage, "HOT_ITERATIONS", budget)
        monkeypatch.setattr(twostage, "HOT_MIN_ITERATIONS", 1 if budget == 0.0 else 500)
        for block in split.blocks[:2]:
            cold, hot = BlockSolver(block), BlockSolver(block)
            ref = [cold.fixed_lp(x) for x in plans]
            basis = ref[0].basis
            assert basis is not None
            for x, r in zip(plans[1:], ref[1:], strict=True):
                got = hot.fixed_lp(x, basis)
                assert got.status == r.status
                if r.objective is None:
                    continue
                assert got.objective == pytest.approx(r.objective, rel=1e-7, abs=1e-6)
                assert got.subgradient is not None and got.basis is not None
                again = hot.fixed_lp(x, basis)  # after other solves: the same cut
                assert np.array_equal(again.subgradient, got.subgradient)
                for y, at in zip(plans, ref, strict=True):  # the cut holds at every plan
                    if at.objective is None:
                        continue
                    cut = got.objective + float(got.subgradient @ (y - x))
                    assert at.objective >= cut - 1e-6 * (abs(cut) + 1.0)
            assert hot._h.getOptionValue("simplex_iteration_limit")[1] == \
                twostage._ITERATIONS_DEFAULT  # MIPs on this object are not limited


def test_the_lp_phase_bounds_and_leaves_the_master_integer(compiled: CompiledModel,
                                                           serial: Result,
                                                           extensive: Result) -> None:
    """The LP phase (cuts at the master's LP relaxation, `LP_PHASE`) runs first; every
    bound it reports lies below the extensive optimum, the integer master after it
    still returns integer plans, and without it the run reaches the same optimum
    within the gap (it changes the path, not the certificate)."""
    assert D.LP_PHASE
    rows = serial.summary["decomposition"]["history"]
    lp_rows = [r for r in rows if r.get("phase") == "lp"]
    assert lp_rows and rows[:len(lp_rows)] == lp_rows
    assert extensive.objective is not None
    tol = 1e-7 * abs(extensive.objective)
    assert all(r["lower_bound"] <= extensive.objective + tol for r in lp_rows)
    assert [r["lower_bound"] for r in lp_rows] == sorted(r["lower_bound"] for r in lp_rows)

    from gridc.runtime.backend.twostage import Master

    split = D.split_model(compiled)
    master = Master(split, np.zeros(len(split.blocks)), 0.0, 1)
    relaxed = master.solve_relaxed(None)
    assert relaxed is not None
    got = master.solve(1e-6, None, None)
    assert got is not None
    x = got[0]
    assert np.array_equal(x[split.integer], np.round(x[split.integer]))
    assert relaxed[2] <= got[2] + 1e-6 * (abs(got[2]) + 1.0)  # the LP is a relaxation

    D.LP_PHASE = False
    try:
        with SerialExecutor() as ex:
            plain = D.decompose(compiled, {}, SolveSettings(gap=GAP, seed=1), executor=ex)
    finally:
        D.LP_PHASE = True
    assert not any(r.get("phase") == "lp" for r in plain.summary["decomposition"]["history"])
    assert plain.objective is not None and plain.gap is not None and plain.gap <= GAP
    assert abs(plain.objective - extensive.objective) <= GAP * abs(extensive.objective)


def test_same_answer_on_dask(cluster: Cluster, compiled: CompiledModel,  # noqa: F811
                             serial: Result) -> None:
    with DaskExecutor(scheduler=cluster.address) as ex:
        run = D.decompose(compiled, {}, SolveSettings(gap=GAP, seed=1), executor=ex)
    _same(run, serial)


def test_a_killed_worker_changes_nothing(cluster: Cluster,  # noqa: F811
                                         compiled: CompiledModel, serial: Result) -> None:
    # last Dask test of the module: it leaves the cluster with one worker
    with _KillingExecutor(cluster, "w1", at_batch=2) as ex:
        run = D.decompose(compiled, {}, SolveSettings(gap=GAP, seed=1), executor=ex)
        assert ex.killed_busy
    _same(run, serial)


def test_cluster_none_plans_on_every_event() -> None:
    model = load(MODEL)
    history = next(s for s in model.scenario_sets if s.name == "every").history
    assert history is not None and history.method == "none"
    c = compile_model(model, study="every")
    names = [str(x) for x in c.index.coords["scenario"].values]
    assert names == [f"E{k:02d}" for k in range(1, 11)]
    assert np.allclose(c.scenarios.probability.values, 0.1)


def test_decompose_takes_only_a_seed(tmp_path: Path) -> None:
    from gridc.dsl import GridError, parse

    text = MODEL.read_text(encoding="utf-8").replace(
        "solve decompose(seed = 1)", "solve decompose(particles = 3)")
    with pytest.raises(GridError) as err:
        parse(text, MODEL)
    assert "GRID014" in str(err.value)


def test_a_start_plan_is_the_first_incumbent_and_keeps_the_certificate(
        compiled: CompiledModel, extensive: Result) -> None:
    """A plan offered as a start (here the extensive form's optimum, as the typical days'
    plan is offered to the run over every event) is cut at and evaluated first: the first
    history row is that plan with its exact cost as the incumbent, which cannot lie below
    the extensive form's bound; the run still ends within the gap with a bound below the
    extensive optimum (the start shapes the path, never the certificate)."""
    from gridc.runtime.backend.warmstart import start_from

    start = start_from(compiled.model, extensive.dataset)
    x = D.start_plan(D.split_model(compiled), start)
    assert x is not None and x.any()  # the optimum builds something
    with SerialExecutor() as ex:
        run = D.decompose(compiled, {}, SolveSettings(gap=GAP, seed=1, start=start),
                          executor=ex)
    first = run.summary["decomposition"]["history"][0]
    assert first.get("start") is True and first["incumbent"] is not None
    assert extensive.bound is not None and extensive.objective is not None
    tol = 1e-7 * abs(extensive.objective)
    assert first["incumbent"] >= extensive.bound - tol
    assert run.gap is not None and run.gap <= GAP
    assert run.bound is not None and run.bound <= extensive.objective + tol
    assert run.objective is not None
    assert abs(run.objective - extensive.objective) <= GAP * abs(extensive.objective)


def test_no_start_without_every_first_stage_value(compiled: CompiledModel) -> None:
    split = D.split_model(compiled)
    assert D.start_plan(split, None) is None
    top = int(split.vlabels.max()) + 1
    assert D.start_plan(split, np.full(top, np.nan)) is None
    assert D.start_plan(split, np.zeros(3)) is None


TWOLEVEL = Path(__file__).resolve().parent / "models" / "twolevel_storms.grid"


def test_incomplete_recourse_gets_feasibility_cuts() -> None:
    """A plan without the reinforcement of m3-m4 leaves scenario `bad` without a feasible
    operation (the capacitor bank's kvar): the block LP is infeasible there. Before, the
    run stopped with an internal error; now the block's phase-1 LP gives the L-shaped
    feasibility cut, and the decomposition reaches the extensive form's optimum."""
    model = gridc.load(TWOLEVEL)
    extensive = gridc.compile(model, study="base").solve(ac_check=False, gap=1e-6)
    assert gridc.compile(model, study="nohard").solve(ac_check=False).status == \
        SolveStatus.infeasible
    result = gridc.compile(model, study="benders").solve(ac_check=False)
    assert result.status in (SolveStatus.optimal, SolveStatus.feasible_gap)
    cuts = result.summary["decomposition"]["cuts"]
    assert cuts["feasibility"] >= 1
    assert result.objective == pytest.approx(extensive.objective, rel=1e-3)  # study gap


def test_a_scenario_infeasible_under_every_plan_is_a_clear_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Without the reinforcement, scenario `bad` has no feasible operation under any plan:
    `gridc solve --strategy decompose` says so and exits 1 (was: internal error)."""
    from gridc.cli.main import main

    code = main(["solve", str(TWOLEVEL), "--study", "nohard", "--strategy", "decompose",
                 "--no-ac-check", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "infeasible under every plan" in err and "--diagnose" in err
    assert "internal error" not in err and "Traceback" not in err


def test_a_round_of_lps_stopped_by_the_limit_ends_the_run_with_what_is_proven(
        compiled: CompiledModel, extensive: Result, monkeypatch: pytest.MonkeyPatch) -> None:
    """Block LPs carry the time left as their limit (`cut_rounds.lp_cuts`' cap): a round in
    which one reaches it adds no cut and stops the run as "time limit", keeping the incumbent and
    bound of the rounds before (here: every LP after the fifth stops at its limit). Before,
    a round of 120 block LPs ran to its end whatever the limit."""
    from gridc.runtime.backend.twostage import BlockOutcome, BlockSolver

    real = BlockSolver.fixed_lp
    seen: dict[str, object] = {"n": 0, "caps": []}

    def limited(self, x, basis=None, time_limit=None):  # type: ignore[no-untyped-def]
        seen["caps"].append(time_limit)  # type: ignore[attr-defined]
        seen["n"] = int(seen["n"]) + 1  # type: ignore[call-overload]
        if int(seen["n"]) > 4 * 5:  # type: ignore[call-overload]
            return BlockOutcome("kTimeLimit", False, None, None, None, 0.0)
        return real(self, x, basis, time_limit)

    monkeypatch.setattr(BlockSolver, "fixed_lp", limited)
    with SerialExecutor() as ex:
        run = D.decompose(compiled, {}, SolveSettings(gap=1e-9, seed=1, time_limit=3600.0),
                          executor=ex)
    caps = seen["caps"]
    assert caps and all(c is not None and 0 < c <= 3600.0 for c in caps)  # type: ignore[attr-defined]
    assert run.summary["stopped_by"] == "time limit"
    assert run.status in (SolveStatus.time_limit_feasible, SolveStatus.time_limit_infeasible)
    assert run.bound is not None  # the master's bound of the five finished rounds
    assert extensive.objective is not None
    tol = 1e-7 * abs(extensive.objective)
    assert run.bound <= extensive.objective + tol  # and it stays valid
    if run.objective is not None:  # an incumbent is a feasible plan's exact cost
        assert run.objective >= extensive.bound - tol  # type: ignore[operator]


def test_evaluation_mips_get_the_room_the_gap_leaves() -> None:
    """`_room`: with the bound at 99 and a 1 % gap, any UB ≤ 100 closes the run; at a plan
    of LP value 98 the MIPs may add 2 over their LP values, shared as the LP values are
    (hand-derived). No room when the plan's LP value already exceeds 100, or without a
    positive bound."""
    room = D._room(99.0, 98.0, 0.01, np.array([1.0, 3.0]))
    assert room is not None and np.allclose(room, [0.5, 1.5])
    assert D._room(99.0, 100.5, 0.01, np.array([1.0, 3.0])) is None
    assert D._room(-5.0, -6.0, 0.01, np.array([1.0, 3.0])) is None
    assert D._room(99.0, 98.0, 0.01, None) is None


def test_a_mip_with_room_stops_within_it(compiled: CompiledModel) -> None:
    """A block MIP given an absolute gap ends with incumbent − bound within it (and the
    relative gap still applies when it is the tighter one)."""
    from gridc.runtime.backend.twostage import BlockSolver

    split = D.split_model(compiled)
    solver = BlockSolver(split.blocks[0])
    x = np.where(np.isfinite(split.lb), split.lb, 0.0)
    lp = solver.fixed_lp(x)
    assert lp.objective is not None
    room = 0.05 * abs(lp.objective) + 1.0
    loose = solver.fixed_mip(x, gap=1e-9, time_limit=None, abs_gap=room)
    tight = solver.fixed_mip(x, gap=1e-9, time_limit=None)
    for r in (loose, tight):
        assert r.objective is not None and r.bound is not None
        assert r.objective >= lp.objective - 1e-6 * (abs(lp.objective) + 1.0)
    assert loose.objective - loose.bound <= room + 1e-9  # type: ignore[operator]
    assert tight.objective <= loose.objective + 1e-6 * (abs(loose.objective) + 1.0)  # type: ignore[operator]


def test_a_capped_lp_after_a_long_mip_on_the_same_block_still_solves(
        compiled: CompiledModel) -> None:
    """HiGHS holds an LP's time limit against the object's total run time: an LP capped
    at less than the block's earlier MIP time used to stop at once (kTimeLimit after
    0.0 s), which ended a 900 s decomposition as "time limit" at 417 s. The block solver
    gives each LP its own limit."""
    from gridc.runtime.backend.twostage import BlockSolver

    split = D.split_model(compiled)
    solver = BlockSolver(split.blocks[0])
    x = np.where(np.isfinite(split.lb), split.lb, 0.0)
    alone = solver.fixed_lp(x).seconds
    while solver._h.getRunTime() < 20 * alone + 0.05:  # MIPs until the object has run long
        solver.fixed_mip(x, gap=0.0, time_limit=None)
    cap = solver._h.getRunTime() / 4  # above the LP's own time, below the object's total
    lp = solver.fixed_lp(x, time_limit=cap)
    assert lp.status == "kOptimal", lp.status
