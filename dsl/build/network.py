"""`network NAME { ... }`: base values, slack bus, buses, lines and tie lines; the
transformers, switches, shunts and rating polygon are read by `dsl.build.elements`."""

from __future__ import annotations

from gridc.dsl import ir
from gridc.dsl.build import elements
from gridc.dsl.build.columns import Col, Row, read_columns
from gridc.dsl.build.head import read_head
from gridc.dsl.build.reader import KIND_WORDS, Block, Context, ref_text, to_float, unit_help
from gridc.dsl.syntax import Stmt
from gridc.dsl.units import (
    FRACTION,
    IMPEDANCE,
    IMPEDANCE_PER_KM,
    LENGTH,
    PER_UNIT,
    POWER,
    SUSCEPTANCE,
    VOLTAGE,
    UnitError,
    factor,
)

USAGE = "network NAME { base 12.66 kV 10 MVA, slack 1 at 1.0 pu, buses table {...}, lines ... }"

BUS_COLUMNS = {
    "id": Col("ref", required=True, aliases=("bus",)),
    "p": Col("quantity", expect=POWER, default=0.0),
    "q": Col("quantity", expect=POWER, default=0.0),
    "priority": Col("quantity", expect=FRACTION, default=1.0),
    "v_min": Col("quantity", expect=PER_UNIT),
    "v_max": Col("quantity", expect=PER_UNIT),
    "x": Col("quantity", expect=LENGTH),
    "y": Col("quantity", expect=LENGTH),
    "region": Col("ref"),
    "vn": Col("quantity", expect=VOLTAGE),
}

LINE_COLUMNS = {
    "id": Col("ref"),
    "from": Col("ref", required=True),
    "to": Col("ref", required=True),
    "r": Col("quantity", expect=IMPEDANCE, required=True),
    "x": Col("quantity", expect=IMPEDANCE, required=True),
    "rating": Col("quantity", expect=POWER),
    "length": Col("quantity", expect=LENGTH),
    "open": Col("bool", default=False, aliases=("status",)),
    "switchable": Col("bool", default=False),
    "b": Col("quantity", expect=SUSCEPTANCE, default=0.0),
}


def build_network(ctx: Context, st: Stmt) -> ir.Network | None:
    head = read_head(ctx, st, usage=USAGE)
    block = Block(ctx, st.block or [], st.span, f"network{head.named}")
    base_kv, base_kva = _base(ctx, block)
    slack, slack_v = _slack(ctx, block)
    vlim = block.range("voltage", PER_UNIT, default=(0.95, 1.05))
    load_profile = block.word("load_profile", default=None)
    cable_r = block.quantity("cable_r", IMPEDANCE_PER_KM, default=None)
    cable_x = block.quantity("cable_x", IMPEDANCE_PER_KM, default=None)
    cable_rating = block.quantity("cable_rating", POWER, default=None)
    bus_table = block.table("buses")
    line_table = block.table("lines", default=None)
    tie_table = block.table("ties", default=None)
    trafo_table = block.table("transformers", default=None)
    switch_table = block.table("switches", default=None)
    shunt_table = block.table("shunts", default=None)
    sides, fit = elements.rating_polygon(ctx, block)
    block.finish()
    buses = [_bus(r) for r in read_columns(ctx, bus_table, BUS_COLUMNS, "buses")] \
        if bus_table else []
    lines: list[ir.Line] = []
    if line_table:
        lines += [_line(r, False) for r in read_columns(ctx, line_table, LINE_COLUMNS, "lines")]
    if tie_table:
        lines += [_line(r, True) for r in read_columns(ctx, tie_table, LINE_COLUMNS, "ties")]
    if trafo_table:
        vn = {b.id: b.vn_kv if b.vn_kv is not None else (base_kv or 1.0) for b in buses}
        lines += elements.transformers(ctx, trafo_table, vn)
    if switch_table:
        lines += elements.switches(ctx, switch_table)
    shunts = elements.shunts(ctx, shunt_table) if shunt_table else []
    if head.name is None or base_kv is None or base_kva is None or slack is None \
            or vlim is None:
        return None
    return ir.Network(
        span=st.span, name=head.name, base_kv=base_kv, base_kva=base_kva, slack_bus=slack,
        slack_v_pu=slack_v, v_min_pu=vlim[0], v_max_pu=vlim[1], load_profile=load_profile,
        cable_r_ohm_per_km=cable_r, cable_x_ohm_per_km=cable_x, cable_rating_kva=cable_rating,
        buses=tuple(buses), lines=tuple(lines), shunts=tuple(shunts), rating_sides=sides,
        rating_fit=fit,
    )


