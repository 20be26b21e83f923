"""Solving ADN planning and loss studies: cone tightening, sub-cases, Tables 5–7.

Why a runtime step of its own (`Problem.solve` hands over here when the compiled model
came from `compiler.adn`):

* the cone is a polyhedral outer approximation (`compiler.cone`), so every solve is
  followed by `cone_report` — the largest violation, the loss error Σ r ℓ against
  Σ r (P² + Q²)/v and the voltage error — and, while the loss error exceeds `loss_tol`,
  by a round of exact tangent cuts at the violating points and a re-solve (`max_rounds`);
* a `stations` investment is solved once per site combination (the seed's sub-cases,
  Figure 12), re-using one EV forecast; the best sub-case is the study's result and every
  sub-case's annual cost is kept in `summary["subcases"]`;
* the summary gains `cone`, and `adn` with the seed's tables: costs (Table 5), equipment
  per station (Table 6), DG, substation, line length and EV carbon (Table 7), or the
  switched-open lines of a reconfiguration.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gridc.compiler import CompiledModel, compile_model
from gridc.compiler.adn import AdnParts, item_values
from gridc.compiler.distflow import add_cuts, cone_report
from gridc.compiler.index import BUS, LINE
from gridc.compiler.stations import station_table
from gridc.runtime.results import Result, build_result
from gridc.runtime.solver import SolveOutcome, solve_model

#: re-solve with tangent cuts while |loss error| exceeds this (fraction)
LOSS_TOL = 1e-3
MAX_ROUNDS = 3
#: `cuts` cones: MILP re-solves before the plan is fixed, then LP-only cut rounds
MILP_ROUNDS = 2
LP_ROUNDS = 12
#: relative gap of the full model once the plan stage has fixed the lines
FIXED_GAP = 1e-5


def solve_planning(compiled: CompiledModel, timings: dict[str, float], *,
                   time_limit: float | None, gap: float | None, threads: int | None,
                   seed: int | None, verbose: bool, loss_tol: float = LOSS_TOL,
                   max_rounds: int = MAX_ROUNDS) -> Result:
    """Solve (every sub-case of) a compiled ADN model; see the module docstring."""
    parts: AdnParts = compiled.extension
    opts = {"time_limit": time_limit, "gap": gap, "threads": threads, "seed": seed,
            "verbose": verbose}
    if len(parts.subcases) <= 1 or compiled.options.get("subcase") is not None:
        return _solve_subcase(compiled, timings, opts, loss_tol, max_rounds)
    rows: list[dict[str, Any]] = []
    best: Result | None = None
    options = {k: v for k, v in compiled.options.items() if k != "subcase"}
    options["forecast"] = parts.forecast
    for label in parts.subcases:
        started = time.perf_counter()
        c = compiled if label == parts.subcase else compile_model(
            parts.source_model, study=compiled.study.name or None, subcase=label, **options)
        t = dict(timings) if c is compiled else {"compile_s": time.perf_counter() - started}
        r = _solve_subcase(c, t, opts, loss_tol, max_rounds)
        adn = r.summary.get("adn", {})
        rows.append({"subcase": label, "status": r.status.value, "objective": r.objective,
                     "carbon_t_per_year": adn.get("network", {}).get("ev_carbon_t_per_year"),
                     "solve_s": r.timings.get("solve_s")})
        if r.ok and (best is None or (r.objective or 0.0) < (best.objective or 0.0)):
            best = r
    result = best if best is not None else r
    result.summary["subcases"] = rows
    return result


def _solve_subcase(compiled: CompiledModel, timings: dict[str, float], opts: dict[str, Any],
                   loss_tol: float, max_rounds: int) -> Result:
    """A model with stations and a topology to choose goes through the plan stage
    (`runtime.adn_plan`): its lines are fixed before the full model is solved."""
    parts: AdnParts = compiled.extension
    topo = parts.topology
    if (parts.stations is None or topo.built is None or not bool(topo.decided.any())
            or compiled.options.get("fixed_lines") is not None):
        return _solve_one(compiled, timings, opts, loss_tol, max_rounds)
    from gridc.runtime.adn_plan import plan_topology

    started = time.perf_counter()
    lines, info = plan_topology(compiled, **opts)
    if lines is None:  # no feasible plan: the full model on its own (reports the status)
        result = _solve_one(compiled, timings, opts, loss_tol, max_rounds)
    else:
        options = {**compiled.options, "subcase": parts.subcase, "forecast": parts.forecast,
                   "fixed_lines": lines}
        full = compile_model(parts.source_model, study=compiled.study.name or None,
                             **options)
        left = dict(opts)
        # lines fixed, the rest is a small MILP: solve it tightly, else the study's gap
        # (0.5 % of ~35 MCNY/y) would leave whole transformer sizes to chance
        left["gap"] = min(opts["gap"], FIXED_GAP) if opts["gap"] is not None else None
        if opts["time_limit"] is not None:
            left["time_limit"] = max(1.0, opts["time_limit"] - (time.perf_counter() - started))
        result = _solve_one(full, {**timings, "plan_s": time.perf_counter() - started},
                            left, loss_tol, max_rounds)
        result.summary["timings"]["solve_s"] = time.perf_counter() - started
        result.timings["solve_s"] = time.perf_counter() - started
    result.summary["plan"] = info
    return result


def _fix_integers(compiled: CompiledModel) -> None:
    """Pin every integer and binary variable at its solution (the plan), so that the
    following re-solves are LPs that refine the operation under that plan."""
    m = compiled.model
    for name in [*m.binaries, *m.integers]:
        var = m.variables[name]
        value = var.solution.round()
        var.upper = value
        var.lower = value


def _solve_one(compiled: CompiledModel, timings: dict[str, float], opts: dict[str, Any],
               loss_tol: float, max_rounds: int) -> Result:
    """Solve, measure the cone, cut and re-solve. With `btn` cones every round re-solves
    the full model. With `cuts` (large models) the first `MILP_ROUNDS` rounds re-solve the
    MILP, then the plan is fixed and the cut rounds continue on the operation LP
    (`LP_ROUNDS`): the plan was chosen with losses accurate to those first rounds' cuts,
    the reported operation, losses and voltages are accurate to `loss_tol`."""
    parts: AdnParts = compiled.extension
    outcome = solve_model(compiled.model, **opts)
    total_s = outcome.solve_s
    report = _report(compiled, outcome)
    rounds = milp_rounds = 0
    cuts_mode = parts.cone_mode == "cuts"
    limit = (MILP_ROUNDS + LP_ROUNDS) if cuts_mode else max_rounds
    fixed = False
    while report is not None and abs(report["loss_error"]) > loss_tol and rounds < limit:
        if cuts_mode and not fixed and rounds + 1 >= MILP_ROUNDS:
            milp_rounds = rounds + 1
            _fix_integers(compiled)
            fixed = True
        if add_cuts(parts.builder, parts.flow) == 0:
            break
        rounds += 1
        retry = solve_model(compiled.model, **opts)
        total_s += retry.solve_s
        if not retry.status.ok:  # keep the last usable solution (a time limit, say)
            break
        outcome = retry
        report = _report(compiled, outcome)
    result = build_result(compiled, outcome, timings)
    scale = parts.objective_scale
    if scale != 1.0:  # back from the solver's unit (kCNY) to CNY
        result.objective = None if result.objective is None else result.objective / scale
        result.bound = None if result.bound is None else result.bound / scale
        result.summary["objective"], result.summary["bound"] = result.objective, result.bound
    if report is not None:
        report["plan_fixed_after"] = milp_rounds if fixed else None
    result.timings["solve_s"] = total_s
    result.summary["timings"]["solve_s"] = total_s
    if report is not None:
        report["rounds"] = rounds
        result.summary["cone"] = report
        result.summary["adn"] = adn_summary(compiled)
        result.summary["decisions"] = result.summary["adn"].get("decisions", {})
    return result


def _report(compiled: CompiledModel, outcome: SolveOutcome) -> dict[str, Any] | None:
    if not outcome.status.ok:
        return None
    parts: AdnParts = compiled.extension
    topo = parts.topology
    built = topo.built.solution if topo.built is not None else None
    return cone_report(parts.builder, parts.flow, topo, built, compiled.scenarios.probability,
                       compiled.index.step_h)


def adn_summary(compiled: CompiledModel) -> dict[str, Any]:
    """The seed's tables at the solution (costs in CNY per year, see `compiler.adn`)."""
    parts: AdnParts = compiled.extension
    topo = parts.topology
    out: dict[str, Any] = {"objective": parts.objective}
    lines = [str(x) for x in compiled.index.coords[LINE]]
    built = (topo.built.solution.values > 0.5 if topo.built is not None
             else topo.status.values > 0.5)
    cand = {c.line for c in topo.candidates if not c.existing}  # decided or given plan
    out["lines_built"] = [ln for ln, on in zip(lines, built) if on and ln in cand]
    out["lines_open"] = [ln for ln, on in zip(lines, built) if ln in cand and not on]
    length = float((topo.length_km.values * built).sum())
    losses = parts.flow.loss_kw.solution.sum(LINE)
    prob = compiled.scenarios.probability
    w = parts.flow.w.solution
    out["network"] = {
        "line_km": length,
        "losses_kw_mean": float((losses.mean("time") * prob).sum()),
        "losses_kw_peak": float(losses.max()),
        "v_min_pu": float(np.sqrt(float(w.min()))), "v_max_pu": float(np.sqrt(float(w.max()))),
        "buses": int(compiled.index.coords[BUS].size),
    }
    if parts.objective == "losses":
        return out
    items = item_values(parts)
    out["items"] = items
    group: dict[str, float] = {}
    for it in items:
        group[it["group"]] = group.get(it["group"], 0.0) + it["size"]
    econ_days = (compiled.study.model.economics.days_per_year
                 if compiled.study.model.economics else 365.0)
    out["network"].update({
        "wt_kw": group.get("wt", 0.0), "pv_kw": group.get("pv", 0.0),
        "substation_kva": group.get("substation", 0.0),
        "ev_carbon_t_per_year": parts.carbon_t_per_day * econ_days,
    })
    costs = {k: float(v.solution) for k, v in compiled.costs.items()}
    costs["total"] = sum(costs.values())
    out["costs"] = costs
    if parts.stations is not None:
        out["subcase"] = parts.subcase
        out["stations"] = station_table(parts.stations)
        out["distance_km_per_day"] = parts.stations.plan.distance_km
    out["decisions"] = {"lines": out["lines_built"], "wt_kw": group.get("wt", 0.0),
                        "pv_kw": group.get("pv", 0.0),
                        "substation_kva": group.get("substation", 0.0)}
    return out
