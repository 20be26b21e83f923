"""`gridc solve MODEL --strategy pso` (or a study with `solve pso(...)`): the bi-level search
from the command line — progress, Ctrl-C, the certificate against the extensive form,
and the output files.

    gridc solve models/ieee33_resilience.grid --study method1_pso [--workers N |
          --scheduler tcp://HOST:PORT] [--certify [S]] [--out DIR] [--seed N]
          [--particles N] [--iterations N] [--gap G] [--time-limit S]

* `--workers N` (> 1) starts a local Dask cluster of N processes, `--scheduler` uses a
  running one (`dask scheduler` + `dask worker ... --nthreads 1`); default: serial.
* `--gap` / `--time-limit` / `--threads` apply to each lower-level (scenario) solve;
  `--seed` is the swarm's seed (default: the study's `pso(seed = ...)`).
* Progress (stderr; none with --quiet): a live display (iteration, best cost,
  evaluations per second, cache hits, workers) on a terminal, one log line per
  iteration otherwise.
* Status: the search is a heuristic, so summary.json says `heuristic` (never
  `optimal`) with the stages it rests on (`runtime.strategies.bilevel.pso_stages`: the
  best plan's scenario MILPs, the search); `--certify` turns it into `optimal` /
  `feasible_gap` only when the extensive form's bound shows the plan within the gap.
* Ctrl-C stops the search; the best plan found so far is reported and written
  (exit code 130). Any other failure of the search — the Dask workers dying again and
  again (`ExecutorError`), an error in a scenario solve — does the same with a message
  saying what failed and exit code 1 (status "failed" in summary.json).
* `--certify [S]` then solves the study's extensive form with a time limit of S
  seconds (default 300) and prints the heuristic's gap to its dual bound — the
  PSO plan's cost can never be below that bound.
* `--out DIR` writes `summary.json` (plan, cost rows, per-scenario daily costs, the
  search's statistics) and `plan.grid` (the plan as `fix` statements), as a pair
  (`gridc.runtime.ioutil.write_pair`: summary.json carries the sha256 of plan.grid).
  `DIR` is checked before the search starts: a file, a folder that cannot be written
  or a `summary.json`/`plan.grid` that is a folder is a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gridc.cli.common import GRANTED, WORKERS_MAX, bounded_int, err_console
from gridc.cli.labels import money
from gridc.cli.plan_views import COST_ROWS
from gridc.compiler import compile_model
from gridc.compiler.core.study import resolve_study
from gridc.dsl import ir
from gridc.dsl.ranges import COUNT_MAX, ITERATIONS_MAX
from gridc.runtime.backend.solver import SolveStatus
from gridc.runtime.executor import ExecutorError, make_executor
from gridc.runtime.ioutil import OutputError, check_output_dir, write_pair
from gridc.runtime.problem import Problem
from gridc.runtime.results import SCHEMA_VERSION, currency_of
from gridc.runtime.status import Stage, headline_fields
from gridc.runtime.strategies.bilevel import (
    PlanEvaluator,
    PsoRun,
    SearchFailed,
    fix_statements,
    pso_settings,
    pso_stages,
    solve_pso,
)
from gridc.runtime.strategies.pso import IterationInfo
from gridc.runtime.strategies.registry import NAMES

EXIT_OK, EXIT_MODEL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: what `--out` receives: the plan, then its manifest (written last)
PLAN, SUMMARY = "plan.grid", "summary.json"


def add_arguments(p: argparse.ArgumentParser, seconds: Any) -> None:
    """The PSO options of `gridc solve` (`seconds` parses a positive duration)."""
    p.add_argument("--strategy", choices=list(NAMES),
                   help="override the study's strategy (see gridc.runtime.strategies.registry: "
                        "extensive picks plain, warm or exchange for the model)")
    p.add_argument("--workers", type=bounded_int(1, WORKERS_MAX, "workers"), metavar="N",
                   help="pso / --all-studies: evaluate scenarios (studies) on a local Dask "
                        "cluster of N processes")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="pso / --all-studies: evaluate scenarios (studies) on a running "
                        "Dask cluster")
    p.add_argument("--particles", type=bounded_int(1, COUNT_MAX, "particles"), metavar="N",
                   help="pso: swarm size")
    p.add_argument("--iterations", type=bounded_int(1, ITERATIONS_MAX, "iterations"),
                   metavar="N", help="pso: iterations")
    p.add_argument("--certify", nargs="?", const=300.0, type=seconds, metavar="S",
                   help="pso: also solve the extensive form (time limit S, default 300 s) "
                        "and print the heuristic's gap to its bound")


def wants_pso(args: argparse.Namespace, model: ir.Model) -> bool:
    if getattr(args, "strategy", None):
        return bool(args.strategy == "pso")
    return resolve_study(model, args.study).solve.strategy == "pso"


def _money(x: float | None, s: dict[str, Any] | None = None) -> str:
    """An amount (CNY) in the currency of summary `s` (CNY without one)."""
    return money(x, s or {}, decimals=0)


class _Display:
    """Live progress on a terminal, plain lines otherwise (on stderr; none with --quiet)."""

    def __init__(self, console: Console, total: int, executor: Any, quiet: bool = False):
        self.console, self.executor, self.started = console, executor, time.perf_counter()
        self.progress: Progress | None = None
        self.quiet = quiet
        if console.is_terminal and not quiet:
            self.progress = Progress(TextColumn("PSO"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
                                     console=console)
            self.task = self.progress.add_task("pso", total=total, info="starting workers")
            self.progress.start()

    def __call__(self, info: IterationInfo, ev: PlanEvaluator) -> None:
        if self.quiet:
            return
        wall = time.perf_counter() - self.started
        rate = ev.solves / wall if wall > 0 else 0.0
        try:
            workers = self.executor.workers()
        except Exception:
            workers = 0
        text = (f"best {_money(info.best_score)} · {ev.plans_solved} plans, {ev.solves} "
                f"MILPs ({rate:.2f}/s) · {ev.hits} cache hits · {workers} workers")
        if self.progress is not None:
            self.progress.update(self.task, completed=info.iteration, info=text)
        else:
            self.console.print(f"iteration {info.iteration}/{info.iterations}: {text}")

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _certify(model: ir.Model, args: argparse.Namespace, cost: float | None,
             out: Console) -> dict[str, Any]:
    out.print(f"certify: solving the extensive form (time limit {args.certify:g} s) ...")
    problem = Problem(compile_model(model, study=args.study))
    result = problem.solve(time_limit=args.certify, threads=args.threads)
    bound = result.bound
    info: dict[str, Any] = {"status": result.status.value, "objective": result.objective,
                            "bound": bound, "gap": result.gap,
                            "time_s": sum(result.timings.values())}
    if bound is not None and cost is not None and cost != 0:
        info["heuristic_gap"] = (cost - bound) / abs(cost)
    cur = {"currency": currency_of(model)}
    out.print(f"certify: extensive form {result.status.value}, incumbent "
              f"{_money(result.objective, cur)}, bound {_money(bound, cur)}")
    if "heuristic_gap" in info:
        out.print(f"certify: PSO plan {_money(cost, cur)} is within "
                  f"{100 * info['heuristic_gap']:.2f} % of the bound")
    else:
        out.print("certify: no bound available, the heuristic's gap is unknown")
    return info


def summary(run: PsoRun, model: ir.Model, study: str) -> dict[str, Any]:
    """The JSON summary of a search (also used by bench/bilevel.py)."""
    ev = run.evaluator
    best = run.best
    status = ("failed" if run.failure else "interrupted" if run.result.interrupted
              else "completed")
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "currency": currency_of(model),
        "strategy": "pso", "study": study, "status": status,
        "objective": best.score if best is not None and best.ok else None,
        "pso": {"particles": run.settings.particles, "iterations": run.settings.iterations,
                "iterations_done": run.result.iterations_done, "seed": run.settings.seed,
                "history": [x if math.isfinite(x) else None for x in run.result.history],
                "plans_solved": ev.plans_solved,
                "milps_solved": ev.solves, "cache_hits": ev.hits, "wall_s": run.wall_s,
                "evaluations_per_s": run.evaluations_per_s, "workers": run.workers,
                "executor": run.executor, "compile_s": ev.compile_s, "solve_s": ev.solve_s},
    }
    out.update(headline_fields(pso_stages(run)))  # a heuristic: never "optimal" alone
    if run.failure:
        out["status"] = "failed"
        out["error"] = run.failure
    if best is None:
        return out
    out["plan"] = {"reinforced": list(best.plan.reinforced), "mess": dict(best.plan.mess),
                   "ev_packs": [[t, bus, n] for (t, bus), n in sorted(best.plan.packs.items())]}
    out["fix"] = fix_statements(model, best.plan)
    if best.costs is not None:
        c = best.costs
        out["costs"] = {"installation": c.installation, "replacement": c.replacement,
                        "residual": c.residual, "maintenance_per_year": c.maintenance_per_year,
                        "operation_per_year": c.operation_per_year, "objective": c.objective,
                        "total_comprehensive": c.total_comprehensive}
    out["scenarios"] = {e.scenario: {"probability": p, "status": e.status, "daily": e.daily,
                                     "terms": e.terms, "gap": e.gap}
                        for e, p in zip(best.scenarios, ev.probabilities)}
    return out


def _print_plan(out: Console, data: dict[str, Any]) -> None:
    t = Table(title="PSO plan", show_header=False)
    t.add_row("status", data["status"])
    pv = " (present value)" if data["objective"] is not None else ""
    t.add_row("objective", _money(data["objective"], data) + pv)
    words = {key: (label, per) for key, label, per in COST_ROWS}
    for k, v in data.get("costs", {}).items():
        if k != "objective":
            label, per = words.get(k, (k, ""))
            t.add_row(f"  {label}", _money(v, data) + per)
    for line in data.get("fix", []):
        t.add_row("plan", line)
    p = data["pso"]
    t.add_row("search", f"{p['iterations_done']}/{p['iterations']} iterations × "
              f"{p['particles']} particles, seed {p['seed']}")
    t.add_row("work", f"{p['plans_solved']} plans, {p['milps_solved']} MILPs, "
              f"{p['cache_hits']} cache hits, {p['evaluations_per_s']:.2f} MILPs/s on "
              f"{p['workers']} worker(s) ({p['executor']}), {p['wall_s']:.1f} s")
    out.print(t)


def run(args: argparse.Namespace, model: ir.Model, out: Console) -> int:
    if args.out:  # before anything is solved
        try:
            check_output_dir(args.out, (PLAN, SUMMARY))
        except OutputError as exc:
            err_console().print(f"error: {exc}")
            return EXIT_USAGE
    if args.lp or args.diagnose:
        out.print("note: --lp and --diagnose apply to the extensive form only; ignored")
    resolved = resolve_study(model, args.study)
    settings = pso_settings(resolved, args.particles, args.iterations, args.seed)
    try:
        executor = make_executor(args.workers, args.scheduler)
    except ExecutorError as exc:
        err_console().print(f"error: {exc}")
        return EXIT_MODEL
    display = _Display(err_console(), settings.iterations, executor,
                       quiet=getattr(args, "quiet", False))
    try:
        run_ = solve_pso(args.model, args.study, executor, model=model, settings=settings,
                         gap=args.gap, time_limit=args.time_limit,
                         threads=args.threads or 1, on_iteration=display, allow=GRANTED)
    except SearchFailed as exc:  # e.g. the workers died: keep the best plan so far
        run_ = exc.run
    finally:
        display.stop()
        # Ctrl-C or a broken cluster during the shutdown: keep the result
        with contextlib.suppress(KeyboardInterrupt, Exception):
            executor.close()
    data = summary(run_, resolved.model, resolved.name)
    _print_plan(out, data)
    stopped = run_.result.interrupted or run_.failure is not None
    kept = ("reporting the best plan found so far" if run_.best is not None
            else "no plan was evaluated, nothing to write")
    if run_.failure is not None:
        err_console().print(f"error: the search failed after {run_.result.iterations_done} "
                            f"iteration(s): {run_.failure}")
        out.print(f"search failed: {kept}")
    elif run_.result.interrupted:
        out.print(f"interrupted after {run_.result.iterations_done} iteration(s): {kept}")
    elif args.certify is None:
        out.print("lower bound: run with --certify [S] to solve the extensive form and "
                  "measure this plan's gap to its bound")
    if args.certify is not None and not stopped:
        info = data["certify"] = _certify(model, args, data["objective"], out)
        certificate = Stage("certify: extensive form", SolveStatus(info["status"]),
                            objective=info["objective"], bound=info["bound"],
                            gap=info["gap"], seconds=info["time_s"],
                            note="its bound is a lower bound of every plan's cost")
        data.update(headline_fields(pso_stages(
            run_, certificate, args.gap if args.gap is not None else resolved.solve.gap)))
        out.print(f"status: {data['status']}" + ("" if data["gap"] is None else
                                                 f", gap {100 * data['gap']:.2f} % to the "
                                                 "extensive form's bound"))
    if args.out and run_.best is not None:
        d = Path(args.out)
        head = [f"// PSO plan of study {resolved.name or '-'} ({data['status']}, seed "
                f"{settings.seed}): objective {data['objective']} CNY"]
        text = "\n".join(head + data.get("fix", [])) + "\n"
        write_pair(d, PLAN, lambda tmp: tmp.write_text(text, encoding="utf-8"), SUMMARY,
                   data)
        out.print(f"wrote {d}/{SUMMARY} and {d}/{PLAN}")
    if run_.failure is not None:
        return EXIT_MODEL
    if run_.result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if run_.best is not None and run_.best.ok else EXIT_MODEL
