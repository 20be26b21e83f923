"""Several studies of one model, side by side: `gridc solve --all-studies`, `gridc sweep`.

    gridc solve MODEL --all-studies | --studies A,B,... [--out DIR] [--time-limit S]
                      [--gap G] [--threads N] [--workers N | --scheduler tcp://HOST:PORT]
    gridc sweep MODEL NAME [--out DIR] [--time-limit S] [--gap G] [--threads N]
                           [--workers N | --scheduler tcp://HOST:PORT]

`run_studies(model, names, options, executor=)` is the one loop: it compiles and
solves the studies in waves (restricted studies first, so that their plans can start
the others) and returns their `Result`s. A wave's studies are independent tasks for
the executor of the bi-level method (`gridc.runtime.executor`): `--workers N` runs
them on a local Dask cluster, `--scheduler` on a running one, the default serially.
Options are those of `Problem.solve` (time_limit, gap, threads, seed, verbose),
applied to every study.

`--all-studies` runs every study of the model whose strategy is the extensive form
(a `pso` study is listed as skipped: run it with `--study`); `sweep` runs the
sweep's study once per case, each case being that study with the case's `set`
lines (a synthetic study named `SWEEP.CASE`). Both print one table with a column
per study (plan and costs like the seed's Tables 1-2, status, gap and time; see
`gridc.cli.plan_views`) and, with `--out DIR`, write each study's results to
`DIR/<study or case>/`. Exit code 0 when every study has a usable solution.
Under the table, a warning names every pair whose difference lies within their gaps
(|a − b| ≤ the sum of the gaps' widths, `gridc.cli.stage_views.overlaps`): such a
difference may be the solver's, not the model's. Progress (`gridc.cli.progress`, on
stderr, off with `--quiet`): each study's state and, in a serial run, the solve's own.

Nothing finished is lost: `DIR` and every `DIR/<study>/` are checked before the first
solve (a file, a folder that cannot be written, a `summary.json` or `solution.nc`
that is a folder: exit 2, nothing solved), and each study is written as soon as its
result arrives (`Result.write`, a pair replaced atomically; a study solved again by
the re-check is written again). In a serial run Ctrl-C stops the study being solved,
which is written with its best solution so far (status `interrupted`), and no other
starts. Ctrl-C (exit 130) or a failure (exit 1: a study that
raised, `ExecutorError` when Dask workers die again and again) leaves the folders
written so far intact and prints which studies are written and which are missing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from dataclasses import dataclass, replace
from typing import Any

import xarray as xr
from rich.console import Console

from gridc.cli.common import (
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    EXTRA_COMMANDS,
    WORKERS_MAX,
    bounded_int,
    console,
    err_console,
    fraction,
    load_or_report,
    positive,
)
from gridc.cli.labels import objective_value
from gridc.cli.plan_views import studies_table
from gridc.cli.progress import ProgressDisplay, display_for
from gridc.cli.stage_views import overlaps
from gridc.compiler import compile_model
from gridc.compiler.core.study import resolve_study
from gridc.dsl import GridError, ir
from gridc.dsl.ranges import SEED_MAX, THREADS_MAX
from gridc.runtime.backend.warmstart import check_start, start_from
from gridc.runtime.executor import Executor, ExecutorError, SerialExecutor, make_executor
from gridc.runtime.export import write_format
from gridc.runtime.ioutil import OutputError, check_output_dir
from gridc.runtime.problem import Problem
from gridc.runtime.results import RESULT_FILES, Result

EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class StudyTask:
    """One study to compile and solve, with the solutions it may start from. A plain,
    picklable value: the same task runs in this process or on a Dask worker."""

    model: ir.Model
    name: str
    options: dict[str, Any]
    starts: tuple[tuple[str, xr.Dataset], ...] = ()  # (study, solution) of earlier waves
    beat: float | None = None  # re-check: solve only if a start is cheaper than this

    @property
    def label(self) -> str:
        """The task in messages (e.g. the executor's `ExecutorError`)."""
        return f"study {self.name}"


class StudyFailed(Exception):
    """A study whose compile or solve raised something other than a model error (those
    are `GridError`s, passed on as they are). Picklable: it travels back from Dask."""

    def __init__(self, study: str, error: str):
        super().__init__(study, error)
        self.study, self.error = study, error

    def __str__(self) -> str:
        return f"study {self.study} failed: {self.error}"


def solve_study(task: StudyTask) -> Result | None:
    """Compile and solve `task.name`, offered as a MIP start the cheapest of `task.starts`
    that is feasible for it (`warmstart.check_start`). With `task.beat` (the re-check
    of `run_studies`), solve only when that start is worth less than `beat` in this
    study, and return None otherwise. Raises `StudyFailed` naming the study if it
    fails other than by a model error."""
    try:
        return _solve_study(task)
    except GridError:
        raise
    except Exception as exc:
        raise StudyFailed(task.name, f"{type(exc).__name__}: {exc}") from exc


def _solve_study(task: StudyTask) -> Result | None:
    started = time.perf_counter()
    problem = Problem(compile_model(task.model, study=task.name))
    const, scale = problem.compiled.objective_constant, problem.compiled.objective_scale
    best: tuple[float, str, xr.Dataset] | None = None
    for other, dataset in task.starts:
        raw = check_start(problem.model, start_from(problem.model, dataset))
        # solver units (scale x currency, without the constant) -> the summary's units
        value = None if raw is None else (raw + const) / scale
        if value is not None and (best is None or value < best[0]):
            best = (value, other, dataset)
    if task.beat is not None and (best is None
                                  or best[0] >= task.beat - 1e-9 * abs(task.beat)):
        return None
    options = dict(task.options)
    if options.get("progress") is not None:  # serial runs: the display names the study
        options["progress"] = _tagged(options["progress"], task.name)
    result = problem.solve(**options, start=None if best is None else best[2])
    result.summary["timings"]["wall_s"] = time.perf_counter() - started
    if best is not None:
        s = result.summary
        again = "" if task.beat is None else \
            f", re-solved: it beat {objective_value(task.beat, s, 0)}"
        result.summary["notes"].append(f"MIP start offered: the solution of {best[1]} "
                                       f"(worth {objective_value(best[0], s, 0)} "
                                       f"here{again})")
    return result


def _tagged(progress: Any, name: str) -> Any:
    """`progress` with the study's name before every stage."""
    def send(event: Any) -> None:
        progress(replace(event, stage=f"{name}: {event.stage}"))
    return send


def study_waves(model: ir.Model, names: list[str]) -> list[list[str]]:
    """`names` grouped into waves, the most restricted studies first (more `without`
    lines, then `fix`ed plans), each wave in the order of `names`."""
    def rank(name: str) -> int:
        r = resolve_study(model, name)
        return -(len(r.without) + (1 if r.fixes else 0))

    ranks = sorted({rank(n) for n in names})
    return [[n for n in names if rank(n) == r] for r in ranks]


def run_studies(model: ir.Model, names: list[str], options: dict[str, Any],
                report: Any = None, executor: Executor | None = None) -> list[Result]:
    """Compile and solve each study of `names` with `Problem.solve(**options)`; results in
    the order of `names`. `report(name, result)`, if given, is called with each result
    as soon as it arrives (in the order they finish), so that it can be kept at once.

    The studies run in waves (`study_waves`): the studies of one wave are independent
    and go to `executor` together (in parallel on a Dask executor; serially without
    one), and every study is offered, as a MIP start, the best of the solutions of the
    earlier waves that is feasible for it (e.g. method3's plan, no MESS, for method1).
    With a gap tolerance, a study that can do all its restrictions can then never
    report a dearer plan than theirs (method1 ≤ method2..4, as at the optimum). The
    waves, not the back-end, decide what each study sees: the same results on all.

    Then one re-check: every study is offered the solutions of all the others, and a
    study for which one of them is feasible and cheaper than its own incumbent is
    solved again from it. Studies of one wave cannot start each other (e.g. the cases
    of a sweep over EV numbers: the plan of the base case is feasible with more EVs),
    and a solve that stops at a gap may keep a dearer incumbent than a plan found
    elsewhere; after the re-check no study reports a cost above that of another
    study's solution that is feasible for it."""
    run = executor if executor is not None else SerialExecutor()
    done: dict[str, Result] = {}

    def wave_of(tasks: list[StudyTask]) -> None:
        arrived: dict[int, Result | None] = {}
        for k, result in run.as_completed(solve_study, tasks):
            arrived[k] = result
            if result is not None and report is not None:
                report(tasks[k].name, result)
            if result is not None and result.interrupted:  # Ctrl-C: reported, then stop
                raise KeyboardInterrupt
        for k, task in enumerate(tasks):  # in wave order: what later waves see is the
            result = arrived[k]           # same whatever finished first
            if result is not None:
                done[task.name] = result

    for wave in study_waves(model, names):
        starts = tuple((n, r.dataset) for n, r in done.items() if r.ok)
        wave_of([StudyTask(model, name, options, starts) for name in wave])
    ok = {n: r for n, r in done.items() if r.ok and r.objective is not None}
    again = [n for n in names if n in ok and len(ok) > 1]
    wave_of([StudyTask(model, name, options,
                       tuple((n, r.dataset) for n, r in ok.items() if n != name),
                       beat=ok[name].objective) for name in again])
    return [done[name] for name in names]


def extensive_studies(model: ir.Model) -> tuple[list[str], list[str]]:
    """(studies solved in extensive form, studies skipped because they ask for pso)."""
    run: list[str] = []
    skipped: list[str] = []
    for st in model.studies:
        strategy = resolve_study(model, st.name).solve.strategy
        (run if strategy in (None, "extensive") else skipped).append(st.name)
    return run, skipped


def sweep_model(model: ir.Model, name: str) -> tuple[ir.Model, list[str], list[str]]:
    """The model with one synthetic study per case of sweep `name`, their names and the
    case labels. Raises KeyError for an unknown sweep."""
    found = [s for s in model.sweeps if s.name == name]
    if not found:
        raise KeyError(name)
    sweep = found[0]
    studies = tuple(ir.Study(name=f"{sweep.name}.{c.label}", extends=sweep.study,
                             overrides=c.overrides, span=c.span) for c in sweep.cases)
    return (model.model_copy(update={"studies": model.studies + studies}),
            [s.name for s in studies], [c.label for c in sweep.cases])


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"time_limit": args.time_limit, "gap": args.gap, "threads": args.threads,
            "seed": args.seed, "verbose": args.verbose, "ac_check": not args.no_ac_check}


