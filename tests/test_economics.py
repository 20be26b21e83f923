"""Seed-000 upper-level cost accounting against the paper's Tables 2 and 3.

The unit costs come from models/ieee33_resilience.grid (CASES.md fixes them); the
plan is the `paper_plan` study's `fix` statements (Table 1, Method 1). The expected
numbers are the paper's printed values, compared at the printed precision.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import gridc
from gridc.compiler.core.plan import Plan, PlanError, plan_costs_of, plan_from_fixes
from gridc.data.economics import capital_recovery_factor, item_coefficients
from gridc.dsl import ir_planning as P

MODEL = Path(__file__).parents[1] / "models" / "ieee33_resilience.grid"


def printed(x: float) -> str:
    """Format as the paper prints: 5 significant digits (e.g. 5.2000e+06)."""
    return f"{x:.4e}"


def half_unit(printed_value: float) -> float:
    """Half a unit in the last of the 5 printed significant digits."""
    return 0.5 * 10 ** (int(f"{printed_value:.4e}".split("e")[1]) - 4)


def total_matches(total: float, paper_total: float, paper_operation: float) -> bool:
    """The paper's totals are computed from an operation cost that is itself printed
    to 5 digits, so a total can only be checked to the sum of both roundings."""
    return abs(total - paper_total) <= half_unit(paper_total) + half_unit(paper_operation)


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return gridc.load(MODEL)


def test_paper_plan_reproduces_table2_and_table3(model) -> None:  # type: ignore[no-untyped-def]
    plan = plan_from_fixes(model, model.study("paper_plan").fixes)
    costs = plan_costs_of(model, plan, operation_per_year=3.0601e6)
    assert printed(costs.installation) == "5.2000e+06"
    assert printed(costs.replacement) == "2.2035e+06"
    assert printed(costs.maintenance_per_year) == "2.6000e+04"
    assert costs.residual == pytest.approx(0.0)
    # Total comprehensive cost with the paper's own annual operation cost
    assert printed(costs.total_comprehensive) == "3.7437e+06"
    assert total_matches(costs.total_comprehensive, 3.7437e6, 3.0601e6)
    ev = next(i for i in model.investments if isinstance(i, P.EvBattery))
    assert plan.ev_capacity_kwh(ev) == 850.0


def test_other_methods_of_table2(model) -> None:  # type: ignore[no-untyped-def]
    """Methods 2-4 of Table 1 priced with the same unit costs give Table 2's rows."""
    m2 = Plan(mess={"MESS1": 1, "MESS2": 2, "MESS3": 1},
              packs={**{("RB1", b): 6 for b in ["7", "14", "18", "25", "31"]},
                     ("RB2", "14"): 3, ("RB2", "25"): 1, ("RB2", "31"): 4})
    c2 = plan_costs_of(model, m2, operation_per_year=1.4491e7)
    assert printed(c2.installation) == "8.2000e+06"
    assert printed(c2.replacement) == "3.7595e+06"
    assert printed(c2.maintenance_per_year) == "8.2000e+04"
    assert total_matches(c2.total_comprehensive, 1.5636e7, 1.4491e7)
    m3 = Plan(reinforced=("1-2", "27-28", "30-31"), packs={("RB1", "31"): 6, ("RB2", "31"): 4})
    c3 = plan_costs_of(model, m3, operation_per_year=6.5874e6)
    assert printed(c3.installation) == "2.6000e+06"
    assert printed(c3.replacement) == "4.4134e+05"
    assert printed(c3.maintenance_per_year) == "2.1500e+04"
    assert total_matches(c3.total_comprehensive, 6879000.0, c3.operation_per_year)
    m4 = Plan(reinforced=("1-2", "27-28", "30-31"), mess={"MESS1": 1, "MESS2": 2, "MESS3": 1})
    c4 = plan_costs_of(model, m4, operation_per_year=3.3063e6)
    assert printed(c4.installation) == "4.4400e+06"
    assert printed(c4.replacement) == "2.1959e+06"
    assert printed(c4.maintenance_per_year) == "7.5000e+03"
    assert total_matches(c4.total_comprehensive, 3903200.0, c4.operation_per_year)


def test_crf_and_replacement_rules() -> None:
    assert capital_recovery_factor(0.08, 30) == pytest.approx(0.0888, abs=5e-5)
    # life 12 y in a 30 y horizon: renewals at 12 and 24, 6 of 12 years left at the end
    c = item_coefficients(1000.0, 10.0, 12.0, 0.05, 30.0)
    assert c.replacement == pytest.approx(1000 * (1.05**-12 + 1.05**-24))
    assert c.residual == pytest.approx(1000 * 0.5 * 1.05**-30)
    # life longer than the horizon: no renewal, residual for the unused years
    c = item_coefficients(1000.0, 0.0, 40.0, 0.05, 30.0)
    assert c.replacement == 0.0
    assert c.residual == pytest.approx(1000 * 0.25 * 1.05**-30)


def test_bad_fix_is_reported_with_its_span(model) -> None:  # type: ignore[no-untyped-def]
    from gridc.dsl import ir

    span = model.study("paper_plan").fixes[0].span
    with pytest.raises(PlanError) as exc:
        plan_from_fixes(model, (ir.Fix(span=span, investment="mess", choice="MESS9",
                                       values=(1.0,)),))
    assert exc.value.span == span
