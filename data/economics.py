"""Upper-level cost accounting of seed 000 (resilience planning), as pure numbers.

The seed's upper-level objective is

    min  C_ins + C_rep - C_rec + C_om + PVF * C_op,   PVF = ((1+z)^T - 1) / (z (1+z)^T)

over a planning horizon of T years at discount rate z. For every investable item
(a reinforced line, a MESS unit of one type, an EV-RB pack of one type) this module
gives the coefficient that multiplies its count in each term, so that the compiler
can build the terms as linear expressions of the integer decisions and the report
can evaluate a fixed plan:

* installation  C_ins: the unit price, paid in year 0;
* replacement   C_rep: an item whose life L is shorter than T is bought again at
  years L, 2L, ... < T; each purchase is discounted to year 0: sum_k (1+z)^(-kL);
* residual      C_rec: the value left at year T of the last purchase, straight-line
  depreciated and discounted: price * (1 - (T - k_last L)/L) * (1+z)^(-T);
* maintenance   C_om: the paper's tables give it as an annual amount; in the
  objective it is brought to present value with the same PVF as operation (the seed
  writes C_om next to PVF * C_op; an annual sum added to present values would mix
  units, so we read it as its present value; the annual figure is reported too).

The paper's "total comprehensive cost" (Tables 2-3) is the equivalent annual cost
CRF * (C_ins + C_rep - C_rec) + annual maintenance + annual operation, with
CRF = 1 / PVF (0.0888 at 8 % over 30 years): CASES.md checks this against every
printed digit. It equals CRF times the objective above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def present_value_factor(rate: float, years: float) -> float:
    """PVF = ((1+z)^T - 1) / (z (1+z)^T): present value of 1 per year for T years
    (1/z when (1+z)^T overflows: the limit for a very long horizon)."""
    if rate == 0:
        return years
    try:
        g = (1.0 + rate) ** years
    except OverflowError:
        return 1.0 / rate
    if math.isinf(g):
        return 1.0 / rate
    return (g - 1.0) / (rate * g)


def capital_recovery_factor(rate: float, years: float) -> float:
    """CRF = 1 / PVF: the equivalent annual cost of 1 paid today."""
    return 1.0 / present_value_factor(rate, years)


@dataclass(frozen=True)
class ItemCoefficients:
    """Cost of one unit of an item, per term of the seed-000 objective (CNY)."""

    install: float
    replacement: float
    residual: float
    maintain_per_year: float
    maintain_present: float

    @property
    def capital(self) -> float:
        """Installation + replacement - residual: the capital part of the objective."""
        return self.install + self.replacement - self.residual


#: Renewals an item may have over the horizon (the checks hold lives to 0.1 .. 200 y and
#: the horizon to 200 y: at most 2,000); beyond, the coefficients mean nothing.
MAX_RENEWALS = 1_000_000


def item_coefficients(install: float, maintain_per_year: float, life_y: float,
                      rate: float, horizon_y: float) -> ItemCoefficients:
    """Per-unit coefficients of an item bought at year 0 and renewed every `life_y`."""
    if not life_y > 0:
        raise ValueError("life must be positive")
    if not horizon_y / life_y <= MAX_RENEWALS:
        raise ValueError(f"a life of {life_y:g} y is renewed more than {MAX_RENEWALS:,} times "
                         f"over {horizon_y:g} y")
    # purchases after the first: years L, 2L, ... strictly inside the horizon, each
    # discounted by q^k with q = (1+z)^-L: a geometric series, summed in closed form
    renewals = max(0, math.ceil(horizon_y / life_y - 1e-9) - 1)
    q = (1.0 + rate) ** (-life_y)
    series = float(renewals) if q == 1.0 else q * (1.0 - q ** renewals) / (1.0 - q)
    replacement = install * series
    last_purchase = renewals * life_y
    used = horizon_y - last_purchase
    remaining_fraction = max(0.0, 1.0 - used / life_y)
    residual = install * remaining_fraction * (1.0 + rate) ** (-horizon_y)
    pvf = present_value_factor(rate, horizon_y)
    return ItemCoefficients(install=install, replacement=replacement, residual=residual,
                            maintain_per_year=maintain_per_year,
                            maintain_present=maintain_per_year * pvf)


@dataclass(frozen=True)
class PlanCosts:
    """The seed-000 cost rows for one plan (Table 2 layout), in CNY."""

    installation: float
    replacement: float
    residual: float
    maintenance_per_year: float
    operation_per_year: float
    rate: float
    horizon_y: float

    @property
    def pvf(self) -> float:
        return present_value_factor(self.rate, self.horizon_y)

    @property
    def objective(self) -> float:
        """C_ins + C_rep - C_rec + PVF (C_om + C_op): the upper-level objective."""
        return (self.installation + self.replacement - self.residual
                + self.pvf * (self.maintenance_per_year + self.operation_per_year))

    @property
    def total_comprehensive(self) -> float:
        """Equivalent annual cost, the paper's 'total comprehensive cost'."""
        return self.objective / self.pvf


def plan_costs(items: list[tuple[ItemCoefficients, float]], operation_per_year: float,
               rate: float, horizon_y: float) -> PlanCosts:
    """Sum (coefficients, count) pairs into the cost rows of one plan."""
    return PlanCosts(
        installation=sum(c.install * n for c, n in items),
        replacement=sum(c.replacement * n for c, n in items),
        residual=sum(c.residual * n for c, n in items),
        maintenance_per_year=sum(c.maintain_per_year * n for c, n in items),
        operation_per_year=operation_per_year,
        rate=rate,
        horizon_y=horizon_y,
    )
