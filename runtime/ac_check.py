"""AC verification of a solved plan: an exact AC power flow of the solved dispatch.

Why: the models are linear (LinDistFlow) or relaxed (DistFlow's cone, lowered to
polygons); their voltages sit above the AC ones by an amount that depends on the network
(0.003 p.u. on the 33-bus feeder, 0.009 p.u. on CIGRE MV: issue #14), so a 0.95 p.u.
limit can hold in the model and fail in reality. After every successful solve
`ac_check(compiled, ds)` runs the AC power flow of every scenario × step with the
injections the model decided and the line states it solved, and reports next to the
model's own figures: AC voltages, line loadings, losses, and every limit the plan
violates in AC (bus or line, scenario, step, by how much).

What is held fixed, what is solved:

* every bus injects the net power of the model's nodal balance (generators, storage,
  mobile storage, EV batteries, stations, DG, minus the demand served — demand minus
  shed), read off the solved balance itself (`net_injection`), so whatever family a
  model contains is checked without listing it here;
* the slack bus holds the model's slack voltage and supplies the network's AC losses
  (its injection is the AC result, not the model's);
* lines in service are those of the solution (`LineStates.in_service`: outages, solved
  reinforcements, built lines and closed ties), with what the model has too: transformer
  ratios, cable charging, magnetising branches and shunt banks (`compiler.core.branches`);
  closed switches fuse their buses. The power flow itself is `runtime.ac_flow`.

Islands (an outage cutting buses off the slack): an island whose buses neither inject
nor serve load is *not supplied* — its voltages are NaN, not checked. An island with
local supply (storage, MESS, DG) has no slack; its bus with the largest local supply
becomes the island's reference — a grid-forming unit — and holds the model's voltage
at that bus, supplying the island's losses as the slack does for the main network.
The model lets an island's voltage level float within limits, so the check measures
the drops within the island relative to that reference; voltage findings in islands
are flagged (`island`) in the violations table.

The solver, vectorised over every (scenario, step) at once: the snapshots are stacked
into one network of disconnected copies (snapshot n's bus b is node n·B + b), so one
graph search, one sweep or one sparse Jacobian serves them all and no Python loop runs
over scenarios, steps or buses. Snapshots whose supplied parts are radial are solved by
the backward/forward sweep, level by level of the trees' depth (`_sweep`); meshed
snapshots (a closed tie), and any whose sweep does not converge, by Newton-Raphson in
polar form (sparse Jacobian, scipy's SuperLU). The number of iterations is the slowest
snapshot's, since all run together. A snapshot that neither method solves is reported
`not converged`.

Outputs: the `ac_*` variables of the solution dataset (AC voltages, bus states, line
flows and loadings, losses, method, the violations table over `ac_violation`) and
`summary["ac_check"]`, both described in docs/ac-check.md.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from gridc.compiler import CompiledModel
from gridc.compiler.core.branches import branches
from gridc.compiler.core.index import BUS, LINE, LOAD, SCENARIO, TIME
from gridc.compiler.core.rows import Rows, total
from gridc.compiler.families.loads import demand
from gridc.compiler.formulations.lindistflow import voltage_limits
from gridc.runtime.ac_flow import (
    FAILED,
    ISLAND,
    NEWTON,
    NOT_SUPPLIED,
    SWEEP,
    AcFlow,
    AcNetwork,
    power_flow,
)
from gridc.runtime.export import clock_labels, describe

#: a bus injects or serves load above this [kW or kvar]: below it is solver noise
ACTIVE_KW = 1e-3
#: a limit is reported violated above this excess: voltages [p.u.], ratings [fraction]
V_TOL, S_TOL = 1e-6, 1e-6
VIOLATION = "ac_violation"
BUS_DIMS, LINE_DIMS = (SCENARIO, TIME, BUS), (SCENARIO, TIME, LINE)

#: whether `build_result` runs the check (`Problem.solve(ac_check=False)` turns it off)
ENABLED: ContextVar[bool] = ContextVar("gridc_ac_check", default=True)


@contextlib.contextmanager
def enabled(on: bool) -> Iterator[None]:
    """Run the AC check after solves inside the block (or not)."""
    token = ENABLED.set(on)
    try:
        yield
    finally:
        ENABLED.reset(token)


# ---------------------------------------------------------------------- the solved model


def _solution_by_label(compiled: CompiledModel) -> np.ndarray:
    """Every variable's solution as one vector indexed by linopy label."""
    variables = [var for _, var in compiled.model.variables.items()]
    x = np.zeros(1 + max((int(v.labels.values.max()) for v in variables), default=-1))
    for var in variables:
        labels = var.labels.values.ravel()
        keep = labels >= 0
        x[labels[keep]] = var.solution.values.ravel()[keep]
    return x


