"""A compiled extensive form split into a first stage and one block per scenario.

    split = split_scenarios(model)          # the extensive form's own matrix
    solver = BlockSolver(split.blocks[s])   # on a worker, once per scenario
    solver.fixed_lp(x)                      # value and subgradient of the LP recourse
    solver.fixed_mip(x, gap=...)            # the scenario's exact cost under plan x
    solver.lagrangian(pi, gap=...)          # a strengthened (Lagrangian) cut

Why the split is read from the matrix and not compiled per scenario: the
extensive form of the resilience case compiles in ~20 s at 120 scenarios, one
scenario alone in 6-15 s (the fleet-flow blocks are built with xarray arithmetic
whatever the scenario count, measured 2026-12-03), so 120 separate compiles cost
ten times more than one. The split is exact: the first-stage columns are the
variables without a `scenario` dimension (the investment decisions), every other
column belongs to the scenario of its coordinate, every row touches the columns of
one scenario at most (checked: a model that couples scenarios is refused), and
the extensive form's objective is the sum of the first stage's costs and each
block's costs (weights and present-value factors are already in the
coefficients). A block carries the master rows (rows over first-stage columns
only, e.g. count limits) too, so that its Lagrangian subproblem keeps them. The cut
itself (which column and row belongs to which scenario) is
`runtime.backend.split.cut_scenarios`, the one splitter, which the out-of-sample
evaluation uses with the plan pinned; `fixed_mip` solves with the same fixed-plan MIP
options as the evaluation's events (`solver.FIXED_PLAN_MIP`).

`Master` is the Benders master of `runtime.strategies.decomposition`: the first stage
with its rows and costs, one θ per scenario, the cuts and the no-good rows.

`BlockSolver` passes a block to HiGHS once and re-solves it in three modes by
changing bounds, integrality and costs of the first-stage columns. Every solve
starts from a cleared solver state, optionally from a basis given by the caller:
the answer depends on the block, the arguments and the options only, never on
what the object solved before, so any worker reproduces the serial run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import highspy
import linopy
import numpy as np
import scipy.sparse
import xarray as xr

from gridc.runtime.backend.solver import FIXED_PLAN_MIP, SOLUTION_FEASIBLE, _finite
from gridc.runtime.backend.split import NotTwoStage, cut_scenarios

__all__ = ["Block", "BlockOutcome", "BlockSolver", "Master", "NotTwoStage", "TwoStage",
           "rounded", "split_scenarios", "write_solution"]

#: HiGHS' defaults of the options `FIXED_PLAN_MIP` changes (restored for other modes)
_HIGHS_DEFAULT = {"mip_heuristic_run_rens": True, "mip_heuristic_run_rins": True}
#: HiGHS' default mip_abs_gap (restored when a solve gives none)
_ABS_GAP_DEFAULT = 1e-6
#: HiGHS' mip_feasibility_tolerance-scale rounding of integer first-stage values
INT_TOL = 1e-6
#: a hot-started block LP (`BlockSolver.fixed_lp` with a basis) gets this many dual
#: simplex iterations per row of its block (at least `HOT_MIN_ITERATIONS`) before the
#: interior point takes over: on method1's blocks (11,705 rows) a hot start needed
#: 0-1,800 iterations between neighbouring plans of the LP phase and 3,300-4,700 after
#: the first jump (nothing built → the first LP plan), where interior point is 3-4×
#: faster (docs/performance.md, "Hot-started block LPs")
HOT_ITERATIONS = 0.25
HOT_MIN_ITERATIONS = 500
#: HiGHS' default simplex_iteration_limit (restored after a hot start)
_ITERATIONS_DEFAULT = 2147483647


@dataclass(frozen=True)
class Block:
    """One scenario's problem over [first stage | its own columns] (picklable)."""

    key: str  # unique per (extensive model, scenario): the worker cache's key
    name: str  # the scenario
    n_first: int
    a: scipy.sparse.csr_array  # rows × (n_first + own columns)
    row_lo: np.ndarray
    row_up: np.ndarray
    c: np.ndarray  # 0 on the first stage: its costs are the master's
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray  # bool per column


