"""The planning part of a result: the plan and the present-value cost rows.

`decisions(compiled, ds)` reads the solved plan: reinforced lines, mobile storage
units per type, EV battery packs per type and site and their capacity in kWh, with the
model's names of those investments (docs/case-resilience.md says which number of the
paper each one is). `cost_rows(compiled, costs, objective,
bound)` gives the rows of a present-value plan: installation, replacement and residual
(present values), annual maintenance and operation, and the equivalent annual cost
CRF × objective = CRF (C_ins + C_rep − C_rec) + C_om + C_op (CRF = 1 / PVF, see
`gridc.data.economics`).

`line_status(compiled, ds)` is the line health with the solved reinforcement
applied (u + (1 − u)·y): reports must use it, since a reinforced line stays in
service through its outages.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from gridc.compiler import CompiledModel
from gridc.compiler.core.index import LINE
from gridc.data.economics import capital_recovery_factor
from gridc.dsl import ir
from gridc.dsl import ir_planning as P


def line_status(compiled: CompiledModel, ds: xr.Dataset) -> xr.DataArray:
    """u[scenario, time, line] with solved reinforcements in service throughout."""
    u = compiled.scenarios.availability
    if "reinforced" not in ds:
        return u
    built = ds["reinforced"].reindex({LINE: u[LINE].values}, fill_value=0.0) > 0.5
    return xr.where(built, 1.0, u).transpose(*u.dims)


def investment_names(compiled: CompiledModel) -> dict[str, str]:
    """The model's own names of the investments behind the plan's entries (what views
    label them with): "reinforced", "mess" and "ev_packs" -> the `invest NAME` of the
    reinforcement, mobile storage and EV battery investments (several reinforcement
    investments share one decision block: their names joined)."""
    found: dict[str, list[str]] = {}
    kinds = {P.Reinforcement: "reinforced", P.MobileStorage: "mess", P.EvBattery: "ev_packs"}
    for inv in compiled.study.model.investments:
        for cls, key in kinds.items():
            if isinstance(inv, cls):
                found.setdefault(key, []).append(inv.name)
    return {k: ", ".join(v) for k, v in found.items()}


def decisions(compiled: CompiledModel, ds: xr.Dataset) -> dict[str, Any]:
    """The solved plan: reinforced lines, mobile storage units per type, EV battery packs
    per type and site, and under "names" the model's names of those investments."""
    out: dict[str, Any] = {}
    if "reinforced" in ds:
        y = ds["reinforced"]
        out["reinforced"] = [str(x) for x, v in zip(y[LINE].values, y.values) if v > 0.5]
    if "mess_units" in ds:
        n = ds["mess_units"]
        out["mess"] = {str(k): round(float(v)) for k, v in zip(n["mess_type"].values, n.values)}
    if "ev_packs" in ds:
        packs = ds["ev_packs"]
        sizes = {t.name: t.pack_kwh for inv in compiled.study.model.investments
                 if isinstance(inv, P.EvBattery) for t in inv.types}
        table = {str(k): {str(site): round(float(packs.sel(pack_type=k, ev_site=site)))
                          for site in packs["ev_site"].values}
                 for k in packs["pack_type"].values}
        out["ev_packs"] = table
        out["ev_capacity_kwh"] = float(sum(sizes.get(k, 0.0) * n
                                           for k, row in table.items() for n in row.values()))
    names = {k: v for k, v in investment_names(compiled).items() if k in out}
    if names:
        out["names"] = names
    return out


def cost_rows(compiled: CompiledModel, costs: dict[str, float], objective: float | None,
              bound: float | None) -> dict[str, Any] | None:
    """The present-value cost rows (CNY; maintenance and operation per year), or None
    without a present-value plan."""
    if "installation" not in costs:
        return None
    econ = compiled.study.model.economics or ir.Economics(span=compiled.study.model.span)
    crf = capital_recovery_factor(econ.discount, econ.life_y)
    return {
        "installation": costs["installation"],
        "replacement": costs["replacement"],
        "residual": costs["residual"],
        "maintenance_per_year": costs["maintenance"],
        "operation_per_year": costs["operation"],
        "crf": crf,
        "objective": objective,
        "total_comprehensive": None if objective is None else crf * objective,
        "total_comprehensive_bound": None if bound is None else crf * bound,
    }
