"""`invest NAME : KIND { ... }`: one builder per investment kind."""

from __future__ import annotations

from collections.abc import Callable

from gridc.dsl import ir_planning as P
from gridc.dsl.build.columns import Col, read_columns
from gridc.dsl.build.components import efficiency, in_unit_interval, non_negative, positive
from gridc.dsl.build.head import Head, read_head
from gridc.dsl.build.reader import (
    KIND_WORDS,
    REQUIRED,
    Block,
    Context,
    to_float,
    to_range,
    unit_help,
)
from gridc.dsl.diagnostics import did_you_mean
from gridc.dsl.spans import Span
from gridc.dsl.syntax import Atom, Stmt
from gridc.dsl.units import (
    AREA,
    AREA_PER_ENERGY,
    DURATION,
    ENERGY,
    FRACTION,
    LENGTH,
    LIFETIME,
    MONEY,
    MONEY_PER_YEAR,
    POWER,
    PRICE_ENERGY,
    PRICE_ENERGY_CAP,
    PRICE_ENERGY_CAP_YEAR,
    PRICE_LENGTH,
    PRICE_LENGTH_YEAR,
    PRICE_POWER,
    PRICE_POWER_YEAR,
    Expect,
    UnitError,
    factor,
)

USAGE = ("invest NAME : reinforcement|mobile_storage|ev_battery|dg|substation|lines|stations"
         "|storage { ... }")

_BASIS: dict[str, tuple[Expect, Expect]] = {
    "each": (MONEY, MONEY_PER_YEAR),
    "kW": (PRICE_POWER, PRICE_POWER_YEAR),
    "kWh": (PRICE_ENERGY_CAP, PRICE_ENERGY_CAP_YEAR),
    "km": (PRICE_LENGTH, PRICE_LENGTH_YEAR),
}


def costs(b: Block, basis: str, span: Span) -> P.Costs | None:
    install_x, maintain_x = _BASIS[basis]
    install = b.quantity("install", install_x, check=non_negative)
    maintain = b.quantity("maintain", maintain_x, default=0.0, check=non_negative)
    life = b.quantity("life", LIFETIME, check=positive)
    if None in (install, maintain, life):
        return None
    return P.Costs(span=span, install_cny=install, maintain_cny_per_y=maintain, life_y=life,
                   basis=basis)  # type: ignore[arg-type]


def count(b: Block, span: Span) -> P.CountBounds | None:
    rng = b.range("count", FRACTION, check=non_negative)
    if rng is None:
        return None
    lo, hi = rng
    if not (float(lo).is_integer() and float(hi).is_integer()):
        b.ctx.error("GRID023", f"count bounds must be whole numbers, found {lo:g} .. {hi:g}",
                    b.span_of("count"), help="write e.g. 'count 0 .. 2'")
        return None
    return P.CountBounds(span=b.span_of("count"), min=int(lo), max=int(hi))


def _reinforcement(ctx: Context, st: Stmt, head: Head, b: Block) -> P.Reinforcement | None:
    cands = b.refs("candidates")
    cnt = count(b, st.span)
    c = costs(b, "each", st.span)
    b.finish()
    if None in (cands, cnt, c):
        return None
    return P.Reinforcement(span=st.span, name=head.name, candidates=cands, count=cnt, costs=c)


