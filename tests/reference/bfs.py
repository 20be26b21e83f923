"""Backward/forward sweep (BFS) AC power flow for radial distribution feeders.

An independent reference, written from scratch with numpy only: it shares no code with
gridc and takes plain arrays, so that it can judge gridc's LinDistFlow results.

Model: balanced single-phase equivalent, series branch impedances r + jx (no shunts),
constant-power loads S_i = p_i + j q_i, and a slack bus of fixed complex voltage. In per
unit (base kV and base MVA) one iteration is

    backward  I_load,i = conj(S_i / V_i),  I_branch = I_load(to) + sum of child branches
    forward   V_to = V_from - Z_branch * I_branch     (from the slack outwards)

repeated until no bus voltage moves by more than `tol` (1e-10 pu by default).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BfsResult:
    """A converged power flow; arrays follow the order of `buses` / of the branches."""

    buses: tuple[Hashable, ...]
    v: np.ndarray          # complex bus voltages, pu
    s_from: np.ndarray     # complex power entering each branch at its sending end, MVA
    s_to: np.ndarray       # complex power leaving each branch at its receiving end, MVA
    s_slack: complex       # complex power injected by the slack, MVA
    iterations: int

    @property
    def vm(self) -> np.ndarray:
        """Voltage magnitudes, pu."""
        return np.abs(self.v)

    @property
    def va_deg(self) -> np.ndarray:
        """Voltage angles, degrees."""
        return np.degrees(np.angle(self.v))

    @property
    def losses_mw(self) -> float:
        """Total active series losses, MW."""
        return float(np.sum(self.s_from.real - self.s_to.real))

    def vm_of(self, bus: Hashable) -> float:
        return float(self.vm[self.buses.index(bus)])


class NotRadialError(ValueError):
    """The branches do not form a tree spanning every bus from the slack."""


def bfs_power_flow(
    buses: Sequence[Hashable],
    p_mw: Sequence[float],
    q_mvar: Sequence[float],
    from_bus: Sequence[Hashable],
    to_bus: Sequence[Hashable],
    r_ohm: Sequence[float],
    x_ohm: Sequence[float],
    base_kv: float,
    slack: Hashable,
    *,
    v_slack: complex = 1.0,
    base_mva: float = 1.0,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> BfsResult:
    """Solve the AC power flow of a radial feeder by backward/forward sweep.

    `buses` lists every bus once; `p_mw`, `q_mvar` are the loads at those buses
    (consumption positive). Branches are `from_bus[k] -> to_bus[k]` with series
    impedance `r_ohm[k] + j x_ohm[k]`; their direction need not point away from the
    slack. The branches must form a spanning tree (the in-service, radial topology).
    """
    buses = tuple(buses)
    n, m = len(buses), len(from_bus)
    pos = {b: i for i, b in enumerate(buses)}
    if len(pos) != n:
        raise ValueError("duplicate bus ids")
    if m != n - 1:
        raise NotRadialError(f"{n} buses need {n - 1} branches for a tree, got {m}")
    z_base = base_kv**2 / base_mva
    z = (np.asarray(r_ohm, float) + 1j * np.asarray(x_ohm, float)) / z_base
    s_load = (np.asarray(p_mw, float) + 1j * np.asarray(q_mvar, float)) / base_mva

    # Orient the tree from the slack: parent bus and parent branch of every bus, and
    # an order in which every bus comes after its parent (breadth-first).
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k, (f, t) in enumerate(zip(from_bus, to_bus)):
        i, j = pos[f], pos[t]
        adj[i].append((j, k))
        adj[j].append((i, k))
    root = pos[slack]
    parent = np.full(n, -1)
    parent_branch = np.full(n, -1)
    order = [root]
    seen = np.zeros(n, bool)
    seen[root] = True
    for i in order:  # the list grows while it is walked: breadth-first search
        for j, k in adj[i]:
            if not seen[j]:
                seen[j] = True
                parent[j], parent_branch[j] = i, k
                order.append(j)
    if len(order) != n:
        raise NotRadialError("the branches do not connect every bus to the slack")
    down = order[1:]          # every non-slack bus, parents first
    up = down[::-1]           # leaves first

    v = np.full(n, complex(v_slack))
    i_branch = np.zeros(n, complex)  # current into bus j through its parent branch
    iterations = 0
    while True:
        iterations += 1
        # backward sweep: accumulate branch currents from the leaves to the slack
        i_branch[:] = np.conj(s_load / v)
        i_branch[root] = 0.0
        for j in up:
            if parent[j] != root:
                i_branch[parent[j]] += i_branch[j]
        # forward sweep: voltage drops from the slack outwards
        v_new = v.copy()
        for j in down:
            v_new[j] = v_new[parent[j]] - z[parent_branch[j]] * i_branch[j]
        delta = np.max(np.abs(v_new - v))
        v = v_new
        if delta < tol:
            break
        if iterations >= max_iter:
            raise RuntimeError(f"BFS did not converge in {max_iter} iterations "
                               f"(last change {delta:.2e} pu)")

    # branch flows at the final voltages, oriented as given (from -> to)
    i_branch[:] = np.conj(s_load / v)
    i_branch[root] = 0.0
    for j in up:
        if parent[j] != root:
            i_branch[parent[j]] += i_branch[j]
    s_from = np.zeros(m, complex)
    s_to = np.zeros(m, complex)
    for j in down:
        k, i = parent_branch[j], parent[j]
        s_send = v[i] * np.conj(i_branch[j])      # leaving the parent
        s_recv = v[j] * np.conj(i_branch[j])      # arriving at the child
        if pos[from_bus[k]] == i:
            s_from[k], s_to[k] = s_send, s_recv
        else:  # branch written child -> parent: flows are negative in its direction
            s_from[k], s_to[k] = -s_recv, -s_send
    s_slack = complex(s_load[root] + sum(
        v[root] * np.conj(i_branch[j]) for j in down if parent[j] == root))
    return BfsResult(buses=buses, v=v, s_from=s_from * base_mva, s_to=s_to * base_mva,
                     s_slack=s_slack * base_mva, iterations=iterations)
