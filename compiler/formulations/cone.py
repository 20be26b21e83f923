"""Second-order cones on a linear solver: Ben-Tal–Nemirovski polyhedral outer approximation.

Why: DistFlow with losses needs the relaxed branch equation ℓ·v ≥ P² + Q² (current
squared ℓ, sending-end squared voltage v), a rotated second-order cone. HiGHS solves
LPs and MILPs only and linopy cannot even state a quadratic constraint, so the cone is
replaced by linear rows whose feasible set *contains* the cone (an outer approximation:
every point of the true cone stays feasible, so no optimum is cut off) and is contained
in the cone dilated by a known factor 1 + ε.

The rotated cone is written as a Lorentz cone,

    ℓ·v ≥ P² + Q²,  ℓ, v ≥ 0   ⇔   ‖(2P, 2Q, ℓ − v)‖ ≤ ℓ + v,

and the three-dimensional Lorentz cone as two nested planar ones,
‖(2P, 2Q)‖ ≤ s and ‖(s, ℓ − v)‖ ≤ ℓ + v.

A planar cone ‖(x₁, x₂)‖ ≤ t with ν *levels* (Ben-Tal & Nemirovski, "On polyhedral
approximations of the second-order cone", Math. Oper. Res. 26(2), 2001; Glineur 2000):

    ξ₀ ≥ |x₁|,  η₀ ≥ |x₂|
    ξ_k = cos θ_k ξ_{k−1} + sin θ_k η_{k−1},           θ_k = π / 2^(k+1), k = 1 .. ν−1
    η_k ≥ |−sin θ_k ξ_{k−1} + cos θ_k η_{k−1}|
    ξ_{ν−1} ≤ t,  η_{ν−1} ≤ tan(π / 2^ν) ξ_{ν−1}

Each rotation halves the angle of (ξ, η); the projection onto (x₁, x₂, t) is a regular
2^ν-gon circumscribing the circle, so t ≤ ‖x‖ ≤ (1 + ε) t with ε = 1/cos(π/2^ν) − 1.
It costs 3ν + 3 rows and 2ν columns. Two nested stages dilate by (1 + ε)²:
`rotated_accuracy(ν)`. The size is O(ν) while the error falls like 4^−ν.

Why the error matters in absolute terms: at a point of the approximation ℓ can undershoot
(P² + Q²)/v by about (k − 1)(ℓ + v)²/(4v) ≈ ε/2 · v (k = (1+ε)²): an absolute error of
order ε on every line, whatever its flow. The loss error is therefore ε/2 · Σ r_pu
relative to the losses, which sets ν (see `levels_for`); `violation` and
`compiler.formulations.distflow.cone_report` measure it at the solution, and `tangent_cut` gives
the exact supporting plane at a violating point for iterative tightening.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr
from linopy import LinearExpression, Variable

LEVEL = "cone_level"
Expr = LinearExpression | Variable


def stage_accuracy(nu: int) -> float:
    """ε of one planar stage with ν levels: 1/cos(π/2^ν) − 1."""
    if nu < 2:
        raise ValueError("a polyhedral cone needs at least 2 levels (a square)")
    return 1.0 / math.cos(math.pi / 2.0 ** nu) - 1.0


def rotated_accuracy(nu: int) -> float:
    """Dilation of the rotated cone (two nested stages): (1 + ε)² − 1."""
    return (1.0 + stage_accuracy(nu)) ** 2 - 1.0


def levels_for(accuracy: float) -> int:
    """The fewest levels whose rotated-cone dilation is at most `accuracy`."""
    nu = 2
    while rotated_accuracy(nu) > accuracy and nu < 30:
        nu += 1
    return nu


def stage_rows(nu: int) -> int:
    """Rows of one planar stage: 4 (absolute values) + 3 per rotation + 2 (closing)."""
    return 3 * nu + 3


def rotated_rows(nu: int) -> int:
    """Rows per rotated cone: two stages, less the redundant −s ≤ ξ₀ row."""
    return 2 * stage_rows(nu) - 1


@dataclass(frozen=True)
class ConeBlock:
    """What one call added to the model."""

    name: str
    nu: int
    cones: int  # number of cones (unmasked elements)
    rows: int  # constraint rows added
    columns: int  # auxiliary variables added
    accuracy: float  # guaranteed dilation: ‖·‖ ≤ (1 + accuracy) · t

    @property
    def variables(self) -> tuple[str, ...]:
        if self.nu == 0:  # tangent planes: no auxiliary variables
            return ()
        return (f"{self.name}_s", f"{self.name}_1_xi", f"{self.name}_1_eta",
                f"{self.name}_2_xi", f"{self.name}_2_eta")


def _levels(nu: int) -> pd.Index:
    return pd.RangeIndex(nu, name=LEVEL)


def _coords(like: xr.DataArray, nu: int) -> list[pd.Index]:
    return [like.indexes[d] for d in like.dims] + [_levels(nu)]


def _count(mask: xr.DataArray | None, like: xr.DataArray) -> int:
    if mask is None:
        return int(like.size)
    return int(mask.broadcast_like(like).sum())


def add_planar_cone(m: linopy.Model, name: str, x1: Expr, x2: Expr, t: Expr, nu: int,
                    mask: xr.DataArray | None = None, x1_nonneg: bool = False) -> int:
    """‖(x₁, x₂)‖ ≤ t over the dims of the expressions (BTN, ν levels).

    Adds variables `{name}_xi`, `{name}_eta` over (dims…, cone_level) and returns the
    number of rows per cone. `x1_nonneg` skips the row ξ₀ ≥ −x₁ when x₁ ≥ 0 anyway."""
    e1 = x1.to_linexpr() if isinstance(x1, Variable) else x1
    like = e1.const
    levels = _levels(nu)
    xi = m.add_variables(lower=0.0, coords=_coords(like, nu), name=f"{name}_xi")
    eta = m.add_variables(lower=0.0, coords=_coords(like, nu), name=f"{name}_eta")
    xi0, eta0 = xi.isel({LEVEL: 0}), eta.isel({LEVEL: 0})
    rows = 0
    m.add_constraints(xi0 - x1, ">=", 0.0, name=f"{name}_x1p", mask=mask)
    rows += 1
    if not x1_nonneg:
        m.add_constraints(xi0 + x1, ">=", 0.0, name=f"{name}_x1n", mask=mask)
        rows += 1
    m.add_constraints(eta0 - x2, ">=", 0.0, name=f"{name}_x2p", mask=mask)
    m.add_constraints(eta0 + x2, ">=", 0.0, name=f"{name}_x2n", mask=mask)
    rows += 2
    if nu > 1:
        # rotation k uses level k−1: a cyclic roll, with the (meaningless) rows at level 0
        # masked out, keeps every slot present (no absent-label arithmetic)
        k = np.arange(nu)
        theta = xr.DataArray(np.pi / 2.0 ** (k + 1), coords=[levels])
        cos, sin = np.cos(theta), np.sin(theta)
        xi_prev, eta_prev = xi.roll({LEVEL: 1}), eta.roll({LEVEL: 1})
        rot = xr.DataArray(k >= 1, coords=[levels])
        rot_mask = rot if mask is None else (mask & rot)
        m.add_constraints(xi - cos * xi_prev - sin * eta_prev, "==", 0.0,
                          name=f"{name}_rot", mask=rot_mask)
        turned = -sin * xi_prev + cos * eta_prev
        m.add_constraints(eta - turned, ">=", 0.0, name=f"{name}_rotp", mask=rot_mask)
        m.add_constraints(eta + turned, ">=", 0.0, name=f"{name}_rotn", mask=rot_mask)
        rows += 3 * (nu - 1)
    last_xi, last_eta = xi.isel({LEVEL: nu - 1}), eta.isel({LEVEL: nu - 1})
    m.add_constraints(last_xi - t, "<=", 0.0, name=f"{name}_close", mask=mask)
    m.add_constraints(last_eta - math.tan(math.pi / 2.0 ** nu) * last_xi, "<=", 0.0,
                      name=f"{name}_angle", mask=mask)
    return rows + 2


def add_rotated_cone(m: linopy.Model, name: str, p: Expr, q: Expr, ell: Expr, v: Expr,
                     nu: int, mask: xr.DataArray | None = None) -> ConeBlock:
    """ℓ·v ≥ p² + q² (all in consistent per-unit quantities) over the expressions' dims,
    as ‖(2p, 2q)‖ ≤ s, ‖(s, ℓ − v)‖ ≤ ℓ + v with two BTN stages of ν levels each."""
    e = p.to_linexpr() if isinstance(p, Variable) else p
    like = e.const
    s = m.add_variables(lower=0.0, coords=[like.indexes[d] for d in like.dims],
                        name=f"{name}_s")
    r1 = add_planar_cone(m, f"{name}_1", 2.0 * p, 2.0 * q, s, nu, mask)
    r2 = add_planar_cone(m, f"{name}_2", s, ell - v, ell + v, nu, mask, x1_nonneg=True)
    n = _count(mask, like)
    return ConeBlock(name=name, nu=nu, cones=n, rows=(r1 + r2) * n,
                     columns=(4 * nu + 1) * n, accuracy=rotated_accuracy(nu))


def add_tangent_planes(m: linopy.Model, name: str, p: Expr, q: Expr, ell: Expr, v: Expr,
                       points: xr.DataArray, mask: xr.DataArray | None = None) -> ConeBlock:
    """Outer approximation of ℓ·v ≥ p² + q² by supporting planes at given cone points.

    `points` holds (p₀, q₀) per plane along a dim `cone_cut` (with a `component`
    coordinate "p", "q"), taken on the surface at v₀ = 1, ℓ₀ = p₀² + q₀²: the plane
    ℓ ≥ 2p₀ p + 2q₀ q − (p₀² + q₀²) v, exact at that point and valid everywhere. No
    accuracy is guaranteed a priori: the solution is measured and cut (`tangent_cut`)
    until the loss error is small — a Kelley / outer-approximation loop."""
    p0 = points.sel(component="p", drop=True)
    q0 = points.sel(component="q", drop=True)
    ones = xr.ones_like(p0)
    l0 = p0 ** 2 + q0 ** 2
    cp, cq, cl, cv = tangent_cut(p0.values, q0.values, l0.values, ones.values)
    coef = {k: xr.DataArray(c, coords=p0.coords) for k, c in
            zip(("p", "q", "l", "v"), (cp, cq, cl, cv))}
    m.add_constraints(coef["p"] * p + coef["q"] * q + coef["l"] * ell + coef["v"] * v, "<=",
                      0.0, name=f"{name}_planes", mask=mask)
    e = p.to_linexpr() if isinstance(p, Variable) else p
    n = _count(mask, e.const)
    k = int(p0.size)
    return ConeBlock(name=name, nu=0, cones=n, rows=k * n, columns=0, accuracy=math.inf)


# ---------------------------------------------------------------------- at a solution


def violation(p: np.ndarray, q: np.ndarray, ell: np.ndarray, v: np.ndarray) -> np.ndarray:
    """‖(2p, 2q, ℓ − v)‖ − (ℓ + v): > 0 where the point lies outside the true cone."""
    return np.sqrt(4.0 * p ** 2 + 4.0 * q ** 2 + (ell - v) ** 2) - (ell + v)


def tangent_cut(p: np.ndarray, q: np.ndarray, ell: np.ndarray, v: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients (c_p, c_q, c_ℓ, c_v) of the supporting plane c·(p, q, ℓ, v) ≤ 0 of the
    rotated cone at a point: valid for the whole cone (Cauchy–Schwarz), and cutting the
    point off wherever `violation` > 0. With g = (2p, 2q, ℓ − v)/‖·‖:
    2g₁ p + 2g₂ q + g₃ (ℓ − v) − (ℓ + v) ≤ 0."""
    norm = np.sqrt(4.0 * p ** 2 + 4.0 * q ** 2 + (ell - v) ** 2)
    safe = np.where(norm > 0, norm, 1.0)
    g1, g2, g3 = 2.0 * p / safe, 2.0 * q / safe, (ell - v) / safe
    return 2.0 * g1, 2.0 * g2, g3 - 1.0, -g3 - 1.0


def planar_polygon_norm(x1: np.ndarray, x2: np.ndarray, nu: int) -> np.ndarray:
    """The smallest t the ν-level construction accepts for (x₁, x₂), by the greedy rule
    (ξ₀ = |x₁|, η₀ = |x₂|, exact rotations, t = max(ξ, η / tan)). It equals the LP value,
    since ξ_k grows with η_{k−1}; used by the benchmark and as a test oracle."""
    xi, eta = np.abs(x1), np.abs(x2)
    for k in range(1, nu):
        th = np.pi / 2.0 ** (k + 1)
        xi, eta = (np.cos(th) * xi + np.sin(th) * eta,
                   np.abs(-np.sin(th) * xi + np.cos(th) * eta))
    return np.asarray(np.maximum(xi, eta / math.tan(math.pi / 2.0 ** nu)))
