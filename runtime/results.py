"""Results: data first (an xarray Dataset and a JSON summary), views later.

`Result.dataset` holds the solution of every variable block of the compiled
model under its block name and labelled dims (see `gridc.compiler`), plus:

* `bus_v` [p.u.] over (scenario, time, bus): voltage magnitude √bus_w — the
  bus-indexed voltage to compare with AC power flows;
* `line_u` (0/1 line health, solved reinforcements in service), `energized` (1 where
  a bus is connected to the slack bus through such lines) and `probability` (per
  scenario), the data the solution depends on.

Each variable carries `unit` and `family` attributes. Without a usable solution
(infeasible, error, time limit without incumbent) the dataset is empty.

`Result.write(out_dir)` writes `solution.nc` and `summary.json` as a pair
(`gridc.runtime.ioutil.write_pair`): `summary.json` is the pair's manifest — it carries
the sha256 and size of `solution.nc` under "files" — and is renamed into place last,
as the commit. `read_summary(out_dir)` reads a summary back only if it vouches for
the `solution.nc` beside it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from gridc.compiler import CompiledModel
from gridc.compiler.core.index import BUS, SCENARIO, TIME
from gridc.compiler.core.scenarios import energized
from gridc.runtime.backend.solver import SolveOutcome, SolveStatus
from gridc.runtime.ioutil import read_pair, write_pair
from gridc.runtime.planning import cost_rows, decisions, line_status

SHED_BLOCKS = ("bus_shed_p", "load_shed_p")
#: the files of a written result: the data, then its manifest (written last)
SOLUTION, SUMMARY = "solution.nc", "summary.json"
RESULT_FILES = (SOLUTION, SUMMARY)


@dataclass
class Result:
    status: SolveStatus
    objective: float | None  # expected cost [CNY], including the objective constant
    bound: float | None  # dual bound [CNY], same basis
    gap: float | None  # relative gap (fraction)
    dataset: xr.Dataset
    costs: dict[str, float]  # expected cost per term [CNY]
    summary: dict[str, Any]
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status.ok

    def write(self, out_dir: str | Path) -> None:
        """Write `solution.nc` and `summary.json` into `out_dir` as a pair. A result
        without a solution is refused, so it cannot replace an earlier good one.

        Both files are written into a fresh staging folder `out_dir/.gridc-tmp-<random suffix>/`;
        then `solution.nc` is renamed into place and `summary.json`, which carries the
        sha256 and size of that `solution.nc` ("files"), is renamed after it: that one
        rename commits the pair. The guarantee, after an exception or Ctrl-C at any
        point: the old pair is in place (rolled back) or the new one (committed), and
        no temporary file remains. After a *kill* at any point: the old pair or the new
        pair is in place, except between the two renames, where the new `solution.nc`
        sits beside the old `summary.json` — detectably, since the summary's sha256 does
        not match it (`read_summary` refuses it), never an undetectable mix; the next
        write or `read_summary` of `out_dir` completes that pair from the staging
        folder and removes every stale temporary (`ioutil.recover_pair`)."""
        if not self.ok:
            raise ValueError(f"no solution to write (status {self.status.value})")
        summary = _jsonable(self.summary)
        json.dumps(summary)  # not JSON-serialisable: fail before writing anything
        ds = _netcdf_ready(self.dataset)
        write_pair(out_dir, SOLUTION, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"),
                   SUMMARY, summary)


def read_summary(out_dir: str | Path) -> dict[str, Any]:
    """The `summary.json` of a result written to `out_dir`, checked to describe the
    `solution.nc` beside it (raises `gridc.runtime.ioutil.MismatchedPair` otherwise)."""
    return read_pair(out_dir, SOLUTION, SUMMARY)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _netcdf_ready(ds: xr.Dataset) -> xr.Dataset:
    """netCDF has no booleans and no None attributes."""
    out = ds.copy()
    for name, var in out.data_vars.items():
        if var.dtype == bool:
            out[name] = var.astype("int8")
    out.attrs = {k: v for k, v in out.attrs.items() if v is not None}
    return out


# ---------------------------------------------------------------------- building


def solution_dataset(compiled: CompiledModel) -> xr.Dataset:
    """Every variable block's solution, `bus_v`, and the scenario data."""
    m = compiled.model
    data = {}
    for name, var in m.variables.items():
        sol = var.solution
        block = compiled.blocks.get(name)
        sol.attrs = {"unit": block.unit if block else "",
                     "family": block.family if block else "elastic slack"}
        data[name] = sol
    ds = xr.Dataset(data)
    if "bus_w" in ds:
        ds["bus_v"] = np.sqrt(ds["bus_w"].clip(min=0.0))
        ds["bus_v"].attrs = {"unit": "p.u.", "family": "voltage magnitude sqrt(bus_w)"}
    # line health with the solved reinforcement (a reinforced line stays in service)
    ds["line_u"] = line_status(compiled, ds)
    ds["energized"] = (compiled.energized if "reinforced" not in ds
                       else energized(compiled.index, ds["line_u"]))
    ds["probability"] = compiled.scenarios.probability
    ds.attrs = {"model": compiled.study.model.path, "study": compiled.study.name,
                "step_h": compiled.index.step_h}
    return ds


