"""`compiler.core.rows` (constraint rows as numpy triplets) and `runtime.backend.matrices` (the
solver's matrices read from the model) against linopy's own arithmetic and accessor:
the fast paths must write and read exactly the rows linopy would."""

from __future__ import annotations

from pathlib import Path

import linopy
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gridc
from gridc.compiler.core.builder import sparse_sum
from gridc.compiler.core.rows import RowGrid, gather, summed, term, total, weighted
from gridc.runtime.backend.matrices import _from_linopy, model_matrices

ROOT = Path(__file__).resolve().parents[1]
S = pd.Index(["a", "b"], name="scenario")
T = pd.Index([0, 1, 2], name="time")
BUS = pd.Index(["1", "2", "3", "4"], name="bus")
LINE = pd.Index(["1-2", "1-3", "1-4", "3-4"], name="line")
COORDS = {"scenario": S, "time": T, "bus": BUS, "line": LINE}
# incidence with a high-degree bus 1 (three lines leave it): linopy's dense layout
# pads every row to its width, the rows here must not care
A = xr.DataArray([[1, 1, 1, 0], [-1, 0, 0, 0], [0, -1, 0, 1], [0, 0, -1, -1]],
                 coords=[BUS, LINE]).astype(float)


def _model() -> tuple[linopy.Model, linopy.Variable, linopy.Variable, linopy.Variable]:
    m = linopy.Model()
    p = m.add_variables(lower=-5, upper=5, coords=[S, T, LINE], name="p")
    g = m.add_variables(lower=0, upper=9, coords=[S, T, BUS], name="g")
    y = m.add_variables(coords=[LINE], name="y", binary=True)
    return m, p, g, y


def _canonical(mat) -> tuple:  # type: ignore[no-untyped-def]
    a = mat.A.copy()
    a.sort_indices()
    return (list(mat.clabels), a.indptr.tolist(), a.indices.tolist(), a.data.round(12).tolist(),
            mat.b.round(12).tolist(), list(mat.sense))


@pytest.mark.filterwarnings("ignore::linopy.config.LinopySemanticsWarning")  # shift, below
def test_rows_build_the_rows_linopy_arithmetic_builds() -> None:
    """Nodal balance through the incidence, a big-M pair with a line-only binary and a
    shifted (storage-like) balance: the same matrix as linopy's expressions give."""
    rhs = xr.DataArray(np.arange(24.0).reshape(2, 3, 4), coords=[S, T, BUS])
    k = xr.DataArray([0.5, 0.0, 2.0, 1.0], coords=[LINE])

    fast, p, g, y = _model()
    buses, flows = RowGrid.of(COORDS, ("scenario", "time", "bus")), \
        RowGrid.of(COORDS, ("scenario", "time", "line"))
    fast.add_constraints((total(buses, [term(buses, g)]) - gather(buses, p, A, "line"))
                         .to_constraint(fast, "==", rhs), name="nodal", freeze=True)
    fast.add_constraints((term(flows, p) - term(flows, y, k)).to_constraint(fast, "<=", 1.0),
                         name="cap", freeze=True)
    fast.add_constraints((term(flows, p) - term(flows, p, 0.5, shift={"time": 1}))
                         .to_constraint(fast, ">=", -1.0), name="ramp", freeze=True)

    slow, p2, g2, y2 = _model()
    slow.add_constraints(g2 - sparse_sum(p2, A, "line", "bus"), "==", rhs, name="nodal")
    slow.add_constraints(p2 - k * y2, "<=", 1.0, name="cap")
    slow.add_constraints(p2 - 0.5 * p2.shift(time=1), ">=", -1.0, name="ramp")

    assert _canonical(model_matrices(fast)) == _canonical(_from_linopy(slow))


def test_rows_refuse_other_coordinates() -> None:
    _, p, _, _ = _model()
    grid = RowGrid.of({**COORDS, "line": LINE[::-1]}, ("scenario", "time", "line"))
    with pytest.raises(ValueError, match="coordinates of 'line' differ"):
        term(grid, p)
    with pytest.raises(ValueError, match="not in"):
        term(RowGrid.of(COORDS, ("scenario", "time")), p)


