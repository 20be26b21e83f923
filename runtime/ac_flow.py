"""The AC power flow behind the AC check: many snapshots at once, vectorised.

Split from `runtime.ac_check` (which reads a solved model into it and reports): this
module knows only per-unit networks. Branches are MATPOWER branches — an ideal
transformer of real ratio τ at the from end, then the series impedance z — with shunt
admittances at their ends while in service (half the cable charging at each end, a
transformer's magnetising branch at its HV end), plus constant-admittance bus shunts
(capacitor banks, reactors). Closed zero-impedance switches fuse their buses (as
pandapower does for bus-bus switches): the fused group is solved as one node, every
member gets its voltage, and the switch currents follow from Kirchhoff's current law
on the switch graph (exact for switch trees; least squares within a switch mesh).

The snapshots are stacked into one network of disconnected copies (snapshot n's bus b
is node n·B + b), so one graph search, one sweep or one sparse Jacobian serves them all
and no Python loop runs over scenarios, steps or buses. Radial supplied parts: the
backward/forward sweep level by level (`_sweep`); meshed ones, and any whose sweep does
not converge, Newton-Raphson in polar form (sparse Jacobian, SuperLU).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components, shortest_path
from scipy.sparse.linalg import lsqr, spsolve

#: convergence: the largest voltage change of a sweep, or the largest power mismatch of
#: a Newton step, in p.u. (pandapower's default is 1e-8 MVA; the reference tests ask 1e-6)
TOL_PU = 1e-10
MAX_SWEEPS = 200
MAX_NEWTON = 30
#: `ac_bus_state` flags and `ac_method` codes
NOT_SUPPLIED, FROM_SLACK, ISLAND, ISLAND_REF = 0, 1, 2, 3
SWEEP, NEWTON, FAILED = 0, 1, -1


@dataclass(frozen=True)
class AcNetwork:
    """A network in per unit: branches `fr[k] → to[k]` (bus positions) with series
    impedance `z[k]` [p.u.] (0 for a switch), real ratio `tau[k]` at the from end,
    end shunt admittances `y_from[k]`, `y_to[k]` while in service, bus shunts `y_bus[b]`
    (admittance, + j·b capacitive), `switch[k]` zero-impedance switches; the slack's
    position. Omitted arrays mean plain lines (τ = 1, no shunts, no switches)."""

    fr: np.ndarray
    to: np.ndarray
    z: np.ndarray
    slack: int
    tau: np.ndarray | None = None
    y_from: np.ndarray | None = None
    y_to: np.ndarray | None = None
    y_bus: np.ndarray | None = None
    switch: np.ndarray | None = None

    def arrays(self, nb: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                       np.ndarray]:
        """(tau, y_from, y_to, y_bus, switch) with the defaults filled in."""
        nl = self.fr.size
        return (np.ones(nl) if self.tau is None else self.tau,
                np.zeros(nl, complex) if self.y_from is None else self.y_from,
                np.zeros(nl, complex) if self.y_to is None else self.y_to,
                np.zeros(nb, complex) if self.y_bus is None else self.y_bus,
                np.zeros(nl, bool) if self.switch is None else self.switch)


@dataclass(frozen=True)
class AcFlow:
    """The AC state of N snapshots: complex voltages [N, B] (NaN where not supplied or
    not converged), `state` [N, B] (`ac_bus_state` flags), `method` [N], and per branch
    [N, L] (0 out of service) the current leaving the from bus into the branch
    (`current`) and the current arriving at the to bus (`current_to`), both [p.u.]
    and including the end shunts."""

    v: np.ndarray
    state: np.ndarray
    method: np.ndarray
    current: np.ndarray
    iterations: dict[str, int]
    current_to: np.ndarray | None = None


def _fuse(ef: np.ndarray, et: np.ndarray, is_sw: np.ndarray, nodes: int,
          first_choice: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """The node each node is solved as: closed switches join their ends into groups,
    each represented by its slack node if it has one (`first_choice`), else the node
    of largest `rank` (local supply)."""
    rep = np.arange(nodes)
    if not is_sw.any():
        return rep
    graph = sp.coo_matrix((np.ones(int(is_sw.sum())), (ef[is_sw], et[is_sw])),
                          shape=(nodes, nodes))
    _, group = connected_components(graph, directed=False)
    order = np.lexsort((rep, -rank, ~first_choice, group))
    first = order[np.r_[0, np.flatnonzero(np.diff(group[order])) + 1]]
    rep_of = np.empty(int(group.max()) + 1, np.int64)
    rep_of[group[first]] = first
    return rep_of[group]


def power_flow(net: AcNetwork, s: np.ndarray, on: np.ndarray, v_set: np.ndarray,
               supply: np.ndarray, active: np.ndarray) -> AcFlow:
    """The AC power flow of N snapshots at once.

    `s` [N, B]: net complex injection [p.u.], generation positive (the slack's is
    ignored); `on` [N, L]: branches in service; `v_set` [N, B]: the voltage magnitude a
    reference bus holds; `supply` [N, B]: local supply (any unit) that ranks an island's
    candidates for its reference bus; `active` [N, B]: the bus serves load (an island
    whose buses neither inject nor serve load is not supplied)."""
    n, nb = s.shape
    tau_all, yf_all, yt_all, y_bus, switch = net.arrays(nb)
    snap, line = np.nonzero(on)
    ef_all, et_all = snap * nb + net.fr[line], snap * nb + net.to[line]
    nodes = n * nb
    slack_nodes = np.arange(n) * nb + net.slack
    is_slack = np.zeros(nodes, bool)
    is_slack[slack_nodes] = True
    # shunts per node: the bus shunts and the end shunts of the branches in service
    y_node = np.tile(y_bus.astype(complex), n)
    np.add.at(y_node, ef_all, yf_all[line])
    np.add.at(y_node, et_all, yt_all[line])
    is_sw = switch[line]
    rep = _fuse(ef_all, et_all, is_sw, nodes, is_slack, supply.ravel())
    s_node = s.ravel().astype(complex)
    s_flat = np.zeros(nodes, complex)
    y_flat = np.zeros(nodes, complex)
    np.add.at(s_flat, rep, s_node)
    np.add.at(y_flat, rep, y_node)
    supply_f = np.bincount(rep, weights=supply.ravel(), minlength=nodes)
    active_f = np.bincount(rep, weights=active.ravel(), minlength=nodes) > 0
    series = ~is_sw & (rep[ef_all] != rep[et_all])
    ef, et = rep[ef_all[series]], rep[et_all[series]]
    z_on, tau_on = net.z[line[series]], tau_all[line[series]]

    graph = sp.coo_matrix((np.ones(ef.size), (ef, et)), shape=(nodes, nodes))
    ncomp, label = connected_components(graph, directed=False)
    has_slack = np.zeros(ncomp, bool)
    has_slack[label[slack_nodes]] = True
    busy = (np.abs(s_flat) > 0.0) | active_f
    live_comp = has_slack | (np.bincount(label, weights=busy, minlength=ncomp) > 0)
    # the reference of each component: the slack, else its largest local supply
    order = np.lexsort((-supply_f, label))
    first = order[np.r_[0, np.flatnonzero(np.diff(label[order])) + 1]]
    ref_of = np.empty(ncomp, np.int64)
    ref_of[label[first]] = first
    ref_of[label[slack_nodes]] = slack_nodes
    live = live_comp[label] & (rep == np.arange(nodes))
    is_ref = np.zeros(nodes, bool)
    is_ref[ref_of[live_comp]] = True
    state = np.where(live, np.where(has_slack[label], FROM_SLACK, ISLAND), NOT_SUPPLIED)
    state[is_ref & ~has_slack[label]] = ISLAND_REF
    # meshed snapshots: a supplied component with more branches than a tree
    edges = np.bincount(label[ef], minlength=ncomp)
    meshed_comp = live_comp & (edges > np.bincount(label, weights=live, minlength=ncomp)
                               .astype(np.int64) - 1)
    meshed = np.zeros(n, bool)
    meshed[ref_of[meshed_comp] // nb] = True

    v0 = v_set.ravel()[ref_of[label]].astype(complex)  # flat start at the reference
    v = np.full(nodes, np.nan, complex)
    method = np.where(meshed, NEWTON, SWEEP)
    iterations = {"sweep": 0, "newton": 0}
    snap_of = np.arange(nodes) // nb
    radial = live & ~meshed[snap_of]
    branch = (ef, et, z_on, tau_on, y_flat)
    if radial.any():
        v_r, ok, iterations["sweep"] = _sweep(radial, is_ref, branch, s_flat, v0, nb, n)
        v[radial] = v_r[radial]
        method[~ok] = NEWTON  # a sweep that did not converge: Newton tries
    to_newton = live & (method == NEWTON)[snap_of]
    if to_newton.any():
        v_n, ok, iterations["newton"] = _newton(to_newton, is_ref, branch, s_flat, v0, nb, n)
        v[to_newton] = v_n[to_newton]
        method[~ok] = FAILED
    v[~live | (method == FAILED)[snap_of]] = np.nan
    v = v[rep]  # fused buses share their group's voltage
    state = state[rep]
    i_from, i_to = _branch_currents(v, ef_all, et_all, line, is_sw, net.z, tau_all, yf_all,
                                    yt_all, on.shape)
    if is_sw.any():
        _switch_currents(i_from, i_to, v, s_node, y_node, rep, snap, line, ef_all, et_all,
                         is_sw, nodes)
    return AcFlow(v=v.reshape(n, nb), state=state.reshape(n, nb).astype(np.int8),
                  method=method.astype(np.int8), current=i_from, iterations=iterations,
                  current_to=i_to)


def _branch_currents(v: np.ndarray, ef: np.ndarray, et: np.ndarray, line: np.ndarray,
                     is_sw: np.ndarray, z: np.ndarray, tau: np.ndarray, yf: np.ndarray,
                     yt: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """[N, L] currents of the series branches in service: into the branch at the
    from bus, J/τ + y_from·V_from, and out of it at the to bus, J − y_to·V_to, with
    J = (V_from/τ − V_to)/z; 0 where not supplied. Switches are filled in later."""
    i_from = np.zeros(shape, complex)
    i_to = np.zeros(shape, complex)
    ser = ~is_sw
    vf, vt = v[ef[ser]], v[et[ser]]
    k = line[ser]
    with np.errstate(invalid="ignore", divide="ignore"):
        j = (vf / tau[k] - vt) / z[k]
        a = j / tau[k] + yf[k] * vf
        b = j - yt[k] * vt
    snap = (ef[ser] // (v.size // shape[0]))
    ok = np.isfinite(a) & np.isfinite(b)
    i_from[snap[ok], k[ok]] = a[ok]
    i_to[snap[ok], k[ok]] = b[ok]
    return i_from, i_to


def _switch_currents(i_from: np.ndarray, i_to: np.ndarray, v: np.ndarray, s: np.ndarray,
                     y: np.ndarray, rep: np.ndarray, snap: np.ndarray, line: np.ndarray,
                     ef: np.ndarray, et: np.ndarray, is_sw: np.ndarray, nodes: int) -> None:
    """Currents of closed switches by Kirchhoff's current law at their buses: what a
    bus injects (conj(S/V) − y·V) minus what its series branches take must leave through
    its switches. One row per switched bus but each group's representative (whose
    injection, the slack's, is the AC result), so a switch tree is square and exact;
    a switch mesh is solved in the least-squares sense (lsqr)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        inject = np.conj(s / v) - y * v
    ser = ~is_sw
    snap_s, k_s = snap[ser], line[ser]
    out = np.zeros(nodes, complex)
    np.add.at(out, ef[ser], i_from[snap_s, k_s])
    np.add.at(out, et[ser], -i_to[snap_s, k_s])
    rest = np.nan_to_num(inject - out)
    sw_from, sw_to = ef[is_sw], et[is_sw]
    touched = np.unique(np.r_[sw_from, sw_to])
    rows = touched[(rep[touched] != touched) & np.isfinite(v[touched])]
    if not rows.size:
        return
    pos = np.full(nodes, -1, np.int64)
    pos[rows] = np.arange(rows.size)
    m = int(is_sw.sum())
    cols = np.arange(m)
    keep_f, keep_t = pos[sw_from] >= 0, pos[sw_to] >= 0
    a = sp.csr_matrix((np.r_[np.ones(int(keep_f.sum())), -np.ones(int(keep_t.sum()))],
                       (np.r_[pos[sw_from][keep_f], pos[sw_to][keep_t]],
                        np.r_[cols[keep_f], cols[keep_t]])), shape=(rows.size, m))
    rhs = rest[rows]
    if rows.size == m:
        sol = spsolve(a.tocsc(), rhs.real) + 1j * spsolve(a.tocsc(), rhs.imag)
    else:
        sol = (lsqr(a, rhs.real, atol=1e-14, btol=1e-14)[0]
               + 1j * lsqr(a, rhs.imag, atol=1e-14, btol=1e-14)[0])
    sol = np.atleast_1d(sol)
    i_from[snap[is_sw], line[is_sw]] = sol
    i_to[snap[is_sw], line[is_sw]] = sol


