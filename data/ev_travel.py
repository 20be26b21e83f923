"""Travel-chain simulation of seed 001, section 2 (step 1 of the EV load forecast).

One call of `simulate_fleet` draws every vehicle of many days at once, vectorised over
vehicles with numpy; the only Python loops run over the (at most three) legs of a travel
chain, over the speed bands and over the regions of an area, never over vehicles or hours.

The rules, as implemented (the seed's equations (6)-(12) are garbled in the OCR; where a
rule below is a reading rather than a transcription, the docstring says so):

* Chain types (Figure 2) with the fleet's probabilities: I  R -> W -> R, II  R -> C -> R,
  III  R -> W -> C -> R, IV  R -> C -> W -> R (R residential, W working, C commercial).
* Every stop draws its region by roulette over the regions of its kind (weights = region
  `weight`), then its road node by roulette within the region (equal node weights: the IR
  has no per-node weight).
* First departure ~ `departure`; parking in W ~ `park_working`, in C ~ `park_commercial`
  (scipy's `genextreme`: its shape `c` is MINUS the usual GEV shape xi, so c > 0 means a
  bounded upper tail); driving durations ~ `drive` (lognormal: `mu`, `sigma` of ln hours).
  Parking durations are truncated below at `MIN_PARK_H` (a GEV with c > 0 has an unbounded
  lower tail); times after 24 h wrap to the next morning of the same (typical) day.
* Speed of a leg: uniform between the lower and upper average speed of the band (Table 3)
  holding the leg's departure time. Distance = speed x duration (eq. 6-7); a leg's energy is
  capped at the usable battery (1 - min_level) x battery by shortening its duration: the
  seed excludes "the extreme scenario of completely depleting the battery".
* Battery level (eq. 7) falls by distance x consumption / battery per leg. The start-of-day
  level is uniform (`start_levels`): see there for the two populations.
* PEV (eq. 8): at the arrival of a parking (including the return home, where the next leg
  is tomorrow's first leg, taken equal to today's) the PEV charges, starting at arrival, if
  the level minus the next leg's energy would fall below min_level; it charges at
  charge_power until full or until it leaves, but at least to min_level + next leg.
* SEV (eq. 9): swaps during the leg in which the level reaches min_level (at that moment and
  place, the place mapped to the nearest road node, eq. 13-15), or at the first parking if
  the level would fall below min_level on the second leg ("a SEV generally does not go to a
  charging station for a battery swap after the initial parking"); a swap fills the battery.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from gridc.dsl import ir_planning as P

KINDS = ("residential", "working", "commercial")
R, W, C = 0, 1, 2
#: (stop kinds of chain types I..IV); stop 0 and the last stop are home.
CHAIN_STOPS = ((R, W, R, R), (R, C, R, R), (R, W, C, R), (R, C, W, R))
CHAIN_LEGS = np.array([2, 2, 3, 3])
MAX_LEGS = 3
MIN_PARK_H = 1.0 / 12.0  # 5 minutes: a shorter parking is no parking
Population = Literal["demand", "renewal"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


class ForecastError(ValueError):
    """The model cannot be forecast (missing fleet, empty region kind, bad parameters)."""


# ------------------------------------------------------------------ distributions

REQUIRED = {"gamma": ("shape", "scale"), "gev": ("c", "loc", "scale"),
            "lognormal": ("mu", "sigma"), "normal": ("mean", "std")}


def frozen(dist: P.Distribution, what: str = "distribution") -> Any:
    """The scipy frozen distribution of an IR `Distribution`: the single place where the
    DSL's parameter names meet scipy's, shared by the simulation and the tests (KS)."""
    p = dict(dist.params)
    missing = [k for k in REQUIRED[dist.family] if k not in p]
    if missing:
        raise ForecastError(f"{what}: {dist.family} needs {', '.join(missing)}")
    if dist.family == "gamma":
        if p["shape"] <= 0 or p["scale"] <= 0:
            raise ForecastError(f"{what}: gamma shape and scale must be positive")
        return stats.gamma(a=p["shape"], loc=p.get("loc", 0.0), scale=p["scale"])
    if dist.family == "gev":
        if p["scale"] <= 0:
            raise ForecastError(f"{what}: gev scale must be positive")
        return stats.genextreme(c=p["c"], loc=p["loc"], scale=p["scale"])
    if dist.family == "lognormal":
        if p["sigma"] <= 0:
            raise ForecastError(f"{what}: lognormal sigma must be positive")
        return stats.lognorm(s=p["sigma"], scale=float(np.exp(p["mu"])))
    if p["std"] <= 0:
        raise ForecastError(f"{what}: normal std must be positive")
    return stats.norm(loc=p["mean"], scale=p["std"])


def draw(dist: P.Distribution, rng: np.random.Generator, shape: tuple[int, ...],
         what: str = "distribution") -> F64:
    """Samples of `dist` (hours) drawn from `rng`."""
    return np.asarray(frozen(dist, what).rvs(size=shape, random_state=rng), dtype=float)


# ------------------------------------------------------------------ area


@dataclass(frozen=True)
class AreaIndex:
    """Integer view of an `EvArea`: node coordinates, region membership and the roulette
    tables, so that sampling is a few array look-ups."""

    node_ids: tuple[str, ...]
    xy: F64  # (node, 2) km
    node_region: I64  # (node,)
    region_names: tuple[str, ...]
    region_kind: I64  # (region,) index into KINDS
    region_weight: F64
    members: I64  # (region, max nodes) padded with -1
    counts: I64  # (region,)
    detour: float

    @classmethod
    def of(cls, area: P.EvArea) -> AreaIndex:
        names = tuple(r.name for r in area.regions)
        pos = {n: i for i, n in enumerate(names)}
        ids = tuple(n.id for n in area.nodes)
        if not ids:
            raise ForecastError(f"area '{area.name}' has no road nodes")
        reg = np.array([pos[n.region] for n in area.nodes], dtype=np.int64)
        counts = np.bincount(reg, minlength=len(names)).astype(np.int64)
        members = np.full((len(names), max(int(counts.max()), 1)), -1, dtype=np.int64)
        for r in range(len(names)):  # loop over regions (a handful), not vehicles
            idx = np.flatnonzero(reg == r)
            members[r, : len(idx)] = idx
        return cls(node_ids=ids, xy=np.array([[n.x_km, n.y_km] for n in area.nodes]),
                   node_region=reg, region_names=names,
                   region_kind=np.array([KINDS.index(r.kind) for r in area.regions],
                                        dtype=np.int64),
                   region_weight=np.array([r.weight for r in area.regions], dtype=float),
                   members=members, counts=counts, detour=area.detour)

    def node(self, node_id: str) -> int:
        try:
            return self.node_ids.index(node_id)
        except ValueError:
            raise ForecastError(f"'{node_id}' is not a road node of the area") from None

    def roulette(self, kind: int, rng: np.random.Generator, n: int) -> I64:
        """Road nodes for `n` stops of region kind `kind`: region by roulette over region
        weights (seed eq. 10-12), then a node uniformly within the region."""
        ok = (self.region_kind == kind) & (self.counts > 0)
        regions = np.flatnonzero(ok)
        if len(regions) == 0:
            raise ForecastError(f"no {KINDS[kind]} region with road nodes, but a travel chain "
                                f"needs one")
        w = self.region_weight[regions]
        r = regions[rng.choice(len(regions), size=n, p=w / w.sum())]
        j = np.minimum((rng.random(n) * self.counts[r]).astype(np.int64), self.counts[r] - 1)
        return self.members[r, j]

    def road_km(self, a: I64, b: I64) -> F64:
        """Road distance between nodes: detour x straight line (the seed's L_k,i)."""
        d = self.xy[a] - self.xy[b]
        return np.asarray(self.detour * np.hypot(d[..., 0], d[..., 1]), dtype=float)

    def nearest_node(self, pts: F64) -> I64:
        """The road node nearest each point (seed eq. 13-15: load coordinates -> nodes)."""
        if len(pts) == 0:
            return np.zeros(0, dtype=np.int64)
        d = np.hypot(pts[:, None, 0] - self.xy[None, :, 0], pts[:, None, 1] - self.xy[None, :, 1])
        return np.asarray(d.argmin(axis=1), dtype=np.int64)


# ------------------------------------------------------------------ result of one fleet


@dataclass
class Events:
    """Charge (PEV) or swap (SEV) events, one entry per event."""

    vehicle: I64  # index into the fleet's vehicles (day = vehicle // per_day)
    time_h: F64  # start of the charge or moment of the swap, hours since 0:00 (may pass 24)
    node: I64  # road node index
    level: F64  # battery level (fraction) when the event starts
    energy_kwh: F64  # energy to restore (PEV: charged; SEV: missing in the returned battery)
    leg: I64  # leg after whose arrival (PEV, SEV at first parking) or during which (SEV)
    where: I64  # 0 at a parking, 1 during travel

    @property
    def hour(self) -> I64:
        return np.asarray(np.floor(self.time_h).astype(np.int64) % 24, dtype=np.int64)


@dataclass
class Trips:
    """Everything drawn and derived for one fleet over several days (vehicle-major)."""

    fleet: P.Fleet
    days: int
    chain: I64  # (vehicle,) 0..3 = types I..IV
    n_legs: I64  # (vehicle,)
    stops: I64  # (vehicle, MAX_LEGS + 1) road node index of each stop
    depart: F64  # (vehicle, leg) departure times (h), NaN for unused legs
    arrive: F64  # (vehicle, leg)
    park_h: F64  # (vehicle, 2) parking at stops 1 and 2 (used ones), after truncation
    drive_h: F64  # (vehicle, leg) after the energy cap
    speed_kmh: F64  # (vehicle, leg)
    km: F64  # (vehicle, leg)
    frac: F64  # (vehicle, leg) battery fraction used by the leg, 0 for unused legs
    level0: F64  # (vehicle,) start-of-day level
    level_dep: F64  # (vehicle, leg) level when the leg starts (after any charge before it)
    level_end: F64  # (vehicle,) level back home (after any charge there)
    events: Events
    raw: dict[str, F64] = field(default_factory=dict)  # untruncated draws, for tests

    @property
    def day(self) -> I64:
        return np.arange(len(self.chain), dtype=np.int64) // self.fleet.per_day

    @classmethod
    def concat(cls, parts: list[Trips]) -> Trips:
        """Trips of consecutive chunks of days as one (vehicle indices renumbered)."""
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0] + [len(p.chain) for p in parts[:-1]])
        cat = {f: np.concatenate([getattr(p, f) for p in parts]) for f in (
            "chain", "n_legs", "stops", "depart", "arrive", "park_h", "drive_h", "speed_kmh",
            "km", "frac", "level0", "level_dep", "level_end")}
        ev = _collect([replace(p.events, vehicle=p.events.vehicle + o)
                       for p, o in zip(parts, offsets, strict=True)])
        raw = {k: np.concatenate([p.raw[k] for p in parts]) for k in parts[0].raw}
        return cls(fleet=parts[0].fleet, days=sum(p.days for p in parts), events=ev, raw=raw,
                   **cat)


