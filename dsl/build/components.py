"""Horizon, economics, profiles, loads, generators, storage, penalties and prices."""

from __future__ import annotations

import math
from array import array
from operator import itemgetter

from gridc.dsl import ir
from gridc.dsl.budgets import MAX_STEPS
from gridc.dsl.build.head import read_head
from gridc.dsl.build.reader import (
    KIND_WORDS,
    Block,
    Context,
    read_file,
    to_float,
    to_numbers,
    to_word,
    unit_help,
)
from gridc.dsl.diagnostics import did_you_mean
from gridc.dsl.syntax import Atom, Stmt
from gridc.dsl.tables import MAX_REPORTED, Table, parse_csv
from gridc.dsl.units import (
    DURATION,
    ENERGY,
    FRACTION,
    LIFETIME,
    POWER,
    PRICE_ENERGY,
    PRICE_MASS,
    Expect,
    UnitError,
    factor,
)


def in_unit_interval(v: float) -> str | None:
    return None if 0.0 <= v <= 1.0 else f"must lie between 0 and 1 (0 % .. 100 %), found {v:g}"


def efficiency(v: float) -> str | None:
    return None if 0.0 < v <= 1.0 else f"an efficiency must lie in (0, 1], found {v:g}"


def positive(v: float) -> str | None:
    return None if v > 0 else f"must be positive, found {v:g}"


def non_negative(v: float) -> str | None:
    return None if v >= 0 else f"must not be negative, found {v:g}"


def build_horizon(ctx: Context, st: Stmt) -> ir.Horizon | None:
    """`horizon 24 h step 1 h`."""
    a = st.atoms
    if len(a) == 4 and a[2].kind == "kw" and a[2].value == "step":
        total = to_float(ctx, a[1], DURATION, positive)
        step = to_float(ctx, a[3], DURATION, positive)
        if total is None or step is None or total <= 0 or step <= 0:
            return None
        steps = total / step
        if abs(steps - round(steps)) > 1e-9:
            ctx.error("GRID023", f"a horizon of {total:g} h is not a whole number of "
                      f"{step:g} h steps", a[1].span.to(a[3].span),
                      help="choose a step that divides the horizon")
            return None
        return ir.Horizon(span=st.span, steps=round(steps), step_h=step)
    ctx.error("GRID014", "malformed horizon", st.span, help="write e.g. 'horizon 24 h step 1 h'")
    return None


def build_economics(ctx: Context, st: Stmt) -> ir.Economics | None:
    b = Block(ctx, st.block or [], st.span, "economics")
    currency = b.word("currency", default="CNY")
    if currency is not None:
        try:
            factor(currency, Expect("CNY", "a currency", "CNY"))
        except UnitError:
            ctx.error("GRID020", f"unknown currency '{currency}'",
                      b.by_key["currency"][0].atoms[1].span,
                      help="currencies: CNY, Yuan, kCNY, kYuan, MCNY")
    discount = b.quantity("discount", FRACTION, default=0.08, check=in_unit_interval)
    life = b.quantity("life", LIFETIME, default=30.0, check=positive)
    days = b.quantity("days_per_year", FRACTION, default=365.0, check=positive)
    pricing = b.word("pricing", PRICINGS, default="present_value", listed=True)
    b.finish()
    if None in (discount, life, days, pricing):
        return None
    return ir.Economics(span=st.span, currency=currency or "CNY", discount=discount,
                        life_y=life, days_per_year=days, pricing=pricing)


PRICINGS = ("present_value", "annualised")
FORMULATIONS = ("lindistflow", "distflow")


def build_formulation(ctx: Context, st: Stmt) -> ir.Formulation | None:
    """`formulation lindistflow` or `formulation distflow`."""
    a = st.atoms
    if len(a) != 2 or st.block is not None:
        if len(a) < 2:
            where, problem = st.span, "'formulation' needs a word"
        elif len(a) > 2:
            where, problem = a[2].span, "'formulation' takes one word"
        else:
            where, problem = st.block_span or st.span, "'formulation' takes no block"
        ctx.error("GRID014", problem, where,
                  help="write 'formulation lindistflow' or 'formulation distflow'")
        return None
    name = to_word(ctx, a[1], FORMULATIONS, "formulation", listed=True)
    if name is None:
        return None
    return ir.Formulation(span=st.span, name=name)  # type: ignore[arg-type]