@dataclass(frozen=True)
class TwoStage:
    """The extensive form as a master (first stage) and scenario blocks."""

    first: np.ndarray  # extensive-form column of each first-stage column
    c: np.ndarray  # first-stage costs
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    master_a: scipy.sparse.csr_array  # master rows × first stage
    master_lo: np.ndarray
    master_up: np.ndarray
    blocks: tuple[Block, ...]
    own: tuple[np.ndarray, ...]  # extensive-form columns of each block's own columns
    vlabels: np.ndarray  # linopy label of each extensive-form column
    first_labels: dict[str, xr.DataArray]  # first-stage variable -> its column indices

    @property
    def ncols(self) -> int:
        return int(self.vlabels.size)


def split_scenarios(model: linopy.Model, dim: str, names: list[str],
                    key: str) -> TwoStage:
    """The extensive form `model` split along `dim` (see the module docstring); the
    cut itself (which column and row belongs to which scenario, coupling rows
    refused) is `runtime.backend.split.cut_scenarios`, shared with the evaluation."""
    cut = cut_scenarios(model, dim)
    if cut.a.shape[0] == 0:
        raise NotTwoStage("the model has no rows")
    scen, row_s, a = cut.col_s, cut.row_s, cut.a
    lo, up, c, lb, ub, integer = cut.lower, cut.upper, cut.c, cut.lb, cut.ub, cut.integer
    first = np.flatnonzero(scen < 0)
    if first.size == 0 or len(names) == 0:
        raise NotTwoStage("no first-stage column")
    master_rows = np.flatnonzero(row_s < 0)
    master_a = a[master_rows][:, first]
    blocks: list[Block] = []
    own: list[np.ndarray] = []
    csc = a.tocsc()
    for s, name in enumerate(names):
        cols = np.flatnonzero(scen == s)
        rows = np.concatenate([master_rows, np.flatnonzero(row_s == s)])
        whole = np.concatenate([first, cols])
        sub = scipy.sparse.csr_array(csc[:, whole][rows])
        block_c = np.concatenate([np.zeros(first.size), c[cols]])
        blocks.append(Block(key=f"{key}:{s}", name=name, n_first=int(first.size), a=sub,
                            row_lo=lo[rows], row_up=up[rows], c=block_c, lb=lb[whole],
                            ub=ub[whole], integer=integer[whole]))
        own.append(cols)
    column_of = cut.column_of()
    vlabels = cut.vlabels
    first_pos = np.full(vlabels.size, -1, dtype=np.int64)
    first_pos[first] = np.arange(first.size)
    first_labels: dict[str, xr.DataArray] = {}
    for name, var in model.variables.items():
        if dim in var.labels.dims:
            continue
        lab = var.labels
        cols = np.where(lab.values >= 0, column_of[np.maximum(lab.values, 0)], -1)
        first_labels[name] = lab.copy(data=np.where(cols >= 0, first_pos[cols], -1))
    return TwoStage(first=first, c=c[first], lb=lb[first], ub=ub[first],
                    integer=integer[first], master_a=master_a,
                    master_lo=lo[master_rows], master_up=up[master_rows],
                    blocks=tuple(blocks), own=tuple(own), vlabels=vlabels,
                    first_labels=first_labels)


def write_solution(model: linopy.Model, split: TwoStage, values: np.ndarray) -> None:
    """Put extensive-form column values on the linopy model, as a solve would."""
    top = int(split.vlabels.max()) + 1
    by_label = np.full(top, np.nan)
    by_label[split.vlabels] = values
    model.status = "ok"
    for _, var in model.variables.items():
        lab = var.labels.values
        data = np.where(lab >= 0, by_label[np.maximum(lab, 0)], np.nan)
        var.solution = var.labels.copy(data=data)


