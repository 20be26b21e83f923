"""The power-flow formulation: chosen here, and only here.

A model or study states it (`formulation lindistflow | distflow`, docs/language.md);
it is never inferred from which investments happen to be present:

* `lindistflow` (default): LinDistFlow, lossless and linear (`compiler.formulations.lindistflow`);
* `distflow`: the branch-flow model with losses, its second-order cone lowered to
  polyhedra for HiGHS (`compiler.formulations.distflow`, `compiler.formulations.cone`); the
  runtime reports the
  approximation error and tightens it with cuts.

Both lower every line family (reinforcement and topology decisions through
`compiler.core.line_state`) and return the same `Flow`: flows, voltages and the nodal
outflows the balance needs, plus losses under `distflow`. `objective losses` needs
losses, so it needs `distflow` (GRID071 otherwise). The cone's mode (`btn` polygon or
`cuts`) is chosen by `cone_mode` from its size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from linopy import LinearExpression, Variable

from gridc.compiler.core.builder import Builder
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import BUS, LINE, LOAD, SCENARIO
from gridc.compiler.core.line_state import LineStates
from gridc.compiler.core.rows import Rows
from gridc.compiler.core.study import ResolvedStudy
from gridc.compiler.families.loads import demand
from gridc.compiler.formulations.cone import rotated_rows
from gridc.compiler.formulations.distflow import DEFAULT_LEVELS, DistFlowVars, define_distflow
from gridc.compiler.formulations.lindistflow import define_flow_magnitude, define_lindistflow
from gridc.dsl import ir_planning as P

FORMULATIONS = ("lindistflow", "distflow")
DEFAULT = "lindistflow"
#: above this many polygon rows the cone is approximated by cuts (see `cone_mode`)
BTN_MAX_ROWS = 60_000


@dataclass(frozen=True)
class Flow:
    """What every formulation gives the rest of the model."""

    formulation: str
    p: Variable  # line_p [kW]
    q: Variable  # line_q [kvar]
    w: Variable  # bus_w [p.u.²]
    p_abs: Variable | None  # line_p_abs [kW], only with `penalty loss`
    outflow_p: Rows | LinearExpression  # [scenario, time, bus] kW sent into the network
    outflow_q: Rows | LinearExpression
    states: LineStates
    distflow: DistFlowVars | None = None  # the cone and losses (distflow only)
    # (g, b) pu [scenario, time, bus] of the shunts in the outflows (charging, banks,
    # magnetising); None without any. The AC check takes them out of the injections.
    shunts: tuple[xr.DataArray, xr.DataArray] | None = None

    @property
    def loss_kw(self) -> LinearExpression | None:
        """[scenario, time, line] losses r ℓ S_base (distflow), else None (lossless)."""
        return None if self.distflow is None else self.distflow.loss_kw


def choose_formulation(resolved: ResolvedStudy) -> str:
    """The study's formulation, else the model's, else `lindistflow`."""
    m = resolved.model
    name = resolved.solve.formulation or (m.formulation.name if m.formulation else DEFAULT)
    if resolved.solve.objective == "losses" and name != "distflow":
        raise compile_error(m, "GRID071", "'objective losses' needs network losses, which "
                            f"the {name} formulation does not have", resolved.solve.span,
                            help="write 'formulation distflow' in the study (or at the top "
                            "of the model)")
    return name


def cone_mode(requested: str, cones: int, nu: int) -> str:
    """`btn` (Ben-Tal–Nemirovski, accuracy guaranteed up front) unless the polygon rows would
    exceed `BTN_MAX_ROWS`: then `cuts` (a few supporting planes per cone, refined by the
    runtime's cut loop), because a simplex on hundreds of thousands of polygon rows is
    what makes the MILP slow (measured: the 4 × 24 h × 31-line seed-001 case has 2,976
    cones, 193k rows at ν = 10, and no root LP after 10 min)."""
    if requested not in ("auto", "btn", "cuts"):
        raise ValueError(f"unknown cone mode '{requested}' (auto, btn or cuts)")
    if requested != "auto":
        return requested
    return "btn" if cones * rotated_rows(nu) <= BTN_MAX_ROWS else "cuts"


def flow_cap(b: Builder, with_stations: bool) -> float:
    """No branch carries more than every sink and source of the model together, with
    10 % for losses: 1.1 × (peak apparent demand + Σ generator capacity (P, and Q where
    stated) + Σ storage power (stationary, to build, mobile units × their largest type,
    EV batteries at their sites) + DG to build + Σ |shunt Q| at the highest voltage).
    The demand is the model's own, at its peak over scenarios and steps (profiles and
    `scale load` included). The grid import does not count: it only feeds the rest. A
    big-M, never a rating: it bounds flows under `distflow` and the switched branches
    without a rating in either formulation. Unbounded with stations (their load is a
    decision) or generators of unbounded size."""
    m = b.model
    if with_stations:
        return math.inf
    gens = [g.p_max_kw for g in m.generators if g.kind != "grid"]
    gens += [max(abs(g.q_max_kvar or 0.0), abs(g.q_min_kvar or 0.0))
             for g in m.generators if g.kind != "grid"]
    if any(math.isinf(x) for x in gens):
        return math.inf
    stores = [s.power_kw for s in m.storages]
    for i in m.investments:
        if isinstance(i, P.StorageBuild):
            stores.append(i.power_max_kw)
        elif isinstance(i, P.MobileStorage):
            stores.append(i.count.max * max((t.power_kw for t in i.types), default=0.0))
        elif isinstance(i, P.EvBattery):
            stores += [s.evs * i.ev_power_kw + s.piles * i.pile_power_kw for s in i.sites]
    net = b.idx.network
    # shunts at the highest voltage: banks (q at 1 pu) and cable charging (b[uS] x vn[kV]²
    # x 1e-3 kvar at 1 pu, taken at the line's from bus level), which can exceed the load
    # behind a cable and flow back to the slack
    vn = net.bus_vn_kv()
    charging = sum(ln.b_us * vn[ln.from_bus] ** 2 * 1e-3 for ln in net.lines)
    shunt_q = (sum(abs(sh.q_kvar) for sh in net.shunts) + charging) \
        * net.v_max_pu ** 2 * 1.21
    bus_p, bus_q, load_p, load_q = demand(b)
    apparent = (np.hypot(bus_p, bus_q).sum(BUS) + np.hypot(load_p, load_q).sum(LOAD))
    dg = sum(i.capacity_max_kw for i in m.investments if isinstance(i, P.DgUnits))
    return 1.1 * (float(apparent.max()) + sum(gens) + sum(stores) + dg + shunt_q)


def define_flow(b: Builder, formulation: str, states: LineStates, *, with_abs_flow: bool,
                levels: int | None, cone: str, with_stations: bool) -> tuple[Flow, str]:
    """The network blocks under `formulation`; returns the flow and the cone mode."""
    if formulation == "lindistflow":
        cap = flow_cap(b, with_stations) if states.switches else math.inf
        net = define_lindistflow(b, states, cap)
        p_abs = define_flow_magnitude(b, net.p) if with_abs_flow else None
        return Flow(formulation, net.p, net.q, net.w, p_abs, net.outflow_p, net.outflow_q,
                    states, shunts=net.shunts), "none"
    nu = int(levels if levels is not None else DEFAULT_LEVELS)
    cones = b.idx.steps * len(b.idx.coords[SCENARIO]) * len(b.idx.coords[LINE])
    mode = cone_mode(cone, cones, nu)
    df = define_distflow(b, states, nu, flow_cap(b, with_stations), mode)
    p_abs = define_flow_magnitude(b, df.p) if with_abs_flow else None
    return Flow(formulation, df.p, df.q, df.w, p_abs, df.outflow_p, df.outflow_q, states,
                df, shunts=df.shunts), mode
