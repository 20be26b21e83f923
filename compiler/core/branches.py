"""Branch and shunt data in per unit of the system base, for every formulation.

Why here: lines, transformers and switches share the `line` dimension, and every
formulation (and the AC check) needs the same numbers for them:

* `r_pu`, `x_pu` [line]: series impedance on the system power base, each branch on the
  base impedance of its own voltage level, Z_b = vn_from² · 1000 / S_base (a line joins
  buses of one level, GRID025; a transformer's ohms are stated at its HV bus level);
* `tau` [line]: off-nominal ratio at the from side (1 but for transformers): the
  MATPOWER branch, an ideal transformer then the series impedance, so the drop reads
  w_from/τ² − w_to = 2(rP + xQ) − (r² + x²)ℓ;
* `switch` [line]: zero-impedance switches (their drop row is w_from = w_to: voltages
  equated, no tiny impedance);
* `rating` [line]: the apparent-power limit in kVA, +inf where neither the branch nor
  the network's `cable_rating` gives one (there is no hidden default);
* end shunts [line]: the admittance a branch puts at its ends while it is in service —
  half the cable charging at each end (pi model), a transformer's magnetising branch
  at its HV end; and the bus shunts [bus] of the `shunts` table. `bus_shunts` sums
  them per (scenario, time, bus) over the branches in service (`states.fixed`).

A shunt injects b·V² only where its bus is energised. An outage can leave buses in an
island that nothing can feed: no line that may carry flow reaches the slack, and no
unit in it can supply (a generator, a battery, a site where storage, DG, a substation,
a mobile unit or an EV pack may be). Such an island is dead (V = 0): its loads are
shed and its cables and capacitor banks inject nothing. Counting their charging there
made every model of a cable feeder infeasible as soon as a storm cut a part off (the
injected kvar had nowhere to go). `dead_buses` finds those cells from the data alone;
an island that a decision may reconnect (a reinforced line, a built candidate line) or
that holds a possible supply keeps its shunts, and the model decides how it is run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from gridc.compiler.core.index import BUS, LINE, SCENARIO, TIME, ModelIndex
from gridc.compiler.core.scenarios import reachable_from
from gridc.dsl import ir
from gridc.dsl import ir_planning as P

BUS_DIMS = (SCENARIO, TIME, BUS)


@dataclass(frozen=True)
class Branches:
    r_pu: xr.DataArray  # [line]
    x_pu: xr.DataArray
    tau: xr.DataArray
    switch: xr.DataArray  # [line] bool
    rating: xr.DataArray  # [line] kVA, inf: no thermal limit
    g_from: xr.DataArray  # [line] pu shunt conductance at the from end while in service
    b_from: xr.DataArray  # [line] pu shunt susceptance (positive: capacitive)
    g_to: xr.DataArray
    b_to: xr.DataArray
    g_bus: xr.DataArray  # [bus] pu, the `shunts` table (constant admittance)
    b_bus: xr.DataArray

    @property
    def inv_tau2(self) -> xr.DataArray:
        return 1.0 / self.tau ** 2


def z_base_ohm(net: ir.Network) -> np.ndarray:
    """Base impedance [ohm] per branch: its from bus level's vn² · 1000 / S_base."""
    vn = net.bus_vn_kv()
    return np.array([vn.get(ln.from_bus, net.base_kv) ** 2 for ln in net.lines]) \
        * 1000.0 / net.base_kva


def magnetising_pu(ln: ir.Line, base_kva: float) -> tuple[float, float]:
    """(g, b) of a transformer's no-load branch on the system base: g = pfe / S_base,
    |y| = i0 · S_n / S_base, b = −√(|y|² − g²) (inductive); (0, 0) for other branches."""
    t = ln.transformer
    if t is None or ln.rating_kva is None:
        return 0.0, 0.0
    g = t.pfe_kw / base_kva
    y = t.i0 * ln.rating_kva / base_kva
    return g, -math.sqrt(max(y * y - g * g, 0.0))


