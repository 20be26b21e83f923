"""The objective: seed 000's lower-level operating cost, term by term.

min Σ_z κ_z Σ_t Δt [ Σ_n δ_n PL^shed_{n,t} + χ Σ_j (P^{G,f}_{j,t} − P^G_{j,t})
                     + λ_t P^grid_t + Σ_i α_i P^G_{i,t} + Σ_s w_s (P^c_{s,t} + P^d_{s,t})
                     + β Σ_l |Pf_{l,t}| ]

Every term is a named linopy expression in CNY (prices in CNY/kWh times powers
in kW times Δt in h). `scenario_costs[name]` is the term per scenario
(unweighted, over the `scenario` dim); `costs[name]` is its probability-weighted
sum, a scalar expression; the objective is the sum of `costs`.

Names: `shed` (δ = `penalty shed`, times the load's priority when the penalty
is `weighted by priority`), `curtailment` (χ), `grid` (purchase from grid units),
`fuel` (every other unit's energy price α), `storage_wear` (w on throughput),
`line_flow` (β = `penalty loss` on |P| of every line, the paper's line-flow term:
a proxy for losses, since LinDistFlow itself is lossless). A term appears only
when the model has what it needs (a shed penalty, a curtailable unit, ...).
"""

from __future__ import annotations

import xarray as xr
from linopy import LinearExpression

from gridc.compiler.builder import Builder
from gridc.compiler.generators import GeneratorVars
from gridc.compiler.index import BUS, GEN, LINE, LOAD, SCENARIO, STORAGE, TIME
from gridc.compiler.loads import DemandVars
from gridc.compiler.network import NetworkVars
from gridc.compiler.storage import StorageVars


def _per_scenario(expr: LinearExpression, *dims: str) -> LinearExpression:
    return expr.sum([TIME, *dims])


def scenario_terms(b: Builder, net: NetworkVars, gen: GeneratorVars,
                   sto: StorageVars | None, dem: DemandVars) -> dict[str, LinearExpression]:
    """Each cost term per scenario [CNY] over (scenario,)."""
    dt = b.idx.step_h
    terms: dict[str, LinearExpression] = {}
    pen = dem.shed_penalty
    if pen is not None and dem.bus_shed is not None:
        rate_bus = pen.cny_per_kwh * (dem.bus_priority if pen.weighted_by_priority else 1.0)
        shed = _per_scenario((rate_bus * dt) * dem.bus_shed, BUS)
        if dem.load_shed is not None:
            rate_load = pen.cny_per_kwh * (dem.load_priority if pen.weighted_by_priority
                                           else 1.0)
            shed = shed + _per_scenario((rate_load * dt) * dem.load_shed, LOAD)
        terms["shed"] = shed

    labels = gen.curtailable.coords[GEN].values
    curt = [str(g) for g in labels[gen.curtailable.values & (gen.curtail_price.values > 0)]]
    if curt:
        price = gen.curtail_price.sel({GEN: curt})
        forecast = gen.forecast.sel({GEN: curt})
        spill = forecast - gen.p.sel({GEN: curt})
        terms["curtailment"] = _per_scenario((price * dt) * spill, GEN)

    kinds = {g.name: g.kind for g in b.idx.generators}
    grid = [str(g) for g in labels if kinds[str(g)] == "grid"]
    other = [str(g) for g in labels if kinds[str(g)] != "grid"]
    for name, units in (("grid", grid), ("fuel", other)):
        if units:
            price = gen.energy_price.sel({GEN: units})
            terms[name] = _per_scenario((price * dt) * gen.p.sel({GEN: units}), GEN)

    if sto is not None:
        throughput = sto.charge + sto.discharge
        terms["storage_wear"] = _per_scenario((sto.wear_price * dt) * throughput, STORAGE)

    loss = next((p for p in b.model.penalties if p.kind == "loss"), None)
    if loss is not None and net.p_abs is not None:
        terms["line_flow"] = _per_scenario((loss.cny_per_kwh * dt) * net.p_abs, LINE)
    return terms


def expected(b: Builder, per_scenario: LinearExpression) -> LinearExpression:
    """The probability-weighted sum over scenarios (κ_z of seed 000)."""
    prob: xr.DataArray = b.data.probability
    return (prob * per_scenario).sum(SCENARIO)
