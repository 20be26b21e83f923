"""Scenario data: probabilities, line availability u and scalings, as DataArrays.

The extensive form optimises all scenarios at once, weighting their costs by
probability (seed 000: κ_z). What differs between scenarios is data only:

* `availability` u[scenario, time, line] ∈ {0, 1} — the line health of seed 000.
  A normally-open tie line is 0 throughout (no study closes ties yet). An
  outage `from a h to b h` takes the line out in every step that overlaps the
  window [a, b), i.e. step t (covering [tΔt, (t+1)Δt)) is out iff tΔt < b and
  (t+1)Δt > a; an outage without a window lasts the whole horizon.
* `scale load F` multiplies every load (bus loads and `load` components);
  `scale PROFILE F` multiplies that profile wherever it is used (load shape,
  PV forecast, price); `scale GENERATOR F` multiplies that unit's forecast.

Without a scenario set there is one scenario, "base", with probability 1.
A set generated from a history becomes its k-means typical scenarios
(`history_scenarios`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import BUS, GEN, LINE, SCENARIO, TIME, ModelIndex
from gridc.data.history import cluster_history
from gridc.dsl import ir
from gridc.dsl.diagnostics import did_you_mean
from gridc.dsl.spans import Span

BASE_SCENARIO = "base"


def scenario_list(model: ir.Model, sset: ir.ScenarioSet | None) -> list[ir.Scenario]:
    """The scenarios to optimise: the set's, or one "base" scenario."""
    if sset is None:
        return [ir.Scenario(span=model.span, name=BASE_SCENARIO, probability=1.0)]
    if sset.history is not None:
        return history_scenarios(model, sset.history)
    if not sset.scenarios:
        raise compile_error(model, "GRID050", f"scenario set '{sset.name}' is empty", sset.span,
                            help="list the scenarios explicitly: scenarios NAME { scenario A "
                                 "{ probability 0.7 } ... }")
    total = sum(s.probability for s in sset.scenarios)
    if abs(total - 1.0) > 1e-6:
        raise compile_error(model, "GRID042", f"probabilities of '{sset.name}' sum to "
                            f"{total:g}, not 1", sset.span)
    return list(sset.scenarios)


def history_scenarios(model: ir.Model, source: ir.HistorySource) -> list[ir.Scenario]:
    """Typical scenarios of a history (`data.history.cluster_history`) as plain
    scenarios: the medoid event's outages, `scale load` by its load level and every
    pv / wind / dg unit scaled by its DG level; probability = the cluster's share."""
    if not source.events:
        raise compile_error(model, "GRID050", f"history '{source.path}' has no events",
                            source.span)
    net = model.network()
    horizon_h = model.horizon.steps * model.horizon.step_h if model.horizon else 1.0
    dg = [g.name for g in model.generators if g.kind in ("pv", "wind", "dg")]
    out = []
    for ts in cluster_history(source, [ln.id for ln in net.lines], horizon_h):
        ev = ts.event
        scalings = (ir.Scaling(span=ev.span, target="load", factor=ev.load_level),
                    *(ir.Scaling(span=ev.span, target=g, factor=ev.dg_level) for g in dg))
        out.append(ir.Scenario(span=ev.span, name=ts.name, probability=ts.probability,
                               outages=ev.outages, scalings=scalings))
    return out


@dataclass(frozen=True)
class ScenarioData:
    """Per-scenario data arrays (see the module docstring for their meaning)."""

    scenarios: tuple[ir.Scenario, ...]
    probability: xr.DataArray  # [scenario]
    availability: xr.DataArray  # u[scenario, time, line]
    load_scale: xr.DataArray  # [scenario]
    gen_scale: xr.DataArray  # [scenario, gen]
    profile_scale: dict[str, xr.DataArray]  # profile name -> [scenario]


def _factor(sc: ir.Scenario, target: str) -> float:
    """The product of the scenario's scalings of `target` (1 if none)."""
    return float(np.prod([s.factor for s in sc.scalings if s.target == target]))


def _scale(idx: ModelIndex, scenarios: list[ir.Scenario], target: str) -> xr.DataArray:
    return xr.DataArray([_factor(sc, target) for sc in scenarios],
                        coords=[idx.coords[SCENARIO]])


