"""Fuzzing the .grid front end with hypothesis.

Three properties:

1. Sentences of the real grammar (`hypothesis.extra.lark.from_lark` on dsl/grid.lark):
   `gridc.dsl.parse` returns a Model or raises GridError, never anything else; and a
   sentence that parses formats to a fixed point with the same concrete syntax tree.
2. Random byte-, character- and token-level mutations of every shipped `models/*.grid`
   (and of the CSV files of a small model): only GridError leaves `parse`, and
   `gridc check` never prints a traceback and exits 0 or 1.
3. Round trip: random *valid* small models (buses, lines, ties, loads, generators,
   storage, profiles; random numbers and units, random layout and comments) parse to
   the same IR before and after `format_text`, spans aside.

Example counts (400 sentences, 400 + 120 model mutants, 150 CSV mutants, 80 valid
models) are sized for a run of about 30 s on two cores; multiply them with
GRIDC_FUZZ_SCALE=10 (or more) for a long fuzzing session.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from gridc.cli.main import main as gridc_main
from gridc.dsl import GridError, ir, parse
from gridc.dsl.diagnostics import Collector
from gridc.dsl.fmt import format_document, format_text
from gridc.dsl.syntax import Atom, Stmt, grammar_text, parse_document

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted((ROOT / "models").glob("*.grid"))
SCALE = float(os.environ.get("GRIDC_FUZZ_SCALE", "1"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
        print_blob=True,
    )


# ------------------------------------------------------------------ helpers


def strip_spans(value: Any) -> Any:
    """A model_dump() with every `span` removed, recursively."""
    if isinstance(value, dict):
        return {k: strip_spans(v) for k, v in value.items() if k != "span"}
    if isinstance(value, list | tuple):
        return [strip_spans(v) for v in value]
    return value


def ir_of(model: ir.Model) -> Any:
    return strip_spans(model.model_dump(exclude={"sources"}))


def _table_rows(text: str) -> tuple[tuple[str, ...], ...]:
    body = text[text.index("{") + 1 : -1]
    rows = (re.split(r"//|#", line, maxsplit=1)[0].split() for line in body.split("\n"))
    return tuple(tuple(r) for r in rows if r)


def atom_shape(a: Atom) -> Any:
    if a.kind == "table":
        return ("table", _table_rows(a.text))
    value = a.text if a.kind == "number" else a.value
    return (a.kind, value, a.unit, a.key, tuple(atom_shape(x) for x in a.items))


def cst_shape(stmts: list[Stmt]) -> list[Any]:
    """The CST without positions and comments: what formatting must never change."""
    return [(tuple(atom_shape(a) for a in s.atoms),
             None if s.block is None else cst_shape(s.block))
            for s in stmts if s.atoms]


def parse_only_grid_errors(text: str, path: str) -> ir.Model | None:
    try:
        return parse(text, path)
    except GridError as exc:
        assert exc.diagnostics, "a GridError without diagnostics"
        assert str(exc)  # renders
        return None


# ------------------------------------------------------------------ 1. grammar sentences


def generation_grammar(text: str) -> str:
    """grid.lark for generating sentences: without %ignore (whitespace and comments
    come from the explicit strategies below, which pad words so that from_lark cannot
    glue them), and with the recursion through blocks and lists unrolled two levels
    deep. Unbounded, a block holds about two statements that each open a block half
    the time, so sentences grow without limit and many draws overran hypothesis'
    buffer (wasted time). The result generates a subset of the real language, and
    sentences are parsed with the real parser."""
    text = re.sub(r"(?m)^%ignore.*$", "", text)
    rules = {
        'block: "{" _bsep* (stmt _bsep+)* stmt? "}"':
            'block: "{" _bsep* (stmt1 _bsep+)* stmt1? "}"\n'
            "stmt1: atom+ block1?\n"
            'block1: "{" _bsep* (stmt2 _bsep+)* stmt2? "}"\n'
            "stmt2: atom+",
        "?item: quantity | range | NAME | STRING | PAIR | list":
            "?item: quantity | range | NAME | STRING | PAIR | list1\n"
            'list1: "[" [item1 ("," item1)*] ","? "]" unit?\n'
            "?item1: quantity | range | NAME | STRING | PAIR",
    }
    for rule, bounded in rules.items():
        assert rule in text, f"grid.lark changed: update generation_grammar ({rule})"
        text = text.replace(rule, bounded)
    return text


_GEN_GRAMMAR = Lark(generation_grammar(grammar_text()), parser="lalr")
_TERMINALS = {t.name: t.pattern.to_regexp() for t in _GEN_GRAMMAR.terminals}

STATEMENT_WORDS = ["model", "import", "horizon", "economics", "formulation", "network",
                   "profile", "load", "generator", "storage", "invest", "scenarios", "penalty",
                   "price", "area", "fleet", "travel", "station", "study", "sweep"]
WORDS = [
    *STATEMENT_WORDS, "base", "slack", "voltage", "buses", "lines", "ties", "p", "q",
    "priority", "p_max", "p_min", "power", "energy", "soc", "soc_init", "efficiency", "wear",
    "fuel", "currency",
    "discount", "life", "scenario", "probability", "outage", "scale", "solve", "gap", "set",
    "fix", "case", "without", "kmeans", "pso", "gas_turbine", "pv", "wind", "shed", "grid",
    "carbon", "type", "count", "candidates", "sites", "depot", "install", "maintain",
    "region", "nodes", "kW", "kV", "MVA", "kvar", "kWh", "ohm", "km", "h", "y", "pu", "CNY",
    "kCNY", "Yuan", "a", "b", "x1", "n.m", "ev_battery.evs", "mess.MESS2", "history",
    "pricing", "present_value", "annualised", "lindistflow", "distflow", "unit", "objective",
]
_IDENT = st.tuples(st.sampled_from("abxyzAB_"), st.text("abcxyzAB_019", max_size=5)).map("".join)
_NUMBERS = ["0", "1", "2", "10", "33", "0.5", "12.66", "1e3", "-1", "-0", "+3", ".5", "1E-3",
            "1e999", "-1e999", "1e-400", "99999999999999999999999", "0.000"]


def _pad(s: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return s.map(lambda x: f" {x} ")


EXPLICIT: dict[str, st.SearchStrategy[str]] = {
    "NAME": st.one_of(st.sampled_from([f" {w} " for w in WORDS]), _pad(_IDENT)),
    "NUMBER": _pad(st.one_of(st.sampled_from(_NUMBERS), st.integers(-(10**6), 10**20).map(str),
                             st.floats(allow_nan=False, allow_infinity=False).map(repr))),
    "KW": st.sampled_from([f" {w} " for w in ("at", "from", "to", "with", "by", "over",
                                               "extends", "step", "column", "cluster",
                                               "each")]),
    "PAIR": _pad(st.one_of(st.sampled_from(["1-2", "27-28", "a-b", "0-0"]),
                           st.tuples(_IDENT | st.integers(0, 99).map(str),
                                     _IDENT | st.integers(0, 99).map(str)).map("-".join))),
    "STRING": _pad(st.one_of(
        st.sampled_from(['"x"', '"data/typhoon_history.csv"', '"a\\"b"', '""', '"\\n"',
                         '"/nonexistent/x.csv"', '"."', '"models"']),
        st.text(st.characters(exclude_characters='"\\\n'), max_size=8).map(lambda s: f'"{s}"'),
    )),
    "TABLE": _pad(st.sampled_from([
        "table { from to r[ohm] x[ohm]\n 1 2 0.1 0.2\n }",
        "table {id p[kW] q[kvar]\n1 0 0\n2 10 5 // c\n}",
        "table { }",
        "table{a[b] c\n x y\n # only a comment\n}",
        "table {\tid\n 1e999\n nan\n}",
        "table { from to r[ohm(] x[10**10**10]\n 1 2 3 4 }",
    ])),
    "_NL": st.sampled_from(["\n", "\r\n", "\n\n", " // c\n", "\n# x\n", "\n\n\n"]),
    "COMMA": st.sampled_from([", ", ",", ", // k\n", ",\n"]),
    "LSQB": st.sampled_from(["[", "[ # q\n"]),
    "LBRACE": st.sampled_from([" {", " { // b\n"]),
    "RBRACE": st.sampled_from(["}", "\n}", "} // e\n"]),
    "DOTDOT": st.just(" .. "),
    "SYM": _pad(st.sampled_from([":", "<=", ">=", "->"])),
    "EQ": st.just(" = "),
    "UNIT_OP": st.sampled_from(["/", "*", " / "]),
    "PERCENT": st.just(" % "),
    "UNIT_POW": st.sampled_from(["^2", "^-1", "^99999", "^-400"]),
}

_SENTENCE = from_lark(_GEN_GRAMMAR, explicit=EXPLICIT)
# A statement keyword in front of a generated statement reaches the IR builders.
_STATEMENTS = st.lists(
    st.tuples(st.sampled_from(STATEMENT_WORDS),
              from_lark(_GEN_GRAMMAR, start="stmt", explicit=EXPLICIT)).map(" ".join),
    min_size=1, max_size=4,
).map("\n".join)


@fuzz_settings(400)
@given(st.one_of(_SENTENCE, _STATEMENTS))
def test_grammar_sentences_raise_only_grid_errors(text: str) -> None:
    parse_only_grid_errors(text, str(ROOT / "models" / "fuzz.grid"))
    doc = parse_document(text, "fuzz.grid", Collector())
    if doc is None:
        return
    # a syntactically valid text formats to a fixed point with the same syntax tree
    pretty = format_document(doc)
    again = parse_document(pretty, "fuzz.grid", Collector())
    assert again is not None, pretty
    assert format_document(again) == pretty
    assert cst_shape(again.statements) == cst_shape(doc.statements)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_generated_sentences_are_mostly_valid_syntax() -> None:
    """Guard the generator itself: padded terminals must give parseable text."""
    ok = 0
    for seed in range(60):
        text = _SENTENCE.example() if seed % 2 else _STATEMENTS.example()
        ok += parse_document(text, "x.grid", Collector()) is not None
    assert ok >= 30


# ------------------------------------------------------------------ 2. mutations

_TOKEN = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_.]*|[0-9][0-9.eE+-]*|\"[^\"\n]*\"|//[^\n]*|.",
                    re.S)
_NASTY = ["\x00", "\u2028", "\u00e9", "\u20ac", "\U0001f600", "\ufeff", "\u00a0", "\ud800",
          "\t", "\r", "\n", "{", "}", "[", "]", "(", ")", '"', "\\", ",", "..", "%", "^",
          "/", "#", "//", "=", ":", "-", "table {", "1e999", "-1e999", "nan", "inf", "at",
          "from", 'from "x.csv"', "0", "-1", "1-1", "1-2", "^-999", "[ohm(]", "**", "\u0661"]

_MUTATION = st.tuples(st.integers(0, 9), st.integers(0, 2**31), st.integers(0, 2**31),
                      st.sampled_from(_NASTY) | st.text(max_size=3))


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text) or [""]


def mutate(text: str, ops: list[tuple[int, int, int, str]]) -> str:
    """Apply mutations: token delete/duplicate/swap/insert/replace, character insert,
    truncation, bit flip (UTF-8 bytes, decoded leniently), whole-line duplication."""
    pool = _tokens(text)
    for kind, a, b, extra in ops:
        toks = _tokens(text)
        i, j = a % len(toks), b % len(toks)
        if kind == 0:
            del toks[i]
        elif kind == 1:
            toks.insert(i, toks[i])
        elif kind == 2:
            toks[i], toks[j] = toks[j], toks[i]
        elif kind == 3:
            toks.insert(i, pool[b % len(pool)])
        elif kind == 4:
            toks[i] = extra
        text = "".join(toks)
        if kind == 5:
            k = a % (len(text) + 1)
            text = text[:k] + extra + text[k:]
        elif kind == 6:
            text = text[: a % (len(text) + 1)]
        elif kind == 7 and text:
            raw = bytearray(text.encode("utf-8", "surrogatepass"))
            raw[a % len(raw)] ^= 1 << (b % 8)
            text = raw.decode("utf-8", "replace")
        elif kind == 8:
            lines = text.split("\n")
            k = a % len(lines)
            lines.insert(b % len(lines), lines[k])
            text = "\n".join(lines)
        elif kind == 9:
            toks = _tokens(text)
            del toks[i : i + 1 + b % 8]
            text = "".join(toks)
    return text


@pytest.fixture(scope="module")
def model_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of models/ (with its data files) where mutated files may be written."""
    dest = tmp_path_factory.mktemp("fuzz") / "models"
    shutil.copytree(ROOT / "models", dest, ignore=shutil.ignore_patterns("*.nc", "out"))
    return dest


