"""Power flow: LinDistFlow (Baran & Wu's simplified DistFlow) over the network.

Units (chosen so that results read directly in the planner's units):

* line flows `line_p` [kW] and `line_q` [kvar] over (scenario, time, line),
  measured at the from bus in the reference direction from → to; negative
  values flow to → from;
* squared voltage magnitudes `bus_w` = V² [p.u.²] over (scenario, time, bus),
  within [v_min², v_max²] (per-bus limits override the network's) and fixed at
  slack_v² at the slack bus; `bus_v` = √w is added to results;
* the drop along line l = (i → j), losses neglected:
  w_i − w_j = 2 (r P + x Q) / (1000 · kV_base²), with r, x in ohm, P in kW and
  Q in kvar (r·P/(1000·kV²) is exactly r_pu·P_pu, whatever the power base).

Line health (see `compiler.core.line_state`) enters twice: the rating bounds
−S ≤ P, Q ≤ S hold only where a line may carry flow (0 elsewhere), and the drop
equation only where it is surely in service. The textbook big-M form
|w_i − w_j − drop| ≤ M (1 − u) with M = v_max² − v_min² is implied by the voltage
bounds when u = 0, so with u as data the rows of out lines are simply masked
out and an island's voltages float within their limits. Decisions (reinforcement,
topology) add exactly those big-M rows on their lines, see `define_lindistflow`.

Ratings use the paper's box |P| ≤ u·S, |Q| ≤ u·S with S the line's rating, else
the network's cable rating, else the base power (a generous bound).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from linopy import Variable

from gridc.compiler.core.builder import Builder, Lever
from gridc.compiler.core.index import BUS, LINE, SCENARIO, TIME
from gridc.compiler.core.line_state import LineStates
from gridc.compiler.core.rows import Rows, gather, term

FLOW_DIMS = (SCENARIO, TIME, LINE)
BUS_DIMS = (SCENARIO, TIME, BUS)


@dataclass(frozen=True)
class NetworkVars:
    p: Variable  # line_p [kW]
    q: Variable  # line_q [kvar]
    w: Variable  # bus_w [p.u.²]
    outflow_p: Rows  # Σ_line A[bus, line] · P  [kW] on (scenario, time, bus)
    outflow_q: Rows  # [kvar]


def line_ratings(b: Builder) -> xr.DataArray:
    """Rating S [kVA] per line: the line's, else the network cable rating, else base."""
    net = b.idx.network
    default = net.cable_rating_kva if net.cable_rating_kva is not None else net.base_kva
    return xr.DataArray([ln.rating_kva if ln.rating_kva is not None else default
                         for ln in net.lines], coords=[b.idx.coords[LINE]])


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


def rating_levers(on: xr.DataArray) -> dict[str, list[Lever]]:
    """Elastic mode's cause behind the flow box: the line's rating, both ways, where the
    line may carry flow (`on`)."""
    lever = Lever("line rating", "rating_kva", on.astype(float))
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
    """2r/(1000 kV²) and 2x/(1000 kV²) per line [p.u.² per kW or kvar]."""
    net = b.idx.network
    k = 2.0 / (1000.0 * net.base_kv ** 2)
    coords = [b.idx.coords[LINE]]
    return (xr.DataArray([k * ln.r_ohm for ln in net.lines], coords=coords),
            xr.DataArray([k * ln.x_ohm for ln in net.lines], coords=coords))


def define_lindistflow(b: Builder, states: LineStates) -> NetworkVars:
    """The flow blocks. A line carries flow where `states.on`; its drop equation holds
    where `states.fixed`; on the cells of each switch (a reinforcement or a topology
    decision y[line], see `compiler.core.line_state`) the ratings become rows |P|, |Q| ≤ S·y
    and the drop a big-M pair |w_i − w_j − drop| ≤ M (1 − y) with M = w_max − w_min."""
    on = states.on.astype(float)
    rating = line_ratings(b)
    limit = on * rating
    p = b.variable("line_p", FLOW_DIMS, -limit, limit, family="line ratings", source=LINE,
                   unit="kW", relax_scale=on, levers=rating_levers(on))
    q = b.variable("line_q", FLOW_DIMS, -limit, limit, family="line ratings", source=LINE,
                   unit="kvar", relax_scale=on, levers=rating_levers(on))
    w_lo, w_up = voltage_limits(b)
    not_slack = xr.DataArray((b.idx.coords[BUS] != b.idx.slack_bus).astype(float),
                             coords=[b.idx.coords[BUS]])
    w = b.variable("bus_w", BUS_DIMS, w_lo, w_up, family="voltage limits", source=BUS,
                   unit="p.u.²", relax_scale=not_slack, levers=voltage_levers(b))

    incidence = b.idx.incidence
    kr, kx = drop_coefficients(b)
    flows = b.grid(*FLOW_DIMS)
    # w_from − w_to − kr·P − kx·Q
    drop = gather(flows, w, incidence, BUS) - term(flows, p, kr) - term(flows, q, kx)
    b.constrain("voltage_drop", drop, "==", 0.0, family="voltage drop",
                source=LINE, unit="p.u.²", mask=states.fixed)
    big_m = float(w_up.max() - w_lo.min())
    for sw in states.switches:
        for name, flow in (("p", p), ("q", q)):
            b.constrain(f"line_{name}_{sw.name}_up",
                        term(flows, flow) - term(flows, sw.y, rating), "<=", 0.0,
                        family="line ratings", source=LINE, unit="kW", mask=sw.mask)
            b.constrain(f"line_{name}_{sw.name}_dn",
                        term(flows, flow) + term(flows, sw.y, rating), ">=", 0.0,
                        family="line ratings", source=LINE, unit="kW", mask=sw.mask)
        b.constrain(f"voltage_drop_{sw.name}_up", drop + term(flows, sw.y, big_m), "<=",
                    big_m, family="voltage drop", source=LINE, unit="p.u.²", mask=sw.mask)
        b.constrain(f"voltage_drop_{sw.name}_dn", drop - term(flows, sw.y, big_m), ">=",
                    -big_m, family="voltage drop", source=LINE, unit="p.u.²", mask=sw.mask)
    buses = b.grid(*BUS_DIMS)
    return NetworkVars(p=p, q=q, w=w, outflow_p=gather(buses, p, incidence, LINE),
                       outflow_q=gather(buses, q, incidence, LINE))


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
