"""Diagnostics: collected errors, rendered rustc-style with a caret under the span.

All problems found in a model are collected first and reported together; only a
`GridError` (carrying every diagnostic) ever leaves `gridc.load`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gridc.dsl.spans import Span

#: Every diagnostic code with a one-line title; docs/errors.md lists the same set
#: (a test keeps the two in step).
CODES: dict[str, str] = {
    "GRID001": "syntax error: unexpected character",
    "GRID002": "syntax error: unexpected token",
    "GRID003": "syntax error: unexpected end of file",
    "GRID004": "file not found or unreadable",
    "GRID005": "import cycle",
    "GRID010": "unknown statement keyword",
    "GRID011": "unknown property",
    "GRID012": "missing required property",
    "GRID013": "property given twice",
    "GRID014": "wrong kind of value",
    "GRID015": "unknown kind",
    "GRID016": "statement expects a name",
    "GRID017": "statement given twice",
    "GRID020": "unknown unit",
    "GRID021": "unit of the wrong dimension",
    "GRID022": "missing unit",
    "GRID023": "value out of range",
    "GRID024": "range bounds out of order",
    "GRID025": "line joins buses of different nominal voltage",
    "GRID030": "malformed table or CSV",
    "GRID031": "table or CSV cell is not a number",
    "GRID032": "unknown table or CSV column",
    "GRID033": "missing table or CSV column",
    "GRID034": "table or CSV row has the wrong number of cells",
    "GRID040": "duplicate identifier",
    "GRID041": "unknown reference",
    "GRID042": "scenario probabilities do not sum to 1",
    "GRID043": "profile length does not match the horizon",
    "GRID044": "network is not connected",
    "GRID045": "study extends itself (cycle)",
    "GRID046": "line connects a bus to itself",
    "GRID047": "time window outside the horizon",
    "GRID048": "invalid override path",
    "GRID049": "inconsistent model",
    "GRID050": "construct not supported by the compiler yet",
    "GRID051": "model too large for the memory budget",
    "GRID052": "table or CSV file has too many rows",
    "GRID053": "fixed plan does not fit its investment",
    "GRID054": "bus not fed by any source in the normal switch state",
    "GRID059": "too many errors",
    "GRID060": "file outside the model's folder",
    "GRID061": "not a regular file",
    "GRID062": "file too large",
    "GRID070": "line is both a reinforcement candidate and a topology decision",
    "GRID071": "construct needs another power-flow formulation",
    "GRID072": "statement does not shape the model",
    "GRID073": "scenario set cannot be combined with stations",
    "GRID074": "investment outside the strategy's plan space",
    "GRID075": "statement conflicts with the study's objective",
    "GRID076": "radial network impossible: lines always closed form a loop",
}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    help: str | None = None
    notes: tuple[str, ...] = ()
    severity: str = "error"  # or "warning": shown, but the model still loads

    def __post_init__(self) -> None:
        if self.code not in CODES:  # pragma: no cover - programming error
            raise ValueError(f"unregistered diagnostic code {self.code}")


class GridError(Exception):
    """The only exception `gridc.load` raises for a bad model: it carries every
    diagnostic found and the source texts needed to render them."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]):
        self.diagnostics = sorted(
            diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.col, d.code)
        )
        self.sources = dict(sources)
        super().__init__(render_all(self.diagnostics, self.sources, color=False))


@dataclass
class Collector:
    """Accumulates diagnostics during parsing and checking."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        code: str,
        message: str,
        span: Span,
        help: str | None = None,
        notes: Iterable[str] = (),
    ) -> None:
        self.items.append(Diagnostic(code, message, span, help, tuple(notes)))

    def warning(self, code: str, message: str, span: Span, help: str | None = None,
                notes: Iterable[str] = ()) -> None:
        """A finding that does not stop the model (carried on `Model.warnings`)."""
        self.items.append(Diagnostic(code, message, span, help, tuple(notes), "warning"))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def __bool__(self) -> bool:
        """True when there is an error (warnings alone do not stop a model)."""
        return any(d.severity == "error" for d in self.items)


def did_you_mean(word: str, choices: Iterable[str], what: str = "") -> str:
    """A help line suggesting the closest valid choices, or listing them."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if not options:
        return f"no {what or 'names'} are defined here"
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f"valid {what or 'choices'}: {shown}"


_RED = "\x1b[1;31m"
_BLUE = "\x1b[1;34m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


def render(diag: Diagnostic, sources: Mapping[str, str], color: bool = False) -> str:
    """Render one diagnostic: header, source line, caret, help and notes."""

    def paint(text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if color else text

    span = diag.span
    header = (
        f"{span.file}:{span.line}:{span.col}: "
        + paint(f"{diag.severity}[{diag.code}]", _RED)
        + ": "
        + paint(diag.message, _BOLD)
    )
    out = [header]
    text = sources.get(span.file)
    if text is not None:
        lines = text.splitlines()
        if 1 <= span.line <= len(lines):
            src = lines[span.line - 1].expandtabs(1)
            gutter = str(span.line)
            pad = " " * len(gutter)
            if span.end_line == span.line and span.end_col > span.col:
                width = span.end_col - span.col
            else:
                width = max(1, len(src) - span.col + 1)
            width = max(1, min(width, max(1, len(src) - span.col + 1)))
            out.append(paint(f"{pad} |", _BLUE))
            out.append(paint(f"{gutter} | ", _BLUE) + src)
            out.append(paint(f"{pad} | ", _BLUE) + " " * (span.col - 1) + paint("^" * width, _RED))
    if diag.help:
        out.append(paint("help", _BOLD) + ": " + diag.help)
    for note in diag.notes:
        out.append(paint("note", _BOLD) + ": " + note)
    return "\n".join(out)


def render_all(
    diagnostics: Iterable[Diagnostic], sources: Mapping[str, str], color: bool = False
) -> str:
    diags = list(diagnostics)
    body = "\n\n".join(render(d, sources, color) for d in diags)
    n = sum(d.severity == "error" for d in diags)
    warned = len(diags) - n
    summary = f"{n} error{'s' if n != 1 else ''} found"
    if warned:
        summary = (f"{warned} warning{'s' if warned != 1 else ''}" if not n
                   else f"{summary}, {warned} warning{'s' if warned != 1 else ''}")
    return f"{body}\n\n{summary}" if body else summary
