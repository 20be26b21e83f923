"""Explain an infeasible model: first the `.grid` lines whose relaxation restores
feasibility at least cost (the causes), then where the shortfall shows (the symptoms).

The model is compiled again in elastic mode (`compile_model(..., elastic=True)`, see
`gridc.compiler.core.builder`), which is always feasible: every relaxable row gets
*symptom* slacks per cell (nodal balance, voltage limits, line ratings, generator
minimum output, storage SOC) and every number a statement wrote that bounds the model
gets one *cause* slack (a generator's or grid import's p_max, a substation's capacity,
a line's rating, the slack voltage, a voltage band, a p_min, a SOC range, an
investment's `count`, a study's `fix`), priced below the symptoms. It is solved several
times on one HiGHS model (`BoundsResolver`: only the bounds of the cause slacks change
between solves):

1. *options*: the least-cost relaxation names the statements to move first (option 1);
   forbidding them, the next least-cost relaxation names an alternative (option 2),
   and so on, until a relaxation moves no statement or `options` are found. Each
   statement is reported with its `.grid` line — the `set` line of a study or sweep
   case when an override wrote the number — and the change in the user's units
   (kW, kVA, kWh and %, p.u. of voltage: squared voltages are converted back);
2. *symptoms*: with every cause slack held at 0 (the model as written), the symptom
   slacks say which buses are short of power, at which steps — what `--diagnose`
   reported before causes were named. When that solve fails (an over-budget `fix`
   conflicts with rows that are never relaxed) the symptoms are option 1's.

Why several solves rather than one: one relaxation shows one way out; a planner
deciding between raising an import limit and reinforcing a line wants both, cheapest
first, and the model as written still shows where it breaks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr

from gridc.compiler import compile_model
from gridc.compiler.core.builder import Cause
from gridc.compiler.core.compiled import CompiledModel
from gridc.compiler.core.index import SCENARIO, TIME
from gridc.compiler.formulations.lindistflow import voltage_limits
from gridc.dsl import ir
from gridc.dsl.spans import Span
from gridc.runtime.backend.solver import BoundsResolver, SolveStatus

#: slacks below this are solver noise
TOL = 1e-6
#: how many options (least-cost relaxations, each avoiding the statements of the ones
#: before) are looked for by default
OPTIONS = 3

Reader = Callable[[str], xr.DataArray]


@dataclass(frozen=True)
class Finding:
    """A symptom: one relaxed row family at one source label (the model as written)."""

    family: str  # e.g. "nodal balance"
    block: str  # constraint / variable block, e.g. "nodal_p"
    side: str  # which slack: "up"/"down" (rows), "lower"/"upper" (bounds)
    source_kind: str | None  # bus, line, gen, storage, load
    label: str  # coordinate label, e.g. bus "33"
    where: str  # file:line:col of the source, or "" if unknown
    amount: float  # largest relaxation needed
    unit: str
    scenarios: tuple[str, ...]
    steps: tuple[int, ...]


@dataclass(frozen=True)
class CauseFinding:
    """A `.grid` statement whose number, moved by `change`, takes part in a relaxation
    that restores feasibility."""

    rank: int  # 1 = the first to look at
    option: int  # 1: the least-cost relaxation; k: the least-cost one avoiding options < k
    kind: str  # supply limit, line rating, slack voltage, voltage limits, fixed decision, ...
    subject: str  # e.g. "generator supply", "line 1-2", "network feeder", "fix r1"
    action: str  # e.g. "raise p_max from 200 kW to 240 kW (+40 kW)"
    change: float  # size of the change, in `unit`
    unit: str
    where: str  # file:line:col
    span: Span  # the property (or `set` / `fix` statement) to point at
    via_set: bool  # the number was written by a study's or sweep case's `set`
    cost: float  # its share of the elastic objective
    sufficient: bool  # its option restores feasibility with no symptom left
    scenarios: tuple[str, ...] = ()
    steps: tuple[int, ...] = ()


@dataclass
class Diagnosis:
    status: SolveStatus  # of the first elastic solve (every statement may move)
    findings: list[Finding] = field(default_factory=list)  # symptoms
    causes: list[CauseFinding] = field(default_factory=list)
    symptom_status: SolveStatus | None = None  # of the solve with the causes held
    # the symptoms are the model's as written (0), or — when that solve fails, the
    # conflict being among rows never relaxed — what option 1 leaves short (1)
    symptoms_after: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. a solve stopped by its time limit
    sources: dict[str, str] = field(default_factory=dict)  # to quote the `.grid` lines

    @property
    def families(self) -> list[str]:
        return list(dict.fromkeys(f.family for f in self.findings))


# ---------------------------------------------------------------------- statements


@dataclass(frozen=True)
class _Statement:
    """What one cause slack label moves: a property of an IR node, its text, its value."""

    key: tuple[str, str]  # (where, field): levers of one statement are grouped by it
    subject: str
    what: str  # the property as written: p_max, rating, v_min, slack voltage, ...
    span: Span
    current: float | None  # its value in the model as compiled (after overrides)
    via_set: bool
    energy_kwh: float = 0.0  # storage SOC: the capacity a fraction refers to


def _override(compiled: CompiledModel, path: str) -> ir.Override | None:
    """The `set` that wrote `path` (the last one of the study chain or sweep case)."""
    return next((o for o in reversed(compiled.study.overrides) if o.path == path), None)


def _narrow(sources: dict[str, str], span: Span, keyword: str) -> Span:
    """`span` (a statement, possibly a block) narrowed to its property `keyword` and
    value (`p_max 300 kW`), or `span` itself when the property is not written."""
    text = sources.get(span.file)
    if text is None:
        return span
    lines = text.splitlines(keepends=True)
    if not 1 <= span.line <= span.end_line <= len(lines):
        return span
    starts = np.cumsum([0, *(len(ln) for ln in lines)])
    lo = int(starts[span.line - 1]) + span.col - 1
    hi = int(starts[span.end_line - 1]) + span.end_col - 1
    pattern = (rf"(?m)(?:^|[{{,])[ \t]*({re.escape(keyword)}\b(?:(?!//|#)[^,}}\n])*?)"
               r"[ \t]*(?=,|}|//|#|\r?\n|$)")
    found = re.compile(pattern).search(text, lo, max(lo, hi))
    if found is None:
        return span
    start, end = found.span(1)
    line = int(np.searchsorted(starts, start, side="right"))
    col = start - int(starts[line - 1]) + 1
    return Span(file=span.file, line=line, col=col, end_line=line, end_col=col + end - start)


class _Statements:
    """The statement behind each label of each cause (see `compiler.core.builder.Lever`),
    looked up by name and computed once: a 1,000-bus model asks for every bus."""

    def __init__(self, compiled: CompiledModel):
        self.compiled = compiled
        self.sources = compiled.source_model.sources
        idx = compiled.index
        self.gens = {g.name: g for g in idx.generators}
        self.lines = {ln.id: ln for ln in idx.network.lines}
        self.buses = {x.id: x for x in idx.network.buses}
        self.storages = {x.name: x for x in idx.storages}
        self.investments = {i.name: i for i in compiled.study.model.investments}
        self._known: dict[tuple[str, str, str | None], _Statement] = {}

    def key(self, cause: Cause, label: str) -> tuple[str, str]:
        """What groups cause slacks: the statement written (not narrowed) and the field."""
        return self.of(cause, label, narrow=False).key

    def of(self, cause: Cause, label: str, *, narrow: bool = True) -> _Statement:
        memo = (cause.lever.field, label, cause.lever.owner)
        if narrow and memo in self._known:
            return self._known[memo]
        st = self._build(cause, label, narrow)
        if narrow:
            self._known[memo] = st
        return st

    def _build(self, cause: Cause, label: str, narrow: bool) -> _Statement:
        field_, net = cause.lever.field, self.compiled.index.network

        def make(subject: str, what: str, span: Span, current: float | None,
                 path: str | None, keyword: str | None, energy: float = 0.0) -> _Statement:
            written = _override(self.compiled, path) if path is not None else None
            if written is not None:
                span = written.span
            key = (span.label(), field_)
            if written is None and keyword is not None and narrow:
                span = _narrow(self.sources, span, keyword)
            return _Statement(key, subject, what, span, current, written is not None, energy)

        if field_ == "fix":
            span = cause.spans[label]
            return _Statement((span.label(), "fix"), _fix_subject(self.sources, span), "fix",
                              span, None, False)
        if field_ in ("p_max_kw", "p_min_kw"):
            gen = self.gens[label]
            what = field_.removesuffix("_kw")
            return make(f"generator {gen.name}", what, gen.span, getattr(gen, field_),
                        f"{gen.name}.{field_}", what)
        if field_ == "rating_kva":
            line = self.lines[label]
            if line.rating_kva is not None:
                return make(f"line {line.id}", "rating", line.span, line.rating_kva, None,
                            None)
            if net.cable_rating_kva is not None:
                return make(f"network {net.name}", "cable_rating", net.span,
                            net.cable_rating_kva, "network.cable_rating_kva", "cable_rating")
            return make(f"line {line.id} (no rating: the base power applies)", "rating",
                        line.span, net.base_kva, None, None)
        if field_ in ("v_min_pu", "v_max_pu"):
            bus = self.buses[label]
            what = field_.removesuffix("_pu")
            own = getattr(bus, field_)
            if own is not None:
                return make(f"bus {bus.id}", what, bus.span, own, None, None)
            return make(f"network {net.name}", what, net.span, getattr(net, field_),
                        f"network.{field_}", "voltage")
        if field_ == "slack_v_pu":
            return make(f"slack bus {net.slack_bus}", "slack voltage", net.span,
                        net.slack_v_pu, "network.slack_v_pu", "slack")
        if field_ in ("soc_min", "soc_max"):
            sto = self.storages[label]
            return make(f"storage {sto.name}", field_, sto.span, getattr(sto, field_),
                        f"{sto.name}.{field_}", "soc", sto.energy_kwh)
        inv = self.investments[str(cause.lever.owner)]
        if field_ in ("count_max", "count_min"):
            end = field_.removeprefix("count_")  # every counted investment has `count`
            value = float(getattr(inv.count, end))  # type: ignore[union-attr]
            return make(f"investment {inv.name}", f"count {end}imum", inv.span, value, None,
                        "count")
        if field_ == "existing_kva":
            keyword = "existing" if _narrow(self.sources, inv.span, "existing") != inv.span \
                else "ratings"
            return make(f"substation {inv.name}", "capacity", inv.span,
                        float(getattr(inv, "existing_kva", 0.0)), f"{inv.name}.existing_kva",
                        keyword)
        raise ValueError(f"no statement known for lever field {field_!r}")


def _fix_subject(sources: dict[str, str], span: Span) -> str:
    """`fix r1 [b1-b2, b2-b3]` as written (one line), for the report."""
    lines = sources.get(span.file, "").splitlines()
    if not 1 <= span.line <= len(lines):
        return "fix"
    line = lines[span.line - 1]
    end = span.end_col - 1 if span.end_line == span.line else len(line)
    return " ".join(line[span.col - 1:end].split())


# ---------------------------------------------------------------------- amounts


#: how a slack of a lever field becomes a change of the property: its unit, whether it
#: is a squared voltage (slack in p.u.²), and the direction per side of the bound
_UNITS = {"p_max_kw": "kW", "p_min_kw": "kW", "rating_kva": "kVA", "existing_kva": "kVA",
          "v_min_pu": "p.u.", "v_max_pu": "p.u.", "slack_v_pu": "p.u.", "soc_min": "kWh",
          "soc_max": "kWh", "fix": "units", "count_max": "units", "count_min": "units"}


def _new_value(field_: str, side: str, current: float, slack: float) -> float:
    """The property's value once the bound on `side` is moved by `slack` (slack units)."""
    if field_ in ("v_min_pu", "v_max_pu", "slack_v_pu"):  # the slack moves V², not V
        return math.sqrt(max(current ** 2 + (slack if side == "upper" else -slack), 0.0))
    if field_ == "rating_kva":  # a rating bounds both directions: always raised
        return current + slack
    return current + slack if side == "upper" else current - slack


