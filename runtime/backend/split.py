"""One model over many scenarios, cut into one small HiGHS problem per scenario.

Why: with its first-stage columns (the plan: columns without a scenario) fixed, an
extensive-form model falls apart into independent scenario blocks. Compiling the model
once over all scenarios and cutting its matrix into blocks is far cheaper than compiling
one model per scenario: on the resilience case one compile costs 13-20 s whatever the
number of scenarios up to about 20 (xarray alignment overhead, measured 2026-12-03 at
load 4-5), and 24 s for all 120 events of its history.

This is the one splitter of the code base, used two ways:

* `cut_scenarios` (both users): reads the matrices HiGHS would be given
  (`runtime.backend.matrices`), assigns each column the scenario of its variable (−1:
  first stage, a variable without the scenario dimension), each row the scenario of its
  columns (a row that names two scenarios is refused: `NotTwoStage`), and returns the
  arrays (`ScenarioCut`). `runtime.backend.twostage` builds the Benders blocks
  [first stage | own columns] on it.
* `pin_scenarios` (the out-of-sample evaluation, `runtime.evaluate`): the first stage
  pinned at a plan. The rows on first-stage columns alone are checked against the plan
  (a plan that breaks one is refused: `PlanRowError`), the pinned columns are
  substituted into the bounds of the other rows and into each scenario's objective
  constant, and the reordered matrix is cut into contiguous `SubProblem`s: plain arrays,
  small, picklable, solved anywhere (a Dask worker needs no model, no compile) and
  always to the same answer for the same options.

`solve_subproblem` passes one `SubProblem` to HiGHS in one `passModel` call, with the
options of a fixed-plan MIP (`solver.FIXED_PLAN_MIP`), and maps its outcome as every
other solve (`solver._outcome`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import linopy
import numpy as np
import scipy.sparse
import xarray as xr

from gridc.runtime.backend.matrices import model_matrices
from gridc.runtime.backend.solver import (
    _INTEGRALITY,
    FIXED_PLAN_MIP,
    SolveOutcome,
    SolveStatus,
    _outcome,
    _quiet_stdout,
    highs_options,
)

#: a row on pinned columns alone may miss its bounds by this much (absolute, scaled by
#: the row's size) before the plan is refused
ROW_TOL = 1e-6


class NotTwoStage(ValueError):
    """The model couples scenarios in a row (or has no scenario dimension)."""


class PlanRowError(ValueError):
    """The pinned plan breaks a row on first-stage columns alone (a count limit, ...);
    `label` is linopy's label of that row."""

    def __init__(self, message: str, label: int):
        super().__init__(message)
        self.label = label


@dataclass(frozen=True)
class Linear:
    """A linear read-out per scenario: terms (variable label, coefficient, scenario
    index) plus a constant per scenario. Labels −1 (absent terms) are ignored."""

    labels: np.ndarray
    coeffs: np.ndarray
    scenario: np.ndarray
    const: np.ndarray  # [scenario]


@dataclass(frozen=True)
class ScenarioCut:
    """The matrix HiGHS would be given, with the scenario of every column and row
    (−1: first stage). Rows and columns in `model_matrices` order."""

    vlabels: np.ndarray  # linopy label of each column
    clabels: np.ndarray  # linopy label of each row
    col_s: np.ndarray  # scenario position of each column
    row_s: np.ndarray  # scenario position of each row (−1: first-stage columns only)
    a: scipy.sparse.csr_array  # duplicates summed, indices sorted
    lower: np.ndarray  # row bounds
    upper: np.ndarray
    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integrality: np.ndarray  # HiGHS variable type code per column (int32)

    @property
    def ncols(self) -> int:
        return int(self.vlabels.size)

    @property
    def integer(self) -> np.ndarray:
        """True for every column that is not continuous."""
        return self.integrality != 0

    def column_of(self) -> np.ndarray:
        """Column index of every variable label (−1: no column)."""
        out = np.full(int(self.vlabels.max(initial=-1)) + 1, -1, dtype=np.int64)
        out[self.vlabels] = np.arange(self.vlabels.size)
        return out


