"""Island cuts: valid inequalities that make line reinforcement count in the LP.

Why: a reinforced line's flow is boxed by |P| ≤ S·y with S the line's rating (the
base power, 10 MVA, when the network gives none). In the LP relaxation y = 0.06
then carries 600 kW into an island, so the relaxation buys 6 % of a reinforcement
instead of MESS, EV-RB or shedding, and its bound is worthless (method1 of
`models/ieee33_resilience.grid`: 2.6 MCNY against 6 MCNY for the plans found).

The cut: in a radial feeder the buses below line l (its subtree, away from the
slack bus) reach the substation only through l. Where l is out (u = 0) and not
reinforced (y = 0) that subtree is an island, whose balance gives

    Σ_sub (shed + generation + discharge of storage, MESS and EV-RB) = D_sub + charging
                                                                      ≥ D_sub,

with D_sub its demand. With y = 1 the left side is ≥ 0. Both hold in
    Σ_sub (shed + generation + discharge) ≥ (1 − y_l) · D_sub     [s, t, l]
(linear in y, so valid for y ∈ {0, 1}). In the relaxation a fraction y of the
line now serves at most y·D_sub of the island: buying the line costs what it
saves, as in the integer problem.

The rows exist only where they can bind: candidate lines out of service at (s, t)
whose subtree has demand. A line is skipped when removing it does not cut the
feeder in two (a meshed network), or when a unit below it can take power in as
negative generation (the identity above would then not bound the left side from
below at y = 1).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from linopy import LinearExpression, Variable
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridc.compiler.core.builder import Builder, sparse_sum
from gridc.compiler.core.index import BUS, GEN, LINE, LOAD, SCENARIO, TIME
from gridc.compiler.families.generators import GeneratorVars
from gridc.compiler.families.loads import DemandVars


def subtrees(b: Builder, candidates: list[str]) -> xr.DataArray:
    """[line, bus] 1 where the bus lies below candidate `line` (on the side away from
    the slack bus when the line is removed from the lines that can ever be closed)."""
    net = b.idx.network
    buses = b.idx.coords[BUS]
    ids = [str(x) for x in b.idx.coords[LINE]]
    fr = buses.get_indexer([ln.from_bus for ln in net.lines])
    to = buses.get_indexer([ln.to_bus for ln in net.lines])
    usable = np.array([(not ln.normally_open) or lid in candidates
                       for ln, lid in zip(net.lines, ids)])
    slack = int(buses.get_loc(b.idx.slack_bus))
    out = np.zeros((len(ids), len(buses)))
    for k, lid in enumerate(ids):  # candidate lines only: a dozen graph searches
        if lid not in candidates:
            continue
        keep = usable.copy()
        keep[k] = False
        graph = coo_matrix((np.ones(int(keep.sum())), (fr[keep], to[keep])),
                           shape=(len(buses), len(buses)))
        _, label = connected_components(graph, directed=False)
        out[k] = label != label[slack]
    return xr.DataArray(out, coords=[b.idx.coords[LINE], buses])


def island_cuts(b: Builder, y: Variable | None, gen: GeneratorVars, dem: DemandVars,
                supplies: list[LinearExpression]) -> None:
    """Add `island_cut` [scenario, time, line] for the candidate lines of reinforcement
    `y`. `supplies`: every other family's non-negative injection [scenario, time, bus]
    (storage, MESS and EV-RB discharge, DG output): each may feed an island, so each
    belongs on the left side — a family left out would make the cut invalid. None in
    elastic mode (`--diagnose`): there a nodal-balance slack may feed an island too, so
    the cut would no longer be valid (it made the elastic model of an over-budget `fix`
    infeasible); it only tightens the relaxation, the model means the same without it."""
    if y is None or b.elastic:
        return
    cand = [str(x) for x, up in zip(b.idx.coords[LINE], y.upper.values) if up > 0.5]
    if not cand:
        return
    sub = subtrees(b, cand)
    gen_bus = b.idx.at_bus(GEN, [g.bus for g in b.idx.generators])
    absorbs = (gen.p.lower < 0).any([SCENARIO, TIME])
    may_absorb = (gen_bus * absorbs).sum(GEN) > 0
    sub = sub.where(~((sub * may_absorb).sum(BUS) > 0), 0.0)
    load_bus = b.idx.at_bus(LOAD, [ld.bus for ld in b.idx.loads])
    demand = dem.bus_p + xr.dot(load_bus, dem.load_p, dim=LOAD)
    d_sub = (demand * sub).sum(BUS).transpose(SCENARIO, TIME, LINE)
    hard = (b.data.availability < 0.5) & (d_sub > 1e-9)
    if not bool(hard.any()):
        return

    supply = [sparse_sum(gen.p, gen_bus, GEN, BUS)]
    if dem.bus_shed is not None:
        supply.append(dem.bus_shed.to_linexpr())
    if dem.load_shed is not None:
        supply.append(sparse_sum(dem.load_shed, load_bus, LOAD, BUS))
    supply.extend(supplies)
    total = supply[0]
    for term in supply[1:]:
        total = total + term
    lhs = sparse_sum(total, sub.transpose(LINE, BUS), BUS, LINE)
    b.constrain("island_cut", lhs + d_sub * y, ">=", d_sub, family="reinforcement",
                source=LINE, unit="kW", mask=hard.transpose(SCENARIO, TIME, LINE))
