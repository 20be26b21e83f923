"""Power flow with losses: DistFlow (Baran & Wu) relaxed to a cone, lowered for HiGHS.

Why not LinDistFlow (`compiler.formulations.lindistflow`): loss minimisation (reconfiguration) and
energy purchase including network losses (seed 001, eq. 38) need the losses themselves.
Branch flow model over (scenario, time, line), line l = (i → j) in its reference
direction, P/Q measured at the *from* end (negative: power flows to → from):

    P_l − r_l ℓ_l   arrives at j         (the to-end, whatever the sign of P_l)
    w_i − w_j = 2 (r P + x Q)_pu − (r² + x²)_pu ℓ_l
    ℓ_l · w_i ≥ P_pu² + Q_pu²             (the SOC relaxation of ℓ = |S|²/v)

Units: `line_p` kW, `line_q` kvar (as in LinDistFlow), `line_l` = |I|² in p.u. of the
base current, `bus_w` = V² in p.u.². Losses r_pu·ℓ·S_base [kW]; the balance at bus j
adds them at the to-end: outflow = A·P + (to-end selection)·(r_pu S_b ℓ). The relations
hold for either flow direction, so candidate lines need no direction binaries.

The cone goes to `compiler.formulations.cone.add_rotated_cone` (Ben-Tal–Nemirovski, ν levels); after
a solve `cone_report` measures what the relaxation and the polygon cost: the largest
cone violation, the loss error Σ r ℓ against Σ r (P² + Q²)/v at the solution, and the
voltage error (voltages recomputed along the built tree with the exact ℓ). `add_cuts`
adds the exact tangent plane at every violating point, for iterative tightening.

Lines with a built decision (`compiler.families.topology`) carry big-M rows: |P|, |Q| ≤ S·built,
ℓ ≤ ℓ_max·built, and the voltage equation relaxed by M(1 − built) with M = w_max − w_min
(enough: an unbuilt line has P = Q = ℓ = 0, so the equation only compares two voltages).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from linopy import LinearExpression, Variable
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridc.compiler.core.branches import Branches, branches
from gridc.compiler.core.builder import Block, Builder, Lever, sparse_sum
from gridc.compiler.core.index import BUS, LINE, SCENARIO, TIME
from gridc.compiler.core.line_state import LineStates
from gridc.compiler.formulations.cone import (
    ConeBlock,
    add_rotated_cone,
    add_tangent_planes,
    tangent_cut,
    violation,
)
from gridc.compiler.formulations.lindistflow import (
    add_shunts,
    rating_levers,
    sent_incidence,
    switched_cap,
    voltage_levers,
    voltage_limits,
)
from gridc.compiler.formulations.ratings import add_polygon, box, scale

FLOW_DIMS = (SCENARIO, TIME, LINE)
BUS_DIMS = (SCENARIO, TIME, BUS)
#: default levels: rotated-cone dilation 9.4e-6, i.e. ℓ within ~5e-6 p.u. of exact
DEFAULT_LEVELS = 10


@dataclass(frozen=True)
class DistFlowVars:
    p: Variable  # line_p [kW]
    q: Variable  # line_q [kvar]
    w: Variable  # bus_w [p.u.²]
    ell: Variable  # line_l [p.u.] current squared
    outflow_p: LinearExpression  # [scenario, time, bus] kW sent into the network
    outflow_q: LinearExpression
    loss_kw: LinearExpression  # [scenario, time, line] r ℓ S_base
    cone: ConeBlock
    r_pu: xr.DataArray  # [line]
    x_pu: xr.DataArray
    base_kva: float
    cuts: list[str]  # names of tangent-cut blocks added so far
    sent_from: xr.DataArray  # [line, bus] 1/τ² at the from bus
    sent_incidence: xr.DataArray  # [bus, line] 1/τ² at the from bus, −1 at the to bus
    switch: xr.DataArray  # [line] bool: zero-impedance switches (no cone)
    shunts: tuple[xr.DataArray, xr.DataArray] | None = None  # (g, b) pu [scenario, time, bus]


def impedances(b: Builder) -> tuple[xr.DataArray, xr.DataArray]:
    """Per-unit r and x per branch (system power base, each on its own level's base
    impedance; see `compiler.core.branches`)."""
    br = branches(b.idx)
    return br.r_pu, br.x_pu


def sent_from(b: Builder, br: Branches) -> xr.DataArray:
    """Line × bus: 1/τ² at the from bus: w_from/τ², the voltage after a branch's ideal
    transformer, which the cone and the drop use."""
    from_sel, _ = b.idx.line_from_to()
    return from_sel if bool((br.tau == 1.0).all()) else from_sel * br.inv_tau2


def initial_planes(cap_pu: float, levels: int = 4) -> xr.DataArray:
    """Supporting planes for the `cuts` mode: flows ±cap·2^−j (j < levels) and two
    reactive ones at ±cap/8: a coarse start that the cut loop refines."""
    ps = [s * cap_pu * 2.0 ** -j for j in range(levels) for s in (1.0, -1.0)]
    pts = [(x, 0.0) for x in ps] + [(0.0, cap_pu / 8), (0.0, -cap_pu / 8)]
    return xr.DataArray(np.array(pts), dims=("cone_cut", "component"),
                        coords={"cone_cut": np.arange(len(pts)), "component": ["p", "q"]})


def define_distflow(b: Builder, states: LineStates, nu: int = DEFAULT_LEVELS,
                    flow_cap_kva: float = math.inf, mode: str = "btn") -> DistFlowVars:
    """Flows, currents, voltages, the relaxed cone and the nodal outflows with losses.
    `flow_cap_kva` bounds every flow by what the network can carry at all (total demand
    plus generation): it bounds unrated branches and is the big-M of switched unrated
    ones (never reported as a rating); the tighter it is, the tighter the MILP's
    relaxation. Ratings are polygons at both ends (the to end carries P − rℓ, Q − xℓ);
    ℓ ≤ ℓ_max with ℓ_max = (largest |S| the polygon allows)² · τ² / w_min, so the bound
    never cuts a point the polygon and the cone allow. Switches (r = x = 0) have ℓ = 0
    and no cone. Lines and their decisions: see `compiler.core.line_state`."""
    sb = b.idx.base_kva
    br = branches(b.idx)
    on = states.on
    net = b.idx.network
    rating = br.rating
    limit = box(b, on, rating).clip(max=flow_cap_kva)
    p = b.variable("line_p", FLOW_DIMS, -limit, limit, family="line ratings", source=LINE,
                   unit="kW", relax_scale=on.astype(float), levers=rating_levers(b, on))
    q = b.variable("line_q", FLOW_DIMS, -limit, limit, family="line ratings", source=LINE,
                   unit="kvar", relax_scale=on.astype(float), levers=rating_levers(b, on))
    w_lo, w_up = voltage_limits(b)
    not_slack = xr.DataArray((b.idx.coords[BUS] != b.idx.slack_bus).astype(float),
                             coords=[b.idx.coords[BUS]])
    w = b.variable("bus_w", BUS_DIMS, w_lo, w_up, family="voltage limits", source=BUS,
                   unit="p.u.²", relax_scale=not_slack, levers=voltage_levers(b))
    reach = scale(net.rating_sides, net.rating_fit) / math.cos(math.pi / net.rating_sides)
    s_most = (rating * reach).clip(max=flow_cap_kva)  # largest |S| a solution may carry
    ell_max = (s_most / sb) ** 2 * br.tau ** 2 / float(w_lo.min())
    ell_max = xr.where(br.switch, 0.0, ell_max)
    # elastic mode: a rating raised by c kVA raises ℓ_max by at least 2·S·c / (sb²·w_min)
    ell_lever = Lever("line rating", "rating_kva",
                      (on.astype(float) * 2.0 * s_most / (sb ** 2 * float(w_lo.min())))
                      .where(np.isfinite(s_most), 0.0))
    ell = b.variable("line_l", FLOW_DIMS, 0.0, xr.where(on, ell_max, 0.0).transpose(*FLOW_DIMS),
                     family="current squared", source=LINE, unit="p.u.",
                     levers={"upper": [ell_lever]})
    r_pu, x_pu = br.r_pu, br.x_pu
    inc = b.idx.incidence
    _, to_sel = b.idx.line_from_to()
    w_from = sparse_sum(w, sent_from(b, br), BUS, LINE)
    drop = (sparse_sum(w, sent_incidence(b, br), BUS, LINE) - (2.0 * r_pu / sb) * p
            - (2.0 * x_pu / sb) * q + (r_pu ** 2 + x_pu ** 2) * ell)
    b.constrain("voltage_drop", drop, "==", 0.0, family="voltage drop", source=LINE,
                unit="p.u.²", mask=states.fixed)
    add_polygon(b, "from", p, q, states, rating)
    add_polygon(b, "to", p, q, states, rating, ell=ell, r_loss=r_pu * sb, x_loss=x_pu * sb)
    big = float(w_up.max() / (br.tau ** 2).min() - w_lo.min())
    cap = switched_cap(b, states, rating, flow_cap_kva) if states.switches else rating
    ell_cap = (cap / sb) ** 2 * br.tau ** 2 / float(w_lo.min())
    for sw in states.switches:
        y = sw.y
        family = "topology" if sw.name == "built" else "reinforcement"
        for name, var, bound in (("p", p, cap), ("q", q, cap), ("l", ell, ell_cap)):
            b.constrain(f"line_{name}_{sw.name}_up", var - bound * y, "<=", 0.0,
                        family=family, source=LINE, mask=sw.mask)
            if name != "l":
                b.constrain(f"line_{name}_{sw.name}_dn", var + bound * y, ">=", 0.0,
                            family=family, source=LINE, mask=sw.mask)
        b.constrain(f"voltage_drop_{sw.name}_up", drop + big * y, "<=", big,
                    family="voltage drop", source=LINE, unit="p.u.²", mask=sw.mask)
        b.constrain(f"voltage_drop_{sw.name}_dn", drop - big * y, ">=", -big,
                    family="voltage drop", source=LINE, unit="p.u.²", mask=sw.mask)
    cone_mask = (on & ~br.switch).transpose(*FLOW_DIMS)
    if mode == "cuts":
        finite = rating.where(np.isfinite(rating))
        top = float(finite.max()) if bool(finite.notnull().any()) else flow_cap_kva
        cone = add_tangent_planes(b.m, "cone", p / sb, q / sb, ell, w_from,
                                  initial_planes((top if math.isfinite(top) else sb) / sb),
                                  mask=cone_mask)
    else:
        cone = add_rotated_cone(b.m, "cone", p / sb, q / sb, ell, w_from, nu, mask=cone_mask)
    for v in cone.variables:
        b.blocks[v] = Block(v, "cone approximation", LINE, "p.u.")
    loss = (r_pu * sb) * ell
    qloss = (x_pu * sb) * ell
    out_p = sparse_sum(p, inc, LINE, BUS) + sparse_sum(loss, to_sel, LINE, BUS)
    out_q = sparse_sum(q, inc, LINE, BUS) + sparse_sum(qloss, to_sel, LINE, BUS)
    shunts = add_shunts(b, states, br)
    if shunts is not None:  # consumed P = g·w, injected Q = b·w
        out_p = out_p + (shunts[0] * sb) * w
        out_q = out_q - (shunts[1] * sb) * w
    return DistFlowVars(
        p=p, q=q, w=w, ell=ell, outflow_p=out_p, outflow_q=out_q,
        loss_kw=loss, cone=cone, r_pu=r_pu, x_pu=x_pu, base_kva=sb, cuts=[],
        sent_from=sent_from(b, br), sent_incidence=sent_incidence(b, br), switch=br.switch,
        shunts=shunts)


# ---------------------------------------------------------------------- after a solve


def _values(df: DistFlowVars) -> dict[str, xr.DataArray]:
    return {"p": df.p.solution / df.base_kva, "q": df.q.solution / df.base_kva,
            "ell": df.ell.solution, "w": df.w.solution}


def cone_report(b: Builder, df: DistFlowVars, on: xr.DataArray,
                probability: xr.DataArray, step_h: float) -> dict[str, Any]:
    """What the relaxation and the polygon cost at the solution on the linopy model.

    * `max_violation`: largest ‖(2P, 2Q, ℓ − v)‖ − (ℓ + v) (p.u.), ≤ accuracy·(ℓ + v);
    * `loss_model_kwh` / `loss_exact_kwh`: expected daily Σ r ℓ against Σ r (P² + Q²)/v;
      `loss_error` their relative difference (positive: ℓ above exact, a loose relaxation);
      `loss_error_max_step`: the worst single step;
    * `voltage_error_pu`: largest |V − V_exact| with V_exact recomputed along the built
      tree from the slack with the exact ℓ."""
    val = _values(df)
    on = on & ~df.switch  # switches carry no current variable (r = x = 0)
    w_from = (df.sent_from * val["w"]).sum(BUS)
    viol = xr.DataArray(violation(val["p"].values, val["q"].values, val["ell"].values,
                                  w_from.transpose(*FLOW_DIMS).values),
                        coords=val["p"].coords).where(on)
    exact = ((val["p"] ** 2 + val["q"] ** 2) / w_from.clip(min=1e-9)).where(on, 0.0)
    sb = df.base_kva
    per_step_model = (df.r_pu * sb * val["ell"].where(on, 0.0)).sum(LINE)
    per_step_exact = (df.r_pu * sb * exact).sum(LINE)
    day_model = float((probability * per_step_model.sum(TIME)).sum()) * step_h
    day_exact = float((probability * per_step_exact.sum(TIME)).sum()) * step_h
    step_err = abs(per_step_model - per_step_exact) / per_step_exact.where(
        per_step_exact > 1e-9)
    v_err = _voltage_error(b, df, val, exact, on)
    return {
        "levels": df.cone.nu, "accuracy": df.cone.accuracy, "cones": df.cone.cones,
        "rows": df.cone.rows, "cuts": len(df.cuts),
        "max_violation": float(viol.max()) if bool(viol.notnull().any()) else 0.0,
        "loss_model_kwh": day_model, "loss_exact_kwh": day_exact,
        "loss_error": (day_model - day_exact) / day_exact if day_exact > 0 else 0.0,
        "loss_error_max_step": float(step_err.max()) if bool(step_err.notnull().any())
        else 0.0,
        "voltage_error_pu": v_err,
    }


def _voltage_error(b: Builder, df: DistFlowVars, val: dict[str, xr.DataArray],
                   exact: xr.DataArray, on: xr.DataArray) -> float:
    """max |√w − √w_exact| over the buses connected to the slack, solving the tree's drop
    equations per line state pattern (one pattern in planning: the built tree). An
    island's voltages are not determined by the slack (they float within their limits),
    so they are left out."""
    inc = df.sent_incidence.transpose(LINE, BUS).values
    buses = b.idx.coords[BUS]
    slack = int(buses.get_loc(b.idx.slack_bus))
    fr = buses.get_indexer([ln.from_bus for ln in b.idx.network.lines])
    to = buses.get_indexer([ln.to_bus for ln in b.idx.network.lines])
    drop = (2.0 * (df.r_pu * val["p"] + df.x_pu * val["q"])
            - (df.r_pu ** 2 + df.x_pu ** 2) * exact).transpose(*FLOW_DIMS).values
    w = val["w"].transpose(*BUS_DIMS).values
    flat_on = on.transpose(*FLOW_DIMS).values.reshape(-1, inc.shape[0])
    flat_drop = drop.reshape(-1, inc.shape[0])
    flat_w = w.reshape(-1, len(buses))
    worst = 0.0
    patterns, inverse = np.unique(flat_on, axis=0, return_inverse=True)
    for k, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse.reshape(-1) == k)
        a = inc[pattern]  # lines on × buses: w_from − w_to = drop
        keep = np.ones(len(buses), dtype=bool)
        keep[slack] = False
        rhs = flat_drop[rows][:, pattern] - np.outer(flat_w[rows, slack], a[:, slack])
        sol, *_ = np.linalg.lstsq(a[:, keep], rhs.T, rcond=None)
        graph = coo_matrix((np.ones(int(pattern.sum())), (fr[pattern], to[pattern])),
                           shape=(len(buses), len(buses)))
        _, label = connected_components(graph, directed=False)
        reached = (label == label[slack])[keep]
        v_exact = np.sqrt(np.clip(sol.T, 1e-9, None))[:, reached]
        v_model = np.sqrt(np.clip(flat_w[rows][:, keep], 1e-9, None))[:, reached]
        if v_exact.size:
            worst = max(worst, float(np.abs(v_model - v_exact).max()))
    return worst


def add_cuts(b: Builder, df: DistFlowVars, tol: float = 1e-7) -> int:
    """Tangent planes of the exact cone at every point violating it by more than `tol`
    (p.u.); returns how many rows were added (0: nothing left to cut)."""
    val = _values(df)
    w_from_val = (df.sent_from * val["w"]).sum(BUS).transpose(*FLOW_DIMS)
    pv, qv, lv = (val[k].transpose(*FLOW_DIMS) for k in ("p", "q", "ell"))
    wv = w_from_val.values
    viol = violation(pv.values, qv.values, lv.values, wv)
    cut = (viol > tol) & ~df.switch.values  # switches have no cone (ℓ = 0)
    if not bool(cut.any()):
        return 0
    cp, cq, cl, cv = (xr.DataArray(c, coords=pv.coords)
                      for c in tangent_cut(pv.values, qv.values, lv.values, wv))
    w_from = sparse_sum(df.w, df.sent_from, BUS, LINE)
    sb = df.base_kva
    name = f"cone_cut_{len(df.cuts) + 1}"
    b.m.add_constraints((cp / sb) * df.p + (cq / sb) * df.q + cl * df.ell + cv * w_from,
                        "<=", 0.0, name=name, mask=xr.DataArray(cut, coords=pv.coords))
    df.cuts.append(name)
    return int(cut.sum())