def net_injection(compiled: CompiledModel) -> tuple[xr.DataArray, xr.DataArray]:
    """[scenario, time, bus] active [kW] and reactive [kvar] power each bus sends into
    the network at the solution: the network side of the solved nodal balance (Σ
    injections + shed − demand = outflow), so every family's injection is included."""
    grid = compiled.builder.grid(*BUS_DIMS)
    x = _solution_by_label(compiled)
    out = []
    for part in (compiled.flow.outflow_p, compiled.flow.outflow_q):
        rows = part if isinstance(part, Rows) else total(grid, [part])
        row, var, coef = rows.triplets()
        values = np.bincount(row, weights=coef * x[var], minlength=grid.size)
        if rows.const is not None:
            values = values + rows.const.ravel()
        out.append(xr.DataArray(values.reshape(grid.shape), dims=grid.dims,
                                coords=dict(zip(grid.dims, grid.indexes, strict=True))))
    # (the outflow rows hold the shunts' g·w and b·w, but their value is the sources'
    # side of the balance: the AC flow models the shunts itself)
    return out[0], out[1]


def served_load(compiled: CompiledModel, ds: xr.Dataset) -> xr.DataArray:
    """[scenario, time, bus] active demand served [kW]: bus loads and `load` components
    minus what the solution sheds."""
    bus_p, _, load_p, _ = demand(compiled.builder)
    at = compiled.index.at_bus(LOAD, [ld.bus for ld in compiled.index.loads])
    served = bus_p + xr.dot(at, load_p, dim=LOAD)
    if "bus_shed_p" in ds:
        served = served - ds["bus_shed_p"]
    if "load_shed_p" in ds:
        served = served - xr.dot(at, ds["load_shed_p"], dim=LOAD)
    return served.transpose(*BUS_DIMS)


def ratings(compiled: CompiledModel) -> np.ndarray:
    """Rating [kVA] per branch where it or the network's cable gives one, else NaN."""
    r = branches(compiled.index).rating.values
    return np.where(np.isfinite(r), r, np.nan)


@dataclass
class AcCheck:
    """What the check adds: dataset variables and the summary section."""

    dataset: xr.Dataset
    summary: dict[str, Any]


def flow_inputs(compiled: CompiledModel, ds: xr.Dataset) -> tuple[AcNetwork, dict[str, Any]]:
    """The arguments of `power_flow` for a solved model: the network in per unit and,
    over the snapshots (scenario × step, flattened), s, on, v_set, supply and active."""
    idx = compiled.index
    net = idx.network
    buses = idx.coords[BUS]
    p, q = net_injection(compiled)
    p = p.where(np.abs(p) > ACTIVE_KW, 0.0)
    q = q.where(np.abs(q) > ACTIVE_KW, 0.0)
    served = served_load(compiled, ds)
    n, nb = p.shape[0] * p.shape[1], p.shape[2]
    slack = int(buses.get_loc(net.slack_bus))
    v_set = (ds["bus_v"].transpose(*BUS_DIMS).values.reshape(n, nb).copy()
             if "bus_v" in ds else np.full((n, nb), net.slack_v_pu))
    v_set[~np.isfinite(v_set)] = net.slack_v_pu
    v_set[:, slack] = net.slack_v_pu
    br = branches(idx)
    ac_net = AcNetwork(
        fr=buses.get_indexer([ln.from_bus for ln in net.lines]),
        to=buses.get_indexer([ln.to_bus for ln in net.lines]),
        z=br.r_pu.values + 1j * br.x_pu.values, slack=slack, tau=br.tau.values,
        y_from=br.g_from.values + 1j * br.b_from.values,
        y_to=br.g_to.values + 1j * br.b_to.values,
        y_bus=br.g_bus.values + 1j * br.b_bus.values, switch=br.switch.values)
    return ac_net, {
        "s": (p.values + 1j * q.values).reshape(n, nb) / idx.base_kva,
        "on": compiled.flow.states.in_service().transpose(*LINE_DIMS).values.reshape(n, -1),
        "v_set": v_set, "supply": (p + served).values.reshape(n, nb),
        "active": served.values.reshape(n, nb) > ACTIVE_KW}


