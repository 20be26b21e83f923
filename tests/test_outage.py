"""Outages island loads: what is cut off without a local source is shed exactly, and a
storage unit at the islanded bus saves exactly the energy it can deliver."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

import gridc
from gridc.runtime.backend.solver import SolveStatus

IEEE33 = Path(__file__).resolve().parents[1] / "models" / "ieee33.grid"

# Bus 33 (60 kW, 40 kvar at the end of the lateral 6-26-...-33) is islanded by cutting
# line 32-33 for the first 4 hours. Loads are flat (no profile), v_min is relaxed to 0.9
# so that the intact feeder needs no shedding for voltage.
BASE = f"""
model cut
import "{IEEE33}"
horizon 6 h step 1 h
penalty shed 20 CNY/kWh
price grid 0.5 CNY/kWh
scenarios storm {{
  scenario cut {{ probability 1, outage 32-33 from 0 h to 4 h }}
}}
study s {{ set network.v_min_pu 0.9 }}
"""

LOAD_33_KW = 60.0
OUT_H = 4.0


def shed_kwh(text: str) -> tuple[float, xr.DataArray]:
    result = gridc.compile(gridc.parse(text, "cut.grid")).solve()
    assert result.status is SolveStatus.optimal, result.message
    ds = result.dataset
    per_bus = ds["bus_shed_p"].sum(["scenario", "time"])  # kWh with 1 h steps
    return float(per_bus.sum()), per_bus


def test_cut_line_sheds_exactly_the_islanded_load() -> None:
    total, per_bus = shed_kwh(BASE)
    assert total == pytest.approx(LOAD_33_KW * OUT_H, abs=1e-6)
    assert float(per_bus.sel(bus="33")) == pytest.approx(LOAD_33_KW * OUT_H, abs=1e-6)


def test_islanded_bus_is_reported_as_not_energized() -> None:
    problem = gridc.compile(gridc.parse(BASE, "cut.grid"))
    energized = problem.compiled.energized.sel(scenario="cut", bus="33")
    assert energized.values.tolist() == [False] * 4 + [True] * 2
    u = problem.compiled.scenarios.availability.sel(scenario="cut", line="32-33")
    assert u.values.tolist() == [0, 0, 0, 0, 1, 1]


@pytest.mark.parametrize(("power_kw", "saved_kwh"), [
    (50.0, (0.5 - 0.1) * 200.0 * 0.9),  # energy-limited: (soc_init - soc_min) E eta = 72 kWh
    (10.0, 10.0 * OUT_H),  # power-limited: 10 kW for 4 h = 40 kWh
])
def test_storage_at_the_island_saves_what_it_can_deliver(power_kw: float,
                                                          saved_kwh: float) -> None:
    storage = (f"storage s1 at 33 {{ power {power_kw} kW, energy 200 kWh, efficiency 0.9, "
               "soc 0.1 .. 0.9, soc_init 0.5 }\n")
    total, _ = shed_kwh(BASE + storage)
    assert total == pytest.approx(LOAD_33_KW * OUT_H - saved_kwh, abs=1e-5)
