"""DG sizing (seed 001, eq. 35): integer units of a wind or PV plant and their output.

Decisions and data, vectorised over (scenario, time, dg):

* `dg_units[dg]` integer, capacity = unit × n within [min, max];
* `dg_p[scenario, time, dg]` ≤ unit · n · profile (curtailment is free; a profile-less
  plant is available at full capacity);
* below unity power factor, |`dg_q`| ≤ tan φ · unit · n (else q = 0).

Priced per kW of capacity (`PricedItem` group "pv" or "wt"). The output is also a
non-negative supply for the island cuts (`compiler.families.islands`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.core.builder import Builder, sparse_sum
from gridc.compiler.core.index import BUS, SCENARIO, TIME
from gridc.compiler.formulations.pricing import PricedItem
from gridc.dsl import ir_planning as P

DG = "dg"
GROUP = {"pv": "pv", "wind": "wt"}


@dataclass(frozen=True)
class DgVars:
    units: Variable  # dg_units [dg]
    p: Variable  # dg_p [scenario, time, dg] kW
    inj_p: LinearExpression  # [scenario, time, bus]
    inj_q: LinearExpression
    items: list[PricedItem]


def define_dg(b: Builder, invs: list[P.DgUnits]) -> DgVars:
    """Integer DG units, their output and what they cost (see the module docstring)."""
    names = pd.Index([i.name for i in invs], name=DG)
    b.idx.coords[DG] = names
    unit = xr.DataArray([i.unit_kw for i in invs], coords=[names])
    lo = xr.DataArray([math.ceil(i.capacity_min_kw / i.unit_kw - 1e-9) for i in invs],
                      coords=[names])
    up = xr.DataArray([math.floor(i.capacity_max_kw / i.unit_kw + 1e-9) for i in invs],
                      coords=[names])
    n = b.integer("dg_units", (DG,), lo, up, family="dg sizing", source=DG, unit="units")
    avail = xr.concat([b.profile(i.profile, i.span) if i.profile is not None
                       else b.full(1.0, (SCENARIO, TIME)) for i in invs],
                      dim=names).transpose(SCENARIO, TIME, DG)
    cap = (unit * avail * up).transpose(SCENARIO, TIME, DG)
    p = b.variable("dg_p", (SCENARIO, TIME, DG), 0.0, cap, family="generator limits",
                   source=DG, unit="kW")
    b.constrain("dg_available", p - (unit * avail) * n, "<=", 0.0,
                family="dg sizing", source=DG, unit="kW")
    at = b.idx.at_bus(DG, [i.bus for i in invs])
    inj_q = sparse_sum(p * 0.0, at, DG, BUS)
    tan = xr.DataArray([math.tan(math.acos(i.power_factor)) for i in invs], coords=[names])
    if bool((tan > 1e-9).any()):
        q = b.variable("dg_q", (SCENARIO, TIME, DG), -(tan * cap), tan * cap,
                       family="generator limits", source=DG, unit="kvar")
        b.constrain("dg_q_up", q - (tan * unit) * n, "<=", 0.0, family="dg sizing",
                    source=DG, unit="kvar")
        b.constrain("dg_q_dn", q + (tan * unit) * n, ">=", 0.0, family="dg sizing",
                    source=DG, unit="kvar")
        inj_q = sparse_sum(q, at, DG, BUS)
    items = [PricedItem(GROUP[i.source], i.name, i.costs,
                        i.unit_kw * n.sel({DG: [i.name]}).sum(), "kW") for i in invs]
    return DgVars(units=n, p=p, inj_p=sparse_sum(p, at, DG, BUS), inj_q=inj_q, items=items)
