"""The compiled ieee33_operation model: dims, coordinates, data and names."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import gridc
from gridc.compiler import CompiledModel, compile_model

MODEL = Path(__file__).resolve().parents[1] / "models" / "ieee33_operation.grid"


@pytest.fixture(scope="module")
def compiled() -> CompiledModel:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # includes linopy's LinopySemanticsWarning
        return compile_model(gridc.load(MODEL))


def test_dims_and_sizes(compiled: CompiledModel) -> None:
    m = compiled.model
    sizes = {"scenario": 3, "time": 24, "bus": 33, "line": 37, "gen": 4, "storage": 1,
             "load": 1}
    expected = {
        "line_p": ("scenario", "time", "line"), "line_q": ("scenario", "time", "line"),
        "bus_w": ("scenario", "time", "bus"), "gen_p": ("scenario", "time", "gen"),
        "storage_energy": ("scenario", "time", "storage"),
        "storage_charging": ("scenario", "time", "storage"),
        "bus_shed_p": ("scenario", "time", "bus"), "load_shed_p": ("scenario", "time", "load"),
        "line_p_abs": ("scenario", "time", "line"),
    }
    for name, dims in expected.items():
        var = m.variables[name]
        assert var.dims == dims, name
        assert dict(var.sizes) == {d: sizes[d] for d in dims}, name
    for name in ("nodal_p", "nodal_q"):
        assert m.constraints[name].coord_dims == ("scenario", "time", "bus")
    assert m.constraints["voltage_drop"].coord_dims == ("scenario", "time", "line")
    assert m.binaries.nvars == 3 * 24


def test_coordinates(compiled: CompiledModel) -> None:
    c = compiled.index.coords
    assert list(c["scenario"]) == ["normal", "lateral", "feeder"]
    assert list(c["time"]) == list(range(24))
    assert list(c["gen"]) == ["gt1", "pv1", "pv2", "grid"]
    assert "8-21" in c["line"] and "1-2" in c["line"]
    assert compiled.study.name == "operation"
    assert compiled.scenarios.probability.values.tolist() == [0.9, 0.06, 0.04]


def test_availability(compiled: CompiledModel) -> None:
    u = compiled.scenarios.availability
    assert u.dims == ("scenario", "time", "line")
    ties = ["8-21", "9-15", "12-22", "18-33", "25-29"]
    assert float(u.sel(line=ties).max()) == 0.0  # normally open
    lateral = u.sel(scenario="lateral", line="6-26").values
    assert np.flatnonzero(lateral == 0).tolist() == list(range(10, 16))
    feeder = u.sel(scenario="feeder", line="3-4").values
    assert np.flatnonzero(feeder == 0).tolist() == list(range(8, 12))
    assert float(u.sel(scenario="normal").drop_sel(line=ties).min()) == 1.0
    # the voltage-drop rows exist only where the line is in service
    mask = compiled.model.constraints["voltage_drop"].labels >= 0
    assert bool((mask == (u > 0.5)).all())


def test_energized(compiled: CompiledModel) -> None:
    e = compiled.energized
    assert bool(e.sel(scenario="normal").all())
    island = [str(b) for b in range(26, 34)]
    assert not bool(e.sel(scenario="lateral", time=12, bus=island).any())
    assert bool(e.sel(scenario="lateral", time=9).all())


def test_forecast_uses_profile_and_scaling(compiled: CompiledModel) -> None:
    ub = compiled.model.variables["gen_p"].upper
    # pv1: 300 kW x pv_day; the feeder scenario scales pv_day by 0.4
    assert float(ub.sel(scenario="normal", time=12, gen="pv1")) == pytest.approx(300 * 0.95)
    assert float(ub.sel(scenario="feeder", time=12, gen="pv1")) == pytest.approx(
        300 * 0.95 * 0.4)
    assert float(ub.sel(scenario="normal", time=0, gen="gt1")) == 400
    assert np.isinf(float(ub.sel(scenario="normal", time=0, gen="grid")))


def test_cost_terms_and_units(compiled: CompiledModel) -> None:
    assert set(compiled.costs) == {"shed", "curtailment", "grid", "fuel", "storage_wear",
                                   "line_flow"}
    for term in compiled.scenario_costs.values():
        assert term.coord_dims == ("scenario",)
    # the curtailment term holds the constant chi x forecast the solver objective omits
    pv_kwh = 0.5 * (300 + 200) * np.array([
        0, 0, 0, 0, 0, 0.02, 0.10, 0.25, 0.45, 0.65, 0.80, 0.90, 0.95, 0.90, 0.80, 0.65,
        0.45, 0.25, 0.08, 0, 0, 0, 0, 0]).sum()
    expected = pv_kwh * (0.9 + 0.06 + 0.04 * 0.4)
    assert compiled.objective_constant == pytest.approx(expected)


def test_blocks_name_their_sources(compiled: CompiledModel) -> None:
    b = compiled.blocks
    assert (b["nodal_p"].family, b["nodal_p"].source, b["nodal_p"].unit) == (
        "nodal balance", "bus", "kW")
    assert b["line_p"].source == "line" and b["bus_w"].unit == "p.u.²"
    span = compiled.index.source("storage", "s1")
    assert span is not None and span.file.endswith("ieee33_operation.grid")
    bus = compiled.index.source("bus", "33")
    assert bus is not None and bus.file.endswith("ieee33.grid")


def test_demand_follows_the_load_profile(compiled: CompiledModel) -> None:
    rhs = compiled.model.constraints["nodal_p"].rhs
    # bus 33: 60 kW at peak (18:00 -> step 17 has factor 1.0)
    assert float(rhs.sel(scenario="normal", time=17, bus="33")) == pytest.approx(60.0)
    assert float(rhs.sel(scenario="normal", time=0, bus="33")) == pytest.approx(60 * 0.62)
    # bus 30 carries the hospital (80 kW) on top of its 200 kW
    assert float(rhs.sel(scenario="normal", time=17, bus="30")) == pytest.approx(280.0)
