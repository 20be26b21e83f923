"""Network topology as a decision: candidate lines and radiality (seed 001, section 3.2).

Why a separate step before indexing: the candidate lines of `invest NAME : lines` become
ordinary lines of an expanded network, so that every block (flows, voltages, currents,
cones) keeps one `line` dimension and the built state is a single binary per line.

`expand_network` — what a candidate means:

* a candidate whose bus pair matches a line of the network (either direction) *is* that
  line, made switchable: its impedance is the network's, and a normally-open tie listed as
  a candidate may close (this is how the Baran–Wu reconfiguration lists all 37 lines);
* any other candidate is a new line FROM-TO of `cable_r`·length, `cable_x`·length and the
  network's cable rating;
* the length is the candidate's `length`, else the network line's, else the straight line
  between the buses' x/y coordinates (km); it prices the line (install, O&M per km);
* `existing yes` marks a candidate that is already built: fixed on, not priced;
* network lines that are not candidates keep their status (closed lines are always on,
  normally-open ties stay open).

`define_topology` — the decision rows (per investment, vectorised over lines):

* built[line] ∈ {0, 1} on candidates; 1 on fixed-on lines; absent (0) on open ties;
* radial: Σ built = N_e − 1 over the lines among the N_e energisable buses (those a path of
  possible lines joins to the slack), and connectivity from the substation as a directed
  multi-commodity flow (see `_radial`): connected with N_e − 1 edges is a spanning tree, no
  island, no cycle. Σ built = N − 1 alone would allow a cycle plus an island; a flow alone
  would allow meshes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.core.builder import Block, Builder, sparse_sum
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import BUS, LINE
from gridc.compiler.formulations.pricing import PricedItem
from gridc.dsl import ir
from gridc.dsl import ir_planning as P

COMMODITY = "commodity"

@dataclass(frozen=True)
class Candidate:
    """One candidate line of the expanded network."""

    line: str  # line id in the expanded network
    investment: str
    length_km: float
    existing: bool  # already built: fixed on, not priced
    new: bool  # added to the network (False: a network line made switchable)


@dataclass(frozen=True)
class Topology:
    """The topology decision of a compiled model."""

    candidates: tuple[Candidate, ...]
    built: Variable | None  # [line] binary, 0..1 bounds fixed where not a decision
    status: xr.DataArray  # [line] 1 fixed on, 0 fixed off, 0.5 decided by `built`
    length_km: xr.DataArray  # [line] candidate lengths (0 elsewhere)
    radial: bool

    @property
    def decided(self) -> xr.DataArray:
        """[line] True where the optimiser chooses the state."""
        return self.status == 0.5

    def on(self) -> xr.DataArray | LinearExpression:
        """The line state as data (no decision) or as an expression of `built`."""
        if self.built is None:
            return self.status
        return 1.0 * self.built


def line_builds(model: ir.Model) -> list[P.LineBuild]:
    return [i for i in model.investments if isinstance(i, P.LineBuild)]


def _distance(a: ir.Bus, b: ir.Bus) -> float | None:
    if None in (a.x_km, b.x_km, a.y_km, b.y_km):
        return None
    return math.hypot(float(a.x_km) - float(b.x_km),  # type: ignore[arg-type]
                      float(a.y_km) - float(b.y_km))  # type: ignore[arg-type]


def expand_network(model: ir.Model) -> tuple[ir.Model, tuple[Candidate, ...]]:
    """The model with every candidate line in its network (see the module docstring)."""
    builds = line_builds(model)
    if not builds:
        return model, ()
    net = model.network()
    buses = {b.id: b for b in net.buses}
    lines = list(net.lines)
    by_pair: dict[frozenset[str], int] = {}
    for k, ln in enumerate(lines):
        by_pair.setdefault(frozenset((ln.from_bus, ln.to_bus)), k)
    ids = {ln.id for ln in lines}
    out: list[Candidate] = []
    for inv in builds:
        priced = inv.costs.install_cny > 0 or inv.costs.maintain_cny_per_y > 0
        for c in inv.candidates:
            at = by_pair.get(frozenset((c.from_bus, c.to_bus)))
            known = lines[at] if at is not None else None
            length: float | None = c.length_km
            if length is None and known is not None:
                length = known.length_km
            if length is None:
                length = _distance(buses[c.from_bus], buses[c.to_bus])
            if length is None:
                if priced and not c.existing:
                    raise compile_error(
                        model, "GRID012", f"candidate line {c.from_bus}-{c.to_bus} has no "
                        "length", c.span, help="give a 'length' column, or x and y "
                        "coordinates of both buses in the network's bus table")
                length = 0.0
            if known is not None and at is not None:
                lines[at] = known.model_copy(update={"normally_open": False, "switchable": True})
                out.append(Candidate(known.id, inv.name, float(length), c.existing, False))
                continue
            if net.cable_r_ohm_per_km is None or net.cable_x_ohm_per_km is None:
                raise compile_error(
                    model, "GRID012", f"new line {c.from_bus}-{c.to_bus} needs the network's "
                    "cable impedance", c.span, help="add 'cable_r 0.4 ohm/km' and "
                    "'cable_x 0.325 ohm/km' to the network")
            lid = f"{c.from_bus}-{c.to_bus}"
            if lid in ids:
                raise compile_error(model, "GRID040", f"candidate line '{lid}' duplicates a "
                                    "line id of the network", c.span)
            ids.add(lid)
            by_pair[frozenset((c.from_bus, c.to_bus))] = len(lines)
            lines.append(ir.Line(span=c.span, id=lid, from_bus=c.from_bus, to_bus=c.to_bus,
                                 r_ohm=net.cable_r_ohm_per_km * float(length),
                                 x_ohm=net.cable_x_ohm_per_km * float(length),
                                 rating_kva=net.cable_rating_kva, length_km=float(length),
                                 switchable=True))
            out.append(Candidate(lid, inv.name, float(length), c.existing, True))
    expanded = net.model_copy(update={"lines": tuple(lines)})
    nets = (expanded, *model.networks[1:])
    return model.model_copy(update={"networks": nets}), tuple(out)


def energisable(b: Builder, possible: np.ndarray) -> np.ndarray:
    """[bus] True where some path of possible lines joins the bus to the slack."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    net = b.idx.network
    buses = b.idx.coords[BUS]
    fr = buses.get_indexer([ln.from_bus for ln in net.lines])[possible]
    to = buses.get_indexer([ln.to_bus for ln in net.lines])[possible]
    graph = coo_matrix((np.ones(len(fr)), (fr, to)), shape=(len(buses), len(buses)))
    _, label = connected_components(graph, directed=False)
    return np.asarray(label == label[int(buses.get_loc(b.idx.slack_bus))])


