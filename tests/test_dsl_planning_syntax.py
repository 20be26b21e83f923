"""The DSL side of three planning features: `pricing` in `economics`, the power-flow
`formulation` (model-wide and per study) and the stationary battery investment
`invest NAME : storage at BUS { ... }`.

For each: the statements parse to the expected IR values in canonical units, the
canonical formatter prints them back (parse -> fmt -> parse gives the same IR), and
every bad input is rejected with its diagnostic code, by `gridc.dsl.parse` and by
`gridc check FILE` (exit 1, `file:line:col` in the message, no traceback).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gridc.dsl import GridError, ir, parse
from gridc.dsl import ir_planning as P
from gridc.dsl.fmt import format_text

ROOT = Path(__file__).resolve().parents[1]

NETWORK = """model planning_syntax "a small feeder"
network feeder {
  base 12.66 kV 10 MVA
  slack 1
  buses table {
    id  p[kW]  q[kvar]
    1   0      0
    2   100    60
    3   90     40
    4   120    80
  }
  lines table {
    from  to  r[ohm]  x[ohm]
    1     2   0.0922  0.047
    2     3   0.493   0.2511
    3     4   0.366   0.1864
  }
}
"""

FULL_STORAGE = """invest bess : storage at 3 {
  power 0 .. 500 kW
  energy 0 .. 2 MWh
  unit 100 kW 400 kWh
  efficiency 95 %
  soc 10 % .. 90 %
  soc_init 50 %
  wear 0.01 CNY/kWh
  install 0.8 kYuan/kW
  install 1200 CNY/kWh
  maintain 10 CNY/kW/y
  maintain 2 CNY/kWh/y
  life 10 y
}
"""


def model(body: str) -> ir.Model:
    return parse(NETWORK + body, ROOT / "models" / "_planning_syntax.grid")


def codes(body: str) -> list[str]:
    with pytest.raises(GridError) as info:
        model(body)
    return [d.code for d in info.value.diagnostics]


def only_error(body: str) -> Any:
    """The single diagnostic of a rejected model."""
    with pytest.raises(GridError) as info:
        model(body)
    assert len(info.value.diagnostics) == 1, str(info.value)
    return info.value.diagnostics[0]


def line_of(body: str, needle: str) -> int:
    """The line (1-based, in NETWORK + body) where `needle` is written."""
    text = NETWORK + body
    return text[: text.index(needle)].count("\n") + 1


def strip_spans(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_spans(v) for k, v in value.items() if k != "span"}
    if isinstance(value, list | tuple):
        return [strip_spans(v) for v in value]
    return value


def meaning(text: str) -> Any:
    m = parse(text, ROOT / "models" / "_planning_syntax.grid")
    return strip_spans(m.model_dump(exclude={"sources", "path"}))


def storage(m: ir.Model, name: str = "bess") -> P.StorageBuild:
    inv = next(i for i in m.investments if i.name == name)
    assert isinstance(inv, P.StorageBuild)
    return inv


# ------------------------------------------------------------------ pricing


def test_pricing_defaults_to_present_value() -> None:
    assert ir.Economics.model_fields["pricing"].default == "present_value"
    m = model("economics { discount 8 % }\n")
    assert m.economics is not None and m.economics.pricing == "present_value"


@pytest.mark.parametrize("word", ["present_value", "annualised"])
def test_pricing_words(word: str) -> None:
    m = model(f"economics {{ discount 6 %, life 20 y, pricing {word} }}\n")
    assert m.economics is not None
    assert m.economics.pricing == word
    assert m.economics.discount == pytest.approx(0.06)
    assert m.economics.life_y == 20


@pytest.mark.parametrize("word,close", [("annualized", "'annualised'"),
                                        ("present_valu", "'present_value'"),
                                        ("yearly", None)])
def test_misspelt_pricing_lists_both_words(word: str, close: str | None) -> None:
    body = f"economics {{ pricing {word} }}\n"
    diag = only_error(body)
    assert diag.code == "GRID015"
    assert diag.message == f"unknown pricing '{word}'"
    assert (diag.span.line, diag.span.col) == (line_of(body, word), 21)
    assert diag.help is not None
    assert "'present_value'" in diag.help and "'annualised'" in diag.help
    if close is not None:
        assert diag.help.startswith(f"did you mean {close}?")


def test_pricing_can_be_overridden_by_a_study() -> None:
    m = model("economics { pricing present_value }\n"
              "study annual { set economics.pricing annualised }\n")
    assert m.studies[0].overrides[0].value == "annualised"
    assert "GRID048" in codes("economics { pricing present_value }\n"
                              "study annual { set economics.pricing yearly }\n")


# ------------------------------------------------------------------ formulation


def test_formulation_defaults_to_none() -> None:
    m = model("study base { gap 1 % }\n")
    assert m.formulation is None
    assert m.studies[0].solve is not None and m.studies[0].solve.formulation is None


@pytest.mark.parametrize("word", ["lindistflow", "distflow"])
def test_model_formulation(word: str) -> None:
    body = f"formulation {word}\n"
    m = model(body)
    assert isinstance(m.formulation, ir.Formulation)
    assert m.formulation.name == word
    assert m.formulation.span.line == line_of(body, "formulation")


def test_study_formulation_is_a_solve_option() -> None:
    m = model("formulation lindistflow\n"
              "study base { gap 1 %, formulation distflow }\n"
              "study only { formulation lindistflow }\n"
              "study child extends base { objective losses }\n")
    base, only, child = m.studies
    assert base.solve is not None and base.solve.formulation == "distflow"
    assert base.solve.gap == pytest.approx(0.01)
    # a study whose only solve option is its formulation has solve options
    assert only.solve is not None and only.solve.formulation == "lindistflow"
    assert child.solve is not None and child.solve.formulation is None
    assert m.formulation is not None and m.formulation.name == "lindistflow"


def test_study_formulation_is_inherited_through_extends() -> None:
    from gridc.compiler.core.study import resolve_study

    m = model("study base { formulation distflow }\n"
              "study child extends base { objective losses }\n"
              "study other extends base { formulation lindistflow }\n")
    assert resolve_study(m, "child").solve.formulation == "distflow"
    assert resolve_study(m, "child").solve.objective == "losses"
    assert resolve_study(m, "other").solve.formulation == "lindistflow"


@pytest.mark.parametrize("body,help_has", [
    ("formulation distflw\n", "did you mean 'distflow'"),
    ("formulation linear\n", "formulation is 'lindistflow' or 'distflow'"),
    ("study base { formulation dist_flow }\n", "did you mean 'distflow'"),
])
def test_misspelt_formulation(body: str, help_has: str) -> None:
    diag = only_error(body)
    assert diag.code == "GRID015"
    assert diag.message.startswith("unknown formulation")
    assert diag.span.line == line_of(body, "formulation")
    assert diag.help is not None and help_has in diag.help


def test_formulation_twice_is_a_duplicate() -> None:
    body = "formulation distflow\nformulation lindistflow\n"
    diag = only_error(body)
    assert diag.code == "GRID017"
    assert diag.message == "'formulation' is given twice"
    assert diag.span.line == line_of(body, "formulation lindistflow")


def test_study_formulation_twice_is_a_duplicate() -> None:
    assert codes("study base { formulation distflow, formulation distflow }\n") == ["GRID013"]


@pytest.mark.parametrize("body", ["formulation\n", "formulation distflow losses\n",
                                  "formulation distflow { levels 12 }\n", "formulation 3\n"])
def test_malformed_formulation(body: str) -> None:
    assert codes(body) == ["GRID014"]


# ------------------------------------------------------------------ storage investment


def test_storage_investment_full() -> None:
    inv = storage(model(FULL_STORAGE))
    assert inv.kind == "storage" and inv.bus == "3"
    assert (inv.power_min_kw, inv.power_max_kw) == (0.0, 500.0)
    assert (inv.energy_min_kwh, inv.energy_max_kwh) == (0.0, pytest.approx(2000.0))
    assert (inv.unit_kw, inv.unit_kwh) == (100.0, 400.0)
    assert inv.efficiency == pytest.approx(0.95)
    assert (inv.soc_min, inv.soc_max, inv.soc_init) == pytest.approx((0.1, 0.9, 0.5))
    assert inv.wear_cny_per_kwh == pytest.approx(0.01)
    assert inv.power_costs is not None and inv.energy_costs is not None
    assert inv.power_costs.basis == "kW" and inv.energy_costs.basis == "kWh"
    assert inv.power_costs.install_cny == pytest.approx(800.0)  # 0.8 kYuan/kW
    assert inv.energy_costs.install_cny == pytest.approx(1200.0)
    assert inv.power_costs.maintain_cny_per_y == pytest.approx(10.0)
    assert inv.energy_costs.maintain_cny_per_y == pytest.approx(2.0)
    assert inv.power_costs.life_y == inv.energy_costs.life_y == 10.0


def test_storage_investment_defaults_and_single_sizes() -> None:
    inv = storage(model("invest bess : storage at 4 { power 250 kW, energy 1 MWh, "
                        "install 1.1 kCNY/kWh, life 12 y }\n"))
    assert inv.power_min_kw == inv.power_max_kw == 250.0  # one quantity: min = max
    assert inv.energy_min_kwh == inv.energy_max_kwh == pytest.approx(1000.0)
    assert inv.unit_kw is None and inv.unit_kwh is None
    assert (inv.efficiency, inv.soc_min, inv.soc_max, inv.soc_init) == \
        pytest.approx((0.95, 0.1, 0.9, 0.5))
    assert inv.wear_cny_per_kwh == 0.0
    assert inv.power_costs is None
    assert inv.energy_costs is not None
    assert inv.energy_costs.install_cny == pytest.approx(1100.0)
    assert inv.energy_costs.maintain_cny_per_y == 0.0
    assert inv.energy_costs.life_y == 12.0


def test_storage_investment_costs_in_any_order_and_unit() -> None:
    inv = storage(model("invest bess : storage at 2 {\n  maintain 0.05 kCNY/kWh/y\n"
                        "  life 8 y\n  install 1 MCNY/MWh\n  power 0.1 .. 0.4 MW\n"
                        "  energy 0 .. 800 kWh\n  install 300 CNY/kVA\n}\n"))
    assert (inv.power_min_kw, inv.power_max_kw) == pytest.approx((100.0, 400.0))
    assert inv.power_costs is not None and inv.energy_costs is not None
    assert inv.power_costs.install_cny == pytest.approx(300.0)
    assert inv.energy_costs.install_cny == pytest.approx(1000.0)
    assert inv.energy_costs.maintain_cny_per_y == pytest.approx(50.0)
    assert inv.power_costs.maintain_cny_per_y == 0.0


def test_soc_init_defaults_to_the_middle_of_soc() -> None:
    inv = storage(model("invest bess : storage at 2 { power 100 kW, energy 200 kWh, "
                        "soc 60 % .. 90 %, install 800 CNY/kW, life 10 y }\n"))
    assert inv.soc_init == pytest.approx(0.75)


def test_storage_is_an_investment_kind() -> None:
    from gridc.dsl.build.invest import BUILDERS, USAGE

    assert "storage" in BUILDERS and "storage" in USAGE
    diag = only_error("invest bess : storag at 2 { power 1 kW }\n")
    assert diag.code == "GRID015"
    assert diag.help is not None and "'storage'" in diag.help


def test_storage_investment_can_be_left_out_fixed_and_overridden() -> None:
    m = model(FULL_STORAGE + "study base {}\n"
              "study lean extends base { without bess }\n"
              "study sized extends base { fix bess 2, set bess.power_max_kw 300 }\n")
    assert m.studies[1].without == ("bess",)
    assert m.studies[2].fixes[0].investment == "bess"
    body = FULL_STORAGE + "study lean { without bes }\n"
    diag = only_error(body)
    assert diag.code == "GRID041" and diag.message == "unknown investment 'bes'"
    assert diag.help == "did you mean 'bess'?"
    assert (diag.span.line, diag.span.col) == (line_of(body, "without bes"), 22)


@pytest.mark.parametrize("override,message", [
    ("set bess.power_max_kw 0", "the largest power must be positive"),
    ("set bess.soc_init 0.95", "soc_init 0.95 lies outside soc 0.1 .. 0.9"),
    ("set bess.unit_kwh 0", "unit sizes must be positive"),
    ("set bess.efficiency 1.2", "an efficiency must lie in (0, 1]"),
])
def test_overrides_are_checked_like_the_model(override: str, message: str) -> None:
    body = FULL_STORAGE + f"study s {{ {override} }}\n"
    diag = only_error(body)
    assert diag.code == "GRID048"
    assert message in diag.message
    assert diag.span.line == line_of(body, override)


# -- rejected storage investments: (body, code, text at the caret, message part)

BAD_STORAGE = {
    "min_above_max": (
        "invest bess : storage at 3 {\n  power 500 .. 100 kW\n  energy 0 .. 2 MWh\n"
        "  install 800 CNY/kW\n  life 10 y\n}\n",
        "GRID024", "500 .. 100 kW", "range lower bound 500 exceeds upper bound 100"),
    "unknown_bus": (
        "invest bess : storage at 9 { power 0 .. 500 kW, energy 0 .. 2 MWh, "
        "install 800 CNY/kW, life 10 y }\n",
        "GRID041", "9", "unknown bus '9'"),
    "missing_install": (
        "invest bess : storage at 3 { power 0 .. 500 kW, energy 0 .. 2 MWh, life 10 y }\n",
        "GRID012", "invest bess : storage at 3 {", "needs an 'install' cost"),
    "no_bus": (
        "invest bess : storage { power 0 .. 500 kW, energy 0 .. 2 MWh, "
        "install 800 CNY/kW, life 10 y }\n",
        "GRID012", "invest bess : storage {", "needs a bus"),
    "unit_without_energy": (
        "invest bess : storage at 3 {\n  power 0 .. 500 kW\n  energy 0 .. 2 MWh\n"
        "  unit 100 kW\n  install 800 CNY/kW\n  life 10 y\n}\n",
        "GRID012", "100 kW", "'unit' needs both a power and an energy"),
    "unit_two_powers": (
        "invest bess : storage at 3 { power 0 .. 500 kW, energy 0 .. 2 MWh, "
        "unit 100 kW 50 kW, install 800 CNY/kW, life 10 y }\n",
        "GRID014", "50 kW", "'unit' gives a power twice"),
    "unit_not_positive": (
        "invest bess : storage at 3 { power 0 .. 500 kW, energy 0 .. 2 MWh, "
        "unit 0 kW 400 kWh, install 800 CNY/kW, life 10 y }\n",
        "GRID023", "0 kW", "must be positive"),
    "zero_energy": (
        "invest bess : storage at 3 {\n  power 0 .. 500 kW\n  energy 0 .. 0 kWh\n"
        "  install 800 CNY/kW\n  life 10 y\n}\n",
        "GRID023", "0 .. 0 kWh", "the largest energy must be positive"),
    "negative_power": (
        "invest bess : storage at 3 { power -5 .. 500 kW, energy 0 .. 2 MWh, "
        "install 800 CNY/kW, life 10 y }\n",
        "GRID023", "-5", "must not be negative"),
    "soc_init_outside": (
        "invest bess : storage at 3 {\n  power 0 .. 500 kW\n  energy 0 .. 2 MWh\n"
        "  soc 20 % .. 80 %\n  soc_init 90 %\n  install 800 CNY/kW\n  life 10 y\n}\n",
        "GRID024", "90 %", "soc_init 0.9 lies outside soc 0.2 .. 0.8"),
    "efficiency_above_one": (
        "invest bess : storage at 3 { power 0 .. 500 kW, energy 0 .. 2 MWh, "
        "efficiency 120 %, install 800 CNY/kW, life 10 y }\n",
        "GRID023", "120 %", "an efficiency must lie in (0, 1]"),
    "install_in_kw": (
        "invest bess : storage at 3 { power 0 .. 500 kW, energy 0 .. 2 MWh, "
        "install 800 kW, life 10 y }\n",
        "GRID021", "800 kW", "'kW' is neither a price per power nor"),
    "install_without_unit": (
        "invest bess : storage at 3 { power 0 .. 500 kW, energy 0 .. 2 MWh, "
        "install 800, life 10 y }\n",
        "GRID022", "800", "missing unit"),
    "install_twice_per_kwh": (
        "invest bess : storage at 3 {\n  power 0 .. 500 kW\n  energy 0 .. 2 MWh\n"
        "  install 1 kCNY/kWh\n  install 900 CNY/kWh\n  life 10 y\n}\n",
        "GRID013", "install", "'install' is given twice in investment 'bess' (per kWh)"),
    "maintain_without_install": (
        "invest bess : storage at 3 {\n  power 0 .. 500 kW\n  energy 0 .. 2 MWh\n"
        "  install 800 CNY/kW\n  maintain 2 CNY/kWh/y\n  life 10 y\n}\n",
        "GRID012", "maintain", "has a 'maintain' per kWh but no 'install' per kWh"),
    "install_without_life": (
        "invest bess : storage at 3 { power 0 .. 500 kW, energy 0 .. 2 MWh, "
        "install 800 CNY/kW }\n",
        "GRID012", "invest bess : storage at 3 {", "needs 'life'"),
    "unknown_property": (
        "invest bess : storage at 3 { power 0 .. 500 kW, energy 0 .. 2 MWh, "
        "install 800 CNY/kW, life 10 y, capacity 3 kW }\n",
        "GRID011", "capacity", "unknown property 'capacity'"),
}


@pytest.mark.parametrize("name", sorted(BAD_STORAGE))
def test_bad_storage_investment(name: str) -> None:
    body, code, caret, message = BAD_STORAGE[name]
    diag = only_error(body)
    assert diag.code == code
    assert message in diag.message
    text = (NETWORK + body).splitlines()[diag.span.line - 1]
    assert text[diag.span.col - 1:].startswith(caret), (text, diag.span)


# ------------------------------------------------------------------ formatting


ALL_FEATURES = """economics { discount 6 %, life 20 y, pricing annualised }
formulation distflow
invest small : storage at 2 { power 200 kW, energy 0 .. 800 kWh, install 1.1 kCNY/kWh, life 12 y }
study base { gap 1 %, formulation lindistflow }
study lean extends base { without bess small }
"""


def test_format_round_trip_keeps_the_ir() -> None:
    text = NETWORK + FULL_STORAGE + ALL_FEATURES
    pretty = format_text(text)
    assert format_text(pretty) == pretty
    assert meaning(pretty) == meaning(text)
    assert "formulation distflow\n" in pretty
    assert "  install 0.8 kYuan/kW\n  install 1200 CNY/kWh\n" in pretty
    assert "economics { discount 6 %, life 20 y, pricing annualised }" in pretty


def test_messy_layout_formats_to_canonical_text() -> None:
    messy = NETWORK + (
        "economics {pricing   present_value}\n\n\n"
        "formulation    lindistflow   // the default\n"
        "invest bess:storage at 3{\n"
        "      power 0..500 kW\n"
        "  energy 0 ..2 MWh,unit 100 kW   400 kWh\n"
        "install 800 CNY/kW\n  life 10 y }\n"
        "study base{formulation distflow}\n")
    pretty = format_text(messy)
    assert meaning(pretty) == meaning(messy)
    assert format_text(pretty) == pretty
    tail = pretty[pretty.index("economics"):]
    assert tail == (
        "economics { pricing present_value }\n\n"
        "formulation lindistflow  // the default\n"
        "invest bess : storage at 3 {\n"
        "  power 0 .. 500 kW\n"
        "  energy 0 .. 2 MWh\n"
        "  unit 100 kW 400 kWh\n"
        "  install 800 CNY/kW\n"
        "  life 10 y\n"
        "}\n"
        "study base { formulation distflow }\n")


# ------------------------------------------------------------------ schema


def test_schema_names_the_new_fields() -> None:
    schema = ir.Model.model_json_schema()
    defs = schema["$defs"]
    assert set(defs["Economics"]["properties"]["pricing"]["enum"]) == \
        {"present_value", "annualised"}
    assert defs["Formulation"]["properties"]["name"]["enum"] == ["lindistflow", "distflow"]
    assert "formulation" in schema["properties"]
    assert "formulation" in defs["SolveOptions"]["properties"]
    props = defs["StorageBuild"]["properties"]
    for field in ("power_min_kw", "power_max_kw", "energy_min_kwh", "energy_max_kwh",
                  "unit_kw", "unit_kwh", "efficiency", "soc_min", "soc_max", "soc_init",
                  "wear_cny_per_kwh", "power_costs", "energy_costs"):
        assert field in props, field
    json.dumps(schema)


# ------------------------------------------------------------------ gridc check


def gridc() -> list[str]:
    exe = Path(sys.executable).parent / "gridc"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "gridc"]


CLI_CASES = {
    "pricing": ("economics { pricing annualized }\n", "GRID015", "annualized"),
    "formulation": ("formulation distflw\n", "GRID015", "distflw"),
    "min_above_max": (BAD_STORAGE["min_above_max"][0], "GRID024", "500 .. 100 kW"),
    "unknown_bus": (BAD_STORAGE["unknown_bus"][0], "GRID041", "9"),
    "missing_install": (BAD_STORAGE["missing_install"][0], "GRID012", "invest"),
}


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_gridc_check_rejects(name: str, tmp_path: Path) -> None:
    body, code, caret = CLI_CASES[name]
    path = tmp_path / f"{name}.grid"
    text = NETWORK + body
    path.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "GRIDC_DEBUG"}
    proc = subprocess.run([*gridc(), "check", str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    found = re.search(rf"^(\S+):(\d+):(\d+): error\[{code}\]", proc.stderr, re.M)
    assert found, proc.stderr
    line, col = int(found.group(2)), int(found.group(3))
    assert Path(found.group(1)).name == path.name
    assert text.splitlines()[line - 1][col - 1:].startswith(caret)
    assert "^" in proc.stderr and "help:" in proc.stderr


def test_gridc_check_accepts_all_features(tmp_path: Path) -> None:
    path = tmp_path / "ok.grid"
    path.write_text(NETWORK + FULL_STORAGE + ALL_FEATURES, encoding="utf-8")
    proc = subprocess.run([*gridc(), "check", str(path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout
