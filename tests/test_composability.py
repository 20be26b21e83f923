"""Composability catalogue: every family of the language, alone, under both formulations.

Each test solves a TINY model of `tests/catalogue.py` (2–4 buses, 2 steps of 1 h) whose
optimum is derived by hand in the test's docstring, and compares the objective AND the
decision (or dispatch) that explains it. Families: lines (ratings, losses), loads and
shedding, generators (grid, gas, pv), stationary storage, reinforcement, topology (new
lines), DG sizing, substation sizing, storage investment, MESS, EV-RB; each under
`lindistflow` and `distflow`, as operation only and with its investment where one
exists (operation only = the same model in a study `without` the investment). Then
compositions across families: demand above its nominal value (scenario `scale load`, a
load's own profile) under both formulations, `objective losses` next to a shed penalty,
two investments of one kind in one model, and the planning question of the issue:
feeder8 with a PV plant to size (`tests/models/feeder8_pv.grid`).

Shared numbers (textbook formulas, computed here independently of gridc):

* PVF(8 %, 20 y) = (1.08^20 − 1) / (0.08 · 1.08^20) = 3.660957 / 0.372877 = 9.818147;
* CRF(8 %, 20 y) = 1 / PVF = 0.1018522; CRF(8 %, 10 y) = 0.1490295;
* present value of an item with life = economics life (20 y): install only (no
  replacement, no residual value); annualised: CRF(item life) · install + maintain.

Under `distflow` the lines have r = 0 (catalogue convention), so there are no active
losses and the optimum is the LinDistFlow one, exactly; the one model with r > 0
(`test_lines_losses`) derives its losses in closed form and allows the polygon's stated
accuracy (`summary["cone"]["accuracy"]`). MILPs are solved with gap 1e-9 so that the
optimum is compared at 1e-6 relative.
"""

from __future__ import annotations

import math
from pathlib import Path

import catalogue as C
import numpy as np
import pytest
import xarray as xr

import gridc
from gridc.dsl.diagnostics import GridError
from gridc.runtime.backend.solver import SolveStatus
from gridc.runtime.problem import Problem
from gridc.runtime.results import Result

MODELS = Path(__file__).resolve().parent / "models"
FORMS = pytest.mark.parametrize("formulation", C.FORMULATIONS)
#: operation and investment under both formulations; the opposite decision ("dearer":
#: the same investment priced out) under LinDistFlow only, to keep the file near 60 s
WITH_DEARER = pytest.mark.parametrize(
    ("formulation", "variant"),
    [(f, v) for f in C.FORMULATIONS for v in ("operation", "investment")]
    + [("lindistflow", "dearer")])
REL = 1e-6


def pvf(rate: float, years: float) -> float:
    g = (1.0 + rate) ** years
    return (g - 1.0) / (rate * g)


def crf(rate: float, years: float) -> float:
    return 1.0 / pvf(rate, years)


PVF20 = pvf(0.08, 20.0)


def approx(value: float, rel: float = REL) -> object:
    return pytest.approx(value, rel=rel, abs=1e-6)


def solve(text: str, formulation: str, name: str | Path = "catalogue.grid"
          ) -> tuple[Problem, Result]:
    """Parse, compile (the model's first study, if any), solve to optimality."""
    model = gridc.parse(text, str(name))
    problem = gridc.compile(model)
    assert problem.compiled.formulation == formulation
    result = problem.solve(gap=1e-9)
    assert result.status == SolveStatus.optimal, result.message
    if formulation == "distflow":
        assert "cone" in result.summary and abs(result.summary["cone"]["loss_error"]) <= 1e-3
    else:
        assert "cone" not in result.summary
    return problem, result


def values(result: Result, block: str, **sel: object) -> list[float]:
    da = result.dataset[block].sel(sel)
    return [float(x) for x in np.ravel(da.values)]


# ---------------------------------------------------------------------- operation only


