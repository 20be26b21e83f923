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

    parse       gridc.load of the generated text and CSVs
    compile     gridc.compile (IR -> linopy model)
    hand-over   gridc.runtime.backend.solver.hand_over, what solve_model does: the solver's
                matrices read from the model (gridc.runtime.backend.matrices), one passModel
    linopy      linopy's own hand-over (Model.solve(io_api="direct"): sanitize, then
                highspy addVars / changeColsCost / addRows), for comparison
    data floor  the same model built by hand from its data with numpy (read the CSV
                tables, vectorised bounds, costs and triplets, scipy CSC, one
                passModel): what a hand-written numpy front end of this model pays.
                It is checked to be the very same matrix (`check_same`: every entry,
                cost and bound, and the LP optimum at the 33-bus 1 and 10 scenario sizes)
    array floor gridc's matrices already held as numpy arrays, passed with one passModel
    HiGHS       Highs.run() on the handed-over model (time limit / gap as given)

and prints rows, columns, nonzeros and their growth per bus x step x scenario. The
target of issue #3 is pre-solve (parse + compile + hand-over) <= 3x the data floor.
Every stage and floor is the best of REPEAT runs; the cold first runs are printed too.

    python bench/operation.py --quick
    python bench/operation.py               # --full, the default
    python bench/operation.py --time-limit 300 --gap 1e-3 --lp-relax
    python bench/operation.py --only "991b x 10s" --no-solve   # one size, no HiGHS
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

from operation_case import (
    BASE_KV,
    CURTAIL,
    FULL,
    GT_BUS,
    GT_FUEL,
    GT_PMAX,
    LOAD_BUS,
    LOAD_P,
    LOAD_PRIORITY,
    LOAD_Q,
    LOSS,
    PV_UNITS,
    QUICK,
    SHED,
    SLACK_V,
    STO_BUS,
    STO_EFF,
    STO_ENERGY,
    STO_POWER,
    STO_SOC_INIT,
    STO_SOC_MAX,
    STO_SOC_MIN,
    STO_WEAR,
    V_MAX,
    V_MIN,
    Size,
    bus_id,
    scenario_specs,
    write_case,
)

# ------------------------------------------------------------------ one measured run

#: every stage, ours and the floors', is timed this many times and the best kept: the
#: CPU time of a step that allocates hundreds of MB depends on the allocator's state
#: (page faults on fresh memory; measured spread up to 3x between runs), the minimum is
#: the stable figure. The first (cold) run of each of our stages is reported as well.
REPEAT = 5


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
    cpu: dict[str, float]   # parse, compile, handover, linopy, floor_data, floor_arrays,
    #                         highs
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
    check: str  # what `check_same` verified of the data floor

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


