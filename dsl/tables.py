"""Tabular data: inline `table { ... }` blocks and CSV files, read into one shape.

Both forms have a header row whose cells are `name` or `name[unit]`, then rows of
cells. Every cell keeps its own span (in the .grid file for inline tables, in the
CSV file for imports) so that a bad number is reported where it was written.
Inline tables separate cells by spaces or tabs; CSV files by commas. `//` and `#`
start comments in both.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from gridc.dsl.diagnostics import Collector
from gridc.dsl.spans import Span

_HEADER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]*)\])?$")

#: A diagnostic quotes at most this many characters of a cell of a data file.
QUOTE_LIMIT = 40


def escape(text: str) -> str:
    """`text` with every non-printable character written as an escape (\\x00, \\t,
    \\x1b, \\u200b), so that a diagnostic never prints control characters."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """A cell as a diagnostic may quote it: escaped, and cut to `limit` characters
    (with '…') when longer."""
    shown = escape(text[: limit + 1])
    return shown if len(shown) <= limit and len(text) <= limit else shown[: limit - 1] + "…"


#: Texts of data-file cells longer than QUOTE_LIMIT, collected while a model is read
#: (see `long_cells`): diagnostics that quote one are shortened before they are shown.
_LONG_CELLS: ContextVar[set[str] | None] = ContextVar("gridc_long_cells", default=None)


@contextmanager
def long_cells() -> Iterator[set[str]]:
    """Collect the long cells of the CSV files read inside the `with` block."""
    found: set[str] = set()
    token = _LONG_CELLS.set(found)
    try:
        yield found
    finally:
        _LONG_CELLS.reset(token)


def _note_long(found: set[str]) -> None:
    sink = _LONG_CELLS.get()
    if sink is not None and found:
        sink.update(found)


def _long_parts(txt: str, found: set[str]) -> None:
    """Remember `txt` and the parts a message may quote on their own (a header's name
    and unit, a reference without its '.0')."""
    found.add(txt)
    if txt.endswith(".0"):
        found.add(txt[:-2])
    m = re.match(r"^([^\[]*)\[([^\]]*)\]", txt)
    if m:
        found.update(part for part in m.groups() if len(part) > QUOTE_LIMIT)


class Cell:
    """One table cell: its text and where it was written.

    The `Span` (a validated pydantic model) is built only when asked for, which is
    rare (a diagnostic, the span of a row): a large CSV file holds hundreds of
    thousands of cells, and building a span for each dominated the reading time.
    """

    __slots__ = ("_span", "col", "end_col", "file", "line", "text")

    def __init__(self, text: str, span: Span | None = None, *, file: str = "",
                 line: int = 1, col: int = 1, end_col: int = 2):
        self.text = text
        self._span = span
        if span is not None:
            file, line, col, end_col = span.file, span.line, span.col, span.end_col
        self.file, self.line, self.col, self.end_col = file, line, col, end_col

    @property
    def span(self) -> Span:
        if self._span is None:
            self._span = Span(file=self.file, line=self.line, col=self.col,
                              end_line=self.line, end_col=self.end_col)
        return self._span

    def __repr__(self) -> str:
        return f"Cell({self.text!r}, {self.file}:{self.line}:{self.col})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cell):
            return NotImplemented
        return (self.text, self.file, self.line, self.col, self.end_col) == \
            (other.text, other.file, other.line, other.col, other.end_col)

    def __hash__(self) -> int:
        return hash((self.text, self.file, self.line, self.col))


def row_span(cells: tuple[Cell, ...] | list[Cell]) -> Span:
    """The span from the first to the last cell of a (non-empty) row."""
    first, last = cells[0], cells[-1]
    return Span(file=first.file, line=first.line, col=first.col, end_line=last.line,
                end_col=last.end_col)


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
    long_cells: frozenset[str] = frozenset()  # cells too long to quote (CSV files)

    def column(self, name: str) -> int | None:
        for i, c in enumerate(self.columns):
            if c.name == name:
                return i
        return None


def _strip_comment(line: str) -> str:
    if "/" in line or "#" in line:
        for marker in ("//", "#"):
            k = line.find(marker)
            if k >= 0:
                line = line[:k]
    return line


_WORD = re.compile(r"[^ \t]+")


def _split(line: str, sep: str | None) -> list[tuple[int, str]]:
    """Cells of one line with their 0-based start offsets."""
    if sep is None:
        return [(m.start(), m.group()) for m in _WORD.finditer(line)]
    out: list[tuple[int, str]] = []
    pos = 0
    for part in line.split(sep):
        stripped = part.strip()
        if len(stripped) == len(part):
            out.append((pos, part))
        else:
            out.append((pos + len(part) - len(part.lstrip()), stripped))
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
    ncols = 0
    long: set[str] = set()
    for k, raw in enumerate(text.split("\n")):
        body = _strip_comment(raw.rstrip("\r"))
        if not body or body.isspace():
            continue
        line_no = line0 + k
        base_col = col0 if k == 0 else 1
        cells = _split(body, sep)
        if sep is not None and len(body) > QUOTE_LIMIT:
            for _, txt in cells:
                if len(txt) > QUOTE_LIMIT:
                    _long_parts(txt, long)
        if not columns:
            for off, txt in cells:
                span = Span(file=file, line=line_no, col=base_col + off, end_line=line_no,
                            end_col=base_col + off + max(1, len(txt)))
                m = _HEADER.match(txt)
                if not m:
                    _note_long(long)
                    diags.error("GRID030", f"bad column header '{quote(txt)}'", span,
                                help="headers are names with an optional unit, "
                                     "e.g. from to r[ohm] x[ohm] rating[kVA]")
                    return None
                columns.append(Column(m.group(1), m.group(2) or None, span))
            ncols = len(columns)
            continue
        row = tuple(Cell(txt, file=file, line=line_no, col=base_col + off,
                         end_col=base_col + off + (len(txt) or 1))
                    for off, txt in cells)
        if len(row) != ncols:
            diags.error("GRID034",
                        f"row has {len(row)} cells but the header has {ncols}",
                        row_span(row), help="header: " + _names(columns))
            continue
        rows.append(row)
    _note_long(long)
    if not columns:
        diags.error("GRID030", "table has no header row", whole,
                    help="the first row names the columns, e.g. from to r[ohm] x[ohm]")
        return None
    return Table(columns=tuple(columns), rows=tuple(rows), span=whole, source=source,
                 long_cells=frozenset(long))


def _names(columns: list[Column], most: int = 12) -> str:
    """The header's column names for a help line (the first `most` of a wide one)."""
    names = [quote(c.name) for c in columns[:most]]
    more = len(columns) - most
    return " ".join(names) + (f" ... ({more} more)" if more > 0 else "")


