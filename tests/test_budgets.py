"""Resource budgets (dsl/budgets.py, docs/untrusted-models.md): what a model will cost is
estimated before anything is built, and a model over the budget is refused at the
statement that makes it large (GRID051); tables hold a bounded number of rows (GRID052),
read by a lean CSV reader (the standard `csv` module: quoted cells, a clear message for
`;` or tab separators); value ranges (dsl/ranges.py) and what studies change
(dsl/variants.py) are held to the same rules as the model.

The size estimate is compared with the compiled model of every catalogue family under
both formulations and of the small fixtures: within a factor of two of the variables,
rows and nonzeros, so a compiler change that moves the sizes shows up here.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import catalogue as C
import pytest

import gridc
from gridc.cli.main import main
from gridc.compiler import compile_model
from gridc.data.economics import item_coefficients
from gridc.dsl import GridError, ir, parse
from gridc.dsl.budgets import (
    BASE_MB,
    MAX_MEMORY_ENV,
    MAX_TABLE_ROWS_ENV,
    Budget,
    estimate,
)
from gridc.dsl.checks import _ref_help

ROOT = Path(__file__).resolve().parents[1]
FEEDER8 = ROOT / "tests" / "models" / "feeder8.grid"
FEEDER8_PV = ROOT / "tests" / "models" / "feeder8_pv.grid"


def errors(text: str, path: Path | str = ROOT / "tests" / "x.grid", **limits: float
           ) -> list[tuple[str, str, int]]:
    """(code, message, line) of every error of `text` (warnings left out), [] if it is
    valid."""
    try:
        parse(text, path, **limits)  # type: ignore[arg-type]
    except GridError as exc:
        return [(d.code, d.message, d.span.line) for d in exc.diagnostics
                if d.severity == "error"]
    return []


def line_of(text: str, part: str) -> int:
    return text[: text.index(part)].count("\n") + 1


# ------------------------------------------------------------------ the size estimate


def compiled_size(model: ir.Model, study: str | None = None) -> tuple[int, int, int]:
    """(variables, rows, nonzeros) of the compiled linopy model."""
    lm = compile_model(model, study=study).model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # linopy: .vars rebuilds the dataset (slow, fine)
        nonzeros = sum(int((lm.constraints[n].vars.values >= 0).sum()) for n in lm.constraints)
    return lm.nvars, lm.ncons, nonzeros


CATALOGUE = [(f"{family}/{f}", C.PROPERTY_BASE + f"formulation {f}\n" + snippet)
             for family, snippet in C.SNIPPETS.items() for f in C.FORMULATIONS]
CATALOGUE += [(f"all/{f}", C.PROPERTY_BASE + f"formulation {f}\n" + "".join(C.SNIPPETS.values()))
              for f in C.FORMULATIONS]


@pytest.mark.parametrize("text", [t for _, t in CATALOGUE], ids=[n for n, _ in CATALOGUE])
def test_estimate_is_within_a_factor_two_of_the_compiled_model(text: str) -> None:
    m = parse(text, ROOT / "tests" / "catalogue.grid")
    est = estimate(m, m.studies[0] if m.studies else None)
    assert est is not None
    actual = compiled_size(m)
    guess = (est.size.variables, est.size.rows, est.size.nonzeros)
    for what, a, g in zip(("variables", "rows", "nonzeros"), actual, guess):
        assert a / 2 <= g <= 2 * a, f"{what}: estimated {g:.0f}, compiled {a}"


@pytest.mark.parametrize("path,study", [(FEEDER8, None), (FEEDER8_PV, None),
                                        (ROOT / "models" / "ieee33_operation.grid", None),
                                        (ROOT / "models" / "ieee33_reconfig.grid", None)])
def test_estimate_of_fixtures_and_shipped_models(path: Path, study: str | None) -> None:
    m = gridc.load(path)
    est = estimate(m, None if not m.studies else m.studies[0])
    assert est is not None
    actual = compiled_size(m, study)
    for a, g in zip(actual, (est.size.variables, est.size.rows, est.size.nonzeros)):
        assert a / 2 <= g <= 2 * a, (path.name, actual, est.size)


def test_estimate_grows_with_steps_scenarios_and_formulation() -> None:
    """Steps and scenarios multiply the per-cell width; DistFlow's cones widen it."""
    base = FEEDER8.read_text(encoding="utf-8")
    e24 = estimate(parse(base, FEEDER8))
    assert e24 is not None and e24.steps == 24 and e24.scenarios == 2
    e_dist = estimate(parse(base + "formulation distflow\n", FEEDER8))
    assert e_dist is not None
    # 7 polygon cones a step, and the rating polygon at both ends of each line
    assert e_dist.cell.nonzeros > 5 * e24.cell.nonzeros
    assert e_dist.counts["rating_face"] == 2 * e24.counts["rating_face"]
    assert e24.size.nonzeros == pytest.approx(e24.cell.nonzeros * 24 * 2 + e24.static.nonzeros)
    e400 = estimate(parse(feeder(scenarios=400), FEEDER8))
    assert e400 is not None and e400.size.nonzeros == pytest.approx(
        200 * e24.size.nonzeros, rel=0.01)


