"""Stationary storage (SESS in seed 000): charge, discharge, state of charge.

Per unit s, scenario and step t (all blocks over (scenario, time, storage)):

* `storage_charge` P_c, `storage_discharge` P_d ∈ [0, power] [kW], never both:
  a binary `storage_charging` b with P_c ≤ power·b and P_d ≤ power·(1 − b)
  (without it an LP would burn surplus energy by charging and discharging at
  once through the efficiency losses);
* `storage_energy` E [kWh] is the energy at the *end* of step t:
  E_t = E_{t−1} + η P_c Δt − P_d Δt / η with E_{−1} = soc_init × energy
  (η is the one-way efficiency), within [soc_min, soc_max] × energy. There is
  no end-of-day condition: what is left at the end is simply not used;
* `storage_q` [kvar]: the inverter's reactive output within ±power (box, like
  the line ratings), which lets a unit carry an island's reactive load;
* wear cost w (P_c + P_d) Δt is assembled in `compiler.costs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import xarray as xr
from linopy import Variable

from gridc.compiler.builder import Builder
from gridc.compiler.index import BUS, SCENARIO, STORAGE, TIME
from gridc.compiler.rows import Rows, gather, term

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


def _param(b: Builder, values: list[float]) -> xr.DataArray:
    return xr.DataArray(values, coords=[b.idx.coords[STORAGE]], dims=[STORAGE])


def build_storage(b: Builder) -> StorageVars | None:
    """The storage blocks, or None when the model has no storage unit."""
    units = b.idx.storages
    if not units:
        return None
    power = _param(b, [s.power_kw for s in units])
    capacity = _param(b, [s.energy_kwh for s in units])
    eta = _param(b, [s.efficiency for s in units])
    soc_lo = _param(b, [s.soc_min for s in units]) * capacity
    soc_up = _param(b, [s.soc_max for s in units]) * capacity
    init = _param(b, [s.soc_init for s in units]) * capacity
    dt = b.idx.step_h

    charge = b.variable("storage_charge", STORAGE_DIMS, 0.0, power, source=STORAGE,
                        family="storage power", unit="kW")
    discharge = b.variable("storage_discharge", STORAGE_DIMS, 0.0, power, source=STORAGE,
                           family="storage power", unit="kW")
    energy = b.variable("storage_energy", STORAGE_DIMS, soc_lo, soc_up, source=STORAGE,
                        family="storage SOC", unit="kWh")
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
    b.constrain("storage_balance",
                term(units_grid, energy) - term(units_grid, energy, shift={TIME: 1})
                - term(units_grid, charge, eta * dt) + term(units_grid, discharge, dt / eta),
                "==", start, family="storage energy balance", source=STORAGE, unit="kWh")

    at_bus = b.idx.at_bus(STORAGE, [s.bus for s in units])
    buses = b.grid(SCENARIO, TIME, BUS)
    return StorageVars(charge=charge, discharge=discharge, energy=energy, charging=charging,
                       q=q, wear_price=_param(b, [s.wear_cny_per_kwh for s in units]),
                       inj_p=gather(buses, discharge, at_bus, STORAGE)
                       - gather(buses, charge, at_bus, STORAGE),
                       inj_q=gather(buses, q, at_bus, STORAGE))
