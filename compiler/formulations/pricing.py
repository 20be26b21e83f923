"""One cost mechanism for every family: priced items, daily operation, the objective.

Why one place: the two seeds price investments differently, and a model may mix a
seed-000 investment (reinforcement, MESS) with a seed-001 one (DG, stations). Every
family hands its investments here as `PricedItem`s — a size (a linear expression in
units, kW, kWh, km, kVA or m²) with its `Costs` (install per unit of size, maintain per
unit and year, life) — and its daily operating cost terms; the model's `economics`
block says how they become one objective (`economics { pricing ... }`):

* `present_value` (seed 000, the default): over the economics life T at discount z,
  each item is bought at year 0, renewed every `life` (replacement) and credited its
  straight-line residual value at T (`data.economics.item_coefficients`):

      PV = C_ins + C_rep − C_rec + PVF(z, T) · (C_om + C_op + C_annual)

* `annualised` (seed 001): every item's install is spread over its own life with its
  capital recovery factor:

      A = Σ_items CRF(z, life) · install · size + C_om + C_op + C_annual

with C_om = Σ maintain · size per year, C_op = days_per_year × the expected daily
operating cost (Σ_s π_s Σ_terms), C_annual yearly amounts that are data (EV carbon).
The other figure is always reported too, named so that it cannot be mistaken:
`annual_equivalent` = CRF(z, T) · PV under `present_value`, `present_value` = PVF(z, T) · A
under `annualised` (`Pricing.totals`).

A model without any priced item is an operation model: its objective is the expected
cost of one day (CNY), as in seed 000's lower level.

Every term is a named expression in `costs` (CNY; `maintenance`, `operation` and the
annual terms per year; present-value terms as present values), plus `daily_<term>` for the
expected daily terms. The solver sees the objective times `scale`: kCNY for annualised
planning models (their 1e7 CNY/y totals next to 1e6 CNY binaries tripped HiGHS'
"excessively large costs" warning, measured on the seed-001 case), CNY otherwise
(the seed-000 studies were calibrated so).
"""

from __future__ import annotations

from dataclasses import dataclass

from linopy import LinearExpression

from gridc.compiler.core.rows import added
from gridc.data.economics import (
    capital_recovery_factor,
    item_coefficients,
    present_value_factor,
)
from gridc.dsl import ir
from gridc.dsl import ir_planning as P

PRESENT_VALUE_TERMS = ("installation", "replacement", "residual")
ANNUALISED_SCALE = 1e-3


@dataclass(frozen=True)
class PricedItem:
    """One investable quantity and its unit costs."""

    group: str  # report row: "reinforcement", "dg", "storage_power", "charger_1", ...
    name: str  # the investment (and part) it comes from
    costs: P.Costs
    size: LinearExpression  # scalar expression in `unit`
    unit: str


@dataclass(frozen=True)
class Pricing:
    """The priced model: named cost terms, the objective (CNY) and the solver scale."""

    rule: str  # "present_value", "annualised" or "daily" (no investment)
    costs: dict[str, LinearExpression]
    objective: LinearExpression
    scale: float
    discount: float
    horizon_y: float

    def totals(self, objective_value: float | None) -> dict[str, float | None]:
        """The objective value as a present value and as an annual equivalent (CNY)."""
        if objective_value is None or self.rule == "daily":
            return {"present_value": None, "annual_equivalent": None}
        pvf = present_value_factor(self.discount, self.horizon_y)
        if self.rule == "present_value":
            return {"present_value": objective_value, "annual_equivalent": objective_value / pvf}
        return {"present_value": objective_value * pvf, "annual_equivalent": objective_value}


def economics(model: ir.Model) -> ir.Economics:
    return model.economics or ir.Economics(span=model.span)


def _sum(exprs: list[LinearExpression], zero: LinearExpression) -> LinearExpression:
    return added(exprs) if exprs else zero


def price(model: ir.Model, items: list[PricedItem], daily: dict[str, LinearExpression],
          annual: dict[str, LinearExpression], zero: LinearExpression) -> Pricing:
    """The objective and named terms under the model's pricing rule (module docstring).
    `daily`: expected CNY per day per term; `annual`: CNY per year that are data or
    operation-like (EV carbon); `zero`: an empty expression of the model."""
    econ = economics(model)
    day = _sum(list(daily.values()), zero)
    if not items:
        total = day + _sum(list(annual.values()), zero) * (1.0 / econ.days_per_year)
        return Pricing("daily", dict(daily), total, 1.0, econ.discount, econ.life_y)
    rule = econ.pricing
    operation = econ.days_per_year * day
    maintenance = _sum([it.costs.maintain_cny_per_y * it.size for it in items], zero)
    costs: dict[str, LinearExpression] = {}
    if rule == "annualised":
        costs["construction"] = _sum(
            [capital_recovery_factor(econ.discount, it.costs.life_y) * it.costs.install_cny
             * it.size for it in items], zero)
        costs["maintenance"] = maintenance
        costs["operation"] = operation
        costs.update(annual)
        objective = _sum(list(costs.values()), zero)
        scale = ANNUALISED_SCALE
    else:
        coeff = [item_coefficients(it.costs.install_cny, it.costs.maintain_cny_per_y,
                                   it.costs.life_y, econ.discount, econ.life_y) for it in items]
        costs["installation"] = _sum([c.install * it.size for c, it in zip(coeff, items)], zero)
        costs["replacement"] = _sum([c.replacement * it.size
                                     for c, it in zip(coeff, items)], zero)
        costs["residual"] = _sum([c.residual * it.size for c, it in zip(coeff, items)], zero)
        costs["maintenance"] = maintenance
        costs["operation"] = operation
        costs.update(annual)
        pvf = present_value_factor(econ.discount, econ.life_y)
        yearly = _sum([maintenance, operation, *annual.values()], zero)
        objective = (costs["installation"] + costs["replacement"] - costs["residual"]
                     + pvf * yearly)
        scale = 1.0
    costs.update({f"daily_{k}": v for k, v in daily.items()})
    return Pricing(rule, costs, objective, scale, econ.discount, econ.life_y)


def item_values(items: list[PricedItem], model: ir.Model) -> list[dict[str, object]]:
    """Each priced item at the solution: size, install, annualised capital and O&M."""
    econ = economics(model)
    out: list[dict[str, object]] = []
    for it in items:
        size = float(it.size.solution)
        crf = capital_recovery_factor(econ.discount, it.costs.life_y)
        out.append({"group": it.group, "name": it.name, "size": size, "unit": it.unit,
                    "install": it.costs.install_cny * size,
                    "capital": crf * it.costs.install_cny * size,
                    "maintain": it.costs.maintain_cny_per_y * size})
    return out
