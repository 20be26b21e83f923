"""MESS routes: where each mobile unit stands, hour by hour, per scenario.

A time-space chart per scenario: the connection points are the rows, the hours the
columns. A bar shows the units of a type connected at a point during a step (the count
is written when more than one stands there); an arrow joins a departure to its arrival,
the hours between being the drive. Steps in which a point is cut off from the slack bus
(`energized` = 0: the islands the units are sent to) are shaded red in its row, and the
outage windows of the scenario are marked at the top.

The model keeps units of one type as a fleet (`compiler.families.mobile_storage`:
counts per type and point, no labels), so the chart draws fleets, and pairs departures
with arrivals first in, first out: exact for one unit per type, one consistent reading
otherwise. Before the first step the fleet is at the depot (the model's `depot`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridc.dsl import ir_planning as P
from gridc.viz import series
from gridc.viz.result import Case
from gridc.viz.style import hour_axis, pyplot

TYPE_COLOURS = ["#e377c2", "#9467bd", "#17becf", "#bcbd22", "#8c564b"]


def type_colour(case: Case, mtype: str) -> str:
    """One colour per MESS type, the same in every picture."""
    names = [str(k) for k in case.ds["mess_type"].values] if "mess_type" in case.ds.coords \
        else [mtype]
    k = names.index(mtype) if mtype in names else 0
    return TYPE_COLOURS[k % len(TYPE_COLOURS)]


def has_mess(case: Case) -> str | None:
    """None when the case has MESS routes to draw, else why not."""
    ds = case.ds
    if "mess_pos" not in ds:
        return "no mobile storage (MESS) in this result"
    if "mess_units" in ds and float(ds["mess_units"].sum()) < 0.5:
        return "no MESS unit bought in this result"
    return None


def _depot(case: Case) -> str | None:
    if case.model is None:
        return None
    return next((inv.depot for inv in case.model.investments
                 if isinstance(inv, P.MobileStorage)), None)


def trips(case: Case, scenario: str, mtype: str) -> list[tuple[float, str, float, str, int]]:
    """(departure h, from, arrival h, to, units) of one type in one scenario."""
    ds = case.ds
    pos = ds["mess_pos"].sel(scenario=scenario, mess_type=mtype).round()
    points = [str(c) for c in pos["mess_at"].values]
    p = np.asarray(pos.transpose("time", "mess_at").values, dtype=float)
    steps = p.shape[0]
    units = float(ds["mess_units"].sel(mess_type=mtype)) if "mess_units" in ds else p[0].sum()
    depot = _depot(case)
    before = np.zeros(len(points))
    start_outside = 0.0
    if depot in points:
        before[points.index(depot)] = round(units)
    else:
        start_outside = round(units)
    if "mess_stay" in ds:
        stay = np.asarray(ds["mess_stay"].sel(scenario=scenario, mess_type=mtype).round()
                          .transpose("time", "mess_at").values, dtype=float)
    else:
        prev = np.vstack([before, p[:-1]])
        stay = np.minimum(prev, p)
    prev = np.vstack([before, p[:-1]])
    dep = np.clip(prev - stay, 0, None)
    arr = np.clip(p - stay, 0, None)
    queue: list[list[Any]] = []
    if start_outside:
        queue.append([0.0, depot or "depot", int(start_outside)])
    out = []
    dt = case.step_h
    for t in range(steps):
        for c in np.flatnonzero(dep[t] > 0.5):
            queue.append([t * dt, points[c], round(float(dep[t, c]))])
        for c in np.flatnonzero(arr[t] > 0.5):
            need = round(float(arr[t, c]))
            while need > 0 and queue:
                take = min(need, queue[0][2])
                out.append((float(queue[0][0]), str(queue[0][1]), t * dt, points[c], take))
                queue[0][2] -= take
                need -= take
                if queue[0][2] == 0:
                    queue.pop(0)
    return out


def _runs(n: np.ndarray) -> list[tuple[int, int, int]]:
    """(first step, end step, units) of every run of steps with the same count > 0."""
    counts = np.rint(n).astype(int)
    out: list[tuple[int, int, int]] = []
    start = 0
    for t in range(1, len(counts) + 1):
        if t == len(counts) or counts[t] != counts[start]:
            if counts[start] > 0:
                out.append((start, t, int(counts[start])))
            start = t
    return out


def mess_figure(case: Case, scenarios: list[str] | None = None) -> Any:
    """The time-space chart of `case` (module docstring); ValueError without MESS."""
    why = has_mess(case)
    if why:
        raise ValueError(why)
    plt = pyplot()
    ds = case.ds
    names = scenarios if scenarios is not None else case.scenarios
    points = [str(c) for c in ds["mess_at"].values]
    depot = _depot(case)
    rows = points + ([depot] if depot and depot not in points else [])
    types = [str(k) for k in ds["mess_type"].values
             if "mess_units" not in ds or float(ds["mess_units"].sel(mess_type=k)) > 0.5]
    hours, dt = case.hours, case.step_h
    prob = case.probability
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 0.45 * len(rows) * len(names)
                                                      + 1.3 * len(names) + 0.6),
                             squeeze=False, layout="constrained")
    handles: dict[str, Any] = {}
    for row_ax, scenario in zip(axes[:, 0], names):
        ax = row_ax
        y = {b: k for k, b in enumerate(rows)}
        if "energized" in ds:
            cut = ds["energized"].sel(scenario=scenario)
            for b in rows:
                if b not in cut["bus"].values:
                    continue
                off = np.asarray(cut.sel(bus=b).values) < 0.5
                spans = [(t * dt, dt) for t in np.flatnonzero(off)]
                if spans:
                    bars = ax.broken_barh(spans, (y[b] - 0.45, 0.9), facecolors="#fbd5d5",
                                          label="point cut off from the slack bus")
                    bars.set_gid(f"cut_{b}")
                    handles.setdefault("point cut off from the slack bus", bars)
        for ln, start, end in series.outage_windows(case, scenario):
            ax.annotate("", xy=(end, 1.02), xytext=(start, 1.02),
                        xycoords=ax.get_xaxis_transform(),
                        arrowprops={"arrowstyle": "|-|", "color": "#d62728", "lw": 1.0})
            ax.text((start + end) / 2, 1.03, f"{ln} out", transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=6.5, color="#a00000")
        for k, mtype in enumerate(types):
            col = type_colour(case, mtype)
            shift = (k - (len(types) - 1) / 2) * min(0.25, 0.8 / max(1, len(types)))
            pos = ds["mess_pos"].sel(scenario=scenario, mess_type=mtype).round()
            for b in points:
                n = np.asarray(pos.sel(mess_at=b).values, dtype=float)
                runs = _runs(n)
                if not runs:
                    continue
                bars = ax.broken_barh([(t0 * dt, (t1 - t0) * dt) for t0, t1, _ in runs],
                                      (y[b] + shift - 0.1, 0.2), facecolors=col,
                                      edgecolors="k", linewidths=0.4, label=f"MESS {mtype}")
                bars.set_gid(f"stand_{mtype}_{b}")
                handles.setdefault(f"MESS {mtype}", bars)
                for t0, t1, count in runs:
                    if count > 1:
                        ax.text((t0 + t1) * dt / 2, y[b] + shift, f"{count} units",
                                ha="center", va="center", fontsize=6, color="white")
            for h0, a, h1, b, units in trips(case, scenario, mtype):
                if a not in y or b not in y:
                    continue
                arrow = ax.annotate("", xy=(h1, y[b] + shift), xytext=(h0, y[a] + shift),
                                    arrowprops={"arrowstyle": "->", "color": col, "lw": 1.3,
                                                "shrinkA": 0, "shrinkB": 0})
                arrow.set_gid(f"trip_{mtype}")
                if units > 1:
                    ax.text((h0 + h1) / 2, (y[a] + y[b]) / 2 + shift, f"{units}",
                            fontsize=6, color=col)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([f"{b}{' (depot)' if b == depot else ''}" for b in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_ylabel("connection point (bus)")
        p = prob.get(scenario)
        ax.set_title(f"{scenario}" + (f" (probability {p:.3g})" if p is not None else ""),
                     loc="left", pad=14)
        hour_axis(ax, hours, dt)
    fig.suptitle(f"{case.title}: where the mobile storage stands ({case.label})", fontsize=11)
    if handles:
        fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
                   ncol=len(handles), frameon=False, fontsize=7.5)
    return fig
