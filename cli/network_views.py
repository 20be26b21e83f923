"""Terminal tables of planning results: priced items, stations, network, cone, sub-cases.

Views of `summary["planning_items"]`, `["network"]`, `["pricing"]`, `["cone"]` and
`["subcases"]` (built by `gridc.runtime.strategies.registry`). Under `annualised` pricing the cost
table is seed 001's Table 5 (kYuan per year); stations are Table 6, the network Table 7.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _k(x: float | None) -> str:
    return "-" if x is None else f"{x / 1000.0:,.4f}"


def cone_table(c: dict[str, Any]) -> Table:
    t = Table(title="cone approximation (DistFlow ℓ·v ≥ P² + Q²)", show_header=False,
              title_justify="left")
    t.add_column("item", style="bold")
    t.add_column("value")
    if c["levels"]:
        acc = f"BTN, ν = {c['levels']} levels, dilation ≤ {c['accuracy']:.2e}"
    else:
        acc = "supporting planes refined by cuts (accuracy measured below)"
    t.add_row("approximation", acc)
    t.add_row("size", f"{c['cones']:,} cones, {c['rows']:,} rows, {c['cuts']} cut round(s) "
              f"({c.get('rounds', 0)} re-solve(s))")
    if c.get("plan_fixed_after"):
        t.add_row("plan", f"integer decisions fixed after {c['plan_fixed_after']} MILP "
                  "solve(s); later rounds refine the operation")
    t.add_row("largest violation", f"{c['max_violation']:.3e} p.u.")
    t.add_row("losses", f"{c['loss_model_kwh']:,.2f} kWh/day in the model, "
              f"{c['loss_exact_kwh']:,.2f} kWh/day exact at the solution: error "
              f"{100 * c['loss_error']:+.4f} % (worst step {100 * c['loss_error_max_step']:.4f} %)")
    t.add_row("voltages", f"largest |V − V_exact| {c['voltage_error_pu']:.2e} p.u.")
    return t


def cost_table(s: dict[str, Any]) -> Table:
    """Annual cost terms (Table 5 layout) of an annualised model, kYuan/y."""
    t = Table(title="annual comprehensive cost (kYuan/y, Table 5)", title_justify="left")
    t.add_column("term")
    t.add_column("kYuan/y", justify="right")
    costs = s.get("costs", {})
    t.add_row("annual comprehensive cost F", _k(s.get("objective")))
    names = {"construction": "construction", "operation": "energy purchase and operation",
             "maintenance": "operation-maintenance", "ev_carbon": "carbon trading of EVs"}
    for key, label in names.items():
        if key in costs:
            t.add_row(label, _k(costs[key]))
    return t


def items_table(p: dict[str, Any]) -> Table:
    t = Table(title="priced items at the solution", title_justify="left")
    for col in ("item", "of", "size", "install CNY", "annualised CNY/y", "O&M CNY/y"):
        t.add_column(col, justify="left" if col in ("item", "of") else "right")
    for it in p["items"]:
        t.add_row(it["group"], it["name"], f"{it['size']:,.2f} {it['unit']}",
                  f"{it['install']:,.0f}", f"{it['capital']:,.0f}", f"{it['maintain']:,.0f}")
    return t


def station_table(a: dict[str, Any]) -> Table:
    t = Table(title=f"stations, sub-case {a.get('subcase')} (Table 6)", title_justify="left")
    for col in ("station", "kind", "charger-I", "charger-II", "swapper", "storage kWh",
                "transformer kVA", "land m²", "peak kW"):
        t.add_column(col, justify="left" if col in ("station", "kind") else "right")
    for r in a["stations"]:
        t.add_row(r["station"], r["kind"], str(r["charger_1"]), str(r["charger_2"]),
                  str(r["swapper"]), f"{r['storage_kwh']:,.0f}", f"{r['transformer_kva']:,.0f}",
                  f"{r['area_m2']:,.0f}", f"{r['peak_kw']:,.0f}")
    return t


def network_table(s: dict[str, Any]) -> Table:
    n = s.get("network", {})
    p = s.get("planning_items", {})
    sizes = p.get("sizes", {})
    t = Table(title="network (Table 7)", show_header=False, title_justify="left")
    t.add_column("item", style="bold")
    t.add_column("value")
    for key, label, unit, k in (("wt", "WT", "kW", 1.0), ("pv", "PV", "kW", 1.0),
                                ("substation", "substation", "MVA", 1e-3)):
        if key in sizes:
            t.add_row(label, f"{sizes[key] * k:,.0f} {unit}")
    if "line_km" in n:
        t.add_row("line length", f"{n['line_km']:.4f} km")
    if "ev_carbon_t_per_year" in p:
        t.add_row("EV carbon", f"{p['ev_carbon_t_per_year']:,.4f} t/y")
    if p.get("distance_km_per_day"):
        t.add_row("EV driving", ", ".join(f"{k} {v:,.1f} km/day"
                                          for k, v in p["distance_km_per_day"].items()))
    if "v_min_pu" in n:
        t.add_row("voltage", f"{n['v_min_pu']:.4f} .. {n['v_max_pu']:.4f} p.u.")
        t.add_row("losses", f"{n['losses_kw_mean']:,.2f} kW mean, "
                  f"{n['losses_kw_peak']:,.2f} kW peak")
    if "lines_open" in n and (s.get("objective_kind") == "losses"
                              or len(n["lines_open"]) <= 10):
        t.add_row("lines open", ", ".join(n["lines_open"]) or "-")
    if "lines_built" in n:
        t.add_row("lines built", ", ".join(n["lines_built"]) or "-")
    return t


def subcase_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title="sub-cases (Figure 12)", title_justify="left")
    for col in ("sub-case", "status", "F kYuan/y", "EV carbon t/y", "solve s"):
        t.add_column(col, justify="left" if col in ("sub-case", "status") else "right")
    best = min((r["objective"] for r in rows if r["objective"] is not None), default=None)
    for r in rows:
        mark = " (best)" if r["objective"] is not None and r["objective"] == best else ""
        carbon = r.get("carbon_t_per_year")
        t.add_row(r["subcase"] + mark, r["status"], _k(r["objective"]),
                  "-" if carbon is None else f"{carbon:,.2f}",
                  "-" if r.get("solve_s") is None else f"{r['solve_s']:,.1f}")
    return t


def print_network(console: Console, s: dict[str, Any]) -> None:
    """Every planning and network table the summary holds."""
    if s.get("subcases"):
        console.print(subcase_table(s["subcases"]))
    p = s.get("planning_items")
    if p:
        if s.get("pricing", {}).get("rule") == "annualised":
            console.print(cost_table(s))
        console.print(items_table(p))
        if p.get("stations"):
            console.print(station_table(p))
    table = network_table(s)
    if table.row_count:
        console.print(table)
    if s.get("cone"):
        console.print(cone_table(s["cone"]))
