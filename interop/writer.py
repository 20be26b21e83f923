"""One writer for every source: a `.grid` file plus CSV tables from a neutral `Network`.

Why one writer: whatever the source format, the output follows the same rules — the
`.grid` file says where every number came from and what was approximated, the tables
carry units once in their headers (docs/language.md §5), rows are sorted and numbers
printed in one fixed format, so that importing the same source twice gives the same
files byte for byte. Files are first written to temporary names and then renamed, and
nothing that exists is overwritten unless asked (`force`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gridc.interop.neutral import KEYWORDS, ImportFailure, Network, clean, natural_key

#: suffixes of the files one import writes next to `NAME.grid`
TABLE_SUFFIXES = ("buses", "lines", "transformers", "switches", "shunts")

#: the largest rating the language takes (GRID023 above); what a cell says for a row whose
#: source gives no rating where other rows have one; a larger source rating is no limit
NO_RATING_KVA = 1e7


def number(value: float) -> str:
    """Fixed formatting: 10 significant digits, never an exponent, no `-0`."""
    if value == 0 or not math.isfinite(value):
        if not math.isfinite(value):
            raise ImportFailure(f"a number of the source is not finite ({value})")
        return "0"
    text = f"{value:.10g}"
    if "e" in text:
        text = f"{float(text):.20f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def ref(ident: str) -> str:
    """A bus id as a statement refers to it: bare when it is a name or a whole number,
    else a string."""
    if ident not in KEYWORDS and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|\d+", ident):
        return ident
    return '"' + ident.replace('"', "") + '"'


def word(flag: bool, yes: str = "yes", no: str = "no") -> str:
    return yes if flag else no


Column = tuple[str, Callable[[Any], str]]


def _csv(rows: Sequence[Any], columns: Sequence[Column], comments: Sequence[str]) -> str:
    out = [f"# {clean(c)}" for c in comments]
    out.append(",".join(header for header, _ in columns))
    for row in rows:
        note = getattr(row, "note", "")
        if note:
            out.append(f"# {getattr(row, 'id', '')}: {clean(note)}")
        out.append(",".join(cell(row) for _, cell in columns))
    return "\n".join(out) + "\n"


def _optional(values: list[float | None]) -> bool:
    """Whether a column of optional numbers is written: when any row has a value."""
    return any(v is not None for v in values)


def _or_none(value: float | None) -> str:
    return number(NO_RATING_KVA if value is None else value)


def with_margin(net: Network, margin: float) -> Network:
    """`net` with every thermal limit raised by `margin` (0.02: 2 %). A transformer's
    rating is also its nameplate S_n, on which vk, vkr and i0 are stated: they are
    scaled with it, so that its impedance and magnetising admittance stay the source's."""
    if margin == 0:
        return net
    if margin < 0:
        raise ImportFailure(f"a rating margin is not negative (found {margin:g})")
    k = 1.0 + margin
    out = dataclasses.replace(net)
    out.lines = [dataclasses.replace(r, rating_kva=None if r.rating_kva is None
                                     else r.rating_kva * k) for r in net.lines]
    out.switches = [dataclasses.replace(r, rating_kva=None if r.rating_kva is None
                                        else r.rating_kva * k) for r in net.switches]
    out.transformers = [dataclasses.replace(t, rating_kva=t.rating_kva * k, vk_pct=t.vk_pct * k,
                                            vkr_pct=t.vkr_pct * k, i0_pct=t.i0_pct / k)
                        for t in net.transformers]
    out.approximations = [*net.approximations,
                          f"every thermal limit is the source's rating + {100 * margin:g} % "
                          "(--rating-margin); transformer ratings with vk, vkr scaled up and "
                          "i0 down by the same factor, so that their impedance is the source's"]
    return out


def without_placeholders(net: Network) -> Network:
    """Ratings above what the language takes (10 GVA; e.g. pandapower's 99999 kA written
    into a MATPOWER file) are placeholders for "no limit": written as none."""
    huge = [r.id for r in [*net.lines, *net.switches]
            if r.rating_kva is not None and r.rating_kva > NO_RATING_KVA]
    if not huge:
        return net
    out = dataclasses.replace(net)
    out.lines = [dataclasses.replace(r, rating_kva=None) if r.id in huge else r
                 for r in net.lines]
    out.switches = [dataclasses.replace(r, rating_kva=None) if r.id in huge else r
                    for r in net.switches]
    out.approximations = [*net.approximations,
                          f"{len(huge)} rating(s) above {number(NO_RATING_KVA)} kVA in the "
                          "source are read as 'no limit'"]
    return out


