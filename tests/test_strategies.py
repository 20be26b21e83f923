"""The strategy registry: one place chooses how a model is solved, for the CLI and for
`Problem.solve(strategy=...)`; a strategy that does not apply to a model is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

import gridc
from gridc.cli.main import main
from gridc.runtime.strategies.registry import NAMES, STRATEGIES, choose

FEEDER = Path(__file__).resolve().parent / "models" / "feeder8.grid"


def test_every_registered_strategy_is_a_cli_choice() -> None:
    assert set(STRATEGIES) <= set(NAMES)
    assert {"plain", "warm", "exchange", "pso", "decompose", "extensive"} == set(NAMES)


def test_default_choice_follows_what_the_model_contains() -> None:
    operation = gridc.compile(gridc.load(FEEDER))
    assert choose(operation.compiled, None) == "plain"
    assert choose(operation.compiled, "extensive") == "plain"
    resilience = gridc.compile(gridc.load(Path(__file__).resolve().parents[1] / "models"
                                          / "ieee33_resilience.grid"), study="quick")
    assert choose(resilience.compiled, None) == "warm"  # MESS: restricted phase first
    assert choose(resilience.compiled, "plain") == "plain"


@pytest.mark.parametrize(("strategy", "why"), [("exchange", "stations"),
                                               ("warm", "restriction"), ("pso", "solve_pso"),
                                               ("anneal", "unknown")])
def test_a_strategy_that_does_not_apply_is_refused(strategy: str, why: str) -> None:
    problem = gridc.compile(gridc.load(FEEDER))
    with pytest.raises(ValueError, match=why):
        problem.solve(strategy=strategy)


def test_python_and_cli_run_the_same_strategy(tmp_path: Path) -> None:
    problem = gridc.compile(gridc.load(FEEDER))
    result = problem.solve(strategy="plain")
    assert result.summary["strategy"] == "plain"
    assert main(["solve", str(FEEDER), "--strategy", "plain", "--out", str(tmp_path)]) == 0
    import json

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["strategy"] == "plain"
    assert summary["objective"] == pytest.approx(result.objective, rel=1e-9)


def test_cli_refuses_a_strategy_that_does_not_apply(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(FEEDER), "--strategy", "exchange"]) == 2  # a usage error
    out = capsys.readouterr()
    text = out.out + out.err
    assert "strategy 'exchange' needs a model with stations" in text
    assert "Traceback" not in text and "internal error" not in text


def test_a_losses_study_is_printed_in_kwh(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import catalogue as C

    path = tmp_path / "losses.grid"
    path.write_text(C.lines_losses("distflow", "losses"), encoding="utf-8")
    assert main(["solve", str(path)]) == 0
    out = capsys.readouterr().out
    objective = next(line for line in out.splitlines() if "objective" in line)
    assert "kWh/day" in objective and "CNY" not in objective
