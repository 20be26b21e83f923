"""Benchmark of the operation model: parse, compile, hand-over to HiGHS, solve.

Sizes (all 24 h in hourly steps):

    ieee33 x 1 / 10 / 50 scenarios            (--quick runs only these)
    10 Baran-Wu feeders (331 buses) x 10 scenarios
    30 Baran-Wu feeders (991 buses) x 10 scenarios

A size with k > 1 feeders replicates the Baran-Wu feeder k times, every copy hanging
from a common slack bus 0 through a short line (0.01 + j0.01 ohm). Every copy carries
the resources of models/ieee33_operation.grid (gas turbine at 13, PV at 18 and 32, a
storage unit at 31, a priority load at 30). Scenarios: "normal" plus variants that
scale the load (0.85 .. 1.10) and the PV profile; about one in five also cuts a line
of one feeder for a few hours (lateral 6-26 or main feeder 3-4). The voltage band is
0.90 .. 1.05 pu, as in the operation study of models/ieee33_operation.grid. The bus and line
tables and the profiles are CSV files next to the generated .grid text.

Each size runs in its own subprocess (so that peak memory, ru_maxrss, is its own) and
reports, for that size:

    parse     gridc.load of the generated text and CSVs
    compile   gridc.compile (IR -> linopy model)
    hand-over linopy -> highspy with io_api="direct" (linopy.io.to_highspy: building
              the sparse matrices from the linopy model and passing them to HiGHS)
    floor     the same matrices already held as numpy arrays, passed to a fresh
              highspy.Highs() with passModel(HighsLp): the least any front end can pay
    HiGHS     Highs.run() on the handed-over model (time limit / gap as given)

and prints rows, columns, nonzeros and their growth per bus x step x scenario.

    python bench/operation.py --quick
    python bench/operation.py               # --full, the default
    python bench/operation.py --time-limit 300 --gap 1e-3 --lp-relax
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
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
           f"network bench {{\n  base 12.66 kV 10 MVA\n  slack {slack} at 1.0 pu\n"
           '  voltage 0.90 .. 1.05 pu\n  buses from "buses.csv"\n  lines from "lines.csv"\n}',
           f"horizon {size.steps} h step 1 h",
           'profile load_day from "profiles.csv" column load',
           'profile pv_day from "profiles.csv" column pv',
           'profile tou from "profiles.csv" column price',
           "price grid profile tou",
           "penalty shed 20 CNY/kWh weighted by priority",
           "penalty curtailment 0.5 CNY/kWh",
           "penalty loss 0.001 CNY/kWh"]
    for f in range(k):
        def b(i: int, f: int = f) -> int:
            return bus_id(f, i, k)
        out += [
            f"generator gt{f} : gas_turbine at {b(13)} {{ p_max 400 kW, fuel 0.6 CNY/kWh }}",
            f"generator pva{f} : pv at {b(18)} {{ p_max 300 kW, profile pv_day }}",
            f"generator pvb{f} : pv at {b(32)} {{ p_max 200 kW, profile pv_day }}",
            f"storage s{f} at {b(31)} {{ power 200 kW, energy 800 kWh, efficiency 0.95, "
            "soc 0.1 .. 0.9, soc_init 0.5, wear 0.02 CNY/kWh }",
            f"load hosp{f} at {b(30)} {{ p 80 kW, q 30 kvar, priority 5 }}",
        ]
    out.append(scenario_block(size))
    out.append("study operation {\n  scenarios days\n  set network.load_profile load_day\n}")
    path = folder / "case.grid"
    path.write_text("\n\n".join(out) + "\n")
    return path


def scenario_block(size: Size) -> str:
    """`normal` plus load/PV variants; every fifth variant also has a line outage."""
    n, k = size.scenarios, size.feeders
    if n == 1:
        return "scenarios days {\n  scenario normal { probability 1 }\n}"
    p_normal = 0.5
    rest = round((1 - p_normal) / (n - 1), 12)
    lines = ["scenarios days {", f"  scenario normal {{ probability {1 - rest * (n - 1):.12g} }}"]
    for s in range(1, n):
        load = 0.85 + 0.25 * ((s * 7) % 11) / 10
        pv = 0.3 + 0.7 * ((s * 3) % 8) / 7
        body = [f"probability {rest:.12g}", f"scale load {load:.3f}", f"scale pv_day {pv:.3f}"]
        if s % 5 == 0:
            f = (s // 5) % k
            a, b = (6, 26) if (s // 5) % 2 else (3, 4)
            start = 8 + s % 6
            body.append(f"outage {bus_id(f, a, k)}-{bus_id(f, b, k)} "
                        f"from {start} h to {start + 4} h")
        lines.append(f"  scenario v{s} {{\n    " + "\n    ".join(body) + "\n  }")
    lines.append("}")
    return "\n".join(lines)


# ------------------------------------------------------------------ one measured run


class Clock:
    """Wall and process-CPU seconds of a block: `with clock("compile"): ...`.

    The CPU time is the one to compare on a shared machine (other jobs stretch the wall
    time of a single-threaded step but not its CPU time); HiGHS runs with one thread."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def __call__(self, name: str) -> Clock:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._w, self._c = time.perf_counter(), time.process_time()

    def __exit__(self, *exc: object) -> None:
        self.wall[self._name] = time.perf_counter() - self._w
        self.cpu[self._name] = time.process_time() - self._c


