"""The shared state of one compilation and the two primitives every family uses.

`Builder.variable` and `Builder.constrain` add named blocks to the linopy model
and record, per name, its *family* (nodal balance, voltage limits, ...) and the
dimension whose labels lead back to `.grid` sources (bus, line, gen, ...). A
constraint's left-hand side is a linopy expression or, for the large operation
blocks, `Rows` (numpy triplets, see `compiler.core.rows`), which become linopy's own
CSR-backed constraints without going through its expression arithmetic.

Elastic mode (`compile_model(..., elastic=True)`, used by `gridc solve
--diagnose`) keeps the same structure but makes the relaxable families soft:
each of their rows (or bounds) gets non-negative slack variables
`elastic_<name>_…` and the objective becomes the weighted sum of the slacks
(phase-one style). Which slacks end up non-zero says which families, and which
buses, lines or units, make the model infeasible. Weights are per unit of the
row: balance rows cost 10 per kW so that a violated *limit* (1 per kW or kWh,
1000 per p.u.² of voltage) is blamed before a shortage of power.

`sparse_sum` contracts a component dimension onto another one through a
(sparse) incidence matrix — bus × line, bus × generator — without ever forming
dense bus × line products: rows are padded to the maximum degree only (the
linopy-expression counterpart of `rows.gather`, for the planning families).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import linopy
import numpy as np
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.core.index import SCENARIO, TIME, ModelIndex
from gridc.compiler.core.rows import RowGrid, Rows, term
from gridc.compiler.core.scenarios import ScenarioData, profile_values
from gridc.dsl import ir
from gridc.dsl.spans import Span

Sign = Literal["==", "<=", ">="]

#: relaxable families and the elastic weight per unit of violation
ELASTIC_WEIGHTS: dict[str, float] = {
    "nodal balance": 10.0,  # per kW / kvar
    "voltage limits": 1000.0,  # per p.u.² of squared voltage
    "line ratings": 1.0,  # per kW / kvar
    "generator limits": 1.0,  # per kW
    "storage SOC": 1.0,  # per kWh
}


@dataclass(frozen=True)
class Block:
    """What a named variable or constraint means, for reports and diagnosis."""

    name: str
    family: str
    source: str | None  # dimension whose labels map to `.grid` sources
    unit: str


@dataclass(frozen=True)
class Relaxation:
    """The elastic slacks of one constraint block (elastic mode only)."""

    block: Block
    slacks: tuple[str, ...]  # variable names
    weight: float


@dataclass
class Builder:
    m: linopy.Model
    model: ir.Model
    idx: ModelIndex
    data: ScenarioData
    elastic: bool = False
    blocks: dict[str, Block] = field(default_factory=dict)
    relaxations: list[Relaxation] = field(default_factory=list)
    _profiles: dict[str, xr.DataArray] = field(default_factory=dict)

    # ------------------------------------------------------------------ helpers
    def full(self, value: float | xr.DataArray, dims: tuple[str, ...]) -> xr.DataArray:
        """`value` broadcast to the coordinates of `dims`, in that order (numpy
        broadcasting when `value` carries exactly those coordinates, else xarray's
        alignment)."""
        grid = self.grid(*dims)
        try:
            values = np.array(grid.values(value))
        except ValueError:  # other coordinates: let xarray align them
            template = xr.DataArray(np.zeros(grid.shape), coords=self.idx.coord(*dims))
            return (template + value).transpose(*dims)
        return xr.DataArray(values, coords=dict(zip(dims, grid.indexes, strict=True)),
                            dims=dims)

    def profile(self, name: str, span: Span) -> xr.DataArray:
        """Profile `name` over [scenario, time] with the scenarios' scalings (computed
        once per profile, however many units share it)."""
        if name not in self._profiles:
            self._profiles[name] = profile_values(self.model, self.idx, self.data, name, span)
        return self._profiles[name]

    def stacked(self, arrays: Sequence[xr.DataArray | float], dim: str) -> xr.DataArray:
        """Per-unit [scenario, time] arrays (or numbers) stacked along the unit
        dimension `dim`."""
        if not arrays:
            return self.full(0.0, (SCENARIO, TIME, dim))
        grid = self.grid(SCENARIO, TIME)
        values = np.stack([grid.values(a) for a in arrays], axis=-1)
        return xr.DataArray(values, coords=self.idx.coord(SCENARIO, TIME, dim),
                            dims=(SCENARIO, TIME, dim))

    def _relaxes(self, family: str | None) -> bool:
        return self.elastic and family in ELASTIC_WEIGHTS

    def _slack(self, name: str, like: xr.DataArray) -> Variable:
        """Non-negative slacks shaped like `like` (never masked: a slack of a masked
        row is simply unused and stays 0, whereas absent slots would leak through
        linopy arithmetic)."""
        coords = [like.indexes[d] for d in like.dims]
        return self.m.add_variables(lower=0.0, coords=coords, name=name)

    # ------------------------------------------------------------------ variables
    def variable(self, name: str, dims: tuple[str, ...], lower: float | xr.DataArray = -math.inf,
                 upper: float | xr.DataArray = math.inf, *, binary: bool = False,
                 family: str | None = None, source: str | None = None, unit: str = "",
                 relax: Literal["both", "lower", "upper"] = "both",
                 relax_scale: float | xr.DataArray = 1.0) -> Variable:
        """Add variable block `name` over `dims` with bounds. In elastic mode the bounds
        of a relaxable family become rows `x ± scale·s ≷ bound` instead (only the side(s)
        named by `relax`; `relax_scale` 0 keeps an element hard)."""
        self.blocks[name] = Block(name, family or "variables", source, unit)
        if binary:  # bounds given as full arrays: half the time of linopy's defaults
            return self.m.add_variables(lower=self.full(0.0, dims), upper=self.full(1.0, dims),
                                        name=name, binary=True)
        lo, up = self.full(lower, dims), self.full(upper, dims)
        if not self._relaxes(family):  # the full bounds carry the coordinates
            return self.m.add_variables(lower=lo, upper=up, name=name)
        assert family is not None
        soft_lo, soft_up = relax in ("both", "lower"), relax in ("both", "upper")
        var = self.m.add_variables(lower=-math.inf if soft_lo else lo,
                                   upper=math.inf if soft_up else up,
                                   coords=self.idx.coord(*dims), name=name)
        scale = self.full(relax_scale, dims)
        slacks = []
        for side, bound, on in (("lower", lo, soft_lo), ("upper", up, soft_up)):
            finite = np.isfinite(bound)
            if not on or not bool(finite.any()):
                continue
            s = self._slack(f"elastic_{name}_{side}", bound)
            sign = 1.0 if side == "lower" else -1.0
            self.m.add_constraints(var + sign * scale * s, ">=" if side == "lower" else "<=",
                                   bound.where(finite, 0.0), name=f"{name}_{side}",
                                   mask=finite)
            slacks.append(str(s.name))
        block = Block(name, family, source, unit)
        self.relaxations.append(Relaxation(block, tuple(slacks), ELASTIC_WEIGHTS[family]))
        return var

    def integer(self, name: str, dims: tuple[str, ...], lower: float | xr.DataArray,
                upper: float | xr.DataArray, *, family: str, source: str | None,
                unit: str = "") -> Variable:
        """An integer block (never relaxed in elastic mode: a plan is not a limit); 0..1
        integers stand for binaries that a fixed plan can pin with lower = upper."""
        self.blocks[name] = Block(name, family, source, unit)
        return self.m.add_variables(lower=self.full(lower, dims), upper=self.full(upper, dims),
                                    coords=self.idx.coord(*dims), name=name, integer=True)

    # ------------------------------------------------------------------ constraints
    def constrain(self, name: str, lhs: LinearExpression | Variable | Rows, sign: Sign,
                  rhs: float | xr.DataArray, *, family: str, source: str | None,
                  unit: str = "", mask: xr.DataArray | None = None) -> None:
        """Add `lhs sign rhs` as block `name`; soft (with slacks) in elastic mode.
        `Rows` (see `compiler.core.rows`) become a linopy CSR-backed constraint."""
        block = Block(name, family, source, unit)
        self.blocks[name] = block
        if isinstance(lhs, Rows):
            self._constrain_rows(block, lhs, sign, rhs, mask)
            return
        expr = lhs - rhs
        if not self._relaxes(family):
            self.m.add_constraints(expr, sign, 0.0, name=name, mask=mask)
            return
        like = expr.const
        slacks: list[Variable] = []
        if sign in ("==", ">="):
            slacks.append(self._slack(f"elastic_{name}_up", like))
            expr = expr + slacks[-1]
        if sign in ("==", "<="):
            slacks.append(self._slack(f"elastic_{name}_down", like))
            expr = expr - slacks[-1]
        self.m.add_constraints(expr, sign, 0.0, name=name, mask=mask)
        self.relaxations.append(Relaxation(block, tuple(str(s.name) for s in slacks),
                                           ELASTIC_WEIGHTS[family]))

    def _constrain_rows(self, block: Block, rows: Rows, sign: Sign,
                        rhs: float | xr.DataArray, mask: xr.DataArray | None) -> None:
        slacks: list[Variable] = []
        if self._relaxes(block.family):
            like = rows.grid.like()
            if sign in ("==", ">="):
                slacks.append(self._slack(f"elastic_{block.name}_up", like))
                rows = rows + term(rows.grid, slacks[-1])
            if sign in ("==", "<="):
                slacks.append(self._slack(f"elastic_{block.name}_down", like))
                rows = rows - term(rows.grid, slacks[-1])
        self.m.add_constraints(rows.to_constraint(self.m, sign, rhs), name=block.name,
                               mask=mask, freeze=True)
        if slacks:
            self.relaxations.append(Relaxation(block, tuple(str(s.name) for s in slacks),
                                               ELASTIC_WEIGHTS[block.family]))

    def grid(self, *dims: str) -> RowGrid:
        """The row grid over `dims` with this model's coordinates."""
        return RowGrid.of(self.idx.coords, dims)

    def elastic_objective(self) -> LinearExpression:
        """Weighted sum of all slacks (elastic mode)."""
        terms = [self.m.variables[s].sum() * r.weight
                 for r in self.relaxations for s in r.slacks]
        if not terms:  # cannot happen with a network (nodal balance is relaxable)
            raise ValueError("elastic mode without any relaxable constraint")
        return linopy.merge(terms, cls=LinearExpression)  # type: ignore[no-any-return]


