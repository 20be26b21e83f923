"""Generators: grid import, gas turbines, PV, wind and dispatchable DG.

One variable block over every unit, `gen_p` [kW] and `gen_q` [kvar] over
(scenario, time, gen), so that costs and the nodal balance treat them alike;
what differs per kind is data:

* upper bound ("forecast"): p_max × profile × scenario scaling for pv / wind
  (and dg with a profile); p_max × scaling otherwise; the implicit grid import
  is unbounded above (a stiff upstream grid) and never exports (p ≥ 0);
* lower bound: p_min for gas turbines, dg and grid units (a unit that must run
  stays on: there is no commitment decision), 0 for pv / wind;
* energy price [CNY/kWh] (seed 000: α_i for fuel, λ_t for grid purchase): fuel
  for every kind; for grid units the unit's price profile, else its fuel value,
  else the model's `price grid` (value or profile);
* curtailment price χ [CNY/kWh] on forecast − output of pv / wind / profiled dg:
  the unit's `curtailment`, else `penalty curtailment`, else 0;
* reactive range: q_min .. q_max when given (q_min defaults to −q_max); else
  ±0.75 p_max (power factor 0.8) for gas turbines and dg, unity power factor
  (q = 0) for pv and wind, free for grid units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from linopy import Variable

from gridc.compiler.core.builder import Builder, Lever
from gridc.compiler.core.index import BUS, GEN, SCENARIO, TIME
from gridc.compiler.core.rows import Rows, gather
from gridc.dsl import ir

GEN_DIMS = (SCENARIO, TIME, GEN)
#: tan(acos(0.8)): the default reactive range of synchronous units, per kW of p_max
Q_PER_P = 0.75


@dataclass(frozen=True)
class GeneratorVars:
    p: Variable  # gen_p [kW]
    q: Variable  # gen_q [kvar]
    forecast: xr.DataArray  # upper bound of p [kW], inf where unbounded
    energy_price: xr.DataArray  # [scenario, time, gen] CNY/kWh
    curtail_price: xr.DataArray  # [gen] CNY/kWh, 0 for units that cannot be curtailed
    curtailable: xr.DataArray  # [gen] bool
    inj_p: Rows  # [scenario, time, bus] kW
    inj_q: Rows


def _curtailable(g: ir.Generator) -> bool:
    return g.kind in ("pv", "wind") or (g.kind == "dg" and g.profile is not None)


def _availability(b: Builder, g: ir.Generator) -> xr.DataArray | float:
    """Per-unit availability over [scenario, time]: the profile (scaled), else 1."""
    if g.profile is not None:
        return b.profile(g.profile, g.span)
    return 1.0


def unit_energy_price(b: Builder, g: ir.Generator) -> xr.DataArray | float:
    """Energy price of unit `g` over [scenario, time] in CNY/kWh (a number when flat):
    what the objective pays per kWh, and what the results report as `gen_energy_price`."""
    if g.kind == "grid":
        if g.price_profile is not None:
            return b.profile(g.price_profile, g.span)
        if g.fuel_cny_per_kwh == 0.0:
            for pr in b.model.prices:
                if pr.kind == "grid" and pr.profile is not None:
                    return b.profile(pr.profile, pr.span)
                if pr.kind == "grid" and pr.value is not None:
                    return pr.value
    return g.fuel_cny_per_kwh


def _q_range(g: ir.Generator) -> tuple[float, float]:
    if g.q_max_kvar is not None or g.q_min_kvar is not None:
        q_max = g.q_max_kvar if g.q_max_kvar is not None else Q_PER_P * g.p_max_kw
        q_min = g.q_min_kvar if g.q_min_kvar is not None else -q_max
        return q_min, q_max
    if g.kind == "grid":
        return -math.inf, math.inf
    if g.kind in ("gas_turbine", "dg"):
        return -Q_PER_P * g.p_max_kw, Q_PER_P * g.p_max_kw
    return 0.0, 0.0


def define_generators(b: Builder) -> GeneratorVars:
    gens = b.idx.generators
    penalty = next((p.cny_per_kwh for p in b.model.penalties if p.kind == "curtailment"), 0.0)
    p_max = xr.DataArray([g.p_max_kw for g in gens], coords=[b.idx.coords[GEN]])
    scale = b.data.gen_scale
    avail = b.stacked([_availability(b, g) for g in gens], GEN)
    # inf × 0 is undefined: an unbounded unit scaled to 0 is simply off
    forecast = xr.where(scale == 0, 0.0, p_max * avail * scale).transpose(*GEN_DIMS)
    p_min = xr.DataArray([0.0 if _curtailable(g) else g.p_min_kw for g in gens],
                         coords=[b.idx.coords[GEN]])
    lower = xr.where(p_min > forecast, forecast, p_min).transpose(*GEN_DIMS)
    # elastic mode's causes: p_max moves the forecast by avail × scale per kW; a p_min
    # the user wrote (> 0, on a unit that cannot be curtailed) moves the lower bound
    written_min = xr.where(p_min > 0, 1.0, 0.0)
    p = b.variable("gen_p", GEN_DIMS, lower, forecast, family="generator limits", source=GEN,
                   unit="kW", relax="lower",
                   levers={"lower": [Lever("minimum output", "p_min_kw", written_min,
                                           most=p_min)],
                           "upper": [Lever("supply limit", "p_max_kw", avail * scale)]})
    q_lo, q_up = zip(*[_q_range(g) for g in gens]) if gens else ((), ())
    q = b.variable("gen_q", GEN_DIMS, xr.DataArray(np.array(q_lo), coords=[b.idx.coords[GEN]]),
                   xr.DataArray(np.array(q_up), coords=[b.idx.coords[GEN]]),
                   family="generator reactive limits", source=GEN, unit="kvar")
    curtailable = xr.DataArray(np.array([_curtailable(g) for g in gens], dtype=bool),
                               coords=[b.idx.coords[GEN]])
    curtail_price = xr.DataArray(
        [(g.curtailment_cny_per_kwh or penalty) if _curtailable(g) else 0.0 for g in gens],
        coords=[b.idx.coords[GEN]])
    at_bus = b.idx.at_bus(GEN, [g.bus for g in gens])
    buses = b.grid(SCENARIO, TIME, BUS)
    return GeneratorVars(p=p, q=q, forecast=forecast,
                         energy_price=b.stacked([unit_energy_price(b, g) for g in gens], GEN),
                         curtail_price=curtail_price, curtailable=curtailable,
                         inj_p=gather(buses, p, at_bus, GEN),
                         inj_q=gather(buses, q, at_bus, GEN))