def _availability(idx: ModelIndex, scenarios: list[ir.Scenario]) -> xr.DataArray:
    net = idx.network
    steps, dt = idx.steps, idx.step_h
    u = np.ones((len(scenarios), steps, len(net.lines)))
    u[:, :, [ln.normally_open for ln in net.lines]] = 0.0
    start = np.arange(steps) * dt
    line_pos = {ln.id: k for k, ln in enumerate(net.lines)}
    for s, sc in enumerate(scenarios):
        for o in sc.outages:
            out = (start < o.end_h) & (start + dt > o.start_h)
            u[s, out, line_pos[o.line]] = 0.0
    return xr.DataArray(u, coords=idx.coord(SCENARIO, TIME, LINE))


def build_scenario_data(model: ir.Model, idx: ModelIndex,
                        scenarios: list[ir.Scenario]) -> ScenarioData:
    lines = set(idx.coords[LINE])
    targets = {"load"} | {p.name for p in model.profiles} | set(idx.coords[GEN])
    for sc in scenarios:
        for o in sc.outages:
            if o.line not in lines:
                raise compile_error(model, "GRID041", f"unknown line '{o.line}'", o.span,
                                    help=did_you_mean(o.line, lines, "lines"))
        for sl in sc.scalings:
            if sl.target not in targets:
                raise compile_error(model, "GRID041", f"unknown scaling target '{sl.target}'",
                                    sl.span, help=did_you_mean(sl.target, targets, "targets"))
    prob = xr.DataArray([s.probability for s in scenarios], coords=[idx.coords[SCENARIO]])
    gen_scale = xr.DataArray(
        np.array([[_factor(sc, g) for g in idx.coords[GEN]] for sc in scenarios]
                 ).reshape(len(scenarios), len(idx.coords[GEN])),
        coords=idx.coord(SCENARIO, GEN))
    return ScenarioData(
        scenarios=tuple(scenarios), probability=prob,
        availability=_availability(idx, scenarios),
        load_scale=_scale(idx, scenarios, "load"),
        gen_scale=gen_scale,
        profile_scale={p.name: _scale(idx, scenarios, p.name) for p in model.profiles},
    )


def profile_values(model: ir.Model, idx: ModelIndex, data: ScenarioData, name: str,
                   span: Span) -> xr.DataArray:
    """Profile `name` over [scenario, time], with the scenarios' scalings applied."""
    found = [p for p in model.profiles if p.name == name]
    if not found:
        raise compile_error(model, "GRID041", f"unknown profile '{name}'", span,
                            help=did_you_mean(name, [p.name for p in model.profiles],
                                              "profiles"))
    values = xr.DataArray(np.asarray(found[0].values, dtype=float), coords=[idx.coords[TIME]])
    return (data.profile_scale[name] * values).transpose(SCENARIO, TIME)


def energized(idx: ModelIndex, u: xr.DataArray) -> xr.DataArray:
    """[scenario, time, bus] True where the bus is connected to the slack bus through
    available lines. LinDistFlow leaves the voltage of an island floating within its
    limits, so reports only quote voltages of energised buses."""
    return reachable_from(idx, u > 0.5, {idx.slack_bus})


def reachable_from(idx: ModelIndex, on: xr.DataArray, sources: set[str]) -> xr.DataArray:
    """[scenario, time, bus] True where the bus is joined to a bus of `sources` through
    the lines `on` [scenario, time, line] (bool) there.

    The graph search runs once per distinct pattern of lines (a handful: the outage
    patterns), not per scenario and step."""
    buses = idx.coords[BUS]
    net = idx.network
    fr = buses.get_indexer([ln.from_bus for ln in net.lines])
    to = buses.get_indexer([ln.to_bus for ln in net.lines])
    src = np.isin(np.arange(len(buses)), buses.get_indexer(sorted(sources & set(map(str, buses)))))
    flat = on.transpose(SCENARIO, TIME, LINE).values.reshape(-1, len(net.lines)).astype(bool)
    patterns, inverse = np.unique(flat, axis=0, return_inverse=True)
    result = np.zeros((len(patterns), len(buses)), dtype=bool)
    for k, lines_on in enumerate(patterns):
        graph = coo_matrix((np.ones(int(lines_on.sum())), (fr[lines_on], to[lines_on])),
                           shape=(len(buses), len(buses)))
        _, label = connected_components(graph, directed=False)
        result[k] = np.isin(label, label[src])
    shape = (len(idx.coords[SCENARIO]), idx.steps, len(buses))
    return xr.DataArray(result[inverse.reshape(-1)].reshape(shape),
                        coords=idx.coord(SCENARIO, TIME, BUS))
