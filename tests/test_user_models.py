"""Models a user wrote from the docs, combining families the shipped models never
combine; each test pins a bug such a model found.

* `gridc evaluate --plan OUT` of a study that builds a battery (tests/models/
  qa_bess_history.grid): summary.json's "decisions" hold only lines, MESS and EV
  packs, so the command refused every storage / DG / substation / lines plan with
  "holds no plan". The plan is now read from solution.nc (every first-stage block).
* A ring of switches reconfigured under `radial` (tests/models/qa_ring_switches.grid):
  candidates marked `existing yes` are fixed closed; closing a loop with them was a
  bare "infeasible" that `--diagnose` could not explain (now GRID076). Under an `inner`
  rating polygon, `--diagnose` named a rating short by the factor cos(pi/N).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

import gridc
from gridc.cli.main import main
from gridc.runtime.diagnose import diagnose

MODELS = Path(__file__).resolve().parent / "models"
BESS_HISTORY = MODELS / "qa_bess_history.grid"


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bess") / "solved"
    assert main(["solve", str(BESS_HISTORY), "--study", "plan", "--out", str(out),
                 "--quiet"]) == 0
    return out


def test_a_battery_plan_is_evaluated_on_every_event(solved: Path, tmp_path: Path) -> None:
    summary = json.loads((solved / "summary.json").read_text())
    assert summary["planning_items"]["sizes"]["storage_energy"] == pytest.approx(400.0)
    out = tmp_path / "eval"
    assert main(["evaluate", str(BESS_HISTORY), "--plan", str(solved), "-o", str(out),
                 "--quiet"]) == 0
    rows = {r["event"]: r for r in csv.DictReader((out / "events.csv").open())}
    assert set(rows) == {"E1", "E2", "E3"}
    assert all(r["status"] == "optimal" for r in rows.values())
    # E2: a-b out from 0 h to 2 h at load 0.9: bus b (90 kW) lives on the battery built,
    # 400 kWh from 50 % down to 10 % at 95 %: 152 kWh against 180 kWh, 28 kWh shed
    assert float(rows["E2"]["unserved_kwh"]) == pytest.approx(28.0, abs=1e-6)
    assert float(rows["E2"]["cost_shed"]) == pytest.approx(28.0 * 20, abs=1e-4)
    # the typical days are recorded events: each medoid costs what the plan's own
    # scenario cost in the extensive form
    by_scenario = summary["costs_by_scenario"]
    for day in summary["clustering"]["typical_days"]:
        row = rows[day["medoid"]]
        assert row["is_medoid"] == "1"
        assert float(row["daily_cost"]) == pytest.approx(sum(by_scenario[day["name"]].values()),
                                                         rel=1e-7, abs=1e-6)


# ---------------------------------------------------------------- a ring of switches

RING = MODELS / "qa_ring_switches.grid"


def ring_variant(old: str, new: str) -> gridc.ir.Model:
    text = RING.read_text()
    assert old in text
    return gridc.parse(text.replace(old, new), str(RING))


def test_the_ring_opens_the_switch_that_would_overload_a_line(tmp_path: Path) -> None:
    out = tmp_path / "ring"
    assert main(["solve", str(RING), "--study", "base", "--out", str(out), "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["status"] == "optimal"
    assert s["network"]["lines_open"] == ["sab"] and s["network"]["lines_built"] == ["sbc"]
    # 1,500 kW for 2 h at 0.5 CNY/kWh, every day of the year
    assert s["costs"]["operation"] == pytest.approx(1500 * 2 * 0.5 * 365, rel=1e-9)


def test_radial_against_a_loop_of_lines_that_never_open_is_refused() -> None:
    """`existing yes` fixes a candidate closed: both switches closed with s-a and s-c
    make a loop, and `radial` cannot hold. It was a bare "infeasible", and
    `--diagnose` failed ("the conflict lies in constraints that are never relaxed")."""
    model = ring_variant("a     b   0.1         no\n    b     c   0.1         no",
                         "a     b   0.1         yes\n    b     c   0.1         yes")
    with pytest.raises(gridc.GridError) as err:
        gridc.compile(model, "base")
    (diag,) = err.value.diagnostics
    assert diag.code == "GRID076"
    assert all(x in diag.message for x in ("s-a", "s-c", "sab", "sbc"))
    assert diag.span.label().endswith(":32:1")  # the `invest reconf : lines` statement


def test_a_radial_tree_with_fixed_lines_still_compiles() -> None:
    """One existing candidate closes no loop: no GRID076."""
    model = ring_variant("a     b   0.1         no", "a     b   0.1         yes")
    gridc.compile(model, "base")


def test_diagnosis_of_an_inner_rating_names_the_rating_needed() -> None:
    """s-c at 1,210 kVA under `16 inner` carries at most 1,210 cos(π/16) = 1,186.8 kW,
    short of 1,200 kW: the rating must be 1,200 / cos(π/16) = 1,223.5 kVA. The cause used
    to be given in kW of the box (+13.25), not in kVA of the rating (+13.51)."""
    model = ring_variant("s     c   0.1     0.1     1250", "s     c   0.1     0.1     1210")
    diag = diagnose(model, study="base")
    cause = diag.causes[0]
    assert (cause.kind, cause.subject) == ("line rating", "line s-c")
    assert cause.change == pytest.approx(1200 / math.cos(math.pi / 16) - 1210, abs=1e-3)
