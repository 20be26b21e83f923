"""Physical units, checked by dimension with pint and normalised to one canonical set.

Canonical units in the IR (every IR field name says which):
power kW (kvar and kVA share the dimension), energy kWh, voltage kV, impedance ohm,
length km, time h, lifetimes y, money in the model currency unit CNY, area m2,
mass t (carbon), speeds km/h, fractions as plain numbers (8 % -> 0.08).
Currencies (CNY, Yuan, kCNY, kYuan, MCNY, ...) are units of a dimension of their own,
so '400 kCNY' converts to 400000 CNY and 'kW' where money is expected is an error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pint


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """The unit registry, built once per process. Parsing pint's definition file costs
    about 0.9 s of CPU, most of `gridc check` on a small model; pint's own cache of the
    parsed definitions (`cache_folder=":auto:"`, the user's cache folder) brings that to
    about 0.06 s from the second run on. Where no cache folder can be written, the
    registry is built without one (slower, same units)."""
    options: dict[str, Any] = {"on_redefinition": "ignore",
                               "autoconvert_offset_to_baseunit": True}
    try:
        ureg: pint.UnitRegistry = pint.UnitRegistry(cache_folder=":auto:", **options)
    except OSError:
        ureg = pint.UnitRegistry(**options)
    ureg.define("CNY = [currency] = Yuan = yuan = RMB")
    ureg.define("kCNY = 1000 CNY")
    ureg.define("kYuan = 1000 CNY = kyuan")
    ureg.define("MCNY = 1e6 CNY")
    ureg.define("MYuan = 1e6 CNY")
    ureg.define("wCNY = 1e4 CNY")  # 万元, common in Chinese planning reports
    ureg.define("var = V * A")  # reactive power shares the dimension of VA and W
    ureg.define("pu = 1 = p.u.")
    ureg.define("y = year = yr")
    ureg.define("m2 = m ** 2")
    ureg.define("km2 = km ** 2")
    ureg.define("vehicle = 1 = vehicles = veh")
    ureg.define("unit = 1 = units")
    return ureg


@dataclass(frozen=True)
class Expect:
    """What a property expects: its canonical unit and a human description."""

    unit: str
    what: str
    example: str


# Canonical targets used across the IR builders.
POWER = Expect("kW", "a power", "400 kW")
ENERGY = Expect("kWh", "an energy", "800 kWh")
VOLTAGE = Expect("kV", "a voltage", "12.66 kV")
IMPEDANCE = Expect("ohm", "an impedance", "0.0922 ohm")
SUSCEPTANCE = Expect("uS", "a susceptance", "28 uS")
IMPEDANCE_PER_KM = Expect("ohm/km", "an impedance per length", "0.4 ohm/km")
LENGTH = Expect("km", "a length", "1.5 km")
DURATION = Expect("h", "a duration", "1 h")
LIFETIME = Expect("y", "a lifetime", "30 y")
MONEY = Expect("CNY", "an amount of money", "400 kCNY")
MONEY_PER_YEAR = Expect("CNY/y", "money per year", "1.5 kCNY/y")
PRICE_ENERGY = Expect("CNY/kWh", "a price per energy", "0.6 CNY/kWh")
PRICE_POWER = Expect("CNY/kW", "a price per power", "3 kYuan/kVA")
PRICE_POWER_YEAR = Expect("CNY/kW/y", "a yearly cost per power", "0.1 kYuan/kVA/y")
PRICE_ENERGY_CAP = Expect("CNY/kWh", "a price per energy capacity", "1 kYuan/kWh")
PRICE_ENERGY_CAP_YEAR = Expect("CNY/kWh/y", "a yearly cost per energy capacity", "0.05 kYuan/kWh/y")
PRICE_LENGTH = Expect("CNY/km", "a price per length", "500 kYuan/km")
PRICE_LENGTH_YEAR = Expect("CNY/km/y", "a yearly cost per length", "1 kYuan/km/y")
PRICE_AREA = Expect("CNY/m2", "a price per area", "0.22 kYuan/m2")
PRICE_MASS = Expect("CNY/t", "a price per tonne", "0.13 kYuan/t")
AREA = Expect("m2", "an area", "25 m2")
AREA_PER_ENERGY = Expect("m2/kWh", "an area per energy", "0.2 m2/kWh")
MASS_PER_ENERGY = Expect("t/kWh", "an emission factor", "1.08e-3 t/kWh")
ENERGY_PER_LENGTH = Expect("kWh/km", "an energy use per distance", "0.25 kWh/km")
SPEED = Expect("km/h", "a speed", "40 km/h")
FRACTION = Expect("", "a fraction", "8 % or 0.08")
PER_UNIT = Expect("pu", "a per-unit value", "1.0 pu")
COUNT = Expect("", "a count", "4")


class UnitError(Exception):
    """A unit that is unknown or of the wrong dimension (converted to a diagnostic)."""

    def __init__(self, code: str, message: str, help: str):
        super().__init__(message)
        self.code = code
        self.help = help


#: What a unit may look like: the grammar's `unit` (names with small integer powers
#: joined by / or *), or %. CSV and table headers are free text, and pint evaluates
#: what it is given (`10**10**10` would never return), so anything else is refused.
_UNIT_TEXT = re.compile(
    r"\s*(%|[A-Za-z_][A-Za-z0-9_.]*(\^-?[0-9]{1,2})?"
    r"(\s*[/*]\s*[A-Za-z_][A-Za-z0-9_.]*(\^-?[0-9]{1,2})?)*)\s*"
)


def _parse_unit(text: str) -> pint.Unit:
    ureg = registry()
    if not _UNIT_TEXT.fullmatch(text):
        raise UnitError("GRID020", f"unknown unit '{text}'",
                        "units are names with small powers joined by / or *, like kW, kWh, "
                        "kvar, kV, ohm, km, h, y, %, CNY, kCNY/y, CNY/kWh, m^2")
    try:
        return ureg.Unit(text.replace("%", "percent"))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError,
            AttributeError, TypeError, ValueError, SyntaxError, AssertionError) as exc:
        raise UnitError("GRID020", f"unknown unit '{text}'",
                        "units are written like kW, kWh, kvar, kV, ohm, km, h, y, %, "
                        "CNY, kCNY/y, CNY/kWh") from exc


@lru_cache(maxsize=4096)
def factor(unit: str | None, expect: Expect) -> float:
    """The factor that converts a value written in `unit` into `expect.unit`.

    A missing unit is accepted only where the canonical unit is dimensionless.
    """
    ureg = registry()
    target = ureg.Unit(expect.unit) if expect.unit else ureg.dimensionless
    if unit is None or unit == "":
        if target.dimensionless:
            return 1.0
        raise UnitError("GRID022", f"missing unit: expected {expect.what}",
                        f"write it with its unit, e.g. {expect.example}")
    src = _parse_unit(unit)
    if src.dimensionality != target.dimensionality:
        raise UnitError(
            "GRID021",
            f"'{unit}' is not {expect.what}",
            f"expected {expect.what} such as {expect.example}",
        )
    problem = UnitError("GRID020", f"unit '{unit}' is out of range",
                        f"write {expect.what} such as {expect.example}")
    try:
        value = float(ureg.Quantity(1.0, src).to(target).magnitude)
    except (ArithmeticError, ValueError) as exc:  # e.g. %^-99 overflows a float
        raise problem from exc
    if not math.isfinite(value) or value == 0.0:
        raise problem
    return value


def convert(value: float, unit: str | None, expect: Expect) -> float:
    return value * factor(unit, expect)
