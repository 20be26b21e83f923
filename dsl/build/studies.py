"""Scenarios (explicit or from a clustered history), studies and sweeps."""

from __future__ import annotations

import math
from typing import Any

from gridc.dsl import ir
from gridc.dsl.build.columns import Col, read_columns
from gridc.dsl.build.components import FORMULATIONS, in_unit_interval, non_negative, positive
from gridc.dsl.build.head import read_head
from gridc.dsl.build.reader import KIND_WORDS, Block, Context, read_file, ref_text, to_float, to_int
from gridc.dsl.diagnostics import did_you_mean
from gridc.dsl.syntax import Atom, Stmt
from gridc.dsl.tables import parse_csv
from gridc.dsl.units import DURATION, FRACTION, UnitError, factor

SCENARIO_USAGE = ("scenarios NAME { scenario NAME { probability 0.3, outage 6-7 from 8 h to 14 h,"
                  " scale load 1.1 } }  or  scenarios NAME from history \"file.csv\" "
                  "cluster kmeans(k = 4, seed = 7, restarts = 50)  or  ... cluster none")


def build_scenarios(ctx: Context, st: Stmt) -> ir.ScenarioSet | None:
    a = st.atoms
    if len(a) < 2 or a[1].kind != "name":
        ctx.error("GRID016", "'scenarios' needs a name", a[0].span, help=SCENARIO_USAGE)
        return None
    name = str(a[1].value)
    if len(a) > 2:
        history = _history(ctx, st, a[2:])
        if st.block:
            ctx.error("GRID014", "generated scenarios take no block", st.block_span or st.span)
        if history is None:
            return None
        return ir.ScenarioSet(span=st.span, name=name, history=history)
    b = Block(ctx, st.block or [], st.span, f"scenarios '{name}'")
    items = [_scenario(ctx, s) for s in b.all("scenario")]
    b.finish()
    if not items:
        ctx.error("GRID012", f"scenarios '{name}' defines no scenario", st.span,
                  help=SCENARIO_USAGE)
        return None
    if None in items:
        return None
    return ir.ScenarioSet(span=st.span, name=name, scenarios=tuple(items))  # type: ignore[arg-type]


#: the arguments of kmeans(...): clusters, the random seed, runs kept at the least inertia
KMEANS_ARGS = ("k", "seed", "restarts")


def _history(ctx: Context, st: Stmt, rest: list[Atom]) -> ir.HistorySource | None:
    words = [(x.kind, x.value) for x in rest]
    ok = (len(rest) == 5 and words[0] == ("kw", "from") and words[1] == ("name", "history")
          and rest[2].kind == "string" and words[3] == ("kw", "cluster")
          and (rest[4].kind == "call" or words[4] == ("name", "none")))
    if not ok:
        ctx.error("GRID014", "malformed generated scenarios", rest[0].span, help=SCENARIO_USAGE)
        return None
    call = rest[4]
    if call.kind == "name":  # cluster none: every event is a scenario of its own
        events = _history_events(ctx, rest[2])
        if events is None:
            return None
        return ir.HistorySource(span=st.span, path=str(rest[2].value), method="none",
                                k=len(events), events=events)
    if call.value != "kmeans":
        ctx.error("GRID015", f"unknown clustering method '{call.value}'", call.span,
                  help="the clustering method is kmeans(k = 4, seed = 7, restarts = 50)")
        return None
    args = {x.key: x for x in call.items if x.key}
    unknown = [x for x in call.items if x.key not in KMEANS_ARGS]
    for x in unknown:
        ctx.error("GRID014", "kmeans takes k = N, seed = N and restarts = N", x.span,
                  help=did_you_mean(x.key or "", list(KMEANS_ARGS), "arguments"))
    if "k" not in args:
        ctx.error("GRID012", "kmeans needs k = N (the number of typical scenarios)", call.span)
        return None
    k = to_int(ctx, args["k"], 1)
    seed = to_int(ctx, args["seed"], 0) if "seed" in args else 0
    restarts = to_int(ctx, args["restarts"], 1) if "restarts" in args else 1
    events = _history_events(ctx, rest[2])
    if events is None or k is None or seed is None or restarts is None:
        return None
    if k > len(events):
        ctx.error("GRID023", f"kmeans asks for k = {k} clusters but the history holds "
                  f"{len(events)} events", args["k"].span)
        return None
    return ir.HistorySource(span=st.span, path=str(rest[2].value), k=k, seed=seed,
                            restarts=restarts, events=events)


