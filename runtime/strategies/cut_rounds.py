"""Rounds of block LPs that add Benders cuts to the master of `decompose`.

    lps = lp_cuts(run, master, x, bases, cap)   # every block's LP at plan x, cuts added
    lb = lp_phase(run, master, bases, ...)      # cut at the master's LP relaxation first

A round is one LP per scenario block with the first stage fixed (`BlockSolver.fixed_lp`),
solved as tasks by the strategy's `run`; each gives the cut θ_s ≥ Q_s^LP(x̂) + d_s·(x − x̂)
or, for a block without a feasible operation at x̂, a feasibility cut.

Why an LP phase (McDaniel & Devine 1977): the first integer masters of the resilience
case proposed plans far from the optimum (LP values of 37-46 MCNY against ~35.9) and the
bound passed 1 % of it only after 18 rounds. Cutting first at the master's LP relaxation
(fractional plans: the block LPs are defined at any point of the first stage's box, and
the LP value function is convex there, so the cuts are valid for every integer plan too)
builds the cut model around the LP optimum at the price of a master LP per round; the
integer master then needs a few rounds. Measured on method1 (k = 4, 2 workers, quiet,
2026-12-03; docs/performance.md, "Decomposition", fourth session): 9 LP-phase + 6
integer master solves and 48-69 s against 21 integer ones and 84-104 s without. It
stops when a round raises the LP master's value by less than `LP_PHASE_TOL` (1 %; at
0.1 %: 11 + 5 solves, 89 s; at 3 %: 4 + 17, 84 s). At k = 20 it is about neutral
(18 master solves against 16, 396 against 425 s): there the master's LP relaxation is
weak (fractional MESS units).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gridc.runtime.backend.twostage import BlockOutcome, Master

#: a cut must raise θ_s by this much (relative to |θ_s| + 1) to count as violated
CUT_TOL = 1e-6
#: offer each block's last LP basis to its next LP (`BlockSolver.fixed_lp`: a dual simplex
#: hot start, interior point where it needs too many iterations)
WARM_BASIS = True
#: ... but in the LP phase only once the master's LP value rose by at most this fraction
#: in the round: before, its plans jump across the box, and interior point from scratch
#: was 2-4× faster than a hot start on the 120 events' blocks (docs/performance.md,
#: "Hot-started block LPs"); the rule reads the master's values only, so the serial and
#: the Dask run still take the same path
HOT_RISE = 0.25
#: the LP phase stops when a round raises the LP master's value by less than this
#: (relative), or after LP_PHASE_MAX rounds
LP_PHASE_TOL = 1e-2
LP_PHASE_MAX = 30


def cuts_off(value: float, theta: float) -> bool:
    """A cut whose value at the master's plan is `value` raises θ̂ = `theta` by more than
    `CUT_TOL` (relative to |θ̂| + 1): it cuts the master's point off."""
    return value > theta + CUT_TOL * (abs(theta) + 1.0)


class DecompositionError(ValueError):
    """The model cannot be solved by decomposition (a message for the user)."""


def infeasible(lps: list[BlockOutcome]) -> int:
    """How many blocks of an `lp_cuts` round were infeasible (got a feasibility cut)."""
    return sum(1 for r in lps if r.status == "kInfeasible")


class OutOfTime(Exception):
    """A round of block LPs reached the time limit: no cut from it, stop the loop.
    `bound`: the lower bound proven before it (set by `lp_phase`)."""

    bound = -np.inf


def lp_cuts(run: Any, master: Master, x: np.ndarray,
            bases: list[tuple[np.ndarray, np.ndarray] | None],
            cap: float | None = None, warm: bool = True) -> list[BlockOutcome]:
    """Every block's LP at plan x, its cut added to the master (bases kept per block).
    A block with no feasible operation under x (incomplete recourse: no shedding, voltage
    limits that only a reinforcement can hold, ...) gets a feasibility cut instead, which
    cuts x off (`BlockSolver.feasibility_lp`); its outcome keeps status kInfeasible.
    `cap`: each LP's time limit (the time left shared over the blocks, `batch_cap`);
    a round in which an LP reached it adds no cut and raises `OutOfTime`, so that a
    round of 120 block LPs cannot overrun the solve's limit by minutes. `warm`: start
    each LP from its block's basis at the previous plan (`WARM_BASIS`); off where x lies
    far from it."""
    # each block's basis at the previous plan, kept here (not on the worker), so the
    # cut does not depend on which worker solves it or what it solved before
    lps: list[BlockOutcome] = run("lp", x=x,
                                  basis=list(bases) if WARM_BASIS and warm else None,
                                  time_limit=cap)
    if any(r.status == "kTimeLimit" for r in lps):
        raise OutOfTime
    infeasible = [k for k, r in enumerate(lps) if r.status == "kInfeasible"]
    if infeasible:
        for k, r in zip(infeasible, run("feasibility", only=infeasible, x=x), strict=True):
            if r.status != "kOptimal" or r.subgradient is None or (r.objective or 0.0) <= 1e-9:
                raise DecompositionError(
                    f"scenario block {k} is infeasible under a plan of the master, and its "
                    f"feasibility problem gave no cut ({r.status}); solve with "
                    "--strategy extensive --diagnose")
            master.add_feasibility_cut(float(r.objective or 0.0), r.subgradient, x)
    bad = [k for k, r in enumerate(lps) if r.status not in ("kOptimal", "kInfeasible")
           or (r.status == "kOptimal" and (r.subgradient is None or r.objective is None))]
    if bad:
        raise DecompositionError(f"scenario block {bad[0]} has no LP optimum under a plan "
                                 f"of the master ({lps[bad[0]].status}"
                                 f"{'' if lps[bad[0]].subgradient is not None else ', no duals'})")
    for k, r in enumerate(lps):
        if r.status == "kInfeasible":
            continue
        assert r.objective is not None and r.subgradient is not None
        bases[k] = r.basis
        master.add_cut(k, r.objective - float(r.subgradient @ x), r.subgradient)
    return lps


def lp_phase(run: Any, master: Master, bases: list[Any], batch_cap: Any, left: Any,
             lb: float, cuts: dict[str, int], log: Callable[[dict[str, Any]], None]) -> float:
    """Cut at the master's LP relaxation (`Master.solve_relaxed`) until its value rises
    by less than `LP_PHASE_TOL` in a round or no cut is violated; returns the lower bound
    (the LP master's value is one). `log(row)` after each round; `cuts` counts the cuts."""
    prev = -np.inf
    for _ in range(LP_PHASE_MAX):
        got = master.solve_relaxed(left())
        if got is None:
            break
        x, theta, value = got
        lb = max(lb, value)
        if value - prev <= LP_PHASE_TOL * max(abs(value), 1.0):
            break
        near = bool(np.isfinite(prev) and value - prev <= HOT_RISE * abs(value))
        prev = value
        try:
            lps = lp_cuts(run, master, x, bases, batch_cap(), warm=near)
        except OutOfTime as stop:
            stop.bound = lb
            raise
        cuts["lp"] += len(lps) - infeasible(lps)
        cuts["feasibility"] = master.feasibility_cuts
        violated = sum(1 for k, r in enumerate(lps) if r.status == "kInfeasible" or
                       cuts_off(r.objective or 0.0, theta[k]))
        log({"iteration": 0, "phase": "lp", "lower_bound": lb, "hot": near and WARM_BASIS,
             "lp_block_s": sum(r.seconds for r in lps)})
        if violated == 0:
            break
    return lb