def render(net: Network) -> dict[str, str]:
    """File name → text of every file of the import (the `.grid` file and its tables)."""
    net = without_placeholders(net)
    name = net.name
    buses = sorted(net.buses, key=lambda b: natural_key(b.id))
    lines = sorted(net.lines, key=lambda r: natural_key(r.id))
    trafos = sorted(net.transformers, key=lambda r: natural_key(r.id))
    switches = sorted(net.switches, key=lambda r: natural_key(r.id))
    shunts = sorted(net.shunts, key=lambda r: natural_key(r.id))
    gens = sorted(net.generators, key=lambda r: natural_key(r.id))
    files: dict[str, str] = {}
    comments = [f"{name}: imported by 'gridc import' from {net.source}"]

    bus_cols: list[Column] = [("id", lambda b: b.id), ("vn[kV]", lambda b: number(b.vn_kv)),
                              ("p[kW]", lambda b: number(b.p_kw)),
                              ("q[kvar]", lambda b: number(b.q_kvar))]
    if all(b.v_min_pu is not None and b.v_max_pu is not None for b in buses):
        bus_cols += [("v_min", lambda b: number(b.v_min_pu)),
                     ("v_max", lambda b: number(b.v_max_pu))]
    if buses and all(b.x_km is not None and b.y_km is not None for b in buses):
        bus_cols += [("x[km]", lambda b: number(b.x_km)), ("y[km]", lambda b: number(b.y_km))]
    files[f"{name}_buses.csv"] = _csv(buses, bus_cols, comments)

    if lines:
        cols: list[Column] = [("id", lambda r: r.id), ("from", lambda r: r.from_bus),
                              ("to", lambda r: r.to_bus), ("r[ohm]", lambda r: number(r.r_ohm)),
                              ("x[ohm]", lambda r: number(r.x_ohm)),
                              ("b[uS]", lambda r: number(r.b_us))]
        if _optional([r.rating_kva for r in lines]):
            cols.append(("rating[kVA]", lambda r: _or_none(r.rating_kva)))
        if all(r.length_km is not None for r in lines):
            cols.append(("length[km]", lambda r: number(r.length_km)))
        cols += [("open", lambda r: word(r.open)), ("switchable", lambda r: word(r.switchable))]
        files[f"{name}_lines.csv"] = _csv(lines, cols, comments)
    if trafos:
        cols = [("id", lambda t: t.id), ("from", lambda t: t.from_bus), ("to", lambda t: t.to_bus),
                ("rating[kVA]", lambda t: number(t.rating_kva)),
                ("vk[%]", lambda t: number(t.vk_pct)), ("vkr[%]", lambda t: number(t.vkr_pct)),
                ("vn_hv[kV]", lambda t: number(t.vn_hv_kv)),
                ("vn_lv[kV]", lambda t: number(t.vn_lv_kv)),
                ("tap_pos", lambda t: number(t.tap_pos)),
                ("tap_neutral", lambda t: number(t.tap_neutral)),
                ("tap_step[%]", lambda t: number(t.tap_step_pct)),
                ("tap_side", lambda t: t.tap_side), ("ratio", lambda t: number(t.ratio)),
                ("pfe[kW]", lambda t: number(t.pfe_kw)), ("i0[%]", lambda t: number(t.i0_pct)),
                ("open", lambda t: word(t.open))]
        files[f"{name}_transformers.csv"] = _csv(trafos, cols, comments)
    if switches:
        cols = [("id", lambda s: s.id), ("from", lambda s: s.from_bus), ("to", lambda s: s.to_bus),
                ("open", lambda s: word(s.open)), ("switchable", lambda s: word(s.switchable))]
        if _optional([s.rating_kva for s in switches]):
            cols.append(("rating[kVA]", lambda s: _or_none(s.rating_kva)))
        files[f"{name}_switches.csv"] = _csv(switches, cols, comments)
    if shunts:
        cols = [("id", lambda s: s.id), ("bus", lambda s: s.bus),
                ("q[kvar]", lambda s: number(s.q_kvar)), ("p[kW]", lambda s: number(s.p_kw))]
        files[f"{name}_shunts.csv"] = _csv(shunts, cols, comments)
    files[f"{name}.grid"] = _grid_text(net, files, gens)
    return files