@fuzz_settings(400)
@given(model=st.sampled_from(MODELS), ops=st.lists(_MUTATION, min_size=1, max_size=5))
def test_mutated_models_raise_only_grid_errors(model: Path, ops: list[Any]) -> None:
    text = mutate(model.read_text(encoding="utf-8"), ops)
    parse_only_grid_errors(text, str(model))


CSV_MODEL = """model csvs "CSV inputs"
horizon 4 h step 1 h
network n {
  base 12.66 kV 10 MVA
  slack 1
  buses from "buses.csv"
  lines from "lines.csv"
}
profile shape from "profiles.csv" column load
profile tou from "profiles.csv" column price
load l1 at 2 { p 10 kW, profile shape }
"""
CSV_FILES = {
    "buses.csv": "id,p[kW],q[kvar],priority\n1,0,0,1\n2,100,60,2\n3,90,40,1\n",
    "lines.csv": "from,to,r[ohm],x[ohm],rating[kVA],open\n1,2,0.09,0.05,4000,no\n"
                 "2,3,0.49,0.25,4000,closed\n",
    "profiles.csv": "load,price[CNY/kWh]  // comment\n0.5,0.3\n0.6,0.3\n# hour 3\n0.9,0.8\n"
                    "1.0,0.8\n",
}


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("csvfuzz")
    (d / "m.grid").write_text(CSV_MODEL, encoding="utf-8")
    for name, text in CSV_FILES.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


