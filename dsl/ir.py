"""The intermediate representation: what a `.grid` model means, in canonical units.

Frozen pydantic models with `extra="forbid"`; every node carries the `Span` it was
written at. Field names carry their unit (p_kw, energy_kwh, cost_cny, ...); money is
in the model currency unit (CNY). Planning constructs (investments, EV areas,
stations) live in `gridc.dsl.ir_planning`; this module holds the network, its
components, scenarios, studies and the root `Model`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gridc.dsl.ir_planning import (
    EvArea,
    Fleet,
    Investment,
    StationSite,
    TravelModel,
)
from gridc.dsl.spans import Span


class Node(BaseModel):
    """Base of every IR node: immutable, no unknown fields, always a span."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    span: Span


# ------------------------------------------------------------------ network


class Bus(Node):
    id: str
    p_kw: float = 0.0
    q_kvar: float = 0.0
    priority: float = 1.0
    v_min_pu: float | None = None
    v_max_pu: float | None = None
    x_km: float | None = None
    y_km: float | None = None
    region: str | None = None
    vn_kv: float | None = None  # nominal voltage (per-unit base); None: the network base


class TransformerData(BaseModel):
    """What a `transformers` row states, as written (fractions for %): kept next to the
    derived branch so that reports and the AC check can show the nameplate."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    vk: float  # short-circuit voltage, fraction of rated voltage (on the own rating)
    vkr: float = 0.0  # its resistive part
    vn_hv_kv: float
    vn_lv_kv: float
    tap_pos: float = 0.0
    tap_neutral: float = 0.0
    tap_step: float = 0.0  # fraction per step
    tap_side: Literal["hv", "lv"] = "hv"
    ratio: float = 1.0  # extra off-nominal ratio at the HV side (MATPOWER TAP)
    pfe_kw: float = 0.0  # no-load (iron) losses
    i0: float = 0.0  # no-load current, fraction of rated current


BranchKind = Literal["line", "transformer", "switch"]


class Line(Node):
    """A branch of the network: a line (or tie), a transformer or a switch.

    All three share one `line` dimension in the compiled model. `r_ohm`, `x_ohm` are
    ohms at the nominal voltage of the from bus (for a transformer: its short-circuit
    impedance referred to the HV bus level; for a switch: 0, a closed switch equates
    the voltages). `tap_ratio` is the off-nominal ratio τ at the from side in per unit
    of the bus bases (1 for lines and switches); `b_us` the total shunt (charging)
    susceptance, half at each end."""

    id: str
    from_bus: str
    to_bus: str
    r_ohm: float
    x_ohm: float
    rating_kva: float | None = None
    length_km: float | None = None
    normally_open: bool = False  # a tie line / switch that is open in the base case
    switchable: bool = False
    kind: BranchKind = "line"
    b_us: float = 0.0
    tap_ratio: float = 1.0
    transformer: TransformerData | None = None


class Shunt(Node):
    """A capacitor bank or reactor: q_kvar at 1 pu, positive = capacitive (injects Q,
    MATPOWER's Bs sign; pandapower's shunt q_mvar has the opposite sign); p_kw consumed
    at 1 pu. Both scale with v² (constant admittance)."""

    id: str
    bus: str
    q_kvar: float
    p_kw: float = 0.0


class Network(Node):
    name: str
    base_kv: float
    base_kva: float
    slack_bus: str
    slack_v_pu: float = 1.0
    v_min_pu: float = 0.95
    v_max_pu: float = 1.05
    load_profile: str | None = None
    cable_r_ohm_per_km: float | None = None
    cable_x_ohm_per_km: float | None = None
    cable_rating_kva: float | None = None
    buses: tuple[Bus, ...]
    lines: tuple[Line, ...]  # every branch: lines, ties, transformers, switches
    shunts: tuple[Shunt, ...] = ()
    # apparent-power ratings |S| <= S_max as a polygon of `rating_sides` sides, outer
    # (circumscribed: overshoot <= 1/cos(pi/N) - 1) or inner (inscribed: never above)
    rating_sides: int = 16
    rating_fit: Literal["outer", "inner"] = "outer"

    def bus_vn_kv(self) -> dict[str, float]:
        """Nominal voltage per bus id (the network base where a bus gives none)."""
        return {b.id: self.base_kv if b.vn_kv is None else b.vn_kv for b in self.buses}


# ------------------------------------------------------------------ data over time


class Profile(Node):
    """A series over the horizon, e.g. a per-unit load shape or a price in CNY/kWh."""

    name: str
    values: tuple[float, ...]
    unit: str = ""  # canonical unit of the values ("" = per unit / dimensionless)
    source: str = "inline"


class Horizon(Node):
    steps: int
    step_h: float


class Economics(Node):
    currency: str = "CNY"
    discount: float = 0.08
    life_y: float = 30.0
    days_per_year: float = 365.0
    # how investments are costed: "present_value" (seed 000: present value over `life_y`
    # with replacements and residual value) or "annualised" (seed 001: install x CRF of
    # the item's life + maintain per year + days_per_year x daily operation)
    pricing: Literal["present_value", "annualised"] = "present_value"


# ------------------------------------------------------------------ components


class Load(Node):
    name: str
    bus: str
    p_kw: float
    q_kvar: float = 0.0
    priority: float = 1.0
    profile: str | None = None


GeneratorKind = Literal["gas_turbine", "pv", "wind", "dg", "grid"]


class Generator(Node):
    name: str
    kind: GeneratorKind
    bus: str
    p_max_kw: float
    p_min_kw: float = 0.0
    q_max_kvar: float | None = None
    q_min_kvar: float | None = None
    fuel_cny_per_kwh: float = 0.0
    profile: str | None = None  # forecast availability (per unit of p_max)
    curtailment_cny_per_kwh: float = 0.0
    price_profile: str | None = None  # grid import price profile (CNY/kWh)


class Storage(Node):
    name: str
    bus: str
    power_kw: float
    energy_kwh: float
    efficiency: float = 0.95
    soc_min: float = 0.1
    soc_max: float = 0.9
    soc_init: float = 0.5
    wear_cny_per_kwh: float = 0.0
    # `cyclic`: the day ends with at least soc_init x energy (compiler.families.storage).
    # Left out of the dump when off, so that the IR of a model without it is unchanged.
    cyclic: bool = Field(default=False, exclude_if=lambda on: not on)


# ------------------------------------------------------------------ power flow

FormulationName = Literal["lindistflow", "distflow"]


class Formulation(Node):
    """`formulation lindistflow|distflow`: the model's power-flow formulation
    (LinDistFlow, lossless and linear; or DistFlow with losses, a cone relaxation)."""

    name: FormulationName


# ------------------------------------------------------------------ scenarios


class Outage(Node):
    line: str
    start_h: float
    end_h: float


class Scaling(Node):
    target: str  # "load", a profile name, or a generator name
    factor: float


class Scenario(Node):
    name: str
    probability: float
    outages: tuple[Outage, ...] = ()
    scalings: tuple[Scaling, ...] = ()


class HistoryEvent(Node):
    """One recorded disaster day: the lines it damaged (with repair windows) and the
    load and DG levels (per unit of nominal) that day."""

    name: str
    outages: tuple[Outage, ...]
    load_level: float = 1.0
    dg_level: float = 1.0


class HistorySource(Node):
    """Scenarios generated from a history of events by clustering (k-means)."""

    path: str
    method: Literal["kmeans", "none"] = "kmeans"  # none: every event its own scenario
    k: int
    seed: int = 0
    restarts: int = 1  # k-means runs; the least inertia is kept
    events: tuple[HistoryEvent, ...] = ()


class ScenarioSet(Node):
    name: str
    scenarios: tuple[Scenario, ...] = ()
    history: HistorySource | None = None


# ------------------------------------------------------------------ penalties, prices


class Penalty(Node):
    kind: Literal["shed", "curtailment", "loss", "unserved_ev"]
    cny_per_kwh: float
    weighted_by_priority: bool = False


class Price(Node):
    kind: Literal["grid", "carbon"]
    value: float | None = None  # CNY/kWh (grid) or CNY/t (carbon)
    profile: str | None = None


# ------------------------------------------------------------------ studies


class SolveOptions(Node):
    # None = not written here: a study that extends another inherits the parent's value
    # (the compiler's resolved options default to "extensive" and "cost")
    strategy: Literal["extensive", "pso", "decompose"] | None = None
    gap: float | None = None
    time_limit_s: float | None = None
    threads: int | None = None
    seed: int | None = None
    particles: int | None = None
    iterations: int | None = None
    objective: Literal["cost", "losses"] | None = None
    formulation: FormulationName | None = None


class Override(Node):
    """`set path value` in a study or sweep: replaces one IR field for that run."""

    path: str
    value: float | str | tuple[float, ...] | tuple[str, ...]


class Fix(Node):
    """`fix investment ...`: a decision fixed to a value, e.g. a paper's plan."""

    investment: str
    choice: str = ""  # type name, or "" for the whole investment
    values: tuple[float, ...] | tuple[str, ...] = ()


