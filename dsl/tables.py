"""Tabular data: inline `table { ... }` blocks and CSV files, read into one shape.

Both forms have a header row whose cells are `name` or `name[unit]`, then rows of
cells. Every cell keeps its own span (in the .grid file for inline tables, in the
CSV file for imports) so that a bad number is reported where it was written.
Inline tables separate cells by spaces or tabs; CSV files by commas. `//` and `#`
start comments in both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gridc.dsl.diagnostics import Collector
from gridc.dsl.spans import Span

_HEADER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]*)\])?$")


@dataclass(frozen=True)
class Cell:
    text: str
    span: Span


@dataclass(frozen=True)
class Column:
    name: str
    unit: str | None
    span: Span


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    span: Span
    source: str  # "inline" or the CSV path as written

    def column(self, name: str) -> int | None:
        for i, c in enumerate(self.columns):
            if c.name == name:
                return i
        return None


def _strip_comment(line: str) -> str:
    for marker in ("//", "#"):
        k = line.find(marker)
        if k >= 0:
            line = line[:k]
    return line


def _split(line: str, sep: str | None) -> list[tuple[int, str]]:
    """Cells of one line with their 0-based start offsets."""
    out: list[tuple[int, str]] = []
    if sep is None:
        for m in re.finditer(r"[^ \t]+", line):
            out.append((m.start(), m.group()))
        return out
    pos = 0
    for part in line.split(sep):
        stripped = part.strip()
        lead = len(part) - len(part.lstrip())
        out.append((pos + lead, stripped))
        pos += len(part) + 1
    return out


def read_rows(
    text: str,
    file: str,
    line0: int,
    col0: int,
    sep: str | None,
    whole: Span,
    source: str,
    diags: Collector,
) -> Table | None:
    """Read header and rows from `text`, whose first character sits at (line0, col0)."""
    columns: list[Column] = []
    rows: list[tuple[Cell, ...]] = []
    for k, raw in enumerate(text.split("\n")):
        line_no = line0 + k
        base_col = col0 if k == 0 else 1
        body = _strip_comment(raw.rstrip("\r"))
        if not body.strip():
            continue
        cells = _split(body, sep)
        spans = [
            Span(file=file, line=line_no, col=base_col + off, end_line=line_no,
                 end_col=base_col + off + max(1, len(txt)))
            for off, txt in cells
        ]
        if not columns:
            for (_, txt), span in zip(cells, spans):
                m = _HEADER.match(txt)
                if not m:
                    diags.error("GRID030", f"bad column header '{txt}'", span,
                                help="headers are names with an optional unit, "
                                     "e.g. from to r[ohm] x[ohm] rating[kVA]")
                    return None
                columns.append(Column(m.group(1), m.group(2) or None, span))
            continue
        if len(cells) != len(columns):
            span = spans[0].to(spans[-1])
            diags.error("GRID034",
                        f"row has {len(cells)} cells but the header has {len(columns)}",
                        span, help="header: " + " ".join(c.name for c in columns))
            continue
        rows.append(tuple(Cell(txt, sp) for (_, txt), sp in zip(cells, spans)))
    if not columns:
        diags.error("GRID030", "table has no header row", whole,
                    help="the first row names the columns, e.g. from to r[ohm] x[ohm]")
        return None
    return Table(columns=tuple(columns), rows=tuple(rows), span=whole, source=source)


def parse_inline(token_text: str, span: Span, diags: Collector) -> Table | None:
    """Parse the raw text of a `table { ... }` atom."""
    open_at = token_text.index("{")
    body = token_text[open_at + 1 : -1]
    before = token_text[: open_at + 1]
    line0 = span.line + before.count("\n")
    col0 = span.col + len(before) if "\n" not in before else len(before.rsplit("\n", 1)[1]) + 1
    return read_rows(body, span.file, line0, col0, None, span, "inline", diags)


def parse_csv(text: str, file: str, ref_span: Span, source: str,
              diags: Collector) -> Table | None:
    whole = Span(file=file, line=1, col=1, end_line=1, end_col=2)
    table = read_rows(text, file, 1, 1, ",", whole, source, diags)
    if table is None:
        return None
    return Table(columns=table.columns, rows=table.rows, span=ref_span, source=source)
