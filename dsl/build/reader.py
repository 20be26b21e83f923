"""Reading typed values out of CST statements, with diagnostics.

`Block` wraps the statements inside `{ ... }` (or the tail of a one-line statement)
and hands out typed properties: `block.quantity("power", POWER)`, `block.range(...)`.
Every property read is remembered; `block.finish()` reports the ones never read as
unknown, with a "did you mean" against the ones the construct accepts. Errors are
recorded and a neutral value is returned so that checking continues and all
errors are shown at once.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridc.dsl import tables
from gridc.dsl.access import Access, Refused, snippet_view
from gridc.dsl.budgets import Budget
from gridc.dsl.diagnostics import Collector, did_you_mean
from gridc.dsl.spans import Span
from gridc.dsl.syntax import Atom, Stmt
from gridc.dsl.units import Expect, UnitError, convert

KIND_WORDS = {
    "number": "a number",
    "name": "a name",
    "kw": "a keyword",
    "string": 'a "string"',
    "pair": "a line like 1-2",
    "table": "a table",
    "sym": "a symbol",
    "range": "a range like 0.1 .. 0.9",
    "list": "a list like [1, 2, 3]",
    "call": "a call like kmeans(k = 4)",
}


class Missing:
    """Marker for 'no default: the property is required'."""


REQUIRED = Missing()


@dataclass
class Context:
    """Where we are reading: diagnostics sink, the file's directory, loaded sources,
    the file policy of the load (every file is opened through it) and its budget (how
    many rows a table may hold)."""

    diags: Collector
    base_dir: Path
    sources: dict[str, str] = field(default_factory=dict)
    access: Access = field(default_factory=lambda: Access("."))
    budget: Budget = field(default_factory=Budget)
    #: rows read into tables so far, by every file of the load (one shared counter)
    rows_read: list[int] = field(default_factory=lambda: [0])

    def rows_left(self) -> int:
        """Rows the next table may hold: what the budget leaves of its total."""
        return max(0, self.budget.table_rows - self.rows_read[0])

    def counted(self, table: tables.Table | None) -> tables.Table | None:
        """`table`, its rows added to what the load has read."""
        if table is not None:
            self.rows_read[0] += len(table)
        return table

    def error(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diags.error(code, message, span, help)


def ref_text(atom: Atom) -> str | None:
    """An identifier written as a name, a bare integer, a pair or a string."""
    if atom.kind in ("name", "pair", "string"):
        return str(atom.value)
    if atom.kind == "number" and atom.unit is None:
        if atom.text.isascii() and atom.text.isdigit():  # exactly, however long: 2^63 + 1
            return str(int(atom.text))
        v = float(atom.value)
        return str(int(v)) if math.isfinite(v) and v.is_integer() else atom.text
    return None


class Block:
    def __init__(self, ctx: Context, stmts: Iterable[Stmt], owner: Span, what: str,
                 repeatable: Iterable[str] = ()):
        self.ctx = ctx
        self.owner = owner
        self.what = what
        self.accepted: set[str] = set()
        self.by_key: dict[str, list[Stmt]] = {}
        self.repeatable = set(repeatable)
        for st in stmts:
            if not st.atoms:  # a comment kept at the end of a block
                continue
            key = st.keyword
            if not key:
                ctx.error("GRID014", f"expected a property name in {what}", st.atoms[0].span,
                          help="properties are written 'name value', e.g. power 200 kW")
                continue
            self.by_key.setdefault(key, []).append(st)

    # -- access -------------------------------------------------------------
    def _one(self, key: str) -> Stmt | None:
        self.accepted.add(key)
        found = self.by_key.get(key, [])
        if len(found) > 1 and key not in self.repeatable:
            self.ctx.error("GRID013", f"'{key}' is given twice in {self.what}",
                           found[1].atoms[0].span, help="keep one of them")
        return found[0] if found else None

    def first(self, key: str) -> Stmt | None:
        """The statement of a property read by hand (GRID013 if it is given twice)."""
        return self._one(key)

    def all(self, key: str) -> list[Stmt]:
        self.accepted.add(key)
        self.repeatable.add(key)
        return self.by_key.get(key, [])

    def has(self, key: str) -> bool:
        self.accepted.add(key)
        return key in self.by_key

    def _missing(self, key: str, example: str, default: Any) -> Any:
        if isinstance(default, Missing):
            self.ctx.error("GRID012", f"{self.what} needs '{key}'", self.owner,
                           help=f"add e.g. '{key} {example}'")
            return None
        return default

    def value_atom(self, key: str, example: str = "...", default: Any = REQUIRED) -> Any:
        st = self._one(key)
        if st is None:
            return self._missing(key, example, default)
        if len(st.atoms) < 2:
            self.ctx.error("GRID014", f"'{key}' needs a value", st.atoms[0].span,
                           help=f"write e.g. '{key} {example}'")
            return None
        if len(st.atoms) > 2 or st.block is not None:
            extra = st.atoms[2] if len(st.atoms) > 2 else st.atoms[-1]
            self.ctx.error("GRID014", f"'{key}' takes one value", extra.span,
                           help=f"write e.g. '{key} {example}' (separate properties with "
                                "a comma or a new line)")
        return st.atoms[1]

    def quantity(self, key: str, expect: Expect, default: Any = REQUIRED,
                 check: Callable[[float], str | None] | None = None) -> Any:
        atom = self.value_atom(key, expect.example, default)
        if not isinstance(atom, Atom):
            return atom
        return to_float(self.ctx, atom, expect, check)

    def integer(self, key: str, default: Any = REQUIRED, minimum: int = 0) -> Any:
        atom = self.value_atom(key, "4", default)
        if not isinstance(atom, Atom):
            return atom
        return to_int(self.ctx, atom, minimum)

    def word(self, key: str, choices: Iterable[str] | None = None,
             default: Any = REQUIRED, listed: bool = False) -> Any:
        atom = self.value_atom(key, next(iter(choices or ["name"])), default)
        if not isinstance(atom, Atom):
            return atom
        return to_word(self.ctx, atom, choices, key, listed)

    def ref(self, key: str, default: Any = REQUIRED) -> Any:
        atom = self.value_atom(key, "1", default)
        if not isinstance(atom, Atom):
            return atom
        text = ref_text(atom)
        if text is None:
            self.ctx.error("GRID014", f"'{key}' expects a name or a bus number", atom.span,
                           help=f"got {KIND_WORDS.get(atom.kind, atom.kind)}")
        return text

    def string(self, key: str, default: Any = REQUIRED) -> Any:
        atom = self.value_atom(key, '"text"', default)
        if not isinstance(atom, Atom):
            return atom
        if atom.kind != "string":
            self.ctx.error("GRID014", f"'{key}' expects a \"string\"", atom.span)
            return None
        return str(atom.value)

    def range(self, key: str, expect: Expect, default: Any = REQUIRED,
              check: Callable[[float], str | None] | None = None) -> Any:
        atom = self.value_atom(key, f"{expect.example} .. {expect.example}", default)
        if not isinstance(atom, Atom):
            return atom
        return to_range(self.ctx, atom, expect, check)

    def refs(self, key: str, default: Any = REQUIRED) -> Any:
        atom = self.value_atom(key, "[1, 2, 3]", default)
        if not isinstance(atom, Atom):
            return atom
        return to_refs(self.ctx, atom)

    def numbers(self, key: str, expect: Expect, default: Any = REQUIRED) -> Any:
        atom = self.value_atom(key, "[1, 2, 3]", default)
        if not isinstance(atom, Atom):
            return atom
        return to_numbers(self.ctx, atom, expect)

    def flag(self, key: str) -> bool:
        st = self._one(key)
        if st is not None and (len(st.atoms) > 1 or st.block is not None):
            self.ctx.error("GRID014", f"'{key}' is a flag and takes no value", st.atoms[1].span
                           if len(st.atoms) > 1 else st.span)
        return st is not None

    def table(self, key: str, default: Any = REQUIRED) -> tables.Table | None:
        """`key table { ... }` or `key from "file.csv"`."""
        st = self._one(key)
        if st is None:
            return self._missing(key, 'table { ... }  or  from "file.csv"', default)
        return read_table(self.ctx, st)

    def span_of(self, key: str) -> Span:
        """Where the value of `key` is written (the block's owner if it is not given)."""
        found = self.by_key.get(key)
        if found and len(found[0].atoms) > 1:
            return found[0].atoms[1].span
        return self.owner

    def finish(self) -> None:
        for key, stmts in self.by_key.items():
            if key not in self.accepted:
                self.ctx.error("GRID011", f"unknown property '{key}' in {self.what}",
                               stmts[0].atoms[0].span,
                               help=did_you_mean(key, self.accepted, "properties"))


# ------------------------------------------------------------------ atom conversion


def _wrong(ctx: Context, atom: Atom, wanted: str) -> None:
    ctx.error("GRID014", f"expected {wanted}, found {KIND_WORDS.get(atom.kind, atom.kind)}",
              atom.span)


#: units a planner writes most, for "did you mean" on an unknown unit
COMMON_UNITS = ("W", "kW", "MW", "var", "kvar", "Mvar", "VA", "kVA", "MVA", "Wh", "kWh", "MWh",
                "V", "kV", "ohm", "m", "km", "m2", "h", "min", "s", "y", "pu", "t", "CNY",
                "kCNY", "MCNY", "Yuan", "kYuan", "CNY/kWh", "CNY/kW", "CNY/km", "kCNY/y",
                "kWh/km", "km/h", "ohm/km")


def unit_help(err: UnitError, unit: str | None) -> str:
    """The help line of a unit error; an unknown unit gets the closest known spelling
    (case-insensitively: 'kw' and 'KW' suggest 'kW')."""
    if err.code == "GRID020" and unit:
        by_lower = {u.lower(): u for u in COMMON_UNITS}
        if unit.lower() in by_lower:
            return f"did you mean '{by_lower[unit.lower()]}'? (units are case-sensitive)"
        close = difflib.get_close_matches(unit, COMMON_UNITS, n=2, cutoff=0.7)
        if close:
            return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return err.help


def to_float(ctx: Context, atom: Atom, expect: Expect,
             check: Callable[[float], str | None] | None = None) -> float | None:
    if atom.kind != "number":
        _wrong(ctx, atom, f"{expect.what} (e.g. {expect.example})")
        return None
    try:
        value = convert(float(atom.value), atom.unit, expect)
    except UnitError as err:
        ctx.error(err.code, str(err), atom.span, help=unit_help(err, atom.unit))
        return None
    if not math.isfinite(value):
        ctx.error("GRID023", f"{atom.text} is too large to be a number", atom.span,
                  help=f"write {expect.what} such as {expect.example}")
        return None
    if check is not None:
        problem = check(value)
        if problem:
            ctx.error("GRID023", problem, atom.span)
            return None
    return value


def to_int(ctx: Context, atom: Atom, minimum: int = 0) -> int | None:
    if atom.kind != "number" or atom.unit not in (None, "vehicles", "units"):
        _wrong(ctx, atom, "a whole number")
        return None
    v = float(atom.value)
    if not v.is_integer():
        ctx.error("GRID023", f"expected a whole number, found {atom.text}", atom.span)
        return None
    if v < minimum:
        ctx.error("GRID023", f"must be at least {minimum}, found {atom.text}", atom.span)
        return None
    return int(v)


def to_word(ctx: Context, atom: Atom, choices: Iterable[str] | None,
            key: str | None = None, listed: bool = False) -> str | None:
    """A name among `choices`; with `listed`, the help of a misspelt word also names
    every choice (for short, closed lists such as `pricing` or `formulation`)."""
    if atom.kind not in ("name", "kw"):
        _wrong(ctx, atom, "a name")
        return None
    word = str(atom.value)
    if choices is not None:
        options = list(choices)
        if word not in options:
            what = key or "kind"
            ctx.error("GRID015", f"unknown {what} '{word}'", atom.span,
                      help=choice_help(word, options, what) if listed
                      else did_you_mean(word, options, f"{what}s"))
            return None
    return word


def choice_help(word: str, options: list[str], what: str) -> str:
    """'did you mean 'x'? (`what` is one of: a, b)', or just the list."""
    listing = f"{what} is " + " or ".join(f"'{o}'" for o in options)
    close = did_you_mean(word, options, what)
    if not close.startswith("did you mean"):
        return listing
    return close if all(f"'{o}'" in close for o in options) else f"{close} ({listing})"


def to_range(ctx: Context, atom: Atom, expect: Expect,
             check: Callable[[float], str | None] | None = None
             ) -> tuple[float, float] | None:
    if atom.kind != "range":
        _wrong(ctx, atom, f"a range like {expect.example} .. {expect.example}")
        return None
    lo_atom, hi_atom = atom.items
    if lo_atom.unit is None and hi_atom.unit is not None:
        lo_atom = Atom(kind="number", span=lo_atom.span, value=lo_atom.value,
                       unit=hi_atom.unit, text=lo_atom.text)
    lo = to_float(ctx, lo_atom, expect, check)
    hi = to_float(ctx, hi_atom, expect, check)
    if lo is None or hi is None:
        return None
    if lo > hi:
        ctx.error("GRID024", f"range lower bound {lo_atom.text} exceeds upper bound "
                  f"{hi_atom.text}", atom.span, help="write the range as low .. high")
        return None
    return (lo, hi)


def to_refs(ctx: Context, atom: Atom) -> tuple[str, ...] | None:
    if atom.kind != "list":
        text = ref_text(atom)
        if text is not None:
            return (text,)
        _wrong(ctx, atom, "a list of names like [1, 2, 3]")
        return None
    out: list[str] = []
    for item in atom.items:
        text = ref_text(item)
        if text is None:
            _wrong(ctx, item, "a name, a bus number or a line like 1-2")
            return None
        out.append(text)
    return tuple(out)


def to_numbers(ctx: Context, atom: Atom, expect: Expect) -> tuple[float, ...] | None:
    if atom.kind != "list":
        _wrong(ctx, atom, f"a list of numbers like [1, 2] {expect.unit}".rstrip())
        return None
    out: list[float] = []
    for item in atom.items:
        if item.kind != "number":
            _wrong(ctx, item, "a number")
            return None
        unit = item.unit if item.unit is not None else atom.unit
        # a unit written after the list belongs to the whole list: point at the list
        span = item.span if item.unit is not None or atom.unit is None else atom.span
        v = to_float(ctx, Atom(kind="number", span=span, value=item.value, unit=unit,
                               text=item.text), expect)
        if v is None:
            return None
        out.append(v)
    return tuple(out)


def read_file(ctx: Context, rel: str, span: Span) -> tuple[str, str] | None:
    """Read a file named relative to the current .grid file: (display path, text).
    Only through `ctx.access`: a file outside the model's folder (and the granted
    ones), not a regular file or too large is a diagnostic at `span`."""
    path = (ctx.base_dir / rel)
    display = str(path) if Path(rel).is_absolute() else _display(ctx.base_dir, rel)
    got = ctx.access.read(path)
    if isinstance(got, Refused):
        code, message, hint = got.explain(rel, rel, f"paths are relative to the file that "
                                                    f"names them ({ctx.base_dir})")
        ctx.error(code, message, span, help=hint)
        return None
    text = got[1]
    ctx.sources[display] = snippet_view(text)
    return display, text


def _display(base: Path, rel: str) -> str:
    joined = base / rel
    try:
        return str(joined.relative_to(Path.cwd()))
    except ValueError:
        return str(joined)


def read_table(ctx: Context, st: Stmt) -> tables.Table | None:
    """The table of `key table {...}` or `key from "file.csv"`."""
    atoms = st.atoms[1:]
    if len(atoms) == 1 and atoms[0].kind == "table":
        return ctx.counted(tables.parse_inline(atoms[0].text, atoms[0].span, ctx.diags,
                                               ctx.rows_left(), ctx.budget.table_rows))
    if len(atoms) == 2 and atoms[0].kind == "kw" and atoms[0].value == "from" \
            and atoms[1].kind == "string":
        got = read_file(ctx, str(atoms[1].value), atoms[1].span)
        if got is None:
            return None
        display, text = got
        return ctx.counted(tables.parse_csv(text, display, atoms[1].span, str(atoms[1].value),
                                            ctx.diags, ctx.rows_left(), ctx.budget.table_rows))
    where = atoms[0].span if atoms else st.span
    ctx.error("GRID014", f"'{st.keyword}' expects a table or a CSV file", where,
              help=f"write '{st.keyword} table {{ header ... rows }}' or "
                   f"'{st.keyword} from \"file.csv\"'")
    return None