def _fmt(x: float, unit: str, change: float | None = None) -> str:
    """A value in its unit; voltages with enough decimals to show `change`."""
    if unit == "p.u.":
        step = abs(change if change is not None else x)
        decimals = 4 if step == 0 or step >= 1e-3 else min(8, 2 - math.floor(math.log10(step)))
        return f"{x:.{decimals}f} p.u."
    return f"{x:,.4g} {unit}"


def _action(st: _Statement, field_: str, sides: dict[str, float],
            elements: list[str]) -> tuple[str, float, str]:
    """(what to do, the size of the change, its unit) for one statement."""
    unit = _UNITS[field_]
    if field_ == "fix":
        return (f"change the fixed plan: {'; '.join(elements)}", sum(sides.values()), unit)
    cur = st.current if st.current is not None else 0.0
    at = ""
    if field_ in ("v_min_pu", "v_max_pu") and st.subject.startswith("network"):
        buses = list(dict.fromkeys(elements))
        at = f" at bus{'es' if len(buses) > 1 else ''} {', '.join(buses)}"
    if field_ == "slack_v_pu" and len(sides) == 2:
        lo = _new_value(field_, "lower", cur, sides["lower"])
        up = _new_value(field_, "upper", cur, sides["upper"])
        return (f"let the slack voltage range {_fmt(lo, unit, up - lo)} .. "
                f"{_fmt(up, unit, up - lo)} (set {_fmt(cur, unit)})", up - lo, unit)
    side, slack = max(sides.items(), key=lambda kv: kv[1])
    if field_ in ("soc_min", "soc_max"):
        frac = slack / st.energy_kwh if st.energy_kwh > 0 else 0.0
        new = cur - frac if side == "lower" else cur + frac
        verb = "lower" if side == "lower" else "raise"
        return (f"{verb} {st.what} from {100 * cur:.4g} % to {100 * new:.4g} % "
                f"({slack:,.4g} kWh)", slack, unit)
    new = _new_value(field_, side, cur, slack)
    change = new - cur
    verb = "raise" if change >= 0 else "lower"
    if unit == "units":
        return (f"{verb} the {st.what} from {cur:g} to {new:g} ({change:+g})", abs(change),
                unit)
    return (f"{verb} {st.what} from {_fmt(cur, unit, change)} to {_fmt(new, unit, change)} "
            f"({'+' if change >= 0 else '-'}{_fmt(abs(change), unit, change)}){at}",
            abs(change), unit)


