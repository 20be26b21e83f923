"""Demand, load shedding and the nodal power balance.

Demand [kW, kvar] over (scenario, time, ·):

* bus loads of the network table: p, q × the network `load_profile` (if any)
  × the scenario's `scale load` (and scaling of that profile);
* `load` components: p, q × their own profile, else the network load profile,
  × the same scenario scalings.

Shedding (PL^shed of seed 000) is allowed only if the model states a price for
it (`penalty shed`): `bus_shed_p` [kW] over (scenario, time, bus) within
[0, bus load] and `load_shed_p` over (scenario, time, load) within [0, load].
Reactive demand is shed in proportion (constant power factor): q_shed =
p_shed × q / p. Without `penalty shed` demand is hard and an unreachable load
makes the model infeasible (which `--diagnose` then explains).

Nodal balance per bus, with A the bus × line incidence (+1 from, −1 to):
Σ gen + Σ (discharge − charge) + shed − A·P = demand   (`nodal_p`, kW)
and the same for reactive power (`nodal_q`, kvar).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.core.builder import Builder
from gridc.compiler.core.index import BUS, LOAD, SCENARIO, TIME
from gridc.compiler.core.rows import RowGrid, Rows, gather, term, total
from gridc.dsl import ir
from gridc.dsl.spans import Span

BUS_DIMS = (SCENARIO, TIME, BUS)
LOAD_DIMS = (SCENARIO, TIME, LOAD)


@dataclass(frozen=True)
class DemandVars:
    bus_p: xr.DataArray  # [scenario, time, bus] kW of the network's bus loads
    bus_q: xr.DataArray
    load_p: xr.DataArray  # [scenario, time, load] kW of `load` components
    load_q: xr.DataArray
    bus_priority: xr.DataArray  # [bus]
    load_priority: xr.DataArray  # [load]
    bus_shed: Variable | None  # bus_shed_p [kW]
    load_shed: Variable | None  # load_shed_p [kW]
    shed_penalty: ir.Penalty | None


def _shape(b: Builder, profile: str | None, span: Span) -> xr.DataArray:
    """A load shape over [scenario, time] including `scale load`."""
    base = (b.profile(profile, span) if profile is not None
            else b.full(1.0, (SCENARIO, TIME)))
    return (base * b.data.load_scale).transpose(SCENARIO, TIME)


def demand(b: Builder) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray, xr.DataArray]:
    """Bus-load p, q over (scenario, time, bus) and component p, q over (…, load)."""
    net = b.idx.network
    shape = _shape(b, net.load_profile, net.span)
    bus_coords = [b.idx.coords[BUS]]
    bus_p = (shape * xr.DataArray([x.p_kw for x in net.buses], coords=bus_coords))
    bus_q = (shape * xr.DataArray([x.q_kvar for x in net.buses], coords=bus_coords))
    loads = b.idx.loads
    by_profile: dict[str | None, xr.DataArray] = {net.load_profile: shape}
    for ld in loads:  # one shape per distinct profile, however many loads share it
        name = ld.profile or net.load_profile
        if name not in by_profile:
            by_profile[name] = _shape(b, name, ld.span)
    shapes = [by_profile[ld.profile or net.load_profile] for ld in loads]
    load_shape = b.stacked(shapes, LOAD)
    load_coords = [b.idx.coords[LOAD]]
    load_p = load_shape * xr.DataArray([ld.p_kw for ld in loads], coords=load_coords,
                                       dims=[LOAD])
    load_q = load_shape * xr.DataArray([ld.q_kvar for ld in loads], coords=load_coords,
                                       dims=[LOAD])
    return (bus_p.transpose(*BUS_DIMS), bus_q.transpose(*BUS_DIMS),
            load_p.transpose(*LOAD_DIMS), load_q.transpose(*LOAD_DIMS))


def _tan_phi(p: list[float], q: list[float], coords: list) -> xr.DataArray:  # type: ignore[type-arg]
    pa, qa = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    ratio = np.divide(qa, pa, out=np.zeros_like(qa), where=pa > 0)
    return xr.DataArray(ratio, coords=coords)


Injection: TypeAlias = Rows | LinearExpression | Variable | xr.DataArray


def define_loads(b: Builder, inj_p: list[Injection], inj_q: list[Injection],
                outflow_p: Injection, outflow_q: Injection) -> DemandVars:
    """Demand, shedding and the nodal balance given every other injection [s, t, bus]
    (rows, linopy expressions or constants)."""
    net = b.idx.network
    bus_p, bus_q, load_p, load_q = demand(b)
    penalty = next((p for p in b.model.penalties if p.kind == "shed"), None)
    loads = b.idx.loads
    load_at_bus = b.idx.at_bus(LOAD, [ld.bus for ld in loads])
    # xr.dot contracts without the dense (scenario, time, load, bus) temporary
    comp_p = xr.dot(load_at_bus, load_p, dim=LOAD)
    comp_q = xr.dot(load_at_bus, load_q, dim=LOAD)

    buses = b.grid(*BUS_DIMS)
    lhs_p: list[Injection] = list(inj_p)
    lhs_q: list[Injection] = list(inj_q)
    bus_shed = load_shed = None
    if penalty is not None:
        bus_shed = b.variable("bus_shed_p", BUS_DIMS, 0.0, bus_p, family="shedding",
                              source=BUS, unit="kW")
        tan_bus = _tan_phi([x.p_kw for x in net.buses], [x.q_kvar for x in net.buses],
                           [b.idx.coords[BUS]])
        lhs_p.append(term(buses, bus_shed))
        lhs_q.append(term(buses, bus_shed, tan_bus))
        if loads:
            load_shed = b.variable("load_shed_p", LOAD_DIMS, 0.0, load_p, family="shedding",
                                   source=LOAD, unit="kW")
            tan_load = _tan_phi([ld.p_kw for ld in loads], [ld.q_kvar for ld in loads],
                                [b.idx.coords[LOAD]])
            lhs_p.append(gather(buses, load_shed, load_at_bus, LOAD))
            lhs_q.append(gather(buses, load_shed, load_at_bus, LOAD, tan_load))

    b.constrain("nodal_p", total(buses, [*lhs_p, -_rows(buses, outflow_p)]), "==",
                (bus_p + comp_p).transpose(*BUS_DIMS), family="nodal balance", source=BUS,
                unit="kW")
    b.constrain("nodal_q", total(buses, [*lhs_q, -_rows(buses, outflow_q)]), "==",
                (bus_q + comp_q).transpose(*BUS_DIMS), family="nodal balance", source=BUS,
                unit="kvar")
    return DemandVars(
        bus_p=bus_p, bus_q=bus_q, load_p=load_p, load_q=load_q,
        bus_priority=xr.DataArray([x.priority for x in net.buses], coords=[b.idx.coords[BUS]]),
        load_priority=xr.DataArray([ld.priority for ld in loads],
                                   coords=[b.idx.coords[LOAD]], dims=[LOAD]),
        bus_shed=bus_shed, load_shed=load_shed, shed_penalty=penalty)


def _rows(grid: RowGrid, part: Injection) -> Rows:
    return part if isinstance(part, Rows) else total(grid, [part])