def test_csv_model_is_valid(csv_dir: Path) -> None:
    model = parse(CSV_MODEL, str(csv_dir / "m.grid"))
    assert len(model.network().lines) == 2 and model.profile("tou").unit == "CNY/kWh"


@fuzz_settings(150)
@given(name=st.sampled_from(sorted(CSV_FILES)), ops=st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_csv_files_raise_only_grid_errors(csv_dir: Path, name: str,
                                                  ops: list[Any]) -> None:
    mutated = mutate(CSV_FILES[name], ops)
    try:
        (csv_dir / name).write_text(mutated, encoding="utf-8", errors="surrogatepass")
        parse_only_grid_errors(CSV_MODEL, str(csv_dir / "m.grid"))
    finally:
        (csv_dir / name).write_text(CSV_FILES[name], encoding="utf-8")


def run_check(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = gridc_main(["check", str(path)])
    return code, out.getvalue() + err.getvalue()


@fuzz_settings(120)
@given(model=st.sampled_from(MODELS), ops=st.lists(_MUTATION, min_size=1, max_size=5),
       raw_flip=st.none() | st.integers(0, 2**31))
def test_mutated_models_check_cleanly(model_copy: Path, model: Path, ops: list[Any],
                                      raw_flip: int | None) -> None:
    data = mutate(model.read_text(encoding="utf-8"), ops).encode("utf-8", "surrogatepass")
    if raw_flip is not None and data:  # raw bytes: the file may not be UTF-8 any more
        buf = bytearray(data)
        buf[raw_flip % len(buf)] ^= 0x80
        data = bytes(buf)
    target = model_copy / f"fuzz_{model.name}"
    target.write_bytes(data)
    code, output = run_check(target)
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    assert code in (0, 1), output
    assert output.strip()


def test_unmutated_models_check_cleanly(model_copy: Path) -> None:
    for model in MODELS:
        code, output = run_check(model_copy / model.name)
        assert code == 0, output


# ------------------------------------------------------------------ 3. valid models


def _num(value: float, style: int) -> str:
    """A number as a planner might write it; style picks the spelling."""
    if style == 0:
        text = f"{value:g}"
    elif style == 1:
        text = f"{value:.4f}"
    elif style == 2:
        text = f"{value:.3e}"
    else:
        text = repr(value)
    assert re.fullmatch(_TERMINALS["NUMBER"], text), text
    return text


#: (unit, factor to its canonical unit) per dimension: values are drawn in the
#: canonical unit and written in the chosen one.
POWER_UNITS = [("kW", 1.0), ("MW", 1000.0), ("W", 0.001), ("kVA", 1.0), ("MVA", 1000.0)]
ENERGY_UNITS = [("kWh", 1.0), ("MWh", 1000.0)]
VOLTAGE_UNITS = [("kV", 1.0), ("V", 0.001)]


@st.composite
def valid_models(draw: st.DrawFn) -> str:
    def num(lo: float, hi: float) -> str:
        value = draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))
        return _num(value, draw(st.integers(0, 3)))

    def unit_of(options: list[tuple[str, float]]) -> str:
        return draw(st.sampled_from(options))[0]

    sep = draw(st.sampled_from([", ", "\n", " ,  "]))
    comment = st.sampled_from(["", "", "  // note", "  # another note"])
    n = draw(st.integers(2, 9))
    steps = draw(st.sampled_from([1, 2, 3, 6, 24, 40]))  # long profiles wrap
    out: list[str] = []
    if draw(st.booleans()):
        out.append('// a generated model\n')
    out.append(f'model m{draw(st.integers(0, 99))} "round trip"' + draw(comment))
    out.append(f"horizon {steps} h step 1 h")
    if draw(st.booleans()):
        pricing = draw(st.sampled_from(["", ", pricing present_value", ", pricing annualised"]))
        out.append("economics { currency CNY, discount " + num(0, 20) + " %, life "
                   + num(1, 50) + " y" + pricing + " }")
    if draw(st.booleans()):
        out.append("formulation " + draw(st.sampled_from(["lindistflow", "distflow"]))
                   + draw(comment))
    profile = [num(0, 1.5) for _ in range(steps)]
    wrap = draw(st.sampled_from([", ", ",\n    ", " , "]))
    out.append(f"profile shape = [{wrap.join(profile)}]" + draw(comment))

    pu = draw(st.sampled_from(["p[kW]", "p[MW]", "p[W]"]))
    bus_rows = [f"id {pu} q[kvar] priority"]
    for i in range(1, n + 1):
        bus_rows.append(f"{i}  {num(0, 500)}  {num(-100, 300)}  {num(0, 3)}")
    lines = ["from to r[ohm] x[ohm] rating[kVA]"]
    for i in range(2, n + 1):
        parent = draw(st.integers(1, i - 1))
        lines.append(f"{parent} {i} {num(0.01, 2)} {num(0.01, 2)} {num(100, 9000)}")
    ties = ["from to r[ohm] x[ohm]"]
    used = {line.split()[0] + "-" + line.split()[1] for line in lines[1:]}
    for _ in range(draw(st.integers(0, 2))):
        a, b = draw(st.integers(1, n)), draw(st.integers(1, n))
        if a != b and f"{a}-{b}" not in used:  # a line's id is "from-to"
            used.add(f"{a}-{b}")
            ties.append(f"{a} {b} {num(0.1, 3)} {num(0.1, 3)}")
    pad = draw(st.sampled_from(["  ", "\t", "    "]))
    parts = [
        f"base {num(0.4, 40)} {unit_of(VOLTAGE_UNITS)} {num(1, 100)} MVA",
        f"slack 1 at {num(0.95, 1.05)} pu" if draw(st.booleans()) else "slack 1",
        f"voltage {num(0.85, 0.97)} .. {num(1.0, 1.1)} pu",
        "buses table {\n" + "\n".join(pad + r for r in bus_rows) + "\n}",
        "lines table {\n" + "\n".join(pad + r for r in lines) + "\n}",
    ]
    if len(ties) > 1:
        parts.append("ties table {\n" + "\n".join(pad + r for r in ties) + "\n}")
    out.append("network net {" + draw(comment) + "\n" + "\n".join(pad + p for p in parts)
               + "\n}")
    for k in range(draw(st.integers(0, 3))):
        props = [f"p {num(0, 900)} {unit_of(POWER_UNITS)}", f"q {num(-50, 50)} kvar",
                 f"priority {num(0, 5)}"]
        if draw(st.booleans()):
            props.append("profile shape")
        out.append(f"load l{k} at {draw(st.integers(1, n))} {{ {sep.join(props)} }}")
    for k in range(draw(st.integers(0, 2))):
        props = [f"p_max {num(10, 900)} {unit_of(POWER_UNITS)}",
                 f"fuel {num(0, 2)} CNY/kWh"]
        out.append(f"generator g{k} : gas_turbine at {draw(st.integers(1, n))} "
                   f"{{ {sep.join(props)} }}")
    for k in range(draw(st.integers(0, 3))):
        lo = draw(st.floats(0, 0.5))
        hi = draw(st.floats(0.5, 1))
        props = [f"power {num(1, 900)} {unit_of(POWER_UNITS)}",
                 f"energy {num(1, 3000)} {unit_of(ENERGY_UNITS)}",
                 f"efficiency {num(0.5, 1)}",
                 f"soc {_num(lo, 0)} .. {_num(hi, 0)}"]
        if draw(st.booleans()):
            props.append(f"wear {num(0, 0.1)} CNY/kWh")
        head = f"storage s{k} at {draw(st.integers(1, n))} {{"
        if "\n" in sep or draw(st.booleans()):  # a multi-line block, commented lines
            body = "\n".join("  " + prop + draw(comment) for prop in props)
            out.append(head + draw(comment) + "\n" + body + "\n}")
        else:
            out.append(head + " " + sep.join(props) + " }")
    builds = [f"b{k}" for k in range(draw(st.integers(0, 2)))]
    for name in builds:
        out.append(_storage_build(draw, num, name, draw(st.integers(1, n)), sep, comment))
    if draw(st.booleans()):
        out.append(f"penalty shed {num(0, 20)} CNY/kWh weighted by priority")
    with_study: bool = draw(st.booleans())
    if builds or with_study:
        solve = draw(st.sampled_from(["", "formulation lindistflow", "formulation distflow",
                                      "gap 1 %, formulation distflow"]))
        out.append(f"study base {{ {solve} }}" if solve else "study base {}")
        if builds:
            out.append(f"study lean extends base {{ without {draw(st.sampled_from(builds))} }}")
    blank = draw(st.sampled_from(["\n", "\n\n"]))
    return blank.join(out) + "\n"