PROFILE_UNITS = (FRACTION, PRICE_ENERGY, POWER, ENERGY)


def _profile_unit(ctx: Context, unit: str | None, atom_span: object) -> tuple[str, float]:
    if unit is None:
        return "", 1.0
    for expect in PROFILE_UNITS:
        try:
            return expect.unit, factor(unit, expect)
        except UnitError as err:
            if err.code == "GRID020":  # an unknown unit, not one of the wrong kind
                raise UnitError(err.code, str(err), unit_help(err, unit)) from None
            continue
    raise UnitError("GRID021", f"'{unit}' is not a unit a profile can take",
                    "profiles are per unit (no unit), prices (CNY/kWh), powers (kW) "
                    "or energies (kWh)")


def build_profile(ctx: Context, st: Stmt) -> ir.Profile | None:
    """`profile NAME = [..] unit` or `profile NAME from "file.csv" column COL`."""
    usage = 'profile NAME = [0.5, 0.6, ...]  or  profile NAME from "file.csv" column COL'
    a = st.atoms
    if len(a) < 2 or a[1].kind != "name":
        ctx.error("GRID016", "'profile' needs a name", a[0].span, help=usage)
        return None
    name = str(a[1].value)
    rest = list(a[2:])
    if rest and rest[0].kind == "sym" and rest[0].value == "=":
        rest = rest[1:]
    if len(rest) == 1 and rest[0].kind == "list":
        try:
            unit, _ = _profile_unit(ctx, rest[0].unit, rest[0].span)
        except UnitError as err:
            ctx.error(err.code, str(err), rest[0].span, help=err.help)
            return None
        values = to_numbers(ctx, rest[0], Expect(unit, "a profile value", "0.5"))
        if values is None:
            return None
        return ir.Profile(span=st.span, name=name, values=values, unit=unit)
    if (len(rest) == 4 and rest[0].kind == "kw" and rest[0].value == "from"
            and rest[1].kind == "string" and rest[2].kind == "kw"
            and rest[2].value == "column" and rest[3].kind in ("name", "string")):
        return _profile_csv(ctx, st, name, rest[1], str(rest[3].value))
    where = rest[0].span if rest else st.span
    found = KIND_WORDS.get(rest[0].kind, rest[0].kind) if rest else "nothing"
    ctx.error("GRID014", f"malformed profile '{name}': found {found}", where, help=usage)
    return None


def _profile_csv(ctx: Context, st: Stmt, name: str, file_atom: Atom,
                 column: str) -> ir.Profile | None:
    got = read_file(ctx, str(file_atom.value), file_atom.span)
    if got is None:
        return None
    display, text = got
    # a profile has one value per step: a file may hold as many rows as a horizon steps
    table = parse_csv(text, display, file_atom.span, str(file_atom.value), ctx.diags,
                      max(ctx.budget.table_rows, MAX_STEPS), None)
    if table is None:
        return None
    idx = table.column(column)
    if idx is None:
        ctx.error("GRID032", f"'{display}' has no column '{column}'", st.atoms[-1].span,
                  help=did_you_mean(column, [c.name for c in table.columns], "columns"))
        return None
    col = table.columns[idx]
    try:
        unit, scale = _profile_unit(ctx, col.unit, col.span)
    except UnitError as err:
        ctx.error(err.code, str(err), col.span, help=err.help)
        return None
    values = _column_values(ctx, table, idx, scale, display)
    if values is None:
        return None
    return ir.Profile(span=st.span, name=name, values=values, unit=unit,
                      source=str(file_atom.value))