@FORMS
def test_lines_rating(formulation: str) -> None:
    """Line b2-b3 (rating 60 kVA, a box |P|, |Q| ≤ 60) feeds L3 = 100 kW; gas at b3 costs
    0.8 CNY/kWh, the grid 0.5: the grid sends all the line carries, the gas the rest.

        grid 60 kW × 0.5 CNY/kWh × 2 h =  60 CNY
        gas  40 kW × 0.8 CNY/kWh × 2 h =  64 CNY
        optimum (daily, no investment)   124 CNY
    """
    _, r = solve(C.lines_rating(formulation), formulation)
    assert r.objective == approx(124.0)
    assert r.costs == {"grid": approx(60.0), "fuel": approx(64.0)}
    assert values(r, "line_p", line="b2-b3") == [approx(60.0)] * 2
    assert values(r, "gen_p", gen="g3") == [approx(40.0)] * 2
    assert r.summary["pricing"]["rule"] == "daily"


@FORMS
def test_lines_losses(formulation: str) -> None:
    """One line b1-b2, r = 10 ohm = 0.1 pu (Z_base = 100 ohm), x = 0, L2 = 500 kW = 0.5 pu.

    lindistflow (lossless): 500 kW × 0.5 CNY/kWh × 2 h = 500 CNY.

    distflow: the flow P at b1 carries the load and the loss r·ℓ with ℓ = P² / w_1, w_1 = 1:
    P = D + r P² → P = (1 − √(1 − 4 r D)) / (2 r) = (1 − √0.8) / 0.2 = 0.5278640 pu,
    loss 27.8640 kW; optimum 527.8640 kW × 0.5 × 2 h = 527.8640 CNY. `objective losses`:
    27.8640 kW × 2 h = 55.7281 kWh (and GRID071 under lindistflow, which has no losses).

    Tolerance: the polygon dilates the cone by ε = `accuracy`, so ℓ may undershoot by
    ≤ ε (ℓ + w) ≤ 2ε p.u.: r · S_base · 2ε = 200 ε kW per step, i.e. 200 ε CNY over the
    day (2 h × 0.5 CNY/kWh) and 400 ε kWh of losses.
    """
    _, r = solve(C.lines_losses(formulation), formulation)
    if formulation == "lindistflow":
        assert r.objective == approx(500.0)
        with pytest.raises(GridError) as err:
            gridc.compile(gridc.parse(C.lines_losses(formulation, "losses"), "c.grid"))
        assert err.value.diagnostics[0].code == "GRID071"
        return
    acc = r.summary["cone"]["accuracy"]
    p_pu = (1.0 - math.sqrt(1.0 - 4 * 0.1 * 0.5)) / (2 * 0.1)
    loss_kw = (p_pu - 0.5) * 1000.0
    assert loss_kw == pytest.approx(27.8640, abs=1e-4)
    assert r.objective == pytest.approx(p_pu * 1000.0, abs=200 * acc)
    assert values(r, "line_p", line="b1-b2") == [pytest.approx(p_pu * 1000, abs=0.2)] * 2
    assert r.summary["network"]["losses_kw_mean"] == pytest.approx(loss_kw, abs=200 * acc)
    _, lr = solve(C.lines_losses(formulation, "losses"), formulation)
    assert lr.summary["objective_kind"] == "losses"
    assert lr.objective == pytest.approx(2 * loss_kw, abs=400 * acc)


def test_losses_objective_with_a_shed_penalty() -> None:
    """`objective losses` in a model that also prices shedding (`penalty shed`, there for
    its cost studies): minimising the losses of serving the demand of `test_lines_losses`
    is 2 h × 27.8640 kW = 55.7281 kWh with L2 served. Dropping the load is not a way to
    have no losses, and a shed price that the objective never counts would be dropped:
    the composition is refused (GRID075)."""
    text = C.lines_losses("distflow", "losses") + C.SHED
    with pytest.raises(GridError) as err:
        solve(text, "distflow")
    assert [d.code for d in err.value.diagnostics] == ["GRID075"]


@FORMS
def test_loads_and_shedding(formulation: str) -> None:
    """Bus load 50 kW at b2 (priority 3); behind b2-b3 (rating 100 kVA) a hospital of 60 kW
    (priority 10) and a shop of 60 kW × [1, 0.5] (priority 1); `penalty shed 2 CNY/kWh
    weighted by priority`, so shedding costs 2 (shop), 6 (b2), 20 (hospital) CNY/kWh, all
    dearer than the grid (0.5): shed only what b2-b3 cannot carry, and the shop first.

        hour 0: b3 wants 60 + 60 = 120 > 100 kW → shed 20 kW of the shop: 20 × 2 × 1 = 40
                grid 50 + 100 = 150 kW × 0.5 = 75
        hour 1: b3 wants 60 + 30 = 90 ≤ 100 → no shed; grid 50 + 90 = 140 kW × 0.5 = 70
        optimum 40 + 75 + 70 = 185 CNY (shed 40, grid 145)
    """
    _, r = solve(C.loads_shedding(formulation), formulation)
    assert r.objective == approx(185.0)
    assert r.costs == {"shed": approx(40.0), "grid": approx(145.0)}
    assert values(r, "load_shed_p", load="shop") == [approx(20.0), approx(0.0)]
    assert values(r, "load_shed_p", load="hospital") == [approx(0.0)] * 2
    assert sum(values(r, "bus_shed_p")) == approx(0.0)
    assert r.summary["shed"]["expected_kwh"] == approx(20.0)


