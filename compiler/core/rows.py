"""Constraint rows as numpy triplets: how the large operation blocks are written.

A `Rows` is Σ coef · x over a grid of rows (e.g. scenario × time × bus), held as
three flat arrays — row (flat cell of the grid), variable label, coefficient —
plus a constant per row. Sums concatenate, scaling multiplies, a sum through an
incidence matrix (`gather`) emits one triplet per non-zero of the matrix and per
leading cell. `Builder.constrain` turns it into a linopy `CSRConstraint` (linopy's
own frozen, CSR-backed constraint) in one `scipy` conversion.

Why not linopy's expression arithmetic for these blocks: each operation of it
aligns, merges and copies xarray datasets (≈ 20 ms for `a - p` over 240,000 cells,
against ≈ 2 ms of numpy work), and its dense layout pads every row to the widest
one: the slack bus of a feeder with 30 lines makes every nodal balance row 35 terms
wide, of which 9 % are used (measured on `bench/operation.py`'s 991-bus case).
The model stays a linopy model — named variable and constraint blocks with their
coordinates, solutions and duals by label — only the way its coefficient arrays
are assembled differs. Variables, bounds and the objective still use linopy.

Every grid is given by the builder's own coordinates; a variable or coefficient
array is checked to carry exactly those coordinates (same labels, same order), so
nothing is ever aligned silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import scipy.sparse
import xarray as xr
from linopy import LinearExpression, Variable
from linopy.common import maybe_replace_sign
from linopy.constraints import CSRConstraint
from linopy.csr import Grid

Coefficient = float | xr.DataArray


@dataclass(frozen=True, eq=False)
class RowGrid:
    """The cells constraint rows live on: dims and their coordinates, C order."""

    dims: tuple[str, ...]
    indexes: tuple[pd.Index, ...]

    def same(self, other: RowGrid) -> bool:
        return other is self or (other.dims == self.dims and all(
            a.equals(b) for a, b in zip(self.indexes, other.indexes, strict=True)))

    @classmethod
    def of(cls, coords: Mapping[str, pd.Index], dims: tuple[str, ...]) -> RowGrid:
        return cls(dims, tuple(coords[d].rename(d) for d in dims))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(ix) for ix in self.indexes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def values(self, value: Coefficient) -> np.ndarray:
        """`value` (scalar or DataArray over some of the dims) as a full grid array."""
        if not isinstance(value, xr.DataArray):
            return np.full(self.shape, float(value))
        return self._spread(value, "coefficient").astype(float, copy=False)

    def labels(self, var: Variable) -> np.ndarray:
        """The labels of `var` broadcast on the grid (its dims must be among ours)."""
        return self._spread(var.labels, f"variable {var.name!r}")

    def _spread(self, array: xr.DataArray, what: str) -> np.ndarray:
        """`array` broadcast (a view) to the grid; its dims must be among the grid's,
        with the very same coordinates: nothing is ever aligned silently."""
        for d in array.dims:
            if d not in self.dims:
                raise ValueError(f"{what} over {d!r}, not in {self.dims}")
            if d in array.indexes and \
                    not array.indexes[d].equals(self.indexes[self.dims.index(d)]):
                raise ValueError(f"{what}: coordinates of {d!r} differ from the grid's")
        present = [d for d in self.dims if d in array.dims]
        arr = np.asarray(array.transpose(*present).values)
        arr = arr.reshape([len(ix) if d in array.dims else 1
                           for d, ix in zip(self.dims, self.indexes, strict=True)])
        return np.broadcast_to(arr, self.shape)

    def linopy_grid(self) -> Grid:
        return Grid.from_coords(self.indexes)

    def like(self) -> xr.DataArray:
        """A zero DataArray on the grid (for slack variables and masks)."""
        return xr.DataArray(np.zeros(self.shape), coords=dict(zip(self.dims, self.indexes,
                                                                   strict=True)),
                            dims=self.dims)


@dataclass(frozen=True)
class Part:
    """One block of triplets: `scale · coef` of variable `var` in flat cell `row`,
    all of one linopy variable block (`source`, its name; None: unknown), rows in
    non-decreasing order and one variable at most once per row."""

    row: np.ndarray | None  # flat cell; None: every cell 0 … n−1 once, in order
    var: np.ndarray  # variable label (never -1; linopy's label dtype)
    coef: np.ndarray  # float
    scale: float = 1.0
    source: str | None = None


@dataclass(frozen=True)
class Rows:
    """Σ coef · x + const per cell of `grid`: parts of triplets (row, var, coef),
    concatenated only once, when the constraint is made."""

    grid: RowGrid
    parts: tuple[Part, ...]
    const: np.ndarray | None = None  # float, grid shape; None is 0

    @classmethod
    def empty(cls, grid: RowGrid) -> Rows:
        return cls(grid, ())

    def _const_plus(self, other: np.ndarray | None) -> np.ndarray | None:
        if other is None:
            return self.const
        return other if self.const is None else self.const + other

    def __add__(self, other: Rows | Coefficient) -> Rows:
        if isinstance(other, Rows):
            if not other.grid.same(self.grid):
                raise ValueError(f"rows on {self.grid.dims} and {other.grid.dims}")
            return Rows(self.grid, self.parts + other.parts, self._const_plus(other.const))
        return Rows(self.grid, self.parts, self._const_plus(np.array(self.grid.values(other))))

    def __neg__(self) -> Rows:
        return Rows(self.grid, tuple(Part(p.row, p.var, p.coef, -p.scale, p.source)
                                     for p in self.parts),
                    None if self.const is None else -self.const)

    def __sub__(self, other: Rows | Coefficient) -> Rows:
        return self + (-other if isinstance(other, Rows) else -np.array(self.grid.values(other)))

    def triplets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, var, coef) of every term, parts one after the other."""
        if not self.parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        n = self.grid.size
        return (np.concatenate([np.arange(n) if p.row is None else p.row
                                for p in self.parts]),
                np.concatenate([p.var for p in self.parts]),
                np.concatenate([p.coef * p.scale if p.scale != 1.0 else p.coef
                                for p in self.parts]))

    def to_constraint(self, model: linopy.Model, sign: str, rhs: Coefficient) -> CSRConstraint:
        """`self sign rhs` as an unlabelled linopy CSRConstraint over every cell (rows
        without terms are dropped by linopy when it labels the block)."""
        g = self.grid
        b = np.array(g.values(rhs), dtype=float)
        if self.const is not None:
            b = b - self.const
        return CSRConstraint(self._csr(model._xCounter), np.arange(g.size), b.ravel(),
                             maybe_replace_sign(sign), g.linopy_grid(), model)

    def _csr(self, ncol: int) -> scipy.sparse.csr_array:
        """The rows as CSR, columns raw variable labels, each row's terms in part order.

        Every part's rows are in order, so each triplet's slot follows from counts:
        the row's start, plus what earlier parts put in that row, plus its rank within
        its part's run for that row (no sort; measured a third of sorting the
        concatenated triplets). Parts of distinct variable blocks cannot name one
        variable twice in a row; otherwise duplicates are summed as linopy does."""
        n = self.grid.size
        shapes = [(True, True) if p.row is None else _layout(p.row, n) for p in self.parts]
        if not all(ordered for ordered, _ in shapes):
            row, var, coef = self.triplets()
            csr = scipy.sparse.csr_array((coef, (row, var)), shape=(n, ncol))
            csr.sum_duplicates()
            return csr
        # a part with one term in every row (most `term`s) needs no counting
        full = [every for _, every in shapes]
        counts = [None if f or p.row is None else np.bincount(p.row, minlength=n)
                  for p, f in zip(self.parts, full, strict=True)]
        per_row = np.full(n, sum(full), dtype=np.int64)
        for count in counts:
            if count is not None:
                per_row += count
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(per_row, out=indptr[1:])
        nnz = int(indptr[-1])
        dtype = np.result_type(*[p.var.dtype for p in self.parts]) if self.parts else np.int64
        indices, data = np.empty(nnz, dtype=dtype), np.empty(nnz)
        free = indptr[:-1].copy()  # next free slot of each row
        for part, count in zip(self.parts, counts, strict=True):
            if count is None:  # rows 0 … n−1, one term each
                slot = free
            else:
                assert part.row is not None  # counted parts have their rows
                start = np.cumsum(count) - count  # where each row's run begins in the part
                slot = free[part.row] + (np.arange(len(part.row)) - start[part.row])
            indices[slot] = part.var
            data[slot] = part.coef * part.scale if part.scale != 1.0 else part.coef
            free += 1 if count is None else count
        csr = scipy.sparse.csr_array((data, indices, indptr), shape=(n, ncol))
        sources = [p.source for p in self.parts]
        if None in sources or len(set(sources)) < len(sources):
            csr.sum_duplicates()  # parts of one block (e.g. x_t and x_{t-1}) may collide
        return csr