@dataclass(frozen=True)
class SubProblem:
    """One scenario's problem as the arrays `passModel` takes (rows in CSR)."""

    name: str
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    cost: np.ndarray
    offset: float  # objective constant (pinned columns and constant terms)
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    #: read-outs of the solution: name -> (columns, coefficients, constant)
    measures: dict[str, tuple[np.ndarray, np.ndarray, float]] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_lower), len(self.cost)


# ---------------------------------------------------------------- the cut (both users)


def column_scenarios(model: linopy.Model, vlabels: np.ndarray, dim: str) -> np.ndarray:
    """Scenario position (along `dim`) of every column (−1: no such dimension)."""
    top = int(vlabels.max()) + 1 if vlabels.size else 0
    by_label = np.full(top, -1, dtype=np.int64)
    for _, var in model.variables.items():
        labels = var.labels
        if dim not in labels.dims:
            continue
        pos = xr.DataArray(np.arange(labels.sizes[dim]), dims=[dim])
        scen = pos.broadcast_like(labels).transpose(*labels.dims).values
        keep = labels.values >= 0
        by_label[labels.values[keep]] = scen[keep]
    return by_label[vlabels]


def cut_scenarios(model: linopy.Model, dim: str) -> ScenarioCut:
    """The matrices of `model` with each column and row given its scenario along `dim`;
    `NotTwoStage` when a row couples two scenarios or the objective is quadratic."""
    mat = model_matrices(model)
    if mat.Q is not None:
        raise NotTwoStage("the model has a quadratic objective")
    vlabels = np.asarray(mat.vlabels, dtype=np.int64)
    ncol = vlabels.size
    col_s = column_scenarios(model, vlabels, dim)
    a = scipy.sparse.csr_array(mat.A if mat.A is not None else (0, ncol))
    a.sum_duplicates()
    a.sort_indices()
    clabels = np.asarray(mat.clabels, dtype=np.int64)
    b = np.asarray(mat.b, dtype=float)
    code = np.ascontiguousarray(mat.sense, dtype="U1").view(np.uint32)
    integrality = np.zeros(ncol, dtype=np.int32)
    whole = mat.vtypes != "C"
    integrality[whole] = [_INTEGRALITY[t] for t in mat.vtypes[whole]]
    return ScenarioCut(
        vlabels=vlabels, clabels=clabels, col_s=col_s,
        row_s=_row_scenarios(a, col_s, clabels), a=a,
        lower=np.where(code != ord("<"), b, -np.inf),
        upper=np.where(code != ord(">"), b, np.inf),
        c=np.asarray(mat.c, dtype=float), lb=np.asarray(mat.lb, dtype=float),
        ub=np.asarray(mat.ub, dtype=float), integrality=integrality)


def _row_scenarios(a: scipy.sparse.csr_array, col_s: np.ndarray,
                   clabels: np.ndarray) -> np.ndarray:
    """The scenario of every row (−1: first-stage columns only, or empty);
    `NotTwoStage` when a row names columns of two scenarios."""
    nrow = a.shape[0]
    counts = np.diff(a.indptr)
    row_s = np.full(nrow, -1, dtype=np.int64)
    nonempty = counts > 0
    if not a.nnz:
        return row_s
    g = col_s[a.indices]
    starts = a.indptr[:-1][nonempty]
    hi = np.maximum.reduceat(g, starts)
    lo = np.minimum.reduceat(np.where(g < 0, np.iinfo(np.int64).max, g), starts)
    coupled = (hi >= 0) & (lo != hi)
    if coupled.any():
        label = int(clabels[np.flatnonzero(nonempty)[np.argmax(coupled)]])
        raise NotTwoStage(f"row {label} couples two scenarios: the model cannot be split "
                          "into one problem per scenario")
    row_s[nonempty] = hi
    return row_s


# ---------------------------------------------------------------- the plan pinned (evaluate)


