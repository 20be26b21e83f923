"""The one place that runs a solver: linopy → HiGHS (highspy), in memory.

`solve_model` hands the linopy model to HiGHS with `io_api="direct"` (no LP file
round trip), passes the time limit, relative MIP gap, thread count and random
seed, and then reads the outcome from the highspy object itself
(`model.solver_model`), not from linopy's summary: linopy reports status "ok"
with termination "unknown" for problems HiGHS refused (e.g. an MIQP), so every
condition is mapped explicitly by `map_status` and anything not recognised is an
`error`, never a success.

HiGHS reports its objective, dual bound and relative gap in solver units; they
exclude the constant part of the objective (linopy cannot pass constants), which
`runtime.results` adds back.

`BoundsResolver` is the second entry point: a model handed to HiGHS once and then
re-solved many times with changed column bounds (the bi-level method's lower level,
`gridc.runtime.bilevel`, pins a plan's decisions that way).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import linopy
import numpy as np

#: a reported gap above the requested one by less than this is still "within gap"
GAP_TOL = 1e-9
#: HiGHS' kSolutionStatusFeasible
SOLUTION_FEASIBLE = 2


class SolveStatus(StrEnum):
    """What a solve achieved, in gridc's own terms."""

    optimal = "optimal"
    feasible_gap = "feasible_gap"  # stopped at a requested gap > 0: optimal within gap
    infeasible = "infeasible"
    unbounded = "unbounded"
    time_limit_feasible = "time_limit_feasible"  # time limit hit with an incumbent
    time_limit_infeasible = "time_limit_infeasible"  # time limit hit without one
    error = "error"

    @property
    def ok(self) -> bool:
        """True when there is a usable solution (exit code 0)."""
        return self in (SolveStatus.optimal, SolveStatus.feasible_gap,
                        SolveStatus.time_limit_feasible)


@dataclass(frozen=True)
class SolveOutcome:
    status: SolveStatus
    objective: float | None  # solver objective (without the model's constant)
    bound: float | None  # dual bound, same units
    gap: float | None  # relative gap (fraction), 0 for a solved LP
    solver_status: str  # HiGHS' model status name, e.g. "kOptimal"
    message: str
    solve_s: float  # wall time of the whole solve call (linopy hand-over included)
    is_mip: bool
    highs_s: float | None = None  # HiGHS' own run time


def map_status(solver_status: str, *, has_solution: bool, is_mip: bool,
               requested_gap: float | None, achieved_gap: float | None) -> SolveStatus:
    """Map a HiGHS model status (its enum name) to a `SolveStatus`.

    * optimal with a solution: `optimal`, or `feasible_gap` when the caller asked
      for a gap > 0 and the MIP stopped with a positive gap;
    * time limit: `time_limit_feasible` with an incumbent, else
      `time_limit_infeasible`;
    * infeasible / unbounded as such; "unbounded or infeasible" (HiGHS' presolve
      cannot tell; the caller re-solves without presolve first) is `infeasible`;
    * anything else — not set, unknown, load/model/solve errors, interrupts,
      iteration and solution limits, an "optimal" without a solution — `error`.
    """
    name = solver_status.split(".")[-1]
    if name == "kOptimal":
        if not has_solution:
            return SolveStatus.error
        if (is_mip and requested_gap is not None and requested_gap > 0
                and achieved_gap is not None and achieved_gap > GAP_TOL):
            return SolveStatus.feasible_gap
        return SolveStatus.optimal
    if name == "kTimeLimit":
        return (SolveStatus.time_limit_feasible if has_solution
                else SolveStatus.time_limit_infeasible)
    if name in ("kInfeasible", "kUnboundedOrInfeasible"):
        return SolveStatus.infeasible
    if name == "kUnbounded":
        return SolveStatus.unbounded
    return SolveStatus.error