@dataclass
class Measure:
    name: str
    buses: int
    scenarios: int
    steps: int
    cpu: dict[str, float]   # parse, compile, handover, floor, highslp, highs
    wall: dict[str, float]
    rows: int
    cols: int
    nnz: int
    integers: int
    status: str
    objective: float
    mip_gap: float
    maxrss_mb: float
    relaxed: bool

    def pre(self, clock: str = "cpu") -> float:
        """Everything before HiGHS starts: parse + compile + hand-over."""
        t = getattr(self, clock)
        return t["parse"] + t["compile"] + t["handover"]

    @property
    def units(self) -> int:
        return self.buses * self.steps * self.scenarios


def matrices_as_arrays(m):  # type: ignore[no-untyped-def]
    """The linopy model's matrices as plain numpy arrays (untimed preparation)."""
    import numpy as np

    mat = m.matrices
    a = mat.A.tocsc()
    lower = np.where(mat.sense != "<", mat.b, -np.inf)
    upper = np.where(mat.sense != ">", mat.b, np.inf)
    return {"c": np.ascontiguousarray(mat.c, float), "lb": np.ascontiguousarray(mat.lb, float),
            "ub": np.ascontiguousarray(mat.ub, float), "rlo": lower.astype(float),
            "rup": upper.astype(float), "start": a.indptr.astype(np.int32),
            "index": a.indices.astype(np.int32), "value": a.data.astype(float),
            "integrality": np.isin(mat.vtypes, ("B", "I")).astype(np.int32),
            "shape": a.shape}


