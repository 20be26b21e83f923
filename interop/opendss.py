"""OpenDSS circuit (`.dss`) → neutral tables: a balanced positive-sequence equivalent.

Why an equivalent: gridc models one balanced phase, OpenDSS every phase and conductor.
Each element is read through `opendssdirect.py` (the circuit is compiled by the OpenDSS
engine itself, so linecodes, geometries and units are resolved as OpenDSS resolves them)
and reduced to what a positive-sequence model keeps:

* lines: the positive-sequence series impedance and capacitance of their phase matrices
  (z1 = mean self − mean mutual; a 1-phase line keeps its self impedance), times length;
* loads: every load at a bus summed, whatever its phases — an unbalanced load becomes
  its balanced three-phase average (the model has one phase carrying a third of it);
* transformers (2 windings): %R of both windings and Xhl as vkr, vk on the kVA of
  winding 1, taps as the extra ratio, no-load loss and magnetising current kept;
* capacitors: their closed steps' kvar at the bus's base voltage; generators: fixed kW,
  kvar; the Vsource bus is the slack at its pu (the source impedance is left out).

What is approximated is written into the model's notes. opendssdirect.py is an optional
extra (`gridc[import]`), imported inside `read`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from gridc.interop.coordinates import place
from gridc.interop.neutral import (
    KEYWORDS,
    Bus,
    Generator,
    ImportFailure,
    Line,
    Network,
    Shunt,
    Switch,
    Transformer,
    model_name,
    require,
    source_file,
)

#: OpenDSS length unit codes → km (0 means "none": the line's values are per its length)
UNIT_KM = {0: 1.0, 1: 1.609344, 2: 0.3048, 3: 1.0, 4: 0.001, 5: 0.0003048, 6: 0.0000254,
           7: 0.00001}
UNSUPPORTED = ("PVSystems", "Storages")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")


def read(source: str, name: str | None = None) -> Network:
    """Compile an OpenDSS circuit and read it into the neutral tables."""
    path = source_file(source)
    dss: Any = require("opendssdirect")
    cwd = Path.cwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{path.resolve()}"')
    except Exception as exc:  # the engine's own message: a bad property, a missing file
        raise ImportFailure(f"{source}: OpenDSS could not compile it: {exc}") from None
    finally:
        import os

        os.chdir(cwd)  # `redirect` changes the working folder
    if not dss.Circuit.Name():
        raise ImportFailure(f"{source}: defines no circuit ('new circuit.NAME ...')")
    for kind in UNSUPPORTED:
        group = getattr(dss, kind, None)
        if group is not None and group.Count():
            raise ImportFailure(f"{source}: {group.Count()} {kind} element(s), which the "
                                "importer cannot model yet; replace them by generators")
    return _convert(dss, f"OpenDSS circuit {dss.Circuit.Name()} ({path.name})",
                    model_name(name or path.stem))


def _safe(label: str) -> str:
    """An element name as a piece of an identifier."""
    return re.sub(r"\W", "_", label)


def _bus(text: str) -> str:
    return text.split(".", 1)[0].lower()


def _property(dss: Any, element: str, prop: str) -> float:
    dss.Text.Command(f"? {element}.{prop}")
    try:
        return float(dss.Text.Result())
    except ValueError:
        return 0.0


def _convert(dss: Any, description: str, name: str) -> Network:
    approx = ["a balanced positive-sequence equivalent of the circuit: every phase of a "
              "bus is one bus, loads summed over phases"]
    ids: dict[str, str] = {}
    for raw in dss.Circuit.AllBusNames():  # identifiers the language takes, unique
        ident = (raw if _IDENT.fullmatch(raw) and raw not in KEYWORDS
                 else "b_" + re.sub(r"\W", "_", raw))
        while ident in ids.values():
            ident += "_"
        ids[raw.lower()] = ident
    vn, points = {}, {}
    for k, raw in enumerate(dss.Circuit.AllBusNames()):
        dss.Circuit.SetActiveBus(raw)
        if dss.Bus.kVBase() <= 0:
            raise ImportFailure(f"bus {raw} has no base voltage: add 'set voltagebases=[...]' "
                                "and 'calcvoltagebases' to the circuit")
        vn[raw.lower()] = round(dss.Bus.kVBase() * math.sqrt(3), 9)
        if dss.Bus.Coorddefined():
            points[k] = (float(dss.Bus.x()), float(dss.Bus.y()))
    names = [n.lower() for n in dss.Circuit.AllBusNames()]
    km, how = place(points) if len(points) == len(names) else ({}, "")
    if how:
        approx.append(how)
    slack, slack_v = _source(dss, approx)
    loads = _loads(dss, approx)
    buses = [Bus(id=ids[n], vn_kv=vn[n], p_kw=loads[n][0], q_kvar=loads[n][1],
                 x_km=km[k][0] if km else None, y_km=km[k][1] if km else None,
                 note="" if ids[n] == n else f"OpenDSS bus '{n}'")
             for k, n in enumerate(names)]
    lines, switches = _lines(dss, ids, approx)
    trafos = _transformers(dss, ids, approx)
    shunts = _capacitors(dss, ids, vn)
    gens = []
    ok = dss.Generators.First()
    while ok:
        bus = _bus(dss.CktElement.BusNames()[0])
        gens.append(Generator(id=f"g_{_safe(dss.Generators.Name())}", bus=ids[bus],
                              p_kw=float(dss.Generators.kW()), q_kvar=float(dss.Generators.kvar()),
                              note=f"OpenDSS generator '{dss.Generators.Name()}' at its kW, "
                                   "kvar"))
        ok = dss.Generators.Next()
    prov = ["bus ids are OpenDSS bus names; vn = kVBase x sqrt(3) (line-to-line)",
            "p, q: kW, kvar of every load at the bus, all phases summed",
            "lines: positive-sequence r, x, c1 of the phase matrices x length; b = 2 pi f c1; "
            "rating = sqrt(3) vn NormAmps (three-phase)"]
    if trafos:
        prov.append("transformers: kVA and kV of both windings, vk = |%R1 + %R2 + j Xhl|, vkr = "
                    "%R1 + %R2, ratio = tap1 / tap2, pfe = %noloadloss x kVA, i0 = %imag")
    if shunts:
        prov.append("shunts: capacitors' closed kvar x (bus kV / capacitor kV)^2")
    prov.append(f"slack: the Vsource bus {ids[slack]} at pu {slack_v:g}")
    return Network(name=name, source=description, base_kv=vn[slack], base_kva=1000.0,
                   slack_bus=ids[slack], slack_v_pu=slack_v,
                   voltage_note="voltage limits are not in the source: 0.9 .. 1.1 pu assumed",
                   buses=buses, lines=lines, transformers=trafos, switches=switches,
                   shunts=shunts, generators=gens, provenance=prov,
                   approximations=sorted(set(approx)))


def _source(dss: Any, approx: list[str]) -> tuple[str, float]:
    if dss.Vsources.Count() != 1:
        raise ImportFailure(f"the circuit has {dss.Vsources.Count()} Vsource(s): gridc needs "
                            "exactly one slack bus")
    dss.Vsources.First()
    approx.append("the Vsource's internal impedance is left out: its bus holds the source "
                  "pu exactly")
    return _bus(dss.CktElement.BusNames()[0]), float(dss.Vsources.PU())


def _loads(dss: Any, approx: list[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    mult = float(dss.Solution.LoadMult())
    if mult != 1.0:
        approx.append(f"loads scaled by the circuit's load multiplier {mult:g}")
    ok = dss.Loads.First()
    while ok:
        bus = _bus(dss.CktElement.BusNames()[0])
        out[bus][0] += float(dss.Loads.kW()) * mult
        out[bus][1] += float(dss.Loads.kvar()) * mult
        if dss.Loads.Model() != 1:
            approx.append("loads of OpenDSS models other than 1 (constant P, Q) are imported "
                          "as constant power")
        if dss.CktElement.NumPhases() < 3:
            approx.append("single- and two-phase loads are averaged over the three phases "
                          "(their kW, kvar added to the bus total)")
        ok = dss.Loads.Next()
    return out


def _sequence(matrix: list[float], n: int) -> float:
    """Positive-sequence value of an n×n phase matrix (flattened, row-major)."""
    if n == 1:
        return matrix[0]
    diag = sum(matrix[i * n + i] for i in range(n)) / n
    off = (sum(matrix) - diag * n) / (n * n - n)
    return diag - off


def _lines(dss: Any, ids: dict[str, str], approx: list[str]) -> tuple[list[Line], list[Switch]]:
    f_hz = float(dss.Solution.Frequency())
    lines, switches = [], []
    if dss.Lines.Count():
        approx.append("line ratings are NormAmps, which OpenDSS sets to 400 A where a line "
                      "and its linecode give none")
    ok = dss.Lines.First()
    while ok:
        label = dss.Lines.Name()
        ident = _safe(label)
        f, t = _bus(dss.Lines.Bus1()), _bus(dss.Lines.Bus2())
        n = int(dss.Lines.Phases())
        opened = any(dss.CktElement.IsOpen(term, 0) for term in (1, 2))
        if dss.Lines.IsSwitch():
            switches.append(Switch(id=f"s_{ident}", from_bus=ids[f], to_bus=ids[t], open=opened,
                                   note=f"OpenDSS line '{label}' (switch=yes)"))
            ok = dss.Lines.Next()
            continue
        if n < 3:
            approx.append("one- and two-phase lines keep their phase self impedance as a "
                          "three-phase positive-sequence line")
        length = float(dss.Lines.Length())
        to_km = UNIT_KM.get(int(dss.Lines.Units()), 1.0)
        dss.Circuit.SetActiveBus(f)
        kv_ll = dss.Bus.kVBase() * math.sqrt(3)
        amps = float(dss.Lines.NormAmps())
        lines.append(Line(
            id=f"l_{ident}", from_bus=ids[f], to_bus=ids[t],
            r_ohm=_sequence(list(dss.Lines.RMatrix()), n) * length,
            x_ohm=_sequence(list(dss.Lines.XMatrix()), n) * length,
            b_us=2 * math.pi * f_hz * _sequence(list(dss.Lines.CMatrix()), n) * length * 1e-3,
            rating_kva=math.sqrt(3) * kv_ll * amps if amps > 0 else None,
            length_km=length * to_km, open=opened, switchable=opened,
            note=f"OpenDSS line '{label}', {n} phase(s)" + (", open" if opened else "")))
        ok = dss.Lines.Next()
    return lines, switches


def _transformers(dss: Any, ids: dict[str, str], approx: list[str]) -> list[Transformer]:
    out: list[Transformer] = []
    single: list[Transformer] = []
    ok = dss.Transformers.First()
    while ok:
        label = dss.Transformers.Name()
        if dss.Transformers.NumWindings() != 2:
            raise ImportFailure(f"transformer '{label}' has {dss.Transformers.NumWindings()} "
                                "windings: only two-winding transformers are imported")
        buses = [_bus(b) for b in dss.CktElement.BusNames()]
        phases = int(dss.CktElement.NumPhases())
        wdg = []
        for w in (1, 2):
            dss.Transformers.Wdg(w)
            kv = float(dss.Transformers.kV()) * (1.0 if phases > 1 else math.sqrt(3))
            wdg.append((buses[w - 1], kv, float(dss.Transformers.kVA()),
                        float(dss.Transformers.R()), float(dss.Transformers.Tap())))
        xhl = float(dss.Transformers.Xhl())
        element = f"transformer.{label}"
        pfe_pct, imag = _property(dss, element, "%noloadloss"), _property(dss, element, "%imag")
        approx.append("transformer winding connections (delta, wye) and their phase shifts "
                      "are not modelled")
        hv, lv = (wdg[0], wdg[1]) if wdg[0][1] >= wdg[1][1] else (wdg[1], wdg[0])
        vkr = hv[3] + lv[3]
        rating = hv[2]
        (single if phases == 1 else out).append(Transformer(
            id=f"t_{_safe(label)}", from_bus=ids[hv[0]], to_bus=ids[lv[0]],
            rating_kva=rating, vk_pct=math.hypot(vkr, xhl), vkr_pct=vkr, vn_hv_kv=hv[1],
            vn_lv_kv=lv[1], ratio=hv[4] / lv[4], pfe_kw=pfe_pct / 100.0 * rating,
            i0_pct=max(imag, pfe_pct * (1 + 1e-9)),
            note=f"OpenDSS transformer '{label}', taps {hv[4]:g} / {lv[4]:g}"))
        ok = dss.Transformers.Next()
    out += _banks(single, approx)
    if dss.RegControls.Count():
        approx.append("regulator controls are not modelled: taps stay where the circuit's "
                      "last solution left them")
    return out


def _capacitors(dss: Any, ids: dict[str, str], vn: dict[str, float]) -> list[Shunt]:
    out = []
    ok = dss.Capacitors.First()
    while ok:
        label = dss.Capacitors.Name()
        buses = [_bus(b) for b in dss.CktElement.BusNames()]
        if len(buses) > 1 and buses[1] != buses[0] and buses[1] not in ("", "0"):
            dss.Circuit.SetActiveBus(buses[1])
            if dss.Bus.kVBase() > 0:
                raise ImportFailure(f"capacitor '{label}' is in series (bus2 {buses[1]}): "
                                    "only shunt capacitors are imported")
        states = list(dss.Capacitors.States())
        closed = sum(1 for s in states if s) / max(len(states), 1)
        kv = float(dss.Capacitors.kV()) * (1.0 if dss.CktElement.NumPhases() > 1
                                           else math.sqrt(3))
        q = float(dss.Capacitors.kvar()) * closed * (vn[buses[0]] / kv) ** 2
        out.append(Shunt(id=f"c_{_safe(label)}", bus=ids[buses[0]], q_kvar=q,
                         note=f"OpenDSS capacitor '{label}', {sum(map(bool, states))} of "
                              f"{len(states)} step(s) closed"))
        ok = dss.Capacitors.Next()
    return out


def _banks(single: list[Transformer], approx: list[str]) -> list[Transformer]:
    """Single-phase units between the same two buses (one per phase, e.g. the three
    regulators of the IEEE 13-node feeder) as one three-phase bank: ratings added, the
    same vk (in % of each unit), taps averaged; a lone unit is a bank of its own size."""
    groups: dict[tuple[str, str], list[Transformer]] = defaultdict(list)
    for unit in single:
        groups[(unit.from_bus, unit.to_bus)].append(unit)
    out = []
    for units in groups.values():
        first = units[0]
        ratios = [u.ratio for u in units]
        names = ", ".join(u.id.removeprefix("t_") for u in units)
        if len(units) > 1:
            approx.append("single-phase transformers between the same buses are merged into "
                          "one three-phase bank (ratings added, taps averaged)")
        else:
            approx.append("a lone single-phase transformer is taken as a three-phase bank")
        out.append(Transformer(
            id=first.id, from_bus=first.from_bus, to_bus=first.to_bus,
            rating_kva=sum(u.rating_kva for u in units),
            vk_pct=sum(u.vk_pct * u.rating_kva for u in units) / sum(u.rating_kva for u in units),
            vkr_pct=sum(u.vkr_pct * u.rating_kva for u in units)
            / sum(u.rating_kva for u in units),
            vn_hv_kv=first.vn_hv_kv, vn_lv_kv=first.vn_lv_kv,
            ratio=sum(ratios) / len(ratios), pfe_kw=sum(u.pfe_kw for u in units),
            i0_pct=max(u.i0_pct for u in units),
            note=f"single-phase units {names} as one bank; ratios "
                 + " / ".join(f"{r:.6g}" for r in ratios)))
    return out
