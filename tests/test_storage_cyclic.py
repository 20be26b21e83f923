"""The `cyclic` flag of stationary storage: the day ends with at least its start.

Without it a battery starts every scenario day at `soc_init` with no end condition, so
its energy above `soc min` is free every day. With it, `storage_end_of_day` asks
E_{T−1} ≥ soc_init × energy (soc_init × E_size for an invested unit), one row per
(scenario, cyclic unit). The models are `tests/catalogue.py`'s (2 steps of 1 h, price
[0.2, 1.0] CNY/kWh, a 100 kW load at b2, the battery at b2 with η 90 % one way and SOC
10 % .. 90 %), started at 50 % instead of 10 % so that the start holds free energy.
"""

from __future__ import annotations

import json

import catalogue as C
import numpy as np
import pytest
from pytest import approx

import gridc
from gridc.dsl import GridError, ir
from gridc.dsl import ir_planning as P
from gridc.dsl.fmt import format_text
from gridc.runtime.backend.solver import SolveStatus
from gridc.runtime.problem import Problem
from gridc.runtime.results import Result

F = "lindistflow"
PVF20 = (1.08 ** 20 - 1) / (0.08 * 1.08 ** 20)  # present value of 1 CNY/y over 20 y at 8 %


def operation(cyclic: bool) -> str:
    """The battery (100 kW, 200 kWh) starting at 50 % (100 kWh), with `cyclic` or not."""
    flag = ", cyclic" if cyclic else ""
    return C.storage(F).replace("soc_init 10 % }", f"soc_init 50 %{flag} }}")


def invested(cyclic: bool) -> str:
    """The storage investment (0 .. 100 kW at 200 CNY/kW, 0 .. 400 kWh at 300 CNY/kWh,
    life 20 y = the economics' life) starting at 50 % of the energy built."""
    flag = "  cyclic\n" if cyclic else ""
    return C.storage_invest(F, True).replace("soc_init 10 %\n", f"soc_init 50 %\n{flag}")


def solve(text: str) -> tuple[Problem, Result]:
    problem = gridc.compile(gridc.parse(text, "cyclic.grid"))
    result = problem.solve(gap=1e-9)
    assert result.status == SolveStatus.optimal, result.message
    return problem, result


def values(result: Result, block: str, **sel: object) -> list[float]:
    return [float(x) for x in np.ravel(result.dataset[block].sel(sel).values)]


def codes(text: str) -> list[str]:
    with pytest.raises(GridError) as err:
        gridc.parse(text, "cyclic.grid")
    return [d.code for d in err.value.diagnostics]


# ---------------------------------------------------------------------- operation


def test_free_start_energy_without_cyclic() -> None:
    """E_{−1} = 100 kWh, floor 20 kWh. A kWh bought at hour 0 returns 0.81 kWh at hour 1
    (worth 0.81 > 0.2), but discharge is capped at 100 kW (= the load, grid import 0 at
    hour 1), which needs E_0 ≥ 20 + 100 / 0.9 = 131.11 kWh: the 80 kWh above the floor
    are free, only the rest is bought.

        hour 0: charge (131.11 − 100) / 0.9 = 34.568 kW → grid (100 + 34.568) × 0.2 = 26.914
        hour 1: discharge 100 kW → E_1 = 20 kWh, grid 0
        optimum 26.914 CNY, the day ends 80 kWh below its start
    """
    problem, r = solve(operation(cyclic=False))
    assert "storage_end_of_day" not in problem.compiled.model.constraints
    assert r.objective == approx(0.2 * (100 + (20 + 100 / 0.9 - 100) / 0.9))
    assert r.objective == approx(26.9136, abs=1e-4)
    assert values(r, "storage_discharge", storage="bat") == [approx(0.0), approx(100.0)]
    assert values(r, "storage_energy", storage="bat") == [approx(20 + 100 / 0.9), approx(20.0)]