# ---------------------------------------------------------------------- reading solves


def _reader(compiled: CompiledModel, resolver: BoundsResolver, values: np.ndarray) -> Reader:
    """Variable values of one `BoundsResolver` solve, as labelled arrays (each read once)."""
    known: dict[str, xr.DataArray] = {}

    def read(name: str) -> xr.DataArray:
        if name not in known:
            labels = compiled.model.variables[name].labels
            flat = labels.values.ravel()
            out = np.full(flat.shape, np.nan)
            present = flat >= 0
            out[present] = values[resolver.columns(flat[present])]
            known[name] = xr.DataArray(out.reshape(labels.shape), coords=labels.coords,
                                       dims=labels.dims)
        return known[name]
    return read


def _cells(hot: xr.DataArray) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Scenarios and steps where `hot` (bool) is true."""
    def along(dim: str) -> np.ndarray:
        return hot[dim].values[hot.any([d for d in hot.dims if d != dim]).values]
    scen = tuple(str(s) for s in along(SCENARIO)) if SCENARIO in hot.dims else ()
    steps = tuple(int(t) for t in along(TIME)) if TIME in hot.dims else ()
    return scen, steps


def _exceeded(cause: Cause, read: Reader) -> xr.DataArray | None:
    """Where the variable passed the bound the cause moves (bounds of variables only)."""
    if cause.var is None or cause.bound is None or cause.lever.field == "fix":
        return None
    sol = read(cause.var)
    return ((sol - cause.bound) if cause.side == "upper" else (cause.bound - sol)) > TOL


def _labels(cause: Cause, slack: xr.DataArray) -> list[tuple[str, str, float]]:
    """(source label, element description, value) of every non-zero slack cell."""
    out = []
    hot = slack > TOL
    if not slack.dims:
        return [("-", "", float(slack))] if bool(hot) else []
    for pos in zip(*np.nonzero(hot.values), strict=True):
        cell = {d: str(slack[d].values[i]) for d, i in zip(slack.dims, pos, strict=True)}
        label = cell.get(cause.source or "", "-")
        elements = " at ".join(cell.values())
        value = float(slack.values[pos])
        if cause.lever.field == "fix":  # units more or fewer of that element
            target = float(cause.bound.sel(cell).values) if cause.bound is not None else 0.0
            pinned = target + value if cause.side == "upper" else target - value
            elements = f"{elements} {target:g} -> {pinned:g}"
        out.append((label, elements, value))
    return out


def _causes(compiled: CompiledModel, statements: _Statements, read: Reader, option: int,
            sufficient: bool) -> list[tuple[CauseFinding, tuple[str, str]]]:
    """The statements one elastic solve moved, with their keys, most costly first."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for cause in compiled.builder.causes:
        slack = read(cause.slack)
        moved = _labels(cause, slack)
        exceeded = _exceeded(cause, read) if moved else None
        for label, element, value in moved:
            st = statements.of(cause, label)
            g = groups.setdefault(st.key, {"st": st, "sides": {}, "elements": [],
                                           "cost": 0.0, "hot": [], "field": cause.lever.field})
            g["sides"][cause.side] = max(g["sides"].get(cause.side, 0.0), value)
            g["elements"].append(element)
            g["cost"] += cause.weight * value
            if exceeded is not None:
                g["hot"].append(exceeded.sel({cause.source: label})
                                if cause.source in exceeded.dims else exceeded)
    found = []
    for key, g in groups.items():
        st = g["st"]
        action, change, unit = _action(st, g["field"], g["sides"], g["elements"])
        scen: tuple[str, ...] = ()
        steps: tuple[int, ...] = ()
        for hot in g["hot"]:
            s, t = _cells(hot)
            scen = tuple(dict.fromkeys(scen + s))
            steps = tuple(sorted(set(steps + t)))
        found.append((CauseFinding(
            rank=0, option=option, kind=_kind(compiled, g["field"]), subject=st.subject,
            action=action, change=change, unit=unit, where=st.span.label(), span=st.span,
            via_set=st.via_set, cost=g["cost"], sufficient=sufficient, scenarios=scen,
            steps=steps), key))
    found.sort(key=lambda fk: (-fk[0].cost, fk[0].where, fk[1][1]))
    return found


