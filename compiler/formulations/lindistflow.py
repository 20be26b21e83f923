"""Power flow: LinDistFlow (Baran & Wu's simplified DistFlow) over the network.

Units (chosen so that results read directly in the planner's units):

* line flows `line_p` [kW] and `line_q` [kvar] over (scenario, time, line),
  measured at the from bus in the reference direction from → to; negative
  values flow to → from;
* squared voltage magnitudes `bus_w` = V² [p.u.²] over (scenario, time, bus),
  within [v_min², v_max²] (per-bus limits override the network's) and fixed at
  slack_v² at the slack bus; `bus_v` = √w is added to results;
* the drop along branch l = (i → j), losses neglected:
  w_i/τ² − w_j = 2 (r_pu P + x_pu Q) / S_base, with r_pu on the base impedance of the
  branch's own voltage level, P in kW, Q in kvar and τ the off-nominal ratio of a
  transformer (1 otherwise); a closed switch (r = x = 0) equates the voltages;
* shunts (cable charging, capacitor banks, magnetising branches; `compiler.core.branches`)
  consume g·w and inject b·w at their bus: linear in w.

Line health (see `compiler.core.line_state`) enters twice: the rating bounds
−S ≤ P, Q ≤ S hold only where a line may carry flow (0 elsewhere), and the drop
equation only where it is surely in service. The textbook big-M form
|w_i − w_j − drop| ≤ M (1 − u) with M = v_max² − v_min² is implied by the voltage
bounds when u = 0, so with u as data the rows of out lines are simply masked
out and an island's voltages float within their limits. Decisions (reinforcement,
topology) add exactly those big-M rows on their lines, see `define_lindistflow`.

Ratings are apparent-power polygons (`compiler.formulations.ratings`): the box
|P|, |Q| ≤ c·S as variable bounds plus the polygon's other faces as rows, S the
branch's rating, else the network's cable rating, else none (no thermal limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from linopy import Variable

from gridc.compiler.core.branches import (
    Branches,
    branches,
    bus_shunts,
    dead_buses,
    has_shunts,
    supply_buses,
)
from gridc.compiler.core.builder import Builder, Lever
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import BUS, LINE, SCENARIO, TIME
from gridc.compiler.core.line_state import LineStates
from gridc.compiler.core.rows import Rows, gather, term
from gridc.compiler.formulations.ratings import add_polygon, box, scale

FLOW_DIMS = (SCENARIO, TIME, LINE)
BUS_DIMS = (SCENARIO, TIME, BUS)


@dataclass(frozen=True)
class NetworkVars:
    p: Variable  # line_p [kW]
    q: Variable  # line_q [kvar]
    w: Variable  # bus_w [p.u.²]
    outflow_p: Rows  # Σ_line A[bus, line] · P (+ shunt g·w·S_b) [kW] on (scenario, time, bus)
    outflow_q: Rows  # [kvar] (− shunt b·w·S_b)
    shunts: tuple[xr.DataArray, xr.DataArray] | None = None  # (g, b) pu [scenario, time, bus]


def line_ratings(b: Builder) -> xr.DataArray:
    """Rating S [kVA] per branch: its own, else the network cable rating, else +inf (no
    thermal limit: there is no hidden default)."""
    return branches(b.idx).rating


def voltage_limits(b: Builder) -> tuple[xr.DataArray, xr.DataArray]:
    """Lower and upper bounds of w = V² per bus; both slack_v² at the slack bus."""
    net = b.idx.network
    lo = np.array([(bus.v_min_pu if bus.v_min_pu is not None else net.v_min_pu) ** 2
                   for bus in net.buses])
    up = np.array([(bus.v_max_pu if bus.v_max_pu is not None else net.v_max_pu) ** 2
                   for bus in net.buses])
    slack = b.idx.coords[BUS] == net.slack_bus
    lo[slack] = up[slack] = net.slack_v_pu ** 2
    coords = [b.idx.coords[BUS]]
    return xr.DataArray(lo, coords=coords), xr.DataArray(up, coords=coords)


def rating_levers(b: Builder, on: xr.DataArray) -> dict[str, list[Lever]]:
    """Elastic mode's cause behind the flow box: the line's rating, both ways, where the
    line may carry flow (`on`). The box is c·S (`ratings.box`), so one kVA of rating
    moves it by c: cos(π/N) for an `inner` polygon, whose diagnosis would otherwise
    name a rating short by that factor."""
    net = b.idx.network
    lever = Lever("line rating", "rating_kva",
                  on.astype(float) * scale(net.rating_sides, net.rating_fit))
    return {"lower": [lever], "upper": [lever]}


def voltage_levers(b: Builder) -> dict[str, list[Lever]]:
    """Elastic mode's causes behind the bounds of w = V²: the voltage band (the bus's
    v_min / v_max, else the network's) at every bus but the slack, and the slack
    voltage at the slack bus (lower and upper both, so a setpoint that would have to
    differ between hours shows as a range)."""
    is_slack = xr.DataArray((b.idx.coords[BUS] == b.idx.slack_bus).astype(float),
                            coords=[b.idx.coords[BUS]])
    slack_v = Lever("slack voltage", "slack_v_pu", is_slack)
    return {"lower": [Lever("voltage limits", "v_min_pu", 1.0 - is_slack), slack_v],
            "upper": [Lever("voltage limits", "v_max_pu", 1.0 - is_slack), slack_v]}


def drop_coefficients(b: Builder) -> tuple[xr.DataArray, xr.DataArray]:
    """2 r_pu / S_base and 2 x_pu / S_base per branch [p.u.² per kW or kvar]; with r_pu on
    the branch's own level, r·P/(1000·vn²) is exactly r_pu·P_pu."""
    br = branches(b.idx)
    sb = b.idx.base_kva
    return 2.0 * br.r_pu / sb, 2.0 * br.x_pu / sb


