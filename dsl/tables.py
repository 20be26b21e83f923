"""Tabular data: inline `table { ... }` blocks and CSV files, read into one shape.

Both forms have a header row whose cells are `name` or `name[unit]`, then rows of
cells. Inline tables separate cells by spaces or tabs; CSV files are read with the
standard `csv` module (commas, RFC 4180 quoting: `"a, b"` is one cell). `//` and `#`
start comments in both (outside quotes).

A CSV file can be tens of MiB, so its rows are not kept as Python objects: a `Table`
keeps the text and, per row, the number of the line it ends on (8 bytes), and hands
out the cells of one row at a time (`Table.rows`, parsed again by `csv` each time); a
cell's column is found again only when a diagnostic needs it (`Table.cell`). Reading
a profile's file into numbers peaks at about 8.5 times the file, most of it the
numbers themselves (tests/test_budgets.py; it was 110 times when every cell was an
object), and no more than `max_rows` rows are read (GRID052).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from array import array
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
#: Problems of one kind reported per table (row lengths, bad cells); the rest are
#: counted in one last diagnostic, so a broken file of a million rows costs no more.
MAX_REPORTED = 20


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


def _note_long(found: set[str] | frozenset[str]) -> None:
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
    """One table cell: its text and where it was written (the `Span`, a validated
    pydantic model, is built only when asked for: most cells never need one)."""

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


class _InlineRows:
    """The rows of a `table { ... }` block (a .grid file's few rows): kept as cells."""

    def __init__(self, rows: list[tuple[Cell, ...]]):
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def texts(self, strip: bool = True) -> Iterator[list[str]]:
        for row in self._rows:
            yield [c.text for c in row]

    def cell(self, row: int, col: int) -> Cell:
        return self._rows[row][col]

    def row_span(self, row: int) -> Span:
        return row_span(self._rows[row])


class _CsvRows:
    """The rows of a CSV file: its text and the line each row ends on (its only line
    but for a quoted cell that spans lines). Cells are parsed again (with `csv`) each
    time they are read; line offsets are computed when a diagnostic first needs one."""

    def __init__(self, text: str, file: str, row_lines: array, starts: array | None = None,
                 dense_after: int | None = None):
        self._text = text
        self._file = file
        self._rows = row_lines  # line number of each row
        self._starts = starts
        #: the header's line when every line after it is a row (no blank, comment or
        #: bad line): the rows are then read without looking at their line numbers
        self._dense_after = dense_after

    def __len__(self) -> int:
        return len(self._rows)

    def texts(self, strip: bool = True) -> Iterator[list[str]]:
        """The cells of each row that `read_csv` kept, in order (stripped of blanks
        unless `strip` is False: `float` ignores them anyway)."""
        if self._dense_after is not None and not strip and self._rows:
            reader = csv.reader(_clean_lines(self._text))
            return itertools.islice(reader, self._dense_after, None)
        return self._kept(strip)

    def _kept(self, strip: bool) -> Iterator[list[str]]:
        wanted, n = self._rows, len(self._rows)
        if not n:
            return
        reader = csv.reader(_clean_lines(self._text))
        j = 0
        for row in reader:
            if reader.line_num == wanted[j]:
                yield [c.strip() for c in row] if strip else row
                j += 1
                if j == n:
                    return

    def line_text(self, line: int) -> str:
        if self._starts is None:
            self._starts = _line_starts(self._text)
        return _line_of(self._text, self._starts, line)

    def cell(self, row: int, col: int) -> Cell:
        line = self._rows[row]
        text = self.line_text(line)
        found = _cell_offsets(text)
        start, end = found[col] if col < len(found) else (0, 0)
        return Cell(text[start:end] if end > start else "", file=self._file, line=line,
                    col=start + 1, end_col=max(end, start + 1) + 1)

    def row_span(self, row: int) -> Span:
        line = self._rows[row]
        width = len(_strip_comment(self.line_text(line)).rstrip())
        return Span(file=self._file, line=line, col=1, end_line=line, end_col=max(2, width + 1))


class Table:
    """A header and its rows. `rows()` yields the cell texts of each row in order;
    `cell(i, j)` and `row_span(i)` give spans for diagnostics (built on demand)."""

    def __init__(self, columns: tuple[Column, ...], body: _InlineRows | _CsvRows,
                 span: Span, source: str, long_cells: frozenset[str] = frozenset()):
        self.columns = columns
        self._body = body
        self.span = span
        self.source = source  # "inline" or the CSV path as written
        self.long_cells = long_cells  # cells too long to quote (CSV files)

    def __len__(self) -> int:
        return len(self._body)

    def rows(self, strip: bool = True) -> Iterator[list[str]]:
        return self._body.texts(strip)

    def cell(self, row: int, col: int) -> Cell:
        return self._body.cell(row, col)

    def row_span(self, row: int) -> Span:
        return self._body.row_span(row)

    def column(self, name: str) -> int | None:
        for i, c in enumerate(self.columns):
            if c.name == name:
                return i
        return None

    def named(self, span: Span, source: str) -> Table:
        """The same rows, referred to from `span` as `source`."""
        return Table(self.columns, self._body, span, source, self.long_cells)


def _strip_comment(line: str) -> str:
    """`line` without its `//` or `#` comment (a marker inside double quotes is text)."""
    if "/" not in line and "#" not in line:
        return line
    if '"' not in line:
        for marker in ("//", "#"):
            k = line.find(marker)
            if k >= 0:
                line = line[:k]
        return line
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif not quoted and (ch == "#" or (ch == "/" and line.startswith("//", i))):
            return line[:i]
    return line


def _clean_lines(text: str) -> Iterator[str]:
    """The lines of `text` without comments: one string per physical line (so a csv
    reader's `line_num` is the file's line number; a comment line reads as empty).
    A text without comment markers is handed over as it is (twice as fast)."""
    lines = io.StringIO(text, newline="\n")
    if "#" not in text and "//" not in text:
        return lines
    return (_strip_comment(raw.rstrip("\r\n")) for raw in lines)


def _cell_offsets(line: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a CSV line, 0-based, surrounding blanks and quotes
    excluded (for carets; the cells' values come from `csv`)."""
    body = _strip_comment(line)
    out: list[tuple[int, int]] = []
    i, n = 0, len(body)
    while True:
        start = i
        quoted = False
        while i < n and (quoted or body[i] != ","):
            if body[i] == '"':
                quoted = not quoted
            i += 1
        a, b = start, i
        while a < b and body[a] in " \t":
            a += 1
        while b > a and body[b - 1] in " \t":
            b -= 1
        if b - a >= 2 and body[a] == '"' and body[b - 1] == '"':
            a, b = a + 1, b - 1
        out.append((a, b))
        if i >= n:
            return out
        i += 1


_WORD = re.compile(r"[^ \t]+")

#: other separators a spreadsheet may have saved, as a diagnostic names them
_OTHER_SEPARATORS = {";": "semicolons (;)", "\t": "tabs", "|": "vertical bars (|)"}


def _header(cells: list[tuple[int, str]], file: str, line_no: int, base_col: int,
            diags: Collector, long: set[str]) -> list[Column] | None:
    columns: list[Column] = []
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
    return columns


def _too_many_rows(diags: Collector, source: str, where: Span, max_rows: int,
                   total: int | None) -> None:
    """GRID052: more than `max_rows` rows, which is what is left of the `total` rows a
    model's tables may hold in all (None: the limit of one profile's file)."""
    if total is None:
        what = f"more than {max_rows:,} rows, the most a profile's file may hold"
    elif max_rows < total:
        what = (f"more than the {max_rows:,} rows left of the {total:,} rows the tables of "
                "a model may hold in all")
    else:
        what = f"more than {max_rows:,} rows, the most the tables of a model may hold"
    diags.error("GRID052", f"'{quote(source)}' holds {what}", where,
                help="check that the file is the one meant; raise the limit with "
                     "GRIDC_MAX_TABLE_ROWS=N (or gridc.load(path, max_table_rows=N)) if the "
                     "network is that large; see docs/untrusted-models.md")


def parse_inline(token_text: str, span: Span, diags: Collector,
                 max_rows: int | None = None, total: int | None = None) -> Table | None:
    """Parse the raw text of a `table { ... }` atom (cells separated by blanks)."""
    open_at = token_text.index("{")
    body = token_text[open_at + 1: -1]
    before = token_text[: open_at + 1]
    line0 = span.line + before.count("\n")
    col0 = span.col + len(before) if "\n" not in before else len(before.rsplit("\n", 1)[1]) + 1
    columns: list[Column] | None = None
    rows: list[tuple[Cell, ...]] = []
    bad = 0
    for k, raw in enumerate(body.split("\n")):
        text = _strip_comment(raw.rstrip("\r"))
        if not text or text.isspace():
            continue
        line_no = line0 + k
        base_col = col0 if k == 0 else 1
        cells = [(m.start(), m.group()) for m in _WORD.finditer(text)]
        if columns is None:
            columns = _header(cells, span.file, line_no, base_col, diags, set())
            if columns is None:
                return None
            continue
        if max_rows is not None and len(rows) >= max_rows:
            _too_many_rows(diags, "table", span, max_rows, total)
            return None
        row = tuple(Cell(txt, file=span.file, line=line_no, col=base_col + off,
                         end_col=base_col + off + len(txt)) for off, txt in cells)
        if len(row) != len(columns):
            bad += 1
            _wrong_width(diags, bad, len(row), columns, row_span(row))
            continue
        rows.append(row)
    if columns is None:
        diags.error("GRID030", "table has no header row", span,
                    help="the first row names the columns, e.g. from to r[ohm] x[ohm]")
        return None
    _more_wrong_widths(diags, bad, span)
    return Table(tuple(columns), _InlineRows(rows), span, "inline")


def _wrong_width(diags: Collector, bad: int, found: int, columns: list[Column],
                 where: Span, hint: str = "") -> None:
    if bad <= MAX_REPORTED:
        diags.error("GRID034", f"row has {found} cells but the header has {len(columns)}",
                    where, help="header: " + _names(columns) + hint)


def _more_wrong_widths(diags: Collector, bad: int, where: Span) -> None:
    if bad > MAX_REPORTED:
        diags.error("GRID034", f"{bad - MAX_REPORTED:,} more rows have the wrong number of "
                    f"cells (the first {MAX_REPORTED} are shown)", where)


def _names(columns: list[Column], most: int = 12) -> str:
    """The header's column names for a help line (the first `most` of a wide one)."""
    names = [quote(c.name) for c in columns[:most]]
    more = len(columns) - most
    return " ".join(names) + (f" ... ({more} more)" if more > 0 else "")


def _line_starts(text: str) -> array:
    """The offset of every line of `text` (8 bytes a line)."""
    starts = array("q", [0])
    find, pos = text.find, text.find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return starts


def _line_of(text: str, starts: array, line: int) -> str:
    """Line `line` (from 1) of `text`, whose line offsets are `starts`."""
    start = starts[line - 1]
    end = text.find("\n", start)
    return text[start: len(text) if end < 0 else end]


def _separator(header: str) -> str | None:
    """What separates the cells of a header read as one cell, if not a comma."""
    for sep, name in _OTHER_SEPARATORS.items():
        if sep in header:
            return name
    return None


def read_csv(text: str, file: str, ref_span: Span, source: str, diags: Collector,
             max_rows: int, total: int | None = None) -> Table | None:
    """Read the header and check every row of a CSV text (cell counts, the row limit);
    the rows are kept as line numbers, their cells are read again when used."""
    whole = Span(file=file, line=1, col=1, end_line=1, end_col=2)
    rows = array("q")
    columns: list[Column] | None = None
    long: set[str] = set()
    bad = 0
    hidden = whole
    dense = True  # every line after the header is a row
    starts: array | None = None  # line offsets, once a row needs quoting
    reader = csv.reader(_clean_lines(text))
    try:
        for cells in reader:  # the header: the first row that is not empty
            if cells and (len(cells) > 1 or cells[0].strip()):
                columns = _csv_header([c.strip() for c in cells], text, reader.line_num,
                                      file, diags, long)
                if columns is None:
                    return None
                break
        ncols = len(columns) if columns is not None else 0
        header_line = reader.line_num
        append = rows.append
        quoted = '"' in text  # else long cells are found in the text at once, below
        for cells in reader:
            n = len(cells)
            if n == ncols:
                if quoted and max(map(len, cells)) > QUOTE_LIMIT:
                    for txt in cells:
                        if len(txt) > QUOTE_LIMIT:
                            _long_parts(txt, long)
                append(reader.line_num)
                if len(rows) > max_rows:
                    _note_long(long)
                    _too_many_rows(diags, source, ref_span, max_rows, total)
                    return None
            elif not n or (n == 1 and not cells[0].strip()) or columns is None:
                dense = False
            else:
                dense = False
                bad += 1
                if bad == MAX_REPORTED + 1:  # where the summary of the rest points
                    hidden = Span(file=file, line=reader.line_num, col=1,
                                  end_line=reader.line_num, end_col=2)
                if bad <= MAX_REPORTED:
                    at = reader.line_num
                    starts = starts if starts is not None else _line_starts(text)
                    line = _line_of(text, starts, at)
                    sep = _separator(line) if n == 1 else None
                    _wrong_width(diags, bad, n, columns, Span(
                        file=file, line=at, col=1, end_line=at,
                        end_col=max(2, len(_strip_comment(line).rstrip()) + 1)),
                        f" (this row seems separated by {sep}; cells are separated by "
                        "commas)" if sep else "")
    except csv.Error as exc:
        at = reader.line_num or 1
        diags.error("GRID030", f"cannot read the CSV file: {exc}", Span(
            file=file, line=at, col=1, end_line=at, end_col=2),
            help="cells are separated by commas; a cell with a comma or a quote is "
                 "written in double quotes (\"a, b\"), a quote inside doubled (\"\")")
        return None
    if not quoted:
        for found in _LONG_RUN.finditer(text):
            if len(found.group().strip()) > QUOTE_LIMIT:
                _long_parts(found.group().strip(), long)
    _note_long(long)
    if columns is None:
        diags.error("GRID030", "table has no header row", whole,
                    help="the first row names the columns, e.g. from to r[ohm] x[ohm]")
        return None
    _more_wrong_widths(diags, bad, hidden)
    body = _CsvRows(text, file, rows, starts, header_line if dense else None)
    return Table(tuple(columns), body, ref_span, source, frozenset(long))


#: more than QUOTE_LIMIT characters between commas: a cell too long to quote
_LONG_RUN = re.compile(r"[^,\n]{" + str(QUOTE_LIMIT + 1) + ",}")


def _nth_line(text: str, line: int) -> str:
    """Line `line` (from 1) of `text`, found by scanning (for the few rows a
    diagnostic quotes while the file is first read)."""
    pos = 0
    for _ in range(line - 1):
        pos = text.find("\n", pos) + 1
        if pos == 0:
            return ""
    end = text.find("\n", pos)
    return text[pos: len(text) if end < 0 else end]


def _csv_header(cells: list[str], text: str, line_no: int, file: str, diags: Collector,
                long: set[str]) -> list[Column] | None:
    raw = _nth_line(text, line_no)
    offsets = _cell_offsets(raw)
    placed = [(offsets[i][0] if i < len(offsets) else 0, c) for i, c in enumerate(cells)]
    sep = _separator(cells[0]) if len(cells) == 1 else None
    if sep is not None:
        span = Span(file=file, line=line_no, col=1, end_line=line_no,
                    end_col=max(2, len(_strip_comment(raw).rstrip()) + 1))
        diags.error("GRID030", f"the header is separated by {sep}, not by commas", span,
                    help="gridc reads comma-separated files: save the file as CSV with "
                         "commas (and decimal points: 0.5, not 0,5)")
        return None
    return _header(placed, file, line_no, 1, diags, long)


#: Error-free CSV tables by (display path, text, row limit): a model often reads
#: several columns of one profile file, each through its own statement. Tables are
#: immutable, and the key holds the whole text, so a changed file is read afresh.
#: Tables with errors are never kept, so their diagnostics are reported on every load.
_CSV_CACHE: OrderedDict[tuple[str, str, int], Table] = OrderedDict()
_CSV_CACHE_SIZE = 4


def parse_csv(text: str, file: str, ref_span: Span, source: str, diags: Collector,
              max_rows: int, total: int | None = None) -> Table | None:
    """The table of a CSV file (`ref_span`: the .grid text that names it), of at most
    `max_rows` rows (what is left of the `total` a model's tables may hold; None: a
    profile's file, limited on its own)."""
    if text.startswith("\ufeff"):  # a byte order mark, as spreadsheets write
        text = text[1:]
    key = (file, text, max_rows)
    table = _CSV_CACHE.get(key)
    if table is None:
        errors = len(diags.items)
        table = read_csv(text, file, ref_span, source, diags, max_rows, total)
        if table is None:
            return None
        if len(diags.items) == errors:
            _CSV_CACHE[key] = table
            while len(_CSV_CACHE) > _CSV_CACHE_SIZE:
                _CSV_CACHE.popitem(last=False)
    else:
        _CSV_CACHE.move_to_end(key)
        _note_long(table.long_cells)
    return table.named(ref_span, source)