def _kind(compiled: CompiledModel, field_: str) -> str:
    return next(c.lever.kind for c in compiled.builder.causes if c.lever.field == field_)


def _in_pu(compiled: CompiledModel, side: str, sol: xr.DataArray) -> xr.DataArray:
    """Slacks of the bounds of w = V² [p.u.²] as distances of V from its limit [p.u.]."""
    w_lo, w_up = voltage_limits(compiled.builder)
    v = np.sqrt(w_lo if side == "lower" else w_up)
    moved = np.sqrt((v ** 2 - sol).clip(min=0.0)) if side == "lower" else np.sqrt(v ** 2 + sol)
    return abs(v - moved).where(sol > TOL, 0.0)


def _symptoms(compiled: CompiledModel, read: Reader) -> list[Finding]:
    """Every non-zero symptom slack, traced to its block's source labels (voltage
    slacks in p.u. of voltage, not of its square)."""
    idx = compiled.index
    findings = []
    for relax in compiled.relaxations:
        block = relax.block
        for slack in relax.slacks:
            sol = read(slack)
            if not bool((sol > TOL).any()):
                continue
            side = slack.removeprefix(f"elastic_{block.name}_")
            unit = block.unit
            hot_cells = sol > TOL
            if block.name == "bus_w":
                sol, unit = _in_pu(compiled, side, sol), "p.u."
            dims = [d for d in sol.dims if d not in (SCENARIO, TIME)]
            src = block.source if block.source in dims else None
            if src is None:
                parts = [("-", sol)]
            else:  # only the labels that needed relaxing
                hot_any = hot_cells.any([d for d in sol.dims if d != src])
                parts = [(str(lab), sol.sel({src: lab}))
                         for lab in sol[src].values[hot_any.values]]
            for lab, part in parts:
                span = idx.source(src, lab) if src is not None else None
                scen, steps = _cells(hot_cells.sel({src: lab}) if src is not None
                                     else hot_cells)
                findings.append(Finding(
                    family=block.family, block=block.name, side=side, source_kind=src,
                    label=lab, where=span.label() if span else "",
                    amount=float(np.nanmax(part.values)), unit=unit,
                    scenarios=scen, steps=steps))
    findings.sort(key=lambda f: (f.family, -f.amount))
    return findings


