"""The paper's Method 1 plan (study `paper_plan` of models/ieee33_resilience.grid), fixed.

Why a reduced model: with the plan fixed the investment rows are data, and the cost rows
checked here (installation 5.2e6 CNY, maintenance 2.6e4 CNY/y: Table 2; EV-RB capacity
850 kWh: Table 3) follow from the fixed decision bounds alone. Any feasible point reports
them exactly, so the history is clustered into one typical day and the solve is cut at a
few seconds; the operation cost itself is not asserted here (see docs/case-resilience.md
for full solves).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

import gridc
from gridc.cli.plan_views import print_planning
from gridc.compiler import compile_model
from gridc.compiler.core.plan import plan_costs_of, plan_from_fixes
from gridc.runtime.problem import Problem

CASE = Path(__file__).resolve().parents[1] / "models" / "ieee33_resilience.grid"


def one_typical_day(model):  # type: ignore[no-untyped-def]
    sets = tuple(s.model_copy(update={"history": s.history.model_copy(update={"k": 1})})
                 if s.history is not None else s for s in model.scenario_sets)
    return model.model_copy(update={"scenario_sets": sets})


def test_paper_plan_costs_and_capacity() -> None:
    model = one_typical_day(gridc.load(CASE))
    compiled = compile_model(model, study="paper_plan")
    assert [s.probability for s in compiled.scenarios.scenarios] == [1.0]
    result = Problem(compiled).solve(threads=1, time_limit=20, gap=0.05)
    assert result.status.ok, result.message
    ds = result.dataset
    assert result.costs["installation"] == pytest.approx(5.2e6, abs=1e-3)
    assert result.costs["maintenance"] == pytest.approx(2.6e4, abs=1e-6)
    assert sorted(ds["reinforced"].where(ds["reinforced"] > 0.5, drop=True).line.values) \
        == ["1-2", "27-28", "30-31"]
    assert [round(float(v)) for v in ds["mess_units"].values] == [0, 2, 1]
    kwh = {"RB1": 75.0, "RB2": 100.0}
    capacity = sum(kwh[str(k)] * float(ds["ev_packs"].sel(pack_type=k).sum())
                   for k in ds["pack_type"].values)
    assert capacity == pytest.approx(850.0)
    # the compiled terms equal the pure pricing of the same plan (compiler.core.plan)
    plan = plan_from_fixes(compiled.study.model, compiled.study.fixes)
    priced = plan_costs_of(compiled.study.model, plan)
    assert result.costs["replacement"] == pytest.approx(priced.replacement, rel=1e-9)
    assert result.costs["residual"] == pytest.approx(priced.residual, abs=1e-6)
    # the CLI report prints the numbers of the paper's Tables 1-3 in the model's words
    # (its investment names) and currency, with thousands separators
    assert result.summary["decisions"]["ev_capacity_kwh"] == pytest.approx(850.0)
    console = Console(record=True, width=200)
    print_planning(console, result.summary)
    text = console.export_text()
    for needle in ("5,200,000.00 CNY", "26,000.00 CNY/y", "ev_battery: capacity",
                   "850 kWh", "reinforcement: lines reinforced", "1-2, 27-28, 30-31",
                   "mess: MESS2 units", "0,0,0,0,6", "0,0,0,0,4"):
        assert needle in text
