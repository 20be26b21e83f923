"""Seed 000's bi-level method: PSO over upper-level plans, scenario MILPs below.

    run = solve_pso("models/ieee33_resilience.grid", "method1_pso", executor)
    run.best.plan, run.best.score, run.best.costs

Why a second strategy next to the extensive form (`compiler.families.resilience`): the paper
solves its model this way, and the extensive form of the full case (every typical
day next to the decisions) is a large MILP that HiGHS does not close quickly. The
bi-level split trades optimality for small, independent, parallel solves:

* **upper level** (`runtime.strategies.pso`): a plan is an integer vector (`plan_codec`):
  0/1 per reinforcement candidate, units per MESS type, packs per EV-RB type ×
  site; every bound of the upper level is a component or group bound of the
  `PlanSpace`, kept by the repair operator. A study's `fix`ed investments are
  pinned components.
* **lower level**: the operation MILP of ONE typical scenario (probability set to
  1), compiled with the investment decisions as variables and fixes dropped
  (`scenario_model`), handed to HiGHS once (`runtime.backend.solver.BoundsResolver`) and
  re-solved for each plan after pinning the decision columns with
  `changeColsBounds`. Its objective is the scenario's daily operating cost only,
  so the MIP gap applies to what the plan changes, not to a total dominated by
  investment terms. The compiled problem is cached per worker process
  (`_PROBLEMS`, keyed by the `LowerLevel` description), so a worker compiles each
  scenario at most once however many plans it evaluates.
* **score** of a plan: exactly the extensive form's objective,
  C_ins + C_rep − C_rec + PVF · (C_om + days_per_year · Σ_z κ_z daily_z)
  (`compiler.core.plan.plan_costs_of`). Each daily_z is the value of a feasible
  operation, so the score is the objective of a feasible point of the extensive
  form: it can never be below the extensive optimum (`--certify` measures the gap).
* **cache**: plans are keyed by `Plan.key()`; an identical plan is never solved
  twice (`PlanEvaluator.hits` counts the repeats).

Work units are (plan, scenario) pairs submitted through a `runtime.executor`
(serial, local Dask cluster or a running scheduler) and gathered in submission
order, so the same seed gives the same plans and costs on every back-end. Workers
load the model from its path and check its fingerprint (a hash of the IR), so a
worker that sees a different file fails loudly instead of scoring another model.
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import linopy
import numpy as np
import xarray as xr
from linopy import LinearExpression

from gridc.compiler import compile_model
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.plan import Plan, plan_costs_of, plan_from_fixes
from gridc.compiler.core.scenarios import scenario_list
from gridc.compiler.core.study import ResolvedStudy, resolve_study
from gridc.data.economics import PlanCosts
from gridc.dsl import ir, load
from gridc.dsl import ir_planning as P
from gridc.runtime.backend.solver import GAP_TOL, BoundsResolver, SolveStatus
from gridc.runtime.executor import Executor, ExecutorError
from gridc.runtime.status import Stage
from gridc.runtime.strategies.pso import (
    Group,
    IterationInfo,
    PlanSpace,
    PsoResult,
    PsoSettings,
    Swarm,
    run_pso,
)

#: decision blocks of `compiler.families.resilience` that a plan pins (block -> dims)
DECISIONS = {"reinforced": ("line",), "mess_units": ("mess_type",),
             "ev_packs": ("pack_type", "ev_site")}


# ---------------------------------------------------------------- plan vector


@dataclass(frozen=True)
class PlanCodec:
    """Maps plan vectors of a `PlanSpace` to `Plan`s and back."""

    space: PlanSpace
    lines: tuple[tuple[int, str], ...] = ()  # (component, line id)
    mess: tuple[tuple[int, str], ...] = ()  # (component, MESS type)
    packs: tuple[tuple[int, tuple[str, str]], ...] = ()  # (component, (type, site bus))

    def decode(self, x: np.ndarray) -> Plan:
        return Plan(reinforced=tuple(line for i, line in self.lines if x[i] > 0),
                    mess={t: int(x[i]) for i, t in self.mess},
                    packs={k: int(x[i]) for i, k in self.packs})

    def encode(self, plan: Plan) -> np.ndarray:
        x = np.zeros(self.space.dim, dtype=np.int64)
        for i, line in self.lines:
            x[i] = int(line in plan.reinforced)
        for i, t in self.mess:
            x[i] = plan.mess.get(t, 0)
        for i, k in self.packs:
            x[i] = plan.packs.get(k, 0)
        return x


def plan_codec(study: ResolvedStudy) -> PlanCodec:
    """The plan space of a study's investments; `fix`ed investments are pinned."""
    m = study.model
    kept = {i.name for i in m.investments}
    fixes = tuple(f for f in study.fixes if f.investment in kept)
    fixed_plan, fixed = plan_from_fixes(m, fixes), {f.investment for f in fixes}
    labels: list[str] = []
    lo: list[int] = []
    hi: list[int] = []
    groups: list[Group] = []
    lines: list[tuple[int, str]] = []
    mess: list[tuple[int, str]] = []
    packs: list[tuple[int, tuple[str, str]]] = []

    def add(label: str, upper: int, pinned: int | None) -> int:
        """A component in 0..upper, or pinned to a fixed value."""
        labels.append(label)
        lo.append(0 if pinned is None else pinned)
        hi.append(upper if pinned is None else pinned)
        return len(labels) - 1

    other = [i for i in m.investments
             if not isinstance(i, P.Reinforcement | P.MobileStorage | P.EvBattery)]
    if other:
        raise compile_error(m, "GRID074", f"the PSO strategy searches over reinforcement, "
                            f"MESS and EV-RB plans; investment '{other[0].name}' "
                            f"({other[0].kind}) is not part of its plan space", other[0].span,
                            help="solve this study in extensive form (solve extensive), or "
                            f"leave '{other[0].name}' out of it (without {other[0].name})")
    econ = m.economics or ir.Economics(span=m.span)
    if econ.pricing != "present_value":
        raise compile_error(m, "GRID074", "the PSO strategy scores plans by their present "
                            f"value (seed 000); this model prices '{econ.pricing}'",
                            econ.span, help="write 'pricing present_value' in economics, or "
                            "solve the study in extensive form")
    for inv in m.investments:
        pin = inv.name in fixed
        if isinstance(inv, P.Reinforcement):
            idx = [add(f"{inv.name} {c}", 1, int(c in fixed_plan.reinforced) if pin else None)
                   for c in inv.candidates]
            lines += zip(idx, inv.candidates)
            groups.append(Group(inv.name, tuple(idx), inv.count.min, inv.count.max))
        elif isinstance(inv, P.MobileStorage):
            idx = []
            for t in inv.types:
                cap = inv.count.max if t.max_units is None else min(t.max_units, inv.count.max)
                idx.append(add(f"{inv.name}.{t.name}", cap,
                               fixed_plan.mess.get(t.name, 0) if pin else None))
                mess.append((idx[-1], t.name))
            groups.append(Group(inv.name, tuple(idx), inv.count.min, inv.count.max))
        elif isinstance(inv, P.EvBattery):
            per_site = inv.per_site_max if inv.per_site_max is not None else inv.count.max
            every = []
            for s in inv.sites:
                site = []
                for t in inv.types:
                    k = (t.name, s.bus)
                    site.append(add(f"{inv.name}.{t.name}@{s.bus}", per_site,
                                    fixed_plan.packs.get(k, 0) if pin else None))
                    packs.append((site[-1], k))
                groups.append(Group(f"{inv.name}@{s.bus}", tuple(site), 0, per_site))
                every += site
            groups.append(Group(inv.name, tuple(every), inv.count.min, inv.count.max))
    if not labels:
        raise ValueError(f"study '{study.name}' has no investment to plan: PSO needs "
                         "reinforcement, mobile_storage or ev_battery decisions")
    space = PlanSpace(tuple(labels), np.array(lo), np.array(hi), tuple(groups))
    return PlanCodec(space, tuple(lines), tuple(mess), tuple(packs))


