"""`gridc solve MODEL`: compile a study, solve it with HiGHS, report and save results.

    gridc solve models/ieee33_operation.grid [--study NAME | --all-studies] [--out DIR]
                [--time-limit S] [--gap G] [--threads N] [--lp FILE] [--diagnose]

Exit codes: 0 with a usable solution (optimal, feasible_gap, time_limit_feasible),
1 otherwise (infeasible, unbounded, time_limit_infeasible, error) or for model
errors, 2 for usage errors. Results are written to `--out` only when the run
produced a solution, so a failed run leaves an existing output directory as it
was. `--diagnose` explains an infeasible model (see `gridc.runtime.diagnose`).
A study with `solve pso(...)`, or `--strategy pso`, runs the bi-level search instead
(options `--workers`, `--scheduler`, `--certify`, ...: see `gridc.runtime.cmd_pso`).
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from gridc.compiler import compile_model
from gridc.runtime import cmd_pso
from gridc.runtime.cli import EXIT_MODEL, EXIT_OK, EXTRA_COMMANDS, load_or_report
from gridc.runtime.diagnose import diagnose
from gridc.runtime.problem import Problem
from gridc.runtime.report import print_diagnosis, print_summary
from gridc.runtime.solver import SolveStatus


def _fraction(text: str) -> float:
    """A relative gap: 0.001 or 0.1%."""
    try:
        value = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a gap (e.g. 0.001 or 0.1%)") \
            from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"a gap lies in [0, 1), found {value:g}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the time limit must be positive")
    return value


def setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the .grid file")
    p.add_argument("--study", help="study to solve (default: the first study)")
    p.add_argument("--out", help="directory for summary.json and solution.nc")
    p.add_argument("--time-limit", type=_positive, metavar="S", help="seconds")
    p.add_argument("--gap", type=_fraction, metavar="G",
                   help="relative MIP gap, e.g. 0.001 or 0.1%%")
    p.add_argument("--threads", type=int, metavar="N")
    p.add_argument("--seed", type=int, metavar="N", help="solver random seed")
    p.add_argument("--lp", metavar="FILE", help="also write the model as an LP file")
    p.add_argument("--lp-names", action="store_true",
                   help="name the LP file's rows and columns by block and coordinates "
                        "(slower; for small models)")
    p.add_argument("--diagnose", action="store_true",
                   help="if infeasible, find which constraints and sources need relaxing")
    p.add_argument("--verbose", action="store_true", help="show the HiGHS log")
    p.add_argument("--all-studies", action="store_true",
                   help="solve every study (extensive form) one after the other, print them "
                   "side by side and write OUT/<study>/ (see gridc.runtime.cmd_studies)")
    cmd_pso.add_arguments(p, _positive)


def console() -> Console:
    c = Console(highlight=False)
    if not c.is_terminal:
        c = Console(highlight=False, width=160)
    return c


def run(args: argparse.Namespace) -> int:
    out = console()
    started = time.perf_counter()
    model = load_or_report(args.model)
    if isinstance(model, int):
        return model
    parse_s = time.perf_counter() - started
    if args.all_studies:
        from gridc.runtime.cmd_studies import run_all_studies
        return run_all_studies(args, model, out)
    if cmd_pso.wants_pso(args, model):  # the bi-level search (see gridc.runtime.cmd_pso)
        return cmd_pso.run(args, model, out)
    problem = Problem(compile_model(model, study=args.study), parse_s=parse_s)
    if args.lp:
        problem.write_lp(args.lp, names=args.lp_names)
        out.print(f"wrote {args.lp}")
    result = problem.solve(time_limit=args.time_limit, gap=args.gap, threads=args.threads,
                           seed=args.seed, verbose=args.verbose,
                           strategy=None if args.strategy in (None, "pso") else args.strategy)
    print_summary(out, result.summary)
    if args.out:
        if result.ok:
            result.write(args.out)
            out.print(f"wrote {args.out}/summary.json and {args.out}/solution.nc")
        else:
            out.print(f"no solution: {args.out} left unchanged")
    if args.diagnose and result.status in (SolveStatus.infeasible,
                                           SolveStatus.time_limit_infeasible):
        out.print("diagnosing: re-solving with elastic constraints ...")
        print_diagnosis(out, diagnose(model, study=args.study, time_limit=args.time_limit,
                                      threads=args.threads))
    elif args.diagnose and result.ok:
        out.print("diagnose: nothing to explain, the model is feasible")
    return EXIT_OK if result.ok else EXIT_MODEL


EXTRA_COMMANDS["solve"] = ("compile and solve a model with HiGHS", (setup, run))
