"""Stationary storage (SESS in seed 000): charge, discharge, state of charge.

Per unit s, scenario and step t (all blocks over (scenario, time, storage)):

* `storage_charge` P_c, `storage_discharge` P_d ∈ [0, power] [kW], never both:
  a binary `storage_charging` b with P_c ≤ power·b and P_d ≤ power·(1 − b)
  (without it an LP would burn surplus energy by charging and discharging at
  once through the efficiency losses);
* `storage_energy` E [kWh] is the energy at the *end* of step t:
  E_t = E_{t−1} + η P_c Δt − P_d Δt / η with E_{−1} = soc_init × energy
  (η is the one-way efficiency), within [soc_min, soc_max] × energy. By default
  there is no end-of-day condition: what is left at the end is simply not used, and
  the energy above soc_min at the start is free on every day;
* `storage_end_of_day` (only for units written with the `cyclic` flag; one row per
  scenario and cyclic unit, over (scenario, storage)): E_{T−1} ≥ soc_init × energy,
  the day ends with at least the energy it started with, so the day's use of the
  starting energy must be bought back within the day. ≥ rather than =: ending fuller
  is never worse and the row stays feasible (an idle unit meets it with equality);
* `storage_q` [kvar]: the inverter's reactive output within ±power (box, like
  the line ratings), which lets a unit carry an island's reactive load;
* wear cost w (P_c + P_d) Δt is assembled in `compiler.formulations.operating_costs`.

A `storage` investment (`invest NAME : storage at BUS { ... }`) is a unit of the same
blocks whose sizes are decisions (`expand_storage` adds it to the model's storages at its
largest size, so that every block keeps one `storage` dimension): `storage_power_size`
[kW] and `storage_energy_size` [kWh] over (storage,) — fixed at the rating for existing
units, within the investment's ranges for invested ones, and whole multiples of its
`unit` (`storage_units`, integer) when it has one. For invested units the rows

    P_c, P_d ≤ P_size,  |q| ≤ P_size,  soc_min·E_size ≤ E ≤ soc_max·E_size,
    E_{−1} = soc_init·E_size,  and with `cyclic`  E_{T−1} ≥ soc_init·E_size

replace the data bounds (the exclusivity rows keep the largest rating as their big-M).
The sizes are priced per kW and per kWh (`PricedItem` groups "storage_power",
"storage_energy"). Models without a storage investment get none of these blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.core.builder import Builder, Lever
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import BUS, SCENARIO, STORAGE, TIME
from gridc.compiler.core.rows import Rows, gather, term
from gridc.compiler.formulations.pricing import PricedItem
from gridc.dsl import ir
from gridc.dsl import ir_planning as P

STORAGE_DIMS = (SCENARIO, TIME, STORAGE)


@dataclass(frozen=True)
class StorageVars:
    charge: Variable  # storage_charge [kW]
    discharge: Variable  # storage_discharge [kW]
    energy: Variable  # storage_energy [kWh]
    charging: Variable  # storage_charging (binary)
    q: Variable  # storage_q [kvar]
    wear_price: xr.DataArray  # [storage] CNY/kWh of throughput
    inj_p: Rows  # [scenario, time, bus] kW
    inj_q: Rows
    items: list[PricedItem] = field(default_factory=list)


def storage_builds(model: ir.Model) -> list[P.StorageBuild]:
    return [i for i in model.investments if isinstance(i, P.StorageBuild)]


def expand_storage(model: ir.Model) -> ir.Model:
    """The model with every storage investment among its storage units, at its largest
    size (the compiler then makes the sizes decisions, see the module docstring)."""
    builds = storage_builds(model)
    if not builds:
        return model
    names = {s.name for s in model.storages}
    added = []
    for inv in builds:
        if inv.name in names:
            raise compile_error(model, "GRID040", f"storage investment '{inv.name}' has the "
                                "name of a storage unit", inv.span,
                                help="give the investment a name of its own")
        added.append(ir.Storage(span=inv.span, name=inv.name, bus=inv.bus,
                                power_kw=inv.power_max_kw, energy_kwh=inv.energy_max_kwh,
                                efficiency=inv.efficiency, soc_min=inv.soc_min,
                                soc_max=inv.soc_max, soc_init=inv.soc_init,
                                wear_cny_per_kwh=inv.wear_cny_per_kwh, cyclic=inv.cyclic))
    return model.model_copy(update={"storages": (*model.storages, *added)})


def _param(b: Builder, values: list[float]) -> xr.DataArray:
    return xr.DataArray(values, coords=[b.idx.coords[STORAGE]], dims=[STORAGE])


def define_storage(b: Builder) -> StorageVars | None:
    """The storage blocks, or None when the model has no storage unit."""
    units = b.idx.storages
    if not units:
        return None
    builds = {i.name: i for i in storage_builds(b.model)}
    invested = _param(b, [float(s.name in builds) for s in units]) > 0.5
    power = _param(b, [s.power_kw for s in units])
    capacity = _param(b, [s.energy_kwh for s in units])
    eta = _param(b, [s.efficiency for s in units])
    soc_lo = (_param(b, [s.soc_min for s in units]) * capacity).where(~invested, 0.0)
    soc_up = _param(b, [s.soc_max for s in units]) * capacity
    init = (_param(b, [s.soc_init for s in units]) * capacity).where(~invested, 0.0)
    dt = b.idx.step_h

    charge = b.variable("storage_charge", STORAGE_DIMS, 0.0, power, source=STORAGE,
                        family="storage power", unit="kW")
    discharge = b.variable("storage_discharge", STORAGE_DIMS, 0.0, power, source=STORAGE,
                           family="storage power", unit="kW")
    # elastic mode's causes: the `soc` range, within 0 .. 100 % (an invested unit's
    # lower bound is its row's)
    floor = Lever("storage SOC", "soc_min", most=_param(b, [s.soc_min for s in units]) * capacity)
    ceiling = Lever("storage SOC", "soc_max",
                    most=(1.0 - _param(b, [s.soc_max for s in units])) * capacity)
    energy = b.variable("storage_energy", STORAGE_DIMS, soc_lo, soc_up, source=STORAGE,
                        family="storage SOC", unit="kWh",
                        levers={"lower": [replace(floor, scale=(~invested).astype(float))],
                                "upper": [ceiling]})
    charging = b.variable("storage_charging", STORAGE_DIMS, binary=True, source=STORAGE,
                          family="storage exclusivity")
    q = b.variable("storage_q", STORAGE_DIMS, -power, power, source=STORAGE,
                   family="storage power", unit="kvar")

    units_grid = b.grid(*STORAGE_DIMS)
    b.constrain("storage_charge_on",
                term(units_grid, charge) - term(units_grid, charging, power), "<=", 0.0,
                family="storage exclusivity", source=STORAGE, unit="kW")
    b.constrain("storage_discharge_on",
                term(units_grid, discharge) + term(units_grid, charging, power), "<=", power,
                family="storage exclusivity", source=STORAGE, unit="kW")
    first = xr.DataArray(b.idx.coords[TIME] == 0, coords=[b.idx.coords[TIME]])
    start = (init * first).transpose(TIME, STORAGE)
    # E_t − E_{t−1} − η Δt P_c + Δt/η P_d = E_init at t = 0, 0 after
    balance = (term(units_grid, energy) - term(units_grid, energy, shift={TIME: 1})
               - term(units_grid, charge, eta * dt) + term(units_grid, discharge, dt / eta))
    items: list[PricedItem] = []
    # the starting energy of invested units, soc_init·E_size (None: no investment)
    sized_start: LinearExpression | None = None
    if builds:
        balance, items, sized_start = _sized(b, units, builds, invested, charge, discharge,
                                             energy, q, balance, first, (floor, ceiling))
    b.constrain("storage_balance", balance, "==", start, family="storage energy balance",
                source=STORAGE, unit="kWh")
    cyclic = _param(b, [float(s.cyclic) for s in units]) > 0.5
    if bool(cyclic.any()):
        _end_of_day(b, energy, init, sized_start, cyclic)

    at_bus = b.idx.at_bus(STORAGE, [s.bus for s in units])
    buses = b.grid(SCENARIO, TIME, BUS)
    return StorageVars(charge=charge, discharge=discharge, energy=energy, charging=charging,
                       q=q, wear_price=_param(b, [s.wear_cny_per_kwh for s in units]),
                       inj_p=gather(buses, discharge, at_bus, STORAGE)
                       - gather(buses, charge, at_bus, STORAGE),
                       inj_q=gather(buses, q, at_bus, STORAGE), items=items)


def _end_of_day(b: Builder, energy: Variable, init: xr.DataArray,
                sized_start: LinearExpression | None, cyclic: xr.DataArray) -> None:
    """`storage_end_of_day`: E_{T−1} − soc_init·E_size ≥ soc_init·energy for the
    `cyclic` units, one row per (scenario, storage) (`init` is 0 for invested units,
    `sized_start` is their soc_init·E_size term and 0 for the others)."""
    last = energy.isel({TIME: -1}, drop=True)
    lhs = last if sized_start is None else last - sized_start
    mask = cyclic.broadcast_like(last.labels).transpose(*last.labels.dims)
    b.constrain("storage_end_of_day", lhs, ">=", init, family="storage energy balance",
                source=STORAGE, unit="kWh", mask=mask)


def _sized(b: Builder, units: tuple[ir.Storage, ...], builds: dict[str, P.StorageBuild],
           invested: xr.DataArray, charge: Variable, discharge: Variable, energy: Variable,
           q: Variable, balance: Rows, first: xr.DataArray,
           levers: tuple[Lever, Lever]) -> tuple[Rows, list[PricedItem], LinearExpression]:
    """Size decisions of invested units and the rows that replace their data bounds
    (`levers`: the `soc` floor and ceiling, elastic mode's causes); also the starting
    energy soc_init·E_size of each unit over (storage,) (0 for the existing ones)."""
    def per_unit(fixed: list[float], of_build: list[float | None]) -> xr.DataArray:
        return _param(b, [f if v is None else v for f, v in zip(fixed, of_build)])

    inv = [builds.get(s.name) for s in units]
    p_lo = per_unit([s.power_kw for s in units], [i.power_min_kw if i else None for i in inv])
    p_up = _param(b, [s.power_kw for s in units])
    e_lo = per_unit([s.energy_kwh for s in units],
                    [i.energy_min_kwh if i else None for i in inv])
    e_up = _param(b, [s.energy_kwh for s in units])
    p_size = b.variable("storage_power_size", (STORAGE,), p_lo, p_up, family="storage sizing",
                        source=STORAGE, unit="kW")
    e_size = b.variable("storage_energy_size", (STORAGE,), e_lo, e_up,
                        family="storage sizing", source=STORAGE, unit="kWh")
    unit_kw = [i.unit_kw if i is not None and i.unit_kw else 0.0 for i in inv]
    unit_kwh = [i.unit_kwh if i is not None and i.unit_kwh else 0.0 for i in inv]
    if any(unit_kw):
        in_units = _param(b, [float(k > 0) for k in unit_kw]) > 0.5
        most = [np.floor(min(s.power_kw / k if k else 0.0, s.energy_kwh / e if e else 0.0)
                         + 1e-9) for s, k, e in zip(units, unit_kw, unit_kwh)]
        n = b.integer("storage_units", (STORAGE,), 0.0, _param(b, most),
                      family="storage sizing", source=STORAGE, unit="units")
        b.constrain("storage_power_units", p_size - _param(b, unit_kw) * n, "==", 0.0,
                    family="storage sizing", source=STORAGE, unit="kW", mask=in_units)
        b.constrain("storage_energy_units", e_size - _param(b, unit_kwh) * n, "==", 0.0,
                    family="storage sizing", source=STORAGE, unit="kWh", mask=in_units)
    grid = b.grid(*STORAGE_DIMS)
    mask = invested.broadcast_like(grid.like()).transpose(*STORAGE_DIMS)
    for name, var, sign in (("charge", charge, "<="), ("discharge", discharge, "<="),
                            ("q_up", q, "<="), ("q_dn", q, ">=")):
        coef = 1.0 if sign == ">=" else -1.0
        b.constrain(f"storage_{name}_size", term(grid, var) + term(grid, p_size, coef), sign,
                    0.0, family="storage power", source=STORAGE, unit="kW", mask=mask)
    soc_min = _param(b, [s.soc_min for s in units])
    soc_max = _param(b, [s.soc_max for s in units])
    b.constrain("storage_energy_max", term(grid, energy) - term(grid, e_size, soc_max), "<=",
                0.0, family="storage SOC", source=STORAGE, unit="kWh", mask=mask,
                levers=[levers[1]])
    b.constrain("storage_energy_min", term(grid, energy) - term(grid, e_size, soc_min), ">=",
                0.0, family="storage SOC", source=STORAGE, unit="kWh", mask=mask,
                levers=[levers[0]])
    soc_init = _param(b, [s.soc_init for s in units]).where(invested, 0.0)
    balance = balance - term(grid, e_size, (soc_init * first).transpose(TIME, STORAGE))
    items: list[PricedItem] = []
    for build in builds.values():
        one = {STORAGE: [build.name]}
        if build.power_costs is not None:
            items.append(PricedItem("storage_power", build.name, build.power_costs,
                                    p_size.sel(one).sum(), "kW"))
        if build.energy_costs is not None:
            items.append(PricedItem("storage_energy", build.name, build.energy_costs,
                                    e_size.sel(one).sum(), "kWh"))
    return balance, items, e_size * soc_init
