"""Words and numbers as the user's model says them, for every terminal view.

Why one module: the views of one result (`views`, `plan_views`, `network_views`) and
of a search (`pso`, `studies`) must say the same amount the same way, and they import
this module, never each other. Everything reads the summary dict:

* money is stored in CNY and shown in the model's currency (`summary["currency"]`,
  from `economics { currency ... }`, default CNY) with thousands separators;
* times are hh:mm from the step length (`summary["voltage"]["min"]["clock"]`);
* the objective is named by what it is (`summary["objective_is"]`) and shown per day,
  per year or as a present value as the model's pricing says, or in kWh per day for
  `objective losses`;
* cost terms are words with their basis (`daily_grid` -> "grid energy purchase, per day").
"""

from __future__ import annotations

from typing import Any

#: the cost terms of `summary["costs"]` in words (`daily_<term>`: the term per day)
TERM_WORDS = {
    "shed": "load shedding", "curtailment": "curtailment", "grid": "grid energy purchase",
    "fuel": "generator fuel", "storage_wear": "storage wear", "line_flow": "line flow penalty",
    "mess_wear": "mobile storage wear", "ev_battery_loss": "EV battery losses",
    "installation": "installation", "replacement": "replacements",
    "residual": "residual value (credited)", "maintenance": "maintenance",
    "operation": "operation", "construction": "construction (annualised)",
    "ev_carbon": "EV carbon emissions", "losses_kwh": "line losses",
}


def currency(s: dict[str, Any]) -> tuple[str, float]:
    """(currency unit, CNY per unit) of a summary; CNY for summaries without one."""
    cur = s.get("currency") or {}
    return str(cur.get("unit", "CNY")), float(cur.get("cny_per_unit", 1.0))


def format_money(cny: float | None, unit: str = "CNY", cny_per_unit: float = 1.0,
                 decimals: int = 2, per: str = "") -> str:
    """An amount stored in CNY, shown in `unit` with thousands separators:
    format_money(10659.21) == "10,659.21 CNY"; format_money(2.5e6, "kCNY", 1000.0, 0,
    "/y") == "2,500 kCNY/y"."""
    if cny is None or cny != cny:  # None or NaN
        return "-"
    value = cny / cny_per_unit
    if round(value, decimals) == 0:
        value = 0.0  # not "-0.00"
    return f"{value:,.{decimals}f} {unit}{per}"


def money(cny: float | None, s: dict[str, Any], per: str = "", decimals: int = 2) -> str:
    """`format_money` in the currency of summary `s`."""
    unit, factor = currency(s)
    return format_money(cny, unit, factor, decimals, per)


def figure(cny: float | None, s: dict[str, Any], decimals: int = 0) -> str:
    """An amount in the currency of summary `s` without the unit (for table cells under
    a header that names it)."""
    unit, factor = currency(s)
    return format_money(cny, unit, factor, decimals).removesuffix(f" {unit}")


def amount(x: float | None, unit: str) -> str:
    return "-" if x is None else f"{x:,.2f} {unit}"


def when(v: dict[str, Any]) -> str:
    """The time of a summary entry as hh:mm (the step index for older summaries)."""
    return str(v["clock"]) if v.get("clock") else f"step {v['time']}"


def voltage_at(v: dict[str, Any] | None) -> str:
    """A voltage extreme of the summary: value, bus, scenario and clock time."""
    if not v:
        return "-"
    return f"{v['v_pu']:.4f} p.u. at bus {v['bus']} ({v['scenario']}, {when(v)})"


def objective_per(s: dict[str, Any]) -> str:
    """The time basis of the objective's amount: "/day", "/y" or "" (a present value)."""
    rule = (s.get("pricing") or {}).get("rule", "daily")
    return {"daily": "/day", "annualised": "/y"}.get(rule, "")


def objective_value(x: float | None, s: dict[str, Any], decimals: int = 2) -> str:
    """The objective (or bound) in its own unit: kWh per day for `objective losses`,
    else money in the model's currency, per day or per year as the pricing says."""
    if s.get("objective_kind") == "losses":
        return amount(x, "kWh/day")
    return money(x, s, objective_per(s), decimals)


def term_label(name: str) -> str:
    """A cost term in words: `daily_grid` -> "grid energy purchase" (its value says
    /day, see `term_value`); unknown terms with spaces for underscores."""
    base = name.removeprefix("daily_")
    return TERM_WORDS.get(base, base.replace("_", " "))


def term_value(name: str, value: float | None, s: dict[str, Any]) -> str:
    """A cost term's amount with its basis: /day for daily terms (and every term of an
    operation model), none for present values, /y for yearly terms."""
    if name.endswith("_kwh"):
        return amount(value, "kWh/day")
    rule = (s.get("pricing") or {}).get("rule", "daily")
    if rule == "daily" or name.startswith("daily_"):
        return money(value, s, "/day")
    if name in ("installation", "replacement", "residual"):
        return money(value, s)
    return money(value, s, "/y")


