"""Results: data first (an xarray Dataset and a JSON summary), views later.

`Result.dataset` holds the solution of every variable block of the compiled
model under its block name and labelled dims (see `gridc.compiler`), plus:

* `bus_v` [p.u.] over (scenario, time, bus): voltage magnitude √bus_w — the
  bus-indexed voltage to compare with AC power flows;
* `line_u` (0/1 line health, solved reinforcements in service), `energized` (1 where
  a bus is connected to the slack bus through such lines) and `probability` (per
  scenario), the data the solution depends on;
* the network (`line_from_bus`, `line_to_bus`, `line_r_ohm`, `line_x_ohm`, ratings and
  lengths; `bus_x`, `bus_y` when the model gives coordinates), the inputs over
  (scenario, time, ·) — demand (`bus_demand_p`, `load_demand_p`, ...), generator
  availability (`gen_available_p`) and energy prices (`gen_energy_price`) — and the
  cost breakdown (`cost` over `cost_term`, `cost_by_scenario`) in the model's currency;
* the coordinates `hour` and `clock` over `time` and the scalar `step_h`.

Every variable carries CF attributes — `units` (pint parses them; money needs
`gridc.dsl.units.registry()`), `long_name`, `description` — see
`gridc.runtime.export` and docs/reading-results.md. Without a usable solution
(infeasible, error, time limit without incumbent) the dataset is empty.

`Result.write(out_dir)` writes `solution.nc` and `summary.json` as a pair
(`gridc.runtime.ioutil.write_pair`): `summary.json` is the pair's manifest — it carries
the sha256 and size of `solution.nc` under "files" — and is renamed into place last,
as the commit. `read_summary(out_dir)` reads a summary back only if it vouches for
the `solution.nc` beside it. `Result.write_tables(out_dir, "csv" | "xlsx")` writes the
same result as tables for spreadsheets (`gridc.runtime.export`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from gridc.compiler import CompiledModel
from gridc.compiler.core.index import BUS, GEN, LINE, LOAD, SCENARIO, TIME
from gridc.compiler.core.scenarios import energized
from gridc.compiler.families.generators import unit_energy_price as energy_price
from gridc.compiler.families.loads import demand
from gridc.compiler.formulations.pricing import PRESENT_VALUE_TERMS
from gridc.compiler.formulations.ratings import summary as rating_summary
from gridc.data.history import cluster_model, clustering_facts
from gridc.dsl import ir
from gridc.dsl.units import MONEY, factor
from gridc.runtime import ac_check
from gridc.runtime.backend.solver import SolveOutcome, SolveStatus
from gridc.runtime.export import DIM_WORDS, clock_labels, describe, write_tables
from gridc.runtime.ioutil import read_pair, write_pair
from gridc.runtime.planning import cost_rows, decisions, line_status
from gridc.runtime.status import Headline, Stage, combine

SHED_BLOCKS = ("bus_shed_p", "load_shed_p")
#: the files of a written result: the data, then its manifest (written last)
SOLUTION, SUMMARY = "solution.nc", "summary.json"
RESULT_FILES = (SOLUTION, SUMMARY)
#: version of the layout of summary.json and solution.nc (docs/reading-results.md): raised
#: when a field is removed or changes meaning, not when one is added
SCHEMA_VERSION = 1


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
    #: every stage of the run (`runtime.status`); status, gap and bound combine them
    stages: list[Stage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status.ok

    @property
    def interrupted(self) -> bool:
        """Stopped by the user (Ctrl-C): what is here is the best found before."""
        return self.status in (SolveStatus.interrupted, SolveStatus.interrupted_infeasible)

    def restage(self, stages: list[Stage]) -> None:
        """Replace the stages (a sub-case's own among those of every sub-case, say; the
        last one still this result's solve) and set the headline they give, here and
        in the summary (`runtime.status.combine`)."""
        head = combine(stages)
        self.stages = list(stages)
        self.status, self.gap, self.bound = head.status, head.gap, head.bound
        self.summary.update(status=head.status.value, gap=head.gap, bound=head.bound,
                            stopped_by=head.stopped_by, limited_by=head.limited_by,
                            stages=[st.as_dict() for st in stages])

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

    def write_tables(self, out_dir: str | Path, fmt: str) -> list[Path]:
        """Write the result's tables (`csv`: one file per table; `xlsx`: one workbook)
        into `out_dir` and name them in the summary under "tables". Call it before
        `write`, so that the summary.json committed last lists the tables written with
        it (`gridc.runtime.export.write_tables`; raises its `ExportError`)."""
        if not self.ok:
            raise ValueError(f"no solution to write (status {self.status.value})")
        paths = write_tables(self.dataset, _jsonable(self.summary), out_dir, fmt)
        self.summary["tables"] = [p.name for p in paths]
        return paths


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


def currency_of(model: ir.Model) -> dict[str, Any]:
    """summary["currency"] of `model`: the unit `economics { currency ... }` names
    (default CNY) and how many CNY one unit is. Amounts are stored in CNY."""
    unit = model.economics.currency if model.economics is not None else "CNY"
    return {"unit": unit, "cny_per_unit": factor(unit, MONEY)}


def currency(compiled: CompiledModel) -> tuple[str, float]:
    """(the model's currency unit, CNY per unit of it) of a compiled study."""
    cur = currency_of(compiled.study.model)
    return cur["unit"], cur["cny_per_unit"]


def _version() -> str:
    try:
        return metadata.version("gridc")
    except metadata.PackageNotFoundError:
        return "unknown"


def solution_dataset(compiled: CompiledModel) -> xr.Dataset:
    """Every variable block's solution, `bus_v`, the scenario data, the network and the
    inputs, each with its CF attributes."""
    m = compiled.model
    data = {}
    for name, var in m.variables.items():
        sol = var.solution
        block = compiled.blocks.get(name)
        dims = [str(d) for d in sol.dims]
        sol.attrs = describe(name, unit=block.unit if block else "",
                             family=block.family if block else "solver auxiliary",
                             source=block.source if block else None, dims=dims)
        data[name] = sol
    ds = xr.Dataset(data)
    if "bus_w" in ds:
        ds["bus_v"] = np.sqrt(ds["bus_w"].clip(min=0.0))
        ds["bus_v"].attrs = describe("bus_v", unit="p.u.", family="voltage magnitude",
                                     source=BUS, dims=list(ds["bus_v"].dims),
                                     note="The square root of bus_w.")
    # line health with the solved reinforcement (a reinforced line stays in service)
    ds["line_u"] = line_status(compiled, ds)
    ds["line_u"].attrs = describe(
        "line_u", unit="", long_name="line in service (1) or out or open (0)", source=LINE,
        dims=list(ds["line_u"].dims),
        note="Outages and open ties of the scenario, with solved reinforcements in service.")
    ds["energized"] = (compiled.energized if "reinforced" not in ds
                       else energized(compiled.index, ds["line_u"]))
    ds["energized"].attrs = describe(
        "energized", unit="", long_name="bus connected to the slack bus (1) or islanded (0)",
        source=BUS, dims=list(ds["energized"].dims),
        note="Through the lines in service (line_u); voltages of islanded buses float.")
    ds["probability"] = compiled.scenarios.probability
    ds["probability"].attrs = describe("probability", unit="",
                                       long_name="probability of the scenario",
                                       source=SCENARIO, dims=[SCENARIO])
    ds = ds.merge(network_data(compiled)).merge(input_data(compiled))
    _time_coordinates(ds, compiled)
    _source_coordinates(ds, compiled)
    model = compiled.study.model
    unit, _ = currency(compiled)
    ds.attrs = {"Conventions": "CF-1.10",
                "title": f"gridc result of {model.name}"
                         + (f", study {compiled.study.name}" if compiled.study.name else ""),
                "source": f"gridc {_version()}",
                "references": "docs/reading-results.md",
                "model": compiled.study.model.path, "study": compiled.study.name,
                "step_h": compiled.index.step_h, "formulation": compiled.formulation,
                "objective_kind": compiled.objective_kind, "currency": unit,
                "network": compiled.index.network.name,
                "base_kv": compiled.index.base_kv, "base_kva": compiled.index.base_kva,
                "slack_bus": compiled.index.slack_bus, "schema_version": SCHEMA_VERSION}
    return ds


def network_data(compiled: CompiledModel) -> xr.Dataset:
    """The network as variables over `line` and `bus` (what a plotting script needs)."""
    net = compiled.index.network
    lines, buses = compiled.index.coords[LINE], compiled.index.coords[BUS]

    def per_line(name: str, values: list[Any], unit: str, long: str,
                 note: str = "") -> xr.DataArray:
        return xr.DataArray(values, coords=[lines], dims=[LINE],
                            attrs=describe(name, unit=unit, long_name=long, source=LINE,
                                           dims=[LINE], note=note))

    nan = float("nan")
    out = {
        "line_from_bus": per_line("line_from_bus", [ln.from_bus for ln in net.lines], "",
                                  "bus label of the line's from end"),
        "line_to_bus": per_line("line_to_bus", [ln.to_bus for ln in net.lines], "",
                                "bus label of the line's to end"),
        "line_r_ohm": per_line("line_r_ohm", [ln.r_ohm for ln in net.lines], "ohm",
                               "series resistance"),
        "line_x_ohm": per_line("line_x_ohm", [ln.x_ohm for ln in net.lines], "ohm",
                               "series reactance"),
        "line_rating_kva": per_line(
            "line_rating_kva", [nan if ln.rating_kva is None else ln.rating_kva
                                for ln in net.lines], "kVA", "thermal rating",
            "NaN: the model gives none."),
        "line_length_km": per_line(
            "line_length_km", [nan if ln.length_km is None else ln.length_km
                               for ln in net.lines], "km", "length",
            "NaN: the model gives none."),
        "line_normally_open": per_line(
            "line_normally_open", [np.int8(ln.normally_open) for ln in net.lines], "",
            "tie line, open in the base case (1) or closed (0)"),
    }
    for s in ("line_from_bus", "line_to_bus"):  # plain labels, no unit
        del out[s].attrs["units"]
    if any(b.x_km is not None or b.y_km is not None for b in net.buses):
        for axis in ("x", "y"):
            values = [nan if getattr(b, f"{axis}_km") is None else getattr(b, f"{axis}_km")
                      for b in net.buses]
            out[f"bus_{axis}"] = xr.DataArray(
                values, coords=[buses], dims=[BUS],
                attrs=describe(f"bus_{axis}", unit="km", long_name=f"{axis} coordinate",
                               source=BUS, dims=[BUS],
                               note="As the model gives it; NaN where it gives none."))
    return xr.Dataset(out)


def input_data(compiled: CompiledModel) -> xr.Dataset:
    """The inputs the solution answers: demand per bus and per load, generator
    availability and energy prices, over (scenario, time, ·)."""
    b = compiled.builder
    bus_p, bus_q, load_p, load_q = demand(b)
    loads = compiled.index.loads
    at_bus = compiled.index.at_bus(LOAD, [ld.bus for ld in loads])
    unit, per = currency(compiled)
    out: dict[str, xr.DataArray] = {}

    def put(name: str, value: xr.DataArray, unit: str, long: str, source: str,
            note: str = "") -> None:
        value = value.transpose(SCENARIO, TIME, source)
        value.attrs = describe(name, unit=unit, long_name=long, source=source,
                               dims=list(value.dims), note=note)
        out[name] = value

    note = "Bus loads of the network table plus the load statements at the bus."
    put("bus_demand_p", bus_p + xr.dot(at_bus, load_p, dim=LOAD), "kW",
        "active power demand at the bus", BUS, note)
    put("bus_demand_q", bus_q + xr.dot(at_bus, load_q, dim=LOAD), "kvar",
        "reactive power demand at the bus", BUS, note)
    if loads:
        put("load_demand_p", load_p, "kW", "active power demand of the load", LOAD,
            "Included in bus_demand_p of its bus.")
        put("load_demand_q", load_q, "kvar", "reactive power demand of the load", LOAD)
    if "gen_p" in compiled.model.variables:
        upper = compiled.model.variables["gen_p"].upper
        put("gen_available_p", upper.where(np.isfinite(upper)), "kW",
            "available active power (upper limit of gen_p)", GEN,
            "Capacity × profile × scenario scaling; NaN: no limit (the grid import).")
        gens = compiled.index.generators
        price = b.stacked([energy_price(b, g) for g in gens], GEN) / per
        put("gen_energy_price", price, f"{unit}/kWh", "energy price of the output", GEN,
            "Fuel price, or the grid purchase price for grid units.")
    return xr.Dataset(out)


def _time_coordinates(ds: xr.Dataset, compiled: CompiledModel) -> None:
    """`hour` and `clock` over `time`, `step_h`, and the attributes of `time` itself."""
    if TIME not in ds.dims:
        return
    steps, dt = compiled.index.steps, compiled.index.step_h
    ds[TIME].attrs = {"long_name": "time step", "units": "1",
                      "description": f"Step index: step k covers hours [k·{dt:g}, "
                                     f"(k+1)·{dt:g}) of the horizon (coordinates hour, "
                                     "clock)."}
    ds.coords["hour"] = (TIME, np.arange(steps) * dt, {
        "long_name": "start of the time step", "units": "hours",
        "description": "Hours from the start of the horizon (00:00) to the start of the "
                       "step."})
    ds.coords["clock"] = (TIME, clock_labels(steps, dt), {
        "long_name": "clock time at the start of the step",
        "description": "hh:mm (dN hh:mm for day N of a horizon longer than a day)."})
    ds["step_h"] = xr.DataArray(dt, attrs={"units": "hours", "long_name": "time step length",
                                           "description": "Length of each time step."})


def _source_coordinates(ds: xr.Dataset, compiled: CompiledModel) -> None:
    """`<dim>_source`: where each label of bus, line, gen, ... was written (file:line)."""
    for dim, spans in compiled.index.spans.items():
        if dim not in ds.dims:
            continue
        labels = [str(x) for x in ds[dim].values]
        where = [f"{spans[x].file}:{spans[x].line}" if x in spans else "" for x in labels]
        ds.coords[f"{dim}_source"] = (dim, where, {
            "long_name": f"where each {dim} label is written in the model",
            "description": "file:line of the statement or table row behind the label."})


#: long names of the coordinates that are not component labels
COORD_NAMES = {"cost_term": "cost term", "cost_basis": "how the cost term is counted",
               "daily_term": "daily cost term"}


def _name_coordinates(ds: xr.Dataset) -> None:
    """A `long_name` (and description) for every coordinate that has none: the
    component labels (bus, line, gen, ...) and the cost terms."""
    for name, coord in ds.coords.items():
        if "long_name" in coord.attrs:
            continue
        key = str(name)
        words = DIM_WORDS.get(key)
        coord.attrs["long_name"] = COORD_NAMES.get(key, f"{key.replace('_', ' ')} label")
        if words:
            coord.attrs["description"] = f"Labels: {words}."
        if coord.dtype.kind in "iuf" and "units" not in coord.attrs:
            coord.attrs["units"] = "1"  # numbered labels (cone levels, commodities, ...)


def cost_basis(term: str, rule: str) -> str:
    """How a cost term is counted: per day, per year or a present value."""
    if rule == "daily" or term.startswith("daily_"):
        return "per day (expected)"
    if term in PRESENT_VALUE_TERMS:
        return "present value"
    return "per year"


def cost_data(compiled: CompiledModel, costs: dict[str, float],
              by_scenario: dict[str, dict[str, float]]) -> xr.Dataset:
    """The cost breakdown in the model's currency: `cost` over `cost_term` (with its
    basis) and `cost_by_scenario` (the daily terms of each scenario)."""
    unit, per = currency(compiled)
    out: dict[str, xr.DataArray] = {}
    terms = [k for k in costs if not k.endswith("_kwh")]
    rule = compiled.pricing.rule
    if terms:
        da = xr.DataArray([costs[k] / per for k in terms], coords={"cost_term": terms},
                          dims=["cost_term"])
        da = da.assign_coords(cost_basis=("cost_term", [cost_basis(k, rule) for k in terms]))
        da.attrs = describe("cost", unit=unit, long_name="cost by term", dims=["cost_term"],
                            note="Each term counted as its cost_basis says: per day "
                                 "(expected over the scenarios), per year or a present "
                                 "value.")
        out["cost"] = da
    if by_scenario:
        names = list(dict.fromkeys(k for row in by_scenario.values() for k in row))
        scen = list(by_scenario)
        values = [[by_scenario[s].get(k, 0.0) / per for k in names] for s in scen]
        out["cost_by_scenario"] = xr.DataArray(
            values, coords={SCENARIO: scen, "daily_term": names},
            dims=[SCENARIO, "daily_term"],
            attrs=describe("cost_by_scenario", unit=unit,
                           long_name="cost of one day in the scenario", source=SCENARIO,
                           dims=[SCENARIO, "daily_term"]))
    for key in (k for k in costs if k.endswith("_kwh")):
        out[f"expected_{key.removesuffix('_kwh')}"] = xr.DataArray(
            costs[key], attrs=describe(key, unit="kWh", long_name=f"expected {key} per day",
                                       note="Probability-weighted over the scenarios."))
    return xr.Dataset(out)


def _extreme(v: xr.DataArray, mask: xr.DataArray, which: str,
             clocks: list[str], step_h: float) -> dict[str, Any] | None:
    """Min or max of `v` over energised buses, with where and when it occurs."""
    masked = v.where(mask)
    if not bool(masked.notnull().any()):
        return None
    flat = masked.argmin(...) if which == "min" else masked.argmax(...)
    at = {d: int(i) for d, i in flat.items()}
    value = float(masked.isel(at))
    return {"v_pu": value, "bus": str(v[BUS].values[at[BUS]]),
            "scenario": str(v[SCENARIO].values[at[SCENARIO]]), "time": at[TIME],
            "hour": at[TIME] * step_h, "clock": clocks[at[TIME]]}


def objective_is(compiled: CompiledModel) -> tuple[str, str]:
    """(what the objective is, the unit of summary["objective"]: CNY, CNY/y or CNY/day —
    the summary stores money in CNY whatever the model's currency — or kWh/day)."""
    if compiled.objective_kind == "losses":
        return "expected line losses of one day", "kWh/day"
    rule = compiled.pricing.rule
    if rule == "present_value":
        life = compiled.pricing.horizon_y
        return f"present value over the {life:g}-year economics life", "CNY"
    if rule == "annualised":
        return "annual cost (annualised investment, maintenance and operation)", "CNY/y"
    return "expected cost of one day", "CNY/day"


def build_summary(compiled: CompiledModel, outcome: SolveOutcome, ds: xr.Dataset,
                  costs: dict[str, float], by_scenario: dict[str, dict[str, float]],
                  objective: float | None, bound: float | None,
                  timings: dict[str, float], stages: list[Stage] | None = None
                  ) -> dict[str, Any]:
    """The JSON summary. Status, gap and bound are the headline of `stages` (see
    `runtime.status`; default: the one solve of `outcome`), listed under "stages"."""
    m = compiled.model
    prob = compiled.scenarios.probability
    stages = stages or [Stage.of("solve", outcome, constant=compiled.objective_constant,
                                 scale=compiled.objective_scale)]
    head = combine(stages)
    what, what_unit = objective_is(compiled)
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "model": compiled.study.model.path,
        "study": compiled.study.name or None,
        "status": head.status.value,
        "solver_status": outcome.solver_status,
        "message": outcome.message,
        "objective": objective, "bound": head.bound, "gap": head.gap,
        "stopped_by": head.stopped_by, "limited_by": head.limited_by,
        "stages": [st.as_dict() for st in stages],
        "objective_is": what, "objective_unit": what_unit,
        "currency": currency_of(compiled.study.model),
        "horizon": {"steps": compiled.index.steps, "step_h": compiled.index.step_h},
        "costs": costs, "costs_by_scenario": by_scenario,
        "decisions": decisions(compiled, ds) if outcome.status.ok else {},
        "planning": cost_rows(compiled, costs, objective, head.bound),
        "timings": timings,
        "scenarios": {str(s): float(p) for s, p in zip(prob[SCENARIO].values, prob.values)},
        "size": {"variables": int(m.nvars), "constraints": int(m.ncons),
                 "binaries": int(m.binaries.nvars),  # declared binary
                 "integers": int(m.integers.nvars)},  # general integers (0..1 included)
        "notes": [],
        "formulation": compiled.formulation,
        "objective_kind": compiled.objective_kind,
        # apparent-power ratings as a polygon: sides, fit and worst-case overshoot
        "ratings": rating_summary(compiled.builder),
    }
    sset = compiled.study.scenario_set
    if sset is not None and sset.history is not None and sset.history.events:
        # how the scenarios came from the history (k-means inertia, or no clustering);
        # clustering again is deterministic and takes milliseconds
        summary["clustering"] = clustering_facts(
            sset, cluster_model(compiled.study.model, sset.history))
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
    per_s = sum(shed[1:], shed[0]) if shed else xr.zeros_like(prob)
    summary["shed"] = {
        "expected_kwh": float((per_s * prob).sum()),
        "by_scenario_kwh": {str(s): float(v) for s, v in zip(per_s[SCENARIO].values,
                                                              per_s.values)},
    }
    if "bus_v" in ds:
        clocks = clock_labels(compiled.index.steps, dt)
        summary["voltage"] = {"min": _extreme(ds["bus_v"], ds["energized"], "min", clocks, dt),
                              "max": _extreme(ds["bus_v"], ds["energized"], "max", clocks, dt)}
    return summary


def build_result(compiled: CompiledModel, outcome: SolveOutcome,
                 timings: dict[str, float], stages: list[Stage] | None = None) -> Result:
    """Read the solution (if usable) off the solved linopy model. `stages`: every stage
    of the run, the last one `outcome`'s (default: that one solve); the result's
    status, gap and bound are their headline (`runtime.status.combine`)."""
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
        ds = ds.merge(cost_data(compiled, costs, by_scenario), combine_attrs="override")
    timings = {**timings, "solve_s": outcome.solve_s}
    if outcome.highs_s is not None:
        timings["highs_s"] = outcome.highs_s
    stages = stages or [Stage.of("solve", outcome, constant=const, scale=scale)]
    summary = build_summary(compiled, outcome, ds, costs, by_scenario, objective, bound,
                            timings, stages)
    if ok:  # the AC power flow of the solved plan, in the dataset and the summary
        ds, summary["ac_check"] = ac_check.attach(compiled, ds)
    _name_coordinates(ds)  # every coordinate named, whatever added it
    head = headline_of(summary)
    return Result(status=head.status, objective=objective, bound=head.bound, gap=head.gap,
                  dataset=ds, costs=costs, summary=summary, message=outcome.message,
                  timings=timings, stages=list(stages))


def headline_of(summary: dict[str, Any]) -> Headline:
    """The headline fields of a summary (as `build_summary` wrote them)."""
    return Headline(SolveStatus(summary["status"]), summary.get("gap"), summary.get("bound"),
                    summary.get("stopped_by"), summary.get("limited_by"))
