"""The `gridc` command line: check, fmt, schema (and solve, forecast, sweep as they land).

Exit codes: 0 success, 1 model errors (diagnostics printed), 2 usage errors, 130
interrupted (Ctrl-C; a solve writes its best solution so far first, see `gridc.cli.solve`).
No input, however broken, produces a Python traceback: unexpected internal
errors are reported as such with exit code 3.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from gridc import __version__
from gridc.cli.common import (
    EXIT_INTERNAL,
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    EXTRA_COMMANDS,
    GRANTED,
    add_access_options,
    err_console,
    granting,
    load_or_report,
    report_grid_error,
)
from gridc.dsl import GridError
from gridc.dsl.access import Access, Refused, max_file_bytes, max_grid_bytes, printable_sources
from gridc.dsl.budgets import Budget
from gridc.dsl.diagnostics import render_all
from gridc.dsl.fmt import format_text
from gridc.dsl.ir import Model
from gridc.runtime.ioutil import atomic_write_text

__all__ = ["EXIT_INTERNAL", "EXIT_MODEL", "EXIT_OK", "EXIT_USAGE", "EXTRA_COMMANDS",
           "load_or_report", "main"]


def cmd_check(args: argparse.Namespace) -> int:
    if args.format != "text":
        return _check_for_tools(args)
    status = EXIT_OK
    for path in args.files:
        model = load_or_report(path)
        if isinstance(model, int):
            status = max(status, model)
            continue
        if model.warnings:  # e.g. GRID054: buses no source feeds (they carry no load)
            sys.stderr.write(render_all(model.warnings, printable_sources(model.sources),
                                        color=sys.stderr.isatty()) + "\n")
        if args.emit == "ir":
            sys.stdout.write(model.model_dump_json(indent=2, exclude={"sources"}) + "\n")
        else:
            summary = f"{path}: ok"
            if model.networks:
                facts = _model_facts(model)
                summary += " ({})".format(", ".join(
                    f"{facts[plural]} {singular if facts[plural] == 1 else plural}"
                    for singular, plural in (("bus", "buses"), ("line", "lines"),
                                             ("study", "studies"))))
            print(summary)
            for line in _history_facts(model):
                print(line)
    return status


def _model_facts(model: Model) -> dict[str, int]:
    net = model.networks[0]
    return {"buses": len(net.buses), "lines": len(net.lines), "studies": len(model.studies)}


def _history_facts(model: Model) -> list[str]:
    """One line per scenario set made from a history: its typical days and the k-means
    inertia of the run kept, or that every event is a scenario (`cluster none`;
    docs/language.md, 4.12)."""
    sets = [s for s in model.scenario_sets if s.history is not None and s.history.events]
    if not sets or not model.networks:
        return []
    # numpy/scipy: only for models with a history
    from gridc.data.history import cluster_model, clustering_facts, clustering_words

    out = []
    for s in sets:
        assert s.history is not None
        facts = clustering_facts(s, cluster_model(model, s.history))
        out.append(f"  scenarios {s.name}: {clustering_words(facts)}")
    return out


def _check_for_tools(args: argparse.Namespace) -> int:
    """`check --format short|json|sarif`: every file's diagnostics in one document on
    stdout (`cli.diagnostic_formats`); exit 1 when any file has errors."""
    from gridc.cli.diagnostic_formats import Checked, render
    from gridc.dsl import load

    if args.emit:
        err_console().print("gridc check: error: --emit ir prints the IR as JSON itself; "
                            "use it without --format", markup=False)
        return EXIT_USAGE
    checked = []
    for path in args.files:
        entry = Checked(path)
        try:
            model = load(path, allow=GRANTED)
            entry.summary = _model_facts(model) if model.networks else None
        except GridError as exc:
            entry.diagnostics = list(exc.diagnostics)
        checked.append(entry)
    text = render(args.format, checked)
    if text:
        sys.stdout.write(text + "\n")
    return EXIT_MODEL if any(c.diagnostics for c in checked) else EXIT_OK


def cmd_fmt(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.files:
        got = Access.for_model(path, GRANTED).read(Path(path), confined=False, source=True)
        if isinstance(got, Refused):  # a FIFO, a device, too large, not UTF-8, missing
            _, message, _ = got.explain(path, path, "")
            err_console().print(f"error: {message}", markup=False)
            return EXIT_USAGE
        text = got[1]
        try:
            pretty = format_text(text, path)
        except GridError as exc:
            status = max(status, report_grid_error(exc))
            continue
        if args.check:
            if pretty != text:
                print(f"{path}: not in canonical form (run 'gridc fmt --write {path}')")
                status = max(status, EXIT_MODEL)
        elif args.write:
            if pretty != text:
                atomic_write_text(Path(path), pretty)
        else:
            sys.stdout.write(pretty)
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    schema = Model.model_json_schema()
    text = json.dumps(schema, indent=2) + "\n"
    if args.out:
        atomic_write_text(Path(args.out), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


BUILTIN_COMMANDS = ("check", "fmt", "schema")


def build_parser(with_extras: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridc", description="Plan power distribution "
                                     "networks from .grid models.")
    parser.add_argument("--version", "-V", action="version", version=f"gridc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="parse and validate models")
    p.add_argument("files", nargs="+")
    p.add_argument("--emit", choices=["ir"], help="print the validated IR as JSON")
    p.add_argument("--format", choices=["text", "short", "json", "sarif"], default="text",
                   help="how to print diagnostics: text (for people, default), short "
                        "(file:line:col: error: message [CODE], for problem matchers), "
                        "json, sarif (SARIF 2.1.0, for code-scanning tools)")
    add_access_options(p)
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("fmt", help="print models in canonical form")
    p.add_argument("files", nargs="+")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true", help="exit 1 if a file is not canonical")
    g.add_argument("--write", action="store_true", help="rewrite files in place (atomically)")
    add_access_options(p)
    p.set_defaults(func=cmd_fmt)
    p = sub.add_parser("schema", help="print the JSON schema of the IR")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_schema)
    if not with_extras:
        return parser
    _load_extra_commands()
    for name, (helptext, (setup, run)) in list(EXTRA_COMMANDS.items()):
        p = sub.add_parser(name, help=helptext)
        setup(p)
        with contextlib.suppress(argparse.ArgumentError):  # unless it defines it itself
            add_access_options(p)  # every extra command reads a model
        p.set_defaults(func=run)
    return parser


def _load_extra_commands() -> None:
    """Import the command modules that register subcommands (solve, sweep, forecast):
    only when the command needs them, so that check/fmt/schema start without the
    solver stack (seconds of imports)."""
    import importlib

    for mod in ("gridc.cli.solve", "gridc.cli.forecast",
                "gridc.cli.studies", "gridc.cli.plots", "gridc.cli.importer",
                "gridc.cli.evaluate"):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


def _access_problem(allowed: list[str]) -> str | None:
    """A usage error in --allow-path or a limit (GRIDC_MAX_FILE_MB, GRIDC_MAX_GRID_KB,
    GRIDC_MAX_MEMORY_MB, GRIDC_MAX_TABLE_ROWS), if any."""
    try:
        max_file_bytes()
        max_grid_bytes()
        Budget.resolve()
    except ValueError as exc:
        return str(exc)
    for folder in allowed:
        if not Path(folder).expanduser().exists():
            return f"--allow-path {folder}: no such file or directory"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args_list if not a.startswith("-")), None)
    # `check`/`fmt`/`schema` need no solver stack: skip importing it (saves seconds)
    parser = build_parser(with_extras=first not in BUILTIN_COMMANDS)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse: --help (0) or usage error (2)
        return int(exc.code or 0)
    problem = _access_problem(getattr(args, "allow_path", []))
    if problem:
        err_console().print(f"gridc: error: {problem}", markup=False)
        return EXIT_USAGE
    try:
        with granting(getattr(args, "allow_path", [])):
            return _end_now_if_left(int(args.func(args)))
    except GridError as exc:
        return report_grid_error(exc)
    except KeyboardInterrupt:  # before a solve started, or a second Ctrl-C during one
        err_console().print("interrupted: stopped at once (before a solve, or a second "
                            "Ctrl-C); nothing written")
        return _end_now_if_left(130)
    except Exception as exc:  # the last line of defence: never a traceback
        err_console().print(f"internal error: {type(exc).__name__}: {exc}\n"
                            "This is a bug in gridc; please report it with the model file.")
        if "GRIDC_DEBUG" in __import__("os").environ:
            raise
        return EXIT_INTERNAL


def _end_now_if_left(code: int) -> int:
    """After Ctrl-C a HiGHS run may still be ending in its thread (HiGHS does not look at
    the interrupt inside its sub-MIP heuristics: `gridc.runtime.backend.solver`). Its
    result is written and printed already; end the process now with `code` instead of
    waiting for it (the C++ runtime would abort under it at exit)."""
    solver = sys.modules.get("gridc.runtime.backend.solver")
    if solver is not None and solver.left_running():
        sys.stdout.flush()
        sys.stderr.flush()
        __import__("os")._exit(code)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