def check_out(args: argparse.Namespace, labels: list[str]) -> int | None:
    """Exit code 2 with a message if `--out` or one of its `<label>/` folders cannot
    receive a result (before anything is solved); None if all can."""
    if not args.out:
        return None
    try:
        check_output_dir(args.out)
        for label in labels:
            check_output_dir(f"{args.out}/{label}", RESULT_FILES)
    except OutputError as exc:
        err_console().print(f"error: {exc}")
        return EXIT_USAGE
    return None


def _account(out: Console, args: argparse.Namespace, names: list[str], labels: list[str],
             results: dict[str, Result], written: set[str], title: str) -> None:
    """After an interrupt or a failure: the studies solved so far side by side, and which
    studies are written (or solved, without --out) and which are missing."""
    if results:
        out.print(studies_table([results[n].summary if n in results else None
                                 for n in names], labels, title))
    have = [lab for n, lab in zip(names, labels) if n in (written if args.out else results)]
    missing = []
    for n, lab in zip(names, labels):
        if n not in results:
            missing.append(f"{lab} (not solved)")
        elif args.out and not results[n].ok:
            missing.append(f"{lab} (no solution: {results[n].status.value})")
        elif args.out and n not in written:
            missing.append(f"{lab} (not written)")
    where = f" to {args.out}/" if args.out else ""
    out.print(f"{'written' if args.out else 'solved'}{where}: {', '.join(have) or 'none'}")
    out.print(f"missing: {', '.join(missing) or 'none'}")


