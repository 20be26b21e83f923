"""Lower a validated model (for one study) to a linopy optimisation model.

    compiled = compile_model(model, study="operation")
    compiled.model        # linopy.Model, ready to solve (see gridc.runtime)
    compiled.costs        # {"shed": expr, "grid": expr, ...} expected CNY
    compiled.index        # coordinates, incidence, label -> .grid span

One module per component family, each a small pure builder vectorised over
(scenario, time, ·): `network` (LinDistFlow), `loads` (demand, shedding, nodal
balance), `generators`, `storage`, `costs`; `study`, `scenarios` and `index`
prepare their inputs. The compiler never imports the runtime. Seed-000
investments (reinforcement, MESS, EV-RB) are lowered in extensive form by
`investments` (with `mess`, `ev_battery`); with any of them the objective is the
upper level's C_ins + C_rep − C_rec + PVF (C_om + days_per_year × daily cost).
Studies with `objective losses` and models with `lines`, `dg`, `substation` or
`stations` investments (seed 001) go to `compiler.adn` instead: DistFlow with
losses on a polyhedral cone, topology, stations, the seed's annual cost.
`islands` adds valid inequalities that make reinforcement count in the LP
relaxation, and `CompiledModel.restrictions` names rows (MESS parked for the day)
whose restricted optimum the runtime uses as a MIP start (`runtime.warmstart`).

Names of the blocks (variables / constraints) and their units:

=================== ========================== ===========================
block               dims                       unit
=================== ========================== ===========================
line_p, line_q      scenario, time, line       kW, kvar (from → to)
bus_w               scenario, time, bus        p.u.² (squared voltage)
gen_p, gen_q        scenario, time, gen        kW, kvar
storage_charge/…    scenario, time, storage    kW; storage_energy kWh
bus_shed_p          scenario, time, bus        kW
load_shed_p         scenario, time, load       kW
nodal_p, nodal_q    scenario, time, bus        kW, kvar balance rows
voltage_drop        scenario, time, line       p.u.² rows (lines in service)
=================== ========================== ===========================

Options: `elastic=True` builds the diagnosis variant (see `compiler.builder`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import linopy
import xarray as xr
from linopy import LinearExpression

from gridc.compiler.builder import Block, Builder, Relaxation
from gridc.compiler.costs import expected, scenario_terms
from gridc.compiler.generators import build_generators
from gridc.compiler.index import ModelIndex, build_index
from gridc.compiler.investments import build_investments, upper_level
from gridc.compiler.islands import island_cuts
from gridc.compiler.loads import build_loads
from gridc.compiler.mess import parked
from gridc.compiler.network import build_network
from gridc.compiler.rows import added, without_constant
from gridc.compiler.scenarios import (
    ScenarioData,
    build_scenario_data,
    energized,
    scenario_list,
)
from gridc.compiler.storage import build_storage
from gridc.compiler.study import ResolvedStudy, resolve_study
from gridc.dsl import ir

KNOWN_OPTIONS = ("elastic", "levels", "subcase", "forecast", "fixed_lines", "cone", "days")


@dataclass
class CompiledModel:
    """A linopy model with everything needed to read its solution back."""

    model: linopy.Model
    costs: dict[str, LinearExpression]  # expected CNY, scalar expressions
    scenario_costs: dict[str, LinearExpression]  # CNY per scenario
    objective_constant: float  # CNY left out of the solver objective (linopy refuses it)
    index: ModelIndex
    study: ResolvedStudy
    scenarios: ScenarioData
    blocks: dict[str, Block]
    relaxations: list[Relaxation]
    options: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    compile_s: float = 0.0
    extension: Any = None  # planning route's parts (`compiler.adn.AdnParts`), else None
    # name -> (expr, mask): rows expr == 0 (where mask) that restrict the model to an easier
    # one whose optimum is a good MIP start (`runtime.warmstart`); not part of the model
    restrictions: dict[str, tuple[LinearExpression, xr.DataArray]] = field(default_factory=dict)

    @cached_property
    def energized(self) -> xr.DataArray:
        """[scenario, time, bus] True where connected to the slack bus by the lines in
        service (data only; what reports quote voltages of). Computed when first read:
        a solve that never reports does not pay for the graph searches."""
        return energized(self.index, self.scenarios.availability)


def _notes(m: ir.Model, unsupported: list[str] | None = None) -> list[str]:
    """Constructs this compiler does not lower yet (reported, not silently dropped)."""
    out = []
    if unsupported:
        out.append("investments not optimised yet: " + ", ".join(unsupported) + " ignored")
    if m.areas or m.fleets or m.stations or m.travel is not None:
        out.append("EV areas, fleets and stations are not modelled yet")
    return out


def compile_model(model: ir.Model, study: str | None = None, **options: Any) -> CompiledModel:
    """Compile `model` for `study` (None: the first study, or defaults)."""
    unknown = sorted(set(options) - set(KNOWN_OPTIONS))
    if unknown:
        raise TypeError(f"unknown compile option(s): {', '.join(unknown)}")
    started = time.perf_counter()
    resolved = resolve_study(model, study)
    from gridc.compiler.adn import uses_adn  # ADN planning / loss studies (seed 001)
    if uses_adn(resolved):
        from gridc.compiler.adn import compile_adn
        return compile_adn(model, resolved, options, started)
    m = resolved.model
    scenarios = scenario_list(m, resolved.scenario_set)
    idx = build_index(m, [(s.name, s.span) for s in scenarios])
    data = build_scenario_data(m, idx, scenarios)
    b = Builder(m=linopy.Model(), model=m, idx=idx, data=data,
                elastic=bool(options.get("elastic", False)))

    with_loss = any(p.kind == "loss" for p in m.penalties)
    inv = build_investments(b, resolved)
    net = build_network(b, with_abs_flow=with_loss, reinforced=inv.reinforced)
    gen = build_generators(b)
    sto = build_storage(b)
    inj_p = [gen.inj_p] + ([sto.inj_p] if sto is not None else []) + inv.inj_p
    inj_q = [gen.inj_q] + ([sto.inj_q] if sto is not None else []) + inv.inj_q
    dem = build_loads(b, inj_p, inj_q, net.outflow_p, net.outflow_q)
    island_cuts(b, inv, gen, sto, dem)  # valid inequalities for reinforcement (LP bound)

    per_scenario = scenario_terms(b, net, gen, sto, dem)
    per_scenario.update(inv.scenario_terms)
    costs = {name: expected(b, term) for name, term in per_scenario.items()}
    total = added(list(costs.values())) if costs else gen.p.sum() * 0.0
    if inv.any:  # planning: the upper-level objective (see compiler.investments)
        costs, total = upper_level(m, inv, costs)
    constant = float(total.const)
    restrictions = {"mess_parked": parked(inv.mess)} if inv.mess is not None else {}
    if b.elastic:
        b.m.add_objective(b.elastic_objective())
    else:
        b.m.add_objective(without_constant(total))
    return CompiledModel(model=b.m, costs=costs, scenario_costs=per_scenario,
                         objective_constant=constant, index=idx, study=resolved,
                         scenarios=data,
                         blocks=b.blocks, relaxations=b.relaxations, options=dict(options),
                         notes=_notes(m, inv.unsupported), compile_s=time.perf_counter() - started,
                         restrictions=restrictions)


__all__ = ["CompiledModel", "compile_model"]