@FORMS
@pytest.mark.parametrize("how", ["scale", "profile"])
def test_demand_above_its_nominal_value(formulation: str, how: str) -> None:
    """L3 = 100 kW nominal at b3 draws more: `scale load 2` in the only scenario (200 kW in
    both hours), or its own profile [1.5, 2] (150 then 200 kW). The lines are rated
    2000 kVA, so everything is served (shed 10 CNY/kWh > grid 0.5 CNY/kWh):

        scale:   200 kW × 2 h × 0.5 CNY/kWh        = 200 CNY
        profile: (150 + 200) kWh × 0.5 CNY/kWh     = 175 CNY
    and nothing is shed, under either formulation (r = 0: no losses).
    """
    _, r = solve(C.demand_above_nominal(formulation, how), formulation)
    assert r.objective == approx(200.0 if how == "scale" else 175.0)
    assert values(r, "load_shed_p", load="L3") == [approx(0.0)] * 2
    assert values(r, "line_p", line="b2-b3") == \
        ([approx(200.0)] * 2 if how == "scale" else [approx(150.0), approx(200.0)])


@FORMS
def test_generators(formulation: str) -> None:
    """A grid unit `supply` at b1 priced by its profile [0.3, 0.6], a gas turbine at b2
    (60 kW, p_min 20 kW, 0.4 CNY/kWh), PV at b3 (100 kW × sun [0.5, 0], curtailment
    0.2 CNY/kWh), load 150 kW at b3. PV is free (and curtailing it would cost), gas runs
    at p_min when the grid is cheaper (hour 0) and at p_max when it is dearer (hour 1):

        hour 0: pv 50, gas 20 → grid 80 kW:  80 × 0.3 + 20 × 0.4 = 24 +  8 = 32
        hour 1: pv  0, gas 60 → grid 90 kW:  90 × 0.6 + 60 × 0.4 = 54 + 24 = 78
        optimum 110 CNY (grid 78, fuel 32, curtailment 0)
    This model is written with `formulation` inside its study.
    """
    _, r = solve(C.in_study(C.generators(formulation), formulation), formulation)
    assert r.objective == approx(110.0)
    assert r.costs == {"grid": approx(78.0), "fuel": approx(32.0), "curtailment": approx(0.0)}
    assert values(r, "gen_p", gen="supply") == [approx(80.0), approx(90.0)]
    assert values(r, "gen_p", gen="gt2") == [approx(20.0), approx(60.0)]
    assert values(r, "gen_p", gen="pv3") == [approx(50.0), approx(0.0)]
    assert "grid" not in [str(g) for g in r.dataset["gen"].values]  # no implicit import


@FORMS
def test_storage_operation(formulation: str) -> None:
    """Battery at b2: 100 kW, 200 kWh, η = 90 % one way, SOC 10 .. 90 %, starting at 10 %
    (20 kWh); 100 kW load at b2; price [0.2, 1.0] CNY/kWh. A kWh bought at hour 0 returns
    0.81 kWh at hour 1, worth 0.81 > 0.2: charge at full power, discharge what was stored.

        hour 0: charge 100 kW → E = 20 + 0.9 × 100 = 110 kWh (≤ 180): grid 200 × 0.2 = 40
        hour 1: discharge (110 − 20) × 0.9 = 81 kW → E = 20: grid 19 × 1.0 = 19
        optimum 59 CNY
    """
    _, r = solve(C.storage(formulation), formulation)
    assert r.objective == approx(59.0)
    assert values(r, "storage_charge", storage="bat") == [approx(100.0), approx(0.0)]
    assert values(r, "storage_discharge", storage="bat") == [approx(0.0), approx(81.0)]
    assert values(r, "storage_energy", storage="bat") == [approx(110.0), approx(20.0)]


