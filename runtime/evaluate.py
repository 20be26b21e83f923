"""Out-of-sample evaluation: a fixed plan scored on every event of a history.

A study plans on k typical days of a history (`data.history.cluster_history`); how its
plan does on the events it was not planned for is measured here, each event its own
24 h operation problem with the plan fixed:

    run = evaluate_events(model, "method1", plan, event_scenarios(model, source), executor)
    run.outcomes[0].daily, .unserved_kwh, .status

How the event problems are built (measured on the resilience case, 2026-12-03, load 4-5):
compiling the model for ONE scenario costs 13-20 s (fixed xarray/linopy overhead), for
all 120 events of the history 24 s. So the events are compiled together, as one
scenario set (`chunk` events per compile), with every `fix` dropped; the plan pins the
first-stage columns, and the matrix is cut into one block per event
(`runtime.backend.split`). The blocks are plain arrays: a Dask worker solves one without
compiling anything, any worker gives the same answer (HiGHS with one thread is
deterministic for the same arrays and options), so a task lost with a killed worker is
simply run again elsewhere.

Each event's MIP is solved with the fixed-plan options (`solver.FIXED_PLAN_MIP`, shared
with the decomposition's `BlockSolver.fixed_mip`): where the CPU of an event goes on the
resilience case (measured 2026-12-03, docs/performance.md): HiGHS' presolve (mostly
probing) and the root LP, 3,000-20,000 simplex iterations; the events close at the root
or within a few dozen nodes, and on the hardest ones the RENS/RINS sub-MIPs cost more
than they find. Events whose problems have equal arrays (`fingerprint`, names aside:
a storm that touches nothing the plan can reach, at the same levels) are solved once;
on the resilience case no two of the 120 events are equal (each has its own load
level), so that saves nothing there.

Each event's objective is its own daily operating cost (`CompiledModel.scenario_costs`,
unweighted), so the MIP gap applies to that day; its status says whether the day was
solved to optimality, within the gap, or not at all (`EventOutcome.status`).

Statistics over the events (expected cost, quantiles, CVaR, worst events, in-sample vs
out-of-sample) are `runtime.evaluate_report`.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr
from linopy import LinearExpression

from gridc.compiler import CompiledModel, compile_model
from gridc.compiler.core.index import SCENARIO
from gridc.compiler.core.plan import Plan, plan_from_fixes
from gridc.compiler.core.scenarios import history_scenarios
from gridc.compiler.core.study import resolve_study
from gridc.dsl import ir
from gridc.runtime.backend.solver import SolveStatus
from gridc.runtime.backend.split import (
    Linear,
    SubProblem,
    cut_scenarios,
    pin_scenarios,
    solve_subproblem,
)
from gridc.runtime.executor import Executor, SerialExecutor
from gridc.runtime.results import SHED_BLOCKS

#: events compiled together at most (memory grows with it: ~1 M columns per 120 events
#: of the resilience case)
CHUNK = 200
#: first-stage blocks a `Plan` gives values for (`compiler.families.resilience`)
PLAN_BLOCKS = ("reinforced", "mess_units", "ev_packs")


class EvaluationError(ValueError):
    """The plan or the model cannot be evaluated (a message for the user)."""


# ---------------------------------------------------------------- events as scenarios


def history_of(model: ir.Model, study: str | None) -> ir.HistorySource:
    """The history the study's scenarios are clustered from."""
    resolved = resolve_study(model, study)
    sset = resolved.scenario_set
    if sset is None or sset.history is None:
        what = "has no scenarios" if sset is None else \
            f"uses scenarios '{sset.name}', which are not generated from a history"
        raise EvaluationError(f"study '{resolved.name or '-'}' {what}: out-of-sample "
                              "evaluation needs scenarios `from history ... cluster kmeans(...)`")
    return sset.history


def event_scenarios(model: ir.Model, source: ir.HistorySource,
                    study: str | None = None) -> list[ir.Scenario]:
    """Every event of `source` as a scenario named by the event, probability 1/N: its
    data exactly as a typical day made from it (`history_scenarios`: the event's
    outages, load scaled by its load level, PV/wind/DG by its DG level)."""
    resolved = resolve_study(model, study).model
    n = len(source.events)
    out = []
    for ev in source.events:
        one = source.model_copy(update={"k": 1, "events": (ev,)})
        sc = history_scenarios(resolved, one)[0]
        out.append(sc.model_copy(update={"name": ev.name, "probability": 1.0 / n}))
    return out