def run_and_report(out: Console, model: ir.Model, names: list[str], labels: list[str],
                   args: argparse.Namespace, title: str) -> int:
    """Solve `names`, write each to `--out/<label>/` as soon as it is solved, print the
    side-by-side table."""
    if (code := check_out(args, labels)) is not None:
        return code
    label_of = dict(zip(names, labels))
    results: dict[str, Result] = {}
    written: set[str] = set()
    display = display_for(args)  # per-study progress on stderr (off with --quiet)

    def progress(name: str, result: Result) -> None:
        results[name] = result
        gap = "-" if result.gap is None else f"{100 * result.gap:.2f} %"
        line = (f"{result.status.value}, gap {gap}, "
                f"{result.summary['timings']['wall_s']:.0f} s")
        if args.out and result.ok:  # --format csv|xlsx: the tables first (summary lists them)
            write_format(result, f"{args.out}/{label_of[name]}",
                         getattr(args, "format", "netcdf"), err_console().out)
            result.write(f"{args.out}/{label_of[name]}")
            written.add(name)
            line += f", wrote {args.out}/{label_of[name]}/"
        display.task(label_of[name], line)

    workers = getattr(args, "workers", None)
    scheduler = getattr(args, "scheduler", None)
    try:
        executor = make_executor(workers, scheduler)
        try:
            if executor.kind != "serial":
                out.print(f"{len(names)} studies on {executor.workers()} Dask worker(s) "
                          f"({executor.kind})")
            final = _run_shown(display, model, names, labels, args, progress, executor)
        finally:
            # Ctrl-C or a broken cluster during the shutdown: keep what was solved
            with contextlib.suppress(KeyboardInterrupt, Exception):
                executor.close()
    except KeyboardInterrupt:
        err_console().print("interrupted")
        _account(out, args, names, labels, results, written, title)
        return EXIT_INTERRUPTED
    except GridError:
        _account(out, args, names, labels, results, written, title)
        raise  # rendered by gridc.cli.main (exit 1)
    except Exception as exc:
        why = str(exc) if isinstance(exc, ExecutorError | StudyFailed) \
            else f"{type(exc).__name__}: {exc}"
        err_console().print(f"error: {why}")
        _account(out, args, names, labels, results, written, title)
        if "GRIDC_DEBUG" in os.environ:  # as gridc.cli.main does for internal errors
            raise
        return EXIT_MODEL
    out.print(studies_table([r.summary for r in final], labels, title))
    for warning in overlaps([r.summary for r in final], labels):  # inside the gaps
        out.print(warning, markup=False)
    if args.out:
        done = [lab for n, lab in zip(names, labels) if n in written]
        out.print(f"wrote {args.out}/<{'|'.join(done)}>/summary.json and solution.nc"
                  if done else f"no solution: nothing written to {args.out}")
    return EXIT_OK if all(r.ok for r in final) else EXIT_MODEL