# ---------------------------------------------------------------------- with investments


@WITH_DEARER
def test_reinforcement(formulation: str, variant: str) -> None:
    """100 kW at b3, grid 0.5 CNY/kWh, shed 10 CNY/kWh; scenarios calm (0.5) and storm
    (0.5, b2-b3 out all day). Daily cost: calm 100 × 0.5 × 2 = 100, storm (b3 islanded)
    100 × 2 × 10 = 2000 shed.

    operation: 0.5 × 100 + 0.5 × 2000 = 1050 CNY/day.
    investment (harden b2-b3 for 400 kCNY, life 20 y): the storm then costs 100 too,
    saving 950 × 365 × PVF = 3,404,443 > 400,000 → harden:
        400,000 + PVF × 365 × 100 = 400,000 + 358,362.4 = 758,362.4 CNY
    dearer (5 MCNY > 3,404,443) → keep: PVF × 365 × 1050 = 3,762,805.0 CNY.
    """
    invest = variant != "operation"
    text = C.reinforcement(formulation, invest, "5 MCNY" if variant == "dearer" else "400 kCNY")
    _, r = solve(text, formulation)
    storm_shed = values(r, "load_shed_p", scenario="storm", load="L3")
    if variant == "operation":
        assert r.objective == approx(1050.0)
        assert storm_shed == [approx(100.0)] * 2
        return
    hardened = variant == "investment"
    assert values(r, "reinforced", line="b2-b3") == [approx(float(hardened))]
    assert values(r, "reinforced", line="b1-b2") == [approx(0.0)]
    if hardened:
        assert r.objective == approx(400_000 + PVF20 * 365 * 100)
        assert storm_shed == [approx(0.0)] * 2
        assert r.costs["installation"] == approx(400_000)
    else:
        assert r.objective == approx(PVF20 * 365 * 1050)
        assert r.costs["installation"] == approx(0.0)


@FORMS
@pytest.mark.parametrize("variant", ["operation", "investment"])
def test_topology(formulation: str, variant: str) -> None:
    """b3 (100 kW) is connected only by candidate lines (cable x 0.3 ohm/km, r 0);
    shed 10 CNY/kWh.

    operation: the candidate b2-b3 is `existing yes` — fixed on, not priced, no decision:
        100 kW × 0.5 × 2 h = 100 CNY/day.
    investment: new lines b2-b3 (1 km) or b1-b3 (3 km) at 500 kCNY/km, `radial`: exactly
    one is built (3 buses, 2 lines); serving b3 saves 100 × 2 × 10 − 100 = 1900 CNY/day,
    and the shorter line is cheaper:
        500,000 × 1 km + PVF × 365 × 100 = 500,000 + 358,362.4 = 858,362.4 CNY.
    """
    _, r = solve(C.topology(formulation, variant == "investment"), formulation)
    if variant == "operation":
        assert r.objective == approx(100.0)
        assert "line_built" not in r.dataset
        assert values(r, "line_p", line="b2-b3") == [approx(100.0)] * 2
        return
    assert r.objective == approx(500_000 + PVF20 * 365 * 100)
    assert values(r, "line_built", line="b2-b3") == [approx(1.0)]
    assert values(r, "line_built", line="b1-b3") == [approx(0.0)]
    assert r.summary["network"]["lines_built"] == ["b2-b3"]
    assert r.summary["network"]["line_km"] == approx(1.0)


