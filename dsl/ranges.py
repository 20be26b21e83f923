"""Value ranges: every number of the IR checked against a physical or practical range.

A number can be well-formed and still mean nothing a planner or the solver can use:
`life 1e-300 y` (a renewal every 10^-300 years), `v_max_pu 1e300`, `threads 100000`,
`base 1e-300 kV` (an impedance base of zero). The builders convert units and refuse
what is plainly wrong (a negative power, an efficiency above 1); this module holds
every numeric field of every IR node to a range written down once (`RANGES`), with
the range in the message, and checks the orders that relate fields (p_min <= p_max,
soc_min <= soc_init <= soc_max, ...). It runs on the model as written and, through
`gridc.dsl.variants`, on the model as each study's `set` lines leave it, so an
override is held to the same ranges as the text it replaces.

The ranges are generous (a distribution network of up to 10 GW, prices up to a
million CNY per kWh, lives of 0.1 to 200 years): their job is to keep numbers that
break the arithmetic or the solver (overflow, zero bases, loops over renewals,
thread counts HiGHS aborts on) out of a model, not to second-guess a plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import get_args

from pydantic import BaseModel

from gridc.dsl import ir
from gridc.dsl import ir_planning as P
from gridc.dsl.budgets import MAX_STEPS
from gridc.dsl.diagnostics import Collector
from gridc.dsl.locate import value_span
from gridc.dsl.spans import Span

POWER_MAX = 1e7  # kW: 10 GW, far above any distribution network
ENERGY_MAX = 1e8  # kWh
MONEY_MAX = 1e12  # CNY (per unit, kW, kWh or km of an investment)
PRICE_MAX = 1e6  # CNY per kWh (a thousand times a value of lost load)
LENGTH_MAX = 1e4  # km
COUNT_MAX = 10_000  # units of one investment
RESTARTS_MAX = 1_000  # k-means runs of a history (each is a full k-means)
SEED_MAX = 2**31 - 1  # HiGHS's random_seed is a 32-bit int
THREADS_MAX = 256
ITERATIONS_MAX = 100_000  # PSO iterations
DAYS_MAX = 100_000  # simulated EV days (about 270 years)


@dataclass(frozen=True)
class Range:
    """The allowed values of one field. `lo`/`hi` None: that side is checked elsewhere
    (an older rule with its own message); `key`: the property the value is written
    after in the .grid text (for the caret), default the field's name."""

    field: str
    lo: float | None
    hi: float | None
    unit: str = ""
    key: str | None = None
    lo_open: bool = False
    why: str | None = None
    name: str | None = None  # how messages name it (default: `key`)

    def holds(self, v: float) -> bool:
        if not math.isfinite(v):
            return False
        if self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)):
            return False
        return self.hi is None or v <= self.hi

    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        lo = _num(self.lo) if self.lo is not None else None
        hi = _num(self.hi) if self.hi is not None else None
        if lo is None:
            return f"at most {hi}{unit}"
        if hi is None:
            return f"more than {lo}{unit}" if self.lo_open else f"at least {lo}{unit}"
        if self.lo_open:
            return f"more than {lo} and at most {hi}{unit}"
        return f"{lo} .. {hi}{unit}"


