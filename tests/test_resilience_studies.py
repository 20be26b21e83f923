"""Seed-000 studies side by side, on a reduced case that solves in seconds.

Why a reduced case: `models/ieee33_resilience.grid`'s Method 1 takes minutes (see
docs/performance.md). The properties checked here hold for any instance solved to
optimality, so a 6-bus feeder with two laterals, 6 steps and two storm scenarios
(each cutting one lateral) shows them as well:

* Methods 2-4 are Method 1 without one resource type (a restriction), so Method 1
  costs no more than any of them (the superset property);
* the `ev_availability` sweep changes only the EVs at the car parks, which cap the
  EV-RB power: fewer EVs can only cost more, more EVs can only cost less;
* `gridc solve --all-studies` and `gridc sweep` print one column per study with the
  plan and the cost rows, and write each study's results to OUT/<study>/;
* the sweep's cases run on a local Dask cluster of two workers (`--workers 2`) and
  give the same plans and costs as the serial loop.
"""

from __future__ import annotations

import json
import warnings

import pytest

import gridc
from gridc.cli.main import main
from gridc.cli.studies import run_studies, sweep_model

warnings.filterwarnings("ignore", module="linopy")

MINI = """
model mini_resilience "reduced seed-000 case: two laterals, two storms"
network mini {
  base 12.66 kV 10 MVA
  slack 1 at 1.0 pu
  voltage 0.9 .. 1.1 pu
  buses table {
    id  p[kW]  q[kvar]
    1   0      0
    2   100    20
    3   150    30
    4   120    20
    5   200    40
    6   80     10
  }
  lines table {
    from  to  r[ohm]  x[ohm]
    1     2   0.2     0.1
    2     3   0.3     0.2
    3     4   0.3     0.2
    2     5   0.3     0.2
    5     6   0.3     0.2
  }
}
horizon 6 h step 1 h
economics { discount 8 %, life 30 y, days_per_year 60 }
price grid 0.5 CNY/kWh
penalty shed 30 CNY/kWh
invest reinforcement : reinforcement {
  candidates [3-4, 5-6]
  count 0 .. 1
  install 400 kCNY
  maintain 500 CNY/y
  life 30 y
}
invest mess : mobile_storage {
  type M1 { power 100 kW, energy 300 kWh, efficiency 0.95, soc 0.1 .. 0.9, install 600 kCNY,
            maintain 1.5 kCNY/y, life 10 y }
  count 0 .. 1
  depot 1
  candidates [1, 4, 6]
  moves 2
  travel 1 h
}
invest ev_battery : ev_battery {
  sites table {
    bus  evs  piles
    4    3    4
    6    3    4
  }
  type RB1 { pack 75 kWh, install 60 kCNY, maintain 1 kCNY/y, life 15 y }
  ev_power 20 kW
  pile_power 30 kW
  pile_q 15 kvar
  efficiency 0.95
  soc 0.1 .. 0.9
  power_factor 0.9
  count 0 .. 8
  per_site_max 4
}
scenarios storms {
  scenario east { probability 0.6, outage 3-4 from 1 h to 6 h }
  scenario west { probability 0.4, outage 5-6 from 1 h to 6 h }
}
study method1 { scenarios storms, gap 0 }
study method2 extends method1 { without reinforcement }
study method3 extends method1 { without mess }
study method4 extends method1 { without ev_battery }
sweep ev_availability over method1 {
  case base { set ev_battery.evs [3, 3] }
  case low { set ev_battery.evs [1, 1] }
  case high { set ev_battery.evs [4, 4] }
}
"""



@pytest.fixture(scope="module")
def runs(tmp_path_factory):  # type: ignore[no-untyped-def]
    """`gridc solve --all-studies` and `gridc sweep` once each: printed tables and the
    summaries written under OUT/<study>/ and OUT/sweep/<case>/."""
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("mini")
    src = tmp / "mini.grid"
    src.write_text(MINI)
    out = tmp / "out"
    texts = []
    for argv in (["solve", str(src), "--all-studies", "--threads", "1", "--out", str(out)],
                 ["sweep", str(src), "ev_availability", "--threads", "1", "--workers", "2",
                  "--out", str(out / "sweep")]):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(argv) == 0
        texts.append(buf.getvalue())

    def summary(*parts: str) -> dict:  # type: ignore[type-arg]
        return json.loads(out.joinpath(*parts, "summary.json").read_text())  # type: ignore[no-any-return]

    return texts, summary


