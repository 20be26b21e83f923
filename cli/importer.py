"""`gridc import SOURCE -o OUT_DIR`: bring your own network (gridc.interop).

    gridc import case33bw -o nets/                       # a pandapower.networks network
    gridc import "create_cigre_network_mv(with_der=False)" -o nets/ --name cigre_mv
    gridc import feeder.m -o nets/ [--format matpower] [--name NAME] [--force]
                 [--rating-margin PCT]
    gridc import grid.json -o nets/                      # pandapower.to_json's file
    gridc import master.dss -o nets/                     # OpenDSS (positive sequence)

Writes OUT_DIR/NAME.grid and its CSV tables, then checks the result as `gridc check`
does and prints what it holds (buses, branches, voltage levels, total load) and any
diagnostic — a part of the network no source feeds (GRID054) among them. Exit codes: 0
written and checked, 1 a source that cannot be imported or a written model with errors,
2 usage errors (an unknown format, files that exist without --force, a reader's library
missing: `pip install 'gridc[import]'`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.table import Table

from gridc.cli.common import (
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    EXTRA_COMMANDS,
    console,
    err_console,
    load_or_report,
)
from gridc.dsl.access import printable_sources
from gridc.dsl.diagnostics import render_all
from gridc.dsl.ir import Model
from gridc.interop import FORMATS, ImportFailure, MissingExtra, import_network


def setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="a MATPOWER .m file, a pandapower JSON file or "
                   "pandapower.networks name (e.g. case33bw, mv_oberrhein, "
                   "'create_cigre_network_mv(with_der=False)'), or an OpenDSS .dss file")
    p.add_argument("-o", "--out", required=True, metavar="OUT_DIR",
                   help="folder for NAME.grid and its CSV tables (created if missing)")
    p.add_argument("--format", choices=FORMATS,
                   help="the source's format (default: from its suffix or name)")
    p.add_argument("--name", help="model name and file stem (default: the source's name)")
    p.add_argument("--force", action="store_true", help="replace files that exist")
    p.add_argument("--rating-margin", type=percent, default=0.0, metavar="PCT",
                   help="write every thermal limit PCT above the source's rating, e.g. 2%% "
                        "(transformers keep their impedance); for a source whose own "
                        "operating point overloads a branch")


def percent(text: str) -> float:
    """`2%` or `0.02`: a non-negative fraction."""
    try:
        value = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a margin (e.g. 2% or 0.02)") from None
    if not 0.0 <= value <= 10.0:
        raise argparse.ArgumentTypeError(f"a margin lies in 0 .. 1000 %, found {text}")
    return value


def run(args: argparse.Namespace) -> int:
    err = err_console()
    try:
        written = import_network(args.source, args.out, format=args.format, name=args.name,
                                 force=args.force, rating_margin=args.rating_margin)
    except MissingExtra as exc:
        err.print(f"gridc import: error: {exc}", markup=False)
        return EXIT_USAGE
    except FileExistsError as exc:
        err.print(f"gridc import: error: would overwrite {exc}; pass --force to replace "
                  "them, or choose another -o folder or --name", markup=False)
        return EXIT_USAGE
    except (ImportFailure, OSError) as exc:
        err.print(f"gridc import: error: {exc}", markup=False)
        return EXIT_MODEL
    out = console()
    out.print(f"wrote {', '.join(str(p) for p in written)}", markup=False)
    model = load_or_report(str(written[0]))  # the checker, as `gridc check` runs it
    if isinstance(model, int):
        return model
    if model.warnings:  # e.g. GRID054: buses no source feeds
        sys.stderr.write(render_all(model.warnings, printable_sources(model.sources),
                                    color=sys.stderr.isatty()) + "\n")
    out.print(summary_table(model, str(written[0])))
    return EXIT_OK


def facts(model: Model) -> dict[str, Any]:
    """What an imported model holds, for the summary (and the tests)."""
    net = model.networks[0]
    kinds = [line.kind for line in net.lines]
    vn = net.bus_vn_kv()
    p = sum(b.p_kw for b in net.buses) + sum(ld.p_kw for ld in model.loads)
    q = sum(b.q_kvar for b in net.buses) + sum(ld.q_kvar for ld in model.loads)
    return {"buses": len(net.buses), "lines": kinds.count("line"),
            "open_lines": sum(1 for ln in net.lines if ln.kind == "line" and ln.normally_open),
            "transformers": kinds.count("transformer"), "switches": kinds.count("switch"),
            "open_switches": sum(1 for ln in net.lines
                                 if ln.kind == "switch" and ln.normally_open),
            "shunts": len(net.shunts), "generators": len(model.generators),
            "levels_kv": sorted(set(vn.values()), reverse=True), "load_kw": p, "load_kvar": q}


def summary_table(model: Model, path: str) -> Table:
    f = facts(model)
    table = Table(title=f"gridc import: {path} (checked: ok)", title_justify="left",
                  show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row("buses", f"{f['buses']:,}")
    table.add_row("lines", f"{f['lines']:,} ({f['open_lines']:,} normally open)")
    table.add_row("transformers", f"{f['transformers']:,}")
    table.add_row("switches", f"{f['switches']:,} ({f['open_switches']:,} normally open)")
    table.add_row("shunts", f"{f['shunts']:,}")
    table.add_row("generators", f"{f['generators']:,}")
    table.add_row("voltage levels", ", ".join(f"{v:g} kV" for v in f["levels_kv"]))
    table.add_row("total load", f"{f['load_kw']:,.1f} kW, {f['load_kvar']:,.1f} kvar")
    table.add_row("next", f"gridc solve {path}")
    return table


EXTRA_COMMANDS["import"] = ("import a network from MATPOWER, pandapower or OpenDSS "
                            "(needs gridc[import])", (setup, run))
