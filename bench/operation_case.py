"""The generated cases of `bench/operation.py`: replicated Baran-Wu feeders with the
resources of models/ieee33_operation.grid, their scenarios, and the data constants that
both the `.grid` text and the bench's hand-written numpy floor are built from (one
source, so that the floor is checked against the very same model)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IEEE33 = ROOT / "models" / "ieee33.grid"


@dataclass(frozen=True)
class Size:
    name: str
    feeders: int
    scenarios: int
    steps: int = 24

    @property
    def buses(self) -> int:
        return 33 * self.feeders + (1 if self.feeders > 1 else 0)


QUICK = (Size("33b x 1s", 1, 1), Size("33b x 10s", 1, 10), Size("33b x 50s", 1, 50))
FULL = (*QUICK, Size("331b x 10s", 10, 10), Size("991b x 10s", 30, 10))

# ------------------------------------------------------------------ model generation

LOAD_DAY = [0.62, 0.58, 0.56, 0.55, 0.57, 0.63, 0.72, 0.82, 0.90, 0.94, 0.96, 0.97,
            0.95, 0.94, 0.93, 0.94, 0.96, 1.00, 0.99, 0.95, 0.88, 0.80, 0.72, 0.66]
PV_DAY = [0, 0, 0, 0, 0, 0.02, 0.10, 0.25, 0.45, 0.65, 0.80, 0.90,
          0.95, 0.90, 0.80, 0.65, 0.45, 0.25, 0.08, 0, 0, 0, 0, 0]
TOU = [0.35] * 7 + [0.65] + [1.05] * 3 + [0.65] * 7 + [1.05] * 5 + [0.35]

# The data of the case, shared by the .grid text (`write_case`) and the numpy floor
# (`floor_data`), so that the two cannot drift apart.
BASE_KV, BASE_KVA = 12.66, 10_000.0  # the network base; no line ratings: no thermal limit
V_MIN, V_MAX, SLACK_V = 0.90, 1.05, 1.0  # pu
SHED, CURTAIL, LOSS = 20.0, 0.5, 0.001  # penalties [CNY/kWh]; shed weighted by priority
GT_BUS, GT_PMAX, GT_FUEL = 13, 400.0, 0.6  # gas turbine: q within +-0.75 p_max
PV_UNITS = ((18, 300.0), (32, 200.0))  # (bus, p_max kW), profile pv_day, q = 0
STO_BUS, STO_POWER, STO_ENERGY, STO_EFF = 31, 200.0, 800.0, 0.95
STO_SOC_MIN, STO_SOC_MAX, STO_SOC_INIT, STO_WEAR = 0.1, 0.9, 0.5, 0.02
LOAD_BUS, LOAD_P, LOAD_Q, LOAD_PRIORITY = 30, 80.0, 30.0, 5.0


def baran_wu() -> tuple[list[tuple[int, float, float]], list[tuple[int, int, float, float]]]:
    """Buses (id, p kW, q kvar) and in-service lines (from, to, r, x ohm) of
    models/ieee33.grid, read back through gridc so the bench uses the shipped data."""
    import gridc

    net = gridc.load(IEEE33).network()
    buses = [(int(b.id), b.p_kw, b.q_kvar) for b in net.buses]
    lines = [(int(ln.from_bus), int(ln.to_bus), ln.r_ohm, ln.x_ohm)
             for ln in net.lines if not ln.normally_open]
    return buses, lines


def bus_id(feeder: int, bus: int, feeders: int) -> int:
    """Bus `bus` (1..33) of copy `feeder` (0-based): the plain ids for one feeder."""
    return bus if feeders == 1 else 100 * (feeder + 1) + bus


def write_case(size: Size, folder: Path) -> Path:
    """Write `case.grid`, `buses.csv`, `lines.csv` and `profiles.csv`; return the .grid."""
    buses, lines = baran_wu()
    k = size.feeders
    slack = 1 if k == 1 else 0
    bus_rows = [] if k == 1 else ["0,0,0"]
    line_rows = []
    for f in range(k):
        bus_rows += [f"{bus_id(f, b, k)},{p:g},{q:g}" for b, p, q in buses]
        line_rows += [f"{bus_id(f, a, k)},{bus_id(f, b, k)},{r:g},{x:g}"
                      for a, b, r, x in lines]
        if k > 1:
            line_rows.append(f"0,{bus_id(f, 1, k)},0.01,0.01")
    (folder / "buses.csv").write_text("id,p[kW],q[kvar]\n" + "\n".join(bus_rows) + "\n")
    (folder / "lines.csv").write_text("from,to,r[ohm],x[ohm]\n" + "\n".join(line_rows) + "\n")
    prof = ["load,pv,price[CNY/kWh]"] + [f"{a},{b},{c}" for a, b, c in zip(LOAD_DAY, PV_DAY, TOU)]
    (folder / "profiles.csv").write_text("\n".join(prof) + "\n")

    out = [f'model bench "operation benchmark: {k} Baran-Wu feeder(s), {size.scenarios} '
           'scenario(s)"',
           f"network bench {{\n  base {BASE_KV:g} kV {BASE_KVA / 1000:g} MVA\n"
           f"  slack {slack} at {SLACK_V:.1f} pu\n  voltage {V_MIN:.2f} .. {V_MAX:.2f} pu\n"
           '  buses from "buses.csv"\n  lines from "lines.csv"\n}',
           f"horizon {size.steps} h step 1 h",
           'profile load_day from "profiles.csv" column load',
           'profile pv_day from "profiles.csv" column pv',
           'profile tou from "profiles.csv" column price',
           "price grid profile tou",
           f"penalty shed {SHED:g} CNY/kWh weighted by priority",
           f"penalty curtailment {CURTAIL:g} CNY/kWh",
           f"penalty loss {LOSS:g} CNY/kWh"]
    for f in range(k):
        def b(i: int, f: int = f) -> int:
            return bus_id(f, i, k)
        (pa_bus, pa_max), (pb_bus, pb_max) = PV_UNITS
        out += [
            f"generator gt{f} : gas_turbine at {b(GT_BUS)} {{ p_max {GT_PMAX:g} kW, "
            f"fuel {GT_FUEL:g} CNY/kWh }}",
            f"generator pva{f} : pv at {b(pa_bus)} {{ p_max {pa_max:g} kW, profile pv_day }}",
            f"generator pvb{f} : pv at {b(pb_bus)} {{ p_max {pb_max:g} kW, profile pv_day }}",
            f"storage s{f} at {b(STO_BUS)} {{ power {STO_POWER:g} kW, energy {STO_ENERGY:g} "
            f"kWh, efficiency {STO_EFF:g}, soc {STO_SOC_MIN:g} .. {STO_SOC_MAX:g}, "
            f"soc_init {STO_SOC_INIT:g}, wear {STO_WEAR:g} CNY/kWh }}",
            f"load hosp{f} at {b(LOAD_BUS)} {{ p {LOAD_P:g} kW, q {LOAD_Q:g} kvar, "
            f"priority {LOAD_PRIORITY:g} }}",
        ]
    out.append(scenario_block(size))
    out.append("study operation {\n  scenarios days\n  set network.load_profile load_day\n}")
    path = folder / "case.grid"
    path.write_text("\n\n".join(out) + "\n")
    return path


@dataclass(frozen=True)
class ScenarioSpec:
    """One scenario as the .grid text states it (numbers exactly as written there)."""

    name: str
    probability: float
    load: float  # `scale load`
    pv: float  # `scale pv_day`
    outage: tuple[int, int, int, int] | None  # (from bus id, to bus id, start h, end h)


def scenario_specs(size: Size) -> list[ScenarioSpec]:
    """`normal` plus load/PV variants; every fifth variant also has a line outage."""
    n, k = size.scenarios, size.feeders
    if n == 1:
        return [ScenarioSpec("normal", 1.0, 1.0, 1.0, None)]
    p_normal = 0.5
    rest = float(f"{round((1 - p_normal) / (n - 1), 12):.12g}")
    out = [ScenarioSpec("normal", float(f"{1 - rest * (n - 1):.12g}"), 1.0, 1.0, None)]
    for s in range(1, n):
        load = float(f"{0.85 + 0.25 * ((s * 7) % 11) / 10:.3f}")
        pv = float(f"{0.3 + 0.7 * ((s * 3) % 8) / 7:.3f}")
        outage = None
        if s % 5 == 0:
            f = (s // 5) % k
            a, b = (6, 26) if (s // 5) % 2 else (3, 4)
            start = 8 + s % 6
            outage = (bus_id(f, a, k), bus_id(f, b, k), start, start + 4)
        out.append(ScenarioSpec(f"v{s}", rest, load, pv, outage))
    return out


def scenario_block(size: Size) -> str:
    """The `scenarios days { ... }` block of `scenario_specs`."""
    specs = scenario_specs(size)
    if len(specs) == 1:
        return "scenarios days {\n  scenario normal { probability 1 }\n}"
    lines = ["scenarios days {", f"  scenario normal {{ probability {specs[0].probability:.12g} }}"]
    for sc in specs[1:]:
        body = [f"probability {sc.probability:.12g}", f"scale load {sc.load:.3f}",
                f"scale pv_day {sc.pv:.3f}"]
        if sc.outage is not None:
            a, b, start, end = sc.outage
            body.append(f"outage {a}-{b} from {start} h to {end} h")
        lines.append(f"  scenario {sc.name} {{\n    " + "\n    ".join(body) + "\n  }")
    lines.append("}")
    return "\n".join(lines)
