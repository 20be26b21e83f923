"""EV spatial-temporal load forecast (seed 001, section 2): sampling, travel chains,
battery rules, station mapping, carbon, clustering and the `gridc forecast` command.

Statistical tests use a fixed seed and the significance level ALPHA = 0.01: with a fixed
seed they are deterministic, and a distribution wired to the wrong parameters (a scale in
minutes, scipy's GEV sign flipped, ...) fails them by many orders of magnitude.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from gridc.cli.main import main
from gridc.data.ev_forecast import Forecast, ForecastError, forecast
from gridc.data.ev_travel import CHAIN_STOPS, AreaIndex, Trips, frozen
from gridc.dsl import ir, load, parse

ROOT = Path(__file__).resolve().parents[1]
AREA = ROOT / "models" / "css_adn_area.grid"
ALPHA = 0.01
DAYS = 60


@pytest.fixture(scope="module")
def model() -> ir.Model:
    return load(AREA)


@pytest.fixture(scope="module")
def fc(model: ir.Model) -> Forecast:
    return forecast(model, days=DAYS, keep_trips=True)


# ------------------------------------------------------------------ sampling


@pytest.mark.parametrize("key", ["departure", "drive", "park_working", "park_commercial"])
def test_samples_follow_their_distributions(model: ir.Model, fc: Forecast, key: str) -> None:
    assert model.travel is not None
    dist = getattr(model.travel, key)
    for trips in fc.trips.values():
        sample = trips.raw[key].ravel()
        assert stats.kstest(sample, frozen(dist).cdf).pvalue > ALPHA
        # and a wrong parameterisation is rejected: the test has power
        wrong = dict(dist.params)
        name = "scale" if "scale" in wrong else "sigma"
        wrong[name] *= 1.2
        bad = dist.model_copy(update={"params": tuple(wrong.items())})
        assert stats.kstest(sample, frozen(bad).cdf).pvalue < ALPHA


def test_gev_uses_scipy_sign_convention(model: ir.Model) -> None:
    """c = 0.3 in the file is xi = -0.3: bounded above at loc + scale / c."""
    assert model.travel is not None
    gev = frozen(model.travel.park_working)
    p = dict(model.travel.park_working.params)
    assert gev.support()[1] == pytest.approx(p["loc"] + p["scale"] / p["c"])


def test_speeds_uniform_within_band(model: ir.Model, fc: Forecast) -> None:
    assert model.travel is not None
    bands = model.travel.speeds
    for tr in fc.trips.values():
        used = ~np.isnan(tr.depart)
        t = np.mod(tr.depart[used], 24.0)
        band = np.array([next(i for i, b in enumerate(bands) if b.start_h <= h < b.end_h)
                         for h in t[:2000]])
        lo = np.array([bands[i].lower_kmh for i in band])
        hi = np.array([bands[i].upper_kmh for i in band])
        u = (tr.speed_kmh[used][:2000] - lo) / (hi - lo)
        assert stats.kstest(u, "uniform").pvalue > ALPHA
        assert np.allclose(tr.km[used], tr.speed_kmh[used] * tr.drive_h[used])


def test_chains_and_regions_follow_roulette(model: ir.Model, fc: Forecast) -> None:
    idx = AreaIndex.of(model.areas[0])
    for fl in model.fleets:
        tr = fc.trips[fl.name]
        observed = np.bincount(tr.chain, minlength=4)
        expected = np.asarray(fl.chains) * len(tr.chain)
        assert stats.chisquare(observed, expected).pvalue > ALPHA
        homes = idx.node_region[tr.stops[:, 0]]
        res = np.flatnonzero(idx.region_kind == 0)
        w = idx.region_weight[res] / idx.region_weight[res].sum()
        obs = np.array([(homes == r).sum() for r in res])
        assert stats.chisquare(obs, w * len(homes)).pvalue > ALPHA


# ------------------------------------------------------------------ travel chains


def test_every_day_conserves_vehicles(model: ir.Model, fc: Forecast) -> None:
    idx = AreaIndex.of(model.areas[0])
    for fl in model.fleets:
        tr = fc.trips[fl.name]
        per_day = np.bincount(tr.day, minlength=DAYS)
        assert (per_day == fl.per_day).all()
        by_chain = np.stack([np.bincount(tr.day[tr.chain == c], minlength=DAYS)
                             for c in range(4)])
        assert (by_chain.sum(axis=0) == fl.per_day).all()
        rows = np.arange(len(tr.chain))
        assert (tr.stops[rows, tr.n_legs] == tr.stops[:, 0]).all()  # back home
        kinds = idx.region_kind[idx.node_region[tr.stops]]
        want = np.asarray(CHAIN_STOPS)[tr.chain]
        legs = np.arange(4)[None, :] <= tr.n_legs[:, None]
        assert (kinds[legs] == want[legs]).all()
        # times run forward: departure < arrival < next departure
        d, a = tr.depart, tr.arrive
        ok = ~np.isnan(d)
        assert (a[ok] >= d[ok]).all()
        assert (d[:, 1] > a[:, 0]).all()
        three = tr.n_legs == 3
        assert (d[three, 2] > a[three, 1]).all()


# ------------------------------------------------------------------ battery rules


def _reference_pev(tr: Trips, v: int) -> tuple[list[tuple[int, float, int, float]], float]:
    """Scalar restatement of the PEV rule, vehicle by vehicle."""
    fl = tr.fleet
    level, out = float(tr.level0[v]), []
    n = int(tr.n_legs[v])
    for k in range(1, n + 1):
        level -= tr.frac[v, k - 1]
        home = k == n
        f_next = tr.frac[v, 0] if home else tr.frac[v, k]
        if level - f_next < fl.min_level:
            stay = (tr.raw["departure"][v] + 24 - tr.arrive[v, k - 1]) if home \
                else tr.park_h[v, k - 1]
            after = max(min(1.0, level + fl.charge_power_kw * max(stay, 0) / fl.battery_kwh),
                        fl.min_level + f_next)
            out.append((k - 1, float(tr.arrive[v, k - 1]), int(tr.stops[v, k]),
                        (after - level) * fl.battery_kwh))
            level = after
    return out, level


def _reference_sev(tr: Trips, v: int, idx: AreaIndex) -> tuple[list[tuple[int, float, int,
                                                                             float]], float]:
    fl, m = tr.fleet, tr.fleet.min_level
    level, out = float(tr.level0[v]), []
    for leg in range(int(tr.n_legs[v])):
        f = tr.frac[v, leg]
        if leg == 1 and level - f < m:  # at the first parking
            out.append((0, float(tr.arrive[v, 0]), int(tr.stops[v, 1]),
                        (1 - level) * fl.battery_kwh))
            level = 1.0
        if level - f < m:  # during the leg, where the level reaches min_level
            phi = (level - m) / f
            a, b = idx.xy[tr.stops[v, leg]], idx.xy[tr.stops[v, leg + 1]]
            p = a + phi * (b - a)
            node = int(np.argmin(np.hypot(*(idx.xy - p).T)))
            out.append((leg, float(tr.depart[v, leg] + phi * tr.drive_h[v, leg]), node,
                        (1 - m) * fl.battery_kwh))
            level = 1 - (f - (level - m))
        else:
            level -= f
    return out, level


def _events_of(tr: Trips, v: int) -> list[tuple[int, float, int, float]]:
    ev = tr.events
    sel = np.flatnonzero(ev.vehicle == v)
    return [(int(ev.leg[i]), float(ev.time_h[i]), int(ev.node[i]), float(ev.energy_kwh[i]))
            for i in sel]


@pytest.mark.parametrize("population", ["demand", "renewal"])
def test_battery_rules_match_scalar_reference(model: ir.Model, population: str) -> None:
    fc = forecast(model, days=3, population=population,  # type: ignore[arg-type]
                  keep_trips=True)
    idx = AreaIndex.of(model.areas[0])
    for tr in fc.trips.values():
        plug = tr.fleet.kind == "plug_in"
        for v in range(len(tr.chain)):
            want, end = _reference_pev(tr, v) if plug else _reference_sev(tr, v, idx)
            got = _events_of(tr, v)
            assert len(got) == len(want), (tr.fleet.name, v)
            for g, w in zip(got, want):
                assert g[0] == w[0] and g[2] == w[2]
                assert g[1] == pytest.approx(w[1]) and g[3] == pytest.approx(w[3])
            assert tr.level_end[v] == pytest.approx(end)


def test_levels_never_fall_below_min_and_charges_only_when_needed(fc: Forecast) -> None:
    for tr in fc.trips.values():
        fl = tr.fleet
        dep = tr.level_dep[~np.isnan(tr.level_dep)]
        assert (dep >= fl.min_level - 1e-12).all() and (dep <= 1 + 1e-12).all()
        assert (tr.level_end >= fl.min_level - 1e-12).all()
        assert (tr.frac <= 1 - fl.min_level + 1e-12).all()  # no leg empties the battery
        ev = tr.events
        assert (ev.level >= fl.min_level - 1e-12).all() and (ev.energy_kwh > 0).all()
        if fl.kind == "plug_in":
            # the charge happened because the next leg would have ended below min_level
            home = ev.leg == tr.n_legs[ev.vehicle] - 1
            nxt = np.where(home, 0, ev.leg + 1)
            assert (ev.level - tr.frac[ev.vehicle, nxt] < fl.min_level).all()
            assert (ev.where == 0).all()
            assert (tr.level_end - tr.frac[:, 0] >= fl.min_level - 1e-12).all()
        # "demand": every vehicle of per_day needs energy that day, most exactly once
        counts = np.bincount(ev.vehicle, minlength=len(tr.chain))
        assert (counts >= 1).all()
        assert np.mean(counts == 1) > 0.9


def test_renewal_population_charges_only_part_of_the_fleet(model: ir.Model) -> None:
    fc = forecast(model, days=5, population="renewal")
    for name, n in fc.events.items():
        assert 0 < n < 0.5 * fc.vehicles[name]


# ------------------------------------------------------------------ forecast as a whole


def test_deterministic_with_seed(model: ir.Model) -> None:
    a = forecast(model, days=12, seed=7)
    b = forecast(model, days=12, seed=7)
    c = forecast(model, days=12, seed=8)
    xr.testing.assert_equal(a.station_days, b.station_days)
    xr.testing.assert_equal(a.counts, b.counts)
    assert a.expected_carbon_t == b.expected_carbon_t
    assert not a.station_days.equals(c.station_days)


def test_chunks_of_days_and_kept_trips_agree(model: ir.Model,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Days simulated in several chunks: the same result with or without the trips kept,
    and the concatenated trips renumber vehicles consistently."""
    import gridc.data.ev_forecast as ef

    monkeypatch.setattr(ef, "CHUNK_VEHICLES", 1000)  # 5 days per chunk
    a = forecast(model, days=12, keep_trips=True)
    b = forecast(model, days=12)
    xr.testing.assert_equal(a.node_days, b.node_days)
    assert b.trips == {}
    for name, tr in a.trips.items():
        assert len(tr.chain) == 12 * 200 and tr.days == 12
        assert len(tr.events.vehicle) == a.events[name]
        day = tr.events.vehicle // 200
        assert (np.bincount(day, minlength=12) == a.node_days.sel(fleet=name).sum(
            ("node", "hour")).values).all()


