"""The polyhedral cone of `compiler.formulations.cone` against its stated accuracy, on random
points.

The construction is solved as an LP (HiGHS via linopy) over a batch of random points at
once: for fixed (x₁, x₂) the smallest t it accepts must satisfy t ≤ ‖x‖ ≤ (1 + ε) t (outer
approximation, stated dilation), and the bound must be nearly attained (it is not loose).
For the rotated cone ℓ·v ≥ p² + q² the smallest ℓ for fixed (p, q, v) must lie between the
exact value minus the dilation's allowance and the exact value.
"""

from __future__ import annotations

import math
import warnings

import linopy
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from gridc.compiler.formulations.cone import (
    add_planar_cone,
    add_rotated_cone,
    add_tangent_planes,
    levels_for,
    planar_polygon_norm,
    rotated_accuracy,
    rotated_rows,
    stage_accuracy,
    tangent_cut,
    violation,
)

POINTS = pd.RangeIndex(300, name="pt")


def _solve(m: linopy.Model) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.solve(solver_name="highs", io_api="direct", output_flag=False)
    assert m.termination_condition == "optimal"


def _data(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, coords=[POINTS])


def _fixed(m: linopy.Model, name: str, values: np.ndarray) -> linopy.Variable:
    """A variable pinned to `values` (the construction takes expressions)."""
    return m.add_variables(lower=_data(values), upper=_data(values), coords=[POINTS],
                           name=name)


def test_accuracy_formula() -> None:
    assert stage_accuracy(2) == pytest.approx(math.sqrt(2) - 1)  # a square
    assert stage_accuracy(10) == pytest.approx(1 / math.cos(math.pi / 1024) - 1)
    assert rotated_accuracy(10) == pytest.approx((1 + stage_accuracy(10)) ** 2 - 1)
    assert rotated_accuracy(levels_for(1e-5)) <= 1e-5 < rotated_accuracy(levels_for(1e-5) - 1)
    assert rotated_rows(10) == 65


@pytest.mark.parametrize("nu", [2, 3, 5, 8, 11])
def test_planar_cone_within_stated_bound(nu: int) -> None:
    rng = np.random.default_rng(nu)
    angle = rng.uniform(0, 2 * np.pi, POINTS.size)
    radius = rng.lognormal(0, 1, POINTS.size)
    x1, x2 = radius * np.cos(angle), radius * np.sin(angle)
    m = linopy.Model()
    t = m.add_variables(lower=0, coords=[POINTS], name="t")
    add_planar_cone(m, "c", _fixed(m, "x1", x1), _fixed(m, "x2", x2), t, nu)
    m.add_objective(t.sum())
    _solve(m)
    t_min = t.solution.values
    ratio = radius / t_min
    eps = stage_accuracy(nu)
    assert ratio.min() >= 1 - 1e-7  # every point of the true cone is accepted
    assert ratio.max() <= 1 + eps + 1e-7  # the stated bound holds
    assert ratio.max() >= 1 + 0.8 * eps  # ... and is nearly attained on 300 points
    np.testing.assert_allclose(planar_polygon_norm(x1, x2, nu), t_min, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("nu", [4, 7, 10])
def test_rotated_cone_within_stated_bound(nu: int) -> None:
    rng = np.random.default_rng(100 + nu)
    p = rng.normal(0, 0.4, POINTS.size)
    q = rng.normal(0, 0.2, POINTS.size)
    v = rng.uniform(0.9, 1.1, POINTS.size)
    m = linopy.Model()
    ell = m.add_variables(lower=0, coords=[POINTS], name="ell")
    block = add_rotated_cone(m, "cone", _fixed(m, "p", p), _fixed(m, "q", q), ell,
                             _fixed(m, "v", v), nu)
    m.add_objective(ell.sum())
    _solve(m)
    got = ell.solution.values
    exact = (p ** 2 + q ** 2) / v
    k = 1 + rotated_accuracy(nu)
    # the approximation never asks for more current than the exact cone ...
    assert (got <= exact + 1e-9).all()
    # ... and the point it keeps lies in the cone dilated by k: ‖(2p,2q,ℓ−v)‖ ≤ k (ℓ + v)
    norm = np.sqrt(4 * p ** 2 + 4 * q ** 2 + (got - v) ** 2)
    assert (norm <= k * (got + v) + 1e-9).all()
    assert violation(p, q, got, v).max() <= (k - 1) * (got + v).max() + 1e-9
    assert block.rows == rotated_rows(nu) * POINTS.size
    assert block.cones == POINTS.size


def test_tangent_planes_are_valid_and_exact_at_their_point() -> None:
    rng = np.random.default_rng(7)
    p, q, v = rng.normal(0, 0.5, 50), rng.normal(0, 0.3, 50), rng.uniform(0.9, 1.1, 50)
    ell = (p ** 2 + q ** 2) / v
    cp, cq, cl, cv = tangent_cut(p, q, ell, v)
    # exact (zero) at the point of tangency ...
    np.testing.assert_allclose(cp * p + cq * q + cl * ell + cv * v, 0.0, atol=1e-12)
    # ... valid for every other point of the cone
    p2, q2, v2 = rng.normal(0, 0.5, 50), rng.normal(0, 0.3, 50), rng.uniform(0.9, 1.1, 50)
    ell2 = (p2 ** 2 + q2 ** 2) / v2 * rng.uniform(1.0, 2.0, 50)
    assert (cp * p2 + cq * q2 + cl * ell2 + cv * v2 <= 1e-12).all()


def test_tangent_plane_block_is_an_outer_approximation() -> None:
    rng = np.random.default_rng(3)
    p = rng.normal(0, 0.4, POINTS.size)
    v = rng.uniform(0.9, 1.1, POINTS.size)
    m = linopy.Model()
    ell = m.add_variables(lower=0, coords=[POINTS], name="ell")
    planes = xr.DataArray([[0.4, 0.0], [-0.4, 0.0], [0.1, 0.0], [-0.1, 0.0]],
                          dims=("cone_cut", "component"),
                          coords={"cone_cut": range(4), "component": ["p", "q"]})
    add_tangent_planes(m, "cone", _fixed(m, "p", p), _fixed(m, "q", 0 * p), ell,
                       _fixed(m, "v", v), planes)
    m.add_objective(ell.sum())
    _solve(m)
    assert (ell.solution.values <= p ** 2 / v + 1e-9).all()
