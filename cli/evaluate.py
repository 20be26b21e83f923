"""`gridc evaluate MODEL [--plan OUT]`: a fixed plan scored on every event of the history
its study's typical days come from (`gridc.runtime.evaluate`, `runtime.evaluate_report`).

    gridc evaluate models/ieee33_resilience.grid --plan out/method1 --workers 2 -o out/eval
    gridc evaluate models/ieee33_resilience.grid --study paper_plan     # its fix lines

* The plan: `--plan OUT` reads the plan of OUT/summary.json (a solved study's output
  folder, extensive form or PSO; its study is the default `--study`); a model with
  investments a `Plan` cannot hold (storage, DG, substations, lines, stations) is
  evaluated on every first-stage decision of OUT/solution.nc instead; without `--plan`,
  the study's `fix` lines (a study with investments but no fix is a usage error).
* Each event is its own operation problem with the plan fixed, solved to the study's gap
  (`--gap`, `--time-limit` per event), serially or on Dask (`--workers N`,
  `--scheduler tcp://HOST:PORT`).
* Prints the typical days (in-sample) against every event (out-of-sample): expected daily
  cost, annual operation and unserved energy, total cost; the distribution (quantiles,
  CVaR at `--cvar`), the worst events, the representation error per number of typical
  days k, and how long it took. `-o DIR` writes DIR/events.csv and DIR/evaluation.json.
* Exit codes: 0 every event solved (optimal or within its gap), 1 model errors or an
  event without a solution (counted and named), 2 usage errors.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import xarray as xr
from rich.console import Console
from rich.table import Table

from gridc.cli.common import (
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    EXTRA_COMMANDS,
    WORKERS_MAX,
    bounded_int,
    err_console,
    fraction,
    load_or_report,
)
from gridc.compiler.core.index import SCENARIO
from gridc.compiler.core.plan import Plan, PlanError
from gridc.compiler.core.study import resolve_study
from gridc.dsl import ir_planning as P
from gridc.runtime.evaluate import EvaluationError, EventOutcome, plan_from_summary, study_plan
from gridc.runtime.evaluate_report import EVENTS_CSV, SUMMARY_JSON, evaluate
from gridc.runtime.executor import ExecutorError, make_executor
from gridc.runtime.ioutil import OutputError, check_output_dir
from gridc.runtime.results import SOLUTION, read_summary
from gridc.runtime.results import SUMMARY as RESULT_SUMMARY


def _level(text: str) -> float:
    value = fraction(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError("a CVaR level lies in (0, 1), e.g. 0.95 or 95%")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0.0 < value <= 366 * 86400.0:
        raise argparse.ArgumentTypeError("a time limit lies in (0, one year] seconds")
    return value


def setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the .grid file (its study's scenarios come from a history)")
    p.add_argument("--plan", metavar="OUT", help="a solved study's output folder (its "
                   "summary.json); default: the study's fix lines")
    p.add_argument("--study", help="the study (default: the one that wrote --plan, else the "
                                   "first study)")
    p.add_argument("--workers", type=bounded_int(1, WORKERS_MAX, "workers"), metavar="N",
                   help="solve the events on a local Dask cluster of N processes")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="solve the events on a running Dask cluster")
    p.add_argument("--cvar", type=_level, default=0.95, metavar="ALPHA",
                   help="CVaR level: the mean of the worst (1 - ALPHA) of the events' daily "
                        "costs (default 0.95)")
    p.add_argument("--gap", type=fraction, help="relative MIP gap of each event (default: "
                                                "the study's gap)")
    p.add_argument("--time-limit", type=_seconds, metavar="S", help="seconds per event")
    p.add_argument("-o", "--out", metavar="DIR", help="write events.csv and evaluation.json")
    p.add_argument("--quiet", action="store_true", help="print nothing but the result table")


#: investment kinds a `Plan` (summary.json's "decisions") holds; any other kind is
#: evaluated on the solved first-stage values of solution.nc
PLAN_KINDS = (P.Reinforcement, P.MobileStorage, P.EvBattery)


def read_solved_decisions(folder: str) -> tuple[dict[str, xr.DataArray], str | None]:
    """Every first-stage decision (a variable without a scenario dimension) of a solved
    study's output folder, read from solution.nc, and its study: the plan of a model
    whose investments a `Plan` cannot hold (a storage or DG size, a built line).
    ValueError with a message when the folder holds no such solution."""
    try:
        summary = read_summary(folder)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{folder}: no solved result to evaluate ({exc})") from None
    if not summary.get("decisions") and not summary.get("planning_items"):
        raise ValueError(f"{Path(folder) / RESULT_SUMMARY} holds no plan (status "
                         f"{summary.get('status') or 'unknown'}): only a solved planning "
                         "study can be evaluated")
    with xr.open_dataset(Path(folder) / SOLUTION) as ds:
        values = {str(n): v.load() for n, v in ds.data_vars.items()
                  if SCENARIO not in v.dims}
    study = summary.get("study")
    return values, str(study) if study else None


def read_plan(folder: str) -> tuple[Plan, str | None]:
    """The plan and study of a solved study's output folder; OSError/ValueError with a
    message when it has none."""
    path = Path(folder) / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist: --plan takes the output folder of a "
                         "solved study (gridc solve ... --out OUT)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    decisions = None
    if isinstance(summary, dict):  # gridc solve: "decisions"; the PSO: "plan"
        decisions = summary.get("decisions") or summary.get("plan")
    if not isinstance(decisions, dict) or not decisions:
        status = summary.get("status") if isinstance(summary, dict) else None
        raise ValueError(f"{path} holds no plan (status {status or 'unknown'}): only a "
                         "solved planning study can be evaluated")
    study = summary.get("study")
    try:
        return plan_from_summary(decisions), str(study) if study else None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: unreadable decisions ({exc})") from None


def run(args: argparse.Namespace) -> int:
    console = err_console()
    if args.out:
        try:
            check_output_dir(args.out, (EVENTS_CSV, SUMMARY_JSON))
        except OutputError as exc:
            console.print(f"gridc evaluate: error: {exc}", markup=False)
            return EXIT_USAGE
    model = load_or_report(args.model)
    if isinstance(model, int):
        return model
    study = args.study
    try:
        if args.plan and not all(isinstance(i, PLAN_KINDS) for i in model.investments):
            plan, wrote = read_solved_decisions(args.plan)
            study = study or wrote
            source = f"{args.plan} (study {wrote or '-'})"
        elif args.plan:
            plan, wrote = read_plan(args.plan)
            study = study or wrote
            source = f"{args.plan} (study {wrote or '-'})"
        else:
            resolved = resolve_study(model, study)
            if resolved.model.investments and not resolved.fixes:
                console.print(f"gridc evaluate: error: study '{resolved.name}' fixes no "
                              "investment: give --plan OUT (a solved study's output folder) "
                              "or evaluate a study with fix lines", markup=False)
                return EXIT_USAGE
            plan = study_plan(model, study)
            source = f"fix lines of study {resolved.name or '-'}"
    except ValueError as exc:
        console.print(f"gridc evaluate: error: {exc}", markup=False)
        return EXIT_USAGE
    except PlanError as exc:  # a fix line the plan cannot hold (checked by `gridc check`)
        console.print(f"gridc evaluate: error: {exc}", markup=False)
        return EXIT_MODEL
    if not args.quiet:
        console.print(f"evaluating the plan of {source} on every event ...", markup=False)
    try:
        with make_executor(args.workers, args.scheduler) as ex:
            ev = evaluate(model, study, plan, ex, cvar_level=args.cvar, gap=args.gap,
                          time_limit=args.time_limit, plan_source=source,
                          progress=None if args.quiet else _Progress(console))
    except EvaluationError as exc:
        console.print(f"gridc evaluate: error: {exc}", markup=False)
        return EXIT_MODEL
    except ExecutorError as exc:
        console.print(f"gridc evaluate: error: {exc}", markup=False)
        return EXIT_MODEL
    summary = ev.summary()
    print_evaluation(Console(), summary)
    if args.out:
        written = ev.write(Path(args.out))
        console.print("wrote " + " and ".join(str(p) for p in written), markup=False)
    if not ev.complete:
        console.print(f"{len(summary['unsolved'])} event(s) without a solution: "
                      f"{', '.join(summary['unsolved'][:10])}; the expected values are "
                      "undefined", markup=False)
        return EXIT_MODEL
    return EXIT_OK


class _Progress:
    """One line per tenth of the events (stderr): how many are done, at what rate."""

    def __init__(self, console: Console):
        self.console, self.started, self.shown = console, time.perf_counter(), 0

    def __call__(self, done: int, total: int, outcome: EventOutcome) -> None:
        step = max(1, total // 10)
        if done == total or done - self.shown >= step:
            self.shown = done
            wall = time.perf_counter() - self.started
            self.console.print(f"  {done}/{total} events solved ({wall:.0f} s; last "
                               f"{outcome.event}: {outcome.status})", markup=False)


def _cny(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _kwh(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.2f} %"


def print_evaluation(console: Console, s: dict[str, Any]) -> None:
    """The terminal view of `Evaluation.summary()`."""
    h = s["history"]
    console.print(f"plan: {s['plan_source']}; study {s['study'] or '-'}; history "
                  f"{h['path']}: {h['events']} events, k = {h['k']} typical days "
                  f"(inertia {h['inertia']:.4g}, best of {h['restarts']} k-means run(s))")
    statuses = ", ".join(f"{n} {st}" for st, n in sorted(s["statuses"].items()))
    console.print(f"events: {statuses}; status {s['status']}")
    ins, oos, diff = s["in_sample"], s["out_of_sample"], s["in_minus_out"] or {}
    t = Table(title="typical days vs every event (CNY)")
    for col in ("", "typical days (in-sample)", "every event (out-of-sample)",
                "typical − every"):
        t.add_column(col, justify="left" if not col else "right")
    rows: list[tuple[str, str, Any, str]] = [
        ("expected daily cost", "daily_cost", _cny, "daily"),
        ("  its bound (per-event MIP bounds)", "daily_bound", _cny, ""),
        ("annual operation", "annual_operation", _cny, "annual_operation"),
        ("unserved energy per day (kWh)", "unserved_kwh_per_day", _kwh, ""),
        ("unserved energy per year (kWh)", "annual_unserved_kwh", _kwh, ""),
        ("objective (present value)", "objective", _cny, ""),
        ("total comprehensive (CRF × objective)", "total_comprehensive", _cny, ""),
    ]
    for label, key, fmt, dkey in rows:
        if key not in ins and key not in oos:
            continue
        d = diff.get(dkey) if dkey else (None if ins.get(key) is None or oos.get(key) is None
                                         else ins[key] - oos[key])
        t.add_row(label, fmt(ins.get(key)), fmt(oos.get(key)), fmt(d))
    t.add_row("representation error", "", "", _pct(diff.get("relative")))
    console.print(t)
    dist = s["distribution"]
    if dist:
        q = dist["quantiles"]
        console.print("daily cost over the events: " + ", ".join(
            f"q{float(k) * 100:g} {_cny(v)}" for k, v in q.items())
            + f", max {_cny(dist['max'])}; CVaR {dist['cvar_level']:g} "
            f"{_cny(dist['cvar_daily'])} CNY/day")
    w = Table(title="worst events")
    for col in ("event", "daily cost (CNY)", "unserved (kWh)", "status",
                "represented by the medoid"):
        w.add_column(col, justify="left" if col in ("event", "status") else "right")
    for row in s["worst"]:
        w.add_row(row["event"], _cny(row["daily_cost"]), _kwh(row["unserved_kwh"]),
                  row["status"], str(row["typical_day_of_cluster"] or "-"))
    console.print(w)
    if s["representation"]:
        r = Table(title="typical days: representation error of this plan per k")
        for col in ("k", "inertia", "in-sample daily cost", "error vs every event"):
            r.add_column(col, justify="right")
        for row in s["representation"]:
            r.add_row(str(row["k"]), f"{row['inertia']:.4g}", _cny(row["in_sample_daily"]),
                      _pct(row["error"]))
        console.print(r)
    tm = s["timings"]
    console.print(f"{h['events']} events in {tm['wall_s']:.1f} s (compile {tm['compile_s']:.1f} s,"
                  f" split {tm['split_s']:.1f} s, solve {tm['solve_wall_s']:.1f} s on "
                  f"{s['workers']} worker(s), {s['executor']})")


EXTRA_COMMANDS["evaluate"] = ("score a fixed plan on every event of its history "
                              "(out-of-sample)", (setup, run))