# ---------------------------------------------------------------- lower level (workers)


def fingerprint(model: ir.Model) -> str:
    return hashlib.sha256(model.model_dump_json().encode()).hexdigest()[:16]


def scenario_model(model: ir.Model, study: str | None, scenario: str) -> ir.Model:
    """`model` with the study's scenario set reduced to `scenario` (probability 1) and
    every `fix` dropped: the decisions must stay variables for the bounds to move."""
    resolved = resolve_study(model, study)
    sset = resolved.scenario_set
    studies = tuple(s.model_copy(update={"fixes": ()}) for s in model.studies)
    if sset is None:
        return model.model_copy(update={"studies": studies})
    found = [s for s in scenario_list(resolved.model, sset) if s.name == scenario]
    if not found:
        raise KeyError(f"no scenario '{scenario}' in set '{sset.name}'")
    one = ir.ScenarioSet(span=sset.span, name=sset.name,
                         scenarios=(found[0].model_copy(update={"probability": 1.0}),))
    sets = tuple(one if s.name == sset.name else s for s in model.scenario_sets)
    return model.model_copy(update={"scenario_sets": sets, "studies": studies})


@dataclass(frozen=True)
class LowerLevel:
    """What a worker needs to build one scenario problem (small and picklable; also
    the key of the worker-side cache)."""

    path: str
    fingerprint: str
    study: str | None
    scenario: str
    gap: float | None = None
    time_limit: float | None = None
    threads: int = 1
    seed: int | None = None
    #: folders the model may read besides its own (what `load(..., allow=)` was given
    #: where the search started); workers load the model with the same grants
    allow: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScenarioTask:
    lower: LowerLevel
    plan: Plan

    @property
    def label(self) -> str:
        """The task in messages (e.g. the executor's `ExecutorError`)."""
        p = self.plan
        return (f"scenario {self.lower.scenario} of the plan [{len(p.reinforced)} lines, "
                f"{sum(p.mess.values())} MESS, {sum(p.packs.values())} packs]")