def test_typical_days(fc: Forecast, model: ir.Model) -> None:
    assert model.travel is not None
    p = fc.probability.values
    assert p.sum() == pytest.approx(1.0) and (p > 0).all()
    assert len(p) == model.travel.typical_days
    assert (np.diff(p) <= 0).all()  # numbered by decreasing share
    for t in range(len(p)):
        members = fc.label.values == t
        assert members.mean() == pytest.approx(p[t])
        xr.testing.assert_allclose(fc.node_counts.sel(typical=t, drop=True),
                                   fc.node_days.isel(day=members).mean("day"))
    # typical days weighted by probability reproduce the simulated mean day
    xr.testing.assert_allclose((fc.counts * fc.probability).sum("typical"),
                               fc.station_days.mean("day"))
    assert fc.expected_carbon_t == pytest.approx(float(fc.carbon_days_t.mean()))


def test_stations_are_nearest_and_counts_conserved(fc: Forecast, model: ir.Model) -> None:
    idx = AreaIndex.of(model.areas[0])
    site = {s.name: idx.node(s.road_node or s.bus) for s in model.stations}
    for i, node in enumerate(idx.node_ids):
        best = min(site, key=lambda s: np.hypot(*(idx.xy[i] - idx.xy[site[s]])))
        assert fc.nearest.sel(fleet="pev", node=node).item() == best
    xr.testing.assert_allclose(fc.station_days.sum("station"), fc.node_days.drop_vars(
        "region").sum("node"))
    for name, n in fc.events.items():
        assert float(fc.station_days.sel(fleet=name).sum()) == n
    table = fc.node_table()
    assert set(table.columns) >= {"typical", "probability", "fleet", "node", "hour", "events",
                                  "energy_kwh", "station", "distance_km"}
    assert table["events"].sum() == pytest.approx(float(fc.counts.sum()))