def floor_data(size: Size, folder: Path, relax: bool = False):  # type: ignore[no-untyped-def]
    """The whole model built by hand from its data with numpy, then one passModel.

    What a hand-written numpy front end of exactly this model pays: read the three CSV
    tables, take the component and scenario data as the constants the .grid text is
    written from, build bounds, costs and the (row, column, value) triplets of every
    block vectorised over (scenario, time, component), convert them to CSC with scipy
    and hand everything to a fresh highspy.Highs() with one passModel. Columns and rows
    are in gridc's order (variable blocks as `gridc.compiler` adds them, rows of out
    lines dropped), so `run_one` can check the result against `model.matrices` entry
    by entry. Returns the Highs object and the arrays passed (for that check)."""
    import numpy as np
    import scipy.sparse as sp

    def table(name: str):  # type: ignore[no-untyped-def]
        return np.loadtxt(folder / name, delimiter=",", skiprows=1, ndmin=2)

    bus, line, prof = table("buses.csv"), table("lines.csv"), table("profiles.csv")
    ids = bus[:, 0].astype(np.int64)
    pos = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    pos[ids] = np.arange(ids.size)
    fr, to = pos[line[:, 0].astype(np.int64)], pos[line[:, 1].astype(np.int64)]
    k, n_t, dt = size.feeders, size.steps, 1.0
    specs = scenario_specs(size)
    n_s, n_b, n_l, n_g, n_k = len(specs), ids.size, fr.size, 3 * k + 1, k
    prob = np.array([sc.probability for sc in specs])
    lscale = np.array([sc.load for sc in specs])
    pvscale = np.array([sc.pv for sc in specs])
    load_shape = prof[:n_t, 0][None, :] * lscale[:, None]  # [s, t]
    pv_shape = pvscale[:, None] * prof[:n_t, 1][None, :]
    price = prof[:n_t, 2]
    u = np.ones((n_s, n_t, n_l))
    for s, sc in enumerate(specs):
        if sc.outage is not None:
            a, b, start, end = sc.outage
            ln = int(np.flatnonzero((line[:, 0] == a) & (line[:, 1] == b))[0])
            t = np.arange(n_t) * dt
            u[s, (t < end) & (t + dt > start), ln] = 0.0
    slack = int(pos[1 if k == 1 else 0])
    feeder_bus = np.array([[pos[bus_id(f, i, k)] for i in
                            (GT_BUS, PV_UNITS[0][0], PV_UNITS[1][0], STO_BUS, LOAD_BUS)]
                           for f in range(k)]).reshape(k, 5)
    gen_bus = np.concatenate([feeder_bus[:, :3].ravel(), [slack]])  # gt, pva, pvb per copy; grid
    sto_bus, load_bus = feeder_bus[:, 3], feeder_bus[:, 4]
    is_pv = np.zeros(n_g, dtype=bool)
    is_pv[np.arange(k) * 3 + 1] = is_pv[np.arange(k) * 3 + 2] = True
    is_gt = np.zeros(n_g, dtype=bool)
    is_gt[np.arange(k) * 3] = True
    p_max = np.concatenate([np.tile([GT_PMAX, PV_UNITS[0][1], PV_UNITS[1][1]], k), [np.inf]])

    # columns: one block per variable, each (scenario, time, component) in C order
    sizes = {"p": n_l, "q": n_l, "w": n_b, "abs": n_l, "gp": n_g, "gq": n_g, "ch": n_k,
             "dis": n_k, "e": n_k, "on": n_k, "sq": n_k, "shed": n_b, "lshed": n_k}
    off, n_col = {}, 0
    for name, width in sizes.items():
        off[name] = n_col
        n_col += n_s * n_t * width

    def col(name: str):  # type: ignore[no-untyped-def]
        """Column numbers of block `name` as an [s, t, component] array."""
        return off[name] + np.arange(n_s * n_t * sizes[name]).reshape(n_s, n_t, -1)

    def full(x):  # type: ignore[no-untyped-def]
        return np.broadcast_to(x, (n_s, n_t, np.shape(x)[-1] if np.ndim(x) else 1))

    limit = np.where(u > 0.5, np.inf, 0.0)  # no line ratings: no thermal limit (issue 14)
    w_lo = np.full(n_b, V_MIN ** 2)
    w_up = np.full(n_b, V_MAX ** 2)
    w_lo[slack] = w_up[slack] = SLACK_V ** 2
    forecast = np.broadcast_to(p_max, (n_s, n_t, n_g)).copy()  # gas turbine, grid: p_max
    pv_cols = np.flatnonzero(is_pv)
    forecast[:, :, pv_cols] = p_max[pv_cols][None, None, :] * pv_shape[:, :, None]
    q_gen = np.where(is_gt, 0.75 * p_max, np.where(is_pv, 0.0, np.inf))
    bus_p = load_shape[:, :, None] * bus[:, 1][None, None, :]
    bus_q = load_shape[:, :, None] * bus[:, 2][None, None, :]
    load_p = np.broadcast_to(load_shape[:, :, None] * LOAD_P, (n_s, n_t, n_k))
    load_q = np.broadcast_to(load_shape[:, :, None] * LOAD_Q, (n_s, n_t, n_k))
    lower = [-limit, -limit, full(w_lo), full(0.0), full(np.zeros(n_g)), full(-q_gen),
             full(0.0), full(0.0), full(STO_SOC_MIN * STO_ENERGY), full(0.0),
             full(-STO_POWER), full(np.zeros(n_b)), full(0.0)]
    upper = [limit, limit, full(w_up), full(np.inf), forecast, full(q_gen),
             full(STO_POWER), full(STO_POWER), full(STO_SOC_MAX * STO_ENERGY), full(1.0),
             full(STO_POWER), bus_p, load_p]
    col_lower = np.concatenate([np.broadcast_to(a, (n_s, n_t, w)).ravel()
                                for a, w in zip(lower, sizes.values())])
    col_upper = np.concatenate([np.broadcast_to(a, (n_s, n_t, w)).ravel()
                                for a, w in zip(upper, sizes.values())])
    integrality = np.zeros(n_col, dtype=np.int32)
    if not relax:
        integrality[col("on").ravel()] = 1

    # costs: probability x (price x dt), as gridc.compiler.formulations.operating_costs weighs them
    ps = prob[:, None, None]
    cost = np.zeros(n_col)
    cost[col("abs")] = ps * (LOSS * dt)
    gen_price = np.where(is_gt, GT_FUEL * dt, np.where(is_pv, -(CURTAIL * dt), 0.0))
    cost[col("gp")] = ps * np.broadcast_to(gen_price, (1, n_t, n_g))
    cost[col("gp")[:, :, -1]] = prob[:, None] * (price * dt)[None, :]
    cost[col("ch")] = cost[col("dis")] = ps * (STO_WEAR * dt)
    cost[col("shed")] = ps * (SHED * 1.0 * dt)
    cost[col("lshed")] = ps * (SHED * LOAD_PRIORITY * dt)

    # rows: (row, column, value) triplets block by block; rhs as row bounds
    rows, cols, vals, lo, up = [], [], [], [], []
    n_row = 0

    def block(count: int, terms, rhs, sense: str) -> None:  # type: ignore[no-untyped-def]
        """`count` rows; terms [(row-in-block, column, value)] (broadcast); rhs [count]."""
        nonlocal n_row
        for r, c, v in terms:
            r, c, v = np.broadcast_arrays(r, c, v)
            rows.append(n_row + r.ravel())
            cols.append(c.ravel())
            vals.append(v.ravel())
        rhs = np.broadcast_to(np.asarray(rhs, dtype=float).ravel(), (count,))
        lo.append(rhs if sense != "<" else np.full(count, -np.inf))
        up.append(rhs if sense != ">" else np.full(count, np.inf))
        n_row += count

    kv = 2.0 / (1000.0 * BASE_KV ** 2)
    kr, kx = kv * line[:, 2], kv * line[:, 3]
    served = np.flatnonzero(u.ravel() > 0.5)  # voltage drop only on lines in service
    st = served // n_l
    ln = served % n_l
    rr = np.arange(served.size)
    wcol = col("w").reshape(-1, n_b)
    block(served.size, [(rr, wcol[st, fr[ln]], 1.0), (rr, wcol[st, to[ln]], -1.0),
                        (rr, col("p").ravel()[served], -kr[ln]),
                        (rr, col("q").ravel()[served], -kx[ln])], 0.0, "=")
    flow = np.arange(n_s * n_t * n_l)
    block(flow.size, [(flow, col("abs").ravel(), 1.0), (flow, col("p").ravel(), -1.0)],
          0.0, ">")
    block(flow.size, [(flow, col("abs").ravel(), 1.0), (flow, col("p").ravel(), 1.0)],
          0.0, ">")
    unit = np.arange(n_s * n_t * n_k)
    block(unit.size, [(unit, col("ch").ravel(), 1.0), (unit, col("on").ravel(), -STO_POWER)],
          0.0, "<")
    block(unit.size, [(unit, col("dis").ravel(), 1.0), (unit, col("on").ravel(), STO_POWER)],
          STO_POWER, "<")
    later = unit.reshape(n_s, n_t, n_k)[:, 1:, :].ravel()
    init = np.zeros((n_s, n_t, n_k))
    init[:, 0, :] = STO_SOC_INIT * STO_ENERGY
    block(unit.size, [(unit, col("e").ravel(), 1.0),
                      (later, col("e")[:, :-1, :].ravel(), -1.0),
                      (unit, col("ch").ravel(), -(STO_EFF * dt)),
                      (unit, col("dis").ravel(), dt / STO_EFF)], init, "=")
    # nodal balance: rows [s, t, bus]; a component at bus b of (s, t) lands in row (s,t,b)
    nodes = np.arange(n_s * n_t)[:, None] * n_b  # first row of each (s, t)

    def at(bus_of, name: str, coef):  # type: ignore[no-untyped-def]
        return (nodes + bus_of[None, :], col(name).reshape(n_s * n_t, -1), coef)

    with np.errstate(divide="ignore", invalid="ignore"):
        tan_bus = np.where(bus[:, 1] > 0, bus[:, 2] / bus[:, 1], 0.0)
    tan_load = LOAD_Q / LOAD_P
    rhs_p, rhs_q = bus_p.copy(), bus_q.copy()
    np.add.at(rhs_p, (slice(None), slice(None), load_bus), load_p)
    np.add.at(rhs_q, (slice(None), slice(None), load_bus), load_q)
    all_bus = np.arange(n_b)
    block(n_s * n_t * n_b, [at(gen_bus, "gp", 1.0), at(sto_bus, "dis", 1.0),
                            at(sto_bus, "ch", -1.0), at(all_bus, "shed", 1.0),
                            at(load_bus, "lshed", 1.0), at(fr, "p", -1.0), at(to, "p", 1.0)],
          rhs_p, "=")
    block(n_s * n_t * n_b, [at(gen_bus, "gq", 1.0), at(sto_bus, "sq", 1.0),
                            at(all_bus, "shed", tan_bus[None, :]),
                            at(load_bus, "lshed", tan_load), at(fr, "q", -1.0),
                            at(to, "q", 1.0)], rhs_q, "=")
    value = np.concatenate(vals)
    keep = value != 0  # as linopy: a zero coefficient is no entry
    a = sp.csc_array((value[keep], (np.concatenate(rows)[keep], np.concatenate(cols)[keep])),
                     shape=(n_row, n_col))
    arr = {"c": cost, "lb": col_lower, "ub": col_upper, "rlo": np.concatenate(lo),
           "rup": np.concatenate(up), "start": a.indptr.astype(np.int32),
           "index": a.indices.astype(np.int32), "value": a.data,
           "integrality": integrality, "shape": a.shape}
    return floor_arrays(arr), arr


