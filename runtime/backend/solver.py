"""The one place that runs a solver: linopy → HiGHS (highspy), in memory.

`solve_model` hands the linopy model to HiGHS in memory (no LP file round trip),
passes the time limit, relative MIP gap, thread count and random seed, and then
reads the outcome from the highspy object itself (`model.solver_model`), not from
linopy's summary: linopy reports status "ok" with termination "unknown" for
problems HiGHS refused (e.g. an MIQP), so every condition is mapped explicitly by
`map_status` and anything not recognised is an `error`, never a success.

The hand-over (`pass_model`, `hand_over`) is ours, not linopy's
`Model.solve(io_api="direct")`: that one builds the HiGHS model through highspy's
incremental API (`addVars`, `changeColsIntegrality`, `changeColsCost`, `addRows`),
which costs about twice one `passModel` of the same arrays (0.25 s against
0.13 s CPU for the 1.2 million rows of `bench/operation.py`'s largest size; see
docs/performance.md). We read the matrices linopy would pass (`runtime.backend.matrices`:
the same arrays as `model.matrices` after the same sanitizing, read without
rewriting the model) and pass them in one `passModel` call; running HiGHS and writing
the solution back (`run_handed_over`) still go through linopy's `Highs` solver
object and `Model.assign_result`, so `model.variables[...].solution`, duals,
`model.objective.value` and `model.solver_model` are exactly what `Model.solve`
leaves.

HiGHS reports its objective, dual bound and relative gap in solver units; they
exclude the constant part of the objective (linopy cannot pass constants), which
`runtime.results` adds back.

Progress and Ctrl-C: given a `SolveControl` (`runtime.backend.control`), a solve
subscribes HiGHS' callbacks (`runtime.backend.watch`): progress events while it runs, and
a stop request makes HiGHS return its incumbent as `interrupted` (kept, unlike linopy,
which drops an aborted run's solution); `run_handed_over` waits for HiGHS in steps of
0.1 s so that a stop acts within about a second even when HiGHS is slow to look.

`BoundsResolver` is the second entry point: a model handed to HiGHS once and then
re-solved many times with changed column bounds (the bi-level method's lower level,
`gridc.runtime.strategies.bilevel`, pins a plan's decisions that way).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import highspy
import linopy
import numpy as np
from scipy.sparse import triu

from gridc.runtime.backend.control import SolveControl
from gridc.runtime.backend.matrices import ModelMatrices, model_matrices
from gridc.runtime.backend.watch import Seen, incumbent_result, watch

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
    limit_feasible = "limit_feasible"  # a node or iteration limit hit with an incumbent
    limit_infeasible = "limit_infeasible"  # ... without one
    interrupted = "interrupted"  # stopped by the user (Ctrl-C) with an incumbent
    interrupted_infeasible = "interrupted_infeasible"  # ... without one
    heuristic = "heuristic"  # a feasible point from a heuristic: nothing proved
    error = "error"

    @property
    def ok(self) -> bool:
        """True when there is a usable solution (it is written; exit code 0 unless
        interrupted)."""
        return self in (SolveStatus.optimal, SolveStatus.feasible_gap,
                        SolveStatus.time_limit_feasible, SolveStatus.limit_feasible,
                        SolveStatus.interrupted, SolveStatus.heuristic)

    @property
    def proved(self) -> bool:
        """True when the solve proved its gap (optimal, or within the requested gap)."""
        return self in (SolveStatus.optimal, SolveStatus.feasible_gap)


#: why a solve stopped before proving its gap, by HiGHS model status
STOPPED_BY = {"kTimeLimit": "time limit", "kSolutionLimit": "node limit",
              "kIterationLimit": "iteration limit", "kInterrupt": "interrupt"}


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
    stopped_by: str | None = None  # "time limit", "node limit", "interrupt", ... (STOPPED_BY)


def map_status(solver_status: str, *, has_solution: bool, is_mip: bool,
               requested_gap: float | None, achieved_gap: float | None) -> SolveStatus:
    """Map a HiGHS model status (its enum name) to a `SolveStatus`.

    * optimal with a solution: `optimal`, or `feasible_gap` when the caller asked
      for a gap > 0 and the MIP stopped with a positive gap;
    * time limit: `time_limit_feasible` with an incumbent, else
      `time_limit_infeasible`; a node limit (`mip_max_nodes`, HiGHS' "solution limit")
      or an iteration limit likewise `limit_feasible` / `limit_infeasible`;
    * an interrupt (Ctrl-C through the interrupt callbacks): `interrupted` with an
      incumbent, else `interrupted_infeasible`;
    * infeasible / unbounded as such; "unbounded or infeasible" (HiGHS' presolve
      cannot tell; the caller re-solves without presolve first) is `infeasible`;
    * anything else — not set, unknown, load/model/solve errors, objective bound or
      target, memory limit, an "optimal" without a solution — `error`.
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
    if name in ("kSolutionLimit", "kIterationLimit"):
        return SolveStatus.limit_feasible if has_solution else SolveStatus.limit_infeasible
    if name == "kInterrupt":
        return SolveStatus.interrupted if has_solution else SolveStatus.interrupted_infeasible
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


def console_log(verbose: bool, control: SolveControl | None) -> bool:
    """Whether HiGHS prints its log to the console: asked for, and no display takes it."""
    return verbose and (control is None or control.progress is None)


def highs_options(time_limit: float | None, gap: float | None, threads: int | None,
                  seed: int | None, verbose: bool, *, node_limit: int | None = None,
                  control: SolveControl | None = None) -> dict[str, Any]:
    """HiGHS options of one solve. With a `control`, HiGHS logs (its MIP callbacks only
    fire then), to the console only if asked for and no display shows progress: the log
    then reaches the display through `cbLogging` (verbose), so that the two do not
    overwrite each other."""
    opts: dict[str, Any] = {"output_flag": bool(verbose) or control is not None,
                            "log_to_console": console_log(verbose, control)}
    if node_limit is not None:
        opts["mip_max_nodes"] = int(node_limit)
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
                seed: int | None = None, verbose: bool = False,
                node_limit: int | None = None,
                control: SolveControl | None = None) -> SolveOutcome:
    """Solve `model` with HiGHS; the solution (if any) is left on the linopy model.
    `control`: progress events and the stop flag (`runtime.backend.control`)."""
    is_mip = bool(model.binaries.nvars or model.integers.nvars)
    started = time.perf_counter()
    opts = highs_options(time_limit, gap, threads, seed, verbose, node_limit=node_limit,
                         control=control)
    try:
        with _quiet_stdout(not console_log(verbose, control)), _quiet_linopy():
            handed = hand_over(model, opts)
            left = run_handed_over(model, handed, control, watch(handed.highs, control))
    except Exception as exc:  # a failure inside linopy/HiGHS is an outcome, not a crash
        return SolveOutcome(SolveStatus.error, None, None, None, "exception",
                            f"{type(exc).__name__}: {exc}", time.perf_counter() - started,
                            is_mip)
    if left is not None:  # stopped, HiGHS left to finish in its thread
        return replace(left, solve_s=time.perf_counter() - started)
    h = model.solver_model
    if h is None or not hasattr(h, "getModelStatus"):
        return SolveOutcome(SolveStatus.error, None, None, None, "no solver model",
                            "HiGHS did not return a model", time.perf_counter() - started,
                            is_mip)
    return _outcome(h, started=started, is_mip=is_mip, gap=gap, verbose=verbose)