# ------------------------------------------------------------------ simulation


def _speeds(travel: P.TravelModel, depart: F64, u: F64) -> F64:
    """Average speed of each leg: uniform between the band's lower and upper limit, the band
    being the one holding the leg's departure hour (Table 3)."""
    t = np.mod(depart, 24.0)
    speed = np.full(depart.shape, np.nan)
    for b in travel.speeds:  # a loop over a handful of bands
        inside = (t >= b.start_h) & (t < b.end_h) & np.isnan(speed)
        speed[inside] = (b.lower_kmh + u * (b.upper_kmh - b.lower_kmh))[inside]
    hole = np.isnan(speed) & ~np.isnan(depart)
    if hole.any():
        h = float(t[hole][0])
        raise ForecastError(f"no speed band covers {h:.2f} h: the speeds table must cover "
                            "0 h .. 24 h")
    return speed


def start_levels(fleet: P.Fleet, frac: F64, u: F64, population: Population) -> F64:
    """Start-of-day battery levels.

    The vehicles of the seed charge or swap only at stations, so over many days a vehicle's
    level cycles from full down to min_level and is, seen on a random morning, uniform
    ("renewal"). A PEV also never leaves home unable to make its first leg (it charged on
    last evening's arrival), so its level is uniform on [min + first leg, 1].

    The seed gives "daily total load numbers of PEVs and SEVs are both 200": `per_day` counts
    vehicles that need energy that day. "demand" draws exactly those: the renewal level
    conditioned on an event today, i.e. uniform on [min + first leg, min + first leg + day]
    for a PEV (the day's legs plus tomorrow's first, whose check happens on today's return)
    and [min, min + day] for a SEV, clipped at 1. "renewal" draws the unconditioned level
    (then only part of the fleet charges)."""
    lo_min = fleet.min_level
    day = frac.sum(axis=1)
    if fleet.kind == "plug_in":
        lo = lo_min + frac[:, 0]
        hi = np.minimum(1.0, lo + day) if population == "demand" else np.ones_like(lo)
    else:
        lo = np.full(len(frac), lo_min)
        hi = np.minimum(1.0, lo + day) if population == "demand" else np.ones_like(lo)
    return np.asarray(lo + u * (hi - lo), dtype=float)


