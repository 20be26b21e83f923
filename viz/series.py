"""The numbers behind the pictures, read off a solved `Case` (no drawing here).

Every function returns plain xarray/numpy data so that tests can compare a picture's
artists with the solution they were drawn from.

Demand in the dispatch is what the solution's nodal balance says it was: per scenario
and step, Σ sources − Σ sinks − losses + shed = demand (`gridc.compiler.families.loads`:
Σ gen + Σ (discharge − charge) + shed − outflow = demand at every bus; summed over the
buses the line flows cancel except for DistFlow's losses Σ r ℓ S_base). It needs no
second copy of the model's demand data and holds for every formulation; under DistFlow
without the line resistances (no model) the line is labelled "served + losses".

Station load (seed 001): P^CSS = P^CS + P^CII per station, with P^CS_t = Σ_d x[t − d, d]
/ Δt the PEV energy served d hours after arrival (`compiler.families.stations`, cyclic
day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from gridc.viz.result import Case

TIME, SCENARIO, BUS, LINE = "time", "scenario", "bus", "line"
SHED_BLOCKS = ("bus_shed_p", "load_shed_p")
#: the input demand per bus, when solution.nc carries it (bus loads plus `load` statements;
#: `load_demand_p` is the per-load part of it, not added again)
DEMAND_BLOCKS = ("bus_demand_p",)
#: generator kinds as the legend names them
KIND_LABEL = {"grid": "grid", "pv": "PV", "wind": "wind", "gas_turbine": "gas turbine",
              "diesel": "diesel", "dg": "DG", "chp": "CHP"}


@dataclass(frozen=True)
class Flow:
    """One band of the dispatch: `values` [time] in kW, positive."""

    label: str
    values: np.ndarray
    kind: str  # supply | sink | shed


def _total(da: xr.DataArray, keep: tuple[str, ...] = (SCENARIO, TIME)) -> xr.DataArray:
    return da.sum([d for d in da.dims if d not in keep])


def _at(case: Case, name: str, scenario: str) -> np.ndarray:
    da = case.ds[name]
    return np.asarray(_total(da).sel({SCENARIO: scenario}).values, dtype=float)


def gen_kinds(case: Case) -> dict[str, str]:
    """Generator label -> kind (grid, pv, wind, ...): from the model's devices; without
    them a unit called `grid` is the grid supply and the rest are "generator"."""
    net = case.network
    kinds = {d.name: (d.detail or d.kind) for d in (net.devices if net else [])
             if d.kind in ("grid", "generator")}
    if "gen" not in case.ds.coords:
        return {}
    return {str(g): kinds.get(str(g), "grid" if str(g) == "grid" else "generator")
            for g in case.ds["gen"].values}


def dispatch(case: Case, scenario: str) -> list[Flow]:
    """Supplies (grid, generators by kind, built DG, storage, MESS and EV-RB discharge),
    sinks (their charging, station load, losses) and shed load of one scenario."""
    ds = case.ds
    out: list[Flow] = []
    if "gen_p" in ds:
        kinds = gen_kinds(case)
        order = sorted(set(kinds.values()), key=lambda k: (k != "grid", k))
        for kind in order:
            units = [g for g, k in kinds.items() if k == kind]
            values = ds["gen_p"].sel({SCENARIO: scenario, "gen": units}).sum("gen").values
            out.append(Flow(KIND_LABEL.get(kind, kind), np.asarray(values, float), "supply"))
    if "dg_p" in ds:
        out.append(Flow("DG (built)", _at(case, "dg_p", scenario), "supply"))
    pairs = (("storage", "storage_discharge", "storage_charge"),
             ("MESS", "mess_discharge", "mess_charge"),
             ("EV-RB", "ev_discharge", "ev_charge"))
    for label, discharge, charge in pairs:
        if discharge in ds:
            out.append(Flow(label, _at(case, discharge, scenario), "supply"))
        if charge in ds:
            out.append(Flow(f"{label} charging", _at(case, charge, scenario), "sink"))
    load = station_load(case)
    if load is not None:
        out.append(Flow("EV stations", np.asarray(
            _total(load).sel({SCENARIO: scenario}).values, float), "sink"))
    losses = line_losses(case)
    if losses is not None:
        out.append(Flow("losses", np.asarray(losses.sel({SCENARIO: scenario}).values, float),
                        "sink"))
    shed = [_at(case, b, scenario) for b in SHED_BLOCKS if b in ds]
    if shed:
        out.append(Flow("shed load", np.sum(shed, axis=0), "shed"))
    return [f for f in out if f.values.size]


def balance(flows: list[Flow]) -> np.ndarray:
    """Demand [time] by the balance: supplies − sinks + shed (module docstring)."""
    total = np.zeros_like(flows[0].values) if flows else np.zeros(0)
    for f in flows:
        total = total + (-f.values if f.kind == "sink" else f.values)
    return total


def demand(case: Case, scenario: str, flows: list[Flow]) -> np.ndarray:
    """Demand [time] of one scenario: the input demand solution.nc carries
    (`bus_demand_p`, which includes the `load` statements), else the balance of `flows`."""
    given = [_at(case, name, scenario) for name in DEMAND_BLOCKS if name in case.ds]
    return np.sum(given, axis=0) if given else balance(flows)


def demand_label(case: Case) -> str:
    if any(name in case.ds for name in DEMAND_BLOCKS):
        return "demand"
    if "line_l" in case.ds and line_losses(case) is None:
        return "served + losses"
    return "demand"


def line_losses(case: Case) -> xr.DataArray | None:
    """Σ r ℓ S_base [scenario, time] in kW under DistFlow (None without `line_l` or
    without the resistances)."""
    net = case.network
    if "line_l" not in case.ds or net is None or net.base_kva is None:
        return None
    r = {ln.id: ln.r_pu for ln in net.lines}
    labels = [str(x) for x in case.ds[LINE].values]
    if any(r.get(x) is None for x in labels):
        return None
    r_da = xr.DataArray([float(r[x] or 0.0) for x in labels], coords={LINE: case.ds[LINE]},
                        dims=[LINE])
    return (case.ds["line_l"] * r_da * net.base_kva).sum(LINE)


def station_load(case: Case) -> xr.DataArray | None:
    """P^CSS [scenario, time, css] in kW (module docstring), or None without stations."""
    ds = case.ds
    if "station_pev_energy" not in ds and "station_charger_2_p" not in ds:
        return None
    parts = []
    if "station_pev_energy" in ds:
        x = ds["station_pev_energy"]
        served = [x.sel(delay=d, drop=True).roll({TIME: int(d)}) for d in x["delay"].values]
        parts.append(sum(served[1:], served[0]) / case.step_h)
    if "station_charger_2_p" in ds:
        parts.append(ds["station_charger_2_p"])
    total = parts[0] if len(parts) == 1 else parts[0] + parts[1]
    return total.transpose(SCENARIO, TIME, "css")


# ---------------------------------------------------------------------- state of charge


def state_of_charge(case: Case, scenario: str) -> list[tuple[str, np.ndarray]]:
    """(label, kWh [time]) for each storage unit, each MESS type and each EV-RB site
    with energy in it."""
    ds = case.ds
    out: list[tuple[str, np.ndarray]] = []
    for block, dim, what in (("storage_energy", "storage", "storage"),
                             ("mess_energy", "mess_type", "MESS"),
                             ("ev_energy", "ev_site", "EV-RB at")):
        if block not in ds:
            continue
        da = ds[block].sel({SCENARIO: scenario})
        for label in da[dim].values:
            values = np.asarray(_total(da.sel({dim: label}), (TIME,)).values, float)
            if np.abs(values).max(initial=0.0) > 1e-6:
                out.append((f"{what} {label}", values))
    return out


# ---------------------------------------------------------------------- lines


def line_in_service(case: Case) -> xr.DataArray | None:
    """[scenario, time, line] 1 where the line carries flow in the solution: its health
    `line_u` (reinforcements applied) and, for lines of a topology decision, built."""
    ds = case.ds
    if "line_u" not in ds:
        return None
    u = ds["line_u"].astype(float)
    if "line_built" in ds:
        built = (ds["line_built"] > 0.5).astype(float).reindex({LINE: u[LINE].values},
                                                                 fill_value=1.0)
        u = u * built
    return u.transpose(SCENARIO, TIME, LINE)


def loading(case: Case) -> xr.DataArray | None:
    """|S| / rating [scenario, time, line] (fraction), or |P| in kW when no rating is
    known (attribute `unit` says which)."""
    ds = case.ds
    if "line_p" not in ds:
        return None
    p = ds["line_p"]
    s = np.hypot(p, ds["line_q"]) if "line_q" in ds else abs(p)
    net = case.network
    rating = {ln.id: ln.rating_kva for ln in net.lines} if net else {}
    labels = [str(x) for x in ds[LINE].values]
    if labels and all(rating.get(x) for x in labels):
        r = xr.DataArray([float(rating[x] or 1.0) for x in labels], coords={LINE: ds[LINE]},
                         dims=[LINE])
        out = (s / r).transpose(SCENARIO, TIME, LINE)
        out.attrs["unit"] = "fraction of rating"
        return out
    out = s.transpose(SCENARIO, TIME, LINE)
    out.attrs["unit"] = "kVA"
    return out


def outage_windows(case: Case, scenario: str) -> list[tuple[str, float, float]]:
    """(line, start h, end h) of every outage of the scenario: steps where a line that is
    in service elsewhere is out (`line_u` = 0). Normally-open ties and lines never in
    service are not outages; a reinforced line has none (it stays in service)."""
    ds = case.ds
    if "line_u" not in ds:
        return []
    u = ds["line_u"]
    normal = (u > 0.5).any([SCENARIO, TIME])
    out = []
    dt = case.step_h
    for line in u[LINE].values[normal.values]:
        down = np.asarray(u.sel({SCENARIO: scenario, LINE: line}).values) < 0.5
        edges = np.flatnonzero(np.diff(np.concatenate([[0], down.astype(int), [0]])))
        out += [(str(line), float(a * dt), float(b * dt)) for a, b in zip(edges[::2],
                                                                         edges[1::2])]
    return out


def worst_voltage(case: Case, scenario: str | None = None,
                  step: int | None = None) -> xr.DataArray | None:
    """Per bus, the energised voltage farthest from 1 p.u. over the chosen scenarios and
    steps (all when None); NaN for a bus never energised there."""
    ds = case.ds
    if "bus_v" not in ds:
        return None
    v = ds["bus_v"]
    if "energized" in ds:
        v = v.where(ds["energized"] > 0)
    return _farthest(v, scenario, step)


def _farthest(v: xr.DataArray, scenario: str | None, step: int | None) -> xr.DataArray:
    if scenario is not None:
        v = v.sel({SCENARIO: [scenario]})
    if step is not None:
        v = v.isel({TIME: [step]})
    lo, hi = v.min([SCENARIO, TIME]), v.max([SCENARIO, TIME])
    return xr.where(abs(hi - 1.0) > abs(lo - 1.0), hi, lo)


# ---------------------------------------------------------------------- the AC check

AC_TABLE = "ac_violation"  # the violations table of `gridc.runtime.ac_check`


@dataclass(frozen=True)
class AcFinding:
    """The worst AC violation of one kind at one bus or line over the view."""

    kind: str  # voltage_low | voltage_high | line_rating (the table's words)
    element: str  # bus or line label
    excess: float  # by how much the AC value passes the limit (in `unit`)
    unit: str
    count: int  # violating (scenario, step) cells
    island: bool  # a voltage in an island (its level is the model's at its reference)


def has_ac(case: Case) -> bool:
    """Whether the result carries an AC check (`gridc.runtime.ac_check`)."""
    return "ac_v" in case.ds or f"{AC_TABLE}_kind" in case.ds


def ac_findings(case: Case, scenario: str | None = None,
                step: int | None = None) -> list[AcFinding]:
    """The AC check's violations table (`ac_violation_*` over `ac_violation`, one row
    per violated limit, scenario and step) reduced to the worst per kind and element,
    within the view (a scenario, a step). Empty without violations or without a check."""
    ds = case.ds
    need = ("kind", "element", "excess")
    if any(f"{AC_TABLE}_{k}" not in ds for k in need) or not ds.sizes.get(AC_TABLE, 0):
        return []

    def col(name: str, default: object) -> np.ndarray:
        key = f"{AC_TABLE}_{name}"
        n = ds.sizes[AC_TABLE]
        return np.asarray(ds[key].values) if key in ds else np.full(n, default, dtype=object)

    kind, element = col("kind", "").astype(str), col("element", "").astype(str)
    excess = col("excess", np.nan).astype(float)
    unit, island = col("unit", "").astype(str), col("island", False).astype(bool)
    keep = np.ones(kind.size, dtype=bool)
    if scenario is not None:
        keep &= col("scenario", "").astype(str) == scenario
    if step is not None:
        keep &= col("time", -1).astype(int) == step
    found: dict[tuple[str, str], AcFinding] = {}
    for k in np.flatnonzero(keep):
        key = (kind[k], element[k])
        old = found.get(key)
        worst = max(float(excess[k]), old.excess) if old else float(excess[k])
        found[key] = AcFinding(kind[k], element[k], worst, unit[k],
                               (old.count if old else 0) + 1,
                               bool(island[k]) or (old.island if old else False))
    return list(found.values())


def ac_voltage(case: Case, scenario: str | None = None,
               step: int | None = None) -> xr.DataArray | None:
    """Per bus, the AC voltage farthest from 1 p.u. where the bus is supplied."""
    ds = case.ds
    if "ac_v" not in ds:
        return None
    v = ds["ac_v"]
    if "ac_bus_state" in ds:
        v = v.where(ds["ac_bus_state"] > 0)
    return _farthest(v, scenario, step)


def ac_loading(case: Case) -> xr.DataArray | None:
    """AC |S| / rating [scenario, time, line]."""
    if "ac_loading" not in case.ds:
        return None
    out = case.ds["ac_loading"].transpose(SCENARIO, TIME, LINE)
    out.attrs["unit"] = "fraction of rating"
    return out