def _symptoms_left(compiled: CompiledModel, read: Reader) -> bool:
    return any(bool((read(s) > TOL).any()) for r in compiled.relaxations for s in r.slacks)


# ---------------------------------------------------------------------- the diagnosis


def diagnose(model: ir.Model, study: str | None = None, *, time_limit: float | None = None,
             threads: int | None = None, options: int = OPTIONS) -> Diagnosis:
    """Rank the statements whose relaxation restores feasibility (up to `options`
    alternatives), then solve the model as written with its symptom slacks only.
    `time_limit` applies to each solve."""
    compiled = compile_model(model, study=study, elastic=True)
    causes = compiled.builder.causes
    diag = Diagnosis(status=SolveStatus.error, sources=dict(compiled.source_model.sources))
    try:
        resolver = BoundsResolver(compiled.model, time_limit=time_limit,
                                  threads=threads if threads is not None else 1)
    except (RuntimeError, ValueError) as exc:  # HiGHS refused the model: an outcome
        diag.notes.append(f"HiGHS refused the elastic model: {exc}")
        return diag
    slacks = [compiled.model.variables[c.slack] for c in causes]
    cols = [resolver.columns(v.labels.values) for v in slacks]
    all_cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    natural = np.concatenate([np.broadcast_to(v.upper.values, v.labels.shape).ravel()
                              for v in slacks]) if slacks else np.zeros(0)
    # which statement each cause column moves, to forbid an option's statements
    statements = _Statements(compiled)
    keys = [[statements.key(c, label) for label in _source_labels(c, compiled)]
            for c in causes]
    forbidden: set[tuple[str, str]] = set()
    first: Reader | None = None
    for option in range(1, max(options, 1) + 1):
        held = np.array([k in forbidden for ks in keys for k in ks], dtype=bool)
        upper = np.where(held, 0.0, natural)
        outcome, values = resolver.solve(all_cols, np.zeros(all_cols.size), upper)
        if option == 1:
            diag.status = outcome.status
        if not outcome.status.ok or values is None:
            break
        if outcome.status not in (SolveStatus.optimal, SolveStatus.feasible_gap):
            diag.notes.append(f"option {option} ended {outcome.status.value}: its relaxation "
                              "restores feasibility but is not proved to be the least costly")
        read = _reader(compiled, resolver, values)
        first = first or read
        found = _causes(compiled, statements, read, option,
                        not _symptoms_left(compiled, read))
        if not found:
            break
        diag.causes += [c for c, _ in found]
        forbidden |= {k for _, k in found}
    if not diag.status.ok:
        return diag
    if diag.causes:  # the model as written: every statement held
        outcome, values = resolver.solve(all_cols, np.zeros(all_cols.size),
                                         np.zeros(all_cols.size))
        diag.symptom_status = outcome.status
        if outcome.status.ok and values is not None:
            diag.findings = _symptoms(compiled, _reader(compiled, resolver, values))
        elif first is not None:
            diag.findings, diag.symptoms_after = _symptoms(compiled, first), 1
    else:  # option 1 moved no statement: its solution is the model as written
        diag.symptom_status = diag.status
        assert first is not None
        diag.findings = _symptoms(compiled, first)
    diag.causes = [replace(c, rank=k) for k, c in enumerate(diag.causes, start=1)]
    hard = not any(p.kind == "shed" for p in compiled.study.model.penalties)
    if hard and any(f.family == "nodal balance" for f in diag.findings):
        diag.notes.append("demand is hard in this model (no `penalty shed`): where the "
                          "symptoms show buses short of power, a `penalty shed` statement "
                          "would let it shed that load instead (an island without supply "
                          "needs one)")
    return diag


