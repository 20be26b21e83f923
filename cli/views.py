"""Terminal views of results: rich tables built from `Result.summary` (data first)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gridc.runtime.diagnose import Diagnosis, describe

STATUS_STYLE = {
    "optimal": "bold green", "feasible_gap": "green", "time_limit_feasible": "yellow",
    "time_limit_infeasible": "bold red", "infeasible": "bold red", "unbounded": "bold red",
    "error": "bold red",
}


def _money(x: float | None) -> str:
    return _amount(x, "CNY")


def _amount(x: float | None, unit: str) -> str:
    return "-" if x is None else f"{x:,.2f} {unit}"


def _where(v: dict[str, Any] | None) -> str:
    if not v:
        return "-"
    return f"{v['v_pu']:.4f} p.u. at bus {v['bus']} ({v['scenario']}, t={v['time']})"


def summary_table(s: dict[str, Any]) -> Table:
    """Status, objective, bound, gap, cost breakdown, shed energy, voltage extremes."""
    title = escape(f"gridc solve: {s.get('model', '')}" + (f" [study {s['study']}]"
                                                            if s.get("study") else ""))
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_column("item", style="bold")
    t.add_column("value")
    status = s["status"]
    t.add_row("status", f"[{STATUS_STYLE.get(status, '')}]{status}[/] ({s.get('message', '')})")
    # `objective losses` minimises expected daily losses in kWh, every other study CNY
    unit = "kWh/day" if s.get("objective_kind") == "losses" else "CNY"
    t.add_row("objective", _amount(s.get("objective"), unit))
    t.add_row("bound", _amount(s.get("bound"), unit))
    gap = s.get("gap")
    t.add_row("gap", "-" if gap is None else f"{100 * gap:.4f} %")
    for name, value in s.get("costs", {}).items():
        if s.get("planning") and not name.startswith("daily_"):
            continue  # printed as the plan's cost rows (`plan_report`)
        t.add_row(f"  {name}", _amount(value, "kWh/day" if name.endswith("_kwh") else "CNY"))
    shed = s.get("shed")
    if shed:
        per = ", ".join(f"{k} {v:,.1f}" for k, v in shed["by_scenario_kwh"].items())
        t.add_row("shed energy", f"{shed['expected_kwh']:,.1f} kWh expected ({per} kWh)")
    volt = s.get("voltage")
    if volt:
        t.add_row("min voltage", _where(volt.get("min")))
        t.add_row("max voltage", _where(volt.get("max")))
    size = s.get("size", {})
    if size:
        t.add_row("size", f"{size['variables']:,} variables, {size['constraints']:,} "
                  f"constraints, {size['binaries']:,} binaries")
    tm = s.get("timings", {})
    t.add_row("time", ", ".join(f"{k.removesuffix('_s')} {v:.2f} s" for k, v in tm.items()))
    pr = s.get("pricing")
    if pr and pr.get("rule") != "daily":
        t.add_row("present value", _money(pr.get("present_value_cny")))
        t.add_row("annual equivalent", _money(pr.get("annual_equivalent_cny_per_y"))
                  + " per year")
    for note in s.get("notes", []):
        t.add_row("note", note)
    return t


def diagnosis_table(d: Diagnosis) -> Table:
    t = Table(title="needed relaxation (elastic re-solve)", title_justify="left")
    for col in ("family", "constraint", "source", "where", "amount", "scenarios", "steps"):
        t.add_column(col)
    for f in d.findings:
        row = describe(f)
        t.add_row(*(row[c] for c in ("family", "constraint", "source", "where", "amount",
                                     "scenarios", "steps")))
    return t


def print_summary(console: Console, s: dict[str, Any]) -> None:
    console.print(summary_table(s))
    if s.get("planning"):  # seed 000: the plan and its costs (Tables 1-2)
        from gridc.cli.plan_views import print_planning
        print_planning(console, s)
    if s.get("planning_items") or s.get("network") or s.get("cone") or s.get("subcases"):
        from gridc.cli.network_views import print_network
        print_network(console, s)


def print_diagnosis(console: Console, d: Diagnosis) -> None:
    if not d.status.ok:
        console.print(f"diagnosis failed: the elastic model ended {d.status.value}")
        return
    if not d.findings:
        console.print("diagnosis: the elastic model needs no relaxation of the relaxable "
                      "families (nodal balance, voltage limits, line ratings, generator "
                      "minimum output, storage SOC); look at the other constraints")
        return
    console.print(diagnosis_table(d))
    console.print("families needing relaxation: " + ", ".join(d.families))
