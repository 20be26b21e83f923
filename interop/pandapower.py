"""pandapower → neutral tables: a pandapower JSON file or a `pandapower.networks` name.

    read("case33bw")                                  # pandapower.networks.case33bw()
    read("create_cigre_network_mv(with_der=False)")   # keyword arguments: literals only
    read("grid.json")                                 # pandapower.to_json's file

Why element by element: pandapower's tables (bus, line, trafo, switch, load, sgen, gen,
shunt, ext_grid) map one to one onto `.grid` tables once the units are changed
(docs/language.md §4.5); what does not map — line switches, a second external grid, a
phase shift, the magnetising branch's placement — is said in the notes, and a table the
language has no element for (trafo3w, ward, impedance, ...) is refused, never dropped.
pandapower is an optional extra (`gridc[import]`), imported inside `read`.
"""

from __future__ import annotations

import ast
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from gridc.interop.coordinates import place
from gridc.interop.neutral import (
    Bus,
    Generator,
    ImportFailure,
    Line,
    Network,
    Shunt,
    Switch,
    Transformer,
    clean,
    model_name,
    require,
    source_file,
)

#: pandapower tables with no `.grid` element: an import with rows in service there fails
UNSUPPORTED = ("trafo3w", "impedance", "ward", "xward", "dcline", "motor", "asymmetric_load",
               "asymmetric_sgen", "svc", "ssc", "vsc", "tcsc", "line_dc", "bus_dc",
               "source_dc", "load_dc")

#: a max_i_ka at or above this is pandapower's placeholder for "no limit" (99999 kA)
NO_LIMIT_KA = 1000.0


def looks_like_network_name(source: str) -> bool:
    """`case33bw`, `mv_oberrhein()`, `create_cigre_network_mv(with_der=False)`."""
    head = source.split("(", 1)[0]
    return head.isidentifier() and not Path(source).suffix and not Path(source).exists()


def load_net(source: str) -> tuple[Any, str]:
    """The pandapower net of `source` and a one-line description of it."""
    pp = require("pandapower")
    if looks_like_network_name(source):
        networks = require("pandapower.networks")
        func_name, kwargs = _call(source)
        func = getattr(networks, func_name, None)
        if func is None or not callable(func) or func_name.startswith("_"):
            raise ImportFailure(f"'{func_name}' is not a network of pandapower.networks "
                                "(e.g. case33bw, create_cigre_network_mv, mv_oberrhein)")
        try:
            net = func(**kwargs)
        except Exception as exc:  # a wrong keyword, a network that needs a download
            raise ImportFailure(f"pandapower.networks.{source} failed: "
                                f"{type(exc).__name__}: {exc}") from None
        if not isinstance(net, pp.pandapowerNet):
            raise ImportFailure(f"pandapower.networks.{func_name} does not return a network")
        return net, f"pandapower.networks.{source} (pandapower {pp.__version__})"
    path = source_file(source)
    try:
        net = pp.from_json(str(path))
    except Exception as exc:  # not JSON, not a pandapower net
        raise ImportFailure(f"{source}: not a pandapower JSON network "
                            f"({type(exc).__name__}: {str(exc)[:200]})") from None
    return net, f"pandapower JSON file {path.name} (pandapower {pp.__version__})"


def _call(source: str) -> tuple[str, dict[str, Any]]:
    if "(" not in source:
        return source, {}
    try:
        call = ast.parse(source, mode="eval").body
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.args:
            raise ValueError("keyword arguments only")
        return call.func.id, {k.arg: ast.literal_eval(k.value) for k in call.keywords
                              if k.arg is not None}
    except (SyntaxError, ValueError) as exc:
        raise ImportFailure(f"'{source}': write a network name, optionally with literal "
                            f"keyword arguments, e.g. create_cigre_network_mv(with_der=False) "
                            f"({exc})") from None


def read(source: str, name: str | None = None) -> Network:
    """Read a pandapower network (file or name) into the neutral tables."""
    net, description = load_net(source)
    default = (source.split("(", 1)[0] if looks_like_network_name(source)
               else Path(source).stem)
    return convert(net, description, model_name(name or default))


def _float(value: Any, default: float = 0.0) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(out) else out