def check_same(ours, floor, lp_check: bool) -> str:  # type: ignore[no-untyped-def]
    """Assert that the data floor built the very matrix gridc built: same shape and
    nonzeros, same entries, costs and bounds (relative 1e-12), and (`lp_check`) the
    same LP optimum of both (relative 1e-6). Returns what was checked."""
    import numpy as np

    if ours["shape"] != floor["shape"] or len(ours["value"]) != len(floor["value"]):
        raise AssertionError(f"floor has shape {floor['shape']} with {len(floor['value'])} "
                             f"nonzeros, gridc {ours['shape']} with {len(ours['value'])}")
    for key in ("start", "index", "integrality"):
        np.testing.assert_array_equal(ours[key], floor[key], err_msg=key)
    for key in ("value", "c", "lb", "ub", "rlo", "rup"):
        np.testing.assert_allclose(ours[key], floor[key], rtol=1e-12, atol=1e-12, err_msg=key)
    done = "identical matrix, costs and bounds"
    if lp_check:
        objective = []
        for arr in (ours, floor):
            h = floor_arrays({**arr, "integrality": np.zeros_like(arr["integrality"])})
            h.run()
            if h.getModelStatus() != h.getModelStatus().kOptimal:
                raise AssertionError(f"LP check: {h.modelStatusToString(h.getModelStatus())}")
            objective.append(h.getInfo().objective_function_value)
        if abs(objective[0] - objective[1]) > 1e-6 * max(1.0, abs(objective[0])):
            raise AssertionError(f"LP optimum {objective[1]} of the floor, {objective[0]} ours")
        done += f"; LP optimum {objective[0]:.10g} both"
    return done


