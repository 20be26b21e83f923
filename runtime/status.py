"""The status of a run in stages: one record per stage, one rule that combines them.

Why: a strategy may solve several models one after the other — a restricted phase, a
plan stage that fixes the topology (branch exchange, then a topology search), the full
model, cone-tightening rounds, one run per sub-case, a particle swarm — and the headline
of the result (terminal, `summary.json`, `Result.status`/`gap`/`bound`) must say what the
whole run proved, not what its last solve proved. Each strategy records a `Stage` per
solve; `combine` gives the headline:

* A stage *limits* the result when the reported solution depends on what it proved: the
  final solve; a stage whose solution fixes decisions of the later ones (the topology
  search of `exchange`, the MILP that fixed the plan before LP-only cone rounds); every
  other sub-case, unless its bound shows it cannot beat the chosen one. A stage whose
  solution is only offered as a MIP start to a later solve of the whole model does not
  limit it — that solve's bound covers the whole model again (warm's restricted phase,
  the branch exchange before a topology search, a cone round superseded by the next).
  Every stage is listed, limiting or not.
* The headline is `optimal` only when every limiting stage is optimal, `feasible_gap`
  when each proved at least its requested gap; otherwise it is the weakest limiting
  stage's status (interrupted < heuristic < node or time limit), with that stage's gap
  and bound and why it stopped (`stopped_by`), and `limited_by` names the stage. A stop
  by the user anywhere makes the headline `interrupted`.
* Gap and bound are those of the limiting stage; for a stage that solved another model
  than the final one (the expected-day plan model of `exchange`), that model's, in the
  same unit (CNY, or kWh/day for a losses study).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from gridc.runtime.backend.control import SolveControl
from gridc.runtime.backend.solver import SolveOutcome, SolveStatus

#: weakest first; statuses without a solution are mapped by `_as_limit` before ranking
RANK = {SolveStatus.interrupted: 0, SolveStatus.heuristic: 1,
        SolveStatus.time_limit_feasible: 2, SolveStatus.limit_feasible: 2,
        SolveStatus.feasible_gap: 3, SolveStatus.optimal: 4}


@dataclass(frozen=True)
class Stage:
    """One stage of a run; values in the model's reporting unit (CNY or kWh/day)."""

    name: str
    status: SolveStatus
    objective: float | None = None
    bound: float | None = None  # of this stage's own model
    gap: float | None = None  # relative, as HiGHS measures it
    seconds: float = 0.0
    stopped_by: str | None = None  # "time limit", "node limit", "interrupt", ...
    limits: bool = True  # does the reported solution depend on what this stage proved?
    note: str = ""

    @classmethod
    def of(cls, name: str, outcome: SolveOutcome, *, constant: float = 0.0,
           scale: float = 1.0, limits: bool = True, note: str = "") -> Stage:
        """The stage of one solve; `constant` and `scale` turn solver values into the
        reporting unit ((value + constant) / scale, as `runtime.results` does)."""
        def unit(v: float | None) -> float | None:
            return None if v is None else (v + constant) / (scale or 1.0)

        return cls(name, outcome.status, unit(outcome.objective), unit(outcome.bound),
                   outcome.gap, outcome.solve_s, outcome.stopped_by, limits, note)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in out.items()}


@dataclass(frozen=True)
class Headline:
    """What a run proved, from its stages (see the module docstring)."""

    status: SolveStatus
    gap: float | None
    bound: float | None
    stopped_by: str | None
    limited_by: str | None  # the stage that sets status, gap and bound (None: optimal)


def _as_limit(status: SolveStatus) -> SolveStatus | None:
    """The status a limiting stage contributes when the final solve has a solution: a
    stage without one (a sub-case stopped early, say) proves nothing about its part of
    the search; a proven infeasible one proves all there is to prove (None: skip)."""
    return {SolveStatus.infeasible: None,
            SolveStatus.time_limit_infeasible: SolveStatus.time_limit_feasible,
            SolveStatus.limit_infeasible: SolveStatus.limit_feasible,
            SolveStatus.interrupted_infeasible: SolveStatus.interrupted,
            SolveStatus.unbounded: SolveStatus.heuristic,
            SolveStatus.error: SolveStatus.heuristic}.get(status, status)


def combine(stages: Sequence[Stage]) -> Headline:
    """The headline of a run whose last stage is the one whose solution is reported."""
    if not stages:
        raise ValueError("a run has at least one stage")
    final = stages[-1]
    interrupted = any(st.stopped_by == "interrupt" for st in stages)
    if not final.status.ok:
        status = final.status
        if interrupted and status in (SolveStatus.time_limit_infeasible,
                                      SolveStatus.limit_infeasible):
            status = SolveStatus.interrupted_infeasible
        return Headline(status, final.gap, final.bound,
                        "interrupt" if interrupted else final.stopped_by, final.name)
    ranked: list[tuple[SolveStatus, Stage]] = []
    for st in stages:
        if st.limits or st is final:
            status = _as_limit(st.status)
            if status is not None:
                ranked.append((status, st if status is st.status
                               else replace(st, status=status, gap=None)))

    def weakness(item: tuple[SolveStatus, Stage]) -> tuple[int, float, int]:
        status, st = item
        width = 0.0 if status is SolveStatus.optimal else \
            -(st.gap if st.gap is not None else math.inf)
        return RANK[status], width, 0 if st.name == final.name else 1

    status, weakest = min(ranked, key=weakness)
    if interrupted:
        return Headline(SolveStatus.interrupted, weakest.gap, weakest.bound, "interrupt",
                        weakest.name)
    if status is SolveStatus.optimal:
        return Headline(status, final.gap, final.bound, None, None)
    return Headline(status, weakest.gap, weakest.bound, weakest.stopped_by, weakest.name)


def record(stages: list[Stage], stage: Stage, control: SolveControl | None) -> Stage:
    """Append `stage` to `stages` and tell the display that it ended."""
    stages.append(stage)
    if control is not None:
        control.done(stage.name, stage.status.value, objective=stage.objective,
                     bound=stage.bound, gap=stage.gap, seconds=stage.seconds)
    return stage


def headline_fields(stages: Sequence[Stage]) -> dict[str, Any]:
    """The summary's headline fields and its "stages" list, from `stages`."""
    head = combine(stages)
    return {"status": head.status.value, "gap": head.gap, "bound": head.bound,
            "stopped_by": head.stopped_by, "limited_by": head.limited_by,
            "stages": [st.as_dict() for st in stages]}
