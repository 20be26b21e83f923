"""Which lines may carry flow, and which of them only if a decision says so.

Why one module: two families decide whether a line is in service — reinforcement
(seed 000: a hardened line survives its outages, u + (1 − u)·y) and topology (seed 001:
a candidate line is built, or a tie closed) — and both power-flow formulations must
treat them the same way. `line_states` turns the data (availability u[scenario, time,
line], the topology's fixed states) and the decisions into three things every
formulation uses:

* `on` [scenario, time, line]: the line may carry flow (its rating bounds are ±S there,
  0 elsewhere);
* `fixed` [scenario, time, line]: in service whatever is decided: the flow equations
  hold as equalities;
* `switches`: per decision variable y[line], the cells where the line's rows hold only
  if y = 1 — the formulation writes |P|, |Q| ≤ S·y and relaxes its voltage equation by
  a big-M (1 − y) there.

A line that is both a reinforcement candidate and a topology decision is refused
(GRID070): hardening a line that may not be built has no meaning in either seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import xarray as xr
from linopy import Variable

from gridc.compiler.core.builder import Builder
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import LINE, SCENARIO, TIME
from gridc.compiler.families.topology import Topology
from gridc.dsl import ir_planning as P

FLOW_DIMS = (SCENARIO, TIME, LINE)


@dataclass(frozen=True)
class Switch:
    """A line-state decision and the cells whose rows depend on it."""

    name: str  # row-block infix: "reinforced" or "built"
    y: Variable  # [line] 0/1
    mask: xr.DataArray  # [scenario, time, line] bool


@dataclass(frozen=True)
class LineStates:
    on: xr.DataArray  # [scenario, time, line] bool
    fixed: xr.DataArray  # [scenario, time, line] bool
    switches: tuple[Switch, ...]

    def in_service(self) -> xr.DataArray:
        """[scenario, time, line] True where the line is in service at the solution
        (the fixed cells, and each switch's cells where its y was solved to 1)."""
        out = self.fixed
        for sw in self.switches:
            out = out | (sw.mask & (sw.y.solution > 0.5))
        return out.transpose(*FLOW_DIMS)


def line_states(b: Builder, topo: Topology | None, reinforced: Variable | None) -> LineStates:
    """The states of every line (see the module docstring)."""
    u = b.data.availability.transpose(*FLOW_DIMS) > 0.5
    on, fixed = u, u
    switches: list[Switch] = []
    if topo is not None:
        possible = topo.status > 0.0
        on = on & possible
        fixed = fixed & (topo.status == 1.0)
        decided = (on & topo.decided).transpose(*FLOW_DIMS)
        if topo.built is not None and bool(decided.any()):
            switches.append(Switch("built", topo.built, decided))
    if reinforced is not None:
        cand = xr.DataArray(reinforced.upper.values > 0.5, coords=[b.idx.coords[LINE]])
        if topo is not None and bool((cand & topo.decided).any()):
            line = str(b.idx.coords[LINE][(cand & topo.decided).values][0])
            inv = next(i for i in b.model.investments if isinstance(i, P.Reinforcement))
            raise compile_error(b.model, "GRID070", f"line '{line}' is both a reinforcement "
                                "candidate and a topology decision", inv.span,
                                help="reinforce existing lines only; a candidate line of a "
                                "'lines' investment is built new")
        hard = (~u & cand).transpose(*FLOW_DIMS)
        on = (on | cand).transpose(*FLOW_DIMS)
        fixed = fixed & ~hard
        if bool(hard.any()):
            switches.append(Switch("reinforced", reinforced, hard))
    return LineStates(on=on.transpose(*FLOW_DIMS), fixed=fixed.transpose(*FLOW_DIMS),
                      switches=tuple(switches))