def _grid_text(net: Network, files: dict[str, str], gens: list[Any]) -> str:
    name = net.name
    out = [f"// {name}: imported by `gridc import` from {clean(net.source)}.",
           "// Where the numbers come from:"]
    out += [f"//   {clean(p)}" for p in net.provenance]
    out.append("// Approximated or assumed:" if net.approximations else
               "// Approximated or assumed: nothing.")
    out += [f"//   - {clean(a)}" for a in net.approximations]
    if any(r.rating_kva is None for r in net.lines) and any(
            r.rating_kva is not None for r in net.lines):
        out.append(f"//   - lines without a rating in the source are given {number(NO_RATING_KVA)} "
                   "kVA (a table cell cannot be empty): no limit in practice")
    out += ["", f'model {name} "{clean(net.source)}"', "", f"network {name} {{",
            f"  base {number(net.base_kv)} kV {number(net.base_kva)} kVA",
            f"  slack {ref(net.slack_bus)} at {number(net.slack_v_pu)} pu"]
    if net.voltage_note:
        out.append(f"  // {clean(net.voltage_note)}")
    out.append(f"  voltage {number(net.v_min_pu)} .. {number(net.v_max_pu)} pu")
    for prop, suffix in (("buses", "buses"), ("lines", "lines"),
                         ("transformers", "transformers"), ("switches", "switches"),
                         ("shunts", "shunts")):
        fname = f"{name}_{suffix}.csv"
        if fname in files:
            out.append(f'  {prop} from "{fname}"')
    out.append("}")
    if gens:
        out += ["", "// Generators at their operating point in the source: P fixed (p_min = "
                "p_max), Q fixed where the source fixes it."]
    for g in gens:
        if g.note:
            out.append(f"// {g.id}: {clean(g.note)}")
        props = [f"p_min {number(g.p_kw)} kW", f"p_max {number(g.p_kw)} kW"]
        q_min, q_max = (g.q_kvar, g.q_kvar) if g.q_kvar is not None else (g.q_min_kvar,
                                                                          g.q_max_kvar)
        if q_min is not None:
            props.append(f"q_min {number(q_min)} kvar")
        if q_max is not None:
            props.append(f"q_max {number(q_max)} kvar")
        out.append(f"generator {g.id} : dg at {ref(g.bus)} {{ {', '.join(props)} }}")
    out += ["",
            "// A first operation study: one snapshot at the source's loads. DistFlow with",
            "// losses minimised keeps its cone tight, so its voltages are the AC ones of a",
            "// radial network; `--study linear` solves the same snapshot with LinDistFlow.",
            "formulation distflow",
            "study base { objective losses }",
            "study linear { formulation lindistflow }", ""]
    return "\n".join(out)


def write(net: Network, out_dir: str | os.PathLike[str], *, force: bool = False,
          rating_margin: float = 0.0) -> list[Path]:
    """Write the files of `net` into `out_dir` (created if missing); refuses to replace
    an existing file unless `force`. Returns the paths written, the `.grid` file first."""
    files = render(with_margin(net, rating_margin))
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise ImportFailure(f"{folder} exists and is not a folder")
    stale = [folder / f"{net.name}_{s}.csv" for s in TABLE_SUFFIXES]
    targets = [folder / f for f in files]
    existing = sorted({str(p) for p in (*targets, *stale) if p.exists()})
    if existing and not force:
        raise FileExistsError(", ".join(existing))
    folder.mkdir(parents=True, exist_ok=True)
    for path in stale:  # a table of an earlier import that this one does not have
        if path not in targets and path.exists():
            path.unlink()
    grid = folder / f"{net.name}.grid"
    order = [grid, *sorted(p for p in targets if p != grid)]
    for path in order:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(files[path.name], encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    return order
