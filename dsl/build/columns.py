"""Typed rows out of a `Table` (inline or CSV), column by column.

A column spec says what each column holds: a quantity with its expected dimension,
an identifier, an integer, or a word from a fixed set. The header's unit is checked
once per column; each cell is converted with that factor, and a bad cell is reported
at its own line and column (in the CSV file when it came from one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gridc.dsl.build.reader import Context, unit_help
from gridc.dsl.diagnostics import did_you_mean
from gridc.dsl.spans import Span
from gridc.dsl.tables import MAX_REPORTED, Table
from gridc.dsl.units import Expect, UnitError, factor


@dataclass(frozen=True)
class Col:
    """kind: 'quantity' (needs expect), 'ref', 'int', 'word' (needs choices), 'bool'."""

    kind: str
    required: bool = False
    expect: Expect | None = None
    choices: tuple[str, ...] = ()
    default: Any = None
    aliases: tuple[str, ...] = ()


class Row:
    """The typed values of one row; its span (first to last cell) is built on first
    use, since most rows (e.g. of an 8,760-step profile) never need one."""

    __slots__ = ("_index", "_span", "_table", "values")

    def __init__(self, values: dict[str, Any], table: Table, index: int):
        self.values = values
        self._table = table
        self._index = index
        self._span: Span | None = None

    @property
    def span(self) -> Span:
        if self._span is None:
            self._span = self._table.row_span(self._index)
        return self._span


_TRUE = {"1", "true", "yes", "y", "open"}
_FALSE = {"0", "false", "no", "n", "closed"}


def read_columns(ctx: Context, table: Table, spec: dict[str, Col], what: str) -> list[Row]:
    names: dict[str, str] = {}
    for key, col in spec.items():
        names[key] = key
        for alias in col.aliases:
            names[alias] = key
    index: dict[str, int] = {}
    factors: dict[str, float] = {}
    ok = True
    for i, column in enumerate(table.columns):
        found = names.get(column.name)
        if found is None:
            ctx.error("GRID032", f"unknown column '{column.name}' in {what}", column.span,
                      help=did_you_mean(column.name, spec, "columns"))
            ok = False
            continue
        key = found
        if key in index:
            first = table.columns[index[key]].name
            ctx.error("GRID040", f"column '{column.name}' appears twice in {what}"
                      if first == column.name else
                      f"column '{column.name}' is another name for '{first}', which {what} "
                      "already has", column.span, help="keep one of them")
            ok = False
            continue
        index[key] = i
        col = spec[key]
        if col.kind == "quantity" and col.expect is not None:
            try:
                factors[key] = factor(column.unit, col.expect)
            except UnitError as err:
                ctx.error(err.code, f"column '{column.name}': {err}", column.span,
                          help=f"write the header as {column.name}[{col.expect.unit or '-'}]"
                               + ("" if err.code == "GRID022"
                                  else f"; {unit_help(err, column.unit)}"))
                ok = False
        elif column.unit is not None:
            ctx.error("GRID021", f"column '{column.name}' takes no unit", column.span)
            ok = False
    for key, col in spec.items():
        if col.required and key not in index:
            ctx.error("GRID033", f"{what} needs a column '{key}'", table.span,
                      help="columns here: " + " ".join(c.name for c in table.columns))
            ok = False
    if not ok:
        return []
    rows: list[Row] = []
    reported = len(ctx.diags.items)
    bad = 0
    for i, texts in enumerate(table.rows()):
        values: dict[str, Any] = {}
        problems: list[tuple[int, str, str, str]] = []  # column, code, message, help
        for key, col in spec.items():
            at = index.get(key)
            if at is None:
                values[key] = col.default
                continue
            text = texts[at]
            if col.kind == "quantity":
                try:
                    values[key] = float(text) * factors[key]
                    if not math.isfinite(values[key]):
                        raise ValueError(text)
                except ValueError:
                    problems.append((at, "GRID031", f"empty cell in column '{key}'" if not text
                                     else f"'{text}' is not a number (column '{key}')",
                                     "write a number; the unit is in the header" if not text
                                     else "write a plain number; the unit is in the header"))
            elif col.kind == "int":
                try:
                    f = float(text)
                    if not f.is_integer():
                        raise ValueError(text)
                    values[key] = int(f)
                except (ValueError, OverflowError):
                    problems.append((at, "GRID031", f"'{text}' is not a whole number "
                                     f"(column '{key}')", "write a count such as 0, 1 or 12"))
            elif col.kind == "ref":
                if not text:
                    problems.append((at, "GRID031", f"empty cell in column '{key}'",
                                     "write a name or a bus number"))
                values[key] = text[:-2] if text.endswith(".0") else text
            elif col.kind == "bool":
                low = text.lower()
                if low not in _TRUE | _FALSE:
                    problems.append((at, "GRID031", f"'{text}' is not one of open/closed/yes/"
                                     f"no (column '{key}')",
                                     "write open/closed, yes/no, true/false or 1/0"))
                values[key] = low in _TRUE
            elif col.kind == "word":
                if col.choices and text not in col.choices:
                    problems.append((at, "GRID015", f"unknown value '{text}' in column "
                                     f"'{key}'", did_you_mean(text, col.choices, "values")))
                values[key] = text
        if not problems:
            rows.append(Row(values, table, i))
            continue
        for at, code, message, hint in problems:
            bad += 1
            if bad <= MAX_REPORTED:
                ctx.error(code, message, table.cell(i, at).span, help=hint)
    if bad > MAX_REPORTED:
        first = ctx.diags.items[reported].span if len(ctx.diags.items) > reported \
            else table.span
        ctx.error("GRID031", f"{bad - MAX_REPORTED:,} more cells of {what} are not valid "
                  f"(the first {MAX_REPORTED} are shown)", first)
    return rows