def define_topology(b: Builder, candidates: tuple[Candidate, ...], radial: bool,
                   fixed: dict[str, bool] | None = None) -> Topology:
    """The `built` binaries, radiality rows and per-line lengths (see the docstring).
    `fixed` pins candidate lines on or off (a given plan, e.g. a published one)."""
    net = b.idx.network
    lines = b.idx.coords[LINE]
    status = np.array([0.0 if ln.normally_open else 1.0 for ln in net.lines])
    length = np.zeros(len(lines))
    pos = lines.get_indexer([c.line for c in candidates])
    for k, c in zip(pos, candidates):
        status[k] = 1.0 if c.existing else 0.5
        length[k] = 0.0 if c.existing else c.length_km
    for name, on in (fixed or {}).items():
        status[lines.get_loc(name)] = 1.0 if on else 0.0
    status_da = xr.DataArray(status, coords=[lines])
    length_da = xr.DataArray(length, coords=[lines])
    if not bool((status == 0.5).any()) and not radial:
        return Topology(candidates, None, status_da, length_da, radial)
    lo = xr.DataArray(np.where(status == 1.0, 1.0, 0.0), coords=[lines])
    up = xr.DataArray(np.where(status == 0.0, 0.0, 1.0), coords=[lines])
    built = b.m.add_variables(lower=lo, upper=up, coords=[lines], name="line_built",
                              integer=True)
    b.blocks["line_built"] = Block("line_built", "topology", LINE, "0/1")
    if radial:
        _refuse_fixed_loop(b, status == 1.0)
        _radial(b, built, status > 0.0)
    return Topology(candidates, built, status_da, length_da, radial)


def _refuse_fixed_loop(b: Builder, fixed_on: np.ndarray) -> None:
    """GRID076 when the lines that are always closed (network lines that are not
    candidates, candidates marked `existing yes`) already close a loop: no radial
    configuration exists, and without this the solver says only "infeasible" (the
    elastic diagnosis cannot relax a topology row either). Union-find over those lines;
    the loop is named by the path between the ends of the line that closes it."""
    net = b.idx.network
    parent: dict[str, str] = {}
    tree: dict[str, list[tuple[str, str]]] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ln, on in zip(net.lines, fixed_on):
        if not on:
            continue
        u, v = str(ln.from_bus), str(ln.to_bus)
        if root(u) != root(v):
            parent[root(u)] = root(v)
            tree.setdefault(u, []).append((v, ln.id))
            tree.setdefault(v, []).append((u, ln.id))
            continue
        loop = [*_tree_path(tree, u, v), ln.id]
        inv = next(i for i in line_builds(b.model) if i.radial)
        raise compile_error(
            b.model, "GRID076", f"'radial' cannot hold: the lines that are always closed "
            f"already form a loop ({', '.join(loop)})", inv.span,
            help="list a line of the loop among the candidates without 'existing yes' "
                 "(an existing candidate is fixed closed), so that it may open; or drop "
                 "'radial'")