def _mess_type(ctx: Context, st: Stmt) -> P.MobileStorageType | None:
    head = read_head(ctx, st, usage="type NAME { power 300 kW, energy 600 kWh, install ... }")
    b = Block(ctx, st.block or [], st.span, f"type{head.named}")
    power = b.quantity("power", POWER, check=positive)
    energy = b.quantity("energy", ENERGY, check=positive)
    eff = b.quantity("efficiency", FRACTION, default=0.95, check=efficiency)
    soc = b.range("soc", FRACTION, default=(0.1, 0.9), check=in_unit_interval)
    soc_init = b.quantity("soc_init", FRACTION, default=None, check=in_unit_interval)
    wear = b.quantity("wear", PRICE_ENERGY, default=0.0, check=non_negative)
    max_units = b.integer("max", default=None)
    c = costs(b, "each", st.span)
    b.finish()
    if None in (head.name, power, energy, eff, soc, wear, c):
        return None
    return P.MobileStorageType(
        span=st.span, name=head.name, power_kw=power, energy_kwh=energy, efficiency=eff,
        soc_min=soc[0], soc_max=soc[1], soc_init=soc_init if soc_init is not None else soc[1],
        wear_cny_per_kwh=wear, costs=c, max_units=max_units)


def _mobile_storage(ctx: Context, st: Stmt, head: Head, b: Block) -> P.MobileStorage | None:
    types = [_mess_type(ctx, t) for t in b.all("type")]
    if not b.all("type"):
        ctx.error("GRID012", f"investment{head.named} needs at least one 'type'", st.span,
                  help="add e.g. 'type MESS1 { power 300 kW, energy 600 kWh, install 640 kCNY, "
                       "maintain 1.5 kCNY/y, life 10 y }'")
    cnt = count(b, st.span)
    depot = b.ref("depot")
    cands = b.refs("candidates", default=())
    moves = b.integer("moves")
    travel = b.quantity("travel", DURATION, default=1.0, check=non_negative)
    b.finish()
    if None in (cnt, depot, cands, moves, travel) or None in types or not types:
        return None
    return P.MobileStorage(span=st.span, name=head.name, types=tuple(types), count=cnt,  # type: ignore[arg-type]
                           depot=depot, candidates=cands, moves_max=moves, travel_h=travel)


SITE_COLUMNS = {"bus": Col("ref", True), "evs": Col("int", True), "piles": Col("int", True)}


def _pack_type(ctx: Context, st: Stmt) -> P.PackType | None:
    head = read_head(ctx, st, usage="type NAME { pack 75 kWh, install 120 kCNY, ... }")
    b = Block(ctx, st.block or [], st.span, f"type{head.named}")
    pack = b.quantity("pack", ENERGY, check=positive)
    c = costs(b, "each", st.span)
    b.finish()
    if None in (head.name, pack, c):
        return None
    return P.PackType(span=st.span, name=head.name, pack_kwh=pack, costs=c)


def _ev_battery(ctx: Context, st: Stmt, head: Head, b: Block) -> P.EvBattery | None:
    table = b.table("sites")
    sites = [P.EvSite(span=r.span, bus=r.values["bus"], evs=r.values["evs"],
                      piles=r.values["piles"])
             for r in (read_columns(ctx, table, SITE_COLUMNS, "sites") if table else [])]
    types = [_pack_type(ctx, t) for t in b.all("type")]
    if not b.all("type"):
        ctx.error("GRID012", f"investment{head.named} needs at least one 'type'", st.span,
                  help="add e.g. 'type RB1 { pack 75 kWh, install 120 kCNY, maintain 2 kCNY/y, "
                       "life 8 y }'")
    ev_p = b.quantity("ev_power", POWER, check=positive)
    ev_q = b.quantity("ev_q", POWER, default=None, check=non_negative)
    pile_p = b.quantity("pile_power", POWER, check=positive)
    pile_q = b.quantity("pile_q", POWER, check=non_negative)
    eff = b.quantity("efficiency", FRACTION, default=0.95, check=efficiency)
    soc = b.range("soc", FRACTION, default=(0.1, 0.9), check=in_unit_interval)
    soc_init = b.quantity("soc_init", FRACTION, default=None, check=in_unit_interval)
    pf = b.quantity("power_factor", FRACTION, default=0.9, check=efficiency)
    loss = b.quantity("loss", PRICE_ENERGY, default=0.0, check=non_negative)
    cnt = count(b, st.span)
    per_site = b.integer("per_site_max", default=None)
    b.finish()
    if None in (ev_p, pile_p, pile_q, eff, soc, pf, loss, cnt) or None in types or not types \
            or table is None:
        return None
    return P.EvBattery(
        span=st.span, name=head.name, sites=tuple(sites), types=tuple(types),  # type: ignore[arg-type]
        ev_power_kw=ev_p, ev_q_kvar=ev_q, pile_power_kw=pile_p, pile_q_kvar=pile_q,
        efficiency=eff, soc_min=soc[0], soc_max=soc[1],
        soc_init=soc_init if soc_init is not None else soc[1], power_factor=pf,
        loss_cny_per_kwh=loss, count=cnt, per_site_max=per_site)