@WITH_DEARER
def test_dg_sizing(formulation: str, variant: str) -> None:
    """200 kW at b3; PV to size there in units of 50 kW up to 200 kW, availability
    [1, 0.5]; `pricing annualised`; maintain 10 CNY/kW/y, life 20 y.

    operation (`without pv3`): 200 kW × 0.5 × 2 h = 200 CNY/day.
    A unit of 50 kW makes 50 + 25 = 75 kWh/day (all used: output ≤ load), saving
    75 × 0.5 × 365 = 13,687.5 CNY/y; it costs CRF20 × 50 × install + 500 per year.
    investment (1000 CNY/kW): 0.1018522 × 50,000 + 500 = 5,592.6 < 13,687.5 → all 4 units:
        construction 0.1018522 × 200,000 = 20,370.44; maintenance 2,000;
        operation 365 × (0 + 100 kW × 0.5) = 18,250; optimum 40,620.44 CNY/y
    dearer (5000 CNY/kW): 25,463 + 500 > 13,687.5 → none: 365 × 200 = 73,000 CNY/y.
    """
    install = "5000 CNY/kW" if variant == "dearer" else "1000 CNY/kW"
    _, r = solve(C.dg(formulation, variant != "operation", install), formulation)
    if variant == "operation":
        assert r.objective == approx(200.0)
        assert "dg_units" not in r.dataset
        return
    assert r.summary["pricing"]["rule"] == "annualised"
    if variant == "investment":
        assert r.objective == approx(crf(0.08, 20) * 200_000 + 2_000 + 18_250)
        assert values(r, "dg_units", dg="pv3") == [approx(4.0)]
        assert values(r, "dg_p", dg="pv3") == [approx(200.0), approx(100.0)]
        assert r.costs["construction"] == approx(crf(0.08, 20) * 200_000)
    else:
        assert r.objective == approx(73_000.0)
        assert values(r, "dg_units", dg="pv3") == [approx(0.0)]


@FORMS
@pytest.mark.parametrize("variant", ["operation", "investment"])
def test_substation(formulation: str, variant: str) -> None:
    """150 kW at b3; a substation at b1 (the grid supply point) with no capacity of its own
    may get 100 or 200 kVA at 100 CNY/kVA (load rate and power factor 100 %); shed
    10 CNY/kWh.

    operation (`without sub`): no limit: 150 × 0.5 × 2 = 150 CNY/day.
    investment: 200 kVA serves everything: 20,000 + PVF × 365 × 150 = 557,543.6;
    100 kVA sheds 50 kW: 10,000 + PVF × 365 × (100 + 1,000) = 3,951,986; nothing sheds
    all: PVF × 365 × 3,000 → 200 kVA, optimum 557,543.6 CNY.
    This model is written with `formulation` inside its study (next to `without sub`).
    """
    _, r = solve(C.in_study(C.substation(formulation, variant == "investment"), formulation),
                 formulation)
    if variant == "operation":
        assert r.objective == approx(150.0)
        assert "substation_rating" not in r.dataset
        return
    assert r.objective == approx(20_000 + PVF20 * 365 * 150)
    assert values(r, "substation_rating", substation="sub", rating=200.0) == [approx(1.0)]
    assert values(r, "substation_rating", substation="sub", rating=100.0) == [approx(0.0)]
    assert values(r, "gen_p", gen="grid") == [approx(150.0)] * 2