def _run_shown(display: ProgressDisplay, model: ir.Model, names: list[str],
               labels: list[str], args: argparse.Namespace, report: Any,
               executor: Executor) -> list[Result]:
    """`run_studies` with the display open: each study's state, and in a serial run
    (the solves in this process) the progress of the one being solved."""
    options = _options(args)
    if executor.kind == "serial":
        options["progress"] = display
    with display:
        for label in labels:
            display.task(label, "waiting" if executor.kind == "serial"
                         else f"queued on the {executor.kind} cluster")
        return run_studies(model, names, options, report=report, executor=executor)


def run_all_studies(args: argparse.Namespace, model: ir.Model, out: Console) -> int:
    """`gridc solve MODEL --all-studies`, or `--studies A,B,...` for a chosen few (in
    the model's order; an unknown name, or one whose strategy is pso, is a usage error:
    exit 2, nothing solved)."""
    names, skipped = extensive_studies(model)
    title = "--all-studies"
    if args.studies:
        wanted = [n.strip() for n in args.studies.split(",") if n.strip()]
        known = {st.name for st in model.studies}
        for name in wanted:
            if name not in known or name in skipped:
                why = (f"its strategy is pso; run it with --study {name}" if name in known
                       else "valid: " + ", ".join(names))
                err_console().print(f"error: --studies: {name!r} cannot be solved side by "
                                    f"side ({why})")
                return EXIT_USAGE
        names, skipped, title = [n for n in names if n in wanted], [], "--studies"
    for name in skipped:
        out.print(f"{name}: skipped (strategy pso; run it with --study {name})")
    return run_and_report(out, model, names, names, args,
                          f"gridc solve {title}: {args.model}")


def setup_sweep(p: argparse.ArgumentParser) -> None:

    p.add_argument("model", help="the .grid file")
    p.add_argument("sweep", help="name of the sweep")
    p.add_argument("--out", help="directory; each case is written to OUT/<case>/")
    p.add_argument("--time-limit", type=positive, metavar="S", help="seconds per case")
    p.add_argument("--gap", type=fraction, metavar="G", help="relative MIP gap")
    p.add_argument("--threads", type=bounded_int(1, THREADS_MAX, "threads"), metavar="N")
    p.add_argument("--seed", type=bounded_int(0, SEED_MAX, "the seed"), metavar="N",
                   help="solver random seed")
    p.add_argument("--verbose", action="store_true", help="show the HiGHS log")
    p.add_argument("--no-ac-check", action="store_true",
                   help="skip the AC power flow of each case's plan (gridc.runtime.ac_check)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress display: print nothing but the result")
    p.add_argument("--workers", type=bounded_int(1, WORKERS_MAX, "workers"), metavar="N",
                   help="solve the cases on a local Dask cluster of N processes")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="solve the cases on a running Dask cluster")


def run_sweep(args: argparse.Namespace) -> int:

    out = console()
    model = load_or_report(args.model)
    if isinstance(model, int):
        return model
    try:
        swept, names, labels = sweep_model(model, args.sweep)
    except KeyError:
        known = ", ".join(s.name for s in model.sweeps) or "none"
        out.print(f"error: no sweep '{args.sweep}' in {args.model} (sweeps: {known})")
        return EXIT_USAGE
    sweep = next(s for s in model.sweeps if s.name == args.sweep)
    return run_and_report(out, swept, names, labels, args,
                          f"gridc sweep {args.sweep} (over {sweep.study}): {args.model}")


EXTRA_COMMANDS["sweep"] = ("solve one study once per case of a sweep, side by side",
                           (setup_sweep, run_sweep))