def parse_inline(token_text: str, span: Span, diags: Collector) -> Table | None:
    """Parse the raw text of a `table { ... }` atom."""
    open_at = token_text.index("{")
    body = token_text[open_at + 1 : -1]
    before = token_text[: open_at + 1]
    line0 = span.line + before.count("\n")
    col0 = span.col + len(before) if "\n" not in before else len(before.rsplit("\n", 1)[1]) + 1
    return read_rows(body, span.file, line0, col0, None, span, "inline", diags)


#: Error-free CSV tables by (display path, text): a model often reads several
#: columns of one profile file, each through its own statement. Tables are immutable,
#: and the key holds the whole text, so a changed file is read afresh. Tables with
#: errors are never kept, so their diagnostics are reported on every load.
_CSV_CACHE: OrderedDict[tuple[str, str], Table] = OrderedDict()
_CSV_CACHE_SIZE = 4


def parse_csv(text: str, file: str, ref_span: Span, source: str,
              diags: Collector) -> Table | None:
    if text.startswith("\ufeff"):  # a byte order mark, as spreadsheets write
        text = text[1:]
    key = (file, text)
    table = _CSV_CACHE.get(key)
    if table is None:
        errors = len(diags.items)
        whole = Span(file=file, line=1, col=1, end_line=1, end_col=2)
        table = read_rows(text, file, 1, 1, ",", whole, source, diags)
        if table is None:
            return None
        if len(diags.items) == errors:
            _CSV_CACHE[key] = table
            while len(_CSV_CACHE) > _CSV_CACHE_SIZE:
                _CSV_CACHE.popitem(last=False)
    else:
        _CSV_CACHE.move_to_end(key)
        _note_long(set(table.long_cells))
    return Table(columns=table.columns, rows=table.rows, span=ref_span, source=source,
                 long_cells=table.long_cells)
