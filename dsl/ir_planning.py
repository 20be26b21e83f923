"""IR for planning decisions and for the EV / station constructs of seed 001.

Investments are a tagged union on `kind`; each kind holds exactly the data its
equations need (seed 000: reinforcement, mobile storage, EV replaceable batteries;
seed 001: DG units, substation, candidate lines, charging/swapping stations; and a
stationary battery sized by the planner).
Money is in CNY, powers in kW, energies in kWh, lengths in km, lives in years.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gridc.dsl.spans import Span


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    span: Span


class CountBounds(Node):
    min: int = 0
    max: int


class Costs(Node):
    """Unit costs of one investable item: per unit, per kW, per kWh or per km as
    the owning block says (`basis`)."""

    install_cny: float
    maintain_cny_per_y: float = 0.0
    life_y: float
    basis: Literal["each", "kW", "kWh", "km", "m2"] = "each"


# ------------------------------------------------------------------ seed 000


class Reinforcement(Node):
    kind: Literal["reinforcement"] = "reinforcement"
    name: str
    candidates: tuple[str, ...]  # line ids
    count: CountBounds
    costs: Costs


class MobileStorageType(Node):
    name: str
    power_kw: float
    energy_kwh: float
    efficiency: float = 0.95
    soc_min: float = 0.1
    soc_max: float = 0.9
    soc_init: float = 0.9
    wear_cny_per_kwh: float = 0.0
    costs: Costs
    max_units: int | None = None


class MobileStorage(Node):
    kind: Literal["mobile_storage"] = "mobile_storage"
    name: str
    types: tuple[MobileStorageType, ...]
    count: CountBounds
    depot: str
    candidates: tuple[str, ...] = ()  # buses a unit may connect to ( () = all )
    moves_max: int
    travel_h: float = 1.0


class EvSite(Node):
    bus: str
    evs: int
    piles: int


class PackType(Node):
    name: str
    pack_kwh: float
    costs: Costs


class EvBattery(Node):
    kind: Literal["ev_battery"] = "ev_battery"
    name: str
    sites: tuple[EvSite, ...]
    types: tuple[PackType, ...]
    ev_power_kw: float
    ev_q_kvar: float | None = None
    pile_power_kw: float
    pile_q_kvar: float
    efficiency: float = 0.95
    soc_min: float = 0.1
    soc_max: float = 0.9
    soc_init: float = 0.9
    power_factor: float = 0.9
    loss_cny_per_kwh: float = 0.0
    count: CountBounds
    per_site_max: int | None = None


# ------------------------------------------------------------------ seed 001


class DgUnits(Node):
    kind: Literal["dg"] = "dg"
    name: str
    source: Literal["wind", "pv"]
    bus: str
    unit_kw: float
    capacity_min_kw: float = 0.0
    capacity_max_kw: float
    profile: str | None = None
    costs: Costs  # per kW (kVA at unity power factor)
    power_factor: float = 1.0


class Substation(Node):
    kind: Literal["substation"] = "substation"
    name: str
    bus: str
    ratings_kva: tuple[float, ...]
    existing_kva: float = 0.0
    load_rate: float = 1.0
    power_factor: float = 0.9
    costs: Costs  # per kVA


class CandidateLine(Node):
    from_bus: str
    to_bus: str
    length_km: float | None = None  # None: Euclidean distance between bus coordinates
    existing: bool = False


class LineBuild(Node):
    kind: Literal["lines"] = "lines"
    name: str
    candidates: tuple[CandidateLine, ...]
    costs: Costs  # per km
    radial: bool = False  # the `radial` flag of the block


class Equipment(Node):
    """One kind of station equipment (charger-I, charger-II, swapper, swap storage)."""

    name: str
    role: Literal["charger_1", "charger_2", "swapper", "swap_storage"]
    power_kw: float = 0.0
    area_m2: float = 0.0  # per unit, or per kWh for swap storage
    costs: Costs


class StationSite(Node):
    name: str
    bus: str
    road_node: str | None = None
    land_cny_per_m2: float
    area_max_m2: float


class Transformer(Node):
    ratings_kva: tuple[float, ...]
    redundancy: float = 0.2
    simultaneity: float = 0.6
    load_rate: float = 0.75
    power_factor: float = 0.95
    costs: Costs  # per kVA


class Stations(Node):
    kind: Literal["stations"] = "stations"
    name: str
    sites: tuple[str, ...]  # StationSite names
    layout: Literal["integrated", "separate"] = "integrated"
    equipment: tuple[Equipment, ...]
    transformer: Transformer
    margin: float = 0.2  # charger-I margin beta
    sev_margin: float = 0.5
    land_life_y: float = 50.0
    count: CountBounds


# ------------------------------------------------------------------ stationary storage


class StorageBuild(Node):
    """A stationary battery to build at a bus: its power rating and energy capacity are
    chosen within the ranges, continuously and independently, or in whole units of
    (`unit_kw`, `unit_kwh`) when both are given (power = n x unit_kw, energy = n x
    unit_kwh, n whole)."""

    kind: Literal["storage"] = "storage"
    name: str
    bus: str
    power_min_kw: float = 0.0
    power_max_kw: float
    energy_min_kwh: float = 0.0
    energy_max_kwh: float
    unit_kw: float | None = None
    unit_kwh: float | None = None
    efficiency: float = 0.95  # one way
    soc_min: float = 0.1
    soc_max: float = 0.9
    soc_init: float = 0.5
    wear_cny_per_kwh: float = 0.0
    # the day ends with at least soc_init x E_size; out of the dump when off (see ir.Storage)
    cyclic: bool = Field(default=False, exclude_if=lambda on: not on)
    power_costs: Costs | None = None  # per kW of power rating (basis "kW")
    energy_costs: Costs | None = None  # per kWh of energy capacity (basis "kWh")


Investment = Annotated[
    Reinforcement | MobileStorage | EvBattery | DgUnits | Substation | LineBuild | Stations
    | StorageBuild,
    Field(discriminator="kind"),
]


# ------------------------------------------------------------------ EV travel (seed 001)


class RoadNode(Node):
    id: str
    x_km: float
    y_km: float
    region: str


class Region(Node):
    name: str
    kind: Literal["residential", "working", "commercial"]
    weight: float = 1.0


class EvArea(Node):
    name: str
    regions: tuple[Region, ...]
    nodes: tuple[RoadNode, ...]
    detour: float = 1.3  # road distance over straight-line distance


class Fleet(Node):
    name: str
    kind: Literal["plug_in", "swap"]
    per_day: int
    battery_kwh: float
    consumption_kwh_per_km: float
    charge_power_kw: float = 0.0
    min_level: float = 0.2  # battery fraction that triggers a charge or a swap
    chains: tuple[float, float, float, float]  # probabilities of travel chains I..IV


class Distribution(Node):
    family: Literal["gamma", "gev", "lognormal", "normal"]
    params: tuple[tuple[str, float], ...]


class SpeedBand(Node):
    start_h: float
    end_h: float
    upper_kmh: float
    lower_kmh: float


class TravelModel(Node):
    departure: Distribution
    park_working: Distribution
    park_commercial: Distribution
    drive: Distribution
    speeds: tuple[SpeedBand, ...]
    days: int = 1000
    typical_days: int = 4
    seed: int = 0
    carbon_t_per_kwh: float = 0.0