def ac_check(compiled: CompiledModel, ds: xr.Dataset) -> AcCheck:
    """The AC power flow of the solved dispatch in every scenario and step, compared
    with the model's figures (module docstring). `ds` is the solution dataset."""
    started = time.perf_counter()
    net, inputs = flow_inputs(compiled, ds)
    flow = power_flow(net, **inputs)
    data = _dataset(compiled, flow, net)
    data = data.merge(_violations(compiled, ds, data))
    summary = _summary(compiled, ds, data, flow)
    summary["time_s"] = time.perf_counter() - started
    return AcCheck(data, summary)


def _array(values: np.ndarray, coords: dict[str, Any], name: str, unit: str, long: str,
           note: str = "") -> xr.DataArray:
    """A variable of the check over `coords` (dims in their order), with CF attributes."""
    dims = list(coords)
    return xr.DataArray(values.reshape([len(c) for c in coords.values()]), coords=coords,
                        dims=dims, attrs=describe(name, unit=unit, long_name=long,
                                                  family="AC check", dims=dims, note=note,
                                                  source=next((d for d in dims if d in (
                                                      BUS, LINE)), None)))


def _dataset(compiled: CompiledModel, flow: AcFlow, net: AcNetwork) -> xr.Dataset:
    """The check's variables over (scenario, time[, bus or line])."""
    c = compiled.index.coords
    st = {SCENARIO: c[SCENARIO], TIME: c[TIME]}
    at_bus, at_line = {**st, BUS: c[BUS]}, {**st, LINE: c[LINE]}
    v_end = np.nan_to_num(flow.v, nan=0.0)  # not-supplied buses: no current flows there
    i_to = flow.current if flow.current_to is None else flow.current_to
    s_from = v_end[:, net.fr] * np.conj(flow.current) * compiled.index.base_kva
    s_to = v_end[:, net.to] * np.conj(i_to) * compiled.index.base_kva
    s_from[flow.method == FAILED] = s_to[flow.method == FAILED] = np.nan
    apparent = np.maximum(np.abs(s_from), np.abs(s_to))
    out = {
        "ac_v": _array(np.abs(flow.v), at_bus, "ac_v", "p.u.", "AC voltage magnitude",
                       "AC power flow of the solved injections; NaN where the bus is not "
                       "supplied (ac_bus_state 0) or the flow did not converge."),
        "ac_bus_state": _array(flow.state, at_bus, "ac_bus_state", "",
                               "how the AC check treats the bus",
                               "0 not supplied (not checked), 1 fed by the slack, 2 in an "
                               "island with local supply, 3 the island's reference bus "
                               "(holds the model's voltage)."),
        "ac_line_p": _array(s_from.real, at_line, "ac_line_p", "kW",
                            "AC active power at the from end, from → to"),
        "ac_line_q": _array(s_from.imag, at_line, "ac_line_q", "kvar",
                            "AC reactive power at the from end, from → to"),
        "ac_line_s": _array(apparent, at_line, "ac_line_s", "kVA",
                            "AC apparent power, the larger of both ends"),
        "ac_loading": _array(apparent / ratings(compiled), at_line, "ac_loading", "",
                             "AC loading: apparent power over the rating",
                             "NaN where neither the line nor the network's cable has a "
                             "rating."),
        "ac_losses_kw": _array((s_from - s_to).real.sum(axis=1), st, "ac_losses_kw", "kW",
                               "AC losses of the network's branches (series, and the "
                               "shunt conductance of transformers)"),
        "ac_method": _array(flow.method, st, "ac_method", "",
                            "how the AC power flow was solved",
                            "0 backward/forward sweep (radial), 1 Newton-Raphson (meshed, "
                            "or the sweep did not converge), -1 not converged."),
    }
    out["ac_bus_state"].attrs.update(flag_values=[0, 1, 2, 3], flag_meanings=(
        "not_supplied from_slack island island_reference"))
    out["ac_method"].attrs.update(flag_values=[-1, 0, 1],
                                  flag_meanings="not_converged sweep newton")
    return xr.Dataset(out)


