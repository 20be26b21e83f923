"""Pointing into the .grid text: narrow a statement's span to the word or value a
diagnostic is about (`power 0 .. 500 kW` -> `0 .. 500 kW`), so the caret sits under it.

IR nodes keep the span of their whole statement; the checks find the part they mean
by searching the model's source text within that span. The line offsets of a text are
computed once per text, not once per diagnostic: a model with thousands of errors
(a hostile one) is located in linear time.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

from gridc.dsl import ir
from gridc.dsl.spans import Span


@lru_cache(maxsize=8)
def _line_starts(text: str) -> tuple[int, ...]:
    starts = [0]
    pos = text.find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    starts.append(len(text) + 1)  # one past the end: a last line without a newline
    return tuple(starts)


def search(text: str, span: Span, pattern: str) -> Span:
    """The span of group 1 of the first match of `pattern` within `span` of `text`
    (`span` itself when nothing matches)."""
    starts = _line_starts(text)
    lines = len(starts) - 1
    if not (1 <= span.line <= lines and 1 <= span.end_line <= lines):
        return span
    lo = starts[span.line - 1] + span.col - 1
    hi = min(len(text), starts[span.end_line - 1] + span.end_col - 1)
    found = re.compile(pattern).search(text, lo, hi)
    if found is None:
        return span
    start, end = found.span(1)
    line = bisect.bisect_right(starts, start)
    col = start - starts[line - 1] + 1
    return Span(file=span.file, line=line, col=col, end_line=line, end_col=col + end - start)


def name_span(m: ir.Model | None, span: Span, after: str | None, name: str,
              in_list: bool = False) -> Span:
    """Narrow `span` (a whole statement) to where `name` is written after the word
    `after` (or inside the list that follows it; with `after` empty, anywhere: a table
    row's cell), so the caret points at the name."""
    text = m.sources.get(span.file) if m is not None and after is not None else None
    if text is None:
        return span
    token = re.escape(name)
    if not after:
        pattern = rf"(?<![\w.-])\"?({token})(?![\w.-])"
    elif in_list:
        pattern = rf"\b{after}\s*\[[^\]]*?(?<![\w.-])\"?({token})(?![\w.-])"
    else:
        pattern = rf"\b{after}\s+\"?({token})(?![\w.-])"
    return search(text, span, pattern)


def value_span(m: ir.Model, span: Span, key: str) -> Span:
    """Narrow `span` (a statement with its block) to the value of its property `key`
    (`power 0 .. 500 kW` -> `0 .. 500 kW`); `span` itself if `key` is not written."""
    text = m.sources.get(span.file)
    if text is None:
        return span
    pattern = (rf"(?m)(?:^|[{{,])[ \t]*{re.escape(key)}[ \t]+"
               r"((?:(?!//|#)[^,}\n])*?)[ \t]*(?=,|}|//|#|\r?\n|$)")
    return search(text, span, pattern)
