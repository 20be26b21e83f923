"""Text → concrete syntax tree (CST).

The lark grammar (grid.lark) only knows statements, blocks and atoms. This module
parses with LALR, turns lark's tree into small frozen dataclasses that keep every
span and every comment, and converts lark's exceptions into diagnostics. Meaning
is given to the CST by `gridc.dsl.build`; the formatter prints the CST back.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
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
    comments written just above it (`leading`), at the end of its first line (or of
    its head, when the head wraps: `trailing`) and after its closing brace."""

    atoms: tuple[Atom, ...]
    span: Span
    block: list[Stmt] | None = None
    block_span: Span | None = None
    leading: list[Comment] = field(default_factory=list)
    trailing: Comment | None = None
    closing: Comment | None = None  # after the block's closing brace

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


#: Deepest nesting of { }, [ ] and ( ) accepted. Real models nest a few levels; the
#: limit keeps the recursive CST builder, IR builders and formatter far from Python's
#: recursion limit and gives a located diagnostic instead.
MAX_NESTING = 64


class _TooDeep(Exception):
    def __init__(self, token: Token):
        super().__init__("nesting too deep")
        self.token = token


class _BracketNewlines:
    """Post-lexer: drop newlines inside [ ] and ( ) so lists and calls may wrap; refuse
    nesting deeper than MAX_NESTING."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0  # inside [ ] and ( )
        nesting = 0  # inside any bracket
        for tok in stream:
            kind = tok.type
            if kind in ("LSQB", "LPAR", "LBRACE"):
                nesting += 1
                if nesting > MAX_NESTING:
                    raise _TooDeep(tok)
                if kind != "LBRACE":
                    depth += 1
            elif kind in ("RSQB", "RPAR", "RBRACE"):
                nesting = max(0, nesting - 1)
                if kind != "RBRACE":
                    depth = max(0, depth - 1)
            elif kind == "_NL" and depth:
                continue
            yield tok


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return GRAMMAR_PATH.read_text(encoding="utf-8")


def _make_parser(on_comment: Callable[[Token], Any]) -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        postlex=_BracketNewlines(),
        lexer_callbacks={"COMMENT": on_comment},
    )


class _CommentSink(threading.local):
    """The comments lexed by the current parse, one list per thread: the shared parser
    may be used from several threads at once (parallel sweeps)."""

    def __init__(self) -> None:
        self.tokens: list[Token] = []


_SINK = _CommentSink()


def _collect_comment(tok: Token) -> None:
    _SINK.tokens.append(tok)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return _make_parser(_collect_comment)


def lark_parser() -> Lark:
    """The bare LALR parser (used by the fuzzing tests)."""
    return _make_parser(lambda tok: None)


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
        names = [*names[:6], "..."]
    return "expected " + ", ".join(names)


def parse_document(text: str, path: str, diags: Collector) -> Document | None:
    """Parse one file. On a syntax error, record a diagnostic and return None."""
    lexed: list[Token] = []
    _SINK.tokens = lexed
    if text.startswith("\ufeff"):  # a byte order mark, as some editors write
        text = text[1:]
    try:
        tree = _parser().parse(text if text.endswith("\n") else text + "\n")
    except UnexpectedInput as exc:
        _syntax_error(exc, text, path, diags)
        return None
    except _TooDeep as exc:
        tok = exc.token
        line, col = tok.line or 1, tok.column or 1
        diags.error("GRID002", f"nesting deeper than {MAX_NESTING} levels",
                    Span(file=path, line=line, col=col, end_line=line, end_col=col + 1),
                    help="blocks, lists and calls nest a few levels at most; "
                         "is a closing bracket missing?")
        return None
    comments = [
        Comment(str(t).rstrip(), Span(file=path, line=t.line or 1, col=t.column or 1,
                                      end_line=t.end_line or 1, end_col=t.end_column or 1))
        for t in lexed
    ]
    builder = _CstBuilder(path)
    try:
        stmts = [builder.stmt(child) for child in tree.children if isinstance(child, Tree)]
    except RecursionError:  # pragma: no cover - MAX_NESTING keeps well below the limit
        diags.error("GRID002", "nesting too deep", Span(file=path, line=1, col=1,
                                                         end_line=1, end_col=2))
        return None
    trailing = _attach_comments(stmts, comments)
    return Document(path=path, text=text, statements=stmts, trailing_comments=trailing)


def _syntax_error(exc: UnexpectedInput, text: str, path: str, diags: Collector) -> None:
    line = getattr(exc, "line", 1) or 1
    col = getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        ch = text[pos] if pos < len(text) else "?"
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
        expected: set[str] = set(getattr(exc, "expected", None) or ())
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
    """Attach each comment to the statement it annotates.

    A comment at the end of a line belongs to the outermost statement that starts on
    that line (it trails it), ends its head there (a wrapped list, an inline table:
    it trails it too) or closes its block there (it follows the closing brace); at
    equal depth in that order. A comment on its own line
    leads the next statement (at any depth), or, after the last statement of a block,
    is kept at the end of that block. Comments after the last statement are returned.
    Runs in O((statements + comments) log statements).
    """
    if not comments:
        return []
    flat: list[Stmt] = []
    # line -> [(depth, kind, order, statement)]: statements a comment at the end of
    # that line may belong to; kind 0 starts there, 1 ends its head there, 2 closes
    # its block there. The outermost wins, so `a { b 1 }  // x` annotates a.
    ends: dict[int, list[tuple[int, int, int, Stmt]]] = {}

    def walk(items: list[Stmt], depth: int) -> None:
        for s in items:
            order = len(flat)
            flat.append(s)
            ends.setdefault(s.span.line, []).append((depth, 0, order, s))
            if s.atoms and s.atoms[-1].span.end_line != s.span.line:
                ends.setdefault(s.atoms[-1].span.end_line, []).append((depth, 1, order, s))
            if s.block_span is not None:
                ends.setdefault(s.block_span.end_line, []).append((depth, 2, order, s))
            if s.block:
                walk(s.block, depth + 1)

    walk(stmts, 0)
    ordered = sorted(flat, key=lambda s: (s.span.line, s.span.col))
    start_lines = [s.span.line for s in ordered]
    # (block span, statement) for every block, in opening order
    blocks = sorted(((s.block_span, s) for s in flat if s.block_span is not None),
                    key=lambda b: (b[0].line, b[0].col))
    open_blocks: list[tuple[Span, Stmt]] = []
    next_block = 0
    leftover: list[Comment] = []
    for c in sorted(comments, key=lambda c: (c.span.line, c.span.col)):
        line = c.span.line
        if _attach_at_end_of_line(c, sorted(ends.get(line, ()), key=lambda e: e[:3])):
            continue
        # the innermost block enclosing the comment's line
        while next_block < len(blocks) and blocks[next_block][0].line <= line:
            opening = blocks[next_block]
            while open_blocks and open_blocks[-1][0].end_line < opening[0].line:
                open_blocks.pop()
            open_blocks.append(opening)
            next_block += 1
        while open_blocks and open_blocks[-1][0].end_line < line:
            open_blocks.pop()
        k = bisect.bisect_right(start_lines, line)
        nxt = ordered[k] if k < len(ordered) else None
        if open_blocks and (nxt is None or open_blocks[-1][0].end_line < nxt.span.line):
            # a comment at the end of a block closes that block: keep it there
            enclosing = open_blocks[-1][1]
            assert enclosing.block is not None
            enclosing.block.append(_comment_stmt(c))
        elif nxt is not None:
            nxt.leading.append(c)
        else:
            leftover.append(c)
    return leftover


def _attach_at_end_of_line(c: Comment, candidates: list[tuple[int, int, int, Stmt]]) -> bool:
    for _depth, kind, _order, s in candidates:
        if kind == 0 and s.trailing is None and c.span.col > s.span.col:
            s.trailing = c
            return True
        if kind == 1 and s.trailing is None and c.span.col >= s.atoms[-1].span.end_col:
            s.trailing = c
            return True
        if kind == 2 and s.closing is None and s.block_span is not None \
                and c.span.col >= s.block_span.end_col:
            s.closing = c
            return True
    return False


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
            return Atom(kind="number", span=span, value=float(str(number)), unit=unit,
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