def _in_service(table: Any) -> Any:
    return table[table["in_service"].astype(bool)] if len(table) else table


def convert(net: Any, description: str, name: str) -> Network:
    """The neutral tables of a pandapower net (its base case, as pandapower runs it)."""
    for table in UNSUPPORTED:
        frame = net.get(table, None)
        if frame is not None and len(frame) and (
                "in_service" not in frame or frame["in_service"].astype(bool).any()):
            raise ImportFailure(f"the network has {len(frame)} '{table}' element(s), which "
                                "gridc cannot model yet; remove them or convert them first")
    approx: list[str] = []
    vn = {int(i): float(v) for i, v in net.bus["vn_kv"].items()}
    slack, ties = _slack(net, vn, approx)
    loads, load_count = _loads(net, approx)
    buses = _buses(net, vn, loads, load_count, approx)
    line_sw, trafo_sw, switches = _switches(net, approx)
    switches += ties
    lines = _lines(net, vn, line_sw, approx)
    trafos = _trafos(net, trafo_sw, approx)
    shunts = _shunts(net, vn)
    gens = _generators(net, approx)
    eg = net.ext_grid.loc[slack]
    prov = [f"bus ids are pandapower's bus indices; vn from bus.vn_kv; p, q the sum of the "
            f"in-service loads at the bus (load.p_mw, q_mvar x scaling; {load_count} loads)",
            "lines: r, x = r_ohm_per_km, x_ohm_per_km x length_km / parallel; b = 2 pi f_hz "
            f"c_nf_per_km x length_km x parallel (f = {_float(net.f_hz, 50.0):g} Hz); rating = "
            "sqrt(3) vn_kv max_i_ka df parallel",
            "transformers: the trafo table's columns (sn_mva x parallel, vk_percent, "
            "vkr_percent, vn_hv_kv, vn_lv_kv, tap_*, pfe_kw, i0_percent)",
            "switches: bus-bus switches (et = b); line and transformer switches are folded "
            "into their branch (open if one of them is open, lines then switchable)",
            "shunts: q = -q_mvar x step x (vn_bus/vn_kv)^2 (positive = capacitive), "
            "p = p_mw x step x (vn_bus/vn_kv)^2",
            f"slack: ext_grid {slack} at bus {int(eg['bus'])}, vm_pu {_float(eg['vm_pu'], 1):g}; "
            f"base power sn_mva {_float(net.sn_mva, 1):g} MVA"]
    keep = (True, bool(lines), bool(trafos), len(net.switch) > 0, bool(shunts), True)
    prov = [line for line, wanted in zip(prov, keep) if wanted]
    if gens:
        prov.append("generators: sgen p_mw, q_mvar x scaling; gen p_mw x scaling, "
                    "min_q_mvar .. max_q_mvar")
    v_min, v_max, v_note = 0.9, 1.1, ""
    if not all(b.v_min_pu is not None for b in buses):
        v_note = "voltage limits are not in the source: 0.9 .. 1.1 pu assumed"
    else:
        v_note = "per-bus limits from bus.min_vm_pu, max_vm_pu"
    return Network(name=name, source=description, base_kv=vn[int(eg["bus"])],
                   base_kva=1000.0 * _float(net.sn_mva, 1.0), slack_bus=str(int(eg["bus"])),
                   slack_v_pu=_float(eg["vm_pu"], 1.0), v_min_pu=v_min, v_max_pu=v_max,
                   voltage_note=v_note, buses=buses, lines=lines, transformers=trafos,
                   switches=switches, shunts=shunts, generators=gens, provenance=prov,
                   approximations=sorted(set(approx)))


