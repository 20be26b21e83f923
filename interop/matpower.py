"""MATPOWER case file (`.m`) → neutral tables, read with `matpowercaseframes`.

Why these conversions: MATPOWER states everything in per unit of `baseMVA` and of each
bus's `BASE_KV`, the `.grid` language in ohms, µS and nameplate percentages
(docs/language.md §4.5). A line's r, x become ohms with its from bus's base impedance
BASE_KV²/baseMVA and its total charging b becomes µS; a branch that joins two base
voltages, or has an off-nominal TAP or a SHIFT, is a transformer whose vk, vkr are
stated on a nameplate rating (RATE_A, else baseMVA) so that the impedance is the case's
exactly, with TAP as its extra ratio. Gs, Bs become shunts (same sign as the language).
The generator at the reference bus is the slack; the others keep PG fixed (a PV bus's
voltage set point is not modelled, its Q is free within QMIN..QMAX).
"""

from __future__ import annotations

import math
from typing import Any

from gridc.interop.neutral import (
    Bus,
    Generator,
    ImportFailure,
    Line,
    Network,
    Shunt,
    Transformer,
    model_name,
    require,
    source_file,
)


def read(source: str, name: str | None = None) -> Network:
    """Read a MATPOWER case file into the neutral tables."""
    path = source_file(source)
    frames: Any = require("matpowercaseframes")
    try:
        case = frames.CaseFrames(str(path))
        bus, branch, gen = case.bus, case.branch, case.gen
        base_mva = float(case.baseMVA)
    except Exception as exc:  # not a MATPOWER case, a missing table
        raise ImportFailure(f"{source}: not a MATPOWER case file "
                            f"({type(exc).__name__}: {str(exc)[:200]})") from None
    return convert(bus, branch, gen, base_mva, f"MATPOWER case file {path.name}",
                   model_name(name or path.stem))


