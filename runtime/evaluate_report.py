"""What an out-of-sample evaluation says: expected cost and unserved energy over the
whole history, their distribution, the typical days' view of the same plan, and files.

    ev = evaluate(model, "method1", plan, executor)       # every event of the history
    ev.summary()["out_of_sample"]["annual_operation"], ev.write(Path("out/eval"))

Weights: each event is 1/N of the history, and a year holds `days_per_year` such days,
exactly as the clustered scenarios (probability = cluster share) are scaled in the
planning objective. So the out-of-sample annual operation is
days_per_year × (1/N) Σ_e daily_e, and the in-sample one is
days_per_year × Σ_z p_z daily(medoid_z): the typical days are medoid events, so their
daily costs are those of the same event problems (one solve serves both).

The representation error of the typical days for this plan is
(in-sample − out-of-sample) / out-of-sample; `representation` repeats it for other
numbers of clusters k (clustering only, no new solve), which is the evidence for
choosing k.

Statuses are honest: an event that was not solved (no solution) leaves the expected
values undefined (None) and is counted; an event solved only within its gap has a
bound below its cost, and the expected bound is reported next to the expected cost.
CVaR_α is the mean of the worst (1 − α) share of the daily costs (equal weights, the
boundary event counted fractionally); quantiles are numpy's linear interpolation.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from gridc.compiler.core.plan import Plan, plan_costs_of
from gridc.compiler.core.study import resolve_study
from gridc.data.history import Clustering, cluster
from gridc.dsl import ir
from gridc.runtime.backend.solver import SolveStatus
from gridc.runtime.evaluate import (
    EventOutcome,
    EventRun,
    evaluate_events,
    event_scenarios,
    history_of,
)
from gridc.runtime.executor import Executor
from gridc.runtime.ioutil import atomic_write_text
from gridc.runtime.status import RANK

#: the files `Evaluation.write` creates in its folder
EVENTS_CSV, SUMMARY_JSON = "events.csv", "evaluation.json"
#: quantiles of the daily cost reported
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: numbers of typical days whose representation error is reported (those < N events)
K_CHOICES = (1, 2, 4, 8, 16, 32)


def cvar(values: Sequence[float], alpha: float) -> float:
    """Mean of the worst (1 − alpha) share of equally weighted `values` (the event at
    the boundary counted with the fraction of its weight inside the tail)."""
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    if not 0.0 <= alpha < 1.0:
        raise ValueError("the CVaR level lies in [0, 1)")
    tail = (1.0 - alpha) * x.size  # events' worth of weight in the tail
    full = math.floor(tail + 1e-12)
    part = tail - full
    total = float(x[:full].sum()) + (float(x[full]) * part if full < x.size else 0.0)
    return total / tail


def weakest(statuses: Sequence[str]) -> str:
    """The status of a set of event solves: the weakest of them (a status without a
    solution is weaker than any with one)."""
    def rank(s: str) -> int:
        return RANK.get(SolveStatus(s), -1)

    return min(statuses, key=rank) if statuses else SolveStatus.optimal.value


@dataclass
class Evaluation:
    """A plan scored on every event of a history (see the module docstring)."""

    model: ir.Model  # the resolved study's model
    study: str
    plan: Plan | None
    run: EventRun
    clustering: Clustering  # the study's typical days
    source: ir.HistorySource
    cvar_level: float = 0.95
    plan_source: str = ""

    @property
    def outcomes(self) -> list[EventOutcome]:
        return self.run.outcomes

    @property
    def days_per_year(self) -> float:
        econ = self.model.economics or ir.Economics(span=self.model.span)
        return float(econ.days_per_year)

    @property
    def complete(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def _by_event(self) -> dict[str, EventOutcome]:
        return {o.event: o for o in self.outcomes}

    def _expected(self, weights: Mapping[str, float]) -> dict[str, Any]:
        """Expected daily cost, bound and unserved energy under `weights` (event ->
        probability), and their annual values; None where an event has no value."""
        by = self._by_event()
        picked = [(by[e], w) for e, w in weights.items()]

        def mean(get: Any) -> float | None:
            vals = [(get(o), w) for o, w in picked]
            if any(v is None for v, _ in vals):
                return None
            return float(sum(v * w for v, w in vals))

        daily = mean(lambda o: o.daily)
        bound = mean(lambda o: o.bound)
        unserved = mean(lambda o: o.unserved_kwh)
        dpy = self.days_per_year
        out: dict[str, Any] = {
            "daily_cost": daily, "daily_bound": bound, "unserved_kwh_per_day": unserved,
            "annual_operation": None if daily is None else dpy * daily,
            "annual_operation_bound": None if bound is None else dpy * bound,
            "annual_unserved_kwh": None if unserved is None else dpy * unserved,
            "status": weakest([o.status for o, _ in picked]),
        }
        if self.plan is not None and daily is not None:
            costs = plan_costs_of(self.model, self.plan, dpy * daily)
            out["objective"] = costs.objective
            out["total_comprehensive"] = costs.total_comprehensive
        return out

    def typical_weights(self, clustering: Clustering | None = None) -> dict[str, float]:
        weights: dict[str, float] = {}
        for t in (clustering or self.clustering).typical:
            weights[t.event.name] = weights.get(t.event.name, 0.0) + t.probability
        return weights

    def representation(self) -> list[dict[str, Any]]:
        """In-sample vs out-of-sample for k typical days (the study's seed and
        restarts), for each k of `K_CHOICES` below the number of events and the
        study's own k."""
        oos = self._expected({o.event: 1.0 / len(self.outcomes) for o in self.outcomes})
        if oos["daily_cost"] is None:
            return []
        lines, horizon = _lines_and_horizon(self.model)
        ks = sorted({k for k in K_CHOICES if k < len(self.source.events)} | {self.source.k})
        rows = []
        for k in ks:
            c = self.clustering if k == self.source.k else \
                cluster(self.source.model_copy(update={"k": k}), lines, horizon)
            ins = self._expected(self.typical_weights(c))["daily_cost"]
            rows.append({"k": k, "inertia": c.inertia, "in_sample_daily": ins,
                         "error": None if ins is None else
                         (ins - oos["daily_cost"]) / abs(oos["daily_cost"] or 1.0)})
        return rows

    def summary(self) -> dict[str, Any]:
        outs = self.outcomes
        n = len(outs)
        oos = self._expected({o.event: 1.0 / n for o in outs})
        ins = self._expected(self.typical_weights())
        solved = [o for o in outs if o.ok]
        daily = [float(o.daily) for o in solved if o.daily is not None]
        dist: dict[str, Any] = {}
        if daily:
            dist = {"quantiles": {f"{q:g}": float(np.quantile(daily, q)) for q in QUANTILES},
                    "min": min(daily), "max": max(daily),
                    "cvar_level": self.cvar_level,
                    "cvar_daily": cvar(daily, self.cvar_level) if len(daily) == n else None}
        worst = sorted(solved, key=lambda o: -float(o.daily or 0.0))[:5]
        members = {e: t.event.name for t in self.clustering.typical for e in t.members}
        diff = None
        if oos["daily_cost"] is not None and ins["daily_cost"] is not None:
            diff = {"daily": ins["daily_cost"] - oos["daily_cost"],
                    "annual_operation": ins["annual_operation"] - oos["annual_operation"],
                    "relative": (ins["daily_cost"] - oos["daily_cost"])
                    / abs(oos["daily_cost"] or 1.0)}
        return {
            "study": self.study, "plan_source": self.plan_source,
            "plan": None if self.plan is None else {
                "reinforced": list(self.plan.reinforced), "mess": dict(self.plan.mess),
                "ev_packs": {f"{t}@{s}": v for (t, s), v in self.plan.packs.items() if v}},
            "history": {"path": self.source.path, "events": n, "k": self.source.k,
                        "seed": self.source.seed, "restarts": self.clustering.restarts,
                        "inertia": self.clustering.inertia,
                        "first_run_inertia": self.clustering.first_inertia},
            "days_per_year": self.days_per_year,
            "status": weakest([o.status for o in outs]),
            "statuses": dict(Counter(o.status for o in outs)),
            "unsolved": [o.event for o in outs if not o.ok],
            "out_of_sample": oos, "in_sample": ins, "in_minus_out": diff,
            "typical_days": [{"name": t.name, "medoid": t.event.name,
                              "probability": t.probability, "members": len(t.members),
                              "daily_cost": self._by_event()[t.event.name].daily}
                             for t in self.clustering.typical],
            "distribution": dist,
            "worst": [{"event": o.event, "daily_cost": o.daily, "unserved_kwh": o.unserved_kwh,
                       "status": o.status, "typical_day_of_cluster": members.get(o.event)}
                      for o in worst],
            "representation": self.representation(),
            "timings": {"compile_s": self.run.compile_s, "split_s": self.run.split_s,
                        "solve_wall_s": self.run.solve_wall_s, "wall_s": self.run.wall_s,
                        "solve_s_sum": sum(o.solve_s for o in outs),
                        "events_per_s": n / self.run.solve_wall_s
                        if self.run.solve_wall_s > 0 else None},
            "executor": self.run.executor, "workers": self.run.workers,
            "size_per_event": {"rows": self.run.sizes[0][0], "columns": self.run.sizes[0][1]}
            if self.run.sizes else None,
        }

    def events_csv(self) -> str:
        """One row per event: status, daily cost, bound, gap, unserved energy, which
        typical day represents it, the cost terms, solve time and worker."""
        terms = sorted({k for o in self.outcomes for k in o.terms})
        members = {e: t.name for t in self.clustering.typical for e in t.members}
        medoids = {t.event.name for t in self.clustering.typical}
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["event", "status", "daily_cost", "bound", "gap", "unserved_kwh",
                    "typical_day", "is_medoid", *[f"cost_{t}" for t in terms], "solve_s",
                    "worker"])
        for o in self.outcomes:
            w.writerow([o.event, o.status, _num(o.daily), _num(o.bound), _num(o.gap),
                        _num(o.unserved_kwh), members.get(o.event, ""),
                        int(o.event in medoids), *[_num(o.terms.get(t)) for t in terms],
                        f"{o.solve_s:.3f}", o.worker])
        return buf.getvalue()

    def write(self, folder: Path) -> list[Path]:
        """events.csv and evaluation.json in `folder` (each written atomically)."""
        import json

        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / EVENTS_CSV, self.events_csv())
        atomic_write_text(folder / SUMMARY_JSON, json.dumps(_finite(self.summary()), indent=2)
                          + "\n")
        return [folder / EVENTS_CSV, folder / SUMMARY_JSON]


