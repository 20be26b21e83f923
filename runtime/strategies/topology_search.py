"""Choosing the network topology of a station sub-case before sizing everything else.

Why a separate stage: the full seed-001 model of one sub-case (4 typical days × 24 h × 31
candidate lines, cones, stations) is a MILP whose LP has ~50k rows; measured on the shared
two-core machine, HiGHS spends about a minute on the root alone and finds *no* incumbent in
ten minutes (radial topology, voltage limits and the substation rating have to fit together
before the first feasible point). With the lines fixed, the same sub-case solves in seconds.
So, per sub-case:

1. the *plan* model: the typical EV days replaced by their expected day (one scenario,
   `days="mean"`; the equipment bounds still use every typical day's peaks), cones by
   supporting planes (`cone="cuts"`);
2. a feasible start: the shortest-path tree from the substation over the candidate lengths
   (it keeps voltages up; the minimum spanning tree, measured, violates 0.95 p.u. here),
   lines fixed, everything else optimised, two rounds of cone cuts;
3. the lines freed, HiGHS' branch-and-bound from that start (`setSolution`) for a share of
   the time limit: its incumbent's lines are the topology (at worst the start's);
4. the `exchange` strategy (`runtime.strategies.registry`) then solves the full model (every
   typical day) with those lines fixed.

The topology is therefore optimal for the expected EV day within the plan stage's gap — the
EV load is about 6 % of the area's energy, and it is what decides the stations, which stage
4 sizes on every typical day. The summary records each stage (`summary["plan"]`), and
`plan_topology` returns them as `runtime.status.Stage`s: the topology search fixes the
lines of the full model, so its status and gap limit the result's headline (a search
stopped by the time limit at 1 % makes the result `time_limit_feasible` at 1 %, however
tightly the full model is then solved); the start and the branch exchange only start it
(unless the search gave nothing, then the exchange's lines are used: a heuristic).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from typing import Any

import numpy as np
import xarray as xr
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from gridc.compiler import CompiledModel, compile_model
from gridc.compiler.core.index import BUS, LINE
from gridc.compiler.formulations.distflow import add_cuts
from gridc.runtime.backend.control import SolveControl
from gridc.runtime.backend.solver import (
    SolveOutcome,
    SolveStatus,
    highs_options,
    solve_model,
)
from gridc.runtime.backend.warmstart import solve_from, values_by_label
from gridc.runtime.status import Stage, record

#: share of a time limit (when the user sets one) the plan stage may use (the rest: the
#: full model), and the share of that spent on branch exchange. Without a time limit no
#: stage is timed: the exchange runs to its local optimum, the search to its gap, so the
#: same command gives the same topology on a quiet and on a loaded machine (issue 13).
PLAN_SHARE = 0.5
EXCHANGE_SHARE = 0.7
#: most exchanges evaluated (each one solve of the plan model with lines fixed): a bound
#: on work, not on time; the shipped sub-cases reach their local optimum well before it
MAX_EXCHANGES = 300
START_CUT_ROUNDS = 2


def shortest_path_tree(compiled: CompiledModel) -> dict[str, bool]:
    """Candidate line -> built, for the shortest-path tree from the slack (by length)."""
    idx = compiled.index
    buses = idx.coords[BUS]
    lines = idx.network.lines
    possible = compiled.topology_decision.status.values > 0.0
    fr = buses.get_indexer([ln.from_bus for ln in lines])
    to = buses.get_indexer([ln.to_bus for ln in lines])
    length = np.maximum(compiled.topology_decision.length_km.values, 1e-6)
    n = len(buses)
    graph = coo_matrix((length[possible], (fr[possible], to[possible])), shape=(n, n))
    _, pred = shortest_path(graph.tocsr(), directed=False,
                            indices=int(buses.get_loc(idx.slack_bus)),
                            return_predecessors=True)
    edges = {frozenset((int(pred[j]), j)) for j in range(n) if pred[j] >= 0}
    decided = compiled.topology_decision.decided.values
    return {ln.id: frozenset((int(a), int(b))) in edges
            for ln, a, b, d in zip(lines, fr, to, decided) if d}


def _set_lines(compiled: CompiledModel, lines: dict[str, bool] | None) -> None:
    """Fix (a dict) or free (None) the decided lines' `line_built` bounds."""
    var = compiled.topology_decision.built
    assert var is not None
    decided = compiled.topology_decision.decided
    status = compiled.topology_decision.status
    # free first (lower ≤ upper at every step)
    var.update(lower=(status == 1.0).astype(float), upper=(status > 0.0).astype(float))
    if lines is None:
        return
    names = [str(x) for x in decided[LINE].values]
    on = np.array([float(lines.get(n, False)) if d else float(st >= 1.0)
                   for n, d, st in zip(names, decided.values, status.values)])
    fixed = xr.DataArray(on, coords=decided.coords)
    var.update(lower=fixed, upper=fixed)