#: HiGHS options of a scenario MIP with the plan fixed (the out-of-sample evaluation's
#: events, `runtime.backend.split.solve_subproblem`, and the decomposition's incumbent
#: evaluation, `twostage.BlockSolver.fixed_mip`): the RENS and RINS sub-MIP heuristics
#: off. These MIPs close at or near the root; on the resilience case's hardest events
#: the sub-MIPs cost more than they find (method1's plan, T053 and T025: 15.9 and 16.6 s
#: CPU with HiGHS' defaults, 8.1 and 4.6 s without them; seven other events within
#: ±0.5 s; docs/performance.md, "Out-of-sample evaluation"). Probing off halved some
#: events and doubled others, so it stays on. Only the path to the gap changes: the
#: gap proved, and so the status, is the same.
FIXED_PLAN_MIP: dict[str, Any] = {"mip_heuristic_run_rens": False,
                                  "mip_heuristic_run_rins": False}

#: linopy's variable types → HiGHS integrality (binaries are integers in [0, 1])
_INTEGRALITY = {"C": int(highspy.HighsVarType.kContinuous),
                "B": int(highspy.HighsVarType.kInteger),
                "I": int(highspy.HighsVarType.kInteger),
                "S": int(highspy.HighsVarType.kSemiContinuous)}


