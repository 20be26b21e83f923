"""Real-feeder elements (issue 14, part A): voltage levels, transformers, switches,
shunts, apparent-power ratings as polygons, no hidden default rating, connectivity.

Hand-derived numbers where possible; pandapower (test extra) as the independent AC
reference on a small two-level network of our own.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gridc
from gridc.compiler.core.branches import branches
from gridc.compiler.formulations.ratings import face_angles, overshoot
from gridc.dsl import GridError
from gridc.runtime.status import SolveStatus

TWO_LEVEL = """
{head}
network two_level {{
  base 20 kV 1 MVA
  slack hv at 1.0 pu
  voltage 0.9 .. 1.1 pu
  {polygon}
  buses table {{
    id   vn[kV]  p[kW]  q[kvar]
    hv   20      0      0
    lv1  0.4     0      0
    lv2  0.4     120    40
    lv3  0.4     {p3}     {q3}
  }}
  lines table {{
    from  to   r[ohm]  x[ohm]  b[uS]  rating[kVA]
    lv1   lv2  0.0321  0.0075  28     250
  }}
  transformers table {{
    id  from  to   rating[kVA]  vk[%]  vkr[%]  tap_pos  tap_step[%]
    t1  hv    lv1  400          4.0    1.2     -1       2.5
  }}
  switches table {{
    id  from  to   open
    s1  lv2   lv3  {state}
  }}
  shunts table {{
    bus  q[kvar]
    lv2  30
  }}
}}
"""


def two_level(formulation: str = "lindistflow", state: str = "closed", p3: float = 80,
              q3: float = 30, polygon: str = "") -> str:
    head = f"formulation {formulation}" if formulation != "lindistflow" else ""
    return TWO_LEVEL.format(head=head, state=state, p3=p3, q3=q3, polygon=polygon)


def solve(text: str, name: str = "elements.grid") -> Any:
    problem = gridc.compile(gridc.parse(text, name))
    result = problem.solve(gap=1e-9)
    assert result.status == SolveStatus.optimal, result.message
    return result


# ---------------------------------------------------------------------- per unit


def test_transformer_per_unit_by_hand() -> None:
    """vk 4 %, vkr 1.2 % on 400 kVA, system base 1 MVA: z = 0.04 · 1000/400 = 0.1 pu,
    r = 0.012 · 2.5 = 0.03 pu, x = √(0.1² − 0.03²) = 0.09539 pu; tap −1 × 2.5 % at the HV
    side: τ = 0.975. The 0.4 kV line: Z_base = 0.4² · 1000 / 1000 kVA = 0.16 ohm, so
    r = 0.0321/0.16 = 0.200625 pu; its 28 µS charging is 28e-6 · 0.16 / 2 per end."""
    problem = gridc.compile(gridc.parse(two_level(), "t.grid"))
    br = branches(problem.index)
    assert float(br.r_pu.sel(line="t1")) == pytest.approx(0.03, rel=1e-12)
    assert float(br.x_pu.sel(line="t1")) == pytest.approx(math.sqrt(0.1 ** 2 - 0.03 ** 2))
    assert float(br.tau.sel(line="t1")) == pytest.approx(0.975)
    assert float(br.r_pu.sel(line="lv1-lv2")) == pytest.approx(0.200625)
    assert float(br.b_to.sel(line="lv1-lv2")) == pytest.approx(28e-6 * 0.16 / 2)
    assert float(br.r_pu.sel(line="s1")) == 0.0 and bool(br.switch.sel(line="s1"))
    assert float(br.b_bus.sel(bus="lv2")) == pytest.approx(0.03)


def test_lindistflow_by_hand() -> None:
    """LinDistFlow on the two-level network, by hand. Q through the line: loads 40 + 30
    kvar minus the bank's 30 kvar · w_lv2 (and the line's charging 1.4e-3 kvar · w at each
    end); the transformer carries that plus the lv1 charging. Voltages:
    w_lv1 = 1/τ² − 2(r_t P + x_t Q)/S_b, w_lv2 = w_lv1 − 2(r P + x Q)/S_b, and the closed
    switch equates lv3 with lv2."""
    r = solve(two_level())
    ds = r.dataset
    w = {b: float(ds["bus_w"].sel(bus=b).squeeze()) for b in ("hv", "lv1", "lv2", "lv3")}
    half_b = 28e-6 * 0.16 / 2 * 1000  # kvar at w = 1
    q_line = 70 - 30 * w["lv2"] - half_b * w["lv2"]
    assert float(ds["line_q"].sel(line="lv1-lv2").squeeze()) == pytest.approx(q_line)
    assert float(ds["line_p"].sel(line="lv1-lv2").squeeze()) == pytest.approx(200.0)
    assert float(ds["line_p"].sel(line="s1").squeeze()) == pytest.approx(80.0)
    q_t = q_line - half_b * w["lv1"]
    x_t = math.sqrt(0.1 ** 2 - 0.03 ** 2)
    w1 = 1 / 0.975 ** 2 - 2 * (0.03 * 200 + x_t * q_t) / 1000
    assert w["lv1"] == pytest.approx(w1, abs=1e-12)
    w2 = w1 - 2 * (0.200625 * 200 + 0.046875 * q_line) / 1000
    assert w["lv2"] == pytest.approx(w2, abs=1e-12)
    assert w["lv3"] == pytest.approx(w["lv2"], abs=1e-12)


def test_open_switch_cuts_its_bus_off() -> None:
    """Switch s1 open and no load behind it: the line carries lv2's 120 kW only (and the
    check warns that lv3 is not fed)."""
    model = gridc.parse(two_level(state="open", p3=0, q3=0), "o.grid")
    assert [d.code for d in model.warnings] == ["GRID054"]
    r = gridc.compile(model).solve()
    assert float(r.dataset["line_p"].sel(line="lv1-lv2").squeeze()) == pytest.approx(120.0)
    assert float(r.dataset["line_p"].sel(line="s1").squeeze()) == 0.0


# ---------------------------------------------------------------------- pandapower


def pandapower_two_level() -> np.ndarray:
    """The same network in pandapower (AC, tap changer of type Ratio, shunt q < 0 for a
    capacitor in pandapower's sign), voltages of hv, lv1, lv2, lv3."""
    pp = pytest.importorskip("pandapower")
    net = pp.create_empty_network(sn_mva=1.0, f_hz=50)
    bus = {k: pp.create_bus(net, vn_kv=v, name=k)
           for k, v in (("hv", 20), ("lv1", 0.4), ("lv2", 0.4), ("lv3", 0.4))}
    pp.create_ext_grid(net, bus["hv"], vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, bus["hv"], bus["lv1"], sn_mva=0.4, vn_hv_kv=20, vn_lv_kv=0.4, vk_percent=4.0,
        vkr_percent=1.2, pfe_kw=0, i0_percent=0, tap_pos=-1, tap_neutral=0,
        tap_step_percent=2.5, tap_side="hv", tap_changer_type="Ratio")
    pp.create_line_from_parameters(net, bus["lv1"], bus["lv2"], length_km=1,
                                   r_ohm_per_km=0.0321, x_ohm_per_km=0.0075,
                                   c_nf_per_km=28e-6 / (2 * math.pi * 50) * 1e9, max_i_ka=1)
    pp.create_switch(net, bus["lv2"], bus["lv3"], et="b", closed=True)
    pp.create_shunt(net, bus["lv2"], q_mvar=-0.030, p_mw=0)
    pp.create_load(net, bus["lv2"], p_mw=0.12, q_mvar=0.04)
    pp.create_load(net, bus["lv3"], p_mw=0.08, q_mvar=0.03)
    pp.runpp(net, tolerance_mva=1e-10)
    return np.asarray(net.res_bus.vm_pu.values)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("formulation", ["lindistflow", "distflow"])
def test_against_pandapower(formulation: str) -> None:
    """AC check ≤ 1e-6 pu from pandapower in both; distflow's own voltages ≤ 1e-3 pu;
    LinDistFlow's error is what it is (measured 1.7e-3 pu here), bounded at 5e-3."""
    reference = pandapower_two_level()
    r = solve(two_level(formulation))
    ds = r.dataset
    ac = ds["ac_v"].squeeze().values
    model = np.sqrt(ds["bus_w"].squeeze().values)
    assert np.abs(ac - reference).max() <= 1e-6
    assert r.summary["ac_check"]["verdict"] == "ok"
    error = np.abs(model - reference).max()
    assert error <= (1e-3 if formulation == "distflow" else 5e-3)
    # the AC check's switch flow follows from Kirchhoff's law: lv3's load
    assert float(ds["ac_line_p"].sel(line="s1").squeeze()) == pytest.approx(80.0, abs=1e-6)


# ---------------------------------------------------------------------- ratings


RATED = """
network one {{
  base 10 kV 1 MVA
  slack s
  {polygon}
  buses table {{
    id  p[kW]  q[kvar]
    s   0      0
    a   {p}    {q}
  }}
  lines table {{
    from  to  r[ohm]  x[ohm]  rating[kVA]
    s     a   0.01    0.01    100
  }}
}}
"""


@pytest.mark.parametrize(("polygon", "p", "feasible"), [
    ("", 90, False),  # |S| = 127 kVA: the box (90 ≤ 100) would allow it, the polygon not
    ("", 70, True),  # |S| = 99 kVA
    ("rating_polygon 4", 90, True),  # the old box, stated on purpose
    ("rating_polygon 16 inner", 70.5, False),  # 99.7 kVA > 100·cos(π/16) on the 45° face
])
def test_apparent_power_rating(polygon: str, p: float, feasible: bool) -> None:
    """A 100 kVA line feeding P = Q: with the default 16-sided outer polygon the 45° face
    allows P = Q ≤ 100/√2 = 70.7 kW; the inner one 100·cos(π/16)/√2 = 69.35 kW."""
    problem = gridc.compile(gridc.parse(RATED.format(polygon=polygon, p=p, q=p), "r.grid"))
    result = problem.solve()
    assert (result.status == SolveStatus.optimal) == feasible


def test_no_hidden_default_rating() -> None:
    """A 1 MVA-base model with a 2 MW load on an unrated line solves (it used to take the
    base power as the line's limit and be infeasible)."""
    text = RATED.format(polygon="", p=2000, q=0).replace("  rating[kVA]", "") \
        .replace("0.01    100", "0.01")
    r = solve(text)
    assert float(r.dataset["line_p"].squeeze()) == pytest.approx(2000.0)
    assert r.summary["ratings"]["unrated_branches"] == 1


def test_overshoot_values() -> None:
    assert overshoot(16, "outer") == pytest.approx(1 / math.cos(math.pi / 16) - 1)
    assert overshoot(16, "inner") == 0.0
    assert len(face_angles(16)) == 12 and len(face_angles(4)) == 0


FEEDER = """
formulation {formulation}
network f {{
  base 10 kV 1 MVA
  slack b0
  {polygon}
  buses table {{
    id  p[kW]  q[kvar]
{buses}
  }}
  lines table {{
    from  to  r[ohm]  x[ohm]  rating[kVA]
{lines}
  }}
}}
penalty shed 5 CNY/kWh
price grid 0.5 CNY/kWh
"""


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loads=st.lists(st.tuples(st.integers(1, 300), st.integers(-50, 100)), min_size=1,
                      max_size=4),
       ratings=st.lists(st.integers(40, 400), min_size=4, max_size=4),
       sides=st.sampled_from([8, 12, 16]), fit=st.sampled_from(["outer", "inner"]),
       formulation=st.sampled_from(["lindistflow", "distflow"]))