def _tree_path(lines: dict[str, tuple[int, int]], tree: set[str], a: int, b: int,
               n: int) -> list[str]:
    """The tree's lines on the path from bus a to bus b (a cycle with line a-b)."""
    ids = sorted(tree)
    fr = np.array([lines[x][0] for x in ids])
    to = np.array([lines[x][1] for x in ids])
    graph = coo_matrix((np.ones(len(ids)), (fr, to)), shape=(n, n)).tocsr()
    _, pred = shortest_path(graph, directed=False, unweighted=True, indices=a,
                            return_predecessors=True)
    edge = {frozenset((int(f), int(t))): x for x, f, t in zip(ids, fr, to)}
    path, node = [], b
    while node != a and pred[node] >= 0:
        path.append(edge[frozenset((int(pred[node]), int(node)))])
        node = int(pred[node])
    return path


def branch_exchange(plan: CompiledModel, start: dict[str, bool], first: SolveOutcome,
                    deadline: float | None, control: SolveControl | None = None,
                    **common: Any
                    ) -> tuple[dict[str, bool], SolveOutcome, np.ndarray | None, int]:
    """Branch exchange (Civanlar et al. 1988; Baran & Wu 1989): close one open candidate,
    open another line of the cycle it makes, keep the change if the plan model (lines
    fixed, everything else optimised) gets cheaper; repeat until no exchange improves
    (a local optimum), `MAX_EXCHANGES` evaluations, the deadline (None: none) or a stop
    request. The order of trials is fixed, so without a deadline the result does not
    depend on the machine's speed. Returns the lines, the best outcome, its solution by
    label (kept when it is found, so that it need not be solved again; None if HiGHS
    gave none) and the number of evaluations. `first` must be the last solve of
    `plan.model`. Progress: the best cost after each evaluation (not each solve's own)."""
    idx = plan.index
    buses = idx.coords[BUS]
    ends = {ln.id: (int(buses.get_loc(ln.from_bus)), int(buses.get_loc(ln.to_bus)))
            for ln in idx.network.lines}
    current, best, evaluations = dict(start), first, 0
    values = values_by_label(plan.model)  # the start's solution, solved by the caller
    improved = True
    should_stop = control.should_stop if control is not None else (lambda: False)

    def stopped() -> bool:
        return (should_stop() or evaluations >= MAX_EXCHANGES
                or (deadline is not None and time.perf_counter() >= deadline))

    while improved and not stopped():
        improved = False
        tree = {x for x, on in current.items() if on}
        for closing in sorted(x for x, on in current.items() if not on):
            a, b = ends[closing]
            for opening in _tree_path(ends, tree, a, b, len(buses)):
                if stopped():
                    break
                trial = {**current, closing: True, opening: False}
                _set_lines(plan, trial)
                with control.muted() if control is not None else contextlib.nullcontext():
                    out = solve_model(plan.model, control=control, **common)
                evaluations += 1
                if control is not None:
                    control.emit("progress", incumbent=control.value(best.objective),
                                 message=f"{evaluations} exchanges evaluated")
                if out.status.ok and out.objective is not None and best.objective is not None \
                        and out.objective < best.objective - 1e-6 * abs(best.objective):
                    current, best, improved = trial, out, True
                    values = values_by_label(plan.model)
                    break
            if improved:
                break
    _set_lines(plan, current)
    return current, best, values, evaluations


def _cny(plan: CompiledModel, value: float | None) -> float | None:
    """A solver objective of the plan model in CNY (the solver may see kCNY)."""
    return None if value is None else (value + plan.objective_constant) / plan.objective_scale