def _slack(net: Any, vn: dict[int, float], approx: list[str]) -> tuple[int, list[Switch]]:
    grids = _in_service(net.ext_grid).sort_index()
    if not len(grids):
        raise ImportFailure("the network has no external grid in service (ext_grid): "
                            "gridc needs one slack bus")
    first = grids.index[0]
    ref = grids.loc[first]
    ties: list[Switch] = []
    for idx, eg in grids.iloc[1:].iterrows():
        same = (abs(_float(eg["vm_pu"], 1) - _float(ref["vm_pu"], 1)) < 1e-12
                and abs(_float(eg["va_degree"]) - _float(ref["va_degree"])) < 1e-12
                and vn[int(eg["bus"])] == vn[int(ref["bus"])])
        if not same:
            raise ImportFailure(
                f"ext_grid {idx} (bus {int(eg['bus'])}) holds another voltage than ext_grid "
                f"{first} (bus {int(ref['bus'])}): gridc has one slack bus per network")
        ties.append(Switch(id=f"ext_tie_{idx}", from_bus=str(int(ref["bus"])),
                           to_bus=str(int(eg["bus"])), open=False, switchable=False,
                           note=f"joins ext_grid {idx} to the slack bus: both hold "
                                f"{_float(eg['vm_pu'], 1):g} pu at {_float(eg['va_degree']):g} "
                                "degrees, so a closed tie changes no voltage"))
        approx.append(f"{len(grids)} external grids: gridc has one slack; the others are joined "
                      "to it by closed zero-impedance switches (exact: they hold the same "
                      "voltage phasor)")
    return int(first), ties


def _loads(net: Any, approx: list[str]) -> tuple[dict[int, list[float]], int]:
    per_bus: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    count = 0
    for _, ld in _in_service(net.load).iterrows():
        scale = _float(ld.get("scaling", 1.0), 1.0)
        per_bus[int(ld["bus"])][0] += 1000.0 * _float(ld["p_mw"]) * scale
        per_bus[int(ld["bus"])][1] += 1000.0 * _float(ld["q_mvar"]) * scale
        count += 1
        if any(_float(ld.get(c, 0.0)) for c in ("const_z_p_percent", "const_i_p_percent",
                                                "const_z_q_percent", "const_i_q_percent")):
            approx.append("loads with constant-impedance or constant-current parts are "
                          "imported as constant power")
    off = len(net.load) - count
    if off:
        approx.append(f"{off} load(s) out of service in the source are left out")
    for _, st in _in_service(net.storage).iterrows():  # positive p_mw charges: a load
        scale = _float(st.get("scaling", 1.0), 1.0)
        per_bus[int(st["bus"])][0] += 1000.0 * _float(st["p_mw"]) * scale
        per_bus[int(st["bus"])][1] += 1000.0 * _float(st["q_mvar"]) * scale
        approx.append("storage units are imported at their fixed p_mw, q_mvar as load")
    return per_bus, count


def _buses(net: Any, vn: dict[int, float], loads: dict[int, list[float]], count: int,
           approx: list[str]) -> list[Bus]:
    frame = net.bus
    limits = "min_vm_pu" in frame and "max_vm_pu" in frame and not (
        frame["min_vm_pu"].isna().any() or frame["max_vm_pu"].isna().any())
    points: dict[int, tuple[float, float]] = {}
    if "geo" in frame:
        for idx, geo in frame["geo"].items():
            try:
                x, y = json.loads(geo)["coordinates"][:2]
                points[int(idx)] = (float(x), float(y))
            except (TypeError, ValueError, KeyError, json.JSONDecodeError):
                continue
    km, how = place(points) if len(points) == len(frame) else ({}, "")
    if how:
        approx.append(how)
    out = []
    for idx, row in frame.iterrows():
        i = int(idx)
        p, q = loads.get(i, (0.0, 0.0))
        if p < 0:
            raise ImportFailure(f"bus {i}: its loads add up to {p:g} kW (negative)")
        label = clean(row.get("name"))
        note = f"pandapower name '{label}'" if label not in ("", str(i), f"Bus {i}") else ""
        if not bool(row.get("in_service", True)):
            note = (note + "; " if note else "") + "out of service in the source"
        out.append(Bus(id=str(i), vn_kv=vn[i], p_kw=p, q_kvar=q,
                       v_min_pu=_float(row["min_vm_pu"]) if limits else None,
                       v_max_pu=_float(row["max_vm_pu"]) if limits else None,
                       x_km=km[i][0] if km else None, y_km=km[i][1] if km else None, note=note))
    return out