def pass_model(model: linopy.Model, options: dict[str, Any] | None = None, *,
               offset: float = 0.0) -> tuple[Any, ModelMatrices]:
    """A fresh `highspy.Highs` holding `model`, built with ONE `passModel` call.

    Why not linopy's builder: see the module docstring (its incremental calls cost
    about twice this one). What is passed is linopy's own view of the model
    (`runtime.backend.matrices`: columns in `vlabels` order, rows in `clabels` order, as
    `model.matrices` after the sanitizing `Model.solve` does first: zero
    coefficients dropped, rows `<= inf` / `>= -inf` left out): the same LP as
    linopy's `io_api="direct"` would build. `offset` is the objective's constant
    (linopy cannot hold one); HiGHS then reports and measures its gap on the whole
    objective. A quadratic objective goes in with `passHessian`, as in linopy.
    Returns the Highs object (options set, not run) and the matrices it was built
    from (for MIP starts by label, see `runtime.backend.warmstart`)."""
    if model.variables.sos or model.indicator_constraints:
        # HiGHS has neither; gridc's compiler never emits them (big-M rows instead)
        raise ValueError("SOS and indicator constraints are not supported by HiGHS")
    mat = model_matrices(model)
    ncol = len(mat.vlabels)
    if mat.A is None:  # no constraint at all: an empty row-wise matrix
        nrow, start = 0, np.zeros(1, dtype=np.int32)
        index, value = np.zeros(0, dtype=np.int32), np.zeros(0)
        lower = upper = np.zeros(0)
    else:
        # linopy stacks its blocks row-wise already; HiGHS' own transpose in passModel
        # costs what scipy's tocsc plus a column-wise passModel do (measured), so no copy
        a = mat.A.tocsr()
        nrow = a.shape[0]
        start = a.indptr.astype(np.int32, copy=False)
        index = a.indices.astype(np.int32, copy=False)
        value = a.data.astype(float, copy=False)
        b = np.asarray(mat.b, dtype=float)
        code = np.ascontiguousarray(mat.sense, dtype="U1").view(np.uint32)  # fast compares
        lower = np.where(code != ord("<"), b, -np.inf)
        upper = np.where(code != ord(">"), b, np.inf)
    # integrality always has num_col entries: HiGHS reads that many from the pointer
    integrality = np.zeros(ncol, dtype=np.int32)
    whole = mat.vtypes != "C"
    if whole.any():
        integrality[whole] = [_INTEGRALITY[t] for t in mat.vtypes[whole]]
    sense = (highspy.ObjSense.kMaximize if model.objective.sense == "max"
             else highspy.ObjSense.kMinimize)
    h = highspy.Highs()
    for key, val in (options or {}).items():  # before passModel: output_flag for its log
        h.setOptionValue(key, val)
    status = h.passModel(ncol, nrow, int(value.size), int(highspy.MatrixFormat.kRowwise),
                         int(sense), float(offset), np.asarray(mat.c, dtype=float),
                         np.asarray(mat.lb, dtype=float), np.asarray(mat.ub, dtype=float),
                         lower, upper, start, index, value, integrality)
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (passModel returned an error)")
    q = mat.Q
    if q is not None and q.nnz:  # as linopy: the upper triangle row-wise (= lower col-wise)
        tri = triu(q).tocsr()
        status = h.passHessian(ncol, int(tri.nnz), int(highspy.HessianFormat.kTriangular),
                               tri.indptr.astype(np.int32), tri.indices.astype(np.int32),
                               tri.data.astype(float))
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS refused the quadratic objective")
    return h, mat


@dataclass
class HandOver:
    """A model handed to HiGHS (`hand_over`): linopy's solver object around the Highs
    object, and the matrices it was built from (column order = `matrices.vlabels`)."""

    solver: linopy.solvers.Highs
    matrices: ModelMatrices

    @property
    def highs(self) -> Any:
        return self.solver.solver_model