def _id(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(value)


def convert(bus: Any, branch: Any, gen: Any, base_mva: float, description: str,
            name: str) -> Network:
    """The neutral tables of MATPOWER's bus, branch and gen matrices (as DataFrames
    with MATPOWER's column names)."""
    approx: list[str] = []
    kv = {_id(b): float(v) for b, v in zip(bus["BUS_I"], bus["BASE_KV"])}
    if any(v <= 0 for v in kv.values()):
        raise ImportFailure("every bus needs a BASE_KV > 0 (its voltage level)")
    refs = [_id(b) for b, t in zip(bus["BUS_I"], bus["BUS_TYPE"]) if int(t) == 3]
    if len(refs) != 1:
        raise ImportFailure(f"the case has {len(refs)} reference buses (BUS_TYPE 3): gridc "
                            "needs exactly one slack bus")
    slack = refs[0]
    slack_v = float(bus.loc[bus["BUS_I"].map(_id) == slack, "VM"].iloc[0])
    gens: list[Generator] = []
    types = {_id(b): int(t) for b, t in zip(bus["BUS_I"], bus["BUS_TYPE"])}
    for k, (_, g) in enumerate(gen.iterrows(), start=1):
        at = _id(g["GEN_BUS"])
        if float(g["GEN_STATUS"]) <= 0:
            approx.append("generators out of service (GEN_STATUS 0) are left out")
            continue
        if at == slack:
            slack_v = float(g["VG"])
            continue
        if float(g["PG"]) < 0:
            raise ImportFailure(f"generator row {k} at bus {at}: negative PG")
        pv = types.get(at) == 2
        gens.append(Generator(
            id=f"g{k}", bus=at, p_kw=1000.0 * float(g["PG"]),
            q_kvar=None if pv else 1000.0 * float(g["QG"]),
            q_min_kvar=1000.0 * float(g["QMIN"]) if pv else None,
            q_max_kvar=1000.0 * float(g["QMAX"]) if pv else None,
            note=(f"gen row {k}: PG fixed; voltage set point VG {float(g['VG']):g} not "
                  "modelled, Q free within QMIN..QMAX") if pv else f"gen row {k}: PG, QG fixed"))
        if pv:
            approx.append("PV-bus generators keep PG; their voltage set point is not modelled "
                          "(Q free within QMIN..QMAX)")
    limits = all(0 < float(lo) < float(hi) < 2 for lo, hi in zip(bus["VMIN"], bus["VMAX"]))
    buses, shunts = [], []
    for _, b in bus.iterrows():
        i = _id(b["BUS_I"])
        if float(b["PD"]) < 0:
            raise ImportFailure(f"bus {i}: negative PD ({float(b['PD']):g} MW) is generation")
        buses.append(Bus(id=i, vn_kv=kv[i], p_kw=1000.0 * float(b["PD"]),
                         q_kvar=1000.0 * float(b["QD"]),
                         v_min_pu=float(b["VMIN"]) if limits else None,
                         v_max_pu=float(b["VMAX"]) if limits else None))
        if float(b["GS"]) or float(b["BS"]):
            shunts.append(Shunt(id=f"sh{i}", bus=i, q_kvar=1000.0 * float(b["BS"]),
                                p_kw=1000.0 * float(b["GS"]), note="bus Gs, Bs"))
    lines, trafos = _branches(branch, kv, base_mva, shunts, approx)
    prov = ["bus ids are BUS_I; vn = BASE_KV; p, q = PD, QD",
            "lines: r, x = BR_R, BR_X x BASE_KV^2 / baseMVA (ohm, from bus); b = BR_B / "
            "(BASE_KV^2 / baseMVA) (total charging); rating = RATE_A (0: none)",
            f"slack: the reference bus {slack} at VG of its generator; base power baseMVA "
            f"{base_mva:g} MVA"]
    if trafos:
        prov.append("transformers: branches joining two BASE_KV, or with TAP or SHIFT: rating "
                    "= RATE_A (else baseMVA), vk = |BR_R + j BR_X| x rating / baseMVA, vkr = "
                    "BR_R x rating / baseMVA (in %), ratio = TAP (0: 1), vn_hv, vn_lv = BASE_KV "
                    "of the from and to bus")
    if shunts:
        prov.append("shunts: q = BS (MVAr at 1 pu), p = GS; transformer charging BR_B as "
                    "shunts at both ends")
    if gens:
        prov.append("generators: PG (and QG at PQ buses) of the gen table")
    return Network(
        name=name, source=description, base_kv=kv[slack], base_kva=1000.0 * base_mva,
        slack_bus=slack, slack_v_pu=slack_v,
        voltage_note=("per-bus limits from VMIN, VMAX" if limits else
                      "VMIN, VMAX missing or not in 0 .. 2: 0.9 .. 1.1 pu assumed"),
        buses=buses, lines=lines, transformers=trafos, shunts=shunts, generators=gens,
        provenance=prov, approximations=sorted(set(approx)))


def _branches(branch: Any, kv: dict[str, float], base_mva: float, shunts: list[Shunt],
              approx: list[str]) -> tuple[list[Line], list[Transformer]]:
    lines, trafos = [], []
    for k, (_, br) in enumerate(branch.iterrows(), start=1):
        f, t = _id(br["F_BUS"]), _id(br["T_BUS"])
        r, x, b = float(br["BR_R"]), float(br["BR_X"]), float(br["BR_B"])
        rate = float(br["RATE_A"])
        tap, shift = float(br["TAP"]), float(br["SHIFT"])
        on = float(br["BR_STATUS"]) > 0
        if kv[f] == kv[t] and tap in (0.0, 1.0) and shift == 0.0:
            z_base = kv[f] ** 2 / base_mva
            lines.append(Line(id=f"l{k}", from_bus=f, to_bus=t, r_ohm=r * z_base,
                              x_ohm=x * z_base, b_us=b / z_base * 1e6,
                              rating_kva=1000.0 * rate if rate > 0 else None, open=not on,
                              switchable=not on,
                              note="" if on else "BR_STATUS 0: imported normally open"))
            continue
        rating = 1000.0 * (rate if rate > 0 else base_mva)
        if rate <= 0:
            approx.append("transformers without RATE_A are rated at baseMVA (the rating is "
                          "also their limit in gridc)")
        if shift:
            approx.append("transformer phase shifts (SHIFT) are not modelled: voltage "
                          "magnitudes of a radial network do not depend on them")
        ratio = tap if tap else 1.0
        scale = rating / (1000.0 * base_mva) * 100.0
        trafos.append(Transformer(
            id=f"t{k}", from_bus=f, to_bus=t, rating_kva=rating, vk_pct=math.hypot(r, x) * scale,
            vkr_pct=r * scale, vn_hv_kv=kv[f], vn_lv_kv=kv[t], ratio=ratio, open=not on,
            note=f"branch row {k}" + ("" if on else "; BR_STATUS 0: imported open")))
        if b and on:  # MATPOWER: b/2 at the from end behind the tap, b/2 at the to end
            for at, q in ((f, b / 2 / ratio ** 2), (t, b / 2)):
                shunts.append(Shunt(id=f"sh_t{k}_{at}", bus=at, q_kvar=1000.0 * base_mva * q,
                                    note=f"charging BR_B of transformer branch row {k}"))
    return lines, trafos