def test_assign_restricts_sites(fc: Forecast, model: ir.Model) -> None:
    case2 = fc.assign(model, {"pev": ["S1"], "sev": ["S3"]})
    assert float(case2.counts.sel(fleet="pev", station=["S2", "S3"]).sum()) == 0
    assert float(case2.counts.sel(fleet="sev", station=["S1", "S2"]).sum()) == 0
    assert case2.expected_carbon_t > fc.expected_carbon_t
    xr.testing.assert_equal(case2.node_counts, fc.node_counts)
    with pytest.raises(ForecastError):
        fc.assign(model, {"pev": ["S9"]})


TINY = """
model tiny
network n { base 10 kV 1 MVA, slack a
  buses table {
    id  p[kW]
    a   0
    b   100
  }
  lines table {
    from to r[ohm] x[ohm]
    a    b  0.1    0.1
  }
}
area town {
  region home : residential
  region job : working
  region shop : commercial
  nodes table {
    id x[km] y[km] region
    a  0     0     home
    b  3     4     job
  }
}
fleet p : plug_in { per_day 40, battery 50 kWh, consumption 0.25 kWh/km, charge_power 15 kW,
                    chains [1, 0, 0, 0] }
fleet s : swap { per_day 30, battery 40 kWh, consumption 0.2 kWh/km, chains [1, 0, 0, 0] }
travel {
  departure gamma(shape = 16, scale = 0.5 h)
  park_working gev(c = 0.3, loc = 7.5 h, scale = 2 h)
  park_commercial gev(c = -0.1, loc = 1.5 h, scale = 0.8 h)
  drive lognormal(mu = -1.2, sigma = 0.5)
  speeds table {
    start[h] end[h] upper[km/h] lower[km/h]
    0        24     60          30
  }
  days 6
  typical_days 2
  seed 3
  carbon 1.08e-3 t/kWh
}
station S at a { land 0.2 kYuan/m2, area_max 1000 m2 }
"""


