"""The bi-level PSO (issue 5): repair operator, swarm, plan cache, and the search on a tiny
resilience model whose extensive form solves to optimality in a second.

Why these checks: the swarm is only useful if every plan it proposes is one the upper
level allows (property test on random bounds), if the same seed reproduces the same
search (the Dask back-ends rely on it), if no plan is solved twice (cache), and if the
score it reports is a true cost of a feasible point of the extensive form: never below
the extensive form's optimum, and equal to the extensive objective of the same plan
fixed. The tiny model: a 4-bus feeder with three reinforcement candidates, two MESS
types and two EV-RB sites, two storm scenarios (outage 2-3, outage 1-2).
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import gridc
from gridc.cli.main import main
from gridc.compiler import compile_model
from gridc.compiler.core.plan import Plan
from gridc.compiler.core.study import resolve_study
from gridc.runtime.executor import SerialExecutor
from gridc.runtime.problem import Problem
from gridc.runtime.strategies import bilevel
from gridc.runtime.strategies.bilevel import (
    LowerLevel,
    PlanEvaluator,
    ScenarioEval,
    fix_statements,
    plan_codec,
    solve_pso,
)
from gridc.runtime.strategies.pso import (
    Group,
    InfeasibleSpace,
    PlanSpace,
    PsoSettings,
    Swarm,
    run_pso,
)

warnings.filterwarnings("ignore", module="linopy")

TINY = """
model tiny_bilevel "4-bus feeder with reinforcement, MESS and EV-RB candidates"
network tiny {
  base 12.66 kV 10 MVA
  slack 1 at 1.0 pu
  voltage 0.9 .. 1.1 pu
  buses table {
    id  p[kW]  q[kvar]
    1   0      0
    2   30     0
    3   50     0
    4   40     0
  }
  lines table {
    from  to  r[ohm]  x[ohm]
    1     2   0.1     0.1
    2     3   0.1     0.1
    2     4   0.1     0.1
  }
}
horizon 4 h step 1 h
economics { discount 0 %, life 10 y, days_per_year 1 }
price grid 0.1 CNY/kWh
penalty shed 10 CNY/kWh