def test_cyclic_buys_back_the_start_energy() -> None:
    """With `cyclic`, E_1 ≥ 100 kWh: what is discharged at hour 1 must have been charged
    at hour 0 (d_1 ≤ 0.81 c_0), and a charged kW still saves 0.81 − 0.2 = 0.61 CNY, so
    charge as much as the ceiling allows: 100 + 0.9 c_0 ≤ 180 → c_0 = 88.889 kW.

        hour 0: grid (100 + 88.889) × 0.2 = 37.778, E_0 = 180 kWh
        hour 1: discharge 0.81 × 88.889 = 72 kW → E_1 = 100 kWh, grid 28 × 1.0 = 28
        optimum 65.778 CNY (against 26.914: the 80 free kWh are now paid for)
    """
    problem, r = solve(operation(cyclic=True))
    assert r.objective == approx(0.2 * (100 + 80 / 0.9) + 1.0 * (100 - 72))
    assert r.objective == approx(65.7778, abs=1e-4)
    assert values(r, "storage_charge", storage="bat") == [approx(80 / 0.9), approx(0.0)]
    assert values(r, "storage_discharge", storage="bat") == [approx(0.0), approx(72.0)]
    assert values(r, "storage_energy", storage="bat") == [approx(180.0), approx(100.0)]
    rows = problem.compiled.model.constraints["storage_end_of_day"]
    assert rows.sign.values.ravel().tolist() == [">="]
    assert rows.rhs.values.ravel().tolist() == [approx(100.0)]


def test_row_only_for_cyclic_units_in_every_scenario() -> None:
    """Two units, only `bat` cyclic, two scenarios: rows (scenario, bat) and no others."""
    text = operation(cyclic=True) + (
        "storage bat2 at b3 { power 50 kW, energy 100 kWh }\n"
        "scenarios s {\n  scenario a { probability 0.5 }\n  scenario b { probability 0.5 }\n}\n")
    problem = gridc.compile(gridc.parse(text, "cyclic.grid"))
    rows = problem.compiled.model.constraints["storage_end_of_day"]
    kept = (rows.labels != -1)
    assert set(rows.labels.dims) == {"scenario", "storage"}
    assert kept.sel(storage="bat").values.all()
    assert not kept.sel(storage="bat2").values.any()
    assert int(kept.sum()) == 2


# ---------------------------------------------------------------------- investment


def test_invested_without_cyclic_lives_off_its_start() -> None:
    """K = 365 × PVF(8 %, 20 y) = 3,583.6 per CNY/day. Uncycled, 0.4 E of the built
    energy is free each day: a stored kWh costs 300 / 0.4 = 750 CNY via capacity
    against 0.2 K / 0.9 = 796 via charging, and a kW discharged at hour 1 saves K: so
    d_1 = P = 100 kW from capacity alone, 0.9 × 0.4 E = 100 → E = 277.78 kWh, no charge.

        200 × 100 + 300 × 277.78 + K × 0.2 × 100 = 103,333.3 + 71,672.5 = 175,005.8 CNY
    """
    _, r = solve(invested(cyclic=False))
    energy = 100 / 0.36
    assert values(r, "storage_energy_size", storage="bess") == [approx(energy)]
    assert values(r, "storage_charge", storage="bess") == [approx(0.0, abs=1e-6)] * 2
    assert r.objective == approx(200 * 100 + 300 * energy + 365 * PVF20 * 20)
    assert r.objective == approx(175_005.8, abs=0.1)


def test_invested_cyclic_ends_at_its_own_start() -> None:
    """With `cyclic`: E_1 ≥ 0.5 E_size. Charging c at hour 0 needs 0.5 E + 0.9 c ≤ 0.9 E,
    E ≥ 2.25 c, and returns d_1 = 0.81 c; a kW of c costs 200 + 675 = 875 CNY and saves
    0.61 K = 2,186: build P = 100 kW (its max) and E = 225 kWh, daily 40 + 19 = 59 CNY.

        200 × 100 + 300 × 225 + K × 59 = 87,500 + 211,433.8 = 298,933.8 CNY
        E_0 = 112.5 + 90 = 202.5 = 0.9 E, E_1 = 112.5 = 0.5 × E_size

    Had the row used the largest size (0.5 × 400 = 200 kWh) instead of E_size, E_1 ≥ 200
    would need E ≥ 222 with a charge the 0.9 E ceiling cannot hold at E = 225.
    """
    problem, r = solve(invested(cyclic=True))
    assert values(r, "storage_power_size", storage="bess") == [approx(100.0)]
    assert values(r, "storage_energy_size", storage="bess") == [approx(225.0)]
    assert values(r, "storage_energy", storage="bess") == [approx(202.5), approx(112.5)]
    assert r.objective == approx(87_500 + 365 * PVF20 * 59)
    assert r.objective == approx(298_933.8, abs=0.1)
    # the row: +1 E_{T−1} − 0.5 E_size ≥ 0
    m = problem.compiled.model
    rows = m.constraints["storage_end_of_day"]
    size = int(m.variables["storage_energy_size"].labels.sel(storage="bess"))
    last = int(m.variables["storage_energy"].labels.isel(time=-1).sel(storage="bess").item())
    terms = dict(zip(rows.vars.values.ravel().tolist(), rows.coeffs.values.ravel().tolist()))
    assert terms[last] == approx(1.0)
    assert terms[size] == approx(-0.5)
    assert rows.rhs.values.ravel().tolist() == [approx(0.0)]