def test_rating_holds_in_every_solved_feeder(loads: list[tuple[int, int]], ratings: list[int],
                                             sides: int, fit: str, formulation: str) -> None:
    """On random chain feeders with shedding (always feasible: every load can be shed at
    its power factor), every line carries at most
    S·(1 + overshoot) of apparent power at both ends (distflow: the to end is P − rℓ)."""
    # q = p · pct/100, so that shedding (at the load's power factor) can always relieve
    buses = "    b0  0  0\n" + "".join(f"    b{k + 1}  {p}  {p * pct / 100:g}\n"
                                       for k, (p, pct) in enumerate(loads))
    lines = "".join(f"    b{k}  b{k + 1}  0.4  0.3  {ratings[k]}\n" for k in range(len(loads)))
    text = FEEDER.format(formulation=formulation, polygon=f"rating_polygon {sides} {fit}",
                         buses=buses, lines=lines)
    r = gridc.compile(gridc.parse(text, "p.grid")).solve(ac_check=False)
    assert r.status == SolveStatus.optimal
    ds = r.dataset
    s = np.hypot(ds["line_p"].values, ds["line_q"].values)
    limit = np.array(ratings[:len(loads)], float) * (1 + overshoot(sides, fit))
    assert (s <= limit + 1e-6).all()
    if formulation == "distflow":  # the to end: P − r ℓ S_b, Q − x ℓ S_b (r = 0.004 pu)
        ell = ds["line_l"].values * 1000.0
        s_to = np.hypot(ds["line_p"].values - 0.004 * ell, ds["line_q"].values - 0.003 * ell)
        assert (s_to <= limit + 1e-6).all()


