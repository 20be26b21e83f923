"""The one compile path: every model, whatever it contains, is lowered here.

    compiled = compile_model(model, study="operation")

Order (each family is one module with one entry point that adds its blocks and returns
its injections at buses, its priced items and its daily cost terms):

1. the study (`compiler.core.study`) and the formulation (`compiler.formulations.flow`, the only
   place that chooses it); model rewrites that keep one dimension per component kind:
   storage investments join the storage units (`compiler.families.storage.expand_storage`),
   candidate lines the network (`compiler.families.topology.expand_network`);
2. scenarios: the model's (or the study's) scenario set, or — with a `stations`
   investment — the EV forecast's typical days (`compiler.families.stations.prepare`);
3. decisions that change the network: reinforcement, MESS, EV-RB
   (`compiler.families.resilience`), topology (`compiler.families.topology`), then the line states
   (`compiler.core.line_state`) and the flow under the chosen formulation;
4. the injecting families: generators, storage (operation and investment), DG sizing,
   substations, stations; then loads, shedding and the nodal balance (`compiler.families.loads`);
   island cuts when reinforcement decides the network (`compiler.families.islands`);
5. costs: daily operating terms (`compiler.formulations.operating_costs`), priced items and the
objective under
   the model's pricing rule (`compiler.formulations.pricing`), or the expected daily losses for
   `objective losses`.

Statements that cannot shape the model are diagnostics, never notes: EV areas, fleets,
a travel model or station sites without a `stations` investment, `penalty unserved_ev`
(GRID072), a stations model with a scenario set of its own (GRID073: its scenarios are
the forecast's days), a shed price or priced investments under `objective losses`
(GRID075: they would not count).
"""

from __future__ import annotations

import time
from typing import Any

import linopy

from gridc.compiler.core.builder import Builder, sparse_sum
from gridc.compiler.core.compiled import CompiledModel, StationCase
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import BUS, LINE, STORAGE, TIME, build_index
from gridc.compiler.core.line_state import line_states
from gridc.compiler.core.rows import without_constant
from gridc.compiler.core.scenarios import build_scenario_data, scenario_list
from gridc.compiler.core.study import ResolvedStudy, resolve_study
from gridc.compiler.families.dg import define_dg
from gridc.compiler.families.ev_battery import SITE
from gridc.compiler.families.generators import define_generators
from gridc.compiler.families.islands import island_cuts
from gridc.compiler.families.loads import Injection, define_loads
from gridc.compiler.families.mobile_storage import AT, MTYPE, parked
from gridc.compiler.families.resilience import define_investments
from gridc.compiler.families.stations import define_stations, prepare
from gridc.compiler.families.storage import define_storage, expand_storage
from gridc.compiler.families.substation import define_substations
from gridc.compiler.families.topology import (
    define_topology,
    expand_network,
    line_builds,
    line_items,
)
from gridc.compiler.formulations.flow import choose_formulation, define_flow
from gridc.compiler.formulations.operating_costs import expected, scenario_terms
from gridc.compiler.formulations.pricing import Pricing, price
from gridc.dsl import ir
from gridc.dsl import ir_planning as P

KNOWN_OPTIONS = ("elastic", "levels", "subcase", "forecast", "fixed_lines", "cone", "days")


def _unused(m: ir.Model, resolved: ResolvedStudy, with_stations: bool) -> None:
    """Refuse statements that would be parsed, checked and then not used."""
    unserved = next((p for p in m.penalties if p.kind == "unserved_ev"), None)
    if unserved is not None:
        raise compile_error(m, "GRID072", "'penalty unserved_ev' prices EV demand left "
                            "unserved, but stations serve every EV's energy (seed 001, "
                            "eq. 19-28): nothing is left to price", unserved.span,
                            help="remove the penalty")
    if not with_stations:
        parts = [(x.span, f"EV area '{x.name}'") for x in m.areas]
        parts += [(x.span, f"fleet '{x.name}'") for x in m.fleets]
        parts += [(x.span, f"station site '{x.name}'") for x in m.stations]
        if m.travel is not None:
            parts.append((m.travel.span, "the travel model"))
        if parts:
            span, what = parts[0]
            raise compile_error(m, "GRID072", f"{what} shapes a model only through a "
                                "'stations' investment, which this model does not have",
                                span, help="add 'invest NAME : stations { ... }', or run "
                                "'gridc forecast' for the EV forecast alone")
    elif resolved.scenario_set is not None:
        raise compile_error(m, "GRID073", f"scenario set '{resolved.scenario_set.name}' "
                            "cannot be combined with a 'stations' investment: its scenarios "
                            "are the EV forecast's typical days", resolved.scenario_set.span,
                            help="solve the stations and the scenario set in separate "
                            "models (a product of both is not supported yet)")