@dataclass(frozen=True)
class ScenarioEval:
    scenario: str
    status: str
    ok: bool
    daily: float | None  # CNY, the scenario's operating cost of one day
    terms: dict[str, float]
    gap: float | None
    solve_s: float
    compile_s: float  # > 0 only when this task compiled the scenario problem
    worker: str


def _coeffs(expr: LinearExpression, resolver: BoundsResolver) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(expr.vars.values, dtype=np.int64).ravel()
    coeffs = np.asarray(expr.coeffs.values, dtype=float).ravel()
    keep = labels >= 0
    return resolver.columns(labels[keep]), coeffs[keep]


class ScenarioProblem:
    """One scenario's operation MILP with the decisions as re-boundable columns."""

    def __init__(self, lower: LowerLevel):
        started = time.perf_counter()
        model = load(lower.path, allow=lower.allow)
        if fingerprint(model) != lower.fingerprint:
            raise RuntimeError(f"{lower.path} on worker {_worker_id()} is not the model "
                               "the search started from (different file contents)")
        compiled = compile_model(scenario_model(model, lower.study, lower.scenario),
                                 study=lower.study)
        daily = {k[len("daily_"):]: v for k, v in compiled.costs.items()
                 if k.startswith("daily_")}
        total = linopy.merge(list(daily.values()), cls=LinearExpression)
        self.constant = float(total.const)
        compiled.model.add_objective(total - self.constant, overwrite=True)
        self.resolver = BoundsResolver(compiled.model, time_limit=lower.time_limit,
                                       gap=lower.gap, threads=lower.threads, seed=lower.seed)
        self.terms = {k: (*_coeffs(v, self.resolver), float(v.const)) for k, v in daily.items()}
        self.decisions: dict[str, xr.DataArray] = {}
        for name in DECISIONS:
            if name in compiled.model.variables:
                labels = compiled.model.variables[name].labels
                cols = self.resolver.columns(labels.values).reshape(labels.shape)
                self.decisions[name] = labels.copy(data=cols)
        self.compile_s = time.perf_counter() - started

    def bounds(self, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
        """(columns, values) pinning every decision column to `plan`."""
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for name, da in self.decisions.items():
            if name == "reinforced":
                v = [float(str(x) in plan.reinforced) for x in da["line"].values]
            elif name == "mess_units":
                v = [float(plan.mess.get(str(t), 0)) for t in da["mess_type"].values]
            else:
                d = da.transpose("pack_type", "ev_site")
                v = [float(plan.packs.get((str(t), str(s)), 0))
                     for t in d["pack_type"].values for s in d["ev_site"].values]
                da = d
            cols.append(np.asarray(da.values).ravel())
            vals.append(np.asarray(v, dtype=float))
        return np.concatenate(cols), np.concatenate(vals)

    def evaluate(self, plan: Plan) -> tuple[str, bool, float | None, dict[str, float],
                                            float | None, float]:
        cols, vals = self.bounds(plan)
        out, x = self.resolver.solve(cols, vals, vals)
        if x is None or not out.status.ok:
            return out.status.value, False, None, {}, out.gap, out.solve_s
        terms = {k: float(c @ x[col] + const) for k, (col, c, const) in self.terms.items()}
        assert out.objective is not None
        return (out.status.value, True, out.objective + self.constant, terms, out.gap,
                out.solve_s)


_PROBLEMS: dict[LowerLevel, ScenarioProblem] = {}
_LOCK = threading.Lock()
#: scenario problems compiled in this process (tests check the cache with it)
COMPILES = {"count": 0}


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def evaluate_scenario(task: ScenarioTask) -> ScenarioEval:
    """The lower level of one (plan, scenario) pair: a Dask task, idempotent (the cache
    only saves time; a retry or another worker gives the same answer)."""
    with _LOCK:
        problem = _PROBLEMS.get(task.lower)
        compile_s = 0.0
        if problem is None:
            problem = _PROBLEMS[task.lower] = ScenarioProblem(task.lower)
            COMPILES["count"] += 1
            compile_s = problem.compile_s
        status, ok, daily, terms, gap, solve_s = problem.evaluate(task.plan)
    return ScenarioEval(task.lower.scenario, status, ok, daily, terms, gap, solve_s,
                        compile_s, _worker_id())


def expected_effort(plan: Plan) -> float:
    """A rank of how long a plan's scenario MILPs take: they grow with the MESS units
    (routing binaries), then the EV-RB packs and the reinforced lines (measured on the
    resilience case: 0.4 s empty, 2.3 s the paper's plan, ~30 s for 5 MESS + 15 packs)."""
    mess, packs = sum(plan.mess.values()), sum(plan.packs.values())
    return (1.0 + mess) * (1.0 + 0.1 * packs) * (1.0 + 0.1 * len(plan.reinforced))


def clear_worker_cache() -> None:
    with _LOCK:
        _PROBLEMS.clear()


# ---------------------------------------------------------------- plan evaluation


@dataclass(frozen=True)
class PlanScore:
    plan: Plan
    score: float  # the extensive form's objective for this plan (inf if unsolved)
    costs: PlanCosts | None
    scenarios: tuple[ScenarioEval, ...]

    @property
    def ok(self) -> bool:
        return math.isfinite(self.score)


@dataclass
class PlanEvaluator:
    """Scores plans; each distinct plan is solved once (cache keyed by `Plan.key()`)."""

    model: ir.Model  # the resolved study's model (prices the plan)
    lowers: list[LowerLevel]
    probabilities: list[float]
    executor: Executor
    cache: dict[tuple[object, ...], PlanScore] = field(default_factory=dict)
    plans_solved: int = 0
    solves: int = 0  # scenario MILPs solved
    hits: int = 0  # plans answered by the cache
    compile_s: float = 0.0
    solve_s: float = 0.0

    def evaluate(self, plans: Sequence[Plan]) -> list[PlanScore]:
        new: dict[tuple[object, ...], Plan] = {}
        hits = 0
        for p in plans:
            if p.key() in self.cache or p.key() in new:
                hits += 1
            else:
                new[p.key()] = p
        tasks = [ScenarioTask(ll, p) for p in new.values() for ll in self.lowers]
        # Longest first (LPT): a batch ends when its slowest worker does, and a big plan's
        # MILP takes ~50x an empty one's, so big plans go first and small ones fill the
        # gaps. Results are put back in task order: each is independent of when it ran.
        order = sorted(range(len(tasks)), key=lambda i: -expected_effort(tasks[i].plan))
        ran = (self.executor.submit_many(evaluate_scenario, [tasks[i] for i in order])
               if tasks else [])
        by_task = dict(zip(order, ran))
        results = [by_task[i] for i in range(len(tasks))]
        n = len(self.lowers)
        for k, (key, p) in enumerate(new.items()):
            evals = tuple(results[k * n:(k + 1) * n])
            self.cache[key] = self._score(p, evals)
            self.compile_s += sum(e.compile_s for e in evals)
            self.solve_s += sum(e.solve_s for e in evals)
        self.plans_solved += len(new)
        self.solves += len(tasks)
        self.hits += hits  # counted once the batch is done (an interrupted one is not)
        return [self.cache[p.key()] for p in plans]

    def _score(self, plan: Plan, evals: tuple[ScenarioEval, ...]) -> PlanScore:
        if not all(e.ok and e.daily is not None for e in evals):
            return PlanScore(plan, math.inf, None, evals)
        day = sum(k * float(e.daily or 0.0) for k, e in zip(self.probabilities, evals))
        econ = self.model.economics or ir.Economics(span=self.model.span)
        costs = plan_costs_of(self.model, plan, econ.days_per_year * day)
        return PlanScore(plan, costs.objective, costs, evals)


# ---------------------------------------------------------------- the search


@dataclass
class PsoRun:
    best: PlanScore | None
    result: PsoResult
    evaluator: PlanEvaluator
    codec: PlanCodec
    settings: PsoSettings
    wall_s: float
    workers: int
    executor: str
    failure: str | None = None  # why the search stopped early on an error (SearchFailed)

    @property
    def evaluations_per_s(self) -> float:
        return self.evaluator.solves / self.wall_s if self.wall_s > 0 else 0.0


class SearchFailed(RuntimeError):
    """The search stopped on an error (e.g. `ExecutorError`: the workers died); `run` is
    the search so far, with the best plan found before the error (`run.failure` says
    why). Raised from the error itself."""

    def __init__(self, run: PsoRun):
        super().__init__(f"the search stopped after {run.result.iterations_done} "
                         f"iteration(s): {run.failure}")
        self.run = run


def describe(exc: BaseException) -> str:
    """An error in one line for messages: gridc errors by their text, others by type."""
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, ExecutorError) else f"{type(exc).__name__}: {text}"


