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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gridc.compiler import CompiledModel, compile_model
from gridc.compiler.core.index import BUS, LINE
from gridc.compiler.core.scenarios import energized
from gridc.compiler.families.stations import station_table
from gridc.compiler.formulations.distflow import add_cuts, cone_report
from gridc.compiler.formulations.pricing import item_values
from gridc.runtime.backend.solver import SolveOutcome, SolveStatus
from gridc.runtime.backend.warmstart import solve_warm
from gridc.runtime.results import Result, build_result

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


Strategy = Callable[[CompiledModel, dict[str, float], SolveSettings], Result]


def _outcome(compiled: CompiledModel, s: SolveSettings,
             restricted: bool) -> tuple[SolveOutcome, dict[str, Any]]:
    return solve_warm(compiled.model, compiled.restrictions if restricted else {},
                      time_limit=s.time_limit, gap=s.gap, threads=s.threads, seed=s.seed,
                      verbose=s.verbose, start=s.start, offset=compiled.objective_constant)


def plain(compiled: CompiledModel, timings: dict[str, float], s: SolveSettings) -> Result:
    """One solve of the whole model."""
    outcome, _ = _outcome(compiled, s, restricted=False)
    return finish(compiled, outcome, timings, s)


def warm(compiled: CompiledModel, timings: dict[str, float], s: SolveSettings) -> Result:
    """The restricted phase, then the full model from its optimum."""
    outcome, info = _outcome(compiled, s, restricted=True)
    timings = dict(timings)
    if info:
        timings["phase1_s"] = info["phase1_s"]
    result = finish(compiled, outcome, timings, s)
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
            "verbose": s.verbose}
    lines, info = plan_topology(compiled, **opts)
    if lines is None:  # no feasible plan: the full model on its own (reports the status)
        result = plain(compiled, timings, s)
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
        result = plain(full, {**timings, "plan_s": time.perf_counter() - started}, left)
        result.summary["timings"]["solve_s"] = time.perf_counter() - started
        result.timings["solve_s"] = time.perf_counter() - started
    result.summary["plan"] = info
    return result


STRATEGIES: dict[str, Strategy] = {"plain": plain, "warm": warm, "exchange": exchange}
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
    options = {k: v for k, v in compiled.options.items() if k != "subcase"}
    options["forecast"] = st.plan.forecast
    r: Result | None = None
    for label in st.subcases:
        started = time.perf_counter()
        c = compiled if label == st.subcase else compile_model(
            compiled.source_model, study=compiled.study.name or None, subcase=label,
            **options)
        t = dict(timings) if c is compiled else {"compile_s": time.perf_counter() - started}
        r = run(c, t, settings)
        planning = r.summary.get("planning_items", {})
        rows.append({"subcase": label, "status": r.status.value, "objective": r.objective,
                     "carbon_t_per_year": planning.get("ev_carbon_t_per_year"),
                     "solve_s": r.timings.get("solve_s")})
        if r.ok and (best is None or (r.objective or 0.0) < (best.objective or 0.0)):
            best = r
    result = best if best is not None else r
    assert result is not None
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
        var.upper = value
        var.lower = value


def finish(compiled: CompiledModel, outcome: SolveOutcome, timings: dict[str, float],
           s: SolveSettings) -> Result:
    """Tighten the cone (distflow), read the result, add the planning tables.

    With `btn` cones every round re-solves the full model. With `cuts` (large models) the
    first `MILP_ROUNDS` rounds re-solve the MILP, then the plan is fixed and the cut
    rounds continue on the operation LP (`LP_ROUNDS`)."""
    report = _cone(compiled, outcome)
    total_s = outcome.solve_s
    rounds = milp_rounds = 0
    cuts_mode = compiled.cone_mode == "cuts"
    limit = (MILP_ROUNDS + LP_ROUNDS) if cuts_mode else MAX_ROUNDS
    fixed = False
    milp = outcome  # the last solve that decided the integers
    while report is not None and abs(report["loss_error"]) > LOSS_TOL and rounds < limit:
        if cuts_mode and not fixed and rounds + 1 >= MILP_ROUNDS:
            milp_rounds = rounds + 1
            milp = outcome
            _fix_integers(compiled)
            fixed = True
        if add_cuts(compiled.builder, compiled.cone) == 0:
            break
        rounds += 1
        retry, _ = _outcome(compiled, replace(s, start=None), restricted=False)
        total_s += retry.solve_s
        if not retry.status.ok:  # keep the last usable solution (a time limit, say)
            break
        outcome = retry
        report = _cone(compiled, outcome)
    if fixed and milp.is_mip:
        outcome = _as_proven_by(milp, outcome)
    result = build_result(compiled, outcome, {**timings})
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
