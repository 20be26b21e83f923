"""The solver's view of a linopy model, read straight from its labelled blocks.

`model_matrices(model)` returns what `linopy.Model.matrices` returns after the
sanitizing `Model.solve` does first (`sanitize_zeros`: |a| <= 1e-10 dropped;
`sanitize_infinities`: rows `<= +inf` / `>= -inf` dropped): columns in `vlabels`
order, rows in `clabels` order (a row needs a label and one non-zero term), the
row-wise matrix with duplicates summed, rhs, senses, costs, bounds, types.

Why not linopy's own: at 1,000 buses × 24 h × 10 scenarios (1.2 M rows, 3.5 M
non-zeros) sanitizing rewrites every block through xarray (`where`) and
`model.matrices` then re-reads them, 0.31 s together, five times the `passModel`
call that follows (measured, docs/performance.md). Here each block's `vars` /
`coeffs` arrays are filtered once in numpy and the row pointers come from the
per-row counts (blocks are already stored row by row), without touching the model:
nothing is rewritten, so a model can be handed over again unchanged.

Frozen (CSR-backed) blocks, which `compiler.core.rows` writes, are read through
linopy's own `to_matrix_with_rhs`. Anything this reader does not handle itself
(solver scaling, indicator constraints, a quadratic objective) falls back to linopy's accessor on
the sanitized model, so the result is always linopy's matrices; a test checks
both paths give identical arrays on the shipped models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import linopy
import numpy as np
import scipy.sparse
from linopy.constraints import Constraint, CSRConstraint

#: linopy's `sanitize_zeros` threshold
ZERO = 1e-10


@dataclass(frozen=True)
class ModelMatrices:
    """The arrays HiGHS is given; names and meaning as in linopy's `MatrixAccessor`."""

    vlabels: np.ndarray  # variable label of each column
    clabels: np.ndarray  # constraint label of each row
    A: scipy.sparse.csr_array | None  # rows × columns, None without any row
    b: np.ndarray
    sense: np.ndarray  # "=", "<", ">" per row
    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    vtypes: np.ndarray  # "C", "B", "I", "S" per column
    var_scaling: np.ndarray  # solver units per user unit of each column
    Q: Any = None  # scipy sparse, quadratic objective (linopy fallback only)


def model_matrices(model: linopy.Model) -> ModelMatrices:
    """The model's matrices as linopy would hand them to a solver (see module doc)."""
    if not _plain(model):
        return _from_linopy(model)
    index = model.variables.label_index
    vlabels = index.vlabels
    to_pos = index.label_to_pos
    rows: list[np.ndarray] = []
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # counts, labels, data
    rhs: list[np.ndarray] = []
    senses: list[np.ndarray] = []
    for con in model.constraints.data.values():
        if isinstance(con, CSRConstraint):
            labels, counts, cols, data, b, sense = _frozen_block(con)
        else:
            assert isinstance(con, Constraint)  # `_plain` let no other kind through
            labels, counts, cols, data, b, sense = _block(con)
        rows.append(labels)
        blocks.append((counts, cols, data))
        rhs.append(b)
        senses.append(sense)
    clabels = np.concatenate([np.zeros(0, dtype=vlabels.dtype), *rows])
    a = _stack(blocks, len(clabels), to_pos, len(vlabels)) if blocks else None
    lb, ub, vtypes = _columns(model, len(vlabels))
    return ModelMatrices(
        vlabels=vlabels, clabels=clabels, A=a,
        b=np.concatenate([np.zeros(0), *rhs]),
        sense=np.concatenate([np.zeros(0, dtype="U1"), *senses]),
        c=_costs(model, to_pos, len(vlabels)), lb=lb, ub=ub, vtypes=vtypes,
        var_scaling=np.ones(len(vlabels)))


def _plain(model: linopy.Model) -> bool:
    """True when every block is one this reader handles exactly."""
    if model.variables.sos or model.indicator_constraints:
        return False
    if model.objective.is_quadratic or float(model.objective.scaling) != 1.0:
        return False
    for con in model.constraints.data.values():
        if type(con) not in (Constraint, CSRConstraint) or con.is_indicator:
            return False
        scaling = con._scaling if isinstance(con, CSRConstraint) else \
            con.data["scaling"].values if "scaling" in con.data else 1.0
        if not bool((np.asarray(scaling) == 1).all()):
            return False
    return all(bool((var.solver_scaling.values == 1).all())
               for _, var in model.variables.items())


def _block(con: Constraint) -> tuple[np.ndarray, ...]:
    """One constraint block: active row labels, per-row term counts, variable labels
    and coefficients (row by row), rhs and senses of the active rows."""
    data = con.data
    grid = data["labels"].dims
    labels = data["labels"].values.ravel()
    var = data["vars"].transpose(*grid, ...).values.reshape(labels.size, -1)
    coef = data["coeffs"].transpose(*grid, ...).values.reshape(labels.size, -1)
    width = var.shape[1]
    rhs = _on_grid(data["rhs"], data["labels"])
    sign = _on_grid(data["sign"], data["labels"])
    keep = (var != -1) & (np.abs(coef) > ZERO)
    active = (labels != -1) & keep.any(axis=1)
    infinite = ((sign == "<=") & (rhs == np.inf)) | ((sign == ">=") & (rhs == -np.inf))
    active &= ~infinite
    keep &= active[:, None]
    counts = keep.sum(axis=1)[active]
    flat = np.flatnonzero(keep)  # row-major: row by row, terms in stored order
    cols = var.ravel()[flat]
    values = coef.ravel()[flat]
    if width > 1 and _has_duplicates(np.where(keep, var, -1)[active]):
        cols, values, counts = _summed(cols, values, counts)
    return (labels[active], counts, cols, values, rhs[active].astype(float),
            sign[active].astype("U1"))


