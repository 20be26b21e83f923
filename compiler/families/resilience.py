"""Seed 000's investments in extensive form: reinforcement, MESS and EV-RB decisions.

Why one MILP: the decisions (lines to reinforce, MESS units per type, EV-RB packs
per type and site) are few integers, and every typical scenario's 24 h operation
depends on them only linearly (line status u + (1 − u)·y, MESS units that exist,
pack energy E_b). Writing all scenarios next to the decisions gives the exact
optimum of the bi-level problem's single-leader/expected-follower form, with no
decomposition.

Decisions (named variables, read back by the report):

* `reinforced` [line] ∈ {0, 1}: fixed to 0 off the candidates (so the network can
  use one array over every line, see `compiler.core.line_state`);
  count.min ≤ Σ ≤ count.max;
* `mess_units` [mess_type] (see `compiler.families.mobile_storage`);
* `ev_packs` [pack_type, ev_site] (see `compiler.families.ev_battery`).

Each decision is a `PricedItem` (count × the type's costs); `compiler.formulations.pricing` turns
them into the objective under the model's pricing rule (seed 000's is `present_value`:
C_ins + C_rep − C_rec + PVF · (C_om + days_per_year · daily)).

Fixed plans: a study's `fix` statements (`plan_from_fixes`) pin the decisions with
lower = upper bounds; an investment with at least one `fix` is fixed completely
(unfixed types / sites / lines to 0), as a paper's plan is a complete plan. In elastic
mode (`--diagnose`) they pin them softly instead, with cause slacks traced to the `fix`
lines (`Builder.pin`): a fix over a count or inconsistent with the network is named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.core.builder import Builder, Lever
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import LINE
from gridc.compiler.core.plan import Plan, PlanError, plan_from_fixes
from gridc.compiler.core.study import ResolvedStudy
from gridc.compiler.families.ev_battery import PACK, SITE, EvVars, define_ev_battery
from gridc.compiler.families.mobile_storage import (
    MTYPE,
    MessVars,
    define_mobile_storage,
)
from gridc.compiler.formulations.pricing import PricedItem
from gridc.dsl import ir_planning as P
from gridc.dsl.spans import Span


@dataclass
class Investments:
    """Decision variables, the operation blocks they enable and their count terms."""

    reinforced: Variable | None = None
    mess: MessVars | None = None
    ev: EvVars | None = None
    items: list[PricedItem] = field(default_factory=list)
    inj_p: list[LinearExpression] = field(default_factory=list)
    inj_q: list[LinearExpression] = field(default_factory=list)
    scenario_terms: dict[str, LinearExpression] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(self.items)


def _fixed_plan(study: ResolvedStudy) -> tuple[Plan, set[str]]:
    m = study.model
    kept = {i.name for i in m.investments}
    fixes = tuple(f for f in study.fixes if f.investment in kept)
    try:
        plan = plan_from_fixes(m, fixes)
    except PlanError as err:
        raise compile_error(m, "GRID048", str(err), err.span) from None
    return plan, {f.investment for f in fixes}


def define_investments(b: Builder, study: ResolvedStudy) -> Investments:
    """Reinforcement decisions and the MESS / EV-RB blocks (before the network). The
    other investment kinds are their families' (`compiler.families.dg`,
    `compiler.families.storage`, ...)."""
    m = study.model
    plan, fixed = _fixed_plan(study)
    # elastic mode (`--diagnose`): decisions keep their own ranges and the fixes pin them
    # softly (`_pin_softly`), so a fix the model cannot meet is named, not fatal
    hard = set() if b.elastic else fixed
    out = Investments()

    hardening = [i for i in m.investments if isinstance(i, P.Reinforcement)]
    if hardening:
        _reinforcement(b, hardening, plan, hard, out)
    for inv in m.investments:
        if isinstance(inv, P.MobileStorage):
            mess = define_mobile_storage(b, inv, plan.mess if inv.name in hard else None)
            out.mess = mess
            for t in inv.types:
                out.items.append(PricedItem("mess", t.name, t.costs,
                                            mess.units.sel({MTYPE: [t.name]}).sum(), "units"))
            out.inj_p.append(mess.inj_p)
            out.inj_q.append(mess.inj_q)
            out.scenario_terms["mess_wear"] = mess.wear
        elif isinstance(inv, P.EvBattery):
            ev = define_ev_battery(b, inv, plan.packs if inv.name in hard else None)
            out.ev = ev
            for t in inv.types:
                out.items.append(PricedItem("ev_pack", t.name, t.costs,
                                            ev.packs.sel({PACK: [t.name]}).sum(), "packs"))
            out.inj_p.append(ev.inj_p)
            out.inj_q.append(ev.inj_q)
            out.scenario_terms["ev_battery_loss"] = ev.loss
    if b.elastic and fixed:
        _pin_softly(b, study, plan, fixed, out)
    return out


def _pin_softly(b: Builder, study: ResolvedStudy, plan: Plan, fixed: set[str],
                out: Investments) -> None:
    """Elastic mode: every decision of a fixed investment pinned to its plan value with
    cause slacks (`Builder.pin`), each element traced to its `fix` statement (the one
    naming its type, else the investment's first: unfixed items count zero)."""
    fixes = [f for f in study.fixes if f.investment in fixed]

    def fix_span(investment: str, choice: str = "") -> Span:
        own = [f for f in fixes if f.investment == investment]
        return next((f.span for f in own if f.choice == choice), own[0].span)

    invs = {i.name: i for i in study.model.investments}
    if out.reinforced is not None:
        owner = {c: i.name for i in invs.values() if isinstance(i, P.Reinforcement)
                 for c in i.candidates}
        lines = [str(x) for x in b.idx.coords[LINE]]
        target = [float(x in plan.reinforced) if owner.get(x) in fixed else math.nan
                  for x in lines]
        b.pin(out.reinforced, xr.DataArray(target, coords=[b.idx.coords[LINE]]),
              spans_of=LINE, spans={x: fix_span(owner[x]) for x in lines
                                    if owner.get(x) in fixed})
    for inv in invs.values():
        if inv.name not in fixed:
            continue
        if isinstance(inv, P.MobileStorage) and out.mess is not None:
            types = [str(t) for t in b.idx.coords[MTYPE]]
            b.pin(out.mess.units, xr.DataArray([float(plan.mess.get(t, 0)) for t in types],
                                               coords=[b.idx.coords[MTYPE]]),
                  spans_of=MTYPE, spans={t: fix_span(inv.name, t) for t in types})
        elif isinstance(inv, P.EvBattery) and out.ev is not None:
            types = [str(t) for t in b.idx.coords[PACK]]
            sites = [str(x) for x in b.idx.coords[SITE]]
            packs = [[float(plan.packs.get((t, x), 0)) for x in sites] for t in types]
            b.pin(out.ev.packs, xr.DataArray(np.array(packs).reshape(len(types), len(sites)),
                                             coords=b.idx.coord(PACK, SITE)),
                  spans_of=PACK, spans={t: fix_span(inv.name, t) for t in types})


def _reinforcement(b: Builder, invs: list[P.Reinforcement], plan: Plan, fixed: set[str],
                   out: Investments) -> None:
    """One `reinforced` [line] block for every reinforcement investment (a line belongs
    to at most one), with each investment's count range over its own candidates."""
    m = b.model
    lines = [str(x) for x in b.idx.coords[LINE]]
    owner: dict[str, str] = {}
    for inv in invs:
        for c in inv.candidates:
            if c not in lines:
                raise compile_error(m, "GRID041", f"unknown line '{c}'", inv.span)
            if c in owner:
                raise compile_error(m, "GRID040", f"line '{c}' is a candidate of both "
                                    f"'{owner[c]}' and '{inv.name}'", inv.span,
                                    help="list each line in one reinforcement investment")
            owner[c] = inv.name
    pinned = {inv.name for inv in invs} & fixed
    up = [float(x in owner and (owner[x] not in pinned or x in plan.reinforced))
          for x in lines]
    lo = [float(x in owner and owner[x] in pinned and x in plan.reinforced) for x in lines]
    coords = [b.idx.coords[LINE]]
    y = b.integer("reinforced", (LINE,), xr.DataArray(lo, coords=coords),
                    xr.DataArray(up, coords=coords), family="reinforcement", source=LINE)
    out.reinforced = y
    for k, inv in enumerate(invs):
        suffix = "" if len(invs) == 1 else f"_{k}"
        # one investment: Σ over every line (the others are fixed at 0), as always written
        count = y.sum() if len(invs) == 1 else y.sel({LINE: list(inv.candidates)}).sum()
        b.constrain(f"reinforced_max{suffix}", count, "<=", float(inv.count.max),
                    family="reinforcement", source=None,
                    levers=[Lever("investment count", "count_max", owner=inv.name)])
        if inv.count.min > 0:
            b.constrain(f"reinforced_min{suffix}", count, ">=", float(inv.count.min),
                        family="reinforcement", source=None,
                        levers=[Lever("investment count", "count_min", owner=inv.name,
                                      most=float(inv.count.min))])
        out.items.append(PricedItem("reinforcement", inv.name, inv.costs, count, "lines"))