HISTORY_COLUMNS = {
    "event": Col("ref", True),
    "line": Col("ref", True),
    "start": Col("quantity", True, DURATION),
    "end": Col("quantity", True, DURATION),
    "load": Col("quantity", False, FRACTION, default=1.0),
    "dg": Col("quantity", False, FRACTION, default=1.0),
}


def _history_events(ctx: Context, file_atom: Atom) -> tuple[ir.HistoryEvent, ...] | None:
    """Read a history CSV: one row per damaged line of an event (long format):
    event, line, start[h], end[h], load[pu], dg[pu]."""
    got = read_file(ctx, str(file_atom.value), file_atom.span)
    if got is None:
        return None
    display, text = got
    table = ctx.counted(parse_csv(text, display, file_atom.span, str(file_atom.value),
                                  ctx.diags, ctx.rows_left(), ctx.budget.table_rows))
    if table is None:
        return None
    n_errors = len(ctx.diags.items)
    rows = read_columns(ctx, table, HISTORY_COLUMNS, display)
    if len(ctx.diags.items) > n_errors:
        return None
    grouped: dict[str, list[Any]] = {}
    for r in rows:
        if r.values["end"] <= r.values["start"]:
            ctx.error("GRID024", "an outage must end after it starts", r.span)
            return None
        grouped.setdefault(r.values["event"], []).append(r)
    events = []
    for name, group in grouped.items():
        outs = tuple(ir.Outage(span=r.span, line=r.values["line"], start_h=r.values["start"],
                               end_h=r.values["end"]) for r in group)
        events.append(ir.HistoryEvent(span=group[0].span, name=name, outages=outs,
                                      load_level=group[0].values["load"],
                                      dg_level=group[0].values["dg"]))
    if not events:
        ctx.error("GRID030", f"history '{display}' holds no events", file_atom.span)
        return None
    return tuple(events)


def _scenario(ctx: Context, st: Stmt) -> ir.Scenario | None:
    head = read_head(ctx, st, usage="scenario NAME { probability 0.3, outage 6-7 ... }")
    b = Block(ctx, st.block or [], st.span, f"scenario{head.named}")
    prob = b.quantity("probability", FRACTION, check=in_unit_interval)
    outages = [_outage(ctx, o) for o in b.all("outage")]
    scalings = [_scaling(ctx, s) for s in b.all("scale")]
    b.finish()
    if head.name is None or prob is None or None in outages or None in scalings:
        return None
    return ir.Scenario(span=st.span, name=head.name, probability=prob,
                       outages=tuple(outages), scalings=tuple(scalings))  # type: ignore[arg-type]


def _outage(ctx: Context, st: Stmt) -> ir.Outage | None:
    """`outage 6-7` (whole horizon) or `outage 6-7 from 8 h to 14 h`."""
    usage = "outage LINE [from 8 h to 14 h]"
    a = st.atoms[1:]
    line = ref_text(a[0]) if a else None
    if line is None:
        ctx.error("GRID014", "'outage' needs a line", st.span, help=usage)
        return None
    if len(a) == 1:
        return ir.Outage(span=st.span, line=line, start_h=0.0, end_h=float("inf"))
    if len(a) == 5 and (a[1].kind, a[1].value) == ("kw", "from") \
            and (a[3].kind, a[3].value) == ("kw", "to"):
        start = to_float(ctx, a[2], DURATION, non_negative)
        end = to_float(ctx, a[4], DURATION, non_negative)
        if start is None or end is None:
            return None
        if end <= start:
            ctx.error("GRID024", "an outage must end after it starts", a[2].span.to(a[4].span))
            return None
        return ir.Outage(span=st.span, line=line, start_h=start, end_h=end)
    ctx.error("GRID014", "malformed outage", a[1].span, help=usage)
    return None


def _scaling(ctx: Context, st: Stmt) -> ir.Scaling | None:
    """`scale load 1.1` or `scale pv1 20 %`."""
    a = st.atoms[1:]
    if len(a) != 2 or a[0].kind != "name":
        ctx.error("GRID014", "malformed scaling", st.span,
                  help="write 'scale load 1.1' or 'scale PROFILE_OR_GENERATOR 0.5'")
        return None
    f = to_float(ctx, a[1], FRACTION, non_negative)
    if f is None:
        return None
    return ir.Scaling(span=st.span, target=str(a[0].value), factor=f)