def _dg(ctx: Context, st: Stmt, head: Head, b: Block) -> P.DgUnits | None:
    source = b.word("source", ("wind", "pv"))
    unit = b.quantity("unit", POWER, check=positive)
    cap = b.range("capacity", POWER, check=non_negative)
    profile = b.word("profile", default=None)
    pf = b.quantity("power_factor", FRACTION, default=1.0, check=efficiency)
    c = costs(b, "kW", st.span)
    b.finish()
    if head.at is None:
        ctx.error("GRID012", f"investment{head.named} needs a bus: 'at BUS'", st.span,
                  help="write e.g. 'invest wt : dg at 2 { ... }'")
    if None in (source, unit, cap, pf, c, head.at):
        return None
    return P.DgUnits(span=st.span, name=head.name, source=source, bus=head.at, unit_kw=unit,
                     capacity_min_kw=cap[0], capacity_max_kw=cap[1], profile=profile, costs=c,
                     power_factor=pf)


# ------------------------------------------------------------------ stationary storage

#: the cost lines of a storage investment, told apart by their unit: per kW of power
#: rating or per kWh of energy capacity
_STORAGE_COSTS = {"install": (PRICE_POWER, PRICE_ENERGY_CAP),
                  "maintain": (PRICE_POWER_YEAR, PRICE_ENERGY_CAP_YEAR)}
_STORAGE_BASES = ("kW", "kWh")
_STORAGE_EXAMPLES = {"install": ("800 CNY/kW", "1200 CNY/kWh"),
                     "maintain": ("10 CNY/kW/y", "2 CNY/kWh/y")}


def _dimension(ctx: Context, atom: Atom, options: tuple[Expect, Expect], key: str,
               example: str) -> int | None:
    """Which of the two `options` the value's unit is (0 or 1); None after reporting a
    value that is neither."""
    a, b = options
    if atom.kind != "number":
        found = KIND_WORDS.get(atom.kind, atom.kind)
        ctx.error("GRID014", f"'{key}' expects {a.what} or {b.what}, found {found}", atom.span,
                  help=f"write e.g. {example}")
        return None
    if atom.unit is None:
        ctx.error("GRID022", f"missing unit: expected {a.what} or {b.what}", atom.span,
                  help=f"write it with its unit, e.g. {example}")
        return None
    for i, expect in enumerate(options):
        try:
            factor(atom.unit, expect)
            return i
        except UnitError as err:
            if err.code != "GRID021":  # an unknown unit, not one of the other kind
                ctx.error(err.code, str(err), atom.span, help=unit_help(err, atom.unit))
                return None
    ctx.error("GRID021", f"'{atom.unit}' is neither {a.what} nor {b.what}", atom.span,
              help=f"write e.g. {example}")
    return None


def _size(b: Block, key: str, expect: Expect) -> tuple[float, float] | None:
    """`power 0 .. 500 kW` (the range to choose in) or `power 500 kW` (min = max)."""
    atom = b.value_atom(key, f"0 .. {expect.example}")
    if not isinstance(atom, Atom):
        return None
    if atom.kind == "range":
        return to_range(b.ctx, atom, expect, non_negative)
    value = to_float(b.ctx, atom, expect, non_negative)
    return None if value is None else (value, value)


