"""EV constructs of seed 001: planning area (regions, road nodes), fleets, the travel
model (distributions, speeds, Monte Carlo settings) and station sites."""

from __future__ import annotations

from gridc.dsl import ir_planning as P
from gridc.dsl.build.columns import Col, read_columns
from gridc.dsl.build.components import in_unit_interval, non_negative, positive
from gridc.dsl.build.head import read_head
from gridc.dsl.build.reader import Block, Context, to_float, to_numbers
from gridc.dsl.diagnostics import did_you_mean
from gridc.dsl.syntax import Atom, Stmt
from gridc.dsl.units import (
    AREA,
    DURATION,
    ENERGY,
    ENERGY_PER_LENGTH,
    FRACTION,
    LENGTH,
    MASS_PER_ENERGY,
    POWER,
    PRICE_AREA,
    SPEED,
    UnitError,
    factor,
)

REGION_KINDS = ("residential", "working", "commercial")
NODE_COLUMNS = {"id": Col("ref", True), "x": Col("quantity", True, LENGTH),
                "y": Col("quantity", True, LENGTH), "region": Col("ref", True)}


def build_area(ctx: Context, st: Stmt) -> P.EvArea | None:
    head = read_head(ctx, st, usage="area NAME { region R1 : residential, nodes table {...} }")
    b = Block(ctx, st.block or [], st.span, f"area{head.named}")
    regions = []
    for r in b.all("region"):
        rh = read_head(ctx, r, ("name", "kind"), "region NAME : residential|working|commercial")
        if rh.kind not in REGION_KINDS:
            ctx.error("GRID015", f"unknown region kind '{rh.kind}'",
                      rh.kind_atom.span if rh.kind_atom else r.span,
                      help=did_you_mean(rh.kind or "", REGION_KINDS, "kinds"))
            continue
        rb = Block(ctx, r.block or [], r.span, f"region{rh.named}")
        weight = rb.quantity("weight", FRACTION, default=1.0, check=positive)
        rb.finish()
        if rh.name and weight is not None:
            regions.append(P.Region(span=r.span, name=rh.name, kind=rh.kind, weight=weight))  # type: ignore[arg-type]
    table = b.table("nodes")
    detour = b.quantity("detour", FRACTION, default=1.3, check=positive)
    b.finish()
    nodes = [P.RoadNode(span=row.span, id=row.values["id"], x_km=row.values["x"],
                        y_km=row.values["y"], region=row.values["region"])
             for row in (read_columns(ctx, table, NODE_COLUMNS, "nodes") if table else [])]
    if head.name is None or table is None or detour is None:
        return None
    return P.EvArea(span=st.span, name=head.name, regions=tuple(regions), nodes=tuple(nodes),
                    detour=detour)


def build_fleet(ctx: Context, st: Stmt) -> P.Fleet | None:
    usage = ("fleet NAME : plug_in|swap { per_day 200, battery 50 kWh, "
             "consumption 0.25 kWh/km, ... }")
    head = read_head(ctx, st, ("name", "kind"), usage)
    if head.kind not in ("plug_in", "swap"):
        ctx.error("GRID015", f"unknown fleet kind '{head.kind}'",
                  head.kind_atom.span if head.kind_atom else st.span,
                  help=did_you_mean(head.kind or "", ["plug_in", "swap"], "kinds"))
        return None
    b = Block(ctx, st.block or [], st.span, f"fleet{head.named}")
    per_day = b.integer("per_day")
    battery = b.quantity("battery", ENERGY, check=positive)
    use = b.quantity("consumption", ENERGY_PER_LENGTH, check=positive)
    power = b.quantity("charge_power", POWER, default=0.0, check=non_negative)
    min_level = b.quantity("min_level", FRACTION, default=0.2, check=in_unit_interval)
    chains = b.numbers("chains", FRACTION)
    b.finish()
    if chains is not None and len(chains) != 4:
        ctx.error("GRID023", f"'chains' needs 4 probabilities (types I..IV), found {len(chains)}",
                  b.span_of("chains"), help="write e.g. 'chains [0.4, 0.3, 0.2, 0.1]'")
        return None
    if chains is not None and abs(sum(chains) - 1.0) > 1e-6:
        ctx.error("GRID042", f"travel-chain probabilities sum to {sum(chains):g}, not 1",
                  b.span_of("chains"), help="adjust them so that they add up to 1")
        return None
    if None in (head.name, per_day, battery, use, power, min_level, chains):
        return None
    return P.Fleet(span=st.span, name=head.name, kind=head.kind, per_day=per_day,  # type: ignore[arg-type]
                   battery_kwh=battery, consumption_kwh_per_km=use, charge_power_kw=power,
                   min_level=min_level, chains=chains)