def _tree_path(tree: dict[str, list[tuple[str, str]]], start: str, goal: str) -> list[str]:
    """The line ids on the path from `start` to `goal` in a forest (breadth first)."""
    came: dict[str, tuple[str, str] | None] = {start: None}
    queue = [start]
    for at in queue:
        for nxt, lid in tree.get(at, []):
            if nxt not in came:
                came[nxt] = (at, lid)
                queue.append(nxt)
    path: list[str] = []
    step = came.get(goal)
    while step is not None:
        path.append(step[1])
        step = came[step[0]]
    return path[::-1]


def _radial(b: Builder, built: Variable, possible: np.ndarray) -> None:
    """Spanning tree of the energisable buses (see the module docstring).

    Written as a directed multi-commodity flow: every line gets an orientation
    β_ft + β_tf = built, every non-slack bus one parent (in-degree 1), and commodity k
    (one per non-slack bus) carries one unit from the slack to bus k over oriented lines,
    f^k ≤ β. With the edge count this is exact for integer `built`, and its LP relaxation
    is the arborescence polytope — much tighter than one aggregated flow with
    |f| ≤ (N − 1)·built, which lets a tenth of a line carry everything. The MILP's bound
    (and so its run time) depends on it: line costs are relaxed to a fractional tree."""
    inc = b.idx.incidence
    reach = energisable(b, possible)
    n_e = int(reach.sum())
    lines = b.idx.coords[LINE]
    buses = b.idx.coords[BUS]
    fr = buses.get_indexer([ln.from_bus for ln in b.idx.network.lines])
    inside = possible & reach[fr]
    in_da = xr.DataArray(inside.astype(float), coords=[lines])
    b.constrain("radial_edges", (in_da * built).sum(), "==", float(n_e - 1),
                family="topology", source=None, unit="lines")
    slack = b.idx.slack_bus
    sinks = pd.Index([str(x) for x, r in zip(buses, reach) if r and str(x) != slack],
                     name=COMMODITY)
    b.idx.coords[COMMODITY] = sinks
    ft = b.variable("radial_ft", (LINE,), 0.0, in_da, family="topology", source=LINE,
                    unit="0/1")
    tf = b.variable("radial_tf", (LINE,), 0.0, in_da, family="topology", source=LINE,
                    unit="0/1")
    b.constrain("radial_orient", ft + tf - built, "==", 0.0, family="topology", source=LINE,
                mask=xr.DataArray(inside, coords=[lines]))
    to_sel = (-inc).clip(min=0.0)
    from_sel = inc.clip(min=0.0)
    parent = sparse_sum(ft, to_sel, LINE, BUS) + sparse_sum(tf, from_sel, LINE, BUS)
    degree = xr.DataArray(np.where(reach & (buses != slack), 1.0, 0.0), coords=[buses])
    b.constrain("radial_parent", parent, "==", degree, family="topology", source=BUS)
    upper = in_da.broadcast_like(xr.DataArray(np.zeros(len(sinks)), coords=[sinks]))
    f_ft = b.variable("radial_flow_ft", (COMMODITY, LINE), 0.0, upper, family="topology",
                      source=LINE, unit="units")
    f_tf = b.variable("radial_flow_tf", (COMMODITY, LINE), 0.0, upper, family="topology",
                      source=LINE, unit="units")
    b.constrain("radial_cap_ft", f_ft - ft, "<=", 0.0, family="topology", source=LINE)
    b.constrain("radial_cap_tf", f_tf - tf, "<=", 0.0, family="topology", source=LINE)
    supply = xr.DataArray(
        (buses.to_numpy()[None, :] == slack).astype(float)
        - (buses.to_numpy()[None, :] == sinks.to_numpy()[:, None]).astype(float),
        coords=[sinks, buses])
    out = sparse_sum(f_ft - f_tf, inc, LINE, BUS)
    b.constrain("radial_balance", out, "==", supply, family="topology", source=BUS,
                unit="units")


def line_items(model: ir.Model, topo: Topology) -> list[PricedItem]:
    """Priced line length: Σ length · built over the candidates of each investment
    (`existing` candidates are not priced)."""
    if topo.built is None:
        return []
    out = []
    for inv in line_builds(model):
        lines = [c.line for c in topo.candidates if c.investment == inv.name and not c.existing]
        if lines:
            length = topo.length_km.sel(line=lines)
            out.append(PricedItem("lines", inv.name, inv.costs,
                                  (length * topo.built.sel(line=lines)).sum(), "km"))
    return out