def _source_labels(cause: Cause, compiled: CompiledModel) -> list[str]:
    """The source label of each element of a cause slack, in the slack's label order."""
    var = compiled.model.variables[cause.slack]
    if not var.labels.dims:
        return ["-"]
    if cause.source is None or cause.source not in var.labels.dims:
        return ["-"] * int(var.labels.size)
    coord = var.labels[cause.source].broadcast_like(var.labels)
    return [str(x) for x in coord.transpose(*var.labels.dims).values.ravel()]


# ---------------------------------------------------------------------- for the CLI


def _ranges(steps: tuple[int, ...]) -> str:
    """(0, 1, 2, 5) -> "0-2, 5"."""
    runs: list[list[int]] = []
    for t in steps:
        if runs and t == runs[-1][1] + 1:
            runs[-1][1] = t
        else:
            runs.append([t, t])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def describe(f: Finding) -> dict[str, Any]:
    """One symptom as the rows of the CLI table / JSON."""
    what = f"{f.source_kind} {f.label}" if f.source_kind else f.block
    return {"family": f.family, "constraint": f"{f.block} ({f.side})", "source": what,
            "where": f.where, "amount": f"{f.amount:.4g} {f.unit}".strip(),
            "scenarios": ", ".join(f.scenarios), "steps": _ranges(f.steps)}