#: the columns of the violations table and what they hold
COLUMNS = {
    "kind": "what is violated: voltage_low, voltage_high or line_rating",
    "element": "the bus (voltages) or the line (ratings)",
    "scenario": "the scenario", "time": "the time step",
    "clock": "clock time at the start of the step",
    "value": "the AC value (unit in ac_violation_unit)",
    "limit": "the limit (unit in ac_violation_unit)",
    "excess": "by how much the AC value passes the limit (unit in ac_violation_unit)",
    "unit": "unit of value, limit and excess: p.u. or kVA",
    "model": "the model's own figure: bus_v, or the apparent power of line_p and line_q",
    "island": "the bus lies in an island (its voltage level is the model's at the "
              "island's reference bus)",
}


def _violations(compiled: CompiledModel, ds: xr.Dataset, ac: xr.Dataset) -> xr.Dataset:
    """Every limit the AC solution violates, worst first (excess relative to the
    limit): voltage below v_min or above v_max (not at the slack, the reference) and
    apparent power above the rating."""
    idx = compiled.index
    w_lo, w_up = voltage_limits(compiled.builder)
    slack = (idx.coords[BUS] == idx.slack_bus)
    lo = np.where(slack, np.nan, np.sqrt(w_lo.values))
    up = np.where(slack, np.nan, np.sqrt(w_up.values))
    v = ac["ac_v"].values
    s = ac["ac_line_s"].values
    rating = ratings(compiled)
    model_v = ds["bus_v"].transpose(*BUS_DIMS).values if "bus_v" in ds else np.nan * v
    model_s = (np.hypot(ds["line_p"].transpose(*LINE_DIMS).values,
                        ds["line_q"].transpose(*LINE_DIMS).values)
               if "line_q" in ds else np.nan * s)
    island = ac["ac_bus_state"].values >= ISLAND
    checks = (("voltage_low", lo - v, lo, v, model_v, island, BUS, "p.u.", V_TOL),
              ("voltage_high", v - up, up, v, model_v, island, BUS, "p.u.", V_TOL),
              ("line_rating", s - rating, rating, s, model_s, np.zeros(s.shape, bool), LINE,
               "kVA", S_TOL * rating))
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (*COLUMNS, "severity")}
    for kind, excess, limit, value, model, isl, dim, unit, tol in checks:
        with np.errstate(invalid="ignore"):
            at = np.nonzero(np.nan_to_num(excess, nan=-np.inf) > tol)
        si, ti, ei = at
        limits = np.broadcast_to(limit, excess.shape)[at]
        row = {"kind": np.full(si.size, kind), "element": np.asarray(idx.coords[dim])[ei],
               "scenario": np.asarray(idx.coords[SCENARIO])[si], "time": ti,
               "clock": np.asarray(clock_labels(idx.steps, idx.step_h))[ti],
               "value": value[at], "limit": limits, "excess": excess[at],
               "unit": np.full(si.size, unit), "model": model[at], "island": isl[at],
               "severity": excess[at] / limits}
        for key, values in row.items():
            cols[key].append(np.asarray(values))
    table = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.argsort(-table.pop("severity"), kind="stable")
    note = ("One row per limit violated in AC, the worst (largest excess relative to the "
            "limit) first.")
    out = {}
    for key, long in COLUMNS.items():
        values = table[key][order]
        name = f"{VIOLATION}_{key}"
        out[name] = xr.DataArray(values.astype(str) if values.dtype.kind in "OU" else values,
                                 dims=[VIOLATION], attrs=describe(
                                     name, unit="", long_name=long, family="AC check",
                                     dims=[VIOLATION], note=note))
    return xr.Dataset(out, coords={VIOLATION: np.arange(order.size)})


