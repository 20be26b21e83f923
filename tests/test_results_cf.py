"""solution.nc describes itself: CF units that pint parses, long names, time in hours,
the network, the inputs and the cost breakdown (docs/reading-results.md).

The fixture is the planner's own feeder (tests/models/feeder8.grid: 8 buses, 24 h, two
scenarios), solved once; the family-by-family catalogue (tests/catalogue.py) checks
that every block of every family gets units pint parses and a long name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import catalogue as C
import numpy as np
import pint
import pytest
import xarray as xr

import gridc
from gridc.dsl.units import registry
from gridc.runtime.export import cf_units, clock_labels, describe, long_name_of
from gridc.runtime.results import SCHEMA_VERSION, _netcdf_ready

MODELS = Path(__file__).resolve().parent / "models"
FEEDER8 = MODELS / "feeder8.grid"
PLAIN = pint.UnitRegistry()  # what pint-xarray uses when given no registry
MONEY = re.compile(r"\b(k|M|w)?(CNY|Yuan|yuan|RMB)\b")


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """(model, result, the reopened solution.nc) of feeder8."""
    model = gridc.load(FEEDER8)
    result = gridc.compile(model).solve()
    assert result.ok, result.message
    out = tmp_path_factory.mktemp("feeder8")
    result.write(out)
    with xr.open_dataset(out / "solution.nc") as ds:
        yield model, result, ds.load()


def check_units_and_names(ds: xr.Dataset) -> None:
    """Every variable (data and coordinates) has a long_name; every numeric one has
    `units` that the project's registry parses, and plain pint too unless it is money."""
    ureg = registry()
    for name, var in ds.variables.items():
        assert var.attrs.get("long_name"), f"{name} has no long_name"
        if var.dtype.kind in "OUS":  # labels: no unit
            continue
        units = var.attrs.get("units")
        assert units is not None, f"{name} has no units"
        ureg.Unit(units)  # raises if pint cannot parse it
        if not MONEY.search(units):
            PLAIN.Unit(units)
        assert "unit" not in var.attrs, f"{name} still has the old 'unit' attribute"


def test_every_variable_has_cf_units_and_a_long_name(solved) -> None:  # type: ignore[no-untyped-def]
    _, result, ds = solved
    check_units_and_names(ds)
    for name in result.dataset.data_vars:
        assert ds[name].attrs.get("description"), f"{name} has no description"
    assert ds["line_q"].attrs["units"] == "kVA" and ds["line_q"].attrs["unit_label"] == "kvar"
    assert PLAIN.Quantity(1.0, ds["line_q"].attrs["units"]).to("W").magnitude == 1000.0
    assert ds["line_p"].attrs["family"] == "line ratings"
    assert "line" in ds["line_p"].attrs["description"]  # its source dimension, in words
    assert ds["cost"].attrs["units"] == "CNY"
    assert ds.attrs["Conventions"].startswith("CF-")
    assert ds.attrs["schema_version"] == SCHEMA_VERSION


def test_netcdf_round_trips(solved) -> None:  # type: ignore[no-untyped-def]
    """What xarray reads back is what was written: every variable, value and attribute."""
    _, result, ds = solved
    written = _netcdf_ready(result.dataset)  # booleans as int8, as written
    assert set(ds.variables) == set(written.variables)
    for name, var in written.variables.items():
        back = ds[name]
        assert back.dims == var.dims, name
        if var.dtype.kind in "OUS":
            assert [str(x) for x in np.ravel(back.values)] == \
                [str(x) for x in np.ravel(var.values)], name
        else:
            np.testing.assert_array_equal(back.values, var.values, err_msg=str(name))
        same_attrs(back.attrs, var.attrs, str(name))
    same_attrs(ds.attrs, written.attrs, "global")


def same_attrs(back: dict, written: dict, what: str) -> None:  # type: ignore[type-arg]
    """netCDF gives lists back as arrays and numbers as numpy scalars."""
    assert set(back) == set(written), what
    for key, value in written.items():
        assert np.array_equal(np.asarray(back[key]), np.asarray(value)), f"{what}.{key}"


def test_time_is_in_hours(solved) -> None:  # type: ignore[no-untyped-def]
    _, result, ds = solved
    assert list(ds["time"].values) == list(range(24))  # the step index stays the dim
    assert ds["hour"].attrs["units"] == "hours"
    np.testing.assert_allclose(ds["hour"].values, np.arange(24) * 1.0)
    assert list(ds["clock"].values[[0, 9, 17]]) == ["00:00", "09:00", "17:00"]
    assert float(ds["step_h"]) == 1.0 and ds["step_h"].attrs["units"] == "hours"
    v = result.summary["voltage"]["min"]
    assert v["clock"] == f"{v['time']:02d}:00" and v["hour"] == float(v["time"])
    assert result.summary["horizon"] == {"steps": 24, "step_h": 1.0}