def _num(x: float | None) -> str:
    return "" if x is None else repr(float(x))


def _finite(x: Any) -> Any:
    """JSON without NaN/inf (None instead)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def _lines_and_horizon(model: ir.Model) -> tuple[list[str], float]:
    horizon = model.horizon.steps * model.horizon.step_h if model.horizon else 1.0
    return [ln.id for ln in model.network().lines], horizon


def evaluate(model: ir.Model, study: str | None, plan: Plan | Mapping[str, xr.DataArray],
             executor: Executor | None = None, *, cvar_level: float = 0.95,
             gap: float | None = None, time_limit: float | None = None,
             threads: int = 1, plan_source: str = "",
             progress: Callable[[int, int, EventOutcome], None] | None = None) -> Evaluation:
    """`plan` scored on every event of the history the study's scenarios come from
    (`progress(done, total, outcome)` after each event)."""
    resolved = resolve_study(model, study)
    source = history_of(model, study)
    scenarios = event_scenarios(model, source, study)
    run = evaluate_events(model, study, plan, scenarios, executor, gap=gap,
                          time_limit=time_limit, threads=threads, progress=progress)
    lines, horizon = _lines_and_horizon(resolved.model)
    return Evaluation(resolved.model, resolved.name, plan if isinstance(plan, Plan) else None,
                      run, cluster(source, lines, horizon), source, cvar_level, plan_source)