def pso_settings(study: ResolvedStudy, particles: int | None = None,
                 iterations: int | None = None, seed: int | None = None) -> PsoSettings:
    """Swarm size, iterations and seed: arguments first, then the study's `pso(...)`."""
    s = study.solve
    return PsoSettings(
        particles=particles or s.particles or PsoSettings.particles,
        iterations=iterations or s.iterations or PsoSettings.iterations,
        seed=seed if seed is not None else (s.seed if s.seed is not None else 0))


def solve_pso(path: str | Path, study: str | None, executor: Executor, *,
              model: ir.Model | None = None, settings: PsoSettings | None = None,
              gap: float | None = None, time_limit: float | None = None,
              threads: int = 1, solver_seed: int | None = None,
              on_iteration: Callable[[IterationInfo, PlanEvaluator], None] | None = None,
              allow: Sequence[str | Path] = (),
              ) -> PsoRun:
    """Run the bi-level search on the model at `path` (workers load it from there).

    `gap` (default: the study's) and `time_limit` apply to each lower-level solve; a
    time limit that is hit makes the result depend on machine speed, so leave it
    unset when runs must be reproducible. Ctrl-C ends the search early with the
    best plan so far (`run.result.interrupted`); any other error of the search (an
    `ExecutorError` when the workers die, ...) raises `SearchFailed`, which holds the
    search so far, best plan included (`exc.run`). `allow`: folders the model may read
    besides its own, as for `gridc.load` — the workers load the model with them too."""
    path = str(Path(path).resolve())
    grants = tuple(os.path.abspath(os.path.expanduser(str(a))) for a in allow)
    model = model if model is not None else load(path, allow=grants)
    resolved = resolve_study(model, study)
    codec = plan_codec(resolved)
    settings = settings or pso_settings(resolved)
    scenarios = scenario_list(resolved.model, resolved.scenario_set)
    fp = fingerprint(model)
    lowers = [LowerLevel(path, fp, resolved.name or None, sc.name,
                         gap if gap is not None else resolved.solve.gap, time_limit,
                         threads, solver_seed, grants) for sc in scenarios]
    evaluator = PlanEvaluator(resolved.model, lowers, [sc.probability for sc in scenarios],
                              executor)

    def evaluate(xs: Sequence[np.ndarray]) -> list[float]:
        return [s.score for s in evaluator.evaluate([codec.decode(x) for x in xs])]

    def report(info: IterationInfo) -> None:
        if on_iteration is not None:
            on_iteration(info, evaluator)

    started = time.perf_counter()
    swarm = Swarm(codec.space, settings)  # ours: it holds the best plan whatever happens

    def finish(result: PsoResult, failure: str | None = None) -> PsoRun:
        wall = time.perf_counter() - started
        best = None
        if result.best_plan is not None:
            best = evaluator.cache.get(codec.decode(result.best_plan).key())
        try:
            workers = executor.workers()
        except Exception:  # a dying cluster must not hide the result
            workers = 0
        return PsoRun(best, result, evaluator, codec, settings, wall, workers,
                      executor.kind, failure)

    try:
        result = run_pso(codec.space, evaluate, settings, on_iteration=report, swarm=swarm)
    except Exception as exc:
        raise SearchFailed(finish(swarm.result(), describe(exc))) from exc
    return finish(result)


