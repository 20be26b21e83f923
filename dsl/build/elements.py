"""Real-feeder elements of `network`: transformers, switches, shunts, rating polygon.

Why a module of its own: these tables turn nameplate data into branches of the one
`line` dimension the compiler works on (docs/language.md §4.5). A transformer row
(pandapower's `trafo` columns: vk, vkr in % on its own rating, rated voltages, tap
changer) becomes a `Line` of kind "transformer" whose ohms are referred to its HV bus
level and whose off-nominal ratio τ is stated per unit of the bus bases; a switch
becomes a zero-impedance `Line` of kind "switch" (its closed state equates the
voltages); a shunt row stays a bus element. The per-unit conversion onto the system
base (each level's own base impedance) is the compiler's.
"""

from __future__ import annotations

import math

from gridc.dsl import ir
from gridc.dsl.build.columns import Col, Row, read_columns
from gridc.dsl.build.reader import Block, Context, to_int, to_word
from gridc.dsl.tables import Table
from gridc.dsl.units import FRACTION, POWER, VOLTAGE

TRANSFORMER_COLUMNS = {
    "id": Col("ref"),
    "from": Col("ref", required=True),
    "to": Col("ref", required=True),
    "rating": Col("quantity", expect=POWER, required=True),
    "vk": Col("quantity", expect=FRACTION, required=True),
    "vkr": Col("quantity", expect=FRACTION, default=0.0),
    "vn_hv": Col("quantity", expect=VOLTAGE),
    "vn_lv": Col("quantity", expect=VOLTAGE),
    "tap_pos": Col("quantity", expect=FRACTION, default=0.0),
    "tap_neutral": Col("quantity", expect=FRACTION, default=0.0),
    "tap_step": Col("quantity", expect=FRACTION, default=0.0),
    "tap_side": Col("word", choices=("hv", "lv"), default="hv"),
    "ratio": Col("quantity", expect=FRACTION, default=1.0),
    "pfe": Col("quantity", expect=POWER, default=0.0),
    "i0": Col("quantity", expect=FRACTION, default=0.0),
    "open": Col("bool", default=False, aliases=("status",)),
}

SWITCH_COLUMNS = {
    "id": Col("ref"),
    "from": Col("ref", required=True),
    "to": Col("ref", required=True),
    "open": Col("bool", default=False, aliases=("status",)),
    "switchable": Col("bool", default=True),
    "rating": Col("quantity", expect=POWER),
}

SHUNT_COLUMNS = {
    "id": Col("ref"),
    "bus": Col("ref", required=True),
    "q": Col("quantity", expect=POWER, required=True),
    "p": Col("quantity", expect=POWER, default=0.0),
}

#: `rating_polygon` default: 16 sides, circumscribed (overshoot 1/cos(π/16) − 1 = 1.96 %)
DEFAULT_SIDES = 16
POLYGON_USAGE = "write e.g. 'rating_polygon 16' or 'rating_polygon 12 inner'"


def rating_polygon(ctx: Context, block: Block) -> tuple[int, str]:
    """`rating_polygon N [outer|inner]`: N a multiple of 4 from 4 to 64."""
    st = block.first("rating_polygon")
    if st is None:
        return DEFAULT_SIDES, "outer"
    atoms = st.atoms[1:]
    if not atoms or len(atoms) > 2:
        ctx.error("GRID014", "'rating_polygon' takes a number of sides and optionally "
                  "'outer' or 'inner'", st.span, help=POLYGON_USAGE)
        return DEFAULT_SIDES, "outer"
    fit: str | None = "outer"
    if len(atoms) == 1 and atoms[0].kind == "number" and atoms[0].unit in ("outer", "inner"):
        # `16 outer` lexes as a number with a unit: the word is the fit
        fit, value = atoms[0].unit, float(atoms[0].value)
        sides: int | None = int(value) if value.is_integer() and value >= 4 else None
        if sides is None:
            ctx.error("GRID023", f"expected a whole number of sides, found {atoms[0].text}",
                      atoms[0].span, help=POLYGON_USAGE)
    else:
        sides = to_int(ctx, atoms[0], 4)
        if len(atoms) == 2:
            fit = to_word(ctx, atoms[1], ("outer", "inner"), "rating_polygon")
    if sides is not None and (sides % 4 or sides > 64):
        ctx.error("GRID023", f"'rating_polygon' needs a multiple of 4 from 4 to 64 sides, "
                  f"found {sides}", atoms[0].span, help=POLYGON_USAGE)
        sides = None
    return (sides if sides is not None else DEFAULT_SIDES), (fit or "outer")