@FORMS
@pytest.mark.parametrize("variant", ["operation", "investment", "units"])
def test_storage_investment(formulation: str, variant: str) -> None:
    """The arbitrage of `test_storage_operation` with the battery at b2 to build: power
    0 .. 100 kW at 200 CNY/kW, energy 0 .. 400 kWh at 300 CNY/kWh, η 90 %, SOC 10 .. 90 %,
    starting at 10 % of the energy built.

    operation (`without bess`): 100 × 0.2 + 100 × 1.0 = 120 CNY/day.
    Charging c kW at hour 0 needs power c and energy E with 0.1 E + 0.9 c ≤ 0.9 E, i.e.
    E ≥ 1.125 c; it returns 0.81 c at hour 1 and saves (0.81 − 0.2) c = 0.61 c CNY/day,
    0.61 × 365 × PVF = 2,186 CNY of present value per kW, against 200 + 1.125 × 300 =
    537.5 CNY per kW of capital (× 1.17 with replacement, below): build c = 100 kW, the
    most allowed, and E = 112.5 kWh, no more. Daily cost then 0.2 × 200 + 1.0 × 19 = 59.
    investment (life 15 y within the 20 y of the economics): capital factor
        1 + 1.08^−15 (replacement at year 15) − (1 − 5/15) × 1.08^−20 (residual value)
        = 1 + 0.3152417 − 0.1430321 = 1.1722096
        install 200 × 100 + 300 × 112.5 = 53,750 → 63,006.3
        optimum 63,006.3 + PVF × 365 × 59 = 63,006.3 + 211,433.8 = 274,440.1 CNY
    units (whole units of 50 kW / 100 kWh, life 10 y, 10 CNY/kW/y, annualised): a unit
    costs 0.1490295 × 40,000 + 500 = 6,461 per year and saves 0.61 × 50 × 365 = 11,133
    (its 100 kWh hold the 45 kWh of a 50 kW charge) → 2 units, 100 kW / 200 kWh:
        0.1490295 × 80,000 + 1,000 + 365 × 59 = 11,922.4 + 1,000 + 21,535 = 34,457.4 CNY/y
    This model is written with `formulation` inside its study.
    """
    if variant == "operation":
        _, r = solve(C.storage_invest(formulation, False), formulation)
        assert r.objective == approx(120.0)
        assert "storage_power_size" not in r.dataset
        return
    text = C.storage_invest(formulation, True, unit=variant == "units")
    if variant == "investment":
        text = text.replace("life 20 y\n}", "life 15 y\n}")
    _, r = solve(C.in_study(text, formulation), formulation)
    power = values(r, "storage_power_size", storage="bess")
    energy = values(r, "storage_energy_size", storage="bess")
    assert values(r, "storage_charge", storage="bess") == [approx(100.0), approx(0.0)]
    assert values(r, "storage_discharge", storage="bess") == [approx(0.0), approx(81.0)]
    if variant == "investment":
        factor = 1 + 1.08 ** -15 - (1 - 5 / 15) * 1.08 ** -20
        assert factor == pytest.approx(1.1722096, abs=1e-7)
        assert r.objective == approx(53_750 * factor + PVF20 * 365 * 59)
        assert (power, energy) == ([approx(100.0)], [approx(112.5)])
        assert r.costs["replacement"] == approx(53_750 * 1.08 ** -15)
        assert r.costs["residual"] == approx(53_750 * (1 - 5 / 15) * 1.08 ** -20)
    else:
        assert r.objective == approx(crf(0.08, 10) * 80_000 + 1_000 + 365 * 59)
        assert (power, energy) == ([approx(100.0)], [approx(200.0)])
        assert values(r, "storage_units", storage="bess") == [approx(2.0)]


@FORMS
@pytest.mark.parametrize("variant", ["operation", "investment"])
def test_mess(formulation: str, variant: str) -> None:
    """Storm all day (probability 1): b2-b3 out, 100 kW at b3 islanded; shed 10 CNY/kWh.
    A MESS type (100 kW, 200 kWh, η 95 %, SOC 10 .. 90 %, starts full at 180 kWh) costs
    200 kCNY (life 20 y), is kept at b1, may connect at b1 or b3, one move of 1 h.

    operation (`without mess`): 100 kW × 2 h × 10 = 2000 CNY/day.
    investment: leaving b1 at the start of hour 0 it arrives at b3 for hour 1 and serves
    the 100 kW (100 / 0.95 = 105 kWh ≤ 160 usable); hour 0 is shed: 1000 CNY/day, saving
    1000 × 365 × PVF = 3.58 MCNY > 200 kCNY → buy one:
        200,000 + PVF × 365 × 1000 = 200,000 + 3,583,623.8 = 3,783,623.8 CNY
    """
    _, r = solve(C.mess(formulation, variant == "investment"), formulation)
    shed = values(r, "load_shed_p", load="L3")
    if variant == "operation":
        assert r.objective == approx(2000.0)
        assert shed == [approx(100.0)] * 2
        assert "mess_units" not in r.dataset
        return
    assert r.objective == approx(200_000 + PVF20 * 365 * 1000)
    assert values(r, "mess_units", mess_type="M1") == [approx(1.0)]
    assert shed == [approx(100.0), approx(0.0)]
    assert values(r, "mess_pos", mess_type="M1", mess_at="b3") == [approx(0.0), approx(1.0)]
    assert values(r, "mess_discharge", mess_type="M1", mess_at="b3") == \
        [approx(0.0), approx(100.0)]


