"""GRID054: buses no source can reach with the branches in their normal state.

Why a check of its own: GRID044 asks whether a bus is joined to the slack by *any*
branch, open or closed; a converted network can pass that and still leave half its
buses unfed because a normally-open switch or an out-of-service transformer cuts them
off (issue 14: 109 of 179 buses of a conversion). Here the graph holds only the
branches that are closed in the normal state (lines, transformers, switches), plus the
candidate lines of `lines` investments (the plan may build them). Sources: the slack bus
and every generator's bus. Each unfed part (a connected component of the unfed buses)
is one diagnostic naming its buses (first few and the count) and the open branches
between it and the fed part; an error when one of its buses carries load (bus p/q or a
`load` component), otherwise a warning. Graph work with scipy.sparse.csgraph.
"""

from __future__ import annotations

import numpy as np

from gridc.dsl import ir
from gridc.dsl import ir_planning as P
from gridc.dsl.diagnostics import Collector

#: buses and open branches named per diagnostic; parts reported at most
SHOWN, SHOWN_OPEN, MAX_PARTS = 6, 3, 20


def check_fed(m: ir.Model, d: Collector) -> None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    for net in m.networks:
        ids = [b.id for b in net.buses]
        pos = {b: k for k, b in enumerate(ids)}
        if net.slack_bus not in pos:
            continue
        n = len(ids)
        closed = [ln for ln in net.lines if not ln.normally_open
                  and ln.from_bus in pos and ln.to_bus in pos]
        pairs = [(ln.from_bus, ln.to_bus) for ln in closed]
        for inv in m.investments:
            if isinstance(inv, P.LineBuild):
                pairs += [(c.from_bus, c.to_bus) for c in inv.candidates
                          if c.from_bus in pos and c.to_bus in pos]
        fr = np.array([pos[a] for a, _ in pairs], dtype=np.int64)
        to = np.array([pos[b] for _, b in pairs], dtype=np.int64)
        graph = coo_matrix((np.ones(len(pairs)), (fr, to)), shape=(n, n))
        _, label = connected_components(graph, directed=False)
        sources = [pos[net.slack_bus]] + [pos[g.bus] for g in m.generators if g.bus in pos]
        fed = np.isin(label, label[sources])
        # buses no branch at all joins to the slack are GRID044's, not reported twice
        every = [ln for ln in net.lines if ln.from_bus in pos and ln.to_bus in pos]
        fa = np.r_[fr, [pos[ln.from_bus] for ln in every]].astype(np.int64)
        ta = np.r_[to, [pos[ln.to_bus] for ln in every]].astype(np.int64)
        _, whole = connected_components(coo_matrix((np.ones(fa.size), (fa, ta)),
                                                   shape=(n, n)), directed=False)
        fed |= whole != whole[pos[net.slack_bus]]
        if fed.all():
            continue
        _report(m, net, d, ids, label, fed, pos)


def _report(m: ir.Model, net: ir.Network, d: Collector, ids: list[str],
            label: np.ndarray, fed: np.ndarray, pos: dict[str, int]) -> None:
    """One diagnostic per unfed part, the largest parts first."""
    loaded = np.array([b.p_kw != 0 or b.q_kvar != 0 for b in net.buses])
    for ld in m.loads:
        if ld.bus in pos:
            loaded[pos[ld.bus]] = True
    parts, sizes = np.unique(label[~fed], return_counts=True)
    order = np.argsort(-sizes, kind="stable")
    opened = [ln for ln in net.lines if ln.normally_open
              and ln.from_bus in pos and ln.to_bus in pos]
    for k, part in enumerate(parts[order]):
        if k == MAX_PARTS:
            rest = len(parts) - MAX_PARTS
            d.warning("GRID054", f"{rest} more unfed part(s) of network '{net.name}' not "
                      "shown", net.span)
            break
        members = np.flatnonzero(label == part)
        inside = set(members.tolist())
        names = [ids[i] for i in members[:SHOWN]]
        more = f" and {len(members) - SHOWN} more" if len(members) > SHOWN else ""
        cut = [ln for ln in opened
               if (pos[ln.from_bus] in inside and fed[pos[ln.to_bus]])
               or (pos[ln.to_bus] in inside and fed[pos[ln.from_bus]])]
        load_here = bool(loaded[members].any())
        what = (f"{len(members)} bus(es) of network '{net.name}' are not fed by any source "
                f"with the normal switch states: {', '.join(names)}{more}")
        if cut:
            shown = ", ".join(f"{ln.kind} '{ln.id}'" for ln in cut[:SHOWN_OPEN])
            what += f"; cut off by the open {shown}" + (
                f" and {len(cut) - SHOWN_OPEN} more" if len(cut) > SHOWN_OPEN else "")
            span = cut[0].span
            hint = ("close it (open -> closed) if it is closed in normal operation, or "
                    "add a source in that part")
        else:
            span = net.buses[int(members[0])].span
            hint = "connect them with a closed line, switch or transformer, or add a source"
        if load_here:
            d.error("GRID054", what + " (they carry load)", span, help=hint)
        else:
            d.warning("GRID054", what, span, help=hint)