def sparse_sum(expr: LinearExpression | Variable, matrix: xr.DataArray, col: str,
               row: str) -> LinearExpression:
    """Σ_col matrix[row, col] · expr[..., col] as an expression over (..., row).

    Only the non-zeros of each row are gathered (rows padded to the largest row
    degree with absent terms), so a bus × line incidence costs O(lines), not
    O(buses × lines)."""
    lin = expr.to_linexpr() if isinstance(expr, Variable) else expr
    data = lin.data
    mat = matrix.transpose(row, col)
    values = mat.values
    nnz = (values != 0).sum(axis=1)
    width = max(int(nnz.max()) if values.size else 0, 1)
    order = np.argsort(values == 0, axis=1, kind="stable")[:, :width]
    weight = np.take_along_axis(values, order, axis=1) if values.size else \
        np.zeros((values.shape[0], width))
    if values.shape[1] == 0:
        order = np.zeros((values.shape[0], width), dtype=int)
    row_index = mat.indexes[row]
    lead = [d for d in data.coeffs.dims if d not in (col, "_term")]
    if values.shape[1] == 0:  # nothing to gather from: an empty (all-absent) sum
        size = (*(data.sizes[d] for d in lead), len(row_index), 1)
        coeffs, labels = np.zeros(size), np.full(size, -1)
        const = np.zeros(size[:-1])
    else:
        # the gather itself in numpy: xarray's isel / where / stack over (…, row, k,
        # term) were ~40 % of compiling a 1,000-bus model (measured)
        coeffs = data.coeffs.transpose(*lead, col, "_term").values[..., order, :]
        labels = data["vars"].transpose(*lead, col, "_term").values[..., order, :]
        const = (data.const.transpose(*lead, col).values[..., order] * weight).sum(-1)
        present = (weight != 0)[..., None]
        coeffs = np.where(present, coeffs * weight[..., None], 0.0)
        labels = np.where(present, labels, -1)
        flat = (*coeffs.shape[:-2], coeffs.shape[-2] * coeffs.shape[-1])  # (k, term) → term
        coeffs, labels = coeffs.reshape(flat), labels.reshape(flat)
    coords = {d: data.indexes[d] for d in lead if d in data.indexes}
    coords[row] = row_index
    dims = (*lead, row, "_term")
    ds = xr.Dataset({"coeffs": xr.DataArray(coeffs, dims=dims, coords=coords),
                     "vars": xr.DataArray(labels, dims=dims, coords=coords),
                     "const": xr.DataArray(const, dims=dims[:-1], coords=coords)})
    return LinearExpression(ds, lin.model)