def pin_scenarios(cut: ScenarioCut, names: list[str], pins: tuple[np.ndarray, np.ndarray],
                  objective: Linear, measures: dict[str, Linear]) -> list[SubProblem]:
    """The scenario blocks of `cut` with the first stage pinned (module docstring).

    `pins`: (labels, values) of every first-stage column; `objective`: the per-scenario
    objective; `measures`: other per-scenario read-outs. Raises ValueError when a
    first-stage column is not pinned, `PlanRowError` when the plan breaks a first-stage
    row."""
    ncol = cut.ncols
    to_col = cut.column_of()
    col_s = cut.col_s
    first = col_s < 0
    fixed = np.full(ncol, np.nan)
    pin_labels, pin_values = (np.asarray(p).ravel() for p in pins)
    fixed[to_col[pin_labels.astype(np.int64)]] = pin_values.astype(float)
    if np.isnan(fixed[first]).any():
        raise ValueError(f"{int(np.isnan(fixed[first]).sum())} first-stage column(s) are "
                         "not pinned by the plan")
    x_first = np.where(first, np.nan_to_num(fixed), 0.0)
    a, row_s = cut.a, cut.row_s
    shift = a @ x_first  # the pinned columns' part of every row
    _check_first_stage_rows(row_s, shift, cut.lower, cut.upper, cut.clabels)

    # scenario columns ordered by (scenario, position); rows likewise
    keep_cols = np.flatnonzero(~first)
    keep_cols = keep_cols[np.argsort(col_s[keep_cols], kind="stable")]
    keep_rows = np.flatnonzero(row_s >= 0)
    keep_rows = keep_rows[np.argsort(row_s[keep_rows], kind="stable")]
    body = a[keep_rows][:, keep_cols].tocsr()
    body.sort_indices()
    n = len(names)
    col_cuts = np.searchsorted(col_s[keep_cols], np.arange(n + 1))
    row_cuts = np.searchsorted(row_s[keep_rows], np.arange(n + 1))
    new_pos = np.full(ncol, -1, dtype=np.int64)
    new_pos[keep_cols] = np.arange(keep_cols.size)
    r_lo = cut.lower[keep_rows] - shift[keep_rows]
    r_up = cut.upper[keep_rows] - shift[keep_rows]

    cost, offset = _per_scenario(objective, to_col, col_s, new_pos, x_first, n)
    reads = {k: _sparse_per_scenario(v, to_col, col_s, new_pos, x_first, n, col_cuts)
             for k, v in measures.items()}
    out = []
    for s, name in enumerate(names):
        c0, c1, r0, r1 = col_cuts[s], col_cuts[s + 1], row_cuts[s], row_cuts[s + 1]
        block = body[r0:r1, c0:c1].tocsr()
        cols = keep_cols[c0:c1]
        out.append(SubProblem(
            name=name, start=block.indptr.astype(np.int32),
            index=block.indices.astype(np.int32), value=block.data.astype(float),
            row_lower=r_lo[r0:r1], row_upper=r_up[r0:r1], cost=cost[c0:c1],
            offset=float(offset[s]), col_lower=cut.lb[cols], col_upper=cut.ub[cols],
            integrality=cut.integrality[cols],
            measures={k: v[s] for k, v in reads.items()}))
    return out


def _check_first_stage_rows(row_s: np.ndarray, shift: np.ndarray, lower: np.ndarray,
                            upper: np.ndarray, clabels: np.ndarray) -> None:
    rows = np.flatnonzero(row_s < 0)
    if not rows.size:
        return
    size = 1.0 + np.abs(shift[rows])
    bad = (shift[rows] < lower[rows] - ROW_TOL * size) | \
        (shift[rows] > upper[rows] + ROW_TOL * size)
    if bad.any():
        r = int(rows[np.argmax(bad)])
        raise PlanRowError(f"the plan breaks row {int(clabels[r])}: its value "
                           f"{shift[r]:g} is outside [{lower[r]:g}, {upper[r]:g}]",
                           int(clabels[r]))
