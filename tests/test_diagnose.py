"""Infeasible models exit 1; `--diagnose` names the families and the `.grid` lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridc.cli.main import main
from gridc.dsl import parse
from gridc.runtime.diagnose import diagnose

# A 4-bus feeder without shedding (no `penalty shed`): demand is hard.
FEEDER = """model tiny
horizon 2 h step 1 h
network feeder {
  base 12.66 kV 10 MVA
  slack 1 at 1.0 pu
  voltage VLIM pu
  buses table {
    id p[kW] q[kvar]
    1  0   0
    2  100 50
    3  80  40
    4  60  0
  }
  lines table {
    from to r[ohm] x[ohm] rating[kVA]
    1    2  0.1    0.05   RATING
    2    3  0.2    0.1    500
    2    4  0.2    0.1    500
  }
}
price grid 0.5 CNY/kWh
"""
LINE_12 = 16  # line of the table row "1 2 ..." in FEEDER
BUS_4 = 12  # line of the table row of bus 4


def feeder(tmp_path: Path, rating: float = 500, vlim: str = "0.9 .. 1.1",
           extra: str = "") -> Path:
    path = tmp_path / "tiny.grid"
    text = FEEDER.replace("RATING", f"{rating:g}").replace("VLIM", vlim) + extra
    path.write_text(text, encoding="utf-8")
    assert text.splitlines()[LINE_12 - 1].split()[:2] == ["1", "2"]
    assert text.splitlines()[BUS_4 - 1].split()[0] == "4"
    return path


def test_rating_below_the_load_is_blamed_on_that_line(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    path = feeder(tmp_path, rating=200)  # 240 kW of load behind line 1-2
    assert main(["solve", str(path)]) == 1
    assert "infeasible" in capsys.readouterr().out
    assert main(["solve", str(path), "--diagnose"]) == 1
    out = capsys.readouterr().out
    assert "line ratings" in out
    assert f"tiny.grid:{LINE_12}:" in out
    assert "line 1-2" in out


def test_islanded_load_without_shedding_is_blamed_on_its_bus(tmp_path: Path) -> None:
    path = feeder(tmp_path, extra="scenarios s { scenario cut { probability 1, "
                                  "outage 2-4 from 0 h to 1 h } }\n")
    model = parse(path.read_text(), str(path))
    diag = diagnose(model)
    assert diag.families == ["nodal balance"]
    (finding,) = [f for f in diag.findings if f.block == "nodal_p"]
    assert finding.label == "4"
    assert finding.where.endswith(f"tiny.grid:{BUS_4}:5")
    assert finding.amount == pytest.approx(60.0)
    assert finding.steps == (0,)


def test_impossible_voltage_limits_are_named(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = feeder(tmp_path, vlim="0.9999 .. 1.1")
    assert main(["solve", str(path), "--diagnose"]) == 1
    out = capsys.readouterr().out
    assert "voltage limits" in out
    assert "bus_w (lower)" in out


def test_feasible_model_needs_no_diagnosis(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(feeder(tmp_path)), "--diagnose"]) == 0
    assert "nothing to explain" in capsys.readouterr().out