def excerpt(sources: dict[str, str], span: Span) -> tuple[str, str]:
    """The source line of `span` with its number, and a caret line under the span
    ("", "" when the text is not at hand)."""
    lines = sources.get(span.file, "").splitlines()
    if not 1 <= span.line <= len(lines):
        return "", ""
    src = lines[span.line - 1].expandtabs(1)
    gutter = str(span.line)
    end = span.end_col if span.end_line == span.line and span.end_col > span.col \
        else len(src) + 1
    width = max(1, min(end - span.col, len(src) - span.col + 1))
    return f"{gutter} | {src}", f"{' ' * len(gutter)} | {' ' * (span.col - 1)}{'^' * width}"


def describe_cause(c: CauseFinding, sources: dict[str, str]) -> dict[str, Any]:
    """One cause as printed: the headline, the `.grid` line and its caret."""
    origin = " (written by a `set` override)" if c.via_set else ""
    cells = ", ".join(part for part in (
        f"scenarios {', '.join(c.scenarios)}" if c.scenarios else "",
        f"steps {_ranges(c.steps)}" if c.steps else "") if part)
    line, caret = excerpt(sources, c.span)
    return {"rank": c.rank, "option": c.option, "kind": c.kind, "where": c.where,
            "headline": f"{c.subject}: {c.action}{origin}", "cells": cells,
            "sufficient": c.sufficient, "line": line, "caret": caret}