def _layout(row: np.ndarray, n: int) -> tuple[bool, bool]:
    """(rows in non-decreasing order, rows exactly 0 … n−1 once each)."""
    if row.size < 2:
        return True, row.size == n and (n == 0 or int(row[0]) == 0)
    step = row[1:] - row[:-1]
    ordered = bool((step >= 0).all())
    return ordered, ordered and row.size == n and bool((step > 0).all())


def term(grid: RowGrid, var: Variable, coef: Coefficient = 1.0, *,
         shift: Mapping[str, int] | None = None) -> Rows:
    """coef · var on every cell of `grid`; with `shift={dim: k}` the variable at
    position i − k along `dim` (no term where that falls off the start)."""
    labels = grid.labels(var)
    c = grid.values(coef)
    if shift:
        labels = labels.copy()
        for dim, k in shift.items():
            axis = grid.dims.index(dim)
            labels = np.roll(labels, k, axis=axis)
            head = [slice(None)] * len(grid.dims)
            head[axis] = slice(0, k)
            labels[tuple(head)] = -1
    return Rows(grid, (_kept(None, labels.ravel(), c.ravel(), str(var.name)),))


def _kept(row: np.ndarray | None, var: np.ndarray, coef: np.ndarray, source: str) -> Part:
    """The triplets with a variable and a non-zero coefficient (no copy when all are;
    `row` None: one triplet per cell, in order)."""
    keep = (var != -1) & (coef != 0)
    if keep.all():
        return Part(row, var, coef, source=source)
    kept = np.flatnonzero(keep) if row is None else row[keep]
    return Part(kept, var[keep], coef[keep], source=source)


