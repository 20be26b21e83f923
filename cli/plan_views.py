"""Terminal views of a present-value plan: the plan and its cost rows, for one study or
side by side for several (`--all-studies`, `gridc sweep`). Built from `Result.summary`
only (see `gridc.runtime.planning`); rows are labelled with the model's own investment
names and amounts are in the model's currency (`gridc.cli.views.money`). Which row is
which number of a paper is said by the case documents (docs/case-resilience.md)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gridc.cli.labels import money, objective_value

#: (key of summary["planning"], label, time basis of the amount)
COST_ROWS = (
    ("installation", "installation (present value)", ""),
    ("replacement", "replacements (present value)", ""),
    ("residual", "residual value (present value, credited)", ""),
    ("maintenance_per_year", "maintenance per year", "/y"),
    ("operation_per_year", "operation per year", "/y"),
    ("total_comprehensive", "equivalent annual cost (CRF × present value)", "/y"),
)


def plan_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the plan, labelled with the model's investment names."""
    d = s.get("decisions") or {}
    names = d.get("names") or {}
    rows: list[tuple[str, str]] = []
    if "reinforced" in d:
        rows.append((f"{names.get('reinforced', 'reinforcement')}: lines reinforced",
                     ", ".join(d["reinforced"]) or "none"))
    mess = names.get("mess", "mobile storage")
    for k, n in d.get("mess", {}).items():
        rows.append((f"{mess}: {k} units", str(n)))
    ev = names.get("ev_packs", "EV batteries")
    for k, per_site in d.get("ev_packs", {}).items():
        sites = ",".join(per_site)
        rows.append((f"{ev}: {k} packs (sites {sites})",
                     ",".join(str(v) for v in per_site.values())))
    if "ev_capacity_kwh" in d:
        rows.append((f"{ev}: capacity", f"{d['ev_capacity_kwh']:,.0f} kWh"))
    return rows


def cost_rows(s: dict[str, Any], decimals: int = 2) -> list[tuple[str, str]]:
    """(label, value) rows of the costs, in the model's currency."""
    p = s.get("planning") or {}
    return [(label, money(p.get(key), s, per, decimals)) for key, label, per in COST_ROWS
            if p]


def print_planning(console: Console, s: dict[str, Any]) -> None:
    """The plan and cost tables of one study."""
    if not s.get("planning"):
        return
    t = Table(title="plan and its costs", show_header=False, title_justify="left")
    t.add_column("item", style="bold")
    t.add_column("value")
    for label, value in plan_rows(s) + cost_rows(s):
        t.add_row(escape(label), escape(value))
    console.print(t)


def _cell(s: dict[str, Any] | None, label: str, rows: str) -> str:
    if s is None:
        return "-"
    found = dict(plan_rows(s) if rows == "plan" else cost_rows(s, decimals=0))
    return escape(found.get(label, "-"))


def studies_table(summaries: list[dict[str, Any] | None], labels: list[str],
                  title: str) -> Table:
    """Side by side: one column per study (None: not solved), the plan and its costs as
    rows, then status, gap and time of each."""
    t = Table(title=escape(title), title_justify="left")
    t.add_column("", style="bold")
    for label in labels:
        t.add_column(escape(label), justify="right")
    plan_labels: list[str] = []
    for s in summaries:
        for label, _ in plan_rows(s) if s else []:
            if label not in plan_labels:
                plan_labels.append(label)
    for label in plan_labels:
        t.add_row(escape(label), *(_cell(s, label, "plan") for s in summaries))
    t.add_section()
    if any(s and s.get("planning") for s in summaries):
        for _, label, _per in COST_ROWS:
            t.add_row(label, *(_cell(s, label, "cost") for s in summaries))
    kinds = {s.get("objective_is") for s in summaries if s}
    what = kinds.pop() if len(kinds) == 1 else None  # each cell says its unit anyway
    t.add_row("objective" + (f" ({what})" if what else ""),
              *(objective_value(s.get("objective"), s, 0) if s else "-" for s in summaries))
    t.add_row("expected shed per day",
              *(f"{s['shed']['expected_kwh']:,.1f} kWh" if s and s.get("shed") else "-"
                for s in summaries))
    t.add_section()
    t.add_row("status", *(s["status"] if s else "not run" for s in summaries))
    t.add_row("gap", *("-" if not s or s.get("gap") is None else f"{100 * s['gap']:.2f} %"
                       for s in summaries))
    t.add_row("time (compile + solve)", *(_seconds(s) for s in summaries))
    return t


def _seconds(s: dict[str, Any] | None) -> str:
    if not s:
        return "-"
    tm = s.get("timings", {})
    return f"{tm.get('compile_s', 0.0) + tm.get('solve_s', 0.0):.0f} s"
