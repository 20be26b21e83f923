"""Study resolution, scenario data and the incidence contraction."""

from __future__ import annotations

import warnings

import linopy
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from gridc.compiler import compile_model
from gridc.compiler.core.builder import sparse_sum
from gridc.compiler.core.study import resolve_study
from gridc.dsl import GridError, ir, parse

NET = """model m
horizon 4 h step 0.5 h
network n {
  base 10 kV 1 MVA
  slack 1
  voltage 0.9 .. 1.1 pu
  buses table {
    id p[kW] q[kvar]
    1  0   0
    2  100 50
    3  50  10
  }
  lines table {
    from to r[ohm] x[ohm]
    1    2  0.1    0.1
    2    3  0.1    0.1
  }
}
generator gt : gas_turbine at 3 { p_max 100 kW, fuel 0.7 CNY/kWh }
"""

STUDIES = """
scenarios a { scenario x { probability 1 } }
scenarios b {
  scenario calm { probability 0.75 }
  scenario storm { probability 0.25, outage 2-3 from 1 h to 1.75 h, scale load 1.2,
                   scale gt 0.5 }
}
study base { scenarios b, gap 1 %, threads 1 }
study child extends base { set gt.p_max_kw 80, time_limit 10 s }
study grandchild extends child { set gt.p_max_kw 60, scenarios a }
"""


def test_no_study_no_scenarios_gives_one_base_scenario() -> None:
    c = compile_model(parse(NET))
    assert list(c.index.coords["scenario"]) == ["base"]
    assert c.scenarios.probability.values.tolist() == [1.0]
    assert c.study.name == ""
    assert len(c.index.coords["time"]) == 8


def test_extends_chain_child_wins() -> None:
    model = parse(NET + STUDIES)
    st = resolve_study(model, "grandchild")
    assert st.chain == ("base", "child", "grandchild")
    assert st.model.generators[0].p_max_kw == 60
    assert st.scenario_set is not None and st.scenario_set.name == "a"
    assert st.solve.gap == pytest.approx(0.01)
    assert st.solve.threads == 1
    assert st.solve.time_limit_s == pytest.approx(10.0)
    child = resolve_study(model, "child")
    assert child.model.generators[0].p_max_kw == 80
    assert child.scenario_set is not None and child.scenario_set.name == "b"
    assert resolve_study(model).name == "base"  # the first study by default


def test_unknown_study_is_a_diagnostic() -> None:
    with pytest.raises(GridError, match="unknown study 'chlid'") as err:
        compile_model(parse(NET + STUDIES), study="chlid")
    assert "did you mean 'child'" in str(err.value)


def test_outage_windows_scalings_and_probabilities() -> None:
    c = compile_model(parse(NET + STUDIES), study="base")
    u = c.scenarios.availability.sel(line="2-3")
    # steps of 0.5 h: [1, 1.5) and [1.5, 2) overlap the window [1, 1.75)
    assert np.flatnonzero(u.sel(scenario="storm").values == 0).tolist() == [2, 3]
    assert float(u.sel(scenario="calm").min()) == 1.0
    rhs = c.model.constraints["nodal_p"].rhs
    assert float(rhs.sel(scenario="storm", time=0, bus="2")) == pytest.approx(120.0)
    ub = c.model.variables["gen_p"].upper
    assert float(ub.sel(scenario="storm", time=0, gen="gt")) == pytest.approx(50.0)
    assert float(ub.sel(scenario="calm", time=0, gen="gt")) == pytest.approx(100.0)
    assert c.scenarios.probability.values.tolist() == [0.75, 0.25]


def test_elastic_variant_builds_without_linopy_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = compile_model(parse(NET + STUDIES), study="base", elastic=True)
    families = {r.block.family for r in c.relaxations}
    assert families == {"nodal balance", "voltage limits", "line ratings",
                        "generator limits"}
    assert all(name.startswith("elastic_") for r in c.relaxations for name in r.slacks)


def test_history_without_events_is_an_error() -> None:
    """A history scenario set whose source holds no events cannot give typical days."""
    model = parse(NET + "scenarios a { scenario x { probability 1 } }\n")
    hist = ir.ScenarioSet(span=model.span, name="hist", history=ir.HistorySource(
        span=model.span, path="h.csv", k=2))
    with pytest.raises(GridError) as err:
        compile_model(model.model_copy(update={"scenario_sets": (hist,)}))
    assert err.value.diagnostics[0].code == "GRID050"
    assert "no events" in err.value.diagnostics[0].message


def test_sparse_sum_equals_the_dense_product() -> None:
    rng = np.random.default_rng(0)
    m = linopy.Model()
    rows, cols = pd.Index(list("abcd"), name="bus"), pd.Index(list("uvwxyz"), name="line")
    t = pd.RangeIndex(3, name="time")
    x = m.add_variables(lower=0, coords=[t, cols], name="x")
    mat = xr.DataArray(rng.integers(-1, 2, size=(4, 6)).astype(float), coords=[rows, cols])
    got = sparse_sum(2 * x + 1, mat, "line", "bus")
    want = (mat * (2 * x + 1)).sum("line")
    values = xr.DataArray(rng.random((3, 6)), coords=[t, cols])
    m.add_constraints(x == values, name="fix")
    m.add_objective(x.sum())
    m.solve(solver_name="highs", io_api="direct", output_flag=False)
    assert got.coord_dims == ("time", "bus")
    xr.testing.assert_allclose(got.solution, want.solution.transpose("time", "bus"))
    assert got.nterm <= 6 * 2  # padded to the row degree, not the line count x terms
