"""Mobile energy storage (MESS, seed 000): purchase, routing and operation.

Why a fleet flow and not one route per unit: a MESS is a vehicle, so where it is
parked decides which island it can supply. Routing each unit with position
binaries and big-M travel rows (the textbook form) has a very weak LP relaxation:
half a unit at the substation charging and half a unit in an island discharging
is a *wire* into the island, and the relaxation then sheds nothing at all while
every integer point does. It also enumerates interchangeable units (N!
relabellings of one fleet). Here the units of one type are a *fleet* moving
over a time-expanded network (bus × step, with road arcs of τ steps), and the
energy moves *with* the units as a second commodity bounded by the units that
carry it. Energy can no longer jump from a grid bus to an island without a unit
driving it there, so the relaxation is close to the integer optimum; and the
counts per type and bus carry no labels, so there is no symmetry.

Blocks (S scenario, T time, K = `mess_type`, C = `mess_at`, the candidate buses):

* `mess_units` [K] ∈ {0 .. N_k}: units bought (N_k = the type's `max_units`, else the
  investment's `count` maximum; a fixed plan pins it), count.min ≤ Σ ≤ count.max;
* `mess_pos` [S, T, K, C] ∈ ℤ≥0: units of type k connected at bus c during step t;
  `mess_stay` [S, T, K, C] ∈ ℤ≥0 of them were at c during t − 1 as well. Departures
  dep = pos[t−1] − stay ≥ 0 and arrivals arr = pos[t] − stay ≥ 0; before t = 0
  the whole fleet is parked at the depot (if the depot is no candidate, it leaves
  at t = 0). A unit that departs at the start of step t is on the road for
  τ = ⌈travel / Δt⌉ steps: Σ_C arr[t] = Σ_C dep[t − τ] (`mess_transit`), so
  Σ_C pos + (units on the road) = units at every step;
* moves: Σ_{T,C} arr ≤ moves × units per scenario and type — the per-unit limit
  summed over the fleet of a type (identical for one unit per type; with several,
  one unit may move more often than `moves` if another moves less). With
  `moves 1` the per-unit limit is exact and much tighter: every unit makes one
  trip, so units depart from the depot only (`mess_one_trip_out`) and never arrive
  there (`mess_one_trip_in`); fractions of a unit can no longer tour several buses
  in the relaxation;
* `mess_energy` E [S, T, K, C] (end of step) of the units at c, and the energy of
  the staying units `mess_energy_stay` and arriving units `mess_energy_arrive`;
  departing units take E[t−1] − stay energy on the road, unchanged, to their
  destination (`mess_energy_transit`). Each of these lies within
  [soc_min, soc_max] × energy × (the units carrying it), and
  E = E_stay + E_arrive + η P_c Δt − P_d Δt / η. Units of one type at one bus
  share their energy (one can charge another through the bus: exact up to that
  transfer's converter loss);
* `mess_charge` P_c, `mess_discharge` P_d [S, T, K, C] ≥ 0 with
  P_c + P_d ≤ P × pos (nothing flows on the road); no exclusivity binary: charging
  and discharging at once is real with two units at a bus, and with one it
  burns energy through the losses, which pays only against the curtailment
  penalty (reported by `runtime.results` when it happens);
* `mess_q` [S, T, K, C] within ± P × pos (the converter's reactive box, as for
  stationary storage);
* wear w (P_c + P_d) Δt, returned per scenario for `compiler.formulations.operating_costs`-style
  terms.

`parked` gives the restriction "no departure after the first step" (each unit
drives to one bus and stays the day): a much smaller search whose optimum seeds
the full problem (see `runtime.backend.warmstart`).

The initial energy is soc_init × energy per unit at the depot.
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

AT, MTYPE = "mess_at", "mess_type"
FLEET_DIMS = (SCENARIO, TIME, MTYPE, AT)


@dataclass(frozen=True)
class MessVars:
    units: Variable  # mess_units [mess_type]
    pos: Variable  # mess_pos [S, T, K, C] units connected
    charge: Variable
    discharge: Variable
    energy: Variable
    wear: LinearExpression  # CNY per scenario
    inj_p: LinearExpression  # [S, T, bus] kW
    inj_q: LinearExpression
    departures: LinearExpression  # [S, T, K, C] units leaving bus c at the start of t


def unit_counts(inv: P.MobileStorage) -> list[tuple[P.MobileStorageType, int]]:
    """Each type with the largest number of units that may be bought."""
    out = []
    for t in inv.types:
        n = inv.count.max if t.max_units is None else min(t.max_units, inv.count.max)
        out.append((t, max(0, n)))
    return out


def _shift(expr: LinearExpression | Variable, steps: int) -> LinearExpression:
    """expr[t − steps], zero before the horizon."""
    lin = expr.to_linexpr() if isinstance(expr, Variable) else expr
    return lin if steps == 0 else lin.shift(time=steps).fillna(0)  # type: ignore[no-any-return]


def _between(b: Builder, name: str, expr: LinearExpression, count: LinearExpression | Variable,
             lo: xr.DataArray, up: xr.DataArray, family: str) -> None:
    """lo · count ≤ expr ≤ up · count (per-unit SOC limits of `count` units)."""
    b.constrain(f"{name}_min", expr - lo * count, ">=", 0.0, family=family, source=MTYPE,
                unit="kWh")
    b.constrain(f"{name}_max", expr - up * count, "<=", 0.0, family=family, source=MTYPE,
                unit="kWh")


def define_mobile_storage(b: Builder, inv: P.MobileStorage,
                          fixed: dict[str, int] | None) -> MessVars:
    """The MESS blocks; `fixed` (type -> units) pins the purchase (a fixed plan)."""
    types = unit_counts(inv)
    cands = list(inv.candidates) or [str(x) for x in b.idx.coords[BUS]]
    b.idx.coords[AT] = pd.Index(cands, name=AT)
    b.idx.coords[MTYPE] = pd.Index([t.name for t, _ in types], name=MTYPE)
    b.idx.spans[MTYPE] = {t.name: t.span for t, _ in types}

    def per_type(values: list[float]) -> xr.DataArray:
        return xr.DataArray(np.asarray(values, dtype=float), coords=[b.idx.coords[MTYPE]])

    power = per_type([t.power_kw for t, _ in types])
    cap = per_type([t.energy_kwh for t, _ in types])
    eta = per_type([t.efficiency for t, _ in types])
    soc_lo, soc_up = per_type([t.soc_min for t, _ in types]) * cap, \
        per_type([t.soc_max for t, _ in types]) * cap
    init = per_type([t.soc_init for t, _ in types]) * cap
    dt = b.idx.step_h

    # ---------------------------------------------------------------- purchase
    n_max = per_type([float(n) for _, n in types])
    if fixed is not None:
        n_max = per_type([float(fixed.get(t.name, 0)) for t, _ in types])
    n_lo = n_max * 0.0 if fixed is None else n_max
    units = b.integer("mess_units", (MTYPE,), n_lo, n_max, family="MESS purchase",
                        source=MTYPE)
    b.constrain("mess_count_max", units.sum(), "<=", float(inv.count.max),
                family="MESS purchase", source=None,
                levers=[Lever("investment count", "count_max", owner=inv.name)])
    if inv.count.min > 0:
        b.constrain("mess_count_min", units.sum(), ">=", float(inv.count.min),
                    family="MESS purchase", source=None,
                    levers=[Lever("investment count", "count_min", owner=inv.name,
                                  most=float(inv.count.min))])

    # ---------------------------------------------------------------- routing
    fam = "MESS routing"
    pos = b.integer("mess_pos", FLEET_DIMS, 0.0, n_max, family=fam, source=MTYPE)
    stay = b.integer("mess_stay", FLEET_DIMS, 0.0, n_max, family=fam, source=MTYPE)
    t_index = xr.DataArray(np.arange(b.idx.steps), coords=[b.idx.coords[TIME]])
    first = (t_index == 0).astype(float)
    depot = xr.DataArray([float(c == inv.depot) for c in cands], coords=[b.idx.coords[AT]])
    off_depot = 0.0 if inv.depot in cands else 1.0  # the fleet leaves a non-candidate depot
    before = _shift(pos, 1) + units * (first * depot)  # units at c during t − 1
    dep = before - stay
    arr = pos - stay
    b.constrain("mess_departures", dep, ">=", 0.0, family=fam, source=MTYPE)
    b.constrain("mess_arrivals", arr, ">=", 0.0, family=fam, source=MTYPE)
    tau = math.ceil(inv.travel_h / dt - 1e-9) if inv.travel_h > 0 else 0
    leave = dep.sum(AT) + units * (first * off_depot)
    b.constrain("mess_transit", arr.sum(AT) - _shift(leave, tau), "==", 0.0, family=fam,
                source=MTYPE)
    b.constrain("mess_moves", arr.sum([TIME, AT]) - float(inv.moves_max) * units, "<=", 0.0,
                family=fam, source=MTYPE)
    if inv.moves_max <= 1:  # one trip per unit: leave the depot once, never come back
        home = depot.broadcast_like(dep.const).transpose(*FLEET_DIMS) > 0.5
        b.constrain("mess_one_trip_out", dep, "==", 0.0, family=fam, source=MTYPE,
                    mask=~home)
        b.constrain("mess_one_trip_in", arr, "==", 0.0, family=fam, source=MTYPE, mask=home)

    # ---------------------------------------------------------------- energy
    fam_e = "MESS SOC"
    e_up = soc_up * n_max
    energy = b.variable("mess_energy", FLEET_DIMS, 0.0, e_up, family=fam_e, source=MTYPE,
                        unit="kWh")
    e_stay = b.variable("mess_energy_stay", FLEET_DIMS, 0.0, e_up, family=fam_e,
                        source=MTYPE, unit="kWh")
    e_arr = b.variable("mess_energy_arrive", FLEET_DIMS, 0.0, e_up, family=fam_e,
                       source=MTYPE, unit="kWh")
    e_before = _shift(energy, 1) + (init * units) * (first * depot)
    e_dep = e_before - e_stay
    _between(b, "mess_energy", energy.to_linexpr(), pos, soc_lo, soc_up, fam_e)
    _between(b, "mess_energy_stay", e_stay.to_linexpr(), stay, soc_lo, soc_up, fam_e)
    _between(b, "mess_energy_arrive", e_arr.to_linexpr(), arr, soc_lo, soc_up, fam_e)
    _between(b, "mess_energy_depart", e_dep, dep, soc_lo, soc_up, fam_e)
    e_leave = e_dep.sum(AT) + (init * units) * (first * off_depot)
    b.constrain("mess_energy_transit", e_arr.sum(AT) - _shift(e_leave, tau), "==", 0.0,
                family=fam_e, source=MTYPE, unit="kWh")

    # ---------------------------------------------------------------- operation
    fam_p = "MESS power"
    p_up = power * n_max
    charge = b.variable("mess_charge", FLEET_DIMS, 0.0, p_up, family=fam_p, source=MTYPE,
                        unit="kW")
    discharge = b.variable("mess_discharge", FLEET_DIMS, 0.0, p_up, family=fam_p,
                           source=MTYPE, unit="kW")
    q = b.variable("mess_q", FLEET_DIMS, -p_up, p_up, family=fam_p, source=MTYPE,
                   unit="kvar")
    b.constrain("mess_connected", charge + discharge - power * pos, "<=", 0.0, family=fam_p,
                source=MTYPE, unit="kW")
    b.constrain("mess_q_up", q - power * pos, "<=", 0.0, family=fam_p, source=MTYPE,
                unit="kvar")
    b.constrain("mess_q_dn", q + power * pos, ">=", 0.0, family=fam_p, source=MTYPE,
                unit="kvar")
    b.constrain("mess_balance", energy - e_stay - e_arr - (eta * dt) * charge
                + (dt / eta) * discharge, "==", 0.0, family="MESS energy balance",
                source=MTYPE, unit="kWh")

    wear_price = per_type([t.wear_cny_per_kwh for t, _ in types])
    wear = ((wear_price * dt) * (charge + discharge)).sum([TIME, MTYPE, AT])
    at_bus = b.idx.at_bus(AT, cands)
    return MessVars(units=units, pos=pos, charge=charge, discharge=discharge, energy=energy,
                    wear=wear,
                    inj_p=sparse_sum((discharge - charge).sum(MTYPE), at_bus, AT, BUS),
                    inj_q=sparse_sum(q.sum(MTYPE), at_bus, AT, BUS), departures=dep)


def parked(mess: MessVars) -> tuple[LinearExpression, xr.DataArray]:
    """The restriction `departures == 0` after t = 0 (where the mask is True): every unit
    drives from the depot to one bus at the start of the day and stays there. Its
    optimum is a good MIP start for the full routing (see `runtime.backend.warmstart`)."""
    dep = mess.departures
    later = dep.const[TIME] > 0
    return dep, later.broadcast_like(dep.const).transpose(*dep.const.dims)