# ---------------------------------------------------------------- one block in HiGHS


def _lp_limit(h: highspy.Highs, seconds: float | None) -> float:
    """The `time_limit` that gives an LP `seconds` of its own on a re-used object: HiGHS
    (1.16) holds an LP to its limit by the object's total run time since it was built,
    a MIP by its own run, so an LP after a 30 s MIP on the same block stopped at once
    under a 20 s limit (docs/performance.md, "Decomposition", fourth session)."""
    return (float(seconds) if seconds else np.inf) + h.getRunTime()


@dataclass(frozen=True)
class BlockOutcome:
    """What one block solve gives back (values in solver units of the block)."""

    status: str  # HiGHS' model status name
    has_solution: bool
    objective: float | None
    bound: float | None  # MIP dual bound (LP: the objective when optimal)
    gap: float | None
    seconds: float
    subgradient: np.ndarray | None = None  # fixed LP: reduced costs of the first stage
    values: np.ndarray | None = None  # the block's own columns (fixed MIP)
    basis: tuple[np.ndarray, np.ndarray] | None = None  # fixed LP: col, row statuses


class BlockSolver:
    """A block passed to HiGHS once, re-solved in the modes of the module docstring."""

    def __init__(self, block: Block, *, threads: int = 1, seed: int | None = None):
        self.block = block
        a = block.a
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", int(threads))
        if seed is not None:
            h.setOptionValue("random_seed", int(seed))
        ncol, nrow = a.shape[1], a.shape[0]
        integrality = block.integer.astype(np.int32)
        h.passModel(ncol, nrow, int(a.nnz), int(highspy.MatrixFormat.kRowwise),
                    int(highspy.ObjSense.kMinimize), 0.0, block.c, block.lb, block.ub,
                    block.row_lo, block.row_up, a.indptr.astype(np.int32),
                    a.indices.astype(np.int32), a.data.astype(float), integrality)
        self._h = h
        self.n1 = block.n_first
        self._first = np.arange(self.n1, dtype=np.int32)
        self._ints = np.flatnonzero(block.integer).astype(np.int32)
        self._phase1: Any = None  # `feasibility_lp`'s elastic copy, built on first use

    # -- modes
    def _fixed_plan_options(self, on: bool) -> None:
        """The fixed-plan MIP options (`solver.FIXED_PLAN_MIP`, shared with the
        out-of-sample evaluation) for `fixed_mip`; HiGHS' defaults for the other MIPs."""
        for key, value in FIXED_PLAN_MIP.items():
            self._h.setOptionValue(key, value if on else _HIGHS_DEFAULT[key])

    def _mode(self, *, integer: bool, fixed: np.ndarray | None,
              costs: np.ndarray | None) -> None:
        h = self._h
        kinds = np.full(self._ints.size, 1 if integer else 0, dtype=np.uint8)
        if self._ints.size:
            h.changeColsIntegrality(self._ints.size, self._ints, kinds)
        lo = self.block.lb[:self.n1] if fixed is None else fixed
        up = self.block.ub[:self.n1] if fixed is None else fixed
        h.changeColsBounds(self.n1, self._first, np.asarray(lo, float), np.asarray(up, float))
        h.changeColsCost(self.n1, self._first,
                         np.zeros(self.n1) if costs is None else np.asarray(costs, float))
        h.clearSolver()

    def _run(self, time_limit: float | None, gap: float | None, is_mip: bool,
             start: np.ndarray | None = None, abs_gap: float | None = None
             ) -> tuple[BlockOutcome, Any]:
        h = self._h
        own = float(time_limit) if time_limit else np.inf
        h.setOptionValue("time_limit", own if is_mip else _lp_limit(h, time_limit))
        h.setOptionValue("mip_rel_gap", float(gap) if gap is not None else 1e-4)
        h.setOptionValue("mip_abs_gap", float(abs_gap) if abs_gap else _ABS_GAP_DEFAULT)
        if start is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(np.asarray(start, float))
            sol.value_valid = True
            h.setSolution(sol)
        began = time.perf_counter()
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        has = int(info.primal_solution_status) == SOLUTION_FEASIBLE
        obj = float(info.objective_function_value) if has else None
        if is_mip:
            bound = _finite(float(info.mip_dual_bound))
            gap_v = _finite(float(info.mip_gap)) if has else None
        else:
            bound = obj if status.name == "kOptimal" else None
            gap_v = 0.0 if bound is not None else None
        out = BlockOutcome(status=status.name, has_solution=has, objective=obj, bound=bound,
                           gap=gap_v, seconds=time.perf_counter() - began)
        return out, h

    def relaxed_lp(self) -> BlockOutcome:
        """LP relaxation with the first stage free in its bounds: a lower bound on the
        block's cost under every plan."""
        self._mode(integer=False, fixed=None, costs=None)
        self._h.setOptionValue("solver", "ipm")
        out, _ = self._run(None, None, False)
        return out

    def fixed_lp(self, x: np.ndarray,
                 basis: tuple[np.ndarray, np.ndarray] | None = None,
                 time_limit: float | None = None) -> BlockOutcome:
        """LP relaxation with the first stage fixed at `x`: its value Q(x) and the
        reduced costs of the first-stage columns, a subgradient of the (convex) LP
        value function: Q_LP(x') ≥ Q_LP(x) + d·(x' − x) for every x'. Stopped by
        `time_limit` it gives no cut (status kTimeLimit).

        Without `basis`: interior point (with crossover: a basis and exact reduced
        costs), 1.4-2.1 s against 2.0-7.5 s for a cold dual simplex on the resilience
        case's blocks (measured 2026-12-03, load 12). With `basis` (this block's basis at
        the driver's previous plan, `cut_rounds.lp_cuts`): the dual simplex from it,
        which skips presolve, limited to `HOT_ITERATIONS` × rows iterations; where the
        plan moved too far for that, the same LP again by interior point (measured on
        method1's 16 rounds, 2026-12-04: 24 s against 42 s for interior point every
        time, docs/performance.md). The basis comes with the task, never from the
        object's own history, so any worker gives the same cut."""
        self._mode(integer=False, fixed=x, costs=None)
        h = self._h
        if basis is not None:
            hb = highspy.HighsBasis()
            hb.col_status = [highspy.HighsBasisStatus(int(v)) for v in basis[0]]
            hb.row_status = [highspy.HighsBasisStatus(int(v)) for v in basis[1]]
            hb.valid = True
            h.setOptionValue("solver", "simplex")
            h.setOptionValue("simplex_iteration_limit",
                             max(HOT_MIN_ITERATIONS, int(HOT_ITERATIONS * self.block.a.shape[0])))
            h.setBasis(hb)
            try:
                out, h = self._run(time_limit, None, False)
            finally:  # later solves on this object are not limited
                h.setOptionValue("simplex_iteration_limit", _ITERATIONS_DEFAULT)
            if self._clean(out):
                return self._with_duals(out)
            # the budget ran out, or anything but a clean optimum (an infeasibility or
            # an unscaled residual seen from a hot start is checked from scratch)
            spent = out.seconds
            h.clearSolver()
            if time_limit:
                time_limit = max(float(time_limit) - spent, 1e-3)
        else:
            spent = 0.0
        h.setOptionValue("solver", "ipm")
        out, h = self._run(time_limit, None, False)
        spent += out.seconds
        if out.status == "kOptimal" and not self._clean(out):
            # an optimum without a feasible primal and dual point (residuals after
            # unscaling): once more by the dual simplex from scratch
            h.clearSolver()
            h.setOptionValue("solver", "simplex")
            out, h = self._run(time_limit, None, False)
            spent += out.seconds
        return self._with_duals(replace(out, seconds=spent))

    def _clean(self, out: BlockOutcome) -> bool:
        """An LP optimum with a feasible primal and dual point (a valid value and cut)."""
        return out.status == "kOptimal" and out.has_solution and \
            int(self._h.getInfo().dual_solution_status) == SOLUTION_FEASIBLE

    def _with_duals(self, out: BlockOutcome) -> BlockOutcome:
        """`out` with the first stage's reduced costs and the final basis (a clean
        optimum; anything else comes back as it is and gives no cut)."""
        if not self._clean(out):
            return out
        h = self._h
        d = np.asarray(h.getSolution().col_dual, dtype=float)[:self.n1]
        hb = h.getBasis()
        kept = (np.array([int(v) for v in hb.col_status], dtype=np.int8),
                np.array([int(v) for v in hb.row_status], dtype=np.int8))
        return replace(out, subgradient=d, basis=kept)

    def feasibility_lp(self, x: np.ndarray) -> BlockOutcome:
        """Phase 1 with the first stage fixed at `x`, for a block whose LP is infeasible
        there: min Σ (s⁺ + s⁻) over lo ≤ A z + s⁺ − s⁻ ≤ up. Its value v(x) ≥ 0 is convex
        in x and 0 exactly where the block is LP-feasible, so with the reduced costs d of
        the first stage, v(x̂) + d·(x − x̂) ≤ 0 holds at every plan the block accepts: the
        L-shaped method's feasibility cut (objective: v, subgradient: d)."""
        if self._phase1 is None:
            b = self.block
            nrow, ncol = b.a.shape
            eye = scipy.sparse.identity(nrow, format="csr")
            a = scipy.sparse.hstack([b.a, eye, -eye], format="csr")
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("threads", 1)
            n = ncol + 2 * nrow
            cost = np.concatenate([np.zeros(ncol), np.ones(2 * nrow)])
            lb = np.concatenate([b.lb, np.zeros(2 * nrow)])
            ub = np.concatenate([b.ub, np.full(2 * nrow, np.inf)])
            h.passModel(n, nrow, int(a.nnz), int(highspy.MatrixFormat.kRowwise),
                        int(highspy.ObjSense.kMinimize), 0.0, cost, lb, ub, b.row_lo,
                        b.row_up, a.indptr.astype(np.int32), a.indices.astype(np.int32),
                        a.data.astype(float), np.zeros(n, dtype=np.int32))
            self._phase1 = h
        h = self._phase1
        fixed = np.asarray(x, float)
        h.changeColsBounds(self.n1, self._first, fixed, fixed)
        h.clearSolver()
        began = time.perf_counter()
        h.run()
        status = h.getModelStatus().name
        if status != "kOptimal":
            return BlockOutcome(status, False, None, None, None, time.perf_counter() - began)
        value = float(h.getInfo().objective_function_value)
        d = np.asarray(h.getSolution().col_dual, dtype=float)[:self.n1]
        return BlockOutcome(status, True, value, value, 0.0, time.perf_counter() - began,
                            subgradient=d)

    def fixed_mip(self, x: np.ndarray, *, gap: float | None, time_limit: float | None,
                  start: np.ndarray | None = None,
                  abs_gap: float | None = None) -> BlockOutcome:
        """The block's MIP with the first stage fixed at `x`: a feasible operation's cost
        (objective), the MIP's bound, and its own columns' values. It stops at `gap`
        (relative) or at `abs_gap` (objective units), whichever holds first."""
        self._mode(integer=True, fixed=x, costs=None)
        self._h.setOptionValue("solver", "choose")
        self._fixed_plan_options(True)
        full = None if start is None else np.concatenate([x, start])
        out, h = self._run(time_limit, gap, bool(self._ints.size), full, abs_gap)
        if not out.has_solution:
            return out
        values = np.asarray(h.getSolution().col_value, dtype=float)[self.n1:]
        return BlockOutcome(out.status, True, out.objective, out.bound, out.gap, out.seconds,
                            values=values)

    def lagrangian(self, pi: np.ndarray, *, gap: float | None,
                   time_limit: float | None) -> BlockOutcome:
        """min over the block's integer points, first stage free in its bounds, of
        cost − π·z: its dual bound L gives the strengthened Benders cut
        Q(x) ≥ L + π·x (Zou, Ahmed & Sun 2019), valid for the MIP recourse."""
        self._mode(integer=True, fixed=None, costs=-np.asarray(pi, float))
        self._h.setOptionValue("solver", "choose")
        self._fixed_plan_options(False)
        out, _ = self._run(time_limit, gap, bool(self._ints.size))
        return out