# ------------------------------------------------------------------ studies

#: the strategies a study may ask for and the arguments each takes (`decompose`:
#: Benders over the scenarios, `gridc.runtime.strategies.decomposition`)
STRATEGY_ARGS = {"extensive": (), "pso": ("particles", "iterations", "seed"),
                 "decompose": ("seed",)}

STUDY_USAGE = ("study NAME [extends BASE] { solve extensive, gap 0.5 %, formulation distflow, "
               "without mess, ... }")


def _solve(ctx: Context, b: Block) -> ir.SolveOptions | None:
    keys = ("solve", "gap", "time_limit", "threads", "seed", "objective", "formulation")
    if not [k for k in keys if b.has(k)]:  # (a list: every key is marked as accepted)
        return None
    span = b.owner
    strategy: str | None = None
    extra: dict[str, int] = {}
    ok = True
    solve_st = b.all("solve")
    if len(solve_st) > 1:
        ctx.error("GRID013", f"'solve' is given twice in {b.what}", solve_st[1].atoms[0].span,
                  help="keep one of them")
    if solve_st:
        atoms = solve_st[0].atoms[1:]
        if len(atoms) != 1 or atoms[0].kind not in ("name", "call"):
            ctx.error("GRID014", "'solve' expects a strategy", solve_st[0].span,
                      help="write 'solve extensive' or 'solve pso(particles = 30, "
                           "iterations = 60, seed = 1)'")
            ok = False
        elif str(atoms[0].value) not in STRATEGY_ARGS:
            strategy = str(atoms[0].value)
            ctx.error("GRID015", f"unknown strategy '{strategy}'", atoms[0].span,
                      help=did_you_mean(strategy, list(STRATEGY_ARGS), "strategies"))
            ok = False
        else:
            strategy = str(atoms[0].value)
            takes = STRATEGY_ARGS[strategy]
            for arg in atoms[0].items:
                if arg.key not in takes:
                    ctx.error("GRID014", f"unknown argument of {strategy}", arg.span,
                              help=f"{strategy} takes " + (", ".join(
                                  f"{k} = N" for k in takes) or "no argument"))
                    ok = False
                    continue
                v = to_int(ctx, arg, 0)
                if v is None:
                    ok = False
                    continue
                extra[arg.key] = v
    gap = b.quantity("gap", FRACTION, default=None, check=in_unit_interval)
    tl = b.quantity("time_limit", DURATION, default=None, check=positive)
    threads = b.integer("threads", default=None, minimum=1)
    seed = b.integer("seed", default=None)
    objective = b.word("objective", ("cost", "losses"), default=None)
    formulation = b.word("formulation", FORMULATIONS, default=None, listed=True)
    if not ok:
        return None
    return ir.SolveOptions(span=span, strategy=strategy, gap=gap,  # type: ignore[arg-type]
                           time_limit_s=tl * 3600.0 if tl is not None else None,
                           threads=threads, seed=seed if seed is not None else extra.get("seed"),
                           particles=extra.get("particles"), iterations=extra.get("iterations"),
                           objective=objective, formulation=formulation)


def _plain(ctx: Context, atom: Atom, unit: str | None) -> float | None:
    """A number of `set` or `fix`: plain, in the field's own unit (percent and per-unit
    are converted); a physical unit is refused, since the IR field fixes the unit."""
    try:
        v = float(atom.value) * (factor(unit, FRACTION) if unit else 1.0)
    except UnitError as err:
        if err.code == "GRID020":
            ctx.error(err.code, str(err), atom.span, help=err.help)
            return None
        ctx.error("GRID021", f"'{unit}' cannot be used here: write the value in the unit of "
                  "the field", atom.span,
                  help="field names carry their unit, e.g. set gt.p_max_kw 300 "
                       "(kW), set economics.discount 0.06")
        return None
    if not math.isfinite(v):
        ctx.error("GRID023", f"{atom.text} is too large to be a number", atom.span)
        return None
    return v


_MISSING = object()


def _value(ctx: Context, val: Atom) -> Any:
    """The value of `set`/`fix`: a plain number, a name, or a list of either; None
    after an error was reported, `_MISSING` when the atom is of another kind."""
    if val.kind == "number":
        return _plain(ctx, val, val.unit)
    if val.kind in ("name", "string", "pair"):
        return str(val.value)
    if val.kind == "list" and all(x.kind == "number" for x in val.items):
        vs = [_plain(ctx, x, x.unit or val.unit) for x in val.items]
        return None if None in vs else tuple(vs)
    if val.kind == "list":
        return tuple(ref_text(x) or "" for x in val.items)
    return _MISSING


