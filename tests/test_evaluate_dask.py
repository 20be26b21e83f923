"""`gridc evaluate` on a real Dask cluster (the fixture of tests/test_executor_dask.py: a
`dask scheduler` and two `dask worker` processes): a worker killed while it holds event
problems changes nothing — its tasks run again on the other worker and, being pure
arrays solved with one thread, give the same numbers as the serial run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from test_executor_dask import Cluster, cluster  # noqa: F401 (fixture)

import gridc
from gridc.runtime.evaluate import (
    compile_events,
    event_scenarios,
    history_of,
    solve_events,
    split_events,
    study_plan,
)
from gridc.runtime.executor import DaskExecutor, SerialExecutor

STORM6 = Path(__file__).resolve().parent / "models" / "storm6.grid"


class _KillOnSubmit(DaskExecutor):
    """Kills worker `victim` as soon as it holds tasks of the first batch (whether the
    batch is gathered whole or as it completes)."""

    def __init__(self, cluster: Cluster, victim: str):  # noqa: F811
        super().__init__(scheduler=cluster.address)
        self.proc, self.victim = cluster.workers[victim], victim
        self.killed_busy = False

    def submit(self, fn: Any, items: Any) -> list[Any]:
        futures = super().submit(fn, items)
        if self._batches == 1:
            info = self.client.scheduler_info()["workers"]
            addr = next(a for a, w in info.items() if w.get("name") == self.victim)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not self.client.processing().get(addr):
                time.sleep(0.01)
            self.killed_busy = bool(self.client.processing().get(addr))
            self.proc.kill()
            self.proc.wait()
        return futures


def test_a_killed_worker_changes_nothing(cluster: Cluster) -> None:  # noqa: F811
    model = gridc.load(STORM6)
    scenarios = event_scenarios(model, history_of(model, "fixed"), "fixed")
    problems = split_events(compile_events(model, "fixed", scenarios),
                            study_plan(model, "fixed"))
    serial = solve_events(problems, SerialExecutor(), gap=0.0)
    with _KillOnSubmit(cluster, "w1") as ex:
        run = solve_events(problems, ex, gap=0.0)
        assert ex.killed_busy  # the worker died with event problems in flight
        assert ex.workers() == 1
    assert [(o.event, o.status, o.daily, o.bound, o.unserved_kwh) for o in run.outcomes] == \
        [(o.event, o.status, o.daily, o.bound, o.unserved_kwh) for o in serial.outcomes]
