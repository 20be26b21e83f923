"""Text → concrete syntax tree (CST).

The lark grammar (grid.lark) only knows statements, blocks and atoms. This module
parses with LALR, turns lark's tree into small frozen dataclasses that keep every
span and every comment, and converts lark's exceptions into diagnostics. Meaning
is given to the CST by `gridc.dsl.build`; the formatter prints the CST back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from gridc.dsl.diagnostics import Collector
from gridc.dsl.spans import Span

GRAMMAR_PATH = Path(__file__).with_name("grid.lark")

#: What a user would call each terminal, for "expected ..." messages.
TERMINAL_NAMES = {
    "NAME": "a name",
    "KW": "a keyword",
    "STRING": 'a "string"',
    "PAIR": "a line like 1-2",
    "TABLE": "a table { ... }",
    "SYM": "':' or '='",
    "EQ": "'='",
    "NUMBER": "a number",
    "LSQB": "'['",
    "RSQB": "']'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COMMA": "','",
    "_NL": "a new line",
    "DOTDOT": "'..'",
    "PERCENT": "'%'",
    "UNIT_OP": "'/' or '*'",
    "UNIT_POW": "an exponent like ^2",
    "$END": "end of file",
}


# ----------------------------------------------------------------------------- CST


@dataclass(frozen=True)
class Atom:
    """One atom of a statement.

    kind is one of: name, kw, string, pair, table, sym, number, range, list, call.
    `value` is the text (name, keyword, symbol, pair), the unquoted string, the float
    (number), or None for composites; `unit` is the unit text of numbers and lists;
    `items` holds list elements, range bounds, or call arguments; `key` names a
    keyword argument of a call.
    """

    kind: str
    span: Span
    value: Any = None
    unit: str | None = None
    items: tuple[Atom, ...] = ()
    key: str | None = None
    text: str = ""

    @property
    def is_word(self) -> bool:
        return self.kind in ("name", "kw")


@dataclass(frozen=True)
class Comment:
    text: str
    span: Span


@dataclass
class Stmt:
    """A statement: its atoms, an optional block of nested statements, and the
    comments written just above it (`leading`) or at the end of its first line."""

    atoms: tuple[Atom, ...]
    span: Span
    block: list[Stmt] | None = None
    block_span: Span | None = None
    leading: list[Comment] = field(default_factory=list)
    trailing: Comment | None = None

    @property
    def keyword(self) -> str:
        first = self.atoms[0]
        return str(first.value) if first.is_word else ""


@dataclass
class Document:
    path: str
    text: str
    statements: list[Stmt]
    trailing_comments: list[Comment]


# -------------------------------------------------------------------------- parsing


class _BracketNewlines:
    """Post-lexer: drop newlines inside [ ] and ( ) so lists and calls may wrap."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        for tok in stream:
            if tok.type in ("LSQB", "LPAR"):
                depth += 1
            elif tok.type in ("RSQB", "RPAR"):
                depth = max(0, depth - 1)
            elif tok.type == "_NL" and depth:
                continue
            yield tok


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return GRAMMAR_PATH.read_text(encoding="utf-8")


def _make_parser(comments: list[Token]) -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        postlex=_BracketNewlines(),
        lexer_callbacks={"COMMENT": comments.append},
    )


_COMMENTS: list[Token] = []


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return _make_parser(_COMMENTS)


def lark_parser() -> Lark:
    """The bare LALR parser (used by the fuzzing tests)."""
    return _make_parser([])


def _span(path: str, meta: Any) -> Span:
    return Span(
        file=path,
        line=meta.line,
        col=meta.column,
        end_line=meta.end_line,
        end_col=meta.end_column,
    )


def _expected(tokens: set[str]) -> str:
    names = sorted({TERMINAL_NAMES.get(t, t.lower()) for t in tokens})
    if len(names) > 6:
        names = names[:6] + ["..."]
    return "expected " + ", ".join(names)


def parse_document(text: str, path: str, diags: Collector) -> Document | None:
    """Parse one file. On a syntax error, record a diagnostic and return None."""
    _COMMENTS.clear()
    try:
        tree = _parser().parse(text if text.endswith("\n") else text + "\n")
    except UnexpectedInput as exc:
        _syntax_error(exc, text, path, diags)
        return None
    comments = [
        Comment(str(t).rstrip(), Span(file=path, line=t.line or 1, col=t.column or 1,
                                      end_line=t.end_line or 1, end_col=t.end_column or 1))
        for t in _COMMENTS
    ]
    builder = _CstBuilder(path)
    stmts = [builder.stmt(child) for child in tree.children if isinstance(child, Tree)]
    trailing = _attach_comments(stmts, comments)
    return Document(path=path, text=text, statements=stmts, trailing_comments=trailing)


def _syntax_error(exc: UnexpectedInput, text: str, path: str, diags: Collector) -> None:
    line = getattr(exc, "line", 1) or 1
    col = getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        span = Span(file=path, line=line, col=col, end_line=line, end_col=col + 1)
        diags.error("GRID001", f"unexpected character {ch!r}", span,
                    help="names start with a letter; numbers may carry a unit "
                         "(e.g. 400 kW); strings use double quotes; comments start with //")
    elif isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        lines = text.splitlines() or [""]
        last = len(lines)
        span = Span(file=path, line=last, col=max(1, len(lines[-1])), end_line=last,
                    end_col=max(2, len(lines[-1]) + 1))
        expected = getattr(exc, "expected", set()) or set()
        diags.error("GRID003", "unexpected end of file", span,
                    help=_expected(set(expected)) + " (is a '}' or ']' missing?)")
    elif isinstance(exc, UnexpectedToken):
        tok = exc.token
        width = max(1, len(str(tok))) if tok.type != "_NL" else 1
        span = Span(file=path, line=line, col=col, end_line=line, end_col=col + width)
        shown = "new line" if tok.type == "_NL" else repr(str(tok))
        diags.error("GRID002", f"unexpected {shown}", span, help=_expected(set(exc.expected)))
    else:  # pragma: no cover - lark has no other subclasses today
        span = Span(file=path, line=line, col=col, end_line=line, end_col=col + 1)
        diags.error("GRID002", "syntax error", span)