def _base(ctx: Context, block: Block) -> tuple[float | None, float | None]:
    """`base 12.66 kV 10 MVA`: a voltage and a power, in either order."""
    st = block.all("base")
    if not st:
        ctx.error("GRID012", f"{block.what} needs 'base'", block.owner,
                  help="add e.g. 'base 12.66 kV 10 MVA'")
        return None, None
    _once(ctx, block, st)
    kv = kva = None
    usage = "write e.g. 'base 12.66 kV 10 MVA'"
    for atom in st[0].atoms[1:]:
        if atom.kind != "number":
            ctx.error("GRID014", f"'base' takes a voltage and a power, found "
                      f"{KIND_WORDS.get(atom.kind, atom.kind)}", atom.span, help=usage)
            return None, None
        if atom.unit is None:
            ctx.error("GRID022", f"missing unit: is {atom.text} the base voltage or power?",
                      atom.span, help=usage)
            return None, None
        for expect in (VOLTAGE, POWER):
            try:
                factor(atom.unit, expect)
            except UnitError:
                continue
            value = to_float(ctx, atom, expect)
            if expect is VOLTAGE:
                kv = value
            else:
                kva = value
            break
        else:
            try:
                factor(atom.unit, POWER)
            except UnitError as err:
                if err.code == "GRID020":
                    ctx.error(err.code, str(err), atom.span, help=unit_help(err, atom.unit))
                    return None, None
            ctx.error("GRID021", f"'{atom.unit}' is neither a voltage nor a power: 'base' "
                      "takes a voltage and a power", atom.span, help=usage)
            return None, None
    if kv is None or kva is None:
        ctx.error("GRID012", "'base' needs both a voltage and a power", st[0].span,
                  help="write e.g. 'base 12.66 kV 10 MVA'")
    return kv, kva


def _slack(ctx: Context, block: Block) -> tuple[str | None, float]:
    """`slack 1` or `slack 1 at 1.0 pu`."""
    st = block.all("slack")
    if not st:
        ctx.error("GRID012", f"{block.what} needs 'slack'", block.owner,
                  help="add e.g. 'slack 1 at 1.0 pu'")
        return None, 1.0
    _once(ctx, block, st)
    atoms = st[0].atoms[1:]
    bus = ref_text(atoms[0]) if atoms else None
    if bus is None:
        ctx.error("GRID014", "'slack' expects a bus", st[0].span,
                  help="write e.g. 'slack 1 at 1.0 pu'")
        return None, 1.0
    v = 1.0
    if len(atoms) == 3 and atoms[1].kind == "kw" and atoms[1].value == "at":
        given = to_float(ctx, atoms[2], PER_UNIT, check=_slack_voltage)
        v = 1.0 if given is None else given  # after an error: keep going with a neutral value
    elif len(atoms) != 1:
        ctx.error("GRID014", "unexpected value after the slack bus", atoms[1].span,
                  help="write e.g. 'slack 1 at 1.0 pu'")
    return bus, v


def _slack_voltage(v: float) -> str | None:
    """A slack voltage is a per-unit magnitude of a few percent around 1."""
    return None if 0.5 <= v <= 1.5 else f"slack voltage must be between 0.5 and 1.5 pu, found {v:g}"


def _once(ctx: Context, block: Block, stmts: list[Stmt]) -> None:
    """Report a property read with `block.all` that is given more than once."""
    if len(stmts) > 1:
        ctx.error("GRID013", f"'{stmts[1].keyword}' is given twice in {block.what}",
                  stmts[1].atoms[0].span, help="keep one of them")


def _bus(row: Row) -> ir.Bus:
    v = row.values
    return ir.Bus(span=row.span, id=v["id"], p_kw=v["p"], q_kvar=v["q"],
                  priority=v["priority"], v_min_pu=v["v_min"], v_max_pu=v["v_max"],
                  x_km=v["x"], y_km=v["y"], region=v["region"], vn_kv=v["vn"])


def _line(row: Row, tie: bool) -> ir.Line:
    v = row.values
    lid = v["id"] or f"{v['from']}-{v['to']}"
    return ir.Line(span=row.span, id=lid, from_bus=v["from"], to_bus=v["to"], r_ohm=v["r"],
                   x_ohm=v["x"], rating_kva=v["rating"], length_km=v["length"],
                   normally_open=tie or v["open"], switchable=tie or v["switchable"],
                   b_us=v["b"])