def best_of(clock: Clock, name: str, fn, repeat: int = REPEAT):  # type: ignore[no-untyped-def]
    """Time `fn()` `repeat` times under `name`, keep the best (and the first, as
    `name_first`: the cold run, with first-call costs); return its last result."""
    best_w = best_c = float("inf")
    for k in range(repeat):
        out = None  # release the previous result before building the next
        with clock(name):
            out = fn()
        if k == 0:
            clock.wall[f"{name}_first"], clock.cpu[f"{name}_first"] = clock.wall[name], \
                clock.cpu[name]
        best_w, best_c = min(best_w, clock.wall[name]), min(best_c, clock.cpu[name])
    clock.wall[name], clock.cpu[name] = best_w, best_c
    return out


def run_one(size: Size, time_limit: float, gap: float, relax: bool, threads: int,
            skip_highs: bool = False) -> Measure:
    import linopy

    import gridc
    import gridc.runtime.problem  # imported before timing: compile time, not import time
    from gridc.runtime.backend.solver import hand_over, highs_options

    clock = Clock()
    opts = highs_options(time_limit, gap, threads, None, False)
    with tempfile.TemporaryDirectory(prefix="gridc-bench-") as tmp:
        path = write_case(size, Path(tmp))
        # every stage best of REPEAT, as the floors are (the cold first runs are kept too)
        model = best_of(clock, "parse", lambda: gridc.load(path))
        problem = best_of(clock, "compile", lambda: gridc.compile(model, study="operation"))
        m: linopy.Model = problem.model
        binaries = int(m.binaries.nvars)
        if relax:
            m.variables.relax()  # the LP relaxation: binaries become continuous in [0, 1]
        # the hand-over exactly as gridc.runtime.backend.solver.solve_model does it: the
        # solver's matrices (`runtime.backend.matrices`), one passModel (`hand_over`)
        handed = best_of(clock, "handover", lambda: hand_over(m, opts))
        h = handed.highs
        # for comparison: linopy's own hand-over (Model.solve(io_api="direct"): sanitize,
        # then addVars / changeColsCost / addRows), what solve_model used before
        with clock("linopy"):
            m.constraints.sanitize_zeros()
            m.constraints.sanitize_infinities()
            linopy.solvers.Solver.from_name("highs", model=m, io_api="direct", options=opts)
        arr = matrices_as_arrays(m)
        floor = best_of(clock, "floor_data", lambda: floor_data(size, Path(tmp), relax))
    check = check_same(arr, floor[1], lp_check=size.buses * size.scenarios <= 330)
    del floor
    best_of(clock, "floor_arrays", lambda: floor_arrays(arr))
    if skip_highs:
        clock.wall["highs"] = clock.cpu["highs"] = float("nan")
    else:
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
        relaxed=relax and binaries > 0, check=check)