def _storage_build(draw: st.DrawFn, num: Any, name: str, bus: int, sep: str,
                   comment: st.SearchStrategy[str]) -> str:
    """`invest NAME : storage at BUS { ... }` with random sizes, units and cost lines."""
    def size(lo: float, hi: float, units: list[tuple[str, float]]) -> str:
        unit = draw(st.sampled_from(units))[0]
        if draw(st.booleans()):
            return f"{num(lo, hi)} {unit}"
        return f"0 .. {num(lo, hi)} {unit}"

    props = [f"power {size(1, 900, POWER_UNITS)}", f"energy {size(1, 3000, ENERGY_UNITS)}"]
    if draw(st.booleans()):
        energy_unit = draw(st.sampled_from(ENERGY_UNITS))[0]
        props.append(f"unit {num(1, 200)} kW {num(1, 800)} {energy_unit}")
    if draw(st.booleans()):
        props += [f"efficiency {num(0.5, 1)}", "soc 10 % .. 90 %", "soc_init 50 %",
                  f"wear {num(0, 0.1)} CNY/kWh"]
    costs = draw(st.sampled_from([("kW",), ("kWh",), ("kW", "kWh"), ("kWh", "kW")]))
    for basis in costs:
        money = draw(st.sampled_from(["CNY", "kCNY", "kYuan"]))
        props.append(f"install {num(0, 2)} {money}/{basis}")
        if draw(st.booleans()):
            props.append(f"maintain {num(0, 20)} CNY/{basis}/y")
    props.append(f"life {num(1, 30)} y")
    props = draw(st.permutations(props))
    head = f"invest {name} : storage at {bus} {{"
    if "\n" in sep or draw(st.booleans()):
        return head + draw(comment) + "\n" + "\n".join("  " + p + draw(comment) for p in props) \
            + "\n}"
    return head + " " + sep.join(props) + " }"


