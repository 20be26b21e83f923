"""Integer-aware particle swarm optimisation over upper-level plans (pure numpy).

Seed 000 solves its bi-level model with "an improved PSO" for the upper level and a
MILP solver for the lower level. This module is the upper level only: it knows
nothing about grids, it searches integer vectors x with per-component bounds
lower ≤ x ≤ upper and *group* bounds lo_g ≤ Σ_{i∈g} x_i ≤ hi_g, and asks a
caller-supplied `evaluate(batch of plans) -> scores` for the cost of each plan
(`gridc.runtime.strategies.bilevel` maps a vector to a `Plan` and solves the scenario
MILPs).

The plan vector of seed 000 (`bilevel.plan_space`): one 0/1 component per candidate
line (group: the reinforcement count range), one count per MESS type (group: the
MESS count range) and one count per EV-RB pack type × site (groups: the per-site
maximum of every site, nested in the EV-RB count range). The groups form a
*laminar* family (two groups are disjoint or nested) in which only outermost groups
have a minimum; `PlanSpace` checks both, because the repair operator is exact
(it finds a feasible plan whenever one exists) only for such families.

What is "improved" over textbook PSO (Kennedy & Eberhart), and why:

* **rounding + repair**: particles fly in the continuous box; a particle's plan is
  its position rounded and then *repaired* (`PlanSpace.repair`): components are
  moved one unit at a time, the one whose rounding went furthest in the wrong
  direction first, until every group bound holds. Every evaluated plan is
  feasible, so no penalty term has to be tuned and no evaluation is wasted on a
  plan the upper level forbids;
* **linearly decreasing inertia** w: 0.9 → 0.4 over the run (Shi & Eberhart):
  exploration first, then convergence on the best plans;
* **velocity clamping** to half of each component's range (at least 1), so
  binary components do not saturate after one step;
* **mutation on stagnation**: when the global best has not improved for `stall`
  iterations, the worse half of the swarm (by personal best) restarts from a
  uniform crossover of the global best with a random point, velocities reset. On
  integer plans a converged swarm otherwise re-proposes cached plans forever;
* **no idle proposals**: a particle whose plan was already proposed (by anyone,
  at any iteration) is kicked by ±1 on a random component, up to `kicks` times,
  until its plan is new. Without it a swarm on integer plans spends most of its
  budget re-proposing cached plans (measured on the tiny test model: 19 of 30
  proposals), i.e. it explores much less than its evaluation count suggests;
* **diverse start**: particle 0 is the smallest plan (`lower`, repaired) and the
  others are drawn with a random *density* each, so small, medium and large plans
  are all tried in the first iteration (a uniform draw per component makes
  nearly every initial plan hit the count maxima).

Reproducibility: all randomness comes from one `numpy.random.Generator` seeded by
`PsoSettings.seed`, consumed in a fixed order that does not depend on the scores'
arrival order; with deterministic scores the same seed gives the same plans.
Identical plans are not re-solved: the caller's cache (keyed by `Plan.key()`)
answers them, the swarm still counts them as proposals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

IntVector = np.ndarray  # 1-d int64 plan vector


class InfeasibleSpace(ValueError):
    """The bounds admit no plan at all."""


@dataclass(frozen=True)
class Group:
    """lo ≤ Σ x[indices] ≤ hi."""

    name: str
    indices: tuple[int, ...]
    lo: int
    hi: int


@dataclass(frozen=True, eq=False)
class PlanSpace:
    """Integer vectors within component bounds and laminar group bounds."""

    labels: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    groups: tuple[Group, ...] = ()
    _order: tuple[int, ...] = field(init=False, repr=False)
    _member: np.ndarray = field(init=False, repr=False)  # [group, component] membership

    def __post_init__(self) -> None:
        n = len(self.labels)
        lower = np.asarray(self.lower, dtype=np.int64).reshape(n)
        upper = np.asarray(self.upper, dtype=np.int64).reshape(n)
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        if np.any(lower > upper):
            bad = int(np.argmax(lower > upper))
            raise InfeasibleSpace(f"{self.labels[bad]}: lower bound above upper bound")
        sets = [frozenset(g.indices) for g in self.groups]
        for g, s in zip(self.groups, sets):
            if not s or min(s) < 0 or max(s) >= n or len(s) != len(g.indices):
                raise ValueError(f"group {g.name}: bad indices")
        for a, (ga, sa) in enumerate(zip(self.groups, sets)):
            for gb, sb in zip(self.groups[a + 1:], sets[a + 1:]):
                inter = sa & sb
                if inter and inter != sa and inter != sb:
                    raise ValueError(f"groups {ga.name} and {gb.name} overlap without nesting")
                inner = ga if sa <= sb and sa != sb else gb if sb < sa else None
                if inner is not None and inner.lo > 0:
                    raise ValueError(f"group {inner.name} is nested in another: it may only "
                                     "have a maximum")
        # inner groups first: their maxima are enforced before the enclosing totals
        order = sorted(range(len(self.groups)), key=lambda k: len(self.groups[k].indices))
        object.__setattr__(self, "_order", tuple(order))
        member = np.zeros((len(self.groups), n), dtype=bool)
        for k, g in enumerate(self.groups):
            member[k, list(g.indices)] = True
        object.__setattr__(self, "_member", member)
        self.repair(lower.astype(float))  # raises InfeasibleSpace if nothing fits

    @property
    def dim(self) -> int:
        return len(self.labels)

    def feasible(self, x: np.ndarray) -> bool:
        x = np.asarray(x)
        if x.shape != (self.dim,) or np.any(x != np.rint(x)):
            return False
        if np.any(x < self.lower) or np.any(x > self.upper):
            return False
        return all(g.lo <= int(x[list(g.indices)].sum()) <= g.hi for g in self.groups)

    def repair(self, position: np.ndarray) -> IntVector:
        """The nearest-by-rounding feasible plan of a continuous position.

        Round and clip, then (inner groups first) take units away from groups above
        their maximum and add units to groups below their minimum, each time moving
        the component whose rounding error points most strongly that way (ties: the
        lowest index, so the result is a function of the position alone). A unit is
        only added where no enclosing group is full."""
        p = np.asarray(position, dtype=float).reshape(self.dim)
        x = np.clip(np.rint(p), self.lower, self.upper).astype(np.int64)
        pull = p - x  # > 0: wants to go up, < 0: wants to go down
        member, order = self._member, self._order
        his = np.array([g.hi for g in self.groups], dtype=np.int64)
        sums = member @ x
        for k in order:
            g = self.groups[k]
            while sums[k] > g.hi:
                idx = np.array(g.indices)
                ok = x[idx] > self.lower[idx]
                if not ok.any():
                    raise InfeasibleSpace(f"group {g.name}: its fixed components exceed "
                                          f"its maximum {g.hi}")
                i = int(idx[ok][np.argmin(pull[idx][ok])])
                x[i] -= 1
                pull[i] += 1.0
                sums -= member[:, i]
        for k in order:
            g = self.groups[k]
            while sums[k] < g.lo:
                idx = np.array(g.indices)
                room = (x[idx] < self.upper[idx]) & np.all(
                    (sums < his)[:, None] | ~member[:, idx], axis=0)
                if not room.any():
                    raise InfeasibleSpace(f"group {g.name}: cannot reach its minimum {g.lo}")
                i = int(idx[room][np.argmax(pull[idx][room])])
                x[i] += 1
                pull[i] -= 1.0
                sums += member[:, i]
        return x

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` start positions: row 0 the lower corner, the others at random densities."""
        span = (self.upper - self.lower).astype(float)
        density = rng.random((n, 1))
        pos = self.lower + rng.random((n, self.dim)) * density * span
        pos[0] = self.lower
        return pos  # type: ignore[no-any-return]