def plan_topology(compiled: CompiledModel, *, time_limit: float | None,
                  gap: float | None, threads: int | None, seed: int | None,
                  verbose: bool, node_limit: int | None = None,
                  control: SolveControl | None = None
                  ) -> tuple[dict[str, bool] | None, dict[str, Any], list[Stage]]:
    """Stages 1–3 of the module docstring for the sub-case of `compiled`; returns the
    candidate lines' built state (None: no feasible plan), what each stage did (for the
    summary) and the stages (`runtime.status`). `node_limit` applies to every MIP solve;
    after a stop request (`control`) no further stage starts."""
    started = time.perf_counter()
    options = {k: v for k, v in compiled.options.items() if k not in ("days", "cone")}
    assert compiled.stations is not None
    options.update(subcase=compiled.stations.subcase, forecast=compiled.stations.plan.forecast,
                   days="mean",
                   cone="cuts")
    plan = compile_model(compiled.source_model, study=compiled.study.name or None, **options)
    info: dict[str, Any] = {"compile_s": time.perf_counter() - started}
    stages: list[Stage] = []

    def stage(name: str, outcome: SolveOutcome, **kw: Any) -> Stage:
        return record(stages, Stage.of(f"plan: {name}", outcome,
                                       constant=plan.objective_constant,
                                       scale=plan.objective_scale, **kw), control)

    def begin(name: str) -> None:
        if control is not None:
            control.units(plan.objective_constant, plan.objective_scale)
            control.begin(f"plan: {name}")

    start_lines = shortest_path_tree(plan)
    _set_lines(plan, start_lines)
    common = {"threads": threads, "seed": seed, "verbose": verbose, "node_limit": node_limit,
              "control": control}
    begin("start (shortest-path tree)")
    first = solve_model(plan.model, gap=gap, time_limit=time_limit, **common)
    for _ in range(START_CUT_ROUNDS):
        if (not first.status.ok or plan.flow.distflow is None
                or (control is not None and control.should_stop())
                or add_cuts(plan.builder, plan.cone) == 0):
            break
        first = solve_model(plan.model, gap=gap, time_limit=time_limit, **common)
    info["start"] = {"status": first.status.value, "solve_s": first.solve_s,
                     "objective_cny": _cny(plan, first.objective), "lines": "shortest-path tree"}
    stage("start (shortest-path tree)", first, limits=False,
          note="lines fixed to the shortest-path tree: the exchange's first point")
    if not first.status.ok or (control is not None and control.should_stop()):
        return None, info, stages
    budget = None if time_limit is None else time_limit * PLAN_SHARE
    deadline = None if budget is None else started + EXCHANGE_SHARE * budget
    begin("branch exchange")
    exchanged = time.perf_counter()
    lines, best, start, evaluations = branch_exchange(plan, start_lines, first, deadline,
                                                      gap=gap, **common)
    info["exchange"] = {"evaluations": evaluations, "objective_cny": _cny(plan, best.objective),
                        "solve_s": time.perf_counter() - started - info["compile_s"]}
    heuristic = replace(best, status=SolveStatus.heuristic, bound=None, gap=None,
                        solve_s=time.perf_counter() - exchanged,
                        stopped_by="interrupt" if control is not None
                        and control.should_stop() else None)
    why = f"stopped at {MAX_EXCHANGES}" if evaluations >= MAX_EXCHANGES else "local optimum"
    stage("branch exchange", heuristic, limits=False,
          note=f"{evaluations} evaluations ({why}); its point starts the topology search")
    if control is not None and control.should_stop():
        return lines, info, stages
    _set_lines(plan, None)  # the best exchange's solution starts the free search
    left = None if budget is None else max(1.0, budget - (time.perf_counter() - started))
    begin("topology search")
    second = solve_from(plan.model, highs_options(left, gap, threads, seed, verbose,
                                                  node_limit=node_limit, control=control),
                        gap, verbose, start=start, control=control)
    info["search"] = {"status": second.status.value, "solve_s": second.solve_s,
                      "objective_cny": _cny(plan, second.objective),
                      "bound_cny": _cny(plan, second.bound),
                      "gap": second.gap}
    searched = second.status.ok
    if not searched:  # the exchange's lines are the topology: the heuristic limits
        stages[-1] = replace(stages[-1], limits=True,
                             note=f"{evaluations} evaluations; its lines are used")
    stage("topology search", second, limits=searched,
          note="its lines are fixed in the full model; gap and bound of the expected-day "
               "plan model" if searched else "no usable solution: the exchange's lines")
    if not searched:
        return lines, info, stages
    built = plan.topology_decision.built.solution
    decided = plan.topology_decision.decided.values
    lines = {str(x): bool(v > 0.5) for x, v, d in zip(built[LINE].values, built.values,
                                                     decided) if d}
    info["plan_s"] = time.perf_counter() - started
    return lines, info, stages
