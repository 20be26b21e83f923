"""The terminal speaks the user's model: its names and currency, hh:mm, no paper tables.

A planner's own feeder (tests/models/feeder8.grid, feeder8_pv.grid) and the catalogue's
tiny planning models must print nothing that belongs to the papers gridc's shipped cases
reproduce ("Table 5", "carbon trading of EVs", "comprehensive cost", 1.0659×10^4), money
with thousands separators in the model's currency, times as hh:mm, and the objective
named by what it is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import catalogue as C
import pytest
from rich.console import Console

import gridc
from gridc.cli.labels import format_money, money, objective_value, term_label, voltage_at
from gridc.cli.main import main
from gridc.cli.network_views import print_network
from gridc.cli.plan_views import plan_rows, studies_table
from gridc.cli.pso import _print_plan
from gridc.cli.views import print_summary

MODELS = Path(__file__).resolve().parent / "models"
#: words of the papers behind the shipped cases, never printed for a user's model
PAPER = re.compile(r"Table\s*\d|Figure\s*\d|comprehensive|carbon trading|×10\^|kYuan|"
                   r"EV-RB|\bMESS\b|\bt=\d|seed 00\d", re.I)


def test_format_money() -> None:
    assert format_money(10659.21) == "10,659.21 CNY"
    assert format_money(1.0659e4, decimals=0) == "10,659 CNY"
    assert format_money(2.5e6, "kCNY", 1000.0, 0, "/y") == "2,500 kCNY/y"
    assert format_money(-1234567.891) == "-1,234,567.89 CNY"
    assert format_money(-1e-9) == "0.00 CNY"  # never "-0.00"
    assert format_money(None) == "-" and format_money(float("nan")) == "-"
    s = {"currency": {"unit": "wCNY", "cny_per_unit": 1e4}}
    assert money(123456.0, s, "/day") == "12.35 wCNY/day"
    assert money(5.0, {}) == "5.00 CNY"  # a summary without a currency: CNY


def test_objective_and_terms_in_words() -> None:
    daily = {"pricing": {"rule": "daily"}, "objective_kind": "cost"}
    assert objective_value(8936.02, daily) == "8,936.02 CNY/day"
    assert objective_value(2.2e6, {"pricing": {"rule": "annualised"}}) == \
        "2,200,000.00 CNY/y"
    assert objective_value(2.2e7, {"pricing": {"rule": "present_value"}}) == \
        "22,000,000.00 CNY"
    assert objective_value(12.5, {"objective_kind": "losses"}) == "12.50 kWh/day"
    assert term_label("daily_grid") == "grid energy purchase"
    assert term_label("ev_carbon") == "EV carbon emissions"
    assert term_label("something_new") == "something new"
    v = {"v_pu": 0.95, "bus": "b8", "scenario": "storm", "time": 70, "clock": "17:30"}
    assert voltage_at(v) == "0.9500 p.u. at bus b8 (storm, 17:30)"


def printed(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["solve", *args]) == 0
    return capsys.readouterr().out


def test_a_users_operation_model(capsys: pytest.CaptureFixture[str]) -> None:
    out = printed(capsys, str(MODELS / "feeder8.grid"))
    assert not PAPER.search(out), PAPER.search(out)
    objective = next(line for line in out.splitlines() if "objective" in line)
    assert re.search(r"\d{1,3}(,\d{3})*\.\d\d CNY/day \(expected cost of one day\)",
                     objective), objective
    assert re.search(r"min voltage .* at bus b\d \((calm|storm), \d\d:00\)", out)
    assert "grid energy purchase" in out and "load shedding" in out


def test_a_users_planning_model(capsys: pytest.CaptureFixture[str]) -> None:
    out = printed(capsys, str(MODELS / "feeder8_pv.grid"))
    assert not PAPER.search(out), PAPER.search(out)
    assert "present value over the 20-year economics life" in out
    assert re.search(r"equivalent annual cost \(CRF × present value\) .*\d,\d{3}\.\d\d CNY/y",
                     out)
    assert re.search(r"installation \(present value\) .*4,680,000\.00 CNY", out)


def test_the_models_currency(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "feeder8_k.grid"
    path.write_text((MODELS / "feeder8.grid").read_text().replace("currency CNY",
                                                                  "currency kCNY"))
    out = printed(capsys, str(path))
    objective = next(line for line in out.splitlines() if "objective" in line)
    assert re.search(r"\b\d+\.\d\d kCNY/day", objective), objective
    assert " CNY" not in out.replace("kCNY", "")


def test_investment_names_label_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "m.grid"
    path.write_text(C.reinforcement("lindistflow", True), encoding="utf-8")
    result = gridc.compile(gridc.load(path)).solve()
    assert result.ok
    names = result.summary["decisions"]["names"]
    rows = dict(plan_rows(result.summary))
    assert f"{names['reinforced']}: lines reinforced" in rows
    console = Console(record=True, width=160)
    print_summary(console, result.summary)
    text = console.export_text()
    assert not PAPER.search(text), PAPER.search(text)
    assert f"{names['reinforced']}: lines reinforced" in text
    synthetic = {"decisions": {"mess": {"M1": 2}, "ev_packs": {"RB1": {"b3": 4}},
                               "ev_capacity_kwh": 200.0,
                               "names": {"mess": "trucks", "ev_packs": "car_packs"}}}
    assert plan_rows(synthetic) == [("trucks: M1 units", "2"),
                                    ("car_packs: RB1 packs (sites b3)", "4"),
                                    ("car_packs: capacity", "200 kWh")]


def test_an_annualised_model(tmp_path: Path) -> None:
    path = tmp_path / "m.grid"
    path.write_text(C.annualised(C.dg("lindistflow", True)), encoding="utf-8")
    result = gridc.compile(gridc.load(path)).solve()
    assert result.ok
    console = Console(record=True, width=160)
    print_summary(console, result.summary)
    print_network(console, result.summary)
    text = console.export_text()
    assert not PAPER.search(text), PAPER.search(text)
    assert "annual cost" in text and "construction (annualised)" in text
    assert re.search(r"objective .*CNY/y \(annual cost", text)


def test_studies_side_by_side() -> None:
    s: dict[str, Any] = {
        "status": "optimal", "gap": 0.0, "objective": 1.0659e4, "objective_kind": "cost",
        "objective_is": "expected cost of one day", "pricing": {"rule": "daily"},
        "currency": {"unit": "CNY", "cny_per_unit": 1.0}, "timings": {}}
    console = Console(record=True, width=200)
    console.print(studies_table([s, None], ["a", "b"], "two studies"))
    text = console.export_text()
    assert "objective (expected cost of one day)" in text and "10,659 CNY/day" in text
    assert not PAPER.search(text)


def test_pso_plan_in_words() -> None:
    data = {"status": "completed", "objective": 2.5e7,
            "currency": {"unit": "kCNY", "cny_per_unit": 1000.0},
            "costs": {"installation": 5.2e6, "maintenance_per_year": 2.6e4,
                      "total_comprehensive": 3.7e6, "objective": 2.5e7},
            "fix": [], "pso": {"iterations_done": 1, "iterations": 1, "particles": 2,
                               "seed": 1, "plans_solved": 2, "milps_solved": 2,
                               "cache_hits": 0, "evaluations_per_s": 1.0, "workers": 1,
                               "executor": "serial", "wall_s": 1.0}}
    console = Console(record=True, width=160)
    _print_plan(console, data)
    text = console.export_text()
    assert "25,000 kCNY (present value)" in text
    assert "maintenance per year" in text and "26 kCNY/y" in text
    assert "equivalent annual cost (CRF × present value)" in text
    assert not PAPER.search(text)


def test_station_planning_tables() -> None:
    """The station model's tables (sub-cases, priced items, stations, network) from a
    summary as `runtime.strategies.registry` writes it: the model's currency per year,
    no paper table or figure numbers."""
    s: dict[str, Any] = {
        "objective": 3.398e7, "objective_kind": "cost", "pricing": {"rule": "annualised"},
        "currency": {"unit": "kCNY", "cny_per_unit": 1000.0},
        "costs": {"construction": 2.0e6, "maintenance": 1.2e6, "operation": 3.0e7,
                  "ev_carbon": 8.6e3, "daily_grid": 8.2e4},
        "subcases": [{"subcase": "S1+S2", "status": "optimal", "objective": 3.41e7,
                      "carbon_t_per_year": 66.8, "solve_s": 12.0},
                     {"subcase": "S2+S3", "status": "optimal", "objective": 3.398e7,
                      "carbon_t_per_year": 70.1, "solve_s": 10.0}],
        "planning_items": {"items": [{"group": "pv", "name": "pv", "size": 400.0,
                                      "unit": "kW", "install": 2.4e6, "capital": 2.1e5,
                                      "maintain": 8e3}],
                           "sizes": {"pv": 400.0}, "subcase": "S2+S3",
                           "stations": [{"station": "S2", "kind": "CSS", "charger_1": 9,
                                         "charger_2": 1, "swapper": 13, "storage_kwh": 650,
                                         "transformer_kva": 800, "area_m2": 1200,
                                         "peak_kw": 540}],
                           "ev_carbon_t_per_year": 70.1},
        "network": {"line_km": 19.94, "lines_built": ["1-2"], "lines_open": []},
    }
    console = Console(record=True, width=200)
    print_network(console, s)
    text = console.export_text()
    assert not PAPER.search(text), PAPER.search(text)
    assert "S2+S3 (best)" in text and "objective kCNY/y" in text and "33,980" in text
    assert "carbon" in text.lower() and "2,400" in text  # install in kCNY
    assert "EV carbon emissions" in text and "30,000.00 kCNY/y" in text  # operation