@dataclass(frozen=True)
class PsoSettings:
    particles: int = 12
    iterations: int = 15
    seed: int = 0
    w_start: float = 0.9
    w_end: float = 0.4
    c1: float = 1.5  # pull towards the particle's own best plan
    c2: float = 1.5  # pull towards the swarm's best plan
    stall: int = 3  # iterations without improvement before the mutation
    restart_share: float = 0.5  # share of the swarm restarted by the mutation
    kicks: int = 3  # ±1 kicks tried to turn an already proposed plan into a new one

    def __post_init__(self) -> None:
        if self.particles < 1 or self.iterations < 1:
            raise ValueError("PSO needs at least one particle and one iteration")

    def inertia(self, it: int) -> float:
        if self.iterations == 1:
            return self.w_start
        return self.w_start - (self.w_start - self.w_end) * it / (self.iterations - 1)


@dataclass(frozen=True)
class IterationInfo:
    """What the swarm reports after each iteration (for progress displays)."""

    iteration: int  # 1-based
    iterations: int
    best_score: float
    best_plan: IntVector
    improved: bool
    mutated: bool
    plans: int  # plans proposed this iteration (cached ones included)


@dataclass
class PsoResult:
    best_plan: IntVector | None
    best_score: float
    iterations_done: int
    history: list[float] = field(default_factory=list)  # best score after each iteration
    interrupted: bool = False


Evaluate = Callable[[Sequence[IntVector]], Sequence[float]]