@FORMS
@pytest.mark.parametrize("variant", ["operation", "investment"])
def test_ev_battery(formulation: str, variant: str) -> None:
    """Storm all day (probability 1): b3 (100 kW) islanded; shed 10 CNY/kWh. EV packs of
    50 kWh (30 kCNY, life 20 y) at the site b3, which passes min(5 piles × 20 kW,
    10 EVs × 7 kW) = 70 kW; η 100 %, SOC 10 .. 90 %, starting full: 40 kWh usable per pack.

    operation (`without evb`): 100 × 2 × 10 = 2000 CNY/day.
    investment: 70 kW for 2 h needs 140 kWh: 3 packs give 120 (shed 80 kWh = 800 CNY),
    4 give 160 ≥ 140 (shed 30 kW × 2 h = 600 CNY), a 5th adds nothing; the 4th pack saves
    200 × 365 × PVF = 716,725 > 30,000 → 4 packs:
        4 × 30,000 + PVF × 365 × 600 = 120,000 + 2,150,174.3 = 2,270,174.3 CNY
    """
    _, r = solve(C.ev_battery(formulation, variant == "investment"), formulation)
    shed = values(r, "load_shed_p", load="L3")
    if variant == "operation":
        assert r.objective == approx(2000.0)
        assert "ev_packs" not in r.dataset
        return
    assert r.objective == approx(120_000 + PVF20 * 365 * 600)
    assert values(r, "ev_packs", pack_type="RB1", ev_site="b3") == [approx(4.0)]
    assert values(r, "ev_discharge", ev_site="b3") == [approx(70.0)] * 2
    assert shed == [approx(30.0)] * 2


# ---------------------------------------------------------------------- two of a kind


@pytest.mark.parametrize("kind", ["reinforcement", "mobile_storage", "ev_battery", "dg",
                                  "storage"])
def test_two_investments_of_one_kind(kind: str) -> None:
    """Two `invest` statements of one kind are two independent decisions (the language
    allows any number of `invest` statements), or — for the kinds a model holds once
    (mobile_storage, ev_battery, stations) — a diagnostic (GRID017), never one of them
    silently dropped. Each model's optimum equals the one of a single investment holding
    both (derived here, and checked against that single model when this test was
    written):

    reinforcement: loads of 100 kW at b2 and b3, b1-b2 and b2-b3 out all day; r1 may
    harden b1-b2, r2 b2-b3, 100 kCNY each. Hardening both serves 200 kW (200 CNY/day);
    one or none sheds ≥ 100 kW × 2 h × 10. Optimum 200,000 + PVF × 365 × 200 = 916,724.8.

    mobile_storage: 200 kW at b3 islanded all day; m1 and m2 each may buy one 100 kW MESS
    (200 kCNY), which serves 100 kW in hour 1 (see `test_mess`). Both: shed 200 kW in
    hour 0 only, 2000 CNY/day; optimum 400,000 + PVF × 365 × 2000 = 7,567,247.6.

    ev_battery: b3 and b4 (100 kW each) islanded all day; e3 places packs at b3, e4 at b4,
    4 each (see `test_ev_battery`): 8 × 30,000 + PVF × 365 × 2 × 600 = 4,540,348.6.

    dg (control: `dg` investments share one `dg` dimension): `test_dg_sizing`'s plant split
    into pv3 at b3 and pv2 at b2, 0 .. 100 kW each: 2 units each, 40,620.44 CNY/y.

    storage (control): `test_storage_investment`'s battery (life 20 y) split into bess and
    bess2 at b2, 0 .. 50 kW each: each 50 kW / 56.25 kWh, 53,750 + PVF × 365 × 59 =
    265,183.8 CNY.
    """
    build, expected, decision = {
        "reinforcement": (C.two_reinforcements, 200_000 + PVF20 * 365 * 200,
                          ("reinforced", [1.0, 1.0])),
        "mobile_storage": (C.two_mess, 400_000 + PVF20 * 365 * 2000, ("mess_units", [1.0, 1.0])),
        "ev_battery": (C.two_ev_batteries, 240_000 + PVF20 * 365 * 1200,
                       ("ev_packs", [4.0, 4.0])),
        "dg": (C.two_dgs, crf(0.08, 20) * 200_000 + 2_000 + 18_250, ("dg_units", [2.0, 2.0])),
        "storage": (C.two_storage_investments, 53_750 + PVF20 * 365 * 59,
                    ("storage_power_size", [50.0, 50.0])),
    }[kind]
    if kind in ("mobile_storage", "ev_battery"):
        # a model holds one investment of these kinds (one fleet, one set of pack sites):
        # the second is refused when the model is read, never left out
        with pytest.raises(GridError) as err:
            gridc.parse(build("lindistflow"), "two.grid")
        assert [d.code for d in err.value.diagnostics] == ["GRID017"]
        return
    _, r = solve(build("lindistflow"), "lindistflow")
    assert r.objective == approx(expected)
    block, decided = decision
    chosen = sorted(v for v in values(r, block) if v > 0.5)
    assert chosen == [approx(x) for x in decided]