def test_memory_estimate_bounds_the_measured_peak(tmp_path: Path) -> None:
    """Build and solve (to optimality, one HiGHS thread: a run that does not depend on
    the clock or the machine's load) a 300-bus feeder over 24 steps and 4 scenarios in a
    child process: its peak resident memory lies below the estimate, and the estimate is
    less than three times the peak."""
    code = r"""
import resource, sys, math
import gridc
n, steps, scen = 300, 24, 4
buses = "\n".join(f"    b{i} {10 + i % 7} {3 + i % 5}" for i in range(1, n + 1))
lines = "\n".join(f"    b{max(1, (i - 1) // 2)} b{i} 0.1 0.05 2000" for i in range(2, n + 1))
prof = ", ".join(f"{0.6 + 0.4 * math.sin(t / 4):.3f}" for t in range(steps))
sc = "\n".join("  scenario s%d { probability %r }" % (k, 1 / scen) for k in range(scen))
text = (f"model m\nhorizon {steps} h step 1 h\nnetwork n {{\n  base 10 kV 1 MVA\n  slack b1\n"
        f"  voltage 0.9 .. 1.1 pu\n  load_profile day\n  buses table {{\n    id p[kW] q[kvar]\n"
        f"{buses}\n  }}\n  lines table {{\n    from to r[ohm] x[ohm] rating[kVA]\n"
        f"{lines}\n  }}\n}}\n"
        f"profile day = [{prof}]\nprice grid 0.5 CNY/kWh\npenalty shed 10 CNY/kWh\n"
        "storage bat at b2 { power 100 kW, energy 400 kWh }\n"
        f"scenarios all {{\n{sc}\n}}\n")
from gridc.dsl.budgets import estimate
m = gridc.parse(text, sys.argv[1])
print(estimate(m).memory_mb)
gridc.compile(m).solve(threads=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.grid")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    estimated, peak = (float(x) for x in done.stdout.split()[-2:])
    assert peak > BASE_MB / 2  # the measurement is a real one
    assert peak <= estimated <= 3 * peak, (estimated, peak)


# ------------------------------------------------------------------ GRID051


def feeder(steps: int = 24, scenarios: int = 2, extra: str = "") -> str:
    text = FEEDER8.read_text(encoding="utf-8")
    text = text.replace("horizon 24 h step 1 h", f"horizon {steps} h step 1 h")
    if steps != 24:  # profiles of the fixture have 24 values: drop them
        text = text.replace("  load_profile day\n", "").replace(
            "price grid profile tou", "price grid 0.5 CNY/kWh")
        cut = text.index("// load shape")
        text = text[:cut] + text[text.index("generator supply"):]
    if scenarios != 2:
        cut = text.index("scenarios storm {")
        body = "\n".join(f"  scenario s{k} {{ probability {1 / scenarios!r} }}"
                         for k in range(scenarios))
        text = text[:cut] + f"scenarios storm {{\n{body}\n}}\n"
    return text + extra


def test_a_million_steps_is_refused_at_the_horizon() -> None:
    text = feeder(steps=1_000_000)
    found = errors(text, FEEDER8)
    assert [c for c, _, _ in found] == ["GRID051"]
    _, message, line = found[0]
    assert line == line_of(text, "horizon 1000000 h")
    assert "1,000,000 steps x 2 scenarios" in message and "GiB" in message
    assert "8 buses" in message and "7 lines" in message


def test_many_scenarios_are_refused_at_the_scenario_set() -> None:
    text = feeder(scenarios=400)
    assert errors(text, FEEDER8) == []  # fits the default budget
    found = errors(text, FEEDER8, max_memory_mb=512)
    assert [c for c, _, _ in found] == ["GRID051"]
    assert found[0][2] == line_of(text, "scenarios storm {")
    assert "24 steps x 400 scenarios" in found[0][1] and "512 MiB" in found[0][1]


def test_a_study_over_the_budget_is_named_and_blamed_where_it_grows() -> None:
    """The model fits; its DistFlow study does not: refused at the study's formulation."""
    text = feeder(extra="study wide { formulation distflow }\nstudy narrow {}\n")
    est = estimate(parse(text, FEEDER8))
    assert est is not None
    limit = est.memory_mb + 1  # LinDistFlow fits, DistFlow's cones do not
    found = errors(text, FEEDER8, max_memory_mb=limit)
    assert [c for c, _, _ in found] == ["GRID051"]
    assert found[0][1].startswith("study 'wide' needs about")
    assert found[0][2] == line_of(text, "study wide")