# ---------------------------------------------------------------------- checks


def test_unfed_bus_without_load_is_a_warning() -> None:
    text = """
network n {
  base 10 kV 1 MVA
  slack s
  buses table {
    id  p[kW]
    s   0
    a   10
    b   0
  }
  lines table {
    from  to  r[ohm]  x[ohm]
    s     a   0.1     0.1
  }
  switches table {
    id  from  to  open
    k1  a     b   open
  }
}
"""
    model = gridc.parse(text, "w.grid")
    (warning,) = model.warnings
    assert warning.code == "GRID054" and warning.severity == "warning"
    assert "b" in warning.message and "switch 'k1'" in warning.message


def test_transformer_nameplate_is_checked() -> None:
    bad = two_level().replace("4.0    1.2", "1.0    1.2")
    with pytest.raises(GridError) as err:
        gridc.parse(bad, "t.grid")
    assert [d.code for d in err.value.diagnostics] == ["GRID023"]


RECONFIGURE = """
formulation distflow
network n {
  base 10 kV 1 MVA
  slack s
  buses table {
    id  p[kW]  q[kvar]
    s   0      0
    a   100    20
    b   100    20
  }
  lines table {
    from  to  r[ohm]  x[ohm]
    s     a   1.0     1.0
    s     b   4.0     4.0
  }
  switches table {
    id  from  to  open
    k   a     b   open
  }
}
invest switching : lines {
  candidates table {
    from  to
    a     b
    s     b
  }
  install 0 CNY/km
  life 30 y
  radial
}
study reconfig { objective losses }
"""