def _against_losses(m: ir.Model, resolved: ResolvedStudy) -> None:
    """`objective losses` minimises kWh of losses and nothing else: a shed price would let
    the optimum shed every load (no flow, no losses), and the costs of investments would
    not count. Both are refused rather than silently dropped."""
    if resolved.solve.objective != "losses":
        return
    shed = next((p for p in m.penalties if p.kind == "shed"), None)
    if shed is not None:
        raise compile_error(m, "GRID075", "'penalty shed' makes demand optional, and "
                            "'objective losses' would then shed every load (no flow, no "
                            "losses)", shed.span, help="remove the penalty from this model, "
                            "or minimise cost (objective cost) with losses priced through "
                            "formulation distflow")
    priced = next((i for i in m.investments if any(
        c.install_cny > 0 or c.maintain_cny_per_y > 0 for c in _costs_of(i))), None)
    if priced is not None:
        raise compile_error(m, "GRID075", f"investment '{priced.name}' has costs, which "
                            "'objective losses' does not count", priced.span,
                            help="minimise cost (objective cost), or give the investment no "
                            "costs if only its effect on losses matters")


def _costs_of(inv: P.Investment) -> list[P.Costs]:
    """Every `Costs` an investment carries (types, equipment, both storage sizes)."""
    out: list[P.Costs] = []
    for value in (getattr(inv, "costs", None), getattr(inv, "power_costs", None),
                  getattr(inv, "energy_costs", None)):
        if isinstance(value, P.Costs):
            out.append(value)
    for part in (*getattr(inv, "types", ()), *getattr(inv, "equipment", ())):
        out.append(part.costs)
    if isinstance(inv, P.Stations):
        out.append(inv.transformer.costs)
    return out