def _attach_comments(stmts: list[Stmt], comments: list[Comment]) -> list[Comment]:
    """Attach each comment to the statement it annotates: a comment on the same line
    as a statement's start trails it; a comment on its own line leads the next
    statement (at any depth). Comments after the last statement are returned."""
    flat: list[Stmt] = []

    def walk(items: list[Stmt]) -> None:
        for s in items:
            flat.append(s)
            if s.block:
                walk(s.block)

    walk(stmts)
    starts = {s.span.line: s for s in flat}
    code_lines: set[int] = set()
    for s in flat:
        code_lines.add(s.span.line)
    ordered = sorted(flat, key=lambda s: (s.span.line, s.span.col))
    leftover: list[Comment] = []
    for c in comments:
        owner = starts.get(c.span.line)
        if owner is not None and owner.trailing is None and c.span.col > owner.span.col:
            owner.trailing = c
            continue
        nxt = next((s for s in ordered if s.span.line > c.span.line), None)
        if nxt is None:
            # a comment at the end of a block closes that block: keep it in the
            # innermost statement whose block encloses it
            enclosing = [s for s in ordered if s.block_span is not None
                         and s.block_span.line <= c.span.line <= s.block_span.end_line]
            if enclosing:
                enclosing[-1].block.append(_comment_stmt(c))  # type: ignore[union-attr]
            else:
                leftover.append(c)
        else:
            enclosing = [s for s in ordered if s.block_span is not None
                         and s.block_span.line <= c.span.line < nxt.span.line
                         and s.block_span.end_line >= c.span.line
                         and s.block_span.end_line < nxt.span.line]
            if enclosing:
                enclosing[-1].block.append(_comment_stmt(c))  # type: ignore[union-attr]
            else:
                nxt.leading.append(c)
    return leftover


def _comment_stmt(c: Comment) -> Stmt:
    """A comment standing alone at the end of a block, kept as an empty statement."""
    return Stmt(atoms=(), span=c.span, leading=[c])


class _CstBuilder:
    def __init__(self, path: str):
        self.path = path

    def span_of(self, node: Tree | Token) -> Span:
        if isinstance(node, Token):
            return Span(file=self.path, line=node.line or 1, col=node.column or 1,
                        end_line=node.end_line or 1, end_col=node.end_column or 1)
        return _span(self.path, node.meta)

    def stmt(self, tree: Tree) -> Stmt:
        atoms: list[Atom] = []
        block: list[Stmt] | None = None
        block_span: Span | None = None
        for child in tree.children:
            if isinstance(child, Tree) and child.data == "block":
                block = [self.stmt(c) for c in child.children if isinstance(c, Tree)]
                block_span = self.span_of(child)
            else:
                atoms.append(self.atom(child))
        return Stmt(atoms=tuple(atoms), span=self.span_of(tree), block=block,
                    block_span=block_span)

    def atom(self, node: Tree | Token) -> Atom:
        span = self.span_of(node)
        if isinstance(node, Token):
            kind = {"NAME": "name", "KW": "kw", "STRING": "string", "PAIR": "pair",
                    "TABLE": "table", "SYM": "sym", "EQ": "sym"}[node.type]
            value: Any = str(node)
            if kind == "string":
                value = _unquote(value)
            return Atom(kind=kind, span=span, value=value, text=str(node))
        data = node.data
        if data == "quantity":
            number = node.children[0]
            unit = self.unit(node.children[1]) if len(node.children) > 1 else None
            return Atom(kind="number", span=span, value=float(number), unit=unit,
                        text=str(number))
        if data == "range":
            lo, hi = (self.atom(c) for c in node.children if isinstance(c, Tree))
            return Atom(kind="range", span=span, items=(lo, hi))
        if data == "list":
            items = [c for c in node.children if not (isinstance(c, Tree) and c.data == "unit")]
            units = [c for c in node.children if isinstance(c, Tree) and c.data == "unit"]
            return Atom(kind="list", span=span, items=tuple(self.atom(c) for c in items),
                        unit=self.unit(units[0]) if units else None)
        if data == "call":
            name, *args = node.children
            return Atom(kind="call", span=span, value=str(name),
                        items=tuple(self.atom(a) for a in args))
        if data == "keyword_arg":
            key, _eq, value = node.children
            inner = self.atom(value)
            return Atom(kind=inner.kind, span=span, value=inner.value, unit=inner.unit,
                        items=inner.items, key=str(key), text=inner.text)
        raise AssertionError(f"unexpected CST node {data}")  # pragma: no cover

    def unit(self, tree: Tree) -> str:
        parts: list[str] = []
        for child in tree.children:
            if isinstance(child, Tree):  # unit_part
                parts.append("".join(str(t) for t in child.children))
            else:
                parts.append(str(child))
        return "".join(parts)


def _unquote(s: str) -> str:
    body = s[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n")


__all__ = ["Atom", "Comment", "Document", "Stmt", "lark", "lark_parser", "parse_document"]