def _extreme(v: xr.DataArray, mask: xr.DataArray, which: str) -> dict[str, Any] | None:
    """Min or max of `v` over energised buses, with where and when it occurs."""
    masked = v.where(mask)
    if not bool(masked.notnull().any()):
        return None
    flat = masked.argmin(...) if which == "min" else masked.argmax(...)
    at = {d: int(i) for d, i in flat.items()}
    value = float(masked.isel(at))
    return {"v_pu": value, "bus": str(v[BUS].values[at[BUS]]),
            "scenario": str(v[SCENARIO].values[at[SCENARIO]]), "time": at[TIME]}


def build_summary(compiled: CompiledModel, outcome: SolveOutcome, ds: xr.Dataset,
                  costs: dict[str, float], by_scenario: dict[str, dict[str, float]],
                  objective: float | None, bound: float | None,
                  timings: dict[str, float]) -> dict[str, Any]:
    m = compiled.model
    prob = compiled.scenarios.probability
    summary: dict[str, Any] = {
        "model": compiled.study.model.path,
        "study": compiled.study.name or None,
        "status": outcome.status.value,
        "solver_status": outcome.solver_status,
        "message": outcome.message,
        "objective": objective, "bound": bound, "gap": outcome.gap,
        "costs": costs, "costs_by_scenario": by_scenario,
        "decisions": decisions(compiled, ds) if outcome.status.ok else {},
        "planning": cost_rows(compiled, costs, objective, bound),
        "timings": timings,
        "scenarios": {str(s): float(p) for s, p in zip(prob[SCENARIO].values, prob.values)},
        "size": {"variables": int(m.nvars), "constraints": int(m.ncons),
                 "binaries": int(m.binaries.nvars)},
        "notes": [],
        "formulation": compiled.formulation,
        "objective_kind": compiled.objective_kind,
    }
    if compiled.objective_kind == "cost":
        totals = compiled.pricing.totals(objective)
        summary["pricing"] = {
            "rule": compiled.pricing.rule,
            "objective_is": {"present_value": "present value over the economics life, CNY",
                             "annualised": "annual cost, CNY per year",
                             "daily": "expected cost of one day, CNY"}[compiled.pricing.rule],
            "present_value_cny": totals["present_value"],
            "annual_equivalent_cny_per_y": totals["annual_equivalent"]}
    if not outcome.status.ok:
        return summary
    dt = compiled.index.step_h
    shed = [ds[b].sum([d for d in ds[b].dims if d != SCENARIO]) * dt
            for b in SHED_BLOCKS if b in ds]
    per = sum(shed[1:], shed[0]) if shed else xr.zeros_like(prob)
    summary["shed"] = {
        "expected_kwh": float((per * prob).sum()),
        "by_scenario_kwh": {str(s): float(v) for s, v in zip(per[SCENARIO].values, per.values)},
    }
    if "bus_v" in ds:
        summary["voltage"] = {"min": _extreme(ds["bus_v"], ds["energized"], "min"),
                              "max": _extreme(ds["bus_v"], ds["energized"], "max")}
    return summary


def build_result(compiled: CompiledModel, outcome: SolveOutcome,
                 timings: dict[str, float]) -> Result:
    """Read the solution (if usable) off the solved linopy model."""
    ok = outcome.status.ok
    const, scale = compiled.objective_constant, compiled.objective_scale
    # the solver's objective is scale × (CNY or kWh) without the constant
    objective = (outcome.objective + const) / scale \
        if ok and outcome.objective is not None else None
    bound = (outcome.bound + const) / scale if outcome.bound is not None else None
    ds = solution_dataset(compiled) if ok else xr.Dataset()
    costs: dict[str, float] = {}
    by_scenario: dict[str, dict[str, float]] = {}
    if ok:
        costs = {k: float(e.solution) for k, e in compiled.costs.items()}
        for k, e in compiled.scenario_costs.items():
            sol = e.solution
            for s, v in zip(sol[SCENARIO].values, sol.values):
                by_scenario.setdefault(str(s), {})[k] = float(v)
    timings = {**timings, "solve_s": outcome.solve_s}
    if outcome.highs_s is not None:
        timings["highs_s"] = outcome.highs_s
    summary = build_summary(compiled, outcome, ds, costs, by_scenario, objective, bound,
                            timings)
    return Result(status=outcome.status, objective=objective, bound=bound, gap=outcome.gap,
                  dataset=ds, costs=costs, summary=summary, message=outcome.message,
                  timings=timings)