def simulate_fleet(area: AreaIndex, fleet: P.Fleet, travel: P.TravelModel, days: int,
                   rng: np.random.Generator, population: Population = "demand") -> Trips:
    """Simulate `days` days of `fleet` (per_day vehicles each), all vehicles at once."""
    n = days * fleet.per_day
    chains = np.asarray(fleet.chains, dtype=float)
    chain = rng.choice(4, size=n, p=chains / chains.sum()).astype(np.int64)
    n_legs = CHAIN_LEGS[chain]
    kinds = np.asarray(CHAIN_STOPS, dtype=np.int64)[chain]  # (n, 4)
    # roulette per stop kind: one home, one working and one commercial node per vehicle
    home = area.roulette(R, rng, n) if n else np.zeros(0, np.int64)
    need_w = bool(np.isin(chain, (0, 2, 3)).any())
    need_c = bool(np.isin(chain, (1, 2, 3)).any())
    work = area.roulette(W, rng, n) if need_w else np.full(n, -1, np.int64)
    comm = area.roulette(C, rng, n) if need_c else np.full(n, -1, np.int64)
    by_kind = np.stack([home, work, comm], axis=1)
    stops = np.take_along_axis(by_kind, kinds, axis=1)  # (n, 4)

    raw = {
        "departure": draw(travel.departure, rng, (n,), "departure"),
        "drive": draw(travel.drive, rng, (n, MAX_LEGS), "drive"),
        "park_working": draw(travel.park_working, rng, (n, 2), "park_working"),
        "park_commercial": draw(travel.park_commercial, rng, (n, 2), "park_commercial"),
        "speed_u": rng.random((n, MAX_LEGS)),
        "level_u": rng.random(n),
    }
    park_kind = kinds[:, 1:3]  # kinds of stops 1 and 2
    park = np.where(park_kind == W, raw["park_working"], raw["park_commercial"])
    park = np.maximum(park, MIN_PARK_H)
    drive = np.maximum(raw["drive"], 0.0)

    used = np.arange(MAX_LEGS)[None, :] < n_legs[:, None]
    depart = np.full((n, MAX_LEGS), np.nan)
    arrive = np.full((n, MAX_LEGS), np.nan)
    speed = np.full((n, MAX_LEGS), np.nan)
    usable_km = (1.0 - fleet.min_level) * fleet.battery_kwh / fleet.consumption_kwh_per_km
    t = raw["departure"].copy()
    for leg in range(MAX_LEGS):  # the legs of a chain: at most three
        on = used[:, leg]
        depart[on, leg] = t[on]
        speed[:, leg] = _speeds(travel, depart[:, leg], raw["speed_u"][:, leg])
        drive[:, leg] = np.where(on, np.minimum(drive[:, leg], usable_km / np.where(
            on, speed[:, leg], 1.0)), 0.0)
        arrive[on, leg] = t[on] + drive[on, leg]
        if leg < 2:
            t = np.where(on, arrive[:, leg] + park[:, leg], t)
    km = np.where(used, np.nan_to_num(speed) * drive, 0.0)
    frac = km * fleet.consumption_kwh_per_km / fleet.battery_kwh
    level0 = start_levels(fleet, frac, raw["level_u"], population)
    trips = Trips(fleet=fleet, days=days, chain=chain, n_legs=n_legs, stops=stops,
                  depart=depart, arrive=arrive, park_h=park, drive_h=drive, speed_kmh=speed,
                  km=km, frac=frac, level0=level0, level_dep=np.full((n, MAX_LEGS), np.nan),
                  level_end=np.zeros(n), events=_no_events(), raw=raw)
    if fleet.kind == "plug_in":
        _plug_in(trips, area)
    else:
        _swap(trips, area)
    return trips