def test_clock_labels() -> None:
    assert clock_labels(4, 0.25) == ["00:00", "00:15", "00:30", "00:45"]
    assert clock_labels(3, 12.0) == ["d1 00:00", "d1 12:00", "d2 00:00"]  # 36 h horizon
    assert clock_labels(96, 0.25)[-1] == "23:45"


def test_network_is_in_the_file(solved) -> None:  # type: ignore[no-untyped-def]
    model, _, ds = solved
    lines = model.network().lines
    assert list(ds["line"].values) == [ln.id for ln in lines]
    assert list(ds["line_from_bus"].values) == [ln.from_bus for ln in lines]
    assert list(ds["line_to_bus"].values) == [ln.to_bus for ln in lines]
    np.testing.assert_allclose(ds["line_r_ohm"].values, [ln.r_ohm for ln in lines])
    np.testing.assert_allclose(ds["line_x_ohm"].values, [ln.x_ohm for ln in lines])
    np.testing.assert_allclose(ds["line_rating_kva"].values, [ln.rating_kva for ln in lines])
    assert ds["line_r_ohm"].attrs["units"] == "ohm"
    assert "bus_x" not in ds  # feeder8 gives no coordinates
    # where each label is written: the line's row of the lines table
    assert ds["line_source"].values[0] == f"{lines[0].span.file}:{lines[0].span.line}"
    assert ds.attrs["slack_bus"] == "b1" and ds.attrs["base_kv"] == 10.0


def test_bus_coordinates_when_the_model_gives_them(tmp_path: Path) -> None:
    text = FEEDER8.read_text().replace("id  p[kW] q[kvar]", "id  p[kW] q[kvar] x[km] y[km]")
    for k in range(1, 9):
        text = re.sub(rf"(\n    b{k}  +\d+ +\d+)", rf"\1  {k}.5  {-k}", text, count=1)
    path = tmp_path / "feeder8_xy.grid"
    path.write_text(text, encoding="utf-8")
    ds = gridc.compile(gridc.load(path)).solve().dataset
    np.testing.assert_allclose(ds["bus_x"].values, [k + 0.5 for k in range(1, 9)])
    np.testing.assert_allclose(ds["bus_y"].values, [-k for k in range(1, 9)])
    assert ds["bus_x"].attrs["units"] == "km"


def test_inputs_are_in_the_file(solved) -> None:  # type: ignore[no-untyped-def]
    model, _, ds = solved
    day = next(p for p in model.profiles if p.name == "day").values
    tou = next(p for p in model.profiles if p.name == "tou").values
    # b2: 120 kW of bus load; b6: 100 kW plus the 80 kW hospital, all shaped by `day`
    demand = ds["bus_demand_p"].sel(scenario="storm")
    np.testing.assert_allclose(demand.sel(bus="b2").values, 120.0 * np.array(day))
    np.testing.assert_allclose(demand.sel(bus="b6").values, 180.0 * np.array(day))
    np.testing.assert_allclose(ds["load_demand_p"].sel(scenario="calm", load="pumps").values,
                               40.0 * np.array(day))
    np.testing.assert_allclose(ds["bus_demand_q"].sel(scenario="calm", bus="b7").values,
                               30.0 * np.array(day))  # 20 kvar + pumps 10 kvar
    np.testing.assert_allclose(ds["gen_energy_price"].sel(scenario="calm", gen="supply").values,
                               tou)
    assert ds["gen_energy_price"].attrs["units"] == "CNY/kWh"
    np.testing.assert_allclose(ds["gen_available_p"].sel(gen="supply").values, 2000.0)
    # the solution meets the demand it is shown with: supply = demand − shed (+ battery)
    assert float(ds["bus_shed_p"].sel(scenario="calm").sum()) == pytest.approx(0.0, abs=1e-6)


def test_cost_breakdown(solved) -> None:  # type: ignore[no-untyped-def]
    _, result, ds = solved
    assert list(ds["cost_term"].values) == list(result.costs)
    np.testing.assert_allclose(ds["cost"].values, list(result.costs.values()))
    assert set(ds["cost_basis"].values) == {"per day (expected)"}  # an operation model
    assert float(ds["cost"].sum()) == pytest.approx(result.objective, rel=1e-9)
    per_scenario = ds["cost_by_scenario"].sum("daily_term")
    assert float((per_scenario * ds["probability"]).sum()) == \
        pytest.approx(result.objective, rel=1e-9)


