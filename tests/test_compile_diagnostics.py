"""Compile-time diagnostics (GRID070–GRID074): a model that reads fine but cannot be built
as written is refused at `gridc solve` with file:line:col, the source line, a caret and
what to write instead — never solved with a part of it silently left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridc.cli.main import main

FEEDER = (Path(__file__).resolve().parent / "models" / "feeder8.grid").read_text()

REINFORCE_B2_B5 = """
invest harden : reinforcement {
  candidates [b2-b5]
  count 0 .. 1
  install 100 kCNY
  life 30 y
}
"""
SWITCH_B2_B5 = """
invest switch : lines {
  candidates table {
    from  to
    b2    b5
  }
  install 0 CNY/km
  life 30 y
}
"""
DG = """
invest pv : dg at b7 {
  source pv
  unit 50 kW
  capacity 0 .. 200 kW
  profile sun
  install 3000 CNY/kW
  life 20 y
}
"""
FLEET = """
fleet cars : plug_in {
  per_day 100
  battery 50 kWh
  consumption 0.15 kWh/km
  charge_power 7 kW
  chains [0.4, 0.3, 0.2, 0.1]
}
"""

CASES = {
    "GRID070": (FEEDER + REINFORCE_B2_B5 + SWITCH_B2_B5, "invest harden", None),
    "GRID071": (FEEDER + "study loss {\n  objective losses\n}\n", "study loss", None),
    "GRID072": (FEEDER + FLEET, "fleet cars", None),
    "GRID072b": (FEEDER + "penalty unserved_ev 2 CNY/kWh\n", "penalty unserved_ev", None),
    "GRID075": (FEEDER + "study loss {\n  objective losses\n  formulation distflow\n}\n",
                "penalty shed", None),
    "GRID074": (FEEDER + REINFORCE_B2_B5 + DG
                + "study search {\n  solve pso(particles = 2, iterations = 1, seed = 1)\n}\n",
                "invest pv", None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_compile_diagnostic_points_at_the_statement(case: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    text, statement, _ = CASES[case]
    path = tmp_path / "user.grid"
    path.write_text(text, encoding="utf-8")
    line = 1 + next(k for k, row in enumerate(text.splitlines()) if row.startswith(statement))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "summary.json").write_text("kept\n")
    assert main(["solve", str(path), "--out", str(out_dir)]) == 1
    captured = capsys.readouterr()
    err = captured.out + captured.err
    code = case[:7]
    assert f"error[{code}]" in err
    assert f"user.grid:{line}:1" in err
    assert statement in err and "^" in err and "help:" in err
    assert "Traceback" not in err
    assert (out_dir / "summary.json").read_text() == "kept\n"  # nothing on disk is lost


def test_formulation_stated_lets_losses_compile(tmp_path: Path) -> None:
    import gridc

    text = (FEEDER.replace("penalty shed 5 CNY/kWh weighted by priority", "")
            + "study loss {\n  objective losses\n  formulation distflow\n}\n")
    problem = gridc.compile(gridc.parse(text, "user.grid"), study="loss")
    assert problem.compiled.formulation == "distflow"
    assert "line_l" in problem.model.variables


def test_stations_with_a_scenario_set_of_their_own_are_refused() -> None:
    import gridc
    from gridc.dsl import GridError

    models = Path(__file__).resolve().parents[1] / "models"
    text = (models / "css_adn.grid").read_text() + (
        "\nscenarios storms {\n  scenario calm { probability 1 }\n}\n")
    with pytest.raises(GridError) as err:
        gridc.compile(gridc.parse(text, models / "user_css.grid"), study="case1")
    (diag,) = err.value.diagnostics
    assert diag.code == "GRID073" and "storms" in diag.message


@pytest.mark.parametrize("extra", ["penalty shed 9 CNY/kWh\n", "price grid 0.4 CNY/kWh\n"])
def test_a_second_penalty_or_price_of_one_kind_is_refused(extra: str) -> None:
    """The first one would win and the second be read and ignored: refused instead."""
    import gridc
    from gridc.dsl import GridError

    with pytest.raises(GridError) as err:
        gridc.parse(FEEDER + extra, "user.grid")
    (diag,) = [d for d in err.value.diagnostics if d.severity == "error"]
    assert diag.code == "GRID017"
    assert diag.span.line == len(FEEDER.splitlines()) + 1