def _no_events() -> Events:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    return Events(vehicle=zi, time_h=z, node=zi, level=z, energy_kwh=z, leg=zi, where=zi)


def _collect(parts: list[Events]) -> Events:
    if not parts:
        return _no_events()
    out = Events(*(np.concatenate([getattr(p, f) for p in parts]) for f in (
        "vehicle", "time_h", "node", "level", "energy_kwh", "leg", "where")))
    order = np.lexsort((out.time_h, out.vehicle))
    return Events(*(getattr(out, f)[order] for f in (
        "vehicle", "time_h", "node", "level", "energy_kwh", "leg", "where")))


def _plug_in(tr: Trips, area: AreaIndex) -> None:
    """PEV rule (eq. 8): charge on arrival when the next leg would end below min_level."""
    fl = tr.fleet
    n = len(tr.chain)
    ids = np.arange(n, dtype=np.int64)
    last = tr.n_legs - 1
    lvl = tr.level0.copy()
    parts: list[Events] = []
    # checks happen before leg 1 and 2 (at stops 1, 2) and at the return home, whose next
    # leg is tomorrow's first (taken equal to today's); leg index of the check's next leg:
    for check in range(1, MAX_LEGS + 1):
        on = check <= tr.n_legs  # stop `check` is reached (the last one is home)
        home = on & (check == tr.n_legs)
        nxt = np.where(home, 0, np.minimum(check, MAX_LEGS - 1))
        f_next = np.where(on, tr.frac[ids, nxt], 0.0)
        arr = tr.arrive[ids, np.minimum(check - 1, last)]
        if check == 1:
            tr.level_dep[:, 0] = lvl
        # level on arrival at stop `check`
        lvl = np.where(on, lvl - tr.frac[:, check - 1], lvl)
        need = on & (lvl - f_next < fl.min_level)
        stay = np.where(home, tr.raw["departure"] + 24.0 - arr,
                        tr.park_h[ids, np.minimum(check - 1, 1)])
        stay = np.maximum(np.nan_to_num(stay), 0.0)
        if fl.charge_power_kw > 0:
            full = np.minimum(1.0, lvl + fl.charge_power_kw * stay / fl.battery_kwh)
        else:
            full = np.ones(n)
        after = np.maximum(full, fl.min_level + f_next)
        if need.any():
            parts.append(Events(vehicle=ids[need], time_h=arr[need],
                                node=tr.stops[ids, check][need], level=lvl[need],
                                energy_kwh=(after - lvl)[need] * fl.battery_kwh,
                                leg=np.full(int(need.sum()), check - 1, np.int64),
                                where=np.zeros(int(need.sum()), np.int64)))
        lvl = np.where(need, after, lvl)
        more = on & ~home
        if check < MAX_LEGS:
            tr.level_dep[:, check] = np.where(more, lvl, np.nan)
        tr.level_end = np.where(home, lvl, tr.level_end)
    tr.events = _collect(parts)