def _unit_sizes(ctx: Context, b: Block) -> tuple[float | None, float | None] | None:
    """`unit 100 kW 400 kWh`: one whole unit's power and energy ((None, None) without
    `unit`; that both are given is a semantic check, see `gridc.dsl.checks`)."""
    st = b.first("unit")
    if st is None:
        return None, None
    usage = "write e.g. 'unit 100 kW 400 kWh' (the battery is built in whole units of both)"
    atoms = st.atoms[1:]
    if not atoms or len(atoms) > 2 or st.block is not None:
        ctx.error("GRID014", "'unit' takes a power and an energy",
                  atoms[2].span if len(atoms) > 2 else st.span, help=usage)
        return None
    sizes: list[float | None] = [None, None]
    for atom in atoms:
        i = _dimension(ctx, atom, (POWER, ENERGY), "unit", "'unit 100 kW 400 kWh'")
        if i is None:
            return None
        if sizes[i] is not None:
            ctx.error("GRID014", f"'unit' gives {('a power', 'an energy')[i]} twice", atom.span,
                      help=usage)
            return None
        sizes[i] = to_float(ctx, atom, (POWER, ENERGY)[i], positive)
        if sizes[i] is None:
            return None
    return sizes[0], sizes[1]


def _storage_costs(ctx: Context, b: Block) -> tuple[P.Costs | None, P.Costs | None] | None:
    """(per kW, per kWh) costs: each `install`/`maintain` line counts for the power
    rating or for the energy capacity as its unit says; `life` is shared. Neither is
    (None, None): that at least one is given is a semantic check."""
    n_errors = len(ctx.diags.items)
    by_basis: dict[str, list[Stmt]] = {basis: [] for basis in _STORAGE_BASES}
    for key, options in _STORAGE_COSTS.items():
        for st in b.all(key):
            per_kw, per_kwh = _STORAGE_EXAMPLES[key]
            example = f"'{key} {per_kw}' (per kW of power) or '{key} {per_kwh}' (per kWh of " \
                      "energy)"
            if len(st.atoms) != 2 or st.block is not None:
                ctx.error("GRID014", f"'{key}' takes one value",
                          st.atoms[2].span if len(st.atoms) > 2 else st.span,
                          help=f"write e.g. {example}, one per line")
                continue
            i = _dimension(ctx, st.atoms[1], options, key, example)
            if i is not None:
                by_basis[_STORAGE_BASES[i]].append(st)
    for k, (basis, stmts) in enumerate(list(by_basis.items())):
        if stmts and all(s.keyword != "install" for s in stmts):
            by_basis[basis] = []
            ctx.error("GRID012", f"{b.what} has a 'maintain' per {basis} but no 'install' "
                      f"per {basis}", stmts[0].atoms[0].span,
                      help=f"add e.g. 'install {_STORAGE_EXAMPLES['install'][k]}' (or "
                           f"'install 0 CNY/{basis}' if it costs nothing to install)")
    needed = any(by_basis.values()) or b.has("install")
    before = len(ctx.diags.items)
    b.quantity("life", LIFETIME, check=positive, default=REQUIRED if needed else None)
    if len(ctx.diags.items) > before:
        return None
    life = b.by_key.get("life", [])[:1]
    found: list[P.Costs | None] = []
    for basis, stmts in by_basis.items():
        # each basis is read by the shared `costs` helper, from its own lines and `life`
        sub = Block(ctx, [*stmts, *life], b.owner, f"{b.what} (per {basis})")
        found.append(costs(sub, basis, stmts[0].span) if stmts else None)
    if len(ctx.diags.items) > n_errors:
        return None
    return found[0], found[1]