def test_costs_in_the_models_currency(tmp_path: Path) -> None:
    path = tmp_path / "feeder8_k.grid"
    path.write_text(FEEDER8.read_text().replace("currency CNY", "currency kCNY"),
                    encoding="utf-8")
    result = gridc.compile(gridc.load(path)).solve()
    ds = result.dataset
    assert result.summary["currency"] == {"unit": "kCNY", "cny_per_unit": 1000.0}
    assert ds["cost"].attrs["units"] == "kCNY"
    assert float(ds["cost"].sum()) == pytest.approx(result.objective / 1000.0, rel=1e-9)
    assert ds["gen_energy_price"].attrs["units"] == "kCNY/kWh"
    assert registry().Quantity(float(ds["cost"].sum()), "kCNY").to("CNY").magnitude == \
        pytest.approx(result.objective, rel=1e-9)  # the summary keeps CNY


def test_cf_units_of_block_units() -> None:
    assert cf_units("kvar") == ("kVA", "kvar")
    assert cf_units("p.u.²") == ("1", "p.u.²")
    assert cf_units("kW") == ("kW", None)
    for unit in ("", "kW", "kWh", "kvar", "p.u.", "p.u.²", "0/1", "units", "lines", "m²"):
        PLAIN.Unit(cf_units(unit)[0])


#: (case, formulation, model text): every family once under lindistflow (the blocks
#: are the same under both), distflow for its own blocks (line_l, the cone's)
CATALOGUE = [
    ("storage", lambda f: C.storage(f)),
    ("line flow penalty", lambda f: C.lines_losses(f) + "penalty loss 0.05 CNY/kWh\n"),
    ("reinforcement", lambda f: C.reinforcement(f, True)),
    ("topology", lambda f: C.topology(f, True)),
    ("dg annualised", lambda f: C.annualised(C.dg(f, True))),
    ("substation", lambda f: C.substation(f, True)),
    ("storage units", lambda f: C.storage_invest(f, True, unit=True)),
    ("mess", lambda f: C.mess(f, True)),
    ("ev_battery", lambda f: C.ev_battery(f, True)),
    ("losses", lambda f: C.lines_losses(f, "losses")),
]


