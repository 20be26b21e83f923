"""Active distribution network planning (seed 001, sections 3.2 and 4) and loss studies.

Why a compile route of its own: these models need what LinDistFlow cannot give — network
losses (DistFlow with a cone, `compiler.distflow`), the topology as a decision
(`compiler.topology`), integer DG units, a substation rating chosen from a list, stations
sized from the EV forecast (`compiler.stations`) — and the seed's objective, an *annual*
cost. `compile_model` routes here every model whose study minimises `losses` or that has a
`lines`, `dg`, `substation` or `stations` investment (`uses_adn`).

Decisions and data (vectorised over scenario × time × line / bus / unit):

* `dg_units[dg]` integer, capacity = unit × n within [min, max] (eq. 35); output
  `dg_p[scenario, time, dg]` ≤ unit·n·profile (curtailment free, power factor 1 in the seed;
  below 1 the unit may give |q| ≤ tan φ · unit · n);
* `substation_rating[sub, rating]` binary, at most one rating per substation (an expansion
  from the standard list, eq. 44): grid import ≤ load_rate · cos φ · (existing + rating);
* lines, stations: see their modules. Typical EV days are the scenarios, with their
  probabilities, when the model has stations.

Objective (section 4.1), every term a named expression in CNY per year (`costs`):

    F = C_I + C_E + C_O + C_C
    C_I = Σ_items CRF(δ, Y_item) · install · size   (+ land, see `compiler.stations`)
    C_E = D · Σ_s π_s Σ_t μ_t · P^grid_{s,t} Δt    (= load + stations + losses − DG, eq. 38)
    C_O = Σ_items maintain · size
    C_C = D · c_CO2 · E_CO2                         (eq. 40, E from the forecast)

with CRF(δ, Y) = δ(1+δ)^Y / ((1+δ)^Y − 1), δ = `economics.discount`, D = days_per_year.
A study with `objective losses` minimises the expected daily losses Σ r ℓ S_b Δt [kWh]
instead (the reconfiguration problem); the cost terms are not built then.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import linopy
import pandas as pd
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler import CompiledModel
from gridc.compiler.builder import Builder, sparse_sum
from gridc.compiler.cone import rotated_rows
from gridc.compiler.distflow import DEFAULT_LEVELS, DistFlowVars, build_distflow
from gridc.compiler.economics import capital_recovery_factor
from gridc.compiler.errors import compile_error
from gridc.compiler.generators import GeneratorVars, build_generators
from gridc.compiler.index import BUS, GEN, SCENARIO, TIME, build_index
from gridc.compiler.loads import build_loads
from gridc.compiler.scenarios import (
    build_scenario_data,
    profile_values,
    scenario_list,
)
from gridc.compiler.study import ResolvedStudy
from gridc.compiler.topology import Topology, build_topology, expand_network, line_builds
from gridc.dsl import ir
from gridc.dsl import ir_planning as P

DG, RATING, SUB = "dg", "rating", "substation"
ADN_KINDS = ("lines", "dg", "substation", "stations")
ADN_OPTIONS = ("levels", "subcase", "forecast", "fixed_lines", "cone", "days")
#: the solver's objective unit for costs: kCNY
OBJECTIVE_SCALE = 1e-3
#: above this many polygon rows the cone is approximated by cuts (see `cone_mode`)
BTN_MAX_ROWS = 60_000


def uses_adn(resolved: ResolvedStudy) -> bool:
    """True for models this module compiles (see the module docstring)."""
    return resolved.solve.objective == "losses" or any(
        i.kind in ADN_KINDS for i in resolved.model.investments)


@dataclass
class CostItem:
    """One priced decision: annual capital and O&M per unit of `size` (CNY/y)."""

    group: str  # report row: "dg", "lines", "substation", "charger_1", ...
    name: str
    capital: float  # CRF · install per unit
    maintain: float  # per unit and year
    size: LinearExpression  # units, kW, km, kWh or m²
    unit: str


@dataclass
class AdnParts:
    """What the runtime needs after the solve (report, cone check, re-solves)."""

    builder: Builder
    topology: Topology
    flow: DistFlowVars
    items: list[CostItem] = field(default_factory=list)
    dg_units: Variable | None = None
    dg_p: Variable | None = None
    substation: Variable | None = None
    stations: Any = None  # compiler.stations.StationVars
    subcases: tuple[str, ...] = ()
    subcase: str | None = None
    forecast: Any = None
    carbon_t_per_day: float = 0.0
    objective: str = "cost"
    source_model: ir.Model | None = None  # as given to compile_model (for sub-cases)
    cone_mode: str = "btn"
    objective_scale: float = 1.0  # solver objective = scale × cost (see compile_adn)


def _econ(m: ir.Model) -> ir.Economics:
    return m.economics or ir.Economics(span=m.span)


def crf(m: ir.Model, life_y: float) -> float:
    return capital_recovery_factor(_econ(m).discount, life_y)


# ---------------------------------------------------------------------- DG and substation


def build_dg(b: Builder, invs: list[P.DgUnits], parts: AdnParts) -> tuple[LinearExpression,
                                                                          LinearExpression]:
    """Integer DG units and their output; returns the injections (p, q) over buses."""
    names = pd.Index([i.name for i in invs], name=DG)
    b.idx.coords[DG] = names
    unit = xr.DataArray([i.unit_kw for i in invs], coords=[names])
    lo = xr.DataArray([math.ceil(i.capacity_min_kw / i.unit_kw - 1e-9) for i in invs],
                      coords=[names])
    up = xr.DataArray([math.floor(i.capacity_max_kw / i.unit_kw + 1e-9) for i in invs],
                      coords=[names])
    n = b.m.add_variables(lower=lo, upper=up, coords=[names], name="dg_units", integer=True)
    avail = xr.concat([profile_values(b.model, b.idx, b.data, i.profile, i.span)
                       if i.profile is not None else b.full(1.0, (SCENARIO, TIME))
                       for i in invs], dim=names).transpose(SCENARIO, TIME, DG)
    cap = (unit * avail * up).transpose(SCENARIO, TIME, DG)
    p = b.variable("dg_p", (SCENARIO, TIME, DG), 0.0, cap, family="generator limits",
                   source=DG, unit="kW")
    b.constrain("dg_available", p - (unit * avail) * n, "<=", 0.0,
                family="generator limits", source=DG, unit="kW")
    at = b.idx.at_bus(DG, [i.bus for i in invs])
    inj_q = sparse_sum(p * 0.0, at, DG, BUS)
    tan = xr.DataArray([math.tan(math.acos(i.power_factor)) for i in invs], coords=[names])
    if bool((tan > 1e-9).any()):
        q = b.variable("dg_q", (SCENARIO, TIME, DG), -(tan * cap), tan * cap,
                       family="generator reactive limits", source=DG, unit="kvar")
        b.constrain("dg_q_up", q - (tan * unit) * n, "<=", 0.0, family="generator limits",
                    source=DG, unit="kvar")
        b.constrain("dg_q_dn", q + (tan * unit) * n, ">=", 0.0, family="generator limits",
                    source=DG, unit="kvar")
        inj_q = sparse_sum(q, at, DG, BUS)
    for inv in invs:
        c = inv.costs
        parts.items.append(CostItem({"pv": "pv", "wind": "wt"}[inv.source], inv.name,
                                    crf(b.model, c.life_y) * c.install_cny,
                                    c.maintain_cny_per_y,
                                    inv.unit_kw * n.sel({DG: [inv.name]}).sum(), "kW"))
    parts.dg_units, parts.dg_p = n, p
    return sparse_sum(p, at, DG, BUS), inj_q


def build_substations(b: Builder, invs: list[P.Substation], gen: GeneratorVars,
                      parts: AdnParts) -> None:
    """Rating choice per substation and the import limit of eq. (44)."""
    grid = [g for g in b.idx.generators if g.kind == "grid"]
    for inv in invs:
        units = [g.name for g in grid if g.bus == inv.bus]
        if not units:
            raise compile_error(b.model, "GRID041", f"substation '{inv.name}' is not at the "
                                "grid supply point", inv.span,
                                help=f"place it at the slack bus {b.idx.slack_bus}")
    names = pd.Index([i.name for i in invs], name=SUB)
    ratings = sorted({r for i in invs for r in i.ratings_kva})
    rat = pd.Index(ratings, name=RATING)
    b.idx.coords[SUB], b.idx.coords[RATING] = names, rat
    allowed = xr.DataArray([[float(r in i.ratings_kva) for r in ratings] for i in invs],
                           coords=[names, rat])
    y = b.m.add_variables(lower=0.0, upper=allowed, coords=[names, rat],
                          name="substation_rating", integer=True)
    b.constrain("substation_one", y.sum(RATING), "<=", 1.0, family="substation", source=SUB)
    size = (xr.DataArray(ratings, coords=[rat]) * y).sum(RATING)
    for k, inv in enumerate(invs):
        units = [g.name for g in grid if g.bus == inv.bus]
        imp = gen.p.sel({GEN: units}).sum(GEN)
        factor = inv.load_rate * inv.power_factor
        b.constrain(f"substation_limit_{k}", imp - factor * size.sel({SUB: inv.name}), "<=",
                    factor * inv.existing_kva, family="substation", source=None, unit="kW")
        c = inv.costs
        parts.items.append(CostItem("substation", inv.name, crf(b.model, c.life_y) *
                                    c.install_cny, c.maintain_cny_per_y,
                                    size.sel({SUB: [inv.name]}).sum(), "kVA"))
    parts.substation = y


def line_items(b: Builder, topo: Topology, parts: AdnParts) -> None:
    """Priced line length: Σ length · built over the candidates of each investment."""
    if topo.built is None:
        return
    for inv in line_builds(b.model):
        lines = [c.line for c in topo.candidates if c.investment == inv.name and not c.existing]
        if not lines:
            continue
        length = topo.length_km.sel(line=lines)
        c = inv.costs
        parts.items.append(CostItem("lines", inv.name, crf(b.model, c.life_y) * c.install_cny,
                                    c.maintain_cny_per_y,
                                    (length * topo.built.sel(line=lines)).sum(), "km"))


# ---------------------------------------------------------------------- the route


def cone_mode(requested: str, cones: int, nu: int) -> str:
    """`btn` (Ben-Tal–Nemirovski, accuracy guaranteed up front) unless the polygon rows would
    exceed `BTN_MAX_ROWS`: then `cuts` (a few supporting planes per cone, refined by the
    runtime's cut loop), because a simplex on hundreds of thousands of polygon rows is
    what makes the MILP slow (measured: the 4 × 24 h × 31-line seed-001 case has 2,976
    cones, 193k rows at ν = 10, and no root LP after 10 min)."""
    if requested not in ("auto", "btn", "cuts"):
        raise ValueError(f"unknown cone mode '{requested}' (auto, btn or cuts)")
    if requested != "auto":
        return requested
    return "btn" if cones * rotated_rows(nu) <= BTN_MAX_ROWS else "cuts"


def flow_cap(m: ir.Model, with_stations: bool) -> float:
    """No line carries more than all demand plus all generation (with 10 % for losses and
    reactive power): the big-M of the flow bounds. Unbounded with stations, whose load
    is a decision, or with generators of unbounded size (the grid import does not count:
    it only feeds the demand)."""
    if with_stations:
        return math.inf
    net = m.network()
    shape = max(m.profile(net.load_profile).values) if net.load_profile else 1.0
    demand = shape * sum(math.hypot(b.p_kw, b.q_kvar) for b in net.buses)
    demand += sum(math.hypot(ld.p_kw, ld.q_kvar) for ld in m.loads)
    gens = [g.p_max_kw for g in m.generators if g.kind != "grid"]
    dg = sum(i.capacity_max_kw for i in m.investments if isinstance(i, P.DgUnits))
    if any(math.isinf(x) for x in gens):
        return math.inf
    return 1.1 * (demand + sum(gens) + dg)




def _grid_terms(b: Builder, gen: GeneratorVars) -> LinearExpression:
    """Daily purchase per scenario [CNY] over (scenario,)."""
    units = [g.name for g in b.idx.generators if g.kind == "grid"]
    price = gen.energy_price.sel({GEN: units})
    return ((price * b.idx.step_h) * gen.p.sel({GEN: units})).sum([TIME, GEN])


def _total(exprs: list[LinearExpression]) -> LinearExpression:
    return linopy.merge(exprs, cls=LinearExpression)  # type: ignore[no-any-return]


def compile_adn(model: ir.Model, resolved: ResolvedStudy, options: dict[str, Any],
                started: float) -> CompiledModel:
    """Compile a planning or loss study (see the module docstring)."""
    m, candidates = expand_network(resolved.model)
    stations_inv = [i for i in m.investments if isinstance(i, P.Stations)]
    plan = None
    if stations_inv:
        from gridc.compiler import stations as st_mod
        plan = st_mod.prepare(m, stations_inv[0], options.get("subcase"),
                              options.get("forecast"), options.get("days", "typical"))
        scenarios = plan.scenarios
    else:
        scenarios = scenario_list(m, resolved.scenario_set)
    idx = build_index(m, [(s.name, s.span) for s in scenarios])
    data = build_scenario_data(m, idx, scenarios)
    b = Builder(m=linopy.Model(), model=m, idx=idx, data=data)
    radial = any(inv.radial for inv in line_builds(m))
    topo = build_topology(b, candidates, radial, options.get("fixed_lines"))
    nu = int(options.get("levels", DEFAULT_LEVELS))
    mode = cone_mode(options.get("cone", "auto"), idx.steps * len(scenarios) *
                     len(idx.coords["line"]), nu)
    flow = build_distflow(b, topo, nu, flow_cap(m, plan is not None), mode)
    parts = AdnParts(builder=b, topology=topo, flow=flow, objective=resolved.solve.objective,
                     source_model=model, cone_mode=mode)
    gen = build_generators(b)
    inj_p: list[LinearExpression] = [gen.inj_p]
    inj_q: list[LinearExpression] = [gen.inj_q]
    dgs = [i for i in m.investments if isinstance(i, P.DgUnits)]
    if dgs:
        p, q = build_dg(b, dgs, parts)
        inj_p.append(p)
        inj_q.append(q)
    subs = [i for i in m.investments if isinstance(i, P.Substation)]
    if subs:
        build_substations(b, subs, gen, parts)
    line_items(b, topo, parts)
    if plan is not None:
        from gridc.compiler import stations as st_mod
        sv = st_mod.build_stations(b, stations_inv[0], plan, parts)
        inj_p.append(-sv.load_p)
        inj_q.append(-sv.load_q)
        parts.stations, parts.subcases, parts.subcase = sv, plan.labels, plan.label
        parts.forecast, parts.carbon_t_per_day = plan.forecast, plan.carbon_t_per_day
    build_loads(b, inj_p, inj_q, flow.outflow_p, flow.outflow_q)
    dt = idx.step_h
    losses = (flow.loss_kw * dt).sum([TIME, "line"])  # kWh per scenario
    per_scenario: dict[str, LinearExpression] = {"losses_kwh": losses}
    if parts.objective == "losses":
        costs = {"losses_kwh": (data.probability * losses).sum(SCENARIO)}
        total = costs["losses_kwh"]
    else:
        per_scenario["purchase"] = _grid_terms(b, gen)
        costs = annual_costs(m, parts, per_scenario, data.probability)
        total = _total(list(costs.values()))
    # the solver sees kCNY: annual costs of 1e7 CNY with 1e6 CNY binaries trip HiGHS'
    # "excessively large costs" warning (the runtime scales the results back)
    scale = 1.0 if parts.objective == "losses" else OBJECTIVE_SCALE
    parts.objective_scale = scale
    constant = float(total.const)
    b.m.add_objective((total - constant) * scale)
    return CompiledModel(model=b.m, costs=costs, scenario_costs=per_scenario,
                         objective_constant=constant * scale, index=idx, study=resolved,
                         scenarios=data,
                         blocks=b.blocks, relaxations=b.relaxations, options=dict(options),
                         notes=[], compile_s=time.perf_counter() - started, extension=parts)


def annual_costs(m: ir.Model, parts: AdnParts, per_scenario: dict[str, LinearExpression],
                 probability: xr.DataArray) -> dict[str, LinearExpression]:
    """F's four terms (CNY/y): construction, energy purchase, O&M, EV carbon."""
    econ = _econ(m)
    items = parts.items
    zero = 0.0 * parts.flow.ell.sum()
    construction = _total([it.capital * it.size for it in items]) if items else zero
    om = _total([it.maintain * it.size for it in items]) if items else zero
    if parts.stations is not None:
        construction = construction + parts.stations.land_annual
    energy = econ.days_per_year * (probability * per_scenario["purchase"]).sum(SCENARIO)
    price = next((p.value for p in m.prices if p.kind == "carbon" and p.value is not None),
                 0.0)
    carbon = zero + econ.days_per_year * price * parts.carbon_t_per_day
    return {"construction": construction, "energy_purchase": energy,
            "operation_maintenance": om, "ev_carbon": carbon}


def item_values(parts: AdnParts) -> list[dict[str, Any]]:
    """Each priced item at the solution: size, annual capital and O&M (CNY/y)."""
    out = []
    for it in parts.items:
        size = float(it.size.solution)
        out.append({"group": it.group, "name": it.name, "size": size, "unit": it.unit,
                    "capital": it.capital * size, "maintain": it.maintain * size})
    return out