def floor_arrays(arr):  # type: ignore[no-untyped-def]
    """passModel(num_col, num_row, ..., numpy arrays): the cheapest way into HiGHS."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    n_row, n_col = arr["shape"]
    h.passModel(n_col, n_row, len(arr["value"]), int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), 0.0, arr["c"], arr["lb"], arr["ub"],
                arr["rlo"], arr["rup"], arr["start"], arr["index"], arr["value"],
                arr["integrality"])
    return h


def floor_highslp(arr):  # type: ignore[no-untyped-def]
    """The same through a HighsLp object (pybind copies every array attribute)."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_row_, lp.num_col_ = arr["shape"]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = arr["c"], arr["lb"], arr["ub"]
    lp.row_lower_, lp.row_upper_ = arr["rlo"], arr["rup"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_row_, lp.a_matrix_.num_col_ = arr["shape"]
    lp.a_matrix_.start_ = arr["start"]
    lp.a_matrix_.index_ = arr["index"]
    lp.a_matrix_.value_ = arr["value"]
    if arr["integrality"].any():
        lp.integrality_ = [highspy.HighsVarType(int(v)) for v in arr["integrality"]]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    return h


def run_one(size: Size, time_limit: float, gap: float, relax: bool, threads: int) -> Measure:
    import linopy

    import gridc
    import gridc.runtime.problem  # imported before timing: compile time, not import time

    clock = Clock()
    opts = {"output_flag": False, "time_limit": float(time_limit),
            "mip_rel_gap": float(gap), "threads": int(threads)}
    with tempfile.TemporaryDirectory(prefix="gridc-bench-") as tmp:
        path = write_case(size, Path(tmp))
        with clock("parse"):
            model = gridc.load(path)
        with clock("compile"):
            problem = gridc.compile(model, study="operation")
    m: linopy.Model = problem.model
    binaries = int(m.binaries.nvars)
    if relax:
        m.variables.relax()  # the LP relaxation: binaries become continuous in [0, 1]
    # the hand-over exactly as gridc.runtime.solver does it through Model.solve(io_api=
    # "direct"): sanitize, then build the highspy model from the linopy matrices
    with clock("handover"):
        m.constraints.sanitize_zeros()
        m.constraints.sanitize_infinities()
        solver = linopy.solvers.Solver.from_name("highs", model=m, io_api="direct",
                                                 options=opts)
    h = solver.solver_model
    arr = matrices_as_arrays(m)
    for name, fn in (("floor", floor_arrays), ("highslp", floor_highslp)):
        best_w = best_c = float("inf")
        for _ in range(3):
            with clock(name):
                fn(arr)
            best_w, best_c = min(best_w, clock.wall[name]), min(best_c, clock.cpu[name])
        clock.wall[name], clock.cpu[name] = best_w, best_c
    with clock("highs"):
        h.run()
    info = h.getInfo()
    integers = int(arr["integrality"].sum())
    return Measure(
        name=size.name, buses=size.buses, scenarios=size.scenarios, steps=size.steps,
        cpu=clock.cpu, wall=clock.wall, rows=h.getNumRow(), cols=h.getNumCol(),
        nnz=h.getNumNz(), integers=integers,
        status=h.modelStatusToString(h.getModelStatus()),
        objective=float(info.objective_function_value),
        mip_gap=float(info.mip_gap) if integers else 0.0,
        maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        relaxed=relax and binaries > 0)


# ------------------------------------------------------------------ driver


def measure_in_subprocess(size: Size, args: argparse.Namespace) -> Measure:
    cmd = [sys.executable, __file__, "--one", json.dumps(asdict(size)),
           "--time-limit", str(args.time_limit), "--gap", str(args.gap),
           "--threads", str(args.threads)]
    if args.lp_relax:
        cmd.append("--lp-relax")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"size {size.name} failed (exit {done.returncode})")
    return Measure(**json.loads(done.stdout.strip().splitlines()[-1]))


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def report(rows: list[Measure], args: argparse.Namespace) -> None:
    print(f"gridc operation benchmark: HiGHS time limit {args.time_limit:g} s, mip_rel_gap "
          f"{args.gap:g}, threads {args.threads}, "
          + ("LP relaxation (storage binaries relaxed)" if args.lp_relax else "MILP")
          + f"; load average at the end {load_average()} on {os_cpus()} CPUs")
    print("CPU seconds of this process (wall seconds below); pre = parse + compile + "
          "hand-over;\nfloor = passModel of the same matrices from numpy arrays, "
          "HighsLp = the same through a HighsLp object\n")
    head = (f"{'size':<12}{'parse':>7}{'compile':>8}{'hand':>7}{'floor':>7}{'HighsLp':>8}"
            f"{'HiGHS':>8}{'pre/HiGHS':>10}{'pre/floor':>10}{'hand/floor':>11}{'rows':>8}"
            f"{'cols':>8}{'nnz':>9}{'int':>6}{'RSS MB':>7}  status")
    print(head)
    print("-" * len(head))
    for r in rows:
        c = r.cpu
        status = r.status + (f", gap {r.mip_gap:.1e}" if r.integers else "")
        print(f"{r.name:<12}{c['parse']:7.2f}{c['compile']:8.2f}{c['handover']:7.2f}"
              f"{c['floor']:7.3f}{c['highslp']:8.3f}{c['highs']:8.1f}"
              f"{r.pre() / c['highs']:10.1%}{r.pre() / c['floor']:10.0f}"
              f"{c['handover'] / c['floor']:11.1f}{r.rows:8d}{r.cols:8d}{r.nnz:9d}"
              f"{r.integers:6d}{r.maxrss_mb:7.0f}  {status}")
    print("\nwall seconds:")
    for r in rows:
        w = r.wall
        print(f"  {r.name:<12} parse {w['parse']:6.2f}  compile {w['compile']:6.2f}  "
              f"hand-over {w['handover']:6.2f}  floor {w['floor']:6.3f}  HiGHS "
              f"{w['highs']:7.1f}  pre/HiGHS {r.pre('wall') / w['highs']:6.1%}")
    print("\ngrowth per unit (bus x step x scenario):")
    for r in rows:
        print(f"  {r.name:<12} units {r.units:>7d}  rows/unit {r.rows / r.units:5.2f}  "
              f"cols/unit {r.cols / r.units:5.2f}  nnz/unit {r.nnz / r.units:6.2f}  "
              f"pre-solve CPU us/unit {1e6 * r.pre() / r.units:7.1f}")
    for r in (r for r in rows if r.buses > 900):
        print(f"\ntargets at {r.name} (reported, not asserted): pre-solve / HiGHS = "
              f"{r.pre() / r.cpu['highs']:.1%} (target <= 5 %); pre-solve / floor = "
              f"{r.pre() / r.cpu['floor']:.0f}x, hand-over / floor = "
              f"{r.cpu['handover'] / r.cpu['floor']:.1f}x (target <= 3x)")
    for r in rows:
        if r.status != "Optimal":
            print(f"note: {r.name}: HiGHS stopped with {r.status!r}; its time is the limit, "
                  "not the time to optimality")


def os_cpus() -> int:
    import os

    return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="only the 33-bus sizes")
    group.add_argument("--full", action="store_true", help="every size (the default)")
    ap.add_argument("--time-limit", type=float, default=300.0, help="HiGHS seconds per size")
    ap.add_argument("--gap", type=float, default=1e-3, help="HiGHS mip_rel_gap")
    ap.add_argument("--threads", type=int, default=1, help="HiGHS threads")
    ap.add_argument("--lp-relax", action="store_true",
                    help="solve the LP relaxation (storage binaries continuous)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        m = run_one(Size(**json.loads(args.one)), args.time_limit, args.gap, args.lp_relax,
                    args.threads)
        print(json.dumps(asdict(m)))
        return 0
    rows = []
    for size in QUICK if args.quick else FULL:
        rows.append(measure_in_subprocess(size, args))
        print(f"  measured {size.name}", file=sys.stderr, flush=True)
    report(rows, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
