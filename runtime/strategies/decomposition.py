"""`decompose`: Benders (L-shaped) over scenarios with an integer master and a
certified gap.

    gridc solve model.grid --strategy decompose        # or `solve decompose(workers = 2)`
    result = decompose(compiled, timings, settings, executor=make_executor(2))

The extensive form is split by `runtime.backend.twostage` into the first stage (the
investment decisions: every variable without a `scenario` dimension) and one block
per scenario. First, the **LP phase** (`LP_PHASE`, `cut_rounds.lp_phase`): rounds of
block LPs at the plans of the master's LP relaxation, until its value stalls; it builds
the cut model around the LP optimum, so that the integer master starts near the optimum
(on method1 at k = 4: 15 master solves in all against 21). Then each iteration:

1. the **master** — the first stage (integer, with its own rows and costs) and one
   θ_s per scenario bounded below by every cut of that scenario — is solved as a
   small MILP; its dual bound is the run's lower bound LB;
2. every block's **LP relaxation with the plan fixed** gives Q_s^LP(x̂) and the
   reduced costs d_s of the first-stage columns: the cut θ_s ≥ Q_s^LP(x̂) + d_s·(x − x̂)
   (valid: the LP value function is convex and below the MIP recourse);
3. a plan whose LP value c·x̂ + Σ Q_s^LP(x̂) could still improve the incumbent by more
   than the gap, and whose LP cuts are exhausted (or, before the first incumbent, whose
   LP value is within the gap of LB: `EVALUATE_CUT_PLANS`), is **evaluated**: every
   block's MIP with the plan fixed, each to
   `SUB_GAP` × the study's gap or within its share of the room the gap leaves
   (`_room`), whichever holds first. UB = c·x̂ + Σ (feasible operation cost of block s):
   the cost of a feasible point of the extensive form;
4. when the LP cuts no longer cut (the master's θ̂ meet Q^LP at x̂), the LP relaxation
   of the recourse is what separates LB from UB: each block then gets a
   **strengthened Benders cut** (Zou, Ahmed & Sun 2019): L_s = min over the block's
   integer points, first stage free, of cost − π_s·z with π_s = d_s, and θ_s ≥ L_s + π_s·x.
   L_s is that MIP's *dual bound*, so the cut is valid even when the MIP stops early;
5. when neither cuts any more at x̂, x̂ is **cut off** from the master by a no-good row
   (Σ_i |x_i − x̂_i| ≥ 1, linear through two binaries per interior integer) and its own
   lower bound (c·x̂ + Σ MIP bounds, at least its LP value) is kept: LB is then
   min(master bound over the remaining plans, bounds of the plans cut off) — the
   integer L-shaped idea of Laporte & Louveaux (1993), written for general integers.

A **start plan** (`SolveSettings.start`, values by label as for the extensive form's MIP
start; `start_plan`) is cut at and evaluated before the first master: its exact cost is
the first incumbent and the master's MIP start. The intended use is the plan of the same
model on its k typical days as the start of the run over every event (bench/decomposition.py
`--seeded`): one evaluation of the 120 event MIPs gives an incumbent at once, where
unseeded the first plan worth evaluating comes after several rounds of 120 block LPs. It
changes the path, never the certificate (the bound is the master's, whatever the start).

Measured and not done (docs/performance.md, "Decomposition"): identical blocks solved once
(none of the 120 events has a block equal to another's: their load levels differ, and
their outages change the row count, which also rules out sharing one event's LP duals as
cuts for another); the master with every block's LP relaxation inside it (partial
Benders; one MILP with 50 integers gives the LP-recourse bound, 35.77 MCNY, but took
300 s at k = 4 under load 5).

Why Benders with an integer master and not progressive hedging: the first stage is a
few dozen integers (lines, MESS units, EV-RB packs) while each scenario's recourse is
a MILP of thousands of columns; the master is tiny and exact in the integers, the LP
cuts need one LP per scenario (0.1-1.5 s each on the resilience case), and the bound is
the master's own dual bound — valid at every iteration. PH's Lagrangian bound needs
every scenario's MIP (with the first stage free) solved to optimality at every
iteration, and its plans need not converge with integer first stages. The integer
L-shaped cuts of Laporte & Louveaux need binary first stages (the MESS and pack counts
are general integers), and they cut off one plan each; the strengthened cuts are valid
for general integers and are at least as tight as the LP cuts they start from, and the
no-goods of step 5 only close what is left. On the resilience case (method1, k = 4) the
LP cuts alone bound the optimum within 0.5 % (LB 35.65-35.76 MCNY against 35.95 MCNY
for the plan found; HiGHS' own bound on the extensive form was 35.55 MCNY), so the
integer steps rarely run there; on tests/models/decomp8.grid they close the last 0.6 %.

What is certified (`Certificate`): LB is the master's dual bound, a lower bound on
min_x c·x + Σ_s max(cuts of s) ≤ the extensive form's optimum (every cut is valid for
the MIP recourse). UB is the objective of a feasible solution of the extensive form.
The gap (UB − LB) / |UB| is therefore a valid gap of the model as written; the MIP
gaps of the evaluation only make UB larger (the plan's own exact cost lies between
c·x̂ + Σ bound_s and UB, reported as `plan_gap`). Status: `optimal` / `feasible_gap`
only when this gap is within the study's gap (`runtime.backend.solver.map_status`),
a time or iteration limit otherwise.

Parallel and reproducible: block solves are tasks (`BlockTask`) on a
`runtime.executor`; a worker passes each block to HiGHS once (`_SOLVERS`, keyed by the
block's content hash) and re-solves it with changed bounds, integrality and costs,
from a cleared state; a block LP starts from that block's basis at the previous plan,
which the driver keeps and sends with the task (`cut_rounds.WARM_BASIS`), never from what
the worker solved before. Results are gathered
in submission order, so a retried task (a killed worker) or another worker gives the
same answer, and the serial run and the Dask run take the same path.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gridc.compiler import CompiledModel
from gridc.compiler.core.index import SCENARIO
from gridc.runtime.backend.solver import SolveOutcome, SolveStatus, map_status
from gridc.runtime.backend.twostage import (
    Block,
    BlockOutcome,
    BlockSolver,
    Master,
    NotTwoStage,
    TwoStage,
    rounded,
    split_scenarios,
    write_solution,
)
from gridc.runtime.executor import Executor, SerialExecutor
from gridc.runtime.results import Result, build_result
from gridc.runtime.status import Stage, record
from gridc.runtime.strategies import cut_rounds
from gridc.runtime.strategies.cut_rounds import (
    DecompositionError,
    OutOfTime,
    cuts_off,
    infeasible,
    lp_cuts,
    lp_phase,
)

#: each evaluation MIP's gap, as a fraction of the study's gap (what it adds to UB)
SUB_GAP = 0.25
#: the master's own gap, as a fraction of the study's gap
MASTER_GAP = 0.05
#: the study's gap when it gives none
DEFAULT_GAP = 1e-2
MAX_ITERATIONS = 500
#: cut at the master's LP relaxation first (`cut_rounds.lp_phase`) before the
#: integer master; off: the integer master from the first round (measured in
#: docs/performance.md, "Decomposition": 21 master solves at k = 4 against 15 with it)
LP_PHASE = True
#: the last fraction of a time limit, kept for evaluating the best plan when no plan has
#: been evaluated yet (a run that stops without an incumbent reports nothing usable)
RESERVE = 0.3
#: with an incumbent, evaluate a plan within the gap of the bound even while its LP cuts
#: still move the bound (off: only once they are exhausted there; over the 120 events
#: each evaluation is 120 MIPs, 130-360 s of block time, against 7-18 s for a round
#: of block LPs: docs/performance.md, "Hot-started block LPs")
EVALUATE_CUT_PLANS = False
#: time cap of one strengthened-cut MIP (its dual bound is valid whenever it stops)
LAGRANGIAN_S = 30.0


@dataclass(frozen=True)
class BlockTask:
    """One block solve (a Dask task)."""

    block: Block
    mode: str  # "relaxed", "lp", "feasibility", "mip" or "lagrangian"
    x: np.ndarray | None = None
    pi: np.ndarray | None = None
    gap: float | None = None
    time_limit: float | None = None
    seed: int | None = None
    basis: tuple[np.ndarray, np.ndarray] | None = None
    abs_gap: float | None = None  # "mip": stop when this close to the bound, too

    @property
    def label(self) -> str:
        return f"{self.mode} solve of scenario {self.block.name}"


_SOLVERS: dict[str, BlockSolver] = {}
_LOCK = threading.Lock()
#: blocks passed to HiGHS in this process (tests check the cache with it)
BUILDS = {"count": 0}


def run_block(task: BlockTask) -> BlockOutcome:
    """Solve one block (see `BlockTask`); idempotent, whatever the worker."""
    with _LOCK:
        key = f"{task.block.key}:{task.seed}"  # the seed is an option of the HiGHS object
        solver = _SOLVERS.get(key)
        if solver is None:
            solver = _SOLVERS[key] = BlockSolver(task.block, seed=task.seed)
            BUILDS["count"] += 1
        if task.mode == "relaxed":
            return solver.relaxed_lp()
        if task.mode == "lp":
            assert task.x is not None
            return solver.fixed_lp(task.x, task.basis, task.time_limit)
        if task.mode == "feasibility":
            assert task.x is not None
            return solver.feasibility_lp(task.x)
        if task.mode == "mip":
            assert task.x is not None
            return solver.fixed_mip(task.x, gap=task.gap, time_limit=task.time_limit,
                                    abs_gap=task.abs_gap)
        assert task.pi is not None
        return solver.lagrangian(task.pi, gap=task.gap, time_limit=task.time_limit)


def clear_worker_cache() -> None:
    with _LOCK:
        _SOLVERS.clear()


# ---------------------------------------------------------------- the run


@dataclass
class Certificate:
    """What the run proved (reporting unit: CNY, or the model's)."""

    lower_bound: float
    incumbent: float | None
    gap: float | None
    plan_gap: float | None  # the plan's own: incumbent vs c·x + Σ MIP bounds
    iterations: int
    cuts: dict[str, int] = field(default_factory=dict)
    history: list[dict[str, float | int | None]] = field(default_factory=list)
    bound_kind: str = ("dual bound of the integer master over LP-relaxation Benders cuts "
                       "and strengthened (Lagrangian) cuts, and the bounds of the plans "
                       "cut off by no-goods: a lower bound of the model as written")

    def as_dict(self) -> dict[str, Any]:
        return {"lower_bound": self.lower_bound, "incumbent": self.incumbent, "gap": self.gap,
                "plan_gap": self.plan_gap, "iterations": self.iterations, "cuts": self.cuts,
                "bound": self.bound_kind, "history": self.history}


def _gap(ub: float, lb: float) -> float:
    return max(0.0, (ub - lb) / max(abs(ub), 1e-9))


def _hash(split: TwoStage) -> str:
    h = hashlib.sha256()
    for blk in split.blocks:
        for arr in (blk.a.data, blk.a.indices, blk.a.indptr, blk.c, blk.lb, blk.ub,
                    blk.row_lo, blk.row_up):
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


def split_model(compiled: CompiledModel) -> TwoStage:
    """The compiled extensive form as master and scenario blocks (keys by content)."""
    names = [str(s) for s in compiled.index.coords[SCENARIO]]
    first = split_scenarios(compiled.model, SCENARIO, names, "pending")
    key = _hash(first)
    blocks = tuple(replace(b, key=f"{key}:{k}") for k, b in enumerate(first.blocks))
    return replace(first, blocks=blocks)


def decompose(compiled: CompiledModel, timings: dict[str, float], s: Any, *,
              executor: Executor | None = None, lagrangian: bool = True,
              max_iterations: int = MAX_ITERATIONS) -> Result:
    """Solve `compiled` by Benders decomposition over its scenarios (module docstring).
    `s`: the registry's `SolveSettings` (gap, time limit, seed, control)."""
    started = time.perf_counter()
    ex = executor if executor is not None else SerialExecutor()
    gap = s.gap if s.gap is not None else DEFAULT_GAP
    const, scale = compiled.objective_constant, compiled.objective_scale or 1.0
    control = s.control
    if control is not None:
        control.units(const, scale)
        control.begin("decomposition")

    def left() -> float | None:
        return None if s.time_limit is None else \
            max(0.5, s.time_limit - (time.perf_counter() - started))

    def out_of_time() -> bool:
        return s.time_limit is not None and time.perf_counter() - started >= s.time_limit

    def batch_cap() -> float | None:
        """Each task's time limit in a batch of one task per block: the time left
        shared out over the blocks the workers run in turn (a batch of 120 MIPs each
        given all the time left would overrun the limit sixty-fold on two workers)."""
        rest = left()
        return None if rest is None else max(1.0, rest * max(1, ex.workers()) / ns)

    def stopped() -> bool:
        return control is not None and control.should_stop()

    try:
        split = split_model(compiled)
    except NotTwoStage as exc:
        raise DecompositionError(f"strategy 'decompose' needs a two-stage model: {exc}") from None
    split_s = time.perf_counter() - started
    blocks = split.blocks
    ns = len(blocks)

    def run(mode: str, only: list[int] | None = None, **kw: Any) -> list[BlockOutcome]:
        """One task per block (or per block of `only`, in that order)."""
        per = {k: v for k, v in kw.items() if isinstance(v, list)}
        same = {k: v for k, v in kw.items() if not isinstance(v, list)}
        tasks = [BlockTask(blocks[i], mode, seed=s.seed, **same,
                           **{k: v[i] for k, v in per.items()})
                 for i in (range(ns) if only is None else only)]
        return ex.submit_many(run_block, tasks)

    def relaxed_bounds() -> np.ndarray:
        relaxed = run("relaxed")
        if any(r.status != "kOptimal" or r.objective is None for r in relaxed):
            bad = [b.name for b, r in zip(blocks, relaxed) if r.status != "kOptimal"]
            raise DecompositionError(
                f"scenario {bad[0]} is infeasible under every plan (its LP relaxation with "
                "the investments free has no solution): the extensive form is infeasible "
                "too; solve it with --strategy extensive --diagnose to see why")
        return np.array([r.objective for r in relaxed], dtype=float)

    # the first cuts at the plan of the lower bounds (nothing built): with the first
    # stage boxed they bound every θ_s (an unbounded first stage needs the relaxed LPs)
    x0 = np.where(np.isfinite(split.lb), split.lb, 0.0)
    if np.isfinite(split.ub).all() and np.isfinite(split.lb).all():
        theta_lb = np.full(ns, -np.inf)
    else:
        theta_lb = relaxed_bounds()
    master = Master(split, theta_lb, const, s.seed)
    cert = Certificate(lower_bound=-np.inf, incumbent=None, gap=None, plan_gap=None,
                       iterations=0, cuts={"lp": 0, "strengthened": 0, "no-good": 0,
                                           "feasibility": 0})
    lb, ub = -np.inf, np.inf
    best_x: np.ndarray | None = None
    best_mips: list[BlockOutcome] = []
    bases: list[tuple[np.ndarray, np.ndarray] | None] = [None] * ns
    lp_seen: dict[bytes, float] = {}
    lp_parts: dict[bytes, np.ndarray] = {}  # each block's LP value at a plan
    strengthened: set[bytes] = set()
    evaluated: set[bytes] = set()
    plan_lb: dict[bytes, float] = {}  # a lower bound of each plan's exact cost
    excluded_lb: dict[bytes, float] = {}  # plans cut off by no-goods: their plan_lb
    stop_reason = "gap"
    def log(row: dict[str, Any]) -> None:
        """An iteration's row, stamped when its figures are known (after its LPs and
        evaluation MIPs), so that the time to a gap is read from the row that has it."""
        row["s"] = time.perf_counter() - started
        cert.history.append(row)

    it = 0
    try:
        first_lps = lp_cuts(run, master, x0, bases, batch_cap())
        if infeasible(first_lps):
            # a block without a cut at x0 leaves its θ unbounded below in the master: bound
            # every θ by its block's LP with the investments free
            if np.isneginf(theta_lb).any():
                theta_lb = relaxed_bounds()
                master.bound_theta(theta_lb)
            lp_seen[x0.tobytes()] = np.inf
        else:
            lp_seen[x0.tobytes()] = float(split.c @ x0) + const + sum(float(r.objective or 0)
                                                                       for r in first_lps)
        cert.cuts["lp"] += ns - infeasible(first_lps)
        cert.cuts["feasibility"] = master.feasibility_cuts
        sub_gap = max(gap * SUB_GAP, 1e-6)
        best_lp: tuple[float, np.ndarray] = (np.inf, x0)  # the plan of the best LP value

        def evaluate(x: np.ndarray, lp_total: float, row: dict[str, Any]) -> None:
            """Every block's MIP at plan x: a feasible point (UB) and the plan's bound."""
            nonlocal ub, best_x, best_mips
            key = x.tobytes()
            evaluated.add(key)
            mips = run("mip", x=x, gap=sub_gap, time_limit=batch_cap(),
                       abs_gap=_room(lb, lp_total, gap, lp_parts.get(key)))
            row["mip_block_s"] = sum(r.seconds for r in mips)
            if all(r.bound is not None for r in mips):
                plan_lb[key] = max(lp_total, float(split.c @ x) + const +
                                   sum(float(r.bound or 0) for r in mips))
            if all(r.has_solution and r.objective is not None for r in mips):
                total = float(split.c @ x) + const + sum(float(r.objective or 0) for r in mips)
                if total < ub:
                    ub, best_x, best_mips = total, x, mips
                    if control is not None:
                        control.emit("progress", incumbent=ub / scale, bound=lb / scale,
                                     gap=_gap(ub, lb))

        x_start = start_plan(split, s.start)
        if x_start is not None and x_start.tobytes() not in lp_seen:
            # a plan offered as a start (e.g. the typical days' plan for every event): its
            # cuts first, then its exact cost as the first incumbent
            lps0 = lp_cuts(run, master, x_start, bases, batch_cap(), warm=False)
            cert.cuts["lp"] += ns - infeasible(lps0)
            cert.cuts["feasibility"] = master.feasibility_cuts
            lp0 = np.inf if infeasible(lps0) else \
                float(split.c @ x_start) + const + sum(float(r.objective or 0) for r in lps0)
            lp_seen[x_start.tobytes()] = lp0
            lp_parts[x_start.tobytes()] = np.array([r.objective or 0.0 for r in lps0])
            row0: dict[str, Any] = {"iteration": 0, "lower_bound": None, "start": True,
                                    "lp_value": None if lp0 == np.inf else lp0 / scale}
            if lp0 < np.inf:
                best_lp = (lp0, x_start)
                evaluate(x_start, lp0, row0)
            row0["incumbent"] = None if ub == np.inf else ub / scale
            log(row0)
        if LP_PHASE:
            lb = lp_phase(run, master, bases, batch_cap, left, lb, cert.cuts,
                           lambda row: log({**row, "lower_bound": row["lower_bound"] / scale,
                                            "incumbent": None if ub == np.inf else ub / scale}))
        reserve = False
        it = 0
        for it in range(1, max_iterations + 1):
            start = None if best_x is None or best_x.tobytes() in excluded_lb else \
                master.start(best_x, theta_lb)
            solved = master.solve(max(gap * MASTER_GAP, 1e-6), left(), start)
            floor = min(excluded_lb.values(), default=np.inf)  # plans cut off by no-goods
            if solved is None:
                lb = max(lb, floor)
                log({"iteration": it, "lower_bound": lb / scale, "incumbent": ub / scale})
                stop_reason = "gap" if _gap(ub, lb) <= gap else "no more cuts"
                break
            x, theta, bound = solved
            lb = max(lb, min(bound, floor))
            key = x.tobytes()
            row: dict[str, float | int | None] = {"iteration": it, "lower_bound": lb / scale}
            if ub < np.inf and _gap(ub, lb) <= gap:
                log({**row, "incumbent": ub / scale})
                break
            if out_of_time() or stopped():
                stop_reason = "time limit" if out_of_time() else "interrupt"
                break
            new_cuts = 0
            lp_total = lp_seen.get(key)
            lps: list[BlockOutcome] = []
            if lp_total == np.inf:  # a feasibility cut did not cut this plan off
                raise DecompositionError("a plan that a scenario cannot operate under came back "
                                         "from the master (numerically weak feasibility cut); "
                                         "solve with --strategy extensive")
            if lp_total is None:
                lps = lp_cuts(run, master, x, bases, batch_cap())
                cert.cuts["feasibility"] = master.feasibility_cuts
                if infeasible(lps):  # the plan leaves a scenario without a feasible operation
                    lp_seen[key] = np.inf
                    row["infeasible_scenarios"] = infeasible(lps)
                    cert.cuts["lp"] += ns - infeasible(lps)
                    log(row)
                    continue
                new_cuts = sum(1 for k, r in enumerate(lps)
                               if cuts_off(r.objective or 0.0, theta[k]))
                cert.cuts["lp"] += ns
                lp_total = float(split.c @ x) + const + sum(float(r.objective or 0) for r in lps)
                lp_seen[key] = lp_total
                lp_parts[key] = np.array([r.objective or 0.0 for r in lps])
            row["lp_value"] = lp_total / scale
            if lp_total < best_lp[0]:
                best_lp = (lp_total, x)
            if ub == np.inf and s.time_limit is not None and \
                    time.perf_counter() - started > (1.0 - RESERVE) * s.time_limit:
                x = best_lp[1]  # time is running out without an incumbent: evaluate the
                key = x.tobytes()  # plan of the best LP value now
                lp_total = lp_seen.get(key, best_lp[0])
                new_cuts, reserve = 0, True
            if lps:  # the integer rounds' LPs start hot (`lp_cuts`' default)
                row["lp_block_s"] = sum(r.seconds for r in lps)
                row["hot"] = cut_rounds.WARM_BASIS
            # evaluate (MIPs) only plans that are LP-optimal (no LP cut left, or, while
            # there is no incumbent, within the gap of the bound) and could still improve
            # the incumbent by more than the gap: once there is one, a plan that still
            # gets cuts waits for them (`EVALUATE_CUT_PLANS`)
            lp_close = lp_total - lb <= gap * abs(lp_total) and \
                (ub == np.inf or EVALUATE_CUT_PLANS)
            if (new_cuts == 0 or lp_close) and key not in evaluated and \
                    (ub == np.inf or lp_total < ub - gap * abs(ub)):
                evaluate(x, lp_total, row)
            row["incumbent"] = None if ub == np.inf else ub / scale
            log(row)
            if ub < np.inf and _gap(ub, lb) <= gap:  # the evaluation closed the gap
                break
            if reserve:
                stop_reason = "time limit"
                break
            if new_cuts == 0:
                if not lagrangian or key in strengthened:
                    # the cuts are exhausted at x̂: cut the plan off, keeping its bound
                    if not master.can_exclude():
                        stop_reason = "no more cuts"
                        break
                    excluded_lb[key] = max(plan_lb.get(key, lp_total), lp_total)
                    master.exclude(x)
                    cert.cuts["no-good"] = master.excluded
                    continue
                strengthened.add(key)
                if not lps:  # the LP cuts at x were added in an earlier iteration
                    lps = run("lp", x=x)
                pis = [r.subgradient if r.subgradient is not None else np.zeros(x.size)
                       for r in lps]
                cap = min(LAGRANGIAN_S, batch_cap() or LAGRANGIAN_S)
                lags = run("lagrangian", pi=pis, gap=sub_gap, time_limit=cap)
                for k, r in enumerate(lags):
                    if r.bound is None:
                        continue
                    if cuts_off(r.bound + float(pis[k] @ x), theta[k]):
                        master.add_cut(k, r.bound, pis[k])
                        cert.cuts["strengthened"] += 1
        else:
            stop_reason = "iteration limit"
    except OutOfTime as stop:  # a round of block LPs reached the limit: keep what is proven
        stop_reason = "time limit"
        lb = max(lb, stop.bound)
    cert.iterations = it
    cert.lower_bound = lb / scale
    return _result(compiled, split, timings, s, cert, best_x, best_mips, lb, ub, gap,
                   stop_reason, time.perf_counter() - started, split_s, ex.kind)


def _room(lb: float, lp_total: float, gap: float, parts: np.ndarray | None
          ) -> list[float] | None:
    """Each evaluation MIP's absolute gap at a plan of LP value `lp_total`: what the
    incumbents may add over the LP values while UB stays within `gap` of the bound
    (UB ≤ lb / (1 − gap)), shared over the blocks in proportion to their LP values.
    Each MIP's bound lies above its LP value, so incumbents within these gaps give such
    a UB whenever the plan's own bound allows one; the study's gap × `SUB_GAP` still
    applies (whichever holds first). None when there is no room (the bound is too far
    below, or not positive)."""
    if parts is None or not np.isfinite(lb) or lb <= 0 or not 0 < gap < 1:
        return None
    room = lb / (1.0 - gap) - lp_total
    weights = np.maximum(parts, 0.0)
    if room <= 0 or weights.sum() <= 0:
        return None
    return [float(v) for v in room * weights / weights.sum()]


def start_plan(split: TwoStage, start: np.ndarray | None) -> np.ndarray | None:
    """The first-stage plan of a start given by label (`SolveSettings.start`, e.g. the
    plan of the same model on fewer scenarios), rounded and inside the first stage's
    bounds; None without a start or when it leaves a first-stage value unset."""
    if start is None:
        return None
    labels = split.vlabels[split.first]
    if labels.max(initial=-1) >= start.size:
        return None
    x = np.asarray(start, dtype=float)[labels]
    if not np.isfinite(x).all():
        return None
    return rounded(np.clip(x, split.lb, split.ub), split.integer)


def _result(compiled: CompiledModel, split: TwoStage, timings: dict[str, float], s: Any,
            cert: Certificate, x: np.ndarray | None, mips: list[BlockOutcome], lb: float,
            ub: float, gap: float, reason: str, seconds: float, split_s: float,
            where: str) -> Result:
    """The incumbent written on the model, with the certificate as its one stage."""
    const, scale = compiled.objective_constant, compiled.objective_scale or 1.0
    has = x is not None
    achieved = _gap(ub, lb) if has else None
    solver_status = {"gap": "kOptimal", "time limit": "kTimeLimit",
                     "interrupt": "kInterrupt"}.get(reason, "kIterationLimit")
    if reason == "no more cuts" and achieved is not None and achieved <= gap:
        solver_status = "kOptimal"
    status = map_status(solver_status, has_solution=has, is_mip=True, requested_gap=gap,
                        achieved_gap=achieved)
    if has:
        assert x is not None
        values = np.zeros(split.ncols)
        values[split.first] = x
        for cols, r in zip(split.own, mips):
            assert r.values is not None
            values[cols] = r.values
        write_solution(compiled.model, split, values)
        bounds = [r.bound for r in mips]
        if all(b is not None for b in bounds):
            plan_lb = float(split.c @ x) + const + sum(float(b or 0) for b in bounds)
            cert.plan_gap = _gap(ub, plan_lb)
    cert.incumbent = ub / scale if has else None
    cert.gap = achieved
    outcome = SolveOutcome(status=status, objective=(ub - const) if has else None,
                           bound=lb - const if np.isfinite(lb) else None, gap=achieved,
                           solver_status=solver_status,
                           message=f"decomposition stopped by: {reason}", solve_s=seconds,
                           is_mip=True,
                           stopped_by=None if status.proved else reason)
    stage = Stage.of("decomposition", outcome, constant=const, scale=scale,
                     note=f"{len(split.blocks)} scenario blocks on {where}, "
                          f"{cert.iterations} iterations; bound: {cert.bound_kind}")
    if s.control is not None:
        record([], stage, s.control)
    result = build_result(compiled, outcome, {**timings, "split_s": split_s}, [stage])
    result.summary["decomposition"] = cert.as_dict()
    return result


__all__ = ["BlockTask", "Certificate", "DecompositionError", "SolveStatus", "decompose",
           "run_block", "start_plan"]
