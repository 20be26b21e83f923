"""EV replaceable batteries (EV-RB, seed 000): packs pre-positioned at car parks.

Why this shape: the packs sit in parked EVs and reach the grid through V2G piles,
so a site's *energy* is what was bought (integer packs, E_b = Σ_k pack_k · n_{k,b},
linear in the decision) while its *power* is limited by the hardware already on
site: min(piles · pile power, EVs · EV power). Both caps are data, so the model
stays a MILP with no product of decisions.

Blocks (S scenario, T time, B = `ev_site`, K = `pack_type`):

* `ev_packs` [K, B] integers in [0, per_site_max], Σ_K ≤ per_site_max per site,
  count.min ≤ Σ ≤ count.max;
* `ev_charge`, `ev_discharge` [S, T, B] ∈ [0, P_max,b] with one binary
  `ev_charging` ξ per site and step: P_c ≤ ξ P_max, P_d ≤ (1 − ξ) P_max. This is the
  seed's ξ_c + ξ_d ≤ 1 with ξ_d = 1 − ξ_c (an idle site may take either mode), half
  the binaries, and its relaxation implies P_c + P_d ≤ P_max. A fixed plan without
  a pack at a site bounds that site's powers and binaries to 0 (nothing to branch on);
* `ev_q` [S, T, B] within ± min(piles · pile_q, EVs · ev_q) (pile limit only
  without `ev_q`) and |Q| ≤ (P_c + P_d) tan φ, φ = acos(power_factor): a pile
  only gives reactive power alongside active power;
* `ev_energy` [S, T, B] (end of step): E_t = E_{t−1} + η P_c Δt − P_d Δt / η,
  E_{−1} = soc_init · E_b, S_min · E_b ≤ E_t ≤ S_max · E_b. With no pack E_b = 0,
  so E ≡ 0, nothing can be charged or discharged and Q = 0: the site gives nothing;
* loss w_b (P_c + P_d) Δt, returned per scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.core.builder import Builder, Lever, sparse_sum
from gridc.compiler.core.index import BUS, SCENARIO, TIME
from gridc.dsl import ir_planning as P

SITE, PACK = "ev_site", "pack_type"
SITE_DIMS = (SCENARIO, TIME, SITE)


@dataclass(frozen=True)
class EvVars:
    packs: Variable  # ev_packs [pack_type, ev_site]
    capacity: LinearExpression  # E_b [ev_site] kWh
    charge: Variable
    discharge: Variable
    energy: Variable
    loss: LinearExpression  # CNY per scenario
    inj_p: LinearExpression  # [S, T, bus]
    inj_q: LinearExpression


def site_limits(inv: P.EvBattery) -> tuple[list[float], list[float]]:
    """P_max and Q_max per site: the smaller of what the piles and the EVs can pass."""
    p_max = [min(s.piles * inv.pile_power_kw, s.evs * inv.ev_power_kw) for s in inv.sites]
    q_max = [s.piles * inv.pile_q_kvar if inv.ev_q_kvar is None
             else min(s.piles * inv.pile_q_kvar, s.evs * inv.ev_q_kvar) for s in inv.sites]
    return p_max, q_max


def define_ev_battery(b: Builder, inv: P.EvBattery,
                     fixed: dict[tuple[str, str], int] | None) -> EvVars:
    """The EV-RB blocks; `fixed` ((type, bus) -> packs) pins the purchase."""
    buses = [s.bus for s in inv.sites]
    b.idx.coords[SITE] = pd.Index(buses, name=SITE)
    b.idx.coords[PACK] = pd.Index([t.name for t in inv.types], name=PACK)
    b.idx.spans[SITE] = {s.bus: s.span for s in inv.sites}
    b.idx.spans[PACK] = {t.name: t.span for t in inv.types}
    per_site = inv.per_site_max if inv.per_site_max is not None else inv.count.max
    dims = (PACK, SITE)
    if fixed is None:
        lo: float | xr.DataArray = 0.0
        up: float | xr.DataArray = float(per_site)
    else:
        lo = up = xr.DataArray(np.array([[float(fixed.get((t.name, bus), 0)) for bus in buses]
                                         for t in inv.types]).reshape(len(inv.types),
                                                                      len(buses)),
                               coords=b.idx.coord(*dims))
    packs = b.integer("ev_packs", dims, lo, up, family="EV-RB purchase", source=SITE)
    b.constrain("ev_packs_site", packs.sum(PACK), "<=", float(per_site),
                family="EV-RB purchase", source=SITE)
    b.constrain("ev_packs_max", packs.sum(), "<=", float(inv.count.max),
                family="EV-RB purchase", source=None,
                levers=[Lever("investment count", "count_max", owner=inv.name)])
    if inv.count.min > 0:
        b.constrain("ev_packs_min", packs.sum(), ">=", float(inv.count.min),
                    family="EV-RB purchase", source=None,
                    levers=[Lever("investment count", "count_min", owner=inv.name,
                                  most=float(inv.count.min))])
    size = xr.DataArray([t.pack_kwh for t in inv.types], coords=[b.idx.coords[PACK]])
    capacity = (packs * size).sum(PACK)

    p_list, q_list = site_limits(inv)
    p_max = xr.DataArray(p_list, coords=[b.idx.coords[SITE]])
    q_max = xr.DataArray(q_list, coords=[b.idx.coords[SITE]])
    if fixed is not None:  # no pack at a site: nothing can flow there
        stocked = xr.DataArray([float(sum(fixed.get((t.name, bus), 0) for t in inv.types) > 0)
                                for bus in buses], coords=[b.idx.coords[SITE]])
        p_max, q_max = p_max * stocked, q_max * stocked
    charge = b.variable("ev_charge", SITE_DIMS, 0.0, p_max, family="EV-RB power",
                        source=SITE, unit="kW")
    discharge = b.variable("ev_discharge", SITE_DIMS, 0.0, p_max, family="EV-RB power",
                           source=SITE, unit="kW")
    xi = b.integer("ev_charging", SITE_DIMS, 0.0, (p_max > 0).astype(float),
                     family="EV-RB power", source=SITE)
    b.constrain("ev_charge_on", charge - p_max * xi, "<=", 0.0, family="EV-RB power",
                source=SITE, unit="kW")
    b.constrain("ev_discharge_on", discharge + p_max * xi, "<=", p_max,
                family="EV-RB power", source=SITE, unit="kW")
    q = b.variable("ev_q", SITE_DIMS, -q_max, q_max, family="EV-RB power", source=SITE,
                   unit="kvar")
    tan_phi = math.tan(math.acos(min(max(inv.power_factor, 0.0), 1.0)))
    b.constrain("ev_q_pf_up", q - tan_phi * (charge + discharge), "<=", 0.0,
                family="EV-RB power", source=SITE, unit="kvar")
    b.constrain("ev_q_pf_dn", q + tan_phi * (charge + discharge), ">=", 0.0,
                family="EV-RB power", source=SITE, unit="kvar")

    energy = b.variable("ev_energy", SITE_DIMS, 0.0, family="EV-RB SOC", source=SITE,
                        unit="kWh")
    b.constrain("ev_soc_min", energy - inv.soc_min * capacity, ">=", 0.0,
                family="EV-RB SOC", source=SITE, unit="kWh")
    b.constrain("ev_soc_max", energy - inv.soc_max * capacity, "<=", 0.0,
                family="EV-RB SOC", source=SITE, unit="kWh")
    first = xr.DataArray((np.arange(b.idx.steps) == 0).astype(float),
                         coords=[b.idx.coords[TIME]])
    dt, eta = b.idx.step_h, inv.efficiency
    b.constrain("ev_balance", energy - energy.shift(time=1).fillna(0) - (eta * dt) * charge
                + (dt / eta) * discharge - (inv.soc_init * first) * capacity, "==", 0.0,
                family="EV-RB energy balance", source=SITE, unit="kWh")

    loss = ((inv.loss_cny_per_kwh * dt) * (charge + discharge)).sum([TIME, SITE])
    at_bus = b.idx.at_bus(SITE, buses)
    return EvVars(packs=packs, capacity=capacity, charge=charge, discharge=discharge,
                  energy=energy, loss=loss,
                  inj_p=sparse_sum(discharge - charge, at_bus, SITE, BUS),
                  inj_q=sparse_sum(q.to_linexpr(), at_bus, SITE, BUS))