def gather(grid: RowGrid, var: Variable, matrix: xr.DataArray, col: str,
           coef: Coefficient = 1.0) -> Rows:
    """Σ_col matrix[row, col] · coef · var[…, col] on `grid`, whose last dim is the
    matrix's row dim: one triplet per non-zero of the matrix and leading cell (no
    padding to the widest row)."""
    row_dim = grid.dims[-1]
    src = RowGrid((*grid.dims[:-1], col), (*grid.indexes[:-1], matrix.indexes[col]))
    labels = src.labels(var)
    mat = matrix.transpose(row_dim, col)
    if not mat.indexes[row_dim].equals(grid.indexes[-1]):
        raise ValueError(f"matrix coordinates of {row_dim!r} differ from the grid's")
    r, k = np.nonzero(mat.values)
    w = mat.values[r, k]
    lead = int(np.prod(grid.shape[:-1], dtype=np.int64))
    lab = labels.reshape(lead, -1)[:, k]
    cf = (w if isinstance(coef, float | int) and coef == 1.0 else
          src.values(coef).reshape(lead, -1)[:, k] * w)
    rows = np.arange(lead, dtype=np.int64)[:, None] * grid.shape[-1] + r
    return Rows(grid, (_kept(rows.ravel(), lab.ravel(),
                             np.broadcast_to(cf, lab.shape).ravel(), str(var.name)),))


