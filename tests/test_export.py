"""`gridc solve --format csv|xlsx`: the result as tables for spreadsheets (runtime/export.py).

On the planner's own feeder (tests/models/feeder8.grid): 8 buses, 7 lines, one grid
supply, one battery, two loads, 24 hourly steps, two scenarios."""

from __future__ import annotations

import builtins
import csv
import json
from pathlib import Path
from typing import Any

import pytest
import xarray as xr

from gridc.cli.main import main
from gridc.runtime.export import _sheet_names, format_problem

FEEDER8 = Path(__file__).resolve().parent / "models" / "feeder8.grid"
#: tables feeder8 has (no investment: no `dg`; `line` from the network)
TABLES = {"summary", "costs", "costs_by_scenario", "scenario", "line", "bus_time",
          "line_time", "gen_time", "storage_time", "load_time"}


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def csv_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("csv") / "f8"
    assert main(["solve", str(FEEDER8), "--out", str(out), "--format", "csv"]) == 0
    return out


def test_one_csv_per_table(csv_out: Path) -> None:
    names = {p.stem for p in csv_out.glob("*.csv")}
    assert names >= TABLES
    summary = json.loads((csv_out / "summary.json").read_text())
    assert sorted(summary["tables"]) == sorted(f"{t}.csv" for t in names)
    assert (csv_out / "solution.nc").is_file()
    assert (csv_out / "bus_time.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM


def test_headers_carry_units(csv_out: Path) -> None:
    header, rows = read(csv_out / "bus_time.csv")
    assert header[:5] == ["scenario", "time", "bus", "hour", "clock"]
    assert {"bus_v [p.u.]", "bus_w [p.u.²]", "bus_shed_p [kW]", "bus_demand_p [kW]",
            "bus_demand_q [kvar]", "energized"} <= set(header)
    assert len(rows) == 2 * 24 * 8  # scenario × step × bus
    header, rows = read(csv_out / "line.csv")
    assert header[:4] == ["line", "line_source", "line_from_bus", "line_to_bus"]
    assert {"line_r_ohm [ohm]", "line_x_ohm [ohm]", "line_rating_kva [kVA]"} <= set(header)
    assert [r[0] for r in rows] == ["b1-b2", "b2-b3", "b3-b4", "b2-b5", "b5-b6", "b6-b7",
                                    "b7-b8"]
    assert read(csv_out / "costs.csv")[0] == ["cost_term", "cost_basis", "cost [CNY]"]
    assert read(csv_out / "gen_time.csv")[0][-1] == "gen_energy_price [CNY/kWh]"


def test_values_match_the_solution(csv_out: Path) -> None:
    summary = json.loads((csv_out / "summary.json").read_text())
    header, rows = read(csv_out / "bus_time.csv")
    col = {h: k for k, h in enumerate(header)}
    lowest = summary["voltage"]["min"]
    row = next(r for r in rows if r[col["bus"]] == lowest["bus"]
               and r[col["scenario"]] == lowest["scenario"]
               and r[col["clock"]] == lowest["clock"])
    assert float(row[col["bus_v [p.u.]"]]) == pytest.approx(lowest["v_pu"], rel=1e-12)
    with xr.open_dataset(csv_out / "solution.nc") as ds:
        storm_b6 = [float(r[col["bus_demand_p [kW]"]]) for r in rows
                    if r[col["scenario"]] == "storm" and r[col["bus"]] == "b6"]
        assert storm_b6 == pytest.approx(
            ds["bus_demand_p"].sel(scenario="storm", bus="b6").values.tolist())
    _, costs = read(csv_out / "costs.csv")
    assert sum(float(r[2]) for r in costs) == pytest.approx(summary["objective"], rel=1e-9)
    fields = {r[0]: r for r in read(csv_out / "summary.csv")[1]}
    assert fields["status"][1] == summary["status"]
    assert fields["objective"][2] == "CNY/day"
    assert float(fields["objective"][1]) == pytest.approx(summary["objective"], rel=1e-12)
    assert fields["voltage_min_at"][1] == \
        f"bus {lowest['bus']}, {lowest['scenario']}, {lowest['clock']}"


def test_xlsx_workbook(tmp_path: Path, csv_out: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "x"
    assert main(["solve", str(FEEDER8), "--out", str(out), "--format", "xlsx"]) == 0
    book = openpyxl.load_workbook(out / "results.xlsx", read_only=True)
    assert set(book.sheetnames) >= TABLES
    assert set(book.sheetnames) == {p.stem for p in csv_out.glob("*.csv")}
    sheet = list(book["bus_time"].iter_rows(values_only=True))
    header, rows = read(csv_out / "bus_time.csv")
    assert list(sheet[0]) == header
    assert len(sheet) == len(rows) + 1
    assert json.loads((out / "summary.json").read_text())["tables"] == ["results.xlsx"]


def test_xlsx_without_openpyxl_says_how_to_install(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    real = builtins.__import__

    def no_openpyxl(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "openpyxl" or name.startswith("openpyxl."):
            raise ImportError(f"No module named '{name}'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    out = tmp_path / "x"
    assert main(["solve", str(FEEDER8), "--out", str(out), "--format", "xlsx"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'gridc[xlsx]'" in err and "--format csv" in err
    assert "Traceback" not in err
    assert not out.exists()  # refused before anything was solved or written


def test_format_needs_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(FEEDER8), "--format", "csv"]) == 2
    assert "give --out DIR" in capsys.readouterr().err
    assert format_problem("netcdf", None, pso=False) is None
    assert "plan.grid" in str(format_problem("csv", "out", pso=True))


def test_sheet_names_are_short_and_unique() -> None:
    long = "mess_type_mess_at_time_with_a_very_long_name"
    names = _sheet_names([long, long, "bus_time"])
    assert all(len(n) <= 31 for n in names) and len(set(names)) == 3
    assert names[2] == "bus_time"
