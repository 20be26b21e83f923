"""The canonical text of a .grid file, printed from its CST (comments kept).

Canonical form: one statement per line, two-space indentation per block level,
single spaces between atoms, `a .. b` ranges, `[a, b]` lists, `f(k = v)` calls,
tables re-aligned column by column, at most one blank line between statements
(blank lines the author left between statements are kept, collapsed to one).

Lines aim at WIDTH (100) columns: a list that would run past it is wrapped after a
comma, its continuation lines aligned under its first item. A block written on one
line (`economics { currency CNY, discount 8 % }`) stays on one line if it holds only
simple properties (no nested block, table or comment) and fits; any other block is
printed one statement per line. End-of-line comments of consecutive one-line
statements are aligned in one column. Where an author put line breaks inside a list
does not matter: the output depends only on the statements, their comments, the blank
lines between statements and on which blocks were written on one line, so formatting
is idempotent.
"""

from __future__ import annotations

import re

from gridc.dsl.diagnostics import Collector, GridError
from gridc.dsl.syntax import Atom, Comment, Document, Stmt, parse_document

INDENT = "  "
WIDTH = 100


def _number(a: Atom) -> str:
    text = a.text or repr(a.value)
    return text + (f" {a.unit}" if a.unit else "")


def atom_text(a: Atom) -> str:
    if a.kind == "number":
        return _number(a)
    if a.kind == "range":
        lo, hi = a.items
        return f"{atom_text(lo)} .. {atom_text(hi)}"
    if a.kind == "list":
        body = "[" + ", ".join(atom_text(x) for x in a.items) + "]"
        return body + (f" {a.unit}" if a.unit else "")
    if a.kind == "call":
        args = ", ".join((f"{x.key} = " if x.key else "") + atom_text(_plain(x)) for x in a.items)
        return f"{a.value}({args})"
    return a.text


def _plain(a: Atom) -> Atom:
    return Atom(kind=a.kind, span=a.span, value=a.value, unit=a.unit, items=a.items, text=a.text)


def _table(text: str, indent: str) -> str:
    """Re-align an inline table; comment lines are kept in place."""
    body = text[text.index("{") + 1 : -1]
    rows: list[list[str] | str] = []
    for raw in body.split("\n"):
        line = raw.strip()
        if not line:
            continue
        code, sep, comment = _split_comment(line)
        cells = code.split()
        if cells:
            rows.append(cells + ([sep + comment] if sep else []))
        elif sep:
            rows.append(sep + comment)
    grid = [r for r in rows if isinstance(r, list)]
    ncol = max((len(r) for r in grid), default=0)
    widths = [max((len(r[i]) for r in grid if i < len(r) and not r[i].startswith(("//", "#"))),
                  default=0) for i in range(ncol)]
    out = ["table {"]
    for r in rows:
        if isinstance(r, str):
            out.append(indent + INDENT + r)
            continue
        parts = [c if c.startswith(("//", "#")) else c.ljust(widths[i]) for i, c in enumerate(r)]
        out.append(indent + INDENT + "  ".join(parts).rstrip())
    out.append(indent + "}")
    return "\n".join(out)


def _split_comment(line: str) -> tuple[str, str, str]:
    m = re.search(r"(//|#)", line)
    if not m:
        return line, "", ""
    return line[: m.start()].rstrip(), m.group(1), line[m.end():]


def _comment(c: Comment) -> str:
    return c.text.strip()


def _wrapped_list(a: Atom, col: int, pad: str) -> list[str]:
    """A list starting at column `col` (0-based), wrapped to WIDTH: the first line
    continues the current line, the others are whole lines."""
    indent = " " * (col + 1) if col + 1 <= WIDTH // 2 else pad + 2 * INDENT
    items = [atom_text(x) for x in a.items]
    close = "]" + (f" {a.unit}" if a.unit else "")
    lines: list[str] = []
    current, start = "[", col
    for i, item in enumerate(items):
        piece = item + ("," if i + 1 < len(items) else close)
        if current != "[" and start + len(current) + 1 + len(piece) > WIDTH:
            lines.append(current)
            current, start = indent + piece, 0
        else:
            current += ("" if current == "[" else " ") + piece
    lines.append(current)
    return lines