def hand_over(model: linopy.Model, options: dict[str, Any] | None = None, *,
              offset: float = 0.0) -> HandOver:
    """`pass_model`, wrapped in linopy's own `Highs` solver object (not yet run) so
    that `run_handed_over` can let linopy read the solution back by label.

    Any previous solver of `model` is released first (as `Model.solve` does: two
    copies of a million-row model are not held at once) and its solution reset, so a
    failed solve never leaves a stale solution behind."""
    model.solver = None
    model.reset_solution()
    h, mat = pass_model(model, options, offset=offset)
    solver = linopy.solvers.Highs(model=model, io_api="direct", options=dict(options or {}))
    solver.solver_model = h
    solver.sense = model.objective.sense
    solver._cache_model_sizes(model)  # label counts; then our column / row order:
    solver._vlabels, solver._clabels = mat.vlabels, mat.clabels  # solution by label
    return HandOver(solver, mat)


def run_handed_over(model: linopy.Model, handed: HandOver,
                    control: SolveControl | None = None,
                    seen: Seen | None = None) -> SolveOutcome | None:
    """Run HiGHS on a `hand_over` and write the result onto `model` exactly as
    `Model.solve` does: linopy's `Highs` maps the solution (and the duals of an LP)
    from columns / rows back to labels, `Model.assign_result` sets the variables'
    `solution`, the constraints' `dual`, `model.objective.value`, `model.status` and
    `model.solver` (hence `model.solver_model`). The outcome itself is read from the
    Highs object by `_outcome`, never from linopy's status.

    linopy runs HiGHS in a thread of its own (the main thread stays free for Ctrl-C)
    but drops the incumbent of an interrupted solve ("aborted"); here it is kept: an
    interrupted run with a feasible point is written back like any other.

    With a `control` (and `seen`, what `watch` subscribed), the run is waited for in
    steps of 0.1 s: HiGHS does not look at its interrupt callback inside its sub-MIP
    heuristics (measured: 3.9 s without a check on tests/models/mesh30_design.grid), so
    if it has not returned `LEAVE_S` after a stop request, its last incumbent (from the
    improving-solution callback, in the model's own columns) is written back instead and
    the run is left to end in its thread; the outcome of that is returned (None: read it
    from HiGHS as usual)."""
    if control is None or seen is None:
        result = handed.solver.solve()
    else:
        done: list[Any] = []
        thread = threading.Thread(target=lambda: done.append(_solve_caught(handed)),
                                  name="gridc-highs", daemon=True)
        asked: float | None = None
        with control.running(), _left_if_aborted(thread):
            thread.start()
            while thread.is_alive():
                thread.join(0.1)
                if control.stop_requested and thread.is_alive():
                    asked = asked or time.perf_counter()
                    if time.perf_counter() - asked >= LEAVE_S and seen.x is not None:
                        control.should_stop()  # acted on: no hard stop (`interruptible`)
                        LEFT_RUNNING.append(thread)
                        return _left_behind(model, handed, seen)
        if isinstance(done[0], BaseException):
            raise done[0]
        result = done[0]
    h = handed.highs
    if (not result.status.is_ok and h.getModelStatus().name == "kInterrupt"
            and int(h.getInfo().primal_solution_status) == SOLUTION_FEASIBLE):
        result = incumbent_result(handed.solver, np.asarray(h.getSolution().col_value),
                                  float(h.getObjectiveValue()), like=result)
    model.assign_result(result, solver=handed.solver)
    return None


#: after a stop request, the seconds HiGHS may take to return before its last incumbent
#: is used without it (see `run_handed_over`)
LEAVE_S = 0.5
#: HiGHS runs left to end in their threads after a stop request
LEFT_RUNNING: list[threading.Thread] = []


def left_running() -> bool:
    """Whether a HiGHS run left behind by a stop request is still ending."""
    return any(t.is_alive() for t in LEFT_RUNNING)