def sent_incidence(b: Builder, br: Branches) -> xr.DataArray:
    """Bus × branch: 1/τ² at the from bus, −1 at the to bus, so that A·w is
    w_from/τ² − w_to (the plain incidence when no branch has an off-nominal ratio)."""
    if bool((br.tau == 1.0).all()):
        return b.idx.incidence
    from_sel, to_sel = b.idx.line_from_to()
    return (from_sel * br.inv_tau2 - to_sel).transpose(BUS, LINE)


def switched_cap(b: Builder, states: LineStates, rating: xr.DataArray,
                 flow_cap_kva: float) -> xr.DataArray:
    """[line] the bound of |P|, |Q| on cells a decision switches: c·S for rated branches,
    the flow cap M (a big-M from the model's demand and sources, not a rating) for the
    others; a compile error (GRID071) when M is unbounded and a switched branch has no
    rating."""
    net = b.idx.network
    finite = np.isfinite(rating.values)
    cap = xr.where(xr.DataArray(finite, coords=rating.coords),
                   rating * scale(net.rating_sides, net.rating_fit), flow_cap_kva)
    for sw in states.switches:
        loose = sw.mask.any((SCENARIO, TIME)).values & ~finite
        if loose.any() and not math.isfinite(flow_cap_kva):
            lid = str(b.idx.coords[LINE][np.flatnonzero(loose)[0]])
            span = b.idx.source(LINE, lid) or net.span
            raise compile_error(b.model, "GRID071", f"branch '{lid}' is switched by a "
                                "decision but has no rating, and the model's flows have no "
                                "finite bound (storage, stations or unbounded generators)",
                                span, help="give it a rating (or the network a "
                                "cable_rating): its big-M needs one")
    return cap


def add_shunts(b: Builder, states: LineStates, br: Branches
               ) -> tuple[xr.DataArray, xr.DataArray] | None:
    """(g, b) [scenario, time, bus] of the shunts in service, zero in dead islands
    (`branches.dead_buses`), or None without any; both formulations use it."""
    if not has_shunts(br):
        return None
    dead = dead_buses(b.idx, states.on, supply_buses(b.model))
    return bus_shunts(b.idx, br, states.fixed, dead)


