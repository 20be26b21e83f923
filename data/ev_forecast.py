"""EV spatial-temporal load forecast of seed 001, section 2: `forecast(model) -> Forecast`.

Step 1 (`gridc.data.ev_travel`) simulates the travel chains and the charge and swap
events of every vehicle of `travel.days` days. This module then

* counts events per day, fleet, road node and hour (the seed's N^EV_{k,t}, eq. 15) and the
  energy they ask for;
* maps every road node to its nearest station site (driving distance = detour x straight
  line; "carbon guidance", eq. 5 and 16), giving N^PEV_{i,t} and N^SEV_{i,t} per station;
* prices the daily driving carbon E = B_CO2 sum_t sum_i (e_PEV sum_j D^PEV_min,j
  + e_SEV sum_k D^SEV_min,k) (eq. 5), each event contributing its own minimum distance;
* reduces the simulated days to `travel.typical_days` typical days with k-means (eq. 14),
  each typical day being the mean of its member days, weighted by the cluster's share.

Days are clustered on their station-independent profile (fleet x region x hour counts), so
the same typical days serve every choice of stations; `Forecast.assign` re-maps them onto a
subset of the sites (e.g. one charging station for PEVs and another one for SEVs).

A pure function of the IR: deterministic for a seed, no printing, no files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from gridc.data.ev_travel import (
    AreaIndex,
    ForecastError,
    Population,
    Trips,
    simulate_fleet,
)
from gridc.dsl import ir
from gridc.dsl import ir_planning as P

HOURS = 24
N_INIT = 4  # k-means restarts
CHUNK_VEHICLES = 100_000  # vehicles simulated at once (memory ~ 0.5 kB each)

__all__ = ["Forecast", "ForecastError", "forecast"]


@dataclass(frozen=True)
class Forecast:
    """The forecast: simulated days, typical days and their station loads.

    Arrays (xarray, dims in brackets):
      node_days       [day, fleet, node, hour]  events per simulated day
      node_energy_days[day, fleet, node, hour]  kWh asked for by those events
      station_days    [day, fleet, station, hour]  N^EV_{i,t} per simulated day
      counts          [typical, fleet, station, hour]  N^EV_{i,t} of the typical days
      energy_kwh      [typical, fleet, station, hour]
      node_counts     [typical, fleet, node, hour]  (and node_energy_kwh)
      probability     [typical]  cluster shares, summing to 1
      carbon_days_t   [day]; carbon_t [typical]: daily driving carbon (t)
      distance_days_km[day, fleet]: daily driving distance to the stations (km)
      label           [day]: typical day of each simulated day
      nearest         [fleet, node]: station of each road node; distance_km: its D_min
    """

    node_days: xr.DataArray
    node_energy_days: xr.DataArray
    station_days: xr.DataArray
    counts: xr.DataArray
    energy_kwh: xr.DataArray
    node_counts: xr.DataArray
    node_energy_kwh: xr.DataArray
    probability: xr.DataArray
    carbon_days_t: xr.DataArray
    carbon_t: xr.DataArray
    distance_days_km: xr.DataArray
    label: xr.DataArray
    nearest: xr.DataArray
    distance_km: xr.DataArray
    vehicles: dict[str, int]
    events: dict[str, int]
    seed: int
    population: str
    trips: dict[str, Trips] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ summaries
    @property
    def expected_carbon_t(self) -> float:
        """Expected daily driving carbon (t): typical days weighted by probability."""
        return float((self.carbon_t * self.probability).sum())

    def peaks(self) -> xr.Dataset:
        """Per fleet and station (station "all" = the whole area): the largest count of a
        typical day, its hour and typical day, and the expected daily energy (kWh)."""
        both = xr.concat([self.counts, self.counts.sum("station").expand_dims(station=["all"])],
                         dim="station").transpose("fleet", "station", "typical", "hour")
        f, s, t, h = both.shape
        flat = both.values.reshape(f, s, t * h)
        arg = flat.argmax(axis=-1)
        coords = {"fleet": both["fleet"].values, "station": both["station"].values}
        dims = ("fleet", "station")
        daily = (both.sum("hour") * self.probability).sum("typical")
        return xr.Dataset({"peak": (dims, flat.max(axis=-1)), "hour": (dims, arg % h),
                           "typical": (dims, arg // h), "daily_kwh": xr.concat(
                               [(self.energy_kwh.sum("hour") * self.probability).sum("typical"),
                                (self.energy_kwh.sum(("hour", "station")) * self.probability)
                                .sum("typical").expand_dims(station=["all"])], dim="station"),
                           "daily_events": daily}, coords=coords)

    def node_table(self) -> Any:
        """Per typical day, fleet, road node and hour: events, energy, assigned station and
        its distance, as a long pandas DataFrame (the per-node demand the planner maps)."""
        ds = xr.Dataset({"events": self.node_counts, "energy_kwh": self.node_energy_kwh})
        df = ds.drop_vars("region").to_dataframe().reset_index()
        at = {"fleet": xr.DataArray(df["fleet"].to_numpy()),
              "node": xr.DataArray(df["node"].to_numpy())}
        df["probability"] = self.probability.sel(typical=df["typical"].to_numpy()).to_numpy()
        df["station"] = self.nearest.sel(at).to_numpy()
        df["distance_km"] = self.distance_km.sel(at).to_numpy()
        df["region"] = self.node_counts["region"].sel(node=df["node"].to_numpy()).to_numpy()
        cols = ["typical", "probability", "fleet", "node", "region", "hour", "events",
                "energy_kwh", "station", "distance_km"]
        return df[cols]

    def to_dataset(self) -> xr.Dataset:
        """Everything but the raw trips, as one Dataset (what `gridc forecast` saves)."""
        ds = xr.Dataset({
            "node_days": self.node_days.astype(np.int32),  # whole events
            "node_energy_days": self.node_energy_days,
            "station_days": self.station_days.astype(np.int32), "counts": self.counts,
            "energy_kwh": self.energy_kwh, "node_counts": self.node_counts,
            "node_energy_kwh": self.node_energy_kwh, "probability": self.probability,
            "carbon_days_t": self.carbon_days_t, "carbon_t": self.carbon_t,
            "distance_days_km": self.distance_days_km, "label": self.label,
            "nearest": self.nearest, "distance_km": self.distance_km,
        })
        ds.attrs.update(seed=self.seed, population=self.population,
                        expected_carbon_t_per_day=self.expected_carbon_t,
                        **{f"vehicles_{k}": v for k, v in self.vehicles.items()},
                        **{f"events_{k}": v for k, v in self.events.items()})
        return ds

    # ------------------------------------------------------------------ re-assignment
    def assign(self, model: ir.Model, sites: Mapping[str, Sequence[str]]) -> Forecast:
        """The same forecast with each fleet restricted to some station sites (fleet name ->
        site names, missing fleets keep all sites): station loads and carbon are mapped
        again from the node-level days; the typical days do not change."""
        return _finish(model, self, sites)


# ------------------------------------------------------------------ the forecast


def forecast(model: ir.Model, days: int | None = None, seed: int | None = None,
             population: Population = "demand",
             sites: Mapping[str, Sequence[str]] | None = None,
             keep_trips: bool = False) -> Forecast:
    """Simulate, map onto stations, price carbon and cluster (seed 001, section 2).

    `days` and `seed` override the model's `travel` block; `population` chooses how the
    start-of-day battery levels are drawn (see `ev_travel.start_levels`; "demand" reads
    the seed's "200 load numbers a day"); `sites` restricts fleets to station sites;
    `keep_trips` keeps every drawn and derived vehicle array in `Forecast.trips` (about
    0.5 kB a vehicle: for tests and diagnosis). Days are simulated in chunks of at most
    `CHUNK_VEHICLES` vehicles, each with its own seeded stream, so memory stays bounded and
    the result does not depend on `keep_trips`."""
    travel, area, fleets = _inputs(model)
    n_days = travel.days if days is None else days
    if n_days < 1:
        raise ForecastError("the forecast needs at least one day")
    base_seed = travel.seed if seed is None else seed
    if base_seed < 0:
        raise ForecastError(f"the seed must not be negative, found {base_seed}")
    idx = AreaIndex.of(area)
    names = [f.name for f in fleets]
    node_coord = {"node": list(idx.node_ids),
                  "region": ("node", [idx.region_names[r] for r in idx.node_region])}
    counts = np.zeros((n_days, len(fleets), len(idx.node_ids), HOURS))
    energy = np.zeros_like(counts)
    trips: dict[str, Trips] = {}
    events: dict[str, int] = {}
    size = len(idx.node_ids) * HOURS
    for k, fl in enumerate(fleets):  # fleets (two) and chunks of days; each vectorised
        chunk = max(1, CHUNK_VEHICLES // max(fl.per_day, 1))
        kept: list[Trips] = []
        events[fl.name] = 0
        for c, first in enumerate(range(0, n_days, chunk)):
            n = min(chunk, n_days - first)
            rng = np.random.default_rng([base_seed, k, c])
            tr = simulate_fleet(idx, fl, travel, n, rng, population)
            ev = tr.events
            flat = (ev.vehicle // max(fl.per_day, 1) * len(idx.node_ids) + ev.node) * HOURS \
                + ev.hour
            counts[first:first + n, k] = np.bincount(flat, minlength=n * size).reshape(
                n, -1, HOURS)
            energy[first:first + n, k] = np.bincount(
                flat, weights=ev.energy_kwh, minlength=n * size).reshape(n, -1, HOURS)
            events[fl.name] += len(ev.vehicle)
            if keep_trips:
                kept.append(tr)
        if keep_trips:
            trips[fl.name] = Trips.concat(kept)
    dims = ("day", "fleet", "node", "hour")
    coords = {"day": np.arange(n_days), "fleet": names, **node_coord,
              "hour": np.arange(HOURS)}
    node_days = xr.DataArray(counts, dims=dims, coords=coords, name="node_days")
    node_energy = xr.DataArray(energy, dims=dims, coords=coords, name="node_energy_days")
    label, prob = _cluster(node_days, idx, travel.typical_days, base_seed)
    k = len(prob)
    member = xr.DataArray(np.eye(k)[label] / np.bincount(label, minlength=k), dims=(
        "day", "typical"), coords={"day": np.arange(n_days), "typical": np.arange(k)})
    node_counts = node_days.dot(member, dim="day").transpose("typical", "fleet", "node", "hour")
    node_e = node_energy.dot(member, dim="day").transpose("typical", "fleet", "node", "hour")
    empty = xr.DataArray(np.zeros(0))
    base = Forecast(
        node_days=node_days, node_energy_days=node_energy, station_days=empty, counts=empty,
        energy_kwh=empty, node_counts=node_counts.rename("node_counts"),
        node_energy_kwh=node_e.rename("node_energy_kwh"),
        probability=xr.DataArray(prob, dims="typical", coords={"typical": np.arange(k)},
                                 name="probability"),
        carbon_days_t=empty, carbon_t=empty, distance_days_km=empty,
        label=xr.DataArray(label, dims="day", coords={"day": np.arange(n_days)}, name="label"),
        nearest=empty, distance_km=empty,
        vehicles={f.name: n_days * f.per_day for f in fleets},
        events=events,
        seed=base_seed, population=population, trips=trips)
    return _finish(model, base, sites or {})


def _inputs(model: ir.Model) -> tuple[P.TravelModel, P.EvArea, list[P.Fleet]]:
    if model.travel is None:
        raise ForecastError("the model has no 'travel' block")
    if len(model.areas) != 1:
        raise ForecastError(f"the forecast needs exactly one 'area', found {len(model.areas)}")
    if not model.fleets:
        raise ForecastError("the model has no 'fleet'")
    if not model.stations:
        raise ForecastError("the model has no 'station' site to send the vehicles to")
    return model.travel, model.areas[0], list(model.fleets)


def _cluster(node_days: xr.DataArray, idx: AreaIndex, k: int,
             seed: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """k-means over daily profiles (seed eq. 14). A day's features are its event counts per
    fleet, region and hour: the region is the unit of the seed's roulette, so days differ
    there; node counts would mostly add within-region roulette noise. Clusters are numbered
    by decreasing share (ties: by first member day) so the output is stable."""
    n_days = node_days.sizes["day"]
    k = max(1, min(k, n_days))
    onehot = np.eye(len(idx.region_names))[idx.node_region]  # (node, region)
    feats = np.einsum("dfnh,nr->dfrh", node_days.values, onehot).reshape(n_days, -1)
    raw = np.zeros(n_days, dtype=np.int64)
    if k > 1:
        best = np.inf
        for restart in range(N_INIT):  # k-means++ restarts; keep the tightest clustering
            lab, inertia = _kmeans(feats, k, np.random.default_rng([seed, 7919, restart]))
            if inertia < best:
                best, raw = inertia, lab
    present = np.unique(raw)
    share = np.array([np.mean(raw == c) for c in present])
    first = np.array([np.flatnonzero(raw == c)[0] for c in present])
    order = present[np.lexsort((first, -share))]
    relabel = np.zeros(int(raw.max()) + 1, dtype=np.int64)
    relabel[order] = np.arange(len(order))
    label = relabel[raw]
    prob = np.bincount(label, minlength=len(order)) / n_days
    return label, prob


def _kmeans(x: NDArray[np.float64], k: int, rng: np.random.Generator,
            max_iter: int = 100) -> tuple[NDArray[np.int64], float]:
    """Lloyd's k-means with k-means++ seeding, in a few matrix products (a day is a row).
    Written out because scipy's `kmeans2` spends ~2 s here in its `vq` and scikit-learn's
    threaded Lloyd stalls on a busy machine; loops run over seeds and iterations only."""
    sq = (x * x).sum(axis=1)

    def dist2(c: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(np.maximum(sq[:, None] - 2 * x @ c.T + (c * c).sum(axis=1), 0.0))

    cent = x[[int(rng.integers(len(x)))]]
    for _ in range(1, k):  # k-means++: next centre with probability ~ squared distance
        d = dist2(cent).min(axis=1)
        total = d.sum()
        pick = int(rng.choice(len(x), p=d / total)) if total > 0 else int(rng.integers(len(x)))
        cent = np.vstack([cent, x[pick]])
    lab = np.zeros(len(x), dtype=np.int64)
    for it in range(max_iter):
        new = dist2(cent).argmin(axis=1).astype(np.int64)
        if it and (new == lab).all():
            break
        lab = new
        sums = np.zeros_like(cent)
        np.add.at(sums, lab, x)
        n = np.bincount(lab, minlength=k)[:, None]
        cent = np.where(n > 0, sums / np.maximum(n, 1), cent)  # an empty cluster stays put
    return lab, float(dist2(cent)[np.arange(len(x)), lab].sum())


def _finish(model: ir.Model, fc: Forecast, sites: Mapping[str, Sequence[str]]) -> Forecast:
    """Map node loads onto stations (nearest allowed site per fleet) and price carbon."""
    travel, area, fleets = _inputs(model)
    idx = AreaIndex.of(area)
    all_sites = [s.name for s in model.stations]
    site_node = np.array([idx.node(s.road_node if s.road_node is not None else s.bus)
                          for s in model.stations])
    unknown = [s for names in sites.values() for s in names if s not in all_sites]
    if unknown:
        raise ForecastError(f"unknown station site '{unknown[0]}'")
    if any(f not in {fl.name for fl in fleets} for f in sites):
        raise ForecastError(f"unknown fleet in {sorted(sites)}")
    nodes = np.arange(len(idx.node_ids))
    dist = idx.road_km(nodes[:, None], site_node[None, :])  # (node, site)
    n_f, n_s = len(fleets), len(all_sites)
    onehot = np.zeros((n_f, len(nodes), n_s))
    dmin = np.zeros((n_f, len(nodes)))
    for k, fl in enumerate(fleets):  # per fleet: its allowed sites
        allowed = np.array([s in sites.get(fl.name, all_sites) for s in all_sites])
        if not allowed.any():
            raise ForecastError(f"fleet '{fl.name}' has no station site to go to")
        d = np.where(allowed[None, :], dist, np.inf)
        near = d.argmin(axis=1)
        onehot[k, nodes, near] = 1.0
        dmin[k] = d[nodes, near]
    fleet_names = [f.name for f in fleets]
    m = xr.DataArray(onehot, dims=("fleet", "node", "station"),
                     coords={"fleet": fleet_names, "node": list(idx.node_ids),
                             "station": all_sites})
    dmin_da = xr.DataArray(dmin, dims=("fleet", "node"), coords={"fleet": fleet_names,
                                                                  "node": list(idx.node_ids)})
    e_per_km = xr.DataArray([f.consumption_kwh_per_km for f in fleets], dims="fleet",
                            coords={"fleet": fleet_names})

    def to_station(a: xr.DataArray, first: str) -> xr.DataArray:
        return a.drop_vars("region").dot(m, dim="node").transpose(first, "fleet", "station",
                                                                  "hour")

    km_days = (fc.node_days.drop_vars("region") * dmin_da).sum(("node", "hour"))
    carbon_days = travel.carbon_t_per_kwh * (km_days * e_per_km).sum("fleet")
    member_carbon = xr.DataArray(
        [float(carbon_days.values[fc.label.values == c].mean())
         for c in range(fc.probability.sizes["typical"])],
        dims="typical", coords={"typical": fc.probability["typical"].values})
    nearest = xr.DataArray(np.array(all_sites)[onehot.argmax(axis=2)], dims=("fleet", "node"),
                           coords=dmin_da.coords, name="nearest")
    return replace(
        fc,
        station_days=to_station(fc.node_days, "day").rename("station_days"),
        counts=to_station(fc.node_counts, "typical").rename("counts"),
        energy_kwh=to_station(fc.node_energy_kwh, "typical").rename("energy_kwh"),
        carbon_days_t=carbon_days.rename("carbon_days_t"),
        carbon_t=member_carbon.rename("carbon_t"),
        distance_days_km=km_days.transpose("day", "fleet").rename("distance_days_km"),
        nearest=nearest,
        distance_km=dmin_da.rename("distance_km"),
    )