def _num(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e16:
        return f"{int(v):,}"
    return f"{v:g}"


LIFE = (0.1, 200.0)  # years: a tenth of a year to two centuries


def _life(field: str, key: str = "life") -> Range:
    return Range(field, *LIFE, "y", key, why="lives run from 0.1 to 200 years")


def _fraction(field: str, key: str | None = None, open_lo: bool = False) -> Range:
    return Range(field, 0.0, 1.0, "", key, lo_open=open_lo)


def _power(field: str, key: str | None = None, lo: float | None = 0.0,
           open_lo: bool = False) -> Range:
    return Range(field, lo, POWER_MAX, "kW", key, lo_open=open_lo)


def _cny_per_kwh(field: str, key: str | None = None, lo: float | None = 0.0) -> Range:
    return Range(field, lo, PRICE_MAX, "CNY/kWh", key)


#: node type -> the ranges of its numeric fields
RANGES: dict[type, tuple[Range, ...]] = {
    ir.Network: (
        Range("base_kv", 1e-4, 1e3, "kV", "base", name="base voltage"),
        Range("base_kva", 1e-3, POWER_MAX, "kVA", "base", name="base power"),
        # v_min > 0 and v_min <= v_max: checks.check_network (GRID024)
        Range("v_min_pu", None, 2.0, "pu", "voltage"),
        Range("v_max_pu", None, 2.0, "pu", "voltage"),
        Range("slack_v_pu", 0.5, 1.5, "pu", "slack", name="slack voltage"),
        Range("cable_r_ohm_per_km", 0.0, 1e3, "ohm/km", "cable_r"),
        Range("cable_x_ohm_per_km", 0.0, 1e3, "ohm/km", "cable_x"),
        _power("cable_rating_kva", "cable_rating", open_lo=True)),
    ir.Bus: (Range("p_kw", None, POWER_MAX, "kW", "p"), _power("q_kvar", "q", -POWER_MAX),
             Range("priority", None, 1e6, "", "priority"),
             Range("v_min_pu", 0.1, 2.0, "pu", "v_min"), Range("v_max_pu", 0.1, 2.0, "pu", "v_max"),
             Range("x_km", -1e5, 1e5, "km", "x"), Range("y_km", -1e5, 1e5, "km", "y")),
    ir.Line: (Range("r_ohm", None, 1e4, "ohm", "r"), Range("x_ohm", None, 1e4, "ohm", "x"),
              Range("rating_kva", None, POWER_MAX, "kVA", "rating"),
              Range("length_km", 0.0, LENGTH_MAX, "km", "length")),
    ir.Horizon: (Range("steps", 1, MAX_STEPS, "steps", "horizon", name="the number of steps",
                       why="a horizon holds at most a million steps (a year of minutes is "
                           "525,600)"),
                 Range("step_h", 1 / 3600, 8760.0, "h", "step")),
    ir.Economics: (_fraction("discount"), _life("life_y"),
                   Range("days_per_year", 0.0, 366.0, "", "days_per_year", lo_open=True)),
    ir.Load: (_power("p_kw", "p"), _power("q_kvar", "q", -POWER_MAX),
              Range("priority", 0.0, 1e6, "", "priority")),
    ir.Generator: (_power("p_max_kw", "p_max"), _power("p_min_kw", "p_min"),
                   _power("q_max_kvar", "q_max", -POWER_MAX),
                   _power("q_min_kvar", "q_min", -POWER_MAX),
                   _cny_per_kwh("fuel_cny_per_kwh", "fuel", -PRICE_MAX),
                   _cny_per_kwh("curtailment_cny_per_kwh", "curtailment")),
    ir.Storage: (_power("power_kw", "power", open_lo=True),
                 Range("energy_kwh", 0.0, ENERGY_MAX, "kWh", "energy", lo_open=True),
                 _fraction("efficiency", open_lo=True), _fraction("soc_min", "soc"),
                 _fraction("soc_max", "soc"), _fraction("soc_init"),
                 _cny_per_kwh("wear_cny_per_kwh", "wear")),
    ir.Scaling: (Range("factor", 0.0, 100.0, "", "scale"),),
    ir.Scenario: (_fraction("probability"),),
    ir.Outage: (Range("start_h", 0.0, None, "h", "from"),),
    ir.HistoryEvent: (Range("load_level", 0.0, 10.0, "pu", "load"),
                      Range("dg_level", 0.0, 10.0, "pu", "dg")),
    ir.HistorySource: (Range("k", 1, COUNT_MAX, "", "k"), Range("seed", 0, 2**32 - 1, "", "seed"),
                       Range("restarts", 1, RESTARTS_MAX, "", "restarts")),
    ir.Penalty: (_cny_per_kwh("cny_per_kwh", "penalty"),),
    ir.SolveOptions: (
        _fraction("gap"), Range("time_limit_s", 0.0, 366 * 86400.0, "s", "time_limit",
                                lo_open=True, why="a time limit of at most a year"),
        Range("threads", 1, THREADS_MAX, "", "threads",
              why="HiGHS runs at most a few threads per core usefully; 100,000 made it abort"),
        Range("seed", 0, SEED_MAX, "", "seed"), Range("particles", 1, COUNT_MAX, "", "particles"),
        Range("iterations", 1, ITERATIONS_MAX, "", "iterations")),
    P.Costs: (Range("install_cny", 0.0, MONEY_MAX, "CNY", "install"),
              Range("maintain_cny_per_y", 0.0, MONEY_MAX, "CNY/y", "maintain"), _life("life_y")),
    P.CountBounds: (Range("min", 0, COUNT_MAX, "", "count"),
                    Range("max", 0, COUNT_MAX, "", "count")),
    P.MobileStorageType: (
        _power("power_kw", "power", open_lo=True),
        Range("energy_kwh", 0.0, ENERGY_MAX, "kWh", "energy", lo_open=True),
        _fraction("efficiency", open_lo=True), _fraction("soc_min", "soc"),
        _fraction("soc_max", "soc"),
        _fraction("soc_init"), _cny_per_kwh("wear_cny_per_kwh", "wear"),
        Range("max_units", 0, COUNT_MAX, "", "max")),
    P.MobileStorage: (Range("moves_max", 0, COUNT_MAX, "", "moves"),
                      Range("travel_h", 0.0, 8760.0, "h", "travel")),
    P.EvSite: (Range("evs", 0, 1e6, "", "evs"), Range("piles", 0, 1e6, "", "piles")),
    P.PackType: (Range("pack_kwh", 0.0, 1e5, "kWh", "pack", lo_open=True),),
    P.EvBattery: (_power("ev_power_kw", "ev_power", open_lo=True), _power("ev_q_kvar", "ev_q"),
                  _power("pile_power_kw", "pile_power", open_lo=True),
                  _power("pile_q_kvar", "pile_q"),
                  _fraction("efficiency", open_lo=True), _fraction("soc_min", "soc"),
                  _fraction("soc_max", "soc"), _fraction("soc_init"),
                  _fraction("power_factor", open_lo=True), _cny_per_kwh("loss_cny_per_kwh", "loss"),
                  Range("per_site_max", 0, 1e5, "", "per_site_max")),
    P.DgUnits: (_power("unit_kw", "unit", open_lo=True), _power("capacity_min_kw", "capacity"),
                _power("capacity_max_kw", "capacity"), _fraction("power_factor", open_lo=True)),
    P.Substation: (_power("existing_kva", "existing"), _fraction("load_rate", open_lo=True),
                   _fraction("power_factor", open_lo=True)),
    P.CandidateLine: (Range("length_km", 0.0, LENGTH_MAX, "km", "length"),),
    P.Equipment: (_power("power_kw", "power"), Range("area_m2", 0.0, 1e6, "m2", "area")),
    P.StationSite: (Range("land_cny_per_m2", 0.0, 1e6, "CNY/m2", "land"),
                    Range("area_max_m2", 0.0, 1e7, "m2", "area_max", lo_open=True)),
    P.Transformer: (Range("redundancy", 0.0, 10.0, "", "redundancy"),
                    _fraction("simultaneity", open_lo=True), _fraction("load_rate", open_lo=True),
                    _fraction("power_factor", open_lo=True)),
    P.Stations: (Range("margin", 0.0, 10.0, "", "margin"),
                 Range("sev_margin", 0.0, 10.0, "", "sev_margin"),
                 _life("land_life_y", "land_life")),
    P.StorageBuild: (Range("power_max_kw", None, POWER_MAX, "kW", "power"),
                     Range("energy_max_kwh", None, ENERGY_MAX, "kWh", "energy"),
                     Range("unit_kw", None, POWER_MAX, "kW", "unit"),
                     Range("unit_kwh", None, ENERGY_MAX, "kWh", "unit"),
                     Range("wear_cny_per_kwh", None, PRICE_MAX, "CNY/kWh", "wear")),
    P.RoadNode: (Range("x_km", -1e5, 1e5, "km", "x"), Range("y_km", -1e5, 1e5, "km", "y")),
    P.Region: (Range("weight", 0.0, 1e6, "", "weight", lo_open=True),),
    P.EvArea: (Range("detour", 0.0, 10.0, "", "detour", lo_open=True),),
    P.Fleet: (Range("per_day", 0, 100_000, "vehicles", "per_day"),
              Range("battery_kwh", 0.0, 1e4, "kWh", "battery", lo_open=True),
              Range("consumption_kwh_per_km", 0.0, 100.0, "kWh/km", "consumption", lo_open=True),
              Range("charge_power_kw", 0.0, 1e4, "kW", "charge_power"),
              _fraction("min_level")),
    P.SpeedBand: (Range("start_h", 0.0, 24.0, "h", "start"), Range("end_h", 0.0, 24.0, "h", "end"),
                  Range("upper_kmh", 0.0, 300.0, "km/h", "upper", lo_open=True),
                  Range("lower_kmh", 0.0, 300.0, "km/h", "lower", lo_open=True)),
    P.TravelModel: (Range("days", 1, DAYS_MAX, "days", "days",
                          why="each simulated day draws every vehicle of every fleet"),
                    Range("typical_days", 1, 366, "days", "typical_days"),
                    Range("seed", 0, 2**32 - 1, "", "seed"),
                    Range("carbon_t_per_kwh", 0.0, 1.0, "t/kWh", "carbon")),
}

#: nodes that are table rows: their span is the row (a caret under all of it)
_ROWS = (ir.Bus, ir.Line, P.EvSite, P.CandidateLine, P.RoadNode, P.SpeedBand)


def _label(node: BaseModel, owner: str) -> str:
    """How a message names `node` (nested nodes without a name: by their owner)."""
    if isinstance(node, ir.Bus):
        return f"bus {node.id}"
    if isinstance(node, ir.Line):
        return f"line '{node.id}'"
    if isinstance(node, P.RoadNode):
        return f"road node {node.id}"
    if isinstance(node, P.EvSite):
        return f"site {node.bus} of {owner}"
    if isinstance(node, P.CandidateLine):
        return f"candidate line {node.from_bus}-{node.to_bus}"
    if isinstance(node, ir.Model):
        return "the model"
    if isinstance(node, ir.Penalty):
        return f"penalty {node.kind}"
    if isinstance(node, P.Transformer):
        return f"the transformer of {owner}"
    if isinstance(node, ir.Horizon | ir.Economics | P.TravelModel):
        return {ir.Horizon: "horizon", ir.Economics: "economics",
                P.TravelModel: "travel"}[type(node)]
    name = getattr(node, "name", None)
    if not isinstance(name, str):
        return owner
    kinds = {ir.Network: "network", ir.Load: "load", ir.Generator: "generator",
             ir.Storage: "storage", ir.Profile: "profile", ir.Scenario: "scenario",
             ir.ScenarioSet: "scenarios", ir.HistoryEvent: "event", ir.Study: "study",
             P.MobileStorageType: "type", P.PackType: "type", P.Equipment: "equipment",
             P.Region: "region", P.EvArea: "area", P.Fleet: "fleet",
             P.StationSite: "station"}
    kind = kinds.get(type(node), "investment")
    inner = isinstance(node, P.MobileStorageType | P.PackType | P.Equipment)
    return f"{kind} '{name}'" + (f" of {owner}" if inner else "")


@cache
def _node_fields(cls: type) -> tuple[str, ...]:
    """The fields of IR class `cls` that may hold IR nodes (alone or in a tuple)."""
    def holds_node(annotation: object) -> bool:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return not issubclass(annotation, Span)
        return any(holds_node(a) for a in get_args(annotation))

    fields = getattr(cls, "model_fields", {})
    return tuple(name for name, f in fields.items() if holds_node(f.annotation))


def walk(node: BaseModel, owner: str = "the model") -> Iterator[tuple[BaseModel, str]]:
    """Every IR node below (and including) `node`, with the label of its owner (a
    node's own label, `_label(node, owner)`, is made only for nodes that own others)."""
    yield node, owner
    fields = _node_fields(type(node))
    if not fields:
        return
    label = _label(node, owner)
    for name in fields:
        value = getattr(node, name)
        if isinstance(value, BaseModel):
            yield from walk(value, label)
        elif isinstance(value, tuple):
            for item in value:
                yield from walk(item, label)


def _where(m: ir.Model, node: BaseModel, key: str | None) -> Span:
    span: Span = node.span  # type: ignore[attr-defined]
    if key is None or isinstance(node, _ROWS):
        return span
    return value_span(m, span, key)


def _report(d: Collector, m: ir.Model, node: BaseModel, label: str, r: Range,
            value: float, unit: str | None = None) -> None:
    shown = unit if unit is not None else r.unit
    found = f"{value:g}" + (f" {shown}" if shown else "")
    d.error("GRID023", f"{label}: {r.name or r.key or r.field} must be {r.text()}, found {found}",
            _where(m, node, r.key or r.field), help=r.why)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_node(m: ir.Model, d: Collector, node: BaseModel, owner: str) -> None:
    """The ranges and orders of one node (not of the nodes below it); `owner`: the
    label of the node that holds it."""
    for r in RANGES.get(type(node), ()):
        value = getattr(node, r.field)
        if _number(value) and not r.holds(float(value)):
            _report(d, m, node, _label(node, owner), r, float(value))
    for rule in ORDERS.get(type(node), ()):
        rule(m, d, node, owner)


def check_ranges(m: ir.Model, d: Collector) -> None:
    """Every numeric field of the model within its range (GRID023), every order of
    related fields (GRID024). Nodes are checked kind by kind, a field at a time over
    all nodes of a kind (min and max first: a 100,000-bus network in milliseconds)."""
    by_type: dict[type, list[tuple[BaseModel, str]]] = {}
    for node, owner in walk(m):
        by_type.setdefault(type(node), []).append((node, owner))
    for kind, items in by_type.items():
        for r in RANGES.get(kind, ()):
            get = attrgetter(r.field)
            values = [v for v in map(get, (n for n, _ in items)) if v is not None]
            if not values or (r.holds(float(min(values))) and r.holds(float(max(values)))
                              and not any(map(math.isnan, values))):
                continue
            for node, owner in items:
                value = getattr(node, r.field)
                if _number(value) and not r.holds(float(value)):
                    _report(d, m, node, _label(node, owner), r, float(value))
        for rule in ORDERS.get(kind, ()):
            for node, owner in items:
                rule(m, d, node, owner)


# ------------------------------------------------------------------ orders and lists


def _order(m: ir.Model, d: Collector, node: BaseModel, owner: str, lo: str, hi: str,
           key: str, unit: str = "") -> None:
    a, b = getattr(node, lo), getattr(node, hi)
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or a <= b:
        return
    u = f" {unit}" if unit else ""
    d.error("GRID024", f"{_label(node, owner)}: {lo} {a:g}{u} exceeds {hi} {b:g}{u}",
            _where(m, node, key), help=f"{lo} must not exceed {hi}")


def _soc(m: ir.Model, d: Collector, node: BaseModel, owner: str) -> None:
    lo, hi, init = (getattr(node, f) for f in ("soc_min", "soc_max", "soc_init"))
    if lo > hi:
        _order(m, d, node, owner, "soc_min", "soc_max", "soc")
    elif not lo <= init <= hi:
        label = _label(node, owner)
        d.error("GRID024", f"{label}: soc_init {init:g} lies outside soc {lo:g} .. {hi:g}",
                _where(m, node, "soc_init"), help="the initial state of charge must lie "
                                                  "within soc")


def _numbers(m: ir.Model, d: Collector, node: BaseModel, owner: str, field: str, key: str,
             r: Range, most: int = 100) -> None:
    label = _label(node, owner)
    values = getattr(node, field)
    if len(values) > most:
        d.error("GRID023", f"{label}: {key} lists {len(values):,} values, at most {most}",
                _where(m, node, key))
    bad = next((v for v in values if not r.holds(v)), None)
    if bad is not None:
        _report(d, m, node, label, r, bad)


_RATING = Range("ratings_kva", 0.0, POWER_MAX, "kVA", "ratings", lo_open=True)


def _profile(m: ir.Model, d: Collector, node: BaseModel, owner: str) -> None:
    assert isinstance(node, ir.Profile)
    limit = {"": 100.0, "CNY/kWh": PRICE_MAX}.get(node.unit, POWER_MAX)
    if max(map(abs, node.values), default=0.0) <= limit \
            and not any(map(math.isnan, node.values)):  # fast: no Python loop
        return
    bad = next((k for k, v in enumerate(node.values)
                if not (math.isfinite(v) and abs(v) <= limit)), None)
    if bad is not None:
        unit = f" {node.unit}" if node.unit else " (per unit)"
        label = _label(node, owner)
        d.error("GRID023", f"{label}: value {bad + 1} is {node.values[bad]:g}, outside "
                f"{-limit:g} .. {limit:g}{unit}", node.span,
                help="per-unit profiles lie within -100 .. 100, prices within a million "
                     "CNY/kWh, powers and energies within 10 GW(h)")


def _grid_price(m: ir.Model, d: Collector, node: BaseModel, owner: str) -> None:
    assert isinstance(node, ir.Price)
    if node.value is None:
        return
    r = Range("value", -PRICE_MAX, PRICE_MAX, "CNY/kWh", "price") if node.kind == "grid" \
        else Range("value", 0.0, 1e9, "CNY/t", "price")
    if not r.holds(node.value):
        d.error("GRID023", f"price {node.kind}: the price must be {r.text()}, found "
                f"{node.value:g} {r.unit}", node.span)


def _dg(m: ir.Model, d: Collector, node: BaseModel, owner: str) -> None:
    assert isinstance(node, P.DgUnits)
    _order(m, d, node, owner, "capacity_min_kw", "capacity_max_kw", "capacity", "kW")
    units = node.capacity_max_kw / node.unit_kw if node.unit_kw > 0 else 0.0
    if units > 1e6:
        label = _label(node, owner)
        d.error("GRID023", f"{label}: capacity {node.capacity_max_kw:g} kW in units of "
                f"{node.unit_kw:g} kW is {units:.3g} units, at most 1,000,000",
                _where(m, node, "unit"), help="choose a larger unit")


def _stations(m: ir.Model, d: Collector, node: BaseModel, owner: str) -> None:
    assert isinstance(node, P.Stations)
    n, k = len(node.sites), node.count.max
    if k > n:
        label = _label(node, owner)
        d.error("GRID023", f"{label}: count max {k} exceeds the {n} sites", node.count.span,
                help=f"at most {n} of the sites can be chosen")
        return
    cases = math.comb(n, k) if node.layout == "integrated" else n * (n - 1)
    if cases > 1000:
        label = _label(node, owner)
        d.error("GRID023", f"{label}: choosing {k} of {n} sites makes {cases:,} sub-cases, "
                "at most 1,000", node.count.span,
                help="each sub-case is a model of its own: give fewer sites or a smaller "
                     "count")


def _distribution(m: ir.Model, d: Collector, node: BaseModel, owner: str) -> None:
    assert isinstance(node, P.Distribution)
    params = dict(node.params)
    needed = {"gamma": ("shape", "scale"), "gev": ("c", "loc", "scale"),
              "lognormal": ("mu", "sigma"), "normal": ("mean", "std")}[node.family]
    missing = [p for p in needed if p not in params]
    if missing:
        d.error("GRID012", f"{node.family} needs {', '.join(missing)}", node.span,
                help=f"write {node.family}(" + ", ".join(f"{p} = ..." for p in needed) + ")")
    for key, value in node.params:
        positive = key in ("shape", "scale", "sigma", "std")
        r = Range(key, 0.0 if positive else -1e4, 1e4, "", key, lo_open=positive)
        if not r.holds(value):
            d.error("GRID023", f"{node.family}: {key} must be {r.text()}, found {value:g}",
                    node.span)


def _speeds(m: ir.Model, d: Collector, node: BaseModel, owner: str) -> None:
    assert isinstance(node, P.SpeedBand)
    _order(m, d, node, owner, "lower_kmh", "upper_kmh", "lower", "km/h")
    if node.end_h <= node.start_h:
        d.error("GRID024", f"speed band: it must end after it starts ({node.start_h:g} h .. "
                f"{node.end_h:g} h)", node.span)


#: relations between the fields of one node, and lists of numbers
ORDERS: dict[type, tuple[Callable[[ir.Model, Collector, BaseModel, str], None], ...]] = {
    ir.Bus: (lambda m, d, n, ow: _order(m, d, n, ow, "v_min_pu", "v_max_pu", "v_min", "pu"),),
    ir.Generator: (lambda m, d, n, ow: _order(m, d, n, ow, "p_min_kw", "p_max_kw", "p_min",
                                              "kW"),
                   lambda m, d, n, ow: _order(m, d, n, ow, "q_min_kvar", "q_max_kvar", "q_min",
                                              "kvar")),
    ir.Storage: (_soc,),
    ir.Profile: (_profile,),
    ir.Price: (_grid_price,),
    P.CountBounds: (lambda m, d, n, ow: _order(m, d, n, ow, "min", "max", "count"),),
    P.EvBattery: (_soc,),
    P.DgUnits: (_dg,),
    P.Stations: (_stations,),
    P.Distribution: (_distribution,),
    P.SpeedBand: (_speeds,),
    P.TravelModel: (lambda m, d, n, ow: _order(m, d, n, ow, "typical_days", "days",
                                               "typical_days"),),
    P.Fleet: (lambda m, d, n, ow: _numbers(m, d, n, ow, "chains", "chains",
                                           Range("chains", 0.0, 1.0, "", "chains")),),
    P.Substation: (lambda m, d, n, ow: _numbers(m, d, n, ow, "ratings_kva", "ratings",
                                                _RATING),),
    P.Transformer: (lambda m, d, n, ow: _numbers(m, d, n, ow, "ratings_kva", "ratings",
                                                 _RATING),),
}
