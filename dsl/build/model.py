"""Top level: dispatch statements to builders, follow imports, assemble the Model.

Imports form a graph, not a tree: a file imported from several places (or twice by
one file) is read, parsed and built once per load; its contributions count once.
Every file is opened through the load's `Access` (dsl/access.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridc.dsl import ir
from gridc.dsl.access import Access, Refused
from gridc.dsl.budgets import Budget
from gridc.dsl.build import components, ev, invest, network, studies
from gridc.dsl.build.reader import Context
from gridc.dsl.diagnostics import Collector, did_you_mean
from gridc.dsl.spans import Span
from gridc.dsl.syntax import Document, Stmt, parse_document

#: keyword -> (Model field, builder, single?)
STATEMENTS: dict[str, tuple[str, Callable[[Context, Stmt], Any], bool]] = {
    "horizon": ("horizon", components.build_horizon, True),
    "economics": ("economics", components.build_economics, True),
    "formulation": ("formulation", components.build_formulation, True),
    "network": ("networks", network.build_network, False),
    "profile": ("profiles", components.build_profile, False),
    "load": ("loads", components.build_load, False),
    "generator": ("generators", components.build_generator, False),
    "storage": ("storages", components.build_storage, False),
    "invest": ("investments", invest.build_investment, False),
    "scenarios": ("scenario_sets", studies.build_scenarios, False),
    "penalty": ("penalties", components.build_penalty, False),
    "price": ("prices", components.build_price, False),
    "area": ("areas", ev.build_area, False),
    "fleet": ("fleets", ev.build_fleet, False),
    "travel": ("travel", ev.build_travel, True),
    "station": ("stations", ev.build_station, False),
    "study": ("studies", studies.build_study, False),
    "sweep": ("sweeps", studies.build_sweep, False),
}
KEYWORDS = [*STATEMENTS, "model", "import"]


@dataclass
class Assembly:
    """What the files of one model contribute, in reading order."""

    diags: Collector
    sources: dict[str, str] = field(default_factory=dict)
    fields: dict[str, list[Any]] = field(default_factory=dict)
    singles: dict[str, tuple[Any, Span]] = field(default_factory=dict)
    imports: list[str] = field(default_factory=list)
    header: tuple[str, str, Span] | None = None
    access: Access = field(default_factory=lambda: Access("."))
    budget: Budget = field(default_factory=Budget)
    rows_read: list[int] = field(default_factory=lambda: [0])  # table rows, all files
    #: resolved paths of the .grid files read so far (each is read once)
    done: set[Path] = field(default_factory=set)


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_model(path: str | Path, text: str | None = None, access: Access | None = None,
               budget: Budget | None = None
               ) -> tuple[ir.Model | None, Collector, dict[str, str]]:
    """Parse and build a model and its imports; returns (model or None, diagnostics, sources).
    Files are read through `access` (default: the folder of `path`, GRIDC_ALLOW_PATH),
    tables within `budget` (default: the environment's, see dsl/budgets.py)."""
    p = Path(path)
    asm = Assembly(diags=Collector(), access=access or Access.for_model(p),
                   budget=budget or Budget.resolve())
    _read_file(asm, p, text, stack=[], via=None)
    if asm.diags:
        return None, asm.diags, asm.sources
    name, title, span = asm.header or (p.stem, "", Span(file=display_path(p), line=1, col=1,
                                                          end_line=1, end_col=1))
    data: dict[str, Any] = {k: tuple(v) for k, v in asm.fields.items()}
    for key, (value, _span) in asm.singles.items():
        data[key] = value
    model = ir.Model(span=span, name=name, title=title, path=display_path(p),
                     imports=tuple(asm.imports), sources=asm.sources, **data)
    return model, asm.diags, asm.sources


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL: reading reports it
        return path.absolute()


def _read_file(asm: Assembly, path: Path, text: str | None, stack: list[Path],
               via: Span | None, written: str | None = None) -> None:
    shown = display_path(path)
    real = _resolved(path)
    if text is None:
        got = asm.access.read(path, confined=via is not None, source=True)
        if isinstance(got, Refused):
            where = via or Span(file=shown, line=1, col=1, end_line=1, end_col=1)
            code, message, hint = got.explain(written or shown, shown, "check the path; "
                                              "imports are relative to the importing file")
            asm.diags.error(code, message, where, help=hint)
            return
        real, text = got
    asm.done.add(real)
    asm.sources[shown] = text
    doc = parse_document(text, shown, asm.diags)
    if doc is None:
        return
    ctx = Context(diags=asm.diags, base_dir=path.parent, sources=asm.sources,
                  access=asm.access, budget=asm.budget, rows_read=asm.rows_read)
    _build_document(asm, ctx, doc, path, [*stack, real], is_root=not stack)


def _build_document(asm: Assembly, ctx: Context, doc: Document, path: Path,
                    stack: list[Path], is_root: bool) -> None:
    for st in doc.statements:
        if not st.atoms:
            continue
        key = st.keyword
        if key == "model":
            _header(asm, ctx, st, is_root)
        elif key == "import":
            _import(asm, ctx, st, path, stack)
        elif key in STATEMENTS:
            field_name, builder, single = STATEMENTS[key]
            value = builder(ctx, st)
            if value is None:
                continue
            if single:
                if field_name in asm.singles and is_root:
                    prev = asm.singles[field_name][1]
                    if prev.file == st.span.file:
                        ctx.error("GRID017", f"'{key}' is given twice", st.span,
                                  help=f"the first is at {prev.label()}")
                        continue
                if is_root or field_name not in asm.singles:
                    asm.singles[field_name] = (value, st.span)
            else:
                asm.fields.setdefault(field_name, []).append(value)
        else:
            ctx.error("GRID010", f"unknown statement '{key}'" if key else
                      "a statement must start with a keyword", st.atoms[0].span,
                      help=did_you_mean(key, KEYWORDS, "statements") if key else
                      "statements: " + ", ".join(KEYWORDS))


def _header(asm: Assembly, ctx: Context, st: Stmt, is_root: bool) -> None:
    a = st.atoms
    if len(a) < 2 or a[1].kind != "name" or len(a) > 3 or (len(a) == 3 and a[2].kind != "string"):
        ctx.error("GRID016", "malformed model header", st.span,
                  help='write: model NAME "optional title"')
        return
    if not is_root:
        return  # an imported file's header names that file, not this model
    if asm.header is not None:
        ctx.error("GRID017", "'model' is given twice", st.span,
                  help=f"the first is at {asm.header[2].label()}")
        return
    asm.header = (str(a[1].value), str(a[2].value) if len(a) == 3 else "", st.span)


def _import(asm: Assembly, ctx: Context, st: Stmt, path: Path, stack: list[Path]) -> None:
    a = st.atoms
    if len(a) != 2 or a[1].kind != "string":
        ctx.error("GRID014", "malformed import", st.span, help='write: import "network.grid"')
        return
    written = str(a[1].value)
    target = (path.parent / written)
    real = _resolved(target)
    if real in stack:
        chain = " -> ".join(display_path(p) for p in [*stack, target])
        ctx.error("GRID005", "import cycle", a[1].span, help=chain)
        return
    if real in asm.done:
        return  # already read through another import: its statements count once
    asm.imports.append(written)
    _read_file(asm, target, None, stack, a[1].span, written)