def transformers(ctx: Context, table: Table, vn: dict[str, float]) -> list[ir.Line]:
    """`transformers` rows as branches (see `transformer_branch`)."""
    return [transformer_branch(r, vn) for r in
            read_columns(ctx, table, TRANSFORMER_COLUMNS, "transformers")]


def transformer_branch(row: Row, vn: dict[str, float]) -> ir.Line:
    """The MATPOWER branch of a two-winding transformer (ideal ratio τ at the HV side,
    then the series impedance), with pandapower's conventions:

        z_pu = vk · (S_base / S_n) · (vn_lv / vn_to_bus)²   on the system base,
        τ    = ratio · (n_hv / vn_from_bus) / (n_lv / vn_to_bus),

    the tap changer scaling n_hv or n_lv by 1 + (pos − neutral)·step. Stored in ohms at
    the HV bus level (independent of the power base): z_pu · vn_from_bus² · 1000 / S_base
    = vk · vn_from_bus² · 1000 / S_n · (vn_lv / vn_to_bus)². A bus unknown here (a
    diagnostic of the checks) counts with the rated voltage."""
    v = row.values
    fr, to = v["from"], v["to"]
    vn_hv = v["vn_hv"] if v["vn_hv"] is not None else vn.get(fr, 1.0)
    vn_lv = v["vn_lv"] if v["vn_lv"] is not None else vn.get(to, 1.0)
    bus_hv, bus_lv = vn.get(fr, vn_hv), vn.get(to, vn_lv)
    tap = 1.0 + (v["tap_pos"] - v["tap_neutral"]) * v["tap_step"]
    n_hv = vn_hv * (tap if v["tap_side"] == "hv" else 1.0)
    n_lv = vn_lv * (tap if v["tap_side"] == "lv" else 1.0)
    rating = v["rating"]
    z_hv_ohm = (bus_hv ** 2 * 1000.0 / rating * (vn_lv / bus_lv) ** 2
                if rating > 0 else 0.0)
    vk, vkr = v["vk"], v["vkr"]
    x = math.sqrt(max(vk ** 2 - vkr ** 2, 0.0))
    data = ir.TransformerData(
        vk=vk, vkr=vkr, vn_hv_kv=vn_hv, vn_lv_kv=vn_lv, tap_pos=v["tap_pos"],
        tap_neutral=v["tap_neutral"], tap_step=v["tap_step"], tap_side=v["tap_side"],
        ratio=v["ratio"], pfe_kw=v["pfe"], i0=v["i0"])
    ratio = v["ratio"] * (n_hv / bus_hv) / (n_lv / bus_lv) if n_lv > 0 and bus_hv > 0 \
        else 1.0
    return ir.Line(span=row.span, id=v["id"] or f"{fr}-{to}", from_bus=fr, to_bus=to,
                   r_ohm=vkr * z_hv_ohm, x_ohm=x * z_hv_ohm, rating_kva=rating,
                   normally_open=v["open"], kind="transformer", tap_ratio=ratio,
                   transformer=data)


def switches(ctx: Context, table: Table) -> list[ir.Line]:
    """`switches` rows as zero-impedance branches."""
    out = []
    for row in read_columns(ctx, table, SWITCH_COLUMNS, "switches"):
        v = row.values
        out.append(ir.Line(span=row.span, id=v["id"] or f"{v['from']}-{v['to']}",
                           from_bus=v["from"], to_bus=v["to"], r_ohm=0.0, x_ohm=0.0,
                           rating_kva=v["rating"], normally_open=v["open"],
                           switchable=v["switchable"], kind="switch"))
    return out


def shunts(ctx: Context, table: Table) -> list[ir.Shunt]:
    """`shunts` rows; the id defaults to `sh_BUS` (`sh_BUS_2`, ... for more at a bus)."""
    out: list[ir.Shunt] = []
    seen: dict[str, int] = {}
    for row in read_columns(ctx, table, SHUNT_COLUMNS, "shunts"):
        v = row.values
        seen[v["bus"]] = seen.get(v["bus"], 0) + 1
        k = seen[v["bus"]]
        sid = v["id"] or (f"sh_{v['bus']}" if k == 1 else f"sh_{v['bus']}_{k}")
        out.append(ir.Shunt(span=row.span, id=sid, bus=v["bus"], q_kvar=v["q"],
                            p_kw=v["p"]))
    return out
