"""What studies and sweep cases change, checked like the model itself.

A study rewrites the model with `set` lines (inherited along `extends`) and pins
decisions with `fix` lines; a sweep case adds `set` lines to its study. None of that
is in the model `gridc check` reads, so it is checked here, on the model as each study
leaves it:

* every `set` against the model after the `set`s before it (the study's ancestors'
  first, then its own in order), by the rules of the object it changes: the object
  checks of `gridc.dsl.checks` (passed in, to keep the imports one-way) and every
  range and order of `gridc.dsl.ranges`. A problem the `set` introduces is reported
  at the `set` line (GRID048); `set a.soc_min 0.95` under `soc_max 0.9` is one, and so
  is a parent's `soc_max 0.5` under a child's `soc_min 0.6`;
* every study's `fix` lines, merged along `extends` as the compiler merges them,
  against the investments they pin (GRID053): the type or line exists, counts are
  whole, within a type's `max` and a site's `per_site_max`, and their sum within the
  investment's `count`. (`fix` of the other investment kinds is refused when the
  study is compiled.)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

from pydantic import BaseModel, ValidationError

from gridc.dsl import ir
from gridc.dsl import ir_planning as P
from gridc.dsl.budgets import study_chain
from gridc.dsl.diagnostics import Collector, Diagnostic
from gridc.dsl.overrides import OverrideError, apply_overrides, resolve_path
from gridc.dsl.ranges import check_node, walk
from gridc.dsl.spans import Span

Check = Callable[[ir.Model, Collector], None]
#: `_ref` of gridc.dsl.checks: (diags, what, name, known names, span, model, after word)
Ref = Callable[[Collector, str, str, set[str], Span, ir.Model, str], None]

#: override fields that name another object, and what they name
REF_FIELDS = {"profile": "profile", "load_profile": "profile", "price_profile": "profile",
              "bus": "bus", "slack_bus": "bus", "depot": "bus"}


def shown(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _applied(m: ir.Model, overrides: list[ir.Override]) -> ir.Model:
    """`m` with the overrides that apply (a bad one is reported where it is written)."""
    for o in overrides:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = apply_overrides(m, (o,))
        except (OverrideError, ValueError):
            continue
    return m


def check_overrides(m: ir.Model, d: Collector, object_checks: dict[str, Check],
                    ref: Ref) -> None:
    """Every `set` of every study and sweep case (see the module docstring)."""
    by_name = {s.name: s for s in m.studies}
    for study in m.studies:
        chain = study_chain(m, study)
        base = _applied(m, [o for s in chain[:-1] for o in s.overrides])
        _check_sequence(base, d, study.overrides, object_checks, ref)
    for sweep in m.sweeps:
        over = by_name.get(sweep.study)
        chain = study_chain(m, over) if over is not None else []
        base = _applied(m, [o for s in chain for o in s.overrides])
        for case in sweep.cases:
            _check_sequence(base, d, case.overrides, object_checks, ref)


def _check_sequence(m: ir.Model, d: Collector, overrides: tuple[ir.Override, ...],
                    object_checks: dict[str, Check], ref: Ref) -> None:
    for o in overrides:
        m = _check_one(m, d, o, object_checks, ref)


def _check_one(m: ir.Model, d: Collector, o: ir.Override, object_checks: dict[str, Check],
               ref: Ref) -> ir.Model:
    """Check `o` on `m`; the model after it (`m` itself when it cannot apply)."""
    try:
        with warnings.catch_warnings():  # pydantic warns while re-validating a bad value
            warnings.simplefilter("ignore")
            coll, index, new = resolve_path(m, o.path, o.value)
    except OverrideError as err:
        d.error("GRID048", str(err), o.span, help=err.help)
        return m
    except ValueError as err:  # pydantic's ValidationError: the value does not fit the field
        problem = err.errors()[0]["msg"] if isinstance(err, ValidationError) else str(err)
        d.error("GRID048", f"'{o.path}' cannot be set to {shown(o.value)}: "
                f"{problem[:1].lower()}{problem[1:]}", o.span,
                help="give a value of the field's own type")
        return m
    after = apply_overrides(m, (o,))
    field = o.path.partition(".")[2]
    if isinstance(o.value, str) and field in REF_FIELDS:
        what = REF_FIELDS[field]
        known = ({p.name for p in m.profiles} if what == "profile"
                 else {b.id for n in m.networks for b in n.buses})
        ref(d, what, o.value, known, o.span, m, re.escape(o.path))
        return after
    old = m.economics if index < 0 else getattr(m, coll)[index]
    found = _new_problems(m, after, old, new, object_checks.get(coll))
    for diag in found:
        d.error("GRID048", f"'{o.path}' cannot be set to {shown(o.value)}: "
                f"{diag.message[:1].lower()}{diag.message[1:]}", o.span, help=diag.help)
    return after


def _new_problems(before: ir.Model, after: ir.Model, old: BaseModel | None, new: BaseModel,
                  check: Check | None) -> list[Diagnostic]:
    """What the rules find on `after` (the object `new` in it) that they do not find
    on `before` (with `old`): the problems the override introduces."""
    def found(model: ir.Model, obj: BaseModel | None) -> list[Diagnostic]:
        sink = Collector()
        if check is not None:
            check(model, sink)
        if obj is not None:
            for node, label in walk(obj):
                check_node(model, sink, node, label)
        return sink.items

    known = {(x.code, x.message) for x in found(before, old)}
    return [x for x in found(after, new) if (x.code, x.message) not in known]


# ------------------------------------------------------------------ fixed plans


def check_fixes(m: ir.Model, d: Collector) -> None:
    """The `fix` lines of every study, merged along `extends` (later ones win per
    investment and type, as in compiler.core.study), against their investments."""
    for study in m.studies:
        chain = study_chain(m, study)
        dropped = {w for s in chain for w in s.without}
        merged: dict[tuple[str, str], ir.Fix] = {}
        for s in chain:
            for f in s.fixes:
                merged[(f.investment, f.choice)] = f
        invs = {i.name: i for i in m.investments if i.name not in dropped}
        by_inv: dict[str, list[ir.Fix]] = {}
        for f in merged.values():
            by_inv.setdefault(f.investment, []).append(f)
        for name, fixes in by_inv.items():
            inv = invs.get(name)
            if isinstance(inv, P.Reinforcement):
                _reinforcement(d, inv, fixes)
            elif isinstance(inv, P.MobileStorage):
                _mess(d, inv, fixes)
            elif isinstance(inv, P.EvBattery):
                _ev(d, inv, fixes)


def _count(d: Collector, inv: P.Reinforcement | P.MobileStorage | P.EvBattery, total: int,
           what: str, span: Span) -> None:
    """The total a fixed plan buys against the investment's `count` (an investment with
    a fix is fixed completely: what is not fixed counts zero)."""
    lo, hi = inv.count.min, inv.count.max
    if not lo <= total <= hi:
        d.error("GRID053", f"the fixed plan of '{inv.name}' has {total:,} {what}, outside its "
                f"count {lo} .. {hi}", span,
                help=f"fix between {lo} and {hi} {what} in all (what is not fixed counts "
                     "zero), or change 'count'")


def _whole(d: Collector, f: ir.Fix, value: float | str, what: str) -> int | None:
    if isinstance(value, str) or not float(value).is_integer() or value < 0:
        d.error("GRID053", f"'fix {f.investment}{'.' + f.choice if f.choice else ''}' "
                f"needs whole numbers of {what}, found {shown(value)}", f.span,
                help="write a count such as 0, 1 or 3")
        return None
    return int(value)


def _reinforcement(d: Collector, inv: P.Reinforcement, fixes: list[ir.Fix]) -> None:
    lines: list[str] = []
    for f in fixes:
        if f.choice or any(not isinstance(v, str) for v in f.values):
            d.error("GRID053", f"'fix {inv.name}' takes the candidate lines to reinforce",
                    f.span, help=f"write e.g. 'fix {inv.name} [{', '.join(inv.candidates[:2])}]'")
            return
        for v in f.values:
            if v not in inv.candidates:
                d.error("GRID053", f"line {v} is not a candidate of '{inv.name}'", f.span,
                        help="candidates: " + ", ".join(inv.candidates[:12])
                        + (", ..." if len(inv.candidates) > 12 else ""))
                return
            if v in lines:
                d.error("GRID053", f"line {v} is fixed twice", f.span,
                        help="name each reinforced line once")
                return
            lines.append(str(v))
    _count(d, inv, len(lines), "lines", fixes[-1].span)


def _mess(d: Collector, inv: P.MobileStorage, fixes: list[ir.Fix]) -> None:
    types = {t.name: t for t in inv.types}
    total = 0
    for f in fixes:
        t = types.get(f.choice)
        if t is None or len(f.values) != 1:
            problem = (f"'fix {inv.name}' needs a type" if not f.choice else
                       f"'{f.choice}' is not a type of '{inv.name}'" if t is None else
                       f"'fix {inv.name}.{f.choice}' takes one count")
            d.error("GRID053", problem, f.span, help=f"write 'fix {inv.name}.TYPE N' with TYPE "
                    "one of " + ", ".join(types))
            return
        n = _whole(d, f, f.values[0], "units")
        if n is None:
            return
        if t.max_units is not None and n > t.max_units:
            d.error("GRID053", f"'fix {inv.name}.{t.name}' buys {n:,} units, more than the "
                    f"type's max {t.max_units}", f.span,
                    help=f"fix at most {t.max_units}, or raise 'max' of type '{t.name}'")
            return
        total += n
    _count(d, inv, total, "units", fixes[-1].span)


def _ev(d: Collector, inv: P.EvBattery, fixes: list[ir.Fix]) -> None:
    types = {t.name for t in inv.types}
    per_site = [0] * len(inv.sites)
    for f in fixes:
        if f.choice not in types:
            d.error("GRID053", f"'{f.choice}' is not a pack type of '{inv.name}'"
                    if f.choice else f"'fix {inv.name}' fixes one pack type", f.span,
                    help=f"write 'fix {inv.name}.TYPE [...]' with TYPE one of "
                         + ", ".join(sorted(types)))
            return
        if len(f.values) != len(inv.sites):
            d.error("GRID053", f"'fix {inv.name}.{f.choice}' needs {len(inv.sites)} values, "
                    f"one per site, found {len(f.values)}", f.span,
                    help="sites: " + ", ".join(s.bus for s in inv.sites[:12]))
            return
        for k, v in enumerate(f.values):
            n = _whole(d, f, v, "packs")
            if n is None:
                return
            per_site[k] += n
    cap = inv.per_site_max if inv.per_site_max is not None else inv.count.max
    for site, n in zip(inv.sites, per_site):
        if n > cap:
            d.error("GRID053", f"the fixed plan of '{inv.name}' puts {n:,} packs at site "
                    f"{site.bus}, more than the {cap} a site may hold", fixes[-1].span,
                    help="fix fewer packs there, or raise 'per_site_max'")
            return
    _count(d, inv, sum(per_site), "packs", fixes[-1].span)