def _switches(net: Any, approx: list[str]) -> tuple[dict[int, list[str]], dict[int, list[str]],
                                                    list[Switch]]:
    line_sw: dict[int, list[str]] = defaultdict(list)
    trafo_sw: dict[int, list[str]] = defaultdict(list)
    out = []
    for idx, sw in net.switch.iterrows():
        state = "closed" if bool(sw["closed"]) else "open"
        label = clean(sw.get("name")) or f"switch {idx}"
        if sw["et"] == "l":
            line_sw[int(sw["element"])].append(f"{label} at bus {int(sw['bus'])} {state}")
        elif sw["et"] == "t":
            trafo_sw[int(sw["element"])].append(f"{label} at bus {int(sw['bus'])} {state}")
        elif sw["et"] == "b":
            note = f"pandapower switch '{label}'"
            if _float(sw.get("z_ohm", 0.0)) > 0:
                approx.append("bus-bus switches with z_ohm > 0 are imported without impedance")
            out.append(Switch(id=f"s{idx}", from_bus=str(int(sw["bus"])),
                              to_bus=str(int(sw["element"])), open=state == "open",
                              switchable=True, note=note))
        else:
            raise ImportFailure(f"switch {idx}: element type '{sw['et']}' is not supported")
    return line_sw, trafo_sw, out


def _branch_state(label: str, in_service: bool, switches: list[str],
                  imported: str) -> tuple[bool, list[str]]:
    """Whether a line or transformer is imported open and the notes saying why: its
    pandapower name, out of service in the source (then `imported` open), and the
    switches folded into it (open if one of them is)."""
    notes = [f"pandapower '{label}'"] if label else []
    opened = not in_service
    if opened:
        notes.append(f"out of service in the source: imported {imported}")
    if switches:
        notes.append("switches " + ", ".join(switches))
        opened = opened or any(s.endswith(" open") for s in switches)
    return opened, notes


def _lines(net: Any, vn: dict[int, float], line_sw: dict[int, list[str]],
           approx: list[str]) -> list[Line]:
    f_hz = _float(net.f_hz, 50.0)
    out = []
    for idx, ln in net.line.iterrows():
        i = int(idx)
        length, par = _float(ln["length_km"]), max(_float(ln.get("parallel", 1), 1), 1.0)
        max_i = _float(ln["max_i_ka"], math.inf)
        rating = (None if max_i >= NO_LIMIT_KA else
                  math.sqrt(3) * vn[int(ln["from_bus"])] * max_i * 1000.0
                  * _float(ln.get("df", 1.0), 1.0) * par)
        if _float(ln.get("g_us_per_km", 0.0)):
            approx.append("line shunt conductance (g_us_per_km) is left out")
        switches = line_sw.get(i, [])
        opened, notes = _branch_state(clean(ln.get("name")), bool(ln["in_service"]),
                                      switches, "normally open")
        out.append(Line(id=f"l{i}", from_bus=str(int(ln["from_bus"])),
                        to_bus=str(int(ln["to_bus"])),
                        r_ohm=_float(ln["r_ohm_per_km"]) * length / par,
                        x_ohm=_float(ln["x_ohm_per_km"]) * length / par,
                        b_us=2 * math.pi * f_hz * _float(ln["c_nf_per_km"]) * length * par * 1e-3,
                        rating_kva=rating, length_km=length, open=opened,
                        switchable=bool(switches) or not bool(ln["in_service"]),
                        note="; ".join(notes)))
    if any(line.rating_kva is None for line in out):
        approx.append(f"lines with max_i_ka >= {NO_LIMIT_KA:g} kA (pandapower's placeholder) "
                      "have no rating")
    return out