def _swap(tr: Trips, area: AreaIndex) -> None:
    """SEV rule (eq. 9): swap during the leg in which the level reaches min_level, or at
    the first parking when the second leg would end below it."""
    fl = tr.fleet
    n = len(tr.chain)
    ids = np.arange(n, dtype=np.int64)
    lvl = tr.level0.copy()
    parts: list[Events] = []
    for leg in range(MAX_LEGS):
        on = leg < tr.n_legs
        f = tr.frac[:, leg]
        if leg == 1:  # (b) at the first parking
            need = on & (lvl - f < fl.min_level)
            if need.any():
                parts.append(Events(vehicle=ids[need], time_h=tr.arrive[need, 0],
                                    node=tr.stops[need, 1], level=lvl[need],
                                    energy_kwh=(1.0 - lvl[need]) * fl.battery_kwh,
                                    leg=np.zeros(int(need.sum()), np.int64),
                                    where=np.zeros(int(need.sum()), np.int64)))
            lvl = np.where(need, 1.0, lvl)
        tr.level_dep[:, leg] = np.where(on, lvl, np.nan)
        # (a) during the leg
        cross = on & (lvl - f < fl.min_level)
        if cross.any():
            phi = (lvl[cross] - fl.min_level) / f[cross]  # share of the leg driven
            a, b = tr.stops[cross, leg], tr.stops[cross, leg + 1]
            pts = area.xy[a] + phi[:, None] * (area.xy[b] - area.xy[a])
            parts.append(Events(vehicle=ids[cross],
                                time_h=tr.depart[cross, leg] + phi * tr.drive_h[cross, leg],
                                node=area.nearest_node(pts),
                                level=np.full(int(cross.sum()), fl.min_level),
                                energy_kwh=np.full(int(cross.sum()),
                                                   (1.0 - fl.min_level) * fl.battery_kwh),
                                leg=np.full(int(cross.sum()), leg, np.int64),
                                where=np.ones(int(cross.sum()), np.int64)))
        lvl = np.where(cross, 1.0 - (f - (lvl - fl.min_level)), np.where(on, lvl - f, lvl))
    tr.level_end = lvl
    tr.events = _collect(parts)