def _column_values(ctx: Context, table: Table, idx: int, scale: float,
                   what: str) -> tuple[float, ...] | None:
    """The numbers of column `idx` times `scale`, or None after reporting the cells
    that are not finite numbers (the first MAX_REPORTED of them)."""
    cells = map(itemgetter(idx), table.rows(strip=False))
    try:
        values = array("d", map(float, cells))
        if scale != 1.0:
            values = array("d", (v * scale for v in values))
        if all(map(math.isfinite, values)):
            return tuple(values)
    except ValueError:
        pass
    bad = 0
    key = table.columns[idx].name
    for i, row in enumerate(table.rows()):
        text = row[idx]
        try:
            ok = math.isfinite(float(text) * scale)
        except ValueError:
            ok = False
        if ok:
            continue
        bad += 1
        if bad <= MAX_REPORTED:
            ctx.error("GRID031", f"empty cell in column '{key}'" if not text else
                      f"'{text}' is not a number (column '{key}')", table.cell(i, idx).span,
                      help="write a plain number; the unit is in the header")
    if bad > MAX_REPORTED:
        ctx.error("GRID031", f"{bad - MAX_REPORTED:,} more cells of {what} are not numbers "
                  f"(the first {MAX_REPORTED} are shown)", table.span)
    return None


def build_load(ctx: Context, st: Stmt) -> ir.Load | None:
    usage = "load NAME at BUS { p 100 kW, q 50 kvar, priority 2, profile NAME }"
    head = read_head(ctx, st, ("name", "at"), usage)
    b = Block(ctx, st.block or [], st.span, f"load{head.named}")
    p = b.quantity("p", POWER, check=non_negative)
    q = b.quantity("q", POWER, default=0.0)
    prio = b.quantity("priority", FRACTION, default=1.0, check=non_negative)
    profile = b.word("profile", default=None)
    b.finish()
    if head.at is None:
        ctx.error("GRID012", "a load needs a bus: 'at BUS'", st.span, help=usage)
    if None in (head.name, head.at, p, q, prio):
        return None
    return ir.Load(span=st.span, name=head.name, bus=head.at, p_kw=p, q_kvar=q,
                   priority=prio, profile=profile)


GENERATOR_KINDS = ("gas_turbine", "pv", "wind", "dg", "grid")


def build_generator(ctx: Context, st: Stmt) -> ir.Generator | None:
    usage = "generator NAME : gas_turbine|pv|wind|dg|grid at BUS { p_max 400 kW, ... }"
    head = read_head(ctx, st, ("name", "kind", "at"), usage)
    if head.kind is None:
        ctx.error("GRID012", "a generator needs a kind: ': gas_turbine'", st.span, help=usage)
    elif head.kind not in GENERATOR_KINDS and head.kind_atom is not None:
        ctx.error("GRID015", f"unknown generator kind '{head.kind}'", head.kind_atom.span,
                  help=did_you_mean(head.kind, GENERATOR_KINDS, "kinds"))
        head.kind = None
    if head.at is None:
        ctx.error("GRID012", "a generator needs a bus: 'at BUS'", st.span, help=usage)
    b = Block(ctx, st.block or [], st.span, f"generator{head.named}")
    p_max = b.quantity("p_max", POWER, check=non_negative)
    p_min = b.quantity("p_min", POWER, default=0.0, check=non_negative)
    q_max = b.quantity("q_max", POWER, default=None)
    q_min = b.quantity("q_min", POWER, default=None)
    fuel = b.quantity("fuel", PRICE_ENERGY, default=0.0)
    profile = b.word("profile", default=None)
    price_profile = b.word("price", default=None)
    curtail = b.quantity("curtailment", PRICE_ENERGY, default=0.0, check=non_negative)
    b.finish()
    if p_max is not None and p_min is not None and p_min > p_max:
        ctx.error("GRID024", f"p_min {p_min:g} kW exceeds p_max {p_max:g} kW",
                  b.span_of("p_min"), help="p_min must not exceed p_max")
        return None
    if None in (head.name, head.kind, head.at, p_max, p_min, fuel, curtail):
        return None
    return ir.Generator(span=st.span, name=head.name, kind=head.kind, bus=head.at,  # type: ignore[arg-type]
                        p_max_kw=p_max, p_min_kw=p_min, q_max_kvar=q_max, q_min_kvar=q_min,
                        fuel_cny_per_kwh=fuel, profile=profile, curtailment_cny_per_kwh=curtail,
                        price_profile=price_profile)


