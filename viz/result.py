"""What the pictures read: a solved result folder, its network and its equipment.

`open_result(OUT)` reads what `gridc solve --out OUT` wrote — `summary.json` and
`solution.nc`, checked to be one pair (`gridc.runtime.results.read_summary`) — or, for
`--all-studies` and `gridc sweep`, one such pair per sub-folder, and returns one `Case`
per pair.

Why an accessor and not the dataset directly: the pictures need the network (which bus
each line joins, coordinates, ratings) and where each unit stands, and results written
by different versions carry different amounts of it. A `solution.nc` that carries the
network (`line_from_bus`, `line_to_bus` over `line`; `bus_x`, `bus_y` over `bus`) is read
as it is; otherwise the model the result names (`ds.attrs["model"]`, a path relative to
the folder the solve ran in, tried there, then beside each parent of OUT) is loaded with
`gridc.dsl` and the study applied (`resolve_study`; a sweep case is its sweep's study
with the case's `set` lines), its storage and line investments expanded as the compiler
expands them. Without either, the network is None and the map says so instead of
guessing. Devices (generators, DG, storage, EV-RB sites, stations, MESS connection
points) come from the model; EV-RB sites and MESS points, whose labels are bus ids,
also from the dataset alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from gridc.compiler.core.study import resolve_study
from gridc.compiler.families.storage import expand_storage
from gridc.compiler.families.topology import expand_network
from gridc.dsl import GridError, ir, load
from gridc.dsl import ir_planning as P
from gridc.runtime.ioutil import MismatchedPair
from gridc.runtime.results import SOLUTION, SUMMARY, read_summary

LINE_DIM = "line"


class ResultError(Exception):
    """OUT is not a result folder (`usage`: the user named the wrong thing), or a pair
    in it cannot be read or does not belong together (`usage` False)."""

    def __init__(self, message: str, usage: bool = True):
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Line:
    id: str
    from_bus: str
    to_bus: str
    rating_kva: float | None = None
    r_pu: float | None = None  # on the network base (for DistFlow losses)
    kind: str = "line"  # line | tie (normally open) | new (a line to build) | switch


@dataclass(frozen=True)
class Device:
    """A unit drawn on the map: `kind` is grid, generator, dg, storage, ev_site,
    station or mess_point; `name` the model's name; `bus` where it is connected."""

    kind: str
    name: str
    bus: str
    detail: str = ""  # e.g. the generator kind (pv, wind, gas_turbine)


@dataclass
class Network:
    buses: list[str]
    lines: list[Line]
    xy: dict[str, tuple[float, float]]  # only buses with coordinates (may be empty)
    slack: str | None = None
    v_limits: tuple[float, float] = (0.95, 1.05)
    base_kva: float | None = None
    devices: list[Device] = field(default_factory=list)
    source: str = "model"  # where the lines came from: "solution.nc" or "model"

    @property
    def has_coordinates(self) -> bool:
        return bool(self.buses) and all(b in self.xy for b in self.buses)


@dataclass
class Case:
    """One solved study (or sweep case): the pair, the model and the network."""

    name: str  # the sub-folder for --all-studies / sweep, "" for a single result
    folder: Path
    summary: dict[str, Any]
    ds: xr.Dataset
    model: ir.Model | None = None  # the model with the study applied
    model_note: str = ""  # why the model could not be read, if so
    network: Network | None = None
    model_file: Path | None = None  # given by the user (--model), else searched

    @property
    def label(self) -> str:
        return self.name or str(self.summary.get("study") or self.ds.attrs.get("study")
                                or Path(str(self.summary.get("model", "result"))).stem)

    @property
    def title(self) -> str:
        """The model's own title (its `model NAME "title"` line), else its name."""
        if self.model is not None:
            return self.model.title or self.model.name
        return Path(str(self.summary.get("model", ""))).stem

    @property
    def step_h(self) -> float:
        value = self.ds.attrs.get("step_h", 1.0)
        try:
            step = float(value)
        except (TypeError, ValueError):
            return 1.0
        return step if math.isfinite(step) and step > 0 else 1.0

    @property
    def scenarios(self) -> list[str]:
        return [str(s) for s in self.ds["scenario"].values] if "scenario" in self.ds.coords \
            else []

    @property
    def probability(self) -> dict[str, float]:
        if "probability" in self.ds:
            p = self.ds["probability"]
            return {str(s): float(v) for s, v in zip(p["scenario"].values, p.values)}
        return {str(k): float(v) for k, v in (self.summary.get("scenarios") or {}).items()}

    @property
    def hours(self) -> np.ndarray:
        """The start of every step in hours from the start of the day."""
        steps = self.ds.sizes.get("time", 0)
        return np.arange(steps) * self.step_h

    def has(self, *names: str) -> bool:
        return all(n in self.ds for n in names)