def _terms(lin: Linear, to_col: np.ndarray, col_s: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(column, coefficient, scenario) of the present terms; ValueError when a term of
    scenario s names a column of another scenario."""
    labels = np.asarray(lin.labels, dtype=np.int64).ravel()
    keep = labels >= 0
    cols = to_col[labels[keep]]
    coeffs = np.asarray(lin.coeffs, dtype=float).ravel()[keep]
    scen = np.asarray(lin.scenario, dtype=np.int64).ravel()[keep]
    keep = cols >= 0  # a variable absent from the matrix (masked) has no column
    cols, coeffs, scen = cols[keep], coeffs[keep], scen[keep]
    wrong = (col_s[cols] >= 0) & (col_s[cols] != scen)
    if wrong.any():
        raise ValueError("a per-scenario expression names another scenario's variable")
    return cols, coeffs, scen


def _per_scenario(lin: Linear, to_col: np.ndarray, col_s: np.ndarray, new_pos: np.ndarray,
                  x_first: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A dense cost vector over the reordered scenario columns and a constant per
    scenario (its own constant plus its terms on pinned columns)."""
    cols, coeffs, scen = _terms(lin, to_col, col_s)
    own = col_s[cols] >= 0
    cost = np.zeros(int((new_pos >= 0).sum()))
    np.add.at(cost, new_pos[cols[own]], coeffs[own])
    offset = np.asarray(lin.const, dtype=float).reshape(n).copy()
    np.add.at(offset, scen[~own], coeffs[~own] * x_first[cols[~own]])
    return cost, offset


def _sparse_per_scenario(lin: Linear, to_col: np.ndarray, col_s: np.ndarray,
                         new_pos: np.ndarray, x_first: np.ndarray, n: int,
                         col_cuts: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Each scenario's read-out as (columns of its block, coefficients, constant)."""
    cost, offset = _per_scenario(lin, to_col, col_s, new_pos, x_first, n)
    out = []
    for s in range(n):
        part = cost[col_cuts[s]:col_cuts[s + 1]]
        nz = np.flatnonzero(part)
        out.append((nz.astype(np.int64), part[nz], float(offset[s])))
    return out




def subproblem_highs(sp: SubProblem, options: dict[str, Any]) -> Any:
    """A HiGHS instance holding block `sp` with `options` set, not yet run (also what
    `bench/evaluate.py --floor` times: the LP relaxation, a start, ...)."""
    h = highspy.Highs()
    for key, val in options.items():
        h.setOptionValue(key, val)
    nrow, ncol = sp.shape
    status = h.passModel(ncol, nrow, int(sp.value.size), int(highspy.MatrixFormat.kRowwise),
                         int(highspy.ObjSense.kMinimize), sp.offset, sp.cost, sp.col_lower,
                         sp.col_upper, sp.row_lower, sp.row_upper, sp.start, sp.index,
                         sp.value, sp.integrality)
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the scenario problem")
    return h


def solve_subproblem(sp: SubProblem, *, time_limit: float | None = None,
                     gap: float | None = None, threads: int | None = 1,
                     seed: int | None = None, fast: bool = True
                     ) -> tuple[SolveOutcome, dict[str, float | None]]:
    """Solve one block with HiGHS: the outcome (objective and bound include the
    block's constant) and the value of each read-out (None without a solution).
    `fast`: with the fixed-plan MIP options (`solver.FIXED_PLAN_MIP`); the gap proved,
    and so the status, is the same either way."""
    started = time.perf_counter()
    is_mip = bool((sp.integrality != 0).any())
    try:
        with _quiet_stdout(True):
            opts = highs_options(time_limit, gap, threads, seed, False)
            if fast and is_mip:
                opts.update(FIXED_PLAN_MIP)
            h = subproblem_highs(sp, opts)
            h.run()
            out = _outcome(h, started=started, is_mip=is_mip, gap=gap, verbose=False)
    except Exception as exc:  # a failure inside HiGHS is an outcome, not a crash
        return SolveOutcome(SolveStatus.error, None, None, None, "exception",
                            f"{type(exc).__name__}: {exc}", time.perf_counter() - started,
                            is_mip), {k: None for k in sp.measures}
    if out.objective is None:
        return out, {k: None for k in sp.measures}
    x = np.asarray(h.getSolution().col_value)
    return out, {k: float(c @ x[cols] + const) for k, (cols, c, const) in sp.measures.items()}
