"""A storm that cuts a cable feeder in two leaves a dead island (nothing can feed it):
its loads are shed and its cables' charging and capacitor banks inject nothing.

Before, the charging b·V² of the island's cables was still injected with nowhere to go,
so every cable feeder became infeasible as soon as an outage cut a part off.
`compiler.core.branches.dead_buses` finds the dead cells from the data alone.
"""

from __future__ import annotations

import numpy as np
import pytest

import gridc
from gridc.compiler.core.branches import dead_buses, supply_buses
from gridc.compiler.core.line_state import line_states
from gridc.runtime.status import SolveStatus

FEEDER = """model cut "a cable feeder cut by a storm"
horizon 4 h step 1 h
{formulation}
network n {{
  base 10 kV 1 MVA
  slack s at 1.0 pu
  voltage 0.9 .. 1.1 pu
  buses table {{
    id  p[kW]  q[kvar]  priority
    s   0      0        1
    a   300    100      1
    b   200    50       2
    c   100    30       1
  }}
  lines table {{
    from  to  r[ohm]  x[ohm]  b[uS]  rating[kVA]
    s     a   0.3     0.2     80     2000
    a     b   0.4     0.3     60     2000
    a     c   0.4     0.3     60     2000
  }}
  shunts table {{
    bus  q[kvar]
    b    40
  }}
}}
price grid 0.5 CNY/kWh
penalty shed 10 CNY/kWh weighted by priority
{extra}
scenarios storm {{
  scenario calm {{ probability 0.5 }}
  scenario cut {{ probability 0.5, outage s-a from 1 h to 3 h }}
}}
"""


@pytest.mark.parametrize("formulation", ["lindistflow", "distflow"])
def test_dead_island_is_shed_not_infeasible(formulation: str) -> None:
    """Hand-derived: in `cut`, s-a is out for 2 h and a, b, c (600 kW, priorities 1, 2,
    1) are a dead island: shed 2 h × 600 kW = 1,200 kWh, priced 2 × 10 × (300 + 2·200 +
    100) = 16,000 CNY; half of it in expectation (probability 0.5). Before the fix the
    island's 3 cables' charging made this model infeasible."""
    text = FEEDER.format(formulation=f"formulation {formulation}", extra="")
    problem = gridc.compile(gridc.parse(text, "cut.grid"))
    result = problem.solve(gap=1e-9)
    assert result.status == SolveStatus.optimal, result.message
    shed = result.dataset["bus_shed_p"]
    assert float(shed.sel(scenario="cut").sum()) == pytest.approx(1200.0, rel=1e-6)
    assert float(shed.sel(scenario="calm").sum()) == pytest.approx(0.0, abs=1e-6)
    cut = result.summary["costs_by_scenario"]["cut"]
    assert cut["shed"] == pytest.approx(16000.0, rel=1e-6)
    if formulation == "lindistflow":  # no losses: 600 kW bought for the 2 live hours
        assert cut["grid"] == pytest.approx(0.5 * 600 * 2, rel=1e-6)


def _dead(text: str) -> np.ndarray:
    model = gridc.parse(text, "cut.grid")
    problem = gridc.compile(model)
    b = problem.compiled.builder
    states = line_states(b, None, None)
    return dead_buses(b.idx, states.on, supply_buses(b.model)).values


def test_only_islands_without_any_supply_are_dead() -> None:
    """The island a, b, c is dead in `cut` at 1-2 h only; a battery at c (a possible
    supply) keeps it live, and then its shunts stay (the model decides how it runs)."""
    dead = _dead(FEEDER.format(formulation="", extra=""))
    # scenario order: calm, cut; buses s, a, b, c
    assert not dead[0].any()
    assert dead[1, 1:3, 1:].all() and not dead[1, [0, 3]].any() and not dead[1, :, 0].any()
    battery = 'storage bat at c { power 100 kW, energy 200 kWh }'
    assert not _dead(FEEDER.format(formulation="", extra=battery)).any()
