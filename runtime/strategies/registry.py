"""How a compiled model is solved: one registry of strategies, for the CLI and Python.

    result = solve(compiled, strategy=None, options=SolveSettings(gap=0.01))

Strategies (`STRATEGIES`; `choose` picks one when none is asked for):

* `plain` — one HiGHS solve of the whole model;
* `warm` — a restricted phase first (`CompiledModel.restrictions`, e.g. MESS parked for
  the day), its optimum offered as the MIP start of the full model (`runtime.backend.warmstart`);
  chosen for MIPs that have restrictions;
* `exchange` — the topology is chosen first on a smaller plan model (branch exchange from
  the shortest-path tree, then a free search: `runtime.strategies.topology_search`), then
  the full model is
  solved with those lines fixed; chosen for models with stations and a topology decision;
* `decompose` — Benders over the scenarios with an integer master and a certified
  gap (`runtime.strategies.decomposition`), scenario blocks on `SolveSettings.workers`
  Dask workers; chosen when the study says `solve decompose`;
* `pso` — the bi-level particle swarm over plans with scenario MILPs on Dask
  (`runtime.strategies.bilevel`); run by `Problem.solve_pso` (it returns the search, not
  one solution).

Whatever the strategy, every solve of a `distflow` model is followed by the cone check
(`cone_report`: largest violation, loss error against the exact losses at the solution,
voltage error) and, while the loss error exceeds `LOSS_TOL`, by a round of tangent cuts
and a re-solve. A `stations` investment is solved once per site combination (the seed's
sub-cases) with the chosen strategy; the best is the result, every sub-case's cost is in
`summary["subcases"]`. The summary gains `planning` tables for any model with priced
items (`planning_summary`).

Every solve is recorded as a `Stage` (restricted phase, plan stages, full model, cone
rounds, other sub-cases) and the result's status, gap and bound are their headline
(`runtime.status.combine`): `optimal` only when every stage the result depends on proved
its gap. `SolveSettings.control` carries the progress callable and the stop flag
(`runtime.backend.control`): after a stop request no further stage starts, and the best
solution so far is the result, status `interrupted`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gridc.compiler import CompiledModel, compile_model
from gridc.compiler.core.index import BUS, LINE, SCENARIO
from gridc.compiler.core.scenarios import energized
from gridc.compiler.families.stations import station_table
from gridc.compiler.formulations.distflow import add_cuts, cone_report
from gridc.compiler.formulations.pricing import item_values
from gridc.runtime.backend.control import SolveControl
from gridc.runtime.backend.solver import SolveOutcome, SolveStatus
from gridc.runtime.backend.warmstart import (
    WarmRun,
    restore_solution,
    saved_solution,
    solve_warm,
)
from gridc.runtime.executor import make_executor
from gridc.runtime.results import Result, build_result
from gridc.runtime.status import Stage, record
from gridc.runtime.strategies.decomposition import decompose as run_decomposition

#: re-solve with tangent cuts while |loss error| exceeds this (fraction)
LOSS_TOL = 1e-3
MAX_ROUNDS = 3
#: `cuts` cones: MILP re-solves before the plan is fixed, then LP-only cut rounds
MILP_ROUNDS = 2
LP_ROUNDS = 12
#: relative gap of the full model once the plan stage has fixed the lines
FIXED_GAP = 1e-5


@dataclass(frozen=True)
class SolveSettings:
    """Options every strategy takes (None: the study's, then HiGHS' defaults)."""

    time_limit: float | None = None
    gap: float | None = None
    threads: int | None = None
    seed: int | None = None
    verbose: bool = False
    start: np.ndarray | None = None  # values by label: a MIP start (see warmstart)
    node_limit: int | None = None  # HiGHS' mip_max_nodes, for every MIP solve
    control: SolveControl | None = None  # progress events and the stop flag
    workers: int | None = None  # Dask workers of `decompose` (None or 1: serial)


Strategy = Callable[[CompiledModel, dict[str, float], SolveSettings], Result]


def _outcome(compiled: CompiledModel, s: SolveSettings, restricted: bool,
             stage: str = "solve") -> WarmRun:
    if s.control is not None:
        s.control.units(compiled.objective_constant, compiled.objective_scale)
    return solve_warm(compiled.model, compiled.restrictions if restricted else {},
                      time_limit=s.time_limit, gap=s.gap, threads=s.threads, seed=s.seed,
                      verbose=s.verbose, start=s.start, offset=compiled.objective_constant,
                      node_limit=s.node_limit, control=s.control, stage=stage)


def _stage(compiled: CompiledModel, name: str, outcome: SolveOutcome, s: SolveSettings,
           **kw: Any) -> Stage:
    """The stage of one solve of `compiled`, told to the display as it ends."""
    stage = Stage.of(name, outcome, constant=compiled.objective_constant,
                     scale=compiled.objective_scale, **kw)
    if s.control is not None:
        record([], stage, s.control)
    return stage


def _stopped(s: SolveSettings) -> bool:
    return s.control is not None and s.control.should_stop()


def plain(compiled: CompiledModel, timings: dict[str, float], s: SolveSettings,
          prior: tuple[Stage, ...] = ()) -> Result:
    """One solve of the whole model (after the stages `prior`, if any)."""
    name = "full model" if prior else "solve"
    run = _outcome(compiled, s, restricted=False, stage=name)
    return finish(compiled, run.outcome, timings, s, prior=prior, name=name)


def warm(compiled: CompiledModel, timings: dict[str, float], s: SolveSettings) -> Result:
    """The restricted phase, then the full model from its optimum."""
    run = _outcome(compiled, s, restricted=True)
    outcome, info = run.outcome, run.info
    timings = dict(timings)
    prior: tuple[Stage, ...] = ()
    name, note = "solve", ""
    if info:
        timings["phase1_s"] = info["phase1_s"]
    if run.phase1 is not None and run.full:
        prior = (_stage(compiled, "restricted phase", run.phase1, s, limits=False,
                        note="its point is the MIP start of the full model, whose bound "
                             "covers the whole model"),)
        name = "full model"
    elif run.phase1 is not None:  # its point is the result: no bound for the full model
        name = "restricted phase"
        note = ("its point is feasible for the full model, which was not solved "
                f"({outcome.stopped_by or 'no time left'}); no bound for it")
    result = finish(compiled, outcome, timings, s, prior=prior, name=name, note=note)
    if info:
        result.summary["warm_start"] = info
        phase1 = info["phase1_objective"]
        shown = "-" if phase1 is None else \
            f"{(phase1 + compiled.objective_constant) / compiled.objective_scale:,.0f}"
        result.summary["notes"].append(
            f"MIP start from the restricted model ({', '.join(info['restrictions'])}): "
            f"{info['phase1_status']}, objective {shown}, {info['phase1_s']:.1f} s")
    return result


def exchange(compiled: CompiledModel, timings: dict[str, float], s: SolveSettings) -> Result:
    """Topology first on the plan model, then the full model with its lines fixed."""
    from gridc.runtime.strategies.topology_search import plan_topology

    started = time.perf_counter()
    opts = {"time_limit": s.time_limit, "gap": s.gap, "threads": s.threads, "seed": s.seed,
            "verbose": s.verbose, "node_limit": s.node_limit, "control": s.control}
    lines, info, stages = plan_topology(compiled, **opts)
    if _stopped(s):  # Ctrl-C in the plan stage: the full model has no solution yet
        result = not_solved(compiled, timings, stages, "interrupted in the plan stage, "
                            "before the full model was solved")
    elif lines is None:  # no feasible plan: the full model on its own (reports the status)
        result = plain(compiled, timings, s, tuple(replace(st, limits=False)
                                                   for st in stages))
    else:
        options = {**compiled.options, "fixed_lines": lines}
        if compiled.stations is not None:
            options.update(subcase=compiled.stations.subcase,
                           forecast=compiled.stations.plan.forecast)
        full = compile_model(compiled.source_model, study=compiled.study.name or None,
                             **options)
        # lines fixed, the rest is a small MILP: solve it tightly, else the study's gap
        # (0.5 % of ~35 MCNY/y) would leave whole transformer sizes to chance
        left = replace(s, gap=min(s.gap, FIXED_GAP) if s.gap is not None else None,
                       time_limit=None if s.time_limit is None else
                       max(1.0, s.time_limit - (time.perf_counter() - started)))
        result = plain(full, {**timings, "plan_s": time.perf_counter() - started}, left,
                       tuple(stages))
        result.summary["timings"]["solve_s"] = time.perf_counter() - started
        result.timings["solve_s"] = time.perf_counter() - started
    result.summary["plan"] = info
    return result


def not_solved(compiled: CompiledModel, timings: dict[str, float], stages: list[Stage],
               why: str) -> Result:
    """The result of a run stopped (Ctrl-C) before its model had a solution."""
    outcome = SolveOutcome(SolveStatus.interrupted_infeasible, None, None, None,
                           "not solved", why, 0.0, True, stopped_by="interrupt")
    final = Stage.of("full model", outcome, note=why)
    return build_result(compiled, outcome, dict(timings), [*stages, final])


def decompose(compiled: CompiledModel, timings: dict[str, float], s: SolveSettings) -> Result:
    """Benders over the scenarios (`runtime.strategies.decomposition`), its scenario
    blocks on `s.workers` Dask workers (serial without)."""
    with make_executor(s.workers) as executor:
        result = run_decomposition(compiled, timings, s, executor=executor)
    if result.ok:
        result.summary.update(planning_summary(compiled))
    return result


def _two_stage(compiled: CompiledModel) -> bool:
    """A first stage (a variable without a scenario dimension) next to scenario blocks."""
    dims = [v.labels.dims for _, v in compiled.model.variables.items()]
    return any(SCENARIO not in d for d in dims) and any(SCENARIO in d for d in dims)


STRATEGIES: dict[str, Strategy] = {"plain": plain, "warm": warm, "exchange": exchange,
                                   "decompose": decompose}
#: every name `solve` accepts: the registry, `pso` (see `run_pso`) and `extensive`
#: (= let `choose` pick the extensive-form strategy)
NAMES = (*STRATEGIES, "pso", "extensive")


def choose(compiled: CompiledModel, requested: str | None) -> str:
    """The strategy to run: `requested` if it applies to this model, else the default
    for what the model contains (see the module docstring)."""
    topo = compiled.topology
    can_exchange = (compiled.stations is not None and topo is not None
                    and topo.built is not None and bool(topo.decided.any())
                    and compiled.options.get("fixed_lines") is None)
    if requested is None and compiled.study.solve.strategy == "decompose":
        requested = "decompose"
    if requested in (None, "extensive"):
        if can_exchange:
            return "exchange"
        return "warm" if compiled.restrictions and compiled.model.integers.nvars + \
            compiled.model.binaries.nvars > 0 else "plain"
    if requested not in NAMES:
        raise ValueError(f"unknown strategy '{requested}' (one of {', '.join(NAMES)})")
    if requested == "pso":
        raise ValueError("strategy 'pso' searches over plans: run it with run_pso "
                         "(Problem.solve_pso, or gridc solve --strategy pso)")
    if requested == "exchange" and not can_exchange:
        raise ValueError("strategy 'exchange' needs a model with stations and a topology "
                         "decision ('lines' investment)")
    if requested == "decompose" and not _two_stage(compiled):
        raise ValueError("strategy 'decompose' needs investment decisions (variables "
                         "without a scenario) next to scenario operation")
    if requested == "warm" and not compiled.restrictions:
        raise ValueError("strategy 'warm' needs a restriction (a mobile_storage investment)")
    return requested


def solve(compiled: CompiledModel, timings: dict[str, float], strategy: str | None,
          settings: SolveSettings) -> Result:
    """Solve (every sub-case of) `compiled` with `strategy` (see the module docstring)."""
    name = choose(compiled, strategy)
    run = STRATEGIES[name]
    st = compiled.stations
    if st is None or len(st.subcases) <= 1 or compiled.options.get("subcase") is not None:
        result = run(compiled, timings, settings)
        result.summary["strategy"] = name
        return result
    rows: list[dict[str, Any]] = []
    best: Result | None = None
    best_label = ""
    done: dict[str, Result] = {}
    options = {k: v for k, v in compiled.options.items() if k != "subcase"}
    options["forecast"] = st.plan.forecast
    control = settings.control
    r: Result | None = None
    for label in st.subcases:
        if _stopped(settings):
            break
        if control is not None:
            control.prefix = f"{label}: "
        started = time.perf_counter()
        try:
            c = compiled if label == st.subcase else compile_model(
                compiled.source_model, study=compiled.study.name or None, subcase=label,
                **options)
            t = dict(timings) if c is compiled else {"compile_s": time.perf_counter() - started}
            r = run(c, t, settings)
        except KeyboardInterrupt:  # the hard stop: keep the sub-cases solved so far
            if best is None:
                raise
            break
        finally:
            if control is not None:
                control.prefix = ""
        done[label] = r
        planning = r.summary.get("planning_items", {})
        rows.append({"subcase": label, "status": r.status.value, "objective": r.objective,
                     "carbon_t_per_year": planning.get("ev_carbon_t_per_year"),
                     "solve_s": r.timings.get("solve_s")})
        if r.ok and (best is None or (r.objective or 0.0) < (best.objective or 0.0)):
            best, best_label = r, label
    result = best if best is not None else r
    assert result is not None
    label_of = {id(v): k for k, v in done.items()}
    chosen = best_label or label_of.get(id(result), "")
    # the best sub-case is chosen against every other one: their proofs count too
    others = [Stage(f"sub-case {k}", v.status, v.objective, v.bound, v.gap,
                    float(v.timings.get("solve_s", 0.0)), v.summary.get("stopped_by"),
                    note=f"compared with {chosen}") for k, v in done.items() if v is not result]
    missing = [Stage(f"sub-case {k}", SolveStatus.interrupted_infeasible,
                     stopped_by="interrupt", note="not solved: interrupted")
               for k in st.subcases if k not in done]
    own = [replace(x, name=f"{chosen}: {x.name}") for x in result.stages]
    result.restage([*others, *missing, *own])
    result.summary["subcases"] = rows
    result.summary["strategy"] = name
    return result


# ---------------------------------------------------------------------- after a solve


def _fix_integers(compiled: CompiledModel) -> None:
    """Pin every integer and binary variable at its solution (the plan), so that the
    following re-solves are LPs that refine the operation under that plan."""
    m = compiled.model
    for name in [*m.binaries, *m.integers]:
        var = m.variables[name]
        value = var.solution.round()
        var.update(lower=value, upper=value)


def finish(compiled: CompiledModel, outcome: SolveOutcome, timings: dict[str, float],
           s: SolveSettings, *, prior: tuple[Stage, ...] = (), name: str = "solve",
           note: str = "") -> Result:
    """Tighten the cone (distflow), read the result, add the planning tables.

    With `btn` cones every round re-solves the full model. With `cuts` (large models) the
    first `MILP_ROUNDS` rounds re-solve the MILP, then the plan is fixed and the cut
    rounds continue on the operation LP (`LP_ROUNDS`).

    Stages: `prior` (recorded by the strategy), then the solve `name`, then one per cone
    round. A round superseded by the next does not limit the result; the MILP that fixed
    the plan does; a round without a usable solution leaves the previous round's solution
    as the result (it is put back on the model). No round starts after a stop request."""
    report = _cone(compiled, outcome)
    total_s = outcome.solve_s
    rounds = milp_rounds = 0
    cuts_mode = compiled.cone_mode == "cuts"
    limit = (MILP_ROUNDS + LP_ROUNDS) if cuts_mode else MAX_ROUNDS
    fixed = False
    milp = outcome  # the last solve that decided the integers
    current: Stage | None = _stage(compiled, name, outcome, s, note=note)
    earlier: list[Stage] = []  # superseded rounds, the plan-fixing MILP, failed rounds
    plan_stage: Stage | None = None
    while report is not None and abs(report["loss_error"]) > LOSS_TOL and rounds < limit:
        if _stopped(s):
            break
        if cuts_mode and not fixed and rounds + 1 >= MILP_ROUNDS:
            milp_rounds = rounds + 1
            milp = outcome
            _fix_integers(compiled)
            fixed = True
            assert current is not None
            plan_stage = replace(current, note="fixed the plan of the LP-only cone rounds")
            earlier.append(plan_stage)
            current = None
        if add_cuts(compiled.builder, compiled.cone) == 0:
            break
        rounds += 1
        round_name = f"cone round {rounds}" + (" (plan fixed, LP)" if fixed else "")
        kept = saved_solution(compiled.model)
        retry = _outcome(compiled, replace(s, start=None), restricted=False,
                         stage=round_name).outcome
        total_s += retry.solve_s
        if not retry.status.ok:  # keep the last usable solution (a time limit, say)
            restore_solution(compiled.model, kept)
            earlier.append(_stage(compiled, round_name, retry, s, limits=False,
                                  note="no usable solution: the previous one is the result"))
            break
        if current is not None:
            earlier.append(replace(current, limits=False,
                                   note="superseded by the next cone round"))
        current = _stage(compiled, round_name, retry, s)
        outcome = retry
        report = _cone(compiled, outcome)
    if current is None:  # the plan was fixed, but no LP round ran: the MILP is the result
        assert plan_stage is not None
        earlier.remove(plan_stage)
        current = replace(plan_stage, note=note)
    elif fixed and milp.is_mip:
        outcome = _as_proven_by(milp, outcome)
        current = Stage.of(current.name, outcome, constant=compiled.objective_constant,
                           scale=compiled.objective_scale,
                           note="the operation under the fixed plan; gap to the MILP's bound")
    result = build_result(compiled, outcome, {**timings}, [*prior, *earlier, current])
    result.timings["solve_s"] = total_s
    result.summary["timings"]["solve_s"] = total_s
    if report is not None:
        report["plan_fixed_after"] = milp_rounds if fixed else None
        report["rounds"] = rounds
        result.summary["cone"] = report
    if result.ok:
        result.summary.update(planning_summary(compiled))
    return result


def _as_proven_by(milp: SolveOutcome, last: SolveOutcome) -> SolveOutcome:
    """The outcome of cut rounds run on the operation LP after the plan was fixed: the
    LP's solution, but only what the MILP proved — its bound (still valid: cuts only
    tighten the model) and the gap to it. An LP solved to optimality under a fixed plan
    proves nothing about the plan, so it is never reported as `optimal` on its own."""
    bound = milp.bound
    gap = None
    if bound is not None and last.objective is not None:
        gap = max(0.0, (last.objective - bound) / max(abs(last.objective), 1e-9))
    if milp.status is SolveStatus.time_limit_feasible or gap is None:
        status = SolveStatus.time_limit_feasible if gap is None else milp.status
    else:
        status = SolveStatus.optimal if gap <= 1e-9 else SolveStatus.feasible_gap
    return replace(last, status=status, bound=bound, gap=gap, is_mip=True,
                   message=f"plan fixed by the MILP ({milp.status.value}, "
                           f"{milp.solver_status}); operation refined by cut rounds")


def _cone(compiled: CompiledModel, outcome: SolveOutcome) -> dict[str, Any] | None:
    if not outcome.status.ok or compiled.flow.distflow is None:
        return None
    on = compiled.flow.states.in_service()
    return cone_report(compiled.builder, compiled.cone, on, compiled.scenarios.probability,
                       compiled.index.step_h)


def planning_summary(compiled: CompiledModel) -> dict[str, Any]:
    """What a planner reads besides the dispatch: the network under `distflow` (losses,
    voltages, lines built or opened), every priced item at the solution, the stations."""
    out: dict[str, Any] = {}
    topo = compiled.topology
    net: dict[str, Any] = {}
    if topo is not None:
        lines = [str(x) for x in compiled.index.coords[LINE]]
        built = (topo.built.solution.values > 0.5 if topo.built is not None
                 else topo.status.values > 0.5)
        cand = {c.line for c in topo.candidates if not c.existing}
        net["lines_built"] = [ln for ln, on in zip(lines, built) if on and ln in cand]
        net["lines_open"] = [ln for ln, on in zip(lines, built) if ln in cand and not on]
        net["line_km"] = float((topo.length_km.values * built).sum())
    if compiled.flow.loss_kw is not None:
        losses = compiled.flow.loss_kw.solution.sum(LINE)
        prob = compiled.scenarios.probability
        # voltages of the buses the slack feeds (an island's float within their limits)
        fed = energized(compiled.index, compiled.flow.states.in_service().astype(float))
        w = compiled.flow.w.solution.where(fed)
        net.update({"losses_kw_mean": float((losses.mean("time") * prob).sum()),
                    "losses_kw_peak": float(losses.max()),
                    "v_min_pu": float(np.sqrt(float(w.min()))),
                    "v_max_pu": float(np.sqrt(float(w.max()))),
                    "buses": int(compiled.index.coords[BUS].size)})
    if net:
        out["network"] = net
    if compiled.items:
        items = item_values(compiled.items, compiled.study.model)
        group: dict[str, float] = {}
        for it in items:
            group[str(it["group"])] = group.get(str(it["group"]), 0.0) + float(it["size"])
        planning: dict[str, Any] = {"items": items, "sizes": group}
        st = compiled.stations
        if st is not None:
            econ = compiled.study.model.economics
            days = econ.days_per_year if econ else 365.0
            planning.update({"subcase": st.subcase, "stations": station_table(st.vars),
                             "distance_km_per_day": st.plan.distance_km,
                             "ev_carbon_t_per_year": st.carbon_t_per_day * days})
        out["planning_items"] = planning
    return out
