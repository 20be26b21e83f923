"""Coordinates, bases, incidence matrices and the way back to the `.grid` text.

Every variable and constraint of the compiled model is an xarray-labelled block
over a few named dimensions:

=========== ============================================================
dimension   labels
=========== ============================================================
scenario    scenario names of the chosen set ("base" without one)
time        step index 0 .. steps-1 (step t covers hours [t·Δt, (t+1)·Δt))
bus         bus ids of the network
line        line ids ("from-to" unless the table gives an id), tie lines too
gen         generator names, plus "grid" for the implicit substation import
storage     stationary storage names
load        `load` component names (bus loads of the network use `bus`)
=========== ============================================================

`ModelIndex.spans[dim][label]` maps a label back to the span of the IR node it
came from, so solver-level findings (a relaxed constraint, an extreme voltage)
can name a file and line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import xarray as xr

from gridc.compiler.core.errors import compile_error
from gridc.dsl import ir
from gridc.dsl.spans import Span

SCENARIO, TIME, BUS, LINE, GEN, STORAGE, LOAD = (
    "scenario", "time", "bus", "line", "gen", "storage", "load")

#: name of the implicit grid connection at the slack bus (when no `generator : grid`)
GRID_NAME = "grid"


@dataclass(frozen=True)
class ModelIndex:
    """Coordinates and static data shared by every builder."""

    network: ir.Network
    coords: dict[str, pd.Index]
    step_h: float
    generators: tuple[ir.Generator, ...]  # includes the implicit grid import
    storages: tuple[ir.Storage, ...]
    loads: tuple[ir.Load, ...]
    spans: dict[str, dict[str, Span]] = field(default_factory=dict)

    # ---------------------------------------------------------------- sizes, bases
    @property
    def steps(self) -> int:
        return len(self.coords[TIME])

    @property
    def base_kv(self) -> float:
        return self.network.base_kv

    @property
    def base_kva(self) -> float:
        return self.network.base_kva

    @property
    def z_base_ohm(self) -> float:
        """Impedance base: kV² · 1000 / kVA (ohm)."""
        return self.network.base_kv ** 2 * 1000.0 / self.network.base_kva

    @property
    def slack_bus(self) -> str:
        return self.network.slack_bus

    def coord(self, *dims: str) -> list[pd.Index]:
        """The coordinates of `dims`, in order, for `add_variables(coords=...)`."""
        return [self.coords[d] for d in dims]

    # ---------------------------------------------------------------- incidence
    @cached_property
    def incidence(self) -> xr.DataArray:
        """Bus × line incidence: +1 at the from bus, −1 at the to bus. `A @ P` is the
        net active power a bus sends into the network. (Built once per index: a dense
        1,000 × 1,000 matrix costs milliseconds, and several blocks use it.)"""
        buses = self.coords[BUS]
        pos = pd.Series(np.arange(len(buses)), index=buses)
        lines = self.network.lines
        a = np.zeros((len(buses), len(lines)))
        cols = np.arange(len(lines))
        a[pos[[ln.from_bus for ln in lines]].to_numpy(), cols] = 1.0
        a[pos[[ln.to_bus for ln in lines]].to_numpy(), cols] = -1.0
        return xr.DataArray(a, coords=[buses, self.coords[LINE]])

    def at_bus(self, dim: str, buses: list[str]) -> xr.DataArray:
        """Bus × component matrix with a 1 where component `k` (of `dim`) sits."""
        bus_index = self.coords[BUS]
        a = np.zeros((len(bus_index), len(buses)))
        a[bus_index.get_indexer(buses), np.arange(len(buses))] = 1.0
        return xr.DataArray(a, coords=[bus_index, self.coords[dim]])

    def line_from_to(self) -> tuple[xr.DataArray, xr.DataArray]:
        """Line × bus selection matrices of the from and to ends (1 where they sit)."""
        a = self.incidence.transpose(LINE, BUS)
        return a.clip(min=0.0), (-a).clip(min=0.0)

    # ---------------------------------------------------------------- back to source
    def source(self, dim: str, label: object) -> Span | None:
        """The span of the IR node behind coordinate `label` of `dim` (None if unknown)."""
        return self.spans.get(dim, {}).get(str(label))


def implicit_grid(model: ir.Model, net: ir.Network) -> ir.Generator | None:
    """The substation import at the slack bus, unless the model declares a grid unit.

    Its price comes from `price grid` (value or profile) and is resolved by the
    generator builder; the import is bounded below by 0 (no export) and unbounded
    above (the upstream grid is stiff)."""
    if any(g.kind == "grid" for g in model.generators):
        return None
    names = {g.name for g in model.generators}
    name = GRID_NAME if GRID_NAME not in names else "grid_import"
    return ir.Generator(span=net.span, name=name, kind="grid", bus=net.slack_bus,
                        p_max_kw=math.inf)


def build_index(model: ir.Model, scenarios: list[tuple[str, Span]]) -> ModelIndex:
    """Coordinates for `model` with the given scenario labels (and their spans)."""
    if not model.networks:
        raise compile_error(model, "GRID012", "the model has no network", model.span,
                            help="import or write a 'network NAME { ... }' block")
    net = model.network()
    if model.horizon is not None:
        steps, step_h = model.horizon.steps, model.horizon.step_h
    else:
        steps, step_h = 1, 1.0  # a snapshot: one step of one hour
    for p in model.profiles:
        if len(p.values) != steps:
            raise compile_error(model, "GRID043", f"profile '{p.name}' has {len(p.values)} "
                                f"values but the model has {steps} time step(s)", p.span,
                                help="add 'horizon 24 h step 1 h' (or give one value per "
                                     "step)")
    grid = implicit_grid(model, net)
    gens = (*model.generators, *([grid] if grid is not None else []))
    coords = {
        SCENARIO: pd.Index([name for name, _ in scenarios], name=SCENARIO),
        TIME: pd.RangeIndex(steps, name=TIME),
        BUS: pd.Index([b.id for b in net.buses], name=BUS),
        LINE: pd.Index([ln.id for ln in net.lines], name=LINE),
        GEN: pd.Index([g.name for g in gens], name=GEN),
        STORAGE: pd.Index([s.name for s in model.storages], name=STORAGE),
        LOAD: pd.Index([ld.name for ld in model.loads], name=LOAD),
    }
    spans = {
        SCENARIO: dict(scenarios),
        BUS: {b.id: b.span for b in net.buses},
        LINE: {ln.id: ln.span for ln in net.lines},
        GEN: {g.name: g.span for g in gens},
        STORAGE: {s.name: s.span for s in model.storages},
        LOAD: {ld.name: ld.span for ld in model.loads},
    }
    return ModelIndex(network=net, coords=coords, step_h=step_h, generators=gens,
                      storages=model.storages, loads=model.loads, spans=spans)
