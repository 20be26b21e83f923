"""`gridc solve MODEL`: compile a study, solve it with HiGHS, report and save results.

    gridc solve models/ieee33_operation.grid [--study NAME | --all-studies] [--out DIR]
                [--time-limit S] [--gap G] [--threads N] [--lp FILE] [--diagnose]

Exit codes: 0 with a usable solution (optimal, feasible_gap, time_limit_feasible,
limit_feasible), 1 otherwise (infeasible, unbounded, time_limit_infeasible, error) or for
model errors, 130 after Ctrl-C (the best solution so far is written, status
`interrupted`; progress on stderr: `gridc.cli.progress`, `--quiet` for none), 2 for usage
errors — among them an `--out` that cannot be written (a file,
a folder that cannot be created or written, a `summary.json` or `solution.nc` that
is a folder), found before anything is solved. Results are written to `--out` only
when the run produced a solution, so a failed run leaves an existing output
directory as it was; they are written as a pair (see `Result.write`). `--diagnose`
explains an infeasible model (see `gridc.runtime.diagnose`).
A study with `solve pso(...)`, or `--strategy pso`, runs the bi-level search instead
(options `--workers`, `--scheduler`, `--certify`, ...: see `gridc.cli.pso`).
"""

from __future__ import annotations

import argparse
import time

from gridc.cli import plots as cmd_plots
from gridc.cli import pso as cmd_pso
from gridc.cli.common import (
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    EXTRA_COMMANDS,
    bounded_int,
    console,
    err_console,
    fraction,
    load_or_report,
    positive,
)
from gridc.cli.progress import display_for
from gridc.cli.studies import run_all_studies
from gridc.cli.views import print_diagnosis, print_summary
from gridc.compiler import compile_model
from gridc.dsl.ranges import SEED_MAX, THREADS_MAX
from gridc.runtime.backend.solver import SolveStatus
from gridc.runtime.diagnose import diagnose
from gridc.runtime.export import format_problem, write_format
from gridc.runtime.ioutil import OutputError, check_output_dir
from gridc.runtime.problem import Problem
from gridc.runtime.results import RESULT_FILES
from gridc.runtime.strategies.decomposition import DecompositionError
from gridc.runtime.strategies.registry import choose


def setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the .grid file")
    p.add_argument("--study", help="study to solve (default: the first study)")
    p.add_argument("--out", help="directory for summary.json and solution.nc")
    p.add_argument("--time-limit", type=positive, metavar="S", help="seconds")
    p.add_argument("--gap", type=fraction, metavar="G",
                   help="relative MIP gap, e.g. 0.001 or 0.1%%")
    p.add_argument("--threads", type=bounded_int(1, THREADS_MAX, "threads"), metavar="N")
    p.add_argument("--seed", type=bounded_int(0, SEED_MAX, "the seed"), metavar="N",
                   help="solver random seed")
    p.add_argument("--lp", metavar="FILE", help="also write the model as an LP file")
    p.add_argument("--lp-names", action="store_true",
                   help="name the LP file's rows and columns by block and coordinates "
                        "(slower; for small models)")
    p.add_argument("--diagnose", action="store_true",
                   help="if infeasible, find which constraints and sources need relaxing")
    p.add_argument("--verbose", action="store_true", help="show the HiGHS log")
    p.add_argument("--quiet", action="store_true",
                   help="no progress display: print nothing but the result")
    p.add_argument("--format", choices=("netcdf", "csv", "xlsx"), default="netcdf",
                   help="with --out, also write the result as tables: csv (one file per "
                        "table) or xlsx (one workbook; needs the extra 'xlsx'); "
                        "docs/reading-results.md")
    p.add_argument("--no-ac-check", action="store_true",
                   help="skip the AC power flow of the solved plan (gridc.runtime.ac_check)")
    p.add_argument("--all-studies", action="store_true",
                   help="solve every study (extensive form) one after the other, print them "
                   "side by side and write OUT/<study>/ (see gridc.cli.studies)")
    p.add_argument("--studies", metavar="A,B,...",
                   help="as --all-studies, for these studies only (comma-separated)")
    cmd_pso.add_arguments(p, positive)
    cmd_plots.add_plot_option(p)


def run(args: argparse.Namespace) -> int:
    out = console()
    started = time.perf_counter()
    model = load_or_report(args.model)
    if isinstance(model, int):
        return model
    parse_s = time.perf_counter() - started
    if args.format != "netcdf" and (problem := format_problem(  # before anything is solved
            args.format, args.out,
            not (args.all_studies or args.studies) and cmd_pso.wants_pso(args, model))):
        err_console().out(f"error: {problem}")
        return EXIT_USAGE
    if args.all_studies or args.studies:
        return run_all_studies(args, model, out)
    if cmd_pso.wants_pso(args, model):  # the bi-level search (see gridc.cli.pso)
        return cmd_pso.run(args, model, out)
    if args.out:  # before anything is compiled or solved
        try:
            check_output_dir(args.out, RESULT_FILES)
        except OutputError as exc:
            err_console().print(f"error: {exc}")
            return EXIT_USAGE
    problem = Problem(compile_model(model, study=args.study), parse_s=parse_s)
    if args.lp:
        problem.write_lp(args.lp, names=args.lp_names)
        out.print(f"wrote {args.lp}")
    strategy = None if args.strategy in (None, "pso") else args.strategy
    try:
        choose(problem.compiled, strategy)  # refuse a strategy that does not apply first
    except ValueError as err:
        err_console().print(f"error: {err}")
        return EXIT_USAGE
    unit = "kWh/day" if problem.compiled.objective_kind == "losses" else "CNY"
    try:
        with display_for(args, unit) as show:  # Ctrl-C: the best point so far, interrupted
            result = problem.solve(time_limit=args.time_limit, gap=args.gap,
                                   threads=args.threads, seed=args.seed,
                                   verbose=args.verbose, strategy=strategy, progress=show,
                                   ac_check=not args.no_ac_check,
                                   workers=getattr(args, "workers", None))
    except DecompositionError as err:  # the model does not suit the strategy
        err_console().print(f"error: {err}")
        return EXIT_MODEL
    print_summary(out, result.summary)
    if args.out:
        if result.ok:
            tables = write_format(result, args.out, args.format, err_console().out)
            result.write(args.out)
            out.print(f"wrote {args.out}/summary.json and {args.out}/solution.nc{tables}")
        else:
            out.print(f"no solution: {args.out} left unchanged")
    if args.diagnose and result.status in (SolveStatus.infeasible,
                                           SolveStatus.time_limit_infeasible):
        out.print("diagnosing: re-solving with elastic constraints ...")
        print_diagnosis(out, diagnose(model, study=args.study, time_limit=args.time_limit,
                                      threads=args.threads))
    elif args.diagnose and result.ok:
        out.print("diagnose: nothing to explain, the model is feasible")
    elif result.status is SolveStatus.infeasible:
        out.print("hint: run again with --diagnose to see which .grid lines make the model "
                  "infeasible and by how much to relax them", markup=False)
    if result.interrupted:
        return cmd_pso.EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_MODEL


EXTRA_COMMANDS["solve"] = ("compile and solve a model with HiGHS",
                           (setup, cmd_plots.with_plots(run)))