def define_lindistflow(b: Builder, states: LineStates, flow_cap_kva: float = math.inf
                       ) -> NetworkVars:
    """The flow blocks. A branch carries flow where `states.on`; its drop equation holds
    where `states.fixed`; on the cells of each switch (a reinforcement or a topology
    decision y[line], see `compiler.core.line_state`) the ratings become rows |P|, |Q| ≤ S·y
    (and the polygon's faces ≤ S·y) and the drop a big-M pair
    |w_i/τ² − w_j − drop| ≤ M (1 − y) with M = w_max/τ²_min − w_min."""
    br = branches(b.idx)
    on = states.on
    rating = br.rating
    limit = box(b, on, rating)
    p = b.variable("line_p", FLOW_DIMS, -limit, limit, family="line ratings", source=LINE,
                   unit="kW", relax_scale=on.astype(float), levers=rating_levers(b, on))
    q = b.variable("line_q", FLOW_DIMS, -limit, limit, family="line ratings", source=LINE,
                   unit="kvar", relax_scale=on.astype(float), levers=rating_levers(b, on))
    w_lo, w_up = voltage_limits(b)
    not_slack = xr.DataArray((b.idx.coords[BUS] != b.idx.slack_bus).astype(float),
                             coords=[b.idx.coords[BUS]])
    w = b.variable("bus_w", BUS_DIMS, w_lo, w_up, family="voltage limits", source=BUS,
                   unit="p.u.²", relax_scale=not_slack, levers=voltage_levers(b))

    kr, kx = drop_coefficients(b)
    flows = b.grid(*FLOW_DIMS)
    # w_from/τ² − w_to − kr·P − kx·Q
    drop = gather(flows, w, sent_incidence(b, br), BUS) - term(flows, p, kr) \
        - term(flows, q, kx)
    b.constrain("voltage_drop", drop, "==", 0.0, family="voltage drop",
                source=LINE, unit="p.u.²", mask=states.fixed)
    add_polygon(b, "from", p, q, states, rating)
    big_m = float(w_up.max() / (br.tau ** 2).min() - w_lo.min())
    cap = switched_cap(b, states, rating, flow_cap_kva) if states.switches else rating
    for sw in states.switches:
        for name, flow in (("p", p), ("q", q)):
            b.constrain(f"line_{name}_{sw.name}_up",
                        term(flows, flow) - term(flows, sw.y, cap), "<=", 0.0,
                        family="line ratings", source=LINE, unit="kW", mask=sw.mask)
            b.constrain(f"line_{name}_{sw.name}_dn",
                        term(flows, flow) + term(flows, sw.y, cap), ">=", 0.0,
                        family="line ratings", source=LINE, unit="kW", mask=sw.mask)
        b.constrain(f"voltage_drop_{sw.name}_up", drop + term(flows, sw.y, big_m), "<=",
                    big_m, family="voltage drop", source=LINE, unit="p.u.²", mask=sw.mask)
        b.constrain(f"voltage_drop_{sw.name}_dn", drop - term(flows, sw.y, big_m), ">=",
                    -big_m, family="voltage drop", source=LINE, unit="p.u.²", mask=sw.mask)
    buses = b.grid(*BUS_DIMS)
    incidence = b.idx.incidence
    out_p, out_q = gather(buses, p, incidence, LINE), gather(buses, q, incidence, LINE)
    shunts = add_shunts(b, states, br)
    if shunts is not None:  # consumed P = g·w, injected Q = b·w (kW, kvar)
        out_p = out_p + term(buses, w, shunts[0] * b.idx.base_kva)
        out_q = out_q + term(buses, w, -shunts[1] * b.idx.base_kva)
    return NetworkVars(p=p, q=q, w=w, outflow_p=out_p, outflow_q=out_q, shunts=shunts)


def define_flow_magnitude(b: Builder, p: Variable) -> Variable:
    """`line_p_abs` ≥ |P| [kW] (for `penalty loss`, seed 000's line-flow term β Σ |P|),
    in either formulation."""
    flows = b.grid(*FLOW_DIMS)
    p_abs = b.variable("line_p_abs", FLOW_DIMS, 0.0, family="flow magnitude",
                       source=LINE, unit="kW")
    b.constrain("line_p_abs_pos", term(flows, p_abs) - term(flows, p), ">=", 0.0,
                family="flow magnitude", source=LINE, unit="kW")
    b.constrain("line_p_abs_neg", term(flows, p_abs) + term(flows, p), ">=", 0.0,
                family="flow magnitude", source=LINE, unit="kW")
    return p_abs