def _head(st: Stmt, pad: str) -> list[str]:
    """The statement's atoms as lines (tables and long lists take several)."""
    lines = [pad]
    for k, a in enumerate(st.atoms):
        sep = " " if k else ""
        if a.kind == "table":
            text = _table(a.text, pad).split("\n")
        else:
            text = [atom_text(a)]
            if a.kind == "list" and len(a.items) > 1 \
                    and len(lines[-1]) + len(sep) + len(text[0]) > WIDTH:
                text = _wrapped_list(a, len(lines[-1]) + len(sep), pad)
        lines[-1] += sep + text[0]
        lines.extend(text[1:])
    return lines


def _one_line_block(st: Stmt) -> str | None:
    """`{ a 1, b 2 }` if the block was written on one line and holds only simple
    statements; None if it must be printed one statement per line."""
    if st.block is None or st.closing is not None:
        return None
    if not st.block:
        return "{}"
    if st.block_span is None or st.block_span.line != st.block_span.end_line:
        return None
    items: list[str] = []
    for s in st.block:
        if not s.atoms or s.block is not None or s.leading or s.trailing \
                or any(a.kind == "table" for a in s.atoms):
            return None
        items.append(" ".join(atom_text(a) for a in s.atoms))
    return "{ " + ", ".join(items) + " }" if items else "{}"


def _stmt(st: Stmt, depth: int, out: list[str]) -> None:
    pad = INDENT * depth
    for i, c in enumerate(st.leading):
        out.append(pad + _comment(c))
        nxt = st.leading[i + 1].span.line if i + 1 < len(st.leading) else st.span.line
        if st.atoms and nxt > c.span.line + 1:
            out.append("")
    if not st.atoms:
        return
    lines = _head(st, pad)
    if st.block is not None:
        one_line = _one_line_block(st)
        if one_line is not None and len(lines[-1]) + 1 + len(one_line) <= WIDTH:
            lines[-1] += " " + one_line
        else:
            inner: list[str] = []
            _stmts(st.block, depth + 1, inner)
            lines[-1] += " {"
            if st.trailing:
                lines[-1] += " " + _comment(st.trailing)
            out.extend(lines)
            out.extend(inner)
            out.append(pad + "}" + ("  " + _comment(st.closing) if st.closing else ""))
            return
    if st.trailing:
        lines[-1] += "  " + _comment(st.trailing)
    out.extend(lines)


def _stmts(stmts: list[Stmt], depth: int, out: list[str]) -> None:
    prev_end: int | None = None
    run: list[tuple[int, str, str]] = []  # (index in out, code, comment) to align
    for st in stmts:
        first_line = min([c.span.line for c in st.leading] + [st.span.line])
        if prev_end is not None and first_line > prev_end + 1:
            out.append("")
            _align(out, run)
        start = len(out)
        _stmt(st, depth, out)
        prev_end = st.span.end_line
        if st.block_span is not None:
            prev_end = max(prev_end, st.block_span.end_line)
        comment = "  " + _comment(st.trailing) if st.trailing else ""
        if comment and not st.leading and len(out) == start + 1 \
                and out[start].endswith(comment):
            run.append((start, out[start][: -len(comment)], comment[2:]))
        else:
            _align(out, run)
    _align(out, run)


def _align(out: list[str], run: list[tuple[int, str, str]]) -> None:
    """Align the end-of-line comments of consecutive one-line statements in a column
    two spaces after the longest of them (as an author lines them up by hand)."""
    if len(run) > 1:
        col = max(len(code) for _, code, _ in run) + 2
        for i, code, comment in run:
            out[i] = code.ljust(col) + comment
    run.clear()


def format_document(doc: Document) -> str:
    """The canonical text of a parsed document."""
    out: list[str] = []
    _stmts(doc.statements, 0, out)
    for c in doc.trailing_comments:
        out.append(_comment(c))
    return "\n".join(out).rstrip("\n") + "\n"


def format_text(text: str, path: str = "<string>.grid") -> str:
    """The canonical form of `text`; raises GridError on a syntax error."""
    diags = Collector()
    doc = parse_document(text, path, diags)
    if doc is None:
        raise GridError(diags.items, {path: text})
    return format_document(doc)