def test_carbon_by_hand_on_two_nodes() -> None:
    """One station at node a; node b lies 1.3 x 5 km = 6.5 km away by road (3-4-5 triangle).
    E = B_CO2 (e_p N_p,b + e_s N_s,b) x 6.5 km per day (eq. 5); events at a cost nothing."""
    m = parse(TINY, str(ROOT / "tests" / "tiny.grid"))
    fc = forecast(m)
    assert fc.distance_km.sel(fleet="p").values.tolist() == pytest.approx([0.0, 6.5])
    n_b = fc.node_days.sel(node="b").sum("hour")
    assert float(n_b.sum()) > 0 and float(fc.node_days.sel(node="a").sum()) > 0
    by_hand = 1.08e-3 * (0.25 * n_b.sel(fleet="p") + 0.2 * n_b.sel(fleet="s")) * 6.5
    np.testing.assert_allclose(fc.carbon_days_t.values, by_hand.values)
    np.testing.assert_allclose(fc.distance_days_km.sel(fleet="s").values,
                               6.5 * n_b.sel(fleet="s").values)
    assert fc.probability.sum() == pytest.approx(1.0)


def test_model_without_travel_is_refused() -> None:
    with pytest.raises(ForecastError, match="travel"):
        forecast(load(ROOT / "models" / "ieee33.grid"))


# ------------------------------------------------------------------ command line


def test_cli_writes_tables_netcdf_and_plot(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tmp"
    code = main(["forecast", str(AREA), "--days", "50", "--out", str(out),
                 "--plot", str(out / "x.png")])
    assert code == 0
    text = capsys.readouterr().out
    assert "S1" in text and "carbon" in text and "typical days" in text
    for name in ("ev_node_load.csv", "ev_station_load.csv", "ev_forecast.nc", "x.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with xr.open_dataset(out / "ev_forecast.nc") as ds:
        assert float(ds["probability"].sum()) == pytest.approx(1.0)
        assert ds["counts"].dims == ("typical", "fleet", "station", "hour")
        assert ds.sizes["day"] == 50
    header = (out / "ev_node_load.csv").read_text().splitlines()[0]
    assert header.startswith("typical,probability,fleet,node,region,hour,events,energy_kwh")


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forecast", str(ROOT / "models" / "ieee33.grid")]) == 1
    assert main(["forecast", str(AREA), "--days", "0"]) == 2
    assert main(["forecast", str(AREA), "--seed", "-3"]) == 2
    assert main(["forecast", str(AREA), "--days", "5", "--plot", str(tmp_path / "x.txt")]) == 2
    bad = tmp_path / "bad.grid"
    bad.write_text("model bad\nfleet f : rocket { per_day 1 }\n")
    assert main(["forecast", str(bad)]) == 1
    capsys.readouterr()