@contextlib.contextmanager
def _quiet_stdout(enabled: bool) -> Iterator[None]:
    """Silence HiGHS' banner, which its C++ core prints straight to file descriptor 1."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (embedded interpreters): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@contextlib.contextmanager
def _quiet_linopy() -> Iterator[None]:
    """linopy logs "Optimization potentially failed" for every infeasible model; the
    outcome is reported by gridc itself."""
    logger = logging.getLogger("linopy")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def highs_options(time_limit: float | None, gap: float | None, threads: int | None,
                  seed: int | None, verbose: bool) -> dict[str, Any]:
    opts: dict[str, Any] = {"output_flag": bool(verbose), "log_to_console": bool(verbose)}
    if time_limit is not None:
        opts["time_limit"] = float(time_limit)
    if gap is not None:
        opts["mip_rel_gap"] = float(gap)
    if threads is not None:
        opts["threads"] = int(threads)
    if seed is not None:
        opts["random_seed"] = int(seed)
    return opts


def solve_model(model: linopy.Model, *, time_limit: float | None = None,
                gap: float | None = None, threads: int | None = None,
                seed: int | None = None, verbose: bool = False) -> SolveOutcome:
    """Solve `model` with HiGHS; the solution (if any) is left on the linopy model."""
    is_mip = bool(model.binaries.nvars or model.integers.nvars)
    started = time.perf_counter()
    opts = highs_options(time_limit, gap, threads, seed, verbose)
    try:
        with _quiet_stdout(not verbose), _quiet_linopy():
            model.solve(solver_name="highs", io_api="direct", **opts)
    except Exception as exc:  # a failure inside linopy/HiGHS is an outcome, not a crash
        return SolveOutcome(SolveStatus.error, None, None, None, "exception",
                            f"{type(exc).__name__}: {exc}", time.perf_counter() - started,
                            is_mip)
    h = model.solver_model
    if h is None or not hasattr(h, "getModelStatus"):
        return SolveOutcome(SolveStatus.error, None, None, None, "no solver model",
                            "HiGHS did not return a model", time.perf_counter() - started,
                            is_mip)
    return _outcome(h, started=started, is_mip=is_mip, gap=gap, verbose=verbose)


def _outcome(h: Any, *, started: float, is_mip: bool, gap: float | None,
             verbose: bool) -> SolveOutcome:
    """Read the outcome of a finished `Highs.run()` (see `map_status`)."""
    status = h.getModelStatus()
    if status.name == "kUnboundedOrInfeasible":
        # presolve could not tell which: ask the simplex without presolve
        h.setOptionValue("presolve", "off")
        with _quiet_stdout(not verbose):
            h.run()
        status = h.getModelStatus()
    info = h.getInfo()
    has_solution = int(info.primal_solution_status) == SOLUTION_FEASIBLE
    achieved = float(info.mip_gap) if is_mip else (0.0 if has_solution else math.inf)
    mapped = map_status(status.name, has_solution=has_solution, is_mip=is_mip,
                        requested_gap=gap, achieved_gap=achieved)
    objective = float(info.objective_function_value) if has_solution else None
    if mapped in (SolveStatus.error, SolveStatus.infeasible, SolveStatus.unbounded):
        bound = None
    elif is_mip:
        bound = _finite(float(info.mip_dual_bound))
    else:
        bound = objective if mapped is SolveStatus.optimal else None
    return SolveOutcome(
        status=mapped, objective=objective, bound=bound,
        gap=_finite(achieved) if has_solution else None,
        solver_status=status.name, message=h.modelStatusToString(status),
        solve_s=time.perf_counter() - started, is_mip=is_mip, highs_s=float(h.getRunTime()))


class BoundsResolver:
    """A linopy model passed to HiGHS once, then re-solved with changed column bounds.

    Why: the bi-level lower level solves the same scenario MILP for every plan the
    upper level proposes; only the bounds of a few decision columns change. Building
    the model (linopy compile + hand-over) costs more than many of the solves, so it
    is done once per worker process and `solve` only calls `changeColsBounds`.

    Every `solve` starts from a cleared solver state (`clearSolver`): the outcome
    depends on the model, the options and the bounds alone, never on what this
    object solved before. That is what lets any worker evaluate any plan and still
    reproduce the serial run exactly (HiGHS is deterministic for a fixed thread
    count; `threads` defaults to 1 here).
    """

    def __init__(self, model: linopy.Model, *, time_limit: float | None = None,
                 gap: float | None = None, threads: int | None = 1,
                 seed: int | None = None):
        self.is_mip = bool(model.binaries.nvars or model.integers.nvars)
        self.gap = gap
        model.constraints.sanitize_zeros()  # as linopy's Model.solve does
        model.constraints.sanitize_infinities()
        with _quiet_stdout(True):
            self._h = model.to_highspy()
        for key, value in highs_options(time_limit, gap, threads, seed, False).items():
            self._h.setOptionValue(key, value)
        vlabels = np.asarray(model.matrices.vlabels, dtype=np.int64)
        self._column = np.full(int(vlabels.max()) + 1 if vlabels.size else 0, -1,
                               dtype=np.int64)
        self._column[vlabels] = np.arange(vlabels.size)
        self.ncols = int(vlabels.size)

    def columns(self, labels: np.ndarray) -> np.ndarray:
        """HiGHS column indices of linopy variable labels (all must be in the model)."""
        flat = np.asarray(labels, dtype=np.int64).ravel()
        if flat.size and (flat.min() < 0 or flat.max() >= self._column.size):
            raise KeyError("variable label not in the model")
        cols = self._column[flat]
        if np.any(cols < 0):
            raise KeyError("variable label not in the model")
        return cols

    def solve(self, cols: np.ndarray, lower: np.ndarray,
              upper: np.ndarray) -> tuple[SolveOutcome, np.ndarray | None]:
        """Set the bounds of `cols`, solve from scratch; the outcome and the column
        values (None without a solution)."""
        started = time.perf_counter()
        h = self._h
        idx = np.asarray(cols, dtype=np.int32)
        h.changeColsBounds(idx.size, idx, np.asarray(lower, dtype=float),
                           np.asarray(upper, dtype=float))
        h.clearSolver()
        h.setOptionValue("presolve", "choose")  # `_outcome` may have switched it off
        try:
            h.run()
        except Exception as exc:  # a failure inside HiGHS is an outcome, not a crash
            return SolveOutcome(SolveStatus.error, None, None, None, "exception",
                                f"{type(exc).__name__}: {exc}",
                                time.perf_counter() - started, self.is_mip), None
        out = _outcome(h, started=started, is_mip=self.is_mip, gap=self.gap, verbose=False)
        values = np.asarray(h.getSolution().col_value) if out.objective is not None else None
        return out, values