CASES = [(name, "distflow" if name == "losses" else "lindistflow", make)
         for name, make in CATALOGUE] + [("storage", "distflow", CATALOGUE[0][1])]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_family_is_described(case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every variable block of every family (compiled, not solved: the attributes come
    from the block's metadata) has a long name of its own and units pint parses."""
    _, formulation, make = case
    compiled = gridc.compile(gridc.parse(make(formulation), tmp_path / "m.grid")).compiled
    for var in compiled.model.variables:
        block = compiled.blocks.get(var)
        if block is None:
            continue  # solver auxiliaries (cone levels): described from their family
        attrs = describe(var, unit=block.unit, family=block.family, source=block.source)
        assert long_name_of(var), f"{var}: no long name of its own (add it to LONG_NAMES)"
        assert attrs["long_name"] == long_name_of(var)
        PLAIN.Unit(attrs["units"])


def test_a_distflow_planning_file_is_described(tmp_path: Path) -> None:
    """Solved and written: the cone's auxiliaries and the plan's blocks too."""
    result = gridc.compile(gridc.parse(C.reinforcement("distflow", True),
                                       tmp_path / "m.grid")).solve()
    assert result.ok, result.message
    result.write(tmp_path / "out")
    with xr.open_dataset(tmp_path / "out" / "solution.nc") as ds:
        check_units_and_names(ds)
        assert ds["cost_basis"].sel(cost_term="installation") == "present value"
        assert ds["cost_basis"].sel(cost_term="maintenance") == "per year"


# ---------------------------------------------------------------------- the documentation

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reading-results.md"


def documented(section: str, until: str) -> set[str]:
    """Field names in the first column of the tables between two headings of the doc."""
    text = DOC.read_text(encoding="utf-8")
    part = text[text.index(section):text.index(until)]
    return {m.group(1) for m in re.finditer(r"^\| `([a-z_0-9]+)` \|", part, re.M)}


def _key(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) \
        else None


def _is_summary(node: ast.AST, names: set[str]) -> bool:
    return (isinstance(node, ast.Name) and node.id in names) or \
        (isinstance(node, ast.Attribute) and node.attr == "summary")


def written_keys(tree: ast.AST, names: set[str]) -> set[str]:
    """Top-level keys a module writes into a summary: `summary["k"] = ...` (also in
    tuple targets), `x.summary["k"] = ...`, `summary.setdefault("k", ...)`, the keys of
    a dict literal assigned to `summary`, and the `out["k"]` keys of a function whose
    result goes to `summary.update(f(...))`."""
    keys: set[str] = set()
    funcs = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = [t for tg in node.targets
                       for t in (tg.elts if isinstance(tg, ast.Tuple) else [tg])]
            if any(isinstance(t, ast.Name) and t.id in names for t in targets) and \
                    isinstance(node.value, ast.Dict):
                keys |= {k for k in map(_key, node.value.keys) if k}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.target.id in names and isinstance(node.value, ast.Dict):
            keys |= {k for k in map(_key, node.value.keys) if k}
        for t in targets:
            if isinstance(t, ast.Subscript) and _is_summary(t.value, names) and _key(t.slice):
                keys.add(str(_key(t.slice)))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and _is_summary(node.func.value, names) and node.args:
            if node.func.attr == "setdefault" and _key(node.args[0]):
                keys.add(str(_key(node.args[0])))
            arg = node.args[0]
            if node.func.attr == "update" and isinstance(arg, ast.Call) \
                    and isinstance(arg.func, ast.Name) and arg.func.id in funcs:
                keys |= written_keys(funcs[arg.func.id], {"out"})
    return keys


def code_keys(paths: list[Path], names: set[str]) -> set[str]:
    keys: set[str] = set()
    for path in paths:
        keys |= written_keys(ast.parse(path.read_text(encoding="utf-8")), names)
    return keys


def test_the_checker_finds_keys() -> None:
    tree = ast.parse('summary = {"a": 1}\nr.summary["b"] = 2\nds, summary["c"] = f()\n'
                     's.summary.setdefault("d", [])\n'
                     'def g():\n    out = {}\n    out["e"] = 1\n    return out\n'
                     'result.summary.update(g())\n')
    assert written_keys(tree, {"summary"}) == {"a", "b", "c", "d", "e"}


def test_the_doc_lists_every_summary_field() -> None:
    """docs/reading-results.md names every top-level key of summary.json that the code
    writes (runtime/ and cli/, read with ast), and of the PSO search's summary."""
    from gridc.runtime.ioutil import FILES_KEY

    results = ROOT / "runtime" / "results.py"  # where a plain `summary` is the result's
    paths = [p for p in [*ROOT.glob("runtime/**/*.py"), *ROOT.glob("cli/*.py")]
             if p.name != "pso.py" and p != results]
    solve = code_keys([results], {"summary"}) | code_keys(paths, set()) | {FILES_KEY}
    assert {"status", "objective", "gap", "voltage", "network", "planning_items",
            "tables", "schema_version"} <= solve  # the checker sees what it should
    listed = documented("## summary.json", "### summary.json of a PSO search")
    assert not solve - listed, f"summary fields missing from {DOC.name}: {solve - listed}"
    pso = code_keys([ROOT / "cli" / "pso.py"], {"out", "data"}) | {FILES_KEY}
    assert {"pso", "certify", "fix"} <= pso
    listed_pso = documented("### summary.json of a PSO search", "## solution.nc")
    assert not pso - listed_pso, f"PSO summary fields missing: {pso - listed_pso}"


def test_a_solved_summary_is_documented(solved) -> None:  # type: ignore[no-untyped-def]
    _, result, _ = solved
    listed = documented("## summary.json", "### summary.json of a PSO search")
    assert not set(result.summary) - listed
    assert result.summary["schema_version"] == SCHEMA_VERSION


def test_the_doc_lists_every_variable_gridc_adds(solved) -> None:  # type: ignore[no-untyped-def]
    """Every data variable and coordinate of solution.nc that is not a model block is
    in the doc's table or coordinate list (the blocks are in docs/python-api.md)."""
    _, _, ds = solved
    text = DOC.read_text(encoding="utf-8")
    blocks = set(gridc.compile(gridc.load(FEEDER8)).model.variables)
    added = {str(v) for v in ds.variables} - blocks - set(map(str, ds.dims))
    missing = sorted(v for v in added if f"`{v}`" not in text
                     and not v.startswith("ac_"))  # the AC check: docs/ac-check.md
    assert not missing, f"variables of solution.nc missing from {DOC.name}: {missing}"


def test_the_doc_examples_run(solved, tmp_path: Path,  # type: ignore[no-untyped-def]
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The ```python blocks of the doc, in order, on feeder8 written to out/f8."""
    import matplotlib

    matplotlib.use("Agg")
    _, result, _ = solved
    result.write(tmp_path / "out" / "f8")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    for k, code in enumerate(blocks):
        exec(compile(code, f"{DOC.name} python block {k + 1}", "exec"), namespace)
    ds = namespace["ds"]
    assert isinstance(ds, xr.Dataset) and "cost" in ds
    ds.close()