def _per_snapshot(values: np.ndarray, nodes: np.ndarray, nb: int, n: int) -> np.ndarray:
    """The largest of `values` (at `nodes`) per snapshot; NaN counts as infinite."""
    out = np.zeros(n)
    np.maximum.at(out, nodes // nb, np.where(np.isfinite(values), values, np.inf))
    return out


def _local(mask: np.ndarray, is_ref: np.ndarray, branch: tuple[np.ndarray, ...]
           ) -> tuple[np.ndarray, ...]:
    """The nodes of `mask`, their non-reference part, and the branches among them with
    their ends as positions in the node list: (sel, pq, f, t, z, tau, y_node)."""
    ef, et, z, tau, y_node = branch
    sel = np.flatnonzero(mask)
    pos = np.full(mask.size, -1, np.int64)
    pos[sel] = np.arange(sel.size)
    keep = mask[ef]  # both ends lie in one component
    pq = np.flatnonzero(~is_ref[sel])
    return sel, pq, pos[ef[keep]], pos[et[keep]], z[keep], tau[keep], y_node[sel]


def _sweep(mask: np.ndarray, is_ref: np.ndarray, branch: tuple[np.ndarray, ...],
           s: np.ndarray, v0: np.ndarray, nb: int, n: int
           ) -> tuple[np.ndarray, np.ndarray, int]:
    """Backward/forward sweep of the radial nodes `mask`, every snapshot at once.

    One breadth-first search from a virtual root joined to every reference orients
    each tree: a bus's parent, the branch to it and its depth. The backward sweep adds
    the currents the buses draw, −conj(S / V) + y·V (shunts), up the trees one depth
    level at a time (deepest first), each branch passing k·J to its parent; the
    forward sweep walks the levels down, V_child = α·V_parent − β·J. For a branch whose
    child is its to end: k = α = 1/τ, β = z; child at its from end: k = α = τ, β = τ²z
    (τ = 1 for lines). Returns the voltages (at `mask`), which snapshots converged,
    and the sweeps run."""
    sel, pq, f, t, z, tau, y_sh = _local(mask, is_ref, branch)
    size = sel.size
    refs = np.flatnonzero(is_ref[sel])
    graph = sp.coo_matrix((np.ones(f.size + refs.size), (np.r_[f, np.full(refs.size, size)],
                                                          np.r_[t, refs])),
                          shape=(size + 1, size + 1)).tocsr()
    _, pred = breadth_first_order(graph, size, directed=False)
    depth = shortest_path(graph, directed=False, unweighted=True, indices=size)[:-1]
    down = pred[t] == f  # the child is the to end
    child = np.where(down, t, f)  # each branch's end away from the reference
    k_up = np.ones(size)
    alpha = np.ones(size)
    beta = np.zeros(size, complex)
    k_up[child] = np.where(down, 1.0 / tau, tau)
    alpha[child] = k_up[child]
    beta[child] = np.where(down, z, tau ** 2 * z)
    ranked = pq[np.argsort(depth[pq], kind="stable")]
    cuts = np.flatnonzero(np.diff(depth[ranked])) + 1
    levels = np.split(ranked, cuts)  # non-reference buses by depth, shallowest first
    parent = pred[:size]
    v = v0[sel].copy()
    injected = s[sel]
    nodes = sel[pq]
    ok = np.ones(n, bool)
    sweeps = 0
    with np.errstate(all="ignore"):
        while pq.size and sweeps < MAX_SWEEPS:
            sweeps += 1
            current = -np.conj(injected / v) + y_sh * v  # drawn by each bus, then subtree
            current[refs] = 0.0
            for level in levels[:0:-1]:  # deepest first; the first level hangs off refs
                np.add.at(current, parent[level], k_up[level] * current[level])
            before = v[pq]
            for level in levels:
                v[level] = alpha[level] * v[parent[level]] - beta[level] * current[level]
            change = _per_snapshot(np.abs(v[pq] - before), nodes, nb, n)
            ok = change < TOL_PU
            if (ok | ~np.isfinite(change) | (change > 1e3)).all():
                break
    out = np.full(mask.size, np.nan, complex)
    out[sel] = v
    return out, ok, sweeps


def _newton(mask: np.ndarray, is_ref: np.ndarray, branch: tuple[np.ndarray, ...],
            s: np.ndarray, v0: np.ndarray, nb: int, n: int
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Newton-Raphson in polar form on the nodes `mask` (every snapshot at once, one
    sparse Jacobian): references hold their voltage, every other bus its injection.
    Branch admittances y/τ², −y/τ, −y/τ, y (MATPOWER) plus the shunts on the diagonal.
    Returns the voltages (at `mask`), which snapshots converged, and the steps run."""
    sel, pq, f, t, z, tau, y_sh = _local(mask, is_ref, branch)
    y = 1.0 / z
    size = sel.size
    idx = np.arange(size)
    ybus = sp.csr_matrix((np.r_[y / tau ** 2, y, -y / tau, -y / tau, y_sh],
                          (np.r_[f, t, f, t, idx], np.r_[f, t, t, f, idx])),
                         shape=(size, size))
    v = v0[sel].copy()
    load = s[sel]
    nodes = sel[pq]
    npq = pq.size
    ok = np.zeros(n, bool)
    steps = 0
    with np.errstate(all="ignore"):
        for steps in range(MAX_NEWTON + 1):
            current = ybus @ v
            mismatch = (v * np.conj(current) - load)[pq]
            worst = _per_snapshot(np.abs(mismatch), nodes, nb, n)
            ok = worst < TOL_PU
            if ok.all() or steps == MAX_NEWTON or not np.isfinite(worst).any():
                break
            vd = sp.diags(v)
            vn = sp.diags(v / np.abs(v))
            d_vm = vd @ np.conj(ybus @ vn) + sp.diags(np.conj(current)) @ vn
            d_va = 1j * vd @ np.conj(sp.diags(current) - ybus @ vd)
            d_vm, d_va = d_vm.tocsr()[pq][:, pq], d_va.tocsr()[pq][:, pq]
            jac = sp.bmat([[d_va.real, d_vm.real], [d_va.imag, d_vm.imag]], format="csc")
            step = spsolve(jac, -np.r_[mismatch.real, mismatch.imag])
            angle, mag = np.angle(v), np.abs(v)
            angle[pq] += step[:npq]
            mag[pq] += step[npq:]
            v = mag * np.exp(1j * angle)
            lost = ~np.isfinite(v)  # a diverging snapshot restarts flat (and fails)
            v[lost] = v0[sel][lost]
    out = np.full(mask.size, np.nan, complex)
    out[sel] = v
    return out, ok, steps


