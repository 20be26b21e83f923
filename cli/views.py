"""Terminal views of results: rich tables built from `Result.summary` (data first).

Words and units follow the user's model (`gridc.cli.labels`): amounts in the model's
currency with thousands separators, times as hh:mm, the objective named by what it is,
cost terms in words with their basis (per day, per year, present value)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gridc.cli.labels import money, objective_value, term_label, term_value, voltage_at
from gridc.cli.stage_views import limit_text, stages_table
from gridc.data.history import clustering_words
from gridc.runtime.ac_check import headline as ac_headline
from gridc.runtime.diagnose import Diagnosis, describe, describe_cause

STATUS_STYLE = {
    "optimal": "bold green", "feasible_gap": "green", "time_limit_feasible": "yellow",
    "time_limit_infeasible": "bold red", "infeasible": "bold red", "unbounded": "bold red",
    "error": "bold red", "limit_feasible": "yellow", "limit_infeasible": "bold red",
    "interrupted": "yellow", "interrupted_infeasible": "bold red", "heuristic": "yellow",
}

def summary_table(s: dict[str, Any]) -> Table:
    """Status, objective, bound, gap, cost breakdown, shed energy, voltage extremes."""
    title = escape(f"gridc solve: {s.get('model', '')}" + (f" [study {s['study']}]"
                                                            if s.get("study") else ""))
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_column("item", style="bold")
    t.add_column("value")
    status = s["status"]
    t.add_row("status", f"[{STATUS_STYLE.get(status, '')}]{status}[/] ({s.get('message', '')})")
    if ac := s.get("ac_check"):  # the AC power flow of the plan (gridc.runtime.ac_check)
        t.add_row("AC check", f"[{'green' if ac['verdict'] == 'ok' else 'bold red'}]"
                  f"{escape(ac_headline(ac))}[/]")
    if (rt := s.get("ratings")) and rt.get("rated_branches"):  # ratings are polygons
        t.add_row("ratings", f"|S| as a {rt['polygon_sides']}-sided {rt['fit']} polygon on "
                  f"{rt['rated_branches']} branches: worst-case overshoot "
                  f"{100 * rt['overshoot']:.2f} %")
    what = s.get("objective_is")
    t.add_row("objective", objective_value(s.get("objective"), s)
              + (f" ({what})" if what else ""))
    t.add_row("bound", objective_value(s.get("bound"), s))
    gap = s.get("gap")
    t.add_row("gap", "-" if gap is None else f"{100 * gap:.4f} %")
    if (limit := limit_text(s)) is not None:  # the stage that sets status, gap and bound
        t.add_row("limited by", escape(limit))
    rule = (s.get("pricing") or {}).get("rule", "daily")
    for name, value in s.get("costs", {}).items():
        if rule != "daily" and not name.startswith("daily_"):
            continue  # printed with the plan's costs (plan_views, network_views)
        t.add_row(f"  {escape(term_label(name))}", term_value(name, value, s))
    if cl := s.get("clustering"):  # scenarios from a history: k-means inertia or none
        t.add_row("scenarios", escape(f"{cl['scenario_set']}: {clustering_words(cl)}"))
    shed = s.get("shed")
    if shed:
        per = ", ".join(f"{escape(k)} {v:,.1f}" for k, v in shed["by_scenario_kwh"].items())
        t.add_row("shed energy", f"{shed['expected_kwh']:,.1f} kWh/day expected ({per} kWh)")
    volt = s.get("voltage")
    if volt:
        t.add_row("min voltage", escape(voltage_at(volt.get("min"))))
        t.add_row("max voltage", escape(voltage_at(volt.get("max"))))
    size = s.get("size", {})
    if size:
        t.add_row("size", f"{size['variables']:,} variables, {size['constraints']:,} "
                  f"constraints, {size['binaries']:,} binaries, "
                  f"{size.get('integers', 0):,} integers")
    tm = s.get("timings", {})
    t.add_row("time", ", ".join(f"{k.removesuffix('_s')} {v:.2f} s" for k, v in tm.items()))
    pr = s.get("pricing")
    if pr and pr.get("rule") != "daily":
        t.add_row("present value", money(pr.get("present_value_cny"), s))
        t.add_row("annual equivalent", money(pr.get("annual_equivalent_cny_per_y"), s, "/y"))
    for note in s.get("notes", []):
        t.add_row("note", escape(note))
    return t


def diagnosis_table(d: Diagnosis) -> Table:
    """The symptoms: where the model as written breaks (rows relaxed, statements held)."""
    title = ("symptoms: where the model as written breaks (elastic rows)"
             if not d.symptoms_after else
             "symptoms: what option 1 leaves short (as written, the conflict is among rows "
             "never relaxed)")
    t = Table(title=title, title_justify="left")
    for col in ("family", "constraint", "source", "where", "amount", "scenarios", "steps"):
        t.add_column(col)
    for f in d.findings:
        row = describe(f)
        t.add_row(*(row[c] for c in ("family", "constraint", "source", "where", "amount",
                                     "scenarios", "steps")))
    return t


def print_summary(console: Console, s: dict[str, Any]) -> None:
    console.print(summary_table(s))
    if (stages := stages_table(s)) is not None:  # more than one stage: what each proved
        console.print(stages)
    if s.get("planning"):  # a present-value plan and its costs
        from gridc.cli.plan_views import print_planning
        print_planning(console, s)
    if s.get("planning_items") or s.get("network") or s.get("cone") or s.get("subcases"):
        from gridc.cli.network_views import print_network
        print_network(console, s)


def print_causes(console: Console, d: Diagnosis) -> None:
    """The ranked causes: per option, each `.grid` line with what to change, its source
    line and a caret (printed verbatim: no markup, no wrapping under the caret)."""
    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    say("causes: .grid lines whose relaxation restores feasibility, least cost first")
    option = 0
    for c in d.causes:
        row = describe_cause(c, d.sources)
        if row["option"] != option:
            option = row["option"]
            head = "the least-cost relaxation" if option == 1 else \
                "the next one, leaving the lines above as written"
            tail = "restores feasibility" if row["sufficient"] else \
                "is not enough alone: a shortfall remains (see the symptoms)"
            say(f"  option {option} ({head}) {tail}:")
        say(f"  {row['rank']}. {row['where']}: {row['kind']}")
        say(f"     {row['headline']}" + (f" [{row['cells']}]" if row["cells"] else ""))
        if row["line"]:
            say(f"     {row['line']}")
            say(f"     {row['caret']}")


def print_diagnosis(console: Console, d: Diagnosis) -> None:
    if not d.status.ok:
        for note in d.notes:
            console.print(f"note: {note}", markup=False, soft_wrap=True)
        why = ("the conflict lies in constraints that are never relaxed (decision counts, "
               "energy balances, routing)" if d.status.value == "infeasible" else
               "raise --time-limit" if d.status.value.startswith("time_limit") else "")
        console.print(f"diagnosis failed: the elastic model ended {d.status.value}"
                      + (f"; {why}" if why else ""), markup=False)
        return
    if d.causes:
        print_causes(console, d)
    if d.findings:
        console.print(diagnosis_table(d))
        console.print("families needing relaxation: " + ", ".join(d.families))
    elif d.causes:
        console.print("symptoms: none to show: with the lines above as written not even "
                      "the elastic rows can be met (the conflict is among rows that are "
                      f"never relaxed; that solve ended {d.symptom_status})", markup=False,
                      soft_wrap=True)
    else:
        console.print("diagnosis: the elastic model needs no relaxation of the relaxable "
                      "families (nodal balance, voltage limits, line ratings, generator "
                      "minimum output, storage SOC); look at the other constraints")
    for note in d.notes:
        console.print(f"note: {note}", markup=False, soft_wrap=True)