def _override(ctx: Context, st: Stmt) -> ir.Override | None:
    """`set path value`: value is a number (canonical units are the caller's job:
    overrides are written without units or in the field's unit), a name or a list."""
    a = st.atoms[1:]
    if len(a) != 2 or a[0].kind != "name":
        ctx.error("GRID014", "malformed 'set'", st.span,
                  help="write 'set INVESTMENT.FIELD VALUE', e.g. set ev_battery.evs [1, 3, 2]")
        return None
    value = _value(ctx, a[1])
    if value is _MISSING:
        ctx.error("GRID014", f"'set' cannot take {KIND_WORDS.get(a[1].kind, a[1].kind)}",
                  a[1].span)
        return None
    if value is None:
        return None
    return ir.Override(span=st.span, path=str(a[0].value), value=value)


def _fix(ctx: Context, st: Stmt) -> ir.Fix | None:
    """`fix reinforcement [1-2, 27-28]`, `fix mess.MESS2 2`, `fix ev_battery.RB1 [0, 0, 6]`."""
    a = st.atoms[1:]
    if len(a) != 2 or a[0].kind != "name":
        ctx.error("GRID014", "malformed 'fix'", st.span,
                  help="write 'fix INVESTMENT[.TYPE] VALUE', e.g. fix mess.MESS2 2")
        return None
    inv, _, choice = str(a[0].value).partition(".")
    value = _value(ctx, a[1])
    if value is _MISSING or isinstance(value, str):
        ctx.error("GRID014", "'fix' expects a number or a list", a[1].span)
        return None
    if value is None:
        return None
    values = value if isinstance(value, tuple) else (value,)
    return ir.Fix(span=st.span, investment=inv, choice=choice, values=values)


def build_study(ctx: Context, st: Stmt) -> ir.Study | None:
    head = read_head(ctx, st, ("name", "extends"), STUDY_USAGE)
    b = Block(ctx, st.block or [], st.span, f"study{head.named}", repeatable=("without",))
    without: list[str] = []
    for w in b.all("without"):
        for atom in w.atoms[1:]:
            if atom.kind != "name":
                ctx.error("GRID014", "'without' expects investment names", atom.span,
                          help="write e.g. 'without mess reinf'")
                continue
            without.append(str(atom.value))
    scen = b.word("scenarios", default=None)
    solve = _solve(ctx, b)
    overrides = [_override(ctx, s) for s in b.all("set")]
    fixes = [_fix(ctx, s) for s in b.all("fix")]
    b.finish()
    if head.name is None or None in overrides or None in fixes:
        return None
    return ir.Study(span=st.span, name=head.name, extends=head.extends, without=tuple(without),
                    scenarios=scen, solve=solve, overrides=tuple(overrides),  # type: ignore[arg-type]
                    fixes=tuple(fixes))  # type: ignore[arg-type]


def build_sweep(ctx: Context, st: Stmt) -> ir.Sweep | None:
    usage = "sweep NAME over STUDY { case low { set ev_battery.evs [1, 3, 2, 3, 1] } }"
    head = read_head(ctx, st, ("name", "over"), usage)
    if head.over is None:
        ctx.error("GRID012", "a sweep needs 'over STUDY'", st.span, help=usage)
    b = Block(ctx, st.block or [], st.span, f"sweep{head.named}")
    cases: list[ir.SweepCase | None] = []
    for c in b.all("case"):
        ch = read_head(ctx, c, usage="case LABEL { set PATH VALUE }")
        cb = Block(ctx, c.block or [], c.span, f"case{ch.named}")
        ovs = [_override(ctx, s) for s in cb.all("set")]
        cb.finish()
        if ch.name is None or None in ovs:
            cases.append(None)
            continue
        cases.append(ir.SweepCase(span=c.span, label=ch.name, overrides=tuple(ovs)))  # type: ignore[arg-type]
    b.finish()
    if not cases:
        ctx.error("GRID012", f"sweep{head.named} has no 'case'", st.span, help=usage)
    if head.name is None or head.over is None or not cases or None in cases:
        return None
    return ir.Sweep(span=st.span, name=head.name, study=head.over, cases=tuple(cases))  # type: ignore[arg-type]
