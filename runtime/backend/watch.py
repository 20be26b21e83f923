"""The HiGHS callbacks that serve a `SolveControl`: stop on request, report progress.

`watch(h, control, offset)` subscribes, on a `highspy.Highs` about to run:

* the interrupt callbacks of the simplex, the interior point method and the MIP: once
  a stop is requested they tell HiGHS to stop; it returns "interrupted" with its
  incumbent (HiGHS checks them often, but not inside its sub-MIP heuristics);
* the MIP's improving-solution and logging callbacks (they fire only with
  `output_flag` on, see `solver.highs_options`): incumbent, bound, gap and nodes go
  to the control's progress callable, and the last incumbent is kept (`Seen`) so that
  `solver.run_handed_over` can return it if HiGHS is slow to stop;
* with `control.solver_log`, HiGHS' own log, line by line, as "log" events.

The callbacks run in HiGHS' thread; they only read numbers and set flags.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridc.runtime.backend.control import SolveControl


@dataclass
class Seen:
    """The last incumbent and bound the MIP callbacks reported, in HiGHS' own units
    (objective constant included when it was passed) and the model's column order."""

    x: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def watch(h: Any, control: SolveControl | None, offset: float = 0.0) -> Seen | None:
    """Subscribe the callbacks of the module docstring (None without a control).
    `offset`: the objective constant HiGHS was given (`solver.pass_model`), taken off
    for the control, which expects solver values without it (as `SolveOutcome`'s)."""
    if control is None:
        return None
    seen = Seen()

    def interrupt(event: Any) -> None:
        if control.should_stop():
            event.interrupt()

    def bounds(event: Any) -> None:
        d = event.data_out
        seen.bound, seen.gap = _finite(float(d.mip_dual_bound)), _finite(float(d.mip_gap))
        control.solver_progress(float(d.mip_primal_bound) - offset,
                                float(d.mip_dual_bound) - offset, float(d.mip_gap),
                                int(d.mip_node_count))

    def improved(event: Any) -> None:
        d = event.data_out
        seen.x = np.array(d.mip_solution, dtype=float)
        seen.objective = float(d.objective_function_value)
        bounds(event)

    for hook in (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt):
        hook.subscribe(interrupt)
    h.cbMipImprovingSolution.subscribe(improved)
    h.cbMipLogging.subscribe(bounds)
    if control.solver_log:
        h.cbLogging.subscribe(lambda event: control.emit("log", message=str(event.message)))
    return seen


def incumbent_result(solver: Any, values: np.ndarray, objective: float,
                     like: Any = None) -> Any:
    """linopy's `Result` of an interrupted run whose incumbent is `values` (HiGHS' column
    order) with `objective`: the solution by label, as linopy maps a finished run's
    (linopy itself drops an interrupted run's: "aborted"). `like`: linopy's own result of
    the run, whose solver object and report are kept (None: a run left behind)."""
    from linopy.constants import Result, Solution, SolverStatus, Status, TerminationCondition
    from linopy.solvers import _solution_from_labels, maybe_adjust_objective_sign

    primal = _solution_from_labels(np.asarray(values, dtype=float), solver._vlabels,
                                   solver._n_vars)
    solution = maybe_adjust_objective_sign(
        Solution(primal, np.array([], dtype=float), float(objective)), "direct", solver.sense)
    return Result(Status(SolverStatus.ok, TerminationCondition.user_interrupt), solution,
                  solver_model=None if like is None else like.solver_model,
                  solver_name="highs" if like is None else like.solver_name,
                  report=None if like is None else like.report)
