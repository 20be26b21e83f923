"""`gridc evaluate` on a real Dask cluster (the `cluster` fixture of tests/dask_cluster.py: a
`dask scheduler` and two `dask worker` processes): a worker killed while it holds event
problems changes nothing — its tasks run again on the other worker and, being pure
arrays solved with one thread, give the same numbers as the serial run."""

from __future__ import annotations

from pathlib import Path

from dask_cluster import Cluster, KillingExecutor

import gridc
from gridc.runtime.evaluate import (
    compile_events,
    event_scenarios,
    history_of,
    solve_events,
    split_events,
    study_plan,
)
from gridc.runtime.executor import SerialExecutor

STORM6 = Path(__file__).resolve().parent / "models" / "storm6.grid"


def test_a_killed_worker_changes_nothing(cluster: Cluster) -> None:
    model = gridc.load(STORM6)
    scenarios = event_scenarios(model, history_of(model, "fixed"), "fixed")
    problems = split_events(compile_events(model, "fixed", scenarios),
                            study_plan(model, "fixed"))
    serial = solve_events(problems, SerialExecutor(), gap=0.0)
    with KillingExecutor(cluster, "w1", at_batch=1) as ex:
        run = solve_events(problems, ex, gap=0.0)
        assert ex.killed_busy  # the worker died with event problems in flight
        assert ex.workers() == 1
    assert [(o.event, o.status, o.daily, o.bound, o.unserved_kwh) for o in run.outcomes] == \
        [(o.event, o.status, o.daily, o.bound, o.unserved_kwh) for o in serial.outcomes]