@atexit.register
def _wait_for_left_runs(timeout: float = 120.0) -> None:
    """At interpreter exit, let left runs end first (they stop at HiGHS' next interrupt
    check): the C++ runtime aborts the process ("terminate called") when it is torn
    down under a running HiGHS. The command line does not wait: `gridc.cli.main`."""
    deadline = time.perf_counter() + timeout
    for thread in LEFT_RUNNING:
        thread.join(max(0.0, deadline - time.perf_counter()))


@contextlib.contextmanager
def _left_if_aborted(thread: threading.Thread) -> Iterator[None]:
    """A second Ctrl-C (KeyboardInterrupt) leaves the run to end in its thread."""
    try:
        yield
    except BaseException:
        if thread.is_alive():
            LEFT_RUNNING.append(thread)
        raise


def _solve_caught(handed: HandOver) -> Any:
    try:
        return handed.solver.solve()
    except BaseException as exc:  # handed back to the waiting thread
        return exc


def _left_behind(model: linopy.Model, handed: HandOver, seen: Seen) -> SolveOutcome:
    """The outcome of a run left to finish on its own after a stop request: its last
    incumbent written onto `model` (no duals, no solver: `model.solver_model` is None,
    nothing may touch the running Highs object), status `interrupted`."""
    assert seen.x is not None and seen.objective is not None
    model.assign_result(incumbent_result(handed.solver, seen.x, seen.objective))
    return SolveOutcome(SolveStatus.interrupted, seen.objective, seen.bound, seen.gap,
                        "kInterrupt", f"interrupted; HiGHS did not return within {LEAVE_S:g} s "
                        "and was left to stop on its own", seen.elapsed(), True, None,
                        "interrupt")


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
        solve_s=time.perf_counter() - started, is_mip=is_mip, highs_s=float(h.getRunTime()),
        stopped_by=None if mapped.proved else STOPPED_BY.get(status.name))


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

    Ctrl-C: in the main thread (a serial search) HiGHS runs in a thread of its own, so
    that KeyboardInterrupt arrives at once; the run is then stopped through HiGHS'
    interrupt callbacks and KeyboardInterrupt raised again once it has returned (the
    search keeps its best plan, `runtime.strategies.pso.run_pso`).
    """

    def __init__(self, model: linopy.Model, *, time_limit: float | None = None,
                 gap: float | None = None, threads: int | None = 1,
                 seed: int | None = None):
        self.is_mip = bool(model.binaries.nvars or model.integers.nvars)
        self.gap = gap
        with _quiet_stdout(True):
            self._h, mat = pass_model(model, highs_options(time_limit, gap, threads, seed,
                                                           False))
        vlabels = np.asarray(mat.vlabels, dtype=np.int64)
        self._column = np.full(int(vlabels.max()) + 1 if vlabels.size else 0, -1,
                               dtype=np.int64)
        self._column[vlabels] = np.arange(vlabels.size)
        self.ncols = int(vlabels.size)
        self._stop = threading.Event()

        def interrupt(event: Any) -> None:
            if self._stop.is_set():
                event.interrupt()

        for hook in (self._h.cbSimplexInterrupt, self._h.cbIpmInterrupt,
                     self._h.cbMipInterrupt):
            hook.subscribe(interrupt)

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
            self._run()
        except Exception as exc:  # a failure inside HiGHS is an outcome, not a crash
            return SolveOutcome(SolveStatus.error, None, None, None, "exception",
                                f"{type(exc).__name__}: {exc}",
                                time.perf_counter() - started, self.is_mip), None
        out = _outcome(h, started=started, is_mip=self.is_mip, gap=self.gap, verbose=False)
        values = np.asarray(h.getSolution().col_value) if out.objective is not None else None
        return out, values

    def _run(self) -> None:
        """`run()`, in a thread when called from the main thread (see the class docstring)."""
        if threading.current_thread() is not threading.main_thread():
            self._h.run()
            return
        failed: list[BaseException] = []

        def target() -> None:
            try:
                self._h.run()
            except BaseException as exc:  # handed back to the caller below
                failed.append(exc)

        thread = threading.Thread(target=target, name="gridc-highs", daemon=True)
        thread.start()
        try:
            while thread.is_alive():
                thread.join(0.1)
        except KeyboardInterrupt:
            self._stop.set()
            while thread.is_alive():
                thread.join(0.1)
            self._stop.clear()
            raise
        if failed:
            raise failed[0]