# ---------------------------------------------------------------------- reading


def _is_result(folder: Path) -> bool:
    return (folder / SUMMARY).is_file()


def open_result(out: str | Path, allow: list[str] | None = None,
                model: str | Path | None = None) -> list[Case]:
    """Every case of the result folder `out` (see the module docstring); `model`, when
    given, is the model file to read instead of the one the result names (moved, or
    solved from another folder). Raises `ResultError` with a sentence for the user when
    there is nothing to read."""
    if model is not None and not Path(model).is_file():
        raise ResultError(f"--model {model}: no such file")
    root = Path(out)
    if not root.exists():
        raise ResultError(f"{out}: no such folder (expected the --out folder of gridc "
                          f"solve or gridc sweep)")
    if not root.is_dir():
        raise ResultError(f"{out}: not a folder (expected the --out folder of gridc solve "
                          f"or gridc sweep, holding {SUMMARY} and {SOLUTION})")
    if _is_result(root):
        return [_read_case(root, "", allow, model)]
    subs = sorted(p for p in root.iterdir() if p.is_dir() and _is_result(p))
    if not subs:
        raise ResultError(f"{out}: no {SUMMARY} here nor in a sub-folder (write one with "
                          f"gridc solve MODEL --out {out})")
    cases = [_read_case(p, p.name, allow, model) for p in subs]
    return _in_model_order(cases)


def _read_case(folder: Path, name: str, allow: list[str] | None,
               model: str | Path | None) -> Case:
    try:
        summary = read_summary(folder)
    except MismatchedPair as exc:
        raise ResultError(f"{exc} (solve again, or restore the pair)", usage=False) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultError(f"{folder / SUMMARY}: cannot be read: {exc}", usage=False) from None
    try:
        with xr.open_dataset(folder / SOLUTION, engine="netcdf4") as raw:
            ds = raw.load()
    except (OSError, ValueError) as exc:
        raise ResultError(f"{folder / SOLUTION}: cannot be read: {exc}", usage=False) from None
    case = Case(name=name, folder=folder, summary=summary, ds=ds,
                model_file=Path(model) if model is not None else None)
    case.model, case.model_note = _study_model(case, allow)
    case.network = network_of(case)
    return case


def _in_model_order(cases: list[Case]) -> list[Case]:
    """Studies in the order the model lists them, sweep cases in the sweep's order."""
    model = next((c.model for c in cases if c.model is not None), None)
    if model is None:
        return cases
    order = [s.name for s in model.studies]
    for sw in model.sweeps:
        order += [c.label for c in sw.cases] + [f"{sw.name}.{c.label}" for c in sw.cases]
    rank = {n: k for k, n in enumerate(order)}
    return sorted(cases, key=lambda c: (rank.get(c.name, len(rank)), c.name))


def model_path(case: Case) -> Path | None:
    """The model file the result names, if it can be found (see the module docstring)."""
    if case.model_file is not None:
        return case.model_file
    name = str(case.ds.attrs.get("model") or case.summary.get("model") or "")
    if not name:
        return None
    given = Path(name)
    if given.is_absolute():
        return given if given.is_file() else None
    tries = [Path.cwd() / given] + [parent / given for parent in case.folder.resolve().parents]
    return next((p for p in tries if p.is_file()), None)