def _storage(ctx: Context, st: Stmt, head: Head, b: Block) -> P.StorageBuild | None:
    power = _size(b, "power", POWER)
    energy = _size(b, "energy", ENERGY)
    unit = _unit_sizes(ctx, b)
    eff = b.quantity("efficiency", FRACTION, default=0.95, check=efficiency)
    soc = b.range("soc", FRACTION, default=(0.1, 0.9), check=in_unit_interval)
    soc_init = b.quantity("soc_init", FRACTION, default=None, check=in_unit_interval)
    wear = b.quantity("wear", PRICE_ENERGY, default=0.0, check=non_negative)
    cyclic = b.flag("cyclic")
    c = _storage_costs(ctx, b)
    b.finish()
    if head.at is None:
        ctx.error("GRID012", f"investment{head.named} needs a bus: 'at BUS'", st.span,
                  help="write e.g. 'invest bess : storage at 18 { ... }'")
    if power is None or energy is None or unit is None or soc is None or c is None \
            or None in (eff, wear, head.at):
        return None
    return P.StorageBuild(
        span=st.span, name=head.name, bus=head.at, power_min_kw=power[0],
        power_max_kw=power[1], energy_min_kwh=energy[0], energy_max_kwh=energy[1],
        unit_kw=unit[0], unit_kwh=unit[1], efficiency=eff, soc_min=soc[0], soc_max=soc[1],
        soc_init=soc_init if soc_init is not None else (soc[0] + soc[1]) / 2,
        wear_cny_per_kwh=wear, cyclic=cyclic, power_costs=c[0], energy_costs=c[1])


def _substation(ctx: Context, st: Stmt, head: Head, b: Block) -> P.Substation | None:
    ratings = b.numbers("ratings", POWER)
    existing = b.quantity("existing", POWER, default=0.0, check=non_negative)
    load_rate = b.quantity("load_rate", FRACTION, default=1.0, check=efficiency)
    pf = b.quantity("power_factor", FRACTION, default=0.9, check=efficiency)
    c = costs(b, "kW", st.span)
    b.finish()
    if head.at is None:
        ctx.error("GRID012", f"investment{head.named} needs a bus: 'at BUS'", st.span)
    if None in (ratings, existing, load_rate, pf, c, head.at):
        return None
    return P.Substation(span=st.span, name=head.name, bus=head.at, ratings_kva=ratings,
                        existing_kva=existing, load_rate=load_rate, power_factor=pf, costs=c)


CANDIDATE_COLUMNS = {"from": Col("ref", True), "to": Col("ref", True),
                     "length": Col("quantity", expect=LENGTH),
                     "existing": Col("bool", default=False)}


def _lines(ctx: Context, st: Stmt, head: Head, b: Block) -> P.LineBuild | None:
    table = b.table("candidates")
    rows = read_columns(ctx, table, CANDIDATE_COLUMNS, "candidates") if table else []
    c = costs(b, "km", st.span)
    radial = b.flag("radial")
    b.finish()
    if c is None or table is None:
        return None
    cands = tuple(P.CandidateLine(span=r.span, from_bus=r.values["from"], to_bus=r.values["to"],
                                  length_km=r.values["length"], existing=r.values["existing"])
                  for r in rows)
    return P.LineBuild(span=st.span, name=head.name, candidates=cands, costs=c, radial=radial)


ROLES = ("charger_1", "charger_2", "swapper", "swap_storage")


def _equipment(ctx: Context, st: Stmt) -> P.Equipment | None:
    head = read_head(ctx, st, ("name", "kind"), "equipment NAME : charger_1 { ... }")
    role = head.kind or head.name
    if role is None:  # read_head has reported the missing name
        return None
    if role not in ROLES:
        ctx.error("GRID015", f"unknown equipment role '{role}'",
                  head.kind_atom.span if head.kind_atom is not None else st.atoms[-1].span,
                  help=did_you_mean(role or "", ROLES, "roles"))
        return None
    b = Block(ctx, st.block or [], st.span, f"equipment{head.named}")
    storage = role == "swap_storage"
    power = b.quantity("power", POWER, default=0.0, check=non_negative)
    area = b.quantity("area", AREA_PER_ENERGY if storage else AREA, check=non_negative)
    c = costs(b, "kWh" if storage else "each", st.span)
    b.finish()
    if None in (power, area, c, head.name):
        return None
    return P.Equipment(span=st.span, name=head.name, role=role, power_kw=power,  # type: ignore[arg-type]
                       area_m2=area, costs=c)