def with_scenarios(model: ir.Model, study: str | None,
                   scenarios: Sequence[ir.Scenario]) -> ir.Model:
    """`model` with the study's scenario set replaced by `scenarios` and every `fix`
    dropped (the plan is pinned on the compiled columns instead)."""
    resolved = resolve_study(model, study)
    studies = tuple(s.model_copy(update={"fixes": ()}) for s in model.studies)
    sset = resolved.scenario_set
    if sset is None:
        raise EvaluationError(f"study '{resolved.name or '-'}' has no scenario set")
    total = sum(s.probability for s in scenarios)
    scs = tuple(s.model_copy(update={"probability": s.probability / total}) for s in scenarios)
    new = ir.ScenarioSet(span=sset.span, name=sset.name, scenarios=scs)
    sets = tuple(new if s.name == sset.name else s for s in model.scenario_sets)
    return model.model_copy(update={"scenario_sets": sets, "studies": studies})


# ---------------------------------------------------------------- the plan


def study_plan(model: ir.Model, study: str | None) -> Plan:
    """The plan written in the study as `fix` lines (unfixed investments count zero)."""
    resolved = resolve_study(model, study)
    kept = {i.name for i in resolved.model.investments}
    return plan_from_fixes(resolved.model,
                           tuple(f for f in resolved.fixes if f.investment in kept))


def plan_values(compiled: CompiledModel, plan: Plan | Mapping[str, xr.DataArray]
                ) -> dict[str, xr.DataArray]:
    """The value of every first-stage block (a variable without a scenario dimension)
    under `plan`: a `Plan` gives the resilience decisions, a mapping (e.g. a solution
    dataset) gives blocks by name. EvaluationError when a block is missing or a value
    is outside its variable's bounds."""
    m = compiled.model
    first = [n for n, v in m.variables.items() if SCENARIO not in v.dims]
    if isinstance(plan, Plan):  # nothing of the plan may go unused
        used = {"reinforced": bool(plan.reinforced), "mess_units": any(plan.mess.values()),
                "ev_packs": any(plan.packs.values())}
        missing = [k for k, v in used.items() if v and k not in first]
        if missing:
            raise EvaluationError(f"the plan builds {', '.join(missing)}, which the model "
                                  "(this study) does not have")
    out: dict[str, xr.DataArray] = {}
    for name in first:
        var = m.variables[name]
        if isinstance(plan, Plan):
            if name not in PLAN_BLOCKS:
                raise EvaluationError(f"the plan gives no value for '{name}' (a plan of "
                                      "lines, MESS and EV-RB packs); evaluate a solved "
                                      "study's output, whose solution holds every decision")
            values = _plan_block(name, var.labels, plan)
        else:
            if name not in plan:
                raise EvaluationError(f"the plan gives no value for '{name}'")
            values = plan[name].reindex_like(var.labels).fillna(0.0)
        if name in m.integers or name in m.binaries:
            values = values.round()
        low = var.lower.broadcast_like(var.labels)
        high = var.upper.broadcast_like(var.labels)
        bad = (values < low - 1e-9) | (values > high + 1e-9)
        if bool(bad.any()):
            where = {d: str(bad[d].values[np.argwhere(bad.values)[0][i]])
                     for i, d in enumerate(bad.dims)}
            raise EvaluationError(f"the plan sets '{name}' {where} to "
                                  f"{float(values.values[bad.values][0]):g}, outside the "
                                  "model's range for it (not a candidate, or over a limit)")
        out[name] = values
    return out


def _plan_block(name: str, labels: xr.DataArray, plan: Plan) -> xr.DataArray:
    if name == "reinforced":
        v = [float(str(x) in plan.reinforced) for x in labels["line"].values]
        return xr.DataArray(v, coords=labels.coords, dims=labels.dims)
    if name == "mess_units":
        v = [float(plan.mess.get(str(t), 0)) for t in labels["mess_type"].values]
        return xr.DataArray(v, coords=labels.coords, dims=labels.dims)
    grid = xr.zeros_like(labels, dtype=float)
    for (t, site), n in plan.packs.items():
        if t in grid["pack_type"].values and site in grid["ev_site"].values:
            grid.loc[{"pack_type": t, "ev_site": site}] = float(n)
        elif n:
            raise EvaluationError(f"the plan puts {n} pack(s) of '{t}' at '{site}', which "
                                  "the model does not have")
    return grid


def plan_from_summary(decisions: Mapping[str, Any]) -> Plan:
    """A `Plan` from a solved study's summary.json: its "decisions" (`gridc solve`:
    packs as {type: {site: n}}) or its "plan" (the PSO: packs as [type, site, n])."""
    reinforced = tuple(str(x) for x in decisions.get("reinforced") or [])
    mess = {str(k): int(v) for k, v in (decisions.get("mess") or {}).items()}
    packs: dict[tuple[str, str], int] = {}
    given = decisions.get("ev_packs") or {}
    rows = given.items() if isinstance(given, Mapping) else []
    for t, row in rows:
        for site, n in row.items():
            packs[(str(t), str(site))] = int(n)
    if not isinstance(given, Mapping):
        for t, site, n in given:
            packs[(str(t), str(site))] = int(n)
    return Plan(reinforced=reinforced, mess=mess, packs=packs)