def _study_model(case: Case, allow: list[str] | None) -> tuple[ir.Model | None, str]:
    path = model_path(case)
    if path is None:
        return None, (f"model {case.ds.attrs.get('model') or case.summary.get('model')!s} "
                      f"not found from {Path.cwd()} (give it with --model FILE)")
    try:
        model = load(path, allow=allow)
    except GridError as exc:
        return None, f"{path}: the model no longer loads ({len(exc.diagnostics)} errors)"
    study = str(case.ds.attrs.get("study") or case.summary.get("study") or "") or None
    try:
        return resolve_study(_with_sweep_study(model, study), study).model, ""
    except GridError:
        return model, f"study {study} not in {path}: drawn with the model's defaults"


def _with_sweep_study(model: ir.Model, study: str | None) -> ir.Model:
    """A sweep case `SWEEP.CASE` is its sweep's study with the case's `set` lines (as
    `gridc sweep` builds it)."""
    if study is None or any(s.name == study for s in model.studies) or "." not in study:
        return model
    sweep_name, label = study.split(".", 1)
    for sw in model.sweeps:
        for c in sw.cases:
            if sw.name == sweep_name and c.label == label:
                extra = ir.Study(name=study, extends=sw.study, overrides=c.overrides,
                                 span=c.span)
                return model.model_copy(update={"studies": (*model.studies, extra)})
    return model


# ---------------------------------------------------------------------- the network


def _labels(da: xr.DataArray) -> list[str]:
    return [str(v) for v in np.asarray(da.values).ravel()]


def _line_values(ds: xr.Dataset, name: str) -> list[float | None]:
    if name not in ds:
        return [None] * ds.sizes.get(LINE_DIM, 0)
    return [float(v) if math.isfinite(float(v)) else None
            for v in np.asarray(ds[name].values, dtype=float)]


def network_of(case: Case) -> Network | None:
    """The case's network: lines from solution.nc when it carries them (ends, ratings,
    resistances, normally-open flags), else from the model; coordinates likewise;
    devices from the model (and the dataset)."""
    ds, model = case.ds, case.model
    from_model = model_network(model) if model is not None else None
    if "line_from_bus" in ds and "line_to_bus" in ds and LINE_DIM in ds.coords:
        known = {ln.id: ln for ln in from_model.lines} if from_model else {}
        ids = _labels(ds[LINE_DIM])
        base_kv, base_kva = ds.attrs.get("base_kv"), ds.attrs.get("base_kva")
        z_base = float(base_kv) ** 2 * 1000.0 / float(base_kva) \
            if base_kv is not None and base_kva else None
        ratings, r_ohm = _line_values(ds, "line_rating_kva"), _line_values(ds, "line_r_ohm")
        tie = [bool(v) for v in np.asarray(ds["line_normally_open"].values)] \
            if "line_normally_open" in ds else [False] * len(ids)
        lines = []
        for k, (i, f, t) in enumerate(zip(ids, _labels(ds["line_from_bus"]),
                                          _labels(ds["line_to_bus"]))):
            old = known.get(i)
            rk = r_ohm[k]
            r_pu = rk / z_base if rk is not None and z_base else None
            kind = old.kind if old is not None else "tie" if tie[k] else "line"
            lines.append(Line(i, f, t, ratings[k] if ratings[k] is not None else
                              (old.rating_kva if old else None),
                              r_pu if r_pu is not None else (old.r_pu if old else None), kind))
        buses = _labels(ds["bus"]) if "bus" in ds.coords else \
            list(dict.fromkeys(b for ln in lines for b in (ln.from_bus, ln.to_bus)))
        net = Network(buses=buses, lines=lines, xy={}, source="solution.nc",
                      slack=str(ds.attrs["slack_bus"]) if "slack_bus" in ds.attrs else None,
                      base_kva=float(base_kva) if base_kva else None)
        if from_model is not None:
            net.slack = net.slack or from_model.slack
            net.v_limits, net.devices = from_model.v_limits, from_model.devices
            net.base_kva = net.base_kva or from_model.base_kva
            net.xy = dict(from_model.xy)
    elif from_model is not None:
        net = from_model
    else:
        return None
    if "bus_x" in ds and "bus_y" in ds and "bus" in ds.coords:
        xs, ys = np.asarray(ds["bus_x"].values, float), np.asarray(ds["bus_y"].values, float)
        net.xy = {b: (float(x), float(y)) for b, x, y in zip(_labels(ds["bus"]), xs, ys)
                  if math.isfinite(x) and math.isfinite(y)}
    net.devices = _merge_devices(net.devices, _dataset_devices(ds))
    return net


