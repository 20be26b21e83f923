"""`gridc plot OUT` and `gridc report OUT`: pictures of a solved model and a one-file report.

    gridc plot OUT [--what map,dispatch,mess,costs,stations,ac,forecast] [--format png|svg]
                   [--scenario S] [--time H] [--dir DIR] [--dpi N] [--model FILE]
    gridc report OUT [-o FILE] [--format svg|png] [--scenario S] [--time H] [--model FILE]

OUT is a folder written by `gridc solve --out OUT` (summary.json and solution.nc), or by
`--all-studies` / `gridc sweep` (one such folder per study or case). `plot` writes one
file per picture to DIR (default OUT/plots; OUT/plots/<case>/ per case, and the studies
side by side as OUT/plots/comparison.*); `report` writes one self-contained HTML file
(default OUT/report.html) with the headline, the plan and cost tables as the terminal
prints them, every picture and the model's own title and comments. `gridc solve --plot`
draws the pictures of the result it has just written.

The pictures are `gridc.viz`'s; the EV forecast picture is `gridc forecast --plot`'s
own (`gridc.cli.forecast`), drawn again from the model. Exit codes: 0 written, 1 a result
that cannot be read (a mismatched pair), 2 usage errors — among them matplotlib missing
(`pip install 'gridc[plot]'`), a folder that holds no result, an unknown scenario or an
hour outside the horizon.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path
from typing import Any, cast

from rich.console import Console
from rich.table import Table
from rich.text import Text

from gridc.cli.common import (
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    EXTRA_COMMANDS,
    GRANTED,
    console,
    err_console,
)
from gridc.runtime.ioutil import atomic_write, atomic_write_text
from gridc.viz.figures import KINDS, Drawn, draw_case, draw_comparison, step_of
from gridc.viz.result import Case, ResultError, model_comments, open_result
from gridc.viz.style import FORMATS, close, missing, render

FORECAST_NEEDS = ("areas", "fleets", "travel")


def _kinds(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in (*KINDS, "all")]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown picture {', '.join(bad) or repr(text)} (choose from "
            f"{', '.join(KINDS)} or all, comma-separated)")
    return list(KINDS) if "all" in names else names


def _hour(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(?::\s*(\d{1,2}))?\s*(?:h)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"'{text}' is not an hour of the day (e.g. 17, "
                                         "17.5 or 17:30)")
    return float(m.group(1)) + (float(m.group(2)) / 60.0 if m.group(2) else 0.0)


def _view_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="FILE",
                   help="the .grid model, when it is not where the solve read it (the "
                        "path in summary.json, from this folder or beside OUT)")
    p.add_argument("--scenario", metavar="S",
                   help="draw the map for one scenario (default: worst over all)")
    p.add_argument("--time", type=_hour, metavar="H",
                   help="draw the map at one hour of the day, e.g. 17 or 17:30")


def setup_plot(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="OUT",
                   help="folder written by gridc solve --out (or --all-studies, sweep)")
    p.add_argument("--what", type=_kinds, metavar="LIST",
                   help=f"pictures, comma-separated: {', '.join(KINDS)} "
                        "(default: every one that applies)")
    p.add_argument("--format", choices=FORMATS, default="png", help="file format")
    _view_options(p)
    p.add_argument("--dir", metavar="DIR", help="where to write (default: OUT/plots)")
    p.add_argument("--dpi", type=int, default=110, help="resolution of PNG files")


def setup_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="OUT",
                   help="folder written by gridc solve --out (or --all-studies, sweep)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="the HTML file to write (default: OUT/report.html)")
    p.add_argument("--format", choices=FORMATS, default="svg",
                   help="how pictures are embedded (svg: sharp in print; png: smaller "
                        "for large networks)")
    _view_options(p)


# ---------------------------------------------------------------------- shared steps


def _open(out: str, model: str | None = None) -> list[Case] | int:
    """The cases of OUT, or the exit code after saying why not."""
    why = missing()
    if why:
        err_console().print(f"error: {why}", markup=False)
        return EXIT_USAGE
    try:
        return open_result(out, allow=list(GRANTED), model=model)
    except ResultError as exc:
        err_console().print(f"error: {exc}", markup=False)
        return EXIT_USAGE if exc.usage else EXIT_MODEL


def _view(cases: list[Case], args: argparse.Namespace) -> tuple[str | None, int | None] | int:
    """--scenario and --time checked against every case: (scenario, step) or exit 2."""
    scenario, hour = args.scenario, args.time
    for case in cases:
        if scenario is not None and scenario not in case.scenarios:
            err_console().print(f"error: no scenario '{scenario}' in {case.folder} (its "
                                f"scenarios: {', '.join(case.scenarios) or 'none'})",
                                markup=False)
            return EXIT_USAGE
        if hour is not None:
            try:
                step_of(case, hour)
            except ValueError as exc:
                err_console().print(f"error: --time: {exc} in {case.folder}", markup=False)
                return EXIT_USAGE
    step = step_of(cases[0], hour) if hour is not None else None
    return scenario, step


def _forecast_of(case: Case) -> tuple[Any, str]:
    """The EV forecast of a model with an area, fleets and a travel model (the one the
    solve used: same days and seed), or None and why not."""
    model = case.model
    if model is None:
        return None, f"EV forecast: {case.model_note or 'model not found'}"
    if not (model.areas and model.fleets and model.travel):
        return None, "EV forecast: the model has no EV area, fleets and travel model"
    from gridc.data.ev_forecast import ForecastError, forecast

    try:
        return forecast(model), ""
    except ForecastError as exc:
        return None, f"EV forecast: cannot forecast: {exc}"


def _forecast_picture(case: Case, fc: Any, fmt: str) -> bytes:
    """`gridc forecast --plot`'s picture (its own code), as bytes."""
    from gridc.cli.forecast import _plot

    assert case.model is not None
    with tempfile.TemporaryDirectory(prefix="gridc-forecast-") as tmp:
        path = Path(tmp) / f"forecast.{fmt}"
        _plot(fc, case.model, path)
        return path.read_bytes()


