"""Costs: the breakdown of one plan, and studies or sweep cases side by side.

The breakdown is a waterfall of the terms that add up to the headline number, in the
basis the model prices in (read from the summary, never recomputed):

* a plan priced at present value with planning rows (seed 000): the total comprehensive
  cost CRF × objective = CRF (installation + replacement − residual) + maintenance +
  operation, per year, the operation split by its daily terms in proportion;
* `pricing annualised` (seed 001): the objective F = construction (split by priced item)
  + maintenance + operation (split by its daily terms) + the rest, per year;
* otherwise the objective's own terms (a day's expected cost for an operation model).

When the terms do not meet the total, the difference is drawn as "not itemised" rather
than hidden. Side by side, each study or case is one stacked bar of the same groups, with
an error bar from its incumbent down to its dual bound (the MIP gap): two bars whose
difference is inside the error bars are not resolved by the solve. A result with station
sub-cases (seed 001, Figure 12) also shows every sub-case's F.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gridc.viz.result import Case
from gridc.viz.style import pyplot

GROUP_COLOURS = {"investment": "#4c72b0", "maintenance": "#8172b3", "operation": "#dd8452",
                 "other": "#937860", "not itemised": "#cccccc"}


@dataclass(frozen=True)
class Breakdown:
    terms: list[tuple[str, str, float]]  # (label, group, value)
    total: float | None
    bound: float | None
    unit: str  # e.g. "CNY/y"
    basis: str  # what the total is


def _currency(case: Case) -> str:
    econ = case.model.economics if case.model is not None else None
    return econ.currency if econ is not None else "CNY"


def _daily_split(costs: dict[str, Any], amount: float) -> list[tuple[str, float]]:
    """`amount` split over the daily_* terms in proportion (one row if they sum to 0)."""
    daily = {k.removeprefix("daily_"): float(v) for k, v in costs.items()
             if k.startswith("daily_") and v is not None and abs(float(v)) > 1e-9}
    total = sum(daily.values())
    if not daily or abs(total) < 1e-9:
        return [("operation", amount)]
    return [(f"operation: {k.replace('_', ' ')}", amount * v / total) for k, v in daily.items()]


def breakdown(case: Case) -> Breakdown:
    s = case.summary
    costs = {k: float(v) for k, v in (s.get("costs") or {}).items() if v is not None}
    cur = _currency(case)
    plan = s.get("planning")
    rule = (s.get("pricing") or {}).get("rule")
    terms: list[tuple[str, str, float]] = []
    if plan:
        crf = float(plan.get("crf") or 0.0)
        terms += [("installation (annualised)", "investment", crf * float(plan["installation"])),
                  ("replacement (annualised)", "investment", crf * float(plan["replacement"])),
                  ("residual value (annualised)", "investment",
                   -crf * float(plan.get("residual") or 0.0)),
                  ("maintenance", "maintenance", float(plan["maintenance_per_year"]))]
        terms += [(k, "operation", v) for k, v in _daily_split(costs,
                                                               float(plan["operation_per_year"]))]
        out = Breakdown(terms, plan.get("total_comprehensive"),
                        plan.get("total_comprehensive_bound"), f"{cur}/y",
                        "total comprehensive cost (CRF × objective)")
    elif rule == "annualised":
        items = (s.get("planning_items") or {}).get("items") or []
        capital = sum(float(it.get("capital") or 0.0) for it in items)
        if items and abs(capital - costs.get("construction", 0.0)) <= 1e-6 * max(1.0, capital):
            terms += [(f"{it['name']} ({_size(float(it['size']))} {it['unit']})", "investment",
                       float(it["capital"])) for it in items if float(it.get("capital") or 0)]
        elif "construction" in costs:
            terms.append(("construction", "investment", costs["construction"]))
        if "maintenance" in costs:
            terms.append(("maintenance", "maintenance", costs["maintenance"]))
        if "operation" in costs:
            terms += [(k, "operation", v) for k, v in _daily_split(costs, costs["operation"])]
        terms += [(k.replace("_", " "), "other", v) for k, v in costs.items()
                  if k not in ("construction", "maintenance", "operation")
                  and not k.startswith("daily_")]
        out = Breakdown(terms, s.get("objective"), s.get("bound"), f"{cur}/y",
                        "annual cost (objective)")
    else:
        per = "kWh/day" if s.get("objective_kind") == "losses" else \
            f"{cur}/day" if rule in (None, "daily") else cur
        terms += [(k.removeprefix("daily_").replace("_", " "),
                   "operation" if rule in (None, "daily") else "other", v)
                  for k, v in costs.items()]
        out = Breakdown(terms, s.get("objective"), s.get("bound"), per,
                        "losses (objective)" if s.get("objective_kind") == "losses"
                        else "expected cost (objective)")
    out.terms[:] = [t for t in out.terms if abs(t[2]) > 1e-9]
    if out.total is not None:
        rest = float(out.total) - sum(v for _, _, v in out.terms)
        if abs(rest) > 1e-6 * max(1.0, abs(float(out.total))):
            out.terms.append(("not itemised", "not itemised", rest))
    return out


def _size(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def _thousands(ax: Any, axis: str) -> None:
    """Plain numbers with thousands separators on `axis` (no 1e7 offset)."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:,.0f}")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _money(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def breakdown_axes(ax: Any, case: Case) -> Breakdown:
    """A horizontal waterfall of `breakdown(case)` on `ax`."""
    b = breakdown(case)
    labels = [t[0] for t in b.terms] + [b.basis]
    start = 0.0
    for k, (label, group, value) in enumerate(b.terms):
        bar = ax.barh(k, value, left=start, color=GROUP_COLOURS[group],
                      edgecolor="k", linewidth=0.4, label=group)
        bar.patches[0].set_gid(f"term_{label}")
        ax.text(start + value, k, f" {_money(value)}", va="center", fontsize=7)
        start += value
    total = float(b.total) if b.total is not None else start
    bar = ax.barh(len(b.terms), total, color="#222222", label="total")
    bar.patches[0].set_gid("total")
    ax.text(total, len(b.terms), f" {_money(total)}", va="center", fontsize=7,
            fontweight="bold")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlabel(b.unit)
    ax.axvline(0.0, color="k", lw=0.6)
    ax.set_xlim(min(0.0, start, total) * 1.05, max(total, start) * 1.25 or 1.0)
    _thousands(ax, "x")
    handles, names = ax.get_legend_handles_labels()
    uniq = dict(zip(names, handles))
    ax.legend(uniq.values(), uniq.keys(), loc="upper center", bbox_to_anchor=(0.5, -0.1),
              ncol=len(uniq), fontsize=7, frameon=False)
    return b


def costs_figure(case: Case) -> Any:
    """The breakdown of one plan, and its station sub-cases when it has them."""
    plt = pyplot()
    subcases = case.summary.get("subcases") or []
    n = 2 if len(subcases) > 1 else 1
    fig, axes = plt.subplots(1, n, figsize=(11 if n == 1 else 14, 0.32 * 14 + 1.5),
                             squeeze=False, gridspec_kw={"width_ratios": [1.6, 1][:n]})
    b = breakdown_axes(axes[0, 0], case)
    gap = case.summary.get("gap")
    axes[0, 0].set_title(f"{b.basis}" + (f", gap {100 * gap:.2f} %" if gap is not None
                                         else ""), loc="left")
    if n == 2:
        _subcase_axes(axes[0, 1], case, subcases, b.unit)
    fig.suptitle(f"{case.title}: costs ({case.label})", fontsize=11)
    fig.tight_layout()
    return fig


def _subcase_axes(ax: Any, case: Case, rows: list[dict[str, Any]], unit: str) -> None:
    names = [str(r["subcase"]) for r in rows]
    values = [float(r["objective"]) if r.get("objective") is not None else np.nan for r in rows]
    best = np.nanargmin(values) if np.isfinite(values).any() else -1
    bars = ax.bar(range(len(rows)), values, color=["#dd8452" if k == best else "#4c72b0"
                                                   for k in range(len(rows))],
                  label="sub-case objective")
    for k, (bar, r) in enumerate(zip(bars.patches, rows)):
        bar.set_gid(f"subcase_{names[k]}")
        carbon = r.get("carbon_t_per_year")
        note = f"{values[k]:,.0f}" + (f"\n{carbon:,.1f} t/y" if carbon is not None else "")
        ax.text(k, values[k], note, ha="center", va="bottom", fontsize=6.5)
    finite = [v for v in values if np.isfinite(v)]
    if finite:
        lo, hi = min(finite), max(finite)
        pad = (hi - lo) * 0.6 or abs(hi) * 0.01 or 1.0
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=7.5)
    ax.set_ylabel(unit)
    _thousands(ax, "y")
    ax.set_title("station sub-cases (best in orange, EV carbon under each value;\n"
                 "the axis does not start at 0)", loc="left")


def comparison_figure(cases: list[Case]) -> Any:
    """Studies or sweep cases side by side: stacked groups, error bars to the bound."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(7.0, 1.6 * len(cases) + 3), 5.2))
    groups = list(GROUP_COLOURS)
    parts = [breakdown(c) for c in cases]
    x = np.arange(len(cases))
    bottom_pos = np.zeros(len(cases))
    bottom_neg = np.zeros(len(cases))
    for g in groups:
        vals = np.array([sum(v for _, grp, v in b.terms if grp == g) for b in parts])
        if not np.abs(vals).max(initial=0.0):
            continue
        base = np.where(vals >= 0, bottom_pos, bottom_neg)
        bars = ax.bar(x, vals, bottom=base, color=GROUP_COLOURS[g], edgecolor="k",
                      linewidth=0.4, label=g, width=0.6)
        for k, bar in enumerate(bars.patches):
            bar.set_gid(f"{cases[k].label}_{g}")
        bottom_pos += np.where(vals >= 0, vals, 0)
        bottom_neg += np.where(vals < 0, vals, 0)
    totals = np.array([float(b.total) if b.total is not None else np.nan for b in parts])
    bounds = np.array([float(b.bound) if b.bound is not None else np.nan for b in parts])
    lower = np.where(np.isfinite(bounds), np.clip(totals - bounds, 0, None), 0.0)
    err = ax.errorbar(x, totals, yerr=[lower, np.zeros(len(cases))], fmt="_", color="k",
                      ms=18, capsize=6, lw=1.4, label="incumbent and dual bound (gap)")
    err.lines[0].set_gid("incumbent")
    for k, c in enumerate(cases):
        gap = c.summary.get("gap")
        status = c.summary.get("status", "")
        text = f"{totals[k]:,.0f}" + (f"\ngap {100 * gap:.2f} %" if gap is not None else "")
        ax.text(x[k], totals[k], text + ("" if status in ("optimal", "feasible_gap")
                                         else f"\n{status}"),
                ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels([c.label for c in cases], rotation=20, ha="right")
    units = {b.unit for b in parts}
    bases = {b.basis for b in parts}
    ax.set_ylabel(" / ".join(sorted(units)))
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_title(f"{cases[0].title}: {' / '.join(sorted(bases))}, side by side; "
                 "error bars down to the dual bound", loc="left", fontsize=9.5)
    top = np.nanmax(totals) if np.isfinite(totals).any() else 1.0
    ax.set_ylim(top=top * 1.15)
    _thousands(ax, "y")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=7,
              frameon=False)
    fig.tight_layout()
    return fig
