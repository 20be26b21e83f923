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
from linopy import LinearExpression, Variable

from gridc.compiler.core.builder import Builder
from gridc.compiler.core.index import GEN, SCENARIO
from gridc.compiler.core.rows import summed, weighted
from gridc.compiler.families.generators import GeneratorVars
from gridc.compiler.families.loads import DemandVars
from gridc.compiler.families.storage import StorageVars
from gridc.compiler.formulations.flow import Flow


def scenario_terms(b: Builder, net: Flow, gen: GeneratorVars,
                   sto: StorageVars | None, dem: DemandVars) -> dict[str, LinearExpression]:
    """Each cost term per scenario [CNY] over (scenario,)."""
    dt = b.idx.step_h
    coords = b.idx.coords

    def per_scenario(parts: list[tuple[Variable, float | xr.DataArray]],
                     const: float | xr.DataArray = 0.0) -> LinearExpression:
        return summed(b.m, coords, SCENARIO, parts, const)

    terms: dict[str, LinearExpression] = {}
    pen = dem.shed_penalty
    if pen is not None and dem.bus_shed is not None:
        rate_bus = pen.cny_per_kwh * (dem.bus_priority if pen.weighted_by_priority else 1.0)
        parts: list[tuple[Variable, float | xr.DataArray]] = [(dem.bus_shed, rate_bus * dt)]
        if dem.load_shed is not None:
            rate_load = pen.cny_per_kwh * (dem.load_priority if pen.weighted_by_priority
                                           else 1.0)
            parts.append((dem.load_shed, rate_load * dt))
        terms["shed"] = per_scenario(parts)

    # prices are 0 on the units a term does not cover, so every term runs over all units
    labels = gen.curtailable.coords[GEN].values
    curtail = gen.curtail_price.where(gen.curtailable & (gen.curtail_price > 0), 0.0)
    if bool((curtail > 0).any()):
        # χ (forecast − P): the forecast part is a constant of the term
        spilled = (curtail * dt) * gen.forecast.where(curtail > 0, 0.0)
        terms["curtailment"] = per_scenario([(gen.p, -(curtail * dt))], spilled)

    kinds = {g.name: g.kind for g in b.idx.generators}
    is_grid = xr.DataArray([kinds[str(g)] == "grid" for g in labels], coords=[coords[GEN]])
    for name, units in (("grid", is_grid), ("fuel", ~is_grid)):
        if bool(units.any()):
            price = gen.energy_price.where(units, 0.0)
            terms[name] = per_scenario([(gen.p, price * dt)])

    if sto is not None:
        rate = sto.wear_price * dt
        terms["storage_wear"] = per_scenario([(sto.charge, rate), (sto.discharge, rate)])

    loss = next((p for p in b.model.penalties if p.kind == "loss"), None)
    if loss is not None and net.p_abs is not None:
        terms["line_flow"] = per_scenario([(net.p_abs, loss.cny_per_kwh * dt)])
    return terms


def expected(b: Builder, per_scenario: LinearExpression) -> LinearExpression:
    """The probability-weighted sum over scenarios (κ_z of seed 000)."""
    return weighted(per_scenario, SCENARIO, b.data.probability)
