"""Several studies of one model, side by side: `gridc solve --all-studies`, `gridc sweep`.

    gridc solve MODEL --all-studies [--out DIR] [--time-limit S] [--gap G] [--threads N]
    gridc sweep MODEL NAME [--out DIR] [--time-limit S] [--gap G] [--threads N]

`run_studies(model, names, options)` is the one loop: it compiles and solves each
named study in turn and returns their `Result`s (a plain `for`, so that a parallel
executor can replace it without touching the commands). Options are those of
`Problem.solve` (time_limit, gap, threads, seed, verbose), applied to every study.

`--all-studies` runs every study of the model whose strategy is the extensive form
(a `pso` study is listed as skipped: run it with `--study`); `sweep` runs the
sweep's study once per case, each case being that study with the case's `set`
lines (a synthetic study named `SWEEP.CASE`). Both print one table with a column
per study (plan and costs like the seed's Tables 1-2, status, gap and time; see
`gridc.runtime.plan_report`) and, with `--out DIR`, write each study's results to
`DIR/<study or case>/`. Exit code 0 when every study has a usable solution.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.console import Console

from gridc.compiler import compile_model
from gridc.compiler.study import resolve_study
from gridc.dsl import ir
from gridc.runtime.cli import EXIT_MODEL, EXIT_OK, EXIT_USAGE, EXTRA_COMMANDS, load_or_report
from gridc.runtime.plan_report import studies_table
from gridc.runtime.problem import Problem
from gridc.runtime.results import Result
from gridc.runtime.warmstart import check_start, start_from


def run_studies(model: ir.Model, names: list[str], options: dict[str, Any],
                report: Any = None) -> list[Result]:
    """Compile and solve each study of `names` with `Problem.solve(**options)`; results in
    the order of `names`. `report(name, result)`, if given, is called after each one.

    Studies with more `without`/`fix` lines run first, and every study is offered, as a
    MIP start, the best of the solutions already found that is feasible for it
    (`warmstart.check_start`: e.g. method3's plan, no MESS, for method1). With a gap
    tolerance, a study that can do all its restrictions can then never report a
    dearer plan than theirs (method1 ≤ method2..4, as at the optimum)."""
    def rank(name: str) -> int:
        r = resolve_study(model, name)
        return -(len(r.without) + (1 if r.fixes else 0))

    done: dict[str, Result] = {}
    for name in sorted(names, key=rank):
        started = time.perf_counter()
        problem = Problem(compile_model(model, study=name))
        best: tuple[float, Result] | None = None
        for other in done.values():
            if not other.ok:
                continue
            value = check_start(problem.model, start_from(problem.model, other.dataset))
            if value is not None and (best is None or value < best[0]):
                best = (value, other)
        result = problem.solve(**options, start=None if best is None else best[1].dataset)
        result.summary["timings"]["wall_s"] = time.perf_counter() - started
        if best is not None:
            result.summary["notes"].append(
                f"MIP start offered: the solution of {best[1].summary['study']} "
                f"({best[1].objective:,.0f} CNY there)")
        done[name] = result
        if report is not None:
            report(name, result)
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
            "seed": args.seed, "verbose": args.verbose}


def run_and_report(out: Console, model: ir.Model, names: list[str], labels: list[str],
                   args: argparse.Namespace, title: str) -> int:
    """Solve `names`, print the side-by-side table, write `--out/<label>/`."""
    def progress(name: str, result: Result) -> None:
        gap = "-" if result.gap is None else f"{100 * result.gap:.2f} %"
        out.print(f"{name}: {result.status.value}, gap {gap}, "
                  f"{result.summary['timings']['wall_s']:.0f} s")

    results = run_studies(model, names, _options(args), report=progress)
    out.print(studies_table([r.summary for r in results], labels, title))
    if args.out:
        for label, result in zip(labels, results):
            if result.ok:
                result.write(f"{args.out}/{label}")
        out.print(f"wrote {args.out}/<{'|'.join(labels)}>/summary.json and solution.nc")
    return EXIT_OK if all(r.ok for r in results) else EXIT_MODEL


def run_all_studies(args: argparse.Namespace, model: ir.Model, out: Console) -> int:
    """`gridc solve MODEL --all-studies`."""
    names, skipped = extensive_studies(model)
    for name in skipped:
        out.print(f"{name}: skipped (strategy pso; run it with --study {name})")
    return run_and_report(out, model, names, names, args,
                          f"gridc solve --all-studies: {args.model}")


def setup_sweep(p: argparse.ArgumentParser) -> None:
    from gridc.runtime.cmd_solve import _fraction, _positive

    p.add_argument("model", help="the .grid file")
    p.add_argument("sweep", help="name of the sweep")
    p.add_argument("--out", help="directory; each case is written to OUT/<case>/")
    p.add_argument("--time-limit", type=_positive, metavar="S", help="seconds per case")
    p.add_argument("--gap", type=_fraction, metavar="G", help="relative MIP gap")
    p.add_argument("--threads", type=int, metavar="N")
    p.add_argument("--seed", type=int, metavar="N", help="solver random seed")
    p.add_argument("--verbose", action="store_true", help="show the HiGHS log")


def run_sweep(args: argparse.Namespace) -> int:
    from gridc.runtime.cmd_solve import console

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
