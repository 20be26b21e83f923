"""The AC check of solved plans (`gridc.runtime.ac_check`) against pandapower.

Every solved (scenario, step) of a model is rebuilt in pandapower from the model's data
and the solution dataset, independently of the check: lines in service from the solved
line states, the injection of each bus summed here from the dataset's generator, storage,
demand and shedding blocks (not read off the nodal balance as the check does), the slack
at its voltage and — where the check found an island with local supply — an external grid
at the island's reference bus holding the model's voltage there (the documented
treatment). Newton-Raphson (pandapower 3.5, tolerance 1e-11 MVA) then gives the reference
voltages and losses. Tolerances: 1e-6 p.u. on voltages and 0.1 % on losses (the issue's),
1e-3 kVA on line loadings.

Cases: the shipped `ieee33_operation` study (72 snapshots, radial, with islands fed by
the gas turbine, PV and storage), an 8-bus feeder of our own with a loop closed (the Newton
path) and without its battery (an island that nobody supplies: not checked), and the
Baran-Wu base case under a voltage limit that LinDistFlow meets and AC does not (the
violation is reported with bus, scenario, step and amount, and in the headline).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import gridc
from gridc.cli.main import main
from gridc.runtime.ac_check import ac_check, flow_inputs, net_injection, power_flow
from gridc.runtime.results import Result

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
FEEDER8 = (ROOT / "tests" / "models" / "feeder8.grid").read_text()

pp = pytest.importorskip("pandapower")

V_TOL, LOSS_RTOL, S_TOL = 1e-6, 1e-3, 1e-3


def solve(text: str, name: str, study: str | None = None) -> tuple[Any, Result]:
    problem = gridc.compile(gridc.parse(text, MODELS / name), study=study)
    result = problem.solve(time_limit=120)
    assert result.ok, result.status
    return problem, result


@pytest.fixture(scope="module")
def operation() -> tuple[Any, Result]:
    problem = gridc.compile(gridc.load(MODELS / "ieee33_operation.grid"), study="operation")
    result = problem.solve(time_limit=120, gap=1e-3)
    assert result.ok, result.status
    return problem, result


def injections(problem: Any, ds: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """[scenario, time, bus] net injection [kW, kvar] summed from the dataset's blocks:
    generators, storage, minus the demand served (shed reactive power at the load's
    power factor)."""
    idx = problem.index
    buses = [str(b) for b in idx.coords["bus"]]
    p = -ds["bus_demand_p"].copy()
    q = -ds["bus_demand_q"].copy()

    def add(values: xr.DataArray, dim: str, at: list[str], into: xr.DataArray) -> None:
        for label, bus in zip(values[dim].values, at, strict=True):
            into.loc[{"bus": bus}] = into.sel(bus=bus) + values.sel({dim: label})

    add(ds["gen_p"], "gen", [g.bus for g in idx.generators], p)
    add(ds["gen_q"], "gen", [g.bus for g in idx.generators], q)
    if idx.storages:
        at = [s.bus for s in idx.storages]
        add(ds["storage_discharge"] - ds["storage_charge"], "storage", at, p)
        add(ds["storage_q"], "storage", at, q)
    if "bus_shed_p" in ds:
        net = idx.network
        tan = xr.DataArray([b.q_kvar / b.p_kw if b.p_kw > 0 else 0.0 for b in net.buses],
                           coords={"bus": buses})
        p, q = p + ds["bus_shed_p"], q + ds["bus_shed_p"] * tan
    if "load_shed_p" in ds:
        shed = ds["load_shed_p"]
        tan = xr.DataArray([ld.q_kvar / ld.p_kw for ld in idx.loads],
                           coords={"load": shed["load"].values})
        add(shed, "load", [ld.bus for ld in idx.loads], p)
        add(shed * tan, "load", [ld.bus for ld in idx.loads], q)
    return p.transpose("scenario", "time", "bus"), q.transpose("scenario", "time", "bus")


def pandapower_flows(network: Any, base_kva: float, on: np.ndarray, p: np.ndarray,
                     q: np.ndarray, ref: np.ndarray, vm_set: np.ndarray) -> dict[str, np.ndarray]:
    """pandapower's AC power flow of N snapshots of `network` (bus order of the .grid):
    lines in service `on` [N, L], net injections `p`, `q` [N, B] kW and kvar, external
    grids at `ref` [N, B] holding `vm_set`. Returns |V| [N, B] (NaN where pandapower
    finds a bus unsupplied), losses [N] kW and apparent power [N, L] kVA (larger end)."""
    n = on.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pnet = pp.create_empty_network(sn_mva=base_kva / 1e3)
        bus = [pp.create_bus(pnet, vn_kv=network.base_kv) for _ in network.buses]
        pos = {b.id: k for k, b in enumerate(network.buses)}
        lines = [pp.create_line_from_parameters(pnet, bus[pos[ln.from_bus]],
                                                bus[pos[ln.to_bus]], 1.0, ln.r_ohm, ln.x_ohm,
                                                0.0, 1.0) for ln in network.lines]
        loads = [pp.create_load(pnet, b, 0.0) for b in bus]
        grids = [pp.create_ext_grid(pnet, b, in_service=False) for b in bus]
        vm, s_line = np.full(p.shape, np.nan), np.full(on.shape, np.nan)
        losses = np.full(n, np.nan)
        for k in range(n):
            pnet.line.loc[lines, "in_service"] = on[k]
            pnet.ext_grid.loc[grids, "in_service"] = ref[k]
            pnet.ext_grid.loc[grids, "vm_pu"] = vm_set[k]
            pnet.load.loc[loads, "p_mw"] = np.where(ref[k], 0.0, -p[k] / 1e3)
            pnet.load.loc[loads, "q_mvar"] = np.where(ref[k], 0.0, -q[k] / 1e3)
            pp.runpp(pnet, tolerance_mva=1e-11, init="flat", numba=False)
            vm[k] = pnet.res_bus.vm_pu.loc[bus].values
            res = pnet.res_line.loc[lines]
            losses[k] = 1e3 * np.nansum(res.pl_mw.values)
            s_line[k] = 1e3 * np.maximum(np.hypot(res.p_from_mw, res.q_from_mvar),
                                         np.hypot(res.p_to_mw, res.q_to_mvar))
    return {"vm": vm, "losses_kw": losses, "s_kva": np.nan_to_num(s_line, nan=0.0)}


def pandapower_run(problem: Any, result: Result) -> dict[str, np.ndarray]:
    """pandapower's AC power flow of every solved snapshot (module docstring): |V|
    [s, t, bus], losses [s, t] kW, apparent power [s, t, line] kVA."""
    idx, ds = problem.index, result.dataset
    net = idx.network
    bus_dims = ("scenario", "time", "bus")
    p, q = (x.transpose(*bus_dims).values for x in injections(problem, ds))
    state = ds["ac_bus_state"].transpose(*bus_dims).values
    on = problem.compiled.flow.states.in_service().transpose("scenario", "time", "line")
    slack = np.array(net_buses(idx)) == net.slack_bus
    vm_set = np.where(slack, net.slack_v_pu, ds["bus_v"].transpose(*bus_dims).values)
    shape = state.shape
    flat = pandapower_flows(net, idx.base_kva, on.values.reshape(-1, on.shape[-1]),
                            p.reshape(-1, shape[-1]), q.reshape(-1, shape[-1]),
                            ((state == 3) | slack).reshape(-1, shape[-1]),
                            vm_set.reshape(-1, shape[-1]))
    return {"vm": flat["vm"].reshape(shape), "losses_kw": flat["losses_kw"].reshape(shape[:2]),
            "s_kva": flat["s_kva"].reshape(on.shape)}


def net_buses(idx: Any) -> list[str]:
    return [str(b) for b in idx.coords["bus"]]


def assert_matches_pandapower(problem: Any, result: Result) -> dict[str, np.ndarray]:
    ref = pandapower_run(problem, result)
    ds = result.dataset
    ac_v = ds["ac_v"].transpose("scenario", "time", "bus").values
    assert np.array_equal(np.isnan(ac_v), np.isnan(ref["vm"]))  # the same buses unsupplied
    assert np.nanmax(np.abs(ac_v - ref["vm"])) <= V_TOL
    losses = ds["ac_losses_kw"].transpose("scenario", "time").values
    assert losses == pytest.approx(ref["losses_kw"], rel=LOSS_RTOL)
    s = ds["ac_line_s"].transpose("scenario", "time", "line").values
    assert np.abs(s - ref["s_kva"]).max() <= S_TOL
    return ref


# ------------------------------------------------------------------ ieee33_operation


def test_injections_are_the_solved_dispatch(operation) -> None:  # type: ignore[no-untyped-def]
    """The check reads each bus's injection off the solved nodal balance; summed from the
    generator, storage, demand and shed blocks instead, it is the same (the slack bus,
    whose injection the AC flow decides, aside)."""
    problem, result = operation
    p, q = net_injection(problem.compiled)
    ours_p, ours_q = injections(problem, result.dataset)
    not_slack = [b for b in net_buses(problem.index) if b != problem.index.slack_bus]
    assert float(np.abs(p - ours_p).sel(bus=not_slack).max()) <= 1e-6
    assert float(np.abs(q - ours_q).sel(bus=not_slack).max()) <= 1e-6
    # and the dispatch is not trivial: PV, gas turbine and storage inject somewhere
    assert float(p.sel(bus=not_slack).max()) > 100.0


def test_operation_matches_pandapower(operation) -> None:  # type: ignore[no-untyped-def]
    """All 72 snapshots, islands included (the lateral and feeder outages cut off parts
    with the storage, the PV units and the gas turbine: their reference buses hold the
    model's voltage), within 1e-6 p.u. and 0.1 % of losses."""
    problem, result = operation
    section = result.summary["ac_check"]
    assert section["snapshots"] == 72
    assert section["methods"] == {"sweep": 72, "newton": 0, "not_converged": 0}
    # islands in the lateral scenario (10:00-16:00) and the feeder scenario (08:00-12:00)
    assert section["island_snapshots"] == 6 + 4
    state = result.dataset["ac_bus_state"]
    energized = result.dataset["energized"].astype(bool)
    assert bool(((state >= 2) == ~energized).all())  # every island is locally supplied here
    assert_matches_pandapower(problem, result)


def test_operation_summary_against_the_model(operation) -> None:  # type: ignore[no-untyped-def]
    """The summary's figures are those of the dataset: largest |V_model − V_AC|, expected
    AC losses per day, and LinDistFlow voltages above AC ones where the slack feeds."""
    problem, result = operation
    ds, section = result.dataset, result.summary["ac_check"]
    dv = np.abs(ds["bus_v"] - ds["ac_v"])
    assert section["max_dv_pu"] == pytest.approx(float(dv.max()), abs=1e-12)
    at = section["max_dv_at"]
    assert section["max_dv_pu"] == pytest.approx(
        abs(at["v_model_pu"] - at["v_ac_pu"]), abs=1e-12)
    fed = ds["ac_bus_state"] == 1
    assert float((ds["bus_v"] - ds["ac_v"]).where(fed).min()) >= -1e-6
    daily = (ds["ac_losses_kw"].sum("time") * problem.index.step_h * ds["probability"]).sum()
    assert section["losses"]["ac_kwh_per_day"] == pytest.approx(float(daily), rel=1e-12)
    assert section["losses"]["model_kwh_per_day"] is None  # LinDistFlow has none
    assert section["violations"]["count"] == ds.sizes["ac_violation"]


def test_ieee33_with_ties_closed_matches_pandapower(operation) -> None:  # type: ignore[no-untyped-def]
    """The power flow alone on the 33-bus feeder with its five tie lines closed (five
    loops): the normal day's 24 snapshots go through Newton-Raphson and match pandapower."""
    problem, result = operation
    net, inputs = flow_inputs(problem.compiled, result.dataset)
    network = problem.index.network
    ties = np.array([ln.normally_open for ln in network.lines])
    assert ties.sum() == 5
    day = slice(0, 24)  # the normal scenario, no outage
    assert str(result.dataset["scenario"].values[0]) == "normal"
    meshed = {k: v[day] for k, v in dict(inputs, on=inputs["on"] | ties).items()}
    flow = power_flow(net, **meshed)
    assert set(flow.method) == {1}  # Newton
    slack = np.array(net_buses(problem.index)) == network.slack_bus
    s_kw = meshed["s"] * problem.index.base_kva
    ref = pandapower_flows(network, problem.index.base_kva, meshed["on"], s_kw.real, s_kw.imag,
                           np.broadcast_to(slack, s_kw.shape),
                           np.full(s_kw.shape, network.slack_v_pu))
    assert np.abs(np.abs(flow.v) - ref["vm"]).max() <= V_TOL
    radial = power_flow(net, **{k: v[day] for k, v in inputs.items()})
    assert set(radial.method) == {0}
    # closing the ties lifts the weakest voltage (the reason feeders are reconfigured)
    assert np.abs(flow.v).min() > np.abs(radial.v).min() + 0.01


# ------------------------------------------------------------------ an 8-bus feeder of ours


def test_meshed_feeder_goes_through_newton() -> None:
    """feeder8 with a line b4-b8 closing a loop: every calm snapshot is meshed (Newton);
    in the storm's four hours line b2-b5 is cut and the loop opens into a tree (sweep)."""
    text = FEEDER8.replace("    b7   b8  0.30   0.15   300\n",
                           "    b7   b8  0.30   0.15   300\n    b4   b8  0.40   0.20   300\n")
    assert text != FEEDER8
    problem, result = solve(text, "feeder8_loop.grid")
    section = result.summary["ac_check"]
    assert section["methods"] == {"sweep": 4, "newton": 44, "not_converged": 0}
    method = result.dataset["ac_method"]
    assert set(method.sel(scenario="storm", time=[10, 11, 12, 13]).values) == {0}
    ref = assert_matches_pandapower(problem, result)
    assert float(ref["losses_kw"].min()) > 0.0
    assert float(result.dataset["ac_line_s"].sel(line="b4-b8").max()) > 10.0  # a live loop
    # LinDistFlow's voltages stay close in the loop (its drops fix r·P + x·Q per line)
    assert section["max_dv_pu"] < 1e-3


def test_island_without_supply_is_not_checked() -> None:
    """feeder8 without its battery: the storm cuts b5-b8 off with nothing to supply them,
    the model sheds their load, and the check reports them as not supplied (NaN
    voltages, no violations) while the rest of the feeder is checked as usual."""
    start = FEEDER8.index("storage bat at b6")
    text = FEEDER8[:start] + FEEDER8[FEEDER8.index("}", start) + 1:]
    problem, result = solve(text, "feeder8_nobat.grid")
    ds, section = result.dataset, result.summary["ac_check"]
    cut = {"scenario": "storm", "time": [10, 11, 12, 13], "bus": ["b5", "b6", "b7", "b8"]}
    assert bool((ds["ac_bus_state"].sel(cut) == 0).all())
    assert bool(ds["ac_v"].sel(cut).isnull().all())
    assert section["buses_not_supplied"] == 16
    assert section["island_snapshots"] == 0
    assert "b5" not in set(ds["ac_violation_element"].values)
    assert_matches_pandapower(problem, result)


def test_island_with_local_supply_holds_the_model_voltage() -> None:
    """feeder8 as shipped: in the storm the battery at b6 supplies the island b5-b8; b6
    is the island's reference at the model's voltage, and supplies the island's losses."""
    problem, result = solve(FEEDER8, "feeder8_copy.grid")
    ds = result.dataset
    storm = ds.sel(scenario="storm", time=[10, 11, 12, 13])
    assert bool((storm["ac_bus_state"].sel(bus="b6") == 3).all())
    assert bool((storm["ac_bus_state"].sel(bus=["b5", "b7", "b8"]) == 2).all())
    assert np.allclose(storm["ac_v"].sel(bus="b6"), storm["bus_v"].sel(bus="b6"), atol=1e-12)
    assert result.summary["ac_check"]["island_snapshots"] == 4
    assert_matches_pandapower(problem, result)


def test_distflow_losses_against_ac() -> None:
    """Under `formulation distflow` the model has losses of its own: the summary puts
    them next to the AC losses. On feeder8 the cone is tight (the runtime's cut rounds
    hold the loss error under 0.1 %), so both agree to 0.1 % and the voltages to 1e-6."""
    text = FEEDER8.replace('model feeder8 "Eight-bus test feeder"',
                           'model feeder8 "Eight-bus test feeder"\nformulation distflow')
    problem, result = solve(text, "feeder8_distflow.grid")
    losses = result.summary["ac_check"]["losses"]
    assert losses["model_kwh_per_day"] > 1.0
    assert losses["model_kwh_per_day"] == pytest.approx(losses["ac_kwh_per_day"], rel=1e-3)
    assert abs(losses["difference_pct"]) < 0.1
    assert result.summary["ac_check"]["max_dv_pu"] < 1e-6
    assert_matches_pandapower(problem, result)


# ------------------------------------------------------------------ a violation


TIGHT = """
model tight "IEEE 33 base case, one hour, 0.915 p.u. limit"
import "ieee33.grid"
horizon 1 h step 1 h
price grid 0.5 CNY/kWh
penalty shed 20 CNY/kWh
study base {
  set network.v_min_pu 0.915
}
"""


def test_violation_reported_with_where_when_and_how_much() -> None:
    """LinDistFlow reaches 0.9159 p.u. at bus 18 and meets a 0.915 limit without
    shedding; AC (pandapower: 0.91309 p.u.) does not. Every bus AC takes below the limit
    is listed, by how much, and the verdict says so."""
    problem, result = solve(TIGHT, "tight.grid", study="base")
    ds, section = result.dataset, result.summary["ac_check"]
    assert float(ds["bus_v"].min()) >= 0.915 - 1e-9  # the model meets the limit
    assert float(ds["bus_shed_p"].sum()) == pytest.approx(0.0, abs=1e-6)
    ref = pandapower_run(problem, result)["vm"][0, 0]
    buses = net_buses(problem.index)
    below = {b for b, v in zip(buses, ref, strict=True) if v < 0.915 - 1e-6}
    assert {"17", "18"} <= below  # Baran-Wu in AC: 0.9131 p.u. at 18, 0.9137 at 17
    table = ds[[v for v in ds.data_vars if str(v).startswith("ac_violation_")]]
    assert set(table["ac_violation_element"].values) == below
    assert set(table["ac_violation_kind"].values) == {"voltage_low"}
    assert set(table["ac_violation_scenario"].values) == {str(ds["scenario"].values[0])}
    assert set(table["ac_violation_time"].values) == {0}
    for row in range(table.sizes["ac_violation"]):
        r = table.isel(ac_violation=row)
        v = ref[buses.index(str(r["ac_violation_element"].values))]
        assert float(r["ac_violation_value"]) == pytest.approx(v, abs=V_TOL)
        assert float(r["ac_violation_excess"]) == pytest.approx(0.915 - v, abs=V_TOL)
        assert float(r["ac_violation_model"]) >= 0.915 - 1e-9
    worst = section["violations"]["worst"]
    assert worst["element"] == "18" and worst["kind"] == "voltage_low"
    assert worst["excess"] == pytest.approx(0.915 - 0.91309, abs=5e-5)
    assert section["verdict"] == "violations"
    assert section["violations"]["count"] == len(below)


def test_cli_headline_and_switch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The terminal says so next to the status; summary.json carries the verdict;
    --no-ac-check skips the check (and its variables)."""
    (tmp_path / "ieee33.grid").write_text((MODELS / "ieee33.grid").read_text())
    model = tmp_path / "tight.grid"
    model.write_text(TIGHT)
    assert main(["solve", str(model), "--out", str(tmp_path / "on")]) == 0
    out = capsys.readouterr().out
    assert "AC check" in out and "violations" in out
    summary = json.loads((tmp_path / "on" / "summary.json").read_text())
    assert summary["ac_check"]["verdict"] == "violations"
    with xr.open_dataset(tmp_path / "on" / "solution.nc") as ds:
        assert ds.sizes["ac_violation"] == summary["ac_check"]["violations"]["count"]
        assert str(ds["ac_violation_element"].values[0]) == "18"
    assert main(["solve", str(model), "--no-ac-check", "--out", str(tmp_path / "off")]) == 0
    assert "AC check" not in capsys.readouterr().out
    summary = json.loads((tmp_path / "off" / "summary.json").read_text())
    assert summary["ac_check"] is None
    with xr.open_dataset(tmp_path / "off" / "solution.nc") as ds:
        assert not [v for v in ds.data_vars if str(v).startswith("ac_")]


def test_check_runs_again_on_a_result(operation) -> None:  # type: ignore[no-untyped-def]
    """`ac_check(compiled, dataset)` is a plain function: run on the result's dataset
    it gives the variables and summary the solve attached."""
    problem, result = operation
    again = ac_check(problem.compiled, result.dataset)
    dims = ("scenario", "time", "bus")
    np.testing.assert_allclose(again.dataset["ac_v"].transpose(*dims).values,
                               result.dataset["ac_v"].transpose(*dims).values, atol=1e-12)
    assert again.summary["verdict"] == result.summary["ac_check"]["verdict"]