def test_a_long_ev_forecast_is_refused_at_its_days() -> None:
    """100,000 simulated days of 100,000 vehicles: refused where `days` is written."""
    path = ROOT / "models" / "css_adn_area.grid"
    text = path.read_text(encoding="utf-8").replace("  days 500\n", "  days 100000\n")
    text = text.replace("per_day 200", "per_day 100000")
    found = errors(text, path)
    assert [c for c, _, _ in found] == ["GRID051"]
    assert found[0][2] == line_of(text, "  days 100000")
    assert "20,000,000,000 simulated vehicle-days" in found[0][1]
    assert errors(path.read_text(encoding="utf-8"), path) == []


def test_the_budget_is_raised_by_environment_and_cli(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    path = tmp_path / "many.grid"
    path.write_text(feeder(scenarios=400), encoding="utf-8")
    monkeypatch.setenv(MAX_MEMORY_ENV, "512")
    assert main(["check", str(path)]) == 1
    assert "error[GRID051]" in capsys.readouterr().err
    monkeypatch.setenv(MAX_MEMORY_ENV, "65536")
    assert main(["check", str(path)]) == 0
    assert gridc.load(path, max_memory_mb=65536).name == "feeder8"  # the call wins
    with pytest.raises(GridError):
        gridc.load(path, max_memory_mb=512)
    monkeypatch.setenv(MAX_MEMORY_ENV, "lots")
    assert main(["check", str(path)]) == 2
    assert "GRIDC_MAX_MEMORY_MB must be a positive number" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_memory_mb"):
        Budget.resolve(memory_mb=-1)


# ------------------------------------------------------------------ GRID052 and the reader


def network(buses: str, lines: str = "") -> str:
    return ("network n {\n  base 10 kV 1 MVA\n  slack 1\n" + f"  buses {buses}\n"
            + (f"  lines {lines}\n" if lines else "") + "}\n")


def test_tables_of_a_model_share_the_row_budget(tmp_path: Path) -> None:
    (tmp_path / "buses.csv").write_text("id,p[kW]\n" + "".join(f"{i},1\n" for i in
                                                             range(1, 61)), encoding="utf-8")
    (tmp_path / "lines.csv").write_text("from,to,r[ohm],x[ohm]\n" + "".join(
        f"{i - 1},{i},0.1,0.1\n" for i in range(2, 61)), encoding="utf-8")
    text = network('from "buses.csv"', 'from "lines.csv"')
    assert errors(text, tmp_path / "m.grid", max_table_rows=200) == []
    found = errors(text, tmp_path / "m.grid", max_table_rows=100)
    assert [(c, ln) for c, _, ln in found] == [("GRID052", line_of(text, "lines from"))]
    assert "the 40 rows left of the 100 rows" in found[0][1]
    found = errors(text, tmp_path / "m.grid", max_table_rows=50)
    assert found[0][0] == "GRID052" and "more than 50 rows" in found[0][1]


def test_inline_tables_count_too() -> None:
    rows = "".join(f"    {i}\n" for i in range(1, 31))
    text = network("table {\n    id\n" + rows + "  }")
    found = errors(text, max_table_rows=20)
    assert [c for c, _, _ in found] == ["GRID052"]


def test_a_profile_file_may_be_as_long_as_a_horizon(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("load\n" + "0.5\n" * 500, encoding="utf-8")
    text = "horizon 500 h step 1 h\nprofile day from \"p.csv\" column load\n"
    assert errors(text, tmp_path / "m.grid", max_table_rows=10) == []


def test_csv_reader_reads_quoted_cells(tmp_path: Path) -> None:
    """RFC 4180 quoting (issue 13): a header cell, a bus name with a comma, a doubled
    quote, a `#` inside quotes that is no comment."""
    (tmp_path / "buses.csv").write_text(
        '"id","p[kW]"\n"a, north",10\n"b ""quoted""",20\n"c#3",5  # a comment\n',
        encoding="utf-8")
    (tmp_path / "lines.csv").write_text(
        'from,to,r[ohm],x[ohm]\n"a, north","b ""quoted""",0.1,0.1\n'
        '"b ""quoted""","c#3",0.1,0.1\n', encoding="utf-8")
    text = network('from "buses.csv"', 'from "lines.csv"').replace("slack 1",
                                                                    'slack "a, north"')
    m = parse(text, tmp_path / "m.grid")
    assert [b.id for b in m.networks[0].buses] == ["a, north", 'b "quoted"', "c#3"]
    assert [b.p_kw for b in m.networks[0].buses] == [10.0, 20.0, 5.0]
    assert m.networks[0].lines[1].to_bus == "c#3"


@pytest.mark.parametrize("sep,name", [(";", "semicolons (;)"), ("\t", "tabs")])
def test_other_separators_are_named(tmp_path: Path, sep: str, name: str) -> None:
    (tmp_path / "buses.csv").write_text(f"id{sep}p[kW]\n1{sep}0,5\n", encoding="utf-8")
    found = errors(network('from "buses.csv"'), tmp_path / "m.grid")
    assert [c for c, _, _ in found] == ["GRID030"]
    assert f"separated by {name}, not by commas" in found[0][1]


def test_a_bad_cell_points_at_its_column(tmp_path: Path) -> None:
    (tmp_path / "buses.csv").write_text('id,p[kW]\n1,0\n"two, 2",1O0\n', encoding="utf-8")
    with pytest.raises(GridError) as info:
        parse(network('from "buses.csv"'), tmp_path / "m.grid")
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.col) == ("GRID031", 3, 10)
    assert d.message == "'1O0' is not a number (column 'p')"


def test_broken_rows_are_reported_up_to_a_bound(tmp_path: Path) -> None:
    """A file of 5,000 rows of the wrong width: 20 reported and one that counts the rest."""
    (tmp_path / "buses.csv").write_text("id,p[kW]\n" + "1,2,3\n" * 5000, encoding="utf-8")
    found = errors(network('from "buses.csv"'), tmp_path / "m.grid")
    assert len(found) == 21
    assert found[-1] == ("GRID034", "4,980 more rows have the wrong number of cells (the "
                         "first 20 are shown)", 22)


def test_reading_a_csv_costs_a_small_multiple_of_the_file(tmp_path: Path) -> None:
    """A 200,000-step profile file (2.5 MB, 12 bytes a row): reading it to the IR
    allocates at most 12 times the file at the peak (measured 8.5: the text, and the
    200,000 numbers at 32 bytes each, twice while pydantic validates them; the reader
    before took 110 times the file), in seconds."""
    n = 200_000
    csv_text = "t,load\n" + "".join(f"{t},0.{t % 1000:03d}\n" for t in range(n))
    (tmp_path / "p.csv").write_text(csv_text, encoding="utf-8")
    text = f"horizon {n} h step 1 h\nprofile day from \"p.csv\" column load\n"
    tracemalloc.start()
    started = time.perf_counter()
    try:
        m = parse(text, tmp_path / "m.grid")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert len(m.profiles[0].values) == n and m.profiles[0].values[123] == 0.123
    assert peak < 12 * len(csv_text), peak / len(csv_text)
    assert elapsed < 30


# ------------------------------------------------------------------ ranges and variants


@pytest.mark.parametrize("change,expected", [
    ("economics { currency CNY, discount 8 %, life 20 y, days_per_year 365 }",
     None),
    ("economics { currency CNY, discount 8 %, life 1e-300 y, days_per_year 365 }",
     "economics: life must be 0.1 .. 200 y, found 1e-300 y"),
    ("economics { currency CNY, discount 8 %, life 1e308 y, days_per_year 365 }",
     "economics: life must be 0.1 .. 200 y, found 1e+308 y"),
])
def test_lives_are_held_to_their_range(change: str, expected: str | None) -> None:
    text = FEEDER8.read_text(encoding="utf-8")
    old = "economics { currency CNY, discount 8 %, life 20 y, days_per_year 365 }"
    found = errors(text.replace(old, change), FEEDER8)
    assert [m for _, m, _ in found] == ([] if expected is None else [expected])


@pytest.mark.parametrize("old,new,message", [
    ("voltage 0.93 .. 1.07 pu", "voltage 0.93 .. 1e300 pu",
     "network 'feeder8': voltage must be at most 2 pu, found 1e+300 pu"),
    ("base 10 kV 1 MVA", "base 1e-300 kV 1 MVA",
     "network 'feeder8': base voltage must be 0.0001 .. 1,000 kV, found 1e-300 kV"),
    ("penalty shed 5 CNY/kWh", "study s { threads 100000 }\npenalty shed 5 CNY/kWh",
     "study 's': threads must be 1 .. 256, found 100000"),
    ("horizon 24 h step 1 h", "horizon 24 h step 1e-9 h",
     "horizon: step must be 0.000277778 .. 8,760 h, found 1e-09 h"),
])
def test_extreme_numbers_are_refused_with_their_range(old: str, new: str, message: str
                                                      ) -> None:
    text = FEEDER8.read_text(encoding="utf-8").replace(old, new)
    found = errors(text, FEEDER8)
    assert message in [m for _, m, _ in found], found


def test_overrides_are_checked_on_the_model_as_the_chain_leaves_it() -> None:
    text = FEEDER8.read_text(encoding="utf-8") + (
        "study s { set bat.soc_min 0.95 }\n"
        "study p { set bat.soc_max 0.95 }\n"
        "study c extends p { set bat.soc_min 0.92 }\n"
        "study ok extends p { set bat.soc_init 0.93 }\n")
    found = errors(text, FEEDER8)
    assert [(c, ln) for c, _, ln in found] == [("GRID048", line_of(text, "study s")),
                                              ("GRID048", line_of(text, "study c"))]
    assert "soc_min 0.95 exceeds soc_max 0.9" in found[0][1]
    assert "soc_init 0.9 lies outside soc 0.92 .. 0.95" in found[1][1]


def test_fixed_plans_are_held_to_their_investment() -> None:
    text = (ROOT / "tests" / "bad" / "fix_over_count.grid").read_text(encoding="utf-8")
    found = errors(text, ROOT / "tests" / "bad" / "fix_over_count.grid")
    assert [c for c, _, _ in found] == ["GRID053"] * 3
    fine = text.replace("fix harden [1-2, 2-3]", "fix harden [2-3]").replace(
        "fix mess.M2 1", "fix mess.M1 1").replace("fix mess.M1 3", "fix mess.M1 2")
    assert errors(fine, ROOT / "tests" / "bad" / "fix_over_count.grid") == []


# ------------------------------------------------------------------ the loops that were


def test_replacements_are_summed_in_closed_form() -> None:
    """A life of 1e-300 y once looped over 10^301 renewals: now a ValueError at once;
    ordinary lives give the same coefficients as the year-by-year sum."""
    started = time.perf_counter()
    with pytest.raises(ValueError, match="renewed more than"):
        item_coefficients(1000.0, 0.0, 1e-300, 0.08, 30.0)
    assert time.perf_counter() - started < 1.0
    for life, rate, years in ((10, 0.08, 30), (7, 0.05, 30), (0.3, 0.08, 20), (10, 0.0, 30)):
        n = max(0, math.ceil(years / life - 1e-9) - 1)
        by_year = sum(1000.0 * (1 + rate) ** (-k * life) for k in range(1, n + 1))
        got = item_coefficients(1000.0, 0.0, life, rate, years).replacement
        assert got == pytest.approx(by_year, rel=1e-12)


def test_help_for_an_unknown_bus_next_to_a_huge_id_is_cheap() -> None:
    """'did you mean' once listed 1 .. 99,999,999 (3.99 GB) to compare numbers."""
    known = {str(i) for i in range(1, 33)} | {"99999999"}
    tracemalloc.start()
    try:
        hint = _ref_help("bus", "34", known)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert hint.startswith("valid buses: 1, 2, 3")
    assert peak < 1_000_000
    assert _ref_help("bus", "34", {str(i) for i in range(1, 34)}) == \
        "the buses are numbered 1 .. 33"


def test_bus_ids_beyond_64_bits_are_exact(tmp_path: Path) -> None:
    """An id of 2^63 and one of 23 digits: written in a table and after `at`, they stay
    the same text (they were rounded through a float), and the model solves."""
    big, huge = str(2**63), "9" * 23
    text = (f"horizon 2 h step 1 h\nnetwork n {{\n  base 10 kV 1 MVA\n  slack {big}\n"
            f"  buses table {{\n    id p[kW]\n    {big} 0\n    2 10\n    {huge} 5\n  }}\n"
            f"  lines table {{\n    from to r[ohm] x[ohm]\n    {big} 2 0.1 0.1\n"
            f"    2 {huge} 0.1 0.1\n  }}\n}}\nload l at {huge} {{ p 10 kW }}\n"
            "penalty shed 10 CNY/kWh\nprice grid 0.5 CNY/kWh\n")
    path = tmp_path / "ids.grid"
    path.write_text(text, encoding="utf-8")
    m = gridc.load(path)
    assert m.loads[0].bus == huge and m.networks[0].slack_bus == big
    result = gridc.compile(m).solve(time_limit=60)
    assert result.ok


def test_threads_on_the_command_line_are_a_usage_error(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    assert main(["solve", str(FEEDER8), "--threads", "100000"]) == 2
    assert "threads must lie within 1 .. 256" in capsys.readouterr().err
    assert main(["solve", str(FEEDER8), "--seed", str(2**63)]) == 2


def test_limits_from_the_environment_are_validated(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]
                                                   ) -> None:
    for env in (MAX_TABLE_ROWS_ENV, "GRIDC_MAX_GRID_KB"):
        monkeypatch.setenv(env, "0")
        assert main(["check", str(FEEDER8)]) == 2
        assert env in capsys.readouterr().err
        monkeypatch.delenv(env)


@pytest.mark.parametrize(("argv", "message"), [
    (["solve", str(FEEDER8), "--workers", "0"], "workers must lie within 1 .. 1,024"),
    (["solve", str(FEEDER8), "--workers", "100000"], "workers must lie within 1 .. 1,024"),
    (["solve", str(FEEDER8), "--particles", "0"], "particles must lie within 1 .. 10,000"),
    (["solve", str(FEEDER8), "--iterations", "10000000"],
     "iterations must lie within 1 .. 100,000"),
    (["forecast", str(FEEDER8), "--days", "1000000"], "days must lie within 1 .. 100,000"),
    (["sweep", str(FEEDER8), "cases", "--workers", "-3"], "workers must lie within 1 .. 1,024"),
])
def test_counts_on_the_command_line_are_bounded(argv: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A count on the command line that no machine could honour (a million simulated
    days, 10^5 worker processes) is a usage error before anything is read, like the same
    count written in a model (GRID023)."""
    assert main(argv) == 2
    assert message in capsys.readouterr().err
