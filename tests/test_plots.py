"""`gridc plot` and `gridc.viz`: every picture drawn from small solved models, checked by
what it contains (axes, legends, collections and the numbers behind them), not only that a
file appears.

Fixtures (solved once per session with `gridc solve`, each in seconds):

* `feeder8`: tests/models/feeder8.grid (storage, an outage, shedding; no coordinates, so
  the map uses the tree layout), and two variants: `feeder8_distflow` (losses) and
  `feeder8_tight` (a voltage limit the AC check finds violated);
* `mess6`: a six-bus feeder with coordinates, PV, a battery, a mobile battery, EV-RBs,
  a reinforcement candidate and a normally-open tie, with two studies (`--all-studies`);
* `stations5`: a five-bus area with road nodes, two fleets, two station sites (one is
  built: two sub-cases), lines to build (radial) and PV to size;
* `ieee33_operation`: the shipped operation model (33 buses, 5 ties, 3 scenarios; ~9 s).
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from gridc.cli.main import main
from gridc.viz import series
from gridc.viz.costs import breakdown, comparison_figure, costs_figure
from gridc.viz.dispatch import dispatch_figure
from gridc.viz.figures import KINDS, draw_case
from gridc.viz.layout import tree_layout
from gridc.viz.mess_routes import mess_figure, trips
from gridc.viz.network_map import network_map, voltage_ticks
from gridc.viz.result import Case, Network, open_result
from gridc.viz.stations import stations_figure
from gridc.viz.style import close, render

ROOT = Path(__file__).resolve().parents[1]
FEEDER8 = ROOT / "tests" / "models" / "feeder8.grid"
MESS6 = ROOT / "tests" / "models" / "mess6.grid"
STATIONS5 = ROOT / "tests" / "models" / "stations5.grid"




def _feeder8(change: Callable[[str], str]) -> str:
    return change(FEEDER8.read_text(encoding="utf-8"))


#: name -> (model text or path, extra solve arguments, or ["sweep", SWEEP])
MODELS: dict[str, tuple[str | Path, list[str]]] = {
    "feeder8": (FEEDER8, []),
    "feeder8_distflow": (_feeder8(lambda t: t.replace(
        "horizon 24 h step 1 h", "horizon 24 h step 1 h\nformulation distflow")), []),
    # the LinDistFlow voltage sits above the AC one: a lower limit at the model's own
    # minimum is violated in AC (gridc.runtime.ac_check)
    "feeder8_tight": (_feeder8(lambda t: t.replace("voltage 0.93 .. 1.07 pu",
                                                   "voltage 0.997 .. 1.07 pu")), []),
    "mess6": (MESS6, ["--all-studies"]),
    "mess6_sweep": (MESS6, ["sweep", "evs"]),
    "stations5": (STATIONS5, ["--time-limit", "4"]),
    "ieee33_operation": (ROOT / "models" / "ieee33_operation.grid", []),
}
_SOLVED: dict[str, Path] = {}


@pytest.fixture(scope="session")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """name -> the --out folder of that model, solved on first use."""
    root = tmp_path_factory.mktemp("solved")

    def get(name: str) -> Path:
        if name not in _SOLVED:
            source, extra = MODELS[name]
            if isinstance(source, Path):
                path = source
            else:
                path = root / "models" / f"{name}.grid"
                path.parent.mkdir(exist_ok=True)
                path.write_text(source, encoding="utf-8")
            out = root / name
            argv = (["sweep", str(path), *extra[1:], "--out", str(out)] if extra[:1] == ["sweep"]
                    else ["solve", str(path), "--out", str(out), "--quiet", *extra])
            code = main(argv)
            assert code == 0, f"solving {name} failed ({code})"
            _SOLVED[name] = out
        return _SOLVED[name]

    return get


def _case(solved: Callable[[str], Path], name: str, sub: str | None = None) -> Case:
    cases = open_result(solved(name))
    return next(c for c in cases if c.name == sub) if sub else cases[0]


def _by_gid(fig: Any, gid: str) -> list[Any]:
    found = []
    for ax in fig.axes:
        for artist in [*ax.collections, *ax.patches, *ax.lines, *ax.texts]:
            if artist.get_gid() == gid:
                found.append(artist)
    return found


def _legend_texts(fig: Any) -> list[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    return [t.get_text() for lg in legends if lg is not None for t in lg.get_texts()]


# ---------------------------------------------------------------------- layout


def test_tree_layout_draws_the_ieee33_feeder_as_its_single_line_diagram() -> None:
    from gridc.dsl import load
    from gridc.viz.result import model_network

    net = model_network(load(ROOT / "models" / "ieee33.grid"))
    assert net is not None and not net.has_coordinates
    xy = tree_layout(net)
    assert set(xy) == {str(b) for b in range(1, 34)}
    row = {b: -y for b, (_, y) in xy.items()}
    # the trunk 1..18 stays on one row, each lateral gets its own row
    assert {row[str(b)] for b in range(1, 19)} == {0.0}
    laterals = [range(19, 23), range(23, 26), range(26, 34)]
    rows = [{row[str(b)] for b in lat} for lat in laterals]
    assert all(len(r) == 1 for r in rows) and len({next(iter(r)) for r in rows}) == 3
    # x is the number of lines from the slack; ties (e.g. 25-29) are chords, not tree lines
    assert xy["1"][0] == 0 and xy["18"][0] == 17 and xy["33"][0] == 13
    assert xy["29"][0] == xy["28"][0] + 1


def test_tree_layout_places_unreached_buses_on_rows_of_their_own() -> None:
    from gridc.viz.result import Line

    net = Network(buses=["a", "b", "c", "z"], lines=[Line("a-b", "a", "b"),
                                                     Line("b-c", "b", "c")], xy={}, slack="a")
    xy = tree_layout(net)
    assert xy["a"] == (0.0, 0.0) and xy["c"] == (2.0, 0.0)
    assert xy["z"][1] < 0.0


# ---------------------------------------------------------------------- the map


def _worst_loading(case: Case, lines: list[str]) -> np.ndarray:
    ds = case.ds
    s = np.hypot(ds["line_p"], ds["line_q"]).max(["scenario", "time"])
    rating = {ln.id: ln.rating_kva for ln in case.network.lines}  # type: ignore[union-attr]
    return np.array([float(s.sel(line=i)) / float(rating[i] or 1) for i in lines])


def test_map_of_feeder8_colours_lines_and_buses_and_dashes_the_outage(
        solved: Callable[[str], Path]) -> None:
    case = _case(solved, "feeder8")
    assert case.network is not None and case.network.source == "solution.nc"
    fig = network_map(case)
    try:
        (on,) = _by_gid(fig, "lines_in_service")
        (out,) = _by_gid(fig, "lines_outage")
        (buses,) = _by_gid(fig, "buses")
        assert len(on.get_segments()) == 6 and len(out.get_segments()) == 1
        in_service = [ln.id for ln in case.network.lines if ln.id != "b2-b5"]
        np.testing.assert_allclose(on.get_array(), _worst_loading(case, in_service),
                                   rtol=1e-9)
        assert len(buses.get_offsets()) == 8
        # colours: the energised voltage farthest from 1 p.u. per bus
        v = case.ds["bus_v"].where(case.ds["energized"] > 0)
        far = xr.where(abs(v.max(["scenario", "time"]) - 1) > abs(v.min(["scenario", "time"])
                                                                  - 1),
                       v.max(["scenario", "time"]), v.min(["scenario", "time"]))
        np.testing.assert_allclose(buses.get_array(), far.values, rtol=1e-12)
        assert _by_gid(fig, "unit_storage") and _by_gid(fig, "slack")
        labels = [ax.get_ylabel() for ax in fig.axes]
        assert any("line loading" in t for t in labels)
        assert any("bus voltage" in t for t in labels)
        texts = _legend_texts(fig)
        assert "line out (outage)" in texts and "storage bat" in texts
        assert "worst over every scenario and hour" in fig.axes[0].get_title()
    finally:
        close(fig)
    # calm has no outage; the storm at 12:00 has b2-b5 out, at 03:00 not
    for scenario, step, outaged in (("calm", None, 0), ("storm", 12, 1), ("storm", 3, 0)):
        fig = network_map(case, scenario, step)
        try:
            assert len(_by_gid(fig, "lines_outage")) == outaged
            (on,) = _by_gid(fig, "lines_in_service")
            assert len(on.get_segments()) == 7 - outaged
        finally:
            close(fig)


def test_map_of_mess6_uses_coordinates_and_marks_the_plan(
        solved: Callable[[str], Path]) -> None:
    case = _case(solved, "mess6", "main")
    net = case.network
    assert net is not None and net.has_coordinates
    fig = network_map(case)
    try:
        (buses,) = _by_gid(fig, "buses")
        xy = {"b1": (0, 0), "b2": (1, 0), "b3": (2, 0), "b4": (2, 1), "b5": (3, 0),
              "b6": (3, 1)}
        np.testing.assert_allclose(buses.get_offsets(), [xy[b] for b in net.buses])
        (tie,) = _by_gid(fig, "lines_open")
        np.testing.assert_allclose(tie.get_segments()[0], [xy["b4"], xy["b6"]])
        packs = int(case.ds["ev_packs"].sum())
        texts = _legend_texts(fig)
        assert f"EV-RB site b6: {packs} packs" in texts
        # where a MESS stands in some hour: filled markers; unused points: hollow
        stands = {str(b) for b in case.ds["mess_at"].values
                  if float(case.ds["mess_pos"].sel(mess_at=b).max()) > 0.5}
        assert stands and ("MESS stands here" in texts)
        assert ("MESS point (unused)" in texts) == (len(stands) < 3)
        assert fig.axes[0].get_xlabel() == "x (km)"
    finally:
        close(fig)


def test_map_of_stations5_shows_built_lines_dg_and_the_chosen_station(
        solved: Callable[[str], Path]) -> None:
    case = _case(solved, "stations5")
    built = [str(x) for x, v in zip(case.ds["line"].values, case.ds["line_built"].values)
             if v > 0.5]
    fig = network_map(case)
    try:
        (halo,) = _by_gid(fig, "halo_built")
        new = {ln.id for ln in case.network.lines if ln.kind == "new"}  # type: ignore[union-attr]
        assert len(halo.get_segments()) == len(set(built) & new) > 0
        (open_lines,) = _by_gid(fig, "lines_open")
        assert len(open_lines.get_segments()) == len(case.ds["line"]) - len(built)
        texts = " | ".join(_legend_texts(fig))
        chosen = str(case.ds["css"].values[0])
        assert f"station {chosen} (built)" in texts
        assert "site not chosen" in texts
        kw = case.summary["planning_items"]["sizes"]["pv"]
        assert f"DG pv (pv): {kw:,.0f} kW" in texts
    finally:
        close(fig)


# ---------------------------------------------------------------------- dispatch


@pytest.mark.parametrize("name", ["feeder8", "feeder8_distflow", "mess6", "stations5"])
def test_dispatch_meets_the_input_demand_every_hour(solved: Callable[[str], Path],
                                                     name: str) -> None:
    """The balance of the drawn bands (supplies − sinks + shed, with DistFlow's losses
    from r·ℓ and the station load from the served PEV energy) equals the input demand
    solution.nc carries: the picture adds up."""
    case = _case(solved, name, "main" if name == "mess6" else None)
    assert "bus_demand_p" in case.ds
    for scenario in case.scenarios:
        flows = series.dispatch(case, scenario)
        given = series.demand(case, scenario, flows)
        np.testing.assert_allclose(series.balance(flows), given, atol=1e-4 * given.max())
    if name == "feeder8_distflow":
        assert any(f.label == "losses" and f.values.max() > 0 for f in
                   series.dispatch(case, case.scenarios[0]))


def test_dispatch_figure_of_feeder8(solved: Callable[[str], Path]) -> None:
    case = _case(solved, "feeder8")
    fig = dispatch_figure(case)
    try:
        axes = fig.axes
        assert len(axes) == 4  # (dispatch, energy) per scenario
        assert [ax.get_title(loc="left") for ax in axes[::2]] == [
            "calm (probability 0.9)", "storm (probability 0.1)"]
        for ax, scenario in zip(axes[::2], ("calm", "storm")):
            flows = series.dispatch(case, scenario)
            drawn = {c.get_gid() for c in ax.collections if c.get_gid()}
            expect = {f"{'sink' if f.kind == 'sink' else 'supply'}_{f.label}" for f in flows
                      if f.values.max() > 1e-6}
            assert expect <= drawn
            (line,) = [ln for ln in ax.lines if ln.get_gid() == "demand"]
            np.testing.assert_allclose(line.get_ydata()[:-1],
                                       series.demand(case, scenario, flows))
        storm = axes[2]
        assert "supply_shed load" in {c.get_gid() for c in storm.collections}
        assert "supply_shed load" not in {c.get_gid() for c in axes[0].collections}
        (window,) = [p for p in storm.patches if p.get_gid() == "outage_b2-b5"]
        assert (window.get_x(), window.get_x() + window.get_width()) == (10.0, 14.0)
        assert [ln.get_label() for ln in axes[1].lines] == ["storage bat"]
        for word in ("grid", "storage", "shed load", "demand", "outage window"):
            assert word in _legend_texts(fig)
    finally:
        close(fig)


# ---------------------------------------------------------------------- MESS routes


def test_mess_routes_of_mess6(solved: Callable[[str], Path]) -> None:
    case = _case(solved, "mess6", "main")
    pos = case.ds["mess_pos"].sel(mess_type="M1")
    fig = mess_figure(case)
    try:
        assert len(fig.axes) == 2
        for ax, scenario in zip(fig.axes, case.scenarios):
            labels = [t.get_text() for t in ax.get_yticklabels()]
            assert labels == ["b1 (depot)", "b3", "b5"]
            for b in ("b1", "b3", "b5"):
                standing = np.flatnonzero(pos.sel(scenario=scenario, mess_at=b).values > 0.5)
                bars = [c for c in ax.collections if c.get_gid() == f"stand_M1_{b}"]
                if not standing.size:
                    assert not bars
                    continue
                (bar,) = bars
                covered = sum(p.get_extents().width for p in bar.get_paths())
                assert covered > 0
                xs = np.concatenate([p.vertices[:, 0] for p in bar.get_paths()])
                assert xs.min() == standing.min() and xs.max() == standing.max() + 1
            arrows = [t for t in ax.texts if t.get_gid() == "trip_M1"]
            assert len(arrows) == len(trips(case, scenario, "M1"))
        # the storm cuts b3 and b5 off: their rows are shaded in the outage hours
        storm = fig.axes[case.scenarios.index("storm")]
        assert {c.get_gid() for c in storm.collections} >= {"cut_b3", "cut_b5"}
        assert "MESS M1" in _legend_texts(fig)
    finally:
        close(fig)


def test_trips_pair_departures_with_arrivals(solved: Callable[[str], Path]) -> None:
    case = _case(solved, "mess6", "main")
    for scenario in case.scenarios:
        pos = case.ds["mess_pos"].sel(scenario=scenario, mess_type="M1")
        at = pos.transpose("time", "mess_at").values > 0.5  # one unit: where it stands
        where = ["b1"] + [str(pos["mess_at"].values[row.argmax()]) for row in at if row.any()]
        moves = [(a, b) for a, b in itertools.pairwise(where) if a != b]
        got = trips(case, scenario, "M1")
        assert [(a, b) for _, a, _, b, _ in got] == moves
        for t0, _, t1, _, units in got:  # a drive of `travel 1 h`, one unit
            assert t1 - t0 >= 1.0 and units == 1


# ---------------------------------------------------------------------- costs


@pytest.mark.parametrize(("name", "sub", "basis"), [
    ("feeder8", None, "expected cost (objective)"),
    ("mess6", "main", "total comprehensive cost (CRF × objective)"),
    ("stations5", None, "annual cost (objective)"),
])
def test_cost_breakdown_adds_up_to_the_headline(solved: Callable[[str], Path], name: str,
                                                sub: str | None, basis: str) -> None:
    case = _case(solved, name, sub)
    b = breakdown(case)
    assert b.basis == basis
    assert "not itemised" not in [t[0] for t in b.terms]
    total = case.summary["planning"]["total_comprehensive"] if case.summary.get("planning") \
        else case.summary["objective"]
    assert sum(v for _, _, v in b.terms) == pytest.approx(total, rel=1e-9)
    fig = costs_figure(case)
    try:
        bars = [p for ax in fig.axes for p in ax.patches if (p.get_gid() or "").startswith(
            "term_")]
        assert len(bars) == len(b.terms)
        (tot,) = [p for ax in fig.axes for p in ax.patches if p.get_gid() == "total"]
        assert tot.get_width() == pytest.approx(total)
        subcases = case.summary.get("subcases") or []
        sub_bars = [p for ax in fig.axes for p in ax.patches
                    if (p.get_gid() or "").startswith("subcase_")]
        assert len(sub_bars) == (len(subcases) if len(subcases) > 1 else 0)
        for p, row in zip(sub_bars, subcases):
            assert p.get_height() == pytest.approx(row["objective"])
    finally:
        close(fig)


def test_studies_side_by_side_with_their_gaps(solved: Callable[[str], Path]) -> None:
    cases = open_result(solved("mess6"))
    assert [c.name for c in cases] == ["main", "no_mess"]
    fig = comparison_figure(cases)
    try:
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["main", "no_mess"]
        (incumbent,) = [ln for ln in ax.lines if ln.get_gid() == "incumbent"]
        totals = [c.summary["planning"]["total_comprehensive"] for c in cases]
        np.testing.assert_allclose(incumbent.get_ydata(), totals)
        # each stacked bar adds up to its study's total
        for k, c in enumerate(cases):
            parts = [p for p in ax.patches if (p.get_gid() or "").startswith(f"{c.label}_")]
            assert sum(p.get_height() for p in parts) == pytest.approx(totals[k])
        # method with MESS never dearer than without (superset, MIP starts)
        assert totals[0] <= totals[1] * (1 + 1e-9)
        assert "incumbent and dual bound (gap)" in _legend_texts(fig)
    finally:
        close(fig)


def test_sweep_cases_side_by_side(solved: Callable[[str], Path]) -> None:
    cases = open_result(solved("mess6_sweep"))
    assert [c.name for c in cases] == ["few", "many"]  # the sweep's order
    # each case is drawn with its own study (the sweep's, with the case's `set` lines)
    for c, evs in zip(cases, (1, 8)):
        assert c.model is not None and c.model_note == ""
        (inv,) = [i for i in c.model.investments if i.name == "evb"]
        assert inv.sites[0].evs == evs  # type: ignore[union-attr]
    fig = comparison_figure(cases)
    try:
        (incumbent,) = [ln for ln in fig.axes[0].lines if ln.get_gid() == "incumbent"]
        np.testing.assert_allclose(incumbent.get_ydata(), [
            c.summary["planning"]["total_comprehensive"] for c in cases])
    finally:
        close(fig)


# ---------------------------------------------------------------------- stations


def test_station_heat_maps_of_stations5(solved: Callable[[str], Path]) -> None:
    from gridc.data.ev_forecast import forecast

    case = _case(solved, "stations5")
    load = series.station_load(case)
    assert load is not None
    peak = case.summary["planning_items"]["stations"][0]["peak_kw"]
    assert float(load.max()) == pytest.approx(peak, rel=1e-6)
    assert case.model is not None
    fc = forecast(case.model)
    fig = stations_figure(case, fc)
    try:
        meshes = {c.get_gid(): c for ax in fig.axes for c in ax.collections if c.get_gid()}
        for s in case.scenarios:
            mesh = meshes[f"station_load_{s}"]
            np.testing.assert_allclose(np.asarray(mesh.get_array()).ravel(),
                                       load.sel(scenario=s).transpose("css", "time")
                                       .values.ravel())
        assert "station_load_expected" in meshes and "forecast_node_energy" in meshes
        energy = (fc.node_energy_kwh * fc.probability).sum(["typical", "fleet"])
        assert float(np.asarray(meshes["forecast_node_energy"].get_array()).sum()) == \
            pytest.approx(float(energy.sum()))
        site = str(case.ds["css"].values[0])
        bus = next(s.bus for s in case.model.stations if s.name == site)
        assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [f"{site} (bus {bus})"]
    finally:
        close(fig)


# ---------------------------------------------------------------------- AC check


def test_ac_violations_are_marked_on_the_map(solved: Callable[[str], Path]) -> None:
    case = _case(solved, "feeder8_tight")
    rows = case.ds.sizes["ac_violation"]
    assert rows > 0
    found = series.ac_findings(case)
    elements = set(np.asarray(case.ds["ac_violation_element"].values).astype(str))
    assert {f.element for f in found} == elements
    assert sum(f.count for f in found) == rows
    for ac in (False, True):
        fig = network_map(case, ac=ac)
        try:
            (rings,) = _by_gid(fig, "ac_voltage_low")
            xy = {b: p for b, p in zip(case.network.buses,  # type: ignore[union-attr]
                                       _by_gid(fig, "buses")[0].get_offsets())}
            np.testing.assert_allclose(rings.get_offsets(), [xy[e] for e in sorted(elements)])
            assert any(t.startswith("AC voltage below its limit") for t in _legend_texts(fig))
        finally:
            close(fig)
    fig = network_map(case, ac=True)
    try:
        (buses,) = _by_gid(fig, "buses")
        v = case.ds["ac_v"].where(case.ds["ac_bus_state"] > 0).min(["scenario", "time"])
        np.testing.assert_allclose(buses.get_array(), v.values, rtol=1e-12)
        assert "AC check" in fig.axes[0].get_title()
        (lines,) = _by_gid(fig, "lines_in_service")  # a branch without a loading
        assert lines.get_cmap().get_bad()[3] > 0  # (no rating: a switch) stays visible
        lo, hi = fig.axes[1].get_ylim()  # the voltage colour bar spans its norm
        assert buses.norm.vmin - 1e-12 <= lo < hi <= buses.norm.vmax + 1e-12
    finally:
        close(fig)


@given(lo=st.floats(0.8, 0.99), hi=st.floats(1.01, 1.2), below=st.floats(0.0, 0.05),
       above=st.floats(0.0, 0.05))
def test_voltage_ticks_stay_inside_the_norm(lo: float, hi: float, below: float,
                                            above: float) -> None:
    """A tick rounded below the norm's vmin (limits 0.93 .. 1.07, lowest AC voltage
    0.92991: vmin 0.92891, tick 0.9289) widened the colour bar past its norm: it drew no
    colours and the limit lines raised "Singular matrix" (found on a model of our own)."""
    vmin, vmax = lo - below, hi + above
    ticks = voltage_ticks(lo, hi, vmin, vmax)
    assert all(vmin <= t <= vmax for t in ticks)
    assert 1.0 in ticks and ticks == sorted(ticks)
    assert voltage_ticks(0.93, 1.07, 0.92891084, 1.07)[0] >= 0.92891084


def test_ac_map_without_violations_and_without_a_check(solved: Callable[[str], Path]) -> None:
    case = _case(solved, "feeder8")
    assert series.has_ac(case) and not series.ac_findings(case)
    (drawn,) = draw_case(case, ["ac"])
    try:
        assert drawn.figure is not None
        assert "AC check: no limit violated in this view" in _legend_texts(drawn.figure)
    finally:
        close(drawn.figure)
    case.ds = case.ds.drop_vars([v for v in case.ds.data_vars if str(v).startswith("ac_")])
    (skipped,) = draw_case(case, ["ac"])
    assert skipped.figure is None and "no AC check" in skipped.skipped


def test_a_line_rating_violation_is_crossed_at_the_middle_of_its_line(
        solved: Callable[[str], Path]) -> None:
    case = _case(solved, "mess6", "main")
    table = {"kind": ["line_rating", "line_rating"], "element": ["b3-b5", "b3-b5"],
             "scenario": ["storm", "calm"], "time": [3, 4], "excess": [12.0, 30.0],
             "unit": ["kVA", "kVA"], "island": [False, False]}
    case.ds = case.ds.drop_dims("ac_violation", errors="ignore").assign(
        {f"ac_violation_{k}": ("ac_violation", v) for k, v in table.items()})
    fig = network_map(case)
    try:
        (cross,) = _by_gid(fig, "ac_line_rating")
        np.testing.assert_allclose(cross.get_offsets(), [(2.5, 0.0)])
        assert "AC loading above the rating: 1 line, worst by 30 kVA" in _legend_texts(fig)
    finally:
        close(fig)
    fig = network_map(case, scenario="storm")
    try:
        assert "AC loading above the rating: 1 line, worst by 12 kVA" in _legend_texts(fig)
    finally:
        close(fig)


# ---------------------------------------------------------------------- every picture


@pytest.mark.parametrize("name", list(MODELS))
def test_every_picture_of_every_fixture(solved: Callable[[str], Path], name: str) -> None:
    """Each fixture gets every picture that applies, each renders as PNG and SVG, and
    what does not apply says why."""
    for case in open_result(solved(name)):
        drawn = draw_case(case, KINDS)
        kinds = {d.kind: d for d in drawn}
        assert set(kinds) == set(KINDS) - {"forecast"}
        must = {"map", "dispatch", "costs", "ac"} | ({"mess"} if "mess_pos" in case.ds and
                                                     case.name != "no_mess" else set()) \
            | ({"stations"} if "css" in case.ds.dims else set())
        for kind, d in kinds.items():
            if kind in must:
                assert d.figure is not None, (kind, d.skipped)
                png, svg = render(d.figure, "png"), render(d.figure, "svg")
                assert png.startswith(b"\x89PNG")
                assert ET.fromstring(svg).tag.endswith("svg")
                close(d.figure)
            else:
                assert d.figure is None and d.skipped


def test_ieee33_operation_map(solved: Callable[[str], Path]) -> None:
    case = _case(solved, "ieee33_operation")
    fig = network_map(case)
    try:
        (ties,) = _by_gid(fig, "lines_open")
        assert len(ties.get_segments()) == 5
        out = {ln for s in case.scenarios for ln, _, _ in series.outage_windows(case, s)}
        (outaged,) = _by_gid(fig, "lines_outage")
        assert len(outaged.get_segments()) == len(out) > 0
        (on,) = _by_gid(fig, "lines_in_service")
        assert len(on.get_segments()) == 37 - 5 - len(out)
        drawn = sum(len(c.get_offsets()) for c in _by_gid(fig, "buses")
                    + _by_gid(fig, "buses_unsupplied"))
        assert drawn == 33
    finally:
        close(fig)


def test_rendering_is_deterministic(solved: Callable[[str], Path]) -> None:
    case = _case(solved, "feeder8")
    a, b = network_map(case), network_map(case)
    try:
        assert render(a, "svg") == render(b, "svg")
        assert render(a, "png") == render(b, "png")
    finally:
        close(a)
        close(b)