def branches(idx: ModelIndex) -> Branches:
    """The per-unit data of every branch and bus shunt of `idx`'s network."""
    net = idx.network
    sb = net.base_kva
    zb = z_base_ohm(net)
    lines = net.lines
    coords = [idx.coords[LINE]]

    def per_line(values: np.ndarray | list[float] | list[bool]) -> xr.DataArray:
        return xr.DataArray(np.asarray(values), coords=coords)

    cable = net.cable_rating_kva if net.cable_rating_kva is not None else math.inf
    half_b = np.array([ln.b_us for ln in lines]) * 1e-6 * zb / 2.0
    mag = np.array([magnetising_pu(ln, sb) for ln in lines]).reshape(-1, 2)
    g_bus = np.zeros(len(idx.coords[BUS]))
    b_bus = np.zeros(len(idx.coords[BUS]))
    if net.shunts:
        at = idx.coords[BUS].get_indexer([sh.bus for sh in net.shunts])
        np.add.at(g_bus, at, [sh.p_kw / sb for sh in net.shunts])
        np.add.at(b_bus, at, [sh.q_kvar / sb for sh in net.shunts])
    bus_coords = [idx.coords[BUS]]
    return Branches(
        r_pu=per_line(np.array([ln.r_ohm for ln in lines]) / zb),
        x_pu=per_line(np.array([ln.x_ohm for ln in lines]) / zb),
        tau=per_line([ln.tap_ratio for ln in lines]),
        switch=per_line([ln.kind == "switch" for ln in lines]),
        rating=per_line([cable if ln.rating_kva is None else ln.rating_kva for ln in lines]),
        g_from=per_line(mag[:, 0]), b_from=per_line(half_b + mag[:, 1]),
        g_to=per_line(np.zeros(len(lines))), b_to=per_line(half_b),
        g_bus=xr.DataArray(g_bus, coords=bus_coords),
        b_bus=xr.DataArray(b_bus, coords=bus_coords))


def has_shunts(br: Branches) -> bool:
    return bool((br.g_from != 0).any() or (br.b_from != 0).any() or (br.b_to != 0).any()
                or (br.g_bus != 0).any() or (br.b_bus != 0).any())


def supply_buses(model: ir.Model) -> set[str]:
    """Buses where something may inject power: generators (the grid supply included),
    batteries, and the sites of investments that may put a source there. A mobile unit
    without a candidate list may connect anywhere, so every bus is one then."""
    net = model.network()
    out = {net.slack_bus} | {g.bus for g in model.generators} | {s.bus for s in model.storages}
    for inv in model.investments:
        if isinstance(inv, P.DgUnits | P.Substation | P.StorageBuild):
            out.add(inv.bus)
        elif isinstance(inv, P.MobileStorage):
            if not inv.candidates:
                return {b.id for b in net.buses}
            out.update(inv.candidates)
            out.add(inv.depot)
        elif isinstance(inv, P.EvBattery):
            out.update(site.bus for site in inv.sites)
    return out


def dead_buses(idx: ModelIndex, may_carry: xr.DataArray, supply: set[str]) -> xr.DataArray:
    """[scenario, time, bus] True where the bus lies in an island that no line that may
    carry flow (`may_carry` [scenario, time, line], e.g. `states.on`) joins to a bus of
    `supply`: de-energised whatever is decided."""
    return ~reachable_from(idx, may_carry.astype(bool), supply)


def bus_shunts(idx: ModelIndex, br: Branches, in_service: xr.DataArray,
               dead: xr.DataArray | None = None) -> tuple[xr.DataArray, xr.DataArray]:
    """(g, b) [scenario, time, bus] in pu: the bus shunts plus the end shunts of the
    branches in service (`in_service` [scenario, time, line], e.g. `states.fixed`), zero
    at `dead` buses (`dead_buses`). Consumed P = g·w, injected Q = b·w (w = V² at the
    bus)."""
    from_sel, to_sel = idx.line_from_to()  # [line, bus]
    on = in_service.astype(float).transpose(SCENARIO, TIME, LINE).values
    alive = 1.0 if dead is None else (~dead.transpose(*BUS_DIMS).values).astype(float)
    out = []
    for at_from, at_to, own in ((br.g_from, br.g_to, br.g_bus), (br.b_from, br.b_to, br.b_bus)):
        per_bus = (from_sel.values * at_from.values[:, None]
                   + to_sel.values * at_to.values[:, None])  # [line, bus]
        total = (on @ per_bus + own.values) * alive  # [scenario, time, bus]
        out.append(xr.DataArray(total, dims=BUS_DIMS, coords={
            SCENARIO: idx.coords[SCENARIO], TIME: idx.coords[TIME], BUS: idx.coords[BUS]}))
    return out[0], out[1]