def build_storage(ctx: Context, st: Stmt) -> ir.Storage | None:
    usage = ("storage NAME at BUS { power 200 kW, energy 800 kWh, efficiency 0.95, "
             "soc 0.2 .. 0.9, cyclic }")
    head = read_head(ctx, st, ("name", "at"), usage)
    if head.at is None:
        ctx.error("GRID012", "a storage unit needs a bus: 'at BUS'", st.span, help=usage)
    b = Block(ctx, st.block or [], st.span, f"storage{head.named}")
    power = b.quantity("power", POWER, check=positive)
    energy = b.quantity("energy", ENERGY, check=positive)
    eff = b.quantity("efficiency", FRACTION, default=0.95, check=efficiency)
    soc = b.range("soc", FRACTION, default=(0.1, 0.9), check=in_unit_interval)
    soc_init = b.quantity("soc_init", FRACTION, default=None, check=in_unit_interval)
    wear = b.quantity("wear", PRICE_ENERGY, default=0.0, check=non_negative)
    cyclic = b.flag("cyclic")
    b.finish()
    if None in (head.name, head.at, power, energy, eff, soc, wear):
        return None
    init = soc_init if soc_init is not None else (soc[0] + soc[1]) / 2
    if not soc[0] <= init <= soc[1]:
        ctx.error("GRID024", f"soc_init {init:g} lies outside soc {soc[0]:g} .. {soc[1]:g}",
                  b.span_of("soc_init"), help="the initial state of charge must lie within soc")
        return None
    return ir.Storage(span=st.span, name=head.name, bus=head.at, power_kw=power,
                      energy_kwh=energy, efficiency=eff, soc_min=soc[0], soc_max=soc[1],
                      soc_init=init, wear_cny_per_kwh=wear, cyclic=cyclic)


PENALTY_KINDS = ("shed", "curtailment", "loss", "unserved_ev")


def build_penalty(ctx: Context, st: Stmt) -> ir.Penalty | None:
    """`penalty shed 10 CNY/kWh [weighted by priority]`."""
    usage = "penalty shed|curtailment|loss 10 CNY/kWh [weighted by priority]"
    a = st.atoms
    if len(a) < 3 or a[1].kind != "name":
        ctx.error("GRID014", "malformed penalty", st.span, help=usage)
        return None
    kind = str(a[1].value)
    if kind not in PENALTY_KINDS:
        ctx.error("GRID015", f"unknown penalty '{kind}'", a[1].span,
                  help=did_you_mean(kind, PENALTY_KINDS, "penalties"))
        return None
    value = to_float(ctx, a[2], PRICE_ENERGY, non_negative)
    weighted = False
    tail = [str(x.value) for x in a[3:]]
    if tail == ["weighted", "by", "priority"]:
        weighted = True
    elif tail:
        ctx.error("GRID014", "unexpected words after the penalty", a[3].span, help=usage)
    if value is None:
        return None
    return ir.Penalty(span=st.span, kind=kind, cny_per_kwh=value,  # type: ignore[arg-type]
                      weighted_by_priority=weighted)


def build_price(ctx: Context, st: Stmt) -> ir.Price | None:
    """`price grid 0.5 CNY/kWh`, `price grid profile tou`, `price carbon 0.13 kYuan/t`."""
    usage = "price grid 0.5 CNY/kWh  |  price grid profile NAME  |  price carbon 130 CNY/t"
    a = [x for x in st.atoms if not (x.kind == "sym" and x.value == "=")]
    if len(a) < 3 or a[1].kind != "name" or a[1].value not in ("grid", "carbon"):
        ctx.error("GRID014", "malformed price", a[1].span if len(a) > 1 else st.span, help=usage)
        return None
    kind = str(a[1].value)
    if len(a) == 4 and a[2].kind == "name" and a[2].value == "profile" and a[3].kind == "name":
        return ir.Price(span=st.span, kind=kind, profile=str(a[3].value))  # type: ignore[arg-type]
    if len(a) == 3:
        value = to_float(ctx, a[2], PRICE_MASS if kind == "carbon" else PRICE_ENERGY,
                         non_negative)
        if value is None:
            return None
        return ir.Price(span=st.span, kind=kind, value=value)  # type: ignore[arg-type]
    extra = len(a) > 3 and a[2].kind == "number"
    ctx.error("GRID014", f"'price {kind}' takes one value" if extra else "malformed price",
              a[3].span if extra else st.span, help=usage)
    return None
