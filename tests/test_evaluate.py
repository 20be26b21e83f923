"""Out-of-sample evaluation (`gridc evaluate`, `runtime.evaluate`): a fixed plan scored on
every event of a history, each event its own operation problem.

The model is tests/models/storm6.grid: a six-bus feeder with a battery, a PV plant, two
reinforcement candidates and a mobile battery, planned on k = 3 typical days of a
ten-storm history (tests/models/storm6_history.csv). What must hold:

* the event problems are the scenario blocks of the extensive form: the plan's
  in-sample cost (its typical days, weighted by cluster share) equals the objective of
  the study solved with the plan fixed;
* one event's cost by hand (S07: b3-b4 out all day);
* serial and Dask give the same numbers, bit for bit;
* a plan the model cannot hold is refused with a message.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import gridc
from gridc.cli.main import main
from gridc.compiler.core.plan import Plan
from gridc.runtime.evaluate import (
    EvaluationError,
    compile_events,
    evaluate_events,
    event_scenarios,
    fingerprint,
    history_of,
    plan_values,
    solve_events,
    split_events,
    study_plan,
)
from gridc.runtime.evaluate_report import EVENTS_CSV, SUMMARY_JSON, Evaluation, cvar, evaluate
from gridc.runtime.executor import make_executor

MODELS = Path(__file__).resolve().parent / "models"
STORM6 = MODELS / "storm6.grid"


@pytest.fixture(scope="module")
def model() -> gridc.ir.Model:
    return gridc.load(STORM6)


@pytest.fixture(scope="module")
def fixed(model: gridc.ir.Model) -> Evaluation:
    """The study `fixed` (b2-b3 reinforced, no mobile battery) on every storm, serially."""
    return evaluate(model, "fixed", study_plan(model, "fixed"), gap=0.0)


def test_the_fix_lines_are_the_plan(model: gridc.ir.Model) -> None:
    plan = study_plan(model, "fixed")
    assert plan.reinforced == ("b2-b3",) and plan.mess == {"M1": 0}


def test_every_event_is_solved_and_named(fixed: Evaluation) -> None:
    names = [o.event for o in fixed.outcomes]
    assert names == [f"S{i:02d}" for i in range(1, 11)]
    assert all(o.status == "optimal" and o.ok for o in fixed.outcomes)
    assert fixed.summary()["statuses"] == {"optimal": 10}


def test_one_event_by_hand(fixed: Evaluation) -> None:
    """S07: b3-b4 out all day (6 h), load level 0.7, DG level 0.9. b4 (60 kW) is an
    island fed only by the battery: (0.5 − 0.1) × 60 kWh × 0.95 = 22.8 kWh delivered, so
    60 × 0.7 × 6 − 22.8 = 229.2 kWh shed at 10 CNY/kWh. The rest (270 kW × 0.7 × 6 h =
    1,134 kWh) is bought at 0.5 CNY/kWh less the PV (30 kW × Σ sun 2.7 × 0.9 = 72.9 kWh):
    530.55 CNY. Daily cost 2,822.55 CNY."""
    s07 = next(o for o in fixed.outcomes if o.event == "S07")
    assert s07.unserved_kwh == pytest.approx(229.2, abs=1e-6)
    assert s07.terms["grid"] == pytest.approx(530.55, abs=1e-6)
    assert s07.daily == pytest.approx(2822.55, abs=1e-6)


def test_in_sample_is_the_extensive_objective_of_the_fixed_plan(model: gridc.ir.Model,
                                                                fixed: Evaluation) -> None:
    """The typical days are medoid events: weighting their event costs by cluster share
    gives the objective of the study solved in extensive form with the plan fixed."""
    result = gridc.compile(model, study="fixed").solve(gap=0.0, ac_check=False)
    s = fixed.summary()
    assert s["in_sample"]["objective"] == pytest.approx(result.objective, rel=1e-9)
    assert s["in_sample"]["annual_operation"] == pytest.approx(
        result.summary["costs"]["operation"], rel=1e-9)
    weights = fixed.typical_weights()
    assert sum(weights.values()) == pytest.approx(1.0)
    by = {o.event: o.daily for o in fixed.outcomes}
    assert s["in_sample"]["daily_cost"] == pytest.approx(
        sum(w * by[e] for e, w in weights.items()))


def test_out_of_sample_weights_every_event_equally(fixed: Evaluation) -> None:
    s = fixed.summary()
    daily = [o.daily for o in fixed.outcomes]
    assert s["out_of_sample"]["daily_cost"] == pytest.approx(np.mean(daily))
    assert s["out_of_sample"]["annual_operation"] == pytest.approx(30 * np.mean(daily))
    assert s["out_of_sample"]["annual_unserved_kwh"] == pytest.approx(
        30 * np.mean([o.unserved_kwh for o in fixed.outcomes]))
    assert s["in_minus_out"]["relative"] == pytest.approx(
        (s["in_sample"]["daily_cost"] - np.mean(daily)) / np.mean(daily))
    assert s["worst"][0]["daily_cost"] == max(daily)
    assert s["distribution"]["quantiles"]["0.5"] == pytest.approx(np.median(daily))
    # the study's own k is in the representation table, with the summary's in-sample cost
    row = next(r for r in s["representation"] if r["k"] == 3)
    assert row["in_sample_daily"] == pytest.approx(s["in_sample"]["daily_cost"])


def test_cvar_by_hand() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert cvar(values, 0.8) == pytest.approx(10.0)  # the worst 20 %: one event
    assert cvar(values, 0.6) == pytest.approx(7.0)  # the worst two
    assert cvar(values, 0.7) == pytest.approx((10.0 + 0.5 * 4.0) / 1.5)  # 1.5 events
    assert cvar(values, 0.0) == pytest.approx(np.mean(values))


def test_serial_and_dask_give_the_same_numbers(model: gridc.ir.Model,
                                               fixed: Evaluation) -> None:
    scenarios = event_scenarios(model, history_of(model, "fixed"), "fixed")
    with make_executor(workers=2) as ex:
        run = evaluate_events(model, "fixed", study_plan(model, "fixed"), scenarios, ex,
                              gap=0.0)
    assert run.executor == "dask-local" and run.workers == 2
    assert [(o.event, o.status, o.daily, o.unserved_kwh) for o in run.outcomes] == \
        [(o.event, o.status, o.daily, o.unserved_kwh) for o in fixed.outcomes]


def test_the_fast_path_proves_what_the_plain_path_proves(model: gridc.ir.Model) -> None:
    """The fixed-plan MIP options (`FIXED_PLAN_MIP`) change HiGHS' path to the gap, not
    what is proved: with the mobile battery built (integer routing), every event gets the
    same status on both paths, each bound is below the other path's cost, both costs are
    within the gap of the better bound, and at gap 0 the costs agree."""
    scenarios = event_scenarios(model, history_of(model, "plan"), "plan")
    problems = split_events(compile_events(model, "plan", scenarios),
                            Plan(reinforced=("b2-b3",), mess={"M1": 1}))
    assert all((p.integrality != 0).any() for p in problems)  # MIPs, not LPs
    for gap in (0.0, 0.05):
        fast = solve_events(problems, gap=gap).outcomes
        plain = solve_events(problems, gap=gap, fast=False).outcomes
        for f, p in zip(fast, plain, strict=True):
            assert (f.event, f.status) == (p.event, p.status)
            assert f.daily is not None and p.daily is not None
            assert f.bound is not None and p.bound is not None
            tol = 1e-6 * (1.0 + abs(p.daily))
            assert f.bound <= p.daily + tol and p.bound <= f.daily + tol  # valid bounds
            best = max(f.bound, p.bound)  # both costs within the gap of the best bound
            assert f.daily - best <= gap * abs(f.daily) + tol
            assert p.daily - best <= gap * abs(p.daily) + tol
            if gap == 0.0:
                assert f.daily == pytest.approx(p.daily, rel=1e-6, abs=1e-6)


def test_equal_problems_are_solved_once(model: gridc.ir.Model) -> None:
    """Two events with equal arrays are one problem: solved once, the answer given to
    both under their own names; a different event is solved on its own."""
    scenarios = event_scenarios(model, history_of(model, "fixed"), "fixed")[:2]
    one, two = split_events(compile_events(model, "fixed", scenarios),
                            study_plan(model, "fixed"))
    twin = replace(one, name="TWIN")
    assert fingerprint(twin) == fingerprint(one) != fingerprint(two)
    solved: list[str] = []
    run = solve_events([one, twin, two], gap=0.0,
                       progress=lambda done, total, o: solved.append(o.event))
    assert solved == [one.name, two.name]
    a, b, c = run.outcomes
    assert b.event == "TWIN" and b.worker == f"same problem as {one.name}"
    assert (b.status, b.daily, b.bound, b.unserved_kwh, b.terms) == \
        (a.status, a.daily, a.bound, a.unserved_kwh, a.terms)
    assert c.event == two.name and c.daily != a.daily


def test_a_plan_outside_the_model_is_refused(model: gridc.ir.Model) -> None:
    scenarios = event_scenarios(model, history_of(model, "plan"), "plan")[:2]
    compiled = compile_events(model, "plan", scenarios)
    with pytest.raises(EvaluationError, match="outside the model's range"):
        plan_values(compiled, Plan(reinforced=("b1-b2",)))  # not a candidate
    with pytest.raises(EvaluationError, match="outside the model's range"):
        plan_values(compiled, Plan(mess={"M1": 2}))  # count 0 .. 1
    with pytest.raises(EvaluationError, match="does not have"):
        plan_values(compiled, Plan(packs={("RB1", "b6"): 1}))  # no EV batteries here
    assert len(split_events(compiled, Plan(mess={"M1": 1}))) == 2


def test_a_study_without_history_is_refused() -> None:
    model = gridc.load(MODELS / "mess6.grid")
    with pytest.raises(EvaluationError, match="not generated from a history"):
        history_of(model, "main")


# ---------------------------------------------------------------- command line


def test_cli_scores_a_solved_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    solved = tmp_path / "solved"
    assert main(["solve", str(STORM6), "--study", "plan", "--out", str(solved), "--quiet",
                 "--no-ac-check"]) == 0
    out = tmp_path / "eval"
    assert main(["evaluate", str(STORM6), "--plan", str(solved), "-o", str(out),
                 "--cvar", "90%"]) == 0
    text = capsys.readouterr().out
    assert "typical days vs every event" in text and "worst events" in text
    summary = json.loads((out / SUMMARY_JSON).read_text())
    solve = json.loads((solved / "summary.json").read_text())
    assert summary["study"] == "plan" and summary["distribution"]["cvar_level"] == 0.9
    # the in-sample view of the solved plan is the solve's own objective (gap 0)
    assert summary["in_sample"]["objective"] == pytest.approx(solve["objective"], rel=1e-9)
    rows = (out / EVENTS_CSV).read_text().splitlines()
    assert rows[0].startswith("event,status,daily_cost,bound,gap,unserved_kwh")
    assert len(rows) == 11


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(STORM6), "--plan", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["evaluate", str(STORM6), "--study", "plan"]) == 2  # no fix, no --plan
    assert "fixes no investment" in capsys.readouterr().err
    copy = tmp_path / "m"
    copy.mkdir()
    shutil.copy(MODELS / "mess6.grid", copy)
    (copy / "solved").mkdir()
    (copy / "solved" / "summary.json").write_text(json.dumps(
        {"study": "main", "status": "optimal", "decisions": {"mess": {"M1": 1}}}))
    assert main(["evaluate", str(copy / "mess6.grid"), "--plan", str(copy / "solved")]) == 1
    assert "not generated from a history" in capsys.readouterr().err


# ---------------------------------------------------------------- k-means restarts


def _storms(call: str) -> gridc.ir.Model:
    text = STORM6.read_text().replace("kmeans(k = 3, seed = 1, restarts = 5)", call)
    return gridc.parse(text, STORM6)


def test_restarts_keep_the_least_inertia() -> None:
    from gridc.data.history import cluster

    model = gridc.load(MODELS.parents[1] / "models" / "ieee33_resilience.grid")
    source = next(s.history for s in model.scenario_sets if s.name == "typhoons")
    assert source is not None and source.restarts == 1
    lines = [ln.id for ln in model.network().lines]
    once = cluster(source, lines, 24.0)
    assert once.inertia == once.first_inertia == pytest.approx(31.1764, abs=1e-3)  # issue 16
    best = cluster(source.model_copy(update={"restarts": 50}), lines, 24.0)
    assert best.first_inertia == once.inertia  # the first run is the single run
    assert best.inertia == pytest.approx(28.6347, abs=1e-3) and best.restarts == 50
    assert sum(t.probability for t in best.typical) == pytest.approx(1.0)
    assert [t.event.name for t in once.typical] != [t.event.name for t in best.typical]


def test_restarts_in_the_language() -> None:
    assert _storms("kmeans(k = 3, seed = 1, restarts = 5)").scenario_sets[0].history.restarts == 5  # type: ignore[union-attr]
    assert _storms("kmeans(k = 3)").scenario_sets[0].history.restarts == 1  # type: ignore[union-attr]
    with pytest.raises(gridc.GridError) as info:
        _storms("kmeans(k = 3, restart = 5)")
    d = info.value.diagnostics[0]
    assert d.code == "GRID014" and "restarts" in (d.help or "")
    with pytest.raises(gridc.GridError) as info:
        _storms("kmeans(k = 3, restarts = 0)")
    assert info.value.diagnostics[0].code == "GRID023"
    with pytest.raises(gridc.GridError) as info:
        _storms("kmeans(k = 3, restarts = 5000)")
    assert "restarts" in str(info.value)


def test_check_prints_the_inertia(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(STORM6)]) == 0
    assert "3 typical days of 10 events, inertia 2.366 (best of 5 k-means runs" in \
        capsys.readouterr().out


def test_plans_of_both_summary_layouts() -> None:
    from gridc.runtime.evaluate import plan_from_summary

    solve = plan_from_summary({"reinforced": ["1-2"], "mess": {"M": 1},
                               "ev_packs": {"RB1": {"31": 2, "7": 0}}})
    pso = plan_from_summary({"reinforced": ["1-2"], "mess": {"M": 1},
                             "ev_packs": [["RB1", "31", 2], ["RB1", "7", 0]]})
    assert solve == pso == Plan(("1-2",), {"M": 1}, {("RB1", "31"): 2, ("RB1", "7"): 0})