def model_network(model: ir.Model) -> Network | None:
    if not model.networks:
        return None
    expanded, candidates = expand_network(expand_storage(model))
    net = expanded.network()
    new = {c.line for c in candidates if c.new}
    switch = {c.line for c in candidates if not c.new}
    default = net.cable_rating_kva if net.cable_rating_kva is not None else net.base_kva
    z_base = net.base_kv ** 2 * 1000.0 / net.base_kva
    lines = []
    for ln in net.lines:
        kind = "new" if ln.id in new else "switch" if ln.id in switch else \
            "tie" if ln.normally_open else "line"
        lines.append(Line(ln.id, ln.from_bus, ln.to_bus,
                          ln.rating_kva if ln.rating_kva is not None else default,
                          ln.r_ohm / z_base, kind))
    xy = {b.id: (float(b.x_km), float(b.y_km)) for b in net.buses
          if b.x_km is not None and b.y_km is not None}
    return Network(buses=[b.id for b in net.buses], lines=lines, xy=xy, slack=net.slack_bus,
                   v_limits=(net.v_min_pu, net.v_max_pu), base_kva=net.base_kva,
                   devices=_model_devices(expanded, net), source="model")


def _model_devices(model: ir.Model, net: ir.Network) -> list[Device]:
    out: list[Device] = []
    grid = [g for g in model.generators if g.kind == "grid"]
    if not grid:  # the implicit grid supply at the slack bus
        out.append(Device("grid", "grid", net.slack_bus, "grid"))
    for g in model.generators:
        out.append(Device("grid" if g.kind == "grid" else "generator", g.name, g.bus, g.kind))
    for s in model.storages:
        out.append(Device("storage", s.name, s.bus, f"{s.power_kw:g} kW / {s.energy_kwh:g} kWh"))
    sites = {s.name: s for s in model.stations}
    for inv in model.investments:
        if isinstance(inv, P.DgUnits):
            out.append(Device("dg", inv.name, inv.bus, inv.source))
        elif isinstance(inv, P.EvBattery):
            out += [Device("ev_site", inv.name, s.bus, f"{s.evs} EVs") for s in inv.sites]
        elif isinstance(inv, P.MobileStorage):
            points = inv.candidates or tuple(b.id for b in net.buses)
            out += [Device("mess_point", inv.name, b, "depot" if b == inv.depot else "")
                    for b in points]
        elif isinstance(inv, P.Stations):
            out += [Device("station", s, sites[s].bus, "") for s in inv.sites if s in sites]
    return out


def _dataset_devices(ds: xr.Dataset) -> list[Device]:
    """EV-RB sites and MESS points: their labels are bus ids."""
    out = [Device("ev_site", "ev_battery", b) for b in _labels(ds["ev_site"])] \
        if "ev_site" in ds.coords else []
    if "mess_at" in ds.coords:
        out += [Device("mess_point", "mess", b) for b in _labels(ds["mess_at"])]
    return out


def _merge_devices(model: list[Device], data: list[Device]) -> list[Device]:
    seen = {(d.kind, d.bus) for d in model}
    return model + [d for d in data if (d.kind, d.bus) not in seen]


# ---------------------------------------------------------------------- comments


def model_comments(case: Case) -> list[str]:
    """The comment block at the top of the model file (the planner's description of the
    model), without the `//` markers; empty when the file cannot be read."""
    path = model_path(case)
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("//"):
            if line or out:
                break
            continue
        out.append(line[2:].strip())
    return out
