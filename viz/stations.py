"""EV stations: heat maps of station load over hour × node (seed 001).

From the solution: the load every built station puts on its bus, P^CSS = P^CS + P^CII
(`gridc.viz.series.station_load`), one panel per typical day and one for the expected day
(typical days weighted by their probability). From the EV forecast, when it is given
(`gridc.data.ev_forecast.forecast`, the same simulation the solve used): the energy the
EVs ask for at every road node, hour by hour, on the expected day — where the load comes
from before the stations gather it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from gridc.viz import series
from gridc.viz.result import Case
from gridc.viz.style import pyplot


def has_stations(case: Case) -> str | None:
    """None when the case has station loads to draw, else why not."""
    if series.station_load(case) is None:
        return "no EV stations in this result"
    return None


def _station_rows(case: Case, load: xr.DataArray) -> list[str]:
    buses = {d.name: d.bus for d in (case.network.devices if case.network else [])
             if d.kind == "station"}
    return [f"{s} (bus {buses[s]})" if s in buses else str(s) for s in load["css"].values]


def stations_figure(case: Case, forecast: Any = None) -> Any:
    """Heat maps of station load (and of the forecast's node energy, when given)."""
    load = series.station_load(case)
    if load is None:
        raise ValueError("no EV stations in this result")
    plt = pyplot()
    scenarios = case.scenarios
    prob = case.probability
    weights = xr.DataArray([prob.get(s, 0.0) for s in scenarios], coords={"scenario": scenarios},
                           dims=["scenario"])
    expected = (load * weights).sum("scenario")
    panels: list[tuple[str, np.ndarray]] = [
        (f"{s} (probability {prob.get(s, 0.0):.3g})",
         np.asarray(load.sel(scenario=s).transpose("css", "time").values, float))
        for s in scenarios]
    panels.append(("expected day", np.asarray(expected.transpose("css", "time").values, float)))
    rows = _station_rows(case, load)
    n = len(panels) + (1 if forecast is not None else 0)
    fig, axes = plt.subplots(n, 1, figsize=(11, 1.0 + sum(0.35 * len(rows) + 0.9
                                                          for _ in panels)
                                            + (5.0 if forecast is not None else 0.0)),
                             squeeze=False, sharex=True, layout="constrained")
    vmax = float(max(p.max(initial=0.0) for _, p in panels)) or 1.0
    hours, dt = case.hours, case.step_h
    edges = np.append(hours, hours[-1] + dt) if len(hours) else np.array([0.0, 1.0])
    mesh = None
    for ax, (title, values) in zip(axes[: len(panels), 0], panels):
        mesh = ax.pcolormesh(edges, np.arange(len(rows) + 1), values, cmap="magma_r",
                             vmin=0.0, vmax=vmax, shading="flat")
        mesh.set_gid(f"station_load_{title.split(' ')[0]}")
        ax.set_yticks(np.arange(len(rows)) + 0.5)
        ax.set_yticklabels(rows, fontsize=7.5)
        ax.set_title(f"station load, {title}", loc="left")
        ax.invert_yaxis()
        ax.grid(False)
    axes[len(panels) - 1, 0].set_xlabel("hour")
    if mesh is not None:
        cb = fig.colorbar(mesh, ax=list(axes[: len(panels), 0]), fraction=0.03, pad=0.01)
        cb.set_label("station load P_CSS (kW)")
    if forecast is not None:
        _forecast_axes(fig, axes[-1, 0], forecast)
    fig.suptitle(f"{case.title}: EV station load by hour and node ({case.label})",
                 fontsize=11)
    return fig


def _forecast_axes(fig: Any, ax: Any, fc: Any) -> None:
    """Expected EV energy asked for per road node and hour (both fleets)."""
    energy = (fc.node_energy_kwh * fc.probability).sum("typical").sum("fleet")
    nodes = [str(n) for n in energy["node"].values]
    values = np.asarray(energy.transpose("node", "hour").values, float)
    hours = np.asarray(energy["hour"].values, float)
    edges = np.append(hours, hours[-1] + 1.0)
    mesh = ax.pcolormesh(edges, np.arange(len(nodes) + 1), values, cmap="viridis_r",
                         shading="flat")
    mesh.set_gid("forecast_node_energy")
    ax.set_yticks(np.arange(len(nodes)) + 0.5)
    ax.set_yticklabels(nodes, fontsize=6.5)
    ax.set_ylabel("road node")
    ax.invert_yaxis()
    ax.set_xlabel("hour")
    ax.xaxis.set_tick_params(labelbottom=True)
    ax.grid(False)
    ax.set_title("EV energy asked for at each road node, expected day (forecast)", loc="left")
    cb = fig.colorbar(mesh, ax=ax, fraction=0.03, pad=0.01)
    cb.set_label("kWh per hour")