def test_reconfiguration_closes_a_switch() -> None:
    """Feeding b through the closed switch k (losses 0.01 pu × 0.0416 pu² ≈ 0.416 kW)
    beats the 4-ohm line s-b (0.01 × 0.0104 + 0.04 × 0.0104 = 0.52 kW): the radial
    reconfiguration closes k, opens s-b, and the AC check finds b's 100 kW in k."""
    problem = gridc.compile(gridc.parse(RECONFIGURE, "k.grid"), study="reconfig")
    r = problem.solve()
    assert r.status == SolveStatus.optimal
    built = dict(zip(r.dataset["line"].values, r.dataset["line_built"].values, strict=True))
    assert built["k"] == pytest.approx(1.0) and built["s-b"] == pytest.approx(0.0, abs=1e-9)
    assert float(r.dataset["ac_line_p"].sel(line="k").squeeze()) == pytest.approx(100.0,
                                                                                 abs=1e-6)
    assert r.objective == pytest.approx(0.416, rel=0.02)


def test_cable_charging_can_flow_back_to_the_slack() -> None:
    """The flow big-M (`compiler.formulations.flow.flow_cap`) counts cable charging: a
    cable charging more than the load behind it solves under DistFlow, as under
    LinDistFlow (it was infeasible when the big-M left charging out)."""
    path = Path(__file__).resolve().parent / "models" / "charging" / "backflow.grid"
    model = gridc.load(path)
    for study in ("base", "linear"):
        result = gridc.compile(model, study=study).solve(threads=1, ac_check=False)
        assert result.status.value == "optimal", (study, result.message)