# ------------------------------------------------------------------ driver


def measure_in_subprocess(size: Size, args: argparse.Namespace) -> Measure:
    cmd = [sys.executable, __file__, "--one", json.dumps(asdict(size)),
           "--time-limit", str(args.time_limit), "--gap", str(args.gap),
           "--threads", str(args.threads)]
    if args.lp_relax:
        cmd.append("--lp-relax")
    if args.no_solve:
        cmd.append("--no-solve")
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
          "hand-over (gridc's one passModel);\nlinopy = linopy's own hand-over, for "
          "comparison; data floor = the model built from its data with numpy + one\n"
          "passModel; array floor = passModel of gridc's matrices already held as arrays\n")
    head = (f"{'size':<12}{'parse':>7}{'compile':>8}{'hand':>7}{'linopy':>7}{'floor':>7}"
            f"{'arrays':>7}{'HiGHS':>8}{'pre/HiGHS':>10}{'pre/floor':>10}{'hand/arr':>9}"
            f"{'rows':>9}{'cols':>9}{'nnz':>9}{'int':>6}{'RSS MB':>7}  status")
    print(head)
    print("-" * len(head))
    for r in rows:
        c = r.cpu
        status = r.status + (f", gap {r.mip_gap:.1e}" if r.integers else "")
        print(f"{r.name:<12}{c['parse']:7.2f}{c['compile']:8.2f}{c['handover']:7.2f}"
              f"{c['linopy']:7.2f}{c['floor_data']:7.3f}{c['floor_arrays']:7.3f}"
              f"{c['highs']:8.1f}{r.pre() / c['highs']:10.1%}"
              f"{r.pre() / c['floor_data']:9.1f}x{c['handover'] / c['floor_arrays']:8.1f}x"
              f"{r.rows:9d}{r.cols:9d}{r.nnz:9d}{r.integers:6d}{r.maxrss_mb:7.0f}  {status}")
    print("\nwall seconds:")
    for r in rows:
        w = r.wall
        print(f"  {r.name:<12} parse {w['parse']:6.2f}  compile {w['compile']:6.2f}  "
              f"hand-over {w['handover']:6.2f}  linopy {w['linopy']:6.2f}  data floor "
              f"{w['floor_data']:6.3f}  array floor {w['floor_arrays']:6.3f}  HiGHS "
              f"{w['highs']:7.1f}  pre/HiGHS {r.pre('wall') / w['highs']:6.1%}  pre/floor "
              f"{r.pre('wall') / w['floor_data']:5.1f}x")
    print(f"\nCPU seconds of the first (cold) runs; the table above is the best of {REPEAT}, as "
          "for the floors:")
    for r in rows:
        c = r.cpu
        first = c["parse_first"] + c["compile_first"] + c["handover_first"]
        print(f"  {r.name:<12} parse {c['parse_first']:6.2f}  compile {c['compile_first']:6.2f}"
              f"  hand-over {c['handover_first']:6.2f}  pre/floor "
              f"{first / c['floor_data']:5.1f}x")
    print("\ndata floor against gridc's matrices:")
    for r in rows:
        print(f"  {r.name:<12} {r.check}")
    print("\ngrowth per unit (bus x step x scenario):")
    for r in rows:
        print(f"  {r.name:<12} units {r.units:>7d}  rows/unit {r.rows / r.units:5.2f}  "
              f"cols/unit {r.cols / r.units:5.2f}  nnz/unit {r.nnz / r.units:6.2f}  "
              f"pre-solve CPU us/unit {1e6 * r.pre() / r.units:7.1f}")
    for r in (r for r in rows if r.buses > 900):
        c = r.cpu
        print(f"\ntargets at {r.name} (reported, not asserted): pre-solve / HiGHS = "
              f"{r.pre() / c['highs']:.1%} (target <= 5 %); pre-solve / data floor = "
              f"{r.pre() / c['floor_data']:.1f}x (target <= 3x); hand-over / array floor = "
              f"{c['handover'] / c['floor_arrays']:.1f}x (linopy's: "
              f"{c['linopy'] / c['floor_arrays']:.1f}x)")
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
    ap.add_argument("--only", help="measure only the size with this name, e.g. '991b x 10s'")
    ap.add_argument("--no-solve", action="store_true",
                    help="measure everything up to HiGHS but do not run it")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        m = run_one(Size(**json.loads(args.one)), args.time_limit, args.gap, args.lp_relax,
                    args.threads, args.no_solve)
        print(json.dumps(asdict(m)))
        return 0
    rows = []
    sizes = QUICK if args.quick else FULL
    if args.only:
        sizes = tuple(s for s in FULL if s.name == args.only)
        if not sizes:
            ap.error(f"no size named {args.only!r}: " + ", ".join(s.name for s in FULL))
    for size in sizes:
        rows.append(measure_in_subprocess(size, args))
        print(f"  measured {size.name}", file=sys.stderr, flush=True)
    report(rows, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