def _draw(case: Case, kinds: list[str], scenario: str | None, step: int | None
          ) -> tuple[list[Drawn], Any, str]:
    wants_fc = "forecast" in kinds or "stations" in kinds
    fc, why = _forecast_of(case) if wants_fc else (None, "")
    drawn = draw_case(case, kinds, scenario, step, forecast=fc)
    return drawn, fc, why


# ---------------------------------------------------------------------- gridc plot


def write_plots(cases: list[Case], kinds: list[str], fmt: str, folder: Path,
                scenario: str | None = None, step: int | None = None, dpi: int = 110,
                out: Console | None = None) -> int:
    """Draw and write every picture; the number of files written."""
    out = out or console()
    written = 0
    several = len(cases) > 1

    def save(path: Path, data: bytes) -> None:
        nonlocal written
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
        out.print(f"wrote {path}", markup=False, highlight=False)
        written += 1

    for case in cases:
        where = folder / case.name if several else folder
        drawn, fc, why = _draw(case, kinds, scenario, step)
        for d in drawn:
            if d.figure is None:
                out.print(f"{case.label}: {d.kind} not drawn: {d.skipped}", markup=False)
                continue
            try:
                save(where / f"{d.name}.{fmt}", render(d.figure, fmt, dpi))
            finally:
                close(d.figure)
        if "forecast" in kinds:
            if fc is None:
                out.print(f"{case.label}: forecast not drawn: {why}", markup=False)
            else:
                save(where / f"forecast.{fmt}", _forecast_picture(case, fc, fmt))
    if several and "costs" in kinds:
        d = draw_comparison(cases)
        try:
            save(folder / f"{d.name}.{fmt}", render(d.figure, fmt, dpi))
        finally:
            close(d.figure)
    return written


def run_plot(args: argparse.Namespace) -> int:
    cases = _open(args.out, args.model)
    if isinstance(cases, int):
        return cases
    view = _view(cases, args)
    if isinstance(view, int):
        return view
    if args.dpi < 20 or args.dpi > 1200:
        err_console().print("error: --dpi must lie between 20 and 1200")
        return EXIT_USAGE
    kinds = args.what or list(KINDS)
    folder = Path(args.dir) if args.dir else Path(args.out) / "plots"
    try:
        n = write_plots(cases, kinds, args.format, folder, *view, dpi=args.dpi)
    except OSError as exc:
        err_console().print(f"error: cannot write pictures: {exc}", markup=False)
        return EXIT_USAGE
    if not n:
        console().print("nothing to draw: every picture asked for is skipped (see above)")
    return EXIT_OK


def plot_after_solve(out_dir: str) -> int:
    """`gridc solve --plot`: every picture of the result just written to `out_dir`."""
    cases = _open(out_dir)
    if isinstance(cases, int):
        return cases
    try:
        write_plots(cases, list(KINDS), "png", Path(out_dir) / "plots")
    except OSError as exc:
        err_console().print(f"error: cannot write pictures: {exc}", markup=False)
        return EXIT_USAGE
    return EXIT_OK


# ---------------------------------------------------------------------- gridc report