# ---------------------------------------------------------------- event problems


def _per_scenario(expr: LinearExpression, n: int) -> Linear:
    """A per-scenario linear expression as flat (label, coefficient, scenario) terms."""
    vars_ = expr.vars.transpose(SCENARIO, ...).values.reshape(n, -1)
    coeffs = expr.coeffs.transpose(SCENARIO, ...).values.reshape(n, -1)
    const = expr.const
    other = [d for d in const.dims if d != SCENARIO]
    const = const.sum(other) if other else const
    scen = np.repeat(np.arange(n), vars_.shape[1])
    return Linear(vars_.ravel(), coeffs.ravel(), scen,
                  np.broadcast_to(np.asarray(const.values, dtype=float), (n,)).copy())


def _merged(parts: list[Linear], n: int) -> Linear:
    if not parts:
        empty = np.zeros(0)
        return Linear(empty.astype(np.int64), empty, empty.astype(np.int64), np.zeros(n))
    return Linear(np.concatenate([p.labels for p in parts]),
                  np.concatenate([p.coeffs for p in parts]),
                  np.concatenate([p.scenario for p in parts]),
                  np.sum([p.const for p in parts], axis=0))


def _unserved(compiled: CompiledModel, n: int) -> Linear:
    """Σ shed power × Δt per scenario [kWh] (the shedding blocks of `families.loads`)."""
    dt = compiled.index.step_h
    parts = []
    for name in SHED_BLOCKS:
        if name in compiled.model.variables:
            labels = compiled.model.variables[name].labels.transpose(SCENARIO, ...)
            flat = labels.values.reshape(n, -1)
            parts.append(Linear(flat.ravel(), np.full(flat.size, dt),
                                np.repeat(np.arange(n), flat.shape[1]), np.zeros(n)))
    return _merged(parts, n)


def compile_events(model: ir.Model, study: str | None, scenarios: Sequence[ir.Scenario],
                   ) -> CompiledModel:
    """The study compiled over `scenarios` (fixes dropped; see `with_scenarios`)."""
    return compile_model(with_scenarios(model, study, scenarios), study=study)


def split_events(compiled: CompiledModel, plan: Plan | Mapping[str, xr.DataArray]
                 ) -> list[SubProblem]:
    """One `SubProblem` per scenario of `compiled` with `plan` pinned: its daily
    operating cost as objective, its cost terms and unserved energy as read-outs."""
    names = [str(s) for s in compiled.index.coords[SCENARIO]]
    n = len(names)
    m = compiled.model
    values = plan_values(compiled, plan)
    pin_labels = np.concatenate([np.zeros(0, dtype=np.int64)] + [
        m.variables[k].labels.values.ravel() for k in values])
    pin_values = np.concatenate([np.zeros(0)] + [
        values[k].transpose(*m.variables[k].labels.dims).values.ravel() for k in values])
    keep = pin_labels >= 0
    terms = {k: _per_scenario(v, n) for k, v in compiled.scenario_costs.items()}
    measures = {f"cost_{k}": v for k, v in terms.items()}
    measures["unserved_kwh"] = _unserved(compiled, n)
    try:
        return pin_scenarios(cut_scenarios(m, SCENARIO), names,
                             (pin_labels[keep], pin_values[keep]),
                             _merged(list(terms.values()), n), measures)
    except ValueError as exc:
        raise EvaluationError(str(exc)) from exc


# ---------------------------------------------------------------- solving (workers)


def fingerprint(problem: SubProblem) -> str:
    """A digest of every array and number of `problem` except its name: two events with
    the same fingerprint are the same problem (a storm that touches nothing reachable,
    the same levels) and get the same answer."""
    h = hashlib.sha256()
    arrays = [problem.start, problem.index, problem.value, problem.row_lower,
              problem.row_upper, problem.cost, problem.col_lower, problem.col_upper,
              problem.integrality, np.float64(problem.offset)]
    for key in sorted(problem.measures):
        cols, coeffs, const = problem.measures[key]
        arrays += [np.frombuffer(key.encode(), dtype=np.uint8), cols, coeffs,
                   np.float64(const)]
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class EventTask:
    """One event's problem and how to solve it (picklable: a Dask task's argument)."""

    problem: SubProblem
    gap: float | None = None
    time_limit: float | None = None
    threads: int = 1
    seed: int | None = None
    fast: bool = True  # the fixed-plan MIP options (`solver.FIXED_PLAN_MIP`)

    @property
    def label(self) -> str:
        return f"event {self.problem.name}"