# ---------------------------------------------------------------- the master (Benders)


class Master:
    """min c·x + Σ θ_s over the first stage's integer points and the cuts (HiGHS)."""

    def __init__(self, split: TwoStage, theta_lb: np.ndarray, constant: float,
                 seed: int | None):
        self.n1, self.ns = split.first.size, len(split.blocks)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        if seed is not None:
            h.setOptionValue("random_seed", int(seed))
        ncol = self.n1 + self.ns
        a = split.master_a
        c = np.concatenate([split.c, np.ones(self.ns)])
        lb = np.concatenate([split.lb, theta_lb])
        ub = np.concatenate([split.ub, np.full(self.ns, np.inf)])
        integ = np.concatenate([split.integer, np.zeros(self.ns, bool)]).astype(np.int32)
        indptr = a.indptr.astype(np.int32)
        h.passModel(ncol, a.shape[0], int(a.nnz), int(highspy.MatrixFormat.kRowwise),
                    int(highspy.ObjSense.kMinimize), float(constant), c, lb, ub,
                    split.master_lo, split.master_up, indptr, a.indices.astype(np.int32),
                    a.data.astype(float), integ)
        self._h = h
        self.cuts: list[list[tuple[float, np.ndarray]]] = [[] for _ in range(self.ns)]
        self.integer = split.integer
        self.lb, self.ub = split.lb, split.ub
        self.aux: list[tuple[int, int, float, float]] = []  # (column, x column, x̂, sign)
        self.excluded = 0
        self.feasibility_cuts = 0

    def add_cut(self, s: int, alpha: float, beta: np.ndarray) -> None:
        """θ_s ≥ alpha + beta·x, i.e. beta·x − θ_s ≤ −alpha."""
        nz = np.flatnonzero(np.abs(beta) > 1e-12)
        idx = np.concatenate([nz, [self.n1 + s]]).astype(np.int32)
        val = np.concatenate([beta[nz], [-1.0]])
        self._h.addRow(-np.inf, -alpha, idx.size, idx, val)
        self.cuts[s].append((alpha, beta))

    def add_feasibility_cut(self, value: float, d: np.ndarray, x: np.ndarray) -> None:
        """v(x̂) + d·(x − x̂) ≤ 0 (`BlockSolver.feasibility_lp`): d·x ≤ d·x̂ − v."""
        nz = np.flatnonzero(np.abs(d) > 1e-12)
        self._h.addRow(-np.inf, float(d @ x) - value, nz.size, nz.astype(np.int32), d[nz])
        self.feasibility_cuts += 1

    def bound_theta(self, theta_lb: np.ndarray) -> None:
        """Raise the θ_s lower bounds (e.g. to the blocks' relaxed LP values)."""
        cols = np.arange(self.n1, self.n1 + self.ns, dtype=np.int32)
        self._h.changeColsBounds(self.ns, cols, np.asarray(theta_lb, float),
                                 np.full(self.ns, np.inf))

    def can_exclude(self) -> bool:
        """No-good cuts need every free first-stage column integer."""
        free = self.ub > self.lb
        return bool(self.integer[free].all())

    def exclude(self, x: np.ndarray) -> None:
        """Cut plan x off: Σ_i |x_i − x̂_i| ≥ 1 over the free columns. A column at a
        bound counts its distance linearly; an interior one through two binaries
        (up: x_i ≥ x̂_i + 1, down: x_i ≤ x̂_i − 1)."""
        h = self._h
        idx: list[int] = []
        val: list[float] = []
        rhs = 1.0
        for i in np.flatnonzero(self.ub > self.lb):
            xi, lo, hi = float(x[i]), float(self.lb[i]), float(self.ub[i])
            if xi <= lo:
                idx.append(int(i))
                val.append(1.0)
                rhs += lo
            elif xi >= hi:
                idx.append(int(i))
                val.append(-1.0)
                rhs -= hi
            else:
                big = hi - lo + 1.0
                for sign in (1.0, -1.0):
                    col = h.getNumCol()
                    h.addVar(0.0, 1.0)
                    h.changeColIntegrality(col, highspy.HighsVarType.kInteger)
                    self.aux.append((col, int(i), xi, sign))
                    # sign·(x_i − x̂_i) ≥ 1 − big·(1 − z)
                    h.addRow(1.0 - big + sign * xi, np.inf, 2,
                             np.array([i, col], dtype=np.int32),
                             np.array([sign, -big], dtype=float))
                    idx.append(col)
                    val.append(1.0)
        h.addRow(rhs, np.inf, len(idx), np.array(idx, dtype=np.int32),
                 np.array(val, dtype=float))
        self.excluded += 1

    def start(self, x: np.ndarray, theta_lb: np.ndarray) -> np.ndarray:
        """A MIP start at plan x: θ the smallest the cuts allow, no-good binaries set."""
        theta = theta_lb.copy()
        for s, cuts in enumerate(self.cuts):
            for alpha, beta in cuts:
                theta[s] = max(theta[s], alpha + float(beta @ x))
        aux = [float(sign * (x[i] - xi) >= 1.0) for _, i, xi, sign in self.aux]
        return np.concatenate([x, theta, np.asarray(aux, dtype=float)])

    def solve_relaxed(self, time_limit: float | None
                      ) -> tuple[np.ndarray, np.ndarray, float] | None:
        """The master's LP relaxation (every column continuous): (x, θ, value with the
        constant), None when it has no optimum. Its value is a lower bound as the MIP's
        is; its x is where the LP phase of `decompose` cuts (McDaniel & Devine 1977)."""
        h = self._h
        n = h.getNumCol()
        cols = np.arange(n, dtype=np.int32)
        kinds = np.zeros(n, dtype=np.uint8)
        h.changeColsIntegrality(n, cols, kinds)
        h.setOptionValue("time_limit", _lp_limit(h, time_limit))
        h.clearSolver()
        h.run()
        status = h.getModelStatus().name
        value = float(h.getInfo().objective_function_value)
        v = np.asarray(h.getSolution().col_value, dtype=float)
        kinds[:self.n1] = self.integer
        kinds[[col for col, _, _, _ in self.aux]] = 1
        h.changeColsIntegrality(n, cols, kinds)
        if status != "kOptimal":
            return None
        return v[:self.n1], v[self.n1:self.n1 + self.ns], value

    def solve(self, gap: float, time_limit: float | None,
              start: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(x, θ, dual bound with the constant); None when no plan is left."""
        h = self._h
        h.setOptionValue("mip_rel_gap", float(gap))
        h.setOptionValue("time_limit", float(time_limit) if time_limit else np.inf)
        h.clearSolver()
        if start is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(start)
            sol.value_valid = True
            h.setSolution(sol)
        h.run()
        status = h.getModelStatus().name
        info = h.getInfo()
        if status == "kInfeasible":  # every plan excluded
            return None
        if int(info.primal_solution_status) != 2:
            raise RuntimeError(f"the master problem has no solution ({status})")
        v = np.asarray(h.getSolution().col_value, dtype=float)
        x = rounded(v[:self.n1], self.integer)
        return x, v[self.n1:self.n1 + self.ns], float(info.mip_dual_bound)


def rounded(x: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """First-stage values with the integer columns rounded (the master's tolerance)."""
    out = np.asarray(x, dtype=float).copy()
    out[integer] = np.round(out[integer])
    return out
