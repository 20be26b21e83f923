"""Topology as a decision (`compiler.families.topology`) and the Baran–Wu reconfiguration.

* candidate lines: a candidate with the bus pair of a network line is that line made
  switchable; a new one gets length × cable impedance, the length from the coordinates;
* radiality: with negligible load the cheapest network is the minimum spanning tree of the
  candidate lengths (computed independently with scipy), and the built lines always form a
  spanning tree (N − 1 lines, connected);
* validation (must hold): all 37 lines of the 33-bus feeder switchable at zero cost,
  minimum losses, reproduce the published optimum — open 7-8, 9-10, 14-15, 32-33, 25-29,
  139.5 kW against 202.7 kW with the ties open — and the losses agree with pandapower's AC
  power flow of the same configuration.

Tolerance of the pandapower comparison. DistFlow with ℓ = |I|² is the exact AC model of a
radial network without shunts (case33bw has none), so the only differences are the cone
relaxation (exact when tight, which loss minimisation makes it) and the polygon: with ν = 10
levels the rotated cone is dilated by ≤ 9.4e-6, which lets each ℓ undershoot by at most about
(k − 1)/4 ≈ 2.4e-6 p.u., i.e. Σ r_pu · 2.4e-6 · 10 MVA ≈ 0.03 kW over the feeder (0.02 %).
pandapower's Newton–Raphson stops at 1e-8 MVA. The test allows 0.1 % on the losses and
2e-4 p.u. on the voltages: four times the approximation's worst case, and far below what a
wrong topology (0.3 kW to the next-best configuration) or a formulation error would move.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

import gridc
from gridc.compiler.families.topology import expand_network
from gridc.dsl import load, parse
from gridc.dsl.diagnostics import GridError

MODELS = Path(__file__).resolve().parents[1] / "models"
PUBLISHED_OPEN = {"7-8", "9-10", "14-15", "32-33", "25-29"}

# a small planning area: 6 buses with coordinates, a meshed set of candidates
SMALL = """
model small "topology test"
horizon 1 h step 1 h
price grid 0.5 CNY/kWh
network n {
  base 10 kV 10 MVA
  slack a at 1.0 pu
  voltage 0.9 .. 1.1 pu
  cable_r 0.4 ohm/km
  cable_x 0.325 ohm/km
  buses table {
    id  p[kW]  x[km]  y[km]
    a   0      0      0
    b   1      1      0
    c   1      2      0
    d   1      0      1
    e   1      1      1.2
    f   1      2.1    1
  }
}
invest net : lines {
  candidates table {
    from  to
    a     b
    b     c
    a     d
    d     e
    e     f
    b     e
    c     f
    a     e
    b     f
  }
  install 500 kCNY/km
  maintain 1 kCNY/km/y
  life 30 y
  radial
}
"""


def _solve(text: str, study: str | None = None) -> gridc.Result:  # type: ignore[name-defined]
    model = parse(text, "small.grid") if "\n" in text else load(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gridc.compile(model, study=study).solve()


def test_candidate_matching_a_network_line_is_that_line() -> None:
    model = load(MODELS / "ieee33_reconfig.grid")
    expanded, cands = expand_network(model)
    assert len(cands) == 37 and not any(c.new for c in cands)
    lines = {ln.id: ln for ln in expanded.network().lines}
    assert len(lines) == 37  # nothing added
    assert not lines["25-29"].normally_open and lines["25-29"].switchable
    assert lines["7-8"].r_ohm == pytest.approx(0.7114)


def test_new_line_length_and_impedance_from_coordinates() -> None:
    model = load(MODELS / "css_adn_area.grid")
    expanded, cands = expand_network(model)
    assert all(c.new for c in cands) and len(cands) == 31
    line = next(ln for ln in expanded.network().lines if ln.id == "8-5")
    length = math.hypot(3.0 - 1.7, 2.0 - 2.1)
    assert line.length_km == pytest.approx(length)
    assert line.r_ohm == pytest.approx(0.4 * length)
    assert line.x_ohm == pytest.approx(0.325 * length)


def test_priced_candidate_without_length_is_an_error() -> None:
    text = SMALL.replace("id  p[kW]  x[km]  y[km]", "id  p[kW]")
    text = re.sub(r"^(    \w   \d+)\s+[\d.]+\s+[\d.]+$", r"\1", text, flags=re.M)
    with pytest.raises(GridError) as err:
        gridc.compile(parse(text, "small.grid"))
    assert err.value.diagnostics[0].code == "GRID012"


def test_cheapest_radial_network_is_the_minimum_spanning_tree() -> None:
    model = parse(SMALL, "small.grid")
    result = _solve(SMALL)
    assert result.ok
    adn = result.summary["network"]
    built = adn["lines_built"]
    buses = [b.id for b in model.network().buses]
    pos = {b: k for k, b in enumerate(buses)}
    coords = {b.id: (b.x_km, b.y_km) for b in model.network().buses}
    cand = [(c.from_bus, c.to_bus) for c in model.investments[0].candidates]  # type: ignore[union-attr]
    # a spanning tree: N - 1 lines, one component
    assert len(built) == len(buses) - 1
    fr = [pos[ln.split("-")[0]] for ln in built]
    to = [pos[ln.split("-")[1]] for ln in built]
    graph = coo_matrix((np.ones(len(fr)), (fr, to)), shape=(len(buses),) * 2)
    assert connected_components(graph, directed=False)[0] == 1
    # the loads are tiny (1 kW each): the line cost decides, i.e. the MST of the lengths
    w = np.zeros((len(buses),) * 2)
    for f, t in cand:
        w[pos[f], pos[t]] = math.dist(coords[f], coords[t])
    mst = float(minimum_spanning_tree(w).sum())
    assert adn["line_km"] == pytest.approx(mst, rel=1e-6)


def test_existing_candidate_stays_built() -> None:
    # a-b is already there (and long detours would otherwise avoid it: make it costly)
    text = SMALL.replace("    from  to\n", "    from  to  existing\n")
    rows = ["a     b", "b     c", "a     d", "d     e", "e     f", "b     e", "c     f",
            "a     e", "b     f"]
    for row in rows:
        text = text.replace(f"    {row}\n", f"    {row}  {'yes' if row == 'b     f' else 'no'}\n")
    result = _solve(text)
    assert result.ok
    assert "b-f" not in result.summary["network"]["lines_open"]
    assert len(result.summary["network"]["lines_built"]) == 4  # b-f is on but not a decision


def _pandapower_losses(open_lines: set[str]) -> tuple[float, np.ndarray]:
    pp = pytest.importorskip("pandapower")
    import pandapower.networks as pn

    net = pn.case33bw()
    net.line["in_service"] = True
    opened = {frozenset(x.split("-")) for x in open_lines}
    for k, row in net.line.iterrows():
        if frozenset((str(int(row.from_bus) + 1), str(int(row.to_bus) + 1))) in opened:
            net.line.at[k, "in_service"] = False
    assert int((~net.line.in_service).sum()) == len(open_lines)
    pp.runpp(net, tolerance_mva=1e-8)
    return float(net.res_line.pl_mw.sum() * 1000.0), net.res_bus.vm_pu.to_numpy()


@pytest.mark.parametrize("study", ["reconfig", "base"])
def test_reconfiguration_reproduces_the_published_optimum(study: str) -> None:
    result = _solve(str(MODELS / "ieee33_reconfig.grid"), study)
    assert result.ok
    adn, cone = result.summary["network"], result.summary["cone"]
    losses = result.objective
    if study == "reconfig":
        assert set(adn["lines_open"]) == PUBLISHED_OPEN
        assert losses == pytest.approx(139.5, abs=0.15)  # Baran & Wu / Goswami & Basu
        open_lines = PUBLISHED_OPEN
    else:
        assert losses == pytest.approx(202.7, abs=0.1)
        open_lines = {"8-21", "9-15", "12-22", "18-33", "25-29"}
    ac, vm = _pandapower_losses(open_lines)
    assert losses == pytest.approx(ac, rel=1e-3)
    assert cone["loss_error"] == pytest.approx(0.0, abs=1e-3)
    assert abs(cone["loss_exact_kwh"] - ac) / ac < 1e-3
    v = np.sqrt(result.dataset["bus_w"].isel(scenario=0, time=0).values)
    assert np.abs(v - vm).max() < 2e-4