class _Capture:
    """Collects what the terminal views print (rich tables), to lay them out in HTML."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def print(self, *objects: Any, **_: Any) -> None:
        self.items.extend(objects)


def _plain(cell: Any) -> str:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        try:
            return Text.from_markup(cell).plain
        except Exception:  # not rich markup after all: keep it as written
            return cell
    return str(cell)


def table_data(table: Table) -> Any:
    """A rich Table (a terminal view) as plain rows for the report."""
    from gridc.viz.report import TableData

    cols = table.columns
    cells = [[_plain(c) for c in col.cells] for col in cols]
    rows = [list(r) for r in zip(*cells)] if cells else []
    header = [_plain(c.header) for c in cols] if table.show_header else None
    ends = {k for k, r in enumerate(table.rows) if r.end_section}
    return TableData(_plain(table.title or ""), header, rows, ends)


def _views(summary: dict[str, Any]) -> list[Any]:
    from gridc.cli.views import print_summary

    cap = _Capture()
    print_summary(cast(Console, cap), summary)
    return [table_data(t) for t in cap.items if isinstance(t, Table)]


def build_report(cases: list[Case], fmt: str, scenario: str | None, step: int | None,
                 source: str) -> str:
    from gridc.viz.report import CaseSection, FigureData, ReportDoc, headline, render_html

    first = cases[0]
    several = len(cases) > 1
    study = first.summary.get("study") or first.ds.attrs.get("study") or ""
    subtitle = (f"{len(cases)} results side by side" if several
                else f"study {study}" if study else "the model's default study")
    doc = ReportDoc(title=first.title, subtitle=f"{first.summary.get('model', '')}: {subtitle}",
                    comments=model_comments(first), source=source)
    if several:
        from gridc.cli.plan_views import studies_table

        doc.overview_tables.append(table_data(studies_table(
            [c.summary for c in cases], [c.label for c in cases], "studies side by side")))
        d = draw_comparison(cases)
        try:
            doc.overview_figures.append(FigureData("compare", d.caption, fmt,
                                                   render(d.figure, fmt)))
        finally:
            close(d.figure)
    for case in cases:
        section = CaseSection(anchor=re.sub(r"[^A-Za-z0-9_-]", "-", case.label) or "result",
                              title=case.label, headline=headline(case),
                              tables=_views(case.summary))
        drawn, fc, why = _draw(case, list(KINDS), scenario, step)
        for d in drawn:
            if d.figure is None:
                section.notes.append(f"{d.kind}: {d.skipped}")
                continue
            try:
                section.figures.append(FigureData(d.kind, d.caption, fmt, render(d.figure, fmt)))
            finally:
                close(d.figure)
        if fc is not None:
            section.figures.append(FigureData("forecast", "EV load forecast (as gridc forecast "
                                              "--plot draws it)", fmt,
                                              _forecast_picture(case, fc, fmt)))
        elif why and "no EV area" not in why and case.model is not None:
            section.notes.append(why)
        if case.model_note:
            section.notes.append(case.model_note)
        section.notes = list(dict.fromkeys(section.notes))
        doc.cases.append(section)
    return render_html(doc)


def run_report(args: argparse.Namespace) -> int:
    cases = _open(args.out, args.model)
    if isinstance(cases, int):
        return cases
    view = _view(cases, args)
    if isinstance(view, int):
        return view
    target = Path(args.output) if args.output else Path(args.out) / "report.html"
    if target.is_dir():
        err_console().print(f"error: -o {target} is a folder; give the HTML file to write",
                            markup=False)
        return EXIT_USAGE
    text = build_report(cases, args.format, *view, source=str(args.out))
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        err_console().print(f"error: cannot write {target}: {exc}", markup=False)
        return EXIT_USAGE
    console().print(f"wrote {target} ({len(text.encode('utf-8')) / 1e6:.1f} MB, "
                    f"{len(cases)} result{'s' if len(cases) > 1 else ''})", markup=False)
    return EXIT_OK


def _register() -> None:
    plot: Any = (setup_plot, run_plot)
    report: Any = (setup_report, run_report)
    EXTRA_COMMANDS["plot"] = ("draw pictures of a solved model (needs gridc[plot])", plot)
    EXTRA_COMMANDS["report"] = ("write a one-file HTML report of a solved model", report)


_register()


# ---------------------------------------------------------------------- gridc solve --plot


def add_plot_option(p: argparse.ArgumentParser) -> None:
    """`--plot` on `gridc solve`."""
    p.add_argument("--plot", action="store_true",
                   help="with --out, also draw every picture of the result to OUT/plots "
                        "(as gridc plot OUT; needs matplotlib: pip install 'gridc[plot]')")


def with_plots(run: Any) -> Any:
    """`run` (gridc solve) followed by `gridc plot OUT` when --plot is given: refused
    before anything is solved without --out or without matplotlib (exit 2); drawn only
    after a run that wrote its results (exit 0)."""
    def solve_then_plot(args: argparse.Namespace) -> int:
        if getattr(args, "plot", False):
            why = None if args.out else "--plot draws the result written to --out: give --out"
            why = why or missing()
            if why:
                err_console().print(f"error: {why}", markup=False)
                return EXIT_USAGE
        code = int(run(args))
        if not getattr(args, "plot", False):
            return code
        if code != EXIT_OK:
            console().print("--plot: nothing drawn (the solve did not finish cleanly)")
            return code
        return plot_after_solve(args.out)

    return solve_then_plot