# ---------------------------------------------------------------------- planning (the issue)


def test_feeder8_with_pv_to_size() -> None:
    """feeder8 (grid at b1 with a TOU price, battery at b6, priority loads, a storm that cuts
    b2-b5 from 10 h to 14 h) plus `invest pv_b7 : dg at b7` (tests/models/feeder8_pv.grid).

    * the plan is a real decision: some PV, less than the 1000 kW allowed;
    * grid import is exactly what is needed: per scenario and hour (LinDistFlow is
      lossless) import = demand − shed − PV − (battery discharge − charge), never
      negative, and > 0 in every hour without sun;
    * shedding is priced with the priority weights: daily_shed = Σ_s π_s Σ_t 1 h × 5 CNY/kWh
      × (priority × shed) over bus loads (priority 1) and the hospital (10) and pumps (5);
      the storm sheds bus loads, never the priority loads; the calm day sheds nothing;
    * the battery is still there and used (its blocks exist, it charges and discharges);
    * fixing the capacity by hand to the optimum (`capacity X .. X kW`) gives the same
      objective within 1e-6 relative: sizing adds no cost that a given plan would not have.
    """
    path = MODELS / "feeder8_pv.grid"
    text = path.read_text()
    problem, r = solve(text, "lindistflow", name=path)
    ds = r.dataset
    cap = float(ds["dg_units"].sel(dg="pv_b7")) * 10.0
    assert 0.0 < cap < 1000.0

    model = gridc.parse(text, str(path))
    net = model.network()
    sun = np.array(model.profile("sun").values)
    # demand from the IR: bus loads and the `load` components (which have no profile of
    # their own) follow the network's `load_profile`; the storm scales nothing
    shape = xr.DataArray(list(model.profile(str(net.load_profile)).values), dims=["time"])
    assert all(ld.profile is None for ld in model.loads)
    demand = shape * (sum(b.p_kw for b in net.buses) + sum(ld.p_kw for ld in model.loads))
    need = (demand - ds["bus_shed_p"].sum("bus") - ds["load_shed_p"].sum("load")
            - ds["dg_p"].sum("dg")
            - (ds["storage_discharge"] - ds["storage_charge"]).sum("storage"))
    grid = ds["gen_p"].sel(gen="supply")
    np.testing.assert_allclose(grid.transpose("scenario", "time").values,
                               need.transpose("scenario", "time").values, atol=1e-5)
    assert float(grid.min()) >= -1e-6
    assert bool((grid.isel(time=np.flatnonzero(sun == 0)) > 1.0).all())

    prob = ds["probability"]
    bus_prio = xr.DataArray([b.priority for b in net.buses], dims=["bus"],
                            coords={"bus": [b.id for b in net.buses]})
    load_prio = xr.DataArray([ld.priority for ld in model.loads], dims=["load"],
                             coords={"load": [ld.name for ld in model.loads]})
    weighted = (5.0 * (ds["bus_shed_p"] * bus_prio).sum(["bus", "time"])
                + 5.0 * (ds["load_shed_p"] * load_prio).sum(["load", "time"]))
    assert r.costs["daily_shed"] == approx(float((weighted * prob).sum()))
    assert r.summary["costs"]["daily_shed"] > 0
    assert r.summary["costs_by_scenario"]["storm"]["shed"] > 0
    assert r.summary["costs_by_scenario"]["calm"]["shed"] == approx(0.0)
    assert float(ds["load_shed_p"].sum()) == approx(0.0)
    assert float(ds["bus_shed_p"].sel(scenario="storm").sum()) > 0

    blocks = problem.compiled.blocks
    assert {"storage_charge", "storage_discharge", "storage_energy"} <= set(blocks)
    assert float(ds["storage_discharge"].sel(storage="bat").sum()) > 1.0
    assert float(ds["storage_charge"].sel(storage="bat").sum()) > 1.0

    fixed = text.replace("capacity 0 .. 1000 kW", f"capacity {cap:g} .. {cap:g} kW")
    assert fixed != text
    _, again = solve(fixed, "lindistflow", name=path.with_name("feeder8_pv_fixed.grid"))
    assert float(again.dataset["dg_units"].sel(dg="pv_b7")) * 10.0 == approx(cap)
    assert again.objective == pytest.approx(r.objective, rel=1e-6)