class Study(Node):
    name: str
    extends: str | None = None
    without: tuple[str, ...] = ()
    scenarios: str | None = None
    solve: SolveOptions | None = None
    overrides: tuple[Override, ...] = ()
    fixes: tuple[Fix, ...] = ()


class SweepCase(Node):
    label: str
    overrides: tuple[Override, ...]


class Sweep(Node):
    name: str
    study: str
    cases: tuple[SweepCase, ...]


# ------------------------------------------------------------------ root


class Model(Node):
    name: str
    title: str = ""
    path: str
    imports: tuple[str, ...] = ()
    horizon: Horizon | None = None
    economics: Economics | None = None
    formulation: Formulation | None = None
    networks: tuple[Network, ...] = ()
    profiles: tuple[Profile, ...] = ()
    loads: tuple[Load, ...] = ()
    generators: tuple[Generator, ...] = ()
    storages: tuple[Storage, ...] = ()
    investments: tuple[Investment, ...] = ()
    scenario_sets: tuple[ScenarioSet, ...] = ()
    penalties: tuple[Penalty, ...] = ()
    prices: tuple[Price, ...] = ()
    areas: tuple[EvArea, ...] = ()
    fleets: tuple[Fleet, ...] = ()
    travel: TravelModel | None = None
    stations: tuple[StationSite, ...] = ()
    studies: tuple[Study, ...] = ()
    sweeps: tuple[Sweep, ...] = ()
    sources: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)
    # warnings of the checks (`gridc.dsl.diagnostics.Diagnostic`), shown by `gridc check`
    warnings: tuple[Any, ...] = Field(default=(), exclude=True, repr=False)

    # convenient lookups -------------------------------------------------------
    def network(self) -> Network:
        """The model's (single) network."""
        return self.networks[0]

    def profile(self, name: str) -> Profile:
        return next(p for p in self.profiles if p.name == name)

    def study(self, name: str) -> Study:
        return next(s for s in self.studies if s.name == name)
