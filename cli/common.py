"""What every command of the `gridc` command line shares: exit codes, the registry of
subcommands that modules beyond check/fmt/schema contribute, and reporting diagnostics.

Its own module so that the command modules (`cli.solve`, `cli.studies`, ...) and
`cli.main`, which imports them when a command needs the solver stack, never import
each other.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console

from gridc.dsl import GridError, load
from gridc.dsl.access import ALLOW_PATH_ENV, printable_sources, tidy
from gridc.dsl.diagnostics import render_all
from gridc.dsl.ir import Model

EXIT_OK, EXIT_MODEL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

#: Extra subcommands contributed by other runtime modules: name -> (setup, run).
Command = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
EXTRA_COMMANDS: dict[str, tuple[str, Command]] = {}


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def report_grid_error(exc: GridError) -> int:
    color = sys.stderr.isatty()
    # each diagnostic once, no control characters, whichever stage raised it
    text = render_all(tidy(exc.diagnostics), printable_sources(exc.sources), color=color)
    sys.stderr.write(text + "\n")
    return EXIT_MODEL


#: Folders granted with --allow-path to the command being run (see `granting`).
GRANTED: list[str] = []


def add_access_options(p: argparse.ArgumentParser) -> None:
    """--allow-path DIR, for every command that reads a model."""
    p.add_argument("--allow-path", action="append", default=[], metavar="DIR",
                   dest="allow_path",
                   help="let the model also read files under DIR (repeatable); by default "
                        "it reads only files under its own folder (docs/untrusted-models.md)")


@contextmanager
def granting(paths: Sequence[str]) -> Iterator[None]:
    """Grant `paths` to every model loaded while the command runs: here (`GRANTED`)
    and in the worker processes it starts (through GRIDC_ALLOW_PATH)."""
    if not paths:
        yield
        return
    before = os.environ.get(ALLOW_PATH_ENV)
    full = [os.path.abspath(os.path.expanduser(p)) for p in paths]
    GRANTED[:] = full
    os.environ[ALLOW_PATH_ENV] = os.pathsep.join([*full, *([before] if before else [])])
    try:
        yield
    finally:
        GRANTED.clear()
        if before is None:
            os.environ.pop(ALLOW_PATH_ENV, None)
        else:
            os.environ[ALLOW_PATH_ENV] = before


def load_or_report(path: str) -> Model | int:
    """The model at `path` (reading the folders granted with --allow-path too), or
    the exit code after printing its diagnostics."""
    try:
        return load(path, allow=GRANTED)
    except GridError as exc:
        return report_grid_error(exc)


def fraction(text: str) -> float:
    """A relative gap: 0.001 or 0.1%."""
    try:
        value = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a gap (e.g. 0.001 or 0.1%)") \
            from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"a gap lies in [0, 1), found {value:g}")
    return value


#: most Dask worker processes `--workers` starts on one machine (each is a Python process
#: with its own HiGHS: beyond a few per core they only compete for memory)
WORKERS_MAX = 1024


def bounded_int(lo: int, hi: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number of `what` within lo .. hi (the ranges of
    gridc.dsl.ranges, which a study's `threads` and `seed` are held to)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{what} must lie within {lo} .. {hi:,}, "
                                             f"found {value}")
        return value
    return parse


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the time limit must be positive")
    return value


def console() -> Console:
    c = Console(highlight=False)
    if not c.is_terminal:
        c = Console(highlight=False, width=160)
    return c