FAMILIES = {"gamma": ("shape", "scale", "loc"), "gev": ("c", "loc", "scale"),
            "lognormal": ("mu", "sigma"), "normal": ("mean", "std")}
#: parameters without a unit: shapes, and lognormal's mu and sigma (of ln hours)
DIMENSIONLESS = {"shape", "c", "mu", "sigma"}


def _distribution(ctx: Context, atom: Atom, span_owner: Stmt) -> P.Distribution | None:
    if atom.kind != "call" or atom.value not in FAMILIES:
        ctx.error("GRID015", f"unknown distribution '{atom.value}'" if atom.kind == "call"
                  else "expected a distribution", atom.span,
                  help="gamma(shape = 6, scale = 1.3 h), gev(c = 0, loc = 8 h, scale = 2 h), "
                       "lognormal(mu = -1.5, sigma = 0.6) or normal(mean = 8 h, std = 1 h)")
        return None
    names = FAMILIES[str(atom.value)]
    params: list[tuple[str, float]] = []
    for arg in atom.items:
        if arg.key not in names or arg.kind != "number":
            ctx.error("GRID014", f"{atom.value} takes {', '.join(n + ' = ...' for n in names)}",
                      arg.span)
            return None
        if arg.unit and arg.key in DIMENSIONLESS:
            ctx.error("GRID014", f"{atom.value}'s {arg.key} has no unit, found '{arg.unit}'",
                      arg.span, help=f"write {arg.key} = {arg.value} (time parameters such "
                                     "as scale, loc, mean and std take hours)")
            return None
        try:
            f = factor(arg.unit, DURATION) if arg.unit else 1.0
        except UnitError as err:
            ctx.error(err.code, str(err), arg.span, help="distribution parameters are in hours")
            return None
        params.append((arg.key, float(arg.value) * f))
    return P.Distribution(span=atom.span, family=atom.value, params=tuple(params))  # type: ignore[arg-type]


SPEED_COLUMNS = {"start": Col("quantity", True, DURATION), "end": Col("quantity", True, DURATION),
                 "upper": Col("quantity", True, SPEED), "lower": Col("quantity", True, SPEED)}


def build_travel(ctx: Context, st: Stmt) -> P.TravelModel | None:
    b = Block(ctx, st.block or [], st.span, "travel")
    dists = {}
    for key in ("departure", "park_working", "park_commercial", "drive"):
        atom = b.value_atom(key, "gamma(shape = 6, scale = 1.3 h)")
        dists[key] = _distribution(ctx, atom, st) if isinstance(atom, Atom) else None
    table = b.table("speeds")
    days = b.integer("days", default=1000, minimum=1)
    typical = b.integer("typical_days", default=4, minimum=1)
    seed = b.integer("seed", default=0)
    carbon = b.quantity("carbon", MASS_PER_ENERGY, default=0.0, check=non_negative)
    b.finish()
    speeds = [P.SpeedBand(span=r.span, start_h=r.values["start"], end_h=r.values["end"],
                          upper_kmh=r.values["upper"], lower_kmh=r.values["lower"])
              for r in (read_columns(ctx, table, SPEED_COLUMNS, "speeds") if table else [])]
    if None in dists.values() or None in (days, typical, seed, carbon) or table is None:
        return None
    return P.TravelModel(span=st.span, departure=dists["departure"],  # type: ignore[arg-type]
                         park_working=dists["park_working"],  # type: ignore[arg-type]
                         park_commercial=dists["park_commercial"],  # type: ignore[arg-type]
                         drive=dists["drive"], speeds=tuple(speeds), days=days,  # type: ignore[arg-type]
                         typical_days=typical, seed=seed, carbon_t_per_kwh=carbon)


def build_station(ctx: Context, st: Stmt) -> P.StationSite | None:
    usage = "station NAME at BUS { road_node 5, land 0.22 kYuan/m2, area_max 2000 m2 }"
    head = read_head(ctx, st, ("name", "at"), usage)
    if head.at is None:
        ctx.error("GRID012", "a station site needs a bus: 'at BUS'", st.span, help=usage)
    b = Block(ctx, st.block or [], st.span, f"station{head.named}")
    road = b.ref("road_node", default=None)
    land = b.quantity("land", PRICE_AREA, check=non_negative)
    area = b.quantity("area_max", AREA, check=positive)
    b.finish()
    if None in (head.name, head.at, land, area):
        return None
    return P.StationSite(span=st.span, name=head.name, bus=head.at, road_node=road,
                         land_cny_per_m2=land, area_max_m2=area)


__all__ = ["build_area", "build_fleet", "build_station", "build_travel", "to_float", "to_numbers"]
