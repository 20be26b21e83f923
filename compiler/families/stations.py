"""Charging (CS), swapping (SCS) and integrated (CSS) stations, sized from the EV forecast
(seed 001, sections 3.1 and 4.2.2–4.2.3).

Why here and not in the forecast: the forecast (`data.ev_forecast`) says how many EVs
arrive at each site per hour and how much energy they ask for; how a station serves them
over the day — and hence its equipment and its load on the ADN — is an optimisation decided
together with the network.

Sub-cases (seed Figure 12): a `stations` investment with `count n` over its `sites` is
solved for one site combination at a time: `integrated` layout — every n-subset of the
sites hosts a CSS serving both fleets; `separate` layout (n = 2) — every ordered pair (CS
site, SCS site) hosts a charging station for the PEVs and a swapping station for the SEVs.
The forecast is re-mapped onto the chosen sites (`Forecast.assign`: each road node sends
its EVs to the nearest chosen site), which fixes the EV driving carbon of the sub-case.
Typical days become the scenarios (probabilities from the clustering).

Per station i (dim `css`), scenario s and hour t:

* CS (eq. 19–22, 29): arrivals N_t with energy E_t charge from their arrival hour on, each
  PEV at most P_CI: x[t, d] energy served in hour t + d (d < H, H = ⌈max E/N / P_CI⌉, the
  shortest window that can serve them, cyclic over the typical day), Σ_d x[t, d] = E_t,
  x[t, d] ≤ N_t P_CI Δt. P^CS_t = Σ_d x[t − d, d] ≤ N^CI P_CI (one PEV per charger), and
  N^CI ≥ ⌈(1 + β) max_t N_t⌉ (eq. 29, `margin` β).
* SCS (eq. 23–28, 30–32): the stock of charged battery energy e_t = e_{t−1} + P^CII_t Δt − E^SEV_t
  (cyclic day; a swap hands out the energy the SEV asks for), e_{t−1} ≥ E^SEV_t (the stock at
  the start of an hour covers its swaps, Fig. 15c), 0 ≤ e_t ≤ E^SCS = E_SEV · packs;
  packs ≥ ⌈(1 + β_SEV) max_t N^SEV_t⌉ (eq. 28, 30: high-level batteries, `sev_margin`);
  P^CII_t ≤ N^CII P_CII; swappers N^SW ≥ ⌈(1 + β) max_t N^SEV_t⌉ (eq. 32, one swap per swapper
  and hour). Charging is lossless, as in the forecast.
* CSS = CS + SCS on one node: P^CSS = P^CS + P^CII (eq. 18), q = p tan φ_T; one transformer
  from the standard `ratings` (eq. 44): (1 + β_T) β_s (P_CI N^CI + P_CII N^CII + P_SW N^SW)
  ≤ χ_T cos φ_T S^T; land (eq. 45): a_CI N^CI + a_CII N^CII + a_SW N^SW + a_SCS E^SCS = A ≤ A_max,
  priced at the site's land price annualised over `land_life`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.core.builder import Block, Builder, sparse_sum
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import BUS, SCENARIO, TIME
from gridc.compiler.formulations.pricing import PricedItem
from gridc.dsl import ir
from gridc.dsl import ir_planning as P

CSS, DELAY, TRATING = "css", "delay", "trating"
UPPER_UNITS = 1000  # generous integer bound of equipment counts


@dataclass(frozen=True)
class StationPlan:
    """One sub-case: which site hosts what, and the forecast mapped onto it."""

    label: str
    labels: tuple[str, ...]  # every sub-case of the investment, in order
    sites: tuple[str, ...]  # station sites of this sub-case (dim `css`)
    has_cs: tuple[bool, ...]
    has_scs: tuple[bool, ...]
    scenarios: list[ir.Scenario]
    forecast: Any  # the full forecast (re-used by the other sub-cases)
    peak: xr.DataArray  # [fleet, css] largest hourly arrivals over the typical days
    counts: xr.DataArray  # [scenario, time, fleet, css] arrivals
    energy: xr.DataArray  # [scenario, time, fleet, css] kWh
    carbon_t_per_day: float
    distance_km: dict[str, float]  # expected daily driving to the stations, per fleet


@dataclass
class StationVars:
    n_c1: Variable
    n_c2: Variable
    n_sw: Variable
    packs: Variable
    trafo: Variable  # [css, trating] binary
    area: LinearExpression  # [css] m²
    p_cs: LinearExpression  # [scenario, time, css] kW
    p_c2: Variable
    stock: Variable  # [scenario, time, css] kWh
    load_p: LinearExpression  # [scenario, time, bus]
    load_q: LinearExpression
    items: list[PricedItem]  # equipment, transformer and land of every site
    plan: StationPlan
    pack_kwh: float


def subcases(inv: P.Stations) -> list[tuple[str, tuple[str, ...], tuple[bool, ...],
                                             tuple[bool, ...]]]:
    """(label, sites, has CS, has SCS) for every site combination of the investment."""
    n = inv.count.max
    if inv.layout == "integrated":
        return [("+".join(c), c, (True,) * n, (True,) * n)
                for c in itertools.combinations(inv.sites, n)]
    return [(f"CS@{a}+SCS@{b}", (a, b), (True, False), (False, True))
            for a, b in itertools.permutations(inv.sites, 2)]


def prepare(m: ir.Model, inv: P.Stations, subcase: str | None, fc: Any,
            days: str = "typical") -> StationPlan:
    """The sub-case's forecast, scenarios and carbon (see the module docstring).
    `days="mean"` replaces the typical days by their expected day (one scenario): the
    equipment bounds of eq. 28–32 still use the peaks of every typical day."""
    from gridc.data.ev_forecast import ForecastError, forecast

    if inv.layout == "separate" and inv.count.max != 2:
        raise compile_error(m, "GRID023", "a 'separate' layout builds one charging and one "
                            "swapping station: count 2 .. 2", inv.count.span)
    if m.horizon is None or m.horizon.steps != 24 or m.horizon.step_h != 1.0:
        raise compile_error(m, "GRID043", "stations need 'horizon 24 h step 1 h' (the "
                            "forecast is hourly over a typical day)", m.span)
    cases = subcases(inv)
    labels = tuple(c[0] for c in cases)
    chosen = cases[0] if subcase is None else next((c for c in cases if c[0] == subcase),
                                                    None)
    if chosen is None:
        raise compile_error(m, "GRID041", f"unknown sub-case '{subcase}'", inv.span,
                            help="one of " + ", ".join(labels))
    label, sites, has_cs, has_scs = chosen
    kinds = {f.name: f.kind for f in m.fleets}
    pev = [f for f, k in kinds.items() if k == "plug_in"]
    sev = [f for f, k in kinds.items() if k == "swap"]
    try:
        full = fc if fc is not None else forecast(m)
        cs_sites = [s for s, c in zip(sites, has_cs) if c]
        scs_sites = [s for s, c in zip(sites, has_scs) if c]
        fa = full.assign(m, {**{f: cs_sites for f in pev}, **{f: scs_sites for f in sev}})
    except ForecastError as err:
        raise compile_error(m, "GRID050", f"EV forecast: {err}", inv.span) from None
    prob = fa.probability.values
    names = [f"day{k + 1}" for k in range(len(prob))]
    weights = [float(p) for p in prob]
    if days == "mean":  # one expected day (probability-weighted), for a quick plan
        names, weights = ["mean"], [1.0]
    elif days != "typical":
        raise ValueError(f"unknown days option '{days}' (typical or mean)")
    scenarios = [ir.Scenario(span=inv.span, name=n, probability=p)
                 for n, p in zip(names, weights)]

    def relabel(a: xr.DataArray) -> xr.DataArray:
        a = a.sel(station=list(sites))
        if days == "mean":
            a = (a * fa.probability).sum("typical").expand_dims(typical=[0])
        a = a.rename(typical=SCENARIO, hour=TIME, station=CSS)
        return a.assign_coords({SCENARIO: names, TIME: np.arange(24), CSS: list(sites)}
                               ).transpose(SCENARIO, TIME, "fleet", CSS)

    km = fa.distance_days_km.mean("day")  # days are the typical days' members: expected
    peak = fa.counts.sel(station=list(sites)).max(["typical", "hour"]).rename(station=CSS)
    return StationPlan(label=label, labels=labels, sites=sites, has_cs=has_cs,
                       has_scs=has_scs, scenarios=scenarios, forecast=full, peak=peak,
                       counts=relabel(fa.counts), energy=relabel(fa.energy_kwh),
                       carbon_t_per_day=fa.expected_carbon_t,
                       distance_km={str(f): float(km.sel(fleet=f)) for f in km.fleet.values})


def _role(inv: P.Stations, role: str) -> P.Equipment:
    found = [e for e in inv.equipment if e.role == role]
    if not found:
        raise ValueError(role)
    return found[0]


def _fleet_sum(a: xr.DataArray, fleets: list[str]) -> xr.DataArray:
    return a.sel(fleet=fleets).sum("fleet") if fleets else a.isel(fleet=0) * 0.0


def define_stations(b: Builder, inv: P.Stations, plan: StationPlan) -> StationVars:
    """Equipment, schedules, station loads and costs of one sub-case."""
    m = b.model
    try:
        c1, c2, sw, stor = (_role(inv, r) for r in
                            ("charger_1", "charger_2", "swapper", "swap_storage"))
    except ValueError as err:
        raise compile_error(m, "GRID012", f"investment '{inv.name}' needs an equipment of "
                            f"role {err}", inv.span) from None
    site = {s.name: s for s in m.stations}
    sites = pd.Index(list(plan.sites), name=CSS)
    b.idx.coords[CSS] = sites
    kinds = {f.name: f for f in m.fleets}
    pev = [f for f, v in kinds.items() if v.kind == "plug_in"]
    sev = [f for f, v in kinds.items() if v.kind == "swap"]
    pack = max((kinds[f].battery_kwh for f in sev), default=50.0)
    dims = (SCENARIO, TIME, CSS)
    cs = xr.DataArray(np.array(plan.has_cs, dtype=float), coords=[sites])
    scs = xr.DataArray(np.array(plan.has_scs, dtype=float), coords=[sites])
    n_pev = (_fleet_sum(plan.counts, pev) * cs).transpose(*dims)
    e_pev = (_fleet_sum(plan.energy, pev) * cs).transpose(*dims)
    e_sev = (_fleet_sum(plan.energy, sev) * scs).transpose(*dims)
    peak_pev = _fleet_sum(plan.peak, pev) * cs  # over every typical day (eq. 29, 32)
    peak_sev = _fleet_sum(plan.peak, sev) * scs

    def count(name: str, lower: xr.DataArray, on: xr.DataArray) -> Variable:
        return b.integer(name, (CSS,), np.ceil(lower - 1e-9), UPPER_UNITS * on,
                         family="stations", source=CSS, unit="units")

    n_c1 = count("station_charger_1", (1 + inv.margin) * peak_pev * cs, cs)
    n_sw = count("station_swapper", (1 + inv.margin) * peak_sev * scs, scs)
    packs = count("station_packs", (1 + inv.sev_margin) * peak_sev * scs, scs)
    n_c2 = count("station_charger_2", 0.0 * scs, scs)

    # CS: cohorts of arrivals served over a window of H hours from their arrival
    p_ci = c1.power_kw
    ratio = float((e_pev / (n_pev * p_ci * b.idx.step_h)).where(n_pev > 1e-9).max()) \
        if bool((n_pev > 1e-9).any()) else 1.0
    window = max(1, math.ceil(ratio - 1e-9))
    delays = pd.RangeIndex(window, name=DELAY)
    b.idx.coords[DELAY] = delays
    cap = (n_pev * p_ci * b.idx.step_h).broadcast_like(xr.DataArray(np.zeros(window),
                                                                     coords=[delays]))
    x = b.m.add_variables(lower=0.0, upper=cap.transpose(*dims, DELAY),
                          coords=b.idx.coord(*dims, DELAY), name="station_pev_energy")
    b.blocks["station_pev_energy"] = Block("station_pev_energy", "stations", CSS, "kWh")
    b.constrain("station_pev_served", x.sum(DELAY), "==", e_pev, family="stations",
                source=CSS, unit="kWh")
    p_cs = _total([x.sel({DELAY: d}, drop=True).roll({TIME: d}) for d in range(window)]) * (
        1.0 / b.idx.step_h)
    b.constrain("station_charger_1_power", p_cs - p_ci * n_c1, "<=", 0.0,
                family="stations", source=CSS, unit="kW")

    # SCS: charged-energy stock over the cyclic day
    p_c2 = b.variable("station_charger_2_p", dims, 0.0, family="stations", source=CSS,
                      unit="kW")
    stock = b.variable("station_stock", dims, 0.0, family="stations", source=CSS, unit="kWh")
    prev = stock.roll({TIME: 1})
    b.constrain("station_stock_balance", stock - prev - b.idx.step_h * p_c2, "==", -e_sev,
                family="stations", source=CSS, unit="kWh")
    b.constrain("station_stock_cover", 1.0 * prev, ">=", e_sev, family="stations",
                source=CSS, unit="kWh")
    b.constrain("station_stock_cap", stock - pack * packs, "<=", 0.0, family="stations",
                source=CSS, unit="kWh")
    b.constrain("station_charger_2_power", p_c2 - c2.power_kw * n_c2, "<=", 0.0,
                family="stations", source=CSS, unit="kW")

    # transformer (eq. 44) and land (eq. 45)
    tr = inv.transformer
    ratings = pd.Index(sorted(tr.ratings_kva), name=TRATING)
    b.idx.coords[TRATING] = ratings
    y = b.m.add_variables(coords=[sites, ratings], name="station_transformer", binary=True)
    b.blocks["station_transformer"] = Block("station_transformer", "stations", CSS, "0/1")
    b.constrain("station_transformer_one", y.sum(TRATING), "==", 1.0, family="stations",
                source=CSS)
    s_t = (xr.DataArray(ratings.to_numpy(dtype=float), coords=[ratings]) * y).sum(TRATING)
    rated = p_ci * n_c1 + c2.power_kw * n_c2 + sw.power_kw * n_sw
    b.constrain("station_transformer_size",
                (1 + tr.redundancy) * tr.simultaneity * rated - tr.load_rate *
                tr.power_factor * s_t, "<=", 0.0, family="stations", source=CSS, unit="kW")
    p_total = p_cs + p_c2
    b.constrain("station_transformer_load", p_total - tr.load_rate * tr.power_factor * s_t,
                "<=", 0.0, family="stations", source=CSS, unit="kW")
    area = (c1.area_m2 * n_c1 + c2.area_m2 * n_c2 + sw.area_m2 * n_sw
            + stor.area_m2 * pack * packs)
    a_max = xr.DataArray([site[s].area_max_m2 for s in sites], coords=[sites])
    b.constrain("station_area", area, "<=", a_max, family="stations", source=CSS, unit="m²")
    at = b.idx.at_bus(CSS, [site[s].bus for s in sites])
    tan = math.tan(math.acos(tr.power_factor))
    load_p = sparse_sum(p_total, at, CSS, BUS)
    items = [PricedItem(eq.role, eq.name, eq.costs, size, unit)
             for eq, size, unit in ((c1, n_c1.sum(), "units"), (c2, n_c2.sum(), "units"),
                                    (sw, n_sw.sum(), "units"),
                                    (stor, pack * packs.sum(), "kWh"))]
    items.append(PricedItem("transformer", "transformer", tr.costs, s_t.sum(), "kVA"))
    # land (eq. 45): bought per m² at each site's price, "lasting" land_life years
    for s_name in sites:
        land = P.Costs(span=inv.span, install_cny=site[s_name].land_cny_per_m2,
                       life_y=inv.land_life_y, basis="m2")
        items.append(PricedItem("land", str(s_name), land, area.sel({CSS: [s_name]}).sum(),
                                "m²"))
    return StationVars(n_c1=n_c1, n_c2=n_c2, n_sw=n_sw, packs=packs, trafo=y, area=area,
                       p_cs=p_cs, p_c2=p_c2, stock=stock, load_p=load_p, load_q=tan * load_p,
                       items=items, plan=plan, pack_kwh=pack)


def _total(exprs: list[LinearExpression]) -> LinearExpression:
    out = exprs[0]
    for e in exprs[1:]:
        out = out + e
    return out


def station_table(sv: StationVars) -> list[dict[str, Any]]:
    """Table 6 per station at the solution: equipment, storage, transformer, land."""
    rows = []
    s_t = (sv.trafo.solution * sv.trafo.solution[TRATING]).sum(TRATING)
    for k, name in enumerate(sv.plan.sites):
        kind = ("CSS" if sv.plan.has_cs[k] and sv.plan.has_scs[k]
                else "charging station" if sv.plan.has_cs[k] else "swapping station")
        rows.append({
            "station": name, "kind": kind,
            "charger_1": round(float(sv.n_c1.solution.values[k])),
            "charger_2": round(float(sv.n_c2.solution.values[k])),
            "swapper": round(float(sv.n_sw.solution.values[k])),
            "storage_kwh": float(sv.pack_kwh * round(float(sv.packs.solution.values[k]))),
            "transformer_kva": float(s_t.values[k]),
            "area_m2": float(sv.area.solution.values[k]),
            "peak_kw": float((sv.p_cs.solution + sv.p_c2.solution).isel({CSS: k}).max()),
        })
    return rows