invest hardening : reinforcement {
  candidates [1-2, 2-3, 2-4]
  count 0 .. 2
  install 12 kCNY
  maintain 0 CNY/y
  life 10 y
}
invest mess : mobile_storage {
  type M1 { power 100 kW, energy 400 kWh, efficiency 1, soc 0 .. 1, install 10 kCNY,
            maintain 0 CNY/y, life 10 y }
  type M2 { power 50 kW, energy 200 kWh, efficiency 1, soc 0 .. 1, install 6 kCNY,
            maintain 0 CNY/y, life 10 y }
  count 0 .. 2
  depot 1
  candidates [1, 3, 4]
  moves 1
  travel 1 h
}
invest ev_battery : ev_battery {
  sites table {
    bus  evs  piles
    3    2    3
    4    5    1
  }
  type RB1 { pack 100 kWh, install 3 kCNY, maintain 0 CNY/y, life 10 y }
  ev_power 20 kW
  pile_power 30 kW
  pile_q 15 kvar
  efficiency 1
  soc 0 .. 1
  power_factor 0.9
  count 0 .. 5
  per_site_max 3
}
scenarios storms {
  scenario a { probability 0.6, outage 2-3 }
  scenario b { probability 0.4, outage 1-2 }
}
study plan {
  scenarios storms
  solve extensive
  gap 0 %
}
study plan_pso extends plan { solve pso(particles = 6, iterations = 5, seed = 3) }
study plan_pso_nomess extends plan_pso { without mess }
scenarios one_storm { scenario b { probability 1, outage 1-2 } }
study dask_pso extends plan_pso_nomess { scenarios one_storm }
"""


def write_tiny(directory: Path) -> Path:
    path = directory / "tiny_bilevel.grid"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one path for the whole module: the worker-side cache is keyed by it
    return write_tiny(tmp_path_factory.mktemp("pso"))


# ---------------------------------------------------------------- repair operator


@st.composite
def spaces(draw: st.DrawFn) -> PlanSpace | None:
    """Random seed-000-shaped spaces: binary blocks with a count range, count blocks
    with a total range, and type × site blocks with per-site maxima; some components
    pinned."""
    labels: list[str] = []
    lower: list[int] = []
    upper: list[int] = []
    groups: list[Group] = []

    def component(up: int) -> int:
        pin = draw(st.booleans()) and draw(st.integers(0, 5)) == 0
        value = draw(st.integers(0, up))
        labels.append(f"x{len(labels)}")
        lower.append(value if pin else 0)
        upper.append(value if pin else up)
        return len(labels) - 1

    for b in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["binary", "counts", "sites"]))
        if kind == "sites":
            per_site = draw(st.integers(0, 3))
            every = []
            for s in range(draw(st.integers(1, 2))):
                site = [component(per_site) for _ in range(draw(st.integers(1, 2)))]
                groups.append(Group(f"b{b}@{s}", tuple(site), 0, per_site))
                every += site
        else:
            up = 1 if kind == "binary" else draw(st.integers(1, 3))
            every = [component(up) for _ in range(draw(st.integers(1, 3)))]
        lo = draw(st.integers(0, 4))
        groups.append(Group(f"b{b}", tuple(every), lo, lo + draw(st.integers(0, 4))))
    assume(len(labels) <= 7)  # keeps the brute force below small
    try:
        return PlanSpace(tuple(labels), np.array(lower), np.array(upper), tuple(groups))
    except InfeasibleSpace:
        # the repair claims nothing fits: check by brute force that this is true
        probe = PlanSpace.__new__(PlanSpace)
        object.__setattr__(probe, "labels", tuple(labels))
        object.__setattr__(probe, "lower", np.array(lower))
        object.__setattr__(probe, "upper", np.array(upper))
        object.__setattr__(probe, "groups", tuple(groups))
        ranges = [range(lo_, up_ + 1) for lo_, up_ in zip(lower, upper)]
        assert not any(probe.feasible(np.array(x)) for x in itertools.product(*ranges))
        return None


@settings(max_examples=150, deadline=None)
@given(space=spaces(), data=st.data())
def test_repair_honours_random_bounds(space: PlanSpace | None, data: st.DataObject) -> None:
    """Either the bounds admit no plan (checked by brute force in `spaces`) or every
    position repairs to a feasible plan, feasible points are fixed points, and a
    feasible rounding is kept as it is."""
    if space is None:
        return
    raw = data.draw(st.lists(st.floats(-2.0, 6.0, allow_nan=False), min_size=space.dim,
                             max_size=space.dim))
    p = np.array(raw)
    x = space.repair(p)
    assert space.feasible(x), (p, x)
    assert np.array_equal(space.repair(x.astype(float)), x)  # feasible points stay put
    rounded = np.clip(np.rint(p), space.lower, space.upper)
    if space.feasible(rounded):
        assert np.array_equal(x, rounded)


def test_space_rejects_impossible_and_crossing_groups() -> None:
    with pytest.raises(InfeasibleSpace):
        PlanSpace(("a", "b"), np.array([0, 0]), np.array([1, 1]), (Group("g", (0, 1), 3, 4),))
    with pytest.raises(ValueError, match="overlap"):
        PlanSpace(("a", "b", "c"), np.zeros(3), np.ones(3),
                  (Group("g", (0, 1), 0, 1), Group("h", (1, 2), 0, 1)))


# ---------------------------------------------------------------- swarm


def _bowl(xs: list[np.ndarray]) -> list[float]:
    """A separable integer bowl with its minimum at (2, 0, 3, 1)."""
    target = np.array([2, 0, 3, 1])
    return [float(((x - target) ** 2).sum()) for x in xs]


BOWL = PlanSpace(("a", "b", "c", "d"), np.zeros(4), np.array([4, 4, 4, 1]),
                 (Group("cd", (2, 3), 0, 4),))


def test_same_seed_same_search_and_optimum_found() -> None:
    runs = [run_pso(BOWL, _bowl, PsoSettings(particles=6, iterations=8, seed=11))
            for _ in range(2)]
    assert runs[0].history == runs[1].history
    assert np.array_equal(runs[0].best_plan, runs[1].best_plan)  # type: ignore[arg-type]
    assert runs[0].best_score == 0.0  # the swarm finds the bowl's bottom
    assert all(a >= b for a, b in zip(runs[0].history, runs[0].history[1:]))


def test_interrupt_keeps_best_plan() -> None:
    calls = {"n": 0}

    def stops_at_third(xs: list[np.ndarray]) -> list[float]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return _bowl(xs)

    swarm = Swarm(BOWL, PsoSettings(particles=4, iterations=10, seed=2))
    result = run_pso(BOWL, stops_at_third, swarm.s, swarm=swarm)
    assert result.interrupted and result.iterations_done == 2
    assert result.best_plan is not None and BOWL.feasible(result.best_plan)
    assert result.best_score == min(result.history)


# ---------------------------------------------------------------- plan vector and cache


def test_codec_covers_the_resilience_bounds() -> None:
    model = gridc.load(Path(__file__).resolve().parents[1] / "models" /
                       "ieee33_resilience.grid")
    codec = plan_codec(resolve_study(model, "method1_pso"))
    assert codec.space.dim == 12 + 3 + 2 * 5  # lines, MESS types, pack types × sites
    paper = Plan(reinforced=("1-2", "27-28", "30-31"),
                 mess={"MESS1": 0, "MESS2": 2, "MESS3": 1},
                 packs={(t, s): 0 for t in ("RB1", "RB2") for s in ("7", "14", "18", "25")}
                 | {("RB1", "31"): 6, ("RB2", "31"): 4})
    x = codec.encode(paper)
    assert codec.space.feasible(x)
    assert codec.decode(x).key() == paper.key()
    too_many = x.copy()
    too_many[[i for i, k in codec.packs if k[1] == "31"]] = 10  # 20 packs at one site
    assert not codec.space.feasible(too_many)
    assert codec.space.feasible(codec.space.repair(too_many.astype(float)))
    # a study's fixes pin their components
    fixed = plan_codec(resolve_study(model, "paper_plan"))
    assert np.array_equal(fixed.space.lower, fixed.space.upper)
    assert np.array_equal(fixed.space.lower, x)


class _Counting:
    """An executor that answers every scenario with a daily cost of 100 CNY."""

    kind = "counting"

    def __init__(self) -> None:
        self.tasks: list[bilevel.ScenarioTask] = []

    def submit_many(self, fn, items):  # type: ignore[no-untyped-def]
        self.tasks += items
        return [ScenarioEval(t.lower.scenario, "optimal", True, 100.0, {}, 0.0, 0.0, 0.0,
                             "here") for t in items]

    def workers(self) -> int:
        return 1

    def close(self) -> None:
        pass


def test_identical_plans_are_not_solved_again() -> None:
    resolved = resolve_study(gridc.parse(TINY), "plan_pso")
    lowers = [LowerLevel("x.grid", "fp", "plan_pso", s) for s in ("a", "b")]
    ex = _Counting()
    ev = PlanEvaluator(resolved.model, lowers, [0.6, 0.4], ex)  # type: ignore[arg-type]
    p = Plan(reinforced=("2-3",))
    q = Plan(mess={"M1": 1})
    r = Plan(packs={("RB1", "3"): 2})
    first = ev.evaluate([p, q, Plan(reinforced=("2-3",))])
    second = ev.evaluate([q, r, p])
    assert len(ex.tasks) == 2 * 3  # three distinct plans, two scenarios each
    assert (ev.plans_solved, ev.solves, ev.hits) == (3, 6, 3)
    assert first[0] is first[2] is second[2]
    # score: capital + PVF (maintenance + days × expected day); PVF = 10 at 0 %
    assert first[0].score == pytest.approx(12_000 + 10 * 100.0)


# ---------------------------------------------------------------- the search on the tiny model


@pytest.fixture(scope="module")
def tiny_run(tiny: Path) -> bilevel.PsoRun:
    compiles = bilevel.COMPILES["count"]
    with SerialExecutor() as ex:
        run = solve_pso(tiny, "plan_pso", ex)
    run.compiles = bilevel.COMPILES["count"] - compiles  # type: ignore[attr-defined]
    return run


def test_tiny_search_reuses_compiled_scenarios(tiny_run: bilevel.PsoRun) -> None:
    ev = tiny_run.evaluator
    assert tiny_run.compiles in (0, 2)  # type: ignore[attr-defined]  # once per scenario
    assert ev.solves == 2 * ev.plans_solved
    assert ev.plans_solved + ev.hits == 6 * 5  # every proposal: solved once or cached
    assert len(ev.cache) == ev.plans_solved
    assert tiny_run.result.iterations_done == 5 and not tiny_run.result.interrupted


def test_pso_cost_is_never_below_the_extensive_optimum(tiny: Path,
                                                       tiny_run: bilevel.PsoRun) -> None:
    result = Problem(compile_model(gridc.load(tiny), study="plan")).solve(threads=1, gap=0.0)
    assert result.status.value == "optimal"
    assert result.bound is not None and tiny_run.best is not None
    assert tiny_run.best.score >= result.bound * (1 - 1e-9) - 1e-6
    # every plan the swarm scored is a feasible point of the extensive form
    assert min(s.score for s in tiny_run.evaluator.cache.values()) >= result.bound - 1e-6


def test_score_is_the_extensive_objective_of_the_fixed_plan(tiny: Path,
                                                            tiny_run: bilevel.PsoRun) -> None:
    best = tiny_run.best
    assert best is not None and best.costs is not None
    model = gridc.load(tiny)
    fixes = "\n".join("  " + f for f in fix_statements(model, best.plan))
    fixed = tiny.with_name("tiny_fixed.grid")
    fixed.write_text(f'import "{tiny.name}"\nstudy best extends plan {{\n{fixes}\n}}\n',
                     encoding="utf-8")
    result = Problem(compile_model(gridc.load(fixed), study="best")).solve(threads=1, gap=0)
    assert result.objective == pytest.approx(best.score, rel=1e-7)
    assert result.costs["installation"] == pytest.approx(best.costs.installation)


def test_cli_runs_the_study_strategy_and_writes_the_plan(tiny: Path, tmp_path: Path,
                                                         tiny_run: bilevel.PsoRun) -> None:
    out = tmp_path / "out"
    assert main(["solve", str(tiny), "--study", "plan_pso", "--out", str(out)]) == 0
    data = json.loads((out / "summary.json").read_text())
    assert tiny_run.best is not None
    assert data["objective"] == tiny_run.best.score  # same seed, same search
    assert data["pso"]["history"] == tiny_run.result.history
    assert (out / "plan.grid").read_text().count("fix ") == 4
    assert math.isclose(sum(v["probability"] for v in data["scenarios"].values()), 1.0)


def test_problem_solve_pso_is_the_same_search(tiny: Path, tiny_run: bilevel.PsoRun) -> None:
    """`Problem.solve_pso` (Python) runs the very search `gridc solve --strategy pso` runs,
    with the same options: same seed, same plan, same score."""
    problem = Problem(compile_model(gridc.load(tiny), study="plan_pso"))
    run = problem.solve_pso()
    assert run.best is not None and tiny_run.best is not None
    assert run.best.plan == tiny_run.best.plan
    assert run.best.score == pytest.approx(tiny_run.best.score, rel=1e-12)
    assert run.result.history == tiny_run.result.history
    shorter = problem.solve_pso(particles=2, iterations=1, seed=3)
    assert shorter.settings.particles == 2 and shorter.result.iterations_done == 1


def test_problem_solve_on_a_pso_study_says_what_it_ran(tiny: Path) -> None:
    result = Problem(compile_model(gridc.load(tiny), study="plan_pso")).solve(threads=1)
    assert result.ok
    assert any("solve_pso" in n for n in result.summary["notes"])


def test_problem_solve_pso_loads_the_model_with_the_same_grants(tmp_path: Path) -> None:
    """A model that reads files outside its folder (granted with `allow=`) runs the PSO
    from Python: the workers load it with the grants passed to `solve_pso`. Without
    them the workers are refused the file, and the search says so instead of running."""
    lib = tmp_path / "lib"
    lib.mkdir()
    write_tiny(lib)
    main_dir = tmp_path / "m"
    main_dir.mkdir()
    main = main_dir / "main.grid"
    main.write_text('import "../lib/tiny_bilevel.grid"\n', encoding="utf-8")
    model = gridc.load(main, allow=[lib])
    problem = Problem(compile_model(model, study="plan_pso"))
    run = problem.solve_pso(particles=2, iterations=1, seed=3, allow=[lib])
    assert run.best is not None and run.result.iterations_done == 1
    with pytest.raises((gridc.GridError, bilevel.SearchFailed)) as refused:
        problem.solve_pso(particles=2, iterations=1, seed=3)
    assert "GRID060" in str(refused.value) or "GRID060" in str(
        getattr(refused.value, "__cause__", ""))