@dataclass(frozen=True)
class EventOutcome:
    """One event with the plan fixed: its daily operating cost (CNY, None without a
    solution), the solver's bound on it, the unserved energy and the cost terms."""

    event: str
    status: str
    daily: float | None
    bound: float | None
    gap: float | None
    unserved_kwh: float | None
    terms: dict[str, float | None]
    solve_s: float
    worker: str

    @property
    def ok(self) -> bool:
        return SolveStatus(self.status).ok and self.daily is not None


def solve_event(task: EventTask) -> EventOutcome:
    """A Dask task: solve one event (idempotent; nothing is cached)."""
    out, reads = solve_subproblem(task.problem, time_limit=task.time_limit, gap=task.gap,
                                  threads=task.threads, seed=task.seed, fast=task.fast)
    terms = {k[len("cost_"):]: v for k, v in reads.items() if k.startswith("cost_")}
    return EventOutcome(task.problem.name, out.status.value, out.objective, out.bound,
                        out.gap, reads.get("unserved_kwh"), terms, out.solve_s,
                        f"{socket.gethostname()}:{os.getpid()}")


@dataclass
class EventRun:
    """The outcomes of a batch of events, in the order of the scenarios given."""

    outcomes: list[EventOutcome]
    compile_s: float
    split_s: float
    solve_wall_s: float
    executor: str
    workers: int
    sizes: list[tuple[int, int]] = field(default_factory=list)  # (rows, columns) per event

    @property
    def wall_s(self) -> float:
        return self.compile_s + self.split_s + self.solve_wall_s


def evaluate_events(model: ir.Model, study: str | None, plan: Plan | Mapping[str, xr.DataArray],
                    scenarios: Sequence[ir.Scenario], executor: Executor | None = None, *,
                    gap: float | None = None, time_limit: float | None = None,
                    threads: int = 1, seed: int | None = None, chunk: int = CHUNK,
                    progress: Callable[[int, int, EventOutcome], None] | None = None,
                    fast: bool = True) -> EventRun:
    """Each scenario of `scenarios` as its own operation problem with `plan` fixed (the
    core of `gridc evaluate`; see the module docstring). `gap` / `time_limit` apply to
    each event's MILP (default gap: the study's). Outcomes come back in the order of
    `scenarios` whatever the executor."""
    executor = executor or SerialExecutor()
    if gap is None:
        gap = resolve_study(model, study).solve.gap
    problems: list[SubProblem] = []
    compile_s = split_s = 0.0
    for k in range(0, len(scenarios), max(1, chunk)):
        started = time.perf_counter()
        compiled = compile_events(model, study, scenarios[k:k + chunk])
        compile_s += time.perf_counter() - started
        started = time.perf_counter()
        problems += split_events(compiled, plan)
        split_s += time.perf_counter() - started
        del compiled
    run = solve_events(problems, executor, gap=gap, time_limit=time_limit, threads=threads,
                       seed=seed, progress=progress, fast=fast)
    run.compile_s, run.split_s = compile_s, split_s
    return run


def solve_events(problems: Sequence[SubProblem], executor: Executor | None = None, *,
                 gap: float | None, time_limit: float | None = None,
                 threads: int = 1, seed: int | None = None,
                 progress: Callable[[int, int, EventOutcome], None] | None = None,
                 fast: bool = True) -> EventRun:
    """Solve event problems (`split_events`) on `executor`; outcomes in their order
    whatever finished first. `progress(done, total, outcome)` after each event.
    `gap` has no default: None is HiGHS' own 0.01 %, a hundred times the resilience
    studies' 1 % and about twice the CPU (the bench once measured the evaluation so;
    `evaluate_events` passes the study's gap).
    `fast`: HiGHS with the fixed-plan MIP options (the default; False: its defaults,
    for comparison; the gap proved is the same)."""
    executor = executor or SerialExecutor()
    # identical arrays give identical answers: each distinct problem is solved once
    first: dict[str, int] = {}
    source = [first.setdefault(fingerprint(p), k) for k, p in enumerate(problems)]
    distinct = sorted(first.values())
    tasks = [EventTask(problems[k], gap, time_limit, threads, seed, fast) for k in distinct]
    started = time.perf_counter()
    found: dict[int, EventOutcome] = {}
    for j, outcome in executor.as_completed(solve_event, tasks):
        found[distinct[j]] = outcome
        if progress is not None:
            progress(len(found), len(tasks), outcome)
    outcomes = [found[k] if source[k] == k else
                replace(found[source[k]], event=problems[k].name, solve_s=0.0,
                        worker=f"same problem as {problems[source[k]].name}")
                for k in range(len(problems))]
    solve_wall_s = time.perf_counter() - started
    try:
        workers = executor.workers()
    except Exception:  # a dying cluster must not hide the result
        workers = 0
    return EventRun(outcomes, 0.0, 0.0, solve_wall_s, executor.kind, workers,
                    [p.shape for p in problems])
