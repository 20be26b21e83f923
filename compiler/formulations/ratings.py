"""Apparent-power ratings |S| ≤ S_max as a polygon, in either formulation.

Why a polygon: |S|² = P² + Q² ≤ S² is a disc HiGHS cannot take; the old box |P|, |Q| ≤ S
let a line rated 800 kVA carry 990 kVA (issue 14; the box's corner is √2 S). The disc
is replaced by N faces with normals θ_k = 2πk/N:

    P cos θ_k + Q sin θ_k ≤ c · S,      c = 1 (outer) or cos(π/N) (inner)

* `outer` (the default, circumscribed): a relaxation, it never rejects an operating
  point the disc allows, and |S| exceeds S by at most 1/cos(π/N) − 1 (1.96 % at the
  default N = 16), which the summary prints as the worst-case overshoot;
* `inner` (inscribed): |S| ≤ S holds exactly, at the price of up to 1 − cos(π/N) of
  the capacity between vertices.

N is a multiple of 4, so four faces are the axes: they stay variable bounds (|P|, |Q| ≤
c·S, as before) and only the N − 4 others become rows, one block over (scenario, time,
line, face) per end. A branch with no rating has none of these rows. On cells whose
branch a decision y switches (`compiler.core.line_state`) the right-hand side is c·S·y;
a switched branch without a rating is bounded by the flow cap M·y instead (a big-M
derived from the model's demand and sources, `flow.flow_cap`, never reported as a
rating).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr
from linopy import Variable

from gridc.compiler.core.builder import Builder
from gridc.compiler.core.index import LINE, SCENARIO, TIME
from gridc.compiler.core.line_state import LineStates
from gridc.compiler.core.rows import RowGrid, term

FLOW_DIMS = (SCENARIO, TIME, LINE)
FACE = "face"


def scale(sides: int, fit: str) -> float:
    """c: 1 for the circumscribed polygon, cos(π/N) for the inscribed one."""
    return 1.0 if fit == "outer" else math.cos(math.pi / sides)


def overshoot(sides: int, fit: str) -> float:
    """Worst-case |S|/S_max − 1 a solution may show: 1/cos(π/N) − 1 outer, 0 inner."""
    return 1.0 / math.cos(math.pi / sides) - 1.0 if fit == "outer" else 0.0


def face_angles(sides: int) -> np.ndarray:
    """θ_k = 2πk/N of the faces that are not axes (those are variable bounds)."""
    k = np.arange(sides)
    return 2.0 * np.pi * k[k % (sides // 4) != 0] / sides


def summary(b: Builder) -> dict[str, object]:
    """What the solve summary states about ratings (`summary["ratings"]`)."""
    net = b.idx.network
    rated = int(np.isfinite(rating_of(b)).sum())
    return {"polygon_sides": net.rating_sides, "fit": net.rating_fit,
            "overshoot": overshoot(net.rating_sides, net.rating_fit),
            "rated_branches": rated, "unrated_branches": len(net.lines) - rated}


def rating_of(b: Builder) -> xr.DataArray:
    """[line] kVA, +inf where the branch has no thermal limit."""
    from gridc.compiler.core.branches import branches

    return branches(b.idx).rating


def box(b: Builder, on: xr.DataArray, rating: xr.DataArray) -> xr.DataArray:
    """Variable bound of |P| and |Q| [kVA]: c·S where the branch may carry flow (+inf if
    unrated), 0 where it may not."""
    net = b.idx.network
    cap = rating * scale(net.rating_sides, net.rating_fit)
    return xr.where(on, cap, 0.0).transpose(*FLOW_DIMS)


def add_polygon(b: Builder, side: str, p: Variable, q: Variable, states: LineStates,
                rating: xr.DataArray, *, ell: Variable | None = None,
                r_loss: xr.DataArray | None = None, x_loss: xr.DataArray | None = None,
                family: str = "line ratings") -> None:
    """The non-axis faces at one end of every rated branch: P, Q (or, at the to end
    under DistFlow, P − r_loss·ℓ and Q − x_loss·ℓ in kW/kvar) against c·S, or c·S·y on
    the cells a decision switches. Nothing when N = 4 or no branch is rated."""
    net = b.idx.network
    angles = face_angles(net.rating_sides)
    rated = np.isfinite(rating.values)
    if not angles.size or not rated.any():
        return
    c = scale(net.rating_sides, net.rating_fit)
    faces = pd.Index(np.arange(angles.size), name=FACE)
    base = b.grid(*FLOW_DIMS)
    grid = RowGrid((*base.dims, FACE), (*base.indexes, faces))
    cos = xr.DataArray(np.cos(angles), coords=[faces])
    sin = xr.DataArray(np.sin(angles), coords=[faces])
    rows = term(grid, p, cos) + term(grid, q, sin)
    if ell is not None and r_loss is not None and x_loss is not None:
        rows = rows - term(grid, ell, cos * r_loss) - term(grid, ell, sin * x_loss)
    finite = xr.DataArray(rated, coords=[b.idx.coords[LINE]])
    cap = xr.where(finite, rating, 0.0) * c
    switched = xr.zeros_like(states.on)
    for sw in states.switches:
        switched = switched | sw.mask
    dims = (*FLOW_DIMS, FACE)
    plain = (states.on & finite & ~switched).broadcast_like(cos).transpose(*dims)
    b.constrain(f"line_s_{side}", rows, "<=", cap, family=family, source=LINE, unit="kVA",
                mask=plain)
    for sw in states.switches:
        cells = (sw.mask & finite).broadcast_like(cos).transpose(*dims)
        if bool(cells.any()):
            b.constrain(f"line_s_{side}_{sw.name}", rows - term(grid, sw.y, cap), "<=", 0.0,
                        family=family, source=LINE, unit="kVA", mask=cells)
