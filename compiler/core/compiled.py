"""`CompiledModel`: a linopy model with everything needed to solve it and read it back.

Typed all the way: the runtime reads the formulation's flow, the topology, the priced
items and the stations from here (no `Any` to cast back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import linopy
import xarray as xr
from linopy import LinearExpression

from gridc.compiler.core.builder import Block, Builder, Relaxation
from gridc.compiler.core.index import ModelIndex
from gridc.compiler.core.scenarios import ScenarioData, energized
from gridc.compiler.core.study import ResolvedStudy
from gridc.compiler.families.stations import StationPlan, StationVars
from gridc.compiler.families.topology import Topology
from gridc.compiler.formulations.distflow import DistFlowVars
from gridc.compiler.formulations.flow import Flow
from gridc.compiler.formulations.pricing import PricedItem, Pricing
from gridc.dsl import ir


@dataclass(frozen=True)
class StationCase:
    """The stations of one sub-case and what the other sub-cases re-use."""

    vars: StationVars
    plan: StationPlan

    @property
    def subcases(self) -> tuple[str, ...]:
        return self.plan.labels

    @property
    def subcase(self) -> str:
        return self.plan.label

    @property
    def carbon_t_per_day(self) -> float:
        return self.plan.carbon_t_per_day


@dataclass
class CompiledModel:
    """A linopy model (one study) and the parts its results are read from."""

    model: linopy.Model
    costs: dict[str, LinearExpression]  # named cost terms, CNY (see compiler.formulations.pricing)
    scenario_costs: dict[str, LinearExpression]  # daily CNY per scenario, per term
    objective_constant: float  # in solver units, left out of the solver objective
    objective_scale: float  # solver objective = scale × CNY (1 for `objective losses`)
    objective_kind: str  # "cost" or "losses" (kWh per day)
    index: ModelIndex
    study: ResolvedStudy
    scenarios: ScenarioData
    blocks: dict[str, Block]
    relaxations: list[Relaxation]
    options: dict[str, Any]
    builder: Builder
    flow: Flow
    pricing: Pricing
    source_model: ir.Model  # as given to compile_model (sub-cases recompile from it)
    topology: Topology | None = None
    items: list[PricedItem] = field(default_factory=list)
    stations: StationCase | None = None
    cone_mode: str = "none"
    compile_s: float = 0.0
    # name -> (expr, mask): rows expr == 0 (where mask) that restrict the model to an easier
    # one whose optimum is a good MIP start (`runtime.backend.warmstart`); not part of the model
    restrictions: dict[str, tuple[LinearExpression, xr.DataArray]] = field(default_factory=dict)

    @property
    def formulation(self) -> str:
        return self.flow.formulation

    @property
    def topology_decision(self) -> Topology:
        """The topology (for strategies that only run on models that have one)."""
        if self.topology is None:
            raise ValueError("this model has no topology decision ('lines' investment)")
        return self.topology

    @property
    def cone(self) -> DistFlowVars:
        """The DistFlow blocks (for steps that only run under `formulation distflow`)."""
        if self.flow.distflow is None:
            raise ValueError("this model is not under the distflow formulation")
        return self.flow.distflow

    @cached_property
    def energized(self) -> xr.DataArray:
        """[scenario, time, bus] True where connected to the slack bus by the lines in
        service (data only; what reports quote voltages of). Computed when first read:
        a solve that never reports does not pay for the graph searches."""
        return energized(self.index, self.scenarios.availability)