def from_expression(grid: RowGrid, expr: LinearExpression | Variable | xr.DataArray) -> Rows:
    """A linopy expression (or a constant) over the grid's dims as rows."""
    if isinstance(expr, Variable):
        return term(grid, expr)
    if isinstance(expr, xr.DataArray):
        return Rows.empty(grid) + expr
    data = expr.data
    present = [d for d in grid.dims if d in data["vars"].dims]
    extra = [d for d in data["vars"].dims if d not in grid.dims and d != "_term"]
    if extra:
        raise ValueError(f"expression over {extra}, not dimensions of {grid.dims}")
    for d in present:
        if not data.indexes[d].equals(grid.indexes[grid.dims.index(d)]):
            raise ValueError(f"expression coordinates of {d!r} differ from the grid's")
    nterm = data["vars"].sizes.get("_term", 1)
    shape = [len(ix) if d in present else 1 for d, ix in zip(grid.dims, grid.indexes,
                                                               strict=True)]
    var = np.broadcast_to(data["vars"].transpose(*present, "_term").values
                          .reshape(*shape, nterm), (*grid.shape, nterm))
    cf = np.broadcast_to(data["coeffs"].transpose(*present, "_term").values
                         .reshape(*shape, nterm), (*grid.shape, nterm))
    keep = (var != -1) & (cf != 0) & ~np.isnan(cf)
    flat = np.flatnonzero(keep)
    const = np.broadcast_to(np.nan_to_num(data["const"].transpose(*present).values)
                            .reshape(shape), grid.shape)
    return Rows(grid, (Part(flat // nterm, var.ravel()[flat], cf.ravel()[flat]),),
                np.array(const, dtype=float))


def total(grid: RowGrid, parts: list[Rows | LinearExpression | Variable | xr.DataArray]) -> Rows:
    """The sum of rows, linopy expressions and constants on one grid."""
    out = Rows.empty(grid)
    for part in parts:
        out = out + (part if isinstance(part, Rows) else from_expression(grid, part))
    return out


def summed(model: linopy.Model, coords: Mapping[str, pd.Index], keep: str,
           parts: list[tuple[Variable, Coefficient]], const: Coefficient = 0.0
           ) -> LinearExpression:
    """Σ over every dim but `keep` of coef · var (+ const, summed the same way), as a
    linopy expression over `keep`: all terms side by side on one `_term` axis, built
    in one step instead of a chain of linopy products, sums and merges."""
    n = len(coords[keep])
    labels, coeffs = [np.zeros((n, 0), dtype=np.int64)], [np.zeros((n, 0))]
    for var, coef in parts:
        grid = RowGrid.of(coords, (keep, *[str(d) for d in var.dims if d != keep]))
        labels.append(grid.labels(var).reshape(n, -1).astype(np.int64))
        coeffs.append(grid.values(coef).reshape(n, -1))
    if isinstance(const, xr.DataArray):
        rest = tuple(str(d) for d in const.dims if d != keep)
        c = RowGrid.of(coords, (keep, *rest)).values(const).reshape(n, -1).sum(axis=1)
    else:
        c = np.full(n, float(const))
    index = coords[keep].rename(keep)
    ds = xr.Dataset({"coeffs": ((keep, "_term"), np.concatenate(coeffs, axis=1)),
                     "vars": ((keep, "_term"), np.concatenate(labels, axis=1)),
                     "const": ((keep,), c)}, coords={keep: index})
    return LinearExpression(ds, model)


def weighted(expr: LinearExpression, keep: str, weight: xr.DataArray) -> LinearExpression:
    """Σ_keep weight · expr for an expression over (`keep`, _term): one flat `_term`."""
    w = np.asarray(weight.sel({keep: expr.indexes[keep]}).values, dtype=float)
    data = expr.data
    coeffs = data["coeffs"].transpose(keep, "_term").values * w[:, None]
    ds = xr.Dataset({"coeffs": (("_term",), coeffs.ravel()),
                     "vars": (("_term",), data["vars"].transpose(keep, "_term").values.ravel()),
                     "const": float((data["const"].values * w).sum())})
    return LinearExpression(ds, expr.model)


def added(exprs: list[LinearExpression]) -> LinearExpression:
    """The sum of scalar expressions (terms only along `_term`) as one expression, their
    terms side by side; anything else goes through `linopy.merge`."""
    if not exprs or any(set(e.data["vars"].dims) != {"_term"} for e in exprs):
        return linopy.merge(exprs, cls=LinearExpression)  # type: ignore[no-any-return]
    ds = xr.Dataset({"coeffs": (("_term",), np.concatenate([e.data["coeffs"].values
                                                            for e in exprs])),
                     "vars": (("_term",), np.concatenate([e.data["vars"].values
                                                          for e in exprs])),
                     "const": float(sum(float(e.data["const"].values) for e in exprs))})
    return LinearExpression(ds, exprs[0].model)


def without_constant(expr: LinearExpression) -> LinearExpression:
    """`expr` with its constant set to 0 (the objective: linopy cannot hold one)."""
    return LinearExpression(expr.data.assign(const=xr.zeros_like(expr.data["const"])),
                            expr.model)