def test_existing_cyclic_unit_next_to_an_uncycled_investment() -> None:
    """An existing cyclic unit (100 kWh, soc_init the middle of 10 .. 90 %: 50 kWh) next
    to an investment without the flag: one row, for the existing unit, ≥ 50 kWh."""
    text = invested(cyclic=False) + "storage bat at b3 { power 50 kW, energy 100 kWh, cyclic }\n"
    problem = gridc.compile(gridc.parse(text, "cyclic.grid"))
    rows = problem.compiled.model.constraints["storage_end_of_day"]
    kept = rows.labels != -1
    assert kept.sel(storage="bat").values.all() and not kept.sel(storage="bess").values.any()
    assert rows.rhs.sel(storage="bat").values.ravel().tolist() == [approx(50.0)]


# ---------------------------------------------------------------------- language


def test_flag_reaches_the_ir_and_is_off_by_default() -> None:
    plain = gridc.parse(operation(cyclic=False), "cyclic.grid")
    cyc = gridc.parse(operation(cyclic=True), "cyclic.grid")
    assert plain.storages[0].cyclic is False and cyc.storages[0].cyclic is True
    # off: not in the dump (the IR of every model written without it is unchanged)
    assert "cyclic" not in json.loads(plain.model_dump_json(exclude={"sources"}))["storages"][0]
    dumped = json.loads(cyc.storages[0].model_dump_json())
    assert dumped["cyclic"] is True
    assert ir.Storage.model_validate(dumped) == cyc.storages[0]
    inv = gridc.parse(invested(cyclic=True), "cyclic.grid").investments[0]
    assert isinstance(inv, P.StorageBuild) and inv.cyclic
    assert not gridc.parse(invested(cyclic=False), "cyclic.grid").investments[0].cyclic


@pytest.mark.parametrize("bad, code", [
    ("soc_init 50 %, cyclic 1 }", "GRID014"),  # a flag takes no value
    ("soc_init 50 %, cyclic { } }", "GRID014"),
    ("soc_init 50 %, cyclc }", "GRID011"),  # unknown property
])
def test_storage_flag_diagnostics(bad: str, code: str) -> None:
    assert codes(operation(cyclic=False).replace("soc_init 50 % }", bad)) == [code]


def test_misspelt_flag_suggests_cyclic() -> None:
    with pytest.raises(GridError) as err:
        gridc.parse(operation(cyclic=False).replace("soc_init 50 % }", "soc_init 50 %, cylic }"),
                    "cyclic.grid")
    assert "did you mean 'cyclic'" in str(err.value)


def test_investment_flag_diagnostics() -> None:
    assert codes(invested(cyclic=False).replace("soc_init 50 %\n", "soc_init 50 %\n  cyclic 1\n")
                 ) == ["GRID014"]
    assert codes(invested(cyclic=False).replace("soc_init 50 %\n", "soc_init 50 %\n  cycle\n")
                 ) == ["GRID011"]


def test_set_cyclic_from_a_study_is_a_diagnostic() -> None:
    """Overrides set numbers and names only: `set bat.cyclic` is refused, not ignored."""
    with pytest.raises(GridError) as err:
        gridc.parse(operation(cyclic=False) + "study s { set bat.cyclic 1 }\n", "cyclic.grid")
    assert [d.code for d in err.value.diagnostics] == ["GRID048"]
    assert "'cyclic' cannot be set from a study" in str(err.value)


@pytest.mark.parametrize("text", [operation(True), invested(True)], ids=["storage", "invest"])
def test_fmt_round_trips_the_flag(text: str) -> None:
    once = format_text(text)
    assert format_text(once) == once
    assert "cyclic" in once
    strip = {"sources", "path"}

    def meaning(t: str) -> object:
        dump = gridc.parse(t, "cyclic.grid").model_dump(mode="json", exclude=strip)
        return json.dumps(_without_spans(dump), sort_keys=True)
    assert meaning(once) == meaning(text)


def _without_spans(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_spans(v) for k, v in value.items() if k != "span"}
    if isinstance(value, list):
        return [_without_spans(v) for v in value]
    return value
