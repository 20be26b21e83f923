"""How a study's scenarios came from its history, in the solve summary and in `gridc check`
(issue 16): the k-means inertia and restarts next to the typical days, or, for
`cluster none`, that every event is a scenario — in plain words, without k-means wording.

Models: tests/models/storm6.grid (k = 3 of ten storms, best of 5 restarts) and
tests/models/decomp8.grid (`typical4`: k = 4, one run; `every`: cluster none).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

import gridc
from gridc.cli.main import main
from gridc.cli.views import summary_table
from gridc.data.history import cluster, cluster_model, clustering_facts, clustering_words

MODELS = Path(__file__).resolve().parent / "models"
STORM6 = MODELS / "storm6.grid"
DECOMP8 = MODELS / "decomp8.grid"


def _rendered(summary: dict) -> str:
    console = Console(width=200, record=True)
    console.print(summary_table(summary))
    return console.export_text()


def test_solve_summary_reports_the_clustering(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The plan-fixed study (an operation problem: the cheapest solve with the set)."""
    out = tmp_path / "fixed"
    assert main(["solve", str(STORM6), "--study", "fixed", "--out", str(out), "--quiet",
                 "--no-ac-check"]) == 0
    text = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    facts = summary["clustering"]
    model = gridc.load(STORM6)
    source = model.scenario_sets[0].history
    assert source is not None
    expected = cluster(source, [ln.id for ln in model.network().lines], 6.0)
    assert facts["scenario_set"] == "storms" and facts["method"] == "kmeans"
    assert facts["events"] == 10 and facts["k"] == 3 and facts["scenarios"] == 3
    assert facts["restarts"] == 5 and facts["seed"] == 1
    assert facts["inertia"] == expected.inertia == pytest.approx(2.366, abs=1e-3)
    assert facts["first_inertia"] == expected.first_inertia > facts["inertia"]
    # the typical days are the scenarios that were solved, with their probabilities
    days = {d["name"]: d for d in facts["typical_days"]}
    assert set(days) == set(summary["scenarios"])
    for name, p in summary["scenarios"].items():
        assert days[name]["probability"] == pytest.approx(p)
    assert sum(d["members"] for d in days.values()) == 10
    flat = " ".join(text.replace("│", " ").split())  # the terminal wraps the table's cells
    assert ("scenarios storms: 3 typical days of 10 events, inertia 2.366 (best of 5 "
            "k-means runs, the first 2.488)") in flat
    assert ("storms: 3 typical days of 10 events, inertia 2.366 (best of 5 k-means runs, "
            "the first 2.488)") in _rendered(summary)


def test_check_says_when_nothing_is_clustered(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(DECOMP8)]) == 0
    lines = capsys.readouterr().out.splitlines()
    every = [ln for ln in lines if ln.strip().startswith("scenarios every:")]
    assert every == ["  scenarios every: 10 scenarios, every event of the history "
                     "(no clustering)"]
    typical = [ln for ln in lines if ln.strip().startswith("scenarios typical4:")]
    assert typical == ["  scenarios typical4: 4 typical days of 10 events, inertia 1.884 "
                       "(one k-means run)"]


def test_no_clustering_has_no_kmeans_facts() -> None:
    model = gridc.load(DECOMP8)
    sset = next(s for s in model.scenario_sets if s.name == "every")
    assert sset.history is not None
    facts = clustering_facts(sset, cluster_model(model, sset.history))
    assert facts == {"scenario_set": "every", "history": sset.history.path,
                     "method": "none", "events": 10, "scenarios": 10}
    words = clustering_words(facts)
    assert "inertia" not in words and "k-means" not in words and "typical" not in words
    # the solve summary's row says the same, in the same words
    row = _rendered({"status": "optimal", "clustering": facts})
    assert "every: 10 scenarios, every event of the history (no clustering)" in row
    assert "inertia" not in row


def test_clustering_is_remembered_but_not_shared() -> None:
    """The compiler and the summary cluster the same history once; each caller gets
    its own list of typical days."""
    model = gridc.load(STORM6)
    source = model.scenario_sets[0].history
    assert source is not None
    first, second = cluster_model(model, source), cluster_model(model, source)
    assert first == second and first.typical is not second.typical
    first.typical.clear()
    assert len(cluster_model(model, source).typical) == 3
