"""`gridc forecast MODEL`: the EV spatial-temporal load forecast of seed 001 (section 2).

Prints per station the peak PEV/SEV counts of the typical days and their hours, the
expected daily energy, the daily driving carbon and the typical-day probabilities; writes
the per-node / per-hour demand table (CSV), the per-station table (CSV) and everything as
netCDF to `--out`, and a picture in the manner of the seed's Figures 10-11 to `--plot`.
Every file is written atomically. Exit codes: 0 ok, 1 model errors, 2 usage errors.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gridc.cli.common import (
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    EXTRA_COMMANDS,
    bounded_int,
    err_console,
    load_or_report,
)
from gridc.data.ev_forecast import Forecast, ForecastError, forecast
from gridc.dsl.ir import Model
from gridc.dsl.ranges import DAYS_MAX, SEED_MAX
from gridc.runtime.ioutil import atomic_write

MAP_HOURS = (5, 12, 20)  # the hours the seed maps in Figure 11


def setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the .grid model (needs area, fleet, travel and station)")
    p.add_argument("--days", type=bounded_int(1, DAYS_MAX, "days"),
                   help="simulated days (default: travel.days)")
    p.add_argument("--seed", type=bounded_int(0, SEED_MAX, "the seed"),
                   help="random seed (default: travel.seed)")
    p.add_argument("--population", choices=["demand", "renewal"], default="demand",
                   help="per_day counts vehicles that need energy that day (demand, the "
                        "seed's reading) or all vehicles on the road (renewal)")
    p.add_argument("--out", help="directory for ev_node_load.csv, ev_station_load.csv and "
                                 "ev_forecast.nc")
    p.add_argument("--plot", help="PNG file with hourly loads and maps (Figures 10-11)")


def run(args: argparse.Namespace) -> int:
    if args.plot and Path(args.plot).suffix.lower() not in (".png", ".pdf", ".svg"):
        err_console().print(f"error: --plot needs a .png, .pdf or .svg file, got {args.plot}")
        return EXIT_USAGE
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        err_console().print("error: --plot needs matplotlib: pip install 'gridc[plot]'")
        return EXIT_USAGE
    model = load_or_report(args.model)
    if isinstance(model, int):
        return model
    t0 = time.perf_counter()
    try:
        fc = forecast(model, days=args.days, seed=args.seed, population=args.population)
    except ForecastError as exc:
        err_console().print(f"error: {args.model}: cannot forecast: {exc}")
        return EXIT_MODEL
    elapsed = time.perf_counter() - t0
    _print(fc, model, elapsed)
    try:
        if args.out:
            _write(fc, Path(args.out))
        if args.plot:
            _plot(fc, model, Path(args.plot))
    except OSError as exc:
        err_console().print(f"error: cannot write output: {exc}")
        return EXIT_USAGE
    return EXIT_OK


# ------------------------------------------------------------------ views


def _print(fc: Forecast, model: Model, elapsed: float) -> None:
    con = Console(highlight=False)
    pk = fc.peaks()
    fleets = [str(f) for f in pk["fleet"].values]
    n_days = fc.node_days.sizes["day"]
    tab = Table(title=f"EV load forecast of {model.name}: {n_days} days -> "
                      f"{fc.probability.sizes['typical']} typical days ({elapsed:.1f} s)",
                caption="peak: largest hourly count of a typical day; per day: expected")
    for col in ("station", "fleet", "peak", "at", "events/day", "kWh/day"):
        tab.add_column(col, justify="left" if col in ("station", "fleet") else "right")
    for s in pk["station"].values:
        for i, f in enumerate(fleets):
            p = pk.sel(fleet=f, station=s)
            tab.add_row(str(s) if i == 0 else "", f, f"{float(p['peak']):.1f}",
                        f"{int(p['hour']):02d}:00", f"{float(p['daily_events']):.1f}",
                        f"{float(p['daily_kwh']):,.0f}", end_section=i == len(fleets) - 1)
    con.print(tab)
    km = fc.distance_days_km.mean("day")
    dist = ", ".join(f"{f} {float(km.sel(fleet=f)):.1f} km" for f in fleets)
    con.print(f"driving to stations per day: {dist}; carbon "
              f"{fc.expected_carbon_t:.4f} t/day ({fc.expected_carbon_t * 365:.2f} t/year)")
    typ = Table(title="typical days")
    typ.add_column("typical", justify="right")
    typ.add_column("probability", justify="right")
    typ.add_column("carbon t/day", justify="right")
    for f in fleets:
        typ.add_column(f"{f} events", justify="right")
    per = fc.counts.sum(("station", "hour"))
    for t in fc.probability["typical"].values:
        typ.add_row(str(t), f"{float(fc.probability.sel(typical=t)):.3f}",
                    f"{float(fc.carbon_t.sel(typical=t)):.4f}",
                    *[f"{float(per.sel(typical=t, fleet=f)):.1f}" for f in fleets])
    con.print(typ)
    sim = ", ".join(f"{f}: {fc.vehicles[f]} vehicles, {fc.events[f]} events" for f in fleets)
    con.print(f"simulated ({fc.population} population, seed {fc.seed}): {sim}")


def _write(fc: Forecast, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    nodes = fc.node_table()
    atomic_write(out / "ev_node_load.csv",
                 lambda tmp: nodes.to_csv(tmp, index=False, float_format="%.6g"))
    st = fc.counts.to_dataframe(name="events").join(
        fc.energy_kwh.to_dataframe(name="energy_kwh")).reset_index()
    atomic_write(out / "ev_station_load.csv",
                 lambda tmp: st.to_csv(tmp, index=False, float_format="%.6g"))
    ds = fc.to_dataset()
    packed = {v: {"zlib": True, "complevel": 4} for v in ds.data_vars if ds[v].dtype.kind in "fiu"}
    atomic_write(out / "ev_forecast.nc",
                 lambda tmp: ds.to_netcdf(tmp, engine="netcdf4", encoding=packed))


def _plot(fc: Forecast, model: Model, path: Path) -> None:
    """Hourly counts per station (like Figure 10) and maps of the road-node loads at 5, 12
    and 20 o'clock (like Figure 11), typical days weighted by their probability."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    area = model.areas[0]
    xy = {n.id: (n.x_km, n.y_km) for n in area.nodes}
    kind = {r.name: r.kind for r in area.regions}
    colour = {"residential": "tab:green", "working": "tab:blue", "commercial": "tab:orange"}
    mean_st = (fc.counts * fc.probability).sum("typical")
    mean_nd = (fc.node_counts * fc.probability).sum("typical")
    fleets = [str(f) for f in fc.counts["fleet"].values]
    fig, axes = plt.subplots(len(fleets), 1 + len(MAP_HOURS),
                             figsize=(4.2 * (1 + len(MAP_HOURS)), 3.4 * len(fleets)),
                             squeeze=False)
    hours = np.arange(24)
    node_x = [xy[str(n)][0] for n in mean_nd["node"].values]
    node_y = [xy[str(n)][1] for n in mean_nd["node"].values]
    node_c = [colour[kind[str(r)]] for r in mean_nd["region"].values]
    site_xy = [xy.get(s.road_node or s.bus, (np.nan, np.nan)) for s in model.stations]
    vmax = float(mean_nd.max()) or 1.0
    for i, f in enumerate(fleets):
        ax = axes[i, 0]
        for s in mean_st["station"].values:
            ax.plot(hours, mean_st.sel(fleet=f, station=s), marker=".", label=str(s))
        ax.plot(hours, mean_st.sel(fleet=f).sum("station"), "k-", lw=2, label="all")
        ax.set(title=f"{f}: events per hour", xlabel="hour", ylabel="vehicles", xlim=(0, 23))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        for j, h in enumerate(MAP_HOURS):
            ax = axes[i, 1 + j]
            size = 400.0 * mean_nd.sel(fleet=f, hour=h).values / vmax
            ax.scatter(node_x, node_y, s=np.maximum(size, 4), c=node_c, alpha=0.7,
                       edgecolors="k", linewidths=0.3)
            for s, (x, y) in zip(model.stations, site_xy, strict=True):
                ax.plot(x, y, "r*", ms=11)
                ax.annotate(s.name, (x, y), textcoords="offset points", xytext=(4, 4),
                            fontsize=7, color="r")
            ax.set(title=f"{f} load distribution at {h}:00", xlabel="X (km)",
                   ylabel="Y (km)", aspect="equal")
            if i == 0 and j == 0:
                for k, c in colour.items():
                    ax.scatter([], [], c=c, s=20, label=k)
                ax.legend(fontsize=6, loc="upper left", framealpha=0.6)
    fig.tight_layout()

    def save(tmp: Path) -> None:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".").lower())

    try:
        atomic_write(path, save)
    finally:
        plt.close(fig)


def _register() -> None:
    command: Any = (setup, run)
    EXTRA_COMMANDS["forecast"] = ("EV spatial-temporal load forecast (seed 001, section 2)",
                                  command)


_register()
