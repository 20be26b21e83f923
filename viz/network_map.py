"""The network map: lines coloured by loading, buses by voltage, and the plan on top.

What a planner looks for first: which lines run hot, which buses sag, what was built and
where the equipment stands. Buses sit at the model's coordinates, or on the tree layout of
`gridc.viz.layout` when the model gives none. The view is the worst over every scenario
and hour (largest loading, the voltage farthest from 1 p.u. while the bus is supplied), or
one scenario, or one scenario at one hour.

Lines are drawn in three collections: in service (colour = loading), out for an outage
in the view (dashed red) and open (dotted grey: normally-open ties, open switches, lines
not built). Reinforced and newly built lines get a halo; switches a square at their middle
(filled closed, hollow open). Units are offset around their bus by kind. When solution.nc
carries an AC check (`gridc.runtime.ac_check`: `ac_v`, `ac_loading` and the violations
table `ac_violation_*`, read by `gridc.viz.series.ac_findings`), its violations in the
view are marked in red: a ring around a bus whose AC voltage leaves its limits, a cross
on a line loaded past its rating. `ac=True` draws the AC check's own map: buses coloured
by the AC voltage, lines by the AC loading.

Every collection carries a `gid` (`lines_in_service`, `lines_outage`, `lines_open`,
`halo_reinforced`, `halo_built`, `buses`, `unit_<kind>`, `ac_<kind>`) so that tests and
readers can find it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridc.viz import series
from gridc.viz.layout import positions
from gridc.viz.result import Case, Device, Network
from gridc.viz.style import COLOURS, pyplot

#: marker, offset direction (in units of the typical line length) and legend text
UNIT_STYLE: dict[str, tuple[str, tuple[float, float], str]] = {
    "generator": ("^", (0.22, 0.22), "generator"),
    "dg": ("^", (-0.22, 0.22), "DG"),
    "storage": ("s", (0.22, -0.22), "storage"),
    "ev_site": ("P", (-0.22, -0.22), "EV-RB site"),
    "station": ("*", (0.0, 0.32), "EV station"),
    "mess_point": ("D", (0.0, -0.32), "MESS point"),
}


def _items(case: Case) -> dict[str, tuple[float, str]]:
    """Priced item name -> (size, unit) at the solution (summary `planning_items`)."""
    items = (case.summary.get("planning_items") or {}).get("items") or []
    return {str(it.get("name")): (float(it.get("size") or 0.0), str(it.get("unit") or ""))
            for it in items}


def _select(case: Case, scenario: str | None, step: int | None) -> dict[str, Any]:
    sel: dict[str, Any] = {}
    if scenario is not None:
        sel["scenario"] = [scenario]
    if step is not None:
        sel["time"] = [case.ds["time"].values[step]]
    return sel


def view_title(case: Case, scenario: str | None, step: int | None) -> str:
    if scenario is None and step is None:
        return "worst over every scenario and hour"
    where = f"scenario {scenario}" if scenario is not None else "every scenario"
    if step is None:
        return f"{where}, worst over the day"
    h = step * case.step_h
    return f"{where} at {int(h):02d}:{round((h % 1) * 60):02d}"


def _line_classes(case: Case, net: Network, sel: dict[str, Any]) -> dict[str, str]:
    """line -> in_service | outage | open for the view."""
    u = series.line_in_service(case)
    out: dict[str, str] = {}
    for ln in net.lines:
        if u is None or ln.id not in u["line"].values:
            out[ln.id] = "open" if ln.kind in ("tie",) else "in_service"
            continue
        whole = u.sel(line=ln.id)
        if float(whole.max()) < 0.5:
            out[ln.id] = "open"
        elif float(whole.sel(sel).min()) < 0.5:
            out[ln.id] = "outage"
        else:
            out[ln.id] = "in_service"
    return out


def _solved_units(case: Case, dev: Device, sel: dict[str, Any]) -> tuple[bool, str]:
    """(built or in use in the solution, a label) for one unit."""
    ds = case.ds
    items = _items(case)
    if dev.kind == "dg":
        if "dg_units" in ds and dev.name in ds["dg"].values:
            n = float(ds["dg_units"].sel(dg=dev.name))
            size, unit = items.get(dev.name, (n, "units"))
            return n > 0.5, f"DG {dev.name} ({dev.detail}): {size:,.0f} {unit}"
        return False, f"DG {dev.name} ({dev.detail})"
    if dev.kind == "ev_site":
        if "ev_packs" in ds and dev.bus in [str(s) for s in ds["ev_site"].values]:
            n = float(ds["ev_packs"].sel(ev_site=dev.bus).sum())
            return n > 0.5, f"EV-RB site {dev.bus}: {n:.0f} packs"
        return False, f"EV-RB site {dev.bus}"
    if dev.kind == "station":
        chosen = "css" in ds.coords and dev.name in [str(s) for s in ds["css"].values]
        return chosen, f"station {dev.name}" + (" (built)" if chosen else " (site not chosen)")
    if dev.kind == "mess_point":
        if "mess_pos" in ds and dev.bus in [str(s) for s in ds["mess_at"].values]:
            pos = ds["mess_pos"].sel(mess_at=dev.bus).sel(sel)
            return float(pos.max()) > 0.5, f"MESS point {dev.bus}"
        return False, f"MESS point {dev.bus}"
    if dev.kind == "storage" and "storage_power_size" in ds \
            and dev.name in [str(s) for s in ds["storage"].values]:
        kw = float(ds["storage_power_size"].sel(storage=dev.name))
        return kw > 1e-6, f"storage {dev.name}: {kw:,.0f} kW built"
    return True, f"{dev.kind} {dev.name}"


def voltage_ticks(lo: float, hi: float, vmin: float, vmax: float) -> list[float]:
    """Ticks of the voltage colour bar: the limits, 1 p.u. and the ends of the norm
    [vmin, vmax] unless they would crowd a limit's label, rounded for the labels but
    kept inside [vmin, vmax]: a tick below vmin widens the bar's axis past the norm,
    whose scale then has no inverse (no colours, and "Singular matrix" on a line)."""
    def inside(t: float) -> float:
        return min(max(round(t, 4), vmin), vmax)

    ticks = sorted({inside(t) for t in (lo, 1.0, hi)})
    for end in (vmin, vmax):
        if min(abs(end - t) for t in ticks) > 0.04 * (vmax - vmin):
            ticks = sorted([*ticks, inside(end)])
    return ticks


def network_map(case: Case, scenario: str | None = None, step: int | None = None,
                ac: bool = False) -> Any:
    """The map of `case` (module docstring); raises ValueError without a network (or,
    with `ac`, without an AC check)."""
    if ac and not series.has_ac(case):
        raise ValueError("no AC check in this result (solution.nc has no ac_v)")
    net = case.network
    if net is None:
        raise ValueError(f"no network to draw: {case.model_note or 'model not found'}")
    plt = pyplot()
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize, TwoSlopeNorm
    from matplotlib.lines import Line2D

    xy, given = positions(net)
    sel = _select(case, scenario, step)
    if given:
        size = (11.0, 7.2)
    else:  # a tree: as many rows as laterals, as wide as the longest feeder
        rows = 1 - min((y for _, y in xy.values()), default=0.0)
        size = (12.0, min(9.0, 3.2 + 0.8 * rows))
    fig, ax = plt.subplots(figsize=size)
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    bars = make_axes_locatable(ax)
    cax_v = bars.append_axes("right", size="2.2%", pad=0.12)
    cax_l = bars.append_axes("right", size="2.2%", pad=0.75)
    used: set[str] = set()
    segs = {ln.id: [xy[ln.from_bus], xy[ln.to_bus]] for ln in net.lines
            if ln.from_bus in xy and ln.to_bus in xy}
    spans = [np.hypot(a[0] - b[0], a[1] - b[1]) for a, b in segs.values()]
    unit = float(np.median(spans)) if spans else 1.0
    classes = _line_classes(case, net, sel)
    handles: list[Any] = []

    # halos below everything: reinforced and newly built lines
    ds = case.ds
    halos = []
    if "reinforced" in ds:
        halos.append(("reinforced", [str(x) for x, v in zip(ds["line"].values,
                                                             ds["reinforced"].values) if v > 0.5],
                      "#6a3d9a"))
    if "line_built" in ds:
        kinds = {ln.id: ln.kind for ln in net.lines}
        halos.append(("built", [str(x) for x, v in zip(ds["line"].values, ds["line_built"].values)
                                if v > 0.5 and kinds.get(str(x)) == "new"], "#33a02c"))
    for name, ids, col in halos:
        chosen = [segs[i] for i in ids if i in segs]
        if chosen:
            coll = LineCollection(chosen, colors=col, linewidths=8, alpha=0.3, zorder=1,
                                  label=f"{name} line", capstyle="round")
            coll.set_gid(f"halo_{name}")
            ax.add_collection(coll)
            handles.append(Line2D([], [], color=col, lw=6, alpha=0.4, label=f"{name} line"))

    load = series.ac_loading(case) if ac else series.loading(case)
    word = "AC " if ac else ""
    in_service = [i for i, c in classes.items() if c == "in_service" and i in segs]
    worst_load = None
    if in_service:
        if load is not None:
            worst = load.sel(sel).max(["scenario", "time"])
            worst_load = np.array([float(worst.sel(line=i)) for i in in_service])
        coll = LineCollection([segs[i] for i in in_service], linewidths=2.4, zorder=2,
                              label="line in service")
        coll.set_gid("lines_in_service")
        if worst_load is not None and load is not None:
            top = max(1.0, float(worst_load.max())) if load.attrs.get("unit") != "kVA" \
                else float(worst_load.max()) or 1.0
            coll.set_array(worst_load)
            # a branch without a loading (no rating, e.g. a switch) is drawn grey, not
            # left out (a colormap draws NaN transparent by default)
            from matplotlib import colormaps
            coll.set_cmap(colormaps["YlOrRd"].with_extremes(bad="#555555"))
            coll.set_norm(Normalize(0.0, top))
            cb = fig.colorbar(coll, cax=cax_l)
            used.add("load")
            cb.set_label(f"{word}line loading, max |S| / rating"
                         if load.attrs.get("unit") != "kVA" else "line flow, max |S| (kVA)")
        else:
            coll.set_color("#555555")
        ax.add_collection(coll)
    for cls, style, col, text in (("outage", (0, (4, 3)), "#d62728", "line out (outage)"),
                                  ("open", (0, (1, 2)), "#9e9e9e",
                                   "open: tie, open switch or not built")):
        ids = [i for i, c in classes.items() if c == cls and i in segs]
        if ids:
            coll = LineCollection([segs[i] for i in ids], colors=col, linewidths=1.6,
                                  linestyles=[style], zorder=2, label=text)
            coll.set_gid(f"lines_{cls}")
            ax.add_collection(coll)
            handles.append(Line2D([], [], color=col, lw=1.6, ls=style, label=text))

    switches = [ln for ln in net.lines if ln.kind == "switch" and ln.id in segs]
    if switches:
        mid = np.array([np.mean(segs[ln.id], axis=0) for ln in switches])
        closed = np.array([classes[ln.id] != "open" for ln in switches])
        for flag, face, text in ((True, "k", "switch closed"), (False, "white", "switch open")):
            if (closed == flag).any():
                pts = ax.scatter(mid[closed == flag, 0], mid[closed == flag, 1], marker="s",
                                 s=22, facecolors=face, edgecolors="k", zorder=4, label=text)
                pts.set_gid(f"switch_{'closed' if flag else 'open'}")
                handles.append(pts)

    # buses, coloured by voltage
    v = series.ac_voltage(case, scenario, step) if ac else \
        series.worst_voltage(case, scenario, step)
    buses = [b for b in net.buses if b in xy]
    pts_xy = np.array([xy[b] for b in buses])
    volts = np.array([float(v.sel(bus=b)) if v is not None and b in v["bus"].values
                      else np.nan for b in buses])
    fed = np.isfinite(volts)
    lo, hi = net.v_limits
    if fed.any():
        vmin = min(lo, float(np.nanmin(volts)) - 1e-3)
        vmax = max(hi, float(np.nanmax(volts)) + 1e-3)
        vmin_n, vmax_n = min(vmin, 0.999), max(vmax, 1.001)
        norm = TwoSlopeNorm(vcenter=1.0, vmin=vmin_n, vmax=vmax_n)
        sc = ax.scatter(pts_xy[fed, 0], pts_xy[fed, 1], c=volts[fed], cmap="RdBu", norm=norm,
                        s=70, edgecolors="k", linewidths=0.6, zorder=5, label="bus")
        sc.set_gid("buses")
        cb = fig.colorbar(sc, cax=cax_v)
        used.add("volt")
        cb.set_label(f"{word}bus voltage (p.u.), farthest from 1 p.u.")
        cb.set_ticks(voltage_ticks(lo, hi, vmin_n, vmax_n))
        for y in (lo, hi):
            cb.ax.axhline(y, color="k", lw=0.8, ls="--")
    if (~fed).any():
        sc = ax.scatter(pts_xy[~fed, 0], pts_xy[~fed, 1], facecolors="white",
                        edgecolors="#d62728", s=70, linewidths=1.2, zorder=5,
                        label="bus not supplied")
        sc.set_gid("buses_unsupplied")
        handles.append(sc)
    if net.slack in xy:
        sx, sy = xy[net.slack]
        sl = ax.scatter([sx], [sy], marker="s", s=200, facecolors="none", edgecolors="k",
                        linewidths=2, zorder=6, label=f"slack / substation ({net.slack})")
        sl.set_gid("slack")
        handles.append(sl)
    if len(buses) <= 80:
        for b in buses:
            ax.annotate(b, xy[b], textcoords="offset points", xytext=(4, 5), fontsize=6.5,
                        zorder=7)

    for cax, what in ((cax_v, "volt"), (cax_l, "load")):
        if what not in used:
            cax.set_visible(False)
    handles += _draw_units(ax, case, net, xy, unit, sel)
    handles += _draw_ac(ax, case, xy, segs, scenario, step, ac)
    ax.autoscale_view()
    ax.margins(0.08)
    if given:
        ax.set_aspect("equal", adjustable="datalim")
        ax.set(xlabel="x (km)", ylabel="y (km)")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_xlabel("tree layout from the slack bus (the model gives no coordinates)")
    study = case.summary.get("study") or case.ds.attrs.get("study") or ""
    ax.set_title(f"{case.title}{' — ' + str(study) if study else ''}: "
                 f"{'AC check' if ac else 'network'}, {view_title(case, scenario, step)}")
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.08 if given
                                                                     else -0.04),
                  ncol=4, frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


def _draw_units(ax: Any, case: Case, net: Network, xy: dict[str, tuple[float, float]],
                unit: float, sel: dict[str, Any]) -> list[Any]:
    """Markers of generators, DG, storage, EV-RB sites, stations and MESS points."""
    handles = []
    groups: dict[tuple[str, bool, str], list[tuple[float, float]]] = {}
    labels: dict[tuple[str, bool, str], list[str]] = {}
    for dev in net.devices:
        if dev.kind == "grid" or dev.kind not in UNIT_STYLE or dev.bus not in xy:
            continue
        active, text = _solved_units(case, dev, sel)
        detail = dev.detail if dev.kind == "generator" else ""
        key = (dev.kind, active, detail)
        _, (dx, dy), _ = UNIT_STYLE[dev.kind]
        x, y = xy[dev.bus]
        groups.setdefault(key, []).append((x + dx * unit, y + dy * unit))
        labels.setdefault(key, []).append(text)
    for (kind, active, detail), pts in sorted(groups.items()):
        marker, _, name = UNIT_STYLE[kind]
        colour = {"generator": COLOURS.get({"pv": "PV", "wind": "wind",
                                            "gas_turbine": "gas turbine"}.get(detail, ""),
                                           COLOURS["generator"]),
                  "dg": COLOURS["DG (built)"], "storage": COLOURS["storage"],
                  "ev_site": COLOURS["EV-RB"], "station": COLOURS["EV stations"],
                  "mess_point": COLOURS["MESS"]}[kind]
        texts = labels[(kind, active, detail)]
        if kind == "generator":
            text = f"generator ({detail or 'unit'})"
        elif kind == "mess_point":
            text = "MESS stands here" if active else "MESS point (unused)"
        elif len(texts) <= 2:
            text = "; ".join(texts)
        else:
            text = f"{name}: {len(texts)} ({'built / used' if active else 'not built'})"
        arr = np.array(pts)
        sc = ax.scatter(arr[:, 0], arr[:, 1], marker=marker, s=90 if kind == "station" else 55,
                        facecolors=colour if active else "white", edgecolors=colour if not active
                        else "k", linewidths=1.2, zorder=6, label=text)
        sc.set_gid(f"unit_{kind}")
        handles.append(sc)
    return handles


def _draw_ac(ax: Any, case: Case, xy: dict[str, tuple[float, float]],
             segs: dict[str, list[tuple[float, float]]], scenario: str | None,
             step: int | None, ac: bool) -> list[Any]:
    """Rings around buses and crosses on lines the AC check flags in the view (nothing
    without a check; on the AC map, a legend line saying there is no violation)."""
    from matplotlib.lines import Line2D

    found = series.ac_findings(case, scenario, step)
    handles: list[Any] = []
    for kind in sorted({f.kind for f in found}):
        rows = [f for f in found if f.kind == kind]
        on_line = kind == "line_rating"
        pts = [(tuple(np.mean(segs[f.element], axis=0)) if on_line else xy[f.element], f)
               for f in rows if (f.element in segs if on_line else f.element in xy)]
        if not pts:
            continue
        arr = np.array([p for p, _ in pts])
        worst = max(f.excess for _, f in pts)
        unit = pts[0][1].unit
        what = {"voltage_low": "AC voltage below its limit",
                "voltage_high": "AC voltage above its limit",
                "line_rating": "AC loading above the rating"}.get(kind, kind)
        islands = sum(f.island for _, f in pts)
        text = (f"{what}: {len(pts)} {'line' if on_line else 'bus'}"
                f"{'' if len(pts) == 1 else 'es' if not on_line else 's'}, worst by "
                f"{worst:.3g} {unit}" + (f" ({islands} in islands)" if islands else ""))
        sc = ax.scatter(arr[:, 0], arr[:, 1], marker="X" if on_line else "o",
                        s=90 if on_line else 300, linewidths=2.0, zorder=8,
                        facecolors="#d62728" if on_line else "none", edgecolors="#d62728",
                        label=text)
        sc.set_gid(f"ac_{kind}")
        handles.append(sc)
    if ac and not handles:
        handles.append(Line2D([], [], ls="none", marker="o", mfc="none", mec="#2ca02c",
                              label="AC check: no limit violated in this view"))
    return handles