def compile_model(model: ir.Model, study: str | None = None, **options: Any) -> CompiledModel:
    """Compile `model` for `study` (None: the first study, or defaults)."""
    unknown = sorted(set(options) - set(KNOWN_OPTIONS))
    if unknown:
        raise TypeError(f"unknown compile option(s): {', '.join(unknown)}")
    started = time.perf_counter()
    resolved = resolve_study(model, study)
    formulation = choose_formulation(resolved)
    m, candidates = expand_network(expand_storage(resolved.model))
    stations = [i for i in m.investments if isinstance(i, P.Stations)]
    _unused(m, resolved, bool(stations))
    _against_losses(m, resolved)
    plan = (prepare(m, stations[0], options.get("subcase"), options.get("forecast"),
                    options.get("days", "typical")) if stations else None)
    scenarios = plan.scenarios if plan is not None else scenario_list(m, resolved.scenario_set)
    idx = build_index(m, [(s.name, s.span) for s in scenarios])
    data = build_scenario_data(m, idx, scenarios)
    b = Builder(m=linopy.Model(), model=m, idx=idx, data=data,
                elastic=bool(options.get("elastic", False)))

    inv = define_investments(b, resolved)
    topo = None
    if candidates:
        radial = any(i.radial for i in line_builds(m))
        topo = define_topology(b, candidates, radial, options.get("fixed_lines"))
    flow, mode = define_flow(b, formulation, line_states(b, topo, inv.reinforced),
                             with_abs_flow=any(p.kind == "loss" for p in m.penalties),
                             levels=options.get("levels"), cone=options.get("cone", "auto"),
                             with_stations=plan is not None)
    gen = define_generators(b)
    sto = define_storage(b)
    inj_p: list[Injection] = [gen.inj_p, *inv.inj_p]
    inj_q: list[Injection] = [gen.inj_q, *inv.inj_q]
    items = list(inv.items)
    supplies = []  # non-negative injections [scenario, time, bus] (island cuts)
    if sto is not None:
        inj_p.append(sto.inj_p)
        inj_q.append(sto.inj_q)
        items += sto.items
        supplies.append(sparse_sum(sto.discharge, idx.at_bus(STORAGE, [s.bus for s in
                                                                       idx.storages]),
                                   STORAGE, BUS))
    if inv.mess is not None:
        at = [str(c) for c in idx.coords[AT]]
        supplies.append(sparse_sum(inv.mess.discharge.sum(MTYPE), idx.at_bus(AT, at), AT, BUS))
    if inv.ev is not None:
        sites = [str(c) for c in idx.coords[SITE]]
        supplies.append(sparse_sum(inv.ev.discharge, idx.at_bus(SITE, sites), SITE, BUS))
    dgs = [i for i in m.investments if isinstance(i, P.DgUnits)]
    if dgs:
        dg = define_dg(b, dgs)
        inj_p.append(dg.inj_p)
        inj_q.append(dg.inj_q)
        items += dg.items
        supplies.append(dg.inj_p)
    subs = [i for i in m.investments if isinstance(i, P.Substation)]
    if subs:
        items += define_substations(b, subs, gen).items
    if topo is not None:
        items += line_items(m, topo)
    station_case = None
    if plan is not None:
        sv = define_stations(b, stations[0], plan)
        inj_p.append(-sv.load_p)
        inj_q.append(-sv.load_q)
        items += sv.items
        station_case = StationCase(sv, plan)
    dem = define_loads(b, inj_p, inj_q, flow.outflow_p, flow.outflow_q)
    # valid with a topology decision too: a subtree is computed with every line that may
    # be built, so the reinforced line is its only connection whatever is built
    island_cuts(b, inv.reinforced, gen, dem, supplies)

    per_scenario = scenario_terms(b, flow, gen, sto, dem)
    per_scenario.update(inv.scenario_terms)
    zero = gen.p.sum() * 0.0
    if resolved.solve.objective == "losses":
        assert flow.loss_kw is not None  # choose_formulation: losses need distflow
        losses = (flow.loss_kw * idx.step_h).sum([TIME, LINE])
        daily = {"losses_kwh": expected(b, losses)}
        pricing = Pricing("losses", daily, daily["losses_kwh"], 1.0, 0.0, 1.0)
    else:
        daily = {name: expected(b, term) for name, term in per_scenario.items()}
        annual = {}
        if plan is not None:
            econ = m.economics or ir.Economics(span=m.span)
            carbon = next((p.value for p in m.prices if p.kind == "carbon"
                           and p.value is not None), 0.0)
            annual["ev_carbon"] = zero + econ.days_per_year * carbon * plan.carbon_t_per_day
        pricing = price(m, items, daily, annual, zero)
    total = pricing.objective
    scale = pricing.scale
    constant = float(total.const) * scale
    if b.elastic:
        b.m.add_objective(b.elastic_objective())
    else:
        objective = without_constant(total)
        b.m.add_objective(objective if scale == 1.0 else objective * scale)
    return CompiledModel(
        model=b.m, costs=pricing.costs, scenario_costs=per_scenario,
        objective_constant=constant, objective_scale=scale,
        objective_kind=resolved.solve.objective or "cost", index=idx, study=resolved,
        scenarios=data, blocks=b.blocks, relaxations=b.relaxations, options=dict(options),
        builder=b, flow=flow, pricing=pricing, source_model=model, topology=topo,
        items=items, stations=station_case, cone_mode=mode,
        compile_s=time.perf_counter() - started,
        restrictions={"mess_parked": parked(inv.mess)} if inv.mess is not None else {})
