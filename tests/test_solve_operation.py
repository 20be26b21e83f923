"""The shipped day of operation: `gridc solve models/ieee33_operation.grid`.

The shed energy of the two outage scenarios follows from an energy balance of the
islands (LinDistFlow is lossless, shedding costs 20 CNY/kWh, far above any energy price,
so every island serves what its local sources can give):

* lateral (6-26 out 10:00-16:00): buses 26-33 (920 kW) plus the hospital (80 kW) times
  the load shape of steps 10-15 (5.69) = 5690 kWh; pv2 gives 200 kW x 5.0 = 1000 kWh and
  the storage, charged to 90 % before, (720 - 80) kWh x 0.95 = 608 kWh: 4082 kWh shed;
* feeder (3-4 out 08:00-12:00): buses 4-18 and 26-33 (2235 kW) plus the hospital times
  3.77 = 8727.55 kWh; the gas turbine 1600 kWh, PV at 40 % 500 kW x 0.4 x 2.8 = 560 kWh and
  the storage 608 kWh: 5959.55 kWh shed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridc.cli.main import main

MODEL = Path(__file__).resolve().parents[1] / "models" / "ieee33_operation.grid"


def test_solve_the_shipped_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(MODEL), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "optimal" in out and "min voltage" in out
    s = json.loads((tmp_path / "summary.json").read_text())
    shed = s["shed"]["by_scenario_kwh"]
    assert shed["normal"] == pytest.approx(0.0, abs=1e-6)
    assert shed["lateral"] == pytest.approx(4082.0, abs=1e-3)
    assert shed["feeder"] == pytest.approx(5959.55, abs=1e-3)
    assert s["costs"]["shed"] == pytest.approx(20 * (0.06 * 4082.0 + 0.04 * 5959.55), rel=1e-6)
    assert s["objective"] == pytest.approx(sum(s["costs"].values()), rel=1e-9)
    assert s["gap"] is not None and s["gap"] <= 1e-4
    assert s["voltage"]["min"]["v_pu"] >= 0.9 - 1e-9