def test_summed_and_weighted_equal_linopy_sums() -> None:
    m, p, g, _ = _model()
    price = xr.DataArray([[1.0, 2.0, 3.0]] * 2, coords=[S, T])
    prob = xr.DataArray([0.25, 0.75], coords=[S])
    fast = summed(m, COORDS, "scenario", [(g, price), (p, 0.5)], const=price)
    slow = (price * g).sum(["time", "bus"]) + (0.5 * p).sum(["time", "line"]) + \
        price.sum("time")

    def coefficients(expr) -> dict:  # type: ignore[no-untyped-def]
        d = expr.data
        out: dict = {}
        for v, c in zip(d["vars"].values.ravel(), d["coeffs"].values.ravel(), strict=True):
            if v != -1:
                out[int(v)] = out.get(int(v), 0.0) + float(c)
        return out

    for s in S:
        assert coefficients(fast.sel(scenario=s)) == coefficients(slow.sel(scenario=s))
    assert fast.const.values.tolist() == slow.const.values.tolist()
    exp_fast, exp_slow = weighted(fast, "scenario", prob), (prob * slow).sum("scenario")
    assert coefficients(exp_fast) == pytest.approx(coefficients(exp_slow))
    assert float(exp_fast.const) == pytest.approx(float(exp_slow.const))


def test_matrices_equal_linopy_on_awkward_rows() -> None:
    """Dense rows with a duplicate variable, a zero coefficient, an all-zero row and a
    `<= inf` row: `model_matrices` leaves them out or sums them as linopy does after
    its sanitizing, without rewriting the model."""
    m, p, g, _ = _model()
    m.add_constraints(p + p - 2 * p, "<=", 1.0, name="cancel")  # sums to an empty row
    m.add_constraints(1e-12 * p + g.isel(bus=0, drop=True), "<=", 3.0, name="tiny")
    m.add_constraints(0.0 * p, ">=", -1.0, name="zero")  # no term survives: no row
    m.add_constraints(p + 0.5 * p, "<=", xr.DataArray([1.0, np.inf], coords=[S]), name="dup")
    m.add_constraints(g.sum("bus"), ">=", 2.0, name="sum")
    m.add_objective(g.sum() + 2 * p.sum())
    ours = model_matrices(m)
    assert "dup" in m.constraints and m.constraints["dup"].labels.values.min() >= 0  # untouched
    ref = _from_linopy(m)
    assert _canonical(ours) == _canonical(ref)
    for field in ("vlabels", "c", "lb", "ub", "vtypes"):
        assert np.array_equal(getattr(ours, field), getattr(ref, field)), field


@pytest.mark.parametrize(("model", "study", "options"), [
    ("ieee33_operation.grid", None, {}),
    ("ieee33_operation.grid", None, {"elastic": True}),
    ("ieee33_resilience.grid", "quick", {}),
    ("css_adn.grid", None, {}),
])
def test_matrices_equal_linopy_on_shipped_models(model: str, study: str | None,
                                                 options: dict) -> None:  # type: ignore[type-arg]
    compiled = gridc.compile(gridc.load(ROOT / "models" / model), study=study, **options)
    ours = model_matrices(compiled.model)
    ref = _from_linopy(compiled.model)
    assert _canonical(ours) == _canonical(ref)
    for field in ("vlabels", "c", "lb", "ub", "vtypes"):
        assert np.array_equal(getattr(ours, field), getattr(ref, field)), field


def test_rows_csr_places_every_triplet() -> None:
    """The counting placement against scipy's own COO conversion, for every layout a
    part can have: one term per row, several per row, some rows only, out of order
    (falls back to sorting), and one variable named twice in a row (summed)."""
    import scipy.sparse

    from gridc.compiler.core.rows import Part, Rows

    grid = RowGrid.of(COORDS, ("scenario", "time"))  # 6 rows
    rng = np.random.default_rng(7)
    parts = (
        Part(np.arange(6), np.arange(6), rng.random(6), source="a"),  # one per row
        Part(np.array([0, 0, 2, 5, 5, 5]), np.array([10, 11, 12, 13, 14, 15]),
             rng.random(6), 2.0, source="b"),  # several per row, some rows only
        Part(np.array([1, 3]), np.array([20, 21]), rng.random(2), -1.0, source="c"),
    )
    for extra in ((), (Part(np.array([4, 1]), np.array([30, 31]), rng.random(2)),),
                  (Part(np.array([0, 5]), np.array([10, 13]), rng.random(2), source="b"),)):
        rows = Rows(grid, parts + extra)
        row, var, coef = rows.triplets()
        ref = scipy.sparse.csr_array((coef, (row, var)), shape=(6, 40))
        ref.sum_duplicates()
        got = rows._csr(40)
        got.sum_duplicates()
        assert np.array_equal(got.indptr, ref.indptr)
        assert np.array_equal(got.indices, ref.indices)
        assert np.allclose(got.data, ref.data)
