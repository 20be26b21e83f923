"""The canonical text of a .grid file, printed from its CST (comments kept).

Canonical form: one statement per line, two-space indentation per block level,
single spaces between atoms, `a .. b` ranges, `[a, b]` lists, `f(k = v)` calls,
tables re-aligned column by column, at most one blank line between statements
(blank lines the author left between statements are kept, collapsed to one).
"""

from __future__ import annotations

import re

from gridc.dsl.diagnostics import Collector, GridError
from gridc.dsl.syntax import Atom, Comment, Document, Stmt, parse_document

INDENT = "  "


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


def _stmt(st: Stmt, depth: int, out: list[str]) -> None:
    pad = INDENT * depth
    for i, c in enumerate(st.leading):
        out.append(pad + _comment(c))
        nxt = st.leading[i + 1].span.line if i + 1 < len(st.leading) else st.span.line
        if st.atoms and nxt > c.span.line + 1:
            out.append("")
    if not st.atoms:
        return
    parts: list[str] = []
    for a in st.atoms:
        parts.append(_table(a.text, pad) if a.kind == "table" else atom_text(a))
    line = pad + " ".join(parts)
    if st.block is not None:
        inner: list[str] = []
        _stmts(st.block, depth + 1, inner)
        if inner or st.closing:
            line += " {"
            if st.trailing:
                line += " " + _comment(st.trailing)
            out.append(line)
            out.extend(inner)
            out.append(pad + "}" + ("  " + _comment(st.closing) if st.closing else ""))
            return
        line += " {}"
    if st.trailing:
        line += "  " + _comment(st.trailing)
    out.append(line)


def _stmts(stmts: list[Stmt], depth: int, out: list[str]) -> None:
    prev_end: int | None = None
    for st in stmts:
        first_line = min([c.span.line for c in st.leading] + [st.span.line])
        if prev_end is not None and first_line > prev_end + 1:
            out.append("")
        _stmt(st, depth, out)
        prev_end = st.span.end_line
        if st.block_span is not None:
            prev_end = max(prev_end, st.block_span.end_line)


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
