"""What every command of the `gridc` command line shares: exit codes, the registry of
subcommands that modules beyond check/fmt/schema contribute, and reporting diagnostics.

Its own module so that the command modules (`cli.solve`, `cli.studies`, ...) and
`cli.main`, which imports them when a command needs the solver stack, never import
each other.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from rich.console import Console

from gridc.dsl import GridError, load
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
    sys.stderr.write(render_all(exc.diagnostics, exc.sources, color=color) + "\n")
    return EXIT_MODEL


def load_or_report(path: str) -> Model | int:
    """The model at `path`, or the exit code after printing its diagnostics."""
    try:
        return load(path)
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
