"""The executors on a real Dask cluster: a `dask scheduler` and two `dask worker` processes
on 127.0.0.1 (random free ports, one thread each), started and killed by
the fixture (tests/dask_cluster.py).

Why: the bi-level search must give the same plan and cost wherever its scenario MILPs
run — serially, on a running cluster, on an embedded local cluster — and must survive a
worker that dies mid-run (its tasks are rescheduled and, being idempotent, give the
same answers). The model is the tiny resilience model of tests/test_pso.py without its
MESS and with one storm scenario (the cheapest study to compile: each fresh worker
compiles the scenario problem once, which dominates these tests' time).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import dask_cluster
import pytest
from dask_cluster import Cluster, KillingExecutor
from test_pso import write_tiny

from gridc.runtime.executor import DaskExecutor, SerialExecutor, make_executor
from gridc.runtime.strategies import bilevel

warnings.filterwarnings("ignore", module="linopy")

STUDY = "dask_pso"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny(tmp_path_factory.mktemp("dask-model"))


@pytest.fixture(scope="module")
def serial(tiny: Path) -> bilevel.PsoRun:
    with SerialExecutor() as ex:
        return bilevel.solve_pso(tiny, STUDY, ex)


def _same(run: bilevel.PsoRun, ref: bilevel.PsoRun) -> None:
    assert run.best is not None and ref.best is not None
    assert run.best.plan.key() == ref.best.plan.key()
    assert run.best.score == ref.best.score  # bit for bit: same MILPs, same order
    assert run.result.history == ref.result.history
    assert run.evaluator.plans_solved == ref.evaluator.plans_solved


#: the names tests/test_decomposition.py imports from here (`cluster`: the fixture,
#: which tests/conftest.py offers every module anyway)
_KillingExecutor = KillingExecutor
cluster = dask_cluster.cluster


def test_results_come_back_in_submission_order(cluster: Cluster) -> None:
    def slow_first(x: float) -> float:
        time.sleep(x)
        return x

    items = [0.4, 0.2, 0.0, 0.1]
    with DaskExecutor(scheduler=cluster.address) as ex:
        assert ex.submit_many(slow_first, items) == items
        assert ex.workers() == 2
    assert SerialExecutor().submit_many(lambda x: x, items) == items


def test_a_failing_task_is_retried(cluster: Cluster, tmp_path: Path) -> None:
    marker = str(tmp_path / "failed-once-")

    def flaky(x: int) -> int:
        import pathlib

        seen = pathlib.Path(f"{marker}{x}")
        if not seen.exists():
            seen.touch()
            raise RuntimeError("first attempt fails")
        return x * x

    with DaskExecutor(scheduler=cluster.address, retries=1) as ex:
        assert ex.submit_many(flaky, [1, 2, 3]) == [1, 4, 9]


def test_scheduler_run_matches_serial_run(cluster: Cluster, tiny: Path,
                                          serial: bilevel.PsoRun) -> None:
    with make_executor(scheduler=cluster.address) as ex:
        run = bilevel.solve_pso(tiny, STUDY, ex)
    _same(run, serial)
    assert run.executor == "dask-scheduler" and run.workers == 2
    used = {e.worker for s in run.evaluator.cache.values() for e in s.scenarios}
    assert len(used) == 2  # both workers took part


def test_local_cluster_run_matches_serial_run(tiny: Path, serial: bilevel.PsoRun) -> None:
    with make_executor(workers=2) as ex:
        assert ex.kind == "dask-local" and ex.workers() == 2
        run = bilevel.solve_pso(tiny, STUDY, ex)
    _same(run, serial)


def test_run_survives_a_killed_worker(cluster: Cluster, tiny: Path,
                                      serial: bilevel.PsoRun) -> None:
    # last test of the module: it leaves the cluster with one worker
    with KillingExecutor(cluster, "w1", at_batch=2) as ex:
        run = bilevel.solve_pso(tiny, STUDY, ex)
        assert ex.killed_busy  # the worker died with tasks in flight
        assert ex.workers() == 1
    assert cluster.workers["w1"].poll() is not None
    _same(run, serial)
