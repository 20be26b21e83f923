"""Terminal views of planning results (seed 000): the plan and cost rows like the
paper's Tables 1-2, for one study or side by side for several (`--all-studies`,
`gridc sweep`). Built from `Result.summary` only (see `gridc.runtime.planning`)."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table

COST_ROWS = (
    ("installation", "installation cost"),
    ("replacement", "replacement cost"),
    ("residual", "residual value"),
    ("maintenance_per_year", "annual maintenance cost"),
    ("operation_per_year", "annual operational cost"),
    ("total_comprehensive", "total comprehensive cost (CRF × objective)"),
)


def sci(x: float | None) -> str:
    """The paper's number format: 5.2000×10^6."""
    if x is None or not math.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    exp = math.floor(math.log10(abs(x)))
    return f"{x / 10 ** exp:.4f}×10^{exp}"


def plan_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the plan (Table 1)."""
    d = s.get("decisions") or {}
    rows: list[tuple[str, str]] = []
    if "reinforced" in d:
        rows.append(("line reinforcement", ", ".join(d["reinforced"]) or "none"))
    for k, n in d.get("mess", {}).items():
        rows.append((f"MESS {k}", str(n)))
    for k, per_site in d.get("ev_packs", {}).items():
        sites = ",".join(per_site)
        rows.append((f"EV-RB {k} (sites {sites})", ",".join(str(v) for v in per_site.values())))
    if "ev_capacity_kwh" in d:
        rows.append(("EV-RB capacity", f"{d['ev_capacity_kwh']:,.0f} kWh"))
    return rows


def cost_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the costs (Table 2), CNY (per year where it says so)."""
    p = s.get("planning") or {}
    return [(label, sci(p.get(key))) for key, label in COST_ROWS if p]


def print_planning(console: Console, s: dict[str, Any]) -> None:
    """The plan and cost tables of one study."""
    if not s.get("planning"):
        return
    t = Table(title="plan (Table 1) and costs (Table 2), CNY", show_header=False,
              title_justify="left")
    t.add_column("item", style="bold")
    t.add_column("value")
    for label, value in plan_rows(s) + cost_rows(s):
        t.add_row(label, value)
    console.print(t)


def _cell(s: dict[str, Any] | None, label: str, rows: str) -> str:
    if s is None:
        return "-"
    found = dict(plan_rows(s) if rows == "plan" else cost_rows(s))
    return found.get(label, "-")


def studies_table(summaries: list[dict[str, Any] | None], labels: list[str],
                  title: str) -> Table:
    """Side by side: one column per study (None: not solved), Tables 1 and 2 as rows,
    then status, gap and time of each."""
    t = Table(title=title, title_justify="left")
    t.add_column("", style="bold")
    for label in labels:
        t.add_column(label, justify="right")
    plan_labels: list[str] = []
    for s in summaries:
        for label, _ in plan_rows(s) if s else []:
            if label not in plan_labels:
                plan_labels.append(label)
    for label in plan_labels:
        t.add_row(label, *(_cell(s, label, "plan") for s in summaries))
    t.add_section()
    for _, label in COST_ROWS:
        t.add_row(label, *(_cell(s, label, "cost") for s in summaries))
    t.add_row("objective (present value)",
              *(sci(s.get("objective")) if s else "-" for s in summaries))
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