@fuzz_settings(80)
@given(valid_models())
def test_format_round_trip_keeps_the_ir(text: str) -> None:
    path = str(ROOT / "models" / "roundtrip.grid")
    try:
        before = parse(text, path)
    except GridError as exc:  # the generator must only write valid models
        pytest.fail(f"generated model rejected:\n{text}\n{exc}")
    pretty = format_text(text, path)
    after = parse(pretty, path)
    assert ir_of(after) == ir_of(before)
    assert format_text(pretty, path) == pretty
    net = after.network()
    assert all(math.isfinite(b.p_kw) for b in net.buses)


# ------------------------------------------------------------------ robustness corners


@pytest.mark.parametrize("text", [
    "x " + "[" * 5000 + "]" * 5000,
    "a {" * 5000 + "}" * 5000,
    "a {" * 40 + " x " + "[" * 40 + "]" * 40 + "}" * 40,
    "profile p = " + "[" * 100000,
])
def test_deep_nesting_is_a_located_grid_error(text: str) -> None:
    for attempt in (parse, format_text):
        with pytest.raises(GridError) as caught:
            attempt(text)
        diag = caught.value.diagnostics[0]
        assert diag.code == "GRID002"
        assert "nesting deeper than" in diag.message
        assert diag.span.col > 1  # points at the bracket, not at the file


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    text = (ROOT / "models" / "ieee33.grid").read_text(encoding="utf-8")
    assert ir_of(parse("\ufeff" + text, "models/ieee33.grid")) == \
        ir_of(parse(text, "models/ieee33.grid"))
    assert format_text("\ufeff" + text) == format_text(text)
    (tmp_path / "buses.csv").write_text("\ufeffid,p[kW]\n1,0\n2,5\n", encoding="utf-8")
    model = tmp_path / "m.grid"
    model.write_text('network n {\n  base 1 kV 1 MVA\n  slack 1\n  buses from "buses.csv"\n'
                     "  lines table {\n    from to r[ohm] x[ohm]\n    1 2 1 1\n  }\n}\n",
                     encoding="utf-8")
    code, output = run_check(model)
    assert code == 0, output


def test_comments_are_collected_per_thread() -> None:
    from concurrent.futures import ThreadPoolExecutor

    def comments_of(k: int) -> list[str]:
        text = "".join(f"// c{k}.{i}\nx{k} {i}  // t{k}.{i}\n" for i in range(200))
        doc = parse_document(text, f"f{k}.grid", Collector())
        assert doc is not None
        return [c.text for s in doc.statements for c in [*s.leading, s.trailing] if c]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(comments_of, range(8)))
    for k, found in enumerate(results):
        assert len(found) == 400
        assert all(c.startswith((f"// c{k}.", f"// t{k}.")) for c in found)


def test_hostile_units_in_headers_are_grid_errors() -> None:
    for header in ("r[ohm(]", "r[10**10**10]", "r[kW^99999999]", "r[%^-999]", "r[1/0]"):
        text = ('network n {\n  base 1 kV 1 MVA\n  slack 1\n  buses table {\n    id\n'
                f"    1\n    2\n  }}\n  lines table {{\n    from to {header} x[ohm]\n"
                "    1 2 1 1\n  }\n}\n")
        with pytest.raises(GridError) as caught:
            parse(text)
        assert caught.value.diagnostics[0].code == "GRID020", header
