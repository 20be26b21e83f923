"""Two-phase solve: a restricted model first, its optimum as the MIP start of the full one.

Why: HiGHS' own heuristics find no incumbent for the MESS routing of
`models/ieee33_resilience.grid` within minutes (the root cut loop eats the time),
whereas the same model with every MESS parked for the day
(`compiler.families.mobile_storage.parked`:
no departure after the first step) solves in about a minute and is within a
fraction of a percent of the full model's LP bound. So:

1. add the compiler's `restrictions` (rows expr == 0) and solve with half the time
   limit and half the requested gap;
2. remove them, hand HiGHS the phase-1 solution as a MIP start (`setSolution`, by
   variable label, so column order does not matter) and solve the full model with
   the time left. Its dual bound is the full model's: the reported gap is honest.

If phase 2 finds nothing better, its incumbent is the phase-1 solution (feasible
for the full model, which only drops rows). If no time is left for phase 2, the
result is phase 1's solution with no dual bound (status time_limit_feasible): the
restricted model's bound says nothing about the full one. Likewise after a stop
request (Ctrl-C) during phase 1: its point, status `interrupted`, no bound.

Phase 1 only offers a start: phase 2's bound and gap are those of the full model,
so the reported status is phase 2's whatever phase 1 achieved (`WarmRun.phase1`
records it; `runtime.status` lists it as a stage that does not limit the result).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import highspy
import linopy
import numpy as np
import xarray as xr
from linopy import LinearExpression

from gridc.runtime.backend.control import SolveControl
from gridc.runtime.backend.matrices import model_matrices
from gridc.runtime.backend.solver import (
    SolveOutcome,
    SolveStatus,
    _outcome,
    _quiet_linopy,
    _quiet_stdout,
    console_log,
    hand_over,
    highs_options,
    run_handed_over,
)
from gridc.runtime.backend.watch import watch

#: share of the time limit and of the gap given to the restricted phase
PHASE1_SHARE = 0.5


def _is_mip(model: linopy.Model) -> bool:
    return bool(model.binaries.nvars or model.integers.nvars)


def values_by_label(model: linopy.Model) -> np.ndarray | None:
    """The solved columns of `model` as an array indexed by linopy variable label."""
    h = model.solver_model
    if h is None:
        return None
    m = model_matrices(model)  # what HiGHS is given
    labels = np.asarray(m.vlabels, dtype=np.int64)
    values = np.asarray(h.getSolution().col_value, dtype=float)
    if values.size != labels.size:
        return None
    values = values / np.asarray(m.var_scaling, dtype=float)  # back to user units
    out = np.full(int(labels.max()) + 1 if labels.size else 0, np.nan)
    out[labels] = values
    return out


def start_from(model: linopy.Model, solution: xr.Dataset) -> np.ndarray:
    """A MIP start for `model` (values by label) from the solution of another model with
    the same block names, e.g. a study without one investment for the study with it:
    blocks and coordinates it lacks are 0 (nothing built, nothing flowing)."""
    top = max((int(v.labels.max()) for _, v in model.variables.items()), default=-1)
    out = np.full(top + 1, np.nan)
    for name, var in model.variables.items():
        labels = var.labels
        if name in solution:
            src = solution[name].reindex({d: labels.indexes[d] for d in labels.dims},
                                         fill_value=0.0).transpose(*labels.dims)
            values = np.nan_to_num(src.values, nan=0.0)
        else:
            values = np.zeros(labels.shape)
        keep = labels.values >= 0
        out[labels.values[keep]] = values[keep]
    return out


def _columns(m: Any, values: np.ndarray) -> np.ndarray:
    """Values by label as HiGHS columns (solver units: linopy may scale columns)."""
    x = np.nan_to_num(values[np.asarray(m.vlabels, dtype=np.int64)], nan=0.0)
    return x * np.asarray(m.var_scaling, dtype=float)


def _objective(model: linopy.Model, values: np.ndarray) -> float:
    """Solver objective (no constant) of a start given by label."""
    m = model_matrices(model)  # what HiGHS is given
    return float(np.dot(np.asarray(m.c, dtype=float), _columns(m, values)))


def check_start(model: linopy.Model, values: np.ndarray,
                tol: float = 1e-6) -> float | None:
    """The solver objective of the start `values` (by label) if it satisfies every bound,
    row and integrality of `model` (relative tolerance `tol`), else None."""
    m = model_matrices(model)  # what HiGHS is given
    x = _columns(m, values)
    lb, ub = np.asarray(m.lb, dtype=float), np.asarray(m.ub, dtype=float)
    if np.any(x < lb - tol * np.maximum(1.0, np.abs(lb))) or \
            np.any(x > ub + tol * np.maximum(1.0, np.abs(ub))):
        return None
    whole = np.isin(np.asarray(m.vtypes), ["B", "I"])
    if np.any(np.abs(x[whole] - np.round(x[whole])) > tol):
        return None
    if m.A is not None:
        ax, b = m.A @ x, np.asarray(m.b, dtype=float)
        slack = tol * np.maximum(1.0, np.abs(b))
        sense = np.asarray(m.sense)
        bad = ((sense == "<") & (ax > b + slack)) | ((sense == ">") & (ax < b - slack)) | \
            ((sense == "=") & (np.abs(ax - b) > slack))
        if np.any(bad):
            return None
    return float(np.dot(np.asarray(m.c, dtype=float), x))


def solve_from(model: linopy.Model, opts: dict[str, Any], gap: float | None, verbose: bool,
               start: np.ndarray | None = None, offset: float = 0.0,
               control: SolveControl | None = None) -> SolveOutcome:
    """Solve `model` with HiGHS, from the MIP start `start` (values by label) if given.
    `offset` (the objective's constant, which linopy cannot pass) is handed to HiGHS so
    that its relative gap, and hence when it stops, refer to the whole objective; the
    outcome's objective and bound are returned without it, like `solve_model`'s.
    `control`: progress events and the stop flag (`runtime.backend.control`)."""
    started = time.perf_counter()
    mip = _is_mip(model)
    try:
        with _quiet_stdout(not console_log(verbose, control)), _quiet_linopy():
            handed = hand_over(model, opts, offset=offset)  # offset: passModel's own
            if start is not None and mip:
                sol = highspy.HighsSolution()
                sol.col_value = _columns(handed.matrices, start).tolist()
                sol.value_valid = True
                handed.highs.setSolution(sol)
            left = run_handed_over(model, handed, control,
                                   watch(handed.highs, control, offset))
    except Exception as exc:  # a failure inside linopy/HiGHS is an outcome, not a crash
        return SolveOutcome(SolveStatus.error, None, None, None, "exception",
                            f"{type(exc).__name__}: {exc}", time.perf_counter() - started,
                            mip)
    out = left if left is not None else _outcome(model.solver_model, started=started,
                                                 is_mip=mip, gap=gap, verbose=verbose)
    return replace(out, objective=None if out.objective is None else out.objective - offset,
                   bound=None if out.bound is None else out.bound - offset)


@dataclass
class WarmRun:
    """What `solve_warm` did: the outcome to report, the summary's notes (`info`), the
    restricted phase's own outcome (None: there was none) and whether the full model
    was solved (else `outcome` is phase 1's point, without a bound)."""

    outcome: SolveOutcome
    info: dict[str, Any] = field(default_factory=dict)
    phase1: SolveOutcome | None = None
    full: bool = True


def solve_warm(model: linopy.Model, restrictions: dict[str, tuple[LinearExpression,
                                                                   xr.DataArray]],
               *, time_limit: float | None = None, gap: float | None = None,
               threads: int | None = None, seed: int | None = None,
               verbose: bool = False, start: np.ndarray | None = None,
               offset: float = 0.0, node_limit: int | None = None,
               control: SolveControl | None = None, stage: str = "solve") -> WarmRun:
    """Solve `model`, first restricted by `restrictions` (see the module docstring).
    `start` (values by label, see `start_from`) is offered to both phases as a MIP
    start; phase 2 starts from the better of it and phase 1's solution. `offset`: the
    objective's constant (see `solve_from`), so that the gap is that of the whole
    objective. `node_limit` applies to each phase. Without restrictions this is one
    plain solve, shown to `control` as `stage`."""
    mip = _is_mip(model)

    def options(limit: float | None, g: float | None) -> dict[str, Any]:
        return highs_options(limit, g, threads, seed, verbose, node_limit=node_limit,
                             control=control)

    def begin(name: str) -> None:
        if control is not None:
            control.begin(name)

    if not restrictions or not mip:
        begin(stage)
        return WarmRun(solve_from(model, options(time_limit, gap), gap, verbose, start,
                                  offset, control))
    started = time.perf_counter()
    for name, (expr, mask) in restrictions.items():
        model.add_constraints(expr, "==", 0.0, name=name, mask=mask)
    try:
        limit1 = None if time_limit is None else PHASE1_SHARE * time_limit
        gap1 = None if gap is None else PHASE1_SHARE * gap
        begin("restricted phase")
        first = solve_from(model, options(limit1, gap1), gap1, verbose, start, offset,
                           control)
        found = values_by_label(model) if first.status.ok else None
    finally:
        for name in restrictions:
            model.remove_constraints(name)
    info = {"phase1_s": first.solve_s, "phase1_status": first.status.value,
            "phase1_objective": first.objective, "restrictions": list(restrictions)}
    if start is not None and (found is None or _objective(model, start)
                              < _objective(model, found)):
        info["start"] = "given start (better than phase 1's)"
        found = start
    start = found
    stopped = control is not None and control.should_stop()
    left = None if time_limit is None else time_limit - (time.perf_counter() - started)
    if start is None:  # nothing to start from: the plain solve with the time left
        if stopped or (left is not None and left <= 0):
            return WarmRun(first, info, first, full=False)
        begin("full model")
        return WarmRun(solve_from(model, options(left, gap), gap, verbose, None, offset,
                                  control), info, first)
    if stopped:  # Ctrl-C during phase 1: its point, without a valid bound
        return WarmRun(replace(first, status=SolveStatus.interrupted, bound=None, gap=None,
                               stopped_by="interrupt",
                               message="interrupted: the restricted phase's point, the "
                                       "full model was not solved"), info, first, full=False)
    if left is not None and left <= 1.0:  # phase 1's point, without a valid bound
        return WarmRun(replace(first, status=SolveStatus.time_limit_feasible, bound=None,
                               gap=None, stopped_by="time limit",
                               message="time limit reached after the restricted phase"),
                       info, first, full=False)
    begin("full model")
    second = solve_from(model, options(left, gap), gap, verbose, start, offset, control)
    return WarmRun(replace(second, solve_s=time.perf_counter() - started), info, first)


def saved_solution(model: linopy.Model) -> dict[str, xr.DataArray]:
    """The solution on `model` (every variable's), to put back with `restore_solution`
    when a re-solve fails: `hand_over` resets it first, so that a failed solve never
    leaves a stale solution behind."""
    return {name: var.solution for name, var in model.variables.items()}


def restore_solution(model: linopy.Model, saved: dict[str, xr.DataArray]) -> None:
    """Put a `saved_solution` back (the model then reads as solved, with it)."""
    model.status = "ok"
    for name, values in saved.items():
        model.variables[name].solution = values