def _transformer(ctx: Context, st: Stmt) -> P.Transformer | None:
    b = Block(ctx, st.block or [], st.span, "transformer")
    ratings = b.numbers("ratings", POWER)
    red = b.quantity("redundancy", FRACTION, default=0.2, check=non_negative)
    sim = b.quantity("simultaneity", FRACTION, default=0.6, check=efficiency)
    rate = b.quantity("load_rate", FRACTION, default=0.75, check=efficiency)
    pf = b.quantity("power_factor", FRACTION, default=0.95, check=efficiency)
    c = costs(b, "kW", st.span)
    b.finish()
    if None in (ratings, red, sim, rate, pf, c):
        return None
    return P.Transformer(span=st.span, ratings_kva=ratings, redundancy=red, simultaneity=sim,
                         load_rate=rate, power_factor=pf, costs=c)


def _stations(ctx: Context, st: Stmt, head: Head, b: Block) -> P.Stations | None:
    sites = b.refs("sites")
    layout = b.word("layout", ("integrated", "separate"), default="integrated")
    equipment = [_equipment(ctx, e) for e in b.all("equipment")]
    tr_st = b.all("transformer")
    if len(tr_st) > 1:
        ctx.error("GRID013", f"'transformer' is given twice in {b.what}",
                  tr_st[1].atoms[0].span, help="keep one of them")
    transformer = _transformer(ctx, tr_st[0]) if tr_st else None
    if not tr_st:
        ctx.error("GRID012", f"investment{head.named} needs a 'transformer {{ ... }}'", st.span,
                  help="add e.g. 'transformer { ratings [630, 1000] kVA, install 1 kYuan/kVA, "
                       "life 20 y }'")
    margin = b.quantity("margin", FRACTION, default=0.2, check=non_negative)
    sev_margin = b.quantity("sev_margin", FRACTION, default=0.5, check=non_negative)
    land_life = b.quantity("land_life", LIFETIME, default=50.0, check=positive)
    cnt = count(b, st.span)
    b.finish()
    if None in (sites, layout, transformer, margin, sev_margin, land_life, cnt) \
            or None in equipment:
        return None
    return P.Stations(span=st.span, name=head.name, sites=sites, layout=layout,  # type: ignore[arg-type]
                      equipment=tuple(equipment), transformer=transformer, margin=margin,  # type: ignore[arg-type]
                      sev_margin=sev_margin, land_life_y=land_life, count=cnt)


BUILDERS: dict[str, Callable[[Context, Stmt, Head, Block], object]] = {
    "reinforcement": _reinforcement,
    "mobile_storage": _mobile_storage,
    "ev_battery": _ev_battery,
    "dg": _dg,
    "substation": _substation,
    "lines": _lines,
    "stations": _stations,
    "storage": _storage,
}


def build_investment(ctx: Context, st: Stmt) -> object | None:
    head = read_head(ctx, st, ("name", "kind", "at"), USAGE)
    if head.kind is None:
        ctx.error("GRID012", f"investment{head.named} needs a kind", st.span,
                  help=f"write {USAGE}")
        return None
    builder = BUILDERS.get(head.kind)
    if builder is None:
        ctx.error("GRID015", f"unknown investment kind '{head.kind}'",
                  head.kind_atom.span if head.kind_atom else st.span,
                  help=did_you_mean(head.kind, BUILDERS, "kinds"))
        return None
    block = Block(ctx, st.block or [], st.span, f"investment{head.named}")
    if head.name is None:
        return None
    return builder(ctx, st, head, block)
