"""Mobile energy storage (MESS, seed 000): purchase, routing and operation.

Why units and not counts: a MESS is a *vehicle*; where it is parked at each step
decides which island it can supply, so each bought unit needs its own route. A
type may have up to N units (N = the type's `max_units`, else the investment's
`count` maximum); they are enumerated as `MESS2#1`, `MESS2#2`, ... along the
`mess_unit` dimension and made interchangeable-free by symmetry breaking:
unit k of a type can only be built if unit k − 1 is (built_k ≤ built_{k−1}), so
the solver never explores the N! relabellings of one fleet.

Blocks (S scenario, T time, U = `mess_unit`, C = `mess_at`, the candidate buses):

* `mess_built` [U] ∈ {0, 1} and `mess_units` [mess_type] = Σ built (the decision
  the plan reports), with count.min ≤ Σ_U built ≤ count.max;
* `mess_pos` [S, T, U, C] ∈ {0, 1}: connected at bus c during step t;
  Σ_C pos ≤ built (at most one bus, and only a unit that exists);
* travel of τ = ⌈travel / Δt⌉ steps: for k = 1..τ,
  pos[t, c] + occ[t − k] − pos[t − k, c] ≤ 1 with occ = Σ_C pos, i.e. being at c
  at t excludes being at any *other* bus during the τ steps before (the unit is on
  the road). Before t = 0 every unit is parked at the depot, so for t < τ only the
  depot (if it is a candidate) can be connected;
* `mess_arrive` [S, T, U] ≥ pos[t, c] − pos[t − 1, c] (pos[−1] = the depot): an
  arrival at a connection point; Σ_T arrive ≤ `moves` per unit and scenario.
  Continuous suffices: the bound only has to be at least the true 0/1 arrival;
* `mess_charge`, `mess_discharge` [S, T, U] ∈ [0, P], never both (binary
  `mess_charging`), and charge + discharge ≤ P·occ: nothing flows while moving;
* `mess_p_at`, `mess_q_at` [S, T, U, C] ∈ [−P·pos, P·pos]: the net injection is
  delivered at the connected bus only (Σ_C p_at = discharge − charge); the
  converter's reactive output is boxed like the stationary storage's;
* `mess_energy` [S, T, U] (end of step, as `compiler.storage`):
  E_t = E_{t−1} + η P_c Δt − P_d Δt / η, E_{−1} = soc_init × energy, within
  soc_min..soc_max × energy;
* wear w (P_c + P_d) Δt, returned per scenario for `compiler.costs`-style terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.builder import Block, Builder, sparse_sum
from gridc.compiler.index import BUS, SCENARIO, TIME
from gridc.dsl import ir_planning as P

UNIT, AT, MTYPE = "mess_unit", "mess_at", "mess_type"
UNIT_DIMS = (SCENARIO, TIME, UNIT)
POS_DIMS = (SCENARIO, TIME, UNIT, AT)


@dataclass(frozen=True)
class MessVars:
    built: Variable  # mess_built [mess_unit]
    units: Variable  # mess_units [mess_type]
    pos: Variable  # mess_pos [S, T, U, C]
    charge: Variable
    discharge: Variable
    energy: Variable
    wear: LinearExpression  # CNY per scenario
    inj_p: LinearExpression  # [S, T, bus] kW
    inj_q: LinearExpression


def integer_var(b: Builder, name: str, dims: tuple[str, ...], lower: float | xr.DataArray,
                upper: float | xr.DataArray, *, family: str, source: str | None,
                unit: str = "") -> Variable:
    """An integer block (the builder only knows continuous and binary ones); 0..1
    integers stand for binaries that a fixed plan can pin with lower = upper."""
    b.blocks[name] = Block(name, family, source, unit)
    return b.m.add_variables(lower=b.full(lower, dims), upper=b.full(upper, dims),
                             coords=b.idx.coord(*dims), name=name, integer=True)


def unit_counts(inv: P.MobileStorage) -> list[tuple[P.MobileStorageType, int]]:
    """Each type with the number of units to enumerate."""
    out = []
    for t in inv.types:
        n = inv.count.max if t.max_units is None else min(t.max_units, inv.count.max)
        out.append((t, max(0, n)))
    return out


def build_mess(b: Builder, inv: P.MobileStorage, fixed: dict[str, int] | None) -> MessVars:
    """The MESS blocks; `fixed` (type -> units) pins the purchase (a fixed plan)."""
    types = unit_counts(inv)
    labels = [f"{t.name}#{k + 1}" for t, n in types for k in range(n)]
    unit_type = [t for t, n in types for _ in range(n)]
    rank = [k for _, n in types for k in range(n)]
    cands = list(inv.candidates) or [str(x) for x in b.idx.coords[BUS]]
    b.idx.coords[UNIT] = pd.Index(labels, name=UNIT)
    b.idx.coords[AT] = pd.Index(cands, name=AT)
    b.idx.coords[MTYPE] = pd.Index([t.name for t, _ in types], name=MTYPE)
    b.idx.spans[UNIT] = {lb: t.span for lb, t in zip(labels, unit_type)}
    b.idx.spans[MTYPE] = {t.name: t.span for t, _ in types}

    def per_unit(values: list[float]) -> xr.DataArray:
        return xr.DataArray(np.asarray(values, dtype=float), coords=[b.idx.coords[UNIT]])

    power = per_unit([t.power_kw for t in unit_type])
    cap = per_unit([t.energy_kwh for t in unit_type])
    eta = per_unit([t.efficiency for t in unit_type])
    dt = b.idx.step_h

    # ---------------------------------------------------------------- purchase
    if fixed is None:
        lo, up = per_unit([0.0] * len(labels)), per_unit([1.0] * len(labels))
    else:
        on = per_unit([float(k < fixed.get(t.name, 0)) for t, k in zip(unit_type, rank)])
        lo, up = on, on
    built = integer_var(b, "mess_built", (UNIT,), lo, up, family="MESS purchase",
                        source=UNIT)
    n_max = xr.DataArray([float(n) for _, n in types], coords=[b.idx.coords[MTYPE]])
    n_lo = n_max * 0.0 if fixed is None else xr.DataArray(
        [float(fixed.get(t.name, 0)) for t, _ in types], coords=[b.idx.coords[MTYPE]])
    units = integer_var(b, "mess_units", (MTYPE,), n_lo, n_max if fixed is None else n_lo,
                        family="MESS purchase", source=MTYPE)
    onehot = xr.DataArray(np.array([[float(t.name == ty.name) for ty, _ in types]
                                    for t in unit_type]).reshape(len(labels), len(types)),
                          coords=[b.idx.coords[UNIT], b.idx.coords[MTYPE]])
    b.constrain("mess_units_sum", (built * onehot).sum(UNIT) - units, "==", 0.0,
                family="MESS purchase", source=MTYPE)
    follows = per_unit([float(k > 0) for k in rank]) > 0.5
    if bool(follows.any()):
        b.constrain("mess_symmetry", built - built.shift({UNIT: 1}).fillna(0), "<=", 0.0,
                    family="MESS purchase", source=UNIT, mask=follows)
    total = built.sum()
    b.constrain("mess_count_max", total, "<=", float(inv.count.max), family="MESS purchase",
                source=None)
    if inv.count.min > 0:
        b.constrain("mess_count_min", total, ">=", float(inv.count.min),
                    family="MESS purchase", source=None)

    # ---------------------------------------------------------------- routing
    pos = b.variable("mess_pos", POS_DIMS, binary=True, family="MESS routing", source=UNIT)
    occ = pos.sum(AT)
    b.constrain("mess_one_place", occ - built, "<=", 0.0, family="MESS routing", source=UNIT)
    depot = xr.DataArray([float(c == inv.depot) for c in cands], coords=[b.idx.coords[AT]])
    t_index = xr.DataArray(np.arange(b.idx.steps), coords=[b.idx.coords[TIME]])
    tau = math.ceil(inv.travel_h / dt - 1e-9) if inv.travel_h > 0 else 0
    for k in range(1, tau + 1):
        before_start = ((t_index < k) * (1.0 - depot)).transpose(TIME, AT)
        elsewhere = occ.shift(time=k).fillna(0) - pos.shift(time=k).fillna(0)
        b.constrain(f"mess_travel_{k}", pos + elsewhere + before_start, "<=", 1.0,
                    family="MESS routing", source=UNIT)
    arrive = b.variable("mess_arrive", UNIT_DIMS, 0.0, 1.0, family="MESS routing",
                        source=UNIT)
    at_start = ((t_index == 0) * depot).transpose(TIME, AT)
    b.constrain("mess_arrival", arrive - pos + pos.shift(time=1).fillna(0), ">=", -at_start,
                family="MESS routing", source=UNIT)
    b.constrain("mess_moves", arrive.sum(TIME), "<=", float(inv.moves_max),
                family="MESS routing", source=UNIT)

    # ---------------------------------------------------------------- operation
    charge = b.variable("mess_charge", UNIT_DIMS, 0.0, power, family="MESS power",
                        source=UNIT, unit="kW")
    discharge = b.variable("mess_discharge", UNIT_DIMS, 0.0, power, family="MESS power",
                           source=UNIT, unit="kW")
    charging = b.variable("mess_charging", UNIT_DIMS, binary=True, family="MESS power",
                          source=UNIT)
    b.constrain("mess_charge_on", charge - power * charging, "<=", 0.0,
                family="MESS power", source=UNIT, unit="kW")
    b.constrain("mess_discharge_on", discharge + power * charging, "<=", power,
                family="MESS power", source=UNIT, unit="kW")
    b.constrain("mess_connected", charge + discharge - power * occ, "<=", 0.0,
                family="MESS power", source=UNIT, unit="kW")
    p_at = b.variable("mess_p_at", POS_DIMS, -power, power, family="MESS power",
                      source=UNIT, unit="kW")
    q_at = b.variable("mess_q_at", POS_DIMS, -power, power, family="MESS power",
                      source=UNIT, unit="kvar")
    for name, var in (("p", p_at), ("q", q_at)):
        b.constrain(f"mess_{name}_at_up", var - power * pos, "<=", 0.0,
                    family="MESS power", source=UNIT)
        b.constrain(f"mess_{name}_at_dn", var + power * pos, ">=", 0.0,
                    family="MESS power", source=UNIT)
    b.constrain("mess_delivery", p_at.sum(AT) - discharge + charge, "==", 0.0,
                family="MESS power", source=UNIT, unit="kW")

    soc_lo = per_unit([t.soc_min for t in unit_type]) * cap
    soc_up = per_unit([t.soc_max for t in unit_type]) * cap
    init = per_unit([t.soc_init for t in unit_type]) * cap
    energy = b.variable("mess_energy", UNIT_DIMS, soc_lo, soc_up, family="MESS SOC",
                        source=UNIT, unit="kWh")
    first = (t_index == 0).astype(float)
    b.constrain("mess_balance", energy - energy.shift(time=1).fillna(0) - (eta * dt) * charge
                + (dt / eta) * discharge, "==", (init * first).transpose(TIME, UNIT),
                family="MESS energy balance", source=UNIT, unit="kWh")

    wear_price = per_unit([t.wear_cny_per_kwh for t in unit_type])
    wear = ((wear_price * dt) * (charge + discharge)).sum([TIME, UNIT])
    at_bus = b.idx.at_bus(AT, cands)
    return MessVars(built=built, units=units, pos=pos, charge=charge, discharge=discharge,
                    energy=energy, wear=wear,
                    inj_p=sparse_sum(p_at.sum(UNIT), at_bus, AT, BUS),
                    inj_q=sparse_sum(q_at.sum(UNIT), at_bus, AT, BUS))