def _trafos(net: Any, trafo_sw: dict[int, list[str]], approx: list[str]) -> list[Transformer]:
    out = []
    for idx, tr in net.trafo.iterrows():
        i = int(idx)
        par = max(_float(tr.get("parallel", 1), 1), 1.0)
        if _float(tr.get("shift_degree", 0.0)):
            approx.append("transformer phase shifts (shift_degree) are not modelled: voltage "
                          "magnitudes of a radial network do not depend on them")
        if _float(tr.get("tap_step_degree", 0.0)):
            approx.append("phase-shifting taps (tap_step_degree) are not modelled")
        if _float(tr.get("pfe_kw", 0.0)) or _float(tr.get("i0_percent", 0.0)):
            approx.append("transformer magnetising admittance (pfe_kw, i0_percent) sits at the "
                          "HV bus; pandapower's default 't' model splits it around the "
                          "series impedance")
        opened, notes = _branch_state(clean(tr.get("name")), bool(tr["in_service"]),
                                      trafo_sw.get(i, []), "open")
        side = tr.get("tap_side")
        rating = 1000.0 * _float(tr["sn_mva"]) * par * _float(tr.get("df", 1.0), 1.0)
        pfe, i0 = _float(tr.get("pfe_kw")) * par, _float(tr.get("i0_percent"))
        if pfe > i0 / 100.0 * rating:  # pandapower then takes the susceptance as 0
            i0 = pfe / rating * 100.0 * (1 + 1e-9)  # |y| = g: b = 0 in gridc too
            notes.append(f"i0_percent {_float(tr.get('i0_percent')):g} is below pfe_kw/sn: "
                         "written as pfe/rating (no magnetising susceptance, as pandapower)")
        out.append(Transformer(
            id=f"t{i}", from_bus=str(int(tr["hv_bus"])), to_bus=str(int(tr["lv_bus"])),
            rating_kva=rating,
            vk_pct=_float(tr["vk_percent"]), vkr_pct=_float(tr["vkr_percent"]),
            vn_hv_kv=_float(tr["vn_hv_kv"]), vn_lv_kv=_float(tr["vn_lv_kv"]),
            tap_pos=_float(tr.get("tap_pos")), tap_neutral=_float(tr.get("tap_neutral")),
            tap_step_pct=_float(tr.get("tap_step_percent")),
            tap_side=side if side in ("hv", "lv") else "hv",
            pfe_kw=pfe, i0_pct=i0,
            open=opened, note="; ".join(notes)))
    return out


def _shunts(net: Any, vn: dict[int, float]) -> list[Shunt]:
    out = []
    for idx, sh in _in_service(net.shunt).iterrows():
        bus = int(sh["bus"])
        scale = _float(sh.get("step", 1), 1.0) * (vn[bus] / _float(sh.get("vn_kv"), vn[bus])) ** 2
        out.append(Shunt(id=f"sh{idx}", bus=str(bus), q_kvar=-1000.0 * _float(sh["q_mvar"]) * scale,
                         p_kw=1000.0 * _float(sh["p_mw"]) * scale,
                         note=f"pandapower '{clean(sh.get('name'))}'" if clean(sh.get("name"))
                         else ""))
    return out


def _generators(net: Any, approx: list[str]) -> list[Generator]:
    out = []
    for idx, sg in _in_service(net.sgen).iterrows():
        scale = _float(sg.get("scaling", 1.0), 1.0)
        p, q = 1000.0 * _float(sg["p_mw"]) * scale, 1000.0 * _float(sg["q_mvar"]) * scale
        if p < 0:
            raise ImportFailure(f"sgen {idx}: negative p_mw ({p:g} kW) is a load; convert it")
        kind = clean(sg.get("type")) or "sgen"
        out.append(Generator(id=f"sgen{idx}", bus=str(int(sg["bus"])), p_kw=p, q_kvar=q,
                             note=f"pandapower sgen '{clean(sg.get('name'))}' ({kind}), p_mw "
                                  f"{_float(sg['p_mw']):g} x scaling {scale:g}"))
    for idx, gen in _in_service(net.gen).iterrows():
        if bool(gen.get("slack", False)):
            raise ImportFailure(f"gen {idx} is a slack generator: use an ext_grid instead")
        scale = _float(gen.get("scaling", 1.0), 1.0)
        q_min, q_max = (_float(gen.get("min_q_mvar"), math.nan),
                        _float(gen.get("max_q_mvar"), math.nan))
        out.append(Generator(
            id=f"gen{idx}", bus=str(int(gen["bus"])), p_kw=1000.0 * _float(gen["p_mw"]) * scale,
            q_min_kvar=None if math.isnan(q_min) else 1000.0 * q_min,
            q_max_kvar=None if math.isnan(q_max) else 1000.0 * q_max,
            note=f"pandapower gen '{clean(gen.get('name'))}': voltage set point vm_pu "
                 f"{_float(gen['vm_pu'], 1):g} not modelled, Q free within its limits"))
        approx.append("voltage-controlled generators (gen) keep their P; their voltage set "
                      "point is not modelled (Q is free within its limits)")
    return out
