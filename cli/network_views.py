"""Terminal tables of planning results: priced items, stations, network, cone, sub-cases.

Views of `summary["planning_items"]`, `["network"]`, `["pricing"]`, `["cone"]` and
`["subcases"]` (built by `gridc.runtime.strategies.registry`). Under `annualised` pricing the
cost table gives the annual cost by term. Amounts are in the model's currency
(`gridc.cli.labels`); docs/case-css-adn.md says which paper table each one reproduces.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gridc.cli.labels import currency, figure, money, term_label


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
    """The annual cost by term of an annualised model, in the model's currency per year."""
    t = Table(title="annual cost", title_justify="left")
    t.add_column("term")
    t.add_column("amount", justify="right")
    t.add_row("annual cost (objective)", money(s.get("objective"), s, "/y"))
    for key, value in s.get("costs", {}).items():
        if not key.startswith("daily_"):
            t.add_row(f"  {escape(term_label(key))}", money(value, s, "/y"))
    return t


def items_table(s: dict[str, Any]) -> Table:
    """Every priced item at the solution: size, install, annualised capital and O&M."""
    unit, _ = currency(s)
    t = Table(title="priced items at the solution", title_justify="left")
    for col in ("item", "of", "size", f"install {unit}", f"annualised {unit}/y",
                f"O&M {unit}/y"):
        t.add_column(col, justify="left" if col in ("item", "of") else "right")
    for it in s["planning_items"]["items"]:
        t.add_row(escape(str(it["group"])), escape(str(it["name"])),
                  f"{it['size']:,.2f} {it['unit']}",
                  *(figure(it[k], s) for k in ("install", "capital", "maintain")))
    return t


def station_table(a: dict[str, Any]) -> Table:
    t = Table(title=escape(f"stations, sub-case {a.get('subcase')}"), title_justify="left")
    for col in ("station", "kind", "charger_1", "charger_2", "swapper", "storage kWh",
                "transformer kVA", "land m²", "peak kW"):
        t.add_column(col, justify="left" if col in ("station", "kind") else "right")
    for r in a["stations"]:
        t.add_row(escape(str(r["station"])), r["kind"], str(r["charger_1"]), str(r["charger_2"]),
                  str(r["swapper"]), f"{r['storage_kwh']:,.0f}", f"{r['transformer_kva']:,.0f}",
                  f"{r['area_m2']:,.0f}", f"{r['peak_kw']:,.0f}")
    return t


def network_table(s: dict[str, Any]) -> Table:
    n = s.get("network", {})
    p = s.get("planning_items", {})
    t = Table(title="network", show_header=False, title_justify="left")
    t.add_column("item", style="bold")
    t.add_column("value")
    if "line_km" in n:
        t.add_row("line length", f"{n['line_km']:,.4f} km")
    if "ev_carbon_t_per_year" in p:
        t.add_row("EV carbon emissions", f"{p['ev_carbon_t_per_year']:,.4f} t/y")
    if p.get("distance_km_per_day"):
        t.add_row("EV driving", escape(", ".join(f"{k} {v:,.1f} km/day"
                                                 for k, v in p["distance_km_per_day"].items())))
    if "v_min_pu" in n:
        t.add_row("voltage", f"{n['v_min_pu']:.4f} .. {n['v_max_pu']:.4f} p.u.")
        t.add_row("losses", f"{n['losses_kw_mean']:,.2f} kW mean, "
                  f"{n['losses_kw_peak']:,.2f} kW peak")
    if "lines_open" in n and (s.get("objective_kind") == "losses"
                              or len(n["lines_open"]) <= 10):
        t.add_row("lines open", escape(", ".join(n["lines_open"]) or "-"))
    if "lines_built" in n:
        t.add_row("lines built", escape(", ".join(n["lines_built"]) or "-"))
    return t


def subcase_table(s: dict[str, Any]) -> Table:
    """Every station sub-case (site combination) with its objective, the best marked."""
    rows = s["subcases"]
    unit, _ = currency(s)
    per = "/y" if (s.get("pricing") or {}).get("rule") == "annualised" else ""
    t = Table(title="sub-cases (station site combinations)", title_justify="left")
    for col in ("sub-case", "status", f"objective {unit}{per}", "EV carbon t/y", "solve s"):
        t.add_column(col, justify="left" if col in ("sub-case", "status") else "right")
    best = min((r["objective"] for r in rows if r["objective"] is not None), default=None)
    for r in rows:
        mark = " (best)" if r["objective"] is not None and r["objective"] == best else ""
        carbon = r.get("carbon_t_per_year")
        t.add_row(escape(r["subcase"] + mark), r["status"],
                  figure(r["objective"], s),
                  "-" if carbon is None else f"{carbon:,.2f}",
                  "-" if r.get("solve_s") is None else f"{r['solve_s']:,.1f}")
    return t


def print_network(console: Console, s: dict[str, Any]) -> None:
    """Every planning and network table the summary holds."""
    if s.get("subcases"):
        console.print(subcase_table(s))
    p = s.get("planning_items")
    if p:
        if s.get("pricing", {}).get("rule") == "annualised":
            console.print(cost_table(s))
        console.print(items_table(s))
        if p.get("stations"):
            console.print(station_table(p))
    table = network_table(s)
    if table.row_count:
        console.print(table)
    if s.get("cone"):
        console.print(cone_table(s["cone"]))