class Swarm:
    """The swarm's state; `step()` runs one iteration. Kept as an object so that an
    interrupted run still holds the best plan found so far."""

    def __init__(self, space: PlanSpace, settings: PsoSettings):
        self.space, self.s = space, settings
        self.rng = np.random.default_rng(settings.seed)
        n, d = settings.particles, space.dim
        span = (space.upper - space.lower).astype(float)
        self.vmax = np.maximum(0.5 * span, 1.0)
        self.pos = space.sample(self.rng, n)
        self.vel = self.rng.uniform(-0.25, 0.25, (n, d)) * self.vmax
        self.pbest = np.zeros((n, d), dtype=np.int64)
        self.pbest_score = np.full(n, math.inf)
        self.best_plan: IntVector | None = None
        self.best_score = math.inf
        self.iteration = 0
        self.stalled = 0
        self.history: list[float] = []
        self.seen: set[bytes] = set()  # plans proposed so far (as int64 bytes)

    def _move(self) -> None:
        w = self.s.inertia(self.iteration)
        r1 = self.rng.random(self.pos.shape)
        r2 = self.rng.random(self.pos.shape)
        assert self.best_plan is not None
        self.vel = (w * self.vel + self.s.c1 * r1 * (self.pbest - self.pos)
                    + self.s.c2 * r2 * (self.best_plan - self.pos))
        self.vel = np.clip(self.vel, -self.vmax, self.vmax)
        moved = self.pos + self.vel
        self.pos = np.clip(moved, self.space.lower, self.space.upper)
        self.vel[moved != self.pos] = 0.0  # absorbing walls

    def _mutate(self) -> bool:
        if self.stalled < self.s.stall or self.best_plan is None:
            return False
        n = self.s.particles
        k = round(self.s.restart_share * n)
        worst = np.argsort(-self.pbest_score, kind="stable")[:k]
        best_i = int(np.argmin(self.pbest_score))
        worst = worst[worst != best_i]
        fresh = self.space.sample(self.rng, len(worst) + 1)[1:]
        take = self.rng.random(fresh.shape) < 0.5
        self.pos[worst] = np.where(take, self.best_plan, fresh)
        self.vel[worst] = 0.0
        self.stalled = 0
        return True

    def _fresh(self, i: int) -> IntVector:
        """Particle i's plan, kicked until it differs from every plan proposed so far."""
        x = self.space.repair(self.pos[i])
        for _ in range(self.s.kicks):
            if x.tobytes() not in self.seen:
                break
            j = int(self.rng.integers(self.space.dim))
            step = 1.0 if self.rng.random() < 0.5 else -1.0
            self.pos[i, j] = np.clip(self.pos[i, j] + step, self.space.lower[j],
                                     self.space.upper[j])
            x = self.space.repair(self.pos[i])
        self.seen.add(x.tobytes())
        return x

    def step(self, evaluate: Evaluate) -> IterationInfo:
        mutated = False
        if self.iteration > 0:
            mutated = self._mutate()
            self._move()
        plans = [self._fresh(i) for i in range(self.s.particles)]
        scores = [float(s) for s in evaluate(plans)]
        if len(scores) != len(plans):
            raise ValueError("evaluate returned the wrong number of scores")
        improved = False
        for i, (x, f) in enumerate(zip(plans, scores)):
            if f < self.pbest_score[i]:
                self.pbest_score[i] = f
                self.pbest[i] = x
            if f < self.best_score:  # strict: ties keep the earlier plan
                self.best_score, self.best_plan = f, x.copy()
                improved = True
        if self.best_plan is None:  # every plan failed: stay on the first one
            self.best_plan = plans[0].copy()
        self.stalled = 0 if improved else self.stalled + 1
        self.iteration += 1
        self.history.append(self.best_score)
        return IterationInfo(self.iteration, self.s.iterations, self.best_score,
                             self.best_plan.copy(), improved, mutated, len(plans))

    def result(self, interrupted: bool = False) -> PsoResult:
        best = None if not math.isfinite(self.best_score) else self.best_plan
        return PsoResult(best, self.best_score, self.iteration, list(self.history),
                         interrupted)


def run_pso(space: PlanSpace, evaluate: Evaluate, settings: PsoSettings,
            on_iteration: Callable[[IterationInfo], None] | None = None,
            swarm: Swarm | None = None) -> PsoResult:
    """Run the swarm for `settings.iterations` iterations. A KeyboardInterrupt stops it
    between or during evaluations; the best plan found so far is returned with
    `interrupted=True`. Any other exception of `evaluate` propagates: pass your own
    `swarm` to keep the best plan found before it (`swarm.result()`, as
    `bilevel.solve_pso` does)."""
    swarm = swarm or Swarm(space, settings)
    try:
        while swarm.iteration < settings.iterations:
            info = swarm.step(evaluate)
            if on_iteration is not None:
                on_iteration(info)
    except KeyboardInterrupt:
        return swarm.result(interrupted=True)
    return swarm.result()