def test_method1_is_no_dearer_than_any_restriction(runs) -> None:  # type: ignore[no-untyped-def]
    _, summary = runs
    m = [summary(f"method{k}") for k in (1, 2, 3, 4)]
    assert all(s["status"] == "optimal" for s in m)
    for s in m[1:]:
        assert m[0]["objective"] <= s["objective"] * (1 + 1e-9)
    assert "reinforced" not in m[1]["decisions"]  # method2: no reinforcement at all
    assert "mess" not in m[2]["decisions"] and "ev_packs" not in m[3]["decisions"]
    rows = m[0]["planning"]
    assert rows["total_comprehensive"] == pytest.approx(rows["crf"] * m[0]["objective"])


def test_ev_sweep_moves_cost_in_the_papers_direction(runs) -> None:  # type: ignore[no-untyped-def]
    _, summary = runs
    base, low, high = (summary("sweep", case)["objective"] for case in ("base", "low", "high"))
    assert low >= base * (1 - 1e-9)  # fewer EVs: not cheaper
    assert high <= base * (1 + 1e-9)  # more EVs: not dearer
    assert low > high  # and the EVs matter in this case at all
    packs = summary("sweep", "low")["decisions"]["ev_capacity_kwh"]
    assert packs <= summary("sweep", "base")["decisions"]["ev_capacity_kwh"]


def test_tables_show_plans_costs_and_gaps(runs) -> None:  # type: ignore[no-untyped-def]
    (studies, sweep), _ = runs
    for needle in ("method1", "method4", "lines reinforced", "M1 units", "RB1 packs",
                   "equivalent annual cost", "operation per year", "gap", "optimal"):
        assert needle in studies
    header = next(line for line in sweep.splitlines() if "base" in line and "low" in line)
    assert header.index("base") < header.index("low") < header.index("high")


def test_sweep_and_study_model_helpers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, names, labels = sweep_model(gridc.parse(MINI), "ev_availability")
    assert names == ["ev_availability.base", "ev_availability.low", "ev_availability.high"]
    assert labels == ["base", "low", "high"]
    with pytest.raises(KeyError):
        sweep_model(model, "nope")
    src = tmp_path / "mini.grid"
    src.write_text(MINI)
    assert main(["sweep", str(src), "nope"]) == 2  # unknown sweep: a usage error


def test_parallel_sweep_matches_the_serial_loop(runs) -> None:  # type: ignore[no-untyped-def]
    """The fixture's sweep ran on two Dask workers; the serial loop must agree."""
    (_, sweep), summary = runs
    assert "on 2 Dask worker(s)" in sweep
    model, names, labels = sweep_model(gridc.parse(MINI), "ev_availability")
    serial = run_studies(model, names, {"threads": 1})
    for label, result in zip(labels, serial):
        parallel = summary("sweep", label)
        assert parallel["status"] == result.status.value == "optimal"
        assert parallel["objective"] == pytest.approx(result.objective, rel=1e-9)
        assert parallel["decisions"] == json.loads(json.dumps(result.summary["decisions"]))


def test_recheck_resolves_only_from_a_cheaper_feasible_plan() -> None:
    """`run_studies`' re-check: the base case's plan is feasible with more EVs, so a
    'high' incumbent dearer than it is solved again from it (and ends no dearer), while
    an incumbent already cheaper than every start is kept (no solve: None)."""
    from gridc.cli.studies import StudyTask, solve_study

    model, names, _ = sweep_model(gridc.parse(MINI), "ev_availability")
    base = solve_study(StudyTask(model, names[0], {"threads": 1}))
    assert base is not None and base.ok and base.objective is not None
    starts = ((names[0], base.dataset),)
    kept = solve_study(StudyTask(model, names[2], {"threads": 1}, starts,
                                 beat=0.5 * base.objective))
    assert kept is None
    again = solve_study(StudyTask(model, names[2], {"threads": 1}, starts,
                                  beat=1.5 * base.objective))
    assert again is not None and again.ok and again.objective is not None
    assert again.objective <= base.objective * (1 + 1e-9)
    assert any("re-solved" in note for note in again.summary["notes"])


def test_studies_solves_only_the_named_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`--studies A,B` solves A and B side by side (in the model's order) and nothing
    else; a name that is not a study is a usage error before anything is solved."""
    import contextlib
    import io

    src = tmp_path / "mini.grid"
    src.write_text(MINI)
    out = tmp_path / "out"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["solve", str(src), "--studies", "method4,method2", "--threads", "1",
                     "--out", str(out), "--no-ac-check", "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["method2", "method4"]
    text = buf.getvalue()
    assert text.index("method2") < text.index("method4")
    assert main(["solve", str(src), "--studies", "method1,nope", "--out",
                 str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()
