"""`--diagnose` on planning models: the elastic variant goes through the same compile path,
so a model with investments (DG sizing, a storage investment, reinforcement) is explained
like an operation model, under either formulation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridc.dsl import parse
from gridc.runtime.diagnose import diagnose

FEEDER = (Path(__file__).resolve().parent / "models" / "feeder8.grid").read_text()
# no shedding (demand is hard) and a storm that cuts b2-b5 all day: b5..b8 are an island
# that the battery, a PV plant and a storage investment cannot carry through the night
PLANNING = FEEDER.replace("penalty shed 5 CNY/kWh weighted by priority\n", "").replace(
    "outage b2-b5 from 10 h to 14 h", "outage b2-b5 from 0 h to 24 h") + """
invest pv_b7 : dg at b7 {
  source pv
  unit 50 kW
  capacity 0 .. 100 kW
  profile sun
  install 3000 CNY/kW
  life 20 y
}
invest bess : storage at b7 {
  power 0 .. 50 kW
  energy 0 .. 100 kWh
  install 600 CNY/kW
  install 900 CNY/kWh
  life 10 y
}
study lin { formulation lindistflow }
study dist { formulation distflow }
"""
ISLAND = {"b5", "b6", "b7", "b8"}


@pytest.mark.parametrize("study", ["lin", "dist"])
def test_planning_model_shortfall_is_blamed_on_the_island(study: str) -> None:
    diag = diagnose(parse(PLANNING, "planning.grid"), study=study)
    assert diag.status.ok
    balance = [f for f in diag.findings if f.block == "nodal_p"]
    assert balance, diag.findings
    assert {f.label for f in balance} <= ISLAND  # never the connected part of the feeder
    assert all(f.scenarios == ("storm",) for f in balance)
    assert all(f.where.startswith("planning.grid:") for f in balance)
