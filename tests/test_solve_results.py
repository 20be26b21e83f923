"""Results: summary.json and solution.nc, written atomically, never clobbered by failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xarray as xr

import gridc
from gridc.cli.main import main

MODEL = """model small
horizon 3 h step 1 h
network feeder {
  base 12.66 kV 10 MVA
  slack 1 at 1.0 pu
  voltage 0.9 .. 1.1 pu
  buses table {
    id p[kW] q[kvar]
    1  0   0
    2  100 50
    3  80  40
  }
  lines table {
    from to r[ohm] x[ohm] rating[kVA]
    1    2  0.1    0.05   RATING
    2    3  0.2    0.1    500
  }
}
profile tou = [0.3, 0.6, 0.9] CNY/kWh
price grid profile tou
generator gt : gas_turbine at 3 { p_max 50 kW, fuel 0.5 CNY/kWh }
storage s at 2 { power 20 kW, energy 40 kWh, efficiency 0.95, soc 0.1 .. 0.9, soc_init 0.5 }
penalty shed 10 CNY/kWh
"""


def write(tmp_path: Path, rating: float) -> Path:
    path = tmp_path / "small.grid"
    path.write_text(MODEL.replace("RATING", f"{rating:g}"), encoding="utf-8")
    return path


def test_solve_writes_summary_and_solution(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["solve", str(write(tmp_path, 500)), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert set(summary["costs"]) == {"shed", "grid", "fuel", "storage_wear"}
    assert summary["objective"] == pytest.approx(sum(summary["costs"].values()), rel=1e-9)
    assert summary["shed"]["expected_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert summary["voltage"]["min"]["bus"] == "3"
    assert set(summary["timings"]) == {"parse_s", "compile_s", "solve_s", "highs_s"}
    with xr.open_dataset(out / "solution.nc") as ds:
        assert ds["bus_v"].dims == ("scenario", "time", "bus")
        assert ds["line_p"].attrs["units"] == "kW"  # CF (docs/reading-results.md)
        assert float(ds["bus_v"].sel(bus="1").min()) == pytest.approx(1.0)
    assert sorted(p.name for p in out.iterdir()) == ["solution.nc", "summary.json"]


def test_failed_run_leaves_previous_results_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("previous")
    (out / "solution.nc").write_bytes(b"previous")
    # no shedding of the 180 kW behind a 100 kVA line: the gas turbine and storage
    # cover at most 70 kW at bus 2..3, so the model is infeasible
    path = write(tmp_path, 100)
    path.write_text(path.read_text().replace("penalty shed 10 CNY/kWh\n", ""))
    assert main(["solve", str(path), "--out", str(out)]) == 1
    assert (out / "summary.json").read_text() == "previous"
    assert (out / "solution.nc").read_bytes() == b"previous"
    assert sorted(p.name for p in out.iterdir()) == ["solution.nc", "summary.json"]


def test_write_failure_midway_keeps_old_files(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    result = gridc.compile(gridc.load(write(tmp_path, 500))).solve()
    assert result.ok
    out = tmp_path / "out"
    result.write(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(self: xr.Dataset, path: object, **kw: object) -> None:
        Path(str(path)).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(OSError, match="disk full"):
        result.write(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temp files left


def test_lp_file(tmp_path: Path) -> None:
    lp = tmp_path / "model.lp"
    assert main(["solve", str(write(tmp_path, 500)), "--lp", str(lp)]) == 0
    text = lp.read_text()
    assert text.startswith("min") and "binary" in text.lower()


def test_result_without_solution_is_not_written(tmp_path: Path) -> None:
    path = write(tmp_path, 100)
    path.write_text(path.read_text().replace("penalty shed 10 CNY/kWh\n", ""))
    result = gridc.compile(gridc.load(path)).solve()
    assert not result.ok and len(result.dataset.data_vars) == 0
    with pytest.raises(ValueError, match="no solution"):
        result.write(tmp_path / "out")
    assert not (tmp_path / "out").exists()


GOLDEN_LP = Path(__file__).resolve().parent / "golden" / "small.lp"


def test_lp_file_with_names_matches_golden(tmp_path: Path) -> None:
    """The LP of a small model, rows and columns named by block and coordinates: the
    names are deterministic and map back to the model (`nodal_p(base,0,2)` is the
    active-power balance of bus 2 at step 0 in scenario base). Regenerate with
    GRIDC_UPDATE_GOLDEN=1 after an intended change of the formulation; review the diff."""
    import os

    lp = tmp_path / "small.lp"
    problem = gridc.compile(gridc.load(write(tmp_path, 500)))
    problem.write_lp(lp, names=True)
    text = lp.read_text()
    if os.environ.get("GRIDC_UPDATE_GOLDEN") == "1":
        GOLDEN_LP.write_text(text)
    assert text == GOLDEN_LP.read_text()
    problem.write_lp(tmp_path / "again.lp", names=True)
    assert (tmp_path / "again.lp").read_text() == text  # deterministic
    rows = {line.split("(")[0] for line in text.splitlines() if line.endswith(":")}
    assert {"nodal_p", "voltage_drop", "storage_balance"} <= rows
    assert "gen_p(base,0,grid)" in text  # block(scenario, step, component)
