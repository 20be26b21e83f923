"""Upper-level plans of seed 000: which lines are reinforced, how many MESS units of
each type, how many EV-RB packs of each type at each site.

A `Plan` is the data the bi-level method searches over and what a study's `fix`
statements pin down; `plan_costs_of` prices it with the seed's cost terms
(`gridc.data.economics`). Errors in `fix` statements (unknown type, wrong
number of per-site values, a line that is not a candidate) are reported with the
fix's span via `PlanError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gridc.data.economics import ItemCoefficients, PlanCosts, item_coefficients, plan_costs
from gridc.dsl import ir
from gridc.dsl import ir_planning as P
from gridc.dsl.spans import Span


class PlanError(Exception):
    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.span = span


@dataclass(frozen=True)
class Plan:
    reinforced: tuple[str, ...] = ()
    mess: dict[str, int] = field(default_factory=dict)  # type name -> units
    packs: dict[tuple[str, str], int] = field(default_factory=dict)  # (type, site bus) -> packs

    def key(self) -> tuple[object, ...]:
        """A hashable identity (plans are cached by it in the bi-level search)."""
        return (tuple(sorted(self.reinforced)), tuple(sorted(self.mess.items())),
                tuple(sorted(self.packs.items())))

    def ev_capacity_kwh(self, inv: P.EvBattery) -> float:
        sizes = {t.name: t.pack_kwh for t in inv.types}
        return sum(sizes[t] * n for (t, _bus), n in self.packs.items())


def _inv(model: ir.Model, kind: type) -> list:  # type: ignore[type-arg]
    return [i for i in model.investments if isinstance(i, kind)]


def plan_from_fixes(model: ir.Model, fixes: tuple[ir.Fix, ...]) -> Plan:
    """The plan pinned down by `fix` statements; unfixed items count zero."""
    reinforced: list[str] = []
    mess: dict[str, int] = {}
    packs: dict[tuple[str, str], int] = {}
    invs = {i.name: i for i in model.investments}
    for f in fixes:
        inv = invs.get(f.investment)
        if inv is None:
            raise PlanError(f"unknown investment '{f.investment}'", f.span)
        if isinstance(inv, P.Reinforcement):
            lines = [str(v) for v in f.values]
            bad = [x for x in lines if x not in inv.candidates]
            if bad:
                raise PlanError(f"line {bad[0]} is not a reinforcement candidate", f.span)
            reinforced.extend(lines)
        elif isinstance(inv, P.MobileStorage):
            types = {t.name for t in inv.types}
            if f.choice not in types or len(f.values) != 1:
                raise PlanError(f"fix {f.investment}.TYPE N with TYPE one of "
                                f"{', '.join(sorted(types))}", f.span)
            mess[f.choice] = _whole(f.values[0], f.span)
        elif isinstance(inv, P.EvBattery):
            types = {t.name for t in inv.types}
            if f.choice not in types:
                raise PlanError(f"unknown pack type '{f.choice}'", f.span)
            if len(f.values) != len(inv.sites):
                raise PlanError(f"fix {f.investment}.{f.choice} needs {len(inv.sites)} values, "
                                "one per site", f.span)
            for site, v in zip(inv.sites, f.values):
                packs[(f.choice, site.bus)] = _whole(v, f.span)
        else:
            raise PlanError(f"investment '{f.investment}' cannot be fixed", f.span)
    return Plan(reinforced=tuple(reinforced), mess=mess, packs=packs)


def _whole(v: float | str, span: Span) -> int:
    try:
        f = float(v)
    except ValueError:
        raise PlanError(f"'{v}' is not a count", span) from None
    if f < 0 or not f.is_integer():
        raise PlanError(f"'{v}' is not a whole, non-negative count", span)
    return int(f)


def cost_items(model: ir.Model, plan: Plan) -> list[tuple[ItemCoefficients, float]]:
    """(per-unit coefficients, count) for every item of the plan."""
    econ = model.economics or ir.Economics(span=model.span)
    rate, years = econ.discount, econ.life_y

    def coeff(c: P.Costs) -> ItemCoefficients:
        return item_coefficients(c.install_cny, c.maintain_cny_per_y, c.life_y, rate, years)

    items: list[tuple[ItemCoefficients, float]] = []
    for inv in _inv(model, P.Reinforcement):
        items.append((coeff(inv.costs),
                      float(sum(1 for c in plan.reinforced if c in inv.candidates))))
    for inv in _inv(model, P.MobileStorage):
        for t in inv.types:
            items.append((coeff(t.costs), float(plan.mess.get(t.name, 0))))
    for inv in _inv(model, P.EvBattery):
        for t in inv.types:
            n = sum(v for (name, _bus), v in plan.packs.items() if name == t.name)
            items.append((coeff(t.costs), float(n)))
    return items


def plan_costs_of(model: ir.Model, plan: Plan, operation_per_year: float = 0.0) -> PlanCosts:
    econ = model.economics or ir.Economics(span=model.span)
    return plan_costs(cost_items(model, plan), operation_per_year, econ.discount, econ.life_y)