def _frozen_block(con: CSRConstraint) -> tuple[np.ndarray, ...]:
    """A linopy CSR-backed block: its rows as linopy stores them (a frozen row has
    terms by construction; columns are raw variable labels, rows canonical), with
    near-zero coefficients and `<= inf` rows left out as its `sanitize_*` would.
    Reads linopy 0.10's stored arrays (`_csr`, `_rhs`, `_sign`) directly: its own
    `to_matrix_with_rhs` maps the columns into a fresh array that `_stack` would only
    copy again."""
    csr = con._csr
    labels = con.active_labels()
    rhs = np.asarray(con._rhs, dtype=float)
    sign = con._sign
    if isinstance(sign, str):  # one sense for the block: no per-row string compares
        sense = np.full(len(rhs), sign[0])
        infinite = rhs == (np.inf if sign[0] == "<" else -np.inf if sign[0] == ">" else np.nan)
    else:
        sense = np.asarray(sign).astype("U1")
        infinite = ((sense == "<") & (rhs == np.inf)) | ((sense == ">") & (rhs == -np.inf))
    if infinite.any():
        csr, labels, rhs, sense = csr[~infinite], labels[~infinite], rhs[~infinite], \
            sense[~infinite]
    counts = np.diff(csr.indptr)
    cols, values = csr.indices, csr.data
    small = np.abs(values) <= ZERO
    if small.any():
        cols, values = cols[~small], values[~small]
        counts = np.bincount(np.repeat(np.arange(len(counts)), counts)[~small],
                             minlength=len(counts))
    return labels, counts, cols, values, rhs, sense


def _on_grid(values: Any, labels: Any) -> np.ndarray:
    """A per-row field (rhs, sign) flattened in the order of the row labels."""
    if values.dims != labels.dims:  # linopy broadcasts them on add; be safe anyway
        values = values.broadcast_like(labels).transpose(*labels.dims)
    return np.asarray(values.values).ravel()


def _has_duplicates(var: np.ndarray) -> bool:
    """Does any row name one variable twice (absent terms are -1)?"""
    ordered = np.sort(var, axis=1)
    return bool(((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] != -1)).any())


def _summed(cols: np.ndarray, values: np.ndarray,
            counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Duplicates summed (and resulting zeros dropped), as linopy does."""
    indptr = np.concatenate([[0], np.cumsum(counts)])
    csr = scipy.sparse.csr_array((values, cols, indptr),
                                 shape=(len(counts), int(cols.max(initial=0)) + 1))
    csr.sum_duplicates()
    csr.eliminate_zeros()
    return csr.indices, csr.data, np.diff(csr.indptr)


def _stack(blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]], nrow: int,
           to_pos: np.ndarray, ncol: int) -> scipy.sparse.csr_array:
    """The blocks one under the other, variable labels mapped to column positions
    straight into the one output array."""
    counts = np.concatenate([blk[0] for blk in blocks])
    indptr = np.zeros(nrow + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    nnz = int(indptr[-1])
    index_type = np.int32 if max(nnz, ncol) < 2 ** 31 else np.int64
    indices = np.empty(nnz, dtype=index_type)
    values = np.empty(nnz)
    pos = 0
    for _, labels, data in blocks:
        end = pos + len(labels)
        if to_pos.dtype == index_type:
            np.take(to_pos, labels, out=indices[pos:end])
        else:
            indices[pos:end] = to_pos[labels]
        values[pos:end] = data
        pos = end
    if nnz and int(indices.min()) < 0:
        raise ValueError("a constraint refers to a variable that is no longer in the model")
    return scipy.sparse.csr_array((values, indices, indptr.astype(index_type)),
                                  shape=(nrow, ncol))


def _columns(model: linopy.Model, ncol: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lb, ub = np.empty(ncol), np.empty(ncol)
    vtypes = np.empty(ncol, dtype="U1")
    pos = 0
    for name, var in model.variables.items():
        mask = var.labels.values.ravel() != -1
        whole = bool(mask.all())  # the usual case: no copy through the mask
        cols = slice(pos, pos + (mask.size if whole else int(np.count_nonzero(mask))))
        vtypes[cols] = ("B" if name in model.binaries else "I" if name in model.integers
                        else "S" if name in model.semi_continuous else "C")
        lb[cols] = var.lower.values.ravel() if whole else var.lower.values.ravel()[mask]
        ub[cols] = var.upper.values.ravel() if whole else var.upper.values.ravel()[mask]
        pos = cols.stop
    return lb, ub, vtypes


def _costs(model: linopy.Model, to_pos: np.ndarray, ncol: int) -> np.ndarray:
    labels, coeffs = model.objective.linear_terms()
    return np.bincount(to_pos[labels], weights=coeffs, minlength=ncol).astype(float)


def _from_linopy(model: linopy.Model) -> ModelMatrices:
    """linopy's accessor, after the sanitizing `Model.solve` does (mutates the model)."""
    model.constraints.sanitize_zeros()
    model.constraints.sanitize_infinities()
    mat = model.matrices
    return ModelMatrices(vlabels=mat.vlabels, clabels=mat.clabels, A=mat.A,
                         b=np.asarray(mat.b, dtype=float), sense=np.asarray(mat.sense),
                         c=np.asarray(mat.c, dtype=float), lb=np.asarray(mat.lb, dtype=float),
                         ub=np.asarray(mat.ub, dtype=float), vtypes=np.asarray(mat.vtypes),
                         var_scaling=np.asarray(mat.var_scaling, dtype=float), Q=mat.Q)
