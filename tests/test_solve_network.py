"""Network-only snapshots: LinDistFlow voltages by hand, and the IEEE 33-bus feeder."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import gridc
from gridc.runtime.backend.solver import SolveStatus
from gridc.runtime.problem import Problem

IEEE33 = Path(__file__).resolve().parents[1] / "models" / "ieee33.grid"

TWO_BUS = """model two
network n {
  base 10 kV 1 MVA
  slack a at 1.02 pu
  voltage 0.9 .. 1.1 pu
  buses table {
    id p[kW] q[kvar]
    a  0    0
    b  1000 500
  }
  lines table {
    from to r[ohm] x[ohm]
    a    b  1      2
  }
}
"""


def test_two_bus_drop_matches_the_formula() -> None:
    result = gridc.compile(gridc.parse(TWO_BUS)).solve()
    assert result.status is SolveStatus.optimal
    ds = result.dataset
    # w_b = w_a - 2 (r P + x Q) / (1000 kV^2) with P, Q in kW, kvar
    w_b = 1.02 ** 2 - 2 * (1 * 1000 + 2 * 500) / (1000 * 10 ** 2)
    assert float(ds["bus_w"].sel(bus="b").item()) == pytest.approx(w_b, abs=1e-9)
    assert float(ds["bus_v"].sel(bus="b").item()) == pytest.approx(math.sqrt(w_b), abs=1e-9)
    assert float(ds["line_p"].item()) == pytest.approx(1000.0)
    assert float(ds["line_q"].item()) == pytest.approx(500.0)
    assert float(ds["gen_p"].sel(gen="grid").item()) == pytest.approx(1000.0)
    assert result.costs == {"grid": 0.0}  # no price given


def test_reverse_flow_is_negative() -> None:
    text = TWO_BUS.replace("a    b  1      2", "b    a  1      2")
    ds = gridc.compile(gridc.parse(text)).solve().dataset
    assert float(ds["line_p"].item()) == pytest.approx(-1000.0)
    assert float(ds["bus_w"].sel(bus="b").item()) == pytest.approx(
        1.02 ** 2 - 2 * (1000 + 2 * 500) / 1e5, abs=1e-9)


def test_ieee33_snapshot() -> None:
    """One period, no outage, only the grid import at the slack bus."""
    text = f'model snap\nimport "{IEEE33}"\nstudy s {{ set network.v_min_pu 0.9 }}\n'
    problem = gridc.compile(gridc.parse(text, "snap.grid"))
    assert isinstance(problem, Problem)
    result = problem.solve()
    assert result.status is SolveStatus.optimal
    ds = result.dataset
    assert ds["bus_v"].dims == ("scenario", "time", "bus")
    assert ds["bus_v"].sizes == {"scenario": 1, "time": 1, "bus": 33}
    v = ds["bus_v"].isel(scenario=0, time=0)
    # LinDistFlow neglects losses: the far end sits a little above the AC value (0.904)
    assert str(v.idxmin().item()) == "18"
    assert 0.90 < float(v.min()) < 0.92
    grid = ds["gen_p"].sel(gen="grid").item()
    assert grid == pytest.approx(3715.0)  # lossless: the import is the total load
    assert ds["gen_q"].sel(gen="grid").item() == pytest.approx(2300.0)
    assert result.summary["voltage"]["min"]["bus"] == "18"


def test_ieee33_at_its_own_voltage_limits_is_infeasible() -> None:
    """The imported network keeps 0.95 p.u., which the peak load cannot meet."""
    result = gridc.compile(gridc.load(IEEE33)).solve()
    assert result.status is SolveStatus.infeasible
    assert not result.ok and result.objective is None
