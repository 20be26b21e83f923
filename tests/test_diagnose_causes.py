"""`--diagnose` names causes, not symptoms (issue #12): the `.grid` lines whose relaxation
restores feasibility at least cost — a supply limit, a `set` override, the slack voltage,
a line rating, a substation's capacity, a `fix` — each with its line, a caret and the
change in the user's units, before the buses where the shortfall shows.

Every model here is a 4-bus feeder (12.66 kV, 10 MVA base; Z_base = 16.03 ohm) without
shedding (demand is hard), two steps of one hour, no load profile:

    bus 2: 100 kW + 50 kvar, bus 3: 80 kW + 40 kvar, bus 4: 60 kW + 0 kvar
    lines 1-2 (0.1 + j0.05 ohm), 2-3 and 2-4 (0.2 + j0.1 ohm each)

so the import is 240 kW + 90 kvar at both steps under (lossless) LinDistFlow.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gridc.cli.main import main
from gridc.cli.studies import sweep_model
from gridc.compiler import compile_model
from gridc.dsl import parse
from gridc.runtime.diagnose import CauseFinding, diagnose

FEEDER = """model tiny
horizon 2 h step 1 h
network feeder {
  base 12.66 kV 10 MVA
  slack 1 at SLACK pu
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
LOAD_KW = 100 + 80 + 60


def feeder(extra: str = "", *, slack: str = "1.0", vlim: str = "0.9 .. 1.1",
           rating: str = "500") -> str:
    return (FEEDER.replace("SLACK", slack).replace("VLIM", vlim).replace("RATING", rating)
            + extra)


def at(text: str, needle: str, name: str) -> str:
    """file:line:col of the first occurrence of `needle` in `text`."""
    lines = text.splitlines()
    row = next(k for k, ln in enumerate(lines, start=1) if needle in ln)
    return f"{name}:{row}:{lines[row - 1].index(needle) + 1}"


def write(tmp_path: Path, text: str, name: str = "tiny.grid") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def first(text: str, study: str | None = None, name: str = "tiny.grid") -> CauseFinding:
    diag = diagnose(parse(text, name), study=study)
    assert diag.status.ok
    assert diag.causes, diag.findings
    assert [c.rank for c in diag.causes] == list(range(1, len(diag.causes) + 1))
    return diag.causes[0]


# ---------------------------------------------------------------------- supply limits


def test_import_limit_is_the_first_cause(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """p_max 200 kW against 240 kW of load (lossless, no shedding): the import is
    LOAD_KW − 200 = 40 kW short at both steps, and no other statement can supply it
    (the only other source of power would be a nodal-balance slack, a symptom)."""
    text = feeder("generator supply : grid at 1 { p_max 200 kW }\n")
    path = write(tmp_path, text)
    assert main(["solve", str(path)]) == 1
    assert "--diagnose" in capsys.readouterr().out  # the hint of an infeasible solve
    assert main(["solve", str(path), "--diagnose"]) == 1
    out = capsys.readouterr().out
    where = at(text, "p_max 200 kW", str(path))
    assert where in out
    assert "generator supply: raise p_max from 200 kW to 240 kW (+40 kW)" in out
    assert "generator supply : grid at 1 { p_max 200 kW }" in out  # the source line
    caret = out.splitlines()[out.splitlines().index(
        next(ln for ln in out.splitlines() if "| generator supply" in ln)) + 1]
    assert caret.strip().endswith("^" * len("p_max 200 kW"))
    assert out.index("causes:") < out.index("symptoms") < out.index("nodal balance")

    cause = first(text)
    assert (cause.kind, cause.subject, cause.unit) == ("supply limit", "generator supply", "kW")
    assert cause.change == pytest.approx(LOAD_KW - 200, abs=1e-6)
    assert cause.sufficient and cause.option == 1
    assert cause.steps == (0, 1) and cause.scenarios == ("base",)


def test_import_limit_under_distflow_includes_the_losses() -> None:
    """Under DistFlow the import also carries the losses: more than 40 kW is missing, and
    the first cause is the same line."""
    text = feeder("formulation distflow\ngenerator supply : grid at 1 { p_max 200 kW }\n")
    cause = first(text)
    assert cause.where == at(text, "p_max 200 kW", "tiny.grid")
    assert LOAD_KW - 200 < cause.change < LOAD_KW - 200 + 5


def test_substation_capacity_is_a_supply_limit() -> None:
    """A substation at the slack bus with a single 100 kVA rating, no capacity of its own,
    load rate and power factor 100 %: the import may reach 100 kW, 140 kW short."""
    text = feeder("invest sub : substation at 1 {\n  ratings [100] kVA\n  existing 0 kVA\n"
                  "  load_rate 100 %\n  power_factor 100 %\n  install 100 CNY/kVA\n"
                  "  life 20 y\n}\n")
    cause = first(text)
    assert (cause.kind, cause.subject) == ("supply limit", "substation sub")
    assert cause.where == at(text, "existing 0 kVA", "tiny.grid")
    assert cause.change == pytest.approx(LOAD_KW - 100, abs=1e-6)


def test_line_rating_is_the_first_cause() -> None:
    """Line 1-2 rated 200 kVA carries all 240 kW (and 90 kvar, within the box): its
    rating is 40 kVA short."""
    text = feeder(rating="200")
    cause = first(text)
    assert (cause.kind, cause.subject) == ("line rating", "line 1-2")
    assert cause.where == at(text, "1    2  0.1", "tiny.grid")
    assert cause.change == pytest.approx(40.0, abs=1e-6)


# ---------------------------------------------------------------------- overrides


def test_set_override_is_named_not_the_generator(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The generator's own p_max (2000 kW) is ample; the study's `set supply.p_max_kw 150`
    makes the model infeasible: 240 − 150 = 90 kW short, and the cause is the `set` line."""
    text = feeder("generator supply : grid at 1 { p_max 2000 kW }\n"
                  "study base {}\nstudy tight extends base { set supply.p_max_kw 150 }\n")
    cause = first(text, study="tight")
    assert cause.where == at(text, "set supply.p_max_kw 150", "tiny.grid")
    assert cause.via_set
    assert cause.change == pytest.approx(LOAD_KW - 150, abs=1e-6)
    path = write(tmp_path, text)
    assert main(["solve", str(path), "--study", "tight", "--diagnose"]) == 1
    out = capsys.readouterr().out
    assert "raise p_max from 150 kW to 240 kW (+90 kW) (written by a `set` override)" in out
    assert "study tight extends base { set supply.p_max_kw 150 }" in out


def test_sweep_case_override_is_named() -> None:
    """A sweep case's `set` is the cause of that case (100 kW: 140 kW short)."""
    text = feeder("generator supply : grid at 1 { p_max 2000 kW }\nstudy base {}\n"
                  "sweep caps over base {\n  case ample { set supply.p_max_kw 1000 }\n"
                  "  case low { set supply.p_max_kw 100 }\n}\n")
    swept, names, labels = sweep_model(parse(text, "tiny.grid"), "caps")
    assert labels == ["ample", "low"]
    diag = diagnose(swept, study=names[1])
    assert diag.causes[0].where == at(text, "set supply.p_max_kw 100 }", "tiny.grid")
    assert diag.causes[0].change == pytest.approx(LOAD_KW - 100, abs=1e-6)


# ---------------------------------------------------------------------- voltage


def test_slack_voltage_too_low_is_named_in_pu(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Slack at 0.93 p.u. under a band of 0.95 .. 1.05 p.u.: LinDistFlow drops
    w_i − w_j = 2 (r P + x Q) / (1000 kV²), to bus 3 (the farthest):
    2 (0.1·240 + 0.05·90) / (1000·12.66²) + 2 (0.2·80 + 0.1·40) / (1000·12.66²)
    = 97 / 160,275.6 p.u.², so the slack must be at least √(0.95² + 97/160,275.6)
    = 0.950318 p.u.: +0.020318 p.u. (one number, cheaper than lowering the band at
    three buses, which is the second option)."""
    text = feeder(slack="0.93", vlim="0.95 .. 1.05")
    needed = math.sqrt(0.95 ** 2 + 97 / (1000 * 12.66 ** 2))
    diag = diagnose(parse(text, "tiny.grid"))
    cause = diag.causes[0]
    assert (cause.kind, cause.unit) == ("slack voltage", "p.u.")
    assert cause.where == at(text, "slack 1 at 0.93 pu", "tiny.grid")
    assert cause.change == pytest.approx(needed - 0.93, abs=1e-5)
    second = next(c for c in diag.causes if c.option == 2)
    assert (second.kind, second.subject) == ("voltage limits", "network feeder")
    assert second.where == at(text, "voltage 0.95 .. 1.05 pu", "tiny.grid")

    path = write(tmp_path, text)
    assert main(["solve", str(path), "--diagnose"]) == 1
    out = capsys.readouterr().out
    causes = out[out.index("causes:"):out.index("symptoms")]
    assert f"raise slack voltage from 0.9300 p.u. to {needed:.4f} p.u." in causes
    assert "p.u.²" not in out  # voltages in p.u., never squared


def test_slack_voltage_set_by_a_study() -> None:
    """`set network.slack_v_pu 0.93` in a study: the `set` line is the cause."""
    text = feeder("study low { set network.slack_v_pu 0.93 }\n", vlim="0.95 .. 1.05")
    cause = first(text, study="low")
    assert cause.kind == "slack voltage" and cause.via_set
    assert cause.where == at(text, "set network.slack_v_pu 0.93", "tiny.grid")


# ---------------------------------------------------------------------- fixes

# b1 — b2 — b3 with 100 kW at b2 and at b3; the storm (probability 1) takes both lines
# out all day; reinforcement keeps a line in service. Without the storm no line needs it.
FIXED = """model fixed
horizon 2 h step 1 h
economics { discount 8 %, life 20 y, days_per_year 365 }
network n {
  base 10 kV 1 MVA
  slack b1 at 1.0 pu
  voltage 0.8 .. 1.2 pu
  buses table {
    id  p[kW]
    b1  0
    b2  100
    b3  100
  }
  lines table {
    from  to  r[ohm]  x[ohm]  rating[kVA]
    b1  b2  0  1  2000
    b2  b3  0  1  2000
  }
}
price grid 0.5 CNY/kWh
STORM
invest r1 : reinforcement {
  candidates [b1-b2, b2-b3], count 0 .. COUNT, install 100 kCNY, life 20 y
}
study plan { FIX }
"""


STORM = """scenarios storm {
  scenario storm { probability 1, outage b1-b2 from 0 h to 2 h, outage b2-b3 from 0 h to 2 h }
}"""


def fixed(count: int, fix: str, storm: bool = True) -> str:
    return (FIXED.replace("COUNT", str(count)).replace("FIX", fix)
            .replace("STORM", STORM if storm else ""))


def test_fix_that_leaves_a_load_unserved_is_the_cause() -> None:
    """`fix r1 [b1-b2]` pins b2-b3 to 0 (unfixed items count zero): b3's 100 kW cannot be
    reached in the storm. Reinforcing b2-b3 too (0 -> 1, one unit at 50) costs less than
    100 kW short at two steps at 10 per kW, so the fix is the cause."""
    text = fixed(2, "fix r1 [b1-b2]")
    cause = first(text, study="plan", name="fixed.grid")
    assert cause.kind == "fixed decision"
    assert cause.where == at(text, "fix r1 [b1-b2]", "fixed.grid")
    assert "b2-b3 0 -> 1" in cause.action
    assert cause.sufficient


def test_count_is_the_cause_when_the_plan_needs_more_than_it_allows() -> None:
    """The storm cuts both lines, so both must be reinforced, but `count 0 .. 1` allows
    one: raising the count (one unit at 60) restores feasibility, and it is the only
    cause. (A `fix` of both lines under that count is refused before solving, GRID053:
    tests/bad/fix_over_count.grid.)"""
    text = fixed(1, "")
    diag = diagnose(parse(text, "fixed.grid"), study="plan")
    assert [(c.kind, c.option, c.sufficient) for c in diag.causes] == [
        ("investment count", 1, True)]
    assert diag.causes[0].where == at(text, "count 0 .. 1", "fixed.grid")
    assert diag.causes[0].action == "raise the count maximum from 1 to 2 (+1)"


@pytest.mark.parametrize(("text", "fix"), [
    # two lines, count ≤ 1, and no storm: un-fixing one (50) is cheaper than the count (60)
    (fixed(1, "fix r1 [b1-b2, b2-b3]", storm=False), "fix r1 [b1-b2, b2-b3]"),
    (fixed(2, "fix r1 [b1-b2, b2-b3]").replace(
        "invest r1", "invest mess : mobile_storage {\n  type M1 { power 100 kW, energy 200 "
        "kWh, install 200 kCNY, life 20 y }\n  count 0 .. 1\n  depot b1\n  moves 1\n"
        "  travel 1 h\n}\ninvest r1").replace("study plan { ", "study plan { fix mess.M1 3, "),
     "fix mess.M1 3"),  # three units, count ≤ 1
])
def test_fix_over_budget_ends_in_a_report_or_a_diagnostic(
        text: str, fix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An over-budget fix never crashes --diagnose: exit 1 and the fix line named, either
    as the first cause (the elastic model un-fixes what the count cannot hold) or as a
    check-time diagnostic pointing at it — never a traceback or an internal error."""
    path = write(tmp_path, text, "fixed.grid")
    assert main(["solve", str(path), "--study", "plan", "--diagnose"]) == 1
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "Traceback" not in out and "internal error" not in out
    where = at(text, fix, str(path))
    assert where.rsplit(":", 1)[0] + ":" in out
    if "causes:" in out:  # the ranked report: the fix is the first cause
        first_cause = out[out.index("causes:"):].splitlines()[2]
        assert first_cause.strip().startswith(f"1. {where}: fixed decision")
    else:  # a check-time diagnostic at the fix
        assert "error[GRID" in out


# ---------------------------------------------------------------------- normal mode


def test_levers_and_pins_leave_the_normal_model_alone() -> None:
    """Causes exist only in elastic mode: the model that is solved has no cause slack."""
    text = fixed(2, "fix r1 [b1-b2]")
    normal = compile_model(parse(text, "fixed.grid"), study="plan")
    assert normal.builder.causes == []
    assert not [v for v in normal.model.variables if v.startswith("elastic")]
    elastic = compile_model(parse(text, "fixed.grid"), study="plan", elastic=True)
    kinds = {c.lever.kind for c in elastic.builder.causes}
    assert {"fixed decision", "line rating", "slack voltage", "voltage limits"} <= kinds
    assert all(c.slack.startswith("elastic_cause_") for c in elastic.builder.causes)
