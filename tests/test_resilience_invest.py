"""Seed 000 investments in extensive form, on a 3-bus feeder with hand-computed optima.

Feeder 1 -(1-2)- 2 -(2-3)- 3, slack at 1, 4 steps of 1 h, free grid energy, loads without
reactive power, discount 0 % so that PVF = life = 10 years and one day a year: every
CNY of a daily cost weighs 10 CNY in the objective. Each case below is built so that the
optimum can be read off by hand:

* MESS: line 2-3 is out all day, bus 3 (50 kW) is an island. A unit (install 10 kCNY,
  100 kW, 400 kWh, full at the start, lossless) leaves the depot (bus 1) at t = 0, spends
  one step on the road and supplies bus 3 from t = 1: it saves 3 h × 50 kW = 150 kWh a
  day, worth 10 × 150 × δ. Break-even δ = 10000 / 1500 = 6.67 CNY/kWh: bought at
  δ = 10, not at δ = 5.
* EV-RB: lines 1-2 and 2-3 are out, buses 2 and 3 are islands. The site at bus 3 holds
  200 kWh; its power is min(piles · 30, EVs · 20) kW: 2 EVs / 3 piles → 40 kW (EV bound),
  5 EVs / 1 pile → 30 kW (pile bound). The 0-pack site at bus 2 gives nothing.
* Reinforcement: scenario "storm" (probability p) loses 2-3 all day; shedding bus 3 costs
  4 h × 50 kW × 10 CNY/kWh = 2000 CNY that day, i.e. 10 × p × 2000 = 20000 p over the
  life against an install of 10 kCNY: break-even p = 0.5.
"""

from __future__ import annotations

import warnings

import pytest

import gridc
from gridc.compiler import compile_model
from gridc.runtime.problem import Problem

warnings.filterwarnings("ignore", module="linopy")

HEAD = """
model tiny_resilience "3-bus feeder for seed-000 investments"
network tiny {{
  base 12.66 kV 10 MVA
  slack 1 at 1.0 pu
  voltage 0.9 .. 1.1 pu
  buses table {{
    id  p[kW]  q[kvar]
    1   0      0
    2   {load2}  0
    3   50     0
  }}
  lines table {{
    from  to  r[ohm]  x[ohm]
    1     2   0.1     0.1
    2     3   0.1     0.1
  }}
}}
horizon 4 h step 1 h
economics {{ discount 0 %, life 10 y, days_per_year 1 }}
price grid 0 CNY/kWh
penalty shed {shed} CNY/kWh
"""

MESS = """
invest mess : mobile_storage {{
  type M1 {{ power 100 kW, energy 400 kWh, efficiency 1, soc 0 .. 1, install 10 kCNY,
            maintain 0 CNY/y, life 10 y }}
  count 0 .. 2
  depot 1
  candidates [1, 3]
  moves 1
  travel 1 h
}}
scenarios day {{ scenario island {{ probability 1, outage 2-3 }} }}
study plan {{ scenarios day }}
"""

EV = """
invest ev_battery : ev_battery {{
  sites table {{
    bus  evs  piles
    2    5    5
    3    {evs}    {piles}
  }}
  type RB1 {{ pack 100 kWh, install 10 kCNY, maintain 0 CNY/y, life 10 y }}
  ev_power 20 kW
  pile_power 30 kW
  pile_q 15 kvar
  efficiency 1
  soc 0 .. 1
  power_factor 0.9
  count 0 .. 10
  per_site_max 5
}}
scenarios day {{ scenario islands {{ probability 1, outage 1-2, outage 2-3 }} }}
study plan {{
  scenarios day
  fix ev_battery.RB1 [0, 2]
}}
"""

REINFORCE = """
invest hardening : reinforcement {{
  candidates [1-2, 2-3]
  count 0 .. 1
  install 10 kCNY
  maintain 0 CNY/y
  life 10 y
}}
scenarios weather {{
  scenario calm {{ probability {calm} }}
  scenario storm {{ probability {p}, outage 2-3 }}
}}
study plan {{ scenarios weather }}
"""


def solve(text: str):  # type: ignore[no-untyped-def]
    problem = Problem(compile_model(gridc.parse(text), study="plan"))
    result = problem.solve(threads=1, gap=0.0)
    assert result.status.ok, result.message
    return result


@pytest.mark.parametrize(("shed", "bought"), [(10.0, 1), (5.0, 0)])
def test_mess_moves_to_island_only_if_worth_it(shed: float, bought: int) -> None:
    r = solve(HEAD.format(load2=0, shed=shed) + MESS.format())
    ds = r.dataset
    assert round(float(ds["mess_units"].sel(mess_type="M1"))) == bought
    shed_kwh = float(ds["bus_shed_p"].sel(bus="3").sum())
    if bought:
        pos = ds["mess_pos"].sel(scenario="island", mess_type="M1")
        assert float(pos.sel(mess_at="3", time=0)) < 0.5  # on the road during step 0
        assert all(float(pos.sel(mess_at="3", time=t)) > 0.5 for t in (1, 2, 3))
        assert shed_kwh == pytest.approx(50.0, abs=1e-4)
        assert r.costs["installation"] == pytest.approx(10_000.0)
        assert r.objective == pytest.approx(10_000.0 + 10 * 50.0 * shed, rel=1e-6)
    else:
        assert shed_kwh == pytest.approx(200.0, abs=1e-4)
        assert r.objective == pytest.approx(10 * 200.0 * shed, rel=1e-6)


@pytest.mark.parametrize(("evs", "piles", "cap_kw"), [(2, 3, 40.0), (5, 1, 30.0)])
def test_ev_battery_power_is_min_of_piles_and_evs(evs: int, piles: int,
                                                  cap_kw: float) -> None:
    r = solve(HEAD.format(load2=20, shed=10) + EV.format(evs=evs, piles=piles))
    ds = r.dataset
    out = ds["ev_discharge"].sel(scenario="islands")
    assert float(out.sel(ev_site="3").max()) == pytest.approx(cap_kw, abs=1e-6)
    assert float(out.sel(ev_site="2").max()) == pytest.approx(0.0, abs=1e-6)  # no pack
    assert float(ds["bus_shed_p"].sel(bus="3").sum()) == pytest.approx(4 * (50 - cap_kw),
                                                                        abs=1e-4)
    assert float(ds["bus_shed_p"].sel(bus="2").sum()) == pytest.approx(80.0, abs=1e-4)
    assert r.costs["installation"] == pytest.approx(20_000.0)  # fixed plan: 2 packs


@pytest.mark.parametrize(("p", "bought"), [(0.4, 0), (0.6, 1)])
def test_reinforcement_bought_above_break_even(p: float, bought: int) -> None:
    r = solve(HEAD.format(load2=0, shed=10) + REINFORCE.format(calm=1 - p, p=p))
    ds = r.dataset
    assert round(float(ds["reinforced"].sel(line="2-3"))) == bought
    assert round(float(ds["reinforced"].sum())) == bought
    expected = 10_000.0 if bought else 20_000.0 * p
    assert r.objective == pytest.approx(expected, rel=1e-6)