def pso_stages(run: PsoRun, certificate: Stage | None = None,
               requested_gap: float | None = None) -> list[Stage]:
    """The stages of a search (`runtime.status`): the scenario MILPs of the best plan
    (its score is only as good as they are), a `certificate` if one was solved (the
    extensive form, `--certify`), then the search itself, whose best plan is the
    result. The search is a heuristic: `heuristic`, never `optimal`, unless the
    certificate's bound shows the plan within `requested_gap` (HiGHS' rule, as
    `map_status`: optimal without a requested gap)."""
    stages: list[Stage] = []
    best = run.best
    if best is not None:
        for e in best.scenarios:
            stages.append(Stage(f"scenario {e.scenario} (best plan)", SolveStatus(e.status),
                                objective=e.daily, gap=e.gap, seconds=e.solve_s,
                                stopped_by=STOPPED.get(e.status),
                                note="daily operating cost of the best plan"))
    bound = gap = None
    status = SolveStatus.heuristic
    if certificate is not None:
        stages.append(replace(certificate, limits=False))
        score = best.score if best is not None and best.ok else None
        if certificate.bound is not None and score is not None and score != 0:
            bound, gap = certificate.bound, max(0.0, (score - certificate.bound) / abs(score))
            if gap <= (requested_gap if requested_gap else GAP_TOL) or gap <= GAP_TOL:
                status = (SolveStatus.feasible_gap if requested_gap and gap > GAP_TOL
                          else SolveStatus.optimal)
    r = run.result
    if run.failure:
        status, why = SolveStatus.error, "error"
    elif r.interrupted:
        status, why = SolveStatus.interrupted, "interrupt"
    else:
        why = None
    if best is None or not best.ok:
        status = {SolveStatus.error: SolveStatus.error,
                  SolveStatus.interrupted: SolveStatus.interrupted_infeasible
                  }.get(status, SolveStatus.infeasible)
    stages.append(Stage("PSO search", status,
                        objective=best.score if best is not None and best.ok else None,
                        bound=bound, gap=gap, seconds=run.wall_s, stopped_by=why,
                        note=f"{r.iterations_done}/{run.settings.iterations} iterations, "
                             f"{run.evaluator.plans_solved} plans"
                             + ("; gap to the extensive form's bound" if gap is not None
                                else "; a heuristic: no bound")))
    return stages


#: why a scenario MILP stopped early, by its status
STOPPED = {"time_limit_feasible": "time limit", "time_limit_infeasible": "time limit",
           "limit_feasible": "node limit", "limit_infeasible": "node limit",
           "interrupted": "interrupt", "interrupted_infeasible": "interrupt"}


def fix_statements(model: ir.Model, plan: Plan) -> list[str]:
    """The plan as `fix` statements (paste them into a study to evaluate it)."""
    out = []
    for inv in model.investments:
        if isinstance(inv, P.Reinforcement):
            lines = [c for c in inv.candidates if c in plan.reinforced]
            out.append(f"fix {inv.name} [{', '.join(lines)}]")
        elif isinstance(inv, P.MobileStorage):
            out += [f"fix {inv.name}.{t.name} {plan.mess.get(t.name, 0)}" for t in inv.types]
        elif isinstance(inv, P.EvBattery):
            for t in inv.types:
                vals = ", ".join(str(plan.packs.get((t.name, s.bus), 0)) for s in inv.sites)
                out.append(f"fix {inv.name}.{t.name} [{vals}]")
    return out
