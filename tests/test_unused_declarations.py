"""A profile that nothing uses is reported (warning GRID072), never silently ignored.

A shipped model once declared a typhoon-day load shape that no `load_profile` used; its
demand was flat all day and nobody was told. These tests hold the rule of `dsl/usage.py`:
every way a profile can be used counts as a use, an unused one in the model's own file is
a warning at its declaration, and one in an imported file (a library) is not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import gridc
from gridc.cli.main import main

FEEDER = """model m
horizon 4 h step 1 h
profile day = [0.6, 0.8, 1.0, 0.7]
network n {
  base 12.66 kV 10 MVA
  slack 1
  buses table {
    id  p[kW]  q[kvar]
    1   0      0
    2   100    60
  }
  lines table {
    from  to  r[ohm]  x[ohm]
    1     2   0.0922  0.047
  }
}
price grid 0.5 CNY/kWh
"""


def _warned(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "m.grid"
    path.write_text(text, encoding="utf-8")
    return [d.message for d in gridc.load(path).warnings if d.code == "GRID072"]


def test_an_unused_profile_is_a_warning_at_its_declaration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _warned(tmp_path, FEEDER) == [
        "profile 'day' is never used: no load, generator, price, network load_profile, "
        "scenario, investment or 'set' refers to it"]
    assert main(["check", str(tmp_path / "m.grid")]) == 0  # a warning: the model loads
    err = capsys.readouterr()
    text = err.out + err.err
    assert "m.grid:3:1: warning[GRID072]" in text and "load_profile day" in text


@pytest.mark.parametrize("use", [
    ("network n {", "network n {\n  load_profile day"),
    ("price grid 0.5 CNY/kWh", "price grid profile day"),
    ("price grid 0.5 CNY/kWh", "price grid 0.5 CNY/kWh\nload shop at 2 { p 20 kW, profile day }"),
    ("price grid 0.5 CNY/kWh", "price grid 0.5 CNY/kWh\nstudy s { set network.load_profile day }"),
])
def test_every_kind_of_use_counts(tmp_path: Path, use: tuple[str, str]) -> None:
    old, new = use
    assert _warned(tmp_path, FEEDER.replace(old, new, 1)) == []


def test_a_profile_of_an_imported_file_is_a_library(tmp_path: Path) -> None:
    """The importing model may use part of a library of profiles."""
    (tmp_path / "lib.grid").write_text("model lib\nhorizon 4 h step 1 h\n"
                                       "profile spare = [1, 1, 1, 1]\n", encoding="utf-8")
    text = FEEDER.replace("network n {", "network n {\n  load_profile day", 1)
    assert _warned(tmp_path, 'import "lib.grid"\n' + text) == []
    assert "spare" in {p.name for p in gridc.load(tmp_path / "m.grid").profiles}
