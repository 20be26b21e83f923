"""Dispatch per scenario: what supplied the demand hour by hour, and the stores' energy.

One row per scenario (its probability in the title): on the left the supplies stacked
above zero (grid, generators by kind, built DG, storage, MESS and EV-RB discharge) with
the shed load on top in red, the sinks stacked below zero (charging, EV station load,
DistFlow losses) and the demand as a black line — by the balance of
`gridc.viz.series.dispatch`, the stack above zero minus the stack below zero meets the
line in every hour. Outages of the scenario are shaded. On the right, when the
result has any, the energy in every storage unit, MESS type (at its connection points; 0
while on the road) and EV-RB site.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridc.viz import series
from gridc.viz.mess_routes import type_colour
from gridc.viz.result import Case
from gridc.viz.style import colour, hour_axis, pyplot

MAX_ROWS = 8  # scenarios drawn (most probable first) before the figure gets unreadable


def scenarios_to_draw(case: Case) -> list[str]:
    """Every scenario, or the MAX_ROWS most probable ones, in the model's order."""
    names = case.scenarios
    if len(names) <= MAX_ROWS:
        return names
    prob = case.probability
    keep = set(sorted(names, key=lambda s: -prob.get(s, 0.0))[:MAX_ROWS])
    return [s for s in names if s in keep]


def _extend(hours: np.ndarray, step_h: float, values: np.ndarray) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """Step data drawn to the end of the last step."""
    return np.append(hours, hours[-1] + step_h), np.append(values, values[-1])


def dispatch_figure(case: Case, scenarios: list[str] | None = None) -> Any:
    """The dispatch of `case` (module docstring)."""
    plt = pyplot()
    names = scenarios if scenarios is not None else scenarios_to_draw(case)
    if not names or "time" not in case.ds.dims:
        raise ValueError("no operation to draw: the result has no time steps")
    prob = case.probability
    stores = any(b in case.ds for b in ("storage_energy", "mess_energy", "ev_energy"))
    fig, axes = plt.subplots(len(names), 2 if stores else 1,
                             figsize=(12, 2.9 * len(names) + 0.9), squeeze=False,
                             gridspec_kw={"width_ratios": [2.2, 1] if stores else [1]},
                             layout="constrained")
    hours, dt = case.hours, case.step_h
    seen: dict[str, Any] = {}
    for row, scenario in enumerate(names):
        ax = axes[row][0]
        flows = series.dispatch(case, scenario)
        supplies = [f for f in flows if f.kind == "supply" and f.values.max(initial=0) > 1e-6]
        shed = [f for f in flows if f.kind == "shed" and f.values.max(initial=0) > 1e-6]
        sinks = [f for f in flows if f.kind == "sink" and f.values.max(initial=0) > 1e-6]
        up = supplies + shed
        if up:
            x, _ = _extend(hours, dt, up[0].values)
            polys = ax.stackplot(x, *[_extend(hours, dt, f.values)[1] for f in up],
                                 labels=[f.label for f in up], step="post",
                                 colors=[colour(f.label, k) for k, f in enumerate(up)],
                                 alpha=0.85)
            for f, poly in zip(up, polys):
                poly.set_gid(f"supply_{f.label}")
                if f.kind == "shed":
                    poly.set_hatch("///")
                    poly.set_edgecolor("#7f0000")
                seen.setdefault(f.label, poly)
        if sinks:
            x, _ = _extend(hours, dt, sinks[0].values)
            polys = ax.stackplot(x, *[-_extend(hours, dt, f.values)[1] for f in sinks],
                                 labels=[f.label for f in sinks], step="post",
                                 colors=[colour(f.label, k + 3) for k, f in enumerate(sinks)],
                                 alpha=0.55)
            for f, poly in zip(sinks, polys):
                poly.set_gid(f"sink_{f.label}")
                poly.set_hatch("..")
                seen.setdefault(f.label, poly)
        need = series.demand(case, scenario, flows)
        label = series.demand_label(case)
        x, y = _extend(hours, dt, need)
        (line,) = ax.step(x, y, where="post", color="k", lw=1.6, label=label)
        line.set_gid("demand")
        seen.setdefault(label, line)
        ax.axhline(0.0, color="k", lw=0.6)
        for k, (ln, start, end) in enumerate(series.outage_windows(case, scenario)):
            span = ax.axvspan(start, end, color="#d62728", alpha=0.08, lw=0,
                              label="outage window")
            span.set_gid(f"outage_{ln}")
            ax.text(start, 1.0 - 0.08 * (k % 4), f" {ln} out", transform=ax.get_xaxis_transform(),
                    fontsize=6.5, color="#a00000", va="top")
            seen.setdefault("outage window", span)
        p = prob.get(scenario)
        ax.set_title(f"{scenario}" + (f" (probability {p:.3g})" if p is not None else ""),
                     loc="left")
        ax.set_ylabel("kW")
        hour_axis(ax, hours, dt)

        if not stores:
            continue
        ax_soc = axes[row][1]
        soc = series.state_of_charge(case, scenario)
        for k, (text, values) in enumerate(soc):
            x, y = _extend(hours, dt, values)
            col = type_colour(case, text.removeprefix("MESS ")) if text.startswith("MESS ") \
                else colour(text.split(" ")[0], k)
            (ln2,) = ax_soc.step(x, y, where="post", label=text, lw=1.4, color=col)
            ln2.set_gid(f"energy_{text}")
        if soc:
            ax_soc.legend(loc="upper right", fontsize=6.5)
            ax_soc.set_ylabel("kWh stored")
            ax_soc.set_ylim(bottom=0)
        else:
            ax_soc.text(0.5, 0.5, "no storage, MESS or EV-RB\nin this result",
                        ha="center", va="center", transform=ax_soc.transAxes, fontsize=8,
                        color="#555555")
        ax_soc.set_title("energy in storage", loc="left")
        hour_axis(ax_soc, hours, dt)
    fig.suptitle(f"{case.title}: dispatch per scenario ({case.label})", fontsize=11)
    fig.legend(list(seen.values()), list(seen.keys()), loc="outside lower center",
               ncol=min(7, len(seen)), frameon=False, fontsize=7.5)
    return fig