def _summary(compiled: CompiledModel, ds: xr.Dataset, ac: xr.Dataset,
             flow: AcFlow) -> dict[str, Any]:
    """The `ac_check` section of summary.json (docs/ac-check.md)."""
    idx = compiled.index
    prob = compiled.scenarios.probability
    method = flow.method
    failed = int((method == FAILED).sum())
    out: dict[str, Any] = {
        "snapshots": int(method.size),
        "methods": {"sweep": int((method == SWEEP).sum()),
                    "newton": int((method == NEWTON).sum()), "not_converged": failed},
        "iterations": flow.iterations,
        "island_snapshots": int((flow.state >= ISLAND).any(axis=1).sum()),
        "buses_not_supplied": int((flow.state == NOT_SUPPLIED).sum()),
        "max_dv_pu": None, "max_dv_at": None,
    }
    dv = np.abs(ds["bus_v"].transpose(*BUS_DIMS).values - ac["ac_v"].values) \
        if "bus_v" in ds else np.full(ac["ac_v"].shape, np.nan)
    if np.isfinite(dv).any():
        si, ti, bi = np.unravel_index(np.nanargmax(dv), dv.shape)
        out["max_dv_pu"] = float(dv[si, ti, bi])
        out["max_dv_at"] = {
            "bus": str(idx.coords[BUS][bi]), "scenario": str(idx.coords[SCENARIO][si]),
            "time": int(ti), "clock": clock_labels(idx.steps, idx.step_h)[ti],
            "v_model_pu": float(ds["bus_v"].transpose(*BUS_DIMS).values[si, ti, bi]),
            "v_ac_pu": float(ac["ac_v"].values[si, ti, bi])}
    daily = (ac["ac_losses_kw"] * idx.step_h).sum(TIME)
    losses: dict[str, Any] = {"ac_kwh_per_day": float((daily * prob).sum()),
                              "ac_peak_kw": float(ac["ac_losses_kw"].max()),
                              "model_kwh_per_day": None, "difference_pct": None}
    if compiled.flow.loss_kw is not None:  # distflow: the model's own losses
        model = compiled.flow.loss_kw.solution.sum([LINE, TIME]) * idx.step_h
        losses["model_kwh_per_day"] = float((model * prob).sum())
        if losses["ac_kwh_per_day"] > 0:
            losses["difference_pct"] = 100 * (losses["model_kwh_per_day"]
                                              / losses["ac_kwh_per_day"] - 1)
    out["losses"] = losses
    kinds = ac[f"{VIOLATION}_kind"].values
    worst = {k: ac[f"{VIOLATION}_{k}"].values[0].item() for k in COLUMNS} if kinds.size \
        else None
    out["violations"] = {"count": int(kinds.size), "worst": worst, "by_kind": {
        str(k): int((kinds == k).sum()) for k in np.unique(kinds)}}
    out["verdict"] = "not converged" if failed else "violations" if kinds.size else "ok"
    return out


def headline(section: dict[str, Any]) -> str:
    """One line for the terminal: the verdict and what it rests on."""
    if section["verdict"] == "not converged":
        return (f"not converged: no AC solution in {section['methods']['not_converged']} "
                f"of {section['snapshots']} snapshots (ac_method -1): the plan may not "
                "hold in AC")
    dv = section.get("max_dv_pu")
    facts = (f"max |V model − V AC| {dv:.4f} p.u., " if dv is not None else "") + \
        f"AC losses {section['losses']['ac_kwh_per_day']:,.1f} kWh/day"
    if section["verdict"] == "ok":
        return f"ok: no limit violated in AC ({facts})"
    v = section["violations"]
    w = v["worst"]
    sign = "<" if w["kind"] == "voltage_low" else ">"
    where = ("bus " if w["kind"].startswith("voltage") else "line ") + str(w["element"]) \
        + (" (island)" if w["island"] else "")
    return (f"violations: {v['count']} limits violated in AC; worst {w['kind']} at {where}, "
            f"{w['scenario']} {w['clock']}: {w['value']:.6g} {sign} {w['limit']:.6g} "
            f"{w['unit']}, by {w['excess']:.2g} ({facts})")


def attach(compiled: CompiledModel, ds: xr.Dataset) -> tuple[xr.Dataset, dict[str, Any] | None]:
    """`ds` with the AC check's variables, and the summary section — or `ds` as it is
    and None when the check is switched off (`enabled`) or `ds` holds no flows."""
    if not ENABLED.get() or "line_p" not in ds:
        return ds, None
    check = ac_check(compiled, ds)
    return ds.merge(check.dataset), check.summary
